/* `vnet serve`: the event loop, tunnels, sessions, admission and data path (server.h). */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "l2tp.h"
#include "mppe.h"
#include "net.h"
#include "ppp.h"

const char *const srv_cat_names[] = {"main", "l2tp", "ppp", "auth", "policy", "ipcp",
	"acct", "ctl", "data", NULL};

/* ---- clock and log ------------------------------------------------------------------ */
uint64_t srv_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *srv_peer_text(const struct stun *t, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (t->peer.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&t->peer;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
		port = ntohs(s4->sin_port);
		snprintf(buf, n, "%s:%u", a, port);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&t->peer;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
		port = ntohs(s6->sin6_port);
		snprintf(buf, n, "[%s]:%u", a, port);
	}
	return buf;
}

static void peer_ip(const struct sockaddr_storage *p, char *buf, size_t n)
{
	if (p->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)p)->sin_addr, buf, (socklen_t)n);
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)p)->sin6_addr, buf, (socklen_t)n);
}

void srv_log(struct srv *s, enum srv_cat cat, bool debug_only, const struct stun *t,
             const struct ssess *ss, const char *fmt, ...)
{
	if (s->quiet || (debug_only && !(s->debug >> cat & 1))) return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[40];
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	char ids[64] = "";
	if (ss && ss->tun)
		snprintf(ids, sizeof ids, " t=%u/%u s=%u/%u", ss->tun->t.local_tid, ss->tun->t.peer_tid,
		         ss->lsid, ss->psid);
	else if (t)
		snprintf(ids, sizeof ids, " t=%u/%u", t->t.local_tid, t->t.peer_tid);
	char msg[PPP_LOG_LINE_MAX + 512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* peer text is escaped where it is formatted (srv_user_text); a control byte that got
	 * here anyway still cannot end the line or reach the terminal */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
	fprintf(stderr, "%s.%03ldZ %s%s %s\n", when, ts.tv_nsec / 1000000, srv_cat_names[cat], ids,
	        msg);
}

/* Lines about dropped floods: at most a few a second, with the count of the rest (said
 * when the second is over: at the next drop or by the once-a-second tick). */
static void throttle_flush(struct srv *s, uint64_t sec)
{
	if (sec == s->throttle_sec) return;
	if (s->throttle_count > 5)
		srv_log(s, SC_MAIN, false, NULL, NULL, "%u more drop lines suppressed",
		        s->throttle_count - 5);
	s->throttle_sec = sec;
	s->throttle_count = 0;
}

static bool throttle(struct srv *s)
{
	throttle_flush(s, srv_now_ms() / 1000);
	return ++s->throttle_count <= 5;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct srv *s = arg;
	throttle_flush(s, srv_now_ms() / 1000);
	srv_acct_sync(s);
}

static void rnd(void *ctx, uint8_t *buf, size_t n)
{
	(void)ctx;
	if (RAND_bytes(buf, (int)n) != 1)
		for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)random();
}

/* ---- timers ----------------------------------------------------------------------- */
static void arm(struct event *ev, uint64_t *armed, uint64_t deadline)
{
	if (deadline == *armed) return;
	*armed = deadline;
	if (deadline == L2TP_NEVER || deadline == PPP_NEVER) {
		evtimer_del(ev);
		return;
	}
	uint64_t now = srv_now_ms();
	uint64_t d = deadline > now ? deadline - now : 0;
	struct timeval tv = {(time_t)(d / 1000), (suseconds_t)(d % 1000) * 1000};
	evtimer_add(ev, &tv);
}

static void reap(struct srv *s);
static void tunnel_check(struct stun *t);
static int parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *len);

/* A tunnel gets this long from its SCCRQ to its SCCCN, however patient the retransmission
 * settings (serve.l2tp) are and even when the peer acknowledges the SCCRP and says no more. */
#define SRV_SETUP_MS 30000

static void tunnel_arm(struct stun *t)
{
	uint64_t d = l2tp_ctrl_deadline(&t->t);
	if (t->t.state == L2TP_TUN_WAIT_CTL_CONN && t->created_ms + SRV_SETUP_MS < d)
		d = t->created_ms + SRV_SETUP_MS;
	arm(t->timer, &t->armed, d);
}

static void sess_arm(struct ssess *ss);

/* ---- sessions ---------------------------------------------------------------------- */
static struct ssess *sess_by_sid(struct stun *t, uint16_t lsid)
{
	for (unsigned i = 0; i < L2TP_CTRL_CALLS; i++)
		if (t->sess[i] && t->sess[i]->lsid == lsid) return t->sess[i];
	return NULL;
}

static uint64_t sess_deadline(const struct ssess *ss)
{
	uint64_t d = ppp_session_deadline(&ss->ppp);
	if (ss->up && ss->idle_timeout) {
		uint64_t idle = ss->last_rx_ms + (uint64_t)ss->idle_timeout * 60000;
		if (idle < d) d = idle;
	}
	if (ss->up && ss->session_timeout) {
		uint64_t end = ss->up_ms + (uint64_t)ss->session_timeout * 60000;
		if (end < d) d = end;
	}
	return d;
}

static void sess_arm(struct ssess *ss)
{
	if (ss->dead) return;
	arm(ss->timer, &ss->armed, sess_deadline(ss));
}

static void sess_release(struct srv *s, struct ssess *ss)
{
	if (ss->addr && ss->addr_from_pool) addr_pool_release(&s->pool, ss->addr);
	ss->addr = 0;
}

/* The end of a session: accounting, counters; the memory goes after the callback. */
static void sess_end(struct ssess *ss, const char *cause)
{
	struct srv *s = ss->srv;
	if (ss->dead) return;
	ss->dead = true;
	if (!ss->cause[0]) snprintf(ss->cause, sizeof ss->cause, "%s", cause);
	if (ss->acct_started) srv_acct_stop(s, ss);
	if (ss->up) {
		s->st.sessions_closed++;
		char ut[SRV_USER_TEXT];
		srv_log(s, SC_MAIN, false, NULL, ss,
		        "session %u down cause=%s user=%s rx_bytes=%llu tx_bytes=%llu rx_packets=%llu "
		        "tx_packets=%llu duration=%llus",
		        ss->id, ss->cause, srv_user_text(ss->ppp.user, ut, sizeof ut),
		        (unsigned long long)ss->rx_bytes,
		        (unsigned long long)ss->tx_bytes, (unsigned long long)ss->rx_pkts,
		        (unsigned long long)ss->tx_pkts,
		        (unsigned long long)((srv_now_ms() - ss->up_ms) / 1000));
	} else {
		srv_log(s, SC_MAIN, false, NULL, ss, "session %u ended before it came up: %s", ss->id,
		        ss->cause);
	}
	if (ss->up) srv_tun_session_down(s, ss); /* server_tun.c */
	sess_release(s, ss);
	evtimer_del(ss->timer);
	if (ss->tun)
		for (unsigned i = 0; i < L2TP_CTRL_CALLS; i++)
			if (ss->tun->sess[i] == ss) ss->tun->sess[i] = NULL;
	s->sessions[ss->id % s->sess_cap] = NULL;
	s->nsessions--;
	ss->tun = NULL;
	ss->next_dead = s->dead_sessions;
	s->dead_sessions = ss;
}

static void sess_free(struct ssess *ss)
{
	event_free(ss->timer);
	if (ss->mppe) {
		mppe_clear(&ss->mppe[0]);
		mppe_clear(&ss->mppe[1]);
		free(ss->mppe);
	}
	free(ss);
}

/* PPP callbacks */
static void ppp_send_cb(void *ctx, const uint8_t *frame, size_t len)
{
	struct ssess *ss = ctx;
	if (!ss->tun || ss->dead) return;
	if (l2tp_ctrl_send_data(&ss->tun->t, ss->lsid, frame, len) == 0) {
		ss->tx_bytes += len;
		ss->tx_pkts++;
	}
}

static const enum srv_cat ppp_cat[] = {
	[PPP_LOG_TRACE] = SC_PPP, [PPP_LOG_INFO] = SC_PPP, [PPP_LOG_LCP_UP] = SC_PPP,
	[PPP_LOG_AUTH_OK] = SC_AUTH, [PPP_LOG_AUTH_FAIL] = SC_AUTH, [PPP_LOG_NCP_UP] = SC_IPCP,
	[PPP_LOG_NCP_FAIL] = SC_IPCP, [PPP_LOG_LINK_DOWN] = SC_PPP,
};

static void ppp_event_cb(void *ctx, enum ppp_log kind, const char *text)
{
	struct ssess *ss = ctx;
	bool dbg = kind == PPP_LOG_TRACE || kind == PPP_LOG_INFO || kind == PPP_LOG_LCP_UP;
	srv_log(ss->srv, ppp_cat[kind], dbg, NULL, ss, "%s", text);
	if (kind == PPP_LOG_AUTH_FAIL) ss->srv->st.auth_failures++;
}

