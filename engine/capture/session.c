/* Session tracking: frames -> conversations with phases and observations. */
#include "capture/session.h"
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "capture/ikedecrypt.h"
#include "ike/ikev2.h"
#include "ppp.h"
#include "radius.h"

/* ---- the key map: (kind, bytes) -> session id ------------------------------------- */

enum key_kind {
	K_IKE = 1,   /* initiator SPI / cookie */
	K_L2TP,      /* host address + the tunnel ID that host assigned */
	K_L2TP_PAIR, /* both endpoints: the last tunnel between them */
	K_PPTP,      /* TCP 4-tuple */
	K_GRE,       /* receiver and sender addresses + the call ID the receiver assigned */
	K_PPTP_CALL, /* control connection's session + the sender's role + its call ID */
	K_GRE_PAIR,  /* both addresses: the last PPTP session between them */
	K_RADIUS,    /* client address/port, server address/port, identifier */
	K_IPSEC_PAIR,/* both addresses: the last IKE SA between them */
	K_ESP_PAIR,  /* both outer addresses: the last session decrypted ESP carried */
};

#define KEY_MAX 44

struct key {
	uint8_t len;
	uint8_t b[KEY_MAX];
};

struct slot {
	uint64_t h;
	uint32_t sid; /* 0: empty */
	struct key k;
};

struct sess_table {
	char *file;
	struct vsess **s;
	size_t n, cap;
	struct slot *slots;
	size_t nslots, used;
	uint64_t first_ns, last_ns;
	uint64_t packets;
	sess_done_fn done;
	void *done_arg;
	const struct ike_keys *keys;
	uint8_t *dec;              /* decrypted IKE message */
	struct ike_msg *inner;     /* its decode */
	uint64_t decrypted, undecryptable;
	/* ESP: the decrypted inner packets go through a dissector of their own */
	struct dissect *esp_d;
	struct esp_ctx *esp_x;
	uint8_t *esp_buf;
	uint64_t esp_ok, esp_fail;
	bool in_esp;               /* dispatching a packet that came out of ESP */
	uint32_t esp_parent;       /* its IKE SA (0: none seen) */
	uint32_t esp_last;         /* the session that packet went to (0: none) */
	/* ESP that did not decrypt between addresses without an IKE SA in the capture and
	 * before anything there decrypted: told to the first session ESP then carries */
	struct {
		bool set;
		uint8_t a[16], b[16];
		const char *why;
		uint64_t frame;
	} esp_pending;
};

#define DEC_CAP 65536
#define ESP_IP_ROOM 40             /* an IPv6 header in front of a transport-mode payload */
#define ESP_BUF (ESP_IP_ROOM + 65536)

static uint64_t key_hash(const struct key *k)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < k->len; i++) {
		h ^= k->b[i];
		h *= 1099511628211ull;
	}
	return h ? h : 1;
}

static void key_init(struct key *k, uint8_t kind)
{
	k->len = 1;
	k->b[0] = kind;
}

static void key_add(struct key *k, const void *p, size_t n)
{
	if (n > KEY_MAX - (size_t)k->len)
		n = KEY_MAX - (size_t)k->len;
	memcpy(k->b + k->len, p, n);
	k->len = (uint8_t)(k->len + n);
}

static void key_u16(struct key *k, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	key_add(k, b, 2);
}

/* Rebuild the map when it fills up. Keys of released sessions are dropped on the way, so
 * the map follows the sessions open at a time: it doubles only when the live keys need
 * it, and may even shrink. */
static int map_grow(struct sess_table *t)
{
	size_t live = 0;
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i].sid && t->s[t->slots[i].sid - 1])
			live++;
	size_t nn = 1024;
	while (nn < 4 * (live + 1))
		nn *= 2;
	struct slot *ns = calloc(nn, sizeof *ns);
	if (!ns)
		return -1;
	for (size_t i = 0; i < t->nslots; i++) {
		struct slot *o = &t->slots[i];
		if (!o->sid || !t->s[o->sid - 1])
			continue;
		size_t j = o->h & (nn - 1);
		while (ns[j].sid)
			j = (j + 1) & (nn - 1);
		ns[j] = *o;
	}
	free(t->slots);
	t->slots = ns;
	t->nslots = nn;
	t->used = live;
	return 0;
}

static struct slot *map_slot(struct sess_table *t, const struct key *k, uint64_t h)
{
	size_t j = h & (t->nslots - 1);
	for (size_t probes = 0; probes < t->nslots; probes++) {
		struct slot *s = &t->slots[j];
		if (!s->sid)
			return s;
		if (s->h == h && s->k.len == k->len && !memcmp(s->k.b, k->b, k->len))
			return s;
		j = (j + 1) & (t->nslots - 1);
	}
	return NULL;
}

static uint32_t map_get(struct sess_table *t, const struct key *k)
{
	if (!t->nslots)
		return 0;
	struct slot *s = map_slot(t, k, key_hash(k));
	/* a key of a session already released is as good as absent */
	return s && s->sid && t->s[s->sid - 1] ? s->sid : 0;
}

static void map_put(struct sess_table *t, const struct key *k, uint32_t sid)
{
	if ((t->used + 1) * 2 > t->nslots && map_grow(t) < 0)
		return;
	uint64_t h = key_hash(k);
	struct slot *s = map_slot(t, k, h);
	if (!s)
		return;
	if (!s->sid)
		t->used++;
	s->h = h;
	s->k = *k;
	s->sid = sid;
}

/* ---- table ------------------------------------------------------------------------ */

struct sess_table *sess_table_new(const char *file)
{
	struct sess_table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->file = strdup(file ? file : "-");
	if (!t->file || map_grow(t) < 0) {
		free(t->file);
		free(t);
		return NULL;
	}
	return t;
}

static void sess_free_one(struct vsess *s)
{
	if (!s)
		return;
	for (int ph = 0; ph < PH_COUNT; ph++)
		free(s->ph[ph].note);
	ike1_crypt_free(s->crypt);
	for (size_t i = 0; i < sizeof s->v2frag / sizeof s->v2frag[0]; i++)
		free(s->v2frag[i]);
	free(s->obs);
	free(s);
}

void sess_release(struct sess_table *t, struct vsess *s)
{
	if (!s || s->id < 1 || s->id > t->n || t->s[s->id - 1] != s)
		return;
	t->s[s->id - 1] = NULL;
	sess_free_one(s);
}

void sess_set_done(struct sess_table *t, sess_done_fn fn, void *arg)
{
	t->done = fn;
	t->done_arg = arg;
}

/* A conversation that has ended on the wire: hand it over and forget it. */
static void sess_maybe_done(struct sess_table *t, struct vsess *s)
{
	if (!t->done || s->done)
		return;
	bool ended = false;
	switch (s->proto) {
	case SP_RADIUS:
	case SP_ACCT:
		ended = s->rad_answered;
		break;
	case SP_L2TP:
	case SP_PPTP:
		ended = s->closed;
		break;
	default:
		break;
	}
	if (!ended)
		return;
	s->done = true;
	t->done(t->done_arg, t, s);
}

void sess_table_free(struct sess_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		sess_free_one(t->s[i]);
	free(t->s);
	free(t->slots);
	free(t->dec);
	free(t->inner);
	dissect_free(t->esp_d);
	esp_ctx_free(t->esp_x);
	if (t->esp_buf)
		OPENSSL_cleanse(t->esp_buf, ESP_BUF);
	free(t->esp_buf);
	free(t->file);
	free(t);
}

int sess_set_keys(struct sess_table *t, const struct ike_keys *k)
{
	t->keys = k;
	if (k && !t->dec) {
		t->dec = malloc(DEC_CAP);
		t->inner = malloc(sizeof *t->inner);
		if (!t->dec || !t->inner)
			return -1;
	}
	if (ike_keys_count_esp(k) && !t->esp_d) {
		t->esp_d = dissect_new(NULL);
		t->esp_x = esp_ctx_new();
		t->esp_buf = malloc(ESP_BUF);
		if (!t->esp_d || !t->esp_x || !t->esp_buf)
			return -1;
	}
	return 0;
}

uint64_t sess_decrypted(const struct sess_table *t) { return t->decrypted; }
uint64_t sess_undecryptable(const struct sess_table *t) { return t->undecryptable; }
uint64_t sess_esp_decrypted(const struct sess_table *t) { return t->esp_ok; }
uint64_t sess_esp_failed(const struct sess_table *t) { return t->esp_fail; }

size_t sess_count(const struct sess_table *t) { return t->n; }
struct vsess *sess_at(struct sess_table *t, size_t i) { return i < t->n ? t->s[i] : NULL; }
uint64_t sess_last_ns(const struct sess_table *t) { return t->last_ns; }
uint64_t sess_first_ns(const struct sess_table *t) { return t->first_ns; }
uint64_t sess_packets(const struct sess_table *t) { return t->packets; }
const char *sess_file(const struct sess_table *t) { return t->file; }

struct vsess *sess_find_id(struct sess_table *t, uint32_t id)
{
	return id >= 1 && id <= t->n ? t->s[id - 1] : NULL;
}

/* A new session; the client is the packet's source unless `src_is_server`. */
static struct vsess *sess_new(struct sess_table *t, enum sess_proto proto,
                              const struct dl_pkt *p, bool src_is_server, bool roles_known)
{
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		struct vsess **ns = realloc(t->s, nc * sizeof *ns);
		if (!ns)
			return NULL;
		t->s = ns;
		t->cap = nc;
	}
	struct vsess *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->id = (uint32_t)t->n + 1;
	s->proto = proto;
	s->ipver = p->ipver;
	s->roles_known = roles_known;
	if (src_is_server) {
		memcpy(s->cli, p->dst, 16);
		memcpy(s->srv, p->src, 16);
		s->cport = p->dport;
		s->sport = p->sport;
	} else {
		memcpy(s->cli, p->src, 16);
		memcpy(s->srv, p->dst, 16);
		s->cport = p->sport;
		s->sport = p->dport;
	}
	s->first_cport = s->cport;
	if (t->in_esp) {
		s->in_ipsec = true;
		s->parent = t->esp_parent;
		t->esp_last = s->id;
	}
	s->first_frame = p->frame;
	s->first_ns = p->ts_ns;
	t->s[t->n++] = s;
	return s;
}

/* 0: from the client, 1: from the server. */
static int dir_of(const struct vsess *s, const struct dl_pkt *p)
{
	bool src_cli = !memcmp(p->src, s->cli, 16);
	bool src_srv = !memcmp(p->src, s->srv, 16);
	if (src_cli != src_srv)
		return src_cli ? 0 : 1;
	/* one address at both ends (a NAT on the server's own host): the ports tell, and
	 * an IKE server that floated answers from 4500 */
	if (p->has_ports)
		return p->sport == s->sport ||
		       (s->sport == 500 && p->sport == 4500 && p->dport != 4500) ? 1 : 0;
	return 0;
}

static void sess_seen(struct sess_table *t, struct vsess *s, const struct dl_pkt *p)
{
	s->last_frame = p->frame;
	if (p->ts_ns > s->last_ns) /* captures are not always in time order */
		s->last_ns = p->ts_ns;
	if (p->ts_ns < s->first_ns)
		s->first_ns = p->ts_ns;
	if (t->in_esp && s->id != t->esp_parent) {
		s->in_ipsec = true;
		if (!s->parent)
			s->parent = t->esp_parent;
		t->esp_last = s->id;
	}
}

/* ---- observations and phases -------------------------------------------------------- */

static struct obs *obs_slot(struct vsess *s, const char *key)
{
	for (uint16_t i = 0; i < s->nobs; i++)
		if (!strcmp(s->obs[i].key, key))
			return NULL; /* the first value wins */
	if (s->nobs == s->obs_cap) {
		if (s->obs_cap >= 64) {
			s->obs_full = true;
			return NULL;
		}
		uint16_t nc = s->obs_cap ? (uint16_t)(s->obs_cap * 2) : 4;
		struct obs *no = realloc(s->obs, nc * sizeof *no);
		if (!no)
			return NULL;
		s->obs = no;
		s->obs_cap = nc;
	}
	struct obs *o = &s->obs[s->nobs++];
	memset(o, 0, sizeof *o);
	o->key = key;
	return o;
}

/* Forget an observation, so that a later message sets it again. */
static void obs_forget(struct vsess *s, const char *key)
{
	for (uint16_t i = 0; i < s->nobs; i++)
		if (!strcmp(s->obs[i].key, key)) {
			memmove(&s->obs[i], &s->obs[i + 1], (size_t)(s->nobs - i - 1) * sizeof s->obs[0]);
			s->nobs--;
			return;
		}
}

void sess_obs_int(struct vsess *s, const char *key, int64_t v, uint64_t frame)
{
	struct obs *o = obs_slot(s, key);
	if (o) {
		o->type = OBS_INT;
		o->i = v;
		o->frame = frame;
	}
}

void sess_obs_bool(struct vsess *s, const char *key, bool v, uint64_t frame)
{
	struct obs *o = obs_slot(s, key);
	if (o) {
		o->type = OBS_BOOL;
		o->i = v;
		o->frame = frame;
	}
}

