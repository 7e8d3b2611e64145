/* `vnet serve`: L2TP/IPsec (serve.ipsec). IKEv1 on UDP ike_port (500) and natt_port
 * (4500), ESP in UDP on natt_port and plain ESP (IP protocol 50) on a raw socket, the L2TP
 * datagrams inside handed to the L2TP code of server.c (server.h).
 *
 * Every protocol decision is engine/ike's (ikev1.h: one automaton per IKE SA; esp_sa.h:
 * one ESP pair per child SA). What this file keeps:
 *   - the IKE SAs, found by the initiator's cookie and the peer's address (a hash table),
 *     bounded by serve.ipsec.limits.sas; those not yet established by limits.half_open,
 *     shared fairly between sources as the L2TP half-open tunnels are (srv_half_open_admit);
 *   - the child SAs' ESP pairs, found by our SPI (a hash table);
 *   - the IKE SAs of one client, found by its current address and port (a hash table):
 *     what a phase-1 rekey, an INITIAL-CONTACT or a closing SA looks for, so that none
 *     of them walks every SA of the server;
 *   - per IKE SA a number (its id): an L2TP tunnel that came inside it carries that id,
 *     and its datagrams go back through the newest child of that SA.
 * An IKE SA that ends takes its L2TP tunnels with it (there is no way left to reach the
 * client). No Diffie-Hellman is computed before the peer has returned our cookie (Main Mode
 * 3 carries it), so a flood of forged Main Mode 1 messages costs a table slot each and no
 * more; those slots are what the half-open limit and its eviction rule bound.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cert/certserve.h"
#include "esp.h"
#include "ike/esp_sa.h"
#include "ike/ike_crypto.h"
#include "ike/ikev1.h"

struct srv_ike_sa;

/* A child SA: its ESP pair, found by our SPI. */
struct srv_esp {
	struct esp_pair pair;
	struct srv_ike_sa *owner;
	struct srv_esp *hnext;       /* SPI hash chain */
	uint32_t spi_in, spi_out;
	uint32_t serial;             /* order within the IKE SA: the newest sends */
	uint16_t port_i, port_r;     /* the L2TP ports of the selectors (0: any) */
	bool used;                   /* ESP arrived on it */
	uint64_t born_ms;
};

struct srv_ike_sa {
	struct ikev1_sa *sa;
	struct ikev1_cbs cbs;
	struct srv *srv;
	uint32_t id;                 /* server-wide number, what L2TP tunnels name */
	uint8_t ispi[8];
	uint8_t peer_ip[4];          /* the address of Main Mode 1: the table's key */
	struct srv_timer timer;
	uint64_t created_ms;
	bool half_open;              /* not established yet */
	bool carried_l2tp;           /* an L2TP tunnel came inside it */
	unsigned ho_same;            /* half-open SAs of this source, itself included */
	struct srv_ike_sa *hnext;                 /* cookie hash chain */
	struct srv_ike_sa *next, *prev;           /* every SA, newest first */
	struct srv_ike_sa *ho_next, *ho_prev;     /* half-open SAs, newest first */
	struct srv_ike_sa *id_next;               /* id hash chain */
	struct srv_ike_sa *cl_next;               /* client hash chain */
	uint8_t cl_ip[4];                         /* the client key it is filed under: the */
	uint16_t cl_port;                         /* peer's address and port when filed */
	struct srv_esp *esp[IKEV1_CHILDREN];
	uint32_t child_serial;
};

struct srv_ike_stats {
	uint64_t rx, tx, malformed, unknown_sa, refused_rate, refused_half_open, refused_sas,
		evicted_half_open, sas_up, sas_failed, children_up, esp_rx, esp_tx, esp_bad,
		esp_unknown_spi, esp_not_l2tp, keepalives, plain_l2tp_refused;
};

struct srv_ike {
	struct ikev1_conf conf;
	struct srv_listener *l_ike, *l_natt, *l_esp;
	struct sockaddr_storage addr;  /* the address IKE listens on (port 0) */
	struct srv_ike_sa **by_cookie, **by_id, **by_client;
	uint32_t hmask;
	struct srv_esp **by_spi;
	uint32_t smask;
	struct srv_ike_sa *all, *half_open;
	unsigned nsas, nhalf_open, nchildren;
	uint32_t next_id;
	FILE *keys;                    /* <capture>.keys: the SAs' keys, for the capture */
	struct cert_server cert;       /* serve.ipsec.auth certificate: cert pick's choice */
	struct srv_ike_stats st;
};

/* ---- tables ------------------------------------------------------------------------ */
static uint32_t mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x7feb352d;
	h ^= h >> 15;
	h *= 0x846ca68b;
	h ^= h >> 16;
	return h;
}

static uint32_t cookie_hash(const struct srv_ike *k, const uint8_t ispi[8])
{
	uint32_t a, b;
	memcpy(&a, ispi, 4);
	memcpy(&b, ispi + 4, 4);
	return mix32(a ^ mix32(b)) & k->hmask;
}

static uint32_t client_hash(const struct srv_ike *k, const uint8_t ip[4], uint16_t port)
{
	uint32_t a;
	memcpy(&a, ip, 4);
	return mix32(a ^ mix32(port + 0x9e3779b9u)) & k->hmask;
}

static struct srv_ike_sa *sa_by_id(const struct srv_ike *k, uint32_t id)
{
	for (struct srv_ike_sa *x = k->by_id[mix32(id) & k->hmask]; x; x = x->id_next)
		if (x->id == id) return x;
	return NULL;
}

static struct srv_esp *esp_by_spi(const struct srv_ike *k, uint32_t spi)
{
	for (struct srv_esp *e = k->by_spi[mix32(spi) & k->smask]; e; e = e->hnext)
		if (e->spi_in == spi) return e;
	return NULL;
}

static void unlink_one(struct srv_ike_sa **head, struct srv_ike_sa *x,
                       struct srv_ike_sa *(*nextp)(struct srv_ike_sa *), size_t off)
{
	(void)nextp;
	for (struct srv_ike_sa **pp = head; *pp; pp = (struct srv_ike_sa **)(void *)((uint8_t *)*pp + off))
		if (*pp == x) {
			*pp = *(struct srv_ike_sa **)(void *)((uint8_t *)x + off);
			return;
		}
}

void srv_ike_addr_in(const struct sockaddr_storage *ss, uint8_t *family, uint8_t ip[16],
                     uint16_t *port)
{
	memset(ip, 0, 16);
	*family = 4;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	memcpy(ip, &s4->sin_addr, 4);
	*port = ntohs(s4->sin_port);
}

void srv_ike_addr_out(const uint8_t ip[4], uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	memcpy(&s4->sin_addr, ip, 4);
	s4->sin_port = htons(port);
}

const char *srv_ip4_text(const uint8_t ip[4], char *buf, size_t n)
{
	inet_ntop(AF_INET, ip, buf, (socklen_t)n);
	return buf;
}

static void addr_of(const struct sockaddr_storage *ss, struct ikev1_addr *a)
{
	srv_ike_addr_in(ss, &a->family, a->ip, &a->port);
}

