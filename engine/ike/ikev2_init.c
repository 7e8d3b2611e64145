/* IKEv2 initiator: IKE_SA_INIT (COOKIE, INVALID_KE_PAYLOAD), IKE_AUTH with EAP-MSCHAPv2
 * as the client, the configuration payload, one tunnel-mode child SA. See ikev2_init.h. */
#include "ike/ikev2_init.h"
#include "ike/ike_bytes.h"
#include "ike/ikev2_sa.h"
#include "eap/eap_mschapv2.h"
#include "ike.h"
#include "mschap.h"
#include "ppp.h"
#include "ppp/ppp_auth.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

/* numbers of RFC 7296, 7427 and the EAP RFCs (as engine/ike/ikev2.c names them) */
enum { XF_ENCR = 1, XF_PRF = 2, XF_INTEG = 3, XF_DH = 4, XF_ESN = 5 };
enum { ATTR_KEY_LENGTH = 14 };
enum { PROTO_IKE = 1, PROTO_ESP = 3 };
enum { AUTH_RSA = 1, AUTH_PSK = 2, AUTH_DIGSIG = 14 };
enum { ID_IPV4 = 1 };
enum { CERT_X509_SIG = 4 };
enum { CFG_REQUEST = 1, CFG_REPLY = 2 };
enum { CP_IP4_ADDRESS = 1, CP_IP4_DNS = 3 };
enum { TS_IPV4 = 7 };
enum {
	N_NO_PROPOSAL = 14, N_INVALID_KE = 17, N_AUTH_FAILED = 24, N_INTERNAL_ADDRESS_FAILURE = 36,
	N_INVALID_SYNTAX = 7, N_FAILED_CP_REQUIRED = 37, N_TS_UNACCEPTABLE = 38,
	N_NO_ADDITIONAL_SAS = 35, N_TEMPORARY_FAILURE = 43,
	N_REKEY_SA = 16393,
	N_NATD_SRC = 16388, N_NATD_DST = 16389, N_COOKIE = 16390, N_SIG_HASH_ALGS = 16431,
};
enum { EAP_IDENTITY = 1, EAP_NAK = 3 };
enum { SIGHASH_SHA256 = 2, SIGHASH_SHA384 = 3, SIGHASH_SHA512 = 4 };

#define NONCE_LEN 32
#define ID_MAX 512
#define INIT_RETRIES_KE 2        /* INVALID_KE_PAYLOAD answered, at most */
#define ANSWER_MAX 512           /* our answer to a request of the responder */

const struct tok ikev2i_state_names[] = {
	{IKEV2I_START, "start"}, {IKEV2I_INIT, "init-sent"}, {IKEV2I_AUTH, "auth-sent"},
	{IKEV2I_EAP, "eap"}, {IKEV2I_AUTH_FINAL, "final-auth-sent"},
	{IKEV2I_ESTABLISHED, "established"}, {IKEV2I_DEAD, "dead"}, {0, NULL},
};

/* The message structures, held only while an entry point runs. */
struct scratch {
	struct ike_msg m;            /* being read */
	struct ike_msg o;            /* being built */
	uint8_t pt[IKE_HDR_LEN + IKEV2_MSG_MAX];   /* a decrypted message */
	uint8_t tx[IKE_HDR_LEN + IKEV2_MSG_MAX];   /* an encoded message before protection */
	uint8_t eap[512];            /* the EAP message of the one being built */
	uint8_t auth[1024];          /* its AUTH data */
};

struct ikev2i {
	const struct ikev2i_conf *conf;
	const struct ikev2_cbs *cbs;
	enum ikev2i_state state;
	char cause[48];
	unsigned win_error;
	struct ikev2_addr local, peer;   /* peer: where messages go now */
	bool on_natt, nat_local, nat_peer;
	bool heard, heard_natt;
	uint8_t ispi[8], rspi[8];
	struct ikev2_keys k;

	/* IKE_SA_INIT */
	struct ike_dh *dh;
	uint16_t group;                  /* of our KE */
	unsigned init_tries, ke_retries, cookies;
	uint8_t cookie[64];
	size_t cookie_len;
	uint8_t ni[NONCE_LEN], nr[256];
	size_t nr_len;
	uint8_t *init_req, *init_resp;   /* RealMessage1 and 2, kept until the SA is up */
	size_t init_req_len, init_resp_len;

	/* IKE_AUTH */
	uint8_t idi[4 + ID_MAX], idr[4 + ID_MAX]; /* IDi' and IDr' (type, reserved, data) */
	size_t idi_len, idr_len;
	uint32_t spi_in;
	bool have_nt, have_msk;
	uint8_t auth_challenge[16], peer_challenge[16], nt_response[24];
	uint8_t msk[EAP_MS_MSK_LEN];
	bool have_vip;
	uint8_t vip[4], dns[2][4];
	size_t n_dns;
	struct ikev2_child child;

	/* our request under way, its retransmissions; the responder's requests */
	uint32_t mid;                    /* of our request under way (the next one once up) */
	uint8_t *last;                   /* it, as sent */
	size_t last_len;
	unsigned tries;
	uint64_t rtx_at, neg_deadline, up_at;
	uint32_t peer_mid;               /* the responder's next request */
	uint8_t answer[ANSWER_MAX];      /* our answer to its last one */
	size_t answer_len;
	unsigned answer_resends;
	bool orig_resp;                  /* the responder rekeyed the IKE SA: it is the current
	                                    SA's original initiator, our messages go without the
	                                    I flag under SK_er / SK_ar (RFC 7296 2.18) */

	/* the IKE SA a rekey by the responder replaced, answering until the responder deletes
	 * it: the same fields as the current one's, swapped in while one of its requests is
	 * handled (old_swap) */
	struct iold {
		bool set, orig_resp;
		uint8_t ispi[8], rspi[8];
		struct ikev2_keys k;
		uint32_t peer_mid;
		uint8_t answer[ANSWER_MAX];
		size_t answer_len;
		unsigned answer_resends;
	} old;

	struct scratch *s;
};

/* ---- small helpers ----------------------------------------------------------------- */

