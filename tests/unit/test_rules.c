/* The rule file parser, the loader and the matcher. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rules/facts.h"
#include "render_diag.h"
#include "rules/rules.h"

#define FIXTURES VNET_SOURCE_DIR "/tests/unit/rules-fixtures"

/* A ruleset from one rule text named `id`.rule. */
static struct ruleset *one(const char *id, const char *text, char **problems)
{
	char name[128];
	snprintf(name, sizeof name, "mem/%s.rule", id);
	return rules_load_buffer(name, text, strlen(text), problems);
}

static struct ruleset *one_when(const char *when)
{
	char text[1024];
	snprintf(text, sizeof text,
	         "id: t.rule\ntitle: T\nseverity: info\n%scause: c\nfix: f\n", when);
	char *pb = NULL;
	struct ruleset *rs = one("t.rule", text, &pb);
	if (!rs)
		fprintf(stderr, "%s", pb ? pb : "(no problems)\n");
	free(pb);
	ck_assert_ptr_nonnull(rs);
	return rs;
}

static bool holds(struct ruleset *rs, struct facts *f)
{
	struct rule_match m[4];
	return rules_match(rs, f, m, 4) == 1;
}

START_TEST(parses_all_keys)
{
	const char *text =
		"# a comment\n"
		"id: area.some-thing\n"
		"title: A title\n"
		"errors: 787, 13801\n"
		"errors: 835\n"
		"severity: warning\n"
		"priority: 70\n"
		"inferred: true\n"
		"when: a.b == x\n"
		"when: exists c.d\n"
		"cause:\n"
		"  First line\n"
		"  continues here.\n"
		"\n"
		"  Second paragraph.\n"
		"fix: Run this:\n"
		"  then\n"
		"    netsh ras show client\n"
		"  done.\n"
		"refs: KB 2855053; RFC 2661 section 4.4.2\n";
	char *pb = NULL;
	struct ruleset *rs = one("area.some-thing", text, &pb);
	ck_assert_msg(rs != NULL, "%s", pb ? pb : "");
	ck_assert_uint_eq(rules_count(rs), 1);
	const struct rule *r = rules_find(rs, "area.some-thing");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->title, "A title");
	ck_assert_uint_eq(r->nerrors, 3);
	ck_assert_int_eq(r->errors[0], 787);
	ck_assert_int_eq(r->errors[1], 13801);
	ck_assert_int_eq(r->errors[2], 835);
	ck_assert_int_eq(r->severity, 1);
	ck_assert_int_eq(r->priority, 70);
	ck_assert(r->inferred);
	ck_assert_uint_eq(r->nwhen, 2);
	ck_assert_str_eq(r->when[1], "exists c.d");
	ck_assert_str_eq(r->cause, "First line continues here.\n\nSecond paragraph.");
	ck_assert_str_eq(r->fix, "Run this: then\n  netsh ras show client\ndone.");
	ck_assert_uint_eq(r->nrefs, 2);
	ck_assert_str_eq(r->refs[0], "KB 2855053");
	ck_assert_str_eq(r->refs[1], "RFC 2661 section 4.4.2");
	ck_assert_int_eq(r->line, 2);
	ck_assert_str_eq(r->file, "mem/area.some-thing.rule");
	ck_assert_str_eq(rules_pattern_key(r, 0), "a.b");
	ck_assert_ptr_null(rules_pattern_key(r, 2));
	rules_free(rs);
}
END_TEST

