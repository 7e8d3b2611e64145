/* Diagnoses from generated exchanges: the failures the lab captures do not hold (PSK
 * mismatch, no reply, maximum retries, MS-CHAPv2 E=649, auth protocol refused, NAT,
 * a capture that starts mid-tunnel). Frames are built with the codecs' encoders and
 * wrapped in Ethernet/IPv4/UDP here, then run through the dispatcher and the tracker
 * exactly as `vnet pcap explain` does. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect.h"
#include "net.h"
#include "capture/explain.h"
#include "rules/facts.h"
#include "ike.h"
#include "capture/ikedecrypt.h"
#include "l2tp.h"
#include "rules/rules.h"
#include "capture/session.h"

static const uint8_t CLI[4] = {192, 0, 2, 7}, SRV[4] = {198, 51, 100, 1};

struct gen {
	struct dissect *d;
	struct sess_table *t;
	uint64_t frame, ns;
};

static void gen_init(struct gen *g)
{
	g->d = dissect_new(NULL);
	g->t = sess_table_new("gen.pcap");
	g->frame = 0;
	g->ns = 1700000000ull * 1000000000ull;
	ck_assert_ptr_nonnull(g->d);
	ck_assert_ptr_nonnull(g->t);
}

static void gen_free(struct gen *g)
{
	dissect_free(g->d);
	sess_table_free(g->t);
}

/* One Ethernet/IPv4/UDP frame, `gap_ms` after the previous one. */
static void udp_frame(struct gen *g, const uint8_t *src, uint16_t sport, const uint8_t *dst,
                      uint16_t dport, const uint8_t *pl, size_t n, unsigned gap_ms)
{
	uint8_t f[2048];
	ck_assert_uint_lt(n, sizeof f - 42);
	memset(f, 0, 42);
	f[12] = 0x08;
	size_t ipl = 20 + 8 + n;
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ipl >> 8);
	ip[3] = (uint8_t)ipl;
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	uint16_t sum = inet_cksum(ip, 20, 0);
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	uint8_t *u = ip + 20;
	u[0] = (uint8_t)(sport >> 8);
	u[1] = (uint8_t)sport;
	u[2] = (uint8_t)(dport >> 8);
	u[3] = (uint8_t)dport;
	u[4] = (uint8_t)((8 + n) >> 8);
	u[5] = (uint8_t)(8 + n);
	memcpy(u + 8, pl, n);
	g->frame++;
	g->ns += (uint64_t)gap_ms * 1000000ull;
	const struct dl_pkt *p = dissect_packet(g->d, 1, g->frame, g->ns, 0, f, 42 + n, 42 + n);
	ck_assert_msg(!p->has_err, "frame %llu: %s", (unsigned long long)g->frame, p->err.reason);
	sess_packet(g->t, p);
}

static struct ike_msg im;

static void ike_send(struct gen *g, bool from_client, uint16_t cport, const uint8_t *ispi,
                     const uint8_t *rspi, int version, uint8_t exch, uint8_t flags,
                     uint32_t msgid, const uint8_t *pltypes, size_t npl, unsigned gap_ms)
{
	static const uint8_t body[32] = {1, 2, 3};
	ike_msg_init(&im, version, exch, flags, msgid, ispi, rspi);
	for (size_t i = 0; i < npl; i++)
		ck_assert_ptr_nonnull(ike_add_payload(&im, pltypes[i], body, sizeof body));
	uint8_t buf[1024];
	size_t n = ike_encode(&im, buf, sizeof buf);
	ck_assert_uint_gt(n, 0);
	if (from_client)
		udp_frame(g, CLI, cport, SRV, 500, buf, n, gap_ms);
	else
		udp_frame(g, SRV, 500, CLI, cport, buf, n, gap_ms);
}

static struct ruleset *rs;
static struct facts *fx;

static void setup(void)
{
	struct diag_err err;
	rs = rules_load_default(&err);
	ck_assert_ptr_nonnull(rs);
	fx = facts_new();
}

static void teardown(void)
{
	rules_free(rs);
	facts_free(fx);
}

/* The best diagnosis of session `i`, its error, and the failed phase. */
static void expect(struct gen *g, size_t i, enum phase_id ph, const char *rule, int error)
{
	explain_finish(g->t);
	struct vsess *s = sess_at(g->t, i);
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(explain_failed_phase(s) == ph, "failed phase %s, expected %s",
	              phase_name(explain_failed_phase(s)), phase_name(ph));
	struct rule_match m[8];
	size_t n = explain_diagnose(g->t, s, rs, fx, m, 8);
	ck_assert_uint_gt(n, 0);
	ck_assert_str_eq(m[0].rule->id, rule);
	ck_assert_int_eq(explain_error(s, m, n), error);
}

