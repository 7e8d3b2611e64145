/* RFC 5176 dynamic authorization as the NAS (engine/radius/dae.h), sans-I/O: which requests
 * are answered at all, the Error-Cause of each NAK, what reaches the sessions, the
 * answer's authenticators, retransmissions, and the configuration of the listener. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "policy/config.h"
#include "radius.h"
#include "radius/dae.h"

static const char conf_text[] =
	"{\"server\": {\"auth_provider\": \"radius\", \"radius\": {\"servers\": ["
	" {\"address\": \"192.0.2.1\", \"secret\": \"server-secret\"}],"
	" \"dynamic_authorization\": {\"listen\": \"127.0.0.1:3799\", \"clients\": ["
	"  {\"name\": \"das\", \"address\": \"198.51.100.0/24\", \"secret\": \"das-secret\"}]}}}}";

static struct config *C;
static struct dae D;
static const char SECRET[] = "das-secret";
static const time_t NOW = 1796198400;

/* what the sessions were asked */
static int ACT_CALLS, ACT_RESULT;
static bool ACT_COA;
static struct dae_ident ACT_ID;
static struct dae_change ACT_CH;
static char LOG[4096];

static int t_act(void *ctx, const struct dae_ident *q, const struct dae_change *c)
{
	(void)ctx;
	ACT_CALLS++;
	ACT_ID = *q;
	ACT_COA = c != NULL;
	if (c) ACT_CH = *c;
	return ACT_RESULT;
}

static void t_log(void *ctx, bool debug_only, const char *text)
{
	(void)ctx;
	(void)debug_only;
	size_t n = strlen(LOG);
	snprintf(LOG + n, sizeof LOG - n, "%s\n", text);
}

static time_t t_wall(void *ctx)
{
	(void)ctx;
	return NOW;
}

static const struct dae_cbs CBS = {.log = t_log, .wall = t_wall, .act = t_act};
static const struct dae_nas NAS = {.identifier = "nas-1", .ip = 0xc0000205}; /* 192.0.2.5 */

static struct config *load(const char *text)
{
	struct config_problems p = {0};
	struct config *c = config_load_mem("t", text, strlen(text), &p);
	config_problems_free(&p);
	return c;
}

static void setup(void)
{
	C = load(conf_text);
	ck_assert_ptr_nonnull(C);
	ck_assert(C->server.radius_conf.dae.on);
	ck_assert_int_eq(dae_init(&D, &C->server.radius_conf.dae, &NAS, &CBS, NULL), 0);
	ACT_CALLS = 0;
	ACT_RESULT = 1;
	LOG[0] = 0;
}

static void teardown(void)
{
	dae_free(&D);
	config_free(C);
}

static struct sockaddr_storage peer(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	inet_pton(AF_INET, ip, &s4->sin_addr);
	return ss;
}

/* ---- building requests ------------------------------------------------------------------ */
struct rq {
	struct radius_msg m;
	uint8_t vals[RADIUS_MAX_ATTRS][4];
	size_t nv;
};

static void rq_init(struct rq *r, uint8_t code, uint8_t id)
{
	memset(r, 0, sizeof *r);
	r->m.code = code;
	r->m.id = id;
}

static void rq_put(struct rq *r, uint8_t type, const void *val, size_t len)
{
	r->m.attrs[r->m.nattrs++] = (struct radius_attr){.type = type, .val = val, .vlen = len};
}

static void rq_str(struct rq *r, uint8_t type, const char *s)
{
	rq_put(r, type, s, strlen(s));
}

static void rq_u32(struct rq *r, uint8_t type, uint32_t v)
{
	uint8_t *b = r->vals[r->nv++];
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
	rq_put(r, type, b, 4);
}

/* Encoded and signed with `secret` (Message-Authenticator first when `ma`). */
static size_t rq_sign(struct rq *r, const char *secret, bool ma, uint8_t *out)
{
	static const uint8_t zero[16];
	if (ma) rq_put(r, RADIUS_ATTR_MESSAGE_AUTHENTICATOR, zero, 16);
	size_t n = radius_encode(&r->m, out, RADIUS_MAX_LEN);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(radius_sign(out, n, NULL, (const uint8_t *)secret, strlen(secret)), 0);
	return n;
}

