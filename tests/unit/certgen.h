/* Certificates made in memory for the tests of certificate authentication: RSA keys, a
 * self-signed CA, end certificates it issues, with OpenSSL 3 calls only. */
#ifndef VNET_TEST_CERTGEN_H
#define VNET_TEST_CERTGEN_H

#include <stdbool.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* An RSA key of `bits`. */
static inline EVP_PKEY *cg_key(unsigned bits)
{
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (c && EVP_PKEY_keygen_init(c) > 0 && EVP_PKEY_CTX_set_rsa_keygen_bits(c, (int)bits) > 0)
		EVP_PKEY_keygen(c, &k);
	EVP_PKEY_CTX_free(c);
	return k;
}

static inline void cg_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e)
		X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

/* A certificate for `key` named CN=`cn` (under O=vnet tests), valid from now + `from_s`
 * to now + `to_s`, issued by `issuer` with `ikey` (both NULL: self-signed), a CA when
 * `ca`, with the subject alternative names `san` ("DNS:a,IP:1.2.3.4") or none. */
static inline X509 *cg_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
                            bool ca, const char *san, long from_s, long to_s)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from_s);
	X509_gmtime_adj(X509_getm_notAfter(x), to_s);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"vnet tests", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	cg_ext(x, issuer ? issuer : x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
	cg_ext(x, issuer ? issuer : x, NID_key_usage, ca ? "critical,keyCertSign,cRLSign"
	                                               : "critical,digitalSignature,keyEncipherment");
	if (san)
		cg_ext(x, issuer ? issuer : x, NID_subject_alt_name, san);
	X509_sign(x, ikey ? ikey : key, EVP_sha256());
	return x;
}

/* A trust store of the given CAs. */
static inline X509_STORE *cg_store(X509 *a, X509 *b)
{
	X509_STORE *s = X509_STORE_new();
	if (a)
		X509_STORE_add_cert(s, a);
	if (b)
		X509_STORE_add_cert(s, b);
	return s;
}

#endif
