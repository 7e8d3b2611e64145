/* The RADIUS client of `vnet serve` (client.h). */
#include "radius/client.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- attributes ------------------------------------------------------------------------ */
void radc_body_put(struct radc_body *b, uint8_t type, const void *val, size_t len)
{
	if (len > 253 || b->n + 2 + len > sizeof b->b) {
		b->err = true;
		return;
	}
	b->b[b->n++] = type;
	b->b[b->n++] = (uint8_t)(len + 2);
	if (len) memcpy(b->b + b->n, val, len);
	b->n += len;
}

void radc_body_u32(struct radc_body *b, uint8_t type, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	radc_body_put(b, type, x, 4);
}

void radc_body_ms(struct radc_body *b, uint8_t vtype, const void *val, size_t len)
{
	uint8_t x[255];
	if (len > 247) {
		b->err = true;
		return;
	}
	x[0] = 0;
	x[1] = 0;
	x[2] = RADIUS_VENDOR_MICROSOFT >> 8;
	x[3] = RADIUS_VENDOR_MICROSOFT & 0xff;
	x[4] = vtype;
	x[5] = (uint8_t)(len + 2);
	if (len) memcpy(x + 6, val, len);
	radc_body_put(b, RADIUS_ATTR_VENDOR_SPECIFIC, x, len + 6);
}

/* ---- set-up ---------------------------------------------------------------------------- */
__attribute__((format(printf, 3, 4)))
static void clog_(struct radc *c, bool debug_only, const char *fmt, ...)
{
	if (!c->cbs->log) return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	c->cbs->log(c->ctx, debug_only, line);
}

int radc_init(struct radc *c, const struct config *cfg, const struct radc_cbs *cbs, void *ctx)
{
	memset(c, 0, sizeof *c);
	c->cfg = cfg;
	c->cbs = cbs;
	c->ctx = ctx;
	c->nsrv = (unsigned)cfg->server.nradius;
	if (!c->nsrv || c->nsrv > RADC_MAX_SERVERS) return -1;
	return 0;
}

static void req_free(struct radc_req *r)
{
	if (!r) return;
	OPENSSL_cleanse(r->pw, sizeof r->pw);
	free(r->body);
	free(r->pkt);
	free(r);
}

void radc_free(struct radc *c)
{
	for (unsigned i = 0; i < RADC_INFLIGHT; i++) req_free(c->inflight[i]);
	for (struct radc_req *r = c->qhead, *n; r; r = n) {
		n = r->next;
		req_free(r);
	}
	memset(c, 0, sizeof *c);
}

static const struct radius_server *conf(const struct radc *c, unsigned i)
{
	return &c->cfg->server.radius[i];
}

bool radc_server_dead(const struct radc *c, unsigned i, uint64_t now)
{
	return c->srv[i].dead_until && now < c->srv[i].dead_until;
}

/* ---- sending --------------------------------------------------------------------------- */
/* The packet for the server the request is with: a fresh authenticator, the password
 * hidden with that server's secret, Acct-Delay-Time, Message-Authenticator, signed. */
static int build(struct radc *c, struct radc_req *r, uint64_t now)
{
	const struct radius_server *s = conf(c, r->srv);
	const uint8_t *sec = (const uint8_t *)(s->secret ? s->secret : "");
	size_t sl = strlen((const char *)sec);
	uint8_t pkt[RADIUS_MAX_LEN];
	size_t n = 20;
	pkt[0] = r->kind ? RADIUS_ACCOUNTING_REQUEST : RADIUS_ACCESS_REQUEST;
	pkt[1] = r->id;
	if (r->kind == 0) c->cbs->random(c->ctx, r->auth, 16);
	memcpy(pkt + 4, r->kind ? (const uint8_t[16]){0} : r->auth, 16);
	if (r->has_pw) {
		uint8_t hidden[128];
		size_t hl = radius_hide_password(r->pw, r->pw_len, sec, sl, r->auth, hidden,
		                                 sizeof hidden);
		if (!hl || n + 2 + hl > sizeof pkt) return -1;
		pkt[n++] = RADIUS_ATTR_USER_PASSWORD;
		pkt[n++] = (uint8_t)(hl + 2);
		memcpy(pkt + n, hidden, hl);
		n += hl;
	}
	if (n + r->body_len + 6 + 18 > sizeof pkt) return -1;
	memcpy(pkt + n, r->body, r->body_len);
	n += r->body_len;
	if (r->kind) {
		uint64_t d = r->delay + (now - r->created) / 1000;
		uint32_t dv = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
		pkt[n++] = RADIUS_ATTR_ACCT_DELAY_TIME;
		pkt[n++] = 6;
		pkt[n++] = (uint8_t)(dv >> 24);
		pkt[n++] = (uint8_t)(dv >> 16);
		pkt[n++] = (uint8_t)(dv >> 8);
		pkt[n++] = (uint8_t)dv;
	}
	pkt[n++] = RADIUS_ATTR_MESSAGE_AUTHENTICATOR;
	pkt[n++] = 18;
	memset(pkt + n, 0, 16);
	n += 16;
	pkt[2] = (uint8_t)(n >> 8);
	pkt[3] = (uint8_t)n;
	if (radius_sign(pkt, n, NULL, sec, sl) != 0) return -1;
	if (r->kind) memcpy(r->auth, pkt + 4, 16);
	uint8_t *p = realloc(r->pkt, n);
	if (!p) return -1;
	memcpy(p, pkt, n);
	r->pkt = p;
	r->pkt_len = (uint16_t)n;
	return 0;
}

