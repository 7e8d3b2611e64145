/* IKEv1 initiator: Main Mode (PSK), NAT-T, one Quick Mode for transport ESP over
 * UDP 1701. See ikev1_init.h. */
#include "ike/ikev1_init.h"
#include "ike/ike_bytes.h"
#include "ike/ike_crypto.h"
#include "ike/ikev1_keys.h"
#include "ike.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#define NONCE_LEN 32
#define SAI_MAX 1024

const struct tok ikev1i_state_names[] = {
	{IKEV1I_START, "start"}, {IKEV1I_MM_SA, "mm-sa-sent"}, {IKEV1I_MM_KE, "mm-ke-sent"},
	{IKEV1I_MM_AUTH, "mm-auth-sent"}, {IKEV1I_QM, "qm-sent"},
	{IKEV1I_ESTABLISHED, "established"}, {IKEV1I_DEAD, "dead"}, {0, NULL},
};

struct ikev1i {
	const struct ikev1i_conf *conf;
	const struct ikev1_cbs *cbs;
	enum ikev1i_state state;
	char cause[48];
	struct ikev1_addr local, peer;   /* peer: where messages go now */
	bool on_natt;                    /* floated to the NAT-T port */
	bool natt_agreed;                /* the responder answered the RFC 3947 VID */
	bool nat_local, nat_peer;
	bool heard, heard_natt;          /* something came back (on the NAT-T port) */
	uint8_t ispi[8], rspi[8];

	/* phase 1 */
	struct ikev1_p1_prop p1;
	struct ike1_keys k;
	uint8_t sai[SAI_MAX];
	size_t sai_len;
	struct ike_dh *dh;
	uint8_t gxi[IKE_DH_MAX], gxr[IKE_DH_MAX];
	size_t gx_len;
	uint8_t ni[NONCE_LEN], nr[256];
	size_t nr_len;

	/* Quick Mode */
	uint32_t msgid;
	uint8_t qiv[16];
	uint8_t qni[NONCE_LEN], qnr[256];
	size_t qnr_len;
	struct ikev1_child child;

	/* the last message sent, its retransmissions, the last one received */
	uint8_t last[IKEV1_MSG_MAX];
	size_t last_len;
	unsigned tries;
	uint64_t rtx_at;
	uint8_t rx_digest[32];
	bool have_rx;
	unsigned resent_for_dup;

	uint64_t neg_deadline, ike_up_at, child_up_at;
	struct ike_msg *m;               /* being read, being built: 33 KB each, held only */
	struct ike_msg *o;               /* while a negotiation runs (a load test holds many) */
	uint8_t pt[IKEV1_MSG_MAX];
	uint8_t tx[IKEV1_MSG_MAX];
};

/* ---- small helpers ----------------------------------------------------------------- */

