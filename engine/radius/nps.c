/* The NPS-compatible RADIUS server (nps.h). */
#include "radius/nps.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eap/eap_mschapv2.h"
#include "mschap.h"
#include "net.h"
#include "ppp.h"
#include "ppp/ppp_auth.h"

/* ---- set-up ------------------------------------------------------------------------ */
static void eap_drop(void *ctx, struct eapconv *cv, const char *why);

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
	int convs = c->serve.radius_eap_conversations > 0 ? c->serve.radius_eap_conversations : 1024;
	int secs = c->serve.radius_eap_timeout > 0 ? c->serve.radius_eap_timeout : 30;
	if (eapconv_init(&n->eap, (size_t)convs, (uint64_t)secs * 1000, c->serve.nnps_clients,
	                 eap_drop, n) != 0)
		return -1;
	if (rad_dupcache_init(&n->cache, c->serve.radius_cache > 0 ? (size_t)c->serve.radius_cache
	                                                           : 256, NPS_DUP_MS) != 0) {
		eapconv_free(&n->eap);
		return -1;
	}
	return 0;
}

void nps_free(struct nps *n)
{
	eapconv_free(&n->eap); /* the leases conversations hold go back with the others */
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
	int eap_type;                /* enum eap_type with AUTH_EAP, else -1 */
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
	a->eap_type = q->method == AUTH_EAP ? q->eap_type : -1;
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

/* The decision on an attempt whose credentials q holds: the policy engine, then the
 * address (the account's static one or what the client asked for, else one from the
 * pool), leased and recorded in n->leases. The verdict goes to v. */
static void nps_decide(struct nps *n, const struct nps_client *c, const struct nps_req *q,
                       const char *user, const struct sockaddr_storage *peer, uint64_t now,
                       struct eapconv_verdict *v)
{
	if (addr_pool_clients(n->pool) + 1 >= n->pool->size && n->nleases)
		leases_reclaim(n, now);
	struct attempt a;
	build_attempt(n, q, user, peer, &a);
	int rc = decide(n, &a);
	struct policy_result *r = n->pres;
	char summary[600];
	admit_summary(n->cfg, &a, r, summary, sizeof summary);
	memset(v, 0, sizeof *v);
	text_printable_str(summary, v->detail, sizeof v->detail); /* it may quote the request */
	uint32_t addr = 0;
	bool leased = false;
	if (rc == 0 && r->has_address) {
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
			r->reason = R_POOL_EXHAUSTED;
			r->error = policy_reasons[R_POOL_EXHAUSTED].error;
			r->nps_reason = policy_reasons[R_POOL_EXHAUSTED].nps_reason;
			snprintf(v->detail, sizeof v->detail, "the granted address is in use");
		}
	}
	if (leased && !lease_add(n, addr, (uint32_t)(c - n->cfg->serve.nps_clients), now)) {
		addr_pool_release(n->pool, addr);
		addr = 0;
		leased = false;
		rc = 1;
		r->reason = R_POOL_EXHAUSTED;
		r->error = policy_reasons[R_POOL_EXHAUSTED].error;
		r->nps_reason = 0;
	}
	v->accept = rc == 0;
	v->policy = r->policy;
	v->reason = r->reason;
	v->error = r->error;
	v->nps_reason = r->nps_reason;
	v->session_timeout = r->session_timeout;
	v->idle_timeout = r->idle_timeout;
	v->enc_allowed = (r->policy >= 0 ? n->cfg->policies[r->policy].profile.enc_mask
	                                 : UINT32_MAX) & n->cfg->server.enc_mask;
	v->addr = addr;
	v->leased = leased;
	v->lease_at = now;
	attempt_free(&a);
}

/* A lease granted at `at` goes back to the pool (a conversation that did not end in an
 * Access-Accept); one the pool took back meanwhile is left alone. */
