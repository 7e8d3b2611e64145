/* The PPTP control connection (engine/pptp/pptp_ctrl.h), PAC against PNS over a mock
 * byte stream with injected time: every RFC 2637 message, the framing of a stream cut
 * anywhere, bad cookies and lengths, the keepalive and set-up timers, refusals with
 * their result codes; and one call's enhanced GRE (engine/pptp/pptp_gre.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gre.h"
#include "pptp.h"
#include "pptp/pptp_ctrl.h"
#include "pptp/pptp_gre.h"

struct end {
	struct pptp_conn c;
	struct pptp_ctrl_conf conf;
	struct pptp_ctrl_cbs cbs;
	uint8_t out[8192];         /* bytes sent, not yet delivered */
	size_t out_len;
	uint8_t sent[16][PPTP_CTRL_MSG_MAX]; /* the last messages sent, for inspection */
	size_t sent_len[16];
	unsigned nsent;
	char log[8192];
	size_t log_len;
	unsigned calls_up, calls_down, ports_used, ports_max;
	uint16_t last_up, last_down;
	uint8_t down_result, down_error;
	bool no_ids;
	uint16_t next_id;
};

static struct end pac, pns;
static uint64_t now;

static void e_send(void *ctx, const uint8_t *b, size_t len)
{
	struct end *e = ctx;
	ck_assert_uint_le(e->out_len + len, sizeof e->out);
	memcpy(e->out + e->out_len, b, len);
	e->out_len += len;
	unsigned k = e->nsent % 16;
	memcpy(e->sent[k], b, len);
	e->sent_len[k] = len;
	e->nsent++;
}

static void e_event(void *ctx, enum pptp_ev kind, uint16_t call_id, const char *text)
{
	struct end *e = ctx;
	(void)call_id;
	if (kind == PPTP_EV_TRACE) return;
	int n = snprintf(e->log + e->log_len, sizeof e->log - e->log_len, "%s\n", text);
	if (n > 0 && e->log_len + (size_t)n < sizeof e->log) e->log_len += (size_t)n;
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
	ck_assert_uint_gt(e->ports_used, 0);
	e->ports_used--;
}

static uint16_t e_call_id(void *ctx)
{
	struct end *e = ctx;
	return e->no_ids ? 0 : e->next_id++;
}

static void e_call_id_release(void *ctx, uint16_t id) { (void)ctx; (void)id; }

static void e_call_up(void *ctx, uint16_t id)
{
	struct end *e = ctx;
	e->calls_up++;
	e->last_up = id;
}

static void e_call_down(void *ctx, uint16_t id, uint8_t result, uint8_t error)
{
	struct end *e = ctx;
	e->calls_down++;
	e->last_down = id;
	e->down_result = result;
	e->down_error = error;
}

static void end_init(struct end *e, bool is_pns)
{
	memset(e, 0, sizeof *e);
	pptp_ctrl_conf_default(&e->conf, is_pns);
	e->cbs = (struct pptp_ctrl_cbs){.ctx = e, .send = e_send, .event = e_event,
		.call_up = e_call_up, .call_down = e_call_down};
	if (!is_pns) {
		e->cbs.port_acquire = e_port_acquire;
		e->cbs.port_release = e_port_release;
		e->cbs.call_id = e_call_id;
		e->cbs.call_id_release = e_call_id_release;
		e->ports_max = 10;
		e->next_id = 4000;
	}
	pptp_ctrl_init(&e->c, &e->conf, &e->cbs, now);
}

static void setup(void)
{
	now = 1000000;
	end_init(&pac, false);
	end_init(&pns, true);
}

/* Deliver what `from` sent to `to` in chunks of `chunk` bytes (0: all at once). */
static void deliver(struct end *from, struct end *to, size_t chunk)
{
	size_t len = from->out_len;
	uint8_t buf[8192];
	memcpy(buf, from->out, len);
	from->out_len = 0;
	for (size_t off = 0; off < len;) {
		size_t n = chunk && len - off > chunk ? chunk : len - off;
		pptp_ctrl_input(&to->c, buf + off, n, now);
		off += n;
	}
}

