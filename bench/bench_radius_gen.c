/* A RADIUS load generator: PAP Access-Requests for users u1..uN (password pwI) to one
 * RADIUS server, from several UDP sockets, each keeping `window` requests in flight
 * (identifiers 0..255 of its own), sent and received in batches (sendmmsg / recvmmsg).
 * Every request has a fresh authenticator, its password hidden with it and a
 * Message-Authenticator, so no server can answer from a cache of earlier requests; every
 * answer's Response Authenticator is checked against the request's. After a warm-up it
 * counts the answers of `duration` seconds and prints
 *   requests/s N answered N accepts N rejects N lost N bad N p50_us N p99_us N
 * and, with --pid (the server's process), the CPU time the server used meanwhile (user
 * and system, all its threads) and the answers per CPU second: what one core would
 * give, also on a machine where other work takes part of that core.
 * bench/radius.sh runs it against `vnet serve` and FreeRADIUS.
 *
 *   bench_radius_gen --server ADDR:PORT --secret S [--users N] [--sockets K]
 *                    [--window W] [--duration S] [--warmup S] [--timeout-ms MS] [--pid PID]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKETS 64
#define BATCH 64
#define PKT_MAX 256

struct slot {
	uint64_t sent_ns;            /* 0: free */
	uint8_t auth[16];
};

struct sock {
	int fd;
	struct slot slot[256];
	unsigned inflight;
	uint8_t next_id;
};

static struct {
	const char *server, *secret;
	unsigned users, sockets, window, duration, warmup, timeout_ms, pid;
} opt = {NULL, NULL, 1000, 8, 64, 5, 1, 1000, 0};

static EVP_MD *md5;
static EVP_MD_CTX *secret_ctx;   /* MD5 after the secret: User-Password's first block */
static EVP_MD_CTX *hmac_in, *hmac_out; /* MD5 after key^ipad, key^opad */
static EVP_MD_CTX *tmp;
static size_t secret_len;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_radius_gen: %s\n", what);
	exit(2);
}

static void md5_from(const EVP_MD_CTX *base, const void *a, size_t an, const void *b, size_t bn,
                     uint8_t out[16])
{
	unsigned ol;
	if (!EVP_MD_CTX_copy_ex(tmp, base) || !EVP_DigestUpdate(tmp, a, an) ||
	    (bn && !EVP_DigestUpdate(tmp, b, bn)) || !EVP_DigestFinal_ex(tmp, out, &ol))
		die("MD5 failed");
}

static void crypto_init(void)
{
	md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	secret_ctx = EVP_MD_CTX_new();
	hmac_in = EVP_MD_CTX_new();
	hmac_out = EVP_MD_CTX_new();
	tmp = EVP_MD_CTX_new();
	if (!md5 || !secret_ctx || !hmac_in || !hmac_out || !tmp) die("no MD5");
	secret_len = strlen(opt.secret);
	uint8_t k[64] = {0}, ip[64], op[64];
	if (secret_len > 64) die("a secret longer than 64 bytes");
	memcpy(k, opt.secret, secret_len);
	for (int i = 0; i < 64; i++) {
		ip[i] = k[i] ^ 0x36;
		op[i] = k[i] ^ 0x5c;
	}
	if (!EVP_DigestInit_ex(secret_ctx, md5, NULL) ||
	    !EVP_DigestUpdate(secret_ctx, opt.secret, secret_len) ||
	    !EVP_DigestInit_ex(hmac_in, md5, NULL) || !EVP_DigestUpdate(hmac_in, ip, 64) ||
	    !EVP_DigestInit_ex(hmac_out, md5, NULL) || !EVP_DigestUpdate(hmac_out, op, 64))
		die("MD5 failed");
}

/* An Access-Request for user i with identifier id and a fresh authenticator. */
static size_t build(uint8_t *p, unsigned user, uint8_t id, uint8_t auth[16])
{
	char name[32], pw[32];
	int nl = snprintf(name, sizeof name, "u%u", user);
	int pl = snprintf(pw, sizeof pw, "pw%u", user);
	uint64_t r1 = rng(), r2 = rng();
	memcpy(auth, &r1, 8);
	memcpy(auth + 8, &r2, 8);
	size_t n = 20;
	p[0] = 1;
	p[1] = id;
	memcpy(p + 4, auth, 16);
	p[n++] = 1;
	p[n++] = (uint8_t)(nl + 2);
	memcpy(p + n, name, (size_t)nl);
	n += (size_t)nl;
	uint8_t b[16];
	md5_from(secret_ctx, auth, 16, NULL, 0, b);
	p[n++] = 2;
	p[n++] = 18;
	for (int i = 0; i < 16; i++) p[n + (size_t)i] = (uint8_t)((i < pl ? pw[i] : 0) ^ b[i]);
	n += 16;
	static const uint8_t fixed[] = {
		4, 6, 127, 0, 0, 1,          /* NAS-IP-Address */
		61, 6, 0, 0, 0, 5,           /* NAS-Port-Type Virtual */
		6, 6, 0, 0, 0, 2,            /* Service-Type Framed */
		7, 6, 0, 0, 0, 1,            /* Framed-Protocol PPP */
	};
	memcpy(p + n, fixed, sizeof fixed);
	n += sizeof fixed;
	p[n++] = 80;
	p[n++] = 18;
	size_t ma = n;
	memset(p + n, 0, 16);
	n += 16;
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	uint8_t ih[16];
	md5_from(hmac_in, p, n, NULL, 0, ih);
	md5_from(hmac_out, ih, 16, NULL, 0, p + ma);
	return n;
}

