/* The remote-access session state machine (engine/server/ras_session.h) driven with injected
 * time: a PPP client of the engine's own automata on one side, a mock lower layer that
 * records what the session sends and closes on the other, and the policy engine on a
 * small configuration. Every transition, the idle and session timeouts, admission that
 * answers later (granted, denied, never), the lower layer going away at each step, the
 * encryption check, and the address lease given back on every way out. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/admit.h"
#include "policy/config.h"
#include "ppp/mppe.h"
#include "mschap.h"
#include "ppp.h"
#include "ppp/ppp_session.h"
#include "server/ras_session.h"

static const char *CONF =
	"{\"server\": {\"auth_methods\": [\"mschapv2\", \"chap\", \"pap\"],"
	" \"encryption\": [\"none\", \"strongest\"], \"ports\": {\"l2tp\": 4},"
	" \"address_assignment\": \"pool\", \"pool\": [{\"start\": \"10.7.0.1\", \"end\": \"10.7.0.6\"}]},"
	" \"groups\": [{\"name\": \"VPN\"}],"
	" \"policies\": [{\"name\": \"vpn\", \"conditions\": [{\"attribute\": \"Windows-Groups\","
	"  \"value\": [\"VPN\"]}], \"permission\": \"grant\", \"profile\": {\"auth_methods\": [\"mschapv2\","
	"  \"chap\", \"pap\"], \"encryption\": [\"none\", \"strongest\"]}}],"
	" \"users\": [{\"name\": \"u\", \"password\": \"p\", \"groups\": [\"VPN\"]},"
	"  {\"name\": \"d\", \"password\": \"p\", \"groups\": [\"VPN\"], \"dialin\": \"deny\"}]}";

#define QMAX 64
struct frame {
	size_t len;
	uint8_t b[1600];
};
struct queue {
	struct frame f[QMAX];
	unsigned n;
};

/* ---- the world of one test ------------------------------------------------------------ */
static struct world {
	struct config *cfg;
	struct addr_pool pool;
	struct policy_result pres;
	struct ppp_session_conf sconf, cconf;
	struct ras_env env;
	struct ras_session *rs;      /* NULL once the owner freed it */
	uint32_t rs_id;
	/* client */
	struct ppp_session c;
	struct ppp_session_cbs ccbs;
	struct mppe_state cmppe[2];
	bool c_finished;
	unsigned c_win_error;
	unsigned c_decrypted;        /* MPPE packets from the server the client decrypted */
	bool client_gone;            /* frames to the client are lost */
	struct queue to_client, to_server;
	uint64_t now;
	uint64_t rng;
	/* lower layer */
	unsigned closes, close_win_error;
	bool close_reports_down;     /* close calls ras_session_lower_down like L2TP does */
	char close_cause[64];
	/* environment */
	unsigned ev_up, ev_down, ev_dead;
	bool authorize_pending;      /* authorize answers later */
	uint8_t given[256];          /* the credentials authorize was given */
	size_t given_len;
	bool authorize_local;        /* authorize computes the local verdict at once */
	unsigned authorized;         /* authorize calls */
	unsigned pending_seq;
	enum ppp_auth_method asked_method;
	bool hide_password;          /* the password callback knows nobody */
	unsigned forwarded;
	char log[16384];
	size_t loglen;
	enum ras_state seen[64];
	unsigned nseen;
} W;

static void rnd(uint64_t *s, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		*s ^= *s << 13;
		*s ^= *s >> 7;
		*s ^= *s << 17;
		b[i] = (uint8_t)(*s >> 24);
	}
}

static void push(struct queue *q, const uint8_t *b, size_t n)
{
	ck_assert_uint_lt(q->n, QMAX);
	ck_assert_uint_le(n, sizeof q->f[0].b);
	q->f[q->n].len = n;
	memcpy(q->f[q->n].b, b, n);
	q->n++;
}

static void note_state(void)
{
	if (!W.rs) return;
	enum ras_state st = (enum ras_state)W.rs->state;
	if ((W.nseen == 0 || W.seen[W.nseen - 1] != st) && W.nseen < 64) W.seen[W.nseen++] = st;
}

/* mock lower layer */
static int m_send(struct ras_session *rs, const uint8_t *f, size_t n)
{
	(void)rs;
	push(&W.to_client, f, n);
	return 0;
}

static void m_close(struct ras_session *rs, unsigned win_error, uint64_t now)
{
	W.closes++;
	W.close_win_error = win_error;
	ras_session_cause_text(rs, W.close_cause, sizeof W.close_cause);
	if (W.close_reports_down) ras_session_lower_down(rs, RAS_CAUSE_LOWER, 3, 0, now);
}

static const char *m_peer_text(const struct ras_session *rs, char *b, size_t n)
{
	(void)rs;
	snprintf(b, n, "192.0.2.7:1701");
	return b;
}

static const char *m_peer_ip(const struct ras_session *rs, char *b, size_t n)
{
	(void)rs;
	snprintf(b, n, "192.0.2.7");
	return b;
}

static void m_cause(const struct ras_session *rs, unsigned a, unsigned b, char *buf, size_t n)
{
	(void)rs;
	snprintf(buf, n, "mock-%u-%u", a, b);
}

static const struct ras_lower_ops MOCK = {
	.tunnel = TUN_L2TP, .send = m_send, .close = m_close, .peer_text = m_peer_text,
	.peer_ip = m_peer_ip, .cause_text = m_cause,
};

/* environment */
static void e_log(void *ctx, const struct ras_session *rs, enum ras_log cat, bool dbg,
                  const char *text)
{
	(void)ctx;
	(void)rs;
	(void)dbg;
	int w = snprintf(W.log + W.loglen, sizeof W.log - W.loglen, "%d %s\n", (int)cat, text);
	if (w > 0 && (size_t)w < sizeof W.log - W.loglen) W.loglen += (size_t)w;
}

