/* PPP frames as carried by L2TP data messages and PPTP's GRE: the link control protocol
 * (RFC 1661), PAP (RFC 1334), CHAP (RFC 1994) with the Microsoft variants MS-CHAP
 * (RFC 2433) and MS-CHAPv2 (RFC 2759), EAP (RFC 3748), the network control protocols IPCP
 * (RFC 1332, 1877), CCP (RFC 1962, MPPE/MPPC per RFC 3078), IPV6CP (RFC 5072), ECP
 * (RFC 1968), the Multilink header (RFC 1990), and IP/IPv6 payloads handed back as bytes.
 *
 * The decoder is pure and zero-copy: every pointer in a struct ppp_msg points into the
 * buffer given to ppp_decode and stays valid while that buffer does.
 */
#ifndef VNET_PPP_H
#define VNET_PPP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "diag.h"

/* ---- protocol numbers --------------------------------------------------------- */
#define PPP_PROTO_IP      0x0021
#define PPP_PROTO_MP      0x003d /* Multilink */
#define PPP_PROTO_IPV6    0x0057
#define PPP_PROTO_COMP    0x00fd /* compressed datagram (MPPE/MPPC) */
#define PPP_PROTO_IPCP    0x8021
#define PPP_PROTO_ECP     0x8053
#define PPP_PROTO_IPV6CP  0x8057
#define PPP_PROTO_CCP     0x80fd
#define PPP_PROTO_LCP     0xc021
#define PPP_PROTO_PAP     0xc023
#define PPP_PROTO_LQR     0xc025
#define PPP_PROTO_BAP     0xc02d
#define PPP_PROTO_CHAP    0xc223
#define PPP_PROTO_EAP     0xc227

/* ---- control protocol codes (LCP; IPCP/CCP/IPV6CP/ECP use 1..7, CCP/ECP 14/15) -- */
enum ppp_cp_code {
	PPP_CONF_REQ = 1, PPP_CONF_ACK = 2, PPP_CONF_NAK = 3, PPP_CONF_REJ = 4,
	PPP_TERM_REQ = 5, PPP_TERM_ACK = 6, PPP_CODE_REJ = 7, PPP_PROTO_REJ = 8,
	PPP_ECHO_REQ = 9, PPP_ECHO_REPLY = 10, PPP_DISCARD_REQ = 11, PPP_IDENTIFICATION = 12,
	PPP_TIME_REMAINING = 13, PPP_RESET_REQ = 14, PPP_RESET_ACK = 15,
};

/* LCP option types */
enum {
	LCP_OPT_MRU = 1, LCP_OPT_ACCM = 2, LCP_OPT_AUTH = 3, LCP_OPT_QUALITY = 4,
	LCP_OPT_MAGIC = 5, LCP_OPT_PFC = 7, LCP_OPT_ACFC = 8, LCP_OPT_FCS_ALT = 9,
	LCP_OPT_SDP = 10, LCP_OPT_NUMBERED = 11, LCP_OPT_CALLBACK = 13, LCP_OPT_MRRU = 17,
	LCP_OPT_SSNHF = 18, LCP_OPT_ENDPOINT = 19, LCP_OPT_LINK_DISC = 23,
};
/* IPCP option types */
enum {
	IPCP_OPT_ADDRS = 1, IPCP_OPT_COMP = 2, IPCP_OPT_ADDR = 3, IPCP_OPT_DNS1 = 129,
	IPCP_OPT_NBNS1 = 130, IPCP_OPT_DNS2 = 131, IPCP_OPT_NBNS2 = 132,
};
#define CCP_OPT_MPPE      18 /* MPPE/MPPC supported bits (RFC 2118, 3078) */
#define IPV6CP_OPT_IFID   1

/* CHAP algorithms (LCP Authentication-Protocol option, CHAP) */
#define CHAP_ALG_MD5      5
#define CHAP_ALG_MSCHAP   0x80
#define CHAP_ALG_MSCHAPV2 0x81

/* MPPE/MPPC supported-bits (CCP option 18, 32-bit value) */
#define MPPE_BIT_H 0x01000000u /* stateless mode */
#define MPPE_BIT_M 0x00000080u /* 56-bit */
#define MPPE_BIT_S 0x00000040u /* 128-bit */
#define MPPE_BIT_L 0x00000020u /* 40-bit */
#define MPPE_BIT_D 0x00000010u /* obsolete */
#define MPPE_BIT_C 0x00000001u /* MPPC compression */

