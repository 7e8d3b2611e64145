/* A small IKEv1 initiator (Main Mode with a pre-shared key or RSA signatures, Quick
 * Mode, Informational) written from RFC 2409 for the responder's tests and fuzzer: it
 * builds the messages a Windows or strongSwan client sends and checks the responder's
 * answers. Only what the tests need: one proposal, one transform, IPv4. */
#ifndef VNET_TEST_IKEV1_PEER_H
#define VNET_TEST_IKEV1_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "ike.h"
#include "ike/ike_crypto.h"
#include "ike/ikev1.h"

struct v1peer {
	/* what it offers */
	unsigned enc, keybits, hash, group, auth;
	uint32_t life_s;
	const char *psk;
	bool natt;                  /* sends the RFC 3947 VID and NAT-D */
	uint8_t my_ip[4];           /* the address it believes it has (NAT-D, IDii, IDci) */
	uint16_t my_port;
	struct ikev1_addr resp;     /* the responder as it addresses it */
	/* Quick Mode offer */
	unsigned q_xf, q_bits, q_auth, q_encap, q_group;
	uint32_t q_life_s;
	uint8_t q_proto;
	uint16_t q_port_i, q_port_r;
	bool q_commit;              /* sets the commit bit in Quick Mode 1 */
	/* signatures (auth 3): its certificate and key (references the test owns), the CA
	 * that must have issued the responder's certificate, what it asks for in CERTREQ
	 * (DER name, NULL: nothing), and how to misbehave */
	X509 *cert;
	EVP_PKEY *key;
	X509 *resp_ca;
	const uint8_t *cr_name;
	size_t cr_len;
	uint8_t id_type;            /* 0: its certificate's subject (ID_DER_ASN1_DN) */
	const char *id_text;        /* the ID data for another type */
	bool no_cert, bad_sig;
	X509 *resp_cert;            /* the responder's certificate from Main Mode 6 */

	/* state */
	uint8_t ispi[8], rspi[8];
	struct ike_dh *dh;
	uint8_t gxi[IKE_DH_MAX], gxr[IKE_DH_MAX];
	size_t gxlen;
	uint8_t ni[32], nr[256];
	size_t nrlen;
	uint8_t sai[1024];
	size_t sailen;
	uint8_t skeyid[IKE_HASH_MAX], sk_d[IKE_HASH_MAX], sk_a[IKE_HASH_MAX], ekey[32];
	size_t hlen, keylen, block;
	uint8_t iv[16];
	uint8_t idb[4 + 512];
	size_t idblen;
	/* the current Quick Mode */
	uint32_t msgid;
	uint8_t qiv[16], qni[32], qnr[256];
	size_t qnrlen;
	uint32_t spi_i, spi_r;
	uint8_t q_gxy[IKE_DH_MAX];
	size_t q_gxylen;
	struct ike_dh *qdh;
	struct ike_msg *m;
	uint8_t pt[4096];
};

static inline void v1p_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static inline uint32_t v1p_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* AES-128/SHA1/MODP2048, ESP AES-128/SHA1 in transport mode for udp/1701; the tests
 * change what they test. */
static inline void v1p_init(struct v1peer *p, const char *psk)
{
	memset(p, 0, sizeof *p);
	p->enc = IKE1_ENC_AES_CBC;
	p->keybits = 128;
	p->hash = IKE1_HASH_SHA1;
	p->group = 14;
	p->auth = 1;
	p->life_s = 28800;
	p->psk = psk;
	p->natt = true;
	memcpy(p->my_ip, "\x0a\x00\x00\x02", 4);
	p->my_port = 500;
	p->resp.family = 4;
	memcpy(p->resp.ip, "\x0a\x00\x00\x01", 4);
	p->resp.port = 500;
	p->q_xf = 12;
	p->q_bits = 128;
	p->q_auth = 2;
	p->q_encap = 2;
	p->q_life_s = 3600;
	p->q_proto = 17;
	p->q_port_i = 1701;
	p->q_port_r = 1701;
	for (int i = 0; i < 8; i++)
		p->ispi[i] = (uint8_t)(0x11 * (i + 1));
	for (int i = 0; i < 32; i++)
		p->ni[i] = (uint8_t)(0xa0 + i);
	p->m = malloc(sizeof *p->m);
}

