/* EAP over RADIUS in the NPS-compatible server (engine/radius/eapconv.h, nps.h), sans-I/O:
 * the table of conversations (a forged State, one from another client or address, one
 * that timed out, eviction when the table is full), the join of EAP-Message attributes
 * and its bounds, and whole EAP-MSCHAPv2 conversations through nps_input with the peer's
 * side computed here: the MSK halves in the MS-MPPE keys, the refusals. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "eap/eap_mschapv2.h"
#include "mschap.h"
#include "policy/admit.h"
#include "policy/config.h"
#include "policy/policy.h"
#include "ppp.h"
#include "radius.h"
#include "radius/eapconv.h"
#include "radius/nps.h"

/* ---- the table ------------------------------------------------------------------------ */
static struct sockaddr_storage peer4(const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &s4->sin_addr);
	return ss;
}

static int DROPS;
static char LAST_DROP[80];
static void t_drop(void *ctx, struct eapconv *c, const char *why)
{
	(void)ctx;
	(void)c;
	DROPS++;
	snprintf(LAST_DROP, sizeof LAST_DROP, "%s", why);
}

static const uint8_t RND[14] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
static uint8_t RNDS[8][14];
static const uint8_t *rnd(int i)
{
	memset(RNDS[i], 0x30 + i, sizeof RNDS[i]);
	return RNDS[i];
}

START_TEST(forged_state_refused)
{
	struct eapconv_table t;
	ck_assert_int_eq(eapconv_init(&t, 8, 30000, 2, t_drop, NULL), 0);
	struct sockaddr_storage p = peer4("192.0.2.1", 1000);
	struct eapconv *c = eapconv_open(&t, 0, &p, 1000, RND);
	ck_assert_ptr_nonnull(c);
	uint8_t st[EAPCONV_STATE_LEN];
	memcpy(st, c->state, sizeof st);
	enum eapconv_miss why;
	ck_assert_ptr_eq(eapconv_find(&t, st, sizeof st, 0, &p, 1001, &why), c);
	ck_assert_int_eq(why, EAPCONV_FOUND);
	/* one random octet changed: the slot is right, the State is not */
	for (size_t i = 2; i < EAPCONV_STATE_LEN; i++) {
		uint8_t f[EAPCONV_STATE_LEN];
		memcpy(f, st, sizeof f);
		f[i] ^= 0x80;
		ck_assert_ptr_null(eapconv_find(&t, f, sizeof f, 0, &p, 1002, &why));
		ck_assert_int_eq(why, EAPCONV_UNKNOWN);
	}
	/* a slot past the table, a free slot, a State of another length */
	uint8_t f[EAPCONV_STATE_LEN];
	memcpy(f, st, sizeof f);
	f[0] = 0xff;
	ck_assert_ptr_null(eapconv_find(&t, f, sizeof f, 0, &p, 1002, &why));
	memcpy(f, st, sizeof f);
	f[1] ^= 1;
	ck_assert_ptr_null(eapconv_find(&t, f, sizeof f, 0, &p, 1002, &why));
	ck_assert_ptr_null(eapconv_find(&t, st, sizeof st - 1, 0, &p, 1002, &why));
	ck_assert_int_eq(why, EAPCONV_UNKNOWN);
	/* the right State from another client, from another address of the same client */
	ck_assert_ptr_null(eapconv_find(&t, st, sizeof st, 1, &p, 1002, &why));
	ck_assert_int_eq(why, EAPCONV_OTHER_PEER);
	struct sockaddr_storage q = peer4("192.0.2.2", 1000);
	ck_assert_ptr_null(eapconv_find(&t, st, sizeof st, 0, &q, 1002, &why));
	ck_assert_int_eq(why, EAPCONV_OTHER_PEER);
	/* another port of the same address is the same NAS */
	struct sockaddr_storage p2 = peer4("192.0.2.1", 2000);
	ck_assert_ptr_eq(eapconv_find(&t, st, sizeof st, 0, &p2, 1003, &why), c);
	/* none of the misses ended it; closing does, and the State is unknown after */
	ck_assert_int_eq(DROPS, 0);
	eapconv_close(&t, c, "done");
	ck_assert_int_eq(DROPS, 1);
	ck_assert_ptr_null(eapconv_find(&t, st, sizeof st, 0, &p, 1004, &why));
	ck_assert_int_eq(why, EAPCONV_UNKNOWN);
	ck_assert_uint_eq(t.n, 0);
	eapconv_free(&t);
}
END_TEST

