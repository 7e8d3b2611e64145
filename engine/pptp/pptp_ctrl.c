/* The PPTP control connection, PAC and PNS sides (pptp_ctrl.h). */
#include "pptp/pptp_ctrl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const struct tok pptp_conn_state_names[] = {
	{PPTP_CONN_IDLE, "idle"},
	{PPTP_CONN_WAIT_REPLY, "wait-reply"},
	{PPTP_CONN_ESTABLISHED, "established"},
	{PPTP_CONN_STOPPING, "stopping"},
	{PPTP_CONN_CLOSED, "closed"},
	{0, NULL},
};

static void conn_log(struct pptp_conn *c, enum pptp_ev kind, uint16_t call_id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void conn_log(struct pptp_conn *c, enum pptp_ev kind, uint16_t call_id, const char *fmt, ...)
{
	if (!c->cbs->event) return;
	char line[240];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	c->cbs->event(c->cbs->ctx, kind, call_id, line);
}

void pptp_ctrl_conf_default(struct pptp_ctrl_conf *c, bool is_pns)
{
	memset(c, 0, sizeof *c);
	c->is_pns = is_pns;
	c->host_name = is_pns ? "vnet-pns" : "vnet";
	c->vendor = "vnet";
	c->max_calls = 4;
	c->rwin = 64;
	c->setup_ms = 10000;
	c->call_wait_ms = is_pns ? 0 : 60000;
	c->echo_ms = 60000;
	c->stop_ms = 3000;
}

void pptp_ctrl_init(struct pptp_conn *c, const struct pptp_ctrl_conf *conf,
                    const struct pptp_ctrl_cbs *cbs, uint64_t now)
{
	memset(c, 0, sizeof *c);
	c->conf = conf;
	c->cbs = cbs;
	c->started_ms = c->last_rx_ms = now;
	c->next_call_id = 1;
	c->next_serial = 1;
	c->echo_at = c->stop_at = PPTP_NEVER;
}

static void send_msg(struct pptp_conn *c, const struct pptp_msg *m)
{
	uint8_t buf[PPTP_CTRL_MSG_MAX];
	size_t n = pptp_encode(m, buf, sizeof buf);
	if (!n) return;
	c->st.tx++;
	if (c->cbs->event) {
		char sum[200];
		pptp_summary(m, sum, sizeof sum);
		conn_log(c, PPTP_EV_TRACE, 0, "sent %s", sum);
	}
	c->cbs->send(c->cbs->ctx, buf, n);
}

/* ---- calls ------------------------------------------------------------------------ */
struct pptp_call *pptp_ctrl_call(struct pptp_conn *c, uint16_t call_id)
{
	if (!call_id) return NULL;
	for (unsigned i = 0; i < PPTP_CTRL_CALLS; i++)
		if (c->calls[i].state != PPTP_CALL_FREE && c->calls[i].call_id == call_id)
			return &c->calls[i];
	return NULL;
}

static struct pptp_call *call_by_peer(struct pptp_conn *c, uint16_t peer_call_id)
{
	for (unsigned i = 0; i < PPTP_CTRL_CALLS; i++)
		if (c->calls[i].state == PPTP_CALL_ESTABLISHED && c->calls[i].peer_call_id == peer_call_id)
			return &c->calls[i];
	return NULL;
}

unsigned pptp_ctrl_active_calls(const struct pptp_conn *c)
{
	unsigned n = 0;
	for (unsigned i = 0; i < PPTP_CTRL_CALLS; i++) n += c->calls[i].state != PPTP_CALL_FREE;
	return n;
}

static unsigned max_calls(const struct pptp_conn *c)
{
	unsigned m = c->conf->max_calls;
	return m < 1 ? 1 : m > PPTP_CTRL_CALLS ? PPTP_CTRL_CALLS : m;
}

/* A free slot with a new Call ID; NULL with *no_id set when no ID is left. */
static struct pptp_call *call_new(struct pptp_conn *c, bool *no_id)
{
	*no_id = false;
	if (pptp_ctrl_active_calls(c) >= max_calls(c)) return NULL;
	struct pptp_call *k = NULL;
	for (unsigned i = 0; i < PPTP_CTRL_CALLS && !k; i++)
		if (c->calls[i].state == PPTP_CALL_FREE) k = &c->calls[i];
	if (!k) return NULL;
	uint16_t id = 0;
	if (c->cbs->call_id) {
		id = c->cbs->call_id(c->cbs->ctx);
	} else {
		for (unsigned n = 0; n < 65536 && !id; n++) {
			uint16_t cand = c->next_call_id++;
			if (cand && !pptp_ctrl_call(c, cand)) id = cand;
		}
	}
	if (!id) {
		*no_id = true;
		return NULL;
	}
	memset(k, 0, sizeof *k);
	k->call_id = id;
	k->send_accm = k->recv_accm = 0xffffffffu;
	return k;
}

/* The call is gone: its port and ID back, the owner told when it was established. */
static void call_free(struct pptp_conn *c, struct pptp_call *k, uint8_t result, uint8_t error)
{
	if (k->state == PPTP_CALL_FREE) return;
	bool was_up = k->state == PPTP_CALL_ESTABLISHED || c->conf->is_pns;
	uint16_t id = k->call_id;
	if (k->has_port && c->cbs->port_release) c->cbs->port_release(c->cbs->ctx);
	k->has_port = false;
	k->state = PPTP_CALL_FREE;
	if (c->cbs->call_id_release) c->cbs->call_id_release(c->cbs->ctx, id);
	if (was_up) {
		conn_log(c, PPTP_EV_CALL_DOWN, id, "call %u down: result %u (%s) error %u", id, result,
		     result ? (pptp_result_name(PPTP_CDN, result) ? pptp_result_name(PPTP_CDN, result) : "?")
		            : "none",
		     error);
		if (c->cbs->call_down) c->cbs->call_down(c->cbs->ctx, id, result, error);
	}
}

static void calls_down(struct pptp_conn *c)
{
	for (unsigned i = 0; i < PPTP_CTRL_CALLS; i++) call_free(c, &c->calls[i], 0, 0);
}

static void set_closed(struct pptp_conn *c, const char *why)
{
	if (c->state == PPTP_CONN_CLOSED) return;
	if (why && !c->why[0]) snprintf(c->why, sizeof c->why, "%s", why);
	c->state = PPTP_CONN_CLOSED;
	calls_down(c);
	conn_log(c, PPTP_EV_CONN_DOWN, 0, "control connection closed: %s", c->why[0] ? c->why : "done");
}

void pptp_ctrl_abort(struct pptp_conn *c, const char *why)
{
	set_closed(c, why);
}

static void send_cdn(struct pptp_conn *c, const struct pptp_call *k, uint8_t result,
                     uint8_t error, const char *stats)
{
	struct pptp_msg m;
	pptp_msg_init(&m, PPTP_CDN);
	m.call_id = k->call_id;
	m.result = result;
	m.error = error;
	if (stats) pptp_str_set(&m.call_stats, stats);
	send_msg(c, &m);
}

uint64_t pptp_ctrl_call_close(struct pptp_conn *c, uint16_t call_id, uint8_t result,
                              uint8_t error, const char *stats, uint64_t now)
{
	struct pptp_call *k = pptp_ctrl_call(c, call_id);
	if (!k) return pptp_ctrl_deadline(c);
	if (c->state == PPTP_CONN_ESTABLISHED) {
		if (!c->conf->is_pns) {
			send_cdn(c, k, result, error, stats);
		} else {
			struct pptp_msg m;
			pptp_msg_init(&m, PPTP_CCRQ);
			m.call_id = k->call_id;
			send_msg(c, &m);
		}
	}
	call_free(c, k, result, error);
	(void)now;
	return pptp_ctrl_deadline(c);
}

uint64_t pptp_ctrl_stop(struct pptp_conn *c, uint8_t reason, const char *why, uint64_t now)
{
	if (c->state == PPTP_CONN_CLOSED || c->state == PPTP_CONN_STOPPING) return pptp_ctrl_deadline(c);
	if (why && !c->why[0]) snprintf(c->why, sizeof c->why, "%s", why);
	if (c->state != PPTP_CONN_ESTABLISHED) {
		set_closed(c, why);
		return PPTP_NEVER;
	}
	for (unsigned i = 0; i < PPTP_CTRL_CALLS; i++) {
		struct pptp_call *k = &c->calls[i];
		if (k->state == PPTP_CALL_FREE) continue;
		if (!c->conf->is_pns && k->state == PPTP_CALL_ESTABLISHED)
			send_cdn(c, k, 3, 0, why);
		call_free(c, k, 3, 0);
	}
	struct pptp_msg m;
	pptp_msg_init(&m, PPTP_STOPCCRQ);
	m.reason = reason;
	send_msg(c, &m);
	c->state = PPTP_CONN_STOPPING;
	c->stop_at = now;
	return pptp_ctrl_deadline(c);
}

/* ---- deadlines ---------------------------------------------------------------------- */
uint64_t pptp_ctrl_deadline(const struct pptp_conn *c)
{
	const struct pptp_ctrl_conf *f = c->conf;
	uint64_t d = PPTP_NEVER;
#define EARLIER(x) do { uint64_t v_ = (x); if (v_ < d) d = v_; } while (0)
	switch (c->state) {
	case PPTP_CONN_IDLE:
	case PPTP_CONN_WAIT_REPLY:
		EARLIER(c->started_ms + f->setup_ms);
		break;
	case PPTP_CONN_ESTABLISHED:
		if (f->echo_ms)
			EARLIER(c->echo_out ? c->echo_at + f->echo_ms : c->last_rx_ms + f->echo_ms);
		if (f->call_wait_ms && !c->had_call) EARLIER(c->started_ms + f->call_wait_ms);
		break;
	case PPTP_CONN_STOPPING:
		EARLIER(c->stop_at + f->stop_ms);
		break;
	default:
		break;
	}
#undef EARLIER
	return d;
}

uint64_t pptp_ctrl_tick(struct pptp_conn *c, uint64_t now)
{
	const struct pptp_ctrl_conf *f = c->conf;
	char why[96];
	switch (c->state) {
	case PPTP_CONN_IDLE:
	case PPTP_CONN_WAIT_REPLY:
		if (now >= c->started_ms + f->setup_ms) {
			snprintf(why, sizeof why, "no %s within %u s", c->state == PPTP_CONN_IDLE
			         ? "Start-Control-Connection-Request" : "Start-Control-Connection-Reply",
			         (unsigned)(f->setup_ms / 1000));
			set_closed(c, why);
		}
		break;
	case PPTP_CONN_ESTABLISHED:
		if (f->call_wait_ms && !c->had_call && now >= c->started_ms + f->call_wait_ms) {
			snprintf(why, sizeof why, "no call placed within %u s",
			         (unsigned)(f->call_wait_ms / 1000));
			return pptp_ctrl_stop(c, 1, why, now);
		}
		if (!f->echo_ms) break;
		if (c->echo_out && now >= c->echo_at + f->echo_ms) {
			c->st.echo_missed++;
			snprintf(why, sizeof why, "the peer left the Echo-Request unanswered for %u s",
			         (unsigned)(f->echo_ms / 1000));
			set_closed(c, why);
		} else if (!c->echo_out && now >= c->last_rx_ms + f->echo_ms) {
			struct pptp_msg m;
			pptp_msg_init(&m, PPTP_ECHO_RQ);
			c->echo_id++;
			m.identifier = c->echo_id;
			send_msg(c, &m);
			c->st.echo_sent++;
			c->echo_out = true;
			c->echo_at = now;
		}
		break;
	case PPTP_CONN_STOPPING:
		if (now >= c->stop_at + f->stop_ms)
			set_closed(c, "no Stop-Control-Connection-Reply to our request");
		break;
	default:
		break;
	}
	return pptp_ctrl_deadline(c);
}

/* ---- messages ----------------------------------------------------------------------- */
static void copy_name(char *dst, const struct pptp_str *s)
{
	memcpy(dst, s->p, s->len);
	dst[s->len] = 0;
}

static void pac_sccrq(struct pptp_conn *c, const struct pptp_msg *q)
{
	struct pptp_msg m;
	pptp_msg_init(&m, PPTP_SCCRP);
	m.framing_caps = PPTP_FRAMING_ASYNC | PPTP_FRAMING_SYNC;
	m.bearer_caps = PPTP_BEARER_ANALOG | PPTP_BEARER_DIGITAL;
	m.max_channels = (uint16_t)max_calls(c);
	m.firmware_rev = 1;
	pptp_str_set(&m.host_name, c->conf->host_name);
	pptp_str_set(&m.vendor, c->conf->vendor);
	if (c->state != PPTP_CONN_IDLE) {
		m.result = 3;
		send_msg(c, &m);
		conn_log(c, PPTP_EV_INFO, 0, "second Start-Control-Connection-Request answered with result 3 "
		     "(command channel already exists)");
		return;
	}
	c->peer_version = q->proto_version;
	c->peer_firmware = q->firmware_rev;
	c->peer_framing = q->framing_caps;
	c->peer_bearer = q->bearer_caps;
	copy_name(c->peer_host, &q->host_name);
	copy_name(c->peer_vendor, &q->vendor);
	if (q->proto_version != PPTP_VERSION) {
		m.result = 5;
		send_msg(c, &m);
		char why[96];
		snprintf(why, sizeof why, "protocol version 0x%04x is not supported (0x0100 is): SCCRP "
		         "result 5", q->proto_version);
		set_closed(c, why);
		return;
	}
	m.result = 1;
	send_msg(c, &m);
	c->state = PPTP_CONN_ESTABLISHED;
	conn_log(c, PPTP_EV_CONN_UP, 0, "control connection up (protocol 0x%04x, framing %u, bearer %u)",
	     q->proto_version, (unsigned)q->framing_caps, (unsigned)q->bearer_caps);
}

static void ocrp_refuse(struct pptp_conn *c, const struct pptp_msg *q, uint8_t result,
                        uint8_t error, const char *why)
{
	struct pptp_msg m;
	pptp_msg_init(&m, PPTP_OCRP);
	m.call_id = 0;
	m.peer_call_id = q->call_id;
	m.result = result;
	m.error = error;
	send_msg(c, &m);
	c->st.refused_calls++;
	conn_log(c, PPTP_EV_INFO, 0, "Outgoing-Call-Request (peer call %u) refused: %s: OCRP result %u (%s) "
	     "error %u (%s)", q->call_id, why, result, pptp_result_name(PPTP_OCRP, result),
	     error, error ? pptp_error_name(error) : "none");
}

static void pac_ocrq(struct pptp_conn *c, const struct pptp_msg *q)
{
	if (call_by_peer(c, q->call_id)) {
		ocrp_refuse(c, q, 2, 5, "the peer's Call ID is in use on this connection");
		return;
	}
	bool no_id = false;
	struct pptp_call *k = call_new(c, &no_id);
	if (!k) {
		if (no_id) ocrp_refuse(c, q, 2, 4, "no Call ID left");
		else ocrp_refuse(c, q, 4, 0, "the connection has its calls (calls per connection)");
		return;
	}
	if (c->cbs->port_acquire) {
		if (!c->cbs->port_acquire(c->cbs->ctx)) {
			if (c->cbs->call_id_release) c->cbs->call_id_release(c->cbs->ctx, k->call_id);
			ocrp_refuse(c, q, 2, 4, "no PPTP port free");
			return;
		}
		k->has_port = true;
	}
	k->peer_call_id = q->call_id;
	k->serial = q->call_serial;
	k->peer_rwin = q->recv_window;
	k->peer_ppd = q->proc_delay;
	k->connect_speed = q->max_bps ? q->max_bps : 64000;
	k->state = PPTP_CALL_ESTABLISHED;
	c->had_call = true;
	struct pptp_msg m;
	pptp_msg_init(&m, PPTP_OCRP);
	m.call_id = k->call_id;
	m.peer_call_id = q->call_id;
	m.result = 1;
	m.connect_speed = k->connect_speed;
	m.recv_window = c->conf->rwin;
	m.proc_delay = 0;
	m.phys_channel = k->call_id;
	send_msg(c, &m);
	conn_log(c, PPTP_EV_CALL_UP, k->call_id, "call %u up: peer call %u, serial %u, window %u, delay %u",
	     k->call_id, k->peer_call_id, k->serial, k->peer_rwin, k->peer_ppd);
	if (c->cbs->call_up) c->cbs->call_up(c->cbs->ctx, k->call_id);
}

static void pns_ocrp(struct pptp_conn *c, const struct pptp_msg *q)
{
	struct pptp_call *k = pptp_ctrl_call(c, q->peer_call_id);
	if (!k || k->state != PPTP_CALL_WAIT_REPLY) {
		conn_log(c, PPTP_EV_INFO, 0, "Outgoing-Call-Reply for call %u that waits for none, dropped",
		     q->peer_call_id);
		return;
	}
	if (q->result != 1) {
		c->st.refused_calls++;
		conn_log(c, PPTP_EV_INFO, k->call_id, "call %u refused: OCRP result %u (%s) error %u", k->call_id,
		     q->result, pptp_result_name(PPTP_OCRP, q->result) ? pptp_result_name(PPTP_OCRP, q->result)
		                                                       : "?", q->error);
		call_free(c, k, q->result, q->error);
		return;
	}
	k->peer_call_id = q->call_id;
	k->peer_rwin = q->recv_window;
	k->peer_ppd = q->proc_delay;
	k->connect_speed = q->connect_speed;
	k->state = PPTP_CALL_ESTABLISHED;
	c->had_call = true;
	conn_log(c, PPTP_EV_CALL_UP, k->call_id, "call %u up: peer call %u", k->call_id, k->peer_call_id);
	if (c->cbs->call_up) c->cbs->call_up(c->cbs->ctx, k->call_id);
}

static void handle(struct pptp_conn *c, const struct pptp_msg *q)
{
	bool pns = c->conf->is_pns;
	char why[120];
	/* before the control connection is up only its set-up is taken */
	if (c->state == PPTP_CONN_IDLE && q->ctrl_type != PPTP_SCCRQ) {
		snprintf(why, sizeof why, "%s before Start-Control-Connection-Request",
		         pptp_ctrl_name(q->ctrl_type));
		set_closed(c, why);
		return;
	}
	if (c->state == PPTP_CONN_WAIT_REPLY && q->ctrl_type != PPTP_SCCRP &&
	    q->ctrl_type != PPTP_STOPCCRQ) {
		snprintf(why, sizeof why, "%s before Start-Control-Connection-Reply",
		         pptp_ctrl_name(q->ctrl_type));
		set_closed(c, why);
		return;
	}
	struct pptp_msg m;
	switch (q->ctrl_type) {
	case PPTP_SCCRQ:
		if (pns) goto wrong_side;
		pac_sccrq(c, q);
		return;
	case PPTP_SCCRP:
		if (!pns || c->state != PPTP_CONN_WAIT_REPLY) goto unexpected;
		copy_name(c->peer_host, &q->host_name);
		copy_name(c->peer_vendor, &q->vendor);
		c->peer_version = q->proto_version;
		if (q->result != 1) {
			snprintf(why, sizeof why, "Start-Control-Connection-Reply result %u (%s) error %u",
			         q->result, pptp_result_name(PPTP_SCCRP, q->result)
			         ? pptp_result_name(PPTP_SCCRP, q->result) : "?", q->error);
			set_closed(c, why);
			return;
		}
		c->state = PPTP_CONN_ESTABLISHED;
		conn_log(c, PPTP_EV_CONN_UP, 0, "control connection up");
		return;
	case PPTP_STOPCCRQ:
		pptp_msg_init(&m, PPTP_STOPCCRP);
		m.result = 1;
		send_msg(c, &m);
		snprintf(why, sizeof why, "the peer stopped the control connection (reason %u, %s)",
		         q->reason, pptp_result_name(PPTP_STOPCCRQ, q->reason)
		         ? pptp_result_name(PPTP_STOPCCRQ, q->reason) : "?");
		set_closed(c, why);
		return;
	case PPTP_STOPCCRP:
		if (c->state != PPTP_CONN_STOPPING) goto unexpected;
		set_closed(c, NULL);
		return;
	case PPTP_ECHO_RQ:
		pptp_msg_init(&m, PPTP_ECHO_RP);
		m.identifier = q->identifier;
		m.result = 1;
		send_msg(c, &m);
		return;
	case PPTP_ECHO_RP:
		if (c->echo_out && q->identifier == c->echo_id) c->echo_out = false;
		else conn_log(c, PPTP_EV_INFO, 0, "Echo-Reply %u answers no request of ours, ignored",
		          (unsigned)q->identifier);
		return;
	case PPTP_OCRQ:
		if (pns) goto wrong_side;
		if (c->state != PPTP_CONN_ESTABLISHED) goto unexpected;
		pac_ocrq(c, q);
		return;
	case PPTP_OCRP:
		if (!pns) goto wrong_side;
		pns_ocrp(c, q);
		return;
	case PPTP_ICRQ:
		/* a PAC places incoming calls, it does not take them */
		pptp_msg_init(&m, PPTP_ICRP);
		m.peer_call_id = q->call_id;
		m.result = 3;
		send_msg(c, &m);
		c->st.refused_calls++;
		conn_log(c, PPTP_EV_INFO, 0, "Incoming-Call-Request (peer call %u) refused: ICRP result 3 "
		     "(Do Not Accept): %s", q->call_id, pns ? "this PNS takes no calls"
		     : "a PAC takes no incoming-call requests from a PNS");
		return;
	case PPTP_ICRP:
	case PPTP_ICCN:
		c->st.refused_calls++;
		conn_log(c, PPTP_EV_INFO, 0, "%s for an incoming call never requested, ignored",
		     pptp_ctrl_name(q->ctrl_type));
		return;
	case PPTP_CCRQ: {
		if (pns) goto wrong_side;
		struct pptp_call *k = call_by_peer(c, q->call_id);
		if (!k) {
			conn_log(c, PPTP_EV_INFO, 0, "Call-Clear-Request for unknown peer call %u, ignored",
			     q->call_id);
			return;
		}
		send_cdn(c, k, 4, 0, "call cleared by request");
		call_free(c, k, 4, 0);
		return;
	}
	case PPTP_CDN: {
		/* the PAC's end of a call; a PAC takes one from a PNS as the call's end too */
		struct pptp_call *k = call_by_peer(c, q->call_id);
		if (!k) {
			conn_log(c, PPTP_EV_INFO, 0, "Call-Disconnect-Notify for unknown call %u, ignored",
			     q->call_id);
			return;
		}
		call_free(c, k, q->result, q->error);
		return;
	}
	case PPTP_SLI: {
		struct pptp_call *k = pptp_ctrl_call(c, q->peer_call_id);
		c->st.sli++;
		if (!k) {
			conn_log(c, PPTP_EV_INFO, 0, "Set-Link-Info for unknown call %u, ignored", q->peer_call_id);
			return;
		}
		k->send_accm = q->send_accm;
		k->recv_accm = q->recv_accm;
		conn_log(c, PPTP_EV_INFO, k->call_id, "call %u: Set-Link-Info send ACCM 0x%08x receive ACCM 0x%08x",
		     k->call_id, (unsigned)q->send_accm, (unsigned)q->recv_accm);
		return;
	}
	case PPTP_WEN:
		c->st.wen++;
		conn_log(c, PPTP_EV_INFO, 0, "WAN-Error-Notify for call %u: CRC %u, framing %u, hardware "
		     "overruns %u, buffer overruns %u, time-outs %u, alignment %u", q->peer_call_id,
		     (unsigned)q->crc_errors, (unsigned)q->framing_errors, (unsigned)q->hw_overruns,
		     (unsigned)q->buf_overruns, (unsigned)q->timeout_errors, (unsigned)q->align_errors);
		return;
	default:
		break;
	}
unexpected:
	conn_log(c, PPTP_EV_INFO, 0, "%s unexpected in state %s, ignored", pptp_ctrl_name(q->ctrl_type),
	     tok_name(pptp_conn_state_names, c->state));
	return;
wrong_side:
	snprintf(why, sizeof why, "%s is sent by a %s, not to one", pptp_ctrl_name(q->ctrl_type),
	         pns ? "PNS" : "PAC");
	set_closed(c, why);
}

/* One whole message in c->rx. */
static void message(struct pptp_conn *c, uint64_t now)
{
	struct pptp_msg q;
	struct diag_err err;
	if (pptp_decode(c->rx, c->rxlen, &q, &err) != 0) {
		char why[120];
		snprintf(why, sizeof why, "malformed control message: offset %zu: %s", err.off, err.reason);
		set_closed(c, why);
		return;
	}
	c->st.rx++;
	c->last_rx_ms = now;
	if (c->cbs->event) {
		char sum[200];
		pptp_summary(&q, sum, sizeof sum);
		conn_log(c, PPTP_EV_TRACE, 0, "received %s", sum);
	}
	handle(c, &q);
}

uint64_t pptp_ctrl_input(struct pptp_conn *c, const uint8_t *buf, size_t len, uint64_t now)
{
	size_t off = 0;
	while (off < len && c->state != PPTP_CONN_CLOSED) {
		/* the header first (its 8 bytes tell the length and the cookie), then the rest */
		size_t need = c->rxlen < 8 ? 8 : c->msglen;
		size_t take = need - c->rxlen;
		if (take > len - off) take = len - off;
		memcpy(c->rx + c->rxlen, buf + off, take);
		c->rxlen = (uint16_t)(c->rxlen + take);
		off += take;
		if (c->rxlen < need) break;
		if (need == 8) {
			struct diag_err err;
			long fl = pptp_frame_len(c->rx, c->rxlen, &err);
			char why[120];
			if (fl < 0) {
				snprintf(why, sizeof why, "bad control stream: %s", err.reason);
				set_closed(c, why);
				break;
			}
			if (fl > PPTP_CTRL_MSG_MAX) {
				snprintf(why, sizeof why, "control message of %ld bytes: longer than any PPTP "
				         "message (at most %d taken)", fl, PPTP_CTRL_MSG_MAX);
				set_closed(c, why);
				break;
			}
			c->msglen = (uint16_t)fl;
			continue;
		}
		message(c, now);
		c->rxlen = 0;
	}
	return pptp_ctrl_deadline(c);
}

/* ---- PNS ---------------------------------------------------------------------------- */
uint64_t pptp_pns_open(struct pptp_conn *c, uint64_t now)
{
	struct pptp_msg m;
	pptp_msg_init(&m, PPTP_SCCRQ);
	m.framing_caps = PPTP_FRAMING_ASYNC | PPTP_FRAMING_SYNC;
	m.bearer_caps = PPTP_BEARER_ANALOG | PPTP_BEARER_DIGITAL;
	m.max_channels = 0;
	m.firmware_rev = 1;
	pptp_str_set(&m.host_name, c->conf->host_name);
	pptp_str_set(&m.vendor, c->conf->vendor);
	send_msg(c, &m);
	c->state = PPTP_CONN_WAIT_REPLY;
	c->started_ms = now;
	return pptp_ctrl_deadline(c);
}

uint16_t pptp_pns_call(struct pptp_conn *c, uint64_t now)
{
	(void)now;
	if (c->state != PPTP_CONN_ESTABLISHED) return 0;
	bool no_id;
	struct pptp_call *k = call_new(c, &no_id);
	if (!k) return 0;
	k->state = PPTP_CALL_WAIT_REPLY;
	k->serial = c->next_serial++;
	struct pptp_msg m;
	pptp_msg_init(&m, PPTP_OCRQ);
	m.call_id = k->call_id;
	m.call_serial = k->serial;
	m.min_bps = 300;
	m.max_bps = 100000000;
	m.bearer_type = 3;
	m.framing_type = 3;
	m.recv_window = c->conf->rwin;
	m.proc_delay = 0;
	send_msg(c, &m);
	return k->call_id;
}
