/* The RFC 1661 automaton against the state transition table of RFC 1661 section 4.1, and
 * LCP/IPCP/CCP negotiation between the server and client sessions through a mock link
 * with injected time. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppp_link_harness.h"
#include "lab_vectors.h"

/* ---- a bare automaton that records its actions ------------------------------------- */
struct rec {
	char acts[128];
};

static void rec_add(struct ppp_fsm *f, const char *a)
{
	struct rec *r = f->owner;
	if (r->acts[0]) strncat(r->acts, ",", sizeof r->acts - strlen(r->acts) - 1);
	strncat(r->acts, a, sizeof r->acts - strlen(r->acts) - 1);
}

static void t_build(struct ppp_fsm *f, struct ppp_fsm_out *o) { (void)f; (void)o; }
static int t_check(struct ppp_fsm *f, const struct ppp_cp *r, bool ok, struct ppp_fsm_out *o)
{
	(void)f; (void)r; (void)ok; (void)o;
	return PPP_CONF_ACK;
}
static int t_nak(struct ppp_fsm *f, const struct ppp_cp *cp) { (void)f; (void)cp; return 0; }
static void t_up(struct ppp_fsm *f, uint64_t now) { (void)now; rec_add(f, "tlu"); }
static void t_down(struct ppp_fsm *f, uint64_t now) { (void)now; rec_add(f, "tld"); }
static void t_started(struct ppp_fsm *f, uint64_t now) { (void)now; rec_add(f, "tls"); }
static void t_finished(struct ppp_fsm *f, uint64_t now) { (void)now; rec_add(f, "tlf"); }
static void t_send(struct ppp_fsm *f, struct ppp_msg *m)
{
	static const char *names[] = {"?", "scr", "sca", "scn", "scn", "str", "sta", "scj"};
	rec_add(f, m->cp.code <= 7 ? names[m->cp.code] : "other");
}

static const struct ppp_fsm_ops test_ops = {
	.name = "T", .proto = PPP_PROTO_LCP, .build_req = t_build, .check_req = t_check,
	.recv_nak = t_nak, .recv_rej = t_nak, .up = t_up, .down = t_down, .started = t_started,
	.finished = t_finished, .send = t_send,
};
static const struct ppp_fsm_conf test_conf = {3000, 10, 2, 5};

enum { I = PPP_ST_INITIAL, S = PPP_ST_STARTING, C = PPP_ST_CLOSED, P = PPP_ST_STOPPED,
       G = PPP_ST_CLOSING, T = PPP_ST_STOPPING, R = PPP_ST_REQ_SENT, A = PPP_ST_ACK_RCVD,
       K = PPP_ST_ACK_SENT, O = PPP_ST_OPENED, X = -1 /* illegal: nothing happens */ };

/* RFC 1661 section 4.1, transcribed: for every event, the next state and the actions
 * from each of the ten states (irc/zrc are counter resets, not visible as packets; "ser"
 * happens in the protocol's Echo handling and is tested with LCP). */
struct cell { int next; const char *acts; };
static const struct cell table[PPP_EV_COUNT][10] = {
	/*            Initial      Starting        Closed          Stopped          Closing       Stopping      Req-Sent       Ack-Rcvd       Ack-Sent        Opened */
	[PPP_EV_UP] = {{C, ""}, {R, "scr"}, {X, ""}, {X, ""}, {X, ""}, {X, ""}, {X, ""}, {X, ""}, {X, ""}, {X, ""}},
	[PPP_EV_DOWN] = {{X, ""}, {X, ""}, {I, ""}, {S, "tls"}, {I, ""}, {S, ""}, {S, ""}, {S, ""}, {S, ""}, {S, "tld"}},
	[PPP_EV_OPEN] = {{S, "tls"}, {S, ""}, {R, "scr"}, {P, ""}, {T, ""}, {T, ""}, {R, ""}, {A, ""}, {K, ""}, {O, ""}},
	[PPP_EV_CLOSE] = {{I, ""}, {I, "tlf"}, {C, ""}, {C, ""}, {G, ""}, {G, ""}, {G, "str"}, {G, "str"}, {G, "str"}, {G, "tld,str"}},
	[PPP_EV_TO_PLUS] = {{X, ""}, {X, ""}, {X, ""}, {X, ""}, {G, "str"}, {T, "str"}, {R, "scr"}, {R, "scr"}, {K, "scr"}, {X, ""}},
	[PPP_EV_TO_MINUS] = {{X, ""}, {X, ""}, {X, ""}, {X, ""}, {C, "tlf"}, {P, "tlf"}, {P, "tlf"}, {P, "tlf"}, {P, "tlf"}, {X, ""}},
	[PPP_EV_RCR_PLUS] = {{X, ""}, {X, ""}, {C, "sta"}, {K, "scr,sca"}, {G, ""}, {T, ""}, {K, "sca"}, {O, "sca,tlu"}, {K, "sca"}, {K, "tld,scr,sca"}},
	[PPP_EV_RCR_MINUS] = {{X, ""}, {X, ""}, {C, "sta"}, {R, "scr,scn"}, {G, ""}, {T, ""}, {R, "scn"}, {A, "scn"}, {R, "scn"}, {R, "tld,scr,scn"}},
	[PPP_EV_RCA] = {{X, ""}, {X, ""}, {C, "sta"}, {P, "sta"}, {G, ""}, {T, ""}, {A, ""}, {R, "scr"}, {O, "tlu"}, {R, "tld,scr"}},
	[PPP_EV_RCN] = {{X, ""}, {X, ""}, {C, "sta"}, {P, "sta"}, {G, ""}, {T, ""}, {R, "scr"}, {R, "scr"}, {K, "scr"}, {R, "tld,scr"}},
	[PPP_EV_RTR] = {{X, ""}, {X, ""}, {C, "sta"}, {P, "sta"}, {G, "sta"}, {T, "sta"}, {R, "sta"}, {R, "sta"}, {R, "sta"}, {T, "tld,sta"}},
	[PPP_EV_RTA] = {{X, ""}, {X, ""}, {C, ""}, {P, ""}, {C, "tlf"}, {P, "tlf"}, {R, ""}, {R, ""}, {K, ""}, {R, "tld,scr"}},
	[PPP_EV_RUC] = {{X, ""}, {X, ""}, {C, "scj"}, {P, "scj"}, {G, "scj"}, {T, "scj"}, {R, "scj"}, {A, "scj"}, {K, "scj"}, {O, "scj"}},
	[PPP_EV_RXJ_PLUS] = {{X, ""}, {X, ""}, {C, ""}, {P, ""}, {G, ""}, {T, ""}, {R, ""}, {R, ""}, {K, ""}, {O, ""}},
	[PPP_EV_RXJ_MINUS] = {{X, ""}, {X, ""}, {C, "tlf"}, {P, "tlf"}, {C, "tlf"}, {P, "tlf"}, {P, "tlf"}, {P, "tlf"}, {P, "tlf"}, {T, "tld,str"}},
	[PPP_EV_RXR] = {{X, ""}, {X, ""}, {C, ""}, {P, ""}, {G, ""}, {T, ""}, {R, ""}, {A, ""}, {K, ""}, {O, ""}},
};