static void lease_drop(struct nps *n, uint32_t client, uint32_t addr, uint64_t at)
{
	for (size_t i = 0; i < n->nleases; i++) {
		struct nps_lease *l = &n->leases[i];
		if (l->client != client || l->addr != addr || l->at != at) continue;
		addr_pool_release(n->pool, l->addr);
		n->leases[i] = n->leases[--n->nleases];
		return;
	}
}

/* Whether the lease granted at `at` is still held (the pool did not take it back). */
static bool lease_held(const struct nps *n, uint32_t client, uint32_t addr, uint64_t at)
{
	for (size_t i = 0; i < n->nleases; i++)
		if (n->leases[i].client == client && n->leases[i].addr == addr && n->leases[i].at == at)
			return true;
	return false;
}

/* What else an answer carries. */
struct nps_extra {
	const struct nps_req *q;     /* MS-CHAPv2 in RFC 2548 attributes, NULL otherwise */
	const uint8_t *eap;          /* EAP-Success or EAP-Failure, NULL none */
	size_t eap_len;
	bool keys;                   /* v->send_key and recv_key hold the MPPE keys */
	const char *method;          /* for the log */
	const char *user;            /* printable, for the log */
	const char *reply;           /* the rejection's text, NULL: the reason's */
};

/* EAP-Message attributes of 253 octets at most (RFC 3579 3.1). */
static void add_eap_message(struct ans *x, const uint8_t *eap, size_t len)
{
	for (size_t off = 0; off < len; off += 253)
		add_attr(x, RADIUS_ATTR_EAP_MESSAGE, eap + off, len - off > 253 ? 253 : len - off);
}