static void ev(struct ikev1i *sa, enum ikev1_ev kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ev(struct ikev1i *sa, enum ikev1_ev kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ikev1_event_v(sa->cbs, kind, fmt, ap);
	va_end(ap);
}

static void set_dead(struct ikev1i *sa)
{
	if (sa->child.used) {
		sa->child.used = false;
		if (sa->cbs->child_down)
			sa->cbs->child_down(sa->cbs->ctx, &sa->child, "IKE SA gone");
	}
	ike_dh_free(sa->dh);
	sa->dh = NULL;
	OPENSSL_cleanse(&sa->k, sizeof sa->k);
	OPENSSL_cleanse(&sa->child, sizeof sa->child);
	sa->state = IKEV1I_DEAD;
}

static void fail(struct ikev1i *sa, const char *cause, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct ikev1i *sa, const char *cause, const char *fmt, ...)
{
	char buf[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	snprintf(sa->cause, sizeof sa->cause, "%s", cause);
	ev(sa, IKEV1_EV_FAIL, "%s: %s", cause, buf);
	bool was_up = sa->state >= IKEV1I_QM && sa->state != IKEV1I_DEAD;
	set_dead(sa);
	if (was_up)
		ev(sa, IKEV1_EV_IKE_DOWN, "IKE SA down: %s", cause);
}

static void digest(const uint8_t *p, size_t n, uint8_t out[32])
{
	struct ike_iov v = {p, n};
	ike1_hash(IKE1_HASH_SHA256, &v, 1, out);
}

static void send_now(struct ikev1i *sa, const uint8_t *buf, size_t len)
{
	if (len && sa->cbs->send)
		sa->cbs->send(sa->cbs->ctx, buf, len, sa->on_natt);
}

/* Send a request and keep it for retransmission. */
static void send_request(struct ikev1i *sa, const uint8_t *buf, size_t len, uint64_t now)
{
	if (!len || len > sizeof sa->last)
		return;
	if (buf != sa->last)
		memcpy(sa->last, buf, len);
	sa->last_len = len;
	sa->tries = 0;
	sa->rtx_at = now + sa->conf->retransmit_ms;
	send_now(sa, sa->last, len);
}

/* The message structures, allocated for an entry point that needs them. */
static bool scratch(struct ikev1i *sa)
{
	if (!sa->m)
		sa->m = malloc(sizeof *sa->m);
	if (!sa->o)
		sa->o = malloc(sizeof *sa->o);
	return sa->m && sa->o;
}

/* ... and released once no negotiation runs. */
static void scratch_release(struct ikev1i *sa)
{
	if (sa->state != IKEV1I_ESTABLISHED && sa->state != IKEV1I_DEAD)
		return;
	free(sa->m);
	free(sa->o);
	sa->m = sa->o = NULL;
}

static void random_bytes(struct ikev1i *sa, uint8_t *b, size_t n)
{
	sa->cbs->random(sa->cbs->ctx, b, n);
}

/* ---- configuration ------------------------------------------------------------------ */

void ikev1i_conf_default(struct ikev1i_conf *c)
{
	memset(c, 0, sizeof *c);
	static const struct ikev1_p1_prop p1[] = {
		{IKE1_ENC_AES_CBC, 256, IKE1_HASH_SHA1, 14}, {IKE1_ENC_AES_CBC, 128, IKE1_HASH_SHA1, 14},
		{IKE1_ENC_3DES, 0, IKE1_HASH_SHA1, 14}, {IKE1_ENC_3DES, 0, IKE1_HASH_SHA1, 2},
	};
	static const struct ikev1_p2_prop p2[] = {
		{IKE1_ESP_AES, 256, IKE1_HMAC_SHA1}, {IKE1_ESP_AES, 128, IKE1_HMAC_SHA1},
		{IKE1_ESP_3DES, 0, IKE1_HMAC_SHA1},
	};
	memcpy(c->p1, p1, sizeof p1);
	c->n_p1 = sizeof p1 / sizeof p1[0];
	memcpy(c->p2, p2, sizeof p2);
	c->n_p2 = sizeof p2 / sizeof p2[0];
	c->natt = true;
	c->natt_port = 4500;
	c->l2tp_port = 1701;
	c->p1_life_s = 28800;
	c->p2_life_s = 3600;
	c->retransmit_ms = 1000;
	c->retransmits = 4;
	c->negotiation_ms = 30000;
}

/* The responder's parser is the one syntax: read into its configuration, copy the list. */
int ikev1i_conf_parse_p1(struct ikev1i_conf *c, const char *text, char *why, size_t whysz)
{
	struct ikev1_conf t;
	ikev1_conf_default(&t);
	if (ikev1_conf_parse_p1(&t, text, why, whysz) < 0)
		return -1;
	memcpy(c->p1, t.p1, t.n_p1 * sizeof t.p1[0]);
	c->n_p1 = t.n_p1;
	return 0;
}

int ikev1i_conf_parse_p2(struct ikev1i_conf *c, const char *text, char *why, size_t whysz)
{
	struct ikev1_conf t;
	ikev1_conf_default(&t);
	if (ikev1_conf_parse_p2(&t, text, why, whysz) < 0)
		return -1;
	memcpy(c->p2, t.p2, t.n_p2 * sizeof t.p2[0]);
	c->n_p2 = t.n_p2;
	return 0;
}

/* ---- creation ---------------------------------------------------------------------- */

struct ikev1i *ikev1i_new(const struct ikev1i_conf *conf, const struct ikev1_cbs *cbs,
                          const struct ikev1_addr *local, const struct ikev1_addr *peer)
{
	struct ikev1i *sa = calloc(1, sizeof *sa);
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

void ikev1i_free(struct ikev1i *sa)
{
	if (!sa)
		return;
	ike_dh_free(sa->dh);
	free(sa->m);
	free(sa->o);
	OPENSSL_cleanse(sa, sizeof *sa);
	free(sa);
}

enum ikev1i_state ikev1i_state(const struct ikev1i *sa) { return sa->state; }
const char *ikev1i_cause(const struct ikev1i *sa) { return sa->cause; }
const uint8_t *ikev1i_ispi(const struct ikev1i *sa) { return sa->ispi; }
const uint8_t *ikev1i_rspi(const struct ikev1i *sa) { return sa->rspi; }
const struct ikev1_addr *ikev1i_peer(const struct ikev1i *sa) { return &sa->peer; }
bool ikev1i_natt(const struct ikev1i *sa) { return sa->on_natt; }
uint64_t ikev1i_ike_up_at(const struct ikev1i *sa) { return sa->ike_up_at; }
uint64_t ikev1i_child_up_at(const struct ikev1i *sa) { return sa->child_up_at; }

const struct ikev1_child *ikev1i_child(const struct ikev1i *sa)
{
	return sa->state == IKEV1I_ESTABLISHED && sa->child.used ? &sa->child : NULL;
}

/* ---- Main Mode ----------------------------------------------------------------------- */

uint64_t ikev1i_start(struct ikev1i *sa, uint64_t now)
{
	if (sa->state != IKEV1I_START)
		return ikev1i_deadline(sa);
	const struct ikev1i_conf *c = sa->conf;
	sa->neg_deadline = now + c->negotiation_ms;
	if (!c->n_p1 || !c->n_p2 || !c->psk || !scratch(sa)) {
		fail(sa, "ike.v1.internal", "nothing to offer, no pre-shared key or no memory");
		return IKEV1_NEVER;
	}
	/* MM1: one ISAKMP proposal with a transform per configured suite, the vendor IDs */
	uint8_t life[4];
	ike_put32(life, c->p1_life_s);
	struct ike_msg *o = sa->o;
	ike_msg_init(o, 1, IKE1_EXCH_MAIN, 0, 0, sa->ispi, NULL);
	struct ike_payload *sp = ike_add_payload(o, IKE1_PL_SA, NULL, 0);
	struct ike_proposal *pr = ike_add_proposal(o, sp, 1, IKE1_PROTO_ISAKMP, NULL, 0);
	for (size_t i = 0; pr && i < c->n_p1; i++) {
		const struct ikev1_p1_prop *p = &c->p1[i];
		struct ike_transform *x = ike_add_transform(o, pr, 0, IKE1_XF_KEY_IKE);
		if (!x)
			break;
		x->num = (uint8_t)(i + 1);
		ike_add_attr(o, IKE1_AT_ENC, true, p->enc, NULL, 0);
		if (p->enc == IKE1_ENC_AES_CBC)
			ike_add_attr(o, IKE1_AT_KEYLEN, true, p->keybits, NULL, 0);
		ike_add_attr(o, IKE1_AT_HASH, true, p->hash, NULL, 0);
		ike_add_attr(o, IKE1_AT_AUTH, true, IKE1_AUTH_PSK, NULL, 0);
		ike_add_attr(o, IKE1_AT_GROUP, true, p->group, NULL, 0);
		ike_add_attr(o, IKE1_AT_LIFE_TYPE, true, 1, NULL, 0);
		ike_add_attr(o, IKE1_AT_LIFE_DUR, false, 0, life, 4);
	}
	if (c->natt)
		ike_add_payload(o, IKE1_PL_VID, ike1_vid_natt_rfc, 16);
	ike_add_payload(o, IKE1_PL_VID, ike1_vid_dpd, 16);
	size_t len = ike_encode(o, sa->tx, sizeof sa->tx);
	/* SAi_b, as the responder will hash it: read back from what leaves */
	struct diag_err err;
	if (!len || ike_decode(sa->tx, len, sa->m, &err) < 0 || !sa->m->npl ||
	    sa->m->pl[0].type != IKE1_PL_SA || sa->m->pl[0].body_len > sizeof sa->sai) {
		fail(sa, "ike.v1.internal", "Main Mode 1 could not be built");
		return IKEV1_NEVER;
	}
	memcpy(sa->sai, sa->m->pl[0].body, sa->m->pl[0].body_len);
	sa->sai_len = sa->m->pl[0].body_len;
	sa->state = IKEV1I_MM_SA;
	ev(sa, IKEV1_EV_TRACE, "Main Mode 1: %zu transforms offered%s", c->n_p1,
	   c->natt ? ", NAT-T" : "");
	send_request(sa, sa->tx, len, now);
	return ikev1i_deadline(sa);
}

/* The responder's choice must be one transform we offered, as we offered it. */
static bool p1_answer(struct ikev1i *sa, const struct ike_payload *sp)
{
	const struct ike_msg *m = sa->m;
	if (sp->prop_count != 1)
		return false;
	const struct ike_proposal *pr = &m->props[sp->prop_first];
	if (pr->protocol != IKE1_PROTO_ISAKMP || pr->xf_count != 1)
		return false;
	const struct ike_transform *x = &m->xforms[pr->xf_first];
	if (x->id != IKE1_XF_KEY_IKE)
		return false;
	struct ikev1_p1_prop got = {0};
	unsigned auth = 0;
	for (unsigned k = 0; k < x->attr_count; k++) {
		const struct ike_attr *a = &m->attrs[x->attr_first + k];
		switch (a->type) {
		case IKE1_AT_ENC: got.enc = (uint16_t)a->value; break;
		case IKE1_AT_HASH: got.hash = (uint16_t)a->value; break;
		case IKE1_AT_AUTH: auth = a->value; break;
		case IKE1_AT_GROUP: got.group = (uint16_t)a->value; break;
		case IKE1_AT_KEYLEN: got.keybits = (uint16_t)a->value; break;
		case IKE1_AT_LIFE_TYPE: case IKE1_AT_LIFE_DUR: break;
		default: return false;
		}
	}
	if (auth != IKE1_AUTH_PSK)
		return false;
	for (size_t i = 0; i < sa->conf->n_p1; i++) {
		const struct ikev1_p1_prop *p = &sa->conf->p1[i];
		if (p->enc == got.enc && p->hash == got.hash && p->group == got.group &&
		    (p->enc != IKE1_ENC_AES_CBC || p->keybits == got.keybits)) {
			sa->p1 = *p;
			return ike1_keys_init(&sa->k, p->enc, p->keybits, p->hash) &&
			       ike_dh_supported(p->group);
		}
	}
	return false;
}

static void mm2(struct ikev1i *sa, uint64_t now)
{
	const struct ike_msg *m = sa->m;
	const struct ike_payload *sp = NULL;
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE1_PL_SA && !sp)
			sp = p;
		else if (p->type == IKE1_PL_VID && p->data_len == 16 &&
		         !memcmp(p->data, ike1_vid_natt_rfc, 16) && sa->conf->natt)
			sa->natt_agreed = true;
	}
	if (!sp || !p1_answer(sa, sp)) {
		fail(sa, "ike.v1.no-proposal", "Main Mode 2 %s", sp ? "chose no transform we offered"
		     : "without an SA payload");
		return;
	}
	memcpy(sa->rspi, m->rspi, 8);
	sa->dh = ike_dh_new(sa->p1.group);
	size_t want = ike_dh_ke_len(sa->p1.group);
	if (!sa->dh || !want || ike_dh_public(sa->dh, sa->gxi, sizeof sa->gxi) != want) {
		fail(sa, "ike.v1.internal", "DH group %u: no key pair", sa->p1.group);
		return;
	}
	sa->gx_len = want;
	random_bytes(sa, sa->ni, NONCE_LEN);
	/* MM3: KE, Ni, NAT-D of the responder's address as we send to it, then ours (or,
	 * to force encapsulation, of an address we do not have) */
	struct ike_msg *o = sa->o;
	ike_msg_init(o, 1, IKE1_EXCH_MAIN, 0, 0, sa->ispi, sa->rspi);
	ike_add_payload(o, IKE1_PL_KE, sa->gxi, sa->gx_len);
	ike_add_payload(o, IKE1_PL_NONCE, sa->ni, NONCE_LEN);
	uint8_t dr[IKE_HASH_MAX], dl[IKE_HASH_MAX];
	if (sa->natt_agreed) {
		struct ikev1_addr me = sa->local;
		if (sa->conf->force_encap) {
			random_bytes(sa, me.ip, ike_addr_len(me.family));
			me.port ^= 0x5a5a;
		}
		if (!ike1_natd_hash(sa->p1.hash, sa->ispi, sa->rspi, sa->peer.ip,
		                    ike_addr_len(sa->peer.family), sa->peer.port, dr) ||
		    !ike1_natd_hash(sa->p1.hash, sa->ispi, sa->rspi, me.ip, ike_addr_len(me.family),
		                    me.port, dl)) {
			fail(sa, "ike.v1.internal", "NAT-D hash failed");
			return;
		}
		ike_add_payload(o, IKE1_PL_NATD, dr, sa->k.hlen);
		ike_add_payload(o, IKE1_PL_NATD, dl, sa->k.hlen);
	}
	size_t len = ike_encode(o, sa->tx, sizeof sa->tx);
	char nb[48];
	snprintf(nb, sizeof nb, "enc %u/%u hash %u group %u", sa->p1.enc, sa->p1.keybits,
	         sa->p1.hash, sa->p1.group);
	ev(sa, IKEV1_EV_TRACE, "Main Mode 2: the responder chose %s%s", nb,
	   sa->natt_agreed ? ", NAT-T" : "");
	sa->state = IKEV1I_MM_KE;
	send_request(sa, sa->tx, len, now);
}

static void mm4(struct ikev1i *sa, uint64_t now)
{
	const struct ike_msg *m = sa->m;
	const struct ike_payload *ke = NULL, *nonce = NULL, *natd[4];
	size_t nnatd = 0;
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE1_PL_KE && !ke)
			ke = p;
		else if (p->type == IKE1_PL_NONCE && !nonce)
			nonce = p;
		else if ((p->type == IKE1_PL_NATD || p->type == IKE1_PL_NATD_DRAFT) && nnatd < 4)
			natd[nnatd++] = p;
	}
	if (!ke || !nonce || nonce->data_len < 8 || nonce->data_len > sizeof sa->nr) {
		fail(sa, "ike.payload-malformed", "Main Mode 4 %s", !ke ? "without KE" : !nonce
		     ? "without a nonce" : "with a nonce not of 8 to 256 bytes");
		return;
	}
	uint8_t gxy[IKE_DH_MAX];
	size_t gxy_len = 0;
	if (ke->data_len != sa->gx_len ||
	    !(gxy_len = ike_dh_shared(sa->dh, ke->data, ke->data_len, gxy, sizeof gxy))) {
		fail(sa, "ike.v1.ke-invalid", "the responder's KE (%zu bytes) is not in DH group %u",
		     ke->data_len, sa->p1.group);
		return;
	}
	ike_dh_free(sa->dh);
	sa->dh = NULL;
	memcpy(sa->gxr, ke->data, sa->gx_len);
	memcpy(sa->nr, nonce->data, nonce->data_len);
	sa->nr_len = nonce->data_len;
	bool ok = ike1_keys_psk(&sa->k, sa->conf->psk, sa->conf->psk_len, sa->ni, NONCE_LEN, sa->nr,
	                        sa->nr_len, gxy, gxy_len, sa->gxi, sa->gxr, sa->gx_len, sa->ispi,
	                        sa->rspi);
	OPENSSL_cleanse(gxy, sizeof gxy);
	if (!ok) {
		fail(sa, "ike.v1.internal", "key derivation failed");
		return;
	}
	/* NAT-D (RFC 3947 3.2): the first is our address as the responder saw it, the rest
	 * the responder's own */
	if (sa->natt_agreed && nnatd >= 2) {
		uint8_t hl[IKE_HASH_MAX], hp[IKE_HASH_MAX];
		ike1_natd_hash(sa->p1.hash, sa->ispi, sa->rspi, sa->local.ip, ike_addr_len(sa->local.family),
		               sa->local.port, hl);
		ike1_natd_hash(sa->p1.hash, sa->ispi, sa->rspi, sa->peer.ip, ike_addr_len(sa->peer.family),
		               sa->peer.port, hp);
		sa->nat_local = natd[0]->data_len != sa->k.hlen ||
		                CRYPTO_memcmp(natd[0]->data, hl, sa->k.hlen);
		sa->nat_peer = true;
		for (size_t i = 1; i < nnatd; i++)
			if (natd[i]->data_len == sa->k.hlen && !CRYPTO_memcmp(natd[i]->data, hp, sa->k.hlen))
				sa->nat_peer = false;
		if (sa->nat_local || sa->nat_peer)
			ev(sa, IKEV1_EV_INFO, "NAT detected: %s%s%s", sa->nat_local ? "this end is behind "
			   "a NAT" : "", sa->nat_local && sa->nat_peer ? ", " : "",
			   sa->nat_peer ? "the responder is behind a NAT" : "");
	} else if (sa->natt_agreed) {
		ev(sa, IKEV1_EV_INFO, "NAT-T agreed but Main Mode 4 has %zu NAT-D payloads", nnatd);
	}
	/* RFC 3947 4: a NAT seen (or encapsulation forced), everything moves to the NAT-T
	 * port from message 5 on */
	if (sa->natt_agreed && (sa->nat_local || sa->nat_peer || sa->conf->force_encap)) {
		sa->on_natt = true;
		sa->peer.port = sa->conf->natt_port;
		ev(sa, IKEV1_EV_INFO, "floating to the NAT-T port %u", sa->peer.port);
	}
	/* MM5: IDii (our address), HASH_I */
	uint8_t idb[4 + 16];
	size_t al = ike_addr_len(sa->local.family);
	idb[0] = sa->local.family == 6 ? IKE1_ID_IPV6 : IKE1_ID_IPV4;
	idb[1] = 17;
	idb[2] = (uint8_t)(sa->local.port >> 8);
	idb[3] = (uint8_t)sa->local.port;
	memcpy(idb + 4, sa->local.ip, al);
	uint8_t hi[IKE_HASH_MAX];
	if (!ike1_hash_auth(&sa->k, true, sa->gxi, sa->gxr, sa->gx_len, sa->ispi, sa->rspi, sa->sai,
	                    sa->sai_len, idb, 4 + al, hi)) {
		fail(sa, "ike.v1.internal", "HASH_I failed");
		return;
	}
	struct ike_msg *o = sa->o;
	ike_msg_init(o, 1, IKE1_EXCH_MAIN, 0, 0, sa->ispi, sa->rspi);
	struct ike_payload *ip = ike_add_payload(o, IKE1_PL_ID, sa->local.ip, al);
	ip->id_type = idb[0];
	ip->id_proto = idb[1];
	ip->id_port = sa->local.port;
	ike_add_payload(o, IKE1_PL_HASH, hi, sa->k.hlen);
	size_t plen = ike_encode(o, sa->tx, sizeof sa->tx);
	size_t olen = plen ? ike1_seal(&sa->k, sa->tx, plen, sa->k.iv, sa->tx, sizeof sa->tx) : 0;
	if (!olen) {
		fail(sa, "ike.v1.internal", "Main Mode 5 could not be built");
		return;
	}
	sa->state = IKEV1I_MM_AUTH;
	send_request(sa, sa->tx, olen, now);
}

