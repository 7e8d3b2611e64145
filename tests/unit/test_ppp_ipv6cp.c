/* IPV6CP (RFC 5072) between the server and client sessions through the mock link: the
 * Interface-Identifier exchange, the Naks for a zero or colliding identifier, a peer
 * that rejects the option or the whole protocol, a silent peer, and the `ipv6` flag
 * off. Every IPV6CP frame on the wire is also checked to re-encode to its own bytes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppp_link_harness.h"

static struct h_link L;

static bool logged(const struct h_side *sd, const char *s) { return strstr(sd->log, s) != NULL; }

static const uint8_t zero8[8];

static bool id_zero(const uint8_t *id) { return memcmp(id, zero8, 8) == 0; }

/* The n-th frame (0-based) side `from` sent with this protocol and code; NULL if none. */
static const struct h_frame *wire_find(int from, uint16_t proto, int code, unsigned nth)
{
	for (unsigned i = 0; i < L.nwire; i++) {
		struct ppp_msg m;
		if (L.wire_from[i] != from || h_decode(&L.wire[i], &m) != 0 || m.proto != proto) continue;
		if (code >= 0 && m.cp.code != code) continue;
		if (nth-- == 0) return &L.wire[i];
	}
	return NULL;
}

static unsigned wire_count(int from, uint16_t proto)
{
	unsigned n = 0;
	while (wire_find(from, proto, -1, n)) n++;
	return n;
}

/* Decode a frame expected to carry an IPV6CP Interface-Identifier; copy its value. */
static void frame_ifid(const struct h_frame *f, uint8_t out[8])
{
	struct ppp_msg m;
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(h_decode(f, &m), 0);
	ck_assert_uint_eq(m.proto, PPP_PROTO_IPV6CP);
	const struct ppp_opt *o = ppp_cp_find_opt(&m.cp, IPV6CP_OPT_IFID);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(o->dlen, 8);
	memcpy(out, o->data, 8);
}

/* Queue a frame towards side `to` as if the other side had sent it. */
static void push(struct h_link *l, int to, const uint8_t *f, size_t n)
{
	if (l->qn[to] >= H_QMAX || n > sizeof l->q[to][0].buf) return;
	l->q[to][l->qn[to]].len = n;
	memcpy(l->q[to][l->qn[to]].buf, f, n);
	l->qn[to]++;
}

/* An IPV6CP packet with one Interface-Identifier option, framed by hand. */
static size_t ipv6cp_frame(uint8_t *b, uint8_t code, uint8_t id, const uint8_t ifid[8])
{
	static const uint8_t hdr[] = {0xff, 0x03, 0x80, 0x57};
	memcpy(b, hdr, 4);
	b[4] = code;
	b[5] = id;
	b[6] = 0;
	b[7] = 14;
	b[8] = IPV6CP_OPT_IFID;
	b[9] = 10;
	memcpy(b + 10, ifid, 8);
	return 18;
}

static void both_up_first(void)
{
	h_start(&L);
	h_run(&L, 20000);
	for (int i = 0; i < 2; i++) {
		ck_assert(ppp_fsm_opened(&L.side[i].s.ipcp.fsm));
		ck_assert(!L.side[i].finished);
	}
}

/* Every IPV6CP frame either side sent decodes and re-encodes to the same bytes. */
static void check_roundtrip(void)
{
	unsigned seen = 0;
	for (unsigned i = 0; i < L.nwire; i++) {
		struct ppp_msg m;
		ck_assert_int_eq(h_decode(&L.wire[i], &m), 0);
		if (m.proto != PPP_PROTO_IPV6CP) continue;
		uint8_t out[1600];
		ck_assert_uint_eq(ppp_encode(&m, out, sizeof out), L.wire[i].len);
		ck_assert_mem_eq(out, L.wire[i].buf, L.wire[i].len);
		seen++;
	}
	ck_assert_uint_gt(seen, 0);
}

