/* ESP decryption: every cipher against packets sealed here with OpenSSL EVP, wrong keys,
 * cut packets, the key formats, and L2TP found inside ESP by the session tracker. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "dissect.h"
#include "net.h"
#include "capture/espdecrypt.h"
#include "capture/ikedecrypt.h"
#include "pcapin.h"
#include "capture/session.h"
#include "lab_vectors.h"

struct cfg {
	const char *name;
	enum esp_enc enc;
	size_t eklen, gcm_icv;
	enum esp_auth auth;
	size_t aklen;
};

static const struct cfg cfgs[] = {
	{"null-sha1", ESPE_NULL, 0, 0, ESPA_SHA1_96, 20},
	{"aes128-sha1", ESPE_AES_CBC, 16, 0, ESPA_SHA1_96, 20},
	{"aes192-sha256", ESPE_AES_CBC, 24, 0, ESPA_SHA256_128, 32},
	{"aes256-sha384", ESPE_AES_CBC, 32, 0, ESPA_SHA384_192, 48},
	{"aes256-sha512", ESPE_AES_CBC, 32, 0, ESPA_SHA512_256, 64},
	{"3des-md5", ESPE_3DES, 24, 0, ESPA_MD5_96, 16},
	{"3des-sha1", ESPE_3DES, 24, 0, ESPA_SHA1_96, 20},
	{"aes128-none", ESPE_AES_CBC, 16, 0, ESPA_NULL, 0},
	{"gcm128-16", ESPE_AES_GCM, 20, 16, ESPA_NULL, 0},
	{"gcm192-8", ESPE_AES_GCM, 28, 8, ESPA_NULL, 0},
	{"gcm256-12", ESPE_AES_GCM, 36, 12, ESPA_NULL, 0},
};
#define NCFG (sizeof cfgs / sizeof cfgs[0])

static void make_sa(const struct cfg *c, struct esp_sa *sa, uint8_t keyseed)
{
	memset(sa, 0, sizeof *sa);
	sa->ipver = 4;
	sa->spi = 0x01020304;
	sa->enc = c->enc;
	sa->eklen = c->eklen;
	sa->gcm_icv = c->gcm_icv;
	sa->auth = c->auth;
	sa->aklen = c->aklen;
	for (size_t i = 0; i < ESP_KEY_MAX; i++) {
		sa->ekey[i] = (uint8_t)(keyseed + 3 * i + 1);
		sa->akey[i] = (uint8_t)(keyseed * 7 + i);
	}
}

static const EVP_MD *md_of(enum esp_auth a)
{
	switch (a) {
	case ESPA_MD5_96: return EVP_md5();
	case ESPA_SHA1_96: return EVP_sha1();
	case ESPA_SHA256_128: return EVP_sha256();
	case ESPA_SHA384_192: return EVP_sha384();
	case ESPA_SHA512_256: return EVP_sha512();
	default: return NULL;
	}
}

/* Seal `pl` as an ESP packet of the SA, independently of esp_decrypt: RFC 4303 layout,
 * default padding 1, 2, 3..., IV from the sequence number. */