START_TEST(rfc1661_state_table)
{
	unsigned checked = 0;
	for (int ev = 0; ev < PPP_EV_COUNT; ev++) {
		for (int st = 0; st < 10; st++) {
			struct rec r;
			memset(&r, 0, sizeof r);
			struct ppp_fsm f;
			ppp_fsm_init(&f, &test_ops, &test_conf, &r);
			f.state = (uint8_t)st;
			f.restart_count = 3;
			const struct cell *c = &table[ev][st];
			/* a Code-Reject needs the rejected packet */
			uint8_t raw[4] = {0x42, 1, 0, 4};
			struct ppp_cp cp;
			memset(&cp, 0, sizeof cp);
			cp.code = 0x42;
			cp.id = 1;
			if (ev == PPP_EV_RUC) {
				ppp_fsm_input(&f, &cp, raw, sizeof raw, 0);
			} else {
				ppp_fsm_event(&f, (enum ppp_fsm_event)ev, NULL, 0);
			}
			int want = c->next == X ? st : c->next;
			const char *wacts = c->next == X ? "" : c->acts;
			if (ev == PPP_EV_RUC && (st == I || st == S)) wacts = ""; /* discarded */
			ck_assert_msg(f.state == want, "%s in %s: state %s, RFC says %s",
			              tok_name(ppp_fsm_event_names, ev), tok_name(ppp_fsm_state_names, st),
			              tok_name(ppp_fsm_state_names, f.state), tok_name(ppp_fsm_state_names, want));
			ck_assert_msg(strcmp(r.acts, wacts) == 0, "%s in %s: actions '%s', RFC says '%s'",
			              tok_name(ppp_fsm_event_names, ev), tok_name(ppp_fsm_state_names, st),
			              r.acts, wacts);
			checked++;
		}
	}
	ck_assert_uint_eq(checked, 160);
}
END_TEST

START_TEST(restart_timer_and_max_configure)
{
	struct rec r;
	memset(&r, 0, sizeof r);
	struct ppp_fsm f;
	ppp_fsm_init(&f, &test_ops, &test_conf, &r);
	ppp_fsm_up(&f, 0);
	ppp_fsm_open(&f, 0);
	ck_assert_int_eq(f.state, PPP_ST_REQ_SENT);
	ck_assert_uint_eq(ppp_fsm_deadline(&f), 3000);
	/* nothing happens before the deadline */
	ppp_fsm_tick(&f, 2999);
	ck_assert_str_eq(r.acts, "scr");
	uint64_t now = 0;
	for (int i = 0; i < 20 && ppp_fsm_deadline(&f) != PPP_NEVER; i++) {
		now = ppp_fsm_deadline(&f);
		ppp_fsm_tick(&f, now);
	}
	/* Max-Configure (10) requests in all, then TO- gives up: tlf, Stopped */
	ck_assert_str_eq(r.acts, "scr,scr,scr,scr,scr,scr,scr,scr,scr,scr,tlf");
	ck_assert_uint_eq(now, 30000);
	ck_assert_int_eq(f.state, PPP_ST_STOPPED);
	ck_assert_ptr_nonnull(strstr(f.why, "did not answer 10 Configure-Requests"));
}
END_TEST

START_TEST(max_terminate)
{
	struct rec r;
	memset(&r, 0, sizeof r);
	struct ppp_fsm f;
	ppp_fsm_init(&f, &test_ops, &test_conf, &r);
	f.state = PPP_ST_OPENED;
	ppp_fsm_close(&f, 100, "admin");
	ck_assert_int_eq(f.state, PPP_ST_CLOSING);
	ck_assert_uint_eq(ppp_fsm_deadline(&f), 3100);
	ppp_fsm_tick(&f, 3100);
	ppp_fsm_tick(&f, 6100);
	/* Max-Terminate 2: two Terminate-Requests, then Closed */
	ck_assert_str_eq(r.acts, "tld,str,str,tlf");
	ck_assert_int_eq(f.state, PPP_ST_CLOSED);
}
END_TEST

START_TEST(wrong_id_ack_ignored)
{
	struct rec r;
	memset(&r, 0, sizeof r);
	struct ppp_fsm f;
	ppp_fsm_init(&f, &test_ops, &test_conf, &r);
	ppp_fsm_up(&f, 0);
	ppp_fsm_open(&f, 0);
	struct ppp_cp ack;
	memset(&ack, 0, sizeof ack);
	ack.code = PPP_CONF_ACK;
	ack.id = (uint8_t)(f.id + 1);
	ppp_fsm_input(&f, &ack, NULL, 0, 10);
	ck_assert_int_eq(f.state, PPP_ST_REQ_SENT);
	ack.id = f.id;
	ppp_fsm_input(&f, &ack, NULL, 0, 10);
	ck_assert_int_eq(f.state, PPP_ST_ACK_RCVD);
}
END_TEST

