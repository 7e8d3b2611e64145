/* Link layers, IPv4/IPv6, UDP and TCP framing (libdiag/net.c).
 *
 * The real frame is frame 1 of /work/shared/corpus/lab/ikev2-psk.pcap (strongSwan
 * IKE_SA_INIT request); the expected values were read from tshark's decode of it
 * (ikev2-psk.pcap.tshark.txt: eth.src 92:62:fb:21:81:4a, ip.id 0x54e5, ip.ttl 64,
 * ip.len 492, DF set, ip.checksum 0xcf7f, udp.length 472). Hand-built headers follow
 * the layouts of RFC 791, RFC 8200, RFC 768, RFC 9293, IEEE 802.1Q and RFC 2516. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "net.h"

static const uint8_t ikev2_psk_f1[506] = {
	0x8a, 0x76, 0x13, 0x0b, 0x5a, 0x12, 0x92, 0x62, 0xfb, 0x21, 0x81, 0x4a,
	0x08, 0x00, 0x45, 0x00, 0x01, 0xec, 0x54, 0xe5, 0x40, 0x00, 0x40, 0x11,
	0xcf, 0x7f, 0x0a, 0x4d, 0x00, 0x02, 0x0a, 0x4d, 0x00, 0x01, 0x01, 0xf4,
	0x01, 0xf4, 0x01, 0xd8, 0x16, 0x86, 0xcf, 0x5d, 0xb6, 0xd9, 0x61, 0x50,
	0xda, 0x9a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0x20,
	0x22, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xd0, 0x22, 0x00,
	0x00, 0x30, 0x00, 0x00, 0x00, 0x2c, 0x01, 0x01, 0x00, 0x04, 0x03, 0x00,
	0x00, 0x0c, 0x01, 0x00, 0x00, 0x0c, 0x80, 0x0e, 0x00, 0x80, 0x03, 0x00,
	0x00, 0x08, 0x03, 0x00, 0x00, 0x0c, 0x03, 0x00, 0x00, 0x08, 0x02, 0x00,
	0x00, 0x05, 0x00, 0x00, 0x00, 0x08, 0x04, 0x00, 0x00, 0x0e, 0x28, 0x00,
	0x01, 0x08, 0x00, 0x0e, 0x00, 0x00, 0xfa, 0x62, 0xe9, 0x3a, 0x91, 0x7d,
	0xe3, 0x2d, 0x71, 0x13, 0xaa, 0x68, 0x5e, 0xc6, 0xaa, 0x82, 0x3f, 0x07,
	0xf9, 0x24, 0x3b, 0xbe, 0x33, 0x1a, 0x22, 0x7b, 0x2f, 0xc8, 0x7a, 0xa9,
	0x46, 0x44, 0x82, 0xf9, 0xd3, 0x09, 0x19, 0xed, 0x15, 0xd1, 0xe6, 0xd8,
	0xba, 0xe1, 0xcc, 0x28, 0x3d, 0x13, 0x48, 0x1d, 0xa0, 0x2b, 0x43, 0xc9,
	0x1c, 0x8d, 0xab, 0xa0, 0xc0, 0xd2, 0x66, 0xc4, 0x6f, 0xcf, 0x8e, 0xd4,
	0x91, 0x97, 0xd1, 0x6a, 0xc3, 0x6e, 0x10, 0xc7, 0x68, 0xa6, 0xea, 0x05,
	0xdd, 0xb8, 0x87, 0x44, 0xb7, 0xb7, 0xad, 0x27, 0x4f, 0xfe, 0xa1, 0x47,
	0x3b, 0xd1, 0x5b, 0xb5, 0x20, 0x84, 0x1d, 0xb1, 0xa2, 0xd8, 0x8a, 0xde,
	0x6a, 0x5f, 0x0a, 0x37, 0x4c, 0x0c, 0x2a, 0xcb, 0x7f, 0x49, 0x8b, 0xc1,
	0x59, 0xbf, 0xb7, 0xc8, 0x19, 0x7b, 0xf1, 0xd7, 0xfe, 0x00, 0x54, 0xe8,
	0x16, 0x81, 0x78, 0x01, 0x78, 0xdc, 0xed, 0x2d, 0xf9, 0xfb, 0x0f, 0x9b,
	0xd0, 0xe5, 0x3a, 0x7b, 0x45, 0x8f, 0xf5, 0x0a, 0x9d, 0xec, 0xad, 0xad,
	0x83, 0x6f, 0x8c, 0x88, 0xb4, 0x99, 0x85, 0x3e, 0xc8, 0x5c, 0xba, 0x73,
	0xbe, 0x05, 0xa1, 0x21, 0x14, 0x60, 0xfb, 0x66, 0xef, 0x0c, 0xd9, 0x27,
	0xb4, 0x2f, 0xbf, 0x68, 0xb9, 0x6e, 0x41, 0xbf, 0x2e, 0x5e, 0x88, 0xc5,
	0x82, 0xfe, 0x9a, 0x3a, 0xbe, 0x4f, 0x27, 0x41, 0xa6, 0xa4, 0xa9, 0xa7,
	0x2c, 0x5e, 0x37, 0x09, 0x2c, 0x35, 0x1a, 0x43, 0x1b, 0x15, 0x7a, 0x1b,
	0xf4, 0x92, 0xbc, 0x22, 0xce, 0xf9, 0x23, 0x9a, 0xab, 0xf9, 0x5b, 0x20,
	0x29, 0xf8, 0x30, 0x43, 0xd9, 0x5b, 0xbc, 0x46, 0xfd, 0x3c, 0xe5, 0xab,
	0x7b, 0x0e, 0x37, 0x5b, 0x68, 0x57, 0x32, 0x60, 0x9f, 0x8e, 0x50, 0x32,
	0x54, 0x1a, 0xb7, 0x2b, 0x53, 0x69, 0x8b, 0xda, 0x53, 0x8e, 0x29, 0x00,
	0x00, 0x24, 0x57, 0x08, 0x93, 0xef, 0xeb, 0x25, 0xa1, 0x38, 0xaf, 0x79,
	0x84, 0xd1, 0xe5, 0x61, 0x36, 0xf7, 0x23, 0xe5, 0x87, 0x79, 0x3a, 0xd5,
	0x0c, 0xac, 0x6e, 0x0b, 0xfd, 0xc3, 0xf0, 0xe7, 0x12, 0xc4, 0x29, 0x00,
	0x00, 0x1c, 0x00, 0x00, 0x40, 0x04, 0x54, 0x48, 0xa3, 0x85, 0x10, 0x17,
	0xeb, 0x5d, 0x99, 0x56, 0x0a, 0xad, 0x9c, 0x9c, 0x76, 0xa7, 0xfc, 0x66,
	0x4a, 0x50, 0x29, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x05, 0xaa, 0x4f,
	0xdf, 0xe4, 0x35, 0x65, 0xca, 0xae, 0xb3, 0xb4, 0x46, 0xcd, 0x6d, 0x9b,
	0x94, 0x38, 0xfa, 0x67, 0x04, 0x19, 0x29, 0x00, 0x00, 0x08, 0x00, 0x00,
	0x40, 0x2e, 0x29, 0x00, 0x00, 0x10, 0x00, 0x00, 0x40, 0x2f, 0x00, 0x02,
	0x00, 0x03, 0x00, 0x04, 0x00, 0x05, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00,
	0x40, 0x16,
};

START_TEST(real_frame_eth_ipv4_udp)
{
	struct net_link l;
	struct net_ip ip;
	struct net_udp u;
	struct diag_err e = {0};
	ck_assert_int_eq(net_link_decode(1, ikev2_psk_f1, sizeof ikev2_psk_f1, &l, &e), 0);
	ck_assert_int_eq(l.next, NET_NEXT_IPV4);
	ck_assert_uint_eq(l.ethertype, 0x0800);
	ck_assert_uint_eq(l.hdr_len, 14);
	const uint8_t src[6] = {0x92, 0x62, 0xfb, 0x21, 0x81, 0x4a};
	ck_assert_mem_eq(l.src_mac, src, 6);
	const uint8_t *q = ikev2_psk_f1 + l.hdr_len;
	size_t n = sizeof ikev2_psk_f1 - l.hdr_len;
	ck_assert_int_eq(net_ipv4_decode(q, n, &ip, &e), 0);
	ck_assert_uint_eq(ip.id, 0x54e5);
	ck_assert_uint_eq(ip.ttl, 64);
	ck_assert_uint_eq(ip.total_len, 492);
	ck_assert(ip.df && !ip.mf && !ip.frag);
	ck_assert_uint_eq(ip.checksum, 0xcf7f);
	ck_assert(ip.checksum_ok);
	ck_assert_uint_eq(ip.proto, 17);
	ck_assert_uint_eq(ip.payload_len, 472);
	ck_assert(!ip.truncated);
	char a[64];
	net_addr_str(4, ip.src, a, sizeof a);
	ck_assert_str_eq(a, "10.77.0.2");
	ck_assert_int_eq(net_udp_decode(ip.payload, ip.payload_len, &u, &e), 0);
	ck_assert_uint_eq(u.sport, 500);
	ck_assert_uint_eq(u.dport, 500);
	ck_assert_uint_eq(u.length, 472);
	ck_assert_uint_eq(u.payload_len, 464);
	/* IKE header starts right after: version byte 0x20 at offset 17 of it */
	ck_assert_uint_eq(u.payload[17], 0x20);
}
END_TEST