static size_t seal(const struct esp_sa *sa, uint32_t seq, const uint8_t *pl, size_t n,
                   uint8_t nh, uint8_t *out)
{
	size_t block = sa->enc == ESPE_AES_CBC ? 16 : sa->enc == ESPE_3DES ? 8 : 4;
	size_t ivlen = esp_sa_ivlen(sa), icv = esp_sa_icvlen(sa);
	size_t pad = (block - (n + 2) % block) % block;
	uint8_t pt[2048];
	ck_assert_uint_lt(n + pad + 2, sizeof pt);
	memcpy(pt, pl, n);
	for (size_t i = 0; i < pad; i++)
		pt[n + i] = (uint8_t)(i + 1);
	pt[n + pad] = (uint8_t)pad;
	pt[n + pad + 1] = nh;
	size_t clen = n + pad + 2;
	out[0] = (uint8_t)(sa->spi >> 24);
	out[1] = (uint8_t)(sa->spi >> 16);
	out[2] = (uint8_t)(sa->spi >> 8);
	out[3] = (uint8_t)sa->spi;
	out[4] = (uint8_t)(seq >> 24);
	out[5] = (uint8_t)(seq >> 16);
	out[6] = (uint8_t)(seq >> 8);
	out[7] = (uint8_t)seq;
	uint8_t *iv = out + 8, *ct = iv + ivlen;
	for (size_t i = 0; i < ivlen; i++)
		iv[i] = (uint8_t)(seq * 31 + i);
	int l1 = 0, l2 = 0;
	EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
	ck_assert_ptr_nonnull(cx);
	if (sa->enc == ESPE_NULL) {
		memcpy(ct, pt, clen);
	} else if (sa->enc == ESPE_AES_GCM) {
		const EVP_CIPHER *c = sa->eklen == 20 ? EVP_aes_128_gcm() : sa->eklen == 28
		                                      ? EVP_aes_192_gcm() : EVP_aes_256_gcm();
		uint8_t nonce[12];
		memcpy(nonce, sa->ekey + sa->eklen - 4, 4);
		memcpy(nonce + 4, iv, 8);
		int al = 0;
		ck_assert(EVP_EncryptInit_ex(cx, c, NULL, NULL, NULL) == 1);
		ck_assert(EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1);
		ck_assert(EVP_EncryptInit_ex(cx, NULL, NULL, sa->ekey, nonce) == 1);
		ck_assert(EVP_EncryptUpdate(cx, NULL, &al, out, 8) == 1);
		ck_assert(EVP_EncryptUpdate(cx, ct, &l1, pt, (int)clen) == 1);
		ck_assert(EVP_EncryptFinal_ex(cx, ct + l1, &l2) == 1);
		ck_assert(EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_GET_TAG, (int)icv, ct + clen) == 1);
	} else {
		const EVP_CIPHER *c = sa->enc == ESPE_3DES ? EVP_des_ede3_cbc()
		                      : sa->eklen == 16     ? EVP_aes_128_cbc()
		                      : sa->eklen == 24     ? EVP_aes_192_cbc()
		                                            : EVP_aes_256_cbc();
		ck_assert(EVP_EncryptInit_ex(cx, c, NULL, sa->ekey, iv) == 1);
		EVP_CIPHER_CTX_set_padding(cx, 0);
		ck_assert(EVP_EncryptUpdate(cx, ct, &l1, pt, (int)clen) == 1);
		ck_assert(EVP_EncryptFinal_ex(cx, ct + l1, &l2) == 1);
	}
	EVP_CIPHER_CTX_free(cx);
	size_t len = 8 + ivlen + clen;
	if (sa->enc != ESPE_AES_GCM && md_of(sa->auth)) {
		uint8_t mac[EVP_MAX_MD_SIZE];
		unsigned ml = 0;
		ck_assert_ptr_nonnull(HMAC(md_of(sa->auth), sa->akey, (int)sa->aklen, out, len, mac, &ml));
		memcpy(out + len, mac, icv);
	}
	return len + icv;
}

static struct esp_ctx *ctx;

/* Half the tests keep keys scheduled between packets, half schedule them each time. */
static void setup(void)
{
	static int n;
	ctx = n++ % 2 ? esp_ctx_new() : NULL;
}

static void teardown(void)
{
	esp_ctx_free(ctx);
	ctx = NULL;
}

static const uint8_t payload[] = "\x45\x00\x00\x30 an inner packet that is not a block long";

