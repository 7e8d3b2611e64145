/* IKEv2 responder: IKE_SA_INIT, IKE_AUTH with EAP-MSCHAPv2, a machine certificate or a
 * pre-shared key,
 * configuration payload, tunnel-mode child SAs, CREATE_CHILD_SA, INFORMATIONAL, IKE
 * fragmentation, MOBIKE address updates, stateless cookies. See ikev2.h. */
#include "ike/ikev2.h"
#include "ike/ike_bytes.h"
#include "ike/ike_list.h"
#include "ike/ike_pool.h"
#include "ike/ikev2_sa.h"
#include "ike.h"
#include "mschap.h"
#include "eap/eap_mschapv2.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* ---- numbers of RFC 7296, 7383, 7427, 4555 and the EAP RFCs ------------------------- */
enum { XF_ENCR = 1, XF_PRF = 2, XF_INTEG = 3, XF_DH = 4, XF_ESN = 5 };
enum { ATTR_KEY_LENGTH = 14 };
enum { PROTO_IKE = 1, PROTO_ESP = 3 };
enum { AUTH_RSA = 1, AUTH_PSK = 2, AUTH_DIGSIG = 14 };
enum { ID_IPV4 = 1, ID_FQDN = 2, ID_RFC822 = 3, ID_IPV6 = 5, ID_DN = 9, ID_KEY_ID = 11 };
enum { CERT_X509_SIG = 4 };
enum { CFG_REQUEST = 1, CFG_REPLY = 2 };
enum { CP_IP4_ADDRESS = 1, CP_IP4_NETMASK = 2, CP_IP4_DNS = 3 };
enum { TS_IPV4 = 7 };
enum {
	N_UNSUPPORTED_CRITICAL = 1, N_INVALID_SYNTAX = 7, N_NO_PROPOSAL = 14, N_INVALID_KE = 17,
	N_AUTH_FAILED = 24, N_NO_ADDITIONAL_SAS = 35, N_INTERNAL_ADDRESS_FAILURE = 36,
	N_FAILED_CP_REQUIRED = 37, N_TS_UNACCEPTABLE = 38, N_TEMPORARY_FAILURE = 43,
	N_CHILD_SA_NOT_FOUND = 44,
	N_INITIAL_CONTACT = 16384, N_NATD_SRC = 16388, N_NATD_DST = 16389, N_COOKIE = 16390,
	N_USE_TRANSPORT_MODE = 16391, N_REKEY_SA = 16393, N_MOBIKE_SUPPORTED = 16396,
	N_UPDATE_SA_ADDRESSES = 16400, N_COOKIE2 = 16401, N_FRAG_SUPPORTED = 16430,
	N_SIG_HASH_ALGS = 16431,
};
/* EAP codes: libdiag's ppp.h (EAP_REQUEST ...) */
enum { EAP_IDENTITY = 1, EAP_NAK = 3, EAP_MSCHAPV2 = 26 };
/* RFC 7427 hash algorithm numbers */
enum { SIGHASH_SHA1 = 1, SIGHASH_SHA256 = 2, SIGHASH_SHA384 = 3, SIGHASH_SHA512 = 4 };

#define NONCE_LEN 32
#define SPI_LEN 8
#define TS_MAX 8
#define ID_MAX 512
#define INIT_MAX IKEV2_DATAGRAM_MAX /* IKE_SA_INIT messages kept for AUTH */
#define OUT_MAX (IKEV2_MSG_MAX + IKEV2_FRAGS_MAX * 96)
#define EAPB_MAX 512  /* an EAP message we send */
#define AUTHB_MAX 1024 /* the data of our AUTH payload */

const struct tok ikev2_ev_names[] = {
	{IKEV2_EV_TRACE, "trace"}, {IKEV2_EV_INFO, "info"}, {IKEV2_EV_FAIL, "fail"},
	{IKEV2_EV_IKE_UP, "ike-up"}, {IKEV2_EV_IKE_DOWN, "ike-down"},
	{IKEV2_EV_CHILD_UP, "child-up"}, {IKEV2_EV_CHILD_DOWN, "child-down"},
	{IKEV2_EV_INITIAL_CONTACT, "initial-contact"}, {IKEV2_EV_REKEYED, "rekeyed"},
	{IKEV2_EV_PEER_MOVED, "peer-moved"}, {0, NULL},
};
const struct tok ikev2_state_names[] = {
	{IKEV2_START, "start"}, {IKEV2_INIT_DONE, "init-done"}, {IKEV2_EAP, "eap"},
	{IKEV2_AUTHORIZING, "authorizing"}, {IKEV2_EAP_OK, "eap-ok"},
	{IKEV2_ESTABLISHED, "established"}, {IKEV2_DEAD, "dead"}, {0, NULL},
};

/* A message we sent, whole or in fragments, kept for retransmission: buf holds cap
 * bytes, as long as the longest message kept in it (ciphertext: nothing to wipe). */
struct out_msg {
	uint8_t *buf;
	size_t cap;
	size_t len[IKEV2_FRAGS_MAX];
	size_t n, total;
	uint32_t msgid;
	bool have;
	unsigned resends;
};

/* One IKE SA's message state: its keys, the message IDs both ways, the last response. */
struct ike_ctx {
	bool set;
	bool we_i;                   /* we are its original initiator (an IKE SA we rekeyed):
	                                our messages carry the I flag and SK_ei/SK_ai */
	struct ikev2_keys k;
	uint32_t next_mid;           /* the peer's next request */
	uint32_t our_mid;            /* our next request */
	struct out_msg resp;
};

/* Our request under way (liveness check, DELETE). */
struct req_out {
	bool active;
	bool dpd;
	bool on_old;                 /* under the old SA's keys: its DELETE after our rekey */
	struct out_msg msg;
	unsigned tries;
	uint64_t next_at;
};

struct ts {
	uint8_t proto;
	uint16_t sport, eport;
	uint8_t start[4], end[4];
};

/* What the peer asked for a child SA, read before the answer is built. */
struct child_req {
	bool have;
	uint16_t err;                /* a notify to answer instead of the SA */
	struct ikev2_esp_prop pick;
	uint16_t group;              /* PFS group of CREATE_CHILD_SA, 0 none */
	uint8_t prop_num;
	uint32_t spi_out;
	struct ts tsi[TS_MAX], tsr[TS_MAX];
	size_t ntsi, ntsr;
	bool cp, cp_dns;
};

enum eap_stage { EAP_ST_IDENTITY = 0, EAP_ST_CHALLENGE, EAP_ST_SUCCESS, EAP_ST_FAILURE };

struct ikev2_sa {
	const struct ikev2_conf *conf;
	const struct ikev2_cbs *cbs;
	enum ikev2_state state;
	char cause[48];
	struct ikev2_addr local, peer;
	bool on_4500;
	bool accepted;
	struct ike_ctx cur, old;
	uint8_t spi_i[SPI_LEN], spi_r[SPI_LEN];

	/* IKE_SA_INIT */
	bool peer_frag, peer_sighash_sha256, peer_sighash_sha1, peer_mobike;
	bool nat_local, nat_peer;
	uint8_t ni[256], nr[NONCE_LEN];
	size_t ni_len;
	uint8_t *init_req, *init_resp; /* one allocation, the response after the request, kept
	                                  for the AUTH payloads until the SA is up */
	size_t init_req_len, init_resp_len;
	uint8_t init_req_digest[32];

	/* IKE_AUTH */
	uint8_t idi[ID_MAX];         /* IDi' (type, reserved, data) */
	size_t idi_len;
	char peer_id[TEXT_PRINTABLE_SIZE(64)];
	char user_raw[IKEV2_USER_MAX + 1];
	char user[TEXT_PRINTABLE_SIZE(64)];
	struct child_req creq;
	bool initial_contact;
	uint8_t eap_id;
	enum eap_stage eap_stage;
	uint8_t ms_id;
	uint8_t auth_challenge[16], peer_challenge[16], nt_response[24];
	enum ppp_cred cred;
	char auth_resp[43];
	uint8_t msk[64];
	size_t msk_len;
	bool have_vip;
	uint8_t vip[4];
	uint32_t pending_mid;
	bool pending_eap;            /* the pending verdict is for EAP (else PSK or certificate) */
	bool pending_cert;           /* the pending verdict is for a machine certificate */
	char subject[TEXT_PRINTABLE_SIZE(100)]; /* the client's certificate (machine_cert) */
	bool in_authorize;           /* inside the callback: a verdict is stored, not acted on */
	bool verdict_stored;
	struct ikev2_verdict vstore;
	char vcause[48], vmsg[96], vsuccess[43];
	uint8_t vmsk[64];
	char fail_cause[48];         /* EAP failure sent, the SA ends on its acknowledgement */

	/* timers */
	uint64_t neg_deadline, expires, last_rx;
	struct req_out req;
	uint32_t del_queue[IKEV2_CHILDREN];
	size_t ndel;

	struct ikev2_child child[IKEV2_CHILDREN];
	uint32_t child_serial;
	/* our rekey of a child under way (CREATE_CHILD_SA as initiator) */
	struct {
		bool active;
		bool collided;           /* the peer rekeyed the same child meanwhile */
		uint32_t msgid, old_spi, spi_in;
		uint8_t ni[NONCE_LEN];
		uint8_t peer_min[256];   /* the lowest nonce of the peer's rekey (collision) */
		size_t peer_min_len;
	} crk;
	/* our rekey of the IKE SA (conf.child_rekey, RFC 7296 2.8) */
	uint64_t ike_rekey_at;       /* when it is due, IKEV2_NEVER: not (once per SA) */
	struct {
		bool active;             /* our CREATE_CHILD_SA request is under way */
		bool collided;           /* the peer rekeyed the IKE SA meanwhile: its new SA in peer */
		uint32_t msgid;
		uint8_t spi[SPI_LEN];    /* our SPI of the new SA */
		uint8_t ni[NONCE_LEN];
		struct ike_dh *dh;
		struct ike_ctx peer;     /* the peer's new SA of a collision, until ours is answered */
		uint8_t peer_min[256];   /* the lowest nonce of the peer's rekey exchange */
		size_t peer_min_len;
	} irk;
	/* the losing new SA of a collision (RFC 7296 2.8.2), kept until its maker deleted it:
	 * ours, with our DELETE of it retransmitted in req (req.msg, tries, next_at) until
	 * answered or given up; or the peer's, answered until its DELETE or until `until` */
	struct {
		struct ike_ctx c;
		bool ours;
		struct req_out req;
		uint64_t until;
	} lose;

	/* the reassembly of a fragmented request, allocated with its first fragment and freed
	 * when the message is whole or dropped (NULL when none is under way) */
	struct ikev2_reasm *reasm;

	/* lent by the thread's scratch pool for the call under way (NULL between calls) */
	struct scratch *sc;
	struct ike_msg *m;           /* the message being read */
	struct ike_msg *o;           /* the message being built */
	uint8_t *pt;                 /* a decrypted message (header and inner payloads) */
	uint8_t *tx;                 /* an encoded message before protection */
	uint8_t *ob;                 /* a protected message or its fragments (OUT_MAX) */
	uint8_t *o_spi;              /* SPI bytes of the message being built (8) */
	uint8_t *eapb;               /* its EAP message (EAPB_MAX) */
	uint8_t *authb;              /* its AUTH data (AUTHB_MAX) */
	uint8_t *idb;                /* its IDr (4 + ID_MAX) */
	uint8_t *keb;                /* its KE data (IKE_DH_MAX) */
	uint8_t *nrb;                /* its nonce (NONCE_LEN) */
	struct ts *o_tsi, *o_tsr;    /* its traffic selectors (1 and TS_MAX) */
};

/* What an entry point works in and no SA needs between calls: the message being read and
 * the one being built (33 KB each: the decoder's fixed arrays), a decrypted message, an
 * encoded one, the protected one and the pieces of the message being built. Each thread
 * keeps a few and lends one to an SA for the length of a call (engine/ike/ikev1.c does
 * the same); a second is in use only while an owner's callback enters another SA (an
 * INITIAL_CONTACT that deletes the peer's older SAs), so the pool stays as deep as such
 * nesting goes. Kept until the process ends. Decrypted bytes (pt) are wiped when the
 * scratch is given back, as far as they were written. */
struct scratch {
	struct ike_msg m, o;
	uint8_t pt[IKE_HDR_LEN + IKEV2_MSG_MAX], tx[IKE_HDR_LEN + IKEV2_MSG_MAX];
	uint8_t ob[OUT_MAX];
	size_t pt_used;
	uint8_t o_spi[8], eapb[EAPB_MAX], authb[AUTHB_MAX], idb[4 + ID_MAX], keb[IKE_DH_MAX],
	        nrb[NONCE_LEN];
	struct ts o_tsi, o_tsr[TS_MAX];
	bool busy;
	struct scratch *next;
};
static _Thread_local struct scratch *scratch_pool;

/* A free scratch of this thread's pool (allocated when all are busy), NULL when out of
 * memory. */
static struct scratch *scratch_take(void)
{
	struct scratch *x = scratch_pool;
	while (x && x->busy)
		x = x->next;
	if (!x) {
		x = malloc(sizeof *x);
		if (!x)
			return NULL;
		x->pt_used = 0;
		x->next = scratch_pool;
		scratch_pool = x;
	}
	x->busy = true;
	return x;
}

static void scratch_give(struct scratch *x)
{
	if (x->pt_used)
		OPENSSL_cleanse(x->pt, x->pt_used);
	x->pt_used = 0;
	x->busy = false;
}

/* Lend sa a scratch for an entry point. True when this call took it (and gives it back
 * with scratch_return); false when the SA holds one already (an owner's callback entered
 * it again: the outer call keeps it) or when none could be allocated (sa->sc stays NULL
 * and the entry point does nothing). */
static bool scratch_lend(struct ikev2_sa *sa)
{
	if (sa->sc)
		return false;
	struct scratch *x = scratch_take();
	if (!x)
		return false;
	sa->sc = x;
	sa->m = &x->m;
	sa->o = &x->o;
	sa->pt = x->pt;
	sa->tx = x->tx;
	sa->ob = x->ob;
	sa->o_spi = x->o_spi;
	sa->eapb = x->eapb;
	sa->authb = x->authb;
	sa->idb = x->idb;
	sa->keb = x->keb;
	sa->nrb = x->nrb;
	sa->o_tsi = &x->o_tsi;
	sa->o_tsr = x->o_tsr;
	return true;
}

static void scratch_return(struct ikev2_sa *sa, bool taken)
{
	if (!taken || !sa->sc)
		return;
	scratch_give(sa->sc);
	sa->sc = NULL;
	sa->m = sa->o = NULL;
	sa->pt = sa->tx = sa->ob = NULL;
	sa->o_spi = sa->eapb = sa->authb = sa->idb = sa->keb = sa->nrb = NULL;
	sa->o_tsi = sa->o_tsr = NULL;
}

/* ---- small helpers ----------------------------------------------------------------- */

