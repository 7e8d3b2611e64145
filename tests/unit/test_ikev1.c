/* The IKEv1 responder against the initiator of ikev1_peer.h, in one process: Main Mode
 * with each group and cipher, wrong pre-shared key, proposal mismatch, Aggressive Mode,
 * retransmissions, NAT-T, Quick Mode selectors and keys, DPD, DELETE, lifetimes,
 * phase-2 rekey; Main Mode with RSA signatures (the client's certificate trusted or not,
 * its signature, its ID, a peer that refuses the server's certificate); and the
 * cryptography underneath against published vectors. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "certgen.h"
#include "ikev1_peer.h"

/* ---- the responder's side: what it sent and said ------------------------------------- */
struct h {
	struct ikev1_conf conf;
	struct ikev1_cbs cbs;
	struct ikev1_sa *sa;
	struct ikev1_addr local, peer;
	uint8_t out[8][IKEV1_MSG_MAX];
	size_t outlen[8];
	bool natt[8];
	int nout;
	char last_fail[400];
	int ike_up, ike_down, child_up, child_down, initial_contact;
	struct ikev1_child up;
	unsigned rnd;
	/* an owner that enters another SA from its INITIAL-CONTACT callback: this message to
	 * it, then a delete */
	struct h *nested;
	const uint8_t *nested_msg;
	size_t nested_len;
};

static void h_send(void *ctx, const uint8_t *b, size_t n, bool natt)
{
	struct h *h = ctx;
	if (h->nout < 8) {
		memcpy(h->out[h->nout], b, n);
		h->outlen[h->nout] = n;
		h->natt[h->nout] = natt;
		h->nout++;
	}
}

static void h_event(void *ctx, enum ikev1_ev k, const char *t)
{
	struct h *h = ctx;
	if (k == IKEV1_EV_FAIL)
		snprintf(h->last_fail, sizeof h->last_fail, "%s", t);
	h->ike_up += k == IKEV1_EV_IKE_UP;
	h->ike_down += k == IKEV1_EV_IKE_DOWN;
	h->initial_contact += k == IKEV1_EV_INITIAL_CONTACT;
	if (k == IKEV1_EV_INITIAL_CONTACT && h->nested) {
		struct h *o = h->nested;
		h->nested = NULL;
		ikev1_input(o->sa, h->nested_msg, h->nested_len, &o->local, &o->peer, 40);
		ikev1_delete(o->sa, "initial contact", 41);
	}
	if (getenv("IKEV1_TEST_VERBOSE"))
		fprintf(stderr, "[%s] %s\n", tok_name(ikev1_ev_names, k), t);
}

static void h_random(void *ctx, uint8_t *b, size_t n)
{
	struct h *h = ctx;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((h->rnd = h->rnd * 1103515245u + 12345u) >> 16);
}

static void h_child_up(void *ctx, const struct ikev1_child *c)
{
	struct h *h = ctx;
	h->child_up++;
	h->up = *c;
}

static void h_child_down(void *ctx, const struct ikev1_child *c, const char *why)
{
	struct h *h = ctx;
	(void)c;
	(void)why;
	h->child_down++;
}

static struct h *h_new(const char *psk)
{
	struct h *h = calloc(1, sizeof *h);
	ikev1_conf_default(&h->conf);
	h->conf.psk = (const uint8_t *)psk;
	h->conf.psk_len = strlen(psk);
	h->cbs = (struct ikev1_cbs){h, h_send, h_event, h_random, h_child_up, h_child_down};
	h->local.family = h->peer.family = 4;
	memcpy(h->local.ip, "\x0a\x00\x00\x01", 4);
	memcpy(h->peer.ip, "\x0a\x00\x00\x02", 4);
	h->local.port = h->peer.port = 500;
	h->rnd = 7;
	h->sa = ikev1_new(&h->conf, &h->cbs, &h->local, &h->peer, 0);
	return h;
}

static void h_free(struct h *h)
{
	ikev1_free(h->sa);
	free(h);
}

/* Feed one message; returns the reply (the last message sent), NULL when none. */
static const uint8_t *h_in(struct h *h, const uint8_t *b, size_t n, uint64_t now, size_t *rlen)
{
	int before = h->nout;
	ikev1_input(h->sa, b, n, &h->local, &h->peer, now);
	if (h->nout == before)
		return NULL;
	*rlen = h->outlen[h->nout - 1];
	return h->out[h->nout - 1];
}

/* Main Mode to the end: true when the initiator accepted MM6. */
static bool main_mode(struct h *h, struct v1peer *p)
{
	uint8_t msg[4096];
	size_t n = v1p_mm1(p, msg, sizeof msg), rl = 0;
	const uint8_t *r = h_in(h, msg, n, 1, &rl);
	if (!r || !(n = v1p_mm3(p, r, rl, msg, sizeof msg)))
		return false;
	if (!(r = h_in(h, msg, n, 2, &rl)) || !(n = v1p_mm5(p, r, rl, msg, sizeof msg)))
		return false;
	if (!(r = h_in(h, msg, n, 3, &rl)))
		return false;
	return v1p_mm6(p, r, rl);
}

static bool quick_mode(struct h *h, struct v1peer *p, uint32_t msgid, uint32_t spi)
{
	uint8_t msg[4096];
	size_t n = v1p_qm1(p, msgid, spi, msg), rl = 0;
	const uint8_t *r = h_in(h, msg, n, 10, &rl);
	if (!r || !(n = v1p_qm3(p, r, rl, msg)))
		return false;
	int up = h->child_up;
	h_in(h, msg, n, 11, &rl);
	return h->child_up == up + 1;
}

/* ---- cryptography --------------------------------------------------------------------- */

START_TEST(prf_rfc4231)
{
	/* RFC 4231 test case 2: HMAC-SHA-256 with key "Jefe" */
	static const char *data = "what do ya want for nothing?";
	static const uint8_t want[32] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95,
		0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9,
		0x64, 0xec, 0x38, 0x43};
	uint8_t out[IKE_HASH_MAX];
	struct ike_iov v[2] = {{data, 10}, {data + 10, strlen(data) - 10}};
	ck_assert(ike1_prf(IKE1_HASH_SHA256, (const uint8_t *)"Jefe", 4, v, 2, out));
	ck_assert_mem_eq(out, want, 32);
	ck_assert(!ike1_prf(3, (const uint8_t *)"Jefe", 4, v, 2, out)); /* 3 is Tiger: unknown */
}
END_TEST

START_TEST(expand_chains)
{
	uint8_t key[20] = {1, 2, 3}, out[50], k1[IKE_HASH_MAX], k2[IKE_HASH_MAX];
	static const uint8_t z = 0;
	struct ike_iov s = {&z, 1};
	ck_assert(ike1_expand(IKE1_HASH_SHA1, key, 20, &s, 1, false, out, 32));
	ike1_prf(IKE1_HASH_SHA1, key, 20, &s, 1, k1);
	struct ike_iov s2 = {k1, 20};
	ike1_prf(IKE1_HASH_SHA1, key, 20, &s2, 1, k2);
	ck_assert_mem_eq(out, k1, 20);
	ck_assert_mem_eq(out + 20, k2, 12); /* appendix B: K2 = prf(K, K1), no seed */
	ck_assert(ike1_expand(IKE1_HASH_SHA1, key, 20, &s, 1, true, out, 40));
	struct ike_iov s3[2] = {{k1, 20}, {&z, 1}};
	ike1_prf(IKE1_HASH_SHA1, key, 20, s3, 2, k2);
	ck_assert_mem_eq(out + 20, k2, 20); /* KEYMAT: K2 = prf(K, K1 | seed) */
}
END_TEST

