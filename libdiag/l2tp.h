/* L2TPv2 (RFC 2661) over UDP 1701: header, control messages with their AVPs, data
 * messages carrying PPP. Decoding is zero-copy: every pointer in a decoded message points
 * into the input buffer and stays valid while that buffer does.
 */
#ifndef VNET_L2TP_H
#define VNET_L2TP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "diag.h"

#define L2TP_PORT 1701
#define L2TP_MAX_AVPS 64
#define L2TP_MAX_NOTES 8

/* Header flag bits (first 16 bits of the header). */
#define L2TP_FLAG_T 0x8000 /* control message */
#define L2TP_FLAG_L 0x4000 /* length present */
#define L2TP_FLAG_S 0x0800 /* Ns/Nr present */
#define L2TP_FLAG_O 0x0200 /* offset size present */
#define L2TP_FLAG_P 0x0100 /* priority (data) */
#define L2TP_VERSION_MASK 0x000f

/* AVP header flag bits (first 16 bits of an AVP, the low 10 bits are the length). */
#define L2TP_AVP_M 0x8000
#define L2TP_AVP_H 0x4000
#define L2TP_AVP_LEN_MASK 0x03ff
#define L2TP_AVP_HDR_LEN 6

/* Control message types (Message Type AVP value). L2TP_MSG_ZLB is not on the wire: a
 * control message without AVPs decodes with msg_type = L2TP_MSG_ZLB. */
enum l2tp_msg_type {
	L2TP_MSG_ZLB = 0,
	L2TP_MSG_SCCRQ = 1,
	L2TP_MSG_SCCRP = 2,
	L2TP_MSG_SCCCN = 3,
	L2TP_MSG_STOPCCN = 4,
	L2TP_MSG_HELLO = 6,
	L2TP_MSG_OCRQ = 7,
	L2TP_MSG_OCRP = 8,
	L2TP_MSG_OCCN = 9,
	L2TP_MSG_ICRQ = 10,
	L2TP_MSG_ICRP = 11,
	L2TP_MSG_ICCN = 12,
	L2TP_MSG_CDN = 14,
	L2TP_MSG_WEN = 15,
	L2TP_MSG_SLI = 16,
	L2TP_MSG_ACK = 20, /* explicit acknowledgement (RFC 3931 numbering, seen in v2 too) */
};

/* Attribute types of vendor 0 (IETF). */
enum l2tp_avp_type {
	L2TP_AVP_MESSAGE_TYPE = 0,
	L2TP_AVP_RESULT_CODE = 1,
	L2TP_AVP_PROTOCOL_VERSION = 2,
	L2TP_AVP_FRAMING_CAP = 3,
	L2TP_AVP_BEARER_CAP = 4,
	L2TP_AVP_TIE_BREAKER = 5,
	L2TP_AVP_FIRMWARE_REV = 6,
	L2TP_AVP_HOST_NAME = 7,
	L2TP_AVP_VENDOR_NAME = 8,
	L2TP_AVP_ASSIGNED_TUNNEL_ID = 9,
	L2TP_AVP_RECV_WINDOW_SIZE = 10,
	L2TP_AVP_CHALLENGE = 11,
	L2TP_AVP_Q931_CAUSE = 12,
	L2TP_AVP_CHALLENGE_RESPONSE = 13,
	L2TP_AVP_ASSIGNED_SESSION_ID = 14,
	L2TP_AVP_CALL_SERIAL = 15,
	L2TP_AVP_MIN_BPS = 16,
	L2TP_AVP_MAX_BPS = 17,
	L2TP_AVP_BEARER_TYPE = 18,
	L2TP_AVP_FRAMING_TYPE = 19,
	L2TP_AVP_CALLED_NUMBER = 21,
	L2TP_AVP_CALLING_NUMBER = 22,
	L2TP_AVP_SUB_ADDRESS = 23,
	L2TP_AVP_TX_CONNECT_SPEED = 24,
	L2TP_AVP_PHYSICAL_CHANNEL_ID = 25,
	L2TP_AVP_INITIAL_RECV_LCP_CONFREQ = 26,
	L2TP_AVP_LAST_SENT_LCP_CONFREQ = 27,
	L2TP_AVP_LAST_RECV_LCP_CONFREQ = 28,
	L2TP_AVP_PROXY_AUTHEN_TYPE = 29,
	L2TP_AVP_PROXY_AUTHEN_NAME = 30,
	L2TP_AVP_PROXY_AUTHEN_CHALLENGE = 31,
	L2TP_AVP_PROXY_AUTHEN_ID = 32,
	L2TP_AVP_PROXY_AUTHEN_RESPONSE = 33,
	L2TP_AVP_CALL_ERRORS = 34,
	L2TP_AVP_ACCM = 35,
	L2TP_AVP_RANDOM_VECTOR = 36,
	L2TP_AVP_PRIVATE_GROUP_ID = 37,
	L2TP_AVP_RX_CONNECT_SPEED = 38,
	L2TP_AVP_SEQUENCING_REQUIRED = 39,
};