START_TEST(each_cipher_round_trip)
{
	const struct cfg *c = &cfgs[_i];
	struct esp_sa sa;
	make_sa(c, &sa, 9);
	uint8_t pkt[2200], out[2200], nh = 0;
	for (size_t n = 1; n < sizeof payload; n += 7) {
		size_t len = seal(&sa, (uint32_t)n, payload, n, 4, pkt);
		size_t ol = 0;
		struct diag_err e;
		int r = esp_decrypt(ctx, &sa, pkt, len, out, sizeof out, &ol, &nh, &e);
		ck_assert_msg(r == 0, "%s, %zu bytes: %d %s", c->name, n, r, e.reason);
		ck_assert_uint_eq(ol, n);
		ck_assert_uint_eq(nh, 4);
		ck_assert_mem_eq(out, payload, n);
	}
}
END_TEST

START_TEST(each_cipher_rejects_tampering_and_wrong_keys)
{
	const struct cfg *c = &cfgs[_i];
	struct esp_sa sa, bad;
	make_sa(c, &sa, 9);
	uint8_t pkt[2200], out[2200], nh = 0;
	size_t ol = 0, len = seal(&sa, 7, payload, sizeof payload - 1, 17, pkt);
	struct diag_err e;
	bool authed = c->enc == ESPE_AES_GCM || c->auth != ESPA_NULL;
	/* a changed byte anywhere covered by the ICV */
	for (size_t i = 0; authed && i < len; i += 5) {
		pkt[i] ^= 0x20;
		int r = esp_decrypt(ctx, &sa, pkt, len, out, sizeof out, &ol, &nh, &e);
		ck_assert_msg(r == ESPF_ICV, "%s: byte %zu changed gives %d", c->name, i, r);
		pkt[i] ^= 0x20;
	}
	/* a wrong key: the ICV when there is one, else the padding or the trailer */
	make_sa(c, &bad, 10);
	if (c->auth != ESPA_NULL)
		memcpy(bad.ekey, sa.ekey, sizeof sa.ekey); /* right cipher key, wrong auth key */
	int r = esp_decrypt(ctx, &bad, pkt, len, out, sizeof out, &ol, &nh, &e);
	if (authed)
		ck_assert_int_eq(r, ESPF_ICV);
	else
		ck_assert_msg(r == ESPF_PAD || r == ESPF_PADLEN || r == ESPF_NEXT, "%s: %d", c->name, r);
	ck_assert_ptr_nonnull(esp_fail_name(r));
	/* every cut of the packet fails cleanly, never reads past it */
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, pkt, cut);
		r = esp_decrypt(ctx, &sa, copy, cut, out, sizeof out, &ol, &nh, &e);
		free(copy);
		ck_assert_msg(r < 0 || !authed, "%s: cut at %zu decrypts", c->name, cut);
	}
}
END_TEST

START_TEST(pad_length_beyond_packet)
{
	/* NULL encryption, no integrity: the trailer is in the clear */
	struct esp_sa sa;
	memset(&sa, 0, sizeof sa);
	uint8_t pkt[16] = {0, 0, 0, 1, 0, 0, 0, 1, 'a', 'b', 'c', 'd', 1, 2, 200, 4};
	uint8_t out[16], nh;
	size_t ol;
	struct diag_err e;
	ck_assert_int_eq(esp_decrypt(ctx, &sa, pkt, sizeof pkt, out, sizeof out, &ol, &nh, &e), ESPF_PADLEN);
	pkt[14] = 7; /* one more than the 6 bytes before the trailer */
	ck_assert_int_eq(esp_decrypt(ctx, &sa, pkt, sizeof pkt, out, sizeof out, &ol, &nh, &e), ESPF_PADLEN);
	pkt[14] = 6;
	ck_assert_int_eq(esp_decrypt(ctx, &sa, pkt, sizeof pkt, out, sizeof out, &ol, &nh, &e), ESPF_PAD);
	pkt[14] = 2;
	ck_assert_int_eq(esp_decrypt(ctx, &sa, pkt, sizeof pkt, out, sizeof out, &ol, &nh, &e), 0);
	ck_assert_uint_eq(ol, 4);
	pkt[13] = 9; /* padding not 1, 2 */
	ck_assert_int_eq(esp_decrypt(ctx, &sa, pkt, sizeof pkt, out, sizeof out, &ol, &nh, &e), ESPF_PAD);
	pkt[13] = 2;
	pkt[15] = 99;
	ck_assert_int_eq(esp_decrypt(ctx, &sa, pkt, sizeof pkt, out, sizeof out, &ol, &nh, &e), ESPF_NEXT);
}
END_TEST

