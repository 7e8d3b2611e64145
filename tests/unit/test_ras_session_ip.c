/* Sessions without PPP (engine/server/ras_session.h, ras_lower_ops.ip): a mock lower layer
 * that authenticated the user itself (EAP-MSCHAPv2 inside IKEv2) and carries IPv4 packets.
 * The admission is the one a PPP link gets (tunnel ikev2, EAP with MS-CHAPv2), answered at
 * once or later; the verdict reaches the lower layer; the lease, the data path (ICMP echo
 * of the server's address, spoofed sources, forwarding), the idle timeout, the encryption
 * check, the end through the lower layer and accounting events follow. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mschap.h"
#include "policy/admit.h"
#include "policy/config.h"
#include "server/ras_session.h"

static const char *CONF =
	"{\"server\": {\"auth_methods\": [\"eap\", \"mschapv2\"], \"eap_types\": [\"mschapv2\"],"
	" \"encryption\": [\"strongest\"], \"ports\": {\"ikev2\": 4},"
	" \"address_assignment\": \"pool\", \"pool\": [{\"start\": \"10.7.0.1\", \"end\": \"10.7.0.6\"}]},"
	" \"groups\": [{\"name\": \"VPN\"}, {\"name\": \"Weak\"}],"
	" \"policies\": [{\"name\": \"weak\", \"conditions\": [{\"attribute\": \"Windows-Groups\","
	"  \"value\": [\"Weak\"]}], \"permission\": \"grant\", \"profile\": {\"auth_methods\": [\"eap\"],"
	"  \"eap_types\": [\"mschapv2\"], \"encryption\": [\"strongest\"], \"idle_timeout\": 2}},"
	"  {\"name\": \"vpn\", \"conditions\": [{\"attribute\": \"Windows-Groups\","
	"  \"value\": [\"VPN\"]}], \"permission\": \"grant\", \"profile\": {\"auth_methods\": [\"eap\"],"
	"  \"eap_types\": [\"mschapv2\"], \"encryption\": [\"strongest\"]}}],"
	" \"users\": [{\"name\": \"u\", \"password\": \"p\", \"groups\": [\"VPN\"]},"
	"  {\"name\": \"i\", \"password\": \"p\", \"groups\": [\"Weak\"]},"
	"  {\"name\": \"d\", \"password\": \"p\", \"groups\": [\"VPN\"], \"dialin\": \"deny\"}]}";

static struct world {
	struct config *cfg;
	struct addr_pool pool;
	struct policy_result pres;
	struct ppp_session_conf pconf;
	struct ras_env env;
	struct ras_session *rs;
	uint64_t now;
	/* lower layer */
	unsigned admitted, closes, sent;
	struct ppp_admit last;
	bool last_had_proof;
	uint8_t pkt[1600];
	size_t pkt_len;
	/* environment */
	unsigned ev_up, ev_down, ev_dead, forwarded, authorized;
	bool pending;
	unsigned pending_seq;
	struct admit_req asked;
	char asked_user[32];
	uint8_t given_nt[24];
	char log[16384];
	size_t loglen;
} W;

static int m_send(struct ras_session *rs, const uint8_t *p, size_t n)
{
	(void)rs;
	W.sent++;
	ck_assert_uint_le(n, sizeof W.pkt);
	memcpy(W.pkt, p, n);
	W.pkt_len = n;
	return 0;
}

static void m_close(struct ras_session *rs, unsigned win_error, uint64_t now)
{
	(void)win_error;
	W.closes++;
	/* the SA is deleted: its lower layer reports the session down from inside */
	ras_session_lower_down(rs, RAS_CAUSE_LOWER, 1, 0, now);
}

static void m_admitted(struct ras_session *rs, const struct ppp_admit *a,
                       const struct ras_verdict *v)
{
	(void)rs;
	W.admitted++;
	W.last = *a;
	W.last_had_proof = v->mschap2_success != NULL;
}

