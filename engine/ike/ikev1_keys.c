/* IKEv1 keys, hashes and message protection shared by both ends. See ikev1_keys.h. */
#include "ike/ikev1_keys.h"
#include "ike/ike_bytes.h"

#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>

const uint8_t ike1_vid_natt_rfc[16] = {0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45,
                                       0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f};
const uint8_t ike1_vid_dpd[16] = {0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9,
                                  0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00};

bool ike1_keys_init(struct ike1_keys *k, unsigned enc, unsigned keybits, unsigned hash)
{
	memset(k, 0, sizeof *k);
	k->enc = enc;
	k->hash = hash;
	k->hlen = ike1_hash_len(hash);
	k->block = ike1_block(enc);
	k->keylen = enc == IKE1_ENC_3DES ? 24 : keybits / 8u;
	return k->hlen && k->block && ike1_enc_keylen_ok(enc, k->keylen);
}

bool ike1_keys_psk(struct ike1_keys *k, const uint8_t *psk, size_t psk_len, const uint8_t *ni,
                   size_t ni_len, const uint8_t *nr, size_t nr_len, const uint8_t *gxy,
                   size_t gxy_len, const uint8_t *gxi, const uint8_t *gxr, size_t gx_len,
                   const uint8_t ispi[8], const uint8_t rspi[8])
{
	size_t h = k->hlen;
	uint8_t skeyid_e[IKE_HASH_MAX];
	static const uint8_t b0 = 0, b1 = 1, b2 = 2;
	struct ike_iov nonces[2] = {{ni, ni_len}, {nr, nr_len}};
	struct ike_iov d[4] = {{gxy, gxy_len}, {ispi, 8}, {rspi, 8}, {&b0, 1}};
	struct ike_iov a[5] = {{k->skeyid_d, h}, {gxy, gxy_len}, {ispi, 8}, {rspi, 8}, {&b1, 1}};
	struct ike_iov e[5] = {{k->skeyid_a, h}, {gxy, gxy_len}, {ispi, 8}, {rspi, 8}, {&b2, 1}};
	bool ok = h && ike1_prf(k->hash, psk, psk_len, nonces, 2, k->skeyid) &&
	          ike1_prf(k->hash, k->skeyid, h, d, 4, k->skeyid_d) &&
	          ike1_prf(k->hash, k->skeyid, h, a, 5, k->skeyid_a) &&
	          ike1_prf(k->hash, k->skeyid, h, e, 5, skeyid_e);
	if (ok && k->keylen <= h) {
		memcpy(k->ekey, skeyid_e, k->keylen);
	} else if (ok) { /* appendix B: K1 = prf(SKEYID_e, 0), K2 = prf(SKEYID_e, K1) ... */
		struct ike_iov z = {&b0, 1};
		ok = k->keylen <= sizeof k->ekey &&
		     ike1_expand(k->hash, skeyid_e, h, &z, 1, false, k->ekey, k->keylen);
	}
	uint8_t iv[IKE_HASH_MAX];
	struct ike_iov g[2] = {{gxi, gx_len}, {gxr, gx_len}};
	ok = ok && ike1_hash(k->hash, g, 2, iv) && k->block <= sizeof k->iv && k->block <= h;
	if (ok)
		memcpy(k->iv, iv, k->block);
	OPENSSL_cleanse(skeyid_e, sizeof skeyid_e);
	return ok;
}

bool ike1_hash_auth(const struct ike1_keys *k, bool initiator, const uint8_t *gxi,
                    const uint8_t *gxr, size_t gx_len, const uint8_t ispi[8],
                    const uint8_t rspi[8], const uint8_t *sai, size_t sai_len,
                    const uint8_t *idb, size_t idb_len, uint8_t *out)
{
	struct ike_iov v[6] = {{initiator ? gxi : gxr, gx_len}, {initiator ? gxr : gxi, gx_len},
	                       {initiator ? ispi : rspi, 8}, {initiator ? rspi : ispi, 8},
	                       {sai, sai_len}, {idb, idb_len}};
	return ike1_prf(k->hash, k->skeyid, k->hlen, v, 6, out);
}