void sess_obs_str(struct vsess *s, const char *key, const char *v, uint64_t frame)
{
	struct obs *o = obs_slot(s, key);
	if (o) {
		o->type = OBS_STR;
		snprintf(o->s, sizeof o->s, "%s", v);
		o->frame = frame;
	}
}

const struct obs *sess_obs_get(const struct vsess *s, const char *key)
{
	for (uint16_t i = 0; i < s->nobs; i++)
		if (!strcmp(s->obs[i].key, key))
			return &s->obs[i];
	return NULL;
}

void phase_note(struct phase *x, const char *text)
{
	char *n = strdup(text);
	if (!n)
		return;
	free(x->note);
	x->note = n;
}

void phase_touch(struct vsess *s, enum phase_id ph, const struct dl_pkt *p, bool retrans)
{
	struct phase *x = &s->ph[ph];
	if (x->state == PS_NONE) {
		x->state = PS_OPEN;
		x->start_frame = p->frame;
		x->start_ns = p->ts_ns;
	}
	x->pkts++;
	if (retrans)
		x->retrans++;
	x->end_frame = p->frame;
	if (p->ts_ns > x->end_ns)
		x->end_ns = p->ts_ns;
	if (p->ts_ns < x->start_ns)
		x->start_ns = p->ts_ns;
	if (x->nev < PHASE_MAX_EV && (!x->nev || x->ev[x->nev - 1] != p->frame))
		x->ev[x->nev++] = p->frame;
}

void phase_end(struct vsess *s, enum phase_id ph, enum phase_state st, const struct dl_pkt *p,
               const char *note)
{
	struct phase *x = &s->ph[ph];
	if (x->state == PS_NONE)
		phase_touch(s, ph, p, false);
	if (x->state == PS_FAILED && st == PS_OK)
		return; /* a failure stays a failure */
	x->state = (uint8_t)st;
	if (note && (!x->note || st == PS_FAILED))
		phase_note(x, note);
}

static const char *const phase_names[PH_COUNT] = {
	[PH_IKE1] = "ike1", [PH_IKE2] = "ike2", [PH_IKE_AUTH] = "ike-auth",
	[PH_IPSEC] = "ipsec", [PH_TUNNEL] = "tunnel", [PH_CALL] = "call", [PH_LCP] = "lcp",
	[PH_AUTH] = "auth", [PH_NCP] = "ncp", [PH_CCP] = "ccp",
	[PH_ACCOUNTING] = "accounting", [PH_ESTABLISHED] = "established",
	[PH_TEARDOWN] = "teardown",
};

static const char *const phase_titles[PH_COUNT] = {
	[PH_IKE1] = "IKE phase 1", [PH_IKE2] = "IKE_SA_INIT", [PH_IKE_AUTH] = "IKE_AUTH",
	[PH_IPSEC] = "IPsec SA (phase 2)", [PH_TUNNEL] = "tunnel set-up",
	[PH_CALL] = "call set-up", [PH_LCP] = "LCP", [PH_AUTH] = "authentication",
	[PH_NCP] = "network control (IPCP)", [PH_CCP] = "compression/encryption (CCP)",
	[PH_ACCOUNTING] = "accounting", [PH_ESTABLISHED] = "established",
	[PH_TEARDOWN] = "teardown",
};

const char *phase_name(enum phase_id ph) { return ph < PH_COUNT ? phase_names[ph] : "?"; }
const char *phase_title(enum phase_id ph) { return ph < PH_COUNT ? phase_titles[ph] : "?"; }

const char *sess_proto_name(const struct vsess *s)
{
	switch (s->proto) {
	case SP_IKE1: return "ikev1";
	case SP_IKE2: return "ikev2";
	case SP_L2TP: return s->in_ipsec ? "l2tp-ipsec" : "l2tp";
	case SP_PPTP: return "pptp";
	case SP_RADIUS: return "radius";
	case SP_ACCT: return "radius-accounting";
	}
	return "?";
}

/* ---- helpers ----------------------------------------------------------------------- */

static uint64_t bytes_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ n;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h ? h : 1;
}

static const struct dl_layer *layer(const struct dl_pkt *p, enum dl_kind k, int from)
{
	for (int i = from; i < p->nlayers; i++)
		if (p->layers[i].kind == k)
			return &p->layers[i];
	return NULL;
}

static void pair_key(struct key *k, uint8_t kind, const uint8_t *a, const uint8_t *b)
{
	key_init(k, kind);
	if (memcmp(a, b, 16) <= 0) {
		key_add(k, a, 16);
		key_add(k, b, 16);
	} else {
		key_add(k, b, 16);
		key_add(k, a, 16);
	}
}

/* ---- PPP --------------------------------------------------------------------------- */

/* Largest TCP MSS option of a SYN inside an IPv4/IPv6 packet (0 when none). */
static uint16_t syn_mss(const uint8_t *ip, size_t len)
{
	struct rd r;
	rd_init(&r, ip, len);
	uint8_t v = rd_u8(&r);
	size_t ihl;
	uint8_t proto;
	if ((v >> 4) == 4) {
		ihl = (size_t)(v & 15) * 4;
		if (ihl < 20 || len < ihl)
			return 0;
		proto = ip[9];
	} else if ((v >> 4) == 6) {
		ihl = 40;
		if (len < ihl)
			return 0;
		proto = ip[6];
	} else {
		return 0;
	}
	if (proto != 6 || len < ihl + 20)
		return 0;
	const uint8_t *t = ip + ihl;
	size_t tl = len - ihl;
	size_t doff = (size_t)(t[12] >> 4) * 4;
	if (!(t[13] & TCP_SYN) || doff < 20 || doff > tl)
		return 0;
	size_t o = 20;
	for (int guard = 0; o < doff && guard < 40; guard++) {
		uint8_t kind = t[o];
		if (kind == 0)
			break;
		if (kind == 1) {
			o++;
			continue;
		}
		if (o + 1 >= doff)
			break;
		uint8_t ol = t[o + 1];
		if (ol < 2 || o + ol > doff)
			break;
		if (kind == 2 && ol == 4)
			return (uint16_t)(t[o + 2] << 8 | t[o + 3]);
		o += ol;
	}
	return 0;
}

static bool opt_addr_nonzero(const struct ppp_cp *cp)
{
	const struct ppp_opt *o = ppp_cp_find_opt(cp, IPCP_OPT_ADDR);
	if (!o || o->dlen < 4)
		return false;
	return o->data[0] | o->data[1] | o->data[2] | o->data[3];
}

static void set_user(struct vsess *s, const uint8_t *name, size_t n)
{
	if (s->user[0] || !name || !n)
		return;
	text_printable(name, n, s->user, sizeof s->user);
}

#define SWAP(T, a, b) do { T tmp_ = (a); (a) = (b); (b) = tmp_; } while (0)

static uint8_t swap_bits(uint8_t m) { return (uint8_t)(((m & 1) << 1) | ((m >> 1) & 1)); }

/* The roles were guessed (the capture began mid-session) and the packet's sender acts
 * as the server: exchange the two ends. */
static void sess_swap_roles(struct vsess *s)
{
	uint8_t a[16];
	memcpy(a, s->cli, 16);
	memcpy(s->cli, s->srv, 16);
	memcpy(s->srv, a, 16);
	SWAP(uint16_t, s->cport, s->sport);
	s->first_cport = s->cport;
	SWAP(uint16_t, s->tid_c, s->tid_s);
	SWAP(uint16_t, s->sid_c, s->sid_s);
	SWAP(uint16_t, s->call_c, s->call_s);
	SWAP(uint32_t, s->gre_pkts[0], s->gre_pkts[1]);
	SWAP(uint32_t, s->ppp.lcp_confreq_pkts[0], s->ppp.lcp_confreq_pkts[1]);
	s->ppp.lcp_req_dir_mask = swap_bits(s->ppp.lcp_req_dir_mask);
	s->ppp.lcp_ack_mask = swap_bits(s->ppp.lcp_ack_mask);
	s->ppp.ncp_ack_mask = swap_bits(s->ppp.ncp_ack_mask);
	s->ppp.ccp_ack_mask = swap_bits(s->ppp.ccp_ack_mask);
}

/* Messages only an authenticator sends. */
static bool ppp_from_server_only(const struct ppp_msg *m)
{
	switch (m->proto) {
	case PPP_PROTO_LCP:
		return m->kind == PPP_KIND_CP && m->cp.code == PPP_CONF_REQ &&
		       ppp_cp_find_opt(&m->cp, LCP_OPT_AUTH);
	case PPP_PROTO_CHAP:
		return m->kind == PPP_KIND_CHAP && m->chap.code != CHAP_RESPONSE;
	case PPP_PROTO_PAP:
		return m->kind == PPP_KIND_PAP && m->pap.code != PAP_AUTH_REQ;
	case PPP_PROTO_EAP:
		return m->kind == PPP_KIND_EAP && m->eap.code != EAP_RESPONSE;
	default:
		return false;
	}
}

