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
	"{\"server\": {\"auth_methods\": [\"mschapv2\", \"chap\", \"pap\", \"eap\"],"
	" \"eap_types\": [\"mschapv2\", \"md5\"], \"ports\": {\"l2tp\": 8},"
	" \"auth_provider\": \"radius\", \"pool\": [{\"start\": \"10.1.0.1\", \"end\": \"10.1.0.4\"}],"
	" \"radius\": {\"servers\": [{\"address\": \"127.0.0.1\", \"secret\": \"testing123\"}]}},"
	" \"groups\": [{\"name\": \"VPN\"}],"
	" \"policies\": [{\"name\": \"p\", \"conditions\": [{\"attribute\": \"Windows-Groups\","
	" \"value\": [\"VPN\"]}], \"permission\": \"grant\", \"profile\": {\"auth_methods\":"
	" [\"mschapv2\", \"chap\", \"pap\", \"eap\"], \"eap_types\": [\"mschapv2\"],"
	" \"session_timeout\": 5}}],"
	" \"users\": [{\"name\": \"alice\", \"password\": \"pw\", \"groups\": [\"VPN\"]}],"
	" \"serve\": {\"radius_server\": {\"listen\": \"127.0.0.1:1812\", \"duplicate_cache\": 4,"
	" \"eap_conversations\": 2, \"eap_timeout\": 20,"
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

/* One Access-Request carrying `eap` (n octets) and `state`, signed; the answer's State
 * (if any) replaces state. */
static void eap_round(struct nps *n, const struct sockaddr_storage *peer, const uint8_t *eap,
                      size_t len, uint8_t *state, size_t *state_len, uint64_t now)
{
	static struct radius_msg m;
	static uint8_t pkt[RADIUS_MAX_LEN], out[RADIUS_MAX_LEN], auth[16];
	static const uint8_t zero[16];
	static uint8_t seq;
	memset(&m, 0, sizeof m);
	m.code = RADIUS_ACCESS_REQUEST;
	m.id = ++seq;
	memset(auth, seq, sizeof auth);
	m.auth = auth;
	m.attrs[m.nattrs++] = (struct radius_attr){.type = RADIUS_ATTR_USER_NAME,
		.val = (const uint8_t *)"alice", .vlen = 5};
	for (size_t off = 0; (off < len || off == 0) && m.nattrs < RADIUS_MAX_ATTRS - 2; off += 253) {
		size_t k = len - off > 253 ? 253 : len - off;
		m.attrs[m.nattrs++] = (struct radius_attr){.type = RADIUS_ATTR_EAP_MESSAGE,
			.val = eap + off, .vlen = k};
		if (!len) break;
	}
	if (*state_len)
		m.attrs[m.nattrs++] = (struct radius_attr){.type = RADIUS_ATTR_STATE, .val = state,
			.vlen = *state_len};
	m.attrs[m.nattrs++] = (struct radius_attr){.type = RADIUS_ATTR_MESSAGE_AUTHENTICATOR,
		.val = zero, .vlen = 16};
	size_t pl = radius_encode(&m, pkt, sizeof pkt);
	if (!pl || radius_sign(pkt, pl, NULL, secret, 10) != 0) return;
	size_t a = nps_input(n, peer, pkt, pl, now, out, sizeof out);
	if (!a) return;
	struct radius_msg *r = malloc(sizeof *r);
	struct diag_err err;
	if (!r) abort();
	if (radius_verify_auth(out, a, auth, secret, 10) != 1) abort();
	if (radius_decode(out, a, r, &err) != 0) abort();
	/* every answer to EAP carries an EAP-Message; only a Challenge a State */
	if (!radius_find(r, RADIUS_ATTR_EAP_MESSAGE)) abort();
	const struct radius_attr *st = radius_find(r, RADIUS_ATTR_STATE);
	if ((r->code == RADIUS_ACCESS_CHALLENGE) != (st != NULL)) abort();
	if (st && st->vlen <= 64) {
		memcpy(state, st->val, st->vlen);
		*state_len = st->vlen;
	}
	free(r);
}

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
	/* the EAP conversation of the pieces */
	uint8_t state[64];
	size_t state_len = 0, start = 0;
	for (size_t i = 0, rounds = 0; i <= size && rounds < 8; i++) {
		if (i < size && !(i + 1 < size && data[i] == 0xff && data[i + 1] == 0xff)) continue;
		size_t len = i - start;
		now += len ? (uint64_t)data[start + len - 1] * 1000 : 1;
		eap_round(&n, &peer, data + start, len, state, &state_len, now);
		rounds++;
		start = i + 2;
		i++;
	}
	if (n.eap.n > n.eap.cap) abort();
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
