/* RADIUS in `vnet serve` (server.h): the sockets of vnet's own RADIUS server
 * (serve.radius_server, the decisions in engine/radius/nps.h) and of its RADIUS client
 * (server.auth_provider radius, the requests in engine/radius/client.h): the
 * Access-Request of each admission, the verdict applied to the session, accounting
 * Start / Interim-Update / Stop, the queue of accounting kept on disk while no server
 * answers; and the RFC 5176 dynamic authorization port (server.radius.
 * dynamic_authorization, engine/radius/dae.h): Disconnect-Request and CoA-Request applied
 * to the sessions. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "radius.h"
#include "ppp.h"
#include "radius/client.h"
#include "radius/dae.h"
#include "radius/nps.h"

/* What the RADIUS client keeps per session, in the slot of the session's number. */
struct srv_radius_sess {
	uint32_t id;                 /* the session's number, 0: free */
	bool pending;                /* an Access-Request is out */
	uint8_t class_len;
	uint8_t class_[253];         /* Class of the Access-Accept, echoed in accounting */
	uint64_t next_interim;       /* ms, 0 none */
};

struct srv_radius {
	struct nps nps;              /* the RADIUS server's decisions */
	bool nps_on;
	/* the RADIUS client */
	struct radc radc;
	bool radc_on;
	struct sockaddr_storage addr[RADC_MAX_SERVERS][2]; /* authentication, accounting */
	struct srv_listener *sock4, *sock6;
	struct srv_radius_sess *sess; /* [sess_cap] */
	struct event *ev_timer;
	bool queue_dirty;
	uint64_t send_errors;
	/* the dynamic authorization port */
	struct dae dae;
	bool dae_on;
};

/* ---- the RADIUS server --------------------------------------------------------------- */
static void nps_log(void *ctx, bool debug_only, const char *text)
{
	srv_log(ctx, SC_RADIUS, debug_only, NULL, NULL, "%s", text);
}

static void nps_random(void *ctx, uint8_t *buf, size_t n)
{
	srv_random(ctx, buf, n);
}

static time_t nps_wall(void *ctx)
{
	(void)ctx;
	return time(NULL);
}

static void nps_accounting(void *ctx, const struct nps_client *c, const struct radius_msg *m)
{
	srv_acct_radius(ctx, c->name, m);
}

static bool nps_throttle(void *ctx)
{
	return srv_throttle(ctx);
}

static const struct nps_cbs nps_cbs = {
	.log = nps_log, .random = nps_random, .wall = nps_wall, .accounting = nps_accounting,
	.throttle = nps_throttle,
};

/* A listener that answers each request on its own (the RADIUS server, the dynamic
 * authorization port) is readable: up to 64 datagrams, RADIUS_BATCH a recvmmsg, the
 * answers of each batch leaving with one sendmmsg. */
#define RADIUS_BATCH 32
typedef size_t (*radius_answer_fn)(struct srv_radius *r, const struct sockaddr_storage *peer,
                                   const uint8_t *pkt, size_t len, uint64_t now, uint8_t *out,
                                   size_t cap);

static void radius_rx(struct srv *s, struct srv_listener *l, radius_answer_fn answer,
                      uint64_t *too_long)
{
	static uint8_t in[RADIUS_BATCH][RADIUS_MAX_LEN], out[RADIUS_BATCH][RADIUS_MAX_LEN];
	struct sockaddr_storage peer[RADIUS_BATCH];
	struct iovec iv[RADIUS_BATCH], ov[RADIUS_BATCH];
	struct mmsghdr rm[RADIUS_BATCH], sm[RADIUS_BATCH];
	for (int round = 0; round < 64 / RADIUS_BATCH; round++) {
		for (unsigned i = 0; i < RADIUS_BATCH; i++) {
			iv[i] = (struct iovec){.iov_base = in[i], .iov_len = sizeof in[i]};
			rm[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &peer[i],
			                                     .msg_namelen = sizeof peer[i],
			                                     .msg_iov = &iv[i], .msg_iovlen = 1}};
		}
		/* MSG_TRUNC: msg_len is the datagram's whole length, also when it was cut */
		int got = recvmmsg(l->fd, rm, RADIUS_BATCH, MSG_TRUNC | MSG_DONTWAIT, NULL);
		if (got <= 0) break;
		uint64_t now = srv_now_ms();
		unsigned ns = 0;
		for (int i = 0; i < got; i++) {
			if (rm[i].msg_len > RADIUS_MAX_LEN) {
				(*too_long)++;
				continue; /* longer than RFC 2865 allows: never passed on cut */
			}
			size_t an = answer(s->radius, &peer[i], in[i], rm[i].msg_len, now, out[ns],
			                   sizeof out[ns]);
			if (!an) continue;
			ov[ns] = (struct iovec){.iov_base = out[ns], .iov_len = an};
			sm[ns] = (struct mmsghdr){.msg_hdr = {.msg_name = &peer[i],
			                                      .msg_namelen = rm[i].msg_hdr.msg_namelen,
			                                      .msg_iov = &ov[ns], .msg_iovlen = 1}};
			ns++;
		}
		for (unsigned done = 0, guard = 0; done < ns && guard <= RADIUS_BATCH; guard++) {
			int w = sendmmsg(l->fd, sm + done, ns - done, 0);
			if (w < 0 && errno == EINTR) continue;
			if (w <= 0) { /* this answer failed: say so, go on with the next */
				srv_log(s, SC_RADIUS, true, NULL, NULL, "radius: sendmmsg: %s", strerror(errno));
				done++;
				continue;
			}
			done += (unsigned)w;
		}
		if (got < RADIUS_BATCH) break;
	}
}

