/* vnet policy test | show | check */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "policy/attempt.h"
#include "policy/check.h"
#include "rules/catalog.h"
#include "cmd.h"
#include "policy/config.h"
#include "rules/facts.h"
#include "jsonw.h"
#include "out.h"
#include "policy/policy.h"
#include "radius/client.h"
#include "ppp/ppp_auth.h"
#include "render_diag.h"
#include "rules/rules.h"

static struct config *load_config(const struct cmd_args *a, bool *unreadable)
{
	struct config_problems probs = {0};
	struct config *c = config_load(a->config, &probs);
	if (!c) config_problems_print(&probs, a->config ? a->config : "samples/vnet.json");
	if (unreadable) *unreadable = probs.unreadable;
	config_problems_free(&probs);
	return c;
}

static const char *stage_name(enum step_kind k)
{
	switch (k) {
	case ST_SERVICE:
	case ST_REMOTE_ACCESS:
	case ST_PORTS: return "server";
	case ST_AUTH_SERVER: return "ppp";
	case ST_USER:
	case ST_LOCKED:
	case ST_CREDENTIALS:
	case ST_DISABLED:
	case ST_PASSWORD_EXPIRED:
	case ST_LOGON_HOURS: return "account";
	case ST_POLICY:
	case ST_COND: return "policy";
	case ST_PERMISSION: return "permission";
	case ST_CALLER_ID: return "dial-in";
	case ST_PROFILE_DAY_TIME:
	case ST_PROFILE_AUTH:
	case ST_PROFILE_EAP:
	case ST_PROFILE_CALLED:
	case ST_PROFILE_PORT_TYPE:
	case ST_PROFILE_TUNNEL: return "profile";
	case ST_ENCRYPTION:
	case ST_MULTILINK:
	case ST_BAP:
	case ST_LAN:
	case ST_ADDRESS: return "profile-server";
	case ST_TUNNEL: return "tunnel";
	case ST_IPSEC: return "ipsec";
	case ST_RADIUS: return "ppp";
	case ST_DIRECTORY: return "account";
	case ST_TRAFFIC: return "data";
	case ST_ROUTER: return "router";
	case ST_N: break;
	}
	return "?";
}

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *strv_json(char **v, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) json_array_append_new(arr, json_string(v[i]));
	return arr;
}

/* ---- policy test ---------------------------------------------------------------------- */
/* Attempts are read, decided and printed one at a time (a day of logs is replayed in
 * bounded memory); the summary keeps only counts. */
struct count {
	int code;
	size_t n;
};

struct summary {
	size_t attempts, invalid, accept, reject;
	size_t reason[R_N];
	size_t *policy;     /* per policy of the configuration */
	size_t no_policy;
	struct count err[R_N + 4]; /* distinct Windows errors (the reasons name a few) */
	size_t nerr;
};

struct ctx {
	const struct config *c;
	struct ruleset *rs;
	struct catalog *win, *nps;
	struct policy_result r;
	struct facts *facts;
	bool json, brief, verbose, summary;
	struct jw w;        /* JSON output, streamed to stdout */
	size_t shown;       /* results printed */
	struct summary sum;
	struct step_cache *sc; /* JSON lines: the rendering of trace steps, kept */
};

static const struct catalog_entry *win_entry(const struct ctx *x, int code)
{
	return code && x->win ? catalog_find(x->win, code) : NULL;
}

/* where the attempt is: FILE, FILE#/2 (the third of an array), FILE:LINE (one of several
 * values) */
static const char *input_label(const struct attempt *at, char *buf, size_t n)
{
	const char *f = at->file ? at->file : "-";
	if (at->pointer && at->pointer[0]) snprintf(buf, n, "%s#%s", f, at->pointer);
	else if (at->several) snprintf(buf, n, "%s:%d", f, at->line);
	else snprintf(buf, n, "%s", f);
	return buf;
}

static void strv_emit(struct jw *w, const char *key, char **v, size_t n)
{
	jw_arr(w, key);
	for (size_t i = 0; i < n; i++) jw_str(w, NULL, v[i]);
	jw_end(w);
}

static const char *address_source(const struct policy_result *r)
{
	static const char *const n[] = {"pool", "static", "requested", "dhcp", "apipa"};
	const char *src = "pool";
	for (size_t i = 0; i < r->nsteps; i++)
		if (r->steps[i].kind == ST_ADDRESS) {
			int k = r->steps[i].aux;
			src = k >= 0 && k < 5 ? n[k] : "?";
		}
	return src;
}

static void session_emit(struct jw *w, const char *key, const struct ctx *x)
{
	const struct policy_result *r = &x->r;
	if (!r->accept) {
		jw_null(w, key);
		return;
	}
	const struct profile *pr = &x->c->policies[r->policy].profile;
	char ip[20];
	jw_obj(w, key);
	jw_str(w, "address", r->has_address ? ipv4_str(r->address, ip, sizeof ip) : NULL);
	jw_str(w, "address_source", address_source(r));
	jw_int(w, "idle_timeout", r->idle_timeout);
	jw_int(w, "session_timeout", r->session_timeout);
	jw_str(w, "encryption", enc_level_names[r->encryption]);
	jw_int(w, "links", r->links);
	jw_obj(w, "filters");
	strv_emit(w, "input", pr->filters_in, pr->nfilters_in);
	strv_emit(w, "output", pr->filters_out, pr->nfilters_out);
	jw_end(w);
	jw_end(w);
}

/* ---- trace steps rendered once ------------------------------------------------------ */
/* A long trace is mostly policy and condition steps, whose text (but for the attempt's
 * value) follows from the configuration and the step alone (step_text.fixed). In JSON
 * lines their object is written once, with an empty "actual", and kept: later steps with
 * the same fields copy it around their own actual value. The memory is bounded by the
 * configuration (policies x conditions x verdicts) and capped. */
#define STEP_CACHE_MAX (16u << 20)

struct frag {
	uint64_t key;     /* 0: free */
	uint32_t off;     /* in arena */
	uint32_t len;     /* the object without the actual value's "" */
	uint32_t cut;     /* where the actual value goes */
};