static void ppp_input(struct vsess *s, int dir, const struct ppp_msg *m, const struct dl_pkt *p)
{
	struct ppp_link *l = &s->ppp;
	if (!s->roles_known && ppp_from_server_only(m)) {
		if (dir == 0) {
			sess_swap_roles(s);
			dir = 1;
		}
		s->roles_known = true;
	}
	const char *who = dir ? "server" : "client";
	char note[96];
	l->seen = true;
	switch (m->proto) {
	case PPP_PROTO_LCP: {
		const struct ppp_cp *cp = &m->cp;
		if (m->kind != PPP_KIND_CP)
			break;
		switch (cp->code) {
		case PPP_CONF_REQ: {
			l->lcp_confreq_pkts[dir]++;
			l->lcp_req_dir_mask |= (uint8_t)(1u << dir);
			phase_touch(s, PH_LCP, p, l->lcp_confreq_pkts[dir] > 1 && !l->lcp_ack_mask);
			const struct ppp_opt *a = ppp_cp_find_opt(cp, LCP_OPT_AUTH);
			if (a && dir == 1 && a->dlen >= 2) {
				l->auth_offers++;
				l->auth_proto = (uint16_t)(a->data[0] << 8 | a->data[1]);
				l->chap_alg = a->dlen >= 3 ? a->data[2] : 0;
			}
			break;
		}
		case PPP_CONF_ACK: {
			phase_touch(s, PH_LCP, p, false);
			l->lcp_ack_mask |= (uint8_t)(1u << dir);
			const struct ppp_opt *a = ppp_cp_find_opt(cp, LCP_OPT_AUTH);
			if (a && dir == 0 && a->dlen >= 2) {
				l->auth_proto = (uint16_t)(a->data[0] << 8 | a->data[1]);
				l->chap_alg = a->dlen >= 3 ? a->data[2] : 0;
			}
			if (l->lcp_ack_mask == 3)
				phase_end(s, PH_LCP, PS_OK, p, "both ends acknowledged");
			break;
		}
		case PPP_CONF_NAK:
		case PPP_CONF_REJ:
			phase_touch(s, PH_LCP, p, false);
			if (dir == 0 && ppp_cp_find_opt(cp, LCP_OPT_AUTH)) {
				l->auth_refused++;
				if (cp->code == PPP_CONF_REJ) {
					sess_obs_bool(s, "ppp.lcp.auth_rejected", true, p->frame);
					phase_end(s, PH_LCP, PS_FAILED, p,
					          "the client rejected the authentication protocol");
				}
			}
			break;
		case PPP_TERM_REQ:
			phase_touch(s, PH_TEARDOWN, p, false);
			sess_obs_str(s, "ppp.lcp.terminated_by", who, p->frame);
			/* the link ends because CCP failed: one side would not go on unencrypted
			 * (a link that already carried IP both ways in the clear did go on, and
			 * one whose IPCP failed ends for want of an address, whatever CCP did) */
			if (s->ph[PH_CCP].state == PS_FAILED && s->ppp.clear_ip_dirs != 3 &&
			    s->ph[PH_NCP].state != PS_FAILED)
				sess_obs_bool(s, "ccp.mppe_required", true, p->frame);
			if (s->ph[PH_LCP].state == PS_OPEN) {
				snprintf(note, sizeof note, "the %s ended LCP before it opened", who);
				phase_end(s, PH_LCP, PS_FAILED, p, note);
			}
			break;
		case PPP_TERM_ACK:
			phase_touch(s, PH_TEARDOWN, p, false);
			break;
		case PPP_PROTO_REJ:
			if (cp->rejected_proto == PPP_PROTO_CCP) {
				sess_obs_bool(s, "ccp.mppe_rejected", true, p->frame);
				phase_end(s, PH_CCP, PS_FAILED, p, "CCP refused with Protocol-Reject");
			}
			break;
		case PPP_ECHO_REQ:
			l->echo_req++;
			l->echo_unanswered++;
			break;
		case PPP_ECHO_REPLY:
			l->echo_unanswered = 0;
			break;
		default:
			break;
		}
		break;
	}
	case PPP_PROTO_PAP:
		if (m->kind != PPP_KIND_PAP)
			break;
		if (!s->ph[PH_AUTH].state)
			sess_obs_str(s, "ppp.auth.protocol", "pap", p->frame);
		phase_touch(s, PH_AUTH, p, false);
		if (m->pap.code == PAP_AUTH_REQ)
			set_user(s, m->pap.peer_id, m->pap.peer_id_len);
		else if (m->pap.code == PAP_AUTH_ACK) {
			sess_obs_str(s, "ppp.auth.result", "success", p->frame);
			phase_end(s, PH_AUTH, PS_OK, p, "PAP Authenticate-Ack");
		} else if (m->pap.code == PAP_AUTH_NAK) {
			sess_obs_str(s, "ppp.auth.result", "failure", p->frame);
			phase_end(s, PH_AUTH, PS_FAILED, p, "PAP Authenticate-Nak");
		}
		break;
	case PPP_PROTO_CHAP: {
		if (m->kind != PPP_KIND_CHAP)
			break;
		const struct ppp_chap *c = &m->chap;
		if (!s->ph[PH_AUTH].state) {
			const char *proto = "chap-md5";
			if (l->chap_alg == CHAP_ALG_MSCHAPV2 || c->variant == PPP_CHAP_MSCHAPV2)
				proto = "mschapv2";
			else if (l->chap_alg == CHAP_ALG_MSCHAP || c->variant == PPP_CHAP_MSCHAPV1)
				proto = "mschap";
			sess_obs_str(s, "ppp.auth.protocol", proto, p->frame);
		}
		phase_touch(s, PH_AUTH, p, false);
		const struct obs *prev = sess_obs_get(s, "mschap.error");
		if (c->code == CHAP_RESPONSE)
			set_user(s, c->name, c->name_len);
		else if (c->code == CHAP_CHANGE_PASSWORD && prev && prev->i == 648 &&
		         s->ph[PH_AUTH].state == PS_FAILED) {
			/* RFC 2759 section 7: the client answers the expired password with a new
			 * one; the server's answer to it (Success, or Failure E=709 or 691)
			 * decides the authentication, not the E=648 before it */
			s->ph[PH_AUTH].state = PS_OPEN;
			phase_note(&s->ph[PH_AUTH], "Change-Password after E=648");
			obs_forget(s, "mschap.error");
			obs_forget(s, "mschap.retry");
			obs_forget(s, "ppp.auth.result");
		} else if (c->code == CHAP_SUCCESS) {
			sess_obs_str(s, "ppp.auth.result", "success", p->frame);
			phase_end(s, PH_AUTH, PS_OK, p, "CHAP Success");
		} else if (c->code == CHAP_FAILURE) {
			sess_obs_str(s, "ppp.auth.result", "failure", p->frame);
			if (c->has_failure && c->failure.has_error) {
				sess_obs_int(s, "mschap.error", c->failure.error, p->frame);
				if (c->failure.has_retry)
					sess_obs_bool(s, "mschap.retry", c->failure.retry == 1, p->frame);
				snprintf(note, sizeof note, "CHAP Failure E=%u", c->failure.error);
			} else {
				snprintf(note, sizeof note, "CHAP Failure");
			}
			phase_end(s, PH_AUTH, PS_FAILED, p, note);
		}
		break;
	}
	case PPP_PROTO_EAP: {
		if (m->kind != PPP_KIND_EAP)
			break;
		const struct ppp_eap *e = &m->eap;
		if (!s->ph[PH_AUTH].state)
			sess_obs_str(s, "ppp.auth.protocol", "eap", p->frame);
		phase_touch(s, PH_AUTH, p, false);
		if (e->code == EAP_RESPONSE && e->has_type && e->type == EAP_TYPE_IDENTITY)
			set_user(s, e->type_data, e->type_data_len);
		else if (e->code == EAP_SUCCESS) {
			sess_obs_str(s, "ppp.auth.result", "success", p->frame);
			phase_end(s, PH_AUTH, PS_OK, p, "EAP Success");
		} else if (e->code == EAP_FAILURE) {
			sess_obs_str(s, "ppp.auth.result", "failure", p->frame);
			phase_end(s, PH_AUTH, PS_FAILED, p, "EAP Failure");
		}
		break;
	}
	case PPP_PROTO_IPCP: {
		if (m->kind != PPP_KIND_CP)
			break;
		const struct ppp_cp *cp = &m->cp;
		phase_touch(s, PH_NCP, p, false);
		if (cp->code == PPP_CONF_REQ && dir == 0)
			l->ipcp_req_nonzero = opt_addr_nonzero(cp);
		if (cp->code == PPP_CONF_NAK && dir == 1 && l->ipcp_req_nonzero &&
		    ppp_cp_find_opt(cp, IPCP_OPT_ADDR))
			l->ipcp_nonzero_nak = true;
		if (cp->code == PPP_CONF_REJ && dir == 1 && ppp_cp_find_opt(cp, IPCP_OPT_ADDR)) {
			sess_obs_bool(s, "ipcp.address_rejected", true, p->frame);
			phase_end(s, PH_NCP, PS_FAILED, p, "the server rejected the address option");
		}
		if (cp->code == PPP_CONF_ACK) {
			l->ncp_ack_mask |= (uint8_t)(1u << dir);
			if (l->ncp_ack_mask == 3)
				phase_end(s, PH_NCP, PS_OK, p, "both ends acknowledged");
		}
		break;
	}
	case PPP_PROTO_CCP: {
		if (m->kind != PPP_KIND_CP)
			break;
		const struct ppp_cp *cp = &m->cp;
		phase_touch(s, PH_CCP, p, false);
		if (cp->code == PPP_CONF_REJ && ppp_cp_find_opt(cp, CCP_OPT_MPPE)) {
			sess_obs_bool(s, "ccp.mppe_rejected", true, p->frame);
			snprintf(note, sizeof note, "the %s rejected MPPE", who);
			phase_end(s, PH_CCP, PS_FAILED, p, note);
		}
		if (cp->code == PPP_CONF_ACK) {
			l->ccp_ack_mask |= (uint8_t)(1u << dir);
			if (l->ccp_ack_mask == 3)
				phase_end(s, PH_CCP, PS_OK, p, "both ends acknowledged");
		}
		break;
	}
	case PPP_PROTO_IP:
	case PPP_PROTO_IPV6:
		phase_touch(s, PH_ESTABLISHED, p, false);
		l->clear_ip_dirs |= (uint8_t)(1u << dir);
		if (m->payload_len > l->inner_max) {
			l->inner_max = m->payload_len;
			l->inner_max_frame = p->frame;
		}
		{
			uint16_t mss = syn_mss(m->payload, m->payload_len);
			if (mss) {
				l->mss_seen = true;
				if (mss > l->mss_max) {
					l->mss_max = mss;
					l->mss_frame = p->frame;
				}
			}
		}
		break;
	case PPP_PROTO_COMP:
		phase_touch(s, PH_ESTABLISHED, p, false);
		break;
	default:
		break;
	}
}

/* ---- IKE --------------------------------------------------------------------------- */

static void ike_sa_attrs(struct vsess *s, const struct ike_msg *m)
{
	for (uint16_t i = 0; i < m->npl; i++) {
		const struct ike_payload *pl = &m->pl[i];
		if (pl->type != IKE1_PL_SA || pl->encrypted)
			continue;
		for (uint16_t pr = pl->prop_first; pr < pl->prop_first + pl->prop_count &&
		                                   pr < m->nprops; pr++) {
			const struct ike_proposal *P = &m->props[pr];
			if (P->protocol != 1 || !P->xf_count || P->xf_first >= m->nxforms)
				continue;
			const struct ike_transform *x = &m->xforms[P->xf_first];
			for (uint16_t a = x->attr_first; a < x->attr_first + x->attr_count &&
			                                 a < m->nattrs; a++) {
				if (m->attrs[a].type == 3)
					s->auth_method = (uint8_t)m->attrs[a].value;
				if (m->attrs[a].type == 2)
					s->ike_hash = (uint8_t)m->attrs[a].value;
				if (m->attrs[a].type == 1)
					s->ike_enc = (uint8_t)m->attrs[a].value;
			}
			return;
		}
	}
}

/* IKEv1 DH groups (the Group-Description attribute, 4) of the phase 1 transforms of the
 * message's SA payloads, at most `max`, without repeats. */
static size_t ike1_sa_groups(const struct ike_msg *m, uint16_t *g, size_t max)
{
	size_t n = 0;
	for (uint16_t i = 0; i < m->npl; i++) {
		const struct ike_payload *pl = &m->pl[i];
		if (pl->type != IKE1_PL_SA || pl->encrypted)
			continue;
		for (uint16_t pr = pl->prop_first; pr < pl->prop_first + pl->prop_count &&
		                                   pr < m->nprops; pr++) {
			const struct ike_proposal *P = &m->props[pr];
			if (P->protocol != 1)
				continue;
			for (uint16_t x = P->xf_first; x < P->xf_first + P->xf_count && x < m->nxforms;
			     x++) {
				const struct ike_transform *t = &m->xforms[x];
				for (uint16_t a = t->attr_first; a < t->attr_first + t->attr_count &&
				                                 a < m->nattrs; a++) {
					if (m->attrs[a].type != 4)
						continue;
					uint16_t v = (uint16_t)m->attrs[a].value;
					bool dup = false;
					for (size_t k = 0; k < n; k++)
						dup |= g[k] == v;
					if (!dup && n < max)
						g[n++] = v;
				}
			}
		}
	}
	return n;
}

/* The key exchange data of a KE payload must be as long as its DH group says (RFC 7296
 * section 3.4, RFC 2409 section 5). A KE that fits none of the groups it may be for is a
 * fact: a responder answers INVALID_KE_PAYLOAD or drops the message. IKEv2 names the
 * group in the payload; for IKEv1 it is the group the responder chose, or one of those
 * proposed in the same message or in the initiator's first. */
static void ike_ke_check(struct vsess *s, int version, const struct ike_msg *m,
                         const struct dl_pkt *p, int dir)
{
	if (s->ke_mismatch)
		return; /* the first one is the evidence */
	uint16_t cand[8];
	size_t nc = 0;
	if (version == 1) {
		nc = ike1_sa_groups(m, cand, 8);
		if (!nc) {
			nc = s->nke_groups;
			memcpy(cand, s->ke_groups, nc * sizeof *cand);
		}
	}
	for (uint16_t i = 0; i < m->npl; i++) {
		const struct ike_payload *pl = &m->pl[i];
		bool ke = version == 2 ? pl->type == IKE2_PL_KE : pl->type == IKE1_PL_KE;
		if (!ke || pl->encrypted || !pl->data)
			continue;
		if (version == 2) {
			cand[0] = pl->group;
			nc = 1;
		}
		unsigned want = 0;
		bool fits = nc == 0;
		for (size_t k = 0; k < nc && !fits; k++) {
			unsigned l = ike_dh_ke_len(cand[k]);
			if (!l || l == pl->data_len)
				fits = true; /* unknown lengths are never called wrong */
			else if (!want)
				want = l;
		}
		if (fits)
			continue;
		s->ke_mismatch = true;
		char g[40];
		sess_obs_bool(s, "ike.ke_mismatch", true, p->frame);
		sess_obs_str(s, "ike.ke_group", tok_str(ike_dh_group_tok, cand[0], g, sizeof g),
		             p->frame);
		sess_obs_int(s, "ike.ke_length", (int64_t)pl->data_len, p->frame);
		sess_obs_int(s, "ike.ke_expected", want, p->frame);
		sess_obs_str(s, "ike.ke_from", dir ? "server" : "client", p->frame);
		return;
	}
}

/* NAT-D (RFC 3947 section 3.2, RFC 7296 section 2.23): the hash of SPIs/cookies,
 * address and port as the sender saw them. 1 equal, 0 different, -1 cannot tell. */
static int natd_check(const struct vsess *s, int version, const struct ike_msg *m,
                      const uint8_t *addr, uint8_t ipver, uint16_t port, const uint8_t *h,
                      size_t hlen)
{
	const EVP_MD *md = EVP_sha1();
	if (version == 1) {
		switch (s->ike_hash) {
		case 1: md = EVP_md5(); break;
		case 2: md = EVP_sha1(); break;
		case 4: md = EVP_sha256(); break;
		case 5: md = EVP_sha384(); break;
		case 6: md = EVP_sha512(); break;
		default: return -1;
		}
	}
	uint8_t in[8 + 8 + 16 + 2];
	size_t al = ipver == 6 ? 16 : 4;
	memcpy(in, m->ispi, 8);
	memcpy(in + 8, m->rspi, 8);
	memcpy(in + 16, addr, al);
	in[16 + al] = (uint8_t)(port >> 8);
	in[17 + al] = (uint8_t)port;
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	if (!EVP_Digest(in, 18 + al, d, &dl, md, NULL) || dl != hlen)
		return -1;
	return memcmp(d, h, hlen) == 0;
}