/* -1 unknown user, -2 no password to check against (ppp_auth.h): either is a rejection. */
static int ppp_password_cb(void *ctx, const char *user, char *buf, size_t cap)
{
	struct ssess *ss = ctx;
	const struct user *u = config_find_user(ss->srv->cfg, user);
	if (!u) return -1;
	if (!u->password) return -2;
	size_t n = strlen(u->password);
	if (n + 1 > cap) return -2;
	memcpy(buf, u->password, n + 1);
	return (int)n;
}

/* MS-CHAPv2 Change-Password after E=648: the new password replaces the old one and the
 * expiry is cleared, in this server's memory (the configuration file is not rewritten). */
static int ppp_change_password_cb(void *ctx, const char *user, const char *new_password)
{
	struct ssess *ss = ctx;
	struct user *u = (struct user *)config_find_user(ss->srv->cfg, user);
	if (!u) return -1;
	char *np = strdup(new_password);
	if (!np) return -1;
	if (u->password) {
		OPENSSL_cleanse(u->password, strlen(u->password));
		free(u->password);
	}
	u->password = np;
	u->password_expired = false;
	char ut[SRV_USER_TEXT];
	srv_log(ss->srv, SC_AUTH, false, NULL, ss,
	        "session %u: user %s changed the expired password (kept until the server stops)",
	        ss->id, srv_user_text(user, ut, sizeof ut));
	return 0;
}

static enum auth_method cfg_method(enum ppp_auth_method m)
{
	switch (m) {
	case PPP_AUTH_PAP: return AUTH_PAP;
	case PPP_AUTH_CHAP_MD5: return AUTH_CHAP;
	case PPP_AUTH_MSCHAPV2: return AUTH_MSCHAPV2;
	default: return AUTH_NONE;
	}
}

/* The strongest encryption level this server will negotiate with the client. */
static enum enc_level link_encryption(const struct srv *s)
{
	uint32_t m = s->ppp_conf.mppe_levels;
	return m & MPPE_BIT_S ? ENC_STRONGEST : m & MPPE_BIT_M ? ENC_STRONG
	       : m & MPPE_BIT_L ? ENC_BASIC : ENC_NONE;
}

static enum enc_level mppe_bits_level(uint32_t b)
{
	return b & MPPE_BIT_S ? ENC_STRONGEST : b & MPPE_BIT_M ? ENC_STRONG
	       : b & MPPE_BIT_L ? ENC_BASIC : ENC_NONE;
}

static struct ppp_admit ppp_admit_cb(void *ctx, const char *user, enum ppp_auth_method method,
                                     enum ppp_cred cred)
{
	struct ssess *ss = ctx;
	struct srv *s = ss->srv;
	struct ppp_admit v = {false, PPP_WINERR_AUTH_FAILURE, NULL};
	ss->method = (uint8_t)method;
	char client[INET6_ADDRSTRLEN] = "";
	if (ss->tun) peer_ip(&ss->tun->peer, client, sizeof client);
	struct admit_req q = {
		.user = user,
		.method = cfg_method(method),
		.cred = cred == PPP_CRED_OK ? ADMIT_CRED_OK
		        : cred == PPP_CRED_NO_USER ? ADMIT_CRED_UNKNOWN_USER
		        : cred == PPP_CRED_BAD ? ADMIT_CRED_BAD : ADMIT_CRED_ERROR,
		.tunnel = TUN_L2TP,
		.encryption = link_encryption(s),
		.any_encryption = true,
		.client_ip = client,
		.server_ip = s->local_ip,
		.now = time(NULL),
		.ports_in_use = s->l2tp_ports_used > 0 ? s->l2tp_ports_used - 1 : 0,
		.addresses_in_use = (int)addr_pool_clients(&s->pool),
	};
	struct attempt a;
	struct admit_out o;
	char ut[SRV_USER_TEXT];
	srv_user_text(user, ut, sizeof ut);
	int rc = admit_decide(s->cfg, &q, &a, &s->pres, &o);
	char why[600];
	admit_summary(s->cfg, &a, &s->pres, why, sizeof why);
	/* the trace: every step with -d policy; the failed ones of a rejection always */
	for (size_t i = 0; i < s->pres.nsteps; i++) {
		const struct policy_step *step = &s->pres.steps[i];
		bool show = (s->debug >> SC_POLICY & 1) || (rc != 0 && step->verdict == V_FAIL);
		if (!show) continue;
		struct step_text st;
		policy_step_text(s->cfg, &a, step, &st);
		/* what the attempt had may be the client's own text (its user name) */
		char got[TEXT_PRINTABLE_SIZE(sizeof st.actual)];
		text_printable_str(st.actual[0] ? st.actual : "-", got, sizeof got);
		srv_log(s, SC_POLICY, false, NULL, ss, "trace: %s%s%s%s %s: %s (expected %s, got %s)%s%s",
		        step->policy >= 0 ? "policy \"" : "",
		        step->policy >= 0 ? s->cfg->policies[step->policy].name : "",
		        step->policy >= 0 ? "\" " : "", st.check,
		        policy_verdict_name((enum verdict)step->verdict), st.note,
		        st.expected[0] ? st.expected : "-", got,
		        st.where[0] ? " at " : "", st.where);
	}
	const char *pname = o.policy >= 0 ? s->cfg->policies[o.policy].name : "(none)";
	if (rc == 0) {
		uint32_t addr = o.address;
		if (o.address_from_pool) addr = addr_pool_take(&s->pool, 0);
		else if (addr && addr_pool_contains(&s->pool, addr) && !addr_pool_take(&s->pool, addr))
			addr = 0; /* a static or requested address another session holds */
		if (!addr && (o.address_from_pool || o.address)) {
			srv_log(s, SC_POLICY, false, NULL, ss,
			        "session %u rejected user=%s error=720 reason=address-unavailable "
			        "policy=\"%s\": the granted address is in use", ss->id, ut, pname);
			s->st.sessions_rejected++;
			v.win_error = 720;
			v.message = "no address is available for the connection";
			attempt_free(&a);
			return v;
		}
		ss->addr = addr;
		ss->addr_from_pool = o.address_from_pool || (addr && addr_pool_contains(&s->pool, addr));
		ss->policy = o.policy;
		ss->idle_timeout = o.idle_timeout;
		ss->session_timeout = o.session_timeout;
		ss->enc_allowed = o.enc_allowed;
		ss->admitted = true;
		char ab[20];
		srv_log(s, SC_POLICY, false, NULL, ss,
		        "session %u admitted user=%s method=%s policy=\"%s\" addr=%s idle=%dmin "
		        "session=%dmin", ss->id, ut, srv_tok(ppp_auth_method_names, method),
		        pname, ipv4_str(addr, ab, sizeof ab), o.idle_timeout, o.session_timeout);
		v.accept = true;
		v.win_error = 0;
	} else {
		s->st.sessions_rejected++;
		v.win_error = (unsigned)o.error;
		v.message = policy_reasons[o.reason].text;
		if (method != PPP_AUTH_MSCHAPV2) {
			/* PAP and CHAP-MD5 have only the text: it carries the error number too
			 * (ppp_auth copies it at once, so one buffer serves every session) */
			snprintf(s->reply_text, sizeof s->reply_text, "E=%d %s", o.error, v.message);
			v.message = s->reply_text;
		}
		ss->win_error = v.win_error;
		snprintf(ss->cause, sizeof ss->cause, "rejected-%d", o.error);
		srv_log(s, SC_POLICY, false, NULL, ss,
		        "session %u rejected user=%s method=%s error=%d reason=%s policy=\"%s\": %s",
		        ss->id, ut, srv_tok(ppp_auth_method_names, method), o.error,
		        policy_reasons[o.reason].code, pname, why);
	}
	attempt_free(&a);
	return v;
}

static uint32_t ppp_addr_alloc_cb(void *ctx, uint32_t requested)
{
	struct ssess *ss = ctx;
	(void)requested;
	return ss->addr;
}

static void ppp_addr_free_cb(void *ctx, uint32_t addr)
{
	(void)ctx;
	(void)addr; /* the lease lasts as long as the session */
}

static void ppp_finished_cb(void *ctx, unsigned win_error, const char *why)
{
	struct ssess *ss = ctx;
	if (ss->dead) return;
	if (win_error && !ss->win_error) ss->win_error = win_error;
	if (!ss->cause[0]) {
		if (win_error) snprintf(ss->cause, sizeof ss->cause, "error-%u", win_error);
		else snprintf(ss->cause, sizeof ss->cause, "ppp-terminated");
	}
	if (win_error)
		srv_log(ss->srv, SC_PPP, false, NULL, ss, "link finished: %s (Windows error %u)",
		        why ? why : "", win_error);
	else
		srv_log(ss->srv, SC_PPP, false, NULL, ss, "link finished: %s", why ? why : "");
	struct stun *t = ss->tun;
	uint16_t result = L2TP_CDN_ADMIN;
	if (t) {
		char msg[64];
		snprintf(msg, sizeof msg, "%s", ss->cause);
		l2tp_ctrl_call_close(&t->t, ss->lsid, result, 0, msg, srv_now_ms());
		/* call_close reaches call_down, which ends the session */
		tunnel_arm(t);
	}
	sess_end(ss, ss->cause);
}

