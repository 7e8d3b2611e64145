/* IKEv1 hash, prf, key expansion, CBC and Diffie-Hellman, IKEv2 prf+, integrity, AES-GCM
 * and RSA signatures, with OpenSSL 3: EVP for the symmetric algorithms and signatures,
 * the BN and EC_POINT arithmetic for Diffie-Hellman. */
#include "ike/ike_crypto.h"
#include "diag.h"
#include "ike.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static const char *md_name(unsigned alg)
{
	switch (alg) {
	case IKE1_HASH_MD5: return "MD5";
	case IKE1_HASH_SHA1: return "SHA1";
	case IKE1_HASH_SHA256: return "SHA2-256";
	case IKE1_HASH_SHA384: return "SHA2-384";
	case IKE1_HASH_SHA512: return "SHA2-512";
	default: return NULL;
	}
}

/* The legacy digest objects, for the signature calls (which take them as they are). */
static const EVP_MD *md_of(unsigned alg)
{
	switch (alg) {
	case IKE1_HASH_MD5: return EVP_md5();
	case IKE1_HASH_SHA1: return EVP_sha1();
	case IKE1_HASH_SHA256: return EVP_sha256();
	case IKE1_HASH_SHA384: return EVP_sha384();
	case IKE1_HASH_SHA512: return EVP_sha512();
	default: return NULL;
	}
}

/* ---- what is made once ---------------------------------------------------------------
 * OpenSSL 3 looks an algorithm up in its provider store on every EVP_MAC_fetch and on
 * every init with a legacy EVP_MD or EVP_CIPHER, allocates a context per call, and builds
 * a DH or EC group anew for every key made from a name or from numbers. An IKE set-up
 * makes some thirty hashes, prfs and CBC passes and one key pair: the algorithms, the
 * contexts and the groups are made here once per thread and reused call after call (each
 * call rekeys its context entirely; a context holds at most the last key it was given,
 * as does the SA that gave it). Nothing here is freed before the thread's process ends. */

#define HASH_SLOTS 7 /* by IKE1_HASH_* value */
#define CBC_SLOTS 4  /* 3DES, AES-128, AES-192, AES-256 */
#define GCM_SLOTS 3  /* AES-128, -192, -256 */
#define DH_SLOTS 4   /* groups 2, 14, 19, 20 */

struct crypto_cache {
	EVP_MD *md[HASH_SLOTS];
	EVP_MD_CTX *mdx;
	EVP_MAC *hmac;
	EVP_MAC_CTX *mac[HASH_SLOTS];    /* HMAC with md[i] set, rekeyed on each use */
	EVP_CIPHER_CTX *cbc[CBC_SLOTS][2]; /* decrypt, encrypt: the cipher set, no padding */
	EVP_CIPHER_CTX *gcm[GCM_SLOTS];
	BN_CTX *bn;
	struct dh_group {                /* see Diffie-Hellman below */
		bool ready;
		BIGNUM *p, *pm1;             /* MODP: the prime and p - 1 */
		BN_MONT_CTX *mont;
		EC_GROUP *ec;                /* ECP */
	} dh[DH_SLOTS];
	/* key-pair reuse (ike_dh_reuse): the window, and per group the pair now handed out,
	 * one reference of its own held here */
	uint64_t reuse_ms;
	struct ike_dh *reuse[DH_SLOTS];
};
static _Thread_local struct crypto_cache cache;

static EVP_MD *md_get(unsigned alg)
{
	if (alg >= HASH_SLOTS)
		return NULL;
	if (!cache.md[alg]) {
		const char *name = md_name(alg);
		cache.md[alg] = name ? EVP_MD_fetch(NULL, name, NULL) : NULL;
	}
	return cache.md[alg];
}

size_t ike1_hash_len(unsigned alg)
{
	switch (alg) {
	case IKE1_HASH_MD5: return 16;
	case IKE1_HASH_SHA1: return 20;
	case IKE1_HASH_SHA256: return 32;
	case IKE1_HASH_SHA384: return 48;
	case IKE1_HASH_SHA512: return 64;
	default: return 0;
	}
}

size_t ike1_block(unsigned enc)
{
	return enc == IKE1_ENC_3DES ? 8 : enc == IKE1_ENC_AES_CBC ? 16 : 0;
}

bool ike1_enc_keylen_ok(unsigned enc, size_t k)
{
	if (enc == IKE1_ENC_3DES)
		return k == 24;
	if (enc == IKE1_ENC_AES_CBC)
		return k == 16 || k == 24 || k == 32;
	return false;
}