struct step_cache {
	struct frag *tab;
	size_t cap, n;
	char *arena;
	size_t alen, acap;
	bool full;
	struct jw scratch;
};

static void step_cache_free(struct step_cache *k)
{
	if (!k) return;
	free(k->tab);
	free(k->arena);
	jw_free(&k->scratch);
	free(k);
}

static struct step_cache *step_cache_new(void)
{
	struct step_cache *k = calloc(1, sizeof *k);
	if (!k) return NULL;
	k->cap = 1024;
	k->tab = calloc(k->cap, sizeof *k->tab);
	jw_init(&k->scratch, JW_COMPACT, NULL);
	if (!k->tab) {
		step_cache_free(k);
		return NULL;
	}
	return k;
}

/* every field of the step that its fixed text may depend on; 0 when it does not fit */
static uint64_t step_key(const struct policy_step *s)
{
	if (s->policy < -1 || s->policy >= (1 << 24) - 1 || s->cond < -1 || s->cond >= 0xFFFF ||
	    s->aux < 0 || s->aux > 0xFF || s->reason < -1 || s->reason >= 62 || s->kind >= 32)
		return 0;
	return (uint64_t)s->kind | (uint64_t)(s->verdict & 3) << 5 | (uint64_t)s->decisive << 7 |
	       (uint64_t)s->after << 8 | (uint64_t)(s->reason + 1) << 9 | (uint64_t)s->aux << 15 |
	       (uint64_t)(s->policy + 1) << 23 | (uint64_t)(s->cond + 1) << 47 | 1ull << 63;
}

static void step_fields(struct jw *w, const struct config *c, const struct policy_step *s,
                        const struct step_text *t, const char *actual)
{
	jw_obj(w, NULL);
	jw_str(w, "stage", stage_name((enum step_kind)s->kind));
	jw_str(w, "policy", s->policy >= 0 ? c->policies[s->policy].name : NULL);
	jw_str(w, "check", t->check);
	jw_str(w, "expected", t->expected);
	jw_str(w, "actual", actual);
	jw_str(w, "verdict", policy_verdict_name((enum verdict)s->verdict));
	jw_str(w, "reason", s->reason >= 0 ? policy_reasons[s->reason].code : NULL);
	jw_bool(w, "decisive", s->decisive);
	if (s->after) jw_bool(w, "after_decision", true);
	jw_str(w, "note", t->note);
	jw_str(w, "config", t->where);
	jw_end(w);
}

/* The fragment for the step, made now if it is not known yet; NULL when it cannot be. */
static const struct frag *step_frag(struct step_cache *k, const struct config *c,
                                    const struct policy_step *s, const struct step_text *t)
{
	uint64_t key = step_key(s);
	if (!key) return NULL;
	size_t mask = k->cap - 1, i = (size_t)(key ^ key >> 29) * 0x9E3779B97F4A7C15ull >> 20 & mask;
	while (k->tab[i].key && k->tab[i].key != key) i = (i + 1) & mask;
	if (k->tab[i].key == key) return &k->tab[i];
	if (k->full) return NULL;
	/* render it with an empty actual value, and note where that value is */
	jw_reset(&k->scratch);
	step_fields(&k->scratch, c, s, t, "");
	static const char mark[] = "\"actual\":\"\"";
	const char *text = k->scratch.buf;
	size_t len = k->scratch.len;
	const char *m = k->scratch.failed ? NULL : memmem(text, len, mark, sizeof mark - 1);
	if (!m || memmem(m + 1, len - (size_t)(m + 1 - text), mark, sizeof mark - 1)) return NULL;
	size_t cut = (size_t)(m - text) + sizeof mark - 3;
	if (k->alen + len > STEP_CACHE_MAX) {
		k->full = true;
		return NULL;
	}
	if (k->alen + len > k->acap) {
		size_t nc = k->acap ? k->acap * 2 : 65536;
		while (nc < k->alen + len) nc *= 2;
		char *na = realloc(k->arena, nc);
		if (!na) return NULL;
		k->arena = na;
		k->acap = nc;
	}
	if ((k->n + 1) * 2 > k->cap) { /* keep it at most half full */
		size_t nc = k->cap * 2;
		struct frag *nt = calloc(nc, sizeof *nt);
		if (!nt) return NULL;
		for (size_t j = 0; j < k->cap; j++) {
			if (!k->tab[j].key) continue;
			uint64_t kk = k->tab[j].key;
			size_t h = (size_t)(kk ^ kk >> 29) * 0x9E3779B97F4A7C15ull >> 20 & (nc - 1);
			while (nt[h].key) h = (h + 1) & (nc - 1);
			nt[h] = k->tab[j];
		}
		free(k->tab);
		k->tab = nt;
		k->cap = nc;
		mask = nc - 1;
		i = (size_t)(key ^ key >> 29) * 0x9E3779B97F4A7C15ull >> 20 & mask;
		while (k->tab[i].key) i = (i + 1) & mask;
	}
	memcpy(k->arena + k->alen, text, cut);
	memcpy(k->arena + k->alen + cut, text + cut + 2, len - cut - 2);
	k->tab[i] = (struct frag){key, (uint32_t)k->alen, (uint32_t)(len - 2), (uint32_t)cut};
	k->alen += len - 2;
	k->n++;
	return &k->tab[i];
}

static void step_emit(struct jw *w, struct ctx *x, const struct attempt *at,
                      const struct policy_step *s)
{
	struct step_text t;
	policy_step_text(x->c, at, s, &t);
	const struct frag *f = x->sc && t.fixed && w->style == JW_COMPACT
	                       ? step_frag(x->sc, x->c, s, &t) : NULL;
	if (!f) {
		step_fields(w, x->c, s, &t, t.actual);
		return;
	}
	size_t an = strlen(t.actual);
	char *q = jw_value_begin(w, NULL, 0, f->len + 2 + 6 * an);
	if (!q) return;
	const char *text = x->sc->arena + f->off;
	memcpy(q, text, f->cut);
	q = jw_esc(q + f->cut, t.actual, an);
	memcpy(q, text + f->cut, f->len - f->cut);
	jw_value_end(w, q + (f->len - f->cut));
}