static void sockaddr_of(const struct ikev1_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	srv_ike_addr_out(a->ip, port, ss);
}

#define ip_text srv_ip4_text

/* ---- log --------------------------------------------------------------------------- */
void srv_ike_logv(struct srv *s, bool debug_only, const struct ras_session *rs,
                  const char *prefix, const char *fmt, va_list ap)
{
	if (!srv_log_wanted(s, SC_IKE, debug_only)) return;
	char msg[SRV_LOG_LINE_MAX];
	int h = snprintf(msg, sizeof msg, "%s", prefix);
	if (h < 0 || (size_t)h >= sizeof msg) h = 0;
	vsnprintf(msg + h, sizeof msg - (size_t)h, fmt, ap);
	srv_log_line(s, SC_IKE, debug_only, NULL, rs, msg);
}

static void ike_log(struct srv *s, const struct srv_ike_sa *x, bool debug_only, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));
static void ike_log(struct srv *s, const struct srv_ike_sa *x, bool debug_only, const char *fmt, ...)
{
	if (!srv_log_wanted(s, SC_IKE, debug_only)) return;
	char prefix[64] = "";
	if (x) {
		char ip[20];
		const struct ikev1_addr *p = ikev1_peer(x->sa);
		snprintf(prefix, sizeof prefix, "sa=%u %s:%u ", x->id, ip_text(p->ip, ip, sizeof ip),
		         p->port);
	}
	va_list ap;
	va_start(ap, fmt);
	srv_ike_logv(s, debug_only, NULL, prefix, fmt, ap);
	va_end(ap);
}

/* ---- keys beside the capture ---------------------------------------------------------- */
static void keys_hex(FILE *f, const uint8_t *b, size_t n)
{
	fputs("0x", f);
	for (size_t i = 0; i < n; i++) fprintf(f, "%02x", b[i]);
}

/* One ESP SA as a line of Wireshark's esp_sa table (engine/capture/espdecrypt.h reads it). */
static void keys_esp(FILE *f, const struct esp_sa *e)
{
	char a[20], b[20];
	static const char *const enc[] = {
		[ESPE_NULL] = "NULL", [ESPE_AES_CBC] = "AES-CBC [RFC3602]",
		[ESPE_3DES] = "TripleDES-CBC [RFC2451]", [ESPE_AES_GCM] = "AES-GCM with 16 octet ICV [RFC4106]"};
	static const char *const auth[] = {
		[ESPA_NULL] = "NULL", [ESPA_MD5_96] = "HMAC-MD5-96 [RFC2403]",
		[ESPA_SHA1_96] = "HMAC-SHA-1-96 [RFC2404]", [ESPA_SHA256_128] = "HMAC-SHA-256-128 [RFC4868]",
		[ESPA_SHA384_192] = "HMAC-SHA-384-192 [RFC4868]", [ESPA_SHA512_256] = "HMAC-SHA-512-256 [RFC4868]"};
	fprintf(f, "\"IPv4\",\"%s\",\"%s\",\"0x%08x\",\"%s\",\"", ip_text(e->src, a, sizeof a),
	        ip_text(e->dst, b, sizeof b), e->spi, enc[e->enc]);
	keys_hex(f, e->ekey, e->eklen);
	fprintf(f, "\",\"%s\",\"", e->enc == ESPE_AES_GCM ? "NULL" : auth[e->auth]);
	if (e->enc != ESPE_AES_GCM) keys_hex(f, e->akey, e->aklen);
	fputs("\"\n", f);
}

static void keys_ike(struct srv_ike *k, const struct srv_ike_sa *x)
{
	if (!k->keys) return;
	uint8_t key[64];
	size_t n = ikev1_enc_key(x->sa, key, sizeof key);
	if (!n) return;
	for (int i = 0; i < 8; i++) fprintf(k->keys, "%02x", x->ispi[i]);
	fputc(',', k->keys);
	for (size_t i = 0; i < n; i++) fprintf(k->keys, "%02x", key[i]);
	fputc('\n', k->keys);
	fflush(k->keys);
	OPENSSL_cleanse(key, sizeof key);
}

void srv_ike_keys_text(struct srv *s, const char *line, size_t len)
{
	struct srv_ike *k = s->ike;
	if (!k || !k->keys) return;
	fwrite(line, 1, len, k->keys);
	fflush(k->keys);
}

void srv_ike_keys_esp(struct srv *s, const struct esp_sa *e)
{
	struct srv_ike *k = s->ike;
	if (!k || !k->keys) return;
	keys_esp(k->keys, e);
	fflush(k->keys);
}

/* ---- SAs ----------------------------------------------------------------------------- */
static void ho_remove(struct srv_ike *k, struct srv_ike_sa *x)
{
	if (!x->half_open) return;
	x->half_open = false;
	if (x->ho_prev) x->ho_prev->ho_next = x->ho_next;
	else k->half_open = x->ho_next;
	if (x->ho_next) x->ho_next->ho_prev = x->ho_prev;
	x->ho_next = x->ho_prev = NULL;
	x->ho_same = 0;
	if (k->nhalf_open) k->nhalf_open--;
	for (struct srv_ike_sa *o = k->half_open; o; o = o->ho_next)
		if (!memcmp(o->peer_ip, x->peer_ip, 4) && o->ho_same) o->ho_same--;
}