static void ike_natd(struct vsess *s, int version, const struct ike_msg *m,
                     const struct dl_pkt *p, int dir)
{
	int nth = 0;
	for (uint16_t i = 0; i < m->npl; i++) {
		const struct ike_payload *pl = &m->pl[i];
		if (pl->encrypted)
			continue;
		int which = -1; /* 0: hash of the sender's own address, 1: of the receiver's */
		if (version == 2 && pl->type == IKE2_PL_N && pl->notify == 16388)
			which = 0;
		else if (version == 2 && pl->type == IKE2_PL_N && pl->notify == 16389)
			which = 1;
		else if (version == 1 && (pl->type == IKE1_PL_NATD || pl->type == IKE1_PL_NATD_DRAFT))
			which = nth++ == 0 ? 1 : 0;
		if (which < 0 || !pl->data)
			continue;
		s->natd_seen = true;
		const uint8_t *addr = which == 0 ? p->src : p->dst;
		uint16_t port = which == 0 ? p->sport : p->dport;
		int r = natd_check(s, version, m, addr, p->ipver, port, pl->data, pl->data_len);
		if (r != 0)
			continue;
		/* the sender hashed another address than the one the capture shows */
		bool client_side = (which == 0) == (dir == 0);
		if (client_side)
			s->nat_cli = true;
		else
			s->nat_srv = true;
		/* Which side is translated matters for L2TP/IPsec (IKEv1), where Windows needs
		 * a registry setting for NAT-T; IKEv2 traverses NAT by itself. */
		if (version == 1)
			sess_obs_bool(s, client_side ? "nat.client_behind" : "nat.server_behind", true,
			              p->frame);
		sess_obs_bool(s, "nat.detected", true, p->frame);
	}
}

static void ike_notifies(struct vsess *s, int version, const struct ike_msg *m,
                         const struct dl_pkt *p, enum phase_id ph)
{
	for (uint16_t i = 0; i < m->npl; i++) {
		const struct ike_payload *pl = &m->pl[i];
		if (pl->encrypted)
			continue;
		bool isn = (version == 1 && pl->type == IKE1_PL_N) ||
		           (version == 2 && pl->type == IKE2_PL_N);
		if (!isn || pl->notify >= 8192)
			continue; /* status notifies are not errors */
		const char *name = ike_notify_name(version, pl->notify);
		char buf[40];
		if (!name) {
			snprintf(buf, sizeof buf, "%u", pl->notify);
			name = buf;
		}
		/* IKEv2 asks for another DH group or a cookie: the initiator retries. Which group
		 * the responder wants is kept: it explains a client that gives up. */
		if (version == 2 && pl->notify == 17) {
			sess_obs_bool(s, "ike.invalid_ke", true, p->frame);
			if (pl->data && pl->data_len >= 2) {
				char g[40];
				unsigned want = (unsigned)(pl->data[0] << 8 | pl->data[1]);
				sess_obs_str(s, "ike.invalid_ke_group",
				             tok_str(ike_dh_group_tok, want, g, sizeof g), p->frame);
			}
			continue;
		}
		if (version == 2 && pl->notify == 16390)
			continue;
		/* The server could not read Main Mode 5, the first message under the keys the
		 * pre-shared key derives (INVALID_PAYLOAD_TYPE, PAYLOAD_MALFORMED: it decrypted
		 * to noise; INVALID_HASH_INFORMATION: HASH_I differs): the keys differ
		 * (tests/captures/ikev1-vnet-badpsk.pcap, vnet's responder with another key). */
		if (version == 1 && ph == PH_IKE1 && dir_of(s, p) == 1 && s->mm_enc[0] &&
		    (pl->notify == 1 || pl->notify == 16 || pl->notify == 23))
			sess_obs_bool(s, "ike.mm5_undecryptable", true, p->frame);
		sess_obs_str(s, "ike.notify", name, p->frame);
		char note[96];
		snprintf(note, sizeof note, "%s answered with notify %s", dir_of(s, p) ? "the server" : "the client", name);
		phase_end(s, ph, PS_FAILED, p, note);
	}
}

/* An RFC 7383 fragment of an IKEv2 message with keys: decrypted on its own and kept
 * until its message is whole (one message at a time per sender and kind, within
 * IKEV2_FRAGS_MAX fragments and IKEV2_MSG_MAX bytes; duplicates and fragments of older
 * messages are dropped). 1: the message is whole in t->dec (*dl bytes), 2: kept or
 * dropped, 0: not a fragment or no key, -1 with err. */
static int ike2_frag_add(struct sess_table *t, struct vsess *s, const uint8_t *raw,
                         size_t rawlen, const struct ike_msg *m, int dir, size_t *dl,
                         struct diag_err *de)
{
	struct ike2_frag f;
	size_t n = 0;
	int r = ike2_decrypt_frag(t->keys, raw, rawlen, m, t->dec, DEC_CAP, &n, &f, de);
	if (r != 1)
		return r;
	struct ikev2_reasm **rp = &s->v2frag[dir * 2 + ((m->flags & IKE2_FLAG_R) ? 1 : 0)];
	if (!*rp) {
		*rp = malloc(sizeof **rp);
		if (!*rp) {
			diag_err_set(de, 0, "out of memory for fragment reassembly");
			return -1;
		}
		ikev2_reasm_reset(*rp);
	}
	enum ikev2_reasm_rc rc = ikev2_reasm_add(*rp, m->msgid, f.num, f.total, f.next, t->dec, n);
	if (rc == IKEV2_REASM_BAD) {
		diag_err_set(de, 0, "fragment %u of %u of message %u: beyond %d fragments or %d "
		             "bytes", f.num, f.total, (unsigned)m->msgid, IKEV2_FRAGS_MAX,
		             IKEV2_MSG_MAX);
		return -1;
	}
	if (rc != IKEV2_REASM_DONE)
		return 2;
	uint8_t first = 0;
	size_t inner = ikev2_reasm_take(*rp, t->dec + 28, DEC_CAP - 28, &first);
	if (!inner)
		return 2;
	ike2_plain_header(raw, first, inner, t->dec);
	*dl = 28 + inner;
	return 1;
}

/* The EAP payloads of a decrypted IKE_AUTH message (RFC 7296 2.16): the user's
 * identity, the method, an EAP-MS-CHAPv2 Failure's error code (RFC 2759 section 6, the
 * text after the 4 bytes of OpCode, MS-CHAPv2-ID and MS-Length) and EAP Success or
 * Failure, which decide the exchange. */
static void ike2_eap(struct vsess *s, const struct ike_msg *in, const struct dl_pkt *p)
{
	char note[96];
	for (uint16_t i = 0; i < in->npl; i++) {
		const struct ike_payload *pl = &in->pl[i];
		if (pl->type != IKE2_PL_EAP || !pl->data || pl->data_len < 4)
			continue;
		const uint8_t *d = pl->data;
		size_t n = pl->data_len;
		if (pl->eap_code == EAP_RESPONSE && n > 5 && pl->eap_type == EAP_TYPE_IDENTITY)
			set_user(s, d + 5, n - 5);
		if (pl->eap_code == EAP_REQUEST && n > 4 && pl->eap_type != EAP_TYPE_IDENTITY &&
		    pl->eap_type != EAP_TYPE_NOTIFICATION && pl->eap_type != EAP_TYPE_NAK) {
			const char *name = tok_name(ppp_eap_type_names, pl->eap_type);
			if (name)
				sess_obs_str(s, "ike.eap.method", name, p->frame);
			else
				sess_obs_int(s, "ike.eap.method", pl->eap_type, p->frame);
		}
		if (pl->eap_code == EAP_REQUEST && pl->eap_type == EAP_TYPE_MSCHAPV2 && n > 9 &&
		    d[5] == 4 /* Failure */) {
			struct mschap_failure f;
			if (mschap_parse_failure(d + 9, n - 9, &f) == 0 && f.has_error) {
				sess_obs_int(s, "mschap.error", f.error, p->frame);
				if (f.has_retry)
					sess_obs_bool(s, "mschap.retry", f.retry == 1, p->frame);
				snprintf(note, sizeof note, "EAP-MS-CHAPv2 Failure E=%u", f.error);
			} else {
				snprintf(note, sizeof note, "EAP-MS-CHAPv2 Failure");
			}
			phase_end(s, PH_IKE_AUTH, PS_FAILED, p, note);
		}
		if (pl->eap_code == EAP_SUCCESS) {
			sess_obs_str(s, "ike.eap.result", "success", p->frame);
		} else if (pl->eap_code == EAP_FAILURE) {
			sess_obs_str(s, "ike.eap.result", "failure", p->frame);
			/* the method's own failure, when there was one, says more */
			phase_end(s, PH_IKE_AUTH, PS_FAILED, p,
			          s->ph[PH_IKE_AUTH].state == PS_FAILED ? NULL : "EAP Failure");
		}
	}
}

/* An IKEv1 message decrypted with the keys: the same bookkeeping as in the clear, with
 * the notifies and deletes inside now visible. */
static void ike1_inner(struct vsess *s, const struct ike_msg *in, const struct dl_pkt *p,
                       int dir, bool retrans)
{
	switch (in->exchange) {
	case IKE1_EXCH_MAIN:
	case IKE1_EXCH_AGGRESSIVE:
	case IKE1_EXCH_BASE:
		phase_touch(s, PH_IKE1, p, retrans);
		if (!retrans)
			s->mm_enc[dir] = (uint8_t)(s->mm_enc[dir] < 250 ? s->mm_enc[dir] + 1 : 250);
		ike_notifies(s, 1, in, p, PH_IKE1);
		if (dir == 1 && s->mm_enc[0])
			phase_end(s, PH_IKE1, PS_OK, p, "Main Mode completed (message 6, decrypted)");
		break;
	case IKE1_EXCH_QUICK:
		phase_touch(s, PH_IPSEC, p, retrans);
		if (!retrans)
			s->qm[dir] = (uint8_t)(s->qm[dir] < 250 ? s->qm[dir] + 1 : 250);
		ike_notifies(s, 1, in, p, PH_IPSEC);
		if (s->qm[0] >= 2 && s->qm[1] >= 1)
			phase_end(s, PH_IPSEC, PS_OK, p, "Quick Mode completed (message 3)");
		break;
	default: {
		enum phase_id ph = s->ph[PH_IKE1].state != PS_OK ? PH_IKE1
		                   : s->ph[PH_IPSEC].state == PS_OK ? PH_TEARDOWN : PH_IPSEC;
		bool del = false;
		for (uint16_t i = 0; i < in->npl; i++)
			del |= in->pl[i].type == IKE1_PL_D;
		phase_touch(s, del ? PH_TEARDOWN : ph, p, retrans);
		if (ph != PH_TEARDOWN)
			ike_notifies(s, 1, in, p, ph);
		break;
	}
	}
}

static bool enc_first(const struct ike_msg *m)
{
	return m->npl && m->pl[0].encrypted;
}