/* ---- data path ------------------------------------------------------------------------- */

/* The buffers of the data path are sized from the largest MRU the configuration accepts
 * (SERVE_MRU_MAX, which is also the TUN's largest MTU): a frame to a client is the packet
 * and 4 bytes of PPP header (address, control, protocol), with MPPE 4 more (its header and
 * the encrypted protocol field). */
#define SRV_FRAME_MAX (SERVE_MRU_MAX + 8)
/* The largest datagram read whole: an L2TP data header (16 bytes without offset padding)
 * and a frame of the largest MRU, with room for a peer that pads or exceeds the MRU. */
#define SRV_DGRAM_MAX 4096
_Static_assert(SRV_FRAME_MAX + 16 <= L2TP_CTRL_DATA_MAX, "a frame fits an L2TP data message");
_Static_assert(SRV_FRAME_MAX + 16 <= SRV_DGRAM_MAX, "a frame of the largest MRU is read whole");

/* A datagram, frame or packet too big for those buffers: counted and logged, never
 * dropped in silence. */
static void drop_oversized(struct srv *s, const struct ssess *ss, const char *what, size_t len,
                           size_t max)
{
	s->st.oversized++;
	if (throttle(s))
		srv_log(s, SC_DATA, false, NULL, ss, "%s of %zu bytes dropped: the server takes at most %zu "
		        "(serve.ppp.mru is at most %d)", what, len, max, SERVE_MRU_MAX);
}

/* The granted profile's filters, NULL before admission. */
static const struct profile *sess_profile(const struct ssess *ss)
{
	return ss->policy >= 0 ? &ss->srv->cfg->policies[ss->policy].profile : NULL;
}

