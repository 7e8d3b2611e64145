/* The RFC 1661 option-negotiation automaton, shared by LCP, IPCP and CCP.
 *
 * Sans-I/O: the automaton never reads a clock and never touches a socket. Every entry
 * point takes the current time in milliseconds; packets leave through the protocol's
 * `send` callback as a decoded `struct ppp_msg` that the owner frames and encodes; the
 * restart timer is a deadline the owner reads with ppp_fsm_deadline() and fires with
 * ppp_fsm_tick().
 *
 * One instance per control protocol. The protocol supplies a `struct ppp_fsm_ops` that
 * builds its Configure-Request, judges the peer's request (Ack, Nak or Reject, option by
 * option), digests Ack/Nak/Reject of its own request, and hears the this-layer actions
 * (up, down, started, finished).
 */
#ifndef VNET_PPP_FSM_H
#define VNET_PPP_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "ppp.h"

#define PPP_NEVER UINT64_MAX

/* What a PPP link tells its owner's log (event callback `kind`). */
enum ppp_log {
	PPP_LOG_TRACE = 0,  /* automaton transitions and packet-level detail */
	PPP_LOG_INFO,       /* something worth a line: Nak'd option, fallback, loop... */
	PPP_LOG_LCP_UP,     /* "lcp opened" */
	PPP_LOG_AUTH_OK,    /* "auth ok user=bob method=MS-CHAPv2" */
	PPP_LOG_AUTH_FAIL,  /* "auth failed user=bob error=691" */
	PPP_LOG_NCP_UP,     /* "ipcp address 10.0.0.5", "ccp mppe 128-bit" */
	PPP_LOG_NCP_FAIL,   /* an NCP could not converge */
	PPP_LOG_LINK_DOWN,  /* the link is finished: text says why */
};
extern const struct tok ppp_log_names[];
/* The longest event line (the terminating NUL included): room for a peer's user name of
 * the longest length the authenticator reads, escaped (text_printable), and the words
 * around it. */
#define PPP_LOG_LINE_MAX 4608

enum ppp_fsm_state {
	PPP_ST_INITIAL = 0,
	PPP_ST_STARTING,
	PPP_ST_CLOSED,
	PPP_ST_STOPPED,
	PPP_ST_CLOSING,
	PPP_ST_STOPPING,
	PPP_ST_REQ_SENT,
	PPP_ST_ACK_RCVD,
	PPP_ST_ACK_SENT,
	PPP_ST_OPENED,
};

/* The events of RFC 1661 section 4.1. */
enum ppp_fsm_event {
	PPP_EV_UP = 0,
	PPP_EV_DOWN,
	PPP_EV_OPEN,
	PPP_EV_CLOSE,
	PPP_EV_TO_PLUS,
	PPP_EV_TO_MINUS,
	PPP_EV_RCR_PLUS,
	PPP_EV_RCR_MINUS,
	PPP_EV_RCA,
	PPP_EV_RCN,
	PPP_EV_RTR,
	PPP_EV_RTA,
	PPP_EV_RUC,
	PPP_EV_RXJ_PLUS,
	PPP_EV_RXJ_MINUS,
	PPP_EV_RXR,
	PPP_EV_COUNT,
};

extern const struct tok ppp_fsm_state_names[]; /* "Req-Sent", ... */
extern const struct tok ppp_fsm_event_names[]; /* "RCR+", ... */

/* Room for the options of one outgoing Configure-* packet: the decoded form handed to
 * ppp_encode, with the option values held in `scratch`. */
struct ppp_fsm_out {
	struct ppp_cp *cp;
	uint8_t scratch[256];
	size_t used;
	bool full; /* an option did not fit: the packet is not sent */
};

/* Append option `type` with n bytes of value (copied). */
void ppp_out_opt(struct ppp_fsm_out *o, uint8_t type, const void *data, size_t n);
void ppp_out_opt_u16(struct ppp_fsm_out *o, uint8_t type, uint16_t v);
void ppp_out_opt_u32(struct ppp_fsm_out *o, uint8_t type, uint32_t v);
/* Append an option as received (its value is referenced, not copied). */
void ppp_out_opt_copy(struct ppp_fsm_out *o, const struct ppp_opt *opt);

struct ppp_fsm;