START_TEST(both_sides_open_ipcp_and_ipv6cp)
{
	h_init(&L);
	both_up_first();
	struct ppp_session *sv = &L.side[0].s, *cl = &L.side[1].s;
	for (int i = 0; i < 2; i++) {
		struct ppp_session *s = &L.side[i].s;
		ck_assert(ppp_fsm_opened(&s->ipv6cp.fsm));
		ck_assert(s->ipv6cp_up);
		ck_assert(s->was_up);
		ck_assert(!id_zero(s->ipv6cp.my_id));
		ck_assert(s->ipv6cp.peer_has_id);
		ck_assert(!s->ipv6cp.rej_ifid);
		ck_assert_uint_eq(s->ipv6cp.my_id[0] & 0x02, 0); /* locally administered */
	}
	/* what each side uses for itself is what the other Acked for it */
	ck_assert_mem_eq(sv->ipv6cp.my_id, cl->ipv6cp.peer_id, 8);
	ck_assert_mem_eq(cl->ipv6cp.my_id, sv->ipv6cp.peer_id, 8);
	ck_assert(memcmp(sv->ipv6cp.my_id, cl->ipv6cp.my_id, 8) != 0);
	/* on the wire: each side's request carried its identifier and was Acked as is */
	uint8_t req[8], ack[8];
	frame_ifid(wire_find(0, PPP_PROTO_IPV6CP, PPP_CONF_REQ, 0), req);
	frame_ifid(wire_find(1, PPP_PROTO_IPV6CP, PPP_CONF_ACK, 0), ack);
	ck_assert_mem_eq(req, sv->ipv6cp.my_id, 8);
	ck_assert_mem_eq(ack, sv->ipv6cp.my_id, 8);
	ck_assert_ptr_null(wire_find(0, PPP_PROTO_IPV6CP, PPP_CONF_NAK, 0));
	ck_assert_ptr_null(wire_find(1, PPP_PROTO_IPV6CP, PPP_CONF_NAK, 0));
	/* the NCP_UP line names both identifiers */
	char a[24], b[24], line[96];
	ppp_ifid_str(sv->ipv6cp.my_id, a, sizeof a);
	ppp_ifid_str(sv->ipv6cp.peer_id, b, sizeof b);
	snprintf(line, sizeof line, "ncp-up: ipv6cp interface-id local=%s peer=%s\n", a, b);
	ck_assert_msg(logged(&L.side[0], line), "missing '%s' in\n%s", line, L.side[0].log);
	snprintf(line, sizeof line, "ncp-up: ipv6cp interface-id local=%s peer=%s\n", b, a);
	ck_assert(logged(&L.side[1], line));
	ck_assert(logged(&L.side[0], "ncp-up: ipcp address 10.0.0.5"));
	check_roundtrip();
	/* IPv6 datagrams are the data plane's: no Protocol-Reject */
	unsigned before = L.nwire;
	static const uint8_t v6[] = {0xff, 0x03, 0x00, 0x57, 0x60, 0, 0, 0, 0, 0, 58, 255};
	ppp_session_input(sv, v6, sizeof v6, L.now);
	ck_assert_uint_eq(L.nwire, before);
	/* the link going down takes IPV6CP down with it */
	ppp_session_lower_down(sv, L.now);
	ck_assert(!sv->ipv6cp_up);
	ck_assert(L.side[0].finished);
}
END_TEST

/* Rewrite the identifier of the client's first `rewrites` IPV6CP Configure-Requests to
 * zero: a peer with no identifier of its own. */
static unsigned rewrites;
static bool client_asks_zero(struct h_link *l, int from, const uint8_t *f, size_t n)
{
	struct ppp_msg m;
	struct diag_err e;
	if (from != 1 || rewrites == 0 || ppp_decode(f, n, &m, &e) != 0) return false;
	if (m.proto != PPP_PROTO_IPV6CP || m.cp.code != PPP_CONF_REQ) return false;
	const struct ppp_opt *o = ppp_cp_find_opt(&m.cp, IPV6CP_OPT_IFID);
	if (!o) return false;
	uint8_t b[1600];
	memcpy(b, f, n);
	memset(b + o->off + 2, 0, 8);
	push(l, 0, b, n);
	rewrites--;
	return true;
}