static size_t nps_answer(struct srv_radius *r, const struct sockaddr_storage *peer,
                         const uint8_t *pkt, size_t len, uint64_t now, uint8_t *out, size_t cap)
{
	return nps_input(&r->nps, peer, pkt, len, now, out, cap);
}

static void nps_read(struct srv *s, struct srv_listener *l)
{
	radius_rx(s, l, nps_answer, &s->radius->nps.st.malformed);
}

static int bind_udp(const char *text, unsigned port, int *fd, char *shown, size_t n)
{
	struct sockaddr_storage ss;
	unsigned len = 0;
	if (net_hostport_parse(text, port, &ss, &len) != 0) return -1;
	*fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&ss, len) != 0) {
		fprintf(stderr, "vnet: cannot listen on %s: %s\n", text, strerror(errno));
		return -1;
	}
	/* room for the bursts of many NAS (as the L2TP listener has): a datagram that finds
	 * the buffer full is lost and asked again only after the client's timeout */
	int rcvbuf = 4 << 20;
	setsockopt(*fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	socklen_t sl = sizeof ss;
	getsockname(*fd, (struct sockaddr *)&ss, &sl);
	net_sockaddr_text(&ss, shown, n);
	return 0;
}

static int nps_open(struct srv *s)
{
	const struct serve_conf *sc = &s->cfg->serve;
	struct srv_radius *r = s->radius;
	if (nps_init(&r->nps, s->cfg, &s->pres, &s->pool, &nps_cbs, s) != 0) {
		fprintf(stderr, "vnet: out of memory\n");
		return -1;
	}
	r->nps_on = true;
	const char *addrs[2] = {sc->radius_listen, sc->radius_acct_listen};
	for (int i = 0; i < 2; i++) {
		if (!addrs[i]) continue;
		struct srv_listener *l = srv_listener_add(s, SRV_PROTO_RADIUS, nps_read);
		char shown[80];
		if (!l) {
			fprintf(stderr, "vnet: too many listeners\n");
			return -1;
		}
		if (bind_udp(addrs[i], i ? 1813 : 1812, &l->fd, shown, sizeof shown) != 0) return -1;
		srv_log(s, SC_MAIN, false, NULL, NULL, "RADIUS server listening on %s (%zu clients)",
		        shown, sc->nnps_clients);
	}
	return 0;
}

/* ---- the RADIUS client ----------------------------------------------------------------- */
static void radc_log(void *ctx, bool debug_only, const char *text)
{
	srv_log(ctx, SC_RADIUS, debug_only, NULL, NULL, "%s", text);
}

static void radc_random(void *ctx, uint8_t *buf, size_t n)
{
	srv_random(ctx, buf, n);
}

static void radc_send(void *ctx, unsigned server, bool acct, const uint8_t *pkt, size_t len)
{
	struct srv *s = ctx;
	struct srv_radius *r = s->radius;
	const struct sockaddr_storage *to = &r->addr[server][acct];
	struct srv_listener *l = to->ss_family == AF_INET6 ? r->sock6 : r->sock4;
	socklen_t tl = to->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (!l || l->fd < 0 || sendto(l->fd, pkt, len, 0, (const struct sockaddr *)to, tl) < 0) {
		r->send_errors++;
		srv_log(s, SC_RADIUS, true, NULL, NULL, "sendto RADIUS server %u: %s", server,
		        strerror(errno));
	}
}

static struct srv_radius_sess *sess_of(struct srv *s, uint32_t id)
{
	struct srv_radius_sess *x = &s->radius->sess[id % s->sess_cap];
	return x->id == id ? x : NULL;
}

static uint32_t be32(const struct radius_attr *a)
{
	return (uint32_t)a->val[0] << 24 | (uint32_t)a->val[1] << 16 | (uint32_t)a->val[2] << 8 |
	       a->val[3];
}

