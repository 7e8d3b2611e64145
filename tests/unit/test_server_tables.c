/* The server's tunnel and session tables driven through srv_datagram, without sockets:
 * tunnel IDs stay the server's (a poisoned SCCRQ once left a slot pointing at a freed
 * tunnel), the half-open table is shared fairly and evicts under a flood instead of
 * refusing a newcomer, SCCRQs the automaton does not take hold no slot, and under a long
 * run of valid, mutated and random datagrams the tables never disagree with the automata
 * (srv_check_tables after every datagram). */
#include <arpa/inet.h>
#include <check.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l2tp.h"
#include "server.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t rnd32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static struct srv *make(const char *limits)
{
	char conf[1024];
	snprintf(conf, sizeof conf,
	         "{\"server\": {\"auth_methods\": [\"pap\"], \"encryption\": [\"none\"],"
	         " \"ports\": {\"l2tp\": 32}, \"address_assignment\": \"pool\","
	         " \"pool\": [{\"start\": \"10.9.0.1\", \"end\": \"10.9.0.60\"}]},"
	         " \"policies\": [], \"users\": [],"
	         " \"serve\": {\"l2tp\": {\"retries\": 1, \"rto_max\": 1}, \"limits\": {%s}}}", limits);
	struct server_opts o = {.quiet = true};
	struct srv *s = srv_create(&o, conf, strlen(conf));
	ck_assert_ptr_nonnull(s);
	return s;
}

/* 127.0.a.b:port */
static struct sockaddr_storage peer(unsigned a, unsigned b, unsigned port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(0x7f000000u | a << 8 | b);
	s4->sin_port = htons((uint16_t)port);
	return ss;
}

static void tables_ok(const struct srv *s, int line)
{
	char why[200];
	if (srv_check_tables(s, why, sizeof why) != 0) ck_abort_msg("line %d: %s", line, why);
}
#define TABLES_OK(s) tables_ok(s, __LINE__)

static void feed(struct srv *s, const struct sockaddr_storage *p, const uint8_t *b, size_t n)
{
	srv_datagram(s, p, sizeof(struct sockaddr_in), b, n);
}

static void feed_msg(struct srv *s, const struct sockaddr_storage *p, const struct l2tp_msg *m)
{
	uint8_t buf[512];
	size_t n = l2tp_encode(m, buf, sizeof buf);
	ck_assert_uint_gt(n, 0);
	feed(s, p, buf, n);
}

/* kind 0 a valid SCCRQ, 1 one with an unknown mandatory AVP */
static void sccrq(struct srv *s, const struct sockaddr_storage *p, uint16_t ptid, int kind)
{
	struct l2tp_msg m;
	l2tp_msg_init_ctrl(&m, L2TP_MSG_SCCRQ, 0, 0, 0, 0);
	l2tp_add_proto_version(&m, 1, 0);
	l2tp_add_bytes(&m, L2TP_AVP_HOST_NAME, "t", 1);
	l2tp_add_uint(&m, L2TP_AVP_FRAMING_CAP, 3);
	l2tp_add_uint(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID, ptid);
	static const uint8_t v[2] = {1, 2};
	if (kind == 1) l2tp_add_raw(&m, 0, 250, true, false, v, 2);
	feed_msg(s, p, &m);
}

static struct srv_l2tp_tunnel *tunnel_of(const struct srv *s, const struct sockaddr_storage *p)
{
	for (unsigned i = 1; i < 65536; i++)
		if (s->tunnels[i] && memcmp(&s->tunnels[i]->peer, p, sizeof(struct sockaddr_in)) == 0)
			return s->tunnels[i];
	return NULL;
}

