/* The L2TP control connection: LNS against LAC through a mock transport with injected
 * time, losses, duplicates and reordering; RFC 2661 sequence numbers, retransmission
 * backoff and retry limit, window, HELLO, tunnel authentication, hidden AVPs, port limit,
 * StopCCN and CDN result codes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "l2tp.h"
#include "l2tp/l2tp_ctrl.h"
#include "ppp/ppp_session.h"
#include "lab_vectors.h"

#define QMAX 64
#define WIRE 256

struct dgram {
	size_t len;
	uint8_t buf[1600];
	uint64_t at;
};

struct end;

struct net {
	struct end *ep[2];
	struct dgram q[2][QMAX]; /* q[i]: to end i */
	unsigned qn[2];
	uint64_t now;
	/* return 0 deliver, 1 drop, 2 deliver twice */
	int (*fault)(struct net *n, int from, const uint8_t *b, size_t len);
	unsigned sent_count[2];
	struct dgram wire[WIRE];
	int wire_from[WIRE];
	unsigned nwire;
};

struct end {
	struct net *net;
	int idx; /* 0 LNS, 1 LAC */
	struct l2tp_tunnel t;
	struct l2tp_ctrl_conf conf;
	struct l2tp_ctrl_cbs cbs;
	uint64_t rng;
	char log[16384];
	size_t log_len;
	unsigned calls_up, calls_down;
	uint16_t last_up, last_down_result, last_down_error;
	uint8_t data[256];
	size_t data_len;
	unsigned ports_used, ports_max;
};

static void e_send(void *ctx, const uint8_t *b, size_t len)
{
	struct end *e = ctx;
	struct net *n = e->net;
	n->sent_count[e->idx]++;
	if (n->nwire < WIRE) {
		n->wire[n->nwire].len = len;
		n->wire[n->nwire].at = n->now;
		memcpy(n->wire[n->nwire].buf, b, len);
		n->wire_from[n->nwire++] = e->idx;
	}
	int f = n->fault ? n->fault(n, e->idx, b, len) : 0;
	if (f == 1) return;
	int to = 1 - e->idx;
	for (int k = 0; k < (f == 2 ? 2 : 1); k++) {
		if (n->qn[to] >= QMAX) return;
		n->q[to][n->qn[to]].len = len;
		memcpy(n->q[to][n->qn[to]].buf, b, len);
		n->qn[to]++;
	}
}

static void e_event(void *ctx, enum l2tp_ev kind, uint16_t sid, const char *text)
{
	struct end *e = ctx;
	(void)sid;
	int w = snprintf(e->log + e->log_len, sizeof e->log - e->log_len, "%s: %s\n",
	                 tok_name(l2tp_ev_names, kind), text);
	if (w > 0 && (size_t)w < sizeof e->log - e->log_len) e->log_len += (size_t)w;
}

static void e_random(void *ctx, uint8_t *b, size_t n)
{
	struct end *e = ctx;
	for (size_t i = 0; i < n; i++) {
		e->rng ^= e->rng << 13;
		e->rng ^= e->rng >> 7;
		e->rng ^= e->rng << 17;
		b[i] = (uint8_t)(e->rng >> 24);
	}
}

static void e_call_up(void *ctx, uint16_t sid)
{
	struct end *e = ctx;
	e->calls_up++;
	e->last_up = sid;
}

static void e_call_down(void *ctx, uint16_t sid, uint16_t result, uint16_t error)
{
	struct end *e = ctx;
	(void)sid;
	e->calls_down++;
	e->last_down_result = result;
	e->last_down_error = error;
}

static void e_data(void *ctx, uint16_t sid, const uint8_t *p, size_t len)
{
	struct end *e = ctx;
	(void)sid;
	e->data_len = len < sizeof e->data ? len : sizeof e->data;
	memcpy(e->data, p, e->data_len);
}

static bool e_port_acquire(void *ctx)
{
	struct end *e = ctx;
	if (e->ports_used >= e->ports_max) return false;
	e->ports_used++;
	return true;
}

static void e_port_release(void *ctx)
{
	struct end *e = ctx;
	e->ports_used--;
}

static struct net N;
static struct end LNS, LAC;

static void setup(void)
{
	memset(&N, 0, sizeof N);
	struct end *es[2] = {&LNS, &LAC};
	for (int i = 0; i < 2; i++) {
		struct end *e = es[i];
		l2tp_ctrl_free(&e->t); /* static: a previous test's queue is given back */
		memset(e, 0, sizeof *e);
		e->net = &N;
		e->idx = i;
		e->rng = i ? 0x9e3779b97f4a7c15ull : 0x2545f4914f6cdd1dull;
		l2tp_ctrl_conf_default(&e->conf, i == 1);
		e->conf.host_name = i ? "lac1" : "lns";
		e->cbs.ctx = e;
		e->cbs.send = e_send;
		e->cbs.event = e_event;
		e->cbs.random = e_random;
		e->cbs.call_up = e_call_up;
		e->cbs.call_down = e_call_down;
		e->cbs.data = e_data;
		N.ep[i] = e;
	}
	LNS.ports_max = 5;
	LNS.cbs.port_acquire = e_port_acquire;
	LNS.cbs.port_release = e_port_release;
}

static void start(void)
{
	l2tp_ctrl_free(&LNS.t);
	l2tp_ctrl_free(&LAC.t);
	l2tp_ctrl_init(&LNS.t, &LNS.conf, &LNS.cbs);
	l2tp_ctrl_init(&LAC.t, &LAC.conf, &LAC.cbs);
}

static void pump(void)
{
	for (int round = 0; round < 1000 && (N.qn[0] || N.qn[1]); round++)
		for (int to = 0; to < 2; to++) {
			if (!N.qn[to]) continue;
			struct dgram d = N.q[to][0];
			memmove(&N.q[to][0], &N.q[to][1], (N.qn[to] - 1) * sizeof N.q[to][0]);
			N.qn[to]--;
			l2tp_ctrl_input(&N.ep[to]->t, d.buf, d.len, N.now);
		}
}

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

static void run(uint64_t until)
{
	pump();
	for (int round = 0; round < 10000; round++) {
		uint64_t d = min64(l2tp_ctrl_deadline(&LNS.t), l2tp_ctrl_deadline(&LAC.t));
		if (d == L2TP_NEVER || d > until) break;
		if (d > N.now) N.now = d;
		l2tp_ctrl_tick(&LNS.t, N.now);
		l2tp_ctrl_tick(&LAC.t, N.now);
		pump();
	}
	if (N.now < until) N.now = until;
}

static bool logged(const struct end *e, const char *s) { return strstr(e->log, s) != NULL; }

static int decode_wire(unsigned i, struct l2tp_msg *m)
{
	struct diag_err err;
	return l2tp_decode(N.wire[i].buf, N.wire[i].len, m, &err);
}

/* "SCCRQ(0,0)>" style transcript of the wire: type, Ns, Nr and direction. */
static void transcript(char *out, size_t cap)
{
	out[0] = 0;
	for (unsigned i = 0; i < N.nwire; i++) {
		struct l2tp_msg m;
		if (decode_wire(i, &m) != 0 || !m.is_control) continue;
		char one[40];
		snprintf(one, sizeof one, "%s%s(%u,%u) ", N.wire_from[i] ? ">" : "<",
		         m.zlb ? "ZLB" : l2tp_msg_name(m.msg_type), m.ns, m.nr);
		strncat(out, one, cap - strlen(out) - 1);
	}
}

static void establish(void)
{
	start();
	l2tp_lac_open(&LAC.t, N.now);
	run(N.now + 100);
}

