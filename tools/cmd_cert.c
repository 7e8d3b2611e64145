/* vnet cert pick: which machine certificate the server uses for IPsec, whether the
 * clients accept it, and how to fix it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "cert/certpick.h"
#include "cert/certstore.h"
#include "cmd.h"
#include "policy/config.h"
#include "rules/facts.h"
#include "out.h"
#include "render_diag.h"
#include "rules/rules.h"

/* Options, with the configuration's "certs" section (store, client_ca, server_name) as
 * the fallback when --config is given; its paths are relative to the configuration file. */
static struct config *load_config(const char *file)
{
	struct config_problems probs = {0};
	struct config *c = config_load_file(file, &probs);
	if (!c)
		config_problems_print(&probs, file);
	config_problems_free(&probs);
	return c;
}

/* ---- JSON --------------------------------------------------------------------------- */

static json_t *str_or_null(const char *s);

static json_t *reasons_json(const struct cert_reason *r, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:o}", "code", r[i].code, "text",
		                                          str_or_null(r[i].text)));
	return a;
}

/* A JSON string, escaping what is not valid UTF-8 (names from the command line). */
static json_t *str_or_null(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	char *t = cert_safe_text(s);
	j = t ? json_string(t) : NULL;
	free(t);
	return j ? j : json_null();
}

static json_t *cert_json(const struct cert_info *ci)
{
	char nb[40], na[40];
	cert_format_time(ci->not_before, nb, sizeof nb);
	cert_format_time(ci->not_after, na, sizeof na);
	json_t *san = json_array();
	for (size_t i = 0; i < ci->nsan; i++)
		json_array_append_new(san, json_string(ci->san[i]));
	json_t *eku = json_array();
	for (size_t i = 0; i < ci->neku; i++)
		json_array_append_new(eku, json_pack("{s:s,s:o}", "oid", ci->eku[i].oid, "name",
		                                     str_or_null(ci->eku[i].name)));
	json_t *ku = json_null();
	if (ci->ku_present) {
		ku = json_array();
		char tmp[sizeof ci->ku_text];
		snprintf(tmp, sizeof tmp, "%s", ci->ku_text);
		for (char *sv = NULL, *t = strtok_r(tmp, ",", &sv); t; t = strtok_r(NULL, ",", &sv))
			json_array_append_new(ku, json_string(t[0] == ' ' ? t + 1 : t));
	}
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:b,s:s,s:s,s:s,s:{s:s,s:i,s:b,s:o},s:b,s:o,s:o,"
	                 "s:b,s:{s:b,s:o,s:o,s:o},s:s}",
	                 "file", ci->name, "subject", ci->subject, "issuer", ci->issuer,
	                 "cn", str_or_null(ci->cn), "san", san, "wildcard", ci->wildcard,
	                 "not_before", nb, "not_after", na,
	                 "validity", ci->expired ? "expired" : ci->not_yet_valid ? "not-yet-valid"
	                                                                         : "valid",
	                 "key", "type", ci->key_type, "bits", ci->key_bits, "private_key",
	                 ci->has_key, "key_file", str_or_null(ci->entry->key_file),
	                 "eku_any_purpose", !ci->eku_present || ci->eku_anyext, "eku", eku,
	                 "key_usage", ku, "ca", ci->is_ca,
	                 "chain", "ok", ci->chain_ok, "root", str_or_null(ci->chain_root),
	                 "root_file", str_or_null(ci->chain_root_file),
	                 "error", ci->chain_ok ? json_null() : json_string(ci->chain_error),
	                 "thumbprint", ci->thumbprint);
}

static const char *position(const struct cert_pick *p, size_t i)
{
	if (p->picked < 0)
		return "no-pick";
	if ((int)i < p->picked)
		return "before-pick";
	return (int)i == p->picked ? "picked" : "after-pick";
}