static void ike_input(struct sess_table *t, const struct dl_pkt *p, const struct ike_msg *m)
{
	int version = m->major == 2 ? 2 : 1;
	struct key k;
	key_init(&k, K_IKE);
	key_add(&k, m->ispi, 8);
	uint32_t sid = map_get(t, &k);
	struct vsess *s = sid ? t->s[sid - 1] : NULL;
	if (!s) {
		bool from_server, known;
		if (version == 2) {
			from_server = !(m->flags & IKE2_FLAG_I);
			known = true;
		} else {
			static const uint8_t zero[8];
			known = !memcmp(m->rspi, zero, 8);
			from_server = false;
		}
		s = sess_new(t, version == 2 ? SP_IKE2 : SP_IKE1, p, from_server, known);
		if (!s)
			return;
		memcpy(s->ispi, m->ispi, 8);
		map_put(t, &k, s->id);
		struct key pk;
		pair_key(&pk, K_IPSEC_PAIR, s->cli, s->srv);
		map_put(t, &pk, s->id);
	}
	sess_seen(t, s, p);
	int dir = dir_of(s, p);
	if (dir == 0 && p->sport != s->cport) {
		/* The client's port moved: 500 -> 4500 is NAT-T, anything else a NAT rebinding. */
		if (!(s->cport == 500 && p->sport == 4500))
			s->ports_changed = true;
		s->cport = p->sport;
	}
	if (dir == 1 && p->dport != s->cport && p->dport)
		s->cport = p->dport;
	static const uint8_t zero8[8];
	if (memcmp(m->rspi, zero8, 8))
		memcpy(s->rspi, m->rspi, 8);
	if (p->reasm == DL_REASM_DATAGRAM)
		sess_obs_bool(s, "ike.fragmented", true, p->first_frame);

	/* Retransmission: the same bytes again in the same direction. */
	const uint8_t *raw = p->udp.payload;
	size_t rawlen = p->udp.payload_len;
	if (p->natt == NATT_IKE && rawlen >= 4) {
		raw += 4;
		rawlen -= 4;
	}
	uint64_t h = raw ? bytes_hash(raw, rawlen) : 0;
	bool retrans = h && h == s->last_hash[dir];
	if (retrans)
		s->same_count[dir]++;
	else
		s->same_count[dir] = 0;
	s->last_hash[dir] = h;
	s->last_frame_dir[dir] = p->frame;

	if (!retrans)
		ike_natd(s, version, m, p, dir);
	if (dir == 1 && version == 1 && s->mm_enc[0])
		s->answer_after_mm5 = true; /* whatever it is: the server got message 5 */
	if (dir == 1 && p->sport == 4500)
		s->natt_answered = true;
	if (dir == 0) {
		if (!s->first_req_port)
			s->first_req_port = p->dport;
		s->req_port = p->dport;
	}
	if (version == 1 && !enc_first(m) && (m->exchange == IKE1_EXCH_MAIN ||
	                                      m->exchange == IKE1_EXCH_AGGRESSIVE)) {
		/* the groups a later KE may be for: the responder's choice wins */
		uint16_t g[8];
		size_t n = ike1_sa_groups(m, g, 8);
		if (n && (dir == 1 || !s->ke_group_chosen)) {
			memcpy(s->ke_groups, g, n * sizeof *g);
			s->nke_groups = (uint8_t)n;
			s->ke_group_chosen = dir == 1;
		}
	}
	if (!retrans)
		ike_ke_check(s, version, m, p, dir);
	if (dir == 0) {
		const char *vendor = ike_msg_client_vendor(m);
		if (vendor)
			sess_obs_str(s, "ike.client_vendor", vendor, p->frame);
	}

	bool enc = m->npl && m->pl[0].encrypted;
	if (version == 1 && t->keys) {
		size_t kl = 0;
		const uint8_t *key = s->crypt ? NULL : ike1_key(t->keys, m->ispi, &kl);
		if (key)
			s->crypt = ike1_crypt_new(key, kl);
		if (s->crypt) {
			if (!enc && (m->exchange == IKE1_EXCH_MAIN || m->exchange == IKE1_EXCH_AGGRESSIVE)) {
				if (dir == 1 || !s->ike_enc)
					ike_sa_attrs(s, m);
				for (uint16_t i = 0; i < m->npl; i++)
					if (m->pl[i].type == IKE1_PL_KE && m->pl[i].data)
						ike1_crypt_ke(s->crypt, dir == 0, m->pl[i].data, m->pl[i].data_len);
			}
			ike1_crypt_params(s->crypt, s->ike_hash, s->ike_enc);
			if (enc && raw) {
				size_t dl = 0;
				struct diag_err de;
				int r = ike1_decrypt(s->crypt, raw, rawlen, m, retrans, t->dec, DEC_CAP, &dl, &de);
				if (r == 1 && ike_decode(t->dec, dl, t->inner, &de) == 0) {
					t->decrypted++;
					ike1_inner(s, t->inner, p, dir, retrans);
					return;
				}
				if (r != 0) {
					t->undecryptable++;
					sess_obs_str(s, "ike.decrypt_error", r < 0 ? de.reason : "the decrypted payloads do not parse: wrong key", p->frame);
				} else if (r == 0 && !retrans) {
					/* not decryptable yet: handled below as without keys */
				}
			}
		}
	}
	if (version == 1) {
		switch (m->exchange) {
		case IKE1_EXCH_MAIN:
		case IKE1_EXCH_AGGRESSIVE:
		case IKE1_EXCH_BASE:
			phase_touch(s, PH_IKE1, p, retrans);
			if (!retrans) {
				if (enc)
					s->mm_enc[dir] = (uint8_t)(s->mm_enc[dir] < 250 ? s->mm_enc[dir] + 1 : 250);
				else
					s->mm_clear[dir] = (uint8_t)(s->mm_clear[dir] < 250 ? s->mm_clear[dir] + 1 : 250);
			}
			if (dir == 1)
				ike_sa_attrs(s, m);
			else if (!s->auth_method)
				ike_sa_attrs(s, m);
			ike_notifies(s, 1, m, p, PH_IKE1);
			if (m->exchange == IKE1_EXCH_MAIN && enc && dir == 1 && s->mm_enc[0])
				phase_end(s, PH_IKE1, PS_OK, p, "Main Mode completed (message 6)");
			if (m->exchange == IKE1_EXCH_AGGRESSIVE && dir == 0 && s->mm_clear[1] &&
			    (s->mm_clear[0] + s->mm_enc[0]) >= 2)
				phase_end(s, PH_IKE1, PS_OK, p, "Aggressive Mode completed");
			break;
		case IKE1_EXCH_TRANSACTION:
			phase_touch(s, PH_IKE1, p, retrans);
			break;
		case IKE1_EXCH_QUICK:
			phase_touch(s, PH_IPSEC, p, retrans);
			if (!retrans)
				s->qm[dir] = (uint8_t)(s->qm[dir] < 250 ? s->qm[dir] + 1 : 250);
			if (s->qm[0] >= 2 && s->qm[1] >= 1)
				phase_end(s, PH_IPSEC, PS_OK, p, "Quick Mode completed (message 3)");
			break;
		case IKE1_EXCH_INFO: {
			enum phase_id ph = s->ph[PH_IKE1].state == PS_OK ? PH_IPSEC : PH_IKE1;
			if (!enc) {
				phase_touch(s, ph, p, retrans);
				ike_notifies(s, 1, m, p, ph);
				for (uint16_t i = 0; i < m->npl; i++)
					if (m->pl[i].type == IKE1_PL_D)
						phase_touch(s, PH_TEARDOWN, p, false);
				break;
			}
			if (s->ph[PH_IPSEC].state == PS_OPEN && s->qm[1] >= 1 && s->qm[0] < 2 && dir == 0) {
				phase_end(s, PH_IPSEC, PS_FAILED, p,
				          "the client answered Quick Mode 2 with an encrypted Informational "
				          "instead of Quick Mode 3");
				phase_touch(s, PH_TEARDOWN, p, false);
			} else if (s->ph[PH_IPSEC].state == PS_OK || s->ph[PH_IKE1].state == PS_OK) {
				phase_touch(s, PH_TEARDOWN, p, false);
			} else {
				phase_touch(s, PH_IKE1, p, false);
			}
			break;
		}
		default:
			phase_touch(s, PH_IKE1, p, retrans);
			break;
		}
		return;
	}

	/* With keys: the encrypted payloads, decoded like a message of their own. */
	const struct ike_msg *in = NULL;
	if (t->keys && enc && raw) {
		size_t dl = 0;
		struct diag_err de;
		int r = ike2_decrypt(t->keys, raw, rawlen, m, t->dec, DEC_CAP, &dl, &de);
		if (r == 0) {
			r = ike2_frag_add(t, s, raw, rawlen, m, dir, &dl, &de);
			if (r == 2) { /* a fragment kept for later: its message is not whole yet */
				phase_touch(s, m->exchange == IKE2_EXCH_AUTH ? PH_IKE_AUTH
				               : m->exchange == IKE2_EXCH_CREATE_CHILD_SA ? PH_IPSEC
				               : s->ph[PH_IKE_AUTH].state ? PH_TEARDOWN : PH_IKE2,
				            p, retrans);
				return;
			}
		}
		if (r == 1 && ike_decode(t->dec, dl, t->inner, &de) == 0) {
			in = t->inner;
			t->decrypted++;
		} else if (r != 0) {
			t->undecryptable++;
			sess_obs_str(s, "ike.decrypt_error", de.reason, p->frame);
		}
	}
	if (m->exchange == IKE2_EXCH_AUTH && (m->flags & IKE2_FLAG_R) && dir == 1 &&
	    (!s->v2_auth_rounds || m->msgid != s->v2_auth_msgid)) {
		/* one more answer: with EAP there are several before the last */
		if (s->v2_auth_rounds < 250)
			s->v2_auth_rounds++;
		s->v2_auth_msgid = m->msgid;
	}
	if (in) {
		enum phase_id ph = m->exchange == IKE2_EXCH_AUTH ? PH_IKE_AUTH
		                   : m->exchange == IKE2_EXCH_CREATE_CHILD_SA ? PH_IPSEC
		                   : s->ph[PH_IKE_AUTH].state ? PH_TEARDOWN : PH_IKE2;
		phase_touch(s, ph, p, retrans);
		if (dir == 0 && m->exchange == IKE2_EXCH_AUTH) {
			for (uint16_t i = 0; i < in->npl; i++)
				if (in->pl[i].type == IKE2_PL_AUTH && in->pl[i].id_type) {
					const char *am = in->pl[i].id_type == 2 ? "psk"
					                 : in->pl[i].id_type == 1 ? "rsa-sig"
					                 : in->pl[i].id_type >= 9 && in->pl[i].id_type <= 11 ? "ecdsa"
					                                                                   : NULL;
					if (am)
						sess_obs_str(s, "ike.auth_method", am, p->frame);
				}
			bool eap = true, idi = false;
			for (uint16_t i = 0; i < in->npl; i++) {
				if (in->pl[i].type == IKE2_PL_AUTH)
					eap = false;
				idi |= in->pl[i].type == IKE2_PL_IDI;
			}
			if (eap && idi) { /* the first request: later rounds carry EAP alone */
				sess_obs_str(s, "ike.auth_method", "eap", p->frame);
				s->v2_auth_eap = true;
			}
		}
		ike_notifies(s, 2, in, p, ph);
		bool auth = false, del = false, eap = false;
		for (uint16_t i = 0; i < in->npl; i++) {
			auth |= in->pl[i].type == IKE2_PL_AUTH;
			del |= in->pl[i].type == IKE2_PL_D;
			eap |= in->pl[i].type == IKE2_PL_EAP;
		}
		if (m->exchange == IKE2_EXCH_AUTH)
			ike2_eap(s, in, p);
		/* With EAP the server's AUTH comes first with its certificate and the EAP request;
		 * only its AUTH after EAP Success (no EAP payload) ends the exchange. */
		if (m->exchange == IKE2_EXCH_AUTH && (m->flags & IKE2_FLAG_R) && auth && !eap)
			phase_end(s, PH_IKE_AUTH, PS_OK, p, "the server answered with its AUTH (decrypted)");
		if (m->exchange == IKE2_EXCH_AUTH && (m->flags & IKE2_FLAG_R) && dir == 1 &&
		    s->v2_auth_eap)
			s->v2_auth_answered = true; /* explain.c: an EAP exchange cut short */
		if (m->exchange == IKE2_EXCH_CREATE_CHILD_SA && (m->flags & IKE2_FLAG_R))
			phase_end(s, PH_IPSEC, PS_OK, p, NULL);
		if (del && ph != PH_TEARDOWN)
			phase_touch(s, PH_TEARDOWN, p, false);
		return;
	}

	switch (m->exchange) {
	case IKE2_EXCH_SA_INIT:
		phase_touch(s, PH_IKE2, p, retrans);
		ike_notifies(s, 2, m, p, PH_IKE2);
		if ((m->flags & IKE2_FLAG_R)) {
			for (uint16_t i = 0; i < m->npl; i++)
				if (m->pl[i].type == IKE2_PL_SA)
					phase_end(s, PH_IKE2, PS_OK, p, "the server chose a proposal");
		}
		break;
	case IKE2_EXCH_AUTH:
		phase_touch(s, PH_IKE_AUTH, p, retrans);
		ike_notifies(s, 2, m, p, PH_IKE_AUTH);
		if (!(m->flags & IKE2_FLAG_R)) {
			s->v2_auth_short = false; /* another round (EAP): the last answer was not final */
		} else if (!retrans) {
			size_t enclen = 0;
			bool sk = false;
			for (uint16_t i = 0; i < m->npl; i++)
				if (m->pl[i].type == IKE2_PL_SK) {
					sk = true;
					enclen = m->pl[i].body_len;
				} else if (m->pl[i].type == IKE2_PL_SKF) {
					/* only a message too long for one datagram is fragmented */
					sk = true;
					enclen = SIZE_MAX;
				}
			/* Decided at the end of the capture from the last answer (explain.c). */
			s->v2_auth_answered = sk;
			s->v2_auth_short = sk && enclen < 64;
			s->v2_auth_frame = p->frame;
		}
		break;
	case IKE2_EXCH_CREATE_CHILD_SA:
		phase_touch(s, PH_IPSEC, p, retrans);
		if (m->flags & IKE2_FLAG_R)
			phase_end(s, PH_IPSEC, PS_OK, p, NULL);
		break;
	case IKE2_EXCH_INFORMATIONAL:
		phase_touch(s, s->ph[PH_IKE_AUTH].state ? PH_TEARDOWN : PH_IKE2, p, retrans);
		break;
	default:
		break;
	}
}

static void sess_dispatch(struct sess_table *t, const struct dl_pkt *p);

/* Put the decrypted payload in front of an IP header when it has none (transport mode):
 * the outer addresses, the payload's protocol. Returns the packet's length, 0 when it
 * cannot be made. The payload is at t->esp_buf + ESP_IP_ROOM. */
