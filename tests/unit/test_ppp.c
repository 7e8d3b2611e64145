/* PPP decoder tests: real frames from the lab and public captures, with field values
 * checked against tshark's decode in the *.tshark.txt files beside the captures; every
 * truncation of each vector; malformed lengths; encode(decode(x)) == x. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ppp.h"
#include "lab_vectors.h"

/* lab/l2tp-xl2tpd-ppp.pcap frame 23: IP (ICMP echo request), PPP frame after the L2TP data header */
static const uint8_t l2tp_f23[] = {
	0xff, 0x03, 0x00, 0x21, 0x45, 0x00, 0x00, 0x2d, 0x00, 0x01, 0x00, 0x00,
	0x40, 0x01, 0x65, 0x35, 0x0a, 0xc8, 0x00, 0x0a, 0x0a, 0xc8, 0x00, 0x01,
	0x08, 0x00, 0x7b, 0x1f, 0x76, 0x6e, 0x00, 0x01, 0x76, 0x6e, 0x65, 0x74,
	0x2d, 0x6c, 0x61, 0x62, 0x2d, 0x70, 0x70, 0x70, 0x2d, 0x70, 0x69, 0x6e,
	0x67,
};
/* public/pcaps/johnsamples__lulu-password-pptp.pcap frame 15: LCP Configure-Request, MS-CHAPv2, PPP frame after the GRE header */
static const uint8_t lulu_f15[] = {
	0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x19, 0x02, 0x06, 0x00, 0x00,
	0x00, 0x00, 0x03, 0x05, 0xc2, 0x23, 0x81, 0x05, 0x06, 0xaa, 0x47, 0x11,
	0x06, 0x07, 0x02, 0x08, 0x02,
};
/* public/pcaps/johnsamples__lulu-password-pptp.pcap frame 18: LCP Configure-Reject (Callback), PPP frame after the GRE header */
static const uint8_t lulu_f18[] = {
	0xff, 0x03, 0xc0, 0x21, 0x04, 0x00, 0x00, 0x07, 0x0d, 0x03, 0x06,
};
/* public/pcaps/johnsamples__lulu-password-pptp.pcap frame 28: CHAP Challenge, ACFC, PPP frame after the GRE header */
static const uint8_t lulu_f28[] = {
	0xc2, 0x23, 0x01, 0x88, 0x00, 0x1a, 0x10, 0x95, 0xa8, 0x7f, 0xa6, 0x2e,
	0xbc, 0xd2, 0xe3, 0xc8, 0xb0, 0x9e, 0x1b, 0x44, 0x8a, 0x6c, 0x72, 0x70,
	0x70, 0x74, 0x70, 0x64,
};
/* public/pcaps/johnsamples__lulu-password-pptp.pcap frame 31: LCP Identification, PPP frame after the GRE header */
static const uint8_t lulu_f31[] = {
	0xc0, 0x21, 0x0c, 0x02, 0x00, 0x12, 0x0c, 0x6f, 0x35, 0x48, 0x4d, 0x53,
	0x52, 0x41, 0x53, 0x56, 0x35, 0x2e, 0x32, 0x30,
};
/* public/pcaps/johnsamples__lulu-password-pptp.pcap frame 35: CHAP Response (MS-CHAPv2), PPP frame after the GRE header */
static const uint8_t lulu_f35[] = {
	0xc2, 0x23, 0x02, 0x88, 0x00, 0x3a, 0x31, 0xe2, 0xae, 0x09, 0x95, 0xea,
	0xac, 0x6c, 0xef, 0xf0, 0xd9, 0x75, 0x74, 0x28, 0xb5, 0x15, 0x09, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xed, 0x8c, 0xc9, 0x0f, 0xd4,
	0x0f, 0xaa, 0x2d, 0x6b, 0xcd, 0x0a, 0xbd, 0x0b, 0x1f, 0x56, 0x2f, 0xd7,
	0x77, 0xdf, 0x6c, 0x56, 0x09, 0xc9, 0x8b, 0x00, 0x6c, 0x75, 0x6c, 0x75,
};
/* public/pcaps/johnsamples__lulu-password-pptp.pcap frame 36: CHAP Success (MS-CHAPv2), PPP frame after the GRE header */
static const uint8_t lulu_f36[] = {
	0xc2, 0x23, 0x03, 0x88, 0x00, 0x3f, 0x53, 0x3d, 0x34, 0x36, 0x30, 0x38,
	0x37, 0x34, 0x45, 0x31, 0x43, 0x41, 0x44, 0x46, 0x33, 0x35, 0x46, 0x42,
	0x44, 0x39, 0x46, 0x36, 0x45, 0x38, 0x30, 0x43, 0x30, 0x31, 0x41, 0x31,
	0x41, 0x44, 0x43, 0x35, 0x37, 0x34, 0x36, 0x46, 0x30, 0x42, 0x36, 0x41,
	0x20, 0x4d, 0x3d, 0x41, 0x63, 0x63, 0x65, 0x73, 0x73, 0x20, 0x67, 0x72,
	0x61, 0x6e, 0x74, 0x65, 0x64,
};
/* public/pcaps/johnsamples__lulu-password-pptp.pcap frame 37: CCP Configure-Request (MPPE), PPP frame after the GRE header */
static const uint8_t lulu_f37[] = {
	0x80, 0xfd, 0x01, 0x01, 0x00, 0x0a, 0x12, 0x06, 0x01, 0x00, 0x00, 0x40,
};
/* public/pcaps/johnsamples__lulu-password-pptp.pcap frame 38: IPV6CP Configure-Request, PPP frame after the GRE header */
static const uint8_t lulu_f38[] = {
	0x80, 0x57, 0x01, 0x05, 0x00, 0x0e, 0x01, 0x0a, 0xdc, 0x15, 0x15, 0x9b,
	0x59, 0x57, 0xc9, 0x6d,
};
/* public/pcaps/johnsamples__lulu-password-pptp.pcap frame 39: LCP Protocol-Reject of IPV6CP, PPP frame after the GRE header */
static const uint8_t lulu_f39[] = {
	0xc0, 0x21, 0x08, 0x02, 0x00, 0x14, 0x80, 0x57, 0x01, 0x05, 0x00, 0x0e,
	0x01, 0x0a, 0xdc, 0x15, 0x15, 0x9b, 0x59, 0x57, 0xc9, 0x6d,
};
/* public/pcaps/johnsamples__lulu-password-pptp.pcap frame 49: IPCP Configure-Reject (DNS/NBNS), PPP frame after the GRE header */
static const uint8_t lulu_f49[] = {
	0x80, 0x21, 0x04, 0x08, 0x00, 0x1c, 0x81, 0x06, 0x00, 0x00, 0x00, 0x00,
	0x82, 0x06, 0x00, 0x00, 0x00, 0x00, 0x83, 0x06, 0x00, 0x00, 0x00, 0x00,
	0x84, 0x06, 0x00, 0x00, 0x00, 0x00,
};
/* public/pcaps/johnsamples__lulu-password-pptp.pcap frame 60: compressed datagram, PFC, PPP frame after the GRE header (first 32 bytes) */
static const uint8_t lulu_f60[] = {
	0xfd, 0x90, 0x00, 0xe7, 0x9c, 0x97, 0x30, 0xa7, 0x3c, 0xeb, 0xec, 0x64,
	0x3f, 0xe0, 0x9d, 0xea, 0x0a, 0x49, 0x39, 0x6b, 0xf8, 0x8c, 0x20, 0x8a,
	0xce, 0xd6, 0x54, 0xb3, 0xc6, 0x5c, 0x23, 0xb1,
};
/* public/pcaps/pcapplusplus__GrePackets.cap frame 17: PAP Authenticate-Request */
static const uint8_t ixia_f17[] = {
	0xff, 0x03, 0xc0, 0x23, 0x01, 0x00, 0x00, 0x0e, 0x04, 0x69, 0x78, 0x69,
	0x61, 0x04, 0x69, 0x78, 0x69, 0x61,
};
/* public/pcaps/pcapplusplus__GrePackets.cap frame 18: PAP Authenticate-Ack */
static const uint8_t ixia_f18[] = {
	0xff, 0x03, 0xc0, 0x23, 0x02, 0x00, 0x00, 0x05, 0x00,
};