/* The verdict of an Access-Accept or -Reject (NULL: no server answered). */
static void radc_auth_done(void *ctx, uint64_t cookie, const struct radc_answer *a)
{
	struct srv *s = ctx;
	uint32_t id = (uint32_t)(cookie >> 8);
	unsigned seq = (unsigned)(cookie & 0xff);
	struct ras_session *rs = s->sessions[id % s->sess_cap];
	struct srv_radius_sess *x = sess_of(s, id);
	if (!rs || rs->id != id || !x) return; /* the session is gone */
	x->pending = false;
	struct ras_verdict v = {.policy = -1, .win_error = 691, .reason = "radius-reject"};
	static char success[43], message[100];
	static uint8_t send[16], recv[16];
	char ut[SRV_USER_TEXT];
	srv_user_text(ras_session_peer_user(rs), ut, sizeof ut);
	if (!a) {
		v.win_error = 930; /* ERROR_AUTH_SERVER_TIMEOUT */
		v.reason = "radius-no-answer";
		v.message = "the authentication server did not answer";
		v.detail = "no RADIUS server answered the Access-Request";
		srv_session_resume(s, rs, seq, &v);
		return;
	}
	const struct radius_msg *m = a->m;
	const struct radius_attr *rm = radius_find(m, RADIUS_ATTR_REPLY_MESSAGE);
	if (rm) {
		text_printable(rm->val, rm->vlen, message, sizeof message);
		v.message = message;
	}
	if (m->code != RADIUS_ACCESS_ACCEPT) {
		const struct radius_attr *e = radius_find_vsa(m, RADIUS_VENDOR_MICROSOFT, MS_CHAP_ERROR);
		struct mschap_failure f;
		if (e && e->vlen > 1 && mschap_parse_failure(e->val + 1, e->vlen - 1, &f) == 0 &&
		    f.has_error && f.error > 0 && f.error < 1000)
			v.win_error = (int)f.error;
		v.detail = m->code == RADIUS_ACCESS_CHALLENGE
		           ? "the RADIUS server answered Access-Challenge, which PPP cannot carry"
		           : "the RADIUS server answered Access-Reject";
		srv_session_resume(s, rs, seq, &v);
		return;
	}
	v.accept = true;
	v.win_error = 0;
	v.reason = NULL;
	v.message = NULL;
	v.detail = "the RADIUS server answered Access-Accept";
	v.server_checked = true;
	v.address_from_pool = true;
	const struct radius_attr *fip = radius_find(m, RADIUS_ATTR_FRAMED_IP_ADDRESS);
	if (fip && fip->vlen == 4 && be32(fip) != 0xffffffffu && be32(fip) != 0xfffffffeu &&
	    be32(fip) != 0) {
		v.address_from_pool = false;
		v.address = be32(fip);
	}
	const struct radius_attr *st = radius_find(m, RADIUS_ATTR_SESSION_TIMEOUT);
	const struct radius_attr *it = radius_find(m, RADIUS_ATTR_IDLE_TIMEOUT);
	if (st && st->vlen == 4 && be32(st)) v.session_timeout = (int)((be32(st) + 59) / 60);
	if (it && it->vlen == 4 && be32(it)) v.idle_timeout = (int)((be32(it) + 59) / 60);
	/* the levels of MS-MPPE-Encryption-Policy and -Types, else the server's own */
	v.enc_allowed = s->cfg->server.enc_mask;
	const struct radius_attr *ep = radius_find_vsa(m, RADIUS_VENDOR_MICROSOFT,
	                                               MS_MPPE_ENCRYPTION_POLICY);
	const struct radius_attr *et = radius_find_vsa(m, RADIUS_VENDOR_MICROSOFT,
	                                               MS_MPPE_ENCRYPTION_TYPES);
	if (et && et->vlen == 4) {
		uint32_t t = be32(et);
		v.enc_allowed = (t & 0x2 ? 1u << ENC_BASIC : 0) | (t & 0x8 ? 1u << ENC_STRONG : 0) |
		                (t & 0x4 ? 1u << ENC_STRONGEST : 0) | 1u << ENC_NONE;
	}
	if (ep && ep->vlen == 4 && be32(ep) == 2) v.enc_allowed &= ~(1u << ENC_NONE);
	const struct radius_attr *ok = radius_find_vsa(m, RADIUS_VENDOR_MICROSOFT, MS_CHAP2_SUCCESS);
	if (rs->method == PPP_AUTH_MSCHAPV2) {
		if (!ok || ok->vlen != 43 || ok->val[1] != 'S' || ok->val[2] != '=') {
			v = (struct ras_verdict){.policy = -1, .win_error = 691, .reason = "radius-no-success",
				.detail = "the Access-Accept for MS-CHAPv2 has no MS-CHAP2-Success"};
			srv_session_resume(s, rs, seq, &v);
			return;
		}
		memcpy(success, ok->val + 1, 42);
		success[42] = 0;
		v.mschap2_success = success;
		v.server_checked = false; /* the S= proves it */
		const struct radius_attr *sk = radius_find_vsa(m, RADIUS_VENDOR_MICROSOFT, MS_MPPE_SEND_KEY);
		const struct radius_attr *rk = radius_find_vsa(m, RADIUS_VENDOR_MICROSOFT, MS_MPPE_RECV_KEY);
		uint8_t kb[64];
		if (sk && rk &&
		    radius_ms_mppe_key_decrypt(sk->val, sk->vlen, a->secret, a->secret_len, a->req_auth,
		                               kb, sizeof kb) >= 16) {
			memcpy(send, kb, 16);
			if (radius_ms_mppe_key_decrypt(rk->val, rk->vlen, a->secret, a->secret_len,
			                               a->req_auth, kb, sizeof kb) >= 16) {
				memcpy(recv, kb, 16);
				v.mppe_send_key = send;
				v.mppe_recv_key = recv;
			}
		}
		OPENSSL_cleanse(kb, sizeof kb);
	}
	const struct radius_attr *cl = radius_find(m, RADIUS_ATTR_CLASS);
	x->class_len = 0;
	if (cl && cl->vlen <= sizeof x->class_) {
		memcpy(x->class_, cl->val, cl->vlen);
		x->class_len = (uint8_t)cl->vlen;
	}
	srv_session_resume(s, rs, seq, &v);
	OPENSSL_cleanse(send, sizeof send);
	OPENSSL_cleanse(recv, sizeof recv);
}

/* ---- the accounting queue on disk: one record a line, "DELAY HEX" -------------------- */
static void queue_line(void *arg, const uint8_t *body, size_t len, uint32_t delay)
{
	FILE *f = arg;
	fprintf(f, "%u ", delay);
	for (size_t i = 0; i < len; i++) fprintf(f, "%02x", body[i]);
	fputc('\n', f);
}