START_TEST(real_frame_every_truncation)
{
	struct net_link l;
	struct net_ip ip;
	struct net_udp u;
	struct diag_err e;
	for (size_t len = 0; len < 14; len++) {
		diag_err_clear(&e);
		ck_assert_int_eq(net_link_decode(1, ikev2_psk_f1, len, &l, &e), -1);
		ck_assert_uint_le(e.off, len);
		ck_assert(strstr(e.reason, "Ethernet") != NULL);
	}
	const uint8_t *q = ikev2_psk_f1 + 14;
	for (size_t len = 0; len < 20; len++) {
		diag_err_clear(&e);
		ck_assert_int_eq(net_ipv4_decode(q, len, &ip, &e), -1);
		ck_assert_uint_le(e.off, len);
	}
	/* Cut by the snap length after the header: decodes, says it is truncated. */
	for (size_t len = 20; len < 492; len++) {
		ck_assert_int_eq(net_ipv4_decode(q, len, &ip, &e), 0);
		ck_assert(ip.truncated);
		ck_assert_uint_eq(ip.payload_len, len - 20);
		ck_assert_uint_eq(ip.claimed_len, 472);
	}
	for (size_t len = 0; len < 8; len++) {
		diag_err_clear(&e);
		ck_assert_int_eq(net_udp_decode(q + 20, len, &u, &e), -1);
		ck_assert_uint_le(e.off, len);
	}
	for (size_t len = 8; len < 472; len++) {
		ck_assert_int_eq(net_udp_decode(q + 20, len, &u, &e), 0);
		ck_assert(u.truncated);
		ck_assert_uint_eq(u.payload_len, len - 8);
	}
}
END_TEST