START_TEST(tunnel_and_call_setup)
{
	setup();
	establish();
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_ESTABLISHED);
	ck_assert_int_eq(LAC.t.state, L2TP_TUN_ESTABLISHED);
	ck_assert_uint_eq(LNS.t.peer_tid, LAC.t.local_tid);
	ck_assert_uint_eq(LAC.t.peer_tid, LNS.t.local_tid);
	ck_assert(logged(&LNS, "tunnel-up: tunnel up peer=lac1"));
	uint16_t sid = l2tp_lac_call(&LAC.t, N.now);
	ck_assert_uint_ne(sid, 0);
	run(N.now + 100);
	ck_assert_uint_eq(LAC.calls_up, 1);
	ck_assert_uint_eq(LNS.calls_up, 1);
	ck_assert_uint_eq(LNS.ports_used, 1);
	struct l2tp_call *lc = l2tp_ctrl_call(&LNS.t, LNS.last_up);
	ck_assert_ptr_nonnull(lc);
	ck_assert_uint_eq(lc->peer_sid, sid);
	ck_assert_uint_eq(l2tp_ctrl_call(&LAC.t, sid)->peer_sid, lc->local_sid);
	/* RFC 2661 section 5.8: every message acknowledged, Ns/Nr as in its examples */
	char tr[512];
	transcript(tr, sizeof tr);
	ck_assert_str_eq(tr, ">SCCRQ(0,0) <SCCRP(0,1) >SCCCN(1,1) <ZLB(1,2) "
	                     ">ICRQ(2,1) <ICRP(1,3) >ICCN(3,2) <ZLB(2,4) ");
	/* the LNS's SCCRP names its tunnel in the header it sends to the LAC */
	struct l2tp_msg m;
	ck_assert_int_eq(decode_wire(0, &m), 0);
	ck_assert_uint_eq(m.tunnel_id, 0);
	ck_assert_int_eq(decode_wire(1, &m), 0);
	ck_assert_uint_eq(m.tunnel_id, LAC.t.local_tid);
	/* PPP rides data messages both ways */
	const uint8_t ppp[] = {0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4};
	ck_assert_int_eq(l2tp_ctrl_send_data(&LAC.t, sid, ppp, sizeof ppp), 0);
	pump();
	ck_assert_uint_eq(LNS.data_len, sizeof ppp);
	ck_assert_mem_eq(LNS.data, ppp, sizeof ppp);
	ck_assert_int_eq(l2tp_ctrl_send_data(&LNS.t, lc->local_sid, ppp, 6), 0);
	pump();
	ck_assert_uint_eq(LAC.data_len, 6);
	ck_assert_int_eq(l2tp_ctrl_send_data(&LNS.t, 999, ppp, 6), -1);
	/* every message acknowledged, nothing held: a quiet tunnel keeps no queue buffer */
	ck_assert_ptr_null(LNS.t.buf);
	ck_assert_ptr_null(LAC.t.buf);
	/* a HELLO is queued (the buffer is taken) and given back once acknowledged */
	l2tp_ctrl_tick(&LNS.t, N.now + LNS.conf.hello_ms);
	ck_assert_ptr_nonnull(LNS.t.buf);
	ck_assert_uint_eq(LNS.t.tx_count, 1);
	pump();
	ck_assert_uint_eq(LNS.t.tx_count, 0);
	ck_assert_ptr_null(LNS.t.buf);
}
END_TEST

static int drop_from_lac(struct net *n, int from, const uint8_t *b, size_t len)
{
	(void)n; (void)b; (void)len;
	return from == 1;
}

START_TEST(retransmission_backoff_and_limit)
{
	setup();
	N.fault = drop_from_lac;
	N.now = 1000000;
	start();
	l2tp_lac_open(&LAC.t, N.now);
	run(N.now + 120000);
	/* SCCRQ at 0, again after 1, 2, 4, 8, 8 s (doubling, capped at 8 s): 5 retries */
	ck_assert_uint_eq(N.nwire, 6);
	static const uint64_t at[] = {0, 1000, 3000, 7000, 15000, 23000};
	for (unsigned i = 0; i < 6; i++) {
		struct l2tp_msg m;
		ck_assert_int_eq(decode_wire(i, &m), 0);
		ck_assert_uint_eq(m.msg_type, L2TP_MSG_SCCRQ);
		ck_assert_uint_eq(m.ns, 0);
		ck_assert_uint_eq(N.wire[i].at - 1000000, at[i]);
	}
	/* and after the last one times out (8 s more), the tunnel is cleared */
	ck_assert_int_eq(LAC.t.state, L2TP_TUN_DEAD);
	ck_assert(logged(&LAC, "did not acknowledge after 5 retransmissions"));
	ck_assert_uint_eq(LAC.t.st.retransmits, 5);
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_IDLE);
}
END_TEST

START_TEST(retry_limit_tears_down_established_tunnel)
{
	setup();
	LNS.conf.hello_ms = 0; /* the LNS stays quiet, so only the LAC notices */
	LAC.conf.hello_ms = 10000; /* shorter than the 31 s the retransmissions take */
	establish();
	uint16_t sid = l2tp_lac_call(&LAC.t, N.now);
	run(N.now + 100);
	ck_assert_uint_eq(LAC.calls_up, 1);
	/* the LNS vanishes: the LAC's HELLO goes unanswered */
	N.fault = drop_from_lac;
	uint64_t t0 = N.now;
	run(t0 + 200000);
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_ESTABLISHED);
	ck_assert_int_eq(LAC.t.state, L2TP_TUN_DEAD);
	ck_assert_uint_eq(LAC.calls_down, 1);
	ck_assert(logged(&LAC, "tunnel-down"));
	/* one HELLO, retransmitted: no new HELLO piles up while it is unacknowledged */
	unsigned hellos = 0, first_ns = 0;
	for (unsigned i = 0; i < N.nwire; i++) {
		struct l2tp_msg m;
		if (N.wire_from[i] != 1 || decode_wire(i, &m) != 0 || m.msg_type != L2TP_MSG_HELLO) continue;
		if (hellos++ == 0) first_ns = m.ns;
		ck_assert_uint_eq(m.ns, first_ns);
	}
	ck_assert_uint_eq(hellos, 6);
	(void)sid;
}
END_TEST

/* About one datagram in four lost and one in ten duplicated, from a fixed seed. */
static uint32_t loss_seed;
static int lossy(struct net *n, int from, const uint8_t *b, size_t len)
{
	(void)n; (void)b; (void)len; (void)from;
	loss_seed = loss_seed * 1103515245u + 12345u;
	unsigned r = (loss_seed >> 16) % 100;
	if (r < 25) return 1;
	if (r < 35) return 2;
	return 0;
}

START_TEST(lossy_transport_still_converges)
{
	unsigned retransmits = 0, duplicates = 0;
	for (uint32_t seed = 1; seed <= 20; seed++) {
	setup();
	loss_seed = seed;
	N.fault = lossy;
	LNS.conf.hello_ms = LAC.conf.hello_ms = 0;
	establish();
	run(N.now + 30000);
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_ESTABLISHED);
	ck_assert_int_eq(LAC.t.state, L2TP_TUN_ESTABLISHED);
	for (int i = 0; i < 3; i++) l2tp_lac_call(&LAC.t, N.now);
	run(N.now + 60000);
	ck_assert_uint_eq(LAC.calls_up, 3);
	ck_assert_uint_eq(LNS.calls_up, 3);
	ck_assert_uint_eq(LNS.ports_used, 3);
	retransmits += LAC.t.st.retransmits + LNS.t.st.retransmits;
	duplicates += LAC.t.st.duplicates + LNS.t.st.duplicates;
	/* nothing left unacknowledged */
	ck_assert_uint_eq(LAC.t.tx_count, 0);
	ck_assert_uint_eq(LNS.t.tx_count, 0);
	}
	/* the losses were real: recovered by retransmission, copies recognised */
	ck_assert_uint_gt(retransmits, 20);
	ck_assert_uint_gt(duplicates, 20);
}
END_TEST