static void filter_drop(struct ssess *ss, const uint8_t *ip, bool inbound)
{
	struct srv *s = ss->srv;
	s->st.filtered++;
	if (!throttle(s)) return;
	char a[20], b[20];
	uint32_t src = (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 | (uint32_t)ip[14] << 8 | ip[15];
	uint32_t dst = (uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | (uint32_t)ip[18] << 8 | ip[19];
	srv_log(s, SC_DATA, false, NULL, ss, "%s filter of policy \"%s\" dropped a packet %s -> %s proto %u",
	        inbound ? "input" : "output", s->cfg->policies[ss->policy].name,
	        ipv4_str(src, a, sizeof a), ipv4_str(dst, b, sizeof b), ip[9]);
}

/* An IPv4 packet to the client, through the profile's output filters. */
void srv_session_send_ip(struct ssess *ss, const uint8_t *ip, size_t len)
{
	uint8_t frame[SRV_FRAME_MAX];
	if (!ss->tun) return;
	if (len > SERVE_MRU_MAX) {
		drop_oversized(ss->srv, ss, "packet to the client", len, SERVE_MRU_MAX);
		return;
	}
	const struct profile *pr = sess_profile(ss);
	if (pr && !ipfilter_pass(&pr->fout, ip, len, false)) {
		filter_drop(ss, ip, false);
		return;
	}
	frame[0] = 0xff;
	frame[1] = 0x03;
	size_t flen;
	if (ss->ppp.ccp.mppe_on) {
		/* MPPE: the protocol field and the packet, encrypted, in a compressed datagram */
		uint8_t inner[SERVE_MRU_MAX + 2];
		inner[0] = 0x00;
		inner[1] = 0x21;
		memcpy(inner + 2, ip, len);
		frame[2] = 0x00;
		frame[3] = 0xfd;
		int n = mppe_encrypt(ss->ppp.ccp.tx, inner, len + 2, frame + 4, sizeof frame - 4);
		if (n < 0) {
			ss->srv->st.mppe_errors++;
			return;
		}
		flen = 4 + (size_t)n;
	} else {
		if (!ss->enc_checked && !(ss->enc_allowed >> ENC_NONE & 1)) {
			ss->srv->st.clear_dropped++; /* encryption required and not up yet */
			return;
		}
		frame[2] = 0x00;
		frame[3] = 0x21;
		memcpy(frame + 4, ip, len);
		flen = len + 4;
	}
	if (l2tp_ctrl_send_data(&ss->tun->t, ss->lsid, frame, flen) == 0) {
		ss->tx_bytes += len;
		ss->tx_pkts++;
	}
}

/* An IPv4 packet from the client. */
static void data_ip(struct ssess *ss, const uint8_t *ip, size_t len)
{
	struct srv *s = ss->srv;
	ss->rx_bytes += len;
	ss->rx_pkts++;
	ss->last_rx_ms = srv_now_ms();
	if (len < 20 || ip[0] >> 4 != 4) {
		s->st.data_dropped++;
		return;
	}
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	size_t tot = (size_t)ip[2] << 8 | ip[3];
	if (ihl < 20 || tot < ihl || tot > len) {
		s->st.data_dropped++;
		return;
	}
	uint32_t src = (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 | (uint32_t)ip[14] << 8 | ip[15];
	uint32_t dst = (uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | (uint32_t)ip[18] << 8 | ip[19];
	if (src != ss->addr) {
		/* spoofed source: not the address this link was given */
		s->st.data_dropped++;
		if (throttle(s)) {
			char a[20], b[20];
			srv_log(s, SC_DATA, false, NULL, ss, "dropped a packet from %s: the link's address is %s",
			        ipv4_str(src, a, sizeof a), ipv4_str(ss->addr, b, sizeof b));
		}
		return;
	}
	const struct profile *pr = sess_profile(ss);
	if (pr && !ipfilter_pass(&pr->fin, ip, tot, true)) {
		filter_drop(ss, ip, true);
		return;
	}
	if (dst == s->local_addr && ip[9] == 1 && tot >= ihl + 8 && ip[ihl] == 8 &&
	    (ip[6] & 0x3f) == 0 && ip[7] == 0) {
		/* ICMP echo request to the server's own address: answer it */
		uint8_t r[SERVE_MRU_MAX];
		if (tot > sizeof r) {
			drop_oversized(s, ss, "ICMP echo request", tot, sizeof r);
			return;
		}
		memcpy(r, ip, tot);
		memcpy(r + 12, ip + 16, 4);
		memcpy(r + 16, ip + 12, 4);
		r[8] = 64;
		r[10] = r[11] = 0;
		uint16_t c = inet_cksum(r, ihl, 0);
		r[10] = (uint8_t)(c >> 8);
		r[11] = (uint8_t)c;
		r[ihl] = 0; /* echo reply */
		r[ihl + 2] = r[ihl + 3] = 0;
		c = inet_cksum(r + ihl, tot - ihl, 0);
		r[ihl + 2] = (uint8_t)(c >> 8);
		r[ihl + 3] = (uint8_t)c;
		s->st.icmp_echo++;
		srv_log(s, SC_DATA, true, NULL, ss, "ICMP echo request %u bytes answered", (unsigned)tot);
		srv_session_send_ip(ss, r, tot);
		return;
	}
	if (srv_tun_forward(s, ss, ip, tot)) return; /* server_tun.c */
	s->st.data_dropped++;
	if (throttle(s)) {
		char b[20];
		srv_log(s, SC_DATA, true, NULL, ss, "no route for %s (no TUN interface configured)",
		        ipv4_str(dst, b, sizeof b));
	}
}

/* A PPP frame from the call: IP goes to the data path, the rest to the automata. */
static void sess_input(struct ssess *ss, const uint8_t *p, size_t len)
{
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
	if (proto == PPP_PROTO_COMP && ss->ppp.ccp.mppe_on && ss->up) {
		uint8_t out[4096];
		struct diag_err err;
		int n = mppe_decrypt(ss->ppp.ccp.rx, p + o + plen, len - o - plen, out, sizeof out, &err);
		if (n < 0) {
			struct srv *s = ss->srv;
			s->st.mppe_errors++;
			if (n == MPPE_ERR_RESET) ppp_ccp_reset_request(&ss->ppp);
			if (throttle(s))
				srv_log(s, SC_DATA, n != MPPE_ERR_RESET, NULL, ss, "MPPE packet dropped (%s): %s",
				        srv_tok(mppe_err_names, (unsigned)-n), err.reason);
			return;
		}
		if (n >= 2 && out[0] == 0x00 && out[1] == 0x21) data_ip(ss, out + 2, (size_t)n - 2);
		else ss->srv->st.data_dropped++;
		return;
	}
	if (proto == PPP_PROTO_IP && ss->ppp.ipcp_up && ss->up) {
		if (ss->ppp.ccp.mppe_on || (!ss->enc_checked && !(ss->enc_allowed >> ENC_NONE & 1))) {
			/* clear IP on an encrypted link, or before the required encryption is up */
			ss->srv->st.clear_dropped++;
			return;
		}
		data_ip(ss, p + o + plen, len - o - plen);
		return;
	}
	ss->rx_bytes += len;
	ss->rx_pkts++;
	ppp_session_input(&ss->ppp, p, len, srv_now_ms());
}

/* Once CCP has settled, hold the link's encryption against the granted profile: the
 * level was unknown when the policy admitted the user. */
static void enc_check(struct ssess *ss)
{
	struct srv *s = ss->srv;
	uint8_t st = ss->ppp.ccp.fsm.state;
	bool negotiating = s->ppp_conf.mppe_levels && !ss->ppp.ccp_up &&
	                   (st == PPP_ST_REQ_SENT || st == PPP_ST_ACK_RCVD || st == PPP_ST_ACK_SENT ||
	                    st == PPP_ST_STARTING || st == PPP_ST_INITIAL);
	if (negotiating) return;
	enum enc_level lv = ss->ppp.ccp_up ? mppe_bits_level(ss->ppp.ccp.peer_bits) : ENC_NONE;
	if (ss->ppp.ccp_up && !ss->ppp.ccp.mppe_on) lv = ENC_NONE; /* agreed but no keys */
	ss->enc_checked = true;
	ss->enc_level = (uint8_t)lv;
	if (ss->enc_allowed >> lv & 1) {
		srv_log(s, SC_MAIN, false, NULL, ss, "session %u encryption %s%s", ss->id,
		        lv == ENC_NONE ? "none" : lv == ENC_STRONGEST ? "MPPE 128-bit"
		        : lv == ENC_STRONG ? "MPPE 56-bit" : "MPPE 40-bit",
		        lv != ENC_NONE && ss->ppp.ccp.peer_bits & MPPE_BIT_H ? " stateless" : "");
		return;
	}
	int err = admit_encryption_error(ss->enc_allowed, lv);
	char allowed[80];
	mask_str(enc_level_names, ss->enc_allowed, allowed, sizeof allowed);
	srv_log(s, SC_POLICY, false, NULL, ss,
	        "session %u: the link negotiated encryption %s, policy \"%s\" allows %s: "
	        "disconnecting, the client shows error %d", ss->id, enc_level_names[lv],
	        ss->policy >= 0 ? s->cfg->policies[ss->policy].name : "-", allowed, err);
	ss->win_error = (unsigned)err;
	srv_session_disconnect(s, ss, "encryption-not-allowed");
}

static void sess_after(struct ssess *ss)
{
	struct srv *s = ss->srv;
	if (ss->dead) return;
	if (!ss->up && ss->ppp.ipcp_up && ss->admitted) {
		ss->up = true;
		ss->up_ms = ss->last_rx_ms = srv_now_ms();
		ss->start_wall = time(NULL);
		s->st.sessions_up++;
		char ab[20], ut[SRV_USER_TEXT];
		srv_log(s, SC_MAIN, false, NULL, ss, "session %u up user=%s addr=%s method=%s", ss->id,
		        srv_user_text(ss->ppp.user, ut, sizeof ut), ipv4_str(ss->addr, ab, sizeof ab),
		        srv_tok(ppp_auth_method_names, ss->method));
		srv_acct_start(s, ss);
		ss->acct_started = true;
		srv_tun_session_up(s, ss); /* server_tun.c */
	}
	if (ss->up && !ss->enc_checked) enc_check(ss);
	if (ss->dead) return;
	sess_arm(ss);
}

static void sess_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ssess *ss = arg;
	struct srv *s = ss->srv;
	ss->armed = L2TP_NEVER;
	uint64_t now = srv_now_ms();
	if (ss->up && ss->idle_timeout && now >= ss->last_rx_ms + (uint64_t)ss->idle_timeout * 60000) {
		srv_session_disconnect(s, ss, "idle-timeout");
	} else if (ss->up && ss->session_timeout &&
	           now >= ss->up_ms + (uint64_t)ss->session_timeout * 60000) {
		srv_session_disconnect(s, ss, "session-timeout");
	} else {
		ppp_session_tick(&ss->ppp, now);
		sess_after(ss);
	}
	reap(s);
}

void srv_session_disconnect(struct srv *s, struct ssess *ss, const char *cause)
{
	if (ss->dead) return;
	snprintf(ss->cause, sizeof ss->cause, "%s", cause);
	srv_log(s, SC_MAIN, false, NULL, ss, "session %u: disconnecting (%s)", ss->id, cause);
	ppp_session_close(&ss->ppp, cause, 0, srv_now_ms());
	sess_after(ss);
}

static struct ssess *sess_new(struct stun *t, uint16_t lsid)
{
	struct srv *s = t->srv;
	/* the tunnel's slot first: a session its tunnel does not list would outlive it */
	unsigned slot = L2TP_CTRL_CALLS;
	for (unsigned i = 0; i < L2TP_CTRL_CALLS && slot == L2TP_CTRL_CALLS; i++)
		if (!t->sess[i]) slot = i;
	if (slot == L2TP_CTRL_CALLS || sess_by_sid(t, lsid)) return NULL;
	struct ssess *ss = calloc(1, sizeof *ss);
	if (!ss) return NULL;
	ss->timer = evtimer_new(s->base, sess_timer_cb, ss);
	if (!ss->timer) {
		free(ss);
		return NULL;
	}
	/* a free slot in the session table */
	for (unsigned k = 0; k < s->sess_cap; k++) {
		uint32_t id = ++s->next_session;
		if (id == 0) id = ++s->next_session;
		if (!s->sessions[id % s->sess_cap]) {
			ss->id = id;
			break;
		}
	}
	if (!ss->id) {
		event_free(ss->timer);
		free(ss);
		return NULL;
	}
	s->sessions[ss->id % s->sess_cap] = ss;
	s->nsessions++;
	ss->srv = s;
	ss->tun = t;
	ss->lsid = lsid;
	struct l2tp_call *c = l2tp_ctrl_call(&t->t, lsid);
	ss->psid = c ? c->peer_sid : 0;
	ss->policy = -1;
	ss->armed = L2TP_NEVER;
	ss->start_ms = srv_now_ms();
	ss->cbs = (struct ppp_session_cbs){
		.ctx = ss, .send = ppp_send_cb, .event = ppp_event_cb, .random = rnd,
		.password = ppp_password_cb, .admit = ppp_admit_cb, .addr_alloc = ppp_addr_alloc_cb,
		.addr_free = ppp_addr_free_cb, .finished = ppp_finished_cb,
		.change_password = ppp_change_password_cb,
	};
	ppp_session_init(&ss->ppp, &s->ppp_conf, &ss->cbs);
	if (s->ppp_conf.mppe_levels) {
		ss->mppe = calloc(2, sizeof *ss->mppe);
		if (!ss->mppe) {
			s->sessions[ss->id % s->sess_cap] = NULL;
			s->nsessions--;
			event_free(ss->timer);
			free(ss);
			return NULL;
		}
		ppp_ccp_set_mppe(&ss->ppp, &ss->mppe[0], &ss->mppe[1]);
	}
	t->sess[slot] = ss;
	return ss;
}

/* ---- tunnels --------------------------------------------------------------------------- */
static void tun_send_cb(void *ctx, const uint8_t *buf, size_t len)
{
	struct stun *t = ctx;
	struct srv *s = t->srv;
	ssize_t n = sendto(s->fd, buf, len, 0, (const struct sockaddr *)&t->peer, t->peerlen);
	if (n < 0) {
		if (throttle(s))
			srv_log(s, SC_L2TP, false, t, NULL, "send failed: %s", strerror(errno));
		return;
	}
	s->st.tx_datagrams++;
	s->st.tx_bytes += len;
	srv_capture(s, &t->peer, true, buf, len);
}

static void tun_event_cb(void *ctx, enum l2tp_ev kind, uint16_t sid, const char *text)
{
	struct stun *t = ctx;
	struct srv *s = t->srv;
	bool dbg = kind == L2TP_EV_TRACE || kind == L2TP_EV_INFO;
	char peer[80];
	if (kind == L2TP_EV_TUNNEL_UP) {
		srv_log(s, SC_L2TP, false, t, NULL, "tunnel up peer=%s host=%s", srv_peer_text(t, peer, sizeof peer),
		        t->t.peer_host[0] ? t->t.peer_host : "?");
		return;
	}
	if (sid) {
		struct ssess *ss = sess_by_sid(t, sid);
		if (ss) {
			srv_log(s, SC_L2TP, dbg, NULL, ss, "%s", text);
			return;
		}
	}
	if (sid)
		srv_log(s, SC_L2TP, dbg, t, NULL, "%ssession %u: %s",
		        kind == L2TP_EV_TUNNEL_DOWN ? "tunnel down: " : "", sid, text);
	else
		srv_log(s, SC_L2TP, dbg, t, NULL, "%s", text);
}

static bool tun_port_acquire(void *ctx)
{
	struct stun *t = ctx;
	struct srv *s = t->srv;
	int ports = s->cfg->server.ports[TUN_L2TP];
	if (s->l2tp_ports_used >= ports) {
		s->st.refused_ports++;
		srv_log(s, SC_L2TP, false, t, NULL,
		        "incoming call refused: all %d L2TP ports are in use (server.ports.l2tp): "
		        "CDN result 4 error 4, the client shows error 628", ports);
		return false;
	}
	if (s->nsessions >= s->sess_cap - 1) {
		s->st.refused_ports++;
		srv_log(s, SC_L2TP, false, t, NULL,
		        "incoming call refused: %u sessions reached serve.limits.sessions", s->nsessions);
		return false;
	}
	s->l2tp_ports_used++;
	return true;
}

static void tun_port_release(void *ctx)
{
	struct stun *t = ctx;
	if (t->srv->l2tp_ports_used > 0) t->srv->l2tp_ports_used--;
}

static void tun_call_up(void *ctx, uint16_t lsid)
{
	struct stun *t = ctx;
	struct srv *s = t->srv;
	struct ssess *ss = sess_new(t, lsid);
	if (!ss) {
		srv_log(s, SC_L2TP, false, t, NULL,
		        "call %u: no room for its session (memory, serve.limits.sessions), cleared", lsid);
		l2tp_ctrl_call_close(&t->t, lsid, L2TP_CDN_NO_FACILITIES_TEMP, L2TP_ERR_NO_RESOURCE,
		                     "no resources", srv_now_ms());
		return;
	}
	srv_log(s, SC_L2TP, false, NULL, ss, "session %u: call up, starting PPP", ss->id);
	ppp_session_start(&ss->ppp, srv_now_ms());
	sess_after(ss);
}

static void tun_call_down(void *ctx, uint16_t lsid, uint16_t result, uint16_t error)
{
	struct stun *t = ctx;
	struct ssess *ss = sess_by_sid(t, lsid);
	if (!ss || ss->dead) return;
	/* the L2TP side ended the call (CDN, StopCCN, dead peer): that is the cause, not the
	 * PPP link going down with it */
	if (!ss->cause[0]) {
		if (t->t.state == L2TP_TUN_ESTABLISHED)
			snprintf(ss->cause, sizeof ss->cause, "l2tp-cdn-%u-%u", result, error);
		else /* the whole tunnel went: StopCCN either way, or the peer stopped answering */
			snprintf(ss->cause, sizeof ss->cause, "tunnel-closed");
	}
	ppp_session_lower_down(&ss->ppp, srv_now_ms());
	sess_end(ss, ss->cause);
}

static void tun_data(void *ctx, uint16_t lsid, const uint8_t *ppp, size_t len)
{
	struct stun *t = ctx;
	struct ssess *ss = sess_by_sid(t, lsid);
	if (!ss || ss->dead) return;
	sess_input(ss, ppp, len);
	sess_after(ss);
}

static void tun_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct stun *t = arg;
	t->armed = L2TP_NEVER;
	uint64_t now = srv_now_ms();
	l2tp_ctrl_tick(&t->t, now);
	struct srv *s = t->srv;
	if (t->t.state == L2TP_TUN_WAIT_CTL_CONN && now >= t->created_ms + SRV_SETUP_MS)
		l2tp_ctrl_stop(&t->t, L2TP_STOP_GENERAL, 0, "no SCCCN within 30 s of the SCCRQ", now);
	tunnel_check(t);
	reap(s);
}

static bool same_source(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/* The half-open list, newest first, and each member's count of half-open tunnels of its
 * source (ho_same; see same_source): kept by these two, each one pass over the list. */
static void half_open_add(struct stun *t)
{
	struct srv *s = t->srv;
	t->ho_same = 1;
	for (struct stun *o = s->half_open; o; o = o->ho_next)
		if (same_source(&o->peer, &t->peer)) {
			o->ho_same++;
			t->ho_same++;
		}
	t->counted_half_open = true;
	t->ho_prev = NULL;
	t->ho_next = s->half_open;
	if (s->half_open) s->half_open->ho_prev = t;
	s->half_open = t;
	s->nhalf_open++;
}

static void half_open_remove(struct stun *t)
{
	struct srv *s = t->srv;
	if (!t->counted_half_open) return;
	t->counted_half_open = false;
	if (t->ho_prev) t->ho_prev->ho_next = t->ho_next;
	else s->half_open = t->ho_next;
	if (t->ho_next) t->ho_next->ho_prev = t->ho_prev;
	t->ho_next = t->ho_prev = NULL;
	t->ho_same = 0;
	if (s->nhalf_open) s->nhalf_open--;
	for (struct stun *o = s->half_open; o; o = o->ho_next)
		if (same_source(&o->peer, &t->peer) && o->ho_same) o->ho_same--;
}

static void tunnel_free(struct stun *t)
{
	struct srv *s = t->srv;
	half_open_remove(t);
	/* the automaton never changes the ID the server gave it (l2tp_ctrl.h): this is the
	 * slot tunnel_new filled */
	if (s->tunnels[t->t.local_tid] == t) s->tunnels[t->t.local_tid] = NULL;
	if (s->ntunnels) s->ntunnels--;
	s->st.tunnels_closed++;
	event_free(t->timer);
	free(t);
}

/* After any input or tick: keep the tables in step with the tunnel's state. */
static void tunnel_check(struct stun *t)
{
	struct srv *s = t->srv;
	/* half open until established: a set-up that failed stays in the list (and under its
	 * limit) while it says its StopCCN */
	if (t->counted_half_open && t->t.state == L2TP_TUN_ESTABLISHED) half_open_remove(t);
	if (t->t.state == L2TP_TUN_DEAD) {
		for (unsigned i = 0; i < L2TP_CTRL_CALLS; i++)
			if (t->sess[i]) sess_end(t->sess[i], "tunnel-closed");
		char peer[80];
		srv_log(s, SC_L2TP, true, t, NULL, "tunnel state freed (peer %s)",
		        srv_peer_text(t, peer, sizeof peer));
		tunnel_free(t);
		return;
	}
	tunnel_arm(t);
}

static struct stun *tunnel_new(struct srv *s, const struct sockaddr_storage *peer, socklen_t plen)
{
	struct stun *t = calloc(1, sizeof *t);
	if (!t) return NULL;
	t->timer = evtimer_new(s->base, tun_timer_cb, t);
	if (!t->timer) {
		free(t);
		return NULL;
	}
	t->srv = s;
	t->peer = *peer;
	t->peerlen = plen;
	t->armed = L2TP_NEVER;
	t->created_ms = srv_now_ms();
	t->cbs = (struct l2tp_ctrl_cbs){
		.ctx = t, .send = tun_send_cb, .event = tun_event_cb, .random = rnd,
		.port_acquire = tun_port_acquire, .port_release = tun_port_release,
		.call_up = tun_call_up, .call_down = tun_call_down, .data = tun_data,
	};
	l2tp_ctrl_init(&t->t, &s->l2tp_conf, &t->cbs);
	/* the one place a local tunnel ID is chosen: a free slot, random to make blind
	 * injection harder; the automaton keeps it for the tunnel's whole life */
	uint16_t r;
	rnd(NULL, (uint8_t *)&r, sizeof r);
	for (unsigned k = 0; k < 65536; k++, r++) {
		if (r == 0) continue;
		if (!s->tunnels[r]) {
			t->t.local_tid = r;
			break;
		}
	}
	if (!t->t.local_tid) {
		event_free(t->timer);
		free(t);
		return NULL;
	}
	s->tunnels[t->t.local_tid] = t;
	s->ntunnels++;
	half_open_add(t);
	s->st.tunnels_opened++;
	return t;
}

static void reap(struct srv *s)
{
	while (s->dead_sessions) {
		struct ssess *ss = s->dead_sessions;
		s->dead_sessions = ss->next_dead;
		sess_free(ss);
	}
}

static int check_fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int check_fail(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -1;
}

static int check_tunnel(const struct srv *s, const struct stun *t, unsigned *nsess, char *why,
                        size_t n)
{
	unsigned id = t->t.local_tid;
	if (t->srv != s) return check_fail(why, n, "tunnel %u belongs to another server", id);
	if (t->t.state == L2TP_TUN_DEAD) return check_fail(why, n, "tunnel %u is dead but kept", id);
	if (t->counted_half_open && t->t.state == L2TP_TUN_ESTABLISHED)
		return check_fail(why, n, "established tunnel %u is in the half-open list", id);
	if (!t->counted_half_open &&
	    (t->t.state == L2TP_TUN_IDLE || t->t.state == L2TP_TUN_WAIT_CTL_CONN))
		return check_fail(why, n, "tunnel %u is setting up outside the half-open list", id);
	for (unsigned i = 0; i < L2TP_CTRL_CALLS; i++) {
		const struct ssess *ss = t->sess[i];
		if (!ss) continue;
		(*nsess)++;
		const struct l2tp_call *c = l2tp_ctrl_call((struct l2tp_tunnel *)&t->t, ss->lsid);
		if (ss->tun != t || ss->dead)
			return check_fail(why, n, "tunnel %u lists session %u of another tunnel or dead", id,
			                  ss->id);
		if (!c || c->state != L2TP_CALL_ESTABLISHED)
			return check_fail(why, n, "session %u (sid %u) of tunnel %u has no established call",
			                  ss->id, ss->lsid, id);
		if (s->sessions[ss->id % s->sess_cap] != ss)
			return check_fail(why, n, "session %u is not in the session table", ss->id);
		for (unsigned k = i + 1; k < L2TP_CTRL_CALLS; k++)
			if (t->sess[k] && t->sess[k]->lsid == ss->lsid)
				return check_fail(why, n, "tunnel %u has two sessions with sid %u", id, ss->lsid);
	}
	for (unsigned i = 0; i < L2TP_CTRL_CALLS; i++) {
		const struct l2tp_call *c = &t->t.calls[i];
		if (c->state != L2TP_CALL_ESTABLISHED) continue;
		bool found = false;
		for (unsigned k = 0; k < L2TP_CTRL_CALLS && !found; k++)
			found = t->sess[k] && t->sess[k]->lsid == c->local_sid;
		if (!found)
			return check_fail(why, n, "established call %u of tunnel %u has no session",
			                  c->local_sid, id);
	}
	return 0;
}

int srv_check_tables(const struct srv *s, char *why, size_t n)
{
	unsigned ntun = 0, nsess = 0, nho = 0;
	for (unsigned i = 0; i < 65536; i++) {
		const struct stun *t = s->tunnels[i];
		if (!t) continue;
		ntun++;
		if (t->t.local_tid != i)
			return check_fail(why, n, "slot %u holds the tunnel with ID %u", i, t->t.local_tid);
		if (check_tunnel(s, t, &nsess, why, n) != 0) return -1;
	}
	if (ntun != s->ntunnels)
		return check_fail(why, n, "%u tunnels in the table, %u counted", ntun, s->ntunnels);
	const struct stun *prev = NULL;
	for (const struct stun *t = s->half_open; t; prev = t, t = t->ho_next) {
		if (++nho > ntun) return check_fail(why, n, "the half-open list is longer than the table");
		if (t->ho_prev != prev || !t->counted_half_open || s->tunnels[t->t.local_tid] != t)
			return check_fail(why, n, "half-open tunnel %u is not linked or not in the table",
			                  t->t.local_tid);
		unsigned same = 0;
		for (const struct stun *o = s->half_open; o; o = o->ho_next)
			same += same_source(&o->peer, &t->peer);
		if (t->ho_same != same)
			return check_fail(why, n, "half-open tunnel %u counts %u of its source, there are %u",
			                  t->t.local_tid, t->ho_same, same);
	}
	if (nho != s->nhalf_open)
		return check_fail(why, n, "%u tunnels in the half-open list, %u counted", nho, s->nhalf_open);
	if (nho > (unsigned)s->cfg->serve.max_half_open || ntun > (unsigned)s->cfg->serve.max_tunnels)
		return check_fail(why, n, "%u tunnels, %u half open: over the limits", ntun, nho);
	unsigned live = 0;
	for (unsigned i = 0; i < s->sess_cap; i++) {
		const struct ssess *ss = s->sessions[i];
		if (!ss) continue;
		live++;
		if (ss->dead || !ss->tun || s->tunnels[ss->tun->t.local_tid] != ss->tun)
			return check_fail(why, n, "session %u has no live tunnel", ss->id);
	}
	if (live != s->nsessions || live != nsess)
		return check_fail(why, n, "%u sessions in the table, %u counted, %u listed by tunnels",
		                  live, s->nsessions, nsess);
	return 0;
}

/* ---- datagrams ------------------------------------------------------------------------ */
static bool same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 && x->sin6_port == y->sin6_port;
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	              &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* One source for the share of the half-open table: an IPv4 address, or an IPv6 /64 (what
 * one site is given, and what one attacker has to play with). */
static bool same_source(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) return false;
	if (a->ss_family == AF_INET) return same_host(a, b);
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	              &((const struct sockaddr_in6 *)b)->sin6_addr, 8) == 0;
}

static uint32_t fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint32_t addr_key(const struct sockaddr_storage *p)
{
	if (p->ss_family == AF_INET) return ((const struct sockaddr_in *)p)->sin_addr.s_addr;
	return fnv(((const struct sockaddr_in6 *)p)->sin6_addr.s6_addr, 16);
}

/* Per-source admission of new tunnels: false when the source is over its rate. */
static bool rate_ok(struct srv *s, const struct sockaddr_storage *p)
{
	int limit = s->cfg->serve.new_tunnels_per_source;
	if (limit <= 0) return true;
	uint32_t key = addr_key(p);
	uint32_t sec = (uint32_t)(srv_now_ms() / 1000);
	struct rate_slot *r = &s->rate[fnv((const uint8_t *)&key, 4) % (sizeof s->rate / sizeof s->rate[0])];
	if (r->key != key || r->sec != sec) {
		r->key = key;
		r->sec = sec;
		r->count = 0;
	}
	return ++r->count <= (uint32_t)limit;
}

/* The share of serve.limits.half_open one source may hold: a sixteenth, at least one. */
static unsigned half_open_share(const struct srv *s)
{
	unsigned h = (unsigned)s->cfg->serve.max_half_open;
	return h / 16 ? h / 16 : 1;
}

static void new_tunnel_datagram(struct srv *s, const struct sockaddr_storage *peer, socklen_t plen,
                                const uint8_t *buf, size_t len)
{
	char pt[80];
	struct stun tmp;
	tmp.peer = *peer;
	struct l2tp_msg m;
	struct diag_err err;
	if (l2tp_decode(buf, len, &m, &err) != 0) {
		s->st.malformed++;
		if (throttle(s))
			srv_log(s, SC_L2TP, false, NULL, NULL, "malformed datagram from %s dropped: offset %zu: %s",
			        srv_peer_text(&tmp, pt, sizeof pt), err.off, err.reason);
		return;
	}
	uint16_t ptid = 0;
	const struct l2tp_avp *av = l2tp_find_avp(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID);
	if (av && !av->hidden && av->val_len == 2) ptid = (uint16_t)(av->val[0] << 8 | av->val[1]);
	uint32_t h = fnv(buf, len);
	/* One pass over the half-open tunnels: the one this datagram belongs to (a
	 * retransmitted SCCRQ, or a message to tunnel 0 from a peer that could not read our
	 * Assigned Tunnel ID), how many this source holds, and the tunnel a full table would
	 * give up: the oldest of the source holding the most (the list is newest first). */
	unsigned held = 0;
	struct stun *victim = NULL;
	for (struct stun *t = s->half_open; t; t = t->ho_next) {
		if (!victim || t->ho_same >= victim->ho_same) victim = t;
		if (!same_source(&t->peer, peer)) continue;
		held++;
		if (!same_peer(&t->peer, peer)) continue;
		bool match = m.msg_type == L2TP_MSG_SCCRQ
		             ? (ptid ? t->sccrq_peer_tid == ptid : t->sccrq_hash == h)
		             : t->t.state == L2TP_TUN_WAIT_CTL_CONN;
		if (!match) continue;
		l2tp_ctrl_input(&t->t, buf, len, srv_now_ms());
		tunnel_check(t);
		return;
	}
	if (!m.is_control || m.msg_type != L2TP_MSG_SCCRQ || m.session_id != 0) {
		s->st.unknown_tunnel++;
		if (throttle(s))
			srv_log(s, SC_L2TP, false, NULL, NULL, "%s for tunnel 0 from %s that is not an SCCRQ, dropped",
			        m.is_control ? (l2tp_msg_name(m.msg_type) ? l2tp_msg_name(m.msg_type) : "control message")
			                     : "data message",
			        srv_peer_text(&tmp, pt, sizeof pt));
		return;
	}
	/* Admission. The half-open table is shared fairly between sources (same_source):
	 * one holds at most its share; when the table is full a newcomer takes the place of the
	 * oldest half-open tunnel of the source holding the most, provided that source
	 * holds more than the newcomer's does, else the SCCRQ is refused. A client with one
	 * tunnel in set-up thus loses it only to sources holding none, whatever the flood. */
	const struct serve_conf *sc = &s->cfg->serve;
	const char *why = NULL;
	bool evict = false;
	if (s->stopping) why = "the server is stopping";
	else if (!rate_ok(s, peer)) {
		s->st.refused_rate++;
		why = "too many new tunnels from this address (serve.limits.new_tunnels_per_source)";
	} else if (held >= half_open_share(s)) {
		s->st.refused_half_open++;
		why = "too many half-open tunnels from this address (its share is a sixteenth of "
		      "serve.limits.half_open)";
	} else if (s->nhalf_open >= (unsigned)sc->max_half_open &&
	           (!victim || victim->ho_same <= held)) {
		s->st.refused_half_open++;
		why = "too many tunnels half open (serve.limits.half_open)";
	} else {
		evict = s->nhalf_open >= (unsigned)sc->max_half_open;
		if (s->ntunnels - (evict ? 1 : 0) >= (unsigned)sc->max_tunnels) {
			s->st.refused_tunnels++;
			why = "tunnel limit reached (serve.limits.tunnels)";
		}
	}
	if (why) {
		if (throttle(s))
			srv_log(s, SC_L2TP, false, NULL, NULL, "SCCRQ from %s dropped: %s",
			        srv_peer_text(&tmp, pt, sizeof pt), why);
		return;
	}
	if (evict) {
		/* forgotten without a word: its address may be forged and is owed nothing */
		s->st.evicted_half_open++;
		if (throttle(s)) {
			char vt[80];
			srv_log(s, SC_L2TP, false, victim, NULL,
			        "half-open tunnel of %s (%u from that address) evicted for an SCCRQ from %s: "
			        "serve.limits.half_open reached", srv_peer_text(victim, vt, sizeof vt),
			        victim->ho_same, srv_peer_text(&tmp, pt, sizeof pt));
		}
		l2tp_ctrl_abort(&victim->t);
		tunnel_check(victim);
	}
	struct stun *t = tunnel_new(s, peer, plen);
	if (!t) {
		s->st.refused_tunnels++;
		return;
	}
	t->sccrq_peer_tid = ptid;
	t->sccrq_hash = h;
	l2tp_ctrl_input(&t->t, buf, len, srv_now_ms());
	if (t->t.state == L2TP_TUN_IDLE) {
		/* the automaton did not start a control connection with it (no sequence
		 * numbers, Ns other than 0): no state is kept for it */
		s->st.malformed++;
		if (throttle(s)) {
			if (!m.has_seq)
				srv_log(s, SC_L2TP, false, NULL, NULL,
				        "SCCRQ from %s without sequence numbers dropped",
				        srv_peer_text(&tmp, pt, sizeof pt));
			else
				srv_log(s, SC_L2TP, false, NULL, NULL,
				        "SCCRQ from %s with Ns %u dropped: a control connection starts at Ns 0",
				        srv_peer_text(&tmp, pt, sizeof pt), m.ns);
		}
		l2tp_ctrl_abort(&t->t);
	}
	tunnel_check(t);
}

void srv_datagram(struct srv *s, const struct sockaddr_storage *peer, socklen_t plen,
                  const uint8_t *buf, size_t n)
{
	s->st.rx_datagrams++;
	s->st.rx_bytes += (uint64_t)n;
	srv_capture(s, peer, false, buf, n);
	if (n < 6) {
		s->st.malformed++;
		return;
	}
	uint16_t tid = l2tp_ctrl_peek_tid(buf, n);
	if (tid == 0) {
		new_tunnel_datagram(s, peer, plen, buf, n);
		reap(s);
		return;
	}
	struct stun *t = s->tunnels[tid];
	if (!t || !same_host(&t->peer, peer)) {
		s->st.unknown_tunnel++;
		if (throttle(s)) {
			struct stun tmp;
			tmp.peer = *peer;
			char pt[80];
			srv_log(s, SC_L2TP, false, NULL, NULL, "datagram for unknown tunnel %u from %s dropped",
			        tid, srv_peer_text(&tmp, pt, sizeof pt));
		}
		return;
	}
	if (!same_peer(&t->peer, peer)) { /* the peer moved to another port */
		t->peer = *peer;
		t->peerlen = plen;
	}
	uint32_t bad = t->t.st.bad;
	l2tp_ctrl_input(&t->t, buf, n, srv_now_ms());
	if (t->t.st.bad != bad) s->st.malformed++;
	tunnel_check(t);
	reap(s);
}

static void udp_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct srv *s = arg;
	uint8_t buf[SRV_DGRAM_MAX];
	for (int burst = 0; burst < 64; burst++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof peer;
		/* MSG_TRUNC: n is the datagram's whole length, also when only sizeof buf was read */
		ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&peer, &plen);
		if (n < 0) break;
		if ((size_t)n > sizeof buf) {
			s->st.rx_datagrams++;
			s->st.rx_bytes += (uint64_t)n;
			struct stun tmp;
			tmp.peer = peer;
			char desc[112], pt[80];
			snprintf(desc, sizeof desc, "datagram from %s", srv_peer_text(&tmp, pt, sizeof pt));
			drop_oversized(s, NULL, desc, (size_t)n, sizeof buf);
			continue;
		}
		srv_datagram(s, &peer, plen, buf, (size_t)n);
	}
}

