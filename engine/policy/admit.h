/* Admission of a live connection: the server's side of `vnet policy test`.
 *
 * When a PPP link has authenticated (or failed to), the server describes the attempt the
 * way a user.json attempt would (user, tunnel type, method, time, stations, ports and
 * addresses in use) and runs policy_evaluate on it, so the verdict, the Windows error and
 * the trace are exactly those `vnet policy test` prints for the same input. The granted
 * address comes from the address pool below, which owns which pool addresses are leased.
 */
#ifndef VNET_ADMIT_H
#define VNET_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "policy/attempt.h"
#include "policy/config.h"
#include "policy/policy.h"

/* ---- address pool ----------------------------------------------------------------- */
/* The server's pool ranges as a bitmap of leases. Like RRAS, the server keeps the first
 * pool address for its own end of the links (inferred; policy.c counts it the same way). */
struct addr_pool {
	const struct ip_range *ranges;
	size_t nranges;
	uint64_t size;        /* addresses in all ranges */
	uint64_t used;        /* leased, the server's own address included */
	uint64_t *bits;       /* one bit per address */
	uint64_t hint;        /* where the next search starts */
};
/* 0, or -1 out of memory. A pool of more than 2^24 addresses is refused (-1). */
int addr_pool_init(struct addr_pool *p, const struct server *sv);
void addr_pool_free(struct addr_pool *p);
/* The server's own address (the first of the pool), 0 when the pool is empty. */
uint32_t addr_pool_server(const struct addr_pool *p);
bool addr_pool_contains(const struct addr_pool *p, uint32_t a);
bool addr_pool_in_use(const struct addr_pool *p, uint32_t a);
/* Lease `want` (host order) when it is free, or with want 0 the next free address.
 * Returns the address, 0 when none is free (or `want` is taken or outside the pool). */
uint32_t addr_pool_take(struct addr_pool *p, uint32_t want);
void addr_pool_release(struct addr_pool *p, uint32_t a);
/* Client addresses in use (the server's own not counted). */
static inline uint64_t addr_pool_clients(const struct addr_pool *p)
{
	return p->used ? p->used - 1 : 0;
}

/* ---- admission -------------------------------------------------------------------- */
/* What the PPP authenticator found. Anything but OK is a rejection: for a user the
 * configuration knows, the engine's credentials step fails (691), whether the password
 * was wrong or could not be checked at all (no password the server can use, a lookup
 * that failed); for an unknown user the account step does. Never "not checked". */
enum admit_cred { ADMIT_CRED_OK, ADMIT_CRED_BAD, ADMIT_CRED_UNKNOWN_USER, ADMIT_CRED_ERROR };

struct admit_req {
	const char *user;
	enum auth_method method;   /* as the configuration names it (AUTH_PAP, AUTH_CHAP, ...) */
	enum eap_type eap_type;    /* with AUTH_EAP: the EAP method (EAP_MSCHAPV2 inside IKEv2) */
	enum admit_cred cred;      /* what the PPP authenticator found */
	enum tunnel_type tunnel;   /* TUN_IKEV2: no PPP, the attempt has no Framed-Protocol (as
	                              an attempt file with "tunnel": "ikev2") */
	enum enc_level encryption; /* what the link will use; with any_encryption, the
	                              strongest it may use */
	bool any_encryption;       /* the level is negotiated later (CCP comes after
	                              authentication): admit with the strongest level at
	                              or below `encryption` that the server enables and the
	                              policy allows */
	const char *client_ip;     /* Calling-Station-Id and Client-IP-Address */
	const char *server_ip;     /* Called-Station-Id and NAS-IP-Address */
	time_t now;                /* wall clock; the local time decides day/time conditions */
	int ports_in_use;          /* of the tunnel type, not counting this attempt */
	int addresses_in_use;      /* client addresses leased by others */
	uint32_t requested_ip;     /* 0: none */
};

struct admit_out {
	bool accept;
	int error;                 /* Windows error of a rejection */
	enum policy_reason reason;
	int policy;                /* deciding policy or -1 */
	bool address_from_pool;    /* take any pool address */
	uint32_t address;          /* static or requested address (0 with from_pool) */
	int idle_timeout, session_timeout; /* minutes, 0 none */
	uint32_t enc_allowed;      /* enum enc_level bits the granted profile and server allow */
};

/* Build the attempt in `a` (attempt_free it after) and decide it with `r` (set up with
 * policy_result_init for `c`). `c` is not changed: the live counters are applied to a
 * copy of the server settings. Returns 0 accept, 1 reject. With any_encryption, a
 * rejection for the encryption level alone is tried again one level lower, down to none:
 * what the link then negotiates is checked against out->enc_allowed
 * (policy_encryption_error gives the client's error when it is not allowed). */
int admit_decide(const struct config *c, const struct admit_req *q, struct attempt *a,
                 struct policy_result *r, struct admit_out *o);

/* What the authenticator found, put into an attempt whose user_name is set: a match
 * gives the engine the account's own password (its credentials step passes as `policy
 * test` with the right password does); anything else fails that step. */
void admit_attempt_cred(const struct config *c, struct attempt *a, enum admit_cred cred);

/* The decisive failing step of a rejection as one line ("permission: ... (users[1].dialin)"),
 * or the deciding policy for an acceptance. */
void admit_summary(const struct config *c, const struct attempt *a,
                   const struct policy_result *r, char *buf, size_t n);

#endif