/* The full result: decision, trace, near misses, diagnoses, session. */
static void result_emit(struct jw *w, struct ctx *x, const struct attempt *at)
{
	struct attempt view = *at; /* "automatic": the tunnel type the client ended on */
	view.tunnel = x->r.tunnel;
	at = &view;
	const struct config *c = x->c;
	const struct policy_result *r = &x->r;
	char src[300];
	jw_obj(w, NULL);
	if (at->label) jw_str(w, "attempt", at->label);
	jw_str(w, "input", input_label(at, src, sizeof src));
	jw_str(w, "user", at->user_name);
	jw_str(w, "decision", r->accept ? "accept" : "reject");
	jw_str(w, "policy", r->policy >= 0 ? c->policies[r->policy].name : NULL);
	if (at->automatic) {
		/* which type the client ended on, and why each one before it was refused */
		bool taken = false;
		jw_str(w, "client_os", client_os_names[at->client_os]);
		jw_arr(w, "tunnel_tries");
		for (size_t i = 0; i < r->nsteps; i++) {
			const struct policy_step *s = &r->steps[i];
			if (s->kind != ST_TUNNEL || (s->aux >> 24 & 1))
				continue;
			int why = s->aux >> 8 & 0xff;
			jw_obj(w, NULL);
			jw_str(w, "tunnel", tunnel_names[s->aux & 0xff]);
			jw_bool(w, "taken", s->verdict == V_PASS);
			jw_str(w, "reason", why == R_ACCEPTED ? NULL : policy_reasons[why].code);
			jw_end(w);
			taken |= s->verdict == V_PASS;
		}
		jw_end(w);
		jw_str(w, "tunnel", taken ? tunnel_names[r->tunnel] : NULL);
	}
	jw_int(w, "error", r->error);
	const struct catalog_entry *we = win_entry(x, r->error);
	jw_str(w, "error_name", we && we->name[0] ? we->name : NULL);
	jw_str(w, "error_message", we ? we->message : NULL);
	jw_str(w, "reason", policy_reasons[r->reason].code);
	jw_str(w, "reason_text", policy_reasons[r->reason].text);
	jw_int(w, "nps_reason", r->nps_reason);
	const struct catalog_entry *ne = x->nps ? catalog_find(x->nps, r->nps_reason) : NULL;
	jw_str(w, "nps_message", ne && (r->nps_reason || r->accept) ? ne->message : NULL);
	jw_arr(w, "trace");
	for (size_t i = 0; i < r->nsteps; i++) step_emit(w, x, at, &r->steps[i]);
	jw_end(w);
	/* what would have made each policy tried before the decision match */
	jw_arr(w, "near_misses");
	size_t upto = r->policy >= 0 ? (size_t)r->policy : c->npolicies;
	for (size_t i = 0; i < r->nsteps; i++) {
		const struct policy_step *s = &r->steps[i];
		if (s->kind != ST_POLICY || s->policy < 0 || (size_t)s->policy >= upto ||
		    !c->policies[s->policy].enabled)
			continue;
		char buf[1024];
		policy_near_miss_at(c, at, r, i, buf, sizeof buf);
		if (!buf[0]) continue;
		jw_obj(w, NULL);
		jw_str(w, "policy", c->policies[s->policy].name);
		jw_str(w, "would_match_if", buf);
		jw_end(w);
	}
	jw_end(w);
	render_diag_facts_jw(w, "diagnoses", x->rs, x->facts, 0);
	session_emit(w, "session", x);
	jw_end(w);
}

/* --brief: the decision and the granted session only */
static void brief_emit(struct jw *w, const struct ctx *x, const struct attempt *at)
{
	const struct policy_result *r = &x->r;
	char src[300];
	jw_obj(w, NULL);
	if (at->label) jw_str(w, "attempt", at->label);
	jw_str(w, "input", input_label(at, src, sizeof src));
	jw_str(w, "user", at->user_name);
	jw_str(w, "decision", r->accept ? "accept" : "reject");
	jw_str(w, "policy", r->policy >= 0 ? x->c->policies[r->policy].name : NULL);
	jw_int(w, "error", r->error);
	jw_str(w, "reason", policy_reasons[r->reason].code);
	jw_int(w, "nps_reason", r->nps_reason);
	session_emit(w, "session", x);
	jw_end(w);
}

static void brief_text(const struct ctx *x, const struct attempt *at)
{
	const struct policy_result *r = &x->r;
	char src[300];
	printf("%s %s", input_label(at, src, sizeof src), at->user_name ? at->user_name : "-");
	if (at->label) printf(" \"%s\"", at->label);
	if (r->accept) {
		char ip[20];
		printf(": %sACCEPT%s by policy \"%s\": address %s (%s), encryption %s\n",
		       out_c(C_GREEN), out_c(C_RESET), x->c->policies[r->policy].name,
		       r->has_address ? ipv4_str(r->address, ip, sizeof ip) : "leased", address_source(r),
		       enc_level_names[r->encryption]);
		return;
	}
	const struct catalog_entry *we = win_entry(x, r->error);
	printf(": %sREJECT%s error %d%s%s, %s", out_c(C_RED), out_c(C_RESET), r->error,
	       we && we->name[0] ? " " : "", we ? we->name : "", policy_reasons[r->reason].code);
	if (r->nps_reason) printf(", NPS reason %d", r->nps_reason);
	if (r->policy >= 0) printf(", policy \"%s\"", x->c->policies[r->policy].name);
	putchar('\n');
}

static void summary_count(struct summary *s, const struct policy_result *r)
{
	s->attempts++;
	if (r->accept) s->accept++;
	else s->reject++;
	s->reason[r->reason]++;
	if (r->policy >= 0 && s->policy) s->policy[r->policy]++;
	else if (r->policy < 0) s->no_policy++;
	size_t i = 0;
	while (i < s->nerr && s->err[i].code < r->error) i++;
	if (i < s->nerr && s->err[i].code == r->error) {
		s->err[i].n++;
	} else if (s->nerr < sizeof s->err / sizeof *s->err) {
		memmove(&s->err[i + 1], &s->err[i], (s->nerr - i) * sizeof *s->err);
		s->err[i] = (struct count){r->error, 1};
		s->nerr++;
	}
}