static void pump(void)
{
	for (int i = 0; i < 10 && (pac.out_len || pns.out_len); i++) {
		deliver(&pns, &pac, 0);
		deliver(&pac, &pns, 0);
	}
}

/* The last message `e` sent, decoded. */
static struct pptp_msg last_sent(struct end *e)
{
	ck_assert_uint_gt(e->nsent, 0);
	unsigned k = (e->nsent - 1) % 16;
	struct pptp_msg m;
	struct diag_err err;
	ck_assert_int_eq(pptp_decode(e->sent[k], e->sent_len[k], &m, &err), 0);
	return m;
}

static void connect_both(void)
{
	pptp_pns_open(&pns.c, now);
	pump();
	ck_assert_int_eq(pac.c.state, PPTP_CONN_ESTABLISHED);
	ck_assert_int_eq(pns.c.state, PPTP_CONN_ESTABLISHED);
}

static uint16_t place_call(void)
{
	uint16_t id = pptp_pns_call(&pns.c, now);
	ck_assert_uint_ne(id, 0);
	pump();
	return id;
}

START_TEST(setup_and_call)
{
	pptp_pns_open(&pns.c, now);
	struct pptp_msg q = last_sent(&pns);
	ck_assert_int_eq(q.ctrl_type, PPTP_SCCRQ);
	pump();
	struct pptp_msg r = last_sent(&pac);
	ck_assert_int_eq(r.ctrl_type, PPTP_SCCRP);
	ck_assert_int_eq(r.result, 1);
	ck_assert_int_eq(r.proto_version, PPTP_VERSION);
	ck_assert_int_eq(r.framing_caps, PPTP_FRAMING_ASYNC | PPTP_FRAMING_SYNC);
	ck_assert_int_eq(r.bearer_caps, PPTP_BEARER_ANALOG | PPTP_BEARER_DIGITAL);
	ck_assert_int_eq(r.max_channels, 4);
	ck_assert_int_eq((int)r.host_name.len, 4);
	ck_assert_str_eq(pac.c.peer_host, "vnet-pns");
	ck_assert_int_eq(pns.c.state, PPTP_CONN_ESTABLISHED);

	uint16_t id = place_call();
	struct pptp_msg o = last_sent(&pac);
	ck_assert_int_eq(o.ctrl_type, PPTP_OCRP);
	ck_assert_int_eq(o.result, 1);
	ck_assert_int_eq(o.peer_call_id, id);
	ck_assert_int_eq(o.call_id, 4000);
	ck_assert_int_eq(o.recv_window, 64);
	ck_assert_uint_eq(pac.calls_up, 1);
	ck_assert_uint_eq(pns.calls_up, 1);
	ck_assert_uint_eq(pac.ports_used, 1);
	const struct pptp_call *k = pptp_ctrl_call(&pac.c, 4000);
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(k->peer_call_id, id);
	ck_assert_int_eq(k->peer_rwin, 64);
	ck_assert_int_eq(k->peer_ppd, 0);
	ck_assert_int_eq(pptp_ctrl_call(&pns.c, id)->peer_call_id, 4000);
}
END_TEST

