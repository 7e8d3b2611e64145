/* Drives the IKEv2 responder (engine/ike/ikev2.h) with mutated messages and clock jumps.
 *
 * Input: a mode byte, then records [u16 length][bytes] with a one-byte clock step
 * (x 500 ms) after each. Mode bit 0 clear: each record is a datagram as it arrives on the
 * wire. Mode bit 0 set: the in-process initiator of tests/unit/ikev2_peer.h first
 * completes IKE_SA_INIT, then each record is a payload chain the harness protects with
 * the SA's keys: byte 0 the exchange (34 + b % 4) and whether it goes as a response (bit
 * 7) or as fragment 1, 2 of 2 (bits 4-5), bytes 1-4 the message ID (its low bits mixed
 * with the expected one), byte 5 the first payload type, the rest the payloads. So the
 * fuzzer reaches IKE_AUTH, EAP, CREATE_CHILD_SA and INFORMATIONAL behind the integrity
 * check, from whatever state the records before left. Bit 1: the verdicts are given
 * later (at the next record), bit 2: the password check succeeds for every user, bit 3:
 * GCM instead of CBC, bit 5: the harness authenticates with the pre-shared key at once
 * (the SA comes up), an IKE SA lifetime of 60 s and no liveness checks, so that the
 * responder rekeys the IKE SA itself within reach of the clock steps. A record with
 * bit 6 of byte 0 set while such a rekey request of the responder is outstanding is
 * answered by the harness instead: SA (a new SPI of byte 1), Nr (of byte 2), KE of its
 * own, or with byte 3 odd a refusal; with bit 2 the harness first sends a crossing rekey
 * of its own (its nonce of byte 4). The harness then follows the SA the responder keeps
 * (the new one of either side, its role in it), so the records after reach the new SA.
 * The responder must never crash, read out of bounds or leak; its deadlines must be
 * honoured by tick, and the SA must end when its timers run out. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <openssl/crypto.h>

#include "../unit/ikev2_peer.h"

static uint64_t rng = 88172645463325252ull;
static uint8_t last[8192];
static size_t lastlen;
static struct ikev2_sa *cur;
static bool later, pending, any_password;

static bool fresh;
static void f_send(void *ctx, const uint8_t *b, size_t n, bool natt)
{
	(void)ctx; (void)natt;
	if (n <= sizeof last) {
		memcpy(last, b, n);
		lastlen = n;
		fresh = true;
	}
}
static void f_event(void *ctx, enum ikev2_ev k, const char *t) { (void)ctx; (void)k; (void)strlen(t); }
static void f_random(void *ctx, uint8_t *b, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		b[i] = (uint8_t)rng;
	}
}
static int f_password(void *ctx, const char *user, char *buf, size_t cap)
{
	(void)ctx;
	if (!any_password && strcmp(user, "alice"))
		return -1;
	snprintf(buf, cap, "fuzz");
	return 4;
}
static void f_authorize(void *ctx, const struct ikev2_auth_req *q)
{
	(void)ctx;
	if (later) {
		pending = true;
		return;
	}
	struct ikev2_verdict v = {.accept = q->cred == PPP_CRED_OK, .addr = {10, 99, 0, 5}};
	ikev2_authorize_done(cur, &v, 0);
}
static void f_child(void *ctx, const struct ikev2_child *c) { (void)ctx; (void)c; }
static void f_down(void *ctx, const struct ikev2_child *c, const char *w) { (void)ctx; (void)c; (void)strlen(w); }

static struct v2peer p;

/* The responder's outstanding rekey request of the IKE SA, as the harness read it. */
static struct {
	bool have;
	uint32_t msgid;
	uint8_t spi[8], ni[256], ke[IKE_DH_MAX];
	size_t ni_len, ke_len;
} rk;

