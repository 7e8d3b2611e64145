/* GRE codec: enhanced GRE (version 1) from pptp-gre-ppp.pcap and flowcontainer's pptp.pcap,
 * plain GRE (version 0) from tcpdump's various_gre.pcap, checked against tshark's decode;
 * truncation, malformed headers, encoder. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gre.h"

/* lab/pptp-gre-ppp.pcap frame 11: S set, call 25187, seq 0, LCP Configure-Request */
static const uint8_t gre_seq[] = {
	0x30, 0x01, 0x88, 0x0b, 0x00, 0x17, 0x62, 0x63, 0x00, 0x00, 0x00, 0x00,
	0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x13, 0x01, 0x04, 0x05, 0x78,
	0x03, 0x05, 0xc2, 0x23, 0x05, 0x05, 0x06, 0x31, 0x4c, 0x66, 0x5c,
};
/* lab/pptp-gre-ppp.pcap frame 13: S and A set, call 25187, seq 1, ack 1, LCP Configure-Ack */
static const uint8_t gre_seq_ack[] = {
	0x30, 0x81, 0x88, 0x0b, 0x00, 0x18, 0x62, 0x63, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x01, 0xff, 0x03, 0xc0, 0x21, 0x02, 0x01, 0x00, 0x14,
	0x01, 0x04, 0x05, 0x78, 0x02, 0x06, 0x00, 0x00, 0x00, 0x00, 0x05, 0x06,
	0x5f, 0x10, 0xdf, 0x88,
};
/* public/pcaps/flowcontainer__pptp.pcap frame 4: acknowledgement only, call 2035, ack 9605 */
static const uint8_t gre_ack_only[] = {
	0x20, 0x81, 0x88, 0x0b, 0x00, 0x00, 0x07, 0xf3, 0x00, 0x00, 0x25, 0x85,
};
/* public/pcaps/tcpdump__various_gre.pcap frame 11: version 0, K set, key 0x28, protocol 0x8909 */
static const uint8_t gre_v0_key[] = {
	0x20, 0x00, 0x89, 0x09, 0x00, 0x00, 0x00, 0x28, 0x08, 0x00, 0x01, 0x01,
	0x00, 0x01, 0x00, 0x00, 0x45, 0xc0, 0x00, 0x1c, 0x00, 0xa3, 0x00, 0x00,
	0xff, 0x2f, 0x24, 0xeb, 0x0a, 0xac, 0x40, 0x06, 0x0a, 0xac, 0x40, 0x07,
	0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28,
};

struct vec {
	const char *name;
	const uint8_t *p;
	size_t len;
};
#define VEC(x) {#x, x, sizeof x}
static const struct vec v1[] = {VEC(gre_seq), VEC(gre_seq_ack), VEC(gre_ack_only)};

START_TEST(enhanced_gre_matches_tshark)
{
	struct gre_msg m;
	struct diag_err e;
	char s[128];
	/* Flags and Version 0x3001, PPP, Payload Length 23, Call ID 25187, Sequence 0 */
	ck_assert_int_eq(gre_decode(gre_seq, sizeof gre_seq, &m, &e), 0);
	ck_assert_uint_eq(m.flags, 0x3001);
	ck_assert_uint_eq(m.version, 1);
	ck_assert(m.k && m.s && !m.a && !m.c && !m.r);
	ck_assert_uint_eq(m.protocol, GRE_PROTO_PPP);
	ck_assert_uint_eq(m.payload_length, 23);
	ck_assert_uint_eq(m.call_id, 25187);
	ck_assert_uint_eq(m.seq, 0);
	ck_assert_uint_eq(m.hdr_len, 12);
	ck_assert_ptr_eq(m.payload, gre_seq + 12);
	ck_assert_uint_eq(m.payload_len, 23);
	ck_assert_uint_eq(m.payload[2], 0xc0);
	ck_assert_uint_eq(m.trailing, 0);
	gre_summary(&m, s, sizeof s);
	ck_assert_str_eq(s, "GRE call 25187 seq 0 [PPP]");

	/* 0x3081: Sequence 1, Acknowledgment 1, Payload Length 24 */
	ck_assert_int_eq(gre_decode(gre_seq_ack, sizeof gre_seq_ack, &m, &e), 0);
	ck_assert(m.s && m.a);
	ck_assert_uint_eq(m.seq, 1);
	ck_assert_uint_eq(m.ack, 1);
	ck_assert_uint_eq(m.payload_length, 24);
	ck_assert_uint_eq(m.hdr_len, 16);
	gre_summary(&m, s, sizeof s);
	ck_assert_str_eq(s, "GRE call 25187 seq 1 ack 1 [PPP]");
	json_t *j = gre_to_json(&m);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "call_id")), 25187);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "sequence_number")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "ack_number")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(j, "protocol_name")), "PPP");
	json_decref(j);

	/* 0x2081: no sequence number, Payload Length 0, Call ID 2035, Acknowledgment 9605 */
	ck_assert_int_eq(gre_decode(gre_ack_only, sizeof gre_ack_only, &m, &e), 0);
	ck_assert(!m.s && m.a);
	ck_assert_uint_eq(m.call_id, 2035);
	ck_assert_uint_eq(m.ack, 9605);
	ck_assert_uint_eq(m.payload_len, 0);
	gre_summary(&m, s, sizeof s);
	ck_assert_str_eq(s, "GRE call 2035 ack 9605 (ack only)");
}
END_TEST

