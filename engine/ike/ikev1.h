/* The responder of one IKEv1 SA (RFC 2409) for L2TP/IPsec: Main Mode with a pre-shared
 * key or RSA signatures with certificates (RFC 2409 5.1), NAT traversal (RFC 3947 and its draft-02), Quick Mode for ESP in transport mode
 * over UDP 1701 (UDP-encapsulated under NAT), Informational exchanges (DELETE both ways,
 * INITIAL-CONTACT, DPD R-U-THERE of RFC 3706).
 *
 * Sans-I/O as the other automata: datagrams come in through ikev1_input() with the
 * addresses they travelled between, replies leave through the `send` callback, time is an
 * argument and every entry point returns the next deadline (IKEV1_NEVER when none). Every
 * byte is read through libdiag's IKE decoder and every message built with its encoder;
 * the cryptography is engine/ike/ike_crypto.h.
 *
 * What the owner does: it keeps a table of SAs keyed by the initiator cookie and the
 * peer's address, creates an SA for a message whose responder cookie is zero, strips the
 * non-ESP marker of UDP 4500 before ikev1_input() and adds it when `send` asks for port
 * 4500, moves ESP to the child SAs the `child_up` callback announces, and frees an SA
 * once ikev1_state() says IKEV1_DEAD.
 *
 * Failures end the SA with a cause, a stable dotted id the knowledge base knows
 * (`ike.psk.mismatch`, `ike.v1.no-proposal`, ...): ikev1_cause(). With signatures:
 * `ike.cert.client-untrusted` (the client's certificate does not verify against
 * conf.trust), `ike.cert.client-none` (message 5 without a certificate),
 * `ike.cert.bad-signature` (SIG_I does not verify with the certificate's key),
 * `ike.invalid-id` (the ID names neither the certificate's subject nor one of its
 * alternative names) and `cert.l2tp.error-787` (the client deleted the SA or said
 * AUTHENTICATION-FAILED right after message 6: it refused our certificate).
 */
#ifndef VNET_IKEV1_H
#define VNET_IKEV1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "capture/espdecrypt.h"
#include "diag.h"

#define IKEV1_NEVER UINT64_MAX
#define IKEV1_MSG_MAX 4096     /* largest message kept for retransmission or accepted (a
                                * certificate, its chain and an RSA signature fit) */
#define IKEV1_CERTS_MAX 4      /* CERT payloads read from the peer or sent (with the chain) */
#define IKEV1_CR_MAX 8         /* CERTREQ payloads sent (our CAs) or read from the peer */

/* Authentication methods the responder accepts (ikev1_conf.auth_methods). */
#define IKEV1_AUTH_PSK 1u      /* pre-shared key (method 1) */
#define IKEV1_AUTH_RSA_SIG 2u  /* RSA signatures with certificates (method 3) */
#define IKEV1_P1_POLICY_MAX 32 /* phase-1 proposals a policy lists */
#define IKEV1_P2_POLICY_MAX 16 /* phase-2 proposals a policy lists */
#define IKEV1_CHILDREN 4       /* ESP SA pairs of one IKE SA (a rekey needs two) */
#define IKEV1_QM_SLOTS 2       /* Quick Modes under way at once */
#define IKEV1_RESENDS 5        /* the same reply for the same request, at most */

enum ikev1_state {
	IKEV1_MM_START = 0,   /* nothing received yet */
	IKEV1_MM_SA_SENT,     /* MM2 sent, waiting for KE and nonce */
	IKEV1_MM_KE_SENT,     /* MM4 sent, waiting for the encrypted ID and hash */
	IKEV1_ESTABLISHED,    /* MM6 sent: Quick Modes and Informationals */
	IKEV1_DEAD,           /* failed, deleted or expired: the owner frees the SA */
};

/* A phase-1 proposal: encryption (IKEv1 attribute value: 7 AES-CBC, 5 3DES) with its
 * key length in bits (0 for 3DES), hash (2 SHA1, 4 SHA2-256), DH group. */
struct ikev1_p1_prop {
	uint16_t enc, keybits, hash, group;
};
/* A phase-2 (ESP) proposal: transform (3 ESP_3DES, 12 ESP_AES, 20 ESP_AES_GCM_16), key
 * length in bits (0 for 3DES), authentication (2 HMAC-SHA1, 5 HMAC-SHA2-256, 0 for GCM). */
struct ikev1_p2_prop {
	uint16_t xform, keybits, auth;
};