START_TEST(op_equality_on_strings_ints_bools)
{
	struct ruleset *rs = one_when("when: policy.reason == pool-exhausted\n");
	struct facts *f = facts_new();
	facts_add_str(f, "policy.reason", "no-ports", NULL);
	ck_assert(!holds(rs, f));
	facts_reset(f);
	facts_add_str(f, "policy.reason", "pool-exhausted", NULL);
	ck_assert(holds(rs, f));
	rules_free(rs);

	rs = one_when("when: mschap.error == 691\n");
	facts_reset(f);
	facts_add_int(f, "mschap.error", 691, NULL);
	ck_assert(holds(rs, f));
	facts_reset(f);
	facts_add_int(f, "mschap.error", 649, NULL);
	ck_assert(!holds(rs, f));
	rules_free(rs);

	rs = one_when("when: title == \"two words\"\n");
	facts_reset(f);
	facts_add_str(f, "title", "two words", NULL);
	ck_assert(holds(rs, f));
	rules_free(rs);
	facts_free(f);
}
END_TEST

START_TEST(op_not_equal_needs_the_key)
{
	struct ruleset *rs = one_when("when: policy.decision != accept\n");
	struct facts *f = facts_new();
	ck_assert(!holds(rs, f)); /* absent: no value satisfies it */
	facts_add_str(f, "policy.decision", "accept", NULL);
	ck_assert(!holds(rs, f));
	facts_reset(f);
	facts_add_str(f, "policy.decision", "reject", NULL);
	ck_assert(holds(rs, f));
	rules_free(rs);
	facts_free(f);
}
END_TEST

START_TEST(op_numeric_comparisons)
{
	static const struct {
		const char *when;
		int64_t v;
		bool want;
	} cases[] = {
		{"when: n < 5\n", 4, true},   {"when: n < 5\n", 5, false},
		{"when: n <= 5\n", 5, true},  {"when: n <= 5\n", 6, false},
		{"when: n > 5\n", 6, true},   {"when: n > 5\n", 5, false},
		{"when: n >= 5\n", 5, true},  {"when: n >= 5\n", 4, false},
		{"when: n > -2\n", -1, true}, {"when: n < -2\n", -1, false},
	};
	struct facts *f = facts_new();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ruleset *rs = one_when(cases[i].when);
		facts_reset(f);
		facts_add_int(f, "n", cases[i].v, NULL);
		ck_assert_msg(holds(rs, f) == cases[i].want, "case %zu", i);
		rules_free(rs);
	}
	/* a string fact that is not a number never satisfies a comparison */
	struct ruleset *rs = one_when("when: n < 5\n");
	facts_reset(f);
	facts_add_str(f, "n", "three", NULL);
	ck_assert(!holds(rs, f));
	facts_reset(f);
	facts_add_str(f, "n", "3", NULL);
	ck_assert(holds(rs, f));
	rules_free(rs);
	facts_free(f);
}
END_TEST

START_TEST(op_set_membership)
{
	struct ruleset *rs = one_when("when: attempt.auth in {pap, chap , \"md 5\"}\n");
	struct facts *f = facts_new();
	facts_add_str(f, "attempt.auth", "chap", NULL);
	ck_assert(holds(rs, f));
	facts_reset(f);
	facts_add_str(f, "attempt.auth", "md 5", NULL);
	ck_assert(holds(rs, f));
	facts_reset(f);
	facts_add_str(f, "attempt.auth", "mschapv2", NULL);
	ck_assert(!holds(rs, f));
	rules_free(rs);

	rs = one_when("when: l2tp.cdn.result in {2, 4,5}\n");
	facts_reset(f);
	facts_add_int(f, "l2tp.cdn.result", 4, NULL);
	ck_assert(holds(rs, f));
	facts_reset(f);
	facts_add_int(f, "l2tp.cdn.result", 3, NULL);
	ck_assert(!holds(rs, f));
	rules_free(rs);
	facts_free(f);
}
END_TEST

