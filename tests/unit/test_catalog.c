/* The catalogues and the shipped knowledge base as a whole: everything loads, every
 * code a rule names is catalogued, every policy reason and fact key is covered. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rules/catalog.h"
#include "rules/facts.h"
#include "rules/rules.h"

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	ck_assert_msg(fp != NULL, "cannot open %s", path);
	static char buf[256 * 1024];
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return strdup(buf);
}

START_TEST(catalog_parses_and_finds)
{
	const char *text = "# comment\n"
	                   "code: 787\n"
	                   "name: ERROR_OAKLEY_AUTH_FAIL\n"
	                   "message: one\n"
	                   "event: first event\n"
	                   "event: second event\n"
	                   "\n"
	                   "code: 691\n"
	                   "name: ERROR_AUTHENTICATION_FAILURE\n"
	                   "message: two\n"
	                   "inferred: true\n";
	char *pb = NULL;
	struct catalog *c = catalog_load_buffer("t.cat", text, strlen(text), CATALOG_WINDOWS, &pb);
	ck_assert_msg(c != NULL, "%s", pb ? pb : "");
	ck_assert_uint_eq(catalog_count(c), 2);
	ck_assert_int_eq(catalog_at(c, 0)->code, 691); /* sorted by code */
	const struct catalog_entry *e = catalog_find(c, 787);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->name, "ERROR_OAKLEY_AUTH_FAIL");
	ck_assert_uint_eq(e->nevents, 2);
	ck_assert_str_eq(e->events[1], "second event");
	ck_assert(!e->inferred);
	ck_assert_int_eq(e->line, 2);
	ck_assert(catalog_find(c, 691)->inferred);
	ck_assert_ptr_eq(catalog_find_name(c, "error_oakley_auth_fail"), e);
	ck_assert_ptr_null(catalog_find(c, 788));
	ck_assert_ptr_null(catalog_find_name(c, "ERROR_OAKLEY"));
	catalog_free(c);
}
END_TEST