static json_t *pick_json(const struct cert_pick *p, const char *client_src, char at_s[40])
{
	const struct cert_store *s = p->store;
	json_t *probs = json_array();
	for (size_t i = 0; i < s->nproblems; i++)
		json_array_append_new(probs, json_pack("{s:s,s:s}", "file", s->problems[i].file,
		                                       "reason", s->problems[i].reason));
	json_t *certs = json_array(), *cands = json_array();
	for (size_t i = 0; i < p->n; i++) {
		const struct cert_info *ci = &p->info[i];
		json_array_append_new(certs, cert_json(ci));
		json_array_append_new(cands, json_pack("{s:s,s:s,s:b,s:s,s:o}", "file", ci->name,
		                                       "subject", ci->subject, "qualifies",
		                                       ci->qualifies, "position", position(p, i),
		                                       "reasons",
		                                       reasons_json(ci->reasons, ci->nreasons)));
	}
	json_t *picked = json_null();
	if (p->picked >= 0) {
		const struct cert_info *ci = &p->info[p->picked];
		picked = json_pack("{s:s,s:s,s:s}", "file", ci->name, "subject", ci->subject,
		                   "thumbprint", ci->thumbprint);
	}
	const struct cert_client_view *v = &p->client;
	json_t *client = json_pack(
		"{s:b,s:o,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "accepted", v->accepted,
		"error", v->error ? json_integer(v->error) : json_null(),
		"error_name", str_or_null(v->error_name), "error_text", str_or_null(v->error_text),
		"trust", v->trust_assumed ? "store-roots" : "client-ca",
		"client_ca", str_or_null(client_src),
		"trusted", p->picked >= 0 ? json_boolean(v->trusted) : json_null(),
		"ca_differs", p->picked >= 0 ? json_boolean(v->ca_differs) : json_null(),
		"name_matches", v->name_checked && p->picked >= 0 ? json_boolean(v->name_matches)
		                                                   : json_null(),
		"reasons", reasons_json(v->reasons, v->nreasons),
		"warnings", reasons_json(v->warnings, v->nwarnings));
	json_t *machine = json_null();
	if (p->machine.checked) {
		const struct cert_machine *m = &p->machine;
		json_t *mc = json_array();
		for (size_t i = 0; i < m->n; i++) {
			const struct cert_info *ci = &m->info[i];
			json_array_append_new(mc, json_pack("{s:s,s:s,s:b,s:o}", "file", ci->name,
			                                    "subject", ci->subject, "usable",
			                                    (int)i == m->usable, "reasons",
			                                    reasons_json(ci->reasons, ci->nreasons)));
		}
		char *cdir = cert_safe_text(p->opts.client_store->dir);
		machine = json_pack("{s:o,s:o,s:o}", "store", str_or_null(cdir), "certificate",
		                    m->usable >= 0 ? json_string(m->info[m->usable].name)
		                                   : json_null(), "certificates", mc);
		free(cdir);
	}
	json_object_set_new(client, "machine_cert", machine);
	char *dir = cert_safe_text(s->dir);
	json_t *j = json_pack("{s:o,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:i,s:b,s:b,s:o}",
	                      "store", str_or_null(dir), "order", s->has_order_file ? "store.order" : "name",
	                      "purpose", cert_purpose_name(p->opts.purpose), "at", at_s,
	                      "server_name", str_or_null(p->opts.server_name),
	                      "problems", probs, "certificates", certs, "candidates", cands,
	                      "picked", picked, "qualifying", (json_int_t)p->qualifying,
	                      "order_decides", p->order_decides, "order_changes_outcome",
	                      p->order_changes_outcome, "client", client);
	if (p->has_fix) {
		const struct cert_fix *f = &p->fix;
		json_t *rm = json_array(), *cmds = json_array();
		for (size_t i = 0; i < f->nremove; i++)
			json_array_append_new(rm, json_string(p->info[f->remove[i]].name));
		for (size_t i = 0; i < f->ncmds; i++)
			json_array_append_new(cmds, json_string(f->cmds[i]));
		json_t *single = json_null();
		if (f->single >= 0) {
			const struct cert_info *ci = &p->info[f->single];
			single = json_pack("{s:s,s:s,s:s}", "file", ci->name, "subject", ci->subject,
			                   "thumbprint", ci->thumbprint);
		}
		json_object_set_new(j, "fix", json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
		                    "single", single, "remove", rm, "advice",
		                    str_or_null(f->advice), "ca_name", str_or_null(f->ca_name),
		                    "ca_from", str_or_null(f->ca_from), "commands", cmds, "note",
		                    str_or_null(f->note)));
	}
	free(dir);
	return j;
}

/* ---- text ------------------------------------------------------------------------- */