static void queue_save(struct srv *s)
{
	const char *path = s->cfg->server.radius_conf.queue_path;
	struct srv_radius *r = s->radius;
	r->queue_dirty = false;
	if (!path) return;
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.new", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		srv_log(s, SC_RADIUS, false, NULL, NULL, "cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	radc_queue_each(&r->radc, srv_now_ms(), queue_line, f);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 || rename(tmp, path) != 0)
		srv_log(s, SC_RADIUS, false, NULL, NULL, "cannot write %s: %s", path, strerror(errno));
}

static void radc_queue_changed(void *ctx)
{
	struct srv *s = ctx;
	s->radius->queue_dirty = true;
}

/* Records an earlier run left: bounded by the queue's size and the line length. */
static void queue_load(struct srv *s, uint64_t now)
{
	const char *path = s->cfg->server.radius_conf.queue_path;
	if (!path) return;
	FILE *f = fopen(path, "r");
	if (!f) return;
	static char line[2 * RADIUS_MAX_LEN + 32];
	unsigned long long n = 0, bad = 0;
	while (fgets(line, sizeof line, f)) {
		size_t l = strlen(line);
		if (l && line[l - 1] == '\n') line[--l] = 0;
		else if (!feof(f)) { /* longer than any record: skip the rest of it */
			int ch;
			while ((ch = fgetc(f)) != EOF && ch != '\n') {}
			bad++;
			continue;
		}
		char *sp = strchr(line, ' ');
		struct radc_body b = {.n = 0};
		long hl = sp ? hex_field(sp + 1, strlen(sp + 1), b.b, sizeof b.b) : -1;
		if (hl < 0) {
			bad++;
			continue;
		}
		b.n = (size_t)hl;
		unsigned long delay = strtoul(line, NULL, 10);
		radc_acct(&s->radius->radc, &b, delay > UINT32_MAX ? UINT32_MAX : (uint32_t)delay, now);
		n++;
	}
	fclose(f);
	if (n || bad)
		srv_log(s, SC_RADIUS, false, NULL, NULL, "accounting queue %s: %llu records of an earlier "
		        "run taken up%s", path, n, bad ? " (unreadable lines skipped)" : "");
}

/* ---- requests of the sessions ------------------------------------------------------------- */
/* How this NAS names itself: its NAS-Identifier (NULL: none) and NAS-IP-Address (*ip, 0:
 * none). */
static const char *nas_identity(const struct srv *s, uint32_t *ip)
{
	const struct config *c = s->cfg;
	const struct radius_client_conf *rc = &c->server.radius_conf;
	struct in_addr ia;
	*ip = 0;
	if (rc->has_nas_ip) *ip = rc->nas_ip;
	else if (inet_pton(AF_INET, s->local_ip, &ia) == 1) *ip = ntohl(ia.s_addr);
	return rc->nas_identifier ? rc->nas_identifier
	       : c->serve.host_name ? c->serve.host_name : c->server.name;
}

/* The Acct-Session-Id of a session. */
static int acct_session_id(const struct srv *s, const struct ras_session *rs, char *buf,
                           size_t n)
{
	return snprintf(buf, n, "%s-%u", s->run_id, rs->id);
}

static void common_attrs(struct srv *s, const struct ras_session *rs, struct radc_body *b)
{
	uint32_t nip;
	const char *nas_id = nas_identity(s, &nip);
	if (nas_id) radc_body_put(b, RADIUS_ATTR_NAS_IDENTIFIER, nas_id, strlen(nas_id));
	if (nip) radc_body_u32(b, RADIUS_ATTR_NAS_IP_ADDRESS, nip);
	radc_body_u32(b, RADIUS_ATTR_NAS_PORT, rs->id);
	radc_body_u32(b, RADIUS_ATTR_NAS_PORT_TYPE, 5);     /* Virtual */
	radc_body_u32(b, RADIUS_ATTR_SERVICE_TYPE, 2);      /* Framed */
	if (!rs->ops->ip) radc_body_u32(b, RADIUS_ATTR_FRAMED_PROTOCOL, 1); /* PPP; IKEv2 none */
	static const uint8_t tt[4] = {0, 0, 0, 3}, tm[4] = {0, 0, 0, 1}; /* L2TP over IPv4 */
	radc_body_put(b, RADIUS_ATTR_TUNNEL_TYPE, tt, 4);
	radc_body_put(b, RADIUS_ATTR_TUNNEL_MEDIUM_TYPE, tm, 4);
	char ip[64] = "";
	if (rs->ops->peer_ip) rs->ops->peer_ip(rs, ip, sizeof ip);
	if (ip[0]) radc_body_put(b, RADIUS_ATTR_CALLING_STATION_ID, ip, strlen(ip));
	radc_body_put(b, RADIUS_ATTR_CALLED_STATION_ID, s->local_ip, strlen(s->local_ip));
	char sid[64];
	int n = acct_session_id(s, rs, sid, sizeof sid);
	radc_body_put(b, RADIUS_ATTR_ACCT_SESSION_ID, sid, (size_t)n);
	const uint8_t *u = (const uint8_t *)ras_session_peer_user(rs);
	size_t ul = strlen(ras_session_peer_user(rs));
	radc_body_put(b, RADIUS_ATTR_USER_NAME, u, ul > 253 ? 253 : ul);
}