/* The stream cut at every size, and several messages in one chunk. */
START_TEST(framing_any_split)
{
	for (size_t chunk = 1; chunk <= 13; chunk++) {
		setup();
		pptp_pns_open(&pns.c, now);
		pptp_pns_call(&pns.c, now); /* not established yet: refused locally */
		ck_assert_uint_eq(pns.nsent, 1);
		deliver(&pns, &pac, chunk);
		deliver(&pac, &pns, chunk);
		ck_assert_int_eq(pac.c.state, PPTP_CONN_ESTABLISHED);
		/* two OCRQs and an Echo-Request in one buffer, delivered in small pieces */
		pptp_pns_call(&pns.c, now);
		pptp_pns_call(&pns.c, now);
		struct pptp_msg e;
		pptp_msg_init(&e, PPTP_ECHO_RQ);
		e.identifier = 77;
		uint8_t b[64];
		size_t n = pptp_encode(&e, b, sizeof b);
		e_send(&pns, b, n);
		deliver(&pns, &pac, chunk);
		ck_assert_uint_eq(pac.calls_up, 2);
		struct pptp_msg r = last_sent(&pac);
		ck_assert_int_eq(r.ctrl_type, PPTP_ECHO_RP);
		ck_assert_uint_eq(r.identifier, 77);
		ck_assert_int_eq(r.result, 1);
		ck_assert_uint_eq(pac.c.rxlen, 0);
	}
}
END_TEST

START_TEST(bad_cookie_closes)
{
	pptp_pns_open(&pns.c, now);
	pns.out[5] ^= 0x55; /* inside the magic cookie */
	deliver(&pns, &pac, 3);
	ck_assert_int_eq(pac.c.state, PPTP_CONN_CLOSED);
	ck_assert_ptr_nonnull(strstr(pac.c.why, "magic cookie"));
	ck_assert_uint_eq(pac.nsent, 0);
	/* nothing is read after the end */
	pptp_ctrl_input(&pac.c, (const uint8_t *)"not-a-header", 12, now);
	ck_assert_uint_eq(pac.c.st.rx, 0);
}
END_TEST

START_TEST(bad_lengths_close)
{
	/* over the limit, under the header, and a message the decoder refuses */
	const uint16_t lens[] = {PPTP_CTRL_MSG_MAX + 1, 1000, 11, 0, 20};
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		setup();
		uint8_t b[16] = {0, 0, 0, 1, 0x1a, 0x2b, 0x3c, 0x4d, 0, 1, 0, 0};
		b[0] = (uint8_t)(lens[i] >> 8);
		b[1] = (uint8_t)lens[i];
		pptp_ctrl_input(&pac.c, b, 12, now);
		if (lens[i] == 20) pptp_ctrl_input(&pac.c, b, 8, now); /* SCCRQ of 20 bytes: too short */
		ck_assert_int_eq(pac.c.state, PPTP_CONN_CLOSED);
		ck_assert(pac.c.why[0]);
		ck_assert_uint_eq(pac.nsent, 0);
	}
}
END_TEST

START_TEST(message_before_sccrq_closes)
{
	struct pptp_msg m;
	pptp_msg_init(&m, PPTP_OCRQ);
	uint8_t b[256];
	size_t n = pptp_encode(&m, b, sizeof b);
	pptp_ctrl_input(&pac.c, b, n, now);
	ck_assert_int_eq(pac.c.state, PPTP_CONN_CLOSED);
	ck_assert_ptr_nonnull(strstr(pac.c.why, "before Start-Control-Connection-Request"));
}
END_TEST

START_TEST(bad_version_refused)
{
	struct pptp_msg m;
	pptp_msg_init(&m, PPTP_SCCRQ);
	m.proto_version = 0x0200;
	uint8_t b[256];
	size_t n = pptp_encode(&m, b, sizeof b);
	pptp_ctrl_input(&pac.c, b, n, now);
	struct pptp_msg r = last_sent(&pac);
	ck_assert_int_eq(r.ctrl_type, PPTP_SCCRP);
	ck_assert_int_eq(r.result, 5);
	ck_assert_int_eq(pac.c.state, PPTP_CONN_CLOSED);
}
END_TEST

START_TEST(second_sccrq_answered)
{
	connect_both();
	pptp_pns_open(&pns.c, now); /* a confused PNS says SCCRQ again */
	pns.c.state = PPTP_CONN_ESTABLISHED;
	pump();
	struct pptp_msg r = last_sent(&pac);
	ck_assert_int_eq(r.ctrl_type, PPTP_SCCRP);
	ck_assert_int_eq(r.result, 3);
	ck_assert_int_eq(pac.c.state, PPTP_CONN_ESTABLISHED);
}
END_TEST