START_TEST(zero_identifier_is_nakd_with_a_suggestion)
{
	h_init(&L);
	rewrites = 1;
	L.drop = client_asks_zero;
	both_up_first();
	struct ppp_session *sv = &L.side[0].s, *cl = &L.side[1].s;
	ck_assert(ppp_fsm_opened(&sv->ipv6cp.fsm));
	ck_assert(ppp_fsm_opened(&cl->ipv6cp.fsm));
	/* the server Nak'd the zero request with a non-zero identifier that is not its own */
	uint8_t hint[8];
	frame_ifid(wire_find(0, PPP_PROTO_IPV6CP, PPP_CONF_NAK, 0), hint);
	ck_assert(!id_zero(hint));
	ck_assert(memcmp(hint, sv->ipv6cp.my_id, 8) != 0);
	ck_assert_uint_eq(hint[0] & 0x02, 0);
	/* the client took the suggestion, and the server Acked it */
	ck_assert_mem_eq(cl->ipv6cp.my_id, hint, 8);
	ck_assert_mem_eq(sv->ipv6cp.peer_id, hint, 8);
	uint8_t req[8];
	frame_ifid(wire_find(1, PPP_PROTO_IPV6CP, PPP_CONF_REQ, 1), req);
	ck_assert_mem_eq(req, hint, 8);
	ck_assert(logged(&L.side[0], "ipv6cp peer asked for interface-id 00:00:00:00:00:00:00:00 "
	                             "(none), suggesting"));
	check_roundtrip();
}
END_TEST

START_TEST(zero_identifier_forever_ends_in_reject)
{
	/* a peer that keeps asking for zero: Max-Failure (5) Naks, then the option is
	 * rejected and IPV6CP opens without the peer's identifier */
	h_init(&L);
	rewrites = 100;
	L.drop = client_asks_zero;
	both_up_first();
	struct ppp_session *sv = &L.side[0].s, *cl = &L.side[1].s;
	ck_assert(ppp_fsm_opened(&sv->ipv6cp.fsm));
	ck_assert(ppp_fsm_opened(&cl->ipv6cp.fsm));
	ck_assert_ptr_nonnull(wire_find(0, PPP_PROTO_IPV6CP, PPP_CONF_NAK, 4));
	ck_assert_ptr_null(wire_find(0, PPP_PROTO_IPV6CP, PPP_CONF_NAK, 5));
	ck_assert_ptr_nonnull(wire_find(0, PPP_PROTO_IPV6CP, PPP_CONF_REJ, 0));
	ck_assert(cl->ipv6cp.rej_ifid);
	ck_assert(!sv->ipv6cp.peer_has_id);
	ck_assert(logged(&L.side[0], "peer=none\n"));
	ck_assert(logged(&L.side[1], " (unconfirmed) peer="));
	ck_assert(ppp_fsm_opened(&sv->ipcp.fsm));
}
END_TEST

START_TEST(collision_is_nakd_and_resolved)
{
	/* both sides start from the same identifier */
	static const uint8_t same[8] = {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80};
	h_init(&L);
	for (int i = 0; i < 2; i++) {
		ppp_session_free(&L.side[i].s);
		ppp_session_init(&L.side[i].s, &L.side[i].conf, &L.side[i].cbs);
		memcpy(L.side[i].s.ipv6cp.my_id, same, 8);
	}
	ppp_session_start(&L.side[0].s, L.now);
	ppp_session_start(&L.side[1].s, L.now);
	h_run(&L, 20000);
	struct ppp_session *sv = &L.side[0].s, *cl = &L.side[1].s;
	ck_assert(ppp_fsm_opened(&sv->ipv6cp.fsm));
	ck_assert(ppp_fsm_opened(&cl->ipv6cp.fsm));
	/* both proposed the same value; someone Nak'd it; the result is unique */
	uint8_t a[8], b[8];
	frame_ifid(wire_find(0, PPP_PROTO_IPV6CP, PPP_CONF_REQ, 0), a);
	frame_ifid(wire_find(1, PPP_PROTO_IPV6CP, PPP_CONF_REQ, 0), b);
	ck_assert_mem_eq(a, same, 8);
	ck_assert_mem_eq(b, same, 8);
	ck_assert(wire_find(0, PPP_PROTO_IPV6CP, PPP_CONF_NAK, 0) ||
	          wire_find(1, PPP_PROTO_IPV6CP, PPP_CONF_NAK, 0));
	ck_assert(memcmp(sv->ipv6cp.my_id, cl->ipv6cp.my_id, 8) != 0);
	ck_assert_mem_eq(sv->ipv6cp.my_id, cl->ipv6cp.peer_id, 8);
	ck_assert_mem_eq(cl->ipv6cp.my_id, sv->ipv6cp.peer_id, 8);
	ck_assert(!id_zero(sv->ipv6cp.my_id) && !id_zero(cl->ipv6cp.my_id));
	ck_assert(logged(&L.side[0], "(ours), suggesting") || logged(&L.side[1], "(ours), suggesting"));
	check_roundtrip();
}
END_TEST

