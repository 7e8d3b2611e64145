/* IKEv1 responder: Main Mode (PSK or RSA signatures), NAT-T, Quick Mode (transport ESP
 * for L2TP), Informational. See ikev1.h. */
#include "ike/ikev1.h"
#include "ike/ike_bytes.h"
#include "ike/ikev1_keys.h"
#include "ike/ike_list.h"
#include "ike/ike_pool.h"
#include "ike/ike_crypto.h"
#include "ike.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

/* ---- numbers of RFC 2407 / 2409 / 3947 the responder uses ------------------------- */
enum { P1_ENC = 1, P1_HASH = 2, P1_AUTH = 3, P1_GROUP = 4, P1_LIFE_TYPE = 11,
       P1_LIFE_DUR = 12, P1_KEYLEN = 14 };
enum { P2_LIFE_TYPE = 1, P2_LIFE_DUR = 2, P2_GROUP = 3, P2_ENCAP = 4, P2_AUTH = 5,
       P2_KEYLEN = 6 };
enum { AUTH_PSK = 1, AUTH_RSA_SIG = 3 };
enum { CERT_X509_SIG = 4 };      /* certificate encoding: X.509 Certificate - Signature */
enum { XF_KEY_IKE = 1, ESP_3DES = 3, ESP_AES = 12, ESP_AES_GCM_16 = 20 };
enum { AUTH_HMAC_SHA1 = 2, AUTH_HMAC_SHA256 = 5 };
enum { ENCAP_TUNNEL = 1, ENCAP_TRANSPORT = 2, ENCAP_UDP_TUNNEL = 3, ENCAP_UDP_TRANSPORT = 4,
       ENCAP_UDP_TUNNEL_DRAFT = 61443, ENCAP_UDP_TRANSPORT_DRAFT = 61444 };
enum { PROTO_ISAKMP = 1, PROTO_ESP = 3 };
enum { ID_IPV4 = 1, ID_FQDN = 2, ID_USER_FQDN = 3, ID_IPV4_SUBNET = 4, ID_IPV6 = 5,
       ID_IPV6_SUBNET = 6, ID_DER_ASN1_DN = 9 };
enum { N_INVALID_PAYLOAD_TYPE = 1, N_NO_PROPOSAL = 14, N_PAYLOAD_MALFORMED = 16,
       N_INVALID_KEY = 17, N_INVALID_ID = 18, N_INVALID_CERT_ENCODING = 19,
       N_INVALID_CERTIFICATE = 20, N_INVALID_CERT_AUTHORITY = 22, N_INVALID_HASH = 23,
       N_AUTH_FAILED = 24, N_INVALID_SIGNATURE = 25, N_CERT_UNAVAILABLE = 28,
       N_CONNECTED = 16384,
       N_RESPONDER_LIFETIME = 24576, N_INITIAL_CONTACT = 24578, N_R_U_THERE = 36136,
       N_R_U_THERE_ACK = 36137 };
enum natt_kind { NATT_NONE = 0, NATT_DRAFT, NATT_RFC };

#define NONCE_LEN 32
#define KE_MAX IKE_DH_MAX
#define SAI_MAX 1024
#define NATD_MAX 4
#define SIG_MAX 1024   /* an RSA signature of up to 8192 bits */

static const uint8_t VID_NATT_RFC[16] = {0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45,
                                         0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f};
static const uint8_t VID_NATT_02N[16] = {0x90, 0xcb, 0x80, 0x91, 0x3e, 0xbb, 0x69, 0x6e,
                                         0x08, 0x63, 0x81, 0xb5, 0xec, 0x42, 0x7b, 0x1f};
static const uint8_t VID_NATT_02[16] = {0xcd, 0x60, 0x46, 0x43, 0x35, 0xdf, 0x21, 0xf8,
                                        0x7c, 0xfd, 0xb2, 0xfc, 0x68, 0xb4, 0xa6, 0x48};
static const uint8_t VID_DPD[16] = {0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9,
                                    0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00};

const struct tok ikev1_ev_names[] = {
	{IKEV1_EV_TRACE, "trace"}, {IKEV1_EV_INFO, "info"}, {IKEV1_EV_FAIL, "fail"},
	{IKEV1_EV_IKE_UP, "ike-up"}, {IKEV1_EV_IKE_DOWN, "ike-down"},
	{IKEV1_EV_CHILD_UP, "child-up"}, {IKEV1_EV_CHILD_DOWN, "child-down"},
	{IKEV1_EV_INITIAL_CONTACT, "initial-contact"}, {0, NULL},
};
const struct tok ikev1_state_names[] = {
	{IKEV1_MM_START, "start"}, {IKEV1_MM_SA_SENT, "mm-sa-sent"},
	{IKEV1_MM_KE_SENT, "mm-ke-sent"}, {IKEV1_ESTABLISHED, "established"},
	{IKEV1_DEAD, "dead"}, {0, NULL},
};

/* A reply kept for the retransmission of the request it answered: as long as the reply
 * (most are a few hundred bytes; a Main Mode 6 with certificates, a few KB). */
struct replay {
	uint8_t digest[32];      /* SHA2-256 of the request */
	bool have;
	uint8_t *buf;            /* cap bytes, allocated; NULL before the first reply */
	size_t len, cap;
	unsigned resends;
};

/* What an entry point works in and no SA needs between calls: the message being read and
 * the one being built (33 KB each: the decoder's fixed arrays), a decrypted message and
 * an encoded one. Each thread keeps a few and lends one to an SA for the length of a
 * call; a second is in use only while an owner's callback enters another SA (an
 * INITIAL-CONTACT that deletes the peer's older SAs), so the pool stays as deep as such
 * nesting goes. Kept until the process ends. */
struct scratch {
	struct ike_msg m, o;
	uint8_t pt[IKEV1_MSG_MAX], tx[IKEV1_MSG_MAX];
	bool busy;
	struct scratch *next;
};
static _Thread_local struct scratch *scratch_pool;

/* What Main Mode needs and nothing after it: the initiator's SA payload, the exchange's
 * public values and nonces (HASH_I and HASH_R), the key pair and SKEYID. Given back to
 * its pool once message 6 is sent. */
struct mm_part {
	uint8_t sai[SAI_MAX];
	size_t sai_len;
	struct ike_dh *dh;
	uint8_t gxi[KE_MAX], gxr[KE_MAX];
	size_t gx_len;
	uint8_t ni[256], nr[NONCE_LEN];
	size_t ni_len;
	uint8_t skeyid[IKE_HASH_MAX];
};

struct qm_slot {
	bool used;
	uint32_t msgid;
	uint8_t iv[16];
	bool commit;
	uint64_t deadline;
	uint8_t ni[256], nr[NONCE_LEN];
	size_t ni_len;
	struct ikev1_child child;
	struct replay rp;
};

struct ikev1_sa {
	const struct ikev1_conf *conf;
	const struct ikev1_cbs *cbs;
	enum ikev1_state state;
	char cause[48];
	struct ikev1_addr local, peer;
	bool on_4500;
	bool accepted;             /* the message being read was accepted */
	uint8_t ispi[8], rspi[8];

	/* phase 1 */
	struct ikev1_p1_prop p1;
	uint16_t auth;             /* the method agreed: AUTH_PSK or AUTH_RSA_SIG */
	bool cr_miss;              /* the peer asked for CAs our certificate is not from */
	char cr_want[160];         /* the first CA it asked for (escaped) */
	X509 *peer_cert;           /* the peer's certificate, once its signature verified */
	bool qm_seen;              /* a Quick Mode message of the peer was accepted */
	size_t keylen, hlen, block;
	uint32_t life_s;
	enum natt_kind natt;
	bool peer_dpd;
	bool nat_local, nat_peer;
	struct mm_part *mm;        /* Main Mode's material, until message 6 is sent */
	uint8_t skeyid_d[IKE_HASH_MAX], skeyid_a[IKE_HASH_MAX];
	uint8_t ekey[32];
	uint8_t iv[16];            /* phase 1 chain; after MM6 the base of phase-2 IVs */
	char peer_id[TEXT_PRINTABLE_SIZE(160)];
	struct replay rp;          /* Main Mode */

	uint64_t neg_deadline;     /* Main Mode must end by then */
	uint64_t expires;          /* phase-1 lifetime */

	/* taken from their pools when used, NULL when not: most SAs have one child and
	 * no Quick Mode under way */
	struct ikev1_child *child[IKEV1_CHILDREN];
	uint32_t child_serial;
	struct qm_slot *qm[IKEV1_QM_SLOTS];

	/* lent by the pool for the call under way (NULL between calls) */
	struct scratch *sc;
	struct ike_msg *m;         /* the message being read */
	struct ike_msg *o;         /* the message being built */
	uint8_t *pt;               /* a decrypted message (IKEV1_MSG_MAX) */
	uint8_t *tx;               /* an encoded message before encryption (IKEV1_MSG_MAX) */
};

/* Lend sa a scratch for an entry point. True when this call took it (and gives it back
 * with scratch_return); false when the SA holds one already (an owner's callback entered
 * it again: the outer call keeps it) or when none could be allocated (sa->sc stays
 * NULL: nothing can be read or sent). */
static bool scratch_lend(struct ikev1_sa *sa)
{
	if (sa->sc)
		return false;
	struct scratch *x = scratch_pool;
	while (x && x->busy)
		x = x->next;
	if (!x) {
		x = malloc(sizeof *x);
		if (!x)
			return false;
		x->next = scratch_pool;
		scratch_pool = x;
	}
	x->busy = true;
	sa->sc = x;
	sa->m = &x->m;
	sa->o = &x->o;
	sa->pt = x->pt;
	sa->tx = x->tx;
	return true;
}

static void scratch_return(struct ikev1_sa *sa, bool taken)
{
	if (!taken || !sa->sc)
		return;
	sa->sc->busy = false;
	sa->sc = NULL;
	sa->m = sa->o = NULL;
	sa->pt = sa->tx = NULL;
}

static void replay_clear(struct replay *rp)
{
	free(rp->buf);
	memset(rp, 0, sizeof *rp);
}

/* ---- pools of SAs and their parts -------------------------------------------------- */

/* An SA and its parts (Main Mode material, Quick Mode slots, children) come from pools
 * (ike_pool.h); parts used for a moment (Main Mode, Quick Mode) need as many cells as
 * there are negotiations under way, not as many as SAs. */
static _Thread_local struct ike_pool sa_pool = IKE_POOL_INIT(struct ikev1_sa),
                                     mm_pool = IKE_POOL_INIT(struct mm_part),
                                     qm_pool = IKE_POOL_INIT(struct qm_slot),
                                     child_pool = IKE_POOL_INIT(struct ikev1_child);

/* Main Mode's material given back: the key pair freed, SKEYID wiped with the rest. */
static void mm_release(struct ikev1_sa *sa)
{
	if (!sa->mm)
		return;
	ike_dh_free(sa->mm->dh);
	ike_pool_give(&mm_pool, sa->mm);
	sa->mm = NULL;
}

/* A Quick Mode slot emptied: its kept reply freed, its keys wiped, the slot given back. */
static void qm_clear(struct ikev1_sa *sa, struct qm_slot *q)
{
	if (!q)
		return;
	for (int i = 0; i < IKEV1_QM_SLOTS; i++)
		if (sa->qm[i] == q) {
			replay_clear(&q->rp);
			ike_pool_give(&qm_pool, q);
			sa->qm[i] = NULL;
		}
}

/* Child i gone: its keys wiped, the cell given back. */
static void child_release(struct ikev1_sa *sa, int i)
{
	if (sa->child[i])
		ike_pool_give(&child_pool, sa->child[i]);
	sa->child[i] = NULL;
}

/* ---- small helpers ----------------------------------------------------------------- */