/* The Response Authenticator: MD5(code id length request-auth attributes secret). */
static bool answer_ok(const uint8_t *p, size_t n, const uint8_t req_auth[16])
{
	if (n < 20 || ((size_t)p[2] << 8 | p[3]) > n) return false;
	size_t len = (size_t)p[2] << 8 | p[3];
	uint8_t buf[4096 + 64], h[16];
	if (len < 20 || len + secret_len > sizeof buf) return false;
	memcpy(buf, p, 4);
	memcpy(buf + 4, req_auth, 16);
	memcpy(buf + 20, p + 20, len - 20);
	memcpy(buf + len, opt.secret, secret_len);
	unsigned ol;
	if (!EVP_DigestInit_ex(tmp, md5, NULL) || !EVP_DigestUpdate(tmp, buf, len + secret_len) ||
	    !EVP_DigestFinal_ex(tmp, h, &ol))
		return false;
	return memcmp(h, p + 4, 16) == 0;
}

static unsigned arg_uint(const char *s, const char *name, unsigned lo, unsigned hi)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v < lo || v > hi) {
		fprintf(stderr, "bench_radius_gen: %s: %s is not in %u..%u\n", name, s, lo, hi);
		exit(2);
	}
	return (unsigned)v;
}

/* CPU seconds (user + system) process `pid` used so far, -1 unknown. */
static double cpu_of(unsigned pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%u/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f) return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	unsigned long long ut = 0, st = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
	                 &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_radius_gen --server ADDR:PORT --secret S [--users N] "
	        "[--sockets K] [--window W] [--duration S] [--warmup S] [--timeout-ms MS] [--pid PID]\n");
	exit(2);
}

