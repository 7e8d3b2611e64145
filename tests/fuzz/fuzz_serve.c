/* libFuzzer target for the whole server path: the input is a sequence of datagrams, each
 * [peer byte][length u16][bytes], from up to four client addresses, fed to one server
 * (the L2TP control automaton, calls, PPP, authentication, admission through the policy
 * engine, the data path) without sockets. Datagrams the server sends go nowhere. The
 * server is built once and reused, so state carries over between inputs as it would
 * between packets of a long run; the input also starts with a real SCCRQ now and then
 * from the seeds, which gets deep into PPP. Checks: no crash, no leak, the counters
 * agree with what was fed, and every 32 inputs the server's tables agree with each other
 * and with the automata (srv_check_tables: a tunnel in the slot of its own ID, the
 * half-open list and its per-address counts, sessions and established calls one to one;
 * it walks all 65536 tunnel slots, and a disagreement stays until it is seen). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CONFIG[] =
	"{\"server\": {\"auth_methods\": [\"mschapv2\", \"chap\", \"pap\"],"
	" \"encryption\": [\"none\"], \"ports\": {\"l2tp\": 8},"
	" \"address_assignment\": \"pool\", \"pool\": [{\"start\": \"10.9.0.1\", \"end\": \"10.9.0.6\"}]},"
	" \"groups\": [{\"name\": \"VPN\"}],"
	" \"policies\": [{\"name\": \"vpn\", \"conditions\": [{\"attribute\": \"Windows-Groups\","
	"  \"value\": [\"VPN\"]}], \"permission\": \"grant\", \"profile\": {\"auth_methods\": [\"mschapv2\","
	"  \"chap\", \"pap\"], \"encryption\": [\"none\"], \"filters\": {\"input\": [\"deny udp any port 53\"]}}}],"
	" \"users\": [{\"name\": \"u\", \"password\": \"p\", \"groups\": [\"VPN\"]},"
	"  {\"name\": \"d\", \"password\": \"p\", \"groups\": [\"VPN\"], \"dialin\": \"deny\"}],"
	" \"serve\": {\"limits\": {\"tunnels\": 64, \"sessions\": 64, \"half_open\": 16,"
	"  \"new_tunnels_per_source\": 0}}}";

static struct srv *S;

static void teardown(void)
{
	if (S) srv_destroy(S);
	S = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!S) {
		struct server_opts o = {.quiet = true};
		S = srv_create(&o, CONFIG, sizeof CONFIG - 1);
		if (!S) abort();
		atexit(teardown);
	}
	uint64_t before = S->st.rx_datagrams;
	uint64_t fed = 0;
	size_t i = 0;
	while (i + 3 <= size && fed < 64) {
		uint8_t who = data[i];
		size_t len = (size_t)data[i + 1] << 8 | data[i + 2];
		i += 3;
		if (len > size - i) len = size - i;
		struct sockaddr_in peer;
		memset(&peer, 0, sizeof peer);
		peer.sin_family = AF_INET;
		peer.sin_addr.s_addr = htonl(0x7f000002u + (who & 3));
		peer.sin_port = htons((uint16_t)(1701 + (who >> 2 & 3)));
		struct sockaddr_storage ss;
		memset(&ss, 0, sizeof ss);
		memcpy(&ss, &peer, sizeof peer);
		srv_datagram(S, &ss, sizeof peer, data + i, len);
		fed++;
		i += len;
	}
	if (S->st.rx_datagrams != before + fed) abort();
	if (S->ntunnels > 64 || S->nsessions > 64) abort();
	static unsigned inputs;
	char why[200];
	if (++inputs % 32 == 0 && srv_check_tables(S, why, sizeof why) != 0) {
		fprintf(stderr, "fuzz_serve: tables disagree: %s\n", why);
		abort();
	}
	return 0;
}
