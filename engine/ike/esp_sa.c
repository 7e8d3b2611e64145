/* One ESP SA pair: sequence numbers, anti-replay, padding checks. See esp_sa.h. */
#include "ike/esp_sa.h"

#include <string.h>
#include "net.h"
#include <openssl/crypto.h>

int esp_pair_init(struct esp_pair *p, const struct esp_sa *in, const struct esp_sa *out,
                  bool udp_encap)
{
	memset(p, 0, sizeof *p);
	p->in = *in;
	p->out = *out;
	p->udp_encap = udp_encap;
	p->ctx = esp_ctx_new();
	return p->ctx ? 0 : -1;
}

void esp_pair_free(struct esp_pair *p)
{
	esp_ctx_free(p->ctx);
	OPENSSL_cleanse(p, sizeof *p);
}

/* RFC 4303 3.4.3 without extended sequence numbers: true when seq may be new. */
static bool replay_check(const struct esp_pair *p, uint32_t seq)
{
	if (seq > p->top)
		return true;
	uint32_t back = p->top - seq;
	if (back >= ESP_REPLAY_WINDOW)
		return false;
	return !(p->window >> back & 1);
}

static void replay_update(struct esp_pair *p, uint32_t seq)
{
	if (seq > p->top) {
		uint32_t shift = seq - p->top;
		p->window = shift >= ESP_REPLAY_WINDOW ? 0 : p->window << shift;
		p->window |= 1;
		p->top = seq;
	} else {
		p->window |= (uint64_t)1 << (p->top - seq);
	}
}

int esp_pair_open(struct esp_pair *p, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
                  size_t *outlen, uint8_t *next_hdr, struct diag_err *err)
{
	diag_err_clear(err);
	if (len < 8) {
		diag_err_set(err, 0, "%zu bytes are shorter than the ESP header", len);
		p->st.bad_other++;
		return ESPF_SHORT;
	}
	uint32_t spi = (uint32_t)pkt[0] << 24 | (uint32_t)pkt[1] << 16 | (uint32_t)pkt[2] << 8 | pkt[3];
	uint32_t seq = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 | (uint32_t)pkt[6] << 8 | pkt[7];
	if (spi != p->in.spi) {
		diag_err_set(err, 0, "SPI %08x is not this SA's %08x", spi, p->in.spi);
		p->st.bad_other++;
		return ESPF_SPI;
	}
	if (!seq) {
		diag_err_set(err, 4, "sequence number 0");
		p->st.bad_other++;
		return ESPF_SEQ0;
	}
	if (!replay_check(p, seq)) {
		diag_err_set(err, 4, "sequence number %u replayed or left of the window (top %u)", seq,
		             p->top);
		p->st.replayed++;
		return ESPF_REPLAY;
	}
	size_t n = 0;
	int r = esp_decrypt(p->ctx, &p->in, pkt, len, out, cap, &n, next_hdr, err);
	if (r == ESPF_ICV) {
		p->st.bad_icv++;
		return r;
	}
	if (r < 0) {
		p->st.bad_other++;
		return r;
	}
	/* esp_decrypt left the padding after the payload: it must be 1, 2, 3... (RFC 4303
	 * 2.4), checked here whatever the integrity algorithm */
	size_t ivlen = esp_sa_ivlen(&p->in), icv = esp_sa_icvlen(&p->in);
	size_t clen = len - 8 - ivlen - icv, padlen = clen - n - 2;
	for (size_t i = 0; i < padlen; i++)
		if (out[n + i] != (uint8_t)(i + 1)) {
			diag_err_set(err, 8 + ivlen + n + i, "padding byte %zu is %u, not %zu", i + 1,
			             out[n + i], i + 1);
			p->st.bad_pad++;
			return ESPF_PAD;
		}
	replay_update(p, seq);
	p->st.rx++;
	p->st.rx_bytes += n;
	*outlen = n;
	return 0;
}

size_t esp_pair_seal(struct esp_pair *p, const uint8_t *iv, const uint8_t *payload, size_t plen,
                     uint8_t next_hdr, uint8_t *out, size_t cap, int *why)
{
	if (p->seq_out == UINT32_MAX) { /* RFC 4303 3.3.3: never cycle */
		if (why)
			*why = ESPF_EXHAUSTED;
		return 0;
	}
	size_t n = esp_encrypt(&p->out, p->seq_out + 1, iv, payload, plen, next_hdr, out, cap);
	if (!n) {
		if (why)
			*why = ESPF_CRYPTO;
		return 0;
	}
	p->seq_out++;
	p->st.tx++;
	p->st.tx_bytes += plen;
	return n;
}

void esp_udp_checksum_fix(uint8_t *udp, size_t len, const uint8_t src[4], const uint8_t dst[4])
{
	if (len < 8 || len > 0xffff)
		return;
	uint8_t ph[12];
	memcpy(ph, src, 4);
	memcpy(ph + 4, dst, 4);
	ph[8] = 0;
	ph[9] = 17;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	udp[6] = udp[7] = 0;
	uint16_t c = inet_cksum(udp, len, (uint16_t)~inet_cksum(ph, sizeof ph, 0));
	if (!c) /* RFC 768: a computed zero is sent as all ones */
		c = 0xffff;
	udp[6] = (uint8_t)(c >> 8);
	udp[7] = (uint8_t)c;
}