/* Is the responder's last datagram a rekey request of the IKE SA? Noted in rk. */
static void rekey_seen(void)
{
	if (!fresh)
		return;
	fresh = false;
	if (!v2p_open(&p, last, lastlen) || p.m->exchange != IKE2_EXCH_CREATE_CHILD_SA ||
	    (p.m->flags & IKE2_FLAG_R))
		return;
	const struct ike_payload *sp = v2p_find(&p, IKE2_PL_SA), *nn = v2p_find(&p, IKE2_PL_NONCE);
	const struct ike_payload *ke = v2p_find(&p, IKE2_PL_KE);
	if (!sp || !nn || !ke || !p.m->nprops || p.m->props[0].protocol != 1 ||
	    p.m->props[0].spi_size != 8 || nn->data_len > sizeof rk.ni ||
	    ke->data_len > sizeof rk.ke)
		return;
	rk.have = true;
	rk.msgid = p.m->msgid;
	memcpy(rk.spi, p.m->props[0].spi, 8);
	memcpy(rk.ni, nn->data, nn->data_len);
	rk.ni_len = nn->data_len;
	memcpy(rk.ke, ke->data, ke->data_len);
	rk.ke_len = ke->data_len;
}

/* SA (one IKE proposal of the harness's suite), the nonce, KE: sealed as a request of the
 * harness (msgid, its role) or as its response. g^ir with `peer_ke` in gir. */
static size_t rekey_msg(uint32_t msgid, bool response, const uint8_t spi[8],
                        const uint8_t nonce[32], const uint8_t *peer_ke, size_t peer_kl,
                        uint16_t refuse, struct ike_dh **dh_out, uint8_t *gir, size_t *gl,
                        uint8_t *out, size_t cap)
{
	static struct ike_msg m;
	static uint8_t ke[IKE_DH_MAX];
	struct ike_dh *dh = ike_dh_new(p.group);
	size_t kl = dh ? ike_dh_public(dh, ke, sizeof ke) : 0;
	*gl = dh && peer_ke ? ike_dh_shared(dh, peer_ke, peer_kl, gir, IKE_DH_MAX) : 0;
	if (dh_out)
		*dh_out = dh;
	else
		ike_dh_free(dh);
	ike_msg_init(&m, 2, IKE2_EXCH_CREATE_CHILD_SA,
	             (uint8_t)((p.orig_resp ? 0 : IKE2_FLAG_I) | (response ? IKE2_FLAG_R : 0)), msgid,
	             p.spi_i, p.spi_r);
	if (refuse) {
		ike_add_payload(&m, IKE2_PL_N, NULL, 0)->notify = refuse;
	} else {
		struct ike_payload *s = ike_add_payload(&m, IKE2_PL_SA, NULL, 0);
		struct ike_proposal *pr = ike_add_proposal(&m, s, 1, 1, spi, 8);
		ike_add_transform(&m, pr, 1, p.encr);
		ike_add_attr(&m, 14, true, p.keybits, NULL, 0);
		ike_add_transform(&m, pr, 2, p.prf);
		if (p.integ)
			ike_add_transform(&m, pr, 3, p.integ);
		ike_add_transform(&m, pr, 4, p.group);
		ike_add_payload(&m, IKE2_PL_NONCE, nonce, 32);
		ike_add_payload(&m, IKE2_PL_KE, ke, kl)->group = p.group;
	}
	size_t n = ike_encode(&m, p.tx, sizeof p.tx);
	return n ? v2p_seal(&p, m.exchange, msgid, response, p.tx[16], p.tx + 28, n - 28, 0, 0,
	                    out, cap) : 0;
}

/* Answer the responder's rekey of the IKE SA (a crossing rekey of the harness first with
 * `cross`), then follow the SA it keeps. */