/* CHAP codes, EAP codes */
enum { CHAP_CHALLENGE = 1, CHAP_RESPONSE = 2, CHAP_SUCCESS = 3, CHAP_FAILURE = 4,
       CHAP_CHANGE_PASSWORD = 7 /* MS-CHAPv2 Change-Password (RFC 2759 section 7) */ };
enum { PAP_AUTH_REQ = 1, PAP_AUTH_ACK = 2, PAP_AUTH_NAK = 3 };
enum { EAP_REQUEST = 1, EAP_RESPONSE = 2, EAP_SUCCESS = 3, EAP_FAILURE = 4 };
enum { EAP_TYPE_IDENTITY = 1, EAP_TYPE_NOTIFICATION = 2, EAP_TYPE_NAK = 3, EAP_TYPE_MD5 = 4,
       EAP_TYPE_OTP = 5, EAP_TYPE_GTC = 6, EAP_TYPE_TLS = 13, EAP_TYPE_TTLS = 21,
       EAP_TYPE_PEAP = 25, EAP_TYPE_MSCHAPV2 = 26, EAP_TYPE_EXPANDED = 254 };

/* Value-to-name tables, exported for the rules engine and the pcap views. */
extern const struct tok ppp_proto_names[];    /* 0xc021 -> "LCP" */
extern const struct tok ppp_cp_code_names[];  /* 1 -> "Configure-Request" */
extern const struct tok ppp_lcp_opt_names[];
extern const struct tok ppp_ipcp_opt_names[];
extern const struct tok ppp_ccp_opt_names[];
extern const struct tok ppp_ipv6cp_opt_names[];
extern const struct tok ppp_chap_alg_names[]; /* 5 -> "MD5", 0x81 -> "MS-CHAPv2" */
extern const struct tok ppp_chap_code_names[];
extern const struct tok ppp_pap_code_names[];
extern const struct tok ppp_eap_code_names[];
extern const struct tok ppp_eap_type_names[];
extern const struct tok mschap_error_names[]; /* 691 -> "authentication failure" */

/* ---- decoded structures ------------------------------------------------------- */
#define PPP_MAX_OPTS 64

/* One configuration option (type, length >= 2, data). */
struct ppp_opt {
	uint8_t type;
	uint8_t len;         /* as on the wire, includes type and length octets */
	const uint8_t *data; /* len - 2 bytes */
	size_t dlen;
	size_t off;          /* offset of the option within the PPP frame */
};

/* LCP and the NCPs (IPCP, CCP, IPV6CP, ECP): the same packet shape. */
struct ppp_cp {
	uint8_t code, id;
	uint16_t length;      /* Length field (header + data); bytes after it are padding */
	/* Configure-Request/Ack/Nak/Reject */
	size_t nopts;
	struct ppp_opt opts[PPP_MAX_OPTS];
	/* Echo-Request/Reply, Discard-Request, Identification, Time-Remaining (LCP) */
	bool has_magic;
	uint32_t magic;
	uint32_t seconds;     /* Time-Remaining */
	/* Protocol-Reject (LCP) */
	uint16_t rejected_proto;
	/* data after the fixed fields: Terminate data, rejected packet (Code-Reject,
	 * Protocol-Reject), echo data, Identification message, Time-Remaining message,
	 * or the whole body for codes this protocol does not define */
	const uint8_t *data;
	size_t dlen;
};

struct ppp_pap {
	uint8_t code, id;
	uint16_t length;
	const uint8_t *peer_id;  size_t peer_id_len;   /* Authenticate-Request */
	const uint8_t *password; size_t password_len;  /* rendered as its length unless
	                                                  ppp_hint.show_password */
	const uint8_t *msg;      size_t msg_len;       /* Ack/Nak */
};

/* MS-CHAP(v2) Failure text: "E=eeeeeeeeee R=r C=cccc... V=vvvvvvvvvv M=<msg>" (RFC 2759
 * section 6, RFC 2433). E comes first; the others may be missing, has_* says which were
 * seen, and a field that is present must be well formed. */