struct vec { const char *name; const uint8_t *p; size_t len; };
#define V(x) { #x, x, sizeof x }
static const struct vec vecs[] = {
	V(lab_ppp_f10), V(lab_ppp_f11), V(lab_ppp_f14), V(lab_ppp_f15), V(lab_ppp_f16), V(lab_ppp_f17),
	V(lab_ppp_f20), V(l2tp_f23), V(lab_ppp_f27), V(lab_ppp_f29), V(lab_ppp_f30), V(lulu_f15),
	V(lulu_f18), V(lulu_f28), V(lulu_f31), V(lulu_f35), V(lulu_f36), V(lulu_f37),
	V(lulu_f38), V(lulu_f39), V(lulu_f49), V(lulu_f60), V(ixia_f17), V(ixia_f18),
};
#define NVECS (sizeof vecs / sizeof vecs[0])

static struct ppp_msg m;
static struct diag_err err;

static void dec_ok(const uint8_t *p, size_t n)
{
	memset(&err, 0, sizeof err);
	int rc = ppp_decode(p, n, &m, &err);
	ck_assert_msg(rc == 0, "decode failed: %zu %s", err.off, err.reason);
}

static void dec_fail(const uint8_t *p, size_t n, size_t off, const char *needle)
{
	memset(&err, 0, sizeof err);
	ck_assert_int_eq(ppp_decode(p, n, &m, &err), -1);
	ck_assert_msg(err.off == off, "offset %zu, want %zu (%s)", err.off, off, err.reason);
	ck_assert_msg(strstr(err.reason, needle), "reason \"%s\" lacks \"%s\"", err.reason, needle);
}

static const char *summary(void)
{
	static char b[512];
	ppp_summary(&m, b, sizeof b);
	return b;
}

/* frame: [ff 03] proto(2) code id len(2) body — built by hand, independent of the encoder */
static size_t frame(uint8_t *out, uint16_t proto, uint8_t code, uint8_t id,
                    const void *body, size_t blen)
{
	out[0] = 0xff; out[1] = 0x03; out[2] = (uint8_t)(proto >> 8); out[3] = (uint8_t)proto;
	out[4] = code; out[5] = id;
	out[6] = (uint8_t)((blen + 4) >> 8); out[7] = (uint8_t)(blen + 4);
	if (blen) memcpy(out + 8, body, blen);
	return blen + 8;
}

START_TEST(lcp_configure)
{
	/* tshark: Code Configuration Request (1), Identifier 1, Length 19, MRU 1400, Auth
	 * 0xc223 (MD5), Magic 0x41f2ceeb */
	dec_ok(lab_ppp_f10, sizeof lab_ppp_f10);
	ck_assert(m.has_acf);
	ck_assert_uint_eq(m.proto, PPP_PROTO_LCP);
	ck_assert_int_eq(m.kind, PPP_KIND_CP);
	ck_assert_uint_eq(m.cp.code, PPP_CONF_REQ);
	ck_assert_uint_eq(m.cp.id, 1);
	ck_assert_uint_eq(m.cp.length, 19);
	ck_assert_uint_eq(m.cp.nopts, 3);
	const struct ppp_opt *o = ppp_cp_find_opt(&m.cp, LCP_OPT_MRU);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq((o->data[0] << 8) | o->data[1], 1400);
	ck_assert_uint_eq(o->off, 8);
	o = ppp_cp_find_opt(&m.cp, LCP_OPT_AUTH);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(o->dlen, 3);
	ck_assert_uint_eq(o->data[2], CHAP_ALG_MD5);
	ck_assert_str_eq(summary(), "PPP LCP Configure-Request id 1 [MRU=1400 auth=CHAP/MD5 "
	                 "magic=0x41f2ceeb]");

	/* tshark: MRU 1400, ACCM 0x00000000, Magic 0xe4d9c957 */
	dec_ok(lab_ppp_f11, sizeof lab_ppp_f11);
	ck_assert_str_eq(summary(), "PPP LCP Configure-Request id 1 [MRU=1400 ACCM=0x00000000 "
	                 "magic=0xe4d9c957]");

	/* lulu frame 15: ACCM, Auth CHAP MS-CHAP-2 (129), Magic 0xaa471106, PFC, ACFC */
	dec_ok(lulu_f15, sizeof lulu_f15);
	ck_assert_uint_eq(m.cp.length, 25);
	ck_assert_uint_eq(m.cp.nopts, 5);
	ck_assert_str_eq(summary(), "PPP LCP Configure-Request id 1 [ACCM=0x00000000 "
	                 "auth=CHAP/MS-CHAPv2 magic=0xaa471106 PFC ACFC]");
	json_t *j = ppp_to_json(&m);
	json_t *opts = json_object_get(j, "options");
	ck_assert_uint_eq(json_array_size(opts), 5);
	json_t *auth = json_array_get(opts, 1);
	ck_assert_str_eq(json_string_value(json_object_get(auth, "type")),
	                 "Authentication-Protocol");
	ck_assert_str_eq(json_string_value(json_object_get(auth, "protocol")), "CHAP");
	ck_assert_int_eq(json_integer_value(json_object_get(auth, "protocol_num")), 0xc223);
	ck_assert_str_eq(json_string_value(json_object_get(auth, "algorithm")), "MS-CHAPv2");
	ck_assert_int_eq(json_integer_value(json_object_get(auth, "algorithm_num")), 129);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(opts, 2), "magic")),
	                 "0xaa471106");
	json_decref(j);

	/* lulu frame 18: Configuration Reject, Callback operation 6 (CBCP) */
	dec_ok(lulu_f18, sizeof lulu_f18);
	ck_assert(m.has_acf);
	ck_assert_uint_eq(m.cp.code, PPP_CONF_REJ);
	ck_assert_uint_eq(m.cp.length, 7);
	ck_assert_str_eq(summary(), "PPP LCP Configure-Reject id 0 [callback=CBCP]");
}
END_TEST