/* How the value of an AVP is typed. */
enum l2tp_avp_kind {
	L2TP_KIND_RAW = 0,     /* unknown, vendor-specific, hidden or malformed: bytes only */
	L2TP_KIND_U16,         /* v.u */
	L2TP_KIND_U32,         /* v.u */
	L2TP_KIND_U64,         /* v.u64 (Tie Breaker) */
	L2TP_KIND_STRING,      /* val/val_len is text */
	L2TP_KIND_BYTES,       /* val/val_len is binary (challenge, LCP CONFREQ...) */
	L2TP_KIND_EMPTY,       /* no value (Sequencing Required) */
	L2TP_KIND_RESULT,      /* v.result */
	L2TP_KIND_PROTO_VERSION, /* v.proto */
	L2TP_KIND_Q931,        /* v.q931 */
	L2TP_KIND_CALL_ERRORS, /* v.call_errors */
	L2TP_KIND_ACCM,        /* v.accm */
};

/* Framing / Bearer capability and type bits. */
#define L2TP_FRAMING_SYNC 0x1
#define L2TP_FRAMING_ASYNC 0x2
#define L2TP_BEARER_DIGITAL 0x1
#define L2TP_BEARER_ANALOG 0x2

struct l2tp_avp {
	size_t off;        /* offset of the AVP header within the decoded buffer */
	bool mandatory;    /* M bit */
	bool hidden;       /* H bit: val is the hidden subformat, see l2tp_avp_unhide */
	uint8_t rsvd;      /* the 4 reserved bits after M and H (0 on the wire normally) */
	uint16_t len;      /* AVP length field, header included */
	uint16_t vendor;   /* 0 = IETF */
	uint16_t type;
	const uint8_t *val; /* value as on the wire; for encoding, NULL means "from v" */
	size_t val_len;
	enum l2tp_avp_kind kind; /* how v / val are to be read; RAW when not typed */
	const char *problem;     /* static text when the value had the wrong size, else NULL */
	union {
		uint32_t u;
		uint64_t u64;
		struct {
			uint16_t result;
			bool has_error;
			uint16_t error;
			const uint8_t *msg; /* error message, may be NULL */
			size_t msg_len;
		} result;
		struct {
			uint8_t ver, rev;
		} proto;
		struct {
			uint16_t cause;
			uint8_t msg;
			const uint8_t *advisory;
			size_t advisory_len;
		} q931;
		struct {
			uint16_t reserved;
			uint32_t crc, framing, hw_overruns, buf_overruns, timeouts, alignment;
		} call_errors;
		struct {
			uint16_t reserved;
			uint32_t send, recv;
		} accm;
	} v;
};

/* Something wrong with a message that still decoded: a missing mandatory AVP, a hidden
 * AVP without a Random Vector, bytes beyond the length field... */
struct l2tp_note {
	const char *id; /* stable dotted id: "l2tp.avp.missing", "l2tp.len.trailing", ... */
	size_t off;
	char text[112];
};

struct l2tp_msg {
	uint16_t flags;       /* the first 16 header bits as on the wire */
	bool is_control;      /* T */
	bool has_len;         /* L */
	bool has_seq;         /* S */
	bool has_offset;      /* O */
	bool priority;        /* P */
	uint8_t version;      /* 2 */
	uint16_t length;      /* length field when has_len (decode); ignored by encode */
	uint16_t tunnel_id;
	uint16_t session_id;
	uint16_t ns, nr;      /* when has_seq */
	uint16_t offset_size; /* when has_offset */
	const uint8_t *offset_pad; /* offset padding bytes (offset_size of them) */
	size_t hdr_len;       /* bytes of header, offset padding included */