static void rekey_answer(struct ikev2_sa *sa, const uint8_t *r, bool cross, uint32_t *mid,
                         const struct ikev2_addr *local, const struct ikev2_addr *peer,
                         uint64_t now)
{
	static uint8_t out[8192];
	uint8_t gir2[IKE_DH_MAX], cspi[8], cni[32], rspi2[8], nr2[256];
	size_t gl2 = 0, nr2_len = 0;
	bool crossed = false;
	if (cross) {
		struct ike_dh *dh = NULL;
		memset(cspi, r[4] | 1, 8);
		v2p_fill(cni, 32, r[4]);
		size_t n = rekey_msg(*mid, false, cspi, cni, NULL, 0, 0, &dh, gir2, &gl2, out,
		                     sizeof out);
		(*mid)++;
		lastlen = 0;
		if (n)
			ikev2_input(sa, out, n, local, peer, now);
		fresh = false;
		const struct ike_payload *ke, *nn;
		if (dh && lastlen && v2p_open(&p, last, lastlen) && p.m->nprops &&
		    p.m->props[0].spi_size == 8 && (ke = v2p_find(&p, IKE2_PL_KE)) &&
		    (nn = v2p_find(&p, IKE2_PL_NONCE)) && nn->data_len <= sizeof nr2) {
			memcpy(rspi2, p.m->props[0].spi, 8);
			memcpy(nr2, nn->data, nn->data_len);
			nr2_len = nn->data_len;
			gl2 = ike_dh_shared(dh, ke->data, ke->data_len, gir2, sizeof gir2);
			crossed = gl2 > 0;
		}
		ike_dh_free(dh);
	}
	uint8_t pspi[8], nr[32], gir[IKE_DH_MAX];
	size_t gl;
	memset(pspi, r[1] | 1, 8);
	v2p_fill(nr, 32, r[2]);
	uint16_t refuse = r[3] & 1 ? (r[3] & 2 ? 14 : 43) : 0;
	size_t n = rekey_msg(rk.msgid, true, pspi, nr, rk.ke, rk.ke_len, refuse, NULL, gir, &gl,
	                     out, sizeof out);
	rk.have = false;
	if (n)
		ikev2_input(sa, out, n, local, peer, now);
	if (ikev2_we_initiated(sa) && !memcmp(ikev2_rspi(sa), rk.spi, 8) && gl) {
		v2p_rekey(&p, rk.spi, pspi, gir, gl, rk.ni, rk.ni_len, nr, 32, true);
		*mid = 0;
	} else if (crossed && !memcmp(ikev2_rspi(sa), rspi2, 8)) {
		v2p_rekey(&p, cspi, rspi2, gir2, gl2, cni, 32, nr2, nr2_len, false);
		*mid = 0;
	}
	OPENSSL_cleanse(gir, sizeof gir);
	OPENSSL_cleanse(gir2, sizeof gir2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	static struct ikev2_conf conf;
	ikev2_conf_default(&conf);
	conf.server_auth = IKEV2_SAUTH_PSK;
	conf.psk = (const uint8_t *)"fuzz";
	conf.psk_len = 4;
	conf.frag_size = 200;
	conf.dpd_ms = 5000;
	conf.dns[0][0] = 10;
	conf.n_dns = 1;
	if (mode & 16)
		conf.client_auth = IKEV2_CAUTH_PSK;
	if (mode & 32) {
		conf.client_auth = IKEV2_CAUTH_PSK;
		conf.frag_size = 1280; /* the harness reads the rekey request whole */
		conf.ike_life_s = 60;
		conf.dpd_ms = 0;
	}
	memset(&rk, 0, sizeof rk);
	fresh = false;
	later = mode & 2;
	any_password = mode & 4;
	pending = false;
	struct ikev2_cbs cbs = {NULL, f_send, f_event, f_random, f_password, f_authorize, f_child,
	                        f_down};
	struct ikev2_addr local = {.family = 4, .ip = {10, 0, 0, 1}, .port = 500};
	struct ikev2_addr peer = {.family = 4, .ip = {10, 0, 0, 2}, .port = 500};
	rng = 88172645463325252ull;
	uint64_t now = 0;
	struct ikev2_sa *sa = ikev2_new(&conf, &cbs, &local, &peer, now);
	if (!sa)
		return 0;
	cur = sa;
	bool keyed = false;
	if (mode & 1) {
		v2p_init(&p);
		p.group = p.ke_group = 19; /* the cheapest group: the time goes to the parsers */
		if (mode & 8) {
			p.encr = IKE2_ENCR_AES_GCM_16;
			p.integ = 0;
		}
		static uint8_t msg[4096];
		size_t n = v2p_init_req(&p, msg, sizeof msg);
		lastlen = 0;
		ikev2_input(sa, msg, n, &local, &peer, now);
		keyed = lastlen && v2p_init_resp(&p, last, lastlen);
	}
	uint32_t mid = 1;
	if (keyed && (mode & 32)) {
		/* IKE_AUTH with the pre-shared key: IDi, AUTH, SA, TSi, TSr */
		static struct ike_msg m;
		static uint8_t out[8192];
		static const uint8_t idi[8] = {1, 0, 0, 0, 10, 0, 0, 2}, espi[4] = {0xc1, 0, 0, 1};
		static const uint8_t a0[4] = {0}, a1[4] = {255, 255, 255, 255};
		uint8_t auth[64];
		ike_msg_init(&m, 2, IKE2_EXCH_AUTH, IKE2_FLAG_I, mid++, p.spi_i, p.spi_r);
		ike_add_payload(&m, IKE2_PL_IDI, idi + 4, 4)->id_type = 1;
		v2p_auth(&p, (const uint8_t *)"fuzz", 4, idi, sizeof idi, auth);
		ike_add_payload(&m, IKE2_PL_AUTH, auth, p.prf_len)->id_type = 2;
		struct ike_payload *sp = ike_add_payload(&m, IKE2_PL_SA, NULL, 0);
		struct ike_proposal *pr = ike_add_proposal(&m, sp, 1, 3, espi, 4);
		ike_add_transform(&m, pr, 1, IKE2_ENCR_AES_CBC);
		ike_add_attr(&m, 14, true, 256, NULL, 0);
		ike_add_transform(&m, pr, 3, IKE2_INTEG_HMAC_SHA1_96);
		ike_add_transform(&m, pr, 5, 0);
		for (int t = 0; t < 2; t++) {
			struct ike_payload *ts = ike_add_payload(&m, t ? IKE2_PL_TSR : IKE2_PL_TSI, NULL, 0);
			ts->ts_num = 1;
			struct ike_ts *x = &m.ts[m.nts++];
			memset(x, 0, sizeof *x);
			x->type = 7;
			x->end_port = 65535;
			x->start = a0;
			x->end = a1;
			x->addr_len = 4;
			ts->ts_count = 1;
		}
		size_t n = v2p_request(&p, &m, out, sizeof out);
		if (n)
			ikev2_input(sa, out, n, &local, &peer, now);
		fresh = false;
	}
	size_t off = 1;
	for (int rec = 0; rec < 32 && off + 2 <= size; rec++) {
		size_t n = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (n > size - off)
			n = size - off;
		const uint8_t *r = data + off;
		off += n;
		if (pending && ikev2_state(sa) == IKEV2_AUTHORIZING) {
			pending = false;
			struct ikev2_verdict v = {.accept = rec & 1, .addr = {10, 99, 0, 6}};
			ikev2_authorize_done(sa, &v, now);
		}
		if (keyed && n >= 6 && (r[0] & 0x40) && rk.have) {
			rekey_answer(sa, r, r[0] & 4, &mid, &local, &peer, now);
		} else if (keyed && n >= 6) {
			static uint8_t out[8192];
			uint8_t exch = (uint8_t)(34 + (r[0] & 3));
			bool resp = r[0] & 0x80;
			unsigned frag = (r[0] >> 4) & 3;
			uint32_t msgid = (v2p_get32(r + 1) & 0xfffffffc) | ((mid + (r[1] & 3)) & 3);
			if (!(r[1] & 0x80))
				msgid = mid; /* mostly the one the responder expects */
			size_t body = n - 6, sl;
			if (frag && body >= 2) {
				size_t half = body / 2;
				sl = v2p_seal(&p, exch, msgid, resp, r[5], r + 6, half, 1, 2, out, sizeof out);
				if (sl)
					ikev2_input(sa, out, sl, &local, &peer, now);
				sl = v2p_seal(&p, exch, msgid, resp, 0, r + 6 + half, body - half, 2, 2, out,
				              sizeof out);
			} else {
				sl = v2p_seal(&p, exch, msgid, resp, r[5], r + 6, body, 0, 0, out, sizeof out);
			}
			if (sl)
				ikev2_input(sa, out, sl, &local, &peer, now);
			if (msgid == mid && !resp)
				mid++;
		} else {
			ikev2_input(sa, r, n, &local, &peer, now);
		}
		if (keyed)
			rekey_seen();
		uint8_t step = off < size ? data[off++] : 0;
		now += (uint64_t)step * 500;
		if (ikev2_deadline(sa) <= now)
			ikev2_tick(sa, now);
		if (keyed)
			rekey_seen();
		if (step == 0xff)
			ikev2_delete(sa, "fuzz", now);
	}
	/* every timer runs out: the SA must end within a bounded number of ticks */
	for (int i = 0; i < 64; i++) {
		uint64_t d = ikev2_deadline(sa);
		if (d == IKEV2_NEVER)
			break;
		now = d > now ? d : now + 1;
		ikev2_tick(sa, now);
	}
	if (ikev2_state(sa) != IKEV2_DEAD)
		__builtin_trap();
	ikev2_free(sa);
	if (mode & 1)
		v2p_free(&p);
	return 0;
}