bool ike1_natd_hash(unsigned hash, const uint8_t ispi[8], const uint8_t rspi[8],
                    const uint8_t *ip, size_t ip_len, uint16_t port, uint8_t *out)
{
	uint8_t pb[2] = {(uint8_t)(port >> 8), (uint8_t)port};
	struct ike_iov v[4] = {{ispi, 8}, {rspi, 8}, {ip, ip_len}, {pb, 2}};
	return ike1_hash(hash, v, 4, out);
}

bool ike1_p2_iv(const struct ike1_keys *k, uint32_t msgid, uint8_t *iv)
{
	uint8_t mid[4], d[IKE_HASH_MAX];
	ike_put32(mid, msgid);
	struct ike_iov v[2] = {{k->iv, k->block}, {mid, 4}};
	if (!ike1_hash(k->hash, v, 2, d))
		return false;
	memcpy(iv, d, k->block);
	return true;
}

size_t ike1_seal(const struct ike1_keys *k, const uint8_t *msg, size_t len, uint8_t *iv,
                 uint8_t *out, size_t cap)
{
	if (len < IKE_HDR_LEN || !k->block)
		return 0;
	size_t body = len - IKE_HDR_LEN;
	size_t padded = (body + k->block - 1) / k->block * k->block;
	if (!padded || IKE_HDR_LEN + padded > cap)
		return 0;
	memmove(out, msg, len);
	memset(out + len, 0, padded - body);
	if (!ike1_cbc(k->enc, k->ekey, k->keylen, iv, out + IKE_HDR_LEN, padded, out + IKE_HDR_LEN,
	              true))
		return 0;
	memcpy(iv, out + IKE_HDR_LEN + padded - k->block, k->block);
	out[19] |= IKE1_FLAG_E;
	ike_put32(out + 24, (uint32_t)(IKE_HDR_LEN + padded));
	return IKE_HDR_LEN + padded;
}

size_t ike1_unseal(const struct ike1_keys *k, const struct ike_msg *m, const uint8_t *raw,
                   size_t len, const uint8_t *iv, uint8_t *next_iv, uint8_t *out, size_t cap)
{
	if (!m->npl || !m->pl[0].encrypted || !k->block)
		return 0;
	const struct ike_payload *e = &m->pl[0];
	size_t n = e->data_len;
	if (!n || n % k->block || e->data < raw || e->data + n > raw + len ||
	    IKE_HDR_LEN + n > cap)
		return 0;
	if (!ike1_cbc(k->enc, k->ekey, k->keylen, iv, e->data, n, out + IKE_HDR_LEN, false))
		return 0;
	memcpy(next_iv, e->data + n - k->block, k->block);
	memcpy(out, raw, IKE_HDR_LEN);
	out[19] &= (uint8_t)~IKE1_FLAG_E;
	ike_put32(out + 24, (uint32_t)(IKE_HDR_LEN + n));
	return IKE_HDR_LEN + n;
}

/* The bytes a phase-2 HASH covers: every payload after the first (the HASH) up to the
 * end of the last, padding excluded. */
static bool after_hash(const struct ike_msg *m, const uint8_t *base, const uint8_t **p,
                       size_t *n)
{
	if (!m->npl || m->pl[0].type != IKE1_PL_HASH)
		return false;
	size_t from = m->pl[0].off + m->pl[0].len;
	const struct ike_payload *last = &m->pl[m->npl - 1];
	size_t to = last->off + last->len;
	if (to < from)
		return false;
	*p = base + from;
	*n = to - from;
	return true;
}

size_t ike1_protect(const struct ike1_keys *k, const struct ike_msg *o, const uint8_t *ni,
                    size_t ni_len, uint8_t *iv, uint8_t *scratch, size_t scratch_cap,
                    uint8_t *out, size_t cap)
{
	size_t len = ike_encode(o, scratch, scratch_cap);
	size_t from = IKE_HDR_LEN + 4 + k->hlen;
	if (!len || len < from || !o->npl || o->pl[0].type != IKE1_PL_HASH ||
	    o->pl[0].data_len != k->hlen)
		return 0;
	uint8_t mid[4];
	ike_put32(mid, o->msgid);
	struct ike_iov v[3];
	size_t nv = 0;
	v[nv++] = (struct ike_iov){mid, 4};
	if (ni)
		v[nv++] = (struct ike_iov){ni, ni_len};
	v[nv++] = (struct ike_iov){scratch + from, len - from};
	if (!ike1_prf(k->hash, k->skeyid_a, k->hlen, v, nv, scratch + IKE_HDR_LEN + 4))
		return 0;
	return ike1_seal(k, scratch, len, iv, out, cap);
}