#define HIST_US 100000
static uint32_t hist[HIST_US + 1];

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) usage();
		i++;
		if (!strcmp(a, "--server")) opt.server = v;
		else if (!strcmp(a, "--secret")) opt.secret = v;
		else if (!strcmp(a, "--users")) opt.users = arg_uint(v, a, 1, 10000000);
		else if (!strcmp(a, "--sockets")) opt.sockets = arg_uint(v, a, 1, MAX_SOCKETS);
		else if (!strcmp(a, "--window")) opt.window = arg_uint(v, a, 1, 255);
		else if (!strcmp(a, "--duration")) opt.duration = arg_uint(v, a, 1, 3600);
		else if (!strcmp(a, "--warmup")) opt.warmup = arg_uint(v, a, 0, 600);
		else if (!strcmp(a, "--timeout-ms")) opt.timeout_ms = arg_uint(v, a, 10, 60000);
		else if (!strcmp(a, "--pid")) opt.pid = arg_uint(v, a, 1, 4194304);
		else usage();
	}
	if (!opt.server || !opt.secret) usage();
	struct sockaddr_in to = {.sin_family = AF_INET};
	char host[64];
	const char *colon = strrchr(opt.server, ':');
	if (!colon || (size_t)(colon - opt.server) >= sizeof host) usage();
	memcpy(host, opt.server, (size_t)(colon - opt.server));
	host[colon - opt.server] = 0;
	to.sin_port = htons((uint16_t)arg_uint(colon + 1, "port", 1, 65535));
	if (inet_pton(AF_INET, host, &to.sin_addr) != 1) die("--server: not an IPv4 address");
	crypto_init();

	static struct sock socks[MAX_SOCKETS];
	for (unsigned k = 0; k < opt.sockets; k++) {
		struct sock *s = &socks[k];
		s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int big = 4 << 20;
		if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&to, sizeof to) != 0)
			die("socket");
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
		setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	}

	static uint8_t txb[BATCH][PKT_MAX], rxb[BATCH][4200];
	struct mmsghdr tx[BATCH], rx[BATCH];
	struct iovec txv[BATCH], rxv[BATCH];
	uint8_t txid[BATCH];
	for (int i = 0; i < BATCH; i++) {
		rxv[i] = (struct iovec){rxb[i], sizeof rxb[i]};
		rx[i].msg_hdr = (struct msghdr){.msg_iov = &rxv[i], .msg_iovlen = 1};
	}
	uint64_t start = now_ns();
	uint64_t t0 = start + (uint64_t)opt.warmup * 1000000000u;
	uint64_t t1 = t0 + (uint64_t)opt.duration * 1000000000u;
	uint64_t timeout_ns = (uint64_t)opt.timeout_ms * 1000000u;
	uint64_t sent = 0, answered = 0, accepts = 0, rejects = 0, lost = 0, bad = 0, other = 0;
	uint64_t last_scan = start;
	unsigned user = 0;
	double cpu0 = -1, cpu1 = -1;
	struct pollfd pf[MAX_SOCKETS];
	for (unsigned k = 0; k < opt.sockets; k++) pf[k] = (struct pollfd){socks[k].fd, POLLIN, 0};
	for (;;) {
		uint64_t now = now_ns();
		if (opt.pid && cpu0 < 0 && now >= t0) cpu0 = cpu_of(opt.pid);
		if (now >= t1) {
			if (opt.pid) cpu1 = cpu_of(opt.pid);
			break;
		}
		/* fill each socket's window */
		for (unsigned k = 0; k < opt.sockets; k++) {
			struct sock *s = &socks[k];
			int nb = 0;
			while (s->inflight < opt.window && nb < BATCH) {
				uint8_t id = s->next_id;
				unsigned tries = 0;
				while (s->slot[id].sent_ns && tries++ < 256) id++;
				if (s->slot[id].sent_ns) break;
				s->next_id = (uint8_t)(id + 1);
				user = user % opt.users + 1;
				size_t n = build(txb[nb], user, id, s->slot[id].auth);
				s->slot[id].sent_ns = now;
				s->inflight++;
				txid[nb] = id;
				txv[nb] = (struct iovec){txb[nb], n};
				tx[nb].msg_hdr = (struct msghdr){.msg_iov = &txv[nb], .msg_iovlen = 1};
				nb++;
			}
			int done = 0;
			while (done < nb) {
				int r = sendmmsg(s->fd, tx + done, (unsigned)(nb - done), 0);
				if (r <= 0) break;
				done += r;
			}
			sent += (uint64_t)done;
			for (int i = done; i < nb; i++) { /* not sent (buffer full): free again */
				s->slot[txid[i]].sent_ns = 0;
				s->inflight--;
			}
		}
		if (poll(pf, opt.sockets, 1) < 0 && errno != EINTR) die("poll");
		now = now_ns();
		for (unsigned k = 0; k < opt.sockets; k++) {
			struct sock *s = &socks[k];
			for (int round = 0; round < 16; round++) {
				int r = recvmmsg(s->fd, rx, BATCH, MSG_DONTWAIT, NULL);
				if (r <= 0) break;
				for (int i = 0; i < r; i++) {
					const uint8_t *p = rxb[i];
					size_t n = rx[i].msg_len;
					if (n < 20) {
						bad++;
						continue;
					}
					struct slot *sl = &s->slot[p[1]];
					if (!sl->sent_ns || !answer_ok(p, n, sl->auth)) {
						bad++;
						continue;
					}
					uint64_t lat = (now - sl->sent_ns) / 1000;
					sl->sent_ns = 0;
					s->inflight--;
					if (now < t0) continue;
					answered++;
					hist[lat > HIST_US ? HIST_US : lat]++;
					if (p[0] == 2) accepts++;
					else if (p[0] == 3) rejects++;
					else other++;
				}
				if (r < BATCH) break;
			}
		}
		if (now - last_scan > 10000000u) { /* every 10 ms: requests never answered */
			last_scan = now;
			for (unsigned k = 0; k < opt.sockets; k++)
				for (unsigned id = 0; id < 256; id++) {
					struct slot *sl = &socks[k].slot[id];
					if (sl->sent_ns && now - sl->sent_ns > timeout_ns) {
						sl->sent_ns = 0;
						socks[k].inflight--;
						if (now >= t0) lost++;
					}
				}
		}
	}
	double secs = (double)opt.duration;
	uint64_t p50 = 0, p99 = 0, acc = 0;
	for (unsigned us = 0; us <= HIST_US; us++) {
		acc += hist[us];
		if (!p50 && acc * 2 >= answered) p50 = us;
		if (!p99 && acc * 100 >= answered * 99) p99 = us;
	}
	printf("requests/s %.0f answered %llu accepts %llu rejects %llu other %llu lost %llu bad %llu "
	       "sent %llu p50_us %llu p99_us %llu\n", (double)answered / secs,
	       (unsigned long long)answered, (unsigned long long)accepts,
	       (unsigned long long)rejects, (unsigned long long)other, (unsigned long long)lost,
	       (unsigned long long)bad, (unsigned long long)sent, (unsigned long long)p50,
	       (unsigned long long)p99);
	if (opt.pid) {
		double cpu = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
		if (cpu > 0)
			printf("server_cpu_s %.2f per_cpu_s %.0f\n", cpu, (double)answered / cpu);
		else
			printf("server_cpu_s - per_cpu_s -\n");
	}
	for (unsigned k = 0; k < opt.sockets; k++) close(socks[k].fd);
	EVP_MD_CTX_free(secret_ctx);
	EVP_MD_CTX_free(hmac_in);
	EVP_MD_CTX_free(hmac_out);
	EVP_MD_CTX_free(tmp);
	EVP_MD_free(md5);
	return answered ? 0 : 1;
}
