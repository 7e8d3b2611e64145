/* Session tracking over the lab captures. Every expected value below was read from the
 * tshark decode beside the capture (/work/shared/corpus/lab/X.pcap.tshark.txt and
 * X.pcap.summary.txt): frame numbers, tunnel/session/call IDs, user names. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dissect.h"
#include "capture/explain.h"
#include "capture/ikedecrypt.h"
#include "pcapin.h"
#include "capture/session.h"

#define LAB VNET_SOURCE_DIR "/../shared/corpus/lab/"

static struct sess_table *run_keys(const char *name, const char *keyfile)
{
	char path[512];
	snprintf(path, sizeof path, LAB "%s", name);
	if (access(path, R_OK))
		return NULL;
	struct pcapin in;
	ck_assert_int_eq(pcapin_open(&in, path), 0);
	struct dissect *d = dissect_new(NULL);
	struct sess_table *t = sess_table_new(path);
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(t);
	static struct ike_keys *keys;
	ike_keys_free(keys);
	keys = NULL;
	if (keyfile) {
		char kp[512], e[256];
		snprintf(kp, sizeof kp, LAB "%s", keyfile);
		keys = ike_keys_load(kp, e, sizeof e);
		ck_assert_msg(keys != NULL, "%s", e);
		ck_assert_int_eq(sess_set_keys(t, keys), 0);
	}
	struct pcapin_pkt pk;
	for (int guard = 0; guard < 100000 && pcapin_next(&in, &pk) == 1; guard++) {
		const struct dl_pkt *p = dissect_packet(d, pk.dlt, pk.frame, pk.ts_ns, pk.rel_ns,
		                                        pk.data, pk.caplen, pk.origlen);
		sess_packet(t, p);
	}
	dissect_finish(d);
	dissect_free(d);
	pcapin_close(&in);
	explain_finish(t);
	return t;
}

static struct sess_table *run(const char *name)
{
	return run_keys(name, NULL);
}

static void phase_is(const struct vsess *s, enum phase_id ph, int state, uint64_t f0,
                     uint64_t f1, uint32_t pkts)
{
	const struct phase *x = &s->ph[ph];
	ck_assert_msg(x->state == state, "%s: state %d, expected %d", phase_name(ph), x->state,
	              state);
	ck_assert_uint_eq(x->start_frame, f0);
	ck_assert_uint_eq(x->end_frame, f1);
	ck_assert_uint_eq(x->pkts, pkts);
}

START_TEST(l2tp_tunnel_call_and_ppp)
{
	struct sess_table *t = run("l2tp-xl2tpd-ppp.pcap");
	if (!t)
		return;
	ck_assert_uint_eq(sess_count(t), 1);
	struct vsess *s = sess_at(t, 0);
	ck_assert_int_eq(s->proto, SP_L2TP);
	/* SCCRQ frame 1 Assigned Tunnel ID 26338, SCCRP frame 2 Assigned Tunnel ID 41332 */
	ck_assert_uint_eq(s->tid_c, 26338);
	ck_assert_uint_eq(s->tid_s, 41332);
	/* ICRQ frame 4 Assigned Session 65379, ICRP frame 6 Assigned Session 46717 */
	ck_assert_uint_eq(s->sid_c, 65379);
	ck_assert_uint_eq(s->sid_s, 46717);
	ck_assert_str_eq(s->user, "labuser"); /* CHAP Response frame 15 NAME='labuser' */
	ck_assert_uint_eq(s->cli[0], 10);
	ck_assert_uint_eq(s->cli[3], 2);
	phase_is(s, PH_TUNNEL, PS_OK, 1, 3, 3);
	phase_is(s, PH_CALL, PS_OK, 4, 8, 3);
	phase_is(s, PH_LCP, PS_OK, 10, 13, 4);
	phase_is(s, PH_AUTH, PS_OK, 14, 16, 3);
	phase_is(s, PH_NCP, PS_OK, 17, 22, 6);
	phase_is(s, PH_ESTABLISHED, PS_OK, 23, 26, 4);
	ck_assert_int_eq(explain_failed_phase(s), PH_COUNT);
	const struct obs *o = sess_obs_get(s, "ppp.lcp.terminated_by");
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(o->s, "client"); /* Terminate-Request frame 29 from 10.77.0.2 */
	ck_assert_uint_eq(o->frame, 29);
	sess_table_free(t);
}
END_TEST