static const uint8_t ISPI[8] = {1, 2, 3, 4, 5, 6, 7, 8}, RSPI[8] = {9, 9, 9, 9, 9, 9, 9, 9};
static const uint8_t ZERO[8];

START_TEST(ikev1_psk_mismatch_from_mm5)
{
	struct gen g;
	gen_init(&g);
	static const uint8_t sa[] = {IKE1_PL_SA}, ke[] = {IKE1_PL_KE, IKE1_PL_NONCE},
	                     id[] = {IKE1_PL_ID};
	ike_send(&g, true, 500, ISPI, ZERO, 1, IKE1_EXCH_MAIN, 0, 0, sa, 1, 0);
	ike_send(&g, false, 500, ISPI, RSPI, 1, IKE1_EXCH_MAIN, 0, 0, sa, 1, 1);
	ike_send(&g, true, 500, ISPI, RSPI, 1, IKE1_EXCH_MAIN, 0, 0, ke, 2, 1);
	ike_send(&g, false, 500, ISPI, RSPI, 1, IKE1_EXCH_MAIN, 0, 0, ke, 2, 1);
	/* message 5, encrypted, sent three times: the server never answers */
	for (int i = 0; i < 3; i++)
		ike_send(&g, true, 500, ISPI, RSPI, 1, IKE1_EXCH_MAIN, IKE1_FLAG_E, 0, id, 1, 1000);
	expect(&g, 0, PH_IKE1, "ike.psk.mismatch", 789);
	struct vsess *s = sess_at(g.t, 0);
	ck_assert_uint_eq(s->ph[PH_IKE1].retrans, 2);
	ck_assert_ptr_nonnull(sess_obs_get(s, "ike.mm5_undecryptable"));
	gen_free(&g);
}
END_TEST

START_TEST(ikev2_no_reply)
{
	struct gen g;
	gen_init(&g);
	static const uint8_t init[] = {IKE2_PL_SA, IKE2_PL_KE, IKE2_PL_NONCE};
	for (int i = 0; i < 4; i++)
		ike_send(&g, true, 500, ISPI, ZERO, 2, IKE2_EXCH_SA_INIT, IKE2_FLAG_I, 0, init, 3,
		         i ? 2000 : 0);
	expect(&g, 0, PH_IKE2, "ike.no-reply", 809);
	ck_assert_uint_eq(sess_at(g.t, 0)->ph[PH_IKE2].retrans, 3);
	gen_free(&g);
}
END_TEST

START_TEST(nat_several_clients)
{
	/* two IKEv2 initiators seen from one address with ports a NAT picked */
	struct gen g;
	gen_init(&g);
	static const uint8_t init[] = {IKE2_PL_SA, IKE2_PL_KE, IKE2_PL_NONCE};
	static const uint8_t ispi2[8] = {8, 7, 6, 5, 4, 3, 2, 1};
	ike_send(&g, true, 40001, ISPI, ZERO, 2, IKE2_EXCH_SA_INIT, IKE2_FLAG_I, 0, init, 3, 0);
	ike_send(&g, false, 40001, ISPI, RSPI, 2, IKE2_EXCH_SA_INIT, IKE2_FLAG_R, 0, init, 3, 1);
	ike_send(&g, true, 40002, ispi2, ZERO, 2, IKE2_EXCH_SA_INIT, IKE2_FLAG_I, 0, init, 3, 1);
	ike_send(&g, false, 40002, ispi2, RSPI, 2, IKE2_EXCH_SA_INIT, IKE2_FLAG_R, 0, init, 3, 1);
	explain_finish(g.t);
	ck_assert_uint_eq(sess_count(g.t), 2);
	const struct obs *o = sess_obs_get(sess_at(g.t, 0), "nat.clients_behind_same");
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->i, 2);
	o = sess_obs_get(sess_at(g.t, 1), "nat.detected");
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->i, 1);
	gen_free(&g);
}
END_TEST

static struct l2tp_msg lm;

