/* Admission of live connections through the policy engine (see admit.h). */
#include "policy/admit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- address pool ----------------------------------------------------------------- */
int addr_pool_init(struct addr_pool *p, const struct server *sv)
{
	memset(p, 0, sizeof *p);
	p->ranges = sv->pool;
	p->nranges = sv->npool;
	p->size = ip_ranges_size(sv->pool, sv->npool);
	if (p->size > (1u << 24)) return -1;
	p->bits = calloc((size_t)(p->size + 63) / 64 + 1, sizeof *p->bits);
	if (!p->bits) return -1;
	if (p->size) {
		p->bits[0] |= 1; /* the server's own */
		p->used = 1;
	}
	return 0;
}

void addr_pool_free(struct addr_pool *p)
{
	free(p->bits);
	memset(p, 0, sizeof *p);
}

static bool pool_index(const struct addr_pool *p, uint32_t a, uint64_t *idx)
{
	return ip_ranges_index(p->ranges, p->nranges, a, idx);
}

static uint32_t pool_addr(const struct addr_pool *p, uint64_t idx)
{
	return ip_ranges_nth(p->ranges, p->nranges, idx);
}

uint32_t addr_pool_server(const struct addr_pool *p)
{
	return p->size ? pool_addr(p, 0) : 0;
}

bool addr_pool_contains(const struct addr_pool *p, uint32_t a)
{
	uint64_t i;
	return pool_index(p, a, &i);
}

bool addr_pool_in_use(const struct addr_pool *p, uint32_t a)
{
	uint64_t i;
	return pool_index(p, a, &i) && (p->bits[i / 64] >> (i % 64) & 1);
}

uint32_t addr_pool_take(struct addr_pool *p, uint32_t want)
{
	uint64_t i;
	if (want) {
		if (!pool_index(p, want, &i) || (p->bits[i / 64] >> (i % 64) & 1)) return 0;
		p->bits[i / 64] |= 1ull << (i % 64);
		p->used++;
		return want;
	}
	if (p->used >= p->size) return 0;
	/* word-wise search from the hint, wrapping once */
	uint64_t words = (p->size + 63) / 64;
	for (uint64_t k = 0; k <= words; k++) {
		uint64_t w = (p->hint / 64 + k) % words;
		uint64_t free_bits = ~p->bits[w];
		if (w == words - 1 && p->size % 64) free_bits &= (1ull << (p->size % 64)) - 1;
		if (!free_bits) continue;
		i = w * 64 + (uint64_t)__builtin_ctzll(free_bits);
		p->bits[w] |= 1ull << (i % 64);
		p->used++;
		p->hint = i + 1 < p->size ? i + 1 : 0;
		return pool_addr(p, i);
	}
	return 0;
}

void addr_pool_release(struct addr_pool *p, uint32_t a)
{
	uint64_t i;
	if (!pool_index(p, a, &i) || i == 0) return; /* the server's own stays */
	if (!(p->bits[i / 64] >> (i % 64) & 1)) return;
	p->bits[i / 64] &= ~(1ull << (i % 64));
	p->used--;
}