START_TEST(dh_agree)
{
	static const unsigned groups[] = {2, 14, 19, 20};
	for (size_t i = 0; i < 4; i++) {
		struct ike_dh *a = ike_dh_new(groups[i]), *b = ike_dh_new(groups[i]);
		ck_assert_ptr_nonnull(a);
		ck_assert_ptr_nonnull(b);
		uint8_t pa[IKE_DH_MAX], pb[IKE_DH_MAX], sa[IKE_DH_MAX], sb[IKE_DH_MAX];
		size_t la = ike_dh_public(a, pa, sizeof pa), lb = ike_dh_public(b, pb, sizeof pb);
		ck_assert_uint_eq(la, ike_dh_ke_len(groups[i]));
		ck_assert_uint_eq(la, lb);
		size_t na = ike_dh_shared(a, pb, lb, sa, sizeof sa);
		size_t nb = ike_dh_shared(b, pa, la, sb, sizeof sb);
		ck_assert_uint_gt(na, 0);
		ck_assert_uint_eq(na, nb);
		ck_assert_mem_eq(sa, sb, na);
		/* a value outside the group: all zero, all ones; a truncated one */
		uint8_t bad[IKE_DH_MAX];
		memset(bad, 0, sizeof bad);
		ck_assert_uint_eq(ike_dh_shared(a, bad, la, sa, sizeof sa), 0);
		memset(bad, 0xff, sizeof bad);
		ck_assert_uint_eq(ike_dh_shared(a, bad, la, sa, sizeof sa), 0);
		ck_assert_uint_eq(ike_dh_shared(a, pb, lb - 1, sa, sizeof sa), 0);
		ike_dh_free(a);
		ike_dh_free(b);
	}
	ck_assert_ptr_null(ike_dh_new(5));
}
END_TEST

/* Key-pair reuse (serve.ipsec.dh_reuse): within the window every exchange of a group gets
 * the same pair, after it a new one; off, every exchange a fresh one. Times are given. */
static size_t pub_of(struct ike_dh *d, uint8_t *out)
{
	ck_assert_ptr_nonnull(d);
	size_t n = ike_dh_public(d, out, IKE_DH_MAX);
	ck_assert_uint_gt(n, 0);
	return n;
}

START_TEST(dh_reuse_window)
{
	uint8_t p1[IKE_DH_MAX], p2[IKE_DH_MAX], p3[IKE_DH_MAX], p4[IKE_DH_MAX];
	/* off (the default): two exchanges at the same moment, two pairs */
	struct ike_dh *a = ike_dh_new_at(19, 1000), *b = ike_dh_new_at(19, 1000);
	size_t n = pub_of(a, p1);
	pub_of(b, p2);
	ck_assert_mem_ne(p1, p2, n);
	ike_dh_free(a);
	ike_dh_free(b);
	struct ike_dh *peer = ike_dh_new_at(19, 1000); /* the other end, a pair of its own */
	uint8_t pp[IKE_DH_MAX], s1[IKE_DH_MAX], s2[IKE_DH_MAX];
	pub_of(peer, pp);

	ike_dh_reuse(10);
	a = ike_dh_new_at(19, 1000);
	b = ike_dh_new_at(19, 10999); /* 9.999 s later: within the window */
	pub_of(a, p1);
	pub_of(b, p2);
	ck_assert_mem_eq(p1, p2, n);
	ck_assert_mem_ne(p1, pp, n);
	/* one private value: one secret with the same peer value */
	size_t z = ike_dh_shared(a, pp, n, s1, sizeof s1);
	ck_assert_uint_gt(z, 0);
	ck_assert_uint_eq(ike_dh_shared(b, pp, n, s2, sizeof s2), z);
	ck_assert_mem_eq(s1, s2, z);
	/* another group: a pair of its own */
	struct ike_dh *m = ike_dh_new_at(14, 2000);
	ck_assert_uint_eq(pub_of(m, p3), 256);
	ike_dh_free(m);
	struct ike_dh *c = ike_dh_new_at(19, 11000); /* 10 s after the first: a new pair */
	pub_of(c, p3);
	ck_assert_mem_ne(p1, p3, n);
	struct ike_dh *d = ike_dh_new_at(19, 11500);
	pub_of(d, p4);
	ck_assert_mem_eq(p3, p4, n);
	/* the first pair still serves the exchanges holding it after the reuse let it go */
	ck_assert_uint_eq(ike_dh_shared(a, pp, n, s2, sizeof s2), z);
	ck_assert_mem_eq(s1, s2, z);
	ike_dh_free(a);
	ike_dh_free(b);
	ike_dh_free(c);
	ike_dh_free(d);
	/* a clock behind the pair's birth gets a new pair; the expiry drops a pair whose
	 * window is over although no exchange asked for one */
	a = ike_dh_new_at(19, 500);
	pub_of(a, p1);
	ck_assert_mem_ne(p1, p3, n);
	ike_dh_reuse_expire(500 + 9999);
	b = ike_dh_new_at(19, 600);
	pub_of(b, p2);
	ck_assert_mem_eq(p1, p2, n);
	ike_dh_free(b);
	ike_dh_reuse_expire(500 + 10000);
	b = ike_dh_new_at(19, 600);
	pub_of(b, p2);
	ck_assert_mem_ne(p1, p2, n);
	ike_dh_free(a);
	ike_dh_free(b);
	/* off again: fresh pairs */
	ike_dh_reuse(0);
	a = ike_dh_new_at(19, 700);
	b = ike_dh_new_at(19, 700);
	pub_of(a, p1);
	pub_of(b, p2);
	ck_assert_mem_ne(p1, p2, n);
	ike_dh_free(a);
	ike_dh_free(b);
	ike_dh_free(peer);
}
END_TEST

/* Our side of each group against OpenSSL's own DH and ECDH (EVP keys of the same
 * group): the same shared secret both ways, so a wrong private value, public encoding or
 * agreement shows even when ours agrees with itself. */
static EVP_PKEY *evp_group_key(unsigned g)
{
	if (g == 19 || g == 20)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", g == 19 ? "P-256" : "P-384");
	BIGNUM *p = g == 2 ? BN_get_rfc2409_prime_1024(NULL) : BN_get_rfc3526_prime_2048(NULL);
	BIGNUM *gen = BN_new();
	ck_assert(p && gen && BN_set_word(gen, 2));
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	ck_assert(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_FFC_P, p));
	ck_assert(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_FFC_G, gen));
	OSSL_PARAM *par = OSSL_PARAM_BLD_to_param(b);
	EVP_PKEY_CTX *cx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	EVP_PKEY *params = NULL, *k = NULL;
	ck_assert_int_eq(EVP_PKEY_fromdata_init(cx), 1);
	ck_assert_int_eq(EVP_PKEY_fromdata(cx, &params, EVP_PKEY_KEY_PARAMETERS, par), 1);
	EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL);
	ck_assert_int_eq(EVP_PKEY_keygen_init(kc), 1);
	ck_assert_int_eq(EVP_PKEY_keygen(kc, &k), 1);
	EVP_PKEY_CTX_free(kc);
	EVP_PKEY_CTX_free(cx);
	EVP_PKEY_free(params);
	OSSL_PARAM_free(par);
	OSSL_PARAM_BLD_free(b);
	BN_free(p);
	BN_free(gen);
	return k;
}

START_TEST(dh_against_openssl)
{
	static const unsigned groups[] = {2, 14, 19, 20};
	for (size_t i = 0; i < 4; i++) {
		unsigned g = groups[i];
		bool ec = g >= 19;
		size_t len = ike_dh_ke_len(g), slen = ec ? len / 2 : len;
		for (int round = 0; round < 3; round++) {
			EVP_PKEY *k = evp_group_key(g);
			ck_assert_ptr_nonnull(k);
			/* its public value as a KE payload carries it */
			uint8_t kp[IKE_DH_MAX], enc[1 + IKE_DH_MAX];
			size_t el = 0;
			if (ec) {
				ck_assert_int_eq(EVP_PKEY_get_octet_string_param(
				                     k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, enc, sizeof enc, &el), 1);
				ck_assert_uint_eq(el, 1 + len);
				memcpy(kp, enc + 1, len);
			} else {
				BIGNUM *y = NULL;
				ck_assert_int_eq(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PUB_KEY, &y), 1);
				ck_assert_int_eq(BN_bn2binpad(y, kp, (int)len), (int)len);
				BN_free(y);
			}
			struct ike_dh *d = ike_dh_new(g);
			ck_assert_ptr_nonnull(d);
			uint8_t dp[IKE_DH_MAX], ours[IKE_DH_MAX], theirs[IKE_DH_MAX];
			ck_assert_uint_eq(ike_dh_public(d, dp, sizeof dp), len);
			ck_assert_uint_eq(ike_dh_shared(d, kp, len, ours, sizeof ours), slen);
			/* OpenSSL's side: our public value as a key of the group, then derive */
			EVP_PKEY *peer = EVP_PKEY_new();
			ck_assert_int_eq(EVP_PKEY_copy_parameters(peer, k), 1);
			if (ec) {
				enc[0] = 4;
				memcpy(enc + 1, dp, len);
				ck_assert_int_eq(EVP_PKEY_set1_encoded_public_key(peer, enc, 1 + len), 1);
			} else {
				ck_assert_int_eq(EVP_PKEY_set1_encoded_public_key(peer, dp, len), 1);
			}
			EVP_PKEY_CTX *cx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
			size_t tl = sizeof theirs;
			ck_assert_int_eq(EVP_PKEY_derive_init(cx), 1);
			if (!ec)
				ck_assert_int_eq(EVP_PKEY_CTX_set_dh_pad(cx, 1), 1);
			ck_assert_int_eq(EVP_PKEY_derive_set_peer_ex(cx, peer, 1), 1);
			ck_assert_int_eq(EVP_PKEY_derive(cx, theirs, &tl), 1);
			ck_assert_uint_eq(tl, slen);
			ck_assert_mem_eq(ours, theirs, slen);
			EVP_PKEY_CTX_free(cx);
			EVP_PKEY_free(peer);
			EVP_PKEY_free(k);
			ike_dh_free(d);
		}
	}
}
END_TEST

