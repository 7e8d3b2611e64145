/* The server's TUN data path (tools/server_tundev.c) without touching the network: the
 * CIDR blocks a pool range is routed as, the index from client address to session
 * (checked against a plain model over random operations), and what the server does
 * when no TUN is configured or the configured one cannot be set up. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"

/* for the loops that run a million checks: Check's assertions are costly when they pass */
#define REQUIRE(c) do { if (!(c)) ck_abort_msg("line %d: %s", __LINE__, #c); } while (0)

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}

/* Blocks are aligned, in order, touch each other, cover exactly [start, end], and none
 * could be doubled (so no fewer blocks would do). */
static void check_blocks(uint32_t start, uint32_t end)
{
	struct srv_cidr c[64];
	size_t n = srv_tundev_cidrs(start, end, c, 64);
	REQUIRE(n >= 1 && n <= 62);
	uint64_t next = start;
	for (size_t i = 0; i < n; i++) {
		REQUIRE(c[i].len <= 32);
		uint64_t size = 1ull << (32 - c[i].len);
		REQUIRE(c[i].addr == next);
		REQUIRE((c[i].addr & (size - 1)) == 0);
		if (c[i].len > 0) {
			uint64_t twice = size * 2;
			bool could_double = (c[i].addr & (twice - 1)) == 0 && c[i].addr + twice - 1 <= end;
			REQUIRE(!could_double);
		}
		next = c[i].addr + size;
	}
	REQUIRE(next == (uint64_t)end + 1);
}

START_TEST(cidr_known_ranges)
{
	struct srv_cidr c[64];
	size_t n = srv_tundev_cidrs(ip(192, 168, 77, 10), ip(192, 168, 77, 29), c, 64);
	static const struct { unsigned last; unsigned len; } want[] = {
		{10, 31}, {12, 30}, {16, 29}, {24, 30}, {28, 31}};
	ck_assert_uint_eq(n, 5);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(c[i].addr, ip(192, 168, 77, want[i].last));
		ck_assert_uint_eq(c[i].len, want[i].len);
	}
	n = srv_tundev_cidrs(ip(10, 0, 0, 0), ip(10, 0, 255, 255), c, 64);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(c[0].len, 16);
	n = srv_tundev_cidrs(ip(10, 1, 2, 3), ip(10, 1, 2, 3), c, 64);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(c[0].len, 32);
	n = srv_tundev_cidrs(0, 0xffffffffu, c, 64);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(c[0].addr, 0);
	ck_assert_uint_eq(c[0].len, 0);
	/* the worst case: everything but the two ends */
	n = srv_tundev_cidrs(1, 0xfffffffeu, c, 64);
	ck_assert_uint_eq(n, 62);
	check_blocks(1, 0xfffffffeu);
	/* a short output array: the count stays right, nothing is written past it */
	struct srv_cidr two[3];
	memset(two, 0xee, sizeof two);
	n = srv_tundev_cidrs(ip(192, 168, 77, 10), ip(192, 168, 77, 29), two, 2);
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(two[1].len, 30);
	ck_assert_uint_eq(two[2].len, 0xee);
	ck_assert_uint_eq(srv_tundev_cidrs(5, 5, NULL, 0), 1);
}
END_TEST

START_TEST(cidr_random_ranges)
{
	for (int k = 0; k < 20000; k++) {
		uint32_t a = rnd32(), b = rnd32();
		if (k % 3 == 0) b = a + (rnd32() % 4096); /* short ranges, like pools */
		if (b < a) {
			uint32_t t = a;
			a = b;
			b = t;
		}
		check_blocks(a, b);
	}
	check_blocks(0xffffffffu, 0xffffffffu);
	check_blocks(0, 0);
}
END_TEST

/* fake sessions: the index only stores and compares the pointers */
static char tags[4096];
#define SS(i) ((struct ras_session *)(void *)&tags[(i)])

