/* `vnet serve`: IKEv2 remote access (serve.ikev2), Windows' built-in IKEv2 VPN. The IKE
 * sockets are server_ike.c's (UDP ike_port and natt_port, the raw ESP socket): it hands
 * over every IKE message of major version 2 (srv_ikev2_input) and ESP for an SPI its
 * IKEv1 table does not have (srv_ikev2_esp).
 *
 * Every protocol decision is engine/ike's (ikev2.h: one responder per IKE SA; esp_sa.h:
 * one ESP pair per child SA) and every admission the session's (engine/server/
 * ras_session.h, a session without PPP). What this file keeps:
 *   - the IKE SAs: an IKE_SA_INIT request is found by the initiator's SPI and address,
 *     everything after by our SPI (the current one and, after an IKE SA rekey, the old
 *     one); bounded by serve.ikev2.limits.sas, those half open by limits.half_open with
 *     the fair share of srv_half_open_admit; above limits.cookie_threshold half-open SAs a
 *     new IKE_SA_INIT costs nothing until it returns a cookie (RFC 7296 2.6; the secret
 *     rotates on a timer);
 *   - per SA one timer in the server's heap (its own deadlines and its session's);
 *   - the session of an SA, created when its user is known (the `authorize` callback):
 *     its lower layer is the SA, its packets the child SAs' ESP in tunnel mode;
 *   - the children's ESP pairs, found by our SPI.
 * The responder is never called from inside its own callbacks: what they start (the
 * session coming up, a deletion) is done once the call returned (sa_check).
 */
#include "server.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "cert/certserve.h"
#include "esp.h"
#include "ike.h"
#include "ike/esp_sa.h"
#include "ike/ikev2.h"

struct srv_ikev2_sa;

/* A child SA: its ESP pair, found by our SPI. */
struct srv_ikev2_esp {
	struct esp_pair pair;
	struct srv_ikev2_sa *owner;
	struct srv_ikev2_esp *hnext;
	uint32_t spi_in, spi_out;
	uint32_t serial;             /* order within the IKE SA: the newest sends */
	uint64_t born_ms;
};

/* The session an SA carries once its user is known (its lower layer is the SA). */
struct srv_ikev2_sess {
	struct ras_session rs;       /* first: the session is the carrier */
	struct srv_ikev2_sa *sa;     /* NULL once the SA is gone or let go */
	struct srv_ikev2_sess *next_dead;
	uint64_t ras_at;             /* the session's own deadline */
	char cause[48];              /* the SA's cause, when the SA ended under it */
};

struct srv_ikev2_sa {
	struct ikev2_sa *sa;
	struct ikev2_cbs cbs;
	struct srv *srv;
	uint32_t id;                 /* server-wide number (logs, show) */
	uint8_t ispi[8];
	uint8_t peer_ip[4];          /* the address of the IKE_SA_INIT: the table's key */
	uint8_t rkey[3][8];          /* our SPIs the table holds (current, old, a rekey
	                                collision's losing SA), zeros: none */
	uint8_t keys_rspi[8];        /* our SPI of the IKE SA whose keys the capture's keys
	                                file has (zeros: none yet) */
	struct srv_timer timer;
	uint64_t created_ms;
	bool half_open;
	bool child_new;              /* a child came up: the session follows (sa_check) */
	unsigned ho_same;            /* half-open SAs of this source, itself included */
	struct srv_ikev2_sa *hnext_i, *hnext_r[3], *id_next;
	struct srv_ikev2_sa *next, *prev;         /* every SA, newest first */
	struct srv_ikev2_sa *ho_next, *ho_prev;   /* half-open SAs, newest first */
	struct srv_ikev2_esp *esp[IKEV2_CHILDREN];
	uint32_t child_serial;
	struct srv_ikev2_sess *sess;
};

struct srv_ikev2_stats {
	uint64_t rx, tx, malformed, unknown_sa, other_version, cookies_sent, refused_rate,
		refused_half_open, refused_sas, evicted_half_open, sas_up, sas_failed, children_up,
		esp_rx, esp_tx, esp_bad, esp_not_ip, refused_sessions;
};

struct srv_ikev2 {
	struct ikev2_conf conf;
	struct srv_listener *l_ike, *l_natt, *l_esp;
	struct ike_privkey *key;
	uint8_t *cert;               /* DER, OPENSSL_malloc'd */
	size_t cert_len;
	uint8_t *chain[IKEV2_CHAIN_MAX]; /* the CAs sent after it (DER, OPENSSL_malloc'd) */
	uint8_t *id;                 /* IDr */
	char *cert_verdict;          /* what cert pick says of the certificate presented */
	X509_STORE *trust;           /* the CAs clients' machine certificates chain to, or NULL */
	struct ikev2_cookies cookies;
	struct srv_timer cookie_timer;
	struct srv_ikev2_sa **by_ispi, **by_rspi[3], **by_id;
	uint32_t hmask;
	struct srv_ikev2_esp **by_spi;
	uint32_t smask;
	struct srv_ikev2_sa *all, *half_open;
	unsigned nsas, nhalf_open, nchildren;
	uint32_t next_id;
	struct srv_ikev2_sess *dead;
	struct srv_ikev2_stats st;
};

static const uint8_t zero8[8];

/* ---- tables ----------------------------------------------------------------------------- */
static uint32_t mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x7feb352d;
	h ^= h >> 15;
	h *= 0x846ca68b;
	h ^= h >> 16;
	return h;
}

static uint32_t spi_hash(const struct srv_ikev2 *k, const uint8_t spi[8])
{
	uint32_t a, b;
	memcpy(&a, spi, 4);
	memcpy(&b, spi + 4, 4);
	return mix32(a ^ mix32(b)) & k->hmask;
}

static struct srv_ikev2_sa *sa_by_id(const struct srv_ikev2 *k, uint32_t id)
{
	for (struct srv_ikev2_sa *x = k->by_id[mix32(id) & k->hmask]; x; x = x->id_next)
		if (x->id == id) return x;
	return NULL;
}

static struct srv_ikev2_esp *esp_by_spi(const struct srv_ikev2 *k, uint32_t spi)
{
	for (struct srv_ikev2_esp *e = k->by_spi[mix32(spi) & k->smask]; e; e = e->hnext)
		if (e->spi_in == spi) return e;
	return NULL;
}

/* Unlink x from the chain at *head whose links are at offset `off` of each SA. */
static void chain_remove(struct srv_ikev2_sa **head, struct srv_ikev2_sa *x, size_t off)
{
	for (struct srv_ikev2_sa **pp = head; *pp;
	     pp = (struct srv_ikev2_sa **)(void *)((uint8_t *)*pp + off))
		if (*pp == x) {
			*pp = *(struct srv_ikev2_sa **)(void *)((uint8_t *)x + off);
			return;
		}
}

/* The table of our SPIs follows the responder: after IKE_SA_INIT our SPI exists, after
 * an IKE SA rekey there is a new one and the old one until the peer deletes it, after a
 * rekey collision the losing SA's until its DELETE. */
static void rspi_sync(struct srv_ikev2 *k, struct srv_ikev2_sa *x)
{
	const uint8_t *now[3] = {ikev2_rspi(x->sa), ikev2_rspi_old(x->sa), ikev2_rspi_lost(x->sa)};
	for (int i = 0; i < 3; i++) {
		const uint8_t *want = now[i] ? now[i] : zero8;
		if (!memcmp(x->rkey[i], want, 8)) continue;
		if (memcmp(x->rkey[i], zero8, 8))
			chain_remove(&k->by_rspi[i][spi_hash(k, x->rkey[i])], x,
			             offsetof(struct srv_ikev2_sa, hnext_r) + (size_t)i * sizeof x->hnext_r[0]);
		memcpy(x->rkey[i], want, 8);
		x->hnext_r[i] = NULL;
		if (!memcmp(want, zero8, 8)) continue;
		struct srv_ikev2_sa **h = &k->by_rspi[i][spi_hash(k, want)];
		x->hnext_r[i] = *h;
		*h = x;
	}
}