static const char *m_peer(const struct ras_session *rs, char *b, size_t n)
{
	(void)rs;
	snprintf(b, n, "192.0.2.9");
	return b;
}

static void m_cause(const struct ras_session *rs, unsigned a, unsigned b, char *buf, size_t n)
{
	(void)rs;
	snprintf(buf, n, "sa-%u-%u", a, b);
}

static const struct ras_lower_ops IP_OPS = {
	.tunnel = TUN_IKEV2, .ip = true, .send = m_send, .close = m_close, .admitted = m_admitted,
	.peer_text = m_peer, .peer_ip = m_peer, .cause_text = m_cause,
};

static void e_log(void *ctx, const struct ras_session *rs, enum ras_log cat, bool dbg,
                  const char *text)
{
	(void)ctx;
	(void)rs;
	(void)cat;
	(void)dbg;
	int w = snprintf(W.log + W.loglen, sizeof W.log - W.loglen, "%s\n", text);
	if (w > 0 && (size_t)w < sizeof W.log - W.loglen) W.loglen += (size_t)w;
}

static void e_event(void *ctx, struct ras_session *rs, enum ras_event ev)
{
	(void)ctx;
	if (ev == RAS_EV_UP) W.ev_up++;
	if (ev == RAS_EV_DOWN) {
		W.ev_down++;
		ck_assert_uint_ne(rs->addr, 0);
	}
	if (ev == RAS_EV_DEAD) W.ev_dead++;
}

static void e_random(void *ctx, uint8_t *b, size_t n)
{
	(void)ctx;
	memset(b, 0x5a, n);
}

static enum ras_admit_rc e_authorize(void *ctx, struct ras_session *rs, const struct ras_auth_req *q,
                                     struct ras_verdict *v)
{
	(void)ctx;
	W.authorized++;
	W.asked = q->admit;
	snprintf(W.asked_user, sizeof W.asked_user, "%s", q->admit.user);
	W.asked.user = W.asked_user;
	W.asked.client_ip = W.asked.server_ip = NULL;
	ck_assert_ptr_nonnull(q->auth);
	ck_assert_uint_eq(q->auth->given_len, 24);
	memcpy(W.given_nt, q->auth->given, 24);
	ck_assert_int_eq(q->method, PPP_AUTH_MSCHAPV2);
	if (W.pending) {
		W.pending_seq = rs->admit_seq;
		return RAS_ADMIT_PENDING;
	}
	ras_session_admit_local(rs, q, v);
	return RAS_ADMIT_NOW;
}

static bool e_forward(void *ctx, struct ras_session *rs, const uint8_t *ip, size_t len)
{
	(void)ctx;
	(void)rs;
	(void)ip;
	(void)len;
	W.forwarded++;
	return true;
}

static bool e_throttle(void *ctx)
{
	(void)ctx;
	return true;
}

static time_t e_wall(void *ctx)
{
	(void)ctx;
	return 1796198400;
}

static const struct ras_env_cbs ECBS = {
	.log = e_log, .event = e_event, .random = e_random, .authorize = e_authorize,
	.forward = e_forward, .throttle = e_throttle, .wall = e_wall,
};

static void reap(void)
{
	if (W.rs && W.rs->state == RAS_DEAD) {
		ras_session_free(W.rs);
		free(W.rs);
		W.rs = NULL;
	}
}

static void world_init(void)
{
	memset(&W, 0, sizeof W);
	W.now = 5000;
	struct config_problems pr = {0};
	W.cfg = config_load_mem("t.json", CONF, strlen(CONF), &pr);
	if (!W.cfg) config_problems_print(&pr, "t.json");
	config_problems_free(&pr);
	ck_assert_ptr_nonnull(W.cfg);
	ck_assert_int_eq(addr_pool_init(&W.pool, &W.cfg->server), 0);
	ck_assert_int_eq(policy_result_init(&W.pres, W.cfg), 0);
	W.pres.full_trace = true;
	ppp_session_conf_default(&W.pconf, true);
	W.pconf.local_addr = addr_pool_server(&W.pool);
	W.env = (struct ras_env){
		.cfg = W.cfg, .ppp = &W.pconf, .pool = &W.pool, .pres = &W.pres,
		.server_ip = "127.0.0.1", .cbs = &ECBS, .ctx = &W,
	};
	W.rs = calloc(1, sizeof *W.rs);
	ck_assert_ptr_nonnull(W.rs);
	ck_assert_int_eq(ras_session_init(W.rs, &W.env, &IP_OPS, 7, W.now), 0);
	ras_session_start(W.rs, W.now); /* nothing to start without PPP */
	ck_assert_int_eq(W.rs->state, RAS_LINK);
}