START_TEST(out_of_order_held_then_delivered)
{
	setup();
	establish();
	/* three ICRQs in flight (Ns 2, 3, 4); deliver the second before the first */
	for (int i = 0; i < 3; i++) l2tp_lac_call(&LAC.t, N.now);
	ck_assert_uint_eq(N.qn[0], 3);
	struct dgram tmp = N.q[0][0];
	N.q[0][0] = N.q[0][1];
	N.q[0][1] = tmp;
	/* feed only the reordered one first: it is held, not acknowledged */
	struct dgram first = N.q[0][0];
	memmove(&N.q[0][0], &N.q[0][1], 2 * sizeof N.q[0][0]);
	N.qn[0] = 2;
	unsigned before = N.nwire;
	l2tp_ctrl_input(&LNS.t, first.buf, first.len, N.now);
	ck_assert_uint_eq(LNS.t.st.out_of_order, 1);
	ck_assert_uint_eq(N.nwire, before); /* nothing sent: Nr cannot move */
	ck_assert_uint_eq(l2tp_ctrl_active_calls(&LNS.t), 0);
	run(N.now + 100);
	ck_assert_uint_eq(LNS.calls_up, 3);
	ck_assert_uint_eq(LAC.calls_up, 3);
	ck_assert(logged(&LNS, "ns 3 held until ns 2 arrives"));
}
END_TEST

START_TEST(receive_window_limits_in_flight)
{
	setup();
	LNS.conf.rwin = 1; /* the LNS accepts one message at a time */
	establish();
	ck_assert_uint_eq(LAC.t.peer_rwin, 1);
	for (int i = 0; i < 3; i++) ck_assert_uint_ne(l2tp_lac_call(&LAC.t, N.now), 0);
	/* only the first ICRQ may leave before it is acknowledged */
	ck_assert_uint_eq(N.qn[0], 1);
	ck_assert_uint_eq(LAC.t.tx_count, 3);
	run(N.now + 1000);
	ck_assert_uint_eq(LNS.calls_up, 3);
	ck_assert_uint_eq(LAC.t.st.retransmits, 0);
}
END_TEST

static int dup_scccn(struct net *n, int from, const uint8_t *b, size_t len)
{
	(void)n;
	struct l2tp_msg m;
	struct diag_err err;
	if (from == 1 && l2tp_decode(b, len, &m, &err) == 0 && m.msg_type == L2TP_MSG_SCCCN) return 2;
	return 0;
}

START_TEST(duplicate_acknowledged_and_dropped)
{
	setup();
	N.fault = dup_scccn;
	establish();
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_ESTABLISHED);
	ck_assert_uint_eq(LNS.t.st.duplicates, 1);
	ck_assert_uint_eq(LNS.t.st.zlb_sent, 2); /* one for the SCCCN, one for its copy */
	char *first = strstr(LNS.log, "tunnel-up");
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_null(strstr(first + 1, "tunnel-up"));
	ck_assert(logged(&LNS, "duplicate SCCCN ns 1 (expected 2), acknowledged again"));
}
END_TEST

START_TEST(hello_after_idle)
{
	setup();
	LNS.conf.hello_ms = 60000;
	LAC.conf.hello_ms = 90000;
	establish();
	uint64_t t0 = N.now;
	unsigned before = N.nwire;
	run(t0 + 59000);
	ck_assert_uint_eq(N.nwire, before);
	run(t0 + 61000);
	/* the LNS, silent for 60 s, sends HELLO; the LAC acknowledges it */
	struct l2tp_msg m;
	ck_assert_uint_ge(N.nwire, before + 2);
	ck_assert_int_eq(decode_wire(before, &m), 0);
	ck_assert_uint_eq(m.msg_type, L2TP_MSG_HELLO);
	ck_assert_int_eq(N.wire_from[before], 0);
	ck_assert_uint_ge(N.wire[before].at - t0, 59900);
	ck_assert_int_eq(decode_wire(before + 1, &m), 0);
	ck_assert(m.zlb);
	ck_assert_uint_eq(LNS.t.tx_count, 0);
}
END_TEST

static const uint8_t SECRET[] = "tunnel-secret";
static const uint8_t OTHER[] = "other-secret";

START_TEST(tunnel_authentication_success)
{
	setup();
	LNS.conf.secret = SECRET;
	LNS.conf.secret_len = sizeof SECRET - 1;
	LAC.conf.secret = SECRET;
	LAC.conf.secret_len = sizeof SECRET - 1;
	establish();
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_ESTABLISHED);
	ck_assert(logged(&LNS, "authenticated"));
	/* the SCCRP's Challenge Response is MD5(2 || secret || the SCCRQ's challenge) */
	struct l2tp_msg rq, rp;
	ck_assert_int_eq(decode_wire(0, &rq), 0);
	ck_assert_int_eq(decode_wire(1, &rp), 0);
	const struct l2tp_avp *ch = l2tp_find_avp(&rq, L2TP_AVP_CHALLENGE);
	const struct l2tp_avp *re = l2tp_find_avp(&rp, L2TP_AVP_CHALLENGE_RESPONSE);
	ck_assert_ptr_nonnull(ch);
	ck_assert_ptr_nonnull(re);
	ck_assert_uint_eq(re->val_len, 16);
	uint8_t want[16], id = 2;
	unsigned wl;
	EVP_MD_CTX *x = EVP_MD_CTX_new();
	EVP_DigestInit_ex(x, EVP_md5(), NULL);
	EVP_DigestUpdate(x, &id, 1);
	EVP_DigestUpdate(x, SECRET, sizeof SECRET - 1);
	EVP_DigestUpdate(x, ch->val, ch->val_len);
	EVP_DigestFinal_ex(x, want, &wl);
	EVP_MD_CTX_free(x);
	ck_assert_mem_eq(re->val, want, 16);
	/* and the LNS challenged back */
	ck_assert_ptr_nonnull(l2tp_find_avp(&rp, L2TP_AVP_CHALLENGE));
}
END_TEST

START_TEST(tunnel_authentication_wrong_secret)
{
	setup();
	LNS.conf.secret = SECRET;
	LNS.conf.secret_len = sizeof SECRET - 1;
	LAC.conf.secret = OTHER;
	LAC.conf.secret_len = sizeof OTHER - 1;
	establish();
	run(N.now + 5000);
	/* the LAC finds the LNS's answer wrong and stops with result 4 */
	ck_assert(logged(&LAC, "wrong Challenge Response from the LNS"));
	ck_assert_uint_eq(LAC.t.result, 4);
	ck_assert_int_eq(LAC.t.state, L2TP_TUN_DEAD);
	ck_assert_uint_eq(LNS.t.result, 4);
	ck_assert(logged(&LNS, "peer sent StopCCN result 4"));
	ck_assert_int_ne(LNS.t.state, L2TP_TUN_ESTABLISHED);
}
END_TEST

START_TEST(tunnel_authentication_missing_secret)
{
	setup();
	LNS.conf.secret = SECRET;
	LNS.conf.secret_len = sizeof SECRET - 1;
	establish();
	run(N.now + 5000);
	ck_assert(logged(&LAC, "no shared secret is configured"));
	ck_assert_uint_eq(LNS.t.result, 4);
	/* the other way round: the LAC challenges an LNS without a secret */
	setup();
	LAC.conf.secret = SECRET;
	LAC.conf.secret_len = sizeof SECRET - 1;
	establish();
	run(N.now + 5000);
	ck_assert(logged(&LNS, "no shared secret is configured"));
	ck_assert_uint_eq(LAC.t.result, 4);
}
END_TEST

