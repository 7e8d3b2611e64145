/* IKEv1 hash, prf, key expansion, CBC and Diffie-Hellman, IKEv2 prf+, integrity, AES-GCM
 * and RSA signatures, with OpenSSL 3 EVP. */
#include "ike/ike_crypto.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

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

size_t ike1_hash_len(unsigned alg)
{
	const EVP_MD *md = md_of(alg);
	return md ? (size_t)EVP_MD_get_size(md) : 0;
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
	const EVP_MD *md = md_of(alg);
	EVP_MD_CTX *x = md ? EVP_MD_CTX_new() : NULL;
	bool ok = x && EVP_DigestInit_ex(x, md, NULL) == 1;
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(x, v[i].p, v[i].n) == 1;
	unsigned dl = 0;
	ok = ok && EVP_DigestFinal_ex(x, out, &dl) == 1;
	EVP_MD_CTX_free(x);
	return ok;
}

bool ike1_prf(unsigned alg, const uint8_t *key, size_t keylen, const struct ike_iov *v, size_t n,
              uint8_t *out)
{
	const char *name = md_name(alg);
	if (!name)
		return false;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *x = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM par[2] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)name, 0),
		OSSL_PARAM_construct_end(),
	};
	/* HMAC with an empty key is legal (a zero-length pre-shared key is refused earlier,
	 * but the prf itself must not fail on it): give OpenSSL one readable byte. */
	static const uint8_t nokey[1];
	bool ok = x && EVP_MAC_init(x, keylen ? key : nokey, keylen, par) == 1;
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_MAC_update(x, v[i].p, v[i].n) == 1;
	size_t ol = 0;
	ok = ok && EVP_MAC_final(x, out, &ol, IKE_HASH_MAX) == 1;
	EVP_MAC_CTX_free(x);
	EVP_MAC_free(mac);
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

bool ike1_cbc(unsigned enc, const uint8_t *key, size_t keylen, const uint8_t *iv,
              const uint8_t *in, size_t n, uint8_t *out, bool encrypt)
{
	size_t block = ike1_block(enc);
	if (!block || !ike1_enc_keylen_ok(enc, keylen) || n % block || n > (size_t)INT32_MAX)
		return false;
	const EVP_CIPHER *ci = enc == IKE1_ENC_3DES ? EVP_des_ede3_cbc()
	                       : keylen == 16       ? EVP_aes_128_cbc()
	                       : keylen == 24       ? EVP_aes_192_cbc()
	                                            : EVP_aes_256_cbc();
	EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0;
	bool ok = cx && EVP_CipherInit_ex(cx, ci, NULL, key, iv, encrypt ? 1 : 0) == 1 &&
	          EVP_CIPHER_CTX_set_padding(cx, 0) == 1 &&
	          EVP_CipherUpdate(cx, out, &n1, in, (int)n) == 1 &&
	          EVP_CipherFinal_ex(cx, out + n1, &n2) == 1 && (size_t)(n1 + n2) == n;
	EVP_CIPHER_CTX_free(cx);
	return ok;
}

/* ---- Diffie-Hellman ----------------------------------------------------------------- */

struct ike_dh {
	unsigned group;
	EVP_PKEY *key;
};

static bool is_modp(unsigned g) { return g == 2 || g == 14; }
static const char *curve_of(unsigned g) { return g == 19 ? "P-256" : g == 20 ? "P-384" : NULL; }
static size_t modp_len(unsigned g) { return g == 2 ? 128 : 256; }
static size_t ecp_len(unsigned g) { return g == 19 ? 32 : 48; }

bool ike_dh_supported(unsigned g)
{
	return is_modp(g) || curve_of(g);
}

/* A DH key (parameters only, or with a public value when pub is given) of a MODP group. */
static EVP_PKEY *modp_pkey(unsigned g, const uint8_t *pub, size_t n)
{
	BIGNUM *p = g == 2 ? BN_get_rfc2409_prime_1024(NULL) : BN_get_rfc3526_prime_2048(NULL);
	BIGNUM *gen = BN_new(), *y = pub ? BN_bin2bn(pub, (int)n, NULL) : NULL;
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *par = NULL;
	EVP_PKEY_CTX *cx = NULL;
	EVP_PKEY *k = NULL;
	bool ok = p && gen && b && (!pub || y) && BN_set_word(gen, 2) &&
	          OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_FFC_P, p) &&
	          OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_FFC_G, gen) &&
	          (!pub || OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PUB_KEY, y)) &&
	          (par = OSSL_PARAM_BLD_to_param(b)) &&
	          (cx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL)) &&
	          EVP_PKEY_fromdata_init(cx) == 1;
	if (ok && EVP_PKEY_fromdata(cx, &k, pub ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEY_PARAMETERS,
	                            par) != 1)
		k = NULL;
	EVP_PKEY_CTX_free(cx);
	OSSL_PARAM_free(par);
	OSSL_PARAM_BLD_free(b);
	BN_free(p);
	BN_free(gen);
	BN_free(y);
	return k;
}