/* The peer's value is checked: a MODP value outside [2, p - 2], an ECP point off the
 * curve or with a coordinate not below the field prime are refused; the edges inside
 * are taken. */
START_TEST(dh_peer_value_checked)
{
	for (unsigned g = 2; g; g = g == 2 ? 14 : 0) {
		size_t len = ike_dh_ke_len(g);
		BIGNUM *p = g == 2 ? BN_get_rfc2409_prime_1024(NULL) : BN_get_rfc3526_prime_2048(NULL);
		struct ike_dh *d = ike_dh_new(g);
		ck_assert_ptr_nonnull(d);
		uint8_t v[IKE_DH_MAX], s[IKE_DH_MAX];
		/* y = p + k for k = -2 .. 1, then y = 1 and y = 2 */
		static const int off[] = {-2, -1, 0, 1};
		static const bool good[] = {true, false, false, false};
		for (size_t k = 0; k < 4; k++) {
			BIGNUM *y = BN_dup(p);
			ck_assert(off[k] < 0 ? BN_sub_word(y, (BN_ULONG)-off[k]) : BN_add_word(y, (BN_ULONG)off[k]));
			ck_assert_int_eq(BN_bn2binpad(y, v, (int)len), (int)len);
			ck_assert_msg((ike_dh_shared(d, v, len, s, sizeof s) == len) == good[k],
			              "group %u, p%+d", g, off[k]);
			BN_free(y);
		}
		memset(v, 0, len);
		v[len - 1] = 1;
		ck_assert_uint_eq(ike_dh_shared(d, v, len, s, sizeof s), 0);
		v[len - 1] = 2;
		ck_assert_uint_eq(ike_dh_shared(d, v, len, s, sizeof s), len);
		ike_dh_free(d);
		BN_free(p);
	}
	for (unsigned g = 19; g; g = g == 19 ? 20 : 0) {
		size_t len = ike_dh_ke_len(g), cl = len / 2;
		struct ike_dh *a = ike_dh_new(g), *b = ike_dh_new(g);
		ck_assert_ptr_nonnull(a);
		ck_assert_ptr_nonnull(b);
		uint8_t pb[IKE_DH_MAX], v[IKE_DH_MAX], s[IKE_DH_MAX];
		ike_dh_public(b, pb, sizeof pb);
		ck_assert_uint_eq(ike_dh_shared(a, pb, len, s, sizeof s), cl);
		/* y changed in its last bit: off the curve */
		memcpy(v, pb, len);
		v[len - 1] ^= 1;
		ck_assert_uint_eq(ike_dh_shared(a, v, len, s, sizeof s), 0);
		/* x replaced by x + p (the same residue, not below the prime) */
		EC_GROUP *grp = EC_GROUP_new_by_curve_name(g == 19 ? NID_X9_62_prime256v1 : NID_secp384r1);
		BIGNUM *fp = BN_new(), *x = BN_bin2bn(pb, (int)cl, NULL);
		ck_assert(EC_GROUP_get_curve(grp, fp, NULL, NULL, NULL));
		ck_assert(BN_add(x, x, fp));
		if (BN_num_bytes(x) <= (int)cl) { /* the sum still fits the field's length */
			BN_bn2binpad(x, v, (int)cl);
			memcpy(v + cl, pb + cl, cl);
			ck_assert_uint_eq(ike_dh_shared(a, v, len, s, sizeof s), 0);
		}
		BN_free(x);
		BN_free(fp);
		EC_GROUP_free(grp);
		ike_dh_free(a);
		ike_dh_free(b);
	}
}
END_TEST

/* ---- Main Mode -------------------------------------------------------------------------- */

START_TEST(mm_psk_each_suite)
{
	static const struct { unsigned enc, bits, hash, group; } s[] = {
		{IKE1_ENC_AES_CBC, 128, IKE1_HASH_SHA1, 2}, {IKE1_ENC_AES_CBC, 256, IKE1_HASH_SHA1, 14},
		{IKE1_ENC_AES_CBC, 256, IKE1_HASH_SHA256, 19}, {IKE1_ENC_3DES, 0, IKE1_HASH_SHA1, 20},
		{IKE1_ENC_AES_CBC, 128, IKE1_HASH_SHA256, 20}, {IKE1_ENC_3DES, 0, IKE1_HASH_SHA256, 2},
	};
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		struct h *h = h_new("secret");
		struct v1peer p;
		v1p_init(&p, "secret");
		p.enc = s[i].enc;
		p.keybits = s[i].bits;
		p.hash = s[i].hash;
		p.group = s[i].group;
		ck_assert_msg(main_mode(h, &p), "suite %zu", i);
		ck_assert_int_eq(ikev1_state(h->sa), IKEV1_ESTABLISHED);
		ck_assert_int_eq(h->ike_up, 1);
		ck_assert(!ikev1_nat(h->sa));
		ck_assert_str_eq(ikev1_peer_id(h->sa), "10.0.0.2");
		ck_assert_msg(quick_mode(h, &p, 0x01020304, 0xc0ffee01), "suite %zu", i);
		v1p_free(&p);
		h_free(h);
	}
}
END_TEST

START_TEST(mm_wrong_psk)
{
	struct h *h = h_new("secret");
	struct v1peer p;
	v1p_init(&p, "not the secret");
	ck_assert(!main_mode(h, &p));
	ck_assert_int_eq(ikev1_state(h->sa), IKEV1_DEAD);
	ck_assert_str_eq(ikev1_cause(h->sa), "ike.psk.mismatch");
	ck_assert_int_eq(h->ike_up, 0);
	/* the answer: a plain Informational notify, PAYLOAD-MALFORMED or INVALID-HASH */
	struct ike_msg *m = malloc(sizeof *m);
	struct diag_err e;
	ck_assert_int_eq(ike_decode(h->out[h->nout - 1], h->outlen[h->nout - 1], m, &e), 0);
	ck_assert_int_eq(m->exchange, IKE1_EXCH_INFO);
	ck_assert_int_eq(m->pl[0].type, IKE1_PL_N);
	ck_assert(m->pl[0].notify == 16 || m->pl[0].notify == 23);
	free(m);
	v1p_free(&p);
	h_free(h);
}
END_TEST

START_TEST(mm_no_proposal)
{
	struct h *h = h_new("secret");
	struct v1peer p;
	v1p_init(&p, "secret");
	p.hash = IKE1_HASH_MD5;
	uint8_t msg[2048];
	size_t n = v1p_mm1(&p, msg, sizeof msg), rl = 0;
	const uint8_t *r = h_in(h, msg, n, 1, &rl);
	ck_assert_ptr_nonnull(r);
	struct ike_msg *m = malloc(sizeof *m);
	struct diag_err e;
	ck_assert_int_eq(ike_decode(r, rl, m, &e), 0);
	ck_assert_int_eq(m->exchange, IKE1_EXCH_INFO);
	ck_assert_int_eq(m->pl[0].notify, 14);
	ck_assert_str_eq(ikev1_cause(h->sa), "ike.v1.no-proposal");
	/* the log line names what was offered and what is configured */
	ck_assert_ptr_nonnull(strstr(h->last_fail, "aes128-md5-modp2048"));
	ck_assert_ptr_nonnull(strstr(h->last_fail, "configured aes256-sha256-ecp384"));
	free(m);
	v1p_free(&p);
	h_free(h);

	/* a policy without the offered group refuses it too */
	h = h_new("secret");
	char why[160];
	ck_assert_int_eq(ikev1_conf_parse_p1(&h->conf, "aes128-sha1-modp1024", why, sizeof why), 0);
	v1p_init(&p, "secret");
	ck_assert(!main_mode(h, &p));
	ck_assert_str_eq(ikev1_cause(h->sa), "ike.v1.no-proposal");
	v1p_free(&p);
	h_free(h);
}
END_TEST