static void esp_free(struct srv_ike *k, struct srv_esp *e)
{
	struct srv_esp **pp = &k->by_spi[mix32(e->spi_in) & k->smask];
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

static bool same_client(const struct srv_ike_sa *a, const struct srv_ike_sa *b);

/* The client index: an SA is filed under the peer's address and port of its last message
 * (a float to the NAT-T port changes the port), refiled by client_follow after each call
 * into the automaton. */
static void client_link(struct srv_ike *k, struct srv_ike_sa *x)
{
	const struct ikev1_addr *p = ikev1_peer(x->sa);
	memcpy(x->cl_ip, p->ip, 4);
	x->cl_port = p->port;
	struct srv_ike_sa **h = &k->by_client[client_hash(k, x->cl_ip, x->cl_port)];
	x->cl_next = *h;
	*h = x;
}

static void client_unlink(struct srv_ike *k, struct srv_ike_sa *x)
{
	unlink_one(&k->by_client[client_hash(k, x->cl_ip, x->cl_port)], x, NULL,
	           offsetof(struct srv_ike_sa, cl_next));
	x->cl_next = NULL;
}

static void client_follow(struct srv_ike *k, struct srv_ike_sa *x)
{
	const struct ikev1_addr *p = ikev1_peer(x->sa);
	if (p->port == x->cl_port && !memcmp(p->ip, x->cl_ip, 4)) return;
	client_unlink(k, x);
	client_link(k, x);
}

/* The newest SA other than x of x's client (same_client) that is established and, with
 * `older`, not newer than x; NULL when none. Only x's bucket of the client index. */
static struct srv_ike_sa *client_other(struct srv_ike *k, struct srv_ike_sa *x, bool older)
{
	client_follow(k, x);
	struct srv_ike_sa *best = NULL;
	for (struct srv_ike_sa *o = k->by_client[client_hash(k, x->cl_ip, x->cl_port)]; o; o = o->cl_next)
		if (o != x && ikev1_state(o->sa) == IKEV1_ESTABLISHED &&
		    (!older || o->created_ms <= x->created_ms) && same_client(o, x) &&
		    (!best || o->created_ms > best->created_ms))
			best = o;
	return best;
}

static void sa_free(struct srv *s, struct srv_ike_sa *x)
{
	struct srv_ike *k = s->ike;
	ho_remove(k, x);
	unlink_one(&k->by_cookie[cookie_hash(k, x->ispi)], x, NULL, offsetof(struct srv_ike_sa, hnext));
	unlink_one(&k->by_id[mix32(x->id) & k->hmask], x, NULL, offsetof(struct srv_ike_sa, id_next));
	if (x->prev) x->prev->next = x->next;
	else k->all = x->next;
	if (x->next) x->next->prev = x->prev;
	srv_timer_set(s, &x->timer, L2TP_NEVER);
	s->ntimers--;
	/* the client's newer IKE SA (a phase-1 rekey under way: its child may come later)
	 * takes the tunnels; without one they are closed */
	struct srv_ike_sa *heir = NULL;
	if (x->carried_l2tp && ikev1_state(x->sa) != IKEV1_MM_START) heir = client_other(k, x, false);
	client_unlink(k, x);
	if (heir) {
		ike_log(s, x, false, "gone; its L2TP tunnels move to sa=%u of the same client", heir->id);
		srv_l2tp_ipsec_rebind(s, x->id, heir->id); /* server.c */
		heir->carried_l2tp = true;
		x->carried_l2tp = false;
	}
	ikev1_free(x->sa); /* children are down by now: ikev1 said so through child_down */
	for (int i = 0; i < IKEV1_CHILDREN; i++)
		if (x->esp[i]) esp_free(k, x->esp[i]);
	bool carried = x->carried_l2tp;
	uint32_t id = x->id;
	free(x);
	if (k->nsas) k->nsas--;
	if (carried) srv_l2tp_ipsec_gone(s, id); /* server.c */
}

/* After input or a tick: the tables follow the automaton's state. */
static void sa_check(struct srv *s, struct srv_ike_sa *x)
{
	struct srv_ike *k = s->ike;
	enum ikev1_state st = ikev1_state(x->sa);
	if (x->half_open && st == IKEV1_ESTABLISHED) ho_remove(k, x);
	if (st == IKEV1_DEAD) {
		ike_log(s, x, true, "IKE SA state freed");
		sa_free(s, x);
		return;
	}
	client_follow(k, x);
	srv_timer_set(s, &x->timer, ikev1_deadline(x->sa));
}

void srv_ike_timer(struct srv *s, struct srv_timer *tm, uint64_t now)
{
	struct srv_ike_sa *x = (struct srv_ike_sa *)(void *)((uint8_t *)tm - offsetof(struct srv_ike_sa, timer));
	ike_dh_reuse_expire(now);
	ikev1_tick(x->sa, now);
	sa_check(s, x);
}

/* ---- the automaton's callbacks --------------------------------------------------------- */
static void cb_send(void *ctx, const uint8_t *buf, size_t len, bool natt)
{
	struct srv_ike_sa *x = ctx;
	struct srv *s = x->srv;
	struct srv_ike *k = s->ike;
	struct srv_listener *l = natt ? k->l_natt : k->l_ike;
	if (!l || l->fd < 0 || len > IKEV1_MSG_MAX) return;
	uint8_t out[IKEV1_MSG_MAX + 4];
	size_t n = len;
	const uint8_t *b = buf;
	if (natt) { /* the non-ESP marker (RFC 3948 2.2) */
		memset(out, 0, 4);
		memcpy(out + 4, buf, len);
		b = out;
		n = len + 4;
	}
	const struct ikev1_addr *p = ikev1_peer(x->sa);
	struct sockaddr_storage to;
	sockaddr_of(p, p->port, &to);
	k->st.tx++;
	srv_send(s, l->fd, &to, sizeof(struct sockaddr_in), b, n, NULL);
}

static void forget_older(struct srv *s, struct srv_ike_sa *x);
static void replace_older(struct srv *s, struct srv_ike_sa *x);

static void cb_event(void *ctx, enum ikev1_ev kind, const char *text)
{
	struct srv_ike_sa *x = ctx;
	struct srv *s = x->srv;
	struct srv_ike *k = s->ike;
	switch (kind) {
	case IKEV1_EV_IKE_UP:
		k->st.sas_up++;
		keys_ike(k, x);
		break;
	case IKEV1_EV_FAIL:
		k->st.sas_failed++;
		break;
	case IKEV1_EV_INITIAL_CONTACT:
		forget_older(s, x);
		break;
	default:
		break;
	}
	bool debug_only = kind == IKEV1_EV_TRACE;
	ike_log(s, x, debug_only, "%s", text);
}

static void cb_random(void *ctx, uint8_t *buf, size_t n)
{
	struct srv_ike_sa *x = ctx;
	srv_random(x->srv, buf, n);
}

static void cb_child_up(void *ctx, const struct ikev1_child *c)
{
	struct srv_ike_sa *x = ctx;
	struct srv *s = x->srv;
	struct srv_ike *k = s->ike;
	int slot = -1;
	for (int i = 0; i < IKEV1_CHILDREN; i++)
		if (!x->esp[i]) {
			slot = i;
			break;
		}
	struct srv_esp *e = slot >= 0 ? calloc(1, sizeof *e) : NULL;
	if (!e || esp_pair_init(&e->pair, &c->in, &c->out, c->udp_encap) != 0) {
		free(e);
		ike_log(s, x, false, "child %08x/%08x not installed: out of memory", c->spi_in, c->spi_out);
		ikev1_child_delete(x->sa, c->spi_in, "the server could not install it", srv_now_ms());
		return;
	}
	e->owner = x;
	e->spi_in = c->spi_in;
	e->spi_out = c->spi_out;
	e->serial = ++x->child_serial;
	e->port_i = c->id_proto == 17 ? c->id_port_i : 0;
	e->port_r = c->id_proto == 17 ? c->id_port_r : 0;
	e->born_ms = srv_now_ms();
	x->esp[slot] = e;
	struct srv_esp **head = &k->by_spi[mix32(e->spi_in) & k->smask];
	e->hnext = *head;
	*head = e;
	k->nchildren++;
	k->st.children_up++;
	if (e->serial == 1) replace_older(s, x);
	if (k->keys) {
		keys_esp(k->keys, &c->in);
		keys_esp(k->keys, &c->out);
		fflush(k->keys);
	}
}

static void cb_child_down(void *ctx, const struct ikev1_child *c, const char *why)
{
	(void)why;
	struct srv_ike_sa *x = ctx;
	for (int i = 0; i < IKEV1_CHILDREN; i++)
		if (x->esp[i] && x->esp[i]->spi_in == c->spi_in) {
			esp_free(x->srv->ike, x->esp[i]);
			x->esp[i] = NULL;
		}
}

/* The same client: its address and port (clients behind one NAT differ by port) and the
 * identity it proved. */
static bool same_client(const struct srv_ike_sa *a, const struct srv_ike_sa *b)
{
	const struct ikev1_addr *p = ikev1_peer(a->sa), *q = ikev1_peer(b->sa);
	return !memcmp(p->ip, q->ip, 4) && p->port == q->port &&
	       !strcmp(ikev1_peer_id(a->sa), ikev1_peer_id(b->sa));
}

/* INITIAL-CONTACT: the peer (this address and port, this identity) forgot every earlier
 * SA: so does the server. Clients behind one NAT share the address but not the port. */
static void forget_older(struct srv *s, struct srv_ike_sa *x)
{
	struct srv_ike *k = s->ike;
	for (unsigned guard = 0; guard <= k->nsas; guard++) {
		struct srv_ike_sa *o = client_other(k, x, false);
		if (!o) return;
		ike_log(s, o, false, "forgotten: INITIAL-CONTACT from the same peer in sa=%u", x->id);
		ikev1_delete(o->sa, "the peer sent INITIAL-CONTACT", srv_now_ms());
		sa_free(s, o);
	}
}

/* A phase-1 rekey: the client made a new IKE SA and its first child is up. The L2TP
 * tunnels inside the client's older IKE SAs move to the new one (their replies go out
 * in its child from now on), then the older SAs are deleted. */
static void replace_older(struct srv *s, struct srv_ike_sa *x)
{
	struct srv_ike *k = s->ike;
	for (unsigned guard = 0; guard <= k->nsas; guard++) {
		struct srv_ike_sa *o = client_other(k, x, true);
		if (!o) return;
		ike_log(s, o, false, "replaced by sa=%u of the same client: its L2TP tunnels move there",
		        x->id);
		if (o->carried_l2tp) {
			srv_l2tp_ipsec_rebind(s, o->id, x->id); /* server.c */
			x->carried_l2tp = true;
			o->carried_l2tp = false;
		}
		ikev1_delete(o->sa, "replaced by a newer IKE SA", srv_now_ms());
		sa_free(s, o);
	}
}

/* ---- admission of a new IKE SA ---------------------------------------------------------- */
static struct srv_ike_sa *sa_new(struct srv *s, const uint8_t ispi[8], const struct ikev1_addr *local,
                                 const struct ikev1_addr *peer)
{
	struct srv_ike *k = s->ike;
	struct srv_ike_sa *x = calloc(1, sizeof *x);
	if (!x) return NULL;
	if (srv_timer_reserve(s) != 0) {
		free(x);
		return NULL;
	}
	srv_timer_init(&x->timer, SRV_TIMER_IKE);
	x->srv = s;
	x->cbs = (struct ikev1_cbs){x, cb_send, cb_event, cb_random, cb_child_up, cb_child_down};
	uint64_t now = srv_now_ms();
	x->sa = ikev1_new(&k->conf, &x->cbs, local, peer, now);
	if (!x->sa) {
		s->ntimers--;
		free(x);
		return NULL;
	}
	do x->id = ++k->next_id; while (!x->id || sa_by_id(k, x->id));
	memcpy(x->ispi, ispi, 8);
	memcpy(x->peer_ip, peer->ip, 4);
	x->created_ms = now;
	struct srv_ike_sa **h = &k->by_cookie[cookie_hash(k, ispi)];
	x->hnext = *h;
	*h = x;
	h = &k->by_id[mix32(x->id) & k->hmask];
	x->id_next = *h;
	*h = x;
	client_link(k, x);
	x->next = k->all;
	if (k->all) k->all->prev = x;
	k->all = x;
	k->nsas++;
	/* half open until Main Mode completes */
	x->half_open = true;
	x->ho_same = 1;
	for (struct srv_ike_sa *o = k->half_open; o; o = o->ho_next)
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

/* The SA a datagram belongs to, or a new one for a Main Mode 1 the limits admit. */
static struct srv_ike_sa *sa_for(struct srv *s, const uint8_t *buf, size_t len,
                                 const struct ikev1_addr *local, const struct ikev1_addr *peer,
                                 const struct sockaddr_storage *from)
{
	struct srv_ike *k = s->ike;
	uint8_t ispi[8], rspi[8];
	char ip[20];
	if (!ikev1_peek_cookies(buf, len, ispi, rspi)) {
		k->st.malformed++;
		if (srv_throttle(s))
			ike_log(s, NULL, false, "datagram of %zu bytes from %s is no ISAKMP message, dropped",
			        len, ip_text(peer->ip, ip, sizeof ip));
		return NULL;
	}
	static const uint8_t zero[8];
	for (struct srv_ike_sa *x = k->by_cookie[cookie_hash(k, ispi)]; x; x = x->hnext)
		if (!memcmp(x->ispi, ispi, 8) && !memcmp(x->peer_ip, peer->ip, 4) &&
		    (!memcmp(rspi, zero, 8) || !memcmp(rspi, ikev1_rspi(x->sa), 8)))
			return x;
	if (memcmp(rspi, zero, 8)) {
		k->st.unknown_sa++;
		if (srv_throttle(s))
			ike_log(s, NULL, false, "ISAKMP message from %s:%u for an SA the server does not "
			        "have, dropped", ip_text(peer->ip, ip, sizeof ip), peer->port);
		return NULL;
	}
	/* admission: as new L2TP tunnels (server.c), the same per-source rate and the same
	 * fair share of the half-open table */
	unsigned held = 0;
	struct srv_ike_sa *victim = NULL;
	for (struct srv_ike_sa *o = k->half_open; o; o = o->ho_next) {
		if (!victim || o->ho_same >= victim->ho_same) victim = o;
		if (!memcmp(o->peer_ip, peer->ip, 4)) held++;
	}
	const struct serve_conf *sc = &s->cfg->serve;
	unsigned hmax = (unsigned)sc->ipsec_half_open;
	const char *why = NULL;
	bool evict = false;
	if (s->stopping) why = "the server is stopping";
	else if (!srv_rate_ok(s, from)) {
		k->st.refused_rate++;
		why = "too many new tunnels from this address (serve.limits.new_tunnels_per_source)";
	} else {
		int v = srv_half_open_admit(held, k->nhalf_open, hmax, victim ? victim->ho_same : 0,
		                            victim != NULL);
		if (v == SRV_HO_SHARE) {
			k->st.refused_half_open++;
			why = "too many half-open IKE SAs from this address (its share is a sixteenth of "
			      "serve.ipsec.limits.half_open)";
		} else if (v == SRV_HO_FULL) {
			k->st.refused_half_open++;
			why = "too many IKE SAs half open (serve.ipsec.limits.half_open)";
		} else {
			evict = v == SRV_HO_EVICT;
			if (k->nsas - (evict ? 1 : 0) >= (unsigned)sc->ipsec_sas) {
				k->st.refused_sas++;
				why = "IKE SA limit reached (serve.ipsec.limits.sas)";
			}
		}
	}
	if (why) {
		if (srv_throttle(s))
			ike_log(s, NULL, false, "Main Mode from %s:%u dropped: %s",
			        ip_text(peer->ip, ip, sizeof ip), peer->port, why);
		return NULL;
	}
	if (evict) {
		k->st.evicted_half_open++;
		if (srv_throttle(s))
			ike_log(s, victim, false, "half-open IKE SA (%u from that address) evicted for "
			        "Main Mode from %s: serve.ipsec.limits.half_open reached", victim->ho_same,
			        ip_text(peer->ip, ip, sizeof ip));
		sa_free(s, victim);
	}
	struct srv_ike_sa *x = sa_new(s, ispi, local, peer);
	if (!x) k->st.refused_sas++;
	return x;
}

/* ---- datagrams ------------------------------------------------------------------------ */
static void ike_in(struct srv *s, struct srv_listener *l, const struct sockaddr_storage *from,
                   const uint8_t *buf, size_t len)
{
	struct srv_ike *k = s->ike;
	uint64_t now = srv_now_ms();
	ike_dh_reuse_expire(now); /* a reused key pair past its window is erased */
	if (len > 17 && buf[17] >> 4 == 2 ? true : !s->cfg->serve.ipsec) {
		srv_ikev2_input(s, l == k->l_natt, from, buf, len); /* server_ikev2.c */
		return;
	}
	k->st.rx++;
	struct ikev1_addr peer, local;
	addr_of(from, &peer);
	addr_of(&l->addr, &local);
	/* the automaton knows the NAT-T port by its number: the port's role, whatever
	 * serve.ipsec.natt_port says */
	local.port = l == k->l_natt ? 4500 : 500;
	struct srv_ike_sa *x = sa_for(s, buf, len, &local, &peer, from);
	if (!x) return;
	ikev1_input(x->sa, buf, len, &local, &peer, now);
	sa_check(s, x);
}

/* ESP for one of our SPIs (pkt at the SPI): decrypted, the L2TP inside handed on. */
static void esp_in(struct srv *s, const struct sockaddr_storage *from, const uint8_t *pkt, size_t len)
{
	struct srv_ike *k = s->ike;
	char ip[20];
	struct ikev1_addr peer;
	addr_of(from, &peer);
	if (len < 8) {
		k->st.esp_bad++;
		return;
	}
	uint32_t spi = (uint32_t)pkt[0] << 24 | (uint32_t)pkt[1] << 16 | (uint32_t)pkt[2] << 8 | pkt[3];
	struct srv_esp *e = esp_by_spi(k, spi);
	if (!e && srv_ikev2_esp(s, from, pkt, len)) return; /* server_ikev2.c */
	if (!e || memcmp(ikev1_peer(e->owner->sa)->ip, peer.ip, 4) != 0) {
		k->st.esp_unknown_spi++;
		if (srv_throttle(s))
			ike_log(s, NULL, false, "ESP from %s with SPI %08x the server does not have, dropped",
			        ip_text(peer.ip, ip, sizeof ip), spi);
		return;
	}
	static uint8_t out[SRV_DGRAM_MAX + 64];
	size_t n = 0;
	uint8_t nh = 0;
	struct diag_err err;
	int r = esp_pair_open(&e->pair, pkt, len, out, sizeof out, &n, &nh, &err);
	struct srv_ike_sa *x = e->owner;
	if (r != 0) {
		k->st.esp_bad++;
		if (srv_throttle(s))
			ike_log(s, x, false, "ESP on SPI %08x dropped: %s", spi, err.reason);
		return;
	}
	k->st.esp_rx++;
	uint64_t now = srv_now_ms();
	if (!e->used) {
		e->used = true;
		ikev1_child_used(x->sa, spi, now); /* a rekey completes: the older child goes */
	}
	/* transport mode: UDP to the L2TP port, nothing else */
	uint16_t sport = 0, dport = 0, ulen = 0;
	if (nh == 17 && n >= 8) {
		sport = (uint16_t)(out[0] << 8 | out[1]);
		dport = (uint16_t)(out[2] << 8 | out[3]);
		ulen = (uint16_t)(out[4] << 8 | out[5]);
	}
	if (nh != 17 || n < 8 || ulen < 8 || ulen > n || (e->port_r && dport != e->port_r) ||
	    (e->port_i && sport != e->port_i)) {
		k->st.esp_not_l2tp++;
		if (srv_throttle(s))
			ike_log(s, x, false, "ESP on SPI %08x carried %s, not L2TP (UDP %u to %u): dropped",
			        spi, nh == 17 ? "a UDP datagram" : "another protocol", e->port_i ? e->port_i : 1701,
			        e->port_r ? e->port_r : 1701);
		return;
	}
	x->carried_l2tp = true;
	struct sockaddr_storage inner;
	sockaddr_of(&peer, sport, &inner);
	srv_l2tp_ipsec_datagram(s, &inner, sizeof(struct sockaddr_in), out + 8, (size_t)ulen - 8,
	                        x->id); /* server.c */
	sa_check(s, x);
}

/* An L2TP datagram for the tunnel that came inside IKE SA `id`, to the inner address
 * `peer` (the client's L2TP port): UDP, sealed in the newest child's ESP. false when the
 * SA or its child is gone. */
bool srv_ike_l2tp_send(struct srv *s, uint32_t id, const struct sockaddr_storage *peer,
                       const uint8_t *buf, size_t len)
{
	struct srv_ike *k = s->ike;
	struct srv_ike_sa *x = k ? sa_by_id(k, id) : NULL;
	if (!x || ikev1_state(x->sa) != IKEV1_ESTABLISHED) return false;
	struct srv_esp *e = NULL;
	for (int i = 0; i < IKEV1_CHILDREN; i++)
		if (x->esp[i] && (!e || x->esp[i]->serial > e->serial)) e = x->esp[i];
	if (!e || len + 8 > SRV_DGRAM_MAX) return false;
	static uint8_t udp[SRV_DGRAM_MAX + 8];
	uint16_t sport = e->port_r ? e->port_r : 1701;
	uint16_t dport = ntohs(((const struct sockaddr_in *)peer)->sin_port);
	udp[0] = (uint8_t)(sport >> 8);
	udp[1] = (uint8_t)sport;
	udp[2] = (uint8_t)(dport >> 8);
	udp[3] = (uint8_t)dport;
	udp[4] = (uint8_t)((len + 8) >> 8);
	udp[5] = (uint8_t)(len + 8);
	udp[6] = udp[7] = 0; /* IPv4: no checksum; ESP's integrity covers the datagram */
	memcpy(udp + 8, buf, len);
	uint8_t iv[16];
	srv_random(s, iv, esp_sa_ivlen(&e->pair.out));
	static uint8_t out[SRV_DGRAM_MAX + 128];
	int why = 0;
	size_t n = esp_pair_seal(&e->pair, iv, udp, len + 8, 17, out, sizeof out, &why);
	if (!n) {
		if (why == ESPF_EXHAUSTED) ikev1_child_delete(x->sa, e->spi_in, "sequence numbers used up", srv_now_ms());
		return false;
	}
	const struct ikev1_addr *p = ikev1_peer(x->sa);
	struct sockaddr_storage to;
	k->st.esp_tx++;
	if (e->pair.udp_encap) {
		if (!k->l_natt || k->l_natt->fd < 0) return false;
		sockaddr_of(p, p->port, &to);
		srv_send(s, k->l_natt->fd, &to, sizeof(struct sockaddr_in), out, n, NULL);
	} else {
		if (!k->l_esp || k->l_esp->fd < 0) return false;
		sockaddr_of(p, 0, &to);
		srv_send(s, k->l_esp->fd, &to, sizeof(struct sockaddr_in), out, n, NULL);
	}
	return true;
}

#define IKE_RX_BATCH 16
static void udp_read(struct srv *s, struct srv_listener *l)
{
	static uint8_t bufs[IKE_RX_BATCH][SRV_DGRAM_MAX];
	struct sockaddr_storage peers[IKE_RX_BATCH];
	struct iovec iov[IKE_RX_BATCH];
	struct mmsghdr m[IKE_RX_BATCH];
	struct srv_ike *k = s->ike;
	for (int burst = 0; burst < 64 / IKE_RX_BATCH; burst++) {
		for (unsigned i = 0; i < IKE_RX_BATCH; i++) {
			iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizeof bufs[i]};
			m[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &peers[i],
			                                    .msg_namelen = sizeof peers[i],
			                                    .msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		int got = recvmmsg(l->fd, m, IKE_RX_BATCH, MSG_TRUNC | MSG_DONTWAIT, NULL);
		if (got <= 0) break;
		for (int i = 0; i < got; i++) {
			size_t n = m[i].msg_len;
			const uint8_t *b = bufs[i];
			const struct sockaddr_storage *from = &peers[i];
			if (from->ss_family != AF_INET) continue;
			if (n > SRV_DGRAM_MAX) {
				k->st.malformed++;
				if (srv_throttle(s)) {
					char ip[20];
					struct ikev1_addr p;
					addr_of(from, &p);
					ike_log(s, NULL, false, "datagram of %zu bytes from %s dropped: more than "
					        "the %d the server takes", n, ip_text(p.ip, ip, sizeof ip), SRV_DGRAM_MAX);
				}
				continue;
			}
			srv_capture_udp(s, &l->addr, from, false, b, n);
			if (l == k->l_ike) {
				ike_in(s, l, from, b, n);
				continue;
			}
			switch (natt_classify(b, n)) {
			case NATT_KEEPALIVE: k->st.keepalives++; break;
			case NATT_IKE: ike_in(s, l, from, b + 4, n - 4); break;
			case NATT_ESP: esp_in(s, from, b, n); break;
			default: k->st.malformed++; break;
			}
		}
		if (got < IKE_RX_BATCH) break;
	}
}

/* Plain ESP: the raw socket hands over whole IPv4 packets. */
static void esp_read(struct srv *s, struct srv_listener *l)
{
	static uint8_t buf[SRV_DGRAM_MAX + 64];
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(l->fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC,
		                     (struct sockaddr *)&from, &fl);
		if (n <= 0) break;
		if ((size_t)n > sizeof buf || n < 20 || from.ss_family != AF_INET) {
			s->ike->st.esp_bad++;
			continue;
		}
		size_t ihl = (size_t)(buf[0] & 15) * 4;
		if (ihl < 20 || ihl >= (size_t)n) {
			s->ike->st.esp_bad++;
			continue;
		}
		/* only what was sent to the address IKE listens on */
		const struct sockaddr_in *me = (const struct sockaddr_in *)&s->ike->addr;
		if (me->sin_addr.s_addr != INADDR_ANY && memcmp(buf + 16, &me->sin_addr, 4) != 0) continue;
		srv_capture_ip(s, &from, &l->addr, 50, buf + ihl, (size_t)n - ihl);
		esp_in(s, &from, buf + ihl, (size_t)n - ihl);
	}
}

/* ---- set-up -------------------------------------------------------------------------- */
/* The IKEv1 responder's configuration from serve.ipsec: proposals, the pre-shared key,
 * the certificate cert pick chooses. 0, or -1 with the reason on stderr. */
static int ike1_setup(struct srv *s, struct srv_ike *k)
{
	const struct serve_conf *sc = &s->cfg->serve;
	char why[200];
	if ((sc->ipsec_phase1 && ikev1_conf_parse_p1(&k->conf, sc->ipsec_phase1, why, sizeof why) < 0) ||
	    (sc->ipsec_phase2 && ikev1_conf_parse_p2(&k->conf, sc->ipsec_phase2, why, sizeof why) < 0)) {
		fprintf(stderr, "vnet: %s: serve.ipsec: %s\n", s->config_name, why);
		return -1;
	}
	k->conf.auth_methods = 0;
	if (sc->ipsec_auth >> IPSEC_AUTH_PSK & 1) {
		k->conf.auth_methods |= IKEV1_AUTH_PSK;
		k->conf.psk = (const uint8_t *)sc->ipsec_psk;
		k->conf.psk_len = sc->ipsec_psk ? strlen(sc->ipsec_psk) : 0;
	}
	if (sc->ipsec_auth >> IPSEC_AUTH_CERT & 1) {
		/* the certificate `vnet cert pick --purpose l2tp` chooses, by the same code; the
		 * clients' computer certificates chain to the store's CAs */
		const struct certs_conf *cc = &s->cfg->certs;
		struct cert_server_opts co = {.store = cc->store_path, .purpose = CERT_PURPOSE_L2TP,
		                              .client_ca = cc->client_ca_path,
		                              .server_name = cc->server_name};
		struct diag_err e;
		if (cert_server_load(&co, &k->cert, &e) < 0) {
			fprintf(stderr, "vnet: %s: serve.ipsec: no certificate to present: %s%s%s\n",
			        s->config_name, e.reason, k->cert.verdict ? "; " : "",
			        k->cert.verdict ? k->cert.verdict : "");
			return -1;
		}
		k->conf.auth_methods |= IKEV1_AUTH_RSA_SIG;
		k->conf.cert = k->cert.cert;
		k->conf.key = k->cert.key;
		k->conf.chain = k->cert.chain;
		k->conf.trust = k->cert.trust;
	}
	if (ikev1_conf_check(&k->conf, why, sizeof why) < 0) {
		fprintf(stderr, "vnet: %s: serve.ipsec: %s\n", s->config_name, why);
		return -1;
	}
	k->conf.natt = sc->ipsec_natt;
	k->conf.l2tp_port = 1701;
	return 0;
}

int srv_ike_setup(struct srv *s)
{
	const struct serve_conf *sc = &s->cfg->serve;
	if (!sc->ipsec && !sc->ikev2) return 0;
	struct srv_ike *k = calloc(1, sizeof *k);
	if (!k) return -1;
	s->ike = k;
	ikev1_conf_default(&k->conf);
	if (sc->ipsec && ike1_setup(s, k) != 0) return -1; /* IKEv1 only with serve.ipsec */
	ike_dh_reuse((uint32_t)(sc->ipsec ? sc->ipsec_dh_reuse : 0)); /* IKEv1 and IKEv2 */
	uint32_t cap = 64;
	while (cap < (uint32_t)sc->ipsec_sas && cap < (1u << 20)) cap <<= 1;
	k->hmask = cap - 1;
	k->smask = 2 * cap - 1;
	k->by_cookie = calloc(cap, sizeof *k->by_cookie);
	k->by_id = calloc(cap, sizeof *k->by_id);
	k->by_client = calloc(cap, sizeof *k->by_client);
	k->by_spi = calloc(2 * cap, sizeof *k->by_spi);
	if (!k->by_cookie || !k->by_id || !k->by_client || !k->by_spi) return -1;
	k->l_ike = srv_listener_add(s, SRV_PROTO_IKE, udp_read);
	k->l_natt = srv_listener_add(s, SRV_PROTO_IKE, udp_read);
	k->l_esp = srv_listener_add(s, SRV_PROTO_ESP, esp_read);
	if (!k->l_ike || !k->l_natt || !k->l_esp) {
		fprintf(stderr, "vnet: too many listeners for IPsec\n");
		return -1;
	}
	return srv_ikev2_setup(s, k->l_ike, k->l_natt, k->l_esp); /* server_ikev2.c */
}

static int bind_udp(struct srv *s, struct srv_listener *l, uint16_t port)
{
	l->addr = s->ike->addr;
	((struct sockaddr_in *)&l->addr)->sin_port = htons(port);
	l->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&l->addr, sizeof(struct sockaddr_in)) != 0) {
		char ip[20];
		fprintf(stderr, "vnet: serve.ipsec: cannot listen on %s:%u: %s%s\n",
		        ip_text((const uint8_t *)&((struct sockaddr_in *)&l->addr)->sin_addr, ip, sizeof ip),
		        port, strerror(errno),
		        errno == EACCES ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE; "
		                          "serve.ipsec.ike_port and natt_port choose others)" : "");
		return -1;
	}
	int rcvbuf = 4 << 20;
	setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	return 0;
}