struct mschap_failure {
	bool has_error, has_retry, has_challenge, has_version, has_msg;
	unsigned error;            /* E: 646..649, 691, 709 */
	unsigned retry;            /* R: 0 or 1 */
	uint8_t challenge[16];     /* C: 8 bytes (MS-CHAPv1, 16 hex) or 16 (v2, 32 hex) */
	size_t challenge_len;
	unsigned version;          /* V */
	const uint8_t *msg;        /* M=..., to the end of the text */
	size_t msg_len;
};

/* MS-CHAPv2 Success text: "S=<40 hex> M=<msg>" (the M part may be absent). */
struct mschap_success {
	uint8_t auth_response[20];
	const uint8_t *msg;
	size_t msg_len;
	bool has_msg;
};

enum ppp_chap_variant {
	PPP_CHAP_PLAIN = 0,   /* MD5 or not recognisable */
	PPP_CHAP_MSCHAPV1,
	PPP_CHAP_MSCHAPV2,
};

struct ppp_chap {
	uint8_t code, id;
	uint16_t length;
	/* Challenge / Response */
	const uint8_t *value; size_t value_len;
	const uint8_t *name;  size_t name_len;
	/* Success / Failure: the message, and its MS-CHAP parse when it has that shape */
	const uint8_t *msg;   size_t msg_len;
	enum ppp_chap_variant variant; /* from the hint given to ppp_decode_ex, else guessed
	                                  from value lengths and reserved bytes */
	/* MS-CHAPv2 Response (49-byte value): */
	const uint8_t *peer_challenge; /* 16 */
	const uint8_t *nt_response;    /* 24 (also MS-CHAPv1) */
	uint16_t flags;                /* v2: reserved 0; v1: 1 = use NT response; 2 bytes in
	                                  Change-Password */
	/* MS-CHAPv1 Response: */
	const uint8_t *lm_response;    /* 24 */
	bool has_success, has_failure;
	struct mschap_success success;
	struct mschap_failure failure;
	/* MS-CHAPv2 Change-Password (code 7, RFC 2759 section 7): 582-byte body */
	const uint8_t *enc_password;   /* 516 */
	const uint8_t *enc_hash;       /* 16 */
	/* peer_challenge, nt_response and flags are filled from the same packet */
};

/* EAP (RFC 3748) with the method fields vnet shows. */
struct ppp_eap {
	uint8_t code, id;
	uint16_t length;
	bool has_type;
	uint8_t type;
	const uint8_t *type_data; size_t type_data_len; /* after the type octet */
	/* Identity / Notification: type_data is the text. Nak: the desired types. */
	/* MD5-Challenge: */
	const uint8_t *value; size_t value_len;
	const uint8_t *name;  size_t name_len;
	/* TLS, TTLS, PEAP: flags L(0x80) M(0x40) S(0x20), version in low 3 bits (TTLS/PEAP) */
	uint8_t tls_flags;
	bool has_tls_len;
	uint32_t tls_len;
	const uint8_t *tls_data; size_t tls_data_len;
	/* EAP-MS-CHAPv2 (type 26): opcode (CHAP codes), MS-CHAPv2-ID, MS-Length, then the
	 * CHAP body, decoded into `chap` (code = opcode, id = MS-CHAPv2-ID). */
	bool has_mschapv2;
	struct ppp_chap chap;
	/* Expanded type (254): vendor id and type */
	uint32_t exp_vendor, exp_type;
	uint16_t ms_length;       /* EAP-MS-CHAPv2 MS-Length */
	bool has_ms_header;       /* opcode, MS-CHAPv2-ID and MS-Length present (not a bare
	                             Success/Failure acknowledgement from the peer) */
};

/* Multilink header (RFC 1990): long sequence format unless the hint says short. */
struct ppp_mp {
	bool begin, end;
	bool short_seq;
	uint32_t seq;             /* 24 bits (long) or 12 bits (short) */
	const uint8_t *frag; size_t frag_len;
};

enum ppp_kind {
	PPP_KIND_CP,      /* LCP, IPCP, CCP, IPV6CP, ECP: `cp` */
	PPP_KIND_PAP,     /* `pap` */
	PPP_KIND_CHAP,    /* `chap` */
	PPP_KIND_EAP,     /* `eap` */
	PPP_KIND_MP,      /* `mp` */
	PPP_KIND_DATA,    /* IP, IPv6, compressed datagram: payload only */
	PPP_KIND_UNKNOWN, /* protocol shown by number: payload only */
};