START_TEST(mm_aggressive_refused)
{
	struct h *h = h_new("secret");
	struct v1peer p;
	v1p_init(&p, "secret");
	uint8_t msg[2048];
	size_t n = v1p_mm1(&p, msg, sizeof msg), rl = 0;
	msg[18] = IKE1_EXCH_AGGRESSIVE;
	ck_assert_ptr_nonnull(h_in(h, msg, n, 1, &rl));
	ck_assert_str_eq(ikev1_cause(h->sa), "ike.v1.aggressive-refused");
	ck_assert_int_eq(ikev1_state(h->sa), IKEV1_DEAD);
	v1p_free(&p);
	h_free(h);
}
END_TEST

START_TEST(mm_retransmission_bounded)
{
	struct h *h = h_new("secret");
	struct v1peer p;
	v1p_init(&p, "secret");
	uint8_t msg[4096], mm3[4096];
	size_t n = v1p_mm1(&p, msg, sizeof msg), rl = 0;
	const uint8_t *r = h_in(h, msg, n, 1, &rl);
	size_t n3 = v1p_mm3(&p, r, rl, mm3, sizeof mm3);
	r = h_in(h, mm3, n3, 2, &rl);
	uint8_t mm4[IKEV1_MSG_MAX];
	size_t l4 = rl;
	memcpy(mm4, r, rl);
	for (int i = 0; i < 5; i++) {
		size_t l = 0;
		r = h_in(h, mm3, n3, 3, &l);
		ck_assert_ptr_nonnull(r);
		ck_assert_uint_eq(l, l4);
		ck_assert_mem_eq(r, mm4, l4);
	}
	ck_assert_ptr_null(h_in(h, mm3, n3, 4, &rl)); /* bounded */
	/* the exchange still completes with the first MM4 */
	n = v1p_mm5(&p, mm4, l4, msg, sizeof msg);
	r = h_in(h, msg, n, 5, &rl);
	ck_assert(v1p_mm6(&p, r, rl));
	v1p_free(&p);
	h_free(h);
}
END_TEST

START_TEST(mm_timeout)
{
	struct h *h = h_new("secret");
	struct v1peer p;
	v1p_init(&p, "secret");
	uint8_t msg[4096];
	size_t n = v1p_mm1(&p, msg, sizeof msg), rl = 0;
	h_in(h, msg, n, 1000, &rl);
	ck_assert_uint_eq(ikev1_deadline(h->sa), 30000);
	ikev1_tick(h->sa, 29999);
	ck_assert_int_eq(ikev1_state(h->sa), IKEV1_MM_SA_SENT);
	ck_assert_uint_eq(ikev1_tick(h->sa, 30000), IKEV1_NEVER);
	ck_assert_int_eq(ikev1_state(h->sa), IKEV1_DEAD);
	ck_assert_str_eq(ikev1_cause(h->sa), "ike.v1.timeout");
	v1p_free(&p);
	h_free(h);
}
END_TEST

START_TEST(mm_nat_detected)
{
	struct h *h = h_new("secret");
	struct v1peer p;
	v1p_init(&p, "secret");
	memcpy(p.my_ip, "\xc0\xa8\x01\x05", 4); /* behind a NAT: it thinks it is 192.168.1.5 */
	ck_assert(main_mode(h, &p));
	ck_assert(ikev1_nat(h->sa));
	/* a plain transport SA under NAT is refused; UDP-encapsulated transport is taken */
	ck_assert(!quick_mode(h, &p, 0x100, 0x1234));
	ck_assert_ptr_nonnull(strstr(h->last_fail, "ike.v1.no-proposal"));
	p.q_encap = 4;
	ck_assert(quick_mode(h, &p, 0x101, 0x1235));
	ck_assert(h->up.udp_encap);
	ck_assert(h->up.has_nat_oa_i);
	ck_assert_mem_eq(h->up.nat_oa_i, "\xc0\xa8\x01\x05", 4);
	v1p_free(&p);
	h_free(h);
}
END_TEST

START_TEST(mm_float_to_4500)
{
	struct h *h = h_new("secret");
	struct v1peer p;
	v1p_init(&p, "secret");
	uint8_t msg[4096];
	size_t n = v1p_mm1(&p, msg, sizeof msg), rl = 0;
	const uint8_t *r = h_in(h, msg, n, 1, &rl);
	n = v1p_mm3(&p, r, rl, msg, sizeof msg);
	r = h_in(h, msg, n, 2, &rl);
	ck_assert(!h->natt[h->nout - 1]);
	n = v1p_mm5(&p, r, rl, msg, sizeof msg);
	h->local.port = h->peer.port = 4500;
	r = h_in(h, msg, n, 3, &rl);
	ck_assert(v1p_mm6(&p, r, rl));
	ck_assert(h->natt[h->nout - 1]);            /* MM6 leaves on 4500 */
	ck_assert_uint_eq(ikev1_peer(h->sa)->port, 4500);
	v1p_free(&p);
	h_free(h);
}
END_TEST

/* ---- Quick Mode ------------------------------------------------------------------------- */

START_TEST(qm_keys_match)
{
	static const struct { unsigned xf, bits, auth, group; } s[] = {
		{12, 128, 2, 0}, {12, 256, 5, 0}, {3, 0, 2, 0}, {20, 128, 0, 0}, {20, 256, 0, 0},
		{12, 128, 2, 14}, {12, 256, 5, 19},
	};
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		struct h *h = h_new("secret");
		struct v1peer p;
		v1p_init(&p, "secret");
		ck_assert(main_mode(h, &p));
		p.q_xf = s[i].xf;
		p.q_bits = s[i].bits;
		p.q_auth = s[i].auth;
		p.q_group = s[i].group;
		ck_assert_msg(quick_mode(h, &p, 0x55aa0000u + (uint32_t)i, 0xabcd0000u + (uint32_t)i),
		              "proposal %zu", i);
		const struct ikev1_child *c = &h->up;
		ck_assert_uint_eq(c->spi_out, 0xabcd0000u + i);
		ck_assert_uint_eq(c->spi_in, p.spi_r);
		ck_assert_ptr_nonnull(ikev1_child(h->sa, c->spi_in));
		if (s[i].group)
			ck_assert_uint_gt(p.q_gxylen, 0);
		uint8_t km[128];
		size_t kl = c->in.eklen + c->in.aklen;
		v1p_keymat(&p, c->spi_in, km, kl);
		ck_assert_mem_eq(c->in.ekey, km, c->in.eklen);
		ck_assert_mem_eq(c->in.akey, km + c->in.eklen, c->in.aklen);
		v1p_keymat(&p, c->spi_out, km, kl);
		ck_assert_mem_eq(c->out.ekey, km, c->out.eklen);
		ck_assert_uint_eq(c->in.eklen, s[i].xf == 3 ? 24 : s[i].bits / 8 + (s[i].xf == 20 ? 4 : 0));
		ck_assert_uint_eq(c->in.aklen, s[i].auth == 2 ? 20 : s[i].auth == 5 ? 32 : 0);
		ck_assert(!c->udp_encap);
		ck_assert_uint_eq(c->id_port_r, 1701);
		v1p_free(&p);
		h_free(h);
	}
}
END_TEST

START_TEST(qm_selectors_refused)
{
	struct h *h = h_new("secret");
	struct v1peer p;
	v1p_init(&p, "secret");
	ck_assert(main_mode(h, &p));
	p.q_port_r = 500;
	ck_assert(!quick_mode(h, &p, 0x200, 0x99));
	ck_assert_ptr_nonnull(strstr(h->last_fail, "ike.v1.invalid-id"));
	/* the refusal is a protected INVALID-ID-INFORMATION notify */
	ck_assert(v1p_open_info(&p, h->out[h->nout - 1], h->outlen[h->nout - 1]));
	ck_assert_int_eq(p.m->pl[1].type, IKE1_PL_N);
	ck_assert_int_eq(p.m->pl[1].notify, 18);
	/* tunnel mode is not for L2TP */
	p.q_port_r = 1701;
	p.q_encap = 1;
	ck_assert(!quick_mode(h, &p, 0x201, 0x9a));
	ck_assert_int_eq(ikev1_state(h->sa), IKEV1_ESTABLISHED);
	v1p_free(&p);
	h_free(h);
}
END_TEST

