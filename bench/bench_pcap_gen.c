/* A large, realistic capture for timing `vnet pcap decode` (bench/pcap-decode.sh).
 *
 *   bench_pcap_gen OUT.pcap [PACKETS]      (default 1000000; "-" writes to stdout)
 *
 * Every message is built with the codecs' encoders: IKEv2 IKE_SA_INIT and IKE_AUTH
 * (behind the non-ESP marker on 4500), ESP in UDP, NAT-keepalives, L2TP control
 * (SCCRQ, ICRQ, Hello, ZLB) and data carrying PPP (LCP echo, IP), PPTP control over a
 * TCP 1723 stream (sequence numbers advance, so reassembly sees a clean stream) and
 * GRE v1 carrying PPP (LCP, IP) plus ack-only GRE. Sequence numbers, IP ids and
 * timestamps change from packet to packet; IPv4 checksums are right.
 *
 * With no arguments it says what it is for and exits 0 (bench/run calls every bench_*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "esp.h"
#include "net.h"
#include "gre.h"
#include "ike.h"
#include "l2tp.h"
#include "ppp.h"
#include "pptp.h"

#define MAXPKT 2048

struct tmpl {
	uint8_t b[MAXPKT];
	size_t len;
	size_t ip;          /* offset of the IPv4 header */
	long esp_seq;       /* offsets of fields to advance, -1 when none */
	long gre_seq;
	long tcp_seq;
	uint32_t seq;       /* the current value */
	uint32_t step;      /* added per use (TCP: payload length) */
};

static uint16_t ip_id;

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void ip_checksum(uint8_t *h)
{
	h[10] = h[11] = 0;
	put16(h + 10, inet_cksum(h, 20, 0));
}

/* Ethernet + IPv4 (+ UDP or TCP) around `pl`. proto 17 UDP, 6 TCP, else raw IP. */
static void frame(struct tmpl *t, bool from_client, uint8_t proto, uint16_t sport,
                  uint16_t dport, const uint8_t *pl, size_t n)
{
	static const uint8_t cmac[6] = {0x02, 0, 0, 0, 0, 0x0c}, smac[6] = {0x02, 0, 0, 0, 0, 0x05};
	memset(t, 0, sizeof *t);
	t->esp_seq = t->gre_seq = t->tcp_seq = -1;
	uint8_t *b = t->b;
	memcpy(b, from_client ? smac : cmac, 6);
	memcpy(b + 6, from_client ? cmac : smac, 6);
	put16(b + 12, 0x0800);
	t->ip = 14;
	size_t l4 = proto == 17 ? 8 : proto == 6 ? 20 : 0;
	size_t total = 20 + l4 + n;
	uint8_t *ip = b + 14;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)total);
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = proto;
	const uint8_t client[4] = {192, 168, 1, 10}, server[4] = {203, 0, 113, 5};
	memcpy(ip + 12, from_client ? client : server, 4);
	memcpy(ip + 16, from_client ? server : client, 4);
	uint8_t *u = ip + 20;
	if (proto == 17) {
		put16(u, sport); put16(u + 2, dport); put16(u + 4, (uint16_t)(8 + n));
	} else if (proto == 6) {
		put16(u, sport); put16(u + 2, dport);
		u[12] = 0x50; u[13] = 0x18; /* PSH, ACK */
		put16(u + 14, 64240);
		t->tcp_seq = (long)(14 + 20 + 4);
		t->step = (uint32_t)n;
		t->seq = 0x10000000u;
	}
	memcpy(u + l4, pl, n);
	t->len = 14 + total;
}

static size_t ppp_cp(uint16_t proto, uint8_t code, uint8_t id, const struct ppp_opt *opts,
                     size_t nopts, uint32_t magic, uint8_t *out, size_t cap)
{
	struct ppp_msg m;
	memset(&m, 0, sizeof m);
	m.has_acf = true;
	m.proto = proto;
	m.kind = PPP_KIND_CP;
	m.cp.code = code;
	m.cp.id = id;
	m.cp.nopts = nopts;
	for (size_t i = 0; i < nopts; i++)
		m.cp.opts[i] = opts[i];
	m.cp.has_magic = code >= 9 && code <= 11;
	m.cp.magic = magic;
	return ppp_encode(&m, out, cap);
}

static size_t ppp_ip(const uint8_t *ip, size_t n, uint8_t *out, size_t cap)
{
	struct ppp_msg m;
	memset(&m, 0, sizeof m);
	m.has_acf = true;
	m.proto = PPP_PROTO_IP;
	m.kind = PPP_KIND_DATA;
	m.payload = ip;
	m.payload_len = n;
	return ppp_encode(&m, out, cap);
}