START_TEST(sccrq_deadline)
{
	ck_assert_uint_eq(pptp_ctrl_deadline(&pac.c), now + 10000);
	now += 9999;
	pptp_ctrl_tick(&pac.c, now);
	ck_assert_int_eq(pac.c.state, PPTP_CONN_IDLE);
	now += 1;
	pptp_ctrl_tick(&pac.c, now);
	ck_assert_int_eq(pac.c.state, PPTP_CONN_CLOSED);
	ck_assert_ptr_nonnull(strstr(pac.c.why, "no Start-Control-Connection-Request within 10 s"));
}
END_TEST

START_TEST(echo_keepalive)
{
	connect_both();
	place_call();
	pns.conf.echo_ms = 0; /* the PNS sends none of its own */
	uint64_t t0 = now;
	ck_assert_uint_eq(pptp_ctrl_deadline(&pac.c), t0 + 60000);
	now = t0 + 60000;
	pptp_ctrl_tick(&pac.c, now);
	struct pptp_msg e = last_sent(&pac);
	ck_assert_int_eq(e.ctrl_type, PPTP_ECHO_RQ);
	ck_assert_uint_eq(pac.c.st.echo_sent, 1);
	pump(); /* the PNS answers */
	ck_assert(!pac.c.echo_out);
	ck_assert_int_eq(pac.c.state, PPTP_CONN_ESTABLISHED);
	/* the next one is left unanswered: closed 60 s after it left */
	now += 60000;
	pptp_ctrl_tick(&pac.c, now);
	ck_assert(pac.c.echo_out);
	pns.out_len = 0;
	pac.out_len = 0;
	now += 59999;
	pptp_ctrl_tick(&pac.c, now);
	ck_assert_int_eq(pac.c.state, PPTP_CONN_ESTABLISHED);
	now += 1;
	pptp_ctrl_tick(&pac.c, now);
	ck_assert_int_eq(pac.c.state, PPTP_CONN_CLOSED);
	ck_assert_ptr_nonnull(strstr(pac.c.why, "Echo-Request unanswered"));
	ck_assert_uint_eq(pac.calls_down, 1);
	ck_assert_uint_eq(pac.ports_used, 0);
}
END_TEST

START_TEST(no_call_stops)
{
	connect_both();
	now += 60000;
	pptp_ctrl_tick(&pac.c, now);
	struct pptp_msg s = last_sent(&pac);
	ck_assert_int_eq(s.ctrl_type, PPTP_STOPCCRQ);
	ck_assert_int_eq(pac.c.state, PPTP_CONN_STOPPING);
	pump();
	ck_assert_int_eq(pac.c.state, PPTP_CONN_CLOSED);
	ck_assert_int_eq(pns.c.state, PPTP_CONN_CLOSED);
	ck_assert_ptr_nonnull(strstr(pac.c.why, "no call placed"));
}
END_TEST

START_TEST(ocrq_refusals)
{
	connect_both();
	/* no port: general error, no resource */
	pac.ports_max = 0;
	uint16_t id = pptp_pns_call(&pns.c, now);
	pump();
	struct pptp_msg r = last_sent(&pac);
	ck_assert_int_eq(r.ctrl_type, PPTP_OCRP);
	ck_assert_int_eq(r.result, 2);
	ck_assert_int_eq(r.error, 4);
	ck_assert_int_eq(r.peer_call_id, id);
	ck_assert_ptr_null(pptp_ctrl_call(&pns.c, id));
	ck_assert_uint_eq(pns.calls_down, 1);
	ck_assert_int_eq(pns.down_result, 2);
	ck_assert_uint_eq(pac.calls_up, 0);
	ck_assert_uint_eq(pptp_ctrl_active_calls(&pac.c), 0);
	/* no Call ID left: the same answer */
	pac.ports_max = 10;
	pac.no_ids = true;
	pptp_pns_call(&pns.c, now);
	pump();
	r = last_sent(&pac);
	ck_assert_int_eq(r.result, 2);
	ck_assert_int_eq(r.error, 4);
	ck_assert_uint_eq(pac.ports_used, 0);
	/* over the calls per connection: busy */
	pac.no_ids = false;
	pac.conf.max_calls = 2;
	pns.conf.max_calls = 8;
	place_call();
	place_call();
	ck_assert_uint_eq(pac.calls_up, 2);
	pptp_pns_call(&pns.c, now);
	pump();
	r = last_sent(&pac);
	ck_assert_int_eq(r.result, 4);
	ck_assert_uint_eq(pac.ports_used, 2);
	ck_assert_uint_eq(pac.c.st.refused_calls, 3);
	ck_assert_ptr_nonnull(strstr(pac.log, "OCRP result 4 (Busy)"));
}
END_TEST