int srv_ike_open(struct srv *s, const char *capture)
{
	struct srv_ike *k = s->ike;
	if (!k) return 0;
	const struct serve_conf *sc = &s->cfg->serve;
	struct sockaddr_in *a = (struct sockaddr_in *)&k->addr;
	a->sin_family = AF_INET;
	if (sc->ipsec_listen) {
		inet_pton(AF_INET, sc->ipsec_listen, &a->sin_addr);
	} else if (s->local.ss_family == AF_INET) {
		a->sin_addr = ((const struct sockaddr_in *)&s->local)->sin_addr;
	} else {
		fprintf(stderr, "vnet: serve.ipsec: the L2TP listener is IPv6; IKE takes an IPv4 address "
		        "(serve.ipsec.listen)\n");
		return -1;
	}
	if (bind_udp(s, k->l_ike, (uint16_t)sc->ike_port) != 0 ||
	    bind_udp(s, k->l_natt, (uint16_t)sc->natt_port) != 0)
		return -1;
	/* plain ESP needs a raw socket; without the right to one, clients behind NAT (ESP in
	 * UDP) are still served */
	k->l_esp->addr = k->addr;
	k->l_esp->fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP);
	char ip[20];
	ip_text((const uint8_t *)&a->sin_addr, ip, sizeof ip);
	if (k->l_esp->fd < 0)
		srv_log(s, SC_IKE, false, NULL, NULL, "plain ESP (IP protocol 50) is not received: %s "
		        "(a raw socket needs CAP_NET_RAW); only clients using ESP in UDP on port %d "
		        "(NAT traversal) can be served", strerror(errno), sc->natt_port);
	if (capture) {
		size_t n = strlen(capture) + 6;
		char *path = malloc(n);
		if (!path) return -1;
		snprintf(path, n, "%s.keys", capture);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		k->keys = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!k->keys) {
			fprintf(stderr, "vnet: --capture: cannot write the keys to %s: %s\n", path,
			        strerror(errno));
			if (fd >= 0) close(fd);
			free(path);
			return -1;
		}
		fprintf(k->keys, "# IKEv1, IKEv2 and ESP keys of the SAs in %s: vnet pcap explain --keys, "
		        "or Wireshark's ikev1_decryption_table, ikev2_decryption_table and esp_sa "
		        "tables\n", capture);
		fflush(k->keys);
		free(path);
	}
	srv_ikev2_opened(s, ip); /* server_ikev2.c */
	if (!sc->ipsec) return 0;
	bool psk = sc->ipsec_auth >> IPSEC_AUTH_PSK & 1, cert = sc->ipsec_auth >> IPSEC_AUTH_CERT & 1;
	srv_log(s, SC_IKE, false, NULL, NULL, "L2TP/IPsec: IKE on %s:%d and %d, %s%s%s, %s",
	        ip, sc->ike_port, sc->natt_port, psk ? "pre-shared key" : "",
	        psk && cert ? " or " : "", cert ? "certificates" : "",
	        sc->ipsec_required ? "L2TP outside IPsec refused" : "L2TP outside IPsec allowed too");
	if (cert) /* which certificate, and what clients will make of it (787 or not) */
		srv_log(s, SC_IKE, false, NULL, NULL, "%s", k->cert.verdict);
	if (sc->ipsec_dh_reuse)
		srv_log(s, SC_IKE, false, NULL, NULL, "Diffie-Hellman key pairs reused for %d s "
		        "(serve.ipsec.dh_reuse): the SAs negotiated in one window lose forward "
		        "secrecy towards one another", sc->ipsec_dh_reuse);
	return 0;
}

