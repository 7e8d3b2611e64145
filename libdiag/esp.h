/* ESP header (RFC 4303) and UDP 4500 framing for NAT traversal (RFC 3948).
 *
 * ESP after the SPI and sequence number is encrypted: the decoder shows its length and
 * never looks inside. On UDP port 4500 one datagram is either a NAT-keepalive (a single
 * 0xff byte), IKE behind a 4-byte zero non-ESP marker, or ESP (non-zero SPI).
 */
#ifndef VNET_ESP_H
#define VNET_ESP_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "diag.h"

#define ESP_HDR_LEN 8
#define NATT_NON_ESP_MARKER_LEN 4

struct esp_msg {
	uint32_t spi;
	uint32_t seq;
	const uint8_t *payload;  /* encrypted payload + padding + ICV, opaque */
	size_t payload_len;
};

/* Needs 8 bytes. When only the sequence number is cut off, out->spi is still filled in
 * (tcpdump's "ESP(spi=...) [|esp]"). */
int esp_decode(const uint8_t *p, size_t len, struct esp_msg *out, struct diag_err *err);
void esp_summary(const struct esp_msg *m, char *buf, size_t bufsz);
json_t *esp_to_json(const struct esp_msg *m);
/* The same as members of the open object of a JSON writer (streamed or a tree). */
void esp_jw(struct jw *w, const struct esp_msg *m);
size_t esp_encode(const struct esp_msg *m, uint8_t *buf, size_t cap);

enum natt_kind {
	NATT_INVALID = 0,   /* empty (no UDP payload at all) */
	NATT_KEEPALIVE,     /* exactly one byte 0xff (RFC 3948 2.3) */
	NATT_IKE,           /* non-ESP marker: IKE starts at offset 4 */
	NATT_ESP,           /* ESP header at offset 0 */
};

/* Classify a UDP 4500 payload. Anything that is neither a keepalive nor starts with the
 * marker is ESP, even when shorter than the 8-byte header: esp_decode then reports the
 * truncation with its offset. */
enum natt_kind natt_classify(const uint8_t *udp_payload, size_t len);
/* "keepalive", "ike", "esp", "invalid" */
const char *natt_kind_name(enum natt_kind k);

#endif
