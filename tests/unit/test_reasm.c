/* IP fragment and TCP stream reassembly (libdiag/reasm.c). The inputs are synthetic:
 * a datagram of known bytes cut into fragments, and a stream of length-prefixed
 * messages cut into segments, so every expected value follows from the construction. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "dissect.h"
#include "pptp.h"
#include "reasm.h"

static uint8_t dgram[3000];

static void fill(void)
{
	for (size_t i = 0; i < sizeof dgram; i++)
		dgram[i] = (uint8_t)(i * 7 + 3);
}

static struct ipfrag_key key(uint32_t id)
{
	struct ipfrag_key k = {.version = 4, .proto = 17, .id = id};
	k.src[0] = 10; k.src[3] = 1;
	k.dst[0] = 10; k.dst[3] = 2;
	return k;
}

struct reports {
	int n;
	struct ipfrag_report last;
};

static void on_report(void *arg, const struct ipfrag_report *rep)
{
	struct reports *r = arg;
	r->n++;
	r->last = *rep;
}

#define ADD(f, k, t, fr, off, mf, n, done, e) \
	ipfrag_add(f, &(k), t, fr, off, mf, dgram + (off), n, done, e)

START_TEST(frag_in_order_and_reversed)
{
	fill();
	struct ipfrag *f = ipfrag_new(NULL);
	struct ipfrag_key k = key(1);
	struct ipfrag_done d;
	struct diag_err e;
	ck_assert_int_eq(ADD(f, k, 0, 1, 0, true, 1480, &d, &e), 0);
	ck_assert_int_eq(ADD(f, k, 0, 2, 1480, true, 1480, &d, &e), 0);
	ck_assert_uint_eq(ipfrag_open_count(f), 1);
	ck_assert_int_eq(ADD(f, k, 0, 3, 2960, false, 40, &d, &e), 1);
	ck_assert_uint_eq(d.len, 3000);
	ck_assert_mem_eq(d.data, dgram, 3000);
	ck_assert_uint_eq(d.nfrags, 3);
	ck_assert_uint_eq(d.first_frame, 1);
	ck_assert_uint_eq(ipfrag_open_count(f), 0);
	/* the same datagram id again, last fragment first */
	ck_assert_int_eq(ADD(f, k, 0, 4, 2960, false, 40, &d, &e), 0);
	ck_assert_int_eq(ADD(f, k, 0, 5, 1480, true, 1480, &d, &e), 0);
	ck_assert_int_eq(ADD(f, k, 0, 6, 0, true, 1480, &d, &e), 1);
	ck_assert_mem_eq(d.data, dgram, 3000);
	ck_assert_uint_eq(d.first_frame, 4);
	ipfrag_free(f);
}
END_TEST

START_TEST(frag_duplicates_and_overlaps)
{
	fill();
	struct ipfrag *f = ipfrag_new(NULL);
	struct ipfrag_key k = key(2);
	struct ipfrag_done d;
	struct diag_err e;
	ck_assert_int_eq(ADD(f, k, 0, 1, 0, true, 1480, &d, &e), 0);
	ck_assert_int_eq(ADD(f, k, 0, 2, 0, true, 1480, &d, &e), 0); /* exact duplicate */
	ck_assert_int_eq(ADD(f, k, 0, 3, 8, true, 16, &d, &e), 0);   /* contained duplicate */
	/* an overlapping fragment with different bytes: the first copy wins */
	uint8_t bad[1000];
	memcpy(bad, dgram + 1000, sizeof bad);
	bad[0] ^= 0xff; /* byte 1000: held already */
	ck_assert_int_eq(ipfrag_add(f, &k, 0, 4, 1000, true, bad, sizeof bad, &d, &e), 0);
	ck_assert_int_eq(ADD(f, k, 0, 5, 1480, false, 1520, &d, &e), 1);
	ck_assert_mem_eq(d.data, dgram, 3000);
	ck_assert_uint_eq(d.nfrags, 3);   /* duplicates do not count */
	ck_assert_uint_eq(d.overlaps, 2); /* the conflicting one and the last (overlaps bad) */
	ck_assert_uint_eq(d.conflicts, 1);
	ipfrag_free(f);
}
END_TEST