bool ike1_hash(unsigned alg, const struct ike_iov *v, size_t n, uint8_t *out)
{
	const EVP_MD *md = md_get(alg);
	if (md && !cache.mdx)
		cache.mdx = EVP_MD_CTX_new();
	EVP_MD_CTX *x = md ? cache.mdx : NULL;
	bool ok = x && EVP_DigestInit_ex2(x, md, NULL) == 1;
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(x, v[i].p, v[i].n) == 1;
	unsigned dl = 0;
	ok = ok && EVP_DigestFinal_ex(x, out, &dl) == 1;
	return ok;
}

/* The HMAC context of a hash, its digest set. */
static EVP_MAC_CTX *hmac_ctx(unsigned alg)
{
	if (alg >= HASH_SLOTS || !md_name(alg))
		return NULL;
	if (cache.mac[alg])
		return cache.mac[alg];
	if (!cache.hmac)
		cache.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *x = cache.hmac ? EVP_MAC_CTX_new(cache.hmac) : NULL;
	OSSL_PARAM par[2] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md_name(alg), 0),
		OSSL_PARAM_construct_end(),
	};
	if (x && EVP_MAC_CTX_set_params(x, par) != 1) {
		EVP_MAC_CTX_free(x);
		x = NULL;
	}
	return cache.mac[alg] = x;
}

bool ike1_prf(unsigned alg, const uint8_t *key, size_t keylen, const struct ike_iov *v, size_t n,
              uint8_t *out)
{
	EVP_MAC_CTX *x = hmac_ctx(alg);
	/* HMAC with an empty key is legal (a zero-length pre-shared key is refused earlier,
	 * but the prf itself must not fail on it): give OpenSSL one readable byte. The key
	 * is never NULL: to EVP_MAC_init that would mean "the previous key again". */
	static const uint8_t nokey[1];
	bool ok = x && EVP_MAC_init(x, keylen ? key : nokey, keylen, NULL) == 1;
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_MAC_update(x, v[i].p, v[i].n) == 1;
	size_t ol = 0;
	ok = ok && EVP_MAC_final(x, out, &ol, IKE_HASH_MAX) == 1;
	return ok;
}

#define EXPAND_SEED_MAX 8

bool ike1_expand(unsigned alg, const uint8_t *key, size_t keylen, const struct ike_iov *seed,
                 size_t nseed, bool seed_each, uint8_t *out, size_t outlen)
{
	size_t hl = ike1_hash_len(alg);
	if (!hl || nseed + 1 > EXPAND_SEED_MAX)
		return false;
	uint8_t k[IKE_HASH_MAX];
	struct ike_iov v[EXPAND_SEED_MAX];
	size_t done = 0;
	bool first = true;
	while (done < outlen) {
		size_t nv = 0;
		if (!first)
			v[nv++] = (struct ike_iov){k, hl};
		for (size_t i = 0; (first || seed_each) && i < nseed; i++)
			v[nv++] = seed[i];
		if (!ike1_prf(alg, key, keylen, v, nv, k)) {
			OPENSSL_cleanse(k, sizeof k);
			return false;
		}
		size_t take = outlen - done < hl ? outlen - done : hl;
		memcpy(out + done, k, take);
		done += take;
		first = false;
	}
	OPENSSL_cleanse(k, sizeof k);
	return true;
}

/* A cipher context with the cipher set, made once: later inits pass only key and IV,
 * which keeps OpenSSL from freeing and making the provider's context again. */
static EVP_CIPHER_CTX *cipher_ctx(EVP_CIPHER_CTX **slot, const char *name, int enc)
{
	if (*slot)
		return *slot;
	EVP_CIPHER *ci = EVP_CIPHER_fetch(NULL, name, NULL);
	EVP_CIPHER_CTX *cx = ci ? EVP_CIPHER_CTX_new() : NULL;
	if (cx && EVP_CipherInit_ex2(cx, ci, NULL, NULL, enc, NULL) != 1) {
		EVP_CIPHER_CTX_free(cx);
		cx = NULL;
	}
	EVP_CIPHER_free(ci); /* the context holds its own reference */
	return *slot = cx;
}

