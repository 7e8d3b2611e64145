/* L2TPv2 control connection: reliable delivery (RFC 2661 section 5.8) and the LNS side
 * of the tunnel and incoming-call state machines (sections 7.2 and 7.4). */
#include "l2tp/l2tp_ctrl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


const struct tok l2tp_tunnel_state_names[] = {
	{L2TP_TUN_IDLE, "idle"},
	{L2TP_TUN_WAIT_CTL_REPLY, "wait-ctl-reply"},
	{L2TP_TUN_WAIT_CTL_CONN, "wait-ctl-conn"},
	{L2TP_TUN_ESTABLISHED, "established"},
	{L2TP_TUN_CLOSING, "closing"},
	{L2TP_TUN_CLOSED, "closed"},
	{L2TP_TUN_DEAD, "dead"},
	{0, NULL},
};

const struct tok l2tp_ev_names[] = {
	{L2TP_EV_TRACE, "trace"},         {L2TP_EV_INFO, "info"},
	{L2TP_EV_TUNNEL_UP, "tunnel-up"}, {L2TP_EV_TUNNEL_DOWN, "tunnel-down"},
	{L2TP_EV_CALL_UP, "call-up"},     {L2TP_EV_CALL_DOWN, "call-down"},
	{0, NULL},
};

/* Short names for the codes of l2tp_ctrl.h. */
enum {
	STOP_ERROR = L2TP_STOP_ERROR, STOP_NOT_AUTHORIZED = L2TP_STOP_NOT_AUTHORIZED,
	STOP_BAD_VERSION = L2TP_STOP_BAD_VERSION, STOP_FSM = L2TP_STOP_FSM,
	CDN_ERROR = L2TP_CDN_ERROR, CDN_ADMIN = L2TP_CDN_ADMIN,
	CDN_NO_FACILITIES_TEMP = L2TP_CDN_NO_FACILITIES_TEMP,
	ERR_NONE = L2TP_ERR_NONE, ERR_NO_TUNNEL = L2TP_ERR_NO_TUNNEL,
	ERR_BAD_VALUE = L2TP_ERR_BAD_VALUE, ERR_NO_RESOURCE = L2TP_ERR_NO_RESOURCE,
	ERR_UNKNOWN_M_AVP = L2TP_ERR_UNKNOWN_M_AVP,
};

static bool seq_lt(uint16_t a, uint16_t b) { return (int16_t)(uint16_t)(a - b) < 0; }