static inline void v1p_free(struct v1peer *p)
{
	X509_free(p->resp_cert);
	ike_dh_free(p->dh);
	ike_dh_free(p->qdh);
	free(p->m);
}

static inline size_t v1p_seal(struct v1peer *p, uint8_t *msg, size_t len, uint8_t *iv, uint8_t *out)
{
	size_t body = len - IKE_HDR_LEN, padded = (body + p->block - 1) / p->block * p->block;
	memcpy(out, msg, len);
	memset(out + len, 0, padded - body);
	if (!ike1_cbc(p->enc, p->ekey, p->keylen, iv, out + IKE_HDR_LEN, padded, out + IKE_HDR_LEN, true))
		return 0;
	memcpy(iv, out + IKE_HDR_LEN + padded - p->block, p->block);
	out[19] |= IKE1_FLAG_E;
	v1p_put32(out + 24, (uint32_t)(IKE_HDR_LEN + padded));
	return IKE_HDR_LEN + padded;
}

/* Decrypt and decode into p->m; false when it does not decode. */
static inline bool v1p_open(struct v1peer *p, const uint8_t *in, size_t n, uint8_t *iv)
{
	struct diag_err e;
	if (n < IKE_HDR_LEN + p->block || (n - IKE_HDR_LEN) % p->block || !(in[19] & IKE1_FLAG_E))
		return false;
	size_t body = n - IKE_HDR_LEN;
	memcpy(p->pt, in, IKE_HDR_LEN);
	if (!ike1_cbc(p->enc, p->ekey, p->keylen, iv, in + IKE_HDR_LEN, body, p->pt + IKE_HDR_LEN, false))
		return false;
	memcpy(iv, in + n - p->block, p->block);
	p->pt[19] &= (uint8_t)~IKE1_FLAG_E;
	return ike_decode(p->pt, n, p->m, &e) == 0;
}

static inline size_t v1p_mm1(struct v1peer *p, uint8_t *out, size_t cap)
{
	struct ike_msg *m = p->m;
	ike_msg_init(m, 1, IKE1_EXCH_MAIN, 0, 0, p->ispi, NULL);
	struct ike_payload *sa = ike_add_payload(m, IKE1_PL_SA, NULL, 0);
	struct ike_proposal *pr = ike_add_proposal(m, sa, 1, 1, NULL, 0);
	ike_add_transform(m, pr, 0, 1);
	ike_add_attr(m, 1, true, p->enc, NULL, 0);
	if (p->keybits && p->enc == IKE1_ENC_AES_CBC)
		ike_add_attr(m, 14, true, p->keybits, NULL, 0);
	ike_add_attr(m, 2, true, p->hash, NULL, 0);
	ike_add_attr(m, 3, true, p->auth, NULL, 0);
	ike_add_attr(m, 4, true, p->group, NULL, 0);
	ike_add_attr(m, 11, true, 1, NULL, 0);
	uint8_t life[4];
	v1p_put32(life, p->life_s);
	ike_add_attr(m, 12, false, 0, life, 4);
	static const uint8_t natt[16] = {0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45,
	                                 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f};
	static const uint8_t msnt5[20] = {0x1e, 0x2b, 0x51, 0x69, 0x05, 0x99, 0x1c, 0x7d, 0x7c,
	                                  0x96, 0xfc, 0xbf, 0xb5, 0x87, 0xe4, 0x61, 0, 0, 0, 9};
	ike_add_payload(m, IKE1_PL_VID, msnt5, 20);
	if (p->natt)
		ike_add_payload(m, IKE1_PL_VID, natt, 16);
	size_t n = ike_encode(m, out, cap);
	/* SAi_b: the SA payload body as sent */
	size_t salen = (size_t)out[IKE_HDR_LEN + 2] << 8 | out[IKE_HDR_LEN + 3];
	p->sailen = salen - 4;
	memcpy(p->sai, out + IKE_HDR_LEN + 4, p->sailen);
	p->hlen = ike1_hash_len(p->hash);
	p->keylen = p->enc == IKE1_ENC_3DES ? 24 : p->keybits / 8;
	p->block = ike1_block(p->enc);
	return n;
}