START_TEST(frag_invalid)
{
	fill();
	struct ipfrag *f = ipfrag_new(NULL);
	struct ipfrag_key k = key(3);
	struct ipfrag_done d;
	struct diag_err e;
	ck_assert_int_eq(ipfrag_add(f, &k, 0, 1, 65528, true, dgram, 16, &d, &e), -1);
	ck_assert(strstr(e.reason, "past 65535") != NULL);
	ck_assert_int_eq(ipfrag_add(f, &k, 0, 1, 8, true, dgram, 0, &d, &e), -1);
	ck_assert_int_eq(ADD(f, k, 0, 1, 1480, false, 100, &d, &e), 0);
	ck_assert_int_eq(ADD(f, k, 0, 2, 1480, false, 200, &d, &e), -1); /* two different ends */
	ck_assert(strstr(e.reason, "earlier one ended at 1580") != NULL);
	ck_assert_int_eq(ADD(f, k, 0, 3, 1560, true, 100, &d, &e), -1); /* past the end */
	ipfrag_free(f);
}
END_TEST

START_TEST(frag_timeout_eviction_flush)
{
	fill();
	struct ipfrag_cfg cfg = {.max_datagrams = 2, .max_bytes = 8192, .timeout_ns = 1000};
	struct ipfrag *f = ipfrag_new(&cfg);
	struct reports r = {0};
	ipfrag_set_report(f, on_report, &r);
	struct ipfrag_done d;
	struct diag_err e;
	struct ipfrag_key k1 = key(1), k2 = key(2), k3 = key(3), k4 = key(4);
	ck_assert_int_eq(ADD(f, k1, 100, 1, 0, true, 1480, &d, &e), 0);
	ipfrag_expire(f, 1100); /* exactly the timeout: kept */
	ck_assert_int_eq(r.n, 0);
	ipfrag_expire(f, 1101);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.last.why, IPFRAG_TIMEOUT);
	ck_assert_uint_eq(r.last.have_bytes, 1480);
	ck_assert_uint_eq(r.last.total_len, 0);
	ck_assert_uint_eq(ipfrag_open_count(f), 0);
	/* three datagrams, room for two: the oldest goes */
	ck_assert_int_eq(ADD(f, k1, 2000, 2, 0, true, 1480, &d, &e), 0);
	ck_assert_int_eq(ADD(f, k2, 2000, 3, 0, true, 1480, &d, &e), 0);
	ck_assert_int_eq(ADD(f, k3, 2000, 4, 0, true, 1480, &d, &e), 0);
	ck_assert_int_eq(r.n, 2);
	ck_assert_int_eq(r.last.why, IPFRAG_EVICTED);
	ck_assert_uint_eq(r.last.key.id, 1);
	ck_assert_uint_eq(ipfrag_open_count(f), 2);
	ck_assert_uint_le(ipfrag_bytes(f), 8192);
	/* growing one datagram past the byte budget gives up the other one first */
	ck_assert_int_eq(ADD(f, k3, 2000, 5, 1480, true, 1480, &d, &e), 0);
	ck_assert_uint_le(ipfrag_bytes(f), 8192);
	/* a datagram that alone exceeds the budget cannot be held */
	static uint8_t big[9000];
	ck_assert_int_eq(ipfrag_add(f, &k4, 2000, 6, 0, true, big, sizeof big, &d, &e), -1);
	ck_assert(strstr(e.reason, "no room") != NULL);
	ck_assert_uint_le(ipfrag_bytes(f), 8192);
	/* trying to make room for it gave up the two open ones, then itself */
	ck_assert_int_eq(r.n, 5);
	ck_assert_int_eq(r.last.why, IPFRAG_EVICTED);
	ck_assert_uint_eq(r.last.key.id, 4);
	ck_assert_uint_eq(ipfrag_open_count(f), 0);
	ck_assert_uint_eq(ipfrag_bytes(f), 0);
	ck_assert_int_eq(ADD(f, k1, 3000, 7, 0, true, 1480, &d, &e), 0);
	ipfrag_flush(f);
	ck_assert_int_eq(r.n, 6);
	ck_assert_int_eq(r.last.why, IPFRAG_END_OF_CAPTURE);
	ck_assert_uint_eq(ipfrag_open_count(f), 0);
	ck_assert_uint_eq(ipfrag_bytes(f), 0);
	ipfrag_free(f);
}
END_TEST

START_TEST(frag_flush_reports_end_of_capture)
{
	fill();
	struct ipfrag *f = ipfrag_new(NULL);
	struct reports r = {0};
	ipfrag_set_report(f, on_report, &r);
	struct ipfrag_done d;
	struct diag_err e;
	struct ipfrag_key k = key(9);
	ck_assert_int_eq(ADD(f, k, 0, 7, 1480, false, 100, &d, &e), 0);
	ck_assert_int_eq(ADD(f, k, 0, 8, 0, true, 8, &d, &e), 0);
	ipfrag_flush(f);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(r.last.why, IPFRAG_END_OF_CAPTURE);
	ck_assert_uint_eq(r.last.nfrags, 2);
	ck_assert_uint_eq(r.last.first_frame, 7);
	ck_assert_uint_eq(r.last.last_frame, 8);
	ck_assert_uint_eq(r.last.have_bytes, 108);
	ck_assert_uint_eq(r.last.total_len, 1580);
	ipfrag_free(f);
}
END_TEST