static void summary_emit(struct jw *w, const struct ctx *x)
{
	const struct summary *s = &x->sum;
	jw_obj(w, NULL);
	jw_obj(w, "summary");
	jw_int(w, "attempts", (long long)s->attempts);
	jw_int(w, "invalid", (long long)s->invalid);
	jw_obj(w, "decisions");
	jw_int(w, "accept", (long long)s->accept);
	jw_int(w, "reject", (long long)s->reject);
	jw_end(w);
	jw_arr(w, "reasons");
	for (int i = 0; i < R_N; i++) {
		if (!s->reason[i]) continue;
		jw_obj(w, NULL);
		jw_str(w, "reason", policy_reasons[i].code);
		jw_int(w, "attempts", (long long)s->reason[i]);
		jw_end(w);
	}
	jw_end(w);
	jw_arr(w, "policies");
	for (size_t p = 0; s->policy && p < x->c->npolicies; p++) {
		if (!s->policy[p]) continue;
		jw_obj(w, NULL);
		jw_str(w, "policy", x->c->policies[p].name);
		jw_int(w, "attempts", (long long)s->policy[p]);
		jw_end(w);
	}
	if (s->no_policy) {
		jw_obj(w, NULL);
		jw_null(w, "policy");
		jw_int(w, "attempts", (long long)s->no_policy);
		jw_end(w);
	}
	jw_end(w);
	jw_arr(w, "errors");
	for (size_t i = 0; i < s->nerr; i++) {
		const struct catalog_entry *we = win_entry(x, s->err[i].code);
		jw_obj(w, NULL);
		jw_int(w, "error", s->err[i].code);
		jw_str(w, "error_name", we && we->name[0] ? we->name : NULL);
		jw_int(w, "attempts", (long long)s->err[i].n);
		jw_end(w);
	}
	jw_end(w);
	jw_end(w);
	jw_end(w);
}

static void summary_text(const struct ctx *x)
{
	const struct summary *s = &x->sum;
	char n[32], name[300];
	printf("%sSummary%s: %zu attempt%s, %zu accepted, %zu rejected", out_c(C_BOLD),
	       out_c(C_RESET), s->attempts, s->attempts == 1 ? "" : "s", s->accept, s->reject);
	if (s->invalid) printf(", %zu invalid", s->invalid);
	putchar('\n');
	static const char *const h1[] = {"reason", "attempts"};
	struct out_table *t = out_table_new(2, h1);
	for (int i = 0; i < R_N; i++) {
		if (!s->reason[i]) continue;
		snprintf(n, sizeof n, "%zu", s->reason[i]);
		const char *row[] = {policy_reasons[i].code, n};
		out_table_add(t, row);
	}
	putchar('\n');
	out_table_print(t, stdout, 2);
	out_table_free(t);
	static const char *const h2[] = {"deciding policy", "attempts"};
	t = out_table_new(2, h2);
	for (size_t p = 0; s->policy && p < x->c->npolicies; p++) {
		if (!s->policy[p]) continue;
		snprintf(n, sizeof n, "%zu", s->policy[p]);
		snprintf(name, sizeof name, "\"%s\"", x->c->policies[p].name);
		const char *row[] = {name, n};
		out_table_add(t, row);
	}
	if (s->no_policy) {
		snprintf(n, sizeof n, "%zu", s->no_policy);
		const char *row[] = {"(none)", n};
		out_table_add(t, row);
	}
	putchar('\n');
	out_table_print(t, stdout, 2);
	out_table_free(t);
	static const char *const h3[] = {"error", "attempts"};
	t = out_table_new(2, h3);
	for (size_t i = 0; i < s->nerr; i++) {
		const struct catalog_entry *we = win_entry(x, s->err[i].code);
		snprintf(n, sizeof n, "%zu", s->err[i].n);
		snprintf(name, sizeof name, "%d%s%s", s->err[i].code, we && we->name[0] ? " " : "",
		         we ? we->name : "");
		const char *row[] = {name, n};
		out_table_add(t, row);
	}
	putchar('\n');
	out_table_print(t, stdout, 2);
	out_table_free(t);
}