static inline void v1p_natd(const struct v1peer *p, const uint8_t *ip, uint16_t port, uint8_t *out)
{
	uint8_t pb[2] = {(uint8_t)(port >> 8), (uint8_t)port};
	struct ike_iov v[4] = {{p->ispi, 8}, {p->rspi, 8}, {ip, 4}, {pb, 2}};
	ike1_hash(p->hash, v, 4, out);
}

/* MM2 in, MM3 out (0 when MM2 is not a Main Mode SA answer). */
static inline size_t v1p_mm3(struct v1peer *p, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	struct diag_err e;
	if (ike_decode(in, n, p->m, &e) || p->m->exchange != IKE1_EXCH_MAIN || p->m->pl[0].type != IKE1_PL_SA)
		return 0;
	memcpy(p->rspi, p->m->rspi, 8);
	p->dh = ike_dh_new(p->group);
	p->gxlen = ike_dh_public(p->dh, p->gxi, sizeof p->gxi);
	struct ike_msg *m = p->m;
	ike_msg_init(m, 1, IKE1_EXCH_MAIN, 0, 0, p->ispi, p->rspi);
	ike_add_payload(m, IKE1_PL_KE, p->gxi, p->gxlen);
	ike_add_payload(m, IKE1_PL_NONCE, p->ni, 32);
	uint8_t d1[IKE_HASH_MAX], d2[IKE_HASH_MAX];
	if (p->natt) {
		v1p_natd(p, p->resp.ip, p->resp.port, d1);
		v1p_natd(p, p->my_ip, p->my_port, d2);
		ike_add_payload(m, IKE1_PL_NATD, d1, p->hlen);
		ike_add_payload(m, IKE1_PL_NATD, d2, p->hlen);
	}
	return ike_encode(m, out, cap);
}

/* MM4 in: the keys and the phase-1 IV derived; false when MM4 is not KE and Nr. */
static inline bool v1p_mm4_keys(struct v1peer *p, const uint8_t *in, size_t n)
{
	struct diag_err e;
	if (ike_decode(in, n, p->m, &e) || p->m->npl < 2)
		return false;
	const struct ike_payload *ke = &p->m->pl[0], *nr = &p->m->pl[1];
	if (ke->type != IKE1_PL_KE || nr->type != IKE1_PL_NONCE || ke->data_len > sizeof p->gxr ||
	    nr->data_len > sizeof p->nr)
		return false;
	memcpy(p->gxr, ke->data, ke->data_len);
	memcpy(p->nr, nr->data, nr->data_len);
	p->nrlen = nr->data_len;
	uint8_t gxy[IKE_DH_MAX];
	size_t gl = ike_dh_shared(p->dh, p->gxr, ke->data_len, gxy, sizeof gxy);
	if (!gl)
		return false;
	static const uint8_t b0 = 0, b1 = 1, b2 = 2;
	struct ike_iov nn[2] = {{p->ni, 32}, {p->nr, p->nrlen}};
	if (p->auth == 3) { /* SKEYID = prf(Ni_b | Nr_b, g^xy) */
		uint8_t k[32 + 256];
		memcpy(k, p->ni, 32);
		memcpy(k + 32, p->nr, p->nrlen);
		struct ike_iov g = {gxy, gl};
		ike1_prf(p->hash, k, 32 + p->nrlen, &g, 1, p->skeyid);
	} else {
		ike1_prf(p->hash, (const uint8_t *)p->psk, strlen(p->psk), nn, 2, p->skeyid);
	}
	struct ike_iov vd[4] = {{gxy, gl}, {p->ispi, 8}, {p->rspi, 8}, {&b0, 1}};
	ike1_prf(p->hash, p->skeyid, p->hlen, vd, 4, p->sk_d);
	struct ike_iov va[5] = {{p->sk_d, p->hlen}, {gxy, gl}, {p->ispi, 8}, {p->rspi, 8}, {&b1, 1}};
	ike1_prf(p->hash, p->skeyid, p->hlen, va, 5, p->sk_a);
	uint8_t ske[IKE_HASH_MAX];
	struct ike_iov ve[5] = {{p->sk_a, p->hlen}, {gxy, gl}, {p->ispi, 8}, {p->rspi, 8}, {&b2, 1}};
	ike1_prf(p->hash, p->skeyid, p->hlen, ve, 5, ske);
	if (p->keylen <= p->hlen) {
		memcpy(p->ekey, ske, p->keylen);
	} else { /* appendix B: K1 = prf(SKEYID_e, 0), K2 = prf(SKEYID_e, K1) */
		uint8_t k1[IKE_HASH_MAX], k2[IKE_HASH_MAX];
		struct ike_iov z = {&b0, 1};
		ike1_prf(p->hash, ske, p->hlen, &z, 1, k1);
		struct ike_iov z2 = {k1, p->hlen};
		ike1_prf(p->hash, ske, p->hlen, &z2, 1, k2);
		memcpy(p->ekey, k1, p->hlen);
		memcpy(p->ekey + p->hlen, k2, p->keylen - p->hlen);
	}
	uint8_t h[IKE_HASH_MAX];
	struct ike_iov vg[2] = {{p->gxi, p->gxlen}, {p->gxr, p->gxlen}};
	ike1_hash(p->hash, vg, 2, h);
	memcpy(p->iv, h, p->block);
	return true;
}

