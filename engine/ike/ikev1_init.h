/* The initiator of one IKEv1 SA (RFC 2409) for L2TP/IPsec, as a Windows client opens it:
 * Main Mode with a pre-shared key, NAT traversal (RFC 3947) with an option to force
 * UDP encapsulation, then one Quick Mode for an ESP SA in transport mode protecting
 * UDP 1701 on both ends (UDP-encapsulated when NAT-T is in use).
 *
 * Sans-I/O as the responder (engine/ike/ikev1.h), whose types it shares (proposals,
 * addresses, callbacks, the child SA): datagrams come in through ikev1i_input(), messages
 * leave through `send` (natt: to the responder's NAT-T port from the owner's NAT-T
 * socket, the owner adds the non-ESP marker), time is an argument and every entry point
 * returns the next deadline (IKEV1_NEVER when none). Every byte is read with libdiag's
 * IKE decoder and written with its encoder; keys and hashes are engine/ike/ikev1_keys.h.
 *
 * The owner: creates the SA with its own address and port (the IKE socket's) and the
 * responder's, calls ikev1i_start(), sends what `send` gives, strips the non-ESP marker
 * from what arrives on its NAT-T socket and passes it with natt = true, calls
 * ikev1i_tick() at the deadlines, moves ESP to the child `child_up` announces, and frees
 * the SA once it is IKEV1I_DEAD (ikev1i_cause() says why when it failed).
 *
 * Retransmission: a request unanswered is sent again after retransmit_ms, then twice
 * that, ..., `retransmits` times; the negotiation fails after that or after
 * negotiation_ms in all. Causes are the knowledge base's ids: ike.no-reply (nothing ever
 * came back), ike.no-reply.nat-t (nothing after the move to the NAT-T port),
 * ike.phase1-stalled (Main Mode began and stopped), ike.v1.timeout (Quick Mode
 * unanswered), ike.v1.no-proposal, ike.psk.mismatch, ike.v1.ke-invalid,
 * ike.invalid-id, ike.payload-malformed, ike.v1.deleted-by-peer.
 */
#ifndef VNET_IKEV1_INIT_H
#define VNET_IKEV1_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/ikev1.h"

enum ikev1i_state {
	IKEV1I_START = 0,    /* created, nothing sent */
	IKEV1I_MM_SA,        /* MM1 sent, waiting for the chosen proposal */
	IKEV1I_MM_KE,        /* MM3 sent, waiting for KE and nonce */
	IKEV1I_MM_AUTH,      /* MM5 sent, waiting for the responder's ID and HASH_R */
	IKEV1I_QM,           /* Main Mode done, QM1 sent, waiting for QM2 */
	IKEV1I_ESTABLISHED,  /* QM3 sent: the child SA is up (with main_mode_only: Main Mode
	                        done, no child) */
	IKEV1I_DEAD,         /* failed or deleted: the owner frees the SA */
};
extern const struct tok ikev1i_state_names[];

struct ikev1i_conf {
	const uint8_t *psk;          /* the pre-shared key (required) */
	size_t psk_len;
	/* offered in this order: Main Mode transforms in one proposal, ESP transforms in
	 * one proposal (ikev1i_conf_parse_p1 / _p2 take ikev1_conf_parse_p1's syntax) */
	struct ikev1_p1_prop p1[IKEV1_P1_POLICY_MAX];
	size_t n_p1;
	struct ikev1_p2_prop p2[IKEV1_P2_POLICY_MAX];
	size_t n_p2;
	bool natt;                   /* announce NAT-T (RFC 3947) and send NAT-D */
	bool force_encap;            /* send a NAT-D of no address of ours, so the responder
	                                sees a NAT: both float and ESP goes in UDP */
	uint16_t natt_port;          /* the responder's NAT-T port (4500) */
	uint16_t l2tp_port;          /* the selectors: udp/1701 on both ends */
	uint32_t p1_life_s, p2_life_s; /* lifetimes proposed (28800, 3600) */
	uint32_t retransmit_ms;      /* first retransmission after (1000), then doubled */
	unsigned retransmits;        /* at most (4) */
	uint32_t negotiation_ms;     /* Main Mode and Quick Mode done within (30000) */
	bool main_mode_only;         /* stop once Main Mode 6 is verified: no Quick Mode, the
	                                SA established without a child (a load generator's
	                                measure of Main Mode alone); false by default */
};

/* AES-CBC 256 and 128 and 3DES with SHA1 over MODP 2048 and 1024 for Main Mode, ESP
 * AES-CBC 256/128 and 3DES with HMAC-SHA1 (a Windows-like offer), NAT-T announced, not
 * forced, ports 4500 and 1701, 8 h / 1 h, 1 s first retransmission, 4 of them, 30 s.
 * No pre-shared key: the owner sets it. */
void ikev1i_conf_default(struct ikev1i_conf *c);
/* Replace the offer from text (ikev1_conf_parse_p1 / _p2 syntax). 0, or -1 with the
 * column and reason in why. */
int ikev1i_conf_parse_p1(struct ikev1i_conf *c, const char *text, char *why, size_t whysz);
int ikev1i_conf_parse_p2(struct ikev1i_conf *c, const char *text, char *why, size_t whysz);

struct ikev1i;

/* A new SA from our `local` address (the IKE socket's address and port, as the
 * responder will see it without a NAT) to the responder's IKE address `peer`. NULL when
 * out of memory. The configuration and callbacks must outlive the SA. */
struct ikev1i *ikev1i_new(const struct ikev1i_conf *conf, const struct ikev1_cbs *cbs,
                          const struct ikev1_addr *local, const struct ikev1_addr *peer);
void ikev1i_free(struct ikev1i *sa);

/* Send Main Mode 1. */
uint64_t ikev1i_start(struct ikev1i *sa, uint64_t now);
/* One ISAKMP message (header at buf[0]) from the responder; natt: it came to our NAT-T
 * socket (marker stripped). */
uint64_t ikev1i_input(struct ikev1i *sa, const uint8_t *buf, size_t len, bool natt,
                      uint64_t now);
uint64_t ikev1i_tick(struct ikev1i *sa, uint64_t now);
uint64_t ikev1i_deadline(const struct ikev1i *sa);
/* A DELETE for the child and for the IKE SA (when established), then DEAD. */
void ikev1i_delete(struct ikev1i *sa, const char *why, uint64_t now);

enum ikev1i_state ikev1i_state(const struct ikev1i *sa);
/* Why the SA failed or ended ("ike.psk.mismatch"), "" when it did not. */
const char *ikev1i_cause(const struct ikev1i *sa);
/* The cookies: ours, the responder's. */
const uint8_t *ikev1i_ispi(const struct ikev1i *sa);
const uint8_t *ikev1i_rspi(const struct ikev1i *sa);
/* Where messages go now: the responder's IKE address, its NAT-T port after the float. */
const struct ikev1_addr *ikev1i_peer(const struct ikev1i *sa);
/* Messages and ESP on the NAT-T port (after the float). */
bool ikev1i_natt(const struct ikev1i *sa);
/* The child SA once established, else NULL. */
const struct ikev1_child *ikev1i_child(const struct ikev1i *sa);
/* Times (in the owner's clock) Main Mode and Quick Mode completed, 0 before. */
uint64_t ikev1i_ike_up_at(const struct ikev1i *sa);
uint64_t ikev1i_child_up_at(const struct ikev1i *sa);

#endif
