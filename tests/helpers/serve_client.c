/* A minimal L2TP/PPP client for the `vnet serve` script tests: one tunnel, one call, PPP
 * as a client (engine/l2tp_lac.c and ppp_session), then ICMP echo requests through the
 * link to an address behind the server, then a clean StopCCN.
 *
 *   serve_client --server ADDR:PORT --user NAME --password PW [--method METHOD]
 *                [--new-password PW] [--ping ADDR] [--count N] [--interval MS]
 *                [--hold SECONDS] [--timeout SECONDS]
 *
 * --method pap|chap|mschapv2 is the only authentication method the client accepts (the
 * default: any, as the server offers them). A link that authentication or anything else
 * ends before it is up prints "link failed error=N" (the Windows error the client is
 * left with).
 *
 * --new-password answers a server that says the password expired (MS-CHAPv2 E=648) with
 * Change-Password (RFC 2759 section 7) to this password, as Windows does once the user
 * typed a new one; the server's answer to it (Success, 691 or 709) ends authentication.
 *
 * Prints "session up addr=A.B.C.D", one "reply from A.B.C.D seq=N ttl=T time=US" per
 * echo reply (the round trip in microseconds), and at the end (after --hold)
 * "replies N/M rtt_avg_us=A rtt_max_us=B span_us=C answered=D": D echo requests to the
 * client's own address were answered, as a host on the link would. Exit 0 when the link
 * came up and every echo was answered (or no --ping), 1 otherwise, 2 on a usage error.
 * Every wait is bounded by --timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "l2tp/l2tp_ctrl.h"
#include "net.h"
#include "ppp.h"
#include "ppp/ppp_session.h"

struct client {
	int fd;
	struct l2tp_ctrl_conf lconf;
	struct l2tp_ctrl_cbs lcbs;
	struct l2tp_tunnel t;
	struct ppp_session_conf pconf;
	struct ppp_session_cbs pcbs;
	struct ppp_session p;
	uint16_t sid;
	bool call_up, ppp_started, finished, printed_up;
	uint32_t target;
	unsigned count, sent, replies, interval, answered;
	uint16_t ident;
	uint64_t next_ping;
	uint64_t sent_us[1000];      /* when each echo request left */
	uint64_t rtt_sum, rtt_max, last_reply_us;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void rnd(void *ctx, uint8_t *b, size_t n)
{
	(void)ctx;
	if (RAND_bytes(b, (int)n) != 1)
		for (size_t i = 0; i < n; i++) b[i] = (uint8_t)rand();
}

static void l_send(void *ctx, const uint8_t *buf, size_t len)
{
	struct client *c = ctx;
	if (send(c->fd, buf, len, 0) < 0) fprintf(stderr, "serve_client: send: %s\n", strerror(errno));
}

static void l_event(void *ctx, enum l2tp_ev kind, uint16_t sid, const char *text)
{
	(void)ctx;
	if (kind != L2TP_EV_TRACE) fprintf(stderr, "serve_client: l2tp: session %u: %s\n", sid, text);
}

static void p_send(void *ctx, const uint8_t *f, size_t n)
{
	struct client *c = ctx;
	if (c->call_up) l2tp_ctrl_send_data(&c->t, c->sid, f, n);
}

static void p_event(void *ctx, enum ppp_log kind, const char *text)
{
	(void)ctx;
	if (kind != PPP_LOG_TRACE) fprintf(stderr, "serve_client: ppp: %s\n", text);
}

static void p_finished(void *ctx, unsigned win_error, const char *why)
{
	struct client *c = ctx;
	c->finished = true;
	fprintf(stderr, "serve_client: link finished: error %u: %s\n", win_error, why ? why : "");
}

static void l_call_up(void *ctx, uint16_t sid)
{
	struct client *c = ctx;
	c->sid = sid;
	c->call_up = true;
	ppp_session_init(&c->p, &c->pconf, &c->pcbs);
	ppp_session_start(&c->p, now_ms());
	c->ppp_started = true;
}

static void l_call_down(void *ctx, uint16_t sid, uint16_t result, uint16_t error)
{
	struct client *c = ctx;
	(void)sid;
	fprintf(stderr, "serve_client: call down result %u error %u\n", result, error);
	if (c->call_up && !c->finished) ppp_session_lower_down(&c->p, now_ms());
	c->call_up = false;
}