/* MM4 in (keys derived), MM5 out. */
static inline size_t v1p_mm5(struct v1peer *p, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	(void)cap;
	if (!v1p_mm4_keys(p, in, n))
		return 0;
	/* IDii and HASH_I (signed with signatures) */
	p->idb[0] = 1;
	p->idb[1] = 0;
	p->idb[2] = p->idb[3] = 0;
	memcpy(p->idb + 4, p->my_ip, 4);
	p->idblen = 8;
	if (p->auth == 3 && !p->id_type) {
		unsigned char *der = NULL;
		int l = i2d_X509_NAME(X509_get_subject_name(p->cert), &der);
		p->idb[0] = 9;
		memcpy(p->idb + 4, der, (size_t)l);
		p->idblen = 4 + (size_t)l;
		OPENSSL_free(der);
	} else if (p->auth == 3) {
		p->idb[0] = p->id_type;
		memcpy(p->idb + 4, p->id_text, strlen(p->id_text));
		p->idblen = 4 + strlen(p->id_text);
	}
	uint8_t hi[IKE_HASH_MAX];
	struct ike_iov vh[6] = {{p->gxi, p->gxlen}, {p->gxr, p->gxlen}, {p->ispi, 8}, {p->rspi, 8},
	                        {p->sai, p->sailen}, {p->idb, p->idblen}};
	ike1_prf(p->hash, p->skeyid, p->hlen, vh, 6, hi);
	struct ike_msg *m = p->m;
	ike_msg_init(m, 1, IKE1_EXCH_MAIN, 0, 0, p->ispi, p->rspi);
	struct ike_payload *id = ike_add_payload(m, IKE1_PL_ID, p->idb + 4, p->idblen - 4);
	id->id_type = p->idb[0];
	unsigned char *der = NULL;
	uint8_t sig[1024];
	size_t sl = sizeof sig;
	if (p->auth == 3) {
		if (!p->no_cert) {
			int l = i2d_X509(p->cert, &der);
			struct ike_payload *c = ike_add_payload(m, IKE1_PL_CERT, der, (size_t)l);
			c->id_type = 4;
		}
		/* RFC 2409: the hash "encoded as a private key encryption in PKCS #1 format" */
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, p->key, NULL);
		if (!c || EVP_PKEY_sign_init(c) <= 0 || EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) <= 0 ||
		    EVP_PKEY_sign(c, sig, &sl, hi, p->hlen) <= 0)
			sl = 0;
		EVP_PKEY_CTX_free(c);
		if (p->bad_sig)
			sig[sl / 2] ^= 1;
		ike_add_payload(m, IKE1_PL_SIG, sig, sl);
		if (p->cr_name) {
			struct ike_payload *cr = ike_add_payload(m, IKE1_PL_CR, p->cr_name, p->cr_len);
			cr->id_type = 4;
		}
	} else {
		ike_add_payload(m, IKE1_PL_HASH, hi, p->hlen);
	}
	uint8_t plain[4096];
	size_t len = ike_encode(m, plain, sizeof plain);
	OPENSSL_free(der);
	return len ? v1p_seal(p, plain, len, p->iv, out) : 0;
}

