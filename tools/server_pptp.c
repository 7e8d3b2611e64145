/* `vnet serve`: PPTP (RFC 2637) as a PAC (server.h).
 *
 * Control connections arrive on a TCP listener (serve.pptp.listen or --pptp-listen,
 * port 1723 by default); each is a `struct srv_pptp_conn` around the sans-I/O automaton
 * of engine/pptp/pptp_ctrl.h. A call its OCRQ places is a `struct srv_pptp_call` around
 * the remote-access session (engine/server/ras_session.h: PPP, authentication, admission
 * by the policy engine with tunnel type pptp, MPPE, the data path), whose lower layer it
 * is: PPP frames travel in enhanced GRE (engine/pptp/pptp_gre.h) over one raw socket of
 * IP protocol 47 shared by every call. A GRE packet finds its call by the Call ID in its
 * header, which the server draws unique over all connections, and must come from the
 * address of the call's control connection.
 *
 * Limits: serve.pptp.connections control connections at most; when they are all taken, a
 * new one takes the place of the oldest connection without a call (one in set-up, or an
 * idle one), else it is refused. New connections per source and second count against
 * serve.limits.new_tunnels_per_source, like L2TP tunnels. A connection has 10 s for its
 * SCCRQ and 60 s for its first call; serve.pptp.calls_per_connection calls at most (OCRP
 * Busy beyond); an OCRQ without a free PPTP port (server.ports.pptp) or room in the
 * session table is refused with General Error / No-Resource, which Windows shows as
 * error 628. Output a peer does not read is held up to CONN_WBUF_MAX bytes, then the
 * connection is dropped.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gre.h"
#include "net.h"
#include "pptp.h"
#include "pptp/pptp_ctrl.h"
#include "pptp/pptp_gre.h"

#ifndef IPPROTO_GRE
#define IPPROTO_GRE 47
#endif

#define CONN_WBUF_MAX 4096        /* control output held for a peer that does not read */
#define GRE_ACK_DELAY_MS 100      /* an acknowledgement waits this long for a frame to ride */
#define GRE_ACK_TIMEOUT_MS 1000   /* frames in flight given up after this long unacknowledged */
#define GRE_PKT_MAX (SERVE_MRU_MAX + 8 + 16 + 64)

struct srv_pptp_call;

struct srv_pptp_conn {
	struct pptp_conn c;
	struct pptp_ctrl_cbs cbs;
	struct srv *srv;
	uint32_t id;                 /* the server's number for it (show, logs) */
	int fd;                      /* -1 without a socket (the fuzz harness) */
	struct event *ev;            /* readable (and writable while output waits) */
	bool ev_write;
	bool write_failed;           /* output could not be held: end it */
	bool eof;
	bool in_spare;               /* on the list of connections without a call */
	bool finished;
	struct sockaddr_storage peer, local;
	uint64_t created_ms;
	struct srv_timer timer;
	uint8_t *wbuf;               /* output the socket did not take yet */
	uint16_t wlen;
	uint32_t cap_srv_seq, cap_peer_seq; /* the capture's TCP sequence numbers */
	struct srv_pptp_conn *next, *prev;       /* every connection, oldest first */
	struct srv_pptp_conn *sp_next, *sp_prev; /* without a call, oldest first */
	struct srv_pptp_conn *next_dead;
	struct srv_pptp_call *calls[PPTP_CTRL_CALLS];
};

/* A PPTP call: the lower layer of the session it carries (ras_lower_ops). */
struct srv_pptp_call {
	struct ras_session rs;       /* first: the session is the call */
	struct srv_pptp_conn *conn;  /* NULL once the session is dead */
	struct srv_pptp_call *next_dead;
	struct srv_timer timer;
	uint64_t ras_at;             /* the session's own deadline */
	struct pptp_gre g;
	uint16_t call_id, peer_call_id;
	uint32_t peer_addr;          /* network order: where its GRE must come from */
};

struct srv_pptp_stats {
	uint64_t conns_accepted, conns_refused, conns_evicted, conns_closed, refused_rate;
	uint64_t gre_rx, gre_tx, gre_malformed, gre_unknown, gre_duplicates, gre_window_drops,
		gre_acks, gre_send_errors, ctrl_bad;
};

struct srv_pptp {
	struct pptp_ctrl_conf conf;
	bool listening;
	struct sockaddr_storage local;
	socklen_t locallen;
	char local_text[64];
	struct srv_listener *tcp, *gre;
	struct srv_pptp_conn *head, *tail;       /* every connection */
	struct srv_pptp_conn *sp_head, *sp_tail; /* without a call */
	unsigned nconns, nspare, ncalls;
	uint32_t next_conn_id;
	struct srv_pptp_call **by_id;            /* [65536] live calls by our Call ID */
	uint8_t id_used[65536 / 8];              /* Call IDs taken (also between OCRQ and call) */
	uint16_t next_call_id;
	struct srv_pptp_call *dead_calls;
	struct srv_pptp_conn *dead_conns;
	struct srv_pptp_stats st;
};

static struct srv_pptp_call *call_of(const struct ras_session *rs)
{
	return (struct srv_pptp_call *)(void *)rs;
}

static const char *addr_text(const struct sockaddr_storage *a, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	srv_peer_ip(a, ip, sizeof ip);
	snprintf(buf, n, "%s:%u", ip, ntohs(((const struct sockaddr_in *)a)->sin_port));
	return buf;
}

static uint32_t addr4(const struct sockaddr_storage *a)
{
	return ((const struct sockaddr_in *)a)->sin_addr.s_addr;
}

static void conn_check(struct srv_pptp_conn *k);