bool ike1_hash_check(const struct ike1_keys *k, const struct ike_msg *m, const uint8_t *pt,
                     const uint8_t *ni, size_t ni_len)
{
	const uint8_t *p;
	size_t n;
	if (!after_hash(m, pt, &p, &n) || m->pl[0].data_len != k->hlen)
		return false;
	uint8_t mid[4], h[IKE_HASH_MAX];
	ike_put32(mid, m->msgid);
	struct ike_iov v[3];
	size_t nv = 0;
	v[nv++] = (struct ike_iov){mid, 4};
	if (ni)
		v[nv++] = (struct ike_iov){ni, ni_len};
	v[nv++] = (struct ike_iov){p, n};
	return ike1_prf(k->hash, k->skeyid_a, k->hlen, v, nv, h) &&
	       !CRYPTO_memcmp(h, m->pl[0].data, k->hlen);
}

bool ike1_hash3(const struct ike1_keys *k, uint32_t msgid, const uint8_t *ni, size_t ni_len,
                const uint8_t *nr, size_t nr_len, uint8_t *out)
{
	static const uint8_t zero = 0;
	uint8_t mid[4];
	ike_put32(mid, msgid);
	struct ike_iov v[4] = {{&zero, 1}, {mid, 4}, {ni, ni_len}, {nr, nr_len}};
	return ike1_prf(k->hash, k->skeyid_a, k->hlen, v, 4, out);
}

bool ike1_keymat_esp(const struct ike1_keys *k, uint16_t xform, uint16_t keybits,
                     uint16_t auth, const uint8_t *gxy, size_t gxy_len, uint32_t spi,
                     const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                     struct esp_sa *e)
{
	memset(e, 0, sizeof *e);
	e->spi = spi;
	size_t ek = xform == IKE1_ESP_3DES ? 24 : keybits / 8u;
	if (xform == IKE1_ESP_AES_GCM_16) {
		e->enc = ESPE_AES_GCM;
		e->gcm_icv = 16;
		ek += 4; /* salt */
	} else if (xform == IKE1_ESP_3DES || xform == IKE1_ESP_AES) {
		e->enc = xform == IKE1_ESP_3DES ? ESPE_3DES : ESPE_AES_CBC;
	} else {
		return false;
	}
	size_t ak = 0;
	if (auth == IKE1_HMAC_SHA1) {
		e->auth = ESPA_SHA1_96;
		ak = 20;
	} else if (auth == IKE1_HMAC_SHA256) {
		e->auth = ESPA_SHA256_128;
		ak = 32;
	} else if (auth || xform != IKE1_ESP_AES_GCM_16) {
		return false;
	}
	uint8_t km[ESP_KEY_MAX * 2];
	uint8_t proto = IKE1_PROTO_ESP, sb[4];
	ike_put32(sb, spi);
	struct ike_iov seed[5];
	size_t ns = 0;
	if (gxy)
		seed[ns++] = (struct ike_iov){gxy, gxy_len};
	seed[ns++] = (struct ike_iov){&proto, 1};
	seed[ns++] = (struct ike_iov){sb, 4};
	seed[ns++] = (struct ike_iov){ni, ni_len};
	seed[ns++] = (struct ike_iov){nr, nr_len};
	if (!ek || ek > ESP_KEY_MAX || ak > ESP_KEY_MAX ||
	    !ike1_expand(k->hash, k->skeyid_d, k->hlen, seed, ns, true, km, ek + ak))
		return false;
	memcpy(e->ekey, km, ek);
	e->eklen = ek;
	memcpy(e->akey, km + ek, ak);
	e->aklen = ak;
	OPENSSL_cleanse(km, sizeof km);
	return true;
}

void ikev1_event_v(const struct ikev1_cbs *cbs, enum ikev1_ev kind, const char *fmt,
                   va_list ap)
{
	if (!cbs->event)
		return;
	char buf[768];
	vsnprintf(buf, sizeof buf, fmt, ap);
	cbs->event(cbs->ctx, kind, buf);
}