static void e_event(void *ctx, struct ras_session *rs, enum ras_event ev)
{
	(void)ctx;
	if (ev == RAS_EV_UP) W.ev_up++;
	if (ev == RAS_EV_DOWN) {
		W.ev_down++;
		ck_assert_uint_ne(rs->addr, 0); /* the address is still there for the routes */
	}
	if (ev == RAS_EV_DEAD) W.ev_dead++;
}

static void e_random(void *ctx, uint8_t *b, size_t n)
{
	(void)ctx;
	rnd(&W.rng, b, n);
}

static int e_password(void *ctx, struct ras_session *rs, const char *user, char *buf, size_t cap)
{
	(void)ctx;
	(void)rs;
	if (W.hide_password) return -1;
	const struct user *u = config_find_user(W.cfg, user);
	if (!u || !u->password || strlen(u->password) + 1 > cap) return -1;
	strcpy(buf, u->password);
	return (int)strlen(buf);
}

static enum ras_admit_rc e_authorize(void *ctx, struct ras_session *rs, const struct ras_auth_req *q,
                                     struct ras_verdict *v)
{
	(void)ctx;
	W.authorized++;
	/* what an authentication server would be given, while this call runs */
	W.given_len = q->auth->given ? q->auth->given_len : 0;
	if (W.given_len) memcpy(W.given, q->auth->given, W.given_len);
	W.asked_method = q->method;
	ck_assert_str_eq(q->admit.client_ip, "192.0.2.7");
	ck_assert_int_eq(q->admit.tunnel, TUN_L2TP);
	if (W.authorize_pending) {
		W.pending_seq = rs->admit_seq;
		return RAS_ADMIT_PENDING;
	}
	ras_session_admit_local(rs, q, v);
	return RAS_ADMIT_NOW;
}

static bool e_throttle(void *ctx)
{
	(void)ctx;
	return true;
}

static time_t e_wall(void *ctx)
{
	(void)ctx;
	return 1796198400 + (time_t)(W.now / 1000);
}

static int e_ports(void *ctx, enum tunnel_type t)
{
	(void)ctx;
	return t == TUN_L2TP ? 1 : 0;
}

static bool e_forward(void *ctx, struct ras_session *rs, const uint8_t *ip, size_t len)
{
	(void)ctx;
	(void)rs;
	(void)ip;
	(void)len;
	W.forwarded++;
	return true;
}

static struct ras_env_cbs ECBS = {
	.log = e_log, .event = e_event, .random = e_random, .password = e_password,
	.throttle = e_throttle, .wall = e_wall, .ports_in_use = e_ports, .forward = e_forward,
};

/* client callbacks */
static void c_send(void *ctx, const uint8_t *f, size_t n)
{
	(void)ctx;
	push(&W.to_server, f, n);
}

static void c_random(void *ctx, uint8_t *b, size_t n)
{
	(void)ctx;
	static uint64_t s = 0x9e3779b97f4a7c15ull;
	rnd(&s, b, n);
}

static void c_finished(void *ctx, unsigned err, const char *why)
{
	(void)ctx;
	(void)why;
	W.c_finished = true;
	W.c_win_error = err;
}

/* The owner: frees a DEAD session once the call that ended it returned. */
static void reap(void)
{
	note_state();
	if (W.rs && W.rs->state == RAS_DEAD) {
		ras_session_free(W.rs);
		free(W.rs);
		W.rs = NULL;
	}
}

/* Look a session up by its id, as a server resolving a late verdict does. */
static struct ras_session *find(uint32_t id) { return W.rs && W.rs->id == id ? W.rs : NULL; }

/* Deliver the frames in flight both ways until both queues are empty. */
static void pump(void)
{
	for (int round = 0; round < 200 && (W.to_client.n || W.to_server.n); round++) {
		struct queue q = W.to_client;
		W.to_client.n = 0;
		if (W.client_gone) q.n = 0; /* the client stopped answering */
		for (unsigned i = 0; i < q.n; i++) {
			const uint8_t *b = q.f[i].b;
			size_t o = q.f[i].len >= 2 && b[0] == 0xff && b[1] == 0x03 ? 2 : 0;
			if (q.f[i].len > o + 2 && b[o] == 0x00 && b[o + 1] == 0xfd && W.c.ccp.mppe_on) {
				/* the client's data path: what the server encrypted for it */
				uint8_t clear[1600];
				struct diag_err err;
				if (mppe_decrypt(W.c.ccp.rx, b + o + 2, q.f[i].len - o - 2, clear, sizeof clear,
				                 &err) >= 2)
					W.c_decrypted++;
				continue;
			}
			ppp_session_input(&W.c, b, q.f[i].len, W.now);
		}
		q = W.to_server;
		W.to_server.n = 0;
		for (unsigned i = 0; i < q.n && W.rs; i++) {
			ras_session_input(W.rs, q.f[i].b, q.f[i].len, W.now);
			reap();
		}
	}
}

/* Let time pass in steps, firing both sides' timers. */
static void advance(uint64_t ms)
{
	uint64_t end = W.now + ms;
	for (int i = 0; i < 10000 && W.now < end; i++) {
		uint64_t d = ppp_session_deadline(&W.c);
		if (W.rs) {
			uint64_t ds = ras_session_deadline(W.rs);
			if (ds < d) d = ds;
		}
		if (d > end) d = end;
		if (d > W.now) W.now = d;
		ppp_session_tick(&W.c, W.now);
		if (W.rs) {
			ras_session_tick(W.rs, W.now);
			reap();
		}
		pump();
	}
	W.now = end;
}

