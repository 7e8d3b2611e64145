/* The shared decoder cursor and the facts store. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "diag.h"
#include "rules/facts.h"

START_TEST(reader_reads_network_order)
{
	const uint8_t b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
	struct rd r;
	rd_init(&r, b, sizeof b);
	ck_assert_uint_eq(rd_u8(&r), 0x01);
	ck_assert_uint_eq(rd_u16(&r), 0x0203);
	ck_assert_uint_eq(rd_u32(&r), 0x04050607);
	ck_assert(rd_ok(&r));
	ck_assert_uint_eq(rd_left(&r), 0);
}
END_TEST

START_TEST(reader_latches_first_error)
{
	const uint8_t b[] = {0xaa, 0xbb, 0xcc};
	struct rd r;
	rd_init(&r, b, sizeof b);
	ck_assert_uint_eq(rd_u16(&r), 0xaabb);
	ck_assert_uint_eq(rd_u16(&r), 0); /* only one byte left */
	ck_assert(!rd_ok(&r));
	ck_assert_uint_eq(r.err_off, 2);
	ck_assert_uint_eq(rd_u8(&r), 0); /* latched: even a fitting read fails */
	ck_assert_ptr_null(rd_ptr(&r, 0 + 1));
	struct diag_err e;
	ck_assert_int_eq(rd_error(&r, &e, 10, "TEST"), -1);
	ck_assert_uint_eq(e.off, 12);
	ck_assert_str_eq(e.reason, "TEST: truncated");
}
END_TEST

START_TEST(subreader_bounds_child_and_parent)
{
	const uint8_t b[] = {0, 3, 'a', 'b', 'c', 9};
	struct rd r;
	rd_init(&r, b, sizeof b);
	uint16_t n = rd_u16(&r);
	struct rd s = rd_sub(&r, n);
	ck_assert_uint_eq(rd_left(&s), 3);
	ck_assert_uint_eq(rd_u8(&r), 9);
	rd_skip(&s, 3);
	ck_assert_uint_eq(rd_u8(&s), 0);
	ck_assert(!rd_ok(&s));
	ck_assert(rd_ok(&r));
	/* a claimed length longer than what is left fails both */
	struct rd r2;
	rd_init(&r2, b, sizeof b);
	struct rd s2 = rd_sub(&r2, 100);
	ck_assert(!rd_ok(&r2));
	ck_assert(!rd_ok(&s2));
	ck_assert_uint_eq(rd_left(&s2), 0);
}
END_TEST

START_TEST(writer_stops_at_capacity)
{
	uint8_t b[5];
	struct wr w;
	wr_init(&w, b, sizeof b);
	wr_u16(&w, 0x1234);
	wr_u16(&w, 0);
	wr_put16_at(&w, 2, 0xbeef);
	ck_assert(!w.err);
	ck_assert_uint_eq(b[2], 0xbe);
	wr_u16(&w, 0x5678); /* needs 2, has 1 */
	ck_assert(w.err);
	ck_assert_uint_eq(w.off, 4);
}
END_TEST

START_TEST(tok_tables)
{
	static const struct tok t[] = {{1, "one"}, {7, "seven"}, {0, NULL}};
	char buf[16];
	ck_assert_str_eq(tok_name(t, 7), "seven");
	ck_assert_ptr_null(tok_name(t, 3));
	ck_assert_str_eq(tok_str(t, 3, buf, sizeof buf), "3");
	uint8_t h[] = {0x0a, 0xff};
	char hx[5];
	hex_str(h, 2, hx);
	ck_assert_str_eq(hx, "0aff");
}
END_TEST

START_TEST(facts_typed_multivalued_with_evidence)
{
	struct facts *f = facts_new();
	char key[32];
	strcpy(key, "server.auth_methods");
	struct evidence ev = ev_config("server.auth_methods[0]");
	facts_add_str(f, key, "mschapv2", &ev);
	strcpy(key, "clobbered"); /* the store copied the key */
	facts_add_int(f, "policy.error", 649, NULL);
	facts_add_str(f, "server.auth_methods", "eap", NULL);
	facts_add_bool(f, "nat.detected", true, NULL);
	struct evidence pk = ev_packet("x.pcap", 5, 42);
	facts_add_addr(f, "client.addr", "192.0.2.7", &pk);

	const struct fact *a = facts_get(f, "server.auth_methods");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a->s, "mschapv2");
	char buf[96];
	ck_assert_str_eq(evidence_str(&a->ev, buf, sizeof buf), "config server.auth_methods[0]");
	const struct fact *b = facts_next(f, a);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->s, "eap");
	ck_assert_ptr_null(facts_next(f, b));
	ck_assert_int_eq(facts_get(f, "policy.error")->i, 649);
	ck_assert_str_eq(fact_value_str(facts_get(f, "nat.detected"), buf, sizeof buf), "true");
	ck_assert_str_eq(evidence_str(&facts_get(f, "client.addr")->ev, buf, sizeof buf),
	                 "x.pcap frame 5 offset 42");
	ck_assert_ptr_null(facts_get(f, "clobbered"));
	ck_assert_uint_eq(facts_count(f), 5);

	/* reset keeps memory and forgets facts */
	facts_reset(f);
	ck_assert_uint_eq(facts_count(f), 0);
	ck_assert_ptr_null(facts_get(f, "policy.error"));
	for (int i = 0; i < 1000; i++) {
		char k[32];
		snprintf(k, sizeof k, "k.%d", i);
		facts_add_int(f, k, i, NULL);
	}
	ck_assert_int_eq(facts_get(f, "k.999")->i, 999);
	facts_free(f);
}
END_TEST