static void ev(struct ikev1_sa *sa, enum ikev1_ev kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ev(struct ikev1_sa *sa, enum ikev1_ev kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ikev1_event_v(sa->cbs, kind, fmt, ap);
	va_end(ap);
}

static const char *addr_str(const struct ikev1_addr *a, char *buf, size_t n)
{
	if (a->family == 6)
		snprintf(buf, n, "[%x:%x:...]:%u", a->ip[0] << 8 | a->ip[1], a->ip[2] << 8 | a->ip[3],
		         a->port);
	else
		snprintf(buf, n, "%u.%u.%u.%u:%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3], a->port);
	return buf;
}

static void digest(const uint8_t *p, size_t n, uint8_t out[32])
{
	struct ike_iov v = {p, n};
	ike1_hash(IKE1_HASH_SHA256, &v, 1, out);
}

static void fail(struct ikev1_sa *sa, const char *cause, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void children_down(struct ikev1_sa *sa, const char *why)
{
	for (int i = 0; i < IKEV1_CHILDREN; i++) {
		struct ikev1_child *c = sa->child[i];
		if (!c)
			continue;
		c->used = false;
		ev(sa, IKEV1_EV_CHILD_DOWN, "child %08x/%08x down: %s", c->spi_in, c->spi_out, why);
		if (sa->cbs->child_down)
			sa->cbs->child_down(sa->cbs->ctx, c, why);
		child_release(sa, i);
	}
}

static void set_dead(struct ikev1_sa *sa)
{
	children_down(sa, "IKE SA gone");
	for (int i = 0; i < IKEV1_QM_SLOTS; i++)
		qm_clear(sa, sa->qm[i]);
	mm_release(sa);
	OPENSSL_cleanse(sa->skeyid_d, sizeof sa->skeyid_d);
	OPENSSL_cleanse(sa->skeyid_a, sizeof sa->skeyid_a);
	OPENSSL_cleanse(sa->ekey, sizeof sa->ekey);
	sa->state = IKEV1_DEAD;
}

static void fail(struct ikev1_sa *sa, const char *cause, const char *fmt, ...)
{
	char buf[640];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	snprintf(sa->cause, sizeof sa->cause, "%s", cause);
	ev(sa, IKEV1_EV_FAIL, "%s: %s", cause, buf);
	bool was_up = sa->state == IKEV1_ESTABLISHED;
	set_dead(sa);
	if (was_up)
		ev(sa, IKEV1_EV_IKE_DOWN, "IKE SA down: %s", cause);
}

static void send_raw(struct ikev1_sa *sa, const uint8_t *buf, size_t len)
{
	if (len && sa->cbs->send)
		sa->cbs->send(sa->cbs->ctx, buf, len, sa->on_4500);
}

/* Keep `buf` as the answer to the request with digest `d`, and send it. */
static void send_kept(struct ikev1_sa *sa, struct replay *rp, const uint8_t d[32],
                      const uint8_t *buf, size_t len)
{
	if (len > IKEV1_MSG_MAX)
		return;
	if (len > rp->cap) {
		/* the first at 512 bytes: every later Main Mode reply with a pre-shared key fits */
		size_t cap = len < 512 ? 512 : len;
		uint8_t *nb = realloc(rp->buf, cap);
		if (!nb) { /* not kept: a retransmitted request goes unanswered */
			rp->have = false;
			send_raw(sa, buf, len);
			return;
		}
		rp->buf = nb;
		rp->cap = cap;
	}
	memcpy(rp->digest, d, 32);
	rp->have = true;
	memcpy(rp->buf, buf, len);
	rp->len = len;
	rp->resends = 0;
	send_raw(sa, buf, len);
}

/* The same request again: the kept reply again, a bounded number of times. */
static bool resend_if_same(struct ikev1_sa *sa, struct replay *rp, const uint8_t d[32])
{
	if (!rp->have || memcmp(rp->digest, d, 32))
		return false;
	if (rp->resends >= IKEV1_RESENDS) {
		ev(sa, IKEV1_EV_TRACE, "retransmitted request ignored: reply already sent %u times",
		   rp->resends + 1);
		return true;
	}
	rp->resends++;
	ev(sa, IKEV1_EV_INFO, "retransmitted request: reply sent again (%u)", rp->resends);
	send_raw(sa, rp->buf, rp->len);
	return true;
}

/* ---- configuration ------------------------------------------------------------------ */

void ikev1_conf_default(struct ikev1_conf *c)
{
	memset(c, 0, sizeof *c);
	c->auth_methods = IKEV1_AUTH_PSK;
	static const uint16_t groups[] = {20, 19, 14, 2};
	static const struct { uint16_t enc, bits; } encs[] = {
		{IKE1_ENC_AES_CBC, 256}, {IKE1_ENC_AES_CBC, 128}, {IKE1_ENC_3DES, 0}};
	static const uint16_t hashes[] = {IKE1_HASH_SHA256, IKE1_HASH_SHA1};
	for (size_t e = 0; e < 3; e++)
		for (size_t h = 0; h < 2; h++)
			for (size_t g = 0; g < 4; g++)
				c->p1[c->n_p1++] = (struct ikev1_p1_prop){encs[e].enc, encs[e].bits,
				                                          hashes[h], groups[g]};
	static const struct ikev1_p2_prop p2[] = {
		{ESP_AES, 256, AUTH_HMAC_SHA256}, {ESP_AES, 256, AUTH_HMAC_SHA1},
		{ESP_AES, 128, AUTH_HMAC_SHA256}, {ESP_AES, 128, AUTH_HMAC_SHA1},
		{ESP_AES_GCM_16, 256, 0}, {ESP_AES_GCM_16, 128, 0},
		{ESP_3DES, 0, AUTH_HMAC_SHA256}, {ESP_3DES, 0, AUTH_HMAC_SHA1},
	};
	memcpy(c->p2, p2, sizeof p2);
	c->n_p2 = sizeof p2 / sizeof p2[0];
	c->natt = true;
	c->pfs_allowed = true;
	c->l2tp_port = 1701;
	c->p1_life_max_s = 28800;
	c->p2_life_max_s = 3600;
	c->p2_life_max_kb = 250000;
	c->negotiation_ms = 30000;
}

int ikev1_conf_check(const struct ikev1_conf *c, char *why, size_t whysz)
{
	if (!(c->auth_methods & (IKEV1_AUTH_PSK | IKEV1_AUTH_RSA_SIG))) {
		snprintf(why, whysz, "no authentication method allowed (psk, rsa-sig)");
		return -1;
	}
	if ((c->auth_methods & IKEV1_AUTH_PSK) && (!c->psk || !c->psk_len)) {
		snprintf(why, whysz, "psk is allowed but no pre-shared key is set");
		return -1;
	}
	if (!(c->auth_methods & IKEV1_AUTH_RSA_SIG))
		return 0;
	if (!c->cert || !c->key) {
		snprintf(why, whysz, "rsa-sig is allowed but %s", !c->cert ? "no certificate is set"
		         : "the certificate has no private key");
		return -1;
	}
	if (EVP_PKEY_get_base_id(c->key) != EVP_PKEY_RSA) {
		snprintf(why, whysz, "rsa-sig needs an RSA key; the certificate's key is %s",
		         OBJ_nid2sn(EVP_PKEY_get_base_id(c->key)));
		return -1;
	}
	ERR_set_mark();
	int match = X509_check_private_key(c->cert, c->key);
	ERR_pop_to_mark();
	if (match != 1) {
		snprintf(why, whysz, "the private key does not belong to the certificate");
		return -1;
	}
	if (!c->trust) {
		snprintf(why, whysz, "rsa-sig is allowed but no CA is trusted for the clients' "
		         "certificates");
		return -1;
	}
	return 0;
}

int ikev1_conf_parse_auth(struct ikev1_conf *c, const char *text, char *why, size_t whysz)
{
	unsigned m = 0;
	const char *p = text;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 3 && !strncmp(p, "psk", 3)) {
			m |= IKEV1_AUTH_PSK;
		} else if (n == 7 && !strncmp(p, "rsa-sig", 7)) {
			m |= IKEV1_AUTH_RSA_SIG;
		} else {
			snprintf(why, whysz, "column %zu: \"%.*s\" is not an authentication method "
			         "(psk, rsa-sig)", (size_t)(p - text) + 1, (int)(n > 40 ? 40 : n), p);
			return -1;
		}
		if (!end)
			break;
		p = end + 1;
	}
	c->auth_methods = m;
	return 0;
}

static const char *auth_name(uint16_t a)
{
	return a == AUTH_PSK ? "psk" : a == AUTH_RSA_SIG ? "rsa-sig" : "";
}

static const struct { const char *name; uint16_t enc, bits; } p1_encs[] = {
	{"aes128", IKE1_ENC_AES_CBC, 128}, {"aes256", IKE1_ENC_AES_CBC, 256},
	{"aes192", IKE1_ENC_AES_CBC, 192}, {"3des", IKE1_ENC_3DES, 0},
};
static const struct { const char *name; uint16_t v; } p1_hashes[] = {
	{"sha1", IKE1_HASH_SHA1}, {"sha256", IKE1_HASH_SHA256},
};
static const struct { const char *name; uint16_t v; } groups[] = {
	{"modp1024", 2}, {"modp2048", 14}, {"ecp256", 19}, {"ecp384", 20},
};
static const struct { const char *name; uint16_t xf, bits; } p2_encs[] = {
	{"aes128", ESP_AES, 128}, {"aes256", ESP_AES, 256}, {"3des", ESP_3DES, 0},
	{"aes128gcm16", ESP_AES_GCM_16, 128}, {"aes256gcm16", ESP_AES_GCM_16, 256},
};
static const struct { const char *name; uint16_t v; } p2_auths[] = {
	{"sha1", AUTH_HMAC_SHA1}, {"sha256", AUTH_HMAC_SHA256},
};

/* Split text at commas and each item at dashes; the list replaces the configured one
 * only when every item is understood. */
static int parse_list(struct ikev1_conf *c, const char *text, bool p1, char *why, size_t whysz)
{
	size_t n = 0;
	const char *p = text;
	struct ikev1_p1_prop t1[IKEV1_P1_POLICY_MAX];
	struct ikev1_p2_prop t2[IKEV1_P2_POLICY_MAX];
	struct ike_list_item it;
	while (ike_list_next(text, &p, &it)) {
		int a = -1, b = -1, g = -1;
		if (p1) {
			if (it.nw != 3) {
				snprintf(why, whysz, "column %zu: \"%.*s\" is not ENC-HASH-GROUP", it.col,
				         (int)it.len, it.text);
				return -1;
			}
			IKE_LIST_FIND(p1_encs, it.w[0], it.wl[0], a);
			IKE_LIST_FIND(p1_hashes, it.w[1], it.wl[1], b);
			IKE_LIST_FIND(groups, it.w[2], it.wl[2], g);
			if (a < 0 || b < 0 || g < 0) {
				snprintf(why, whysz, "column %zu: unknown %s \"%.*s\" (aes128, aes256, "
				         "3des; sha1, sha256; modp1024, modp2048, ecp256, ecp384)", it.col,
				         a < 0 ? "encryption" : b < 0 ? "hash" : "group",
				         (int)(a < 0 ? it.wl[0] : b < 0 ? it.wl[1] : it.wl[2]),
				         a < 0 ? it.w[0] : b < 0 ? it.w[1] : it.w[2]);
				return -1;
			}
			if (n == IKEV1_P1_POLICY_MAX) {
				snprintf(why, whysz, "more than %d proposals", IKEV1_P1_POLICY_MAX);
				return -1;
			}
			t1[n++] = (struct ikev1_p1_prop){p1_encs[a].enc, p1_encs[a].bits,
			                                    p1_hashes[b].v, groups[g].v};
		} else {
			IKE_LIST_FIND(p2_encs, it.w[0], it.wl[0], a);
			bool gcm = a >= 0 && p2_encs[a].xf == ESP_AES_GCM_16;
			if (a >= 0 && !gcm && it.nw == 2)
				IKE_LIST_FIND(p2_auths, it.w[1], it.wl[1], b);
			if (a < 0 || (gcm && it.nw != 1) || (!gcm && (it.nw != 2 || b < 0))) {
				snprintf(why, whysz, "column %zu: \"%.*s\" is not ENC-AUTH (aes128, aes256, "
				         "3des; sha1, sha256) or aes128gcm16, aes256gcm16", it.col,
				         (int)it.len, it.text);
				return -1;
			}
			if (n == IKEV1_P2_POLICY_MAX) {
				snprintf(why, whysz, "more than %d proposals", IKEV1_P2_POLICY_MAX);
				return -1;
			}
			t2[n++] = (struct ikev1_p2_prop){p2_encs[a].xf, p2_encs[a].bits,
			                                    gcm ? 0 : p2_auths[b].v};
		}
	}
	if (!n) {
		snprintf(why, whysz, "no proposal");
		return -1;
	}
	if (p1) {
		memcpy(c->p1, t1, n * sizeof t1[0]);
		c->n_p1 = n;
	} else {
		memcpy(c->p2, t2, n * sizeof t2[0]);
		c->n_p2 = n;
	}
	return 0;
}

int ikev1_conf_parse_p1(struct ikev1_conf *c, const char *text, char *why, size_t whysz)
{
	return parse_list(c, text, true, why, whysz);
}

int ikev1_conf_parse_p2(struct ikev1_conf *c, const char *text, char *why, size_t whysz)
{
	return parse_list(c, text, false, why, whysz);
}

static const char *p1_name(const struct ikev1_p1_prop *p, char *buf, size_t n)
{
	const char *e = p->enc == IKE1_ENC_3DES ? "3des" : p->enc == IKE1_ENC_AES_CBC ? "aes" : "enc";
	const char *h = p->hash == IKE1_HASH_SHA1 ? "sha1" : p->hash == IKE1_HASH_SHA256 ? "sha256"
	                : p->hash == IKE1_HASH_MD5 ? "md5" : p->hash == IKE1_HASH_SHA384 ? "sha384"
	                : "hash";
	const char *g = NULL;
	for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
		if (groups[i].v == p->group)
			g = groups[i].name;
	char gb[16];
	if (!g) {
		snprintf(gb, sizeof gb, "group%u", p->group);
		g = gb;
	}
	if (p->enc == IKE1_ENC_AES_CBC)
		snprintf(buf, n, "%s%u-%s-%s", e, p->keybits, h, g);
	else if (p->enc == IKE1_ENC_3DES)
		snprintf(buf, n, "%s-%s-%s", e, h, g);
	else
		snprintf(buf, n, "enc%u-%s-%s", p->enc, h, g);
	return buf;
}

/* ---- creation ---------------------------------------------------------------------- */

struct ikev1_sa *ikev1_new(const struct ikev1_conf *conf, const struct ikev1_cbs *cbs,
                           const struct ikev1_addr *local, const struct ikev1_addr *peer,
                           uint64_t now)
{
	struct ikev1_sa *sa = ike_pool_take(&sa_pool);
	if (!sa)
		return NULL;
	sa->mm = ike_pool_take(&mm_pool);
	if (!sa->mm) {
		ike_pool_give(&sa_pool, sa);
		return NULL;
	}
	sa->conf = conf;
	sa->cbs = cbs;
	sa->local = *local;
	sa->peer = *peer;
	sa->on_4500 = local->port == 4500;
	sa->neg_deadline = now + conf->negotiation_ms;
	sa->expires = IKEV1_NEVER;
	do
		cbs->random(cbs->ctx, sa->rspi, 8);
	while (!memcmp(sa->rspi, "\0\0\0\0\0\0\0\0", 8));
	return sa;
}

void ikev1_free(struct ikev1_sa *sa)
{
	if (!sa)
		return;
	mm_release(sa);
	X509_free(sa->peer_cert);
	replay_clear(&sa->rp);
	for (int i = 0; i < IKEV1_QM_SLOTS; i++)
		qm_clear(sa, sa->qm[i]);
	for (int i = 0; i < IKEV1_CHILDREN; i++)
		child_release(sa, i);
	ike_pool_give(&sa_pool, sa);
}

enum ikev1_state ikev1_state(const struct ikev1_sa *sa) { return sa->state; }
const char *ikev1_cause(const struct ikev1_sa *sa) { return sa->cause; }
const uint8_t *ikev1_ispi(const struct ikev1_sa *sa) { return sa->ispi; }
const uint8_t *ikev1_rspi(const struct ikev1_sa *sa) { return sa->rspi; }
const struct ikev1_addr *ikev1_peer(const struct ikev1_sa *sa) { return &sa->peer; }
bool ikev1_nat(const struct ikev1_sa *sa) { return sa->nat_local || sa->nat_peer; }
const char *ikev1_peer_id(const struct ikev1_sa *sa) { return sa->peer_id; }
const char *ikev1_auth_method(const struct ikev1_sa *sa) { return auth_name(sa->auth); }
X509 *ikev1_peer_cert(const struct ikev1_sa *sa) { return sa->peer_cert; }

const struct ikev1_child *ikev1_child(const struct ikev1_sa *sa, uint32_t spi_in)
{
	for (int i = 0; i < IKEV1_CHILDREN; i++)
		if (sa->child[i] && sa->child[i]->spi_in == spi_in)
			return sa->child[i];
	return NULL;
}

bool ikev1_peek_cookies(const uint8_t *buf, size_t len, uint8_t ispi[8], uint8_t rspi[8])
{
	if (len < IKE_HDR_LEN)
		return false;
	memcpy(ispi, buf, 8);
	memcpy(rspi, buf + 8, 8);
	return true;
}

/* ---- building and protecting messages --------------------------------------------- */

/* A plaintext notify outside any protected exchange (Main Mode failures): SPI = the two
 * cookies, as strongSwan and Windows send it. */
static void send_plain_notify(struct ikev1_sa *sa, uint16_t type)
{
	uint8_t msgid[4], spi[16];
	if (!sa->o)
		return;
	sa->cbs->random(sa->cbs->ctx, msgid, 4);
	memcpy(spi, sa->ispi, 8);
	memcpy(spi + 8, sa->rspi, 8);
	ike_msg_init(sa->o, 1, IKE1_EXCH_INFO, 0, ike_get32(msgid), sa->ispi, sa->rspi);
	struct ike_payload *n = ike_add_payload(sa->o, IKE1_PL_N, NULL, 0);
	n->protocol = PROTO_ISAKMP;
	n->spi = spi;
	n->spi_size = 16;
	n->notify = type;
	size_t len = ike_encode(sa->o, sa->tx, IKEV1_MSG_MAX);
	send_raw(sa, sa->tx, len);
}

/* Encrypt the encoded message msg[0..len) (header included) with `iv`, which becomes
 * the last ciphertext block. The body is padded with zeros to the block. */
static size_t seal(struct ikev1_sa *sa, const uint8_t *msg, size_t len, uint8_t *iv,
                   uint8_t *out, size_t cap)
{
	size_t body = len - IKE_HDR_LEN;
	size_t padded = (body + sa->block - 1) / sa->block * sa->block;
	if (len < IKE_HDR_LEN || IKE_HDR_LEN + padded > cap || !padded)
		return 0;
	memcpy(out, msg, IKE_HDR_LEN);
	memcpy(out + IKE_HDR_LEN, msg + IKE_HDR_LEN, body);
	memset(out + IKE_HDR_LEN + body, 0, padded - body);
	if (!ike1_cbc(sa->p1.enc, sa->ekey, sa->keylen, iv, out + IKE_HDR_LEN, padded,
	              out + IKE_HDR_LEN, true))
		return 0;
	memcpy(iv, out + IKE_HDR_LEN + padded - sa->block, sa->block);
	out[19] |= IKE1_FLAG_E;
	ike_put32(out + 24, (uint32_t)(IKE_HDR_LEN + padded));
	return IKE_HDR_LEN + padded;
}

/* Decrypt the message `raw` (decoded in sa->m) with `iv` into sa->pt and decode it into
 * sa->m again. `next_iv` gets the last ciphertext block. 1 ok, 0 the body is not whole
 * blocks, -1 the plaintext does not decode (err says why). */
static int unseal(struct ikev1_sa *sa, const uint8_t *raw, size_t len, const uint8_t *iv,
                  uint8_t *next_iv, struct diag_err *err)
{
	const struct ike_payload *e = &sa->m->pl[0];
	size_t n = e->data_len;
	if (!sa->m->npl || !e->encrypted || !n || n % sa->block || e->data < raw ||
	    e->data + n > raw + len || IKE_HDR_LEN + n > IKEV1_MSG_MAX)
		return 0;
	if (!ike1_cbc(sa->p1.enc, sa->ekey, sa->keylen, iv, e->data, n, sa->pt + IKE_HDR_LEN, false))
		return 0;
	memcpy(next_iv, e->data + n - sa->block, sa->block);
	memcpy(sa->pt, raw, IKE_HDR_LEN);
	sa->pt[19] &= (uint8_t)~IKE1_FLAG_E;
	ike_put32(sa->pt + 24, (uint32_t)(IKE_HDR_LEN + n));
	diag_err_clear(err);
	if (ike_decode(sa->pt, IKE_HDR_LEN + n, sa->m, err) < 0)
		return -1;
	if (!sa->m->npl) {
		diag_err_set(err, IKE_HDR_LEN, "no payload");
		return -1;
	}
	return 1;
}

/* The IV of a phase-2 exchange: hash(last phase-1 block | message ID). */
static bool p2_iv(const struct ikev1_sa *sa, uint32_t msgid, uint8_t *iv)
{
	uint8_t mid[4], d[IKE_HASH_MAX];
	ike_put32(mid, msgid);
	struct ike_iov v[2] = {{sa->iv, sa->block}, {mid, 4}};
	if (!ike1_hash(sa->p1.hash, v, 2, d))
		return false;
	memcpy(iv, d, sa->block);
	return true;
}

/* The bytes a phase-2 HASH covers: every payload after the first (the HASH) up to the
 * end of the last, padding excluded. */
static bool after_hash(const struct ike_msg *m, const uint8_t *base, const uint8_t **p, size_t *n)
{
	if (!m->npl || m->pl[0].type != IKE1_PL_HASH)
		return false;
	size_t from = m->pl[0].off + m->pl[0].len;
	const struct ike_payload *last = &m->pl[m->npl - 1];
	size_t to = last->off + last->len;
	if (to < from)
		return false;
	*p = base + from;
	*n = to - from;
	return true;
}

/* Encode sa->o (first payload a HASH of hlen zero bytes), fill the HASH with
 * prf(SKEYID_a, [0 |] M-ID | [Ni_b |] rest [| Nr_b]) as `kind` says, encrypt with `iv`. */
enum hash_kind { HASH_1, HASH_2 };
static size_t build_protected(struct ikev1_sa *sa, enum hash_kind kind, const uint8_t *ni,
                              size_t ni_len, uint8_t *iv, uint8_t *out, size_t cap)
{
	size_t len = ike_encode(sa->o, sa->tx, IKEV1_MSG_MAX);
	if (!len)
		return 0;
	uint8_t mid[4];
	ike_put32(mid, sa->o->msgid);
	size_t from = IKE_HDR_LEN + 4 + sa->hlen;
	struct ike_iov v[3];
	size_t nv = 0;
	v[nv++] = (struct ike_iov){mid, 4};
	if (kind == HASH_2)
		v[nv++] = (struct ike_iov){ni, ni_len};
	v[nv++] = (struct ike_iov){sa->tx + from, len - from};
	if (!ike1_prf(sa->p1.hash, sa->skeyid_a, sa->hlen, v, nv, sa->tx + IKE_HDR_LEN + 4))
		return 0;
	return seal(sa, sa->tx, len, iv, out, cap);
}

/* A protected Informational exchange with one N or D payload (built by `fill`). */
static void send_info(struct ikev1_sa *sa, uint8_t pltype, uint8_t protocol, uint16_t notify,
                      const uint8_t *spi, uint8_t spi_size, uint16_t nspi, const uint8_t *data,
                      size_t data_len)
{
	uint8_t mid[4], iv[16], zero[IKE_HASH_MAX] = {0}, out[IKEV1_MSG_MAX];
	if (!sa->o)
		return;
	do
		sa->cbs->random(sa->cbs->ctx, mid, 4);
	while (!ike_get32(mid));
	ike_msg_init(sa->o, 1, IKE1_EXCH_INFO, 0, ike_get32(mid), sa->ispi, sa->rspi);
	ike_add_payload(sa->o, IKE1_PL_HASH, zero, sa->hlen);
	struct ike_payload *p = ike_add_payload(sa->o, pltype, data, data_len);
	p->protocol = protocol;
	if (pltype == IKE1_PL_N) {
		p->spi = spi;
		p->spi_size = spi_size;
		p->notify = notify;
	} else {
		p->spi_size = spi_size;
		p->nspi = nspi;
		p->data = spi;
		p->data_len = (size_t)spi_size * nspi;
	}
	if (!p2_iv(sa, sa->o->msgid, iv))
		return;
	size_t len = build_protected(sa, HASH_1, NULL, 0, iv, out, sizeof out);
	send_raw(sa, out, len);
}

static void send_notify_p(struct ikev1_sa *sa, uint16_t type, uint8_t protocol,
                          const uint8_t *spi, uint8_t spi_size, const uint8_t *data, size_t n)
{
	send_info(sa, IKE1_PL_N, protocol, type, spi, spi_size, 0, data, n);
}

static void send_delete_child(struct ikev1_sa *sa, uint32_t spi_in)
{
	uint8_t spi[4];
	ike_put32(spi, spi_in);
	send_info(sa, IKE1_PL_D, PROTO_ESP, 0, spi, 4, 1, NULL, 0);
}

static void send_delete_ike(struct ikev1_sa *sa)
{
	uint8_t spi[16];
	memcpy(spi, sa->ispi, 8);
	memcpy(spi + 8, sa->rspi, 8);
	send_info(sa, IKE1_PL_D, PROTO_ISAKMP, 0, spi, 16, 1, NULL, 0);
}

/* ---- certificates (RSA signatures, RFC 2409 5.1) ------------------------------------- */

/* The signature RFC 2409 asks of RSA: the hash itself "encoded as a private key
 * encryption in PKCS #1 format" (block type 1 padding, no DigestInfo), as Windows and
 * strongSwan send it. 0 when it failed. */
static size_t rsa_sign(EVP_PKEY *k, const uint8_t *h, size_t hl, uint8_t *out, size_t cap)
{
	size_t n = cap;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	if (!c || EVP_PKEY_get_size(k) <= 0 || (size_t)EVP_PKEY_get_size(k) > cap ||
	    EVP_PKEY_sign_init(c) <= 0 || EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_sign(c, out, &n, h, hl) <= 0)
		n = 0;
	EVP_PKEY_CTX_free(c);
	ERR_clear_error();
	return n;
}

static bool rsa_verify(EVP_PKEY *k, const uint8_t *h, size_t hl, const uint8_t *sig, size_t sl)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	bool ok = c && EVP_PKEY_verify_init(c) > 0 &&
	          EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) > 0 &&
	          EVP_PKEY_verify(c, sig, sl, h, hl) == 1;
	EVP_PKEY_CTX_free(c);
	ERR_clear_error();
	return ok;
}

