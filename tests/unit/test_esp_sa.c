/* User-space ESP (engine/ike/esp_sa.h): every cipher suite Quick Mode negotiates sealed
 * by one end and opened by the other and by the capture decryptor (esp_decrypt), the
 * anti-replay window, padding checks, sequence number exhaustion, ESP-in-UDP
 * classification and the transport-mode checksum fix. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "esp.h"
#include "ike/esp_sa.h"
#include "ike/ike_crypto.h"
#include "net.h"

static void keys(struct esp_sa *s, enum esp_enc enc, size_t eklen, enum esp_auth auth,
                 size_t aklen, uint32_t spi, uint8_t seed)
{
	memset(s, 0, sizeof *s);
	s->enc = enc;
	s->eklen = eklen;
	s->auth = auth;
	s->aklen = aklen;
	s->spi = spi;
	s->gcm_icv = enc == ESPE_AES_GCM ? 16 : 0;
	for (size_t i = 0; i < eklen; i++)
		s->ekey[i] = (uint8_t)(seed + i);
	for (size_t i = 0; i < aklen; i++)
		s->akey[i] = (uint8_t)(seed * 3 + i);
}

/* A pair and its mirror: a.out == b.in and the other way. */
static void pair(struct esp_pair *a, struct esp_pair *b, enum esp_enc enc, size_t eklen,
                 enum esp_auth auth, size_t aklen)
{
	struct esp_sa x, y;
	keys(&x, enc, eklen, auth, aklen, 0x1000, 1);
	keys(&y, enc, eklen, auth, aklen, 0x2000, 9);
	ck_assert_int_eq(esp_pair_init(a, &x, &y, true), 0);
	ck_assert_int_eq(esp_pair_init(b, &y, &x, true), 0);
}

static const uint8_t l2tp_udp[] = {
	0x06, 0xa5, 0x06, 0xa5, 0x00, 0x14, 0x00, 0x00, /* UDP 1701 -> 1701, length 20 */
	0xc8, 0x02, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 /* L2TP ZLB */
};

START_TEST(round_trip_each_suite)
{
	static const struct { enum esp_enc e; size_t ek; enum esp_auth a; size_t ak; } s[] = {
		{ESPE_AES_CBC, 16, ESPA_SHA1_96, 20}, {ESPE_AES_CBC, 32, ESPA_SHA256_128, 32},
		{ESPE_3DES, 24, ESPA_SHA1_96, 20}, {ESPE_3DES, 24, ESPA_SHA256_128, 32},
		{ESPE_AES_GCM, 20, ESPA_NULL, 0}, {ESPE_AES_GCM, 36, ESPA_NULL, 0},
	};
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		struct esp_pair a, b;
		pair(&a, &b, s[i].e, s[i].ek, s[i].a, s[i].ak);
		static const size_t lens[] = {0, 1, 7, 14, sizeof l2tp_udp};
		for (size_t li = 0; li < 5; li++) {
			size_t len = lens[li];
			uint8_t iv[16], pkt[256], out[256], nh = 0;
			memset(iv, (int)(len + i), sizeof iv);
			size_t n = esp_pair_seal(&a, iv, l2tp_udp, len, 17, pkt, sizeof pkt, NULL);
			ck_assert_uint_gt(n, 0);
			ck_assert_uint_eq((n - 8 - esp_sa_ivlen(&a.out) - esp_sa_icvlen(&a.out)) %
			                  (s[i].e == ESPE_3DES ? 8 : s[i].e == ESPE_AES_CBC ? 16 : 4), 0);
			/* the capture decryptor reads it with the same keys */
			struct diag_err e;
			size_t ol = 0;
			ck_assert_int_eq(esp_decrypt(NULL, &b.in, pkt, n, out, sizeof out, &ol, &nh, &e), 0);
			ck_assert_uint_eq(ol, len);
			ck_assert_mem_eq(out, l2tp_udp, len);
			/* and so does the other end */
			ol = 0;
			ck_assert_int_eq(esp_pair_open(&b, pkt, n, out, sizeof out, &ol, &nh, &e), 0);
			ck_assert_uint_eq(ol, len);
			ck_assert_uint_eq(nh, 17);
			ck_assert_mem_eq(out, l2tp_udp, len);
			/* one flipped bit anywhere fails the integrity check */
			pkt[n / 2] ^= 0x10;
			ck_assert_int_eq(esp_pair_open(&b, pkt, n, out, sizeof out, &ol, &nh, &e) == 0, 0);
		}
		ck_assert_uint_eq(a.seq_out, 5);
		ck_assert_uint_eq(b.st.rx, 5);
		esp_pair_free(&a);
		esp_pair_free(&b);
	}
}
END_TEST