static void world_init(const char *user, const char *password)
{
	memset(&W, 0, sizeof W);
	W.now = 1000;
	W.rng = 0x2545f4914f6cdd1dull;
	struct config_problems pr = {0};
	W.cfg = config_load_mem("t.json", CONF, strlen(CONF), &pr);
	if (!W.cfg) config_problems_print(&pr, "t.json");
	config_problems_free(&pr);
	ck_assert_ptr_nonnull(W.cfg);
	ck_assert_int_eq(addr_pool_init(&W.pool, &W.cfg->server), 0);
	ck_assert_int_eq(policy_result_init(&W.pres, W.cfg), 0);
	W.pres.full_trace = true;
	ck_assert_int_eq(ras_ppp_conf(W.cfg, "vnet", &W.sconf), 0);
	W.sconf.local_addr = addr_pool_server(&W.pool);
	W.env = (struct ras_env){
		.cfg = W.cfg, .ppp = &W.sconf, .pool = &W.pool, .pres = &W.pres,
		.server_ip = "127.0.0.1", .debug = 0, .cbs = &ECBS, .ctx = &W,
	};
	ppp_session_conf_default(&W.cconf, false);
	W.cconf.auth.name = user;
	W.cconf.auth.password = password;
	W.cconf.ipv6 = false;
	W.ccbs = (struct ppp_session_cbs){
		.ctx = &W, .send = c_send, .random = c_random, .finished = c_finished,
	};
	ppp_session_init(&W.c, &W.cconf, &W.ccbs);
	ppp_ccp_set_mppe(&W.c, &W.cmppe[0], &W.cmppe[1]);
	W.rs = calloc(1, sizeof *W.rs);
	ck_assert_ptr_nonnull(W.rs);
	W.rs_id = 42;
	ck_assert_int_eq(ras_session_init(W.rs, &W.env, &MOCK, W.rs_id, W.now), 0);
	note_state();
}

static void world_free(void)
{
	if (W.rs) {
		ras_session_abort(W.rs, RAS_CAUSE_SHUTDOWN, W.now);
		reap();
	}
	ck_assert_uint_eq(addr_pool_clients(&W.pool), 0); /* every lease given back */
	policy_result_free(&W.pres);
	addr_pool_free(&W.pool);
	config_free(W.cfg);
}

static void start(void)
{
	ras_session_start(W.rs, W.now);
	note_state();
	ppp_session_start(&W.c, W.now);
	pump();
}

static bool seen(enum ras_state st)
{
	for (unsigned i = 0; i < W.nseen; i++)
		if (W.seen[i] == st) return true;
	return false;
}

static const char *cause(void)
{
	static char b[64];
	return W.rs ? ras_session_cause_text(W.rs, b, sizeof b) : W.close_cause;
}

/* An ICMP echo request from the client to `dst`, sent the way the client's data path
 * would (through MPPE when it is on). */
static void client_ping(uint32_t dst)
{
	uint8_t ip[28] = {0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0};
	uint32_t src = W.c.ipcp.my_addr;
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	ip[20] = 8;
	uint8_t f[64];
	size_t n;
	f[0] = 0xff;
	f[1] = 0x03;
	if (W.c.ccp.mppe_on) {
		uint8_t in[32] = {0x00, 0x21};
		memcpy(in + 2, ip, sizeof ip);
		f[2] = 0x00;
		f[3] = 0xfd;
		int m = mppe_encrypt(W.c.ccp.tx, in, sizeof ip + 2, f + 4, sizeof f - 4);
		ck_assert_int_gt(m, 0);
		n = 4 + (size_t)m;
	} else {
		f[2] = 0x00;
		f[3] = 0x21;
		memcpy(f + 4, ip, sizeof ip);
		n = 4 + sizeof ip;
	}
	push(&W.to_server, f, n);
	pump();
}

/* ---- tests ------------------------------------------------------------------------------ */
START_TEST(every_transition_up_and_down)
{
	world_init("u", "p");
	W.close_reports_down = true;
	start();
	ck_assert(seen(RAS_LINK));
	ck_assert(seen(RAS_AUTHENTICATING));
	ck_assert(seen(RAS_UP));
	ck_assert_int_eq(W.rs->state, RAS_UP);
	ck_assert_uint_eq(W.ev_up, 1);
	ck_assert_uint_ne(W.rs->addr, 0);
	ck_assert_uint_eq(addr_pool_clients(&W.pool), 1);
	ck_assert(W.rs->flags & RAS_F_ENC_CHECKED);
	ck_assert_uint_eq(W.rs->enc_level, ENC_STRONGEST);
	ck_assert(W.c.ccp.mppe_on);
	ck_assert_str_eq(ras_session_show_state(W.rs), "up");
	/* the data path: an echo to the server's address is answered through MPPE */
	uint64_t tx = W.rs->tx_pkts;
	client_ping(W.sconf.local_addr);
	ck_assert_uint_eq(W.env.st.icmp_echo, 1);
	ck_assert_uint_eq(W.rs->tx_pkts, tx + 1);
	client_ping(0x08080808);
	ck_assert_uint_eq(W.forwarded, 1);
	/* an administrative disconnect: CLOSING, LCP terminates, the lower layer closes */
	ras_session_disconnect(W.rs, RAS_CAUSE_ADMIN, W.now);
	note_state();
	ck_assert_int_eq(W.rs->state, RAS_CLOSING);
	pump();
	advance(10000);
	ck_assert_ptr_null(W.rs);
	ck_assert(seen(RAS_CLOSING));
	ck_assert(seen(RAS_DEAD));
	ck_assert_uint_eq(W.closes, 1);
	ck_assert_str_eq(W.close_cause, "admin-disconnect");
	ck_assert_uint_eq(W.ev_down, 1);
	ck_assert_uint_eq(W.ev_dead, 1);
	ck_assert_uint_eq(W.env.st.sessions_up, 1);
	ck_assert_uint_eq(W.env.st.sessions_closed, 1);
	ck_assert_uint_eq(addr_pool_clients(&W.pool), 0);
	ck_assert_ptr_nonnull(strstr(W.log, "session 42 down cause=admin-disconnect user=u"));
	world_free();
}
END_TEST