static void transmit(struct radc *c, struct radc_req *r, uint64_t now)
{
	const struct radius_server *s = conf(c, r->srv);
	r->sends++;
	r->deadline = now + (uint64_t)s->timeout_ms;
	c->srv[r->srv].requests++;
	c->cbs->send(c->ctx, r->srv, r->kind != 0, r->pkt, r->pkt_len);
}

/* The next server for a request: the first untried one that is alive, else (for an
 * Access-Request, or with `any`) the untried one whose dead mark is the oldest; -1 none. */
static int pick(struct radc *c, uint32_t tried, bool any, uint64_t now)
{
	int best = -1;
	for (unsigned i = 0; i < c->nsrv; i++) {
		if (tried >> i & 1) continue;
		if (!radc_server_dead(c, i, now)) return (int)i;
		if (any && (best < 0 || c->srv[i].dead_until < c->srv[best].dead_until)) best = (int)i;
	}
	return best;
}

static int take_id(struct radc *c, struct radc_req *r)
{
	if (c->ninflight >= RADC_INFLIGHT) return -1;
	for (unsigned k = 0; k < RADC_INFLIGHT; k++) {
		uint8_t id = (uint8_t)(c->next_id + k);
		if (!c->inflight[id]) {
			c->inflight[id] = r;
			c->ninflight++;
			r->id = id;
			c->next_id = (uint8_t)(id + 1);
			return 0;
		}
	}
	return -1;
}

static void drop_id(struct radc *c, struct radc_req *r)
{
	if (c->inflight[r->id] == r) {
		c->inflight[r->id] = NULL;
		c->ninflight--;
	}
}

/* Start with server `srv`: 0, or -1 when the packet could not be made. */
static int start_with(struct radc *c, struct radc_req *r, int srv, uint64_t now)
{
	r->srv = (uint8_t)srv;
	r->tried |= 1u << srv;
	r->sends = 0;
	if (build(c, r, now) != 0) return -1;
	transmit(c, r, now);
	return 0;
}

static void queue_push(struct radc *c, struct radc_req *r, bool front)
{
	size_t max = (size_t)(c->cfg->server.radius_conf.queue_max > 0
	                      ? c->cfg->server.radius_conf.queue_max : 1000);
	while (c->nqueue >= max && c->qhead) {
		struct radc_req *old = c->qhead;
		c->qhead = old->next;
		if (!c->qhead) c->qtail = NULL;
		c->nqueue--;
		c->st.acct_queue_dropped++;
		clog_(c, false, "accounting queue full (%zu records): the oldest record dropped", max);
		req_free(old);
	}
	r->next = NULL;
	if (front) {
		r->next = c->qhead;
		c->qhead = r;
		if (!c->qtail) c->qtail = r;
	} else {
		if (c->qtail) c->qtail->next = r;
		else c->qhead = r;
		c->qtail = r;
	}
	c->nqueue++;
	c->st.acct_queued++;
	if (c->cbs->queue_changed) c->cbs->queue_changed(c->ctx);
}

static struct radc_req *req_new(const struct radc_body *body, uint64_t now)
{
	if (body->err) return NULL;
	struct radc_req *r = calloc(1, sizeof *r);
	if (!r) return NULL;
	r->body = malloc(body->n ? body->n : 1);
	if (!r->body) {
		free(r);
		return NULL;
	}
	memcpy(r->body, body->b, body->n);
	r->body_len = (uint16_t)body->n;
	r->created = now;
	return r;
}