START_TEST(index_basics)
{
	struct srv_addr_index x;
	ck_assert_int_eq(srv_addr_index_init(&x, 3), 0);
	struct ras_session *prev = SS(99);
	ck_assert_int_eq(srv_addr_index_put(&x, 0, SS(1), &prev), -1); /* 0 is never an address */
	ck_assert_ptr_null(prev);
	ck_assert_int_eq(srv_addr_index_put(&x, ip(10, 0, 0, 1), SS(1), &prev), 0);
	ck_assert_ptr_null(prev);
	ck_assert_int_eq(srv_addr_index_put(&x, ip(10, 0, 0, 2), SS(2), NULL), 0);
	ck_assert_ptr_eq(srv_addr_index_get(&x, ip(10, 0, 0, 1)), SS(1));
	ck_assert_ptr_eq(srv_addr_index_get(&x, ip(10, 0, 0, 2)), SS(2));
	ck_assert_ptr_null(srv_addr_index_get(&x, ip(10, 0, 0, 3)));
	ck_assert_ptr_null(srv_addr_index_get(&x, 0));
	/* the same address again: taken over, the previous holder reported */
	ck_assert_int_eq(srv_addr_index_put(&x, ip(10, 0, 0, 1), SS(3), &prev), 0);
	ck_assert_ptr_eq(prev, SS(1));
	ck_assert_uint_eq(x.n, 2);
	/* the old holder's removal leaves the new one in place */
	ck_assert(!srv_addr_index_del(&x, ip(10, 0, 0, 1), SS(1)));
	ck_assert_ptr_eq(srv_addr_index_get(&x, ip(10, 0, 0, 1)), SS(3));
	/* full at max entries */
	ck_assert_int_eq(srv_addr_index_put(&x, ip(10, 0, 0, 3), SS(4), NULL), 0);
	ck_assert_int_eq(srv_addr_index_put(&x, ip(10, 0, 0, 4), SS(5), NULL), -1);
	ck_assert(srv_addr_index_del(&x, ip(10, 0, 0, 1), SS(3)));
	ck_assert(srv_addr_index_del(&x, ip(10, 0, 0, 2), NULL));
	ck_assert(!srv_addr_index_del(&x, ip(10, 0, 0, 2), NULL));
	ck_assert_ptr_eq(srv_addr_index_get(&x, ip(10, 0, 0, 3)), SS(4));
	ck_assert_uint_eq(x.n, 1);
	srv_addr_index_free(&x);
}
END_TEST

/* Random puts and deletes on clustered addresses (pool-like runs and values that share
 * low bits), compared after every step with a plain array. */
START_TEST(index_against_model)
{
	enum { KEYS = 3000, MAX = 2500 };
	static uint32_t keys[KEYS];
	static int model[KEYS]; /* tag index + 1, 0 absent */
	for (int i = 0; i < KEYS; i++) {
		keys[i] = i < 1000 ? ip(192, 168, 0, 0) + (uint32_t)i
		        : i < 2000 ? (uint32_t)(i - 999) << 20 /* identical low bits */
		                   : 0xe0000000u | rnd32() >> 4;
		for (int j = 2000; j < i; j++)
			if (keys[j] == keys[i]) { /* drawn twice: draw again */
				keys[i--] = 0;
				break;
			}
	}
	struct srv_addr_index x;
	REQUIRE(srv_addr_index_init(&x, MAX) == 0);
	unsigned n = 0;
	for (int step = 0; step < 200000; step++) {
		int k = (int)(rnd32() % KEYS);
		if (rnd32() % 3) {
			int tag = (int)(rnd32() % 4000);
			struct ras_session *prev;
			int rc = srv_addr_index_put(&x, keys[k], SS(tag), &prev);
			if (model[k]) {
				REQUIRE(rc == 0);
				REQUIRE(prev == SS(model[k] - 1));
				model[k] = tag + 1;
			} else if (n >= MAX) {
				REQUIRE(rc == -1);
			} else {
				REQUIRE(rc == 0);
				REQUIRE(prev == NULL);
				model[k] = tag + 1;
				n++;
			}
		} else {
			bool had = model[k] != 0;
			REQUIRE(srv_addr_index_del(&x, keys[k], NULL) == had);
			if (had) n--;
			model[k] = 0;
		}
		REQUIRE(x.n == n);
		REQUIRE((uint64_t)x.n * 2 <= (uint64_t)x.mask + 1);
		if (step % 997 == 0)
			for (int i = 0; i < KEYS; i++)
				REQUIRE(srv_addr_index_get(&x, keys[i]) == (model[i] ? SS(model[i] - 1) : NULL));
	}
	for (int i = 0; i < KEYS; i++)
		REQUIRE(srv_addr_index_get(&x, keys[i]) == (model[i] ? SS(model[i] - 1) : NULL));
	srv_addr_index_free(&x);
}
END_TEST