/* ---- start and stop ------------------------------------------------------------------- */
static int parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	unsigned port = 1701;
	const char *p = text;
	memset(ss, 0, sizeof *ss);
	if (*p == '[') {
		const char *e = strchr(p, ']');
		if (!e || (size_t)(e - p - 1) >= sizeof host) return -1;
		memcpy(host, p + 1, (size_t)(e - p - 1));
		host[e - p - 1] = 0;
		p = e + 1;
		if (*p == ':') {
			char *end;
			unsigned long v = strtoul(p + 1, &end, 10);
			if (*end || v > 65535 || end == p + 1) return -1;
			port = (unsigned)v;
		} else if (*p) {
			return -1;
		}
	} else {
		const char *c = strrchr(p, ':');
		if (c && strchr(p, ':') == c) {
			if ((size_t)(c - p) >= sizeof host) return -1;
			memcpy(host, p, (size_t)(c - p));
			host[c - p] = 0;
			char *end;
			unsigned long v = strtoul(c + 1, &end, 10);
			if (*end || v > 65535 || end == c + 1) return -1;
			port = (unsigned)v;
		} else {
			if (strlen(p) >= sizeof host) return -1;
			strcpy(host, p);
		}
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof *s4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof *s6;
		return 0;
	}
	return -1;
}