START_TEST(hidden_avps)
{
	setup();
	LNS.conf.secret = SECRET;
	LNS.conf.secret_len = sizeof SECRET - 1;
	LNS.conf.hide_avps = true;
	LAC.conf.secret = SECRET;
	LAC.conf.secret_len = sizeof SECRET - 1;
	LAC.conf.hide_avps = true;
	establish();
	uint16_t sid = l2tp_lac_call(&LAC.t, N.now);
	run(N.now + 100);
	ck_assert_uint_eq(LNS.calls_up, 1);
	/* on the wire the identifiers are hidden behind a Random Vector... */
	bool seen = false;
	for (unsigned i = 0; i < N.nwire; i++) {
		struct l2tp_msg m;
		if (decode_wire(i, &m) != 0 || m.msg_type != L2TP_MSG_ICRQ) continue;
		const struct l2tp_avp *a = l2tp_find_avp(&m, L2TP_AVP_ASSIGNED_SESSION_ID);
		ck_assert_ptr_nonnull(a);
		ck_assert(a->hidden);
		ck_assert_ptr_nonnull(l2tp_find_avp(&m, L2TP_AVP_RANDOM_VECTOR));
		/* ...and the codec's unhide with the secret gives the LAC's session ID */
		const struct l2tp_avp *rv = l2tp_find_avp(&m, L2TP_AVP_RANDOM_VECTOR);
		uint8_t out[8];
		size_t n;
		struct diag_err err;
		ck_assert_int_eq(l2tp_avp_unhide(SECRET, sizeof SECRET - 1, rv->val, rv->val_len,
		                                 L2TP_AVP_ASSIGNED_SESSION_ID, a->val, a->val_len, out,
		                                 sizeof out, &n, &err), 0);
		ck_assert_uint_eq(n, 2);
		ck_assert_uint_eq(out[0] << 8 | out[1], sid);
		seen = true;
	}
	ck_assert(seen);
	/* the LNS read them: its ICRP went to the LAC's session ID */
	ck_assert_uint_eq(l2tp_ctrl_call(&LNS.t, LNS.last_up)->peer_sid, sid);
}
END_TEST

START_TEST(ports_exhausted_cdn)
{
	setup();
	LNS.ports_max = 1;
	establish();
	uint16_t a = l2tp_lac_call(&LAC.t, N.now);
	run(N.now + 100);
	uint16_t b = l2tp_lac_call(&LAC.t, N.now);
	run(N.now + 100);
	ck_assert_uint_ne(a, 0);
	ck_assert_uint_ne(b, 0);
	ck_assert_uint_eq(LNS.calls_up, 1);
	ck_assert_uint_eq(LAC.calls_up, 1);
	ck_assert_uint_eq(LAC.calls_down, 1);
	/* CDN result 4 (no facilities, temporary) error 4 (insufficient resources) */
	ck_assert_uint_eq(LAC.last_down_result, 4);
	ck_assert_uint_eq(LAC.last_down_error, 4);
	ck_assert_ptr_null(l2tp_ctrl_call(&LAC.t, b));
	ck_assert(logged(&LNS, "no L2TP port available"));
	ck_assert_uint_eq(LNS.ports_used, 1);
	/* the CDN on the wire carries the LAC's session ID in its header */
	bool seen = false;
	for (unsigned i = 0; i < N.nwire; i++) {
		struct l2tp_msg m;
		if (decode_wire(i, &m) != 0 || m.msg_type != L2TP_MSG_CDN) continue;
		ck_assert_uint_eq(m.session_id, b);
		const struct l2tp_avp *rc = l2tp_find_avp(&m, L2TP_AVP_RESULT_CODE);
		ck_assert_uint_eq(rc->v.result.result, 4);
		ck_assert_uint_eq(rc->v.result.error, 4);
		seen = true;
	}
	ck_assert(seen);
	/* the port comes back when the first call ends */
	l2tp_ctrl_call_close(&LNS.t, LNS.last_up, 3, 0, "administrative", N.now);
	run(N.now + 100);
	ck_assert_uint_eq(LNS.ports_used, 0);
	ck_assert_uint_eq(LAC.last_down_result, 3);
	ck_assert_uint_ne(l2tp_lac_call(&LAC.t, N.now), 0);
	run(N.now + 100);
	ck_assert_uint_eq(LNS.calls_up, 2);
}
END_TEST

static int drop_from_lns(struct net *n, int from, const uint8_t *b, size_t len)
{
	(void)n;
	(void)b;
	(void)len;
	return from == 0 ? 1 : 0;
}

START_TEST(full_queue_leaves_request_for_retransmission)
{
	setup();
	LNS.ports_max = 10;
	establish();
	uint16_t sids[6];
	for (int i = 0; i < 6; i++) {
		ck_assert_uint_ne(l2tp_lac_call(&LAC.t, N.now), 0);
		run(N.now + 100);
		sids[i] = LNS.last_up;
	}
	ck_assert_uint_eq(LNS.calls_up, 6);
	/* the LAC hears nothing more: six CDNs fill the LNS's queue unacknowledged */
	N.fault = drop_from_lns;
	for (int i = 0; i < 6; i++) l2tp_ctrl_call_close(&LNS.t, sids[i], 3, 0, "test", N.now);
	ck_assert_uint_eq(LNS.t.tx_count, L2TP_CTRL_TXQ);
	uint16_t nr = LNS.t.nr;
	ck_assert_uint_ne(l2tp_lac_call(&LAC.t, N.now), 0);
	pump();
	/* no room for the ICRP: the ICRQ is neither answered nor acknowledged */
	ck_assert_uint_eq(LNS.t.nr, nr);
	ck_assert(logged(&LNS, "left for its retransmission: 6 control messages await"));
	ck_assert_uint_eq(LNS.calls_up, 6);
	/* the path comes back: the CDNs are acknowledged, the ICRQ sent again and answered */
	N.fault = NULL;
	run(N.now + 20000);
	ck_assert_uint_eq(LNS.calls_up, 7);
	ck_assert_uint_eq(LAC.t.state, L2TP_TUN_ESTABLISHED);
}
END_TEST

START_TEST(cdns_wait_for_room_in_the_queue)
{
	setup();
	LNS.ports_max = 10;
	establish();
	uint16_t sids[8];
	for (int i = 0; i < 8; i++) {
		ck_assert_uint_ne(l2tp_lac_call(&LAC.t, N.now), 0);
		run(N.now + 100);
		sids[i] = LNS.last_up;
	}
	ck_assert_uint_eq(LNS.calls_up, 8);
	ck_assert_uint_eq(LNS.ports_used, 8);
	/* the LAC hears nothing for a while: 6 CDNs fill the queue, 2 must wait */
	N.fault = drop_from_lns;
	for (int i = 0; i < 8; i++) l2tp_ctrl_call_close(&LNS.t, sids[i], 3, 0, "admin", N.now);
	ck_assert_uint_eq(LNS.calls_down, 8);      /* the owner knows at once */
	ck_assert_uint_eq(LNS.ports_used, 0);      /* and the ports are free */
	ck_assert_uint_eq(LNS.t.tx_count, L2TP_CTRL_TXQ);
	ck_assert(logged(&LNS, "waits for room in the queue"));
	ck_assert_uint_eq(l2tp_ctrl_active_calls(&LNS.t), 2);
	/* the path comes back: all eight CDNs reach the LAC */
	N.fault = NULL;
	run(N.now + 30000);
	ck_assert_uint_eq(LAC.calls_down, 8);
	ck_assert_uint_eq(l2tp_ctrl_active_calls(&LNS.t), 0);
	ck_assert_uint_eq(l2tp_ctrl_active_calls(&LAC.t), 0);
	ck_assert_uint_eq(LNS.t.state, L2TP_TUN_ESTABLISHED);
}
END_TEST