static void ev(struct ikev2i *sa, enum ikev2_ev kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ev(struct ikev2i *sa, enum ikev2_ev kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ikev2_event_v(sa->cbs, kind, fmt, ap);
	va_end(ap);
}

static void random_bytes(struct ikev2i *sa, uint8_t *b, size_t n)
{
	sa->cbs->random(sa->cbs->ctx, b, n);
}

static void neg_free(struct ikev2i *sa)
{
	ike_dh_free(sa->dh);
	sa->dh = NULL;
	free(sa->init_req);
	free(sa->init_resp);
	sa->init_req = sa->init_resp = NULL;
	free(sa->last);
	sa->last = NULL;
	sa->last_len = 0;
}

static void set_dead(struct ikev2i *sa)
{
	if (sa->child.used) {
		sa->child.used = false;
		if (sa->cbs->child_down)
			sa->cbs->child_down(sa->cbs->ctx, &sa->child, "IKE SA gone");
	}
	neg_free(sa);
	OPENSSL_cleanse(&sa->k, sizeof sa->k);
	OPENSSL_cleanse(&sa->old, sizeof sa->old);
	OPENSSL_cleanse(sa->msk, sizeof sa->msk);
	OPENSSL_cleanse(&sa->child, sizeof sa->child);
	sa->state = IKEV2I_DEAD;
}

static void fail(struct ikev2i *sa, const char *cause, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct ikev2i *sa, const char *cause, const char *fmt, ...)
{
	char buf[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	snprintf(sa->cause, sizeof sa->cause, "%s", cause);
	ev(sa, IKEV2_EV_FAIL, "%s: %s", cause, buf);
	bool was_up = sa->state == IKEV2I_ESTABLISHED;
	set_dead(sa);
	if (was_up)
		ev(sa, IKEV2_EV_IKE_DOWN, "IKE SA down: %s", cause);
}

static void send_now(struct ikev2i *sa, const uint8_t *buf, size_t len)
{
	if (len && sa->cbs->send)
		sa->cbs->send(sa->cbs->ctx, buf, len, sa->on_natt);
}

/* Send a request and keep it for retransmission. */
static void send_request(struct ikev2i *sa, const uint8_t *buf, size_t len, uint64_t now)
{
	if (!len || len > IKEV2_DATAGRAM_MAX)
		return;
	if (!sa->last)
		sa->last = malloc(IKEV2_DATAGRAM_MAX);
	if (!sa->last) {
		fail(sa, "ike.v2.internal", "out of memory");
		return;
	}
	memcpy(sa->last, buf, len);
	sa->last_len = len;
	sa->tries = 0;
	sa->rtx_at = now + sa->conf->retransmit_ms;
	send_now(sa, sa->last, len);
}

static bool scratch(struct ikev2i *sa)
{
	if (!sa->s)
		sa->s = malloc(sizeof *sa->s);
	return sa->s != NULL;
}

/* Released once no negotiation runs. */
static void scratch_release(struct ikev2i *sa)
{
	if (sa->state != IKEV2I_ESTABLISHED && sa->state != IKEV2I_DEAD)
		return;
	free(sa->s);
	sa->s = NULL;
}

static struct ike_payload *add_notify(struct ike_msg *o, uint16_t type, const uint8_t *data,
                                      size_t n)
{
	return ikev2_add_notify(o, type, 0, NULL, 0, data, n);
}

/* The first payload of a type in m, NULL when absent. */
static const struct ike_payload *find(const struct ike_msg *m, uint8_t type)
{
	for (unsigned i = 0; i < m->npl; i++)
		if (m->pl[i].type == type)
			return &m->pl[i];
	return NULL;
}

/* The first error notify (type below 16384) in m, 0 when none. */
static uint16_t error_notify(const struct ike_msg *m)
{
	for (unsigned i = 0; i < m->npl; i++)
		if (m->pl[i].type == IKE2_PL_N && m->pl[i].notify && m->pl[i].notify < 16384)
			return m->pl[i].notify;
	return 0;
}

static const char *notify_text(uint16_t n, char *buf, size_t cap)
{
	const char *name = ike_notify_name(2, n);
	snprintf(buf, cap, "%s (%u)", name ? name : "?", n);
	return buf;
}

/* ---- configuration ------------------------------------------------------------------ */

void ikev2i_conf_default(struct ikev2i_conf *c)
{
	memset(c, 0, sizeof *c);
	static const struct ikev2_prop ike[] = {
		{IKE2_ENCR_AES_CBC, 256, IKE2_INTEG_HMAC_SHA2_256_128, IKE2_PRF_HMAC_SHA2_256, 19},
		{IKE2_ENCR_AES_CBC, 256, IKE2_INTEG_HMAC_SHA2_256_128, IKE2_PRF_HMAC_SHA2_256, 14},
		{IKE2_ENCR_AES_CBC, 128, IKE2_INTEG_HMAC_SHA1_96, IKE2_PRF_HMAC_SHA1, 14},
	};
	static const struct ikev2_esp_prop esp[] = {
		{IKE2_ENCR_AES_GCM_16, 256, 0},
		{IKE2_ENCR_AES_CBC, 256, IKE2_INTEG_HMAC_SHA2_256_128},
		{IKE2_ENCR_AES_CBC, 128, IKE2_INTEG_HMAC_SHA1_96},
	};
	memcpy(c->ike, ike, sizeof ike);
	c->n_ike = sizeof ike / sizeof ike[0];
	memcpy(c->esp, esp, sizeof esp);
	c->n_esp = sizeof esp / sizeof esp[0];
	c->server_auth = IKEV2_SAUTH_PSK;
	c->natt = true;
	c->natt_port = 4500;
	c->ask_dns = true;
	c->retransmit_ms = 1000;
	c->retransmits = 4;
	c->negotiation_ms = 30000;
}

/* The responder's parser is the one syntax: read into its configuration, copy the list. */
int ikev2i_conf_parse_ike(struct ikev2i_conf *c, const char *text, char *why, size_t whysz)
{
	struct ikev2_conf t;
	ikev2_conf_default(&t);
	if (ikev2_conf_parse_ike(&t, text, why, whysz) < 0)
		return -1;
	memcpy(c->ike, t.ike, t.n_ike * sizeof t.ike[0]);
	c->n_ike = t.n_ike;
	return 0;
}

int ikev2i_conf_parse_esp(struct ikev2i_conf *c, const char *text, char *why, size_t whysz)
{
	struct ikev2_conf t;
	ikev2_conf_default(&t);
	if (ikev2_conf_parse_esp(&t, text, why, whysz) < 0)
		return -1;
	memcpy(c->esp, t.esp, t.n_esp * sizeof t.esp[0]);
	c->n_esp = t.n_esp;
	return 0;
}

/* ---- creation and accessors -------------------------------------------------------------- */

struct ikev2i *ikev2i_new(const struct ikev2i_conf *conf, const struct ikev2_cbs *cbs,
                          const struct ikev2_addr *local, const struct ikev2_addr *peer)
{
	struct ikev2i *sa = calloc(1, sizeof *sa);
	if (!sa)
		return NULL;
	sa->conf = conf;
	sa->cbs = cbs;
	sa->local = *local;
	sa->peer = *peer;
	do
		random_bytes(sa, sa->ispi, 8);
	while (!memcmp(sa->ispi, "\0\0\0\0\0\0\0\0", 8));
	return sa;
}

void ikev2i_free(struct ikev2i *sa)
{
	if (!sa)
		return;
	neg_free(sa);
	free(sa->s);
	OPENSSL_cleanse(sa, sizeof *sa);
	free(sa);
}

enum ikev2i_state ikev2i_state(const struct ikev2i *sa) { return sa->state; }
const char *ikev2i_cause(const struct ikev2i *sa) { return sa->cause; }
unsigned ikev2i_win_error(const struct ikev2i *sa) { return sa->win_error; }
const uint8_t *ikev2i_ispi(const struct ikev2i *sa) { return sa->ispi; }
const uint8_t *ikev2i_rspi(const struct ikev2i *sa) { return sa->rspi; }
const struct ikev2_addr *ikev2i_peer(const struct ikev2i *sa) { return &sa->peer; }
bool ikev2i_natt(const struct ikev2i *sa) { return sa->on_natt; }
unsigned ikev2i_init_tries(const struct ikev2i *sa) { return sa->init_tries; }
uint16_t ikev2i_group(const struct ikev2i *sa) { return sa->group; }
uint64_t ikev2i_up_at(const struct ikev2i *sa) { return sa->up_at; }

bool ikev2i_vip(const struct ikev2i *sa, uint8_t out[4])
{
	if (!sa->have_vip)
		return false;
	memcpy(out, sa->vip, 4);
	return true;
}

size_t ikev2i_dns(const struct ikev2i *sa, uint8_t out[2][4])
{
	memcpy(out, sa->dns, sizeof sa->dns);
	return sa->n_dns;
}

const struct ikev2_child *ikev2i_child(const struct ikev2i *sa)
{
	return sa->state == IKEV2I_ESTABLISHED && sa->child.used ? &sa->child : NULL;
}

/* ---- keys and protection ------------------------------------------------------------- */

/* SKEYSEED, then {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED,
 * Ni | Nr | SPIi | SPIr) */
static bool keys_derive(struct ikev2i *sa, const uint8_t *gir, size_t gir_len)
{
	struct ikev2_keys *k = &sa->k;
	uint8_t seed[IKE_HASH_MAX];
	memcpy(k->ispi, sa->ispi, 8);
	memcpy(k->rspi, sa->rspi, 8);
	bool ok = ike2_skeyseed(k->p.prf, sa->ni, NONCE_LEN, sa->nr, sa->nr_len, gir, gir_len,
	                        seed) &&
	          ikev2_keys_derive(k, seed, sa->ni, NONCE_LEN, sa->nr, sa->nr_len);
	OPENSSL_cleanse(seed, sizeof seed);
	return ok;
}

/* Encode sa->s->o (its payloads go inside SK) and protect it as ours (SK_ei, SK_ai) into
 * out. Its length, 0 when it does not fit. */
static size_t protect(struct ikev2i *sa, bool response, uint8_t *out, size_t cap)
{
	struct scratch *s = sa->s;
	size_t len = ike_encode(&s->o, s->tx, sizeof s->tx);
	if (!len)
		return 0;
	uint8_t flags = (uint8_t)((sa->orig_resp ? 0 : IKE2_FLAG_I) | (response ? IKE2_FLAG_R : 0));
	return ikev2_seal(&sa->k, sa->cbs, !sa->orig_resp, s->o.exchange, flags, s->o.msgid, false,
	                  0, 0,
	                  s->o.npl ? s->tx[16] : 0, s->tx + IKE_HDR_LEN, len - IKE_HDR_LEN, out,
	                  cap);
}

/* Check and decrypt the SK payload of raw (decoded in sa->s->m) with the responder's keys
 * and decode its inner payloads into sa->s->m. false: dropped. */
static bool open_protected(struct ikev2i *sa, const uint8_t *raw, size_t len)
{
	struct scratch *s = sa->s;
	const struct ike_msg *m = &s->m;
	if (!m->npl || m->pl[m->npl - 1].type != IKE2_PL_SK || !m->pl[m->npl - 1].encrypted) {
		ev(sa, IKEV2_EV_INFO, "message %u dropped: not protected (fragments are not "
		   "announced)", m->msgid);
		return false;
	}
	const struct ike_payload *p = &m->pl[m->npl - 1];
	long got = ikev2_open(&sa->k, sa->orig_resp, raw, len, p, s->pt + IKE_HDR_LEN,
	                      IKEV2_MSG_MAX);
	if (got == IKEV2_OPEN_SHAPE) {
		ev(sa, IKEV2_EV_INFO, "message %u dropped: SK payload of %zu bytes", m->msgid,
		   p->data_len);
		return false;
	}
	if (got < 0) {
		ev(sa, IKEV2_EV_INFO, "message %u dropped: integrity check failed", m->msgid);
		return false;
	}
	size_t n = (size_t)got;
	uint8_t first = p->inner_next;
	memcpy(s->pt, raw, IKE_HDR_LEN);
	s->pt[16] = first;
	ike_put32(s->pt + 24, (uint32_t)(IKE_HDR_LEN + n));
	struct diag_err err;
	diag_err_clear(&err);
	if (ike_decode(s->pt, IKE_HDR_LEN + n, &s->m, &err) < 0) {
		ev(sa, IKEV2_EV_INFO, "message dropped: its decrypted payloads do not decode: offset "
		   "%zu: %s", err.off, err.reason);
		return false;
	}
	return true;
}

/* Protect sa->s->o as our next request and send it. */
static void request(struct ikev2i *sa, uint64_t now)
{
	uint8_t *out = sa->s->pt; /* free at this point: what was read is used up */
	size_t len = protect(sa, false, out, IKEV2_DATAGRAM_MAX);
	if (!len) {
		fail(sa, "ike.v2.internal", "request %u could not be built", sa->s->o.msgid);
		return;
	}
	send_request(sa, out, len, now);
}

static void msg_begin(struct ikev2i *sa, uint8_t exch, bool response, uint32_t msgid)
{
	ike_msg_init(&sa->s->o, 2, exch,
	             (uint8_t)((sa->orig_resp ? 0 : IKE2_FLAG_I) | (response ? IKE2_FLAG_R : 0)),
	             msgid, sa->ispi, sa->rspi);
}

/* Tell the responder we refuse it (RFC 7296 2.21.2): an INFORMATIONAL request with
 * AUTHENTICATION_FAILED, sent once. */
static void send_auth_failed(struct ikev2i *sa)
{
	msg_begin(sa, IKE2_EXCH_INFORMATIONAL, false, sa->mid + 1);
	add_notify(&sa->s->o, N_AUTH_FAILED, NULL, 0);
	size_t len = protect(sa, false, sa->s->pt, IKEV2_DATAGRAM_MAX);
	send_now(sa, sa->s->pt, len);
}

/* ---- IKE_SA_INIT --------------------------------------------------------------------- */

static bool group_offered(const struct ikev2i_conf *c, uint16_t g)
{
	for (size_t i = 0; i < c->n_ike; i++)
		if (c->ike[i].group == g)
			return true;
	return false;
}

/* IKE_SA_INIT: [N(COOKIE)], SA, KE, Ni, [N(NAT_DETECTION_*)], [N(SIGNATURE_HASH_ALGORITHMS)] */
static void init_send(struct ikev2i *sa, uint64_t now)
{
	const struct ikev2i_conf *c = sa->conf;
	struct ike_msg *o = &sa->s->o;
	if (!sa->dh) {
		sa->dh = ike_dh_new(sa->group);
		if (!sa->dh) {
			fail(sa, "ike.v2.internal", "DH group %u: no key pair", sa->group);
			return;
		}
	}
	uint8_t ke[IKE_DH_MAX];
	size_t kl = ike_dh_public(sa->dh, ke, sizeof ke);
	ike_msg_init(o, 2, IKE2_EXCH_SA_INIT, IKE2_FLAG_I, 0, sa->ispi, NULL);
	if (sa->cookie_len)
		add_notify(o, N_COOKIE, sa->cookie, sa->cookie_len);
	struct ike_payload *sp = ike_add_payload(o, IKE2_PL_SA, NULL, 0);
	for (size_t i = 0; sp && i < c->n_ike; i++) {
		const struct ikev2_prop *p = &c->ike[i];
		struct ike_proposal *pr = ike_add_proposal(o, sp, (uint8_t)(i + 1), PROTO_IKE, NULL, 0);
		if (!pr)
			break;
		ike_add_transform(o, pr, XF_ENCR, p->encr);
		if (p->encr != IKE2_ENCR_3DES)
			ike_add_attr(o, ATTR_KEY_LENGTH, true, p->keybits, NULL, 0);
		ike_add_transform(o, pr, XF_PRF, p->prf);
		if (p->integ)
			ike_add_transform(o, pr, XF_INTEG, p->integ);
		ike_add_transform(o, pr, XF_DH, p->group);
	}
	struct ike_payload *kp = ike_add_payload(o, IKE2_PL_KE, ke, kl);
	if (kp)
		kp->group = sa->group;
	ike_add_payload(o, IKE2_PL_NONCE, sa->ni, NONCE_LEN);
	uint8_t hs[20], hd[20];
	static const uint8_t zero[8];
	if (c->natt) {
		struct ikev2_addr me = sa->local;
		if (c->force_encap) { /* an address of no one: the responder sees a NAT */
			random_bytes(sa, me.ip, ike_addr_len(me.family));
			me.port ^= 0x5a5a;
		}
		ikev2_natd_hash(sa->ispi, zero, &me, hs);
		ikev2_natd_hash(sa->ispi, zero, &sa->peer, hd);
		add_notify(o, N_NATD_SRC, hs, 20);
		add_notify(o, N_NATD_DST, hd, 20);
	}
	static const uint8_t sighash[] = {0, SIGHASH_SHA256, 0, SIGHASH_SHA384, 0, SIGHASH_SHA512};
	if (c->server_auth == IKEV2_SAUTH_CERT)
		add_notify(o, N_SIG_HASH_ALGS, sighash, sizeof sighash);
	size_t len = ike_encode(o, sa->s->tx, IKEV2_DATAGRAM_MAX);
	free(sa->init_req);
	sa->init_req = len ? malloc(len) : NULL;
	if (!kl || !len || !sa->init_req) {
		fail(sa, "ike.v2.internal", "IKE_SA_INIT could not be built");
		return;
	}
	memcpy(sa->init_req, sa->s->tx, len);
	sa->init_req_len = len;
	sa->init_tries++;
	sa->mid = 0;
	sa->state = IKEV2I_INIT;
	ev(sa, IKEV2_EV_TRACE, "IKE_SA_INIT %u: %zu proposals, KE of group %u%s%s", sa->init_tries,
	   c->n_ike, sa->group, sa->cookie_len ? ", with the cookie" : "",
	   c->natt ? (c->force_encap ? ", NAT detection (NAT forced)" : ", NAT detection") : "");
	send_request(sa, sa->init_req, len, now);
}

uint64_t ikev2i_start(struct ikev2i *sa, uint64_t now)
{
	if (sa->state != IKEV2I_START)
		return ikev2i_deadline(sa);
	const struct ikev2i_conf *c = sa->conf;
	sa->neg_deadline = now + c->negotiation_ms;
	bool auth_ok = c->server_auth == IKEV2_SAUTH_PSK ? c->psk != NULL : c->trust != NULL;
	if (!c->n_ike || !c->n_esp || !auth_ok || !c->user || !c->password || !scratch(sa)) {
		fail(sa, "ike.v2.internal", "nothing to offer, no way to check the server, no user "
		     "or password, or no memory");
		scratch_release(sa);
		return IKEV2_NEVER;
	}
	sa->group = c->ike[0].group;
	random_bytes(sa, sa->ni, NONCE_LEN);
	init_send(sa, now);
	scratch_release(sa);
	return ikev2i_deadline(sa);
}

/* The one proposal of the responder's SA payload sp, of protocol proto with an SPI of
 * spi_size bytes: the id of each transform type (ids[XF_ENCR .. XF_ESN], 0 when absent)
 * and the key length (0 for 3DES). Each type at most once and only those in the bit mask
 * types, a key length only on the encryption transform. NULL when it is not so. */
static const struct ike_proposal *answer_read(const struct ike_msg *m,
                                              const struct ike_payload *sp, uint8_t proto,
                                              uint8_t spi_size, unsigned types,
                                              uint16_t ids[XF_ESN + 1], uint16_t *keybits)
{
	if (sp->prop_count != 1)
		return NULL;
	const struct ike_proposal *pr = &m->props[sp->prop_first];
	if (pr->protocol != proto || pr->spi_size != spi_size)
		return NULL;
	unsigned seen[XF_ESN + 1] = {0};
	memset(ids, 0, (XF_ESN + 1) * sizeof ids[0]);
	*keybits = 0;
	for (unsigned k = 0; k < pr->xf_count; k++) {
		const struct ike_transform *x = &m->xforms[pr->xf_first + k];
		if (x->type < XF_ENCR || x->type > XF_ESN || !(types & 1u << x->type) ||
		    seen[x->type]++)
			return NULL;
		for (unsigned a = 0; a < x->attr_count; a++) {
			const struct ike_attr *at = &m->attrs[x->attr_first + a];
			if (at->type != ATTR_KEY_LENGTH || x->type != XF_ENCR)
				return NULL;
			*keybits = (uint16_t)at->value;
		}
		ids[x->type] = x->id;
	}
	if (ids[XF_ENCR] == IKE2_ENCR_3DES)
		*keybits = 0;
	return pr;
}

/* The responder's choice: one proposal of ours, as offered. */
static bool ike_answer(struct ikev2i *sa, const struct ike_payload *sp, struct ikev2_prop *pick)
{
	uint16_t ids[XF_ESN + 1], keybits;
	unsigned types = 1u << XF_ENCR | 1u << XF_PRF | 1u << XF_INTEG | 1u << XF_DH;
	if (!answer_read(&sa->s->m, sp, PROTO_IKE, 0, types, ids, &keybits))
		return false;
	for (size_t i = 0; i < sa->conf->n_ike; i++) {
		const struct ikev2_prop *p = &sa->conf->ike[i];
		if (p->encr == ids[XF_ENCR] && p->keybits == keybits && p->integ == ids[XF_INTEG] &&
		    p->prf == ids[XF_PRF] && p->group == ids[XF_DH]) {
			*pick = *p;
			return true;
		}
	}
	return false;
}

static void auth1_send(struct ikev2i *sa, uint64_t now);

static void init_resp(struct ikev2i *sa, const uint8_t *raw, size_t len, uint64_t now)
{
	const struct ike_msg *m = &sa->s->m;
	char nb[64];
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type != IKE2_PL_N)
			continue;
		if (p->notify == N_COOKIE) {
			if (p->data_len < 1 || p->data_len > sizeof sa->cookie) {
				fail(sa, "ike.payload-malformed", "COOKIE of %zu bytes (1 to 64)", p->data_len);
				return;
			}
			if (sa->cookies >= IKEV2I_COOKIES_MAX) {
				fail(sa, "ike.v2.cookie-rejected", "the responder demands a cookie again after "
				     "%u answered", sa->cookies);
				return;
			}
			sa->cookies++;
			memcpy(sa->cookie, p->data, p->data_len);
			sa->cookie_len = p->data_len;
			ev(sa, IKEV2_EV_INFO, "the responder demands a cookie (%zu bytes): IKE_SA_INIT "
			   "again with it", p->data_len);
			init_send(sa, now);
			return;
		}
		if (p->notify == N_INVALID_KE) {
			uint16_t g = p->data_len == 2 ? ike_get16(p->data) : 0;
			if (!g || !group_offered(sa->conf, g) || g == sa->group ||
			    !ike_dh_supported(g) || sa->ke_retries >= INIT_RETRIES_KE) {
				fail(sa, "ike.v2.no-proposal", "INVALID_KE_PAYLOAD asks for DH group %u: %s", g,
				     !g ? "no group in it" : g == sa->group ? "the group of our KE"
				     : sa->ke_retries >= INIT_RETRIES_KE ? "too many retries"
				     : "a group we did not offer");
				return;
			}
			ev(sa, IKEV2_EV_INFO, "INVALID_KE_PAYLOAD: the responder wants DH group %u, not "
			   "%u: IKE_SA_INIT again", g, sa->group);
			sa->ke_retries++;
			sa->group = g;
			ike_dh_free(sa->dh);
			sa->dh = NULL;
			init_send(sa, now);
			return;
		}
	}
	uint16_t err = error_notify(m);
	if (err) {
		fail(sa, err == N_NO_PROPOSAL ? "ike.v2.no-proposal" : "ike.v2.refused",
		     "the responder answered IKE_SA_INIT with %s", notify_text(err, nb, sizeof nb));
		return;
	}
	const struct ike_payload *sp = find(m, IKE2_PL_SA), *ke = find(m, IKE2_PL_KE),
	                         *nr = find(m, IKE2_PL_NONCE);
	static const uint8_t zero8[8];
	if (!sp || !ke || !nr || nr->data_len < 16 || nr->data_len > sizeof sa->nr ||
	    !memcmp(m->rspi, zero8, 8) || len > IKEV2_DATAGRAM_MAX) {
		fail(sa, "ike.payload-malformed", "IKE_SA_INIT response %s", !sp ? "without SA"
		     : !ke ? "without KE" : !nr ? "without a nonce" : !memcmp(m->rspi, zero8, 8)
		     ? "without the responder's SPI" : "with a nonce not of 16 to 256 bytes");
		return;
	}
	struct ikev2_prop pick;
	if (!ike_answer(sa, sp, &pick) || pick.group != sa->group) {
		fail(sa, "ike.v2.no-proposal", "the responder chose no proposal we offered%s",
		     ike_answer(sa, sp, &pick) ? " with the group of our KE" : "");
		return;
	}
	uint8_t gir[IKE_DH_MAX];
	size_t gl = 0;
	if (ke->group != sa->group || ke->data_len != ike_dh_ke_len(sa->group) ||
	    !(gl = ike_dh_shared(sa->dh, ke->data, ke->data_len, gir, sizeof gir))) {
		fail(sa, "ike.payload-malformed", "the responder's KE (group %u, %zu bytes) is not a "
		     "value of DH group %u", ke->group, ke->data_len, sa->group);
		return;
	}
	memcpy(sa->rspi, m->rspi, 8);
	memcpy(sa->nr, nr->data, nr->data_len);
	sa->nr_len = nr->data_len;
	memset(&sa->k, 0, sizeof sa->k);
	bool ok = ikev2_keys_shape(&sa->k, &pick) && keys_derive(sa, gir, gl);
	OPENSSL_cleanse(gir, sizeof gir);
	if (!ok) {
		fail(sa, "ike.v2.internal", "key derivation failed");
		return;
	}
	ike_dh_free(sa->dh);
	sa->dh = NULL;
	/* NAT detection: the responder's source hash is of its own address as it sees it,
	 * its destination hash of ours as it saw it */
	bool src_seen = false, src_match = false, dst_seen = false, dst_match = false;
	uint8_t hp[20], hl[20];
	ikev2_natd_hash(sa->ispi, sa->rspi, &sa->peer, hp);
	ikev2_natd_hash(sa->ispi, sa->rspi, &sa->local, hl);
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE2_PL_N && p->notify == N_NATD_SRC) {
			src_seen = true;
			src_match |= p->data_len == 20 && !memcmp(p->data, hp, 20);
		} else if (p->type == IKE2_PL_N && p->notify == N_NATD_DST) {
			dst_seen = true;
			dst_match |= p->data_len == 20 && !memcmp(p->data, hl, 20);
		}
	}
	sa->init_resp = malloc(len);
	if (!sa->init_resp) {
		fail(sa, "ike.v2.internal", "out of memory");
		return;
	}
	memcpy(sa->init_resp, raw, len);
	sa->init_resp_len = len;
	if (sa->conf->natt && (src_seen || dst_seen)) {
		sa->nat_peer = src_seen && !src_match;
		sa->nat_local = dst_seen && !dst_match;
		if (sa->nat_local || sa->nat_peer)
			ev(sa, IKEV2_EV_INFO, "NAT detected: %s%s%s", sa->nat_local ? "this end is "
			   "behind a NAT" : "", sa->nat_local && sa->nat_peer ? ", " : "",
			   sa->nat_peer ? "the responder is behind a NAT" : "");
		/* RFC 7296 2.23: with a NAT, everything moves to the NAT-T port */
		if (sa->nat_local || sa->nat_peer || sa->conf->force_encap) {
			sa->on_natt = true;
			sa->peer.port = sa->conf->natt_port;
			ev(sa, IKEV2_EV_INFO, "floating to the NAT-T port %u", sa->peer.port);
		}
	}
	ev(sa, IKEV2_EV_TRACE, "IKE_SA_INIT answered: encr %u/%u integ %u prf %u group %u",
	   pick.encr, pick.keybits, pick.integ, pick.prf, pick.group);
	auth1_send(sa, now);
}