START_TEST(plain_gre_matches_tshark)
{
	struct gre_msg m;
	struct diag_err e;
	char s[128];
	/* Flags and Version 0x2000, Protocol 0x8909, Key 0x00000028 */
	ck_assert_int_eq(gre_decode(gre_v0_key, sizeof gre_v0_key, &m, &e), 0);
	ck_assert_uint_eq(m.version, 0);
	ck_assert(m.k && !m.s && !m.c);
	ck_assert_uint_eq(m.protocol, 0x8909);
	ck_assert_uint_eq(m.key, 0x28);
	ck_assert_uint_eq(m.hdr_len, 8);
	ck_assert_uint_eq(m.payload_len, sizeof gre_v0_key - 8);
	gre_summary(&m, s, sizeof s);
	ck_assert_str_eq(s, "GREv0 proto 0x8909 key 0x00000028 length 36");

	/* checksum present, then a routing list ended by a null entry */
	static const uint8_t routed[] = {0xc0, 0x00, 0x08, 0x00, 0x12, 0x34, 0x00, 0x00,
	                                 0x08, 0x00, 0x00, 0x04, 0x0a, 0x00, 0x00, 0x01,
	                                 0x00, 0x00, 0x00, 0x00, 0x45};
	ck_assert_int_eq(gre_decode(routed, sizeof routed, &m, &e), 0);
	ck_assert(m.c && m.r);
	ck_assert_uint_eq(m.checksum, 0x1234);
	ck_assert_uint_eq(m.hdr_len, 20);
	ck_assert_uint_eq(m.payload_len, 1);
	gre_summary(&m, s, sizeof s);
	ck_assert_str_eq(s, "GREv0 proto IPv4 (0x0800) length 1");
	/* the routing entry running past the packet */
	ck_assert_int_eq(gre_decode(routed, 14, &m, &e), -1);
	ck_assert_uint_eq(e.off, 8);
}
END_TEST

START_TEST(truncation_fails_cleanly)
{
	struct gre_msg m;
	struct diag_err e;
	for (size_t v = 0; v < sizeof v1 / sizeof v1[0]; v++) {
		const struct vec *x = &v1[v];
		bool s = x->p[0] & 0x10, a = x->p[1] & 0x80;
		size_t hdr = 8 + (s ? 4 : 0) + (a ? 4 : 0);
		for (size_t n = 0; n < x->len; n++) {
			int rc = gre_decode(x->p, n, &m, &e);
			ck_assert_msg(rc == -1, "%s cut at %zu decoded", x->name, n);
			size_t want;
			if (n >= hdr) want = 4; /* payload length claims more */
			else if (n < 2) want = 0;
			else if (n < 4) want = 2;
			else if (n < 8) want = n < 6 ? 4 : 6;
			else want = n < 12 ? 8 : 12;
			ck_assert_msg(e.off == want, "%s cut at %zu: offset %zu want %zu (%s)", x->name, n,
			              e.off, want, e.reason);
		}
	}
	/* version 0: the header fields, then whatever is left is payload */
	for (size_t n = 0; n < sizeof gre_v0_key; n++) {
		int rc = gre_decode(gre_v0_key, n, &m, &e);
		if (n >= 8) {
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(m.payload_len, n - 8);
		} else {
			ck_assert_int_eq(rc, -1);
			ck_assert_uint_eq(e.off, n < 2 ? 0 : n < 4 ? 2 : 4);
		}
	}
}
END_TEST

