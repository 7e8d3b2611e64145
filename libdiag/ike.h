/* IKE codec: ISAKMP/IKEv1 (RFC 2408/2409, NAT-T RFC 3947), IKEv2 (RFC 7296, RFC 7383
 * fragments). One decoder for both versions; the version comes from the header.
 *
 * A decoded message is zero-copy: every pointer points into the buffer handed to
 * ike_decode and stays valid while that buffer does. Payloads, proposals, transforms,
 * attributes and traffic selectors live in flat fixed-capacity arrays inside
 * struct ike_msg; a payload or proposal refers to its children by first index and count.
 * Exceeding a capacity is a decode error, never a silent drop.
 *
 * UDP 4500 framing (non-ESP marker, NAT-keepalive, ESP) is in esp.h: natt_classify.
 */
#ifndef VNET_IKE_H
#define VNET_IKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "diag.h"

#define IKE_HDR_LEN 28
#define IKE_MAX_PAYLOADS 64
#define IKE_MAX_PROPOSALS 64
#define IKE_MAX_TRANSFORMS 256
#define IKE_MAX_ATTRS 512
#define IKE_MAX_TS 32

/* ---- numbers ----------------------------------------------------------------- */
/* IKEv1 exchange types (RFC 2408 3.1, RFC 2409, draft mode-cfg) */
enum {
	IKE1_EXCH_BASE = 1, IKE1_EXCH_MAIN = 2, IKE1_EXCH_AUTH_ONLY = 3,
	IKE1_EXCH_AGGRESSIVE = 4, IKE1_EXCH_INFO = 5, IKE1_EXCH_TRANSACTION = 6,
	IKE1_EXCH_QUICK = 32, IKE1_EXCH_NEW_GROUP = 33,
};
/* IKEv2 exchange types (RFC 7296 3.1) */
enum {
	IKE2_EXCH_SA_INIT = 34, IKE2_EXCH_AUTH = 35, IKE2_EXCH_CREATE_CHILD_SA = 36,
	IKE2_EXCH_INFORMATIONAL = 37,
};
/* IKEv1 payload types (RFC 2408 3.1, RFC 3947, draft NAT-T numbers 130/131) */
enum {
	IKE1_PL_NONE = 0, IKE1_PL_SA = 1, IKE1_PL_P = 2, IKE1_PL_T = 3, IKE1_PL_KE = 4,
	IKE1_PL_ID = 5, IKE1_PL_CERT = 6, IKE1_PL_CR = 7, IKE1_PL_HASH = 8, IKE1_PL_SIG = 9,
	IKE1_PL_NONCE = 10, IKE1_PL_N = 11, IKE1_PL_D = 12, IKE1_PL_VID = 13,
	IKE1_PL_ATTR = 14, IKE1_PL_NATD = 20, IKE1_PL_NATOA = 21,
	IKE1_PL_NATD_DRAFT = 130, IKE1_PL_NATOA_DRAFT = 131,
	IKE1_PL_FRAG = 132,   /* IKEv1 fragmentation (Cisco/Microsoft "FRAGMENTATION" VID) */
};
/* IKEv2 payload types (RFC 7296 3.2, RFC 7383) */
enum {
	IKE2_PL_NONE = 0, IKE2_PL_SA = 33, IKE2_PL_KE = 34, IKE2_PL_IDI = 35,
	IKE2_PL_IDR = 36, IKE2_PL_CERT = 37, IKE2_PL_CERTREQ = 38, IKE2_PL_AUTH = 39,
	IKE2_PL_NONCE = 40, IKE2_PL_N = 41, IKE2_PL_D = 42, IKE2_PL_V = 43,
	IKE2_PL_TSI = 44, IKE2_PL_TSR = 45, IKE2_PL_SK = 46, IKE2_PL_CP = 47,
	IKE2_PL_EAP = 48, IKE2_PL_SKF = 53,
};
/* Header flags */
#define IKE1_FLAG_E 0x01 /* encryption */
#define IKE1_FLAG_C 0x02 /* commit */
#define IKE1_FLAG_A 0x04 /* authentication only */
#define IKE2_FLAG_I 0x08 /* original initiator */
#define IKE2_FLAG_V 0x10 /* higher version supported */
#define IKE2_FLAG_R 0x20 /* response */

/* ---- decoded message --------------------------------------------------------- */

/* A data attribute: IKEv1 SA/transform attributes and mode-config attributes (TV when
 * the AF bit is set, else TLV), IKEv2 transform attributes and CP attributes. */
struct ike_attr {
	uint16_t type;        /* without the AF bit */
	bool tv;              /* short form: value in `value`, no data */
	uint32_t value;       /* TV value, or a TLV value of 1..4 bytes read as a number */
	const uint8_t *val;   /* TLV value bytes (NULL for TV) */
	uint16_t len;         /* TLV value length */
	size_t off;           /* offset of the attribute in the message */
};