static void qm_start(struct ikev1i *sa, uint64_t now);

static void mm6(struct ikev1i *sa, const uint8_t *raw, size_t len, uint64_t now)
{
	uint8_t next_iv[16];
	struct diag_err err;
	diag_err_clear(&err);
	size_t n = ike1_unseal(&sa->k, sa->m, raw, len, sa->k.iv, next_iv, sa->pt, sizeof sa->pt);
	int r = n ? ike_decode(sa->pt, n, sa->m, &err) : -1;
	const struct ike_msg *m = sa->m;
	const struct ike_payload *id = NULL, *hash = NULL;
	for (unsigned i = 0; r == 0 && i < m->npl; i++) {
		if (m->pl[i].type == IKE1_PL_ID && !id)
			id = &m->pl[i];
		else if (m->pl[i].type == IKE1_PL_HASH && !hash)
			hash = &m->pl[i];
	}
	/* our key differs from the responder's: its message 6 decrypts to noise */
	if (!id || !hash) {
		fail(sa, "ike.psk.mismatch", "Main Mode 6 does not decrypt to ID and HASH (%s): the "
		     "responder's pre-shared key differs", n ? (r < 0 ? err.reason : "payloads missing")
		     : "not whole blocks");
		return;
	}
	uint8_t want[IKE_HASH_MAX];
	if (!ike1_hash_auth(&sa->k, false, sa->gxi, sa->gxr, sa->gx_len, sa->ispi, sa->rspi,
	                    sa->sai, sa->sai_len, id->body, id->body_len, want) ||
	    hash->data_len != sa->k.hlen || CRYPTO_memcmp(hash->data, want, sa->k.hlen)) {
		fail(sa, "ike.psk.mismatch", "Main Mode 6 HASH_R does not match: the responder's "
		     "pre-shared key differs");
		return;
	}
	memcpy(sa->k.iv, next_iv, sa->k.block);
	OPENSSL_cleanse(sa->k.skeyid, sizeof sa->k.skeyid);
	sa->ike_up_at = now ? now : 1;
	ev(sa, IKEV1_EV_IKE_UP, "IKE SA up: enc %u/%u hash %u group %u%s%s", sa->p1.enc,
	   sa->p1.keybits, sa->p1.hash, sa->p1.group, sa->nat_local || sa->nat_peer ? ", NAT" : "",
	   sa->on_natt ? ", NAT-T port" : "");
	if (sa->conf->main_mode_only) { /* the IKE SA is all that was asked for */
		sa->rtx_at = IKEV1_NEVER;
		sa->state = IKEV1I_ESTABLISHED;
		return;
	}
	qm_start(sa, now);
}