/* ---- capture: the control stream as TCP segments ------------------------------------ */
static void cap_tcp(struct srv_pptp_conn *k, bool out, uint8_t flags, const uint8_t *b, size_t n)
{
	struct srv *s = k->srv;
	if (!s->dumper) return;
	if (out) {
		srv_capture_tcp(s, &k->local, &k->peer, k->cap_srv_seq, k->cap_peer_seq, flags, b, n);
		k->cap_srv_seq += (uint32_t)n + (flags & 0x01 ? 1 : 0);
	} else {
		srv_capture_tcp(s, &k->peer, &k->local, k->cap_peer_seq, k->cap_srv_seq, flags, b, n);
		k->cap_peer_seq += (uint32_t)n + (flags & 0x01 ? 1 : 0);
	}
}

#define CAP_FIN 0x01
#define CAP_SYN 0x02
#define CAP_PSH 0x08
#define CAP_ACK 0x10

static void cap_open(struct srv_pptp_conn *k)
{
	struct srv *s = k->srv;
	if (!s->dumper) return;
	uint32_t isn_p = k->id * 2654435761u, isn_s = ~isn_p;
	srv_capture_tcp(s, &k->peer, &k->local, isn_p, 0, CAP_SYN, NULL, 0);
	srv_capture_tcp(s, &k->local, &k->peer, isn_s, isn_p + 1, CAP_SYN | CAP_ACK, NULL, 0);
	srv_capture_tcp(s, &k->peer, &k->local, isn_p + 1, isn_s + 1, CAP_ACK, NULL, 0);
	k->cap_peer_seq = isn_p + 1;
	k->cap_srv_seq = isn_s + 1;
}

/* ---- connections ------------------------------------------------------------------ */
static void conn_log(struct srv_pptp_conn *k, bool debug_only, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void conn_log(struct srv_pptp_conn *k, bool debug_only, const char *fmt, ...)
{
	char msg[400], peer[80];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	srv_log(k->srv, SC_PPTP, debug_only, NULL, NULL, "conn %u peer=%s: %s", k->id,
	        addr_text(&k->peer, peer, sizeof peer), msg);
}

static void conn_want_write(struct srv_pptp_conn *k, bool on)
{
	if (!k->ev || k->ev_write == on) return;
	event_del(k->ev);
	event_assign(k->ev, k->srv->base, k->fd, EV_READ | EV_PERSIST | (on ? EV_WRITE : 0),
	             event_get_callback(k->ev), k);
	event_add(k->ev, NULL);
	k->ev_write = on;
}

static void conn_flush(struct srv_pptp_conn *k)
{
	while (k->wlen && k->fd >= 0) {
		ssize_t n = send(k->fd, k->wbuf, k->wlen, MSG_NOSIGNAL);
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
			k->wlen = 0;
			k->write_failed = true;
			break;
		}
		memmove(k->wbuf, k->wbuf + n, k->wlen - (size_t)n);
		k->wlen = (uint16_t)(k->wlen - (size_t)n);
	}
	conn_want_write(k, k->wlen > 0);
}

static void conn_send(void *ctx, const uint8_t *buf, size_t len)
{
	struct srv_pptp_conn *k = ctx;
	if (k->finished || k->write_failed) return;
	cap_tcp(k, true, CAP_PSH | CAP_ACK, buf, len);
	if (k->fd < 0) return;
	size_t off = 0;
	if (!k->wlen) {
		ssize_t n = send(k->fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			k->write_failed = true;
			return;
		}
		off = n > 0 ? (size_t)n : 0;
	}
	if (off == len) return;
	if (k->wlen + (len - off) > CONN_WBUF_MAX) {
		k->write_failed = true;
		return;
	}
	if (!k->wbuf && !(k->wbuf = malloc(CONN_WBUF_MAX))) {
		k->write_failed = true;
		return;
	}
	memcpy(k->wbuf + k->wlen, buf + off, len - off);
	k->wlen = (uint16_t)(k->wlen + (len - off));
	conn_want_write(k, true);
}

static struct srv_pptp_call *conn_call(struct srv_pptp_conn *k, uint16_t call_id)
{
	for (unsigned i = 0; i < PPTP_CTRL_CALLS; i++)
		if (k->calls[i] && k->calls[i]->call_id == call_id) return k->calls[i];
	return NULL;
}

static void conn_event(void *ctx, enum pptp_ev kind, uint16_t call_id, const char *text)
{
	struct srv_pptp_conn *k = ctx;
	bool dbg = kind == PPTP_EV_TRACE;
	struct srv_pptp_call *c = call_id ? conn_call(k, call_id) : NULL;
	if (c && !ras_session_dead(&c->rs)) {
		srv_log(k->srv, SC_PPTP, dbg, NULL, &c->rs, "%s", text);
		return;
	}
	if (kind == PPTP_EV_CONN_UP) {
		char host[TEXT_PRINTABLE_SIZE(64)];
		text_printable_str(k->c.peer_host, host, sizeof host);
		conn_log(k, false, "%s, host=%s", text, host[0] ? host : "?");
		return;
	}
	conn_log(k, dbg, "%s", text);
}

static uint16_t conn_call_id(void *ctx)
{
	struct srv_pptp_conn *k = ctx;
	struct srv_pptp *p = k->srv->pptp;
	for (unsigned n = 0; n < 65536; n++) {
		uint16_t id = ++p->next_call_id;
		if (!id) continue;
		if (!(p->id_used[id / 8] >> (id % 8) & 1)) {
			p->id_used[id / 8] |= (uint8_t)(1u << (id % 8));
			return id;
		}
	}
	return 0;
}

static void conn_call_id_release(void *ctx, uint16_t id)
{
	struct srv_pptp_conn *k = ctx;
	k->srv->pptp->id_used[id / 8] &= (uint8_t)~(1u << (id % 8));
}