bool srv_ike_required(const struct srv *s)
{
	return s->ike && s->cfg->serve.ipsec && s->cfg->serve.ipsec_required;
}

void srv_ike_plain_refused(struct srv *s, const struct sockaddr_storage *peer)
{
	s->ike->st.plain_l2tp_refused++;
	if (srv_throttle(s)) {
		struct srv_l2tp_tunnel tmp;
		tmp.peer = *peer;
		char pt[80];
		srv_log(s, SC_L2TP, false, NULL, NULL, "L2TP datagram from %s outside IPsec dropped: "
		        "serve.ipsec.required (the client must connect with L2TP/IPsec)",
		        srv_peer_text(&tmp, pt, sizeof pt));
	}
}

void srv_ike_stop_all(struct srv *s)
{
	struct srv_ike *k = s->ike;
	if (!k) return;
	uint64_t now = srv_now_ms();
	for (unsigned guard = 0; k->all && guard <= k->nsas + 1; guard++) {
		struct srv_ike_sa *x = k->all;
		if (ikev1_state(x->sa) == IKEV1_ESTABLISHED) ikev1_delete(x->sa, "server shutting down", now);
		sa_free(s, x);
	}
}

void srv_ike_destroy(struct srv *s)
{
	struct srv_ike *k = s->ike;
	if (!k) return;
	while (k->all) sa_free(s, k->all);
	if (k->keys) fclose(k->keys);
	cert_server_free(&k->cert);
	free(k->by_cookie);
	free(k->by_id);
	free(k->by_client);
	free(k->by_spi);
	free(k);
	s->ike = NULL;
	ike_dh_reuse(0); /* the kept key pairs erased */
}