/* An inner ICMP echo the user sends through the tunnel (84 bytes). */
static size_t inner_icmp(uint8_t *b)
{
	memset(b, 0, 84);
	b[0] = 0x45; put16(b + 2, 84); b[8] = 64; b[9] = 1;
	b[12] = 10; b[13] = 200; b[15] = 10; b[16] = 10; b[17] = 200; b[19] = 1;
	ip_checksum(b);
	b[20] = 8;
	for (int i = 28; i < 84; i++)
		b[i] = (uint8_t)i;
	return 84;
}

static int fail(const char *what)
{
	fprintf(stderr, "bench_pcap_gen: cannot encode %s\n", what);
	return 1;
}

enum { T_SAINIT_I, T_SAINIT_R, T_AUTH, T_ESP_I, T_ESP_R, T_KEEPALIVE, T_SCCRQ, T_ICRQ, T_HELLO,
       T_ZLB, T_L2TP_LCP, T_L2TP_IP, T_PPTP_SCCRQ, T_PPTP_OCRQ, T_GRE_LCP, T_GRE_IP,
       T_GRE_ACK, T_COUNT };

static struct tmpl T[T_COUNT];

static int build(void)
{
	static struct ike_msg im;
	uint8_t pl[MAXPKT], ppp[MAXPKT], icmp[84];
	size_t n;
	const uint8_t ispi[8] = {0x9a, 0x1c, 0x33, 0x07, 0x42, 0x5e, 0x10, 0x01};
	const uint8_t rspi[8] = {0x5b, 0x77, 0x02, 0x91, 0xe0, 0x3c, 0x44, 0x18};
	const uint8_t zero[8] = {0};
	static uint8_t ke[256], nonce[32], natd[20], sk[320];
	for (size_t i = 0; i < sizeof ke; i++) ke[i] = (uint8_t)(i * 13 + 1);
	for (size_t i = 0; i < sizeof nonce; i++) nonce[i] = (uint8_t)(i * 29 + 7);
	for (size_t i = 0; i < sizeof sk; i++) sk[i] = (uint8_t)(i * 31 + 3);

	for (int dir = 0; dir < 2; dir++) {
		ike_msg_init(&im, 2, IKE2_EXCH_SA_INIT, dir ? 0x20 : 0x08, 0, ispi, dir ? rspi : zero);
		struct ike_payload *sa = ike_add_payload(&im, IKE2_PL_SA, NULL, 0);
		struct ike_proposal *pr = ike_add_proposal(&im, sa, 1, 1, NULL, 0);
		ike_add_transform(&im, pr, 1, 12);
		ike_add_attr(&im, 14, true, 256, NULL, 0);
		ike_add_transform(&im, pr, 3, 12);
		ike_add_transform(&im, pr, 2, 5);
		ike_add_transform(&im, pr, 4, 14);
		struct ike_payload *k = ike_add_payload(&im, IKE2_PL_KE, ke, sizeof ke);
		k->group = 14;
		ike_add_payload(&im, IKE2_PL_NONCE, nonce, sizeof nonce);
		struct ike_payload *nd = ike_add_payload(&im, IKE2_PL_N, natd, sizeof natd);
		nd->notify = 16388;
		nd = ike_add_payload(&im, IKE2_PL_N, natd, sizeof natd);
		nd->notify = 16389;
		n = ike_encode(&im, pl, sizeof pl);
		if (!n)
			return fail("IKE_SA_INIT");
		frame(&T[dir ? T_SAINIT_R : T_SAINIT_I], !dir, 17, 500, 500, pl, n);
	}
	ike_msg_init(&im, 2, IKE2_EXCH_AUTH, 0x08, 1, ispi, rspi);
	struct ike_payload *e = ike_add_payload(&im, IKE2_PL_SK, sk, sizeof sk);
	e->encrypted = true;
	e->body = sk;
	e->body_len = sizeof sk;
	e->inner_next = IKE2_PL_IDI;
	memset(pl, 0, 4);
	n = ike_encode(&im, pl + 4, sizeof pl - 4);
	if (!n)
		return fail("IKE_AUTH");
	frame(&T[T_AUTH], true, 17, 4500, 4500, pl, n + 4);

	for (int dir = 0; dir < 2; dir++) {
		static uint8_t body[120];
		for (size_t i = 0; i < sizeof body; i++) body[i] = (uint8_t)(i * 17 + dir);
		struct esp_msg em = {.spi = dir ? 0xc8a1f00d : 0x3f2e1d0c, .seq = 1,
		                     .payload = body, .payload_len = sizeof body};
		n = esp_encode(&em, pl, sizeof pl);
		if (!n)
			return fail("ESP");
		struct tmpl *t = &T[dir ? T_ESP_R : T_ESP_I];
		frame(t, !dir, 17, 4500, 4500, pl, n);
		t->esp_seq = 14 + 20 + 8 + 4;
		t->seq = 1;
		t->step = 1;
	}
	pl[0] = 0xff;
	frame(&T[T_KEEPALIVE], true, 17, 4500, 4500, pl, 1);

	static struct l2tp_msg lm;
	l2tp_msg_init_ctrl(&lm, L2TP_MSG_SCCRQ, 0, 0, 0, 0);
	l2tp_add_proto_version(&lm, 1, 0);
	l2tp_add_uint(&lm, L2TP_AVP_FRAMING_CAP, 3);
	l2tp_add_uint(&lm, L2TP_AVP_BEARER_CAP, 0);
	l2tp_add_bytes(&lm, L2TP_AVP_HOST_NAME, "client-7", 8);
	l2tp_add_uint(&lm, L2TP_AVP_ASSIGNED_TUNNEL_ID, 4711);
	l2tp_add_uint(&lm, 10, 8); /* Receive Window Size */
	n = l2tp_encode(&lm, pl, sizeof pl);
	if (!n)
		return fail("SCCRQ");
	frame(&T[T_SCCRQ], true, 17, 1701, 1701, pl, n);
	l2tp_msg_init_ctrl(&lm, L2TP_MSG_ICRQ, 9001, 0, 2, 1);
	l2tp_add_uint(&lm, L2TP_AVP_ASSIGNED_SESSION_ID, 33);
	l2tp_add_uint(&lm, L2TP_AVP_CALL_SERIAL, 1);
	n = l2tp_encode(&lm, pl, sizeof pl);
	if (!n)
		return fail("ICRQ");
	frame(&T[T_ICRQ], true, 17, 1701, 1701, pl, n);
	l2tp_msg_init_ctrl(&lm, L2TP_MSG_HELLO, 9001, 0, 5, 4);
	n = l2tp_encode(&lm, pl, sizeof pl);
	if (!n)
		return fail("Hello");
	frame(&T[T_HELLO], true, 17, 1701, 1701, pl, n);
	l2tp_msg_init_ctrl(&lm, L2TP_MSG_ZLB, 4711, 0, 4, 6);
	n = l2tp_encode(&lm, pl, sizeof pl);
	if (!n)
		return fail("ZLB");
	frame(&T[T_ZLB], false, 17, 1701, 1701, pl, n);

	size_t pn = ppp_cp(PPP_PROTO_LCP, 9, 17, NULL, 0, 0x5a5a1234, ppp, sizeof ppp);
	l2tp_msg_init_data(&lm, 9001, 77, false, 0, 0, ppp, pn);
	n = l2tp_encode(&lm, pl, sizeof pl);
	if (!pn || !n)
		return fail("L2TP LCP");
	frame(&T[T_L2TP_LCP], true, 17, 1701, 1701, pl, n);
	size_t in = inner_icmp(icmp);
	pn = ppp_ip(icmp, in, ppp, sizeof ppp);
	l2tp_msg_init_data(&lm, 9001, 77, false, 0, 0, ppp, pn);
	n = l2tp_encode(&lm, pl, sizeof pl);
	if (!pn || !n)
		return fail("L2TP IP");
	frame(&T[T_L2TP_IP], true, 17, 1701, 1701, pl, n);

	/* PPTP: one TCP stream carrying SCCRQ and OCRQ alternately, seq advancing across
	 * both templates (they share the counter through pptp_seq below). */
	static struct pptp_msg pm;
	pptp_msg_init(&pm, PPTP_SCCRQ);
	pm.framing_caps = 3;
	pm.bearer_caps = 3;
	pm.max_channels = 1;
	pptp_str_set(&pm.host_name, "client-7");
	pptp_str_set(&pm.vendor, "bench");
	n = pptp_encode(&pm, pl, sizeof pl);
	if (!n)
		return fail("PPTP SCCRQ");
	frame(&T[T_PPTP_SCCRQ], true, 6, 40001, 1723, pl, n);
	pptp_msg_init(&pm, PPTP_OCRQ);
	pm.call_id = 5;
	pm.call_serial = 1;
	pm.min_bps = 300;
	pm.max_bps = 100000000;
	pm.bearer_type = 3;
	pm.framing_type = 3;
	pm.recv_window = 64;
	n = pptp_encode(&pm, pl, sizeof pl);
	if (!n)
		return fail("PPTP OCRQ");
	frame(&T[T_PPTP_OCRQ], true, 6, 40001, 1723, pl, n);

	struct ppp_opt mru = {.type = 1, .len = 4, .data = (const uint8_t *)"\x05\xdc", .dlen = 2};
	pn = ppp_cp(PPP_PROTO_LCP, 1, 3, &mru, 1, 0, ppp, sizeof ppp);
	struct gre_msg gm;
	gre_msg_init_v1(&gm, 5, true, 0, false, 0, ppp, pn);
	n = gre_encode(&gm, pl, sizeof pl);
	if (!pn || !n)
		return fail("GRE LCP");
	frame(&T[T_GRE_LCP], false, 47, 0, 0, pl, n);
	T[T_GRE_LCP].gre_seq = 14 + 20 + 8;
	T[T_GRE_LCP].step = 1;
	pn = ppp_ip(icmp, in, ppp, sizeof ppp);
	gre_msg_init_v1(&gm, 5, true, 0, true, 0, ppp, pn);
	n = gre_encode(&gm, pl, sizeof pl);
	if (!pn || !n)
		return fail("GRE IP");
	frame(&T[T_GRE_IP], false, 47, 0, 0, pl, n);
	T[T_GRE_IP].gre_seq = 14 + 20 + 8;
	T[T_GRE_IP].step = 1;
	gre_msg_init_v1(&gm, 9, false, 0, true, 77, NULL, 0);
	n = gre_encode(&gm, pl, sizeof pl);
	if (!n)
		return fail("GRE ack");
	frame(&T[T_GRE_ACK], true, 47, 0, 0, pl, n);
	return 0;
}

