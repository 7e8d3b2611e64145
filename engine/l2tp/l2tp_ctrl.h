/* The L2TPv2 control connection (RFC 2661 sections 5 and 7): tunnel set-up
 * (SCCRQ/SCCRP/SCCCN), incoming calls (ICRQ/ICRP/ICCN), teardown (CDN, StopCCN),
 * keepalive (HELLO), and the reliable delivery underneath them (Ns/Nr, receive window,
 * retransmission with exponential backoff and a retry limit, ZLB acknowledgements,
 * duplicates acknowledged and dropped, out-of-order messages held until their turn).
 *
 * One `struct l2tp_tunnel` per control connection, in either role: LNS (the server's
 * side, l2tp_ctrl.c) or LAC (the client side used by tests and the load generator,
 * l2tp_lac.c). Sans-I/O: datagrams come in through l2tp_ctrl_input(), leave through the
 * `send` callback; time is an argument and every entry point returns the next deadline
 * (L2TP_NEVER when none). Messages are encoded and decoded with the L2TP codec. The
 * tunnel holds its calls; the bytes of its retransmission queue and of the out-of-order
 * messages it holds (struct l2tp_ctrl_buf) are allocated while there are any, and given
 * back once every message was acknowledged and nothing is held, so a quiet tunnel does
 * not pay for them. l2tp_ctrl_free releases them at the end.
 *
 * Tunnel authentication (RFC 2661 section 5.1.1): with a shared secret each side sends a
 * Challenge and checks the Challenge Response, MD5 over the message type of the answer
 * (2 in SCCRP, 3 in SCCCN), the secret and the challenge; a wrong answer ends the tunnel
 * with StopCCN result 4. With `hide_avps` the session and tunnel identifiers travel
 * hidden (section 4.3); hidden AVPs from the peer are always understood.
 */
#ifndef VNET_L2TP_CTRL_H
#define VNET_L2TP_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "l2tp.h"

#define L2TP_NEVER UINT64_MAX
#define L2TP_CTRL_TXQ 6        /* control messages awaiting acknowledgement or window */
#define L2TP_CTRL_RXQ 2        /* out-of-order control messages held */
#define L2TP_CTRL_MSG_MAX 256  /* largest control message this side sends */
#define L2TP_CTRL_TXBUF 640    /* bytes of the queued messages together (most are under
                                  64 bytes; an SCCRP with challenge and hidden AVPs is the
                                  largest, near 240): a queue without room for the next
                                  message is full, as with TXQ messages in it */
#define L2TP_CTRL_RX_MAX 256   /* largest out-of-order message held (bigger ones wait
                                  for the peer's retransmission) */
#define L2TP_CTRL_CALLS 16     /* calls per tunnel */
#define L2TP_CTRL_DATA_MAX 1600 /* largest data message l2tp_ctrl_send_data builds (header
                                 * and PPP frame): a bigger frame is refused (-1) */

/* The result and error codes (enum l2tp_stop_result, l2tp_cdn_result and
 * l2tp_general_error of libdiag/l2tp.h, one table with the decoder's names) and how the
 * server maps its decisions onto them: L2TP ports exhausted -> CDN
 * L2TP_CDN_NO_FACILITIES_TEMP with L2TP_ERR_NO_RESOURCE; a PPP session rejected by
 * policy or authentication -> CDN L2TP_CDN_ADMIN; server shutdown -> StopCCN
 * L2TP_STOP_SHUTDOWN; tunnel authentication failure -> StopCCN L2TP_STOP_NOT_AUTHORIZED. */

enum l2tp_tunnel_state {
	L2TP_TUN_IDLE = 0,
	L2TP_TUN_WAIT_CTL_REPLY, /* LAC: SCCRQ sent */
	L2TP_TUN_WAIT_CTL_CONN,  /* LNS: SCCRP sent */
	L2TP_TUN_ESTABLISHED,
	L2TP_TUN_CLOSING,        /* StopCCN sent, waiting for its acknowledgement */
	L2TP_TUN_CLOSED,         /* over; still acknowledging the peer's retransmissions */
	L2TP_TUN_DEAD,           /* nothing left to do: the owner may free the tunnel */
};
extern const struct tok l2tp_tunnel_state_names[];