START_TEST(op_regex)
{
	struct ruleset *rs = one_when("when: cert.picked =~ /^\\*\\.|wild/i\n");
	struct facts *f = facts_new();
	facts_add_str(f, "cert.picked", "certs/WILDcard.pem", NULL);
	ck_assert(holds(rs, f));
	facts_reset(f);
	facts_add_str(f, "cert.picked", "*.example.com", NULL);
	ck_assert(holds(rs, f));
	facts_reset(f);
	facts_add_str(f, "cert.picked", "vpn.example.com", NULL);
	ck_assert(!holds(rs, f));
	rules_free(rs);

	/* case-sensitive without the flag */
	rs = one_when("when: ike.notify =~ /^AUTH/\n");
	facts_reset(f);
	facts_add_str(f, "ike.notify", "authentication_failed", NULL);
	ck_assert(!holds(rs, f));
	facts_reset(f);
	facts_add_str(f, "ike.notify", "AUTHENTICATION_FAILED", NULL);
	ck_assert(holds(rs, f));
	rules_free(rs);
	/* numbers are matched as their text */
	rs = one_when("when: mschap.error =~ /^64[6-9]$/\n");
	facts_reset(f);
	facts_add_int(f, "mschap.error", 648, NULL);
	ck_assert(holds(rs, f));
	facts_reset(f);
	facts_add_int(f, "mschap.error", 691, NULL);
	ck_assert(!holds(rs, f));
	rules_free(rs);
	facts_free(f);
}
END_TEST

START_TEST(op_exists_absent_is)
{
	struct ruleset *rs = one_when("when: exists cert.picked\nwhen: absent policy.name\n");
	struct facts *f = facts_new();
	ck_assert(!holds(rs, f));
	facts_add_str(f, "cert.picked", "a.pem", NULL);
	ck_assert(holds(rs, f));
	facts_add_str(f, "policy.name", "p", NULL);
	ck_assert(!holds(rs, f));
	rules_free(rs);

	rs = one_when("when: ike.no_reply is true\n");
	facts_reset(f);
	facts_add_bool(f, "ike.no_reply", false, NULL);
	ck_assert(!holds(rs, f));
	facts_reset(f);
	facts_add_bool(f, "ike.no_reply", true, NULL);
	ck_assert(holds(rs, f));
	rules_free(rs);

	rs = one_when("when: ike.no_reply is false\n");
	ck_assert(!holds(rs, f));
	facts_reset(f);
	ck_assert(!holds(rs, f)); /* absent is not false */
	facts_add_bool(f, "ike.no_reply", false, NULL);
	ck_assert(holds(rs, f));
	rules_free(rs);
	facts_free(f);
}
END_TEST

START_TEST(op_not_over_sets)
{
	struct ruleset *rs = one_when("when: not server.auth_methods == eap\nwhen: attempt.auth == eap\n");
	struct facts *f = facts_new();
	facts_add_str(f, "attempt.auth", "eap", NULL);
	ck_assert(holds(rs, f)); /* no value at all: none is eap */
	facts_add_str(f, "server.auth_methods", "mschapv2", NULL);
	facts_add_str(f, "server.auth_methods", "chap", NULL);
	struct rule_match m[2];
	ck_assert_uint_eq(rules_match(rs, f, m, 2), 1);
	ck_assert_uint_eq(m[0].nevidence, 1); /* a negated pattern cites nothing */
	ck_assert_str_eq(m[0].evidence[0]->key, "attempt.auth");
	facts_add_str(f, "server.auth_methods", "eap", NULL);
	ck_assert(!holds(rs, f));
	rules_free(rs);

	rs = one_when("when: not ike.notify in {NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE}\n");
	facts_reset(f);
	facts_add_str(f, "ike.notify", "AUTHENTICATION_FAILED", NULL);
	ck_assert(holds(rs, f));
	facts_add_str(f, "ike.notify", "TS_UNACCEPTABLE", NULL);
	ck_assert(!holds(rs, f));
	rules_free(rs);

	rs = one_when("when: not absent x\n"); /* the same as exists */
	facts_reset(f);
	ck_assert(!holds(rs, f));
	facts_add_int(f, "x", 1, NULL);
	ck_assert(holds(rs, f));
	rules_free(rs);
	facts_free(f);
}
END_TEST