START_TEST(ipv4_bad_headers)
{
	uint8_t h[28];
	memcpy(h, ikev2_psk_f1 + 14, sizeof h);
	struct net_ip ip;
	struct diag_err e;
	h[0] = 0x44; /* IHL 4 */
	ck_assert_int_eq(net_ipv4_decode(h, sizeof h, &ip, &e), -1);
	ck_assert(strstr(e.reason, "header length 16 < 20") != NULL);
	h[0] = 0x46; /* IHL 6: 24 bytes, more than total length 20 below */
	h[2] = 0; h[3] = 20;
	ck_assert_int_eq(net_ipv4_decode(h, sizeof h, &ip, &e), -1);
	ck_assert_uint_eq(e.off, 2);
	h[0] = 0x4f; /* IHL 15: 60 bytes, only 28 captured */
	h[3] = 60;
	ck_assert_int_eq(net_ipv4_decode(h, sizeof h, &ip, &e), -1);
	ck_assert(strstr(e.reason, "only 28 bytes") != NULL);
	h[0] = 0x65;
	ck_assert_int_eq(net_ipv4_decode(h, sizeof h, &ip, &e), -1);
	ck_assert(strstr(e.reason, "version 6") != NULL);
	/* A flipped checksum bit is noticed but not fatal. */
	memcpy(h, ikev2_psk_f1 + 14, sizeof h);
	h[10] ^= 1;
	ck_assert_int_eq(net_ipv4_decode(h, sizeof h, &ip, &e), 0);
	ck_assert(!ip.checksum_ok);
	/* Fragment fields: MF with offset 185 * 8 */
	memcpy(h, ikev2_psk_f1 + 14, sizeof h);
	h[6] = 0x20; h[7] = 185;
	ck_assert_int_eq(net_ipv4_decode(h, sizeof h, &ip, &e), 0);
	ck_assert(ip.frag && ip.mf && !ip.df);
	ck_assert_uint_eq(ip.frag_off, 1480);
	/* UDP length below its own header */
	uint8_t u8[8] = {0x01, 0xf4, 0x01, 0xf4, 0x00, 0x07, 0, 0};
	struct net_udp u;
	ck_assert_int_eq(net_udp_decode(u8, sizeof u8, &u, &e), -1);
	ck_assert_uint_eq(e.off, 4);
}
END_TEST