START_TEST(incoming_calls_refused)
{
	connect_both();
	struct pptp_msg m;
	pptp_msg_init(&m, PPTP_ICRQ);
	m.call_id = 99;
	uint8_t b[256];
	size_t n = pptp_encode(&m, b, sizeof b);
	pptp_ctrl_input(&pac.c, b, n, now);
	struct pptp_msg r = last_sent(&pac);
	ck_assert_int_eq(r.ctrl_type, PPTP_ICRP);
	ck_assert_int_eq(r.result, 3);
	ck_assert_int_eq(r.peer_call_id, 99);
	unsigned sent = pac.nsent;
	pptp_msg_init(&m, PPTP_ICCN);
	n = pptp_encode(&m, b, sizeof b);
	pptp_ctrl_input(&pac.c, b, n, now);
	pptp_msg_init(&m, PPTP_ICRP);
	n = pptp_encode(&m, b, sizeof b);
	pptp_ctrl_input(&pac.c, b, n, now);
	ck_assert_uint_eq(pac.nsent, sent);
	ck_assert_int_eq(pac.c.state, PPTP_CONN_ESTABLISHED);
	ck_assert_uint_eq(pac.calls_up, 0);
}
END_TEST

START_TEST(call_clear_request)
{
	connect_both();
	uint16_t id = place_call();
	pptp_ctrl_call_close(&pns.c, id, 0, 0, NULL, now); /* PNS: CCRQ */
	ck_assert_int_eq(last_sent(&pns).ctrl_type, PPTP_CCRQ);
	pump();
	struct pptp_msg r = last_sent(&pac);
	ck_assert_int_eq(r.ctrl_type, PPTP_CDN);
	ck_assert_int_eq(r.result, 4);
	ck_assert_int_eq(r.call_id, 4000);
	ck_assert_uint_eq(pac.calls_down, 1);
	ck_assert_uint_eq(pac.ports_used, 0);
	ck_assert_uint_eq(pptp_ctrl_active_calls(&pac.c), 0);
	/* a CCRQ for a call that is gone is ignored */
	unsigned sent = pac.nsent;
	struct pptp_msg m;
	pptp_msg_init(&m, PPTP_CCRQ);
	m.call_id = id;
	uint8_t b[64];
	pptp_ctrl_input(&pac.c, b, pptp_encode(&m, b, sizeof b), now);
	ck_assert_uint_eq(pac.nsent, sent);
}
END_TEST

START_TEST(server_clears_call)
{
	connect_both();
	uint16_t id = place_call();
	pptp_ctrl_call_close(&pac.c, 4000, 3, 0, "idle-timeout", now);
	struct pptp_msg r = last_sent(&pac);
	ck_assert_int_eq(r.ctrl_type, PPTP_CDN);
	ck_assert_int_eq(r.result, 3);
	ck_assert_int_eq((int)r.call_stats.len, 12);
	ck_assert_uint_eq(pac.calls_down, 1);
	ck_assert_uint_eq(pac.ports_used, 0);
	pump();
	ck_assert_uint_eq(pns.calls_down, 1);
	ck_assert_int_eq(pns.last_down, id);
	ck_assert_int_eq(pns.down_result, 3);
}
END_TEST

