/* A small IKEv2 initiator written from RFC 7296 for the responder's tests and fuzzer: it
 * builds IKE_SA_INIT, derives the keys the way an initiator does and wraps payload chains
 * in SK payloads (or SKF fragments), and opens the responder's protected answers. One
 * proposal, IPv4, AES-CBC or AES-GCM. */
#ifndef VNET_TEST_IKEV2_PEER_H
#define VNET_TEST_IKEV2_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike.h"
#include "ike/ike_crypto.h"
#include "ike/ikev2.h"

struct v2peer {
	/* what it offers */
	uint16_t encr, keybits, integ, prf, group;
	uint16_t ke_group;           /* the group of its KE (normally `group`) */
	bool frag;                   /* announces FRAGMENTATION_SUPPORTED */
	uint8_t my_ip[4];            /* the address it believes it has (NAT-D) */
	uint16_t my_port;
	struct ikev2_addr resp;      /* the responder as it addresses it */
	uint8_t cookie[64];          /* a COOKIE to echo */
	size_t cookie_len;

	/* state */
	uint8_t spi_i[8], spi_r[8];
	struct ike_dh *dh;
	uint8_t ni[32], nr[256];
	size_t nr_len;
	uint8_t init_req[4096], init_resp[4096];
	size_t init_req_len, init_resp_len;
	size_t prf_len, ek, ak, icv, ivl, block;
	bool aead;
	uint8_t sk_d[64], sk_ai[64], sk_ar[64], sk_ei[36], sk_er[36], sk_pi[64], sk_pr[64];
	uint32_t mid;
	bool orig_resp;              /* the original responder of the SA (the other side
	                                rekeyed it): no I flag, SK_er/SK_ar its keys */
	uint16_t notify;             /* the notify of the last unprotected answer */
	uint8_t notify_data[64];
	size_t notify_len;
	struct ike_msg *m;
	uint8_t pt[16384];
	uint8_t tx[16384];
};

static inline void v2p_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void v2p_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline uint32_t v2p_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Deterministic bytes (the tests do not need good randomness). */
static inline void v2p_fill(uint8_t *b, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + 37 * i + (i >> 3));
}

/* AES-CBC-128 / SHA2-256 / MODP-2048 by default. */
static inline void v2p_init(struct v2peer *p)
{
	memset(p, 0, sizeof *p);
	p->encr = IKE2_ENCR_AES_CBC;
	p->keybits = 128;
	p->integ = IKE2_INTEG_HMAC_SHA2_256_128;
	p->prf = IKE2_PRF_HMAC_SHA2_256;
	p->group = 14;
	p->ke_group = 14;
	p->frag = true;
	memcpy(p->my_ip, "\x0a\x00\x00\x02", 4);
	p->my_port = 500;
	p->resp = (struct ikev2_addr){.family = 4, .ip = {10, 0, 0, 1}, .port = 500};
	v2p_fill(p->spi_i, 8, 0x11);
	v2p_fill(p->ni, 32, 0x21);
	p->m = (struct ike_msg *)malloc(sizeof *p->m);
}

static inline void v2p_free(struct v2peer *p)
{
	ike_dh_free(p->dh);
	p->dh = NULL;
	free(p->m);
	p->m = NULL;
}

static inline void v2p_natd(const uint8_t spi_i[8], const uint8_t spi_r[8], const uint8_t ip[4],
                            uint16_t port, uint8_t out[20])
{
	uint8_t pb[2];
	v2p_put16(pb, port);
	struct ike_iov v[4] = {{spi_i, 8}, {spi_r, 8}, {ip, 4}, {pb, 2}};
	ike1_hash(IKE1_HASH_SHA1, v, 4, out);
}