enum l2tp_call_state {
	L2TP_CALL_FREE = 0,
	L2TP_CALL_WAIT_REPLY,    /* LAC: ICRQ sent */
	L2TP_CALL_WAIT_CONNECT,  /* LNS: ICRP sent */
	L2TP_CALL_ESTABLISHED,
	L2TP_CALL_CDN_PENDING,   /* cleared on our side; its CDN waits for room in the queue */
};

enum l2tp_ev {
	L2TP_EV_TRACE = 0,   /* message-level detail */
	L2TP_EV_INFO,        /* duplicates, retransmissions, refused calls... */
	L2TP_EV_TUNNEL_UP,   /* "tunnel up peer=lac1 tid 5/9" */
	L2TP_EV_TUNNEL_DOWN, /* "tunnel down: StopCCN result 6 ..." */
	L2TP_EV_CALL_UP,
	L2TP_EV_CALL_DOWN,
};
extern const struct tok l2tp_ev_names[];

struct l2tp_ctrl_conf {
	bool is_lac;
	const char *host_name;
	const char *vendor_name;     /* NULL: not sent */
	const uint8_t *secret;       /* tunnel authentication; NULL: none */
	size_t secret_len;
	bool hide_avps;              /* send identifiers hidden (needs a secret) */
	uint16_t rwin;               /* our receive window (RFC default 4) */
	uint8_t max_retries;         /* retransmissions before the tunnel is cleared (5) */
	uint32_t rto_initial_ms;     /* first retransmission after (1000) */
	uint32_t rto_max_ms;         /* backoff cap (8000) */
	uint32_t hello_ms;           /* HELLO after this much silence; 0 never (60000) */
	uint32_t hold_ms;            /* state kept after the end to ack retransmissions */
	uint16_t max_calls;          /* L2TP ports when no port callback (<= L2TP_CTRL_CALLS) */
};

struct l2tp_ctrl_cbs {
	void *ctx;
	void (*send)(void *ctx, const uint8_t *buf, size_t len);
	void (*event)(void *ctx, enum l2tp_ev kind, uint16_t sid, const char *text);
	/* Optional: whether `event` wants lines of this kind; false spares formatting lines
	 * the owner would drop. NULL: every line. */
	bool (*log_wanted)(void *ctx, enum l2tp_ev kind);
	void (*random)(void *ctx, uint8_t *buf, size_t n);
	/* Server-wide L2TP ports: take one for an incoming call (false: none left) and
	 * give it back. NULL: the tunnel counts against conf.max_calls. */
	bool (*port_acquire)(void *ctx);
	void (*port_release)(void *ctx);
	/* A call is established (LNS: ICCN received; LAC: ICRP received, ICCN sent). */
	void (*call_up)(void *ctx, uint16_t local_sid);
	/* A call ended: by a CDN (either way) or with its tunnel. */
	void (*call_down)(void *ctx, uint16_t local_sid, uint16_t result, uint16_t error);
	/* PPP frame received on an established call. */
	void (*data)(void *ctx, uint16_t local_sid, const uint8_t *ppp, size_t len);
};

/* A call's local session ID is drawn when its slot is taken (l2tp_ctrl_call_new), unique
 * among the tunnel's calls that are not free, and never changes while the call lives: an
 * owner may key its sessions by (tunnel, local_sid) from call_up until call_down. */
struct l2tp_call {
	uint16_t local_sid, peer_sid;
	uint8_t state;           /* enum l2tp_call_state */
	bool has_port;
	uint32_t serial;
	uint16_t cdn_result, cdn_error; /* of a CDN still to send (L2TP_CALL_CDN_PENDING) */
};

struct l2tp_txslot {
	uint16_t ns;
	uint16_t len;
	uint16_t off;            /* where the message starts in the tunnel's txbuf */
	bool sent;
};

struct l2tp_rxslot {
	bool used;
	uint16_t ns;
	uint16_t len;
	uint8_t buf[L2TP_CTRL_RX_MAX];
};