/* Is `n` a CA of our certificate's chain (its issuer, or a certificate we send after it
 * or that one's issuer)? */
static bool chain_has_ca(const struct ikev1_conf *c, const X509_NAME *n)
{
	if (!X509_NAME_cmp(X509_get_issuer_name(c->cert), n))
		return true;
	for (int i = 0; c->chain && i < sk_X509_num(c->chain); i++) {
		X509 *x = sk_X509_value(c->chain, i);
		if (!X509_NAME_cmp(X509_get_subject_name(x), n) ||
		    !X509_NAME_cmp(X509_get_issuer_name(x), n))
			return true;
	}
	return false;
}

/* The peer's CERTREQ payloads (Main Mode 3) name the CAs it accepts our certificate
 * from; an empty one takes any. The certificate goes out whatever they say (the server
 * has the one certificate its store gives for L2TP, as Windows does); a request it does
 * not meet makes a log line and is kept to explain the peer's refusal. */
static void peer_certreqs(struct ikev1_sa *sa, const struct ike_payload *const *cr, size_t ncr)
{
	bool met = false, any = false;
	size_t named = 0;
	for (size_t i = 0; i < ncr; i++) {
		if (cr[i]->id_type != CERT_X509_SIG)
			continue;
		if (!cr[i]->data_len) {
			any = true;
			continue;
		}
		const unsigned char *p = cr[i]->data;
		X509_NAME *n = d2i_X509_NAME(NULL, &p, (long)cr[i]->data_len);
		if (!n || p != cr[i]->data + cr[i]->data_len) {
			ev(sa, IKEV1_EV_TRACE, "a CERTREQ that is not a distinguished name ignored");
		} else {
			if (!named++)
				ike_name_text(n, sa->cr_want, sizeof sa->cr_want);
			met |= chain_has_ca(sa->conf, n);
		}
		X509_NAME_free(n);
	}
	ERR_clear_error();
	if (!named || met || any)
		return;
	sa->cr_miss = true;
	char ours[TEXT_PRINTABLE_SIZE(100)];
	ike_name_text(X509_get_issuer_name(sa->conf->cert), ours, sizeof ours);
	ev(sa, IKEV1_EV_INFO, "the peer asks for a certificate from %s%s; ours is issued by %s: "
	   "it will likely refuse it (Windows clients show error 787)", sa->cr_want,
	   named > 1 ? " or another of the CAs it names" : "", ours);
}

/* DER names of the CAs the clients' certificates may chain to, for the CERTREQ payloads
 * of Main Mode 4: at most IKEV1_CR_MAX, each allocated (OPENSSL_free). */
static size_t trust_names(X509_STORE *st, unsigned char **der, size_t *len)
{
	size_t n = 0;
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(st);
	for (int i = 0; objs && i < sk_X509_OBJECT_num(objs) && n < IKEV1_CR_MAX; i++) {
		X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
		if (!x || X509_check_ca(x) == 0)
			continue;
		unsigned char *p = NULL;
		int l = i2d_X509_NAME(X509_get_subject_name(x), &p);
		if (l <= 0)
			continue;
		der[n] = p;
		len[n++] = (size_t)l;
	}
	ERR_clear_error();
	return n;
}

/* Does the ID payload name the certificate: its subject (ID_DER_ASN1_DN) or a subject
 * alternative name of the ID's type (FQDN, USER_FQDN, an address)? */
static bool id_matches_cert(const struct ike_payload *id, X509 *x)
{
	return ike_id_matches_cert(id->id_type, id->data, id->data_len, x);
}

/* ---- Main Mode ----------------------------------------------------------------------- */

struct p1_offer {
	struct ikev1_p1_prop p;
	uint16_t auth;
	uint32_t life_s;
	bool unknown;  /* an attribute the responder does not know */
};

static void p1_read(const struct ike_msg *m, const struct ike_transform *x, struct p1_offer *o)
{
	memset(o, 0, sizeof *o);
	uint16_t life_type = 0;
	for (unsigned k = 0; k < x->attr_count; k++) {
		const struct ike_attr *a = &m->attrs[x->attr_first + k];
		switch (a->type) {
		case P1_ENC: o->p.enc = (uint16_t)a->value; break;
		case P1_HASH: o->p.hash = (uint16_t)a->value; break;
		case P1_AUTH: o->auth = (uint16_t)a->value; break;
		case P1_GROUP: o->p.group = (uint16_t)a->value; break;
		case P1_KEYLEN: o->p.keybits = (uint16_t)a->value; break;
		case P1_LIFE_TYPE: life_type = (uint16_t)a->value; break;
		case P1_LIFE_DUR:
			if (life_type == 1 && (a->tv || a->len <= 4))
				o->life_s = a->value;
			break;
		default: o->unknown = true; break;
		}
	}
}

/* Is the offer's authentication method one this responder takes? NULL when it is, else
 * why not (for the log line). */