START_TEST(l2tp_cdn_before_ppp)
{
	struct sess_table *t = run("l2tp-xl2tpd-nopppd.pcap");
	if (!t)
		return;
	ck_assert_uint_eq(sess_count(t), 1);
	struct vsess *s = sess_at(t, 0);
	ck_assert_uint_eq(s->tid_c, 17486); /* SCCRQ frame 1 */
	ck_assert_uint_eq(s->tid_s, 16213); /* SCCRP frame 2 */
	ck_assert_int_eq(explain_failed_phase(s), PH_LCP);
	const struct obs *o = sess_obs_get(s, "l2tp.cdn.result");
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->i, 1); /* frame 10: Result code 1 */
	ck_assert_uint_eq(o->frame, 10);
	sess_table_free(t);
}
END_TEST

START_TEST(pptp_control_call_gre)
{
	struct sess_table *t = run("pptp-gre-ppp.pcap");
	if (!t)
		return;
	ck_assert_uint_eq(sess_count(t), 1);
	struct vsess *s = sess_at(t, 0);
	ck_assert_int_eq(s->proto, SP_PPTP);
	ck_assert_uint_eq(s->call_c, 25187); /* OCRQ frame 8 Call ID */
	ck_assert_uint_eq(s->call_s, 0);     /* OCRP frame 9 Call ID */
	ck_assert_uint_eq(s->sport, 1723);
	ck_assert_uint_eq(s->cport, 56214);
	ck_assert_str_eq(s->user, "labuser");
	phase_is(s, PH_TUNNEL, PS_OK, 1, 6, 4); /* SYN, SYN-ACK, SCCRQ, SCCRP */
	phase_is(s, PH_CALL, PS_OK, 8, 9, 2);
	phase_is(s, PH_LCP, PS_OK, 11, 14, 4);
	phase_is(s, PH_AUTH, PS_OK, 15, 18, 3);
	/* GRE frames from the client: 12 14 16 17 20 21 22 24 26 28 29 31 32 34 35 */
	ck_assert_uint_eq(s->gre_pkts[0], 15);
	ck_assert_int_eq(explain_failed_phase(s), PH_COUNT);
	sess_table_free(t);
}
END_TEST

START_TEST(ike_sa_across_natt_ports)
{
	struct sess_table *t = run("ikev2-psk.pcap");
	if (!t)
		return;
	ck_assert_uint_eq(sess_count(t), 1); /* ports 500 then 4500: one SA */
	struct vsess *s = sess_at(t, 0);
	ck_assert_int_eq(s->proto, SP_IKE2);
	phase_is(s, PH_IKE2, PS_OK, 1, 2, 2);
	phase_is(s, PH_IKE_AUTH, PS_OK, 3, 4, 2);
	phase_is(s, PH_ESTABLISHED, PS_OK, 5, 10, 6);
	ck_assert_uint_eq(s->esp_spi[0], 0x10d92045); /* frame 5 */
	ck_assert_uint_eq(s->esp_spi[1], 0x4f7c32e4); /* frame 6 */
	ck_assert_int_eq(explain_failed_phase(s), PH_COUNT);
	sess_table_free(t);
}
END_TEST

START_TEST(ikev2_badpsk_inferred)
{
	struct sess_table *t = run("ikev2-badpsk.pcap");
	if (!t)
		return;
	struct vsess *s = sess_at(t, 0);
	/* the SPIs named by ikev2-badpsk.tshark-keys.txt */
	static const uint8_t ispi[8] = {0x24, 0xbe, 0xa2, 0x78, 0xaa, 0x51, 0x14, 0x11};
	static const uint8_t rspi[8] = {0xfa, 0x6b, 0x71, 0x4d, 0xa2, 0x8f, 0x1a, 0x77};
	ck_assert_mem_eq(s->ispi, ispi, 8);
	ck_assert_mem_eq(s->rspi, rspi, 8);
	ck_assert_int_eq(explain_failed_phase(s), PH_IKE_AUTH);
	const struct obs *o = sess_obs_get(s, "ike.notify");
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(o->s, "AUTHENTICATION_FAILED");
	ck_assert_ptr_nonnull(sess_obs_get(s, "ike.notify_inferred"));
	sess_table_free(t);
}
END_TEST