static void shutdown_cb(evutil_socket_t fd, short what, void *arg);

static void stop_all(struct srv *s, const char *why)
{
	if (s->stopping) return;
	s->stopping = true;
	srv_log(s, SC_MAIN, false, NULL, NULL, "stopping (%s): clearing %u tunnels", why, s->ntunnels);
	uint64_t now = srv_now_ms();
	for (unsigned i = 1; i < 65536; i++) {
		struct stun *t = s->tunnels[i];
		if (!t) continue;
		for (unsigned k = 0; k < L2TP_CTRL_CALLS; k++)
			if (t->sess[k]) snprintf(t->sess[k]->cause, sizeof t->sess[k]->cause, "server-shutdown");
		if (t->t.state == L2TP_TUN_ESTABLISHED || t->t.state == L2TP_TUN_WAIT_CTL_CONN)
			l2tp_ctrl_stop(&t->t, L2TP_STOP_SHUTDOWN, 0, "server shutting down", now);
		tunnel_check(t);
	}
	reap(s);
	/* give the StopCCNs a moment to be acknowledged, then leave */
	struct timeval tv = {1, 500000};
	event_base_once(s->base, -1, EV_TIMEOUT, shutdown_cb, s, &tv);
}

static void shutdown_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct srv *s = arg;
	event_base_loopexit(s->base, NULL);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct srv *s = arg;
	if (s->stopping) {
		event_base_loopexit(s->base, NULL);
		return;
	}
	stop_all(s, sig == SIGINT ? "SIGINT" : "SIGTERM");
}

