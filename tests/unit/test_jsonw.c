/* The JSON writer against jansson: the same values written by jw_* (streaming, both
 * layouts) and by jansson's json_dumps must be the same bytes, and the tree back end must
 * build the value jansson would have. Values are random (seeded, so a failure repeats)
 * and cover every escape, multi-byte UTF-8, empty containers, deep nesting, integers at
 * the limits and reals. */
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "jsonw.h"

static unsigned long long rng = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* a random valid UTF-8 string: ASCII (controls, quote, backslash, slash, DEL included),
 * two-, three- and four-byte characters */
static void rand_str(char *out, size_t cap)
{
	size_t n = rnd(12), o = 0;
	static const char *const multi[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
	                                    "\xef\xbf\xbd", "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf"};
	for (size_t i = 0; i < n && o + 5 < cap; i++) {
		unsigned k = rnd(10);
		if (k < 5) {
			out[o++] = (char)(0x20 + rnd(0x60)); /* includes '"', '\\', '/' and 0x7F */
		} else if (k < 7) {
			out[o++] = (char)(1 + rnd(0x1f));    /* controls */
		} else {
			const char *m = multi[rnd(6)];
			size_t l = strlen(m);
			memcpy(out + o, m, l);
			o += l;
		}
	}
	out[o] = 0;
}

/* write the same random value into a jansson tree (returned) and into both writers */
static json_t *gen(struct jw *a, struct jw *b, struct jw *t, const char *key, int depth)
{
	char s[64];
	unsigned k = rnd(depth > 5 ? 6 : 9);
	struct jw *ws[3] = {a, b, t};
	switch (k) {
	case 0: {
		long long v = rnd(3) == 0 ? LLONG_MIN + rnd(3) : rnd(3) == 0 ? LLONG_MAX - rnd(3)
		              : (long long)rnd(200000) - 100000;
		for (int i = 0; i < 3; i++) jw_int(ws[i], key, v);
		return json_integer(v);
	}
	case 1:
		rand_str(s, sizeof s);
		for (int i = 0; i < 3; i++) jw_str(ws[i], key, s);
		return json_string(s);
	case 2: {
		bool v = rnd(2);
		for (int i = 0; i < 3; i++) jw_bool(ws[i], key, v);
		return json_boolean(v);
	}
	case 3:
		for (int i = 0; i < 3; i++) jw_null(ws[i], key);
		return json_null();
	case 4: {
		static const double r[] = {0.0, 1.0, -2.5, 0.1, 1e300, 1e-7, 123456789012.25, 1e21,
		                           -0.0, 3.0e5};
		double v = r[rnd(10)];
		for (int i = 0; i < 3; i++) jw_real(ws[i], key, v);
		return json_real(v);
	}
	case 5:
		rand_str(s, sizeof s);
		for (int i = 0; i < 3; i++) jw_str(ws[i], key, s);
		return json_string(s);
	case 6:
	case 7: {
		json_t *o = json_object();
		for (int i = 0; i < 3; i++) jw_obj(ws[i], key);
		unsigned n = rnd(5);
		for (unsigned m = 0; m < n; m++) {
			char kb[64];
			rand_str(kb, sizeof kb);
			/* keys are unique in an object: prefix the index */
			char key2[80];
			snprintf(key2, sizeof key2, "%u%s", m, kb);
			json_object_set_new(o, key2, gen(a, b, t, key2, depth + 1));
		}
		for (int i = 0; i < 3; i++) jw_end(ws[i]);
		return o;
	}
	default: {
		json_t *arr = json_array();
		for (int i = 0; i < 3; i++) jw_arr(ws[i], key);
		unsigned n = rnd(5);
		for (unsigned m = 0; m < n; m++) json_array_append_new(arr, gen(a, b, t, NULL, depth + 1));
		for (int i = 0; i < 3; i++) jw_end(ws[i]);
		return arr;
	}
	}
}

static void same(const struct jw *w, const char *want, unsigned iter)
{
	ck_assert_msg(!w->failed, "writer failed at iteration %u", iter);
	ck_assert_msg(w->len == strlen(want) && memcmp(w->buf, want, w->len) == 0,
	              "iteration %u:\n jansson: %s\n jw:      %.*s", iter, want, (int)w->len, w->buf);
}

START_TEST(random_values_match_jansson)
{
	for (unsigned iter = 0; iter < 3000; iter++) {
		struct jw c, p, t;
		jw_init(&c, JW_COMPACT, NULL);
		jw_init(&p, JW_PRETTY, NULL);
		jw_init(&t, JW_TREE, NULL);
		json_t *v = gen(&c, &p, &t, NULL, 0);
		char *wc = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
		char *wp = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
		same(&c, wc, iter);
		same(&p, wp, iter);
		json_t *tree = jw_take(&t);
		ck_assert_msg(tree && json_equal(tree, v), "iteration %u: tree differs", iter);
		/* and a jansson tree written through jw_json */
		struct jw j;
		jw_init(&j, JW_PRETTY, NULL);
		jw_json(&j, NULL, v);
		same(&j, wp, iter);
		jw_free(&j);
		json_decref(tree);
		free(wc);
		free(wp);
		json_decref(v);
		jw_free(&c);
		jw_free(&p);
		jw_free(&t);
	}
}
END_TEST