/* One cycle of 20 packets: the data plane dominates, as on a busy server. */
static const int cycle[] = {
	T_ESP_I, T_ESP_R, T_GRE_IP, T_L2TP_IP, T_ESP_I, T_ESP_R, T_GRE_IP, T_L2TP_IP, T_SAINIT_I,
	T_SAINIT_R, T_ESP_I, T_GRE_ACK, T_L2TP_IP, T_AUTH, T_PPTP_SCCRQ, T_GRE_LCP, T_L2TP_LCP,
	T_SCCRQ, T_PPTP_OCRQ, T_ICRQ,
};
/* Every 5th cycle swaps a few control messages for the rarer ones. */
static const int rare[] = {T_HELLO, T_ZLB, T_KEEPALIVE};

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("bench_pcap_gen: writes the capture bench/pcap-decode.sh times; "
		       "usage: bench_pcap_gen OUT.pcap [PACKETS]\n");
		return 0;
	}
	unsigned long long count = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000ull;
	if (build())
		return 1;
	FILE *f = strcmp(argv[1], "-") ? fopen(argv[1], "wb") : stdout;
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	static char obuf[1 << 20];
	setvbuf(f, obuf, _IOFBF, sizeof obuf);
	uint8_t gh[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0};
	gh[16] = 0xff; gh[17] = 0xff; gh[20] = 1; /* snaplen 65535, Ethernet */
	fwrite(gh, 1, sizeof gh, f);
	uint64_t us = 1700000000ull * 1000000ull;
	uint32_t pptp_seq = 0x10000000u;
	const size_t nc = sizeof cycle / sizeof cycle[0];
	for (unsigned long long i = 0; i < count; i++) {
		int k = cycle[i % nc];
		if ((i / nc) % 5 == 4 && (i % nc) >= 17)
			k = rare[i % nc - 17];
		struct tmpl *t = &T[k];
		uint8_t *ip = t->b + t->ip;
		put16(ip + 4, ++ip_id);
		ip_checksum(ip);
		if (t->esp_seq >= 0)
			put32(t->b + t->esp_seq, t->seq);
		if (t->gre_seq >= 0)
			put32(t->b + t->gre_seq, t->seq);
		if (t->tcp_seq >= 0) {
			put32(t->b + t->tcp_seq, pptp_seq);
			pptp_seq += t->step;
		}
		t->seq += t->step;
		us += 7 + (i % 13);
		uint8_t rh[16];
		uint32_t sec = (uint32_t)(us / 1000000u), usec = (uint32_t)(us % 1000000u);
		uint32_t l = (uint32_t)t->len;
		for (int b = 0; b < 4; b++) {
			rh[b] = (uint8_t)(sec >> (8 * b));
			rh[4 + b] = (uint8_t)(usec >> (8 * b));
			rh[8 + b] = (uint8_t)(l >> (8 * b));
			rh[12 + b] = (uint8_t)(l >> (8 * b));
		}
		fwrite(rh, 1, sizeof rh, f);
		fwrite(t->b, 1, t->len, f);
	}
	if (fflush(f) || (f != stdout && fclose(f))) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
