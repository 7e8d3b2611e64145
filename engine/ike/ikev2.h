/* The responder of one IKEv2 SA (RFC 7296) for remote access as Windows' built-in IKEv2
 * VPN client uses it: the server proves itself with a certificate (RSA signature, AUTH
 * method 1, or RFC 7427 digital signature, method 14) or a pre-shared key, the client
 * with EAP-MSCHAPv2, a machine certificate (AUTH method 1 or 14 with its CERT, checked
 * against conf.client_trust) or a pre-shared key, a virtual address comes from the
 * configuration payload, and one or more ESP child SAs in tunnel mode carry the traffic.
 *
 *   IKE_SA_INIT      proposals from the conf lists, INVALID_KE_PAYLOAD when the KE group
 *                    is not the one chosen, NAT detection (a NAT moves IKE and ESP to
 *                    UDP 4500), FRAGMENTATION_SUPPORTED, SIGNATURE_HASH_ALGORITHMS
 *   IKE_AUTH         IDr, CERT, AUTH, then EAP: Identity, MS-CHAPv2 Challenge, Response,
 *                    Success; the final AUTH with the MSK as key (RFC 7296 2.16); CP with
 *                    INTERNAL_IP4_ADDRESS and INTERNAL_IP4_DNS, traffic selectors
 *                    narrowed to the virtual address, the first child SA
 *   CREATE_CHILD_SA  rekeying a child SA or the IKE SA, further child SAs; as initiator,
 *                    our own rekey of a child or of the IKE SA before its lifetime ends
 *                    (conf.child_rekey), with RFC 7296 2.8.1 / 2.8.2 collisions
 *   INFORMATIONAL    DELETE both ways, empty messages (liveness checks) both ways,
 *                    UPDATE_SA_ADDRESSES (MOBIKE, RFC 4555)
 *
 * IKE fragmentation (RFC 7383): fragments are checked one by one and reassembled within
 * IKEV2_FRAGS_MAX pieces and IKEV2_MSG_MAX bytes; replies longer than conf.frag_size go
 * out in fragments when the peer announced support.
 *
 * Sans-I/O as the other automata: datagrams come in through ikev2_input() with the
 * addresses they travelled between, replies leave through `send`, time is an argument
 * and every entry point returns the next deadline (IKEV2_NEVER when none). Every message
 * is read with libdiag's IKE decoder and built with its encoder; the cryptography is
 * engine/ike/ike_crypto.h, MS-CHAPv2 libdiag's mschap.h.
 *
 * What the owner does:
 *   - keys its table of SAs by our SPI (ikev2_rspi(); after an IKE SA rekey also
 *     ikev2_rspi_old() until the old SA is deleted, IKEV2_EV_REKEYED says when it
 *     changes, and ikev2_rspi_lost() while the losing SA of a rekey collision lasts;
 *     each may change after any call), found in a datagram as the responder's SPI when
 *     its I flag is set, else (an SA we rekeyed, we its initiator) as the initiator's
 *     SPI; an IKE_SA_INIT
 *     request (responder SPI zero) by the initiator's SPI
 *     and the peer's address, which finds the SA of a retransmitted or retried request;
 *   - before it creates an SA for a new IKE_SA_INIT, asks ikev2_cookie_check() whether a
 *     COOKIE must be demanded (its count of half-open SAs against its threshold);
 *   - strips the non-ESP marker on UDP 4500 and adds it when `send` says natt;
 *   - answers the `authorize` callback, at once or later, with ikev2_authorize_done();
 *   - moves ESP to the child SAs `child_up` announces (esp_sa.h), and frees the SA once
 *     ikev2_state() says IKEV2_DEAD.
 *
 * Failures end the SA with a cause, a stable dotted id the knowledge base knows
 * (`ike.v2.no-proposal`, `ike.v2.auth-failed`, ...): ikev2_cause().
 */
#ifndef VNET_IKEV2_H
#define VNET_IKEV2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "capture/espdecrypt.h"
#include "diag.h"
#include "ike/ike_crypto.h"
#include "ppp/ppp_auth.h"