static size_t esp_inner_ip(struct sess_table *t, const struct dl_pkt *p, uint8_t nh, size_t plen,
                           const uint8_t **start)
{
	uint8_t *pl = t->esp_buf + ESP_IP_ROOM;
	if (nh == 4 || nh == 41) {
		*start = pl;
		return plen;
	}
	if (p->ipver == 6) {
		if (plen > 0xffff)
			return 0;
		uint8_t *h = pl - 40;
		memset(h, 0, 40);
		h[0] = 0x60;
		h[4] = (uint8_t)(plen >> 8);
		h[5] = (uint8_t)plen;
		h[6] = nh;
		h[7] = 64;
		memcpy(h + 8, p->src, 16);
		memcpy(h + 24, p->dst, 16);
		*start = h;
		return plen + 40;
	}
	if (plen + 20 > 0xffff)
		return 0;
	uint8_t *h = pl - 20;
	memset(h, 0, 20);
	h[0] = 0x45;
	h[2] = (uint8_t)((plen + 20) >> 8);
	h[3] = (uint8_t)(plen + 20);
	h[8] = 64;
	h[9] = nh;
	memcpy(h + 12, p->src, 4);
	memcpy(h + 16, p->dst, 4);
	uint16_t sum = inet_cksum(h, 20, 0);
	h[10] = (uint8_t)(sum >> 8);
	h[11] = (uint8_t)sum;
	*start = h;
	return plen + 20;
}

/* With an SA for the packet: check, decrypt and track what ESP carried as if it had been
 * sent in the clear, nested under the IKE SA `s` (NULL: none seen). */
static void esp_decrypt_input(struct sess_table *t, const struct dl_pkt *p,
                              const struct esp_msg *e, struct vsess *s)
{
	if (!t->esp_d || t->in_esp || !e->payload)
		return;
	const struct esp_sa *sa = ike_keys_esp_find(t->keys, p->ipver, p->src, p->dst, e->spi);
	if (!sa)
		return;
	const uint8_t *raw = e->payload - ESP_HDR_LEN;
	size_t rawlen = e->payload_len + ESP_HDR_LEN;
	size_t plen = 0;
	uint8_t nh = 0;
	struct diag_err de;
	/* a frame cut by the capture's snap length has lost its ICV */
	int r = p->caplen < p->origlen && p->reasm == DL_REASM_NONE
	        ? 1
	        : esp_decrypt(t->esp_x, sa, raw, rawlen, t->esp_buf + ESP_IP_ROOM,
	                      ESP_BUF - ESP_IP_ROOM, &plen, &nh, &de);
	if (r != 0) {
		const char *why = r > 0 ? "cut short by the capture" : esp_fail_name(r);
		t->esp_fail++;
		if (!s) {
			/* no IKE SA: the session ESP carried between these addresses, if any */
			struct key k;
			pair_key(&k, K_ESP_PAIR, p->src, p->dst);
			uint32_t sid = map_get(t, &k);
			s = sid ? t->s[sid - 1] : NULL;
			if (!s && !t->esp_pending.set) {
				t->esp_pending.set = true;
				memcpy(t->esp_pending.a, p->src, 16);
				memcpy(t->esp_pending.b, p->dst, 16);
				t->esp_pending.why = why;
				t->esp_pending.frame = p->frame;
			}
		}
		if (s) {
			s->esp_failed++;
			sess_obs_str(s, "esp.decrypt_error", why, p->frame);
		}
		return;
	}
	t->esp_ok++;
	if (s)
		s->esp_decrypted++;
	if (nh == 59) /* no next header: a dummy packet (RFC 4303 2.6) */
		return;
	const uint8_t *ip = NULL;
	size_t iplen = esp_inner_ip(t, p, nh, plen, &ip);
	if (!iplen)
		return;
	const struct dl_pkt *in = dissect_packet(t->esp_d, 101 /* LINKTYPE_RAW */, p->frame,
	                                         p->ts_ns, p->rel_ns, ip, iplen, iplen);
	if (!in->has_ip)
		return;
	t->in_esp = true;
	t->esp_parent = s ? s->id : 0;
	t->esp_last = 0;
	sess_dispatch(t, in);
	t->in_esp = false;
	t->esp_parent = 0;
	struct vsess *c = t->esp_last ? t->s[t->esp_last - 1] : NULL;
	if (s || !c)
		return;
	struct key k;
	pair_key(&k, K_ESP_PAIR, p->src, p->dst);
	map_put(t, &k, c->id);
	bool fwd = !memcmp(t->esp_pending.a, p->src, 16) && !memcmp(t->esp_pending.b, p->dst, 16);
	bool rev = !memcmp(t->esp_pending.a, p->dst, 16) && !memcmp(t->esp_pending.b, p->src, 16);
	if (t->esp_pending.set && (fwd || rev)) {
		c->esp_failed++;
		sess_obs_str(c, "esp.decrypt_error", t->esp_pending.why, t->esp_pending.frame);
		t->esp_pending.set = false;
	}
}

static void esp_input(struct sess_table *t, const struct dl_pkt *p, const struct esp_msg *e)
{
	struct key k;
	pair_key(&k, K_IPSEC_PAIR, p->src, p->dst);
	uint32_t sid = map_get(t, &k);
	struct vsess *s = sid ? t->s[sid - 1] : NULL;
	if (s) {
		sess_seen(t, s, p);
		int dir = dir_of(s, p);
		if (!s->esp_spi[dir])
			s->esp_spi[dir] = e->spi;
		s->esp_pkts++;
		if (e->payload_len > s->esp_max)
			s->esp_max = e->payload_len;
		phase_touch(s, PH_ESTABLISHED, p, false);
	}
	if (t->keys)
		esp_decrypt_input(t, p, e, s);
}

/* ---- L2TP -------------------------------------------------------------------------- */

static struct vsess *l2tp_lookup(struct sess_table *t, const struct dl_pkt *p,
                                 const struct l2tp_msg *m)
{
	struct key k;
	if (m->is_control && m->msg_type == L2TP_MSG_SCCRQ) {
		const struct l2tp_avp *a = l2tp_find_avp(m, L2TP_AVP_ASSIGNED_TUNNEL_ID);
		if (!a)
			return NULL;
		key_init(&k, K_L2TP);
		key_add(&k, p->src, 16);
		key_u16(&k, (uint16_t)a->v.u);
		uint32_t sid = map_get(t, &k);
		if (sid)
			return t->s[sid - 1];
		struct vsess *s = sess_new(t, SP_L2TP, p, false, true);
		if (!s)
			return NULL;
		s->tid_c = (uint16_t)a->v.u;
		map_put(t, &k, s->id);
		struct key pk;
		key_init(&pk, K_L2TP_PAIR);
		key_add(&pk, s->cli, 16);
		key_add(&pk, s->srv, 16);
		key_u16(&pk, s->cport);
		key_u16(&pk, s->sport);
		map_put(t, &pk, s->id);
		return s;
	}
	/* A sender that never learned the peer's tunnel ID sends tunnel ID 0 and names its
	 * own tunnel in Assigned Tunnel ID: the StopCCN of an LAC whose SCCRQ went
	 * unanswered belongs to the tunnel that SCCRQ opened. */
	if (m->is_control && m->tunnel_id == 0) {
		const struct l2tp_avp *a = l2tp_find_avp(m, L2TP_AVP_ASSIGNED_TUNNEL_ID);
		if (a) {
			key_init(&k, K_L2TP);
			key_add(&k, p->src, 16);
			key_u16(&k, (uint16_t)a->v.u);
			uint32_t sid = map_get(t, &k);
			if (sid)
				return t->s[sid - 1];
		}
	}
	key_init(&k, K_L2TP);
	key_add(&k, p->dst, 16);
	key_u16(&k, m->tunnel_id);
	uint32_t sid = map_get(t, &k);
	if (sid)
		return t->s[sid - 1];
	/* Learn the receiver's tunnel ID from the pair of endpoints. */
	for (int swap = 0; swap < 2; swap++) {
		struct key pk;
		key_init(&pk, K_L2TP_PAIR);
		key_add(&pk, swap ? p->dst : p->src, 16);
		key_add(&pk, swap ? p->src : p->dst, 16);
		key_u16(&pk, swap ? p->dport : p->sport);
		key_u16(&pk, swap ? p->sport : p->dport);
		uint32_t ps = map_get(t, &pk);
		if (!ps)
			continue;
		struct vsess *s = t->s[ps - 1];
		int dir = dir_of(s, p);
		uint16_t *tid = dir == 0 ? &s->tid_s : &s->tid_c;
		if (*tid == 0 && m->tunnel_id) {
			*tid = m->tunnel_id;
			map_put(t, &k, s->id);
			return s;
		}
	}
	/* A bare acknowledgement opens nothing: it is the last word of a tunnel already
	 * closed, or of one the capture joins late (its next message opens it). */
	if (m->is_control && m->zlb)
		return NULL;
	/* A tunnel seen from its middle: the LAC sends SCCCN/ICRQ/ICCN, the LNS the
	 * replies; anything else: the sender is taken for the client. */
	bool from_server = m->is_control &&
	                   (m->msg_type == L2TP_MSG_SCCRP || m->msg_type == L2TP_MSG_ICRP ||
	                    m->msg_type == L2TP_MSG_OCRQ);
	struct vsess *s = sess_new(t, SP_L2TP, p, from_server, false);
	if (!s)
		return NULL;
	if (from_server)
		s->tid_c = m->tunnel_id;
	else
		s->tid_s = m->tunnel_id;
	map_put(t, &k, s->id);
	struct key pk;
	key_init(&pk, K_L2TP_PAIR);
	key_add(&pk, s->cli, 16);
	key_add(&pk, s->srv, 16);
	key_u16(&pk, s->cport);
	key_u16(&pk, s->sport);
	map_put(t, &pk, s->id);
	return s;
}