/* IKE_SA_INIT request: [N(COOKIE)], SA, KE, Ni, N(NAT-D) x2, [N(FRAGMENTATION_SUPPORTED)] */
static inline size_t v2p_init_req(struct v2peer *p, uint8_t *out, size_t cap)
{
	ike_dh_free(p->dh);
	p->dh = ike_dh_new(p->ke_group);
	static uint8_t ke[IKE_DH_MAX];
	size_t kl = p->dh ? ike_dh_public(p->dh, ke, sizeof ke) : 0;
	static uint8_t hs[20], hd[20];
	static const uint8_t zero[8];
	v2p_natd(p->spi_i, zero, p->my_ip, p->my_port, hs);
	v2p_natd(p->spi_i, zero, p->resp.ip, p->resp.port, hd);
	struct ike_msg *m = p->m;
	ike_msg_init(m, 2, IKE2_EXCH_SA_INIT, IKE2_FLAG_I, 0, p->spi_i, NULL);
	if (p->cookie_len) {
		struct ike_payload *c = ike_add_payload(m, IKE2_PL_N, p->cookie, p->cookie_len);
		c->notify = 16390;
	}
	struct ike_payload *s = ike_add_payload(m, IKE2_PL_SA, NULL, 0);
	struct ike_proposal *pr = ike_add_proposal(m, s, 1, 1, NULL, 0);
	ike_add_transform(m, pr, 1, p->encr);
	if (p->encr != IKE2_ENCR_3DES)
		ike_add_attr(m, 14, true, p->keybits, NULL, 0);
	ike_add_transform(m, pr, 2, p->prf);
	if (p->integ)
		ike_add_transform(m, pr, 3, p->integ);
	ike_add_transform(m, pr, 4, p->group);
	struct ike_payload *k = ike_add_payload(m, IKE2_PL_KE, ke, kl);
	k->group = p->ke_group;
	ike_add_payload(m, IKE2_PL_NONCE, p->ni, 32);
	ike_add_payload(m, IKE2_PL_N, hs, 20)->notify = 16388;
	ike_add_payload(m, IKE2_PL_N, hd, 20)->notify = 16389;
	if (p->frag)
		ike_add_payload(m, IKE2_PL_N, NULL, 0)->notify = 16430;
	size_t n = ike_encode(m, out, cap);
	if (n && n <= sizeof p->init_req) {
		memcpy(p->init_req, out, n);
		p->init_req_len = n;
	}
	p->mid = 1;
	return n;
}

/* {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi |
 * SPIr) with p's SPIs. */
static inline bool v2p_keys(struct v2peer *p, const uint8_t *seed, const uint8_t *ni,
                            size_t ni_len, const uint8_t *nr, size_t nr_len)
{
	size_t el = p->ek + (p->aead ? 4 : 0);
	uint8_t km[512];
	struct ike_iov s[4] = {{ni, ni_len}, {nr, nr_len}, {p->spi_i, 8}, {p->spi_r, 8}};
	size_t total = 3 * p->prf_len + 2 * p->ak + 2 * el;
	if (!ike2_prf_plus(p->prf, seed, p->prf_len, s, 4, km, total))
		return false;
	size_t at = 0;
	memcpy(p->sk_d, km + at, p->prf_len), at += p->prf_len;
	memcpy(p->sk_ai, km + at, p->ak), at += p->ak;
	memcpy(p->sk_ar, km + at, p->ak), at += p->ak;
	memcpy(p->sk_ei, km + at, el), at += el;
	memcpy(p->sk_er, km + at, el), at += el;
	memcpy(p->sk_pi, km + at, p->prf_len), at += p->prf_len;
	memcpy(p->sk_pr, km + at, p->prf_len);
	return true;
}

/* The IKE_SA_INIT response: true when it carries SA, KE and Nr (keys derived); else the
 * notify it carries is in p->notify. */
static inline bool v2p_init_resp(struct v2peer *p, const uint8_t *buf, size_t len)
{
	struct diag_err err;
	p->notify = 0;
	if (ike_decode(buf, len, p->m, &err) < 0)
		return false;
	const struct ike_payload *ke = NULL, *nr = NULL;
	for (unsigned i = 0; i < p->m->npl; i++) {
		const struct ike_payload *q = &p->m->pl[i];
		if (q->type == IKE2_PL_KE)
			ke = q;
		else if (q->type == IKE2_PL_NONCE)
			nr = q;
		else if (q->type == IKE2_PL_N && q->notify < 16384) {
			p->notify = q->notify;
			p->notify_len = q->data_len < sizeof p->notify_data ? q->data_len : 0;
			memcpy(p->notify_data, q->data, p->notify_len);
		} else if (q->type == IKE2_PL_N && q->notify == 16390 && q->data_len <= 64) {
			p->notify = 16390;
			memcpy(p->cookie, q->data, q->data_len);
			p->cookie_len = q->data_len;
		}
	}
	if (!ke || !nr || nr->data_len > sizeof p->nr || len > sizeof p->init_resp)
		return false;
	memcpy(p->spi_r, p->m->rspi, 8);
	memcpy(p->nr, nr->data, nr->data_len);
	p->nr_len = nr->data_len;
	memcpy(p->init_resp, buf, len);
	p->init_resp_len = len;
	uint8_t gir[IKE_DH_MAX], seed[IKE_HASH_MAX];
	size_t gl = ike_dh_shared(p->dh, ke->data, ke->data_len, gir, sizeof gir);
	p->aead = p->encr == IKE2_ENCR_AES_GCM_16;
	p->prf_len = ike2_prf_len(p->prf);
	p->ek = (p->encr == IKE2_ENCR_3DES ? 24 : p->keybits / 8u);
	p->ak = p->aead ? 0 : ike2_integ_keylen(p->integ);
	p->icv = p->aead ? 16 : ike2_integ_icvlen(p->integ);
	p->block = p->aead ? 4 : p->encr == IKE2_ENCR_3DES ? 8 : 16;
	p->ivl = p->aead ? 8 : p->block;
	return gl && ike2_skeyseed(p->prf, p->ni, 32, p->nr, p->nr_len, gir, gl, seed) &&
	       v2p_keys(p, seed, p->ni, 32, p->nr, p->nr_len);
}