struct ppp_msg {
	bool has_acf;            /* 0xff 0x03 address/control present (absent under ACFC) */
	bool pfc;                /* protocol field compressed to one byte */
	uint16_t proto;
	size_t hdr_len;          /* bytes before the payload: ACF + protocol field */
	const uint8_t *payload;  /* after the protocol field, to the end of the frame */
	size_t payload_len;
	enum ppp_kind kind;
	struct ppp_cp cp;
	struct ppp_pap pap;
	struct ppp_chap chap;
	struct ppp_eap eap;
	struct ppp_mp mp;
};

/* What the decoder cannot see in one frame: the negotiated CHAP algorithm and the
 * Multilink sequence format. Zero means "unknown": the decoder then guesses MS-CHAP
 * variants from the packet and assumes the long Multilink format. */
struct ppp_hint {
	uint8_t chap_alg;        /* 5, 0x80, 0x81 or 0 */
	bool mp_short_seq;
	bool show_password;      /* PAP password text in the summary/JSON, not only length */
};

/* ---- the codec calls ------------------------------------------------------------ */
int ppp_decode(const uint8_t *p, size_t len, struct ppp_msg *out, struct diag_err *err);
int ppp_decode_ex(const uint8_t *p, size_t len, const struct ppp_hint *hint,
                  struct ppp_msg *out, struct diag_err *err);
void ppp_summary(const struct ppp_msg *m, char *buf, size_t bufsz);
json_t *ppp_to_json(const struct ppp_msg *m);
/* The same as members of the open object of a JSON writer (streamed or a tree). */
void ppp_jw(struct jw *w, const struct ppp_msg *m);
/* PAP passwords are left out of summary/JSON unless `show_password`. */
void ppp_summary_ex(const struct ppp_msg *m, const struct ppp_hint *hint, char *buf,
                    size_t bufsz);
json_t *ppp_to_json_ex(const struct ppp_msg *m, const struct ppp_hint *hint);
void ppp_jw_ex(struct jw *w, const struct ppp_msg *m, const struct ppp_hint *hint);
/* Encodes the header (ACF when has_acf, protocol in one byte when pfc and it fits) and
 * the body from the kind's struct; Length fields are computed. 0 when it does not fit. */
size_t ppp_encode(const struct ppp_msg *m, uint8_t *buf, size_t cap);

/* An EAP packet on its own (RADIUS EAP-Message, 802.1X): the fields and renderings of
 * PPP's EAP; error offsets count from p. The summary reads "EAP Response id 1 Identity
 * \"user\"". */
int ppp_eap_decode(const uint8_t *p, size_t len, struct ppp_eap *out, struct diag_err *err);
void ppp_eap_summary(const struct ppp_eap *e, char *buf, size_t bufsz);
json_t *ppp_eap_to_json(const struct ppp_eap *e);
void ppp_eap_jw(struct jw *w, const struct ppp_eap *e); /* members, into the open object */

/* ---- helpers -------------------------------------------------------------------- */
/* Learn from an LCP Configure-Ack what later frames of the same link need: the CHAP
 * algorithm of an acknowledged Authentication-Protocol option, and the short Multilink
 * sequence format when Short-Sequence-Number-Header-Format was acknowledged (one hint per
 * link; both directions are treated alike). Returns true when the hint changed. */
bool ppp_hint_update(struct ppp_hint *hint, const struct ppp_msg *m);
/* First option of `type`, or NULL. */
const struct ppp_opt *ppp_cp_find_opt(const struct ppp_cp *cp, uint8_t type);
/* Parse MS-CHAP Failure / MS-CHAPv2 Success text (also used for RADIUS MS-CHAP-Error
 * and MS-CHAP2-Success). 0 when the text has the shape, -1 otherwise. */
int mschap_parse_failure(const uint8_t *s, size_t len, struct mschap_failure *f);
int mschap_parse_success(const uint8_t *s, size_t len, struct mschap_success *sc);
/* "authentication failure" for 691 etc., NULL when not a known Windows error. */
const char *mschap_error_name(unsigned e);

#endif