bool ike1_cbc(unsigned enc, const uint8_t *key, size_t keylen, const uint8_t *iv,
              const uint8_t *in, size_t n, uint8_t *out, bool encrypt)
{
	size_t block = ike1_block(enc);
	if (!block || !ike1_enc_keylen_ok(enc, keylen) || n % block || n > (size_t)INT32_MAX)
		return false;
	static const char *const names[CBC_SLOTS] = {"DES-EDE3-CBC", "AES-128-CBC", "AES-192-CBC",
	                                             "AES-256-CBC"};
	size_t i = enc == IKE1_ENC_3DES ? 0 : keylen == 16 ? 1 : keylen == 24 ? 2 : 3;
	EVP_CIPHER_CTX *cx = cipher_ctx(&cache.cbc[i][encrypt], names[i], encrypt ? 1 : 0);
	int n1 = 0, n2 = 0;
	return cx && EVP_CipherInit_ex2(cx, NULL, key, iv, encrypt ? 1 : 0, NULL) == 1 &&
	       EVP_CIPHER_CTX_set_padding(cx, 0) == 1 &&
	       EVP_CipherUpdate(cx, out, &n1, in, (int)n) == 1 &&
	       EVP_CipherFinal_ex(cx, out + n1, &n2) == 1 && (size_t)(n1 + n2) == n;
}

/* ---- Diffie-Hellman -----------------------------------------------------------------
 * The arithmetic is OpenSSL's own, called below the EVP layer: EVP would make a DH or EC
 * key object, a copy of the group and a fresh Montgomery context for every key pair and
 * every agreement, which costs a Main Mode as much again as the agreement itself. Here
 * each group is made once (the prime with its Montgomery context, or the curve with its
 * precomputed multiples of the generator), a key pair is a private value and the public
 * value it gives, and the agreement is one constant-time exponentiation or scalar
 * multiplication: the calls OpenSSL's DH and ECDH make themselves.
 *
 * Private values: ECP, uniform in [1, n - 1]; MODP 2048, uniform in [1, 2^225) as OpenSSL
 * draws them for that group (twice its 112-bit strength, RFC 3526 section 8); MODP 1024,
 * 1023 bits with the top one set, as OpenSSL draws them for an unnamed group.
 *
 * The peer's public value is checked once, in the cheapest way that is complete for these
 * groups (NIST SP 800-56A 5.6.2.3, RFC 7296 2.12): a MODP value must lie in [2, p - 2];
 * an ECP point must have both coordinates below the field prime and lie on the curve.
 * For the safe primes of groups 2 and 14 the range leaves out the only small subgroup
 * (order 2); the NIST curves have cofactor 1, so a point on the curve is in the group of
 * prime order. The full check OpenSSL's EVP_PKEY_public_check adds, y^q mod p = 1 for
 * MODP (an exponentiation with a full-length exponent, several agreements' worth) or
 * n * Q = O for ECP (one more scalar multiplication), rejects nothing more in them. */

struct ike_dh {
	unsigned group;
	BIGNUM *x;                   /* the private value */
	uint8_t pub[IKE_DH_MAX];     /* the public value as a KE payload carries it */
	size_t pub_len;
	unsigned refs;               /* holders: exchanges, and the reuse slot */
	uint64_t born_ms;            /* when it was made (reuse) */
};

static bool is_modp(unsigned g) { return g == 2 || g == 14; }
static int curve_nid(unsigned g)
{
	return g == 19 ? NID_X9_62_prime256v1 : g == 20 ? NID_secp384r1 : NID_undef;
}
static size_t modp_len(unsigned g) { return g == 2 ? 128 : 256; }
static size_t ecp_len(unsigned g) { return g == 19 ? 32 : 48; }
static int dh_slot(unsigned g) { return g == 2 ? 0 : g == 14 ? 1 : g == 19 ? 2 : g == 20 ? 3 : -1; }

bool ike_dh_supported(unsigned g)
{
	return dh_slot(g) >= 0;
}

static BN_CTX *bn_ctx(void)
{
	if (!cache.bn)
		cache.bn = BN_CTX_secure_new();
	return cache.bn;
}

static struct dh_group *dh_group(unsigned g)
{
	int i = dh_slot(g);
	BN_CTX *bc = bn_ctx();
	if (i < 0 || !bc)
		return NULL;
	struct dh_group *t = &cache.dh[i];
	if (t->ready)
		return t;
	bool ok;
	if (is_modp(g)) {
		/* RFC 2409 6.2 and RFC 3526 3, generator 2 */
		if (!t->p)
			t->p = g == 2 ? BN_get_rfc2409_prime_1024(NULL) : BN_get_rfc3526_prime_2048(NULL);
		if (!t->pm1 && t->p && (t->pm1 = BN_dup(t->p)) && !BN_sub_word(t->pm1, 1)) {
			BN_free(t->pm1);
			t->pm1 = NULL;
		}
		if (!t->mont && t->p && (t->mont = BN_MONT_CTX_new()) &&
		    !BN_MONT_CTX_set(t->mont, t->p, bc)) {
			BN_MONT_CTX_free(t->mont);
			t->mont = NULL;
		}
		ok = t->p && t->pm1 && t->mont;
	} else {
		if (!t->ec)
			t->ec = EC_GROUP_new_by_curve_name_ex(NULL, NULL, curve_nid(g));
		ok = t->ec != NULL;
	}
	t->ready = ok;
	return ok ? t : NULL;
}