static void print_error_code(int64_t e, char *buf, size_t bufsz)
{
	if (e > 0xffff)
		snprintf(buf, bufsz, "0x%08llX", (unsigned long long)e);
	else
		snprintf(buf, bufsz, "%lld", (long long)e);
}

/* "- text" wrapped at `width` with continuation lines under the text. */
static void print_item(int indent, const char *prefix, const char *text)
{
	const int width = 92;
	size_t pl = strlen(prefix);
	int room = width - indent - (int)pl;
	if (room < 20)
		room = 20;
	const char *p = text;
	bool first = true;
	for (int guard = 0; *p && guard < 1000; guard++) {
		size_t len = strlen(p), take = len;
		if (take > (size_t)room) {
			take = (size_t)room;
			while (take > 0 && p[take] != ' ') take--;
			if (take == 0) take = (size_t)room;
		}
		printf("%*s%s%.*s\n", indent, "", first ? prefix : "", (int)take, p);
		if (first)
			indent += (int)pl;
		first = false;
		p += take;
		while (*p == ' ') p++;
	}
}

static void print_cert(const struct cert_pick *p, size_t i)
{
	const struct cert_info *ci = &p->info[i];
	char nb[40], na[40], buf[1600];
	const char *verdict;
	enum out_color col;
	if ((int)i == p->picked) { verdict = "PICKED"; col = C_BOLD; }
	else if (ci->qualifies) { verdict = "qualifies, not reached"; col = C_DIM; }
	else if (p->picked < 0 || (int)i < p->picked) { verdict = "passed over"; col = C_YELLOW; }
	else { verdict = "does not qualify"; col = C_DIM; }
	printf("%2zu. %s%s%s  %s[%s]%s\n", i + 1, out_c(C_BOLD), ci->name, out_c(C_RESET),
	       out_c(col), verdict, out_c(C_RESET));
	out_kv(4, 11, "subject", "%s", ci->subject);
	out_kv(4, 11, "issuer", "%s", ci->issuer);
	buf[0] = 0;
	for (size_t k = 0; k < ci->nsan; k++) {
		size_t l = strlen(buf);
		snprintf(buf + l, sizeof buf - l, "%s%s", k ? ", " : "", ci->san[k]);
	}
	if (ci->nsan)
		out_kv(4, 11, "names", "%s%s", buf, ci->wildcard ? "  (wildcard)" : "");
	else if (ci->wildcard)
		out_kv(4, 11, "names", "none besides the CN (wildcard)");
	cert_format_time(ci->not_before, nb, sizeof nb);
	cert_format_time(ci->not_after, na, sizeof na);
	out_kv(4, 11, "valid", "%s to %s (%s)", nb, na,
	       ci->expired ? "expired" : ci->not_yet_valid ? "not yet valid" : "valid");
	if (ci->key_bits > 0)
		snprintf(buf, sizeof buf, "%s %d", ci->key_type, ci->key_bits);
	else
		snprintf(buf, sizeof buf, "%s", ci->key_type);
	if (ci->has_key)
		out_kv(4, 11, "key", "%s, private key in %s", buf, ci->entry->key_file);
	else
		out_kv(4, 11, "key", "%s, no private key", buf);
	if (!ci->eku_present) {
		out_kv(4, 11, "eku", "none (any purpose)");
	} else {
		buf[0] = 0;
		for (size_t k = 0; k < ci->neku; k++) {
			size_t l = strlen(buf);
			if (ci->eku[k].name)
				snprintf(buf + l, sizeof buf - l, "%s%s (%s)", k ? ", " : "", ci->eku[k].name,
				         ci->eku[k].oid);
			else
				snprintf(buf + l, sizeof buf - l, "%s%s", k ? ", " : "", ci->eku[k].oid);
		}
		out_kv(4, 11, "eku", "%s", buf[0] ? buf : "empty");
	}
	if (ci->ku_present)
		out_kv(4, 11, "key usage", "%s", ci->ku_text[0] ? ci->ku_text : "none");
	if (ci->chain_ok)
		out_kv(4, 11, "chain", "to %s%s%s%s", ci->chain_root,
		       ci->chain_root_file ? " (" : "",
		       ci->chain_root_file ? ci->chain_root_file : "", ci->chain_root_file ? ")" : "");
	else
		out_kv(4, 11, "chain", "none: %s", ci->chain_error);
	out_kv(4, 11, "thumbprint", "%s", ci->thumbprint);
	if (!ci->qualifies) {
		for (size_t k = 0; k < ci->nreasons; k++) {
			print_item(4, "- ", ci->reasons[k].text);
		}
	}
}