START_TEST(malformed_headers)
{
	struct gre_msg m;
	struct diag_err e;
	uint8_t b[64];
	memcpy(b, gre_seq, sizeof gre_seq);
	b[3] = 0x00; /* protocol 0x8800 */
	ck_assert_int_eq(gre_decode(b, sizeof gre_seq, &m, &e), -1);
	ck_assert_uint_eq(e.off, 2);
	ck_assert_str_eq(e.reason, "GRE version 1 protocol 0x8800, expected 0x880b (PPP)");
	memcpy(b, gre_seq, sizeof gre_seq);
	b[0] |= 0x80; /* C bit in version 1 */
	ck_assert_int_eq(gre_decode(b, sizeof gre_seq, &m, &e), -1);
	memcpy(b, gre_seq, sizeof gre_seq);
	b[0] &= (uint8_t)~0x20; /* no K bit */
	ck_assert_int_eq(gre_decode(b, sizeof gre_seq, &m, &e), -1);
	memcpy(b, gre_seq, sizeof gre_seq);
	b[1] = 0x02; /* version 2 */
	ck_assert_int_eq(gre_decode(b, sizeof gre_seq, &m, &e), -1);
	ck_assert_uint_eq(e.off, 1);
	memcpy(b, gre_seq, sizeof gre_seq);
	b[5] = 200; /* payload length beyond the packet */
	ck_assert_int_eq(gre_decode(b, sizeof gre_seq, &m, &e), -1);
	ck_assert_str_eq(e.reason, "GRE payload length 200 > 23 bytes after the header");
	memcpy(b, gre_seq, sizeof gre_seq);
	b[5] = 20; /* shorter: the rest is counted, not handed to PPP */
	ck_assert_int_eq(gre_decode(b, sizeof gre_seq, &m, &e), 0);
	ck_assert_uint_eq(m.payload_len, 20);
	ck_assert_uint_eq(m.trailing, 3);
}
END_TEST

START_TEST(encode_and_roundtrip)
{
	struct gre_msg m;
	struct diag_err e;
	uint8_t out[128];
	for (size_t v = 0; v < sizeof v1 / sizeof v1[0]; v++) {
		ck_assert_int_eq(gre_decode(v1[v].p, v1[v].len, &m, &e), 0);
		size_t n = gre_encode(&m, out, sizeof out);
		ck_assert_uint_eq(n, v1[v].len);
		ck_assert(!memcmp(out, v1[v].p, n));
		ck_assert_uint_eq(gre_encode(&m, out, n - 1), 0);
	}
	ck_assert_int_eq(gre_decode(gre_v0_key, sizeof gre_v0_key, &m, &e), 0);
	ck_assert_uint_eq(gre_encode(&m, out, sizeof out), sizeof gre_v0_key);
	ck_assert(!memcmp(out, gre_v0_key, sizeof gre_v0_key));

	/* what the server sends: the same header pptpd wrote in frame 13 */
	gre_msg_init_v1(&m, 25187, true, 1, true, 1, gre_seq_ack + 16, sizeof gre_seq_ack - 16);
	ck_assert_uint_eq(gre_encode(&m, out, sizeof out), sizeof gre_seq_ack);
	ck_assert(!memcmp(out, gre_seq_ack, sizeof gre_seq_ack));
	gre_msg_init_v1(&m, 2035, false, 0, true, 9605, NULL, 0);
	ck_assert_uint_eq(gre_encode(&m, out, sizeof out), sizeof gre_ack_only);
	ck_assert(!memcmp(out, gre_ack_only, sizeof gre_ack_only));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gre");
	TCase *tc = tcase_create("codec");
	tcase_add_test(tc, enhanced_gre_matches_tshark);
	tcase_add_test(tc, plain_gre_matches_tshark);
	tcase_add_test(tc, truncation_fails_cleanly);
	tcase_add_test(tc, malformed_headers);
	tcase_add_test(tc, encode_and_roundtrip);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
