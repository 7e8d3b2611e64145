/* libFuzzer target for the L2TP/IPsec path of `vnet serve`: the input is a sequence of
 * records [kind byte][length u16][bytes], fed to a server made without sockets
 * (srv_create) with serve.ipsec on and small limits:
 *   kind & 1 == 0  an ISAKMP message on the IKE port
 *   kind & 1 == 1  a datagram on the NAT-T port (non-ESP marker and IKE, ESP, keepalive)
 *   kind >> 1 & 7  which of eight peers sent it (four addresses, two ports each)
 *   kind & 0x80    the first 8 bytes (the initiator's cookie) replaced by one of four
 *                  fixed cookies, so that records reach the SAs earlier ones made
 * The server is built once and kept: state carries over between inputs. Checks: no
 * crash, no leak, and after every record the tables agree with each other and with the
 * automata (srv_check_tables, which walks the IKE SAs, the half-open list with its
 * per-source counts, the child SAs by SPI and the limits). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CONFIG[] =
	"{\"server\": {\"auth_methods\": [\"mschapv2\"], \"ports\": {\"l2tp\": 4},"
	" \"address_assignment\": \"pool\", \"pool\": [{\"start\": \"10.9.0.1\", \"end\": \"10.9.0.6\"}],"
	" \"l2tp_psk\": \"fuzz-key\"},"
	" \"groups\": [{\"name\": \"VPN\"}],"
	" \"policies\": [{\"name\": \"vpn\", \"conditions\": [{\"attribute\": \"Windows-Groups\","
	"  \"value\": [\"VPN\"]}], \"permission\": \"grant\", \"profile\": {}}],"
	" \"users\": [{\"name\": \"u\", \"password\": \"p\", \"groups\": [\"VPN\"]}],"
	" \"serve\": {\"ipsec\": {\"limits\": {\"sas\": 12, \"half_open\": 8}},"
	"  \"limits\": {\"new_tunnels_per_source\": 0}}}";

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
	static const uint8_t cookies[4][8] = {
		{1, 2, 3, 4, 5, 6, 7, 8}, {9, 9, 9, 9, 9, 9, 9, 9},
		{0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0}, {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80}};
	unsigned fed = 0;
	size_t i = 0;
	while (i + 3 <= size && fed < 128) {
		uint8_t kind = data[i];
		size_t len = (size_t)data[i + 1] << 8 | data[i + 2];
		i += 3;
		if (len > size - i) len = size - i;
		uint8_t buf[4096];
		if (len > sizeof buf) len = sizeof buf;
		memcpy(buf, data + i, len);
		i += len;
		fed++;
		bool natt = kind & 1;
		unsigned who = kind >> 1 & 7;
		size_t at = natt ? 4 : 0;
		if (kind & 0x80 && len >= at + 8) memcpy(buf + at, cookies[who & 3], 8);
		struct sockaddr_storage ss;
		memset(&ss, 0, sizeof ss);
		struct sockaddr_in *p = (struct sockaddr_in *)&ss;
		p->sin_family = AF_INET;
		p->sin_addr.s_addr = htonl(0x7f000002u + (who & 3));
		p->sin_port = htons((uint16_t)(natt ? 4500 + (who >> 2) : 500 + (who >> 2)));
		srv_ike_datagram(S, natt, &ss, buf, len);
		char why[200];
		if (srv_check_tables(S, why, sizeof why) != 0) {
			fprintf(stderr, "fuzz_serve_ike: tables disagree: %s\n", why);
			abort();
		}
	}
	return 0;
}
