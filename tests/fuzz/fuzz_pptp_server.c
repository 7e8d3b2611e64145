/* libFuzzer target for the PPTP path of `vnet serve`: the input is a sequence of records
 * [kind byte][length u16][bytes], fed to a server made without sockets (srv_create), its
 * PPTP tables set up as `--pptp-listen` would:
 *   kind & 3 == 0  a new control connection from peer (kind >> 2 & 3) (no bytes)
 *   kind & 3 == 1  bytes of the control stream of connection (kind >> 2 & 7) of this input
 *   kind & 3 == 2  a GRE packet from peer (kind >> 2 & 3): the bytes after an IPv4 header
 *   kind & 3 == 3  a whole IPv4 packet as the raw socket gives it (header from the input)
 * Each input gets a fresh server, so Call IDs start at 1 and the seeds (SCCRQ, OCRQ, then
 * LCP in GRE to call 1) reach PPP and authentication. Checks: no crash, no leak, and
 * after every input the tables agree with each other and with the automata
 * (srv_check_tables: connections, calls and sessions one to one, Call IDs marked taken,
 * the list of connections without a call, the limits). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CONFIG[] =
	"{\"server\": {\"auth_methods\": [\"mschapv2\", \"chap\", \"pap\"],"
	" \"encryption\": [\"none\", \"basic\", \"strong\", \"strongest\"], \"ports\": {\"pptp\": 4},"
	" \"address_assignment\": \"pool\", \"pool\": [{\"start\": \"10.9.0.1\", \"end\": \"10.9.0.6\"}]},"
	" \"groups\": [{\"name\": \"VPN\"}],"
	" \"policies\": [{\"name\": \"vpn\", \"conditions\": [{\"attribute\": \"Tunnel-Type\","
	"  \"value\": [\"pptp\"]}], \"permission\": \"grant\", \"profile\": {\"auth_methods\": [\"mschapv2\","
	"  \"chap\", \"pap\"], \"encryption\": [\"none\", \"basic\", \"strong\", \"strongest\"]}}],"
	" \"users\": [{\"name\": \"u\", \"password\": \"p\", \"groups\": [\"VPN\"]},"
	"  {\"name\": \"d\", \"password\": \"p\", \"groups\": [\"VPN\"], \"dialin\": \"deny\"}],"
	" \"serve\": {\"pptp\": {\"connections\": 6, \"calls_per_connection\": 2},"
	"  \"limits\": {\"sessions\": 8, \"new_tunnels_per_source\": 0}}}";

static void peer_of(unsigned who, struct sockaddr_storage *ss)
{
	struct sockaddr_in peer;
	memset(&peer, 0, sizeof peer);
	peer.sin_family = AF_INET;
	peer.sin_addr.s_addr = htonl(0x7f000002u + (who & 3));
	peer.sin_port = htons((uint16_t)(40000 + who));
	memset(ss, 0, sizeof *ss);
	memcpy(ss, &peer, sizeof peer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct server_opts o = {.quiet = true};
	struct srv *s = srv_create(&o, CONFIG, sizeof CONFIG - 1);
	if (!s) abort();
	uint32_t conns[8] = {0};
	unsigned nconns = 0, fed = 0;
	size_t i = 0;
	while (i + 3 <= size && fed < 128) {
		uint8_t kind = data[i];
		size_t len = (size_t)data[i + 1] << 8 | data[i + 2];
		i += 3;
		if (len > size - i) len = size - i;
		const uint8_t *b = data + i;
		i += len;
		fed++;
		switch (kind & 3) {
		case 0: {
			struct sockaddr_storage ss;
			peer_of(kind >> 2 & 3, &ss);
			uint32_t id = srv_pptp_accept(s, -1, &ss);
			if (id) conns[nconns++ % 8] = id;
			break;
		}
		case 1:
			if (nconns) srv_pptp_stream(s, conns[(kind >> 2 & 7) % (nconns < 8 ? nconns : 8)], b, len);
			break;
		case 2: {
			uint8_t pkt[2048];
			if (len > sizeof pkt - 20) break;
			memset(pkt, 0, 20);
			pkt[0] = 0x45;
			pkt[2] = (uint8_t)((20 + len) >> 8);
			pkt[3] = (uint8_t)(20 + len);
			pkt[8] = 64;
			pkt[9] = 47;
			uint32_t src = htonl(0x7f000002u + (kind >> 2 & 3)), dst = htonl(0x7f000001u);
			memcpy(pkt + 12, &src, 4);
			memcpy(pkt + 16, &dst, 4);
			memcpy(pkt + 20, b, len);
			srv_pptp_gre_packet(s, pkt, 20 + len);
			break;
		}
		default:
			srv_pptp_gre_packet(s, b, len);
			break;
		}
		char why[200];
		if (srv_check_tables(s, why, sizeof why) != 0) {
			fprintf(stderr, "fuzz_pptp_server: tables disagree: %s\n", why);
			abort();
		}
	}
	srv_destroy(s);
	return 0;
}