START_TEST(catalog_reports_problems_with_lines)
{
	const char *text = "name: ERROR_X\n"      /* 1: before any code */
	                   "code: 12x\n"          /* 2 */
	                   "code: 5\n"            /* 3: no name, no message */
	                   "code: 6\n"            /* 4 */
	                   "name: lower_case\n"   /* 5 */
	                   "message: m\n"
	                   "colour: red\n"        /* 7 */
	                   "code: 7\n"            /* 8 */
	                   "name: ERROR_SEVEN\n"
	                   "message: m\n"
	                   "code: 7\n"            /* 11: duplicate */
	                   "name: ERROR_SEVEN\n"
	                   "message: m\n";
	char *pb = NULL;
	struct catalog *c = catalog_load_buffer("t.cat", text, strlen(text), CATALOG_WINDOWS, &pb);
	ck_assert_ptr_null(c);
	static const char *const want[] = {
		"t.cat:1:1: name: outside a record",
		"t.cat:2:7: code: '12x' is not a code",
		"t.cat:3:1: message: missing for code 5",
		"t.cat:3:1: name: missing for code 5",
		"t.cat:5:7: name: 'lower_case' is not an UPPER_CASE symbol",
		"t.cat:7:1: colour: unknown key",
		"t.cat:4:1: name: missing for code 6",
		"t.cat:11:7: code: 7 already listed on line 8",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_msg(strstr(pb, want[i]) != NULL, "missing \"%s\" in:\n%s", want[i], pb);
	free(pb);
	/* NPS entries need no symbolic name */
	const char *nps = "code: 48\nmessage: no policy\n";
	c = catalog_load_buffer("n.cat", nps, strlen(nps), CATALOG_NPS, NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(catalog_find(c, 48)->name, "");
	catalog_free(c);
}
END_TEST

/* Codes as people write them; never octal. */
START_TEST(catalog_code_forms)
{
	int64_t v = 0;
	ck_assert(catalog_parse_code("787", &v) && v == 787);
	ck_assert(catalog_parse_code("0x313", &v) && v == 787);
	ck_assert(catalog_parse_code("0x800B0109", &v) && v == 0x800B0109LL);
	ck_assert(catalog_parse_code("0x800b0109", &v) && v == 0x800B0109LL);
	ck_assert(catalog_parse_code("2148204809", &v) && v == 0x800B0109LL);
	ck_assert(catalog_parse_code("-2146762487", &v) && v == 0x800B0109LL);
	ck_assert(!catalog_parse_code("0787", &v) || v == 787);
	ck_assert(!catalog_parse_code("100000", &v));
	ck_assert(!catalog_parse_code("0x1FFFFFFFF", &v));
	ck_assert(!catalog_parse_code("-2147483649", &v));
	ck_assert(!catalog_parse_code("0x", &v));
	ck_assert(!catalog_parse_code("abc", &v));
	ck_assert(!catalog_parse_code("", &v));
	char b[24];
	ck_assert_str_eq(catalog_code_str(787, b, sizeof b), "787");
	ck_assert_str_eq(catalog_code_str(0x800B0109LL, b, sizeof b), "0x800B0109");
	/* an HRESULT record in a catalogue */
	const char *t = "code: 0x800B0109\nname: CERT_E_UNTRUSTEDROOT\nmessage: m\n";
	struct catalog *c = catalog_load_buffer("h.cat", t, strlen(t), CATALOG_WINDOWS, NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(catalog_find(c, 2148204809LL));
	catalog_free(c);
}
END_TEST

/* Garbage in a catalogue is an error with file, line and column, never skipped. */
START_TEST(catalog_garbage_lines)
{
	const char *t = "code: 5\nname: ERROR_FIVE\nmessage: m\n"
	                "this is not a key\n"        /* 4: stops at column 5 */
	                "code: abc\n"                /* 5 */
	                "message: orphan\n"          /* 6: belongs to the rejected record */
	                "code: 6\nname: ERROR_SIX\nmessage: bad \xff byte\n"; /* 9 */
	char *pb = NULL;
	ck_assert_ptr_null(catalog_load_buffer("g.cat", t, strlen(t), CATALOG_WINDOWS, &pb));
	ck_assert_ptr_nonnull(pb);
	static const char *const want[] = {
		"g.cat:4:5: -: expected 'key: value'\n",
		"g.cat:5:7: code: 'abc' is not a code",
		"g.cat:9:14: -: not valid UTF-8\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_msg(strstr(pb, want[i]) != NULL, "missing \"%s\" in:\n%s", want[i], pb);
	ck_assert_msg(strstr(pb, ":6:") == NULL, "the orphan line is reported:\n%s", pb);
	free(pb);
}
END_TEST

START_TEST(embedded_catalogues_hold_the_known_codes)
{
	char *pb = NULL;
	struct catalog *w = catalog_load(CATALOG_WINDOWS, NULL, &pb);
	ck_assert_msg(w != NULL, "%s", pb ? pb : "");
	static const int win[] = {646, 647, 648, 649, 691, 709, 720, 721, 733, 735, 741, 742,
	                          787, 788, 789, 806, 809, 835, 13801, 13806};
	for (size_t i = 0; i < sizeof win / sizeof win[0]; i++)
		ck_assert_msg(catalog_find(w, win[i]) != NULL, "%d not catalogued", win[i]);
	ck_assert_str_eq(catalog_find(w, 787)->name, "ERROR_OAKLEY_AUTH_FAIL");
	ck_assert_str_eq(catalog_find(w, 809)->name, "ERROR_VPN_TIMEOUT");
	ck_assert_str_eq(catalog_find(w, 13801)->name, "ERROR_IPSEC_IKE_AUTH_FAIL");
	for (size_t i = 0; i < catalog_count(w); i++) {
		const struct catalog_entry *e = catalog_at(w, i);
		char cs[24];
		bool hr = e->code >= CATALOG_HRESULT_MIN;
		ck_assert_msg(hr ? !strncmp(e->name, "CERT_E_", 7) || !strncmp(e->name, "CRYPT_E_", 8)
		                 : !strncmp(e->name, "ERROR_", 6),
		              "%s: %s", catalog_code_str(e->code, cs, sizeof cs), e->name);
	}
	/* the certificate errors `cert pick` reports for SSTP and IP-HTTPS */
	ck_assert_str_eq(catalog_find(w, 0x800B0109LL)->name, "CERT_E_UNTRUSTEDROOT");
	ck_assert_str_eq(catalog_find(w, 0x800B010FLL)->name, "CERT_E_CN_NO_MATCH");
	catalog_free(w);

	struct catalog *n = catalog_load(CATALOG_NPS, NULL, &pb);
	ck_assert_msg(n != NULL, "%s", pb ? pb : "");
	static const int nps[] = {0, 16, 48, 49, 64, 65, 66};
	for (size_t i = 0; i < sizeof nps / sizeof nps[0]; i++)
		ck_assert_msg(catalog_find(n, nps[i]) != NULL, "NPS %d not catalogued", nps[i]);
	catalog_free(n);
}
END_TEST

START_TEST(rules_dir_and_embedded_copy_agree)
{
	char *pb = NULL;
	struct ruleset *dir = rules_load_dir(VNET_SOURCE_DIR "/rules", &pb);
	ck_assert_msg(dir != NULL, "%s", pb ? pb : "");
	struct diag_err err;
	struct ruleset *emb = rules_load_default(&err);
	ck_assert_msg(emb != NULL, "%s", err.reason);
	ck_assert_uint_eq(rules_count(dir), rules_count(emb));
	ck_assert_uint_ge(rules_count(emb), 100);
	for (size_t i = 0; i < rules_count(dir); i++) {
		const struct rule *a = rules_at(dir, i), *b = rules_at(emb, i);
		ck_assert_str_eq(a->id, b->id);
		ck_assert_str_eq(a->cause, b->cause);
		ck_assert_str_eq(a->fix, b->fix);
	}
	rules_free(dir);
	rules_free(emb);
}
END_TEST

START_TEST(every_error_a_rule_names_is_catalogued)
{
	struct diag_err err;
	struct ruleset *rs = rules_load_default(&err);
	ck_assert_ptr_nonnull(rs);
	struct catalog *w = catalog_load(CATALOG_WINDOWS, NULL, NULL);
	ck_assert_ptr_nonnull(w);
	for (size_t i = 0; i < rules_count(rs); i++) {
		const struct rule *r = rules_at(rs, i);
		for (size_t j = 0; j < r->nerrors; j++)
			ck_assert_msg(catalog_find(w, r->errors[j]) != NULL, "%s names %d", r->id,
			              r->errors[j]);
	}
	/* and the codes singled out as the common ones are explained by at least one rule */
	static const int explained[] = {646, 647, 648, 649, 691, 709, 720, 721, 733, 735, 741,
	                                742, 787, 789, 806, 809, 835, 13801, 13806};
	const struct rule *by[64];
	for (size_t i = 0; i < sizeof explained / sizeof explained[0]; i++)
		ck_assert_msg(rules_for_error(rs, explained[i], by, 64) > 0, "no rule for %d",
		              explained[i]);
	catalog_free(w);
	rules_free(rs);
}
END_TEST

/* The `policy.reason` codes listed in docs/facts.md. */
static size_t policy_reasons(char *doc, char **out, size_t max)
{
	char *p = strstr(doc, "`policy.reason` codes:");
	ck_assert_msg(p != NULL, "docs/facts.md lists no policy.reason codes");
	char *end = strstr(p, "\n\n");
	ck_assert_ptr_nonnull(end);
	*end = '\0';
	p += strlen("`policy.reason` codes:");
	size_t n = 0;
	while ((p = strchr(p, '`')) && n < max) {
		char *q = strchr(p + 1, '`');
		ck_assert_ptr_nonnull(q);
		*q = '\0';
		out[n++] = p + 1;
		p = q + 1;
	}
	return n;
}

START_TEST(every_policy_reason_has_a_rule)
{
	char *doc = slurp(VNET_SOURCE_DIR "/docs/facts.md");
	char *codes[64];
	size_t n = policy_reasons(doc, codes, 64);
	ck_assert_uint_ge(n, 30);
	struct diag_err err;
	struct ruleset *rs = rules_load_default(&err);
	struct facts *f = facts_new();
	struct rule_match m[8];
	for (size_t i = 0; i < n; i++) {
		facts_reset(f);
		facts_add_str(f, "policy.reason", codes[i], NULL);
		size_t k = rules_match(rs, f, m, 8);
		ck_assert_msg(k > 0, "no rule explains policy.reason %s", codes[i]);
		/* the best match cites the reason as its evidence */
		ck_assert_uint_ge(m[0].nevidence, 1);
		ck_assert_str_eq(m[0].evidence[0]->key, "policy.reason");
	}
	facts_free(f);
	rules_free(rs);
	free(doc);
}
END_TEST

START_TEST(every_fact_key_a_rule_uses_is_documented)
{
	char *doc = slurp(VNET_SOURCE_DIR "/docs/facts.md");
	struct diag_err err;
	struct ruleset *rs = rules_load_default(&err);
	for (size_t i = 0; i < rules_count(rs); i++) {
		const struct rule *r = rules_at(rs, i);
		const char *key;
		for (size_t j = 0; (key = rules_pattern_key(r, j)); j++) {
			char quoted[128];
			snprintf(quoted, sizeof quoted, "`%s`", key);
			ck_assert_msg(strstr(doc, quoted) != NULL, "%s uses %s, not in docs/facts.md",
			              r->id, key);
		}
	}
	rules_free(rs);
	free(doc);
}
END_TEST

/* A few representative situations and the rule that must come first. */
START_TEST(representative_situations_rank_the_specific_rule_first)
{
	struct diag_err err;
	struct ruleset *rs = rules_load_default(&err);
	struct facts *f = facts_new();
	struct rule_match m[8];

	/* 787 with a wildcard picked: the wildcard rule beats the generic 787 rule */
	facts_add_str(f, "cert.purpose", "l2tp", NULL);
	facts_add_str(f, "cert.picked", "store/1-wildcard.pem", NULL);
	facts_add_bool(f, "cert.picked.wildcard", true, NULL);
	facts_add_int(f, "cert.client.error", 787, NULL);
	ck_assert_uint_ge(rules_match(rs, f, m, 8), 2);
	ck_assert_str_eq(m[0].rule->id, "cert.wildcard");
	ck_assert_str_eq(m[1].rule->id, "cert.l2tp.error-787");

	/* both ends behind NAT: value 2, not the server-only rule */
	facts_reset(f);
	facts_add_bool(f, "nat.server_behind", true, NULL);
	facts_add_bool(f, "nat.client_behind", true, NULL);
	ck_assert_uint_ge(rules_match(rs, f, m, 8), 1);
	ck_assert_str_eq(m[0].rule->id, "nat.both-behind");

	/* no IKE reply: the port the requests went to decides, UDP 500 or (NAT-T) 4500;
	 * NAT seen in the client's NAT-D alone does not move unanswered requests on 500 */
	facts_reset(f);
	facts_add_bool(f, "ike.no_reply", true, NULL);
	ck_assert_uint_ge(rules_match(rs, f, m, 8), 1);
	ck_assert_str_eq(m[0].rule->id, "ike.no-reply");
	facts_add_bool(f, "nat.detected", true, NULL);
	facts_add_int(f, "ike.no_reply_port", 500, NULL);
	ck_assert_uint_ge(rules_match(rs, f, m, 8), 1);
	ck_assert_str_eq(m[0].rule->id, "ike.no-reply");
	/* requests move to 4500 once NAT was detected; with both ends seen behind NAT the
	 * silence on 4500 is still the first thing to fix */
	facts_reset(f);
	facts_add_bool(f, "ike.no_reply", true, NULL);
	facts_add_int(f, "ike.no_reply_port", 4500, NULL);
	facts_add_bool(f, "nat.detected", true, NULL);
	ck_assert_uint_ge(rules_match(rs, f, m, 8), 1);
	ck_assert_str_eq(m[0].rule->id, "ike.no-reply.nat-t");
	facts_add_bool(f, "nat.server_behind", true, NULL);
	facts_add_bool(f, "nat.client_behind", true, NULL);
	ck_assert_uint_ge(rules_match(rs, f, m, 8), 2);
	ck_assert_str_eq(m[0].rule->id, "ike.no-reply.nat-t");
	ck_assert_str_eq(m[1].rule->id, "nat.both-behind");
	/* NAT-T that the server answered rules out a client refusing it */
	facts_add_bool(f, "ike.natt_answered", true, NULL);
	for (size_t i = 0, n = rules_match(rs, f, m, 8); i < n; i++)
		ck_assert_str_ne(m[i].rule->id, "nat.both-behind");

	/* a KE payload of the wrong length: the cause of the silence, and of INVALID_KE */
	facts_reset(f);
	facts_add_bool(f, "ike.no_reply", true, NULL);
	facts_add_int(f, "ike.no_reply_port", 500, NULL);
	facts_add_bool(f, "ike.ke_mismatch", true, NULL);
	facts_add_str(f, "ike.ke_group", "MODP-2048", NULL);
	facts_add_int(f, "ike.ke_length", 192, NULL);
	facts_add_int(f, "ike.ke_expected", 256, NULL);
	facts_add_str(f, "ike.ke_from", "client", NULL);
	ck_assert_uint_ge(rules_match(rs, f, m, 8), 3);
	ck_assert_str_eq(m[0].rule->id, "ike.ke-length.no-reply");
	ck_assert_str_eq(m[1].rule->id, "ike.ke-length");
	facts_reset(f);
	facts_add_bool(f, "ike.invalid_ke", true, NULL);
	facts_add_bool(f, "ike.ke_mismatch", true, NULL);
	facts_add_str(f, "ike.ke_group", "MODP-2048", NULL);
	facts_add_int(f, "ike.ke_length", 192, NULL);
	facts_add_int(f, "ike.ke_expected", 256, NULL);
	facts_add_str(f, "ike.ke_from", "client", NULL);
	ck_assert_uint_ge(rules_match(rs, f, m, 8), 2);
	ck_assert_str_eq(m[0].rule->id, "ike.ke-length.invalid-ke");

	/* L2TP retries without IPsec */
	facts_reset(f);
	facts_add_bool(f, "l2tp.no_ack", true, NULL);
	facts_add_bool(f, "l2tp.in_ipsec", false, NULL);
	ck_assert_uint_ge(rules_match(rs, f, m, 8), 2);
	ck_assert_str_eq(m[0].rule->id, "l2tp.max-retries.no-ipsec");
	ck_assert_str_eq(m[1].rule->id, "l2tp.max-retries");

	/* an MS-CHAP failure code */
	facts_reset(f);
	facts_add_int(f, "mschap.error", 649, NULL);
	ck_assert_uint_eq(rules_match(rs, f, m, 8), 1);
	ck_assert_str_eq(m[0].rule->id, "mschap.error-649");

	/* nothing known: nothing matches */
	facts_reset(f);
	facts_add_str(f, "source", "pcap", NULL);
	ck_assert_uint_eq(rules_match(rs, f, m, 8), 0);
	facts_free(f);
	rules_free(rs);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("catalog");
	TCase *t = tcase_create("catalog");
	tcase_add_test(t, catalog_parses_and_finds);
	tcase_add_test(t, catalog_reports_problems_with_lines);
	tcase_add_test(t, catalog_code_forms);
	tcase_add_test(t, catalog_garbage_lines);
	tcase_add_test(t, embedded_catalogues_hold_the_known_codes);
	suite_add_tcase(s, t);
	t = tcase_create("knowledge-base");
	tcase_add_test(t, rules_dir_and_embedded_copy_agree);
	tcase_add_test(t, every_error_a_rule_names_is_catalogued);
	tcase_add_test(t, every_policy_reason_has_a_rule);
	tcase_add_test(t, every_fact_key_a_rule_uses_is_documented);
	tcase_add_test(t, representative_situations_rank_the_specific_rule_first);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