struct ppp_fsm_ops {
	const char *name; /* "LCP" */
	uint16_t proto;   /* PPP_PROTO_LCP ... */
	/* Options of this side's Configure-Request. */
	void (*build_req)(struct ppp_fsm *f, struct ppp_fsm_out *o);
	/* Judge the peer's Configure-Request. Fill `o` with the reply options and return
	 * PPP_CONF_ACK (o is then ignored: the request's options are echoed), PPP_CONF_NAK
	 * or PPP_CONF_REJ; or -1 when the request cannot be met at all (the automaton then
	 * closes with the reason the protocol put in f->why). `nak_ok` is false once Max-Failure Naks were sent in a row: the
	 * protocol must then reject what it would have Nak'd (RFC 1661 section 4.6). */
	int (*check_req)(struct ppp_fsm *f, const struct ppp_cp *req, bool nak_ok,
	                 struct ppp_fsm_out *o);
	/* Ack of this side's request (already checked to echo it). */
	void (*recv_ack)(struct ppp_fsm *f, const struct ppp_cp *cp);
	/* Nak / Reject of this side's request: adjust what the next request holds. Return
	 * 0, or -1 when nothing acceptable is left (the automaton then closes with the
	 * reason the protocol put in f->why). */
	int (*recv_nak)(struct ppp_fsm *f, const struct ppp_cp *cp);
	int (*recv_rej)(struct ppp_fsm *f, const struct ppp_cp *cp);
	/* Codes beyond 1..7 (Echo, Reset...). Return true when handled, false to have the
	 * automaton answer with a Code-Reject (RUC). */
	bool (*other_code)(struct ppp_fsm *f, const struct ppp_cp *cp, uint64_t now);
	/* This-Layer-Up / -Down / -Started / -Finished. */
	void (*up)(struct ppp_fsm *f, uint64_t now);
	void (*down)(struct ppp_fsm *f, uint64_t now);
	void (*started)(struct ppp_fsm *f, uint64_t now);
	void (*finished)(struct ppp_fsm *f, uint64_t now);
	/* Hand a packet to the link (the owner adds framing and encodes). */
	void (*send)(struct ppp_fsm *f, struct ppp_msg *m);
	/* One line for the log ("LCP: RCR- in Req-Sent -> Req-Sent"); may be NULL. */
	void (*trace)(struct ppp_fsm *f, const char *line);
	/* Whether trace lines are wanted now (false: they are not even formatted); NULL:
	 * whenever `trace` is set. */
	bool (*tracing)(struct ppp_fsm *f);
};

struct ppp_fsm_conf {
	uint32_t restart_ms;    /* restart timer (RFC 1661: 3 s) */
	uint8_t max_configure;  /* 10 */
	uint8_t max_terminate;  /* 2 */
	uint8_t max_failure;    /* 5: Naks sent in a row before Rejects; Naks received in a
	                           row before giving up */
};

struct ppp_fsm {
	const struct ppp_fsm_ops *ops;
	const struct ppp_fsm_conf *conf;
	void *owner;               /* the protocol's state (LCP, IPCP, CCP) */
	uint8_t state;             /* enum ppp_fsm_state */
	uint8_t id;                /* identifier of the last request sent */
	uint8_t term_id;           /* identifier of the last Terminate-Request sent */
	uint8_t restart_count;
	uint8_t naks_sent;         /* Naks sent in a row */
	uint8_t naks_rcvd;         /* Naks received in a row */
	bool req_outstanding;      /* a Configure-Request awaits its answer */
	bool timed_out;            /* finished by TO-: the peer stopped answering */
	uint64_t deadline;         /* restart timer, PPP_NEVER when stopped */
	uint16_t transitions;      /* count, for tests and statistics */
	char why[128];             /* why the protocol closed or finished, "" when not */
};

void ppp_fsm_init(struct ppp_fsm *f, const struct ppp_fsm_ops *ops,
                  const struct ppp_fsm_conf *conf, void *owner);
/* Administrative and lower-layer events. */
void ppp_fsm_up(struct ppp_fsm *f, uint64_t now);
void ppp_fsm_down(struct ppp_fsm *f, uint64_t now);
void ppp_fsm_open(struct ppp_fsm *f, uint64_t now);
/* Close with a reason (kept in f->why, sent as Terminate-Request data). */
void ppp_fsm_close(struct ppp_fsm *f, uint64_t now, const char *why);
/* A received packet of this protocol: decoded, and the raw packet from its Code octet
 * (a Code-Reject carries it back). */
void ppp_fsm_input(struct ppp_fsm *f, const struct ppp_cp *cp, const uint8_t *raw,
                   size_t rawlen, uint64_t now);
/* RXJ+ (permitted) or RXJ- (catastrophic): a Code-Reject or Protocol-Reject aimed at
 * this protocol. */
void ppp_fsm_rxj(struct ppp_fsm *f, bool permitted, uint64_t now);
/* Fire the restart timer when due. */
void ppp_fsm_tick(struct ppp_fsm *f, uint64_t now);
static inline uint64_t ppp_fsm_deadline(const struct ppp_fsm *f) { return f->deadline; }
static inline bool ppp_fsm_opened(const struct ppp_fsm *f)
{
	return f->state == PPP_ST_OPENED;
}
/* Drive one event directly (tests walk the RFC state table with it). Packet-carrying
 * events act as if such a packet arrived; `cp` may be NULL for the others. */
void ppp_fsm_event(struct ppp_fsm *f, enum ppp_fsm_event ev, const struct ppp_cp *cp,
                   uint64_t now);

/* Send a packet of this protocol with a code and body (Echo-Reply, Code-Reject...). */
void ppp_fsm_send_code(struct ppp_fsm *f, uint8_t code, uint8_t id, const uint8_t *data,
                       size_t n, bool has_magic, uint32_t magic);

/* Smaller of two deadlines. */
static inline uint64_t ppp_min_deadline(uint64_t a, uint64_t b) { return a < b ? a : b; }

#endif