/* The Access-Accept or -Reject of a verdict, signed, into out: its length. */
static size_t nps_answer(struct nps *n, const struct nps_client *c, const struct radius_msg *m,
                         const uint8_t *pkt, const struct eapconv_verdict *v,
                         const struct nps_extra *e, uint8_t *out, size_t cap)
{
	struct ans x;
	memset(&x, 0, sizeof x);
	x.r.id = m->id;
	x.r.auth = pkt + 4;
	uint8_t sendk[40], recvk[40], success[44], class[48], reply[200], mserr[160];
	char ct[TEXT_PRINTABLE_SIZE(64)], ab[20];
	text_printable_str(c->name, ct, sizeof ct);
	const char *pname = v->policy >= 0 ? n->cfg->policies[v->policy].name : "-";
	const struct nps_req *q = e->q;
	if (e->eap) add_eap_message(&x, e->eap, e->eap_len);
	if (v->accept) {
		n->st.accepts++;
		x.r.code = RADIUS_ACCESS_ACCEPT;
		add_u32(&x, RADIUS_ATTR_SERVICE_TYPE, false, 2);   /* Framed */
		add_u32(&x, RADIUS_ATTR_FRAMED_PROTOCOL, false, 1); /* PPP */
		if (v->addr) add_u32(&x, RADIUS_ATTR_FRAMED_IP_ADDRESS, false, v->addr);
		if (v->session_timeout)
			add_u32(&x, RADIUS_ATTR_SESSION_TIMEOUT, false, (uint32_t)v->session_timeout * 60);
		if (v->idle_timeout)
			add_u32(&x, RADIUS_ATTR_IDLE_TIMEOUT, false, (uint32_t)v->idle_timeout * 60);
		int cl = snprintf((char *)class, sizeof class, "vnet:%llu:%u:%d",
		                  (unsigned long long)n->boot, ++n->class_seq, v->policy);
		add_attr(&x, RADIUS_ATTR_CLASS, class, (size_t)cl < sizeof class ? (size_t)cl : 0);
		add_u32(&x, MS_MPPE_ENCRYPTION_POLICY, true, v->enc_allowed >> ENC_NONE & 1 ? 1 : 2);
		add_u32(&x, MS_MPPE_ENCRYPTION_TYPES, true, enc_types(v->enc_allowed));
		if (q && q->method == AUTH_MSCHAPV2) {
			success[0] = q->ms_ident;
			memcpy(success + 1, q->success, 42);
			add_vsa(&x, MS_CHAP2_SUCCESS, success, 43);
		}
		if (e->keys) {
			const uint8_t *sec = (const uint8_t *)c->secret;
			size_t sl = strlen(c->secret);
			uint8_t salt[4];
			if (n->cbs->random) n->cbs->random(n->ctx, salt, sizeof salt);
			else memset(salt, 0x5a, sizeof salt);
			salt[2] ^= 0x01; /* the two salts differ */
			if (salt[0] == salt[2] && salt[1] == salt[3]) salt[3] ^= 0x01;
			size_t sn = radius_ms_mppe_key_encrypt(v->send_key, 16, salt, sec, sl, pkt + 4,
			                                       sendk, sizeof sendk);
			size_t rn = radius_ms_mppe_key_encrypt(v->recv_key, 16, salt + 2, sec, sl,
			                                       pkt + 4, recvk, sizeof recvk);
			if (sn) add_vsa(&x, MS_MPPE_SEND_KEY, sendk, sn);
			if (rn) add_vsa(&x, MS_MPPE_RECV_KEY, recvk, rn);
		}
		nlog(n, false, "Access-Accept user=%s client=%s method=%s reason=0 "
		     "policy=\"%s\" addr=%s session=%dmin idle=%dmin", e->user, ct, e->method, pname,
		     v->addr ? ipv4_str(v->addr, ab, sizeof ab) : "-", v->session_timeout,
		     v->idle_timeout);
	} else {
		n->st.rejects++;
		x.r.code = RADIUS_ACCESS_REJECT;
		const struct reason_info *ri = &policy_reasons[v->reason];
		const char *text = e->reply ? e->reply : ri->text;
		int rl;
		if (v->nps_reason)
			rl = snprintf((char *)reply, sizeof reply, "NPS reason code %d: %s (Windows error %d)",
			              v->nps_reason, text, v->error);
		else
			rl = snprintf((char *)reply, sizeof reply, "%s (Windows error %d)", text, v->error);
		add_attr(&x, RADIUS_ATTR_REPLY_MESSAGE, reply,
		         rl > 0 && (size_t)rl < sizeof reply ? (size_t)rl : sizeof reply - 1);
		if (q && q->method == AUTH_MSCHAPV2 && q->auth_challenge) {
			mserr[0] = q->ms_ident;
			ppp_auth_mschapv2_failure((unsigned)v->error, false, q->auth_challenge, ri->text,
			                          (char *)mserr + 1, sizeof mserr - 1);
			add_vsa(&x, MS_CHAP_ERROR, mserr, 1 + strlen((char *)mserr + 1));
		}
		nlog(n, false, "Access-Reject user=%s client=%s method=%s reason=%d error=%d "
		     "(%s) policy=\"%s\": %s", e->user, ct, e->method, v->nps_reason, v->error,
		     ri->code, pname, v->detail);
	}
	size_t len = ans_finish(&x, c, pkt, out, cap);
	OPENSSL_cleanse(sendk, sizeof sendk);
	OPENSSL_cleanse(recvk, sizeof recvk);
	return len;
}

static size_t access_request(struct nps *n, const struct nps_client *c,
                             const struct sockaddr_storage *peer, const struct radius_msg *m,
                             const uint8_t *pkt, uint64_t now, uint8_t *out, size_t cap)
{
	struct nps_req q = {.client = c, .m = m, .pkt = pkt, .eap_type = -1};
	const struct radius_attr *un = radius_find(m, RADIUS_ATTR_USER_NAME);
	char *user = un && un->vlen <= PPP_AUTH_USER_MAX ? attr_str(un) : NULL;
	check_credentials(n, &q, user);
	struct eapconv_verdict v;
	nps_decide(n, c, &q, user, peer, now, &v);
	char ut[TEXT_PRINTABLE_SIZE(PPP_AUTH_USER_MAX)];
	text_printable(un ? un->val : (const uint8_t *)"", un ? un->vlen : 0, ut, sizeof ut);
	if (q.have_keys) {
		memcpy(v.send_key, q.send_key, 16);
		memcpy(v.recv_key, q.recv_key, 16);
	}
	struct nps_extra e = {.q = &q, .keys = q.have_keys && q.method == AUTH_MSCHAPV2,
	                      .method = auth_method_names[q.method], .user = ut};
	size_t len = nps_answer(n, c, m, pkt, &v, &e, out, cap);
	if (!len && v.leased)
		lease_drop(n, (uint32_t)(c - n->cfg->serve.nps_clients), v.addr, v.lease_at);
	OPENSSL_cleanse(&q, sizeof q);
	OPENSSL_cleanse(&v, sizeof v);
	free(user);
	return len;
}

