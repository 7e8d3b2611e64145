/* IKEv1 cryptography (RFC 2409 and its appendix B), shared by the responder
 * (engine/ike/ikev1.c) and the capture decryptor (engine/capture/ikedecrypt.c): the
 * negotiated hash and its HMAC as prf, the key expansion of SKEYID_e and KEYMAT, CBC
 * encryption and decryption of message bodies, and Diffie-Hellman over the groups
 * Windows offers (MODP 1024 and 2048, ECP 256 and 384) with OpenSSL 3.
 *
 * Each thread makes the algorithms, contexts and groups it uses once, on first use, and
 * keeps them until the process ends: no call fetches an algorithm or builds a group.
 *
 * Algorithm numbers are the IKEv1 attribute values: hash 1 MD5, 2 SHA1, 4 SHA2-256,
 * 5 SHA2-384, 6 SHA2-512; encryption 5 3DES-CBC, 7 AES-CBC.
 *
 * The IKEv2 responder (engine/ike/ikev2.c) adds prf+ and SKEYSEED (RFC 7296 2.13, 2.14,
 * 2.18), the truncated HMACs of its integrity transforms, AES-GCM (RFC 5282) and RSA
 * signatures for its AUTH payload (RFC 7296 method 1, RFC 7427 method 14); those take
 * the IKEv2 transform IDs below.
 */
#ifndef VNET_IKE_CRYPTO_H
#define VNET_IKE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IKE1_HASH_MD5 1
#define IKE1_HASH_SHA1 2
#define IKE1_HASH_SHA256 4
#define IKE1_HASH_SHA384 5
#define IKE1_HASH_SHA512 6
#define IKE1_ENC_3DES 5
#define IKE1_ENC_AES_CBC 7

#define IKE_HASH_MAX 64    /* largest digest (SHA2-512) */
#define IKE_DH_MAX 256     /* largest public value or shared secret (MODP 2048) */

/* One piece of the input of a hash or prf. */
struct ike_iov {
	const void *p;
	size_t n;
};

/* Digest length of a hash algorithm, 0 when unknown. */
size_t ike1_hash_len(unsigned hash_alg);
/* Cipher block (8 for 3DES, 16 for AES), 0 when unknown. */
size_t ike1_block(unsigned enc_alg);
/* Does the algorithm take this key length in bytes (AES 16/24/32, 3DES 24)? */
bool ike1_enc_keylen_ok(unsigned enc_alg, size_t keylen);

/* hash(v[0] | v[1] | ...). Writes ike1_hash_len bytes; false when unknown or failed. */
bool ike1_hash(unsigned hash_alg, const struct ike_iov *v, size_t n, uint8_t *out);
/* prf(key, v[0] | v[1] | ...): HMAC with the negotiated hash. */
bool ike1_prf(unsigned hash_alg, const uint8_t *key, size_t keylen, const struct ike_iov *v,
              size_t n, uint8_t *out);
/* out = K1 | K2 | ... cut to outlen, K1 = prf(key, seed). With `seed_each` Kn = prf(key,
 * Kn-1 | seed): the expansion of KEYMAT (RFC 2409 5.5). Without it Kn = prf(key, Kn-1):
 * appendix B's expansion of SKEYID_e into a longer encryption key (seed: one zero byte). */
bool ike1_expand(unsigned hash_alg, const uint8_t *key, size_t keylen, const struct ike_iov *seed,
                 size_t nseed, bool seed_each, uint8_t *out, size_t outlen);

/* CBC without padding over n bytes (a multiple of the block) with the given IV; in and
 * out may be the same buffer. false when the algorithm or key length is wrong. */
bool ike1_cbc(unsigned enc_alg, const uint8_t *key, size_t keylen, const uint8_t *iv,
              const uint8_t *in, size_t n, uint8_t *out, bool encrypt);

/* Diffie-Hellman. Groups 2 (MODP 1024), 14 (MODP 2048), 19 (ECP 256), 20 (ECP 384). */
struct ike_dh;
bool ike_dh_supported(unsigned group);
/* A key pair for one exchange; NULL when the group is not supported or OpenSSL failed.
 * A fresh one, unless this thread reuses key pairs (ike_dh_reuse): then the pair of the
 * group made at most that many seconds before `now_ms` (a monotonic clock in ms;
 * ike_dh_new reads CLOCK_MONOTONIC), else a fresh one that later calls share. */