/* The Request Authenticator of pkt recomputed with `secret` (RFC 5176 3.5), the rest
 * left as it is. */
static void reauth(uint8_t *pkt, size_t n, const char *secret)
{
	uint8_t a[16];
	unsigned int ol = 0;
	memset(pkt + 4, 0, 16);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	ck_assert(c && EVP_DigestInit_ex(c, EVP_md5(), NULL) && EVP_DigestUpdate(c, pkt, n) &&
	          EVP_DigestUpdate(c, secret, strlen(secret)) && EVP_DigestFinal_ex(c, a, &ol));
	EVP_MD_CTX_free(c);
	memcpy(pkt + 4, a, 16);
}

static uint8_t OUT[RADIUS_MAX_LEN];
static struct radius_msg ANS;

/* Send pkt from the DAS; the answer decoded into ANS and checked against the request's
 * authenticator; its length. */
static size_t send_from(const struct sockaddr_storage *p, const uint8_t *pkt, size_t n)
{
	size_t an = dae_input(&D, p, pkt, n, 5000, OUT, sizeof OUT);
	if (!an) return 0;
	struct diag_err e = {0};
	ck_assert_int_eq(radius_decode(OUT, an, &ANS, &e), 0);
	ck_assert_uint_eq(ANS.id, pkt[1]);
	ck_assert_int_eq(radius_verify_auth(OUT, an, pkt + 4, (const uint8_t *)SECRET,
	                                    strlen(SECRET)), 1);
	ck_assert_int_eq(radius_verify_msg_auth(OUT, an, pkt + 4, (const uint8_t *)SECRET,
	                                        strlen(SECRET)), 1);
	return an;
}

static size_t send_pkt(const uint8_t *pkt, size_t n)
{
	struct sockaddr_storage p = peer("198.51.100.7", 40000);
	return send_from(&p, pkt, n);
}

static uint32_t error_cause(void)
{
	const struct radius_attr *a = radius_find(&ANS, RADIUS_ATTR_ERROR_CAUSE);
	if (!a || a->vlen != 4) return 0;
	return (uint32_t)a->val[2] << 8 | a->val[3];
}

/* A request with one User-Name and whatever `more` adds; the answer's Error-Cause (0 for
 * an ACK, UINT32_MAX when nothing came back). */
static uint32_t ask(uint8_t code, void (*more)(struct rq *))
{
	static uint8_t id = 100;
	struct rq r;
	uint8_t pkt[RADIUS_MAX_LEN];
	rq_init(&r, code, id++); /* another request each time, not a retransmission */
	rq_str(&r, RADIUS_ATTR_USER_NAME, "alice");
	if (more) more(&r);
	size_t n = rq_sign(&r, SECRET, true, pkt);
	if (!send_pkt(pkt, n)) return UINT32_MAX;
	uint8_t want = code == RADIUS_COA_REQUEST ? RADIUS_COA_ACK : RADIUS_DISCONNECT_ACK;
	uint32_t ec = error_cause();
	ck_assert_uint_eq(ANS.code, ec ? want + 1 : want);
	return ec;
}