START_TEST(stop_both_ways)
{
	/* the PNS stops: StopCCRP, calls down */
	connect_both();
	place_call();
	pptp_ctrl_stop(&pns.c, 1, "done", now);
	pump();
	ck_assert_int_eq(pac.c.state, PPTP_CONN_CLOSED);
	ck_assert_int_eq(pns.c.state, PPTP_CONN_CLOSED);
	ck_assert_uint_eq(pac.calls_down, 1);
	ck_assert_uint_eq(pac.ports_used, 0);
	ck_assert_ptr_nonnull(strstr(pac.c.why, "the peer stopped"));
	/* the PAC stops: CDN first, then StopCCRQ; the reply closes it */
	setup();
	connect_both();
	place_call();
	pptp_ctrl_stop(&pac.c, 3, "server shutting down", now);
	struct pptp_msg r = last_sent(&pac);
	ck_assert_int_eq(r.ctrl_type, PPTP_STOPCCRQ);
	ck_assert_int_eq(r.reason, 3);
	ck_assert_uint_eq(pac.nsent, 4); /* SCCRP, OCRP, CDN, StopCCRQ */
	pump();
	ck_assert_int_eq(pac.c.state, PPTP_CONN_CLOSED);
	ck_assert_uint_eq(pns.calls_down, 1);
	/* without a reply: closed after stop_ms */
	setup();
	connect_both();
	pptp_ctrl_stop(&pac.c, 2, "stop", now);
	pac.out_len = 0;
	now += 2999;
	pptp_ctrl_tick(&pac.c, now);
	ck_assert_int_eq(pac.c.state, PPTP_CONN_STOPPING);
	now += 1;
	pptp_ctrl_tick(&pac.c, now);
	ck_assert_int_eq(pac.c.state, PPTP_CONN_CLOSED);
}
END_TEST

START_TEST(set_link_info_and_wen)
{
	connect_both();
	place_call();
	struct pptp_msg m;
	pptp_msg_init(&m, PPTP_SLI);
	m.peer_call_id = 4000;
	m.send_accm = 0;
	m.recv_accm = 0x000a0000;
	uint8_t b[256];
	pptp_ctrl_input(&pac.c, b, pptp_encode(&m, b, sizeof b), now);
	const struct pptp_call *k = pptp_ctrl_call(&pac.c, 4000);
	ck_assert_uint_eq(k->send_accm, 0);
	ck_assert_uint_eq(k->recv_accm, 0x000a0000);
	ck_assert_ptr_nonnull(strstr(pac.log, "Set-Link-Info send ACCM 0x00000000 receive ACCM 0x000a0000"));
	pptp_msg_init(&m, PPTP_WEN);
	m.peer_call_id = 4000;
	m.crc_errors = 7;
	pptp_ctrl_input(&pac.c, b, pptp_encode(&m, b, sizeof b), now);
	ck_assert_uint_eq(pac.c.st.wen, 1);
	ck_assert_ptr_nonnull(strstr(pac.log, "WAN-Error-Notify for call 4000: CRC 7"));
	ck_assert_int_eq(pac.c.state, PPTP_CONN_ESTABLISHED);
}
END_TEST

START_TEST(abort_says_nothing)
{
	connect_both();
	place_call();
	unsigned sent = pac.nsent;
	pptp_ctrl_abort(&pac.c, "connection reset");
	ck_assert_uint_eq(pac.nsent, sent);
	ck_assert_int_eq(pac.c.state, PPTP_CONN_CLOSED);
	ck_assert_uint_eq(pac.calls_down, 1);
	ck_assert_uint_eq(pac.ports_used, 0);
	ck_assert_uint_eq(pptp_ctrl_deadline(&pac.c), PPTP_NEVER);
}
END_TEST

