/* The IKEv2 responder (engine/ike/ikev2.h) and its key derivation: NIST's IKEv2 KDF
 * sample vectors, stateless cookies, fragment reassembly bounds, and whole exchanges
 * against the in-process initiator of ikev2_peer.h (EAP-MSCHAPv2 with a verdict given
 * later, a wrong password, INVALID_KE_PAYLOAD, no proposal, fragments both ways, child
 * rekey, DELETE, our own rekey of a child and of the IKE SA with their collisions). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/ikedecrypt.h"
#include "certgen.h"
#include "ikev2_peer.h"
#include "mschap.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (; h[0] && h[1] && n < cap; h += 2) {
		unsigned v;
		sscanf(h, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* ---- KDF: NIST CAVP sample vectors of the IKEv2 KDF (SP 800-135), HMAC-SHA2-256 ---- */

START_TEST(kdf_skeyseed_nist)
{
	uint8_t gir[64], ni[8], nr[8], want[32], out[64];
	size_t gl = unhex("0f4d257d7a58fc4545c7d7a88119eee5d5c9690c5b4c989171d3abbfd99d1d29", gir, sizeof gir);
	unhex("3f302be1abcb28e1", ni, 8);
	unhex("8c332ee006064c9b", nr, 8);
	unhex("5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe", want, 32);
	ck_assert(ike2_skeyseed(IKE2_PRF_HMAC_SHA2_256, ni, 8, nr, 8, gir, gl, out));
	ck_assert_mem_eq(out, want, 32);
	/* the nonces are the key, in order: swapped they give another SKEYSEED */
	ck_assert(ike2_skeyseed(IKE2_PRF_HMAC_SHA2_256, nr, 8, ni, 8, gir, gl, out));
	ck_assert(memcmp(out, want, 32));
}
END_TEST

START_TEST(kdf_prf_plus_nist)
{
	uint8_t key[32], seed[32], want[132], out[132];
	unhex("5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe", key, 32);
	unhex("3f302be1abcb28e18c332ee006064c9b40dac39e1e1a86408619a1cf9a6e4c07", seed, 32);
	unhex("0b137d669b0947d7d026d593f0305ad401ff0c471357d695778a9c7f4b4869ece98aca531"
	      "188d16041b3bb936d2dbb3b4993a6e768a809160de45d0283f273a6cdf6854379e31be72b"
	      "8d3d1fa990cf9c5b015ca9f918a7df6253c958114a09d4e1c19bdcd4db14b29d98db1a74a"
	      "d405c588662c14a04d0d36aa4ab55e90f8986d12d4aad", want, sizeof want);
	/* the seed in pieces (Ni | Nr | SPIi | SPIr) as the responder passes it */
	struct ike_iov s[4] = {{seed, 8}, {seed + 8, 8}, {seed + 16, 8}, {seed + 24, 8}};
	ck_assert(ike2_prf_plus(IKE2_PRF_HMAC_SHA2_256, key, 32, s, 4, out, 132));
	ck_assert_mem_eq(out, want, 132);
	/* a shorter request is a prefix */
	memset(out, 0, sizeof out);
	ck_assert(ike2_prf_plus(IKE2_PRF_HMAC_SHA2_256, key, 32, s, 4, out, 15));
	ck_assert_mem_eq(out, want, 15);
	ck_assert_uint_eq(out[15], 0);
	/* more than 255 rounds is refused (RFC 7296 2.13) */
	static uint8_t big[256 * 32];
	ck_assert(!ike2_prf_plus(IKE2_PRF_HMAC_SHA2_256, key, 32, s, 4, big, 255 * 32 + 1));
	ck_assert(ike2_prf_plus(IKE2_PRF_HMAC_SHA2_256, key, 32, s, 4, big, 255 * 32));
}
END_TEST

START_TEST(kdf_rekey_nist)
{
	uint8_t skd[32], gir[32], ni[8], nr[8], want[32], out[64];
	unhex("0b137d669b0947d7d026d593f0305ad401ff0c471357d695778a9c7f4b4869ec", skd, 32);
	unhex("25f3b12d6f282739256e39bf54eda53b60ffcf379bb7bcc90c27b4c4c578616c", gir, 32);
	unhex("3f302be1abcb28e1", ni, 8);
	unhex("8c332ee006064c9b", nr, 8);
	unhex("2d63f6debc92048b4fef3889c4c99ca67d6496e0fac14a2bca9a2d6566ff2398", want, 32);
	ck_assert(ike2_skeyseed_rekey(IKE2_PRF_HMAC_SHA2_256, skd, 32, gir, 32, ni, 8, nr, 8, out));
	ck_assert_mem_eq(out, want, 32);
}
END_TEST

START_TEST(gcm_roundtrip_and_tamper)
{
	uint8_t key[16], salt[4], iv[8], aad[28], pt[40], ct[40], back[40], tag[16];
	v2p_fill(key, 16, 1);
	v2p_fill(salt, 4, 2);
	v2p_fill(iv, 8, 3);
	v2p_fill(aad, 28, 4);
	v2p_fill(pt, 40, 5);
	ck_assert(ike_gcm(key, 16, salt, iv, aad, 28, pt, 40, ct, tag, true));
	ck_assert(ike_gcm(key, 16, salt, iv, aad, 28, ct, 40, back, tag, false));
	ck_assert_mem_eq(back, pt, 40);
	aad[0] ^= 1; /* the header is authenticated */
	ck_assert(!ike_gcm(key, 16, salt, iv, aad, 28, ct, 40, back, tag, false));
}
END_TEST

/* ---- cookies ------------------------------------------------------------------------ */

START_TEST(cookie_demand_and_check)
{
	struct ikev2_cookies c;
	uint8_t fresh[32];
	v2p_fill(fresh, 32, 9);
	ikev2_cookies_init(&c, fresh, 1000);
	struct v2peer p;
	v2p_init(&p);
	uint8_t msg[4096], reply[256];
	size_t rl;
	size_t n = v2p_init_req(&p, msg, sizeof msg);
	struct ikev2_addr peer = {.family = 4, .ip = {10, 0, 0, 2}, .port = 500};
	/* below the threshold: no cookie needed */
	ck_assert_int_eq(ikev2_cookie_check(&c, msg, n, &peer, 3, 4, reply, sizeof reply, &rl),
	                 IKEV2_COOKIE_PASS);
	/* at the threshold: a COOKIE demand, stateless */
	ck_assert_int_eq(ikev2_cookie_check(&c, msg, n, &peer, 4, 4, reply, sizeof reply, &rl),
	                 IKEV2_COOKIE_SEND);
	ck_assert(!v2p_init_resp(&p, reply, rl));
	ck_assert_uint_eq(p.notify, 16390);
	ck_assert_uint_eq(p.cookie_len, 36);
	/* the request again with the cookie in front passes */
	n = v2p_init_req(&p, msg, sizeof msg);
	ck_assert_int_eq(ikev2_cookie_check(&c, msg, n, &peer, 99, 4, reply, sizeof reply, &rl),
	                 IKEV2_COOKIE_PASS);
	/* from another address it does not */
	struct ikev2_addr other = peer;
	other.ip[3] = 3;
	ck_assert_int_eq(ikev2_cookie_check(&c, msg, n, &other, 99, 4, reply, sizeof reply, &rl),
	                 IKEV2_COOKIE_SEND);
	/* a changed byte of the cookie does not */
	p.cookie[10] ^= 1;
	n = v2p_init_req(&p, msg, sizeof msg);
	ck_assert_int_eq(ikev2_cookie_check(&c, msg, n, &peer, 99, 4, reply, sizeof reply, &rl),
	                 IKEV2_COOKIE_SEND);
	p.cookie[10] ^= 1;
	n = v2p_init_req(&p, msg, sizeof msg);
	/* one rotation: the previous secret still counts; two: it does not */
	fresh[0] ^= 0xff;
	ck_assert(!ikev2_cookies_rotate(&c, fresh, 1000 + IKEV2_COOKIE_ROTATE_MS - 1));
	ck_assert(ikev2_cookies_rotate(&c, fresh, 1000 + IKEV2_COOKIE_ROTATE_MS));
	ck_assert_int_eq(ikev2_cookie_check(&c, msg, n, &peer, 99, 4, reply, sizeof reply, &rl),
	                 IKEV2_COOKIE_PASS);
	fresh[1] ^= 0xff;
	ck_assert(ikev2_cookies_rotate(&c, fresh, 1000 + 2 * IKEV2_COOKIE_ROTATE_MS));
	ck_assert_int_eq(ikev2_cookie_check(&c, msg, n, &peer, 99, 4, reply, sizeof reply, &rl),
	                 IKEV2_COOKIE_SEND);
	/* a response or garbage is dropped, not answered */
	msg[19] |= IKE2_FLAG_R;
	ck_assert_int_eq(ikev2_cookie_check(&c, msg, n, &peer, 99, 4, reply, sizeof reply, &rl),
	                 IKEV2_COOKIE_DROP);
	ck_assert_int_eq(ikev2_cookie_check(&c, msg, 10, &peer, 99, 4, reply, sizeof reply, &rl),
	                 IKEV2_COOKIE_DROP);
	v2p_free(&p);
}
END_TEST

/* ---- reassembly ---------------------------------------------------------------------- */

START_TEST(reasm_bounds)
{
	static struct ikev2_reasm r;
	uint8_t a[10] = "AAAAAAAAA", b[10] = "BBBBBBBBB", out[64], first = 0;
	ikev2_reasm_reset(&r);
	ck_assert_int_eq(ikev2_reasm_add(&r, 1, 0, 2, 33, a, 9), IKEV2_REASM_BAD);
	ck_assert_int_eq(ikev2_reasm_add(&r, 1, 3, 2, 33, a, 9), IKEV2_REASM_BAD);
	ck_assert_int_eq(ikev2_reasm_add(&r, 1, 1, IKEV2_FRAGS_MAX + 1, 33, a, 9), IKEV2_REASM_BAD);
	ck_assert_int_eq(ikev2_reasm_add(&r, 1, 1, 2, 33, a, 0), IKEV2_REASM_BAD);
	/* out of order, a duplicate, then complete */
	ck_assert_int_eq(ikev2_reasm_add(&r, 1, 2, 2, 0, b, 9), IKEV2_REASM_MORE);
	ck_assert_int_eq(ikev2_reasm_add(&r, 1, 2, 2, 0, b, 9), IKEV2_REASM_DUP);
	ck_assert_uint_eq(ikev2_reasm_take(&r, out, sizeof out, &first), 0);
	ck_assert_int_eq(ikev2_reasm_add(&r, 1, 1, 2, 35, a, 9), IKEV2_REASM_DONE);
	ck_assert_uint_eq(ikev2_reasm_take(&r, out, 17, &first), 0); /* too small a buffer */
	ck_assert_uint_eq(ikev2_reasm_take(&r, out, sizeof out, &first), 18);
	ck_assert_mem_eq(out, "AAAAAAAAABBBBBBBBB", 18);
	ck_assert_uint_eq(first, 35);
	/* a smaller total for the message under way is stale; a larger one starts over */
	ck_assert_int_eq(ikev2_reasm_add(&r, 5, 1, 3, 35, a, 9), IKEV2_REASM_MORE);
	ck_assert_int_eq(ikev2_reasm_add(&r, 5, 2, 2, 0, b, 9), IKEV2_REASM_STALE);
	ck_assert_int_eq(ikev2_reasm_add(&r, 5, 2, 4, 0, b, 9), IKEV2_REASM_MORE);
	ck_assert_uint_eq(r.have, 1);
	ck_assert_uint_eq(r.total, 4);
	/* an older message is stale */
	ck_assert_int_eq(ikev2_reasm_add(&r, 4, 1, 2, 0, a, 9), IKEV2_REASM_STALE);
	/* the bytes are bounded: what does not fit drops the message under way */
	static uint8_t huge[IKEV2_MSG_MAX];
	ikev2_reasm_reset(&r);
	ck_assert_int_eq(ikev2_reasm_add(&r, 7, 1, 3, 35, huge, IKEV2_MSG_MAX - 4), IKEV2_REASM_MORE);
	ck_assert_int_eq(ikev2_reasm_add(&r, 7, 2, 3, 0, huge, 5), IKEV2_REASM_BAD);
	ck_assert_uint_eq(r.total, 0);
	ck_assert_uint_eq(r.used, 0);
}
END_TEST

START_TEST(conf_parse)
{
	struct ikev2_conf c;
	char why[240];
	ikev2_conf_default(&c);
	ck_assert_int_eq(ikev2_conf_parse_ike(&c, "aes256-sha256-modp2048,aes128gcm16-sha384-ecp384",
	                                      why, sizeof why), 0);
	ck_assert_uint_eq(c.n_ike, 2);
	ck_assert_uint_eq(c.ike[1].encr, IKE2_ENCR_AES_GCM_16);
	ck_assert_uint_eq(c.ike[1].integ, 0);
	ck_assert_uint_eq(c.ike[1].prf, IKE2_PRF_HMAC_SHA2_384);
	ck_assert_int_eq(ikev2_conf_parse_ike(&c, "aes256-sha256-modp2048,aes256-md5-modp2048", why,
	                                      sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "column 24"));
	ck_assert_uint_eq(c.n_ike, 2); /* unchanged on error */
	ck_assert_int_eq(ikev2_conf_parse_esp(&c, "aes128gcm16,3des-sha1", why, sizeof why), 0);
	ck_assert_uint_eq(c.n_esp, 2);
	ck_assert_int_eq(ikev2_conf_parse_esp(&c, "aes128gcm16-sha1", why, sizeof why), -1);
	ck_assert_int_eq(ikev2_conf_parse_esp(&c, "", why, sizeof why), -1);
}
END_TEST

/* ---- exchanges against the in-process initiator ------------------------------------- */