enum ras_admit_rc srv_radius_authorize(void *ctx, struct ras_session *rs,
                                       const struct ras_auth_req *q, struct ras_verdict *v)
{
	struct srv *s = ctx;
	struct srv_radius *r = s->radius;
	if (!r || !r->radc_on) {
		ras_session_admit_local(rs, q, v);
		return RAS_ADMIT_NOW;
	}
	const struct ppp_auth *a = q->auth;
	struct radc_body b = {.n = 0};
	common_attrs(s, rs, &b);
	const uint8_t *pw = NULL;
	size_t pwl = 0;
	*v = (struct ras_verdict){.policy = -1, .win_error = 691, .reason = "radius-request"};
	if (!a->given) {
		v->detail = "no credentials to forward (an unreadable user name, or another user "
		            "than the link's)";
		return RAS_ADMIT_NOW;
	}
	switch (q->method) {
	case PPP_AUTH_PAP:
		if (a->given_len > 128) {
			v->detail = "the password is longer than RADIUS carries (128 bytes)";
			return RAS_ADMIT_NOW;
		}
		pw = a->given;
		pwl = a->given_len;
		break;
	case PPP_AUTH_CHAP_MD5: {
		uint8_t cp[17];
		if (a->given_len != 16) {
			v->detail = "no CHAP response to forward";
			return RAS_ADMIT_NOW;
		}
		cp[0] = a->id;
		memcpy(cp + 1, a->given, 16);
		radc_body_put(&b, RADIUS_ATTR_CHAP_PASSWORD, cp, sizeof cp);
		radc_body_put(&b, RADIUS_ATTR_CHAP_CHALLENGE, a->challenge, 16);
		break;
	}
	case PPP_AUTH_MSCHAPV2: {
		uint8_t resp[50];
		memset(resp, 0, sizeof resp);
		resp[0] = a->id;
		memcpy(resp + 2, a->peer_challenge, 16);
		memcpy(resp + 26, a->nt_response, 24);
		radc_body_ms(&b, MS_CHAP_CHALLENGE, a->challenge, 16);
		radc_body_ms(&b, MS_CHAP2_RESPONSE, resp, sizeof resp);
		break;
	}
	default:
		v->detail = "no method RADIUS can carry";
		return RAS_ADMIT_NOW;
	}
	struct srv_radius_sess *x = &r->sess[rs->id % s->sess_cap];
	memset(x, 0, sizeof *x);
	x->id = rs->id;
	x->pending = true;
	bool busy = false;
	radc_auth(&r->radc, (uint64_t)rs->id << 8 | (rs->admit_seq & 0xff), &b, pw, pwl,
	          srv_now_ms(), &busy);
	if (busy) {
		x->pending = false;
		v->win_error = 930;
		v->detail = "too many Access-Requests in flight";
		return RAS_ADMIT_NOW;
	}
	char ut[SRV_USER_TEXT];
	srv_log(s, SC_RADIUS, false, NULL, rs, "session %u: Access-Request user=%s method=%s sent",
	        rs->id, srv_user_text(ras_session_peer_user(rs), ut, sizeof ut),
	        srv_tok(ppp_auth_method_names, q->method));
	return RAS_ADMIT_PENDING;
}

/* RFC 2866 5.10 for how a session ended. */
static uint32_t terminate_cause(const struct ras_session *rs)
{
	switch ((enum ras_cause)rs->cause) {
	case RAS_CAUSE_PPP_TERMINATED: return RADIUS_TC_USER_REQUEST;
	case RAS_CAUSE_LOWER: return RADIUS_TC_LOST_CARRIER;
	case RAS_CAUSE_TUNNEL_CLOSED: return RADIUS_TC_LOST_SERVICE;
	case RAS_CAUSE_IDLE_TIMEOUT: return RADIUS_TC_IDLE_TIMEOUT;
	case RAS_CAUSE_SESSION_TIMEOUT: return RADIUS_TC_SESSION_TIMEOUT;
	case RAS_CAUSE_ADMIN: return RADIUS_TC_ADMIN_RESET;
	case RAS_CAUSE_SHUTDOWN: return RADIUS_TC_ADMIN_REBOOT;
	case RAS_CAUSE_ENCRYPTION: return RADIUS_TC_SERVICE_UNAVAILABLE;
	case RAS_CAUSE_PPP_ERROR: return RADIUS_TC_PORT_ERROR;
	default: return RADIUS_TC_NAS_REQUEST;
	}
}

static void account(struct srv *s, const struct ras_session *rs, uint32_t status)
{
	struct srv_radius *r = s->radius;
	struct srv_radius_sess *x = sess_of(s, rs->id);
	struct radc_body b = {.n = 0};
	radc_body_u32(&b, RADIUS_ATTR_ACCT_STATUS_TYPE, status);
	common_attrs(s, rs, &b);
	radc_body_u32(&b, RADIUS_ATTR_ACCT_AUTHENTIC, 1); /* RADIUS */
	if (rs->addr) radc_body_u32(&b, RADIUS_ATTR_FRAMED_IP_ADDRESS, rs->addr);
	if (x && x->class_len) radc_body_put(&b, RADIUS_ATTR_CLASS, x->class_, x->class_len);
	if (status != RADIUS_ACCT_START) {
		uint64_t now = srv_now_ms();
		radc_body_u32(&b, RADIUS_ATTR_ACCT_SESSION_TIME, (uint32_t)((now - rs->up_ms) / 1000));
		radc_body_u32(&b, RADIUS_ATTR_ACCT_INPUT_OCTETS, (uint32_t)rs->rx_bytes);
		radc_body_u32(&b, RADIUS_ATTR_ACCT_OUTPUT_OCTETS, (uint32_t)rs->tx_bytes);
		radc_body_u32(&b, RADIUS_ATTR_ACCT_INPUT_PACKETS, (uint32_t)rs->rx_pkts);
		radc_body_u32(&b, RADIUS_ATTR_ACCT_OUTPUT_PACKETS, (uint32_t)rs->tx_pkts);
	}
	if (status == RADIUS_ACCT_STOP) {
		uint32_t tc = terminate_cause(rs);
		radc_body_u32(&b, RADIUS_ATTR_ACCT_TERMINATE_CAUSE, tc);
		srv_log(s, SC_RADIUS, false, NULL, rs, "session %u: accounting Stop (%s)", rs->id,
		        srv_tok(radius_terminate_cause_names, tc));
	} else if (status == RADIUS_ACCT_START) {
		srv_log(s, SC_RADIUS, false, NULL, rs, "session %u: accounting Start", rs->id);
	}
	radc_acct(&r->radc, &b, 0, srv_now_ms());
}