/* ---- sessions through the mock link -------------------------------------------- */
static struct h_link L;

static bool logged(const struct h_side *sd, const char *s) { return strstr(sd->log, s) != NULL; }

START_TEST(negotiate_to_opened)
{
	h_init(&L);
	h_start(&L);
	h_run(&L, 20000);
	for (int i = 0; i < 2; i++) {
		struct ppp_session *s = &L.side[i].s;
		ck_assert(ppp_fsm_opened(&s->lcp.fsm));
		ck_assert(ppp_fsm_opened(&s->ipcp.fsm));
		ck_assert(ppp_fsm_opened(&s->ccp.fsm));
		ck_assert_int_eq(s->phase, PPP_PHASE_NETWORK);
		ck_assert_uint_eq(s->lcp.auth, PPP_AUTH_MSCHAPV2);
		ck_assert(!L.side[i].finished);
	}
	ck_assert(logged(&L.side[0], "lcp-up: lcp opened"));
	ck_assert(logged(&L.side[0], "auth-ok: auth ok user=bob method=MS-CHAPv2"));
	ck_assert(logged(&L.side[0], "ncp-up: ipcp address 10.0.0.5"));
	ck_assert(logged(&L.side[1], "ncp-up: ipcp address 10.0.0.5"));
	ck_assert(logged(&L.side[0], "ccp mppe 128-bit stateless"));
	/* the client got its address and the DNS server; DNS2 was rejected (none set) */
	ck_assert_uint_eq(L.side[1].s.ipcp.my_addr, IP4(10, 0, 0, 5));
	ck_assert_uint_eq(L.side[1].s.ipcp.dns[0], IP4(10, 0, 0, 53));
	ck_assert(L.side[1].s.ipcp.rej_dns[1]);
	ck_assert_uint_eq(L.side[1].s.ipcp.peer_addr, IP4(10, 0, 0, 1));
	ck_assert_uint_eq(L.pool_used, 1);
	/* the server's first LCP request: MRU 1400, auth CHAP algorithm 0x81, magic */
	struct ppp_msg m;
	ck_assert_int_eq(h_decode(&L.wire[0], &m), 0);
	ck_assert_uint_eq(m.proto, PPP_PROTO_LCP);
	ck_assert_uint_eq(m.cp.code, PPP_CONF_REQ);
	const struct ppp_opt *auth = ppp_cp_find_opt(&m.cp, LCP_OPT_AUTH);
	ck_assert_ptr_nonnull(auth);
	ck_assert_uint_eq(auth->dlen, 3);
	ck_assert_uint_eq(auth->data[0], 0xc2);
	ck_assert_uint_eq(auth->data[1], 0x23);
	ck_assert_uint_eq(auth->data[2], 0x81);
	/* closing from the client tears both ends down and frees the address */
	ppp_session_close(&L.side[1].s, "user hung up", 0, L.now);
	h_run(&L, L.now + 20000);
	ck_assert(L.side[0].finished && L.side[1].finished);
	ck_assert_uint_eq(L.side[0].win_error, 0); /* a normal hang-up is no error */
	ck_assert_uint_eq(L.side[1].win_error, 0);
	ck_assert_uint_eq(L.pool_used, 0);
	ck_assert_int_eq(L.side[0].s.phase, PPP_PHASE_DEAD);
	ck_assert_ptr_nonnull(strstr(L.side[0].why, "Terminate-Request"));
}
END_TEST

START_TEST(auth_fallback_on_nak)
{
	h_init(&L);
	/* the client does not do MS-CHAPv2: the server must fall back to CHAP-MD5 */
	L.side[1].conf.auth_methods = PPP_AUTH_BIT(PPP_AUTH_CHAP_MD5) | PPP_AUTH_BIT(PPP_AUTH_PAP);
	L.side[1].conf.auth_pref[0] = PPP_AUTH_CHAP_MD5;
	L.side[1].conf.auth_pref[1] = PPP_AUTH_PAP;
	L.side[1].conf.auth_pref[2] = PPP_AUTH_NONE;
	h_start(&L);
	h_run(&L, 20000);
	ck_assert(ppp_fsm_opened(&L.side[0].s.ipcp.fsm));
	ck_assert_uint_eq(L.side[0].s.lcp.auth, PPP_AUTH_CHAP_MD5);
	ck_assert(logged(&L.side[0], "lcp peer refused MS-CHAPv2, offering CHAP-MD5"));
	ck_assert(logged(&L.side[0], "auth ok user=bob method=CHAP-MD5"));
	/* on the wire: the client's Nak names CHAP with algorithm MD5 (5) */
	bool seen = false;
	for (unsigned i = 0; i < L.nwire; i++) {
		struct ppp_msg m;
		if (L.wire_from[i] != 1 || h_decode(&L.wire[i], &m) != 0) continue;
		if (m.proto == PPP_PROTO_LCP && m.cp.code == PPP_CONF_NAK) {
			const struct ppp_opt *o = ppp_cp_find_opt(&m.cp, LCP_OPT_AUTH);
			ck_assert_ptr_nonnull(o);
			ck_assert_uint_eq(o->dlen, 3);
			ck_assert_uint_eq(o->data[2], 5);
			seen = true;
		}
	}
	ck_assert(seen);
}
END_TEST

