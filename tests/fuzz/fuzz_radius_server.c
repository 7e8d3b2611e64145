/* libFuzzer target for both ends of RADIUS in `vnet serve`:
 *   the NPS-compatible server (engine/radius/nps.h): the input is a datagram from the
 *   configured client; its Message-Authenticator (and an Accounting-Request's
 *   authenticator) is signed with the client's secret first, so the input reaches the
 *   decision and the answer, not only the drop; then it is sent again (the cache);
 *   the RADIUS client (engine/radius/client.h): the input is the answer to an
 *   Access-Request in flight, its identifier and authenticators made right, so the
 *   verdict's attributes are read. */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "policy/admit.h"
#include "policy/config.h"
#include "policy/policy.h"
#include "radius.h"
#include "radius/client.h"
#include "radius/nps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conf_text[] =
	"{\"server\": {\"auth_methods\": [\"mschapv2\", \"chap\", \"pap\"], \"ports\": {\"l2tp\": 8},"
	" \"auth_provider\": \"radius\", \"pool\": [{\"start\": \"10.1.0.1\", \"end\": \"10.1.0.4\"}],"
	" \"radius\": {\"servers\": [{\"address\": \"127.0.0.1\", \"secret\": \"testing123\"}]}},"
	" \"groups\": [{\"name\": \"VPN\"}],"
	" \"policies\": [{\"name\": \"p\", \"conditions\": [{\"attribute\": \"Windows-Groups\","
	" \"value\": [\"VPN\"]}], \"permission\": \"grant\", \"profile\": {\"auth_methods\":"
	" [\"mschapv2\", \"chap\", \"pap\"], \"session_timeout\": 5}}],"
	" \"users\": [{\"name\": \"alice\", \"password\": \"pw\", \"groups\": [\"VPN\"]}],"
	" \"serve\": {\"radius_server\": {\"listen\": \"127.0.0.1:1812\", \"duplicate_cache\": 4,"
	" \"clients\": [{\"address\": \"127.0.0.1\", \"secret\": \"testing123\"}]}}}";
static const uint8_t secret[] = "testing123";

static void f_random(void *ctx, uint8_t *buf, size_t n)
{
	(void)ctx;
	memset(buf, 0x42, n);
}

static time_t f_wall(void *ctx)
{
	(void)ctx;
	return 1796198400;
}

static const struct nps_cbs ncbs = {.random = f_random, .wall = f_wall};

static uint8_t sent[RADIUS_MAX_LEN];
static size_t sent_len;
static int answered;

static void f_send(void *ctx, unsigned server, bool acct, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	(void)server;
	(void)acct;
	memcpy(sent, pkt, len);
	sent_len = len;
}

static void f_done(void *ctx, uint64_t cookie, const struct radc_answer *a)
{
	(void)ctx;
	(void)cookie;
	answered++;
	if (a && radius_find(a->m, RADIUS_ATTR_FRAMED_IP_ADDRESS)) answered++;
}

static const struct radc_cbs ccbs = {.send = f_send, .random = f_random, .auth_done = f_done};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config *c;
	static struct addr_pool pool;
	static struct policy_result pres;
	static uint64_t now = 1000;
	if (!c) {
		struct config_problems probs = {0};
		c = config_load_mem("fuzz", conf_text, sizeof conf_text - 1, &probs);
		config_problems_free(&probs);
		if (!c || addr_pool_init(&pool, &c->server) || policy_result_init(&pres, c)) abort();
	}
	if (size > RADIUS_MAX_LEN) return 0;
	static uint8_t buf[RADIUS_MAX_LEN], out[RADIUS_MAX_LEN];
	memcpy(buf, data, size);
	now += 1000;

	/* the server */
	struct nps n;
	if (nps_init(&n, c, &pres, &pool, &ncbs, NULL)) abort();
	struct sockaddr_storage peer;
	memset(&peer, 0, sizeof peer);
	struct sockaddr_in *s4 = (struct sockaddr_in *)&peer;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(40000);
	s4->sin_addr.s_addr = htonl(0x7f000001);
	(void)radius_sign(buf, size, NULL, secret, 10);
	size_t a1 = nps_input(&n, &peer, buf, size, now, out, sizeof out);
	if (a1 > RADIUS_MAX_LEN) abort();
	if (a1) {
		/* the answer verifies with the secret and decodes */
		struct radius_msg *m = malloc(sizeof *m);
		struct diag_err err;
		if (!m) abort();
		if (radius_verify_auth(out, a1, buf + 4, secret, 10) != 1) abort();
		if (radius_decode(out, a1, m, &err) != 0) abort();
		free(m);
		size_t a2 = nps_input(&n, &peer, buf, size, now + 1, out, sizeof out);
		if (a2 != a1) abort(); /* the same answer from the cache */
	}
	nps_free(&n);

	/* the client */
	struct radc rc;
	if (radc_init(&rc, c, &ccbs, NULL)) abort();
	struct radc_body b = {.n = 0};
	radc_body_put(&b, RADIUS_ATTR_USER_NAME, "alice", 5);
	bool busy;
	sent_len = 0;
	radc_auth(&rc, 7, &b, (const uint8_t *)"pw", 2, now, &busy);
	if (busy || sent_len < 20) abort();
	memcpy(buf, data, size);
	if (size >= 20) {
		buf[1] = sent[1];
		(void)radius_sign(buf, size, sent + 4, secret, 10);
	}
	answered = 0;
	radc_input(&rc, 0, false, buf, size, now);
	radc_tick(&rc, now + 100000);
	radc_tick(&rc, now + 200000);
	radc_free(&rc);
	return 0;
}
