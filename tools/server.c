/* `vnet serve`: the event loop and its listeners, L2TP tunnels and the calls that carry the
 * sessions (server.h). */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "l2tp.h"
#include "mschap.h"
#include "ppp/mppe.h"
#include "net.h"
#include "ppp.h"

const char *const srv_cat_names[] = {"main", "l2tp", "ppp", "auth", "policy", "ipcp",
	"acct", "ctl", "data", "pptp", "radius", "ike", NULL};

/* ---- clock and log ------------------------------------------------------------------ */
uint64_t srv_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *srv_peer_text(const struct srv_l2tp_tunnel *t, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (t->peer.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&t->peer;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
		port = ntohs(s4->sin_port);
		snprintf(buf, n, "%s:%u", a, port);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&t->peer;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
		port = ntohs(s6->sin6_port);
		snprintf(buf, n, "[%s]:%u", a, port);
	}
	return buf;
}

void srv_peer_ip(const struct sockaddr_storage *p, char *buf, size_t n)
{
	if (p->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)p)->sin_addr, buf, (socklen_t)n);
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)p)->sin6_addr, buf, (socklen_t)n);
}

void srv_log(struct srv *s, enum srv_cat cat, bool debug_only, const struct srv_l2tp_tunnel *t,
             const struct ras_session *rs, const char *fmt, ...)
{
	if (!srv_log_wanted(s, cat, debug_only)) return;
	char msg[SRV_LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	srv_log_line(s, cat, debug_only, t, rs, msg); /* server_io.c */
}

/* Lines about dropped floods: at most a few a second, with the count of the rest (said
 * when the second is over: at the next drop or by the once-a-second tick). */
static void throttle_flush(struct srv *s, uint64_t sec)
{
	if (sec == s->throttle_sec) return;
	if (s->throttle_count > 5)
		srv_log(s, SC_MAIN, false, NULL, NULL, "%u more drop lines suppressed",
		        s->throttle_count - 5);
	s->throttle_sec = sec;
	s->throttle_count = 0;
}

bool srv_throttle(struct srv *s)
{
	throttle_flush(s, srv_now_ms() / 1000);
	return ++s->throttle_count <= 5;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct srv *s = arg;
	throttle_flush(s, srv_now_ms() / 1000);
	srv_acct_sync(s);
}

static void tunnel_random(void *ctx, uint8_t *buf, size_t n)
{
	const struct srv_l2tp_tunnel *t = ctx;
	srv_random(t->srv, buf, n);
}

/* ---- timers ----------------------------------------------------------------------- */
/* A binary min-heap of deadlines under one libevent timer. Every object with a timer
 * reserves its place when it is created (timer_reserve), so arming never fails. */
static void heap_put(struct srv *s, uint32_t i, struct srv_timer *tm)
{
	s->heap[i] = tm;
	tm->slot = i;
}

static void heap_up(struct srv *s, uint32_t i)
{
	struct srv_timer *tm = s->heap[i];
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (s->heap[p]->at <= tm->at) break;
		heap_put(s, i, s->heap[p]);
		i = p;
	}
	heap_put(s, i, tm);
}

static void heap_down(struct srv *s, uint32_t i)
{
	struct srv_timer *tm = s->heap[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= s->nheap) break;
		if (c + 1 < s->nheap && s->heap[c + 1]->at < s->heap[c]->at) c++;
		if (s->heap[c]->at >= tm->at) break;
		heap_put(s, i, s->heap[c]);
		i = c;
	}
	heap_put(s, i, tm);
}

static void heap_remove(struct srv *s, struct srv_timer *tm)
{
	uint32_t i = tm->slot;
	struct srv_timer *last = s->heap[--s->nheap];
	if (i < s->nheap) {
		heap_put(s, i, last);
		heap_down(s, i);
		heap_up(s, last->slot);
	}
	tm->at = L2TP_NEVER;
}

/* Room in the heap for one more object with a timer: 0, or -1 out of memory. */
int srv_timer_reserve(struct srv *s)
{
	if (s->ntimers + 1 > s->heap_cap) {
		uint32_t cap = s->heap_cap ? s->heap_cap * 2 : 64;
		struct srv_timer **h = realloc(s->heap, cap * sizeof *h);
		if (!h) return -1;
		s->heap = h;
		s->heap_cap = cap;
	}
	s->ntimers++;
	return 0;
}

void srv_timer_init(struct srv_timer *tm, enum srv_timer_kind kind)
{
	tm->at = L2TP_NEVER;
	tm->kind = (uint8_t)kind;
}

/* The libevent timer follows the earliest deadline. */
static void timer_rearm(struct srv *s)
{
	uint64_t top = s->nheap ? s->heap[0]->at : L2TP_NEVER;
	if (top == s->timer_at) return;
	s->timer_at = top;
	if (top == L2TP_NEVER) {
		evtimer_del(s->ev_timer);
		return;
	}
	uint64_t now = srv_now_ms();
	uint64_t d = top > now ? top - now : 0;
	struct timeval tv = {(time_t)(d / 1000), (suseconds_t)(d % 1000) * 1000};
	evtimer_add(s->ev_timer, &tv);
}

void srv_timer_set(struct srv *s, struct srv_timer *tm, uint64_t at)
{
	if (at == tm->at) return;
	if (at == L2TP_NEVER) {
		heap_remove(s, tm);
	} else if (tm->at == L2TP_NEVER) {
		tm->at = at;
		heap_put(s, s->nheap++, tm);
		heap_up(s, tm->slot);
	} else {
		uint64_t old = tm->at;
		tm->at = at;
		if (at < old) heap_up(s, tm->slot);
		else heap_down(s, tm->slot);
	}
	timer_rearm(s);
}

static void reap(struct srv *s);
static void l2tp_tunnel_check(struct srv_l2tp_tunnel *t);
static void l2tp_tunnel_fire(struct srv_l2tp_tunnel *t, uint64_t now);
static void l2tp_call_fire(struct srv_l2tp_call *c, uint64_t now);

/* The earliest deadlines are due: fire each object once in this round (one that set
 * itself again at once runs in the next round, after the sockets had their turn). */
static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct srv *s = arg;
	srv_io_hold(s);
	s->timer_at = L2TP_NEVER;
	uint64_t now = srv_now_ms();
	uint16_t round = ++s->timer_round;
	for (uint32_t n = 0; n <= s->ntimers && s->nheap; n++) {
		struct srv_timer *tm = s->heap[0];
		if (tm->at > now || tm->round == round) break;
		tm->round = round;
		heap_remove(s, tm);
		if (tm->kind == SRV_TIMER_TUNNEL)
			l2tp_tunnel_fire((struct srv_l2tp_tunnel *)(void *)((uint8_t *)tm -
			                 offsetof(struct srv_l2tp_tunnel, timer)), now);
		else if (tm->kind == SRV_TIMER_PPTP_CONN || tm->kind == SRV_TIMER_PPTP_CALL)
			srv_pptp_timer(s, tm, now); /* server_pptp.c */
		else if (tm->kind == SRV_TIMER_IKE)
			srv_ike_timer(s, tm, now); /* server_ike.c */
		else if (tm->kind == SRV_TIMER_IKEV2)
			srv_ikev2_timer(s, tm, now); /* server_ikev2.c */
		else
			l2tp_call_fire((struct srv_l2tp_call *)(void *)((uint8_t *)tm -
			               offsetof(struct srv_l2tp_call, timer)), now);
		reap(s);
	}
	timer_rearm(s);
	srv_io_release(s);
}

/* A tunnel gets this long from its SCCRQ to its SCCCN, however patient the retransmission
 * settings (serve.l2tp) are and even when the peer acknowledges the SCCRP and says no more. */
#define SRV_SETUP_MS 30000

static void l2tp_tunnel_arm(struct srv_l2tp_tunnel *t)
{
	uint64_t d = l2tp_ctrl_deadline(&t->t);
	if (t->t.state == L2TP_TUN_WAIT_CTL_CONN && t->created_ms + SRV_SETUP_MS < d)
		d = t->created_ms + SRV_SETUP_MS;
	srv_timer_set(t->srv, &t->timer, d);
}

static void l2tp_call_arm(struct srv_l2tp_call *c, uint64_t deadline);

/* ---- sessions: each carried by an L2TP call (engine/server/ras_session.h) ------------------- */
static struct srv_l2tp_call *l2tp_call_of(const struct ras_session *rs)
{
	return (struct srv_l2tp_call *)(void *)rs;
}