static bool pptp_port_acquire(void *ctx)
{
	struct srv_pptp_conn *k = ctx;
	struct srv *s = k->srv;
	int ports = s->cfg->server.ports[TUN_PPTP];
	if (s->pptp_ports_used >= ports) {
		s->st.refused_ports++;
		conn_log(k, false, "outgoing call refused: all %d PPTP ports are in use (server.ports.pptp): "
		         "OCRP result 2 error 4, the client shows error 628", ports);
		return false;
	}
	if (s->nsessions >= s->sess_cap - 1) {
		s->st.refused_ports++;
		conn_log(k, false, "outgoing call refused: %u sessions reached serve.limits.sessions",
		         s->nsessions);
		return false;
	}
	s->pptp_ports_used++;
	return true;
}

static void pptp_port_release(void *ctx)
{
	struct srv_pptp_conn *k = ctx;
	if (k->srv->pptp_ports_used > 0) k->srv->pptp_ports_used--;
}

/* ---- calls ------------------------------------------------------------------------ */
static void call_arm(struct srv_pptp_call *c)
{
	if (ras_session_dead(&c->rs)) return;
	uint64_t d = c->ras_at, g = pptp_gre_deadline(&c->g);
	if (g < d) d = g;
	srv_timer_set(c->rs.env->ctx, &c->timer, d == UINT64_MAX ? L2TP_NEVER : d);
}

static void gre_out(struct srv_pptp_call *c, const uint8_t *pkt, size_t n)
{
	struct srv *s = c->rs.env->ctx;
	struct srv_pptp *p = s->pptp;
	struct srv_pptp_conn *k = c->conn;
	if (!k) return;
	p->st.gre_tx++;
	srv_capture_ip(s, &k->local, &k->peer, IPPROTO_GRE, pkt, n);
	if (!p->gre || p->gre->fd < 0) return;
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = c->peer_addr};
	if (sendto(p->gre->fd, pkt, n, 0, (const struct sockaddr *)&to, sizeof to) < 0) {
		p->st.gre_send_errors++;
		if (srv_throttle(s))
			srv_log(s, SC_PPTP, false, NULL, &c->rs, "GRE send failed: %s", strerror(errno));
	}
}

static int call_send(struct ras_session *rs, const uint8_t *frame, size_t len)
{
	struct srv_pptp_call *c = call_of(rs);
	if (!c->conn) return -1;
	uint8_t pkt[GRE_PKT_MAX];
	uint64_t window_drops = c->g.st.window_drops;
	size_t n = pptp_gre_send(&c->g, frame, len, pkt, sizeof pkt, srv_now_ms());
	if (!n) {
		if (c->g.st.window_drops != window_drops) {
			struct srv_pptp *p = ((struct srv *)rs->env->ctx)->pptp;
			p->st.gre_window_drops++;
			return 0; /* counted: the peer's window is full */
		}
		return -1;
	}
	gre_out(c, pkt, n);
	return 0;
}

static void call_close(struct ras_session *rs, unsigned win_error, uint64_t now)
{
	(void)win_error;
	struct srv_pptp_call *c = call_of(rs);
	struct srv_pptp_conn *k = c->conn;
	if (!k) return;
	char msg[64];
	ras_session_cause_text(rs, msg, sizeof msg);
	/* CDN 3 Admin Shutdown with the cause as Call Statistics; call_down ends the session */
	pptp_ctrl_call_close(&k->c, c->call_id, 3, 0, msg, now);
	conn_check(k);
}

static const char *call_peer_text(const struct ras_session *rs, char *buf, size_t n)
{
	const struct srv_pptp_call *c = call_of(rs);
	if (!c->conn) return NULL;
	return addr_text(&c->conn->peer, buf, n);
}

static const char *call_peer_ip(const struct ras_session *rs, char *buf, size_t n)
{
	const struct srv_pptp_call *c = call_of(rs);
	if (!c->conn) return NULL;
	srv_peer_ip(&c->conn->peer, buf, n);
	return buf;
}

static bool call_ids(const struct ras_session *rs, unsigned ids[4])
{
	const struct srv_pptp_call *c = call_of(rs);
	if (!c->conn) return false;
	ids[0] = c->conn->id;
	ids[1] = 0;
	ids[2] = c->call_id;
	ids[3] = c->peer_call_id;
	return true;
}

static void call_cause(const struct ras_session *rs, unsigned a, unsigned b, char *buf, size_t n)
{
	(void)rs;
	snprintf(buf, n, "pptp-cdn-%u-%u", a, b);
}

static const struct ras_lower_ops pptp_call_ops = {
	.tunnel = TUN_PPTP,
	.send = call_send,
	.close = call_close,
	.peer_text = call_peer_text,
	.peer_ip = call_peer_ip,
	.ids = call_ids,
	.cause_text = call_cause,
	.port_acquire = pptp_port_acquire,
	.port_release = pptp_port_release,
};

static void spare_remove(struct srv_pptp_conn *k);