START_TEST(lcp_other_codes)
{
	/* tshark frame 27: Echo Request, id 33, magic 0xe4d9c957 */
	dec_ok(lab_ppp_f27, sizeof lab_ppp_f27);
	ck_assert_uint_eq(m.cp.code, PPP_ECHO_REQ);
	ck_assert_uint_eq(m.cp.id, 0x21);
	ck_assert(m.cp.has_magic);
	ck_assert_uint_eq(m.cp.magic, 0xe4d9c957);
	ck_assert_uint_eq(m.cp.dlen, 0);
	/* frame 29: Termination Request id 48, data "User request" */
	dec_ok(lab_ppp_f29, sizeof lab_ppp_f29);
	ck_assert_uint_eq(m.cp.code, PPP_TERM_REQ);
	ck_assert_uint_eq(m.cp.id, 0x30);
	ck_assert_uint_eq(m.cp.dlen, 12);
	ck_assert_mem_eq(m.cp.data, "User request", 12);
	ck_assert_str_eq(summary(), "PPP LCP Terminate-Request id 48 \"User request\"");
	dec_ok(lab_ppp_f30, sizeof lab_ppp_f30);
	ck_assert_str_eq(summary(), "PPP LCP Terminate-Ack id 48");
	/* lulu frame 31: Identification id 2, magic 0x0c6f3548, message MSRASV5.20 */
	dec_ok(lulu_f31, sizeof lulu_f31);
	ck_assert_uint_eq(m.cp.code, PPP_IDENTIFICATION);
	ck_assert_uint_eq(m.cp.length, 18);
	ck_assert_uint_eq(m.cp.magic, 0x0c6f3548);
	ck_assert_uint_eq(m.cp.dlen, 10);
	ck_assert_mem_eq(m.cp.data, "MSRASV5.20", 10);
	json_t *j = ppp_to_json(&m);
	ck_assert_str_eq(json_string_value(json_object_get(j, "message")), "MSRASV5.20");
	ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "Identification");
	json_decref(j);
	/* lulu frame 39: Protocol Reject, rejected protocol 0x8057, the IPV6CP packet inside */
	dec_ok(lulu_f39, sizeof lulu_f39);
	ck_assert_uint_eq(m.cp.code, PPP_PROTO_REJ);
	ck_assert_uint_eq(m.cp.length, 20);
	ck_assert_uint_eq(m.cp.rejected_proto, PPP_PROTO_IPV6CP);
	ck_assert_uint_eq(m.cp.dlen, 14);
	ck_assert_str_eq(summary(), "PPP LCP Protocol-Reject id 2 proto IPV6CP (0x8057)");
	/* the rejected packet decodes as IPV6CP once given its protocol number */
	uint8_t inner[32] = { 0x80, 0x57 };
	memcpy(inner + 2, m.cp.data, m.cp.dlen);
	dec_ok(inner, 2 + 14);
	ck_assert_uint_eq(m.proto, PPP_PROTO_IPV6CP);
	ck_assert_uint_eq(m.cp.id, 5);
}
END_TEST

START_TEST(time_remaining_and_code_reject)
{
	/* constructed (RFC 1661 5.8 / RFC 1570): Time-Remaining magic 0x01020304, 3600 s,
	 * message "bye"; then a Code-Reject carrying a rejected packet */
	uint8_t b[64];
	const uint8_t tr[] = { 1, 2, 3, 4, 0, 0, 0x0e, 0x10, 'b', 'y', 'e' };
	size_t n = frame(b, PPP_PROTO_LCP, PPP_TIME_REMAINING, 9, tr, sizeof tr);
	dec_ok(b, n);
	ck_assert_uint_eq(m.cp.magic, 0x01020304);
	ck_assert_uint_eq(m.cp.seconds, 3600);
	ck_assert_str_eq(summary(), "PPP LCP Time-Remaining id 9 magic=0x01020304 seconds=3600 "
	                 "\"bye\"");
	uint8_t out[64];
	ck_assert_uint_eq(ppp_encode(&m, out, sizeof out), n);
	ck_assert_mem_eq(out, b, n);
	/* Time-Remaining without room for the seconds */
	n = frame(b, PPP_PROTO_LCP, PPP_TIME_REMAINING, 9, tr, 6);
	dec_fail(b, n, 12, "seconds");
	/* Echo-Request without room for the magic number */
	n = frame(b, PPP_PROTO_LCP, PPP_ECHO_REQ, 1, tr, 2);
	dec_fail(b, n, 8, "magic");
	/* Protocol-Reject without room for the protocol */
	n = frame(b, PPP_PROTO_LCP, PPP_PROTO_REJ, 1, tr, 1);
	dec_fail(b, n, 8, "rejected protocol");
	const uint8_t cr[] = { 0x42, 0x07, 0x00, 0x04 };
	n = frame(b, PPP_PROTO_LCP, PPP_CODE_REJ, 3, cr, sizeof cr);
	dec_ok(b, n);
	ck_assert_str_eq(summary(), "PPP LCP Code-Reject id 3 rejected code 66");
}
END_TEST

START_TEST(chap_md5)
{
	/* tshark frame 14: Challenge id 1, Value Size 16, Value f6031890..., Name vnet-srv */
	dec_ok(lab_ppp_f14, sizeof lab_ppp_f14);
	ck_assert_int_eq(m.kind, PPP_KIND_CHAP);
	ck_assert_uint_eq(m.chap.code, CHAP_CHALLENGE);
	ck_assert_uint_eq(m.chap.length, 29);
	ck_assert_uint_eq(m.chap.value_len, 16);
	ck_assert_uint_eq(m.chap.value[0], 0xf6);
	ck_assert_uint_eq(m.chap.name_len, 8);
	ck_assert_mem_eq(m.chap.name, "vnet-srv", 8);
	ck_assert_int_eq(m.chap.variant, PPP_CHAP_PLAIN);
	ck_assert_str_eq(summary(), "PPP CHAP Challenge id 1 name=\"vnet-srv\" "
	                 "value=f6031890c35edb05086bba84cbe47882");
	/* frame 15: Response, name labuser */
	dec_ok(lab_ppp_f15, sizeof lab_ppp_f15);
	ck_assert_uint_eq(m.chap.code, CHAP_RESPONSE);
	ck_assert_mem_eq(m.chap.name, "labuser", 7);
	ck_assert_ptr_null(m.chap.nt_response);
	/* frame 16: Success, message "Access granted" */
	dec_ok(lab_ppp_f16, sizeof lab_ppp_f16);
	ck_assert_uint_eq(m.chap.code, CHAP_SUCCESS);
	ck_assert_uint_eq(m.chap.msg_len, 14);
	ck_assert(!m.chap.has_success);
	ck_assert_str_eq(summary(), "PPP CHAP Success id 1 \"Access granted\"");
	json_t *j = ppp_to_json(&m);
	ck_assert_str_eq(json_string_value(json_object_get(j, "message")), "Access granted");
	json_decref(j);
}
END_TEST

