/* What both ends of an IKEv2 SA compute alike (engine/ike/ikev2_sa.h) and the proposal
 * list reader (engine/ike/ike_list.h): an SK payload sealed with one side's keys opens
 * with that side's keys only, for each suite; a tampered or short one does not; the two
 * ends' child keys mirror each other; the AUTH of one side differs from the other's. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ike/ike_list.h"
#include "ike/ike_bytes.h"
#include "ike/ikev2_sa.h"

static void fill(void *ctx, uint8_t *buf, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(0xa0 + i);
}

static const struct ikev2_cbs cbs = {.random = fill};

static void keys_for(struct ikev2_keys *k, const struct ikev2_prop *p)
{
	memset(k, 0, sizeof *k);
	memcpy(k->ispi, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	memcpy(k->rspi, "\x99\xaa\xbb\xcc\xdd\xee\xff\x01", 8);
	uint8_t seed[IKE_HASH_MAX], ni[32], nr[32];
	for (size_t i = 0; i < sizeof seed; i++)
		seed[i] = (uint8_t)(3 * i + 1);
	memset(ni, 0x5a, sizeof ni);
	memset(nr, 0xa5, sizeof nr);
	ck_assert(ikev2_keys_shape(k, p));
	ck_assert(ikev2_keys_derive(k, seed, ni, sizeof ni, nr, sizeof nr));
}

/* The SK payload of a datagram ikev2_seal made, as the decoder would describe it. */
static struct ike_payload sk_of(const uint8_t *out, size_t len)
{
	struct ike_payload p;
	memset(&p, 0, sizeof p);
	p.type = IKE2_PL_SK;
	p.data = out + IKE_HDR_LEN + 4;
	p.data_len = len - IKE_HDR_LEN - 4;
	return p;
}

static const struct ikev2_prop suites[] = {
	{IKE2_ENCR_AES_CBC, 256, IKE2_INTEG_HMAC_SHA2_256_128, IKE2_PRF_HMAC_SHA2_256, 14},
	{IKE2_ENCR_3DES, 0, IKE2_INTEG_HMAC_SHA1_96, IKE2_PRF_HMAC_SHA1, 2},
	{IKE2_ENCR_AES_GCM_16, 256, 0, IKE2_PRF_HMAC_SHA2_384, 20},
};

START_TEST(seal_opens_with_the_senders_keys_only)
{
	struct ikev2_keys k;
	keys_for(&k, &suites[_i]);
	uint8_t inner[37], out[256], back[256];
	for (size_t i = 0; i < sizeof inner; i++)
		inner[i] = (uint8_t)i;
	for (int from_i = 0; from_i < 2; from_i++) {
		size_t len = ikev2_seal(&k, &cbs, from_i, 35, 0x08, 7, false, 0, 0, 46, inner,
		                        sizeof inner, out, sizeof out);
		ck_assert_uint_gt(len, IKE_HDR_LEN + 4 + sizeof inner);
		ck_assert_int_eq(out[16], IKE2_PL_SK);
		ck_assert_int_eq(out[28], 46);
		ck_assert_uint_eq(ike_get32(out + 24), len);
		ck_assert_mem_eq(out, k.ispi, 8);
		struct ike_payload p = sk_of(out, len);
		long n = ikev2_open(&k, from_i, out, len, &p, back, sizeof back);
		ck_assert_int_eq(n, (long)sizeof inner);
		ck_assert_mem_eq(back, inner, sizeof inner);
		/* the other side's keys, a changed byte, too little room: refused */
		ck_assert_int_eq(ikev2_open(&k, !from_i, out, len, &p, back, sizeof back),
		                 IKEV2_OPEN_BAD);
		ck_assert_int_eq(ikev2_open(&k, from_i, out, len, &p, back, 8), IKEV2_OPEN_BAD);
		out[len - 1] ^= 1;
		ck_assert_int_eq(ikev2_open(&k, from_i, out, len, &p, back, sizeof back),
		                 IKEV2_OPEN_BAD);
		/* no room for IV and ICV, or outside the datagram */
		p.data_len = k.iv_len + k.icv_len;
		ck_assert_int_eq(ikev2_open(&k, from_i, out, len, &p, back, sizeof back),
		                 IKEV2_OPEN_SHAPE);
		p = sk_of(out, len);
		ck_assert_int_eq(ikev2_open(&k, from_i, out, len - 1, &p, back, sizeof back),
		                 IKEV2_OPEN_SHAPE);
	}
	/* too small a buffer for the datagram */
	ck_assert_uint_eq(ikev2_seal(&k, &cbs, true, 35, 0x08, 7, false, 0, 0, 46, inner,
	                             sizeof inner, out, 60), 0);
}
END_TEST

START_TEST(fragment_header)
{
	struct ikev2_keys k;
	keys_for(&k, &suites[0]);
	uint8_t inner[20] = {0}, out[256];
	size_t len = ikev2_seal(&k, &cbs, false, 35, 0x20, 9, true, 2, 3, 0, inner, sizeof inner,
	                        out, sizeof out);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(out[16], IKE2_PL_SKF);
	ck_assert_uint_eq(ike_get16(out + 32), 2);
	ck_assert_uint_eq(ike_get16(out + 34), 3);
	ck_assert_uint_eq(ike_get16(out + 30), len - IKE_HDR_LEN);
}
END_TEST

