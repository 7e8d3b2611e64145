/* The NPS-compatible RADIUS server (nps.h). */
#include "radius/nps.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mschap.h"
#include "net.h"
#include "ppp/ppp_auth.h"

/* ---- set-up ------------------------------------------------------------------------ */
int nps_init(struct nps *n, const struct config *c, struct policy_result *pres,
             struct addr_pool *pool, const struct nps_cbs *cbs, void *ctx)
{
	memset(n, 0, sizeof *n);
	n->cfg = c;
	n->pres = pres;
	n->pool = pool;
	n->cbs = cbs;
	n->ctx = ctx;
	n->boot = cbs->wall ? (uint64_t)cbs->wall(ctx) : 0;
	return rad_dupcache_init(&n->cache, c->serve.radius_cache > 0 ? (size_t)c->serve.radius_cache
	                                                               : 256, NPS_DUP_MS);
}

void nps_free(struct nps *n)
{
	for (size_t i = 0; i < n->nleases; i++) addr_pool_release(n->pool, n->leases[i].addr);
	rad_dupcache_free(&n->cache);
	free(n->leases);
	memset(n, 0, sizeof *n);
}

__attribute__((format(printf, 3, 4)))
static void nlog(struct nps *n, bool debug_only, const char *fmt, ...)
{
	if (!n->cbs->log) return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	n->cbs->log(n->ctx, debug_only, line);
}

/* A line about a dropped datagram, unless a flood has used up the lines of this second. */
#define NLOG_DROP(n, ...) \
	do { \
		if (!(n)->cbs->throttle || (n)->cbs->throttle((n)->ctx)) nlog((n), false, __VA_ARGS__); \
	} while (0)

/* ---- clients ----------------------------------------------------------------------- */
const struct nps_client *nps_client_find(const struct config *c,
                                         const struct sockaddr_storage *peer)
{
	return nps_client_in(c->serve.nps_clients, c->serve.nnps_clients, peer);
}

const struct nps_client *nps_client_in(const struct nps_client *list, size_t n,
                                       const struct sockaddr_storage *peer)
{
	for (size_t i = 0; i < n; i++) {
		const struct nps_client *k = &list[i];
		if (peer->ss_family == AF_INET && k->family == AF_INET) {
			const struct sockaddr_in *s4 = (const struct sockaddr_in *)peer;
			uint32_t a = ntohl(s4->sin_addr.s_addr);
			if (a >= k->net.start && a <= k->net.end) return k;
		} else if (peer->ss_family == AF_INET6 && k->family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)peer;
			if (memcmp(&s6->sin6_addr, k->addr6, 16) == 0) return k;
		}
	}
	return NULL;
}

/* ---- leases ------------------------------------------------------------------------ */
/* Pool addresses granted without an Accounting Start for NPS_LEASE_WAIT_MS go back. */
static void leases_reclaim(struct nps *n, uint64_t now)
{
	size_t k = 0;
	for (size_t i = 0; i < n->nleases; i++) {
		struct nps_lease *l = &n->leases[i];
		if (!l->started && now - l->at >= NPS_LEASE_WAIT_MS) {
			char ab[20];
			nlog(n, false, "address %s granted %llu s ago was never started by "
			     "accounting: back to the pool", ipv4_str(l->addr, ab, sizeof ab),
			     (unsigned long long)((now - l->at) / 1000));
			addr_pool_release(n->pool, l->addr);
			continue;
		}
		n->leases[k++] = *l;
	}
	n->nleases = k;
}

static bool lease_add(struct nps *n, uint32_t addr, uint32_t client, uint64_t now)
{
	if (n->nleases == n->lease_cap) {
		size_t cap = n->lease_cap ? n->lease_cap * 2 : 64;
		struct nps_lease *v = realloc(n->leases, cap * sizeof *v);
		if (!v) return false;
		n->leases = v;
		n->lease_cap = cap;
	}
	n->leases[n->nleases++] = (struct nps_lease){addr, client, now, false};
	return true;
}

