/* libFuzzer target for the IKEv2 path of `vnet serve` (tools/server_ikev2.c behind
 * server_ike.c's door): a server made without its own sockets (srv_create) with
 * serve.ikev2 on (a pre-shared key for the server), small limits and a low cookie
 * threshold. Its IKE listeners are given one UDP socket on 127.0.0.1 and the peers'
 * addresses are 127.0.0.2-5 at the port of the harness's own socket, so what the server
 * answers comes back to the harness. The input is a sequence of records
 * [kind byte][length u16][bytes]:
 *   kind & 1        on the NAT-T port (non-ESP marker, then IKE or ESP), else the IKE port
 *   kind >> 1 & 3   which of four peers sent it
 *   kind & 0x40     the peer first completes an IKE_SA_INIT (the in-process initiator of
 *                   tests/unit/ikev2_peer.h) with the server's answer: its later records
 *                   with kind & 0x20 are payload chains sealed with that SA's keys
 *                   (byte 0 the exchange, 34 + b % 4; byte 1 the first payload), so
 *                   IKE_AUTH, EAP and INFORMATIONAL are reached behind the integrity check
 *   otherwise       the bytes as a datagram
 * The server is kept between inputs: state carries over. Checks: no crash, no leak, and
 * after every record the tables agree (srv_check_tables walks the IKEv2 SAs, the
 * half-open list with its per-source counts, the SPI tables, the children and the
 * sessions they carry). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../unit/ikev2_peer.h"
#include "server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CONFIG[] =
	"{\"server\": {\"auth_methods\": [\"eap\", \"mschapv2\"], \"eap_types\": [\"mschapv2\"],"
	" \"ports\": {\"ikev2\": 4}, \"address_assignment\": \"pool\","
	" \"pool\": [{\"start\": \"10.9.0.1\", \"end\": \"10.9.0.6\"}]},"
	" \"groups\": [{\"name\": \"VPN\"}],"
	" \"policies\": [{\"name\": \"vpn\", \"conditions\": [{\"attribute\": \"Windows-Groups\","
	"  \"value\": [\"VPN\"]}], \"permission\": \"grant\", \"profile\": {\"auth_methods\": [\"eap\"],"
	"  \"eap_types\": [\"mschapv2\"]}}],"
	" \"users\": [{\"name\": \"u\", \"password\": \"p\", \"groups\": [\"VPN\"]}],"
	" \"serve\": {\"ikev2\": {\"auth\": \"psk\", \"psk\": \"fuzz-key\", \"id\": \"vpn.fuzz\","
	"  \"limits\": {\"sas\": 12, \"half_open\": 8, \"cookie_threshold\": 4}},"
	"  \"limits\": {\"new_tunnels_per_source\": 0, \"sessions\": 8}}}";

static struct srv *S;
static int srv_fd = -1, peer_fd = -1;
static uint16_t peer_port;
static struct v2peer P[4];
static bool keyed[4];
static uint32_t mid[4];

static void teardown(void)
{
	if (S) srv_destroy(S); /* closes the listeners' socket */
	S = NULL;
	if (peer_fd >= 0) close(peer_fd);
	for (int i = 0; i < 4; i++) v2p_free(&P[i]);
}

static void setup(void)
{
	struct server_opts o = {.quiet = true};
	S = srv_create(&o, CONFIG, sizeof CONFIG - 1);
	if (!S) abort();
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001u)};
	srv_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	peer_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
	socklen_t al = sizeof any;
	if (srv_fd < 0 || peer_fd < 0 || bind(srv_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    bind(peer_fd, (struct sockaddr *)&any, sizeof any) != 0 ||
	    getsockname(peer_fd, (struct sockaddr *)&any, &al) != 0)
		abort();
	peer_port = ntohs(any.sin_port);
	/* the IKE listeners (the port's role is the listener's, its address the socket's) */
	bool first = true;
	for (unsigned i = 0; i < S->nlisteners; i++)
		if (S->listeners[i].proto == SRV_PROTO_IKE) {
			S->listeners[i].fd = first ? srv_fd : dup(srv_fd);
			memcpy(&S->listeners[i].addr, &a, sizeof a);
			first = false;
		}
	for (int i = 0; i < 4; i++) v2p_init(&P[i]);
	atexit(teardown);
}

/* The last datagram the server sent to the peers, IKE only (a marker stripped). */
static size_t take_reply(uint8_t *buf, size_t cap)
{
	size_t got = 0;
	for (int i = 0; i < 64; i++) {
		uint8_t b[8192];
		ssize_t n = recv(peer_fd, b, sizeof b, MSG_DONTWAIT);
		if (n <= 0) break;
		size_t o = n >= 4 && !b[0] && !b[1] && !b[2] && !b[3] ? 4 : 0;
		if ((size_t)n - o <= cap) {
			memcpy(buf, b + o, (size_t)n - o);
			got = (size_t)n - o;
		}
	}
	return got;
}

static void peer_addr(unsigned who, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *p = (struct sockaddr_in *)ss;
	p->sin_family = AF_INET;
	p->sin_addr.s_addr = htonl(0x7f000002u + who);
	p->sin_port = htons(peer_port);
}

static void check(void)
{
	char why[200];
	if (srv_check_tables(S, why, sizeof why) != 0) {
		fprintf(stderr, "fuzz_serve_ikev2: tables disagree: %s\n", why);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!S) setup();
	unsigned fed = 0;
	size_t i = 0;
	static uint8_t buf[8192], out[8192];
	while (i + 3 <= size && fed < 64) {
		uint8_t kind = data[i];
		size_t len = (size_t)data[i + 1] << 8 | data[i + 2];
		i += 3;
		if (len > size - i) len = size - i;
		if (len > 4096) len = 4096;
		const uint8_t *r = data + i;
		i += len;
		fed++;
		bool natt = kind & 1;
		unsigned who = kind >> 1 & 3;
		struct sockaddr_storage ss;
		peer_addr(who, &ss);
		if (kind & 0x40) {
			/* a full IKE_SA_INIT of this peer: its keys for the sealed records */
			struct v2peer *p = &P[who];
			v2p_free(p);
			v2p_init(p);
			p->group = p->ke_group = 19;
			p->my_ip[0] = 127;
			p->my_ip[3] = (uint8_t)(2 + who);
			p->my_port = peer_port;
			p->resp = (struct ikev2_addr){.family = 4, .ip = {127, 0, 0, 1}, .port = 500};
			size_t n = v2p_init_req(p, out, sizeof out);
			take_reply(buf, sizeof buf);
			srv_ike_datagram(S, false, &ss, out, n);
			size_t rl = take_reply(buf, sizeof buf);
			keyed[who] = rl && v2p_init_resp(p, buf, rl);
			mid[who] = 1;
			check();
		}
		if (kind & 0x20 && keyed[who] && len >= 2) {
			uint8_t exch = (uint8_t)(34 + (r[0] & 3));
			size_t sl = v2p_seal(&P[who], exch, mid[who], false, r[1], r + 2, len - 2, 0, 0,
			                     out, sizeof out - 4);
			if (sl) {
				if (natt) { /* the non-ESP marker */
					memmove(out + 4, out, sl);
					memset(out, 0, 4);
					sl += 4;
				}
				srv_ike_datagram(S, natt, &ss, out, sl);
				mid[who]++;
			}
		} else {
			memcpy(buf, r, len);
			srv_ike_datagram(S, natt, &ss, buf, len);
		}
		take_reply(buf, sizeof buf);
		check();
	}
	return 0;
}