/* pub = g^x mod p, or x * G, written as the KE payload carries it. */
static bool dh_keygen(struct ike_dh *d, struct dh_group *t, BN_CTX *bc)
{
	bool ok = false;
	BN_CTX_start(bc);
	if (is_modp(d->group)) {
		size_t pl = modp_len(d->group);
		BIGNUM *gen = BN_CTX_get(bc), *y = BN_CTX_get(bc);
		if (d->group == 14) {
			do
				ok = BN_priv_rand_ex(d->x, 225, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY, 0, bc);
			while (ok && BN_is_zero(d->x));
		} else {
			ok = BN_priv_rand_ex(d->x, 1023, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY, 0, bc);
		}
		BN_set_flags(d->x, BN_FLG_CONSTTIME);
		ok = ok && y && BN_set_word(gen, 2) &&
		     BN_mod_exp_mont_consttime(y, gen, d->x, t->p, bc, t->mont) &&
		     BN_bn2binpad(y, d->pub, (int)pl) == (int)pl;
		d->pub_len = pl;
	} else {
		size_t cl = ecp_len(d->group);
		uint8_t pt[1 + 2 * 48];
		EC_POINT *q = EC_POINT_new(t->ec);
		do
			ok = BN_priv_rand_range_ex(d->x, EC_GROUP_get0_order(t->ec), 0, bc);
		while (ok && BN_is_zero(d->x));
		ok = ok && q && EC_POINT_mul(t->ec, q, d->x, NULL, NULL, bc) &&
		     EC_POINT_point2oct(t->ec, q, POINT_CONVERSION_UNCOMPRESSED, pt, sizeof pt, bc) ==
		             1 + 2 * cl && pt[0] == 4;
		EC_POINT_free(q);
		if (ok)
			memcpy(d->pub, pt + 1, 2 * cl);
		d->pub_len = 2 * cl;
	}
	BN_CTX_end(bc);
	return ok;
}

static struct ike_dh *dh_fresh(unsigned g, struct dh_group *t)
{
	struct ike_dh *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->group = g;
	d->refs = 1;
	d->x = BN_secure_new();
	ERR_set_mark();
	bool ok = d->x && dh_keygen(d, t, bn_ctx());
	ERR_pop_to_mark();
	if (!ok) {
		ike_dh_free(d);
		return NULL;
	}
	return d;
}

/* Drop the reuse slot's reference of a group; the pair is erased once no exchange holds
 * it either. */
static void reuse_drop(int i)
{
	struct ike_dh *r = cache.reuse[i];
	cache.reuse[i] = NULL;
	ike_dh_free(r);
}

static bool reuse_live(const struct ike_dh *r, uint64_t now_ms)
{
	return r && now_ms >= r->born_ms && now_ms - r->born_ms < cache.reuse_ms;
}