static void l2tp_send(struct gen *g, bool from_client, const struct l2tp_msg *m, unsigned gap)
{
	uint8_t buf[1024];
	size_t n = l2tp_encode(m, buf, sizeof buf);
	ck_assert_uint_gt(n, 0);
	if (from_client)
		udp_frame(g, CLI, 1701, SRV, 1701, buf, n, gap);
	else
		udp_frame(g, SRV, 1701, CLI, 1701, buf, n, gap);
}

static void l2tp_ppp(struct gen *g, bool from_client, uint16_t tid, uint16_t sid,
                     const uint8_t *ppp, size_t n)
{
	l2tp_msg_init_data(&lm, tid, sid, false, 0, 0, ppp, n);
	l2tp_send(g, from_client, &lm, 1);
}

START_TEST(l2tp_max_retries)
{
	struct gen g;
	gen_init(&g);
	for (int i = 0; i < 5; i++) {
		l2tp_msg_init_ctrl(&lm, L2TP_MSG_SCCRQ, 0, 0, 0, 0);
		ck_assert_int_eq(l2tp_add_uint(&lm, L2TP_AVP_ASSIGNED_TUNNEL_ID, 77), 0);
		l2tp_send(&g, true, &lm, i ? 1000 : 0);
	}
	ck_assert_uint_eq(sess_count(g.t), 1);
	expect(&g, 0, PH_TUNNEL, "l2tp.max-retries.no-ipsec", 809);
	gen_free(&g);
}
END_TEST

/* LCP/CHAP frames with address/control bytes. */
static const uint8_t LCP_REQ_MSCHAPV2[] = {0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 9, 3, 5, 0xc2, 0x23, 0x81};
static const uint8_t LCP_REQ_PLAIN[] = {0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4};
static const uint8_t LCP_ACK_MSCHAPV2[] = {0xff, 0x03, 0xc0, 0x21, 2, 1, 0, 9, 3, 5, 0xc2, 0x23, 0x81};
static const uint8_t LCP_ACK_PLAIN[] = {0xff, 0x03, 0xc0, 0x21, 2, 1, 0, 4};
static const uint8_t LCP_REJ_AUTH[] = {0xff, 0x03, 0xc0, 0x21, 4, 1, 0, 9, 3, 5, 0xc2, 0x23, 0x81};

START_TEST(mid_tunnel_mschapv2_649)
{
	/* No SCCRQ: the capture starts with data messages; each direction names the
	 * receiver's tunnel ID and the tracker joins them into one tunnel. */
	struct gen g;
	gen_init(&g);
	l2tp_ppp(&g, false, 11, 21, LCP_REQ_MSCHAPV2, sizeof LCP_REQ_MSCHAPV2);
	l2tp_ppp(&g, true, 12, 22, LCP_REQ_PLAIN, sizeof LCP_REQ_PLAIN);
	l2tp_ppp(&g, true, 12, 22, LCP_ACK_MSCHAPV2, sizeof LCP_ACK_MSCHAPV2);
	l2tp_ppp(&g, false, 11, 21, LCP_ACK_PLAIN, sizeof LCP_ACK_PLAIN);
	static const char fail[] = "E=649 R=0 C=00112233445566778899aabbccddeeff V=3 M=denied";
	uint8_t chap[128] = {0xff, 0x03, 0xc2, 0x23, 4, 1};
	size_t n = 8 + sizeof fail - 1;
	chap[6] = 0;
	chap[7] = (uint8_t)(n - 4);
	memcpy(chap + 8, fail, sizeof fail - 1);
	l2tp_ppp(&g, false, 11, 21, chap, n);
	ck_assert_uint_eq(sess_count(g.t), 1);
	struct vsess *s = sess_at(g.t, 0);
	ck_assert_uint_eq(s->tid_s, 12);
	ck_assert_uint_eq(s->tid_c, 11);
	expect(&g, 0, PH_AUTH, "mschap.error-649", 649);
	gen_free(&g);
}
END_TEST

START_TEST(lcp_auth_rejected)
{
	struct gen g;
	gen_init(&g);
	l2tp_ppp(&g, false, 11, 21, LCP_REQ_MSCHAPV2, sizeof LCP_REQ_MSCHAPV2);
	l2tp_ppp(&g, true, 12, 22, LCP_REJ_AUTH, sizeof LCP_REJ_AUTH);
	expect(&g, 0, PH_LCP, "ppp.lcp.auth-rejected", 919);
	gen_free(&g);
}
END_TEST