/* ---- tests ----------------------------------------------------------------------------------- */
START_TEST(disconnect_acked_and_sessions_ended)
{
	struct rq r;
	uint8_t pkt[RADIUS_MAX_LEN];
	rq_init(&r, RADIUS_DISCONNECT_REQUEST, 1);
	rq_str(&r, RADIUS_ATTR_USER_NAME, "alice");
	rq_str(&r, RADIUS_ATTR_ACCT_SESSION_ID, "run-7");
	rq_u32(&r, RADIUS_ATTR_FRAMED_IP_ADDRESS, 0x0a4d0002);
	rq_str(&r, RADIUS_ATTR_CALLING_STATION_ID, "127.0.0.1");
	rq_u32(&r, RADIUS_ATTR_NAS_PORT, 7);
	rq_str(&r, RADIUS_ATTR_NAS_IDENTIFIER, "nas-1");
	rq_u32(&r, RADIUS_ATTR_NAS_IP_ADDRESS, 0xc0000205);
	size_t n = rq_sign(&r, SECRET, false, pkt);
	ACT_RESULT = 2;
	ck_assert_uint_gt(send_pkt(pkt, n), 0);
	ck_assert_uint_eq(ANS.code, RADIUS_DISCONNECT_ACK);
	ck_assert_ptr_null(radius_find(&ANS, RADIUS_ATTR_ERROR_CAUSE));
	ck_assert_int_eq(ACT_CALLS, 1);
	ck_assert(!ACT_COA);
	ck_assert(ACT_ID.has_user && ACT_ID.user_len == 5 && memcmp(ACT_ID.user, "alice", 5) == 0);
	ck_assert(ACT_ID.has_acct_session_id && ACT_ID.has_calling && ACT_ID.has_nas_port);
	ck_assert(ACT_ID.has_framed_ip && ACT_ID.framed_ip == 0x0a4d0002);
	ck_assert_uint_eq(ACT_ID.nas_port, 7);
	ck_assert_uint_eq(D.st.acks, 1);
	ck_assert_ptr_nonnull(strstr(LOG, "ACK (2 sessions)"));
}
END_TEST

START_TEST(no_session_is_nak_503)
{
	ACT_RESULT = 0;
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, NULL), DAE_NOT_FOUND);
	ACT_RESULT = -1;
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, NULL), DAE_RESOURCES);
	ck_assert_uint_eq(D.st.naks, 2);
}
END_TEST

START_TEST(wrong_secret_or_source_gets_no_answer)
{
	struct rq r;
	uint8_t pkt[RADIUS_MAX_LEN];
	rq_init(&r, RADIUS_DISCONNECT_REQUEST, 2);
	rq_str(&r, RADIUS_ATTR_USER_NAME, "alice");
	size_t n = rq_sign(&r, "another-secret", false, pkt);
	ck_assert_uint_eq(send_pkt(pkt, n), 0);
	ck_assert_uint_eq(D.st.bad_authenticator, 1);
	ck_assert_ptr_nonnull(strstr(LOG, "Request Authenticator does not verify"));
	/* the right secret from an address no client has */
	rq_init(&r, RADIUS_DISCONNECT_REQUEST, 3);
	rq_str(&r, RADIUS_ATTR_USER_NAME, "alice");
	n = rq_sign(&r, SECRET, false, pkt);
	struct sockaddr_storage p = peer("203.0.113.9", 40000);
	ck_assert_uint_eq(send_from(&p, pkt, n), 0);
	ck_assert_uint_eq(D.st.unknown_client, 1);
	/* an Access-Request to this port */
	rq_init(&r, RADIUS_ACCESS_REQUEST, 4);
	rq_str(&r, RADIUS_ATTR_USER_NAME, "alice");
	n = rq_sign(&r, SECRET, true, pkt);
	ck_assert_uint_eq(send_pkt(pkt, n), 0);
	ck_assert_uint_eq(D.st.unsupported, 1);
	/* a cut datagram */
	n = rq_sign(&r, SECRET, false, pkt);
	ck_assert_uint_eq(send_pkt(pkt, 19), 0);
	ck_assert_int_eq(ACT_CALLS, 0);
}
END_TEST