void srv_radius_session_event(struct srv *s, struct ras_session *rs, enum ras_event ev)
{
	struct srv_radius *r = s->radius;
	if (!r || !r->radc_on) return;
	struct srv_radius_sess *x = sess_of(s, rs->id);
	const struct radius_client_conf *rc = &s->cfg->server.radius_conf;
	switch (ev) {
	case RAS_EV_UP:
		account(s, rs, RADIUS_ACCT_START);
		if (x && rc->interim) x->next_interim = srv_now_ms() + (uint64_t)rc->interim * 1000;
		break;
	case RAS_EV_DOWN:
		account(s, rs, RADIUS_ACCT_STOP);
		break;
	case RAS_EV_DEAD:
		if (x) {
			if (x->pending) radc_cancel(&r->radc, (uint64_t)rs->id << 8 | (rs->admit_seq & 0xff));
			OPENSSL_cleanse(x, sizeof *x);
		}
		break;
	}
}

/* A quarter of a second: retransmissions, failover, the queue, interim updates. */
static void radc_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct srv *s = arg;
	struct srv_radius *r = s->radius;
	uint64_t now = srv_now_ms();
	radc_tick(&r->radc, now);
	if (s->cfg->server.radius_conf.interim)
		for (unsigned i = 0; i < s->sess_cap; i++) {
			struct srv_radius_sess *x = &r->sess[i];
			struct ras_session *rs = s->sessions[i];
			if (!x->id || !x->next_interim || now < x->next_interim || !rs || rs->id != x->id ||
			    rs->state != RAS_UP)
				continue;
			x->next_interim = now + (uint64_t)s->cfg->server.radius_conf.interim * 1000;
			account(s, rs, RADIUS_ACCT_INTERIM);
		}
	if (r->queue_dirty) queue_save(s);
}

/* An answer on the client's socket: from which server and port. */
static void radc_read(struct srv *s, struct srv_listener *l)
{
	struct srv_radius *r = s->radius;
	static uint8_t buf[RADIUS_MAX_LEN + 1];
	for (int burst = 0; burst < 64; burst++) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof peer;
		ssize_t n = recvfrom(l->fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &pl);
		if (n < 0) break;
		int server = -1;
		bool acct = false;
		for (unsigned i = 0; i < r->radc.nsrv && server < 0; i++)
			for (int k = 0; k < 2; k++) {
				const struct sockaddr_storage *a = &r->addr[i][k];
				bool same = a->ss_family == peer.ss_family &&
				            (a->ss_family == AF_INET
				             ? memcmp(&((const struct sockaddr_in *)a)->sin_addr,
				                      &((const struct sockaddr_in *)&peer)->sin_addr, 4) == 0 &&
				               ((const struct sockaddr_in *)a)->sin_port ==
				               ((const struct sockaddr_in *)&peer)->sin_port
				             : memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
				                      &((const struct sockaddr_in6 *)&peer)->sin6_addr, 16) == 0 &&
				               ((const struct sockaddr_in6 *)a)->sin6_port ==
				               ((const struct sockaddr_in6 *)&peer)->sin6_port);
				if (same) {
					server = (int)i;
					acct = k == 1;
					break;
				}
			}
		if (server < 0 || (size_t)n > RADIUS_MAX_LEN) {
			r->radc.st.bad_answers++;
			char pt[80];
			if (srv_throttle(s))
				srv_log(s, SC_RADIUS, false, NULL, NULL, "a datagram from %s on the RADIUS "
				        "client's socket dropped: %s", net_sockaddr_text(&peer, pt, sizeof pt),
				        server < 0 ? "no configured server has that address and port"
				                   : "longer than RADIUS allows");
			continue;
		}
		radc_input(&r->radc, (unsigned)server, acct, buf, (size_t)n, srv_now_ms());
	}
	if (r->queue_dirty) queue_save(s);
}

static const struct radc_cbs radc_cbs = {
	.send = radc_send, .random = radc_random, .log = radc_log, .auth_done = radc_auth_done,
	.queue_changed = radc_queue_changed,
};