static void ev(struct ikev2_sa *sa, enum ikev2_ev kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ev(struct ikev2_sa *sa, enum ikev2_ev kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ikev2_event_v(sa->cbs, kind, fmt, ap);
	va_end(ap);
}

static bool addr_eq(const struct ikev2_addr *a, const struct ikev2_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	       !memcmp(a->ip, b->ip, ike_addr_len(a->family));
}

static const char *addr_str(const struct ikev2_addr *a, char *buf, size_t n)
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

static void out_free(struct out_msg *o)
{
	free(o->buf);
	memset(o, 0, sizeof *o);
}

static void send_out(struct ikev2_sa *sa, const struct out_msg *o)
{
	if (!sa->cbs->send)
		return;
	size_t off = 0;
	for (size_t i = 0; i < o->n; i++) {
		sa->cbs->send(sa->cbs->ctx, o->buf + off, o->len[i], sa->on_4500);
		off += o->len[i];
	}
}

static void children_down(struct ikev2_sa *sa, const char *why)
{
	for (int i = 0; i < IKEV2_CHILDREN; i++) {
		struct ikev2_child *c = &sa->child[i];
		if (!c->used)
			continue;
		c->used = false;
		ev(sa, IKEV2_EV_CHILD_DOWN, "child %08x/%08x down: %s", c->spi_in, c->spi_out, why);
		if (sa->cbs->child_down)
			sa->cbs->child_down(sa->cbs->ctx, c, why);
		OPENSSL_cleanse(c, sizeof *c);
	}
}

static void ctx_clear(struct ike_ctx *c)
{
	out_free(&c->resp);
	OPENSSL_cleanse(c, sizeof *c);
}

/* SAs come from a pool (ike_pool.h) as IKEv1's do: 7 KB each, the decoded messages and
 * work buffers are the scratch's. */
static _Thread_local struct ike_pool sa_pool = IKE_POOL_INIT(struct ikev2_sa);

/* The reassembly given back: what it held of decrypted fragments wiped. */
static void reasm_drop(struct ikev2_sa *sa)
{
	if (!sa->reasm)
		return;
	OPENSSL_cleanse(sa->reasm, sizeof *sa->reasm);
	free(sa->reasm);
	sa->reasm = NULL;
}

/* Our IKE SA rekey is over (or the SA): its DH key and a collision's SA go. */
static void irk_clear(struct ikev2_sa *sa)
{
	ike_dh_free(sa->irk.dh);
	ctx_clear(&sa->irk.peer);
	OPENSSL_cleanse(&sa->irk, sizeof sa->irk);
}

/* A collision's losing SA is gone (deleted, or given up): its keys and our DELETE go. */
static void lose_clear(struct ikev2_sa *sa)
{
	ctx_clear(&sa->lose.c);
	out_free(&sa->lose.req.msg);
	memset(&sa->lose, 0, sizeof sa->lose);
}

static void set_dead(struct ikev2_sa *sa)
{
	children_down(sa, "IKE SA gone");
	ctx_clear(&sa->cur);
	ctx_clear(&sa->old);
	irk_clear(sa);
	lose_clear(sa);
	out_free(&sa->req.msg);
	sa->req.active = false;
	OPENSSL_cleanse(sa->msk, sizeof sa->msk);
	OPENSSL_cleanse(sa->vmsk, sizeof sa->vmsk);
	reasm_drop(sa);
	sa->state = IKEV2_DEAD;
}

static void fail(struct ikev2_sa *sa, const char *cause, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct ikev2_sa *sa, const char *cause, const char *fmt, ...)
{
	char buf[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	snprintf(sa->cause, sizeof sa->cause, "%s", cause);
	ev(sa, IKEV2_EV_FAIL, "%s: %s", cause, buf);
	bool was_up = sa->state == IKEV2_ESTABLISHED;
	set_dead(sa);
	if (was_up)
		ev(sa, IKEV2_EV_IKE_DOWN, "IKE SA down: %s", cause);
}

/* ---- configuration ------------------------------------------------------------------ */

void ikev2_conf_default(struct ikev2_conf *c)
{
	memset(c, 0, sizeof *c);
	static const struct { uint16_t encr, bits; } encs[] = {
		{IKE2_ENCR_AES_CBC, 256}, {IKE2_ENCR_AES_CBC, 128}, {IKE2_ENCR_AES_GCM_16, 256},
		{IKE2_ENCR_AES_GCM_16, 128}, {IKE2_ENCR_3DES, 0}};
	static const struct { uint16_t integ, prf; } hashes[] = {
		{IKE2_INTEG_HMAC_SHA2_384_192, IKE2_PRF_HMAC_SHA2_384},
		{IKE2_INTEG_HMAC_SHA2_256_128, IKE2_PRF_HMAC_SHA2_256},
		{IKE2_INTEG_HMAC_SHA1_96, IKE2_PRF_HMAC_SHA1}};
	static const uint16_t groups[] = {20, 19, 14, 2};
	for (size_t e = 0; e < sizeof encs / sizeof encs[0]; e++)
		for (size_t h = 0; h < 3; h++)
			for (size_t g = 0; g < 4 && c->n_ike < IKEV2_POLICY_MAX; g++) {
				bool gcm = encs[e].encr == IKE2_ENCR_AES_GCM_16;
				c->ike[c->n_ike++] = (struct ikev2_prop){encs[e].encr, encs[e].bits,
				                                         gcm ? 0 : hashes[h].integ,
				                                         hashes[h].prf, groups[g]};
			}
	static const struct ikev2_esp_prop esp[] = {
		{IKE2_ENCR_AES_GCM_16, 256, 0}, {IKE2_ENCR_AES_GCM_16, 128, 0},
		{IKE2_ENCR_AES_CBC, 256, IKE2_INTEG_HMAC_SHA2_256_128},
		{IKE2_ENCR_AES_CBC, 256, IKE2_INTEG_HMAC_SHA1_96},
		{IKE2_ENCR_AES_CBC, 128, IKE2_INTEG_HMAC_SHA2_256_128},
		{IKE2_ENCR_AES_CBC, 128, IKE2_INTEG_HMAC_SHA1_96},
		{IKE2_ENCR_3DES, 0, IKE2_INTEG_HMAC_SHA2_256_128},
		{IKE2_ENCR_3DES, 0, IKE2_INTEG_HMAC_SHA1_96},
	};
	memcpy(c->esp, esp, sizeof esp);
	c->n_esp = sizeof esp / sizeof esp[0];
	c->server_auth = IKEV2_SAUTH_CERT;
	c->client_auth = IKEV2_CAUTH_EAP_MSCHAPV2;
	c->eap_name = "vnet";
	c->fragmentation = true;
	c->frag_size = 1280;
	c->mobike = true;
	c->ike_life_s = 86400;
	c->child_life_s = 7200;
	c->child_rekey = true;
	c->negotiation_ms = 30000;
	c->dpd_ms = 60000;
	c->retransmit_ms = 2000;
	c->retransmits = 5;
}

static const struct { const char *name; uint16_t encr, bits; } encr_names[] = {
	{"aes128", IKE2_ENCR_AES_CBC, 128}, {"aes256", IKE2_ENCR_AES_CBC, 256},
	{"aes192", IKE2_ENCR_AES_CBC, 192}, {"3des", IKE2_ENCR_3DES, 0},
	{"aes128gcm16", IKE2_ENCR_AES_GCM_16, 128}, {"aes256gcm16", IKE2_ENCR_AES_GCM_16, 256},
};
static const struct { const char *name; uint16_t integ, prf; } hash_names[] = {
	{"sha1", IKE2_INTEG_HMAC_SHA1_96, IKE2_PRF_HMAC_SHA1},
	{"sha256", IKE2_INTEG_HMAC_SHA2_256_128, IKE2_PRF_HMAC_SHA2_256},
	{"sha384", IKE2_INTEG_HMAC_SHA2_384_192, IKE2_PRF_HMAC_SHA2_384},
};
static const struct { const char *name; uint16_t v; } group_names[] = {
	{"modp1024", 2}, {"modp2048", 14}, {"ecp256", 19}, {"ecp384", 20},
};

static int parse_list(struct ikev2_conf *c, const char *text, bool ike, char *why, size_t whysz)
{
	struct ikev2_prop t1[IKEV2_POLICY_MAX];
	struct ikev2_esp_prop t2[IKEV2_ESP_POLICY_MAX];
	size_t n = 0;
	const char *p = text;
	struct ike_list_item it;
	while (ike_list_next(text, &p, &it)) {
		int e, h = -1, g = -1;
		IKE_LIST_FIND(encr_names, it.w[0], it.wl[0], e);
		bool gcm = e >= 0 && encr_names[e].encr == IKE2_ENCR_AES_GCM_16;
		size_t want = ike ? (gcm ? 3 : 3) : (gcm ? 1 : 2);
		if (e >= 0 && it.nw == want && want >= 2)
			IKE_LIST_FIND(hash_names, it.w[1], it.wl[1], h);
		if (ike && e >= 0 && it.nw == 3)
			IKE_LIST_FIND(group_names, it.w[2], it.wl[2], g);
		bool ok = e >= 0 && it.nw == want && (want < 2 || h >= 0) && (!ike || g >= 0);
		if (!ok) {
			snprintf(why, whysz, "column %zu: \"%.*s\" is not %s", it.col, (int)it.len,
			         it.text,
			         ike ? "ENC-HASH-GROUP (aes128, aes256, 3des, aes128gcm16, aes256gcm16; "
			               "sha1, sha256, sha384; modp1024, modp2048, ecp256, ecp384)"
			             : "ENC-HASH (aes128, aes256, 3des; sha1, sha256, sha384) or "
			               "aes128gcm16, aes256gcm16");
			return -1;
		}
		if ((ike && n == IKEV2_POLICY_MAX) || (!ike && n == IKEV2_ESP_POLICY_MAX)) {
			snprintf(why, whysz, "more than %d proposals",
			         ike ? IKEV2_POLICY_MAX : IKEV2_ESP_POLICY_MAX);
			return -1;
		}
		if (ike)
			t1[n++] = (struct ikev2_prop){encr_names[e].encr, encr_names[e].bits,
			                              gcm ? 0 : hash_names[h].integ, hash_names[h].prf,
			                              group_names[g].v};
		else
			t2[n++] = (struct ikev2_esp_prop){encr_names[e].encr, encr_names[e].bits,
			                                  gcm ? 0 : hash_names[h].integ};
	}
	if (!n) {
		snprintf(why, whysz, "no proposal");
		return -1;
	}
	if (ike) {
		memcpy(c->ike, t1, n * sizeof t1[0]);
		c->n_ike = n;
	} else {
		memcpy(c->esp, t2, n * sizeof t2[0]);
		c->n_esp = n;
	}
	return 0;
}

int ikev2_conf_parse_ike(struct ikev2_conf *c, const char *text, char *why, size_t whysz)
{
	return parse_list(c, text, true, why, whysz);
}

int ikev2_conf_parse_esp(struct ikev2_conf *c, const char *text, char *why, size_t whysz)
{
	return parse_list(c, text, false, why, whysz);
}

static const char *encr_name(uint16_t encr, uint16_t bits, char *buf, size_t n)
{
	if (encr == IKE2_ENCR_3DES)
		snprintf(buf, n, "3des");
	else if (encr == IKE2_ENCR_AES_CBC)
		snprintf(buf, n, "aes%u", bits);
	else if (encr == IKE2_ENCR_AES_GCM_16)
		snprintf(buf, n, "aes%ugcm16", bits);
	else
		snprintf(buf, n, "encr%u", encr);
	return buf;
}

static const char *integ_name(uint16_t integ)
{
	switch (integ) {
	case IKE2_INTEG_HMAC_SHA1_96: return "sha1";
	case IKE2_INTEG_HMAC_SHA2_256_128: return "sha256";
	case IKE2_INTEG_HMAC_SHA2_384_192: return "sha384";
	case IKE2_INTEG_HMAC_SHA2_512_256: return "sha512";
	default: return NULL;
	}
}

static const char *prf_name(uint16_t prf)
{
	switch (prf) {
	case IKE2_PRF_HMAC_SHA1: return "prfsha1";
	case IKE2_PRF_HMAC_SHA2_256: return "prfsha256";
	case IKE2_PRF_HMAC_SHA2_384: return "prfsha384";
	case IKE2_PRF_HMAC_SHA2_512: return "prfsha512";
	default: return "prf?";
	}
}

static const char *group_name(uint16_t g, char *buf, size_t n)
{
	for (size_t i = 0; i < sizeof group_names / sizeof group_names[0]; i++)
		if (group_names[i].v == g)
			return group_names[i].name;
	snprintf(buf, n, "group%u", g);
	return buf;
}

static const char *prop_name(const struct ikev2_prop *p, char *buf, size_t n)
{
	char eb[24], gb[16];
	const char *in = integ_name(p->integ);
	snprintf(buf, n, "%s%s%s-%s-%s", encr_name(p->encr, p->keybits, eb, sizeof eb),
	         in ? "-" : "", in ? in : "", prf_name(p->prf), group_name(p->group, gb, sizeof gb));
	return buf;
}

static const char *esp_name(const struct ikev2_esp_prop *p, uint16_t group, char *buf, size_t n)
{
	char eb[24], gb[16];
	const char *in = integ_name(p->integ);
	snprintf(buf, n, "%s%s%s%s%s", encr_name(p->encr, p->keybits, eb, sizeof eb), in ? "-" : "",
	         in ? in : "", group ? "-" : "", group ? group_name(group, gb, sizeof gb) : "");
	return buf;
}

/* Wireshark's names of the IKEv2 transforms in its decryption table (the UAT fields
 * "Encryption algorithm" and "Integrity algorithm"). */
static const char *ws_encr_name(uint16_t encr, uint16_t bits, char *buf, size_t n)
{
	if (encr == IKE2_ENCR_3DES)
		snprintf(buf, n, "3DES [RFC2451]");
	else if (encr == IKE2_ENCR_AES_CBC)
		snprintf(buf, n, "AES-CBC-%u [RFC3602]", bits);
	else if (encr == IKE2_ENCR_AES_GCM_16)
		snprintf(buf, n, "AES-GCM-%u with 16 octet ICV [RFC5282]", bits);
	else
		return NULL;
	return buf;
}

static const char *ws_integ_name(uint16_t integ)
{
	switch (integ) {
	case 0: return "NONE [RFC4306]";
	case IKE2_INTEG_HMAC_SHA1_96: return "HMAC_SHA1_96 [RFC2404]";
	case IKE2_INTEG_HMAC_SHA2_256_128: return "HMAC_SHA2_256_128 [RFC4868]";
	case IKE2_INTEG_HMAC_SHA2_384_192: return "HMAC_SHA2_384_192 [RFC4868]";
	case IKE2_INTEG_HMAC_SHA2_512_256: return "HMAC_SHA2_512_256 [RFC4868]";
	default: return NULL;
	}
}

static size_t hex_put(char *buf, size_t cap, size_t at, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n && at + 3 <= cap; i++, at += 2)
		snprintf(buf + at, 3, "%02x", b[i]);
	return at;
}

size_t ikev2_keys_line(const struct ikev2_sa *sa, bool old, char *buf, size_t cap)
{
	const struct ike_ctx *c = old ? &sa->old : &sa->cur;
	const struct ikev2_keys *k = &c->k;
	char eb[48];
	const char *en = ws_encr_name(k->p.encr, k->p.keybits, eb, sizeof eb);
	const char *in = ws_integ_name(k->aead ? 0 : k->p.integ);
	size_t el = k->ek_len + (k->aead ? 4 : 0);
	/* 2 SPIs, 2 SK_e, 2 SK_a in hex, two names, separators */
	size_t need = 4 * 8 + 4 * el + 4 * k->ak_len + strlen(en ? en : "") + 40 + 12;
	if (!c->set || !en || !in || need > cap)
		return 0;
	size_t at = hex_put(buf, cap, 0, k->ispi, SPI_LEN);
	buf[at++] = ',';
	at = hex_put(buf, cap, at, k->rspi, SPI_LEN);
	buf[at++] = ',';
	at = hex_put(buf, cap, at, k->sk_ei, el);
	buf[at++] = ',';
	at = hex_put(buf, cap, at, k->sk_er, el);
	at += (size_t)snprintf(buf + at, cap - at, ",\"%s\",", en);
	at = hex_put(buf, cap, at, k->sk_ai, k->ak_len);
	buf[at++] = ',';
	at = hex_put(buf, cap, at, k->sk_ar, k->ak_len);
	at += (size_t)snprintf(buf + at, cap - at, ",\"%s\"\n", in);
	return at;
}

/* ---- creation and accessors ----------------------------------------------------------- */

struct ikev2_sa *ikev2_new(const struct ikev2_conf *conf, const struct ikev2_cbs *cbs,
                           const struct ikev2_addr *local, const struct ikev2_addr *peer,
                           uint64_t now)
{
	struct ikev2_sa *sa = ike_pool_take(&sa_pool);
	if (!sa)
		return NULL;
	sa->conf = conf;
	sa->cbs = cbs;
	sa->local = *local;
	sa->peer = *peer;
	sa->on_4500 = local->port == 4500;
	sa->neg_deadline = now + conf->negotiation_ms;
	sa->expires = IKEV2_NEVER;
	sa->last_rx = now;
	do
		cbs->random(cbs->ctx, sa->spi_r, SPI_LEN);
	while (!memcmp(sa->spi_r, "\0\0\0\0\0\0\0\0", SPI_LEN));
	return sa;
}

void ikev2_free(struct ikev2_sa *sa)
{
	if (!sa)
		return;
	if (sa->sc)
		scratch_return(sa, true);
	ctx_clear(&sa->cur);
	ctx_clear(&sa->old);
	irk_clear(sa);
	lose_clear(sa);
	out_free(&sa->req.msg);
	free(sa->init_req);
	reasm_drop(sa);
	ike_pool_give(&sa_pool, sa); /* wiped: keys, nonces and the MSK are in it */
}

enum ikev2_state ikev2_state(const struct ikev2_sa *sa) { return sa->state; }
const char *ikev2_cause(const struct ikev2_sa *sa) { return sa->cause; }
/* Our SPI and the peer's of an IKE SA: the order of the header follows its original
 * initiator. */
static const uint8_t *ctx_ours(const struct ike_ctx *c)
{
	return c->we_i ? c->k.ispi : c->k.rspi;
}
static const uint8_t *ctx_peers(const struct ike_ctx *c)
{
	return c->we_i ? c->k.rspi : c->k.ispi;
}
const uint8_t *ikev2_ispi(const struct ikev2_sa *sa)
{
	return sa->cur.set ? ctx_peers(&sa->cur) : sa->spi_i;
}
const uint8_t *ikev2_rspi(const struct ikev2_sa *sa)
{
	return sa->cur.set ? ctx_ours(&sa->cur) : sa->spi_r;
}
const uint8_t *ikev2_rspi_old(const struct ikev2_sa *sa)
{
	static const uint8_t zero[SPI_LEN];
	return sa->old.set ? ctx_ours(&sa->old) : zero;
}
const uint8_t *ikev2_rspi_lost(const struct ikev2_sa *sa)
{
	static const uint8_t zero[SPI_LEN];
	return sa->lose.c.set ? ctx_ours(&sa->lose.c) : zero;
}
bool ikev2_we_initiated(const struct ikev2_sa *sa)
{
	return sa->cur.set && sa->cur.we_i;
}
const struct ikev2_addr *ikev2_peer(const struct ikev2_sa *sa) { return &sa->peer; }
bool ikev2_nat(const struct ikev2_sa *sa) { return sa->nat_local || sa->nat_peer; }
bool ikev2_half_open(const struct ikev2_sa *sa)
{
	return sa->state == IKEV2_START || sa->state == IKEV2_INIT_DONE;
}
const char *ikev2_peer_id(const struct ikev2_sa *sa) { return sa->peer_id; }
const char *ikev2_user(const struct ikev2_sa *sa) { return sa->user; }

const struct ikev2_child *ikev2_child(const struct ikev2_sa *sa, uint32_t spi_in)
{
	for (int i = 0; i < IKEV2_CHILDREN; i++)
		if (sa->child[i].used && sa->child[i].spi_in == spi_in)
			return &sa->child[i];
	return NULL;
}

bool ikev2_peek(const uint8_t *buf, size_t len, uint8_t ispi[8], uint8_t rspi[8],
                bool *init_request)
{
	if (len < IKE_HDR_LEN)
		return false;
	memcpy(ispi, buf, 8);
	memcpy(rspi, buf + 8, 8);
	if (init_request)
		*init_request = buf[17] >> 4 == 2 && buf[18] == IKE2_EXCH_SA_INIT &&
		                !(buf[19] & IKE2_FLAG_R) && !memcmp(rspi, "\0\0\0\0\0\0\0\0", 8);
	return true;
}

bool ikev2_matches(const struct ikev2_sa *sa, const uint8_t *buf, size_t len)
{
	uint8_t i[8], r[8];
	bool init;
	if (!ikev2_peek(buf, len, i, r, &init))
		return false;
	if (init)
		return !memcmp(i, sa->spi_i, 8) && sa->state != IKEV2_DEAD;
	if (sa->cur.set && !memcmp(i, sa->cur.k.ispi, 8) && !memcmp(r, sa->cur.k.rspi, 8))
		return true;
	if (sa->old.set && !memcmp(i, sa->old.k.ispi, 8) && !memcmp(r, sa->old.k.rspi, 8))
		return true;
	return sa->lose.c.set && !memcmp(i, sa->lose.c.k.ispi, 8) &&
	       !memcmp(r, sa->lose.c.k.rspi, 8);
}

/* ---- fragment reassembly ---------------------------------------------------------------- */

void ikev2_reasm_reset(struct ikev2_reasm *r)
{
	r->msgid = 0;
	r->total = 0;
	r->have = 0;
	r->first_next = 0;
	r->used = 0;
	memset(r->len, 0, sizeof r->len);
	memset(r->off, 0, sizeof r->off);
}

enum ikev2_reasm_rc ikev2_reasm_add(struct ikev2_reasm *r, uint32_t msgid, uint16_t num,
                                    uint16_t total, uint8_t next, const uint8_t *data,
                                    size_t n)
{
	if (!num || !total || num > total || total > IKEV2_FRAGS_MAX || !n)
		return IKEV2_REASM_BAD;
	if (r->total && r->msgid == msgid) {
		if (total < r->total)
			return IKEV2_REASM_STALE;
		if (total > r->total)
			ikev2_reasm_reset(r); /* re-fragmented smaller: start over */
	} else if (r->total && msgid < r->msgid) {
		return IKEV2_REASM_STALE;
	} else if (r->total) {
		ikev2_reasm_reset(r);
	}
	if (!r->total) {
		r->msgid = msgid;
		r->total = total;
	}
	if (r->len[num])
		return IKEV2_REASM_DUP;
	if (n > sizeof r->buf - r->used) {
		ikev2_reasm_reset(r);
		return IKEV2_REASM_BAD;
	}
	memcpy(r->buf + r->used, data, n);
	r->off[num] = (uint16_t)r->used;
	r->len[num] = (uint16_t)n;
	r->used += (uint32_t)n;
	if (num == 1)
		r->first_next = next;
	r->have++;
	return r->have == r->total ? IKEV2_REASM_DONE : IKEV2_REASM_MORE;
}

size_t ikev2_reasm_take(struct ikev2_reasm *r, uint8_t *out, size_t cap, uint8_t *first_next)
{
	if (!r->total || r->have != r->total || r->used > cap)
		return 0;
	size_t at = 0;
	for (unsigned i = 1; i <= r->total; i++) {
		memcpy(out + at, r->buf + r->off[i], r->len[i]);
		at += r->len[i];
	}
	*first_next = r->first_next;
	ikev2_reasm_reset(r);
	return at;
}

/* ---- cookies ------------------------------------------------------------------------- */

void ikev2_cookies_init(struct ikev2_cookies *c, const uint8_t fresh[32], uint64_t now)
{
	memset(c, 0, sizeof *c);
	c->version = 1;
	memcpy(c->secret[1], fresh, 32);
	memcpy(c->secret[0], fresh, 32); /* no older secret yet: the same one */
	c->rotated = now;
}

bool ikev2_cookies_rotate(struct ikev2_cookies *c, const uint8_t fresh[32], uint64_t now)
{
	if (now - c->rotated < IKEV2_COOKIE_ROTATE_MS)
		return false;
	c->version++;
	memcpy(c->secret[c->version & 1], fresh, 32);
	c->rotated = now;
	return true;
}

/* Cookie = VersionIDofSecret | SHA2-256(Ni | IPi | SPIi | secret) */
static void cookie_make(const struct ikev2_cookies *c, uint32_t version, const uint8_t *ni,
                        size_t ni_len, const struct ikev2_addr *peer, const uint8_t spi[8],
                        uint8_t out[36])
{
	ike_put32(out, version);
	struct ike_iov v[4] = {{ni, ni_len}, {peer->ip, ike_addr_len(peer->family)}, {spi, 8},
	                       {c->secret[version & 1], 32}};
	ike1_hash(IKE1_HASH_SHA256, v, 4, out + 4);
}

enum ikev2_cookie_rc ikev2_cookie_check(const struct ikev2_cookies *c, const uint8_t *buf,
                                        size_t len, const struct ikev2_addr *peer,
                                        unsigned half_open, unsigned threshold,
                                        uint8_t *reply, size_t cap, size_t *reply_len)
{
	*reply_len = 0;
	bool init;
	uint8_t ispi[8], rspi[8];
	if (!ikev2_peek(buf, len, ispi, rspi, &init) || !init || len > IKEV2_DATAGRAM_MAX)
		return IKEV2_COOKIE_DROP;
	/* the decoded message of a scratch, not one of its own: no allocation per request */
	struct scratch *x = scratch_take();
	struct diag_err err;
	if (!x)
		return IKEV2_COOKIE_DROP;
	struct ike_msg *m = &x->m;
	if (ike_decode(buf, len, m, &err) < 0 || m->msgid) {
		scratch_give(x);
		return IKEV2_COOKIE_DROP;
	}
	const struct ike_payload *ni = NULL, *ck = NULL;
	for (unsigned i = 0; i < m->npl; i++) {
		if (m->pl[i].type == IKE2_PL_NONCE && !ni)
			ni = &m->pl[i];
		/* RFC 7296 2.6: the COOKIE notify comes first */
		if (i == 0 && m->pl[i].type == IKE2_PL_N && m->pl[i].notify == N_COOKIE)
			ck = &m->pl[i];
	}
	enum ikev2_cookie_rc rc = IKEV2_COOKIE_PASS;
	if (!ni || ni->data_len < 16 || ni->data_len > 256) {
		rc = IKEV2_COOKIE_DROP;
	} else if (ck && ck->data_len == 36) {
		uint32_t ver = ike_get32(ck->data);
		uint8_t want[36];
		if (ver == c->version || ver + 1 == c->version) {
			cookie_make(c, ver, ni->data, ni->data_len, peer, ispi, want);
			if (!CRYPTO_memcmp(want, ck->data, 36)) {
				scratch_give(x);
				return IKEV2_COOKIE_PASS;
			}
		}
		rc = IKEV2_COOKIE_SEND;
	} else if (half_open >= threshold) {
		rc = IKEV2_COOKIE_SEND;
	}
	if (rc == IKEV2_COOKIE_SEND) {
		uint8_t ck_new[36];
		cookie_make(c, c->version, ni->data, ni->data_len, peer, ispi, ck_new);
		ike_msg_init(m, 2, IKE2_EXCH_SA_INIT, IKE2_FLAG_R, 0, ispi, NULL);
		struct ike_payload *n = ike_add_payload(m, IKE2_PL_N, ck_new, sizeof ck_new);
		n->notify = N_COOKIE;
		*reply_len = ike_encode(m, reply, cap);
		if (!*reply_len)
			rc = IKEV2_COOKIE_DROP;
	}
	scratch_give(x);
	return rc;
}

/* ---- keys and protection ------------------------------------------------------------------ */

/* Keep the protected message in sa->ob (n pieces of len[i] bytes) in o: its buffer grows
 * when this one is longer than any kept in it before, the first at 512 bytes (most
 * replies fit), so a reply costs no allocation of its own. */
static bool out_keep(struct ikev2_sa *sa, struct out_msg *o, const size_t *len, size_t n,
                     size_t total)
{
	if (total > o->cap) {
		size_t cap = total < 512 ? 512 : total;
		uint8_t *nb = realloc(o->buf, cap);
		if (!nb)
			return false;
		o->buf = nb;
		o->cap = cap;
	}
	memcpy(o->buf, sa->ob, total);
	memcpy(o->len, len, n * sizeof len[0]);
	o->n = n;
	o->total = total;
	o->have = true;
	return true;
}

/* Encode sa->o (its payloads go inside SK) and protect it with c's keys, as the SA's
 * original initiator or responder, into sa->ob: one datagram, or fragments of at most
 * conf.frag_size when the peer takes them. Then kept in o, or with o NULL sent at once
 * and not kept. */
static bool protect(struct ikev2_sa *sa, const struct ike_ctx *c, uint8_t exch, bool response,
                    uint32_t msgid, struct out_msg *o)
{
	const struct ikev2_keys *k = &c->k;
	if (o) {
		o->have = false;
		o->n = o->total = 0;
		o->resends = 0;
		o->msgid = msgid;
	}
	size_t len = ike_encode(sa->o, sa->tx, IKE_HDR_LEN + IKEV2_MSG_MAX);
	if (!len)
		return false;
	const uint8_t *inner = sa->tx + IKE_HDR_LEN;
	size_t n = len - IKE_HDR_LEN;
	uint8_t next = sa->o->npl ? sa->tx[16] : 0;
	uint8_t flags = (uint8_t)((response ? IKE2_FLAG_R : 0) | (c->we_i ? IKE2_FLAG_I : 0));
	uint8_t *buf = sa->ob;
	size_t lens[IKEV2_FRAGS_MAX], nlen, total;
	size_t overhead = IKE_HDR_LEN + 8 + k->iv_len + k->icv_len + k->block;
	size_t limit = sa->conf->frag_size;
	/* the room for payload bytes in one fragment: whole cipher blocks, at least 32 */
	size_t chunk = limit > overhead + 4 + 32 ? limit - overhead - 4 : 0;
	chunk -= k->aead ? 0 : chunk % k->block;
	bool frag = sa->conf->fragmentation && sa->peer_frag && exch != IKE2_EXCH_SA_INIT &&
	            overhead + n > limit && chunk >= 32;
	if (!frag) {
		size_t l = ikev2_seal(k, sa->cbs, c->we_i, exch, flags, msgid, false, 0, 0, next, inner, n, buf,
		                    OUT_MAX);
		if (!l)
			return false;
		lens[0] = l;
		nlen = 1;
		total = l;
	} else {
		size_t nf = (n + chunk - 1) / chunk;
		if (nf > IKEV2_FRAGS_MAX)
			return false;
		size_t at = 0;
		for (size_t i = 0; i < nf; i++) {
			size_t take = n - i * chunk < chunk ? n - i * chunk : chunk;
			size_t l = ikev2_seal(k, sa->cbs, c->we_i, exch, flags, msgid, true, (uint16_t)(i + 1),
			                    (uint16_t)nf, i ? 0 : next, inner + i * chunk, take, buf + at,
			                    OUT_MAX - at);
			if (!l)
				return false;
			lens[i] = l;
			at += l;
		}
		nlen = nf;
		total = at;
	}
	if (o)
		return out_keep(sa, o, lens, nlen, total);
	if (sa->cbs->send)
		for (size_t i = 0, off = 0; i < nlen; off += lens[i], i++)
			sa->cbs->send(sa->cbs->ctx, buf + off, lens[i], sa->on_4500);
	return true;
}

/* Send sa->o as the response to the request msgid and keep it for retransmissions. */
static void respond(struct ikev2_sa *sa, struct ike_ctx *c, uint8_t exch, uint32_t msgid)
{
	if (!protect(sa, c, exch, true, msgid, &c->resp)) {
		ev(sa, IKEV2_EV_INFO, "response to message %u could not be built", msgid);
		return;
	}
	c->next_mid = msgid + 1;
	send_out(sa, &c->resp);
}

/* An unprotected IKE_SA_INIT response carrying one notify. */
static void send_init_notify(struct ikev2_sa *sa, uint16_t type, const uint8_t *data, size_t n)
{
	ike_msg_init(sa->o, 2, IKE2_EXCH_SA_INIT, IKE2_FLAG_R, 0, sa->spi_i, NULL);
	struct ike_payload *p = ike_add_payload(sa->o, IKE2_PL_N, data, n);
	p->notify = type;
	size_t len = ike_encode(sa->o, sa->tx, IKE_HDR_LEN + IKEV2_MSG_MAX);
	if (len && sa->cbs->send)
		sa->cbs->send(sa->cbs->ctx, sa->tx, len, sa->on_4500);
}

/* Start sa->o as a protected message of the current SA. */
static void msg_begin(struct ikev2_sa *sa, const struct ike_ctx *c, uint8_t exch, bool response,
                      uint32_t msgid)
{
	ike_msg_init(sa->o, 2, exch,
	             (uint8_t)((response ? IKE2_FLAG_R : 0) | (c->we_i ? IKE2_FLAG_I : 0)), msgid,
	             c->k.ispi, c->k.rspi);
}

static struct ike_payload *add_notify(struct ikev2_sa *sa, uint16_t type, uint8_t proto,
                                      const uint8_t *spi, uint8_t spi_size, const uint8_t *data,
                                      size_t n)
{
	return ikev2_add_notify(sa->o, type, proto, spi, spi_size, data, n);
}

/* A protected response with one error notify. */
static void respond_notify(struct ikev2_sa *sa, struct ike_ctx *c, uint8_t exch, uint32_t msgid,
                           uint16_t type)
{
	msg_begin(sa, c, exch, true, msgid);
	add_notify(sa, type, 0, NULL, 0, NULL, 0);
	respond(sa, c, exch, msgid);
}

/* Our own request (liveness check, DELETE) with sa->o built under c: sent and
 * retransmitted. */
static void request_send_on(struct ikev2_sa *sa, struct ike_ctx *c, bool dpd, uint64_t now)
{
	uint32_t mid = c->our_mid;
	if (!protect(sa, c, sa->o->exchange, false, mid, &sa->req.msg))
		return;
	c->our_mid++;
	sa->req.active = true;
	sa->req.on_old = c == &sa->old;
	sa->req.dpd = dpd;
	sa->req.tries = 0;
	sa->req.next_at = now + sa->conf->retransmit_ms;
	send_out(sa, &sa->req.msg);
}

static void request_send(struct ikev2_sa *sa, bool dpd, uint64_t now)
{
	request_send_on(sa, &sa->cur, dpd, now);
}

static void send_delete_children(struct ikev2_sa *sa, const uint32_t *spis, size_t n,
                                 uint64_t now)
{
	uint8_t b[4 * IKEV2_CHILDREN];
	if (!n || n > IKEV2_CHILDREN || !sa->sc)
		return;
	for (size_t i = 0; i < n; i++)
		ike_put32(b + 4 * i, spis[i]);
	msg_begin(sa, &sa->cur, IKE2_EXCH_INFORMATIONAL, false, sa->cur.our_mid);
	struct ike_payload *d = ike_add_payload(sa->o, IKE2_PL_D, b, 4 * n);
	d->protocol = PROTO_ESP;
	d->spi_size = 4;
	d->nspi = (uint16_t)n;
	request_send(sa, false, now);
}

/* ---- proposals ---------------------------------------------------------------------------- */

/* The key length attribute of a transform, 0 when absent. */
static uint16_t xf_keybits(const struct ike_msg *m, const struct ike_transform *x)
{
	for (unsigned k = 0; k < x->attr_count; k++) {
		const struct ike_attr *a = &m->attrs[x->attr_first + k];
		if (a->type == ATTR_KEY_LENGTH)
			return (uint16_t)a->value;
	}
	return 0;
}

static bool xf_unknown_attr(const struct ike_msg *m, const struct ike_transform *x)
{
	for (unsigned k = 0; k < x->attr_count; k++)
		if (m->attrs[x->attr_first + k].type != ATTR_KEY_LENGTH)
			return true;
	return false;
}

/* Is the transform (type, id[, bits]) in the proposal? `none_ok`: an absent type or the
 * id 0 counts for id 0. */
static bool offered(const struct ike_msg *m, const struct ike_proposal *pr, uint8_t type,
                    uint16_t id, uint16_t bits)
{
	bool any = false;
	for (unsigned k = 0; k < pr->xf_count; k++) {
		const struct ike_transform *x = &m->xforms[pr->xf_first + k];
		if (x->type != type)
			continue;
		any = true;
		if (x->id != id || xf_unknown_attr(m, x))
			continue;
		if (type == XF_ENCR && id != IKE2_ENCR_3DES && xf_keybits(m, x) != bits)
			continue;
		return true;
	}
	return !id && !any;
}

static void offer_text(const struct ike_msg *m, const struct ike_payload *sap, char *buf,
                       size_t n)
{
	size_t l = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < sap->prop_count && l + 2 < n; i++) {
		const struct ike_proposal *pr = &m->props[sap->prop_first + i];
		l += (size_t)snprintf(buf + l, n - l, "%s#%u:", i ? "; " : "", pr->num);
		for (unsigned k = 0; k < pr->xf_count && l + 2 < n; k++) {
			const struct ike_transform *x = &m->xforms[pr->xf_first + k];
			char eb[24], gb[16];
			const char *name = NULL;
			if (x->type == XF_ENCR)
				name = encr_name(x->id, xf_keybits(m, x), eb, sizeof eb);
			else if (x->type == XF_INTEG)
				name = integ_name(x->id);
			else if (x->type == XF_PRF)
				name = prf_name(x->id);
			else if (x->type == XF_DH)
				name = group_name(x->id, gb, sizeof gb);
			else if (x->type == XF_ESN)
				name = x->id ? "esn" : "noesn";
			if (!name) {
				snprintf(gb, sizeof gb, "%u/%u", x->type, x->id);
				name = gb;
			}
			l += (size_t)snprintf(buf + l, n - l, "%s%s", k ? "," : "", name);
		}
	}
}