START_TEST(message_authenticator_checked)
{
	struct rq r;
	uint8_t pkt[RADIUS_MAX_LEN];
	/* a Message-Authenticator of another secret under a right Request Authenticator */
	rq_init(&r, RADIUS_DISCONNECT_REQUEST, 5);
	rq_str(&r, RADIUS_ATTR_USER_NAME, "alice");
	size_t n = rq_sign(&r, "another-secret", true, pkt);
	reauth(pkt, n, SECRET);
	ck_assert_int_eq(radius_verify_auth(pkt, n, NULL, (const uint8_t *)SECRET, strlen(SECRET)), 1);
	ck_assert_uint_eq(send_pkt(pkt, n), 0);
	ck_assert_uint_eq(D.st.bad_msg_auth, 1);
	ck_assert_int_eq(ACT_CALLS, 0);
	/* required: none at all is dropped too */
	config_free(C);
	dae_free(&D);
	C = load("{\"server\": {\"radius\": {\"dynamic_authorization\": {\"clients\": ["
	         "{\"address\": \"198.51.100.7\", \"secret\": \"das-secret\"}],"
	         " \"require_message_authenticator\": true}}}}");
	ck_assert_ptr_nonnull(C);
	ck_assert_int_eq(dae_init(&D, &C->server.radius_conf.dae, &NAS, &CBS, NULL), 0);
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, NULL), 0);
	rq_init(&r, RADIUS_DISCONNECT_REQUEST, 6);
	rq_str(&r, RADIUS_ATTR_USER_NAME, "alice");
	n = rq_sign(&r, SECRET, false, pkt);
	ck_assert_uint_eq(send_pkt(pkt, n), 0);
	ck_assert_uint_eq(D.st.no_msg_auth, 1);
}
END_TEST

static uint32_t TS;
static void with_ts(struct rq *r) { rq_u32(r, RADIUS_ATTR_EVENT_TIMESTAMP, TS); }

START_TEST(event_timestamp_window)
{
	TS = (uint32_t)NOW - 299;
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, with_ts), 0);
	TS = (uint32_t)NOW + 299;
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, with_ts), 0);
	TS = (uint32_t)NOW - 301;
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, with_ts), UINT32_MAX);
	TS = (uint32_t)NOW + 301;
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, with_ts), UINT32_MAX);
	ck_assert_uint_eq(D.st.stale, 2);
	ck_assert_int_eq(ACT_CALLS, 2);
	/* required: a request without one is NAKed 402 */
	C->server.radius_conf.dae.require_timestamp = true;
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, NULL), DAE_MISSING_ATTRIBUTE);
	TS = (uint32_t)NOW;
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, with_ts), 0);
}
END_TEST

START_TEST(retransmission_gets_the_same_answer)
{
	struct rq r;
	uint8_t pkt[RADIUS_MAX_LEN], first[RADIUS_MAX_LEN];
	rq_init(&r, RADIUS_DISCONNECT_REQUEST, 8);
	rq_str(&r, RADIUS_ATTR_USER_NAME, "alice");
	size_t n = rq_sign(&r, SECRET, true, pkt);
	size_t a1 = send_pkt(pkt, n);
	ck_assert_uint_gt(a1, 0);
	memcpy(first, OUT, a1);
	ACT_RESULT = 0; /* the session is gone: a new decision would be a NAK */
	size_t a2 = send_pkt(pkt, n);
	ck_assert_uint_eq(a2, a1);
	ck_assert_mem_eq(OUT, first, a1);
	ck_assert_int_eq(ACT_CALLS, 1);
	ck_assert_uint_eq(D.st.duplicates, 1);
	/* from another port it is another request */
	struct sockaddr_storage p = peer("198.51.100.7", 40001);
	ck_assert_uint_gt(send_from(&p, pkt, n), 0);
	ck_assert_uint_eq(ANS.code, RADIUS_DISCONNECT_NAK);
	ck_assert_int_eq(ACT_CALLS, 2);
	/* after the window the cached answer is gone */
	ck_assert_uint_gt(dae_input(&D, &p, pkt, n, 5000 + 301000, OUT, sizeof OUT), 0);
	ck_assert_int_eq(ACT_CALLS, 3);
}
END_TEST

