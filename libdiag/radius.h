/* RADIUS (RFC 2865 authentication, RFC 2866 accounting, RFC 2868 tunnel attributes,
 * RFC 2869 extensions incl. EAP-Message and Message-Authenticator) with the Microsoft
 * vendor-specific attributes of RFC 2548.
 *
 * The decoder is pure and zero-copy. Vendor-Specific attributes are split into their
 * sub-attributes: each becomes its own entry in `attrs` with `vendor` set.
 * The signing helpers use the shared secret; they never log or keep it.
 */
#ifndef VNET_RADIUS_H
#define VNET_RADIUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "diag.h"

enum radius_code {
	RADIUS_ACCESS_REQUEST = 1, RADIUS_ACCESS_ACCEPT = 2, RADIUS_ACCESS_REJECT = 3,
	RADIUS_ACCOUNTING_REQUEST = 4, RADIUS_ACCOUNTING_RESPONSE = 5,
	RADIUS_ACCESS_CHALLENGE = 11, RADIUS_STATUS_SERVER = 12, RADIUS_STATUS_CLIENT = 13,
	RADIUS_DISCONNECT_REQUEST = 40, RADIUS_DISCONNECT_ACK = 41, RADIUS_DISCONNECT_NAK = 42,
	RADIUS_COA_REQUEST = 43, RADIUS_COA_ACK = 44, RADIUS_COA_NAK = 45,
};

/* attribute types used by name in code */
enum {
	RADIUS_ATTR_USER_NAME = 1, RADIUS_ATTR_USER_PASSWORD = 2, RADIUS_ATTR_CHAP_PASSWORD = 3,
	RADIUS_ATTR_NAS_IP_ADDRESS = 4, RADIUS_ATTR_NAS_PORT = 5, RADIUS_ATTR_SERVICE_TYPE = 6,
	RADIUS_ATTR_FRAMED_PROTOCOL = 7, RADIUS_ATTR_FRAMED_IP_ADDRESS = 8,
	RADIUS_ATTR_REPLY_MESSAGE = 18, RADIUS_ATTR_STATE = 24, RADIUS_ATTR_CLASS = 25,
	RADIUS_ATTR_VENDOR_SPECIFIC = 26, RADIUS_ATTR_CALLING_STATION_ID = 31,
	RADIUS_ATTR_NAS_IDENTIFIER = 32, RADIUS_ATTR_ACCT_STATUS_TYPE = 40,
	RADIUS_ATTR_ACCT_SESSION_ID = 44, RADIUS_ATTR_ACCT_TERMINATE_CAUSE = 49,
	RADIUS_ATTR_CHAP_CHALLENGE = 60, RADIUS_ATTR_NAS_PORT_TYPE = 61,
	RADIUS_ATTR_TUNNEL_TYPE = 64, RADIUS_ATTR_TUNNEL_MEDIUM_TYPE = 65,
	RADIUS_ATTR_TUNNEL_PASSWORD = 69, RADIUS_ATTR_EAP_MESSAGE = 79,
	RADIUS_ATTR_MESSAGE_AUTHENTICATOR = 80,
	RADIUS_ATTR_SESSION_TIMEOUT = 27, RADIUS_ATTR_IDLE_TIMEOUT = 28,
	RADIUS_ATTR_CALLED_STATION_ID = 30, RADIUS_ATTR_ACCT_DELAY_TIME = 41,
	RADIUS_ATTR_ACCT_INPUT_OCTETS = 42, RADIUS_ATTR_ACCT_OUTPUT_OCTETS = 43,
	RADIUS_ATTR_ACCT_AUTHENTIC = 45, RADIUS_ATTR_ACCT_SESSION_TIME = 46,
	RADIUS_ATTR_ACCT_INPUT_PACKETS = 47, RADIUS_ATTR_ACCT_OUTPUT_PACKETS = 48,
	RADIUS_ATTR_EVENT_TIMESTAMP = 55, RADIUS_ATTR_ACCT_INTERIM_INTERVAL = 85,
};

/* Acct-Status-Type values (RFC 2866 5.1) */
enum { RADIUS_ACCT_START = 1, RADIUS_ACCT_STOP = 2, RADIUS_ACCT_INTERIM = 3,
	RADIUS_ACCT_ON = 7, RADIUS_ACCT_OFF = 8 };
