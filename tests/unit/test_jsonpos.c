/* Positions of JSON pointers (RFC 6901) in JSON text. Expected lines and columns are
 * counted by hand from the literals below. */
#include <check.h>
#include <string.h>
#include "jsonpos.h"

static void at(const char *text, const char *ptr, int want_rc, int wl, int wc)
{
	int l = -1, c = -1;
	int rc = jsonpos_find(text, strlen(text), ptr, &l, &c);
	ck_assert_msg(rc == want_rc && l == wl && c == wc, "%s: got rc %d %d:%d, want %d %d:%d",
	              ptr, rc, l, c, want_rc, wl, wc);
}

START_TEST(basic)
{
	const char *t = "{\n  \"a\": 1,\n  \"b\": [10, {\"c\": \"x\"}, [true]],\n  \"d\": {}\n}";
	at(t, "", 0, 1, 1);
	at(t, "/a", 0, 2, 8);
	at(t, "/b", 0, 3, 8);
	at(t, "/b/0", 0, 3, 9);
	at(t, "/b/1", 0, 3, 13);
	at(t, "/b/1/c", 0, 3, 19);
	at(t, "/b/2", 0, 3, 25);
	at(t, "/b/2/0", 0, 3, 26);
	at(t, "/d", 0, 4, 8);
}
END_TEST

START_TEST(missing)
{
	const char *t = "{\"a\": {\"b\": 1}, \"c\": [1, 2]}";
	/* a missing member: the object it should be in */
	at(t, "/a/x", -1, 1, 7);
	at(t, "/c/2", -1, 1, 22);
	at(t, "/c/01", -1, 1, 22); /* leading zeros are not array indices */
	at(t, "/c/-", -1, 1, 22);
	at(t, "/a/b/c", -1, 1, 13); /* below a scalar */
	at(t, "a", -1, 0, 0);       /* not a pointer */
	at("", "", -1, 0, 0);
	at("   ", "/a", -1, 0, 0);
}
END_TEST

START_TEST(escapes)
{
	const char *t = "{\"a/b\": 1, \"m~n\": 2, \"\\u00e9t\\u00e9\": 3, \"q\\\"\": 4, "
	                "\"\\ud83d\\ude00\": 5, \"\": 6}";
	at(t, "/a~1b", 0, 1, 9);
	at(t, "/m~0n", 0, 1, 19);
	at(t, "/\xc3\xa9t\xc3\xa9", 0, 1, 39);
	at(t, "/q\"", 0, 1, 49);
	at(t, "/\xf0\x9f\x98\x80", 0, 1, 68);
	at(t, "/", 0, 1, 75);
	at(t, "/a~1", -1, 1, 1);
}
END_TEST

START_TEST(columns_count_characters)
{
	/* "é" is two bytes but one column; tabs count as one */
	const char *t = "{\"\xc3\xa9\": \"\xc3\xa9\xc3\xa9\",\t\"k\": 1}";
	at(t, "/k", 0, 1, 18);
}
END_TEST

START_TEST(strings_with_brackets)
{
	/* brackets and quotes inside strings do not confuse skipping */
	const char *t = "[\"]}{[\\\"\", {\"x\": \"}\"}, 3]";
	at(t, "/2", 0, 1, 24);
	at(t, "/1/x", 0, 1, 18);
}
END_TEST

START_TEST(key_position)
{
	const char *t = "{\n  \"server\": {\n    \"ports\": {\"pptp\": 5}\n  }\n}";
	int l, c;
	ck_assert_int_eq(jsonpos_find_key(t, strlen(t), "/server/ports/pptp", &l, &c), 0);
	ck_assert_int_eq(l, 3);
	ck_assert_int_eq(c, 15);
	ck_assert_int_eq(jsonpos_find(t, strlen(t), "/server/ports/pptp", &l, &c), 0);
	ck_assert_int_eq(c, 23);
}
END_TEST

START_TEST(malformed)
{
	/* truncated or broken text ends the walk without reading past the end */
	static const char *const bad[] = {"{\"a\": [1, 2", "{\"a\"", "{\"a\": \"unterminated",
		"[[[[[[", "{\"a\" 1}", "{\"\\u12", "]]]", "{\"a\": {\"b\": }}"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int l, c;
		jsonpos_find(bad[i], strlen(bad[i]), "/a/1", &l, &c);
		jsonpos_find(bad[i], strlen(bad[i]), "/0/0/0/0/0/0/0/0", &l, &c);
		jsonpos_find_key(bad[i], strlen(bad[i]), "/a/b", &l, &c);
	}
	/* the length is respected: the text continues past len */
	int l, c;
	ck_assert_int_eq(jsonpos_find("{\"a\": 1}", 4, "/a", &l, &c), -1);
}
END_TEST

/* The column of a byte that is not UTF-8 is the byte's own, in characters. */
static void bad_byte_at(const char *text, int want_line, int want_col)
{
	json_error_t je;
	json_t *j = json_loadb(text, strlen(text), 0, &je);
	ck_assert_ptr_null(j);
	int l, c;
	jsonpos_error(text, strlen(text), &je, &l, &c);
	ck_assert_msg(l == want_line && c == want_col, "%s: %d:%d, want %d:%d", je.text, l, c,
	              want_line, want_col);
}

START_TEST(error_columns_of_bad_utf8)
{
	bad_byte_at("{\n  \"server\": {\"name\": \"ab\xff" "cd\"}\n}\n", 2, 25);
	bad_byte_at("{\n  \"user\": \"b\xc3\xa9\xff" "b\"\n}\n", 2, 14);
	bad_byte_at("{\"a\": \"\xc3\xa9\xc3\xa9x\xe2\x82\"}", 1, 11);
	bad_byte_at("{\"a\": \xff}", 1, 7);
	bad_byte_at("{\"a\": \"\xc3\"}", 1, 8);
	/* other errors keep jansson's position */
	json_error_t je;
	ck_assert_ptr_null(json_loadb("{\n\"a\": tru}", 13, 0, &je));
	int l, c;
	jsonpos_error("{\n\"a\": tru}", 13, &je, &l, &c);
	ck_assert_int_eq(l, je.line);
	ck_assert_int_eq(c, je.column);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jsonpos");
	TCase *t = tcase_create("jsonpos");
	tcase_add_test(t, basic);
	tcase_add_test(t, missing);
	tcase_add_test(t, escapes);
	tcase_add_test(t, columns_count_characters);
	tcase_add_test(t, strings_with_brackets);
	tcase_add_test(t, key_position);
	tcase_add_test(t, malformed);
	tcase_add_test(t, error_columns_of_bad_utf8);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