static void conn_call_up(void *ctx, uint16_t call_id)
{
	struct srv_pptp_conn *k = ctx;
	struct srv *s = k->srv;
	struct srv_pptp *p = s->pptp;
	const struct pptp_call *pc = pptp_ctrl_call(&k->c, call_id);
	unsigned slot = PPTP_CTRL_CALLS;
	for (unsigned i = 0; i < PPTP_CTRL_CALLS && slot == PPTP_CTRL_CALLS; i++)
		if (!k->calls[i]) slot = i;
	struct srv_pptp_call *c = NULL;
	uint32_t sid = 0;
	if (pc && slot < PPTP_CTRL_CALLS && (c = calloc(1, sizeof *c))) {
		if (srv_timer_reserve(s) != 0) {
			free(c);
			c = NULL;
		}
	}
	if (c) {
		srv_timer_init(&c->timer, SRV_TIMER_PPTP_CALL);
		sid = srv_session_id_new(s);
		if (!sid || ras_session_init(&c->rs, &s->env, &pptp_call_ops, sid, srv_now_ms()) != 0) {
			s->ntimers--;
			free(c);
			c = NULL;
		}
	}
	if (!c) {
		conn_log(k, false, "call %u: no room for its session (memory, serve.limits.sessions), "
		         "cleared", call_id);
		pptp_ctrl_call_close(&k->c, call_id, 2, 4, "no resources", srv_now_ms());
		return;
	}
	s->sessions[sid % s->sess_cap] = &c->rs;
	s->nsessions++;
	c->conn = k;
	c->call_id = call_id;
	c->peer_call_id = pc->peer_call_id;
	c->peer_addr = addr4(&k->peer);
	c->ras_at = L2TP_NEVER;
	pptp_gre_init(&c->g, pc->peer_call_id, pc->peer_rwin, GRE_ACK_DELAY_MS, GRE_ACK_TIMEOUT_MS,
	              srv_now_ms());
	k->calls[slot] = c;
	p->by_id[call_id] = c;
	p->ncalls++;
	spare_remove(k);
	srv_log(s, SC_PPTP, false, NULL, &c->rs, "session %u: call up (peer call %u, window %u), "
	        "starting PPP", sid, c->peer_call_id, pc->peer_rwin);
	c->ras_at = ras_session_start(&c->rs, srv_now_ms());
	call_arm(c);
}

static void conn_call_down(void *ctx, uint16_t call_id, uint8_t result, uint8_t error)
{
	struct srv_pptp_conn *k = ctx;
	struct srv_pptp_call *c = conn_call(k, call_id);
	if (!c || ras_session_dead(&c->rs)) return;
	if (k->c.state == PPTP_CONN_ESTABLISHED)
		ras_session_lower_down(&c->rs, RAS_CAUSE_LOWER, result, error, srv_now_ms());
	else
		ras_session_lower_down(&c->rs, RAS_CAUSE_TUNNEL_CLOSED, 0, 0, srv_now_ms());
}

void srv_pptp_session_dead(struct srv *s, struct ras_session *rs)
{
	struct srv_pptp *p = s->pptp;
	struct srv_pptp_call *c = call_of(rs);
	srv_timer_set(s, &c->timer, L2TP_NEVER);
	if (c->conn) {
		for (unsigned i = 0; i < PPTP_CTRL_CALLS; i++)
			if (c->conn->calls[i] == c) c->conn->calls[i] = NULL;
		/* the automaton's call may still be up (the session ended first): clear it */
		if (pptp_ctrl_call(&c->conn->c, c->call_id))
			pptp_ctrl_call_close(&c->conn->c, c->call_id, 3, 0, "session ended", s->env.now);
	}
	if (p->by_id[c->call_id] == c) {
		p->by_id[c->call_id] = NULL;
		p->ncalls--;
	}
	s->sessions[rs->id % s->sess_cap] = NULL;
	s->nsessions--;
	c->conn = NULL;
	c->next_dead = p->dead_calls;
	p->dead_calls = c;
}

void srv_pptp_resume(struct srv *s, struct ras_session *rs, unsigned seq,
                     const struct ras_verdict *v)
{
	(void)s;
	struct srv_pptp_call *c = call_of(rs);
	uint64_t d;
	if (ras_session_admit_resume(rs, seq, v, srv_now_ms(), &d) == 0 && !ras_session_dead(rs)) {
		c->ras_at = d;
		call_arm(c);
	}
}

void srv_pptp_disconnect(struct srv *s, struct ras_session *rs, enum ras_cause cause)
{
	(void)s;
	struct srv_pptp_call *c = call_of(rs);
	c->ras_at = ras_session_disconnect(rs, cause, srv_now_ms());
	call_arm(c);
}

void srv_pptp_rearm(struct srv *s, struct ras_session *rs)
{
	(void)s;
	struct srv_pptp_call *c = call_of(rs);
	c->ras_at = ras_session_deadline(rs);
	call_arm(c);
}

/* ---- connection lists ------------------------------------------------------------- */
static void spare_add(struct srv_pptp_conn *k)
{
	struct srv_pptp *p = k->srv->pptp;
	if (k->in_spare) return;
	k->in_spare = true;
	k->sp_next = NULL;
	k->sp_prev = p->sp_tail;
	if (p->sp_tail) p->sp_tail->sp_next = k;
	else p->sp_head = k;
	p->sp_tail = k;
	p->nspare++;
}

static void spare_remove(struct srv_pptp_conn *k)
{
	struct srv_pptp *p = k->srv->pptp;
	if (!k->in_spare) return;
	k->in_spare = false;
	if (k->sp_prev) k->sp_prev->sp_next = k->sp_next;
	else p->sp_head = k->sp_next;
	if (k->sp_next) k->sp_next->sp_prev = k->sp_prev;
	else p->sp_tail = k->sp_prev;
	k->sp_next = k->sp_prev = NULL;
	p->nspare--;
}

/* The connection is over: out of the tables, its socket closed; the memory goes at the
 * next reap (a callback of it may be under way). */
