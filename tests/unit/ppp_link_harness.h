/* A mock PPP link for the PPP unit tests: a server and a client session joined by two
 * frame queues, injected time, a deterministic random source per side, a drop filter,
 * and a log of every event line. Included by test_ppp_fsm.c and test_ppp_auth.c. */
#ifndef VNET_TEST_PPP_LINK_HARNESS_H
#define VNET_TEST_PPP_LINK_HARNESS_H

#include <stdio.h>
#include <string.h>

#include "ppp.h"
#include "ppp/ppp_session.h"

#define H_QMAX 64
#define H_LOG 16384

struct h_frame {
	size_t len;
	uint8_t buf[1600];
};

struct h_link;

struct h_side {
	struct h_link *link;
	int idx; /* 0 server, 1 client */
	struct ppp_session s;
	struct ppp_session_conf conf;
	struct ppp_session_cbs cbs;
	uint64_t rng;
	const uint8_t *fixed_random; /* when set, random() returns these bytes in turn */
	size_t fixed_len, fixed_pos;
	bool finished;
	unsigned win_error;
	char why[160];
	char log[H_LOG];
	size_t log_len;
	unsigned sent;
};

struct h_link {
	struct h_side side[2];
	struct h_frame q[2][H_QMAX]; /* q[i]: frames travelling to side i */
	unsigned qn[2];
	uint64_t now;
	/* return true to drop the frame `f` sent by side `from` */
	bool (*drop)(struct h_link *l, int from, const uint8_t *f, size_t n);
	unsigned dropped;
	/* pool */
	uint32_t pool_next, pool_end;
	unsigned pool_used;
	/* record of every frame, for tests that look at the wire */
	struct h_frame wire[128];
	int wire_from[128];
	unsigned nwire;
};

static void h_send(void *ctx, const uint8_t *f, size_t n)
{
	struct h_side *sd = ctx;
	struct h_link *l = sd->link;
	sd->sent++;
	if (l->nwire < 128) {
		l->wire[l->nwire].len = n;
		memcpy(l->wire[l->nwire].buf, f, n);
		l->wire_from[l->nwire] = sd->idx;
		l->nwire++;
	}
	if (l->drop && l->drop(l, sd->idx, f, n)) {
		l->dropped++;
		return;
	}
	int to = 1 - sd->idx;
	if (l->qn[to] >= H_QMAX || n > sizeof l->q[to][0].buf) return;
	l->q[to][l->qn[to]].len = n;
	memcpy(l->q[to][l->qn[to]].buf, f, n);
	l->qn[to]++;
}

static void h_event(void *ctx, enum ppp_log kind, const char *text)
{
	struct h_side *sd = ctx;
	int w = snprintf(sd->log + sd->log_len, sizeof sd->log - sd->log_len, "%s: %s\n",
	                 tok_name(ppp_log_names, kind), text);
	if (w > 0 && (size_t)w < sizeof sd->log - sd->log_len) sd->log_len += (size_t)w;
}

static void h_random(void *ctx, uint8_t *buf, size_t n)
{
	struct h_side *sd = ctx;
	for (size_t i = 0; i < n; i++) {
		if (sd->fixed_random && sd->fixed_pos < sd->fixed_len) {
			buf[i] = sd->fixed_random[sd->fixed_pos++];
			continue;
		}
		sd->rng ^= sd->rng << 13;
		sd->rng ^= sd->rng >> 7;
		sd->rng ^= sd->rng << 17;
		buf[i] = (uint8_t)(sd->rng >> 24);
	}
}

static int h_password(void *ctx, const char *user, char *buf, size_t cap)
{
	(void)ctx;
	static const char *users[][2] = {
		{"bob", "secret"}, {"carol", "carolpw"}, {"User", "clientPass"}, {"CORP\\dave", "davepw"},
		{"labuser", "labpass"},
	};
	for (size_t i = 0; i < sizeof users / sizeof users[0]; i++)
		if (strcmp(user, users[i][0]) == 0) {
			snprintf(buf, cap, "%s", users[i][1]);
			return (int)strlen(users[i][1]);
		}
	return -1;
}

/* bob and User may dial in; carol's credentials are right but she has no dial-in
 * permission (649); anything else is 691. */
static struct ppp_admit h_admit(void *ctx, const char *user, enum ppp_auth_method m,
                                enum ppp_cred cred)
{
	(void)ctx;
	(void)m;
	struct ppp_admit v = {false, 691, NULL, false};
	if (cred != PPP_CRED_OK) return v;
	if (strcmp(user, "carol") == 0) {
		v.win_error = 649;
		v.message = "No dial-in permission";
		return v;
	}
	v.accept = true;
	v.win_error = 0;
	return v;
}