static void world_free(void)
{
	if (W.rs) {
		ras_session_abort(W.rs, RAS_CAUSE_SHUTDOWN, W.now);
		reap();
	}
	ck_assert_uint_eq(addr_pool_clients(&W.pool), 0);
	policy_result_free(&W.pres);
	addr_pool_free(&W.pool);
	config_free(W.cfg);
}

/* What the lower layer's own check found, with an MS-CHAPv2 exchange to forward. */
static void authenticated(const char *user, enum ppp_cred cred)
{
	static const uint8_t ch[16] = {1}, pch[16] = {2};
	uint8_t nt[24];
	for (int i = 0; i < 24; i++) nt[i] = (uint8_t)(0x30 + i);
	struct ras_ip_auth a = {.user = user, .cred = cred, .challenge = ch, .peer_challenge = pch,
	                        .nt_response = nt};
	ras_session_authenticated(W.rs, &a, W.now);
	reap();
}

static size_t echo_request(uint32_t src, uint32_t dst, uint8_t *ip)
{
	static const uint8_t h[28] = {0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0};
	memcpy(ip, h, sizeof h);
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	ip[20] = 8;
	return sizeof h;
}

START_TEST(admitted_up_ping_and_disconnect)
{
	world_init();
	authenticated("u", PPP_CRED_OK);
	/* the same admission as PPP: tunnel ikev2, EAP with MS-CHAPv2, strongest */
	ck_assert_uint_eq(W.authorized, 1);
	ck_assert_int_eq(W.asked.tunnel, TUN_IKEV2);
	ck_assert_int_eq(W.asked.method, AUTH_EAP);
	ck_assert_int_eq(W.asked.eap_type, EAP_MSCHAPV2);
	ck_assert_int_eq(W.asked.encryption, ENC_STRONGEST);
	ck_assert_str_eq(W.asked_user, "u");
	ck_assert_uint_eq(W.given_nt[0], 0x30);
	ck_assert_uint_eq(W.admitted, 1);
	ck_assert(W.last.accept);
	ck_assert_ptr_nonnull(W.rs);
	ck_assert_int_eq(W.rs->state, RAS_NETWORK);
	ck_assert_uint_eq(W.rs->addr, 0x0a070002); /* the pool's first client address */
	ck_assert_str_eq(ras_session_user(W.rs), "u");
	ck_assert_str_eq(ras_session_method_name(W.rs), "EAP-MSCHAPv2");
	ck_assert_str_eq(ras_session_show_state(W.rs), "admitted");
	/* before the tunnel is up nothing flows */
	uint8_t ip[64];
	size_t n = echo_request(W.rs->addr, W.pconf.local_addr, ip);
	ras_session_ip_input(W.rs, ip, n, W.now);
	ck_assert_uint_eq(W.sent, 0);
	ras_session_ip_up(W.rs, W.now);
	ck_assert_int_eq(W.rs->state, RAS_UP);
	ck_assert_uint_eq(W.ev_up, 1);
	ck_assert_str_eq(ras_session_show_state(W.rs), "up");
	ck_assert_int_eq(W.rs->enc_level, ENC_STRONGEST);
	/* the server's address answers, as a packet (no PPP header) */
	ras_session_ip_input(W.rs, ip, n, W.now);
	ck_assert_uint_eq(W.sent, 1);
	ck_assert_uint_eq(W.pkt_len, 28);
	ck_assert_uint_eq(W.pkt[0], 0x45);
	ck_assert_uint_eq(W.pkt[20], 0); /* echo reply */
	ck_assert_mem_eq(W.pkt + 16, ip + 12, 4);
	/* PPP frames mean nothing to it */
	static const uint8_t lcp[] = {0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4};
	ras_session_input(W.rs, lcp, sizeof lcp, W.now);
	ck_assert_uint_eq(W.sent, 1);
	/* a spoofed source is dropped, another destination forwarded */
	n = echo_request(0x0a070005, 0x08080808, ip);
	ras_session_ip_input(W.rs, ip, n, W.now);
	ck_assert_uint_eq(W.forwarded, 0);
	n = echo_request(W.rs->addr, 0x08080808, ip);
	ras_session_ip_input(W.rs, ip, n, W.now);
	ck_assert_uint_eq(W.forwarded, 1);
	/* packets for the client leave as they are */
	ras_session_send_ip(W.rs, ip, n);
	ck_assert_uint_eq(W.sent, 2);
	ck_assert_mem_eq(W.pkt, ip, n);
	/* the end goes through the lower layer, which reports it down */
	ras_session_disconnect(W.rs, RAS_CAUSE_ADMIN, W.now);
	ck_assert_uint_eq(W.closes, 1);
	ck_assert_uint_eq(W.ev_down, 1);
	ck_assert_uint_eq(W.ev_dead, 1);
	ck_assert_ptr_nonnull(strstr(W.log, "cause=admin-disconnect user=u"));
	reap();
	ck_assert_ptr_null(W.rs);
	world_free();
}
END_TEST