#define IKEV2_NEVER UINT64_MAX
#define IKEV2_DATAGRAM_MAX 4096  /* largest datagram read (a fragment or a whole message) */
#define IKEV2_MSG_MAX 12288      /* largest message, reassembled or built */
#define IKEV2_FRAGS_MAX 24       /* fragments of one message, either way */
#define IKEV2_POLICY_MAX 64      /* IKE proposals a policy lists */
#define IKEV2_ESP_POLICY_MAX 16  /* ESP proposals a policy lists */
#define IKEV2_CHILDREN 4         /* child SAs of one IKE SA (a rekey needs two) */
#define IKEV2_RESENDS 8          /* the same reply for the same request, at most */
#define IKEV2_USER_MAX 256       /* longest EAP identity / MS-CHAPv2 name kept */
#define IKEV2_CERT_MAX 4096      /* longest certificate sent */
#define IKEV2_CHAIN_MAX 4        /* CA certificates sent after the server's own */
#define IKEV2_CERTS_TOTAL 8192   /* bytes of all the certificates of one message */

enum ikev2_state {
	IKEV2_START = 0,      /* nothing answered yet (or INVALID_KE_PAYLOAD sent) */
	IKEV2_INIT_DONE,      /* IKE_SA_INIT answered, waiting for IKE_AUTH */
	IKEV2_EAP,            /* EAP under way */
	IKEV2_AUTHORIZING,    /* credentials checked, the owner's verdict pending */
	IKEV2_EAP_OK,         /* EAP Success sent, waiting for the final AUTH */
	IKEV2_ESTABLISHED,
	IKEV2_DEAD,           /* failed, deleted or expired: the owner frees the SA */
};
extern const struct tok ikev2_state_names[];

/* An IKE proposal: encryption (IKEv2 transform IDs of ike_crypto.h: 3 3DES, 12 AES-CBC,
 * 20 AES-GCM-16) with its key length in bits (0 for 3DES), integrity (2 HMAC-SHA1-96,
 * 12 HMAC-SHA2-256-128, 13 HMAC-SHA2-384-192; 0 with GCM), PRF (2 HMAC-SHA1,
 * 5 HMAC-SHA2-256, 6 HMAC-SHA2-384), DH group (2, 14, 19, 20). */
struct ikev2_prop {
	uint16_t encr, keybits, integ, prf, group;
};
/* An ESP proposal: encryption, key length in bits, integrity (0 with GCM). */
struct ikev2_esp_prop {
	uint16_t encr, keybits, integ;
};

enum ikev2_server_auth { IKEV2_SAUTH_CERT = 0, IKEV2_SAUTH_PSK };
enum ikev2_client_auth { IKEV2_CAUTH_EAP_MSCHAPV2 = 0, IKEV2_CAUTH_PSK };