/* ---- IKE_AUTH -------------------------------------------------------------------------- */

static const uint8_t ts_lo[4] = {0, 0, 0, 0}, ts_hi[4] = {255, 255, 255, 255};

static void add_ts_all(struct ike_msg *o, uint8_t type)
{
	struct ike_payload *p = ike_add_payload(o, type, NULL, 0);
	if (!p || o->nts >= IKE_MAX_TS)
		return;
	struct ike_ts *t = &o->ts[o->nts++];
	memset(t, 0, sizeof *t);
	t->type = TS_IPV4;
	t->proto = 0;
	t->start_port = 0;
	t->end_port = 65535;
	t->start = ts_lo;
	t->end = ts_hi;
	t->addr_len = 4;
	p->ts_num = 1;
	p->ts_count = 1;
}

/* The first IKE_AUTH: IDi, CP(CFG_REQUEST), SA, TSi, TSr (no AUTH: EAP follows). */
static void auth1_send(struct ikev2i *sa, uint64_t now)
{
	const struct ikev2i_conf *c = sa->conf;
	struct ike_msg *o = &sa->s->o;
	if (c->id_type && c->id && c->id_len && c->id_len <= ID_MAX) {
		sa->idi[0] = c->id_type;
		memcpy(sa->idi + 4, c->id, c->id_len);
		sa->idi_len = 4 + c->id_len;
	} else { /* our address, as Windows */
		sa->idi[0] = ID_IPV4;
		memcpy(sa->idi + 4, sa->local.ip, 4);
		sa->idi_len = 8;
	}
	sa->idi[1] = sa->idi[2] = sa->idi[3] = 0;
	do {
		uint8_t b[4];
		random_bytes(sa, b, 4);
		sa->spi_in = ike_get32(b);
	} while (sa->spi_in < 256);
	uint8_t spi[4];
	ike_put32(spi, sa->spi_in);
	sa->mid = 1;
	msg_begin(sa, IKE2_EXCH_AUTH, false, sa->mid);
	struct ike_payload *ip = ike_add_payload(o, IKE2_PL_IDI, sa->idi + 4, sa->idi_len - 4);
	if (ip)
		ip->id_type = sa->idi[0];
	struct ike_payload *cp = ike_add_payload(o, IKE2_PL_CP, NULL, 0);
	if (cp) {
		cp->id_type = CFG_REQUEST;
		ike_add_attr(o, CP_IP4_ADDRESS, false, 0, NULL, 0);
		if (c->ask_dns)
			ike_add_attr(o, CP_IP4_DNS, false, 0, NULL, 0);
	}
	struct ike_payload *sp = ike_add_payload(o, IKE2_PL_SA, NULL, 0);
	for (size_t i = 0; sp && i < c->n_esp; i++) {
		const struct ikev2_esp_prop *p = &c->esp[i];
		struct ike_proposal *pr = ike_add_proposal(o, sp, (uint8_t)(i + 1), PROTO_ESP, spi, 4);
		if (!pr)
			break;
		ike_add_transform(o, pr, XF_ENCR, p->encr);
		if (p->encr != IKE2_ENCR_3DES)
			ike_add_attr(o, ATTR_KEY_LENGTH, true, p->keybits, NULL, 0);
		if (p->integ)
			ike_add_transform(o, pr, XF_INTEG, p->integ);
		ike_add_transform(o, pr, XF_ESN, 0);
	}
	add_ts_all(o, IKE2_PL_TSI);
	add_ts_all(o, IKE2_PL_TSR);
	sa->state = IKEV2I_AUTH;
	request(sa, now);
}

