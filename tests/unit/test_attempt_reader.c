/* Reading attempts one at a time: every input form, what happens after an invalid
 * attempt in each (go on or stop), positions across read boundaries, streams that arrive
 * in pieces, and a long input read in bounded memory. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "policy/attempt.h"
#include "policy/config.h"

static struct config *cfg;

static void setup(void)
{
	struct config_problems pr = {0};
	cfg = config_load(NULL, &pr);
	ck_assert_ptr_nonnull(cfg);
}

static void teardown(void)
{
	config_free(cfg);
}

#define A(u) "{\"user\": \"" u "\", \"tunnel\": \"pptp\", \"auth\": \"mschapv2\"}"

/* What the reader returns for `text`: "u:LINE" for an attempt, "!LINE:COL" for each
 * problem of an invalid one (0:0 for problems without a position), joined by spaces. */
static void run(const char *text, const char *want)
{
	struct attempt_reader *r = attempt_reader_mem(cfg, "t", text, strlen(text));
	char got[2048] = "";
	size_t o = 0;
	struct attempt a;
	int rc, guard = 0;
	while ((rc = attempt_reader_next(r, &a, NULL)) != 0 && guard++ < 1000)
		if (rc > 0) attempt_free(&a);
	attempt_reader_free(r);
	/* again with the problems collected */
	r = attempt_reader_mem(cfg, "t", text, strlen(text));
	struct config_problems pr = {0};
	while ((rc = attempt_reader_next(r, &a, &pr)) != 0) {
		if (rc > 0) {
			o += (size_t)snprintf(got + o, sizeof got - o, "%s%s:%d", o ? " " : "",
			                      a.user_name, a.line);
			attempt_free(&a);
		} else {
			for (size_t i = 0; i < pr.n; i++)
				o += (size_t)snprintf(got + o, sizeof got - o, "%s!%d:%d", o ? " " : "",
				                      pr.v[i].line, pr.v[i].col);
			config_problems_free(&pr);
			memset(&pr, 0, sizeof pr);
		}
	}
	attempt_reader_free(r);
	ck_assert_msg(strcmp(got, want) == 0, "input:\n%s\ngot:  %s\nwant: %s", text, got, want);
}

START_TEST(forms)
{
	run(A("a"), "a:1");
	run("\n\n  " A("a") "\n", "a:3");
	run(A("a") "\n" A("b") "\n\n" A("c"), "a:1 b:2 c:4");
	run("[" A("a") ",\n " A("b") "\n]\n", "a:1 b:2");
	run("{\n \"user\": \"a\", \"tunnel\": \"pptp\",\n \"auth\": \"pap\"}\n"
	    "{\"user\": \"b\",\n \"tunnel\": \"pptp\", \"auth\": \"pap\"}", "a:1 b:4");
	/* a byte-order mark before the first attempt */
	run("\xef\xbb\xbf" A("a"), "a:1");
	run("", "!0:0");
	run(" \n ", "!0:0");
	run("[]", "!0:0");
	run("[ ]\n", "!0:0");
}
END_TEST

START_TEST(json_lines_go_on_after_a_bad_line)
{
	/* syntax error, an unterminated object, a valid value with a bad field, a value
	 * followed by junk on its line: each is reported at its line and the next line read */
	run(A("a") "\n{\"user\": \"b\" \"tunnel\": 1}\n" A("c") "\n{\"user\": \"d\",\n"
	    A("e") "\n{\"user\": \"f\", \"tunnel\": \"gre\", \"auth\": \"pap\"}\n" A("g") " x\n"
	    A("h"),
	    "a:1 !2:21 c:3 !4:13 e:5 !6:25 g:7 !7:53 h:8");
	/* a broken first line: still JSON lines because the next line starts an object */
	run("{\"user\": \"a\"\n" A("b") "\n", "!1:12 b:2");
	/* a string that does not end on its line */
	run(A("a") "\n{\"user\": \"b\n" A("c"), "a:1 !2:11 c:3");
}
END_TEST

START_TEST(arrays_go_on_after_a_bad_element_and_stop_when_broken)
{
	run("[" A("a") ",\n {\"user\": 1, \"tunnel\": \"pptp\", \"auth\": \"pap\"},\n " A("c") "]",
	    "a:1 !2:11 c:3");
	run("[" A("a") ",\n {\"user\": \"b\" \"x\"},\n " A("c") "]", "a:1 !2:17 c:3");
	/* the structure breaks: nothing after it can be placed */
	run("[" A("a") "\n " A("b") "]", "a:1 !2:2");
	run("[" A("a") ",\n " A("b"), "a:1 b:2 !2:53");
	run("[" A("a") ",\n {\"user\": \"b\"", "a:1 !2:13");
	run("[" A("a") "] " A("b"), "a:1 !1:55");
}
END_TEST