START_TEST(collision_in_opened_and_nak_of_our_suggestion)
{
	h_init(&L);
	both_up_first();
	struct ppp_session *sv = &L.side[0].s;
	uint8_t mine[8], f[32], hint[8];
	memcpy(mine, sv->ipv6cp.my_id, 8);
	/* a request for the server's own identifier: Nak with a different one */
	unsigned before = L.nwire;
	size_t n = ipv6cp_frame(f, PPP_CONF_REQ, 0x42, mine);
	ppp_session_input(sv, f, n, L.now);
	/* RCR- in Opened: tld, scr, scn */
	ck_assert_uint_eq(L.nwire, before + 2);
	struct ppp_msg m;
	ck_assert_int_eq(h_decode(&L.wire[before + 1], &m), 0);
	ck_assert_uint_eq(m.cp.code, PPP_CONF_NAK);
	ck_assert_uint_eq(m.cp.id, 0x42);
	frame_ifid(&L.wire[before + 1], hint);
	ck_assert(memcmp(hint, mine, 8) != 0);
	ck_assert(!id_zero(hint));
	ck_assert(!sv->ipv6cp_up);
	ck_assert(ppp_fsm_opened(&sv->ipcp.fsm));
	/* the peer answers our request with a Nak naming the identifier we suggested to
	 * it: that one is taken, so we draw a new one (RFC 5072 section 4.1) */
	n = ipv6cp_frame(f, PPP_CONF_NAK, sv->ipv6cp.fsm.id, hint);
	ppp_session_input(sv, f, n, L.now);
	ck_assert_uint_eq(L.nwire, before + 3);
	uint8_t next[8];
	frame_ifid(&L.wire[before + 2], next);
	ck_assert_mem_eq(next, sv->ipv6cp.my_id, 8);
	ck_assert(memcmp(next, hint, 8) != 0);
	ck_assert(!id_zero(next));
	ck_assert_uint_eq(sv->ipv6cp.renewals, 1);
	ck_assert(logged(&L.side[0], "which is taken: trying"));
	/* a Nak with a fresh value is taken as is */
	static const uint8_t fresh[8] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
	n = ipv6cp_frame(f, PPP_CONF_NAK, sv->ipv6cp.fsm.id, fresh);
	ppp_session_input(sv, f, n, L.now);
	frame_ifid(&L.wire[before + 3], next);
	ck_assert_mem_eq(next, fresh, 8);
	/* let the two sessions settle: IPV6CP comes back with the new identifiers */
	L.qn[0] = L.qn[1] = 0;
	h_run(&L, L.now + 30000);
	ck_assert(ppp_fsm_opened(&sv->ipv6cp.fsm));
	ck_assert(ppp_fsm_opened(&L.side[1].s.ipv6cp.fsm));
	ck_assert_mem_eq(sv->ipv6cp.my_id, fresh, 8);
	ck_assert_mem_eq(L.side[1].s.ipv6cp.peer_id, fresh, 8);
	ck_assert(!L.side[0].finished);
}
END_TEST

/* The client rejects the Interface-Identifier in the server's requests (as a peer
 * without the option would): the request is turned into a Configure-Reject. */
static bool client_rejects_ifid(struct h_link *l, int from, const uint8_t *f, size_t n)
{
	struct ppp_msg m;
	struct diag_err e;
	if (from != 0 || ppp_decode(f, n, &m, &e) != 0) return false;
	if (m.proto != PPP_PROTO_IPV6CP || m.cp.code != PPP_CONF_REQ || m.cp.nopts == 0) return false;
	uint8_t b[1600];
	memcpy(b, f, n);
	b[m.hdr_len] = PPP_CONF_REJ;
	push(l, 0, b, n);
	return true;
}