START_TEST(keys_uat_lines)
{
	char e[256];
	static const char txt[] =
		"# comment\n"
		"\"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"0x00001234\",\"AES-CBC [RFC3602]\","
		"\"0x000102030405060708090a0b0c0d0e0f\",\"HMAC-SHA-256-128 [RFC4868]\","
		"\"0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f\"\n"
		"-o 'uat:esp_sa:\"Any\",\"*\",\"*\",\"*\",\"AES-GCM with 16 octet ICV [RFC4106]\","
		"\"0x000102030405060708090a0b0c0d0e0f10111213\",\"NULL\",\"\"'\n"
		"-o 'uat:esp_sa:\"IPv6\",\"2001:db8::1\",\"2001:db8::2\",\"0xabc\",\"TripleDES-CBC [RFC2451]\","
		"\"0x000102030405060708090a0b0c0d0e0f1011121314151617\",\"HMAC-MD5-96 [RFC2403]\","
		"\"0x000102030405060708090a0b0c0d0e0f\"'\n";
	struct ike_keys *k = ike_keys_parse("k", txt, sizeof txt - 1, e, sizeof e);
	ck_assert_msg(k != NULL, "%s", e);
	ck_assert_uint_eq(ike_keys_count_esp(k), 3);
	ck_assert_uint_eq(ike_keys_count_v2(k), 0);
	uint8_t a[16] = {10, 0, 0, 1}, b[16] = {10, 0, 0, 2};
	const struct esp_sa *sa = ike_keys_esp_find(k, 4, a, b, 0x1234);
	ck_assert_ptr_nonnull(sa);
	ck_assert_int_eq(sa->enc, ESPE_AES_CBC);
	ck_assert_str_eq(esp_auth_name(sa), "HMAC-SHA2-256-128");
	/* other SPI or the other direction: the wildcard SA */
	sa = ike_keys_esp_find(k, 4, b, a, 0x1234);
	ck_assert_ptr_nonnull(sa);
	ck_assert_int_eq(sa->enc, ESPE_AES_GCM);
	ck_assert_uint_eq(esp_sa_icvlen(sa), 16);
	uint8_t v6a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, v6b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	sa = ike_keys_esp_find(k, 6, v6a, v6b, 0xabc);
	ck_assert_ptr_nonnull(sa);
	ck_assert_str_eq(esp_enc_name(sa), "3DES-CBC");
	ike_keys_free(k);

	static const char *const bad[] = {
		"\"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"0x1\",\"AES-CBC [RFC3602]\",\"0x00\",\"NULL\"\n",
		"\"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"1234\",\"NULL\",\"\",\"NULL\",\"\"\n",
		"\"IPv4\",\"10.0.0.x\",\"10.0.0.2\",\"0x1\",\"NULL\",\"\",\"NULL\",\"\"\n",
		"\"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"0x1\",\"AES-CTR [RFC3686]\",\"0x00\",\"NULL\",\"\"\n",
		"\"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"0x1\",\"AES-CBC [RFC3602]\","
		"\"0x0001020304050607\",\"NULL\",\"\"\n",
		"\"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"0x1\",\"AES-GCM with 16 octet ICV [RFC4106]\","
		"\"0x000102030405060708090a0b0c0d0e0f10111213\",\"HMAC-SHA-1-96 [RFC2404]\",\"0x00\"\n",
		"\"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"0x1\",\"NULL\",\"\",\"HMAC-SHA-1-96 [RFC2404]\",\"\"\n",
		"\"IPv6\",\"10.0.0.1\",\"10.0.0.2\",\"0x1\",\"NULL\",\"\",\"NULL\",\"\"\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e[0] = 0;
		k = ike_keys_parse("b", bad[i], strlen(bad[i]), e, sizeof e);
		ck_assert_msg(k == NULL, "line %zu accepted", i);
		ck_assert_msg(strstr(e, "b:1:") != NULL, "line %zu: %s", i, e);
	}
}
END_TEST

