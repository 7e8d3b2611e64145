/* PPTP control connection (RFC 2637) over TCP 1723: one control message at a time.
 * Zero-copy: string fields point into the input.
 */
#ifndef VNET_PPTP_H
#define VNET_PPTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "diag.h"

#define PPTP_PORT 1723
#define PPTP_MAGIC 0x1A2B3C4Du
#define PPTP_MSG_CONTROL 1
#define PPTP_MSG_MGMT 2
#define PPTP_HDR_LEN 12
#define PPTP_MAX_LEN 1024 /* longest accepted message; RFC 2637 messages stay under 256 */
#define PPTP_VERSION 0x0100

enum pptp_ctrl_type {
	PPTP_SCCRQ = 1,
	PPTP_SCCRP = 2,
	PPTP_STOPCCRQ = 3,
	PPTP_STOPCCRP = 4,
	PPTP_ECHO_RQ = 5,
	PPTP_ECHO_RP = 6,
	PPTP_OCRQ = 7,
	PPTP_OCRP = 8,
	PPTP_ICRQ = 9,
	PPTP_ICRP = 10,
	PPTP_ICCN = 11,
	PPTP_CCRQ = 12,
	PPTP_CDN = 13,
	PPTP_WEN = 14,
	PPTP_SLI = 15,
};

/* Framing and bearer capability / type bits. */
#define PPTP_FRAMING_ASYNC 0x1
#define PPTP_FRAMING_SYNC 0x2
#define PPTP_BEARER_ANALOG 0x1
#define PPTP_BEARER_DIGITAL 0x2

/* A fixed-size text field: `p` points at the field (`field` bytes), `len` counts the
 * bytes before the first NUL. For encoding, p holds len bytes and the rest is zero. */
struct pptp_str {
	const uint8_t *p;
	size_t len;
	size_t field;
};

/* Every field of every control message; which ones are meaningful depends on ctrl_type
 * (see pptp.c's layout table, which is also what the encoder follows). */
struct pptp_msg {
	uint16_t length;
	uint16_t pptp_type;  /* 1 control */
	uint32_t magic;
	uint16_t ctrl_type;
	uint16_t reserved0;

	uint16_t proto_version;           /* SCCRQ, SCCRP: 0x0100 */
	uint8_t result, error;            /* SCCRP, StopCCRP, Echo-Reply, OCRP, ICRP, CDN */
	uint8_t reason;                   /* StopCCRQ */
	uint16_t cause;                   /* OCRP, CDN */
	uint32_t framing_caps, bearer_caps; /* SCCRQ, SCCRP */
	uint16_t max_channels, firmware_rev; /* SCCRQ, SCCRP */
	struct pptp_str host_name, vendor;   /* SCCRQ, SCCRP (64 bytes each) */
	uint32_t identifier;              /* Echo-Request, Echo-Reply */
	uint16_t call_id;                 /* OCRQ, OCRP, ICRQ, ICRP, CCRQ, CDN */
	uint16_t peer_call_id;            /* OCRP, ICRP, ICCN, WEN, SLI */
	uint16_t call_serial;             /* OCRQ, ICRQ */
	uint32_t min_bps, max_bps;        /* OCRQ */
	uint32_t bearer_type;             /* OCRQ, ICRQ */
	uint32_t framing_type;            /* OCRQ, ICCN */
	uint16_t recv_window;             /* OCRQ, OCRP, ICRP, ICCN */
	uint16_t proc_delay;              /* OCRQ, OCRP, ICRP (transmit delay), ICCN */
	uint16_t phone_len;               /* OCRQ: Phone Number Length field */
	struct pptp_str phone, subaddress; /* OCRQ (64 each); ICRQ subaddress */
	uint32_t connect_speed;           /* OCRP, ICCN */
	uint32_t phys_channel;            /* OCRP, ICRQ */
	uint16_t dialed_len, dialing_len; /* ICRQ */
	struct pptp_str dialed, dialing;  /* ICRQ (64 each) */
	struct pptp_str call_stats;       /* CDN (128) */
	uint32_t crc_errors, framing_errors, hw_overruns, buf_overruns, timeout_errors,
		align_errors;                 /* WEN */
	uint32_t send_accm, recv_accm;    /* SLI */
	uint16_t reserved1;               /* reserved fields kept for round trips */
	uint16_t reserved2;
	uint8_t reserved1b;               /* StopCCRQ: the 1-byte reserved field */
	size_t extra;                     /* bytes inside `length` beyond the message's layout */
};

int pptp_decode(const uint8_t *p, size_t len, struct pptp_msg *out, struct diag_err *err);
void pptp_summary(const struct pptp_msg *m, char *buf, size_t bufsz);
json_t *pptp_to_json(const struct pptp_msg *m);
/* The same as members of the open object of a JSON writer (streamed or a tree). */
void pptp_jw(struct jw *w, const struct pptp_msg *m);
/* Writes the message for m->ctrl_type; length, PPTP message type and magic are filled
 * in. 0 when it does not fit or the type is unknown. */
size_t pptp_encode(const struct pptp_msg *m, uint8_t *buf, size_t cap);

/* Stream framing: the length of the message starting at p. Returns 0 when fewer than 8
 * bytes are there to tell, -1 (err set when not NULL) when the length is < 12 or
 * > PPTP_MAX_LEN or the magic cookie is wrong, else the length (which may exceed len:
 * wait for more bytes). */
long pptp_frame_len(const uint8_t *p, size_t len, struct diag_err *err);

/* A zeroed message of ctrl_type with PPTP_VERSION where the type carries one. */
void pptp_msg_init(struct pptp_msg *m, uint16_t ctrl_type);
/* Set a text field from a C string (referenced, not copied; cut to the field size). */
void pptp_str_set(struct pptp_str *s, const char *text);

extern const struct tok pptp_ctrl_types[];      /* "Start-Control-Connection-Request", ... */
extern const struct tok pptp_ctrl_short[];      /* "SCCRQ", ... */
extern const struct tok pptp_error_codes[];
const char *pptp_ctrl_name(uint16_t ctrl_type);
/* Meaning of a result code in a message of ctrl_type (SCCRP, StopCCRP, Echo-Reply, OCRP,
 * ICRP, CDN) or a reason in StopCCRQ; NULL when unknown. */
const char *pptp_result_name(uint16_t ctrl_type, uint8_t code);
const char *pptp_error_name(uint8_t code);

#endif