/* Accounting about an address: Start marks its lease, Stop ends it. */
static void lease_account(struct nps *n, uint32_t client, unsigned status, uint32_t addr)
{
	for (size_t i = 0; i < n->nleases; i++) {
		struct nps_lease *l = &n->leases[i];
		bool all = status == RADIUS_ACCT_ON || status == RADIUS_ACCT_OFF;
		if (l->client != client || (!all && l->addr != addr)) continue;
		if (status == RADIUS_ACCT_START || status == RADIUS_ACCT_INTERIM) {
			l->started = true;
			return;
		}
		if (status == RADIUS_ACCT_STOP || all) {
			addr_pool_release(n->pool, l->addr);
			n->leases[i--] = n->leases[--n->nleases];
			if (!all) return;
		}
	}
}

/* ---- the attempt ------------------------------------------------------------------- */
static uint32_t be32v(const struct radius_attr *a)
{
	if (!a || a->vlen != 4) return UINT32_MAX;
	return (uint32_t)a->val[0] << 24 | (uint32_t)a->val[1] << 16 | (uint32_t)a->val[2] << 8 |
	       a->val[3];
}

/* An attribute's text as a C string (NULL when absent or holding a NUL byte). */
static char *attr_str(const struct radius_attr *a)
{
	if (!a || memchr(a->val, 0, a->vlen)) return NULL;
	char *s = malloc(a->vlen + 1);
	if (!s) return NULL;
	memcpy(s, a->val, a->vlen);
	s[a->vlen] = 0;
	return s;
}

struct nps_req {
	const struct nps_client *client;
	const struct radius_msg *m;
	const uint8_t *pkt;
	enum auth_method method;
	enum admit_cred cred;
	/* MS-CHAPv2 results of a matching password */
	uint8_t ms_ident;
	const uint8_t *auth_challenge;
	char success[43];
	uint8_t send_key[16], recv_key[16];
	bool have_keys;
};

/* The credentials of the request against the account's password. */
static void check_credentials(struct nps *n, struct nps_req *q, const char *user)
{
	const struct radius_msg *m = q->m;
	const struct user *u = user ? config_find_user(n->cfg, user) : NULL;
	const uint8_t *secret = (const uint8_t *)q->client->secret;
	size_t sl = strlen(q->client->secret);
	const struct radius_attr *pap = radius_find(m, RADIUS_ATTR_USER_PASSWORD);
	const struct radius_attr *chap = radius_find(m, RADIUS_ATTR_CHAP_PASSWORD);
	const struct radius_attr *ms2 = radius_find_vsa(m, RADIUS_VENDOR_MICROSOFT,
	                                                MS_CHAP2_RESPONSE);
	const struct radius_attr *msch = radius_find_vsa(m, RADIUS_VENDOR_MICROSOFT,
	                                                 MS_CHAP_CHALLENGE);
	q->cred = !u ? ADMIT_CRED_UNKNOWN_USER : ADMIT_CRED_ERROR;
	const char *pw = u ? u->password : NULL;
	size_t pwl = pw ? strlen(pw) : 0;
	if (ms2) {
		q->method = AUTH_MSCHAPV2;
		if (ms2->vlen != 50 || !msch || msch->vlen != 16) {
			q->cred = ADMIT_CRED_ERROR;
			return;
		}
		q->ms_ident = ms2->val[0];
		q->auth_challenge = msch->val;
		if (!pw) return;
		const uint8_t *peer_ch = ms2->val + 2, *nt = ms2->val + 26;
		const char *hu = ppp_auth_strip_domain(user);
		uint8_t want[24];
		if (mschap2_nt_response(msch->val, peer_ch, hu, strlen(hu), pw, pwl, want) != 0) return;
		if (CRYPTO_memcmp(want, nt, 24) != 0) {
			q->cred = ADMIT_CRED_BAD;
			return;
		}
		if (mschap2_authenticator_response(pw, pwl, nt, peer_ch, msch->val, hu, strlen(hu),
		                                   q->success) != 0)
			return;
		q->have_keys = mppe_chapv2_keys(pw, pwl, nt, 16, true, q->send_key, q->recv_key) == 0;
		q->cred = ADMIT_CRED_OK;
	} else if (chap) {
		q->method = AUTH_CHAP;
		if (chap->vlen != 17) {
			q->cred = ADMIT_CRED_ERROR;
			return;
		}
		if (!pw) return;
		const struct radius_attr *ch = radius_find(m, RADIUS_ATTR_CHAP_CHALLENGE);
		uint8_t want[16];
		chap_md5_response(chap->val[0], (const uint8_t *)pw, pwl, ch ? ch->val : m->auth,
		                  ch ? ch->vlen : 16, want);
		q->cred = CRYPTO_memcmp(want, chap->val + 1, 16) == 0 ? ADMIT_CRED_OK : ADMIT_CRED_BAD;
	} else if (pap) {
		q->method = AUTH_PAP;
		uint8_t given[129];
		int gl = radius_unhide_password(pap->val, pap->vlen, secret, sl, m->auth, given);
		if (gl < 0) {
			q->cred = ADMIT_CRED_ERROR;
			return;
		}
		if (!pw) return;
		given[gl] = 0;
		q->cred = memchr(given, 0, (size_t)gl) == NULL &&
		          secret_text_equal((const char *)given, pw) ? ADMIT_CRED_OK : ADMIT_CRED_BAD;
		OPENSSL_cleanse(given, sizeof given);
	} else {
		/* EAP, MS-CHAPv1, or no credentials at all: nothing this server can check */
		q->method = radius_find(m, RADIUS_ATTR_EAP_MESSAGE) ? AUTH_EAP
		            : radius_find_vsa(m, RADIUS_VENDOR_MICROSOFT, MS_CHAP_RESPONSE) ? AUTH_MSCHAP
		            : AUTH_PAP;
		q->cred = u ? ADMIT_CRED_ERROR : ADMIT_CRED_UNKNOWN_USER;
	}
}