/* ---- Quick Mode -------------------------------------------------------------------- */

static bool udp_encap(const struct ikev1i *sa)
{
	return sa->on_natt;
}

static void qm_start(struct ikev1i *sa, uint64_t now)
{
	const struct ikev1i_conf *c = sa->conf;
	uint8_t mb[4];
	do
		random_bytes(sa, mb, 4);
	while (!ike_get32(mb));
	sa->msgid = ike_get32(mb);
	uint32_t spi;
	do {
		random_bytes(sa, mb, 4);
		spi = ike_get32(mb);
	} while (spi < 256);
	memset(&sa->child, 0, sizeof sa->child);
	sa->child.spi_in = spi;
	random_bytes(sa, sa->qni, NONCE_LEN);
	if (!ike1_p2_iv(&sa->k, sa->msgid, sa->qiv)) {
		fail(sa, "ike.v1.internal", "phase-2 IV failed");
		return;
	}
	uint16_t encap = udp_encap(sa) ? IKE1_ENCAP_UDP_TRANSPORT : IKE1_ENCAP_TRANSPORT;
	uint8_t zero[IKE_HASH_MAX] = {0}, spib[4], life[4];
	ike_put32(spib, spi);
	ike_put32(life, c->p2_life_s);
	struct ike_msg *o = sa->o;
	ike_msg_init(o, 1, IKE1_EXCH_QUICK, 0, sa->msgid, sa->ispi, sa->rspi);
	ike_add_payload(o, IKE1_PL_HASH, zero, sa->k.hlen);
	struct ike_payload *sp = ike_add_payload(o, IKE1_PL_SA, NULL, 0);
	struct ike_proposal *pr = ike_add_proposal(o, sp, 1, IKE1_PROTO_ESP, spib, 4);
	for (size_t i = 0; pr && i < c->n_p2; i++) {
		const struct ikev1_p2_prop *p = &c->p2[i];
		struct ike_transform *x = ike_add_transform(o, pr, 0, p->xform);
		if (!x)
			break;
		x->num = (uint8_t)(i + 1);
		ike_add_attr(o, IKE1_QA_LIFE_TYPE, true, 1, NULL, 0);
		ike_add_attr(o, IKE1_QA_LIFE_DUR, false, 0, life, 4);
		ike_add_attr(o, IKE1_QA_ENCAP, true, encap, NULL, 0);
		if (p->auth)
			ike_add_attr(o, IKE1_QA_AUTH, true, p->auth, NULL, 0);
		if (p->keybits && p->xform != IKE1_ESP_3DES)
			ike_add_attr(o, IKE1_QA_KEYLEN, true, p->keybits, NULL, 0);
	}
	ike_add_payload(o, IKE1_PL_NONCE, sa->qni, NONCE_LEN);
	uint8_t idt = sa->local.family == 6 ? IKE1_ID_IPV6 : IKE1_ID_IPV4;
	struct ike_payload *ci =
		ike_add_payload(o, IKE1_PL_ID, sa->local.ip, ike_addr_len(sa->local.family));
	ci->id_type = idt;
	ci->id_proto = 17;
	ci->id_port = c->l2tp_port;
	struct ike_payload *cr =
		ike_add_payload(o, IKE1_PL_ID, sa->peer.ip, ike_addr_len(sa->peer.family));
	cr->id_type = idt;
	cr->id_proto = 17;
	cr->id_port = c->l2tp_port;
	if (udp_encap(sa)) { /* RFC 3947 5.2: the original addresses */
		struct ike_payload *a = ike_add_payload(o, IKE1_PL_NATOA, sa->local.ip,
		                                        ike_addr_len(sa->local.family));
		a->id_type = idt;
		a = ike_add_payload(o, IKE1_PL_NATOA, sa->peer.ip, ike_addr_len(sa->peer.family));
		a->id_type = idt;
	}
	uint8_t out[IKEV1_MSG_MAX];
	size_t len = ike1_protect(&sa->k, o, NULL, 0, sa->qiv, sa->tx, sizeof sa->tx, out, sizeof out);
	if (!len) {
		fail(sa, "ike.v1.internal", "Quick Mode 1 could not be built");
		return;
	}
	sa->state = IKEV1I_QM;
	ev(sa, IKEV1_EV_TRACE, "Quick Mode %08x: %zu ESP transforms offered, SPI %08x, %s",
	   sa->msgid, c->n_p2, spi, encap == IKE1_ENCAP_UDP_TRANSPORT ? "transport in UDP"
	   : "transport");
	send_request(sa, out, len, now);
}