START_TEST(admitting_is_passed_through_when_the_verdict_is_local)
{
	world_init("u", "p");
	ECBS.authorize = e_authorize;
	W.authorize_local = true;
	start();
	ECBS.authorize = NULL;
	ck_assert_uint_eq(W.authorized, 1);
	ck_assert_int_eq(W.asked_method, PPP_AUTH_MSCHAPV2);
	ck_assert_int_eq(W.rs->state, RAS_UP);
	ck_assert(!seen(RAS_ADMITTING)); /* entered and left inside one call */
	world_free();
}
END_TEST

/* MPPE states are lent when CCP opens, sized for the modes: a stateless direction keeps
 * no RC4 tables, a stateful one does (and its stream carries on between packets). */
START_TEST(mppe_states_sized_for_the_mode)
{
	for (int stateless = 1; stateless >= 0; stateless--) {
		world_init("u", "p");
		W.cconf.mppe_stateless = stateless;
		ppp_session_init(&W.c, &W.cconf, &W.ccbs);
		ppp_ccp_set_mppe(&W.c, &W.cmppe[0], &W.cmppe[1]);
		ck_assert_ptr_null(W.rs->mppe); /* nothing before CCP */
		start();
		ck_assert_int_eq(W.rs->state, RAS_UP);
		ck_assert(W.rs->ppp.ccp.mppe_on);
		ck_assert_ptr_nonnull(W.rs->mppe);
		ck_assert_int_eq(W.rs->ppp.ccp.tx->stateless, stateless);
		ck_assert_int_eq(W.rs->ppp.ccp.rx->stateless, stateless);
		ck_assert_uint_eq(W.rs->mppe_off >= mppe_state_size(stateless), true);
		for (int i = 0; i < 3; i++) client_ping(W.sconf.local_addr);
		ck_assert_uint_eq(W.env.st.icmp_echo, 3);
		ck_assert_uint_eq(W.env.st.mppe_errors, 0);
		ck_assert_uint_eq(W.c_decrypted, 3); /* the client decrypted every answer */
		world_free();
	}
}
END_TEST

START_TEST(idle_timeout)
{
	world_init("u", "p");
	W.cfg->policies[0].profile.idle_timeout = 1;
	start();
	ck_assert_int_eq(W.rs->state, RAS_UP);
	uint64_t up = W.rs->up_ms;
	ck_assert_uint_eq(ras_session_deadline(W.rs) <= up + 60000, true);
	advance(30000);
	client_ping(W.sconf.local_addr); /* traffic moves the idle deadline */
	advance(45000);
	ck_assert_ptr_nonnull(W.rs);
	ck_assert_int_eq(W.rs->state, RAS_UP);
	advance(20000);
	ck_assert(W.rs == NULL || W.rs->state >= RAS_CLOSING);
	advance(10000);
	ck_assert_ptr_null(W.rs);
	ck_assert_str_eq(W.close_cause, "idle-timeout");
	ck_assert_uint_eq(W.ev_down, 1);
	/* one "disconnecting" line: the timeout does not fire again while LCP terminates */
	const char *p = strstr(W.log, "disconnecting (idle-timeout)");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(strstr(p + 1, "disconnecting (idle-timeout)"));
	world_free();
}
END_TEST

/* The idle timeout of a client that no longer answers: one disconnect, LCP gives up
 * after its Terminate-Requests, the session ends (the timeout does not fire again and
 * again while LCP terminates). */
START_TEST(idle_timeout_of_a_silent_client)
{
	world_init("u", "p");
	W.cfg->policies[0].profile.idle_timeout = 1;
	start();
	ck_assert_int_eq(W.rs->state, RAS_UP);
	W.client_gone = true;
	advance(60000 + 10000);
	ck_assert_ptr_null(W.rs);
	ck_assert_str_eq(W.close_cause, "idle-timeout");
	const char *p = strstr(W.log, "disconnecting (idle-timeout)");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(strstr(p + 1, "disconnecting"));
	world_free();
}
END_TEST

/* The client renegotiates LCP while up: authentication and admission run again, the
 * first grant's lease is given back before the second is taken, and the session is not
 * counted up twice. */
START_TEST(readmitted_after_lcp_renegotiation)
{
	world_init("u", "p");
	start();
	ck_assert_int_eq(W.rs->state, RAS_UP);
	ck_assert_uint_eq(addr_pool_clients(&W.pool), 1);
	unsigned admitted = 0;
	for (const char *p = W.log; (p = strstr(p, "admitted user=u")); p++) admitted++;
	ck_assert_uint_eq(admitted, 1);
	ppp_fsm_down(&W.c.lcp.fsm, W.now);
	ppp_fsm_up(&W.c.lcp.fsm, W.now);
	pump();
	advance(5000);
	admitted = 0;
	for (const char *p = W.log; (p = strstr(p, "admitted user=u")); p++) admitted++;
	ck_assert_uint_eq(admitted, 2); /* asked again */
	ck_assert_ptr_nonnull(W.rs);
	ck_assert_int_eq(W.rs->state, RAS_UP);
	ck_assert_uint_eq(addr_pool_clients(&W.pool), 1);
	ck_assert_uint_eq(W.ev_up, 1);
	ck_assert_uint_eq(W.env.st.sessions_up, 1);
	world_free();
}
END_TEST