static const char *js(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void print_result_text(const json_t *o, bool verbose)
{
	bool accept = strcmp(js(o, "decision"), "accept") == 0;
	const char *label = js(o, "attempt");
	if (accept) {
		printf("%sACCEPT%s by policy \"%s\"", out_c(C_GREEN), out_c(C_RESET), js(o, "policy"));
	} else {
		printf("%sREJECT%s: error %lld", out_c(C_RED), out_c(C_RESET),
		       (long long)json_integer_value(json_object_get(o, "error")));
		if (*js(o, "error_name")) printf(" %s", js(o, "error_name"));
		if (*js(o, "error_message")) printf(": %s", js(o, "error_message"));
	}
	printf("\n");
	out_kv(2, 10, "attempt", "%s%s%s (user %s)", label, *label ? ", " : "", js(o, "input"),
	       js(o, "user"));
	const json_t *tries = json_object_get(o, "tunnel_tries");
	if (tries) {
		char buf[600] = "", order[200] = "";
		size_t n = json_array_size(tries), refused = 0;
		for (size_t i = 0; i < n; i++) {
			const json_t *t = json_array_get(tries, i);
			size_t l = strlen(order);
			snprintf(order + l, sizeof order - l, "%s%s", i ? ", " : "", js(t, "tunnel"));
			if (json_is_true(json_object_get(t, "taken")))
				continue;
			l = strlen(buf);
			snprintf(buf + l, sizeof buf - l, "%s%s %s", refused++ ? ", " : "",
			         js(t, "tunnel"), js(t, "reason"));
		}
		const char *os = js(o, "client_os");
		for (size_t i = 0; client_os_names[i]; i++)
			if (strcmp(os, client_os_names[i]) == 0)
				os = client_os_titles[i];
		if (*js(o, "tunnel"))
			out_kv(2, 10, "tunnel", "%s, try %zu of the client's order (%s: %s)%s%s",
			       js(o, "tunnel"), n, os, order, refused ? "; refused: " : "", buf);
		else
			out_kv(2, 10, "tunnel", "none taken of the client's order (%s: %s); refused: %s",
			       os, order, buf);
	}
	out_kv(2, 10, "reason", "%s: %s", js(o, "reason"), js(o, "reason_text"));
	long long nps = json_integer_value(json_object_get(o, "nps_reason"));
	if (nps || accept)
		out_kv(2, 10, "NPS", "reason code %lld%s%s", nps, *js(o, "nps_message") ? ": " : "",
		       js(o, "nps_message"));
	else
		out_kv(2, 10, "NPS", "no policy-server event (the server itself refuses)");
	if (!accept && *js(o, "policy")) out_kv(2, 10, "policy", "\"%s\"", js(o, "policy"));
	{
		size_t k;
		json_t *t;
		json_array_foreach(json_object_get(o, "trace"), k, t)
			if (strcmp(js(t, "check"), "permission") == 0 &&
			    !json_is_true(json_object_get(t, "after_decision")))
				out_kv(2, 10, "permission", "%s", js(t, "note"));
	}
	const json_t *s = json_object_get(o, "session");
	if (json_is_object(s)) {
		const char *src = js(s, "address_source");
		char addr[80];
		if (json_is_string(json_object_get(s, "address")))
			snprintf(addr, sizeof addr, "%s (%s)", js(s, "address"), src);
		else if (strcmp(src, "apipa") == 0)
			snprintf(addr, sizeof addr, "169.254.x.x (automatic private: no DHCP server)");
		else
			snprintf(addr, sizeof addr, "leased from DHCP");
		long long it = json_integer_value(json_object_get(s, "idle_timeout"));
		long long st = json_integer_value(json_object_get(s, "session_timeout"));
		char its[32], sts[32];
		snprintf(its, sizeof its, it ? "%lld min" : "none", it);
		snprintf(sts, sizeof sts, st ? "%lld min" : "none", st);
		out_kv(2, 10, "session", "address %s, encryption %s, idle timeout %s, session timeout %s",
		       addr, js(s, "encryption"), its, sts);
		const json_t *f = json_object_get(s, "filters");
		size_t ni = json_array_size(json_object_get(f, "input"));
		size_t no = json_array_size(json_object_get(f, "output"));
		if (ni || no) {
			for (size_t i = 0; i < ni; i++)
				out_kv(2, 10, "filter", "input %s",
				       json_string_value(json_array_get(json_object_get(f, "input"), i)));
			for (size_t i = 0; i < no; i++)
				out_kv(2, 10, "filter", "output %s",
				       json_string_value(json_array_get(json_object_get(f, "output"), i)));
		}
	}
	printf("\n%sTrace%s\n", out_c(C_BOLD), out_c(C_RESET));
	const json_t *tr = json_object_get(o, "trace");
	static const char *const hdr[] = {"stage", "verdict", "check", "expected", "attempt"};
	struct out_table *tab = out_table_new(5, hdr);
	const char *last_stage = "";
	size_t i, npol = 0;
	json_t *t;
	json_array_foreach(tr, i, t) {
		const char *stage = js(t, "stage");
		bool after = json_is_true(json_object_get(t, "after_decision"));
		if (after && !verbose) continue;
		char st[64] = "", chk[300];
		bool is_pol = strcmp(js(t, "check"), "policy") == 0 &&
		              json_is_string(json_object_get(t, "policy"));
		if (is_pol) {
			snprintf(st, sizeof st, "policy %zu%s", ++npol, after ? " (-v)" : "");
			snprintf(chk, sizeof chk, "\"%s\"", js(t, "policy"));
			last_stage = "policy";
		} else {
			if (strcmp(stage, last_stage) != 0) snprintf(st, sizeof st, "%s", stage);
			last_stage = stage;
			snprintf(chk, sizeof chk, "%s%s", strcmp(stage, "policy") == 0 ? "  " : "",
			         js(t, "check"));
		}
		const char *row[5] = {st, js(t, "verdict"), chk, js(t, "expected"), js(t, "actual")};
		out_table_add(tab, row);
	}
	out_table_print(tab, stdout, 2);
	out_table_free(tab);
	/* why each failing check failed, the deciding one first */
	bool any = false;
	for (int pass = 0; pass < 2; pass++)
		json_array_foreach(tr, i, t) {
			bool dec = json_is_true(json_object_get(t, "decisive"));
			if (strcmp(js(t, "verdict"), "fail") != 0 || (pass == 0) != dec) continue;
			if (strcmp(js(t, "stage"), "policy") == 0 && !dec) continue;
			if (!any) printf("\n%sFindings%s\n", out_c(C_BOLD), out_c(C_RESET));
			any = true;
			char line[1200];
			snprintf(line, sizeof line, "%s %s: %s%s%s%s", dec ? "decides:" : "also:   ",
			         js(t, "check"), js(t, "note"), *js(t, "config") ? " (" : "",
			         js(t, "config"), *js(t, "config") ? ")" : "");
			out_wrap(stdout, 2, 100, line);
		}
	const json_t *nm = json_object_get(o, "near_misses");
	if (json_array_size(nm)) {
		printf("\n%sNear misses%s\n", out_c(C_BOLD), out_c(C_RESET));
		json_array_foreach(nm, i, t) {
			char line[1400];
			snprintf(line, sizeof line, "policy \"%s\" would match if %s", js(t, "policy"),
			         js(t, "would_match_if"));
			out_wrap(stdout, 2, 100, line);
		}
	}
	const json_t *dg = json_object_get(o, "diagnoses");
	if (json_array_size(dg)) {
		printf("\n%sDiagnosis%s\n", out_c(C_BOLD), out_c(C_RESET));
		render_diag_text(stdout, dg, 2);
	}
}

/* before the input is read further (and may block): what was decided goes out */
static void flush_out(void *arg)
{
	struct ctx *x = arg;
	jw_flush(&x->w);
	fflush(stdout);
}

/* Decide one attempt and print its result; 1 when rejected. */
static int decide(struct ctx *x, const struct attempt *at)
{
	facts_reset(x->facts);
	/* --brief needs neither the trace nor the facts for the knowledge base */
	int rej = policy_evaluate(x->c, at, &x->r, x->brief ? NULL : x->facts) != 0;
	if (x->summary) summary_count(&x->sum, &x->r);
	if (x->json) {
		if (x->brief) brief_emit(&x->w, x, at);
		else result_emit(&x->w, x, at);
		jw_raw(&x->w, "\n", 1);
	} else if (x->brief) {
		brief_text(x, at);
	} else {
		struct jw t;
		jw_init(&t, JW_TREE, NULL);
		result_emit(&t, x, at);
		json_t *o = jw_take(&t);
		jw_free(&t);
		if (x->shown) printf("\n%s\n\n", "----");
		if (o) print_result_text(o, x->verbose);
		json_decref(o);
	}
	x->shown++;
	return rej;
}

int cmd_policy_test(struct cmd_args *a)
{
	struct ctx x = {.json = a->json, .brief = args_has(a, "--brief"),
	                .verbose = args_count(a, "-v") > 0, .summary = args_has(a, "--summary")};
	int rc = EXIT_USAGE;
	int fds[CMD_MAX_POS];
	for (int i = 0; i < a->npos; i++) fds[i] = -1;
	x.c = load_config(a, NULL);
	if (!x.c) goto out;
	char *problems = NULL;
	x.rs = rules_load(a->rules_dir, &problems);
	if (!x.rs) {
		out_err(a->rules_dir, 0, 0, "knowledge base does not load:\n%s",
		        problems ? problems : "");
		free(problems);
		goto out;
	}
	free(problems);
	x.win = catalog_load(CATALOG_WINDOWS, a->rules_dir, NULL);
	x.nps = catalog_load(CATALOG_NPS, a->rules_dir, NULL);
	/* open every input first: one that cannot be opened stops everything before any
	 * answer; an invalid attempt inside one is reported and the others are decided */
	bool bad = false;
	for (int i = 0; i < a->npos; i++) {
		fds[i] = strcmp(a->pos[i], "-") == 0 ? STDIN_FILENO : open(a->pos[i], O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			out_err(a->pos[i], 0, 0, "cannot read: %s", strerror(errno));
			bad = true;
		}
	}
	if (bad) goto out;
	if (x.json && !x.brief) x.sc = step_cache_new(); /* without it, steps are rendered anew */
	if (policy_result_init(&x.r, x.c) || !(x.facts = facts_new()) ||
	    (x.summary && !(x.sum.policy = calloc(x.c->npolicies + 1, sizeof *x.sum.policy)))) {
		out_err(NULL, 0, 0, "out of memory");
		goto out;
	}
	x.r.trace_after = x.verbose;
	x.r.full_trace = !x.brief;
	static char obuf[1 << 16];
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	/* JSON: one object for a lone attempt, else one line per attempt (JSON lines) */
	jw_init(&x.w, JW_COMPACT, stdout);
	bool any_reject = false;
	for (int i = 0; i < a->npos; i++) {
		const char *name = fds[i] == STDIN_FILENO && !strcmp(a->pos[i], "-") ? "(stdin)"
		                                                                     : a->pos[i];
		struct attempt_reader *r = attempt_reader_fd(x.c, name, fds[i]);
		if (!r) {
			out_err(NULL, 0, 0, "out of memory");
			bad = true;
			break;
		}
		attempt_reader_on_read(r, flush_out, &x);
		struct attempt at;
		struct config_problems probs = {0};
		for (int n; (n = attempt_reader_next(r, &at, &probs)) != 0;) {
			if (n < 0) {
				flush_out(&x);
				config_problems_print(&probs, name);
				config_problems_free(&probs);
				memset(&probs, 0, sizeof probs);
				x.sum.invalid++;
				bad = true;
				continue;
			}
			if (x.json && !x.brief && !x.summary && !x.shown && a->npos == 1 &&
			    !attempt_reader_several(r))
				x.w.style = JW_PRETTY;
			if (decide(&x, &at)) any_reject = true;
			attempt_free(&at);
		}
		attempt_reader_free(r);
	}
	if (x.summary) {
		if (x.json) {
			summary_emit(&x.w, &x);
			jw_raw(&x.w, "\n", 1);
		} else {
			if (x.shown) putchar('\n');
			summary_text(&x);
		}
	}
	if (jw_flush(&x.w) || fflush(stdout)) {
		out_err(NULL, 0, 0, "cannot write the results: %s", strerror(errno));
		bad = true;
	}
	rc = bad ? EXIT_USAGE : any_reject ? EXIT_NO : EXIT_YES;
out:
	for (int i = 0; i < a->npos; i++)
		if (fds[i] > STDIN_FILENO) close(fds[i]);
	jw_free(&x.w);
	step_cache_free(x.sc);
	free(x.sum.policy);
	policy_result_free(&x.r);
	facts_free(x.facts);
	catalog_free(x.win);
	catalog_free(x.nps);
	rules_free(x.rs);
	config_free((struct config *)x.c);
	return rc;
}

/* ---- policy show -------------------------------------------------------------------------- */
static json_t *mask_json(const char *const *names, uint32_t mask)
{
	json_t *arr = json_array();
	for (int i = 0; names[i] && i < 32; i++)
		if (mask >> i & 1) json_array_append_new(arr, json_string(names[i]));
	return arr;
}

static json_t *policy_json(const struct config *c, size_t i)
{
	const struct policy *p = &c->policies[i];
	const struct profile *pr = &p->profile;
	const struct server *sv = &c->server;
	char buf[512];
	json_t *o = json_object();
	json_object_set_new(o, "order", json_integer((json_int_t)i + 1));
	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "enabled", json_boolean(p->enabled));
	json_object_set_new(o, "permission", json_string(p->grant ? "grant" : "deny"));
	json_t *cs = json_array();
	for (size_t k = 0; k < p->nconds; k++) {
		const struct condition *cd = &p->conds[k];
		json_t *j = json_object();
		json_object_set_new(j, "attribute", json_string(cond_attr_names[cd->attr]));
		json_object_set_new(j, cd->is_pattern ? "pattern" : "value", json_string(cd->text));
		json_array_append_new(cs, j);
	}
	json_object_set_new(o, "conditions", cs);
	json_t *pj = json_object();
	json_object_set_new(pj, "auth_methods", mask_json(auth_method_names, pr->auth_mask));
	json_object_set_new(pj, "auth_methods_effective",
	                    mask_json(auth_method_names, pr->auth_mask & sv->auth_mask));
	if (pr->auth_mask & (1u << AUTH_EAP)) {
		json_object_set_new(pj, "eap_types", mask_json(eap_type_names, pr->eap_mask));
		json_object_set_new(pj, "eap_types_effective",
		                    mask_json(eap_type_names, pr->eap_mask & sv->eap_mask));
	}
	json_object_set_new(pj, "encryption", mask_json(enc_level_names, pr->enc_mask));
	json_object_set_new(pj, "encryption_effective",
	                    mask_json(enc_level_names, pr->enc_mask & sv->enc_mask));
	json_object_set_new(pj, "multilink", json_string(multilink_names[pr->multilink]));
	json_object_set_new(pj, "multilink_max_ports", json_integer(pr->multilink_max_ports));
	json_object_set_new(pj, "bap_required", json_boolean(pr->bap_required));
	json_object_set_new(pj, "day_time", pr->day_time ? json_string(week_grid_str(pr->day_time,
	                    buf, sizeof buf)) : json_string("any time"));
	json_object_set_new(pj, "idle_timeout", json_integer(pr->idle_timeout));
	json_object_set_new(pj, "session_timeout", json_integer(pr->session_timeout));
	json_object_set_new(pj, "nas_port_types", pr->nas_port_mask
	                    ? mask_json(nas_port_type_names, pr->nas_port_mask) : json_string("any"));
	json_object_set_new(pj, "tunnel_types", pr->tunnel_mask ? mask_json(tunnel_names,
	                    pr->tunnel_mask) : json_string("any"));
	json_object_set_new(pj, "called_station_id", jstr_or_null(pr->called_station_id));
	json_object_set_new(pj, "ip_assignment", json_string(ip_assign_names[pr->ip_assignment]));
	json_t *f = json_object();
	json_object_set_new(f, "input", strv_json(pr->filters_in, pr->nfilters_in));
	json_object_set_new(f, "output", strv_json(pr->filters_out, pr->nfilters_out));
	json_object_set_new(pj, "filters", f);
	json_object_set_new(pj, "ignore_user_dialin", json_boolean(pr->ignore_user_dialin));
	json_object_set_new(o, "profile", pj);
	return o;
}