START_TEST(expired_state_refused)
{
	struct eapconv_table t;
	DROPS = 0;
	ck_assert_int_eq(eapconv_init(&t, 8, 30000, 1, t_drop, NULL), 0);
	struct sockaddr_storage p = peer4("192.0.2.1", 1000);
	struct eapconv *c = eapconv_open(&t, 0, &p, 1000, RND);
	uint8_t st[EAPCONV_STATE_LEN];
	memcpy(st, c->state, sizeof st);
	enum eapconv_miss why;
	/* each request moves the deadline on */
	ck_assert_ptr_eq(eapconv_find(&t, st, sizeof st, 0, &p, 1000 + 29999, &why), c);
	ck_assert_ptr_eq(eapconv_find(&t, st, sizeof st, 0, &p, 1000 + 59998, &why), c);
	/* then 30 s of silence: gone */
	ck_assert_ptr_null(eapconv_find(&t, st, sizeof st, 0, &p, 1000 + 59998 + 30000, &why));
	ck_assert_int_eq(why, EAPCONV_EXPIRED);
	ck_assert_int_eq(DROPS, 1);
	ck_assert_str_eq(LAST_DROP, "timed out");
	ck_assert_uint_eq(t.expired, 1);
	ck_assert_ptr_null(eapconv_find(&t, st, sizeof st, 0, &p, 1000 + 90000, &why));
	ck_assert_int_eq(why, EAPCONV_UNKNOWN);
	eapconv_free(&t);
}
END_TEST

START_TEST(full_table_evicts_the_busiest_client)
{
	struct eapconv_table t;
	DROPS = 0;
	ck_assert_int_eq(eapconv_init(&t, 4, 30000, 2, t_drop, NULL), 0);
	struct sockaddr_storage a = peer4("192.0.2.1", 1000), b = peer4("198.51.100.1", 1000);
	uint8_t sa[5][EAPCONV_STATE_LEN], sb[EAPCONV_STATE_LEN];
	enum eapconv_miss why;
	struct eapconv *c = eapconv_open(&t, 1, &b, 100, rnd(0));
	memcpy(sb, c->state, sizeof sb);
	for (int i = 0; i < 3; i++) {
		c = eapconv_open(&t, 0, &a, 200 + (uint64_t)i, rnd(1 + i));
		memcpy(sa[i], c->state, sizeof sa[i]);
	}
	ck_assert_uint_eq(t.n, 4);
	ck_assert_int_eq(DROPS, 0);
	/* the flooding client's next conversation takes the place of its own oldest */
	c = eapconv_open(&t, 0, &a, 300, rnd(4));
	memcpy(sa[3], c->state, sizeof sa[3]);
	ck_assert_int_eq(DROPS, 1);
	ck_assert_uint_eq(t.evicted, 1);
	ck_assert_str_eq(LAST_DROP, "evicted: the conversation table is full");
	ck_assert_ptr_null(eapconv_find(&t, sa[0], EAPCONV_STATE_LEN, 0, &a, 301, &why));
	ck_assert_ptr_nonnull(eapconv_find(&t, sb, EAPCONV_STATE_LEN, 1, &b, 301, &why));
	ck_assert_ptr_nonnull(eapconv_find(&t, sa[1], EAPCONV_STATE_LEN, 0, &a, 301, &why));
	/* a new conversation of the other client also takes one of the busiest's */
	c = eapconv_open(&t, 1, &b, 400, rnd(5));
	ck_assert_uint_eq(t.evicted, 2);
	ck_assert_ptr_nonnull(eapconv_find(&t, sb, EAPCONV_STATE_LEN, 1, &b, 401, &why));
	ck_assert_uint_eq(t.per_client[0], 2);
	ck_assert_uint_eq(t.per_client[1], 2);
	/* a conversation that timed out goes before any live one */
	c = eapconv_open(&t, 0, &a, 401 + 30000, rnd(6));
	ck_assert_uint_eq(t.evicted, 2);
	ck_assert_uint_eq(t.expired, 1);
	ck_assert_uint_eq(t.n, 4);
	eapconv_free(&t);
	ck_assert_int_eq(DROPS, 3 + 4);
}
END_TEST