static void conn_finish(struct srv_pptp_conn *k)
{
	struct srv *s = k->srv;
	struct srv_pptp *p = s->pptp;
	if (k->finished) return;
	if (!pptp_ctrl_closed(&k->c)) pptp_ctrl_abort(&k->c, "connection dropped");
	for (unsigned i = 0; i < PPTP_CTRL_CALLS; i++)
		if (k->calls[i]) ras_session_abort(&k->calls[i]->rs, RAS_CAUSE_TUNNEL_CLOSED, srv_now_ms());
	k->finished = true;
	conn_log(k, true, "connection state freed");
	spare_remove(k);
	if (k->prev) k->prev->next = k->next;
	else p->head = k->next;
	if (k->next) k->next->prev = k->prev;
	else p->tail = k->prev;
	p->nconns--;
	p->st.conns_closed++;
	srv_timer_set(s, &k->timer, L2TP_NEVER);
	if (k->ev) {
		event_free(k->ev);
		k->ev = NULL;
	}
	if (k->fd >= 0) {
		conn_flush(k);
		cap_tcp(k, k->eof ? false : true, CAP_FIN | CAP_ACK, NULL, 0);
		close(k->fd);
		k->fd = -1;
	} else {
		cap_tcp(k, true, CAP_FIN | CAP_ACK, NULL, 0);
	}
	k->next_dead = p->dead_conns;
	p->dead_conns = k;
}

/* After any input or tick: the tables in step with the automaton. */
static void conn_check(struct srv_pptp_conn *k)
{
	if (k->finished) return;
	if (k->write_failed && !pptp_ctrl_closed(&k->c))
		pptp_ctrl_abort(&k->c, "the peer does not read its control connection (output "
		                "over 4 KiB or the socket failed)");
	if (pptp_ctrl_closed(&k->c)) {
		conn_finish(k);
		return;
	}
	if (pptp_ctrl_active_calls(&k->c) == 0) spare_add(k);
	else spare_remove(k);
	uint64_t d = pptp_ctrl_deadline(&k->c);
	srv_timer_set(k->srv, &k->timer, d == PPTP_NEVER ? L2TP_NEVER : d);
}

static struct srv_pptp_conn *conn_by_id(struct srv *s, uint32_t id)
{
	for (struct srv_pptp_conn *k = s->pptp->head; k; k = k->next)
		if (k->id == id) return k;
	return NULL;
}

void srv_pptp_stream(struct srv *s, uint32_t id, const uint8_t *buf, size_t len)
{
	struct srv_pptp_conn *k = conn_by_id(s, id);
	if (!k || k->finished) return;
	cap_tcp(k, false, CAP_PSH | CAP_ACK, buf, len);
	uint32_t rx = k->c.st.rx;
	pptp_ctrl_input(&k->c, buf, len, srv_now_ms());
	if (pptp_ctrl_closed(&k->c) && k->c.st.rx == rx) s->pptp->st.ctrl_bad++;
	conn_check(k);
	srv_pptp_reap(s);
}

static void conn_io(evutil_socket_t fd, short what, void *arg)
{
	struct srv_pptp_conn *k = arg;
	struct srv *s = k->srv;
	if (what & EV_WRITE) conn_flush(k);
	if (what & EV_READ) {
		uint8_t buf[2048];
		for (int i = 0; i < 8 && !k->finished; i++) {
			ssize_t n = recv(fd, buf, sizeof buf, 0);
			if (n > 0) {
				cap_tcp(k, false, CAP_PSH | CAP_ACK, buf, (size_t)n);
				pptp_ctrl_input(&k->c, buf, (size_t)n, srv_now_ms());
				if (pptp_ctrl_closed(&k->c)) break;
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
			if (n == 0) k->eof = true;
			char why[96];
			snprintf(why, sizeof why, "%s", n == 0 ? "the peer closed the TCP connection"
			         : strerror(errno));
			pptp_ctrl_abort(&k->c, why);
			break;
		}
	}
	conn_check(k);
	srv_pptp_reap(s);
}

uint32_t srv_pptp_accept(struct srv *s, int fd, const struct sockaddr_storage *peer)
{
	struct srv_pptp *p = s->pptp;
	char pt[80];
	const char *why = NULL;
	if (s->stopping) why = "the server is stopping";
	else if (peer->ss_family != AF_INET) why = "PPTP takes IPv4 peers only";
	else if (!srv_rate_ok(s, peer)) {
		p->st.refused_rate++;
		why = "too many new connections from this address (serve.limits.new_tunnels_per_source)";
	} else if (p->nconns >= (unsigned)s->cfg->serve.pptp_connections && !p->sp_head) {
		why = "every connection carries a call (serve.pptp.connections)";
	}
	struct srv_pptp_conn *k = NULL;
	if (!why) {
		k = calloc(1, sizeof *k);
		if (!k || srv_timer_reserve(s) != 0) {
			free(k);
			k = NULL;
			why = "out of memory";
		}
	}
	if (why) {
		p->st.conns_refused++;
		if (srv_throttle(s))
			srv_log(s, SC_PPTP, false, NULL, NULL, "connection from %s refused: %s",
			        addr_text(peer, pt, sizeof pt), why);
		if (fd >= 0) close(fd);
		return 0;
	}
	if (p->nconns >= (unsigned)s->cfg->serve.pptp_connections) {
		/* the oldest connection without a call makes room */
		struct srv_pptp_conn *v = p->sp_head;
		p->st.conns_evicted++;
		if (srv_throttle(s)) {
			char vt[80];
			srv_log(s, SC_PPTP, false, NULL, NULL, "connection %u of %s without a call dropped for "
			        "a new one from %s: serve.pptp.connections reached", v->id,
			        addr_text(&v->peer, vt, sizeof vt), addr_text(peer, pt, sizeof pt));
		}
		pptp_ctrl_abort(&v->c, "dropped to make room for a new connection (serve.pptp.connections)");
		conn_finish(v);
	}
	srv_timer_init(&k->timer, SRV_TIMER_PPTP_CONN);
	k->srv = s;
	k->fd = fd;
	k->peer = *peer;
	k->local = p->local;
	if (fd >= 0) {
		socklen_t ll = sizeof k->local;
		getsockname(fd, (struct sockaddr *)&k->local, &ll);
	}
	k->created_ms = srv_now_ms();
	if (++p->next_conn_id == 0) ++p->next_conn_id;
	k->id = p->next_conn_id;
	k->cbs = (struct pptp_ctrl_cbs){
		.ctx = k, .send = conn_send, .event = conn_event, .call_id = conn_call_id,
		.call_id_release = conn_call_id_release, .port_acquire = pptp_port_acquire,
		.port_release = pptp_port_release, .call_up = conn_call_up, .call_down = conn_call_down,
	};
	pptp_ctrl_init(&k->c, &p->conf, &k->cbs, k->created_ms);
	k->prev = p->tail;
	if (p->tail) p->tail->next = k;
	else p->head = k;
	p->tail = k;
	p->nconns++;
	p->st.conns_accepted++;
	spare_add(k);
	cap_open(k);
	if (fd >= 0) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		k->ev = event_new(s->base, fd, EV_READ | EV_PERSIST, conn_io, k);
		if (!k->ev || event_add(k->ev, NULL) != 0) {
			pptp_ctrl_abort(&k->c, "out of memory");
			conn_finish(k);
			return 0;
		}
	}
	conn_log(k, true, "accepted");
	conn_check(k);
	return k->id;
}