START_TEST(frag_too_many_holes)
{
	fill();
	struct ipfrag *f = ipfrag_new(NULL);
	struct ipfrag_key k = key(5);
	struct ipfrag_done d;
	struct diag_err e;
	int rc = 0;
	for (uint32_t i = 0; i < 100 && rc == 0; i++)
		rc = ADD(f, k, 0, i, i * 16, true, 8, &d, &e);
	ck_assert_int_eq(rc, -1);
	ck_assert(strstr(e.reason, "holes") != NULL);
	ck_assert_uint_eq(ipfrag_open_count(f), 0);
	ipfrag_free(f);
}
END_TEST

/* ---- streams: messages are a 2-byte length (header included) and a body ---------- */

static long framelen(const uint8_t *p, size_t len)
{
	if (len < 2)
		return 0;
	long n = (p[0] << 8) | p[1];
	return n < 2 ? -1 : n;
}

static uint8_t stream[600];

static void fill_stream(void)
{
	/* messages of 100, 3, 250, 47, 200 bytes */
	const int lens[] = {100, 3, 250, 47, 200};
	size_t o = 0;
	for (int m = 0; m < 5; m++) {
		stream[o] = (uint8_t)(lens[m] >> 8);
		stream[o + 1] = (uint8_t)lens[m];
		for (int i = 2; i < lens[m]; i++)
			stream[o + i] = (uint8_t)(m + 1);
		o += lens[m];
	}
}

static struct tcpflow_key fkey(uint16_t sport)
{
	struct tcpflow_key k = {.version = 4, .sport = sport, .dport = 1723};
	k.src[0] = 10; k.dst[0] = 10; k.dst[3] = 1;
	return k;
}

static int take(struct tcpflow *t, size_t *lens, int max)
{
	int n = 0;
	const uint8_t *m;
	size_t len;
	struct diag_err e;
	while (n < max && tcpflow_next(t, &m, &len, &e) == 1)
		lens[n++] = len;
	return n;
}

START_TEST(stream_split_and_shared_segments)
{
	fill_stream();
	struct tcpflow *t = tcpflow_new(NULL, framelen);
	struct tcpflow_key k = fkey(3025);
	struct diag_err e;
	size_t lens[8];
	const uint32_t isn = 0xfffffff0u; /* the sequence space wraps inside the stream */
	ck_assert_int_eq(tcpflow_add(t, &k, isn, 0x02, NULL, 0, &e), 0);
	uint32_t s = isn + 1;
	/* 60 bytes: half of message 1 */
	ck_assert_int_eq(tcpflow_add(t, &k, s, 0x18, stream, 60, &e), 0);
	ck_assert_int_eq(take(t, lens, 8), 0);
	ck_assert_uint_eq(tcpflow_pending(t), 60);
	/* 300 bytes: rest of 1, all of 2, 3 and part of 4 ... */
	ck_assert_int_eq(tcpflow_add(t, &k, s + 60, 0x18, stream + 60, 300, &e), 0);
	ck_assert_int_eq(take(t, lens, 8), 3);
	ck_assert_uint_eq(lens[0], 100);
	ck_assert_uint_eq(lens[1], 3);
	ck_assert_uint_eq(lens[2], 250);
	ck_assert_uint_eq(tcpflow_pending(t), 7);
	/* a retransmission of bytes already delivered changes nothing */
	ck_assert_int_eq(tcpflow_add(t, &k, s, 0x18, stream, 200, &e), 0);
	ck_assert_int_eq(take(t, lens, 8), 0);
	ck_assert_uint_eq(tcpflow_stats(t)->retrans_bytes, 200);
	/* the rest, with 10 bytes resent at its front */
	ck_assert_int_eq(tcpflow_add(t, &k, s + 350, 0x18, stream + 350, 250, &e), 0);
	ck_assert_int_eq(take(t, lens, 8), 2);
	ck_assert_uint_eq(lens[0], 47);
	ck_assert_uint_eq(lens[1], 200);
	ck_assert_uint_eq(tcpflow_stats(t)->retrans_bytes, 210);
	ck_assert_uint_eq(tcpflow_pending(t), 0);
	tcpflow_free(t);
}
END_TEST