#define OUTS 32
static struct {
	uint8_t buf[OUTS][9400];
	size_t len[OUTS];
	int n;
	char causes[8][64];
	int nfail;
	int child_up, child_down, ike_up, rekeyed;
	char rekeyed_text[160];
	struct ikev2_child child;
	int asks;
	enum ppp_cred cred;
	char user[64];
	bool answer_now;
	bool accept;
	bool machine_cert;
	const char *cause;           /* the verdict's cause when refused */
} T;

static void t_send(void *ctx, const uint8_t *b, size_t n, bool natt)
{
	(void)ctx; (void)natt;
	if (T.n < OUTS && n <= sizeof T.buf[0]) {
		memcpy(T.buf[T.n], b, n);
		T.len[T.n++] = n;
	}
}
static void t_event(void *ctx, enum ikev2_ev k, const char *text)
{
	(void)ctx;
	if (k == IKEV2_EV_IKE_UP)
		T.ike_up++;
	if (k == IKEV2_EV_REKEYED) {
		T.rekeyed++;
		snprintf(T.rekeyed_text, sizeof T.rekeyed_text, "%s", text);
	}
	if (getenv("IKEV2_TEST_VERBOSE"))
		fprintf(stderr, "%s %s\n", tok_name(ikev2_ev_names, k), text);
}
static uint64_t rng_state = 12345;
static void t_random(void *ctx, uint8_t *b, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
		b[i] = (uint8_t)(rng_state >> 33);
	}
}
static int t_password(void *ctx, const char *user, char *buf, size_t cap)
{
	(void)ctx;
	if (strcmp(user, "alice"))
		return -1;
	snprintf(buf, cap, "s3cret");
	return 6;
}
static struct ikev2_sa *T_sa;
static struct ikev2_sa *T_delete_on_ask; /* deleted by the owner when asked for a verdict */
static void t_authorize(void *ctx, const struct ikev2_auth_req *q)
{
	(void)ctx;
	T.asks++;
	if (T_delete_on_ask) {
		/* the owner enters another SA from inside this one's call */
		struct ikev2_sa *o = T_delete_on_ask;
		T_delete_on_ask = NULL;
		ikev2_delete(o, "older SA of the peer", 0);
	}
	T.cred = q->cred;
	snprintf(T.user, sizeof T.user, "%s", q->user);
	T.machine_cert = q->machine_cert;
	if (T.answer_now) {
		struct ikev2_verdict v = {.accept = T.accept, .addr = {10, 99, 0, 7}, .cause = T.cause};
		ck_assert_int_eq(ikev2_authorize_done(T_sa, &v, 0), 0);
		ck_assert_int_eq(ikev2_authorize_done(T_sa, &v, 0), -1); /* once */
	}
}
static void t_child_up(void *ctx, const struct ikev2_child *c)
{
	(void)ctx;
	T.child_up++;
	T.child = *c;
}
static void t_child_down(void *ctx, const struct ikev2_child *c, const char *why)
{
	(void)ctx; (void)c; (void)why;
	T.child_down++;
}

static const struct ikev2_cbs T_cbs = {NULL, t_send, t_event, t_random, t_password, t_authorize,
                                       t_child_up, t_child_down};
static struct ikev2_conf T_conf;
static const struct ikev2_addr T_local = {.family = 4, .ip = {10, 0, 0, 1}, .port = 500};
static const struct ikev2_addr T_peer = {.family = 4, .ip = {10, 0, 0, 2}, .port = 500};

static void t_setup(void)
{
	memset(&T, 0, sizeof T);
	ikev2_conf_default(&T_conf);
	T_conf.server_auth = IKEV2_SAUTH_PSK;
	T_conf.psk = (const uint8_t *)"server-key";
	T_conf.psk_len = 10;
	T_conf.id_type = 2;
	T_conf.id = (const uint8_t *)"vpn.test";
	T_conf.id_len = 8;
	T_conf.dns[0][0] = 10, T_conf.dns[0][1] = 99, T_conf.dns[0][3] = 1;
	T_conf.n_dns = 1;
	T.accept = true;
	T.answer_now = true;
}

/* Feed the peer's datagram, return the responder's last answer (NULL when none). */
static const uint8_t *feed(struct ikev2_sa *sa, const uint8_t *b, size_t n, uint64_t now,
                           size_t *rl)
{
	int before = T.n;
	ikev2_input(sa, b, n, &T_local, &T_peer, now);
	if (T.n == before)
		return NULL;
	*rl = T.len[T.n - 1];
	return T.buf[T.n - 1];
}

/* An empty INFORMATIONAL request of the peer under p's current SA, answered under it. */
static void peer_info_answered(struct ikev2_sa *sa, struct v2peer *p, uint64_t now)
{
	struct ike_msg m;
	uint32_t mid = p->mid++;
	ike_msg_init(&m, 2, IKE2_EXCH_INFORMATIONAL, 0, mid, p->spi_i, p->spi_r);
	static uint8_t out[4096];
	size_t ol = v2p_request(p, &m, out, sizeof out), rl;
	const uint8_t *r = feed(sa, out, ol, now, &rl);
	ck_assert_ptr_nonnull(r);
	ck_assert(v2p_open(p, r, rl));
	ck_assert_uint_eq(p->m->msgid, mid);
	ck_assert_uint_eq(p->m->flags & (IKE2_FLAG_I | IKE2_FLAG_R),
	                  IKE2_FLAG_R | (p->orig_resp ? IKE2_FLAG_I : 0));
}

static bool sa_init(struct ikev2_sa *sa, struct v2peer *p)
{
	uint8_t msg[4096];
	size_t n = v2p_init_req(p, msg, sizeof msg), rl;
	const uint8_t *r = feed(sa, msg, n, 0, &rl);
	return r && v2p_init_resp(p, r, rl);
}

/* One IKE_AUTH request (payloads built by the caller in p->m begun by this). */
static struct ike_msg *auth_begin(struct v2peer *p)
{
	static struct ike_msg m;
	ike_msg_init(&m, 2, IKE2_EXCH_AUTH, IKE2_FLAG_I, p->mid++, p->spi_i, p->spi_r);
	return &m;
}

static uint8_t T_out[8192];
static size_t T_outlen;
static const uint8_t *auth_send(struct ikev2_sa *sa, struct v2peer *p, struct ike_msg *m,
                                uint64_t now)
{
	uint8_t *out = T_out;
	size_t n = v2p_request(p, m, out, sizeof T_out), rl;
	T_outlen = n;
	ck_assert_uint_gt(n, 0);
	const uint8_t *r = feed(sa, out, n, now, &rl);
	if (r)
		ck_assert(v2p_open(p, r, rl));
	return r;
}

static const uint8_t IDI[] = {1, 0, 0, 0, 10, 0, 0, 2};

/* The first child's request of IKE_AUTH: CP request, SA (AES-CBC-256, HMAC-SHA1-96, SPI
 * c1000001), TSi, TSr (anything). */
static void auth_child_req(struct ike_msg *m)
{
	static const uint8_t spi[4] = {0xc1, 0, 0, 1};
	static const uint8_t any0[4] = {0, 0, 0, 0}, any1[4] = {255, 255, 255, 255};
	struct ike_payload *cp = ike_add_payload(m, IKE2_PL_CP, NULL, 0);
	cp->id_type = 1;
	ike_add_attr(m, 1, false, 0, NULL, 0);
	ike_add_attr(m, 3, false, 0, NULL, 0);
	struct ike_payload *s = ike_add_payload(m, IKE2_PL_SA, NULL, 0);
	struct ike_proposal *pr = ike_add_proposal(m, s, 1, 3, spi, 4);
	ike_add_transform(m, pr, 1, IKE2_ENCR_AES_CBC);
	ike_add_attr(m, 14, true, 256, NULL, 0);
	ike_add_transform(m, pr, 3, IKE2_INTEG_HMAC_SHA1_96);
	ike_add_transform(m, pr, 5, 0);
	for (int t = 0; t < 2; t++) {
		struct ike_payload *ts = ike_add_payload(m, t ? IKE2_PL_TSR : IKE2_PL_TSI, NULL, 0);
		ts->ts_num = 1;
		struct ike_ts *x = &m->ts[m->nts++];
		memset(x, 0, sizeof *x);
		x->type = 7;
		x->end_port = 65535;
		x->start = any0;
		x->end = any1;
		x->addr_len = 4;
		ts->ts_count = 1;
	}
}

/* IKE_AUTH 1: IDi (its address), CP request, SA, TSi, TSr: answered with IDr, AUTH, EAP. */
static void auth_first(struct ikev2_sa *sa, struct v2peer *p)
{
	struct ike_msg *m = auth_begin(p);
	struct ike_payload *id = ike_add_payload(m, IKE2_PL_IDI, IDI + 4, 4);
	id->id_type = 1;
	auth_child_req(m);
	const uint8_t *r = auth_send(sa, p, m, 0);
	ck_assert_ptr_nonnull(r);
	const struct ike_payload *idr = v2p_find(p, IKE2_PL_IDR), *auth = v2p_find(p, IKE2_PL_AUTH);
	const struct ike_payload *eap = v2p_find(p, IKE2_PL_EAP);
	ck_assert_ptr_nonnull(idr);
	ck_assert_ptr_nonnull(auth);
	ck_assert_ptr_nonnull(eap);
	if (T_conf.server_auth == IKEV2_SAUTH_PSK) {
		/* the server's AUTH with its pre-shared key verifies */
		uint8_t want[64];
		v2p_auth_r(p, (const uint8_t *)"server-key", 10, idr->body, idr->body_len, want);
		ck_assert_uint_eq(auth->id_type, 2);
		ck_assert_mem_eq(auth->data, want, p->prf_len);
	} else {
		ck_assert(auth->id_type == 1 || auth->id_type == 14); /* a signature */
	}
	ck_assert_uint_eq(eap->eap_code, 1);
	ck_assert_uint_eq(eap->eap_type, 1);
}

/* EAP: identity, MS-CHAPv2 response with `password`. Returns after the responder's answer
 * to the response (NULL while the verdict is pending). */
static uint8_t T_auth_ch[16], T_peer_ch[16], T_nt[24];
static const uint8_t *eap_run(struct ikev2_sa *sa, struct v2peer *p, const char *password)
{
	uint8_t e[128];
	const struct ike_payload *req = v2p_find(p, IKE2_PL_EAP);
	uint8_t id = req->eap_id;
	e[0] = 2, e[1] = id, e[2] = 0, e[3] = 10, e[4] = 1;
	memcpy(e + 5, "alice", 5);
	struct ike_msg *m = auth_begin(p);
	ike_add_payload(m, IKE2_PL_EAP, e, 10);
	ck_assert_ptr_nonnull(auth_send(sa, p, m, 0));
	req = v2p_find(p, IKE2_PL_EAP);
	ck_assert_ptr_nonnull(req);
	ck_assert_uint_eq(req->eap_type, 26);
	/* Challenge: OpCode 1, MS-CHAPv2-ID, MS-Length, Value-Size 16, Challenge, Name */
	const uint8_t *d = req->data + 5;
	ck_assert_uint_eq(d[0], 1);
	ck_assert_uint_eq(d[4], 16);
	ck_assert_uint_eq((unsigned)(d[2] << 8 | d[3]), req->data_len - 5);
	memcpy(T_auth_ch, d + 5, 16);
	uint8_t msid = d[1];
	v2p_fill(T_peer_ch, 16, 77);
	ck_assert_int_eq(mschap2_nt_response(T_auth_ch, T_peer_ch, "alice", 5, password,
	                                     strlen(password), T_nt), 0);
	size_t l = 5 + 4 + 1 + 49 + 5;
	e[0] = 2, e[1] = req->eap_id, e[2] = 0, e[3] = (uint8_t)l, e[4] = 26;
	e[5] = 2, e[6] = msid, e[7] = 0, e[8] = (uint8_t)(l - 5), e[9] = 49;
	memcpy(e + 10, T_peer_ch, 16);
	memset(e + 26, 0, 8);
	memcpy(e + 34, T_nt, 24);
	e[58] = 0;
	memcpy(e + 59, "alice", 5);
	m = auth_begin(p);
	ike_add_payload(m, IKE2_PL_EAP, e, l);
	return auth_send(sa, p, m, 0);
}

/* EAP Success acknowledged, the final AUTH with the MSK; the last answer opened. */
static void eap_finish(struct ikev2_sa *sa, struct v2peer *p)
{
	const struct ike_payload *req = v2p_find(p, IKE2_PL_EAP);
	ck_assert_ptr_nonnull(req);
	ck_assert_uint_eq(req->data[5], 3); /* MS-CHAPv2 Success */
	char s[43];
	ck_assert_int_eq(mschap2_authenticator_response("s3cret", 6, T_nt, T_peer_ch, T_auth_ch,
	                                                "alice", 5, s), 0);
	ck_assert_int_eq(memcmp(req->data + 9, s, 42), 0);
	uint8_t e[6] = {2, req->eap_id, 0, 6, 26, 3};
	struct ike_msg *m = auth_begin(p);
	ike_add_payload(m, IKE2_PL_EAP, e, 6);
	ck_assert_ptr_nonnull(auth_send(sa, p, m, 0));
	req = v2p_find(p, IKE2_PL_EAP);
	ck_assert_uint_eq(req->eap_code, 3);
	/* MSK = MasterReceiveKey | MasterSendKey | 32 zeros, the key of both AUTHs */
	uint8_t hash[16], hh[16], mk[16], msk[64] = {0};
	mschap_nt_password_hash("s3cret", 6, hash);
	mschap_hash_nt_password_hash(hash, hh);
	mppe_master_key(hh, T_nt, mk);
	mppe_asymmetric_start_key(mk, msk, 16, false, true);
	mppe_asymmetric_start_key(mk, msk + 16, 16, true, true);
	uint8_t a[64];
	v2p_auth(p, msk, 64, IDI, sizeof IDI, a);
	m = auth_begin(p);
	struct ike_payload *ap = ike_add_payload(m, IKE2_PL_AUTH, a, p->prf_len);
	ap->id_type = 2;
	ck_assert_ptr_nonnull(auth_send(sa, p, m, 0));
	const struct ike_payload *ra = v2p_find(p, IKE2_PL_AUTH);
	ck_assert_ptr_nonnull(ra);
	uint8_t idr[12] = {2, 0, 0, 0, 'v', 'p', 'n', '.', 't', 'e', 's', 't'};
	v2p_auth_r(p, msk, 64, idr, sizeof idr, a);
	ck_assert_mem_eq(ra->data, a, p->prf_len);
}