START_TEST(session_timeout)
{
	world_init("u", "p");
	W.cfg->policies[0].profile.session_timeout = 2;
	start();
	ck_assert_int_eq(W.rs->state, RAS_UP);
	uint64_t up = W.rs->up_ms;
	for (int i = 0; i < 3; i++) {
		advance(30000);
		client_ping(W.sconf.local_addr);
	}
	ck_assert_int_eq(W.rs->state, RAS_UP);
	advance(up + 120000 - W.now + 1);
	ck_assert(W.rs == NULL || W.rs->state >= RAS_CLOSING);
	advance(10000);
	ck_assert_ptr_null(W.rs);
	ck_assert_str_eq(W.close_cause, "session-timeout");
	world_free();
}
END_TEST

START_TEST(pending_then_granted)
{
	world_init("u", "p");
	ECBS.authorize = e_authorize;
	W.authorize_pending = true;
	start();
	ck_assert_int_eq(W.rs->state, RAS_ADMITTING);
	ck_assert(ppp_session_admit_pending(&W.rs->ppp));
	ck_assert_uint_eq(W.authorized, 1);
	/* nothing to the peer while pending: no Success, no Failure, no new Challenge */
	unsigned before = W.rs->ppp.tx_frames;
	advance(9000);
	ck_assert_uint_eq(W.rs->ppp.tx_frames - before, 0);
	ck_assert_int_eq(W.rs->state, RAS_ADMITTING);
	ck_assert(!W.c.auth_done);
	/* the verdict arrives (the local engine stands in for the authentication server) */
	struct ras_auth_req q = {.user = "u", .method = PPP_AUTH_MSCHAPV2, .cred = PPP_CRED_OK,
		.admit = {.user = "u", .method = AUTH_MSCHAPV2, .cred = ADMIT_CRED_OK,
		          .tunnel = TUN_L2TP, .encryption = ENC_STRONGEST, .any_encryption = true,
		          .client_ip = "192.0.2.7", .server_ip = "127.0.0.1", .now = 1796198400}};
	struct ras_verdict v;
	ras_session_admit_local(W.rs, &q, &v);
	ck_assert(v.accept);
	ck_assert_int_eq(ras_session_admit_resume(find(W.rs_id), W.pending_seq + 1, &v, W.now, NULL), -1);
	uint64_t d = 0;
	ck_assert_int_eq(ras_session_admit_resume(find(W.rs_id), W.pending_seq, &v, W.now, &d), 0);
	ck_assert_uint_ne(d, 0);
	ck_assert_int_eq(W.rs->state, RAS_NETWORK);
	pump();
	ck_assert(W.c.auth_done);
	ck_assert_int_eq(W.rs->state, RAS_UP);
	ck_assert(seen(RAS_ADMITTING));
	ck_assert(W.c.ccp.mppe_on);
	/* a second verdict is too late */
	ck_assert_int_eq(ras_session_admit_resume(W.rs, W.pending_seq, &v, W.now, NULL), -1);
	ECBS.authorize = NULL;
	world_free();
}
END_TEST

/* An authentication server's verdict: the server never knew the password, the
 * authenticator response and the MPPE keys come with the verdict. */
START_TEST(pending_then_granted_with_server_keys)
{
	world_init("u", "p");
	ECBS.authorize = e_authorize;
	W.authorize_pending = true;
	W.hide_password = true;
	start();
	ck_assert_int_eq(W.rs->state, RAS_ADMITTING);
	const struct ppp_auth *a = &W.rs->ppp.auth;
	char sresp[43];
	ck_assert_int_eq(mschap2_authenticator_response("p", 1, a->nt_response, a->peer_challenge,
	                                                a->challenge, "u", 1, sresp), 0);
	uint8_t h[16], hh[16], mk[16], send[16], recv[16];
	ck_assert_int_eq(mschap_nt_password_hash("p", 1, h), 0);
	ck_assert_int_eq(mschap_hash_nt_password_hash(h, hh), 0);
	ck_assert_int_eq(mppe_master_key(hh, a->nt_response, mk), 0);
	ck_assert_int_eq(mppe_start_keys(mk, 128, true, send, recv), 0);
	struct ras_verdict v = {.accept = true, .policy = -1, .address_from_pool = true,
		.enc_allowed = 1u << ENC_STRONGEST, .mschap2_success = sresp,
		.mppe_send_key = send, .mppe_recv_key = recv};
	ck_assert_int_eq(ras_session_admit_resume(W.rs, W.pending_seq, &v, W.now, NULL), 0);
	pump();
	ck_assert(W.c.auth_done); /* the client checked the authenticator response */
	ck_assert_int_eq(W.rs->state, RAS_UP);
	ck_assert(W.rs->ppp.ccp.mppe_on);
	uint64_t echo = W.env.st.icmp_echo, errs = W.env.st.mppe_errors;
	client_ping(W.sconf.local_addr);
	ck_assert_uint_eq(W.env.st.icmp_echo, echo + 1); /* decrypted with the given keys */
	ck_assert_uint_eq(W.env.st.mppe_errors, errs);
	ECBS.authorize = NULL;
	world_free();
}
END_TEST

START_TEST(pending_then_denied)
{
	world_init("u", "p");
	ECBS.authorize = e_authorize;
	W.authorize_pending = true;
	W.close_reports_down = true;
	start();
	ck_assert_int_eq(W.rs->state, RAS_ADMITTING);
	struct ras_verdict v = {.accept = false, .win_error = 649, .reason = "no-dialin-permission",
		.message = "no dial-in permission", .policy = -1};
	ck_assert_int_eq(ras_session_admit_resume(W.rs, W.pending_seq, &v, W.now, NULL), 0);
	note_state();
	pump();
	advance(10000);
	/* the peer's Failure packet carried E=649, which is what the client reports */
	ck_assert(W.c_finished);
	ck_assert_uint_eq(W.c_win_error, 649);
	ck_assert_ptr_null(W.rs);
	ck_assert(!seen(RAS_UP));
	ck_assert_uint_eq(W.ev_up, 0);
	ck_assert_uint_eq(W.ev_down, 0);
	ck_assert_uint_eq(W.ev_dead, 1);
	ck_assert_str_eq(W.close_cause, "rejected-649");
	ck_assert_uint_eq(W.env.st.sessions_rejected, 1);
	ECBS.authorize = NULL;
	world_free();
}
END_TEST