/* The first IKE proposal of the peer's order that a policy entry matches (the policy's
 * order decides within a proposal); with `group` only entries of that group. */
static bool ike_choose(const struct ikev2_sa *sa, const struct ike_msg *m,
                       const struct ike_payload *sap, uint8_t spi_size, uint16_t group,
                       struct ikev2_prop *pick, const struct ike_proposal **ppr)
{
	for (unsigned i = 0; i < sap->prop_count; i++) {
		const struct ike_proposal *pr = &m->props[sap->prop_first + i];
		if (pr->protocol != PROTO_IKE || pr->spi_size != spi_size)
			continue;
		for (size_t j = 0; j < sa->conf->n_ike; j++) {
			const struct ikev2_prop *c = &sa->conf->ike[j];
			if (group && c->group != group)
				continue;
			if (!ike_dh_supported(c->group))
				continue;
			if (offered(m, pr, XF_ENCR, c->encr, c->keybits) &&
			    offered(m, pr, XF_INTEG, c->integ, 0) && offered(m, pr, XF_PRF, c->prf, 0) &&
			    offered(m, pr, XF_DH, c->group, 0)) {
				*pick = *c;
				*ppr = pr;
				return true;
			}
		}
	}
	return false;
}

/* The ESP proposal: a policy entry, no ESN, a DH group only with `pfs_group` (CREATE_CHILD_SA
 * with KE; 0: DH transforms are ignored, as IKE_AUTH's child takes its keys without). */
static bool esp_choose(const struct ikev2_sa *sa, const struct ike_msg *m,
                       const struct ike_payload *sap, uint16_t pfs_group, struct child_req *r)
{
	for (unsigned i = 0; i < sap->prop_count; i++) {
		const struct ike_proposal *pr = &m->props[sap->prop_first + i];
		if (pr->protocol != PROTO_ESP || pr->spi_size != 4)
			continue;
		if (!offered(m, pr, XF_ESN, 0, 0))
			continue;
		if (pfs_group && !offered(m, pr, XF_DH, pfs_group, 0))
			continue;
		for (size_t j = 0; j < sa->conf->n_esp; j++) {
			const struct ikev2_esp_prop *c = &sa->conf->esp[j];
			if (offered(m, pr, XF_ENCR, c->encr, c->keybits) &&
			    offered(m, pr, XF_INTEG, c->integ, 0)) {
				r->pick = *c;
				r->group = pfs_group;
				r->prop_num = pr->num;
				r->spi_out = ike_get32(pr->spi);
				return true;
			}
		}
	}
	return false;
}

static void add_ike_proposal(struct ikev2_sa *sa, uint8_t num, const uint8_t *spi,
                             uint8_t spi_size, const struct ikev2_prop *p)
{
	struct ike_payload *s = ike_add_payload(sa->o, IKE2_PL_SA, NULL, 0);
	struct ike_proposal *np = s ? ike_add_proposal(sa->o, s, num, PROTO_IKE, spi, spi_size)
	                            : NULL;
	if (!np)
		return;
	ike_add_transform(sa->o, np, XF_ENCR, p->encr);
	if (p->encr != IKE2_ENCR_3DES)
		ike_add_attr(sa->o, ATTR_KEY_LENGTH, true, p->keybits, NULL, 0);
	ike_add_transform(sa->o, np, XF_PRF, p->prf);
	if (p->integ)
		ike_add_transform(sa->o, np, XF_INTEG, p->integ);
	ike_add_transform(sa->o, np, XF_DH, p->group);
}

static void add_esp_proposal(struct ikev2_sa *sa, const struct child_req *r, const uint8_t spi[4])
{
	struct ike_payload *s = ike_add_payload(sa->o, IKE2_PL_SA, NULL, 0);
	struct ike_proposal *np = s ? ike_add_proposal(sa->o, s, r->prop_num, PROTO_ESP, spi, 4)
	                            : NULL;
	if (!np)
		return;
	ike_add_transform(sa->o, np, XF_ENCR, r->pick.encr);
	if (r->pick.encr != IKE2_ENCR_3DES)
		ike_add_attr(sa->o, ATTR_KEY_LENGTH, true, r->pick.keybits, NULL, 0);
	if (r->pick.integ)
		ike_add_transform(sa->o, np, XF_INTEG, r->pick.integ);
	if (r->group)
		ike_add_transform(sa->o, np, XF_DH, r->group);
	ike_add_transform(sa->o, np, XF_ESN, 0);
}

/* ---- IKE_SA_INIT ---------------------------------------------------------------------------- */

static void sa_init(struct ikev2_sa *sa, const uint8_t *raw, size_t len, const uint8_t d[32])
{
	const struct ike_msg *m = sa->m;
	const struct ike_payload *sap = NULL, *ke = NULL, *ni = NULL;
	bool natd_src_seen = false, natd_src_match = false, natd_dst_seen = false,
	     natd_dst_match = false;
	uint8_t zero[8] = {0}, h_peer[20], h_local[20];
	ikev2_natd_hash(m->ispi, zero, &sa->peer, h_peer);
	ikev2_natd_hash(m->ispi, zero, &sa->local, h_local);
	char vendors[160] = "";
	size_t vl = 0;
	sa->peer_frag = sa->peer_sighash_sha256 = sa->peer_sighash_sha1 = false;
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		switch (p->type) {
		case IKE2_PL_SA: if (!sap) sap = p; break;
		case IKE2_PL_KE: if (!ke) ke = p; break;
		case IKE2_PL_NONCE: if (!ni) ni = p; break;
		case IKE2_PL_V: {
			const char *name = ike_vendor_name(p->data, p->data_len);
			if (name && vl < sizeof vendors - 2)
				vl += (size_t)snprintf(vendors + vl, sizeof vendors - vl, "%s%s",
				                       vl ? ", " : "", name);
			break;
		}
		case IKE2_PL_N:
			if (p->notify == N_NATD_SRC) {
				natd_src_seen = true;
				natd_src_match |= p->data_len == 20 && !memcmp(p->data, h_peer, 20);
			} else if (p->notify == N_NATD_DST) {
				natd_dst_seen = true;
				natd_dst_match |= p->data_len == 20 && !memcmp(p->data, h_local, 20);
			} else if (p->notify == N_FRAG_SUPPORTED) {
				sa->peer_frag = true;
			} else if (p->notify == N_SIG_HASH_ALGS) {
				for (size_t k = 0; k + 1 < p->data_len; k += 2) {
					uint16_t h = ike_get16(p->data + k);
					sa->peer_sighash_sha256 |= h == SIGHASH_SHA256;
					sa->peer_sighash_sha1 |= h == SIGHASH_SHA1;
				}
			}
			break;
		default:
			if (p->critical) {
				send_init_notify(sa, N_UNSUPPORTED_CRITICAL, &p->type, 1);
				fail(sa, "ike.payload-malformed", "IKE_SA_INIT with an unknown critical "
				     "payload %u", p->type);
				return;
			}
			break;
		}
	}
	if (vl)
		ev(sa, IKEV2_EV_INFO, "peer vendor IDs: %s", vendors);
	if (!sap || !ke || !ni || ni->data_len < 16 || ni->data_len > 256 || !sap->prop_count) {
		send_init_notify(sa, N_INVALID_SYNTAX, NULL, 0);
		fail(sa, "ike.payload-malformed", "IKE_SA_INIT %s", !sap ? "without an SA payload"
		     : !ke ? "without a KE payload" : !ni ? "without a nonce"
		     : !sap->prop_count ? "without a proposal" : "with a nonce not of 16 to 256 bytes");
		return;
	}
	struct ikev2_prop pick;
	const struct ike_proposal *pr = NULL;
	bool same_group = ike_choose(sa, m, sap, 0, ke->group, &pick, &pr);
	if (!same_group && !ike_choose(sa, m, sap, 0, 0, &pick, &pr)) {
		char off[240], cb[160] = "", nb[64];
		offer_text(m, sap, off, sizeof off);
		size_t cl = 0;
		for (size_t i = 0; i < sa->conf->n_ike && cl + 2 < sizeof cb; i++)
			cl += (size_t)snprintf(cb + cl, sizeof cb - cl, "%s%s", cl ? ", " : "",
			                       prop_name(&sa->conf->ike[i], nb, sizeof nb));
		send_init_notify(sa, N_NO_PROPOSAL, NULL, 0);
		fail(sa, "ike.v2.no-proposal", "no IKE proposal acceptable: offered %s; configured %s",
		     off, cb);
		return;
	}
	unsigned want_len = ike_dh_ke_len(pick.group);
	if (!same_group || ke->data_len != want_len) {
		uint8_t g[2];
		ike_put16(g, pick.group);
		char gb[16];
		if (same_group)
			ev(sa, IKEV2_EV_INFO, "ike.ke-length: KE of group %u has %zu bytes, not %u: "
			   "INVALID_KE_PAYLOAD", ke->group, ke->data_len, want_len);
		else
			ev(sa, IKEV2_EV_INFO, "KE of group %u, %s chosen: INVALID_KE_PAYLOAD", ke->group,
			   group_name(pick.group, gb, sizeof gb));
		send_init_notify(sa, N_INVALID_KE, g, 2);
		return; /* the peer retries with the same SPI */
	}
	struct ike_dh *dh = ike_dh_new(pick.group);
	uint8_t gr[IKE_DH_MAX], gir[IKE_DH_MAX];
	size_t gr_len = dh ? ike_dh_public(dh, gr, sizeof gr) : 0;
	size_t gir_len = gr_len ? ike_dh_shared(dh, ke->data, ke->data_len, gir, sizeof gir) : 0;
	ike_dh_free(dh);
	if (!gir_len) {
		send_init_notify(sa, N_INVALID_SYNTAX, NULL, 0);
		fail(sa, "ike.payload-malformed", "the peer's KE is not a value of group %u",
		     pick.group);
		return;
	}
	memcpy(sa->spi_i, m->ispi, 8);
	struct ikev2_keys *k = &sa->cur.k;
	memset(k, 0, sizeof *k);
	memcpy(k->ispi, m->ispi, 8);
	memcpy(k->rspi, sa->spi_r, 8);
	memcpy(sa->ni, ni->data, ni->data_len);
	sa->ni_len = ni->data_len;
	sa->cbs->random(sa->cbs->ctx, sa->nr, NONCE_LEN);
	uint8_t skeyseed[IKE_HASH_MAX];
	bool ok = ikev2_keys_shape(k, &pick) &&
	          ike2_skeyseed(pick.prf, sa->ni, sa->ni_len, sa->nr, NONCE_LEN, gir, gir_len,
	                        skeyseed) &&
	          ikev2_keys_derive(k, skeyseed, sa->ni, sa->ni_len, sa->nr, NONCE_LEN);
	OPENSSL_cleanse(skeyseed, sizeof skeyseed);
	OPENSSL_cleanse(gir, sizeof gir);
	if (!ok) {
		send_init_notify(sa, N_NO_PROPOSAL, NULL, 0);
		fail(sa, "ike.v2.internal", "key derivation failed");
		return;
	}
	sa->nat_peer = natd_src_seen && !natd_src_match;
	sa->nat_local = natd_dst_seen && !natd_dst_match;

	/* response: SA, KE, Nr, NAT-D, FRAGMENTATION_SUPPORTED, SIGNATURE_HASH_ALGORITHMS */
	ike_msg_init(sa->o, 2, IKE2_EXCH_SA_INIT, IKE2_FLAG_R, 0, k->ispi, k->rspi);
	add_ike_proposal(sa, pr->num, NULL, 0, &pick);
	struct ike_payload *kp = ike_add_payload(sa->o, IKE2_PL_KE, gr, gr_len);
	kp->group = pick.group;
	ike_add_payload(sa->o, IKE2_PL_NONCE, sa->nr, NONCE_LEN);
	uint8_t hs[20], hd[20];
	if (natd_src_seen || natd_dst_seen) {
		ikev2_natd_hash(k->ispi, k->rspi, &sa->local, hs);
		ikev2_natd_hash(k->ispi, k->rspi, &sa->peer, hd);
		add_notify(sa, N_NATD_SRC, 0, NULL, 0, hs, 20);
		add_notify(sa, N_NATD_DST, 0, NULL, 0, hd, 20);
	}
	if (sa->conf->fragmentation && sa->peer_frag)
		add_notify(sa, N_FRAG_SUPPORTED, 0, NULL, 0, NULL, 0);
	static const uint8_t sighash[] = {0, SIGHASH_SHA256, 0, SIGHASH_SHA384, 0, SIGHASH_SHA512};
	if (sa->conf->server_auth == IKEV2_SAUTH_CERT)
		add_notify(sa, N_SIG_HASH_ALGS, 0, NULL, 0, sighash, sizeof sighash);
	size_t olen = ike_encode(sa->o, sa->tx, IKE_HDR_LEN + IKEV2_MSG_MAX);
	free(sa->init_req);
	sa->init_resp = NULL;
	sa->init_req = olen && len <= INIT_MAX && olen <= INIT_MAX ? malloc(len + olen) : NULL;
	if (!sa->init_req) {
		fail(sa, "ike.v2.internal", "IKE_SA_INIT response could not be built");
		return;
	}
	memcpy(sa->init_req, raw, len);
	sa->init_req_len = len;
	sa->init_resp = sa->init_req + len;
	memcpy(sa->init_resp, sa->tx, olen);
	sa->init_resp_len = olen;
	memcpy(sa->init_req_digest, d, 32);
	sa->cur.set = true;
	sa->cur.next_mid = 1;
	sa->cur.our_mid = 0;
	sa->state = IKEV2_INIT_DONE;
	sa->accepted = true;
	char nb[64];
	ev(sa, IKEV2_EV_TRACE, "IKE_SA_INIT: chose %s%s%s", prop_name(&pick, nb, sizeof nb),
	   ikev2_nat(sa) ? ", NAT" : "", sa->peer_frag ? ", fragmentation" : "");
	if (sa->cbs->send)
		sa->cbs->send(sa->cbs->ctx, sa->init_resp, sa->init_resp_len, sa->on_4500);
}