START_TEST(multi_valued_keys_and_evidence)
{
	struct ruleset *rs =
		one_when("when: ike.notify == AUTHENTICATION_FAILED\nwhen: ike.version == 2\n");
	struct facts *f = facts_new();
	struct evidence e1 = ev_packet("cap.pcap", 3, 28);
	struct evidence e2 = ev_packet("cap.pcap", 7, 28);
	facts_add_int(f, "ike.version", 2, NULL);
	facts_add_str(f, "ike.notify", "NO_PROPOSAL_CHOSEN", &e1);
	ck_assert(!holds(rs, f));
	facts_add_str(f, "ike.notify", "AUTHENTICATION_FAILED", &e2);
	struct rule_match m[2];
	ck_assert_uint_eq(rules_match(rs, f, m, 2), 1);
	ck_assert_uint_eq(m[0].nevidence, 2);
	ck_assert_str_eq(m[0].evidence[0]->key, "ike.notify");
	ck_assert_str_eq(m[0].evidence[0]->s, "AUTHENTICATION_FAILED");
	ck_assert_uint_eq(m[0].evidence[0]->ev.frame, 7);
	ck_assert_str_eq(m[0].evidence[1]->key, "ike.version");
	rules_free(rs);

	/* absent over a set: no value may exist */
	rs = one_when("when: absent ike.notify\n");
	ck_assert(!holds(rs, f));
	rules_free(rs);
	facts_free(f);
}
END_TEST

static const char *ranking_dir(void)
{
	return FIXTURES "/ranking";
}

START_TEST(ranking_specificity_priority_id)
{
	char *pb = NULL;
	struct ruleset *rs = rules_load_dir(ranking_dir(), &pb);
	ck_assert_msg(rs != NULL, "%s", pb ? pb : "");
	struct facts *f = facts_new();
	facts_add_str(f, "a", "1", NULL);
	facts_add_str(f, "b", "1", NULL);
	struct rule_match m[8];
	size_t n = rules_match(rs, f, m, 8);
	ck_assert_uint_eq(n, 4);
	/* two patterns beat one; then priority; then id */
	ck_assert_str_eq(m[0].rule->id, "r.two");
	ck_assert_str_eq(m[1].rule->id, "r.high");
	ck_assert_str_eq(m[2].rule->id, "r.low-a");
	ck_assert_str_eq(m[3].rule->id, "r.low-b");
	ck_assert_int_gt(m[0].score, m[1].score);
	ck_assert_int_gt(m[1].score, m[2].score);
	/* a short output keeps the best ones */
	ck_assert_uint_eq(rules_match(rs, f, m, 2), 2);
	ck_assert_str_eq(m[0].rule->id, "r.two");
	ck_assert_str_eq(m[1].rule->id, "r.high");
	/* rules_for_error: priority then id */
	const struct rule *by[8];
	ck_assert_uint_eq(rules_for_error(rs, 691, by, 8), 4);
	ck_assert_str_eq(by[0]->id, "r.none");
	ck_assert_str_eq(by[1]->id, "r.high");
	ck_assert_str_eq(by[2]->id, "r.low-a");
	ck_assert_str_eq(by[3]->id, "r.two");
	ck_assert_uint_eq(rules_for_error(rs, 691, by, 2), 2);
	ck_assert_str_eq(by[0]->id, "r.none");
	ck_assert_str_eq(by[1]->id, "r.high");
	ck_assert_uint_eq(rules_for_error(rs, 787, by, 8), 1);
	ck_assert_str_eq(by[0]->id, "r.low-a");
	ck_assert_uint_eq(rules_for_error(rs, 12345, by, 8), 0);
	facts_free(f);
	rules_free(rs);
}
END_TEST

