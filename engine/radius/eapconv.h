/* EAP conversations of the NPS-compatible RADIUS server (RFC 3579), sans-I/O.
 *
 * An EAP authentication takes several Access-Request / Access-Challenge rounds; the
 * server ties them together by the State attribute of each Access-Challenge, which the
 * client returns in its next Access-Request. The table below holds the conversations:
 *   - a State is 16 octets: the slot (2 octets) and 14 random octets; a State is found
 *     only when all 16 match the slot's (compared in constant time), the request comes
 *     from the same RADIUS client (serve.radius_server.clients entry) and the same
 *     address, and the conversation has not timed out. Anything else is a State this
 *     server did not issue (or no longer knows) and the request is refused;
 *   - each conversation lives `timeout_ms` after its last request;
 *   - the table has `cap` slots. When every slot is taken, expired conversations go first;
 *     then the oldest conversation of the client holding the most, so one NAS flooding
 *     the table evicts its own conversations, not another's.
 * A conversation that ends (by the server, by time or by eviction) is handed to the
 * owner's `drop` callback once, to give back what it held (an address lease).
 *
 * The EAP packet of a request is the join of its EAP-Message attributes (RFC 3579 3.1),
 * bounded: at most EAPCONV_EAP_MAX octets, consecutive attributes only, and its EAP
 * Length equal to what they hold. */
#ifndef VNET_EAPCONV_H
#define VNET_EAPCONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "diag.h"
#include "policy/policy.h"
#include "radius.h"

#define EAPCONV_STATE_LEN 16
#define EAPCONV_EAP_MAX 1024      /* octets of one joined EAP packet */
#define EAPCONV_IDENTITY_MAX 253  /* octets of an EAP identity kept */

enum eapconv_stage {
	EAPCONV_IDENTITY,   /* EAP-Request/Identity sent (after an EAP-Start) */
	EAPCONV_CHALLENGE,  /* EAP-Request/MS-CHAPv2 Challenge sent */
	EAPCONV_SUCCESS,    /* MS-CHAPv2 Success sent, the acknowledgement awaited */
	EAPCONV_FAILURE,    /* MS-CHAPv2 Failure sent, the acknowledgement awaited */
};

/* What the decision at the MS-CHAPv2 Response granted or refused, kept for the answer to
 * the peer's acknowledgement. */
struct eapconv_verdict {
	bool accept;
	int policy;                  /* deciding policy or -1 */
	enum policy_reason reason;
	int error, nps_reason;
	int session_timeout, idle_timeout; /* minutes */
	uint32_t enc_allowed;        /* enum enc_level bits */
	uint32_t addr;               /* granted address, 0 none */
	bool leased;                 /* addr is a pool lease held for this conversation */
	uint64_t lease_at;           /* when it was granted */
	uint8_t send_key[16], recv_key[16]; /* the MSK halves (server's send and receive) */
	char detail[256];            /* why, for the log of a rejection */
};

struct eapconv {
	bool used;
	uint8_t state[EAPCONV_STATE_LEN];
	uint32_t client;             /* index in serve.nps_clients */
	int family;
	uint8_t addr[16];            /* the client's address (port not bound: NAS use several) */
	uint64_t born, deadline;
	enum eapconv_stage stage;
	uint8_t eap_id;              /* Identifier of the last EAP-Request sent */
	uint8_t ms_id;
	bool reproposed;             /* MS-CHAPv2 proposed again after another type */
	uint8_t auth_challenge[16];
	char identity[EAPCONV_IDENTITY_MAX + 1];
	struct eapconv_verdict v;
};

enum eapconv_miss {
	EAPCONV_FOUND,
	EAPCONV_UNKNOWN,     /* not a State this server issued (or its slot moved on) */
	EAPCONV_EXPIRED,     /* issued, but its conversation timed out (now ended) */
	EAPCONV_OTHER_PEER,  /* issued to another client or address */
};
extern const char *const eapconv_miss_text[];

struct eapconv_table {
	struct eapconv *v;
	size_t cap, n;
	uint64_t timeout_ms;
	uint32_t *per_client;        /* conversations of each client */
	size_t nclients;
	void (*drop)(void *ctx, struct eapconv *c, const char *why);
	void *ctx;
	uint64_t opened, expired, evicted;
};

/* 0, or -1 out of memory (cap 1..65536). */
int eapconv_init(struct eapconv_table *t, size_t cap, uint64_t timeout_ms, size_t nclients,
                 void (*drop)(void *ctx, struct eapconv *c, const char *why), void *ctx);
/* Ends every conversation (drop "server stopping"), frees the table. */
void eapconv_free(struct eapconv_table *t);
/* A new conversation of `client` from `peer` with its State made of `rnd` (14 random
 * octets); another is expired or evicted when the table is full. NULL only when the
 * client index is out of range. */
struct eapconv *eapconv_open(struct eapconv_table *t, uint32_t client,
                             const struct sockaddr_storage *peer, uint64_t now,
                             const uint8_t rnd[EAPCONV_STATE_LEN - 2]);
/* The conversation of a State from `client` at `peer`, its deadline moved on; NULL with
 * *why saying which miss. */
struct eapconv *eapconv_find(struct eapconv_table *t, const uint8_t *state, size_t len,
                             uint32_t client, const struct sockaddr_storage *peer,
                             uint64_t now, enum eapconv_miss *why);
/* The conversation is over: drop(why), its slot free. */
void eapconv_close(struct eapconv_table *t, struct eapconv *c, const char *why);

/* The EAP packet of a request's EAP-Message attributes into buf (cap at least
 * EAPCONV_EAP_MAX): its length; 0 for an EAP-Start (one empty EAP-Message); -1 when there
 * is no EAP-Message or the join breaks a bound (err says where and why). */
long eapconv_join(const struct radius_msg *m, uint8_t *buf, size_t cap, struct diag_err *err);

#endif