/* An IKE SA rekey (RFC 7296 2.18): the new SA's keys from the old SK_d, g^ir of the
 * exchange and its nonces (those of the rekey's initiator first), its SPIs in header order;
 * `orig_resp` when the other side rekeyed (it is the new SA's original initiator). Message
 * IDs start again at 0. */
static inline bool v2p_rekey(struct v2peer *p, const uint8_t spi_i[8], const uint8_t spi_r[8],
                             const uint8_t *gir, size_t gl, const uint8_t *ni, size_t ni_len,
                             const uint8_t *nr, size_t nr_len, bool orig_resp)
{
	uint8_t seed[IKE_HASH_MAX];
	if (!ike2_skeyseed_rekey(p->prf, p->sk_d, p->prf_len, gir, gl, ni, ni_len, nr, nr_len, seed))
		return false;
	memcpy(p->spi_i, spi_i, 8);
	memcpy(p->spi_r, spi_r, 8);
	p->orig_resp = orig_resp;
	p->mid = 0;
	return v2p_keys(p, seed, ni, ni_len, nr, nr_len);
}

/* One protected datagram of ours: inner[0..n) (first payload `next`) in SK, or in SKF
 * fragment num/total when total > 0. */
static inline size_t v2p_seal(struct v2peer *p, uint8_t exch, uint32_t msgid, bool response,
                              uint8_t next, const uint8_t *inner, size_t n, uint16_t num,
                              uint16_t total, uint8_t *out, size_t cap)
{
	size_t hdr = 28 + 4 + (total ? 4 : 0);
	size_t pad = p->aead ? 0 : (p->block - (n + 1) % p->block) % p->block;
	size_t clen = n + pad + 1, len = hdr + p->ivl + clen + p->icv;
	if (len > cap)
		return 0;
	memcpy(out, p->spi_i, 8);
	memcpy(out + 8, p->spi_r, 8);
	out[16] = total ? IKE2_PL_SKF : IKE2_PL_SK;
	out[17] = 0x20;
	out[18] = exch;
	out[19] = (uint8_t)((p->orig_resp ? 0 : IKE2_FLAG_I) | (response ? IKE2_FLAG_R : 0));
	v2p_put32(out + 20, msgid);
	v2p_put32(out + 24, (uint32_t)len);
	out[28] = next;
	out[29] = 0;
	v2p_put16(out + 30, (uint16_t)(len - 28));
	if (total) {
		v2p_put16(out + 32, num);
		v2p_put16(out + 34, total);
	}
	uint8_t *iv = out + hdr, *ct = iv + p->ivl, *icv = ct + clen;
	v2p_fill(iv, p->ivl, (uint8_t)(msgid + num));
	memcpy(ct, inner, n);
	memset(ct + n, 0, pad);
	ct[n + pad] = (uint8_t)pad;
	const uint8_t *ek = p->orig_resp ? p->sk_er : p->sk_ei;
	const uint8_t *ak = p->orig_resp ? p->sk_ar : p->sk_ai;
	if (p->aead) {
		if (!ike_gcm(ek, p->ek, ek + p->ek, iv, out, hdr, ct, clen, ct, icv, true))
			return 0;
	} else {
		unsigned cbc = p->encr == IKE2_ENCR_3DES ? IKE1_ENC_3DES : IKE1_ENC_AES_CBC;
		if (!ike1_cbc(cbc, ek, p->ek, iv, ct, clen, ct, true))
			return 0;
		struct ike_iov v = {out, (size_t)(icv - out)};
		if (!ike2_integ(p->integ, ak, &v, 1, icv))
			return 0;
	}
	return len;
}