struct ike_dh *ike_dh_new(unsigned group);
struct ike_dh *ike_dh_new_at(unsigned group, uint64_t now_ms);
/* Release the exchange's hold; a pair is erased (private value wiped, freed) when its
 * last holder releases it. */
void ike_dh_free(struct ike_dh *d);
/* Key-pair reuse for this thread, off (0) by default: a pair may serve further exchanges
 * of its group for `seconds` after it was made. Reuse trades perfect forward secrecy
 * between the exchanges sharing a pair for the cost of a key pair per exchange (RFC 7296
 * 2.12, RFC 2409 5: whoever learns the private value learns every shared secret made
 * with it). Each call drops the pairs kept so far (the exchanges holding them keep them
 * until they release them). */
void ike_dh_reuse(uint32_t seconds);
/* Drop the kept pairs whose window ended by now_ms, so that a private value does not
 * outlive its window while no exchange asks for a new pair (a periodic call). */
void ike_dh_reuse_expire(uint64_t now_ms);
/* The public value as a KE payload carries it (MODP: padded to the prime's length;
 * ECP: x | y). Returns its length, 0 when cap is too small. */
size_t ike_dh_public(const struct ike_dh *d, uint8_t *out, size_t cap);
/* The shared secret with the peer's public value (MODP: padded to the prime's length;
 * ECP: the x coordinate). 0 when the peer's value is invalid: wrong length, a MODP value
 * outside [2, p - 2], an ECP coordinate not below the field prime or a point off the
 * curve (for these safe primes and cofactor-1 curves, a complete check; see
 * ike_crypto.c). */
size_t ike_dh_shared(const struct ike_dh *d, const uint8_t *peer, size_t n, uint8_t *out,
                     size_t cap);

/* ---- IKEv2 (RFC 7296): transform IDs of the IKEv2 registry ------------------------ */
#define IKE2_ENCR_3DES 3
#define IKE2_ENCR_AES_CBC 12
#define IKE2_ENCR_AES_GCM_16 20
#define IKE2_PRF_HMAC_SHA1 2
#define IKE2_PRF_HMAC_SHA2_256 5
#define IKE2_PRF_HMAC_SHA2_384 6
#define IKE2_PRF_HMAC_SHA2_512 7
#define IKE2_INTEG_HMAC_SHA1_96 2
#define IKE2_INTEG_HMAC_SHA2_256_128 12
#define IKE2_INTEG_HMAC_SHA2_384_192 13
#define IKE2_INTEG_HMAC_SHA2_512_256 14

/* The IKEv1 hash (IKE1_HASH_*) behind an IKEv2 PRF or integrity transform, 0 when
 * unknown. */
unsigned ike2_prf_hash(unsigned prf);
unsigned ike2_integ_hash(unsigned integ);
/* Output (= preferred key) length of a PRF, 0 when unknown. */
size_t ike2_prf_len(unsigned prf);
/* Key and checksum lengths of an integrity transform, 0 when unknown. */
size_t ike2_integ_keylen(unsigned integ);
size_t ike2_integ_icvlen(unsigned integ);
/* prf(key, v[0] | v[1] | ...) with an IKEv2 PRF. */
bool ike2_prf(unsigned prf, const uint8_t *key, size_t keylen, const struct ike_iov *v,
              size_t n, uint8_t *out);
/* prf+ (RFC 7296 2.13): T1 | T2 | ... cut to outlen, T1 = prf(K, S | 0x01),
 * Tn = prf(K, Tn-1 | S | n); S is seed[0] | seed[1] | ... At most 255 rounds. */
bool ike2_prf_plus(unsigned prf, const uint8_t *key, size_t keylen, const struct ike_iov *seed,
                   size_t nseed, uint8_t *out, size_t outlen);
/* SKEYSEED = prf(Ni | Nr, g^ir) (RFC 7296 2.14), and for a rekeyed IKE SA
 * prf(SK_d (old), g^ir (new) | Ni | Nr) (2.18). out gets ike2_prf_len bytes. */
bool ike2_skeyseed(unsigned prf, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
                   size_t nr_len, const uint8_t *gir, size_t gir_len, uint8_t *out);