/* Acct-Terminate-Cause values (RFC 2866 5.10) */
enum { RADIUS_TC_USER_REQUEST = 1, RADIUS_TC_LOST_CARRIER = 2, RADIUS_TC_LOST_SERVICE = 3,
	RADIUS_TC_IDLE_TIMEOUT = 4, RADIUS_TC_SESSION_TIMEOUT = 5, RADIUS_TC_ADMIN_RESET = 6,
	RADIUS_TC_ADMIN_REBOOT = 7, RADIUS_TC_PORT_ERROR = 8, RADIUS_TC_NAS_ERROR = 9,
	RADIUS_TC_NAS_REQUEST = 10, RADIUS_TC_NAS_REBOOT = 11, RADIUS_TC_PORT_UNNEEDED = 12,
	RADIUS_TC_PORT_PREEMPTED = 13, RADIUS_TC_PORT_SUSPENDED = 14,
	RADIUS_TC_SERVICE_UNAVAILABLE = 15, RADIUS_TC_CALLBACK = 16, RADIUS_TC_USER_ERROR = 17,
	RADIUS_TC_HOST_REQUEST = 18 };

#define RADIUS_VENDOR_MICROSOFT 311
enum {
	MS_CHAP_RESPONSE = 1, MS_CHAP_ERROR = 2, MS_CHAP_CPW_1 = 3, MS_CHAP_CPW_2 = 4,
	MS_CHAP_LM_ENC_PW = 5, MS_CHAP_NT_ENC_PW = 6, MS_MPPE_ENCRYPTION_POLICY = 7,
	MS_MPPE_ENCRYPTION_TYPES = 8, MS_RAS_VENDOR = 9, MS_CHAP_CHALLENGE = 11,
	MS_CHAP_MPPE_KEYS = 12, MS_BAP_USAGE = 13, MS_LINK_UTILIZATION_THRESHOLD = 14,
	MS_LINK_DROP_TIME_LIMIT = 15, MS_MPPE_SEND_KEY = 16, MS_MPPE_RECV_KEY = 17,
	MS_RAS_VERSION = 18, MS_OLD_ARAP_PASSWORD = 19, MS_NEW_ARAP_PASSWORD = 20,
	MS_ARAP_PASSWORD_CHANGE_REASON = 21, MS_FILTER = 22, MS_ACCT_AUTH_TYPE = 23,
	MS_ACCT_EAP_TYPE = 24, MS_CHAP2_RESPONSE = 25, MS_CHAP2_SUCCESS = 26,
	MS_CHAP2_CPW = 27, MS_PRIMARY_DNS_SERVER = 28, MS_SECONDARY_DNS_SERVER = 29,
	MS_PRIMARY_NBNS_SERVER = 30, MS_SECONDARY_NBNS_SERVER = 31,
	MS_ARAP_CHALLENGE = 33,
};

extern const struct tok radius_code_names[];
extern const struct tok radius_attr_names[];
extern const struct tok radius_ms_attr_names[];
extern const struct tok radius_vendor_names[];
extern const struct tok radius_acct_status_names[];    /* "Start", "Stop", ... */
extern const struct tok radius_terminate_cause_names[]; /* "User-Request", ... */

#define RADIUS_MAX_ATTRS 96
#define RADIUS_MIN_LEN 20
#define RADIUS_MAX_LEN 4096

struct radius_attr {
	uint8_t type;          /* 26 for every vendor sub-attribute */
	uint32_t vendor;       /* type 26: the Vendor-Id of the enclosing Vendor-Specific */
	uint8_t vtype;         /* vendor type (type 26, not opaque) */
	const uint8_t *val;    /* value bytes (for a VSA: the sub-attribute's value) */
	size_t vlen;
	size_t off;            /* offset of the attribute (or sub-attribute) header */
	bool vsa_opaque;       /* vendor data not in type/length form, or Vendor-Id 0: val
	                          is everything after the Vendor-Id */
	bool vsa_cont;         /* shares the Vendor-Specific attribute of the entry before */
};

struct radius_msg {
	uint8_t code, id;
	uint16_t length;       /* Length field; octets past it in the datagram are padding */
	const uint8_t *auth;   /* 16 bytes */
	size_t nattrs;
	struct radius_attr attrs[RADIUS_MAX_ATTRS];
};

int radius_decode(const uint8_t *p, size_t len, struct radius_msg *out, struct diag_err *err);
void radius_summary(const struct radius_msg *m, char *buf, size_t bufsz);
json_t *radius_to_json(const struct radius_msg *m);
/* The same as members of the open object of a JSON writer (streamed or a tree). */
void radius_jw(struct jw *w, const struct radius_msg *m);
/* Writes header and attributes (VSAs: one Vendor-Specific per run of sub-attributes
 * joined by vsa_cont; an opaque one as is), Length computed, authenticator copied from m->auth (16 zero bytes when
 * NULL). Sign afterwards with radius_sign. 0 when it does not fit or exceeds 4096. */