/* <SignedOctets> of the responder: RealMessage2 | Ni | prf(SK_pr, IDr'), whole. */
static size_t responder_octets(struct ikev2i *sa, uint8_t *out, size_t cap)
{
	uint8_t maced[IKE_HASH_MAX];
	struct ike_iov v[3];
	size_t n = sa->init_resp_len + NONCE_LEN + sa->k.prf_len;
	if (n > cap || !ikev2_signed_octets(&sa->k, false, sa->init_resp, sa->init_resp_len, sa->ni,
	                                    NONCE_LEN, sa->idr, sa->idr_len, v, maced))
		return 0;
	for (size_t i = 0, at = 0; i < 3; at += v[i].n, i++)
		memcpy(out + at, v[i].p, v[i].n);
	return n;
}

/* AUTH = prf(prf(key, "Key Pad for IKEv2"), <SignedOctets>), ours (RealMessage1 | Nr |
 * prf(SK_pi, IDi')) or the responder's (RealMessage2 | Ni | prf(SK_pr, IDr')). */
static bool shared_key_auth(struct ikev2i *sa, bool ours, const uint8_t *key, size_t key_len,
                            uint8_t *out)
{
	uint8_t maced[IKE_HASH_MAX];
	struct ike_iov v[3];
	bool ok = ours ? ikev2_signed_octets(&sa->k, true, sa->init_req, sa->init_req_len, sa->nr,
	                                     sa->nr_len, sa->idi, sa->idi_len, v, maced)
	               : ikev2_signed_octets(&sa->k, false, sa->init_resp, sa->init_resp_len, sa->ni,
	                                     NONCE_LEN, sa->idr, sa->idr_len, v, maced);
	return ok && ikev2_shared_key_auth(&sa->k, key, key_len, v, out);
}

/* The server's signature AUTH (method 1: RSA PKCS#1 v1.5 with SHA1; 14: RFC 7427 with the
 * algorithm it names) with the key of its CERT, which must chain to our trust store.
 * NULL when it verifies, else why not. */
static const char *cert_auth_check(struct ikev2i *sa, const struct ike_payload *auth,
                                   const struct ike_payload *cert, char *why, size_t whysz)
{
	if (!cert || cert->id_type != CERT_X509_SIG)
		return "no X.509 certificate (CERT encoding 4) with the signature";
	const unsigned char *p = cert->data;
	X509 *x = cert->data_len ? d2i_X509(NULL, &p, (long)cert->data_len) : NULL;
	if (!x || p != cert->data + cert->data_len) {
		X509_free(x);
		ERR_clear_error();
		return "its CERT is not an X.509 certificate";
	}
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	const char *res = NULL;
	if (!ctx || !X509_STORE_CTX_init(ctx, sa->conf->trust, x, NULL)) {
		res = "certificate verification could not start";
		goto out;
	}
	if (sa->conf->cert_time)
		X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)sa->conf->cert_time);
	if (X509_verify_cert(ctx) != 1) {
		snprintf(why, whysz, "its certificate does not verify against our CAs: %s",
		         X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		res = why;
		goto out;
	}
	unsigned hash;
	bool pss;
	const uint8_t *sig;
	size_t sl;
	if (auth->id_type != AUTH_RSA && auth->id_type != AUTH_DIGSIG) {
		snprintf(why, whysz, "its AUTH method is %u, not a signature", auth->id_type);
		res = why;
		goto out;
	}
	if (!ike_sig_auth_parse(auth->id_type, auth->data, auth->data_len, &hash, &pss, &sig, &sl)) {
		res = "its AUTH names a signature algorithm we do not take";
		goto out;
	}
	uint8_t *tbs = malloc(sa->init_resp_len + NONCE_LEN + IKE_HASH_MAX);
	size_t tl = tbs ? responder_octets(sa, tbs, sa->init_resp_len + NONCE_LEN + IKE_HASH_MAX) : 0;
	if (!tl || !ike_verify_cert(cert->data, cert->data_len, hash, pss, tbs, tl, sig, sl))
		res = "its signature does not verify with its certificate";
	free(tbs);
out:
	X509_STORE_CTX_free(ctx);
	X509_free(x);
	ERR_clear_error();
	return res;
}

static void eap_in(struct ikev2i *sa, const struct ike_payload *e, uint64_t now);

/* The answer to the first IKE_AUTH: IDr, [CERT], AUTH, EAP (Identity). */
static void auth1_resp(struct ikev2i *sa, uint64_t now)
{
	const struct ike_msg *m = &sa->s->m;
	char nb[64];
	uint16_t err = error_notify(m);
	if (err) {
		fail(sa, err == N_AUTH_FAILED ? "ike.v2.auth-failed" : "ike.v2.refused",
		     "the responder answered IKE_AUTH with %s", notify_text(err, nb, sizeof nb));
		return;
	}
	const struct ike_payload *idr = find(m, IKE2_PL_IDR), *auth = find(m, IKE2_PL_AUTH),
	                         *eap = find(m, IKE2_PL_EAP), *cert = find(m, IKE2_PL_CERT);
	if (!idr || !auth || !eap || idr->body_len < 5 || idr->body_len > sizeof sa->idr) {
		fail(sa, "ike.payload-malformed", "the IKE_AUTH answer %s", !idr ? "has no IDr"
		     : !auth ? "has no AUTH" : !eap ? "has no EAP" : "has an IDr of a size out of bounds");
		return;
	}
	memcpy(sa->idr, idr->body, idr->body_len);
	sa->idr_len = idr->body_len;
	char id[TEXT_PRINTABLE_SIZE(64)];
	text_printable(idr->data, idr->data_len < 64 ? idr->data_len : 64, id, sizeof id);
	if (sa->conf->server_auth == IKEV2_SAUTH_PSK) {
		uint8_t want[IKE_HASH_MAX];
		if (auth->id_type != AUTH_PSK || auth->data_len != sa->k.prf_len ||
		    !shared_key_auth(sa, false, sa->conf->psk, sa->conf->psk_len, want) ||
		    CRYPTO_memcmp(want, auth->data, sa->k.prf_len)) {
			send_auth_failed(sa);
			fail(sa, "ike.v2.psk-mismatch", "the AUTH of the responder %s %s", id,
			     auth->id_type != AUTH_PSK ? "is not of a pre-shared key"
			                               : "does not match: its pre-shared key differs");
			return;
		}
	} else {
		char why[200];
		const char *bad = cert_auth_check(sa, auth, cert, why, sizeof why);
		if (bad) {
			send_auth_failed(sa);
			fail(sa, "ike.v2.auth-failed", "the responder %s does not prove itself: %s", id, bad);
			return;
		}
	}
	ev(sa, IKEV2_EV_TRACE, "the responder %s proved itself (%s); EAP begins", id,
	   sa->conf->server_auth == IKEV2_SAUTH_PSK ? "pre-shared key" : "certificate");
	sa->state = IKEV2I_EAP;
	eap_in(sa, eap, now);
}