static void print_text(const struct cert_pick *p, const char *client_src, const char *at_s,
                       const json_t *diagnoses)
{
	const struct cert_store *s = p->store;
	const struct cert_client_view *v = &p->client;
	char buf[2400], ec[24];
	printf("Store %s: %zu certificate%s, order from %s\n", s->dir, p->n, p->n == 1 ? "" : "s",
	       s->has_order_file ? "store.order" : "file names");
	for (size_t i = 0; i < s->nproblems; i++)
		printf("  %sskipped%s %s: %s\n", out_c(C_YELLOW), out_c(C_RESET), s->problems[i].file,
		       s->problems[i].reason);
	printf("Server's pick for %s at %s:\n\n", cert_purpose_title(p->opts.purpose), at_s);
	for (size_t i = 0; i < p->n; i++) {
		print_cert(p, i);
		putchar('\n');
	}
	if (p->picked >= 0) {
		const struct cert_info *ci = &p->info[p->picked];
		printf("Picked: %s (%s), thumbprint %s\n", ci->name, ci->subject, ci->thumbprint);
	} else {
		printf("Picked: none, no certificate qualifies for %s\n",
		       cert_purpose_title(p->opts.purpose));
	}
	if (p->order_decides) {
		snprintf(buf, sizeof buf, "Order decides: %zu certificates qualify and the server "
		         "takes the first; %s", p->qualifying,
		         p->order_changes_outcome ? "the clients accept some of them and not "
		         "others, so the outcome depends on store order alone."
		         : "the clients treat them alike.");
		out_wrap(stdout, 0, 92, buf);
	}
	putchar('\n');
	printf("Clients (trusting %s%s%s):\n",
	       v->trust_assumed ? "the store's roots/, no --client-ca given" : client_src,
	       p->opts.server_name ? ", dialling " : "",
	       p->opts.server_name ? p->opts.server_name : "");
	if (p->machine.checked) {
		const struct cert_machine *m = &p->machine;
		if (m->usable >= 0)
			printf("  computer certificate: %s (%s) in %s\n", m->info[m->usable].name,
			       m->info[m->usable].subject, p->opts.client_store->dir);
		else
			printf("  computer certificate: none usable in %s\n", p->opts.client_store->dir);
		for (size_t i = 0; m->usable < 0 && i < m->n; i++) {
			const struct cert_info *ci = &m->info[i];
			for (size_t k = 0; k < ci->nreasons; k++) {
				snprintf(buf, sizeof buf, "%s: %s", ci->name, ci->reasons[k].text);
				print_item(4, "- ", buf);
			}
		}
	}
	if (v->accepted) {
		printf("  %saccepted%s\n", out_c(C_GREEN), out_c(C_RESET));
	} else if (v->error) {
		print_error_code(v->error, ec, sizeof ec);
		printf("  %srejected: error %s%s%s%s\n", out_c(C_RED), ec,
		       v->error_name ? " " : "", v->error_name ? v->error_name : "", out_c(C_RESET));
		if (v->error_text) {
			snprintf(buf, sizeof buf, "\"%s\"", v->error_text);
			print_item(4, "", buf);
		}
	} else {
		printf("  %srejected%s\n", out_c(C_RED), out_c(C_RESET));
	}
	for (size_t i = 0; i < v->nreasons; i++) {
		print_item(2, "- ", v->reasons[i].text);
	}
	for (size_t i = 0; i < v->nwarnings; i++) {
		print_item(2, "- warning: ", v->warnings[i].text);
	}
	if (json_array_size(diagnoses)) {
		printf("\n%sDiagnosis%s\n", out_c(C_BOLD), out_c(C_RESET));
		/* rules that share a fix print it once */
		for (size_t i = 0; i < json_array_size(diagnoses); i++) {
			json_t *d = json_deep_copy(json_array_get(diagnoses, i));
			const char *fix = json_string_value(json_object_get(d, "fix"));
			for (size_t k = 0; fix && k < i; k++) {
				const json_t *e = json_array_get(diagnoses, k);
				const char *f2 = json_string_value(json_object_get(e, "fix"));
				if (f2 && strcmp(fix, f2) == 0) {
					snprintf(buf, sizeof buf, "As for %s above.",
					         json_string_value(json_object_get(e, "rule")));
					json_object_set_new(d, "fix", json_string(buf));
					break;
				}
			}
			if (i)
				putchar('\n');
			render_diag_text_one(stdout, d, 2);
			json_decref(d);
		}
	}
	if (p->has_fix) {
		const struct cert_fix *f = &p->fix;
		printf("\nFix for this store:\n");
		if (f->advice) {
			print_item(2, "(a) ", f->advice);
		}
		if (p->opts.purpose == CERT_PURPOSE_L2TP) {
			if (f->ncmds) {
				snprintf(buf, sizeof buf, "%s: stop the automatic L2TP IPsec policy and add a "
				         "manual rule that accepts only computer certificates from %s (%s). "
				         "On the server, from an elevated prompt:",
				         f->single >= 0 && f->single == p->picked && f->nremove == 0
				         ? "To keep a later change of the store from changing the pick, take "
				           "the choice away from the server"
				         : "Or keep the store and take the choice away from the server",
				         f->ca_name, f->ca_from);
				print_item(2, "(b) ", buf);
				for (size_t i = 0; i < f->ncmds; i++)
					printf("      %s\n", f->cmds[i]);
			}
			if (f->note) {
				print_item(2, "(b) ", f->note);
			}
		}
	}
}