START_TEST(poisoned_sccrq_keeps_the_tunnel_id)
{
	struct srv *s = make("\"half_open\": 1000, \"new_tunnels_per_source\": 0");
	struct sockaddr_storage p = peer(0, 2, 1701);
	for (unsigned i = 0; i < 40; i++) {
		sccrq(s, &p, (uint16_t)(100 + i), 1);
		TABLES_OK(s);
	}
	ck_assert_uint_eq(s->ntunnels, 40);
	/* set-ups that failed are still half open while they say their StopCCN */
	ck_assert_uint_eq(s->nhalf_open, 40);
	/* the peer acknowledges each StopCCN, on the ID the StopCCN named: every tunnel ends
	 * and its slot is empty again */
	for (unsigned i = 1; i < 65536; i++) {
		struct srv_l2tp_tunnel *t = s->tunnels[i];
		if (!t) continue;
		ck_assert_int_eq(t->t.state, L2TP_TUN_CLOSING);
		struct l2tp_msg m;
		l2tp_msg_init_ctrl(&m, L2TP_MSG_ZLB, (uint16_t)i, 0, 1, 1);
		feed_msg(s, &p, &m);
		TABLES_OK(s);
	}
	ck_assert_uint_eq(s->ntunnels, 0);
	ck_assert_uint_eq(s->nhalf_open, 0);
	ck_assert_uint_eq(s->st.tunnels_closed, 40);
	/* nothing is left behind: a datagram to every ID from that address finds nothing */
	uint64_t unknown = s->st.unknown_tunnel;
	for (unsigned i = 1; i < 65536; i++) {
		ck_assert_ptr_null(s->tunnels[i]);
		struct l2tp_msg m;
		l2tp_msg_init_ctrl(&m, L2TP_MSG_STOPCCN, (uint16_t)i, 0, 0, 0);
		l2tp_add_uint(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID, 7);
		l2tp_add_result(&m, 1, false, 0, NULL);
		feed_msg(s, &p, &m);
	}
	ck_assert_uint_eq(s->st.unknown_tunnel, unknown + 65535);
	srv_destroy(s);
}
END_TEST

START_TEST(half_open_shared_fairly_and_evicted)
{
	/* 32 half-open slots, a share of 2 per address */
	struct srv *s = make("\"half_open\": 32, \"tunnels\": 100, \"new_tunnels_per_source\": 0");
	for (unsigned a = 0; a < 16; a++)
		for (unsigned k = 0; k < 3; k++) {
			struct sockaddr_storage p = peer(1, 10 + a, 2000 + k);
			sccrq(s, &p, (uint16_t)(1 + k), 0);
			TABLES_OK(s);
		}
	ck_assert_uint_eq(s->nhalf_open, 32);
	ck_assert_uint_eq(s->st.refused_half_open, 16); /* each address's third */
	ck_assert_uint_eq(s->st.evicted_half_open, 0);
	/* a newcomer takes the place of a tunnel of an address holding two */
	struct sockaddr_storage legit = peer(2, 1, 1701);
	sccrq(s, &legit, 4242, 0);
	TABLES_OK(s);
	struct srv_l2tp_tunnel *lt = tunnel_of(s, &legit);
	ck_assert_ptr_nonnull(lt);
	ck_assert_int_eq(lt->t.state, L2TP_TUN_WAIT_CTL_CONN);
	ck_assert_uint_eq(s->st.evicted_half_open, 1);
	ck_assert_uint_eq(s->nhalf_open, 32);
	/* the flood goes on from its 16 addresses: it evicts its own, never the newcomer */
	for (unsigned round = 0; round < 10; round++)
		for (unsigned a = 0; a < 16; a++) {
			struct sockaddr_storage p = peer(1, 10 + a, 3000 + round);
			sccrq(s, &p, (uint16_t)(10 + round), 0);
			TABLES_OK(s);
			ck_assert_ptr_eq(tunnel_of(s, &legit), lt);
		}
	ck_assert_uint_eq(s->nhalf_open, 32);
	/* its SCCCN completes the set-up and takes it out of the half-open table */
	uint16_t tid = lt->t.local_tid;
	struct l2tp_msg m;
	l2tp_msg_init_ctrl(&m, L2TP_MSG_SCCCN, tid, 0, 1, 1);
	feed_msg(s, &legit, &m);
	TABLES_OK(s);
	ck_assert_int_eq(lt->t.state, L2TP_TUN_ESTABLISHED);
	ck_assert_uint_eq(s->nhalf_open, 31);
	/* when every address holds one, the oldest goes first (FIFO) */
	unsigned before = (unsigned)s->st.evicted_half_open;
	for (unsigned a = 0; a < 64; a++) {
		struct sockaddr_storage p = peer(3, a, 1701);
		sccrq(s, &p, 5, 0);
		TABLES_OK(s);
	}
	ck_assert_uint_eq(s->nhalf_open, 32);
	ck_assert_uint_gt(s->st.evicted_half_open, before);
	for (unsigned a = 0; a < 32; a++) {
		struct sockaddr_storage p = peer(3, a, 1701);
		ck_assert_ptr_null(tunnel_of(s, &p));
	}
	for (unsigned a = 32; a < 64; a++) {
		struct sockaddr_storage p = peer(3, a, 1701);
		ck_assert_ptr_nonnull(tunnel_of(s, &p));
	}
	ck_assert_ptr_eq(s->tunnels[tid], lt);
	srv_destroy(s);
}
END_TEST