/* Send an EAP message in the next IKE_AUTH request. */
static void eap_send(struct ikev2i *sa, size_t len, uint64_t now)
{
	if (!len) {
		fail(sa, "ike.v2.internal", "EAP message could not be built");
		return;
	}
	sa->mid++;
	msg_begin(sa, IKE2_EXCH_AUTH, false, sa->mid);
	ike_add_payload(&sa->s->o, IKE2_PL_EAP, sa->s->eap, len);
	request(sa, now);
}

/* The MS-CHAPv2 Response to the Challenge in d[0..n) (type data: OpCode 1, MS-CHAPv2-ID,
 * MS-Length, Value-Size 16, the challenge, the server's name). */
static void mschap_challenge(struct ikev2i *sa, uint8_t eap_id, const uint8_t *d, size_t n,
                             uint64_t now)
{
	if (n < 4 + 1 + 16 || d[4] != 16) {
		fail(sa, "ike.payload-malformed", "MS-CHAPv2 Challenge of %zu bytes, value size %u", n,
		     n > 4 ? d[4] : 0);
		return;
	}
	const char *user = sa->conf->user;
	const char *hashed = ppp_auth_strip_domain(user);
	memcpy(sa->auth_challenge, d + 5, 16);
	random_bytes(sa, sa->peer_challenge, 16);
	if (mschap2_nt_response(sa->auth_challenge, sa->peer_challenge, hashed, strlen(hashed),
	                        sa->conf->password, strlen(sa->conf->password), sa->nt_response) != 0) {
		fail(sa, "ike.v2.internal", "the MS-CHAPv2 response could not be computed (password "
		     "not usable or no MD4)");
		return;
	}
	sa->have_nt = true;
	size_t ul = strlen(user);
	uint8_t body[4 + 1 + 49 + IKEV2_USER_MAX];
	if (ul > IKEV2_USER_MAX)
		ul = IKEV2_USER_MAX;
	size_t bl = 4 + 1 + 49 + ul;
	body[0] = EAP_MS_RESPONSE;
	body[1] = d[1];
	ike_put16(body + 2, (uint16_t)bl);
	body[4] = 49;
	memcpy(body + 5, sa->peer_challenge, 16);
	memset(body + 21, 0, 8);
	memcpy(body + 29, sa->nt_response, 24);
	body[53] = 0;
	memcpy(body + 54, user, ul);
	ev(sa, IKEV2_EV_TRACE, "MS-CHAPv2 Challenge %u answered", d[1]);
	eap_send(sa, eap_packet_build(sa->s->eap, sizeof sa->s->eap, EAP_RESPONSE, eap_id,
	                              EAP_TYPE_MSCHAPV2, body, bl), now);
}

/* The server's Success: its authenticator response must be the one our password gives. */
static void mschap_success(struct ikev2i *sa, uint8_t eap_id, const uint8_t *d, size_t n,
                           uint64_t now)
{
	const char *hashed = ppp_auth_strip_domain(sa->conf->user);
	const char *pw = sa->conf->password;
	struct eap_mschapv2_keys k;
	int ok = sa->have_nt && n >= 4 + 42
	         ? mschap2_check_authenticator_response(pw, strlen(pw), sa->nt_response,
	                                                sa->peer_challenge, sa->auth_challenge, hashed,
	                                                strlen(hashed), (const char *)d + 4, n - 4)
	         : 0;
	if (ok == 1)
		ok = eap_mschapv2_verify(pw, strlen(pw), sa->conf->user, sa->auth_challenge,
		                         sa->peer_challenge, sa->nt_response, &k);
	if (ok != 1) {
		OPENSSL_cleanse(&k, sizeof k);
		send_auth_failed(sa);
		fail(sa, "ike.v2.auth-failed", "the server's MS-CHAPv2 Success %s",
		     !sa->have_nt ? "came before our Response" : n < 4 + 42
		     ? "has no authenticator response" : "does not prove it knows the password");
		return;
	}
	memcpy(sa->msk, k.msk, sizeof sa->msk);
	OPENSSL_cleanse(&k, sizeof k);
	sa->have_msk = true;
	uint8_t ack = EAP_MS_SUCCESS;
	eap_send(sa, eap_packet_build(sa->s->eap, sizeof sa->s->eap, EAP_RESPONSE, eap_id,
	                              EAP_TYPE_MSCHAPV2, &ack, 1), now);
}

/* The server's Failure ("E=691 R=0 C=... V=3 M=..."): acknowledged; its EAP Failure ends
 * the SA. */
static void mschap_failure(struct ikev2i *sa, uint8_t eap_id, const uint8_t *d, size_t n,
                           uint64_t now)
{
	char text[128];
	size_t tl = n > 4 ? n - 4 : 0;
	if (tl >= sizeof text)
		tl = sizeof text - 1;
	memcpy(text, d + 4, tl);
	text[tl] = 0;
	const char *e = strstr(text, "E=");
	sa->win_error = e ? (unsigned)strtoul(e + 2, NULL, 10) : 0;
	if (!sa->win_error || sa->win_error > 65535)
		sa->win_error = 691;
	char shown[TEXT_PRINTABLE_SIZE(128)];
	text_printable((const uint8_t *)text, tl, shown, sizeof shown);
	ev(sa, IKEV2_EV_INFO, "MS-CHAPv2 Failure: %s", shown);
	uint8_t ack = EAP_MS_FAILURE;
	eap_send(sa, eap_packet_build(sa->s->eap, sizeof sa->s->eap, EAP_RESPONSE, eap_id,
	                              EAP_TYPE_MSCHAPV2, &ack, 1), now);
}

static void final_auth_send(struct ikev2i *sa, uint64_t now);

/* An EAP message of the server in an IKE_AUTH answer. */
static void eap_in(struct ikev2i *sa, const struct ike_payload *e, uint64_t now)
{
	if (e->data_len < 4) {
		fail(sa, "ike.payload-malformed", "EAP message of %zu bytes", e->data_len);
		return;
	}
	if (e->eap_code == EAP_SUCCESS) {
		if (!sa->have_msk) {
			fail(sa, "ike.v2.auth-failed", "EAP Success before the MS-CHAPv2 Success");
			return;
		}
		final_auth_send(sa, now);
		return;
	}
	if (e->eap_code == EAP_FAILURE) {
		char w[32] = "";
		if (sa->win_error)
			snprintf(w, sizeof w, " (error %u)", sa->win_error);
		fail(sa, "ike.v2.auth-failed", "EAP Failure: the server refused %s%s", sa->conf->user, w);
		return;
	}
	if (e->eap_code != EAP_REQUEST || e->data_len < 5) {
		fail(sa, "ike.payload-malformed", "EAP code %u where a request was expected",
		     e->eap_code);
		return;
	}
	const uint8_t *d = e->data + 5;
	size_t n = e->data_len - 5;
	uint8_t id = e->eap_id;
	if (e->eap_type == EAP_IDENTITY) {
		const char *u = sa->conf->user;
		size_t ul = strlen(u) < IKEV2_USER_MAX ? strlen(u) : IKEV2_USER_MAX;
		eap_send(sa, eap_packet_build(sa->s->eap, sizeof sa->s->eap, EAP_RESPONSE, id,
		                              EAP_IDENTITY, (const uint8_t *)u, ul), now);
		return;
	}
	if (e->eap_type != EAP_TYPE_MSCHAPV2) {
		uint8_t want = EAP_TYPE_MSCHAPV2;
		ev(sa, IKEV2_EV_INFO, "EAP type %u asked: NAK, MS-CHAPv2 wanted", e->eap_type);
		eap_send(sa, eap_packet_build(sa->s->eap, sizeof sa->s->eap, EAP_RESPONSE, id, EAP_NAK,
		                              &want, 1), now);
		return;
	}
	if (n < 4) {
		fail(sa, "ike.payload-malformed", "MS-CHAPv2 packet of %zu bytes", n);
		return;
	}
	switch (d[0]) {
	case EAP_MS_CHALLENGE: mschap_challenge(sa, id, d, n, now); break;
	case EAP_MS_SUCCESS: mschap_success(sa, id, d, n, now); break;
	case EAP_MS_FAILURE: mschap_failure(sa, id, d, n, now); break;
	default:
		fail(sa, "ike.payload-malformed", "MS-CHAPv2 OpCode %u from the server", d[0]);
		break;
	}
}

/* The last IKE_AUTH: our AUTH with the MSK. */
static void final_auth_send(struct ikev2i *sa, uint64_t now)
{
	uint8_t *a = sa->s->auth;
	if (!shared_key_auth(sa, true, sa->msk, sizeof sa->msk, a)) {
		fail(sa, "ike.v2.internal", "our AUTH could not be made");
		return;
	}
	sa->mid++;
	msg_begin(sa, IKE2_EXCH_AUTH, false, sa->mid);
	struct ike_payload *ap = ike_add_payload(&sa->s->o, IKE2_PL_AUTH, a, sa->k.prf_len);
	if (ap)
		ap->id_type = AUTH_PSK;
	sa->state = IKEV2I_AUTH_FINAL;
	request(sa, now);
}

/* The responder's ESP choice: one proposal of ours, as offered, with its SPI. */
static bool esp_answer(struct ikev2i *sa, const struct ike_payload *sp,
                       struct ikev2_esp_prop *pick, uint32_t *spi_out)
{
	uint16_t ids[XF_ESN + 1], keybits;
	unsigned types = 1u << XF_ENCR | 1u << XF_INTEG | 1u << XF_DH | 1u << XF_ESN;
	const struct ike_proposal *pr =
		answer_read(&sa->s->m, sp, PROTO_ESP, 4, types, ids, &keybits);
	/* a DH group (no PFS asked) or extended sequence numbers only as id 0 */
	if (!pr || ids[XF_DH] || ids[XF_ESN])
		return false;
	for (size_t i = 0; i < sa->conf->n_esp; i++) {
		const struct ikev2_esp_prop *p = &sa->conf->esp[i];
		if (p->encr == ids[XF_ENCR] && p->keybits == keybits && p->integ == ids[XF_INTEG]) {
			*pick = *p;
			*spi_out = ike_get32(pr->spi);
			return *spi_out >= 256;
		}
	}
	return false;
}