/* ---- the join of EAP-Message attributes --------------------------------------------- */
static void msg_add(struct radius_msg *m, uint8_t type, const uint8_t *v, size_t n)
{
	m->attrs[m->nattrs] = (struct radius_attr){.type = type, .val = v, .vlen = n,
	                                           .off = 20 + m->nattrs * 10};
	m->nattrs++;
}

START_TEST(eap_message_join_and_bounds)
{
	static uint8_t eap[2000], buf[EAPCONV_EAP_MAX];
	struct radius_msg *m = calloc(1, sizeof *m);
	struct diag_err err;
	/* an EAP packet in three pieces, in order */
	size_t n = 600;
	eap[0] = 2;
	eap[1] = 5;
	eap[2] = (uint8_t)(n >> 8);
	eap[3] = (uint8_t)n;
	for (size_t i = 4; i < sizeof eap; i++) eap[i] = (uint8_t)i;
	msg_add(m, RADIUS_ATTR_USER_NAME, (const uint8_t *)"alice", 5);
	msg_add(m, RADIUS_ATTR_EAP_MESSAGE, eap, 253);
	msg_add(m, RADIUS_ATTR_EAP_MESSAGE, eap + 253, 253);
	msg_add(m, RADIUS_ATTR_EAP_MESSAGE, eap + 506, n - 506);
	ck_assert_int_eq(eapconv_join(m, buf, sizeof buf, &err), (long)n);
	ck_assert_mem_eq(buf, eap, n);
	/* the EAP Length says otherwise */
	eap[3] = (uint8_t)(n + 1);
	ck_assert_int_eq(eapconv_join(m, buf, sizeof buf, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.reason, "the EAP Length says 601 octets"));
	eap[3] = (uint8_t)n;
	/* not consecutive */
	memset(m, 0, sizeof *m);
	msg_add(m, RADIUS_ATTR_EAP_MESSAGE, eap, 253);
	msg_add(m, RADIUS_ATTR_USER_NAME, (const uint8_t *)"alice", 5);
	msg_add(m, RADIUS_ATTR_EAP_MESSAGE, eap + 253, n - 253);
	ck_assert_int_eq(eapconv_join(m, buf, sizeof buf, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.reason, "not consecutive"));
	/* exactly the bound, then one octet past it */
	for (size_t total = EAPCONV_EAP_MAX; total <= EAPCONV_EAP_MAX + 1; total++) {
		memset(m, 0, sizeof *m);
		eap[2] = (uint8_t)(total >> 8);
		eap[3] = (uint8_t)total;
		for (size_t off = 0; off < total; off += 253)
			msg_add(m, RADIUS_ATTR_EAP_MESSAGE, eap + off, total - off > 253 ? 253 : total - off);
		long r = eapconv_join(m, buf, sizeof buf, &err);
		if (total == EAPCONV_EAP_MAX) {
			ck_assert_int_eq(r, EAPCONV_EAP_MAX);
		} else {
			ck_assert_int_eq(r, -1);
			ck_assert_ptr_nonnull(strstr(err.reason, "grows past 1024 octets"));
		}
	}
	/* a buffer smaller than the bound is a bound too */
	ck_assert_int_eq(eapconv_join(m, buf, 100, &err), -1);
	/* an EAP-Start alone; among others; shorter than a header; none at all */
	memset(m, 0, sizeof *m);
	msg_add(m, RADIUS_ATTR_EAP_MESSAGE, eap, 0);
	ck_assert_int_eq(eapconv_join(m, buf, sizeof buf, &err), 0);
	msg_add(m, RADIUS_ATTR_EAP_MESSAGE, eap, 5);
	ck_assert_int_eq(eapconv_join(m, buf, sizeof buf, &err), -1);
	memset(m, 0, sizeof *m);
	msg_add(m, RADIUS_ATTR_EAP_MESSAGE, eap, 3);
	ck_assert_int_eq(eapconv_join(m, buf, sizeof buf, &err), -1);
	memset(m, 0, sizeof *m);
	msg_add(m, RADIUS_ATTR_USER_NAME, (const uint8_t *)"alice", 5);
	ck_assert_int_eq(eapconv_join(m, buf, sizeof buf, &err), -1);
	free(m);
}
END_TEST