/* ---- the command ---------------------------------------------------------------------- */

int cmd_cert_pick(struct cmd_args *a)
{
	struct config *cfg = NULL;
	struct ruleset *rs = NULL;
	struct facts *facts = NULL;
	int rc = EXIT_USAGE;
	struct cert_store *store = NULL, *client_store = NULL;
	STACK_OF(X509) *client_cas = NULL;
	struct cert_problem *ca_probs = NULL;
	size_t nca_probs = 0;
	struct cert_pick pick;
	bool have_pick = false;
	struct diag_err err;

	if (a->config && !(cfg = load_config(a->config)))
		goto out;
	const char *store_dir = args_get(a, "--store");
	const char *client_ca = args_get(a, "--client-ca");
	const char *server_name = args_get(a, "--server-name");
	if (cfg) {
		if (!store_dir) store_dir = cfg->certs.store_path;
		if (!client_ca) client_ca = cfg->certs.client_ca_path;
		if (!server_name) server_name = cfg->certs.server_name;
	}
	const char *client_store_dir = args_get(a, "--client-store");
	const char *endpoint = args_get(a, "--endpoint");
	const char *purpose_s = args_get(a, "--purpose");
	const char *pass = args_get(a, "--pass");
	if (!pass)
		pass = getenv("VNET_P12_PASS");
	if (!store_dir) {
		out_err(NULL, 0, 0, "cert pick: --store DIR is required (or \"certs\": {\"store\": ...} "
		        "in the --config file)");
		goto out;
	}
	struct cert_pick_opts o = {0};
	o.purpose = CERT_PURPOSE_L2TP;
	if (purpose_s) {
		int pu = cert_purpose_parse(purpose_s);
		if (pu < 0) {
			out_err(NULL, 0, 0, "cert pick: --purpose '%s': expected l2tp, ikev2, sstp or "
			        "iphttps", purpose_s);
			goto out;
		}
		o.purpose = (enum cert_purpose)pu;
	}
	o.at = (int64_t)time(NULL);
	if (args_get(a, "--at") && cert_parse_time(args_get(a, "--at"), &o.at, &err)) {
		out_err(NULL, 0, 0, "cert pick: --at '%s': %s", args_get(a, "--at"), err.reason);
		goto out;
	}
	if (endpoint && !cert_endpoint_valid(endpoint)) {
		out_err(NULL, 0, 0, "cert pick: --endpoint '%s': expected an IPv4 or IPv6 address "
		        "(optionally /PREFIX)", endpoint);
		goto out;
	}
	if (client_store_dir && o.purpose != CERT_PURPOSE_L2TP) {
		out_err(NULL, 0, 0, "cert pick: --client-store is for --purpose l2tp (the client's "
		        "computer certificate for IPsec main mode)");
		goto out;
	}
	if (server_name && !*server_name) {
		out_err(NULL, 0, 0, "cert pick: --server-name is empty");
		goto out;
	}
	o.server_name = server_name;
	o.fix = args_has(a, "--fix");
	o.endpoint = endpoint;

	char *problems = NULL;
	rs = rules_load(a->rules_dir, &problems);
	if (!rs) {
		out_err_lines(problems, a->rules_dir, "the knowledge base does not load");
		free(problems);
		goto out;
	}
	free(problems);

	store = certstore_load(store_dir, pass, &err);
	if (!store) {
		/* a failing roots/ or intermediates/ is named in the reason already */
		size_t sl = strlen(store_dir);
		bool named = !strncmp(err.reason, store_dir, sl) && err.reason[sl] == '/';
		out_err(named ? NULL : store_dir, 0, 0, "%s", err.reason);
		goto out;
	}
	/* A bundle or key the password does not open is an input error: without it the
	 * store would be judged without a certificate the server has. */
	bool pw_bad = false;
	for (size_t i = 0; i < store->nproblems; i++) {
		const struct cert_problem *pr = &store->problems[i];
		out_err(NULL, 0, 0, "%s/%s: %s%s", store_dir, pr->file, pr->reason,
		        pr->password ? "" : " (skipped)");
		pw_bad |= pr->password;
	}
	if (pw_bad)
		goto out;
	if (client_ca) {
		client_cas = certstore_load_cas(client_ca, pass, &ca_probs, &nca_probs, &err);
		if (!client_cas) {
			out_err(client_ca, 0, 0, "%s", err.reason);
			goto out;
		}
		for (size_t i = 0; i < nca_probs; i++) {
			out_err(ca_probs[i].file, 0, 0, "%s%s", ca_probs[i].reason,
			        ca_probs[i].password ? "" : " (skipped)");
			pw_bad |= ca_probs[i].password;
		}
		if (pw_bad)
			goto out;
		if (sk_X509_num(client_cas) == 0) {
			out_err(client_ca, 0, 0, "no CA certificate found");
			goto out;
		}
		o.client_cas = client_cas;
		o.client_ca_source = client_ca;
	}
	if (client_store_dir) {
		client_store = certstore_load(client_store_dir, pass, &err);
		if (!client_store) {
			size_t sl = strlen(client_store_dir);
			bool named = !strncmp(err.reason, client_store_dir, sl) &&
			             err.reason[sl] == '/';
			out_err(named ? NULL : client_store_dir, 0, 0, "%s", err.reason);
			goto out;
		}
		for (size_t i = 0; i < client_store->nproblems; i++) {
			const struct cert_problem *pr = &client_store->problems[i];
			out_err(NULL, 0, 0, "%s/%s: %s%s", client_store_dir, pr->file, pr->reason,
			        pr->password ? "" : " (skipped)");
			pw_bad |= pr->password;
		}
		if (pw_bad)
			goto out;
		o.client_store = client_store;
	}
	if (cert_pick_run(store, &o, &pick, &err)) {
		out_err(NULL, 0, 0, "cert pick: %s", err.reason);
		goto out;
	}
	have_pick = true;

	char at_s[40];
	cert_format_time(o.at, at_s, sizeof at_s);
	json_t *j = pick_json(&pick, client_ca, at_s);
	if (!(facts = facts_new())) {
		json_decref(j);
		out_err(NULL, 0, 0, "out of memory");
		goto out;
	}
	cert_pick_facts(&pick, facts);
	json_object_set_new(j, "diagnoses", render_diag_facts(rs, facts, 0));
	if (a->json)
		out_json(j);
	else
		print_text(&pick, client_ca, at_s, json_object_get(j, "diagnoses"));
	json_decref(j);
	rc = pick.client.accepted ? EXIT_YES : EXIT_NO;
out:
	if (have_pick)
		cert_pick_free(&pick);
	certstore_free(store);
	certstore_free(client_store);
	if (client_cas)
		sk_X509_pop_free(client_cas, X509_free);
	for (size_t i = 0; i < nca_probs; i++) {
		free(ca_probs[i].file);
		free(ca_probs[i].reason);
	}
	free(ca_probs);
	facts_free(facts);
	rules_free(rs);
	config_free(cfg);
	return rc;
}
