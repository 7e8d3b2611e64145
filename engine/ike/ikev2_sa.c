/* What both ends of an IKEv2 SA compute alike. See ikev2_sa.h. */
#include "ike/ikev2_sa.h"
#include "ike/ike_bytes.h"

#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>

#define KEY_PAD "Key Pad for IKEv2"

void ikev2_event_v(const struct ikev2_cbs *cbs, enum ikev2_ev kind, const char *fmt,
                   va_list ap)
{
	if (!cbs->event)
		return;
	char buf[400];
	vsnprintf(buf, sizeof buf, fmt, ap);
	cbs->event(cbs->ctx, kind, buf);
}

size_t ikev2_encr_keylen(uint16_t encr, uint16_t bits)
{
	return encr == IKE2_ENCR_3DES ? 24 : bits / 8u;
}

bool ikev2_keys_shape(struct ikev2_keys *k, const struct ikev2_prop *p)
{
	k->p = *p;
	k->aead = p->encr == IKE2_ENCR_AES_GCM_16;
	k->prf_len = ike2_prf_len(p->prf);
	k->ek_len = ikev2_encr_keylen(p->encr, p->keybits);
	if (k->aead) {
		k->ak_len = 0;
		k->icv_len = 16;
		k->iv_len = 8;
		k->block = 4;
		k->cbc = 0;
	} else {
		k->ak_len = ike2_integ_keylen(p->integ);
		k->icv_len = ike2_integ_icvlen(p->integ);
		k->cbc = p->encr == IKE2_ENCR_3DES ? IKE1_ENC_3DES : IKE1_ENC_AES_CBC;
		k->block = ike1_block(k->cbc);
		k->iv_len = k->block;
	}
	return k->prf_len && k->ek_len && (k->aead || (k->ak_len && k->icv_len)) &&
	       (k->aead || ike1_enc_keylen_ok(k->cbc, k->ek_len));
}

bool ikev2_keys_derive(struct ikev2_keys *k, const uint8_t *skeyseed, const uint8_t *ni,
                       size_t ni_len, const uint8_t *nr, size_t nr_len)
{
	size_t el = k->ek_len + (k->aead ? 4 : 0);
	size_t total = 3 * k->prf_len + 2 * k->ak_len + 2 * el;
	uint8_t km[3 * IKE_HASH_MAX + 2 * IKE_HASH_MAX + 2 * 36];
	struct ike_iov s[4] = {{ni, ni_len}, {nr, nr_len}, {k->ispi, 8}, {k->rspi, 8}};
	if (total > sizeof km || !ike2_prf_plus(k->p.prf, skeyseed, k->prf_len, s, 4, km, total))
		return false;
	size_t at = 0;
	memcpy(k->sk_d, km + at, k->prf_len), at += k->prf_len;
	memcpy(k->sk_ai, km + at, k->ak_len), at += k->ak_len;
	memcpy(k->sk_ar, km + at, k->ak_len), at += k->ak_len;
	memcpy(k->sk_ei, km + at, el), at += el;
	memcpy(k->sk_er, km + at, el), at += el;
	memcpy(k->sk_pi, km + at, k->prf_len), at += k->prf_len;
	memcpy(k->sk_pr, km + at, k->prf_len);
	OPENSSL_cleanse(km, sizeof km);
	return true;
}