	/* control messages */
	bool zlb;             /* control message without AVPs */
	uint16_t msg_type;    /* Message Type AVP value; L2TP_MSG_ZLB for a ZLB */
	bool has_msg_type;
	size_t n_avps;
	struct l2tp_avp avps[L2TP_MAX_AVPS];

	/* data messages: the PPP frame (address/control bytes included when present) */
	const uint8_t *payload;
	size_t payload_len;

	size_t trailing;      /* bytes after `length` in the buffer (not decoded) */
	size_t n_notes;
	struct l2tp_note notes[L2TP_MAX_NOTES];
};

/* ---- the codec --------------------------------------------------------------------- */
int l2tp_decode(const uint8_t *p, size_t len, struct l2tp_msg *out, struct diag_err *err);
void l2tp_summary(const struct l2tp_msg *m, char *buf, size_t bufsz);
json_t *l2tp_to_json(const struct l2tp_msg *m);
/* The same as members of the open object of a JSON writer (streamed or a tree). */
void l2tp_jw(struct jw *w, const struct l2tp_msg *m);
/* Writes header and AVPs; for a control message the L and S bits are always set and the
 * length is computed. An AVP with val != NULL is written as is (hidden ones included);
 * with val == NULL its value is built from v according to kind. 0 when it does not fit. */
size_t l2tp_encode(const struct l2tp_msg *m, uint8_t *buf, size_t cap);

/* ---- building messages to encode --------------------------------------------------- */
/* A control message with its Message Type AVP (none for L2TP_MSG_ZLB). */
void l2tp_msg_init_ctrl(struct l2tp_msg *m, uint16_t msg_type, uint16_t tunnel_id,
                        uint16_t session_id, uint16_t ns, uint16_t nr);
/* A data message with S bit set when has_seq; payload is referenced, not copied. */
void l2tp_msg_init_data(struct l2tp_msg *m, uint16_t tunnel_id, uint16_t session_id,
                        bool has_seq, uint16_t ns, uint16_t nr, const uint8_t *ppp,
                        size_t ppp_len);
/* Append an AVP (vendor 0, M bit as RFC 2661 says for the type). Return 0, or -1 when
 * the message already holds L2TP_MAX_AVPS or the type does not take that kind of value.
 * Strings and byte values are referenced, not copied. */
int l2tp_add_uint(struct l2tp_msg *m, uint16_t type, uint64_t v);   /* 16/32/64-bit AVPs */
int l2tp_add_bytes(struct l2tp_msg *m, uint16_t type, const void *p, size_t n);
int l2tp_add_empty(struct l2tp_msg *m, uint16_t type);
int l2tp_add_result(struct l2tp_msg *m, uint16_t result, bool has_error, uint16_t error,
                    const char *msg);
int l2tp_add_proto_version(struct l2tp_msg *m, uint8_t ver, uint8_t rev);
int l2tp_add_q931(struct l2tp_msg *m, uint16_t cause, uint8_t msg, const char *advisory);
int l2tp_add_accm(struct l2tp_msg *m, uint32_t send, uint32_t recv);
int l2tp_add_call_errors(struct l2tp_msg *m, const uint32_t counts[6]);
/* Any AVP as raw bytes (vendor AVPs, hidden values from l2tp_avp_hide). */
int l2tp_add_raw(struct l2tp_msg *m, uint16_t vendor, uint16_t type, bool mandatory,
                 bool hidden, const uint8_t *val, size_t n);

/* ---- hidden AVPs (RFC 2661 4.3) ---------------------------------------------------- */
/* Recover the value of a hidden AVP of `type` from its hidden subformat `h` (n bytes),
 * given the shared secret and the Random Vector AVP value that preceded it. Writes the
 * original value to out (cap bytes) and its length to *outlen. 0, or -1 with err set
 * (wrong secret shows up as an original length that does not fit). */
int l2tp_avp_unhide(const uint8_t *secret, size_t secretlen, const uint8_t *rv,
                    size_t rvlen, uint16_t type, const uint8_t *h, size_t n, uint8_t *out,
                    size_t cap, size_t *outlen, struct diag_err *err);