START_TEST(stream_out_of_order)
{
	fill_stream();
	struct tcpflow *t = tcpflow_new(NULL, framelen);
	struct tcpflow_key k = fkey(1);
	struct diag_err e;
	size_t lens[8];
	const uint8_t *m;
	size_t len;
	ck_assert_int_eq(tcpflow_add(t, &k, 1000, 0x02, NULL, 0, &e), 0);
	ck_assert_int_eq(tcpflow_add(t, &k, 1001 + 200, 0x10, stream + 200, 400, &e), 0);
	ck_assert_int_eq(take(t, lens, 8), 0);
	ck_assert_int_eq(tcpflow_add(t, &k, 1001 + 100, 0x10, stream + 100, 100, &e), 0);
	ck_assert_int_eq(take(t, lens, 8), 0);
	ck_assert_int_eq(tcpflow_add(t, &k, 1001, 0x10, stream, 100, &e), 0);
	ck_assert_int_eq(tcpflow_next(t, &m, &len, &e), 1);
	ck_assert_mem_eq(m, stream, 100);
	ck_assert_int_eq(take(t, lens, 8), 4);
	ck_assert_uint_eq(lens[3], 200);
	tcpflow_free(t);
}
END_TEST

START_TEST(stream_bounds_and_errors)
{
	fill_stream();
	struct tcpflow_cfg cfg = {.max_flows = 2, .max_flow_bytes = 256, .max_ooo_bytes = 128};
	struct tcpflow *t = tcpflow_new(&cfg, framelen);
	struct tcpflow_key k = fkey(1);
	struct diag_err e;
	size_t lens[8];
	const uint8_t *m;
	size_t len;
	/* joined mid-stream: the first byte seen starts a message */
	ck_assert_int_eq(tcpflow_add(t, &k, 5000, 0x10, stream, 100, &e), 0);
	ck_assert_int_eq(take(t, lens, 8), 1);
	/* a message longer than the flow may buffer */
	uint8_t huge[300] = {0x01, 0x2c};
	ck_assert_int_eq(tcpflow_add(t, &k, 5100, 0x10, huge, 200, &e), 0);
	ck_assert_int_eq(tcpflow_next(t, &m, &len, &e), -1);
	ck_assert(strstr(e.reason, "300 bytes") != NULL);
	/* the flow is skipped until a SYN starts it again */
	ck_assert_int_eq(tcpflow_add(t, &k, 5300, 0x10, stream, 100, &e), 0);
	ck_assert_int_eq(take(t, lens, 8), 0);
	ck_assert_int_eq(tcpflow_add(t, &k, 9, 0x02, NULL, 0, &e), 0);
	ck_assert_int_eq(tcpflow_add(t, &k, 10, 0x10, stream, 100, &e), 0);
	ck_assert_int_eq(take(t, lens, 8), 1);
	/* bytes that cannot start a message */
	uint8_t junk[4] = {0, 1, 0, 0};
	ck_assert_int_eq(tcpflow_add(t, &k, 110, 0x10, junk, 4, &e), 0);
	ck_assert_int_eq(tcpflow_next(t, &m, &len, &e), -1);
	/* a hole that early segments cannot wait out: 128 bytes of room */
	struct tcpflow_key k2 = fkey(2);
	ck_assert_int_eq(tcpflow_add(t, &k2, 0, 0x02, NULL, 0, &e), 0);
	ck_assert_int_eq(tcpflow_add(t, &k2, 1 + 100, 0x10, stream + 100, 3, &e), 0);
	ck_assert_int_eq(tcpflow_add(t, &k2, 1 + 103, 0x10, stream + 103, 250, &e), -1);
	ck_assert_uint_eq(tcpflow_stats(t)->gaps, 1);
	ck_assert_int_eq(take(t, lens, 8), 2); /* messages 2 and 3 after the hole */
	ck_assert_uint_eq(lens[0], 3);
	ck_assert_uint_eq(lens[1], 250);
	/* a third flow evicts the least recently used one */
	struct tcpflow_key k3 = fkey(3);
	ck_assert_int_eq(tcpflow_add(t, &k3, 0, 0x02, NULL, 0, &e), 0);
	ck_assert_uint_eq(tcpflow_open_count(t), 2);
	ck_assert_uint_eq(tcpflow_stats(t)->evicted, 1);
	/* RST forgets the flow */
	ck_assert_int_eq(tcpflow_add(t, &k3, 1, 0x04, NULL, 0, &e), 0);
	ck_assert_uint_eq(tcpflow_open_count(t), 1);
	tcpflow_free(t);
}
END_TEST