START_TEST(queue_ring_wraps_in_order)
{
	setup();
	LNS.ports_max = 16;
	establish();
	uint16_t sids[16];
	for (int i = 0; i < 16; i++) {
		ck_assert_uint_ne(l2tp_lac_call(&LAC.t, N.now), 0);
		run(N.now + 100);
		sids[i] = LNS.last_up;
	}
	ck_assert_uint_eq(LNS.calls_up, 16);
	unsigned w0 = N.nwire;
	/* sixteen CDNs of about 45 bytes pass through 640 bytes of queue: it wraps */
	for (int i = 0; i < 16; i++)
		l2tp_ctrl_call_close(&LNS.t, sids[i], 3, 0, "admin reason", N.now);
	run(N.now + 30000);
	ck_assert_uint_eq(LAC.calls_down, 16);
	ck_assert_uint_eq(l2tp_ctrl_active_calls(&LNS.t), 0);
	ck_assert_uint_eq(LNS.t.tx_count, 0);
	/* every CDN on the wire decodes, and they went out in order of Ns */
	int last = -1, cdns = 0;
	size_t bytes = 0;
	for (unsigned i = w0; i < N.nwire; i++) {
		struct l2tp_msg m;
		if (N.wire_from[i] != 0) continue;
		ck_assert_int_eq(decode_wire(i, &m), 0);
		if (m.msg_type != L2TP_MSG_CDN) continue;
		ck_assert_int_gt((int)m.ns, last);
		last = m.ns;
		cdns++;
		bytes += N.wire[i].len;
	}
	ck_assert_int_ge(cdns, 16);
	ck_assert_uint_gt(bytes, L2TP_CTRL_TXBUF); /* more than the ring holds: it wrapped */
	ck_assert_uint_eq(LNS.t.st.retransmits, 0); /* nothing was lost on the way */
}
END_TEST

START_TEST(stopccn_teardown)
{
	setup();
	establish();
	l2tp_lac_call(&LAC.t, N.now);
	run(N.now + 100);
	l2tp_ctrl_stop(&LNS.t, 6, 0, "server shutting down", N.now);
	run(N.now + 100);
	ck_assert_uint_eq(LAC.t.result, 6);
	ck_assert_uint_eq(LAC.calls_down, 1);
	ck_assert_uint_eq(LNS.calls_down, 1);
	ck_assert_uint_eq(LNS.ports_used, 0);
	ck_assert(logged(&LAC, "peer sent StopCCN result 6"));
	/* the sender is done once acknowledged; the receiver holds its state a while */
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_DEAD);
	ck_assert_int_eq(LAC.t.state, L2TP_TUN_CLOSED);
	run(N.now + 31000);
	ck_assert_int_eq(LAC.t.state, L2TP_TUN_DEAD);
	/* the StopCCN carried the LNS's tunnel ID and result 6 */
	bool seen = false;
	for (unsigned i = 0; i < N.nwire; i++) {
		struct l2tp_msg m;
		if (decode_wire(i, &m) != 0 || m.msg_type != L2TP_MSG_STOPCCN) continue;
		const struct l2tp_avp *rc = l2tp_find_avp(&m, L2TP_AVP_RESULT_CODE);
		ck_assert_uint_eq(rc->v.result.result, 6);
		ck_assert_uint_eq(l2tp_find_avp(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID)->v.u, LNS.t.local_tid);
		seen = true;
	}
	ck_assert(seen);
}
END_TEST

START_TEST(unknown_mandatory_avp_clears_tunnel)
{
	setup();
	start();
	struct l2tp_msg m;
	l2tp_msg_init_ctrl(&m, L2TP_MSG_SCCRQ, 0, 0, 0, 0);
	l2tp_add_proto_version(&m, 1, 0);
	l2tp_add_bytes(&m, L2TP_AVP_HOST_NAME, "x", 1);
	l2tp_add_uint(&m, L2TP_AVP_FRAMING_CAP, 3);
	l2tp_add_uint(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID, 77);
	static const uint8_t v[2] = {1, 2};
	l2tp_add_raw(&m, 311, 99, true, false, v, 2);
	uint8_t buf[256];
	size_t n = l2tp_encode(&m, buf, sizeof buf);
	ck_assert_uint_gt(n, 0);
	l2tp_ctrl_input(&LNS.t, buf, n, 0);
	struct l2tp_msg out;
	ck_assert_int_eq(decode_wire(0, &out), 0);
	ck_assert_uint_eq(out.msg_type, L2TP_MSG_STOPCCN);
	ck_assert_uint_eq(out.tunnel_id, 77);
	const struct l2tp_avp *rc = l2tp_find_avp(&out, L2TP_AVP_RESULT_CODE);
	ck_assert_uint_eq(rc->v.result.result, 2);
	ck_assert_uint_eq(rc->v.result.error, 8);
}
END_TEST

START_TEST(bad_version_refused)
{
	setup();
	start();
	struct l2tp_msg m;
	l2tp_msg_init_ctrl(&m, L2TP_MSG_SCCRQ, 0, 0, 0, 0);
	l2tp_add_proto_version(&m, 3, 0);
	l2tp_add_bytes(&m, L2TP_AVP_HOST_NAME, "x", 1);
	l2tp_add_uint(&m, L2TP_AVP_FRAMING_CAP, 3);
	l2tp_add_uint(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID, 77);
	uint8_t buf[256];
	size_t n = l2tp_encode(&m, buf, sizeof buf);
	l2tp_ctrl_input(&LNS.t, buf, n, 0);
	struct l2tp_msg out;
	ck_assert_int_eq(decode_wire(0, &out), 0);
	ck_assert_uint_eq(out.msg_type, L2TP_MSG_STOPCCN);
	const struct l2tp_avp *rc = l2tp_find_avp(&out, L2TP_AVP_RESULT_CODE);
	ck_assert_uint_eq(rc->v.result.result, 5);
	ck_assert_uint_eq(rc->v.result.error, 0x0100); /* highest version supported: 1.0 */
}
END_TEST

START_TEST(garbage_and_strangers_ignored)
{
	setup();
	establish();
	unsigned before = N.nwire;
	uint8_t junk[] = {0xc8, 0x02, 0x00, 0x40, 0x00};
	l2tp_ctrl_input(&LNS.t, junk, sizeof junk, N.now);
	ck_assert_uint_eq(LNS.t.st.bad, 1);
	/* a control message for another tunnel */
	struct l2tp_msg m;
	l2tp_msg_init_ctrl(&m, L2TP_MSG_HELLO, (uint16_t)(LNS.t.local_tid + 1), 0, 5, 0);
	uint8_t buf[64];
	size_t n = l2tp_encode(&m, buf, sizeof buf);
	l2tp_ctrl_input(&LNS.t, buf, n, N.now);
	ck_assert_uint_eq(N.nwire, before);
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_ESTABLISHED);
	/* a message far outside the window is dropped, not acknowledged */
	l2tp_msg_init_ctrl(&m, L2TP_MSG_HELLO, LNS.t.local_tid, 0, 200, 0);
	n = l2tp_encode(&m, buf, sizeof buf);
	l2tp_ctrl_input(&LNS.t, buf, n, N.now);
	ck_assert_uint_eq(N.nwire, before);
	ck_assert_uint_eq(LNS.t.st.dropped, 2);
	ck_assert_uint_eq(l2tp_ctrl_peek_tid(buf, n), LNS.t.local_tid);
}
END_TEST