START_TEST(pap_pending_then_denied_carries_the_error_in_the_text)
{
	world_init("u", "p");
	/* a server speaking PAP alone */
	W.sconf.auth_methods = PPP_AUTH_BIT(PPP_AUTH_PAP);
	W.sconf.auth_pref[0] = PPP_AUTH_PAP;
	W.sconf.auth_pref[1] = PPP_AUTH_NONE;
	W.cconf.auth_methods = PPP_AUTH_BIT(PPP_AUTH_PAP);
	ras_session_free(W.rs);
	ck_assert_int_eq(ras_session_init(W.rs, &W.env, &MOCK, W.rs_id, W.now), 0);
	ECBS.authorize = e_authorize;
	W.authorize_pending = true;
	start();
	ck_assert_int_eq(W.rs->state, RAS_ADMITTING);
	/* the client's retransmitted Authenticate-Requests get no answer while pending */
	unsigned before = W.rs->ppp.tx_frames;
	advance(7000);
	ck_assert_uint_gt(W.rs->ppp.rx_frames, 2);
	ck_assert_uint_eq(W.rs->ppp.tx_frames, before);
	struct ras_verdict v = {.accept = false, .win_error = 649, .reason = "no-dialin-permission",
		.message = "no dial-in permission", .policy = -1};
	W.to_client.n = 0;
	ck_assert_int_eq(ras_session_admit_resume(W.rs, W.pending_seq, &v, W.now, NULL), 0);
	ck_assert_uint_ge(W.to_client.n, 1);
	struct ppp_msg m;
	struct diag_err err;
	ck_assert_int_eq(ppp_decode(W.to_client.f[0].b, W.to_client.f[0].len, &m, &err), 0);
	ck_assert_int_eq(m.kind, PPP_KIND_PAP);
	ck_assert_int_eq(m.pap.code, PAP_AUTH_NAK);
	ck_assert_int_ge((int)m.pap.msg_len, 6);
	ck_assert_int_eq(memcmp(m.pap.msg, "E=649 ", 6), 0);
	pump();
	advance(10000);
	ck_assert_ptr_null(W.rs);
	ECBS.authorize = NULL;
	world_free();
}
END_TEST

/* A verdict that accepts credentials the server could not check (it knows no password for
 * the user) and that proves nothing itself is still a rejection: PAP Nak with 691. */
START_TEST(pap_pending_accept_of_unchecked_credentials_is_refused)
{
	world_init("u", "p");
	W.sconf.auth_methods = PPP_AUTH_BIT(PPP_AUTH_PAP);
	W.sconf.auth_pref[0] = PPP_AUTH_PAP;
	W.sconf.auth_pref[1] = PPP_AUTH_NONE;
	W.cconf.auth_methods = PPP_AUTH_BIT(PPP_AUTH_PAP);
	ras_session_free(W.rs);
	ck_assert_int_eq(ras_session_init(W.rs, &W.env, &MOCK, W.rs_id, W.now), 0);
	ECBS.authorize = e_authorize;
	W.authorize_pending = true;
	W.hide_password = true;
	start();
	ck_assert_int_eq(W.rs->state, RAS_ADMITTING);
	struct ras_verdict v = {.accept = true, .policy = -1, .address_from_pool = true,
		.enc_allowed = 1u << ENC_NONE};
	W.to_client.n = 0;
	ck_assert_int_eq(ras_session_admit_resume(W.rs, W.pending_seq, &v, W.now, NULL), 0);
	ck_assert_uint_ge(W.to_client.n, 1);
	struct ppp_msg m;
	struct diag_err err;
	ck_assert_int_eq(ppp_decode(W.to_client.f[0].b, W.to_client.f[0].len, &m, &err), 0);
	ck_assert_int_eq(m.kind, PPP_KIND_PAP);
	ck_assert_int_eq(m.pap.code, PAP_AUTH_NAK);
	note_state();
	pump();
	advance(10000);
	ck_assert(!seen(RAS_UP));
	ck_assert_uint_eq(W.ev_up, 0);
	ck_assert_uint_eq(W.env.st.sessions_up, 0);
	ECBS.authorize = NULL;
	world_free();
}
END_TEST

/* A RADIUS Access-Accept for PAP: the server knows no password, the authentication
 * server checked the one the client sent (kept for it while the verdict is pending) and
 * says so with server_checked: the session is admitted. The same mark in a verdict given
 * at once (not from an authentication server) admits nothing. */
static enum ras_admit_rc e_authorize_checked_now(void *ctx, struct ras_session *rs,
                                                 const struct ras_auth_req *q,
                                                 struct ras_verdict *v)
{
	(void)ctx;
	(void)rs;
	(void)q;
	W.authorized++;
	*v = (struct ras_verdict){.accept = true, .policy = -1, .address_from_pool = true,
		.enc_allowed = 1u << ENC_NONE, .server_checked = true};
	return RAS_ADMIT_NOW;
}

static void pap_only(void)
{
	W.sconf.auth_methods = PPP_AUTH_BIT(PPP_AUTH_PAP);
	W.sconf.auth_pref[0] = PPP_AUTH_PAP;
	W.sconf.auth_pref[1] = PPP_AUTH_NONE;
	W.cconf.auth_methods = PPP_AUTH_BIT(PPP_AUTH_PAP);
	ras_session_free(W.rs);
	ck_assert_int_eq(ras_session_init(W.rs, &W.env, &MOCK, W.rs_id, W.now), 0);
}