struct ikev1_conf {
	unsigned auth_methods;       /* IKEV1_AUTH_* bits (the default: PSK only) */
	const uint8_t *psk;          /* the pre-shared key (required with IKEV1_AUTH_PSK) */
	size_t psk_len;
	/* RSA signatures (IKEV1_AUTH_RSA_SIG): our certificate and its private key (RSA), the
	 * CA certificates sent after it (intermediates up to the root, without the root;
	 * NULL for none), the CAs a client's computer certificate must chain to (their names
	 * go to the client in CERTREQ payloads), and the time certificates are judged at
	 * (seconds since 1970; 0: the clock of the machine). Owned by the owner; they must
	 * outlive every SA. engine/cert/certserve.h loads the first three the way `vnet cert
	 * pick` chooses them. */
	X509 *cert;
	EVP_PKEY *key;
	STACK_OF(X509) *chain;
	X509_STORE *trust;
	int64_t cert_time;
	struct ikev1_p1_prop p1[IKEV1_P1_POLICY_MAX];
	size_t n_p1;
	struct ikev1_p2_prop p2[IKEV1_P2_POLICY_MAX];
	size_t n_p2;
	bool natt;                   /* answer NAT-T (RFC 3947, draft-02) and float to 4500 */
	bool allow_tunnel;           /* also accept tunnel mode (tests of the ESP path) */
	bool pfs_allowed;            /* Quick Mode with KE (a group of the phase-1 list) */
	uint16_t l2tp_port;          /* the responder's port in the selectors (1701) */
	uint32_t p1_life_max_s;      /* phase-1 lifetime cap (28800) */
	uint32_t p2_life_max_s;      /* phase-2 lifetime caps (3600 s, 250000 KB) */
	uint32_t p2_life_max_kb;
	uint32_t negotiation_ms;     /* Main Mode or a Quick Mode unfinished after (30000) */
};

enum ikev1_ev {
	IKEV1_EV_TRACE = 0,  /* message-level detail */
	IKEV1_EV_INFO,       /* retransmissions, notifies from the peer, NAT detected ... */
	IKEV1_EV_FAIL,       /* a negotiation failed: the cause is in ikev1_cause() */
	IKEV1_EV_IKE_UP,     /* Main Mode completed */
	IKEV1_EV_IKE_DOWN,   /* the SA ended (deleted, expired, failed after it was up) */
	IKEV1_EV_CHILD_UP,
	IKEV1_EV_CHILD_DOWN,
	IKEV1_EV_INITIAL_CONTACT, /* the peer forgot every earlier SA: the owner drops them */
};
extern const struct tok ikev1_ev_names[];

/* An address as the owner saw it: family 4 or 6, the address (IPv4 in the first 4
 * bytes) and the UDP port. */
struct ikev1_addr {
	uint8_t family;
	uint8_t ip[16];
	uint16_t port;
};

/* One ESP SA pair negotiated by Quick Mode. Keys are in the form the ESP code takes
 * (engine/ike/esp_sa.h). */
struct ikev1_child {
	bool used;
	uint32_t spi_in, spi_out;    /* ours (the peer sends with it), the peer's */
	struct esp_sa in, out;       /* keys of both directions */
	bool udp_encap;              /* ESP-in-UDP on port 4500 (RFC 3948) */
	bool tunnel;                 /* tunnel mode (only with conf.allow_tunnel) */
	uint8_t id_proto;            /* selectors: protocol and the two ports */
	uint16_t id_port_i, id_port_r;
	uint8_t nat_oa_i[4];         /* the initiator's original address (NAT-OAi), when sent */
	bool has_nat_oa_i;
	uint32_t life_s, life_kb;    /* negotiated, within the server's caps */
	uint64_t expires;
	uint64_t born;
	uint32_t serial;             /* order of establishment within the IKE SA */
};

struct ikev1_cbs {
	void *ctx;
	/* A datagram for the peer (the ISAKMP message; `natt`: on port 4500, the owner adds
	 * the non-ESP marker), to the address of the last message received. */
	void (*send)(void *ctx, const uint8_t *buf, size_t len, bool natt);
	void (*event)(void *ctx, enum ikev1_ev kind, const char *text);
	void (*random)(void *ctx, uint8_t *buf, size_t n);
	void (*child_up)(void *ctx, const struct ikev1_child *c);
	void (*child_down)(void *ctx, const struct ikev1_child *c, const char *why);
};

struct ikev1_sa;

/* The Windows-compatible default policy: AES-CBC 256/128 and 3DES with SHA2-256 or SHA1
 * and DH groups 20, 19, 14, 2 for Main Mode; ESP AES-CBC 256/128 and 3DES with
 * HMAC-SHA2-256 or HMAC-SHA1, AES-GCM-16 256/128; NAT-T on, PFS allowed, 8 h / 1 h /
 * 250000 KB, 30 s to finish a negotiation. No pre-shared key: the owner sets it. */
