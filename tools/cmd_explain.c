/* vnet pcap explain: the story of each VPN session in a capture and why it failed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "dissect.h"
#include "explain.h"
#include "ikedecrypt.h"
#include "out.h"
#include "pcapin.h"
#include "render_diag.h"
#include "rules.h"
#include "session.h"

#define MAX_DIAG 8

static void frag_report(void *arg, const struct ipfrag_report *rep)
{
	struct sess_table *t = arg;
	sess_frag_incomplete(t, rep->key.version, rep->key.src, rep->key.dst, rep->key.proto,
	                     rep->first_frame);
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static double us(const json_t *o, const char *k)
{
	return (double)json_integer_value(json_object_get(o, k)) / 1e6;
}

static void print_duration(char *buf, size_t n, double s)
{
	snprintf(buf, n, "%.3fs", s);
}

static void table_row(struct out_table *tb, const json_t *s)
{
	char id[16], err[16], dur[32];
	snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(s, "id")));
	json_t *e = json_object_get(s, "error");
	if (json_is_integer(e))
		snprintf(err, sizeof err, "%lld", (long long)json_integer_value(e));
	else
		snprintf(err, sizeof err, "-");
	print_duration(dur, sizeof dur, us(s, "duration_us"));
	const char *user = jstr(s, "user");
	const char *phase = jstr(s, "failed_phase");
	const char *cells[9] = {id, jstr(s, "protocol"), jstr(s, "client"), jstr(s, "server"),
	                        *user ? user : "-", jstr(s, "outcome"), *phase ? phase : "-",
	                        err, dur};
	out_table_add(tb, cells);
}

/* A failed session, or one with anomalies or warnings. */
static bool worth_showing(const json_t *s)
{
	return strcmp(jstr(s, "outcome"), "success") ||
	       json_array_size(json_object_get(s, "anomalies")) ||
	       json_array_size(json_object_get(s, "diagnoses"));
}

static void print_indented(const char *txt, int indent)
{
	const char *p = txt;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		printf("%*s%.*s%s", indent, "", (int)n, p, e ? "\n" : "");
		p += n + (e ? 1 : 0);
	}
}

static json_t *session_result(struct sess_table *t, const struct vsess *s,
                              const struct ruleset *rs, struct facts *facts)
{
	struct rule_match m[MAX_DIAG];
	size_t nm = explain_diagnose(t, s, rs, facts, m, MAX_DIAG);
	json_t *j = explain_session_json(t, s, m, nm);
	json_object_set_new(j, "diagnoses", render_diag_json(m, nm));
	return j;
}

static json_t *keys_json(const struct ike_keys *keys, const struct sess_table *t)
{
	json_t *kj = json_object();
	json_object_set_new(kj, "ikev2_keys", json_integer((json_int_t)ike_keys_count_v2(keys)));
	json_object_set_new(kj, "ikev1_keys", json_integer((json_int_t)ike_keys_count_v1(keys)));
	json_object_set_new(kj, "decrypted", json_integer((json_int_t)sess_decrypted(t)));
	json_object_set_new(kj, "failed", json_integer((json_int_t)sess_undecryptable(t)));
	return kj;
}