struct ikev2_conf {
	struct ikev2_prop ike[IKEV2_POLICY_MAX];
	size_t n_ike;
	struct ikev2_esp_prop esp[IKEV2_ESP_POLICY_MAX];
	size_t n_esp;
	uint8_t server_auth;          /* enum ikev2_server_auth */
	uint8_t client_auth;          /* enum ikev2_client_auth */
	/* Machine certificates: a client that sends AUTH by signature (method 1 or 14) with
	 * CERT payloads (its own first, CAs after it) is taken when its certificate chains to
	 * one of these CAs at cert_time (seconds since 1970, 0: now), its IDi names the
	 * certificate (subject DN, or a subject alternative name of IDi's type) and the
	 * signature verifies with the certificate's key; the owner then authorizes the name
	 * of the certificate (ikev2_auth_req.machine_cert). NULL: such clients are refused.
	 * Whatever client_auth says; the server proves itself as server_auth says. */
	X509_STORE *client_trust;
	int64_t cert_time;
	const uint8_t *psk;           /* IKEV2_SAUTH_PSK or IKEV2_CAUTH_PSK */
	size_t psk_len;
	const struct ike_privkey *key; /* IKEV2_SAUTH_CERT: the RSA key and its certificate */
	const uint8_t *cert;          /* DER */
	size_t cert_len;
	/* The CAs above it (DER, the issuer first, the root left out) sent as further CERT
	 * payloads after it, so a client that trusts only the root can build the chain. The
	 * owner keeps to IKEV2_CHAIN_MAX and IKEV2_CERTS_TOTAL (with cert); the responder
	 * sends no more than those either way. */
	const uint8_t *chain[IKEV2_CHAIN_MAX];
	size_t chain_len[IKEV2_CHAIN_MAX];
	size_t n_chain;
	bool sig_pss;                 /* method 14 signatures with RSASSA-PSS, not PKCS#1 v1.5 */
	uint8_t id_type;              /* IDr: 2 FQDN, 1 IPv4, 9 DER_ASN1_DN ... */
	const uint8_t *id;
	size_t id_len;
	const char *eap_name;         /* the MS-CHAPv2 Challenge's name ("vnet") */
	uint8_t dns[2][4];            /* INTERNAL_IP4_DNS answers */
	size_t n_dns;
	bool fragmentation;           /* announce RFC 7383 and send fragments */
	size_t frag_size;             /* largest UDP payload (the marker on 4500 in it) (1280) */
	bool mobike;                  /* announce MOBIKE_SUPPORTED */
	uint32_t ike_life_s;          /* hard lifetimes: an SA not rekeyed by then is */
	uint32_t child_life_s;        /*   deleted (86400 s, 7200 s) */
	bool child_rekey;             /* rekey children and the IKE SA ourselves before their
	                                 lifetime ends: CREATE_CHILD_SA at 80-90 % of it (at
	                                 random, per SA), once; a refusal or no answer leaves
	                                 it to its hard lifetime */
	uint32_t negotiation_ms;      /* IKE_SA_INIT to the end of IKE_AUTH (30000) */
	uint32_t dpd_ms;              /* an empty INFORMATIONAL after this much silence, 0 off */
	uint32_t retransmit_ms;       /* our requests: first retransmission (2000), doubling */
	uint8_t retransmits;          /* retransmissions before the peer is given up (5) */
};

enum ikev2_ev {
	IKEV2_EV_TRACE = 0,  /* message-level detail */
	IKEV2_EV_INFO,       /* retransmissions, notifies from the peer, NAT detected ... */
	IKEV2_EV_FAIL,       /* a negotiation failed: the cause is in ikev2_cause() */
	IKEV2_EV_IKE_UP,     /* IKE_AUTH completed */
	IKEV2_EV_IKE_DOWN,   /* the SA ended (deleted, expired, failed after it was up) */
	IKEV2_EV_CHILD_UP,
	IKEV2_EV_CHILD_DOWN,
	IKEV2_EV_INITIAL_CONTACT, /* the peer forgot every earlier SA: the owner drops them */
	IKEV2_EV_REKEYED,    /* the IKE SA was rekeyed (by the peer or by us): our SPI changed
	                        (ikev2_rspi) */
	IKEV2_EV_PEER_MOVED, /* MOBIKE or a NAT rebinding: ikev2_peer() changed */
};
extern const struct tok ikev2_ev_names[];

/* An address as the owner saw it: family 4 or 6, the address (IPv4 in the first 4
 * bytes) and the UDP port. */
struct ikev2_addr {
	uint8_t family;
	uint8_t ip[16];
	uint16_t port;
};

/* One child SA (ESP, tunnel mode). Keys are in the form the ESP code takes
 * (engine/ike/esp_sa.h). */
struct ikev2_child {
	bool used;
	uint32_t spi_in, spi_out;    /* ours (the peer sends with it), the peer's */
	struct esp_sa in, out;       /* keys of both directions */
	bool udp_encap;              /* ESP-in-UDP on port 4500 (RFC 3948) */
	uint8_t vip[4];              /* the client's virtual address (its traffic selector) */
	uint32_t life_s;
	uint64_t expires, born;
	uint64_t rekey_at;           /* when we rekey it (conf.child_rekey), IKEV2_NEVER: not */
	bool replaced;               /* a newer child took its place, its deletion follows */
	uint32_t serial;             /* order of establishment within the IKE SA */
	struct ikev2_esp_prop prop;  /* its suite (what a rekey proposes) */
	uint8_t ts_local[2][4];      /* our side's selector (first and last address) */
};