/* ---- admission -------------------------------------------------------------------- */
static char *dupstr(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int decide_once(const struct config *c, const struct admit_req *q, struct attempt *a,
                       struct policy_result *r, struct admit_out *o);

int admit_decide(const struct config *c, const struct admit_req *q, struct attempt *a,
                 struct policy_result *r, struct admit_out *o)
{
	int rc = decide_once(c, q, a, r, o);
	if (!q->any_encryption) return rc;
	for (int lv = (int)q->encryption - 1; rc != 0 && o->reason == R_ENCRYPTION && lv >= 0; lv--) {
		if (!(c->server.enc_mask >> lv & 1)) continue;
		struct admit_req q2 = *q;
		q2.encryption = (enum enc_level)lv;
		attempt_free(a);
		rc = decide_once(c, &q2, a, r, o);
	}
	return rc;
}

static int decide_once(const struct config *c, const struct admit_req *q, struct attempt *a,
                       struct policy_result *r, struct admit_out *o)
{
	attempt_init(a);
	a->user_name = dupstr(q->user ? q->user : "");
	a->tunnel = q->tunnel;
	a->auth = q->method;
	a->eap_type = q->method == AUTH_EAP ? (int)q->eap_type : -1;
	if (q->tunnel == TUN_IKEV2) a->framed_protocol = -1;
	a->encryption = q->encryption;
	a->calling_station_id = dupstr(q->client_ip);
	a->client_ip = dupstr(q->client_ip);
	a->called_station_id = dupstr(q->server_ip);
	a->nas_ip = dupstr(q->server_ip);
	a->nas_identifier = dupstr(c->serve.host_name ? c->serve.host_name : c->server.name);
	if (q->requested_ip) {
		a->has_requested_ip = true;
		a->requested_ip = q->requested_ip;
	}
	/* the local time, as the server's clock shows it */
	struct tm tm;
	char when[32];
	localtime_r(&q->now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(a->time_text, sizeof a->time_text, "%s", when);
	if (attempt_parse_time(when, &a->minute_of_week, &a->local_epoch) != 0)
		a->minute_of_week = 0;
	/* credentials: the authenticator checked them; the engine still makes the decision.
	 * A match gives the engine the account's own password, so its step passes as it does
	 * for `policy test` with the right password; anything else fails it. */
	const struct user *u = config_find_user(c, q->user ? q->user : "");
	if (q->method == AUTH_MACHINE_CERT && q->cred == ADMIT_CRED_OK) {
		/* the verified certificate was the credential: no password to hold against the
		 * account, as `policy test` with "auth": "machine-cert" and no password */
	} else {
		admit_attempt_cred(c, a, q->cred);
	}
	/* the live counters, on a copy of the configuration's server settings */
	struct config live = *c;
	live.server.ports_in_use[q->tunnel] = q->ports_in_use;
	live.server.addresses_in_use = q->addresses_in_use;
	int rc = policy_evaluate(&live, a, r, NULL);

	memset(o, 0, sizeof *o);
	o->accept = rc == 0;
	o->error = r->error;
	o->reason = r->reason;
	o->policy = r->policy;
	o->idle_timeout = r->idle_timeout;
	o->session_timeout = r->session_timeout;
	if (r->policy >= 0)
		o->enc_allowed = c->policies[r->policy].profile.enc_mask & c->server.enc_mask;
	if (r->has_address) {
		bool is_static = u && u->has_static_ip && r->address == u->static_ip;
		bool is_requested = q->requested_ip && r->address == q->requested_ip;
		if (is_static || is_requested) o->address = r->address;
		else o->address_from_pool = true;
	}
	return rc == 0 ? 0 : 1;
}

void admit_attempt_cred(const struct config *c, struct attempt *a, enum admit_cred cred)
{
	const struct user *u = config_find_user(c, a->user_name ? a->user_name : "");
	free(a->password);
	a->password = NULL;
	a->cred_failed = ATTEMPT_CRED_CHECK;
	if (cred == ADMIT_CRED_OK && u && u->password)
		a->password = strdup(u->password);
	if (cred == ADMIT_CRED_BAD && u && u->password)
		a->cred_failed = ATTEMPT_CRED_WRONG;
	else if (cred != ADMIT_CRED_OK || (u && !a->password))
		a->cred_failed = ATTEMPT_CRED_UNCHECKED;
}

void admit_summary(const struct config *c, const struct attempt *a,
                   const struct policy_result *r, char *buf, size_t n)
{
	buf[0] = 0;
	for (size_t i = 0; i < r->nsteps; i++) {
		const struct policy_step *s = &r->steps[i];
		if (!s->decisive) continue;
		struct step_text t;
		policy_step_text(c, a, s, &t);
		if (s->policy >= 0)
			snprintf(buf, n, "policy \"%s\", %s: %s", c->policies[s->policy].name, t.check, t.note);
		else
			snprintf(buf, n, "%s: %s", t.check, t.note);
		if (t.where[0]) {
			size_t l = strlen(buf);
			snprintf(buf + l, n - l, " (%s)", t.where);
		}
		return;
	}
	if (r->accept && r->policy >= 0)
		snprintf(buf, n, "granted by policy \"%s\"", c->policies[r->policy].name);
	else if (!r->accept)
		snprintf(buf, n, "%s", policy_reasons[r->reason].text);
}