static uint32_t h_alloc(void *ctx, uint32_t requested)
{
	struct h_side *sd = ctx;
	struct h_link *l = sd->link;
	(void)requested;
	if (l->pool_next > l->pool_end) return 0;
	l->pool_used++;
	return l->pool_next++;
}

static void h_free(void *ctx, uint32_t a)
{
	struct h_side *sd = ctx;
	(void)a;
	sd->link->pool_used--;
}

static void h_finished(void *ctx, unsigned win_error, const char *why)
{
	struct h_side *sd = ctx;
	sd->finished = true;
	sd->win_error = win_error;
	snprintf(sd->why, sizeof sd->why, "%s", why ? why : "");
}

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* Defaults: server offers MS-CHAPv2 > CHAP-MD5 > PAP (all enabled), gives 10.0.0.5..,
 * DNS 10.0.0.53; client user bob/secret accepting every method. */
static void h_init(struct h_link *l)
{
	/* the link is static: what a previous h_start allocated is given back */
	for (int i = 0; i < 2; i++) ppp_session_free(&l->side[i].s);
	memset(l, 0, sizeof *l);
	l->pool_next = IP4(10, 0, 0, 5);
	l->pool_end = IP4(10, 0, 0, 9);
	for (int i = 0; i < 2; i++) {
		struct h_side *sd = &l->side[i];
		sd->link = l;
		sd->idx = i;
		sd->rng = i ? 0x9e3779b97f4a7c15ull : 0x2545f4914f6cdd1dull;
		ppp_session_conf_default(&sd->conf, i == 0);
		sd->cbs.ctx = sd;
		sd->cbs.send = h_send;
		sd->cbs.event = h_event;
		sd->cbs.random = h_random;
		sd->cbs.password = h_password;
		sd->cbs.admit = h_admit;
		sd->cbs.addr_alloc = h_alloc;
		sd->cbs.addr_free = h_free;
		sd->cbs.finished = h_finished;
	}
	struct ppp_session_conf *sc = &l->side[0].conf;
	sc->auth_methods |= PPP_AUTH_BIT(PPP_AUTH_PAP);
	sc->local_addr = IP4(10, 0, 0, 1);
	sc->dns[0] = IP4(10, 0, 0, 53);
	sc->echo_interval_ms = 0;
	struct ppp_session_conf *cc = &l->side[1].conf;
	cc->auth.name = "bob";
	cc->auth.password = "secret";
	cc->mppe_levels = MPPE_BIT_S | MPPE_BIT_L;
}

/* Create the sessions after the test adjusted the configurations. */
static void h_start(struct h_link *l)
{
	for (int i = 0; i < 2; i++) {
		ppp_session_free(&l->side[i].s);
		ppp_session_init(&l->side[i].s, &l->side[i].conf, &l->side[i].cbs);
	}
	ppp_session_start(&l->side[0].s, l->now);
	ppp_session_start(&l->side[1].s, l->now);
}

/* Deliver queued frames until none are left (bounded). */
static void h_pump(struct h_link *l)
{
	for (int round = 0; round < 1000 && (l->qn[0] || l->qn[1]); round++) {
		for (int to = 0; to < 2; to++) {
			if (!l->qn[to]) continue;
			struct h_frame f = l->q[to][0];
			memmove(&l->q[to][0], &l->q[to][1], (l->qn[to] - 1) * sizeof l->q[to][0]);
			l->qn[to]--;
			ppp_session_input(&l->side[to].s, f.buf, f.len, l->now);
		}
	}
}

/* Pump, then move time to each next deadline up to `until`, firing timers. */
static void h_run(struct h_link *l, uint64_t until)
{
	h_pump(l);
	for (int round = 0; round < 10000; round++) {
		uint64_t d = ppp_min_deadline(ppp_session_deadline(&l->side[0].s),
		                              ppp_session_deadline(&l->side[1].s));
		if (d == PPP_NEVER || d > until) break;
		if (d > l->now) l->now = d;
		ppp_session_tick(&l->side[0].s, l->now);
		ppp_session_tick(&l->side[1].s, l->now);
		h_pump(l);
	}
	if (l->now < until && until != PPP_NEVER) l->now = until;
}

/* Decode a wire frame. */
static int h_decode(const struct h_frame *f, struct ppp_msg *m)
{
	struct diag_err e;
	return ppp_decode(f->buf, f->len, m, &e);
}

#endif