/* ---- EAP over RADIUS (RFC 3579): EAP-MSCHAPv2 --------------------------------------- */
/* An Access-Challenge carrying `eap` and the conversation's State. */
static size_t eap_challenge(struct nps *n, const struct nps_client *c,
                            const struct radius_msg *m, const uint8_t *pkt,
                            const struct eapconv *cv, const uint8_t *eap, size_t eap_len,
                            uint8_t *out, size_t cap)
{
	if (!eap_len) return 0;
	struct ans x;
	memset(&x, 0, sizeof x);
	x.r.code = RADIUS_ACCESS_CHALLENGE;
	x.r.id = m->id;
	x.r.auth = pkt + 4;
	add_eap_message(&x, eap, eap_len);
	add_attr(&x, RADIUS_ATTR_STATE, cv->state, EAPCONV_STATE_LEN);
	n->st.eap_challenges++;
	return ans_finish(&x, c, pkt, out, cap);
}

/* An Access-Reject with EAP-Failure for a request that breaks the EAP conversation (not
 * a decision: no NPS reason). `cv` (when given) ends. */
__attribute__((format(printf, 9, 10)))
static size_t eap_refuse(struct nps *n, const struct nps_client *c, const struct radius_msg *m,
                         const uint8_t *pkt, struct eapconv *cv, uint8_t eap_id, uint8_t *out,
                         size_t cap, const char *fmt, ...)
{
	char why[300], wt[TEXT_PRINTABLE_SIZE(300)], ct[TEXT_PRINTABLE_SIZE(64)];
	char ut[TEXT_PRINTABLE_SIZE(EAPCONV_IDENTITY_MAX)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	text_printable_str(why, wt, sizeof wt);
	text_printable_str(c->name, ct, sizeof ct);
	const struct radius_attr *un = radius_find(m, RADIUS_ATTR_USER_NAME);
	if (cv && cv->identity[0]) text_printable_str(cv->identity, ut, sizeof ut);
	else text_printable(un ? un->val : (const uint8_t *)"",
	                    un ? (un->vlen < EAPCONV_IDENTITY_MAX ? un->vlen : EAPCONV_IDENTITY_MAX)
	                       : 0, ut, sizeof ut);
	n->st.rejects++;
	n->st.eap_refused++;
	NLOG_DROP(n, "Access-Reject user=%s client=%s method=eap: the EAP conversation is "
	          "refused: %s", ut, ct, wt);
	if (cv) eapconv_close(&n->eap, cv, "refused");
	struct ans x;
	memset(&x, 0, sizeof x);
	x.r.code = RADIUS_ACCESS_REJECT;
	x.r.id = m->id;
	x.r.auth = pkt + 4;
	uint8_t fail[4], reply[200];
	size_t fl = eap_packet_build(fail, sizeof fail, EAP_FAILURE, eap_id, 0, NULL, 0);
	add_eap_message(&x, fail, fl);
	int rl = snprintf((char *)reply, sizeof reply, "EAP conversation refused: %s", why);
	add_attr(&x, RADIUS_ATTR_REPLY_MESSAGE, reply,
	         rl > 0 && (size_t)rl < sizeof reply ? (size_t)rl : sizeof reply - 1);
	return ans_finish(&x, c, pkt, out, cap);
}

/* The Identity response: kept, and the MS-CHAPv2 Challenge proposed. */
static size_t eap_identity(struct nps *n, const struct nps_client *c, const struct radius_msg *m,
                           const uint8_t *pkt, struct eapconv *cv, const struct ppp_eap *e,
                           uint8_t *out, size_t cap)
{
	if (e->type_data_len > EAPCONV_IDENTITY_MAX || e->type_data_len == 0 ||
	    memchr(e->type_data, 0, e->type_data_len))
		return eap_refuse(n, c, m, pkt, cv, e->id, out, cap, "an EAP identity of %zu octets%s "
		                  "(1..%d without NUL octets are taken)", e->type_data_len,
		                  memchr(e->type_data, 0, e->type_data_len) ? " with a NUL" : "",
		                  EAPCONV_IDENTITY_MAX);
	memcpy(cv->identity, e->type_data, e->type_data_len);
	cv->identity[e->type_data_len] = 0;
	if (n->cbs->random) n->cbs->random(n->ctx, cv->auth_challenge, 16);
	cv->eap_id = (uint8_t)(e->id + 1);
	cv->ms_id = cv->eap_id;
	cv->stage = EAPCONV_CHALLENGE;
	uint8_t eap[128];
	size_t el = eap_mschapv2_challenge(eap, sizeof eap, cv->eap_id, cv->ms_id,
	                                   cv->auth_challenge, n->cfg->server.name);
	return eap_challenge(n, c, m, pkt, cv, eap, el, out, cap);
}

/* The MS-CHAPv2 Response: checked against the account's password, decided by the policy
 * engine, answered with MS-CHAPv2 Success or Failure (the verdict kept for the end). */
static size_t eap_response(struct nps *n, const struct nps_client *c,
                           const struct sockaddr_storage *peer, const struct radius_msg *m,
                           const uint8_t *pkt, uint64_t now, struct eapconv *cv,
                           const struct ppp_eap *e, uint8_t *out, size_t cap)
{
	struct eap_mschapv2_response r;
	if (eap_mschapv2_response_parse(e->type_data, e->type_data_len, cv->ms_id, &r) != 0)
		return eap_refuse(n, c, m, pkt, cv, e->id, out, cap, "the EAP-MS-CHAPv2 answer to the "
		                  "Challenge (MS-CHAPv2-ID %u) is not its Response", cv->ms_id);
	struct nps_req q = {.client = c, .m = m, .pkt = pkt, .method = AUTH_EAP,
	                    .eap_type = EAP_MSCHAPV2};
	const struct user *u = config_find_user(n->cfg, cv->identity);
	q.cred = !u ? ADMIT_CRED_UNKNOWN_USER : ADMIT_CRED_ERROR;
	char name[PPP_AUTH_USER_MAX + 1];
	struct eap_mschapv2_keys k;
	int ok = -1;
	if (u && u->password && r.name_len <= PPP_AUTH_USER_MAX &&
	    !memchr(r.name, 0, r.name_len)) {
		memcpy(name, r.name, r.name_len);
		name[r.name_len] = 0;
		ok = eap_mschapv2_verify(u->password, strlen(u->password), name, cv->auth_challenge,
		                         r.peer_challenge, r.nt_response, &k);
		if (ok >= 0) q.cred = ok ? ADMIT_CRED_OK : ADMIT_CRED_BAD;
	}
	nps_decide(n, c, &q, cv->identity, peer, now, &cv->v);
	/* the decision is logged now: a peer may give up without acknowledging the Failure */
	char ut[TEXT_PRINTABLE_SIZE(EAPCONV_IDENTITY_MAX)], ct[TEXT_PRINTABLE_SIZE(64)];
	text_printable_str(cv->identity, ut, sizeof ut);
	text_printable_str(c->name, ct, sizeof ct);
	const struct eapconv_verdict *v = &cv->v;
	nlog(n, false, "EAP-MSCHAPv2 Response user=%s client=%s: %s reason=%d error=%d (%s) "
	     "policy=\"%s\": %s", ut, ct, v->accept && ok == 1 ? "granted" : "refused",
	     v->accept && ok == 1 ? 0 : v->nps_reason, v->accept && ok == 1 ? 0 : v->error,
	     v->accept && ok == 1 ? "-" : policy_reasons[v->reason].code,
	     v->policy >= 0 ? n->cfg->policies[v->policy].name : "-", v->detail);
	uint8_t eap[256];
	size_t el;
	cv->eap_id = (uint8_t)(e->id + 1);
	if (cv->v.accept && ok == 1) {
		memcpy(cv->v.recv_key, k.msk, 16);
		memcpy(cv->v.send_key, k.msk + 16, 16);
		char text[80];
		snprintf(text, sizeof text, "%s M=Access granted", k.auth_response);
		el = eap_mschapv2_request(eap, sizeof eap, cv->eap_id, EAP_MS_SUCCESS, cv->ms_id,
		                          (const uint8_t *)text, strlen(text));
		cv->stage = EAPCONV_SUCCESS;
	} else {
		if (cv->v.accept) { /* never granted without a checked password */
			cv->v.accept = false;
			cv->v.reason = R_BAD_CREDENTIALS;
			cv->v.error = policy_reasons[R_BAD_CREDENTIALS].error;
			cv->v.nps_reason = policy_reasons[R_BAD_CREDENTIALS].nps_reason;
		}
		uint8_t ch[16];
		if (n->cbs->random) n->cbs->random(n->ctx, ch, sizeof ch);
		else memset(ch, 0, sizeof ch);
		char text[200];
		ppp_auth_mschapv2_failure((unsigned)cv->v.error, false, ch,
		                          policy_reasons[cv->v.reason].text, text, sizeof text);
		el = eap_mschapv2_request(eap, sizeof eap, cv->eap_id, EAP_MS_FAILURE, cv->ms_id,
		                          (const uint8_t *)text, strlen(text));
		cv->stage = EAPCONV_FAILURE;
	}
	OPENSSL_cleanse(&k, sizeof k);
	return eap_challenge(n, c, m, pkt, cv, eap, el, out, cap);
}

/* The last answer of a conversation: Access-Accept with EAP-Success, or Access-Reject with
 * EAP-Failure; the conversation ends. */
static size_t eap_finish(struct nps *n, const struct nps_client *c, const struct radius_msg *m,
                         const uint8_t *pkt, struct eapconv *cv, uint8_t eap_id,
                         const char *reply, uint8_t *out, size_t cap)
{
	if (cv->v.accept && cv->v.leased && !lease_held(n, cv->client, cv->v.addr, cv->v.lease_at)) {
		/* the conversation outlived the wait for accounting: the pool took it back */
		cv->v.accept = false;
		cv->v.leased = false;
		cv->v.reason = R_POOL_EXHAUSTED;
		cv->v.error = policy_reasons[R_POOL_EXHAUSTED].error;
		cv->v.nps_reason = 0;
		snprintf(cv->v.detail, sizeof cv->v.detail, "the address granted at the Response "
		         "went back to the pool before the peer acknowledged");
	}
	uint8_t eap[4];
	size_t el = eap_packet_build(eap, sizeof eap, cv->v.accept ? EAP_SUCCESS : EAP_FAILURE,
	                             eap_id, 0, NULL, 0);
	char ut[TEXT_PRINTABLE_SIZE(EAPCONV_IDENTITY_MAX)];
	text_printable_str(cv->identity, ut, sizeof ut);
	struct nps_extra e = {.eap = eap, .eap_len = el, .keys = cv->v.accept,
	                      .method = "eap-mschapv2", .user = ut, .reply = reply};
	size_t len = nps_answer(n, c, m, pkt, &cv->v, &e, out, cap);
	if (len && cv->v.accept) cv->v.leased = false; /* the lease is the session's now */
	eapconv_close(&n->eap, cv, cv->v.accept ? "accepted" : "rejected");
	return len;
}

/* A conversation ends: a lease it still holds goes back. */
static void eap_drop(void *ctx, struct eapconv *cv, const char *why)
{
	struct nps *n = ctx;
	if (cv->v.leased) lease_drop(n, cv->client, cv->v.addr, cv->v.lease_at);
	char ut[TEXT_PRINTABLE_SIZE(EAPCONV_IDENTITY_MAX)];
	text_printable_str(cv->identity, ut, sizeof ut);
	nlog(n, true, "EAP conversation of %s ended: %s", cv->identity[0] ? ut : "(no identity)",
	     why);
}

static size_t eap_request(struct nps *n, const struct nps_client *c,
                          const struct sockaddr_storage *peer, const struct radius_msg *m,
                          const uint8_t *pkt, uint64_t now, uint8_t *out, size_t cap)
{
	uint32_t ci = (uint32_t)(c - n->cfg->serve.nps_clients);
	uint8_t eap[EAPCONV_EAP_MAX];
	struct diag_err err = {0};
	n->st.eap_requests++;
	long el = eapconv_join(m, eap, sizeof eap, &err);
	if (el < 0) {
		n->st.eap_malformed++;
		return eap_refuse(n, c, m, pkt, NULL, 0, out, cap, "%s", err.reason);
	}
	struct ppp_eap e;
	if (el > 0 && ppp_eap_decode(eap, (size_t)el, &e, &err) != 0) {
		n->st.eap_malformed++;
		return eap_refuse(n, c, m, pkt, NULL, eap[1], out, cap, "%s at offset %zu of the EAP "
		                  "packet", err.reason, err.off);
	}
	if (el > 0 && e.code != EAP_RESPONSE)
		return eap_refuse(n, c, m, pkt, NULL, e.id, out, cap, "an EAP %s where a peer sends "
		                  "Responses", tok_name(ppp_eap_code_names, e.code)
		                  ? tok_name(ppp_eap_code_names, e.code) : "packet");
	const struct radius_attr *st = radius_find(m, RADIUS_ATTR_STATE);
	struct eapconv *cv;
	if (!st) {
		if (el > 0 && e.type != EAP_TYPE_IDENTITY)
			return eap_refuse(n, c, m, pkt, NULL, e.id, out, cap, "an EAP-Response of type %u "
			                  "without State: a conversation begins with an Identity or an "
			                  "EAP-Start", e.type);
		uint8_t rnd[EAPCONV_STATE_LEN - 2];
		if (n->cbs->random) n->cbs->random(n->ctx, rnd, sizeof rnd);
		else memset(rnd, 0, sizeof rnd);
		cv = eapconv_open(&n->eap, ci, peer, now, rnd);
		if (!cv) return eap_refuse(n, c, m, pkt, NULL, 0, out, cap, "no conversation could be kept");
		if (el > 0) return eap_identity(n, c, m, pkt, cv, &e, out, cap);
		/* EAP-Start: ask for the identity */
		uint8_t id;
		if (n->cbs->random) n->cbs->random(n->ctx, &id, 1);
		else id = 0;
		cv->eap_id = id;
		cv->stage = EAPCONV_IDENTITY;
		uint8_t req[5];
		size_t rl = eap_packet_build(req, sizeof req, EAP_REQUEST, id, EAP_TYPE_IDENTITY,
		                             NULL, 0);
		return eap_challenge(n, c, m, pkt, cv, req, rl, out, cap);
	}
	enum eapconv_miss why;
	cv = eapconv_find(&n->eap, st->val, st->vlen, ci, peer, now, &why);
	if (!cv) {
		n->st.eap_bad_state++;
		return eap_refuse(n, c, m, pkt, NULL, el > 0 ? e.id : 0, out, cap, "%s",
		                  eapconv_miss_text[why]);
	}
	if (el == 0)
		return eap_refuse(n, c, m, pkt, cv, cv->eap_id, out, cap, "an EAP-Start inside a "
		                  "conversation");
	if (e.id != cv->eap_id)
		return eap_refuse(n, c, m, pkt, cv, e.id, out, cap, "EAP Identifier %u answers no "
		                  "request (%u was sent)", e.id, cv->eap_id);
	const uint8_t op = e.type == EAP_TYPE_MSCHAPV2 && e.type_data_len ? e.type_data[0] : 0;
	switch (cv->stage) {
	case EAPCONV_IDENTITY:
		if (e.type != EAP_TYPE_IDENTITY) break;
		return eap_identity(n, c, m, pkt, cv, &e, out, cap);
	case EAPCONV_CHALLENGE:
		if (e.type == EAP_TYPE_MSCHAPV2)
			return eap_response(n, c, peer, m, pkt, now, cv, &e, out, cap);
		if (e.type == EAP_TYPE_NAK || cv->reproposed) {
			/* no type in common: the peer wants another, this server speaks MS-CHAPv2 */
			char types[120] = "";
			size_t tl = 0;
			for (size_t i = 0; e.type == EAP_TYPE_NAK && i < e.type_data_len && i < 8; i++) {
				const char *tn = tok_name(ppp_eap_type_names, e.type_data[i]);
				int w = snprintf(types + tl, sizeof types - tl, "%s%s", tl ? ", " : "",
				                 tn ? tn : "?");
				if (w < 0 || (size_t)w >= sizeof types - tl) break;
				tl += (size_t)w;
			}
			const struct reason_info *ri = &policy_reasons[R_EAP_TYPE];
			memset(&cv->v, 0, sizeof cv->v);
			cv->v.policy = -1;
			cv->v.reason = R_EAP_TYPE;
			cv->v.error = ri->error;
			cv->v.nps_reason = ri->nps_reason;
			snprintf(cv->v.detail, sizeof cv->v.detail, "the peer refuses EAP-MSCHAPv2%s%s%s",
			         tl ? " and proposes " : "", types, tl ? "" : " (no other type proposed)");
			return eap_finish(n, c, m, pkt, cv, e.id, "the client and the server have no EAP "
			                  "type in common (the server speaks EAP-MSCHAPv2)", out, cap);
		}
		/* another type than the one asked for: MS-CHAPv2 proposed once more */
		cv->reproposed = true;
		cv->eap_id = (uint8_t)(e.id + 1);
		cv->ms_id = cv->eap_id;
		if (n->cbs->random) n->cbs->random(n->ctx, cv->auth_challenge, 16);
		uint8_t req[128];
		size_t rl = eap_mschapv2_challenge(req, sizeof req, cv->eap_id, cv->ms_id,
		                                   cv->auth_challenge, n->cfg->server.name);
		return eap_challenge(n, c, m, pkt, cv, req, rl, out, cap);
	case EAPCONV_SUCCESS:
		if (op == EAP_MS_SUCCESS) return eap_finish(n, c, m, pkt, cv, e.id, NULL, out, cap);
		if (e.type == EAP_TYPE_MSCHAPV2 && op == EAP_MS_FAILURE) {
			cv->v.accept = false;
			cv->v.reason = R_BAD_CREDENTIALS;
			cv->v.error = policy_reasons[R_BAD_CREDENTIALS].error;
			cv->v.nps_reason = 0;
			snprintf(cv->v.detail, sizeof cv->v.detail, "the peer refuses the server's "
			         "authenticator response");
			return eap_finish(n, c, m, pkt, cv, e.id, "the client did not accept the "
			                  "server's proof of the password", out, cap);
		}
		break;
	case EAPCONV_FAILURE:
		/* any Response acknowledges the Failure */
		return eap_finish(n, c, m, pkt, cv, e.id, NULL, out, cap);
	}
	return eap_refuse(n, c, m, pkt, cv, e.id, out, cap, "an EAP-Response of type %u (opcode %u) "
	                  "where the conversation waits for another", e.type, op);
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
			n->st.access_requests++;
			ret = radius_find(m, RADIUS_ATTR_EAP_MESSAGE)
			      ? eap_request(n, c, peer, m, pkt, now, out, cap)
			      : access_request(n, c, peer, m, pkt, now, out, cap);
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