/* KEYMAT = prf+(SK_d, Ni | Nr): the initiator's direction first (our outbound SA). */
static bool child_keys(struct ikev2i *sa, struct ikev2_child *c, const struct ikev2_esp_prop *p)
{
	struct ike_iov s[2] = {{sa->ni, NONCE_LEN}, {sa->nr, sa->nr_len}};
	return ikev2_child_keys(&sa->k, p, s, 2, true, &sa->local, &sa->peer, c);
}

/* The CP reply: the address and up to two DNS servers. */
static void cp_read(struct ikev2i *sa, const struct ike_payload *cp)
{
	const struct ike_msg *m = &sa->s->m;
	if (!cp || cp->id_type != CFG_REPLY)
		return;
	for (unsigned i = 0; i < cp->attr_count; i++) {
		const struct ike_attr *a = &m->attrs[cp->attr_first + i];
		if (a->type == CP_IP4_ADDRESS && a->len == 4 && a->val && !sa->have_vip) {
			memcpy(sa->vip, a->val, 4);
			sa->have_vip = true;
		} else if (a->type == CP_IP4_DNS && a->len == 4 && a->val && sa->n_dns < 2) {
			memcpy(sa->dns[sa->n_dns++], a->val, 4);
		}
	}
}

/* Our address must be what TSi allows, as the responder narrowed it. */
static bool ts_covers(const struct ike_msg *m, const struct ike_payload *p, const uint8_t ip[4])
{
	for (unsigned i = 0; p && i < p->ts_count; i++) {
		const struct ike_ts *t = &m->ts[p->ts_first + i];
		if (t->type == TS_IPV4 && t->addr_len == 4 && memcmp(t->start, ip, 4) <= 0 &&
		    memcmp(ip, t->end, 4) <= 0)
			return true;
	}
	return false;
}

/* The answer to the last IKE_AUTH: the responder's AUTH with the MSK, CP, SA, TSi, TSr. */
static void final_resp(struct ikev2i *sa, uint64_t now)
{
	const struct ike_msg *m = &sa->s->m;
	const struct ike_payload *auth = find(m, IKE2_PL_AUTH);
	uint8_t want[IKE_HASH_MAX];
	char nb[64];
	if (!auth) {
		uint16_t err = error_notify(m);
		fail(sa, err == N_AUTH_FAILED ? "ike.v2.auth-failed" : "ike.payload-malformed",
		     "the last IKE_AUTH answer has no AUTH%s%s", err ? ": " : "",
		     err ? notify_text(err, nb, sizeof nb) : "");
		return;
	}
	if (auth->id_type != AUTH_PSK || auth->data_len != sa->k.prf_len ||
	    !shared_key_auth(sa, false, sa->msk, sizeof sa->msk, want) ||
	    CRYPTO_memcmp(want, auth->data, sa->k.prf_len)) {
		send_auth_failed(sa);
		fail(sa, "ike.v2.auth-failed", "the responder's AUTH after EAP does not match the MSK");
		return;
	}
	sa->state = IKEV2I_ESTABLISHED;
	sa->up_at = now ? now : 1;
	sa->rtx_at = IKEV2_NEVER;
	sa->peer_mid = 0;
	cp_read(sa, find(m, IKE2_PL_CP));
	char vb[40] = "no address";
	if (sa->have_vip)
		snprintf(vb, sizeof vb, "address %u.%u.%u.%u", sa->vip[0], sa->vip[1], sa->vip[2],
		         sa->vip[3]);
	ev(sa, IKEV2_EV_IKE_UP, "IKE SA up: encr %u/%u integ %u prf %u group %u, %s%s%s",
	   sa->k.p.encr, sa->k.p.keybits, sa->k.p.integ, sa->k.p.prf, sa->k.p.group, vb,
	   sa->nat_local || sa->nat_peer ? ", NAT" : "", sa->on_natt ? ", NAT-T port" : "");
	/* the child, or why there is none (the IKE SA stays) */
	const struct ike_payload *sp = find(m, IKE2_PL_SA), *tsi = find(m, IKE2_PL_TSI),
	                         *tsr = find(m, IKE2_PL_TSR);
	uint16_t err = error_notify(m);
	const char *cause = err == N_INTERNAL_ADDRESS_FAILURE ? "ike.internal-address-failure"
	                    : err == N_FAILED_CP_REQUIRED ? "ike.failed-cp-required"
	                    : err == N_TS_UNACCEPTABLE ? "ike.ts-unacceptable"
	                    : err == N_NO_PROPOSAL ? "ike.v2.no-proposal" : "ike.payload-malformed";
	struct ikev2_esp_prop pick;
	uint32_t spi_out = 0;
	struct ikev2_child *c = &sa->child;
	memset(c, 0, sizeof *c);
	c->spi_in = sa->spi_in;
	if (err || !sp || !tsi || !tsr) {
		ev(sa, IKEV2_EV_FAIL, "%s: no child SA: %s", cause, err ? notify_text(err, nb, sizeof nb)
		   : "the answer lacks SA, TSi or TSr");
	} else if (!esp_answer(sa, sp, &pick, &spi_out)) {
		ev(sa, IKEV2_EV_FAIL, "ike.v2.no-proposal: no child SA: the responder chose no ESP "
		   "proposal we offered");
	} else if (sa->have_vip && !ts_covers(m, tsi, sa->vip)) {
		ev(sa, IKEV2_EV_FAIL, "ike.ts-unacceptable: no child SA: TSi does not cover our "
		   "address");
	} else {
		c->spi_out = spi_out;
		c->udp_encap = sa->on_natt;
		if (sa->have_vip)
			memcpy(c->vip, sa->vip, 4);
		if (!child_keys(sa, c, &pick)) {
			fail(sa, "ike.v2.internal", "KEYMAT failed");
			return;
		}
		c->used = true;
		c->born = now;
		c->serial = 1;
		c->expires = IKEV2_NEVER;
		ev(sa, IKEV2_EV_CHILD_UP, "child %08x/%08x up: tunnel %s/%s, %s", c->spi_in, c->spi_out,
		   esp_enc_name(&c->in), esp_auth_name(&c->in), c->udp_encap ? "ESP in UDP" : "ESP");
		if (sa->cbs->child_up)
			sa->cbs->child_up(sa->cbs->ctx, c);
	}
	neg_free(sa);
	OPENSSL_cleanse(sa->msk, sizeof sa->msk);
}

/* ---- the responder's requests ---------------------------------------------------------- */

static void answer_send(struct ikev2i *sa)
{
	size_t len = protect(sa, true, sa->answer, sizeof sa->answer);
	sa->answer_len = len;
	sa->answer_resends = 0;
	send_now(sa, sa->answer, len);
}

/* An INFORMATIONAL request: DELETE of the IKE SA or of our child, a liveness check. */
static void info_request(struct ikev2i *sa)
{
	const struct ike_msg *m = &sa->s->m;
	uint32_t msgid = m->msgid;
	bool delete_ike = false, delete_child = false;
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE2_PL_D && p->protocol == PROTO_IKE)
			delete_ike = true;
		else if (p->type == IKE2_PL_D && p->protocol == PROTO_ESP && p->spi_size == 4)
			for (unsigned k = 0; k < p->nspi && (size_t)(4 * k + 4) <= p->data_len; k++)
				delete_child |= sa->child.used && ike_get32(p->data + 4 * k) == sa->child.spi_out;
	}
	msg_begin(sa, IKE2_EXCH_INFORMATIONAL, true, msgid);
	uint8_t spi[4];
	if (delete_child && !delete_ike) {
		ike_put32(spi, sa->child.spi_in);
		struct ike_payload *d = ike_add_payload(&sa->s->o, IKE2_PL_D, spi, 4);
		if (d) {
			d->protocol = PROTO_ESP;
			d->spi_size = 4;
			d->nspi = 1;
		}
	}
	answer_send(sa);
	if (delete_ike) {
		snprintf(sa->cause, sizeof sa->cause, "ike.v2.deleted-by-peer");
		ev(sa, IKEV2_EV_IKE_DOWN, "IKE SA down: deleted by the responder");
		set_dead(sa);
	} else if (delete_child) {
		sa->child.used = false;
		ev(sa, IKEV2_EV_CHILD_DOWN, "child %08x/%08x down: deleted by the responder",
		   sa->child.spi_in, sa->child.spi_out);
		if (sa->cbs->child_down)
			sa->cbs->child_down(sa->cbs->ctx, &sa->child, "deleted by the responder");
	}
}

/* Does m carry N(REKEY_SA) of the ESP SPI spi (its inbound one: our child's outbound)? */
static bool rekey_of(const struct ike_msg *m, uint32_t spi)
{
	for (unsigned i = 0; spi && i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE2_PL_N && p->notify == N_REKEY_SA && p->protocol == PROTO_ESP &&
		    p->spi_size == 4 && p->spi && ike_get32(p->spi) == spi)
			return true;
	}
	return false;
}

/* The responder rekeys our child (CREATE_CHILD_SA with N(REKEY_SA), SA, Ni, TSi, TSr; no
 * PFS): answered with SA (its proposal, a new SPI of ours), Nr, TSi, TSr; KEYMAT =
 * prf+(SK_d, Ni | Nr), the responder's direction first as the exchange's initiator. The
 * new child replaces the old one at once (the responder deletes the old one next). */