static const char *jlist(const json_t *arr, char *buf, size_t bufsz)
{
	if (json_is_string(arr)) return snprintf(buf, bufsz, "%s", json_string_value(arr)), buf;
	size_t o = 0, i;
	json_t *e;
	buf[0] = 0;
	json_array_foreach(arr, i, e) {
		int n = snprintf(buf + o, bufsz - o, "%s%s", i ? ", " : "", json_string_value(e));
		if (n < 0 || (size_t)n >= bufsz - o) break;
		o += (size_t)n;
	}
	if (!o) snprintf(buf, bufsz, "(none)");
	return buf;
}

int cmd_policy_show(struct cmd_args *a)
{
	struct config *c = load_config(a, NULL);
	if (!c) return EXIT_USAGE;
	json_t *root = json_object();
	json_object_set_new(root, "config", json_string(c->file));
	json_t *arr = json_array();
	for (size_t i = 0; i < c->npolicies; i++) json_array_append_new(arr, policy_json(c, i));
	json_object_set_new(root, "policies", arr);
	if (a->json) {
		out_json(root);
		json_decref(root);
		config_free(c);
		return EXIT_YES;
	}
	printf("%zu polic%s in %s, evaluated in this order (first match decides; no match "
	       "rejects)\n", c->npolicies, c->npolicies == 1 ? "y" : "ies", c->file);
	size_t i;
	json_t *p;
	char b1[512], b2[512];
	json_array_foreach(arr, i, p) {
		printf("\n%s%zu. %s%s  [%s%s]\n", out_c(C_BOLD), i + 1, js(p, "name"), out_c(C_RESET),
		       js(p, "permission"), json_is_true(json_object_get(p, "enabled")) ? ""
		                                                                     : ", disabled");
		size_t k;
		json_t *cd;
		json_array_foreach(json_object_get(p, "conditions"), k, cd) {
			const char *attr = js(cd, "attribute"), *v = js(cd, "value");
			if (json_object_get(cd, "pattern"))
				printf("   %s %s matches /%s/\n", k ? "and" : "if ", attr, js(cd, "pattern"));
			else if (strcmp(attr, "Windows-Groups") == 0)
				printf("   %s %s: member of %s%s\n", k ? "and" : "if ", attr,
				       strchr(v, ',') ? "any of " : "", v);
			else if (strcmp(attr, "Day-And-Time-Restrictions") == 0)
				printf("   %s %s: within %s\n", k ? "and" : "if ", attr, v);
			else
				printf("   %s %s %s%s\n", k ? "and" : "if ", attr,
				       strchr(v, ',') ? "is one of " : "= ", v);
		}
		const json_t *pr = json_object_get(p, "profile");
		out_kv(3, 16, "auth methods", "%s (with the server: %s)",
		       jlist(json_object_get(pr, "auth_methods"), b1, sizeof b1),
		       jlist(json_object_get(pr, "auth_methods_effective"), b2, sizeof b2));
		if (json_object_get(pr, "eap_types"))
			out_kv(3, 16, "EAP types", "%s (with the server: %s)",
			       jlist(json_object_get(pr, "eap_types"), b1, sizeof b1),
			       jlist(json_object_get(pr, "eap_types_effective"), b2, sizeof b2));
		out_kv(3, 16, "encryption", "%s (with the server: %s)",
		       jlist(json_object_get(pr, "encryption"), b1, sizeof b1),
		       jlist(json_object_get(pr, "encryption_effective"), b2, sizeof b2));
		long long mp = json_integer_value(json_object_get(pr, "multilink_max_ports"));
		out_kv(3, 16, "multilink", "%s%s%s", js(pr, "multilink"), mp ? ", max ports " : "",
		       mp ? (snprintf(b1, sizeof b1, "%lld", mp), b1) : "");
		out_kv(3, 16, "BAP", "%s", json_is_true(json_object_get(pr, "bap_required"))
		                              ? "required" : "not required");
		out_kv(3, 16, "day and time", "%s", js(pr, "day_time"));
		long long it = json_integer_value(json_object_get(pr, "idle_timeout"));
		long long st = json_integer_value(json_object_get(pr, "session_timeout"));
		out_kv(3, 16, "timeouts", "idle %s, session %s",
		       it ? (snprintf(b1, sizeof b1, "%lld min", it), b1) : "none",
		       st ? (snprintf(b2, sizeof b2, "%lld min", st), b2) : "none");
		out_kv(3, 16, "media", "%s", jlist(json_object_get(pr, "nas_port_types"), b1, sizeof b1));
		out_kv(3, 16, "tunnels", "%s", jlist(json_object_get(pr, "tunnel_types"), b1, sizeof b1));
		if (*js(pr, "called_station_id"))
			out_kv(3, 16, "called number", "/%s/", js(pr, "called_station_id"));
		out_kv(3, 16, "IP assignment", "%s", js(pr, "ip_assignment"));
		const json_t *f = json_object_get(pr, "filters");
		out_kv(3, 16, "filters", "input %s; output %s",
		       jlist(json_object_get(f, "input"), b1, sizeof b1),
		       jlist(json_object_get(f, "output"), b2, sizeof b2));
		out_kv(3, 16, "user dial-in", "%s", json_is_true(json_object_get(pr, "ignore_user_dialin"))
		                                       ? "ignored" : "applies");
	}
	json_decref(root);
	config_free(c);
	return EXIT_YES;
}