/* The responder's ESP choice: one of ours, as offered. */
static bool p2_answer(struct ikev1i *sa, const struct ike_payload *sp, struct ikev1_p2_prop *pick,
                      uint32_t *spi_out, uint32_t *life_s, uint32_t *life_kb)
{
	const struct ike_msg *m = sa->m;
	if (sp->prop_count != 1)
		return false;
	const struct ike_proposal *pr = &m->props[sp->prop_first];
	if (pr->protocol != IKE1_PROTO_ESP || pr->spi_size != 4 || pr->xf_count != 1)
		return false;
	const struct ike_transform *x = &m->xforms[pr->xf_first];
	struct ikev1_p2_prop got = {.xform = x->id};
	unsigned encap = 0, life_type = 0;
	for (unsigned k = 0; k < x->attr_count; k++) {
		const struct ike_attr *a = &m->attrs[x->attr_first + k];
		switch (a->type) {
		case IKE1_QA_LIFE_TYPE: life_type = a->value; break;
		case IKE1_QA_LIFE_DUR:
			if (life_type == 1)
				*life_s = a->value;
			else if (life_type == 2)
				*life_kb = a->value;
			break;
		case IKE1_QA_ENCAP: encap = a->value; break;
		case IKE1_QA_AUTH: got.auth = (uint16_t)a->value; break;
		case IKE1_QA_KEYLEN: got.keybits = (uint16_t)a->value; break;
		default: return false; /* PFS or anything else we did not ask for */
		}
	}
	uint16_t want = udp_encap(sa) ? IKE1_ENCAP_UDP_TRANSPORT : IKE1_ENCAP_TRANSPORT;
	if (encap != want)
		return false;
	for (size_t i = 0; i < sa->conf->n_p2; i++) {
		const struct ikev1_p2_prop *p = &sa->conf->p2[i];
		if (p->xform == got.xform && p->auth == got.auth &&
		    (p->xform == IKE1_ESP_3DES ? !got.keybits || got.keybits == 192
		                               : p->keybits == got.keybits)) {
			*pick = *p;
			*spi_out = ike_get32(pr->spi);
			return true;
		}
	}
	return false;
}