START_TEST(successful_session_has_no_diagnosis)
{
	struct gen g;
	gen_init(&g);
	l2tp_ppp(&g, false, 11, 21, LCP_REQ_PLAIN, sizeof LCP_REQ_PLAIN);
	l2tp_ppp(&g, true, 12, 22, LCP_REQ_PLAIN, sizeof LCP_REQ_PLAIN);
	l2tp_ppp(&g, true, 12, 22, LCP_ACK_PLAIN, sizeof LCP_ACK_PLAIN);
	l2tp_ppp(&g, false, 11, 21, LCP_ACK_PLAIN, sizeof LCP_ACK_PLAIN);
	explain_finish(g.t);
	struct vsess *s = sess_at(g.t, 0);
	ck_assert_int_eq(explain_failed_phase(s), PH_COUNT);
	struct rule_match m[8];
	ck_assert_uint_eq(explain_diagnose(g.t, s, rs, fx, m, 8), 0);
	ck_assert_int_eq(explain_error(s, m, 0), 0);
	gen_free(&g);
}
END_TEST

START_TEST(unacknowledged_hello_is_an_anomaly)
{
	struct gen g;
	gen_init(&g);
	l2tp_msg_init_ctrl(&lm, L2TP_MSG_SCCRQ, 0, 0, 0, 0);
	l2tp_add_uint(&lm, L2TP_AVP_ASSIGNED_TUNNEL_ID, 5);
	l2tp_send(&g, true, &lm, 0);
	l2tp_msg_init_ctrl(&lm, L2TP_MSG_SCCRP, 5, 0, 0, 1);
	l2tp_add_uint(&lm, L2TP_AVP_ASSIGNED_TUNNEL_ID, 6);
	l2tp_send(&g, false, &lm, 1);
	l2tp_msg_init_ctrl(&lm, L2TP_MSG_SCCCN, 6, 0, 1, 1);
	l2tp_send(&g, true, &lm, 1);
	l2tp_msg_init_ctrl(&lm, L2TP_MSG_HELLO, 5, 0, 1, 2);
	l2tp_send(&g, false, &lm, 60000); /* frame 4, never acknowledged */
	explain_finish(g.t);
	struct vsess *s = sess_at(g.t, 0);
	ck_assert_uint_eq(sess_count(g.t), 1);
	ck_assert_int_eq(explain_failed_phase(s), PH_COUNT);
	json_t *a = explain_anomalies(s);
	ck_assert_uint_eq(json_array_size(a), 1);
	ck_assert_str_eq(json_string_value(json_array_get(a, 0)),
	                 "the server's Hello in frame 4 was never acknowledged");
	json_decref(a);
	gen_free(&g);
}
END_TEST

START_TEST(windows_client_from_vendor_id)
{
	/* MD5("MS NT5 ISAKMPOAKLEY") followed by version 9, as Windows 10/11 send it */
	static const uint8_t vid[20] = {0x1e, 0x2b, 0x51, 0x69, 0x05, 0x99, 0x1c, 0x7d, 0x7c, 0x96,
	                                0xfc, 0xbf, 0xb5, 0x87, 0xe4, 0x61, 0, 0, 0, 9};
	struct gen g;
	gen_init(&g);
	ike_msg_init(&im, 1, IKE1_EXCH_MAIN, 0, 0, ISPI, ZERO);
	ck_assert_ptr_nonnull(ike_add_payload(&im, IKE1_PL_SA, (const uint8_t *)"\0\0\0\1\0\0\0\1", 8));
	ck_assert_ptr_nonnull(ike_add_payload(&im, IKE1_PL_VID, vid, sizeof vid));
	uint8_t buf[512];
	size_t n = ike_encode(&im, buf, sizeof buf);
	ck_assert_uint_gt(n, 0);
	udp_frame(&g, CLI, 500, SRV, 500, buf, n, 0);
	const struct obs *o = sess_obs_get(sess_at(g.t, 0), "ike.client_vendor");
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(o->s, "windows");
	gen_free(&g);
}
END_TEST

/* ikev2-badpsk.pcap frame 4: IKE_AUTH response (UDP 4500, after the non-ESP marker);
 * keys from ikev2-badpsk.tshark-keys.txt. tshark with those keys decrypts 16 bytes:
 * Notify AUTHENTICATION_FAILED (24), 7 bytes padding, pad length 7, ICV correct. */
