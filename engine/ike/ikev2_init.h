/* The initiator of one IKEv2 SA (RFC 7296) for remote access as Windows' built-in IKEv2
 * client opens it: IKE_SA_INIT, then IKE_AUTH without an AUTH of its own so that the
 * server runs EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2) with it, a configuration
 * payload asking for an address and DNS servers, and one ESP child SA in tunnel mode.
 *
 *   IKE_SA_INIT  the proposals of the configuration (one per entry), KE of the first
 *                one's group, a nonce, NAT detection (optional; `force_encap` sends a
 *                source hash of no address of ours, so both ends see a NAT and ESP goes
 *                in UDP, as charon's encap=yes); a COOKIE demand is answered by the same
 *                request with the cookie first, INVALID_KE_PAYLOAD by a new KE of the
 *                group asked for when it was offered (each bounded)
 *   IKE_AUTH     IDi, CP(CFG_REQUEST: INTERNAL_IP4_ADDRESS, INTERNAL_IP4_DNS), SA of the
 *                ESP proposals, TSi and TSr (everything IPv4); the server's IDr, AUTH
 *                (pre-shared key, or an RSA signature whose certificate chains to the
 *                owner's trust store), EAP Identity, MS-CHAPv2 Challenge, our Response,
 *                the server's authenticator response checked, EAP Success; the final
 *                AUTH with the MSK as key, and the server's with it; the CP reply and the
 *                child SA
 *   INFORMATIONAL  the server's requests answered (liveness checks, DELETE of a child or
 *                of the IKE SA); ikev2i_delete sends our DELETE
 *
 * Sans-I/O as the responder (engine/ike/ikev2.h), whose types it shares (proposals,
 * addresses, callbacks, the child SA): datagrams come in through ikev2i_input(), messages
 * leave through `send` (natt: to the responder's NAT-T port from the owner's NAT-T socket,
 * the owner adds the non-ESP marker), time is an argument and every entry point returns
 * the next deadline (IKEV2_NEVER when none). Every byte is read with libdiag's IKE decoder
 * and written with its encoder; the cryptography is ike_crypto.h, MS-CHAPv2 libdiag's
 * mschap.h and engine/eap.
 *
 * The owner: creates the SA with its own address and port (the IKE socket's) and the
 * responder's, calls ikev2i_start(), sends what `send` gives, strips the non-ESP marker
 * from what arrives on its NAT-T socket, calls ikev2i_tick() at the deadlines, moves ESP
 * to the child `child_up` announces (esp_sa.h), and frees the SA once it is IKEV2I_DEAD
 * (ikev2i_cause() says why when it failed). Of struct ikev2_cbs it uses send, event,
 * random, child_up and child_down.
 *
 * Retransmission: a request unanswered is sent again after retransmit_ms, then twice
 * that, ..., `retransmits` times; the negotiation fails after that or after
 * negotiation_ms in all. Causes are the knowledge base's ids: ike.no-reply (nothing ever
 * came back), ike.no-reply.nat-t (nothing after the move to the NAT-T port),
 * ike.phase1-stalled (IKE_AUTH began and stopped), ike.v2.no-proposal,
 * ike.v2.psk-mismatch (the server's AUTH does not match our key), ike.v2.auth-failed
 * (EAP failure: ikev2i_win_error() has the MS-CHAPv2 error; the server refused us; its
 * certificate or signature did not verify), ike.payload-malformed, ike.v2.deleted-by-peer.
 */
#ifndef VNET_IKEV2_INIT_H
#define VNET_IKEV2_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/ikev2.h"

enum ikev2i_state {
	IKEV2I_START = 0,    /* created, nothing sent */
	IKEV2I_INIT,         /* IKE_SA_INIT sent */
	IKEV2I_AUTH,         /* the first IKE_AUTH sent, waiting for the server's AUTH */
	IKEV2I_EAP,          /* EAP under way */
	IKEV2I_AUTH_FINAL,   /* the AUTH with the MSK sent */
	IKEV2I_ESTABLISHED,  /* the IKE SA is up (the child too unless the server refused it) */
	IKEV2I_DEAD,         /* failed or deleted: the owner frees the SA */
};
extern const struct tok ikev2i_state_names[];

#define IKEV2I_COOKIES_MAX 2     /* COOKIE demands answered, at most */

struct x509_store_st;