START_TEST(eap_mschapv2_async_verdict)
{
	t_setup();
	T.answer_now = false;
	struct v2peer p;
	v2p_init(&p);
	struct ikev2_sa *sa = ikev2_new(&T_conf, &T_cbs, &T_local, &T_peer, 0);
	T_sa = sa;
	ck_assert(sa_init(sa, &p));
	ck_assert_int_eq(ikev2_state(sa), IKEV2_INIT_DONE);
	auth_first(sa, &p);
	ck_assert_ptr_null(eap_run(sa, &p, "s3cret"));
	int sent = T.n;
	ck_assert_int_eq(T.asks, 1);
	ck_assert_int_eq(T.cred, PPP_CRED_OK);
	ck_assert_str_eq(T.user, "alice");
	ck_assert_int_eq(ikev2_state(sa), IKEV2_AUTHORIZING);
	/* the peer's retransmission is not answered (nor asked about) while it is pending */
	size_t rl;
	ck_assert_ptr_null(feed(sa, T_out, T_outlen, 1, &rl));
	ck_assert_int_eq(T.asks, 1);
	/* the verdict, later: the EAP Success request goes out */
	struct ikev2_verdict v = {.accept = true, .addr = {10, 99, 0, 42}};
	ck_assert_int_eq(ikev2_authorize_done(sa, &v, 5), 0);
	ck_assert_int_eq(ikev2_authorize_done(sa, &v, 5), -1);
	ck_assert_int_eq(T.n, sent + 1);
	ck_assert(v2p_open(&p, T.buf[T.n - 1], T.len[T.n - 1]));
	eap_finish(sa, &p);
	ck_assert_int_eq(ikev2_state(sa), IKEV2_ESTABLISHED);
	/* CP: the granted address and the DNS server; TSi narrowed to the address */
	const struct ike_payload *cp = v2p_find(&p, IKE2_PL_CP);
	ck_assert_ptr_nonnull(cp);
	ck_assert_uint_eq(cp->id_type, 2);
	ck_assert_uint_eq(cp->attr_count, 2);
	ck_assert_uint_eq(p.m->attrs[cp->attr_first].type, 1);
	ck_assert_mem_eq(p.m->attrs[cp->attr_first].val, "\x0a\x63\x00\x2a", 4);
	const struct ike_payload *tsi = v2p_find(&p, IKE2_PL_TSI);
	ck_assert_uint_eq(tsi->ts_count, 1);
	ck_assert_mem_eq(p.m->ts[tsi->ts_first].start, "\x0a\x63\x00\x2a", 4);
	ck_assert_mem_eq(p.m->ts[tsi->ts_first].end, "\x0a\x63\x00\x2a", 4);
	ck_assert_int_eq(T.child_up, 1);
	ck_assert_uint_eq(T.child.spi_out, 0xc1000001);
	ck_assert_mem_eq(T.child.vip, "\x0a\x63\x00\x2a", 4);
	/* the ESP keys are prf+(SK_d, Ni | Nr): initiator's direction first */
	uint8_t km[2 * (32 + 20)];
	struct ike_iov s[2] = {{p.ni, 32}, {p.nr, p.nr_len}};
	ck_assert(ike2_prf_plus(p.prf, p.sk_d, p.prf_len, s, 2, km, sizeof km));
	ck_assert_uint_eq(T.child.in.eklen, 32);
	ck_assert_mem_eq(T.child.in.ekey, km, 32);
	ck_assert_mem_eq(T.child.in.akey, km + 32, 20);
	ck_assert_mem_eq(T.child.out.ekey, km + 52, 32);
	ck_assert_str_eq(ikev2_user(sa), "alice");
	ikev2_free(sa);
	v2p_free(&p);
}
END_TEST

START_TEST(eap_wrong_password)
{
	t_setup();
	T.accept = false;
	struct v2peer p;
	v2p_init(&p);
	struct ikev2_sa *sa = ikev2_new(&T_conf, &T_cbs, &T_local, &T_peer, 0);
	T_sa = sa;
	ck_assert(sa_init(sa, &p));
	auth_first(sa, &p);
	/* even an owner that says yes cannot admit a wrong password */
	T.accept = true;
	ck_assert_ptr_nonnull(eap_run(sa, &p, "wrong"));
	ck_assert_int_eq(T.cred, PPP_CRED_BAD);
	const struct ike_payload *req = v2p_find(&p, IKE2_PL_EAP);
	ck_assert_uint_eq(req->data[5], 4); /* MS-CHAPv2 Failure */
	ck_assert_int_eq(memcmp(req->data + 9, "E=691 R=0", 9), 0);
	/* its acknowledgement: EAP Failure, the SA ends with the cause */
	uint8_t e[6] = {2, req->eap_id, 0, 6, 26, 4};
	struct ike_msg *m = auth_begin(&p);
	ike_add_payload(m, IKE2_PL_EAP, e, 6);
	ck_assert_ptr_nonnull(auth_send(sa, &p, m, 0));
	ck_assert_uint_eq(v2p_find(&p, IKE2_PL_EAP)->eap_code, 4);
	ck_assert_int_eq(ikev2_state(sa), IKEV2_DEAD);
	ck_assert_str_eq(ikev2_cause(sa), "ike.v2.auth-failed");
	ck_assert_int_eq(T.child_up, 0);
	ikev2_free(sa);
	v2p_free(&p);
}
END_TEST

START_TEST(invalid_ke_then_retry)
{
	t_setup();
	ikev2_conf_parse_ike(&T_conf, "aes128-sha256-modp2048", (char[200]){0}, 200);
	struct v2peer p;
	v2p_init(&p);
	p.ke_group = 19; /* KE of a group the policy does not have */
	struct ikev2_sa *sa = ikev2_new(&T_conf, &T_cbs, &T_local, &T_peer, 0);
	ck_assert(!sa_init(sa, &p));
	ck_assert_uint_eq(p.notify, 17);
	ck_assert_uint_eq(p.notify_len, 2);
	ck_assert_uint_eq(p.notify_data[1], 14);
	ck_assert_int_eq(ikev2_state(sa), IKEV2_START);
	p.ke_group = 14;
	ck_assert(sa_init(sa, &p));
	ck_assert_int_eq(ikev2_state(sa), IKEV2_INIT_DONE);
	ikev2_free(sa);
	v2p_free(&p);
}
END_TEST

START_TEST(no_proposal)
{
	t_setup();
	ikev2_conf_parse_ike(&T_conf, "aes256-sha384-ecp384", (char[200]){0}, 200);
	struct v2peer p;
	v2p_init(&p);
	struct ikev2_sa *sa = ikev2_new(&T_conf, &T_cbs, &T_local, &T_peer, 0);
	ck_assert(!sa_init(sa, &p));
	ck_assert_uint_eq(p.notify, 14);
	ck_assert_int_eq(ikev2_state(sa), IKEV2_DEAD);
	ck_assert_str_eq(ikev2_cause(sa), "ike.v2.no-proposal");
	ikev2_free(sa);
	v2p_free(&p);
}
END_TEST

/* Up with EAP, the verdict given inside the callback. */
static struct ikev2_sa *up(struct v2peer *p)
{
	struct ikev2_sa *sa = ikev2_new(&T_conf, &T_cbs, &T_local, &T_peer, 0);
	T_sa = sa;
	ck_assert(sa_init(sa, p));
	auth_first(sa, p);
	ck_assert_ptr_nonnull(eap_run(sa, p, "s3cret"));
	eap_finish(sa, p);
	ck_assert_int_eq(ikev2_state(sa), IKEV2_ESTABLISHED);
	return sa;
}

/* The keys line of an SA (Wireshark's ikev2_decryption_table form) read back by the
 * capture decoder opens the responder's IKE_AUTH answer and the initiator's request, with
 * AES-CBC and HMAC and with AES-GCM; the names are the ones Wireshark's table takes. */
static void keys_line_case(uint16_t encr, uint16_t bits, uint16_t integ, const char *names)
{
	t_setup();
	struct v2peer p;
	v2p_init(&p);
	p.encr = encr;
	p.keybits = bits;
	p.integ = integ;
	if (integ == IKE2_INTEG_HMAC_SHA1_96)
		p.prf = IKE2_PRF_HMAC_SHA1; /* the policy pairs integrity and PRF */
	struct ikev2_sa *sa = ikev2_new(&T_conf, &T_cbs, &T_local, &T_peer, 0);
	T_sa = sa;
	char line[1024];
	ck_assert_uint_eq(ikev2_keys_line(sa, false, line, sizeof line), 0); /* no keys yet */
	ck_assert(sa_init(sa, &p));
	size_t n = ikev2_keys_line(sa, false, line, sizeof line);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(strlen(line), n);
	ck_assert_uint_eq(ikev2_keys_line(sa, false, line, n - 1), 0); /* too small: nothing */
	n = ikev2_keys_line(sa, false, line, sizeof line);
	ck_assert_ptr_nonnull(strstr(line, names));
	ck_assert_uint_eq(ikev2_keys_line(sa, true, line + n, sizeof line - n), 0); /* no old SA */
	auth_first(sa, &p);
	char err[200];
	struct ike_keys *ks = ike_keys_parse("line", line, n, err, sizeof err);
	ck_assert_msg(ks != NULL, "%s", err);
	ck_assert_uint_eq(ike_keys_count_v2(ks), 1);
	/* the request and the answer: both directions' keys */
	const uint8_t *msgs[2] = {T_out, T.buf[T.n - 1]};
	size_t lens[2] = {T_outlen, T.len[T.n - 1]};
	for (int i = 0; i < 2; i++) {
		struct ike_msg m;
		struct diag_err de;
		ck_assert_int_eq(ike_decode(msgs[i], lens[i], &m, &de), 0);
		static uint8_t pt[8192];
		size_t pl = 0;
		ck_assert_int_eq(ike2_decrypt(ks, msgs[i], lens[i], &m, pt, sizeof pt, &pl, &de), 1);
		struct ike_msg inner;
		ck_assert_int_eq(ike_decode(pt, pl, &inner, &de), 0);
		bool idr = false, idi = false;
		for (unsigned j = 0; j < inner.npl; j++) {
			idr |= inner.pl[j].type == IKE2_PL_IDR;
			idi |= inner.pl[j].type == IKE2_PL_IDI;
		}
		ck_assert(i ? idr : idi);
		/* a flipped byte of the ciphertext is an integrity failure, not a wrong answer */
		static uint8_t bad[8192];
		memcpy(bad, msgs[i], lens[i]);
		bad[lens[i] - 20] ^= 1;
		ck_assert_int_eq(ike_decode(bad, lens[i], &m, &de), 0);
		ck_assert_int_eq(ike2_decrypt(ks, bad, lens[i], &m, pt, sizeof pt, &pl, &de), -1);
	}
	ike_keys_free(ks);
	ikev2_free(sa);
	v2p_free(&p);
}

START_TEST(keys_line_decrypts)
{
	keys_line_case(IKE2_ENCR_AES_CBC, 256, IKE2_INTEG_HMAC_SHA2_256_128,
	               ",\"AES-CBC-256 [RFC3602]\",");
	keys_line_case(IKE2_ENCR_AES_CBC, 128, IKE2_INTEG_HMAC_SHA1_96,
	               "\"HMAC_SHA1_96 [RFC2404]\"\n");
	keys_line_case(IKE2_ENCR_AES_GCM_16, 256, 0,
	               ",\"AES-GCM-256 with 16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\"\n");
}
END_TEST

/* With a certificate, the CAs above it follow it as further CERT payloads, in order,
 * within IKEV2_CHAIN_MAX and IKEV2_CERTS_TOTAL. */