START_TEST(peer_rejects_the_option)
{
	h_init(&L);
	L.drop = client_rejects_ifid;
	both_up_first();
	struct ppp_session *sv = &L.side[0].s, *cl = &L.side[1].s;
	/* RFC 5072: the option is dropped from our requests; IPV6CP opens without it */
	ck_assert(ppp_fsm_opened(&sv->ipv6cp.fsm));
	ck_assert(ppp_fsm_opened(&cl->ipv6cp.fsm));
	ck_assert(sv->ipv6cp.rej_ifid);
	ck_assert(!id_zero(sv->ipv6cp.my_id));
	struct ppp_msg m;
	const struct h_frame *second = wire_find(0, PPP_PROTO_IPV6CP, PPP_CONF_REQ, 1);
	ck_assert_ptr_nonnull(second);
	ck_assert_int_eq(h_decode(second, &m), 0);
	ck_assert_uint_eq(m.cp.nopts, 0);
	/* the client's identifier is still Acked and known to the server */
	ck_assert(sv->ipv6cp.peer_has_id);
	ck_assert_mem_eq(sv->ipv6cp.peer_id, cl->ipv6cp.my_id, 8);
	ck_assert(!cl->ipv6cp.peer_has_id);
	char a[24], b[24], line[120];
	ppp_ifid_str(sv->ipv6cp.my_id, a, sizeof a);
	ppp_ifid_str(cl->ipv6cp.my_id, b, sizeof b);
	snprintf(line, sizeof line, "ncp-up: ipv6cp interface-id local=%s (unconfirmed) peer=%s\n",
	         a, b);
	ck_assert_msg(logged(&L.side[0], line), "missing '%s' in\n%s", line, L.side[0].log);
	snprintf(line, sizeof line, "ncp-up: ipv6cp interface-id local=%s peer=none\n", b);
	ck_assert(logged(&L.side[1], line));
	ck_assert(logged(&L.side[0], "ipv6cp peer rejected the Interface-Identifier option"));
	ck_assert(ppp_fsm_opened(&sv->ipcp.fsm));
}
END_TEST

START_TEST(peer_protocol_rejects_ipv6cp)
{
	h_init(&L);
	L.side[1].conf.ipv6 = false; /* the client does not speak IPV6CP */
	both_up_first();
	struct ppp_session *sv = &L.side[0].s;
	/* the client sent an LCP Protocol-Reject naming IPV6CP */
	bool seen = false;
	for (unsigned i = 0; i < L.nwire; i++) {
		struct ppp_msg m;
		if (L.wire_from[i] != 1 || h_decode(&L.wire[i], &m) != 0) continue;
		if (m.proto == PPP_PROTO_LCP && m.cp.code == PPP_PROTO_REJ &&
		    m.cp.rejected_proto == PPP_PROTO_IPV6CP)
			seen = true;
	}
	ck_assert(seen);
	ck_assert_uint_eq(wire_count(1, PPP_PROTO_IPV6CP), 0);
	/* the server's IPV6CP stops; the link stays up with IPCP */
	ck_assert_int_eq(sv->ipv6cp.fsm.state, PPP_ST_STOPPED);
	ck_assert(!sv->ipv6cp_up);
	ck_assert(logged(&L.side[0], "ncp-fail: IPV6CP: rejected by the peer"));
	ck_assert(sv->was_up);
	ck_assert(ppp_fsm_opened(&sv->ipcp.fsm));
	ck_assert(ppp_fsm_opened(&sv->lcp.fsm));
	unsigned sent = wire_count(0, PPP_PROTO_IPV6CP);
	h_run(&L, L.now + 120000);
	ck_assert(!L.side[0].finished);
	ck_assert(!L.side[1].finished);
	ck_assert_uint_eq(wire_count(0, PPP_PROTO_IPV6CP), sent); /* no retransmission */
	ck_assert(ppp_fsm_opened(&sv->ipcp.fsm));
	ck_assert_int_eq(sv->win_error, 0);
}
END_TEST