struct ike_dh *ike_dh_new_at(unsigned g, uint64_t now_ms)
{
	struct dh_group *t = dh_group(g);
	if (!t)
		return NULL;
	int i = dh_slot(g);
	if (!cache.reuse_ms)
		return dh_fresh(g, t);
	if (reuse_live(cache.reuse[i], now_ms)) {
		cache.reuse[i]->refs++;
		return cache.reuse[i];
	}
	reuse_drop(i);
	struct ike_dh *d = dh_fresh(g, t);
	if (d) {
		d->born_ms = now_ms;
		d->refs++;
		cache.reuse[i] = d;
	}
	return d;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct ike_dh *ike_dh_new(unsigned g)
{
	return ike_dh_new_at(g, cache.reuse_ms ? mono_ms() : 0);
}

void ike_dh_reuse(uint32_t seconds)
{
	cache.reuse_ms = (uint64_t)seconds * 1000;
	for (int i = 0; i < DH_SLOTS; i++)
		reuse_drop(i);
}

void ike_dh_reuse_expire(uint64_t now_ms)
{
	for (int i = 0; i < DH_SLOTS; i++)
		if (cache.reuse[i] && !reuse_live(cache.reuse[i], now_ms))
			reuse_drop(i);
}

void ike_dh_free(struct ike_dh *d)
{
	if (!d || --d->refs > 0)
		return;
	BN_clear_free(d->x);
	OPENSSL_cleanse(d, sizeof *d);
	free(d);
}

size_t ike_dh_public(const struct ike_dh *d, uint8_t *out, size_t cap)
{
	if (cap < d->pub_len)
		return 0;
	memcpy(out, d->pub, d->pub_len);
	return d->pub_len;
}

/* MODP: y = peer, checked 2 <= y <= p - 2; out = y^x mod p, padded to the prime (never 1:
 * SP 800-56A 5.7.1.1, which the range and the private value already make impossible). */
static bool dh_modp_shared(const struct ike_dh *d, struct dh_group *t, const uint8_t *peer,
                           size_t n, uint8_t *out, BN_CTX *bc)
{
	BIGNUM *y = BN_CTX_get(bc), *z = BN_CTX_get(bc);
	return z && BN_bin2bn(peer, (int)n, y) && BN_cmp(y, BN_value_one()) > 0 &&
	       BN_cmp(y, t->pm1) < 0 && BN_mod_exp_mont_consttime(z, y, d->x, t->p, bc, t->mont) &&
	       !BN_is_one(z) && BN_bn2binpad(z, out, (int)n) == (int)n;
}

/* ECP: the point x | y, decoded (coordinates below the prime) and on the curve; out = the
 * x coordinate of d->x times it. */
static bool dh_ecp_shared(const struct ike_dh *d, struct dh_group *t, const uint8_t *peer,
                          size_t n, uint8_t *out, BN_CTX *bc)
{
	size_t cl = n / 2;
	uint8_t pt[1 + 2 * 48];
	pt[0] = 4;
	memcpy(pt + 1, peer, n);
	EC_POINT *q = EC_POINT_new(t->ec), *r = EC_POINT_new(t->ec);
	BIGNUM *x = BN_CTX_get(bc);
	bool ok = x && q && r && EC_POINT_oct2point(t->ec, q, pt, 1 + n, bc) == 1 &&
	          !EC_POINT_is_at_infinity(t->ec, q) && EC_POINT_is_on_curve(t->ec, q, bc) == 1 &&
	          EC_POINT_mul(t->ec, r, NULL, q, d->x, bc) &&
	          EC_POINT_get_affine_coordinates(t->ec, r, x, NULL, bc) &&
	          BN_bn2binpad(x, out, (int)cl) == (int)cl;
	EC_POINT_free(q);
	EC_POINT_clear_free(r);
	return ok;
}

size_t ike_dh_shared(const struct ike_dh *d, const uint8_t *peer, size_t n, uint8_t *out,
                     size_t cap)
{
	size_t want = is_modp(d->group) ? modp_len(d->group) : ecp_len(d->group);
	size_t have = is_modp(d->group) ? want : 2 * want;
	struct dh_group *t = dh_group(d->group);
	BN_CTX *bc = bn_ctx();
	if (n != have || cap < want || !t || !bc)
		return 0;
	ERR_set_mark();
	BN_CTX_start(bc);
	bool ok = is_modp(d->group) ? dh_modp_shared(d, t, peer, n, out, bc)
	                            : dh_ecp_shared(d, t, peer, n, out, bc);
	BN_CTX_end(bc);
	ERR_pop_to_mark();
	if (!ok)
		OPENSSL_cleanse(out, want);
	return ok ? want : 0;
}

/* ---- IKEv2 ---------------------------------------------------------------------------- */

unsigned ike2_prf_hash(unsigned prf)
{
	switch (prf) {
	case IKE2_PRF_HMAC_SHA1: return IKE1_HASH_SHA1;
	case IKE2_PRF_HMAC_SHA2_256: return IKE1_HASH_SHA256;
	case IKE2_PRF_HMAC_SHA2_384: return IKE1_HASH_SHA384;
	case IKE2_PRF_HMAC_SHA2_512: return IKE1_HASH_SHA512;
	default: return 0;
	}
}

unsigned ike2_integ_hash(unsigned integ)
{
	switch (integ) {
	case IKE2_INTEG_HMAC_SHA1_96: return IKE1_HASH_SHA1;
	case IKE2_INTEG_HMAC_SHA2_256_128: return IKE1_HASH_SHA256;
	case IKE2_INTEG_HMAC_SHA2_384_192: return IKE1_HASH_SHA384;
	case IKE2_INTEG_HMAC_SHA2_512_256: return IKE1_HASH_SHA512;
	default: return 0;
	}
}

size_t ike2_prf_len(unsigned prf)
{
	return ike1_hash_len(ike2_prf_hash(prf));
}

size_t ike2_integ_keylen(unsigned integ)
{
	return ike1_hash_len(ike2_integ_hash(integ));
}

size_t ike2_integ_icvlen(unsigned integ)
{
	/* RFC 2404 / RFC 4868: SHA1 truncated to 96 bits, SHA2-N to N/2 */
	return integ == IKE2_INTEG_HMAC_SHA1_96 ? 12 : ike2_integ_keylen(integ) / 2;
}

bool ike2_prf(unsigned prf, const uint8_t *key, size_t keylen, const struct ike_iov *v,
              size_t n, uint8_t *out)
{
	unsigned h = ike2_prf_hash(prf);
	return h && ike1_prf(h, key, keylen, v, n, out);
}

#define PRF_PLUS_SEED_MAX 8

bool ike2_prf_plus(unsigned prf, const uint8_t *key, size_t keylen, const struct ike_iov *seed,
                   size_t nseed, uint8_t *out, size_t outlen)
{
	size_t hl = ike2_prf_len(prf);
	if (!hl || nseed + 2 > PRF_PLUS_SEED_MAX || outlen > 255 * hl)
		return false;
	uint8_t t[IKE_HASH_MAX];
	struct ike_iov v[PRF_PLUS_SEED_MAX];
	size_t done = 0;
	for (unsigned round = 1; done < outlen; round++) {
		uint8_t cnt = (uint8_t)round;
		size_t nv = 0;
		if (round > 1)
			v[nv++] = (struct ike_iov){t, hl};
		for (size_t i = 0; i < nseed; i++)
			v[nv++] = seed[i];
		v[nv++] = (struct ike_iov){&cnt, 1};
		if (!ike2_prf(prf, key, keylen, v, nv, t)) {
			OPENSSL_cleanse(t, sizeof t);
			return false;
		}
		size_t take = outlen - done < hl ? outlen - done : hl;
		memcpy(out + done, t, take);
		done += take;
	}
	OPENSSL_cleanse(t, sizeof t);
	return true;
}

bool ike2_skeyseed(unsigned prf, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
                   size_t nr_len, const uint8_t *gir, size_t gir_len, uint8_t *out)
{
	/* the key is Ni | Nr, whatever its length (HMAC takes any) */
	uint8_t k[512];
	if (ni_len + nr_len > sizeof k)
		return false;
	memcpy(k, ni, ni_len);
	memcpy(k + ni_len, nr, nr_len);
	struct ike_iov v = {gir, gir_len};
	bool ok = ike2_prf(prf, k, ni_len + nr_len, &v, 1, out);
	OPENSSL_cleanse(k, sizeof k);
	return ok;
}

bool ike2_skeyseed_rekey(unsigned prf, const uint8_t *sk_d, size_t sk_d_len, const uint8_t *gir,
                         size_t gir_len, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
                         size_t nr_len, uint8_t *out)
{
	struct ike_iov v[3] = {{gir, gir_len}, {ni, ni_len}, {nr, nr_len}};
	return ike2_prf(prf, sk_d, sk_d_len, v, 3, out);
}

bool ike2_integ(unsigned integ, const uint8_t *key, const struct ike_iov *v, size_t n,
                uint8_t *out)
{
	unsigned h = ike2_integ_hash(integ);
	uint8_t full[IKE_HASH_MAX];
	if (!h || !ike1_prf(h, key, ike2_integ_keylen(integ), v, n, full))
		return false;
	memcpy(out, full, ike2_integ_icvlen(integ));
	OPENSSL_cleanse(full, sizeof full);
	return true;
}

bool ike_gcm(const uint8_t *key, size_t keylen, const uint8_t salt[4], const uint8_t iv[8],
             const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t n, uint8_t *out,
             uint8_t tag[16], bool encrypt)
{
	static const char *const names[GCM_SLOTS] = {"AES-128-GCM", "AES-192-GCM", "AES-256-GCM"};
	int i = keylen == 16 ? 0 : keylen == 24 ? 1 : keylen == 32 ? 2 : -1;
	if (i < 0 || n > (size_t)INT32_MAX || aadlen > (size_t)INT32_MAX)
		return false;
	uint8_t nonce[12];
	memcpy(nonce, salt, 4);
	memcpy(nonce + 4, iv, 8);
	/* one context per key length for both directions: the direction comes with each
	 * init; the IV length (12, OpenSSL's default for GCM) is set once */
	bool fresh = !cache.gcm[i];
	EVP_CIPHER_CTX *cx = cipher_ctx(&cache.gcm[i], names[i], 1);
	if (cx && fresh && EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1) {
		EVP_CIPHER_CTX_free(cx);
		cache.gcm[i] = cx = NULL;
	}
	int l = 0, l2 = 0;
	bool ok = cx && EVP_CipherInit_ex2(cx, NULL, key, nonce, encrypt ? 1 : 0, NULL) == 1 &&
	          (!aadlen || EVP_CipherUpdate(cx, NULL, &l, aad, (int)aadlen) == 1) &&
	          (!n || EVP_CipherUpdate(cx, out, &l, in, (int)n) == 1);
	if (ok && !encrypt)
		ok = EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
	ok = ok && EVP_CipherFinal_ex(cx, out + (n ? l : 0), &l2) == 1;
	if (ok && encrypt)
		ok = EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
	return ok;
}

/* ---- signatures ------------------------------------------------------------------------ */

struct ike_privkey {
	EVP_PKEY *k;
};

struct ike_privkey *ike_privkey_from_pem(const char *pem, size_t len)
{
	if (len > (size_t)INT32_MAX)
		return NULL;
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
		EVP_PKEY_free(k);
		return NULL;
	}
	struct ike_privkey *p = calloc(1, sizeof *p);
	if (!p) {
		EVP_PKEY_free(k);
		return NULL;
	}
	p->k = k;
	return p;
}