/* Run srv_tundev_open on a server built from `conf`, with its log captured in `log`. */
static int open_with(const char *conf, bool required, char *log, size_t cap, bool *has_tun)
{
	struct server_opts o = {0};
	struct srv *s = srv_create(&o, conf, strlen(conf));
	ck_assert_ptr_nonnull(s);
	char path[] = "/tmp/vnet-test-tun-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	int rc = srv_tundev_open(s, required);
	/* nothing to forward to: the caller's echo-only path goes on */
	ck_assert(!srv_tundev_forward(s, NULL, (const uint8_t *)"", 0));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	*has_tun = s->tundev != NULL;
	srv_destroy(s);
	ssize_t n = pread(fd, log, cap - 1, 0);
	log[n > 0 ? n : 0] = 0;
	close(fd);
	unlink(path);
	return rc;
}

START_TEST(no_tun_configured)
{
	char log[4096];
	bool has;
	int rc = open_with("{\"server\": {\"pool\": [{\"start\": \"10.5.0.1\", \"end\": \"10.5.0.9\"}]}}",
	                   true, log, sizeof log, &has);
	ck_assert_int_eq(rc, 0);
	ck_assert(!has);
	ck_assert_msg(strstr(log, "data path: no TUN interface (serve.tun not set): only ICMP echo "
	                     "to 10.5.0.1 is answered"), "%s", log);
}
END_TEST

/* A name the kernel cannot take fails before any device is opened. */
START_TEST(tun_cannot_be_set_up)
{
	static const char conf[] =
		"{\"server\": {\"pool\": [{\"start\": \"10.5.0.1\", \"end\": \"10.5.0.9\"}]},"
		" \"serve\": {\"tun\": \"much-too-long-a-name\"}}";
	char log[4096];
	bool has;
	/* asked for by the operator's configuration: an error */
	ck_assert_int_eq(open_with(conf, true, log, sizeof log, &has), -1);
	ck_assert(!has);
	ck_assert_msg(strstr(log, "serve.tun \"much-too-long-a-name\": interface name "
	                     "\"much-too-long-a-name\" is longer than 15 characters"), "%s", log);
	/* from the embedded configuration: one line, and the server goes on without it */
	ck_assert_int_eq(open_with(conf, false, log, sizeof log, &has), 0);
	ck_assert(!has);
	ck_assert_msg(strstr(log, "data path: TUN much-too-long-a-name unavailable: interface name "
	                     "\"much-too-long-a-name\" is longer than 15 characters: only ICMP echo "
	                     "to 10.5.0.1 is answered"), "%s", log);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("server_tundev");
	TCase *tc = tcase_create("server_tundev");
	tcase_add_test(tc, cidr_known_ranges);
	tcase_add_test(tc, cidr_random_ranges);
	tcase_add_test(tc, index_basics);
	tcase_add_test(tc, index_against_model);
	tcase_add_test(tc, no_tun_configured);
	tcase_add_test(tc, tun_cannot_be_set_up);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
