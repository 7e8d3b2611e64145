/* One PPP link: phases, framing through the PPP codec, dispatch to LCP/auth/IPCP/IPV6CP/CCP. */
#include "ppp/ppp_session.h"

#include <stdio.h>
#include <string.h>

/* Windows errors the link maps its failures to (raserror.h). */
#define WINERR_NO_PROTOCOLS 720         /* ERROR_PPP_NO_PROTOCOLS_CONFIGURED */
#define WINERR_PPP_NO_RESPONSE 721      /* ERROR_PPP_NO_RESPONSE */
#define WINERR_LCP_TERMINATED 734       /* ERROR_PPP_LCP_TERMINATED */
#define WINERR_NO_REMOTE_ENCRYPTION 742 /* ERROR_NO_REMOTE_ENCRYPTION */

const struct tok ppp_phase_names[] = {
	{PPP_PHASE_DEAD, "dead"},       {PPP_PHASE_ESTABLISH, "establish"},
	{PPP_PHASE_AUTH, "authenticate"}, {PPP_PHASE_NETWORK, "network"},
	{PPP_PHASE_TERMINATE, "terminate"}, {0, NULL},
};

bool ppp_session_log_wanted(const struct ppp_session *s, enum ppp_log kind)
{
	return s->cbs->event && (!s->cbs->log_wanted || s->cbs->log_wanted(s->cbs->ctx, kind));
}

bool ppp_session_fsm_tracing(struct ppp_fsm *f)
{
	return ppp_session_log_wanted(f->owner, PPP_LOG_TRACE);
}