START_TEST(child_keys_mirror)
{
	struct ikev2_keys k;
	keys_for(&k, &suites[0]);
	struct ikev2_addr a = {4, {10, 0, 0, 1}, 500}, b = {4, {10, 0, 0, 2}, 500};
	const struct ikev2_esp_prop esp = {IKE2_ENCR_AES_CBC, 128, IKE2_INTEG_HMAC_SHA1_96};
	uint8_t ni[16] = {1}, nr[16] = {2};
	struct ike_iov s[2] = {{ni, sizeof ni}, {nr, sizeof nr}};
	struct ikev2_child ci, cr;
	memset(&ci, 0, sizeof ci);
	memset(&cr, 0, sizeof cr);
	ci.spi_in = cr.spi_out = 0x1111;
	ci.spi_out = cr.spi_in = 0x2222;
	ck_assert(ikev2_child_keys(&k, &esp, s, 2, true, &a, &b, &ci));
	ck_assert(ikev2_child_keys(&k, &esp, s, 2, false, &b, &a, &cr));
	ck_assert_uint_eq(ci.out.spi, cr.in.spi);
	ck_assert_uint_eq(ci.out.eklen, 16);
	ck_assert_uint_eq(ci.out.aklen, 20);
	ck_assert_mem_eq(ci.out.ekey, cr.in.ekey, 16);
	ck_assert_mem_eq(ci.out.akey, cr.in.akey, 20);
	ck_assert_mem_eq(ci.in.ekey, cr.out.ekey, 16);
	ck_assert_mem_eq(ci.out.src, a.ip, 4);
	ck_assert_mem_eq(ci.out.dst, b.ip, 4);
	ck_assert(memcmp(ci.in.ekey, ci.out.ekey, 16) != 0);
	/* a CBC suite without integrity is not keyed */
	const struct ikev2_esp_prop bare = {IKE2_ENCR_AES_CBC, 128, 0};
	ck_assert(!ikev2_child_keys(&k, &bare, s, 2, true, &a, &b, &ci));
}
END_TEST

START_TEST(auth_of_each_side)
{
	struct ikev2_keys k;
	keys_for(&k, &suites[0]);
	const uint8_t msg[] = "RealMessage", nonce[8] = {7}, id[] = {1, 0, 0, 0, 10, 0, 0, 1};
	struct ike_iov vi[3], vr[3];
	uint8_t mi[IKE_HASH_MAX], mr[IKE_HASH_MAX], ai[IKE_HASH_MAX], ar[IKE_HASH_MAX];
	ck_assert(ikev2_signed_octets(&k, true, msg, sizeof msg, nonce, sizeof nonce, id,
	                              sizeof id, vi, mi));
	ck_assert(ikev2_signed_octets(&k, false, msg, sizeof msg, nonce, sizeof nonce, id,
	                              sizeof id, vr, mr));
	ck_assert_uint_eq(vi[2].n, k.prf_len);
	ck_assert(vi[0].p == msg && vi[1].p == nonce && vi[2].p == mi);
	ck_assert(memcmp(mi, mr, k.prf_len) != 0);
	ck_assert(ikev2_shared_key_auth(&k, (const uint8_t *)"psk", 3, vi, ai));
	ck_assert(ikev2_shared_key_auth(&k, (const uint8_t *)"psk", 3, vr, ar));
	ck_assert(memcmp(ai, ar, k.prf_len) != 0);
}
END_TEST

START_TEST(list_items_and_words)
{
	const char *text = "aes256-sha256-modp2048,,aes128gcm16,a-b-c-d-e-f";
	const char *p = text;
	struct ike_list_item it;
	ck_assert(ike_list_next(text, &p, &it));
	ck_assert_uint_eq(it.col, 1);
	ck_assert_uint_eq(it.len, 22);
	ck_assert_uint_eq(it.nw, 3);
	ck_assert_uint_eq(it.wl[1], 6);
	ck_assert(!strncmp(it.w[2], "modp2048", it.wl[2]));
	ck_assert(ike_list_next(text, &p, &it));
	ck_assert_uint_eq(it.col, 24);
	ck_assert_uint_eq(it.len, 0);
	ck_assert_uint_eq(it.nw, 1);
	ck_assert(ike_list_next(text, &p, &it));
	ck_assert_uint_eq(it.col, 25);
	ck_assert_uint_eq(it.nw, 1);
	ck_assert_uint_eq(it.wl[0], 11);
	ck_assert(ike_list_next(text, &p, &it));
	ck_assert_uint_eq(it.nw, IKE_LIST_WORDS);
	ck_assert(!ike_list_next(text, &p, &it));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ikev2_sa");
	TCase *t = tcase_create("core");
	tcase_add_loop_test(t, seal_opens_with_the_senders_keys_only, 0,
	                    (int)(sizeof suites / sizeof suites[0]));
	tcase_add_test(t, fragment_header);
	tcase_add_test(t, child_keys_mirror);
	tcase_add_test(t, auth_of_each_side);
	tcase_add_test(t, list_items_and_words);
	suite_add_tcase(s, t);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