static struct srv_l2tp_call *l2tp_call_by_sid(struct srv_l2tp_tunnel *t, uint16_t lsid)
{
	for (unsigned i = 0; i < L2TP_CTRL_CALLS; i++)
		if (t->calls[i] && t->calls[i]->lsid == lsid) return t->calls[i];
	return NULL;
}

static void l2tp_call_arm(struct srv_l2tp_call *c, uint64_t deadline)
{
	if (ras_session_dead(&c->rs)) return;
	srv_timer_set(c->rs.env->ctx, &c->timer, deadline);
}

static void l2tp_call_free(struct srv *s, struct srv_l2tp_call *c)
{
	ras_session_free(&c->rs);
	s->ntimers--;
	free(c);
}

/* The lower layer of a session: the L2TP call. */
static int l2tp_call_send(struct ras_session *rs, const uint8_t *frame, size_t len)
{
	struct srv_l2tp_call *c = l2tp_call_of(rs);
	if (!c->tunnel) return -1;
	return l2tp_ctrl_send_data(&c->tunnel->t, c->lsid, frame, len);
}

static void l2tp_call_close(struct ras_session *rs, unsigned win_error, uint64_t now)
{
	(void)win_error;
	struct srv_l2tp_call *c = l2tp_call_of(rs);
	struct srv_l2tp_tunnel *t = c->tunnel;
	if (!t) return;
	char msg[64];
	ras_session_cause_text(rs, msg, sizeof msg);
	l2tp_ctrl_call_close(&t->t, c->lsid, L2TP_CDN_ADMIN, 0, msg, now);
	/* call_close reaches call_down, which ends the session */
	l2tp_tunnel_arm(t);
}

static const char *l2tp_call_peer_text(const struct ras_session *rs, char *buf, size_t n)
{
	const struct srv_l2tp_call *c = l2tp_call_of(rs);
	if (!c->tunnel) return NULL;
	return srv_peer_text(c->tunnel, buf, n);
}

static const char *l2tp_call_peer_ip(const struct ras_session *rs, char *buf, size_t n)
{
	const struct srv_l2tp_call *c = l2tp_call_of(rs);
	if (!c->tunnel) return NULL;
	srv_peer_ip(&c->tunnel->peer, buf, n);
	return buf;
}

static bool l2tp_call_ids(const struct ras_session *rs, unsigned ids[4])
{
	const struct srv_l2tp_call *c = l2tp_call_of(rs);
	if (!c->tunnel) return false;
	ids[0] = c->tunnel->t.local_tid;
	ids[1] = c->tunnel->t.peer_tid;
	ids[2] = c->lsid;
	ids[3] = c->psid;
	return true;
}

static void l2tp_call_cause(const struct ras_session *rs, unsigned a, unsigned b, char *buf,
                            size_t n)
{
	(void)rs;
	snprintf(buf, n, "l2tp-cdn-%u-%u", a, b);
}

static bool l2tp_tunnel_port_acquire(void *ctx);
static void l2tp_tunnel_port_release(void *ctx);

static const struct ras_lower_ops l2tp_call_ops = {
	.tunnel = TUN_L2TP,
	.send = l2tp_call_send,
	.close = l2tp_call_close,
	.peer_text = l2tp_call_peer_text,
	.peer_ip = l2tp_call_peer_ip,
	.ids = l2tp_call_ids,
	.cause_text = l2tp_call_cause,
	.port_acquire = l2tp_tunnel_port_acquire,
	.port_release = l2tp_tunnel_port_release,
};

/* ---- what the sessions share (struct ras_env) --------------------------------------- */
static const enum srv_cat ras_cat[RAS_LOG_N] = {
	[RAS_LOG_MAIN] = SC_MAIN, [RAS_LOG_PPP] = SC_PPP, [RAS_LOG_AUTH] = SC_AUTH,
	[RAS_LOG_POLICY] = SC_POLICY, [RAS_LOG_IPCP] = SC_IPCP, [RAS_LOG_DATA] = SC_DATA,
};

static void env_log(void *ctx, const struct ras_session *rs, enum ras_log cat, bool debug_only,
                    const char *text)
{
	srv_log_line(ctx, ras_cat[cat], debug_only, NULL, rs, text);
}

static void env_event(void *ctx, struct ras_session *rs, enum ras_event ev)
{
	struct srv *s = ctx;
	struct srv_l2tp_call *c = l2tp_call_of(rs);
	switch (ev) {
	case RAS_EV_UP:
		srv_acct_start(s, rs);
		srv_tundev_session_up(s, rs); /* server_tundev.c */
		srv_radius_session_event(s, rs, ev); /* server_radius.c */
		break;
	case RAS_EV_DOWN:
		srv_acct_stop(s, rs);
		srv_tundev_session_down(s, rs); /* server_tundev.c */
		srv_radius_session_event(s, rs, ev);
		break;
	case RAS_EV_DEAD:
		srv_radius_session_event(s, rs, ev);
		if (rs->ops->tunnel == TUN_PPTP) {
			srv_pptp_session_dead(s, rs); /* server_pptp.c */
			break;
		}
		if (rs->ops->tunnel == TUN_IKEV2) {
			srv_ikev2_session_dead(s, rs); /* server_ikev2.c */
			break;
		}
		/* out of the tables; the memory goes after the callback */
		srv_timer_set(s, &c->timer, L2TP_NEVER);
		if (c->tunnel)
			for (unsigned i = 0; i < L2TP_CTRL_CALLS; i++)
				if (c->tunnel->calls[i] == c) c->tunnel->calls[i] = NULL;
		s->sessions[rs->id % s->sess_cap] = NULL;
		s->nsessions--;
		c->tunnel = NULL;
		c->next_dead = s->dead_calls;
		s->dead_calls = c;
		break;
	}
}

static void env_random(void *ctx, uint8_t *buf, size_t n) { srv_random(ctx, buf, n); }

/* -1 unknown user, -2 no password to check against (ppp_auth.h): either is a rejection. */
static int env_password(void *ctx, struct ras_session *rs, const char *user, char *buf, size_t cap)
{
	(void)rs;
	struct srv *s = ctx;
	const struct user *u = config_find_user(s->cfg, user);
	if (!u) return -1;
	if (!u->password) return -2;
	size_t n = strlen(u->password);
	if (n + 1 > cap) return -2;
	memcpy(buf, u->password, n + 1);
	return (int)n;
}

/* MS-CHAPv2 Change-Password after E=648: the new password replaces the old one and the
 * expiry is cleared, in this server's memory (the configuration file is not rewritten). */
static int env_change_password(void *ctx, struct ras_session *rs, const char *user,
                               const char *new_password)
{
	struct srv *s = ctx;
	struct user *u = (struct user *)config_find_user(s->cfg, user);
	if (!u) return -1;
	char *np = strdup(new_password);
	if (!np) return -1;
	if (u->password) {
		OPENSSL_cleanse(u->password, strlen(u->password));
		free(u->password);
	}
	u->password = np;
	u->password_expired = false;
	char ut[SRV_USER_TEXT];
	srv_log(s, SC_AUTH, false, NULL, rs,
	        "session %u: user %s changed the expired password (kept until the server stops)",
	        rs->id, srv_user_text(user, ut, sizeof ut));
	return 0;
}

static bool env_forward(void *ctx, struct ras_session *rs, const uint8_t *ip, size_t len)
{
	return srv_tundev_forward(ctx, rs, ip, len); /* server_tundev.c */
}

static bool env_throttle(void *ctx) { return srv_throttle(ctx); }

static time_t env_wall(void *ctx)
{
	(void)ctx;
	return time(NULL);
}

static int env_ports_in_use(void *ctx, enum tunnel_type t)
{
	struct srv *s = ctx;
	return t == TUN_L2TP ? s->l2tp_ports_used : t == TUN_PPTP ? s->pptp_ports_used
	       : t == TUN_IKEV2 ? s->ikev2_ports_used : 0;
}

static const struct ras_env_cbs env_cbs = {
	.log = env_log, .event = env_event, .random = env_random, .password = env_password,
	.change_password = env_change_password, .forward = env_forward,
	.authorize = srv_radius_authorize, /* server_radius.c: RADIUS, else the policy engine */
	.throttle = env_throttle, .wall = env_wall, .ports_in_use = env_ports_in_use,
};

static void l2tp_call_fire(struct srv_l2tp_call *c, uint64_t now)
{
	l2tp_call_arm(c, ras_session_tick(&c->rs, now));
}