static void coa_timeouts(struct rq *r)
{
	rq_u32(r, RADIUS_ATTR_SESSION_TIMEOUT, 600);
	rq_u32(r, RADIUS_ATTR_IDLE_TIMEOUT, 0);
}
static void filter_id(struct rq *r) { rq_str(r, RADIUS_ATTR_FILTER_ID, "students"); }
static void vsa(struct rq *r)
{
	static const uint8_t v[] = {0, 0, 0x01, 0x37, 9, 6, 0, 0, 0, 1};
	rq_put(r, RADIUS_ATTR_VENDOR_SPECIFIC, v, sizeof v);
}
static void klass(struct rq *r) { rq_str(r, RADIUS_ATTR_CLASS, "x"); }
static void two_users(struct rq *r) { rq_str(r, RADIUS_ATTR_USER_NAME, "bob"); }
static void err_cause(struct rq *r) { rq_u32(r, RADIUS_ATTR_ERROR_CAUSE, 201); }
static void nas_id_other(struct rq *r) { rq_str(r, RADIUS_ATTR_NAS_IDENTIFIER, "nas-2"); }
static void nas_id_prefix(struct rq *r) { rq_str(r, RADIUS_ATTR_NAS_IDENTIFIER, "nas-"); }
static void nas_ip_other(struct rq *r) { rq_u32(r, RADIUS_ATTR_NAS_IP_ADDRESS, 0xc0000206); }
static void nas_ipv6(struct rq *r)
{
	static const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
	rq_put(r, RADIUS_ATTR_NAS_IPV6_ADDRESS, a, 16);
}
static void authorize_only(struct rq *r) { rq_u32(r, RADIUS_ATTR_SERVICE_TYPE, 17); }
static void framed_service(struct rq *r) { rq_u32(r, RADIUS_ATTR_SERVICE_TYPE, 2); }
static void short_ip(struct rq *r) { rq_put(r, RADIUS_ATTR_FRAMED_IP_ADDRESS, "abc", 3); }
static void short_ts(struct rq *r) { rq_put(r, RADIUS_ATTR_EVENT_TIMESTAMP, "abc", 3); }
static void session_timeout(struct rq *r) { rq_u32(r, RADIUS_ATTR_SESSION_TIMEOUT, 60); }

START_TEST(coa_change_reaches_the_sessions)
{
	ck_assert_uint_eq(ask(RADIUS_COA_REQUEST, coa_timeouts), 0);
	ck_assert_int_eq(ACT_CALLS, 1);
	ck_assert(ACT_COA);
	ck_assert(ACT_CH.has_session_timeout && ACT_CH.session_timeout == 600);
	ck_assert(ACT_CH.has_idle_timeout && ACT_CH.idle_timeout == 0);
	/* nothing to change */
	ck_assert_uint_eq(ask(RADIUS_COA_REQUEST, NULL), DAE_MISSING_ATTRIBUTE);
	ck_assert_int_eq(ACT_CALLS, 1);
}
END_TEST

START_TEST(each_nak_has_its_error_cause)
{
	ck_assert_uint_eq(ask(RADIUS_COA_REQUEST, filter_id), DAE_UNSUPPORTED_ATTRIBUTE);
	ck_assert_ptr_nonnull(strstr(LOG, "Filter-Id"));
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, vsa), DAE_UNSUPPORTED_ATTRIBUTE);
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, klass), DAE_UNSUPPORTED_ATTRIBUTE);
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, session_timeout),
	                  DAE_UNSUPPORTED_ATTRIBUTE);
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, two_users), DAE_INVALID_REQUEST);
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, err_cause), DAE_INVALID_REQUEST);
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, nas_id_other), DAE_NAS_MISMATCH);
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, nas_id_prefix), DAE_NAS_MISMATCH);
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, nas_ip_other), DAE_NAS_MISMATCH);
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, nas_ipv6), DAE_NAS_MISMATCH);
	ck_assert_uint_eq(ask(RADIUS_COA_REQUEST, authorize_only), DAE_UNSUPPORTED_SERVICE);
	/* the decoder knows the lengths of these values: dropped as malformed */
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, short_ip), UINT32_MAX);
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, short_ts), UINT32_MAX);
	ck_assert_uint_eq(D.st.malformed, 2);
	ck_assert_int_eq(ACT_CALLS, 0);
	ck_assert_uint_eq(ask(RADIUS_DISCONNECT_REQUEST, framed_service), 0);
	ck_assert_int_eq(ACT_CALLS, 1);
	/* without any session identification */
	struct rq r;
	uint8_t pkt[RADIUS_MAX_LEN];
	rq_init(&r, RADIUS_DISCONNECT_REQUEST, 11);
	rq_str(&r, RADIUS_ATTR_NAS_IDENTIFIER, "nas-1");
	size_t n = rq_sign(&r, SECRET, true, pkt);
	ck_assert_uint_gt(send_pkt(pkt, n), 0);
	ck_assert_uint_eq(error_cause(), DAE_MISSING_ATTRIBUTE);
	ck_assert_int_eq(ACT_CALLS, 1);
}
END_TEST