START_TEST(vlan_qinq_ipv6_fragment)
{
	uint8_t f[14 + 8 + 40 + 8 + 8 + 16];
	memset(f, 0, sizeof f);
	size_t o = 12;
	f[o++] = 0x88; f[o++] = 0xa8; f[o++] = 0x00; f[o++] = 100; /* S-tag, VID 100 */
	f[o++] = 0x81; f[o++] = 0x00; f[o++] = 0x20; f[o++] = 200; /* C-tag, PCP 1, VID 200 */
	f[o++] = 0x86; f[o++] = 0xdd;
	size_t ip6 = o;
	f[o] = 0x60; f[o + 1] = 0x00; f[o + 2] = 0x00; f[o + 3] = 0x07; /* flow label 7 */
	f[o + 4] = 0; f[o + 5] = 8 + 8 + 16; /* payload length */
	f[o + 6] = 0;  /* hop-by-hop first */
	f[o + 7] = 64;
	f[o + 8] = 0x20; f[o + 9] = 0x01; f[o + 23] = 1;  /* 2001::1 */
	f[o + 24] = 0x20; f[o + 25] = 0x01; f[o + 39] = 2; /* 2001::2 */
	o += 40;
	f[o] = 44; f[o + 1] = 0; f[o + 2] = 1; f[o + 3] = 4; /* HBH: PadN */
	o += 8;
	f[o] = 17; f[o + 1] = 0; f[o + 2] = 0x05; f[o + 3] = 0xc9; /* offset 185, M */
	f[o + 4] = 0xde; f[o + 5] = 0xad; f[o + 6] = 0xbe; f[o + 7] = 0xef;
	o += 8;
	struct net_link l;
	struct net_ip ip;
	struct diag_err e;
	ck_assert_int_eq(net_link_decode(1, f, sizeof f, &l, &e), 0);
	ck_assert_int_eq(l.nvlan, 2);
	ck_assert_uint_eq(l.vlan[0], 100);
	ck_assert_uint_eq(l.vlan[1], 200);
	ck_assert_uint_eq(l.hdr_len, ip6);
	ck_assert_int_eq(l.next, NET_NEXT_IPV6);
	ck_assert_int_eq(net_ipv6_decode(f + ip6, sizeof f - ip6, &ip, &e), 0);
	ck_assert_uint_eq(ip.flow_label, 7);
	ck_assert_uint_eq(ip.proto, 17);
	ck_assert(ip.frag && ip.mf);
	ck_assert_uint_eq(ip.frag_off, 1480);
	ck_assert_uint_eq(ip.id, 0xdeadbeef);
	ck_assert_uint_eq(ip.hdr_len, 56);
	ck_assert_uint_eq(ip.payload_len, 16);
	char a[64];
	net_addr_str(6, ip.dst, a, sizeof a);
	ck_assert_str_eq(a, "2001::2");
	/* Every cut inside the extension headers fails inside them. */
	for (size_t len = 40; len < 56; len++) {
		ck_assert_int_eq(net_ipv6_decode(f + ip6, len, &ip, &e), -1);
		ck_assert_uint_ge(e.off, 40);
		ck_assert_uint_le(e.off, len);
	}
	/* An extension header longer than the payload length */
	f[ip6 + 41] = 5;
	ck_assert_int_eq(net_ipv6_decode(f + ip6, sizeof f - ip6, &ip, &e), -1);
	ck_assert_uint_eq(e.off, 40);
	/* Five VLAN tags are more than we follow. */
	uint8_t v[14 + 5 * 4 + 2] = {0};
	for (int i = 0; i < 6; i++) {
		v[12 + 4 * i] = 0x81;
		v[13 + 4 * i] = 0x00;
	}
	ck_assert_int_eq(net_link_decode(1, v, sizeof v, &l, &e), -1);
	ck_assert(strstr(e.reason, "VLAN") != NULL);
}
END_TEST