START_TEST(keys_xfrm_state)
{
	char e[256];
	static const char txt[] =
		"src 192.0.2.1 dst 192.0.2.2\n"
		"\tproto esp spi 0xc1a2b3c4 reqid 1 mode tunnel\n"
		"\treplay-window 0 flag af-unspec\n"
		"\tauth-trunc hmac(sha256) 0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f 128\n"
		"\tenc cbc(aes) 0x000102030405060708090a0b0c0d0e0f\n"
		"\tencap type espinudp sport 4500 dport 4500 addr 0.0.0.0\n"
		"src 192.0.2.2 dst 192.0.2.1\n"
		"\tproto ah spi 0x00000001 reqid 1 mode tunnel\n"
		"\tauth-trunc hmac(sha1) 0x000102030405060708090a0b0c0d0e0f10111213 96\n"
		"src 192.0.2.2 dst 192.0.2.1\n"
		"\tproto esp spi 0x00000002 reqid 1 mode transport\n"
		"\taead rfc4106(gcm(aes)) 0x000102030405060708090a0b0c0d0e0f10111213 96\n";
	struct ike_keys *k = ike_keys_parse("x", txt, sizeof txt - 1, e, sizeof e);
	ck_assert_msg(k != NULL, "%s", e);
	ck_assert_uint_eq(ike_keys_count_esp(k), 2); /* the AH state is not ESP */
	uint8_t a[16] = {192, 0, 2, 1}, b[16] = {192, 0, 2, 2};
	const struct esp_sa *sa = ike_keys_esp_find(k, 4, a, b, 0xc1a2b3c4);
	ck_assert_ptr_nonnull(sa);
	ck_assert_str_eq(esp_enc_name(sa), "AES-CBC-128");
	ck_assert_str_eq(esp_auth_name(sa), "HMAC-SHA2-256-128");
	ck_assert_ptr_null(ike_keys_esp_find(k, 4, b, a, 0xc1a2b3c4));
	sa = ike_keys_esp_find(k, 4, b, a, 2);
	ck_assert_ptr_nonnull(sa);
	ck_assert_str_eq(esp_enc_name(sa), "AES-GCM-12");
	ike_keys_free(k);

	static const char bad[] = "src 192.0.2.1 dst 192.0.2.2\n"
	                          "\tproto esp spi 0x1 reqid 1 mode tunnel\n"
	                          "\tauth-trunc hmac(sha256) 0x0001 96\n"
	                          "\tenc cbc(aes) 0x000102030405060708090a0b0c0d0e0f\n";
	ck_assert_ptr_null(ike_keys_parse("x", bad, sizeof bad - 1, e, sizeof e));
	ck_assert_msg(strstr(e, "x:3:") != NULL, "%s", e);
}
END_TEST

/* The NAT-T capture made by tests/captures/make-esp-captures.py: the L2TP session comes
 * out of ESP and is nested under the IKEv1 SA. */