static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void send_echo(struct client *c)
{
	uint8_t f[4 + 20 + 8 + 32];
	uint8_t *ip = f + 4;
	memset(f, 0, sizeof f);
	f[0] = 0xff;
	f[1] = 0x03;
	f[2] = 0x00;
	f[3] = 0x21;
	size_t tot = sizeof f - 4;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[4] = (uint8_t)(c->sent >> 8);
	ip[5] = (uint8_t)c->sent;
	ip[8] = 64;
	ip[9] = 1;
	put32(ip + 12, c->p.ipcp.my_addr);
	put32(ip + 16, c->target);
	uint16_t k = inet_cksum(ip, 20, 0);
	ip[10] = (uint8_t)(k >> 8);
	ip[11] = (uint8_t)k;
	uint8_t *ic = ip + 20;
	ic[0] = 8;
	ic[4] = (uint8_t)(c->ident >> 8);
	ic[5] = (uint8_t)c->ident;
	ic[6] = (uint8_t)(c->sent >> 8);
	ic[7] = (uint8_t)c->sent;
	for (size_t i = 8; i < tot - 20; i++) ic[i] = (uint8_t)('a' + i % 26);
	k = inet_cksum(ic, tot - 20, 0);
	ic[2] = (uint8_t)(k >> 8);
	ic[3] = (uint8_t)k;
	if (c->sent < sizeof c->sent_us / sizeof c->sent_us[0]) c->sent_us[c->sent] = now_us();
	l2tp_ctrl_send_data(&c->t, c->sid, f, sizeof f);
	c->sent++;
}

/* Answer an echo request addressed to us, as any host would. */
static void answer_echo(struct client *c, const uint8_t *ip, size_t ihl, size_t tot)
{
	uint8_t f[4 + 1500];
	if (tot > sizeof f - 4) return;
	f[0] = 0xff;
	f[1] = 0x03;
	f[2] = 0x00;
	f[3] = 0x21;
	icmp_echo_reply(f + 4, ip, ihl, tot);
	l2tp_ctrl_send_data(&c->t, c->sid, f, tot + 4);
	c->answered++;
}

/* An IPv4 packet from the server: count the echo replies that answer ours, answer the
 * echo requests for us. */
static void ip_in(struct client *c, const uint8_t *ip, size_t len)
{
	char a[INET_ADDRSTRLEN];
	if (len < 28 || ip[0] >> 4 != 4) return;
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	size_t tot = (size_t)ip[2] << 8 | ip[3];
	if (ihl < 20 || tot > len || tot < ihl + 8 || inet_cksum(ip, ihl, 0) != 0) return;
	if (ip[9] != 1 || get32(ip + 16) != c->p.ipcp.my_addr) return;
	if (ip[ihl] == 8 && inet_cksum(ip + ihl, tot - ihl, 0) == 0) {
		answer_echo(c, ip, ihl, tot);
		return;
	}
	if (get32(ip + 12) != c->target) return;
	const uint8_t *ic = ip + ihl;
	if (ic[0] != 0 || inet_cksum(ic, tot - ihl, 0) != 0) return;
	if ((uint16_t)(ic[4] << 8 | ic[5]) != c->ident) return;
	unsigned seq = (unsigned)(ic[6] << 8 | ic[7]);
	uint64_t rtt = seq < c->sent && seq < sizeof c->sent_us / sizeof c->sent_us[0]
	               ? now_us() - c->sent_us[seq] : 0;
	c->rtt_sum += rtt;
	c->last_reply_us = now_us();
	if (rtt > c->rtt_max) c->rtt_max = rtt;
	struct in_addr ia = {htonl(c->target)};
	inet_ntop(AF_INET, &ia, a, sizeof a);
	printf("reply from %s seq=%u ttl=%u time=%llu\n", a, seq, ip[8], (unsigned long long)rtt);
	fflush(stdout);
	c->replies++;
}

static void l_data(void *ctx, uint16_t sid, const uint8_t *p, size_t len)
{
	struct client *c = ctx;
	(void)sid;
	if (!c->ppp_started) return;
	size_t o = len >= 2 && p[0] == 0xff && p[1] == 0x03 ? 2 : 0;
	if (o + 2 <= len && p[o] == 0x00 && p[o + 1] == 0x21) {
		if (c->p.ipcp_up) ip_in(c, p + o + 2, len - o - 2);
		return;
	}
	if (o < len && p[o] == 0x21) { /* protocol field compressed */
		if (c->p.ipcp_up) ip_in(c, p + o + 1, len - o - 1);
		return;
	}
	ppp_session_input(&c->p, p, len, now_ms());
}