size_t ikev2_seal(const struct ikev2_keys *k, const struct ikev2_cbs *cbs, bool from_i,
                  uint8_t exch, uint8_t flags, uint32_t msgid, bool frag, uint16_t num,
                  uint16_t total, uint8_t next, const uint8_t *inner, size_t n, uint8_t *out,
                  size_t cap)
{
	const uint8_t *ek = from_i ? k->sk_ei : k->sk_er, *ak = from_i ? k->sk_ai : k->sk_ar;
	size_t hdr = IKE_HDR_LEN + 4 + (frag ? 4 : 0);
	size_t padlen = k->aead ? 0 : (k->block - (n + 1) % k->block) % k->block;
	size_t clen = n + padlen + 1;
	size_t total_len = hdr + k->iv_len + clen + k->icv_len;
	if (total_len > cap || total_len > 0xffff)
		return 0;
	memcpy(out, k->ispi, 8);
	memcpy(out + 8, k->rspi, 8);
	out[16] = frag ? IKE2_PL_SKF : IKE2_PL_SK;
	out[17] = 0x20;
	out[18] = exch;
	out[19] = flags;
	ike_put32(out + 20, msgid);
	ike_put32(out + 24, (uint32_t)total_len);
	out[28] = next;
	out[29] = 0;
	ike_put16(out + 30, (uint16_t)(total_len - IKE_HDR_LEN));
	if (frag) {
		ike_put16(out + 32, num);
		ike_put16(out + 34, total);
	}
	uint8_t *iv = out + hdr, *ct = iv + k->iv_len, *icv = ct + clen;
	cbs->random(cbs->ctx, iv, k->iv_len);
	memmove(ct, inner, n);
	memset(ct + n, 0, padlen);
	ct[n + padlen] = (uint8_t)padlen;
	if (k->aead) {
		if (!ike_gcm(ek, k->ek_len, ek + k->ek_len, iv, out, hdr, ct, clen, ct, icv, true))
			return 0;
	} else {
		if (!ike1_cbc(k->cbc, ek, k->ek_len, iv, ct, clen, ct, true))
			return 0;
		struct ike_iov v = {out, (size_t)(icv - out)};
		if (!ike2_integ(k->p.integ, ak, &v, 1, icv))
			return 0;
	}
	return total_len;
}

long ikev2_open(const struct ikev2_keys *k, bool from_i, const uint8_t *raw, size_t len,
                const struct ike_payload *p, uint8_t *out, size_t cap)
{
	const uint8_t *ek = from_i ? k->sk_ei : k->sk_er, *ak = from_i ? k->sk_ai : k->sk_ar;
	const uint8_t *d = p->data;
	size_t dl = p->data_len;
	if (d < raw || d + dl > raw + len || dl < k->iv_len + k->icv_len + 1)
		return IKEV2_OPEN_SHAPE;
	const uint8_t *iv = d, *ct = d + k->iv_len;
	size_t clen = dl - k->iv_len - k->icv_len;
	const uint8_t *icv = ct + clen;
	if (clen > cap || (!k->aead && clen % k->block))
		return IKEV2_OPEN_BAD;
	if (k->aead) {
		uint8_t tag[16];
		memcpy(tag, icv, 16);
		if (!ike_gcm(ek, k->ek_len, ek + k->ek_len, iv, raw, (size_t)(iv - raw), ct, clen, out,
		             tag, false))
			return IKEV2_OPEN_BAD;
	} else {
		uint8_t want[IKE_HASH_MAX];
		struct ike_iov v = {raw, (size_t)(icv - raw)};
		if (!ike2_integ(k->p.integ, ak, &v, 1, want) || CRYPTO_memcmp(want, icv, k->icv_len))
			return IKEV2_OPEN_BAD;
		if (!ike1_cbc(k->cbc, ek, k->ek_len, iv, ct, clen, out, false))
			return IKEV2_OPEN_BAD;
	}
	size_t padlen = out[clen - 1];
	if (padlen + 1 > clen)
		return IKEV2_OPEN_BAD;
	return (long)(clen - padlen - 1);
}

bool ikev2_signed_octets(const struct ikev2_keys *k, bool of_i, const uint8_t *msg,
                         size_t msg_len, const uint8_t *nonce, size_t nonce_len,
                         const uint8_t *id, size_t id_len, struct ike_iov v[3],
                         uint8_t maced[IKE_HASH_MAX])
{
	struct ike_iov idv = {id, id_len};
	if (!ike2_prf(k->p.prf, of_i ? k->sk_pi : k->sk_pr, k->prf_len, &idv, 1, maced))
		return false;
	v[0] = (struct ike_iov){msg, msg_len};
	v[1] = (struct ike_iov){nonce, nonce_len};
	v[2] = (struct ike_iov){maced, k->prf_len};
	return true;
}