static void tcp_accept(struct srv *s, struct srv_listener *l)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof peer;
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				if (srv_throttle(s))
					srv_log(s, SC_PPTP, false, NULL, NULL, "accept: %s (file descriptors: "
					        "ulimit -n)", strerror(errno));
			}
			break;
		}
		srv_pptp_accept(s, fd, &peer);
	}
	srv_pptp_reap(s);
}

/* ---- GRE ---------------------------------------------------------------------------- */
void srv_pptp_gre_packet(struct srv *s, const uint8_t *ip, size_t len)
{
	struct srv_pptp *p = s->pptp;
	p->st.gre_rx++;
	if (len < 20 || ip[0] >> 4 != 4) {
		p->st.gre_malformed++;
		return;
	}
	size_t ihl = (size_t)(ip[0] & 15) * 4, tot = (size_t)ip[2] << 8 | ip[3];
	if (ihl < 20 || ihl > len || ip[9] != IPPROTO_GRE) {
		p->st.gre_malformed++;
		return;
	}
	if (tot >= ihl && tot < len) len = tot; /* the kernel's padding, if any */
	uint32_t src;
	memcpy(&src, ip + 12, 4);
	struct sockaddr_storage from;
	memset(&from, 0, sizeof from);
	((struct sockaddr_in *)&from)->sin_family = AF_INET;
	((struct sockaddr_in *)&from)->sin_addr.s_addr = src;
	struct gre_msg m;
	struct diag_err err;
	char pt[80];
	if (gre_decode(ip + ihl, len - ihl, &m, &err) != 0 || m.version != 1 ||
	    m.protocol != GRE_PROTO_PPP || !m.k) {
		p->st.gre_malformed++;
		if (srv_throttle(s)) {
			srv_peer_ip(&from, pt, sizeof pt);
			srv_log(s, SC_PPTP, false, NULL, NULL, "GRE packet from %s dropped: %s", pt,
			        err.reason[0] ? err.reason : "not enhanced GRE (version 1, protocol PPP, key set)");
		}
		return;
	}
	struct srv_pptp_call *c = p->by_id[m.call_id];
	if (!c || !c->conn || c->peer_addr != src) {
		p->st.gre_unknown++;
		if (srv_throttle(s)) {
			srv_peer_ip(&from, pt, sizeof pt);
			srv_log(s, SC_PPTP, false, NULL, NULL, "GRE packet from %s for unknown call %u dropped",
			        pt, m.call_id);
		}
		return;
	}
	srv_capture_ip(s, &from, &c->conn->local, IPPROTO_GRE, ip + ihl, len - ihl);
	uint64_t now = srv_now_ms();
	enum pptp_gre_rc rc = pptp_gre_input(&c->g, &m, now);
	if (rc == PPTP_GRE_DUPLICATE) p->st.gre_duplicates++;
	if (rc == PPTP_GRE_DELIVER && !ras_session_dead(&c->rs))
		c->ras_at = ras_session_input(&c->rs, m.payload, m.payload_len, now);
	call_arm(c);
}

uint16_t srv_pptp_last_call_id(const struct srv *s)
{
	return s->pptp ? s->pptp->next_call_id : 0;
}

static void gre_read(struct srv *s, struct srv_listener *l)
{
	uint8_t buf[4096];
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(l->fd, buf, sizeof buf, MSG_TRUNC);
		if (n < 0) break;
		if ((size_t)n > sizeof buf) {
			s->env.st.oversized++;
			continue;
		}
		srv_pptp_gre_packet(s, buf, (size_t)n);
	}
	srv_pptp_reap(s);
}

/* ---- timers ----------------------------------------------------------------------- */
void srv_pptp_timer(struct srv *s, struct srv_timer *tm, uint64_t now)
{
	if (tm->kind == SRV_TIMER_PPTP_CONN) {
		struct srv_pptp_conn *k = (struct srv_pptp_conn *)(void *)((uint8_t *)tm -
		                          offsetof(struct srv_pptp_conn, timer));
		pptp_ctrl_tick(&k->c, now);
		conn_check(k);
		return;
	}
	struct srv_pptp_call *c = (struct srv_pptp_call *)(void *)((uint8_t *)tm -
	                          offsetof(struct srv_pptp_call, timer));
	uint8_t pkt[64];
	size_t n = pptp_gre_tick(&c->g, pkt, sizeof pkt, now);
	if (n) {
		s->pptp->st.gre_acks++;
		gre_out(c, pkt, n);
	}
	if (now >= c->ras_at) c->ras_at = ras_session_tick(&c->rs, now);
	call_arm(c);
}