/* ---- authentication ---------------------------------------------------------------------- */

/* <SignedOctets> of the initiator (i = true: RealMessage1 | Nr | prf(SK_pi, IDi')) or ours
 * (RealMessage2 | Ni | prf(SK_pr, IDr')), hashed in pieces: v[3] and the MACed ID. */
static bool signed_octets(struct ikev2_sa *sa, bool i, const uint8_t *id, size_t id_len,
                          struct ike_iov v[3], uint8_t maced[IKE_HASH_MAX])
{
	if (i)
		return ikev2_signed_octets(&sa->cur.k, true, sa->init_req, sa->init_req_len, sa->nr,
		                           NONCE_LEN, id, id_len, v, maced);
	return ikev2_signed_octets(&sa->cur.k, false, sa->init_resp, sa->init_resp_len, sa->ni,
	                           sa->ni_len, id, id_len, v, maced);
}

/* AUTH = prf(prf(key, "Key Pad for IKEv2"), <SignedOctets>) */
static bool shared_key_auth(struct ikev2_sa *sa, bool i, const uint8_t *key, size_t key_len,
                            const uint8_t *id, size_t id_len, uint8_t *out)
{
	struct ike_iov v[3];
	uint8_t maced[IKE_HASH_MAX];
	return signed_octets(sa, i, id, id_len, v, maced) &&
	       ikev2_shared_key_auth(&sa->cur.k, key, key_len, v, out);
}

/* IDr' of our identity into out: its length. */
static size_t our_id(const struct ikev2_sa *sa, uint8_t *out, size_t cap)
{
	const struct ikev2_conf *c = sa->conf;
	if (c->id && c->id_len && 4 + c->id_len <= cap) {
		out[0] = c->id_type;
		out[1] = out[2] = out[3] = 0;
		memcpy(out + 4, c->id, c->id_len);
		return 4 + c->id_len;
	}
	/* no identity configured: our address */
	size_t al = ike_addr_len(sa->local.family);
	out[0] = sa->local.family == 6 ? ID_IPV6 : ID_IPV4;
	out[1] = out[2] = out[3] = 0;
	memcpy(out + 4, sa->local.ip, al);
	return 4 + al;
}

/* Our IDr, CERT and AUTH into sa->o (AUTH with key/key_len for a shared key: the PSK or
 * the MSK). false when the AUTH could not be made. */
static bool add_our_auth(struct ikev2_sa *sa, const uint8_t *key, size_t key_len, bool with_id,
                         uint8_t *idb, uint8_t *authb, size_t authcap)
{
	size_t idl = our_id(sa, idb, 4 + ID_MAX);
	if (with_id) {
		struct ike_payload *ip = ike_add_payload(sa->o, IKE2_PL_IDR, idb + 4, idl - 4);
		ip->id_type = idb[0];
		if (sa->conf->server_auth == IKEV2_SAUTH_CERT && sa->conf->cert) {
			struct ike_payload *cp = ike_add_payload(sa->o, IKE2_PL_CERT, sa->conf->cert,
			                                         sa->conf->cert_len);
			cp->id_type = CERT_X509_SIG;
			/* then the CAs the client may lack, in order (RFC 7296 3.6: the first
			 * certificate holds the key of the AUTH) */
			size_t total = sa->conf->cert_len;
			for (size_t i = 0; i < sa->conf->n_chain && i < IKEV2_CHAIN_MAX; i++) {
				size_t l = sa->conf->chain_len[i];
				if (!sa->conf->chain[i] || !l || l > IKEV2_CERT_MAX ||
				    total + l > IKEV2_CERTS_TOTAL)
					break;
				total += l;
				cp = ike_add_payload(sa->o, IKE2_PL_CERT, sa->conf->chain[i], l);
				if (!cp)
					break;
				cp->id_type = CERT_X509_SIG;
			}
		}
	}
	uint8_t method;
	size_t alen;
	if (key) {
		method = AUTH_PSK;
		alen = sa->cur.k.prf_len;
		if (!shared_key_auth(sa, false, key, key_len, idb, idl, authb))
			return false;
	} else {
		/* a signature over <SignedOctets>: RFC 7427 with SHA2-256 when the peer takes it,
		 * else method 1 (PKCS#1 v1.5 with SHA1) */
		struct ike_iov v[3];
		uint8_t maced[IKE_HASH_MAX];
		if (!signed_octets(sa, false, idb, idl, v, maced))
			return false;
		size_t tl = v[0].n + v[1].n + v[2].n;
		uint8_t *tbs = malloc(tl);
		if (!tbs)
			return false;
		memcpy(tbs, v[0].p, v[0].n);
		memcpy(tbs + v[0].n, v[1].p, v[1].n);
		memcpy(tbs + v[0].n + v[1].n, v[2].p, v[2].n);
		bool digsig = sa->peer_sighash_sha256 || sa->conf->sig_pss;
		const uint8_t *alg = NULL;
		size_t algl = digsig ? ike_sig_algid(IKE1_HASH_SHA256, sa->conf->sig_pss, &alg) : 0;
		size_t at = 0;
		if (digsig) {
			authb[0] = (uint8_t)algl;
			memcpy(authb + 1, alg, algl);
			at = 1 + algl;
		}
		size_t sl = ike_sign(sa->conf->key, digsig ? IKE1_HASH_SHA256 : IKE1_HASH_SHA1,
		                     digsig && sa->conf->sig_pss, tbs, tl, authb + at, authcap - at);
		free(tbs);
		if (!sl)
			return false;
		method = digsig ? AUTH_DIGSIG : AUTH_RSA;
		alen = at + sl;
	}
	struct ike_payload *ap = ike_add_payload(sa->o, IKE2_PL_AUTH, authb, alen);
	ap->id_type = method;
	return true;
}

/* ---- child SAs ------------------------------------------------------------------------------ */

static void read_ts(const struct ike_msg *m, const struct ike_payload *p, struct ts *out,
                    size_t *n)
{
	*n = 0;
	for (unsigned i = 0; p && i < p->ts_count && *n < TS_MAX; i++) {
		const struct ike_ts *t = &m->ts[p->ts_first + i];
		if (t->type != TS_IPV4 || t->addr_len != 4)
			continue; /* IPv6 selectors are narrowed away */
		struct ts *o = &out[(*n)++];
		o->proto = t->proto;
		o->sport = t->start_port;
		o->eport = t->end_port;
		memcpy(o->start, t->start, 4);
		memcpy(o->end, t->end, 4);
	}
}

static bool ts_contains(const struct ts *t, const uint8_t ip[4])
{
	return memcmp(t->start, ip, 4) <= 0 && memcmp(ip, t->end, 4) <= 0;
}

/* Read what the peer asks for a child: SA (the ESP choice), TSi, TSr, CP. */
static void child_read(struct ikev2_sa *sa, const struct ike_msg *m, uint16_t pfs_group,
                       struct child_req *r)
{
	const struct ike_payload *sap = NULL, *tsi = NULL, *tsr = NULL;
	memset(r, 0, sizeof *r);
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE2_PL_SA && !sap)
			sap = p;
		else if (p->type == IKE2_PL_TSI && !tsi)
			tsi = p;
		else if (p->type == IKE2_PL_TSR && !tsr)
			tsr = p;
		else if (p->type == IKE2_PL_CP && p->id_type == CFG_REQUEST) {
			r->cp = true;
			for (unsigned k = 0; k < p->attr_count; k++)
				r->cp_dns |= m->attrs[p->attr_first + k].type == CP_IP4_DNS;
		}
	}
	if (!sap && !tsi && !tsr)
		return;
	r->have = true;
	if (!sap || !tsi || !tsr) {
		r->err = N_INVALID_SYNTAX;
		return;
	}
	read_ts(m, tsi, r->tsi, &r->ntsi);
	read_ts(m, tsr, r->tsr, &r->ntsr);
	if (!esp_choose(sa, m, sap, pfs_group, r)) {
		char off[240], nb[48], cb[200] = "";
		offer_text(m, sap, off, sizeof off);
		size_t cl = 0;
		for (size_t i = 0; i < sa->conf->n_esp && cl + 2 < sizeof cb; i++)
			cl += (size_t)snprintf(cb + cl, sizeof cb - cl, "%s%s", cl ? ", " : "",
			                       esp_name(&sa->conf->esp[i], 0, nb, sizeof nb));
		ev(sa, IKEV2_EV_FAIL, "ike.v2.no-proposal: no ESP proposal acceptable: offered %s; "
		   "configured %s", off, cb);
		r->err = N_NO_PROPOSAL;
	}
}

/* KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr) into the two directions of an ESP SA pair. */
static bool child_keys(struct ikev2_sa *sa, struct ikev2_child *c, const struct child_req *r,
                       const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
                       const uint8_t *nr, size_t nr_len, bool we_initiated)
{
	struct ike_iov s[3];
	size_t ns = 0;
	if (gir)
		s[ns++] = (struct ike_iov){gir, gir_len};
	s[ns++] = (struct ike_iov){ni, ni_len};
	s[ns++] = (struct ike_iov){nr, nr_len};
	return ikev2_child_keys(&sa->cur.k, &r->pick, s, ns, we_initiated, &sa->local, &sa->peer,
	                        c);
}

static uint32_t new_spi(struct ikev2_sa *sa)
{
	uint32_t spi;
	do {
		uint8_t b[4];
		sa->cbs->random(sa->cbs->ctx, b, 4);
		spi = ike_get32(b);
	} while (spi < 256 || ikev2_child(sa, spi));
	return spi;
}

static struct ikev2_child *child_slot(struct ikev2_sa *sa)
{
	for (int i = 0; i < IKEV2_CHILDREN; i++)
		if (!sa->child[i].used)
			return &sa->child[i];
	return NULL;
}

/* The selectors of the answer: TSi narrowed to the virtual address (without one, the
 * peer's address), TSr the IPv4 selectors asked for. false: TS_UNACCEPTABLE. */
static bool ts_narrow(struct ikev2_sa *sa, const struct child_req *r, const uint8_t ip[4],
                      struct ts *tsi, struct ts *tsr, size_t *ntsr)
{
	const struct ts *hit = NULL;
	for (size_t i = 0; i < r->ntsi && !hit; i++)
		if (ts_contains(&r->tsi[i], ip))
			hit = &r->tsi[i];
	if (!hit || !r->ntsr)
		return false;
	*tsi = *hit;
	memcpy(tsi->start, ip, 4);
	memcpy(tsi->end, ip, 4);
	*ntsr = r->ntsr;
	memcpy(tsr, r->tsr, r->ntsr * sizeof *tsr);
	return true;
}

static void add_ts(struct ikev2_sa *sa, uint8_t type, const struct ts *t, size_t n)
{
	struct ike_payload *p = ike_add_payload(sa->o, type, NULL, 0);
	if (!p)
		return;
	p->ts_num = (uint8_t)n;
	for (size_t i = 0; i < n && sa->o->nts < IKE_MAX_TS; i++) {
		struct ike_ts *o = &sa->o->ts[sa->o->nts++];
		memset(o, 0, sizeof *o);
		o->type = TS_IPV4;
		o->proto = t[i].proto;
		o->start_port = t[i].sport;
		o->end_port = t[i].eport;
		o->start = t[i].start;
		o->end = t[i].end;
		o->addr_len = 4;
		p->ts_count++;
	}
}

/* Build the child part of an answer (CP, SA, TSi, TSr or an error notify) into sa->o,
 * and the child to install in *out (not yet installed). false: no child. */
static bool child_answer(struct ikev2_sa *sa, const struct child_req *r, bool with_cp,
                         const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
                         const uint8_t *nr, size_t nr_len, const uint8_t *kebuf, size_t kelen,
                         struct ikev2_child *out, struct ts *tsi, struct ts *tsr)
{
	uint16_t err = r->err;
	const uint8_t *ip = sa->have_vip ? sa->vip : sa->peer.ip;
	size_t ntsr = 0;
	if (with_cp && r->cp) {
		if (!sa->have_vip) {
			err = N_INTERNAL_ADDRESS_FAILURE;
			ev(sa, IKEV2_EV_FAIL, "ike.internal-address-failure: no address granted for %s",
			   sa->user[0] ? sa->user : sa->peer_id);
		} else {
			struct ike_payload *cp = ike_add_payload(sa->o, IKE2_PL_CP, NULL, 0);
			cp->id_type = CFG_REPLY;
			ike_add_attr(sa->o, CP_IP4_ADDRESS, false, 0, sa->vip, 4);
			for (size_t i = 0; i < sa->conf->n_dns && i < 2; i++)
				ike_add_attr(sa->o, CP_IP4_DNS, false, 0, sa->conf->dns[i], 4);
		}
	}
	if (!err && !ts_narrow(sa, r, ip, tsi, tsr, &ntsr)) {
		err = N_TS_UNACCEPTABLE;
		ev(sa, IKEV2_EV_FAIL, "ike.ts-unacceptable: no IPv4 selector of the peer covers "
		   "%u.%u.%u.%u (or none for our side)", ip[0], ip[1], ip[2], ip[3]);
	}
	struct ikev2_child *slot = child_slot(sa);
	if (!err && !slot)
		err = N_NO_ADDITIONAL_SAS;
	if (err) {
		add_notify(sa, err, 0, NULL, 0, NULL, 0);
		return false;
	}
	memset(out, 0, sizeof *out);
	out->spi_in = new_spi(sa);
	out->spi_out = r->spi_out;
	out->udp_encap = ikev2_nat(sa);
	memcpy(out->vip, ip, 4);
	if (ntsr) {
		memcpy(out->ts_local[0], tsr[0].start, 4);
		memcpy(out->ts_local[1], tsr[0].end, 4);
	}
	if (!child_keys(sa, out, r, gir, gir_len, ni, ni_len, nr, nr_len, false)) {
		add_notify(sa, N_NO_PROPOSAL, 0, NULL, 0, NULL, 0);
		return false;
	}
	ike_put32(sa->o_spi, out->spi_in);
	add_esp_proposal(sa, r, sa->o_spi);
	if (kebuf) {
		struct ike_payload *kp = ike_add_payload(sa->o, IKE2_PL_KE, kebuf, kelen);
		kp->group = r->group;
	}
	add_ts(sa, IKE2_PL_TSI, tsi, 1);
	add_ts(sa, IKE2_PL_TSR, tsr, ntsr);
	return true;
}

static void child_install(struct ikev2_sa *sa, const struct ikev2_child *n,
                          const struct child_req *r, uint64_t now)
{
	struct ikev2_child *c = child_slot(sa);
	if (!c)
		return;
	*c = *n;
	c->used = true;
	c->born = now;
	c->serial = ++sa->child_serial;
	c->life_s = sa->conf->child_life_s ? sa->conf->child_life_s : 7200;
	c->expires = now + (uint64_t)c->life_s * 1000;
	c->prop = r->pick;
	c->replaced = false;
	c->rekey_at = IKEV2_NEVER;
	if (sa->conf->child_rekey) {
		/* the soft lifetime: 80 to 90 % of the hard one, at random, so that children
		 * made together are not all rekeyed at once */
		uint8_t j[2];
		sa->cbs->random(sa->cbs->ctx, j, 2);
		uint64_t life = (uint64_t)c->life_s * 1000;
		c->rekey_at = now + life * 8 / 10 + (life / 10) * ike_get16(j) / 65535u;
	}
	char nb[48];
	ev(sa, IKEV2_EV_CHILD_UP, "child %08x/%08x up: tunnel %s, %s, %u.%u.%u.%u, lifetime %u s",
	   c->spi_in, c->spi_out, esp_name(&r->pick, r->group, nb, sizeof nb),
	   c->udp_encap ? "ESP in UDP 4500" : "ESP", c->vip[0], c->vip[1], c->vip[2], c->vip[3],
	   c->life_s);
	if (sa->cbs->child_up)
		sa->cbs->child_up(sa->cbs->ctx, c);
}

/* ---- IKE_AUTH ----------------------------------------------------------------------------- */

static size_t eap_build(struct ikev2_sa *sa, uint8_t code, uint8_t type, const uint8_t *body,
                        size_t n)
{
	uint8_t id = code == EAP_SUCCESS || code == EAP_FAILURE ? sa->eap_id : ++sa->eap_id;
	return eap_packet_build(sa->eapb, EAPB_MAX, code, id, type, body, n);
}

/* An MS-CHAPv2 packet (RFC 2759 inside EAP): OpCode, MS-CHAPv2-ID, MS-Length, data. */
static size_t eap_ms(struct ikev2_sa *sa, uint8_t opcode, const uint8_t *data, size_t n)
{
	return eap_mschapv2_request(sa->eapb, EAPB_MAX, ++sa->eap_id, opcode, sa->ms_id,
	                            data, n);
}

static void add_eap(struct ikev2_sa *sa, size_t len)
{
	if (len)
		ike_add_payload(sa->o, IKE2_PL_EAP, sa->eapb, len);
}

static void user_set(struct ikev2_sa *sa, const uint8_t *p, size_t n)
{
	if (n > IKEV2_USER_MAX)
		n = IKEV2_USER_MAX;
	memcpy(sa->user_raw, p, n);
	sa->user_raw[n] = 0;
	char raw[80];
	text_printable(p, n < 64 ? n : 64, raw, sizeof raw);
	snprintf(sa->user, sizeof sa->user, "%s", raw);
}

static void id_text(struct ikev2_sa *sa, uint8_t type, const uint8_t *d, size_t n)
{
	char raw[80];
	if (type == ID_IPV4 && n == 4)
		snprintf(raw, sizeof raw, "%u.%u.%u.%u", d[0], d[1], d[2], d[3]);
	else
		text_printable(d, n < 64 ? n : 64, raw, sizeof raw);
	snprintf(sa->peer_id, sizeof sa->peer_id, "%s", raw);
}

/* When we rekey the IKE SA ourselves (conf.child_rekey): at 80 to 90 % of its lifetime,
 * at random, as the children. */
static void ike_rekey_plan(struct ikev2_sa *sa, uint64_t now)
{
	sa->ike_rekey_at = IKEV2_NEVER;
	if (!sa->conf->child_rekey)
		return;
	uint8_t j[2];
	sa->cbs->random(sa->cbs->ctx, j, 2);
	uint64_t life = (uint64_t)(sa->conf->ike_life_s ? sa->conf->ike_life_s : 86400) * 1000;
	sa->ike_rekey_at = now + life * 8 / 10 + (life / 10) * ike_get16(j) / 65535u;
}

static void established(struct ikev2_sa *sa, uint64_t now)
{
	sa->state = IKEV2_ESTABLISHED;
	/* the IKE_SA_INIT messages served the AUTH payloads: nothing reads them any more */
	free(sa->init_req);
	sa->init_req = sa->init_resp = NULL;
	sa->init_req_len = sa->init_resp_len = 0;
	sa->expires = now + (uint64_t)(sa->conf->ike_life_s ? sa->conf->ike_life_s : 86400) * 1000;
	ike_rekey_plan(sa, now);
	char ab[64], nb[64];
	ev(sa, IKEV2_EV_IKE_UP, "IKE SA up: peer %s id %s%s%s, %s%s%s", addr_str(&sa->peer, ab,
	   sizeof ab), sa->peer_id, sa->user[0] ? " user " : "", sa->user,
	   prop_name(&sa->cur.k.p, nb, sizeof nb), ikev2_nat(sa) ? ", NAT" : "",
	   sa->on_4500 ? ", port 4500" : "");
	if (sa->initial_contact)
		ev(sa, IKEV2_EV_INITIAL_CONTACT, "INITIAL_CONTACT from %s: earlier SAs of this peer "
		   "are gone", sa->peer_id);
}