/* With signatures: SIG_R recovered with the key of the responder's certificate (the
 * first CERT), which must have been issued by p->resp_ca and be named by IDir. */
static inline bool v1p_mm6_sig(struct v1peer *p, const uint8_t *hr)
{
	const struct ike_msg *m = p->m;
	const struct ike_payload *cert = NULL, *sig = NULL, *id = &m->pl[0];
	for (unsigned i = 1; i < m->npl; i++) {
		if (m->pl[i].type == IKE1_PL_CERT && !cert)
			cert = &m->pl[i];
		if (m->pl[i].type == IKE1_PL_SIG)
			sig = &m->pl[i];
	}
	if (!cert || !sig || cert->id_type != 4 || id->id_type != 9)
		return false;
	const unsigned char *q = cert->data;
	X509 *x = d2i_X509(NULL, &q, (long)cert->data_len);
	q = id->data;
	X509_NAME *idn = d2i_X509_NAME(NULL, &q, (long)id->data_len);
	bool ok = x && idn && !X509_NAME_cmp(idn, X509_get_subject_name(x)) &&
	          (!p->resp_ca || X509_verify(x, X509_get0_pubkey(p->resp_ca)) == 1);
	uint8_t rec[1024];
	size_t rl = sizeof rec;
	EVP_PKEY_CTX *c = ok ? EVP_PKEY_CTX_new_from_pkey(NULL, X509_get0_pubkey(x), NULL) : NULL;
	ok = ok && c && EVP_PKEY_verify_recover_init(c) > 0 &&
	     EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) > 0 &&
	     EVP_PKEY_verify_recover(c, rec, &rl, sig->data, sig->data_len) > 0 &&
	     rl == p->hlen && !memcmp(rec, hr, p->hlen);
	EVP_PKEY_CTX_free(c);
	X509_NAME_free(idn);
	X509_free(p->resp_cert);
	p->resp_cert = ok ? x : NULL;
	if (!ok)
		X509_free(x);
	return ok;
}

/* MM6: decrypts and checks HASH_R (or SIG_R). */
static inline bool v1p_mm6(struct v1peer *p, const uint8_t *in, size_t n)
{
	if (!v1p_open(p, in, n, p->iv) || p->m->npl < 2 || p->m->pl[0].type != IKE1_PL_ID)
		return false;
	uint8_t hr[IKE_HASH_MAX];
	struct ike_iov v[6] = {{p->gxr, p->gxlen}, {p->gxi, p->gxlen}, {p->rspi, 8}, {p->ispi, 8},
	                       {p->sai, p->sailen}, {p->m->pl[0].body, p->m->pl[0].body_len}};
	ike1_prf(p->hash, p->skeyid, p->hlen, v, 6, hr);
	if (p->auth == 3)
		return v1p_mm6_sig(p, hr);
	return p->m->pl[1].type == IKE1_PL_HASH && p->m->pl[1].data_len == p->hlen &&
	       !memcmp(hr, p->m->pl[1].data, p->hlen);
}

static inline void v1p_p2iv(struct v1peer *p, uint32_t msgid, uint8_t *iv)
{
	uint8_t mid[4], h[IKE_HASH_MAX];
	v1p_put32(mid, msgid);
	struct ike_iov v[2] = {{p->iv, p->block}, {mid, 4}};
	ike1_hash(p->hash, v, 2, h);
	memcpy(iv, h, p->block);
}

/* Encode p->m (first payload a HASH), fill HASH(1) = prf(SKEYID_a, M-ID | rest), seal. */
static inline size_t v1p_protect(struct v1peer *p, uint8_t *iv, uint8_t *out)
{
	uint8_t plain[2048];
	size_t len = ike_encode(p->m, plain, sizeof plain);
	uint8_t mid[4];
	v1p_put32(mid, p->m->msgid);
	size_t from = IKE_HDR_LEN + 4 + p->hlen;
	struct ike_iov v[2] = {{mid, 4}, {plain + from, len - from}};
	ike1_prf(p->hash, p->sk_a, p->hlen, v, 2, plain + IKE_HDR_LEN + 4);
	return v1p_seal(p, plain, len, iv, out);
}

