/* libFuzzer target: the first byte picks a link type, the rest is one frame. The frame
 * goes through the link/IP/UDP/TCP decoders directly (offsets must stay inside the
 * input) and through the dissector, whose fragment and stream tables persist across
 * inputs so reassembly sees long, hostile sequences. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dissect.h"
#include "net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int dlts[] = {1, 113, 276, 12, 14, 101, 228, 229, 0, 108, 9, 50, 147};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dissect *d;
	static uint64_t frame;
	if (!d) {
		struct dissect_cfg cfg = {
			.frag = {.max_datagrams = 8, .max_bytes = 65536, .timeout_ns = 1000000},
			.tcp = {.max_flows = 4, .max_flow_bytes = 4096, .max_ooo_bytes = 2048},
		};
		d = dissect_new(&cfg);
		if (!d)
			abort();
	}
	if (size < 1)
		return 0;
	int dlt = dlts[data[0] % (sizeof dlts / sizeof dlts[0])];
	const uint8_t *p = data + 1;
	size_t n = size - 1;

	struct net_link l;
	struct diag_err e;
	if (net_link_decode(dlt, p, n, &l, &e) == 0) {
		if (l.hdr_len > n)
			abort();
		json_decref(net_link_to_json(&l));
		if (l.next == NET_NEXT_IPV4 || l.next == NET_NEXT_IPV6) {
			struct net_ip ip;
			const uint8_t *q = p + l.hdr_len;
			size_t m = n - l.hdr_len;
			if (net_ip_decode(q, m, &ip, &e) == 0) {
				if (ip.hdr_len > m || ip.payload + ip.payload_len > q + m)
					abort();
				json_decref(net_ip_to_json(&ip));
				struct net_udp u;
				struct net_tcp t;
				if (net_udp_decode(ip.payload, ip.payload_len, &u, &e) == 0 &&
				    u.payload + u.payload_len > ip.payload + ip.payload_len)
					abort();
				if (net_tcp_decode(ip.payload, ip.payload_len, &t, &e) == 0 &&
				    t.payload + t.payload_len > ip.payload + ip.payload_len)
					abort();
			} else if (e.off > m) {
				abort();
			}
		}
	} else if (e.off > n || !e.reason[0]) {
		abort();
	}

	frame++;
	const struct dl_pkt *pk = dissect_packet(d, dlt, frame, frame * 1000, frame * 1000, p, n, n);
	static char line[8192];
	dl_summary(pk, line, sizeof line);
	json_t *j = dl_pkt_json(pk);
	char *txt = json_dumps(j, JSON_COMPACT);
	if (!txt)
		abort();
	free(txt);
	json_decref(j);
	return 0;
}