/* The messages a tunnel has in flight: the bytes of its queued messages (a ring in the
 * order of tx) and the out-of-order messages it holds. */
struct l2tp_ctrl_buf {
	uint8_t txbuf[L2TP_CTRL_TXBUF];
	struct l2tp_rxslot rx[L2TP_CTRL_RXQ];
};

struct l2tp_tunnel_stats {
	uint32_t rx, tx, retransmits, duplicates, out_of_order, dropped, zlb_sent, bad;
};

struct l2tp_tunnel {
	const struct l2tp_ctrl_conf *conf;
	const struct l2tp_ctrl_cbs *cbs;
	uint8_t state;             /* enum l2tp_tunnel_state */
	/* Our tunnel ID. An owner that keys a table by it sets it after l2tp_ctrl_init and
	 * before the first datagram; otherwise the automaton draws one when the control
	 * connection starts (SCCRQ received or sent, l2tp_ctrl_take_tid). Once set it never
	 * changes: no message, however malformed, gives the tunnel another ID. */
	uint16_t local_tid, peer_tid;
	uint16_t ns;               /* next Ns to send */
	uint16_t nr;               /* next Ns expected from the peer */
	uint16_t peer_rwin;
	/* retransmission queue: slots [tx_head .. tx_head+tx_count) in order of Ns */
	uint8_t tx_head, tx_count;
	uint8_t retries;
	uint32_t rto;
	uint64_t rtx_at;           /* retransmission deadline */
	uint64_t hello_at;         /* HELLO deadline */
	uint64_t hold_until;       /* CLOSED -> DEAD */
	bool ack_owed;             /* the peer needs our Nr */
	bool nr_sent;              /* a message carrying the current Nr left in this input */
	bool challenged;           /* we sent a Challenge and expect its Response */
	uint8_t challenge[16];
	uint16_t result, error;    /* how the tunnel ended */
	char why[128];
	char peer_host[64];
	uint16_t next_sid;
	struct l2tp_call calls[L2TP_CTRL_CALLS];
	struct l2tp_txslot tx[L2TP_CTRL_TXQ];
	struct l2tp_ctrl_buf *buf; /* NULL when nothing is queued or held */
	struct l2tp_tunnel_stats st;
};

/* Defaults: window 4, 5 retries, 1 s doubling to 8 s, HELLO after 60 s, hold 31 s. */
void l2tp_ctrl_conf_default(struct l2tp_ctrl_conf *c, bool is_lac);
void l2tp_ctrl_init(struct l2tp_tunnel *t, const struct l2tp_ctrl_conf *conf,
                    const struct l2tp_ctrl_cbs *cbs);
/* Give back what the tunnel allocated (its queue's bytes); the owner calls it once the
 * tunnel is no longer used. */
void l2tp_ctrl_free(struct l2tp_tunnel *t);
/* One received datagram (control or data) addressed to this tunnel. */
uint64_t l2tp_ctrl_input(struct l2tp_tunnel *t, const uint8_t *buf, size_t len, uint64_t now);
uint64_t l2tp_ctrl_tick(struct l2tp_tunnel *t, uint64_t now);
uint64_t l2tp_ctrl_deadline(const struct l2tp_tunnel *t);
/* Send a PPP frame on an established call (data messages are not sequenced). 0 or -1. */
int l2tp_ctrl_send_data(struct l2tp_tunnel *t, uint16_t local_sid, const uint8_t *ppp,
                        size_t len);
/* Clear a call with a CDN carrying result / error / message. The call is over for the
 * owner at once (call_down); when the queue of unacknowledged messages is full, the
 * CDN (without the message) goes out as soon as an acknowledgement makes room. */
uint64_t l2tp_ctrl_call_close(struct l2tp_tunnel *t, uint16_t local_sid, uint16_t result,
                              uint16_t error, const char *msg, uint64_t now);
/* Clear the tunnel with a StopCCN (every call goes down with it). */
uint64_t l2tp_ctrl_stop(struct l2tp_tunnel *t, uint16_t result, uint16_t error,
                        const char *msg, uint64_t now);
