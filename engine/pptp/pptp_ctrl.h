/* The PPTP control connection (RFC 2637 section 2): one TCP connection between a PNS
 * (the client side) and a PAC (the server's side) that sets up the connection
 * (Start-Control-Connection-Request/Reply), keeps it alive (Echo-Request/Reply), places
 * and clears calls (Outgoing-Call-Request/Reply, Call-Clear-Request,
 * Call-Disconnect-Notify), refuses incoming-call requests, and passes link information
 * (Set-Link-Info, WAN-Error-Notify).
 *
 * One `struct pptp_conn` per control connection, in either role: PAC (`vnet serve`) or
 * PNS (the test client and the load generator: pptp_pns_open, pptp_pns_call). Sans-I/O:
 * the TCP byte stream comes in through pptp_ctrl_input() in chunks of any size, messages
 * leave through the `send` callback; time is an argument and every entry point returns
 * the next deadline (PPTP_NEVER when none). Messages are encoded and decoded with the
 * codec of libdiag/pptp.h.
 *
 * Framing: the bytes of a message are gathered in a buffer of PPTP_CTRL_MSG_MAX bytes
 * until its length field is complete. A wrong magic cookie, a length under 12 or over
 * PPTP_CTRL_MSG_MAX, a message that does not decode, or a message the state does not
 * allow ends the connection (state CLOSED, the reason in `why`): the owner closes the TCP
 * connection. Nothing of a stream is read after that.
 *
 * Timers: a PAC waits setup_ms (10 s) for the SCCRQ after the connection was accepted;
 * after call_wait_ms (60 s) without any call ever placed the connection is stopped. An
 * Echo-Request goes out after echo_ms (60 s) without a control message from the peer,
 * and the connection ends when it stays unanswered for echo_ms more. A StopCCRQ we sent
 * waits stop_ms (3 s) for its reply.
 *
 * Call IDs: our Call ID for a new call comes from the `call_id` callback (the server
 * keeps them unique over all connections, so that GRE finds a call by it); without the
 * callback the connection numbers its calls from 1.
 *
 * Codes (result/error of libdiag's tables) the PAC answers with:
 *   OCRQ, no PPTP port free or no room for a session   OCRP 2 General Error, error 4 No-Resource
 *   OCRQ over calls per connection (conf.max_calls)     OCRP 4 Busy
 *   OCRQ before the connection is established           (the connection ends)
 *   ICRQ (a PAC takes no incoming-call requests)        ICRP 3 Do Not Accept
 *   CCRQ                                                CDN 4 Request
 *   the server ends a call                              CDN 3 Admin Shutdown (cause text
 *                                                       in Call Statistics)
 *   SCCRQ of another protocol version                   SCCRP 5 and the connection ends
 *   a second SCCRQ                                      SCCRP 3 Command channel already exists
 */
#ifndef VNET_PPTP_CTRL_H
#define VNET_PPTP_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "pptp.h"

#define PPTP_NEVER UINT64_MAX
#define PPTP_CTRL_MSG_MAX 256 /* longest message taken (RFC 2637's stay under 224) */
#define PPTP_CTRL_CALLS 8     /* calls per connection at most (conf.max_calls is lower) */

enum pptp_conn_state {
	PPTP_CONN_IDLE = 0,     /* PAC: accepted, waiting for the SCCRQ */
	PPTP_CONN_WAIT_REPLY,   /* PNS: SCCRQ sent */
	PPTP_CONN_ESTABLISHED,
	PPTP_CONN_STOPPING,     /* StopCCRQ sent, waiting for the StopCCRP */
	PPTP_CONN_CLOSED,       /* over: the owner closes the TCP connection */
};
extern const struct tok pptp_conn_state_names[];

enum pptp_call_state {
	PPTP_CALL_FREE = 0,
	PPTP_CALL_WAIT_REPLY,   /* PNS: OCRQ sent */
	PPTP_CALL_ESTABLISHED,
};

enum pptp_ev {
	PPTP_EV_TRACE = 0,      /* every message in and out */
	PPTP_EV_INFO,           /* refusals, Set-Link-Info, WAN-Error-Notify, echoes missed */
	PPTP_EV_CONN_UP,
	PPTP_EV_CONN_DOWN,      /* the text says why */
	PPTP_EV_CALL_UP,
	PPTP_EV_CALL_DOWN,
};

struct pptp_ctrl_conf {
	bool is_pns;
	const char *host_name, *vendor;
	uint16_t max_calls;          /* calls per connection, 1..PPTP_CTRL_CALLS */
	uint16_t rwin;               /* our GRE receive window (OCRQ / OCRP) */
	uint32_t setup_ms;           /* PAC: accept -> SCCRQ; PNS: SCCRQ -> SCCRP */
	uint32_t call_wait_ms;       /* PAC: accept -> first call; 0 no limit */
	uint32_t echo_ms;            /* keepalive interval and answer timeout; 0 none */
	uint32_t stop_ms;            /* StopCCRQ -> StopCCRP */
};