/* The last IKE_AUTH response: [IDr, CERT,] AUTH, CP, SA, TSi, TSr; the SA is up. */
static void auth_complete(struct ikev2_sa *sa, const uint8_t *key, size_t key_len, bool with_id,
                          uint32_t msgid, uint64_t now)
{
	msg_begin(sa, &sa->cur, IKE2_EXCH_AUTH, true, msgid);
	if (!add_our_auth(sa, key, key_len, with_id, sa->idb, sa->authb, AUTHB_MAX)) {
		respond_notify(sa, &sa->cur, IKE2_EXCH_AUTH, msgid, N_AUTH_FAILED);
		fail(sa, "ike.v2.internal", "our AUTH could not be made");
		return;
	}
	struct ikev2_child c;
	bool child = sa->creq.have &&
	             child_answer(sa, &sa->creq, true, NULL, 0, sa->ni, sa->ni_len, sa->nr,
	                          NONCE_LEN, NULL, 0, &c, sa->o_tsi, sa->o_tsr);
	if (sa->conf->mobike && sa->peer_mobike)
		add_notify(sa, N_MOBIKE_SUPPORTED, 0, NULL, 0, NULL, 0);
	respond(sa, &sa->cur, IKE2_EXCH_AUTH, msgid);
	established(sa, now);
	if (child)
		child_install(sa, &c, &sa->creq, now);
}

static void verdict_apply(struct ikev2_sa *sa, const struct ikev2_verdict *v, uint64_t now);

static void authorize_ask(struct ikev2_sa *sa, bool eap, uint32_t msgid, uint64_t now)
{
	sa->state = IKEV2_AUTHORIZING;
	sa->pending_mid = msgid;
	sa->pending_eap = eap;
	sa->verdict_stored = false;
	struct ikev2_auth_req q = {
		.user = sa->user_raw, .eap = eap, .cred = sa->cred,
		.machine_cert = sa->pending_cert, .subject = sa->pending_cert ? sa->subject : NULL,
		.auth_challenge = sa->auth_challenge, .peer_challenge = sa->peer_challenge,
		.nt_response = sa->nt_response, .peer = &sa->peer,
	};
	if (!sa->cbs->authorize) {
		struct ikev2_verdict no = {.accept = false};
		verdict_apply(sa, &no, now);
		return;
	}
	sa->in_authorize = true;
	sa->cbs->authorize(sa->cbs->ctx, &q);
	sa->in_authorize = false;
	if (sa->verdict_stored && sa->state == IKEV2_AUTHORIZING) {
		sa->verdict_stored = false;
		verdict_apply(sa, &sa->vstore, now);
	}
}

static int authorize_done(struct ikev2_sa *sa, const struct ikev2_verdict *v, uint64_t now)
{
	if (sa->state != IKEV2_AUTHORIZING)
		return -1;
	if (sa->in_authorize) {
		if (sa->verdict_stored)
			return -1;
		/* answered inside the callback: copied, applied when it returns */
		sa->vstore = *v;
		snprintf(sa->vcause, sizeof sa->vcause, "%s", v->cause ? v->cause : "");
		snprintf(sa->vmsg, sizeof sa->vmsg, "%s", v->message ? v->message : "");
		snprintf(sa->vsuccess, sizeof sa->vsuccess, "%s", v->success ? v->success : "");
		sa->vstore.cause = v->cause ? sa->vcause : NULL;
		sa->vstore.message = v->message ? sa->vmsg : NULL;
		sa->vstore.success = v->success ? sa->vsuccess : NULL;
		size_t ml = v->msk && v->msk_len <= sizeof sa->vmsk ? v->msk_len : 0;
		if (ml)
			memcpy(sa->vmsk, v->msk, ml);
		sa->vstore.msk = ml ? sa->vmsk : NULL;
		sa->vstore.msk_len = ml;
		sa->verdict_stored = true;
		return 0;
	}
	verdict_apply(sa, v, now);
	return 0;
}

static bool success_text_ok(const char *s)
{
	if (!s || strlen(s) != 42 || s[0] != 'S' || s[1] != '=')
		return false;
	for (int i = 2; i < 42; i++)
		if (!strchr("0123456789ABCDEFabcdef", s[i]))
			return false;
	return true;
}

static void verdict_apply(struct ikev2_sa *sa, const struct ikev2_verdict *v, uint64_t now)
{
	uint32_t msgid = sa->pending_mid;
	bool server_proof = sa->pending_eap && success_text_ok(v->success) && v->msk &&
	                    v->msk_len >= 32 && v->msk_len <= sizeof sa->msk;
	/* never admit a peer whose credentials nobody checked */
	bool accept = v->accept && (sa->cred == PPP_CRED_OK || server_proof);
	const char *cause = v->cause && v->cause[0] ? v->cause : "ike.v2.auth-failed";
	if (accept) {
		sa->have_vip = v->addr[0] || v->addr[1] || v->addr[2] || v->addr[3];
		memcpy(sa->vip, v->addr, 4);
	}
	if (sa->pending_cert) {
		if (!accept) {
			respond_notify(sa, &sa->cur, IKE2_EXCH_AUTH, msgid, N_AUTH_FAILED);
			fail(sa, cause, "the machine certificate %s (%s) refused", sa->subject, sa->user);
			return;
		}
		bool psk = sa->conf->server_auth == IKEV2_SAUTH_PSK;
		auth_complete(sa, psk ? sa->conf->psk : NULL, psk ? sa->conf->psk_len : 0, true,
		              msgid, now);
		return;
	}
	if (!sa->pending_eap) {
		if (!accept) {
			respond_notify(sa, &sa->cur, IKE2_EXCH_AUTH, msgid, N_AUTH_FAILED);
			fail(sa, cause, "%s of %s refused", "pre-shared key client", sa->peer_id);
			return;
		}
		auth_complete(sa, sa->conf->psk, sa->conf->psk_len, true, msgid, now);
		return;
	}
	if (accept) {
		if (sa->cred != PPP_CRED_OK) {
			memcpy(sa->auth_resp, v->success, 42);
			sa->auth_resp[42] = 0;
			memcpy(sa->msk, v->msk, v->msk_len);
			memset(sa->msk + v->msk_len, 0, sizeof sa->msk - v->msk_len);
			sa->msk_len = 64;
		}
		char text[80];
		snprintf(text, sizeof text, "%s M=Welcome", sa->auth_resp);
		msg_begin(sa, &sa->cur, IKE2_EXCH_AUTH, true, msgid);
		add_eap(sa, eap_ms(sa, EAP_MS_SUCCESS, (const uint8_t *)text, strlen(text)));
		sa->state = IKEV2_EAP;
		sa->eap_stage = EAP_ST_SUCCESS;
		respond(sa, &sa->cur, IKE2_EXCH_AUTH, msgid);
		ev(sa, IKEV2_EV_INFO, "EAP-MSCHAPv2 of %s accepted%s", sa->user,
		   sa->have_vip ? "" : " (no address)");
		return;
	}
	uint8_t ch[16];
	sa->cbs->random(sa->cbs->ctx, ch, 16);
	char text[200];
	ppp_auth_mschapv2_failure(v->win_error ? v->win_error : PPP_WINERR_AUTH_FAILURE, false, ch,
	                          v->message, text, sizeof text);
	snprintf(sa->fail_cause, sizeof sa->fail_cause, "%s", cause);
	snprintf(sa->cause, sizeof sa->cause, "%s", cause);
	ev(sa, IKEV2_EV_FAIL, "%s: EAP-MSCHAPv2 of %s refused (%s, %s)", cause, sa->user,
	   tok_name(ppp_cred_names, sa->cred), text);
	msg_begin(sa, &sa->cur, IKE2_EXCH_AUTH, true, msgid);
	add_eap(sa, eap_ms(sa, EAP_MS_FAILURE, (const uint8_t *)text, strlen(text)));
	sa->state = IKEV2_EAP;
	sa->eap_stage = EAP_ST_FAILURE;
	respond(sa, &sa->cur, IKE2_EXCH_AUTH, msgid);
}

/* The local check of an MS-CHAPv2 Response: cred, and with the right password the
 * authenticator response and the MSK. */
static void mschap_check(struct ikev2_sa *sa)
{
	char pw[PPP_AUTH_PASSWORD_MAX + 1];
	int pl = sa->cbs->password ? sa->cbs->password(sa->cbs->ctx, sa->user_raw, pw, sizeof pw) : -2;
	sa->cred = pl == -1 ? PPP_CRED_NO_USER : PPP_CRED_ERROR;
	struct eap_mschapv2_keys k;
	int v = pl >= 0 && (size_t)pl < sizeof pw
	        ? eap_mschapv2_verify(pw, (size_t)pl, sa->user_raw, sa->auth_challenge,
	                              sa->peer_challenge, sa->nt_response, &k)
	        : -1;
	if (v >= 0)
		sa->cred = v ? PPP_CRED_OK : PPP_CRED_BAD;
	if (v == 1) {
		memcpy(sa->auth_resp, k.auth_response, sizeof sa->auth_resp);
		memcpy(sa->msk, k.msk, sizeof sa->msk);
		sa->msk_len = sizeof sa->msk;
	}
	OPENSSL_cleanse(&k, sizeof k);
	OPENSSL_cleanse(pw, sizeof pw);
}

/* ---- machine certificates ---------------------------------------------------------------- */

/* The name a machine certificate stands for: its subject's common name, else its first
 * DNS subject alternative name. Its length (0: none, or one with a NUL or too long). */
static size_t cert_machine_name(X509 *x, char *out, size_t cap)
{
	size_t n = 0;
	int i = X509_NAME_get_index_by_NID(X509_get_subject_name(x), NID_commonName, -1);
	const ASN1_STRING *s = NULL;
	if (i >= 0)
		s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(X509_get_subject_name(x), i));
	GENERAL_NAMES *alt = NULL;
	if (!s && (alt = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL)))
		for (int k = 0; !s && k < sk_GENERAL_NAME_num(alt); k++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(alt, k);
			if (g->type == GEN_DNS)
				s = g->d.dNSName;
		}
	unsigned char *u = NULL;
	int ul = s ? ASN1_STRING_to_UTF8(&u, s) : -1;
	if (ul > 0 && (size_t)ul < cap && !memchr(u, 0, (size_t)ul)) {
		memcpy(out, u, (size_t)ul);
		out[ul] = 0;
		n = (size_t)ul;
	}
	OPENSSL_free(u);
	GENERAL_NAMES_free(alt);
	ERR_clear_error();
	return n;
}

/* The first IKE_AUTH of a client with a machine certificate: IDi, CERT (its certificate,
 * then CAs), AUTH by signature (method 1 or 14). The certificate must chain to
 * conf.client_trust, IDi name it and the AUTH verify with its key over the initiator's
 * <SignedOctets>; then the owner authorizes the certificate's name. Any failure is
 * AUTHENTICATION_FAILED. */
static void machine_cert_auth(struct ikev2_sa *sa, const struct ike_payload *idi,
                              const struct ike_payload *auth, uint64_t now)
{
	const struct ike_msg *m = sa->m;
	uint32_t msgid = m->msgid;
	const struct ike_payload *cert[1 + IKEV2_CHAIN_MAX];
	size_t ncert = 0;
	unsigned other = 0;
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type != IKE2_PL_CERT)
			continue;
		if (p->id_type == CERT_X509_SIG && ncert < 1 + IKEV2_CHAIN_MAX)
			cert[ncert++] = p;
		else if (p->id_type != CERT_X509_SIG)
			other = p->id_type;
	}
	const char *cause = "ike.cert.client-untrusted";
	char why[400] = "", subj[TEXT_PRINTABLE_SIZE(100)] = "", iss[TEXT_PRINTABLE_SIZE(100)] = "";
	X509 *leaf = NULL;
	STACK_OF(X509) *more = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	uint8_t *tbs = NULL;
	if (!more || !ctx) {
		cause = "ike.v2.internal";
		snprintf(why, sizeof why, "out of memory");
		goto refuse;
	}
	if (!ncert) {
		cause = "ike.cert.client-none";
		if (other)
			snprintf(why, sizeof why, "the AUTH of %s is a signature but its certificate is "
			         "of encoding %u; only X.509 signature certificates (4) are read",
			         sa->peer_id, other);
		else
			snprintf(why, sizeof why, "the AUTH of %s is a signature but no certificate "
			         "came with it", sa->peer_id);
		goto refuse;
	}
	size_t bad = ike_cert_chain_read(cert, ncert, &leaf, more);
	if (bad) {
		snprintf(why, sizeof why, "certificate %zu of %s (%zu bytes) is not an X.509 "
		         "certificate", bad, sa->peer_id, cert[bad - 1]->data_len);
		goto refuse;
	}
	ike_name_text(X509_get_subject_name(leaf), subj, sizeof subj);
	ike_name_text(X509_get_issuer_name(leaf), iss, sizeof iss);
	if (!X509_STORE_CTX_init(ctx, sa->conf->client_trust, leaf, more)) {
		cause = "ike.v2.internal";
		snprintf(why, sizeof why, "certificate verification could not start");
		goto refuse;
	}
	if (sa->conf->cert_time)
		X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)sa->conf->cert_time);
	if (X509_verify_cert(ctx) != 1) {
		snprintf(why, sizeof why, "the machine certificate %s of %s, issued by %s, does not "
		         "verify against the CAs this server trusts: %s", subj, sa->peer_id, iss,
		         X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto refuse;
	}
	if (!ike_id_matches_cert(idi->id_type, idi->data, idi->data_len, leaf)) {
		cause = "ike.invalid-id";
		snprintf(why, sizeof why, "the identity %s (ID type %u) is neither the subject nor a "
		         "subject alternative name of its certificate %s", sa->peer_id, idi->id_type,
		         subj);
		goto refuse;
	}
	unsigned hash;
	bool pss;
	const uint8_t *sig;
	size_t sl;
	struct ike_iov v[3];
	uint8_t maced[IKE_HASH_MAX];
	if (!ike_sig_auth_parse(auth->id_type, auth->data, auth->data_len, &hash, &pss, &sig, &sl)) {
		cause = "ike.cert.bad-signature";
		snprintf(why, sizeof why, "the AUTH of %s (method %u) names a signature algorithm "
		         "this server does not take", sa->peer_id, auth->id_type);
		goto refuse;
	}
	size_t tl = 0;
	if (signed_octets(sa, true, sa->idi, sa->idi_len, v, maced) &&
	    (tbs = malloc(v[0].n + v[1].n + v[2].n))) {
		for (int i = 0; i < 3; i++) {
			memcpy(tbs + tl, v[i].p, v[i].n);
			tl += v[i].n;
		}
	}
	if (!tl || !ike_verify_cert(cert[0]->data, cert[0]->data_len, hash, pss, tbs, tl, sig, sl)) {
		cause = "ike.cert.bad-signature";
		snprintf(why, sizeof why, "the AUTH of %s (method %u, %zu bytes) does not verify with "
		         "the key of its certificate %s", sa->peer_id, auth->id_type, sl, subj);
		goto refuse;
	}
	char name[IKEV2_USER_MAX + 1];
	size_t nl = cert_machine_name(leaf, name, sizeof name);
	if (!nl) {
		cause = "ike.invalid-id";
		snprintf(why, sizeof why, "the certificate %s of %s names no machine (no common name "
		         "or DNS name that can be read)", subj, sa->peer_id);
		goto refuse;
	}
	free(tbs);
	X509_STORE_CTX_free(ctx);
	X509_free(leaf);
	sk_X509_pop_free(more, X509_free);
	ERR_clear_error();
	snprintf(sa->subject, sizeof sa->subject, "%s", subj);
	user_set(sa, (const uint8_t *)name, nl);
	sa->cred = PPP_CRED_OK;
	sa->pending_cert = true;
	ev(sa, IKEV2_EV_INFO, "machine certificate %s of %s, issued by %s, verified: machine %s",
	   subj, sa->peer_id, iss, sa->user);
	authorize_ask(sa, false, msgid, now);
	return;
refuse:
	free(tbs);
	X509_STORE_CTX_free(ctx);
	X509_free(leaf);
	sk_X509_pop_free(more, X509_free);
	ERR_clear_error();
	respond_notify(sa, &sa->cur, IKE2_EXCH_AUTH, msgid, N_AUTH_FAILED);
	fail(sa, cause, "%s", why);
}

/* The first IKE_AUTH request: IDi, [IDr], [AUTH], [CP], SA, TSi, TSr, notifies. */
static void auth1(struct ikev2_sa *sa, uint64_t now)
{
	const struct ike_msg *m = sa->m;
	uint32_t msgid = m->msgid;
	const struct ike_payload *idi = NULL, *auth = NULL, *eap = NULL;
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE2_PL_IDI && !idi)
			idi = p;
		else if (p->type == IKE2_PL_AUTH && !auth)
			auth = p;
		else if (p->type == IKE2_PL_EAP && !eap)
			eap = p;
		else if (p->type == IKE2_PL_N && p->notify == N_INITIAL_CONTACT)
			sa->initial_contact = true;
		else if (p->type == IKE2_PL_N && p->notify == N_MOBIKE_SUPPORTED)
			sa->peer_mobike = true;
		else if (p->type == IKE2_PL_N && p->notify == N_USE_TRANSPORT_MODE)
			ev(sa, IKEV2_EV_INFO, "the peer asks for transport mode: tunnel mode answered");
	}
	if (!idi || idi->body_len > ID_MAX || idi->body_len < 5) {
		respond_notify(sa, &sa->cur, IKE2_EXCH_AUTH, msgid, N_INVALID_SYNTAX);
		fail(sa, "ike.payload-malformed", "IKE_AUTH %s", !idi ? "without IDi"
		     : "with an IDi of a size out of bounds");
		return;
	}
	memcpy(sa->idi, idi->body, idi->body_len);
	sa->idi_len = idi->body_len;
	id_text(sa, idi->id_type, idi->data, idi->data_len);
	child_read(sa, m, 0, &sa->creq);
	if (auth && (auth->id_type == AUTH_RSA || auth->id_type == AUTH_DIGSIG) &&
	    sa->conf->client_trust) {
		machine_cert_auth(sa, idi, auth, now);
		return;
	}
	if (auth) {
		if (sa->conf->client_auth != IKEV2_CAUTH_PSK || auth->id_type != AUTH_PSK ||
		    !sa->conf->psk) {
			respond_notify(sa, &sa->cur, IKE2_EXCH_AUTH, msgid, N_AUTH_FAILED);
			fail(sa, "ike.v2.auth-failed", "the peer %s authenticates with AUTH method %u; "
			     "this server expects %s", sa->peer_id, auth->id_type,
			     sa->conf->client_auth == IKEV2_CAUTH_PSK ? "a pre-shared key (2)"
			     : sa->conf->client_trust ? "EAP-MSCHAPv2 (no AUTH) or a machine certificate"
			     : "EAP-MSCHAPv2 (no AUTH); machine certificates are not taken");
			return;
		}
		uint8_t want[IKE_HASH_MAX];
		if (!shared_key_auth(sa, true, sa->conf->psk, sa->conf->psk_len, sa->idi, sa->idi_len,
		                     want) ||
		    auth->data_len != sa->cur.k.prf_len ||
		    CRYPTO_memcmp(want, auth->data, sa->cur.k.prf_len)) {
			respond_notify(sa, &sa->cur, IKE2_EXCH_AUTH, msgid, N_AUTH_FAILED);
			fail(sa, "ike.v2.psk-mismatch", "the AUTH of %s does not match: its pre-shared "
			     "key differs", sa->peer_id);
			return;
		}
		user_set(sa, idi->data, idi->data_len);
		sa->cred = PPP_CRED_OK;
		authorize_ask(sa, false, msgid, now);
		return;
	}
	if (sa->conf->client_auth != IKEV2_CAUTH_EAP_MSCHAPV2) {
		respond_notify(sa, &sa->cur, IKE2_EXCH_AUTH, msgid, N_AUTH_FAILED);
		fail(sa, "ike.v2.auth-failed", "the peer %s asks for EAP; this server expects a "
		     "pre-shared key", sa->peer_id);
		return;
	}
	if (sa->conf->server_auth == IKEV2_SAUTH_PSK ? !sa->conf->psk
	                                              : !sa->conf->key || !sa->conf->cert) {
		respond_notify(sa, &sa->cur, IKE2_EXCH_AUTH, msgid, N_AUTH_FAILED);
		fail(sa, "ike.v2.internal", "no %s to authenticate this server with",
		     sa->conf->server_auth == IKEV2_SAUTH_PSK ? "pre-shared key" : "certificate and key");
		return;
	}
	msg_begin(sa, &sa->cur, IKE2_EXCH_AUTH, true, msgid);
	bool psk = sa->conf->server_auth == IKEV2_SAUTH_PSK;
	if (!add_our_auth(sa, psk ? sa->conf->psk : NULL, psk ? sa->conf->psk_len : 0, true,
	                  sa->idb, sa->authb, AUTHB_MAX)) {
		respond_notify(sa, &sa->cur, IKE2_EXCH_AUTH, msgid, N_AUTH_FAILED);
		fail(sa, "ike.v2.internal", "our AUTH could not be made (key or certificate)");
		return;
	}
	add_eap(sa, eap_build(sa, EAP_REQUEST, EAP_IDENTITY, NULL, 0));
	sa->state = IKEV2_EAP;
	sa->eap_stage = EAP_ST_IDENTITY;
	ev(sa, IKEV2_EV_TRACE, "IKE_AUTH from %s: EAP begins", sa->peer_id);
	respond(sa, &sa->cur, IKE2_EXCH_AUTH, msgid);
}