START_TEST(cert_chain_sent)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	ck_assert_ptr_nonnull(k);
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	char *pem;
	long pl = BIO_get_mem_data(b, &pem);
	struct ike_privkey *pk = ike_privkey_from_pem(pem, (size_t)pl);
	ck_assert_ptr_nonnull(pk);
	static uint8_t leaf[900], ca[IKEV2_CHAIN_MAX + 2][1500];
	v2p_fill(leaf, sizeof leaf, 1);
	for (int i = 0; i < IKEV2_CHAIN_MAX + 2; i++)
		v2p_fill(ca[i], sizeof ca[i], (uint8_t)(10 + i));
	/* n CAs offered, the count the client must see */
	static const struct { size_t n, len, want; } cases[] = {
		{0, 1000, 0}, {1, 1000, 1}, {2, 1000, 2},
		{IKEV2_CHAIN_MAX, 1000, IKEV2_CHAIN_MAX},
		/* within the byte budget: 900 + 5 * 1500 > 8192 stops at the fifth */
		{IKEV2_CHAIN_MAX, 1500, (IKEV2_CERTS_TOTAL - 900) / 1500 < IKEV2_CHAIN_MAX
		                        ? (IKEV2_CERTS_TOTAL - 900) / 1500 : IKEV2_CHAIN_MAX},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		t_setup();
		T_conf.server_auth = IKEV2_SAUTH_CERT;
		T_conf.key = pk;
		T_conf.cert = leaf;
		T_conf.cert_len = sizeof leaf;
		T_conf.fragmentation = false; /* the whole answer in one datagram to count */
		for (size_t i = 0; i < cases[c].n; i++) {
			T_conf.chain[i] = ca[i];
			T_conf.chain_len[i] = cases[c].len;
		}
		T_conf.n_chain = cases[c].n;
		struct v2peer p;
		v2p_init(&p);
		struct ikev2_sa *sa = ikev2_new(&T_conf, &T_cbs, &T_local, &T_peer, 0);
		T_sa = sa;
		ck_assert(sa_init(sa, &p));
		auth_first(sa, &p);
		size_t seen = 0;
		bool leaf_first = false;
		for (unsigned i = 0; i < p.m->npl; i++) {
			const struct ike_payload *x = &p.m->pl[i];
			if (x->type != IKE2_PL_CERT)
				continue;
			ck_assert_uint_eq(x->id_type, 4); /* X.509 signature */
			if (seen == 0) {
				leaf_first = x->data_len == sizeof leaf && !memcmp(x->data, leaf, sizeof leaf);
			} else {
				ck_assert_uint_eq(x->data_len, cases[c].len);
				ck_assert_mem_eq(x->data, ca[seen - 1], cases[c].len);
			}
			seen++;
		}
		ck_assert(leaf_first);
		ck_assert_uint_eq(seen, 1 + cases[c].want);
		ikev2_free(sa);
		v2p_free(&p);
	}
	ike_privkey_free(pk);
	BIO_free(b);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(fragments_both_ways)
{
	t_setup();
	T_conf.frag_size = 120; /* our answers in fragments */
	struct v2peer p;
	v2p_init(&p);
	p.encr = IKE2_ENCR_AES_GCM_16;
	p.keybits = 256;
	p.integ = 0;
	struct ikev2_sa *sa = ikev2_new(&T_conf, &T_cbs, &T_local, &T_peer, 0);
	T_sa = sa;
	ck_assert(sa_init(sa, &p));
	/* IKE_AUTH 1 in three fragments, out of order */
	struct ike_msg *m = auth_begin(&p);
	struct ike_payload *id = ike_add_payload(m, IKE2_PL_IDI, IDI + 4, 4);
	id->id_type = 1;
	uint8_t pad[300];
	v2p_fill(pad, sizeof pad, 3);
	ike_add_payload(m, IKE2_PL_V, pad, sizeof pad); /* a long vendor ID to split */
	size_t n = ike_encode(m, p.tx, sizeof p.tx) - 28;
	uint8_t inner[1024];
	memcpy(inner, p.tx + 28, n);
	uint8_t first = p.tx[16];
	size_t third = n / 3 + 1;
	static uint8_t f[3][1024];
	size_t fl[3];
	for (int i = 0; i < 3; i++) {
		size_t take = i < 2 ? third : n - 2 * third;
		fl[i] = v2p_seal(&p, IKE2_EXCH_AUTH, m->msgid, false, i ? 0 : first, inner + i * third,
		                 take, (uint16_t)(i + 1), 3, f[i], sizeof f[i]);
		ck_assert_uint_gt(fl[i], 0);
	}
	int before = T.n;
	size_t rl;
	ck_assert_ptr_null(feed(sa, f[2], fl[2], 0, &rl));
	ck_assert_ptr_null(feed(sa, f[0], fl[0], 0, &rl));
	/* a fragment that does not verify is dropped, the others stay */
	f[1][fl[1] - 1] ^= 1;
	ck_assert_ptr_null(feed(sa, f[1], fl[1], 0, &rl));
	f[1][fl[1] - 1] ^= 1;
	feed(sa, f[1], fl[1], 0, &rl);
	/* the answer (IDr, AUTH, EAP) left in fragments of at most 120 bytes */
	ck_assert_int_gt(T.n - before, 1);
	for (int i = before; i < T.n; i++) {
		ck_assert_uint_le(T.len[i], 120);
		ck_assert_uint_eq(T.buf[i][16], IKE2_PL_SKF);
	}
	ck_assert_int_eq(ikev2_state(sa), IKEV2_EAP);
	ikev2_free(sa);
	v2p_free(&p);
}
END_TEST

/* A fragment size that leaves less than a cipher block for payload bytes (on UDP 4500,
 * where the marker takes four more) is no reason to fragment, nor to divide by zero. */
START_TEST(tiny_frag_size_on_4500)
{
	for (size_t fs = 96; fs <= 130; fs++) {
		t_setup();
		T_conf.frag_size = fs;
		struct v2peer p;
		v2p_init(&p);
		struct ikev2_addr l4500 = T_local, p4500 = T_peer;
		l4500.port = p4500.port = 4500;
		struct ikev2_sa *sa = ikev2_new(&T_conf, &T_cbs, &l4500, &p4500, 0);
		T_sa = sa;
		uint8_t msg[4096];
		size_t n = v2p_init_req(&p, msg, sizeof msg);
		ikev2_input(sa, msg, n, &l4500, &p4500, 0);
		ck_assert(v2p_init_resp(&p, T.buf[T.n - 1], T.len[T.n - 1]));
		struct ike_msg *m = auth_begin(&p);
		struct ike_payload *id = ike_add_payload(m, IKE2_PL_IDI, IDI + 4, 4);
		id->id_type = 1;
		n = v2p_request(&p, m, msg, sizeof msg);
		int before = T.n;
		ikev2_input(sa, msg, n, &l4500, &p4500, 0);
		ck_assert_int_gt(T.n, before);
		ck_assert_int_eq(ikev2_state(sa), IKEV2_EAP);
		ikev2_free(sa);
		v2p_free(&p);
	}
}
END_TEST

START_TEST(rekey_child_and_delete)
{
	t_setup();
	struct v2peer p;
	v2p_init(&p);
	struct ikev2_sa *sa = up(&p);
	uint32_t old_in = T.child.spi_in;
	/* CREATE_CHILD_SA: N(REKEY_SA), SA, Ni, TSi, TSr */
	static const uint8_t spi[4] = {0xc1, 0, 0, 2}, oldspi[4] = {0xc1, 0, 0, 1};
	static const uint8_t vip[4] = {10, 99, 0, 7}, a0[4] = {0}, a1[4] = {255, 255, 255, 255};
	uint8_t ni[32];
	v2p_fill(ni, 32, 99);
	struct ike_msg m;
	ike_msg_init(&m, 2, IKE2_EXCH_CREATE_CHILD_SA, IKE2_FLAG_I, p.mid++, p.spi_i, p.spi_r);
	struct ike_payload *n = ike_add_payload(&m, IKE2_PL_N, NULL, 0);
	n->notify = 16393;
	n->protocol = 3;
	n->spi = oldspi;
	n->spi_size = 4;
	struct ike_payload *s = ike_add_payload(&m, IKE2_PL_SA, NULL, 0);
	struct ike_proposal *pr = ike_add_proposal(&m, s, 1, 3, spi, 4);
	ike_add_transform(&m, pr, 1, IKE2_ENCR_AES_GCM_16);
	ike_add_attr(&m, 14, true, 128, NULL, 0);
	ike_add_transform(&m, pr, 5, 0);
	ike_add_payload(&m, IKE2_PL_NONCE, ni, 32);
	for (int t = 0; t < 2; t++) {
		struct ike_payload *ts = ike_add_payload(&m, t ? IKE2_PL_TSR : IKE2_PL_TSI, NULL, 0);
		ts->ts_num = 1;
		struct ike_ts *x = &m.ts[m.nts++];
		memset(x, 0, sizeof *x);
		x->type = 7;
		x->end_port = 65535;
		x->start = t ? a0 : vip;
		x->end = t ? a1 : vip;
		x->addr_len = 4;
		ts->ts_count = 1;
	}
	static uint8_t out[4096];
	size_t ol = v2p_request(&p, &m, out, sizeof out), rl;
	const uint8_t *r = feed(sa, out, ol, 0, &rl);
	ck_assert_ptr_nonnull(r);
	ck_assert(v2p_open(&p, r, rl));
	ck_assert_ptr_nonnull(v2p_find(&p, IKE2_PL_SA));
	ck_assert_ptr_nonnull(v2p_find(&p, IKE2_PL_NONCE));
	ck_assert_int_eq(T.child_up, 2);
	ck_assert_uint_eq(T.child.spi_out, 0xc1000002);
	ck_assert_uint_eq(T.child.in.enc, ESPE_AES_GCM);
	ck_assert_uint_eq(T.child.in.eklen, 20);
	/* the new keys: prf+(SK_d, Ni | Nr) of this exchange */
	const struct ike_payload *nr = v2p_find(&p, IKE2_PL_NONCE);
	uint8_t km[40];
	struct ike_iov sd[2] = {{ni, 32}, {nr->data, nr->data_len}};
	ck_assert(ike2_prf_plus(p.prf, p.sk_d, p.prf_len, sd, 2, km, 40));
	ck_assert_mem_eq(T.child.in.ekey, km, 20);
	ck_assert_mem_eq(T.child.out.ekey, km + 20, 20);
	/* the peer deletes the old child: our DELETE of its SPI in the answer */
	ike_msg_init(&m, 2, IKE2_EXCH_INFORMATIONAL, IKE2_FLAG_I, p.mid++, p.spi_i, p.spi_r);
	struct ike_payload *d = ike_add_payload(&m, IKE2_PL_D, oldspi, 4);
	d->protocol = 3;
	d->spi_size = 4;
	d->nspi = 1;
	ol = v2p_request(&p, &m, out, sizeof out);
	r = feed(sa, out, ol, 0, &rl);
	ck_assert_ptr_nonnull(r);
	ck_assert(v2p_open(&p, r, rl));
	d = (struct ike_payload *)v2p_find(&p, IKE2_PL_D);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(v2p_get32(d->data), old_in);
	ck_assert_int_eq(T.child_down, 1);
	ck_assert_ptr_null(ikev2_child(sa, old_in));
	/* the same request again: the same answer, no second deletion */
	int before = T.n;
	feed(sa, out, ol, 0, &rl);
	ck_assert_int_eq(T.n, before + 1);
	ck_assert_int_eq(T.child_down, 1);
	/* an empty INFORMATIONAL (liveness check) is answered empty */
	peer_info_answered(sa, &p, 0);
	ck_assert_uint_eq(p.m->npl, 0);
	/* DELETE of the IKE SA */
	ike_msg_init(&m, 2, IKE2_EXCH_INFORMATIONAL, IKE2_FLAG_I, p.mid++, p.spi_i, p.spi_r);
	d = ike_add_payload(&m, IKE2_PL_D, NULL, 0);
	d->protocol = 1;
	ol = v2p_request(&p, &m, out, sizeof out);
	ck_assert_ptr_nonnull(feed(sa, out, ol, 0, &rl));
	ck_assert_int_eq(ikev2_state(sa), IKEV2_DEAD);
	ck_assert_str_eq(ikev2_cause(sa), "ike.v2.deleted-by-peer");
	ikev2_free(sa);
	v2p_free(&p);
}
END_TEST

/* ---- per-call scratch: what outlives a call is the SA's own ---------------------------- */

/* A retransmitted request is answered with exactly the reply it had, also when that
 * reply is shorter than the one before it (kept in the same buffer). */
START_TEST(retransmission_after_shorter_reply)
{
	t_setup();
	struct v2peer p;
	v2p_init(&p);
	struct ikev2_sa *sa = ikev2_new(&T_conf, &T_cbs, &T_local, &T_peer, 0);
	T_sa = sa;
	ck_assert(sa_init(sa, &p));
	auth_first(sa, &p);
	size_t first_len = T.len[T.n - 1];
	/* the EAP Identity response: the MS-CHAPv2 Challenge comes back, shorter than the
	 * answer with IDr, AUTH and the EAP Identity request */
	uint8_t e[10] = {2, v2p_find(&p, IKE2_PL_EAP)->eap_id, 0, 10, 1, 'a', 'l', 'i', 'c', 'e'};
	struct ike_msg *m = auth_begin(&p);
	ike_add_payload(m, IKE2_PL_EAP, e, 10);
	ck_assert_ptr_nonnull(auth_send(sa, &p, m, 0));
	size_t reply_len = T.len[T.n - 1];
	ck_assert_uint_lt(reply_len, first_len);
	uint8_t reply[9400];
	memcpy(reply, T.buf[T.n - 1], reply_len);
	size_t rl;
	const uint8_t *r = feed(sa, T_out, T_outlen, 1, &rl);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(rl, reply_len);
	ck_assert_mem_eq(r, reply, reply_len);
	ck_assert(v2p_open(&p, r, rl));
	ck_assert_uint_eq(v2p_find(&p, IKE2_PL_EAP)->eap_type, 26);
	ikev2_free(sa);
	v2p_free(&p);
}
END_TEST

/* An SA waiting for its verdict while another SA runs its whole exchange: the verdict,
 * given afterwards, finds everything it needs in its own SA. */
START_TEST(verdict_after_another_sa)
{
	t_setup();
	T.answer_now = false;
	struct v2peer a, b;
	v2p_init(&a);
	v2p_init(&b);
	v2p_fill(b.spi_i, 8, 0x55);
	v2p_fill(b.ni, 32, 0x66);
	struct ikev2_sa *sa = ikev2_new(&T_conf, &T_cbs, &T_local, &T_peer, 0);
	T_sa = sa;
	ck_assert(sa_init(sa, &a));
	auth_first(sa, &a);
	ck_assert_ptr_null(eap_run(sa, &a, "s3cret"));
	ck_assert_int_eq(ikev2_state(sa), IKEV2_AUTHORIZING);
	uint8_t auth_ch[16], peer_ch[16], nt[24];
	memcpy(auth_ch, T_auth_ch, 16), memcpy(peer_ch, T_peer_ch, 16), memcpy(nt, T_nt, 24);
	/* another SA, up and answering a liveness check meanwhile */
	T.answer_now = true;
	struct ikev2_sa *sb = up(&b);
	peer_info_answered(sb, &b, 0);
	/* the first SA's verdict */
	memcpy(T_auth_ch, auth_ch, 16), memcpy(T_peer_ch, peer_ch, 16), memcpy(T_nt, nt, 24);
	T_sa = sa;
	int sent = T.n;
	struct ikev2_verdict v = {.accept = true, .addr = {10, 99, 0, 42}};
	ck_assert_int_eq(ikev2_authorize_done(sa, &v, 5), 0);
	ck_assert_int_eq(T.n, sent + 1);
	ck_assert(v2p_open(&a, T.buf[T.n - 1], T.len[T.n - 1]));
	eap_finish(sa, &a);
	ck_assert_int_eq(ikev2_state(sa), IKEV2_ESTABLISHED);
	ck_assert_int_eq(ikev2_state(sb), IKEV2_ESTABLISHED);
	const struct ike_payload *cp = v2p_find(&a, IKE2_PL_CP);
	ck_assert_ptr_nonnull(cp);
	ck_assert_mem_eq(a.m->attrs[cp->attr_first].val, "\x0a\x63\x00\x2a", 4);
	ikev2_free(sb);
	ikev2_free(sa);
	v2p_free(&a);
	v2p_free(&b);
}
END_TEST