/* ---- start, stop, tables ---------------------------------------------------------- */
int srv_pptp_setup(struct srv *s)
{
	struct srv_pptp *p = calloc(1, sizeof *p);
	if (!p) return -1;
	p->by_id = calloc(65536, sizeof *p->by_id);
	if (!p->by_id) {
		free(p);
		return -1;
	}
	s->pptp = p;
	pptp_ctrl_conf_default(&p->conf, false);
	p->conf.host_name = s->l2tp_conf.host_name;
	p->conf.vendor = "vnet";
	p->conf.max_calls = (uint16_t)s->cfg->serve.pptp_calls;
	return 0;
}

int srv_pptp_open(struct srv *s, const char *where)
{
	struct srv_pptp *p = s->pptp;
	if (srv_parse_listen(where, PPTP_PORT, &p->local, &p->locallen) != 0 ||
	    p->local.ss_family != AF_INET) {
		fprintf(stderr, "vnet: PPTP listen address %s: expected IPV4-ADDRESS[:PORT] (PPTP's GRE "
		        "runs over IPv4 here; the port is 1723 by default)\n", where);
		return -1;
	}
	struct srv_listener *tl = srv_listener_add(s, SRV_PROTO_PPTP, tcp_accept);
	struct srv_listener *gl = srv_listener_add(s, SRV_PROTO_GRE, gre_read);
	if (!tl || !gl) {
		fprintf(stderr, "vnet: too many listeners\n");
		return -1;
	}
	tl->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (tl->fd >= 0) setsockopt(tl->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (tl->fd < 0 || bind(tl->fd, (struct sockaddr *)&p->local, p->locallen) != 0 ||
	    listen(tl->fd, 4096) != 0) {
		fprintf(stderr, "vnet: cannot listen for PPTP on %s (TCP): %s\n", where, strerror(errno));
		return -1;
	}
	p->locallen = sizeof p->local;
	getsockname(tl->fd, (struct sockaddr *)&p->local, &p->locallen);
	gl->fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_GRE);
	if (gl->fd < 0) {
		fprintf(stderr, "vnet: PPTP needs a raw socket for GRE (IP protocol 47): %s%s\n",
		        strerror(errno), errno == EPERM || errno == EACCES
		        ? " (run as root or give the binary CAP_NET_RAW; without serve.pptp.listen "
		          "and --pptp-listen the server runs L2TP alone)" : "");
		return -1;
	}
	struct sockaddr_in ga = *(struct sockaddr_in *)&p->local;
	ga.sin_port = 0;
	if (ga.sin_addr.s_addr != htonl(INADDR_ANY) &&
	    bind(gl->fd, (struct sockaddr *)&ga, sizeof ga) != 0) {
		fprintf(stderr, "vnet: cannot bind the GRE socket to %s: %s\n", where, strerror(errno));
		return -1;
	}
	int rcvbuf = 4 << 20;
	setsockopt(gl->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	p->tcp = tl;
	p->gre = gl;
	p->listening = true;
	/* one descriptor per control connection: as many as the limit allows */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	addr_text(&p->local, p->local_text, sizeof p->local_text);
	srv_log(s, SC_MAIN, false, NULL, NULL, "PPTP control connections on %s (TCP), GRE on a raw "
	        "socket; %d PPTP ports, %d connections, %d calls each", p->local_text,
	        s->cfg->server.ports[TUN_PPTP], s->cfg->serve.pptp_connections, s->cfg->serve.pptp_calls);
	srv_log(s, SC_MAIN, false, NULL, NULL, "warning: PPTP with MS-CHAPv2 can be cracked (the "
	        "exchange reduces to one DES key search, and MPPE takes its keys from it): this PPTP "
	        "server is for reference and lab use, not for protecting real traffic");
	return 0;
}

void srv_pptp_stop_all(struct srv *s)
{
	struct srv_pptp *p = s->pptp;
	if (!p) return;
	uint64_t now = srv_now_ms();
	for (struct srv_pptp_conn *k = p->head, *nx; k; k = nx) {
		nx = k->next;
		for (unsigned i = 0; i < PPTP_CTRL_CALLS; i++)
			if (k->calls[i]) ras_session_set_cause(&k->calls[i]->rs, RAS_CAUSE_SHUTDOWN, 0, 0);
		pptp_ctrl_stop(&k->c, 3, "server shutting down", now);
		conn_check(k);
	}
}

void srv_pptp_reap(struct srv *s)
{
	struct srv_pptp *p = s->pptp;
	if (!p) return;
	while (p->dead_calls) {
		struct srv_pptp_call *c = p->dead_calls;
		p->dead_calls = c->next_dead;
		ras_session_free(&c->rs);
		s->ntimers--;
		free(c);
	}
	while (p->dead_conns) {
		struct srv_pptp_conn *k = p->dead_conns;
		p->dead_conns = k->next_dead;
		free(k->wbuf);
		s->ntimers--;
		free(k);
	}
}

void srv_pptp_destroy(struct srv *s)
{
	struct srv_pptp *p = s->pptp;
	if (!p) return;
	while (p->head) {
		struct srv_pptp_conn *k = p->head;
		for (unsigned i = 0; i < PPTP_CTRL_CALLS; i++)
			if (k->calls[i]) ras_session_abort(&k->calls[i]->rs, RAS_CAUSE_SHUTDOWN, srv_now_ms());
		pptp_ctrl_abort(&k->c, "server stopped");
		conn_finish(k);
	}
	srv_pptp_reap(s);
	free(p->by_id);
	free(p);
	s->pptp = NULL;
}

int srv_pptp_check_tables(const struct srv *s, unsigned *nsessions, char *why, size_t n)
{
	const struct srv_pptp *p = s->pptp;
	*nsessions = 0;
	if (!p) return 0;
	unsigned nconns = 0, nspare = 0, ncalls = 0;
	for (const struct srv_pptp_conn *k = p->head; k; k = k->next) {
		if (++nconns > p->nconns) break;
		if (k->finished || pptp_ctrl_closed(&k->c)) {
			snprintf(why, n, "PPTP connection %u is closed but listed", k->id);
			return -1;
		}
		nspare += k->in_spare;
		unsigned mine = 0;
		for (unsigned i = 0; i < PPTP_CTRL_CALLS; i++) {
			const struct srv_pptp_call *c = k->calls[i];
			if (!c) continue;
			mine++;
			const struct pptp_call *pc = pptp_ctrl_call((struct pptp_conn *)&k->c, c->call_id);
			if (c->conn != k || ras_session_dead(&c->rs) || !pc || pc->state != PPTP_CALL_ESTABLISHED) {
				snprintf(why, n, "PPTP call %u of connection %u is dead or not established",
				         c->call_id, k->id);
				return -1;
			}
			if (p->by_id[c->call_id] != c || s->sessions[c->rs.id % s->sess_cap] != &c->rs) {
				snprintf(why, n, "PPTP call %u (session %u) is not in the tables", c->call_id,
				         c->rs.id);
				return -1;
			}
			if (!(p->id_used[c->call_id / 8] >> (c->call_id % 8) & 1)) {
				snprintf(why, n, "PPTP call %u holds a Call ID marked free", c->call_id);
				return -1;
			}
		}
		if (mine != pptp_ctrl_active_calls(&k->c)) {
			snprintf(why, n, "PPTP connection %u has %u calls with sessions, %u in the automaton",
			         k->id, mine, pptp_ctrl_active_calls(&k->c));
			return -1;
		}
		if (k->in_spare != (mine == 0)) {
			snprintf(why, n, "PPTP connection %u with %u calls is %son the spare list", k->id,
			         mine, k->in_spare ? "" : "not ");
			return -1;
		}
		ncalls += mine;
	}
	if (nconns != p->nconns || nspare != p->nspare || ncalls != p->ncalls) {
		snprintf(why, n, "PPTP: %u connections, %u spare, %u calls listed; %u, %u, %u counted",
		         nconns, nspare, ncalls, p->nconns, p->nspare, p->ncalls);
		return -1;
	}
	if (nconns > (unsigned)s->cfg->serve.pptp_connections) {
		snprintf(why, n, "PPTP: %u connections, over serve.pptp.connections", nconns);
		return -1;
	}
	*nsessions = ncalls;
	return 0;
}

json_t *srv_pptp_view(const struct srv *s)
{
	const struct srv_pptp *p = s->pptp;
	json_t *arr = json_array();
	if (!p) return arr;
	uint64_t now = srv_now_ms();
	for (const struct srv_pptp_conn *k = p->head; k; k = k->next) {
		char peer[80];
		json_t *o = json_object();
		json_object_set_new(o, "id", json_integer(k->id));
		json_object_set_new(o, "peer", json_string(addr_text(&k->peer, peer, sizeof peer)));
		json_object_set_new(o, "host", json_text((const uint8_t *)k->c.peer_host,
		                                          strlen(k->c.peer_host)));
		json_object_set_new(o, "vendor", json_text((const uint8_t *)k->c.peer_vendor,
		                                            strlen(k->c.peer_vendor)));
		json_object_set_new(o, "state", json_string(srv_tok(pptp_conn_state_names, k->c.state)));
		json_object_set_new(o, "sessions", json_integer(pptp_ctrl_active_calls(&k->c)));
		json_object_set_new(o, "age", json_integer((json_int_t)((now - k->created_ms) / 1000)));
		json_object_set_new(o, "rx", json_integer(k->c.st.rx));
		json_object_set_new(o, "tx", json_integer(k->c.st.tx));
		json_t *calls = json_array();
		for (unsigned i = 0; i < PPTP_CTRL_CALLS; i++) {
			const struct srv_pptp_call *c = k->calls[i];
			if (!c) continue;
			json_t *co = json_object();
			json_object_set_new(co, "session", json_integer(c->rs.id));
			json_object_set_new(co, "call_id", json_integer(c->call_id));
			json_object_set_new(co, "peer_call_id", json_integer(c->peer_call_id));
			json_object_set_new(co, "peer_window", json_integer(c->g.peer_rwin));
			json_object_set_new(co, "gre_rx", json_integer((json_int_t)c->g.st.rx));
			json_object_set_new(co, "gre_tx", json_integer((json_int_t)c->g.st.tx));
			json_object_set_new(co, "gre_duplicates", json_integer((json_int_t)c->g.st.duplicates));
			json_object_set_new(co, "gre_window_drops",
			                    json_integer((json_int_t)c->g.st.window_drops));
			json_array_append_new(calls, co);
		}
		json_object_set_new(o, "calls", calls);
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *srv_pptp_stats(const struct srv *s)
{
	const struct srv_pptp *p = s->pptp;
	if (!p || !p->listening) return json_null();
	json_t *o = json_object();
	json_object_set_new(o, "listen", json_string(p->local_text));
	json_object_set_new(o, "connections", json_integer(p->nconns));
	json_object_set_new(o, "connections_without_call", json_integer(p->nspare));
	json_object_set_new(o, "calls", json_integer(p->ncalls));
#define C(f) json_object_set_new(o, #f, json_integer((json_int_t)p->st.f))
	C(conns_accepted); C(conns_refused); C(refused_rate); C(conns_evicted); C(conns_closed);
	C(ctrl_bad); C(gre_rx); C(gre_tx); C(gre_malformed); C(gre_unknown); C(gre_duplicates);
	C(gre_window_drops); C(gre_acks); C(gre_send_errors);
#undef C
	return o;
}