START_TEST(ipv6_share_is_per_64)
{
	/* one IPv6 site (a /64) is one source for the share: 2 of 32 here */
	struct srv *s = make("\"half_open\": 32, \"new_tunnels_per_source\": 0");
	for (unsigned k = 0; k < 4; k++) {
		struct sockaddr_storage p;
		memset(&p, 0, sizeof p);
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&p;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(1701);
		inet_pton(AF_INET6, k < 3 ? "2001:db8::1" : "2001:db8:0:1::1", &s6->sin6_addr);
		s6->sin6_addr.s6_addr[15] = (uint8_t)(k + 1); /* another host of the same /64 */
		struct l2tp_msg m;
		l2tp_msg_init_ctrl(&m, L2TP_MSG_SCCRQ, 0, 0, 0, 0);
		l2tp_add_proto_version(&m, 1, 0);
		l2tp_add_bytes(&m, L2TP_AVP_HOST_NAME, "t", 1);
		l2tp_add_uint(&m, L2TP_AVP_FRAMING_CAP, 3);
		l2tp_add_uint(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID, 50 + k);
		uint8_t buf[256];
		size_t n = l2tp_encode(&m, buf, sizeof buf);
		srv_datagram(s, &p, sizeof *s6, buf, n);
		TABLES_OK(s);
	}
	ck_assert_uint_eq(s->nhalf_open, 3);
	ck_assert_uint_eq(s->st.refused_half_open, 1);
	srv_destroy(s);
}
END_TEST

START_TEST(refused_sccrqs_hold_no_slot)
{
	struct srv *s = make("\"half_open\": 16, \"new_tunnels_per_source\": 0");
	struct sockaddr_storage p = peer(0, 3, 1701);
	/* Ns 1, and no sequence numbers at all: the automaton starts nothing */
	struct l2tp_msg m;
	l2tp_msg_init_ctrl(&m, L2TP_MSG_SCCRQ, 0, 0, 1, 0);
	l2tp_add_proto_version(&m, 1, 0);
	l2tp_add_bytes(&m, L2TP_AVP_HOST_NAME, "t", 1);
	l2tp_add_uint(&m, L2TP_AVP_FRAMING_CAP, 3);
	l2tp_add_uint(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID, 9);
	uint8_t buf[256];
	size_t n = l2tp_encode(&m, buf, sizeof buf);
	for (unsigned i = 0; i < 100; i++) feed(s, &p, buf, n);
	TABLES_OK(s);
	ck_assert_uint_eq(s->ntunnels, 0);
	ck_assert_uint_eq(s->nhalf_open, 0);
	buf[0] &= (uint8_t)~0x08; /* S bit off */
	for (unsigned i = 0; i < 100; i++) feed(s, &p, buf, n);
	TABLES_OK(s);
	ck_assert_uint_eq(s->ntunnels, 0);
	ck_assert_uint_eq(s->st.malformed, 200);
	/* a valid one still gets its tunnel */
	sccrq(s, &p, 9, 0);
	ck_assert_uint_eq(s->ntunnels, 1);
	ck_assert_uint_eq(s->nhalf_open, 1);
	TABLES_OK(s);
	srv_destroy(s);
}
END_TEST