void srv_session_disconnect(struct srv *s, struct ras_session *rs, enum ras_cause cause)
{
	if (rs->ops->tunnel == TUN_PPTP) {
		srv_pptp_disconnect(s, rs, cause); /* server_pptp.c */
		return;
	}
	if (rs->ops->tunnel == TUN_IKEV2) {
		srv_ikev2_disconnect(s, rs, cause); /* server_ikev2.c */
		srv_ikev2_reap(s);
		return;
	}
	l2tp_call_arm(l2tp_call_of(rs), ras_session_disconnect(rs, cause, srv_now_ms()));
}

void srv_session_rearm(struct srv *s, struct ras_session *rs)
{
	if (rs->ops->tunnel == TUN_PPTP) srv_pptp_rearm(s, rs); /* server_pptp.c */
	else l2tp_call_arm(l2tp_call_of(rs), ras_session_deadline(rs));
}

uint32_t srv_session_id_new(struct srv *s)
{
	for (unsigned k = 0; k < s->sess_cap; k++) {
		uint32_t id = ++s->next_session;
		if (id == 0) id = ++s->next_session;
		if (!s->sessions[id % s->sess_cap]) return id;
	}
	return 0;
}

void srv_session_resume(struct srv *s, struct ras_session *rs, unsigned seq,
                        const struct ras_verdict *v)
{
	uint64_t d;
	if (rs->ops->tunnel == TUN_PPTP) {
		srv_pptp_resume(s, rs, seq, v); /* server_pptp.c */
	} else if (rs->ops->tunnel == TUN_IKEV2) {
		srv_ikev2_resume(s, rs, seq, v); /* server_ikev2.c */
	} else if (ras_session_admit_resume(rs, seq, v, srv_now_ms(), &d) == 0 &&
	           !ras_session_dead(rs)) {
		l2tp_call_arm(l2tp_call_of(rs), d);
	}
	reap(s);
}

static struct srv_l2tp_call *l2tp_call_new(struct srv_l2tp_tunnel *t, uint16_t lsid)
{
	struct srv *s = t->srv;
	/* the tunnel's slot first: a session its tunnel does not list would outlive it */
	unsigned slot = L2TP_CTRL_CALLS;
	for (unsigned i = 0; i < L2TP_CTRL_CALLS && slot == L2TP_CTRL_CALLS; i++)
		if (!t->calls[i]) slot = i;
	if (slot == L2TP_CTRL_CALLS || l2tp_call_by_sid(t, lsid)) return NULL;
	struct srv_l2tp_call *c = calloc(1, sizeof *c);
	if (!c) return NULL;
	if (srv_timer_reserve(s) != 0) {
		free(c);
		return NULL;
	}
	srv_timer_init(&c->timer, SRV_TIMER_CALL);
	uint32_t sid = srv_session_id_new(s);
	if (!sid || ras_session_init(&c->rs, &s->env, &l2tp_call_ops, sid, srv_now_ms()) != 0) {
		l2tp_call_free(s, c);
		return NULL;
	}
	s->sessions[sid % s->sess_cap] = &c->rs;
	s->nsessions++;
	c->tunnel = t;
	c->lsid = lsid;
	struct l2tp_call *lc = l2tp_ctrl_call(&t->t, lsid);
	c->psid = lc ? lc->peer_sid : 0;
	t->calls[slot] = c;
	return c;
}

/* ---- tunnels --------------------------------------------------------------------------- */
static void l2tp_tunnel_send(void *ctx, const uint8_t *buf, size_t len)
{
	struct srv_l2tp_tunnel *t = ctx;
	const uint16_t ids[2] = {t->t.local_tid, t->t.peer_tid};
	if (t->ipsec) { /* inside the IKE SA it came in (server_ike.c) */
		if (srv_ike_l2tp_send(t->srv, t->ipsec, &t->peer, buf, len)) {
			t->srv->st.tx_datagrams++;
			t->srv->st.tx_bytes += len;
		}
		return;
	}
	srv_send(t->srv, t->srv->listeners[t->listener].fd, &t->peer, t->peerlen, buf, len, ids);
}

/* The listener a datagram went out on (the capture's local end). */
static const struct srv_listener *listener_of_fd(const struct srv *s, int fd)
{
	for (unsigned i = 0; i < s->nlisteners; i++)
		if (s->listeners[i].fd == fd) return &s->listeners[i];
	return NULL;
}

/* How a datagram went (server_io.c sends them, at once or at the end of a burst). */
void srv_tx_result(struct srv *s, const struct srv_tx *x, const uint8_t *buf, int err)
{
	if (err) {
		if (srv_throttle(s)) {
			struct srv_l2tp_tunnel tmp;
			tmp.peer = x->peer;
			char pt[80];
			srv_log(s, SC_L2TP, false, NULL, NULL, "t=%u/%u send to %s failed: %s", x->ids[0],
			        x->ids[1], srv_peer_text(&tmp, pt, sizeof pt), strerror(err));
		}
		return;
	}
	const struct srv_listener *l = listener_of_fd(s, x->fd);
	if (l && l->proto == SRV_PROTO_ESP) {
		srv_capture_ip(s, &l->addr, &x->peer, 50, buf, x->len);
		return;
	}
	if (l && l->proto == SRV_PROTO_IKE) {
		srv_capture_udp(s, &l->addr, &x->peer, true, buf, x->len);
		return;
	}
	s->st.tx_datagrams++;
	s->st.tx_bytes += x->len;
	srv_capture(s, &x->peer, true, buf, x->len);
}

static bool l2tp_tunnel_log_wanted(void *ctx, enum l2tp_ev kind)
{
	const struct srv_l2tp_tunnel *t = ctx;
	return srv_log_wanted(t->srv, SC_L2TP, kind == L2TP_EV_TRACE || kind == L2TP_EV_INFO);
}

static void l2tp_tunnel_event(void *ctx, enum l2tp_ev kind, uint16_t sid, const char *text)
{
	struct srv_l2tp_tunnel *t = ctx;
	struct srv *s = t->srv;
	bool dbg = kind == L2TP_EV_TRACE || kind == L2TP_EV_INFO;
	char peer[80];
	if (kind == L2TP_EV_TUNNEL_UP) {
		srv_log(s, SC_L2TP, false, t, NULL, "tunnel up peer=%s host=%s", srv_peer_text(t, peer, sizeof peer),
		        t->t.peer_host[0] ? t->t.peer_host : "?");
		return;
	}
	if (sid) {
		struct srv_l2tp_call *c = l2tp_call_by_sid(t, sid);
		if (c) {
			srv_log_line(s, SC_L2TP, dbg, NULL, &c->rs, text);
			return;
		}
	}
	if (sid)
		srv_log(s, SC_L2TP, dbg, t, NULL, "%ssession %u: %s",
		        kind == L2TP_EV_TUNNEL_DOWN ? "tunnel down: " : "", sid, text);
	else
		srv_log_line(s, SC_L2TP, dbg, t, NULL, text);
}

static bool l2tp_tunnel_port_acquire(void *ctx)
{
	struct srv_l2tp_tunnel *t = ctx;
	struct srv *s = t->srv;
	int ports = s->cfg->server.ports[TUN_L2TP];
	if (s->l2tp_ports_used >= ports) {
		s->st.refused_ports++;
		srv_log(s, SC_L2TP, false, t, NULL,
		        "incoming call refused: all %d L2TP ports are in use (server.ports.l2tp): "
		        "CDN result 4 error 4, the client shows error 628", ports);
		return false;
	}
	if (s->nsessions >= s->sess_cap - 1) {
		s->st.refused_ports++;
		srv_log(s, SC_L2TP, false, t, NULL,
		        "incoming call refused: %u sessions reached serve.limits.sessions", s->nsessions);
		return false;
	}
	s->l2tp_ports_used++;
	return true;
}

static void l2tp_tunnel_port_release(void *ctx)
{
	struct srv_l2tp_tunnel *t = ctx;
	if (t->srv->l2tp_ports_used > 0) t->srv->l2tp_ports_used--;
}