START_TEST(policy_denial_reaches_the_lower_layer)
{
	world_init();
	authenticated("d", PPP_CRED_OK);
	ck_assert_uint_eq(W.admitted, 1);
	ck_assert(!W.last.accept);
	ck_assert_uint_eq(W.last.win_error, 649);
	ck_assert_uint_eq(W.ev_up, 0);
	ck_assert_uint_eq(W.ev_dead, 1); /* a rejection ends the session at once */
	ck_assert_ptr_null(W.rs);
	ck_assert_ptr_nonnull(strstr(W.log, "error=649"));
	ck_assert_ptr_nonnull(strstr(W.log, "ended before it came up: rejected-649"));
	world_free();
}
END_TEST

START_TEST(wrong_password_is_691)
{
	world_init();
	authenticated("u", PPP_CRED_BAD);
	ck_assert(!W.last.accept);
	ck_assert_uint_eq(W.last.win_error, 691);
	ck_assert_uint_eq(W.env.st.auth_failures, 1);
	ck_assert_ptr_null(W.rs);
	world_free();
}
END_TEST

START_TEST(pending_accept_needs_proof_of_unchecked_credentials)
{
	world_init();
	W.pending = true;
	authenticated("radiususer", PPP_CRED_NO_USER);
	ck_assert_uint_eq(W.admitted, 0);
	ck_assert_int_eq(W.rs->state, RAS_ADMITTING);
	ck_assert_str_eq(ras_session_show_state(W.rs), "auth");
	struct ras_verdict v = {.accept = true, .policy = -1, .address_from_pool = true,
	                        .enc_allowed = 1u << ENC_STRONGEST};
	/* a stale sequence number is ignored */
	ck_assert_int_eq(ras_session_admit_resume(W.rs, W.pending_seq + 1, &v, W.now, NULL), -1);
	/* an acceptance without the server's proof cannot stand */
	ck_assert_int_eq(ras_session_admit_resume(W.rs, W.pending_seq, &v, W.now, NULL), 0);
	ck_assert(!W.last.accept);
	ck_assert_uint_eq(W.last.win_error, 691);
	reap();
	ck_assert_ptr_null(W.rs);
	world_free();

	world_init();
	W.pending = true;
	authenticated("radiususer", PPP_CRED_NO_USER);
	static const uint8_t sk[16] = {9}, rk[16] = {8};
	v.mschap2_success = "S=0123456789ABCDEF0123456789ABCDEF01234567";
	v.mppe_send_key = sk;
	v.mppe_recv_key = rk;
	ck_assert_int_eq(ras_session_admit_resume(W.rs, W.pending_seq, &v, W.now, NULL), 0);
	ck_assert(W.last.accept);
	ck_assert(W.last_had_proof);
	ck_assert_int_eq(W.rs->state, RAS_NETWORK);
	ck_assert_str_eq(ras_session_user(W.rs), "radiususer");
	/* a second verdict is ignored */
	ck_assert_int_eq(ras_session_admit_resume(W.rs, W.pending_seq, &v, W.now, NULL), -1);
	ck_assert_uint_eq(W.admitted, 1);
	world_free();
}
END_TEST