static void l2tp_input(struct sess_table *t, const struct dl_pkt *p, const struct l2tp_msg *m,
                       int li)
{
	struct vsess *s = l2tp_lookup(t, p, m);
	if (!s)
		return;
	sess_seen(t, s, p);
	int dir = dir_of(s, p);
	if (!m->is_control) {
		const struct dl_layer *pl = layer(p, DL_PPP, li + 1);
		if (pl)
			ppp_input(s, dir, pl->msg, p);
		return;
	}
	/* the other side answered: its Nr acknowledges */
	s->ns_repeat[!dir] = 0;
	/* A StopCCN is acknowledged by an Nr past its Ns; a message that crossed it (sent
	 * before the StopCCN arrived) still belongs to the tunnel. */
	if (s->stop_from[!dir] && (!m->has_seq || (int16_t)(m->nr - s->stop_ns[!dir]) > 0)) {
		s->closed = true; /* the StopCCN was acknowledged */
		sess_maybe_done(t, s);
		return;
	}
	s->hello_pending[!dir] = 0;
	bool retrans = false;
	if (!m->zlb && m->has_seq) {
		if (s->last_seq_valid[dir] && s->last_seq[dir] == m->ns) {
			retrans = true;
			s->ns_repeat[dir]++;
			if (s->ns_repeat[dir] >= 4)
				sess_obs_bool(s, "l2tp.no_ack", true, p->frame);
		} else {
			s->ns_repeat[dir] = 0;
		}
		s->last_seq[dir] = m->ns;
		s->last_seq_valid[dir] = true;
	}
	/* what crossed the other side's StopCCN opens nothing: the tunnel is going */
	if (s->stop_from[!dir] && m->msg_type != L2TP_MSG_STOPCCN && m->msg_type != L2TP_MSG_CDN)
		return;
	const struct l2tp_avp *a;
	char note[96];
	/* tunnel authentication: a Challenge or its Response in the set-up */
	if ((m->msg_type == L2TP_MSG_SCCRQ || m->msg_type == L2TP_MSG_SCCRP ||
	     m->msg_type == L2TP_MSG_SCCCN) && !sess_obs_get(s, "l2tp.tunnel_auth") &&
	    (l2tp_find_avp(m, L2TP_AVP_CHALLENGE) || l2tp_find_avp(m, L2TP_AVP_CHALLENGE_RESPONSE)))
		sess_obs_bool(s, "l2tp.tunnel_auth", true, p->frame);
	switch (m->msg_type) {
	case L2TP_MSG_SCCRQ:
		phase_touch(s, PH_TUNNEL, p, retrans);
		break;
	case L2TP_MSG_SCCRP:
		phase_touch(s, PH_TUNNEL, p, retrans);
		a = l2tp_find_avp(m, L2TP_AVP_ASSIGNED_TUNNEL_ID);
		if (a && !s->tid_s) {
			s->tid_s = (uint16_t)a->v.u;
			struct key k;
			key_init(&k, K_L2TP);
			key_add(&k, p->src, 16);
			key_u16(&k, s->tid_s);
			map_put(t, &k, s->id);
		}
		break;
	case L2TP_MSG_SCCCN:
		phase_touch(s, PH_TUNNEL, p, retrans);
		phase_end(s, PH_TUNNEL, PS_OK, p, "SCCCN");
		break;
	case L2TP_MSG_ICRQ:
	case L2TP_MSG_OCRQ:
		phase_touch(s, PH_CALL, p, retrans);
		if (!retrans)
			s->calls++;
		a = l2tp_find_avp(m, L2TP_AVP_ASSIGNED_SESSION_ID);
		if (a && !s->sid_c)
			s->sid_c = (uint16_t)a->v.u;
		break;
	case L2TP_MSG_ICRP:
	case L2TP_MSG_OCRP:
		phase_touch(s, PH_CALL, p, retrans);
		a = l2tp_find_avp(m, L2TP_AVP_ASSIGNED_SESSION_ID);
		if (a && !s->sid_s)
			s->sid_s = (uint16_t)a->v.u;
		break;
	case L2TP_MSG_ICCN:
	case L2TP_MSG_OCCN:
		phase_touch(s, PH_CALL, p, retrans);
		phase_end(s, PH_CALL, PS_OK, p, m->msg_type == L2TP_MSG_ICCN ? "ICCN" : "OCCN");
		break;
	case L2TP_MSG_CDN:
	case L2TP_MSG_STOPCCN: {
		bool cdn = m->msg_type == L2TP_MSG_CDN;
		if (!cdn) {
			s->stop_from[dir] = true;
			s->stop_ns[dir] = m->ns;
		}
		phase_touch(s, PH_TEARDOWN, p, retrans);
		a = l2tp_find_avp(m, L2TP_AVP_RESULT_CODE);
		if (a && a->kind == L2TP_KIND_RESULT) {
			sess_obs_int(s, cdn ? "l2tp.cdn.result" : "l2tp.stopccn.result",
			             a->v.result.result, p->frame);
			if (a->v.result.has_error && a->v.result.error)
				sess_obs_int(s, "l2tp.error", a->v.result.error, p->frame);
			const char *rn = l2tp_result_name(m->msg_type, a->v.result.result);
			snprintf(note, sizeof note, "%s from the %s: result %u%s%s%s", cdn ? "CDN" : "StopCCN",
			         dir ? "server" : "client", a->v.result.result, rn ? " (" : "",
			         rn ? rn : "", rn ? ")" : "");
			if (!s->ph[PH_TEARDOWN].note)
				phase_note(&s->ph[PH_TEARDOWN], note);
		}
		enum phase_id open = s->ph[PH_TUNNEL].state != PS_OK ? PH_TUNNEL
		                     : (s->ph[PH_CALL].state == PS_OPEN ? PH_CALL : PH_COUNT);
		/* a tunnel ended with an error before it carried a call was refused (a wrong
		 * Challenge Response is only known after the SCCCN) */
		unsigned res = a && a->kind == L2TP_KIND_RESULT ? a->v.result.result : 0;
		if (open == PH_COUNT && !cdn && res && res != L2TP_STOP_GENERAL &&
		    res != L2TP_STOP_SHUTDOWN && s->ph[PH_CALL].state == PS_NONE)
			open = PH_TUNNEL;
		/* the client gives up on a server that never answered its SCCRQ */
		if (open == PH_TUNNEL && !cdn && dir == 0 && !s->tid_s && s->ph[PH_TUNNEL].retrans)
			snprintf(note, sizeof note, "SCCRQ sent %u times, never acknowledged; the client "
			         "gave up (StopCCN)", s->ph[PH_TUNNEL].pkts);
		if (open != PH_COUNT)
			phase_end(s, open, PS_FAILED, p, note);
		break;
	}
	case L2TP_MSG_HELLO:
		s->hellos++;
		if (!s->hello_pending[dir])
			s->hello_pending[dir] = p->frame;
		break;
	default:
		break;
	}
}

/* ---- PPTP -------------------------------------------------------------------------- */

static struct vsess *pptp_ctrl_lookup(struct sess_table *t, const struct dl_pkt *p, bool create)
{
	struct key k;
	key_init(&k, K_PPTP);
	bool to_server = p->dport == PPTP_PORT;
	key_add(&k, to_server ? p->src : p->dst, 16);
	key_add(&k, to_server ? p->dst : p->src, 16);
	key_u16(&k, to_server ? p->sport : p->dport);
	uint32_t sid = map_get(t, &k);
	if (sid)
		return t->s[sid - 1];
	if (!create)
		return NULL;
	struct vsess *s = sess_new(t, SP_PPTP, p, !to_server, true);
	if (!s)
		return NULL;
	map_put(t, &k, s->id);
	struct key pk;
	pair_key(&pk, K_GRE_PAIR, s->cli, s->srv);
	map_put(t, &pk, s->id);
	return s;
}

/* GRE to `host` from `peer` names the call ID `host` assigned. The key holds both
 * addresses: a client that runs connections to two servers may pick the same call ID
 * for both, and two clients of one server the same one too. */
static void gre_key(struct key *k, const uint8_t *host, const uint8_t *peer, uint16_t call)
{
	key_init(k, K_GRE);
	key_add(k, host, 16);
	key_add(k, peer, 16);
	key_u16(k, call);
}

static void gre_register(struct sess_table *t, const uint8_t *host, const uint8_t *peer,
                         uint16_t call, uint32_t sid)
{
	struct key k;
	gre_key(&k, host, peer, call);
	map_put(t, &k, sid);
}

/* The calls of one control connection: the call ID its sender (role 0: the client,
 * 1: the server) assigned -> the call's session. */
static void pptp_call_key(struct key *k, const struct vsess *c, int role, uint16_t call)
{
	key_init(k, K_PPTP_CALL);
	uint8_t b[5] = {(uint8_t)(c->id >> 24), (uint8_t)(c->id >> 16), (uint8_t)(c->id >> 8),
	                (uint8_t)c->id, (uint8_t)role};
	key_add(k, b, sizeof b);
	key_u16(k, call);
}

static struct vsess *pptp_call_find(struct sess_table *t, const struct vsess *c, int role,
                                    uint16_t call)
{
	struct key k;
	pptp_call_key(&k, c, role, call);
	uint32_t sid = map_get(t, &k);
	return sid ? t->s[sid - 1] : NULL;
}

/* A call ID assigned by the sender of `p` (direction `dir` of the control connection
 * `c`) names the call of session `s`, on the control connection and in GRE. */
static void pptp_call_register(struct sess_table *t, struct vsess *c, struct vsess *s,
                               const struct dl_pkt *p, int dir, uint16_t call)
{
	struct key k;
	pptp_call_key(&k, c, dir, call);
	map_put(t, &k, s->id);
	if (dir == 0)
		s->call_c = call;
	else
		s->call_s = call;
	gre_register(t, p->src, p->dst, call, s->id);
}

/* The session of the call a request (OCRQ, ICRQ) opens. The connection's first call is
 * the control connection's session; a further one gets a session of its own that starts
 * with a copy of the connection's set-up. A request naming a call ID whose call is still
 * going is that call's again. */
static struct vsess *pptp_call_open(struct sess_table *t, struct vsess *c,
                                    const struct dl_pkt *p, int dir, uint16_t call)
{
	struct vsess *s = pptp_call_find(t, c, dir, call);
	if (s && !s->ph[PH_TEARDOWN].state)
		return s;
	if (c->ph[PH_CALL].state == PS_NONE) {
		s = c;
	} else {
		s = sess_new(t, SP_PPTP, p, dir == 1, c->roles_known);
		if (!s)
			return c;
		memcpy(s->cli, c->cli, 16);
		memcpy(s->srv, c->srv, 16);
		s->cport = s->first_cport = c->cport;
		s->sport = c->sport;
		s->first_frame = c->first_frame;
		s->first_ns = c->first_ns;
		s->syn_seen = c->syn_seen;
		s->synack_seen = c->synack_seen;
		s->syn_count = c->syn_count;
		s->ph[PH_TUNNEL] = c->ph[PH_TUNNEL];
		s->ph[PH_TUNNEL].note = NULL;
		if (c->ph[PH_TUNNEL].note)
			phase_note(&s->ph[PH_TUNNEL], c->ph[PH_TUNNEL].note);
		s->ctrl = c->id;
		struct vsess *last = sess_find_id(t, c->call_last);
		if (last)
			last->call_next = s->id;
		else
			c->call_next = s->id;
		c->call_last = s->id;
	}
	pptp_call_register(t, c, s, p, dir, call);
	return s;
}

/* The further calls of control connection `c`, in the order they began; `fn` may release
 * the session it is given. */
static void pptp_calls_each(struct sess_table *t, struct vsess *c,
                            void (*fn)(struct sess_table *, struct vsess *, const struct dl_pkt *),
                            const struct dl_pkt *p)
{
	uint32_t prev = c->id, next = c->call_next;
	while (next > prev) { /* ids grow along the chain: it ends */
		struct vsess *s = sess_find_id(t, next);
		if (!s || s->ctrl != c->id)
			break;
		prev = next;
		next = s->call_next;
		fn(t, s, p);
	}
}

static void pptp_call_stop(struct sess_table *t, struct vsess *s, const struct dl_pkt *p)
{
	sess_seen(t, s, p);
	phase_touch(s, PH_TEARDOWN, p, false);
}

static void pptp_call_closed(struct sess_table *t, struct vsess *s, const struct dl_pkt *p)
{
	(void)p;
	s->closed = true;
	sess_maybe_done(t, s);
}

/* The control connection `c` ended on the wire: so did every call it carried. */
static void pptp_conn_maybe_done(struct sess_table *t, struct vsess *c, const struct dl_pkt *p)
{
	if (!c->closed)
		return;
	uint32_t first = c->call_next, id = c->id;
	sess_maybe_done(t, c); /* may release c */
	if (!first)
		return;
	struct vsess *s = sess_find_id(t, id);
	if (s) {
		pptp_calls_each(t, s, pptp_call_closed, p);
		return;
	}
	/* the control connection's session is gone: walk the chain from its first call */
	for (uint32_t prev = id, next = first; next > prev;) {
		s = sess_find_id(t, next);
		if (!s || s->ctrl != id)
			break;
		prev = next;
		next = s->call_next;
		pptp_call_closed(t, s, p);
	}
}

static void pptp_input(struct sess_table *t, const struct dl_pkt *p, const struct pptp_msg *m)
{
	struct vsess *c = pptp_ctrl_lookup(t, p, true);
	if (!c)
		return;
	int dir = dir_of(c, p);
	/* the session of the call the message is about (c for the connection's own) */
	struct vsess *s = c;
	switch (m->ctrl_type) {
	case PPTP_OCRQ:
	case PPTP_ICRQ:
		s = pptp_call_open(t, c, p, dir, m->call_id);
		break;
	case PPTP_OCRP:
	case PPTP_ICRP:
	case PPTP_ICCN:
		/* names the requester's call ID */
		s = pptp_call_find(t, c, !dir, m->peer_call_id);
		if (!s)
			s = c;
		if (m->ctrl_type != PPTP_ICCN)
			pptp_call_register(t, c, s, p, dir, m->call_id);
		break;
	case PPTP_CCRQ:
	case PPTP_CDN:
		/* names the sender's own call ID */
		s = pptp_call_find(t, c, dir, m->call_id);
		if (!s)
			s = c;
		break;
	default:
		break;
	}
	sess_seen(t, s, p);
	char note[96];
	const char *rn;
	switch (m->ctrl_type) {
	case PPTP_SCCRQ:
		phase_touch(s, PH_TUNNEL, p, false);
		break;
	case PPTP_SCCRP:
		phase_touch(s, PH_TUNNEL, p, false);
		if (m->result == 1) {
			phase_end(s, PH_TUNNEL, PS_OK, p, "SCCRP: successful channel establishment");
		} else {
			sess_obs_str(s, "pptp.message", "SCCRP", p->frame);
			sess_obs_int(s, "pptp.result", m->result, p->frame);
			rn = pptp_result_name(m->ctrl_type, m->result);
			snprintf(note, sizeof note, "SCCRP result %u%s%s%s", m->result, rn ? " (" : "",
			         rn ? rn : "", rn ? ")" : "");
			phase_end(s, PH_TUNNEL, PS_FAILED, p, note);
		}
		break;
	case PPTP_OCRQ:
	case PPTP_ICRQ:
		phase_touch(s, PH_CALL, p, false);
		c->calls++;
		break;
	case PPTP_OCRP:
	case PPTP_ICRP:
		phase_touch(s, PH_CALL, p, false);
		if (m->result == 1) {
			phase_end(s, PH_CALL, PS_OK, p, "Outgoing-Call-Reply: connected");
		} else {
			sess_obs_str(s, "pptp.message", "OCRP", p->frame);
			sess_obs_int(s, "pptp.result", m->result, p->frame);
			rn = pptp_result_name(m->ctrl_type, m->result);
			int w = snprintf(note, sizeof note, "OCRP result %u%s%s%s", m->result,
			                 rn ? " (" : "", rn ? rn : "", rn ? ")" : "");
			/* the error code tells a General Error apart (RFC 2637 section 2.2) */
			const char *en = pptp_error_name(m->error);
			if (m->result == 2 && m->error && w > 0 && (size_t)w < sizeof note)
				snprintf(note + w, sizeof note - (size_t)w, ", error %u%s%s%s", m->error,
				         en ? " (" : "", en ? en : "", en ? ")" : "");
			phase_end(s, PH_CALL, PS_FAILED, p, note);
		}
		break;
	case PPTP_ICCN:
		phase_touch(s, PH_CALL, p, false);
		phase_end(s, PH_CALL, PS_OK, p, "ICCN");
		break;
	case PPTP_CDN:
		phase_touch(s, PH_TEARDOWN, p, false);
		if (dir == 1) {
			sess_obs_str(s, "pptp.message", "CDN", p->frame);
			sess_obs_int(s, "pptp.result", m->result, p->frame);
		}
		break;
	case PPTP_CCRQ:
		phase_touch(s, PH_TEARDOWN, p, false);
		break;
	case PPTP_STOPCCRQ:
		phase_touch(s, PH_TEARDOWN, p, false);
		pptp_calls_each(t, c, pptp_call_stop, p);
		break;
	case PPTP_STOPCCRP:
		phase_touch(s, PH_TEARDOWN, p, false);
		pptp_calls_each(t, c, pptp_call_stop, p);
		s->closed = true;
		break;
	default:
		break;
	}
	pptp_conn_maybe_done(t, c, p);
}