START_TEST(no_common_auth_fails_lcp)
{
	h_init(&L);
	L.side[0].conf.auth_methods = PPP_AUTH_BIT(PPP_AUTH_MSCHAPV2) | PPP_AUTH_BIT(PPP_AUTH_CHAP_MD5);
	L.side[1].conf.auth_methods = PPP_AUTH_BIT(PPP_AUTH_PAP);
	L.side[1].conf.auth_pref[0] = PPP_AUTH_PAP;
	L.side[1].conf.auth_pref[1] = PPP_AUTH_NONE;
	h_start(&L);
	h_run(&L, 60000);
	ck_assert(L.side[0].finished);
	ck_assert_uint_eq(L.side[0].win_error, 734);
	ck_assert_ptr_nonnull(strstr(L.side[0].why, "none of the enabled authentication methods"));
	ck_assert(!ppp_fsm_opened(&L.side[1].s.lcp.fsm));
	ck_assert_uint_eq(L.pool_used, 0);
}
END_TEST

START_TEST(peer_rejecting_auth_fails_lcp)
{
	h_init(&L);
	L.side[1].conf.auth_methods = 0; /* the client refuses to authenticate at all */
	h_start(&L);
	h_run(&L, 60000);
	ck_assert(L.side[0].finished);
	ck_assert_ptr_nonnull(strstr(L.side[0].why, "peer rejected authentication"));
}
END_TEST

/* A scripted peer: answers every server Configure-Request with a Nak of the MRU. */
static unsigned naks_sent;
static bool nak_everything(struct h_link *l, int from, const uint8_t *f, size_t n)
{
	if (from != 0) return true; /* the real client stays silent */
	struct ppp_msg m;
	struct diag_err e;
	if (ppp_decode(f, n, &m, &e) != 0 || m.proto != PPP_PROTO_LCP || m.cp.code != PPP_CONF_REQ)
		return true;
	struct ppp_msg nak;
	memset(&nak, 0, sizeof nak);
	nak.has_acf = true;
	nak.proto = PPP_PROTO_LCP;
	nak.kind = PPP_KIND_CP;
	nak.cp.code = PPP_CONF_NAK;
	nak.cp.id = m.cp.id;
	static const uint8_t mru[2] = {0x05, 0xdc};
	nak.cp.nopts = 1;
	nak.cp.opts[0].type = LCP_OPT_MRU;
	nak.cp.opts[0].data = mru;
	nak.cp.opts[0].dlen = 2;
	nak.cp.opts[0].len = 4;
	struct h_frame *q = &l->q[0][l->qn[0]];
	q->len = ppp_encode(&nak, q->buf, sizeof q->buf);
	if (q->len) l->qn[0]++;
	naks_sent++;
	return true;
}

START_TEST(max_failure_on_received_naks)
{
	h_init(&L);
	L.drop = nak_everything;
	naks_sent = 0;
	h_start(&L);
	h_run(&L, 60000);
	/* Max-Failure 5: the sixth Nak in a row makes LCP give up and close */
	ck_assert_uint_eq(naks_sent, 6);
	ck_assert(L.side[0].finished);
	ck_assert_ptr_nonnull(strstr(L.side[0].why, "6 Configure-Naks without converging"));
}
END_TEST

/* A scripted peer sending a Configure-Request with an MRU of 64 again and again. */
START_TEST(max_failure_turns_naks_into_rejects)
{
	h_init(&L);
	L.side[0].conf.fsm.restart_ms = 1000;
	h_start(&L);
	L.qn[0] = L.qn[1] = 0;
	struct ppp_session *s = &L.side[0].s;
	unsigned naks = 0, rejs = 0;
	for (int i = 0; i < 7; i++) {
		uint8_t fr[] = {0xff, 0x03, 0xc0, 0x21, 1, (uint8_t)(10 + i), 0, 8, 1, 4, 0, 64};
		unsigned before = L.nwire;
		ppp_session_input(s, fr, sizeof fr, L.now);
		ck_assert_uint_eq(L.nwire, before + 1);
		struct ppp_msg m;
		ck_assert_int_eq(h_decode(&L.wire[before], &m), 0);
		if (m.cp.code == PPP_CONF_NAK) {
			naks++;
			ck_assert_uint_eq(m.cp.opts[0].data[0] << 8 | m.cp.opts[0].data[1], 1400);
		} else if (m.cp.code == PPP_CONF_REJ) {
			rejs++;
			ck_assert_uint_eq(m.cp.opts[0].type, LCP_OPT_MRU);
		}
	}
	ck_assert_uint_eq(naks, 5);
	ck_assert_uint_eq(rejs, 2);
}
END_TEST

START_TEST(ipcp_naks_wrong_address)
{
	h_init(&L);
	L.side[1].conf.client_request_addr = IP4(192, 168, 1, 77);
	L.side[1].conf.want_wins = true;
	L.side[0].conf.dns[1] = IP4(10, 0, 0, 54);
	L.side[0].conf.wins[0] = IP4(10, 0, 0, 137);
	h_start(&L);
	h_run(&L, 20000);
	ck_assert(ppp_fsm_opened(&L.side[1].s.ipcp.fsm));
	ck_assert_uint_eq(L.side[1].s.ipcp.my_addr, IP4(10, 0, 0, 5));
	/* both DNS servers and the primary WINS server handed out; no secondary WINS */
	ck_assert_uint_eq(L.side[1].s.ipcp.dns[0], IP4(10, 0, 0, 53));
	ck_assert_uint_eq(L.side[1].s.ipcp.dns[1], IP4(10, 0, 0, 54));
	ck_assert_uint_eq(L.side[1].s.ipcp.wins[0], IP4(10, 0, 0, 137));
	ck_assert(L.side[1].s.ipcp.rej_wins[1]);
	ck_assert(logged(&L.side[0], "ipcp peer asked for 192.168.1.77, assigning 10.0.0.5"));
}
END_TEST