static uint64_t deadline(const struct client *c)
{
	uint64_t d = l2tp_ctrl_deadline(&c->t);
	if (c->ppp_started) {
		uint64_t e = ppp_session_deadline(&c->p);
		if (e < d) d = e;
	}
	if (c->p.ipcp_up && c->sent < c->count && c->next_ping < d) d = c->next_ping;
	return d;
}

/* Read and tick until `until` or until done() says so; false on timeout. */
static bool run(struct client *c, uint64_t until, bool (*done)(const struct client *))
{
	uint8_t buf[4096];
	for (unsigned round = 0; round < 1000000; round++) {
		if (done(c)) return true;
		uint64_t now = now_ms();
		if (now >= until) return false;
		uint64_t d = deadline(c);
		if (d > until) d = until;
		int wait = d > now ? (int)(d - now) : 0;
		if (wait > 200) wait = 200;
		struct pollfd pf = {c->fd, POLLIN, 0};
		if (poll(&pf, 1, wait) > 0) {
			for (int k = 0; k < 64; k++) {
				ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
				if (n <= 0) break;
				l2tp_ctrl_input(&c->t, buf, (size_t)n, now_ms());
			}
		}
		now = now_ms();
		l2tp_ctrl_tick(&c->t, now);
		if (c->ppp_started && !c->finished) ppp_session_tick(&c->p, now);
		if (c->p.ipcp_up && !c->printed_up) {
			char a[INET_ADDRSTRLEN];
			struct in_addr ia = {htonl(c->p.ipcp.my_addr)};
			inet_ntop(AF_INET, &ia, a, sizeof a);
			printf("session up addr=%s\n", a);
			fflush(stdout);
			c->printed_up = true;
			c->next_ping = now;
		}
		if (c->p.ipcp_up && c->call_up && c->sent < c->count && now >= c->next_ping) {
			send_echo(c);
			c->next_ping = now + c->interval;
		}
	}
	return false;
}

static bool link_up(const struct client *c) { return c->p.ipcp_up || c->finished; }
static bool pings_done(const struct client *c)
{
	return c->replies >= c->count || c->finished || !c->call_up;
}
static bool never(const struct client *c) { (void)c; return false; }
static bool closed(const struct client *c)
{
	return c->t.state == L2TP_TUN_CLOSED || c->t.state == L2TP_TUN_DEAD ||
	       c->t.state == L2TP_TUN_IDLE;
}