START_TEST(several_values_over_lines)
{
	/* a multi-line value that is invalid but ends: the next value is read */
	run("{\n \"user\": \"a\" \"x\": 1}\n{\n \"user\": \"b\", \"tunnel\": \"pptp\", \"auth\": \"pap\"\n}",
	    "!2:16 b:3");
	/* one that does not end: nothing after it can be placed */
	run("{\n \"user\": \"a\",\n", "!3:1");
}
END_TEST

START_TEST(too_many_invalid_stops)
{
	char *t = malloc(200 * 40);
	size_t o = 0;
	for (int i = 0; i < 150; i++) o += (size_t)sprintf(t + o, "{\"user\": \"u%d\"}\n", i);
	struct attempt_reader *r = attempt_reader_mem(cfg, "t", t, o);
	struct config_problems pr = {0};
	struct attempt a;
	int n = 0, rc;
	while ((rc = attempt_reader_next(r, &a, &pr)) != 0) n++;
	ck_assert_int_eq(n, 100);
	ck_assert(strstr(pr.v[pr.n - 1].msg, "100 invalid attempts: the rest of the input is not read"));
	config_problems_free(&pr);
	attempt_reader_free(r);
	free(t);
}
END_TEST

START_TEST(several_flag)
{
	struct { const char *t; bool several; } v[] = {
		{A("a"), false}, {A("a") "\n\n", false}, {A("a") "\n" A("b"), true},
		{"[" A("a") "]", false}, {"[" A("a") ", " A("b") "]", true}, {"[" A("a") " ]  ", false},
		{"{\n\"user\": \"a\", \"tunnel\": \"pptp\", \"auth\": \"pap\"\n}\n", false},
		{A("a") "\nx", true},
	};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		struct attempt_reader *r = attempt_reader_mem(cfg, "t", v[i].t, strlen(v[i].t));
		struct attempt a;
		ck_assert_int_eq(attempt_reader_next(r, &a, NULL), 1);
		ck_assert_msg(attempt_reader_several(r) == v[i].several && a.several == v[i].several,
		              "case %zu", i);
		attempt_free(&a);
		attempt_reader_free(r);
	}
}
END_TEST

START_TEST(too_long)
{
	size_t big = ATTEMPT_MAX_BYTES + 100;
	char *t = malloc(big + 200);
	size_t o = (size_t)sprintf(t, A("a") "\n{\"user\": \"");
	memset(t + o, 'x', big);
	o += big;
	o += (size_t)sprintf(t + o, "\"}\n" A("c"));
	run(t, "a:1 !2:1 c:3");
	/* in an array: nothing after it can be placed */
	o = (size_t)sprintf(t, "[" A("a") ",\n{\"user\": \"");
	memset(t + o, 'x', big);
	o += big;
	o += (size_t)sprintf(t + o, "\"},\n" A("c") "]");
	struct attempt_reader *r = attempt_reader_mem(cfg, "t", t, o);
	struct attempt a;
	struct config_problems pr = {0};
	ck_assert_int_eq(attempt_reader_next(r, &a, &pr), 1);
	attempt_free(&a);
	ck_assert_int_eq(attempt_reader_next(r, &a, &pr), -1);
	ck_assert(strstr(pr.v[0].msg, "longer than"));
	ck_assert_int_eq(attempt_reader_next(r, &a, &pr), 0);
	config_problems_free(&pr);
	attempt_reader_free(r);
	free(t);
}
END_TEST

/* ---- the fast path and the full parser agree ----------------------------------------- */
static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* one attempt, fast path on or off: rc, and the attempt when rc is 1 */
static int parse_with(const char *text, bool fast, struct attempt *a)
{
	struct attempt_reader *r = attempt_reader_mem(cfg, "t", text, strlen(text));
	attempt_reader_set_fast(r, fast);
	int rc = attempt_reader_next(r, a, NULL);
	attempt_reader_free(r);
	return rc;
}