START_TEST(ipcp_pool_exhausted)
{
	h_init(&L);
	L.pool_next = IP4(10, 0, 0, 10); /* past pool_end */
	h_start(&L);
	h_run(&L, 60000);
	ck_assert(L.side[0].finished);
	ck_assert_uint_eq(L.side[0].win_error, 720);
	ck_assert(logged(&L.side[0], "ipcp no address available"));
	ck_assert_ptr_nonnull(strstr(L.side[0].why, "no IP address is available"));
}
END_TEST

/* IPCP with a peer that will not take the address the server assigns, as pppd with a
 * fixed local address does (tests/captures/serve-ipcp-address.pcap): the client's IPCP
 * frames are dropped and the test speaks for it. */
static bool drop_client_ipcp(struct h_link *l, int from, const uint8_t *f, size_t n)
{
	(void)l;
	return from == 1 && n > 4 && f[2] == 0x80 && f[3] == 0x21;
}

/* An IPCP frame to the server: code, id, and an IP-Address option when addr != 0. */
static void ipcp_to_server(uint8_t code, uint8_t id, uint32_t addr)
{
	uint8_t fr[14] = {0xff, 0x03, 0x80, 0x21, code, id, 0, 4};
	size_t n = 8;
	if (addr) {
		uint8_t o[6] = {IPCP_OPT_ADDR, 6, (uint8_t)(addr >> 24), (uint8_t)(addr >> 16),
		                (uint8_t)(addr >> 8), (uint8_t)addr};
		memcpy(fr + 8, o, 6);
		n += 6;
		fr[7] = 10;
	}
	ppp_session_input(&L.side[0].s, fr, n, L.now);
	h_run(&L, L.now + 10);
}

/* The server's last IPCP frame: its code, and the IP-Address it carries (0: none). */
static uint8_t server_ipcp_last(uint32_t *addr)
{
	*addr = 0;
	for (unsigned i = L.nwire; i-- > 0;) {
		struct ppp_msg m;
		if (L.wire_from[i] != 0 || h_decode(&L.wire[i], &m) != 0 || m.proto != PPP_PROTO_IPCP)
			continue;
		const struct ppp_opt *o = ppp_cp_find_opt(&m.cp, IPCP_OPT_ADDR);
		if (o && o->dlen == 4)
			*addr = (uint32_t)o->data[0] << 24 | (uint32_t)o->data[1] << 16 |
			        (uint32_t)o->data[2] << 8 | o->data[3];
		return m.cp.code;
	}
	return 0;
}

/* Up to IPCP, the server's own Configure-Request acknowledged by the test. */
static void ipcp_peer_link(void)
{
	h_init(&L);
	L.drop = drop_client_ipcp;
	h_start(&L);
	h_run(&L, 1000);
	ck_assert_int_eq(L.side[0].s.phase, PPP_PHASE_NETWORK);
	ipcp_to_server(PPP_CONF_ACK, L.side[0].s.ipcp.fsm.id, IP4(10, 0, 0, 1));
}

START_TEST(ipcp_peer_refusing_the_address_fails)
{
	/* pppd: its own address, Nak'ed five times, then rejected */
	ipcp_peer_link();
	uint32_t a;
	for (uint8_t id = 1; id <= 5; id++) {
		ipcp_to_server(PPP_CONF_REQ, id, IP4(10, 99, 99, 5));
		ck_assert_uint_eq(server_ipcp_last(&a), PPP_CONF_NAK);
		ck_assert_uint_eq(a, IP4(10, 0, 0, 5));
	}
	ipcp_to_server(PPP_CONF_REQ, 6, IP4(10, 99, 99, 5));
	ck_assert_uint_eq(server_ipcp_last(&a), PPP_CONF_REJ);
	ck_assert_uint_eq(a, IP4(10, 99, 99, 5));
	/* it asks again without the option: the server cannot Nak any more and must not Ack
	 * an address the peer never took */
	ipcp_to_server(PPP_CONF_REQ, 7, 0);
	ck_assert_uint_ne(server_ipcp_last(&a), PPP_CONF_ACK);
	ck_assert(!L.side[0].s.ipcp_up);
	ck_assert(!logged(&L.side[0], "ipcp address 10.0.0.5"));
	h_run(&L, L.now + 30000);
	ck_assert(L.side[0].finished);
	ck_assert(!L.side[0].s.was_up);
	ck_assert_uint_eq(L.side[0].win_error, 735);
	ck_assert_ptr_nonnull(strstr(L.side[0].why, "does not take the address the server assigns (10.0.0.5)"));
	ck_assert_uint_eq(L.pool_used, 0); /* the address went back to the pool */
}
END_TEST

START_TEST(ipcp_request_without_address_is_naked)
{
	/* a request without IP-Address gets a Nak carrying the address, every time; a peer
	 * that never takes it fails IPCP after Max-Failure Naks */
	ipcp_peer_link();
	uint32_t a;
	for (uint8_t id = 1; id <= 5; id++) {
		ipcp_to_server(PPP_CONF_REQ, id, 0);
		ck_assert_uint_eq(server_ipcp_last(&a), PPP_CONF_NAK);
		ck_assert_uint_eq(a, IP4(10, 0, 0, 5));
	}
	ipcp_to_server(PPP_CONF_REQ, 6, 0);
	ck_assert(!L.side[0].s.ipcp_up);
	h_run(&L, L.now + 30000);
	ck_assert(L.side[0].finished);
	ck_assert_uint_eq(L.side[0].win_error, 735);
	/* a peer that takes the address after a Nak comes up with it */
	ipcp_peer_link();
	ipcp_to_server(PPP_CONF_REQ, 1, 0);
	ck_assert_uint_eq(server_ipcp_last(&a), PPP_CONF_NAK);
	ipcp_to_server(PPP_CONF_REQ, 2, a);
	ck_assert_uint_eq(server_ipcp_last(&a), PPP_CONF_ACK);
	ck_assert(L.side[0].s.ipcp_up);
	ck_assert(logged(&L.side[0], "ipcp address 10.0.0.5"));
}
END_TEST