START_TEST(pap_pending_accept_checked_by_the_server)
{
	world_init("u", "p");
	pap_only();
	ECBS.authorize = e_authorize;
	W.authorize_pending = true;
	W.hide_password = true;
	start();
	ck_assert_int_eq(W.rs->state, RAS_ADMITTING);
	/* the authentication server was given the password as the client sent it, and the
	 * authenticator kept nothing of it */
	ck_assert_uint_eq(W.given_len, 1);
	ck_assert_int_eq(W.given[0], 'p');
	ck_assert_ptr_null(W.rs->ppp.auth.given);
	struct ras_verdict v = {.accept = true, .policy = -1, .address_from_pool = true,
		.enc_allowed = 1u << ENC_NONE, .server_checked = true};
	W.to_client.n = 0;
	ck_assert_int_eq(ras_session_admit_resume(W.rs, W.pending_seq, &v, W.now, NULL), 0);
	ck_assert_uint_ge(W.to_client.n, 1);
	struct ppp_msg m;
	struct diag_err err;
	ck_assert_int_eq(ppp_decode(W.to_client.f[0].b, W.to_client.f[0].len, &m, &err), 0);
	ck_assert_int_eq(m.kind, PPP_KIND_PAP);
	ck_assert_int_eq(m.pap.code, PAP_AUTH_ACK);
	pump();
	ck_assert_int_eq(W.rs->state, RAS_UP);
	ECBS.authorize = NULL;
	world_free();
}
END_TEST

START_TEST(pap_checked_mark_in_a_verdict_given_at_once_is_ignored)
{
	world_init("u", "p");
	pap_only();
	ECBS.authorize = e_authorize_checked_now;
	W.hide_password = true;
	W.to_client.n = 0;
	start();
	ck_assert_uint_eq(W.authorized, 1);
	bool nak = false;
	for (unsigned i = 0; i < W.to_client.n; i++) {
		struct ppp_msg m;
		struct diag_err err;
		if (ppp_decode(W.to_client.f[i].b, W.to_client.f[i].len, &m, &err) == 0 &&
		    m.kind == PPP_KIND_PAP) {
			ck_assert_int_ne(m.pap.code, PAP_AUTH_ACK);
			nak = nak || m.pap.code == PAP_AUTH_NAK;
		}
	}
	note_state();
	pump();
	advance(10000);
	ck_assert(!seen(RAS_UP));
	ck_assert_uint_eq(W.env.st.sessions_up, 0);
	ECBS.authorize = NULL;
	world_free();
}
END_TEST

START_TEST(lower_closes_mid_authentication)
{
	world_init("u", "p");
	ras_session_start(W.rs, W.now);
	/* LCP with the client, then stop before the Response reaches the server */
	ppp_session_start(&W.c, W.now);
	for (int i = 0; i < 20 && W.rs->state != RAS_AUTHENTICATING; i++) {
		struct queue q = W.to_client;
		W.to_client.n = 0;
		for (unsigned k = 0; k < q.n; k++) ppp_session_input(&W.c, q.f[k].b, q.f[k].len, W.now);
		q = W.to_server;
		W.to_server.n = 0;
		for (unsigned k = 0; k < q.n; k++) ras_session_input(W.rs, q.f[k].b, q.f[k].len, W.now);
	}
	ck_assert_int_eq(W.rs->state, RAS_AUTHENTICATING);
	ras_session_lower_down(W.rs, RAS_CAUSE_LOWER, 3, 0, W.now);
	ck_assert_int_eq(W.rs->state, RAS_DEAD);
	ck_assert_str_eq(cause(), "mock-3-0");
	ck_assert_uint_eq(W.closes, 0); /* the lower layer is gone: not told again */
	ck_assert_uint_eq(W.ev_dead, 1);
	ck_assert_uint_eq(W.ev_down, 0);
	reap();
	ck_assert_ptr_null(W.rs);
	W.to_server.n = 0;
	W.to_client.n = 0;
	world_free();
}
END_TEST

START_TEST(lower_closes_mid_pending_and_the_late_verdict_is_ignored)
{
	world_init("u", "p");
	ECBS.authorize = e_authorize;
	W.authorize_pending = true;
	start();
	ck_assert_int_eq(W.rs->state, RAS_ADMITTING);
	ras_session_lower_down(W.rs, RAS_CAUSE_LOWER, 2, 6, W.now);
	ck_assert_int_eq(W.rs->state, RAS_DEAD);
	struct ras_verdict v = {.accept = true, .policy = 0, .address_from_pool = true,
		.enc_allowed = 0xf};
	/* still in memory: the dead session refuses the verdict */
	ck_assert_int_eq(ras_session_admit_resume(W.rs, W.pending_seq, &v, W.now, NULL), -1);
	ck_assert_uint_eq(W.rs->addr, 0);
	reap();
	/* freed: the late verdict finds no session (ASan watches for a stale pointer) */
	struct ras_session *rs = find(W.rs_id);
	ck_assert_ptr_null(rs);
	ck_assert_uint_eq(addr_pool_clients(&W.pool), 0);
	ECBS.authorize = NULL;
	world_free();
}
END_TEST

START_TEST(pending_outlasts_the_authentication_timeout)
{
	world_init("u", "p");
	ECBS.authorize = e_authorize;
	W.authorize_pending = true;
	W.close_reports_down = true;
	start();
	ck_assert_int_eq(W.rs->state, RAS_ADMITTING);
	struct ras_session *held = W.rs;
	uint32_t id = W.rs_id;
	advance(W.sconf.auth.timeout_ms + 1);
	/* the phase timed out: the session closed with 718 */
	ck_assert(W.rs == NULL || W.rs->state >= RAS_CLOSING);
	if (W.rs) {
		struct ras_verdict v = {.accept = true, .policy = 0, .address_from_pool = true};
		ck_assert_int_eq(ras_session_admit_resume(held, W.pending_seq, &v, W.now, NULL), -1);
	}
	advance(10000);
	ck_assert_ptr_null(find(id));
	ck_assert_uint_eq(W.close_win_error, PPP_WINERR_PPP_TIMEOUT);
	ck_assert_str_eq(W.close_cause, "error-718");
	ECBS.authorize = NULL;
	world_free();
}
END_TEST

