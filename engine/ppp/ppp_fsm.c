/* The RFC 1661 automaton: ten states, sixteen events, the actions of section 4.4.
 * Each event is a `switch (state)` that follows the state transition table of section
 * 4.1; the restart timer and its counter follow section 4.6. */
#include "ppp/ppp_fsm.h"

#include <stdio.h>
#include <string.h>

const struct tok ppp_fsm_state_names[] = {
	{PPP_ST_INITIAL, "Initial"},   {PPP_ST_STARTING, "Starting"}, {PPP_ST_CLOSED, "Closed"},
	{PPP_ST_STOPPED, "Stopped"},   {PPP_ST_CLOSING, "Closing"},   {PPP_ST_STOPPING, "Stopping"},
	{PPP_ST_REQ_SENT, "Req-Sent"}, {PPP_ST_ACK_RCVD, "Ack-Rcvd"}, {PPP_ST_ACK_SENT, "Ack-Sent"},
	{PPP_ST_OPENED, "Opened"},     {0, NULL},
};

const struct tok ppp_fsm_event_names[] = {
	{PPP_EV_UP, "Up"},       {PPP_EV_DOWN, "Down"},     {PPP_EV_OPEN, "Open"},
	{PPP_EV_CLOSE, "Close"}, {PPP_EV_TO_PLUS, "TO+"},   {PPP_EV_TO_MINUS, "TO-"},
	{PPP_EV_RCR_PLUS, "RCR+"}, {PPP_EV_RCR_MINUS, "RCR-"}, {PPP_EV_RCA, "RCA"},
	{PPP_EV_RCN, "RCN"},     {PPP_EV_RTR, "RTR"},       {PPP_EV_RTA, "RTA"},
	{PPP_EV_RUC, "RUC"},     {PPP_EV_RXJ_PLUS, "RXJ+"}, {PPP_EV_RXJ_MINUS, "RXJ-"},
	{PPP_EV_RXR, "RXR"},     {0, NULL},
};

const struct tok ppp_log_names[] = {
	{PPP_LOG_TRACE, "trace"},       {PPP_LOG_INFO, "info"},         {PPP_LOG_LCP_UP, "lcp-up"},
	{PPP_LOG_AUTH_OK, "auth-ok"},   {PPP_LOG_AUTH_FAIL, "auth-fail"}, {PPP_LOG_NCP_UP, "ncp-up"},
	{PPP_LOG_NCP_FAIL, "ncp-fail"}, {PPP_LOG_LINK_DOWN, "link-down"}, {0, NULL},
};

/* ---- outgoing options ------------------------------------------------------------ */
static void out_reset(struct ppp_fsm_out *o, struct ppp_cp *cp)
{
	memset(cp, 0, sizeof *cp);
	o->cp = cp;
	o->used = 0;
	o->full = false;
}

void ppp_out_opt(struct ppp_fsm_out *o, uint8_t type, const void *data, size_t n)
{
	struct ppp_cp *cp = o->cp;
	if (o->full || cp->nopts >= PPP_MAX_OPTS || n > 253 || n > sizeof o->scratch - o->used) {
		o->full = true;
		return;
	}
	uint8_t *d = o->scratch + o->used;
	if (n) memcpy(d, data, n);
	o->used += n;
	struct ppp_opt *opt = &cp->opts[cp->nopts++];
	opt->type = type;
	opt->len = (uint8_t)(n + 2);
	opt->data = d;
	opt->dlen = n;
	opt->off = 0;
}

void ppp_out_opt_u16(struct ppp_fsm_out *o, uint8_t type, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	ppp_out_opt(o, type, b, 2);
}

void ppp_out_opt_u32(struct ppp_fsm_out *o, uint8_t type, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	ppp_out_opt(o, type, b, 4);
}

void ppp_out_opt_copy(struct ppp_fsm_out *o, const struct ppp_opt *opt)
{
	struct ppp_cp *cp = o->cp;
	if (o->full || cp->nopts >= PPP_MAX_OPTS) {
		o->full = true;
		return;
	}
	cp->opts[cp->nopts] = *opt;
	cp->opts[cp->nopts].len = (uint8_t)(opt->dlen + 2);
	cp->nopts++;
}