/* ---- real peer: xl2tpd 1.3.18 (lab/l2tp-xl2tpd-nopppd.pcap, UDP payloads) ---------- */
/* LAC 10.77.0.2 (tunnel 17486, session 690) and LNS 10.77.0.1 (tunnel 16213, session
 * 50599); field values checked against l2tp-xl2tpd-nopppd.pcap.tshark.txt. */
/* frame 3 */
static const uint8_t x_scccn[] = {
	0xc8, 0x02, 0x00, 0x14, 0x3f, 0x55, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
	0x80, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
};
/* frame 6 */
static const uint8_t x_icrp[] = {
	0xc8, 0x02, 0x00, 0x1c, 0x44, 0x4e, 0x02, 0xb2, 0x00, 0x01, 0x00, 0x03,
	0x80, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x80, 0x08, 0x00, 0x00,
	0x00, 0x0e, 0xc5, 0xa7,
};

/* Random bytes handed out in order, then the xorshift stream. */
static const uint8_t *fixed;
static size_t fixed_len, fixed_pos;
static void fixed_random(void *ctx, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fixed_pos < fixed_len) b[i] = fixed[fixed_pos++];
		else e_random(ctx, b + i, 1);
	}
}

static void feed(struct end *e, const uint8_t *b, size_t n) { l2tp_ctrl_input(&e->t, b, n, N.now); }

START_TEST(lns_answers_xl2tpd_lac)
{
	setup();
	/* make the LNS draw the identifiers the real LNS drew: tunnel 16213, session 50599 */
	static const uint8_t ids[] = {0x3f, 0x55, 0xc5, 0xa7};
	fixed = ids;
	fixed_len = sizeof ids;
	fixed_pos = 0;
	LNS.cbs.random = fixed_random;
	start();
	feed(&LNS, lab_l2tp_sccrq, sizeof lab_l2tp_sccrq);
	ck_assert_uint_eq(LNS.t.peer_tid, 17486);
	ck_assert_str_eq(LNS.t.peer_host, "vnet-lac");
	feed(&LNS, x_scccn, sizeof x_scccn);
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_ESTABLISHED);
	feed(&LNS, lab_l2tp_icrq, sizeof lab_l2tp_icrq);
	feed(&LNS, lab_l2tp_iccn, sizeof lab_l2tp_iccn);
	ck_assert_uint_eq(LNS.calls_up, 1);
	ck_assert_uint_eq(LNS.last_up, 50599);
	ck_assert_uint_eq(l2tp_ctrl_call(&LNS.t, 50599)->peer_sid, 690);
	ck_assert_uint_eq(l2tp_ctrl_call(&LNS.t, 50599)->serial, 1);
	/* what the LNS said, in the real LNS's numbering */
	char tr[512];
	transcript(tr, sizeof tr);
	ck_assert_str_eq(tr, "<SCCRP(0,1) <ZLB(1,2) <ICRP(1,3) <ZLB(2,4) ");
	struct l2tp_msg m;
	ck_assert_int_eq(decode_wire(0, &m), 0);
	ck_assert_uint_eq(m.tunnel_id, 17486);
	ck_assert_uint_eq(l2tp_find_avp(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID)->v.u, 16213);
	ck_assert_int_eq(decode_wire(2, &m), 0);
	ck_assert_uint_eq(m.session_id, 690);
	ck_assert_uint_eq(l2tp_find_avp(&m, L2TP_AVP_ASSIGNED_SESSION_ID)->v.u, 50599);
	/* the real LAC's StopCCN (result 1, "Goodbye!") ends it; its Nr acknowledges a CDN
	 * the real LNS had sent and this one did not, which is ignored */
	feed(&LNS, lab_l2tp_stopccn, sizeof lab_l2tp_stopccn);
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_CLOSED);
	ck_assert_uint_eq(LNS.t.result, 1);
	ck_assert_uint_eq(LNS.calls_down, 1);
	ck_assert_uint_eq(LNS.ports_used, 0);
}
END_TEST

START_TEST(lac_answers_xl2tpd_lns)
{
	setup();
	/* the real LAC's identifiers: tunnel 17486, session 690, call serial 1 */
	static const uint8_t ids[] = {0x44, 0x4e, 0x02, 0xb2, 0, 0, 0, 1};
	fixed = ids;
	fixed_len = sizeof ids;
	fixed_pos = 0;
	LAC.cbs.random = fixed_random;
	start();
	l2tp_lac_open(&LAC.t, N.now);
	feed(&LAC, lab_l2tp_sccrp, sizeof lab_l2tp_sccrp);
	ck_assert_int_eq(LAC.t.state, L2TP_TUN_ESTABLISHED);
	ck_assert_uint_eq(LAC.t.peer_tid, 16213);
	ck_assert_uint_eq(l2tp_lac_call(&LAC.t, N.now), 690);
	feed(&LAC, lab_l2tp_zlb, sizeof lab_l2tp_zlb);
	feed(&LAC, x_icrp, sizeof x_icrp);
	ck_assert_uint_eq(LAC.calls_up, 1);
	ck_assert_uint_eq(l2tp_ctrl_call(&LAC.t, 690)->peer_sid, 50599);
	char tr[512];
	transcript(tr, sizeof tr);
	ck_assert_str_eq(tr, ">SCCRQ(0,0) >SCCCN(1,1) >ICRQ(2,1) >ICCN(3,2) ");
	/* the ICRP's Nr 3 acknowledged everything up to the ICRQ: only the ICCN is out */
	ck_assert_uint_eq(LAC.t.tx_count, 1);
	ck_assert_uint_eq(LAC.t.tx[LAC.t.tx_head].ns, 3);
}
END_TEST


/* ---- the whole stack: PPP inside L2TP data messages ---------------------------------- */
struct stack_end {
	struct end *e;
	struct ppp_session s;
	struct ppp_session_conf conf;
	struct ppp_session_cbs cbs;
	uint16_t sid;
	bool up, finished;
	unsigned win_error;
	char log[8192];
	size_t log_len;
};
static struct stack_end SS, SC; /* server on the LNS, client on the LAC */

static struct stack_end *stack_of(void *ctx) { return ctx == &LNS ? &SS : &SC; }

static void st_ppp_send(void *ctx, const uint8_t *f, size_t n)
{
	struct stack_end *x = ctx;
	l2tp_ctrl_send_data(&x->e->t, x->sid, f, n);
}
static void st_ppp_event(void *ctx, enum ppp_log kind, const char *text)
{
	struct stack_end *x = ctx;
	int w = snprintf(x->log + x->log_len, sizeof x->log - x->log_len, "%s: %s\n",
	                 tok_name(ppp_log_names, kind), text);
	if (w > 0 && (size_t)w < sizeof x->log - x->log_len) x->log_len += (size_t)w;
}
static void st_ppp_random(void *ctx, uint8_t *b, size_t n)
{
	struct stack_end *x = ctx;
	e_random(x->e, b, n);
}
static int st_password(void *ctx, const char *user, char *buf, size_t cap)
{
	(void)ctx;
	if (strcmp(user, "bob") && strcmp(user, "carol")) return -1;
	snprintf(buf, cap, "secret");
	return 6;
}
static struct ppp_admit st_admit(void *ctx, const char *user, enum ppp_auth_method m,
                                 enum ppp_cred cred)
{
	(void)ctx; (void)m;
	struct ppp_admit v = {cred == PPP_CRED_OK && strcmp(user, "carol") != 0, 0, NULL, false};
	if (!v.accept) v.win_error = cred == PPP_CRED_OK ? 649 : 691;
	return v;
}
static uint32_t st_alloc(void *ctx, uint32_t want) { (void)ctx; (void)want; return 0x0a000005; }
static void st_finished(void *ctx, unsigned err, const char *why)
{
	struct stack_end *x = ctx;
	(void)why;
	x->finished = true;
	x->win_error = err;
	/* the server clears a call whose PPP was refused with a CDN "administrative" */
	if (x == &SS && x->e->t.state == L2TP_TUN_ESTABLISHED)
		l2tp_ctrl_call_close(&x->e->t, x->sid, L2TP_CDN_ADMIN, 0, why, N.now);
}
static void st_call_up(void *ctx, uint16_t sid)
{
	struct stack_end *x = stack_of(ctx);
	e_call_up(ctx, sid);
	x->sid = sid;
	x->up = true;
	ppp_session_free(&x->s);
	ppp_session_init(&x->s, &x->conf, &x->cbs);
	ppp_session_start(&x->s, N.now);
}
static void st_data(void *ctx, uint16_t sid, const uint8_t *p, size_t n)
{
	struct stack_end *x = stack_of(ctx);
	(void)sid;
	if (x->up) ppp_session_input(&x->s, p, n, N.now);
}
static void st_call_down(void *ctx, uint16_t sid, uint16_t result, uint16_t error)
{
	struct stack_end *x = stack_of(ctx);
	e_call_down(ctx, sid, result, error);
	if (x->up && !x->finished) ppp_session_lower_down(&x->s, N.now);
	x->up = false;
}