/* ---- enhanced GRE ------------------------------------------------------------------- */
static struct gre_msg gre_dec(const uint8_t *b, size_t n)
{
	struct gre_msg m;
	struct diag_err err;
	ck_assert_int_eq(gre_decode(b, n, &m, &err), 0);
	return m;
}

static struct gre_msg gre_pkt(bool s, uint32_t seq, bool a, uint32_t ack, const uint8_t *p, size_t n)
{
	struct gre_msg m;
	gre_msg_init_v1(&m, 4000, s, seq, a, ack, p, n);
	return m;
}

START_TEST(gre_seq_and_acks)
{
	struct pptp_gre g;
	pptp_gre_init(&g, 77, 3, 100, 1000, now);
	uint8_t ppp[4] = {0xff, 0x03, 0xc0, 0x21}, b[64];
	size_t n = pptp_gre_send(&g, ppp, 4, b, sizeof b, now);
	struct gre_msg m = gre_dec(b, n);
	ck_assert(m.s && !m.a);
	ck_assert_uint_eq(m.seq, 0);
	ck_assert_uint_eq(m.call_id, 77);
	ck_assert_uint_eq(m.payload_len, 4);
	/* a frame from the peer: owed an acknowledgement, piggy-backed on the next frame */
	struct gre_msg in = gre_pkt(true, 10, false, 0, ppp, 4);
	ck_assert_int_eq(pptp_gre_input(&g, &in, now), PPTP_GRE_DELIVER);
	ck_assert_uint_eq(pptp_gre_deadline(&g), now + 100);
	n = pptp_gre_send(&g, ppp, 4, b, sizeof b, now);
	m = gre_dec(b, n);
	ck_assert(m.s && m.a);
	ck_assert_uint_eq(m.seq, 1);
	ck_assert_uint_eq(m.ack, 10);
	ck_assert_uint_eq(pptp_gre_deadline(&g), UINT64_MAX);
	/* the next one is acknowledged alone after the delay */
	in = gre_pkt(true, 11, false, 0, ppp, 4);
	pptp_gre_input(&g, &in, now);
	ck_assert_uint_eq(pptp_gre_tick(&g, b, sizeof b, now + 99), 0);
	n = pptp_gre_tick(&g, b, sizeof b, now + 100);
	m = gre_dec(b, n);
	ck_assert(!m.s && m.a);
	ck_assert_uint_eq(m.ack, 11);
	ck_assert_uint_eq(m.payload_len, 0);
	ck_assert_uint_eq(g.st.acks_sent, 1);
}
END_TEST

START_TEST(gre_duplicates_and_wrap)
{
	struct pptp_gre g;
	pptp_gre_init(&g, 77, 64, 100, 1000, now);
	uint8_t ppp[2] = {0xc0, 0x21};
	struct gre_msg in = gre_pkt(true, 0xfffffffeu, false, 0, ppp, 2);
	ck_assert_int_eq(pptp_gre_input(&g, &in, now), PPTP_GRE_DELIVER);
	ck_assert_int_eq(pptp_gre_input(&g, &in, now), PPTP_GRE_DUPLICATE);
	in.seq = 0xffffffffu;
	ck_assert_int_eq(pptp_gre_input(&g, &in, now), PPTP_GRE_DELIVER);
	in.seq = 1; /* across the wrap, with a gap: taken */
	ck_assert_int_eq(pptp_gre_input(&g, &in, now), PPTP_GRE_DELIVER);
	in.seq = 0; /* overtaken on the way: dropped */
	ck_assert_int_eq(pptp_gre_input(&g, &in, now), PPTP_GRE_DUPLICATE);
	in.seq = 0xfffffff0u;
	ck_assert_int_eq(pptp_gre_input(&g, &in, now), PPTP_GRE_DUPLICATE);
	ck_assert_uint_eq(g.st.duplicates, 3);
	ck_assert_uint_eq(g.st.rx, 3);
	ck_assert_uint_eq(g.rcv_last, 1);
	/* an acknowledgement-only packet delivers nothing */
	struct gre_msg a = gre_pkt(false, 0, true, 0, NULL, 0);
	ck_assert_int_eq(pptp_gre_input(&g, &a, now), PPTP_GRE_ACK_ONLY);
}
END_TEST