START_TEST(ccp_picks_strongest_common_level)
{
	h_init(&L);
	L.side[0].conf.mppe_levels = MPPE_BIT_S | MPPE_BIT_M | MPPE_BIT_L;
	L.side[0].conf.mppe_stateless = false;
	L.side[1].conf.mppe_levels = MPPE_BIT_M | MPPE_BIT_L;
	L.side[1].conf.mppe_stateless = false;
	h_start(&L);
	h_run(&L, 20000);
	ck_assert(ppp_fsm_opened(&L.side[0].s.ccp.fsm));
	ck_assert_uint_eq(L.side[0].s.ccp.peer_bits, MPPE_BIT_M);
	ck_assert_uint_eq(L.side[1].s.ccp.my_bits, MPPE_BIT_M);
	ck_assert(logged(&L.side[0], "ccp mppe 56-bit"));
}
END_TEST

START_TEST(ccp_no_common_level_ends_link)
{
	h_init(&L);
	L.side[0].conf.mppe_levels = MPPE_BIT_S;
	L.side[0].conf.mppe_required = true;
	L.side[1].conf.mppe_levels = MPPE_BIT_L;
	h_start(&L);
	h_run(&L, 60000);
	ck_assert(L.side[0].finished);
	ck_assert_uint_eq(L.side[0].win_error, 742);
	ck_assert_ptr_nonnull(strstr(L.side[0].why, "no common MPPE level"));
}
END_TEST

START_TEST(magic_collision_detected)
{
	h_init(&L);
	/* both ends draw the same magic number first */
	static const uint8_t same[4] = {0x11, 0x22, 0x33, 0x44};
	L.side[0].fixed_random = same;
	L.side[0].fixed_len = 4;
	L.side[1].fixed_random = same;
	L.side[1].fixed_len = 4;
	h_start(&L);
	h_run(&L, 20000);
	ck_assert(logged(&L.side[0], "looped-back link suspected") ||
	          logged(&L.side[1], "looped-back link suspected"));
	ck_assert(ppp_fsm_opened(&L.side[0].s.lcp.fsm));
	ck_assert_uint_ne(L.side[0].s.lcp.my_magic, L.side[1].s.lcp.my_magic);
}
END_TEST

static bool drop_client(struct h_link *l, int from, const uint8_t *f, size_t n)
{
	(void)f; (void)n;
	return from == 1 && l->now >= 100000;
}

START_TEST(echo_keepalive)
{
	h_init(&L);
	L.side[0].conf.echo_interval_ms = 10000;
	L.side[0].conf.echo_fail_max = 3;
	L.drop = drop_client;
	h_start(&L);
	h_run(&L, 90000);
	/* answered echoes keep the link up */
	ck_assert(ppp_fsm_opened(&L.side[0].s.lcp.fsm));
	ck_assert_uint_eq(L.side[0].s.lcp.echo_outstanding, 0);
	unsigned echoes = 0, replies = 0;
	for (unsigned i = 0; i < L.nwire; i++) {
		struct ppp_msg m;
		if (h_decode(&L.wire[i], &m) != 0 || m.proto != PPP_PROTO_LCP) continue;
		if (m.cp.code == PPP_ECHO_REQ) echoes++;
		if (m.cp.code == PPP_ECHO_REPLY) {
			replies++;
			ck_assert_uint_eq(m.cp.magic, L.side[1].s.lcp.my_magic);
		}
	}
	ck_assert_uint_ge(echoes, 8);
	ck_assert_uint_eq(echoes, replies);
	/* then the client goes silent: after 3 unanswered echoes the link is dropped */
	h_run(&L, 200000);
	ck_assert(L.side[0].finished);
	ck_assert_ptr_nonnull(strstr(L.side[0].why, "no answer to 3 Echo-Requests"));
}
END_TEST

START_TEST(unknown_code_and_protocol_rejected)
{
	h_init(&L);
	L.side[0].conf.ipv6 = false;
	h_start(&L);
	h_run(&L, 20000);
	struct ppp_session *s = &L.side[0].s;
	unsigned before = L.nwire;
	uint8_t code[] = {0xff, 0x03, 0xc0, 0x21, 0x33, 7, 0, 6, 0xaa, 0xbb};
	ppp_session_input(s, code, sizeof code, L.now);
	ck_assert_uint_eq(L.nwire, before + 1);
	struct ppp_msg m;
	ck_assert_int_eq(h_decode(&L.wire[before], &m), 0);
	ck_assert_uint_eq(m.cp.code, PPP_CODE_REJ);
	ck_assert_uint_eq(m.cp.dlen, 6);
	ck_assert_mem_eq(m.cp.data, code + 4, 6);
	/* IPV6CP is not spoken with ipv6 off: Protocol-Reject carrying the protocol and packet */
	uint8_t v6[] = {0xff, 0x03, 0x80, 0x57, 1, 1, 0, 4};
	ppp_session_input(s, v6, sizeof v6, L.now);
	ck_assert_uint_eq(L.nwire, before + 2);
	ck_assert_int_eq(h_decode(&L.wire[before + 1], &m), 0);
	ck_assert_uint_eq(m.cp.code, PPP_PROTO_REJ);
	ck_assert_uint_eq(m.cp.rejected_proto, 0x8057);
	ck_assert(ppp_fsm_opened(&s->lcp.fsm));
	/* garbage does not hurt */
	uint8_t junk[] = {0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 200};
	ppp_session_input(s, junk, sizeof junk, L.now);
	ck_assert_uint_eq(s->rx_bad, 1);
	ck_assert(ppp_fsm_opened(&s->lcp.fsm));
}
END_TEST