START_TEST(l2tp_nested_under_ike_sa)
{
	char e[256];
	struct ike_keys *k = ike_keys_load(VNET_SOURCE_DIR "/tests/captures/l2tp-ipsec-natt.keys",
	                                   e, sizeof e);
	ck_assert_msg(k != NULL, "%s", e);
	struct pcapin in;
	ck_assert_int_eq(pcapin_open(&in, VNET_SOURCE_DIR "/tests/captures/l2tp-ipsec-natt.pcap"), 0);
	struct dissect *d = dissect_new(NULL);
	struct sess_table *t = sess_table_new("natt");
	ck_assert_int_eq(sess_set_keys(t, k), 0);
	struct pcapin_pkt pk;
	while (pcapin_next(&in, &pk) > 0)
		sess_packet(t, dissect_packet(d, pk.dlt, pk.frame, pk.ts_ns, pk.rel_ns, pk.data,
		                              pk.caplen, pk.origlen));
	ck_assert_uint_eq(sess_esp_decrypted(t), 34);
	ck_assert_uint_eq(sess_esp_failed(t), 0);
	ck_assert_uint_eq(sess_count(t), 2);
	struct vsess *ike = sess_at(t, 0), *l2 = sess_at(t, 1);
	ck_assert_int_eq(ike->proto, SP_IKE1);
	ck_assert_uint_eq(ike->esp_decrypted, 34);
	ck_assert_int_eq(l2->proto, SP_L2TP);
	ck_assert(l2->in_ipsec);
	ck_assert_uint_eq(l2->parent, ike->id);
	ck_assert_str_eq(sess_proto_name(l2), "l2tp-ipsec");
	ck_assert_str_eq(l2->user, "labuser");
	ck_assert_int_eq(l2->ph[PH_AUTH].state, PS_OK);
	ck_assert_int_eq(l2->ph[PH_NCP].state, PS_OK);
	sess_table_free(t);
	dissect_free(d);
	pcapin_close(&in);
	ike_keys_free(k);
}
END_TEST

/* Feed one raw IP frame (link type 101) to the tracker. */
static void feed(struct dissect *d, struct sess_table *t, uint64_t frame, const uint8_t *b,
                 size_t n)
{
	sess_packet(t, dissect_packet(d, 101, frame, frame * 1000000, frame * 1000000, b, n, n));
}

/* Transport mode over IPv6 (the payload gets an IPv6 header with the outer addresses) and
 * tunnel mode over IPv4, with no IKE SA in the capture: the L2TP inside is still tracked,
 * marked as carried in IPsec, without a parent. */
