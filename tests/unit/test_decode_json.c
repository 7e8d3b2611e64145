/* `pcap decode --json` streams each packet through the JSON writer; it must write what
 * jansson writes for the same packet built as a tree (the layout the golden tests and
 * scripts know), for every packet of the captures in tests/captures and for packet
 * times at the edges of the direct time formatting (exponent below 0.0001 s, rounding
 * at 15 significant digits from 10^6 s on). */
#include <check.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include "dissect.h"
#include "pcapin.h"

static void compare(const struct dl_pkt *p, const char *what)
{
	struct jw w;
	jw_init(&w, JW_COMPACT, NULL);
	w.real_precision = 15;
	dl_pkt_jw(&w, p);
	json_t *t = dl_pkt_json(p);
	char *want = json_dumps(t, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	ck_assert_ptr_nonnull(want);
	ck_assert_msg(!w.failed && w.len == strlen(want) && !memcmp(w.buf, want, w.len),
	              "%s frame %llu:\n jansson: %s\n jw:      %.*s", what,
	              (unsigned long long)p->frame, want, (int)w.len, w.buf);
	free(want);
	json_decref(t);
	jw_free(&w);
}

START_TEST(every_packet_of_the_captures)
{
	const char *dir = VNET_SOURCE_DIR "/tests/captures";
	DIR *dp = opendir(dir);
	ck_assert_ptr_nonnull(dp);
	struct dirent *e;
	size_t files = 0, packets = 0;
	while ((e = readdir(dp))) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".pcap")) continue;
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		struct pcapin in;
		ck_assert_int_eq(pcapin_open(&in, path), 0);
		struct dissect *d = dissect_new(NULL);
		struct pcapin_pkt pk;
		while (pcapin_next(&in, &pk) > 0) {
			const struct dl_pkt *p = dissect_packet(d, in.dlt, pk.frame, pk.ts_ns, pk.rel_ns,
			                                        pk.data, pk.caplen, pk.origlen);
			compare(p, e->d_name);
			packets++;
		}
		dissect_free(d);
		pcapin_close(&in);
		files++;
	}
	closedir(dp);
	ck_assert_uint_gt(files, 5);
	ck_assert_uint_gt(packets, 100);
}
END_TEST

START_TEST(packet_times)
{
	/* an Ethernet frame with IPv4/UDP to port 1701: an L2TP ZLB */
	static const uint8_t frame[] = {
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00,
		0x45, 0, 0, 40, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x06, 0xa5, 0x06, 0xa5, 0, 20, 0, 0,
		0xc8, 0x02, 0, 12, 0, 1, 0, 0, 0, 0, 0, 0,
	};
	static const uint64_t t[] = {
		0, 1, 999, 1000, 99999, 100000, 100001, 123456789, 999999999, 1000000000,
		1000000001, 1500000000, 59999999999ull, 999999999999999ull, 1000000000000000ull,
		1000000000000001ull, 1234567891234567891ull, 18446744073709551615ull,
	};
	struct dissect *d = dissect_new(NULL);
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		const struct dl_pkt *p = dissect_packet(d, 1 /* DLT_EN10MB */, i + 1, t[i], t[i],
		                                        frame, sizeof frame, sizeof frame);
		compare(p, "time");
	}
	dissect_free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("decode_json");
	TCase *tc = tcase_create("decode_json");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, every_packet_of_the_captures);
	tcase_add_test(tc, packet_times);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