START_TEST(qm_lifetime_capped)
{
	struct h *h = h_new("secret");
	struct v1peer p;
	v1p_init(&p, "secret");
	ck_assert(main_mode(h, &p));
	p.q_life_s = 86400;
	ck_assert(quick_mode(h, &p, 0x300, 0x77));
	ck_assert_uint_eq(h->up.life_s, 3600);
	/* QM2 said so: RESPONDER-LIFETIME; decrypt it again from the kept copy */
	ck_assert_uint_eq(h->up.expires, 11 + 3600 * 1000);
	int down = h->child_down, sent = h->nout;
	ikev1_tick(h->sa, 11 + 3600 * 1000);
	ck_assert_int_eq(h->child_down, down + 1);
	ck_assert_int_eq(h->nout, sent + 1); /* a DELETE */
	ck_assert(v1p_open_info(&p, h->out[h->nout - 1], h->outlen[h->nout - 1]));
	ck_assert_int_eq(p.m->pl[1].type, IKE1_PL_D);
	ck_assert_uint_eq(v1p_get32(p.m->pl[1].data), h->up.spi_in);
	v1p_free(&p);
	h_free(h);
}
END_TEST

START_TEST(qm_rekey_replaces_after_use)
{
	struct h *h = h_new("secret");
	struct v1peer p;
	v1p_init(&p, "secret");
	ck_assert(main_mode(h, &p));
	ck_assert(quick_mode(h, &p, 0x400, 0x1001));
	uint32_t old = h->up.spi_in;
	ck_assert(quick_mode(h, &p, 0x401, 0x1002));
	uint32_t neu = h->up.spi_in;
	ck_assert_ptr_nonnull(ikev1_child(h->sa, old));
	ck_assert_ptr_nonnull(ikev1_child(h->sa, neu));
	ikev1_child_used(h->sa, old, 20); /* the old one in use: nothing happens */
	ck_assert_ptr_nonnull(ikev1_child(h->sa, neu));
	ikev1_child_used(h->sa, neu, 21);
	ck_assert_ptr_null(ikev1_child(h->sa, old));
	ck_assert_ptr_nonnull(ikev1_child(h->sa, neu));
	v1p_free(&p);
	h_free(h);
}
END_TEST

/* After Main Mode 6 the responder keeps only what Quick Mode and a repeated message 5
 * need: a repeated MM5 gets the same MM6 again; children beyond IKEV1_CHILDREN replace
 * the oldest, the others stay, and a Quick Mode dropped half-way leaves no slot behind. */
START_TEST(parts_after_main_mode)
{
	struct h *h = h_new("secret");
	struct v1peer p;
	v1p_init(&p, "secret");
	uint8_t msg[4096], mm5[4096], mm6[IKEV1_MSG_MAX];
	size_t n = v1p_mm1(&p, msg, sizeof msg), rl = 0;
	const uint8_t *r = h_in(h, msg, n, 1, &rl);
	n = v1p_mm3(&p, r, rl, msg, sizeof msg);
	r = h_in(h, msg, n, 2, &rl);
	size_t n5 = v1p_mm5(&p, r, rl, mm5, sizeof mm5);
	r = h_in(h, mm5, n5, 3, &rl);
	ck_assert_ptr_nonnull(r);
	size_t l6 = rl;
	memcpy(mm6, r, rl);
	ck_assert(v1p_mm6(&p, mm6, l6));
	ck_assert_int_eq(ikev1_state(h->sa), IKEV1_ESTABLISHED);
	r = h_in(h, mm5, n5, 4, &rl);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(rl, l6);
	ck_assert_mem_eq(r, mm6, l6);
	ck_assert_int_eq(h->ike_up, 1);
	/* a QM1 never completed, then IKEV1_CHILDREN + 2 Quick Modes */
	uint8_t q1[4096];
	size_t nq = v1p_qm1(&p, 0x600, 0x3000, q1);
	ck_assert_ptr_nonnull(h_in(h, q1, nq, 5, &rl));
	uint32_t spi[IKEV1_CHILDREN + 2];
	for (int i = 0; i < IKEV1_CHILDREN + 2; i++) {
		h->nout = 0; /* the harness keeps 8 messages */
		ck_assert(quick_mode(h, &p, 0x700 + (uint32_t)i, 0x4000 + (uint32_t)i));
		spi[i] = h->up.spi_in;
	}
	ck_assert_int_eq(h->child_up, IKEV1_CHILDREN + 2);
	ck_assert_int_eq(h->child_down, 2);
	ck_assert_ptr_null(ikev1_child(h->sa, spi[0]));
	ck_assert_ptr_null(ikev1_child(h->sa, spi[1]));
	for (int i = 2; i < IKEV1_CHILDREN + 2; i++) {
		const struct ikev1_child *c = ikev1_child(h->sa, spi[i]);
		ck_assert_ptr_nonnull(c);
		ck_assert_uint_eq(c->spi_in, spi[i]);
		ck_assert(c->used);
	}
	/* the unfinished Quick Mode's slot ends at its deadline; the SA stays */
	ikev1_tick(h->sa, 5 + h->conf.negotiation_ms);
	ck_assert_int_eq(ikev1_state(h->sa), IKEV1_ESTABLISHED);
	ikev1_delete(h->sa, "done", 100000);
	ck_assert_int_eq(h->child_down, IKEV1_CHILDREN + 2);
	v1p_free(&p);
	h_free(h);
}
END_TEST

START_TEST(qm_retransmitted_qm1)
{
	struct h *h = h_new("secret");
	struct v1peer p;
	v1p_init(&p, "secret");
	ck_assert(main_mode(h, &p));
	uint8_t q1[4096], q2[IKEV1_MSG_MAX], q3[4096];
	size_t n1 = v1p_qm1(&p, 0x500, 0x2001, q1), rl = 0;
	const uint8_t *r = h_in(h, q1, n1, 10, &rl);
	size_t l2 = rl;
	memcpy(q2, r, rl);
	r = h_in(h, q1, n1, 11, &rl);
	ck_assert_ptr_nonnull(r);
	ck_assert_mem_eq(r, q2, l2);
	size_t n3 = v1p_qm3(&p, q2, l2, q3);
	h_in(h, q3, n3, 12, &rl);
	ck_assert_int_eq(h->child_up, 1);
	v1p_free(&p);
	h_free(h);
}
END_TEST

START_TEST(qm_commit_bit)
{
	struct h *h = h_new("secret");
	struct v1peer p;
	v1p_init(&p, "secret");
	ck_assert(main_mode(h, &p));
	p.q_commit = true;
	int sent = h->nout;
	ck_assert(quick_mode(h, &p, 0x900, 0x5001));
	/* QM2 kept the commit bit; after QM3 a protected CONNECTED notify for our SPI */
	ck_assert(h->out[sent][19] & IKE1_FLAG_C);
	ck_assert_int_eq(h->nout, sent + 2);
	ck_assert(v1p_open_info(&p, h->out[sent + 1], h->outlen[sent + 1]));
	ck_assert_int_eq(p.m->pl[1].notify, 16384);
	ck_assert_uint_eq(v1p_get32(p.m->pl[1].spi), h->up.spi_in);
	v1p_free(&p);
	h_free(h);
}
END_TEST

/* ---- Informational ---------------------------------------------------------------------- */

START_TEST(info_dpd_and_delete)
{
	struct h *h = h_new("secret");
	struct v1peer p;
	v1p_init(&p, "secret");
	ck_assert(main_mode(h, &p));
	ck_assert(quick_mode(h, &p, 0x600, 0x3001));
	uint8_t msg[2048], spi[16], seq[4] = {0, 0, 0x12, 0x34};
	memcpy(spi, p.ispi, 8);
	memcpy(spi + 8, p.rspi, 8);
	size_t n = v1p_info(&p, 0x700, false, 1, 36136, spi, 16, seq, 4, msg), rl = 0;
	const uint8_t *r = h_in(h, msg, n, 20, &rl);
	ck_assert_ptr_nonnull(r);
	ck_assert(v1p_open_info(&p, r, rl));
	ck_assert_int_eq(p.m->pl[1].notify, 36137);
	ck_assert_uint_eq(p.m->pl[1].data_len, 4);
	ck_assert_mem_eq(p.m->pl[1].data, seq, 4);
	/* a forged one (wrong hash) gets nothing */
	n = v1p_info(&p, 0x701, false, 1, 36136, spi, 16, seq, 4, msg);
	msg[n - 1] ^= 1;
	ck_assert_ptr_null(h_in(h, msg, n, 21, &rl));
	/* DELETE of the ESP SA by its SPI (the one the peer receives on) */
	uint8_t espi[4];
	v1p_put32(espi, 0x3001);
	n = v1p_info(&p, 0x702, true, 3, 0, espi, 4, NULL, 0, msg);
	h_in(h, msg, n, 22, &rl);
	ck_assert_int_eq(h->child_down, 1);
	ck_assert_ptr_null(ikev1_child(h->sa, h->up.spi_in));
	/* INITIAL-CONTACT */
	n = v1p_info(&p, 0x703, false, 1, 24578, spi, 16, NULL, 0, msg);
	h_in(h, msg, n, 23, &rl);
	ck_assert_int_eq(h->initial_contact, 1);
	/* DELETE of the IKE SA */
	n = v1p_info(&p, 0x704, true, 1, 0, spi, 16, NULL, 0, msg);
	h_in(h, msg, n, 24, &rl);
	ck_assert_int_eq(ikev1_state(h->sa), IKEV1_DEAD);
	ck_assert_int_eq(h->ike_down, 1);
	v1p_free(&p);
	h_free(h);
}
END_TEST