static void qm2(struct ikev1i *sa, const uint8_t *raw, size_t len, uint64_t now)
{
	uint8_t next_iv[16];
	struct diag_err err;
	diag_err_clear(&err);
	size_t n = ike1_unseal(&sa->k, sa->m, raw, len, sa->qiv, next_iv, sa->pt, sizeof sa->pt);
	if (!n || ike_decode(sa->pt, n, sa->m, &err) < 0 ||
	    !ike1_hash_check(&sa->k, sa->m, sa->pt, sa->qni, NONCE_LEN)) {
		ev(sa, IKEV1_EV_INFO, "Quick Mode %08x: second message dropped (%s)", sa->msgid,
		   !n ? "not whole blocks" : err.reason[0] ? err.reason : "HASH(2) does not match");
		return;
	}
	const struct ike_msg *m = sa->m;
	const struct ike_payload *sp = NULL, *nr = NULL, *id[2] = {NULL, NULL};
	size_t nid = 0;
	bool ke = false;
	for (unsigned i = 1; i < m->npl; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE1_PL_SA && !sp)
			sp = p;
		else if (p->type == IKE1_PL_NONCE && !nr)
			nr = p;
		else if (p->type == IKE1_PL_KE)
			ke = true;
		else if (p->type == IKE1_PL_ID && nid < 2)
			id[nid++] = p;
	}
	memcpy(sa->qiv, next_iv, sa->k.block);
	struct ikev1_p2_prop pick;
	uint32_t spi_out = 0, life_s = sa->conf->p2_life_s, life_kb = 0;
	if (!sp || !nr || nr->data_len < 8 || nr->data_len > sizeof sa->qnr || ke || nid == 1) {
		fail(sa, "ike.payload-malformed", "Quick Mode 2 %s", !sp ? "without SA" : !nr
		     ? "without a nonce" : ke ? "with a KE we did not ask for" : nid == 1
		     ? "with one ID payload" : "with a nonce not of 8 to 256 bytes");
		return;
	}
	if (!p2_answer(sa, sp, &pick, &spi_out, &life_s, &life_kb)) {
		fail(sa, "ike.v1.no-proposal", "Quick Mode 2 chose no ESP transform we offered");
		return;
	}
	if (nid == 2 && (id[0]->id_proto != 17 || id[0]->id_port != sa->conf->l2tp_port ||
	                 id[1]->id_proto != 17 || id[1]->id_port != sa->conf->l2tp_port)) {
		fail(sa, "ike.invalid-id", "Quick Mode 2 selectors proto %u port %u -> proto %u port "
		     "%u, not udp/%u", id[0]->id_proto, id[0]->id_port, id[1]->id_proto, id[1]->id_port,
		     sa->conf->l2tp_port);
		return;
	}
	memcpy(sa->qnr, nr->data, nr->data_len);
	sa->qnr_len = nr->data_len;
	struct ikev1_child *c = &sa->child;
	c->spi_out = spi_out;
	c->udp_encap = udp_encap(sa);
	c->id_proto = 17;
	c->id_port_i = c->id_port_r = sa->conf->l2tp_port;
	c->life_s = life_s;
	c->life_kb = life_kb;
	bool ok = ike1_keymat_esp(&sa->k, pick.xform, pick.keybits, pick.auth, NULL, 0, c->spi_in,
	                          sa->qni, NONCE_LEN, sa->qnr, sa->qnr_len, &c->in) &&
	          ike1_keymat_esp(&sa->k, pick.xform, pick.keybits, pick.auth, NULL, 0, c->spi_out,
	                          sa->qni, NONCE_LEN, sa->qnr, sa->qnr_len, &c->out);
	uint8_t h3[IKE_HASH_MAX];
	ok = ok && ike1_hash3(&sa->k, sa->msgid, sa->qni, NONCE_LEN, sa->qnr, sa->qnr_len, h3);
	if (!ok) {
		fail(sa, "ike.v1.internal", "KEYMAT failed");
		return;
	}
	uint8_t fam = sa->peer.family;
	c->in.ipver = c->out.ipver = fam;
	memcpy(c->in.src, sa->peer.ip, 16);
	memcpy(c->in.dst, sa->local.ip, 16);
	memcpy(c->out.src, sa->local.ip, 16);
	memcpy(c->out.dst, sa->peer.ip, 16);
	/* QM3: HASH(3) alone */
	struct ike_msg *o = sa->o;
	ike_msg_init(o, 1, IKE1_EXCH_QUICK, 0, sa->msgid, sa->ispi, sa->rspi);
	ike_add_payload(o, IKE1_PL_HASH, h3, sa->k.hlen);
	size_t plen = ike_encode(o, sa->tx, sizeof sa->tx);
	size_t olen = plen ? ike1_seal(&sa->k, sa->tx, plen, sa->qiv, sa->tx, sizeof sa->tx) : 0;
	if (!olen) {
		fail(sa, "ike.v1.internal", "Quick Mode 3 could not be built");
		return;
	}
	send_request(sa, sa->tx, olen, now);
	sa->rtx_at = IKEV1_NEVER; /* the last message: sent again only for a repeated QM2 */
	sa->state = IKEV1I_ESTABLISHED;
	c->used = true;
	c->born = now;
	c->serial = 1;
	c->expires = now + (uint64_t)c->life_s * 1000;
	sa->child_up_at = now ? now : 1;
	ev(sa, IKEV1_EV_CHILD_UP, "child %08x/%08x up: transport %s/%s, %s, lifetime %u s",
	   c->spi_in, c->spi_out, esp_enc_name(&c->in), esp_auth_name(&c->in),
	   c->udp_encap ? "ESP in UDP" : "ESP", c->life_s);
	if (sa->cbs->child_up)
		sa->cbs->child_up(sa->cbs->ctx, c);
}

/* ---- Informational ----------------------------------------------------------------- */

/* A notify that ends the negotiation: its cause. */
static const char *notify_cause(const struct ikev1i *sa, uint16_t type)
{
	switch (type) {
	case IKE1_N_NO_PROPOSAL: return "ike.v1.no-proposal";
	case IKE1_N_INVALID_KEY: return "ike.v1.ke-invalid";
	case IKE1_N_INVALID_ID: return "ike.invalid-id";
	case IKE1_N_INVALID_HASH: return "ike.psk.mismatch";
	case IKE1_N_PAYLOAD_MALFORMED:
		/* the answer to a message 5 sealed with another key */
		return sa->state == IKEV1I_MM_AUTH ? "ike.psk.mismatch" : "ike.payload-malformed";
	default: return type < 8192 ? "ike.v1.refused" : NULL; /* 8192 on: status, not error */
	}
}