void l2tp_ctrl_log(struct l2tp_tunnel *t, enum l2tp_ev kind, uint16_t sid, const char *fmt, ...)
{
	if (!t->cbs->event || (t->cbs->log_wanted && !t->cbs->log_wanted(t->cbs->ctx, kind))) return;
	char line[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	t->cbs->event(t->cbs->ctx, kind, sid, line);
}

void l2tp_ctrl_conf_default(struct l2tp_ctrl_conf *c, bool is_lac)
{
	memset(c, 0, sizeof *c);
	c->is_lac = is_lac;
	c->host_name = is_lac ? "vnet-lac" : "vnet";
	c->rwin = 4;
	c->max_retries = 5;
	c->rto_initial_ms = 1000;
	c->rto_max_ms = 8000;
	c->hello_ms = 60000;
	c->hold_ms = 31000;
	c->max_calls = L2TP_CTRL_CALLS;
}

void l2tp_ctrl_init(struct l2tp_tunnel *t, const struct l2tp_ctrl_conf *conf,
                    const struct l2tp_ctrl_cbs *cbs)
{
	memset(t, 0, sizeof *t);
	t->conf = conf;
	t->cbs = cbs;
	t->state = L2TP_TUN_IDLE;
	t->peer_rwin = 4;
	t->rto = conf->rto_initial_ms;
	t->rtx_at = L2TP_NEVER;
	t->hello_at = L2TP_NEVER;
	t->hold_until = L2TP_NEVER;
}

void l2tp_ctrl_set_state(struct l2tp_tunnel *t, enum l2tp_tunnel_state s)
{
	if (t->state == s) return;
	l2tp_ctrl_log(t, L2TP_EV_TRACE, 0, "tunnel %u: %s -> %s", t->local_tid,
	              tok_name(l2tp_tunnel_state_names, t->state), tok_name(l2tp_tunnel_state_names, s));
	t->state = (uint8_t)s;
}

uint16_t l2tp_ctrl_peek_tid(const uint8_t *buf, size_t len)
{
	if (len < 6) return 0;
	size_t off = (buf[0] & 0x40) ? 4 : 2; /* L bit: a length field comes first */
	if (len < off + 2) return 0;
	return (uint16_t)(buf[off] << 8 | buf[off + 1]);
}

/* ---- sending ------------------------------------------------------------------- */
static void raw_send(struct l2tp_tunnel *t, uint8_t *buf, size_t len)
{
	/* control messages carry Nr at offset 10 (L and S always set): refresh it */
	if (len >= 12 && (buf[0] & 0x80)) {
		buf[10] = (uint8_t)(t->nr >> 8);
		buf[11] = (uint8_t)t->nr;
		t->nr_sent = true;
		t->ack_owed = false;
	}
	t->st.tx++;
	t->cbs->send(t->cbs->ctx, buf, len);
}

static struct l2tp_txslot *tx_slot(struct l2tp_tunnel *t, unsigned i)
{
	return &t->tx[(t->tx_head + i) % L2TP_CTRL_TXQ];
}

static uint8_t *tx_bytes(struct l2tp_tunnel *t, const struct l2tp_txslot *s)
{
	return t->buf->txbuf + s->off;
}

/* The buffer of messages in flight, taken when the first is queued or held. */
static struct l2tp_ctrl_buf *buf_take(struct l2tp_tunnel *t)
{
	if (!t->buf) t->buf = calloc(1, sizeof *t->buf);
	return t->buf;
}

/* Given back once the queue is empty and nothing is held. */
static void buf_trim(struct l2tp_tunnel *t)
{
	if (!t->buf || t->tx_count) return;
	for (unsigned i = 0; i < L2TP_CTRL_RXQ; i++)
		if (t->buf->rx[i].used) return;
	free(t->buf);
	t->buf = NULL;
}

void l2tp_ctrl_free(struct l2tp_tunnel *t)
{
	free(t->buf);
	t->buf = NULL;
	t->tx_count = 0;
}

static int tx_place(struct l2tp_tunnel *t, size_t n);

/* Room in the queue for one more message of about n bytes. */
static bool queue_room(struct l2tp_tunnel *t, size_t n)
{
	return t->tx_count < L2TP_CTRL_TXQ && tx_place(t, n) >= 0;
}

/* Where a message of n bytes can go in txbuf, or -1 when it does not fit now. Messages
 * are acknowledged in order, so the ring is used from its oldest message on: a message
 * never wraps, the unused tail before a wrap is skipped. */
static int tx_place(struct l2tp_tunnel *t, size_t n)
{
	if (n > L2TP_CTRL_TXBUF) return -1;
	if (t->tx_count == 0) return 0;
	size_t first = tx_slot(t, 0)->off;
	const struct l2tp_txslot *last = tx_slot(t, t->tx_count - 1);
	size_t end = (size_t)last->off + last->len;
	if (last->off >= first) {
		/* not wrapped: room after the last, else before the first */
		if (end + n <= L2TP_CTRL_TXBUF) return (int)end;
		if (n <= first) return 0;
		return -1;
	}
	/* wrapped: room between the last and the first */
	return end + n <= first ? (int)end : -1;
}

/* Send queued messages the peer's window has room for. */
static void send_pending(struct l2tp_tunnel *t, uint64_t now)
{
	unsigned in_flight = 0;
	for (unsigned i = 0; i < t->tx_count; i++) {
		struct l2tp_txslot *s = tx_slot(t, i);
		if (s->sent) {
			in_flight++;
			continue;
		}
		if (in_flight >= t->peer_rwin) break;
		raw_send(t, tx_bytes(t, s), s->len);
		s->sent = true;
		in_flight++;
		if (t->rtx_at == L2TP_NEVER) t->rtx_at = now + t->rto;
	}
}

int l2tp_ctrl_queue(struct l2tp_tunnel *t, struct l2tp_msg *m, uint64_t now)
{
	if (t->tx_count >= L2TP_CTRL_TXQ) {
		l2tp_ctrl_log(t, L2TP_EV_INFO, m->session_id,
		              "%s not sent: %u control messages already await acknowledgement",
		              l2tp_msg_name(m->msg_type), (unsigned)t->tx_count);
		return -1;
	}
	m->ns = t->ns;
	m->nr = t->nr;
	uint8_t enc[L2TP_CTRL_MSG_MAX];
	size_t n = l2tp_encode(m, enc, sizeof enc);
	if (n == 0) {
		l2tp_ctrl_log(t, L2TP_EV_INFO, m->session_id, "%s does not fit in %zu bytes, not sent",
		              l2tp_msg_name(m->msg_type), sizeof enc);
		return -1;
	}
	int off = tx_place(t, n);
	if (off < 0) {
		l2tp_ctrl_log(t, L2TP_EV_INFO, m->session_id,
		              "%s not sent: the messages awaiting acknowledgement fill the queue",
		              l2tp_msg_name(m->msg_type));
		return -1;
	}
	if (!buf_take(t)) {
		l2tp_ctrl_log(t, L2TP_EV_INFO, m->session_id, "%s not sent: out of memory",
		              l2tp_msg_name(m->msg_type));
		return -1;
	}
	struct l2tp_txslot *s = tx_slot(t, t->tx_count);
	memcpy(t->buf->txbuf + off, enc, n);
	s->off = (uint16_t)off;
	s->len = (uint16_t)n;
	s->ns = t->ns;
	s->sent = false;
	t->tx_count++;
	t->ns++;
	l2tp_ctrl_log(t, L2TP_EV_TRACE, m->session_id, "queue %s ns %u", l2tp_msg_name(m->msg_type),
	              s->ns);
	send_pending(t, now);
	return 0;
}

static void send_zlb(struct l2tp_tunnel *t)
{
	struct l2tp_msg m;
	l2tp_msg_init_ctrl(&m, L2TP_MSG_ZLB, t->peer_tid, 0, t->ns, t->nr);
	uint8_t buf[16];
	size_t n = l2tp_encode(&m, buf, sizeof buf);
	if (n == 0) return;
	t->st.zlb_sent++;
	raw_send(t, buf, n);
}

/* The peer acknowledged everything before nr. */
static void send_cdn(struct l2tp_tunnel *t, uint16_t peer_sid, uint16_t local_sid,
                     uint16_t result, uint16_t error, const char *msg, uint64_t now);

static void take_ack(struct l2tp_tunnel *t, uint16_t nr, uint64_t now)
{
	/* an Nr beyond what we sent acknowledges nothing we know of */
	if (seq_lt(t->ns, nr)) {
		l2tp_ctrl_log(t, L2TP_EV_INFO, 0, "Nr %u beyond our next Ns %u, ignored", nr, t->ns);
		return;
	}
	bool acked = false;
	while (t->tx_count > 0 && tx_slot(t, 0)->sent && seq_lt(tx_slot(t, 0)->ns, nr)) {
		t->tx_head = (uint8_t)((t->tx_head + 1) % L2TP_CTRL_TXQ);
		t->tx_count--;
		acked = true;
	}
	if (!acked) return;
	t->retries = 0;
	t->rto = t->conf->rto_initial_ms;
	t->rtx_at = L2TP_NEVER;
	bool any_sent = false;
	for (unsigned i = 0; i < t->tx_count; i++) any_sent |= tx_slot(t, i)->sent;
	if (any_sent) t->rtx_at = now + t->rto;
	/* CDNs that waited for room */
	for (unsigned i = 0; i < L2TP_CTRL_CALLS && queue_room(t, 64); i++) {
		struct l2tp_call *c = &t->calls[i];
		if (c->state != L2TP_CALL_CDN_PENDING) continue;
		send_cdn(t, c->peer_sid, c->local_sid, c->cdn_result, c->cdn_error, NULL, now);
		c->state = L2TP_CALL_FREE;
	}
	send_pending(t, now);
	if (t->state == L2TP_TUN_CLOSING && t->tx_count == 0) {
		l2tp_ctrl_set_state(t, L2TP_TUN_DEAD);
		t->hello_at = L2TP_NEVER;
	}
}

/* ---- AVP helpers ----------------------------------------------------------------- */
int l2tp_ctrl_avp(const struct l2tp_tunnel *t, const struct l2tp_msg *m, uint16_t type,
                  uint8_t *out, size_t cap, size_t *n)
{
	const uint8_t *rv = NULL;
	size_t rvlen = 0;
	*n = 0;
	for (size_t i = 0; i < m->n_avps; i++) {
		const struct l2tp_avp *a = &m->avps[i];
		if (a->vendor != 0) continue;
		if (a->type == L2TP_AVP_RANDOM_VECTOR && !a->hidden) {
			rv = a->val;
			rvlen = a->val_len;
			continue;
		}
		if (a->type != type) continue;
		if (!a->hidden) {
			if (a->val_len > cap) return -1;
			if (a->val_len) memcpy(out, a->val, a->val_len);
			*n = a->val_len;
			return 1;
		}
		if (!t->conf->secret) return -1;
		struct diag_err err;
		if (l2tp_avp_unhide(t->conf->secret, t->conf->secret_len, rv, rvlen, type, a->val,
		                    a->val_len, out, cap, n, &err) != 0)
			return -1;
		return 1;
	}
	return 0;
}

bool l2tp_ctrl_avp_u16(const struct l2tp_tunnel *t, const struct l2tp_msg *m, uint16_t type,
                       uint16_t *v)
{
	uint8_t b[8];
	size_t n;
	if (l2tp_ctrl_avp(t, m, type, b, sizeof b, &n) != 1 || n != 2) return false;
	*v = (uint16_t)(b[0] << 8 | b[1]);
	return true;
}

int l2tp_ctrl_add_id(struct l2tp_tunnel *t, struct l2tp_msg *m, struct l2tp_hide_buf *hb,
                     uint16_t type, uint32_t v, size_t width)
{
	if (!t->conf->hide_avps || !t->conf->secret || hb->used >= 4) return l2tp_add_uint(m, type, v);
	if (!hb->rv_added) {
		t->cbs->random(t->cbs->ctx, hb->rv, sizeof hb->rv);
		if (l2tp_add_bytes(m, L2TP_AVP_RANDOM_VECTOR, hb->rv, sizeof hb->rv) != 0) return -1;
		hb->rv_added = true;
	}
	uint8_t val[4];
	for (size_t i = 0; i < width; i++) val[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
	uint8_t pad[6];
	t->cbs->random(t->cbs->ctx, pad, sizeof pad);
	uint8_t *h = hb->h[hb->used];
	size_t hn = l2tp_avp_hide(t->conf->secret, t->conf->secret_len, hb->rv, sizeof hb->rv, type,
	                          val, width, pad, sizeof pad, h, sizeof hb->h[0]);
	if (hn == 0) return -1;
	hb->used++;
	return l2tp_add_raw(m, 0, type, true, true, h, hn);
}

int l2tp_ctrl_chal_response(const struct l2tp_tunnel *t, uint8_t msg_type, const uint8_t *chal,
                            size_t chal_len, uint8_t out[16])
{
	return l2tp_challenge_response(msg_type, t->conf->secret, t->conf->secret_len, chal, chal_len,
	                               out);
}

int l2tp_ctrl_add_sccx(struct l2tp_tunnel *t, struct l2tp_msg *m, struct l2tp_hide_buf *hb)
{
	const char *host = t->conf->host_name ? t->conf->host_name : "vnet";
	int rc = 0;
	rc |= l2tp_add_proto_version(m, 1, 0);
	rc |= l2tp_add_bytes(m, L2TP_AVP_HOST_NAME, host, strlen(host));
	rc |= l2tp_add_uint(m, L2TP_AVP_FRAMING_CAP, L2TP_FRAMING_SYNC | L2TP_FRAMING_ASYNC);
	rc |= l2tp_ctrl_add_id(t, m, hb, L2TP_AVP_ASSIGNED_TUNNEL_ID, t->local_tid, 2);
	rc |= l2tp_add_uint(m, L2TP_AVP_RECV_WINDOW_SIZE, t->conf->rwin ? t->conf->rwin : 4);
	if (t->conf->vendor_name)
		rc |= l2tp_add_bytes(m, L2TP_AVP_VENDOR_NAME, t->conf->vendor_name,
		                     strlen(t->conf->vendor_name));
	return rc ? -1 : 0;
}

static uint16_t random_id(struct l2tp_tunnel *t)
{
	uint8_t b[2] = {0, 0};
	t->cbs->random(t->cbs->ctx, b, 2);
	uint16_t v = (uint16_t)(b[0] << 8 | b[1]);
	return v ? v : 1;
}

void l2tp_ctrl_take_tid(struct l2tp_tunnel *t)
{
	/* the only place the automaton sets its own tunnel ID: once, and only when the owner
	 * chose none (an owner's table is keyed by it) */
	if (!t->local_tid) t->local_tid = random_id(t);
}

/* ---- calls ----------------------------------------------------------------------- */
struct l2tp_call *l2tp_ctrl_call(struct l2tp_tunnel *t, uint16_t local_sid)
{
	if (local_sid == 0) return NULL;
	for (unsigned i = 0; i < L2TP_CTRL_CALLS; i++)
		if (t->calls[i].state != L2TP_CALL_FREE && t->calls[i].local_sid == local_sid)
			return &t->calls[i];
	return NULL;
}

unsigned l2tp_ctrl_active_calls(const struct l2tp_tunnel *t)
{
	unsigned n = 0;
	for (unsigned i = 0; i < L2TP_CTRL_CALLS; i++) n += t->calls[i].state != L2TP_CALL_FREE;
	return n;
}

struct l2tp_call *l2tp_ctrl_call_new(struct l2tp_tunnel *t)
{
	struct l2tp_call *c = NULL;
	for (unsigned i = 0; i < L2TP_CTRL_CALLS && !c; i++)
		if (t->calls[i].state == L2TP_CALL_FREE) c = &t->calls[i];
	if (!c) return NULL;
	memset(c, 0, sizeof *c);
	uint16_t sid = random_id(t);
	for (int i = 0; i < 16 && l2tp_ctrl_call(t, sid); i++) sid = random_id(t);
	for (int i = 0; i < 70000 && l2tp_ctrl_call(t, sid); i++) sid = (uint16_t)(sid + 1) ? (uint16_t)(sid + 1) : 1;
	c->local_sid = sid;
	return c;
}

void l2tp_ctrl_call_free(struct l2tp_tunnel *t, struct l2tp_call *c, uint16_t result,
                         uint16_t error)
{
	if (c->state == L2TP_CALL_FREE) return;
	if (c->state == L2TP_CALL_CDN_PENDING) {
		c->state = L2TP_CALL_FREE; /* the owner heard of it when it was cleared */
		return;
	}
	uint16_t sid = c->local_sid;
	bool was_up = c->state == L2TP_CALL_ESTABLISHED;
	if (c->has_port && t->cbs->port_release) t->cbs->port_release(t->cbs->ctx);
	c->state = L2TP_CALL_FREE;
	c->has_port = false;
	(void)was_up;
	if (t->cbs->call_down) t->cbs->call_down(t->cbs->ctx, sid, result, error);
}

static void all_calls_down(struct l2tp_tunnel *t, uint16_t result, uint16_t error)
{
	for (unsigned i = 0; i < L2TP_CTRL_CALLS; i++)
		if (t->calls[i].state != L2TP_CALL_FREE) l2tp_ctrl_call_free(t, &t->calls[i], result, error);
}

/* Send a CDN for a call (or for a refused ICRQ: local_sid 0). */
static void send_cdn(struct l2tp_tunnel *t, uint16_t peer_sid, uint16_t local_sid,
                     uint16_t result, uint16_t error, const char *msg, uint64_t now)
{
	struct l2tp_msg m;
	struct l2tp_hide_buf hb;
	memset(&hb, 0, sizeof hb);
	l2tp_msg_init_ctrl(&m, L2TP_MSG_CDN, t->peer_tid, peer_sid, 0, 0);
	l2tp_add_result(&m, result, error != 0 || msg, error, msg);
	l2tp_ctrl_add_id(t, &m, &hb, L2TP_AVP_ASSIGNED_SESSION_ID, local_sid, 2);
	l2tp_ctrl_queue(t, &m, now);
}

uint64_t l2tp_ctrl_call_close(struct l2tp_tunnel *t, uint16_t local_sid, uint16_t result,
                              uint16_t error, const char *msg, uint64_t now)
{
	struct l2tp_call *c = l2tp_ctrl_call(t, local_sid);
	if (c && c->state == L2TP_CALL_CDN_PENDING) return l2tp_ctrl_deadline(t);
	if (c && !queue_room(t, 64)) {
		/* no room now: the owner is told at once, the CDN follows the next ack */
		l2tp_ctrl_log(t, L2TP_EV_CALL_DOWN, local_sid,
		              "call %u cleared: CDN result %u error %u waits for room in the queue",
		              local_sid, result, error);
		uint16_t sid = c->local_sid;
		if (c->has_port && t->cbs->port_release) t->cbs->port_release(t->cbs->ctx);
		c->has_port = false;
		c->state = L2TP_CALL_CDN_PENDING;
		c->cdn_result = result;
		c->cdn_error = error;
		if (t->cbs->call_down) t->cbs->call_down(t->cbs->ctx, sid, result, error);
		return l2tp_ctrl_deadline(t);
	}
	if (c) {
		send_cdn(t, c->peer_sid, c->local_sid, result, error, msg, now);
		l2tp_ctrl_log(t, L2TP_EV_CALL_DOWN, local_sid, "call %u cleared: CDN result %u error %u%s%s",
		              local_sid, result, error, msg ? " " : "", msg ? msg : "");
		l2tp_ctrl_call_free(t, c, result, error);
	}
	return l2tp_ctrl_deadline(t);
}

/* ---- teardown -------------------------------------------------------------------- */
static void send_stopccn(struct l2tp_tunnel *t, uint16_t result, uint16_t error,
                         const char *msg, uint64_t now)
{
	struct l2tp_msg m;
	struct l2tp_hide_buf hb;
	memset(&hb, 0, sizeof hb);
	l2tp_msg_init_ctrl(&m, L2TP_MSG_STOPCCN, t->peer_tid, 0, 0, 0);
	l2tp_ctrl_add_id(t, &m, &hb, L2TP_AVP_ASSIGNED_TUNNEL_ID, t->local_tid, 2);
	l2tp_add_result(&m, result, error != 0 || msg, error, msg);
	/* a StopCCN goes out even when the window is full of older messages */
	if (t->tx_count >= L2TP_CTRL_TXQ) {
		t->tx_count = 0;
	}
	l2tp_ctrl_queue(t, &m, now);
}

uint64_t l2tp_ctrl_stop(struct l2tp_tunnel *t, uint16_t result, uint16_t error,
                        const char *msg, uint64_t now)
{
	if (t->state == L2TP_TUN_CLOSING || t->state == L2TP_TUN_CLOSED || t->state == L2TP_TUN_DEAD)
		return l2tp_ctrl_deadline(t);
	if (t->state == L2TP_TUN_IDLE) {
		l2tp_ctrl_set_state(t, L2TP_TUN_DEAD);
		return L2TP_NEVER;
	}
	t->result = result;
	t->error = error;
	if (!t->why[0]) snprintf(t->why, sizeof t->why, "%s", msg ? msg : "stopped");
	l2tp_ctrl_log(t, L2TP_EV_TUNNEL_DOWN, 0, "tunnel %u down: StopCCN result %u error %u: %s",
	              t->local_tid, result, error, t->why);
	all_calls_down(t, CDN_ADMIN, 0);
	send_stopccn(t, result, error, msg, now);
	l2tp_ctrl_set_state(t, L2TP_TUN_CLOSING);
	t->hello_at = L2TP_NEVER;
	return l2tp_ctrl_deadline(t);
}

void l2tp_ctrl_abort(struct l2tp_tunnel *t)
{
	if (t->state == L2TP_TUN_DEAD) return;
	if (!t->why[0]) snprintf(t->why, sizeof t->why, "given up without a word to the peer");
	all_calls_down(t, L2TP_CDN_ADMIN, 0);
	l2tp_ctrl_free(t);
	t->rtx_at = t->hello_at = t->hold_until = L2TP_NEVER;
	l2tp_ctrl_set_state(t, L2TP_TUN_DEAD);
}

void l2tp_ctrl_fail(struct l2tp_tunnel *t, uint16_t result, uint16_t error, const char *why,
                    uint64_t now)
{
	snprintf(t->why, sizeof t->why, "%s", why);
	l2tp_ctrl_stop(t, result, error, why, now);
}

/* The Error Message of a Result Code AVP as printable text ("" when none). */
static void result_text(const struct l2tp_avp *rc, char *out, size_t cap)
{
	out[0] = 0;
	if (!rc || rc->kind != L2TP_KIND_RESULT || !rc->v.result.msg || cap < 4) return;
	out[0] = ':';
	out[1] = ' ';
	text_printable(rc->v.result.msg, rc->v.result.msg_len, out + 2, cap - 2);
}

static void peer_stopped(struct l2tp_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	const struct l2tp_avp *rc = l2tp_find_avp(m, L2TP_AVP_RESULT_CODE);
	uint16_t result = rc && rc->kind == L2TP_KIND_RESULT ? rc->v.result.result : 0;
	uint16_t error = rc && rc->kind == L2TP_KIND_RESULT ? rc->v.result.error : 0;
	const char *name = l2tp_result_name(L2TP_MSG_STOPCCN, result);
	t->result = result;
	t->error = error;
	char text[64];
	result_text(rc, text, sizeof text);
	snprintf(t->why, sizeof t->why, "peer sent StopCCN result %u (%s) error %u%s", result,
	         name ? name : "unknown", error, text);
	l2tp_ctrl_log(t, L2TP_EV_TUNNEL_DOWN, 0, "tunnel %u down: %s", t->local_tid, t->why);
	all_calls_down(t, CDN_ADMIN, 0);
	/* nothing we still had to say matters now */
	t->tx_count = 0;
	t->rtx_at = L2TP_NEVER;
	t->hello_at = L2TP_NEVER;
	l2tp_ctrl_set_state(t, L2TP_TUN_CLOSED);
	t->hold_until = now + t->conf->hold_ms;
}

/* ---- LNS handlers ------------------------------------------------------------------ */
static void lns_sccrq(struct l2tp_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	uint16_t ptid;
	if (!l2tp_ctrl_avp_u16(t, m, L2TP_AVP_ASSIGNED_TUNNEL_ID, &ptid) || ptid == 0) {
		l2tp_ctrl_log(t, L2TP_EV_INFO, 0, "SCCRQ without a readable Assigned Tunnel ID, dropped");
		l2tp_ctrl_set_state(t, L2TP_TUN_DEAD);
		return;
	}
	t->peer_tid = ptid;
	l2tp_ctrl_take_tid(t);
	uint8_t host[64];
	size_t hn = 0;
	if (l2tp_ctrl_avp(t, m, L2TP_AVP_HOST_NAME, host, sizeof host - 1, &hn) == 1)
		text_printable(host, hn, t->peer_host, sizeof t->peer_host);
	uint16_t rws;
	if (l2tp_ctrl_avp_u16(t, m, L2TP_AVP_RECV_WINDOW_SIZE, &rws) && rws > 0)
		t->peer_rwin = rws;
	const struct l2tp_avp *pv = l2tp_find_avp(m, L2TP_AVP_PROTOCOL_VERSION);
	if (!pv || pv->kind != L2TP_KIND_PROTO_VERSION || pv->v.proto.ver != 1 || pv->v.proto.rev != 0) {
		char why[96];
		snprintf(why, sizeof why, "protocol version %u.%u not supported (1.0 is)",
		         pv ? pv->v.proto.ver : 0, pv ? pv->v.proto.rev : 0);
		l2tp_ctrl_set_state(t, L2TP_TUN_WAIT_CTL_CONN);
		l2tp_ctrl_fail(t, STOP_BAD_VERSION, 0x0100, why, now);
		return;
	}
	uint8_t chal[256];
	size_t cn = 0;
	int has_chal = l2tp_ctrl_avp(t, m, L2TP_AVP_CHALLENGE, chal, sizeof chal, &cn);
	l2tp_ctrl_set_state(t, L2TP_TUN_WAIT_CTL_CONN);
	if (has_chal != 0 && (!t->conf->secret || has_chal < 0 || cn == 0)) {
		l2tp_ctrl_fail(t, STOP_NOT_AUTHORIZED, 0,
		               "peer asks for tunnel authentication but no shared secret is configured",
		               now);
		return;
	}
	struct l2tp_msg r;
	struct l2tp_hide_buf hb;
	memset(&hb, 0, sizeof hb);
	l2tp_msg_init_ctrl(&r, L2TP_MSG_SCCRP, t->peer_tid, 0, 0, 0);
	l2tp_ctrl_add_sccx(t, &r, &hb);
	uint8_t resp[16];
	if (has_chal == 1) {
		if (l2tp_ctrl_chal_response(t, L2TP_MSG_SCCRP, chal, cn, resp) != 0) {
			l2tp_ctrl_fail(t, STOP_ERROR, ERR_NO_RESOURCE, "MD5 unavailable", now);
			return;
		}
		l2tp_add_bytes(&r, L2TP_AVP_CHALLENGE_RESPONSE, resp, sizeof resp);
	}
	if (t->conf->secret) {
		t->cbs->random(t->cbs->ctx, t->challenge, sizeof t->challenge);
		t->challenged = true;
		l2tp_add_bytes(&r, L2TP_AVP_CHALLENGE, t->challenge, sizeof t->challenge);
	}
	l2tp_ctrl_queue(t, &r, now);
}

static void lns_scccn(struct l2tp_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	if (t->state != L2TP_TUN_WAIT_CTL_CONN) {
		l2tp_ctrl_fail(t, STOP_FSM, 0, "SCCCN outside connection set-up", now);
		return;
	}
	if (t->challenged) {
		uint8_t got[32];
		size_t n = 0;
		uint8_t want[16];
		int rc = l2tp_ctrl_avp(t, m, L2TP_AVP_CHALLENGE_RESPONSE, got, sizeof got, &n);
		if (rc != 1 || n != 16 || l2tp_ctrl_chal_response(t, L2TP_MSG_SCCCN, t->challenge, 16, want) != 0 ||
		    !secret_equal(got, want, 16)) {
			l2tp_ctrl_fail(t, STOP_NOT_AUTHORIZED, 0,
			               rc == 1 ? "tunnel authentication failed: wrong Challenge Response "
			                         "(shared secrets differ)"
			                       : "tunnel authentication failed: SCCCN without Challenge Response",
			               now);
			return;
		}
	}
	l2tp_ctrl_set_state(t, L2TP_TUN_ESTABLISHED);
	l2tp_ctrl_log(t, L2TP_EV_TUNNEL_UP, 0, "tunnel up peer=%s tid %u/%u%s",
	              t->peer_host[0] ? t->peer_host : "?", t->local_tid, t->peer_tid,
	              t->challenged ? " authenticated" : "");
}

static bool port_take(struct l2tp_tunnel *t)
{
	if (t->cbs->port_acquire) return t->cbs->port_acquire(t->cbs->ctx);
	unsigned limit = t->conf->max_calls < L2TP_CTRL_CALLS ? t->conf->max_calls : L2TP_CTRL_CALLS;
	return l2tp_ctrl_active_calls(t) < limit;
}

static void lns_icrq(struct l2tp_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	uint16_t psid;
	if (!l2tp_ctrl_avp_u16(t, m, L2TP_AVP_ASSIGNED_SESSION_ID, &psid) || psid == 0) {
		l2tp_ctrl_log(t, L2TP_EV_INFO, 0, "ICRQ without a readable Assigned Session ID, ignored");
		return;
	}
	if (t->state == L2TP_TUN_CLOSING || t->state == L2TP_TUN_CLOSED) {
		/* the tunnel is being cleared (our StopCCN is on its way): its calls go with it */
		l2tp_ctrl_log(t, L2TP_EV_INFO, 0, "ICRQ on a tunnel being cleared, ignored");
		return;
	}
	if (t->state != L2TP_TUN_ESTABLISHED) {
		send_cdn(t, psid, 0, CDN_ERROR, ERR_NO_TUNNEL, "control connection not established", now);
		return;
	}
	struct l2tp_call *c = NULL;
	bool port = port_take(t);
	if (port) c = l2tp_ctrl_call_new(t);
	if (!c) {
		if (port && t->cbs->port_release) t->cbs->port_release(t->cbs->ctx);
		l2tp_ctrl_log(t, L2TP_EV_INFO, 0,
		              "call refused: no L2TP port available (CDN result 4 error 4)");
		send_cdn(t, psid, 0, CDN_NO_FACILITIES_TEMP, ERR_NO_RESOURCE, "no L2TP port available",
		         now);
		return;
	}
	c->peer_sid = psid;
	c->has_port = t->cbs->port_acquire != NULL;
	c->state = L2TP_CALL_WAIT_CONNECT;
	uint8_t ser[4];
	size_t sn;
	if (l2tp_ctrl_avp(t, m, L2TP_AVP_CALL_SERIAL, ser, sizeof ser, &sn) == 1 && sn == 4)
		c->serial = (uint32_t)ser[0] << 24 | (uint32_t)ser[1] << 16 | (uint32_t)ser[2] << 8 | ser[3];
	struct l2tp_msg r;
	struct l2tp_hide_buf hb;
	memset(&hb, 0, sizeof hb);
	l2tp_msg_init_ctrl(&r, L2TP_MSG_ICRP, t->peer_tid, psid, 0, 0);
	l2tp_ctrl_add_id(t, &r, &hb, L2TP_AVP_ASSIGNED_SESSION_ID, c->local_sid, 2);
	l2tp_ctrl_queue(t, &r, now);
}

static void lns_iccn(struct l2tp_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	struct l2tp_call *c = l2tp_ctrl_call(t, m->session_id);
	if (!c || c->state != L2TP_CALL_WAIT_CONNECT) {
		l2tp_ctrl_log(t, L2TP_EV_INFO, m->session_id, "ICCN for session %u not awaiting one, ignored",
		              m->session_id);
		return;
	}
	(void)now;
	c->state = L2TP_CALL_ESTABLISHED;
	l2tp_ctrl_log(t, L2TP_EV_CALL_UP, c->local_sid, "call up sid %u/%u serial %u", c->local_sid,
	              c->peer_sid, c->serial);
	if (t->cbs->call_up) t->cbs->call_up(t->cbs->ctx, c->local_sid);
}

static void got_cdn(struct l2tp_tunnel *t, const struct l2tp_msg *m)
{
	struct l2tp_call *c = l2tp_ctrl_call(t, m->session_id);
	if (!c) {
		l2tp_ctrl_log(t, L2TP_EV_INFO, m->session_id, "CDN for unknown session %u, ignored",
		              m->session_id);
		return;
	}
	const struct l2tp_avp *rc = l2tp_find_avp(m, L2TP_AVP_RESULT_CODE);
	uint16_t result = rc && rc->kind == L2TP_KIND_RESULT ? rc->v.result.result : 0;
	uint16_t error = rc && rc->kind == L2TP_KIND_RESULT ? rc->v.result.error : 0;
	const char *name = l2tp_result_name(L2TP_MSG_CDN, result);
	char text[64];
	result_text(rc, text, sizeof text);
	l2tp_ctrl_log(t, L2TP_EV_CALL_DOWN, c->local_sid,
	              "call %u down: peer sent CDN result %u (%s) error %u%s", c->local_sid, result,
	              name ? name : "unknown", error, text);
	l2tp_ctrl_call_free(t, c, result, error);
}

/* An AVP with the M bit this side does not know (RFC 2661 section 4.1). */
static const struct l2tp_avp *unknown_mandatory(const struct l2tp_msg *m)
{
	for (size_t i = 0; i < m->n_avps; i++) {
		const struct l2tp_avp *a = &m->avps[i];
		if (a->mandatory && (a->vendor != 0 || !l2tp_avp_name(0, a->type))) return a;
	}
	return NULL;
}

static bool session_message(uint16_t type)
{
	return type == L2TP_MSG_ICRQ || type == L2TP_MSG_ICRP || type == L2TP_MSG_ICCN ||
	       type == L2TP_MSG_CDN || type == L2TP_MSG_OCRQ || type == L2TP_MSG_OCRP ||
	       type == L2TP_MSG_OCCN || type == L2TP_MSG_WEN || type == L2TP_MSG_SLI;
}

static void handle(struct l2tp_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	l2tp_ctrl_log(t, L2TP_EV_TRACE, m->session_id, "recv %s ns %u nr %u",
	              l2tp_msg_name(m->msg_type) ? l2tp_msg_name(m->msg_type) : "?", m->ns, m->nr);
	if (t->state == L2TP_TUN_CLOSED || t->state == L2TP_TUN_DEAD) return;
	const struct l2tp_avp *bad = unknown_mandatory(m);
	if (bad && t->state == L2TP_TUN_IDLE) {
		/* the StopCCN goes to the tunnel the SCCRQ announced, when readable, and names
		 * this tunnel by the ID it has (the owner's, when it chose one) */
		uint16_t ptid;
		if (l2tp_ctrl_avp_u16(t, m, L2TP_AVP_ASSIGNED_TUNNEL_ID, &ptid)) t->peer_tid = ptid;
		l2tp_ctrl_take_tid(t);
	}
	if (bad) {
		char why[96];
		snprintf(why, sizeof why, "unknown mandatory AVP vendor %u type %u", bad->vendor, bad->type);
		if (session_message(m->msg_type) && m->msg_type != L2TP_MSG_ICRQ) {
			struct l2tp_call *c = l2tp_ctrl_call(t, m->session_id);
			if (c) {
				l2tp_ctrl_call_close(t, c->local_sid, CDN_ERROR, ERR_UNKNOWN_M_AVP, why, now);
				return;
			}
		}
		if (t->state == L2TP_TUN_IDLE) l2tp_ctrl_set_state(t, L2TP_TUN_WAIT_CTL_CONN);
		l2tp_ctrl_fail(t, STOP_ERROR, ERR_UNKNOWN_M_AVP, why, now);
		return;
	}
	switch (m->msg_type) {
	case L2TP_MSG_STOPCCN: peer_stopped(t, m, now); return;
	case L2TP_MSG_HELLO: return;
	case L2TP_MSG_CDN: got_cdn(t, m); return;
	default: break;
	}
	if (t->conf->is_lac) {
		l2tp_lac_handle(t, m, now);
		return;
	}
	switch (m->msg_type) {
	case L2TP_MSG_SCCRQ:
		if (t->state == L2TP_TUN_IDLE) lns_sccrq(t, m, now);
		else l2tp_ctrl_fail(t, STOP_FSM, 0, "SCCRQ on a running control connection", now);
		return;
	case L2TP_MSG_SCCCN: lns_scccn(t, m, now); return;
	case L2TP_MSG_ICRQ: lns_icrq(t, m, now); return;
	case L2TP_MSG_ICCN: lns_iccn(t, m, now); return;
	case L2TP_MSG_WEN: {
		/* the LAC reports framing errors on a call: worth a line, nothing to answer */
		const struct l2tp_avp *ce = l2tp_find_avp(m, L2TP_AVP_CALL_ERRORS);
		if (ce && ce->kind == L2TP_KIND_CALL_ERRORS)
			l2tp_ctrl_log(t, L2TP_EV_INFO, m->session_id,
			              "WEN for session %u: crc %u framing %u hw-overruns %u "
			              "buffer-overruns %u timeouts %u alignment %u",
			              m->session_id, ce->v.call_errors.crc, ce->v.call_errors.framing,
			              ce->v.call_errors.hw_overruns, ce->v.call_errors.buf_overruns,
			              ce->v.call_errors.timeouts, ce->v.call_errors.alignment);
		return;
	}
	case L2TP_MSG_SLI:
		/* ACCM for an asynchronous link: PPP here is synchronous, nothing to apply */
		l2tp_ctrl_log(t, L2TP_EV_INFO, m->session_id, "SLI for session %u noted", m->session_id);
		return;
	default: {
		const struct l2tp_avp *mt = l2tp_find_avp(m, L2TP_AVP_MESSAGE_TYPE);
		if (mt && mt->mandatory) {
			char why[80];
			snprintf(why, sizeof why, "message type %u not handled by an LNS", m->msg_type);
			l2tp_ctrl_fail(t, STOP_ERROR, ERR_BAD_VALUE, why, now);
		} else {
			l2tp_ctrl_log(t, L2TP_EV_INFO, 0, "message type %u ignored", m->msg_type);
		}
		return;
	}
	}
}

/* Deliver held messages whose turn has come. */
static void drain_held(struct l2tp_tunnel *t, uint64_t now)
{
	for (int round = 0; round < L2TP_CTRL_RXQ && t->buf; round++) {
		struct l2tp_rxslot *s = NULL, *rx = t->buf->rx;
		for (unsigned i = 0; i < L2TP_CTRL_RXQ && !s; i++)
			if (rx[i].used && rx[i].ns == t->nr) s = &rx[i];
		if (!s) return;
		uint8_t buf[L2TP_CTRL_RX_MAX];
		size_t len = s->len;
		memcpy(buf, s->buf, len);
		s->used = false;
		struct l2tp_msg m;
		struct diag_err err;
		if (l2tp_decode(buf, len, &m, &err) != 0) return; /* decoded once already */
		t->nr++;
		handle(t, &m, now);
	}
	/* anything still held is stale (older than Nr) */
	for (unsigned i = 0; i < L2TP_CTRL_RXQ && t->buf; i++)
		if (t->buf->rx[i].used && seq_lt(t->buf->rx[i].ns, t->nr)) t->buf->rx[i].used = false;
}

static void hold(struct l2tp_tunnel *t, const uint8_t *buf, size_t len, uint16_t ns)
{
	for (unsigned i = 0; i < L2TP_CTRL_RXQ && t->buf; i++)
		if (t->buf->rx[i].used && t->buf->rx[i].ns == ns) {
			t->st.duplicates++;
			return;
		}
	if (len > L2TP_CTRL_RX_MAX || !buf_take(t)) {
		t->st.dropped++;
		return;
	}
	struct l2tp_rxslot *rx = t->buf->rx;
	for (unsigned i = 0; i < L2TP_CTRL_RXQ; i++)
		if (!rx[i].used) {
			rx[i].used = true;
			rx[i].ns = ns;
			rx[i].len = (uint16_t)len;
			memcpy(rx[i].buf, buf, len);
			t->st.out_of_order++;
			l2tp_ctrl_log(t, L2TP_EV_INFO, 0, "ns %u held until ns %u arrives", ns, t->nr);
			return;
		}
	t->st.dropped++;
}

/* Messages whose answer is another control message (not just an acknowledgement). */
static bool answered_by_message(uint16_t type)
{
	return type == L2TP_MSG_SCCRQ || type == L2TP_MSG_SCCRP || type == L2TP_MSG_ICRQ ||
	       type == L2TP_MSG_ICRP || type == L2TP_MSG_OCRQ || type == L2TP_MSG_OCRP;
}

static uint64_t input(struct l2tp_tunnel *t, const uint8_t *buf, size_t len, uint64_t now)
{
	if (t->state == L2TP_TUN_DEAD) return L2TP_NEVER;
	struct l2tp_msg m;
	struct diag_err err;
	if (l2tp_decode(buf, len, &m, &err) != 0) {
		t->st.bad++;
		l2tp_ctrl_log(t, L2TP_EV_INFO, 0, "datagram discarded: offset %zu: %s", err.off, err.reason);
		return l2tp_ctrl_deadline(t);
	}
	t->st.rx++;
	if (!m.is_control) {
		struct l2tp_call *c = l2tp_ctrl_call(t, m.session_id);
		if (m.tunnel_id == t->local_tid && c && c->state == L2TP_CALL_ESTABLISHED && t->cbs->data)
			t->cbs->data(t->cbs->ctx, c->local_sid, m.payload, m.payload_len);
		return l2tp_ctrl_deadline(t);
	}
	if (!m.has_seq) {
		t->st.bad++;
		return l2tp_ctrl_deadline(t);
	}
	if (t->state == L2TP_TUN_IDLE) {
		/* a new control connection starts with an SCCRQ, Ns 0, tunnel 0 */
		if (t->conf->is_lac || m.msg_type != L2TP_MSG_SCCRQ || m.ns != 0 || m.tunnel_id != 0) {
			t->st.dropped++;
			return l2tp_ctrl_deadline(t);
		}
	} else if (m.tunnel_id != t->local_tid &&
	           !(m.tunnel_id == 0 && t->state == L2TP_TUN_WAIT_CTL_CONN)) {
		/* (until the SCCCN, a peer that could not read our Assigned Tunnel ID may
		 * still address us as tunnel 0: its SCCRQ again, or a StopCCN) */
		t->st.dropped++;
		l2tp_ctrl_log(t, L2TP_EV_INFO, 0, "message for tunnel %u on tunnel %u, dropped",
		              m.tunnel_id, t->local_tid);
		return l2tp_ctrl_deadline(t);
	}
	t->nr_sent = false;
	if (t->state != L2TP_TUN_IDLE) take_ack(t, m.nr, now);
	if (m.zlb || t->state == L2TP_TUN_DEAD) return l2tp_ctrl_deadline(t);
	if (t->conf->hello_ms && t->state != L2TP_TUN_CLOSED)
		t->hello_at = now + t->conf->hello_ms;
	int16_t d = (int16_t)(uint16_t)(m.ns - t->nr);
	if (d < 0) {
		/* our acknowledgement was lost: say it again */
		t->st.duplicates++;
		t->ack_owed = true;
		l2tp_ctrl_log(t, L2TP_EV_INFO, 0, "duplicate %s ns %u (expected %u), acknowledged again",
		              l2tp_msg_name(m.msg_type) ? l2tp_msg_name(m.msg_type) : "message", m.ns, t->nr);
	} else if (d == 0 && answered_by_message(m.msg_type) &&
	           !queue_room(t, m.msg_type == L2TP_MSG_SCCRQ || m.msg_type == L2TP_MSG_SCCRP
	                              ? L2TP_CTRL_MSG_MAX : 64)) {
		/* no room to queue the answer: leave the message unacknowledged, the peer
		 * sends it again once our queue has drained */
		t->st.dropped++;
		l2tp_ctrl_log(t, L2TP_EV_INFO, 0, "%s ns %u left for its retransmission: %u control "
		              "messages await acknowledgement", l2tp_msg_name(m.msg_type), m.ns,
		              (unsigned)t->tx_count);
	} else if (d == 0) {
		t->nr++;
		t->ack_owed = true;
		handle(t, &m, now);
		drain_held(t, now);
	} else if (d < (t->conf->rwin ? t->conf->rwin : 4)) {
		hold(t, buf, len, m.ns);
	} else {
		t->st.dropped++;
		l2tp_ctrl_log(t, L2TP_EV_INFO, 0, "ns %u outside our window (expected %u), dropped", m.ns,
		              t->nr);
	}
	if (t->ack_owed && !t->nr_sent && t->state != L2TP_TUN_DEAD && t->state != L2TP_TUN_IDLE)
		send_zlb(t);
	return l2tp_ctrl_deadline(t);
}

uint64_t l2tp_ctrl_input(struct l2tp_tunnel *t, const uint8_t *buf, size_t len, uint64_t now)
{
	uint64_t d = input(t, buf, len, now);
	buf_trim(t);
	return d;
}

uint64_t l2tp_ctrl_deadline(const struct l2tp_tunnel *t)
{
	if (t->state == L2TP_TUN_DEAD) return L2TP_NEVER;
	uint64_t d = t->rtx_at;
	if (t->state == L2TP_TUN_ESTABLISHED && t->hello_at < d) d = t->hello_at;
	if (t->state == L2TP_TUN_CLOSED && t->hold_until < d) d = t->hold_until;
	return d;
}

static uint64_t tick(struct l2tp_tunnel *t, uint64_t now)
{
	if (t->state == L2TP_TUN_DEAD) return L2TP_NEVER;
	if (t->state == L2TP_TUN_CLOSED && now >= t->hold_until) {
		l2tp_ctrl_set_state(t, L2TP_TUN_DEAD);
		return L2TP_NEVER;
	}
	if (t->rtx_at != L2TP_NEVER && now >= t->rtx_at) {
		if (t->retries >= t->conf->max_retries) {
			snprintf(t->why, sizeof t->why,
			         "peer did not acknowledge after %u retransmissions", t->retries);
			l2tp_ctrl_log(t, L2TP_EV_TUNNEL_DOWN, 0, "tunnel %u down: %s", t->local_tid, t->why);
			t->result = STOP_ERROR;
			t->error = ERR_NONE;
			t->tx_count = 0;
			t->rtx_at = L2TP_NEVER;
			all_calls_down(t, L2TP_CDN_LOST_CARRIER, 0);
			l2tp_ctrl_set_state(t, L2TP_TUN_DEAD);
			return L2TP_NEVER;
		}
		t->retries++;
		t->st.retransmits++;
		t->rto = t->rto * 2 > t->conf->rto_max_ms ? t->conf->rto_max_ms : t->rto * 2;
		for (unsigned i = 0; i < t->tx_count; i++) {
			struct l2tp_txslot *s = tx_slot(t, i);
			if (!s->sent) break;
			l2tp_ctrl_log(t, L2TP_EV_INFO, 0, "retransmit ns %u (try %u, next in %u ms)", s->ns,
			              t->retries, t->rto);
			raw_send(t, tx_bytes(t, s), s->len);
		}
		t->rtx_at = now + t->rto;
	}
	if (t->state == L2TP_TUN_ESTABLISHED && t->conf->hello_ms && now >= t->hello_at) {
		/* while something is unacknowledged its retransmissions already probe the
		 * peer: no HELLO on top */
		if (t->tx_count == 0) {
			struct l2tp_msg m;
			l2tp_msg_init_ctrl(&m, L2TP_MSG_HELLO, t->peer_tid, 0, 0, 0);
			l2tp_ctrl_queue(t, &m, now);
		}
		t->hello_at = now + t->conf->hello_ms;
	}
	return l2tp_ctrl_deadline(t);
}

uint64_t l2tp_ctrl_tick(struct l2tp_tunnel *t, uint64_t now)
{
	uint64_t d = tick(t, now);
	buf_trim(t);
	return d;
}

int l2tp_ctrl_send_data(struct l2tp_tunnel *t, uint16_t local_sid, const uint8_t *ppp, size_t len)
{
	struct l2tp_call *c = l2tp_ctrl_call(t, local_sid);
	if (!c || c->state != L2TP_CALL_ESTABLISHED || t->state != L2TP_TUN_ESTABLISHED) return -1;
	struct l2tp_msg m;
	l2tp_msg_init_data(&m, t->peer_tid, c->peer_sid, false, 0, 0, ppp, len);
	uint8_t buf[L2TP_CTRL_DATA_MAX];
	size_t n = l2tp_encode(&m, buf, sizeof buf);
	if (n == 0) return -1;
	t->st.tx++;
	t->cbs->send(t->cbs->ctx, buf, n);
	return 0;
}