/* The owner's callback enters another SA in the middle of a call (as the server deletes
 * a peer's older SAs on INITIAL-CONTACT; here that SA also reads a message first): each
 * call keeps its own message, and both answer what they were asked. */
START_TEST(nested_calls_keep_their_messages)
{
	struct h *h1 = h_new("secret"), *h2 = h_new("secret");
	struct v1peer p1, p2;
	v1p_init(&p1, "secret");
	v1p_init(&p2, "secret");
	ck_assert(main_mode(h1, &p1));
	ck_assert(main_mode(h2, &p2));
	uint8_t spi1[16], spi2[16], seq1[4] = {0, 0, 1, 1}, seq2[4] = {0, 0, 2, 2};
	memcpy(spi1, p1.ispi, 8);
	memcpy(spi1 + 8, p1.rspi, 8);
	memcpy(spi2, p2.ispi, 8);
	memcpy(spi2 + 8, p2.rspi, 8);
	uint8_t m2[2048], m1[2048], iv[16], zero[IKE_HASH_MAX] = {0};
	size_t n2 = v1p_info(&p2, 0x900, false, 1, 36136, spi2, 16, seq2, 4, m2);
	h1->nested = h2;
	h1->nested_msg = m2;
	h1->nested_len = n2;
	/* to h1: INITIAL-CONTACT, then R-U-THERE */
	v1p_p2iv(&p1, 0x901, iv);
	ike_msg_init(p1.m, 1, IKE1_EXCH_INFO, 0, 0x901, p1.ispi, p1.rspi);
	ike_add_payload(p1.m, IKE1_PL_HASH, zero, p1.hlen);
	struct ike_payload *n = ike_add_payload(p1.m, IKE1_PL_N, NULL, 0);
	n->protocol = 1;
	n->spi = spi1;
	n->spi_size = 16;
	n->notify = 24578;
	n = ike_add_payload(p1.m, IKE1_PL_N, seq1, 4);
	n->protocol = 1;
	n->spi = spi1;
	n->spi_size = 16;
	n->notify = 36136;
	size_t n1 = v1p_protect(&p1, iv, m1), rl = 0;
	int sent2 = h2->nout;
	const uint8_t *r = h_in(h1, m1, n1, 42, &rl);
	ck_assert_int_eq(h1->initial_contact, 1);
	ck_assert_ptr_nonnull(r);
	ck_assert(v1p_open_info(&p1, r, rl));
	ck_assert_int_eq(p1.m->pl[1].notify, 36137);
	ck_assert_uint_eq(p1.m->pl[1].data_len, 4);
	ck_assert_mem_eq(p1.m->pl[1].data, seq1, 4);
	/* h2 answered its R-U-THERE, then sent its DELETE */
	ck_assert_int_eq(h2->nout, sent2 + 2);
	ck_assert(v1p_open_info(&p2, h2->out[sent2], h2->outlen[sent2]));
	ck_assert_int_eq(p2.m->pl[1].notify, 36137);
	ck_assert_mem_eq(p2.m->pl[1].data, seq2, 4);
	ck_assert(v1p_open_info(&p2, h2->out[sent2 + 1], h2->outlen[sent2 + 1]));
	ck_assert_int_eq(p2.m->pl[1].type, IKE1_PL_D);
	ck_assert_int_eq(ikev1_state(h2->sa), IKEV1_DEAD);
	ck_assert_int_eq(ikev1_state(h1->sa), IKEV1_ESTABLISHED);
	v1p_free(&p1);
	v1p_free(&p2);
	h_free(h1);
	h_free(h2);
}
END_TEST

START_TEST(delete_sends_deletes)
{
	struct h *h = h_new("secret");
	struct v1peer p;
	v1p_init(&p, "secret");
	ck_assert(main_mode(h, &p));
	ck_assert(quick_mode(h, &p, 0x800, 0x4001));
	int sent = h->nout;
	ikev1_delete(h->sa, "server shutdown", 30);
	ck_assert_int_eq(h->nout, sent + 2);
	ck_assert(v1p_open_info(&p, h->out[sent], h->outlen[sent]));
	ck_assert_int_eq(p.m->pl[1].type, IKE1_PL_D);
	ck_assert_int_eq(p.m->pl[1].protocol, 3);
	ck_assert(v1p_open_info(&p, h->out[sent + 1], h->outlen[sent + 1]));
	ck_assert_int_eq(p.m->pl[1].protocol, 1);
	ck_assert_int_eq(ikev1_state(h->sa), IKEV1_DEAD);
	v1p_free(&p);
	h_free(h);
}
END_TEST

/* ---- Main Mode with RSA signatures -------------------------------------------------------- */

/* The PKI of these tests, made once before the tests fork: ca1 issues the server's and the
 * clients' certificates, ca2 is a CA the server does not trust. */
static struct {
	EVP_PKEY *kca1, *kca2, *ksrv, *kcli, *kother;
	X509 *ca1, *ca2, *srv, *srv2, *cli, *rogue, *expired;
	unsigned char *ca1_der;
	int ca1_der_len;
} pki;

static void pki_setup(void)
{
	pki.kca1 = cg_key(2048);
	pki.kca2 = cg_key(2048);
	pki.ksrv = cg_key(2048);
	pki.kcli = cg_key(2048);
	pki.kother = cg_key(2048);
	pki.ca1 = cg_cert(pki.kca1, "ca1", NULL, NULL, true, NULL, -3 * 86400, 86400);
	pki.ca2 = cg_cert(pki.kca2, "ca2", NULL, NULL, true, NULL, -3600, 86400);
	pki.srv = cg_cert(pki.ksrv, "vpn.test", pki.ca1, pki.kca1, false, "DNS:vpn.test", -60, 86400);
	pki.srv2 = cg_cert(pki.ksrv, "vpn.test", pki.ca2, pki.kca2, false, "DNS:vpn.test", -60, 86400);
	pki.cli = cg_cert(pki.kcli, "client.test", pki.ca1, pki.kca1, false,
	                  "DNS:client.test,email:user@client.test", -60, 86400);
	pki.rogue = cg_cert(pki.kcli, "client.test", pki.ca2, pki.kca2, false, "DNS:client.test", -60,
	                    86400);
	pki.expired = cg_cert(pki.kcli, "client.test", pki.ca1, pki.kca1, false, "DNS:client.test",
	                      -2 * 86400, -86400);
	pki.ca1_der_len = i2d_X509_NAME(X509_get_subject_name(pki.ca1), &pki.ca1_der);
}

static void pki_teardown(void)
{
	EVP_PKEY *k[] = {pki.kca1, pki.kca2, pki.ksrv, pki.kcli, pki.kother};
	X509 *x[] = {pki.ca1, pki.ca2, pki.srv, pki.srv2, pki.cli, pki.rogue, pki.expired};
	for (size_t i = 0; i < 5; i++)
		EVP_PKEY_free(k[i]);
	for (size_t i = 0; i < 7; i++)
		X509_free(x[i]);
	OPENSSL_free(pki.ca1_der);
}

/* A responder with signatures only: `cert` (key ksrv), clients' certificates from ca1. */
static struct h *h_cert(X509 *cert)
{
	struct h *h = h_new("");
	h->conf.auth_methods = IKEV1_AUTH_RSA_SIG;
	h->conf.psk = NULL;
	h->conf.psk_len = 0;
	h->conf.cert = cert;
	h->conf.key = pki.ksrv;
	h->conf.trust = cg_store(pki.ca1, NULL);
	return h;
}