static void l2tp_tunnel_call_up(void *ctx, uint16_t lsid)
{
	struct srv_l2tp_tunnel *t = ctx;
	struct srv *s = t->srv;
	struct srv_l2tp_call *c = l2tp_call_new(t, lsid);
	if (!c) {
		srv_log(s, SC_L2TP, false, t, NULL,
		        "call %u: no room for its session (memory, serve.limits.sessions), cleared", lsid);
		l2tp_ctrl_call_close(&t->t, lsid, L2TP_CDN_NO_FACILITIES_TEMP, L2TP_ERR_NO_RESOURCE,
		                     "no resources", srv_now_ms());
		return;
	}
	srv_log(s, SC_L2TP, false, NULL, &c->rs, "session %u: call up, starting PPP", c->rs.id);
	l2tp_call_arm(c, ras_session_start(&c->rs, srv_now_ms()));
}

static void l2tp_tunnel_call_down(void *ctx, uint16_t lsid, uint16_t result, uint16_t error)
{
	struct srv_l2tp_tunnel *t = ctx;
	struct srv_l2tp_call *c = l2tp_call_by_sid(t, lsid);
	if (!c || ras_session_dead(&c->rs)) return;
	/* the L2TP side ended the call (CDN, StopCCN, dead peer): that is the cause, not the
	 * PPP link going down with it; when the whole tunnel went (StopCCN either way, or the
	 * peer stopped answering), "tunnel-closed" */
	if (t->t.state == L2TP_TUN_ESTABLISHED)
		ras_session_lower_down(&c->rs, RAS_CAUSE_LOWER, result, error, srv_now_ms());
	else
		ras_session_lower_down(&c->rs, RAS_CAUSE_TUNNEL_CLOSED, 0, 0, srv_now_ms());
}

static void l2tp_tunnel_data(void *ctx, uint16_t lsid, const uint8_t *ppp, size_t len)
{
	struct srv_l2tp_tunnel *t = ctx;
	struct srv_l2tp_call *c = l2tp_call_by_sid(t, lsid);
	if (!c || ras_session_dead(&c->rs)) return;
	l2tp_call_arm(c, ras_session_input(&c->rs, ppp, len, srv_now_ms()));
}

static void l2tp_tunnel_fire(struct srv_l2tp_tunnel *t, uint64_t now)
{
	l2tp_ctrl_tick(&t->t, now);
	if (t->t.state == L2TP_TUN_WAIT_CTL_CONN && now >= t->created_ms + SRV_SETUP_MS)
		l2tp_ctrl_stop(&t->t, L2TP_STOP_GENERAL, 0, "no SCCCN within 30 s of the SCCRQ", now);
	l2tp_tunnel_check(t);
}

static bool same_source(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/* The half-open list, newest first, and each member's count of half-open tunnels of its
 * source (ho_same; see same_source): kept by these two, each one pass over the list. */
static void half_open_add(struct srv_l2tp_tunnel *t)
{
	struct srv *s = t->srv;
	t->ho_same = 1;
	for (struct srv_l2tp_tunnel *o = s->half_open; o; o = o->ho_next)
		if (same_source(&o->peer, &t->peer)) {
			o->ho_same++;
			t->ho_same++;
		}
	t->counted_half_open = true;
	t->ho_prev = NULL;
	t->ho_next = s->half_open;
	if (s->half_open) s->half_open->ho_prev = t;
	s->half_open = t;
	s->nhalf_open++;
}

static void half_open_remove(struct srv_l2tp_tunnel *t)
{
	struct srv *s = t->srv;
	if (!t->counted_half_open) return;
	t->counted_half_open = false;
	if (t->ho_prev) t->ho_prev->ho_next = t->ho_next;
	else s->half_open = t->ho_next;
	if (t->ho_next) t->ho_next->ho_prev = t->ho_prev;
	t->ho_next = t->ho_prev = NULL;
	t->ho_same = 0;
	if (s->nhalf_open) s->nhalf_open--;
	for (struct srv_l2tp_tunnel *o = s->half_open; o; o = o->ho_next)
		if (same_source(&o->peer, &t->peer) && o->ho_same) o->ho_same--;
}

static void l2tp_tunnel_free(struct srv_l2tp_tunnel *t)
{
	struct srv *s = t->srv;
	half_open_remove(t);
	/* the automaton never changes the ID the server gave it (l2tp_ctrl.h): this is the
	 * slot l2tp_tunnel_new filled */
	if (s->tunnels[t->t.local_tid] == t) s->tunnels[t->t.local_tid] = NULL;
	if (s->ntunnels) s->ntunnels--;
	s->st.tunnels_closed++;
	srv_timer_set(s, &t->timer, L2TP_NEVER);
	s->ntimers--;
	l2tp_ctrl_free(&t->t);
	free(t);
}

/* After any input or tick: keep the tables in step with the tunnel's state. */
static void l2tp_tunnel_check(struct srv_l2tp_tunnel *t)
{
	struct srv *s = t->srv;
	/* half open until established: a set-up that failed stays in the list (and under its
	 * limit) while it says its StopCCN */
	if (t->counted_half_open && t->t.state == L2TP_TUN_ESTABLISHED) half_open_remove(t);
	if (t->t.state == L2TP_TUN_DEAD) {
		for (unsigned i = 0; i < L2TP_CTRL_CALLS; i++)
			if (t->calls[i])
				ras_session_abort(&t->calls[i]->rs, RAS_CAUSE_TUNNEL_CLOSED, srv_now_ms());
		char peer[80];
		srv_log(s, SC_L2TP, true, t, NULL, "tunnel state freed (peer %s)",
		        srv_peer_text(t, peer, sizeof peer));
		l2tp_tunnel_free(t);
		return;
	}
	l2tp_tunnel_arm(t);
}

static struct srv_l2tp_tunnel *l2tp_tunnel_new(struct srv *s, const struct sockaddr_storage *peer, socklen_t plen)
{
	struct srv_l2tp_tunnel *t = calloc(1, sizeof *t);
	if (!t) return NULL;
	if (srv_timer_reserve(s) != 0) {
		free(t);
		return NULL;
	}
	srv_timer_init(&t->timer, SRV_TIMER_TUNNEL);
	t->srv = s;
	t->peer = *peer;
	t->peerlen = plen;
	t->created_ms = srv_now_ms();
	t->cbs = (struct l2tp_ctrl_cbs){
		.ctx = t, .send = l2tp_tunnel_send, .event = l2tp_tunnel_event,
		.log_wanted = l2tp_tunnel_log_wanted, .random = tunnel_random,
		.port_acquire = l2tp_tunnel_port_acquire, .port_release = l2tp_tunnel_port_release,
		.call_up = l2tp_tunnel_call_up, .call_down = l2tp_tunnel_call_down, .data = l2tp_tunnel_data,
	};
	l2tp_ctrl_init(&t->t, &s->l2tp_conf, &t->cbs);
	/* the one place a local tunnel ID is chosen: a free slot, random to make blind
	 * injection harder; the automaton keeps it for the tunnel's whole life */
	uint16_t r;
	srv_random(s, (uint8_t *)&r, sizeof r);
	for (unsigned k = 0; k < 65536; k++, r++) {
		if (r == 0) continue;
		if (!s->tunnels[r]) {
			t->t.local_tid = r;
			break;
		}
	}
	if (!t->t.local_tid) {
		s->ntimers--;
		free(t);
		return NULL;
	}
	s->tunnels[t->t.local_tid] = t;
	s->ntunnels++;
	half_open_add(t);
	s->st.tunnels_opened++;
	return t;
}

static void reap(struct srv *s)
{
	while (s->dead_calls) {
		struct srv_l2tp_call *c = s->dead_calls;
		s->dead_calls = c->next_dead;
		l2tp_call_free(s, c);
	}
	srv_pptp_reap(s); /* server_pptp.c */
	srv_ikev2_reap(s); /* server_ikev2.c */
}

static int check_fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int check_fail(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -1;
}

static int check_tunnel(const struct srv *s, const struct srv_l2tp_tunnel *t, unsigned *ncalls,
                        char *why, size_t n)
{
	unsigned id = t->t.local_tid;
	if (t->srv != s) return check_fail(why, n, "tunnel %u belongs to another server", id);
	if (t->t.state == L2TP_TUN_DEAD) return check_fail(why, n, "tunnel %u is dead but kept", id);
	if (t->counted_half_open && t->t.state == L2TP_TUN_ESTABLISHED)
		return check_fail(why, n, "established tunnel %u is in the half-open list", id);
	if (!t->counted_half_open &&
	    (t->t.state == L2TP_TUN_IDLE || t->t.state == L2TP_TUN_WAIT_CTL_CONN))
		return check_fail(why, n, "tunnel %u is setting up outside the half-open list", id);
	for (unsigned i = 0; i < L2TP_CTRL_CALLS; i++) {
		const struct srv_l2tp_call *c = t->calls[i];
		if (!c) continue;
		(*ncalls)++;
		const struct l2tp_call *lc = l2tp_ctrl_call((struct l2tp_tunnel *)&t->t, c->lsid);
		if (c->tunnel != t || ras_session_dead(&c->rs))
			return check_fail(why, n, "tunnel %u lists session %u of another tunnel or dead", id,
			                  c->rs.id);
		if (!lc || lc->state != L2TP_CALL_ESTABLISHED)
			return check_fail(why, n, "session %u (sid %u) of tunnel %u has no established call",
			                  c->rs.id, c->lsid, id);
		if (s->sessions[c->rs.id % s->sess_cap] != &c->rs)
			return check_fail(why, n, "session %u is not in the session table", c->rs.id);
		for (unsigned k = i + 1; k < L2TP_CTRL_CALLS; k++)
			if (t->calls[k] && t->calls[k]->lsid == c->lsid)
				return check_fail(why, n, "tunnel %u has two sessions with sid %u", id, c->lsid);
	}
	for (unsigned i = 0; i < L2TP_CTRL_CALLS; i++) {
		const struct l2tp_call *lc = &t->t.calls[i];
		if (lc->state != L2TP_CALL_ESTABLISHED) continue;
		bool found = false;
		for (unsigned k = 0; k < L2TP_CTRL_CALLS && !found; k++)
			found = t->calls[k] && t->calls[k]->lsid == lc->local_sid;
		if (!found)
			return check_fail(why, n, "established call %u of tunnel %u has no session",
			                  lc->local_sid, id);
	}
	return 0;
}

static bool same_source(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

int srv_check_tables(const struct srv *s, char *why, size_t n)
{
	unsigned ntun = 0, ncalls = 0, nho = 0;
	for (unsigned i = 0; i < 65536; i++) {
		const struct srv_l2tp_tunnel *t = s->tunnels[i];
		if (!t) continue;
		ntun++;
		if (t->t.local_tid != i)
			return check_fail(why, n, "slot %u holds the tunnel with ID %u", i, t->t.local_tid);
		if (check_tunnel(s, t, &ncalls, why, n) != 0) return -1;
	}
	if (ntun != s->ntunnels)
		return check_fail(why, n, "%u tunnels in the table, %u counted", ntun, s->ntunnels);
	const struct srv_l2tp_tunnel *prev = NULL;
	for (const struct srv_l2tp_tunnel *t = s->half_open; t; prev = t, t = t->ho_next) {
		if (++nho > ntun) return check_fail(why, n, "the half-open list is longer than the table");
		if (t->ho_prev != prev || !t->counted_half_open || s->tunnels[t->t.local_tid] != t)
			return check_fail(why, n, "half-open tunnel %u is not linked or not in the table",
			                  t->t.local_tid);
		unsigned same = 0;
		for (const struct srv_l2tp_tunnel *o = s->half_open; o; o = o->ho_next)
			same += same_source(&o->peer, &t->peer);
		if (t->ho_same != same)
			return check_fail(why, n, "half-open tunnel %u counts %u of its source, there are %u",
			                  t->t.local_tid, t->ho_same, same);
	}
	if (nho != s->nhalf_open)
		return check_fail(why, n, "%u tunnels in the half-open list, %u counted", nho, s->nhalf_open);
	if (nho > (unsigned)s->cfg->serve.max_half_open || ntun > (unsigned)s->cfg->serve.max_tunnels)
		return check_fail(why, n, "%u tunnels, %u half open: over the limits", ntun, nho);
	unsigned live = 0, npptp = 0, nikev2 = 0;
	if (srv_pptp_check_tables(s, &npptp, why, n) != 0) return -1;
	if (srv_ike_check_tables(s, why, n) != 0) return -1; /* server_ike.c */
	if (srv_ikev2_check_tables(s, &nikev2, why, n) != 0) return -1; /* server_ikev2.c */
	for (unsigned i = 0; i < s->sess_cap; i++) {
		const struct ras_session *rs = s->sessions[i];
		if (!rs) continue;
		live++;
		if (rs->ops->tunnel == TUN_PPTP || rs->ops->tunnel == TUN_IKEV2)
			continue; /* srv_pptp_check_tables, srv_ikev2_check_tables */
		const struct srv_l2tp_call *c = (const struct srv_l2tp_call *)(const void *)rs;
		if (ras_session_dead(rs) || !c->tunnel || s->tunnels[c->tunnel->t.local_tid] != c->tunnel)
			return check_fail(why, n, "session %u has no live tunnel", rs->id);
	}
	if (live != s->nsessions || live != ncalls + npptp + nikev2)
		return check_fail(why, n, "%u sessions in the table, %u counted, %u listed by tunnels, "
		                  "PPTP calls and IKEv2 SAs", live, s->nsessions, ncalls + npptp + nikev2);
	return 0;
}

/* ---- datagrams ------------------------------------------------------------------------ */
/* The largest datagram read whole: an L2TP data header (16 bytes without offset padding)
 * and a frame of the largest MRU (SERVE_MRU_MAX, with 8 bytes of PPP and MPPE headers),
 * with room for a peer that pads or exceeds the MRU. */
_Static_assert(SERVE_MRU_MAX + 8 + 16 <= L2TP_CTRL_DATA_MAX, "a frame fits an L2TP data message");
_Static_assert(SERVE_MRU_MAX + 8 + 16 <= SRV_DGRAM_MAX, "a frame of the largest MRU is read whole");

static bool same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 && x->sin6_port == y->sin6_port;
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	              &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* One source for the share of the half-open table: an IPv4 address, or an IPv6 /64 (what
 * one site is given, and what one attacker has to play with). */
static bool same_source(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) return false;
	if (a->ss_family == AF_INET) return same_host(a, b);
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	              &((const struct sockaddr_in6 *)b)->sin6_addr, 8) == 0;
}