bool ikev2_shared_key_auth(const struct ikev2_keys *k, const uint8_t *key, size_t key_len,
                           const struct ike_iov v[3], uint8_t *out)
{
	struct ike_iov pad = {KEY_PAD, strlen(KEY_PAD)};
	uint8_t inner[IKE_HASH_MAX];
	bool ok = ike2_prf(k->p.prf, key, key_len, &pad, 1, inner) &&
	          ike2_prf(k->p.prf, inner, k->prf_len, v, 3, out);
	OPENSSL_cleanse(inner, sizeof inner);
	return ok;
}

struct ike_payload *ikev2_add_notify(struct ike_msg *o, uint16_t type, uint8_t proto,
                                     const uint8_t *spi, uint8_t spi_size, const uint8_t *data,
                                     size_t n)
{
	struct ike_payload *p = ike_add_payload(o, IKE2_PL_N, data, n);
	if (p) {
		p->notify = type;
		p->protocol = proto;
		p->spi = spi;
		p->spi_size = spi ? spi_size : 0;
	}
	return p;
}

void ikev2_natd_hash(const uint8_t spi_i[8], const uint8_t spi_r[8],
                     const struct ikev2_addr *a, uint8_t out[20])
{
	uint8_t port[2];
	ike_put16(port, a->port);
	struct ike_iov v[4] = {{spi_i, 8}, {spi_r, 8}, {a->ip, ike_addr_len(a->family)}, {port, 2}};
	ike1_hash(IKE1_HASH_SHA1, v, 4, out);
}

bool ikev2_child_keys(const struct ikev2_keys *k, const struct ikev2_esp_prop *p,
                      const struct ike_iov *s, size_t ns, bool we_initiated,
                      const struct ikev2_addr *local, const struct ikev2_addr *peer,
                      struct ikev2_child *c)
{
	size_t ek = ikev2_encr_keylen(p->encr, p->keybits);
	bool gcm = p->encr == IKE2_ENCR_AES_GCM_16;
	if (gcm)
		ek += 4;
	size_t ak = ike2_integ_keylen(p->integ);
	uint8_t km[4 * ESP_KEY_MAX];
	if (ek > ESP_KEY_MAX || ak > ESP_KEY_MAX || (!gcm && !ak) ||
	    !ike2_prf_plus(k->p.prf, k->sk_d, k->prf_len, s, ns, km, 2 * (ek + ak)))
		return false;
	struct esp_sa *dir[2] = {&c->in, &c->out};
	for (int i = 0; i < 2; i++) {
		struct esp_sa *e = dir[i];
		memset(e, 0, sizeof *e);
		e->spi = i ? c->spi_out : c->spi_in;
		e->enc = gcm ? ESPE_AES_GCM : p->encr == IKE2_ENCR_3DES ? ESPE_3DES : ESPE_AES_CBC;
		e->gcm_icv = gcm ? 16 : 0;
		e->auth = p->integ == IKE2_INTEG_HMAC_SHA1_96 ? ESPA_SHA1_96
		          : p->integ == IKE2_INTEG_HMAC_SHA2_256_128 ? ESPA_SHA256_128
		          : p->integ == IKE2_INTEG_HMAC_SHA2_384_192 ? ESPA_SHA384_192
		          : p->integ == IKE2_INTEG_HMAC_SHA2_512_256 ? ESPA_SHA512_256 : ESPA_NULL;
		/* i = 0 inbound, 1 outbound; KEYMAT holds the initiator's direction first */
		int at = we_initiated ? !i : i;
		memcpy(e->ekey, km + at * (ek + ak), ek);
		e->eklen = ek;
		memcpy(e->akey, km + at * (ek + ak) + ek, ak);
		e->aklen = ak;
		e->ipver = peer->family;
		memcpy(e->src, i ? local->ip : peer->ip, 16);
		memcpy(e->dst, i ? peer->ip : local->ip, 16);
	}
	OPENSSL_cleanse(km, sizeof km);
	return true;
}
