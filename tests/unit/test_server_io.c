/* What server_io.c promises the server: datagrams sent during a burst all leave, in
 * order, when it ends (also more than one batch holds), and are counted once; log lines
 * of a burst reach stderr whole and in order at its end, at once outside a burst; random
 * bytes are handed out once each and wiped from the block they came from. */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server.h"

static struct srv *make(bool quiet)
{
	static const char conf[] =
	    "{\"server\": {\"auth_methods\": [\"pap\"], \"encryption\": [\"none\"],"
	    " \"ports\": {\"l2tp\": 4}, \"address_assignment\": \"pool\","
	    " \"pool\": [{\"start\": \"10.9.0.1\", \"end\": \"10.9.0.9\"}]},"
	    " \"policies\": [], \"users\": []}";
	struct server_opts o = {.quiet = quiet};
	struct srv *s = srv_create(&o, conf, strlen(conf));
	ck_assert_ptr_nonnull(s);
	return s;
}

static int udp_bound(struct sockaddr_storage *ss, socklen_t *len)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001u)};
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	*len = sizeof *ss;
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)ss, len), 0);
	return fd;
}

/* The datagrams waiting on fd, their first bytes in order (at most cap). */
static unsigned drain(int fd, unsigned *seen, unsigned cap)
{
	unsigned n = 0;
	uint8_t b[64];
	for (int i = 0; i < 1000; i++) {
		ssize_t r = recv(fd, b, sizeof b, 0);
		if (r < 0) break;
		if (n < cap) seen[n] = b[0];
		n++;
	}
	return n;
}

START_TEST(burst_sends_everything_in_order)
{
	struct srv *s = make(true);
	struct sockaddr_storage from, to;
	socklen_t flen, tlen;
	int tx = udp_bound(&from, &flen), rx = udp_bound(&to, &tlen);
	const unsigned total = SRV_TX_BATCH + 9; /* more than one batch */
	unsigned seen[2 * SRV_TX_BATCH + 9];
	srv_io_hold(s);
	srv_io_hold(s); /* nested: the outer end sends */
	for (unsigned i = 0; i < total; i++) {
		uint8_t d[40];
		memset(d, (int)i, sizeof d);
		ck_assert_int_eq(srv_send(s, tx, &to, tlen, d, sizeof d, NULL), -1); /* held */
	}
	srv_io_release(s);
	usleep(20000);
	/* the first full batch left to make room, the rest waits for the end */
	ck_assert_uint_eq(drain(rx, seen, total), SRV_TX_BATCH);
	srv_io_release(s);
	usleep(20000);
	ck_assert_uint_eq(drain(rx, seen + SRV_TX_BATCH, total), total - SRV_TX_BATCH);
	for (unsigned i = 0; i < total; i++) ck_assert_uint_eq(seen[i], i);
	ck_assert_uint_eq(s->st.tx_datagrams, total);
	ck_assert_uint_eq(s->st.tx_bytes, total * 40);
	/* outside a burst: at once */
	uint8_t one = 0x55;
	ck_assert_int_eq(srv_send(s, tx, &to, tlen, &one, 1, NULL), 0);
	usleep(20000);
	ck_assert_uint_eq(drain(rx, seen, 1), 1);
	ck_assert_uint_eq(seen[0], 0x55);
	ck_assert_uint_eq(s->st.tx_datagrams, total + 1);
	close(tx);
	close(rx);
	srv_destroy(s);
}
END_TEST

static int pipe_stderr(int *saved)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	fflush(stderr);
	*saved = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	close(p[1]);
	return p[0];
}

static size_t slurp(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	for (ssize_t r; n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0;) n += (size_t)r;
	buf[n] = 0;
	return n;
}

START_TEST(burst_log_lines_whole_and_in_order)
{
	struct srv *s = make(false);
	int saved, p = pipe_stderr(&saved);
	char buf[8192];
	srv_io_hold(s);
	srv_log(s, SC_MAIN, false, NULL, NULL, "first %d", 1);
	srv_log_line(s, SC_L2TP, false, NULL, NULL, "second\nwith a control byte");
	srv_log(s, SC_PPP, true, NULL, NULL, "a debug line nobody asked for");
	ck_assert_uint_eq(slurp(p, buf, sizeof buf), 0); /* held */
	srv_io_release(s);
	slurp(p, buf, sizeof buf);
	char *a = strstr(buf, "Z main first 1\n"), *b = strstr(buf, "Z l2tp second?with a control byte\n");
	ck_assert_msg(a && b && a < b, "log: %s", buf);
	ck_assert_ptr_null(strstr(buf, "debug line"));
	/* outside a burst: at once */
	srv_log(s, SC_MAIN, false, NULL, NULL, "third");
	slurp(p, buf, sizeof buf);
	ck_assert_ptr_nonnull(strstr(buf, "Z main third\n"));
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p);
	srv_destroy(s);
}
END_TEST

START_TEST(random_bytes_once_each)
{
	struct srv *s = make(true);
	uint8_t prev[16] = {0}, cur[16];
	unsigned zero16 = 0;
	for (int i = 0; i < 200; i++) {
		/* odd sizes, across the blocks' ends */
		uint8_t x[7];
		srv_random(s, x, sizeof x);
		srv_random(s, cur, sizeof cur);
		ck_assert_msg(memcmp(cur, prev, sizeof cur) != 0, "the same 16 bytes twice");
		static const uint8_t z[16];
		zero16 += memcmp(cur, z, sizeof z) == 0;
		memcpy(prev, cur, sizeof cur);
		/* what was handed out is wiped from the block */
		size_t used = sizeof s->io.rnd - s->io.rnd_left;
		for (size_t k = 0; k < used; k++) ck_assert_uint_eq(s->io.rnd[k], 0);
	}
	ck_assert_uint_eq(zero16, 0);
	srv_destroy(s);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("server_io");
	TCase *t = tcase_create("io");
	tcase_add_test(t, burst_sends_everything_in_order);
	tcase_add_test(t, burst_log_lines_whole_and_in_order);
	tcase_add_test(t, random_bytes_once_each);
	suite_add_tcase(su, t);
	SRunner *r = srunner_create(su);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