static const uint8_t BADPSK_F4[80] = {
	0x24, 0xbe, 0xa2, 0x78, 0xaa, 0x51, 0x14, 0x11, 0xfa, 0x6b, 0x71, 0x4d, 0xa2, 0x8f, 0x1a, 0x77,
	0x2e, 0x20, 0x23, 0x20, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x50, 0x29, 0x00, 0x00, 0x34,
	0x10, 0x90, 0xad, 0xfa, 0x23, 0xe1, 0x98, 0x38, 0xcc, 0x23, 0x42, 0xf1, 0xcc, 0x71, 0x20, 0xf4,
	0xbe, 0x82, 0xfe, 0x75, 0x0c, 0xe3, 0x36, 0xc0, 0xc5, 0xec, 0xdd, 0x03, 0xe7, 0x18, 0xd7, 0x96,
	0x5e, 0x29, 0xf0, 0xb5, 0x1e, 0x4a, 0xaf, 0x43, 0x0b, 0xd9, 0xcc, 0x26, 0x2a, 0x67, 0x35, 0x5c,
};
static const char BADPSK_KEYS[] =
	"-o 'uat:ikev2_decryption_table:24bea278aa511411,fa6b714da28f1a77,"
	"f04eecafb1f87096ae6c7993dc968086,bc1244b583d9c5be39d6a102d3b0a9be,\"AES-CBC-128 [RFC3602]\","
	"7468a16ad0bcc021e2055dd8524cfb9388a2680b6f6e2e6a6861b17d3a4e2ea9,"
	"7b9d0fef539a3f6d2fc62a322675014250daed4ac96b653c2a3b67794f1c8c36,"
	"\"HMAC_SHA2_256_128 [RFC4868]\"'\n";

START_TEST(ikev2_decrypts_authentication_failed)
{
	char e[256];
	struct ike_keys *k = ike_keys_parse("k", BADPSK_KEYS, sizeof BADPSK_KEYS - 1, e, sizeof e);
	ck_assert_msg(k != NULL, "%s", e);
	ck_assert_uint_eq(ike_keys_count_v2(k), 1);
	static struct ike_msg m, in;
	struct diag_err de;
	ck_assert_int_eq(ike_decode(BADPSK_F4, sizeof BADPSK_F4, &m, &de), 0);
	uint8_t out[256];
	size_t n = 0;
	ck_assert_int_eq(ike2_decrypt(k, BADPSK_F4, sizeof BADPSK_F4, &m, out, sizeof out, &n, &de), 1);
	ck_assert_uint_eq(n, 28 + 8); /* header + the 8-byte notify */
	ck_assert_int_eq(ike_decode(out, n, &in, &de), 0);
	ck_assert_uint_eq(in.npl, 1);
	ck_assert_uint_eq(in.pl[0].type, IKE2_PL_N);
	ck_assert_uint_eq(in.pl[0].notify, 24);
	/* one bit of the ICV changed: the integrity check fails */
	uint8_t bad[80];
	memcpy(bad, BADPSK_F4, sizeof bad);
	bad[79] ^= 1;
	ck_assert_int_eq(ike2_decrypt(k, bad, sizeof bad, &m, out, sizeof out, &n, &de), -1);
	ck_assert_ptr_nonnull(strstr(de.reason, "integrity"));
	/* other SPIs: no key applies */
	bad[0] ^= 1;
	ck_assert_int_eq(ike_decode(bad, sizeof bad, &m, &de), 0);
	ck_assert_int_eq(ike2_decrypt(k, bad, sizeof bad, &m, out, sizeof out, &n, &de), 0);
	ike_keys_free(k);
	/* malformed key lines name the line */
	static const char badk[] = "\n0011,2233\n";
	ck_assert_ptr_null(ike_keys_parse("f", badk, sizeof badk - 1, e, sizeof e));
	ck_assert_ptr_nonnull(strstr(e, "f:2:"));
}
END_TEST

int main(void)
{
	Suite *su = suite_create("explain");
	TCase *tc = tcase_create("generated");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ikev1_psk_mismatch_from_mm5);
	tcase_add_test(tc, ikev2_no_reply);
	tcase_add_test(tc, nat_several_clients);
	tcase_add_test(tc, l2tp_max_retries);
	tcase_add_test(tc, mid_tunnel_mschapv2_649);
	tcase_add_test(tc, lcp_auth_rejected);
	tcase_add_test(tc, successful_session_has_no_diagnosis);
	tcase_add_test(tc, ikev2_decrypts_authentication_failed);
	tcase_add_test(tc, unacknowledged_hello_is_an_anomaly);
	tcase_add_test(tc, windows_client_from_vendor_id);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