/* What the `authorize` callback is asked. Pointers are valid during the call only. */
struct ikev2_auth_req {
	const char *user;            /* the MS-CHAPv2 name (or the peer's ID with a PSK) */
	bool eap;                    /* EAP-MSCHAPv2; false: pre-shared key or certificate */
	bool machine_cert;           /* a machine certificate: user is its subject's common
	                                name (else its first DNS name), cred PPP_CRED_OK */
	const char *subject;         /* machine_cert: the certificate's subject, escaped */
	enum ppp_cred cred;          /* what the local password check found */
	const uint8_t *auth_challenge, *peer_challenge, *nt_response; /* 16, 16, 24 bytes */
	const struct ikev2_addr *peer;
};

/* The owner's answer. Strings and buffers are copied. */
struct ikev2_verdict {
	bool accept;
	uint8_t addr[4];             /* accept: the granted IPv4 address (0.0.0.0: none, the
	                                client gets INTERNAL_ADDRESS_FAILURE) */
	const char *cause;           /* reject: a dotted id ("policy.bad-credentials"); NULL
	                                for ike.v2.auth-failed */
	unsigned win_error;          /* reject: E= of the MS-CHAPv2 failure (691 when 0) */
	const char *message;         /* reject: M= text, NULL for a default */
	/* An authentication server's proof (RADIUS): the "S=<40 hex>" authenticator response
	 * and the MSK (MS-MPPE-Recv-Key | MS-MPPE-Send-Key). Without them an acceptance
	 * stands only when the local password check succeeded. */
	const char *success;
	const uint8_t *msk;
	size_t msk_len;
};

struct ikev2_cbs {
	void *ctx;
	/* A datagram for the peer at ikev2_peer() (`natt`: on port 4500, the owner adds the
	 * non-ESP marker). */
	void (*send)(void *ctx, const uint8_t *buf, size_t len, bool natt);
	void (*event)(void *ctx, enum ikev2_ev kind, const char *text);
	void (*random)(void *ctx, uint8_t *buf, size_t n);
	/* The user's cleartext password into buf (NUL-terminated): its length, -1 when the
	 * user is unknown, -2 when none can be given. May be NULL (every check is ERROR). */
	int (*password)(void *ctx, const char *user, char *buf, size_t cap);
	/* Ask for the verdict: answer with ikev2_authorize_done(), during this call or later.
	 * Nothing is sent to the peer until then; its retransmissions are ignored. */
	void (*authorize)(void *ctx, const struct ikev2_auth_req *req);
	void (*child_up)(void *ctx, const struct ikev2_child *c);
	void (*child_down)(void *ctx, const struct ikev2_child *c, const char *why);
};

struct ikev2_sa;

/* The Windows-compatible default policy: IKE AES-CBC 256/128, AES-GCM-16 256/128 and
 * 3DES with SHA2-384, SHA2-256 or SHA1 (integrity and PRF alike) and DH groups 20, 19,
 * 14, 2; ESP AES-GCM-16 256/128, AES-CBC 256/128 and 3DES with HMAC-SHA2-256 or
 * HMAC-SHA1; certificate for the server, EAP-MSCHAPv2 for the client; fragmentation and
 * MOBIKE on, 24 h / 2 h, 30 s to authenticate, liveness checks after 60 s of silence. No
 * key, certificate or identity: the owner sets them. */
void ikev2_conf_default(struct ikev2_conf *c);
/* Replace the IKE or the ESP list from text: proposals separated by commas, each
 * `ENC-INTEG-PRF-GROUP` or `aesNNNgcm16-PRF-GROUP` for IKE (aes128|aes256|3des,
 * sha1|sha256|sha384, modp1024|modp2048|ecp256|ecp384), `ENC-INTEG` or `aesNNNgcm16`
 * for ESP. The list is replaced only when all of it is understood. 0, or -1 with the
 * column and reason in why. */
int ikev2_conf_parse_ike(struct ikev2_conf *c, const char *text, char *why, size_t whysz);
int ikev2_conf_parse_esp(struct ikev2_conf *c, const char *text, char *why, size_t whysz);

