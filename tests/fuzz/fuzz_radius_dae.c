/* libFuzzer target for the RFC 5176 dynamic authorization port of `vnet serve`
 * (engine/radius/dae.h): the input is a datagram from the configured DAS, its Request
 * Authenticator (and Message-Authenticator, when it has one) signed with the client's
 * secret first, so the input reaches the checks, the session table and the answer, not
 * only the drop. An answer must verify with the secret, decode, be an ACK or NAK of the
 * request's kind, and come back byte for byte when the datagram is sent again. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "policy/config.h"
#include "radius.h"
#include "radius/dae.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conf_text[] =
	"{\"server\": {\"radius\": {\"dynamic_authorization\": {\"duplicate_cache\": 4,"
	" \"clients\": [{\"address\": \"127.0.0.1\", \"secret\": \"testing123\"}]}}}}";
static const uint8_t secret[] = "testing123";

static const struct dae_sess sessions[] = {
	{"alice", "run-1", "127.0.0.1", "127.0.0.2", 0x0a010002, 1, 5},
	{"bob", "run-2", "127.0.0.3", "127.0.0.2", 0, 2, 5},
	{"", "run-3", "", "127.0.0.2", 0x0a010004, 3, 5},
};

static int f_act(void *ctx, const struct dae_ident *q, const struct dae_change *c)
{
	(void)ctx;
	int hits = 0;
	for (size_t i = 0; i < sizeof sessions / sizeof sessions[0]; i++)
		hits += dae_session_matches(q, &sessions[i]);
	if (c && c->has_session_timeout && c->session_timeout == 0xdeadbeef) return -1;
	return hits;
}

static time_t f_wall(void *ctx)
{
	(void)ctx;
	return 1796198400;
}

static const struct dae_cbs cbs = {.wall = f_wall, .act = f_act};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config *c;
	static uint64_t now = 1000;
	if (!c) {
		struct config_problems probs = {0};
		c = config_load_mem("fuzz", conf_text, sizeof conf_text - 1, &probs);
		config_problems_free(&probs);
		if (!c) abort();
	}
	if (size > RADIUS_MAX_LEN) return 0;
	static uint8_t buf[RADIUS_MAX_LEN], out[RADIUS_MAX_LEN], first[RADIUS_MAX_LEN];
	memcpy(buf, data, size);
	now += 1000;
	struct dae d;
	struct dae_nas nas = {.identifier = "nas-1", .ip = 0x7f000001};
	if (dae_init(&d, &c->server.radius_conf.dae, &nas, &cbs, NULL)) abort();
	struct sockaddr_storage peer;
	memset(&peer, 0, sizeof peer);
	struct sockaddr_in *s4 = (struct sockaddr_in *)&peer;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(40000);
	s4->sin_addr.s_addr = htonl(0x7f000001);
	(void)radius_sign(buf, size, NULL, secret, 10);
	size_t a1 = dae_input(&d, &peer, buf, size, now, out, sizeof out);
	if (a1 > RADIUS_MAX_LEN) abort();
	if (a1) {
		struct radius_msg *m = malloc(sizeof *m);
		struct diag_err err;
		if (!m) abort();
		if (radius_verify_auth(out, a1, buf + 4, secret, 10) != 1) abort();
		if (radius_verify_msg_auth(out, a1, buf + 4, secret, 10) != 1) abort();
		if (radius_decode(out, a1, m, &err) != 0) abort();
		if (buf[0] == RADIUS_COA_REQUEST ? m->code != RADIUS_COA_ACK && m->code != RADIUS_COA_NAK
		                                 : m->code != RADIUS_DISCONNECT_ACK &&
		                                   m->code != RADIUS_DISCONNECT_NAK)
			abort();
		/* a NAK says why, an ACK does not */
		if ((m->code == RADIUS_COA_NAK || m->code == RADIUS_DISCONNECT_NAK) !=
		    (radius_find(m, RADIUS_ATTR_ERROR_CAUSE) != NULL))
			abort();
		free(m);
		memcpy(first, out, a1);
		size_t a2 = dae_input(&d, &peer, buf, size, now + 1, out, sizeof out);
		if (a2 != a1 || memcmp(first, out, a1) != 0) abort(); /* the same answer */
	}
	dae_free(&d);
	return 0;
}