START_TEST(other_links)
{
	struct net_link l;
	struct diag_err e;
	const uint8_t *ip = ikev2_psk_f1 + 14;
	uint8_t b[64];
	/* BSD loopback written little-endian (AF_INET 2) and big-endian (AF_INET6 30) */
	b[0] = 2; b[1] = 0; b[2] = 0; b[3] = 0;
	ck_assert_int_eq(net_link_decode(0, b, 4, &l, &e), 0);
	ck_assert_int_eq(l.next, NET_NEXT_IPV4);
	ck_assert_uint_eq(l.hdr_len, 4);
	b[0] = 0; b[1] = 0; b[2] = 0; b[3] = 30;
	ck_assert_int_eq(net_link_decode(0, b, 4, &l, &e), 0);
	ck_assert_int_eq(l.next, NET_NEXT_IPV6);
	ck_assert_uint_eq(l.null_family, 30);
	ck_assert_int_eq(net_link_decode(108, b, 4, &l, &e), 0); /* DLT_LOOP: network order */
	ck_assert_int_eq(l.next, NET_NEXT_IPV6);
	ck_assert_int_eq(net_link_decode(0, b, 3, &l, &e), -1);
	/* Linux cooked v1: 16 bytes, protocol at 14 */
	memset(b, 0, sizeof b);
	b[1] = 4; b[5] = 6; b[6] = 0xaa; b[14] = 0x08; b[15] = 0x00;
	ck_assert_int_eq(net_link_decode(113, b, 16, &l, &e), 0);
	ck_assert_int_eq(l.next, NET_NEXT_IPV4);
	ck_assert_uint_eq(l.hdr_len, 16);
	ck_assert_uint_eq(l.sll_pkttype, 4);
	ck_assert_uint_eq(l.src_mac[0], 0xaa);
	for (size_t len = 0; len < 16; len++)
		ck_assert_int_eq(net_link_decode(113, b, len, &l, &e), -1);
	/* Linux cooked v2: 20 bytes, protocol first */
	memset(b, 0, sizeof b);
	b[0] = 0x86; b[1] = 0xdd; b[10] = 0; b[11] = 1;
	ck_assert_int_eq(net_link_decode(276, b, 20, &l, &e), 0);
	ck_assert_int_eq(l.next, NET_NEXT_IPV6);
	ck_assert_uint_eq(l.hdr_len, 20);
	for (size_t len = 0; len < 20; len++)
		ck_assert_int_eq(net_link_decode(276, b, len, &l, &e), -1);
	/* Raw IP in its three spellings, and raw IPv4 that is not IPv4 */
	ck_assert_int_eq(net_link_decode(12, ip, 20, &l, &e), 0);
	ck_assert_int_eq(l.next, NET_NEXT_IPV4);
	ck_assert_int_eq(net_link_decode(101, ip, 20, &l, &e), 0);
	ck_assert_int_eq(net_link_decode(228, ip, 20, &l, &e), 0);
	ck_assert_int_eq(net_link_decode(229, ip, 20, &l, &e), -1);
	ck_assert_int_eq(net_link_decode(12, ip, 0, &l, &e), -1);
	b[0] = 0x50;
	ck_assert_int_eq(net_link_decode(12, b, 20, &l, &e), -1);
	ck_assert(strstr(e.reason, "version 5") != NULL);
	/* PPPoE session frame with an LCP packet */
	memset(b, 0, sizeof b);
	b[12] = 0x88; b[13] = 0x64; b[14] = 0x11; b[15] = 0; b[16] = 0x00; b[17] = 0x17;
	b[18] = 0; b[19] = 2; b[20] = 0xc0; b[21] = 0x21;
	ck_assert_int_eq(net_link_decode(1, b, 22, &l, &e), 0);
	ck_assert_int_eq(l.next, NET_NEXT_PPP);
	ck_assert(l.pppoe);
	ck_assert_uint_eq(l.pppoe_session, 0x17);
	ck_assert_uint_eq(l.hdr_len, 20);
	b[15] = 0x09; /* a discovery code in a session frame */
	ck_assert_int_eq(net_link_decode(1, b, 22, &l, &e), -1);
	/* DLT_PPP with and without address/control */
	b[0] = 0xff; b[1] = 0x03; b[2] = 0xc0; b[3] = 0x21;
	ck_assert_int_eq(net_link_decode(9, b, 4, &l, &e), 0);
	ck_assert_uint_eq(l.hdr_len, 2);
	ck_assert_int_eq(net_link_decode(9, b + 2, 2, &l, &e), 0);
	ck_assert_uint_eq(l.hdr_len, 0);
	/* Link types we do not follow */
	ck_assert(!net_link_supported(147));
	ck_assert_int_eq(net_link_decode(147, b, 4, &l, &e), -1);
	ck_assert(net_link_supported(276) && net_link_supported(1) && net_link_supported(0));
}
END_TEST