size_t radius_encode(const struct radius_msg *m, uint8_t *buf, size_t cap);

/* ---- lookups -------------------------------------------------------------------- */
/* First attribute of `type` (for 26: an opaque Vendor-Specific), or NULL. */
const struct radius_attr *radius_find(const struct radius_msg *m, uint8_t type);
/* First vendor sub-attribute `vtype` of `vendor`, or NULL. */
const struct radius_attr *radius_find_vsa(const struct radius_msg *m, uint32_t vendor,
                                          uint8_t vtype);

/* The EAP packet carried in the EAP-Message attributes, joined in order (RFC 3579
 * 3.1). Returns its length; 0 when there is none or it does not fit in cap. */
size_t radius_eap_message(const struct radius_msg *m, uint8_t *buf, size_t cap);

/* ---- shared-secret operations (RFC 2865 3/5.2, RFC 2866 3, RFC 2869 5.14) ----------- */
/* Fill in an encoded packet in place: the Message-Authenticator (when the packet has
 * one, 16 bytes of any value), then the authenticator: Accounting-Request and other
 * requests other than Access-Request get MD5(packet with zero authenticator + secret);
 * responses get MD5(code..length + request authenticator + attributes + secret), and
 * need `req_auth`. Access-Request keeps the random authenticator the caller put there.
 * 0 ok, -1 when the packet is malformed or req_auth is missing for a response. */
int radius_sign(uint8_t *pkt, size_t len, const uint8_t *req_auth, const uint8_t *secret,
                size_t secret_len);
/* Check the authenticator of a response (req_auth given) or an Accounting/other
 * request (req_auth NULL). 1 valid, 0 invalid, -1 malformed. */
int radius_verify_auth(const uint8_t *pkt, size_t len, const uint8_t *req_auth,
                       const uint8_t *secret, size_t secret_len);
/* Check the Message-Authenticator: 1 valid, 0 invalid, -1 malformed or absent.
 * For responses req_auth is the request's authenticator; for requests NULL. */
int radius_verify_msg_auth(const uint8_t *pkt, size_t len, const uint8_t *req_auth,
                           const uint8_t *secret, size_t secret_len);
/* HMAC-MD5 Message-Authenticator of pkt as it would be with its Message-Authenticator
 * value zeroed and (for a response) req_auth in the authenticator field. -1 when the
 * packet has no Message-Authenticator or is malformed. */
int radius_msg_auth(const uint8_t *pkt, size_t len, const uint8_t *req_auth,
                    const uint8_t *secret, size_t secret_len, uint8_t out[16]);

/* User-Password hiding (RFC 2865 5.2): pad to a multiple of 16 (max 128), XOR with the
 * MD5 chain. Returns the hidden length, 0 when pwlen > 128 or cap is short. */
size_t radius_hide_password(const uint8_t *pw, size_t pwlen, const uint8_t *secret,
                            size_t secret_len, const uint8_t req_auth[16], uint8_t *out,
                            size_t cap);
/* Inverse: length must be a multiple of 16 in 16..128; trailing NULs are removed.
 * Returns the password length or -1. `out` needs `len` bytes. */
int radius_unhide_password(const uint8_t *hidden, size_t len, const uint8_t *secret,
                           size_t secret_len, const uint8_t req_auth[16], uint8_t *out);

/* MS-MPPE-Send-Key / MS-MPPE-Recv-Key value (RFC 2548 2.4.2/2.4.3: 2-byte salt with the
 * top bit set, then the key-length octet, key and padding hidden like User-Password but
 * chained from request authenticator + salt). Writes the key, returns its length or -1
 * (bad salt, length not 2 + 16n, key length past the data, or cap too small). */
int radius_ms_mppe_key_decrypt(const uint8_t *val, size_t vlen, const uint8_t *secret,
                               size_t secret_len, const uint8_t req_auth[16], uint8_t *key,
                               size_t cap);
/* The inverse (what a RADIUS server puts in an Access-Accept): `salt` (its top bit is
 * set here; each key of one answer needs its own), then the key-length octet, the key
 * and zero padding to a multiple of 16, hidden with the chain. Writes 2 + 16n bytes
 * into out and returns that length; 0 when klen > 239 or cap is short. */
size_t radius_ms_mppe_key_encrypt(const uint8_t *key, size_t klen, const uint8_t salt[2],
                                  const uint8_t *secret, size_t secret_len,
                                  const uint8_t req_auth[16], uint8_t *out, size_t cap);

#endif