static int setup_protocols(struct srv *s)
{
	const struct config *c = s->cfg;
	const struct serve_conf *sc = &c->serve;
	l2tp_ctrl_conf_default(&s->l2tp_conf, false);
	s->l2tp_conf.host_name = sc->host_name ? sc->host_name : c->server.name;
	s->l2tp_conf.vendor_name = "vnet";
	if (sc->secret) {
		s->l2tp_conf.secret = (const uint8_t *)sc->secret;
		s->l2tp_conf.secret_len = strlen(sc->secret);
		s->l2tp_conf.hide_avps = sc->hide_avps;
	}
	s->l2tp_conf.hello_ms = (uint32_t)sc->hello_interval * 1000;
	s->l2tp_conf.max_retries = (uint8_t)sc->retries;
	s->l2tp_conf.rto_max_ms = (uint32_t)sc->rto_max * 1000;
	s->l2tp_conf.max_calls = L2TP_CTRL_CALLS;

	struct ppp_session_conf *p = &s->ppp_conf;
	ppp_session_conf_default(p, true);
	p->mru = (uint16_t)sc->mru;
	p->echo_interval_ms = (uint32_t)sc->echo_interval * 1000;
	p->echo_fail_max = (uint8_t)sc->echo_failures;
	p->auth.name = s->l2tp_conf.host_name;
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
	if (!m) {
		fprintf(stderr, "vnet: %s: server.auth_methods enables none of pap, chap, mschapv2: "
		        "no PPP client could authenticate\n", s->config_name);
		return -1;
	}
	/* MPPE: the levels the server enables; without "none" every link must encrypt */
	uint32_t em = c->server.enc_mask;
	p->mppe_levels = (em >> ENC_BASIC & 1 ? MPPE_BIT_L : 0) | (em >> ENC_STRONG & 1 ? MPPE_BIT_M : 0) |
	                 (em >> ENC_STRONGEST & 1 ? MPPE_BIT_S : 0);
	p->mppe_required = !(em >> ENC_NONE & 1) && p->mppe_levels;
	p->mppe_stateless = true;
	/* addresses */
	if (addr_pool_init(&s->pool, &c->server) != 0) {
		fprintf(stderr, "vnet: %s: server.pool is too large (at most 2^24 addresses)\n",
		        s->config_name);
		return -1;
	}
	if (sc->has_local_address) s->local_addr = sc->local_address;
	else if (addr_pool_server(&s->pool)) s->local_addr = addr_pool_server(&s->pool);
	else if (c->server.naddresses) s->local_addr = c->server.addresses[0];
	else s->local_addr = 0x0a000001; /* 10.0.0.1 */
	p->local_addr = s->local_addr;
	p->dns[0] = sc->dns[0];
	p->dns[1] = sc->dns[1];
	p->wins[0] = sc->wins[0];
	p->wins[1] = sc->wins[1];
	return 0;
}