static const char *p1_method_refused(const struct ikev1_conf *c, uint16_t auth)
{
	unsigned m = c->auth_methods ? c->auth_methods : IKEV1_AUTH_PSK;
	if (auth == AUTH_PSK)
		return m & IKEV1_AUTH_PSK ? NULL : "psk, not allowed";
	if (auth == AUTH_RSA_SIG)
		return !(m & IKEV1_AUTH_RSA_SIG) ? "rsa-sig, not allowed"
		       : !c->cert || !c->key || !c->trust ? "rsa-sig, no certificate configured" : NULL;
	return "method not supported";
}

static bool p1_allowed(const struct ikev1_conf *c, const struct p1_offer *o)
{
	if (o->unknown || p1_method_refused(c, o->auth))
		return false;
	for (size_t i = 0; i < c->n_p1; i++) {
		const struct ikev1_p1_prop *p = &c->p1[i];
		if (p->enc == o->p.enc && p->hash == o->p.hash && p->group == o->p.group &&
		    (p->enc != IKE1_ENC_AES_CBC || p->keybits == o->p.keybits) &&
		    (p->enc != IKE1_ENC_3DES || !o->p.keybits || o->p.keybits == 192))
			return true;
	}
	return false;
}

static enum natt_kind vid_natt(const uint8_t *v, size_t n)
{
	if (n == 16 && !memcmp(v, VID_NATT_RFC, 16))
		return NATT_RFC;
	if (n == 16 && (!memcmp(v, VID_NATT_02N, 16) || !memcmp(v, VID_NATT_02, 16)))
		return NATT_DRAFT;
	return NATT_NONE;
}

static uint8_t natd_type(const struct ikev1_sa *sa)
{
	return sa->natt == NATT_DRAFT ? IKE1_PL_NATD_DRAFT : IKE1_PL_NATD;
}

static void mm1(struct ikev1_sa *sa, const uint8_t d[32])
{
	const struct ike_msg *m = sa->m;
	const struct ike_payload *sap = NULL;
	char vendors[160] = "";
	size_t vl = 0;
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE1_PL_SA) {
			if (sap) {
				send_plain_notify(sa, N_PAYLOAD_MALFORMED);
				fail(sa, "ike.v1.malformed", "Main Mode 1 with two SA payloads");
				return;
			}
			sap = p;
		} else if (p->type == IKE1_PL_VID) {
			enum natt_kind k = vid_natt(p->data, p->data_len);
			if (k > sa->natt && sa->conf->natt)
				sa->natt = k;
			if (p->data_len == 16 && !memcmp(p->data, VID_DPD, 16))
				sa->peer_dpd = true;
			const char *name = ike_vendor_name(p->data, p->data_len);
			if (name && vl < sizeof vendors - 2)
				vl += (size_t)snprintf(vendors + vl, sizeof vendors - vl, "%s%s",
				                       vl ? ", " : "", name);
		}
	}
	if (vl)
		ev(sa, IKEV1_EV_INFO, "peer vendor IDs: %s", vendors);
	if (!sap || !sap->prop_count || sap->doi != 1 || sap->situation != 1 ||
	    sap->body_len > SAI_MAX) {
		send_plain_notify(sa, N_PAYLOAD_MALFORMED);
		fail(sa, "ike.v1.malformed", "Main Mode 1 %s",
		     !sap ? "without an SA payload" : sap->body_len > SAI_MAX ? "SA payload too long"
		     : "SA payload not of the IPsec DOI with a proposal");
		return;
	}
	const struct ike_proposal *pr = &m->props[sap->prop_first];
	const struct ike_transform *chosen = NULL;
	struct p1_offer off, pick;
	char offered[200] = "";
	size_t ol = 0;
	for (unsigned k = 0; pr->protocol == PROTO_ISAKMP && k < pr->xf_count; k++) {
		const struct ike_transform *x = &m->xforms[pr->xf_first + k];
		if (x->id != XF_KEY_IKE)
			continue;
		p1_read(m, x, &off);
		char nb[48], mb[64] = "";
		const char *refused = p1_method_refused(sa->conf, off.auth);
		if (refused)
			snprintf(mb, sizeof mb, " (auth %u: %s)", off.auth, refused);
		if (ol < sizeof offered - 2)
			ol += (size_t)snprintf(offered + ol, sizeof offered - ol, "%s%s%s", ol ? ", " : "",
			                       p1_name(&off.p, nb, sizeof nb), mb);
		if (!chosen && p1_allowed(sa->conf, &off)) {
			chosen = x;
			pick = off;
		}
	}
	if (!chosen) {
		char cb[200] = "", nb[48];
		size_t cl = 0;
		for (size_t i = 0; i < sa->conf->n_p1 && cl < sizeof cb - 2; i++)
			cl += (size_t)snprintf(cb + cl, sizeof cb - cl, "%s%s", cl ? ", " : "",
			                       p1_name(&sa->conf->p1[i], nb, sizeof nb));
		send_plain_notify(sa, N_NO_PROPOSAL);
		fail(sa, "ike.v1.no-proposal", "no Main Mode proposal acceptable: offered %s; "
		     "configured %s", ol ? offered : "none", cb);
		return;
	}
	sa->p1 = pick.p;
	sa->auth = pick.auth;
	if (pick.p.enc == IKE1_ENC_3DES)
		sa->p1.keybits = 192;
	sa->keylen = sa->p1.keybits / 8;
	sa->hlen = ike1_hash_len(sa->p1.hash);
	sa->block = ike1_block(sa->p1.enc);
	uint32_t cap = sa->conf->p1_life_max_s ? sa->conf->p1_life_max_s : 28800;
	sa->life_s = pick.life_s && pick.life_s < cap ? pick.life_s : cap;
	memcpy(sa->mm->sai, sap->body, sap->body_len);
	sa->mm->sai_len = sap->body_len;

	/* MM2: SA with the chosen transform as offered, our vendor IDs */
	ike_msg_init(sa->o, 1, IKE1_EXCH_MAIN, 0, 0, sa->ispi, sa->rspi);
	struct ike_payload *s = ike_add_payload(sa->o, IKE1_PL_SA, NULL, 0);
	struct ike_proposal *np = ike_add_proposal(sa->o, s, pr->num, PROTO_ISAKMP, NULL, 0);
	struct ike_transform *nx = ike_add_transform(sa->o, np, 0, chosen->id);
	nx->num = chosen->num;
	for (unsigned k = 0; k < chosen->attr_count; k++) {
		const struct ike_attr *a = &m->attrs[chosen->attr_first + k];
		ike_add_attr(sa->o, a->type, a->tv, a->value, a->val, a->len);
	}
	if (sa->natt == NATT_RFC)
		ike_add_payload(sa->o, IKE1_PL_VID, VID_NATT_RFC, 16);
	else if (sa->natt == NATT_DRAFT)
		ike_add_payload(sa->o, IKE1_PL_VID, VID_NATT_02N, 16);
	ike_add_payload(sa->o, IKE1_PL_VID, VID_DPD, 16);
	size_t len = ike_encode(sa->o, sa->tx, IKEV1_MSG_MAX);
	char nb[48];
	ev(sa, IKEV1_EV_TRACE, "Main Mode 1: chose %s, %s, lifetime %u s%s",
	   p1_name(&sa->p1, nb, sizeof nb), auth_name(sa->auth), sa->life_s, sa->natt ? ", NAT-T" : "");
	sa->state = IKEV1_MM_SA_SENT;
	sa->accepted = true;
	send_kept(sa, &sa->rp, d, sa->tx, len);
}

static bool natd_hash(const struct ikev1_sa *sa, const struct ikev1_addr *a, uint8_t *out)
{
	uint8_t port[2] = {(uint8_t)(a->port >> 8), (uint8_t)a->port};
	struct ike_iov v[4] = {{sa->ispi, 8}, {sa->rspi, 8}, {a->ip, ike_addr_len(a->family)}, {port, 2}};
	return ike1_hash(sa->p1.hash, v, 4, out);
}

static bool derive_p1(struct ikev1_sa *sa, const uint8_t *gxy, size_t gxy_len)
{
	size_t h = sa->hlen;
	uint8_t skeyid_e[IKE_HASH_MAX];
	static const uint8_t b0 = 0, b1 = 1, b2 = 2;
	struct ike_iov nonces[2] = {{sa->mm->ni, sa->mm->ni_len}, {sa->mm->nr, NONCE_LEN}};
	struct ike_iov d[5] = {{gxy, gxy_len}, {sa->ispi, 8}, {sa->rspi, 8}, {&b0, 1}};
	struct ike_iov a[5] = {{sa->skeyid_d, h}, {gxy, gxy_len}, {sa->ispi, 8}, {sa->rspi, 8},
	                       {&b1, 1}};
	struct ike_iov e[5] = {{sa->skeyid_a, h}, {gxy, gxy_len}, {sa->ispi, 8}, {sa->rspi, 8},
	                       {&b2, 1}};
	/* SKEYID (RFC 2409 5): prf(pre-shared key, Ni_b | Nr_b) with a pre-shared key,
	 * prf(Ni_b | Nr_b, g^xy) with signatures */
	bool ok;
	if (sa->auth == AUTH_RSA_SIG) {
		uint8_t nn[sizeof sa->mm->ni + NONCE_LEN];
		memcpy(nn, sa->mm->ni, sa->mm->ni_len);
		memcpy(nn + sa->mm->ni_len, sa->mm->nr, NONCE_LEN);
		struct ike_iov g = {gxy, gxy_len};
		ok = ike1_prf(sa->p1.hash, nn, sa->mm->ni_len + NONCE_LEN, &g, 1, sa->mm->skeyid);
	} else {
		ok = ike1_prf(sa->p1.hash, sa->conf->psk, sa->conf->psk_len, nonces, 2, sa->mm->skeyid);
	}
	ok = ok && ike1_prf(sa->p1.hash, sa->mm->skeyid, h, d, 4, sa->skeyid_d) &&
	          ike1_prf(sa->p1.hash, sa->mm->skeyid, h, a, 5, sa->skeyid_a) &&
	          ike1_prf(sa->p1.hash, sa->mm->skeyid, h, e, 5, skeyid_e);
	if (ok && sa->keylen <= h) {
		memcpy(sa->ekey, skeyid_e, sa->keylen);
	} else if (ok) {
		struct ike_iov z = {&b0, 1};
		ok = ike1_expand(sa->p1.hash, skeyid_e, h, &z, 1, false, sa->ekey, sa->keylen);
	}
	/* IV of phase 1: hash(g^xi | g^xr) */
	uint8_t iv[IKE_HASH_MAX];
	struct ike_iov g[2] = {{sa->mm->gxi, sa->mm->gx_len}, {sa->mm->gxr, sa->mm->gx_len}};
	ok = ok && ike1_hash(sa->p1.hash, g, 2, iv);
	if (ok)
		memcpy(sa->iv, iv, sa->block);
	OPENSSL_cleanse(skeyid_e, sizeof skeyid_e);
	return ok;
}

static void mm3(struct ikev1_sa *sa, const uint8_t d[32])
{
	const struct ike_msg *m = sa->m;
	const struct ike_payload *ke = NULL, *nonce = NULL, *natd[NATD_MAX], *cr[IKEV1_CR_MAX];
	size_t nnatd = 0, ncr = 0;
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE1_PL_KE && !ke)
			ke = p;
		else if (p->type == IKE1_PL_NONCE && !nonce)
			nonce = p;
		else if ((p->type == IKE1_PL_NATD || p->type == IKE1_PL_NATD_DRAFT) && nnatd < NATD_MAX)
			natd[nnatd++] = p;
		else if (p->type == IKE1_PL_CR && ncr < IKEV1_CR_MAX)
			cr[ncr++] = p;
	}
	size_t want = ike_dh_ke_len(sa->p1.group);
	if (!ke || !nonce || nonce->data_len < 8 || nonce->data_len > 256) {
		send_plain_notify(sa, N_PAYLOAD_MALFORMED);
		fail(sa, "ike.v1.malformed", "Main Mode 3 %s", !ke ? "without KE" : !nonce
		     ? "without a nonce" : "with a nonce not of 8 to 256 bytes");
		return;
	}
	if (ke->data_len != want || want > KE_MAX) {
		send_plain_notify(sa, N_INVALID_KEY);
		fail(sa, "ike.v1.ke-invalid", "KE of %zu bytes, DH group %u needs %zu", ke->data_len,
		     sa->p1.group, want);
		return;
	}
	sa->mm->dh = ike_dh_new(sa->p1.group);
	uint8_t gxy[IKE_DH_MAX];
	size_t gxy_len = 0;
	if (!sa->mm->dh || ike_dh_public(sa->mm->dh, sa->mm->gxr, sizeof sa->mm->gxr) != want ||
	    !(gxy_len = ike_dh_shared(sa->mm->dh, ke->data, ke->data_len, gxy, sizeof gxy))) {
		send_plain_notify(sa, N_INVALID_KEY);
		fail(sa, "ike.v1.ke-invalid", "the peer's public value is not in DH group %u",
		     sa->p1.group);
		return;
	}
	ike_dh_free(sa->mm->dh);
	sa->mm->dh = NULL;
	memcpy(sa->mm->gxi, ke->data, want);
	sa->mm->gx_len = want;
	memcpy(sa->mm->ni, nonce->data, nonce->data_len);
	sa->mm->ni_len = nonce->data_len;
	sa->cbs->random(sa->cbs->ctx, sa->mm->nr, NONCE_LEN);
	bool ok = derive_p1(sa, gxy, gxy_len);
	OPENSSL_cleanse(gxy, sizeof gxy);
	if (!ok) {
		fail(sa, "ike.v1.internal", "key derivation failed");
		return;
	}
	/* NAT-D (RFC 3947 3.2): the first is our address as the peer sent to it, the rest
	 * the addresses the peer sends from */
	uint8_t hl[IKE_HASH_MAX], hp[IKE_HASH_MAX];
	natd_hash(sa, &sa->local, hl);
	natd_hash(sa, &sa->peer, hp);
	if (sa->natt && nnatd >= 2) {
		sa->nat_local = natd[0]->data_len != sa->hlen ||
		                CRYPTO_memcmp(natd[0]->data, hl, sa->hlen);
		sa->nat_peer = true;
		for (size_t i = 1; i < nnatd; i++)
			if (natd[i]->data_len == sa->hlen && !CRYPTO_memcmp(natd[i]->data, hp, sa->hlen))
				sa->nat_peer = false;
		char ab[64];
		if (sa->nat_local || sa->nat_peer)
			ev(sa, IKEV1_EV_INFO, "NAT detected: %s%s%s (peer seen as %s)",
			   sa->nat_peer ? "the peer is behind a NAT" : "",
			   sa->nat_peer && sa->nat_local ? ", " : "",
			   sa->nat_local ? "this responder is behind a NAT" : "",
			   addr_str(&sa->peer, ab, sizeof ab));
	} else if (sa->natt) {
		ev(sa, IKEV1_EV_INFO, "NAT-T agreed but Main Mode 3 has %zu NAT-D payloads", nnatd);
	}
	/* MM4: KE, Nr, [CERTREQ for each CA we trust], [NAT-D] */
	unsigned char *crn[IKEV1_CR_MAX];
	size_t crl[IKEV1_CR_MAX], ncrn = 0;
	if (sa->auth == AUTH_RSA_SIG) {
		peer_certreqs(sa, cr, ncr);
		ncrn = trust_names(sa->conf->trust, crn, crl);
	}
	ike_msg_init(sa->o, 1, IKE1_EXCH_MAIN, 0, 0, sa->ispi, sa->rspi);
	ike_add_payload(sa->o, IKE1_PL_KE, sa->mm->gxr, want);
	ike_add_payload(sa->o, IKE1_PL_NONCE, sa->mm->nr, NONCE_LEN);
	for (size_t i = 0; i < ncrn; i++) {
		struct ike_payload *c = ike_add_payload(sa->o, IKE1_PL_CR, crn[i], crl[i]);
		if (c)
			c->id_type = CERT_X509_SIG;
	}
	if (sa->natt) {
		ike_add_payload(sa->o, natd_type(sa), hp, sa->hlen);
		ike_add_payload(sa->o, natd_type(sa), hl, sa->hlen);
	}
	size_t len = ike_encode(sa->o, sa->tx, IKEV1_MSG_MAX);
	for (size_t i = 0; i < ncrn; i++)
		OPENSSL_free(crn[i]);
	sa->state = IKEV1_MM_KE_SENT;
	sa->accepted = true;
	send_kept(sa, &sa->rp, d, sa->tx, len);
}