static void child_rekey_request(struct ikev2i *sa, uint64_t now)
{
	const struct ike_msg *m = &sa->s->m;
	uint32_t msgid = m->msgid;
	const struct ike_payload *sp = find(m, IKE2_PL_SA), *ni = find(m, IKE2_PL_NONCE);
	struct ikev2_esp_prop pick;
	uint32_t spi_out = 0;
	uint16_t refuse = 0;
	if (!sp || !ni || ni->data_len < 16 || ni->data_len > 256 || !find(m, IKE2_PL_TSI) ||
	    !find(m, IKE2_PL_TSR))
		refuse = N_INVALID_SYNTAX;
	else if (find(m, IKE2_PL_KE) || !esp_answer(sa, sp, &pick, &spi_out))
		refuse = N_NO_PROPOSAL;
	if (refuse) {
		ev(sa, IKEV2_EV_INFO, "the responder's rekey of child %08x refused: notify %u",
		   sa->child.spi_in, refuse);
		msg_begin(sa, IKE2_EXCH_CREATE_CHILD_SA, true, msgid);
		add_notify(&sa->s->o, refuse, NULL, 0);
		answer_send(sa);
		return;
	}
	struct ikev2_child n;
	memset(&n, 0, sizeof n);
	do {
		uint8_t b[4];
		random_bytes(sa, b, 4);
		n.spi_in = ike_get32(b);
	} while (n.spi_in < 256 || n.spi_in == sa->child.spi_in);
	n.spi_out = spi_out;
	n.udp_encap = sa->child.udp_encap;
	memcpy(n.vip, sa->child.vip, 4);
	uint8_t nr[NONCE_LEN];
	random_bytes(sa, nr, NONCE_LEN);
	struct ike_iov s[2] = {{ni->data, ni->data_len}, {nr, NONCE_LEN}};
	if (!ikev2_child_keys(&sa->k, &pick, s, 2, false, &sa->local, &sa->peer, &n)) {
		msg_begin(sa, IKE2_EXCH_CREATE_CHILD_SA, true, msgid);
		add_notify(&sa->s->o, N_NO_PROPOSAL, NULL, 0);
		answer_send(sa);
		return;
	}
	struct ike_msg *o = &sa->s->o;
	msg_begin(sa, IKE2_EXCH_CREATE_CHILD_SA, true, msgid);
	uint8_t spi[4];
	ike_put32(spi, n.spi_in);
	struct ike_payload *ap = ike_add_payload(o, IKE2_PL_SA, NULL, 0);
	struct ike_proposal *pr = ap ? ike_add_proposal(o, ap, m->props[sp->prop_first].num,
	                                                PROTO_ESP, spi, 4) : NULL;
	if (pr) {
		ike_add_transform(o, pr, XF_ENCR, pick.encr);
		if (pick.encr != IKE2_ENCR_3DES)
			ike_add_attr(o, ATTR_KEY_LENGTH, true, pick.keybits, NULL, 0);
		if (pick.integ)
			ike_add_transform(o, pr, XF_INTEG, pick.integ);
		ike_add_transform(o, pr, XF_ESN, 0);
	}
	ike_add_payload(o, IKE2_PL_NONCE, nr, NONCE_LEN);
	add_ts_all(o, IKE2_PL_TSI);
	add_ts_all(o, IKE2_PL_TSR);
	answer_send(sa);
	if (!sa->answer_len) {
		OPENSSL_cleanse(&n, sizeof n);
		return;
	}
	struct ikev2_child *c = &sa->child;
	uint32_t old_in = c->spi_in, old_out = c->spi_out;
	n.used = true;
	n.born = now;
	n.serial = c->serial + 1;
	n.expires = IKEV2_NEVER;
	if (sa->cbs->child_down)
		sa->cbs->child_down(sa->cbs->ctx, c, "rekeyed by the responder");
	OPENSSL_cleanse(c, sizeof *c);
	*c = n;
	OPENSSL_cleanse(&n, sizeof n);
	sa->spi_in = c->spi_in;
	ev(sa, IKEV2_EV_CHILD_UP, "child %08x/%08x rekeyed by the responder: %08x/%08x", old_in,
	   old_out, c->spi_in, c->spi_out);
	if (sa->cbs->child_up)
		sa->cbs->child_up(sa->cbs->ctx, c);
}

/* The responder rekeys the IKE SA (CREATE_CHILD_SA with SA of one IKE proposal, its new
 * SPI, Ni, KEi): the same suite as the SA's is taken, answered with SA (our new SPI), Nr
 * and KEr of the group. SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), the new keys
 * with its SPI as SPIi: it is the new SA's original initiator (RFC 7296 2.18). The new
 * SA takes over, the child stays, the old SA answers until the responder deletes it. */
static void ike_rekey_request(struct ikev2i *sa)
{
	const struct ike_msg *m = &sa->s->m;
	uint32_t msgid = m->msgid;
	const struct ike_payload *sp = find(m, IKE2_PL_SA), *ni = find(m, IKE2_PL_NONCE),
	                         *ke = find(m, IKE2_PL_KE);
	const struct ikev2_prop *p = &sa->k.p;
	uint16_t ids[XF_ESN + 1], keybits;
	unsigned types = 1u << XF_ENCR | 1u << XF_PRF | 1u << XF_INTEG | 1u << XF_DH;
	const struct ike_proposal *pr =
		answer_read(m, sp, PROTO_IKE, 8, types, ids, &keybits);
	uint16_t refuse = 0;
	if (sa->old.set)
		refuse = N_TEMPORARY_FAILURE; /* one rekey at a time: the old SA must go first */
	else if (!ni || ni->data_len < 16 || ni->data_len > 256 || !ke)
		refuse = N_INVALID_SYNTAX;
	else if (!pr || !memcmp(pr->spi, "\0\0\0\0\0\0\0\0", 8) || ids[XF_ENCR] != p->encr ||
	         (p->encr != IKE2_ENCR_3DES && keybits != p->keybits) ||
	         ids[XF_INTEG] != p->integ || ids[XF_PRF] != p->prf || ids[XF_DH] != p->group ||
	         ke->group != p->group || ke->data_len != ike_dh_ke_len(p->group))
		refuse = N_NO_PROPOSAL;
	uint8_t kr[IKE_DH_MAX], gir[IKE_DH_MAX], seed[IKE_HASH_MAX], nr[NONCE_LEN];
	size_t krl = 0, gl = 0;
	struct ikev2_keys nk;
	memset(&nk, 0, sizeof nk);
	if (!refuse) {
		struct ike_dh *dh = ike_dh_new(p->group);
		krl = dh ? ike_dh_public(dh, kr, sizeof kr) : 0;
		gl = krl ? ike_dh_shared(dh, ke->data, ke->data_len, gir, sizeof gir) : 0;
		ike_dh_free(dh);
		memcpy(nk.ispi, pr->spi, 8);
		do
			random_bytes(sa, nk.rspi, 8);
		while (!memcmp(nk.rspi, "\0\0\0\0\0\0\0\0", 8) || !memcmp(nk.rspi, sa->ispi, 8) ||
		       !memcmp(nk.rspi, sa->rspi, 8));
		random_bytes(sa, nr, NONCE_LEN);
		if (!gl || !ikev2_keys_shape(&nk, p) ||
		    !ike2_skeyseed_rekey(p->prf, sa->k.sk_d, sa->k.prf_len, gir, gl, ni->data,
		                         ni->data_len, nr, NONCE_LEN, seed) ||
		    !ikev2_keys_derive(&nk, seed, ni->data, ni->data_len, nr, NONCE_LEN))
			refuse = N_NO_PROPOSAL;
	}
	OPENSSL_cleanse(gir, sizeof gir);
	OPENSSL_cleanse(seed, sizeof seed);
	msg_begin(sa, IKE2_EXCH_CREATE_CHILD_SA, true, msgid);
	struct ike_msg *o = &sa->s->o;
	if (refuse) {
		ev(sa, IKEV2_EV_INFO, "the responder's rekey of the IKE SA refused: notify %u", refuse);
		add_notify(o, refuse, NULL, 0);
		answer_send(sa);
		OPENSSL_cleanse(&nk, sizeof nk);
		return;
	}
	struct ike_payload *ap = ike_add_payload(o, IKE2_PL_SA, NULL, 0);
	struct ike_proposal *op = ap ? ike_add_proposal(o, ap, pr->num, PROTO_IKE, nk.rspi, 8)
	                             : NULL;
	if (op) {
		ike_add_transform(o, op, XF_ENCR, p->encr);
		if (p->encr != IKE2_ENCR_3DES)
			ike_add_attr(o, ATTR_KEY_LENGTH, true, p->keybits, NULL, 0);
		ike_add_transform(o, op, XF_PRF, p->prf);
		if (p->integ)
			ike_add_transform(o, op, XF_INTEG, p->integ);
		ike_add_transform(o, op, XF_DH, p->group);
	}
	ike_add_payload(o, IKE2_PL_NONCE, nr, NONCE_LEN);
	struct ike_payload *kp = ike_add_payload(o, IKE2_PL_KE, kr, krl);
	if (kp)
		kp->group = p->group;
	answer_send(sa);
	if (!sa->answer_len) {
		OPENSSL_cleanse(&nk, sizeof nk);
		return;
	}
	/* the new SA takes over; the old one, with this answer, until its DELETE */
	sa->old.set = true;
	sa->old.orig_resp = sa->orig_resp;
	memcpy(sa->old.ispi, sa->ispi, 8);
	memcpy(sa->old.rspi, sa->rspi, 8);
	sa->old.k = sa->k;
	sa->old.peer_mid = sa->peer_mid;
	memcpy(sa->old.answer, sa->answer, sa->answer_len);
	sa->old.answer_len = sa->answer_len;
	sa->old.answer_resends = 0;
	sa->k = nk;
	OPENSSL_cleanse(&nk, sizeof nk);
	memcpy(sa->ispi, sa->k.ispi, 8);
	memcpy(sa->rspi, sa->k.rspi, 8);
	sa->orig_resp = true;
	sa->peer_mid = 0;
	sa->mid = UINT32_MAX; /* our next request is 0 */
	sa->answer_len = 0;
	sa->answer_resends = 0;
	char ob[17], nb[17];
	for (int i = 0; i < 8; i++) {
		snprintf(ob + 2 * i, 3, "%02x", (sa->old.orig_resp ? sa->old.rspi : sa->old.ispi)[i]);
		snprintf(nb + 2 * i, 3, "%02x", sa->rspi[i]);
	}
	ev(sa, IKEV2_EV_REKEYED, "IKE SA rekeyed by the responder: our SPI %s -> %s", ob, nb);
}

/* The current SA's message state and the old one's change places. */
static void old_swap(struct ikev2i *sa)
{
	struct iold t;
	t.orig_resp = sa->orig_resp;
	memcpy(t.ispi, sa->ispi, 8);
	memcpy(t.rspi, sa->rspi, 8);
	t.k = sa->k;
	t.peer_mid = sa->peer_mid;
	memcpy(t.answer, sa->answer, sa->answer_len);
	t.answer_len = sa->answer_len;
	t.answer_resends = sa->answer_resends;
	sa->orig_resp = sa->old.orig_resp;
	memcpy(sa->ispi, sa->old.ispi, 8);
	memcpy(sa->rspi, sa->old.rspi, 8);
	sa->k = sa->old.k;
	sa->peer_mid = sa->old.peer_mid;
	memcpy(sa->answer, sa->old.answer, sa->old.answer_len);
	sa->answer_len = sa->old.answer_len;
	sa->answer_resends = sa->old.answer_resends;
	sa->old.orig_resp = t.orig_resp;
	memcpy(sa->old.ispi, t.ispi, 8);
	memcpy(sa->old.rspi, t.rspi, 8);
	sa->old.k = t.k;
	sa->old.peer_mid = t.peer_mid;
	memcpy(sa->old.answer, t.answer, t.answer_len);
	sa->old.answer_len = t.answer_len;
	sa->old.answer_resends = t.answer_resends;
	OPENSSL_cleanse(&t.k, sizeof t.k);
}