bool ike2_skeyseed_rekey(unsigned prf, const uint8_t *sk_d, size_t sk_d_len, const uint8_t *gir,
                         size_t gir_len, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
                         size_t nr_len, uint8_t *out);
/* The truncated HMAC of an integrity transform over v[]: ike2_integ_icvlen bytes. */
bool ike2_integ(unsigned integ, const uint8_t *key, const struct ike_iov *v, size_t n,
                uint8_t *out);
/* AES-GCM with a 16-byte tag as IKEv2 (RFC 5282) and ESP (RFC 4106) use it: the nonce is
 * the 4-byte salt and the 8-byte IV. Decryption checks the tag (false on a mismatch);
 * in and out may be the same buffer. keylen 16, 24 or 32 (without the salt). */
bool ike_gcm(const uint8_t *key, size_t keylen, const uint8_t salt[4], const uint8_t iv[8],
             const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t n, uint8_t *out,
             uint8_t tag[16], bool encrypt);

/* ---- signatures for IKEv2 authentication ------------------------------------------- */
struct ike_privkey;
/* An RSA private key from PEM (PKCS#1 or PKCS#8, unencrypted); NULL when it does not
 * parse or is not RSA. */
struct ike_privkey *ike_privkey_from_pem(const char *pem, size_t len);
/* The same from a key already loaded (a certificate store's): a reference of its own is
 * taken. NULL when it is not RSA or out of memory. */
struct evp_pkey_st;
struct ike_privkey *ike_privkey_from_evp(struct evp_pkey_st *k);
void ike_privkey_free(struct ike_privkey *k);
/* Sign data with hash_alg (IKE1_HASH_SHA1/256/384/512) in PKCS#1 v1.5 or, with pss,
 * RSASSA-PSS (salt as long as the hash, MGF1 with the same hash). The signature's
 * length, 0 on failure or when cap is too small. */
size_t ike_sign(const struct ike_privkey *k, unsigned hash_alg, bool pss, const uint8_t *data,
                size_t n, uint8_t *out, size_t cap);
/* Check a signature with the public key of a DER certificate. */
bool ike_verify_cert(const uint8_t *cert, size_t cert_len, unsigned hash_alg, bool pss,
                     const uint8_t *data, size_t n, const uint8_t *sig, size_t siglen);
/* The DER AlgorithmIdentifier RFC 7427 puts in an AUTH payload of method 14 for RSA with
 * hash_alg (PKCS#1 v1.5 or PSS). Its length, 0 when unknown. */
size_t ike_sig_algid(unsigned hash_alg, bool pss, const uint8_t **der);
/* The signature of an IKEv2 AUTH payload's data: method 1 (RSA PKCS#1 v1.5 with SHA1, the
 * whole data) or 14 (RFC 7427: the length of an AlgorithmIdentifier, the identifier, then
 * the signature; only the identifiers ike_sig_algid makes are taken). false for any other
 * method, an identifier not known or no signature left. */
bool ike_sig_auth_parse(unsigned method, const uint8_t *data, size_t n, unsigned *hash_alg,
                        bool *pss, const uint8_t **sig, size_t *siglen);
/* Does an identity (ID payload: type and data, the types IKEv1 and IKEv2 share) name the
 * certificate: its subject (9, DER_ASN1_DN) or a subject alternative name of the ID's type
 * (2 FQDN, 3 an e-mail address, 1 and 5 an address)? */
struct x509_st;
bool ike_id_matches_cert(unsigned id_type, const uint8_t *data, size_t n, struct x509_st *x);

/* A distinguished name as RFC 2253 writes it, escaped for logs (at most 399 bytes of it
 * read; out holds "" when it cannot be printed). */
struct X509_name_st;
void ike_name_text(const struct X509_name_st *n, char *out, size_t cap);

/* The peer's certificates of its CERT payloads, the first its own: the first decoded into
 * *leaf, the others pushed onto more (a STACK_OF(X509)). Returns 0, or i + 1 when the i-th
 * payload is not one whole X.509 certificate (then *leaf is NULL: none is kept). */
struct ike_payload;
struct stack_st_X509;
size_t ike_cert_chain_read(const struct ike_payload *const *cert, size_t n, struct x509_st **leaf,
                           struct stack_st_X509 *more);

#endif