/* An IKE_AUTH request while EAP runs. */
static void auth_eap(struct ikev2_sa *sa, uint64_t now)
{
	const struct ike_msg *m = sa->m;
	uint32_t msgid = m->msgid;
	const struct ike_payload *e = NULL;
	for (unsigned i = 0; i < m->npl; i++)
		if (m->pl[i].type == IKE2_PL_EAP && !e)
			e = &m->pl[i];
	if (!e || e->eap_code != EAP_RESPONSE || e->eap_id != sa->eap_id) {
		respond_notify(sa, &sa->cur, IKE2_EXCH_AUTH, msgid, N_AUTH_FAILED);
		fail(sa, sa->fail_cause[0] ? sa->fail_cause : "ike.v2.auth-failed",
		     "IKE_AUTH without the EAP Response %u expected", sa->eap_id);
		return;
	}
	const uint8_t *d = e->data + 5; /* after code, id, length, type */
	size_t dl = e->data_len > 5 ? e->data_len - 5 : 0;
	if (e->data_len < 5) {
		d = e->data;
		dl = 0;
	}
	if (e->eap_type == EAP_NAK || (e->eap_type != EAP_MSCHAPV2 && sa->eap_stage != EAP_ST_IDENTITY)) {
		msg_begin(sa, &sa->cur, IKE2_EXCH_AUTH, true, msgid);
		add_eap(sa, eap_build(sa, EAP_FAILURE, 0, NULL, 0));
		respond(sa, &sa->cur, IKE2_EXCH_AUTH, msgid);
		fail(sa, "ike.v2.auth-failed", "the peer %s refuses EAP-MSCHAPv2 (EAP type %u)",
		     sa->peer_id, e->eap_type);
		return;
	}
	switch (sa->eap_stage) {
	case EAP_ST_IDENTITY: {
		if (e->eap_type != EAP_IDENTITY)
			break;
		if (dl)
			user_set(sa, d, dl);
		else
			user_set(sa, sa->idi + 4, sa->idi_len - 4);
		sa->cbs->random(sa->cbs->ctx, sa->auth_challenge, 16);
		msg_begin(sa, &sa->cur, IKE2_EXCH_AUTH, true, msgid);
		sa->ms_id = (uint8_t)(sa->eap_id + 1);
		add_eap(sa, eap_mschapv2_challenge(sa->eapb, EAPB_MAX, ++sa->eap_id, sa->ms_id,
		                                   sa->auth_challenge, sa->conf->eap_name));
		sa->eap_stage = EAP_ST_CHALLENGE;
		respond(sa, &sa->cur, IKE2_EXCH_AUTH, msgid);
		return;
	}
	case EAP_ST_CHALLENGE: {
		struct eap_mschapv2_response r;
		if (eap_mschapv2_response_parse(d, dl, sa->ms_id, &r) != 0)
			break;
		memcpy(sa->peer_challenge, r.peer_challenge, 16);
		memcpy(sa->nt_response, r.nt_response, 24);
		const uint8_t *name = r.name;
		size_t nl = r.name_len;
		if (nl > IKEV2_USER_MAX || memchr(name, 0, nl)) {
			sa->cred = PPP_CRED_NO_USER;
			user_set(sa, name, nl);
		} else {
			user_set(sa, name, nl);
			mschap_check(sa);
		}
		ev(sa, IKEV2_EV_TRACE, "EAP-MSCHAPv2 Response of %s: %s", sa->user,
		   tok_name(ppp_cred_names, sa->cred));
		authorize_ask(sa, true, msgid, now);
		return;
	}
	case EAP_ST_SUCCESS:
		if (dl < 1 || d[0] != EAP_MS_SUCCESS)
			break;
		msg_begin(sa, &sa->cur, IKE2_EXCH_AUTH, true, msgid);
		add_eap(sa, eap_build(sa, EAP_SUCCESS, 0, NULL, 0));
		sa->state = IKEV2_EAP_OK;
		respond(sa, &sa->cur, IKE2_EXCH_AUTH, msgid);
		return;
	case EAP_ST_FAILURE: {
		msg_begin(sa, &sa->cur, IKE2_EXCH_AUTH, true, msgid);
		add_eap(sa, eap_build(sa, EAP_FAILURE, 0, NULL, 0));
		respond(sa, &sa->cur, IKE2_EXCH_AUTH, msgid);
		char cause[48];
		snprintf(cause, sizeof cause, "%s", sa->fail_cause);
		fail(sa, cause, "EAP Failure sent to %s", sa->user);
		return;
	}
	}
	msg_begin(sa, &sa->cur, IKE2_EXCH_AUTH, true, msgid);
	add_eap(sa, eap_build(sa, EAP_FAILURE, 0, NULL, 0));
	respond(sa, &sa->cur, IKE2_EXCH_AUTH, msgid);
	fail(sa, "ike.v2.auth-failed", "unexpected EAP message (type %u) from %s", e->eap_type,
	     sa->peer_id);
}

/* The final IKE_AUTH request: the AUTH made with the MSK. */
static void auth_final(struct ikev2_sa *sa, uint64_t now)
{
	const struct ike_msg *m = sa->m;
	uint32_t msgid = m->msgid;
	const struct ike_payload *auth = NULL;
	for (unsigned i = 0; i < m->npl; i++)
		if (m->pl[i].type == IKE2_PL_AUTH && !auth)
			auth = &m->pl[i];
	uint8_t want[IKE_HASH_MAX];
	if (!auth || auth->id_type != AUTH_PSK || auth->data_len != sa->cur.k.prf_len ||
	    !shared_key_auth(sa, true, sa->msk, sa->msk_len, sa->idi, sa->idi_len, want) ||
	    CRYPTO_memcmp(want, auth->data, sa->cur.k.prf_len)) {
		respond_notify(sa, &sa->cur, IKE2_EXCH_AUTH, msgid, N_AUTH_FAILED);
		fail(sa, "ike.v2.auth-failed", "the AUTH of %s after EAP does not match the MSK", sa->user);
		return;
	}
	auth_complete(sa, sa->msk, sa->msk_len, false, msgid, now);
}

/* ---- CREATE_CHILD_SA ------------------------------------------------------------------------- */

static struct ikev2_child *child_by_any_spi(struct ikev2_sa *sa, uint32_t spi)
{
	for (int i = 0; i < IKEV2_CHILDREN; i++)
		if (sa->child[i].used && (sa->child[i].spi_out == spi || sa->child[i].spi_in == spi))
			return &sa->child[i];
	return NULL;
}

/* ---- our rekey of the IKE SA (RFC 7296 1.3.2, 2.8, 2.8.2) ------------------------------- */

static int nonce_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl);

static const char *spi_hex(const uint8_t spi[SPI_LEN], char buf[2 * SPI_LEN + 1])
{
	for (int i = 0; i < SPI_LEN; i++)
		snprintf(buf + 2 * i, 3, "%02x", spi[i]);
	return buf;
}

/* The new IKE SA n takes over: the current one becomes the old one (it answers until it
 * is deleted), the children stay, message IDs start at 0 both ways. */
static void ike_switch(struct ikev2_sa *sa, const struct ike_ctx *n, uint64_t now)
{
	ctx_clear(&sa->old);
	sa->old = sa->cur; /* with its response buffer */
	sa->cur = *n;
	sa->cur.set = true;
	sa->cur.next_mid = 0;
	sa->cur.our_mid = 0;
	memset(&sa->cur.resp, 0, sizeof sa->cur.resp);
	sa->expires = now + (uint64_t)(sa->conf->ike_life_s ? sa->conf->ike_life_s : 86400) * 1000;
	ike_rekey_plan(sa, now);
}

/* A DELETE of the IKE SA c, sent once: the SA is gone whatever the peer answers. */
static void ike_delete_once(struct ikev2_sa *sa, const struct ike_ctx *c)
{
	msg_begin(sa, c, IKE2_EXCH_INFORMATIONAL, false, c->our_mid);
	struct ike_payload *d = ike_add_payload(sa->o, IKE2_PL_D, NULL, 0);
	d->protocol = PROTO_IKE;
	protect(sa, c, IKE2_EXCH_INFORMATIONAL, false, c->our_mid, NULL);
}

/* The children we deleted while a request was under way. */
static void del_queue_flush(struct ikev2_sa *sa, uint64_t now)
{
	if (!sa->ndel || sa->req.active)
		return;
	uint32_t q[IKEV2_CHILDREN];
	size_t n = sa->ndel;
	memcpy(q, sa->del_queue, n * sizeof q[0]);
	sa->ndel = 0;
	send_delete_children(sa, q, n, now);
}

/* The old IKE SA is gone (deleted by either side): our DELETE of it is over too. */
static void old_gone(struct ikev2_sa *sa, uint64_t now)
{
	ctx_clear(&sa->old);
	if (sa->req.active && sa->req.on_old) {
		sa->req.active = false;
		sa->req.on_old = false;
		out_free(&sa->req.msg);
		del_queue_flush(sa, now);
	}
}

/* Our rekey of the IKE SA: CREATE_CHILD_SA with SA (the SA's own suite, a new SPI of
 * ours), Ni, KEi of its group. Once: a refusal or no answer leaves it to its lifetime. */
static void ike_rekey_begin(struct ikev2_sa *sa, uint64_t now)
{
	sa->ike_rekey_at = IKEV2_NEVER;
	const struct ikev2_prop *p = &sa->cur.k.p;
	struct ike_dh *dh = ike_dh_new(p->group);
	size_t kl = dh ? ike_dh_public(dh, sa->keb, IKE_DH_MAX) : 0;
	if (!kl) {
		ike_dh_free(dh);
		ev(sa, IKEV2_EV_INFO, "the IKE SA cannot be rekeyed: no key of group %u", p->group);
		return;
	}
	do
		sa->cbs->random(sa->cbs->ctx, sa->irk.spi, SPI_LEN);
	while (!memcmp(sa->irk.spi, "\0\0\0\0\0\0\0\0", SPI_LEN) ||
	       !memcmp(sa->irk.spi, ctx_ours(&sa->cur), SPI_LEN));
	sa->cbs->random(sa->cbs->ctx, sa->irk.ni, NONCE_LEN);
	uint32_t mid = sa->cur.our_mid;
	msg_begin(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, false, mid);
	memcpy(sa->o_spi, sa->irk.spi, SPI_LEN);
	add_ike_proposal(sa, 1, sa->o_spi, SPI_LEN, p);
	ike_add_payload(sa->o, IKE2_PL_NONCE, sa->irk.ni, NONCE_LEN);
	struct ike_payload *kp = ike_add_payload(sa->o, IKE2_PL_KE, sa->keb, kl);
	if (kp)
		kp->group = p->group;
	request_send(sa, false, now);
	if (!sa->req.active) {
		ike_dh_free(dh);
		ev(sa, IKEV2_EV_INFO, "the IKE SA cannot be rekeyed: the request could not be built");
		return;
	}
	sa->irk.active = true;
	sa->irk.collided = false;
	sa->irk.msgid = mid;
	sa->irk.dh = dh;
	char ob[17], nb[17];
	ev(sa, IKEV2_EV_INFO, "rekeying the IKE SA: our SPI %s, the new one %s",
	   spi_hex(ctx_ours(&sa->cur), ob), spi_hex(sa->irk.spi, nb));
}

/* The peer rekeyed the IKE SA while our rekey is under way (RFC 7296 2.8.2): our answer to
 * it is out; its new SA n waits for the answer to ours, which decides. */
static void ike_rekey_crossed(struct ikev2_sa *sa, const struct ike_ctx *n, const uint8_t *ni,
                              size_t ni_len)
{
	ctx_clear(&sa->irk.peer);
	sa->irk.peer = *n;
	const uint8_t *lo = ni;
	size_t ll = ni_len;
	if (nonce_cmp(sa->nrb, NONCE_LEN, lo, ll) < 0) {
		lo = sa->nrb;
		ll = NONCE_LEN;
	}
	memcpy(sa->irk.peer_min, lo, ll);
	sa->irk.peer_min_len = ll;
	sa->irk.collided = true;
	ev(sa, IKEV2_EV_INFO, "IKE SA rekey collision: the peer rekeys it as well");
}

/* Our new SA n lost a collision: it is kept until our DELETE of it (its first request,
 * under its keys) is answered, retransmitted like every request of ours but apart from
 * the winning SA's, so that one's own requests are not held up. */
static void lose_ours(struct ikev2_sa *sa, const struct ike_ctx *n, uint64_t now)
{
	lose_clear(sa);
	sa->lose.c = *n;
	sa->lose.c.set = true;
	sa->lose.ours = true;
	struct ike_ctx *c = &sa->lose.c;
	msg_begin(sa, c, IKE2_EXCH_INFORMATIONAL, false, c->our_mid);
	struct ike_payload *d = ike_add_payload(sa->o, IKE2_PL_D, NULL, 0);
	d->protocol = PROTO_IKE;
	if (!protect(sa, c, IKE2_EXCH_INFORMATIONAL, false, c->our_mid, &sa->lose.req.msg)) {
		ev(sa, IKEV2_EV_INFO, "our DELETE of the losing IKE SA could not be built");
		lose_clear(sa);
		return;
	}
	c->our_mid++;
	sa->lose.req.active = true;
	sa->lose.req.tries = 0;
	sa->lose.req.next_at = now + sa->conf->retransmit_ms;
	send_out(sa, &sa->lose.req.msg);
}

/* How long our requests are retransmitted before they are given up: the first wait and
 * each back-off after a retransmission, as tick() spaces them. */
static uint64_t retransmit_budget(const struct ikev2_conf *conf)
{
	uint64_t t = conf->retransmit_ms;
	for (unsigned k = 1; k <= conf->retransmits; k++)
		t += (uint64_t)conf->retransmit_ms << (k < 6 ? k : 6);
	return t;
}

/* The peer's new SA of a collision lost (ours won): kept, keys and SPIs, so that the
 * peer's DELETE of it is answered under them; forgotten when it comes, or after as long
 * as the peer's retransmissions of that DELETE would take with our own budget. */
static void lose_theirs(struct ikev2_sa *sa, uint64_t now)
{
	lose_clear(sa);
	sa->lose.c = sa->irk.peer; /* its response buffer moves with it */
	memset(&sa->irk.peer, 0, sizeof sa->irk.peer);
	sa->lose.c.set = true;
	sa->lose.ours = false;
	sa->lose.until = now + retransmit_budget(sa->conf);
}

/* A request of the peer under the losing SA of a collision (opened): an INFORMATIONAL is
 * answered, empty, and a DELETE of the IKE SA ends it; anything else waits for the
 * winning SA. */
static void lose_request(struct ikev2_sa *sa)
{
	struct ike_ctx *c = &sa->lose.c;
	const struct ike_msg *m = sa->m;
	if (m->exchange != IKE2_EXCH_INFORMATIONAL) {
		respond_notify(sa, c, m->exchange, m->msgid, N_TEMPORARY_FAILURE);
		return;
	}
	bool del = false;
	for (unsigned i = 0; i < m->npl; i++)
		del |= m->pl[i].type == IKE2_PL_D && m->pl[i].protocol == PROTO_IKE;
	msg_begin(sa, c, IKE2_EXCH_INFORMATIONAL, true, m->msgid);
	respond(sa, c, IKE2_EXCH_INFORMATIONAL, m->msgid);
	if (del) {
		ev(sa, IKEV2_EV_TRACE, "the peer deleted the losing IKE SA of the rekey collision");
		lose_clear(sa);
	}
}

/* The peer's new SA of a collision takes over (ours lost, or was refused). */
static void ike_rekey_take_peers(struct ikev2_sa *sa, uint64_t now)
{
	struct ike_ctx n = sa->irk.peer;
	memset(&sa->irk.peer, 0, sizeof sa->irk.peer);
	char ob[17], nb[17];
	spi_hex(ctx_ours(&sa->cur), ob);
	ike_switch(sa, &n, now);
	OPENSSL_cleanse(&n, sizeof n);
	ev(sa, IKEV2_EV_REKEYED, "IKE SA rekeyed by the peer: our SPI %s -> %s", ob,
	   spi_hex(ctx_ours(&sa->cur), nb));
}

/* The peer's answer to our rekey of the IKE SA (sa->m, opened): SA with its new SPI, Nr,
 * KEr. The new SA takes over and the old one is deleted under its own keys. */
static void ike_rekey_answer(struct ikev2_sa *sa, uint64_t now)
{
	const struct ike_msg *m = sa->m;
	struct ike_dh *dh = sa->irk.dh;
	sa->irk.dh = NULL;
	sa->irk.active = false;
	const struct ike_payload *sap = NULL, *nr = NULL, *ke = NULL;
	uint16_t refused = 0;
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *q = &m->pl[i];
		if (q->type == IKE2_PL_N && q->notify < 16384 && !refused)
			refused = q->notify;
		else if (q->type == IKE2_PL_SA && !sap)
			sap = q;
		else if (q->type == IKE2_PL_NONCE && !nr)
			nr = q;
		else if (q->type == IKE2_PL_KE && !ke)
			ke = q;
	}
	const struct ikev2_prop *p = &sa->cur.k.p;
	const struct ike_proposal *pr = sap && sap->prop_count == 1 ? &m->props[sap->prop_first]
	                                                            : NULL;
	bool usable = !refused && pr && pr->protocol == PROTO_IKE && pr->spi_size == SPI_LEN &&
	              memcmp(pr->spi, "\0\0\0\0\0\0\0\0", SPI_LEN) &&
	              offered(m, pr, XF_ENCR, p->encr, p->keybits) &&
	              offered(m, pr, XF_INTEG, p->integ, 0) && offered(m, pr, XF_PRF, p->prf, 0) &&
	              offered(m, pr, XF_DH, p->group, 0) && nr && nr->data_len >= 16 &&
	              nr->data_len <= 256 && ke && ke->group == p->group &&
	              ke->data_len == ike_dh_ke_len(p->group);
	uint8_t gir[IKE_DH_MAX], skeyseed[IKE_HASH_MAX];
	size_t gir_len = usable ? ike_dh_shared(dh, ke->data, ke->data_len, gir, sizeof gir) : 0;
	ike_dh_free(dh);
	struct ike_ctx n;
	memset(&n, 0, sizeof n);
	n.we_i = true; /* the rekeying side is the new SA's original initiator (RFC 7296 2.18) */
	bool ok = gir_len > 0;
	if (ok) {
		memcpy(n.k.ispi, sa->irk.spi, SPI_LEN);
		memcpy(n.k.rspi, pr->spi, SPI_LEN);
		ok = ikev2_keys_shape(&n.k, p) &&
		     ike2_skeyseed_rekey(p->prf, sa->cur.k.sk_d, sa->cur.k.prf_len, gir, gir_len,
		                         sa->irk.ni, NONCE_LEN, nr->data, nr->data_len, skeyseed) &&
		     ikev2_keys_derive(&n.k, skeyseed, sa->irk.ni, NONCE_LEN, nr->data, nr->data_len);
	}
	OPENSSL_cleanse(gir, sizeof gir);
	OPENSSL_cleanse(skeyseed, sizeof skeyseed);
	if (!ok) {
		const char *nn = refused ? ike_notify_name(2, refused) : NULL;
		if (refused)
			ev(sa, IKEV2_EV_INFO, "the peer refused our rekey of the IKE SA: %s (%u); it "
			   "stays until its lifetime ends", nn ? nn : "?", refused);
		else
			ev(sa, IKEV2_EV_INFO, "the peer's answer to our rekey of the IKE SA is unusable; "
			   "it stays until its lifetime ends");
		OPENSSL_cleanse(&n, sizeof n);
		if (sa->irk.collided)
			ike_rekey_take_peers(sa, now);
		irk_clear(sa);
		return;
	}
	if (sa->irk.collided) {
		/* both sides rekeyed it: the SA made with the lowest of the four nonces goes,
		 * deleted by its maker; the other one's maker deletes the old SA */
		const uint8_t *lo = sa->irk.ni;
		size_t ll = NONCE_LEN;
		if (nonce_cmp(nr->data, nr->data_len, lo, ll) < 0) {
			lo = nr->data;
			ll = nr->data_len;
		}
		bool lost = nonce_cmp(lo, ll, sa->irk.peer_min, sa->irk.peer_min_len) < 0;
		ev(sa, IKEV2_EV_INFO, "IKE SA rekey collision: %s", lost
		   ? "ours has the lowest nonce and is deleted, the peer's stays"
		   : "the peer's has the lowest nonce, ours stays");
		if (lost) {
			lose_ours(sa, &n, now);
			OPENSSL_cleanse(&n, sizeof n);
			ike_rekey_take_peers(sa, now);
			irk_clear(sa);
			return;
		}
	}
	if (sa->irk.collided) /* the peer's losing SA is its to delete: answered until then */
		lose_theirs(sa, now);
	irk_clear(sa);
	char ob[17], nb[17];
	spi_hex(ctx_ours(&sa->cur), ob);
	ike_switch(sa, &n, now);
	OPENSSL_cleanse(&n, sizeof n);
	char pb[64];
	ev(sa, IKEV2_EV_REKEYED, "IKE SA rekeyed by us: %s, our SPI %s -> %s", prop_name(p, pb,
	   sizeof pb), ob, spi_hex(ctx_ours(&sa->cur), nb));
	/* the old SA goes, deleted under its own keys */
	msg_begin(sa, &sa->old, IKE2_EXCH_INFORMATIONAL, false, sa->old.our_mid);
	struct ike_payload *d = ike_add_payload(sa->o, IKE2_PL_D, NULL, 0);
	d->protocol = PROTO_IKE;
	request_send_on(sa, &sa->old, false, now);
	if (!sa->req.active)
		old_gone(sa, now);
}