/* ---- whole conversations through nps_input ------------------------------------------ */
static const char conf_text[] =
	"{\"server\": {\"auth_methods\": [\"eap\", \"mschapv2\"], \"eap_types\": [\"mschapv2\"],"
	" \"ports\": {\"l2tp\": 8}, \"address_assignment\": \"pool\", \"pool\": [{\"start\": \"10.1.0.1\", \"end\": \"10.1.0.9\"}]},"
	" \"groups\": [{\"name\": \"VPN\"}],"
	" \"policies\": [{\"name\": \"p\", \"conditions\": [{\"attribute\": \"Windows-Groups\","
	" \"value\": [\"VPN\"]}], \"permission\": \"grant\", \"profile\": {\"auth_methods\":"
	" [\"eap\"], \"eap_types\": [\"mschapv2\"], \"session_timeout\": 5}}],"
	" \"users\": [{\"name\": \"alice\", \"password\": \"Passw0rd!\", \"groups\": [\"VPN\"]}],"
	" \"serve\": {\"radius_server\": {\"listen\": \"127.0.0.1:1812\", \"eap_conversations\": 2,"
	" \"eap_timeout\": 10,"
	" \"clients\": [{\"name\": \"nas1\", \"address\": \"127.0.0.1\", \"secret\": \"testing123\"}]}}}";
static const char SECRET[] = "testing123";

static struct config *C;
static struct addr_pool POOL;
static struct policy_result PRES;
static struct nps N;
static uint8_t OUT[RADIUS_MAX_LEN], REQ_AUTH[16];
static struct radius_msg ANS;
static uint8_t ID;
static char LOG[8192];

static void n_log(void *ctx, bool debug_only, const char *text)
{
	(void)ctx;
	(void)debug_only;
	size_t l = strlen(LOG);
	snprintf(LOG + l, sizeof LOG - l, "%s\n", text);
}
static unsigned RSEQ;
static void n_random(void *ctx, uint8_t *buf, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(RSEQ++ * 37 + 11);
}
static time_t n_wall(void *ctx)
{
	(void)ctx;
	return 1796198400;
}
static const struct nps_cbs CBS = {.log = n_log, .random = n_random, .wall = n_wall};

static void setup(void)
{
	struct config_problems probs = {0};
	C = config_load_mem("t", conf_text, sizeof conf_text - 1, &probs);
	ck_assert_ptr_nonnull(C);
	config_problems_free(&probs);
	ck_assert_int_eq(addr_pool_init(&POOL, &C->server), 0);
	ck_assert_int_eq(policy_result_init(&PRES, C), 0);
	ck_assert_int_eq(nps_init(&N, C, &PRES, &POOL, &CBS, NULL), 0);
	LOG[0] = 0;
}

static void teardown(void)
{
	nps_free(&N);
	policy_result_free(&PRES);
	addr_pool_free(&POOL);
	config_free(C);
}