static int radc_open(struct srv *s)
{
	struct srv_radius *r = s->radius;
	const struct server *sv = &s->cfg->server;
	if (radc_init(&r->radc, s->cfg, &radc_cbs, s) != 0) {
		fprintf(stderr, "vnet: %s: server.radius.servers: at most %d servers\n", s->config_name,
		        RADC_MAX_SERVERS);
		return -1;
	}
	r->radc_on = true;
	r->sess = calloc(s->sess_cap, sizeof *r->sess);
	if (!r->sess) {
		fprintf(stderr, "vnet: out of memory\n");
		return -1;
	}
	for (unsigned i = 0; i < r->radc.nsrv; i++) {
		const struct radius_server *rs = &sv->radius[i];
		if (!rs->secret) {
			fprintf(stderr, "vnet: %s: %s: a RADIUS server without a secret cannot be asked\n",
			        s->config_name, rs->path);
			return -1;
		}
		for (int k = 0; k < 2; k++) {
			struct sockaddr_storage *a = &r->addr[i][k];
			if (net_hostport_parse(rs->address, 0, a, NULL) != 0) {
				fprintf(stderr, "vnet: %s: %s.address: \"%s\" is not an address\n",
				        s->config_name, rs->path, rs->address);
				return -1;
			}
			uint16_t port = htons((uint16_t)(k ? rs->acct_port : rs->port));
			if (a->ss_family == AF_INET) ((struct sockaddr_in *)a)->sin_port = port;
			else ((struct sockaddr_in6 *)a)->sin6_port = port;
			struct srv_listener **sock = a->ss_family == AF_INET6 ? &r->sock6 : &r->sock4;
			if (*sock) continue;
			*sock = srv_listener_add(s, SRV_PROTO_RADIUS_CLIENT, radc_read);
			if (!*sock) {
				fprintf(stderr, "vnet: too many listeners\n");
				return -1;
			}
			(*sock)->fd = socket(a->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if ((*sock)->fd < 0) {
				fprintf(stderr, "vnet: RADIUS client socket: %s\n", strerror(errno));
				return -1;
			}
		}
		char at[80];
		srv_log(s, SC_MAIN, false, NULL, NULL, "RADIUS server %s: %s (accounting port %d), "
		        "priority %d, timeout %d s, %d retries", rs->path,
		        net_sockaddr_text(&r->addr[i][0], at, sizeof at), rs->acct_port, rs->priority,
		        rs->timeout_ms / 1000, rs->retries);
	}
	r->ev_timer = event_new(s->base, -1, EV_PERSIST, radc_timer_cb, s);
	struct timeval quarter = {0, 250000};
	if (!r->ev_timer || event_add(r->ev_timer, &quarter) != 0) {
		fprintf(stderr, "vnet: out of memory\n");
		return -1;
	}
	queue_load(s, srv_now_ms());
	return 0;
}

static void radc_close(struct srv *s)
{
	struct srv_radius *r = s->radius;
	if (!r->radc_on) return;
	radc_hold_inflight(&r->radc);
	if (r->queue_dirty || r->radc.nqueue) queue_save(s);
	if (r->ev_timer) event_free(r->ev_timer);
	r->ev_timer = NULL;
	radc_free(&r->radc);
	if (r->sess) OPENSSL_cleanse(r->sess, s->sess_cap * sizeof *r->sess);
	free(r->sess);
	r->sess = NULL;
	r->radc_on = false;
}

/* ---- dynamic authorization (RFC 5176) ------------------------------------------------ */
static void dae_log(void *ctx, bool debug_only, const char *text)
{
	srv_log(ctx, SC_RADIUS, debug_only, NULL, NULL, "%s", text);
}

static time_t dae_wall(void *ctx)
{
	(void)ctx;
	return time(NULL);
}

static bool dae_throttle(void *ctx)
{
	return srv_throttle(ctx);
}

/* Every live session the request identifies: a Disconnect-Request (c NULL) ends it with
 * Admin-Reset, a CoA-Request sets its timeouts (an admitted session only: the admission
 * would set them again). */
static int dae_act(void *ctx, const struct dae_ident *q, const struct dae_change *c)
{
	struct srv *s = ctx;
	int hits = 0;
	for (unsigned i = 0; i < s->sess_cap; i++) {
		struct ras_session *rs = s->sessions[i];
		if (!rs || ras_session_dead(rs)) continue;
		if (c && rs->state != RAS_NETWORK && rs->state != RAS_UP) continue;
		/* the texts only when the request names them: one pass over every session */
		char sid[64] = "", ip[64] = "";
		if (q->has_acct_session_id) acct_session_id(s, rs, sid, sizeof sid);
		if (q->has_calling && rs->ops->peer_ip) rs->ops->peer_ip(rs, ip, sizeof ip);
		struct dae_sess v = {.user = rs->ppp.auth.user, .acct_session_id = sid,
			.calling = ip, .called = s->local_ip, .framed_ip = rs->addr,
			.nas_port = rs->id, .nas_port_type = 5 /* Virtual */};
		if (!dae_session_matches(q, &v)) continue;
		hits++;
		char ut[SRV_USER_TEXT];
		srv_user_text(rs->ppp.auth.user, ut, sizeof ut);
		if (!c) {
			if (rs->state == RAS_CLOSING) continue; /* ending already */
			srv_log(s, SC_RADIUS, false, NULL, rs, "session %u (user %s): Disconnect-Request: "
			        "ended (Admin-Reset)", rs->id, ut);
			srv_session_disconnect(s, rs, RAS_CAUSE_ADMIN);
			continue;
		}
		/* seconds to the session model's whole minutes, rounded up */
		if (c->has_session_timeout)
			rs->session_timeout = c->session_timeout
			                      ? (int32_t)(((uint64_t)c->session_timeout + 59) / 60) : 0;
		if (c->has_idle_timeout)
			rs->idle_timeout = c->idle_timeout
			                   ? (int32_t)(((uint64_t)c->idle_timeout + 59) / 60) : 0;
		srv_log(s, SC_RADIUS, false, NULL, rs, "session %u (user %s): CoA-Request: "
		        "session timeout %d min, idle timeout %d min", rs->id, ut,
		        rs->session_timeout, rs->idle_timeout);
		srv_session_rearm(s, rs);
	}
	return hits;
}

static const struct dae_cbs dae_cbs = {
	.log = dae_log, .wall = dae_wall, .throttle = dae_throttle, .act = dae_act,
};

static size_t dae_answer(struct srv_radius *r, const struct sockaddr_storage *peer,
                         const uint8_t *pkt, size_t len, uint64_t now, uint8_t *out, size_t cap)
{
	return dae_input(&r->dae, peer, pkt, len, now, out, cap);
}

static void dae_read(struct srv *s, struct srv_listener *l)
{
	radius_rx(s, l, dae_answer, &s->radius->dae.st.malformed);
}

static int dae_open(struct srv *s)
{
	struct srv_radius *r = s->radius;
	const struct radius_dae_conf *dc = &s->cfg->server.radius_conf.dae;
	struct dae_nas nas;
	nas.identifier = nas_identity(s, &nas.ip);
	if (dae_init(&r->dae, dc, &nas, &dae_cbs, s) != 0) {
		fprintf(stderr, "vnet: out of memory\n");
		return -1;
	}
	r->dae_on = true;
	struct srv_listener *l = srv_listener_add(s, SRV_PROTO_RADIUS_DAE, dae_read);
	if (!l) {
		fprintf(stderr, "vnet: too many listeners\n");
		return -1;
	}
	char shown[80];
	const char *where = dc->listen ? dc->listen : s->local_ip;
	if (bind_udp(where, RADIUS_DAE_PORT, &l->fd, shown, sizeof shown) != 0) return -1;
	srv_log(s, SC_MAIN, false, NULL, NULL, "RADIUS dynamic authorization (RFC 5176) listening "
	        "on %s (%zu clients)", shown, dc->nclients);
	return 0;
}

/* ---- both ------------------------------------------------------------------------------ */
int srv_radius_open(struct srv *s)
{
	const struct config *c = s->cfg;
	bool server = c->serve.radius_listen != NULL;
	bool client = c->server.auth_provider == PROV_RADIUS && c->server.nradius;
	bool dae = c->server.radius_conf.dae.on;
	if (!server && !client && !dae) return 0;
	s->radius = calloc(1, sizeof *s->radius);
	if (!s->radius) {
		fprintf(stderr, "vnet: out of memory\n");
		return -1;
	}
	if (server && nps_open(s) != 0) return -1;
	if (client && radc_open(s) != 0) return -1;
	if (dae && dae_open(s) != 0) return -1;
	return 0;
}

void srv_radius_close(struct srv *s)
{
	struct srv_radius *r = s->radius;
	if (!r) return;
	radc_close(s);
	if (r->nps_on) nps_free(&r->nps);
	if (r->dae_on) dae_free(&r->dae);
	free(r);
	s->radius = NULL;
}

json_t *srv_radius_stats(const struct srv *s)
{
	const struct srv_radius *r = s->radius;
	if (!r) return json_null();
	json_t *o = json_object();
	if (r->nps_on) {
#define N(f) json_object_set_new(o, "server_" #f, json_integer((json_int_t)r->nps.st.f))
		N(access_requests); N(accepts); N(rejects); N(status_server); N(accounting);
		N(unknown_client); N(malformed); N(no_msg_auth); N(bad_msg_auth);
		N(bad_authenticator); N(unsupported); N(duplicates);
		N(eap_requests); N(eap_challenges); N(eap_malformed); N(eap_bad_state); N(eap_refused);
		json_object_set_new(o, "server_eap_conversations", json_integer((json_int_t)r->nps.eap.n));
		json_object_set_new(o, "server_eap_evicted", json_integer((json_int_t)r->nps.eap.evicted));
		json_object_set_new(o, "server_eap_expired", json_integer((json_int_t)r->nps.eap.expired));
#undef N
	}
	if (r->radc_on) {
#define C(f) json_object_set_new(o, "client_" #f, json_integer((json_int_t)r->radc.st.f))
		C(auth_requests); C(auth_answered); C(auth_unanswered); C(auth_busy);
		C(acct_requests); C(acct_answered); C(acct_queued); C(acct_queue_dropped);
		C(bad_answers); C(failovers);
#undef C
		json_object_set_new(o, "client_queue", json_integer((json_int_t)r->radc.nqueue));
		uint64_t now = srv_now_ms();
		unsigned dead = 0;
		for (unsigned i = 0; i < r->radc.nsrv; i++) dead += radc_server_dead(&r->radc, i, now);
		json_object_set_new(o, "client_servers_dead", json_integer(dead));
	}
	if (r->dae_on) {
#define D(f) json_object_set_new(o, "dae_" #f, json_integer((json_int_t)r->dae.st.f))
		D(disconnect_requests); D(coa_requests); D(acks); D(naks); D(unknown_client);
		D(malformed); D(unsupported); D(bad_authenticator); D(bad_msg_auth); D(no_msg_auth);
		D(stale); D(duplicates);
#undef D
	}
	return o;
}