START_TEST(proxy_state_copied_in_order)
{
	struct rq r;
	uint8_t pkt[RADIUS_MAX_LEN];
	rq_init(&r, RADIUS_DISCONNECT_REQUEST, 12);
	rq_str(&r, RADIUS_ATTR_PROXY_STATE, "first");
	rq_str(&r, RADIUS_ATTR_USER_NAME, "alice");
	rq_str(&r, RADIUS_ATTR_PROXY_STATE, "second");
	size_t n = rq_sign(&r, SECRET, true, pkt);
	ck_assert_uint_gt(send_pkt(pkt, n), 0);
	const char *want[] = {"first", "second"};
	size_t k = 0;
	for (size_t i = 0; i < ANS.nattrs; i++) {
		if (ANS.attrs[i].type != RADIUS_ATTR_PROXY_STATE) continue;
		ck_assert_uint_lt(k, 2);
		ck_assert_uint_eq(ANS.attrs[i].vlen, strlen(want[k]));
		ck_assert_mem_eq(ANS.attrs[i].val, want[k], strlen(want[k]));
		k++;
	}
	ck_assert_uint_eq(k, 2);
}
END_TEST

START_TEST(peer_bytes_escaped_in_the_log)
{
	struct rq r;
	uint8_t pkt[RADIUS_MAX_LEN];
	rq_init(&r, RADIUS_DISCONNECT_REQUEST, 13);
	rq_str(&r, RADIUS_ATTR_USER_NAME, "eve\nforged line\x1b[2J");
	rq_str(&r, RADIUS_ATTR_NAS_IDENTIFIER, "x\ny");
	size_t n = rq_sign(&r, SECRET, true, pkt);
	ck_assert_uint_gt(send_pkt(pkt, n), 0);
	ck_assert_uint_eq(error_cause(), DAE_NAS_MISMATCH);
	ck_assert_ptr_null(strchr(LOG, '\x1b'));
	ck_assert_ptr_null(strstr(LOG, "\nforged"));
	ck_assert_ptr_null(strstr(LOG, "x\ny"));
	char *nl = strchr(LOG, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert_str_eq(nl + 1, ""); /* one line */
}
END_TEST

START_TEST(session_matching)
{
	struct dae_sess s = {.user = "alice", .acct_session_id = "r-1", .calling = "127.0.0.1",
		.called = "127.0.0.2", .framed_ip = 0x0a000002, .nas_port = 1, .nas_port_type = 5};
	struct dae_ident q;
	memset(&q, 0, sizeof q);
	q.has_user = true;
	q.user = (const uint8_t *)"alice";
	q.user_len = 5;
	ck_assert(dae_session_matches(&q, &s));
	q.user_len = 4; /* "alic": a prefix is another name */
	ck_assert(!dae_session_matches(&q, &s));
	q.user_len = 5;
	q.has_framed_ip = true;
	q.framed_ip = 0x0a000002;
	ck_assert(dae_session_matches(&q, &s));
	q.framed_ip = 0x0a000003;
	ck_assert(!dae_session_matches(&q, &s));
	q.framed_ip = 0;
	s.framed_ip = 0; /* no address yet: no Framed-IP-Address names it */
	ck_assert(!dae_session_matches(&q, &s));
	q.has_framed_ip = false;
	q.has_nas_port = true;
	q.nas_port = 2;
	ck_assert(!dae_session_matches(&q, &s));
	q.nas_port = 1;
	q.has_calling = true;
	q.calling = (const uint8_t *)"127.0.0.1";
	q.calling_len = 9;
	q.has_acct_session_id = true;
	q.acct_session_id = (const uint8_t *)"r-1";
	q.acct_session_id_len = 3;
	ck_assert(dae_session_matches(&q, &s));
	q.acct_session_id = (const uint8_t *)"r-2";
	ck_assert(!dae_session_matches(&q, &s));
	s.user = NULL;
	q.acct_session_id = (const uint8_t *)"r-1";
	ck_assert(!dae_session_matches(&q, &s));
}
END_TEST

START_TEST(config_clients_default_to_the_servers)
{
	struct config *c = load("{\"server\": {\"radius\": {\"servers\": ["
	                        "{\"address\": \"192.0.2.1\", \"secret\": \"s1\"},"
	                        "{\"address\": \"::1\", \"secret\": \"s2\", \"priority\": 0}],"
	                        " \"dynamic_authorization\": true}}}");
	ck_assert_ptr_nonnull(c);
	const struct radius_dae_conf *d = &c->server.radius_conf.dae;
	ck_assert(d->on);
	ck_assert_ptr_null(d->listen);
	ck_assert_int_eq(d->window, 300);
	ck_assert_uint_eq(d->nclients, 2);
	ck_assert_int_eq(d->clients[0].family, AF_INET6); /* by priority, as the servers */
	ck_assert_str_eq(d->clients[0].secret, "s2");
	ck_assert_int_eq(d->clients[1].family, AF_INET);
	ck_assert_uint_eq(d->clients[1].net.start, 0xc0000201);
	ck_assert_uint_eq(d->clients[1].net.end, 0xc0000201);
	ck_assert_str_eq(d->clients[1].secret, "s1");
	config_free(c);

	struct config_problems p = {0};
	static const char *const bad[] = {
		"{\"server\": {\"radius\": {\"dynamic_authorization\": true}}}",
		"{\"server\": {\"radius\": {\"dynamic_authorization\": {\"listen\": \"nowhere\","
		" \"clients\": [{\"address\": \"127.0.0.1\", \"secret\": \"s\"}]}}}}",
		"{\"server\": {\"radius\": {\"dynamic_authorization\": {\"clients\": "
		"[{\"address\": \"127.0.0.1\", \"secret\": \"s\"}], \"event_timestamp_window\": 0}}}}",
		"{\"server\": {\"radius\": {\"dynamic_authorization\": {\"clients\": "
		"[{\"address\": \"127.0.0.1\", \"secret\": \"\"}]}}}}",
		"{\"server\": {\"radius\": {\"dynamic_authorization\": {\"port\": 3799, \"clients\": "
		"[{\"address\": \"127.0.0.1\", \"secret\": \"s\"}]}}}}",
		"{\"server\": {\"radius\": {\"dynamic_authorization\": 5}}}",
	};
	static const char *const why[] = {"no RADIUS server with a secret", "is not ADDR[:PORT]",
		"out of range", "an empty shared secret", "port", "expected true"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&p, 0, sizeof p);
		c = config_load_mem("t", bad[i], strlen(bad[i]), &p);
		ck_assert_msg(p.n > 0, "no problem for %s", bad[i]);
		bool found = false;
		for (size_t k = 0; k < p.n; k++)
			if (strstr(p.v[k].msg, why[i]) &&
			    strstr(p.v[k].msg, "server.radius.dynamic_authorization"))
				found = true;
		ck_assert_msg(found, "no problem naming \"%s\" at the key for %s", why[i], bad[i]);
		config_problems_free(&p);
		config_free(c);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dae");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, disconnect_acked_and_sessions_ended);
	tcase_add_test(tc, no_session_is_nak_503);
	tcase_add_test(tc, wrong_secret_or_source_gets_no_answer);
	tcase_add_test(tc, message_authenticator_checked);
	tcase_add_test(tc, event_timestamp_window);
	tcase_add_test(tc, retransmission_gets_the_same_answer);
	tcase_add_test(tc, coa_change_reaches_the_sessions);
	tcase_add_test(tc, each_nak_has_its_error_cause);
	tcase_add_test(tc, proxy_state_copied_in_order);
	tcase_add_test(tc, peer_bytes_escaped_in_the_log);
	tcase_add_test(tc, session_matching);
	tcase_add_test(tc, config_clients_default_to_the_servers);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