static uint32_t fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint32_t addr_key(const struct sockaddr_storage *p)
{
	if (p->ss_family == AF_INET) return ((const struct sockaddr_in *)p)->sin_addr.s_addr;
	return fnv(((const struct sockaddr_in6 *)p)->sin6_addr.s6_addr, 16);
}

/* Per-source admission of new tunnels: false when the source is over its rate. */
bool srv_rate_ok(struct srv *s, const struct sockaddr_storage *p)
{
	int limit = s->cfg->serve.new_tunnels_per_source;
	if (limit <= 0) return true;
	uint32_t key = addr_key(p);
	uint32_t sec = (uint32_t)(srv_now_ms() / 1000);
	struct rate_slot *r = &s->rate[fnv((const uint8_t *)&key, 4) % (sizeof s->rate / sizeof s->rate[0])];
	if (r->key != key || r->sec != sec) {
		r->key = key;
		r->sec = sec;
		r->count = 0;
	}
	return ++r->count <= (uint32_t)limit;
}

/* The share of serve.limits.half_open one source may hold: a sixteenth, at least one. */
static void new_tunnel_datagram(struct srv *s, const struct srv_listener *l,
                                const struct sockaddr_storage *peer, socklen_t plen,
                                const uint8_t *buf, size_t len, uint32_t via)
{
	char pt[80];
	struct srv_l2tp_tunnel tmp;
	tmp.peer = *peer;
	struct l2tp_msg m;
	struct diag_err err;
	if (l2tp_decode(buf, len, &m, &err) != 0) {
		s->st.malformed++;
		if (srv_throttle(s))
			srv_log(s, SC_L2TP, false, NULL, NULL, "malformed datagram from %s dropped: offset %zu: %s",
			        srv_peer_text(&tmp, pt, sizeof pt), err.off, err.reason);
		return;
	}
	uint16_t ptid = 0;
	const struct l2tp_avp *av = l2tp_find_avp(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID);
	if (av && !av->hidden && av->val_len == 2) ptid = (uint16_t)(av->val[0] << 8 | av->val[1]);
	uint32_t h = fnv(buf, len);
	/* One pass over the half-open tunnels: the one this datagram belongs to (a
	 * retransmitted SCCRQ, or a message to tunnel 0 from a peer that could not read our
	 * Assigned Tunnel ID), how many this source holds, and the tunnel a full table would
	 * give up: the oldest of the source holding the most (the list is newest first). */
	unsigned held = 0;
	struct srv_l2tp_tunnel *victim = NULL;
	for (struct srv_l2tp_tunnel *t = s->half_open; t; t = t->ho_next) {
		if (!victim || t->ho_same >= victim->ho_same) victim = t;
		if (!same_source(&t->peer, peer)) continue;
		held++;
		if (!same_peer(&t->peer, peer) || t->ipsec != via) continue;
		bool match = m.msg_type == L2TP_MSG_SCCRQ
		             ? (ptid ? t->sccrq_peer_tid == ptid : t->sccrq_hash == h)
		             : t->t.state == L2TP_TUN_WAIT_CTL_CONN;
		if (!match) continue;
		l2tp_ctrl_input(&t->t, buf, len, srv_now_ms());
		l2tp_tunnel_check(t);
		return;
	}
	if (!m.is_control || m.msg_type != L2TP_MSG_SCCRQ || m.session_id != 0) {
		s->st.unknown_tunnel++;
		if (srv_throttle(s))
			srv_log(s, SC_L2TP, false, NULL, NULL, "%s for tunnel 0 from %s that is not an SCCRQ, dropped",
			        m.is_control ? (l2tp_msg_name(m.msg_type) ? l2tp_msg_name(m.msg_type) : "control message")
			                     : "data message",
			        srv_peer_text(&tmp, pt, sizeof pt));
		return;
	}
	/* Admission. The half-open table is shared fairly between sources (same_source):
	 * one holds at most its share; when the table is full a newcomer takes the place of the
	 * oldest half-open tunnel of the source holding the most, provided that source
	 * holds more than the newcomer's does, else the SCCRQ is refused. A client with one
	 * tunnel in set-up thus loses it only to sources holding none, whatever the flood. */
	const struct serve_conf *sc = &s->cfg->serve;
	const char *why = NULL;
	bool evict = false;
	enum srv_ho_verdict hv = srv_half_open_admit(held, s->nhalf_open, (unsigned)sc->max_half_open,
	                                             victim ? victim->ho_same : 0, victim != NULL);
	if (s->stopping) why = "the server is stopping";
	else if (!srv_rate_ok(s, peer)) {
		s->st.refused_rate++;
		why = "too many new tunnels from this address (serve.limits.new_tunnels_per_source)";
	} else if (hv == SRV_HO_SHARE) {
		s->st.refused_half_open++;
		why = "too many half-open tunnels from this address (its share is a sixteenth of "
		      "serve.limits.half_open)";
	} else if (hv == SRV_HO_FULL) {
		s->st.refused_half_open++;
		why = "too many tunnels half open (serve.limits.half_open)";
	} else {
		evict = hv == SRV_HO_EVICT;
		if (s->ntunnels - (evict ? 1 : 0) >= (unsigned)sc->max_tunnels) {
			s->st.refused_tunnels++;
			why = "tunnel limit reached (serve.limits.tunnels)";
		}
	}
	if (why) {
		if (srv_throttle(s))
			srv_log(s, SC_L2TP, false, NULL, NULL, "SCCRQ from %s dropped: %s",
			        srv_peer_text(&tmp, pt, sizeof pt), why);
		return;
	}
	if (evict) {
		/* forgotten without a word: its address may be forged and is owed nothing */
		s->st.evicted_half_open++;
		if (srv_throttle(s)) {
			char vt[80];
			srv_log(s, SC_L2TP, false, victim, NULL,
			        "half-open tunnel of %s (%u from that address) evicted for an SCCRQ from %s: "
			        "serve.limits.half_open reached", srv_peer_text(victim, vt, sizeof vt),
			        victim->ho_same, srv_peer_text(&tmp, pt, sizeof pt));
		}
		l2tp_ctrl_abort(&victim->t);
		l2tp_tunnel_check(victim);
	}
	struct srv_l2tp_tunnel *t = l2tp_tunnel_new(s, peer, plen);
	if (!t) {
		s->st.refused_tunnels++;
		return;
	}
	t->listener = (uint8_t)(l - s->listeners);
	t->ipsec = via;
	t->sccrq_peer_tid = ptid;
	t->sccrq_hash = h;
	l2tp_ctrl_input(&t->t, buf, len, srv_now_ms());
	if (t->t.state == L2TP_TUN_IDLE) {
		/* the automaton did not start a control connection with it (no sequence
		 * numbers, Ns other than 0): no state is kept for it */
		s->st.malformed++;
		if (srv_throttle(s)) {
			if (!m.has_seq)
				srv_log(s, SC_L2TP, false, NULL, NULL,
				        "SCCRQ from %s without sequence numbers dropped",
				        srv_peer_text(&tmp, pt, sizeof pt));
			else
				srv_log(s, SC_L2TP, false, NULL, NULL,
				        "SCCRQ from %s with Ns %u dropped: a control connection starts at Ns 0",
				        srv_peer_text(&tmp, pt, sizeof pt), m.ns);
		}
		l2tp_ctrl_abort(&t->t);
	}
	l2tp_tunnel_check(t);
}