/* An Access-Request with `eap` in EAP-Message attributes and `state` (NULL none), signed;
 * the answer decoded into ANS. Its code, 0 when nothing came back. */
static unsigned ask(const uint8_t *eap, size_t eap_len, bool start, const uint8_t *state,
                    uint64_t now)
{
	static struct radius_msg m;
	static uint8_t pkt[RADIUS_MAX_LEN];
	static const uint8_t zero[16];
	memset(&m, 0, sizeof m);
	m.code = RADIUS_ACCESS_REQUEST;
	m.id = ++ID;
	for (int i = 0; i < 16; i++) REQ_AUTH[i] = (uint8_t)(ID * 7 + i);
	m.auth = REQ_AUTH;
	msg_add(&m, RADIUS_ATTR_USER_NAME, (const uint8_t *)"alice", 5);
	for (size_t off = 0; off < eap_len || (start && off == 0); off += 253) {
		msg_add(&m, RADIUS_ATTR_EAP_MESSAGE, eap + off, eap_len - off > 253 ? 253 : eap_len - off);
		if (start) break;
	}
	if (state) msg_add(&m, RADIUS_ATTR_STATE, state, EAPCONV_STATE_LEN);
	msg_add(&m, RADIUS_ATTR_MESSAGE_AUTHENTICATOR, zero, 16);
	size_t len = radius_encode(&m, pkt, sizeof pkt);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(radius_sign(pkt, len, NULL, (const uint8_t *)SECRET, strlen(SECRET)), 0);
	struct sockaddr_storage p = peer4("127.0.0.1", 40000);
	size_t a = nps_input(&N, &p, pkt, len, now, OUT, sizeof OUT);
	if (!a) return 0;
	ck_assert_int_eq(radius_verify_auth(OUT, a, REQ_AUTH, (const uint8_t *)SECRET,
	                                    strlen(SECRET)), 1);
	ck_assert_int_eq(radius_verify_msg_auth(OUT, a, REQ_AUTH, (const uint8_t *)SECRET,
	                                        strlen(SECRET)), 1);
	struct diag_err err;
	ck_assert_int_eq(radius_decode(OUT, a, &ANS, &err), 0);
	return ANS.code;
}

static uint8_t ANS_EAP[EAPCONV_EAP_MAX];
static size_t ans_eap(void)
{
	return radius_eap_message(&ANS, ANS_EAP, sizeof ANS_EAP);
}

static const uint8_t *ans_state(void)
{
	const struct radius_attr *s = radius_find(&ANS, RADIUS_ATTR_STATE);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->vlen, EAPCONV_STATE_LEN);
	return s->val;
}

/* Identity "alice": the Challenge; its EAP Identifier, the State and the challenge. */
static void begin(uint8_t *id, uint8_t st[EAPCONV_STATE_LEN], uint8_t ch[16], uint64_t now)
{
	static const uint8_t ident[] = {2, 1, 0, 10, 1, 'a', 'l', 'i', 'c', 'e'};
	ck_assert_uint_eq(ask(ident, sizeof ident, false, NULL, now), RADIUS_ACCESS_CHALLENGE);
	size_t n = ans_eap();
	ck_assert_uint_ge(n, 5 + 4 + 17);
	ck_assert_uint_eq(ANS_EAP[0], EAP_REQUEST);
	ck_assert_uint_eq(ANS_EAP[4], EAP_TYPE_MSCHAPV2);
	ck_assert_uint_eq(ANS_EAP[5], EAP_MS_CHALLENGE);
	ck_assert_uint_eq(ANS_EAP[9], 16);
	*id = ANS_EAP[1];
	memcpy(ch, ANS_EAP + 10, 16);
	memcpy(st, ans_state(), EAPCONV_STATE_LEN);
}