/* Encode m (its payloads go inside SK) and seal it as request msgid. */
static inline size_t v2p_request(struct v2peer *p, struct ike_msg *m, uint8_t *out, size_t cap)
{
	size_t n = ike_encode(m, p->tx, sizeof p->tx);
	if (!n)
		return 0;
	return v2p_seal(p, m->exchange, m->msgid, false, p->tx[16], p->tx + 28, n - 28, 0, 0, out,
	                cap);
}

/* Open a protected answer of the responder into p->m. false when it does not verify. */
static inline bool v2p_open(struct v2peer *p, const uint8_t *buf, size_t len)
{
	struct diag_err err;
	if (ike_decode(buf, len, p->m, &err) < 0 || !p->m->npl)
		return false;
	const struct ike_payload *sk = &p->m->pl[p->m->npl - 1];
	if (sk->type != IKE2_PL_SK || sk->data_len < p->ivl + p->icv + 1)
		return false;
	const uint8_t *iv = sk->data, *ct = iv + p->ivl;
	size_t clen = sk->data_len - p->ivl - p->icv;
	const uint8_t *icv = ct + clen;
	uint8_t *plain = p->pt + 28;
	const uint8_t *ek = p->orig_resp ? p->sk_ei : p->sk_er;
	const uint8_t *ak = p->orig_resp ? p->sk_ai : p->sk_ar;
	if (p->aead) {
		uint8_t tag[16];
		memcpy(tag, icv, 16);
		if (!ike_gcm(ek, p->ek, ek + p->ek, iv, buf, (size_t)(iv - buf), ct, clen,
		             plain, tag, false))
			return false;
	} else {
		uint8_t want[64];
		struct ike_iov v = {buf, (size_t)(icv - buf)};
		unsigned cbc = p->encr == IKE2_ENCR_3DES ? IKE1_ENC_3DES : IKE1_ENC_AES_CBC;
		if (!ike2_integ(p->integ, ak, &v, 1, want) || memcmp(want, icv, p->icv) ||
		    !ike1_cbc(cbc, ek, p->ek, iv, ct, clen, plain, false))
			return false;
	}
	size_t pad = plain[clen - 1];
	if (pad + 1 > clen)
		return false;
	size_t n = clen - pad - 1;
	memcpy(p->pt, buf, 28);
	p->pt[16] = sk->inner_next;
	v2p_put32(p->pt + 24, (uint32_t)(28 + n));
	return ike_decode(p->pt, 28 + n, p->m, &err) == 0;
}

/* The payload of a type in p->m (after v2p_open), NULL when absent. */
static inline const struct ike_payload *v2p_find(const struct v2peer *p, uint8_t type)
{
	for (unsigned i = 0; i < p->m->npl; i++)
		if (p->m->pl[i].type == type)
			return &p->m->pl[i];
	return NULL;
}

/* AUTH of the initiator with a shared key: prf(prf(key, "Key Pad for IKEv2"),
 * RealMessage1 | Nr | prf(SK_pi, IDi')). */
static inline void v2p_auth(const struct v2peer *p, const uint8_t *key, size_t kl,
                            const uint8_t *idi, size_t idl, uint8_t *out)
{
	uint8_t maced[64], inner[64];
	struct ike_iov idv = {idi, idl}, pad = {"Key Pad for IKEv2", 17};
	ike2_prf(p->prf, p->sk_pi, p->prf_len, &idv, 1, maced);
	ike2_prf(p->prf, key, kl, &pad, 1, inner);
	struct ike_iov v[3] = {{p->init_req, p->init_req_len}, {p->nr, p->nr_len}, {maced, p->prf_len}};
	ike2_prf(p->prf, inner, p->prf_len, v, 3, out);
}

/* The responder's AUTH with a shared key, as the initiator checks it. */
static inline void v2p_auth_r(const struct v2peer *p, const uint8_t *key, size_t kl,
                              const uint8_t *idr, size_t idl, uint8_t *out)
{
	uint8_t maced[64], inner[64];
	struct ike_iov idv = {idr, idl}, pad = {"Key Pad for IKEv2", 17};
	ike2_prf(p->prf, p->sk_pr, p->prf_len, &idv, 1, maced);
	ike2_prf(p->prf, key, kl, &pad, 1, inner);
	struct ike_iov v[3] = {{p->init_resp, p->init_resp_len}, {p->ni, 32}, {maced, p->prf_len}};
	ike2_prf(p->prf, inner, p->prf_len, v, 3, out);
}

#endif