struct srv *srv_create(const struct server_opts *o, const char *config_text, size_t len)
{
	struct srv *s = calloc(1, sizeof *s);
	if (!s) return NULL;
	s->fd = s->ctl_fd = -1;
	s->debug = o->debug;
	s->quiet = o->quiet;
	s->started = time(NULL);
	snprintf(s->run_id, sizeof s->run_id, "%lld-%d", (long long)s->started, (int)getpid());
	struct config_problems probs = {0};
	s->cfg = config_text ? config_load_mem("(memory)", config_text, len, &probs)
	                     : config_load(o->config_path, &probs);
	if (!s->cfg) {
		if (!s->quiet)
			config_problems_print(&probs, o->config_path ? o->config_path : "(embedded)");
		config_problems_free(&probs);
		free(s);
		return NULL;
	}
	config_problems_free(&probs);
	s->config_name = s->cfg->file;
	const struct serve_conf *sc = &s->cfg->serve;
	s->sess_cap = (unsigned)sc->max_sessions + 1;
	s->tunnels = calloc(65536, sizeof *s->tunnels);
	s->sessions = calloc(s->sess_cap, sizeof *s->sessions);
	s->base = event_base_new();
	if (!s->tunnels || !s->sessions || !s->base || policy_result_init(&s->pres, s->cfg) != 0) {
		fprintf(stderr, "vnet: out of memory\n");
		srv_destroy(s);
		return NULL;
	}
	s->pres.full_trace = true;
	if (setup_protocols(s) != 0) {
		srv_destroy(s);
		return NULL;
	}
	/* the address until a socket is bound (the fuzz harness never binds one) */
	parse_listen("127.0.0.1:1701", &s->local, &s->locallen);
	snprintf(s->local_text, sizeof s->local_text, "127.0.0.1:1701");
	snprintf(s->local_ip, sizeof s->local_ip, "127.0.0.1");
	return s;
}

int server_run(const struct server_opts *o)
{
	struct srv *s = srv_create(o, NULL, 0);
	if (!s) return 2;
	int rc = 2;
	const struct serve_conf *sc = &s->cfg->serve;

	const char *listen = o->listen ? o->listen : sc->listen ? sc->listen : "127.0.0.1:1701";
	if (parse_listen(listen, &s->local, &s->locallen) != 0) {
		fprintf(stderr, "vnet: --listen %s: expected ADDR[:PORT] (an IPv4 address, or an IPv6 "
		        "address in brackets when a port follows)\n", listen);
		goto out;
	}
	s->family = s->local.ss_family;
	s->fd = socket(s->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&s->local, s->locallen) != 0) {
		fprintf(stderr, "vnet: cannot listen on %s: %s\n", listen, strerror(errno));
		goto out;
	}
	int rcvbuf = 4 << 20;
	setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	s->locallen = sizeof s->local;
	getsockname(s->fd, (struct sockaddr *)&s->local, &s->locallen);
	{
		struct stun tmp;
		tmp.peer = s->local;
		srv_peer_text(&tmp, s->local_text, sizeof s->local_text);
		peer_ip(&s->local, s->local_ip, sizeof s->local_ip);
	}
	if (o->capture && srv_capture_open(s, o->capture) != 0) goto out;
	const char *acct = o->accounting ? o->accounting : sc->accounting_path;
	if (acct && srv_acct_open(s, acct) != 0) goto out;
	char ctlbuf[512];
	const char *ctl = o->control ? o->control : srv_ctl_default_path(ctlbuf, sizeof ctlbuf);
	if (srv_ctl_open(s, ctl) != 0) goto out;
	/* server_tun.c: a TUN the operator's configuration names must work */
	if (srv_tun_open(s, o->config_path != NULL) != 0) goto out;

	s->ev_udp = event_new(s->base, s->fd, EV_READ | EV_PERSIST, udp_cb, s);
	s->ev_sigint = evsignal_new(s->base, SIGINT, signal_cb, s);
	s->ev_sigterm = evsignal_new(s->base, SIGTERM, signal_cb, s);
	if (!s->ev_udp || !s->ev_sigint || !s->ev_sigterm) goto out;
	s->ev_tick = event_new(s->base, -1, EV_PERSIST, tick_cb, s);
	if (!s->ev_tick) goto out;
	struct timeval second = {1, 0};
	event_add(s->ev_tick, &second);
	event_add(s->ev_udp, NULL);
	event_add(s->ev_sigint, NULL);
	event_add(s->ev_sigterm, NULL);
	signal(SIGPIPE, SIG_IGN);
	char la[20];
	srv_log(s, SC_MAIN, false, NULL, NULL,
	        "vnet serve: configuration %s, %d L2TP ports, pool of %llu addresses, server address %s",
	        s->config_name, s->cfg->server.ports[TUN_L2TP], (unsigned long long)s->pool.size,
	        ipv4_str(s->local_addr, la, sizeof la));
	srv_log(s, SC_MAIN, false, NULL, NULL, "control socket %s", s->ctl_path);
	srv_log(s, SC_MAIN, false, NULL, NULL, "listening on %s", s->local_text);
	event_base_dispatch(s->base);
	rc = 0;
	srv_log(s, SC_MAIN, false, NULL, NULL, "stopped: %llu sessions served, %llu rejected",
	        (unsigned long long)s->st.sessions_up, (unsigned long long)s->st.sessions_rejected);
out:
	srv_destroy(s);
	return rc;
}

void srv_destroy(struct srv *s)
{
	if (s->tunnels) {
		for (unsigned i = 1; i < 65536; i++) {
			struct stun *t = s->tunnels[i];
			if (!t) continue;
			for (unsigned k = 0; k < L2TP_CTRL_CALLS; k++)
				if (t->sess[k]) {
					if (!t->sess[k]->cause[0])
						snprintf(t->sess[k]->cause, sizeof t->sess[k]->cause, "server-shutdown");
					sess_end(t->sess[k], t->sess[k]->cause);
				}
			s->tunnels[i] = NULL;
			event_free(t->timer);
			free(t);
		}
	}
	reap(s);
	srv_tun_close(s); /* server_tun.c */
	srv_ctl_close(s);
	srv_acct_close(s);
	srv_capture_close(s);
	if (s->ev_udp) event_free(s->ev_udp);
	if (s->ev_tick) event_free(s->ev_tick);
	if (s->ev_sigint) event_free(s->ev_sigint);
	if (s->ev_sigterm) event_free(s->ev_sigterm);
	if (s->base) event_base_free(s->base);
	if (s->fd >= 0) close(s->fd);
	policy_result_free(&s->pres);
	addr_pool_free(&s->pool);
	free(s->tunnels);
	free(s->sessions);
	config_free(s->cfg);
	free(s);
}