START_TEST(fast_path_agrees_with_full_parser)
{
	/* values for each key: valid ones, wrong types, nulls, escapes, bad enums */
	static const char *const vals[][12] = {
		{"\"n1\"", "\"a \\\"q\\\" \\\\ \\/ \\t\"", "null", "5", "\"\\u00e9\"", "\"caf\xc3\xa9\""},
		{"\"alice\"", "\"ALICE\"", "\"nobody\"", "5", "null", "{\"name\": \"z\"}", "\"bob\""},
		{"\"Passw0rd!\"", "\"x\"", "null", "1", "\"a\\nb\""},
		{"\"2026-11-23T10:00\"", "\"2026-11-23 10:00:59\"", "\"2026-02-29T10:00\"",
		 "\"2026-11-23T10:00Z\"", "null", "\"2026-11-23T24:00\"", "1"},
		{"\"pptp\"", "\"L2TP\"", "\"ikev2\"", "\"gre\"", "null", "1"},
		{"\"mschapv2\"", "\"eap\"", "\"PAP\"", "\"md5\"", "null"},
		{"\"peap\"", "\"tls\"", "\"nope\"", "null"},
		{"\"strongest\"", "\"none\"", "\"strongerest\"", "null"},
		{"\"198.51.100.7\"", "\"\"", "null", "[]"},
		{"\"203.0.113.10\"", "null"},
		{"\"virtual\"", "\"async\"", "\"ethernetish\"", "null"},
		{"\"10.0.0.1\"", "null"},
		{"\"10.0.0.2\"", "7"},
		{"\"nas1\""},
		{"\"vendor\""},
		{"\"friendly\""},
		{"\"311\"", "\"9\"", "null"},
		{"\"ppp\"", "\"slip\"", "\"x\"", "null"},
		{"\"framed\"", "\"login\"", "\"x\""},
		{"1", "2", "1000", "1001", "0", "01", "1.0", "1e2", "-1", "null", "\"2\""},
		{"true", "false", "null", "\"yes\"", "1"},
		{"\"10.0.0.7\"", "\"10.0.0\"", "null", "\"01.0.0.7\""},
		{"[\"ip\"]", "[\"ip\", \"ipx\"]", "[]", "[\"ip\",]", "[\"nope\"]", "[1]", "\"ip\"",
		 "null"},
	};
	static const char *const keys[] = {"name", "user", "password", "time", "tunnel", "auth",
		"eap_type", "encryption", "calling_station_id", "called_station_id", "nas_port_type",
		"client_ip", "nas_ip", "nas_identifier", "client_vendor", "client_friendly_name",
		"ms_ras_vendor", "framed_protocol", "service_type", "links", "bap", "requested_ip",
		"protocols"};
	size_t nk = sizeof keys / sizeof *keys;
	int agree_ok = 0, agree_bad = 0;
	for (int iter = 0; iter < 20000; iter++) {
		char t[2048];
		size_t o = 0;
		bool has_time = false;
		o += (size_t)snprintf(t + o, sizeof t - o, "%s{", rnd(4) ? "" : " \n");
		int n = 0;
		for (size_t k = 0; k < nk; k++) {
			/* user, tunnel and auth mostly present; the rest now and then */
			unsigned p = k == 1 || k == 4 || k == 5 ? 90 : k == 6 ? 30 : 25;
			if (rnd(100) >= p) continue;
			size_t nv = 0;
			while (nv < 12 && vals[k][nv]) nv++;
			unsigned vi = rnd(3) ? 0 : rnd((unsigned)nv);
			/* "time": null means now, read by each parser at its own instant: only a
			 * time written out must come out the same */
			if (k == 3 && strcmp(vals[k][vi], "null")) has_time = true;
			o += (size_t)snprintf(t + o, sizeof t - o, "%s%s\"%s\"%s:%s%s", n ? "," : "",
			                      rnd(2) ? " " : "", keys[k], rnd(3) ? "" : " ",
			                      rnd(2) ? " " : "", vals[k][vi]);
			n++;
			if (rnd(200) == 0) /* a repeated key */
				o += (size_t)snprintf(t + o, sizeof t - o, ", \"%s\": %s", keys[k], vals[k][0]);
			if (rnd(300) == 0) /* an unknown one */
				o += (size_t)snprintf(t + o, sizeof t - o, ", \"colour\": \"blue\"");
		}
		o += (size_t)snprintf(t + o, sizeof t - o, "}%s", rnd(4) ? "" : " ");
		struct attempt f, s;
		int rf = parse_with(t, true, &f), rs = parse_with(t, false, &s);
		ck_assert_msg(rf == rs, "%s: fast %d, full %d", t, rf, rs);
		if (rf != 1) {
			agree_bad++;
			continue;
		}
		agree_ok++;
		ck_assert_msg(same_str(f.label, s.label) && same_str(f.user_name, s.user_name) &&
		              same_str(f.password, s.password) && (!has_time ||
		              (!strcmp(f.time_text, s.time_text) && f.minute_of_week == s.minute_of_week &&
		               f.local_epoch == s.local_epoch)) &&
		              f.tunnel == s.tunnel && f.auth == s.auth && f.eap_type == s.eap_type &&
		              f.encryption == s.encryption &&
		              same_str(f.calling_station_id, s.calling_station_id) &&
		              same_str(f.called_station_id, s.called_station_id) &&
		              same_str(f.client_ip, s.client_ip) && same_str(f.nas_ip, s.nas_ip) &&
		              same_str(f.nas_identifier, s.nas_identifier) &&
		              same_str(f.client_vendor, s.client_vendor) &&
		              same_str(f.client_friendly_name, s.client_friendly_name) &&
		              same_str(f.ms_ras_vendor, s.ms_ras_vendor) &&
		              f.nas_port_type == s.nas_port_type &&
		              f.framed_protocol == s.framed_protocol &&
		              f.service_type == s.service_type && f.links == s.links && f.bap == s.bap &&
		              f.has_requested_ip == s.has_requested_ip &&
		              f.requested_ip == s.requested_ip && f.protocols == s.protocols &&
		              f.line == s.line && f.several == s.several &&
		              same_str(f.file, s.file) && same_str(f.pointer, s.pointer) &&
		              !f.inline_user == !s.inline_user,
		              "fields differ for %s", t);
		attempt_free(&f);
		attempt_free(&s);
	}
	/* both outcomes were exercised often */
	ck_assert_int_gt(agree_ok, 2000);
	ck_assert_int_gt(agree_bad, 2000);
}
END_TEST