uint64_t radc_auth(struct radc *c, uint64_t cookie, const struct radc_body *body,
                   const uint8_t *pw, size_t pwlen, uint64_t now, bool *busy)
{
	*busy = false;
	struct radc_req *r = req_new(body, now);
	if (!r || pwlen > sizeof r->pw || take_id(c, r) != 0) {
		req_free(r);
		*busy = true;
		c->st.auth_busy++;
		return radc_deadline(c);
	}
	r->cookie = cookie;
	if (pw) {
		r->has_pw = true;
		r->pw_len = (uint8_t)pwlen;
		if (pwlen) memcpy(r->pw, pw, pwlen);
	}
	c->st.auth_requests++;
	int s = pick(c, 0, true, now);
	if (s < 0 || start_with(c, r, s, now) != 0) {
		drop_id(c, r);
		req_free(r);
		*busy = true;
		c->st.auth_busy++;
	}
	return radc_deadline(c);
}

/* Send what the queue holds while a server is alive and identifiers are free. */
static void flush(struct radc *c, uint64_t now)
{
	bool changed = false;
	for (int k = 0; k < RADC_FLUSH_BATCH && c->qhead; k++) {
		int s = pick(c, 0, false, now);
		if (s < 0) break;
		struct radc_req *r = c->qhead;
		if (take_id(c, r) != 0) break;
		c->qhead = r->next;
		if (!c->qhead) c->qtail = NULL;
		c->nqueue--;
		r->next = NULL;
		r->tried = 0;
		changed = true;
		if (start_with(c, r, s, now) != 0) {
			drop_id(c, r);
			req_free(r);
		}
	}
	if (changed && c->cbs->queue_changed) c->cbs->queue_changed(c->ctx);
}

uint64_t radc_acct(struct radc *c, const struct radc_body *body, uint32_t delay, uint64_t now)
{
	struct radc_req *r = req_new(body, now);
	if (!r) return radc_deadline(c);
	r->kind = 1;
	r->delay = delay;
	c->st.acct_requests++;
	int s = c->qhead ? -1 : pick(c, 0, false, now);
	if (s < 0 || take_id(c, r) != 0) {
		queue_push(c, r, false); /* every server is dead, or others wait already */
		flush(c, now);
		return radc_deadline(c);
	}
	if (start_with(c, r, s, now) != 0) {
		drop_id(c, r);
		req_free(r);
	}
	return radc_deadline(c);
}

/* ---- answers and time ------------------------------------------------------------------ */
static void server_alive(struct radc *c, unsigned i)
{
	if (c->srv[i].dead_until)
		clog_(c, false, "RADIUS server %s answers again", conf(c, i)->path);
	c->srv[i].dead_until = 0;
}

uint64_t radc_input(struct radc *c, unsigned server, bool acct, const uint8_t *pkt, size_t len,
                    uint64_t now)
{
	if (server >= c->nsrv || len < RADIUS_MIN_LEN) {
		c->st.bad_answers++;
		return radc_deadline(c);
	}
	struct radc_req *r = c->inflight[pkt[1]];
	const struct radius_server *s = conf(c, server);
	const uint8_t *sec = (const uint8_t *)(s->secret ? s->secret : "");
	size_t sl = strlen((const char *)sec);
	const char *why = NULL;
	bool access = pkt[0] == RADIUS_ACCESS_ACCEPT || pkt[0] == RADIUS_ACCESS_REJECT ||
	              pkt[0] == RADIUS_ACCESS_CHALLENGE;
	if (!r || r->srv != server || (r->kind != 0) != acct)
		why = "no request of this server with that identifier is waiting";
	else if (r->kind == 0 ? !access : pkt[0] != RADIUS_ACCOUNTING_RESPONSE)
		why = "the code does not answer the request";
	else if (radius_verify_auth(pkt, len, r->auth, sec, sl) != 1)
		why = "the Response Authenticator does not verify (another shared secret?)";
	else if (access && radius_verify_msg_auth(pkt, len, r->auth, sec, sl) != 1)
		why = "no valid Message-Authenticator (required in every answer to an Access-Request)";
	struct radius_msg *m = NULL;
	struct diag_err err = {0};
	if (!why) {
		m = malloc(sizeof *m);
		if (!m || radius_decode(pkt, len, m, &err) != 0) why = "malformed";
	}
	if (why) {
		c->st.bad_answers++;
		c->srv[server].dropped++;
		clog_(c, false, "answer id %u from RADIUS server %s dropped: %s", pkt[1], s->path, why);
		free(m);
		return radc_deadline(c);
	}
	c->srv[server].answers++;
	server_alive(c, server);
	drop_id(c, r);
	if (r->kind == 0) {
		c->st.auth_answered++;
		struct radc_answer a = {m, r->auth, sec, sl, server};
		c->cbs->auth_done(c->ctx, r->cookie, &a);
	} else {
		c->st.acct_answered++;
	}
	req_free(r);
	free(m);
	flush(c, now);
	return radc_deadline(c);
}