static void stack_setup(const char *user)
{
	setup();
	struct stack_end *xs[2] = {&SS, &SC};
	for (int i = 0; i < 2; i++) {
		struct stack_end *x = xs[i];
		ppp_session_free(&x->s);
		memset(x, 0, sizeof *x);
		x->e = i ? &LAC : &LNS;
		ppp_session_conf_default(&x->conf, i == 0);
		x->cbs.ctx = x;
		x->cbs.send = st_ppp_send;
		x->cbs.event = st_ppp_event;
		x->cbs.random = st_ppp_random;
		x->cbs.password = st_password;
		x->cbs.admit = st_admit;
		x->cbs.addr_alloc = st_alloc;
		x->cbs.finished = st_finished;
		x->e->cbs.call_up = st_call_up;
		x->e->cbs.data = st_data;
		x->e->cbs.call_down = st_call_down;
	}
	SS.conf.local_addr = 0x0a000001;
	SC.conf.auth.name = user;
	SC.conf.auth.password = "secret";
}

static uint64_t stack_deadline(void)
{
	uint64_t d = min64(l2tp_ctrl_deadline(&LNS.t), l2tp_ctrl_deadline(&LAC.t));
	if (SS.up) d = min64(d, ppp_session_deadline(&SS.s));
	if (SC.up) d = min64(d, ppp_session_deadline(&SC.s));
	return d;
}

static void stack_run(uint64_t until)
{
	pump();
	for (int round = 0; round < 10000; round++) {
		uint64_t d = stack_deadline();
		if (d == L2TP_NEVER || d > until) break;
		if (d > N.now) N.now = d;
		l2tp_ctrl_tick(&LNS.t, N.now);
		l2tp_ctrl_tick(&LAC.t, N.now);
		if (SS.up) ppp_session_tick(&SS.s, N.now);
		if (SC.up) ppp_session_tick(&SC.s, N.now);
		pump();
	}
	if (N.now < until) N.now = until;
}

START_TEST(ppp_over_l2tp)
{
	stack_setup("bob");
	LNS.conf.hello_ms = LAC.conf.hello_ms = 0;
	loss_seed = 7;
	N.fault = lossy; /* control and data both suffer */
	establish();
	stack_run(N.now + 30000);
	ck_assert_uint_ne(l2tp_lac_call(&LAC.t, N.now), 0);
	stack_run(N.now + 120000);
	ck_assert(SS.up && SC.up);
	ck_assert(ppp_fsm_opened(&SS.s.ipcp.fsm));
	ck_assert(ppp_fsm_opened(&SC.s.ipcp.fsm));
	ck_assert_ptr_nonnull(strstr(SS.log, "auth ok user=bob method=MS-CHAPv2"));
	ck_assert_ptr_nonnull(strstr(SS.log, "ipcp address 10.0.0.5"));
	ck_assert_uint_eq(SC.s.ipcp.my_addr, 0x0a000005);
}
END_TEST

START_TEST(policy_reject_clears_call_with_cdn)
{
	stack_setup("carol");
	establish();
	l2tp_lac_call(&LAC.t, N.now);
	stack_run(N.now + 60000);
	/* PPP ends with 649 on both sides, then the LNS clears the call: CDN result 3 */
	ck_assert(SS.finished && SC.finished);
	ck_assert_uint_eq(SS.win_error, 649);
	ck_assert_uint_eq(SC.win_error, 649);
	ck_assert_uint_eq(LAC.calls_down, 1);
	ck_assert_uint_eq(LAC.last_down_result, 3);
	ck_assert_uint_eq(LNS.ports_used, 0);
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_ESTABLISHED);
}
END_TEST

START_TEST(wen_noted)
{
	setup();
	establish();
	l2tp_lac_call(&LAC.t, N.now);
	run(N.now + 100);
	struct l2tp_call *c = l2tp_ctrl_call(&LNS.t, LNS.last_up);
	struct l2tp_msg m;
	l2tp_msg_init_ctrl(&m, L2TP_MSG_WEN, LNS.t.local_tid, c->local_sid, LNS.t.nr, LNS.t.ns);
	static const uint32_t counts[6] = {1, 2, 3, 4, 5, 6};
	l2tp_add_call_errors(&m, counts);
	uint8_t buf[128];
	size_t n = l2tp_encode(&m, buf, sizeof buf);
	l2tp_ctrl_input(&LNS.t, buf, n, N.now);
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_ESTABLISHED);
	ck_assert(logged(&LNS, "crc 1 framing 2 hw-overruns 3 buffer-overruns 4 timeouts 5 alignment 6"));
}
END_TEST


START_TEST(stopccn_to_tunnel_zero_during_setup)
{
	/* a LAC that cannot read our hidden Assigned Tunnel ID (as xl2tpd, which hashes
	 * the attribute type in host byte order) stops with tunnel ID 0: heard, reason kept */
	setup();
	start();
	feed(&LNS, lab_l2tp_sccrq, sizeof lab_l2tp_sccrq);
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_WAIT_CTL_CONN);
	struct l2tp_msg m;
	l2tp_msg_init_ctrl(&m, L2TP_MSG_STOPCCN, 0, 0, 1, 1);
	l2tp_add_uint(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID, 17486);
	l2tp_add_result(&m, 2, true, 6, "Invalid Hidden AVP");
	uint8_t buf[128];
	size_t n = l2tp_encode(&m, buf, sizeof buf);
	feed(&LNS, buf, n);
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_CLOSED);
	ck_assert_str_eq(LNS.t.why, "peer sent StopCCN result 2 (General error, Error Code indicates the problem) error 6: Invalid Hidden AVP");
}
END_TEST

/* An SCCRQ of each kind the LNS answers or refuses: ok, unknown mandatory AVP (vendor 0
 * and vendor-specific), bad version, a challenge without a secret, no tunnel ID. */
static size_t sccrq_variant(int kind, uint8_t *buf, size_t cap)
{
	struct l2tp_msg m;
	l2tp_msg_init_ctrl(&m, L2TP_MSG_SCCRQ, 0, 0, 0, 0);
	l2tp_add_proto_version(&m, kind == 3 ? 2 : 1, 0);
	l2tp_add_bytes(&m, L2TP_AVP_HOST_NAME, "x", 1);
	l2tp_add_uint(&m, L2TP_AVP_FRAMING_CAP, 3);
	if (kind != 5) l2tp_add_uint(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID, 77);
	static const uint8_t v[16] = {1, 2};
	if (kind == 1) l2tp_add_raw(&m, 0, 250, true, false, v, 2);
	if (kind == 2) l2tp_add_raw(&m, 311, 99, true, false, v, 2);
	if (kind == 4) l2tp_add_bytes(&m, L2TP_AVP_CHALLENGE, v, sizeof v);
	return l2tp_encode(&m, buf, cap);
}