static void ike_rekey(struct ikev2_sa *sa, const struct ike_payload *sap,
                      const struct ike_payload *ni, const struct ike_payload *ke, uint64_t now)
{
	uint32_t msgid = sa->m->msgid;
	struct ikev2_prop pick;
	const struct ike_proposal *pr = NULL;
	if (!ke || !ni || ni->data_len < 16 || ni->data_len > 256) {
		respond_notify(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, msgid, N_INVALID_SYNTAX);
		return;
	}
	if (!ike_choose(sa, sa->m, sap, SPI_LEN, ke->group, &pick, &pr)) {
		if (ike_choose(sa, sa->m, sap, SPI_LEN, 0, &pick, &pr)) {
			uint8_t g[2];
			ike_put16(g, pick.group);
			msg_begin(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, true, msgid);
			add_notify(sa, N_INVALID_KE, 0, NULL, 0, g, 2);
			respond(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, msgid);
			return;
		}
		ev(sa, IKEV2_EV_INFO, "IKE SA rekey: no proposal acceptable");
		respond_notify(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, msgid, N_NO_PROPOSAL);
		return;
	}
	if (sa->old.set || sa->irk.collided) { /* one rekey at a time: the old SA must be gone first */
		respond_notify(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, msgid, N_TEMPORARY_FAILURE);
		return;
	}
	struct ike_dh *dh = ike_dh_new(pick.group);
	size_t gr_len = dh ? ike_dh_public(dh, sa->keb, IKE_DH_MAX) : 0;
	uint8_t gir[IKE_DH_MAX];
	size_t gir_len = gr_len && ke->data_len == ike_dh_ke_len(pick.group)
	                     ? ike_dh_shared(dh, ke->data, ke->data_len, gir, sizeof gir) : 0;
	ike_dh_free(dh);
	if (!gir_len) {
		respond_notify(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, msgid, N_INVALID_SYNTAX);
		return;
	}
	struct ikev2_keys nk;
	memset(&nk, 0, sizeof nk);
	memcpy(nk.ispi, pr->spi, SPI_LEN);
	do
		sa->cbs->random(sa->cbs->ctx, nk.rspi, SPI_LEN);
	while (!memcmp(nk.rspi, "\0\0\0\0\0\0\0\0", SPI_LEN) ||
	       !memcmp(nk.rspi, ctx_ours(&sa->cur), SPI_LEN) ||
	       (sa->irk.active && !memcmp(nk.rspi, sa->irk.spi, SPI_LEN)));
	sa->cbs->random(sa->cbs->ctx, sa->nrb, NONCE_LEN);
	uint8_t skeyseed[IKE_HASH_MAX];
	bool ok = ikev2_keys_shape(&nk, &pick) &&
	          ike2_skeyseed_rekey(pick.prf, sa->cur.k.sk_d, sa->cur.k.prf_len, gir, gir_len,
	                              ni->data, ni->data_len, sa->nrb, NONCE_LEN, skeyseed) &&
	          ikev2_keys_derive(&nk, skeyseed, ni->data, ni->data_len, sa->nrb, NONCE_LEN);
	OPENSSL_cleanse(skeyseed, sizeof skeyseed);
	OPENSSL_cleanse(gir, sizeof gir);
	if (!ok) {
		respond_notify(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, msgid, N_NO_PROPOSAL);
		return;
	}
	memcpy(sa->o_spi, nk.rspi, SPI_LEN);
	msg_begin(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, true, msgid);
	add_ike_proposal(sa, pr->num, sa->o_spi, SPI_LEN, &pick);
	ike_add_payload(sa->o, IKE2_PL_NONCE, sa->nrb, NONCE_LEN);
	struct ike_payload *kp = ike_add_payload(sa->o, IKE2_PL_KE, sa->keb, gr_len);
	kp->group = pick.group;
	respond(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, msgid);
	struct ike_ctx n;
	memset(&n, 0, sizeof n);
	n.k = nk; /* the peer its original initiator */
	OPENSSL_cleanse(&nk, sizeof nk);
	if (sa->irk.active) { /* ours is under way: its answer decides (RFC 7296 2.8.2) */
		ike_rekey_crossed(sa, &n, ni->data, ni->data_len);
		OPENSSL_cleanse(&n, sizeof n);
		return;
	}
	/* the new SA takes over: the old one answers until the peer deletes it */
	if (sa->req.active) { /* our request of the old SA is abandoned */
		sa->req.active = false;
		sa->crk.active = false;
		out_free(&sa->req.msg);
	}
	char ob[17], sb[17], nb[64];
	spi_hex(ctx_ours(&sa->cur), ob);
	ike_switch(sa, &n, now);
	OPENSSL_cleanse(&n, sizeof n);
	ev(sa, IKEV2_EV_REKEYED, "IKE SA rekeyed: %s, our SPI %s -> %s",
	   prop_name(&pick, nb, sizeof nb), ob, spi_hex(ctx_ours(&sa->cur), sb));
}

/* Nonces as RFC 7296 2.8.1 compares them: as byte strings, a shorter one that is a
 * prefix of the other being the lower. */
static int nonce_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	return c ? c : al < bl ? -1 : al > bl;
}

static void create_child(struct ikev2_sa *sa, uint64_t now)
{
	const struct ike_msg *m = sa->m;
	uint32_t msgid = m->msgid;
	const struct ike_payload *sap = NULL, *ni = NULL, *ke = NULL, *rekey = NULL;
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE2_PL_SA && !sap)
			sap = p;
		else if (p->type == IKE2_PL_NONCE && !ni)
			ni = p;
		else if (p->type == IKE2_PL_KE && !ke)
			ke = p;
		else if (p->type == IKE2_PL_N && p->notify == N_REKEY_SA && !rekey)
			rekey = p;
	}
	if (!sap || !sap->prop_count) {
		respond_notify(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, msgid, N_INVALID_SYNTAX);
		return;
	}
	if (m->props[sap->prop_first].protocol == PROTO_IKE) {
		ike_rekey(sa, sap, ni, ke, now);
		return;
	}
	if (!ni || ni->data_len < 16 || ni->data_len > 256) {
		respond_notify(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, msgid, N_INVALID_SYNTAX);
		return;
	}
	struct ikev2_child *old = NULL;
	if (rekey) {
		old = rekey->spi_size == 4 ? child_by_any_spi(sa, ike_get32(rekey->spi)) : NULL;
		if (!old) {
			msg_begin(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, true, msgid);
			add_notify(sa, N_CHILD_SA_NOT_FOUND, PROTO_ESP, rekey->spi, rekey->spi_size,
			           NULL, 0);
			respond(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, msgid);
			return;
		}
	}
	uint16_t group = 0;
	if (ke) {
		bool known = false;
		for (size_t i = 0; i < sa->conf->n_ike; i++)
			known |= sa->conf->ike[i].group == ke->group;
		if (!known || !ike_dh_supported(ke->group) ||
		    ke->data_len != ike_dh_ke_len(ke->group)) {
			uint8_t g[2];
			ike_put16(g, sa->cur.k.p.group);
			msg_begin(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, true, msgid);
			add_notify(sa, N_INVALID_KE, 0, NULL, 0, g, 2);
			respond(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, msgid);
			return;
		}
		group = ke->group;
	}
	struct child_req r;
	child_read(sa, m, group, &r);
	uint8_t gir[IKE_DH_MAX];
	size_t gir_len = 0, gr_len = 0;
	if (!r.err && group) {
		struct ike_dh *dh = ike_dh_new(group);
		gr_len = dh ? ike_dh_public(dh, sa->keb, IKE_DH_MAX) : 0;
		gir_len = gr_len ? ike_dh_shared(dh, ke->data, ke->data_len, gir, sizeof gir) : 0;
		ike_dh_free(dh);
		if (!gir_len)
			r.err = N_INVALID_SYNTAX;
	}
	sa->cbs->random(sa->cbs->ctx, sa->nrb, NONCE_LEN);
	msg_begin(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, true, msgid);
	struct ikev2_child c;
	bool ok;
	if (r.err) {
		add_notify(sa, r.err, 0, NULL, 0, NULL, 0);
		ok = false;
	} else {
		/* SA, Nr, [KE], TSi, TSr in this order */
		uint8_t nonce_at = (uint8_t)sa->o->npl;
		ok = child_answer(sa, &r, false, group ? gir : NULL, gir_len, ni->data, ni->data_len,
		                  sa->nrb, NONCE_LEN, group ? sa->keb : NULL, gr_len, &c, sa->o_tsi,
		                  sa->o_tsr);
		if (ok) { /* the nonce goes after the SA payload */
			struct ike_payload *np = ike_add_payload(sa->o, IKE2_PL_NONCE, sa->nrb, NONCE_LEN);
			if (np) {
				struct ike_payload nonce = *np;
				unsigned at = nonce_at + 1u;
				memmove(&sa->o->pl[at + 1], &sa->o->pl[at],
				        (sa->o->npl - 1 - at) * sizeof sa->o->pl[0]);
				sa->o->pl[at] = nonce;
			}
		}
	}
	OPENSSL_cleanse(gir, sizeof gir);
	respond(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, msgid);
	if (ok) {
		if (old) {
			/* a collision with our own rekey of it (RFC 7296 2.8.1): the lowest nonce of
			 * the peer's exchange decides once our answer is in */
			if (sa->crk.active && old->spi_in == sa->crk.old_spi) {
				const uint8_t *lo = ni->data;
				size_t ll = ni->data_len;
				if (nonce_cmp(sa->nrb, NONCE_LEN, lo, ll) < 0) {
					lo = sa->nrb;
					ll = NONCE_LEN;
				}
				sa->crk.collided = true;
				memcpy(sa->crk.peer_min, lo, ll);
				sa->crk.peer_min_len = ll;
			}
			old->replaced = true;
			old->rekey_at = IKEV2_NEVER;
		}
		child_install(sa, &c, &r, now);
		if (old)
			ev(sa, IKEV2_EV_TRACE, "child %08x/%08x rekeyed by %08x/%08x", old->spi_in,
			   old->spi_out, c.spi_in, c.spi_out);
	}
}

/* ---- INFORMATIONAL ------------------------------------------------------------------------- */

static void child_remove(struct ikev2_sa *sa, struct ikev2_child *c, const char *why)
{
	c->used = false;
	ev(sa, IKEV2_EV_CHILD_DOWN, "child %08x/%08x down: %s", c->spi_in, c->spi_out, why);
	if (sa->cbs->child_down)
		sa->cbs->child_down(sa->cbs->ctx, c, why);
	OPENSSL_cleanse(c, sizeof *c);
}

static void info(struct ikev2_sa *sa, struct ike_ctx *c, uint64_t now)
{
	const struct ike_msg *m = sa->m;
	uint32_t msgid = m->msgid;
	bool delete_ike = false, update = false, auth_failed = false;
	uint32_t del[IKEV2_CHILDREN];
	size_t ndel = 0;
	const struct ike_payload *cookie2 = NULL;
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE2_PL_D && p->protocol == PROTO_IKE) {
			delete_ike = true;
		} else if (p->type == IKE2_PL_D && p->protocol == PROTO_ESP && p->spi_size == 4 &&
		           c == &sa->cur) {
			for (unsigned k = 0; k < p->nspi && (size_t)(4 * k + 4) <= p->data_len; k++) {
				uint32_t spi = ike_get32(p->data + 4 * k);
				for (int j = 0; j < IKEV2_CHILDREN; j++) {
					struct ikev2_child *ch = &sa->child[j];
					if (!ch->used || ch->spi_out != spi)
						continue;
					if (ndel < IKEV2_CHILDREN)
						del[ndel++] = ch->spi_in;
					child_remove(sa, ch, "deleted by the peer");
				}
			}
		} else if (p->type == IKE2_PL_N) {
			if (p->notify == N_UPDATE_SA_ADDRESSES)
				update = true;
			else if (p->notify == N_COOKIE2 && p->data_len >= 8 && p->data_len <= 64)
				cookie2 = p;
			else if (p->notify == N_AUTH_FAILED)
				auth_failed = true;
			else {
				const char *n = ike_notify_name(2, p->notify);
				ev(sa, IKEV2_EV_INFO, "notify from the peer: %s (%u)", n ? n : "?", p->notify);
			}
		}
	}
	msg_begin(sa, c, IKE2_EXCH_INFORMATIONAL, true, msgid);
	if (delete_ike || auth_failed) {
		respond(sa, c, IKE2_EXCH_INFORMATIONAL, msgid);
		if (c == &sa->old) {
			ev(sa, IKEV2_EV_TRACE, "the old IKE SA of the rekey is deleted");
			old_gone(sa, now);
			return;
		}
		if (auth_failed && sa->fail_cause[0]) { /* after our EAP failure: its word on it */
			char cause[48];
			snprintf(cause, sizeof cause, "%s", sa->fail_cause);
			fail(sa, cause, "the peer %s gives up after the EAP failure", sa->peer_id);
			return;
		}
		if (auth_failed && sa->state != IKEV2_ESTABLISHED) {
			fail(sa, "ike.v2.auth-failed", "the peer %s refused our authentication "
			     "(AUTHENTICATION_FAILED): it does not accept this server's %s", sa->peer_id,
			     sa->conf->server_auth == IKEV2_SAUTH_CERT ? "certificate" : "pre-shared key");
			return;
		}
		bool was_up = sa->state == IKEV2_ESTABLISHED;
		snprintf(sa->cause, sizeof sa->cause, "%s",
		         sa->fail_cause[0] ? sa->fail_cause : "ike.v2.deleted-by-peer");
		ev(sa, IKEV2_EV_INFO, "the peer deleted the IKE SA");
		set_dead(sa);
		if (was_up)
			ev(sa, IKEV2_EV_IKE_DOWN, "IKE SA down: deleted by the peer");
		return;
	}
	uint8_t db[4 * IKEV2_CHILDREN];
	if (ndel) {
		for (size_t i = 0; i < ndel; i++)
			ike_put32(db + 4 * i, del[i]);
		struct ike_payload *d = ike_add_payload(sa->o, IKE2_PL_D, db, 4 * ndel);
		d->protocol = PROTO_ESP;
		d->spi_size = 4;
		d->nspi = (uint16_t)ndel;
	}
	uint8_t hs[20], hd[20];
	if (update && sa->conf->mobike) {
		char ab[64];
		ev(sa, IKEV2_EV_PEER_MOVED, "UPDATE_SA_ADDRESSES: the peer is at %s",
		   addr_str(&sa->peer, ab, sizeof ab));
		ikev2_natd_hash(c->k.ispi, c->k.rspi, &sa->local, hs);
		ikev2_natd_hash(c->k.ispi, c->k.rspi, &sa->peer, hd);
		add_notify(sa, N_NATD_SRC, 0, NULL, 0, hs, 20);
		add_notify(sa, N_NATD_DST, 0, NULL, 0, hd, 20);
		for (int j = 0; j < IKEV2_CHILDREN; j++) {
			struct ikev2_child *ch = &sa->child[j];
			if (!ch->used)
				continue;
			memcpy(ch->in.src, sa->peer.ip, 16);
			memcpy(ch->out.dst, sa->peer.ip, 16);
			ch->in.ipver = ch->out.ipver = sa->peer.family;
		}
	}
	if (cookie2)
		add_notify(sa, N_COOKIE2, 0, NULL, 0, cookie2->data, cookie2->data_len);
	respond(sa, c, IKE2_EXCH_INFORMATIONAL, msgid);
}

/* ---- entry points ------------------------------------------------------------------------- */

/* Decrypt the protected message in sa->m (raw) with c's keys into sa->pt and decode it
 * into sa->m. 1 ready, 0 a fragment stored (or nothing to do), -1 dropped. */
static int open_protected(struct ikev2_sa *sa, struct ike_ctx *c, const uint8_t *raw, size_t len)
{
	const struct ike_msg *m = sa->m;
	if (!m->npl || !m->pl[m->npl - 1].encrypted)
		return -1;
	const struct ike_payload *p = &m->pl[m->npl - 1];
	if (p->off != IKE_HDR_LEN && p->type == IKE2_PL_SKF)
		return -1; /* RFC 7383 2.5: SKF is the only payload */
	uint8_t *inner = sa->pt + IKE_HDR_LEN;
	/* what the decryption may write: no more than the ciphertext (wiped at the call's end) */
	size_t room = IKE_HDR_LEN + (p->data_len < IKEV2_MSG_MAX ? p->data_len : IKEV2_MSG_MAX);
	if (sa->sc->pt_used < room)
		sa->sc->pt_used = room;
	long n = ikev2_open(&c->k, !c->we_i, raw, len, p, inner, IKEV2_MSG_MAX);
	if (n < 0) {
		ev(sa, IKEV2_EV_INFO, "message %u dropped: integrity check failed", m->msgid);
		return -1;
	}
	uint8_t first = p->inner_next;
	if (p->type == IKE2_PL_SKF) {
		if (!sa->conf->fragmentation) {
			ev(sa, IKEV2_EV_INFO, "fragment dropped: fragmentation is off");
			return -1;
		}
		if (!sa->reasm) {
			sa->reasm = malloc(sizeof *sa->reasm);
			if (!sa->reasm) {
				ev(sa, IKEV2_EV_INFO, "fragment dropped: out of memory");
				return -1;
			}
			ikev2_reasm_reset(sa->reasm);
		}
		enum ikev2_reasm_rc rc = ikev2_reasm_add(sa->reasm, m->msgid, p->frag_num,
		                                         p->frag_total, p->inner_next, inner,
		                                         (size_t)n);
		if (!sa->reasm->total)
			reasm_drop(sa); /* nothing under way (out of bounds): given back */
		if (rc == IKEV2_REASM_BAD || rc == IKEV2_REASM_STALE) {
			ev(sa, IKEV2_EV_INFO, "fragment %u/%u of message %u dropped (%s)", p->frag_num,
			   p->frag_total, m->msgid, rc == IKEV2_REASM_BAD ? "out of bounds" : "stale");
			return -1;
		}
		if (rc != IKEV2_REASM_DONE)
			return 0;
		size_t tl = ikev2_reasm_take(sa->reasm, inner, IKEV2_MSG_MAX, &first);
		reasm_drop(sa);
		if (!tl)
			return -1;
		n = (long)tl;
		ev(sa, IKEV2_EV_TRACE, "message %u reassembled from %u fragments (%ld bytes)",
		   m->msgid, p->frag_total, n);
	}
	if (sa->sc->pt_used < IKE_HDR_LEN + (size_t)n)
		sa->sc->pt_used = IKE_HDR_LEN + (size_t)n;
	memcpy(sa->pt, raw, IKE_HDR_LEN);
	sa->pt[16] = first;
	ike_put32(sa->pt + 24, (uint32_t)(IKE_HDR_LEN + n));
	struct diag_err err;
	if (ike_decode(sa->pt, IKE_HDR_LEN + (size_t)n, sa->m, &err) < 0) {
		ev(sa, IKEV2_EV_INFO, "message dropped: its decrypted payloads do not decode: offset "
		   "%zu: %s", err.off, err.reason);
		return -1;
	}
	return 1;
}

/* Our rekey of child c (conf.child_rekey): CREATE_CHILD_SA with N(REKEY_SA), SA (its
 * suite, a new SPI of ours), Ni, TSi (our side), TSr (the client's address). No PFS, as
 * Windows' children have none. */
static void child_rekey_begin(struct ikev2_sa *sa, struct ikev2_child *c, uint64_t now)
{
	struct child_req r;
	memset(&r, 0, sizeof r);
	r.pick = c->prop;
	r.prop_num = 1;
	sa->crk.spi_in = new_spi(sa);
	sa->cbs->random(sa->cbs->ctx, sa->crk.ni, NONCE_LEN);
	msg_begin(sa, &sa->cur, IKE2_EXCH_CREATE_CHILD_SA, false, sa->cur.our_mid);
	uint8_t old[4];
	ike_put32(old, c->spi_in);
	add_notify(sa, N_REKEY_SA, PROTO_ESP, old, 4, NULL, 0);
	ike_put32(sa->o_spi, sa->crk.spi_in);
	add_esp_proposal(sa, &r, sa->o_spi);
	ike_add_payload(sa->o, IKE2_PL_NONCE, sa->crk.ni, NONCE_LEN);
	struct ts *ti = sa->o_tsi, *tr = &sa->o_tsr[0];
	memset(ti, 0, sizeof *ti);
	memset(tr, 0, sizeof *tr);
	ti->eport = tr->eport = 65535;
	memcpy(ti->start, c->ts_local[0], 4);
	memcpy(ti->end, c->ts_local[1], 4);
	memcpy(tr->start, c->vip, 4);
	memcpy(tr->end, c->vip, 4);
	add_ts(sa, IKE2_PL_TSI, ti, 1);
	add_ts(sa, IKE2_PL_TSR, tr, 1);
	uint32_t mid = sa->cur.our_mid;
	request_send(sa, false, now);
	if (!sa->req.active) { /* could not be built: the hard lifetime still ends it */
		c->rekey_at = IKEV2_NEVER;
		return;
	}
	sa->crk.active = true;
	sa->crk.collided = false;
	sa->crk.msgid = mid;
	sa->crk.old_spi = c->spi_in;
	c->rekey_at = IKEV2_NEVER; /* once: a refusal leaves it to its hard lifetime */
	ev(sa, IKEV2_EV_INFO, "rekeying child %08x/%08x", c->spi_in, c->spi_out);
}