struct ikev2i_conf {
	/* offered in this order, one proposal each (ikev2_conf_parse_ike / _esp syntax
	 * through ikev2i_conf_parse_ike / _esp); KE of the first IKE entry's group */
	struct ikev2_prop ike[IKEV2_POLICY_MAX];
	size_t n_ike;
	struct ikev2_esp_prop esp[IKEV2_ESP_POLICY_MAX];
	size_t n_esp;
	/* how the server must prove itself: IKEV2_SAUTH_PSK with psk, or IKEV2_SAUTH_CERT
	 * with a certificate that chains to `trust` (its name is not checked here) */
	uint8_t server_auth;
	const uint8_t *psk;
	size_t psk_len;
	struct x509_store_st *trust;
	int64_t cert_time;           /* verify certificates at this time (0: now) */
	/* the user of EAP-MSCHAPv2 (its EAP identity and the name hashed) and password */
	const char *user, *password;
	/* IDi: id_type 0 for our address (ID_IPV4_ADDR, as Windows), else the type and
	 * bytes given (2 FQDN, 3 RFC822 ...) */
	uint8_t id_type;
	const uint8_t *id;
	size_t id_len;
	bool natt;                   /* send NAT detection (and float to natt_port on a NAT) */
	bool force_encap;            /* ... and make both ends see one (ESP in UDP) */
	uint16_t natt_port;          /* the responder's NAT-T port (4500) */
	bool ask_dns;                /* INTERNAL_IP4_DNS in the CP request */
	uint32_t retransmit_ms;      /* first retransmission after (1000), then doubled */
	unsigned retransmits;        /* at most (4) */
	uint32_t negotiation_ms;     /* IKE_SA_INIT to the end of IKE_AUTH within (30000) */
};

/* AES-CBC 256 with SHA2-256 over ECP 256 and MODP 2048, AES-CBC 128 with SHA1 over MODP
 * 2048 (KE of ECP 256); ESP AES-GCM-16 256 and AES-CBC 256/128 with HMAC-SHA2-256 or
 * HMAC-SHA1; a pre-shared key for the server (none set: the owner sets it), NAT detection
 * on and not forced, port 4500, DNS asked, 1 s first retransmission, 4 of them, 30 s. */
void ikev2i_conf_default(struct ikev2i_conf *c);
/* Replace the offer from text (ikev2_conf_parse_ike / _esp syntax). 0, or -1 with the
 * column and reason in why. */
int ikev2i_conf_parse_ike(struct ikev2i_conf *c, const char *text, char *why, size_t whysz);
int ikev2i_conf_parse_esp(struct ikev2i_conf *c, const char *text, char *why, size_t whysz);

struct ikev2i;

/* A new SA from our `local` address (the IKE socket's address and port, as the
 * responder will see it without a NAT) to the responder's IKE address `peer`. NULL when
 * out of memory. The configuration and callbacks must outlive the SA. */
struct ikev2i *ikev2i_new(const struct ikev2i_conf *conf, const struct ikev2_cbs *cbs,
                          const struct ikev2_addr *local, const struct ikev2_addr *peer);
void ikev2i_free(struct ikev2i *sa);

/* Send IKE_SA_INIT. */
uint64_t ikev2i_start(struct ikev2i *sa, uint64_t now);
/* One IKE message (header at buf[0]) from the responder; natt: it came to our NAT-T
 * socket (marker stripped). */
uint64_t ikev2i_input(struct ikev2i *sa, const uint8_t *buf, size_t len, bool natt,
                      uint64_t now);
uint64_t ikev2i_tick(struct ikev2i *sa, uint64_t now);
uint64_t ikev2i_deadline(const struct ikev2i *sa);
/* An INFORMATIONAL with a DELETE of the IKE SA (when established), then DEAD. */
void ikev2i_delete(struct ikev2i *sa, const char *why, uint64_t now);

enum ikev2i_state ikev2i_state(const struct ikev2i *sa);
/* Why the SA failed or ended ("ike.v2.psk-mismatch"), "" when it did not. */
const char *ikev2i_cause(const struct ikev2i *sa);
/* The E= of the server's MS-CHAPv2 Failure (691 ...), 0 when none came. */
unsigned ikev2i_win_error(const struct ikev2i *sa);
/* The SPIs of the current IKE SA in header order: ours, the responder's; after the
 * responder rekeyed the IKE SA it is the new SA's original initiator, and these are its
 * SPI, then ours. */
const uint8_t *ikev2i_ispi(const struct ikev2i *sa);
const uint8_t *ikev2i_rspi(const struct ikev2i *sa);
/* Where messages go now: the responder's IKE address, its NAT-T port after the float. */
const struct ikev2_addr *ikev2i_peer(const struct ikev2i *sa);
bool ikev2i_natt(const struct ikev2i *sa);
/* The address and DNS servers of the CP reply (false / 0 before or without them). */
bool ikev2i_vip(const struct ikev2i *sa, uint8_t out[4]);
size_t ikev2i_dns(const struct ikev2i *sa, uint8_t out[2][4]);
/* The child SA once established, else NULL. */
const struct ikev2_child *ikev2i_child(const struct ikev2i *sa);
/* IKE_SA_INIT messages sent (retries after COOKIE or INVALID_KE_PAYLOAD included,
 * retransmissions not) and the DH group of the KE that was taken. */
unsigned ikev2i_init_tries(const struct ikev2i *sa);
uint16_t ikev2i_group(const struct ikev2i *sa);
/* Time (in the owner's clock) the IKE SA came up, 0 before. */
uint64_t ikev2i_up_at(const struct ikev2i *sa);

#endif