void ppp_session_log(struct ppp_session *s, enum ppp_log kind, const char *fmt, ...)
{
	if (!ppp_session_log_wanted(s, kind)) return;
	char line[PPP_LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	s->cbs->event(s->cbs->ctx, kind, line);
}

uint32_t ppp_session_rand32(struct ppp_session *s)
{
	uint8_t b[4] = {0, 0, 0, 0};
	s->cbs->random(s->cbs->ctx, b, sizeof b);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

void ppp_session_send_msg(struct ppp_session *s, struct ppp_msg *m)
{
	/* address/control bytes may be left out only when the peer asked for ACFC, and
	 * never on LCP packets (RFC 1661 section 6.6) */
	m->has_acf = !(s->lcp.peer_acfc && ppp_fsm_opened(&s->lcp.fsm) && m->proto != PPP_PROTO_LCP);
	m->pfc = false;
	uint8_t buf[1600];
	size_t n = ppp_encode(m, buf, sizeof buf);
	if (n == 0) {
		ppp_session_log(s, PPP_LOG_INFO, "frame for protocol 0x%04x could not be encoded",
		                m->proto);
		return;
	}
	s->tx_frames++;
	s->cbs->send(s->cbs->ctx, buf, n);
}

/* ---- authentication glue ---------------------------------------------------------- */
static void auth_send(void *ctx, struct ppp_msg *m) { ppp_session_send_msg(ctx, m); }

static void auth_event(void *ctx, enum ppp_log kind, const char *text)
{
	struct ppp_session *s = ctx;
	if (ppp_session_log_wanted(s, kind)) s->cbs->event(s->cbs->ctx, kind, text);
}

static bool auth_log_wanted(void *ctx, enum ppp_log kind)
{
	return ppp_session_log_wanted(ctx, kind);
}

static void auth_random(void *ctx, uint8_t *buf, size_t n)
{
	struct ppp_session *s = ctx;
	s->cbs->random(s->cbs->ctx, buf, n);
}

static int auth_password(void *ctx, const char *user, char *buf, size_t cap)
{
	struct ppp_session *s = ctx;
	return s->cbs->password ? s->cbs->password(s->cbs->ctx, user, buf, cap) : -1;
}

static struct ppp_admit auth_admit(void *ctx, const char *user, enum ppp_auth_method m,
                                   enum ppp_cred cred)
{
	struct ppp_session *s = ctx;
	if (s->cbs->admit) return s->cbs->admit(s->cbs->ctx, user, m, cred);
	struct ppp_admit v = {cred == PPP_CRED_OK, cred == PPP_CRED_OK ? 0 : 691, NULL, false};
	return v;
}

static enum ppp_admit_rc auth_admit_async(void *ctx, const char *user, enum ppp_auth_method m,
                                          enum ppp_cred cred, struct ppp_admit *v)
{
	struct ppp_session *s = ctx;
	return s->cbs->admit_async(s->cbs->ctx, user, m, cred, v);
}

static void start_ncps(struct ppp_session *s, uint64_t now)
{
	/* Up then Open: from Initial that is Closed then Req-Sent; after a renegotiation
	 * the NCPs wait in Starting and Up alone sends their request */
	s->phase = PPP_PHASE_NETWORK;
	s->ncps_started = true;
	ppp_fsm_up(&s->ipcp.fsm, now);
	ppp_fsm_open(&s->ipcp.fsm, now);
	if (s->conf->ipv6) {
		ppp_fsm_up(&s->ipv6cp.fsm, now);
		ppp_fsm_open(&s->ipv6cp.fsm, now);
	}
	if (s->conf->mppe_levels) {
		ppp_fsm_up(&s->ccp.fsm, now);
		ppp_fsm_open(&s->ccp.fsm, now);
	}
}

static void auth_done(void *ctx, bool ok, unsigned win_error)
{
	/* only records the outcome: after_auth() acts on it with the current time */
	struct ppp_session *s = ctx;
	s->auth_done = ok;
	if (ok) {
		s->user = s->conf->is_server ? s->auth.user : s->conf->auth.name ? s->conf->auth.name : "";
		s->phase = PPP_PHASE_NETWORK; /* NCPs start in after_auth() */
	} else {
		s->win_error = win_error;
		s->phase = PPP_PHASE_TERMINATE;
	}
}

/* Act on an authentication outcome reached while handling input or a tick. */
static void after_auth(struct ppp_session *s, uint64_t now)
{
	if (s->auth.state == PPP_AUTH_SUCCESS && s->phase == PPP_PHASE_NETWORK &&
	    !s->ncps_started) {
		start_ncps(s, now);
	} else if (s->auth.state == PPP_AUTH_FAILED && s->phase == PPP_PHASE_TERMINATE &&
	           ppp_fsm_opened(&s->lcp.fsm)) {
		char why[96];
		snprintf(why, sizeof why, "authentication failed (error %u)", s->win_error);
		ppp_fsm_close(&s->lcp.fsm, now, why);
	}
}

/* ---- hooks from the protocols --------------------------------------------------- */
void ppp_session_lcp_up(struct ppp_session *s, uint64_t now)
{
	uint8_t method = s->lcp.auth;
	ppp_session_log(s, PPP_LOG_LCP_UP, "lcp opened mru=%u auth=%s", s->lcp.peer_mru,
	                tok_name(ppp_auth_method_names, method));
	if (method != PPP_AUTH_NONE) {
		s->phase = PPP_PHASE_AUTH;
		ppp_auth_start(&s->auth, (enum ppp_auth_method)method, now);
		after_auth(s, now);
	} else {
		s->auth_done = true;
		start_ncps(s, now);
	}
}

void ppp_session_lcp_down(struct ppp_session *s, uint64_t now)
{
	ppp_auth_stop(&s->auth);
	s->ncps_started = false;
	s->auth_done = false;
	ppp_fsm_down(&s->ipcp.fsm, now);
	ppp_fsm_down(&s->ipv6cp.fsm, now);
	ppp_fsm_down(&s->ccp.fsm, now);
	if (s->phase != PPP_PHASE_DEAD) s->phase = PPP_PHASE_TERMINATE;
}

static void deliver_finished(struct ppp_session *s, const char *why)
{
	if (s->finished) return;
	s->finished = true;
	ppp_session_log(s, PPP_LOG_LINK_DOWN, "link down: %s", why && *why ? why : "closed");
	if (s->cbs->finished) s->cbs->finished(s->cbs->ctx, s->win_error, why);
}

void ppp_session_lcp_finished(struct ppp_session *s, uint64_t now)
{
	(void)now;
	if (s->ipcp.allocated && s->cbs->addr_free) s->cbs->addr_free(s->cbs->ctx, s->ipcp.peer_addr);
	s->ipcp.allocated = false;
	if (!s->win_error && !s->was_up) {
		/* the link ended before it was ever usable: what the client is left with */
		if (s->lcp.fsm.timed_out && s->phase == PPP_PHASE_ESTABLISH)
			s->win_error = WINERR_PPP_NO_RESPONSE;
		else if (s->lcp.fsm.why[0])
			s->win_error = WINERR_LCP_TERMINATED;
	}
	s->phase = PPP_PHASE_DEAD;
	deliver_finished(s, s->lcp.fsm.why);
}

void ppp_session_ncp_up(struct ppp_session *s, uint64_t now)
{
	(void)now;
	(void)s;
}

void ppp_session_ncp_finished(struct ppp_session *s, struct ppp_fsm *f, uint64_t now)
{
	if (s->phase != PPP_PHASE_NETWORK) return; /* teardown in progress */
	if (f == &s->ipcp.fsm) {
		if (!s->win_error) s->win_error = WINERR_NO_PROTOCOLS;
		ppp_session_log(s, PPP_LOG_NCP_FAIL, "%s", f->why[0] ? f->why : "IPCP did not converge");
		s->phase = PPP_PHASE_TERMINATE;
		ppp_fsm_close(&s->lcp.fsm, now, f->why[0] ? f->why : "IPCP did not converge");
	} else if (f == &s->ipv6cp.fsm) {
		/* RFC 1661: NCPs are independent; the link carries IPv4 without IPv6 */
		ppp_session_log(s, PPP_LOG_NCP_FAIL, "%s",
		                f->why[0] ? f->why : "IPV6CP did not converge");
	} else if (f == &s->ccp.fsm) {
		ppp_session_log(s, PPP_LOG_NCP_FAIL, "%s", f->why[0] ? f->why : "CCP did not converge");
		if (s->conf->mppe_required) {
			if (!s->win_error) s->win_error = WINERR_NO_REMOTE_ENCRYPTION;
			s->phase = PPP_PHASE_TERMINATE;
			ppp_fsm_close(&s->lcp.fsm, now, f->why[0] ? f->why : "CCP did not converge");
		}
	}
}

/* ---- entry points --------------------------------------------------------------- */
void ppp_session_conf_default(struct ppp_session_conf *c, bool is_server)
{
	memset(c, 0, sizeof *c);
	c->is_server = is_server;
	c->fsm.restart_ms = 3000;
	c->fsm.max_configure = 10;
	c->fsm.max_terminate = 2;
	c->fsm.max_failure = 5;
	c->mru = 1400;
	c->auth_methods = PPP_AUTH_BIT(PPP_AUTH_MSCHAPV2) | PPP_AUTH_BIT(PPP_AUTH_CHAP_MD5) |
	                  (is_server ? 0 : PPP_AUTH_BIT(PPP_AUTH_PAP));
	c->auth_pref[0] = PPP_AUTH_MSCHAPV2;
	c->auth_pref[1] = PPP_AUTH_CHAP_MD5;
	c->auth_pref[2] = PPP_AUTH_PAP;
	c->auth_pref[3] = PPP_AUTH_NONE;
	c->echo_interval_ms = is_server ? 60000 : 0;
	c->echo_fail_max = 3;
	c->auth.max_retries = is_server ? 2 : 0;
	c->auth.max_transmits = 5;
	c->auth.restart_ms = 3000;
	c->auth.timeout_ms = is_server ? 30000 : 0;
	c->want_dns = !is_server;
	c->ipv6 = true;
	c->mppe_levels = MPPE_BIT_S;
	c->mppe_stateless = true;
}

void ppp_session_free(struct ppp_session *s)
{
	ppp_auth_free(&s->auth);
	s->user = "";
}

static int auth_change_password(void *ctx, const char *user, const char *new_password)
{
	struct ppp_session *s = ctx;
	return s->cbs->change_password(s->cbs->ctx, user, new_password);
}

void ppp_session_init(struct ppp_session *s, const struct ppp_session_conf *conf,
                      const struct ppp_session_cbs *cbs)
{
	memset(s, 0, sizeof *s);
	s->conf = conf;
	s->cbs = cbs;
	s->user = "";
	s->phase = PPP_PHASE_DEAD;
	ppp_fsm_init(&s->lcp.fsm, &ppp_lcp_ops, &conf->fsm, s);
	ppp_fsm_init(&s->ipcp.fsm, &ppp_ipcp_ops, &conf->fsm, s);
	ppp_fsm_init(&s->ipv6cp.fsm, &ppp_ipv6cp_ops, &conf->fsm, s);
	ppp_fsm_init(&s->ccp.fsm, &ppp_ccp_ops, &conf->fsm, s);
	s->lcp.my_mru = conf->mru ? conf->mru : 1400;
	s->lcp.peer_mru = 1500;
	s->lcp.echo_next = PPP_NEVER;
	if (conf->is_server) {
		for (int i = 0; i < PPP_AUTH_COUNT && conf->auth_pref[i] != PPP_AUTH_NONE; i++)
			if (conf->auth_methods & PPP_AUTH_BIT(conf->auth_pref[i])) {
				s->lcp.auth_try = conf->auth_pref[i];
				break;
			}
	}
	s->ipcp.my_addr = conf->client_request_addr;
	s->ccp.my_bits = (conf->mppe_levels & (MPPE_BIT_L | MPPE_BIT_M | MPPE_BIT_S)) |
	                 (conf->mppe_stateless ? MPPE_BIT_H : 0);
	s->auth_cbs.ctx = s;
	s->auth_cbs.send = auth_send;
	s->auth_cbs.event = auth_event;
	s->auth_cbs.log_wanted = auth_log_wanted;
	s->auth_cbs.random = auth_random;
	s->auth_cbs.password = auth_password;
	s->auth_cbs.admit = auth_admit;
	s->auth_cbs.admit_async = cbs->admit_async ? auth_admit_async : NULL;
	s->auth_cbs.done = auth_done;
	s->auth_cbs.change_password = cbs->change_password ? auth_change_password : NULL;
	ppp_auth_init(&s->auth, conf->is_server ? PPP_AUTH_AUTHENTICATOR : PPP_AUTH_PEER,
	              &conf->auth, &s->auth_cbs);
}

uint64_t ppp_session_deadline(const struct ppp_session *s)
{
	uint64_t d = ppp_fsm_deadline(&s->lcp.fsm);
	d = ppp_min_deadline(d, ppp_fsm_deadline(&s->ipcp.fsm));
	d = ppp_min_deadline(d, ppp_fsm_deadline(&s->ipv6cp.fsm));
	d = ppp_min_deadline(d, ppp_fsm_deadline(&s->ccp.fsm));
	d = ppp_min_deadline(d, ppp_auth_deadline(&s->auth));
	if (ppp_fsm_opened(&s->lcp.fsm)) d = ppp_min_deadline(d, s->lcp.echo_next);
	return d;
}

uint64_t ppp_session_start(struct ppp_session *s, uint64_t now)
{
	s->phase = PPP_PHASE_ESTABLISH;
	s->lcp.my_magic = 0;
	for (int i = 0; i < 8 && s->lcp.my_magic == 0; i++) s->lcp.my_magic = ppp_session_rand32(s);
	if (s->lcp.my_magic == 0) s->lcp.my_magic = 0x766e6574u;
	ppp_fsm_up(&s->lcp.fsm, now);
	ppp_fsm_open(&s->lcp.fsm, now);
	return ppp_session_deadline(s);
}

static void protocol_reject(struct ppp_session *s, const uint8_t *frame, size_t len,
                            const struct ppp_msg *m)
{
	if (!ppp_fsm_opened(&s->lcp.fsm)) return;
	struct ppp_cp cp;
	memset(&cp, 0, sizeof cp);
	struct ppp_msg out;
	memset(&out, 0, sizeof out);
	out.proto = PPP_PROTO_LCP;
	out.kind = PPP_KIND_CP;
	out.cp.code = PPP_PROTO_REJ;
	out.cp.id = ++s->lcp.fsm.id;
	out.cp.rejected_proto = m->proto;
	size_t n = len - m->hdr_len;
	if (n > 1000) n = 1000;
	out.cp.data = frame + m->hdr_len;
	out.cp.dlen = n;
	(void)cp;
	ppp_session_send_msg(s, &out);
}

uint64_t ppp_session_input(struct ppp_session *s, const uint8_t *frame, size_t len, uint64_t now)
{
	struct ppp_msg m;
	struct diag_err err;
	struct ppp_hint hint;
	memset(&hint, 0, sizeof hint);
	if (s->lcp.auth == PPP_AUTH_MSCHAPV2) hint.chap_alg = CHAP_ALG_MSCHAPV2;
	else if (s->lcp.auth == PPP_AUTH_CHAP_MD5) hint.chap_alg = CHAP_ALG_MD5;
	s->rx_frames++;
	if (s->phase == PPP_PHASE_DEAD) return ppp_session_deadline(s);
	if (ppp_decode_ex(frame, len, &hint, &m, &err) != 0) {
		s->rx_bad++;
		ppp_session_log(s, PPP_LOG_TRACE, "frame discarded: offset %zu: %s", err.off, err.reason);
		return ppp_session_deadline(s);
	}
	const uint8_t *raw = frame + m.hdr_len;
	size_t rawlen = len - m.hdr_len;
	switch (m.proto) {
	case PPP_PROTO_LCP:
		ppp_fsm_input(&s->lcp.fsm, &m.cp, raw, rawlen, now);
		break;
	case PPP_PROTO_PAP:
	case PPP_PROTO_CHAP:
		if (s->phase == PPP_PHASE_AUTH || s->phase == PPP_PHASE_NETWORK) {
			ppp_auth_input(&s->auth, &m, now);
			after_auth(s, now);
		}
		break;
	case PPP_PROTO_IPCP:
		if (s->phase == PPP_PHASE_NETWORK) ppp_fsm_input(&s->ipcp.fsm, &m.cp, raw, rawlen, now);
		break;
	case PPP_PROTO_IPV6CP:
		if (!s->conf->ipv6) protocol_reject(s, frame, len, &m);
		else if (s->phase == PPP_PHASE_NETWORK)
			ppp_fsm_input(&s->ipv6cp.fsm, &m.cp, raw, rawlen, now);
		break;
	case PPP_PROTO_IPV6:
		/* like IPv4, the data plane's; discarded here (RFC 1661 section 3.4 until
		 * IPV6CP is open), rejected when IPv6 is not spoken on this link */
		if (!s->conf->ipv6) protocol_reject(s, frame, len, &m);
		break;
	case PPP_PROTO_CCP:
		if (!s->conf->mppe_levels) protocol_reject(s, frame, len, &m);
		else if (s->phase == PPP_PHASE_NETWORK)
			ppp_fsm_input(&s->ccp.fsm, &m.cp, raw, rawlen, now);
		break;
	case PPP_PROTO_IP:
		break; /* the data plane is the server's, not the control automata's */
	default:
		protocol_reject(s, frame, len, &m);
		break;
	}
	return ppp_session_deadline(s);
}

uint64_t ppp_session_tick(struct ppp_session *s, uint64_t now)
{
	if (s->phase == PPP_PHASE_DEAD) return PPP_NEVER;
	ppp_fsm_tick(&s->lcp.fsm, now);
	ppp_fsm_tick(&s->ipcp.fsm, now);
	ppp_fsm_tick(&s->ipv6cp.fsm, now);
	ppp_fsm_tick(&s->ccp.fsm, now);
	ppp_auth_tick(&s->auth, now);
	after_auth(s, now);
	ppp_lcp_tick(s, now);
	return ppp_session_deadline(s);
}

uint64_t ppp_session_close(struct ppp_session *s, const char *why, unsigned win_error,
                           uint64_t now)
{
	if (!s->win_error) s->win_error = win_error;
	if (s->phase == PPP_PHASE_DEAD) return PPP_NEVER;
	s->phase = PPP_PHASE_TERMINATE;
	ppp_fsm_close(&s->lcp.fsm, now, why);
	return ppp_session_deadline(s);
}

int ppp_session_admit_resume(struct ppp_session *s, const struct ppp_admit *v,
                             const char *success, uint64_t now, uint64_t *deadline)
{
	if (s->phase != PPP_PHASE_AUTH && s->phase != PPP_PHASE_NETWORK) return -1;
	if (ppp_auth_resume(&s->auth, v, success, now) != 0) return -1;
	after_auth(s, now);
	if (deadline) *deadline = ppp_session_deadline(s);
	return 0;
}

void ppp_session_lower_down(struct ppp_session *s, uint64_t now)
{
	if (s->phase == PPP_PHASE_DEAD && s->finished) return;
	ppp_fsm_down(&s->lcp.fsm, now);
	if (!s->lcp.fsm.why[0]) snprintf(s->lcp.fsm.why, sizeof s->lcp.fsm.why, "lower layer down");
	ppp_session_lcp_finished(s, now);
}