static int usage(void)
{
	fprintf(stderr, "usage: serve_client --server ADDR:PORT --user NAME --password PW "
	        "[--method pap|chap|mschapv2] [--new-password PW] [--ping ADDR] [--count N] "
	        "[--interval MS] [--hold SECONDS] [--timeout SECONDS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *server = NULL, *user = NULL, *pw = NULL, *ping = NULL, *method = NULL;
	const char *new_pw = NULL;
	unsigned count = 3, hold = 0, timeout = 20, interval = 200;
	for (int i = 1; i < argc; i += 2) { /* every option takes a value */
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) return usage();
		if (!strcmp(argv[i], "--server")) server = v;
		else if (!strcmp(argv[i], "--user")) user = v;
		else if (!strcmp(argv[i], "--password")) pw = v;
		else if (!strcmp(argv[i], "--new-password")) new_pw = v;
		else if (!strcmp(argv[i], "--method")) method = v;
		else if (!strcmp(argv[i], "--ping")) ping = v;
		else if (!strcmp(argv[i], "--count")) count = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(argv[i], "--interval")) interval = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(argv[i], "--hold")) hold = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(argv[i], "--timeout")) timeout = (unsigned)strtoul(v, NULL, 10);
		else return usage();
	}
	if (!server || !user || !pw || count > 1000 || hold > 600 || timeout > 600 ||
	    interval > 60000) return usage();
	static struct client c;
	struct in_addr ta;
	if (ping) {
		if (inet_pton(AF_INET, ping, &ta) != 1) return usage();
		c.target = ntohl(ta.s_addr);
	} else {
		count = 0;
	}
	c.count = count;
	c.interval = interval;
	char host[64];
	const char *colon = strrchr(server, ':');
	struct sockaddr_in sa = {.sin_family = AF_INET};
	if (!colon || (size_t)(colon - server) >= sizeof host) return usage();
	memcpy(host, server, (size_t)(colon - server));
	host[colon - server] = 0;
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) return usage();
	sa.sin_port = htons((uint16_t)strtoul(colon + 1, NULL, 10));
	c.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rcvbuf = 4 << 20; /* a flood of replies must not overflow the client's own socket */
	if (c.fd >= 0) setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	if (c.fd < 0 || connect(c.fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		perror("serve_client: socket");
		return 1;
	}
	rnd(NULL, (uint8_t *)&c.ident, sizeof c.ident);

	l2tp_ctrl_conf_default(&c.lconf, true);
	c.lconf.host_name = "vnet-test-lac";
	c.lcbs = (struct l2tp_ctrl_cbs){.ctx = &c, .send = l_send, .event = l_event, .random = rnd,
		.call_up = l_call_up, .call_down = l_call_down, .data = l_data};
	l2tp_ctrl_init(&c.t, &c.lconf, &c.lcbs);
	ppp_session_conf_default(&c.pconf, false);
	c.pconf.auth.name = user;
	c.pconf.auth.password = pw;
	c.pconf.auth.new_password = new_pw;
	if (method) {
		const char *const names[] = {[PPP_AUTH_PAP] = "pap", [PPP_AUTH_CHAP_MD5] = "chap",
		                             [PPP_AUTH_MSCHAPV2] = "mschapv2"};
		unsigned m = 0;
		for (unsigned k = PPP_AUTH_PAP; k < PPP_AUTH_COUNT; k++)
			if (!strcmp(method, names[k])) m = k;
		if (!m) return usage();
		c.pconf.auth_methods = PPP_AUTH_BIT(m);
	}
	c.pconf.mppe_levels = 0;
	c.pconf.want_dns = false;
	c.pcbs = (struct ppp_session_cbs){.ctx = &c, .send = p_send, .event = p_event, .random = rnd,
		.finished = p_finished};

	uint64_t end = now_ms() + (uint64_t)timeout * 1000;
	l2tp_lac_open(&c.t, now_ms());
	int rc = 1;
	/* tunnel, then the call */
	for (unsigned k = 0; k < 100 && c.t.state != L2TP_TUN_ESTABLISHED && now_ms() < end; k++) {
		run(&c, now_ms() + 100, never);
		if (c.t.state == L2TP_TUN_CLOSED || c.t.state == L2TP_TUN_DEAD) break;
	}
	if (c.t.state != L2TP_TUN_ESTABLISHED) {
		fprintf(stderr, "serve_client: no tunnel\n");
		goto out;
	}
	if (!l2tp_lac_call(&c.t, now_ms())) {
		fprintf(stderr, "serve_client: no call\n");
		goto out;
	}
	if (!run(&c, end, link_up) || !c.p.ipcp_up) {
		fprintf(stderr, "serve_client: the link did not come up\n");
		if (c.finished) {
			printf("link failed error=%u\n", c.p.win_error);
			fflush(stdout);
		}
		goto out;
	}
	run(&c, end, pings_done);
	if (hold) run(&c, now_ms() + (uint64_t)hold * 1000 < end ? now_ms() + (uint64_t)hold * 1000 : end,
	              never);
	printf("replies %u/%u rtt_avg_us=%llu rtt_max_us=%llu span_us=%llu answered=%u\n",
	       c.replies, c.count,
	       (unsigned long long)(c.replies ? c.rtt_sum / c.replies : 0),
	       (unsigned long long)c.rtt_max,
	       (unsigned long long)(c.replies ? c.last_reply_us - c.sent_us[0] : 0), c.answered);
	fflush(stdout);
	rc = c.replies == c.count ? 0 : 1;
out:
	/* leave cleanly: StopCCN, acknowledged within a couple of seconds */
	if (c.t.state == L2TP_TUN_ESTABLISHED || c.t.state == L2TP_TUN_WAIT_CTL_REPLY) {
		if (c.call_up && !c.finished) ppp_session_close(&c.p, "test done", 0, now_ms());
		l2tp_ctrl_stop(&c.t, L2TP_STOP_GENERAL, 0, "test done", now_ms());
		run(&c, now_ms() + 3000, closed);
	}
	close(c.fd);
	ppp_session_free(&c.p);
	l2tp_ctrl_free(&c.t);
	return rc;
}