uint64_t radc_tick(struct radc *c, uint64_t now)
{
	for (unsigned i = 0; i < c->nsrv; i++)
		if (c->srv[i].dead_until && now >= c->srv[i].dead_until) {
			clog_(c, false, "RADIUS server %s: hold time over, asked again", conf(c, i)->path);
			c->srv[i].dead_until = 0;
		}
	for (unsigned id = 0; id < RADC_INFLIGHT; id++) {
		struct radc_req *r = c->inflight[id];
		if (!r || r->deadline > now) continue;
		const struct radius_server *s = conf(c, r->srv);
		if (r->sends <= (uint8_t)s->retries) {
			clog_(c, true, "%s id %u to RADIUS server %s: no answer, sent again",
			      r->kind ? "Accounting-Request" : "Access-Request", r->id, s->path);
			transmit(c, r, now);
			continue;
		}
		/* this server did not answer: hold it dead, try the next */
		c->srv[r->srv].timeouts++;
		if (!radc_server_dead(c, r->srv, now)) {
			clog_(c, false, "RADIUS server %s does not answer: skipped for %d s", s->path,
			      c->cfg->server.radius_conf.dead_time);
			c->srv[r->srv].dead_until = now + (uint64_t)c->cfg->server.radius_conf.dead_time * 1000;
		}
		int next = pick(c, r->tried, r->kind == 0, now);
		if (next >= 0) {
			c->st.failovers++;
			clog_(c, false, "%s id %u: trying RADIUS server %s",
			      r->kind ? "Accounting-Request" : "Access-Request", r->id,
			      conf(c, (unsigned)next)->path);
			if (start_with(c, r, next, now) == 0) continue;
		}
		drop_id(c, r);
		if (r->kind == 0) {
			c->st.auth_unanswered++;
			uint64_t cookie = r->cookie;
			req_free(r);
			c->cbs->auth_done(c->ctx, cookie, NULL);
		} else {
			queue_push(c, r, true);
		}
	}
	flush(c, now);
	return radc_deadline(c);
}

uint64_t radc_deadline(const struct radc *c)
{
	uint64_t d = RADC_NEVER;
	for (unsigned id = 0; id < RADC_INFLIGHT; id++)
		if (c->inflight[id] && c->inflight[id]->deadline < d) d = c->inflight[id]->deadline;
	if (c->qhead)
		for (unsigned i = 0; i < c->nsrv; i++)
			if (c->srv[i].dead_until && c->srv[i].dead_until < d) d = c->srv[i].dead_until;
	return d;
}

void radc_cancel(struct radc *c, uint64_t cookie)
{
	for (unsigned id = 0; id < RADC_INFLIGHT; id++) {
		struct radc_req *r = c->inflight[id];
		if (r && r->kind == 0 && r->cookie == cookie) {
			drop_id(c, r);
			req_free(r);
		}
	}
}

void radc_queue_each(const struct radc *c, uint64_t now,
                     void (*fn)(void *arg, const uint8_t *body, size_t len, uint32_t delay),
                     void *arg)
{
	for (const struct radc_req *r = c->qhead; r; r = r->next) {
		uint64_t d = r->delay + (now - r->created) / 1000;
		fn(arg, r->body, r->body_len, d > UINT32_MAX ? UINT32_MAX : (uint32_t)d);
	}
}

void radc_hold_inflight(struct radc *c)
{
	for (unsigned id = 0; id < RADC_INFLIGHT; id++) {
		struct radc_req *r = c->inflight[id];
		if (!r || r->kind != 1) continue;
		drop_id(c, r);
		queue_push(c, r, true);
	}
}