static inline size_t v1p_qm1(struct v1peer *p, uint32_t msgid, uint32_t spi_i, uint8_t *out)
{
	p->msgid = msgid;
	p->spi_i = spi_i;
	for (int i = 0; i < 32; i++)
		p->qni[i] = (uint8_t)(msgid + i);
	v1p_p2iv(p, msgid, p->qiv);
	struct ike_msg *m = p->m;
	uint8_t zero[IKE_HASH_MAX] = {0}, spi[4], life[4];
	v1p_put32(spi, spi_i);
	v1p_put32(life, p->q_life_s);
	ike_msg_init(m, 1, IKE1_EXCH_QUICK, p->q_commit ? IKE1_FLAG_C : 0, msgid, p->ispi, p->rspi);
	ike_add_payload(m, IKE1_PL_HASH, zero, p->hlen);
	struct ike_payload *sa = ike_add_payload(m, IKE1_PL_SA, NULL, 0);
	struct ike_proposal *pr = ike_add_proposal(m, sa, 1, 3, spi, 4);
	ike_add_transform(m, pr, 0, (uint16_t)p->q_xf);
	ike_add_attr(m, 1, true, 1, NULL, 0);
	ike_add_attr(m, 2, false, 0, life, 4);
	ike_add_attr(m, 4, true, p->q_encap, NULL, 0);
	if (p->q_auth)
		ike_add_attr(m, 5, true, p->q_auth, NULL, 0);
	if (p->q_bits)
		ike_add_attr(m, 6, true, p->q_bits, NULL, 0);
	if (p->q_group)
		ike_add_attr(m, 3, true, p->q_group, NULL, 0);
	ike_add_payload(m, IKE1_PL_NONCE, p->qni, 32);
	uint8_t qgx[IKE_DH_MAX];
	if (p->q_group) {
		ike_dh_free(p->qdh);
		p->qdh = ike_dh_new(p->q_group);
		size_t l = ike_dh_public(p->qdh, qgx, sizeof qgx);
		ike_add_payload(m, IKE1_PL_KE, qgx, l);
	}
	struct ike_payload *ci = ike_add_payload(m, IKE1_PL_ID, p->my_ip, 4);
	ci->id_type = 1; ci->id_proto = p->q_proto; ci->id_port = p->q_port_i;
	struct ike_payload *cr = ike_add_payload(m, IKE1_PL_ID, p->resp.ip, 4);
	cr->id_type = 1; cr->id_proto = p->q_proto; cr->id_port = p->q_port_r;
	if (p->q_encap == 4) {
		struct ike_payload *oa = ike_add_payload(m, IKE1_PL_NATOA, p->my_ip, 4);
		oa->id_type = 1;
		oa = ike_add_payload(m, IKE1_PL_NATOA, p->resp.ip, 4);
		oa->id_type = 1;
	}
	return v1p_protect(p, p->qiv, out);
}