START_TEST(replay_window)
{
	struct esp_pair a, b;
	pair(&a, &b, ESPE_AES_CBC, 16, ESPA_SHA1_96, 20);
	uint8_t iv[16] = {0}, pkt[100][128], out[128], nh;
	size_t n[100], ol;
	struct diag_err e;
	for (int i = 0; i < 100; i++)
		n[i] = esp_pair_seal(&a, iv, l2tp_udp, sizeof l2tp_udp, 17, pkt[i], sizeof pkt[i], NULL);
	/* 1 then 1 again: replayed */
	ck_assert_int_eq(esp_pair_open(&b, pkt[0], n[0], out, sizeof out, &ol, &nh, &e), 0);
	ck_assert_int_eq(esp_pair_open(&b, pkt[0], n[0], out, sizeof out, &ol, &nh, &e), ESPF_REPLAY);
	/* 80, then 17 (inside the window, 63 back) accepted once, 16 (64 back) refused */
	ck_assert_int_eq(esp_pair_open(&b, pkt[79], n[79], out, sizeof out, &ol, &nh, &e), 0);
	ck_assert_int_eq(esp_pair_open(&b, pkt[16], n[16], out, sizeof out, &ol, &nh, &e), 0);
	ck_assert_int_eq(esp_pair_open(&b, pkt[16], n[16], out, sizeof out, &ol, &nh, &e), ESPF_REPLAY);
	ck_assert_int_eq(esp_pair_open(&b, pkt[15], n[15], out, sizeof out, &ol, &nh, &e), ESPF_REPLAY);
	/* out of order inside the window */
	ck_assert_int_eq(esp_pair_open(&b, pkt[50], n[50], out, sizeof out, &ol, &nh, &e), 0);
	ck_assert_int_eq(esp_pair_open(&b, pkt[49], n[49], out, sizeof out, &ol, &nh, &e), 0);
	/* a forged packet with a high number does not move the window */
	uint8_t forged[128];
	memcpy(forged, pkt[99], n[99]);
	forged[n[99] - 1] ^= 1;
	ck_assert_int_eq(esp_pair_open(&b, forged, n[99], out, sizeof out, &ol, &nh, &e), ESPF_ICV);
	ck_assert_int_eq(esp_pair_open(&b, pkt[60], n[60], out, sizeof out, &ol, &nh, &e), 0);
	ck_assert_uint_eq(b.st.replayed, 3);
	/* another SA's SPI, sequence number 0 */
	uint8_t other[128];
	memcpy(other, pkt[2], n[2]);
	other[3] ^= 1;
	ck_assert_int_eq(esp_pair_open(&b, other, n[2], out, sizeof out, &ol, &nh, &e), ESPF_SPI);
	memcpy(other, pkt[2], n[2]);
	memset(other + 4, 0, 4);
	ck_assert_int_eq(esp_pair_open(&b, other, n[2], out, sizeof out, &ol, &nh, &e), ESPF_SEQ0);
	esp_pair_free(&a);
	esp_pair_free(&b);
}
END_TEST