/* One datagram on an L2TP listener. */
static void l2tp_datagram(struct srv *s, const struct srv_listener *l,
                          const struct sockaddr_storage *peer, socklen_t plen,
                          const uint8_t *buf, size_t n, uint32_t via)
{
	s->st.rx_datagrams++;
	s->st.rx_bytes += (uint64_t)n;
	if (!via) srv_capture(s, peer, false, buf, n); /* else the ESP around it is captured */
	if (!via && srv_ike_required(s)) {
		srv_ike_plain_refused(s, peer); /* server_ike.c */
		return;
	}
	if (n < 6) {
		s->st.malformed++;
		return;
	}
	uint16_t tid = l2tp_ctrl_peek_tid(buf, n);
	if (tid == 0) {
		new_tunnel_datagram(s, l, peer, plen, buf, n, via);
		reap(s);
		return;
	}
	struct srv_l2tp_tunnel *t = s->tunnels[tid];
	if (!t || !same_host(&t->peer, peer) || t->ipsec != via) {
		s->st.unknown_tunnel++;
		if (srv_throttle(s)) {
			struct srv_l2tp_tunnel tmp;
			tmp.peer = *peer;
			char pt[80];
			srv_log(s, SC_L2TP, false, NULL, NULL, "datagram for unknown tunnel %u from %s dropped",
			        tid, srv_peer_text(&tmp, pt, sizeof pt));
		}
		return;
	}
	if (!same_peer(&t->peer, peer)) { /* the peer moved to another port */
		t->peer = *peer;
		t->peerlen = plen;
	}
	uint32_t bad = t->t.st.bad;
	l2tp_ctrl_input(&t->t, buf, n, srv_now_ms());
	if (t->t.st.bad != bad) s->st.malformed++;
	l2tp_tunnel_check(t);
	reap(s);
}

void srv_datagram(struct srv *s, const struct sockaddr_storage *peer, socklen_t plen,
                  const uint8_t *buf, size_t len)
{
	for (unsigned i = 0; i < s->nlisteners; i++)
		if (s->listeners[i].proto == SRV_PROTO_L2TP) {
			l2tp_datagram(s, &s->listeners[i], peer, plen, buf, len, 0);
			return;
		}
}

void srv_l2tp_ipsec_datagram(struct srv *s, const struct sockaddr_storage *peer, socklen_t plen,
                             const uint8_t *buf, size_t len, uint32_t ipsec)
{
	l2tp_datagram(s, &s->listeners[0], peer, plen, buf, len, ipsec);
}

void srv_l2tp_ipsec_rebind(struct srv *s, uint32_t from, uint32_t to)
{
	if (!s->tunnels) return;
	for (unsigned i = 1; i < 65536; i++)
		if (s->tunnels[i] && s->tunnels[i]->ipsec == from) s->tunnels[i]->ipsec = to;
}

void srv_l2tp_ipsec_gone(struct srv *s, uint32_t ipsec)
{
	if (!s->tunnels) return;
	for (unsigned i = 1; i < 65536; i++) {
		struct srv_l2tp_tunnel *t = s->tunnels[i];
		if (!t || t->ipsec != ipsec) continue;
		char pt[80];
		srv_log(s, SC_L2TP, false, t, NULL, "tunnel of %s closed: the IPsec SA it came in is gone",
		        srv_peer_text(t, pt, sizeof pt));
		for (unsigned k = 0; k < L2TP_CTRL_CALLS; k++)
			if (t->calls[k])
				ras_session_set_cause(&t->calls[k]->rs, RAS_CAUSE_TUNNEL_CLOSED, 0, 0);
		l2tp_ctrl_abort(&t->t);
		l2tp_tunnel_check(t);
	}
	reap(s);
}