/* ---- policy check -------------------------------------------------------------------------- */
int cmd_policy_check(struct cmd_args *a)
{
	const char *file = a->config ? a->config : "samples/vnet.json";
	struct config_problems probs = {0};
	struct config *c = config_load(a->config, &probs);
	json_t *arr = json_array(), *diagnoses = json_array();
	int rc;
	if (!c) {
		if (probs.unreadable) {
			config_problems_print(&probs, file);
			config_problems_free(&probs);
			json_decref(arr);
			json_decref(diagnoses);
			return EXIT_USAGE;
		}
		for (size_t i = 0; i < probs.n; i++) {
			json_t *j = json_object();
			json_object_set_new(j, "line", json_integer(probs.v[i].line));
			json_object_set_new(j, "column", json_integer(probs.v[i].col));
			json_object_set_new(j, "severity", json_string("error"));
			json_object_set_new(j, "message", json_string(probs.v[i].msg));
			json_array_append_new(arr, j);
		}
	} else {
		struct policy_findings f = {0};
		policy_check_config(c, &f);
		for (size_t i = 0; i < f.n; i++) {
			int line = 0, col = 0;
			config_pos(c, f.v[i].pointer, &line, &col);
			char msg[900];
			snprintf(msg, sizeof msg, "%s: %s", f.v[i].path, f.v[i].msg);
			json_t *j = json_object();
			json_object_set_new(j, "line", json_integer(line));
			json_object_set_new(j, "column", json_integer(col));
			json_object_set_new(j, "severity", json_string("warning"));
			json_object_set_new(j, "message", json_string(msg));
			json_array_append_new(arr, j);
		}
		/* the knowledge base over the configuration's facts, as policy test does over
		 * an attempt's */
		char *problems = NULL;
		struct ruleset *rs = rules_load(a->rules_dir, &problems);
		struct facts *facts = rs ? facts_new() : NULL;
		if (!rs) {
			out_err_lines(problems, a->rules_dir, "the knowledge base does not load");
			free(problems);
			policy_findings_free(&f);
			config_problems_free(&probs);
			json_decref(arr);
			json_decref(diagnoses);
			config_free(c);
			return EXIT_USAGE;
		}
		free(problems);
		if (facts) {
			policy_check_facts(c, &f, facts);
			json_decref(diagnoses);
			diagnoses = render_diag_facts(rs, facts, 0);
		}
		facts_free(facts);
		rules_free(rs);
		policy_findings_free(&f);
	}
	config_problems_free(&probs);
	if (a->json) {
		json_t *root = json_object();
		json_object_set_new(root, "config", json_string(file));
		json_object_set_new(root, "problems", json_incref(arr));
		json_object_set_new(root, "diagnoses", json_incref(diagnoses));
		out_json(root);
		json_decref(root);
	} else {
		size_t i;
		json_t *j;
		json_array_foreach(arr, i, j) {
			long long line = json_integer_value(json_object_get(j, "line"));
			long long col = json_integer_value(json_object_get(j, "column"));
			if (line)
				printf("%s:%lld:%lld: %s: %s\n", file, line, col, js(j, "severity"),
				       js(j, "message"));
			else
				printf("%s: %s: %s\n", file, js(j, "severity"), js(j, "message"));
		}
		if (!json_array_size(arr) && !json_array_size(diagnoses))
			printf("%s: %zu policies, %zu users: no problems found\n", file,
			       c ? c->npolicies : 0, c ? c->nusers : 0);
		if (json_array_size(diagnoses)) {
			printf("\n%sDiagnosis%s\n", out_c(C_BOLD), out_c(C_RESET));
			render_diag_text(stdout, diagnoses, 2);
		}
	}
	rc = json_array_size(arr) || json_array_size(diagnoses) ? EXIT_NO : EXIT_YES;
	json_decref(arr);
	json_decref(diagnoses);
	config_free(c);
	return rc;
}