static void h_cert_free(struct h *h)
{
	X509_STORE_free(h->conf.trust);
	h_free(h);
}

static void peer_cert(struct v1peer *p, X509 *cert)
{
	v1p_init(p, "");
	p->auth = 3;
	p->cert = cert;
	p->key = pki.kcli;
	p->resp_ca = pki.ca1;
}

/* The notify of the responder's last message (a plain Informational), -1 when none. */
static int last_notify(struct h *h)
{
	struct ike_msg *m = malloc(sizeof *m);
	struct diag_err e;
	int n = -1;
	if (!ike_decode(h->out[h->nout - 1], h->outlen[h->nout - 1], m, &e) &&
	    m->exchange == IKE1_EXCH_INFO && m->npl && m->pl[0].type == IKE1_PL_N)
		n = m->pl[0].notify;
	free(m);
	return n;
}

START_TEST(mm_sig_ok)
{
	static const struct { unsigned enc, bits, hash, group; } s[] = {
		{IKE1_ENC_AES_CBC, 256, IKE1_HASH_SHA1, 14}, {IKE1_ENC_AES_CBC, 128, IKE1_HASH_SHA256, 19},
		{IKE1_ENC_3DES, 0, IKE1_HASH_SHA1, 2},
	};
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		struct h *h = h_cert(pki.srv);
		char why[200];
		ck_assert_msg(ikev1_conf_check(&h->conf, why, sizeof why) == 0, "%s", why);
		struct v1peer p;
		peer_cert(&p, pki.cli);
		p.enc = s[i].enc;
		p.keybits = s[i].bits;
		p.hash = s[i].hash;
		p.group = s[i].group;
		ck_assert_msg(main_mode(h, &p), "suite %zu", i);
		ck_assert_int_eq(ikev1_state(h->sa), IKEV1_ESTABLISHED);
		ck_assert_str_eq(ikev1_auth_method(h->sa), "rsa-sig");
		ck_assert_str_eq(ikev1_peer_id(h->sa), "CN=client.test,O=vnet tests");
		ck_assert_ptr_nonnull(ikev1_peer_cert(h->sa));
		ck_assert_int_eq(X509_cmp(ikev1_peer_cert(h->sa), pki.cli), 0);
		/* the initiator verified SIG_R with the server's certificate from ca1 */
		ck_assert_ptr_nonnull(p.resp_cert);
		ck_assert_int_eq(X509_cmp(p.resp_cert, pki.srv), 0);
		/* Main Mode 4 asked for a certificate from ca1 */
		struct ike_msg *m = malloc(sizeof *m);
		struct diag_err e;
		ck_assert_int_eq(ike_decode(h->out[1], h->outlen[1], m, &e), 0);
		bool cr = false;
		for (unsigned k = 0; k < m->npl; k++)
			if (m->pl[k].type == IKE1_PL_CR && m->pl[k].id_type == 4 &&
			    m->pl[k].data_len == (size_t)pki.ca1_der_len &&
			    !memcmp(m->pl[k].data, pki.ca1_der, m->pl[k].data_len))
				cr = true;
		ck_assert(cr);
		free(m);
		ck_assert_msg(quick_mode(h, &p, 0x01020304, 0xc0ffee01), "suite %zu", i);
		/* a delete once a Quick Mode ran is a delete, not a refusal */
		uint8_t spi[16], msg[512];
		memcpy(spi, p.ispi, 8);
		memcpy(spi + 8, p.rspi, 8);
		size_t rl, n = v1p_info(&p, 0x777, true, 1, 0, spi, 16, NULL, 0, msg);
		h_in(h, msg, n, 20, &rl);
		ck_assert_str_eq(ikev1_cause(h->sa), "ike.v1.deleted-by-peer");
		v1p_free(&p);
		h_cert_free(h);
	}
}
END_TEST

START_TEST(mm_sig_client_untrusted)
{
	struct h *h = h_cert(pki.srv);
	struct v1peer p;
	peer_cert(&p, pki.rogue);
	ck_assert(!main_mode(h, &p));
	ck_assert_int_eq(ikev1_state(h->sa), IKEV1_DEAD);
	ck_assert_str_eq(ikev1_cause(h->sa), "ike.cert.client-untrusted");
	ck_assert_int_eq(last_notify(h), 22); /* INVALID-CERT-AUTHORITY */
	ck_assert_ptr_nonnull(strstr(h->last_fail, "issued by CN=ca2,O=vnet tests"));
	ck_assert_ptr_null(ikev1_peer_cert(h->sa));
	v1p_free(&p);
	h_cert_free(h);
}
END_TEST

START_TEST(mm_sig_client_expired)
{
	struct h *h = h_cert(pki.srv);
	struct v1peer p;
	peer_cert(&p, pki.expired);
	ck_assert(!main_mode(h, &p));
	ck_assert_str_eq(ikev1_cause(h->sa), "ike.cert.client-untrusted");
	ck_assert_int_eq(last_notify(h), 20); /* INVALID-CERTIFICATE */
	ck_assert_ptr_nonnull(strstr(h->last_fail, "expired"));
	v1p_free(&p);
	h_cert_free(h);
	/* judged at a time it was valid */
	h = h_cert(pki.srv);
	h->conf.cert_time = (int64_t)time(NULL) - 36 * 3600;
	peer_cert(&p, pki.expired);
	p.resp_ca = NULL; /* the server's certificate was not valid then: not the point here */
	ck_assert(main_mode(h, &p));
	v1p_free(&p);
	h_cert_free(h);
}
END_TEST

START_TEST(mm_sig_bad_signature)
{
	struct h *h = h_cert(pki.srv);
	struct v1peer p;
	peer_cert(&p, pki.cli);
	p.bad_sig = true;
	ck_assert(!main_mode(h, &p));
	ck_assert_str_eq(ikev1_cause(h->sa), "ike.cert.bad-signature");
	ck_assert_int_eq(last_notify(h), 25); /* INVALID-SIGNATURE */
	v1p_free(&p);
	h_cert_free(h);
	/* signed with another key than the certificate's */
	h = h_cert(pki.srv);
	peer_cert(&p, pki.cli);
	p.key = pki.kother;
	ck_assert(!main_mode(h, &p));
	ck_assert_str_eq(ikev1_cause(h->sa), "ike.cert.bad-signature");
	v1p_free(&p);
	h_cert_free(h);
}
END_TEST

START_TEST(mm_sig_no_cert)
{
	struct h *h = h_cert(pki.srv);
	struct v1peer p;
	peer_cert(&p, pki.cli);
	p.no_cert = true;
	ck_assert(!main_mode(h, &p));
	ck_assert_str_eq(ikev1_cause(h->sa), "ike.cert.client-none");
	ck_assert_int_eq(last_notify(h), 28); /* CERTIFICATE-UNAVAILABLE */
	v1p_free(&p);
	h_cert_free(h);
}
END_TEST

START_TEST(mm_sig_id)
{
	static const struct { uint8_t type; const char *text; const char *cause; } c[] = {
		{2, "client.test", ""}, {3, "user@client.test", ""},
		{2, "other.test", "ike.invalid-id"}, {3, "someone@client.test", "ike.invalid-id"},
		{11, "client.test", "ike.invalid-id"},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct h *h = h_cert(pki.srv);
		struct v1peer p;
		peer_cert(&p, pki.cli);
		p.id_type = c[i].type;
		p.id_text = c[i].text;
		bool ok = main_mode(h, &p);
		ck_assert_msg(ok == !c[i].cause[0], "case %zu", i);
		ck_assert_str_eq(ikev1_cause(h->sa), c[i].cause);
		if (!ok)
			ck_assert_int_eq(last_notify(h), 18); /* INVALID-ID-INFORMATION */
		v1p_free(&p);
		h_cert_free(h);
	}
	/* a DN that is not the certificate's subject */
	struct h *h = h_cert(pki.srv);
	struct v1peer p;
	peer_cert(&p, pki.cli);
	p.id_type = 9;
	p.id_text = "\x30\x00";
	ck_assert(!main_mode(h, &p));
	ck_assert_str_eq(ikev1_cause(h->sa), "ike.invalid-id");
	v1p_free(&p);
	h_cert_free(h);
}
END_TEST