/* The L2TP listener is readable: a burst of datagrams. */
/* One datagram read from the L2TP listener: n is its whole length, of which at most
 * SRV_DGRAM_MAX bytes were read. */
static void l2tp_udp_one(struct srv *s, struct srv_listener *l, const struct sockaddr_storage *peer,
                         socklen_t plen, const uint8_t *buf, size_t n)
{
	if (n > SRV_DGRAM_MAX) {
		/* counted and logged, never dropped in silence */
		s->st.rx_datagrams++;
		s->st.rx_bytes += (uint64_t)n;
		s->env.st.oversized++;
		if (srv_throttle(s)) {
			struct srv_l2tp_tunnel tmp;
			tmp.peer = *peer;
			char pt[80];
			srv_log(s, SC_DATA, false, NULL, NULL,
			        "datagram from %s of %zu bytes dropped: the server takes at most %d "
			        "(serve.ppp.mru is at most %d)", srv_peer_text(&tmp, pt, sizeof pt), n,
			        SRV_DGRAM_MAX, SERVE_MRU_MAX);
		}
		return;
	}
	l2tp_datagram(s, l, peer, plen, buf, n, 0);
}

#define SRV_RX_BATCH 16
static void l2tp_udp_read(struct srv *s, struct srv_listener *l)
{
	static uint8_t bufs[SRV_RX_BATCH][SRV_DGRAM_MAX];
	struct sockaddr_storage peers[SRV_RX_BATCH];
	struct iovec iov[SRV_RX_BATCH];
	struct mmsghdr m[SRV_RX_BATCH];
	/* up to 64 datagrams, SRV_RX_BATCH a system call */
	for (int burst = 0; burst < 64 / SRV_RX_BATCH; burst++) {
		for (unsigned i = 0; i < SRV_RX_BATCH; i++) {
			iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizeof bufs[i]};
			m[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &peers[i],
			                                    .msg_namelen = sizeof peers[i],
			                                    .msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		/* MSG_TRUNC: msg_len is the datagram's whole length, also when only
		 * SRV_DGRAM_MAX bytes were read */
		int got = recvmmsg(l->fd, m, SRV_RX_BATCH, MSG_TRUNC | MSG_DONTWAIT, NULL);
		if (got <= 0) break;
		for (int i = 0; i < got; i++)
			l2tp_udp_one(s, l, &peers[i], m[i].msg_hdr.msg_namelen, bufs[i], m[i].msg_len);
		if (got < SRV_RX_BATCH) break;
	}
}

/* ---- listeners ------------------------------------------------------------------------ */
struct srv_listener *srv_listener_add(struct srv *s, enum srv_proto proto,
                                      void (*handler)(struct srv *, struct srv_listener *))
{
	if (s->nlisteners >= SRV_LISTENERS) return NULL;
	struct srv_listener *l = &s->listeners[s->nlisteners++];
	l->fd = -1;
	l->proto = (uint8_t)proto;
	l->handler = handler;
	l->srv = s;
	return l;
}

static void listener_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct srv_listener *l = arg;
	srv_io_hold(l->srv);
	l->handler(l->srv, l);
	srv_io_release(l->srv); /* what the burst sent and logged leaves now */
}

/* Watch every bound listener. */
static int listeners_start(struct srv *s)
{
	for (unsigned i = 0; i < s->nlisteners; i++) {
		struct srv_listener *l = &s->listeners[i];
		if (l->fd < 0) continue;
		l->ev = event_new(s->base, l->fd, EV_READ | EV_PERSIST, listener_cb, l);
		if (!l->ev || event_add(l->ev, NULL) != 0) return -1;
	}
	return 0;
}

static void listeners_close(struct srv *s)
{
	for (unsigned i = 0; i < s->nlisteners; i++) {
		struct srv_listener *l = &s->listeners[i];
		if (l->ev) event_free(l->ev);
		if (l->fd >= 0) close(l->fd);
		l->ev = NULL;
		l->fd = -1;
	}
}

/* ---- start and stop ------------------------------------------------------------------- */
int srv_parse_listen(const char *text, unsigned default_port, struct sockaddr_storage *ss,
                     socklen_t *len)
{
	unsigned n = 0;
	int rc = net_hostport_parse(text, default_port, ss, &n);
	*len = (socklen_t)n;
	return rc;
}

static void shutdown_cb(evutil_socket_t fd, short what, void *arg);

static void stop_all(struct srv *s, const char *why)
{
	if (s->stopping) return;
	s->stopping = true;
	srv_log(s, SC_MAIN, false, NULL, NULL, "stopping (%s): clearing %u tunnels", why, s->ntunnels);
	uint64_t now = srv_now_ms();
	for (unsigned i = 1; i < 65536; i++) {
		struct srv_l2tp_tunnel *t = s->tunnels[i];
		if (!t) continue;
		for (unsigned k = 0; k < L2TP_CTRL_CALLS; k++)
			if (t->calls[k]) ras_session_set_cause(&t->calls[k]->rs, RAS_CAUSE_SHUTDOWN, 0, 0);
		if (t->t.state == L2TP_TUN_ESTABLISHED || t->t.state == L2TP_TUN_WAIT_CTL_CONN)
			l2tp_ctrl_stop(&t->t, L2TP_STOP_SHUTDOWN, 0, "server shutting down", now);
		l2tp_tunnel_check(t);
	}
	srv_pptp_stop_all(s); /* server_pptp.c */
	srv_ikev2_stop_all(s); /* server_ikev2.c: DELETEs to the clients */
	reap(s);
	/* give the StopCCNs a moment to be acknowledged, then leave */
	struct timeval tv = {1, 500000};
	event_base_once(s->base, -1, EV_TIMEOUT, shutdown_cb, s, &tv);
}

static void shutdown_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct srv *s = arg;
	event_base_loopexit(s->base, NULL);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct srv *s = arg;
	if (s->stopping) {
		event_base_loopexit(s->base, NULL);
		return;
	}
	stop_all(s, sig == SIGINT ? "SIGINT" : "SIGTERM");
}

static int setup_protocols(struct srv *s)
{
	const struct config *c = s->cfg;
	const struct serve_conf *sc = &c->serve;
	l2tp_ctrl_conf_default(&s->l2tp_conf, false);
	s->l2tp_conf.host_name = sc->host_name ? sc->host_name : c->server.name;
	s->l2tp_conf.vendor_name = "vnet";
	if (sc->secret) {
		s->l2tp_conf.secret = (const uint8_t *)sc->secret;
		s->l2tp_conf.secret_len = strlen(sc->secret);
		s->l2tp_conf.hide_avps = sc->hide_avps;
	}
	s->l2tp_conf.hello_ms = (uint32_t)sc->hello_interval * 1000;
	s->l2tp_conf.max_retries = (uint8_t)sc->retries;
	s->l2tp_conf.rto_max_ms = (uint32_t)sc->rto_max * 1000;
	s->l2tp_conf.max_calls = L2TP_CTRL_CALLS;

	struct ppp_session_conf *p = &s->ppp_conf;
	if (ras_ppp_conf(c, s->l2tp_conf.host_name, p) != 0) {
		fprintf(stderr, "vnet: %s: server.auth_methods enables none of pap, chap, mschapv2: "
		        "no PPP client could authenticate\n", s->config_name);
		return -1;
	}
	/* addresses */
	if (addr_pool_init(&s->pool, &c->server) != 0) {
		fprintf(stderr, "vnet: %s: server.pool is too large (at most 2^24 addresses)\n",
		        s->config_name);
		return -1;
	}
	if (sc->has_local_address) s->local_addr = sc->local_address;
	else if (addr_pool_server(&s->pool)) s->local_addr = addr_pool_server(&s->pool);
	else if (c->server.naddresses) s->local_addr = c->server.addresses[0];
	else s->local_addr = 0x0a000001; /* 10.0.0.1 */
	p->local_addr = s->local_addr;
	p->dns[0] = sc->dns[0];
	p->dns[1] = sc->dns[1];
	p->wins[0] = sc->wins[0];
	p->wins[1] = sc->wins[1];
	return 0;
}