START_TEST(chap_mschapv2)
{
	/* lulu frame 28: Challenge id 136, value 95a87fa6..., name pptpd; no ACF */
	dec_ok(lulu_f28, sizeof lulu_f28);
	ck_assert(!m.has_acf);
	ck_assert_uint_eq(m.hdr_len, 2);
	ck_assert_uint_eq(m.chap.id, 136);
	ck_assert_uint_eq(m.chap.length, 26);
	ck_assert_mem_eq(m.chap.name, "pptpd", 5);
	/* frame 35: Response, Value Size 49, name lulu */
	dec_ok(lulu_f35, sizeof lulu_f35);
	ck_assert_uint_eq(m.chap.length, 58);
	ck_assert_uint_eq(m.chap.value_len, 49);
	ck_assert_int_eq(m.chap.variant, PPP_CHAP_MSCHAPV2);
	ck_assert_ptr_eq(m.chap.peer_challenge, m.chap.value);
	ck_assert_ptr_eq(m.chap.nt_response, m.chap.value + 24);
	ck_assert_uint_eq(m.chap.nt_response[0], 0xed);
	ck_assert_uint_eq(m.chap.flags, 0);
	json_t *j = ppp_to_json(&m);
	json_t *r = json_object_get(j, "mschapv2");
	ck_assert_str_eq(json_string_value(json_object_get(r, "peer_challenge")),
	                 "e2ae0995eaac6ceff0d9757428b51509");
	ck_assert_str_eq(json_string_value(json_object_get(r, "nt_response")),
	                 "ed8cc90fd40faa2d6bcd0abd0b1f562fd777df6c5609c98b");
	ck_assert_str_eq(json_string_value(json_object_get(j, "name")), "lulu");
	json_decref(j);
	/* with the negotiated algorithm given as MS-CHAP (v1) the same bytes split as LM/NT */
	struct ppp_hint h = { .chap_alg = CHAP_ALG_MSCHAP };
	ck_assert_int_eq(ppp_decode_ex(lulu_f35, sizeof lulu_f35, &h, &m, &err), 0);
	ck_assert_int_eq(m.chap.variant, PPP_CHAP_MSCHAPV1);
	ck_assert_ptr_eq(m.chap.lm_response, m.chap.value);
	/* frame 36: Success "S=460874E1... M=Access granted" */
	dec_ok(lulu_f36, sizeof lulu_f36);
	ck_assert(m.chap.has_success);
	ck_assert_uint_eq(m.chap.success.auth_response[0], 0x46);
	ck_assert_uint_eq(m.chap.success.auth_response[19], 0x6a);
	ck_assert(m.chap.success.has_msg);
	ck_assert_uint_eq(m.chap.success.msg_len, 14);
	ck_assert_str_eq(summary(), "PPP CHAP Success id 136 "
	                 "S=460874E1CADF35FBD9F6E80C01A1ADC5746F0B6A \"M=Access granted\"");
	/* told the link uses CHAP-MD5, the same text stays a plain message */
	h.chap_alg = CHAP_ALG_MD5;
	ck_assert_int_eq(ppp_decode_ex(lulu_f36, sizeof lulu_f36, &h, &m, &err), 0);
	ck_assert(!m.chap.has_success);
}
END_TEST

START_TEST(chap_failure)
{
	/* constructed: a CHAP Failure carrying the MS-CHAP-Error text FreeRADIUS sent in
	 * lab/radius-freeradius.pcap frame 12 (RFC 2759 section 6 format) */
	const char *t = "E=691 R=1 C=5028521ba36574824d44594064e4b4f5 V=3 M=Authentication rejected";
	uint8_t b[128];
	size_t n = frame(b, PPP_PROTO_CHAP, CHAP_FAILURE, 1, t, strlen(t));
	dec_ok(b, n);
	ck_assert(m.chap.has_failure);
	ck_assert_int_eq(m.chap.variant, PPP_CHAP_MSCHAPV2);
	ck_assert_uint_eq(m.chap.failure.error, 691);
	ck_assert_uint_eq(m.chap.failure.retry, 1);
	ck_assert_uint_eq(m.chap.failure.version, 3);
	ck_assert_uint_eq(m.chap.failure.challenge_len, 16);
	ck_assert_uint_eq(m.chap.failure.challenge[0], 0x50);
	ck_assert_uint_eq(m.chap.failure.challenge[15], 0xf5);
	ck_assert_str_eq(summary(), "PPP CHAP Failure id 1 E=691 (authentication failure) R=1 "
	                 "V=3 \"M=Authentication rejected\"");
	json_t *j = ppp_to_json(&m);
	json_t *e = json_object_get(j, "mschap_error");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "error")), 691);
	ck_assert_str_eq(json_string_value(json_object_get(e, "error_name")),
	                 "authentication failure");
	ck_assert_str_eq(json_string_value(json_object_get(e, "challenge")),
	                 "5028521ba36574824d44594064e4b4f5");
	json_decref(j);
	uint8_t out[128];
	ck_assert_uint_eq(ppp_encode(&m, out, sizeof out), n);
	ck_assert_mem_eq(out, b, n);

	/* MS-CHAPv1 style: 16 hex digit challenge, V=2; every Windows error is named */
	static const struct { unsigned e; const char *name; } errs[] = {
		{ 646, "restricted logon hours" }, { 647, "account disabled" },
		{ 648, "password expired" }, { 649, "no dial-in permission" },
		{ 691, "authentication failure" }, { 709, "error changing password" },
	};
	for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
		char txt[64];
		snprintf(txt, sizeof txt, "E=%u R=0 C=0011223344556677 V=2", errs[i].e);
		n = frame(b, PPP_PROTO_CHAP, CHAP_FAILURE, 2, txt, strlen(txt));
		dec_ok(b, n);
		ck_assert(m.chap.has_failure);
		ck_assert_int_eq(m.chap.variant, PPP_CHAP_MSCHAPV1);
		ck_assert_uint_eq(m.chap.failure.error, errs[i].e);
		ck_assert_uint_eq(m.chap.failure.challenge_len, 8);
		ck_assert_str_eq(mschap_error_name(errs[i].e), errs[i].name);
		ck_assert(!m.chap.failure.has_msg);
	}
	ck_assert_ptr_null(mschap_error_name(692));
	/* a plain-text failure is not parsed */
	n = frame(b, PPP_PROTO_CHAP, CHAP_FAILURE, 2, "denied", 6);
	dec_ok(b, n);
	ck_assert(!m.chap.has_failure);
	ck_assert_str_eq(summary(), "PPP CHAP Failure id 2 \"denied\"");
}
END_TEST