START_TEST(transport_v6_and_tunnel_v4_without_ike)
{
	static const char txt[] =
		"\"IPv6\",\"2001:db8::1\",\"2001:db8::2\",\"0x99\",\"NULL\",\"\","
		"\"HMAC-SHA-1-96 [RFC2404]\",\"0x0102030405060708090a0b0c0d0e0f1011121314\"\n"
		"\"IPv4\",\"192.0.2.1\",\"192.0.2.2\",\"0x77\",\"AES-CBC [RFC3602]\","
		"\"0x000102030405060708090a0b0c0d0e0f\",\"HMAC-SHA-256-128 [RFC4868]\","
		"\"0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f\"\n";
	char e[256];
	struct ike_keys *k = ike_keys_parse("t", txt, sizeof txt - 1, e, sizeof e);
	ck_assert_msg(k != NULL, "%s", e);
	struct dissect *d = dissect_new(NULL);
	struct sess_table *t = sess_table_new("t");
	ck_assert_int_eq(sess_set_keys(t, k), 0);

	/* UDP 1701 -> 1701 with the SCCRQ, as ESP payload */
	uint8_t udp[8 + sizeof lab_l2tp_sccrq];
	udp[0] = 0x06, udp[1] = 0xa5, udp[2] = 0x06, udp[3] = 0xa5;
	udp[4] = (uint8_t)(sizeof udp >> 8), udp[5] = (uint8_t)sizeof udp, udp[6] = udp[7] = 0;
	memcpy(udp + 8, lab_l2tp_sccrq, sizeof lab_l2tp_sccrq);

	uint8_t v6a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, v6b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	const struct esp_sa *sa6 = ike_keys_esp_find(k, 6, v6a, v6b, 0x99);
	ck_assert_ptr_nonnull(sa6);
	uint8_t f[1024];
	memset(f, 0, 40);
	f[0] = 0x60;
	f[6] = 50;
	f[7] = 64;
	memcpy(f + 8, v6a, 16);
	memcpy(f + 24, v6b, 16);
	size_t el = seal(sa6, 1, udp, sizeof udp, 17, f + 40);
	f[4] = (uint8_t)(el >> 8);
	f[5] = (uint8_t)el;
	feed(d, t, 1, f, 40 + el);
	ck_assert_uint_eq(sess_esp_decrypted(t), 1);
	ck_assert_uint_eq(sess_count(t), 1);
	struct vsess *s = sess_at(t, 0);
	ck_assert_int_eq(s->proto, SP_L2TP);
	ck_assert(s->in_ipsec);
	ck_assert_uint_eq(s->parent, 0);
	ck_assert_uint_eq(s->ipver, 6);
	ck_assert_mem_eq(s->cli, v6a, 16);
	ck_assert_uint_eq(s->tid_c, 0x444e); /* the Assigned Tunnel ID of the SCCRQ */
	/* the same packet with a changed byte: counted, not tracked */
	f[40 + 20] ^= 1;
	feed(d, t, 2, f, 40 + el);
	ck_assert_uint_eq(sess_esp_failed(t), 1);
	ck_assert_uint_eq(sess_count(t), 1);

	/* tunnel mode: an inner IPv4 packet 10.0.0.1 -> 10.0.0.2 with the same datagram */
	uint8_t inner[20 + sizeof udp];
	memset(inner, 0, 20);
	inner[0] = 0x45;
	inner[2] = (uint8_t)(sizeof inner >> 8);
	inner[3] = (uint8_t)sizeof inner;
	inner[8] = 64;
	inner[9] = 17;
	inner[12] = 10, inner[15] = 1, inner[16] = 10, inner[19] = 2;
	uint16_t sum = inet_cksum(inner, 20, 0);
	inner[10] = (uint8_t)(sum >> 8);
	inner[11] = (uint8_t)sum;
	memcpy(inner + 20, udp, sizeof udp);
	uint8_t a4[16] = {192, 0, 2, 1}, b4[16] = {192, 0, 2, 2};
	const struct esp_sa *sa4 = ike_keys_esp_find(k, 4, a4, b4, 0x77);
	ck_assert_ptr_nonnull(sa4);
	memset(f, 0, 20);
	f[0] = 0x45;
	f[8] = 64;
	f[9] = 50;
	memcpy(f + 12, a4, 4);
	memcpy(f + 16, b4, 4);
	el = seal(sa4, 1, inner, sizeof inner, 4, f + 20);
	f[2] = (uint8_t)((el + 20) >> 8);
	f[3] = (uint8_t)(el + 20);
	sum = inet_cksum(f, 20, 0);
	f[10] = (uint8_t)(sum >> 8);
	f[11] = (uint8_t)sum;
	feed(d, t, 3, f, 20 + el);
	ck_assert_uint_eq(sess_esp_decrypted(t), 2);
	ck_assert_uint_eq(sess_count(t), 2);
	s = sess_at(t, 1);
	ck_assert_int_eq(s->proto, SP_L2TP);
	ck_assert(s->in_ipsec);
	ck_assert_uint_eq(s->ipver, 4);
	ck_assert_uint_eq(s->cli[0], 10); /* the inner addresses */
	ck_assert_uint_eq(s->srv[3], 2);
	sess_table_free(t);
	dissect_free(d);
	ike_keys_free(k);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("espdecrypt");
	TCase *tc = tcase_create("esp");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, each_cipher_round_trip, 0, (int)NCFG);
	tcase_add_loop_test(tc, each_cipher_rejects_tampering_and_wrong_keys, 0, (int)NCFG);
	tcase_add_test(tc, pad_length_beyond_packet);
	tcase_add_test(tc, keys_uat_lines);
	tcase_add_test(tc, keys_xfrm_state);
	tcase_add_test(tc, l2tp_nested_under_ike_sa);
	tcase_add_test(tc, transport_v6_and_tunnel_v4_without_ike);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