/* The peer's Response with `pw`; its NT-Response into nt. */
static size_t response(uint8_t id, const uint8_t ch[16], const char *pw, uint8_t *out,
                       uint8_t nt[24])
{
	static const uint8_t peer_ch[16] = {0x21, 0x40, 0x23, 0x24, 0x25, 0x5e, 0x26, 0x2a,
	                                    0x28, 0x29, 0x5f, 0x2b, 0x3a, 0x33, 0x7c, 0x7e};
	ck_assert_int_eq(mschap2_nt_response(ch, peer_ch, "alice", 5, pw, strlen(pw), nt), 0);
	uint8_t *d = out + 5;
	size_t len = 5 + 4 + 1 + 49 + 5;
	out[0] = EAP_RESPONSE;
	out[1] = id;
	out[2] = 0;
	out[3] = (uint8_t)len;
	out[4] = EAP_TYPE_MSCHAPV2;
	d[0] = EAP_MS_RESPONSE;
	d[1] = id;
	d[2] = 0;
	d[3] = (uint8_t)(len - 5);
	d[4] = 49;
	memcpy(d + 5, peer_ch, 16);
	memset(d + 21, 0, 8);
	memcpy(d + 29, nt, 24);
	d[53] = 0;
	memcpy(d + 54, "alice", 5);
	return len;
}

START_TEST(eap_mschapv2_accept_with_the_msk)
{
	uint8_t id, st[EAPCONV_STATE_LEN], ch[16], nt[24], eap[128];
	begin(&id, st, ch, 1000);
	size_t n = response(id, ch, "Passw0rd!", eap, nt);
	ck_assert_uint_eq(ask(eap, n, false, st, 1100), RADIUS_ACCESS_CHALLENGE);
	/* MS-CHAPv2 Success with the authenticator response the peer checks */
	n = ans_eap();
	ck_assert_uint_eq(ANS_EAP[5], EAP_MS_SUCCESS);
	static const uint8_t peer_ch[16] = {0x21, 0x40, 0x23, 0x24, 0x25, 0x5e, 0x26, 0x2a,
	                                    0x28, 0x29, 0x5f, 0x2b, 0x3a, 0x33, 0x7c, 0x7e};
	ck_assert_int_eq(mschap2_check_authenticator_response("Passw0rd!", 9, nt, peer_ch, ch,
	                 "alice", 5, (const char *)ANS_EAP + 9, n - 9), 1);
	uint8_t ack[] = {EAP_RESPONSE, ANS_EAP[1], 0, 6, EAP_TYPE_MSCHAPV2, EAP_MS_SUCCESS};
	ck_assert_uint_eq(ask(ack, sizeof ack, false, ans_state(), 1200), RADIUS_ACCESS_ACCEPT);
	n = ans_eap();
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(ANS_EAP[0], EAP_SUCCESS);
	ck_assert_uint_eq(ANS_EAP[1], ack[1]);
	/* the MS-MPPE keys: the peer's MSK, its send key first (the server's receive key) */
	uint8_t psend[16], precv[16], k[64];
	ck_assert_int_eq(mppe_chapv2_keys("Passw0rd!", 9, nt, 16, false, psend, precv), 0);
	const struct radius_attr *rk = radius_find_vsa(&ANS, RADIUS_VENDOR_MICROSOFT, MS_MPPE_RECV_KEY);
	const struct radius_attr *sk = radius_find_vsa(&ANS, RADIUS_VENDOR_MICROSOFT, MS_MPPE_SEND_KEY);
	ck_assert_ptr_nonnull(rk);
	ck_assert_ptr_nonnull(sk);
	ck_assert_int_eq(radius_ms_mppe_key_decrypt(rk->val, rk->vlen, (const uint8_t *)SECRET,
	                 strlen(SECRET), REQ_AUTH, k, sizeof k), 16);
	ck_assert_mem_eq(k, psend, 16);
	ck_assert_int_eq(radius_ms_mppe_key_decrypt(sk->val, sk->vlen, (const uint8_t *)SECRET,
	                 strlen(SECRET), REQ_AUTH, k, sizeof k), 16);
	ck_assert_mem_eq(k, precv, 16);
	ck_assert_ptr_nonnull(radius_find(&ANS, RADIUS_ATTR_FRAMED_IP_ADDRESS));
	ck_assert_ptr_nonnull(strstr(LOG, "Access-Accept user=alice client=nas1 method=eap-mschapv2 "
	                             "reason=0 policy=\"p\""));
	ck_assert_uint_eq(N.eap.n, 0);
	ck_assert_uint_eq(addr_pool_clients(&POOL), 1); /* the lease is the session's */
}
END_TEST