static struct srv_ikev2_sa *sa_by_rspi(const struct srv_ikev2 *k, const uint8_t rspi[8],
                                       const uint8_t *buf, size_t len)
{
	for (int i = 0; i < 3; i++)
		for (struct srv_ikev2_sa *x = k->by_rspi[i][spi_hash(k, rspi)]; x; x = x->hnext_r[i])
			if (!memcmp(x->rkey[i], rspi, 8) && ikev2_matches(x->sa, buf, len)) return x;
	return NULL;
}

static void addr_of(const struct sockaddr_storage *ss, struct ikev2_addr *a)
{
	srv_ike_addr_in(ss, &a->family, a->ip, &a->port); /* server_ike.c */
}

static void sockaddr_of(const struct ikev2_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	srv_ike_addr_out(a->ip, port, ss);
}

#define ip_text srv_ip4_text

/* ---- log ----------------------------------------------------------------------------------- */
static void v2_log(struct srv *s, const struct srv_ikev2_sa *x, bool debug_only, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
static void v2_log(struct srv *s, const struct srv_ikev2_sa *x, bool debug_only, const char *fmt, ...)
{
	if (!srv_log_wanted(s, SC_IKE, debug_only)) return;
	char prefix[80] = "ikev2 ";
	if (x) {
		char ip[20];
		const struct ikev2_addr *p = ikev2_peer(x->sa);
		snprintf(prefix, sizeof prefix, "ikev2 sa=%u %s:%u ", x->id, ip_text(p->ip, ip, sizeof ip),
		         p->port);
	}
	va_list ap;
	va_start(ap, fmt);
	srv_ike_logv(s, debug_only, x && x->sess ? &x->sess->rs : NULL, prefix, fmt, ap); /* server_ike.c */
	va_end(ap);
}

/* ---- sending ------------------------------------------------------------------------------- */
/* A datagram to `to` from the IKE port (natt false) or the NAT-T port (the non-ESP marker
 * added). */
static void udp_out(struct srv *s, bool natt, const struct ikev2_addr *to, const uint8_t *buf,
                    size_t len)
{
	struct srv_ikev2 *k = s->ikev2;
	struct srv_listener *l = natt ? k->l_natt : k->l_ike;
	if (!l || l->fd < 0 || len > IKEV2_DATAGRAM_MAX) return;
	uint8_t out[IKEV2_DATAGRAM_MAX + 4];
	size_t n = len;
	const uint8_t *b = buf;
	if (natt) { /* the non-ESP marker (RFC 3948 2.2) */
		memset(out, 0, 4);
		memcpy(out + 4, buf, len);
		b = out;
		n = len + 4;
	}
	struct sockaddr_storage ss;
	sockaddr_of(to, to->port, &ss);
	k->st.tx++;
	srv_send(s, l->fd, &ss, sizeof(struct sockaddr_in), b, n, NULL);
}

/* ---- SAs ----------------------------------------------------------------------------------- */
static void ho_remove(struct srv_ikev2 *k, struct srv_ikev2_sa *x)
{
	if (!x->half_open) return;
	x->half_open = false;
	if (x->ho_prev) x->ho_prev->ho_next = x->ho_next;
	else k->half_open = x->ho_next;
	if (x->ho_next) x->ho_next->ho_prev = x->ho_prev;
	x->ho_next = x->ho_prev = NULL;
	x->ho_same = 0;
	if (k->nhalf_open) k->nhalf_open--;
	for (struct srv_ikev2_sa *o = k->half_open; o; o = o->ho_next)
		if (!memcmp(o->peer_ip, x->peer_ip, 4) && o->ho_same) o->ho_same--;
}

static void esp_free(struct srv_ikev2 *k, struct srv_ikev2_esp *e)
{
	struct srv_ikev2_esp **pp = &k->by_spi[mix32(e->spi_in) & k->smask];
	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	esp_pair_free(&e->pair);
	OPENSSL_cleanse(e, sizeof *e);
	free(e);
	if (k->nchildren) k->nchildren--;
}

/* Free the SA; its session, when it has one, goes down with it (the SA's cause). */
static void sa_free(struct srv *s, struct srv_ikev2_sa *x)
{
	struct srv_ikev2 *k = s->ikev2;
	ho_remove(k, x);
	chain_remove(&k->by_ispi[spi_hash(k, x->ispi)], x, offsetof(struct srv_ikev2_sa, hnext_i));
	for (int i = 0; i < 3; i++)
		if (memcmp(x->rkey[i], zero8, 8))
			chain_remove(&k->by_rspi[i][spi_hash(k, x->rkey[i])], x,
			             offsetof(struct srv_ikev2_sa, hnext_r) + (size_t)i * sizeof x->hnext_r[0]);
	chain_remove(&k->by_id[mix32(x->id) & k->hmask], x, offsetof(struct srv_ikev2_sa, id_next));
	if (x->prev) x->prev->next = x->next;
	else k->all = x->next;
	if (x->next) x->next->prev = x->prev;
	srv_timer_set(s, &x->timer, L2TP_NEVER);
	s->ntimers--;
	struct srv_ikev2_sess *ss = x->sess;
	if (ss) {
		x->sess = NULL;
		ss->sa = NULL;
		snprintf(ss->cause, sizeof ss->cause, "%s", ikev2_cause(x->sa));
		ras_session_lower_down(&ss->rs, RAS_CAUSE_LOWER, 0, 0, srv_now_ms());
	}
	for (int i = 0; i < IKEV2_CHILDREN; i++)
		if (x->esp[i]) esp_free(k, x->esp[i]);
	ikev2_free(x->sa);
	free(x);
	if (k->nsas) k->nsas--;
}

/* With a capture: the keys of the IKE SA once it has them, and again after each IKE SA
 * rekey (a new SPI), for Wireshark and `vnet pcap explain --keys`. */
static void keys_note(struct srv *s, struct srv_ikev2_sa *x)
{
	if (!s->dumper) return; /* no capture */
	const uint8_t *r = ikev2_rspi(x->sa);
	if (!r || !memcmp(x->keys_rspi, r, 8)) return;
	char line[640];
	size_t n = ikev2_keys_line(x->sa, false, line, sizeof line);
	if (!n) return;
	srv_ike_keys_text(s, line, n); /* server_ike.c */
	OPENSSL_cleanse(line, sizeof line);
	memcpy(x->keys_rspi, r, 8);
}

/* After input, a tick or a verdict: the session and the tables follow the responder. */
static void sa_check(struct srv *s, struct srv_ikev2_sa *x)
{
	struct srv_ikev2 *k = s->ikev2;
	enum ikev2_state st = ikev2_state(x->sa);
	if (x->half_open && !ikev2_half_open(x->sa)) ho_remove(k, x);
	if (x->child_new) {
		x->child_new = false;
		/* the client's tunnel is up: so is its session (accounting, routes); an
		 * encryption the grant does not allow ends it here, through ikev2_delete */
		if (x->sess && st == IKEV2_ESTABLISHED)
			x->sess->ras_at = ras_session_ip_up(&x->sess->rs, srv_now_ms());
		st = ikev2_state(x->sa);
	}
	if (st == IKEV2_DEAD) {
		const char *cause = ikev2_cause(x->sa);
		v2_log(s, x, !cause[0] || x->sess == NULL, "IKE SA freed%s%s", cause[0] ? ": " : "",
		       cause);
		sa_free(s, x);
		return;
	}
	rspi_sync(k, x);
	keys_note(s, x);
	uint64_t d = ikev2_deadline(x->sa);
	if (x->sess && x->sess->ras_at < d) d = x->sess->ras_at;
	srv_timer_set(s, &x->timer, d == IKEV2_NEVER ? L2TP_NEVER : d);
}

static void cookie_arm(struct srv *s)
{
	struct srv_ikev2 *k = s->ikev2;
	srv_timer_set(s, &k->cookie_timer, k->cookies.rotated + IKEV2_COOKIE_ROTATE_MS);
}

void srv_ikev2_timer(struct srv *s, struct srv_timer *tm, uint64_t now)
{
	struct srv_ikev2 *k = s->ikev2;
	if (!k) return;
	if (tm == &k->cookie_timer) {
		uint8_t fresh[32];
		srv_random(s, fresh, sizeof fresh);
		ikev2_cookies_rotate(&k->cookies, fresh, now);
		OPENSSL_cleanse(fresh, sizeof fresh);
		cookie_arm(s);
		return;
	}
	struct srv_ikev2_sa *x = (struct srv_ikev2_sa *)(void *)((uint8_t *)tm -
	                         offsetof(struct srv_ikev2_sa, timer));
	if (now >= ikev2_deadline(x->sa)) ikev2_tick(x->sa, now);
	if (x->sess && now >= x->sess->ras_at)
		x->sess->ras_at = ras_session_tick(&x->sess->rs, now);
	sa_check(s, x);
}

/* ---- the session's lower layer: the SA ------------------------------------------------------ */
static struct srv_ikev2_sess *sess_of(const struct ras_session *rs)
{
	return (struct srv_ikev2_sess *)(void *)rs;
}

static struct srv_ikev2_esp *newest_child(const struct srv_ikev2_sa *x)
{
	struct srv_ikev2_esp *e = NULL;
	for (int i = 0; i < IKEV2_CHILDREN; i++)
		if (x->esp[i] && (!e || x->esp[i]->serial > e->serial)) e = x->esp[i];
	return e;
}

/* A packet for the client: sealed in the newest child's ESP (tunnel mode). */
static int sess_send(struct ras_session *rs, const uint8_t *ip, size_t len)
{
	struct srv_ikev2_sa *x = sess_of(rs)->sa;
	if (!x || ikev2_state(x->sa) != IKEV2_ESTABLISHED) return -1;
	struct srv *s = x->srv;
	struct srv_ikev2 *k = s->ikev2;
	struct srv_ikev2_esp *e = newest_child(x);
	if (!e || len > SRV_DGRAM_MAX) return -1;
	uint8_t iv[16];
	srv_random(s, iv, esp_sa_ivlen(&e->pair.out));
	static uint8_t out[SRV_DGRAM_MAX + 128];
	int why = 0;
	size_t n = esp_pair_seal(&e->pair, iv, ip, len, 4, out, sizeof out, &why);
	if (!n) {
		if (why == ESPF_EXHAUSTED) {
			ikev2_child_delete(x->sa, e->spi_in, "sequence numbers used up", srv_now_ms());
			x->child_new = false;
		}
		return -1;
	}
	const struct ikev2_addr *p = ikev2_peer(x->sa);
	struct sockaddr_storage to;
	k->st.esp_tx++;
	if (e->pair.udp_encap) {
		if (!k->l_natt || k->l_natt->fd < 0) return -1;
		sockaddr_of(p, p->port, &to);
		srv_send(s, k->l_natt->fd, &to, sizeof(struct sockaddr_in), out, n, NULL);
	} else {
		if (!k->l_esp || k->l_esp->fd < 0) return -1;
		sockaddr_of(p, 0, &to);
		srv_send(s, k->l_esp->fd, &to, sizeof(struct sockaddr_in), out, n, NULL);
	}
	return 0;
}

/* The session is ending (disconnect, timeout, encryption): the SA is deleted with a
 * DELETE to the client; whoever called into the session frees it (sa_check). */
static void sess_close(struct ras_session *rs, unsigned win_error, uint64_t now)
{
	(void)win_error;
	struct srv_ikev2_sess *ss = sess_of(rs);
	struct srv_ikev2_sa *x = ss->sa;
	if (!x) return;
	char why[64];
	ras_session_cause_text(rs, why, sizeof why);
	x->sess = NULL;
	ss->sa = NULL;
	ikev2_delete(x->sa, why, now);
}

static const char *sess_peer_text(const struct ras_session *rs, char *buf, size_t n)
{
	const struct srv_ikev2_sa *x = sess_of(rs)->sa;
	if (!x) return NULL;
	char ip[20];
	const struct ikev2_addr *p = ikev2_peer(x->sa);
	snprintf(buf, n, "%s:%u", ip_text(p->ip, ip, sizeof ip), p->port);
	return buf;
}

static const char *sess_peer_ip(const struct ras_session *rs, char *buf, size_t n)
{
	const struct srv_ikev2_sa *x = sess_of(rs)->sa;
	if (!x) return NULL;
	return ip_text(ikev2_peer(x->sa)->ip, buf, n);
}

static bool sess_ids(const struct ras_session *rs, unsigned ids[4])
{
	const struct srv_ikev2_sa *x = sess_of(rs)->sa;
	if (!x) return false;
	ids[0] = x->id; /* the IKE SA's number; no call IDs */
	ids[1] = ids[2] = ids[3] = 0;
	return true;
}

static void sess_cause(const struct ras_session *rs, unsigned a, unsigned b, char *buf, size_t n)
{
	(void)a;
	(void)b;
	const struct srv_ikev2_sess *ss = sess_of(rs);
	snprintf(buf, n, "%s", ss->cause[0] ? ss->cause : "ike.v2.gone");
}

/* The verdict for the client: EAP Success (or the final AUTH with a PSK client) with the
 * granted address, or the MS-CHAPv2 Failure with the Windows error of the policy. */
static void sess_admitted(struct ras_session *rs, const struct ppp_admit *a,
                          const struct ras_verdict *v)
{
	struct srv_ikev2_sa *x = sess_of(rs)->sa;
	if (!x) return;
	struct ikev2_verdict iv = {.accept = a->accept, .win_error = a->win_error,
	                           .message = a->message};
	char cause[80];
	uint8_t msk[64];
	if (a->accept) {
		for (int i = 0; i < 4; i++) iv.addr[i] = (uint8_t)(rs->addr >> (24 - 8 * i));
		if (v->mschap2_success && v->mppe_send_key && v->mppe_recv_key) {
			/* an authentication server's proof: MSK = MS-MPPE-Recv-Key | -Send-Key | 0^32 */
			memset(msk, 0, sizeof msk);
			memcpy(msk, v->mppe_recv_key, 16);
			memcpy(msk + 16, v->mppe_send_key, 16);
			iv.success = v->mschap2_success;
			iv.msk = msk;
			iv.msk_len = sizeof msk;
		}
	} else {
		snprintf(cause, sizeof cause, "policy.%s", v->reason && v->reason[0] ? v->reason
		         : a->win_error == 720 ? "address-unavailable" : "rejected");
		iv.cause = cause;
	}
	ikev2_authorize_done(x->sa, &iv, srv_now_ms());
	OPENSSL_cleanse(msk, sizeof msk);
}

static bool port_acquire(void *ctx)
{
	(void)ctx;
	return true;
}

static void port_release(void *ctx)
{
	(void)ctx;
}

static const struct ras_lower_ops ikev2_sess_ops = {
	.tunnel = TUN_IKEV2,
	.ip = true,
	.send = sess_send,
	.admitted = sess_admitted,
	.close = sess_close,
	.peer_text = sess_peer_text,
	.peer_ip = sess_peer_ip,
	.ids = sess_ids,
	.cause_text = sess_cause,
	.port_acquire = port_acquire,
	.port_release = port_release,
};

void srv_ikev2_session_dead(struct srv *s, struct ras_session *rs)
{
	struct srv_ikev2 *k = s->ikev2;
	struct srv_ikev2_sess *ss = sess_of(rs);
	if (ss->sa) { /* rejected: the SA tells the client and ends on its own */
		ss->sa->sess = NULL;
		ss->sa = NULL;
	}
	s->sessions[rs->id % s->sess_cap] = NULL;
	s->nsessions--;
	if (s->ikev2_ports_used > 0) s->ikev2_ports_used--;
	ss->next_dead = k->dead;
	k->dead = ss;
}

void srv_ikev2_reap(struct srv *s)
{
	struct srv_ikev2 *k = s->ikev2;
	if (!k) return;
	while (k->dead) {
		struct srv_ikev2_sess *ss = k->dead;
		k->dead = ss->next_dead;
		ras_session_free(&ss->rs);
		free(ss);
	}
}

void srv_ikev2_resume(struct srv *s, struct ras_session *rs, unsigned seq,
                      const struct ras_verdict *v)
{
	struct srv_ikev2_sess *ss = sess_of(rs);
	struct srv_ikev2_sa *x = ss->sa;
	uint64_t d;
	if (ras_session_admit_resume(rs, seq, v, srv_now_ms(), &d) == 0 && !ras_session_dead(rs))
		ss->ras_at = d;
	if (x) sa_check(s, x);
}

void srv_ikev2_disconnect(struct srv *s, struct ras_session *rs, enum ras_cause cause)
{
	struct srv_ikev2_sess *ss = sess_of(rs);
	struct srv_ikev2_sa *x = ss->sa;
	ss->ras_at = ras_session_disconnect(rs, cause, srv_now_ms());
	if (x) sa_check(s, x);
}

/* ---- the responder's callbacks ---------------------------------------------------------- */
static void cb_send(void *ctx, const uint8_t *buf, size_t len, bool natt)
{
	struct srv_ikev2_sa *x = ctx;
	udp_out(x->srv, natt, ikev2_peer(x->sa), buf, len);
}

static void forget_older(struct srv *s, struct srv_ikev2_sa *x);

static void cb_event(void *ctx, enum ikev2_ev kind, const char *text)
{
	struct srv_ikev2_sa *x = ctx;
	struct srv *s = x->srv;
	struct srv_ikev2 *k = s->ikev2;
	switch (kind) {
	case IKEV2_EV_IKE_UP: k->st.sas_up++; break;
	case IKEV2_EV_FAIL: k->st.sas_failed++; break;
	case IKEV2_EV_INITIAL_CONTACT: forget_older(s, x); break;
	default: break;
	}
	v2_log(s, x, kind == IKEV2_EV_TRACE, "%s", text);
}

static void cb_random(void *ctx, uint8_t *buf, size_t n)
{
	struct srv_ikev2_sa *x = ctx;
	srv_random(x->srv, buf, n);
}

/* The user's password from the configuration: the sessions' own lookup. */
static int cb_password(void *ctx, const char *user, char *buf, size_t cap)
{
	struct srv_ikev2_sa *x = ctx;
	struct srv *s = x->srv;
	if (!s->env.cbs || !s->env.cbs->password) return -2;
	return s->env.cbs->password(s->env.ctx, NULL, user, buf, cap);
}

/* The credentials are checked: the SA's session is made and asks for its admission. */
static void cb_authorize(void *ctx, const struct ikev2_auth_req *q)
{
	struct srv_ikev2_sa *x = ctx;
	struct srv *s = x->srv;
	struct srv_ikev2 *k = s->ikev2;
	uint64_t now = srv_now_ms();
	const char *refused = NULL;
	struct srv_ikev2_sess *ss = NULL;
	uint32_t sid = 0;
	if (!q->eap && !q->machine_cert) refused = "a pre-shared key client has no user to admit";
	else if (x->sess) refused = "the SA has a session already";
	else if (s->stopping) refused = "the server is stopping";
	else if (s->nsessions >= s->sess_cap - 1) refused = "serve.limits.sessions reached";
	else if (!(ss = calloc(1, sizeof *ss)) || !(sid = srv_session_id_new(s)) ||
	         ras_session_init(&ss->rs, &s->env, &ikev2_sess_ops, sid, now) != 0)
		refused = "no memory for the session";
	if (refused) {
		free(ss);
		k->st.refused_sessions++;
		char ut[SRV_USER_TEXT];
		v2_log(s, x, false, "user %s refused: %s", srv_user_text(q->user, ut, sizeof ut), refused);
		struct ikev2_verdict no = {.accept = false, .cause = "server.no-session"};
		ikev2_authorize_done(x->sa, &no, now);
		return;
	}
	s->sessions[sid % s->sess_cap] = &ss->rs;
	s->nsessions++;
	s->ikev2_ports_used++;
	ss->sa = x;
	ss->ras_at = RAS_NEVER;
	x->sess = ss;
	char ut[SRV_USER_TEXT];
	if (q->machine_cert)
		srv_log(s, SC_IKE, false, NULL, &ss->rs, "session %u: IKEv2 sa=%u machine %s, "
		        "certificate %s verified", sid, x->id, srv_user_text(q->user, ut, sizeof ut),
		        q->subject ? q->subject : "");
	else
		srv_log(s, SC_IKE, false, NULL, &ss->rs, "session %u: IKEv2 sa=%u user %s, "
		        "EAP-MSCHAPv2 checked (%s)", sid, x->id, srv_user_text(q->user, ut, sizeof ut),
		        srv_tok(ppp_cred_names, q->cred));
	struct ras_ip_auth a = {.user = q->user, .cred = q->cred, .challenge = q->auth_challenge,
	                        .peer_challenge = q->peer_challenge, .nt_response = q->nt_response,
	                        .machine_cert = q->machine_cert};
	/* the verdict reaches the SA through sess_admitted, now or later */
	ss->ras_at = ras_session_authenticated(&ss->rs, &a, now);
}

static void cb_child_up(void *ctx, const struct ikev2_child *c)
{
	struct srv_ikev2_sa *x = ctx;
	struct srv *s = x->srv;
	struct srv_ikev2 *k = s->ikev2;
	int slot = -1;
	for (int i = 0; i < IKEV2_CHILDREN; i++)
		if (!x->esp[i]) {
			slot = i;
			break;
		}
	struct srv_ikev2_esp *e = slot >= 0 && !esp_by_spi(k, c->spi_in) ? calloc(1, sizeof *e) : NULL;
	if (!e || esp_pair_init(&e->pair, &c->in, &c->out, c->udp_encap) != 0) {
		free(e);
		/* the responder is in this call: the child stays unused and expires */
		v2_log(s, x, false, "child %08x/%08x not installed (memory, or its SPI is taken)",
		       c->spi_in, c->spi_out);
		return;
	}
	e->owner = x;
	e->spi_in = c->spi_in;
	e->spi_out = c->spi_out;
	e->serial = ++x->child_serial;
	e->born_ms = srv_now_ms();
	x->esp[slot] = e;
	struct srv_ikev2_esp **head = &k->by_spi[mix32(e->spi_in) & k->smask];
	e->hnext = *head;
	*head = e;
	k->nchildren++;
	k->st.children_up++;
	x->child_new = true;
	srv_ike_keys_esp(s, &c->in); /* with a capture, its keys file has both directions */
	srv_ike_keys_esp(s, &c->out);
}

static void cb_child_down(void *ctx, const struct ikev2_child *c, const char *why)
{
	(void)why;
	struct srv_ikev2_sa *x = ctx;
	for (int i = 0; i < IKEV2_CHILDREN; i++)
		if (x->esp[i] && x->esp[i]->spi_in == c->spi_in) {
			esp_free(x->srv->ikev2, x->esp[i]);
			x->esp[i] = NULL;
		}
}

/* INITIAL_CONTACT: the peer (this address and port, this identity) forgot its earlier
 * SAs: so does the server. Clients behind one NAT share the address but not the port. */
static void forget_older(struct srv *s, struct srv_ikev2_sa *x)
{
	struct srv_ikev2 *k = s->ikev2;
	const struct ikev2_addr *p = ikev2_peer(x->sa);
	const char *id = ikev2_peer_id(x->sa);
	for (unsigned guard = 0; guard <= k->nsas; guard++) {
		struct srv_ikev2_sa *o = k->all;
		for (; o; o = o->next) {
			if (o == x || ikev2_state(o->sa) != IKEV2_ESTABLISHED) continue;
			const struct ikev2_addr *q = ikev2_peer(o->sa);
			if (!memcmp(q->ip, p->ip, 4) && q->port == p->port && !strcmp(ikev2_peer_id(o->sa), id))
				break;
		}
		if (!o) return;
		v2_log(s, o, false, "forgotten: INITIAL_CONTACT from the same peer in sa=%u", x->id);
		ikev2_delete(o->sa, "the peer sent INITIAL_CONTACT", srv_now_ms());
		sa_free(s, o);
	}
}

/* ---- admission of a new IKE SA -------------------------------------------------------------- */
static struct srv_ikev2_sa *sa_new(struct srv *s, const uint8_t ispi[8],
                                   const struct ikev2_addr *local, const struct ikev2_addr *peer)
{
	struct srv_ikev2 *k = s->ikev2;
	struct srv_ikev2_sa *x = calloc(1, sizeof *x);
	if (!x) return NULL;
	if (srv_timer_reserve(s) != 0) {
		free(x);
		return NULL;
	}
	srv_timer_init(&x->timer, SRV_TIMER_IKEV2);
	x->srv = s;
	x->cbs = (struct ikev2_cbs){x, cb_send, cb_event, cb_random, cb_password, cb_authorize,
	                            cb_child_up, cb_child_down};
	uint64_t now = srv_now_ms();
	x->sa = ikev2_new(&k->conf, &x->cbs, local, peer, now);
	if (!x->sa) {
		s->ntimers--;
		free(x);
		return NULL;
	}
	do x->id = ++k->next_id; while (!x->id || sa_by_id(k, x->id));
	memcpy(x->ispi, ispi, 8);
	memcpy(x->peer_ip, peer->ip, 4);
	x->created_ms = now;
	struct srv_ikev2_sa **h = &k->by_ispi[spi_hash(k, ispi)];
	x->hnext_i = *h;
	*h = x;
	h = &k->by_id[mix32(x->id) & k->hmask];
	x->id_next = *h;
	*h = x;
	x->next = k->all;
	if (k->all) k->all->prev = x;
	k->all = x;
	k->nsas++;
	x->half_open = true;
	x->ho_same = 1;
	for (struct srv_ikev2_sa *o = k->half_open; o; o = o->ho_next)
		if (!memcmp(o->peer_ip, x->peer_ip, 4)) {
			o->ho_same++;
			x->ho_same++;
		}
	x->ho_next = k->half_open;
	if (k->half_open) k->half_open->ho_prev = x;
	k->half_open = x;
	k->nhalf_open++;
	return x;
}

/* The SA a message belongs to, or a new one for an IKE_SA_INIT the limits (and, above the
 * threshold, a returned cookie) admit. */
static struct srv_ikev2_sa *sa_for(struct srv *s, bool natt, const uint8_t *buf, size_t len,
                                   const struct ikev2_addr *local, const struct ikev2_addr *peer,
                                   const struct sockaddr_storage *from)
{
	struct srv_ikev2 *k = s->ikev2;
	uint8_t ispi[8], rspi[8];
	bool init = false;
	char ip[20];
	if (!ikev2_peek(buf, len, ispi, rspi, &init)) {
		k->st.malformed++;
		if (srv_throttle(s))
			v2_log(s, NULL, false, "datagram of %zu bytes from %s is no IKE message, dropped", len,
			       ip_text(peer->ip, ip, sizeof ip));
		return NULL;
	}
	if (memcmp(rspi, zero8, 8)) {
		/* our SPI: the responder's, or the initiator's in an SA we rekeyed ourselves (the
		 * peer, its original responder, sends without the I flag) */
		const uint8_t *ours = buf[19] & IKE2_FLAG_I ? rspi : ispi;
		struct srv_ikev2_sa *x = sa_by_rspi(k, ours, buf, len);
		if (!x) {
			k->st.unknown_sa++;
			if (srv_throttle(s))
				v2_log(s, NULL, false, "IKEv2 message from %s:%u for an SA the server does not "
				       "have, dropped", ip_text(peer->ip, ip, sizeof ip), peer->port);
		}
		return x;
	}
	for (struct srv_ikev2_sa *x = k->by_ispi[spi_hash(k, ispi)]; x; x = x->hnext_i)
		if (!memcmp(x->ispi, ispi, 8) && !memcmp(x->peer_ip, peer->ip, 4) &&
		    ikev2_matches(x->sa, buf, len))
			return x;
	if (!init) {
		k->st.unknown_sa++;
		if (srv_throttle(s))
			v2_log(s, NULL, false, "IKEv2 message from %s:%u without our SPI that is no "
			       "IKE_SA_INIT request, dropped", ip_text(peer->ip, ip, sizeof ip), peer->port);
		return NULL;
	}
	const struct serve_conf *sc = &s->cfg->serve;
	const char *why = NULL;
	if (s->stopping) why = "the server is stopping";
	else if (!srv_rate_ok(s, from)) {
		k->st.refused_rate++;
		why = "too many new tunnels from this address (serve.limits.new_tunnels_per_source)";
	}
	if (!why) {
		/* above the threshold nothing is kept for a request without a valid cookie */
		uint8_t reply[512];
		size_t rl = 0;
		switch (ikev2_cookie_check(&k->cookies, buf, len, peer, k->nhalf_open,
		                           (unsigned)sc->ikev2_cookie_threshold, reply, sizeof reply, &rl)) {
		case IKEV2_COOKIE_SEND:
			k->st.cookies_sent++;
			v2_log(s, NULL, true, "IKE_SA_INIT from %s:%u: COOKIE demanded (%u half open)",
			       ip_text(peer->ip, ip, sizeof ip), peer->port, k->nhalf_open);
			udp_out(s, natt, peer, reply, rl);
			return NULL;
		case IKEV2_COOKIE_DROP:
			k->st.malformed++;
			return NULL;
		case IKEV2_COOKIE_PASS:
			break;
		}
	}
	unsigned held = 0;
	struct srv_ikev2_sa *victim = NULL;
	for (struct srv_ikev2_sa *o = k->half_open; o; o = o->ho_next) {
		if (!victim || o->ho_same >= victim->ho_same) victim = o;
		if (!memcmp(o->peer_ip, peer->ip, 4)) held++;
	}
	bool evict = false;
	if (!why) {
		int v = srv_half_open_admit(held, k->nhalf_open, (unsigned)sc->ikev2_half_open,
		                            victim ? victim->ho_same : 0, victim != NULL);
		if (v == SRV_HO_SHARE) {
			k->st.refused_half_open++;
			why = "too many half-open IKEv2 SAs from this address (its share is a sixteenth of "
			      "serve.ikev2.limits.half_open)";
		} else if (v == SRV_HO_FULL) {
			k->st.refused_half_open++;
			why = "too many IKEv2 SAs half open (serve.ikev2.limits.half_open)";
		} else {
			evict = v == SRV_HO_EVICT;
			if (k->nsas - (evict ? 1 : 0) >= (unsigned)sc->ikev2_sas) {
				k->st.refused_sas++;
				why = "IKEv2 SA limit reached (serve.ikev2.limits.sas)";
			}
		}
	}
	if (why) {
		if (srv_throttle(s))
			v2_log(s, NULL, false, "IKE_SA_INIT from %s:%u dropped: %s",
			       ip_text(peer->ip, ip, sizeof ip), peer->port, why);
		return NULL;
	}
	if (evict) {
		k->st.evicted_half_open++;
		if (srv_throttle(s))
			v2_log(s, victim, false, "half-open IKEv2 SA (%u from that address) evicted for "
			       "IKE_SA_INIT from %s: serve.ikev2.limits.half_open reached", victim->ho_same,
			       ip_text(peer->ip, ip, sizeof ip));
		sa_free(s, victim);
	}
	struct srv_ikev2_sa *x = sa_new(s, ispi, local, peer);
	if (!x) k->st.refused_sas++;
	return x;
}

/* ---- what server_ike.c hands over --------------------------------------------------------- */
void srv_ikev2_input(struct srv *s, bool natt, const struct sockaddr_storage *from,
                     const uint8_t *buf, size_t len)
{
	struct srv_ikev2 *k = s->ikev2;
	struct ikev2_addr peer, local;
	addr_of(from, &peer);
	char ip[20];
	bool v2 = len > 17 && buf[17] >> 4 == 2;
	if (!k || !v2) {
		/* IKEv2 without serve.ikev2, or another version without serve.ipsec */
		if (k) k->st.other_version++;
		if (srv_throttle(s))
			srv_log(s, SC_IKE, false, NULL, NULL, "IKE message (version %u) from %s:%u dropped: "
			        "%s", len > 17 ? buf[17] >> 4 : 0, ip_text(peer.ip, ip, sizeof ip), peer.port,
			        v2 ? "IKEv2 is not served (serve.ikev2)"
			           : "only IKEv2 is served (L2TP/IPsec needs serve.ipsec)");
		return;
	}
	k->st.rx++;
	struct srv_listener *l = natt ? k->l_natt : k->l_ike;
	addr_of(&l->addr, &local);
	/* the responder knows the NAT-T port by its number: the port's role, whatever
	 * serve.ipsec.natt_port says */
	local.port = natt ? 4500 : 500;
	struct srv_ikev2_sa *x = sa_for(s, natt, buf, len, &local, &peer, from);
	if (!x) return;
	ikev2_input(x->sa, buf, len, &local, &peer, srv_now_ms());
	sa_check(s, x);
	srv_ikev2_reap(s);
}

bool srv_ikev2_esp(struct srv *s, const struct sockaddr_storage *from, const uint8_t *pkt,
                   size_t len)
{
	struct srv_ikev2 *k = s->ikev2;
	if (!k || len < 8) return false;
	uint32_t spi = (uint32_t)pkt[0] << 24 | (uint32_t)pkt[1] << 16 | (uint32_t)pkt[2] << 8 | pkt[3];
	struct srv_ikev2_esp *e = esp_by_spi(k, spi);
	if (!e) return false;
	struct srv_ikev2_sa *x = e->owner;
	struct ikev2_addr peer;
	addr_of(from, &peer);
	char ip[20];
	if (memcmp(ikev2_peer(x->sa)->ip, peer.ip, 4) != 0) {
		k->st.esp_bad++;
		if (srv_throttle(s))
			v2_log(s, x, false, "ESP on SPI %08x from %s, not the SA's peer: dropped", spi,
			       ip_text(peer.ip, ip, sizeof ip));
		return true;
	}
	static uint8_t out[SRV_DGRAM_MAX + 64];
	size_t n = 0;
	uint8_t nh = 0;
	struct diag_err err;
	if (esp_pair_open(&e->pair, pkt, len, out, sizeof out, &n, &nh, &err) != 0) {
		k->st.esp_bad++;
		if (srv_throttle(s)) v2_log(s, x, false, "ESP on SPI %08x dropped: %s", spi, err.reason);
		return true;
	}
	k->st.esp_rx++;
	uint64_t now = srv_now_ms();
	ikev2_child_used(x->sa, spi, now); /* the peer is alive: no liveness check due */
	if (nh != 4) { /* tunnel mode carries IPv4 (59: a dummy packet) */
		if (nh != 59) {
			k->st.esp_not_ip++;
			if (srv_throttle(s))
				v2_log(s, x, false, "ESP on SPI %08x carried next header %u, not IPv4: dropped",
				       spi, nh);
		}
		return true;
	}
	if (x->sess) x->sess->ras_at = ras_session_ip_input(&x->sess->rs, out, n, now);
	sa_check(s, x);
	return true;
}

/* ---- set-up ------------------------------------------------------------------------------ */
/* The server's certificate: what `vnet cert pick --purpose ikev2` picks from certs.store. */
static int load_cert(struct srv *s)
{
	struct srv_ikev2 *k = s->ikev2;
	const struct certs_conf *cc = &s->cfg->certs;
	struct cert_server_opts o = {.store = cc->store_path, .purpose = CERT_PURPOSE_IKEV2,
	                             .client_ca = cc->client_ca_path, .server_name = cc->server_name};
	struct cert_server cs;
	struct diag_err err;
	memset(&cs, 0, sizeof cs);
	if (cert_server_load(&o, &cs, &err) != 0) {
		fprintf(stderr, "vnet: %s: serve.ikev2: certs.store %s: %s\n", s->config_name,
		        cc->store ? cc->store : "", err.reason);
		if (cs.verdict) fprintf(stderr, "vnet: %s\n", cs.verdict);
		cert_server_free(&cs);
		return -1;
	}
	k->key = ike_privkey_from_evp(cs.key);
	unsigned char *der = NULL;
	int dl = i2d_X509(cs.cert, &der);
	if (!k->key || dl <= 0 || (size_t)dl > IKEV2_CERT_MAX) {
		fprintf(stderr, "vnet: %s: serve.ikev2: the certificate %s %s\n", s->config_name,
		        cs.file ? cs.file : "", !k->key ? "has no RSA key (IKEv2 signs with RSA)"
		        : "is larger than an IKE payload the server sends");
		OPENSSL_free(der);
		cert_server_free(&cs);
		return -1;
	}
	k->cert = der;
	k->cert_len = (size_t)dl;
	/* the CAs above it, issuer first, within the bounds of one message: a client that
	 * trusts only the root builds the chain from them */
	size_t total = k->cert_len;
	int nca = cs.chain ? sk_X509_num(cs.chain) : 0;
	for (int i = 0; i < nca; i++) {
		X509 *ca = sk_X509_value(cs.chain, i);
		unsigned char *cd = NULL;
		int cl = i2d_X509(ca, &cd);
		char *dn = cert_name_windows(X509_get_subject_name(ca));
		char *name = dn ? cert_safe_text(dn) : NULL;
		free(dn);
		if (cl <= 0 || k->conf.n_chain == IKEV2_CHAIN_MAX || (size_t)cl > IKEV2_CERT_MAX ||
		    total + (size_t)cl > IKEV2_CERTS_TOTAL) {
			OPENSSL_free(cd);
			srv_log(s, SC_IKE, false, NULL, NULL, "IKEv2: the CA certificate %s is not sent "
			        "with the server's (at most %d CA certificates and %d bytes in all); "
			        "clients need it installed", name ? name : "?", IKEV2_CHAIN_MAX,
			        IKEV2_CERTS_TOTAL);
			free(name);
			continue;
		}
		total += (size_t)cl;
		k->chain[k->conf.n_chain] = cd;
		k->conf.chain[k->conf.n_chain] = cd;
		k->conf.chain_len[k->conf.n_chain++] = (size_t)cl;
		srv_log(s, SC_IKE, false, NULL, NULL, "IKEv2: sending the CA certificate %s after the "
		        "server's", name ? name : "?");
		free(name);
	}
	if (!k->id && !cc->server_name) {
		/* the subject's DN as IDr (ID_DER_ASN1_DN) */
		unsigned char *dn = NULL;
		int nl = i2d_X509_NAME(X509_get_subject_name(cs.cert), &dn);
		if (nl > 0) {
			k->id = malloc((size_t)nl);
			if (k->id) memcpy(k->id, dn, (size_t)nl);
			k->conf.id_type = 9;
			k->conf.id_len = (size_t)nl;
		}
		OPENSSL_free(dn);
	}
	k->cert_verdict = strdup(cs.verdict ? cs.verdict : "");
	/* machine certificates of clients: chained to the store's CAs (roots/, intermediates/) */
	X509_STORE *tr = cs.trust;
	STACK_OF(X509_OBJECT) *objs = tr ? X509_STORE_get0_objects(tr) : NULL;
	int ncas = objs ? sk_X509_OBJECT_num(objs) : 0;
	int8_t want = s->cfg->serve.ikev2_machine_certs;
	if (want == 1 && !ncas) {
		fprintf(stderr, "vnet: %s: serve.ikev2.machine_certificates: certs.store %s trusts no "
		        "CA (roots/, intermediates/) a client's certificate could chain to\n",
		        s->config_name, cc->store ? cc->store : "");
		cert_server_free(&cs);
		return -1;
	}
	if (want != 0 && ncas && X509_STORE_up_ref(tr))
		k->trust = tr;
	srv_log(s, SC_IKE, false, NULL, NULL, "IKEv2: machine certificates of clients %s",
	        k->trust ? "taken (chained to the store's CAs)"
	        : want == 0 ? "refused (serve.ikev2.machine_certificates false)"
	        : "refused (the store trusts no CA)");
	/* "... for IKEv2; cert pick says clients will fail with 13801: ..." */
	srv_log(s, SC_IKE, false, NULL, NULL, "IKEv2: %s", cs.verdict ? cs.verdict : "");
	cert_server_free(&cs);
	return 0;
}

int srv_ikev2_setup(struct srv *s, struct srv_listener *l_ike, struct srv_listener *l_natt,
                    struct srv_listener *l_esp)
{
	const struct serve_conf *sc = &s->cfg->serve;
	if (!sc->ikev2) return 0;
	struct srv_ikev2 *k = calloc(1, sizeof *k);
	if (!k) return -1;
	s->ikev2 = k;
	srv_timer_init(&k->cookie_timer, SRV_TIMER_IKEV2);
	k->l_ike = l_ike;
	k->l_natt = l_natt;
	k->l_esp = l_esp;
	struct ikev2_conf *c = &k->conf;
	ikev2_conf_default(c);
	char why[200];
	if ((sc->ikev2_ike && ikev2_conf_parse_ike(c, sc->ikev2_ike, why, sizeof why) < 0) ||
	    (sc->ikev2_esp && ikev2_conf_parse_esp(c, sc->ikev2_esp, why, sizeof why) < 0)) {
		fprintf(stderr, "vnet: %s: serve.ikev2: %s\n", s->config_name, why);
		return -1;
	}
	const char *id = sc->ikev2_id ? sc->ikev2_id : s->cfg->certs.server_name;
	if (!id && sc->ikev2_auth == IPSEC_AUTH_PSK)
		id = sc->host_name ? sc->host_name : s->cfg->server.name ? s->cfg->server.name : "vnet";
	if (id) {
		k->id = (uint8_t *)strdup(id);
		if (!k->id) return -1;
		c->id_type = 2; /* FQDN */
		c->id_len = strlen(id);
	}
	if (sc->ikev2_auth == IPSEC_AUTH_PSK) {
		c->server_auth = IKEV2_SAUTH_PSK;
		c->psk = (const uint8_t *)sc->ikev2_psk;
		c->psk_len = sc->ikev2_psk ? strlen(sc->ikev2_psk) : 0;
	} else {
		c->server_auth = IKEV2_SAUTH_CERT;
		if (load_cert(s) != 0) return -1;
		c->key = k->key;
		c->cert = k->cert;
		c->cert_len = k->cert_len;
		c->client_trust = k->trust;
	}
	c->id = k->id;
	c->client_auth = IKEV2_CAUTH_EAP_MSCHAPV2;
	c->eap_name = sc->host_name ? sc->host_name : s->cfg->server.name ? s->cfg->server.name : "vnet";
	const uint32_t *dns = sc->ikev2_dns[0] ? sc->ikev2_dns : sc->dns;
	for (int i = 0; i < 2; i++)
		if (dns[i]) {
			for (int b = 0; b < 4; b++) c->dns[c->n_dns][b] = (uint8_t)(dns[i] >> (24 - 8 * b));
			c->n_dns++;
		}
	/* fragment_size counts the whole IPv4 datagram (RFC 7383 2.5.1), the responder's limit
	 * the UDP payload: the IPv4 and UDP headers come off (the range starts at 576) */
	c->frag_size = (size_t)sc->ikev2_fragment_size - 20 - 8;
	c->dpd_ms = (uint32_t)sc->ikev2_dpd * 1000;
	c->ike_life_s = (uint32_t)sc->ikev2_ike_lifetime;
	c->child_life_s = (uint32_t)sc->ikev2_child_lifetime;
	c->child_rekey = sc->ikev2_rekey;
	uint32_t cap = 64;
	while (cap < (uint32_t)sc->ikev2_sas && cap < (1u << 20)) cap <<= 1;
	k->hmask = cap - 1;
	k->smask = 4 * cap - 1;
	k->by_ispi = calloc(cap, sizeof *k->by_ispi);
	k->by_rspi[0] = calloc(cap, sizeof *k->by_rspi[0]);
	k->by_rspi[1] = calloc(cap, sizeof *k->by_rspi[1]);
	k->by_rspi[2] = calloc(cap, sizeof *k->by_rspi[2]);
	k->by_id = calloc(cap, sizeof *k->by_id);
	k->by_spi = calloc(4 * cap, sizeof *k->by_spi);
	if (!k->by_ispi || !k->by_rspi[0] || !k->by_rspi[1] || !k->by_rspi[2] || !k->by_id || !k->by_spi ||
	    srv_timer_reserve(s) != 0)
		return -1;
	uint8_t fresh[32];
	srv_random(s, fresh, sizeof fresh);
	ikev2_cookies_init(&k->cookies, fresh, srv_now_ms());
	OPENSSL_cleanse(fresh, sizeof fresh);
	cookie_arm(s);
	return 0;
}

void srv_ikev2_opened(struct srv *s, const char *where)
{
	struct srv_ikev2 *k = s->ikev2;
	if (!k) return;
	const struct serve_conf *sc = &s->cfg->serve;
	srv_log(s, SC_IKE, false, NULL, NULL, "IKEv2: on %s ports %d and %d, server %s, clients "
	        "EAP-MSCHAPv2%s, %d ports (server.ports.ikev2), a COOKIE above %d half-open SAs",
	        where, sc->ike_port, sc->natt_port,
	        sc->ikev2_auth == IPSEC_AUTH_PSK ? "pre-shared key" : "certificate",
	        k->trust ? " or machine certificates" : "",
	        s->cfg->server.ports[TUN_IKEV2], sc->ikev2_cookie_threshold);
}

void srv_ikev2_stop_all(struct srv *s)
{
	struct srv_ikev2 *k = s->ikev2;
	if (!k) return;
	uint64_t now = srv_now_ms();
	for (unsigned guard = 0; k->all && guard <= k->nsas + 1; guard++) {
		struct srv_ikev2_sa *x = k->all;
		if (x->sess) ras_session_set_cause(&x->sess->rs, RAS_CAUSE_SHUTDOWN, 0, 0);
		ikev2_delete(x->sa, "server shutting down", now);
		sa_free(s, x);
	}
	srv_ikev2_reap(s);
}

void srv_ikev2_destroy(struct srv *s)
{
	struct srv_ikev2 *k = s->ikev2;
	if (!k) return;
	while (k->all) sa_free(s, k->all);
	srv_ikev2_reap(s);
	if (k->cookie_timer.at != L2TP_NEVER) {
		srv_timer_set(s, &k->cookie_timer, L2TP_NEVER);
		s->ntimers--;
	}
	ike_privkey_free(k->key);
	X509_STORE_free(k->trust);
	OPENSSL_free(k->cert);
	for (int i = 0; i < IKEV2_CHAIN_MAX; i++) OPENSSL_free(k->chain[i]);
	free(k->id);
	free(k->cert_verdict);
	free(k->by_ispi);
	free(k->by_rspi[0]);
	free(k->by_rspi[1]);
	free(k->by_rspi[2]);
	free(k->by_id);
	free(k->by_spi);
	OPENSSL_cleanse(&k->cookies, sizeof k->cookies);
	free(k);
	s->ikev2 = NULL;
}

/* ---- show ------------------------------------------------------------------------------- */
/* SPIi:SPIr of the current IKE SA (after our own rekey of it, ours first) */
static void spis_text(const struct srv_ikev2_sa *x, char out[40])
{
	const uint8_t *r = ikev2_rspi(x->sa), *p = ikev2_ispi(x->sa);
	if (ikev2_we_initiated(x->sa)) {
		const uint8_t *t = r;
		r = p;
		p = t;
	}
	for (int i = 0; i < 8; i++) snprintf(out + 2 * i, 3, "%02x", p ? p[i] : 0);
	out[16] = ':';
	for (int i = 0; i < 8; i++) snprintf(out + 17 + 2 * i, 3, "%02x", r ? r[i] : 0);
}

void srv_ikev2_view(const struct srv *s, bool children, json_t *a)
{
	const struct srv_ikev2 *k = s->ikev2;
	if (!k) return;
	uint64_t now = srv_now_ms();
	for (const struct srv_ikev2_sa *x = k->all; x; x = x->next) {
		const struct ikev2_addr *p = ikev2_peer(x->sa);
		char ip[20], ck[40];
		if (!children) {
			spis_text(x, ck);
			json_t *o = json_object();
			json_object_set_new(o, "id", json_integer(x->id));
			json_object_set_new(o, "version", json_integer(2));
			json_object_set_new(o, "peer", json_string(ip_text(p->ip, ip, sizeof ip)));
			json_object_set_new(o, "port", json_integer(p->port));
			/* escaped by the responder (ikev2_peer_id, ikev2_user) */
			json_object_set_new(o, "identity", json_string(ikev2_peer_id(x->sa)));
			json_object_set_new(o, "user", json_string(ikev2_user(x->sa)));
			json_object_set_new(o, "state", json_string(srv_tok(ikev2_state_names, ikev2_state(x->sa))));
			json_object_set_new(o, "cookies", json_string(ck));
			json_object_set_new(o, "nat", json_boolean(ikev2_nat(x->sa)));
			unsigned nc = 0;
			for (int i = 0; i < IKEV2_CHILDREN; i++) nc += x->esp[i] != NULL;
			json_object_set_new(o, "children", json_integer(nc));
			json_object_set_new(o, "session", x->sess ? json_integer(x->sess->rs.id) : json_null());
			json_object_set_new(o, "age", json_integer((json_int_t)((now - x->created_ms) / 1000)));
			json_array_append_new(a, o);
			continue;
		}
		for (int i = 0; i < IKEV2_CHILDREN; i++) {
			const struct srv_ikev2_esp *e = x->esp[i];
			if (!e) continue;
			const struct ikev2_child *c = ikev2_child(x->sa, e->spi_in);
			json_t *o = json_object();
			char sp[12];
			json_object_set_new(o, "ike", json_integer(x->id));
			json_object_set_new(o, "version", json_integer(2));
			json_object_set_new(o, "peer", json_string(ip_text(p->ip, ip, sizeof ip)));
			snprintf(sp, sizeof sp, "%08x", e->spi_in);
			json_object_set_new(o, "spi_in", json_string(sp));
			snprintf(sp, sizeof sp, "%08x", e->spi_out);
			json_object_set_new(o, "spi_out", json_string(sp));
			json_object_set_new(o, "encapsulation", json_string(e->pair.udp_encap ? "udp" : "esp"));
			json_object_set_new(o, "mode", json_string("tunnel"));
			json_object_set_new(o, "address", c ? json_string(ip_text(c->vip, ip, sizeof ip))
			                                    : json_null());
			json_object_set_new(o, "rx_packets", json_integer((json_int_t)e->pair.st.rx));
			json_object_set_new(o, "tx_packets", json_integer((json_int_t)e->pair.st.tx));
			json_object_set_new(o, "rx_bytes", json_integer((json_int_t)e->pair.st.rx_bytes));
			json_object_set_new(o, "tx_bytes", json_integer((json_int_t)e->pair.st.tx_bytes));
			json_object_set_new(o, "replayed", json_integer((json_int_t)e->pair.st.replayed));
			json_object_set_new(o, "bad_icv", json_integer((json_int_t)e->pair.st.bad_icv));
			json_object_set_new(o, "age", json_integer((json_int_t)((now - e->born_ms) / 1000)));
			json_object_set_new(o, "lifetime", json_integer(c ? (json_int_t)c->life_s : 0));
			json_array_append_new(a, o);
		}
	}
}

json_t *srv_ikev2_stats(const struct srv *s)
{
	const struct srv_ikev2 *k = s->ikev2;
	if (!k) return json_null();
	json_t *o = json_object();
	json_object_set_new(o, "sas", json_integer(k->nsas));
	json_object_set_new(o, "half_open", json_integer(k->nhalf_open));
	json_object_set_new(o, "children", json_integer(k->nchildren));
#define F(name) json_object_set_new(o, #name, json_integer((json_int_t)k->st.name))
	F(rx); F(tx); F(malformed); F(unknown_sa); F(other_version); F(cookies_sent);
	F(refused_rate); F(refused_half_open); F(refused_sas); F(evicted_half_open); F(sas_up);
	F(sas_failed); F(children_up); F(esp_rx); F(esp_tx); F(esp_bad); F(esp_not_ip);
	F(refused_sessions);
#undef F
	return o;
}

int srv_ikev2_check_tables(const struct srv *s, unsigned *nsessions, char *why, size_t n)
{
	const struct srv_ikev2 *k = s->ikev2;
	*nsessions = 0;
	if (!k) return 0;
	unsigned nsa = 0, nho = 0, nch = 0;
	for (const struct srv_ikev2_sa *x = k->all; x; x = x->next) {
		if (++nsa > k->nsas) break;
		if (sa_by_id(k, x->id) != x) {
			snprintf(why, n, "IKEv2 SA %u not found by its id", x->id);
			return -1;
		}
		if (ikev2_state(x->sa) == IKEV2_DEAD) {
			snprintf(why, n, "IKEv2 SA %u is dead but kept", x->id);
			return -1;
		}
		if (x->half_open != ikev2_half_open(x->sa) && x->half_open) {
			snprintf(why, n, "IKEv2 SA %u is marked half open in state %s", x->id,
			         srv_tok(ikev2_state_names, ikev2_state(x->sa)));
			return -1;
		}
		const uint8_t *r = ikev2_rspi(x->sa);
		if (r && memcmp(r, zero8, 8) && memcmp(x->rkey[0], r, 8)) {
			snprintf(why, n, "IKEv2 SA %u is not in the table under its SPI", x->id);
			return -1;
		}
		if (x->half_open) {
			nho++;
			unsigned same = 0;
			for (const struct srv_ikev2_sa *o = k->half_open; o; o = o->ho_next)
				same += !memcmp(o->peer_ip, x->peer_ip, 4);
			if (same != x->ho_same) {
				snprintf(why, n, "half-open IKEv2 SA %u counts %u of its source, there are %u",
				         x->id, x->ho_same, same);
				return -1;
			}
		}
		if (x->sess) {
			(*nsessions)++;
			if (x->sess->sa != x || ras_session_dead(&x->sess->rs) ||
			    s->sessions[x->sess->rs.id % s->sess_cap] != &x->sess->rs) {
				snprintf(why, n, "session of IKEv2 SA %u is dead or not in the table", x->id);
				return -1;
			}
		}
		for (int i = 0; i < IKEV2_CHILDREN; i++)
			if (x->esp[i]) {
				nch++;
				if (esp_by_spi(k, x->esp[i]->spi_in) != x->esp[i]) {
					snprintf(why, n, "child %08x of IKEv2 SA %u not found by its SPI",
					         x->esp[i]->spi_in, x->id);
					return -1;
				}
			}
	}
	const struct serve_conf *sc = &s->cfg->serve;
	if (nsa > (unsigned)sc->ikev2_sas || nho > (unsigned)sc->ikev2_half_open) {
		snprintf(why, n, "%u IKEv2 SAs, %u half open: over the limits", nsa, nho);
		return -1;
	}
	if (nsa != k->nsas || nho != k->nhalf_open || nch != k->nchildren) {
		snprintf(why, n, "IKEv2 tables: %u SAs (count %u), %u half open (count %u), %u children "
		         "(count %u)", nsa, k->nsas, nho, k->nhalf_open, nch, k->nchildren);
		return -1;
	}
	return 0;
}