struct ike_privkey *ike_privkey_from_evp(EVP_PKEY *k)
{
	if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA)
		return NULL;
	struct ike_privkey *p = calloc(1, sizeof *p);
	if (!p || EVP_PKEY_up_ref(k) != 1) {
		free(p);
		return NULL;
	}
	p->k = k;
	return p;
}

void ike_privkey_free(struct ike_privkey *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->k);
	free(k);
}

static bool sig_setup(EVP_PKEY_CTX *pc, const EVP_MD *md, bool pss)
{
	if (!pss)
		return EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1;
	return EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
	       EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) == 1 &&
	       EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) == 1;
}

size_t ike_sign(const struct ike_privkey *k, unsigned hash_alg, bool pss, const uint8_t *data,
                size_t n, uint8_t *out, size_t cap)
{
	const EVP_MD *md = md_of(hash_alg);
	if (!k || !md || hash_alg == IKE1_HASH_MD5)
		return 0;
	EVP_MD_CTX *x = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	size_t sl = 0;
	bool ok = x && EVP_DigestSignInit(x, &pc, md, NULL, k->k) == 1 && sig_setup(pc, md, pss) &&
	          EVP_DigestSign(x, NULL, &sl, data, n) == 1 && sl <= cap &&
	          EVP_DigestSign(x, out, &sl, data, n) == 1;
	EVP_MD_CTX_free(x);
	return ok ? sl : 0;
}