START_TEST(mschap_text_parsers)
{
	struct mschap_failure f;
	struct mschap_success s;
	const char *bad[] = {
		"E=", "E=abc R=0", "R=0 E=691", "E=691 C=123", "E=691 C=zz112233445566778899aabbccddeeff",
		"E=12345678901", "E=691 X=1", "E=691 R", "",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(mschap_parse_failure((const uint8_t *)bad[i], strlen(bad[i]), &f) == -1,
		              "accepted \"%s\"", bad[i]);
	const char *ok = "E=648 R=1 V=3";
	ck_assert_int_eq(mschap_parse_failure((const uint8_t *)ok, strlen(ok), &f), 0);
	ck_assert(f.has_error && f.has_retry && f.has_version && !f.has_challenge && !f.has_msg);
	ck_assert_uint_eq(f.error, 648);
	/* M= takes the rest of the text, spaces included */
	const char *mm = "E=709 M=a b  c";
	ck_assert_int_eq(mschap_parse_failure((const uint8_t *)mm, strlen(mm), &f), 0);
	ck_assert_uint_eq(f.msg_len, 6);

	const char *s1 = "S=407A5589115FD0D6209F510FE9C04566932CDA56";
	ck_assert_int_eq(mschap_parse_success((const uint8_t *)s1, strlen(s1), &s), 0);
	ck_assert(!s.has_msg);
	ck_assert_uint_eq(s.auth_response[0], 0x40);
	ck_assert_int_eq(mschap_parse_success((const uint8_t *)s1, 41, &s), -1);
	const char *s2 = "S=407A5589115FD0D6209F510FE9C04566932CDA56X";
	ck_assert_int_eq(mschap_parse_success((const uint8_t *)s2, strlen(s2), &s), -1);
	const char *s3 = "S=407A5589115FD0D6209F510FE9C04566932CDAG6";
	ck_assert_int_eq(mschap_parse_success((const uint8_t *)s3, strlen(s3), &s), -1);
}
END_TEST

START_TEST(change_password)
{
	/* constructed per RFC 2759 section 7: code 7, 516 + 16 + 16 + 8 + 24 + 2 bytes */
	uint8_t body[582], b[600];
	for (size_t i = 0; i < sizeof body; i++) body[i] = (uint8_t)i;
	memset(body + 548, 0, 8);
	body[580] = 0; body[581] = 0;
	size_t n = frame(b, PPP_PROTO_CHAP, CHAP_CHANGE_PASSWORD, 4, body, sizeof body);
	dec_ok(b, n);
	ck_assert_ptr_eq(m.chap.enc_password, b + 8);
	ck_assert_ptr_eq(m.chap.enc_hash, b + 8 + 516);
	ck_assert_ptr_eq(m.chap.peer_challenge, b + 8 + 532);
	ck_assert_ptr_eq(m.chap.nt_response, b + 8 + 556);
	ck_assert_int_eq(m.chap.variant, PPP_CHAP_MSCHAPV2);
	ck_assert(strstr(summary(), "PPP CHAP Change-Password id 4 MS-CHAPv2") == summary());
	uint8_t out[600];
	ck_assert_uint_eq(ppp_encode(&m, out, sizeof out), n);
	ck_assert_mem_eq(out, b, n);
	n = frame(b, PPP_PROTO_CHAP, CHAP_CHANGE_PASSWORD, 4, body, 581);
	dec_fail(b, n, 8, "expected 582");
}
END_TEST

START_TEST(pap)
{
	/* tshark frame 17: Authenticate-Request id 0, Peer-ID ixia, Password-Length 4 */
	dec_ok(ixia_f17, sizeof ixia_f17);
	ck_assert_int_eq(m.kind, PPP_KIND_PAP);
	ck_assert_uint_eq(m.pap.length, 14);
	ck_assert_mem_eq(m.pap.peer_id, "ixia", 4);
	ck_assert_uint_eq(m.pap.password_len, 4);
	ck_assert_str_eq(summary(), "PPP PAP Authenticate-Request id 0 peer-id=\"ixia\" "
	                 "password=(4 bytes)");
	json_t *j = ppp_to_json(&m);
	ck_assert_ptr_null(json_object_get(j, "password"));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "password_length")), 4);
	json_decref(j);
	struct ppp_hint h = { .show_password = true };
	char b[256];
	ppp_summary_ex(&m, &h, b, sizeof b);
	ck_assert_str_eq(b, "PPP PAP Authenticate-Request id 0 peer-id=\"ixia\" password=\"ixia\"");
	/* frame 18: Authenticate-Ack, Message-Length 0 */
	dec_ok(ixia_f18, sizeof ixia_f18);
	ck_assert_uint_eq(m.pap.code, PAP_AUTH_ACK);
	ck_assert_uint_eq(m.pap.msg_len, 0);
	/* Nak with a message; a peer-id length that runs past Length */
	uint8_t f[64];
	const uint8_t nak[] = { 6, 'n', 'o', ' ', 'w', 'a', 'y' };
	size_t n = frame(f, PPP_PROTO_PAP, PAP_AUTH_NAK, 1, nak, sizeof nak);
	dec_ok(f, n);
	ck_assert_str_eq(summary(), "PPP PAP Authenticate-Nak id 1 \"no way\"");
	const uint8_t badreq[] = { 9, 'a', 'b' };
	n = frame(f, PPP_PROTO_PAP, PAP_AUTH_REQ, 1, badreq, sizeof badreq);
	dec_fail(f, n, 8, "peer-id length 9");
	const uint8_t badpw[] = { 1, 'a', 5, 'x' };
	n = frame(f, PPP_PROTO_PAP, PAP_AUTH_REQ, 1, badpw, sizeof badpw);
	dec_fail(f, n, 10, "password length 5");
}
END_TEST

START_TEST(ncps)
{
	/* tshark frame 20: IPCP Configuration Nak id 1, IP Address 10.200.0.10, Primary DNS
	 * 10.200.0.1 */
	dec_ok(lab_ppp_f20, sizeof lab_ppp_f20);
	ck_assert_uint_eq(m.proto, PPP_PROTO_IPCP);
	ck_assert_uint_eq(m.cp.code, PPP_CONF_NAK);
	ck_assert_str_eq(summary(), "PPP IPCP Configure-Nak id 1 [addr=10.200.0.10 dns1=10.200.0.1]");
	json_t *j = ppp_to_json(&m);
	json_t *o = json_array_get(json_object_get(j, "options"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(o, "type")), "Primary-DNS-Server");
	ck_assert_str_eq(json_string_value(json_object_get(o, "dns")), "10.200.0.1");
	json_decref(j);
	dec_ok(lab_ppp_f17, sizeof lab_ppp_f17);
	ck_assert_str_eq(summary(), "PPP IPCP Configure-Request id 1 [addr=10.200.0.1]");
	/* lulu frame 49: Configuration Reject id 8 of DNS/NBNS 129..132 */
	dec_ok(lulu_f49, sizeof lulu_f49);
	ck_assert_uint_eq(m.cp.nopts, 4);
	ck_assert_str_eq(summary(), "PPP IPCP Configure-Reject id 8 [dns1=0.0.0.0 wins1=0.0.0.0 "
	                 "dns2=0.0.0.0 wins2=0.0.0.0]");
	/* lulu frame 37: CCP Configuration Request, MPPE supported bits 0x01000040 H S */
	dec_ok(lulu_f37, sizeof lulu_f37);
	ck_assert_uint_eq(m.proto, PPP_PROTO_CCP);
	ck_assert_str_eq(summary(), "PPP CCP Configure-Request id 1 [MPPE=0x01000040(H,S)]");
	j = ppp_to_json(&m);
	o = json_array_get(json_object_get(j, "options"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(o, "supported_bits")), "0x01000040");
	ck_assert(json_is_true(json_object_get(o, "stateless")));
	ck_assert(json_is_true(json_object_get(o, "mppe_128")));
	ck_assert(json_is_false(json_object_get(o, "mppe_56")));
	ck_assert(json_is_false(json_object_get(o, "mppe_40")));
	ck_assert(json_is_false(json_object_get(o, "mppc")));
	json_decref(j);
	/* lulu frame 38: IPV6CP Interface Identifier dc:15:15:9b:59:57:c9:6d */
	dec_ok(lulu_f38, sizeof lulu_f38);
	ck_assert_str_eq(summary(), "PPP IPV6CP Configure-Request id 5 [ifid=dc:15:15:9b:59:57:c9:6d]");
	j = ppp_to_json(&m);
	o = json_array_get(json_object_get(j, "options"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(o, "interface_identifier")),
	                 "dc:15:15:9b:59:57:c9:6d");
	json_decref(j);
}
END_TEST

