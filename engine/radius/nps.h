/* An NPS-compatible RADIUS server, sans-I/O: one datagram in, the answer (or nothing) out.
 *
 * An Access-Request from a known client (serve.radius_server.clients: address and shared
 * secret) becomes the attempt `vnet policy test` would read from user.json: the user,
 * the method (PAP, CHAP-MD5 or MS-CHAPv2 with the RFC 2548 attributes) and whether the
 * credentials matched the account's password, NAS-Port-Type, Tunnel-Type,
 * Calling-Station-Id, Called-Station-Id, NAS-Identifier, NAS-IP-Address, the client's
 * address and friendly name, Service-Type, Framed-Protocol, MS-RAS-Vendor and the
 * wall-clock time. The same policy engine decides it. The answer is
 *   Access-Accept: Service-Type, Framed-Protocol, Framed-IP-Address (the user's static
 *     address, the address the client asked for, or one leased from the pool),
 *     Session-Timeout and Idle-Timeout (seconds), Class, MS-MPPE-Encryption-Policy and
 *     -Types from the granted profile, and for MS-CHAPv2 MS-CHAP2-Success and the
 *     MS-MPPE-Send-Key / MS-MPPE-Recv-Key (RFC 3079 master keys, encrypted per RFC 2548);
 *   Access-Reject: a Reply-Message naming the NPS reason code and the Windows error, and
 *     for MS-CHAPv2 the MS-CHAP-Error "E=691 R=0 C=... V=3 M=...".
 * An Access-Request with EAP-Message is EAP-MSCHAPv2 over RADIUS (RFC 3579): Access-Challenge
 * rounds tied by a State (radius/eapconv.h), the MS-CHAPv2 Response checked against the
 * account's password and decided as method eap / EAP type mschapv2, then Access-Accept
 * with EAP-Success, the granted profile and the MSK halves as MS-MPPE-Recv-Key /
 * MS-MPPE-Send-Key, or Access-Reject with EAP-Failure and the NPS reason code; a Nak (no
 * EAP type in common) is NPS reason 22; a State not issued is refused.
 * Every answer carries a Message-Authenticator. Requests are dropped (and counted) when
 * they come from an unknown address, are malformed, or an Access-Request (or
 * Status-Server) lacks a Message-Authenticator or carries one that does not verify
 * (the BlastRADIUS forgery needs a request without one). Accounting-Requests whose
 * authenticator verifies are handed to the owner and answered.
 *
 * A request retransmitted by its client (same address and port, identifier and
 * authenticator, within NPS_DUP_MS) gets the answer it got before, not a new decision:
 * radius/dupcache.h with serve.radius_server.duplicate_cache slots.
 *
 * Pool addresses leased for an Access-Accept are held until the client's Accounting
 * Stop for the address, its Accounting-On or -Off, or, without any Accounting Start,
 * NPS_LEASE_WAIT_MS once the pool has no free address left. */
#ifndef VNET_NPS_H
#define VNET_NPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "policy/admit.h"
#include "policy/attempt.h"
#include "policy/config.h"
#include "policy/policy.h"
#include "radius.h"
#include "radius/dupcache.h"
#include "radius/eapconv.h"

#define NPS_DUP_MS 30000
#define NPS_LEASE_WAIT_MS 60000

struct nps_stats {
	uint64_t access_requests, accepts, rejects, status_server, accounting;
	uint64_t unknown_client;     /* dropped: no client has the source address */
	uint64_t malformed;          /* dropped: not a RADIUS packet */
	uint64_t no_msg_auth;        /* dropped: an Access-Request without Message-Authenticator */
	uint64_t bad_msg_auth;       /* dropped: a Message-Authenticator that does not verify */
	uint64_t bad_authenticator;  /* dropped: an Accounting-Request authenticator */
	uint64_t unsupported;        /* dropped: a code this server does not answer */
	uint64_t duplicates;         /* answered from the cache */
	uint64_t eap_requests;       /* Access-Requests with EAP-Message */
	uint64_t eap_challenges;     /* Access-Challenges sent */
	uint64_t eap_malformed;      /* EAP-Message that breaks a bound or does not decode */
	uint64_t eap_bad_state;      /* a State not issued, timed out, or another client's */
	uint64_t eap_refused;        /* conversations ended by an Access-Reject of the protocol */
};

struct nps_cbs {
	/* One log line (debug_only: only with -d radius). */
	void (*log)(void *ctx, bool debug_only, const char *text);
	void (*random)(void *ctx, uint8_t *buf, size_t n);
	time_t (*wall)(void *ctx);
	/* Optional: an Accounting-Request that verified, from client `c`. */
	void (*accounting)(void *ctx, const struct nps_client *c, const struct radius_msg *m);
	/* Whether one more line about a dropped datagram may be logged now (floods). */
	bool (*throttle)(void *ctx);
};

struct nps_lease {
	uint32_t addr;
	uint32_t client;             /* index in serve.nps_clients */
	uint64_t at;
	bool started;                /* an Accounting Start named it */
};

struct nps {
	const struct config *cfg;
	struct policy_result *pres;  /* policy_result_init'd for cfg */
	struct addr_pool *pool;
	const struct nps_cbs *cbs;
	void *ctx;
	struct rad_dupcache cache;    /* answers to requests sent again (radius/dupcache.h) */
	struct eapconv_table eap;     /* EAP conversations by State (radius/eapconv.h) */
	struct nps_lease *leases;
	size_t nleases, lease_cap;
	uint32_t class_seq;
	uint64_t boot;               /* wall clock at nps_init, in the Class */
	uint32_t debug_left;
	struct nps_stats st;
};

/* 0, or -1 out of memory. `pres` and `pool` are shared with the caller's other users
 * (one call at a time). */
int nps_init(struct nps *n, const struct config *c, struct policy_result *pres,
             struct addr_pool *pool, const struct nps_cbs *cbs, void *ctx);
void nps_free(struct nps *n);
/* One datagram from `peer`; the answer to send back is written to out (RADIUS_MAX_LEN
 * bytes) and its length returned, 0 when nothing is sent. */
size_t nps_input(struct nps *n, const struct sockaddr_storage *peer, const uint8_t *pkt,
                 size_t len, uint64_t now, uint8_t *out, size_t cap);
/* The client whose address `peer` is, or NULL. */
const struct nps_client *nps_client_find(const struct config *c,
                                         const struct sockaddr_storage *peer);
/* The same among the n clients of `list`. */
const struct nps_client *nps_client_in(const struct nps_client *list, size_t n,
                                       const struct sockaddr_storage *peer);

#endif