/* The owner deletes an older SA from inside the call of another SA (its question for a
 * verdict): the older SA's DELETE goes out under its own keys and the other SA's answer
 * and exchange go on. */
START_TEST(delete_from_inside_another_call)
{
	t_setup();
	struct v2peer a, b;
	v2p_init(&a);
	v2p_init(&b);
	v2p_fill(b.spi_i, 8, 0x55);
	v2p_fill(b.ni, 32, 0x66);
	struct ikev2_sa *old = up(&a);
	struct ikev2_sa *sa = ikev2_new(&T_conf, &T_cbs, &T_local, &T_peer, 0);
	T_sa = sa;
	ck_assert(sa_init(sa, &b));
	auth_first(sa, &b);
	T_delete_on_ask = old;
	ck_assert_ptr_nonnull(eap_run(sa, &b, "s3cret"));
	ck_assert_ptr_null(T_delete_on_ask);
	ck_assert_int_eq(ikev2_state(old), IKEV2_DEAD);
	/* the datagram before the last (the EAP Success request) is the older SA's DELETE */
	ck_assert_int_ge(T.n, 2);
	ck_assert(v2p_open(&a, T.buf[T.n - 2], T.len[T.n - 2]));
	const struct ike_payload *d = v2p_find(&a, IKE2_PL_D);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->protocol, 1);
	eap_finish(sa, &b);
	ck_assert_int_eq(ikev2_state(sa), IKEV2_ESTABLISHED);
	/* the newer SA answers a liveness check */
	peer_info_answered(sa, &b, 0);
	ck_assert_uint_eq(b.m->npl, 0);
	ikev2_free(old);
	ikev2_free(sa);
	v2p_free(&a);
	v2p_free(&b);
}
END_TEST

START_TEST(dpd_and_timeout)
{
	t_setup();
	T_conf.dpd_ms = 1000;
	T_conf.retransmit_ms = 100;
	T_conf.retransmits = 2;
	struct v2peer p;
	v2p_init(&p);
	struct ikev2_sa *sa = up(&p);
	uint64_t d = ikev2_deadline(sa);
	ck_assert_uint_eq(d, 1000);
	int before = T.n;
	ikev2_tick(sa, d);
	ck_assert_int_eq(T.n, before + 1); /* the liveness check */
	ck_assert_uint_eq(T.buf[T.n - 1][19] & IKE2_FLAG_R, 0); /* a request of ours */
	ck_assert_uint_eq(T.buf[T.n - 1][18], IKE2_EXCH_INFORMATIONAL);
	/* unanswered: retransmitted, then the peer is given up */
	uint64_t now = d;
	for (int i = 0; i < 10 && ikev2_state(sa) != IKEV2_DEAD; i++) {
		now = ikev2_deadline(sa);
		ikev2_tick(sa, now);
	}
	ck_assert_int_eq(ikev2_state(sa), IKEV2_DEAD);
	ck_assert_str_eq(ikev2_cause(sa), "ike.v2.peer-gone");
	ck_assert_int_eq(T.n, before + 3);
	ikev2_free(sa);
	v2p_free(&p);

	/* a negotiation that stops half way ends by its deadline */
	t_setup();
	v2p_init(&p);
	sa = ikev2_new(&T_conf, &T_cbs, &T_local, &T_peer, 0);
	ck_assert(sa_init(sa, &p));
	ck_assert_uint_eq(ikev2_deadline(sa), T_conf.negotiation_ms);
	ikev2_tick(sa, T_conf.negotiation_ms);
	ck_assert_str_eq(ikev2_cause(sa), "ike.phase1-stalled");
	ikev2_free(sa);
	v2p_free(&p);
}
END_TEST

START_TEST(forged_message_does_not_move_peer)
{
	t_setup();
	struct v2peer p;
	v2p_init(&p);
	struct ikev2_sa *sa = up(&p);
	struct ike_msg m;
	ike_msg_init(&m, 2, IKE2_EXCH_INFORMATIONAL, IKE2_FLAG_I, p.mid, p.spi_i, p.spi_r);
	static uint8_t out[1024];
	size_t ol = v2p_request(&p, &m, out, sizeof out);
	out[ol - 1] ^= 1; /* the checksum fails */
	struct ikev2_addr elsewhere = {.family = 4, .ip = {192, 0, 2, 9}, .port = 4500};
	int before = T.n;
	ikev2_input(sa, out, ol, &T_local, &elsewhere, 0);
	ck_assert_int_eq(T.n, before);
	ck_assert_mem_eq(ikev2_peer(sa)->ip, T_peer.ip, 4);
	/* authentic from the new address: the peer moved (a NAT rebinding, MOBIKE) */
	out[ol - 1] ^= 1;
	ikev2_input(sa, out, ol, &T_local, &elsewhere, 0);
	ck_assert_int_eq(T.n, before + 1);
	ck_assert_mem_eq(ikev2_peer(sa)->ip, elsewhere.ip, 4);
	ikev2_free(sa);
	v2p_free(&p);
}
END_TEST