START_TEST(data_and_unknown)
{
	dec_ok(l2tp_f23, sizeof l2tp_f23);
	ck_assert_int_eq(m.kind, PPP_KIND_DATA);
	ck_assert_uint_eq(m.proto, PPP_PROTO_IP);
	ck_assert_ptr_eq(m.payload, l2tp_f23 + 4);
	ck_assert_uint_eq(m.payload[0], 0x45);
	/* lulu frame 60: 0xfd in one byte (PFC), compressed datagram */
	dec_ok(lulu_f60, sizeof lulu_f60);
	ck_assert(m.pfc);
	ck_assert_uint_eq(m.proto, PPP_PROTO_COMP);
	ck_assert_uint_eq(m.hdr_len, 1);
	ck_assert_str_eq(summary(), "PPP compressed 31 bytes");
	const uint8_t unk[] = { 0xff, 0x03, 0x40, 0x21, 1, 2, 3 };
	dec_ok(unk, sizeof unk);
	ck_assert_int_eq(m.kind, PPP_KIND_UNKNOWN);
	ck_assert_str_eq(summary(), "PPP protocol 0x4021 3 bytes");
	json_t *j = ppp_to_json(&m);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "protocol_num")), 0x4021);
	json_decref(j);
}
END_TEST

START_TEST(eap)
{
	uint8_t b[128], out[128];
	/* constructed per RFC 3748: Response/Identity "user" */
	const uint8_t id[] = { 1, 'u', 's', 'e', 'r' };
	size_t n = frame(b, PPP_PROTO_EAP, EAP_RESPONSE, 1, id, sizeof id);
	dec_ok(b, n);
	ck_assert_int_eq(m.kind, PPP_KIND_EAP);
	ck_assert(m.eap.has_type);
	ck_assert_uint_eq(m.eap.type, EAP_TYPE_IDENTITY);
	ck_assert_str_eq(summary(), "PPP EAP Response id 1 Identity \"user\"");
	ck_assert_uint_eq(ppp_encode(&m, out, sizeof out), n);
	ck_assert_mem_eq(out, b, n);
	/* Nak asking for MS-CHAPv2 and PEAP */
	const uint8_t nak[] = { 3, 26, 25 };
	n = frame(b, PPP_PROTO_EAP, EAP_RESPONSE, 2, nak, sizeof nak);
	dec_ok(b, n);
	ck_assert_str_eq(summary(), "PPP EAP Response id 2 Nak desired MS-CHAPv2 PEAP");
	/* PEAP start: flags S, version 1 */
	const uint8_t peap[] = { 25, 0x21 };
	n = frame(b, PPP_PROTO_EAP, EAP_REQUEST, 3, peap, sizeof peap);
	dec_ok(b, n);
	ck_assert_uint_eq(m.eap.tls_flags, 0x21);
	ck_assert_str_eq(summary(), "PPP EAP Request id 3 PEAP flags=S data 0 bytes");
	/* a TLS fragment without flags */
	const uint8_t tls0[] = { 13, 0x00, 0x16, 0x03 };
	n = frame(b, PPP_PROTO_EAP, EAP_RESPONSE, 4, tls0, sizeof tls0);
	dec_ok(b, n);
	ck_assert_str_eq(summary(), "PPP EAP Response id 4 TLS flags=none data 2 bytes");
	/* TLS with L flag but the length cut short */
	const uint8_t tls[] = { 13, 0x80, 0, 0 };
	n = frame(b, PPP_PROTO_EAP, EAP_REQUEST, 4, tls, sizeof tls);
	dec_fail(b, n, 10, "TLS message length");
	/* EAP-MS-CHAPv2 Challenge (RFC 2759 vector challenge), MS-CHAPv2-ID 7, name "srv" */
	const uint8_t mc[] = { 26, 1, 7, 0, 24, 16, 0x5b, 0x5d, 0x7c, 0x7d, 0x7b, 0x3f, 0x2f,
	                       0x3e, 0x3c, 0x2c, 0x60, 0x21, 0x32, 0x26, 0x26, 0x28, 's', 'r',
	                       'v' };
	n = frame(b, PPP_PROTO_EAP, EAP_REQUEST, 5, mc, sizeof mc);
	dec_ok(b, n);
	ck_assert(m.eap.has_mschapv2);
	ck_assert(m.eap.has_ms_header);
	ck_assert_uint_eq(m.eap.ms_length, 24);
	ck_assert_uint_eq(m.eap.chap.code, CHAP_CHALLENGE);
	ck_assert_uint_eq(m.eap.chap.id, 7);
	ck_assert_uint_eq(m.eap.chap.value_len, 16);
	ck_assert_mem_eq(m.eap.chap.name, "srv", 3);
	ck_assert_str_eq(summary(), "PPP EAP Request id 5 MS-CHAPv2 Challenge id 7 name=\"srv\" "
	                 "value=5b5d7c7d7b3f2f3e3c2c602132262628");
	ck_assert_uint_eq(ppp_encode(&m, out, sizeof out), n);
	ck_assert_mem_eq(out, b, n);
	/* MS-Length larger than the data */
	uint8_t mc2[sizeof mc];
	memcpy(mc2, mc, sizeof mc);
	mc2[4] = 200;
	n = frame(b, PPP_PROTO_EAP, EAP_REQUEST, 5, mc2, sizeof mc2);
	dec_fail(b, n, 11, "MS-Length 200");
	/* peer's bare Success acknowledgement: opcode only */
	const uint8_t ack[] = { 26, 3 };
	n = frame(b, PPP_PROTO_EAP, EAP_RESPONSE, 6, ack, sizeof ack);
	dec_ok(b, n);
	ck_assert(!m.eap.has_ms_header);
	ck_assert_uint_eq(m.eap.chap.code, CHAP_SUCCESS);
	/* Success packet, no type */
	n = frame(b, PPP_PROTO_EAP, EAP_SUCCESS, 6, NULL, 0);
	dec_ok(b, n);
	ck_assert(!m.eap.has_type);
	ck_assert_str_eq(summary(), "PPP EAP Success id 6");
	/* Request with no type octet */
	dec_fail(b, frame(b, PPP_PROTO_EAP, EAP_REQUEST, 6, NULL, 0), 8, "no room for the type");
}
END_TEST