struct ike_transform {
	uint8_t num;          /* IKEv1 transform number; 0 in IKEv2 */
	uint8_t type;         /* IKEv2 transform type (1 ENCR .. 5 ESN); 0 in IKEv1 */
	uint16_t id;          /* transform id (v1: KEY_IKE / ESP_3DES ...; v2 per type) */
	bool last;            /* IKEv2 "last substructure" (0) vs more (3); v1 next == 0 */
	uint16_t attr_first, attr_count; /* in ike_msg.attrs */
	size_t off;
};

struct ike_proposal {
	uint8_t num;
	uint8_t protocol;     /* 1 ISAKMP/IKE, 2 AH, 3 ESP, 4 IPCOMP */
	uint8_t spi_size;
	const uint8_t *spi;
	uint8_t ntransforms;  /* as claimed in the proposal */
	bool last;
	uint16_t xf_first, xf_count; /* in ike_msg.xforms */
	size_t off;
};

/* IKEv2 traffic selector (RFC 7296 3.13.1) */
struct ike_ts {
	uint8_t type;         /* 7 IPv4 range, 8 IPv6 range */
	uint8_t proto;        /* IP protocol, 0 any */
	uint16_t start_port, end_port;
	const uint8_t *start, *end;
	uint8_t addr_len;     /* 4 or 16 (0 for an unknown type: raw in start, len in sel_len) */
	uint16_t sel_len;     /* whole selector length */
	size_t off;
};

struct ike_payload {
	uint8_t type;         /* payload type number (version-specific) */
	uint8_t next;         /* next payload as written in the generic header */
	bool critical;        /* IKEv2 critical bit */
	uint8_t reserved;     /* the rest of the byte after next payload (v2 without C bit) */
	uint16_t len;         /* claimed length incl. the 4-byte generic header */
	size_t off;           /* offset of the generic header in the message */
	const uint8_t *body;  /* after the generic header */
	size_t body_len;
	bool encrypted;       /* IKEv1 encrypted body (E flag) or IKEv2 SK/SKF: not parsed */

	/* type-specific fields; only those of `type` are meaningful */
	uint32_t doi;         /* v1 SA, N, D */
	uint32_t situation;   /* v1 SA */
	uint16_t prop_first, prop_count; /* SA */

	uint16_t group;       /* v2 KE: DH group */

	uint8_t id_type;      /* ID/IDi/IDr/NAT-OA type; CERT/CERTREQ encoding; AUTH method;
	                         v1 attribute payload / v2 CP: cfg type */
	uint8_t id_proto;     /* v1 ID protocol */
	uint16_t id_port;     /* v1 ID port; v1 attribute payload: identifier; v1 fragment id */
	const uint8_t *data;  /* the payload's value: ID data, cert, hash, nonce, notify data,
	                         VID bytes, KE data, AUTH data, SPIs of D, EAP message, SK body */
	size_t data_len;

	uint8_t protocol;     /* N, D: protocol id */
	uint8_t spi_size;     /* N, D */
	uint16_t notify;      /* N: notify message type */
	const uint8_t *spi;   /* N: the SPI */
	uint16_t nspi;        /* D: number of SPIs */

	uint16_t attr_first, attr_count; /* v1 attribute payload / v2 CP attributes */
	uint16_t ts_first, ts_count;     /* v2 TSi/TSr (count as decoded) */
	uint8_t ts_num;                  /* v2 TS: number claimed */

	uint16_t frag_num, frag_total;   /* v2 SKF (RFC 7383) */
	uint8_t inner_next;              /* SK/SKF: first inner payload type; v1 E: first */

	uint8_t eap_code, eap_id, eap_type; /* v2 EAP (type only for request/response) */
	uint16_t eap_len;

	/* v1 fragment (type 132): fragment id in id_port, number in frag_num, data in data */
	uint8_t frag_flags;              /* bit 0: last fragment */
};

struct ike_msg {
	uint8_t ispi[8], rspi[8];   /* initiator/responder SPIs (IKEv1 cookies) */
	uint8_t next;               /* first payload */
	uint8_t major, minor;       /* 1.0 or 2.0 */
	uint8_t exchange;
	uint8_t flags;
	uint32_t msgid;
	uint32_t length;            /* claimed total length */
	char dir;                   /* sender's role, 'i' / 'r' / 0 unknown: v2 from the I
	                               flag; v1 'i' when the responder cookie is zero. Callers
	                               knowing the direction may set it before ike_summary.
	                               (v2 summaries add "request"/"response" when the R flag
	                               is not the usual one for the role.) */

	struct ike_payload pl[IKE_MAX_PAYLOADS];
	uint16_t npl;
	struct ike_proposal props[IKE_MAX_PROPOSALS];
	uint16_t nprops;
	struct ike_transform xforms[IKE_MAX_TRANSFORMS];
	uint16_t nxforms;
	struct ike_attr attrs[IKE_MAX_ATTRS];
	uint16_t nattrs;
	struct ike_ts ts[IKE_MAX_TS];
	uint16_t nts;

	const uint8_t *extra;       /* bytes inside `length` after the last payload (shown as
	                               extra data, written back by ike_encode) */
	size_t extra_len;
};