/* ---- a stream that arrives in pieces -------------------------------------------------- */
struct feed {
	int fd;
	const char *text;
	size_t len, piece;
};

static void *feeder(void *arg)
{
	struct feed *f = arg;
	for (size_t o = 0; o < f->len; o += f->piece) {
		size_t n = f->len - o < f->piece ? f->len - o : f->piece;
		if (write(f->fd, f->text + o, n) != (ssize_t)n) break;
	}
	close(f->fd);
	return NULL;
}

START_TEST(pipe_in_pieces_and_positions_across_reads)
{
	/* 3,000 lines of about 140 bytes (several 64 KiB reads), every 500th broken */
	size_t cap = 3000 * 200, o = 0;
	char *t = malloc(cap);
	for (int i = 0; i < 3000; i++) {
		if (i % 500 == 499)
			o += (size_t)sprintf(t + o, "{\"user\": \"alice\", \"tunnel\": \"pptp\" \"auth\": 1}\n");
		else
			o += (size_t)sprintf(t + o, "{\"user\": \"alice\", \"tunnel\": \"pptp\", \"auth\": "
			                     "\"mschapv2\", \"calling_station_id\": \"198.51.100.%d\", "
			                     "\"name\": \"n%d\"}\n", i % 250, i);
	}
	for (size_t piece = 1; piece <= 70000; piece *= 37) {
		int p[2];
		ck_assert_int_eq(pipe(p), 0);
		struct feed f = {.fd = p[1], .text = t, .len = o, .piece = piece};
		pthread_t th;
		pthread_create(&th, NULL, feeder, &f);
		struct attempt_reader *r = attempt_reader_fd(cfg, "-", p[0]);
		struct attempt a;
		struct config_problems pr = {0};
		int line = 0, good = 0, rc;
		while ((rc = attempt_reader_next(r, &a, &pr)) != 0) {
			line++;
			if (line % 500 == 0) {
				ck_assert_int_eq(rc, -1);
				ck_assert_int_eq(pr.v[pr.n - 1].line, line);
				ck_assert_int_eq(pr.v[pr.n - 1].col, 41);
				continue;
			}
			ck_assert_int_eq(rc, 1);
			ck_assert_int_eq(a.line, line);
			char want[16];
			snprintf(want, sizeof want, "n%d", line - 1);
			ck_assert_str_eq(a.label, want);
			good++;
			attempt_free(&a);
		}
		ck_assert_int_eq(good, 3000 - 6);
		ck_assert_uint_eq(pr.n, 6);
		config_problems_free(&pr);
		attempt_reader_free(r);
		pthread_join(th, NULL);
		close(p[0]);
	}
	free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("attempt_reader");
	TCase *t = tcase_create("attempt_reader");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, forms);
	tcase_add_test(t, json_lines_go_on_after_a_bad_line);
	tcase_add_test(t, arrays_go_on_after_a_bad_element_and_stop_when_broken);
	tcase_add_test(t, several_values_over_lines);
	tcase_add_test(t, too_many_invalid_stops);
	tcase_add_test(t, several_flag);
	tcase_add_test(t, too_long);
	tcase_add_test(t, fast_path_agrees_with_full_parser);
	tcase_add_test(t, pipe_in_pieces_and_positions_across_reads);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