/* ---- sending --------------------------------------------------------------------- */
static void send_cp(struct ppp_fsm *f, const struct ppp_cp *cp)
{
	struct ppp_msg m;
	memset(&m, 0, sizeof m);
	m.proto = f->ops->proto;
	m.kind = PPP_KIND_CP;
	m.cp = *cp;
	f->ops->send(f, &m);
}

void ppp_fsm_send_code(struct ppp_fsm *f, uint8_t code, uint8_t id, const uint8_t *data,
                       size_t n, bool has_magic, uint32_t magic)
{
	struct ppp_cp cp;
	memset(&cp, 0, sizeof cp);
	cp.code = code;
	cp.id = id;
	cp.data = data;
	cp.dlen = n;
	cp.has_magic = has_magic;
	cp.magic = magic;
	send_cp(f, &cp);
}

static void trace(struct ppp_fsm *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(struct ppp_fsm *f, const char *fmt, ...)
{
	if (!f->ops->trace || (f->ops->tracing && !f->ops->tracing(f))) return;
	char line[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	f->ops->trace(f, line);
}

/* What a packet-carrying event brings along. */
struct fsm_pkt {
	const struct ppp_cp *cp;
	const uint8_t *raw;
	size_t rawlen;
	int reply_code;            /* for RCR: PPP_CONF_ACK / NAK / REJ */
	struct ppp_fsm_out *reply; /* for RCR-: the Nak or Reject options */
};

/* ---- actions (RFC 1661 section 4.4) ---------------------------------------------- */
static void start_timer(struct ppp_fsm *f, uint64_t now)
{
	f->deadline = now + f->conf->restart_ms;
}

static void stop_timer(struct ppp_fsm *f) { f->deadline = PPP_NEVER; }

static void irc_configure(struct ppp_fsm *f) { f->restart_count = f->conf->max_configure; }
static void irc_terminate(struct ppp_fsm *f) { f->restart_count = f->conf->max_terminate; }

static void zrc(struct ppp_fsm *f, uint64_t now)
{
	f->restart_count = 0;
	start_timer(f, now);
}

static void tlu(struct ppp_fsm *f, uint64_t now)
{
	f->naks_rcvd = 0;
	if (f->ops->up) f->ops->up(f, now);
}
static void tld(struct ppp_fsm *f, uint64_t now)
{
	if (f->ops->down) f->ops->down(f, now);
}
static void tls(struct ppp_fsm *f, uint64_t now)
{
	if (f->ops->started) f->ops->started(f, now);
}
static void tlf(struct ppp_fsm *f, uint64_t now)
{
	stop_timer(f);
	if (f->ops->finished) f->ops->finished(f, now);
}

static void scr(struct ppp_fsm *f, uint64_t now)
{
	struct ppp_cp cp;
	struct ppp_fsm_out o;
	out_reset(&o, &cp);
	f->ops->build_req(f, &o);
	f->id++;
	cp.code = PPP_CONF_REQ;
	cp.id = f->id;
	if (f->restart_count > 0) f->restart_count--;
	f->req_outstanding = true;
	start_timer(f, now);
	if (o.full) {
		trace(f, "%s: Configure-Request options do not fit, not sent", f->ops->name);
		return;
	}
	send_cp(f, &cp);
}

static void sca(struct ppp_fsm *f, const struct fsm_pkt *p)
{
	struct ppp_cp cp = *p->cp; /* echo every option as received */
	cp.code = PPP_CONF_ACK;
	f->naks_sent = 0;
	send_cp(f, &cp);
}

static void scn(struct ppp_fsm *f, const struct fsm_pkt *p)
{
	struct ppp_cp *cp = p->reply->cp;
	cp->code = (uint8_t)p->reply_code;
	cp->id = p->cp->id;
	if (p->reply_code == PPP_CONF_NAK && f->naks_sent < 255) f->naks_sent++;
	if (p->reply->full) {
		trace(f, "%s: reply options do not fit, not sent", f->ops->name);
		return;
	}
	send_cp(f, cp);
}

static void str_(struct ppp_fsm *f, uint64_t now)
{
	f->term_id = ++f->id;
	if (f->restart_count > 0) f->restart_count--;
	start_timer(f, now);
	ppp_fsm_send_code(f, PPP_TERM_REQ, f->term_id, (const uint8_t *)f->why, strlen(f->why),
	                  false, 0);
}

static void sta(struct ppp_fsm *f, const struct fsm_pkt *p)
{
	uint8_t id = p && p->cp ? p->cp->id : f->id;
	ppp_fsm_send_code(f, PPP_TERM_ACK, id, NULL, 0, false, 0);
}

static void scj(struct ppp_fsm *f, const struct fsm_pkt *p)
{
	if (!p || !p->raw) return;
	size_t n = p->rawlen;
	if (n > 1400) n = 1400; /* keep the reject within a minimal MRU */
	ppp_fsm_send_code(f, PPP_CODE_REJ, ++f->id, p->raw, n, false, 0);
}

/* ---- the state table ------------------------------------------------------------- */
static void set_state(struct ppp_fsm *f, enum ppp_fsm_state s, enum ppp_fsm_event ev)
{
	char a[16], b[16];
	if (f->transitions < UINT16_MAX) f->transitions++;
	trace(f, "%s: %s in %s -> %s", f->ops->name, tok_str(ppp_fsm_event_names, ev, a, sizeof a),
	      tok_str(ppp_fsm_state_names, f->state, b, sizeof b),
	      tok_name(ppp_fsm_state_names, s));
	f->state = (uint8_t)s;
	if (s != PPP_ST_REQ_SENT && s != PPP_ST_ACK_RCVD && s != PPP_ST_ACK_SENT &&
	    s != PPP_ST_CLOSING && s != PPP_ST_STOPPING)
		stop_timer(f);
}

static void illegal(struct ppp_fsm *f, enum ppp_fsm_event ev)
{
	char a[16], b[16];
	trace(f, "%s: %s in %s state: illegal event, ignored", f->ops->name,
	      tok_str(ppp_fsm_event_names, ev, a, sizeof a),
	      tok_str(ppp_fsm_state_names, f->state, b, sizeof b));
}

static void run(struct ppp_fsm *f, enum ppp_fsm_event ev, const struct fsm_pkt *p, uint64_t now)
{
	switch (ev) {
	case PPP_EV_UP:
		switch (f->state) {
		case PPP_ST_INITIAL: set_state(f, PPP_ST_CLOSED, ev); break;
		case PPP_ST_STARTING:
			irc_configure(f); scr(f, now); set_state(f, PPP_ST_REQ_SENT, ev); break;
		default: illegal(f, ev);
		}
		break;
	case PPP_EV_DOWN:
		switch (f->state) {
		case PPP_ST_CLOSED: set_state(f, PPP_ST_INITIAL, ev); break;
		case PPP_ST_STOPPED: set_state(f, PPP_ST_STARTING, ev); tls(f, now); break;
		case PPP_ST_CLOSING: set_state(f, PPP_ST_INITIAL, ev); break;
		case PPP_ST_STOPPING: case PPP_ST_REQ_SENT: case PPP_ST_ACK_RCVD: case PPP_ST_ACK_SENT:
			set_state(f, PPP_ST_STARTING, ev); break;
		case PPP_ST_OPENED: tld(f, now); set_state(f, PPP_ST_STARTING, ev); break;
		default: illegal(f, ev);
		}
		break;
	case PPP_EV_OPEN:
		switch (f->state) {
		case PPP_ST_INITIAL: set_state(f, PPP_ST_STARTING, ev); tls(f, now); break;
		case PPP_ST_CLOSED:
			irc_configure(f); scr(f, now); set_state(f, PPP_ST_REQ_SENT, ev); break;
		case PPP_ST_CLOSING: set_state(f, PPP_ST_STOPPING, ev); break;
		default: break; /* 1 (stay), no restart option */
		}
		break;
	case PPP_EV_CLOSE:
		switch (f->state) {
		case PPP_ST_STARTING: set_state(f, PPP_ST_INITIAL, ev); tlf(f, now); break;
		case PPP_ST_STOPPED: set_state(f, PPP_ST_CLOSED, ev); break;
		case PPP_ST_STOPPING: set_state(f, PPP_ST_CLOSING, ev); break;
		case PPP_ST_REQ_SENT: case PPP_ST_ACK_RCVD: case PPP_ST_ACK_SENT:
			irc_terminate(f); str_(f, now); set_state(f, PPP_ST_CLOSING, ev); break;
		case PPP_ST_OPENED:
			tld(f, now); irc_terminate(f); str_(f, now); set_state(f, PPP_ST_CLOSING, ev);
			break;
		default: break; /* Initial, Closed, Closing: stay */
		}
		break;
	case PPP_EV_TO_PLUS:
		switch (f->state) {
		case PPP_ST_CLOSING: case PPP_ST_STOPPING: str_(f, now); break;
		case PPP_ST_REQ_SENT: case PPP_ST_ACK_RCVD:
			scr(f, now); set_state(f, PPP_ST_REQ_SENT, ev); break;
		case PPP_ST_ACK_SENT: scr(f, now); break;
		default: illegal(f, ev);
		}
		break;
	case PPP_EV_TO_MINUS:
		f->timed_out = true;
		switch (f->state) {
		case PPP_ST_CLOSING: set_state(f, PPP_ST_CLOSED, ev); tlf(f, now); break;
		case PPP_ST_STOPPING: case PPP_ST_REQ_SENT: case PPP_ST_ACK_RCVD: case PPP_ST_ACK_SENT:
			if (!f->why[0] && f->state != PPP_ST_STOPPING)
				snprintf(f->why, sizeof f->why, "%s: peer did not answer %u Configure-Requests",
				         f->ops->name, (unsigned)f->conf->max_configure);
			set_state(f, PPP_ST_STOPPED, ev); tlf(f, now); break;
		default: illegal(f, ev);
		}
		break;
	case PPP_EV_RCR_PLUS:
	case PPP_EV_RCR_MINUS: {
		bool plus = ev == PPP_EV_RCR_PLUS;
		switch (f->state) {
		case PPP_ST_CLOSED: sta(f, p); break;
		case PPP_ST_STOPPED:
			irc_configure(f); scr(f, now);
			if (plus) { sca(f, p); set_state(f, PPP_ST_ACK_SENT, ev); }
			else { scn(f, p); set_state(f, PPP_ST_REQ_SENT, ev); }
			break;
		case PPP_ST_CLOSING: case PPP_ST_STOPPING: break;
		case PPP_ST_REQ_SENT:
			if (plus) { sca(f, p); set_state(f, PPP_ST_ACK_SENT, ev); }
			else scn(f, p);
			break;
		case PPP_ST_ACK_RCVD:
			if (plus) { sca(f, p); set_state(f, PPP_ST_OPENED, ev); tlu(f, now); }
			else scn(f, p);
			break;
		case PPP_ST_ACK_SENT:
			if (plus) sca(f, p);
			else { scn(f, p); set_state(f, PPP_ST_REQ_SENT, ev); }
			break;
		case PPP_ST_OPENED:
			tld(f, now); scr(f, now);
			if (plus) { sca(f, p); set_state(f, PPP_ST_ACK_SENT, ev); }
			else { scn(f, p); set_state(f, PPP_ST_REQ_SENT, ev); }
			break;
		default: illegal(f, ev);
		}
		break;
	}
	case PPP_EV_RCA:
		switch (f->state) {
		case PPP_ST_CLOSED: case PPP_ST_STOPPED: sta(f, p); break;
		case PPP_ST_CLOSING: case PPP_ST_STOPPING: break;
		case PPP_ST_REQ_SENT:
			/* the restart timer keeps running: if the peer's request never comes,
			 * TO+ in Ack-Rcvd sends ours again */
			irc_configure(f); set_state(f, PPP_ST_ACK_RCVD, ev);
			break;
		case PPP_ST_ACK_RCVD: scr(f, now); set_state(f, PPP_ST_REQ_SENT, ev); break;
		case PPP_ST_ACK_SENT:
			irc_configure(f); set_state(f, PPP_ST_OPENED, ev); tlu(f, now); break;
		case PPP_ST_OPENED: tld(f, now); scr(f, now); set_state(f, PPP_ST_REQ_SENT, ev); break;
		default: illegal(f, ev);
		}
		break;
	case PPP_EV_RCN:
		switch (f->state) {
		case PPP_ST_CLOSED: case PPP_ST_STOPPED: sta(f, p); break;
		case PPP_ST_CLOSING: case PPP_ST_STOPPING: break;
		case PPP_ST_REQ_SENT: irc_configure(f); scr(f, now); break;
		case PPP_ST_ACK_RCVD: scr(f, now); set_state(f, PPP_ST_REQ_SENT, ev); break;
		case PPP_ST_ACK_SENT: irc_configure(f); scr(f, now); break;
		case PPP_ST_OPENED: tld(f, now); scr(f, now); set_state(f, PPP_ST_REQ_SENT, ev); break;
		default: illegal(f, ev);
		}
		break;
	case PPP_EV_RTR:
		switch (f->state) {
		case PPP_ST_CLOSED: case PPP_ST_STOPPED: case PPP_ST_CLOSING: case PPP_ST_STOPPING:
			sta(f, p); break;
		case PPP_ST_REQ_SENT: case PPP_ST_ACK_RCVD: case PPP_ST_ACK_SENT:
			sta(f, p); set_state(f, PPP_ST_REQ_SENT, ev); break;
		case PPP_ST_OPENED:
			if (!f->why[0]) snprintf(f->why, sizeof f->why, "%s: peer sent Terminate-Request",
			                         f->ops->name);
			tld(f, now); zrc(f, now); sta(f, p); set_state(f, PPP_ST_STOPPING, ev);
			break;
		default: illegal(f, ev);
		}
		break;
	case PPP_EV_RTA:
		switch (f->state) {
		case PPP_ST_CLOSING: set_state(f, PPP_ST_CLOSED, ev); tlf(f, now); break;
		case PPP_ST_STOPPING: set_state(f, PPP_ST_STOPPED, ev); tlf(f, now); break;
		case PPP_ST_ACK_RCVD: set_state(f, PPP_ST_REQ_SENT, ev); break;
		case PPP_ST_OPENED: tld(f, now); scr(f, now); set_state(f, PPP_ST_REQ_SENT, ev); break;
		case PPP_ST_CLOSED: case PPP_ST_STOPPED: case PPP_ST_REQ_SENT: case PPP_ST_ACK_SENT:
			break;
		default: illegal(f, ev);
		}
		break;
	case PPP_EV_RUC:
		switch (f->state) {
		case PPP_ST_INITIAL: case PPP_ST_STARTING: illegal(f, ev); break;
		default: scj(f, p);
		}
		break;
	case PPP_EV_RXJ_PLUS:
		switch (f->state) {
		case PPP_ST_INITIAL: case PPP_ST_STARTING: illegal(f, ev); break;
		case PPP_ST_ACK_RCVD: set_state(f, PPP_ST_REQ_SENT, ev); break;
		default: break;
		}
		break;
	case PPP_EV_RXJ_MINUS:
		switch (f->state) {
		case PPP_ST_CLOSED: case PPP_ST_CLOSING: set_state(f, PPP_ST_CLOSED, ev); tlf(f, now); break;
		case PPP_ST_STOPPED: case PPP_ST_STOPPING: case PPP_ST_REQ_SENT: case PPP_ST_ACK_RCVD:
		case PPP_ST_ACK_SENT:
			set_state(f, PPP_ST_STOPPED, ev); tlf(f, now); break;
		case PPP_ST_OPENED:
			tld(f, now); irc_terminate(f); str_(f, now); set_state(f, PPP_ST_STOPPING, ev);
			break;
		default: illegal(f, ev);
		}
		break;
	case PPP_EV_RXR:
		switch (f->state) {
		case PPP_ST_INITIAL: case PPP_ST_STARTING: illegal(f, ev); break;
		default: break; /* the protocol answered Echo-Request in other_code (ser) */
		}
		break;
	default:
		break;
	}
}

/* ---- entry points ---------------------------------------------------------------- */
void ppp_fsm_init(struct ppp_fsm *f, const struct ppp_fsm_ops *ops,
                  const struct ppp_fsm_conf *conf, void *owner)
{
	memset(f, 0, sizeof *f);
	f->ops = ops;
	f->conf = conf;
	f->owner = owner;
	f->state = PPP_ST_INITIAL;
	f->deadline = PPP_NEVER;
}

void ppp_fsm_up(struct ppp_fsm *f, uint64_t now) { run(f, PPP_EV_UP, NULL, now); }
void ppp_fsm_down(struct ppp_fsm *f, uint64_t now) { run(f, PPP_EV_DOWN, NULL, now); }

void ppp_fsm_open(struct ppp_fsm *f, uint64_t now)
{
	f->why[0] = 0;
	f->naks_rcvd = 0;
	f->naks_sent = 0;
	f->timed_out = false;
	run(f, PPP_EV_OPEN, NULL, now);
}

void ppp_fsm_close(struct ppp_fsm *f, uint64_t now, const char *why)
{
	if (why && !f->why[0]) snprintf(f->why, sizeof f->why, "%s", why);
	run(f, PPP_EV_CLOSE, NULL, now);
}

void ppp_fsm_rxj(struct ppp_fsm *f, bool permitted, uint64_t now)
{
	if (!permitted && !f->why[0])
		snprintf(f->why, sizeof f->why, "%s: rejected by the peer", f->ops->name);
	run(f, permitted ? PPP_EV_RXJ_PLUS : PPP_EV_RXJ_MINUS, NULL, now);
}

void ppp_fsm_tick(struct ppp_fsm *f, uint64_t now)
{
	if (f->deadline == PPP_NEVER || now < f->deadline) return;
	f->deadline = PPP_NEVER;
	run(f, f->restart_count > 0 ? PPP_EV_TO_PLUS : PPP_EV_TO_MINUS, NULL, now);
}

/* Does the state take Configure-Request judgements (sca/scn happen)? */
static bool judges_requests(const struct ppp_fsm *f)
{
	switch (f->state) {
	case PPP_ST_STOPPED: case PPP_ST_REQ_SENT: case PPP_ST_ACK_RCVD: case PPP_ST_ACK_SENT:
	case PPP_ST_OPENED:
		return true;
	default:
		return false;
	}
}

static void give_up(struct ppp_fsm *f, uint64_t now)
{
	if (!f->why[0]) snprintf(f->why, sizeof f->why, "%s: no acceptable options left", f->ops->name);
	run(f, PPP_EV_CLOSE, NULL, now);
}

void ppp_fsm_input(struct ppp_fsm *f, const struct ppp_cp *cp, const uint8_t *raw,
                   size_t rawlen, uint64_t now)
{
	struct fsm_pkt p = {cp, raw, rawlen, 0, NULL};
	if (f->state == PPP_ST_INITIAL || f->state == PPP_ST_STARTING) {
		trace(f, "%s: packet code %u in %s state, discarded", f->ops->name, cp->code,
		      tok_name(ppp_fsm_state_names, f->state));
		return;
	}
	switch (cp->code) {
	case PPP_CONF_REQ: {
		if (!judges_requests(f)) {
			run(f, PPP_EV_RCR_PLUS, &p, now); /* Closed: sta; Closing/Stopping: ignore */
			return;
		}
		struct ppp_cp reply;
		struct ppp_fsm_out o;
		out_reset(&o, &reply);
		int code = f->ops->check_req(f, cp, f->naks_sent < f->conf->max_failure, &o);
		if (code < 0) {
			give_up(f, now);
			return;
		}
		p.reply_code = code;
		p.reply = &o;
		run(f, code == PPP_CONF_ACK ? PPP_EV_RCR_PLUS : PPP_EV_RCR_MINUS, &p, now);
		return;
	}
	case PPP_CONF_ACK:
		if (!f->req_outstanding || cp->id != f->id) {
			trace(f, "%s: Configure-Ack id %u does not match request %u, discarded",
			      f->ops->name, cp->id, f->id);
			return;
		}
		if (f->state == PPP_ST_REQ_SENT || f->state == PPP_ST_ACK_SENT ||
		    f->state == PPP_ST_ACK_RCVD || f->state == PPP_ST_OPENED) {
			f->req_outstanding = false;
			f->naks_rcvd = 0;
			if (f->ops->recv_ack) f->ops->recv_ack(f, cp);
		}
		run(f, PPP_EV_RCA, &p, now);
		return;
	case PPP_CONF_NAK:
	case PPP_CONF_REJ: {
		if (!f->req_outstanding || cp->id != f->id) {
			trace(f, "%s: Configure-%s id %u does not match request %u, discarded",
			      f->ops->name, cp->code == PPP_CONF_NAK ? "Nak" : "Reject", cp->id, f->id);
			return;
		}
		if (f->state == PPP_ST_REQ_SENT || f->state == PPP_ST_ACK_SENT ||
		    f->state == PPP_ST_ACK_RCVD || f->state == PPP_ST_OPENED) {
			f->req_outstanding = false;
			int rc = cp->code == PPP_CONF_NAK ? f->ops->recv_nak(f, cp) : f->ops->recv_rej(f, cp);
			if (cp->code == PPP_CONF_NAK && f->naks_rcvd < 255) f->naks_rcvd++;
			if (rc < 0 || f->naks_rcvd > f->conf->max_failure) {
				if (rc >= 0 && !f->why[0])
					snprintf(f->why, sizeof f->why,
					         "%s: peer sent %u Configure-Naks without converging",
					         f->ops->name, (unsigned)f->naks_rcvd);
				give_up(f, now);
				return;
			}
		}
		run(f, PPP_EV_RCN, &p, now);
		return;
	}
	case PPP_TERM_REQ:
		run(f, PPP_EV_RTR, &p, now);
		return;
	case PPP_TERM_ACK:
		run(f, PPP_EV_RTA, &p, now);
		return;
	case PPP_CODE_REJ: {
		/* RXJ+ when the rejected code is one we can live without, RXJ- for 1..7 */
		uint8_t rc = cp->dlen > 0 ? cp->data[0] : 0;
		bool permitted = !(rc >= PPP_CONF_REQ && rc <= PPP_CODE_REJ);
		if (!permitted)
			snprintf(f->why, sizeof f->why, "%s: peer rejected code %u", f->ops->name, rc);
		run(f, permitted ? PPP_EV_RXJ_PLUS : PPP_EV_RXJ_MINUS, &p, now);
		return;
	}
	default:
		if (f->ops->other_code && f->ops->other_code(f, cp, now)) {
			if (cp->code == PPP_ECHO_REQ || cp->code == PPP_ECHO_REPLY ||
			    cp->code == PPP_DISCARD_REQ)
				run(f, PPP_EV_RXR, &p, now);
			return;
		}
		run(f, PPP_EV_RUC, &p, now);
		return;
	}
}

void ppp_fsm_event(struct ppp_fsm *f, enum ppp_fsm_event ev, const struct ppp_cp *cp,
                   uint64_t now)
{
	struct ppp_cp empty;
	memset(&empty, 0, sizeof empty);
	if (!cp) cp = &empty;
	struct ppp_cp reply;
	struct ppp_fsm_out o;
	out_reset(&o, &reply);
	struct fsm_pkt p = {cp, NULL, 0, PPP_CONF_REJ, &o};
	if (ev == PPP_EV_RCR_MINUS) p.reply_code = cp->nopts ? PPP_CONF_NAK : PPP_CONF_REJ;
	if (ev == PPP_EV_RCR_MINUS) {
		for (size_t i = 0; i < cp->nopts; i++) ppp_out_opt_copy(&o, &cp->opts[i]);
	}
	run(f, ev, &p, now);
}