static void tcp_input(struct sess_table *t, const struct dl_pkt *p)
{
	if (p->sport != PPTP_PORT && p->dport != PPTP_PORT)
		return;
	uint8_t f = p->tcp.flags;
	bool syn = (f & TCP_SYN) && !(f & TCP_ACK);
	struct vsess *s = pptp_ctrl_lookup(t, p, syn && p->dport == PPTP_PORT);
	if (!s)
		return;
	sess_seen(t, s, p);
	if (syn) {
		s->syn_seen = true;
		s->syn_count++;
		phase_touch(s, PH_TUNNEL, p, s->syn_count > 1);
	} else if ((f & TCP_SYN) && (f & TCP_ACK)) {
		s->synack_seen = true;
		phase_touch(s, PH_TUNNEL, p, false);
	} else if ((f & TCP_RST) && !s->ph[PH_TUNNEL].state) {
		phase_touch(s, PH_TUNNEL, p, false);
	}
	if ((f & (TCP_RST | TCP_FIN)) && s->ph[PH_TEARDOWN].state && s->synack_seen)
		s->closed = (f & TCP_RST) != 0 || s->closed;
	if (f & TCP_RST && p->sport == PPTP_PORT && !s->synack_seen) {
		sess_obs_bool(s, "pptp.no_reply", true, p->frame);
		phase_end(s, PH_TUNNEL, PS_FAILED, p, "the server reset the TCP connection");
	}
	pptp_conn_maybe_done(t, s, p);
}

static void gre_input(struct sess_table *t, const struct dl_pkt *p, const struct gre_msg *g,
                      int li)
{
	if (g->version != 1)
		return;
	struct key k;
	gre_key(&k, p->dst, p->src, g->call_id);
	uint32_t sid = map_get(t, &k);
	struct vsess *s = sid ? t->s[sid - 1] : NULL;
	if (!s) {
		/* GRE without its control connection (the capture started later): a session of
		 * its own, keyed by both call IDs as they appear. */
		struct key pk;
		pair_key(&pk, K_GRE_PAIR, p->src, p->dst);
		uint32_t ps = map_get(t, &pk);
		if (ps) {
			s = t->s[ps - 1];
			int dir = dir_of(s, p);
			uint16_t *call = dir == 0 ? &s->call_s : &s->call_c;
			if (s->proto == SP_PPTP && (*call == 0 || *call == g->call_id) &&
			    !(dir == 0 ? s->gre_pkts[0] : s->gre_pkts[1])) {
				*call = g->call_id;
				map_put(t, &k, s->id);
			} else {
				s = NULL;
			}
		}
		if (!s) {
			s = sess_new(t, SP_PPTP, p, false, false);
			if (!s)
				return;
			s->call_s = g->call_id;
			map_put(t, &k, s->id);
			pair_key(&pk, K_GRE_PAIR, s->cli, s->srv);
			map_put(t, &pk, s->id);
		}
	}
	sess_seen(t, s, p);
	int dir = dir_of(s, p);
	s->gre_pkts[dir]++;
	const struct dl_layer *pl = layer(p, DL_PPP, li + 1);
	if (pl)
		ppp_input(s, dir, pl->msg, p);
}

/* ---- RADIUS ------------------------------------------------------------------------ */

static const char *radius_auth_proto(const struct radius_msg *m)
{
	if (radius_find_vsa(m, RADIUS_VENDOR_MICROSOFT, MS_CHAP2_RESPONSE))
		return "mschapv2";
	if (radius_find_vsa(m, RADIUS_VENDOR_MICROSOFT, MS_CHAP_RESPONSE))
		return "mschap";
	if (radius_find(m, RADIUS_ATTR_EAP_MESSAGE))
		return "eap";
	if (radius_find(m, RADIUS_ATTR_CHAP_PASSWORD))
		return "chap-md5";
	if (radius_find(m, RADIUS_ATTR_USER_PASSWORD))
		return "pap";
	return NULL;
}

static void radius_input(struct sess_table *t, const struct dl_pkt *p, const struct radius_msg *m)
{
	bool request = m->code == RADIUS_ACCESS_REQUEST || m->code == RADIUS_ACCOUNTING_REQUEST;
	bool reply = m->code == RADIUS_ACCESS_ACCEPT || m->code == RADIUS_ACCESS_REJECT ||
	             m->code == RADIUS_ACCESS_CHALLENGE || m->code == RADIUS_ACCOUNTING_RESPONSE;
	if (!request && !reply)
		return;
	struct key k;
	key_init(&k, K_RADIUS);
	key_add(&k, request ? p->src : p->dst, 16);
	key_add(&k, request ? p->dst : p->src, 16);
	key_u16(&k, request ? p->sport : p->dport);
	key_u16(&k, request ? p->dport : p->sport);
	key_add(&k, &m->id, 1);
	uint32_t sid = map_get(t, &k);
	struct vsess *s = sid ? t->s[sid - 1] : NULL;
	bool acct = m->code == RADIUS_ACCOUNTING_REQUEST || m->code == RADIUS_ACCOUNTING_RESPONSE;
	enum phase_id ph = acct ? PH_ACCOUNTING : PH_AUTH;
	if (request) {
		if (s && s->rad_answered == false && m->auth && !memcmp(s->rad_auth, m->auth, 16)) {
			s->rad_retrans++;
			sess_seen(t, s, p);
			phase_touch(s, ph, p, true);
			return;
		}
		/* A new request reuses the identifier: a new exchange. */
		s = sess_new(t, acct ? SP_ACCT : SP_RADIUS, p, false, true);
		if (!s)
			return;
		s->rad_id = m->id;
		if (m->auth)
			memcpy(s->rad_auth, m->auth, 16);
		map_put(t, &k, s->id);
		const struct radius_attr *u = radius_find(m, RADIUS_ATTR_USER_NAME);
		if (u)
			set_user(s, u->val, u->vlen);
		const char *ap = acct ? NULL : radius_auth_proto(m);
		if (ap)
			sess_obs_str(s, "ppp.auth.protocol", ap, p->frame);
		sess_seen(t, s, p);
		phase_touch(s, ph, p, false);
		/* with the secret: an Accounting-Request's authenticator and a request's
		 * Message-Authenticator are made with it too */
		size_t qsl;
		const uint8_t *qsec = ike_keys_radius_secret(t->keys, &qsl);
		if (qsec && m->auth && m->length >= 20) {
			const uint8_t *pkt = m->auth - 4;
			int v = acct ? radius_verify_auth(pkt, m->length, NULL, qsec, qsl) : 1;
			if (v == 1 && radius_find(m, RADIUS_ATTR_MESSAGE_AUTHENTICATOR))
				v = radius_verify_msg_auth(pkt, m->length, NULL, qsec, qsl);
			if (v == 0)
				sess_obs_bool(s, "radius.bad_authenticator", true, p->frame);
		}
		return;
	}
	if (!s)
		return; /* a reply to a request before the capture started */
	sess_seen(t, s, p);
	phase_touch(s, ph, p, s->rad_answered);
	s->rad_answered = true;
	size_t sl;
	const uint8_t *secret = ike_keys_radius_secret(t->keys, &sl);
	if (secret && m->auth && m->length >= 20) {
		/* the Response Authenticator covers the request's authenticator and the secret:
		 * one that does not verify means the two ends hold different secrets */
		int v = radius_verify_auth(m->auth - 4, m->length, s->rad_auth, secret, sl);
		if (v == 1 && radius_find(m, RADIUS_ATTR_MESSAGE_AUTHENTICATOR))
			v = radius_verify_msg_auth(m->auth - 4, m->length, s->rad_auth, secret, sl);
		if (v == 0) {
			sess_obs_bool(s, "radius.bad_authenticator", true, p->frame);
			phase_end(s, ph, PS_FAILED, p, "the Response Authenticator or Message-Authenticator "
			          "does not verify with the shared secret");
			sess_maybe_done(t, s);
			return;
		}
	}
	const char *cn = tok_name(radius_code_names, m->code);
	if (cn)
		sess_obs_str(s, "radius.code", cn, p->frame);
	if (m->code == RADIUS_ACCESS_ACCEPT || m->code == RADIUS_ACCOUNTING_RESPONSE) {
		phase_end(s, ph, PS_OK, p, cn);
	} else if (m->code == RADIUS_ACCESS_REJECT) {
		char note[96];
		const struct radius_attr *e = radius_find_vsa(m, RADIUS_VENDOR_MICROSOFT, MS_CHAP_ERROR);
		struct mschap_failure f;
		/* MS-CHAP-Error: one ident octet, then the text */
		if (e && e->vlen > 1 && !mschap_parse_failure(e->val + 1, e->vlen - 1, &f) &&
		    f.has_error) {
			sess_obs_int(s, "mschap.error", f.error, p->frame);
			if (f.has_retry)
				sess_obs_bool(s, "mschap.retry", f.retry == 1, p->frame);
			snprintf(note, sizeof note, "Access-Reject with MS-CHAP-Error E=%u", f.error);
		} else {
			snprintf(note, sizeof note, "Access-Reject");
		}
		phase_end(s, ph, PS_FAILED, p, note);
	}
	sess_maybe_done(t, s);
}

/* ---- entry ------------------------------------------------------------------------- */

void sess_packet(struct sess_table *t, const struct dl_pkt *p)
{
	if (!t->packets++)
		t->first_ns = p->ts_ns;
	if (p->ts_ns > t->last_ns)
		t->last_ns = p->ts_ns;
	if (!p->has_ip)
		return;
	if (p->reasm == DL_REASM_FRAG_HELD && p->ip.proto == 17) {
		/* a fragment waiting for the rest of its datagram: between IKE peers, the
		 * frames an incomplete IKE message would be told by */
		struct key k;
		pair_key(&k, K_IPSEC_PAIR, p->src, p->dst);
		uint32_t sid = map_get(t, &k);
		struct vsess *s = sid ? t->s[sid - 1] : NULL;
		if (s) {
			sess_seen(t, s, p);
			if (!s->frag_held++) {
				s->frag_first_frame = p->frame;
				s->frag_first_ns = p->ts_ns;
			}
			s->frag_last_frame = p->frame;
			s->frag_last_ns = p->ts_ns;
		}
		return;
	}
	sess_dispatch(t, p);
}

static void sess_dispatch(struct sess_table *t, const struct dl_pkt *p)
{
	for (int i = 0; i < p->nlayers; i++) {
		const struct dl_layer *l = &p->layers[i];
		switch (l->kind) {
		case DL_IKE:
			ike_input(t, p, l->msg);
			return;
		case DL_ESP:
			esp_input(t, p, l->msg);
			return;
		case DL_L2TP:
			l2tp_input(t, p, l->msg, i);
			return;
		case DL_PPTP:
			pptp_input(t, p, l->msg);
			break; /* several messages per segment */
		case DL_GRE:
			gre_input(t, p, l->msg, i);
			return;
		case DL_RADIUS:
			radius_input(t, p, l->msg);
			return;
		case DL_TCP:
			if (!layer(p, DL_PPTP, i + 1))
				tcp_input(t, p);
			break;
		default:
			break;
		}
	}
}

void sess_frag_incomplete(struct sess_table *t, uint8_t ipver, const uint8_t *src,
                          const uint8_t *dst, uint8_t proto, uint64_t first_frame)
{
	(void)ipver;
	if (proto != 17)
		return;
	struct key k;
	pair_key(&k, K_IPSEC_PAIR, src, dst);
	uint32_t sid = map_get(t, &k);
	if (!sid)
		return;
	struct vsess *s = t->s[sid - 1];
	if (!s)
		return;
	s->frag_lost++;
	sess_obs_bool(s, "ike.fragmented", true, first_frame);
	sess_obs_bool(s, "ike.fragments_incomplete", true, first_frame);
}