START_TEST(eap_mschapv2_wrong_password_rejected)
{
	uint8_t id, st[EAPCONV_STATE_LEN], ch[16], nt[24], eap[128];
	begin(&id, st, ch, 1000);
	size_t n = response(id, ch, "wrong", eap, nt);
	ck_assert_uint_eq(ask(eap, n, false, st, 1100), RADIUS_ACCESS_CHALLENGE);
	n = ans_eap();
	ck_assert_uint_eq(ANS_EAP[5], EAP_MS_FAILURE);
	ck_assert_int_eq(memcmp(ANS_EAP + 9, "E=691 R=0 C=", 12), 0);
	uint8_t ack[] = {EAP_RESPONSE, ANS_EAP[1], 0, 6, EAP_TYPE_MSCHAPV2, EAP_MS_FAILURE};
	ck_assert_uint_eq(ask(ack, sizeof ack, false, ans_state(), 1200), RADIUS_ACCESS_REJECT);
	ck_assert_uint_eq(ans_eap(), 4);
	ck_assert_uint_eq(ANS_EAP[0], EAP_FAILURE);
	const struct radius_attr *rm = radius_find(&ANS, RADIUS_ATTR_REPLY_MESSAGE);
	ck_assert_ptr_nonnull(rm);
	ck_assert_int_eq(memcmp(rm->val, "NPS reason code 16:", 19), 0);
	ck_assert_ptr_null(radius_find_vsa(&ANS, RADIUS_VENDOR_MICROSOFT, MS_MPPE_RECV_KEY));
	ck_assert_ptr_nonnull(strstr(LOG, "reason=16 error=691 (bad-credentials)"));
	ck_assert_uint_eq(addr_pool_clients(&POOL), 0);
}
END_TEST

START_TEST(eap_state_misuse_refused)
{
	uint8_t id, st[EAPCONV_STATE_LEN], ch[16], nt[24], eap[128];
	begin(&id, st, ch, 1000);
	size_t n = response(id, ch, "Passw0rd!", eap, nt);
	/* a forged State: refused, the real conversation goes on */
	uint8_t f[EAPCONV_STATE_LEN];
	memcpy(f, st, sizeof f);
	f[9] ^= 0x55;
	ck_assert_uint_eq(ask(eap, n, false, f, 1050), RADIUS_ACCESS_REJECT);
	ck_assert_uint_eq(ans_eap(), 4);
	ck_assert_uint_eq(ANS_EAP[0], EAP_FAILURE);
	ck_assert_uint_eq(N.st.eap_bad_state, 1);
	ck_assert_uint_eq(ask(eap, n, false, st, 1100), RADIUS_ACCESS_CHALLENGE);
	/* the timeout (10 s) passes before the acknowledgement: refused, the lease back */
	ck_assert_uint_eq(addr_pool_clients(&POOL), 1);
	uint8_t ack[] = {EAP_RESPONSE, ANS_EAP[1], 0, 6, EAP_TYPE_MSCHAPV2, EAP_MS_SUCCESS};
	uint8_t st2[EAPCONV_STATE_LEN];
	memcpy(st2, ans_state(), sizeof st2);
	ck_assert_uint_eq(ask(ack, sizeof ack, false, st2, 1100 + 10000), RADIUS_ACCESS_REJECT);
	ck_assert_uint_eq(N.st.eap_bad_state, 2);
	ck_assert_uint_eq(addr_pool_clients(&POOL), 0);
	ck_assert_ptr_nonnull(strstr(LOG, "the State of a conversation that timed out"));
	/* a Response without State: a conversation begins with an Identity */
	ck_assert_uint_eq(ask(eap, n, false, NULL, 20000), RADIUS_ACCESS_REJECT);
	ck_assert_uint_eq(N.eap.n, 0);
}
END_TEST