/* Every problem of the malformed fixture directory, with its FILE:LINE: key. */
START_TEST(loader_reports_every_problem)
{
	char *pb = NULL;
	struct ruleset *rs = rules_load_dir(FIXTURES "/bad", &pb);
	ck_assert_ptr_null(rs);
	ck_assert_ptr_nonnull(pb);
	static const char *const want[] = {
		"/bad/bad.op.rule:4:7: when: unknown operator '~='",
		"/bad/bad.regex.rule:4:7: when: regex does not compile at offset",
		"/bad/dup/dup.a.rule:1:1: id: 'dup.a' already defined in",
		"/bad/bad.missing.rule:1:1: fix: missing (required)",
		"/bad/bad.missing.rule:1:1: severity: missing (required)",
		"/bad/misc.bad.rule:2:1: colour: unknown key",
		"/bad/misc.bad.rule:3:1: title: given twice (first on line 1)",
		"/bad/misc.bad.rule:4:9: errors: 'x12' is not a Windows error code",
		"/bad/misc.bad.rule:5:11: priority: '1000' is not an integer 0..999",
		"/bad/misc.bad.rule:6:7: when: 'is' takes true or false, not 'maybe'",
		"/bad/misc.bad.rule:7:7: when: '<' needs an integer, not 'ten'",
		"/bad/misc.bad.rule:8:7: when: 'in' takes a set",
		"/bad/misc.bad.rule:10:1: -: indented line outside a value",
		"/bad/misc.bad.rule:11:11: severity: 'fatal' is not info, warning or error",
		"/bad/misc.bad.rule:12:5: id: 'other.name' does not match the file name",
		"/bad/misc.bad.rule:15:7: when: unknown regex flag 'x'",
		"/bad/misc.bad.rule:16:3: -: expected 'key: value'",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_msg(strstr(pb, want[i]) != NULL, "missing \"%s\" in:\n%s", want[i], pb);
	size_t lines = 0;
	for (const char *p = pb; *p; p++)
		lines += *p == '\n';
	ck_assert_uint_eq(lines, sizeof want / sizeof want[0]);
	free(pb);
}
END_TEST

START_TEST(loader_rejects_missing_dir_and_empty_dir)
{
	char *pb = NULL;
	ck_assert_ptr_null(rules_load_dir(FIXTURES "/does-not-exist", &pb));
	ck_assert_ptr_nonnull(strstr(pb, "does-not-exist: No such file or directory"));
	free(pb);
	pb = NULL;
	ck_assert_ptr_null(rules_load_dir(FIXTURES "/empty", &pb));
	ck_assert_ptr_nonnull(strstr(pb, "no *.rule files"));
	free(pb);
}
END_TEST

static void inputs_nul_check(const char *text, size_t len)
{
	char *pb = NULL;
	ck_assert_ptr_null(rules_load_buffer("a.b.rule", text, len, &pb));
	ck_assert_ptr_nonnull(strstr(pb, "a.b.rule:2:1: -: NUL byte in line"));
	free(pb);
}

START_TEST(parser_survives_odd_input)
{
	static const char *const inputs[] = {
		"", "\n\n\n", "id", "id:", ":", "  x", "id: a.b\n\0title: x", "when: a ==\n",
		"when: a in {\n", "when: a in {}\n", "when: a =~ /\n", "when: a =~ /(/\n",
		"cause:\n\n\n", "id: \"\n", "when: exists\n", "when: a == \"b\n",
	};
	static const char with_nul[] = "id: a.b\n\0title: x";
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		char *pb = NULL;
		size_t len = strlen(inputs[i]);
		if (i == 6) { /* a NUL byte inside the text */
			inputs_nul_check(with_nul, sizeof with_nul - 1);
			continue;
		}
		struct ruleset *rs = rules_load_buffer("x.rule", inputs[i], len, &pb);
		ck_assert_msg(rs == NULL, "input %zu loaded", i);
		ck_assert_msg(pb && *pb, "input %zu: no problem reported", i);
		free(pb);
	}
}
END_TEST