/* The attempt a user.json would hold for this request. */
static void build_attempt(struct nps *n, const struct nps_req *q, const char *user,
                          const struct sockaddr_storage *peer, struct attempt *a)
{
	const struct radius_msg *m = q->m;
	attempt_init(a);
	a->user_name = strdup(user ? user : "");
	a->auth = q->method;
	a->tunnel = TUN_L2TP; /* without Tunnel-Type: what vnet serve's own NAS speaks */
	const struct radius_attr *tt = radius_find(m, RADIUS_ATTR_TUNNEL_TYPE);
	if (tt && tt->vlen == 4) {
		unsigned v = (unsigned)tt->val[1] << 16 | (unsigned)tt->val[2] << 8 | tt->val[3];
		if (v == 1) a->tunnel = TUN_PPTP;
		else if (v == 3) a->tunnel = TUN_L2TP;
	}
	uint32_t npt = be32v(radius_find(m, RADIUS_ATTR_NAS_PORT_TYPE));
	if (npt < NPT_N) a->nas_port_type = (enum nas_port_type)npt;
	uint32_t fp = be32v(radius_find(m, RADIUS_ATTR_FRAMED_PROTOCOL));
	if (fp >= 1 && fp <= FP_N) a->framed_protocol = (int)fp - 1;
	uint32_t svt = be32v(radius_find(m, RADIUS_ATTR_SERVICE_TYPE));
	if (svt >= 1 && svt <= SVT_N) a->service_type = (enum service_type)(svt - 1);
	a->calling_station_id = attr_str(radius_find(m, RADIUS_ATTR_CALLING_STATION_ID));
	a->called_station_id = attr_str(radius_find(m, RADIUS_ATTR_CALLED_STATION_ID));
	a->nas_identifier = attr_str(radius_find(m, RADIUS_ATTR_NAS_IDENTIFIER));
	const struct radius_attr *nip = radius_find(m, RADIUS_ATTR_NAS_IP_ADDRESS);
	char ipb[64];
	if (nip && nip->vlen == 4)
		a->nas_ip = strdup(ipv4_str(be32v(nip), ipb, sizeof ipb));
	a->client_ip = strdup(net_sockaddr_ip(peer, ipb, sizeof ipb));
	a->client_friendly_name = strdup(q->client->name);
	const struct radius_attr *rv = radius_find_vsa(m, RADIUS_VENDOR_MICROSOFT, MS_RAS_VENDOR);
	if (rv && rv->vlen == 4) {
		free(a->ms_ras_vendor);
		char vb[16];
		snprintf(vb, sizeof vb, "%u", be32v(rv));
		a->ms_ras_vendor = strdup(vb);
	}
	const struct radius_attr *fip = radius_find(m, RADIUS_ATTR_FRAMED_IP_ADDRESS);
	uint32_t want = be32v(fip);
	if (fip && want && want != UINT32_MAX && want != 0xfffffffeu) {
		a->has_requested_ip = true;
		a->requested_ip = want;
	}
	time_t now = n->cbs->wall ? n->cbs->wall(n->ctx) : 0;
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(a->time_text, sizeof a->time_text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (attempt_parse_time(a->time_text, &a->minute_of_week, &a->local_epoch) != 0)
		a->minute_of_week = 0;
	admit_attempt_cred(n->cfg, a, q->cred);
}

/* policy_evaluate with the live address count; the encryption level is negotiated by the
 * NAS afterwards (the answer says which levels the profile allows), so a rejection for
 * the level alone is tried again one level lower, as the server's own admission does. */
static int decide(struct nps *n, struct attempt *a)
{
	struct config live = *n->cfg;
	live.server.addresses_in_use = (int)addr_pool_clients(n->pool);
	int rc = policy_evaluate(&live, a, n->pres, NULL);
	for (int lv = (int)a->encryption - 1; rc != 0 && n->pres->reason == R_ENCRYPTION && lv >= 0;
	     lv--) {
		if (!(n->cfg->server.enc_mask >> lv & 1)) continue;
		a->encryption = (enum enc_level)lv;
		rc = policy_evaluate(&live, a, n->pres, NULL);
	}
	return rc;
}

/* ---- answers ----------------------------------------------------------------------- */
struct ans {
	struct radius_msg r;
	uint8_t vals[RADIUS_MAX_ATTRS][8];
	size_t nv;
};

static void add_attr(struct ans *x, uint8_t type, const void *val, size_t len)
{
	if (x->r.nattrs >= RADIUS_MAX_ATTRS) return;
	x->r.attrs[x->r.nattrs++] = (struct radius_attr){.type = type, .val = val, .vlen = len};
}

static void add_vsa(struct ans *x, uint8_t vtype, const void *val, size_t len)
{
	if (x->r.nattrs >= RADIUS_MAX_ATTRS) return;
	x->r.attrs[x->r.nattrs++] = (struct radius_attr){.type = RADIUS_ATTR_VENDOR_SPECIFIC,
		.vendor = RADIUS_VENDOR_MICROSOFT, .vtype = vtype, .val = val, .vlen = len};
}

static void add_u32(struct ans *x, uint8_t type, bool ms, uint32_t v)
{
	if (x->nv >= RADIUS_MAX_ATTRS) return;
	uint8_t *b = x->vals[x->nv++];
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
	if (ms) add_vsa(x, type, b, 4);
	else add_attr(x, type, b, 4);
}

/* Encode, sign with the client's secret (Message-Authenticator first); the length. An
 * Accounting-Response carries none (RFC 2866 has no place for it; clients check the
 * Response Authenticator). */
static size_t ans_finish(struct ans *x, const struct nps_client *c, const uint8_t *req,
                         uint8_t *out, size_t cap)
{
	static const uint8_t zero[16];
	if (x->r.code != RADIUS_ACCOUNTING_RESPONSE)
		add_attr(x, RADIUS_ATTR_MESSAGE_AUTHENTICATOR, zero, 16);
	size_t len = radius_encode(&x->r, out, cap);
	if (!len) return 0;
	if (radius_sign(out, len, req + 4, (const uint8_t *)c->secret, strlen(c->secret)) != 0)
		return 0;
	return len;
}

/* MS-MPPE-Encryption-Types bits of enum enc_level bits (RFC 2548 2.4.4). */
static uint32_t enc_types(uint32_t levels)
{
	return (levels >> ENC_BASIC & 1 ? 0x2u : 0) | (levels >> ENC_STRONG & 1 ? 0x8u : 0) |
	       (levels >> ENC_STRONGEST & 1 ? 0x4u : 0);
}

static size_t access_request(struct nps *n, const struct nps_client *c,
                             const struct sockaddr_storage *peer, const struct radius_msg *m,
                             const uint8_t *pkt, uint64_t now, uint8_t *out, size_t cap)
{
	n->st.access_requests++;
	struct nps_req q = {.client = c, .m = m, .pkt = pkt};
	const struct radius_attr *un = radius_find(m, RADIUS_ATTR_USER_NAME);
	char *user = un && un->vlen <= PPP_AUTH_USER_MAX ? attr_str(un) : NULL;
	check_credentials(n, &q, user);
	if (addr_pool_clients(n->pool) + 1 >= n->pool->size && n->nleases)
		leases_reclaim(n, now);
	struct attempt a;
	build_attempt(n, &q, user, peer, &a);
	int rc = decide(n, &a);
	struct policy_result *r = n->pres;
	char ut[TEXT_PRINTABLE_SIZE(PPP_AUTH_USER_MAX)], ct[TEXT_PRINTABLE_SIZE(64)];
	text_printable(un ? un->val : (const uint8_t *)"", un ? un->vlen : 0, ut, sizeof ut);
	text_printable_str(c->name, ct, sizeof ct);
	char summary[600], detail[TEXT_PRINTABLE_SIZE(600)];
	admit_summary(n->cfg, &a, r, summary, sizeof summary);
	text_printable_str(summary, detail, sizeof detail); /* it may quote the request */

	struct ans x;
	memset(&x, 0, sizeof x);
	x.r.id = m->id;
	x.r.auth = pkt + 4;
	uint8_t sendk[40], recvk[40], success[44], class[48], reply[200], mserr[160];
	uint32_t addr = 0;
	bool leased = false;
	if (rc == 0) {
		/* the address: the account's static one or what the client asked for, else
		 * one from the pool */
		if (r->has_address) {
			const struct user *u = r->user;
			bool fixed = (u && u->has_static_ip && r->address == u->static_ip) ||
			             (a.has_requested_ip && r->address == a.requested_ip);
			if (fixed) {
				addr = r->address;
				if (addr_pool_contains(n->pool, addr)) {
					if (!addr_pool_take(n->pool, addr)) addr = 0;
					else leased = true;
				}
			} else {
				addr = addr_pool_take(n->pool, 0);
				leased = addr != 0;
			}
			if (!addr) {
				rc = 1;
				r->accept = false;
				r->reason = R_POOL_EXHAUSTED;
				r->error = policy_reasons[R_POOL_EXHAUSTED].error;
				r->nps_reason = policy_reasons[R_POOL_EXHAUSTED].nps_reason;
				snprintf(detail, sizeof detail, "the granted address is in use");
			}
		}
	}
	if (leased && !lease_add(n, addr, (uint32_t)(c - n->cfg->serve.nps_clients), now)) {
		addr_pool_release(n->pool, addr);
		addr = 0;
		leased = false;
		rc = 1;
		r->accept = false;
		r->reason = R_POOL_EXHAUSTED;
		r->error = policy_reasons[R_POOL_EXHAUSTED].error;
		r->nps_reason = 0;
	}
	const char *pname = r->policy >= 0 ? n->cfg->policies[r->policy].name : "-";
	char ab[20];
	if (rc == 0) {
		n->st.accepts++;
		x.r.code = RADIUS_ACCESS_ACCEPT;
		add_u32(&x, RADIUS_ATTR_SERVICE_TYPE, false, 2);   /* Framed */
		add_u32(&x, RADIUS_ATTR_FRAMED_PROTOCOL, false, 1); /* PPP */
		if (addr) add_u32(&x, RADIUS_ATTR_FRAMED_IP_ADDRESS, false, addr);
		if (r->session_timeout)
			add_u32(&x, RADIUS_ATTR_SESSION_TIMEOUT, false, (uint32_t)r->session_timeout * 60);
		if (r->idle_timeout)
			add_u32(&x, RADIUS_ATTR_IDLE_TIMEOUT, false, (uint32_t)r->idle_timeout * 60);
		int cl = snprintf((char *)class, sizeof class, "vnet:%llu:%u:%d",
		                  (unsigned long long)n->boot, ++n->class_seq, r->policy);
		add_attr(&x, RADIUS_ATTR_CLASS, class, (size_t)cl < sizeof class ? (size_t)cl : 0);
		uint32_t allowed = (r->policy >= 0 ? n->cfg->policies[r->policy].profile.enc_mask
		                                   : UINT32_MAX) & n->cfg->server.enc_mask;
		add_u32(&x, MS_MPPE_ENCRYPTION_POLICY, true, allowed >> ENC_NONE & 1 ? 1 : 2);
		add_u32(&x, MS_MPPE_ENCRYPTION_TYPES, true, enc_types(allowed));
		if (q.method == AUTH_MSCHAPV2) {
			success[0] = q.ms_ident;
			memcpy(success + 1, q.success, 42);
			add_vsa(&x, MS_CHAP2_SUCCESS, success, 43);
			if (q.have_keys) {
				const uint8_t *sec = (const uint8_t *)c->secret;
				size_t sl = strlen(c->secret);
				uint8_t salt[4];
				if (n->cbs->random) n->cbs->random(n->ctx, salt, sizeof salt);
				else memset(salt, 0x5a, sizeof salt);
				salt[2] ^= 0x01; /* the two salts differ */
				if (salt[0] == salt[2] && salt[1] == salt[3]) salt[3] ^= 0x01;
				size_t sn = radius_ms_mppe_key_encrypt(q.send_key, 16, salt, sec, sl, pkt + 4,
				                                       sendk, sizeof sendk);
				size_t rn = radius_ms_mppe_key_encrypt(q.recv_key, 16, salt + 2, sec, sl,
				                                       pkt + 4, recvk, sizeof recvk);
				if (sn) add_vsa(&x, MS_MPPE_SEND_KEY, sendk, sn);
				if (rn) add_vsa(&x, MS_MPPE_RECV_KEY, recvk, rn);
			}
		}
		nlog(n, false, "Access-Accept user=%s client=%s method=%s reason=0 "
		     "policy=\"%s\" addr=%s session=%dmin idle=%dmin", ut, ct,
		     auth_method_names[q.method], pname, addr ? ipv4_str(addr, ab, sizeof ab) : "-",
		     r->session_timeout, r->idle_timeout);
	} else {
		n->st.rejects++;
		x.r.code = RADIUS_ACCESS_REJECT;
		const struct reason_info *ri = &policy_reasons[r->reason];
		int rl;
		if (r->nps_reason)
			rl = snprintf((char *)reply, sizeof reply, "NPS reason code %d: %s (Windows error %d)",
			              r->nps_reason, ri->text, r->error);
		else
			rl = snprintf((char *)reply, sizeof reply, "%s (Windows error %d)", ri->text,
			              r->error);
		add_attr(&x, RADIUS_ATTR_REPLY_MESSAGE, reply,
		         rl > 0 && (size_t)rl < sizeof reply ? (size_t)rl : sizeof reply - 1);
		if (q.method == AUTH_MSCHAPV2 && q.auth_challenge) {
			mserr[0] = q.ms_ident;
			ppp_auth_mschapv2_failure((unsigned)r->error, false, q.auth_challenge, ri->text,
			                          (char *)mserr + 1, sizeof mserr - 1);
			add_vsa(&x, MS_CHAP_ERROR, mserr, 1 + strlen((char *)mserr + 1));
		}
		nlog(n, false, "Access-Reject user=%s client=%s method=%s reason=%d error=%d "
		     "(%s) policy=\"%s\": %s", ut, ct, auth_method_names[q.method], r->nps_reason,
		     r->error, ri->code, pname, detail);
	}
	size_t len = ans_finish(&x, c, pkt, out, cap);
	OPENSSL_cleanse(&q, sizeof q);
	OPENSSL_cleanse(sendk, sizeof sendk);
	OPENSSL_cleanse(recvk, sizeof recvk);
	attempt_free(&a);
	free(user);
	if (!len && leased) {
		lease_account(n, (uint32_t)(c - n->cfg->serve.nps_clients), RADIUS_ACCT_STOP, addr);
	}
	return len;
}

static size_t accounting_request(struct nps *n, const struct nps_client *c,
                                 const struct radius_msg *m, const uint8_t *pkt, size_t len,
                                 uint8_t *out, size_t cap)
{
	const uint8_t *sec = (const uint8_t *)c->secret;
	size_t sl = strlen(c->secret);
	char ct[TEXT_PRINTABLE_SIZE(64)];
	text_printable_str(c->name, ct, sizeof ct);
	if (radius_verify_auth(pkt, len, NULL, sec, sl) != 1 ||
	    (radius_find(m, RADIUS_ATTR_MESSAGE_AUTHENTICATOR) &&
	     radius_verify_msg_auth(pkt, len, NULL, sec, sl) != 1)) {
		n->st.bad_authenticator++;
		NLOG_DROP(n, "Accounting-Request id %u from client %s dropped: its "
		          "authenticator does not verify with the client's secret", m->id, ct);
		return 0;
	}
	n->st.accounting++;
	uint32_t status = be32v(radius_find(m, RADIUS_ATTR_ACCT_STATUS_TYPE));
	uint32_t fip = be32v(radius_find(m, RADIUS_ATTR_FRAMED_IP_ADDRESS));
	lease_account(n, (uint32_t)(c - n->cfg->serve.nps_clients), status,
	              fip == UINT32_MAX ? 0 : fip);
	if (n->cbs->accounting) n->cbs->accounting(n->ctx, c, m);
	const char *sn = tok_name(radius_acct_status_names, status);
	nlog(n, true, "Accounting-Request %s from client %s", sn ? sn : "?", ct);
	struct ans x;
	memset(&x, 0, sizeof x);
	x.r.code = RADIUS_ACCOUNTING_RESPONSE;
	x.r.id = m->id;
	x.r.auth = pkt + 4;
	return ans_finish(&x, c, pkt, out, cap);
}

size_t nps_input(struct nps *n, const struct sockaddr_storage *peer, const uint8_t *pkt,
                 size_t len, uint64_t now, uint8_t *out, size_t cap)
{
	char pt[64];
	const struct nps_client *c = nps_client_find(n->cfg, peer);
	if (!c) {
		n->st.unknown_client++;
		NLOG_DROP(n, "a datagram from %s dropped: no RADIUS client has that address "
		          "(serve.radius_server.clients)", net_sockaddr_text(peer, pt, sizeof pt));
		return 0;
	}
	struct radius_msg *m = malloc(sizeof *m);
	struct diag_err err = {0};
	if (!m) return 0;
	size_t ret = 0;
	if (radius_decode(pkt, len, m, &err) != 0) {
		n->st.malformed++;
		NLOG_DROP(n, "a malformed datagram from %s dropped: %s at offset %zu",
		          net_sockaddr_text(peer, pt, sizeof pt), err.reason, err.off);
		goto out;
	}
	uint8_t key[RAD_DUP_KEY];
	rad_dupcache_key(peer, pkt, key);
	size_t cl = 0;
	const uint8_t *cached = rad_dupcache_get(&n->cache, key, now, &cl);
	if (cached && cl <= cap) {
		n->st.duplicates++;
		nlog(n, true, "request id %u from %s again: the cached answer is resent",
		     m->id, net_sockaddr_text(peer, pt, sizeof pt));
		memcpy(out, cached, cl);
		ret = cl;
		goto out;
	}
	char ct[TEXT_PRINTABLE_SIZE(64)];
	text_printable_str(c->name, ct, sizeof ct);
	const uint8_t *sec = (const uint8_t *)c->secret;
	size_t sl = strlen(c->secret);
	switch (m->code) {
	case RADIUS_ACCESS_REQUEST:
	case RADIUS_STATUS_SERVER: {
		int v = radius_verify_msg_auth(pkt, len, NULL, sec, sl);
		if (v != 1) {
			if (v < 0) n->st.no_msg_auth++;
			else n->st.bad_msg_auth++;
			NLOG_DROP(n, "%s id %u from client %s dropped: %s", m->code == 1 ?
			          "Access-Request" : "Status-Server", m->id, ct, v < 0 ?
			          "no Message-Authenticator (required against forged answers)"
			          : "the Message-Authenticator does not verify with the client's secret");
			goto out;
		}
		if (m->code == RADIUS_STATUS_SERVER) {
			n->st.status_server++;
			struct ans x;
			memset(&x, 0, sizeof x);
			x.r.code = RADIUS_ACCESS_ACCEPT;
			x.r.id = m->id;
			ret = ans_finish(&x, c, pkt, out, cap);
		} else {
			ret = access_request(n, c, peer, m, pkt, now, out, cap);
		}
		break;
	}
	case RADIUS_ACCOUNTING_REQUEST:
		ret = accounting_request(n, c, m, pkt, len, out, cap);
		break;
	default: {
		n->st.unsupported++;
		const char *cn = tok_name(radius_code_names, m->code);
		NLOG_DROP(n, "%s (code %u) from client %s dropped: not answered here",
		          cn ? cn : "?", m->code, ct);
		break;
	}
	}
	if (ret) rad_dupcache_put(&n->cache, key, out, ret, now);
out:
	free(m);
	return ret;
}
