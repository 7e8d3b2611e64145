/* ESP header (RFC 4303 2) and UDP 4500 demultiplexing (RFC 3948 2.2, 2.3). */
#include <inttypes.h>
#include <stdio.h>
#include "esp.h"

int esp_decode(const uint8_t *p, size_t len, struct esp_msg *out, struct diag_err *err)
{
	struct rd r;
	rd_init(&r, p, len);
	out->spi = rd_u32(&r);
	out->seq = rd_u32(&r); /* when this fails the SPI above is still valid */
	out->payload = NULL;
	out->payload_len = 0;
	if (!rd_ok(&r))
		return rd_error(&r, err, 0, "ESP header");
	if (out->spi == 0) {
		/* SPI 0 is reserved for local use and never appears on the wire (RFC 4303 2.1);
		 * on UDP 4500 it is the non-ESP marker. */
		diag_err_set(err, 0, "ESP: SPI 0 is reserved (non-ESP marker?)");
		return -1;
	}
	out->payload = p + ESP_HDR_LEN;
	out->payload_len = len - ESP_HDR_LEN;
	return 0;
}

void esp_summary(const struct esp_msg *m, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "ESP spi 0x%08" PRIx32 " seq %" PRIu32 " len %zu", m->spi, m->seq,
	         m->payload_len);
}

void esp_jw(struct jw *w, const struct esp_msg *m)
{
	char spi[16];
	snprintf(spi, sizeof spi, "0x%08" PRIx32, m->spi);
	jw_str(w, "spi", spi);
	jw_int(w, "spi_num", m->spi);
	jw_int(w, "seq", m->seq);
	jw_int(w, "payload_len", (long long)m->payload_len);
}

json_t *esp_to_json(const struct esp_msg *m)
{
	struct jw w;
	jw_init(&w, JW_TREE, NULL);
	jw_obj(&w, NULL);
	esp_jw(&w, m);
	jw_end(&w);
	json_t *j = jw_take(&w);
	jw_free(&w);
	return j;
}

size_t esp_encode(const struct esp_msg *m, uint8_t *buf, size_t cap)
{
	struct wr w;
	wr_init(&w, buf, cap);
	wr_u32(&w, m->spi);
	wr_u32(&w, m->seq);
	wr_bytes(&w, m->payload, m->payload_len);
	return w.err ? 0 : w.off;
}

enum natt_kind natt_classify(const uint8_t *udp_payload, size_t len)
{
	if (!udp_payload || len == 0)
		return NATT_INVALID;
	if (len == 1 && udp_payload[0] == 0xff)
		return NATT_KEEPALIVE;
	if (len >= NATT_NON_ESP_MARKER_LEN && udp_payload[0] == 0 && udp_payload[1] == 0 &&
	    udp_payload[2] == 0 && udp_payload[3] == 0)
		return NATT_IKE;
	/* anything else is ESP; a short one fails in esp_decode with its offset */
	return NATT_ESP;
}

const char *natt_kind_name(enum natt_kind k)
{
	switch (k) {
	case NATT_KEEPALIVE: return "keepalive";
	case NATT_IKE: return "ike";
	case NATT_ESP: return "esp";
	case NATT_INVALID: break;
	}
	return "invalid";
}