START_TEST(idle_timeout_without_ppp)
{
	world_init();
	authenticated("i", PPP_CRED_OK);
	ck_assert_int_eq(W.rs->idle_timeout, 2);
	ras_session_ip_up(W.rs, W.now);
	uint64_t d = ras_session_deadline(W.rs);
	ck_assert_uint_eq(d, W.now + 120000);
	W.now += 60000;
	uint8_t ip[64];
	size_t n = echo_request(W.rs->addr, 0x08080808, ip);
	ras_session_ip_input(W.rs, ip, n, W.now); /* traffic moves the idle deadline */
	ck_assert_uint_eq(ras_session_deadline(W.rs), W.now + 120000);
	W.now += 120000;
	ras_session_tick(W.rs, W.now);
	ck_assert_uint_eq(W.closes, 1);
	ck_assert_uint_eq(W.ev_down, 1);
	ck_assert_ptr_nonnull(strstr(W.log, "cause=idle-timeout"));
	reap();
	ck_assert_ptr_null(W.rs);
	world_free();
}
END_TEST

START_TEST(encryption_not_allowed_by_the_grant)
{
	world_init();
	W.pending = true;
	authenticated("u", PPP_CRED_OK);
	struct ras_verdict v = {.accept = true, .policy = -1, .address_from_pool = true,
	                        .enc_allowed = 1u << ENC_BASIC};
	ck_assert_int_eq(ras_session_admit_resume(W.rs, W.pending_seq, &v, W.now, NULL), 0);
	ck_assert(W.last.accept);
	ras_session_ip_up(W.rs, W.now);
	ck_assert_uint_eq(W.closes, 1);
	ck_assert_ptr_nonnull(strstr(W.log, "cause=encryption-not-allowed"));
	reap();
	ck_assert_ptr_null(W.rs);
	world_free();
}
END_TEST

START_TEST(lower_gone_before_the_verdict)
{
	world_init();
	W.pending = true;
	authenticated("u", PPP_CRED_OK);
	unsigned seq = W.pending_seq;
	ras_session_lower_down(W.rs, RAS_CAUSE_LOWER, 2, 0, W.now);
	ck_assert_uint_eq(W.ev_dead, 1);
	ck_assert_ptr_nonnull(strstr(W.log, "ended before it came up: sa-2-0"));
	ck_assert_int_eq(ras_session_admit_resume(W.rs, seq, &(struct ras_verdict){.accept = true},
	                                          W.now, NULL), -1);
	ck_assert_uint_eq(W.admitted, 0);
	reap();
	world_free();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ras_session_ip");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, admitted_up_ping_and_disconnect);
	tcase_add_test(tc, policy_denial_reaches_the_lower_layer);
	tcase_add_test(tc, wrong_password_is_691);
	tcase_add_test(tc, pending_accept_needs_proof_of_unchecked_credentials);
	tcase_add_test(tc, idle_timeout_without_ppp);
	tcase_add_test(tc, encryption_not_allowed_by_the_grant);
	tcase_add_test(tc, lower_gone_before_the_verdict);
	suite_add_tcase(s, tc);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int f = srunner_ntests_failed(r);
	srunner_free(r);
	return f ? 1 : 0;
}