START_TEST(rejected_by_policy)
{
	world_init("d", "p");
	W.close_reports_down = true;
	start();
	advance(10000);
	ck_assert_ptr_null(W.rs);
	ck_assert(W.c_finished);
	ck_assert_uint_eq(W.c_win_error, 649);
	ck_assert_str_eq(W.close_cause, "rejected-649");
	ck_assert_ptr_nonnull(strstr(W.log, "session 42 rejected user=d method=MS-CHAPv2 error=649 "
	                                    "reason=no-dialin-permission"));
	world_free();
}
END_TEST

START_TEST(encryption_check_fails)
{
	world_init("u", "p");
	/* the profile wants MPPE; the client does not do CCP at all */
	W.cfg->policies[0].profile.enc_mask = 1u << ENC_STRONGEST;
	W.cconf.mppe_levels = 0;
	W.close_reports_down = true;
	start();
	advance(10000);
	ck_assert_ptr_null(W.rs);
	ck_assert_uint_eq(W.ev_up, 1); /* came up, then the check ended it in the same call */
	ck_assert_str_eq(W.close_cause, "encryption-not-allowed");
	ck_assert_ptr_nonnull(strstr(W.log, "the client shows error 743"));
	ck_assert_uint_eq(W.ev_down, 1);
	world_free();
}
END_TEST

START_TEST(lower_closes_when_up_and_on_abort)
{
	for (int way = 0; way < 2; way++) {
		world_init("u", "p");
		start();
		ck_assert_int_eq(W.rs->state, RAS_UP);
		ck_assert_uint_eq(addr_pool_clients(&W.pool), 1);
		if (way == 0) ras_session_lower_down(W.rs, RAS_CAUSE_LOWER, 1, 0, W.now);
		else ras_session_abort(W.rs, RAS_CAUSE_SHUTDOWN, W.now);
		ck_assert_str_eq(cause(), way == 0 ? "mock-1-0" : "server-shutdown");
		reap();
		ck_assert_ptr_null(W.rs);
		ck_assert_uint_eq(W.ev_down, 1);
		ck_assert_uint_eq(addr_pool_clients(&W.pool), 0);
		W.to_client.n = W.to_server.n = 0;
		world_free();
	}
}
END_TEST

START_TEST(close_without_the_lower_reporting_back)
{
	/* a lower layer whose close does not call back still ends the session */
	world_init("u", "p");
	start();
	ras_session_disconnect(W.rs, RAS_CAUSE_ADMIN, W.now);
	pump();
	advance(10000);
	ck_assert_ptr_null(W.rs);
	ck_assert_uint_eq(W.closes, 1);
	ck_assert_uint_eq(addr_pool_clients(&W.pool), 0);
	world_free();
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(tok_name(ras_state_names, RAS_ADMITTING), "admitting");
	ck_assert_int_eq(ras_mppe_level(MPPE_BIT_S | MPPE_BIT_L), ENC_STRONGEST);
	ck_assert_int_eq(ras_mppe_level(MPPE_BIT_M), ENC_STRONG);
	ck_assert_int_eq(ras_mppe_level(MPPE_BIT_L | MPPE_BIT_H), ENC_BASIC);
	ck_assert_int_eq(ras_mppe_level(MPPE_BIT_H), ENC_NONE);
	/* the live check answers with the policy evaluator's errors */
	ck_assert_int_eq(policy_encryption_error(1u << ENC_STRONGEST, ENC_NONE), 743);
	ck_assert_int_eq(policy_encryption_error(1u << ENC_STRONGEST, ENC_BASIC), 741);
	ck_assert_int_eq(policy_encryption_error(1u << ENC_BASIC, ENC_STRONGEST), 742);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ras_session");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, every_transition_up_and_down);
	tcase_add_test(tc, admitting_is_passed_through_when_the_verdict_is_local);
	tcase_add_test(tc, mppe_states_sized_for_the_mode);
	tcase_add_test(tc, idle_timeout);
	tcase_add_test(tc, idle_timeout_of_a_silent_client);
	tcase_add_test(tc, readmitted_after_lcp_renegotiation);
	tcase_add_test(tc, session_timeout);
	tcase_add_test(tc, pending_then_granted);
	tcase_add_test(tc, pending_then_granted_with_server_keys);
	tcase_add_test(tc, pending_then_denied);
	tcase_add_test(tc, pap_pending_then_denied_carries_the_error_in_the_text);
	tcase_add_test(tc, pap_pending_accept_of_unchecked_credentials_is_refused);
	tcase_add_test(tc, lower_closes_mid_authentication);
	tcase_add_test(tc, lower_closes_mid_pending_and_the_late_verdict_is_ignored);
	tcase_add_test(tc, pending_outlasts_the_authentication_timeout);
	tcase_add_test(tc, rejected_by_policy);
	tcase_add_test(tc, encryption_check_fails);
	tcase_add_test(tc, lower_closes_when_up_and_on_abort);
	tcase_add_test(tc, close_without_the_lower_reporting_back);
	tcase_add_test(tc, names);
	tcase_add_test(tc, pap_pending_accept_checked_by_the_server);
	tcase_add_test(tc, pap_checked_mark_in_a_verdict_given_at_once_is_ignored);
	suite_add_tcase(s, tc);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