START_TEST(half_open_has_a_deadline)
{
	/* a peer acknowledges the SCCRP and says no more: no retransmission is due, yet the
	 * tunnel may not stay half open for good */
	struct srv *s = make("\"half_open\": 16");
	struct sockaddr_storage p = peer(0, 4, 1701);
	sccrq(s, &p, 33, 0);
	struct srv_l2tp_tunnel *t = tunnel_of(s, &p);
	ck_assert_ptr_nonnull(t);
	struct l2tp_msg m;
	l2tp_msg_init_ctrl(&m, L2TP_MSG_ZLB, t->t.local_tid, 0, 1, 1);
	feed_msg(s, &p, &m);
	ck_assert_int_eq(t->t.state, L2TP_TUN_WAIT_CTL_CONN);
	ck_assert_uint_eq(l2tp_ctrl_deadline(&t->t), L2TP_NEVER);
	event_base_loop(s->base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(t->t.state, L2TP_TUN_WAIT_CTL_CONN);
	/* 31 s later (made so: the tunnel's birth moved back, its timer re-armed by the
	 * next datagram) it is cleared with a StopCCN, still counted half open */
	t->created_ms -= 31000;
	feed_msg(s, &p, &m);
	event_base_loop(s->base, EVLOOP_NONBLOCK);
	ck_assert_ptr_eq(tunnel_of(s, &p), t);
	ck_assert_int_eq(t->t.state, L2TP_TUN_CLOSING);
	ck_assert_str_eq(t->t.why, "no SCCCN within 30 s of the SCCRQ");
	ck_assert_uint_eq(s->nhalf_open, 1);
	TABLES_OK(s);
	srv_destroy(s);
}
END_TEST

/* ---- a long random run: valid exchanges, mutations and noise from 8 peers ----------- */
struct fake {
	struct sockaddr_storage addr;
	uint16_t ptid, ns;   /* our tunnel ID as the peer, the peer's next Ns */
	uint16_t psid;
};

static size_t build(struct srv *s, struct fake *f, uint8_t *buf, size_t cap)
{
	struct srv_l2tp_tunnel *t = tunnel_of(s, &f->addr);
	uint16_t tid = t ? t->t.local_tid : 0;
	uint16_t nr = t ? t->t.ns : 0;
	struct l2tp_msg m;
	unsigned what = rnd32() % 12;
	if (!t || what == 0) {
		f->ptid = (uint16_t)(rnd32() | 1);
		f->ns = 1;
		l2tp_msg_init_ctrl(&m, L2TP_MSG_SCCRQ, 0, 0, 0, 0);
		l2tp_add_proto_version(&m, 1, 0);
		l2tp_add_bytes(&m, L2TP_AVP_HOST_NAME, "r", 1);
		l2tp_add_uint(&m, L2TP_AVP_FRAMING_CAP, 3);
		l2tp_add_uint(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID, f->ptid);
		static const uint8_t v[2] = {1, 2};
		if (rnd32() % 4 == 0) l2tp_add_raw(&m, 0, 250, true, false, v, 2);
		return l2tp_encode(&m, buf, cap);
	}
	/* mostly in step with the server (the Ns it expects, a call waiting for its ICCN),
	 * now and then not */
	if (rnd32() % 8) f->ns = t->t.nr;
	uint16_t sid = 0;
	for (unsigned i = 0; i < L2TP_CTRL_CALLS; i++)
		if (t->t.calls[i].state != L2TP_CALL_FREE &&
		    (t->t.calls[i].state == L2TP_CALL_WAIT_CONNECT || rnd32() % 2))
			sid = t->t.calls[i].local_sid;
	switch (what) {
	case 1: l2tp_msg_init_ctrl(&m, L2TP_MSG_SCCCN, tid, 0, f->ns++, nr); break;
	case 2: case 3:
		l2tp_msg_init_ctrl(&m, L2TP_MSG_ICRQ, tid, 0, f->ns++, nr);
		f->psid = (uint16_t)(rnd32() | 1);
		l2tp_add_uint(&m, L2TP_AVP_ASSIGNED_SESSION_ID, f->psid);
		l2tp_add_uint(&m, L2TP_AVP_CALL_SERIAL, rnd32());
		break;
	case 4: case 5:
		l2tp_msg_init_ctrl(&m, L2TP_MSG_ICCN, tid, sid, f->ns++, nr);
		l2tp_add_uint(&m, L2TP_AVP_TX_CONNECT_SPEED, 10000000);
		l2tp_add_uint(&m, L2TP_AVP_FRAMING_TYPE, 1);
		break;
	case 6:
		l2tp_msg_init_ctrl(&m, L2TP_MSG_CDN, tid, sid, f->ns++, nr);
		l2tp_add_result(&m, 1, false, 0, NULL);
		l2tp_add_uint(&m, L2TP_AVP_ASSIGNED_SESSION_ID, f->psid);
		break;
	case 7: l2tp_msg_init_ctrl(&m, L2TP_MSG_HELLO, tid, 0, f->ns++, nr); break;
	case 8:
		l2tp_msg_init_ctrl(&m, L2TP_MSG_STOPCCN, tid, 0, f->ns++, nr);
		l2tp_add_uint(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID, f->ptid);
		l2tp_add_result(&m, 1, false, 0, NULL);
		break;
	case 9: l2tp_msg_init_ctrl(&m, L2TP_MSG_ZLB, tid, 0, f->ns, nr); break;
	default: {
		/* PPP: an LCP Configure-Request, or any bytes */
		static uint8_t ppp[64] = {0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04};
		size_t plen = 8;
		if (rnd32() % 2) {
			plen = 2 + rnd32() % 60;
			for (size_t i = 2; i < plen; i++) ppp[i] = (uint8_t)rnd32();
		}
		l2tp_msg_init_data(&m, tid, sid, false, 0, 0, ppp, plen);
		break;
	}
	}
	return l2tp_encode(&m, buf, cap);
}

START_TEST(random_datagrams_keep_the_tables_consistent)
{
	struct srv *s = make("\"half_open\": 4, \"tunnels\": 8, \"sessions\": 12,"
	                     " \"new_tunnels_per_source\": 0");
	/* timers due at once: retransmissions after 1 ms, no hold after the end, so that the
	 * event loop run now and then ends tunnels and the run goes on opening new ones */
	s->l2tp_conf.rto_initial_ms = 1;
	s->l2tp_conf.rto_max_ms = 2;
	s->l2tp_conf.hold_ms = 1;
	struct fake f[8];
	memset(f, 0, sizeof f);
	for (unsigned i = 0; i < 8; i++) f[i].addr = peer(4, (unsigned)(i % 5), 1701 + i);
	for (unsigned k = 0; k < 30000; k++) {
		struct fake *p = &f[rnd32() % 8];
		uint8_t buf[512];
		size_t n = build(s, p, buf, sizeof buf);
		ck_assert_uint_gt(n, 0);
		unsigned how = rnd32() % 8;
		if (how == 0) {
			/* flip bytes */
			for (unsigned j = 0, c = 1 + rnd32() % 4; j < c; j++) buf[rnd32() % n] ^= (uint8_t)(1 + rnd32() % 255);
		} else if (how == 1) {
			n = rnd32() % (n + 1); /* cut short */
		} else if (how == 2) {
			n = rnd32() % 80;
			for (size_t j = 0; j < n; j++) buf[j] = (uint8_t)rnd32();
		}
		feed(s, &p->addr, buf, n);
		TABLES_OK(s);
		if (k % 16 == 0) {
			event_base_loop(s->base, EVLOOP_NONBLOCK);
			TABLES_OK(s);
		}
	}
	/* the run got deep enough to matter: tunnels established, sessions made */
	ck_assert_uint_gt(s->st.tunnels_opened, 100);
	ck_assert_uint_gt(s->st.evicted_half_open, 0);
	ck_assert_uint_gt(s->next_session, 10);
	srv_destroy(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("server_tables");
	TCase *t = tcase_create("tables");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, poisoned_sccrq_keeps_the_tunnel_id);
	tcase_add_test(t, half_open_shared_fairly_and_evicted);
	tcase_add_test(t, ipv6_share_is_per_64);
	tcase_add_test(t, refused_sccrqs_hold_no_slot);
	tcase_add_test(t, half_open_has_a_deadline);
	tcase_add_test(t, random_datagrams_keep_the_tables_consistent);
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