/* The inverse: the hidden subformat of value v (vlen bytes) with pad random-looking pad
 * bytes (taken from `pad`, may be NULL for zeros) into out. Returns bytes written, 0
 * when it does not fit. */
size_t l2tp_avp_hide(const uint8_t *secret, size_t secretlen, const uint8_t *rv,
                     size_t rvlen, uint16_t type, const uint8_t *v, size_t vlen,
                     const uint8_t *pad, size_t padlen, uint8_t *out, size_t cap);

/* Tunnel authentication (RFC 2661 4.4.3, 5.1.1): the Challenge Response a peer puts in
 * its SCCRP (msg_type 2) or SCCCN (msg_type 3), MD5(msg_type || secret || challenge).
 * 0, or -1 when MD5 is unavailable. */
int l2tp_challenge_response(uint8_t msg_type, const uint8_t *secret, size_t secretlen,
                            const uint8_t *challenge, size_t clen, uint8_t out[16]);

/* ---- result and error codes (RFC 2661 section 4.4.2) ---------------------------------- */
/* One set of values for the decoder's names below, the control connection automaton that
 * sends them (engine/l2tp_ctrl.c) and the capture tracker that reads them. */
enum l2tp_stop_result {
	L2TP_STOP_GENERAL = 1,        /* general request to clear the control connection */
	L2TP_STOP_ERROR = 2,          /* general error, see the error code */
	L2TP_STOP_EXISTS = 3,         /* control channel already exists */
	L2TP_STOP_NOT_AUTHORIZED = 4, /* requester not authorized */
	L2TP_STOP_BAD_VERSION = 5,    /* protocol version not supported */
	L2TP_STOP_SHUTDOWN = 6,       /* requester is being shut down */
	L2TP_STOP_FSM = 7,            /* finite state machine error */
};
enum l2tp_cdn_result {
	L2TP_CDN_LOST_CARRIER = 1,
	L2TP_CDN_ERROR = 2,           /* see the error code */
	L2TP_CDN_ADMIN = 3,           /* administrative reasons */
	L2TP_CDN_NO_FACILITIES_TEMP = 4,
	L2TP_CDN_NO_FACILITIES_PERM = 5,
	L2TP_CDN_INVALID_DEST = 6,
	L2TP_CDN_NO_CARRIER = 7,
	L2TP_CDN_BUSY = 8,
	L2TP_CDN_NO_DIAL_TONE = 9,
	L2TP_CDN_TIMEOUT = 10,        /* not established within the time the LAC allows */
	L2TP_CDN_NO_FRAMING = 11,
};
enum l2tp_general_error {
	L2TP_ERR_NONE = 0,
	L2TP_ERR_NO_TUNNEL = 1,       /* no control connection yet */
	L2TP_ERR_BAD_LENGTH = 2,
	L2TP_ERR_BAD_VALUE = 3,       /* field out of range / reserved field non-zero */
	L2TP_ERR_NO_RESOURCE = 4,     /* insufficient resources */
	L2TP_ERR_BAD_SESSION = 5,     /* invalid session ID */
	L2TP_ERR_VENDOR = 6,
	L2TP_ERR_TRY_ANOTHER = 7,
	L2TP_ERR_UNKNOWN_M_AVP = 8,   /* unknown AVP with the M bit */
};

/* ---- names ------------------------------------------------------------------------- */
extern const struct tok l2tp_msg_types[];      /* "SCCRQ", ... */
extern const struct tok l2tp_msg_long_names[]; /* "Start-Control-Connection-Request", ... */
extern const struct tok l2tp_avp_names[];      /* "Host Name", ... */
extern const struct tok l2tp_stopccn_results[];
extern const struct tok l2tp_cdn_results[];
extern const struct tok l2tp_error_codes[];
extern const struct tok l2tp_proxy_authen_types[];
const char *l2tp_msg_name(uint16_t msg_type);            /* NULL when unknown */
const char *l2tp_avp_name(uint16_t vendor, uint16_t type); /* NULL when unknown */
/* Result code meaning for StopCCN (4) or CDN (14); NULL when unknown. */
const char *l2tp_result_name(uint16_t msg_type, uint16_t code);
const char *l2tp_error_name(uint16_t code);
/* The AVP of vendor 0 and `type`, or NULL. */
const struct l2tp_avp *l2tp_find_avp(const struct l2tp_msg *m, uint16_t type);

#endif