START_TEST(mm_sig_method_policy)
{
	/* a server with a pre-shared key only refuses a signature offer ... */
	struct h *h = h_new("secret");
	struct v1peer p;
	peer_cert(&p, pki.cli);
	ck_assert(!main_mode(h, &p));
	ck_assert_str_eq(ikev1_cause(h->sa), "ike.v1.no-proposal");
	ck_assert_ptr_nonnull(strstr(h->last_fail, "(auth 3: rsa-sig, not allowed)"));
	v1p_free(&p);
	h_free(h);
	/* ... one with signatures only a pre-shared key offer */
	h = h_cert(pki.srv);
	v1p_init(&p, "secret");
	ck_assert(!main_mode(h, &p));
	ck_assert_str_eq(ikev1_cause(h->sa), "ike.v1.no-proposal");
	ck_assert_ptr_nonnull(strstr(h->last_fail, "(auth 1: psk, not allowed)"));
	v1p_free(&p);
	h_cert_free(h);
	/* both allowed: each peer gets its method */
	h = h_cert(pki.srv);
	h->conf.auth_methods = IKEV1_AUTH_RSA_SIG | IKEV1_AUTH_PSK;
	h->conf.psk = (const uint8_t *)"secret";
	h->conf.psk_len = 6;
	v1p_init(&p, "secret");
	ck_assert(main_mode(h, &p));
	ck_assert_str_eq(ikev1_auth_method(h->sa), "psk");
	v1p_free(&p);
	h_cert_free(h);
}
END_TEST

/* The 787 case: the server presents a certificate of ca2 to a client that asks for ca1;
 * the client deletes the SA (strongSwan) or says AUTHENTICATION-FAILED (others). */
START_TEST(mm_sig_refused_by_peer)
{
	for (int notify = 0; notify < 2; notify++) {
		struct h *h = h_cert(pki.srv2);
		struct v1peer p;
		peer_cert(&p, pki.cli);
		p.cr_name = pki.ca1_der;
		p.cr_len = (size_t)pki.ca1_der_len;
		ck_assert(!main_mode(h, &p)); /* the initiator refuses the certificate of ca2 */
		ck_assert_int_eq(ikev1_state(h->sa), IKEV1_ESTABLISHED);
		uint8_t spi[16], msg[512];
		memcpy(spi, p.ispi, 8);
		memcpy(spi + 8, p.rspi, 8);
		size_t rl, n = notify ? v1p_info(&p, 0x778, false, 1, 24, spi, 16, NULL, 0, msg)
		                      : v1p_info(&p, 0x777, true, 1, 0, spi, 16, NULL, 0, msg);
		h_in(h, msg, n, 20, &rl);
		ck_assert_int_eq(ikev1_state(h->sa), IKEV1_DEAD);
		ck_assert_str_eq(ikev1_cause(h->sa), "cert.l2tp.error-787");
		ck_assert_ptr_nonnull(strstr(h->last_fail, "it had asked for a certificate from "
		                                           "CN=ca1,O=vnet tests"));
		ck_assert_int_eq(h->ike_down, 1);
		v1p_free(&p);
		h_cert_free(h);
	}
}
END_TEST

START_TEST(conf_auth)
{
	struct ikev1_conf c;
	char why[200];
	ikev1_conf_default(&c);
	ck_assert_uint_eq(c.auth_methods, IKEV1_AUTH_PSK);
	ck_assert_int_eq(ikev1_conf_check(&c, why, sizeof why), -1); /* no key yet */
	ck_assert_ptr_nonnull(strstr(why, "no pre-shared key"));
	ck_assert_int_eq(ikev1_conf_parse_auth(&c, "psk,rsa-sig", why, sizeof why), 0);
	ck_assert_uint_eq(c.auth_methods, IKEV1_AUTH_PSK | IKEV1_AUTH_RSA_SIG);
	ck_assert_int_eq(ikev1_conf_parse_auth(&c, "rsa-sig,rsa", why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "column 9: \"rsa\""));
	ck_assert_uint_eq(c.auth_methods, IKEV1_AUTH_PSK | IKEV1_AUTH_RSA_SIG); /* unchanged */
	ck_assert_int_eq(ikev1_conf_parse_auth(&c, "rsa-sig", why, sizeof why), 0);
	ck_assert_int_eq(ikev1_conf_check(&c, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "no certificate"));
	c.cert = pki.srv;
	c.key = pki.kcli; /* not the certificate's */
	c.trust = cg_store(pki.ca1, NULL);
	ck_assert_int_eq(ikev1_conf_check(&c, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "does not belong"));
	c.key = pki.ksrv;
	ck_assert_int_eq(ikev1_conf_check(&c, why, sizeof why), 0);
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	c.key = ec;
	ck_assert_int_eq(ikev1_conf_check(&c, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "needs an RSA key"));
	EVP_PKEY_free(ec);
	c.key = pki.ksrv;
	X509_STORE_free(c.trust);
	c.trust = NULL;
	ck_assert_int_eq(ikev1_conf_check(&c, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "no CA is trusted"));
}
END_TEST

/* ---- configuration ---------------------------------------------------------------------- */

START_TEST(conf_parse)
{
	struct ikev1_conf c;
	char why[200];
	ikev1_conf_default(&c);
	ck_assert_uint_eq(c.n_p1, 24);
	ck_assert_int_eq(ikev1_conf_parse_p1(&c, "aes256-sha256-ecp384,3des-sha1-modp1024", why,
	                                     sizeof why), 0);
	ck_assert_uint_eq(c.n_p1, 2);
	ck_assert_uint_eq(c.p1[1].enc, IKE1_ENC_3DES);
	ck_assert_uint_eq(c.p1[1].group, 2);
	ck_assert_int_eq(ikev1_conf_parse_p1(&c, "aes256-md5-ecp384", why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "column 1: unknown hash \"md5\""));
	ck_assert_int_eq(ikev1_conf_parse_p1(&c, "aes128-sha1-modp2048,aes128", why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "column 22"));
	ck_assert_uint_eq(c.n_p1, 2); /* unchanged on error */
	ck_assert_int_eq(ikev1_conf_parse_p2(&c, "aes128gcm16,3des-sha1", why, sizeof why), 0);
	ck_assert_uint_eq(c.n_p2, 2);
	ck_assert_int_eq(ikev1_conf_parse_p2(&c, "aes128gcm16-sha1", why, sizeof why), -1);
	ck_assert_int_eq(ikev1_conf_parse_p2(&c, "", why, sizeof why), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ikev1");
	TCase *t = tcase_create("ikev1");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, prf_rfc4231);
	tcase_add_test(t, expand_chains);
	tcase_add_test(t, dh_agree);
	tcase_add_test(t, dh_against_openssl);
	tcase_add_test(t, dh_peer_value_checked);
	tcase_add_test(t, dh_reuse_window);
	tcase_add_test(t, mm_psk_each_suite);
	tcase_add_test(t, mm_wrong_psk);
	tcase_add_test(t, mm_no_proposal);
	tcase_add_test(t, mm_aggressive_refused);
	tcase_add_test(t, mm_retransmission_bounded);
	tcase_add_test(t, mm_timeout);
	tcase_add_test(t, mm_nat_detected);
	tcase_add_test(t, mm_float_to_4500);
	tcase_add_test(t, qm_keys_match);
	tcase_add_test(t, qm_selectors_refused);
	tcase_add_test(t, qm_lifetime_capped);
	tcase_add_test(t, qm_rekey_replaces_after_use);
	tcase_add_test(t, parts_after_main_mode);
	tcase_add_test(t, qm_retransmitted_qm1);
	tcase_add_test(t, qm_commit_bit);
	tcase_add_test(t, info_dpd_and_delete);
	tcase_add_test(t, nested_calls_keep_their_messages);
	tcase_add_test(t, delete_sends_deletes);
	tcase_add_test(t, conf_parse);
	suite_add_tcase(s, t);
	TCase *c = tcase_create("certificates");
	tcase_set_timeout(c, 120);
	tcase_add_unchecked_fixture(c, pki_setup, pki_teardown);
	tcase_add_test(c, mm_sig_ok);
	tcase_add_test(c, mm_sig_client_untrusted);
	tcase_add_test(c, mm_sig_client_expired);
	tcase_add_test(c, mm_sig_bad_signature);
	tcase_add_test(c, mm_sig_no_cert);
	tcase_add_test(c, mm_sig_id);
	tcase_add_test(c, mm_sig_method_policy);
	tcase_add_test(c, mm_sig_refused_by_peer);
	tcase_add_test(c, conf_auth);
	suite_add_tcase(s, c);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