/* ---- show ------------------------------------------------------------------------------ */
json_t *srv_ike_view(const struct srv *s, bool children)
{
	json_t *a = json_array();
	const struct srv_ike *k = s->ike;
	if (!k) return a;
	uint64_t now = srv_now_ms();
	for (const struct srv_ike_sa *x = k->all; x; x = x->next) {
		const struct ikev1_addr *p = ikev1_peer(x->sa);
		char ip[20], ck[40];
		const uint8_t *r = ikev1_rspi(x->sa);
		for (int i = 0; i < 8; i++) snprintf(ck + 2 * i, 3, "%02x", x->ispi[i]);
		ck[16] = ':';
		for (int i = 0; i < 8; i++) snprintf(ck + 17 + 2 * i, 3, "%02x", r[i]);
		if (!children) {
			json_t *o = json_object();
			json_object_set_new(o, "id", json_integer(x->id));
			json_object_set_new(o, "peer", json_string(ip_text(p->ip, ip, sizeof ip)));
			json_object_set_new(o, "port", json_integer(p->port));
			json_object_set_new(o, "identity", json_string(ikev1_peer_id(x->sa)));
			const char *am = ikev1_auth_method(x->sa);
			json_object_set_new(o, "auth", am ? json_string(am) : json_null());
			json_object_set_new(o, "state", json_string(srv_tok(ikev1_state_names, ikev1_state(x->sa))));
			json_object_set_new(o, "cookies", json_string(ck));
			json_object_set_new(o, "nat", json_boolean(ikev1_nat(x->sa)));
			unsigned nc = 0;
			for (int i = 0; i < IKEV1_CHILDREN; i++) nc += x->esp[i] != NULL;
			json_object_set_new(o, "children", json_integer(nc));
			json_object_set_new(o, "age", json_integer((json_int_t)((now - x->created_ms) / 1000)));
			json_array_append_new(a, o);
			continue;
		}
		for (int i = 0; i < IKEV1_CHILDREN; i++) {
			const struct srv_esp *e = x->esp[i];
			if (!e) continue;
			const struct ikev1_child *c = ikev1_child(x->sa, e->spi_in);
			json_t *o = json_object();
			char sp[12];
			json_object_set_new(o, "ike", json_integer(x->id));
			json_object_set_new(o, "peer", json_string(ip_text(p->ip, ip, sizeof ip)));
			snprintf(sp, sizeof sp, "%08x", e->spi_in);
			json_object_set_new(o, "spi_in", json_string(sp));
			snprintf(sp, sizeof sp, "%08x", e->spi_out);
			json_object_set_new(o, "spi_out", json_string(sp));
			json_object_set_new(o, "encapsulation", json_string(e->pair.udp_encap ? "udp" : "esp"));
			json_object_set_new(o, "mode", json_string(c && c->tunnel ? "tunnel" : "transport"));
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
	return a;
}

json_t *srv_ike_stats(const struct srv *s)
{
	const struct srv_ike *k = s->ike;
	if (!k) return json_null();
	json_t *o = json_object();
	json_object_set_new(o, "sas", json_integer(k->nsas));
	json_object_set_new(o, "half_open", json_integer(k->nhalf_open));
	json_object_set_new(o, "children", json_integer(k->nchildren));
#define F(name) json_object_set_new(o, #name, json_integer((json_int_t)k->st.name))
	F(rx); F(tx); F(malformed); F(unknown_sa); F(refused_rate); F(refused_half_open);
	F(refused_sas); F(evicted_half_open); F(sas_up); F(sas_failed); F(children_up); F(esp_rx);
	F(esp_tx); F(esp_bad); F(esp_unknown_spi); F(esp_not_l2tp); F(keepalives);
	F(plain_l2tp_refused);
#undef F
	return o;
}

/* ---- the fuzz harness's door ----------------------------------------------------------------- */
void srv_ike_datagram(struct srv *s, bool natt, const struct sockaddr_storage *from,
                      const uint8_t *buf, size_t len)
{
	struct srv_ike *k = s->ike;
	if (!k) return;
	struct srv_listener *l = natt ? k->l_natt : k->l_ike;
	if (!natt) {
		ike_in(s, l, from, buf, len);
		return;
	}
	switch (natt_classify(buf, len)) {
	case NATT_IKE: ike_in(s, l, from, buf + 4, len - 4); break;
	case NATT_ESP: esp_in(s, from, buf, len); break;
	default: break;
	}
}

int srv_ike_check_tables(const struct srv *s, char *why, size_t n)
{
	const struct srv_ike *k = s->ike;
	if (!k) return 0;
	unsigned nsa = 0, nho = 0, nch = 0;
	for (const struct srv_ike_sa *x = k->all; x; x = x->next) {
		if (++nsa > k->nsas) break;
		if (sa_by_id(k, x->id) != x) {
			snprintf(why, n, "IKE SA %u not found by its id", x->id);
			return -1;
		}
		const struct ikev1_addr *p = ikev1_peer(x->sa);
		const struct srv_ike_sa *c = k->by_client[client_hash(k, p->ip, p->port)];
		while (c && c != x) c = c->cl_next;
		if (!c) {
			snprintf(why, n, "IKE SA %u not found by its client's address and port", x->id);
			return -1;
		}
		if (x->half_open) {
			nho++;
			unsigned same = 0;
			for (const struct srv_ike_sa *o = k->half_open; o; o = o->ho_next)
				same += !memcmp(o->peer_ip, x->peer_ip, 4);
			if (same != x->ho_same) {
				snprintf(why, n, "half-open IKE SA %u counts %u of its source, there are %u",
				         x->id, x->ho_same, same);
				return -1;
			}
		}
		if (x->half_open != (ikev1_state(x->sa) != IKEV1_ESTABLISHED)) {
			snprintf(why, n, "IKE SA %u half-open mark %d in state %s", x->id, x->half_open,
			         srv_tok(ikev1_state_names, ikev1_state(x->sa)));
			return -1;
		}
		for (int i = 0; i < IKEV1_CHILDREN; i++)
			if (x->esp[i]) {
				nch++;
				if (esp_by_spi(k, x->esp[i]->spi_in) != x->esp[i]) {
					snprintf(why, n, "child %08x of IKE SA %u not found by its SPI",
					         x->esp[i]->spi_in, x->id);
					return -1;
				}
			}
	}
	const struct serve_conf *sc = &s->cfg->serve;
	if (nsa > (unsigned)sc->ipsec_sas || nho > (unsigned)sc->ipsec_half_open) {
		snprintf(why, n, "%u IKE SAs, %u half open: over the limits", nsa, nho);
		return -1;
	}
	if (nsa != k->nsas || nho != k->nhalf_open || nch != k->nchildren) {
		snprintf(why, n, "IKE tables: %u SAs (count %u), %u half open (count %u), %u children "
		         "(count %u)", nsa, k->nsas, nho, k->nhalf_open, nch, k->nchildren);
		return -1;
	}
	return 0;
}