/* QM2 in (HASH(2) checked, the responder's SPI taken), QM3 out; 0 when QM2 is wrong. */
static inline size_t v1p_qm3(struct v1peer *p, const uint8_t *in, size_t n, uint8_t *out)
{
	if (!v1p_open(p, in, n, p->qiv) || p->m->pl[0].type != IKE1_PL_HASH)
		return 0;
	const struct ike_msg *m = p->m;
	size_t from = m->pl[0].off + m->pl[0].len;
	size_t to = m->pl[m->npl - 1].off + m->pl[m->npl - 1].len;
	uint8_t mid[4], h[IKE_HASH_MAX];
	v1p_put32(mid, p->msgid);
	struct ike_iov v[3] = {{mid, 4}, {p->qni, 32}, {p->pt + from, to - from}};
	ike1_prf(p->hash, p->sk_a, p->hlen, v, 3, h);
	if (memcmp(h, m->pl[0].data, p->hlen))
		return 0;
	p->spi_r = 0;
	p->q_gxylen = 0;
	for (unsigned i = 1; i < m->npl; i++) {
		const struct ike_payload *pl = &m->pl[i];
		if (pl->type == IKE1_PL_SA && pl->prop_count)
			p->spi_r = v1p_get32(m->props[pl->prop_first].spi);
		if (pl->type == IKE1_PL_NONCE) {
			memcpy(p->qnr, pl->data, pl->data_len);
			p->qnrlen = pl->data_len;
		}
		if (pl->type == IKE1_PL_KE && p->qdh)
			p->q_gxylen = ike_dh_shared(p->qdh, pl->data, pl->data_len, p->q_gxy, sizeof p->q_gxy);
	}
	static const uint8_t zero = 0;
	struct ike_msg *o = p->m;
	uint8_t qnr[256];
	size_t qnrlen = p->qnrlen;
	memcpy(qnr, p->qnr, qnrlen);
	ike_msg_init(o, 1, IKE1_EXCH_QUICK, 0, p->msgid, p->ispi, p->rspi);
	struct ike_iov w[4] = {{&zero, 1}, {mid, 4}, {p->qni, 32}, {qnr, qnrlen}};
	uint8_t h3[IKE_HASH_MAX];
	ike1_prf(p->hash, p->sk_a, p->hlen, w, 4, h3);
	ike_add_payload(o, IKE1_PL_HASH, h3, p->hlen);
	uint8_t plain[256];
	size_t len = ike_encode(o, plain, sizeof plain);
	return v1p_seal(p, plain, len, p->qiv, out);
}

/* KEYMAT of the SA with `spi` as this initiator computes it (RFC 2409 5.5). */
static inline void v1p_keymat(const struct v1peer *p, uint32_t spi, uint8_t *out, size_t n)
{
	uint8_t proto = 3, sb[4], k[IKE_HASH_MAX];
	v1p_put32(sb, spi);
	size_t done = 0;
	bool first = true;
	while (done < n) {
		struct ike_iov v[6];
		size_t nv = 0;
		if (!first)
			v[nv++] = (struct ike_iov){k, p->hlen};
		if (p->q_gxylen)
			v[nv++] = (struct ike_iov){p->q_gxy, p->q_gxylen};
		v[nv++] = (struct ike_iov){&proto, 1};
		v[nv++] = (struct ike_iov){sb, 4};
		v[nv++] = (struct ike_iov){p->qni, 32};
		v[nv++] = (struct ike_iov){p->qnr, p->qnrlen};
		ike1_prf(p->hash, p->sk_d, p->hlen, v, nv, k);
		size_t t = n - done < p->hlen ? n - done : p->hlen;
		memcpy(out + done, k, t);
		done += t;
		first = false;
	}
}

/* A protected Informational with one notify (or delete when `del`). */
static inline size_t v1p_info(struct v1peer *p, uint32_t msgid, bool del, uint8_t protocol,
                              uint16_t notify, const uint8_t *spi, uint8_t spi_size,
                              const uint8_t *data, size_t dlen, uint8_t *out)
{
	uint8_t iv[16], zero[IKE_HASH_MAX] = {0};
	v1p_p2iv(p, msgid, iv);
	struct ike_msg *m = p->m;
	ike_msg_init(m, 1, IKE1_EXCH_INFO, 0, msgid, p->ispi, p->rspi);
	ike_add_payload(m, IKE1_PL_HASH, zero, p->hlen);
	struct ike_payload *pl = ike_add_payload(m, del ? IKE1_PL_D : IKE1_PL_N, data, dlen);
	pl->protocol = protocol;
	pl->spi_size = spi_size;
	if (del) {
		pl->nspi = 1;
		pl->data = spi;
		pl->data_len = spi_size;
	} else {
		pl->notify = notify;
		pl->spi = spi;
	}
	return v1p_protect(p, iv, out);
}

/* Decrypt an Informational from the responder (its own IV from the message ID). */
static inline bool v1p_open_info(struct v1peer *p, const uint8_t *in, size_t n)
{
	uint8_t iv[16];
	if (n < IKE_HDR_LEN)
		return false;
	v1p_p2iv(p, v1p_get32(in + 20), iv);
	return v1p_open(p, in, n, iv);
}

#endif