START_TEST(flag_off_rejects_ipv6cp_and_ipv6)
{
	h_init(&L);
	L.side[0].conf.ipv6 = false;
	both_up_first();
	struct ppp_session *sv = &L.side[0].s, *cl = &L.side[1].s;
	ck_assert_uint_eq(wire_count(0, PPP_PROTO_IPV6CP), 0);
	ck_assert_int_eq(sv->ipv6cp.fsm.state, PPP_ST_INITIAL);
	ck_assert_ptr_nonnull(wire_find(0, PPP_PROTO_LCP, PPP_PROTO_REJ, 0));
	/* the client, which does speak it, gives IPV6CP up and keeps IPv4 */
	ck_assert_int_eq(cl->ipv6cp.fsm.state, PPP_ST_STOPPED);
	ck_assert(logged(&L.side[1], "ncp-fail: IPV6CP: rejected by the peer"));
	ck_assert(ppp_fsm_opened(&cl->ipcp.fsm));
	ck_assert(!logged(&L.side[0], "ipv6cp interface-id"));
	/* IPv6 datagrams are Protocol-Rejected too */
	unsigned before = L.nwire;
	static const uint8_t v6[] = {0xff, 0x03, 0x00, 0x57, 0x60, 0, 0, 0, 0, 0, 58, 255};
	ppp_session_input(sv, v6, sizeof v6, L.now);
	ck_assert_uint_eq(L.nwire, before + 1);
	struct ppp_msg m;
	ck_assert_int_eq(h_decode(&L.wire[before], &m), 0);
	ck_assert_uint_eq(m.cp.code, PPP_PROTO_REJ);
	ck_assert_uint_eq(m.cp.rejected_proto, PPP_PROTO_IPV6);
	/* a Protocol-Reject of IPV6CP aimed at a server that never started it is harmless */
	h_run(&L, L.now + 60000);
	ck_assert(!L.side[0].finished && !L.side[1].finished);
}
END_TEST

static bool client_ipv6cp_silent(struct h_link *l, int from, const uint8_t *f, size_t n)
{
	struct ppp_msg m;
	struct diag_err e;
	(void)l;
	return from == 1 && ppp_decode(f, n, &m, &e) == 0 && m.proto == PPP_PROTO_IPV6CP;
}

START_TEST(silent_ipv6cp_peer_leaves_link_up)
{
	h_init(&L);
	L.drop = client_ipv6cp_silent;
	both_up_first();
	h_run(&L, 100000);
	struct ppp_session *sv = &L.side[0].s;
	ck_assert_int_eq(sv->ipv6cp.fsm.state, PPP_ST_STOPPED);
	ck_assert(sv->ipv6cp.fsm.timed_out);
	ck_assert_uint_eq(wire_count(0, PPP_PROTO_IPV6CP), 10); /* Max-Configure */
	ck_assert(logged(&L.side[0], "ncp-fail: IPV6CP: peer did not answer 10 Configure-Requests"));
	ck_assert(!L.side[0].finished);
	ck_assert(ppp_fsm_opened(&sv->ipcp.fsm));
}
END_TEST

START_TEST(lcp_renegotiation_brings_ipv6cp_back)
{
	h_init(&L);
	both_up_first();
	ck_assert(L.side[0].s.ipv6cp_up);
	ppp_fsm_event(&L.side[1].s.lcp.fsm, PPP_EV_RCA, NULL, L.now);
	ck_assert(!L.side[1].s.ipv6cp_up);
	h_run(&L, L.now + 20000);
	for (int i = 0; i < 2; i++) {
		ck_assert(ppp_fsm_opened(&L.side[i].s.ipv6cp.fsm));
		ck_assert(L.side[i].s.ipv6cp_up);
	}
	ck_assert_mem_eq(L.side[0].s.ipv6cp.my_id, L.side[1].s.ipv6cp.peer_id, 8);
}
END_TEST

START_TEST(malformed_and_extra_options_rejected)
{
	h_init(&L);
	both_up_first();
	struct ppp_session *sv = &L.side[0].s;
	/* Interface-Identifier plus IPv6-Compression-Protocol: the latter is rejected */
	static const uint8_t req[] = {0xff, 0x03, 0x80, 0x57, 1, 9, 0, 18, 1, 10, 1, 2, 3, 4, 5, 6, 7, 8,
	                              2, 4, 0x00, 0x4f};
	unsigned before = L.nwire;
	ppp_session_input(sv, req, sizeof req, L.now);
	ck_assert_uint_eq(L.nwire, before + 2);
	struct ppp_msg m;
	ck_assert_int_eq(h_decode(&L.wire[before + 1], &m), 0);
	ck_assert_uint_eq(m.cp.code, PPP_CONF_REJ);
	ck_assert_uint_eq(m.cp.nopts, 1);
	ck_assert_uint_eq(m.cp.opts[0].type, 2);
	/* a bad option length is a decode error: nothing is answered */
	static const uint8_t bad[] = {0xff, 0x03, 0x80, 0x57, 1, 10, 0, 10, 1, 6, 1, 2, 3, 4};
	unsigned bad_before = sv->rx_bad;
	before = L.nwire;
	ppp_session_input(sv, bad, sizeof bad, L.now);
	ck_assert_uint_eq(L.nwire, before);
	ck_assert_uint_eq(sv->rx_bad, bad_before + 1);
	ck_assert(ppp_fsm_opened(&sv->ipcp.fsm));
}
END_TEST