void ikev1_conf_default(struct ikev1_conf *c);
/* Does the configuration hold together (a method allowed, a key for PSK, an RSA
 * certificate with its private key and a trust store for RSA signatures)? 0, or -1 with
 * the reason in why. The owner calls it once before the first ikev1_new(). */
int ikev1_conf_check(const struct ikev1_conf *c, char *why, size_t whysz);
/* The allowed methods from text: `psk`, `rsa-sig` or both, comma-separated. 0, or -1
 * with the reason in why (the configuration unchanged). */
int ikev1_conf_parse_auth(struct ikev1_conf *c, const char *text, char *why, size_t whysz);
/* Replace the phase-1 or phase-2 list from text: proposals separated by commas, each
 * `ENC-HASH-GROUP` (aes128|aes256|3des, sha1|sha256, modp1024|modp2048|ecp256|ecp384)
 * or `ENC-AUTH` / `aesNNNgcm16` for ESP. 0, or -1 with the column and reason in why. */
int ikev1_conf_parse_p1(struct ikev1_conf *c, const char *text, char *why, size_t whysz);
int ikev1_conf_parse_p2(struct ikev1_conf *c, const char *text, char *why, size_t whysz);

/* A new SA for the peer `peer`, reached on our address `local`. NULL when out of memory.
 * The configuration and callbacks must outlive the SA. */
struct ikev1_sa *ikev1_new(const struct ikev1_conf *conf, const struct ikev1_cbs *cbs,
                           const struct ikev1_addr *local, const struct ikev1_addr *peer,
                           uint64_t now);
void ikev1_free(struct ikev1_sa *sa);

/* One ISAKMP message (header at buf[0]) from `peer` to our `local` address and port. */
uint64_t ikev1_input(struct ikev1_sa *sa, const uint8_t *buf, size_t len,
                     const struct ikev1_addr *local, const struct ikev1_addr *peer, uint64_t now);
uint64_t ikev1_tick(struct ikev1_sa *sa, uint64_t now);
uint64_t ikev1_deadline(const struct ikev1_sa *sa);
/* Delete the SA: a DELETE for every child and for the IKE SA, then DEAD. */
void ikev1_delete(struct ikev1_sa *sa, const char *why, uint64_t now);
/* Delete one child (by our SPI) with a DELETE to the peer. */
uint64_t ikev1_child_delete(struct ikev1_sa *sa, uint32_t spi_in, const char *why, uint64_t now);
/* The peer used the child with our SPI `spi_in` (ESP arrived on it): older children
 * with the same selectors are deleted (a phase-2 rekey completes). */
uint64_t ikev1_child_used(struct ikev1_sa *sa, uint32_t spi_in, uint64_t now);

enum ikev1_state ikev1_state(const struct ikev1_sa *sa);
extern const struct tok ikev1_state_names[];
/* Why the SA failed or ended ("ike.psk.mismatch"), "" when it did not. */
const char *ikev1_cause(const struct ikev1_sa *sa);
/* The cookies: initiator's, ours. */
const uint8_t *ikev1_ispi(const struct ikev1_sa *sa);
const uint8_t *ikev1_rspi(const struct ikev1_sa *sa);
/* The peer's address of the last message (after a float to 4500, that one). */
const struct ikev1_addr *ikev1_peer(const struct ikev1_sa *sa);
/* NAT between the two ends (either side), as the NAT-D payloads showed. */
bool ikev1_nat(const struct ikev1_sa *sa);
/* The child with our SPI, NULL when none. */
const struct ikev1_child *ikev1_child(const struct ikev1_sa *sa, uint32_t spi_in);
/* The peer's identity of Main Mode, escaped for logs ("" before MM5): an address, a
 * name, or a distinguished name as RFC 2253 writes it. */
const char *ikev1_peer_id(const struct ikev1_sa *sa);
/* The method Main Mode agreed on: "psk", "rsa-sig", or "" before message 1 was answered. */
const char *ikev1_auth_method(const struct ikev1_sa *sa);
/* The peer's certificate once its signature verified (rsa-sig), else NULL. The SA owns
 * it (X509_up_ref to keep it longer). */
X509 *ikev1_peer_cert(const struct ikev1_sa *sa);

/* The phase-1 encryption key of an established SA (what Wireshark's IKEv1 decryption
 * table pairs with the initiator's cookie): its length, 0 when not established or longer
 * than cap. */
size_t ikev1_enc_key(const struct ikev1_sa *sa, uint8_t *out, size_t cap);

/* The cookies of a datagram (false when shorter than the header). */
bool ikev1_peek_cookies(const uint8_t *buf, size_t len, uint8_t ispi[8], uint8_t rspi[8]);

#endif
