/* User-space ESP (RFC 4303) for one SA pair, as Quick Mode negotiated it: encryption
 * with the next sequence number, decryption with the anti-replay window (64 packets) and
 * strict padding checks, ESP-in-UDP (RFC 3948) on port 4500 where the SA says so.
 *
 * The cryptography is the capture decryptor's (engine/capture/espdecrypt.h: esp_decrypt
 * and esp_encrypt over the same `struct esp_sa` keys), so what the server sends is what
 * `pcap explain --keys` reads, and the other way round. Sans-I/O: packets in, packets
 * out; the IV comes from the caller's random source.
 *
 * On UDP 4500 the owner tells ESP from IKE and NAT-keepalives with natt_classify
 * (libdiag/esp.h): ESP goes to esp_pair_open whole, a keepalive (one 0xff byte) is
 * answered by nothing. In transport mode behind a NAT the inner UDP checksum was made
 * with the client's private address: esp_udp_checksum_fix() recomputes it (RFC 3948
 * 3.1.2).
 */
#ifndef VNET_ESP_SA_H
#define VNET_ESP_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/espdecrypt.h"
#include "diag.h"

#define ESP_REPLAY_WINDOW 64

/* esp_pair_open's results beyond enum esp_fail */
enum {
	ESPF_SPI = -20,     /* not this SA's SPI */
	ESPF_REPLAY = -21,  /* sequence number seen already, or left of the window */
	ESPF_SEQ0 = -22,    /* sequence number 0 (never sent) */
	ESPF_EXHAUSTED = -23, /* our sequence numbers are used up: the SA must be rekeyed */
};

struct esp_pair_stats {
	uint64_t rx, tx, rx_bytes, tx_bytes, replayed, bad_icv, bad_pad, bad_other;
};

struct esp_pair {
	struct esp_sa in, out;      /* keys: in = the peer sends with our SPI */
	bool udp_encap;
	uint32_t seq_out;           /* the last sequence number sent */
	uint32_t top;               /* highest sequence number accepted */
	uint64_t window;            /* bit i: top - i was accepted */
	struct esp_ctx *ctx;        /* scheduled keys of `in` */
	struct esp_pair_stats st;
};

/* 0, or -1 when out of memory. The pair keeps copies of the keys. */
int esp_pair_init(struct esp_pair *p, const struct esp_sa *in, const struct esp_sa *out,
                  bool udp_encap);
void esp_pair_free(struct esp_pair *p);

/* Decrypt an ESP packet (from the SPI on) addressed to this SA: 0 with the payload at
 * out[0..*outlen) and its protocol in *next_hdr, or a negative ESPF_* with err. The
 * replay window moves only for packets whose integrity was checked. */
int esp_pair_open(struct esp_pair *p, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
                  size_t *outlen, uint8_t *next_hdr, struct diag_err *err);
/* Encrypt a payload of protocol next_hdr with the next sequence number; `iv` holds
 * esp_sa_ivlen(&p->out) fresh bytes. The length, or 0 (no room, sequence numbers used
 * up: ESPF_EXHAUSTED in *why when given). */
size_t esp_pair_seal(struct esp_pair *p, const uint8_t *iv, const uint8_t *payload, size_t plen,
                     uint8_t next_hdr, uint8_t *out, size_t cap, int *why);

/* A decrypted transport-mode UDP datagram (header at udp[0], len bytes) between src and
 * dst (IPv4): recompute its checksum for the addresses it now travels between. */
void esp_udp_checksum_fix(uint8_t *udp, size_t len, const uint8_t src[4], const uint8_t dst[4]);

#endif