struct srv *srv_create(const struct server_opts *o, const char *config_text, size_t len)
{
	struct srv *s = calloc(1, sizeof *s);
	if (!s) return NULL;
	s->ctl_fd = -1;
	s->debug = o->debug;
	s->quiet = o->quiet;
	s->started = time(NULL);
	snprintf(s->run_id, sizeof s->run_id, "%lld-%d", (long long)s->started, (int)getpid());
	struct config_problems probs = {0};
	s->cfg = config_text ? config_load_mem("(memory)", config_text, len, &probs)
	                     : config_load(o->config_path, &probs);
	if (!s->cfg) {
		if (!s->quiet)
			config_problems_print(&probs, o->config_path ? o->config_path : "(embedded)");
		config_problems_free(&probs);
		free(s);
		return NULL;
	}
	config_problems_free(&probs);
	s->config_name = s->cfg->file;
	const struct serve_conf *sc = &s->cfg->serve;
	s->sess_cap = (unsigned)sc->max_sessions + 1;
	s->tunnels = calloc(65536, sizeof *s->tunnels);
	s->sessions = calloc(s->sess_cap, sizeof *s->sessions);
	s->base = event_base_new();
	s->timer_at = L2TP_NEVER;
	if (s->base) s->ev_timer = evtimer_new(s->base, timer_cb, s);
	if (!s->tunnels || !s->sessions || !s->base || !s->ev_timer ||
	    policy_result_init(&s->pres, s->cfg) != 0) {
		fprintf(stderr, "vnet: out of memory\n");
		srv_destroy(s);
		return NULL;
	}
	s->pres.full_trace = true;
	/* the L2TP listener comes first (listeners[0]); its socket and address until it is
	 * bound (the fuzz harness never binds one) */
	srv_listener_add(s, SRV_PROTO_L2TP, l2tp_udp_read);
	if (setup_protocols(s) != 0 || srv_pptp_setup(s) != 0 || srv_ike_setup(s) != 0) {
		srv_destroy(s);
		return NULL;
	}
	s->env = (struct ras_env){
		.cfg = s->cfg, .ppp = &s->ppp_conf, .pool = &s->pool, .pres = &s->pres,
		.server_ip = s->local_ip, .quiet = s->quiet, .cbs = &env_cbs, .ctx = s,
	};
	for (int k = 0; k < RAS_LOG_N; k++)
		if (s->debug >> ras_cat[k] & 1) s->env.debug |= 1u << k;
	srv_parse_listen("127.0.0.1:1701", 1701, &s->local, &s->locallen);
	snprintf(s->local_text, sizeof s->local_text, "127.0.0.1:1701");
	snprintf(s->local_ip, sizeof s->local_ip, "127.0.0.1");
	return s;
}

int server_run(const struct server_opts *o)
{
	struct srv *s = srv_create(o, NULL, 0);
	if (!s) return 2;
	int rc = 2;
	const struct serve_conf *sc = &s->cfg->serve;

	const char *listen = o->listen ? o->listen : sc->listen ? sc->listen : "127.0.0.1:1701";
	if (srv_parse_listen(listen, 1701, &s->local, &s->locallen) != 0) {
		fprintf(stderr, "vnet: --listen %s: expected ADDR[:PORT] (an IPv4 address, or an IPv6 "
		        "address in brackets when a port follows)\n", listen);
		goto out;
	}
	struct srv_listener *l2tp = &s->listeners[0]; /* srv_create added it */
	l2tp->fd = socket(s->local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l2tp->fd < 0 || bind(l2tp->fd, (struct sockaddr *)&s->local, s->locallen) != 0) {
		fprintf(stderr, "vnet: cannot listen on %s: %s\n", listen, strerror(errno));
		goto out;
	}
	int rcvbuf = 4 << 20;
	setsockopt(l2tp->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	s->locallen = sizeof s->local;
	getsockname(l2tp->fd, (struct sockaddr *)&s->local, &s->locallen);
	l2tp->addr = s->local;
	{
		struct srv_l2tp_tunnel tmp;
		tmp.peer = s->local;
		srv_peer_text(&tmp, s->local_text, sizeof s->local_text);
		srv_peer_ip(&s->local, s->local_ip, sizeof s->local_ip);
	}
	const char *pptp = o->pptp_listen ? o->pptp_listen : sc->pptp_listen;
	if (pptp && srv_pptp_open(s, pptp) != 0) goto out; /* server_pptp.c */
	if (o->capture && srv_capture_open(s, o->capture) != 0) goto out;
	const char *acct = o->accounting ? o->accounting : sc->accounting_path;
	if (acct && srv_acct_open(s, acct) != 0) goto out;
	char ctlbuf[512];
	const char *ctl = o->control ? o->control : srv_ctl_default_path(ctlbuf, sizeof ctlbuf);
	if (srv_ctl_open(s, ctl) != 0) goto out;
	/* server_tundev.c: a TUN the operator's configuration names must work */
	if (srv_tundev_open(s, o->config_path != NULL) != 0) goto out;
	if (srv_radius_open(s) != 0) goto out; /* server_radius.c */
	if (srv_ike_open(s, o->capture) != 0) goto out; /* server_ike.c */

	s->ev_sigint = evsignal_new(s->base, SIGINT, signal_cb, s);
	s->ev_sigterm = evsignal_new(s->base, SIGTERM, signal_cb, s);
	if (!s->ev_sigint || !s->ev_sigterm) goto out;
	s->ev_tick = event_new(s->base, -1, EV_PERSIST, tick_cb, s);
	if (!s->ev_tick || listeners_start(s) != 0) goto out;
	struct timeval second = {1, 0};
	event_add(s->ev_tick, &second);
	event_add(s->ev_sigint, NULL);
	event_add(s->ev_sigterm, NULL);
	signal(SIGPIPE, SIG_IGN);
	char la[20];
	srv_log(s, SC_MAIN, false, NULL, NULL,
	        "vnet serve: configuration %s, %d L2TP ports, pool of %llu addresses, server address %s",
	        s->config_name, s->cfg->server.ports[TUN_L2TP], (unsigned long long)s->pool.size,
	        ipv4_str(s->local_addr, la, sizeof la));
	srv_log(s, SC_MAIN, false, NULL, NULL, "control socket %s", s->ctl_path);
	srv_log(s, SC_MAIN, false, NULL, NULL, "listening on %s", s->local_text);
	/* the MS-CHAP and MPPE algorithms (OpenSSL's providers) are loaded now rather than
	 * by the first client */
	mschap_crypto_ready();
#ifdef __GLIBC__
	/* reading the configuration (a JSON tree of every user) left megabytes free inside
	 * the heap: give the pages back, so the server's memory is what it keeps, and what
	 * its sessions take shows as theirs */
	malloc_trim(0);
#endif
	event_base_dispatch(s->base);
	rc = 0;
	srv_log(s, SC_MAIN, false, NULL, NULL, "stopped: %llu sessions served, %llu rejected",
	        (unsigned long long)s->env.st.sessions_up,
	        (unsigned long long)s->env.st.sessions_rejected);
out:
	srv_destroy(s);
	return rc;
}

void srv_destroy(struct srv *s)
{
	srv_ikev2_stop_all(s); /* server_ikev2.c: the IKEv2 SAs and their sessions */
	srv_ike_stop_all(s); /* server_ike.c: the IKE SAs deleted, their tunnels with them */
	if (s->tunnels) {
		for (unsigned i = 1; i < 65536; i++) {
			struct srv_l2tp_tunnel *t = s->tunnels[i];
			if (!t) continue;
			for (unsigned k = 0; k < L2TP_CTRL_CALLS; k++)
				if (t->calls[k]) ras_session_abort(&t->calls[k]->rs, RAS_CAUSE_SHUTDOWN, srv_now_ms());
			s->tunnels[i] = NULL;
			srv_timer_set(s, &t->timer, L2TP_NEVER);
			l2tp_ctrl_free(&t->t);
			free(t);
		}
	}
	srv_pptp_destroy(s); /* server_pptp.c */
	srv_ikev2_destroy(s); /* server_ikev2.c */
	srv_ike_destroy(s);  /* server_ike.c */
	reap(s);
	srv_tundev_close(s); /* server_tundev.c */
	srv_radius_close(s); /* server_radius.c */
	srv_ctl_close(s);
	srv_acct_close(s);
	srv_capture_close(s);
	listeners_close(s);
	if (s->ev_tick) event_free(s->ev_tick);
	if (s->ev_timer) event_free(s->ev_timer);
	free(s->heap);
	if (s->ev_sigint) event_free(s->ev_sigint);
	if (s->ev_sigterm) event_free(s->ev_sigterm);
	if (s->base) event_base_free(s->base);
	policy_result_free(&s->pres);
	addr_pool_free(&s->pool);
	free(s->tunnels);
	free(s->sessions);
	config_free(s->cfg);
	free(s);
}
