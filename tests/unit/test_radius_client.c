/* The RADIUS client of vnet serve (engine/radius/client.h), sans-I/O: what goes out to
 * which server and when, which answers are taken, failover, the dead-server hold time,
 * the accounting queue and its bound. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "policy/config.h"
#include "radius.h"
#include "radius/client.h"

static const char conf_text[] =
	"{\"server\": {\"auth_provider\": \"radius\", \"radius\": {\"servers\": ["
	" {\"address\": \"192.0.2.1\", \"secret\": \"first-secret\", \"timeout\": 2, \"retries\": 1,"
	"  \"priority\": 1},"
	" {\"address\": \"192.0.2.2\", \"secret\": \"second-secret\", \"timeout\": 3, \"retries\": 0,"
	"  \"priority\": 2}],"
	" \"dead_time\": 10, \"accounting_queue_max\": 2}}}";

static struct config *C;
static struct sent {
	unsigned server;
	bool acct;
	uint8_t pkt[RADIUS_MAX_LEN];
	size_t len;
} S[64];
static unsigned NS;
static unsigned DONE, DONE_NULL;
static uint64_t DONE_COOKIE;

static void t_send(void *ctx, unsigned server, bool acct, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	ck_assert_uint_lt(NS, 64);
	S[NS].server = server;
	S[NS].acct = acct;
	memcpy(S[NS].pkt, pkt, len);
	S[NS].len = len;
	NS++;
}

static void t_random(void *ctx, uint8_t *buf, size_t n)
{
	(void)ctx;
	static uint8_t x;
	for (size_t i = 0; i < n; i++) buf[i] = ++x;
}

static void t_done(void *ctx, uint64_t cookie, const struct radc_answer *a)
{
	(void)ctx;
	DONE++;
	DONE_COOKIE = cookie;
	if (!a) DONE_NULL++;
}

static const struct radc_cbs CBS = {.send = t_send, .random = t_random, .auth_done = t_done};

static void setup(void)
{
	struct config_problems p = {0};
	C = config_load_mem("t", conf_text, sizeof conf_text - 1, &p);
	config_problems_free(&p);
	ck_assert_ptr_nonnull(C);
	NS = DONE = DONE_NULL = 0;
}

static void teardown(void)
{
	config_free(C);
}

/* An answer to sent packet k, signed with `secret`, with or without Message-Authenticator. */
static size_t answer(unsigned k, uint8_t code, const char *secret, bool ma, uint8_t *out)
{
	static const uint8_t zero[16];
	struct radius_msg m;
	memset(&m, 0, sizeof m);
	m.code = code;
	m.id = S[k].pkt[1];
	if (ma) m.attrs[m.nattrs++] = (struct radius_attr){.type = 80, .val = zero, .vlen = 16};
	size_t n = radius_encode(&m, out, RADIUS_MAX_LEN);
	ck_assert_int_eq(radius_sign(out, n, S[k].pkt + 4, (const uint8_t *)secret, strlen(secret)), 0);
	return n;
}

START_TEST(request_signed_with_the_password_hidden)
{
	struct radc c;
	ck_assert_int_eq(radc_init(&c, C, &CBS, NULL), 0);
	struct radc_body b = {.n = 0};
	radc_body_put(&b, RADIUS_ATTR_USER_NAME, "alice", 5);
	bool busy;
	uint64_t d = radc_auth(&c, 42, &b, (const uint8_t *)"pw", 2, 1000, &busy);
	ck_assert(!busy);
	ck_assert_uint_eq(d, 3000);
	ck_assert_uint_eq(NS, 1);
	ck_assert_uint_eq(S[0].server, 0); /* priority 1 first */
	ck_assert(!S[0].acct);
	const uint8_t *sec = (const uint8_t *)"first-secret";
	ck_assert_int_eq(radius_verify_msg_auth(S[0].pkt, S[0].len, NULL, sec, 12), 1);
	struct radius_msg m;
	struct diag_err err;
	ck_assert_int_eq(radius_decode(S[0].pkt, S[0].len, &m, &err), 0);
	const struct radius_attr *pw = radius_find(&m, RADIUS_ATTR_USER_PASSWORD);
	ck_assert_ptr_nonnull(pw);
	uint8_t clear[128];
	ck_assert_int_eq(radius_unhide_password(pw->val, pw->vlen, sec, 12, m.auth, clear), 2);
	ck_assert_int_eq(memcmp(clear, "pw", 2), 0);
	radc_free(&c);
}
END_TEST

START_TEST(answers_that_do_not_verify_are_dropped)
{
	struct radc c;
	ck_assert_int_eq(radc_init(&c, C, &CBS, NULL), 0);
	struct radc_body b = {.n = 0};
	radc_body_put(&b, RADIUS_ATTR_USER_NAME, "alice", 5);
	bool busy;
	radc_auth(&c, 42, &b, NULL, 0, 1000, &busy);
	uint8_t a[RADIUS_MAX_LEN];
	size_t n = answer(0, RADIUS_ACCESS_ACCEPT, "other-secret", true, a);
	radc_input(&c, 0, false, a, n, 1001);
	n = answer(0, RADIUS_ACCESS_ACCEPT, "first-secret", false, a); /* no Message-Authenticator */
	radc_input(&c, 0, false, a, n, 1002);
	n = answer(0, RADIUS_ACCESS_ACCEPT, "first-secret", true, a);
	radc_input(&c, 1, false, a, n, 1003);   /* from the other server */
	radc_input(&c, 0, true, a, n, 1003);    /* on the accounting port */
	ck_assert_uint_eq(DONE, 0);
	ck_assert_uint_eq(c.st.bad_answers, 4);
	radc_input(&c, 0, false, a, n, 1004);
	ck_assert_uint_eq(DONE, 1);
	ck_assert_uint_eq(DONE_NULL, 0);
	ck_assert_uint_eq(DONE_COOKIE, 42);
	radc_input(&c, 0, false, a, n, 1005);   /* once only */
	ck_assert_uint_eq(DONE, 1);
	radc_free(&c);
}
END_TEST