/* ---- through the dissector: PPTP control messages cut from a TCP 1723 stream ------- */

static size_t tcp_frame(uint8_t *f, uint32_t seq, uint8_t flags, const uint8_t *pl, size_t n)
{
	memset(f, 0, 54);
	f[12] = 0x08; /* IPv4 */
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((40 + n) >> 8); ip[3] = (uint8_t)(40 + n);
	ip[8] = 64; ip[9] = 6;
	ip[12] = 10; ip[15] = 2; ip[16] = 10; ip[19] = 1;
	uint8_t *t = ip + 20;
	t[0] = 0xa0; t[1] = 0x01; t[2] = 0x06; t[3] = 0xbb; /* 40961 > 1723 */
	t[4] = (uint8_t)(seq >> 24); t[5] = (uint8_t)(seq >> 16); t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[12] = 0x50; t[13] = flags;
	if (n)
		memcpy(t + 20, pl, n);
	return 54 + n;
}

START_TEST(dissect_pptp_stream)
{
	/* SCCRQ (156 bytes) and OCRQ (168 bytes) as pptp_encode writes them (RFC 2637
	 * sizes), sent as: 100 bytes | 56 + 168 bytes | a resend of the first 100. */
	struct pptp_msg m;
	uint8_t s[400];
	pptp_msg_init(&m, PPTP_SCCRQ);
	pptp_str_set(&m.host_name, "client");
	size_t a = pptp_encode(&m, s, sizeof s);
	ck_assert_uint_eq(a, 156);
	pptp_msg_init(&m, PPTP_OCRQ);
	m.call_id = 77;
	size_t b = pptp_encode(&m, s + a, sizeof s - a);
	ck_assert_uint_eq(b, 168);
	struct dissect *d = dissect_new(NULL);
	uint8_t f[600];
	size_t n = tcp_frame(f, 999, 0x02, NULL, 0);
	const struct dl_pkt *p = dissect_packet(d, 1, 1, 0, 0, f, n, n);
	ck_assert_int_eq(p->npptp, 0);
	n = tcp_frame(f, 1000, 0x18, s, 100);
	p = dissect_packet(d, 1, 2, 0, 0, f, n, n);
	ck_assert_int_eq(p->npptp, 0);
	ck_assert_uint_eq(p->stream_held, 100);
	n = tcp_frame(f, 1100, 0x18, s + 100, 56 + 168);
	p = dissect_packet(d, 1, 3, 0, 0, f, n, n);
	ck_assert_int_eq(p->npptp, 2);
	ck_assert(!p->has_err);
	ck_assert_int_eq(p->reasm, DL_REASM_STREAM);
	const struct pptp_msg *m1 = p->layers[p->nlayers - 2].msg;
	const struct pptp_msg *m2 = p->layers[p->nlayers - 1].msg;
	ck_assert_uint_eq(m1->ctrl_type, PPTP_SCCRQ);
	ck_assert_uint_eq(m2->ctrl_type, PPTP_OCRQ);
	ck_assert_uint_eq(m2->call_id, 77);
	char line[1024];
	dl_summary(p, line, sizeof line);
	ck_assert(strstr(line, " | ") != NULL); /* two messages of one segment */
	n = tcp_frame(f, 1000, 0x18, s, 100);
	p = dissect_packet(d, 1, 4, 0, 0, f, n, n);
	ck_assert_int_eq(p->npptp, 0);
	ck_assert(strstr(p->note, "retransmission") != NULL);
	/* bytes that are not PPTP (bad magic) are reported where the stream broke */
	uint8_t junk[16] = {0, 16, 0, 1, 0xde, 0xad, 0xbe, 0xef};
	n = tcp_frame(f, 1000 + 156 + 168, 0x18, junk, sizeof junk);
	p = dissect_packet(d, 1, 5, 0, 0, f, n, n);
	ck_assert(p->has_err);
	ck_assert_str_eq(p->err_layer, "PPTP");
	dissect_free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reasm");
	TCase *tc = tcase_create("reasm");
	tcase_add_test(tc, frag_in_order_and_reversed);
	tcase_add_test(tc, frag_duplicates_and_overlaps);
	tcase_add_test(tc, frag_invalid);
	tcase_add_test(tc, frag_timeout_eviction_flush);
	tcase_add_test(tc, frag_flush_reports_end_of_capture);
	tcase_add_test(tc, frag_too_many_holes);
	tcase_add_test(tc, stream_split_and_shared_segments);
	tcase_add_test(tc, stream_out_of_order);
	tcase_add_test(tc, stream_bounds_and_errors);
	tcase_add_test(tc, dissect_pptp_stream);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