START_TEST(owner_tunnel_id_never_changes)
{
	/* the server keys its table by the ID it gave the tunnel: no SCCRQ, however
	 * poisoned, may make the automaton pick another (a dangling slot once) */
	for (int kind = 0; kind <= 5; kind++) {
		setup();
		start();
		LNS.t.local_tid = 4321;
		uint8_t buf[256];
		size_t n = sccrq_variant(kind, buf, sizeof buf);
		ck_assert_uint_gt(n, 0);
		feed(&LNS, buf, n);
		ck_assert_msg(LNS.t.local_tid == 4321, "SCCRQ kind %d: tunnel ID %u", kind, LNS.t.local_tid);
		ck_assert_int_eq(LNS.t.state, kind == 0 ? L2TP_TUN_WAIT_CTL_CONN
		                              : kind == 5 ? L2TP_TUN_DEAD : L2TP_TUN_CLOSING);
		if (kind == 5) {
			ck_assert_uint_eq(N.nwire, 0);
			continue;
		}
		/* the answer (SCCRP or StopCCN) names the owner's ID */
		struct l2tp_msg out;
		uint16_t said = 0;
		ck_assert_int_eq(decode_wire(0, &out), 0);
		ck_assert_uint_eq(out.msg_type, kind == 0 ? L2TP_MSG_SCCRP : L2TP_MSG_STOPCCN);
		ck_assert(l2tp_ctrl_avp_u16(&LNS.t, &out, L2TP_AVP_ASSIGNED_TUNNEL_ID, &said));
		ck_assert_uint_eq(said, 4321);
		/* and later messages do not change it either: the same SCCRQ again, to tunnel 0 */
		feed(&LNS, buf, n);
		ck_assert_uint_eq(LNS.t.local_tid, 4321);
	}
	/* without an owner's choice the automaton draws one, once */
	setup();
	start();
	uint8_t buf[256];
	size_t n = sccrq_variant(1, buf, sizeof buf);
	feed(&LNS, buf, n);
	uint16_t drawn = LNS.t.local_tid;
	ck_assert_uint_ne(drawn, 0);
	feed(&LNS, buf, n);
	ck_assert_uint_eq(LNS.t.local_tid, drawn);
	/* a LAC keeps its owner's ID too */
	setup();
	start();
	LAC.t.local_tid = 999;
	l2tp_lac_open(&LAC.t, 0);
	ck_assert_uint_eq(LAC.t.local_tid, 999);
	run(N.now + 100);
	ck_assert_int_eq(LAC.t.state, L2TP_TUN_ESTABLISHED);
	ck_assert_uint_eq(LNS.t.peer_tid, 999);
}
END_TEST

START_TEST(abort_forgets_without_a_word)
{
	setup();
	establish();
	uint16_t sid = l2tp_lac_call(&LAC.t, N.now);
	ck_assert_uint_ne(sid, 0);
	run(N.now + 100);
	ck_assert_uint_eq(LNS.calls_up, 1);
	unsigned sent = N.sent_count[0];
	l2tp_ctrl_abort(&LNS.t);
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_DEAD);
	ck_assert_uint_eq(LNS.calls_down, 1);
	ck_assert_uint_eq(LNS.ports_used, 0);
	ck_assert_uint_eq(l2tp_ctrl_deadline(&LNS.t), L2TP_NEVER);
	run(N.now + 60000);
	ck_assert_uint_eq(N.sent_count[0], sent);
}
END_TEST

START_TEST(peer_text_escaped)
{
	/* a LAC's host name and StopCCN message are the peer's bytes: they reach the log and
	 * `show tunnels` escaped, as the backslash itself is */
	setup();
	start();
	struct l2tp_msg m;
	l2tp_msg_init_ctrl(&m, L2TP_MSG_SCCRQ, 0, 0, 0, 0);
	l2tp_add_proto_version(&m, 1, 0);
	l2tp_add_bytes(&m, L2TP_AVP_HOST_NAME, "lac\n\x1b[31m\\\xff", 11);
	l2tp_add_uint(&m, L2TP_AVP_FRAMING_CAP, 3);
	l2tp_add_uint(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID, 77);
	uint8_t buf[256];
	size_t n = l2tp_encode(&m, buf, sizeof buf);
	feed(&LNS, buf, n);
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_WAIT_CTL_CONN);
	ck_assert_str_eq(LNS.t.peer_host, "lac\\x0a\\x1b[31m\\x5c\\xff");
	l2tp_msg_init_ctrl(&m, L2TP_MSG_STOPCCN, LNS.t.local_tid, 0, 1, 1);
	l2tp_add_uint(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID, 77);
	l2tp_add_result(&m, 2, true, 6, "bye\r\nforged line");
	n = l2tp_encode(&m, buf, sizeof buf);
	feed(&LNS, buf, n);
	ck_assert_int_eq(LNS.t.state, L2TP_TUN_CLOSED);
	ck_assert(strstr(LNS.t.why, "error 6: bye\\x0d\\x0aforged line"));
}
END_TEST

START_TEST(memory_per_tunnel)
{
	/* a Windows client brings its own tunnel and one call: tunnel and PPP link together
	 * stay within the server's 4 KiB per session */
	ck_assert_uint_le(sizeof(struct l2tp_tunnel) + sizeof(struct ppp_session), 4096);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("l2tp_ctrl");
	TCase *t = tcase_create("ctrl");
	tcase_add_test(t, tunnel_and_call_setup);
	tcase_add_test(t, retransmission_backoff_and_limit);
	tcase_add_test(t, retry_limit_tears_down_established_tunnel);
	tcase_add_test(t, lossy_transport_still_converges);
	tcase_add_test(t, out_of_order_held_then_delivered);
	tcase_add_test(t, receive_window_limits_in_flight);
	tcase_add_test(t, duplicate_acknowledged_and_dropped);
	tcase_add_test(t, hello_after_idle);
	tcase_add_test(t, tunnel_authentication_success);
	tcase_add_test(t, tunnel_authentication_wrong_secret);
	tcase_add_test(t, tunnel_authentication_missing_secret);
	tcase_add_test(t, hidden_avps);
	tcase_add_test(t, ports_exhausted_cdn);
	tcase_add_test(t, full_queue_leaves_request_for_retransmission);
	tcase_add_test(t, cdns_wait_for_room_in_the_queue);
	tcase_add_test(t, queue_ring_wraps_in_order);
	tcase_add_test(t, stopccn_teardown);
	tcase_add_test(t, unknown_mandatory_avp_clears_tunnel);
	tcase_add_test(t, bad_version_refused);
	tcase_add_test(t, garbage_and_strangers_ignored);
	tcase_add_test(t, lns_answers_xl2tpd_lac);
	tcase_add_test(t, lac_answers_xl2tpd_lns);
	tcase_add_test(t, ppp_over_l2tp);
	tcase_add_test(t, policy_reject_clears_call_with_cdn);
	tcase_add_test(t, wen_noted);
	tcase_add_test(t, stopccn_to_tunnel_zero_during_setup);
	tcase_add_test(t, owner_tunnel_id_never_changes);
	tcase_add_test(t, abort_forgets_without_a_word);
	tcase_add_test(t, memory_per_tunnel);
	tcase_add_test(t, peer_text_escaped);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