START_TEST(multilink)
{
	/* RFC 1990 long format: B=1 E=1 seq 0x000123; short format with the hint */
	const uint8_t mp[] = { 0xff, 0x03, 0x00, 0x3d, 0xc0, 0x00, 0x01, 0x23, 'x' };
	dec_ok(mp, sizeof mp);
	ck_assert_int_eq(m.kind, PPP_KIND_MP);
	ck_assert(m.mp.begin && m.mp.end);
	ck_assert_uint_eq(m.mp.seq, 0x123);
	ck_assert_uint_eq(m.mp.frag_len, 1);
	ck_assert_str_eq(summary(), "PPP MP seq 291 B E fragment 1 bytes");
	uint8_t out[16];
	ck_assert_uint_eq(ppp_encode(&m, out, sizeof out), sizeof mp);
	ck_assert_mem_eq(out, mp, sizeof mp);
	const uint8_t sh[] = { 0x3d, 0x8a, 0xbc, 'y' };
	struct ppp_hint h = { .mp_short_seq = true };
	ck_assert_int_eq(ppp_decode_ex(sh, sizeof sh, &h, &m, &err), 0);
	ck_assert(m.mp.begin && !m.mp.end);
	ck_assert_uint_eq(m.mp.seq, 0xabc);
	ck_assert_uint_eq(ppp_encode(&m, out, sizeof out), sizeof sh);
	ck_assert_mem_eq(out, sh, sizeof sh);
	dec_fail(mp, 6, 4, "MP: header truncated");
}
END_TEST

/* Every prefix of every vector: either a clean error at an offset inside the prefix, or
 * (only for payload-carrying kinds) a decode. Control packets must fail with the
 * offset of the field that does not fit. */
START_TEST(truncations)
{
	for (size_t v = 0; v < NVECS; v++) {
		const struct vec *x = &vecs[v];
		dec_ok(x->p, x->len);
		size_t hdr = m.hdr_len;
		enum ppp_kind kind = m.kind;
		for (size_t n = 0; n < x->len; n++) {
			memset(&err, 0, sizeof err);
			int rc = ppp_decode(x->p, n, &m, &err);
			if (kind == PPP_KIND_DATA && n >= hdr) {
				ck_assert_int_eq(rc, 0);
				ck_assert_uint_eq(m.payload_len, n - hdr);
				continue;
			}
			ck_assert_msg(rc == -1, "%s: prefix %zu decoded", x->name, n);
			ck_assert_msg(err.off <= n, "%s: prefix %zu error offset %zu", x->name, n,
			              err.off);
			ck_assert_msg(err.reason[0], "%s: prefix %zu no reason", x->name, n);
			if (n >= hdr + 4) {
				ck_assert_msg(err.off == hdr + 2, "%s: prefix %zu offset %zu", x->name,
				              n, err.off);
				ck_assert_msg(strstr(err.reason, "bytes available"), "%s: %s",
				              x->name, err.reason);
			} else if (n >= hdr) {
				ck_assert_msg(strstr(err.reason, "header truncated"), "%s: %s",
				              x->name, err.reason);
			}
		}
	}
}
END_TEST