bool ike_verify_cert(const uint8_t *cert, size_t cert_len, unsigned hash_alg, bool pss,
                     const uint8_t *data, size_t n, const uint8_t *sig, size_t siglen)
{
	const EVP_MD *md = md_of(hash_alg);
	const unsigned char *p = cert;
	X509 *c = md && cert_len <= (size_t)INT32_MAX ? d2i_X509(NULL, &p, (long)cert_len) : NULL;
	EVP_PKEY *pk = c ? X509_get0_pubkey(c) : NULL;
	EVP_MD_CTX *x = pk ? EVP_MD_CTX_new() : NULL;
	EVP_PKEY_CTX *pc = NULL;
	bool ok = x && EVP_DigestVerifyInit(x, &pc, md, NULL, pk) == 1 &&
	          (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA || sig_setup(pc, md, pss)) &&
	          EVP_DigestVerify(x, sig, siglen, data, n) == 1;
	EVP_MD_CTX_free(x);
	X509_free(c);
	return ok;
}

/* RFC 7427 section A: the AlgorithmIdentifiers of RSA signatures */
static const uint8_t ALG_RSA_SHA1[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                       0x0d, 0x01, 0x01, 0x05, 0x05, 0x00};
static const uint8_t ALG_RSA_SHA256[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                         0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
static const uint8_t ALG_RSA_SHA384[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                         0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00};
static const uint8_t ALG_RSA_SHA512[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                         0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00};
/* RSASSA-PSS, SHA-256, MGF1 with SHA-256, salt 32 */
static const uint8_t ALG_PSS_SHA256[] = {
	0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34,
	0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
	0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
	0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
	0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20};

size_t ike_sig_algid(unsigned hash_alg, bool pss, const uint8_t **der)
{
	if (pss) {
		if (hash_alg != IKE1_HASH_SHA256)
			return 0;
		*der = ALG_PSS_SHA256;
		return sizeof ALG_PSS_SHA256;
	}
	switch (hash_alg) {
	case IKE1_HASH_SHA1: *der = ALG_RSA_SHA1; return sizeof ALG_RSA_SHA1;
	case IKE1_HASH_SHA256: *der = ALG_RSA_SHA256; return sizeof ALG_RSA_SHA256;
	case IKE1_HASH_SHA384: *der = ALG_RSA_SHA384; return sizeof ALG_RSA_SHA384;
	case IKE1_HASH_SHA512: *der = ALG_RSA_SHA512; return sizeof ALG_RSA_SHA512;
	default: return 0;
	}
}

bool ike_sig_auth_parse(unsigned method, const uint8_t *data, size_t n, unsigned *hash_alg,
                        bool *pss, const uint8_t **sig, size_t *siglen)
{
	*hash_alg = IKE1_HASH_SHA1;
	*pss = false;
	*sig = data;
	*siglen = n;
	if (method == 1)
		return n > 0;
	if (method != 14 || !n)
		return false;
	static const unsigned hashes[] = {IKE1_HASH_SHA256, IKE1_HASH_SHA384, IKE1_HASH_SHA512,
	                                  IKE1_HASH_SHA1};
	size_t al = data[0];
	for (size_t i = 0; al && al + 1 < n && i < 8; i++) {
		const uint8_t *der = NULL;
		size_t dl = ike_sig_algid(hashes[i / 2], i % 2, &der);
		if (dl == al && !memcmp(der, data + 1, al)) {
			*hash_alg = hashes[i / 2];
			*pss = i % 2;
			*sig = data + 1 + al;
			*siglen = n - 1 - al;
			return true;
		}
	}
	return false;
}

bool ike_id_matches_cert(unsigned id_type, const uint8_t *data, size_t n, struct x509_st *x)
{
	const unsigned char *p = data;
	bool ok = false;
	switch (id_type) {
	case 9: { /* ID_DER_ASN1_DN */
		X509_NAME *nm = n ? d2i_X509_NAME(NULL, &p, (long)n) : NULL;
		ok = nm && p == data + n && !X509_NAME_cmp(nm, X509_get_subject_name(x));
		X509_NAME_free(nm);
		break;
	}
	case 2: /* ID_FQDN */
		ok = n && n < 256 && !memchr(p, 0, n) &&
		     X509_check_host(x, (const char *)p, n, 0, NULL) == 1;
		break;
	case 3: /* ID_USER_FQDN (IKEv1), ID_RFC822_ADDR (IKEv2) */
		ok = n && n < 256 && !memchr(p, 0, n) &&
		     X509_check_email(x, (const char *)p, n, 0) == 1;
		break;
	case 1: /* ID_IPV4_ADDR */
	case 5: /* ID_IPV6_ADDR */
		ok = n == (id_type == 1 ? 4u : 16u) && X509_check_ip(x, p, n, 0) == 1;
		break;
	default:
		break;
	}
	ERR_clear_error();
	return ok;
}

void ike_name_text(const X509_NAME *n, char *out, size_t cap)
{
	char raw[400] = "";
	BIO *b = BIO_new(BIO_s_mem());
	if (b && X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
		int l = BIO_read(b, raw, (int)sizeof raw - 1);
		raw[l > 0 ? l : 0] = 0;
	}
	BIO_free(b);
	text_printable_str(raw, out, cap);
}

size_t ike_cert_chain_read(const struct ike_payload *const *cert, size_t n, X509 **leaf,
                           STACK_OF(X509) *more)
{
	*leaf = NULL;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = cert[i]->data;
		X509 *x = cert[i]->data_len ? d2i_X509(NULL, &p, (long)cert[i]->data_len) : NULL;
		if (!x || p != cert[i]->data + cert[i]->data_len) {
			X509_free(x);
			X509_free(*leaf);
			*leaf = NULL;
			return i + 1;
		}
		if (!*leaf)
			*leaf = x;
		else if (!sk_X509_push(more, x))
			X509_free(x);
	}
	return 0;
}