static void print_block(const json_t *s)
{
	const char *outcome = jstr(s, "outcome");
	bool failed = !strcmp(outcome, "failed");
	printf("\n%sSession %lld%s: %s, client %s, server %s", out_c(C_BOLD),
	       (long long)json_integer_value(json_object_get(s, "id")), out_c(C_RESET),
	       jstr(s, "protocol"), jstr(s, "client"), jstr(s, "server"));
	if (*jstr(s, "user"))
		printf(", user %s", jstr(s, "user"));
	printf("\n");
	if (failed) {
		printf("  %sfailed%s in %s", out_c(C_RED), out_c(C_RESET), jstr(s, "failed_phase"));
		json_t *e = json_object_get(s, "error");
		if (json_is_integer(e))
			printf("; the client shows error %lld", (long long)json_integer_value(e));
		printf("\n");
	} else {
		printf("  %ssucceeded%s\n", out_c(C_GREEN), out_c(C_RESET));
	}
	printf("  phases:\n");
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(s, "phases"), i, p) {
		const char *po = jstr(p, "outcome");
		enum out_color c = !strcmp(po, "failed") ? C_RED : !strcmp(po, "ok") ? C_GREEN : C_YELLOW;
		long long f0 = (long long)json_integer_value(json_object_get(p, "first_frame"));
		long long f1 = (long long)json_integer_value(json_object_get(p, "last_frame"));
		char fr[48];
		if (f0 == f1)
			snprintf(fr, sizeof fr, "frame %lld", f0);
		else
			snprintf(fr, sizeof fr, "frames %lld-%lld", f0, f1);
		printf("    %-28s %s%-10s%s %-14s at %.3fs for %.3fs, %lld packet%s",
		       jstr(p, "title"), out_c(c), po, out_c(C_RESET), fr,
		       us(p, "start_us"), us(p, "duration_us"),
		       (long long)json_integer_value(json_object_get(p, "packets")),
		       json_integer_value(json_object_get(p, "packets")) == 1 ? "" : "s");
		json_int_t rt = json_integer_value(json_object_get(p, "retransmissions"));
		if (rt)
			printf(", %lld retransmitted", (long long)rt);
		printf("\n");
		if (*jstr(p, "note"))
			printf("      %s\n", jstr(p, "note"));
	}
	json_t *facts = json_object_get(s, "facts");
	if (json_array_size(facts)) {
		printf("  facts:\n");
		json_t *f;
		json_array_foreach(facts, i, f) {
			json_t *v = json_object_get(f, "value");
			char vb[64];
			if (json_is_string(v))
				snprintf(vb, sizeof vb, "%s", json_string_value(v));
			else if (json_is_integer(v))
				snprintf(vb, sizeof vb, "%lld", (long long)json_integer_value(v));
			else
				snprintf(vb, sizeof vb, "%s", json_is_true(v) ? "true" : "false");
			printf("    %s = %s (frame %lld)\n", jstr(f, "key"), vb,
			       (long long)json_integer_value(json_object_get(f, "frame")));
		}
	}
	json_t *an = json_object_get(s, "anomalies");
	if (json_array_size(an)) {
		printf("  anomalies:\n");
		json_t *a;
		json_array_foreach(an, i, a)
			printf("    %s\n", json_string_value(a));
	}
	json_t *d = json_object_get(s, "diagnoses");
	if (json_array_size(d)) {
		printf("  diagnoses:\n");
		render_diag_text(stdout, d, 4);
	} else if (failed) {
		printf("  no rule of the knowledge base explains this failure\n");
	}
}