START_TEST(text_printable_escapes_peer_bytes)
{
	char b[64];
	/* a newline that would start a forged log line, a terminal escape, invalid UTF-8,
	 * the backslash itself: all become \xNN, so the original bytes can be read back */
	const uint8_t s[] = {'u', '\n', '2', 0x1b, '[', '3', '1', 'm', 0xff, 0xc3, '\\', 0x7f, '\r'};
	size_t n = text_printable(s, sizeof s, b, sizeof b);
	ck_assert_str_eq(b, "u\\x0a2\\x1b[31m\\xff\\xc3\\x5c\\x7f\\x0d");
	ck_assert_uint_eq(n, strlen(b));
	for (size_t i = 0; i < n; i++) ck_assert(b[i] >= 0x20 && b[i] < 0x7f);
	/* never overruns, never cuts an escape in two */
	n = text_printable(s, sizeof s, b, 5);
	ck_assert_str_eq(b, "u");
	ck_assert_uint_eq(n, 1);
	n = text_printable(s, sizeof s, b, 7);
	ck_assert_str_eq(b, "u\\x0a2");
	ck_assert_uint_eq(text_printable(s, sizeof s, b, 1), 0);
	ck_assert_str_eq(b, "");
	/* the size macro is enough for the worst case */
	uint8_t all[256];
	for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
	char big[TEXT_PRINTABLE_SIZE(256)];
	n = text_printable(all, sizeof all, big, sizeof big);
	ck_assert_uint_eq(n, 94 + 162 * 4); /* 0x20-0x7e but the backslash stay, 162 escaped */
	ck_assert_uint_eq(text_printable_str(NULL, b, sizeof b), 0);
	ck_assert_str_eq(b, "");
	json_t *j = json_text(s, sizeof s);
	ck_assert_str_eq(json_string_value(j), "u\\x0a2\\x1b[31m\\xff\\xc3\\x5c\\x7f\\x0d");
	json_decref(j);
}
END_TEST

START_TEST(secrets_compare_whole)
{
	ck_assert(secret_equal("0123456789abcdef", "0123456789abcdef", 16));
	ck_assert(!secret_equal("0123456789abcdef", "0123456789abcdeF", 16));
	ck_assert(!secret_equal("X123456789abcdef", "0123456789abcdef", 16));
	/* padded: same bytes and same length only */
	uint8_t a[16] = "secret", b[16] = "secret";
	ck_assert(secret_equal_padded(a, 6, b, 6, sizeof a));
	ck_assert(!secret_equal_padded(a, 6, b, 5, sizeof a));  /* "secre": a prefix */
	ck_assert(!secret_equal_padded(a, 6, b, 7, sizeof a));  /* "secret\0": longer, padding-equal */
	uint8_t c[16] = "secrez";
	ck_assert(!secret_equal_padded(a, 6, c, 6, sizeof a));
	ck_assert(!secret_equal_padded(a, 17, b, 17, sizeof a)); /* beyond the width */
	uint8_t e1[16] = {0}, e2[16] = {0};
	ck_assert(secret_equal_padded(e1, 0, e2, 0, sizeof e1));
	/* text */
	ck_assert(secret_text_equal("Passw0rd!", "Passw0rd!"));
	ck_assert(!secret_text_equal("Passw0rd!", "Passw0rd"));
	ck_assert(!secret_text_equal("Passw0rd", "Passw0rd!"));
	ck_assert(!secret_text_equal("Passw0rd!", "passw0rd!"));
	ck_assert(!secret_text_equal("", "x"));
	ck_assert(secret_text_equal("", ""));
	char l1[400], l2[400];
	memset(l1, 'p', sizeof l1 - 1);
	l1[sizeof l1 - 1] = 0;
	memcpy(l2, l1, sizeof l2);
	ck_assert(secret_text_equal(l1, l2));        /* longer than the width: whole text */
	l2[350] = 'q';
	ck_assert(!secret_text_equal(l1, l2));       /* differs past the width */
	l1[SECRET_TEXT_WIDTH] = 0;
	ck_assert(!secret_text_equal(l1, l2));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("diag");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, reader_reads_network_order);
	tcase_add_test(tc, reader_latches_first_error);
	tcase_add_test(tc, subreader_bounds_child_and_parent);
	tcase_add_test(tc, writer_stops_at_capacity);
	tcase_add_test(tc, tok_tables);
	tcase_add_test(tc, facts_typed_multivalued_with_evidence);
	tcase_add_test(tc, text_printable_escapes_peer_bytes);
	tcase_add_test(tc, secrets_compare_whole);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