/* A request of the responder under the old SA (sa->s->m): an INFORMATIONAL is answered,
 * empty, and its DELETE of the IKE SA ends the old SA only; anything else waits for the
 * new SA (TEMPORARY_FAILURE). Responses under it are not awaited. */
static void old_request(struct ikev2i *sa, const uint8_t *buf, size_t len)
{
	const struct ike_msg *m = &sa->s->m;
	if (m->flags & IKE2_FLAG_R)
		return;
	old_swap(sa);
	bool gone = false;
	if (sa->answer_len && m->msgid + 1 == sa->peer_mid) {
		if (sa->answer_resends < IKEV2_RESENDS) {
			sa->answer_resends++;
			send_now(sa, sa->answer, sa->answer_len);
		}
	} else if (m->msgid == sa->peer_mid && open_protected(sa, buf, len)) {
		sa->peer_mid++;
		msg_begin(sa, m->exchange, true, m->msgid);
		if (m->exchange == IKE2_EXCH_INFORMATIONAL) {
			for (unsigned i = 0; i < m->npl; i++)
				gone |= m->pl[i].type == IKE2_PL_D && m->pl[i].protocol == PROTO_IKE;
		} else {
			add_notify(&sa->s->o, N_TEMPORARY_FAILURE, NULL, 0);
		}
		answer_send(sa);
	}
	old_swap(sa);
	if (gone) {
		ev(sa, IKEV2_EV_TRACE, "the responder deleted the old IKE SA of its rekey");
		OPENSSL_cleanse(&sa->old, sizeof sa->old);
	}
}

static void peer_request(struct ikev2i *sa, const uint8_t *buf, size_t len, uint64_t now)
{
	const struct ike_msg *m = &sa->s->m;
	if (sa->state != IKEV2I_ESTABLISHED) {
		ev(sa, IKEV2_EV_TRACE, "a request of the responder before the SA is up: dropped");
		return;
	}
	if (sa->answer_len && m->msgid + 1 == sa->peer_mid) {
		/* its retransmission: the same answer, a bounded number of times */
		if (sa->answer_resends < IKEV2_RESENDS) {
			sa->answer_resends++;
			send_now(sa, sa->answer, sa->answer_len);
		}
		return;
	}
	if (m->msgid != sa->peer_mid) {
		ev(sa, IKEV2_EV_TRACE, "request %u of the responder dropped: %u expected", m->msgid,
		   sa->peer_mid);
		return;
	}
	uint8_t exch = m->exchange;
	if (!open_protected(sa, buf, len))
		return;
	sa->peer_mid++;
	if (exch == IKE2_EXCH_INFORMATIONAL) {
		info_request(sa);
	} else if (exch == IKE2_EXCH_CREATE_CHILD_SA && rekey_of(m, sa->child.used
	                                                       ? sa->child.spi_out : 0)) {
		child_rekey_request(sa, now);
	} else if (exch == IKE2_EXCH_CREATE_CHILD_SA && find(m, IKE2_PL_SA) &&
	           find(m, IKE2_PL_SA)->prop_count &&
	           m->props[find(m, IKE2_PL_SA)->prop_first].protocol == PROTO_IKE) {
		ike_rekey_request(sa);
	} else {
		/* another SA: TEMPORARY_FAILURE would invite a retry; NO_ADDITIONAL_SAS tells it
		 * this end takes no other SA */
		msg_begin(sa, exch, true, m->msgid);
		add_notify(&sa->s->o, N_NO_ADDITIONAL_SAS, NULL, 0);
		answer_send(sa);
	}
}

/* ---- entry points ---------------------------------------------------------------------- */

static void input(struct ikev2i *sa, const uint8_t *buf, size_t len, bool natt, uint64_t now);
static void old_request(struct ikev2i *sa, const uint8_t *buf, size_t len);

uint64_t ikev2i_input(struct ikev2i *sa, const uint8_t *buf, size_t len, bool natt, uint64_t now)
{
	if (sa->state == IKEV2I_DEAD || sa->state == IKEV2I_START || !scratch(sa))
		return ikev2i_deadline(sa);
	input(sa, buf, len, natt, now);
	scratch_release(sa);
	return ikev2i_deadline(sa);
}

static void input(struct ikev2i *sa, const uint8_t *buf, size_t len, bool natt, uint64_t now)
{
	if (len > IKEV2_DATAGRAM_MAX) {
		ev(sa, IKEV2_EV_INFO, "datagram of %zu bytes dropped (at most %d)", len,
		   IKEV2_DATAGRAM_MAX);
		return;
	}
	struct diag_err err;
	diag_err_clear(&err);
	struct ike_msg *m = &sa->s->m;
	if (ike_decode(buf, len, m, &err) < 0) {
		ev(sa, IKEV2_EV_INFO, "message dropped: offset %zu: %s", err.off, err.reason);
		return;
	}
	bool from_i = m->flags & IKE2_FLAG_I;
	if (m->major == 2 && sa->old.set && !memcmp(m->ispi, sa->old.ispi, 8) &&
	    !memcmp(m->rspi, sa->old.rspi, 8) && from_i == sa->old.orig_resp) {
		old_request(sa, buf, len);
		return;
	}
	if (m->major != 2 || memcmp(m->ispi, sa->ispi, 8) || from_i != sa->orig_resp) {
		ev(sa, IKEV2_EV_TRACE, "message of another SA, version or sender dropped");
		return;
	}
	bool response = m->flags & IKE2_FLAG_R;
	if (sa->state == IKEV2I_INIT) {
		if (!response || m->exchange != IKE2_EXCH_SA_INIT || m->msgid != 0) {
			ev(sa, IKEV2_EV_TRACE, "not the IKE_SA_INIT answer: dropped");
			return;
		}
		sa->heard = true;
		sa->heard_natt |= natt;
		init_resp(sa, buf, len, now);
		return;
	}
	if (memcmp(m->rspi, sa->rspi, 8)) {
		ev(sa, IKEV2_EV_TRACE, "message with another responder SPI dropped");
		return;
	}
	if (!response) {
		peer_request(sa, buf, len, now);
		return;
	}
	if (sa->state == IKEV2I_ESTABLISHED || m->exchange != IKE2_EXCH_AUTH || m->msgid != sa->mid) {
		ev(sa, IKEV2_EV_TRACE, "answer %u (exchange %u) not awaited: dropped", m->msgid,
		   m->exchange);
		return;
	}
	if (!open_protected(sa, buf, len))
		return;
	sa->heard = true;
	sa->heard_natt |= natt;
	if (m->npl && m->pl[0].critical && ike_payload_name(2, m->pl[0].type) == NULL) {
		fail(sa, "ike.payload-malformed", "the answer has an unknown critical payload %u",
		     m->pl[0].type);
		return;
	}
	switch (sa->state) {
	case IKEV2I_AUTH: auth1_resp(sa, now); break;
	case IKEV2I_EAP: {
		const struct ike_payload *e = find(m, IKE2_PL_EAP);
		uint16_t nerr = error_notify(m);
		char nb[64];
		if (!e)
			fail(sa, nerr == N_AUTH_FAILED ? "ike.v2.auth-failed" : "ike.payload-malformed",
			     "an IKE_AUTH answer without EAP%s%s", nerr ? ": " : "",
			     nerr ? notify_text(nerr, nb, sizeof nb) : "");
		else
			eap_in(sa, e, now);
		break;
	}
	case IKEV2I_AUTH_FINAL: final_resp(sa, now); break;
	default: break;
	}
}

uint64_t ikev2i_deadline(const struct ikev2i *sa)
{
	if (sa->state == IKEV2I_DEAD || sa->state == IKEV2I_START ||
	    sa->state == IKEV2I_ESTABLISHED)
		return IKEV2_NEVER;
	return sa->rtx_at < sa->neg_deadline ? sa->rtx_at : sa->neg_deadline;
}

static void timeout(struct ikev2i *sa, const char *what)
{
	if (sa->state == IKEV2I_INIT && !sa->heard)
		fail(sa, "ike.no-reply", "no answer to IKE_SA_INIT (%s)", what);
	else if (sa->on_natt && !sa->heard_natt)
		fail(sa, "ike.no-reply.nat-t", "no answer on the NAT-T port %u (%s)",
		     sa->conf->natt_port, what);
	else
		fail(sa, "ike.phase1-stalled", "the negotiation stopped in state %s (%s)",
		     tok_name(ikev2i_state_names, sa->state), what);
}

uint64_t ikev2i_tick(struct ikev2i *sa, uint64_t now)
{
	if (sa->state == IKEV2I_DEAD || sa->state == IKEV2I_START ||
	    sa->state == IKEV2I_ESTABLISHED)
		return IKEV2_NEVER;
	if (now >= sa->neg_deadline) {
		char w[64];
		snprintf(w, sizeof w, "not completed within %u ms", sa->conf->negotiation_ms);
		timeout(sa, w);
		return IKEV2_NEVER;
	}
	if (now >= sa->rtx_at) {
		if (sa->tries >= sa->conf->retransmits) {
			char w[64];
			snprintf(w, sizeof w, "%u retransmissions", sa->tries);
			timeout(sa, w);
			return IKEV2_NEVER;
		}
		sa->tries++;
		uint64_t wait = (uint64_t)sa->conf->retransmit_ms << (sa->tries < 16 ? sa->tries : 16);
		sa->rtx_at = now + wait;
		ev(sa, IKEV2_EV_INFO, "retransmission %u in state %s", sa->tries,
		   tok_name(ikev2i_state_names, sa->state));
		send_now(sa, sa->last, sa->last_len);
	}
	return ikev2i_deadline(sa);
}

void ikev2i_delete(struct ikev2i *sa, const char *why, uint64_t now)
{
	(void)now;
	if (sa->state == IKEV2I_DEAD)
		return;
	bool was_up = sa->state == IKEV2I_ESTABLISHED;
	if (was_up && scratch(sa)) {
		/* fire and forget: the SA is gone whatever the responder answers */
		msg_begin(sa, IKE2_EXCH_INFORMATIONAL, false, ++sa->mid);
		struct ike_payload *d = ike_add_payload(&sa->s->o, IKE2_PL_D, NULL, 0);
		if (d)
			d->protocol = PROTO_IKE;
		size_t len = protect(sa, false, sa->s->pt, IKEV2_DATAGRAM_MAX);
		send_now(sa, sa->s->pt, len);
	}
	if (!sa->cause[0])
		snprintf(sa->cause, sizeof sa->cause, "ike.v2.deleted");
	if (was_up && sa->child.used)
		ev(sa, IKEV2_EV_CHILD_DOWN, "child %08x/%08x down: %s", sa->child.spi_in,
		   sa->child.spi_out, why);
	ev(sa, was_up ? IKEV2_EV_IKE_DOWN : IKEV2_EV_INFO, "IKE SA %s: %s",
	   was_up ? "down" : "abandoned", why);
	set_dead(sa);
	scratch_release(sa);
}