static void id_text(struct ikev1_sa *sa, const struct ike_payload *id)
{
	if (id->id_type == ID_IPV4 && id->data_len == 4) {
		snprintf(sa->peer_id, sizeof sa->peer_id, "%u.%u.%u.%u", id->data[0], id->data[1],
		         id->data[2], id->data[3]);
		return;
	}
	if (id->id_type == ID_DER_ASN1_DN && id->data_len) {
		const unsigned char *p = id->data;
		X509_NAME *n = d2i_X509_NAME(NULL, &p, (long)id->data_len);
		if (n) {
			ike_name_text(n, sa->peer_id, sizeof sa->peer_id);
			X509_NAME_free(n);
			return;
		}
		ERR_clear_error();
	}
	text_printable(id->data, id->data_len < 160 ? id->data_len : 160, sa->peer_id,
	               sizeof sa->peer_id);
}

/* Main Mode 6 from sa->o (IDir, and HASH_R or CERT and SIG_R): encrypt, send, and the
 * IKE SA is up. */
static void mm6_send(struct ikev1_sa *sa, const uint8_t d[32], bool initial_contact)
{
	size_t plen = ike_encode(sa->o, sa->tx, IKEV1_MSG_MAX);
	uint8_t out[IKEV1_MSG_MAX];
	size_t olen = plen ? seal(sa, sa->tx, plen, sa->iv, out, sizeof out) : 0;
	if (!olen) {
		if (sa->auth == AUTH_RSA_SIG)
			fail(sa, "ike.v1.internal", "Main Mode 6 could not be built: the certificate "
			     "and its chain do not fit in a message of %d bytes", IKEV1_MSG_MAX);
		else
			fail(sa, "ike.v1.internal", "Main Mode 6 could not be built");
		return;
	}
	mm_release(sa); /* nothing after message 6 needs it */
	sa->state = IKEV1_ESTABLISHED;
	sa->expires = 0; /* set by the caller, who knows `now` */
	send_kept(sa, &sa->rp, d, out, olen);
	char nb[48], ab[64];
	ev(sa, IKEV1_EV_IKE_UP, "IKE SA up: peer %s id %s, %s, %s, lifetime %u s%s%s",
	   addr_str(&sa->peer, ab, sizeof ab), sa->peer_id, p1_name(&sa->p1, nb, sizeof nb),
	   auth_name(sa->auth), sa->life_s, ikev1_nat(sa) ? ", NAT" : "",
	   sa->on_4500 ? ", port 4500" : "");
	if (initial_contact) {
		ev(sa, IKEV1_EV_INITIAL_CONTACT, "INITIAL-CONTACT from %s: earlier SAs of this peer "
		   "are gone", sa->peer_id);
	}
}

/* HASH_I (`initiator`) or HASH_R of RFC 2409 5 over the ID payload body `idb`. */
static bool mm_hash(struct ikev1_sa *sa, bool initiator, const uint8_t *idb, size_t idl,
                    uint8_t *out)
{
	struct ike_iov v[6] = {{sa->mm->gxi, sa->mm->gx_len}, {sa->mm->gxr, sa->mm->gx_len}, {sa->ispi, 8},
	                       {sa->rspi, 8}, {sa->mm->sai, sa->mm->sai_len}, {idb, idl}};
	if (!initiator) {
		v[0] = (struct ike_iov){sa->mm->gxr, sa->mm->gx_len};
		v[1] = (struct ike_iov){sa->mm->gxi, sa->mm->gx_len};
		v[2] = (struct ike_iov){sa->rspi, 8};
		v[3] = (struct ike_iov){sa->ispi, 8};
	}
	return ike1_prf(sa->p1.hash, sa->mm->skeyid, sa->hlen, v, 6, out);
}

/* The OpenSSL verification errors that mean "issued by a CA not trusted here". */
static bool unknown_ca(int e)
{
	return e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	       e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	       e == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE ||
	       e == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
	       e == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN;
}

/* Main Mode 5 with signatures: IDii, CERT (the client's computer certificate first, CAs
 * after it), SIG_I. The certificate must chain to a CA of conf.trust, the ID must name
 * it, and SIG_I must verify with its key; then MM6: IDir (our subject), our CERT and
 * chain, SIG_R. */
static void mm5_sig(struct ikev1_sa *sa, int r, const struct diag_err *err,
                    const uint8_t *next_iv, const uint8_t d[32])
{
	const struct ike_msg *m = sa->m;
	const struct ike_payload *id = NULL, *sig = NULL, *cert[IKEV1_CERTS_MAX], *cr[IKEV1_CR_MAX];
	size_t ncert = 0, ncr = 0;
	unsigned other_enc = 0;
	bool initial_contact = false;
	for (unsigned i = 0; r > 0 && i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE1_PL_ID && !id)
			id = p;
		else if (p->type == IKE1_PL_SIG && !sig)
			sig = p;
		else if (p->type == IKE1_PL_CERT && p->id_type == CERT_X509_SIG && ncert < IKEV1_CERTS_MAX)
			cert[ncert++] = p;
		else if (p->type == IKE1_PL_CERT && p->id_type != CERT_X509_SIG)
			other_enc = p->id_type;
		else if (p->type == IKE1_PL_CR && ncr < IKEV1_CR_MAX)
			cr[ncr++] = p; /* strongSwan asks here, Windows in message 3 */
		else if (p->type == IKE1_PL_N && p->notify == N_INITIAL_CONTACT)
			initial_contact = true;
	}
	/* No secret enters the keys with signatures: a message that does not decrypt to
	 * ID and SIG is malformed, not a wrong key. */
	if (r < 0 || !id || !sig) {
		send_plain_notify(sa, N_PAYLOAD_MALFORMED);
		fail(sa, "ike.v1.malformed", "Main Mode 5 %s", r < 0 ? err->reason
		     : !id ? "without an ID payload" : "without a SIG payload (signatures were agreed)");
		return;
	}
	id_text(sa, id);
	peer_certreqs(sa, cr, ncr);
	if (!ncert) {
		send_plain_notify(sa, other_enc ? N_INVALID_CERT_ENCODING : N_CERT_UNAVAILABLE);
		if (other_enc)
			fail(sa, "ike.cert.client-none", "Main Mode 5 from %s carries a certificate of "
			     "encoding %u; only X.509 signature certificates (4) are read", sa->peer_id,
			     other_enc);
		else
			fail(sa, "ike.cert.client-none", "Main Mode 5 from %s carries no certificate: "
			     "the client has no computer certificate from a CA this server names in "
			     "its CERTREQ, or does not send it", sa->peer_id);
		return;
	}
	X509 *leaf = NULL;
	STACK_OF(X509) *more = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	char subj[TEXT_PRINTABLE_SIZE(100)] = "", iss[TEXT_PRINTABLE_SIZE(100)] = "";
	if (!more || !ctx) {
		fail(sa, "ike.v1.internal", "out of memory");
		goto out;
	}
	size_t bad = ike_cert_chain_read(cert, ncert, &leaf, more);
	if (bad) {
		send_plain_notify(sa, N_INVALID_CERTIFICATE);
		fail(sa, "ike.cert.client-untrusted", "certificate %zu of Main Mode 5 from %s "
		     "(%zu bytes) is not an X.509 certificate", bad, sa->peer_id,
		     cert[bad - 1]->data_len);
		goto out;
	}
	ike_name_text(X509_get_subject_name(leaf), subj, sizeof subj);
	ike_name_text(X509_get_issuer_name(leaf), iss, sizeof iss);
	if (!X509_STORE_CTX_init(ctx, sa->conf->trust, leaf, more)) {
		fail(sa, "ike.v1.internal", "certificate verification could not start");
		goto out;
	}
	if (sa->conf->cert_time)
		X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)sa->conf->cert_time);
	if (X509_verify_cert(ctx) != 1) {
		int e = X509_STORE_CTX_get_error(ctx);
		send_plain_notify(sa, unknown_ca(e) ? N_INVALID_CERT_AUTHORITY : N_INVALID_CERTIFICATE);
		fail(sa, "ike.cert.client-untrusted", "the client's certificate %s, issued by %s, "
		     "does not verify against the CAs this server trusts: %s", subj, iss,
		     X509_verify_cert_error_string(e));
		goto out;
	}
	if (!id_matches_cert(id, leaf)) {
		send_plain_notify(sa, N_INVALID_ID);
		fail(sa, "ike.invalid-id", "the client's identity %s (ID type %u) is neither "
		     "the subject nor a subject alternative name of its certificate %s", sa->peer_id,
		     id->id_type, subj);
		goto out;
	}
	uint8_t want[IKE_HASH_MAX];
	EVP_PKEY *pk = X509_get0_pubkey(leaf);
	bool rsa = pk && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA;
	if (!rsa || !mm_hash(sa, true, id->body, id->body_len, want) ||
	    !rsa_verify(pk, want, sa->hlen, sig->data, sig->data_len)) {
		send_plain_notify(sa, N_INVALID_SIGNATURE);
		fail(sa, "ike.cert.bad-signature", "SIG_I of %s (%zu bytes) does not verify with %s",
		     sa->peer_id, sig->data_len, rsa ? "the public key of its certificate"
		     : "its certificate's key, which is not RSA");
		goto out;
	}
	if (X509_up_ref(leaf))
		sa->peer_cert = leaf;
	sa->accepted = true;
	memcpy(sa->iv, next_iv, sa->block);
	ev(sa, IKEV1_EV_INFO, "client certificate %s, issued by %s, verified", subj, iss);

	/* MM6: IDir (our subject, ID_DER_ASN1_DN), CERT, the chain, SIG_R */
	unsigned char *der[1 + IKEV1_CERTS_MAX] = {NULL}, *nm = NULL;
	size_t nder = 0;
	int nml = i2d_X509_NAME(X509_get_subject_name(sa->conf->cert), &nm);
	uint8_t *idb = nml > 0 ? malloc(4 + (size_t)nml) : NULL;
	uint8_t hr[IKE_HASH_MAX], sg[SIG_MAX];
	size_t sgl = 0;
	if (idb) {
		idb[0] = ID_DER_ASN1_DN;
		idb[1] = idb[2] = idb[3] = 0;
		memcpy(idb + 4, nm, (size_t)nml);
		if (mm_hash(sa, false, idb, 4 + (size_t)nml, hr))
			sgl = rsa_sign(sa->conf->key, hr, sa->hlen, sg, sizeof sg);
	}
	if (!sgl) {
		fail(sa, "ike.v1.internal", "SIG_R could not be made with the server's key");
	} else {
		ike_msg_init(sa->o, 1, IKE1_EXCH_MAIN, 0, 0, sa->ispi, sa->rspi);
		struct ike_payload *ip = ike_add_payload(sa->o, IKE1_PL_ID, idb + 4, (size_t)nml);
		ip->id_type = ID_DER_ASN1_DN;
		int nchain = sa->conf->chain ? sk_X509_num(sa->conf->chain) : 0;
		for (int i = -1; i < nchain && nder < 1 + IKEV1_CERTS_MAX; i++) {
			X509 *x = i < 0 ? sa->conf->cert : sk_X509_value(sa->conf->chain, i);
			int l = i2d_X509(x, &der[nder]);
			if (l <= 0)
				continue;
			struct ike_payload *c = ike_add_payload(sa->o, IKE1_PL_CERT, der[nder], (size_t)l);
			if (c)
				c->id_type = CERT_X509_SIG;
			nder++;
		}
		ike_add_payload(sa->o, IKE1_PL_SIG, sg, sgl);
		mm6_send(sa, d, initial_contact);
	}
	for (size_t i = 0; i < nder; i++)
		OPENSSL_free(der[i]);
	OPENSSL_free(nm);
	free(idb);
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_free(leaf);
	sk_X509_pop_free(more, X509_free);
}