/* The peer's answer to our rekey (sa->m, opened). */
static void child_rekey_answer(struct ikev2_sa *sa, uint64_t now)
{
	const struct ike_msg *m = sa->m;
	sa->crk.active = false;
	struct ikev2_child *old = NULL;
	for (int i = 0; i < IKEV2_CHILDREN; i++)
		if (sa->child[i].used && sa->child[i].spi_in == sa->crk.old_spi)
			old = &sa->child[i];
	const struct ike_payload *nr = NULL;
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE2_PL_N && p->notify < 16384) {
			ev(sa, IKEV2_EV_INFO, "the peer refused our rekey of child %08x: notify %u",
			   sa->crk.old_spi, p->notify);
			return;
		}
		if (p->type == IKE2_PL_NONCE && !nr)
			nr = p;
	}
	struct child_req r;
	child_read(sa, m, 0, &r);
	if (!nr || nr->data_len < 16 || nr->data_len > 256 || r.err || !r.have ||
	    r.pick.encr != (old ? old->prop.encr : r.pick.encr)) {
		ev(sa, IKEV2_EV_INFO, "the peer's answer to our rekey of child %08x is unusable",
		   sa->crk.old_spi);
		return;
	}
	struct ikev2_child n;
	memset(&n, 0, sizeof n);
	n.spi_in = sa->crk.spi_in;
	n.spi_out = r.spi_out;
	n.udp_encap = ikev2_nat(sa);
	const uint8_t *vip = old ? old->vip : sa->have_vip ? sa->vip : sa->peer.ip;
	memcpy(n.vip, vip, 4);
	if (old)
		memcpy(n.ts_local, old->ts_local, sizeof n.ts_local);
	if (!child_slot(sa) || !child_keys(sa, &n, &r, NULL, 0, sa->crk.ni, NONCE_LEN, nr->data,
	                                   nr->data_len, true)) {
		ev(sa, IKEV2_EV_INFO, "no room for the rekeyed child of %08x", sa->crk.old_spi);
		return;
	}
	child_install(sa, &n, &r, now);
	ev(sa, IKEV2_EV_TRACE, "child %08x rekeyed by us: %08x/%08x", sa->crk.old_spi, n.spi_in,
	   n.spi_out);
	bool lost = false;
	if (sa->crk.collided) {
		/* both sides rekeyed it: the child made with the lowest of the four nonces goes,
		 * deleted by its maker (RFC 7296 2.8.1) */
		const uint8_t *lo = sa->crk.ni;
		size_t ll = NONCE_LEN;
		if (nonce_cmp(nr->data, nr->data_len, lo, ll) < 0) {
			lo = nr->data;
			ll = nr->data_len;
		}
		lost = nonce_cmp(lo, ll, sa->crk.peer_min, sa->crk.peer_min_len) < 0;
		ev(sa, IKEV2_EV_INFO, "rekey collision on child %08x: %s", sa->crk.old_spi,
		   lost ? "ours has the lowest nonce and is deleted" : "the peer's goes");
	}
	if (lost) {
		ikev2_child_delete(sa, n.spi_in, "rekey collision lost", now);
	} else if (old && !old->replaced) {
		old->replaced = true;
		ikev2_child_delete(sa, old->spi_in, "rekeyed", now);
	} else if (old) {
		old->replaced = true;
	}
}

static void handle_response(struct ikev2_sa *sa, const uint8_t *buf, size_t len, uint64_t now)
{
	struct ike_ctx *c = sa->req.on_old ? &sa->old : &sa->cur;
	if (!sa->req.active || sa->m->msgid != sa->req.msg.msgid || !c->set ||
	    memcmp(sa->m->ispi, c->k.ispi, 8) || memcmp(sa->m->rspi, c->k.rspi, 8))
		return;
	if (open_protected(sa, c, buf, len) != 1)
		return;
	sa->accepted = true;
	sa->req.active = false;
	out_free(&sa->req.msg);
	sa->last_rx = now;
	ev(sa, IKEV2_EV_TRACE, "the peer answered our request %u", sa->m->msgid);
	if (sa->req.on_old) {
		sa->req.on_old = false;
		ev(sa, IKEV2_EV_TRACE, "the old IKE SA of our rekey is deleted");
		ctx_clear(&sa->old);
	} else if (sa->irk.active && sa->m->msgid == sa->irk.msgid &&
	           sa->m->exchange == IKE2_EXCH_CREATE_CHILD_SA)
		ike_rekey_answer(sa, now);
	else if (sa->crk.active && sa->m->msgid == sa->crk.msgid &&
	         sa->m->exchange == IKE2_EXCH_CREATE_CHILD_SA)
		child_rekey_answer(sa, now);
	else
		for (unsigned i = 0; i < sa->m->npl; i++) /* its DELETE of the children we deleted */
			if (sa->m->pl[i].type == IKE2_PL_N)
				ev(sa, IKEV2_EV_INFO, "notify in the peer's answer: %u", sa->m->pl[i].notify);
	del_queue_flush(sa, now);
}

/* The peer's answer under the losing SA of a collision: to our DELETE of it, the end. */
static void lose_response(struct ikev2_sa *sa, const uint8_t *buf, size_t len)
{
	if (!sa->lose.req.active || sa->m->msgid != sa->lose.req.msg.msgid)
		return;
	if (open_protected(sa, &sa->lose.c, buf, len) != 1)
		return;
	sa->accepted = true;
	ev(sa, IKEV2_EV_TRACE, "the losing IKE SA of the rekey collision is deleted");
	lose_clear(sa);
}

static uint64_t input(struct ikev2_sa *sa, const uint8_t *buf, size_t len,
                      const struct ikev2_addr *local, const struct ikev2_addr *peer, uint64_t now)
{
	if (sa->state == IKEV2_DEAD)
		return IKEV2_NEVER;
	if (len > IKEV2_DATAGRAM_MAX) {
		ev(sa, IKEV2_EV_INFO, "datagram of %zu bytes dropped (at most %d)", len,
		   IKEV2_DATAGRAM_MAX);
		return ikev2_deadline(sa);
	}
	struct diag_err err;
	if (ike_decode(buf, len, sa->m, &err) < 0) {
		ev(sa, IKEV2_EV_INFO, "message dropped: offset %zu: %s", err.off, err.reason);
		return ikev2_deadline(sa);
	}
	const struct ike_msg *m = sa->m;
	if (m->major != 2) {
		ev(sa, IKEV2_EV_INFO, "message of version %u.%u dropped", m->major, m->minor);
		return ikev2_deadline(sa);
	}
	struct ikev2_addr old_peer = sa->peer, old_local = sa->local;
	bool old_4500 = sa->on_4500;
	sa->peer = *peer;
	sa->local = *local;
	sa->on_4500 = local->port == 4500;
	sa->accepted = false;
	bool response = m->flags & IKE2_FLAG_R;
	uint32_t msgid = m->msgid;
	static const uint8_t zero8[8];

	if (m->exchange == IKE2_EXCH_SA_INIT) {
		uint8_t d[32];
		digest(buf, len, d);
		if (response || msgid || memcmp(m->rspi, zero8, 8)) {
			ev(sa, IKEV2_EV_TRACE, "IKE_SA_INIT not a first request: dropped");
		} else if (sa->state == IKEV2_START) {
			/* a retry after INVALID_KE_PAYLOAD comes with the same SPI */
			if (memcmp(sa->spi_i, zero8, 8) && memcmp(sa->spi_i, m->ispi, 8))
				ev(sa, IKEV2_EV_TRACE, "IKE_SA_INIT of another SPI dropped");
			else {
				memcpy(sa->spi_i, m->ispi, 8);
				sa_init(sa, buf, len, d);
			}
		} else if (sa->state == IKEV2_INIT_DONE && !memcmp(d, sa->init_req_digest, 32) &&
		           sa->cur.resp.resends < IKEV2_RESENDS) {
			sa->cur.resp.resends++;
			sa->accepted = true;
			ev(sa, IKEV2_EV_INFO, "retransmitted IKE_SA_INIT: response sent again");
			if (sa->cbs->send)
				sa->cbs->send(sa->cbs->ctx, sa->init_resp, sa->init_resp_len, sa->on_4500);
		}
		goto out;
	}
	struct ike_ctx *c = NULL;
	if (sa->cur.set && !memcmp(m->ispi, sa->cur.k.ispi, 8) && !memcmp(m->rspi, sa->cur.k.rspi, 8))
		c = &sa->cur;
	else if (sa->old.set && !memcmp(m->ispi, sa->old.k.ispi, 8) &&
	         !memcmp(m->rspi, sa->old.k.rspi, 8))
		c = &sa->old;
	else if (sa->lose.c.set && !memcmp(m->ispi, sa->lose.c.k.ispi, 8) &&
	         !memcmp(m->rspi, sa->lose.c.k.rspi, 8))
		c = &sa->lose.c;
	if (!c) {
		ev(sa, IKEV2_EV_TRACE, "message of other SPIs dropped");
		goto out;
	}
	if (response && c == &sa->lose.c) {
		lose_response(sa, buf, len);
		goto out;
	}
	if (response) {
		if (c == (sa->req.on_old ? &sa->old : &sa->cur))
			handle_response(sa, buf, len, now);
		goto out;
	}
	/* a request: the one after the last answered, or a retransmission of that one */
	if (c->resp.have && msgid == c->resp.msgid && msgid + 1 == c->next_mid) {
		const struct ike_payload *p = m->npl ? &m->pl[m->npl - 1] : NULL;
		bool first = !p || p->type != IKE2_PL_SKF || p->frag_num == 1;
		if (first && c->resp.resends < IKEV2_RESENDS) {
			c->resp.resends++;
			ev(sa, IKEV2_EV_INFO, "retransmitted request %u: response sent again (%u)", msgid,
			   c->resp.resends);
			sa->on_4500 = old_4500 || sa->on_4500;
			send_out(sa, &c->resp);
		}
		goto out;
	}
	if (msgid != c->next_mid) {
		ev(sa, IKEV2_EV_TRACE, "request %u dropped: %u expected", msgid, c->next_mid);
		goto out;
	}
	if (sa->state == IKEV2_AUTHORIZING && msgid == sa->pending_mid) {
		ev(sa, IKEV2_EV_TRACE, "request %u again while the verdict is pending: ignored", msgid);
		goto out;
	}
	int r = open_protected(sa, c, buf, len);
	if (r <= 0)
		goto out;
	sa->accepted = true;
	sa->last_rx = now;
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->critical && ike_payload_name(2, p->type) == NULL) {
			uint8_t t = p->type;
			msg_begin(sa, c, m->exchange, true, msgid);
			add_notify(sa, N_UNSUPPORTED_CRITICAL, 0, NULL, 0, &t, 1);
			respond(sa, c, m->exchange, msgid);
			goto out;
		}
	}
	if (c == &sa->lose.c) {
		lose_request(sa);
		goto out;
	}
	if (c == &sa->old) {
		if (m->exchange == IKE2_EXCH_INFORMATIONAL)
			info(sa, c, now);
		else
			respond_notify(sa, c, m->exchange, msgid, N_TEMPORARY_FAILURE);
		goto out;
	}
	switch (m->exchange) {
	case IKE2_EXCH_AUTH:
		if (sa->state == IKEV2_INIT_DONE)
			auth1(sa, now);
		else if (sa->state == IKEV2_EAP)
			auth_eap(sa, now);
		else if (sa->state == IKEV2_EAP_OK)
			auth_final(sa, now);
		else
			ev(sa, IKEV2_EV_TRACE, "IKE_AUTH in state %s dropped",
			   tok_name(ikev2_state_names, sa->state));
		break;
	case IKE2_EXCH_CREATE_CHILD_SA:
		if (sa->state == IKEV2_ESTABLISHED)
			create_child(sa, now);
		else
			respond_notify(sa, c, m->exchange, msgid, N_TEMPORARY_FAILURE);
		break;
	case IKE2_EXCH_INFORMATIONAL:
		info(sa, c, now);
		break;
	default: {
		const char *n = ike_exchange_name(2, m->exchange);
		ev(sa, IKEV2_EV_INFO, "%s exchange (%u) not supported: dropped", n ? n : "unknown",
		   m->exchange);
		break;
	}
	}
out:
	/* only a message that was accepted (authenticated, once there are keys) moves the
	 * peer: a forged datagram with the right SPIs cannot redirect the replies */
	if (!sa->accepted && sa->state != IKEV2_DEAD) {
		sa->peer = old_peer;
		sa->local = old_local;
		sa->on_4500 = old_4500;
	} else if (sa->accepted && sa->state == IKEV2_ESTABLISHED && !addr_eq(&old_peer, &sa->peer)) {
		char ab[64];
		ev(sa, IKEV2_EV_PEER_MOVED, "the peer moved to %s", addr_str(&sa->peer, ab, sizeof ab));
		for (int j = 0; j < IKEV2_CHILDREN; j++) {
			struct ikev2_child *ch = &sa->child[j];
			if (!ch->used)
				continue;
			memcpy(ch->in.src, sa->peer.ip, 16);
			memcpy(ch->out.dst, sa->peer.ip, 16);
		}
	}
	return ikev2_deadline(sa);
}

uint64_t ikev2_deadline(const struct ikev2_sa *sa)
{
	if (sa->state == IKEV2_DEAD)
		return IKEV2_NEVER;
	uint64_t t = sa->state < IKEV2_ESTABLISHED ? sa->neg_deadline : sa->expires;
	if (sa->req.active && sa->req.next_at < t)
		t = sa->req.next_at;
	if (sa->lose.req.active && sa->lose.req.next_at < t)
		t = sa->lose.req.next_at;
	if (sa->lose.c.set && !sa->lose.ours && sa->lose.until < t)
		t = sa->lose.until;
	if (sa->state == IKEV2_ESTABLISHED && sa->conf->dpd_ms && !sa->req.active) {
		uint64_t d = sa->last_rx + sa->conf->dpd_ms;
		if (d < t)
			t = d;
	}
	if (sa->state == IKEV2_ESTABLISHED && !sa->req.active && !sa->old.set &&
	    sa->ike_rekey_at < t)
		t = sa->ike_rekey_at;
	for (int i = 0; i < IKEV2_CHILDREN; i++) {
		const struct ikev2_child *c = &sa->child[i];
		if (c->used && c->expires < t)
			t = c->expires;
		if (c->used && sa->state == IKEV2_ESTABLISHED && !sa->req.active && !c->replaced &&
		    c->rekey_at < t)
			t = c->rekey_at;
	}
	return t;
}

static uint64_t tick(struct ikev2_sa *sa, uint64_t now)
{
	if (sa->state == IKEV2_DEAD)
		return IKEV2_NEVER;
	if (sa->state < IKEV2_ESTABLISHED && now >= sa->neg_deadline) {
		if (sa->fail_cause[0]) {
			char cause[48];
			snprintf(cause, sizeof cause, "%s", sa->fail_cause);
			fail(sa, cause, "the peer did not acknowledge the EAP failure");
		} else {
			fail(sa, "ike.phase1-stalled", "IKE_SA_INIT and IKE_AUTH not completed within "
			     "%u ms (state %s)", sa->conf->negotiation_ms,
			     tok_name(ikev2_state_names, sa->state));
		}
		return IKEV2_NEVER;
	}
	if (sa->state == IKEV2_ESTABLISHED && now >= sa->expires) {
		snprintf(sa->cause, sizeof sa->cause, "ike.v2.expired");
		ikev2_delete(sa, "lifetime expired without a rekey", now);
		return IKEV2_NEVER;
	}
	if (sa->req.active && now >= sa->req.next_at) {
		if (sa->req.tries >= sa->conf->retransmits && sa->req.on_old) {
			/* the new SA is up: its own liveness checks tell whether the peer is gone */
			ev(sa, IKEV2_EV_INFO, "no answer to our DELETE of the old IKE SA: dropped");
			old_gone(sa, now);
		} else if (sa->req.tries >= sa->conf->retransmits) {
			fail(sa, "ike.v2.peer-gone", "no answer to our request %u after %u "
			     "retransmissions", sa->req.msg.msgid, sa->req.tries);
			return IKEV2_NEVER;
		} else {
			sa->req.tries++;
			uint64_t back = (uint64_t)sa->conf->retransmit_ms
			                << (sa->req.tries < 6 ? sa->req.tries : 6);
			sa->req.next_at = now + back;
			send_out(sa, &sa->req.msg);
		}
	}
	if (sa->lose.req.active && now >= sa->lose.req.next_at) {
		if (sa->lose.req.tries >= sa->conf->retransmits) {
			/* the winning SA is up: its own liveness checks tell whether the peer is gone */
			ev(sa, IKEV2_EV_INFO, "no answer to our DELETE of the losing IKE SA: dropped");
			lose_clear(sa);
		} else {
			sa->lose.req.tries++;
			uint64_t back = (uint64_t)sa->conf->retransmit_ms
			                << (sa->lose.req.tries < 6 ? sa->lose.req.tries : 6);
			sa->lose.req.next_at = now + back;
			send_out(sa, &sa->lose.req.msg);
		}
	}
	if (sa->lose.c.set && !sa->lose.ours && now >= sa->lose.until) {
		ev(sa, IKEV2_EV_INFO, "the peer did not delete its losing IKE SA of the rekey "
		   "collision: forgotten");
		lose_clear(sa);
	}
	if (sa->state == IKEV2_ESTABLISHED && sa->conf->dpd_ms && !sa->req.active &&
	    now >= sa->last_rx + sa->conf->dpd_ms) {
		msg_begin(sa, &sa->cur, IKE2_EXCH_INFORMATIONAL, false, sa->cur.our_mid);
		ev(sa, IKEV2_EV_TRACE, "liveness check after %u ms of silence", sa->conf->dpd_ms);
		request_send(sa, true, now);
		sa->last_rx = now; /* the next check waits for this one */
	}
	for (int i = 0; i < IKEV2_CHILDREN; i++)
		if (sa->child[i].used && now >= sa->child[i].expires)
			ikev2_child_delete(sa, sa->child[i].spi_in, "lifetime expired without a rekey",
			                   now);
	if (sa->state == IKEV2_ESTABLISHED && !sa->req.active && !sa->old.set &&
	    now >= sa->ike_rekey_at)
		ike_rekey_begin(sa, now);
	for (int i = 0; i < IKEV2_CHILDREN; i++) {
		struct ikev2_child *c = &sa->child[i];
		if (sa->state == IKEV2_ESTABLISHED && !sa->req.active && c->used && !c->replaced &&
		    now >= c->rekey_at)
			child_rekey_begin(sa, c, now);
	}
	return ikev2_deadline(sa);
}

static void delete_sa(struct ikev2_sa *sa, const char *why, uint64_t now)
{
	if (sa->state == IKEV2_DEAD)
		return;
	bool was_up = sa->state == IKEV2_ESTABLISHED;
	if (was_up && sa->sc) /* fire and forget: the SA is gone whatever the peer answers */
		ike_delete_once(sa, &sa->cur);
	if (!sa->cause[0])
		snprintf(sa->cause, sizeof sa->cause, "ike.v2.deleted");
	ev(sa, was_up ? IKEV2_EV_IKE_DOWN : IKEV2_EV_INFO, "IKE SA %s: %s",
	   was_up ? "down" : "abandoned", why);
	set_dead(sa);
	(void)now;
}

static uint64_t child_delete(struct ikev2_sa *sa, uint32_t spi_in, const char *why,
                             uint64_t now)
{
	for (int i = 0; i < IKEV2_CHILDREN; i++) {
		struct ikev2_child *c = &sa->child[i];
		if (!c->used || c->spi_in != spi_in)
			continue;
		child_remove(sa, c, why);
		if (sa->state != IKEV2_ESTABLISHED)
			break;
		if (!sa->req.active)
			send_delete_children(sa, &spi_in, 1, now);
		else if (sa->ndel < IKEV2_CHILDREN)
			sa->del_queue[sa->ndel++] = spi_in;
		break;
	}
	return ikev2_deadline(sa);
}

void ikev2_child_used(struct ikev2_sa *sa, uint32_t spi_in, uint64_t now)
{
	if (ikev2_child(sa, spi_in) && now > sa->last_rx)
		sa->last_rx = now;
}

/* ---- the entry points with a scratch lent for the call -------------------------------- */

uint64_t ikev2_input(struct ikev2_sa *sa, const uint8_t *buf, size_t len,
                     const struct ikev2_addr *local, const struct ikev2_addr *peer, uint64_t now)
{
	bool taken = scratch_lend(sa);
	uint64_t t = sa->sc ? input(sa, buf, len, local, peer, now) : ikev2_deadline(sa);
	scratch_return(sa, taken);
	return t;
}

uint64_t ikev2_tick(struct ikev2_sa *sa, uint64_t now)
{
	bool taken = scratch_lend(sa);
	uint64_t t = sa->sc ? tick(sa, now) : ikev2_deadline(sa);
	scratch_return(sa, taken);
	return t;
}

int ikev2_authorize_done(struct ikev2_sa *sa, const struct ikev2_verdict *v, uint64_t now)
{
	bool taken = scratch_lend(sa);
	int rc = sa->sc ? authorize_done(sa, v, now) : -1;
	scratch_return(sa, taken);
	return rc;
}

void ikev2_delete(struct ikev2_sa *sa, const char *why, uint64_t now)
{
	bool taken = scratch_lend(sa);
	delete_sa(sa, why, now); /* without a scratch: no DELETE sent, the SA ends all the same */
	scratch_return(sa, taken);
}

uint64_t ikev2_child_delete(struct ikev2_sa *sa, uint32_t spi_in, const char *why, uint64_t now)
{
	bool taken = scratch_lend(sa);
	uint64_t t = child_delete(sa, spi_in, why, now);
	scratch_return(sa, taken);
	return t;
}