static bool drop_first_server_frame(struct h_link *l, int from, const uint8_t *f, size_t n)
{
	(void)f; (void)n;
	static unsigned seen;
	if (l->nwire == 1) seen = 0;
	return from == 0 && seen++ == 0;
}

START_TEST(lost_request_resent_by_timer)
{
	h_init(&L);
	L.drop = drop_first_server_frame;
	h_start(&L);
	h_run(&L, 2999);
	ck_assert(!ppp_fsm_opened(&L.side[0].s.lcp.fsm));
	h_run(&L, 20000);
	ck_assert(ppp_fsm_opened(&L.side[0].s.ipcp.fsm));
	ck_assert_uint_eq(L.dropped, 1);
}
END_TEST

/* ---- a real exchange: lab/l2tp-xl2tpd-ppp.pcap, PPP frames of the L2TP data messages
 * (frames 10-30; server 10.77.0.1 "vnet-srv", client "labuser"/"labpass", CHAP-MD5,
 * IPCP with a Nak). Values checked against l2tp-xl2tpd-ppp.pcap.tshark.txt. ---------- */
/* frame 12 */
static const uint8_t f12[] = {
	0xff, 0x03, 0xc0, 0x21, 0x02, 0x01, 0x00, 0x14, 0x01, 0x04, 0x05, 0x78,
	0x02, 0x06, 0x00, 0x00, 0x00, 0x00, 0x05, 0x06, 0xe4, 0xd9, 0xc9, 0x57,
};
/* frame 13 */
static const uint8_t f13[] = {
	0xff, 0x03, 0xc0, 0x21, 0x02, 0x01, 0x00, 0x13, 0x01, 0x04, 0x05, 0x78,
	0x03, 0x05, 0xc2, 0x23, 0x05, 0x05, 0x06, 0x41, 0xf2, 0xce, 0xeb,
};
/* frame 18 */
static const uint8_t f18[] = {
	0xff, 0x03, 0x80, 0x21, 0x01, 0x01, 0x00, 0x10, 0x03, 0x06, 0x00, 0x00,
	0x00, 0x00, 0x81, 0x06, 0x00, 0x00, 0x00, 0x00,
};
/* frame 19 */
static const uint8_t f19[] = {
	0xff, 0x03, 0x80, 0x21, 0x02, 0x01, 0x00, 0x0a, 0x03, 0x06, 0x0a, 0xc8,
	0x00, 0x01,
};
/* frame 21 */
static const uint8_t f21[] = {
	0xff, 0x03, 0x80, 0x21, 0x01, 0x02, 0x00, 0x10, 0x03, 0x06, 0x0a, 0xc8,
	0x00, 0x0a, 0x81, 0x06, 0x0a, 0xc8, 0x00, 0x01,
};
/* frame 22 */
static const uint8_t f22[] = {
	0xff, 0x03, 0x80, 0x21, 0x02, 0x02, 0x00, 0x10, 0x03, 0x06, 0x0a, 0xc8,
	0x00, 0x0a, 0x81, 0x06, 0x0a, 0xc8, 0x00, 0x01,
};
/* frame 28 */
static const uint8_t f28[] = {
	0xff, 0x03, 0xc0, 0x21, 0x0a, 0x21, 0x00, 0x08, 0x41, 0xf2, 0xce, 0xeb,
};

/* Feed one client frame to the server; the server's answers must be `n` frames equal to
 * the given ones (byte for byte what the real server sent). */
static void replay(const uint8_t *in, size_t inlen, const uint8_t *const *want,
                   const size_t *wantlen, unsigned n)
{
	unsigned before = L.nwire;
	if (in) ppp_session_input(&L.side[0].s, in, inlen, L.now);
	ck_assert_uint_eq(L.nwire - before, n);
	for (unsigned i = 0; i < n; i++) {
		ck_assert_uint_eq(L.wire[before + i].len, wantlen[i]);
		ck_assert_mem_eq(L.wire[before + i].buf, want[i], wantlen[i]);
	}
}
#define ONE(x) (const uint8_t *const[]){x}, (const size_t[]){sizeof x}, 1
#define TWO(x, y) (const uint8_t *const[]){x, y}, (const size_t[]){sizeof x, sizeof y}, 2

START_TEST(server_matches_lab_capture)
{
	h_init(&L);
	struct ppp_session_conf *c = &L.side[0].conf;
	c->auth_methods = PPP_AUTH_BIT(PPP_AUTH_CHAP_MD5);
	c->auth.name = "vnet-srv";
	c->mppe_levels = 0;
	c->ipv6 = false; /* the lab server did not negotiate IPV6CP */
	c->local_addr = IP4(10, 200, 0, 1);
	c->dns[0] = IP4(10, 200, 0, 1);
	L.pool_next = IP4(10, 200, 0, 10);
	L.pool_end = IP4(10, 200, 0, 20);
	/* the magic number and challenge the real server drew */
	static const uint8_t rnd[] = {0x41, 0xf2, 0xce, 0xeb, 0xf6, 0x03, 0x18, 0x90, 0xc3, 0x5e,
	                              0xdb, 0x05, 0x08, 0x6b, 0xba, 0x84, 0xcb, 0xe4, 0x78, 0x82};
	L.side[0].fixed_random = rnd;
	L.side[0].fixed_len = sizeof rnd;
	ppp_session_free(&L.side[0].s);
	ppp_session_init(&L.side[0].s, c, &L.side[0].cbs);
	ppp_session_start(&L.side[0].s, 0);
	/* LCP Configure-Request: MRU 1400, CHAP-MD5, magic */
	ck_assert_uint_eq(L.nwire, 1);
	ck_assert_uint_eq(L.wire[0].len, sizeof lab_ppp_f10);
	ck_assert_mem_eq(L.wire[0].buf, lab_ppp_f10, sizeof lab_ppp_f10);
	replay(lab_ppp_f11, sizeof lab_ppp_f11, ONE(f12));            /* client request Acked as is */
	replay(f13, sizeof f13, ONE(lab_ppp_f14));            /* our request Acked: CHAP Challenge */
	replay(lab_ppp_f15, sizeof lab_ppp_f15, TWO(lab_ppp_f16, lab_ppp_f17));       /* right response: Success, IPCP request */
	ck_assert(logged(&L.side[0], "auth ok user=labuser method=CHAP-MD5"));
	replay(f18, sizeof f18, ONE(lab_ppp_f20));            /* 0.0.0.0 + DNS 0: Nak with address, DNS */
	replay(f19, sizeof f19, NULL, NULL, 0);       /* our IPCP request Acked */
	replay(f21, sizeof f21, ONE(f22));            /* the Nak'd values: Ack, IPCP opened */
	ck_assert(logged(&L.side[0], "ipcp address 10.200.0.10"));
	replay(lab_ppp_f27, sizeof lab_ppp_f27, ONE(f28));            /* Echo-Request answered with our magic */
	replay(lab_ppp_f29, sizeof lab_ppp_f29, ONE(lab_ppp_f30));            /* Terminate-Request: Terminate-Ack */
	/* RFC 1661: Stopping for one restart period, then the link is finished */
	uint64_t d = ppp_session_deadline(&L.side[0].s);
	ck_assert_uint_eq(d, 3000);
	ppp_session_tick(&L.side[0].s, d);
	ck_assert(L.side[0].finished);
	ck_assert_uint_eq(L.pool_used, 0);
}
END_TEST


