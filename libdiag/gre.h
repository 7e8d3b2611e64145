/* GRE: the enhanced version 1 header PPTP uses (RFC 2637 4.1) and plain version 0
 * headers (RFC 2784/2890, shown minimally). Zero-copy.
 */
#ifndef VNET_GRE_H
#define VNET_GRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "diag.h"

#define GRE_PROTO_PPP 0x880B
#define GRE_FLAG_C 0x8000
#define GRE_FLAG_R 0x4000
#define GRE_FLAG_K 0x2000
#define GRE_FLAG_S 0x1000
#define GRE_FLAG_SSR 0x0800 /* strict source route */
#define GRE_RECUR_MASK 0x0700
#define GRE_FLAG_A 0x0080   /* acknowledgement number present (version 1) */
#define GRE_FLAGS_MASK 0x0078
#define GRE_VERSION_MASK 0x0007

struct gre_msg {
	uint16_t flags;        /* first 16 bits as on the wire (flags, recur, version) */
	uint8_t version;       /* 0 or 1 */
	bool c, r, k, s, ssr, a;
	uint8_t recur;
	uint16_t protocol;     /* 0x880B for PPTP */

	/* version 0 optional fields */
	uint16_t checksum, offset; /* when c or r */
	uint32_t key;              /* when k */

	/* version 1: the key field is payload length + call id */
	uint16_t payload_length;
	uint16_t call_id;

	uint32_t seq;          /* when s */
	uint32_t ack;          /* when a (version 1) */
	size_t hdr_len;

	/* what follows the header: the PPP frame for version 1 (payload_length bytes) */
	const uint8_t *payload;
	size_t payload_len;
	size_t trailing;       /* bytes after payload_length in the buffer (version 1) */
};

int gre_decode(const uint8_t *p, size_t len, struct gre_msg *out, struct diag_err *err);
void gre_summary(const struct gre_msg *m, char *buf, size_t bufsz);
json_t *gre_to_json(const struct gre_msg *m);
/* The same as members of the open object of a JSON writer (streamed or a tree). */
void gre_jw(struct jw *w, const struct gre_msg *m);
/* Version 1: K set, S when m->s, A when m->a, payload_length from payload_len.
 * Version 0: C/K/S from the booleans (R is not written). 0 when it does not fit. */
size_t gre_encode(const struct gre_msg *m, uint8_t *buf, size_t cap);

/* An enhanced GRE header for call_id; seq/ack included when has_seq/has_ack. */
void gre_msg_init_v1(struct gre_msg *m, uint16_t call_id, bool has_seq, uint32_t seq,
                     bool has_ack, uint32_t ack, const uint8_t *ppp, size_t ppp_len);

extern const struct tok gre_protocols[]; /* ethertypes seen over GRE */

#endif