START_TEST(retransmission_failover_and_hold_time)
{
	struct radc c;
	ck_assert_int_eq(radc_init(&c, C, &CBS, NULL), 0);
	struct radc_body b = {.n = 0};
	radc_body_put(&b, RADIUS_ATTR_USER_NAME, "alice", 5);
	bool busy;
	radc_auth(&c, 7, &b, NULL, 0, 0, &busy);
	radc_tick(&c, 1999);
	ck_assert_uint_eq(NS, 1);
	radc_tick(&c, 2000);                     /* the retransmission: same packet */
	ck_assert_uint_eq(NS, 2);
	ck_assert_uint_eq(S[1].len, S[0].len);
	ck_assert_int_eq(memcmp(S[0].pkt, S[1].pkt, S[0].len), 0);
	uint64_t d = radc_tick(&c, 4000);        /* retries over: the next server */
	ck_assert_uint_eq(NS, 3);
	ck_assert_uint_eq(S[2].server, 1);
	ck_assert(radc_server_dead(&c, 0, 4000));
	ck_assert_uint_eq(d, 7000);
	ck_assert_int_eq(radius_verify_msg_auth(S[2].pkt, S[2].len, NULL,
	                                        (const uint8_t *)"second-secret", 13), 1);
	/* the second server answers: a new request skips the first until its hold time is
	 * over */
	uint8_t a[RADIUS_MAX_LEN];
	size_t n = answer(2, RADIUS_ACCESS_REJECT, "second-secret", true, a);
	radc_input(&c, 1, false, a, n, 4500);
	ck_assert_uint_eq(DONE, 1);
	NS = 0;
	radc_auth(&c, 8, &b, NULL, 0, 5000, &busy);
	ck_assert_uint_eq(S[0].server, 1);
	n = answer(0, RADIUS_ACCESS_ACCEPT, "second-secret", true, a);
	radc_input(&c, 1, false, a, n, 5001);
	ck_assert_uint_eq(DONE, 2);
	radc_tick(&c, 14000);
	ck_assert(!radc_server_dead(&c, 0, 14000));
	NS = 0;
	radc_auth(&c, 9, &b, NULL, 0, 14001, &busy);
	ck_assert_uint_eq(S[0].server, 0);       /* back after dead_time */
	/* nobody answers at all: auth_done without an answer */
	radc_tick(&c, 16001);
	radc_tick(&c, 18001);                    /* to the second server */
	radc_tick(&c, 21001);
	ck_assert_uint_eq(DONE, 3);
	ck_assert_uint_eq(DONE_NULL, 1);
	ck_assert_uint_eq(DONE_COOKIE, 9);
	radc_free(&c);
}
END_TEST

START_TEST(accounting_waits_while_every_server_is_dead)
{
	struct radc c;
	ck_assert_int_eq(radc_init(&c, C, &CBS, NULL), 0);
	c.srv[0].dead_until = c.srv[1].dead_until = 10000;
	struct radc_body b = {.n = 0};
	radc_body_u32(&b, RADIUS_ATTR_ACCT_STATUS_TYPE, RADIUS_ACCT_STOP);
	for (int i = 0; i < 3; i++) radc_acct(&c, &b, 0, 1000);
	ck_assert_uint_eq(NS, 0);
	ck_assert_uint_eq(c.nqueue, 2);          /* the bound: the oldest went */
	ck_assert_uint_eq(c.st.acct_queue_dropped, 1);
	uint64_t d = radc_deadline(&c);
	ck_assert_uint_eq(d, 10000);
	radc_tick(&c, 10000);                    /* hold time over: the queue goes out */
	ck_assert_uint_eq(NS, 2);
	ck_assert(S[0].acct);
	ck_assert_uint_eq(c.nqueue, 0);
	/* signed as an Accounting-Request, with the time it waited */
	ck_assert_int_eq(radius_verify_auth(S[0].pkt, S[0].len, NULL,
	                                    (const uint8_t *)"first-secret", 12), 1);
	struct radius_msg m;
	struct diag_err err;
	ck_assert_int_eq(radius_decode(S[0].pkt, S[0].len, &m, &err), 0);
	const struct radius_attr *dt = radius_find(&m, RADIUS_ATTR_ACCT_DELAY_TIME);
	ck_assert_ptr_nonnull(dt);
	ck_assert_uint_eq(dt->val[3], 9);
	/* at stop, what is still in flight is kept for the next run */
	radc_hold_inflight(&c);
	ck_assert_uint_eq(c.nqueue, 2);
	ck_assert_uint_eq(c.ninflight, 0);
	radc_free(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("radius_client");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, request_signed_with_the_password_hidden);
	tcase_add_test(tc, answers_that_do_not_verify_are_dropped);
	tcase_add_test(tc, retransmission_failover_and_hold_time);
	tcase_add_test(tc, accounting_waits_while_every_server_is_dead);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