/* Forget the tunnel at once without a word to the peer (an owner that needs the room, a
 * connection that never started): every call goes down, nothing is queued or sent any
 * more, the state is DEAD. */
void l2tp_ctrl_abort(struct l2tp_tunnel *t);
struct l2tp_call *l2tp_ctrl_call(struct l2tp_tunnel *t, uint16_t local_sid);
unsigned l2tp_ctrl_active_calls(const struct l2tp_tunnel *t);
/* The tunnel ID in the header of a datagram (0 when it is too short), to find the
 * tunnel a datagram belongs to; SCCRQs carry 0. */
uint16_t l2tp_ctrl_peek_tid(const uint8_t *buf, size_t len);
/* Draw a random local tunnel ID when the tunnel has none yet (the owner chose none);
 * leave it alone otherwise. */
void l2tp_ctrl_take_tid(struct l2tp_tunnel *t);

/* ---- LAC side (l2tp_lac.c) ---------------------------------------------------------- */
/* Send SCCRQ. */
uint64_t l2tp_lac_open(struct l2tp_tunnel *t, uint64_t now);
/* Place an incoming call (ICRQ) on an established tunnel: the local session ID, or 0
 * when the tunnel is not established or has no free call slot. */
uint16_t l2tp_lac_call(struct l2tp_tunnel *t, uint64_t now);

/* ---- shared by l2tp_ctrl.c and l2tp_lac.c ---------------------------------------- */
/* Queue (and send when the window allows) a control message; Ns/Nr are filled in. */
int l2tp_ctrl_queue(struct l2tp_tunnel *t, struct l2tp_msg *m, uint64_t now);
void l2tp_ctrl_log(struct l2tp_tunnel *t, enum l2tp_ev kind, uint16_t sid, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Value of AVP `type` (vendor 0), unhidden when hidden: 1 found (bytes in out, *n),
 * 0 absent, -1 present but unreadable (no secret, wrong secret, too long). */
int l2tp_ctrl_avp(const struct l2tp_tunnel *t, const struct l2tp_msg *m, uint16_t type,
                  uint8_t *out, size_t cap, size_t *n);
/* 16-bit AVP value: true when found and 2 bytes long. */
bool l2tp_ctrl_avp_u16(const struct l2tp_tunnel *t, const struct l2tp_msg *m, uint16_t type,
                       uint16_t *v);
/* Append an identifier AVP, hidden when configured (rv/hbuf must outlive encoding). */
struct l2tp_hide_buf {
	uint8_t rv[16];
	bool rv_added;
	uint8_t h[4][24];
	int used;
};
int l2tp_ctrl_add_id(struct l2tp_tunnel *t, struct l2tp_msg *m, struct l2tp_hide_buf *hb,
                     uint16_t type, uint32_t v, size_t width);
/* Challenge Response: MD5(msg_type octet || secret || challenge). */
int l2tp_ctrl_chal_response(const struct l2tp_tunnel *t, uint8_t msg_type,
                            const uint8_t *chal, size_t chal_len, uint8_t out[16]);
/* Common parts of SCCRQ/SCCRP, and the call slot helpers. */
int l2tp_ctrl_add_sccx(struct l2tp_tunnel *t, struct l2tp_msg *m, struct l2tp_hide_buf *hb);
struct l2tp_call *l2tp_ctrl_call_new(struct l2tp_tunnel *t);
void l2tp_ctrl_call_free(struct l2tp_tunnel *t, struct l2tp_call *c, uint16_t result,
                         uint16_t error);
void l2tp_ctrl_set_state(struct l2tp_tunnel *t, enum l2tp_tunnel_state s);
/* Clear the tunnel after a protocol failure: StopCCN with result/error and reason. */
void l2tp_ctrl_fail(struct l2tp_tunnel *t, uint16_t result, uint16_t error, const char *why,
                    uint64_t now);
/* LAC message handlers, called by l2tp_ctrl_input for the messages a LAC receives. */
void l2tp_lac_handle(struct l2tp_tunnel *t, const struct l2tp_msg *m, uint64_t now);

#endif