START_TEST(padding_checked_with_integrity)
{
	/* NULL encryption with HMAC-SHA1-96: the padding is readable and the ICV can be made
	 * anew, so a packet with a valid ICV and padding 1, 2, 9 can be built */
	struct esp_pair a, b;
	pair(&a, &b, ESPE_NULL, 0, ESPA_SHA1_96, 20);
	uint8_t iv[1] = {0}, pkt[128], out[128], nh;
	size_t n = esp_pair_seal(&a, iv, l2tp_udp, 17, 17, pkt, sizeof pkt, NULL), ol;
	/* 17 + 2 = 19: padding of 1 to reach 20 */
	ck_assert_uint_eq(n, 8 + 17 + 1 + 2 + 12);
	uint8_t bad[128];
	memcpy(bad, pkt, n);
	bad[8 + 17] = 9; /* the one padding byte */
	struct ike_iov v = {bad, n - 12};
	uint8_t mac[IKE_HASH_MAX];
	ike1_prf(IKE1_HASH_SHA1, a.out.akey, 20, &v, 1, mac);
	memcpy(bad + n - 12, mac, 12);
	struct diag_err e;
	ck_assert_int_eq(esp_pair_open(&b, bad, n, out, sizeof out, &ol, &nh, &e), ESPF_PAD);
	ck_assert_uint_eq(b.st.bad_pad, 1);
	ck_assert_int_eq(esp_pair_open(&b, pkt, n, out, sizeof out, &ol, &nh, &e), 0);
	esp_pair_free(&a);
	esp_pair_free(&b);
}
END_TEST

START_TEST(sequence_exhausted)
{
	struct esp_pair a, b;
	pair(&a, &b, ESPE_AES_CBC, 16, ESPA_SHA1_96, 20);
	uint8_t iv[16] = {0}, pkt[128];
	a.seq_out = UINT32_MAX - 1;
	int why = 0;
	ck_assert_uint_gt(esp_pair_seal(&a, iv, l2tp_udp, 8, 17, pkt, sizeof pkt, &why), 0);
	ck_assert_uint_eq(esp_pair_seal(&a, iv, l2tp_udp, 8, 17, pkt, sizeof pkt, &why), 0);
	ck_assert_int_eq(why, ESPF_EXHAUSTED);
	ck_assert_uint_eq(esp_pair_seal(&a, iv, l2tp_udp, 8, 17, pkt, 20, &why), 0);
	esp_pair_free(&a);
	esp_pair_free(&b);
}
END_TEST

START_TEST(udp_framing)
{
	struct esp_pair a, b;
	pair(&a, &b, ESPE_AES_CBC, 16, ESPA_SHA1_96, 20);
	uint8_t iv[16] = {0}, pkt[128];
	size_t n = esp_pair_seal(&a, iv, l2tp_udp, sizeof l2tp_udp, 17, pkt, sizeof pkt, NULL);
	ck_assert_int_eq(natt_classify(pkt, n), NATT_ESP);
	static const uint8_t ka = 0xff;
	ck_assert_int_eq(natt_classify(&ka, 1), NATT_KEEPALIVE);
	/* checksum fix: the result verifies with the new pseudo-header */
	uint8_t udp[sizeof l2tp_udp];
	memcpy(udp, l2tp_udp, sizeof udp);
	static const uint8_t src[4] = {192, 0, 2, 7}, dst[4] = {198, 51, 100, 1};
	esp_udp_checksum_fix(udp, sizeof udp, src, dst);
	uint8_t ph[12] = {192, 0, 2, 7, 198, 51, 100, 1, 0, 17, 0, sizeof udp};
	ck_assert_uint_eq(inet_cksum(udp, sizeof udp, (uint16_t)~inet_cksum(ph, 12, 0)), 0);
	ck_assert_uint_ne(udp[6] << 8 | udp[7], 0);
	esp_pair_free(&a);
	esp_pair_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("esp_sa");
	TCase *t = tcase_create("esp_sa");
	tcase_add_test(t, round_trip_each_suite);
	tcase_add_test(t, replay_window);
	tcase_add_test(t, padding_checked_with_integrity);
	tcase_add_test(t, sequence_exhausted);
	tcase_add_test(t, udp_framing);
	suite_add_tcase(s, t);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