START_TEST(lcp_renegotiation_restarts_auth_and_ncps)
{
	h_init(&L);
	h_start(&L);
	h_run(&L, 20000);
	ck_assert(ppp_fsm_opened(&L.side[0].s.ipcp.fsm));
	/* the client starts LCP over (as a Configure-Request in Opened does: RFC 1661 RCR in
	 * Opened is tld, scr, sca): everything above LCP goes down and comes back */
	ppp_fsm_event(&L.side[1].s.lcp.fsm, PPP_EV_RCA, NULL, L.now);
	ck_assert(!ppp_fsm_opened(&L.side[1].s.ipcp.fsm));
	h_run(&L, L.now + 20000);
	for (int i = 0; i < 2; i++) {
		ck_assert(ppp_fsm_opened(&L.side[i].s.lcp.fsm));
		ck_assert(ppp_fsm_opened(&L.side[i].s.ipcp.fsm));
		ck_assert(ppp_fsm_opened(&L.side[i].s.ccp.fsm));
		ck_assert(!L.side[i].finished);
	}
	const char *first = strstr(L.side[0].log, "auth ok user=bob");
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_nonnull(strstr(first + 1, "auth ok user=bob"));
	ck_assert_uint_eq(L.pool_used, 1);
}
END_TEST

/* Every frame the server sends comes straight back to it. */
static bool loop_back(struct h_link *l, int from, const uint8_t *f, size_t n)
{
	if (from != 0) return true;
	if (l->qn[0] < H_QMAX) {
		l->q[0][l->qn[0]].len = n;
		memcpy(l->q[0][l->qn[0]].buf, f, n);
		l->qn[0]++;
	}
	return true;
}

START_TEST(looped_back_link_detected)
{
	h_init(&L);
	L.side[0].conf.auth_methods = 0;
	L.drop = loop_back;
	h_start(&L);
	h_run(&L, 60000);
	ck_assert(L.side[0].finished);
	ck_assert_ptr_nonnull(strstr(L.side[0].why, "looped-back link"));
	ck_assert(logged(&L.side[0], "looped-back link suspected"));
}
END_TEST


static bool drop_all_client(struct h_link *l, int from, const uint8_t *f, size_t n)
{
	(void)l; (void)f; (void)n;
	return from == 1;
}

START_TEST(silent_peer_gives_721)
{
	h_init(&L);
	L.drop = drop_all_client;
	h_start(&L);
	h_run(&L, 100000);
	ck_assert(L.side[0].finished);
	ck_assert_uint_eq(L.side[0].win_error, 721);
	ck_assert_ptr_nonnull(strstr(L.side[0].why, "did not answer 10 Configure-Requests"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ppp_fsm");
	TCase *t = tcase_create("automaton");
	tcase_add_test(t, rfc1661_state_table);
	tcase_add_test(t, restart_timer_and_max_configure);
	tcase_add_test(t, max_terminate);
	tcase_add_test(t, wrong_id_ack_ignored);
	suite_add_tcase(s, t);
	t = tcase_create("negotiation");
	tcase_add_test(t, negotiate_to_opened);
	tcase_add_test(t, auth_fallback_on_nak);
	tcase_add_test(t, no_common_auth_fails_lcp);
	tcase_add_test(t, peer_rejecting_auth_fails_lcp);
	tcase_add_test(t, max_failure_on_received_naks);
	tcase_add_test(t, max_failure_turns_naks_into_rejects);
	tcase_add_test(t, ipcp_naks_wrong_address);
	tcase_add_test(t, ipcp_pool_exhausted);
	tcase_add_test(t, ipcp_peer_refusing_the_address_fails);
	tcase_add_test(t, ipcp_request_without_address_is_naked);
	tcase_add_test(t, ccp_picks_strongest_common_level);
	tcase_add_test(t, ccp_no_common_level_ends_link);
	tcase_add_test(t, magic_collision_detected);
	tcase_add_test(t, echo_keepalive);
	tcase_add_test(t, unknown_code_and_protocol_rejected);
	tcase_add_test(t, lost_request_resent_by_timer);
	tcase_add_test(t, server_matches_lab_capture);
	tcase_add_test(t, lcp_renegotiation_restarts_auth_and_ncps);
	tcase_add_test(t, looped_back_link_detected);
	tcase_add_test(t, silent_peer_gives_721);
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