/* A new SA for the peer `peer`, reached on our address `local`. NULL when out of memory.
 * The configuration and callbacks must outlive the SA. */
struct ikev2_sa *ikev2_new(const struct ikev2_conf *conf, const struct ikev2_cbs *cbs,
                           const struct ikev2_addr *local, const struct ikev2_addr *peer,
                           uint64_t now);
void ikev2_free(struct ikev2_sa *sa);

/* One IKE message or fragment (header at buf[0]) from `peer` to our `local` address. */
uint64_t ikev2_input(struct ikev2_sa *sa, const uint8_t *buf, size_t len,
                     const struct ikev2_addr *local, const struct ikev2_addr *peer,
                     uint64_t now);
uint64_t ikev2_tick(struct ikev2_sa *sa, uint64_t now);
uint64_t ikev2_deadline(const struct ikev2_sa *sa);
/* The verdict the `authorize` callback asked for. 0, or -1 (nothing done) when none is
 * pending (the SA failed or timed out meanwhile, or the verdict was given already). */
int ikev2_authorize_done(struct ikev2_sa *sa, const struct ikev2_verdict *v, uint64_t now);
/* Delete the SA: an INFORMATIONAL with a DELETE of the IKE SA when it was up, then DEAD. */
void ikev2_delete(struct ikev2_sa *sa, const char *why, uint64_t now);
/* Delete one child (by our SPI) with a DELETE to the peer. */
uint64_t ikev2_child_delete(struct ikev2_sa *sa, uint32_t spi_in, const char *why,
                            uint64_t now);
/* ESP arrived on the child with our SPI: the peer is alive (no liveness check due). */
void ikev2_child_used(struct ikev2_sa *sa, uint32_t spi_in, uint64_t now);

enum ikev2_state ikev2_state(const struct ikev2_sa *sa);
/* Why the SA failed or ended ("ike.v2.auth-failed"), "" when it did not. */
const char *ikev2_cause(const struct ikev2_sa *sa);
/* The SPIs of the current IKE SA: the peer's, ours; after an IKE SA rekey our SPI of the
 * old one too (zeros when there is none). Until the server rekeys the IKE SA itself the
 * peer is its original initiator (SPIi, ours SPIr); after our rekey we are the new SA's
 * original initiator (RFC 7296 2.18): our SPI comes first in its header and the peer's
 * messages of it carry no I flag (ikev2_we_initiated). */
const uint8_t *ikev2_ispi(const struct ikev2_sa *sa);
const uint8_t *ikev2_rspi(const struct ikev2_sa *sa);
const uint8_t *ikev2_rspi_old(const struct ikev2_sa *sa);
/* Our SPI of the losing new SA of an IKE SA rekey collision (RFC 7296 2.8.2), ours or the
 * peer's, while it is kept for its DELETE; zeros when there is none. */
const uint8_t *ikev2_rspi_lost(const struct ikev2_sa *sa);
bool ikev2_we_initiated(const struct ikev2_sa *sa);
/* The keys of the IKE SA (`old`: the one an IKE SA rekey replaced, until it is deleted)
 * as a line of Wireshark's IKEv2 decryption table, newline included:
 *   SPIi,SPIr,SK_ei,SK_er,"AES-CBC-256 [RFC3602]",SK_ai,SK_ar,"HMAC_SHA2_256_128 [RFC4868]"
 * (hex without 0x; with AES-GCM SK_e ends with the 4-byte salt, SK_a is empty and the
 * integrity "NONE [RFC4306]"), what engine/capture/ikedecrypt.h reads back. Its length, 0
 * when there are no such keys (IKE_SA_INIT not answered) or cap is too small. Secrets. */