START_TEST(tcp_header)
{
	uint8_t t[24] = {0x0b, 0xd1, 0x06, 0xbb, 0xd9, 0x73, 0xed, 0xeb, 0x00, 0x00, 0x00, 0x00,
	                 0x60, 0x12, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4};
	struct net_tcp tc;
	struct diag_err e;
	ck_assert_int_eq(net_tcp_decode(t, sizeof t, &tc, &e), 0);
	ck_assert_uint_eq(tc.sport, 3025);
	ck_assert_uint_eq(tc.dport, 1723);
	ck_assert_uint_eq(tc.seq, 3648253419u); /* as in tcpdump__pptp.pcap frame 1 */
	ck_assert_uint_eq(tc.flags, TCP_SYN | TCP_ACK);
	ck_assert_uint_eq(tc.hdr_len, 24);
	ck_assert_uint_eq(tc.payload_len, 0);
	char fl[32];
	net_tcp_flags_str(tc.flags, fl, sizeof fl);
	ck_assert_str_eq(fl, "SYN,ACK");
	for (size_t len = 0; len < 24; len++)
		ck_assert_int_eq(net_tcp_decode(t, len, &tc, &e), -1);
	t[12] = 0x40; /* 16-byte header */
	ck_assert_int_eq(net_tcp_decode(t, sizeof t, &tc, &e), -1);
	ck_assert_uint_eq(e.off, 12);
}
END_TEST

START_TEST(echo_reply)
{
	/* an echo request 10.0.0.2 -> 10.0.0.1, id 7 seq 3, four bytes of data */
	uint8_t q[32] = {0x45, 0, 0, 32, 0, 1, 0, 0, 17, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
	                 8, 0, 0, 0, 0, 7, 0, 3, 'p', 'i', 'n', 'g'};
	uint16_t c = inet_cksum(q, 20, 0);
	q[10] = (uint8_t)(c >> 8), q[11] = (uint8_t)c;
	c = inet_cksum(q + 20, 12, 0);
	q[22] = (uint8_t)(c >> 8), q[23] = (uint8_t)c;
	uint8_t r[32];
	icmp_echo_reply(r, q, 20, sizeof q);
	ck_assert_mem_eq(r + 12, q + 16, 4);
	ck_assert_mem_eq(r + 16, q + 12, 4);
	ck_assert_uint_eq(r[8], 64);
	ck_assert_uint_eq(r[20], 0);
	ck_assert_mem_eq(r + 24, q + 24, 8); /* id, sequence and data kept */
	/* both checksums verify: the sum over a checked block is 0 */
	ck_assert_uint_eq(inet_cksum(r, 20, 0), 0);
	ck_assert_uint_eq(inet_cksum(r + 20, 12, 0), 0);
}
END_TEST

START_TEST(json_of_layers)
{
	struct net_ip ip;
	struct diag_err e;
	ck_assert_int_eq(net_ipv4_decode(ikev2_psk_f1 + 14, 492, &ip, &e), 0);
	json_t *j = net_ip_to_json(&ip);
	ck_assert_str_eq(json_string_value(json_object_get(j, "src")), "10.77.0.2");
	ck_assert_str_eq(json_string_value(json_object_get(j, "proto")), "UDP");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "id")), 0x54e5);
	ck_assert_str_eq(json_string_value(json_object_get(j, "checksum")), "0xcf7f");
	json_decref(j);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("net");
	tcase_add_test(tc, real_frame_eth_ipv4_udp);
	tcase_add_test(tc, real_frame_every_truncation);
	tcase_add_test(tc, ipv4_bad_headers);
	tcase_add_test(tc, vlan_qinq_ipv6_fragment);
	tcase_add_test(tc, other_links);
	tcase_add_test(tc, tcp_header);
	tcase_add_test(tc, json_of_layers);
	tcase_add_test(tc, echo_reply);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
