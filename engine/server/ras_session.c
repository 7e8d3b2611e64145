/* One remote-access session: lifecycle, admission, lease, encryption check, data path
 * and timeouts over a lower layer (ras_session.h). */
#include "server/ras_session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "policy/ipfilter.h"
#include "ppp/mppe.h"
#include "net.h"
#include "ppp.h"

const struct tok ras_state_names[] = {
	{RAS_LINK, "link"},
	{RAS_AUTHENTICATING, "authenticating"},
	{RAS_ADMITTING, "admitting"},
	{RAS_NETWORK, "network"},
	{RAS_UP, "up"},
	{RAS_CLOSING, "closing"},
	{RAS_DEAD, "dead"},
	{0, NULL},
};

static const char *tokn(const struct tok *t, unsigned v)
{
	const char *s = tok_name(t, v);
	return s ? s : "?";
}

static void rlog(struct ras_session *rs, enum ras_log cat, bool dbg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void rlog(struct ras_session *rs, enum ras_log cat, bool dbg, const char *fmt, ...)
{
	struct ras_env *e = rs->env;
	if (e->quiet || !e->cbs->log || (dbg && !(e->debug >> cat & 1))) return;
	char msg[PPP_LOG_LINE_MAX + 512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	e->cbs->log(e->ctx, rs, cat, dbg, msg);
}

/* A line already formatted. */
static void rlog_text(struct ras_session *rs, enum ras_log cat, bool dbg, const char *text)
{
	struct ras_env *e = rs->env;
	if (e->quiet || !e->cbs->log || (dbg && !(e->debug >> cat & 1))) return;
	e->cbs->log(e->ctx, rs, cat, dbg, text);
}

static bool throttled(struct ras_session *rs)
{
	struct ras_env *e = rs->env;
	return e->cbs->throttle && !e->cbs->throttle(e->ctx);
}

/* A user name (the peer's own text) for the log: escaped (text_printable). */
#define RAS_USER_TEXT TEXT_PRINTABLE_SIZE(PPP_AUTH_USER_MAX)
static const char *user_text(const char *user, char *buf, size_t n)
{
	text_printable_str(user ? user : "", buf, n);
	return buf;
}

enum enc_level ras_mppe_level(uint32_t b)
{
	return b & MPPE_BIT_S ? ENC_STRONGEST : b & MPPE_BIT_M ? ENC_STRONG
	       : b & MPPE_BIT_L ? ENC_BASIC : ENC_NONE;
}

int ras_ppp_conf(const struct config *c, const char *name, struct ppp_session_conf *p)
{
	const struct serve_conf *sc = &c->serve;
	ppp_session_conf_default(p, true);
	p->mru = (uint16_t)sc->mru;
	p->echo_interval_ms = (uint32_t)sc->echo_interval * 1000;
	p->echo_fail_max = (uint8_t)sc->echo_failures;
	p->auth.name = name;
	p->auth.max_retries = (uint8_t)sc->auth_retries;
	p->auth.timeout_ms = (uint32_t)sc->auth_timeout * 1000;
	/* IPV6CP only when asked for: the data path carries IPv4, and a client that gets
	 * link-local IPv6 would believe in a path that is not there */
	p->ipv6 = sc->ipv6;
	/* methods: what the server enables and the PPP layer speaks, strongest first */
	uint32_t m = 0;
	int k = 0;
	if (c->server.auth_mask >> AUTH_MSCHAPV2 & 1) {
		m |= PPP_AUTH_BIT(PPP_AUTH_MSCHAPV2);
		p->auth_pref[k++] = PPP_AUTH_MSCHAPV2;
	}
	if (c->server.auth_mask >> AUTH_CHAP & 1) {
		m |= PPP_AUTH_BIT(PPP_AUTH_CHAP_MD5);
		p->auth_pref[k++] = PPP_AUTH_CHAP_MD5;
	}
	if (c->server.auth_mask >> AUTH_PAP & 1) {
		m |= PPP_AUTH_BIT(PPP_AUTH_PAP);
		p->auth_pref[k++] = PPP_AUTH_PAP;
	}
	p->auth_pref[k] = PPP_AUTH_NONE;
	p->auth_methods = m;
	/* MPPE: the levels the server enables; without "none" every link must encrypt */
	uint32_t em = c->server.enc_mask;
	p->mppe_levels = (em >> ENC_BASIC & 1 ? MPPE_BIT_L : 0) | (em >> ENC_STRONG & 1 ? MPPE_BIT_M : 0) |
	                 (em >> ENC_STRONGEST & 1 ? MPPE_BIT_S : 0);
	p->mppe_required = !(em >> ENC_NONE & 1) && p->mppe_levels;
	p->mppe_stateless = true;
	return m ? 0 : -1;
}

const struct profile *ras_session_profile(const struct ras_session *rs)
{
	return rs->policy >= 0 ? &rs->env->cfg->policies[rs->policy].profile : NULL;
}

static const char *policy_name(const struct ras_session *rs, int policy)
{
	return policy >= 0 ? rs->env->cfg->policies[policy].name : "(none)";
}

/* ---- cause ------------------------------------------------------------------------- */
void ras_session_set_cause(struct ras_session *rs, enum ras_cause cause, unsigned a, unsigned b)
{
	rs->cause = (uint8_t)cause;
	rs->cause_a = (uint16_t)a;
	rs->cause_b = (uint16_t)b;
}

/* The first cause found stays. */
static void first_cause(struct ras_session *rs, enum ras_cause cause, unsigned a, unsigned b)
{
	if (rs->cause == RAS_CAUSE_NONE) ras_session_set_cause(rs, cause, a, b);
}

const char *ras_session_cause_text(const struct ras_session *rs, char *buf, size_t n)
{
	static const char *const fixed[RAS_CAUSE_N] = {
		[RAS_CAUSE_NONE] = "", [RAS_CAUSE_PPP_TERMINATED] = "ppp-terminated",
		[RAS_CAUSE_IDLE_TIMEOUT] = "idle-timeout", [RAS_CAUSE_SESSION_TIMEOUT] = "session-timeout",
		[RAS_CAUSE_ADMIN] = "admin-disconnect", [RAS_CAUSE_ENCRYPTION] = "encryption-not-allowed",
		[RAS_CAUSE_SHUTDOWN] = "server-shutdown", [RAS_CAUSE_TUNNEL_CLOSED] = "tunnel-closed",
	};
	switch (rs->cause) {
	case RAS_CAUSE_REJECTED: snprintf(buf, n, "rejected-%u", rs->cause_a); break;
	case RAS_CAUSE_PPP_ERROR: snprintf(buf, n, "error-%u", rs->cause_a); break;
	case RAS_CAUSE_LOWER:
		if (rs->ops->cause_text) rs->ops->cause_text(rs, rs->cause_a, rs->cause_b, buf, n);
		else snprintf(buf, n, "lower-%u-%u", rs->cause_a, rs->cause_b);
		break;
	default:
		snprintf(buf, n, "%s", rs->cause < RAS_CAUSE_N && fixed[rs->cause] ? fixed[rs->cause] : "");
		break;
	}
	return buf;
}

const char *ras_session_show_state(const struct ras_session *rs)
{
	if (rs->flags & RAS_F_WAS_UP) return "up";
	if (rs->flags & RAS_F_NO_PPP) {
		switch (rs->state) {
		case RAS_NETWORK: return "admitted";
		case RAS_CLOSING: return "terminating";
		default: return "auth";
		}
	}
	switch (rs->ppp.phase) {
	case PPP_PHASE_ESTABLISH: return "lcp";
	case PPP_PHASE_AUTH: return "auth";
	case PPP_PHASE_NETWORK: return "ncp";
	case PPP_PHASE_TERMINATE: return "terminating";
	default: return "starting";
	}
}

const char *ras_session_user(const struct ras_session *rs)
{
	if (!(rs->flags & RAS_F_NO_PPP)) return rs->ppp.user;
	return rs->flags & RAS_F_USER_OK && rs->ip_user ? rs->ip_user : "";
}

const char *ras_session_peer_user(const struct ras_session *rs)
{
	if (!(rs->flags & RAS_F_NO_PPP)) return rs->ppp.auth.user;
	return rs->ip_user ? rs->ip_user : "";
}

const char *ras_session_method_name(const struct ras_session *rs)
{
	if (rs->flags & RAS_F_MACHINE_CERT) return "machine-certificate";
	if (rs->flags & RAS_F_NO_PPP) return "EAP-MSCHAPv2";
	return tokn(ppp_auth_method_names, rs->method);
}

/* ---- lease ------------------------------------------------------------------------- */
static void lease_release(struct ras_session *rs)
{
	if (rs->addr && (rs->flags & RAS_F_POOL_ADDR)) addr_pool_release(rs->env->pool, rs->addr);
	rs->addr = 0;
	rs->flags &= (uint8_t)~RAS_F_POOL_ADDR;
}

/* ---- the end ----------------------------------------------------------------------- */
/* Accounting, counters, the lease; DEAD. The owner frees the memory after the call. */
static void session_end(struct ras_session *rs)
{
	struct ras_env *e = rs->env;
	if (rs->state == RAS_DEAD) return;
	rs->state = RAS_CLOSING;
	rs->flags |= RAS_F_LOWER_GONE;
	char cause[64];
	ras_session_cause_text(rs, cause, sizeof cause);
	if (rs->flags & RAS_F_WAS_UP) {
		e->st.sessions_closed++;
		char ut[RAS_USER_TEXT];
		rlog(rs, RAS_LOG_MAIN, false,
		     "session %u down cause=%s user=%s rx_bytes=%llu tx_bytes=%llu rx_packets=%llu "
		     "tx_packets=%llu duration=%llus",
		     rs->id, cause, user_text(ras_session_user(rs), ut, sizeof ut),
		     (unsigned long long)rs->rx_bytes,
		     (unsigned long long)rs->tx_bytes, (unsigned long long)rs->rx_pkts,
		     (unsigned long long)rs->tx_pkts, (unsigned long long)((e->now - rs->up_ms) / 1000));
		if (e->cbs->event) e->cbs->event(e->ctx, rs, RAS_EV_DOWN);
	} else {
		rlog(rs, RAS_LOG_MAIN, false, "session %u ended before it came up: %s", rs->id, cause);
	}
	lease_release(rs);
	rs->state = RAS_DEAD;
	if (e->cbs->event) e->cbs->event(e->ctx, rs, RAS_EV_DEAD);
}

/* ---- PPP callbacks ------------------------------------------------------------------ */
static void ppp_send_cb(void *ctx, const uint8_t *frame, size_t len)
{
	struct ras_session *rs = ctx;
	if (rs->state == RAS_DEAD || (rs->flags & RAS_F_LOWER_GONE)) return;
	if (rs->ops->send(rs, frame, len) == 0) {
		rs->tx_bytes += len;
		rs->tx_pkts++;
	}
}

static const enum ras_log ppp_cat[] = {
	[PPP_LOG_TRACE] = RAS_LOG_PPP, [PPP_LOG_INFO] = RAS_LOG_PPP, [PPP_LOG_LCP_UP] = RAS_LOG_PPP,
	[PPP_LOG_AUTH_OK] = RAS_LOG_AUTH, [PPP_LOG_AUTH_FAIL] = RAS_LOG_AUTH,
	[PPP_LOG_NCP_UP] = RAS_LOG_IPCP, [PPP_LOG_NCP_FAIL] = RAS_LOG_IPCP,
	[PPP_LOG_LINK_DOWN] = RAS_LOG_PPP,
};

static bool ppp_log_debug(enum ppp_log kind)
{
	return kind == PPP_LOG_TRACE || kind == PPP_LOG_INFO || kind == PPP_LOG_LCP_UP;
}

static enum ras_log ppp_log_cat(enum ppp_log kind)
{
	return (size_t)kind < sizeof ppp_cat / sizeof ppp_cat[0] ? ppp_cat[kind] : RAS_LOG_PPP;
}

static void ppp_event_cb(void *ctx, enum ppp_log kind, const char *text)
{
	struct ras_session *rs = ctx;
	rlog_text(rs, ppp_log_cat(kind), ppp_log_debug(kind), text);
	if (kind == PPP_LOG_AUTH_FAIL) rs->env->st.auth_failures++;
}

/* The lines rlog_text would drop are not even formatted. An authentication failure is
 * always "wanted": ppp_event_cb counts it. */
static bool ppp_log_wanted_cb(void *ctx, enum ppp_log kind)
{
	const struct ras_session *rs = ctx;
	const struct ras_env *e = rs->env;
	if (kind == PPP_LOG_AUTH_FAIL) return true;
	return !e->quiet && e->cbs->log &&
	       (!ppp_log_debug(kind) || (e->debug >> ppp_log_cat(kind) & 1));
}

static void random_cb(void *ctx, uint8_t *buf, size_t n)
{
	struct ras_session *rs = ctx;
	rs->env->cbs->random(rs->env->ctx, buf, n);
}

static int password_cb(void *ctx, const char *user, char *buf, size_t cap)
{
	struct ras_session *rs = ctx;
	struct ras_env *e = rs->env;
	return e->cbs->password ? e->cbs->password(e->ctx, rs, user, buf, cap) : -2;
}

static int change_password_cb(void *ctx, const char *user, const char *new_password)
{
	struct ras_session *rs = ctx;
	struct ras_env *e = rs->env;
	return e->cbs->change_password(e->ctx, rs, user, new_password);
}

static uint32_t addr_alloc_cb(void *ctx, uint32_t requested)
{
	struct ras_session *rs = ctx;
	(void)requested;
	return rs->addr;
}

static void addr_free_cb(void *ctx, uint32_t addr)
{
	(void)ctx;
	(void)addr; /* the lease lasts as long as the session */
}

/* MPPE states when CCP opens with MPPE, sized for the modes: a stateless direction
 * keeps no RC4 tables (mppe_state_size). One block holds both; a later CCP that needs
 * other sizes gets a new block. */
static bool mppe_lend_cb(void *ctx, bool tx_stateless, bool rx_stateless)
{
	struct ras_session *rs = ctx;
	uint8_t mode = (uint8_t)(RAS_MPPE_LENT | (tx_stateless ? 0 : 1) | (rx_stateless ? 0 : 2));
	if (rs->mppe && rs->mppe_mode == mode) return true;
	const size_t align = _Alignof(struct mppe_state);
	size_t a = (mppe_state_size(tx_stateless) + align - 1) / align * align;
	size_t b = mppe_state_size(rx_stateless);
	struct mppe_state *old = rs->mppe;
	if (old) {
		mppe_clear(&old[0]);
		mppe_clear((struct mppe_state *)((uint8_t *)old + rs->mppe_off));
	}
	free(old);
	rs->mppe = NULL;
	rs->mppe_mode = 0;
	uint8_t *blk = calloc(1, a + b);
	if (!blk) {
		ppp_ccp_set_mppe(&rs->ppp, NULL, NULL);
		return false;
	}
	rs->mppe = (struct mppe_state *)(void *)blk;
	rs->mppe_off = (uint16_t)a;
	rs->mppe_mode = mode;
	ppp_ccp_set_mppe(&rs->ppp, (struct mppe_state *)(void *)blk,
	                 (struct mppe_state *)(void *)(blk + a));
	return true;
}

static int mppe_keys_cb(void *ctx, uint8_t send[16], uint8_t recv[16])
{
	struct ras_session *rs = ctx;
	if (!rs->keys) return -1;
	memcpy(send, rs->keys, 16);
	memcpy(recv, rs->keys + 16, 16);
	return 0;
}

/* The link is finished: tell the lower layer (unless it is gone already), then end. */
static void finished_cb(void *ctx, unsigned win_error, const char *why)
{
	struct ras_session *rs = ctx;
	if (rs->state == RAS_DEAD) return;
	if (win_error && !rs->win_error) rs->win_error = (uint16_t)win_error;
	if (win_error) first_cause(rs, RAS_CAUSE_PPP_ERROR, win_error, 0);
	else first_cause(rs, RAS_CAUSE_PPP_TERMINATED, 0, 0);
	if (win_error)
		rlog(rs, RAS_LOG_PPP, false, "link finished: %s (Windows error %u)", why ? why : "",
		     win_error);
	else
		rlog(rs, RAS_LOG_PPP, false, "link finished: %s", why ? why : "");
	rs->state = RAS_CLOSING;
	if (!(rs->flags & RAS_F_LOWER_GONE)) {
		rs->flags |= RAS_F_LOWER_GONE;
		/* the lower layer may report its call down from inside: that ends the session */
		rs->ops->close(rs, rs->win_error, rs->env->now);
	}
	session_end(rs);
}

/* ---- admission ---------------------------------------------------------------------- */
void ras_session_admit_local(struct ras_session *rs, const struct ras_auth_req *q,
                             struct ras_verdict *v)
{
	struct ras_env *e = rs->env;
	const struct config *cfg = e->cfg;
	struct attempt a;
	struct admit_out o;
	int rc = admit_decide(cfg, &q->admit, &a, e->pres, &o);
	admit_summary(cfg, &a, e->pres, e->detail, sizeof e->detail);
	/* the trace: every step with -d policy; the failed ones of a rejection always */
	for (size_t i = 0; i < e->pres->nsteps; i++) {
		const struct policy_step *step = &e->pres->steps[i];
		bool show = (e->debug >> RAS_LOG_POLICY & 1) || (rc != 0 && step->verdict == V_FAIL);
		if (!show) continue;
		struct step_text st;
		policy_step_text(cfg, &a, step, &st);
		/* what the attempt had may be the client's own text (its user name) */
		char got[TEXT_PRINTABLE_SIZE(sizeof st.actual)];
		text_printable_str(st.actual[0] ? st.actual : "-", got, sizeof got);
		rlog(rs, RAS_LOG_POLICY, false, "trace: %s%s%s%s %s: %s (expected %s, got %s)%s%s",
		     step->policy >= 0 ? "policy \"" : "",
		     step->policy >= 0 ? cfg->policies[step->policy].name : "",
		     step->policy >= 0 ? "\" " : "", st.check,
		     policy_verdict_name((enum verdict)step->verdict), st.note,
		     st.expected[0] ? st.expected : "-", got,
		     st.where[0] ? " at " : "", st.where);
	}
	memset(v, 0, sizeof *v);
	v->accept = rc == 0;
	v->win_error = rc == 0 ? 0 : o.error;
	v->reason = policy_reasons[o.reason].code;
	v->message = rc == 0 ? NULL : policy_reasons[o.reason].text;
	v->detail = e->detail;
	v->policy = o.policy;
	v->address_from_pool = o.address_from_pool;
	v->address = o.address;
	v->idle_timeout = o.idle_timeout;
	v->session_timeout = o.session_timeout;
	v->enc_allowed = o.enc_allowed;
	attempt_free(&a);
}

/* Act on a verdict: the lease, the granted settings, the log; what PPP tells the peer. */
static struct ppp_admit verdict_apply(struct ras_session *rs, const struct ras_verdict *v)
{
	struct ras_env *e = rs->env;
	struct ppp_admit out = {false, PPP_WINERR_AUTH_FAILURE, NULL, false};
	char user[RAS_USER_TEXT];
	user_text(ras_session_peer_user(rs), user, sizeof user);
	const char *pname = policy_name(rs, v->policy);
	enum ppp_auth_method method = (enum ppp_auth_method)rs->method;
	const char *mname = ras_session_method_name(rs);
	if (v->accept) {
		uint32_t addr = v->address;
		if (v->address_from_pool) addr = addr_pool_take(e->pool, 0);
		else if (addr && addr_pool_contains(e->pool, addr) && !addr_pool_take(e->pool, addr))
			addr = 0; /* a static or requested address another session holds */
		if (!addr && (v->address_from_pool || v->address)) {
			rlog(rs, RAS_LOG_POLICY, false,
			     "session %u rejected user=%s error=720 reason=address-unavailable "
			     "policy=\"%s\": the granted address is in use", rs->id, user, pname);
			e->st.sessions_rejected++;
			out.win_error = 720;
			out.message = "no address is available for the connection";
			rs->state = RAS_AUTHENTICATING;
			return out;
		}
		rs->addr = addr;
		if (v->address_from_pool || (addr && addr_pool_contains(e->pool, addr)))
			rs->flags |= RAS_F_POOL_ADDR;
		rs->policy = (int16_t)v->policy;
		rs->idle_timeout = v->idle_timeout;
		rs->session_timeout = v->session_timeout;
		rs->enc_allowed = (uint8_t)v->enc_allowed;
		if (v->mppe_send_key && v->mppe_recv_key) {
			if (!rs->keys) rs->keys = malloc(32);
			if (rs->keys) {
				memcpy(rs->keys, v->mppe_send_key, 16);
				memcpy(rs->keys + 16, v->mppe_recv_key, 16);
			}
		}
		rs->state = RAS_NETWORK;
		char ab[20];
		rlog(rs, RAS_LOG_POLICY, false,
		     "session %u admitted user=%s method=%s policy=\"%s\" addr=%s idle=%dmin "
		     "session=%dmin", rs->id, user, mname, pname,
		     ipv4_str(addr, ab, sizeof ab), v->idle_timeout, v->session_timeout);
		out.accept = true;
		out.win_error = 0;
		out.message = v->message;
		return out;
	}
	e->st.sessions_rejected++;
	out.win_error = (unsigned)v->win_error;
	out.message = v->message;
	if (method != PPP_AUTH_MSCHAPV2 && !(rs->flags & RAS_F_NO_PPP)) {
		/* PAP and CHAP-MD5 have only the text: it carries the error number too (ppp_auth
		 * copies it at once, so one buffer serves every session) */
		snprintf(e->reply_text, sizeof e->reply_text, "E=%d %s", v->win_error,
		         v->message ? v->message : "");
		out.message = e->reply_text;
	}
	rs->win_error = (uint16_t)v->win_error;
	ras_session_set_cause(rs, RAS_CAUSE_REJECTED, (unsigned)v->win_error, 0);
	rlog(rs, RAS_LOG_POLICY, false,
	     "session %u rejected user=%s method=%s error=%d reason=%s policy=\"%s\": %s", rs->id,
	     user, mname, v->win_error, v->reason ? v->reason : "-",
	     pname, v->detail ? v->detail : "");
	/* PPP decides what follows: a retry (MS-CHAPv2 691) or the end of the link */
	rs->state = RAS_AUTHENTICATING;
	return out;
}

/* Ask for the admission of `user` (the local policy engine or the environment's
 * authorize): RAS_ADMIT_NOW with *v filled, or RAS_ADMIT_PENDING. `auth` is the exchange
 * an authentication server is given; `method` and `eap` how the policy engine sees it. */
static enum ras_admit_rc admit_ask(struct ras_session *rs, const char *user,
                                   enum ppp_auth_method method, enum ppp_cred cred,
                                   const struct ppp_auth *auth, enum auth_method am,
                                   enum eap_type eap, enum enc_level enc, bool any_enc,
                                   struct ras_verdict *v)
{
	struct ras_env *e = rs->env;
	rs->method = (uint8_t)method;
	/* admitted again (LCP renegotiated, a changed password): the last grant ends here */
	lease_release(rs);
	rs->policy = -1;
	rs->state = RAS_ADMITTING;
	rs->admit_seq++;
	char client[64] = "";
	if (rs->ops->peer_ip) rs->ops->peer_ip(rs, client, sizeof client);
	int ports = e->cbs->ports_in_use ? e->cbs->ports_in_use(e->ctx, rs->ops->tunnel) : 0;
	struct ras_auth_req q = {
		.user = user,
		.method = method,
		.cred = cred,
		.auth = auth,
		.admit = {
			.user = user,
			.method = am,
			.eap_type = eap,
			.cred = cred == PPP_CRED_OK ? ADMIT_CRED_OK
			        : cred == PPP_CRED_NO_USER ? ADMIT_CRED_UNKNOWN_USER
			        : cred == PPP_CRED_BAD ? ADMIT_CRED_BAD : ADMIT_CRED_ERROR,
			.tunnel = rs->ops->tunnel,
			.encryption = enc,
			.any_encryption = any_enc,
			.client_ip = client,
			.server_ip = e->server_ip,
			.now = e->cbs->wall ? e->cbs->wall(e->ctx) : 0,
			.ports_in_use = ports > 0 ? ports - 1 : 0,
			.addresses_in_use = (int)addr_pool_clients(e->pool),
		},
	};
	memset(v, 0, sizeof *v);
	if (e->cbs->authorize) return e->cbs->authorize(e->ctx, rs, &q, v);
	ras_session_admit_local(rs, &q, v);
	return RAS_ADMIT_NOW;
}

static enum ppp_admit_rc admit_cb(void *ctx, const char *user, enum ppp_auth_method method,
                                  enum ppp_cred cred, struct ppp_admit *pv)
{
	struct ras_session *rs = ctx;
	struct ras_env *e = rs->env;
	enum auth_method am = method == PPP_AUTH_PAP ? AUTH_PAP : method == PPP_AUTH_CHAP_MD5 ? AUTH_CHAP
	                      : method == PPP_AUTH_MSCHAPV2 ? AUTH_MSCHAPV2 : AUTH_NONE;
	struct ras_verdict v;
	if (admit_ask(rs, user, method, cred, &rs->ppp.auth, am, EAP_MSCHAPV2,
	              ras_mppe_level(e->ppp->mppe_levels), true, &v) == RAS_ADMIT_PENDING)
		return PPP_ADMIT_PENDING;
	*pv = verdict_apply(rs, &v);
	return PPP_ADMIT_NOW;
}

/* ---- the encryption check --------------------------------------------------------------- */
/* Once CCP has settled, hold the link's encryption against the granted profile: the
 * level was unknown when the policy admitted the user. */
static void enc_check(struct ras_session *rs)
{
	struct ras_env *e = rs->env;
	uint8_t st = rs->ppp.ccp.fsm.state;
	bool negotiating = e->ppp->mppe_levels && !rs->ppp.ccp_up &&
	                   (st == PPP_ST_REQ_SENT || st == PPP_ST_ACK_RCVD || st == PPP_ST_ACK_SENT ||
	                    st == PPP_ST_STARTING || st == PPP_ST_INITIAL);
	if (negotiating) return;
	enum enc_level lv = rs->ppp.ccp_up ? ras_mppe_level(rs->ppp.ccp.peer_bits) : ENC_NONE;
	if (rs->ppp.ccp_up && !rs->ppp.ccp.mppe_on) lv = ENC_NONE; /* agreed but no keys */
	rs->flags |= RAS_F_ENC_CHECKED;
	rs->enc_level = (uint8_t)lv;
	if (rs->enc_allowed >> lv & 1) {
		rlog(rs, RAS_LOG_MAIN, false, "session %u encryption %s%s", rs->id,
		     lv == ENC_NONE ? "none" : lv == ENC_STRONGEST ? "MPPE 128-bit"
		     : lv == ENC_STRONG ? "MPPE 56-bit" : "MPPE 40-bit",
		     lv != ENC_NONE && rs->ppp.ccp.peer_bits & MPPE_BIT_H ? " stateless" : "");
		return;
	}
	int err = policy_encryption_error(rs->enc_allowed, lv);
	char allowed[80];
	mask_str(enc_level_names, rs->enc_allowed, allowed, sizeof allowed);
	rlog(rs, RAS_LOG_POLICY, false,
	     "session %u: the link negotiated encryption %s, policy \"%s\" allows %s: "
	     "disconnecting, the client shows error %d", rs->id, enc_level_names[lv],
	     rs->policy >= 0 ? e->cfg->policies[rs->policy].name : "-", allowed, err);
	rs->win_error = (uint16_t)err;
	ras_session_disconnect(rs, RAS_CAUSE_ENCRYPTION, e->now);
}

/* ---- state ------------------------------------------------------------------------------ */
/* Follow the PPP phases where they move the session without a decision of its own. */
static void follow_ppp(struct ras_session *rs)
{
	if (rs->state >= RAS_CLOSING) return;
	uint8_t lcp = rs->ppp.lcp.fsm.state;
	if (lcp == PPP_ST_CLOSING || lcp == PPP_ST_STOPPING) {
		rs->state = RAS_CLOSING; /* LCP terminates: the link is ending */
		return;
	}
	switch (rs->state) {
	case RAS_LINK:
		if (rs->ppp.phase == PPP_PHASE_AUTH) rs->state = RAS_AUTHENTICATING;
		break;
	case RAS_ADMITTING:
		/* the phase ended without the verdict (LCP renegotiated): a new one is asked */
		if (!ppp_session_admit_pending(&rs->ppp)) rs->state = RAS_AUTHENTICATING;
		break;
	case RAS_NETWORK:
	case RAS_UP:
		/* LCP was renegotiated: authentication and admission again */
		if (rs->ppp.phase == PPP_PHASE_AUTH) rs->state = RAS_AUTHENTICATING;
		break;
	default:
		break;
	}
}

/* NETWORK -> UP; the first time accounting starts. */
static void came_up(struct ras_session *rs)
{
	struct ras_env *e = rs->env;
	rs->state = RAS_UP;
	if (rs->flags & RAS_F_WAS_UP) return;
	rs->flags |= RAS_F_WAS_UP;
	rs->up_ms = rs->last_rx_ms = e->now;
	rs->start_wall = e->cbs->wall ? e->cbs->wall(e->ctx) : 0;
	e->st.sessions_up++;
	char ab[20], ut[RAS_USER_TEXT];
	rlog(rs, RAS_LOG_MAIN, false, "session %u up user=%s addr=%s method=%s", rs->id,
	     user_text(ras_session_user(rs), ut, sizeof ut), ipv4_str(rs->addr, ab, sizeof ab),
	     ras_session_method_name(rs));
	if (e->cbs->event) e->cbs->event(e->ctx, rs, RAS_EV_UP);
}

/* After every input, tick and verdict. */
static void after(struct ras_session *rs)
{
	if (rs->state == RAS_DEAD || (rs->flags & RAS_F_NO_PPP)) return;
	follow_ppp(rs);
	if (rs->state == RAS_NETWORK && rs->ppp.ipcp_up) came_up(rs);
	if ((rs->flags & RAS_F_WAS_UP) && !(rs->flags & RAS_F_ENC_CHECKED) &&
	    rs->state < RAS_CLOSING)
		enc_check(rs);
}

uint64_t ras_session_deadline(const struct ras_session *rs)
{
	if (rs->state == RAS_DEAD) return RAS_NEVER;
	uint64_t d = rs->flags & RAS_F_NO_PPP ? RAS_NEVER : ppp_session_deadline(&rs->ppp);
	if ((rs->flags & RAS_F_WAS_UP) && rs->state < RAS_CLOSING) {
		if (rs->idle_timeout) {
			uint64_t idle = rs->last_rx_ms + (uint64_t)rs->idle_timeout * 60000;
			if (idle < d) d = idle;
		}
		if (rs->session_timeout) {
			uint64_t end = rs->up_ms + (uint64_t)rs->session_timeout * 60000;
			if (end < d) d = end;
		}
	}
	return d;
}

/* ---- entry points ----------------------------------------------------------------------- */
int ras_session_init(struct ras_session *rs, struct ras_env *env,
                     const struct ras_lower_ops *ops, uint32_t id, uint64_t now)
{
	memset(rs, 0, sizeof *rs);
	rs->env = env;
	rs->ops = ops;
	rs->id = id;
	rs->policy = -1;
	rs->state = RAS_LINK;
	rs->start_ms = now;
	if (ops->ip) rs->flags |= RAS_F_NO_PPP;
	rs->cbs = (struct ppp_session_cbs){
		.ctx = rs, .send = ppp_send_cb, .event = ppp_event_cb, .log_wanted = ppp_log_wanted_cb,
		.random = random_cb,
		.password = password_cb, .admit_async = admit_cb, .addr_alloc = addr_alloc_cb,
		.addr_free = addr_free_cb, .finished = finished_cb,
		.change_password = env->cbs->change_password ? change_password_cb : NULL,
		.mppe_keys = mppe_keys_cb, .mppe_lend = env->ppp->mppe_levels ? mppe_lend_cb : NULL,
	};
	ppp_session_init(&rs->ppp, env->ppp, &rs->cbs);
	return 0;
}

void ras_session_free(struct ras_session *rs)
{
	ppp_session_free(&rs->ppp);
	if (rs->mppe) {
		mppe_clear(&rs->mppe[0]);
		mppe_clear((struct mppe_state *)((uint8_t *)rs->mppe + rs->mppe_off));
		free(rs->mppe);
		rs->mppe = NULL;
	}
	if (rs->keys) {
		OPENSSL_cleanse(rs->keys, 32);
		free(rs->keys);
		rs->keys = NULL;
	}
	free(rs->ip_user);
	rs->ip_user = NULL;
}

uint64_t ras_session_start(struct ras_session *rs, uint64_t now)
{
	rs->env->now = now;
	if (rs->state != RAS_LINK || (rs->flags & RAS_F_NO_PPP)) return ras_session_deadline(rs);
	ppp_session_start(&rs->ppp, now);
	after(rs);
	return ras_session_deadline(rs);
}

uint64_t ras_session_disconnect(struct ras_session *rs, enum ras_cause cause, uint64_t now)
{
	rs->env->now = now;
	if (rs->state == RAS_DEAD) return RAS_NEVER;
	ras_session_set_cause(rs, cause, 0, 0);
	char text[64];
	ras_session_cause_text(rs, text, sizeof text);
	rlog(rs, RAS_LOG_MAIN, false, "session %u: disconnecting (%s)", rs->id, text);
	rs->state = RAS_CLOSING;
	if (rs->flags & RAS_F_NO_PPP) {
		/* no link to terminate: the lower layer ends its tunnel (it may report it down
		 * from inside, which ends the session) */
		if (!(rs->flags & RAS_F_LOWER_GONE)) {
			rs->flags |= RAS_F_LOWER_GONE;
			rs->ops->close(rs, rs->win_error, now);
		}
		session_end(rs);
		return RAS_NEVER;
	}
	ppp_session_close(&rs->ppp, text, 0, now);
	after(rs);
	return ras_session_deadline(rs);
}

void ras_session_lower_down(struct ras_session *rs, enum ras_cause cause, unsigned a,
                            unsigned b, uint64_t now)
{
	rs->env->now = now;
	if (rs->state == RAS_DEAD) return;
	/* the lower layer ended the call: that is the cause, not the PPP link going down
	 * with it */
	first_cause(rs, cause, a, b);
	rs->flags |= RAS_F_LOWER_GONE;
	rs->state = RAS_CLOSING;
	if (!(rs->flags & RAS_F_NO_PPP)) ppp_session_lower_down(&rs->ppp, now);
	session_end(rs);
}

void ras_session_abort(struct ras_session *rs, enum ras_cause cause, uint64_t now)
{
	rs->env->now = now;
	if (rs->state == RAS_DEAD) return;
	first_cause(rs, cause, 0, 0);
	session_end(rs);
}

uint64_t ras_session_tick(struct ras_session *rs, uint64_t now)
{
	rs->env->now = now;
	switch (rs->state) {
	case RAS_DEAD:
		return RAS_NEVER;
	case RAS_UP:
	case RAS_NETWORK:
	case RAS_LINK:
	case RAS_AUTHENTICATING:
	case RAS_ADMITTING:
		if ((rs->flags & RAS_F_WAS_UP) && rs->idle_timeout &&
		    now >= rs->last_rx_ms + (uint64_t)rs->idle_timeout * 60000)
			return ras_session_disconnect(rs, RAS_CAUSE_IDLE_TIMEOUT, now);
		if ((rs->flags & RAS_F_WAS_UP) && rs->session_timeout &&
		    now >= rs->up_ms + (uint64_t)rs->session_timeout * 60000)
			return ras_session_disconnect(rs, RAS_CAUSE_SESSION_TIMEOUT, now);
		break;
	case RAS_CLOSING:
		break;
	}
	if (rs->flags & RAS_F_NO_PPP) return ras_session_deadline(rs);
	ppp_session_tick(&rs->ppp, now);
	after(rs);
	return ras_session_deadline(rs);
}

static void ip_verdict(struct ras_session *rs, const struct ras_verdict *given);

int ras_session_admit_resume(struct ras_session *rs, unsigned seq, const struct ras_verdict *v,
                             uint64_t now, uint64_t *deadline)
{
	rs->env->now = now;
	bool no_ppp = rs->flags & RAS_F_NO_PPP;
	if (rs->state != RAS_ADMITTING || (!no_ppp && !ppp_session_admit_pending(&rs->ppp)) ||
	    seq != rs->admit_seq) {
		rlog(rs, RAS_LOG_AUTH, true, "session %u: a verdict came in state %s, ignored", rs->id,
		     tokn(ras_state_names, rs->state));
		return -1;
	}
	if (no_ppp) {
		ip_verdict(rs, v);
		if (deadline) *deadline = ras_session_deadline(rs);
		return 0;
	}
	struct ppp_admit pv = verdict_apply(rs, v);
	pv.checked = pv.accept && v->server_checked;
	const char *success = pv.accept ? v->mschap2_success : NULL;
	uint64_t d;
	if (ppp_session_admit_resume(&rs->ppp, &pv, success, now, &d) != 0) return -1;
	after(rs);
	if (deadline) *deadline = ras_session_deadline(rs);
	return 0;
}

/* ---- data path ------------------------------------------------------------------------ */
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The buffers of the data path are sized from the largest MRU the configuration accepts
 * (SERVE_MRU_MAX, which is also the TUN's largest MTU): a frame to a client is the packet
 * and 4 bytes of PPP header (address, control, protocol), with MPPE 4 more (its header and
 * the encrypted protocol field). */
#define RAS_FRAME_MAX (SERVE_MRU_MAX + 8)

/* A frame or packet too big for those buffers: counted and logged, never dropped in
 * silence. */
static void drop_oversized(struct ras_session *rs, const char *what, size_t len, size_t max)
{
	rs->env->st.oversized++;
	if (throttled(rs)) return;
	rlog(rs, RAS_LOG_DATA, false, "%s of %zu bytes dropped: the server takes at most %zu "
	     "(serve.ppp.mru is at most %d)", what, len, max, SERVE_MRU_MAX);
}

static void filter_drop(struct ras_session *rs, const uint8_t *ip, bool inbound)
{
	struct ras_env *e = rs->env;
	e->st.filtered++;
	if (throttled(rs)) return;
	char a[20], b[20];
	rlog(rs, RAS_LOG_DATA, false, "%s filter of policy \"%s\" dropped a packet %s -> %s proto %u",
	     inbound ? "input" : "output", e->cfg->policies[rs->policy].name,
	     ipv4_str(be32(ip + 12), a, sizeof a), ipv4_str(be32(ip + 16), b, sizeof b), ip[9]);
}

void ras_session_send_ip(struct ras_session *rs, const uint8_t *ip, size_t len)
{
	struct ras_env *e = rs->env;
	uint8_t frame[RAS_FRAME_MAX];
	if (rs->state == RAS_DEAD || (rs->flags & RAS_F_LOWER_GONE)) return;
	if (len > SERVE_MRU_MAX) {
		drop_oversized(rs, "packet to the client", len, SERVE_MRU_MAX);
		return;
	}
	const struct profile *pr = ras_session_profile(rs);
	if (pr && !ipfilter_pass(&pr->fout, ip, len, false)) {
		filter_drop(rs, ip, false);
		return;
	}
	if (rs->flags & RAS_F_NO_PPP) {
		/* the lower layer encrypts (ESP): the packet as it is, once the tunnel is up */
		if (!(rs->flags & RAS_F_WAS_UP) || rs->state != RAS_UP) {
			e->st.data_dropped++;
			return;
		}
		if (rs->ops->send(rs, ip, len) == 0) {
			rs->tx_bytes += len;
			rs->tx_pkts++;
		}
		return;
	}
	frame[0] = 0xff;
	frame[1] = 0x03;
	size_t flen;
	if (rs->ppp.ccp.mppe_on) {
		/* MPPE: the protocol field and the packet, encrypted, in a compressed datagram */
		uint8_t inner[SERVE_MRU_MAX + 2];
		inner[0] = 0x00;
		inner[1] = 0x21;
		memcpy(inner + 2, ip, len);
		frame[2] = 0x00;
		frame[3] = 0xfd;
		int n = mppe_encrypt(rs->ppp.ccp.tx, inner, len + 2, frame + 4, sizeof frame - 4);
		if (n < 0) {
			e->st.mppe_errors++;
			return;
		}
		flen = 4 + (size_t)n;
	} else {
		if (!(rs->flags & RAS_F_ENC_CHECKED) && !(rs->enc_allowed >> ENC_NONE & 1)) {
			e->st.clear_dropped++; /* encryption required and not up yet */
			return;
		}
		frame[2] = 0x00;
		frame[3] = 0x21;
		memcpy(frame + 4, ip, len);
		flen = len + 4;
	}
	if (rs->ops->send(rs, frame, flen) == 0) {
		rs->tx_bytes += len;
		rs->tx_pkts++;
	}
}

/* An IPv4 packet from the client. */
static void data_ip(struct ras_session *rs, const uint8_t *ip, size_t len)
{
	struct ras_env *e = rs->env;
	rs->rx_bytes += len;
	rs->rx_pkts++;
	rs->last_rx_ms = e->now;
	if (len < 20 || ip[0] >> 4 != 4) {
		e->st.data_dropped++;
		return;
	}
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	size_t tot = (size_t)ip[2] << 8 | ip[3];
	if (ihl < 20 || tot < ihl || tot > len) {
		e->st.data_dropped++;
		return;
	}
	uint32_t src = be32(ip + 12), dst = be32(ip + 16);
	if (src != rs->addr) {
		/* spoofed source: not the address this link was given */
		e->st.data_dropped++;
		if (!throttled(rs)) {
			char a[20], b[20];
			rlog(rs, RAS_LOG_DATA, false, "dropped a packet from %s: the link's address is %s",
			     ipv4_str(src, a, sizeof a), ipv4_str(rs->addr, b, sizeof b));
		}
		return;
	}
	const struct profile *pr = ras_session_profile(rs);
	if (pr && !ipfilter_pass(&pr->fin, ip, tot, true)) {
		filter_drop(rs, ip, true);
		return;
	}
	if (dst == e->ppp->local_addr && ip[9] == 1 && tot >= ihl + 8 && ip[ihl] == 8 &&
	    (ip[6] & 0x3f) == 0 && ip[7] == 0) {
		/* ICMP echo request to the server's own address: answer it */
		uint8_t r[SERVE_MRU_MAX];
		if (tot > sizeof r) {
			drop_oversized(rs, "ICMP echo request", tot, sizeof r);
			return;
		}
		icmp_echo_reply(r, ip, ihl, tot);
		e->st.icmp_echo++;
		rlog(rs, RAS_LOG_DATA, true, "ICMP echo request %u bytes answered", (unsigned)tot);
		ras_session_send_ip(rs, r, tot);
		return;
	}
	if (e->cbs->forward && e->cbs->forward(e->ctx, rs, ip, tot)) return;
	e->st.data_dropped++;
	if (!throttled(rs)) {
		char b[20];
		rlog(rs, RAS_LOG_DATA, true, "no route for %s (no TUN interface configured)",
		     ipv4_str(dst, b, sizeof b));
	}
}

uint64_t ras_session_input(struct ras_session *rs, const uint8_t *p, size_t len, uint64_t now)
{
	struct ras_env *e = rs->env;
	e->now = now;
	if (rs->state == RAS_DEAD) return RAS_NEVER;
	if (rs->flags & RAS_F_NO_PPP) return ras_session_deadline(rs); /* no PPP to take it */
	size_t o = 0;
	if (len >= 2 && p[0] == 0xff && p[1] == 0x03) o = 2;
	uint16_t proto = 0;
	size_t plen = 0;
	if (o < len && (p[o] & 1)) {
		proto = p[o];
		plen = 1;
	} else if (o + 1 < len) {
		proto = (uint16_t)(p[o] << 8 | p[o + 1]);
		plen = 2;
	}
	bool up = rs->flags & RAS_F_WAS_UP;
	if (proto == PPP_PROTO_COMP && rs->ppp.ccp.mppe_on && up) {
		uint8_t out[4096];
		struct diag_err err;
		int n = mppe_decrypt(rs->ppp.ccp.rx, p + o + plen, len - o - plen, out, sizeof out, &err);
		if (n < 0) {
			e->st.mppe_errors++;
			if (n == MPPE_ERR_RESET) ppp_ccp_reset_request(&rs->ppp);
			if (!throttled(rs))
				rlog(rs, RAS_LOG_DATA, n != MPPE_ERR_RESET, "MPPE packet dropped (%s): %s",
				     tokn(mppe_err_names, (unsigned)-n), err.reason);
		} else if (n >= 2 && out[0] == 0x00 && out[1] == 0x21) {
			data_ip(rs, out + 2, (size_t)n - 2);
		} else {
			e->st.data_dropped++;
		}
	} else if (proto == PPP_PROTO_IP && rs->ppp.ipcp_up && up) {
		if (rs->ppp.ccp.mppe_on ||
		    (!(rs->flags & RAS_F_ENC_CHECKED) && !(rs->enc_allowed >> ENC_NONE & 1)))
			e->st.clear_dropped++; /* clear IP on an encrypted link, or before the required
			                          encryption is up */
		else
			data_ip(rs, p + o + plen, len - o - plen);
	} else {
		rs->rx_bytes += len;
		rs->rx_pkts++;
		ppp_session_input(&rs->ppp, p, len, now);
	}
	after(rs);
	return ras_session_deadline(rs);
}

/* ---- sessions without PPP ---------------------------------------------------------------- */
/* A verdict for a session whose lower layer authenticates: applied as for PPP (lease,
 * grant, log), then handed to the lower layer; a rejection ends the session. */
static void ip_verdict(struct ras_session *rs, const struct ras_verdict *given)
{
	struct ras_env *e = rs->env;
	struct ras_verdict v = *given;
	/* an acceptance of credentials nobody proved: the lower layer's check failed and no
	 * authentication server brought its S= response and keys */
	bool proof = v.mschap2_success && v.mppe_send_key && v.mppe_recv_key;
	if (v.accept && rs->ip_cred != PPP_CRED_OK && !proof) {
		v = (struct ras_verdict){.policy = -1, .win_error = PPP_WINERR_AUTH_FAILURE,
			.reason = "credentials-not-proven",
			.detail = "the credentials check failed and the verdict brings no proof of them"};
	}
	struct ppp_admit pv = verdict_apply(rs, &v);
	if (pv.accept) rs->flags |= RAS_F_USER_OK;
	else rs->state = RAS_CLOSING;
	if (rs->ops->admitted) rs->ops->admitted(rs, &pv, &v);
	if (!pv.accept) {
		if (rs->cause == RAS_CAUSE_NONE)
			ras_session_set_cause(rs, RAS_CAUSE_REJECTED, pv.win_error, 0);
		e->st.auth_failures += rs->ip_cred != PPP_CRED_OK;
		session_end(rs);
	}
}

uint64_t ras_session_authenticated(struct ras_session *rs, const struct ras_ip_auth *a,
                                   uint64_t now)
{
	struct ras_env *e = rs->env;
	e->now = now;
	if (!(rs->flags & RAS_F_NO_PPP) || rs->state != RAS_LINK) return ras_session_deadline(rs);
	size_t ul = strnlen(a->user ? a->user : "", PPP_AUTH_USER_MAX);
	free(rs->ip_user);
	rs->ip_user = malloc(ul + 1);
	if (rs->ip_user) {
		memcpy(rs->ip_user, a->user ? a->user : "", ul);
		rs->ip_user[ul] = 0;
	}
	rs->ip_cred = (uint8_t)a->cred;
	/* the exchange as an authentication server is given it: MS-CHAPv2's fields */
	struct ppp_auth pa;
	memset(&pa, 0, sizeof pa);
	pa.method = PPP_AUTH_MSCHAPV2;
	pa.user = ras_session_peer_user(rs);
	if (a->challenge && a->peer_challenge && a->nt_response) {
		memcpy(pa.challenge, a->challenge, 16);
		memcpy(pa.peer_challenge, a->peer_challenge, 16);
		memcpy(pa.nt_response, a->nt_response, 24);
		pa.given = pa.nt_response;
		pa.given_len = 24;
	}
	struct ras_verdict v;
	/* IPsec protects the tunnel: the attempt is judged at the strongest level, as an
	 * attempt file with "tunnel": "ikev2" is by default */
	if (a->machine_cert) {
		/* nothing for an authentication server to check: the certificate was */
		rs->flags |= RAS_F_MACHINE_CERT;
		memset(&pa, 0, sizeof pa);
		pa.user = ras_session_peer_user(rs);
	}
	enum ras_admit_rc rc = admit_ask(rs, ras_session_peer_user(rs), PPP_AUTH_MSCHAPV2,
	                                 a->cred, &pa, a->machine_cert ? AUTH_MACHINE_CERT : AUTH_EAP,
	                                 EAP_MSCHAPV2 /* ignored but with EAP */, ENC_STRONGEST,
	                                 false, &v);
	OPENSSL_cleanse(&pa, sizeof pa);
	if (rc == RAS_ADMIT_PENDING) return ras_session_deadline(rs);
	ip_verdict(rs, &v);
	return ras_session_deadline(rs);
}

uint64_t ras_session_ip_up(struct ras_session *rs, uint64_t now)
{
	struct ras_env *e = rs->env;
	e->now = now;
	if (!(rs->flags & RAS_F_NO_PPP) || rs->state != RAS_NETWORK) return ras_session_deadline(rs);
	came_up(rs);
	if (rs->state != RAS_UP) return ras_session_deadline(rs);
	/* ESP encrypts with AES or 3DES: the strongest level, held against the grant */
	rs->flags |= RAS_F_ENC_CHECKED;
	rs->enc_level = ENC_STRONGEST;
	if (rs->enc_allowed >> ENC_STRONGEST & 1) {
		rlog(rs, RAS_LOG_MAIN, false, "session %u encryption IPsec (ESP)", rs->id);
		return ras_session_deadline(rs);
	}
	int err = policy_encryption_error(rs->enc_allowed, ENC_STRONGEST);
	char allowed[80];
	mask_str(enc_level_names, rs->enc_allowed, allowed, sizeof allowed);
	rlog(rs, RAS_LOG_POLICY, false,
	     "session %u: the tunnel encrypts (IPsec, strongest), policy \"%s\" allows %s: "
	     "disconnecting, the client shows error %d", rs->id,
	     rs->policy >= 0 ? e->cfg->policies[rs->policy].name : "-", allowed, err);
	rs->win_error = (uint16_t)err;
	return ras_session_disconnect(rs, RAS_CAUSE_ENCRYPTION, now);
}

uint64_t ras_session_ip_input(struct ras_session *rs, const uint8_t *ip, size_t len,
                              uint64_t now)
{
	struct ras_env *e = rs->env;
	e->now = now;
	if (!(rs->flags & RAS_F_NO_PPP) || rs->state != RAS_UP) {
		if (rs->state != RAS_DEAD) e->st.data_dropped++;
		return ras_session_deadline(rs);
	}
	data_ip(rs, ip, len);
	return ras_session_deadline(rs);
}