START_TEST(sign_verify_roundtrip)
{
	/* a throwaway RSA key and self-signed certificate */
	EVP_PKEY *k = EVP_RSA_gen(2048);
	ck_assert_ptr_nonnull(k);
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                           (const unsigned char *)"vpn.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_sign(x, k, EVP_sha256());
	unsigned char *der = NULL;
	int dl = i2d_X509(x, &der);
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	char *pem;
	long pl = BIO_get_mem_data(b, &pem);
	struct ike_privkey *pk = ike_privkey_from_pem(pem, (size_t)pl);
	ck_assert_ptr_nonnull(pk);
	uint8_t sig[512], data[100];
	v2p_fill(data, sizeof data, 4);
	for (int pss = 0; pss < 2; pss++) {
		size_t sl = ike_sign(pk, IKE1_HASH_SHA256, pss, data, sizeof data, sig, sizeof sig);
		ck_assert_uint_eq(sl, 256);
		ck_assert(ike_verify_cert(der, (size_t)dl, IKE1_HASH_SHA256, pss, data, sizeof data, sig, sl));
		ck_assert(!ike_verify_cert(der, (size_t)dl, IKE1_HASH_SHA256, !pss, data, sizeof data, sig, sl));
		data[0] ^= 1;
		ck_assert(!ike_verify_cert(der, (size_t)dl, IKE1_HASH_SHA256, pss, data, sizeof data, sig, sl));
		data[0] ^= 1;
	}
	const uint8_t *alg;
	ck_assert_uint_eq(ike_sig_algid(IKE1_HASH_SHA256, false, &alg), 15);
	ck_assert_uint_eq(alg[12], 0x0b); /* sha256WithRSAEncryption */
	ck_assert_uint_eq(ike_sig_algid(IKE1_HASH_SHA256, true, &alg), 67);
	ck_assert_uint_eq(ike_sig_algid(IKE1_HASH_SHA384, true, &alg), 0);
	ck_assert_ptr_null(ike_privkey_from_pem("not a key", 9));
	ike_privkey_free(pk);
	BIO_free(b);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

/* ---- machine certificates ------------------------------------------------------------- */

/* A CA, a client certificate it issued (CN client1.test, DNS:client1.test), another CA and
 * a certificate of the same name from it, an expired one from the first CA: made once. */
static struct {
	EVP_PKEY *ca_key, *other_key, *key;
	X509 *ca, *other, *good, *foreign, *expired;
} MC;

static void mc_make(void)
{
	if (MC.ca)
		return;
	MC.ca_key = cg_key(2048);
	MC.other_key = cg_key(2048);
	MC.key = cg_key(2048);
	ck_assert(MC.ca_key && MC.other_key && MC.key);
	MC.ca = cg_cert(MC.ca_key, "vnet test CA", NULL, NULL, true, NULL, -86400, 86400);
	MC.other = cg_cert(MC.other_key, "another CA", NULL, NULL, true, NULL, -3600, 86400);
	MC.good = cg_cert(MC.key, "client1.test", MC.ca, MC.ca_key, false, "DNS:client1.test",
	                  -3600, 86400);
	MC.foreign = cg_cert(MC.key, "client1.test", MC.other, MC.other_key, false,
	                     "DNS:client1.test", -3600, 86400);
	MC.expired = cg_cert(MC.key, "client1.test", MC.ca, MC.ca_key, false, "DNS:client1.test",
	                     -7200, -3600);
}

/* MC_CUT_CERT: the certificate one byte short; MC_JUNK_CA: a second CERT of 32 bytes that
 * are no certificate after the good one */
enum mc_tamper { MC_NONE = 0, MC_BAD_SIG, MC_RSA_SHA1, MC_NO_CERT, MC_OTHER_ID, MC_CUT_CERT,
                 MC_JUNK_CA };

/* IKE_AUTH of a client with `cert` (and MC.key): IDi its subject DN (or an FQDN it does not
 * name), CERT, AUTH by signature, the child's request; the responder trusts `trust`. The
 * answer is opened into p; returns the SA (the caller frees it). */
static struct ikev2_sa *mc_auth(struct v2peer *p, X509_STORE *trust, X509 *cert,
                                enum mc_tamper how)
{
	T_conf.client_trust = trust;
	struct ikev2_sa *sa = ikev2_new(&T_conf, &T_cbs, &T_local, &T_peer, 0);
	T_sa = sa;
	ck_assert(sa_init(sa, p));
	static uint8_t idi[4 + 512], der[4096], tbs[8192], auth[1024];
	unsigned char *dp = idi + 4;
	int il = how == MC_OTHER_ID ? 0 : i2d_X509_NAME(X509_get_subject_name(cert), &dp);
	if (how == MC_OTHER_ID) {
		memcpy(idi + 4, "client2.test", 12);
		il = 12;
	}
	idi[0] = how == MC_OTHER_ID ? 2 : 9;
	idi[1] = idi[2] = idi[3] = 0;
	unsigned char *cp = der;
	int dl = i2d_X509(cert, &cp);
	ck_assert_int_gt(il, 0);
	ck_assert_int_gt(dl, 0);
	/* <SignedOctets> = RealMessage1 | Nr | prf(SK_pi, IDi') */
	uint8_t maced[64];
	struct ike_iov idv = {idi, 4 + (size_t)il};
	ck_assert(ike2_prf(p->prf, p->sk_pi, p->prf_len, &idv, 1, maced));
	size_t tl = 0;
	memcpy(tbs, p->init_req, p->init_req_len);
	tl += p->init_req_len;
	memcpy(tbs + tl, p->nr, p->nr_len);
	tl += p->nr_len;
	memcpy(tbs + tl, maced, p->prf_len);
	tl += p->prf_len;
	struct ike_privkey *pk = ike_privkey_from_evp(MC.key);
	ck_assert_ptr_nonnull(pk);
	size_t al = 0;
	uint8_t method = 14;
	if (how == MC_RSA_SHA1) {
		method = 1;
		al = ike_sign(pk, IKE1_HASH_SHA1, false, tbs, tl, auth, sizeof auth);
	} else {
		const uint8_t *alg;
		size_t gl = ike_sig_algid(IKE1_HASH_SHA256, false, &alg);
		auth[0] = (uint8_t)gl;
		memcpy(auth + 1, alg, gl);
		al = 1 + gl;
		size_t sl = ike_sign(pk, IKE1_HASH_SHA256, false, tbs, tl, auth + al, sizeof auth - al);
		ck_assert_uint_gt(sl, 0);
		al += sl;
	}
	ike_privkey_free(pk);
	if (how == MC_BAD_SIG)
		auth[al - 7] ^= 0x10;
	struct ike_msg *m = auth_begin(p);
	struct ike_payload *id = ike_add_payload(m, IKE2_PL_IDI, idi + 4, (size_t)il);
	id->id_type = idi[0];
	if (how != MC_NO_CERT) {
		size_t cl = how == MC_CUT_CERT ? (size_t)dl - 1 : (size_t)dl;
		struct ike_payload *c = ike_add_payload(m, IKE2_PL_CERT, der, cl);
		c->id_type = 4;
	}
	if (how == MC_JUNK_CA) {
		static const uint8_t junk[32] = {0x30, 0x82, 0x01, 0x00, 0x02, 0x01};
		struct ike_payload *c = ike_add_payload(m, IKE2_PL_CERT, junk, sizeof junk);
		c->id_type = 4;
	}
	struct ike_payload *a = ike_add_payload(m, IKE2_PL_AUTH, auth, al);
	a->id_type = method;
	auth_child_req(m);
	ck_assert_ptr_nonnull(auth_send(sa, p, m, 0));
	return sa;
}

/* The answer is AUTHENTICATION_FAILED, the SA ends with `cause`, no verdict was asked. */
static void mc_refused(struct ikev2_sa *sa, struct v2peer *p, const char *cause, int asks)
{
	const struct ike_payload *n = v2p_find(p, IKE2_PL_N);
	ck_assert_ptr_nonnull(n);
	ck_assert_uint_eq(n->notify, 24);
	ck_assert_ptr_null(v2p_find(p, IKE2_PL_AUTH));
	ck_assert_int_eq(ikev2_state(sa), IKEV2_DEAD);
	ck_assert_str_eq(ikev2_cause(sa), cause);
	ck_assert_int_eq(T.asks, asks);
	ck_assert_int_eq(T.ike_up, 0);
}

START_TEST(machine_cert_good)
{
	mc_make();
	X509_STORE *trust = cg_store(MC.ca, NULL);
	for (int sha1 = 0; sha1 < 2; sha1++) {
		t_setup();
		struct v2peer p;
		v2p_init(&p);
		struct ikev2_sa *sa = mc_auth(&p, trust, MC.good, sha1 ? MC_RSA_SHA1 : MC_NONE);
		/* the certificate's name went to the verdict as a machine certificate */
		ck_assert_int_eq(T.asks, 1);
		ck_assert(T.machine_cert);
		ck_assert_str_eq(T.user, "client1.test");
		ck_assert_int_eq(T.cred, PPP_CRED_OK);
		ck_assert_int_eq(ikev2_state(sa), IKEV2_ESTABLISHED);
		ck_assert_str_eq(ikev2_user(sa), "client1.test");
		/* the answer: IDr, AUTH with the server's key, CP with the address, the child */
		const struct ike_payload *idr = v2p_find(&p, IKE2_PL_IDR), *ra = v2p_find(&p, IKE2_PL_AUTH);
		ck_assert_ptr_nonnull(idr);
		ck_assert_ptr_nonnull(ra);
		uint8_t want[64];
		v2p_auth_r(&p, (const uint8_t *)"server-key", 10, idr->body, idr->body_len, want);
		ck_assert_mem_eq(ra->data, want, p.prf_len);
		ck_assert_ptr_nonnull(v2p_find(&p, IKE2_PL_CP));
		ck_assert_int_eq(T.child_up, 1);
		ck_assert_uint_eq(T.child.vip[0], 10);
		ck_assert_uint_eq(T.child.vip[3], 7);
		ikev2_free(sa);
		v2p_free(&p);
	}
	/* the owner's refusal: AUTHENTICATION_FAILED with its cause */
	t_setup();
	T.accept = false;
	T.cause = "policy.auth-method";
	struct v2peer p;
	v2p_init(&p);
	struct ikev2_sa *sa = mc_auth(&p, trust, MC.good, MC_NONE);
	mc_refused(sa, &p, "policy.auth-method", 1);
	ikev2_free(sa);
	v2p_free(&p);
	X509_STORE_free(trust);
}
END_TEST

START_TEST(machine_cert_refused)
{
	mc_make();
	X509_STORE *trust = cg_store(MC.ca, NULL);
	static const struct {
		int cert;              /* 0 good, 1 another CA's, 2 expired */
		enum mc_tamper how;
		bool no_trust;
		const char *cause;
	} cases[] = {
		{1, MC_NONE, false, "ike.cert.client-untrusted"},
		{2, MC_NONE, false, "ike.cert.client-untrusted"},
		{0, MC_BAD_SIG, false, "ike.cert.bad-signature"},
		{0, MC_NO_CERT, false, "ike.cert.client-none"},
		{0, MC_OTHER_ID, false, "ike.invalid-id"},
		{0, MC_CUT_CERT, false, "ike.cert.client-untrusted"}, /* not one whole certificate */
		{0, MC_JUNK_CA, false, "ike.cert.client-untrusted"},  /* the second is none */
		{0, MC_NONE, true, "ike.v2.auth-failed"}, /* no CAs configured: not taken */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		t_setup();
		struct v2peer p;
		v2p_init(&p);
		X509 *c = cases[i].cert == 1 ? MC.foreign : cases[i].cert == 2 ? MC.expired : MC.good;
		struct ikev2_sa *sa = mc_auth(&p, cases[i].no_trust ? NULL : trust, c, cases[i].how);
		mc_refused(sa, &p, cases[i].cause, 0);
		ikev2_free(sa);
		v2p_free(&p);
	}
	/* the expired certificate verifies at a time within its validity (conf.cert_time) */
	t_setup();
	T_conf.cert_time = (int64_t)time(NULL) - 5400;
	struct v2peer p;
	v2p_init(&p);
	struct ikev2_sa *sa = mc_auth(&p, trust, MC.expired, MC_NONE);
	ck_assert_int_eq(ikev2_state(sa), IKEV2_ESTABLISHED);
	ikev2_free(sa);
	v2p_free(&p);
	X509_STORE_free(trust);
}
END_TEST

/* ---- our own rekey of a child (CREATE_CHILD_SA as initiator) --------------------------- */

/* Seal m as the original initiator's response to the responder's request m->msgid. */
static size_t peer_response(struct v2peer *p, struct ike_msg *m, uint8_t *out, size_t cap)
{
	size_t n = ike_encode(m, p->tx, sizeof p->tx);
	return n ? v2p_seal(p, m->exchange, m->msgid, true, p->tx[16], p->tx + 28, n - 28, 0, 0,
	                    out, cap) : 0;
}

/* The payloads of a child SA exchange: [N(REKEY_SA) of old], SA (AES-CBC-256 and
 * HMAC-SHA1-96, SPI spi), the nonce, TSi (the client's address), TSr (anything). */
static void child_payloads(struct ike_msg *m, const uint8_t *old, const uint8_t spi[4],
                           const uint8_t *nonce, size_t nl, bool initiator_ts)
{
	static const uint8_t vip[4] = {10, 99, 0, 7}, a0[4] = {0}, a1[4] = {255, 255, 255, 255};
	if (old) {
		struct ike_payload *n = ike_add_payload(m, IKE2_PL_N, NULL, 0);
		n->notify = 16393;
		n->protocol = 3;
		n->spi = old;
		n->spi_size = 4;
	}
	struct ike_payload *s = ike_add_payload(m, IKE2_PL_SA, NULL, 0);
	struct ike_proposal *pr = ike_add_proposal(m, s, 1, 3, spi, 4);
	ike_add_transform(m, pr, 1, IKE2_ENCR_AES_CBC);
	ike_add_attr(m, 14, true, 256, NULL, 0);
	ike_add_transform(m, pr, 3, IKE2_INTEG_HMAC_SHA1_96);
	ike_add_transform(m, pr, 5, 0);
	ike_add_payload(m, IKE2_PL_NONCE, nonce, nl);
	for (int t = 0; t < 2; t++) {
		/* TSi is the initiator's side: the client's address when the client asks */
		bool client_side = initiator_ts ? t == 0 : t == 1;
		struct ike_payload *ts = ike_add_payload(m, t ? IKE2_PL_TSR : IKE2_PL_TSI, NULL, 0);
		ts->ts_num = 1;
		struct ike_ts *x = &m->ts[m->nts++];
		memset(x, 0, sizeof *x);
		x->type = 7;
		x->end_port = 65535;
		x->start = client_side ? vip : a0;
		x->end = client_side ? vip : a1;
		x->addr_len = 4;
		ts->ts_count = 1;
	}
}

/* The responder's rekey request, opened: checks it names the child `old_in` and returns
 * its message ID, its new SPI and its nonce. */
static uint32_t our_rekey_req(struct ikev2_sa *sa, struct v2peer *p, uint64_t at, uint32_t old_in,
                              uint32_t *new_spi, uint8_t ni[32])
{
	int before = T.n;
	ikev2_tick(sa, at);
	ck_assert_int_eq(T.n, before + 1);
	ck_assert(v2p_open(p, T.buf[T.n - 1], T.len[T.n - 1]));
	ck_assert_uint_eq(p->m->exchange, IKE2_EXCH_CREATE_CHILD_SA);
	ck_assert_uint_eq(p->m->flags & (IKE2_FLAG_I | IKE2_FLAG_R), 0); /* a request, ours */
	const struct ike_payload *n = v2p_find(p, IKE2_PL_N), *nn = v2p_find(p, IKE2_PL_NONCE);
	const struct ike_payload *sp = v2p_find(p, IKE2_PL_SA);
	ck_assert_ptr_nonnull(n);
	ck_assert_uint_eq(n->notify, 16393);
	ck_assert_uint_eq(n->spi_size, 4);
	ck_assert_uint_eq(v2p_get32(n->spi), old_in);
	ck_assert_ptr_nonnull(nn);
	ck_assert_uint_eq(nn->data_len, 32);
	memcpy(ni, nn->data, 32);
	ck_assert_ptr_nonnull(sp);
	ck_assert_uint_ge(p->m->nprops, 1);
	ck_assert_uint_eq(p->m->props[0].spi_size, 4);
	*new_spi = v2p_get32(p->m->props[0].spi);
	return p->m->msgid;
}

/* The SPIs of the DELETE payloads (ESP) in the responder's messages from index `from`. */
static size_t deleted_spis(struct v2peer *p, int from, uint32_t *out, size_t cap)
{
	size_t n = 0;
	for (int i = from; i < T.n; i++) {
		if (!v2p_open(p, T.buf[i], T.len[i]))
			continue;
		for (unsigned k = 0; k < p->m->npl; k++) {
			const struct ike_payload *d = &p->m->pl[k];
			if (d->type != IKE2_PL_D || d->protocol != 3 || d->spi_size != 4)
				continue;
			for (unsigned j = 0; j < d->nspi && n < cap; j++)
				out[n++] = v2p_get32(d->data + 4 * j);
		}
	}
	return n;
}

START_TEST(our_child_rekey)
{
	t_setup();
	T_conf.child_rekey = true;
	T_conf.child_life_s = 100;
	T_conf.dpd_ms = 0; /* no liveness check in between */
	struct v2peer p;
	v2p_init(&p);
	struct ikev2_sa *sa = up(&p);
	uint32_t old_in = T.child.spi_in;
	/* due between 80 and 90 % of the lifetime, not before */
	uint64_t d = ikev2_deadline(sa);
	ck_assert_uint_ge(d, 80000);
	ck_assert_uint_le(d, 90000);
	int before = T.n;
	ikev2_tick(sa, 79000);
	ck_assert_int_eq(T.n, before);
	uint32_t new_in;
	uint8_t ni[32];
	uint32_t mid = our_rekey_req(sa, &p, 90000, old_in, &new_in, ni);
	ck_assert_uint_ne(new_in, old_in);
	/* the client's answer: SA with its SPI, Nr, TSi, TSr */
	static const uint8_t spi[4] = {0xc1, 0, 0, 3};
	uint8_t nr[32];
	v2p_fill(nr, 32, 55);
	struct ike_msg m;
	ike_msg_init(&m, 2, IKE2_EXCH_CREATE_CHILD_SA, IKE2_FLAG_I | IKE2_FLAG_R, mid, p.spi_i,
	             p.spi_r);
	child_payloads(&m, NULL, spi, nr, 32, false);
	static uint8_t out[4096];
	size_t ol = peer_response(&p, &m, out, sizeof out);
	ck_assert_uint_gt(ol, 0);
	before = T.n;
	ikev2_input(sa, out, ol, &T_local, &T_peer, 90001);
	ck_assert_int_eq(T.child_up, 2);
	ck_assert_uint_eq(T.child.spi_in, new_in);
	ck_assert_uint_eq(T.child.spi_out, 0xc1000003);
	ck_assert_ptr_nonnull(ikev2_child(sa, new_in));
	/* keys: prf+(SK_d, Ni | Nr), we the initiator of this exchange: ours out first */
	uint8_t km[2 * (32 + 20)];
	struct ike_iov sd[2] = {{ni, 32}, {nr, 32}};
	ck_assert(ike2_prf_plus(p.prf, p.sk_d, p.prf_len, sd, 2, km, sizeof km));
	ck_assert_uint_eq(T.child.out.eklen, 32);
	ck_assert_mem_eq(T.child.out.ekey, km, 32);
	ck_assert_mem_eq(T.child.out.akey, km + 32, 20);
	ck_assert_mem_eq(T.child.in.ekey, km + 52, 32);
	ck_assert_mem_eq(T.child.in.akey, km + 84, 20);
	/* the old child goes: our DELETE of it */
	uint32_t del[4];
	ck_assert_uint_eq(deleted_spis(&p, before, del, 4), 1);
	ck_assert_uint_eq(del[0], old_in);
	ck_assert_ptr_null(ikev2_child(sa, old_in));
	ck_assert_int_eq(ikev2_state(sa), IKEV2_ESTABLISHED);
	ikev2_free(sa);
	v2p_free(&p);
}
END_TEST

/* Both sides rekey the same child: the client's CREATE_CHILD_SA crosses ours. The child
 * made with the lowest of the four nonces is deleted by the side that made it (RFC 7296
 * 2.8.1); the client's nonces are set so that it is ours (`we_lose`) or the client's. */
static void collision_case(bool we_lose)
{
	t_setup();
	T_conf.child_rekey = true;
	T_conf.child_life_s = 100;
	T_conf.dpd_ms = 0; /* no liveness check in between */
	struct v2peer p;
	v2p_init(&p);
	struct ikev2_sa *sa = up(&p);
	uint32_t old_in = T.child.spi_in, old_out = T.child.spi_out;
	uint32_t new_in;
	uint8_t ni[32];
	uint32_t mid = our_rekey_req(sa, &p, 90000, old_in, &new_in, ni);
	/* the client's own rekey of the child, before it answers ours */
	uint8_t lo[32], hi[32];
	memset(lo, 0, 32);
	memset(hi, 0xff, 32);
	uint8_t oldspi[4];
	v2p_put32(oldspi, old_out);
	static const uint8_t spi_peer[4] = {0xc1, 0, 0, 4}, spi_ans[4] = {0xc1, 0, 0, 5};
	struct ike_msg m;
	ike_msg_init(&m, 2, IKE2_EXCH_CREATE_CHILD_SA, IKE2_FLAG_I, p.mid++, p.spi_i, p.spi_r);
	child_payloads(&m, oldspi, spi_peer, we_lose ? hi : lo, 32, true);
	static uint8_t out[4096];
	size_t ol = v2p_request(&p, &m, out, sizeof out), rl;
	const uint8_t *r = feed(sa, out, ol, 90001, &rl);
	ck_assert_ptr_nonnull(r);
	ck_assert(v2p_open(&p, r, rl));
	ck_assert_ptr_nonnull(v2p_find(&p, IKE2_PL_SA)); /* the client's rekey is answered */
	const struct ike_payload *srn = v2p_find(&p, IKE2_PL_NONCE);
	ck_assert_ptr_nonnull(srn);
	ck_assert_uint_eq(T.child.spi_out, 0xc1000004); /* the child of the client's exchange */
	uint32_t peer_child = T.child.spi_in;
	/* then its answer to ours */
	ike_msg_init(&m, 2, IKE2_EXCH_CREATE_CHILD_SA, IKE2_FLAG_I | IKE2_FLAG_R, mid, p.spi_i,
	             p.spi_r);
	child_payloads(&m, NULL, spi_ans, we_lose ? lo : hi, 32, false);
	ol = peer_response(&p, &m, out, sizeof out);
	int before = T.n;
	ikev2_input(sa, out, ol, &T_local, &T_peer, 90002);
	uint32_t del[4];
	size_t nd = deleted_spis(&p, before, del, 4);
	if (we_lose) {
		/* the lowest nonce is in our exchange: we delete the child we made, the client's
		 * stands */
		ck_assert_uint_eq(nd, 1);
		ck_assert_uint_eq(del[0], new_in);
		ck_assert_ptr_null(ikev2_child(sa, new_in));
		ck_assert_ptr_nonnull(ikev2_child(sa, peer_child));
	} else {
		/* the lowest nonce is the client's: its child goes by its hand, ours stands, and
		 * the old one, replaced by the client's rekey, is the client's to delete */
		ck_assert_uint_eq(nd, 0);
		ck_assert_ptr_nonnull(ikev2_child(sa, new_in));
		ck_assert_ptr_nonnull(ikev2_child(sa, peer_child));
	}
	ck_assert_int_eq(ikev2_state(sa), IKEV2_ESTABLISHED);
	ikev2_free(sa);
	v2p_free(&p);
}

START_TEST(our_child_rekey_collision)
{
	collision_case(true);
	collision_case(false);
}
END_TEST

/* ---- our own rekey of the IKE SA (RFC 7296 1.3.2, 2.8, 2.8.2) ------------------------- */

/* The IKE SA's lifetime is 1000 s, the children's far longer: the responder rekeys the IKE
 * SA between 800 and 900 s. */
static struct ikev2_sa *ike_rekey_up(struct v2peer *p)
{
	t_setup();
	T_conf.child_rekey = true;
	T_conf.ike_life_s = 1000;
	T_conf.child_life_s = 100000;
	T_conf.dpd_ms = 0; /* no liveness check in between */
	v2p_init(p);
	return up(p);
}

/* SA (one IKE proposal of the peer's suite with spi), the nonce, KE of its group. */
static void ike_rekey_payloads(struct ike_msg *m, const struct v2peer *p, const uint8_t spi[8],
                               const uint8_t *nonce, size_t nl, const uint8_t *ke, size_t kl)
{
	struct ike_payload *s = ike_add_payload(m, IKE2_PL_SA, NULL, 0);
	struct ike_proposal *pr = ike_add_proposal(m, s, 1, 1, spi, 8);
	ike_add_transform(m, pr, 1, p->encr);
	ike_add_attr(m, 14, true, p->keybits, NULL, 0);
	ike_add_transform(m, pr, 2, p->prf);
	ike_add_transform(m, pr, 3, p->integ);
	ike_add_transform(m, pr, 4, p->group);
	ike_add_payload(m, IKE2_PL_NONCE, nonce, nl);
	ike_add_payload(m, IKE2_PL_KE, ke, kl)->group = p->group;
}

/* The responder's rekey request of the IKE SA sent at `at`, opened with the old keys:
 * checks it (a request of the original responder, the SA's suite) and returns its message
 * ID, the new SPI, the nonce and the KE data. */
static uint32_t our_ike_rekey_req(struct ikev2_sa *sa, struct v2peer *p, uint64_t at,
                                  uint8_t spi[8], uint8_t ni[32], uint8_t *ke, size_t *kl)
{
	int before = T.n;
	ikev2_tick(sa, at);
	ck_assert_int_eq(T.n, before + 1);
	ck_assert(v2p_open(p, T.buf[T.n - 1], T.len[T.n - 1]));
	ck_assert_uint_eq(p->m->exchange, IKE2_EXCH_CREATE_CHILD_SA);
	ck_assert_uint_eq(p->m->flags & (IKE2_FLAG_I | IKE2_FLAG_R), 0);
	const struct ike_payload *sp = v2p_find(p, IKE2_PL_SA), *nn = v2p_find(p, IKE2_PL_NONCE);
	const struct ike_payload *k = v2p_find(p, IKE2_PL_KE);
	ck_assert_ptr_null(v2p_find(p, IKE2_PL_TSI));
	ck_assert_ptr_nonnull(sp);
	ck_assert_ptr_nonnull(nn);
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(p->m->nprops, 1);
	const struct ike_proposal *pr = &p->m->props[0];
	ck_assert_uint_eq(pr->protocol, 1);
	ck_assert_uint_eq(pr->spi_size, 8);
	memcpy(spi, pr->spi, 8);
	ck_assert_mem_ne(spi, ikev2_rspi(sa), 8);
	bool encr = false, integ = false, prf = false, dh = false;
	for (unsigned i = 0; i < pr->xf_count; i++) {
		const struct ike_transform *x = &p->m->xforms[pr->xf_first + i];
		encr |= x->type == 1 && x->id == p->encr;
		prf |= x->type == 2 && x->id == p->prf;
		integ |= x->type == 3 && x->id == p->integ;
		dh |= x->type == 4 && x->id == p->group;
	}
	ck_assert(encr && integ && prf && dh);
	ck_assert_uint_eq(nn->data_len, 32);
	memcpy(ni, nn->data, 32);
	ck_assert_uint_eq(k->group, p->group);
	ck_assert_uint_eq(k->data_len, ike_dh_ke_len(p->group));
	memcpy(ke, k->data, k->data_len);
	*kl = k->data_len;
	return p->m->msgid;
}

/* The peer's side of a DH exchange with the KE data `ke`: its own KE and g^ir. */
static size_t peer_dh(const struct v2peer *p, const uint8_t *ke, size_t kl, uint8_t *mine,
                      size_t *ml, uint8_t *gir)
{
	struct ike_dh *dh = ike_dh_new(p->group);
	ck_assert_ptr_nonnull(dh);
	*ml = ike_dh_public(dh, mine, IKE_DH_MAX);
	size_t gl = ike_dh_shared(dh, ke, kl, gir, IKE_DH_MAX);
	ike_dh_free(dh);
	ck_assert_uint_gt(gl, 0);
	return gl;
}

/* The peer's answer to our rekey request mid: SA with its SPI, Nr, KEr. g^ir in gir. */
static size_t ike_rekey_answer_msg(struct v2peer *p, uint32_t mid, const uint8_t spi[8],
                                   const uint8_t *nr, const uint8_t *ke, size_t kl,
                                   uint8_t *gir, size_t *gl, uint8_t *out, size_t cap)
{
	static uint8_t kr[IKE_DH_MAX];
	size_t krl;
	*gl = peer_dh(p, ke, kl, kr, &krl, gir);
	struct ike_msg m;
	ike_msg_init(&m, 2, IKE2_EXCH_CREATE_CHILD_SA, IKE2_FLAG_I | IKE2_FLAG_R, mid, p->spi_i,
	             p->spi_r);
	ike_rekey_payloads(&m, p, spi, nr, 32, kr, krl);
	size_t n = peer_response(p, &m, out, cap);
	ck_assert_uint_gt(n, 0);
	return n;
}

/* The message index `i` of the responder opened with p: its DELETE of an IKE SA? */
static bool is_ike_delete(struct v2peer *p, int i)
{
	return v2p_open(p, T.buf[i], T.len[i]) && p->m->exchange == IKE2_EXCH_INFORMATIONAL &&
	       v2p_find(p, IKE2_PL_D) && v2p_find(p, IKE2_PL_D)->protocol == 1;
}

START_TEST(our_ike_rekey)
{
	struct v2peer p;
	struct ikev2_sa *sa = ike_rekey_up(&p);
	uint32_t child_in = T.child.spi_in;
	struct ikev2_child ch = *ikev2_child(sa, child_in);
	uint8_t old_ours[8], old_peer[8];
	memcpy(old_ours, ikev2_rspi(sa), 8);
	memcpy(old_peer, ikev2_ispi(sa), 8);
	ck_assert(!ikev2_we_initiated(sa));
	/* due between 80 and 90 % of the lifetime, not before */
	uint64_t d = ikev2_deadline(sa);
	ck_assert_uint_ge(d, 800000);
	ck_assert_uint_le(d, 900000);
	int before = T.n;
	ikev2_tick(sa, 799000);
	ck_assert_int_eq(T.n, before);
	uint8_t spi[8], ni[32], ke[IKE_DH_MAX];
	size_t kl;
	uint32_t mid = our_ike_rekey_req(sa, &p, 900000, spi, ni, ke, &kl);
	/* the answer: the client's new SPI, Nr, KEr */
	uint8_t pspi[8], nr[32], gir[IKE_DH_MAX];
	v2p_fill(pspi, 8, 0x71);
	v2p_fill(nr, 32, 0x55);
	size_t gl;
	static uint8_t out[4096];
	size_t ol = ike_rekey_answer_msg(&p, mid, pspi, nr, ke, kl, gir, &gl, out, sizeof out);
	before = T.n;
	ikev2_input(sa, out, ol, &T_local, &T_peer, 900001);
	ck_assert_int_eq(T.rekeyed, 1);
	ck_assert_ptr_nonnull(strstr(T.rekeyed_text, "by us"));
	/* the new SA: we its original initiator, our SPI first */
	ck_assert(ikev2_we_initiated(sa));
	ck_assert_mem_eq(ikev2_rspi(sa), spi, 8);
	ck_assert_mem_eq(ikev2_ispi(sa), pspi, 8);
	ck_assert_mem_eq(ikev2_rspi_old(sa), old_ours, 8);
	uint8_t hdr[28] = {0};
	memcpy(hdr, spi, 8);
	memcpy(hdr + 8, pspi, 8);
	hdr[17] = 0x20;
	hdr[18] = IKE2_EXCH_INFORMATIONAL;
	ck_assert(ikev2_matches(sa, hdr, sizeof hdr));
	/* the children stay, their keys too */
	ck_assert_int_eq(T.child_up, 1);
	ck_assert_int_eq(T.child_down, 0);
	const struct ikev2_child *c2 = ikev2_child(sa, child_in);
	ck_assert_ptr_nonnull(c2);
	ck_assert_mem_eq(c2->in.ekey, ch.in.ekey, sizeof ch.in.ekey);
	ck_assert_mem_eq(c2->out.ekey, ch.out.ekey, sizeof ch.out.ekey);
	/* the old SA is deleted under its own keys (a request of its original responder) */
	ck_assert_int_eq(T.n, before + 1);
	ck_assert(is_ike_delete(&p, T.n - 1));
	ck_assert_uint_eq(p.m->flags & (IKE2_FLAG_I | IKE2_FLAG_R), 0);
	uint32_t dmid = p.m->msgid;
	ck_assert_uint_eq(dmid, mid + 1);
	/* the keys line is the new SA's: SPIi (ours), SPIr (the client's) */
	char line[640], want[40];
	ck_assert_uint_gt(ikev2_keys_line(sa, false, line, sizeof line), 0);
	for (int i = 0; i < 8; i++)
		snprintf(want + 2 * i, 3, "%02x", spi[i]);
	want[16] = ',';
	for (int i = 0; i < 8; i++)
		snprintf(want + 17 + 2 * i, 3, "%02x", pspi[i]);
	ck_assert_mem_eq(line, want, 33);
	/* the client's answer to that DELETE: the old SA is gone */
	struct ike_msg m;
	ike_msg_init(&m, 2, IKE2_EXCH_INFORMATIONAL, IKE2_FLAG_I | IKE2_FLAG_R, dmid, p.spi_i,
	             p.spi_r);
	ol = peer_response(&p, &m, out, sizeof out);
	ikev2_input(sa, out, ol, &T_local, &T_peer, 900002);
	static const uint8_t zero[8];
	ck_assert_mem_eq(ikev2_rspi_old(sa), zero, 8);
	ck_assert_int_eq(ikev2_state(sa), IKEV2_ESTABLISHED);
	/* the client derives the new SA's keys the same way; message IDs start at 0 */
	ck_assert(v2p_rekey(&p, spi, pspi, gir, gl, ni, 32, nr, 32, true));
	peer_info_answered(sa, &p, 900003);
	ck_assert_uint_eq(p.m->msgid, 0);
	peer_info_answered(sa, &p, 900004);
	/* our request under the new keys: message 0, the I flag ours now */
	before = T.n;
	ikev2_child_delete(sa, child_in, "test", 900005);
	ck_assert_int_eq(T.n, before + 1);
	ck_assert(v2p_open(&p, T.buf[T.n - 1], T.len[T.n - 1]));
	ck_assert_uint_eq(p.m->msgid, 0);
	ck_assert_uint_eq(p.m->flags & (IKE2_FLAG_I | IKE2_FLAG_R), IKE2_FLAG_I);
	ck_assert_ptr_nonnull(v2p_find(&p, IKE2_PL_D));
	/* answered, the next one (a liveness check) is message 1 */
	ike_msg_init(&m, 2, IKE2_EXCH_INFORMATIONAL, IKE2_FLAG_R, 0, p.spi_i, p.spi_r);
	ol = peer_response(&p, &m, out, sizeof out);
	ikev2_input(sa, out, ol, &T_local, &T_peer, 900006);
	T_conf.dpd_ms = 1000;
	before = T.n;
	ikev2_tick(sa, 902000);
	ck_assert_int_eq(T.n, before + 1);
	ck_assert(v2p_open(&p, T.buf[T.n - 1], T.len[T.n - 1]));
	ck_assert_uint_eq(p.m->msgid, 1);
	ck_assert_uint_eq(p.m->exchange, IKE2_EXCH_INFORMATIONAL);
	/* the new SA has its own lifetime and its own rekey, at 80-90 % of it */
	d = ikev2_deadline(sa);
	ck_assert_uint_gt(d, 902000);
	ck_assert_int_eq(ikev2_state(sa), IKEV2_ESTABLISHED);
	ikev2_free(sa);
	v2p_free(&p);
}
END_TEST

/* Both sides rekey the IKE SA at once (RFC 7296 2.8.2): the client's CREATE_CHILD_SA
 * crosses ours. The new SA made with the lowest of the four nonces is deleted by its
 * maker; the client's nonces decide whether that is ours (`we_lose`) or the client's. */
static void ike_collision_case(bool we_lose, bool peer_deletes)
{
	struct v2peer p;
	struct ikev2_sa *sa = ike_rekey_up(&p);
	uint32_t child_in = T.child.spi_in;
	uint8_t old_ours[8];
	memcpy(old_ours, ikev2_rspi(sa), 8);
	uint8_t spi[8], ni[32], ke[IKE_DH_MAX];
	size_t kl;
	uint32_t mid = our_ike_rekey_req(sa, &p, 900000, spi, ni, ke, &kl);
	uint8_t lo[32], hi[32];
	memset(lo, 0, 32);
	memset(hi, 0xff, 32);
	/* the client's own rekey of the IKE SA, before it answers ours */
	struct ike_dh *cdh = ike_dh_new(p.group);
	static uint8_t cke[IKE_DH_MAX];
	size_t ckl = ike_dh_public(cdh, cke, sizeof cke);
	uint8_t cspi[8];
	v2p_fill(cspi, 8, 0x91);
	struct ike_msg m;
	uint32_t cmid = p.mid++;
	ike_msg_init(&m, 2, IKE2_EXCH_CREATE_CHILD_SA, IKE2_FLAG_I, cmid, p.spi_i, p.spi_r);
	ike_rekey_payloads(&m, &p, cspi, we_lose ? hi : lo, 32, cke, ckl);
	static uint8_t out[4096];
	size_t ol = v2p_request(&p, &m, out, sizeof out), rl;
	const uint8_t *r = feed(sa, out, ol, 900001, &rl);
	ck_assert_ptr_nonnull(r);
	ck_assert(v2p_open(&p, r, rl)); /* answered normally */
	ck_assert_uint_eq(p.m->nprops, 1);
	uint8_t rspi2[8], nr2[32], gir2[IKE_DH_MAX];
	memcpy(rspi2, p.m->props[0].spi, 8);
	const struct ike_payload *q = v2p_find(&p, IKE2_PL_NONCE);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(q->data_len, 32);
	memcpy(nr2, q->data, 32);
	q = v2p_find(&p, IKE2_PL_KE);
	ck_assert_ptr_nonnull(q);
	size_t gl2 = ike_dh_shared(cdh, q->data, q->data_len, gir2, sizeof gir2);
	ike_dh_free(cdh);
	ck_assert_uint_gt(gl2, 0);
	ck_assert_int_eq(T.rekeyed, 0); /* nothing decided yet */
	ck_assert_mem_eq(ikev2_rspi(sa), old_ours, 8);
	/* then the client's answer to ours */
	uint8_t pspi[8], gir[IKE_DH_MAX];
	v2p_fill(pspi, 8, 0x71);
	size_t gl;
	ol = ike_rekey_answer_msg(&p, mid, pspi, we_lose ? lo : hi, ke, kl, gir, &gl, out,
	                          sizeof out);
	int before = T.n;
	ikev2_input(sa, out, ol, &T_local, &T_peer, 900002);
	ck_assert_int_eq(T.rekeyed, 1);
	ck_assert_ptr_nonnull(ikev2_child(sa, child_in));
	ck_assert_int_eq(ikev2_state(sa), IKEV2_ESTABLISHED);
	ck_assert_int_eq(T.n, before + 1);
	struct v2peer ours = p, theirs = p;
	ck_assert(v2p_rekey(&ours, spi, pspi, gir, gl, ni, 32, we_lose ? lo : hi, 32, true));
	ck_assert(v2p_rekey(&theirs, cspi, rspi2, gir2, gl2, we_lose ? hi : lo, 32, nr2, 32,
	                    false));
	ck_assert_mem_eq(ikev2_rspi_old(sa), old_ours, 8);
	if (we_lose) {
		/* ours goes, deleted by us under its keys; the client's stays, and the old SA
		 * is the client's to delete */
		ck_assert(is_ike_delete(&ours, T.n - 1));
		ck_assert_uint_eq(ours.m->flags & (IKE2_FLAG_I | IKE2_FLAG_R), IKE2_FLAG_I);
		ck_assert(!ikev2_we_initiated(sa));
		ck_assert_mem_eq(ikev2_rspi(sa), rspi2, 8);
		ck_assert_mem_eq(ikev2_ispi(sa), cspi, 8);
		ike_msg_init(&m, 2, IKE2_EXCH_INFORMATIONAL, IKE2_FLAG_I, p.mid++, p.spi_i, p.spi_r);
		ike_add_payload(&m, IKE2_PL_D, NULL, 0)->protocol = 1;
		ol = v2p_request(&p, &m, out, sizeof out);
		ck_assert_ptr_nonnull(feed(sa, out, ol, 900003, &rl));
		static const uint8_t zero[8];
		ck_assert_mem_eq(ikev2_rspi_old(sa), zero, 8);
		peer_info_answered(sa, &theirs, 900004);
		/* our DELETE of our losing SA is a request of that SA: unanswered, it is sent
		 * again after the retransmission time, the SA still found by its SPI */
		ck_assert_mem_eq(ikev2_rspi_lost(sa), spi, 8);
		int del = T.n;
		for (int k = T.n - 1; k >= 0; k--)
			if (is_ike_delete(&ours, k)) {
				del = k;
				break;
			}
		ck_assert_int_lt(del, T.n);
		uint32_t dmid = ours.m->msgid;
		ck_assert_uint_le(ikev2_deadline(sa), 900002 + T_conf.retransmit_ms);
		before = T.n;
		ikev2_tick(sa, 900002 + T_conf.retransmit_ms);
		ck_assert_int_eq(T.n, before + 1);
		ck_assert_uint_eq(T.len[T.n - 1], T.len[del]);
		ck_assert_mem_eq(T.buf[T.n - 1], T.buf[del], T.len[del]);
		/* answered under its keys: over, no more retransmissions, the SPI forgotten */
		ike_msg_init(&m, 2, IKE2_EXCH_INFORMATIONAL, IKE2_FLAG_R, dmid, ours.spi_i,
		             ours.spi_r);
		ol = peer_response(&ours, &m, out, sizeof out);
		ck_assert_uint_gt(ol, 0);
		ck_assert(ikev2_matches(sa, out, ol));
		ikev2_input(sa, out, ol, &T_local, &T_peer, 900002 + T_conf.retransmit_ms + 1);
		ck_assert_mem_eq(ikev2_rspi_lost(sa), zero, 8);
		before = T.n;
		for (unsigned k = 1; k <= 8; k++)
			ikev2_tick(sa, 900002 + ((uint64_t)T_conf.retransmit_ms << k));
		ck_assert_int_eq(T.n, before);
		ck_assert(!ikev2_matches(sa, out, ol));
	} else {
		/* ours stays and deletes the old SA; the client's is its to delete */
		ck_assert(is_ike_delete(&p, T.n - 1));
		ck_assert(ikev2_we_initiated(sa));
		ck_assert_mem_eq(ikev2_rspi(sa), spi, 8);
		ck_assert_mem_eq(ikev2_ispi(sa), pspi, 8);
		peer_info_answered(sa, &ours, 900004);
		/* the client's losing SA stays known until it deletes it: its DELETE, under that
		 * SA's keys and SPIs, gets an answer */
		static const uint8_t zero[8];
		ck_assert_mem_eq(ikev2_rspi_lost(sa), rspi2, 8);
		ike_msg_init(&m, 2, IKE2_EXCH_INFORMATIONAL, IKE2_FLAG_I, theirs.mid, theirs.spi_i,
		             theirs.spi_r);
		ike_add_payload(&m, IKE2_PL_D, NULL, 0)->protocol = 1;
		uint32_t dmid = theirs.mid++;
		ol = v2p_request(&theirs, &m, out, sizeof out);
		ck_assert(ikev2_matches(sa, out, ol));
		if (!peer_deletes) {
			/* a client that never deletes it: forgotten once its retransmissions would
			 * have run out (2 s doubling, 5 times: 126 s) */
			ikev2_tick(sa, 900002 + 100000);
			ck_assert_mem_eq(ikev2_rspi_lost(sa), rspi2, 8);
			ikev2_tick(sa, 900002 + 200000);
			ck_assert_mem_eq(ikev2_rspi_lost(sa), zero, 8);
			ck_assert(!ikev2_matches(sa, out, ol));
		} else {
			r = feed(sa, out, ol, 900005, &rl);
			ck_assert_ptr_nonnull(r);
			ck_assert(v2p_open(&theirs, r, rl));
			ck_assert_uint_eq(theirs.m->msgid, dmid);
			ck_assert_uint_eq(theirs.m->exchange, IKE2_EXCH_INFORMATIONAL);
			ck_assert_uint_eq(theirs.m->flags & (IKE2_FLAG_I | IKE2_FLAG_R), IKE2_FLAG_R);
			ck_assert_mem_eq(ikev2_rspi_lost(sa), zero, 8);
			ck_assert(!ikev2_matches(sa, out, ol));
		}
		peer_info_answered(sa, &ours, 900002 + 200001);
	}
	ck_assert_int_eq(ikev2_state(sa), IKEV2_ESTABLISHED);
	ikev2_free(sa);
	v2p_free(&p);
}

START_TEST(our_ike_rekey_collision)
{
	ike_collision_case(true, true);
	ike_collision_case(false, true);
	ike_collision_case(false, false);
}
END_TEST

/* A refused rekey (NO_PROPOSAL_CHOSEN, TEMPORARY_FAILURE) or none answered leaves the IKE
 * SA as it is until its lifetime ends: no second try, no deletion before. */
static void ike_rekey_refused_case(uint16_t notify)
{
	struct v2peer p;
	struct ikev2_sa *sa = ike_rekey_up(&p);
	uint8_t old_ours[8];
	memcpy(old_ours, ikev2_rspi(sa), 8);
	uint8_t spi[8], ni[32], ke[IKE_DH_MAX];
	size_t kl;
	uint32_t mid = our_ike_rekey_req(sa, &p, 900000, spi, ni, ke, &kl);
	if (notify) {
		struct ike_msg m;
		ike_msg_init(&m, 2, IKE2_EXCH_CREATE_CHILD_SA, IKE2_FLAG_I | IKE2_FLAG_R, mid,
		             p.spi_i, p.spi_r);
		ike_add_payload(&m, IKE2_PL_N, NULL, 0)->notify = notify;
		static uint8_t out[4096];
		size_t ol = peer_response(&p, &m, out, sizeof out);
		int before = T.n;
		ikev2_input(sa, out, ol, &T_local, &T_peer, 900001);
		ck_assert_int_eq(T.n, before); /* no DELETE */
	}
	ck_assert_int_eq(T.rekeyed, 0);
	ck_assert_mem_eq(ikev2_rspi(sa), old_ours, 8);
	/* up to the end of its lifetime: retransmissions of that request at most */
	int before = T.n;
	for (uint64_t t = 901000; t < 1000000; t += 1000) {
		ikev2_tick(sa, t);
		ck_assert_int_eq(ikev2_state(sa), IKEV2_ESTABLISHED);
	}
	for (int i = before; i < T.n; i++) {
		ck_assert(!notify);
		ck_assert(v2p_open(&p, T.buf[i], T.len[i]));
		ck_assert_uint_eq(p.m->msgid, mid);
	}
	ck_assert_int_eq(T.n - before, notify ? 0 : (int)T_conf.retransmits);
	ikev2_tick(sa, 1000000);
	ck_assert_int_eq(ikev2_state(sa), IKEV2_DEAD);
	ck_assert_str_eq(ikev2_cause(sa), "ike.v2.expired");
	ikev2_free(sa);
	v2p_free(&p);
}

START_TEST(our_ike_rekey_refused)
{
	ike_rekey_refused_case(14); /* NO_PROPOSAL_CHOSEN */
	ike_rekey_refused_case(43); /* TEMPORARY_FAILURE */
}
END_TEST

START_TEST(our_ike_rekey_unanswered)
{
	ike_rekey_refused_case(0); /* 5 retransmissions from 2 s on, doubling, outlast it */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ikev2");
	TCase *t = tcase_create("ikev2");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, kdf_skeyseed_nist);
	tcase_add_test(t, kdf_prf_plus_nist);
	tcase_add_test(t, kdf_rekey_nist);
	tcase_add_test(t, gcm_roundtrip_and_tamper);
	tcase_add_test(t, cookie_demand_and_check);
	tcase_add_test(t, reasm_bounds);
	tcase_add_test(t, conf_parse);
	tcase_add_test(t, eap_mschapv2_async_verdict);
	tcase_add_test(t, eap_wrong_password);
	tcase_add_test(t, invalid_ke_then_retry);
	tcase_add_test(t, no_proposal);
	tcase_add_test(t, keys_line_decrypts);
	tcase_add_test(t, cert_chain_sent);
	tcase_add_test(t, fragments_both_ways);
	tcase_add_test(t, tiny_frag_size_on_4500);
	tcase_add_test(t, rekey_child_and_delete);
	tcase_add_test(t, dpd_and_timeout);
	tcase_add_test(t, forged_message_does_not_move_peer);
	tcase_add_test(t, sign_verify_roundtrip);
	tcase_add_test(t, machine_cert_good);
	tcase_add_test(t, machine_cert_refused);
	tcase_add_test(t, our_child_rekey);
	tcase_add_test(t, our_child_rekey_collision);
	tcase_add_test(t, retransmission_after_shorter_reply);
	tcase_add_test(t, verdict_after_another_sa);
	tcase_add_test(t, delete_from_inside_another_call);
	tcase_add_test(t, our_ike_rekey);
	tcase_add_test(t, our_ike_rekey_collision);
	tcase_add_test(t, our_ike_rekey_refused);
	tcase_add_test(t, our_ike_rekey_unanswered);
	suite_add_tcase(s, t);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