START_TEST(ikev1_quick_mode_refused)
{
	struct sess_table *t = run("ikev1-l2tp.pcap");
	if (!t)
		return;
	struct vsess *s = sess_at(t, 0);
	ck_assert_int_eq(s->proto, SP_IKE1);
	phase_is(s, PH_IKE1, PS_OK, 1, 6, 6);
	ck_assert_int_eq(explain_failed_phase(s), PH_IPSEC);
	sess_table_free(t);
	t = run("ikev1-tunnel.pcap");
	s = sess_at(t, 0);
	phase_is(s, PH_IPSEC, PS_OK, 7, 9, 3);
	ck_assert_int_eq(explain_failed_phase(s), PH_COUNT);
	sess_table_free(t);
}
END_TEST

/* tshark with ikev1-l2tp.tshark-keys.txt decrypts frame 9 (Informational from the
 * initiator) to HASH + Notify NO-PROPOSAL-CHOSEN (14), frame 10 to HASH + Delete. */
START_TEST(ikev1_decrypted_quick_mode_refusal)
{
	struct sess_table *t = run_keys("ikev1-l2tp.pcap", "ikev1-l2tp.tshark-keys.txt");
	if (!t)
		return;
	struct vsess *s = sess_at(t, 0);
	ck_assert_uint_eq(sess_decrypted(t), 6); /* frames 5-10 */
	ck_assert_uint_eq(sess_undecryptable(t), 0);
	const struct obs *o = sess_obs_get(s, "ike.notify");
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(o->s, "NO_PROPOSAL_CHOSEN");
	ck_assert_uint_eq(o->frame, 9);
	ck_assert_int_eq(explain_failed_phase(s), PH_IPSEC);
	phase_is(s, PH_TEARDOWN, PS_OK, 10, 10, 1);
	sess_table_free(t);
	t = run_keys("ikev1-tunnel.pcap", "ikev1-tunnel.tshark-keys.txt");
	s = sess_at(t, 0);
	ck_assert_uint_eq(sess_undecryptable(t), 0);
	ck_assert_int_eq(explain_failed_phase(s), PH_COUNT);
	phase_is(s, PH_IPSEC, PS_OK, 7, 9, 3);
	sess_table_free(t);
}
END_TEST

START_TEST(radius_pairs)
{
	struct sess_table *t = run("radius-freeradius.pcap");
	if (!t)
		return;
	/* six Access-Request/reply pairs and two accounting pairs */
	ck_assert_uint_eq(sess_count(t), 8);
	struct vsess *s = sess_at(t, 1);
	ck_assert_uint_eq(s->rad_id, 68); /* frames 3/4 */
	ck_assert_int_eq(explain_failed_phase(s), PH_AUTH);
	s = sess_at(t, 5);
	ck_assert_uint_eq(s->rad_id, 225); /* frames 11/12 */
	const struct obs *o = sess_obs_get(s, "mschap.error");
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->i, 691);
	ck_assert_uint_eq(o->frame, 12);
	o = sess_obs_get(s, "ppp.auth.protocol");
	ck_assert_str_eq(o->s, "mschapv2");
	ck_assert_int_eq(sess_at(t, 6)->proto, SP_ACCT);
	ck_assert_int_eq(explain_failed_phase(sess_at(t, 6)), PH_COUNT);
	sess_table_free(t);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("session");
	TCase *tc = tcase_create("lab");
	tcase_add_test(tc, l2tp_tunnel_call_and_ppp);
	tcase_add_test(tc, l2tp_cdn_before_ppp);
	tcase_add_test(tc, pptp_control_call_gre);
	tcase_add_test(tc, ike_sa_across_natt_ports);
	tcase_add_test(tc, ikev2_badpsk_inferred);
	tcase_add_test(tc, ikev1_quick_mode_refused);
	tcase_add_test(tc, radius_pairs);
	tcase_add_test(tc, ikev1_decrypted_quick_mode_refusal);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