static void send_info(struct ikev1i *sa, uint8_t pltype, uint8_t protocol, uint16_t notify,
                      const uint8_t *spi, uint8_t spi_size, const uint8_t *data, size_t data_len)
{
	uint8_t mid[4], iv[16], zero[IKE_HASH_MAX] = {0}, out[IKEV1_MSG_MAX];
	do
		random_bytes(sa, mid, 4);
	while (!ike_get32(mid));
	struct ike_msg *o = sa->o;
	ike_msg_init(o, 1, IKE1_EXCH_INFO, 0, ike_get32(mid), sa->ispi, sa->rspi);
	ike_add_payload(o, IKE1_PL_HASH, zero, sa->k.hlen);
	struct ike_payload *p = ike_add_payload(o, pltype, data, data_len);
	p->protocol = protocol;
	if (pltype == IKE1_PL_N) {
		p->spi = spi;
		p->spi_size = spi_size;
		p->notify = notify;
	} else {
		p->spi_size = spi_size;
		p->nspi = 1;
		p->data = spi;
		p->data_len = spi_size;
	}
	if (!ike1_p2_iv(&sa->k, o->msgid, iv))
		return;
	size_t len = ike1_protect(&sa->k, o, NULL, 0, iv, sa->tx, sizeof sa->tx, out, sizeof out);
	send_now(sa, out, len);
}

static void info(struct ikev1i *sa, const uint8_t *raw, size_t len)
{
	const struct ike_msg *m = sa->m;
	if (!(m->flags & IKE1_FLAG_E)) {
		/* unprotected: only before the keys exist, and only with our cookies */
		if (sa->state >= IKEV1I_QM)
			return;
		for (unsigned i = 0; i < m->npl && sa->state != IKEV1I_DEAD; i++) {
			const struct ike_payload *p = &m->pl[i];
			if (p->type != IKE1_PL_N)
				continue;
			const char *n = ike_notify_name(1, p->notify);
			const char *cause = notify_cause(sa, p->notify);
			if (cause)
				fail(sa, cause, "the responder answered %s (%u) in state %s", n ? n : "?",
				     p->notify, tok_name(ikev1i_state_names, sa->state));
			else
				ev(sa, IKEV1_EV_INFO, "unprotected notify: %s (%u)", n ? n : "?", p->notify);
		}
		return;
	}
	if (sa->state < IKEV1I_QM)
		return;
	uint8_t iv[16], next_iv[16];
	struct diag_err err;
	diag_err_clear(&err);
	size_t n = ike1_p2_iv(&sa->k, m->msgid, iv)
	           ? ike1_unseal(&sa->k, m, raw, len, iv, next_iv, sa->pt, sizeof sa->pt) : 0;
	if (!n || ike_decode(sa->pt, n, sa->m, &err) < 0 ||
	    !ike1_hash_check(&sa->k, sa->m, sa->pt, NULL, 0)) {
		ev(sa, IKEV1_EV_INFO, "Informational dropped: %s", !n ? "not whole blocks"
		   : err.reason[0] ? err.reason : "HASH(1) does not match");
		return;
	}
	for (unsigned i = 1; i < m->npl && sa->state != IKEV1I_DEAD; i++) {
		const struct ike_payload *p = &m->pl[i];
		if (p->type == IKE1_PL_D && p->protocol == IKE1_PROTO_ISAKMP && p->spi_size == 16) {
			for (unsigned k = 0; k < p->nspi; k++)
				if (!memcmp(p->data + 16 * k, sa->ispi, 8) &&
				    !memcmp(p->data + 16 * k + 8, sa->rspi, 8)) {
					fail(sa, "ike.v1.deleted-by-peer", "the responder deleted the IKE SA");
					return;
				}
		} else if (p->type == IKE1_PL_D && p->protocol == IKE1_PROTO_ESP && p->spi_size == 4) {
			for (unsigned k = 0; k < p->nspi; k++) {
				uint32_t spi = ike_get32(p->data + 4 * k);
				struct ikev1_child *c = &sa->child;
				if (c->used && (spi == c->spi_out || spi == c->spi_in)) {
					c->used = false;
					ev(sa, IKEV1_EV_CHILD_DOWN, "child %08x/%08x down: deleted by the responder",
					   c->spi_in, c->spi_out);
					if (sa->cbs->child_down)
						sa->cbs->child_down(sa->cbs->ctx, c, "deleted by the responder");
				}
			}
		} else if (p->type == IKE1_PL_N && p->notify == IKE1_N_R_U_THERE && p->data_len == 4) {
			uint8_t spi[16], seq[4];
			memcpy(spi, sa->ispi, 8);
			memcpy(spi + 8, sa->rspi, 8);
			memcpy(seq, p->data, 4);
			send_info(sa, IKE1_PL_N, IKE1_PROTO_ISAKMP, IKE1_N_R_U_THERE_ACK, spi, 16, seq, 4);
		} else if (p->type == IKE1_PL_N) {
			const char *nm = ike_notify_name(1, p->notify);
			const char *cause = notify_cause(sa, p->notify);
			if (cause && sa->state == IKEV1I_QM)
				fail(sa, cause, "the responder answered Quick Mode with %s (%u)",
				     nm ? nm : "?", p->notify);
			else
				ev(sa, IKEV1_EV_INFO, "notify from the responder: %s (%u)", nm ? nm : "?",
				   p->notify);
		}
	}
}

/* ---- entry points ------------------------------------------------------------------ */

static void input(struct ikev1i *sa, const uint8_t *buf, size_t len, bool natt, uint64_t now);

uint64_t ikev1i_input(struct ikev1i *sa, const uint8_t *buf, size_t len, bool natt, uint64_t now)
{
	if (sa->state == IKEV1I_DEAD || sa->state == IKEV1I_START || !scratch(sa))
		return ikev1i_deadline(sa);
	input(sa, buf, len, natt, now);
	scratch_release(sa);
	return ikev1i_deadline(sa);
}