START_TEST(gre_window)
{
	struct pptp_gre g;
	pptp_gre_init(&g, 77, 2, 100, 1000, now);
	uint8_t ppp[2] = {0x00, 0x21}, b[64];
	ck_assert_uint_ne(pptp_gre_send(&g, ppp, 2, b, sizeof b, now), 0);
	ck_assert_uint_ne(pptp_gre_send(&g, ppp, 2, b, sizeof b, now), 0);
	/* the window of 2 is full: dropped and counted */
	ck_assert_uint_eq(pptp_gre_send(&g, ppp, 2, b, sizeof b, now + 10), 0);
	ck_assert_uint_eq(g.st.window_drops, 1);
	/* an acknowledgement of the first opens one place; one outside the window is ignored */
	struct gre_msg a = gre_pkt(false, 0, true, 100, NULL, 0);
	pptp_gre_input(&g, &a, now);
	ck_assert_uint_eq(pptp_gre_in_flight(&g), 2);
	ck_assert_uint_eq(g.st.bad_acks, 1);
	a.ack = 0;
	pptp_gre_input(&g, &a, now + 20);
	ck_assert_uint_eq(pptp_gre_in_flight(&g), 1);
	size_t n = pptp_gre_send(&g, ppp, 2, b, sizeof b, now + 20);
	ck_assert_uint_eq(gre_dec(b, n).seq, 2);
	ck_assert_uint_eq(pptp_gre_send(&g, ppp, 2, b, sizeof b, now + 30), 0);
	/* silence from the peer: after the timeout the window opens again */
	ck_assert_uint_eq(pptp_gre_send(&g, ppp, 2, b, sizeof b, now + 1019), 0);
	n = pptp_gre_send(&g, ppp, 2, b, sizeof b, now + 1020);
	ck_assert_uint_eq(gre_dec(b, n).seq, 3);
	ck_assert_uint_eq(g.st.ack_timeouts, 1);
	ck_assert_uint_eq(g.st.window_drops, 3);
	/* a window of 0 in the OCRQ is taken as 1 */
	pptp_gre_init(&g, 77, 0, 100, 1000, now);
	ck_assert_uint_ne(pptp_gre_send(&g, ppp, 2, b, sizeof b, now), 0);
	ck_assert_uint_eq(pptp_gre_send(&g, ppp, 2, b, sizeof b, now), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pptp_ctrl");
	TCase *t = tcase_create("ctrl");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, setup_and_call);
	tcase_add_test(t, framing_any_split);
	tcase_add_test(t, bad_cookie_closes);
	tcase_add_test(t, bad_lengths_close);
	tcase_add_test(t, message_before_sccrq_closes);
	tcase_add_test(t, bad_version_refused);
	tcase_add_test(t, second_sccrq_answered);
	tcase_add_test(t, sccrq_deadline);
	tcase_add_test(t, echo_keepalive);
	tcase_add_test(t, no_call_stops);
	tcase_add_test(t, ocrq_refusals);
	tcase_add_test(t, incoming_calls_refused);
	tcase_add_test(t, call_clear_request);
	tcase_add_test(t, server_clears_call);
	tcase_add_test(t, stop_both_ways);
	tcase_add_test(t, set_link_info_and_wen);
	tcase_add_test(t, abort_says_nothing);
	suite_add_tcase(s, t);
	TCase *g = tcase_create("gre");
	tcase_add_checked_fixture(g, setup, NULL);
	tcase_add_test(g, gre_seq_and_acks);
	tcase_add_test(g, gre_duplicates_and_wrap);
	tcase_add_test(g, gre_window);
	suite_add_tcase(s, g);
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