START_TEST(eap_start_nak_and_eviction)
{
	/* EAP-Start: the server asks for the identity */
	unsigned code = ask(NULL, 0, true, NULL, 1000);
	ck_assert_msg(code == RADIUS_ACCESS_CHALLENGE, "EAP-Start: %u; %s", code, LOG);
	ck_assert_uint_eq(ans_eap(), 5);
	ck_assert_uint_eq(ANS_EAP[0], EAP_REQUEST);
	ck_assert_uint_eq(ANS_EAP[4], EAP_TYPE_IDENTITY);
	uint8_t st0[EAPCONV_STATE_LEN];
	memcpy(st0, ans_state(), sizeof st0);
	/* a Nak to the Challenge (MD5 wanted): Access-Reject, reason 22 */
	uint8_t id, st[EAPCONV_STATE_LEN], ch[16];
	begin(&id, st, ch, 1100);
	uint8_t nak[] = {EAP_RESPONSE, id, 0, 6, EAP_TYPE_NAK, EAP_TYPE_MD5};
	ck_assert_uint_eq(ask(nak, sizeof nak, false, st, 1200), RADIUS_ACCESS_REJECT);
	ck_assert_uint_eq(ans_eap(), 4);
	ck_assert_uint_eq(ANS_EAP[0], EAP_FAILURE);
	ck_assert_ptr_nonnull(strstr(LOG, "reason=22 error=812 (eap-type-conflict)"));
	/* another type than MS-CHAPv2: proposed again once, then refused */
	begin(&id, st, ch, 1300);
	uint8_t md5[] = {EAP_RESPONSE, id, 0, 7, EAP_TYPE_MD5, 1, 0};
	ck_assert_uint_eq(ask(md5, sizeof md5, false, st, 1400), RADIUS_ACCESS_CHALLENGE);
	ck_assert_uint_eq(ANS_EAP[5], EAP_MS_CHALLENGE);
	md5[1] = ANS_EAP[1];
	ck_assert_uint_eq(ask(md5, sizeof md5, false, ans_state(), 1500), RADIUS_ACCESS_REJECT);
	/* two conversations fit (eap_conversations 2): a third evicts the oldest, the
	 * EAP-Start's, still open */
	ck_assert_uint_eq(N.eap.n, 1);
	begin(&id, st, ch, 1600);
	begin(&id, st, ch, 1700);
	ck_assert_uint_eq(N.eap.evicted, 1);
	static const uint8_t ident[] = {2, 0, 0, 10, 1, 'a', 'l', 'i', 'c', 'e'};
	uint8_t i0[sizeof ident];
	memcpy(i0, ident, sizeof i0);
	ck_assert_uint_eq(ask(i0, sizeof i0, false, st0, 1800), RADIUS_ACCESS_REJECT);
	ck_assert_ptr_nonnull(strstr(LOG, "a State this server did not issue"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nps_eap");
	TCase *t = tcase_create("table");
	tcase_add_test(t, forged_state_refused);
	tcase_add_test(t, expired_state_refused);
	tcase_add_test(t, full_table_evicts_the_busiest_client);
	tcase_add_test(t, eap_message_join_and_bounds);
	suite_add_tcase(s, t);
	TCase *c = tcase_create("conversation");
	tcase_add_checked_fixture(c, setup, teardown);
	tcase_add_test(c, eap_mschapv2_accept_with_the_msk);
	tcase_add_test(c, eap_mschapv2_wrong_password_rejected);
	tcase_add_test(c, eap_state_misuse_refused);
	tcase_add_test(c, eap_start_nak_and_eviction);
	suite_add_tcase(s, c);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