static void input(struct ikev1i *sa, const uint8_t *buf, size_t len, bool natt, uint64_t now)
{
	if (len > IKEV1_MSG_MAX) {
		ev(sa, IKEV1_EV_INFO, "message of %zu bytes dropped (at most %d)", len, IKEV1_MSG_MAX);
		return;
	}
	struct diag_err err;
	diag_err_clear(&err);
	if (ike_decode(buf, len, sa->m, &err) < 0) {
		ev(sa, IKEV1_EV_INFO, "message dropped: offset %zu: %s", err.off, err.reason);
		return;
	}
	const struct ike_msg *m = sa->m;
	if (m->major != 1 || memcmp(m->ispi, sa->ispi, 8)) {
		ev(sa, IKEV1_EV_TRACE, "message of another SA or version dropped");
		return;
	}
	static const uint8_t zero8[8];
	bool have_rspi = sa->state > IKEV1I_MM_SA;
	if (have_rspi ? memcmp(m->rspi, sa->rspi, 8) != 0 : !memcmp(m->rspi, zero8, 8)) {
		ev(sa, IKEV1_EV_TRACE, "message with a wrong responder cookie dropped");
		return;
	}
	sa->heard = true;
	if (natt)
		sa->heard_natt = true;
	/* the same message again: the responder missed our answer, which goes again (the
	 * last message of Quick Mode has no other way to be repeated) */
	uint8_t d[32];
	digest(buf, len, d);
	if (sa->have_rx && !memcmp(d, sa->rx_digest, 32)) {
		if (sa->state == IKEV1I_ESTABLISHED && sa->last_len && sa->resent_for_dup < IKEV1_RESENDS) {
			sa->resent_for_dup++;
			send_now(sa, sa->last, sa->last_len);
		}
		return;
	}
	enum ikev1i_state before = sa->state;
	switch (m->exchange) {
	case IKE1_EXCH_MAIN:
		if (sa->state == IKEV1I_MM_SA && !(m->flags & IKE1_FLAG_E))
			mm2(sa, now);
		else if (sa->state == IKEV1I_MM_KE && !(m->flags & IKE1_FLAG_E))
			mm4(sa, now);
		else if (sa->state == IKEV1I_MM_AUTH && (m->flags & IKE1_FLAG_E))
			mm6(sa, buf, len, now);
		else
			ev(sa, IKEV1_EV_TRACE, "Main Mode message unexpected in state %s dropped",
			   tok_name(ikev1i_state_names, sa->state));
		break;
	case IKE1_EXCH_QUICK:
		if (sa->state == IKEV1I_QM && (m->flags & IKE1_FLAG_E) && m->msgid == sa->msgid)
			qm2(sa, buf, len, now);
		break;
	case IKE1_EXCH_INFO:
		info(sa, buf, len);
		break;
	default:
		ev(sa, IKEV1_EV_INFO, "exchange %u not expected: dropped", m->exchange);
		break;
	}
	if (sa->state != before && sa->state != IKEV1I_DEAD) {
		memcpy(sa->rx_digest, d, 32);
		sa->have_rx = true;
	}
}

uint64_t ikev1i_deadline(const struct ikev1i *sa)
{
	if (sa->state == IKEV1I_DEAD || sa->state == IKEV1I_START)
		return IKEV1_NEVER;
	if (sa->state == IKEV1I_ESTABLISHED)
		return sa->child.used ? sa->child.expires : IKEV1_NEVER;
	return sa->rtx_at < sa->neg_deadline ? sa->rtx_at : sa->neg_deadline;
}

static void timeout(struct ikev1i *sa, const char *what)
{
	if (sa->state == IKEV1I_MM_SA && !sa->heard)
		fail(sa, "ike.no-reply", "no answer to Main Mode 1 (%s)", what);
	else if (sa->on_natt && !sa->heard_natt)
		fail(sa, "ike.no-reply.nat-t", "no answer on the NAT-T port %u (%s)",
		     sa->conf->natt_port, what);
	else if (sa->state == IKEV1I_QM)
		fail(sa, "ike.v1.timeout", "Quick Mode %08x unanswered (%s)", sa->msgid, what);
	else
		fail(sa, "ike.phase1-stalled", "Main Mode stopped in state %s (%s)",
		     tok_name(ikev1i_state_names, sa->state), what);
}

uint64_t ikev1i_tick(struct ikev1i *sa, uint64_t now)
{
	if (sa->state == IKEV1I_DEAD || sa->state == IKEV1I_START)
		return IKEV1_NEVER;
	if (sa->state == IKEV1I_ESTABLISHED) {
		if (sa->child.used && now >= sa->child.expires)
			ikev1i_delete(sa, "lifetime expired", now);
		return ikev1i_deadline(sa);
	}
	if (now >= sa->neg_deadline) {
		char w[64];
		snprintf(w, sizeof w, "not completed within %u ms", sa->conf->negotiation_ms);
		timeout(sa, w);
		scratch_release(sa);
		return IKEV1_NEVER;
	}
	if (now >= sa->rtx_at) {
		if (sa->tries >= sa->conf->retransmits) {
			char w[64];
			snprintf(w, sizeof w, "%u retransmissions", sa->tries);
			timeout(sa, w);
			scratch_release(sa);
			return IKEV1_NEVER;
		}
		sa->tries++;
		uint64_t wait = (uint64_t)sa->conf->retransmit_ms << (sa->tries < 16 ? sa->tries : 16);
		sa->rtx_at = now + wait;
		ev(sa, IKEV1_EV_INFO, "retransmission %u in state %s", sa->tries,
		   tok_name(ikev1i_state_names, sa->state));
		send_now(sa, sa->last, sa->last_len);
	}
	return ikev1i_deadline(sa);
}

void ikev1i_delete(struct ikev1i *sa, const char *why, uint64_t now)
{
	(void)now;
	if (sa->state == IKEV1I_DEAD)
		return;
	if (sa->state >= IKEV1I_QM && scratch(sa)) {
		if (sa->child.used) {
			uint8_t spi[4];
			ike_put32(spi, sa->child.spi_in);
			send_info(sa, IKE1_PL_D, IKE1_PROTO_ESP, 0, spi, 4, NULL, 0);
			ev(sa, IKEV1_EV_CHILD_DOWN, "child %08x/%08x down: %s", sa->child.spi_in,
			   sa->child.spi_out, why);
		}
		uint8_t spi[16];
		memcpy(spi, sa->ispi, 8);
		memcpy(spi + 8, sa->rspi, 8);
		send_info(sa, IKE1_PL_D, IKE1_PROTO_ISAKMP, 0, spi, 16, NULL, 0);
		ev(sa, IKEV1_EV_IKE_DOWN, "IKE SA down: %s", why);
	}
	if (!sa->cause[0])
		snprintf(sa->cause, sizeof sa->cause, "ike.v1.deleted");
	set_dead(sa);
	scratch_release(sa);
}