static void mm5(struct ikev1_sa *sa, const uint8_t *raw, size_t len, const uint8_t d[32])
{
	struct diag_err err;
	uint8_t next_iv[16];
	int r = unseal(sa, raw, len, sa->iv, next_iv, &err);
	if (r == 0) {
		send_plain_notify(sa, N_PAYLOAD_MALFORMED);
		fail(sa, "ike.v1.malformed", "Main Mode 5: encrypted body of %zu bytes is not whole "
		     "%zu-byte blocks", sa->m->npl ? sa->m->pl[0].data_len : 0, sa->block);
		return;
	}
	if (sa->auth == AUTH_RSA_SIG) {
		mm5_sig(sa, r, &err, next_iv, d);
		return;
	}
	const struct ike_msg *m = sa->m;
	const struct ike_payload *id = NULL, *hash = NULL;
	bool initial_contact = false;
	for (unsigned i = 0; r > 0 && i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE1_PL_ID && !id)
			id = p;
		else if (p->type == IKE1_PL_HASH && !hash)
			hash = p;
		else if (p->type == IKE1_PL_N && p->notify == N_INITIAL_CONTACT)
			initial_contact = true;
	}
	/* A wrong pre-shared key gives a wrong encryption key: the plaintext is noise, the
	 * payload chain does not hold together. A right key with a wrong hash is the same
	 * mismatch seen one step later. Both end in the cause the knowledge base explains
	 * (Windows shows 789). */
	if (r < 0 || !id || !hash) {
		send_plain_notify(sa, N_PAYLOAD_MALFORMED);
		fail(sa, "ike.psk.mismatch", "Main Mode 5 does not decrypt to ID and HASH (%s): the "
		     "peer's pre-shared key differs", r < 0 ? err.reason : "payloads missing");
		return;
	}
	uint8_t want[IKE_HASH_MAX];
	if (!mm_hash(sa, true, id->body, id->body_len, want) ||
	    hash->data_len != sa->hlen || CRYPTO_memcmp(hash->data, want, sa->hlen)) {
		send_plain_notify(sa, N_INVALID_HASH);
		fail(sa, "ike.psk.mismatch", "Main Mode 5 HASH_I does not match: the peer's "
		     "pre-shared key differs");
		return;
	}
	id_text(sa, id);
	sa->accepted = true;
	memcpy(sa->iv, next_iv, sa->block);

	/* MM6: IDir and HASH_R */
	uint8_t idb[4 + 16];
	size_t al = ike_addr_len(sa->local.family);
	idb[0] = sa->local.family == 6 ? ID_IPV6 : ID_IPV4;
	idb[1] = 0;
	idb[2] = idb[3] = 0;
	memcpy(idb + 4, sa->local.ip, al);
	uint8_t hr[IKE_HASH_MAX];
	if (!mm_hash(sa, false, idb, 4 + al, hr)) {
		fail(sa, "ike.v1.internal", "HASH_R failed");
		return;
	}
	ike_msg_init(sa->o, 1, IKE1_EXCH_MAIN, 0, 0, sa->ispi, sa->rspi);
	struct ike_payload *ip = ike_add_payload(sa->o, IKE1_PL_ID, sa->local.ip, al);
	ip->id_type = idb[0];
	ike_add_payload(sa->o, IKE1_PL_HASH, hr, sa->hlen);
	mm6_send(sa, d, initial_contact);
}

/* ---- Quick Mode ------------------------------------------------------------------------ */

struct p2_offer {
	uint16_t xform, keybits, auth, encap, group;
	uint32_t life_s, life_kb;
	bool unknown;
};

static void p2_read(const struct ike_msg *m, const struct ike_transform *x, struct p2_offer *o)
{
	memset(o, 0, sizeof *o);
	o->xform = x->id;
	uint16_t life_type = 0;
	for (unsigned k = 0; k < x->attr_count; k++) {
		const struct ike_attr *a = &m->attrs[x->attr_first + k];
		switch (a->type) {
		case P2_LIFE_TYPE: life_type = (uint16_t)a->value; break;
		case P2_LIFE_DUR:
			if (!a->tv && a->len > 4)
				o->unknown = true;
			else if (life_type == 1)
				o->life_s = a->value;
			else if (life_type == 2)
				o->life_kb = a->value;
			break;
		case P2_GROUP: o->group = (uint16_t)a->value; break;
		case P2_ENCAP: o->encap = (uint16_t)a->value; break;
		case P2_AUTH: o->auth = (uint16_t)a->value; break;
		case P2_KEYLEN: o->keybits = (uint16_t)a->value; break;
		default: o->unknown = true; break;
		}
	}
}

static bool encap_ok(const struct ikev1_sa *sa, uint16_t encap, bool *udp, bool *tunnel)
{
	*udp = encap == ENCAP_UDP_TRANSPORT || encap == ENCAP_UDP_TRANSPORT_DRAFT ||
	       encap == ENCAP_UDP_TUNNEL || encap == ENCAP_UDP_TUNNEL_DRAFT;
	*tunnel = encap == ENCAP_TUNNEL || encap == ENCAP_UDP_TUNNEL ||
	          encap == ENCAP_UDP_TUNNEL_DRAFT;
	if (*tunnel && !sa->conf->allow_tunnel)
		return false;
	if (*udp) { /* the numbers of the NAT-T variant agreed in Main Mode */
		bool draft = encap == ENCAP_UDP_TRANSPORT_DRAFT || encap == ENCAP_UDP_TUNNEL_DRAFT;
		return sa->natt == (draft ? NATT_DRAFT : NATT_RFC);
	}
	/* plain transport or tunnel only where no NAT was detected */
	return (encap == ENCAP_TRANSPORT || encap == ENCAP_TUNNEL) && !ikev1_nat(sa);
}

static bool p2_allowed(const struct ikev1_sa *sa, const struct p2_offer *o, bool pfs)
{
	const struct ikev1_conf *c = sa->conf;
	if (o->unknown || (o->group && (!pfs || !c->pfs_allowed)))
		return false;
	if (o->group) {
		bool known = false;
		for (size_t i = 0; i < c->n_p1; i++)
			known |= c->p1[i].group == o->group;
		if (!known || !ike_dh_supported(o->group))
			return false;
	}
	for (size_t i = 0; i < c->n_p2; i++) {
		const struct ikev1_p2_prop *p = &c->p2[i];
		if (p->xform == o->xform && (p->xform == ESP_3DES ? !o->keybits || o->keybits == 192
		                                                  : p->keybits == o->keybits) &&
		    p->auth == o->auth)
			return true;
	}
	return false;
}

static void p2_name(const struct p2_offer *o, char *buf, size_t n)
{
	const char *e = o->xform == ESP_AES ? "aes" : o->xform == ESP_3DES ? "3des"
	                : o->xform == ESP_AES_GCM_16 ? "aesgcm16-" : "esp";
	const char *a = o->auth == AUTH_HMAC_SHA1 ? "sha1" : o->auth == AUTH_HMAC_SHA256 ? "sha256"
	                : o->auth == 1 ? "md5" : o->auth ? "auth?" : "";
	if (o->xform == ESP_AES_GCM_16)
		snprintf(buf, n, "aes%ugcm16%s%s", o->keybits, *a ? "-" : "", a);
	else if (o->xform == ESP_AES)
		snprintf(buf, n, "aes%u-%s", o->keybits, a);
	else
		snprintf(buf, n, "%s%s%s", e, *a ? "-" : "", a);
	if (o->group) {
		size_t l = strlen(buf);
		snprintf(buf + l, n - l, "-pfs%u", o->group);
	}
}

/* KEYMAT of one direction (RFC 2409 5.5) into an ESP SA's keys. */
static bool keymat(struct ikev1_sa *sa, const struct p2_offer *o, const uint8_t *gxy,
                   size_t gxy_len, uint32_t spi, const uint8_t *ni, size_t ni_len,
                   const uint8_t *nr, struct esp_sa *e)
{
	memset(e, 0, sizeof *e);
	e->spi = spi;
	size_t ek = o->xform == ESP_3DES ? 24 : o->keybits / 8u;
	if (o->xform == ESP_AES_GCM_16) {
		e->enc = ESPE_AES_GCM;
		e->gcm_icv = 16;
		ek += 4; /* salt */
	} else {
		e->enc = o->xform == ESP_3DES ? ESPE_3DES : ESPE_AES_CBC;
	}
	size_t ak = 0;
	if (o->auth == AUTH_HMAC_SHA1) {
		e->auth = ESPA_SHA1_96;
		ak = 20;
	} else if (o->auth == AUTH_HMAC_SHA256) {
		e->auth = ESPA_SHA256_128;
		ak = 32;
	}
	uint8_t km[ESP_KEY_MAX * 2];
	uint8_t proto = PROTO_ESP, sb[4];
	ike_put32(sb, spi);
	struct ike_iov seed[5];
	size_t ns = 0;
	if (gxy)
		seed[ns++] = (struct ike_iov){gxy, gxy_len};
	seed[ns++] = (struct ike_iov){&proto, 1};
	seed[ns++] = (struct ike_iov){sb, 4};
	seed[ns++] = (struct ike_iov){ni, ni_len};
	seed[ns++] = (struct ike_iov){nr, NONCE_LEN};
	if (ek > ESP_KEY_MAX || ak > ESP_KEY_MAX ||
	    !ike1_expand(sa->p1.hash, sa->skeyid_d, sa->hlen, seed, ns, true, km, ek + ak))
		return false;
	memcpy(e->ekey, km, ek);
	e->eklen = ek;
	memcpy(e->akey, km + ek, ak);
	e->aklen = ak;
	OPENSSL_cleanse(km, sizeof km);
	return true;
}

static struct qm_slot *qm_find(struct ikev1_sa *sa, uint32_t msgid)
{
	for (int i = 0; i < IKEV1_QM_SLOTS; i++)
		if (sa->qm[i] && sa->qm[i]->msgid == msgid)
			return sa->qm[i];
	return NULL;
}

/* Do the selectors fit L2TP (or, with allow_tunnel, any tunnel)? Why not in `why`. */
static bool ids_ok(struct ikev1_sa *sa, const struct ike_payload *ci, const struct ike_payload *cr,
                   bool tunnel, char *why, size_t n)
{
	if (!ci || !cr) {
		/* no IDs: the SA covers everything between the two addresses */
		if (tunnel)
			return true;
		snprintf(why, n, "Quick Mode without selectors (L2TP needs udp/%u)", sa->conf->l2tp_port);
		return false;
	}
	if (tunnel)
		return true;
	if (ci->id_proto != 17 || cr->id_proto != 17 || cr->id_port != sa->conf->l2tp_port ||
	    (ci->id_port != 0 && ci->id_port != sa->conf->l2tp_port)) {
		snprintf(why, n, "selectors proto %u port %u -> proto %u port %u, not udp/%u",
		         ci->id_proto, ci->id_port, cr->id_proto, cr->id_port, sa->conf->l2tp_port);
		return false;
	}
	size_t al = ike_addr_len(sa->peer.family);
	uint8_t want = sa->peer.family == 6 ? ID_IPV6 : ID_IPV4;
	if (ci->id_type != want || cr->id_type != want || ci->data_len != al || cr->data_len != al) {
		snprintf(why, n, "selectors of type %u/%u, a transport SA names two hosts",
		         ci->id_type, cr->id_type);
		return false;
	}
	/* without NAT the selectors are the two ends' addresses; behind a NAT they are the
	 * private ones (NAT-OA says which) */
	if (!sa->nat_peer && memcmp(ci->data, sa->peer.ip, al)) {
		snprintf(why, n, "the initiator's selector is not its address");
		return false;
	}
	if (!sa->nat_local && memcmp(cr->data, sa->local.ip, al)) {
		snprintf(why, n, "the responder's selector is not this address");
		return false;
	}
	return true;
}