struct ike_dh *ike_dh_new(unsigned g)
{
	if (!ike_dh_supported(g))
		return NULL;
	struct ike_dh *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->group = g;
	if (is_modp(g)) {
		EVP_PKEY *params = modp_pkey(g, NULL, 0);
		EVP_PKEY_CTX *cx = params ? EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL) : NULL;
		if (!cx || EVP_PKEY_keygen_init(cx) != 1 || EVP_PKEY_keygen(cx, &d->key) != 1)
			d->key = NULL;
		EVP_PKEY_CTX_free(cx);
		EVP_PKEY_free(params);
	} else {
		d->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve_of(g));
	}
	if (!d->key) {
		free(d);
		return NULL;
	}
	return d;
}

void ike_dh_free(struct ike_dh *d)
{
	if (!d)
		return;
	EVP_PKEY_free(d->key);
	free(d);
}

size_t ike_dh_public(const struct ike_dh *d, uint8_t *out, size_t cap)
{
	if (is_modp(d->group)) {
		size_t pl = modp_len(d->group);
		BIGNUM *y = NULL;
		if (cap < pl || EVP_PKEY_get_bn_param(d->key, OSSL_PKEY_PARAM_PUB_KEY, &y) != 1)
			return 0;
		int r = BN_bn2binpad(y, out, (int)pl);
		BN_free(y);
		return r == (int)pl ? pl : 0;
	}
	size_t cl = ecp_len(d->group);
	uint8_t pt[1 + 2 * 48];
	size_t n = 0;
	if (cap < 2 * cl ||
	    EVP_PKEY_get_octet_string_param(d->key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt,
	                                    sizeof pt, &n) != 1 ||
	    n != 1 + 2 * cl || pt[0] != 4)
		return 0;
	memcpy(out, pt + 1, 2 * cl);
	return 2 * cl;
}

size_t ike_dh_shared(const struct ike_dh *d, const uint8_t *peer, size_t n, uint8_t *out,
                     size_t cap)
{
	EVP_PKEY *pk = NULL;
	size_t want;
	if (is_modp(d->group)) {
		want = modp_len(d->group);
		if (n != want)
			return 0;
		pk = modp_pkey(d->group, peer, n);
	} else {
		size_t cl = ecp_len(d->group);
		want = cl;
		if (n != 2 * cl)
			return 0;
		uint8_t pt[1 + 2 * 48];
		pt[0] = 4;
		memcpy(pt + 1, peer, n);
		OSSL_PARAM par[3] = {
			OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
			                                 (char *)curve_of(d->group), 0),
			OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + n),
			OSSL_PARAM_construct_end(),
		};
		EVP_PKEY_CTX *cx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		if (!cx || EVP_PKEY_fromdata_init(cx) != 1 ||
		    EVP_PKEY_fromdata(cx, &pk, EVP_PKEY_PUBLIC_KEY, par) != 1)
			pk = NULL;
		EVP_PKEY_CTX_free(cx);
	}
	if (!pk || cap < want)
		return (EVP_PKEY_free(pk), 0);
	EVP_PKEY_CTX *cx = EVP_PKEY_CTX_new_from_pkey(NULL, d->key, NULL);
	size_t len = cap;
	/* validate = 1: the peer's value must be in the group / on the curve */
	bool ok = cx && EVP_PKEY_derive_init(cx) == 1 &&
	          (!is_modp(d->group) || EVP_PKEY_CTX_set_dh_pad(cx, 1) == 1) &&
	          EVP_PKEY_derive_set_peer_ex(cx, pk, 1) == 1 &&
	          EVP_PKEY_derive(cx, out, &len) == 1 && len == want;
	EVP_PKEY_CTX_free(cx);
	EVP_PKEY_free(pk);
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
	const EVP_CIPHER *ci = keylen == 16 ? EVP_aes_128_gcm() : keylen == 24 ? EVP_aes_192_gcm()
	                       : keylen == 32 ? EVP_aes_256_gcm() : NULL;
	if (!ci || n > (size_t)INT32_MAX || aadlen > (size_t)INT32_MAX)
		return false;
	uint8_t nonce[12];
	memcpy(nonce, salt, 4);
	memcpy(nonce + 4, iv, 8);
	EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
	int l = 0, l2 = 0;
	bool ok = cx && EVP_CipherInit_ex(cx, ci, NULL, NULL, NULL, encrypt ? 1 : 0) == 1 &&
	          EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
	          EVP_CipherInit_ex(cx, NULL, NULL, key, nonce, encrypt ? 1 : 0) == 1 &&
	          (!aadlen || EVP_CipherUpdate(cx, NULL, &l, aad, (int)aadlen) == 1) &&
	          (!n || EVP_CipherUpdate(cx, out, &l, in, (int)n) == 1);
	if (ok && !encrypt)
		ok = EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
	ok = ok && EVP_CipherFinal_ex(cx, out + (n ? l : 0), &l2) == 1;
	if (ok && encrypt)
		ok = EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
	EVP_CIPHER_CTX_free(cx);
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