struct pptp_ctrl_cbs {
	void *ctx;
	void (*send)(void *ctx, const uint8_t *buf, size_t len);
	void (*event)(void *ctx, enum pptp_ev kind, uint16_t call_id, const char *text);
	/* A Call ID for a new call, unused by any other live call; 0 when none is left.
	 * `release` gives it back when the call is gone. Optional (both or neither). */
	uint16_t (*call_id)(void *ctx);
	void (*call_id_release)(void *ctx, uint16_t call_id);
	/* PAC: a PPTP port for an OCRQ (false: none free) and giving it back. Optional. */
	bool (*port_acquire)(void *ctx);
	void (*port_release)(void *ctx);
	/* A call is established (PAC: OCRP sent; PNS: OCRP Connected received). */
	void (*call_up)(void *ctx, uint16_t call_id);
	/* A call ended (CCRQ, CDN either way, the connection gone); result/error of the
	 * message that ended it (0 when none did). */
	void (*call_down)(void *ctx, uint16_t call_id, uint8_t result, uint8_t error);
};

struct pptp_call {
	uint16_t call_id, peer_call_id;
	uint8_t state;               /* enum pptp_call_state */
	bool has_port;
	uint16_t serial;
	uint16_t peer_rwin, peer_ppd;  /* the peer's receive window and processing delay */
	uint32_t connect_speed;
	uint32_t send_accm, recv_accm; /* from Set-Link-Info (0xffffffff until then) */
};

struct pptp_conn_stats {
	uint32_t rx, tx, echo_sent, echo_missed, refused_calls, sli, wen;
};

struct pptp_conn {
	const struct pptp_ctrl_conf *conf;
	const struct pptp_ctrl_cbs *cbs;
	uint8_t state;               /* enum pptp_conn_state */
	bool echo_out;               /* an Echo-Request of ours is unanswered */
	bool had_call;               /* a call was placed at some time */
	uint16_t next_call_id;       /* without the call_id callback */
	uint16_t next_serial;        /* PNS: call serial numbers */
	uint16_t peer_version, peer_firmware;
	uint32_t peer_framing, peer_bearer;
	uint32_t echo_id;            /* identifier of the last Echo-Request sent */
	uint64_t started_ms;         /* init: accept (PAC) or SCCRQ sent (PNS) */
	uint64_t last_rx_ms;         /* the last control message from the peer */
	uint64_t echo_at;            /* when the unanswered Echo-Request left */
	uint64_t stop_at;            /* StopCCRQ sent */
	uint16_t rxlen;              /* bytes gathered of the message under way */
	uint16_t msglen;             /* its length field, once the header is in */
	uint8_t rx[PPTP_CTRL_MSG_MAX];
	char peer_host[65];          /* the SCCRQ's / SCCRP's Host Name as sent (NUL-ended) */
	char peer_vendor[65];
	char why[120];               /* why the connection ended */
	struct pptp_call calls[PPTP_CTRL_CALLS];
	struct pptp_conn_stats st;
};

/* Defaults: 4 calls per connection, window 64, SCCRQ within 10 s, a call within 60 s,
 * echo every 60 s, StopCCRP within 3 s. */
void pptp_ctrl_conf_default(struct pptp_ctrl_conf *c, bool is_pns);
void pptp_ctrl_init(struct pptp_conn *c, const struct pptp_ctrl_conf *conf,
                    const struct pptp_ctrl_cbs *cbs, uint64_t now);
/* Bytes of the TCP stream from the peer, any number. Stops at the end of the
 * connection (CLOSED). */
uint64_t pptp_ctrl_input(struct pptp_conn *c, const uint8_t *buf, size_t len, uint64_t now);
uint64_t pptp_ctrl_tick(struct pptp_conn *c, uint64_t now);
uint64_t pptp_ctrl_deadline(const struct pptp_conn *c);
/* End a call from our side: PAC CDN (result/error, `stats` as Call Statistics), PNS
 * CCRQ. The call is over for the owner at once (call_down). */
uint64_t pptp_ctrl_call_close(struct pptp_conn *c, uint16_t call_id, uint8_t result,
                              uint8_t error, const char *stats, uint64_t now);
/* End the connection: every call is cleared (CDN) and a StopCCRQ with `reason` sent
 * (1 none, 2 stop-protocol, 3 local shutdown); CLOSED on the reply or after stop_ms. */
uint64_t pptp_ctrl_stop(struct pptp_conn *c, uint8_t reason, const char *why, uint64_t now);
/* Forget the connection at once (the TCP connection is gone): every call goes down,
 * nothing is sent, CLOSED. */
void pptp_ctrl_abort(struct pptp_conn *c, const char *why);
struct pptp_call *pptp_ctrl_call(struct pptp_conn *c, uint16_t call_id);
unsigned pptp_ctrl_active_calls(const struct pptp_conn *c);
static inline bool pptp_ctrl_closed(const struct pptp_conn *c)
{
	return c->state == PPTP_CONN_CLOSED;
}

/* ---- PNS side ------------------------------------------------------------------ */
/* Send the SCCRQ. */
uint64_t pptp_pns_open(struct pptp_conn *c, uint64_t now);
/* Place a call (OCRQ): our Call ID, or 0 when the connection is not established or
 * has no free call slot. */
uint16_t pptp_pns_call(struct pptp_conn *c, uint64_t now);

#endif