START_TEST(diagnoses_render_as_json_and_text)
{
	const char *text = "id: r.x\ntitle: Pool empty\nerrors: 720, 733\nseverity: error\n"
	                   "inferred: true\nwhen: policy.reason == pool-exhausted\n"
	                   "when: server.pool.free <= 0\nwhen: exists user.known\n"
	                   "cause: No address is left in the pool for this client, so IPCP fails "
	                   "and the connection drops.\n"
	                   "fix: Add a range:\n  then\n    netsh ras ip add range from=10.0.0.1 to=10.0.0.254 and more words here\n"
	                   "refs: KB 323441\n";
	char *pb = NULL;
	struct ruleset *rs = one("r.x", text, &pb);
	ck_assert_msg(rs != NULL, "%s", pb ? pb : "");
	struct facts *f = facts_new();
	struct evidence ev = ev_config("server.pool");
	facts_add_str(f, "policy.reason", "pool-exhausted", NULL);
	facts_add_int(f, "server.pool.free", 0, &ev);
	facts_add_bool(f, "user.known", true, NULL);
	json_t *d = render_diag_facts(rs, f, 0);
	ck_assert_uint_eq(json_array_size(d), 1);
	json_t *o = json_array_get(d, 0);
	ck_assert_str_eq(json_string_value(json_object_get(o, "rule")), "r.x");
	ck_assert_str_eq(json_string_value(json_object_get(o, "severity")), "error");
	ck_assert(json_is_true(json_object_get(o, "inferred")));
	ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(o, "errors"), 1)), 733);
	json_t *evs = json_object_get(o, "evidence");
	ck_assert_uint_eq(json_array_size(evs), 3);
	json_t *e1 = json_array_get(evs, 1);
	ck_assert_str_eq(json_string_value(json_object_get(e1, "key")), "server.pool.free");
	ck_assert(json_is_integer(json_object_get(e1, "value"))); /* typed, not text */
	ck_assert_int_eq(json_integer_value(json_object_get(e1, "value")), 0);
	ck_assert_str_eq(json_string_value(json_object_get(e1, "evidence")), "config server.pool");
	ck_assert(json_is_true(json_object_get(json_array_get(evs, 2), "value")));
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(evs, 0), "evidence")), "");

	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	render_diag_text(m, d, 0);
	fclose(m);
	ck_assert_ptr_nonnull(strstr(buf, "[error] Pool empty (r.x) [inferred]\n"));
	ck_assert_ptr_nonnull(strstr(buf, "  Windows errors: 720, 733\n"));
	/* prose wrapped at 78 columns, the command kept on one line */
	ck_assert_ptr_nonnull(strstr(buf, "    No address is left in the pool for this client, so IPCP fails and the\n"
	                                  "    connection drops.\n"));
	ck_assert_ptr_nonnull(strstr(buf, "      netsh ras ip add range from=10.0.0.1 to=10.0.0.254 and more words here\n"));
	ck_assert_ptr_nonnull(strstr(buf, "    server.pool.free = 0  config server.pool\n"));
	ck_assert_ptr_nonnull(strstr(buf, "  References: KB 323441\n"));
	free(buf);
	json_decref(d);
	facts_free(f);
	rules_free(rs);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("rules");
	TCase *t = tcase_create("parse");
	tcase_add_test(t, parses_all_keys);
	tcase_add_test(t, loader_reports_every_problem);
	tcase_add_test(t, loader_rejects_missing_dir_and_empty_dir);
	tcase_add_test(t, parser_survives_odd_input);
	suite_add_tcase(s, t);
	t = tcase_create("match");
	tcase_add_test(t, op_equality_on_strings_ints_bools);
	tcase_add_test(t, op_not_equal_needs_the_key);
	tcase_add_test(t, op_numeric_comparisons);
	tcase_add_test(t, op_set_membership);
	tcase_add_test(t, op_regex);
	tcase_add_test(t, op_exists_absent_is);
	tcase_add_test(t, op_not_over_sets);
	tcase_add_test(t, multi_valued_keys_and_evidence);
	tcase_add_test(t, ranking_specificity_priority_id);
	tcase_add_test(t, diagnoses_render_as_json_and_text);
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