/* The four codec calls (see libdiag conventions). ike_decode needs the ISAKMP header at
 * p[0] (strip the 4-byte non-ESP marker on UDP 4500 first). Trailing bytes after the
 * claimed length are ignored; a claimed length beyond `len` is an error. On failure the
 * header and the first out->npl payloads (those decoded completely) remain valid. */
int ike_decode(const uint8_t *p, size_t len, struct ike_msg *out, struct diag_err *err);
void ike_summary(const struct ike_msg *m, char *buf, size_t bufsz);
json_t *ike_to_json(const struct ike_msg *m);
/* Writes the header and every payload from the structured fields (lengths recomputed);
 * encrypted bodies and payloads of unknown type are written from body/body_len. */
size_t ike_encode(const struct ike_msg *m, uint8_t *buf, size_t cap);

/* Building messages for encoders/generators: start a message, append payloads. Each
 * adder returns the new payload (next/len filled in by ike_encode) or NULL when full. */
void ike_msg_init(struct ike_msg *m, int version, uint8_t exchange, uint8_t flags,
                  uint32_t msgid, const uint8_t ispi[8], const uint8_t rspi[8]);
struct ike_payload *ike_add_payload(struct ike_msg *m, uint8_t type,
                                    const uint8_t *data, size_t data_len);
struct ike_proposal *ike_add_proposal(struct ike_msg *m, struct ike_payload *sa,
                                      uint8_t num, uint8_t protocol,
                                      const uint8_t *spi, uint8_t spi_size);
struct ike_transform *ike_add_transform(struct ike_msg *m, struct ike_proposal *pr,
                                        uint8_t type, uint16_t id);
/* Adds to the last payload when it is a v1 attribute / v2 CP payload, else to the last
 * transform added. TV (when asked) needs a value that fits 16 bits; CP is always TLV. */
struct ike_attr *ike_add_attr(struct ike_msg *m, uint16_t type, bool tv, uint32_t value,
                              const uint8_t *val, uint16_t len);

/* ---- names ------------------------------------------------------------------- */
extern const struct tok ike1_exchange_tok[], ike2_exchange_tok[];
extern const struct tok ike1_payload_tok[], ike2_payload_tok[];   /* short: "SA" "KE" */
extern const struct tok ike1_notify_tok[], ike2_notify_tok[];     /* NO_PROPOSAL_CHOSEN */

/* Further tables (for renderers and rules): attribute, transform and identity names. */
extern const struct tok ike1_p1_attr_tok[], ike1_p2_attr_tok[], ike1_auth_method_tok[];
extern const struct tok ike_dh_group_tok[], ike1_encap_mode_tok[], ike_cfg_attr_tok[];
extern const struct tok ike_cfg_type_tok[], ike1_proto_tok[], ike2_proto_tok[];
extern const struct tok ike2_xf_type_tok[], ike1_id_type_tok[], ike2_id_type_tok[];
extern const struct tok ike_cert_enc_tok[], ike2_auth_method_tok[], ike2_ts_type_tok[];
extern const struct tok ike_eap_code_tok[], ike_eap_type_tok[];
/* IKEv1 attribute names by proposal protocol (1 ISAKMP: phase 1, else IPsec DOI) */
const struct tok *ike1_attr_tok(uint8_t protocol);
/* Value names of an IKEv1 attribute; NULL when the value is a number (lifetimes...) */
const struct tok *ike1_attr_value_tok(uint8_t protocol, uint16_t type);
/* Transform ID names: IKEv1 by protocol, IKEv2 by transform type */
const struct tok *ike1_xf_tok(uint8_t protocol);
const struct tok *ike2_xf_tok(uint8_t type);
const struct tok *ike2_xf_attr_name_tok(void);

/* Names (NULL when unknown). version is 1 or 2. */
const char *ike_exchange_name(int version, unsigned type);
const char *ike_payload_name(int version, unsigned type);
const char *ike_notify_name(int version, unsigned type);

/* The facts vocabulary value (`ike.auth_method`: "psk", "rsa-sig", "ecdsa", "eap") of an
 * IKEv1 Authentication-Method attribute (XAUTH and hybrid variants by their base method)
 * or an IKEv2 AUTH method; NULL for the others (DSS, encryption-based, NULL auth...). */
const char *ike_auth_method_fact(int version, unsigned method);
/* Bytes of key exchange data a KE payload of DH `group` carries; 0 when not fixed or
 * not known. */
unsigned ike_dh_ke_len(unsigned group);

/* Vendor ID: the implementation a VID names ("Windows 10", "strongSwan", "RFC 3947 NAT-T",
 * "Dead Peer Detection v1.0" ...), matched by exact bytes or by prefix; NULL if unknown. */
const char *ike_vendor_name(const uint8_t *vid, size_t len);
/* The client family a VID reveals: "windows", "strongswan", "apple", "android" or NULL
 * (facts vocabulary `ike.client_vendor`). */
const char *ike_vendor_client(const uint8_t *vid, size_t len);
/* The same over every VID / V payload of a message (first family found). */
const char *ike_msg_client_vendor(const struct ike_msg *m);

#endif
