/* The RADIUS client of `vnet serve` (server.auth_provider radius), sans-I/O.
 *
 * The owner builds a request's attributes (radc_body_*), the client gives it an
 * identifier and an authenticator, hides a PAP password with the secret of the server it
 * goes to, adds a Message-Authenticator to every request, signs it and asks the owner to
 * send it (`send`, with the server's index and whether it goes to the accounting port).
 * Time comes in as an argument; radc_tick retransmits and fails over, and every call
 * returns the next deadline.
 *
 * Servers are tried in the order of server.radius.servers (sorted by priority): a request
 * is sent to the first server not marked dead, retransmitted after `timeout` up to
 * `retries` times with the same identifier and authenticator, then the server is marked
 * dead for server.radius.dead_time seconds and the next one is tried with a new
 * authenticator. A dead server is asked again once its hold time is over. An
 * Access-Request that no server answered ends with `auth_done(NULL)`; while every server
 * is dead one is still tried (the oldest mark first), since an answer may come.
 *
 * Answers are taken only from the server and port the request went to, with the
 * identifier in flight, a Response Authenticator that verifies and, for Access-Accept,
 * -Reject and -Challenge, a Message-Authenticator that verifies (required: without it a
 * forged answer could be made, the BlastRADIUS attack); anything else is dropped and
 * counted.
 *
 * Accounting-Requests that find every server dead, or that no server answered, wait in a
 * queue of at most server.radius.accounting_queue_max records (the oldest goes first when
 * it is full, counted); they are sent, with their Acct-Delay-Time, when a server's hold
 * time is over or a server answered. The owner may keep the queue on disk
 * (`queue_changed`, radc_queue_each) and give it back at start (radc_acct with the delay
 * the record had). At most RADC_INFLIGHT requests are in flight at once (the identifier
 * space); an Access-Request beyond that is refused at once. */
#ifndef VNET_RADIUS_CLIENT_H
#define VNET_RADIUS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/config.h"
#include "radius.h"

#define RADC_NEVER UINT64_MAX
#define RADC_INFLIGHT 256
#define RADC_MAX_SERVERS 16
/* queued accounting records sent at once when a server is back */
#define RADC_FLUSH_BATCH 8

/* ---- building a request's attributes ---------------------------------------------------- */
struct radc_body {
	uint8_t b[RADIUS_MAX_LEN - 20];
	size_t n;
	bool err;                    /* something did not fit */
};
void radc_body_put(struct radc_body *b, uint8_t type, const void *val, size_t len);
void radc_body_u32(struct radc_body *b, uint8_t type, uint32_t v);
/* A Microsoft vendor attribute (RFC 2548) in a Vendor-Specific of its own. */
void radc_body_ms(struct radc_body *b, uint8_t vtype, const void *val, size_t len);

/* ---- the client --------------------------------------------------------------------------- */
struct radc_answer {
	const struct radius_msg *m;  /* the decoded answer */
	const uint8_t *req_auth;     /* the authenticator of the request it answers */
	const uint8_t *secret;       /* of the server that answered (MS-MPPE keys) */
	size_t secret_len;
	unsigned server;
};

struct radc_cbs {
	void (*send)(void *ctx, unsigned server, bool acct, const uint8_t *pkt, size_t len);
	void (*random)(void *ctx, uint8_t *buf, size_t n);
	void (*log)(void *ctx, bool debug_only, const char *text);
	/* The answer to radc_auth's request `cookie`; NULL when no server answered. */
	void (*auth_done)(void *ctx, uint64_t cookie, const struct radc_answer *a);
	/* Optional: the accounting queue changed. */
	void (*queue_changed)(void *ctx);
};

struct radc_req {
	struct radc_req *next;       /* in the accounting queue */
	uint64_t cookie;
	uint64_t deadline, created;
	uint32_t delay;              /* seconds the record waited before this process had it */
	uint32_t tried;              /* servers tried (bits) */
	uint8_t kind;                /* 0 Access-Request, 1 Accounting-Request */
	uint8_t srv;                 /* the server it is with */
	uint8_t sends;               /* sends to that server */
	uint8_t id;
	uint8_t auth[16];
	uint8_t pw[128];             /* PAP: the password as the client gave it */
	uint8_t pw_len;
	bool has_pw;
	uint16_t body_len, pkt_len;
	uint8_t *body, *pkt;
};

struct radc_server {
	uint64_t dead_until;         /* 0: alive */
	uint64_t requests, answers, timeouts, dropped;
};

struct radc_stats {
	uint64_t auth_requests, auth_answered, auth_unanswered, auth_busy;
	uint64_t acct_requests, acct_answered, acct_queued, acct_queue_dropped;
	uint64_t bad_answers, failovers;
};

struct radc {
	const struct config *cfg;
	const struct radc_cbs *cbs;
	void *ctx;
	struct radc_server srv[RADC_MAX_SERVERS];
	unsigned nsrv;
	struct radc_req *inflight[RADC_INFLIGHT];
	unsigned ninflight;
	uint8_t next_id;
	struct radc_req *qhead, *qtail;  /* accounting waiting for a server */
	size_t nqueue;
	struct radc_stats st;
};

/* 0, or -1 when the configuration has no server or more than RADC_MAX_SERVERS. */
int radc_init(struct radc *c, const struct config *cfg, const struct radc_cbs *cbs, void *ctx);
void radc_free(struct radc *c);
/* An Access-Request with these attributes (not User-Password, not Message-Authenticator)
 * and, for PAP, the password to hide. Returns the next deadline; RADC_NEVER with nothing
 * sent when RADC_INFLIGHT requests are in flight or memory ran out (*busy set). */
uint64_t radc_auth(struct radc *c, uint64_t cookie, const struct radc_body *body,
                   const uint8_t *pw, size_t pwlen, uint64_t now, bool *busy);
/* An Accounting-Request with these attributes (not Acct-Delay-Time, not
 * Message-Authenticator) that already waited `delay` seconds. Returns the next deadline. */
uint64_t radc_acct(struct radc *c, const struct radc_body *body, uint32_t delay, uint64_t now);
/* A datagram from server `server` (its accounting port when `acct`). */
uint64_t radc_input(struct radc *c, unsigned server, bool acct, const uint8_t *pkt, size_t len,
                    uint64_t now);
uint64_t radc_tick(struct radc *c, uint64_t now);
uint64_t radc_deadline(const struct radc *c);
/* Forget the request `cookie` (its session is gone): no auth_done for it. */
void radc_cancel(struct radc *c, uint64_t cookie);
/* Every queued accounting record: its attributes and the seconds it waited by `now`. */
void radc_queue_each(const struct radc *c, uint64_t now,
                     void (*fn)(void *arg, const uint8_t *body, size_t len, uint32_t delay),
                     void *arg);
/* Accounting-Requests still in flight go back to the head of the queue, unanswered (the
 * owner is stopping and keeps the queue): sent again at the next start, a server may
 * see one twice, which RFC 2866 servers take as a retransmission. */
void radc_hold_inflight(struct radc *c);
/* Whether server i is marked dead at `now`. */
bool radc_server_dead(const struct radc *c, unsigned i, uint64_t now);

#endif