static void qm1(struct ikev1_sa *sa, const uint8_t *raw, size_t len, const uint8_t d[32],
                uint64_t now)
{
	int at = -1;
	for (int i = 0; i < IKEV1_QM_SLOTS && at < 0; i++)
		if (!sa->qm[i])
			at = i;
	if (at < 0) {
		ev(sa, IKEV1_EV_INFO, "Quick Mode %08x dropped: %d already under way", sa->m->msgid,
		   IKEV1_QM_SLOTS);
		return;
	}
	uint32_t msgid = sa->m->msgid;
	bool commit = sa->m->flags & IKE1_FLAG_C;
	uint8_t iv[16], next_iv[16];
	struct diag_err err;
	if (!p2_iv(sa, msgid, iv))
		return;
	int r = unseal(sa, raw, len, iv, next_iv, &err);
	const uint8_t *hp;
	size_t hn;
	const struct ike_msg *m = sa->m;
	if (r <= 0 || !after_hash(m, sa->pt, &hp, &hn) || m->pl[0].data_len != sa->hlen) {
		ev(sa, IKEV1_EV_INFO, "Quick Mode %08x dropped: %s", msgid,
		   r < 0 ? err.reason : "does not start with a HASH");
		return;
	}
	uint8_t mid[4], h[IKE_HASH_MAX];
	ike_put32(mid, msgid);
	struct ike_iov v[2] = {{mid, 4}, {hp, hn}};
	if (!ike1_prf(sa->p1.hash, sa->skeyid_a, sa->hlen, v, 2, h) ||
	    CRYPTO_memcmp(h, m->pl[0].data, sa->hlen)) {
		ev(sa, IKEV1_EV_INFO, "Quick Mode %08x dropped: HASH(1) does not match", msgid);
		return;
	}
	sa->accepted = true;
	const struct ike_payload *sap = NULL, *ni = NULL, *ke = NULL, *id[2] = {NULL, NULL};
	const struct ike_payload *oa = NULL;
	size_t nid = 0;
	for (unsigned i = 1; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE1_PL_SA && !sap)
			sap = p;
		else if (p->type == IKE1_PL_NONCE && !ni)
			ni = p;
		else if (p->type == IKE1_PL_KE && !ke)
			ke = p;
		else if (p->type == IKE1_PL_ID && nid < 2)
			id[nid++] = p;
		else if ((p->type == IKE1_PL_NATOA || p->type == IKE1_PL_NATOA_DRAFT) && !oa)
			oa = p;
	}
	if (!sap || !ni || ni->data_len < 8 || ni->data_len > 256 || nid == 1) {
		ev(sa, IKEV1_EV_INFO, "Quick Mode %08x: %s", msgid, !sap ? "no SA" : !ni ? "no nonce"
		   : nid == 1 ? "one ID payload (two or none)" : "nonce not of 8 to 256 bytes");
		send_notify_p(sa, N_PAYLOAD_MALFORMED, PROTO_ESP, NULL, 0, NULL, 0);
		return;
	}
	/* choose: the first ESP proposal alone under its number, its first transform the
	 * policy allows */
	const struct ike_proposal *cp = NULL;
	const struct ike_transform *cx = NULL;
	struct p2_offer off, pick;
	bool udp = false, tunnel = false;
	char offered[200] = "";
	size_t ol = 0;
	for (unsigned i = 0; i < sap->prop_count && !cx; i++) {
		const struct ike_proposal *pr = &m->props[sap->prop_first + i];
		bool alone = true;
		for (unsigned j = 0; j < sap->prop_count; j++)
			if (j != i && m->props[sap->prop_first + j].num == pr->num)
				alone = false;
		if (pr->protocol != PROTO_ESP || pr->spi_size != 4 || !alone)
			continue;
		for (unsigned k = 0; k < pr->xf_count && !cx; k++) {
			const struct ike_transform *x = &m->xforms[pr->xf_first + k];
			p2_read(m, x, &off);
			char nb[48];
			p2_name(&off, nb, sizeof nb);
			if (ol < sizeof offered - 2)
				ol += (size_t)snprintf(offered + ol, sizeof offered - ol, "%s%s/encap %u",
				                       ol ? ", " : "", nb, off.encap);
			bool u, t;
			if (p2_allowed(sa, &off, ke != NULL) && encap_ok(sa, off.encap, &u, &t) &&
			    (!ke || (ke->data_len == ike_dh_ke_len(off.group)))) {
				cp = pr;
				cx = x;
				pick = off;
				udp = u;
				tunnel = t;
			}
		}
	}
	if (!cx) {
		ev(sa, IKEV1_EV_FAIL, "ike.v1.no-proposal: no Quick Mode proposal acceptable: offered "
		   "%s (NAT %s, NAT-T %s)", ol ? offered : "no ESP proposal",
		   ikev1_nat(sa) ? "yes" : "no", sa->natt == NATT_RFC ? "RFC 3947"
		   : sa->natt == NATT_DRAFT ? "draft" : "none");
		send_notify_p(sa, N_NO_PROPOSAL, PROTO_ESP, NULL, 0, NULL, 0);
		return;
	}
	char why[160];
	if (!ids_ok(sa, id[0], id[1], tunnel, why, sizeof why)) {
		ev(sa, IKEV1_EV_FAIL, "ike.v1.invalid-id: %s", why);
		send_notify_p(sa, N_INVALID_ID, PROTO_ESP, NULL, 0, NULL, 0);
		return;
	}
	/* PFS */
	uint8_t gxy[IKE_DH_MAX], gxr[IKE_DH_MAX];
	size_t gxy_len = 0, gxr_len = 0;
	if (ke) {
		struct ike_dh *dh = ike_dh_new(pick.group);
		gxr_len = dh ? ike_dh_public(dh, gxr, sizeof gxr) : 0;
		gxy_len = gxr_len ? ike_dh_shared(dh, ke->data, ke->data_len, gxy, sizeof gxy) : 0;
		ike_dh_free(dh);
		if (!gxy_len) {
			ev(sa, IKEV1_EV_FAIL, "ike.v1.ke-invalid: Quick Mode KE not in DH group %u",
			   pick.group);
			send_notify_p(sa, N_INVALID_KEY, PROTO_ESP, NULL, 0, NULL, 0);
			return;
		}
	}
	struct qm_slot *s = ike_pool_take(&qm_pool);
	if (!s) {
		ev(sa, IKEV1_EV_INFO, "Quick Mode %08x dropped: out of memory", msgid);
		return;
	}
	sa->qm[at] = s;
	s->msgid = msgid;
	s->commit = commit;
	memcpy(s->ni, ni->data, ni->data_len);
	s->ni_len = ni->data_len;
	sa->cbs->random(sa->cbs->ctx, s->nr, NONCE_LEN);
	struct ikev1_child *c = &s->child;
	uint32_t spi_in;
	do {
		uint8_t b[4];
		sa->cbs->random(sa->cbs->ctx, b, 4);
		spi_in = ike_get32(b);
	} while (spi_in < 256 || ikev1_child(sa, spi_in));
	c->spi_in = spi_in;
	c->spi_out = ike_get32(cp->spi);
	c->udp_encap = udp;
	c->tunnel = tunnel;
	c->id_proto = id[0] ? id[0]->id_proto : 0;
	c->id_port_i = id[0] ? id[0]->id_port : 0;
	c->id_port_r = id[1] ? id[1]->id_port : 0;
	if (oa && oa->id_type == ID_IPV4 && oa->data_len == 4) {
		memcpy(c->nat_oa_i, oa->data, 4);
		c->has_nat_oa_i = true;
	}
	uint32_t cap_s = sa->conf->p2_life_max_s ? sa->conf->p2_life_max_s : 3600;
	uint32_t cap_kb = sa->conf->p2_life_max_kb;
	bool shorter = false;
	c->life_s = pick.life_s ? pick.life_s : 28800;
	if (c->life_s > cap_s)
		c->life_s = cap_s, shorter = true;
	c->life_kb = pick.life_kb;
	if (cap_kb && (!c->life_kb || c->life_kb > cap_kb))
		c->life_kb = cap_kb, shorter = shorter || pick.life_kb;
	bool ok = keymat(sa, &pick, ke ? gxy : NULL, gxy_len, c->spi_in, s->ni, s->ni_len, s->nr,
	                 &c->in) &&
	          keymat(sa, &pick, ke ? gxy : NULL, gxy_len, c->spi_out, s->ni, s->ni_len, s->nr,
	                 &c->out);
	OPENSSL_cleanse(gxy, sizeof gxy);
	if (!ok) {
		qm_clear(sa, s);
		ev(sa, IKEV1_EV_INFO, "Quick Mode %08x: KEYMAT failed", msgid);
		return;
	}
	uint8_t fam = sa->peer.family;
	c->in.ipver = c->out.ipver = fam;
	memcpy(c->in.src, sa->peer.ip, 16);
	memcpy(c->in.dst, sa->local.ip, 16);
	memcpy(c->out.src, sa->local.ip, 16);
	memcpy(c->out.dst, sa->peer.ip, 16);

	/* QM2: HASH(2), SA, Nr, [KE], [IDci, IDcr], [NAT-OAi, NAT-OAr], [RESPONDER-LIFETIME] */
	uint8_t zero[IKE_HASH_MAX] = {0}, spib[4], lifeattrs[16];
	ike_put32(spib, c->spi_in);
	ike_msg_init(sa->o, 1, IKE1_EXCH_QUICK, commit ? IKE1_FLAG_C : 0, msgid, sa->ispi, sa->rspi);
	ike_add_payload(sa->o, IKE1_PL_HASH, zero, sa->hlen);
	struct ike_payload *so = ike_add_payload(sa->o, IKE1_PL_SA, NULL, 0);
	struct ike_proposal *np = ike_add_proposal(sa->o, so, cp->num, PROTO_ESP, spib, 4);
	struct ike_transform *nx = ike_add_transform(sa->o, np, 0, cx->id);
	nx->num = cx->num;
	for (unsigned k = 0; k < cx->attr_count; k++) {
		const struct ike_attr *a = &m->attrs[cx->attr_first + k];
		ike_add_attr(sa->o, a->type, a->tv, a->value, a->val, a->len);
	}
	ike_add_payload(sa->o, IKE1_PL_NONCE, s->nr, NONCE_LEN);
	if (ke)
		ike_add_payload(sa->o, IKE1_PL_KE, gxr, gxr_len);
	for (size_t i = 0; i < nid; i++) {
		struct ike_payload *ip = ike_add_payload(sa->o, IKE1_PL_ID, id[i]->data, id[i]->data_len);
		ip->id_type = id[i]->id_type;
		ip->id_proto = id[i]->id_proto;
		ip->id_port = id[i]->id_port;
	}
	if (udp && !tunnel) {
		uint8_t t = sa->natt == NATT_DRAFT ? IKE1_PL_NATOA_DRAFT : IKE1_PL_NATOA;
		uint8_t idt = sa->peer.family == 6 ? ID_IPV6 : ID_IPV4;
		struct ike_payload *a = ike_add_payload(sa->o, t, sa->peer.ip, ike_addr_len(sa->peer.family));
		a->id_type = idt;
		a = ike_add_payload(sa->o, t, sa->local.ip, ike_addr_len(sa->local.family));
		a->id_type = idt;
	}
	if (shorter) { /* RFC 2407 4.6.3.1: the lifetime this responder will use */
		size_t ln = 0;
		lifeattrs[ln++] = 0x80; lifeattrs[ln++] = P2_LIFE_TYPE; lifeattrs[ln++] = 0; lifeattrs[ln++] = 1;
		lifeattrs[ln++] = 0x00; lifeattrs[ln++] = P2_LIFE_DUR; lifeattrs[ln++] = 0; lifeattrs[ln++] = 4;
		ike_put32(lifeattrs + ln, c->life_s);
		ln += 4;
		struct ike_payload *n = ike_add_payload(sa->o, IKE1_PL_N, lifeattrs, ln);
		n->protocol = PROTO_ESP;
		n->spi = spib;
		n->spi_size = 4;
		n->notify = N_RESPONDER_LIFETIME;
	}
	memcpy(s->iv, next_iv, sa->block);
	uint8_t out[IKEV1_MSG_MAX];
	size_t olen = build_protected(sa, HASH_2, s->ni, s->ni_len, s->iv, out, sizeof out);
	if (!olen) {
		qm_clear(sa, s);
		return;
	}
	s->used = true;
	s->deadline = now + sa->conf->negotiation_ms;
	char nb[48];
	p2_name(&pick, nb, sizeof nb);
	ev(sa, IKEV1_EV_TRACE, "Quick Mode %08x: chose %s, %s%s, SPIs %08x/%08x", msgid, nb,
	   tunnel ? "tunnel" : "transport", udp ? " in UDP" : "", c->spi_in, c->spi_out);
	send_kept(sa, &s->rp, d, out, olen);
}

static void child_install(struct ikev1_sa *sa, struct qm_slot *s, uint64_t now)
{
	int at = -1;
	for (int i = 0; i < IKEV1_CHILDREN && at < 0; i++)
		if (!sa->child[i])
			at = i;
	if (at < 0) { /* full: the oldest goes */
		at = 0;
		for (int i = 1; i < IKEV1_CHILDREN; i++)
			if (sa->child[i]->serial < sa->child[at]->serial)
				at = i;
		ikev1_child_delete(sa, sa->child[at]->spi_in, "replaced (too many ESP SAs)", now);
	}
	struct ikev1_child *c = ike_pool_take(&child_pool);
	if (!c) {
		ev(sa, IKEV1_EV_INFO, "child %08x/%08x not installed: out of memory",
		   s->child.spi_in, s->child.spi_out);
		return;
	}
	sa->child[at] = c;
	*c = s->child;
	c->used = true;
	c->born = now;
	c->serial = ++sa->child_serial;
	c->expires = now + (uint64_t)c->life_s * 1000;
	ev(sa, IKEV1_EV_CHILD_UP, "child %08x/%08x up: %s %s/%s, %s%s, lifetime %u s", c->spi_in,
	   c->spi_out, c->tunnel ? "tunnel" : "transport", esp_enc_name(&c->in),
	   esp_auth_name(&c->in), c->udp_encap ? "ESP in UDP 4500" : "ESP",
	   c->has_nat_oa_i ? " (NAT-OA given)" : "", c->life_s);
	if (sa->cbs->child_up)
		sa->cbs->child_up(sa->cbs->ctx, c);
}

static void qm3(struct ikev1_sa *sa, struct qm_slot *s, const uint8_t *raw, size_t len,
                uint64_t now)
{
	uint8_t next_iv[16];
	struct diag_err err;
	int r = unseal(sa, raw, len, s->iv, next_iv, &err);
	const struct ike_msg *m = sa->m;
	uint8_t mid[4], h[IKE_HASH_MAX];
	static const uint8_t zero = 0;
	ike_put32(mid, s->msgid);
	struct ike_iov v[4] = {{&zero, 1}, {mid, 4}, {s->ni, s->ni_len}, {s->nr, NONCE_LEN}};
	if (r <= 0 || m->pl[0].type != IKE1_PL_HASH || m->pl[0].data_len != sa->hlen ||
	    !ike1_prf(sa->p1.hash, sa->skeyid_a, sa->hlen, v, 4, h) ||
	    CRYPTO_memcmp(h, m->pl[0].data, sa->hlen)) {
		ev(sa, IKEV1_EV_INFO, "Quick Mode %08x: third message dropped (%s)", s->msgid,
		   r < 0 ? err.reason : "HASH(3) does not match");
		return;
	}
	sa->accepted = true;
	bool commit = s->commit;
	uint32_t spi_in = s->child.spi_in;
	child_install(sa, s, now);
	qm_clear(sa, s);
	if (commit) { /* RFC 2408 3.1: an initiator that set the commit bit waits for
	               * CONNECTED before it uses the SA */
		uint8_t spi[4];
		ike_put32(spi, spi_in);
		send_notify_p(sa, N_CONNECTED, PROTO_ESP, spi, 4, NULL, 0);
	}
}

/* ---- Informational ----------------------------------------------------------------- */

/* Notifies by which a peer refuses our authentication. */
static bool auth_refusal(uint16_t n)
{
	return n == N_AUTH_FAILED || n == N_INVALID_SIGNATURE || n == N_INVALID_CERTIFICATE ||
	       n == N_INVALID_CERT_AUTHORITY || n == N_INVALID_ID || n == N_CERT_UNAVAILABLE;
}

/* A peer that ends the SA (`what` it did) after Main Mode 6 with signatures and before
 * any Quick Mode refused our certificate: strongSwan deletes the IKE SA at once, others
 * say AUTHENTICATION-FAILED. That is error 787 on a Windows client; the knowledge base
 * explains it under cert.l2tp.error-787. True when the SA ended so. */
static bool refused_us(struct ikev1_sa *sa, const char *what)
{
	if (sa->auth != AUTH_RSA_SIG || sa->qm_seen || sa->child_serial)
		return false;
	char subj[TEXT_PRINTABLE_SIZE(100)], iss[TEXT_PRINTABLE_SIZE(100)];
	ike_name_text(X509_get_subject_name(sa->conf->cert), subj, sizeof subj);
	ike_name_text(X509_get_issuer_name(sa->conf->cert), iss, sizeof iss);
	char asked[sizeof sa->cr_want + 48] = "";
	if (sa->cr_miss)
		snprintf(asked, sizeof asked, "; it had asked for a certificate from %s", sa->cr_want);
	fail(sa, "cert.l2tp.error-787", "the peer %s %s right after Main Mode 6, before any Quick "
	     "Mode: it refused this server's certificate %s, issued by %s%s", sa->peer_id, what,
	     subj, iss, asked);
	return true;
}