START_TEST(invalid_utf8_is_replaced)
{
	static const struct { const char *in, *out; } v[] = {
		{"a\xff" "b", "\"a\xef\xbf\xbd" "b\""},
		{"\xc3", "\"\xef\xbf\xbd\""},                 /* cut short */
		{"\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\""}, /* overlong '/' */
		{"\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* a surrogate */
		{"\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
		{"ok \xc3\xa9", "\"ok \xc3\xa9\""},
	};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		struct jw w, t;
		jw_init(&w, JW_COMPACT, NULL);
		jw_str(&w, NULL, v[i].in);
		ck_assert_msg(w.len == strlen(v[i].out) && !memcmp(w.buf, v[i].out, w.len),
		              "case %zu: %.*s", i, (int)w.len, w.buf);
		/* the tree holds the same string, where jansson alone would refuse it */
		jw_init(&t, JW_TREE, NULL);
		jw_arr(&t, NULL);
		jw_str(&t, NULL, v[i].in);
		jw_end(&t);
		json_t *a = jw_take(&t);
		ck_assert_ptr_nonnull(a);
		char *d = json_dumps(json_array_get(a, 0), JSON_ENCODE_ANY);
		ck_assert_str_eq(d, v[i].out);
		free(d);
		json_decref(a);
		jw_free(&w);
		jw_free(&t);
	}
}
END_TEST

START_TEST(streams_to_a_file_in_bounded_memory)
{
	FILE *fp = tmpfile();
	ck_assert_ptr_nonnull(fp);
	struct jw w;
	jw_init(&w, JW_COMPACT, fp);
	size_t total = 0;
	for (int i = 0; i < 200000; i++) {
		size_t before = w.len;
		jw_obj(&w, NULL);
		jw_int(&w, "i", i);
		jw_str(&w, "s", "a string of some length to fill the buffer");
		jw_end(&w);
		jw_raw(&w, "\n", 1);
		total += w.len >= before ? w.len - before : 0;
	}
	ck_assert_int_eq(jw_flush(&w), 0);
	/* the buffer never grew past twice the flush threshold */
	ck_assert_uint_le(w.cap, 128u << 10);
	long size = ftell(fp);
	ck_assert_int_gt(size, 200000 * 50);
	rewind(fp);
	char line[128];
	ck_assert_ptr_nonnull(fgets(line, sizeof line, fp));
	ck_assert_str_eq(line, "{\"i\":0,\"s\":\"a string of some length to fill the buffer\"}\n");
	fclose(fp);
	jw_free(&w);
	(void)total;
}
END_TEST

START_TEST(depth_limit_and_misuse)
{
	struct jw w;
	jw_init(&w, JW_COMPACT, NULL);
	for (int i = 0; i < JW_MAX_DEPTH + 10; i++) jw_arr(&w, NULL);
	jw_int(&w, NULL, 1);
	for (int i = 0; i < JW_MAX_DEPTH + 10; i++) jw_end(&w);
	ck_assert(w.failed);
	ck_assert_int_eq(w.depth, 0);
	jw_end(&w); /* one too many */
	ck_assert(w.failed);
	jw_free(&w);
	jw_init(&w, JW_TREE, NULL);
	for (int i = 0; i < JW_MAX_DEPTH + 10; i++) jw_obj(&w, "k");
	for (int i = 0; i < JW_MAX_DEPTH + 10; i++) jw_end(&w);
	ck_assert_ptr_null(jw_take(&w));
	jw_free(&w);
}
END_TEST

/* JW_OUTLINE: the `pcap decode -v` layout */
static void outline_is(const char *json, const char *want)
{
	json_error_t e;
	json_t *v = json_loads(json, 0, &e);
	ck_assert_msg(v != NULL, "%s: %s", json, e.text);
	struct jw w;
	jw_init(&w, JW_OUTLINE, NULL);
	jw_outline(&w, 6, "layer");
	jw_json(&w, NULL, v);
	ck_assert_msg(!w.failed && w.len == strlen(want) && !memcmp(w.buf, want, w.len),
	              "%s\n got:\n%.*s\n want:\n%s", json, (int)w.len, w.buf, want);
	json_decref(v);
	jw_free(&w);
}

START_TEST(outline_layout)
{
	outline_is("{\"layer\": \"l2tp\", \"a\": 1, \"s\": \"x \\\"y\\\"\", \"t\": true, \"n\": null, "
	           "\"r\": 0.5}",
	           "    l2tp\n      a: 1\n      s: x \"y\"\n      t: true\n      n: null\n      r: 0.5\n");
	/* nested objects indent; arrays of scalars on one line, empty ones too */
	outline_is("{\"o\": {\"p\": {\"q\": -3}}, \"v\": [1, \"b\", false], \"e\": []}",
	           "      o:\n        p:\n          q: -3\n      v: [1, b, false]\n      e: []\n");
	/* an array with an object: every element on its own line, earlier scalars too;
	 * an array inside it is not shown */
	outline_is("{\"avps\": [7, {\"type\": \"x\", \"f\": [1]}, 8, [9, 10], {}]}",
	           "      avps[0]: 7\n      avps[1]:\n        type: x\n        f: [1]\n"
	           "      avps[2]: 8\n      avps[3]: null\n      avps[4]:\n");
	/* the title only at the top level */
	outline_is("{\"x\": {\"layer\": \"inner\"}}", "      x:\n        layer: inner\n");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jsonw");
	TCase *t = tcase_create("jsonw");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, random_values_match_jansson);
	tcase_add_test(t, invalid_utf8_is_replaced);
	tcase_add_test(t, streams_to_a_file_in_bounded_memory);
	tcase_add_test(t, depth_limit_and_misuse);
	tcase_add_test(t, outline_layout);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