static bool parse_id(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v == 0 || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

int cmd_pcap_explain(struct cmd_args *a)
{
	const char *path = a->pos[0];
	uint32_t only = 0;
	const char *sid = args_get(a, "--session");
	if (sid && !parse_id(sid, &only)) {
		out_err(NULL, 0, 0, "--session: '%s' is not a session number", sid);
		return EXIT_USAGE;
	}
	struct ike_keys *keys = NULL;
	const char *kf = args_get(a, "--keys");
	if (kf) {
		char kerr[256];
		keys = ike_keys_load(kf, kerr, sizeof kerr);
		if (!keys) {
			out_err(NULL, 0, 0, "--keys: %s", kerr);
			return EXIT_USAGE;
		}
	}
	char *problems = NULL;
	struct ruleset *rs = rules_load(a->rules_dir, &problems);
	if (!rs) {
		out_err(a->rules_dir, 0, 0, "rules do not load:\n%s", problems ? problems : "");
		free(problems);
		ike_keys_free(keys);
		return EXIT_USAGE;
	}
	free(problems);
	struct pcapin in;
	if (pcapin_open(&in, path) < 0) {
		out_err(NULL, 0, 0, "%s", in.err);
		rules_free(rs);
		ike_keys_free(keys);
		return EXIT_USAGE;
	}
	if (!net_link_supported(in.dlt))
		out_err(path, 0, 0, "link type %d is not supported: its frames are skipped", in.dlt);
	struct dissect *d = dissect_new(NULL);
	struct sess_table *t = sess_table_new(path);
	struct facts *facts = facts_new();
	if (!d || !t || !facts || (keys && sess_set_keys(t, keys) < 0)) {
		out_err(NULL, 0, 0, "out of memory");
		dissect_free(d);
		sess_table_free(t);
		facts_free(facts);
		pcapin_close(&in);
		rules_free(rs);
		ike_keys_free(keys);
		return EXIT_USAGE;
	}
	dissect_set_frag_report(d, frag_report, t);
	int rc = EXIT_YES;
	struct pcapin_pkt pk;
	for (;;) {
		int n = pcapin_next(&in, &pk);
		if (n == 0)
			break;
		if (n < 0) {
			out_err(path, 0, 0, "capture breaks off %s", in.err);
			rc = EXIT_USAGE;
			break;
		}
		const struct dl_pkt *p = dissect_packet(d, in.dlt, pk.frame, pk.ts_ns, pk.rel_ns,
		                                        pk.data, pk.caplen, pk.origlen);
		if (!p->link_skipped)
			sess_packet(t, p);
	}
	dissect_finish(d);
	explain_finish(t);

	if (only && !sess_find_id(t, only)) {
		out_err(NULL, 0, 0, "--session %u: the capture has %zu session%s", only,
		        sess_count(t), sess_count(t) == 1 ? "" : "s");
		rc = EXIT_USAGE;
		goto out;
	}
	/* One session at a time: its JSON is built, printed (or reduced to a table row)
	 * and freed, so the output never holds every session at once. */
	size_t nshown = 0, nfailed = 0, nanom = 0;
	for (size_t i = 0; i < sess_count(t); i++) {
		struct vsess *s = sess_at(t, i);
		if (only && s->id != only)
			continue;
		nshown++;
		if (explain_failed_phase(s) != PH_COUNT)
			nfailed++;
	}
	if (rc == EXIT_YES && nfailed)
		rc = EXIT_NO;
	if (a->json) {
		json_t *head = json_object();
		json_object_set_new(head, "file", json_string(path));
		json_object_set_new(head, "packets", json_integer((json_int_t)sess_packets(t)));
		if (keys)
			json_object_set_new(head, "decryption", keys_json(keys, t));
		char *h = json_dumps(head, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(head);
		if (!h) {
			out_err(NULL, 0, 0, "out of memory");
			rc = EXIT_USAGE;
			goto out;
		}
		h[strlen(h) - 2] = 0; /* drop "\n}" to continue the object */
		printf("%s,\n  \"sessions\": [", h);
		free(h);
	} else {
		printf("%s: %llu packets, %zu session%s, %zu failed\n", path,
		       (unsigned long long)sess_packets(t), nshown, nshown == 1 ? "" : "s", nfailed);
		if (keys)
			printf("keys: %zu IKEv2 SA%s, %zu IKEv1 SA%s; %llu message%s decrypted, "
			       "%llu failed\n",
			       ike_keys_count_v2(keys), ike_keys_count_v2(keys) == 1 ? "" : "s",
			       ike_keys_count_v1(keys), ike_keys_count_v1(keys) == 1 ? "" : "s",
			       (unsigned long long)sess_decrypted(t),
			       sess_decrypted(t) == 1 ? "" : "s", (unsigned long long)sess_undecryptable(t));
	}
	static const char *const hdr[] = {"ID", "PROTOCOL", "CLIENT", "SERVER", "USER",
	                                  "OUTCOME", "PHASE", "ERROR", "DURATION"};
	struct out_table *tb = a->json ? NULL : out_table_new(9, hdr);
	bool all = args_count(a, "-v") > 0 || only;
	size_t k = 0;
	/* pass 1: JSON records, or the table's rows */
	for (size_t i = 0; i < sess_count(t); i++) {
		struct vsess *s = sess_at(t, i);
		if (only && s->id != only)
			continue;
		json_t *j = session_result(t, s, rs, facts);
		bool anomalous = explain_failed_phase(s) == PH_COUNT && worth_showing(j);
		nanom += anomalous;
		if (a->json) {
			char *txt = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			printf("%s\n", k++ ? "," : "");
			print_indented(txt ? txt : "null", 4);
			free(txt);
		} else {
			table_row(tb, j);
		}
		json_decref(j);
	}
	if (a->json) {
		printf("%s],\n  \"summary\": {\n    \"sessions\": %zu,\n    \"failed\": %zu,\n"
		       "    \"anomalous\": %zu\n  }\n}\n", k ? "\n  " : "", nshown, nfailed, nanom);
		goto out;
	}
	if (nshown) {
		printf("\n");
		out_table_print(tb, stdout, 0);
	}
	out_table_free(tb);
	/* pass 2: one block per failed or anomalous session (every session with -v) */
	for (size_t i = 0; i < sess_count(t); i++) {
		struct vsess *s = sess_at(t, i);
		if (only && s->id != only)
			continue;
		json_t *j = session_result(t, s, rs, facts);
		if (all || worth_showing(j))
			print_block(j);
		json_decref(j);
	}
out:
	facts_free(facts);
	sess_table_free(t);
	dissect_free(d);
	pcapin_close(&in);
	rules_free(rs);
	ike_keys_free(keys);
	return rc;
}