static void info(struct ikev1_sa *sa, const uint8_t *raw, size_t len, uint64_t now)
{
	uint32_t msgid = sa->m->msgid;
	if (!(sa->m->flags & IKE1_FLAG_E)) {
		/* unprotected: believed as far as a log line */
		for (unsigned i = 0; i < sa->m->npl; i++)
			if (sa->m->pl[i].type == IKE1_PL_N) {
				const char *n = ike_notify_name(1, sa->m->pl[i].notify);
				ev(sa, IKEV1_EV_INFO, "unprotected notify from the peer: %s (%u)",
				   n ? n : "?", sa->m->pl[i].notify);
			}
		return;
	}
	if (sa->state != IKEV1_ESTABLISHED)
		return;
	uint8_t iv[16], next_iv[16];
	struct diag_err err;
	if (!p2_iv(sa, msgid, iv))
		return;
	int r = unseal(sa, raw, len, iv, next_iv, &err);
	const uint8_t *hp;
	size_t hn;
	const struct ike_msg *m = sa->m;
	uint8_t mid[4], h[IKE_HASH_MAX];
	ike_put32(mid, msgid);
	if (r <= 0 || !after_hash(m, sa->pt, &hp, &hn) || m->pl[0].data_len != sa->hlen) {
		ev(sa, IKEV1_EV_INFO, "Informational dropped: %s", r < 0 ? err.reason : "no HASH");
		return;
	}
	struct ike_iov v[2] = {{mid, 4}, {hp, hn}};
	if (!ike1_prf(sa->p1.hash, sa->skeyid_a, sa->hlen, v, 2, h) ||
	    CRYPTO_memcmp(h, m->pl[0].data, sa->hlen)) {
		ev(sa, IKEV1_EV_INFO, "Informational dropped: HASH(1) does not match");
		return;
	}
	sa->accepted = true;
	for (unsigned i = 1; i < m->npl && sa->state == IKEV1_ESTABLISHED; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE1_PL_D && p->protocol == PROTO_ISAKMP && p->spi_size == 16) {
			for (unsigned k = 0; k < p->nspi; k++)
				if (!memcmp(p->data + 16 * k, sa->ispi, 8) &&
				    !memcmp(p->data + 16 * k + 8, sa->rspi, 8)) {
					if (refused_us(sa, "deleted the IKE SA"))
						return;
					ev(sa, IKEV1_EV_INFO, "the peer deleted the IKE SA");
					snprintf(sa->cause, sizeof sa->cause, "ike.v1.deleted-by-peer");
					set_dead(sa);
					ev(sa, IKEV1_EV_IKE_DOWN, "IKE SA down: deleted by the peer");
					return;
				}
		} else if (p->type == IKE1_PL_D && p->protocol == PROTO_ESP && p->spi_size == 4) {
			for (unsigned k = 0; k < p->nspi; k++) {
				uint32_t spi = ike_get32(p->data + 4 * k);
				for (int j = 0; j < IKEV1_CHILDREN; j++) {
					struct ikev1_child *c = sa->child[j];
					if (!c || (c->spi_out != spi && c->spi_in != spi))
						continue;
					c->used = false;
					ev(sa, IKEV1_EV_CHILD_DOWN, "child %08x/%08x down: deleted by the peer",
					   c->spi_in, c->spi_out);
					if (sa->cbs->child_down)
						sa->cbs->child_down(sa->cbs->ctx, c, "deleted by the peer");
					child_release(sa, j);
				}
			}
		} else if (p->type == IKE1_PL_N && p->notify == N_R_U_THERE && p->data_len == 4) {
			uint8_t spi[16];
			memcpy(spi, sa->ispi, 8);
			memcpy(spi + 8, sa->rspi, 8);
			uint8_t seq[4];
			memcpy(seq, p->data, 4);
			ev(sa, IKEV1_EV_TRACE, "DPD R-U-THERE %u answered", ike_get32(seq));
			send_notify_p(sa, N_R_U_THERE_ACK, PROTO_ISAKMP, spi, 16, seq, 4);
		} else if (p->type == IKE1_PL_N && auth_refusal(p->notify)) {
			const char *n = ike_notify_name(1, p->notify);
			char what[64];
			snprintf(what, sizeof what, "sent %s", n ? n : "an authentication failure");
			if (refused_us(sa, what))
				return;
			ev(sa, IKEV1_EV_INFO, "notify from the peer: %s (%u)", n ? n : "?", p->notify);
		} else if (p->type == IKE1_PL_N && p->notify == N_INITIAL_CONTACT) {
			ev(sa, IKEV1_EV_INITIAL_CONTACT, "INITIAL-CONTACT from %s: earlier SAs of this "
			   "peer are gone", sa->peer_id);
		} else if (p->type == IKE1_PL_N) {
			const char *n = ike_notify_name(1, p->notify);
			ev(sa, IKEV1_EV_INFO, "notify from the peer: %s (%u)", n ? n : "?", p->notify);
		}
	}
	(void)now;
}

/* ---- entry points ------------------------------------------------------------------ */

static uint64_t input(struct ikev1_sa *sa, const uint8_t *buf, size_t len,
                      const struct ikev1_addr *local, const struct ikev1_addr *peer, uint64_t now)
{
	if (sa->state == IKEV1_DEAD)
		return IKEV1_NEVER;
	if (!sa->sc) {
		ev(sa, IKEV1_EV_INFO, "message dropped: out of memory");
		return ikev1_deadline(sa);
	}
	if (len > IKEV1_MSG_MAX) {
		ev(sa, IKEV1_EV_INFO, "message of %zu bytes dropped (at most %d)", len, IKEV1_MSG_MAX);
		return ikev1_deadline(sa);
	}
	struct diag_err err;
	diag_err_clear(&err);
	if (ike_decode(buf, len, sa->m, &err) < 0) {
		ev(sa, IKEV1_EV_INFO, "message dropped: offset %zu: %s", err.off, err.reason);
		return ikev1_deadline(sa);
	}
	const struct ike_msg *m = sa->m;
	static const uint8_t zero8[8];
	if (m->major != 1) {
		ev(sa, IKEV1_EV_INFO, "message of version %u.%u dropped", m->major, m->minor);
		return ikev1_deadline(sa);
	}
	bool fresh = !memcmp(m->rspi, zero8, 8);
	if (sa->state == IKEV1_MM_START) {
		if (!fresh) {
			ev(sa, IKEV1_EV_TRACE, "first message with a responder cookie dropped");
			return ikev1_deadline(sa);
		}
		memcpy(sa->ispi, m->ispi, 8);
	}
	if (memcmp(m->ispi, sa->ispi, 8)) {
		ev(sa, IKEV1_EV_TRACE, "message of another initiator cookie dropped");
		return ikev1_deadline(sa);
	}
	uint8_t d[32];
	digest(buf, len, d);
	/* a retransmission: the reply again */
	if (resend_if_same(sa, &sa->rp, d))
		return ikev1_deadline(sa);
	for (int i = 0; i < IKEV1_QM_SLOTS; i++)
		if (sa->qm[i] && resend_if_same(sa, &sa->qm[i]->rp, d))
			return ikev1_deadline(sa);
	if (sa->state != IKEV1_MM_START && memcmp(m->rspi, sa->rspi, 8)) {
		ev(sa, IKEV1_EV_TRACE, "message of another responder cookie dropped");
		return ikev1_deadline(sa);
	}
	/* replies go where the peer now sends from (a float to 4500, a NAT rebinding) */
	struct ikev1_addr old = sa->peer;
	bool old_4500 = sa->on_4500;
	sa->peer = *peer;
	sa->local = *local;
	sa->on_4500 = local->port == 4500;
	enum ikev1_state before = sa->state;
	sa->accepted = false;
	switch (m->exchange) {
	case IKE1_EXCH_MAIN:
		if (sa->state == IKEV1_MM_START && !(m->flags & IKE1_FLAG_E))
			mm1(sa, d);
		else if (sa->state == IKEV1_MM_SA_SENT && !(m->flags & IKE1_FLAG_E))
			mm3(sa, d);
		else if (sa->state == IKEV1_MM_KE_SENT && (m->flags & IKE1_FLAG_E))
			mm5(sa, buf, len, d);
		else
			ev(sa, IKEV1_EV_TRACE, "Main Mode message unexpected in state %s dropped",
			   tok_name(ikev1_state_names, sa->state));
		if (sa->state == IKEV1_ESTABLISHED && before != IKEV1_ESTABLISHED)
			sa->expires = now + (uint64_t)sa->life_s * 1000;
		break;
	case IKE1_EXCH_AGGRESSIVE:
		if (sa->state == IKEV1_MM_START) {
			send_plain_notify(sa, N_NO_PROPOSAL);
			fail(sa, "ike.v1.aggressive-refused", "Aggressive Mode refused: it exposes a "
			     "hash of the pre-shared key to anyone who asks; Main Mode only");
		}
		break;
	case IKE1_EXCH_QUICK: {
		if (sa->state != IKEV1_ESTABLISHED || !(m->flags & IKE1_FLAG_E) || !m->msgid) {
			ev(sa, IKEV1_EV_TRACE, "Quick Mode before Main Mode completed dropped");
			break;
		}
		struct qm_slot *s = qm_find(sa, m->msgid);
		if (s)
			qm3(sa, s, buf, len, now);
		else
			qm1(sa, buf, len, d, now);
		sa->qm_seen |= sa->accepted;
		break;
	}
	case IKE1_EXCH_INFO:
		info(sa, buf, len, now);
		break;
	default: {
		const char *n = ike_exchange_name(1, m->exchange);
		ev(sa, IKEV1_EV_INFO, "%s exchange (%u) not supported: dropped", n ? n : "unknown",
		   m->exchange);
		break;
	}
	}
	/* only a message that was accepted (authenticated, once there are keys) moves the
	 * peer: a forged datagram with the right cookies cannot redirect the replies */
	if (!sa->accepted && sa->state != IKEV1_DEAD) {
		sa->peer = old;
		sa->on_4500 = old_4500;
	}
	return ikev1_deadline(sa);
}

uint64_t ikev1_input(struct ikev1_sa *sa, const uint8_t *buf, size_t len,
                     const struct ikev1_addr *local, const struct ikev1_addr *peer, uint64_t now)
{
	bool taken = scratch_lend(sa);
	uint64_t t = input(sa, buf, len, local, peer, now);
	scratch_return(sa, taken);
	return t;
}

uint64_t ikev1_deadline(const struct ikev1_sa *sa)
{
	if (sa->state == IKEV1_DEAD)
		return IKEV1_NEVER;
	uint64_t t = sa->state < IKEV1_ESTABLISHED ? sa->neg_deadline : sa->expires;
	for (int i = 0; i < IKEV1_QM_SLOTS; i++)
		if (sa->qm[i] && sa->qm[i]->deadline < t)
			t = sa->qm[i]->deadline;
	for (int i = 0; i < IKEV1_CHILDREN; i++)
		if (sa->child[i] && sa->child[i]->expires < t)
			t = sa->child[i]->expires;
	return t;
}

static uint64_t tick(struct ikev1_sa *sa, uint64_t now)
{
	if (sa->state == IKEV1_DEAD)
		return IKEV1_NEVER;
	if (sa->state < IKEV1_ESTABLISHED && now >= sa->neg_deadline) {
		fail(sa, "ike.v1.timeout", "Main Mode not completed within %u ms (state %s)",
		     sa->conf->negotiation_ms, tok_name(ikev1_state_names, sa->state));
		return IKEV1_NEVER;
	}
	if (sa->state == IKEV1_ESTABLISHED && now >= sa->expires) {
		ikev1_delete(sa, "lifetime expired", now);
		return IKEV1_NEVER;
	}
	for (int i = 0; i < IKEV1_QM_SLOTS; i++)
		if (sa->qm[i] && now >= sa->qm[i]->deadline) {
			ev(sa, IKEV1_EV_INFO, "Quick Mode %08x not completed in time", sa->qm[i]->msgid);
			qm_clear(sa, sa->qm[i]);
		}
	for (int i = 0; i < IKEV1_CHILDREN; i++)
		if (sa->child[i] && now >= sa->child[i]->expires)
			ikev1_child_delete(sa, sa->child[i]->spi_in, "lifetime expired", now);
	return ikev1_deadline(sa);
}

uint64_t ikev1_tick(struct ikev1_sa *sa, uint64_t now)
{
	bool taken = scratch_lend(sa);
	uint64_t t = tick(sa, now);
	scratch_return(sa, taken);
	return t;
}

static void delete_sa(struct ikev1_sa *sa, const char *why, uint64_t now)
{
	if (sa->state == IKEV1_DEAD)
		return;
	if (sa->state == IKEV1_ESTABLISHED) {
		for (int i = 0; i < IKEV1_CHILDREN; i++)
			if (sa->child[i])
				ikev1_child_delete(sa, sa->child[i]->spi_in, why, now);
		send_delete_ike(sa);
		ev(sa, IKEV1_EV_IKE_DOWN, "IKE SA down: %s", why);
	}
	if (!sa->cause[0])
		snprintf(sa->cause, sizeof sa->cause, "ike.v1.deleted");
	set_dead(sa);
}

void ikev1_delete(struct ikev1_sa *sa, const char *why, uint64_t now)
{
	bool taken = scratch_lend(sa);
	delete_sa(sa, why, now);
	scratch_return(sa, taken);
}

static void child_delete(struct ikev1_sa *sa, uint32_t spi_in, const char *why)
{
	for (int i = 0; i < IKEV1_CHILDREN; i++) {
		struct ikev1_child *c = sa->child[i];
		if (!c || c->spi_in != spi_in)
			continue;
		if (sa->state == IKEV1_ESTABLISHED)
			send_delete_child(sa, spi_in);
		c->used = false;
		ev(sa, IKEV1_EV_CHILD_DOWN, "child %08x/%08x down: %s", c->spi_in, c->spi_out, why);
		if (sa->cbs->child_down)
			sa->cbs->child_down(sa->cbs->ctx, c, why);
		child_release(sa, i);
	}
}

uint64_t ikev1_child_delete(struct ikev1_sa *sa, uint32_t spi_in, const char *why, uint64_t now)
{
	bool taken = scratch_lend(sa);
	child_delete(sa, spi_in, why);
	scratch_return(sa, taken);
	(void)now;
	return ikev1_deadline(sa);
}

uint64_t ikev1_child_used(struct ikev1_sa *sa, uint32_t spi_in, uint64_t now)
{
	const struct ikev1_child *n = ikev1_child(sa, spi_in);
	if (!n)
		return ikev1_deadline(sa);
	uint8_t proto = n->id_proto;
	uint16_t pi = n->id_port_i, pr = n->id_port_r;
	uint32_t serial = n->serial;
	for (int i = 0; i < IKEV1_CHILDREN; i++) {
		struct ikev1_child *c = sa->child[i];
		if (c && c->spi_in != spi_in && c->serial < serial && c->id_proto == proto &&
		    c->id_port_i == pi && c->id_port_r == pr)
			ikev1_child_delete(sa, c->spi_in, "rekeyed", now);
	}
	return ikev1_deadline(sa);
}

size_t ikev1_enc_key(const struct ikev1_sa *sa, uint8_t *out, size_t cap)
{
	if (sa->state != IKEV1_ESTABLISHED || !sa->keylen || sa->keylen > cap) return 0;
	memcpy(out, sa->ekey, sa->keylen);
	return sa->keylen;
}