size_t ikev2_keys_line(const struct ikev2_sa *sa, bool old, char *buf, size_t cap);
/* Does the datagram belong to this SA (its SPIs, the current or the old pair)? */
bool ikev2_matches(const struct ikev2_sa *sa, const uint8_t *buf, size_t len);
/* The peer's address of the last authenticated message. */
const struct ikev2_addr *ikev2_peer(const struct ikev2_sa *sa);
bool ikev2_nat(const struct ikev2_sa *sa);
/* Still half-open (IKE_SA_INIT answered or not, IKE_AUTH not begun): cookie accounting. */
bool ikev2_half_open(const struct ikev2_sa *sa);
const struct ikev2_child *ikev2_child(const struct ikev2_sa *sa, uint32_t spi_in);
/* The peer's identity (IDi) and the EAP user, escaped for logs ("" before they came). */
const char *ikev2_peer_id(const struct ikev2_sa *sa);
const char *ikev2_user(const struct ikev2_sa *sa);

/* The SPIs of a datagram and whether it is an IKE_SA_INIT request (false when shorter
 * than the header). */
bool ikev2_peek(const uint8_t *buf, size_t len, uint8_t ispi[8], uint8_t rspi[8],
                bool *init_request);

/* ---- stateless cookies (RFC 7296 2.6) ---------------------------------------------- */
#define IKEV2_COOKIE_ROTATE_MS 120000 /* a secret's life; the one before is still taken */
struct ikev2_cookies {
	uint8_t secret[2][32];   /* [version & 1] */
	uint32_t version;
	uint64_t rotated;
};
/* Start with a fresh random secret. */
void ikev2_cookies_init(struct ikev2_cookies *c, const uint8_t fresh[32], uint64_t now);
/* A new secret (fresh random bytes) when the current one is older than
 * IKEV2_COOKIE_ROTATE_MS; true when it rotated. */
bool ikev2_cookies_rotate(struct ikev2_cookies *c, const uint8_t fresh[32], uint64_t now);
enum ikev2_cookie_rc {
	IKEV2_COOKIE_PASS = 0, /* create the SA and feed it the message */
	IKEV2_COOKIE_SEND,     /* send `reply` (a COOKIE demand) to the peer, keep nothing */
	IKEV2_COOKIE_DROP,     /* not an IKE_SA_INIT request that can be answered */
};
/* An IKE_SA_INIT request from `peer`: PASS when it carries a valid cookie or none is
 * required (half_open below threshold), else SEND with the demand in reply. */
enum ikev2_cookie_rc ikev2_cookie_check(const struct ikev2_cookies *c, const uint8_t *buf,
                                        size_t len, const struct ikev2_addr *peer,
                                        unsigned half_open, unsigned threshold,
                                        uint8_t *reply, size_t cap, size_t *reply_len);

/* ---- fragment reassembly (RFC 7383), also used by the tests ------------------------- */
struct ikev2_reasm {
	uint32_t msgid;
	uint16_t total;          /* 0: nothing under way */
	uint16_t have;           /* fragments stored */
	uint8_t first_next;      /* the first inner payload (fragment 1's next payload) */
	uint16_t off[IKEV2_FRAGS_MAX + 1], len[IKEV2_FRAGS_MAX + 1];
	uint32_t used;           /* bytes stored in buf */
	uint8_t buf[IKEV2_MSG_MAX];
};
enum ikev2_reasm_rc {
	IKEV2_REASM_MORE = 0,    /* stored, more to come */
	IKEV2_REASM_DONE,        /* complete: ikev2_reasm_take */
	IKEV2_REASM_DUP,         /* already had it */
	IKEV2_REASM_STALE,       /* of an older message or a smaller total: dropped */
	IKEV2_REASM_BAD,         /* out of bounds (number, total, size): dropped */
};
void ikev2_reasm_reset(struct ikev2_reasm *r);
/* A decrypted fragment `num` of `total` of message `msgid` (`next` its next-payload field,
 * only fragment 1's matters). A larger total than the one under way starts over (the
 * peer re-fragmented smaller, RFC 7383 2.6.2). */
enum ikev2_reasm_rc ikev2_reasm_add(struct ikev2_reasm *r, uint32_t msgid, uint16_t num,
                                    uint16_t total, uint8_t next, const uint8_t *data,
                                    size_t n);
/* The reassembled inner payloads in order into out; their length, 0 when not complete or
 * cap is too small. */
size_t ikev2_reasm_take(struct ikev2_reasm *r, uint8_t *out, size_t cap, uint8_t *first_next);

#endif