/* public/pcaps/johnsamples__lulu-password-pptp.pcap frames 38 and 39: a Linux client's
 * IPV6CP Configure-Request, and the LCP Protocol-Reject pptpd answered it with (PPP
 * frames as they follow the GRE header, no address/control bytes). */
static const uint8_t lulu_f38[] = {
	0x80, 0x57, 0x01, 0x05, 0x00, 0x0e, 0x01, 0x0a, 0xdc, 0x15, 0x15, 0x9b,
	0x59, 0x57, 0xc9, 0x6d,
};
static const uint8_t lulu_f39[] = {
	0xc0, 0x21, 0x08, 0x02, 0x00, 0x14, 0x80, 0x57, 0x01, 0x05, 0x00, 0x0e,
	0x01, 0x0a, 0xdc, 0x15, 0x15, 0x9b, 0x59, 0x57, 0xc9, 0x6d,
};

START_TEST(captured_request_and_reject)
{
	static const uint8_t lulu_id[8] = {0xdc, 0x15, 0x15, 0x9b, 0x59, 0x57, 0xc9, 0x6d};
	h_init(&L);
	both_up_first();
	/* the captured client's request reaches our server: Acked as is */
	struct ppp_session *sv = &L.side[0].s;
	unsigned before = L.nwire;
	ppp_session_input(sv, lulu_f38, sizeof lulu_f38, L.now);
	ck_assert_uint_eq(L.nwire, before + 2); /* RCR+ in Opened: tld, scr, sca */
	struct ppp_msg m;
	ck_assert_int_eq(h_decode(&L.wire[before + 1], &m), 0);
	ck_assert_uint_eq(m.proto, PPP_PROTO_IPV6CP);
	ck_assert_uint_eq(m.cp.code, PPP_CONF_ACK);
	ck_assert_uint_eq(m.cp.id, 5);
	ck_assert_uint_eq(m.hdr_len + m.cp.length, L.wire[before + 1].len);
	ck_assert_mem_eq(L.wire[before + 1].buf + m.hdr_len + 1, lulu_f38 + 3, sizeof lulu_f38 - 3);
	ck_assert_mem_eq(sv->ipv6cp.peer_id, lulu_id, 8);
	/* the captured server's Protocol-Reject reaches our client: IPV6CP stops, IPv4 stays */
	struct ppp_session *cl = &L.side[1].s;
	ck_assert(cl->ipv6cp_up);
	ppp_session_input(cl, lulu_f39, sizeof lulu_f39, L.now);
	ck_assert(!cl->ipv6cp_up);
	ck_assert_int_eq(cl->ipv6cp.fsm.state, PPP_ST_STOPPING); /* RXJ- in Opened */
	L.qn[0] = L.qn[1] = 0;
	h_run(&L, L.now + 60000);
	ck_assert(ppp_fsm_opened(&cl->ipcp.fsm));
	ck_assert(!L.side[1].finished);
	ck_assert(!L.side[0].finished);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ppp_ipv6cp");
	TCase *t = tcase_create("ipv6cp");
	tcase_add_test(t, both_sides_open_ipcp_and_ipv6cp);
	tcase_add_test(t, zero_identifier_is_nakd_with_a_suggestion);
	tcase_add_test(t, zero_identifier_forever_ends_in_reject);
	tcase_add_test(t, collision_is_nakd_and_resolved);
	tcase_add_test(t, collision_in_opened_and_nak_of_our_suggestion);
	tcase_add_test(t, peer_rejects_the_option);
	tcase_add_test(t, peer_protocol_rejects_ipv6cp);
	tcase_add_test(t, flag_off_rejects_ipv6cp_and_ipv6);
	tcase_add_test(t, silent_ipv6cp_peer_leaves_link_up);
	tcase_add_test(t, lcp_renegotiation_brings_ipv6cp_back);
	tcase_add_test(t, malformed_and_extra_options_rejected);
	tcase_add_test(t, captured_request_and_reject);
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