START_TEST(malformed)
{
	uint8_t b[300];
	/* option length 1 */
	const uint8_t o1[] = { 1, 1, 0x05, 0x78 };
	dec_fail(b, frame(b, PPP_PROTO_LCP, 1, 1, o1, sizeof o1), 9, "length 1 < 2");
	/* option running past the packet */
	const uint8_t o2[] = { 5, 6, 1, 2, 3 };
	dec_fail(b, frame(b, PPP_PROTO_LCP, 1, 1, o2, sizeof o2), 9, "runs past the packet");
	/* option type with no length octet */
	const uint8_t o3[] = { 7, 2, 8 };
	dec_fail(b, frame(b, PPP_PROTO_LCP, 1, 1, o3, sizeof o3), 10, "no length octet");
	/* MRU option of the wrong size */
	const uint8_t o4[] = { 1, 3, 5 };
	dec_fail(b, frame(b, PPP_PROTO_LCP, 1, 1, o4, sizeof o4), 9, "expected 4");
	/* IPCP address of the wrong size */
	const uint8_t o5[] = { 3, 5, 10, 0, 0 };
	dec_fail(b, frame(b, PPP_PROTO_IPCP, 1, 1, o5, sizeof o5), 9, "IPCP option IP-Address");
	/* Length field below 4 and above the frame */
	uint8_t l[] = { 0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 3 };
	dec_fail(l, sizeof l, 6, "length 3 < 4");
	l[7] = 9;
	dec_fail(l, sizeof l, 6, "length 9 > 4 bytes available");
	/* even protocol number, lone address octet */
	const uint8_t ev[] = { 0xff, 0x03, 0xc0, 0x20, 1, 1, 0, 4 };
	dec_fail(ev, sizeof ev, 2, "invalid");
	const uint8_t lone[] = { 0xff, 0x21 };
	dec_fail(lone, sizeof lone, 0, "control");
	/* more options than fit: 65 PFC options */
	uint8_t many[130];
	for (size_t i = 0; i < 65; i++) { many[2 * i] = 7; many[2 * i + 1] = 2; }
	dec_fail(b, frame(b, PPP_PROTO_LCP, 1, 1, many, sizeof many), 8 + 128, "more than 64");
	/* 64 options are fine */
	dec_ok(b, frame(b, PPP_PROTO_LCP, 1, 1, many, 128));
	ck_assert_uint_eq(m.cp.nopts, 64);
	/* CHAP value size past the end */
	const uint8_t cv[] = { 20, 1, 2 };
	dec_fail(b, frame(b, PPP_PROTO_CHAP, 1, 1, cv, sizeof cv), 8, "value size 20");
	/* MS-CHAPv2 response that is not 49 bytes when the algorithm says v2 */
	const uint8_t cr[] = { 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	size_t n = frame(b, PPP_PROTO_CHAP, 2, 1, cr, sizeof cr);
	struct ppp_hint h = { .chap_alg = CHAP_ALG_MSCHAPV2 };
	ck_assert_int_eq(ppp_decode_ex(b, n, &h, &m, &err), -1);
	ck_assert(strstr(err.reason, "expected 49"));
	/* padding after Length is ignored (and not re-encoded) */
	uint8_t pad[sizeof lab_ppp_f30 + 3];
	memcpy(pad, lab_ppp_f30, sizeof lab_ppp_f30);
	memset(pad + sizeof lab_ppp_f30, 0, 3);
	dec_ok(pad, sizeof pad);
	ck_assert_uint_eq(m.cp.dlen, 0);
	uint8_t out[32];
	ck_assert_uint_eq(ppp_encode(&m, out, sizeof out), sizeof lab_ppp_f30);
}
END_TEST

START_TEST(roundtrip)
{
	uint8_t out[512];
	for (size_t v = 0; v < NVECS; v++) {
		const struct vec *x = &vecs[v];
		dec_ok(x->p, x->len);
		size_t n = ppp_encode(&m, out, sizeof out);
		ck_assert_msg(n == x->len, "%s: encoded %zu of %zu", x->name, n, x->len);
		ck_assert_msg(memcmp(out, x->p, n) == 0, "%s: bytes differ", x->name);
		/* every shorter buffer is refused */
		for (size_t cap = 0; cap < x->len; cap++)
			ck_assert_uint_eq(ppp_encode(&m, out, cap), 0);
		/* summaries and JSON exist for all */
		char s[256];
		ppp_summary(&m, s, sizeof s);
		ck_assert(strncmp(s, "PPP ", 4) == 0);
		json_t *j = ppp_to_json(&m);
		ck_assert_ptr_nonnull(j);
		ck_assert_ptr_nonnull(json_object_get(j, "protocol"));
		json_decref(j);
	}
}
END_TEST

START_TEST(encode_built)
{
	/* a server's IPCP Configure-Nak built from scratch, then decoded back */
	struct ppp_msg b;
	memset(&b, 0, sizeof b);
	static const uint8_t addr[4] = { 10, 0, 0, 5 };
	b.has_acf = true;
	b.proto = PPP_PROTO_IPCP;
	b.kind = PPP_KIND_CP;
	b.cp.code = PPP_CONF_NAK;
	b.cp.id = 2;
	b.cp.nopts = 1;
	b.cp.opts[0].type = IPCP_OPT_ADDR;
	b.cp.opts[0].data = addr;
	b.cp.opts[0].dlen = 4;
	uint8_t out[64];
	size_t n = ppp_encode(&b, out, sizeof out);
	const uint8_t want[] = { 0xff, 0x03, 0x80, 0x21, 0x03, 0x02, 0x00, 0x0a, 0x03, 0x06,
	                         10, 0, 0, 5 };
	ck_assert_uint_eq(n, sizeof want);
	ck_assert_mem_eq(out, want, n);
	dec_ok(out, n);
	ck_assert_str_eq(summary(), "PPP IPCP Configure-Nak id 2 [addr=10.0.0.5]");
	/* a protocol compressed under PFC, no ACF */
	b.has_acf = false;
	b.pfc = true;
	b.proto = PPP_PROTO_IP;
	b.kind = PPP_KIND_DATA;
	b.payload = addr;
	b.payload_len = 4;
	n = ppp_encode(&b, out, sizeof out);
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(out[0], 0x21);
}
END_TEST

START_TEST(hint_from_lcp)
{
	struct ppp_hint h = { 0 };
	/* a Configure-Request teaches nothing; the Ack of lulu frame 26 (the same options
	 * as frame 15, tshark: Configuration Ack, Algorithm MS-CHAP-2) does */
	dec_ok(lulu_f15, sizeof lulu_f15);
	ck_assert(!ppp_hint_update(&h, &m));
	uint8_t ack[sizeof lulu_f15];
	memcpy(ack, lulu_f15, sizeof ack);
	ack[4] = PPP_CONF_ACK;
	dec_ok(ack, sizeof ack);
	ck_assert(ppp_hint_update(&h, &m));
	ck_assert_uint_eq(h.chap_alg, CHAP_ALG_MSCHAPV2);
	ck_assert(!ppp_hint_update(&h, &m));
	/* lab frame 13: Ack with CHAP MD5 */
	dec_ok(lab_ppp_f10, sizeof lab_ppp_f10);
	memcpy(ack, lab_ppp_f10, sizeof lab_ppp_f10);
	ack[4] = PPP_CONF_ACK;
	dec_ok(ack, sizeof lab_ppp_f10);
	ck_assert(ppp_hint_update(&h, &m));
	ck_assert_uint_eq(h.chap_alg, CHAP_ALG_MD5);
	/* with MD5 known, an "S=..." success text is not taken for MS-CHAPv2 */
	ck_assert_int_eq(ppp_decode_ex(lulu_f36, sizeof lulu_f36, &h, &m, &err), 0);
	ck_assert(!m.chap.has_success);
	/* SSNHF acknowledged */
	uint8_t b[32];
	const uint8_t ss[] = { 18, 2 };
	dec_ok(b, frame(b, PPP_PROTO_LCP, PPP_CONF_ACK, 3, ss, sizeof ss));
	ck_assert(ppp_hint_update(&h, &m));
	ck_assert(h.mp_short_seq);
}
END_TEST

START_TEST(escaping)
{
	char b[32];
	const uint8_t s[] = { 'a', 0, '\\', 0xff, '"' };
	text_printable(s, sizeof s, b, sizeof b);
	ck_assert_str_eq(b, "a\\x00\\x5c\\xff\"");
	/* never overruns: truncates at whole characters */
	text_printable(s, sizeof s, b, 5);
	ck_assert_str_eq(b, "a");
	json_t *j = json_text(s, sizeof s);
	ck_assert_str_eq(json_string_value(j), "a\\x00\\x5c\\xff\"");
	json_decref(j);
	/* lulu frame 33: Identification with binary bytes stays printable */
	const uint8_t id[] = { 0xc0, 0x21, 0x0c, 0x04, 0x00, 0x0a, 0x0c, 0x6f, 0x35, 0x48, 0x0c, 0xdc };
	dec_ok(id, sizeof id);
	ck_assert_str_eq(summary(), "PPP LCP Identification id 4 magic=0x0c6f3548 \"\\x0c\\xdc\"");
	/* a summary buffer that is too small is still terminated */
	char tiny[8];
	ppp_summary(&m, tiny, sizeof tiny);
	ck_assert_str_eq(tiny, "PPP LCP");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ppp");
	TCase *tc = tcase_create("decode");
	tcase_add_test(tc, lcp_configure);
	tcase_add_test(tc, lcp_other_codes);
	tcase_add_test(tc, time_remaining_and_code_reject);
	tcase_add_test(tc, chap_md5);
	tcase_add_test(tc, chap_mschapv2);
	tcase_add_test(tc, chap_failure);
	tcase_add_test(tc, mschap_text_parsers);
	tcase_add_test(tc, change_password);
	tcase_add_test(tc, pap);
	tcase_add_test(tc, ncps);
	tcase_add_test(tc, data_and_unknown);
	tcase_add_test(tc, eap);
	tcase_add_test(tc, multilink);
	tcase_add_test(tc, truncations);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, roundtrip);
	tcase_add_test(tc, encode_built);
	tcase_add_test(tc, hint_from_lcp);
	tcase_add_test(tc, escaping);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
