/* The IKEv1 responder and user-space ESP of engine/ike on real sockets, for the script
 * tests that run strongSwan's charon against it:
 *
 *   ike_responder --addr A.B.C.D [--psk SECRET] [--cert-store DIR [--ca FILE]]
 *                 [--auth psk,rsa-sig] [--p1 LIST] [--p2 LIST] [--no-natt]
 *                 [--tunnel] [--seconds N] [--until-child N] [--until-fail]
 *                 [--ike-port P] [--natt-port Q] [--relay A.B.C.D:PORT] [--quiet]
 *
 * Listens on UDP 500 and 4500 of the address (--ike-port, --natt-port: others, so that
 * a run without root can use e.g. 15500 and 14500; the responder is told 4500 for what
 * arrives on the NAT-T port, which is how it knows the port; and for ESP on a raw
 * socket when it may),
 * keeps a table of IKE SAs keyed by the initiator cookie, feeds each datagram to its SA,
 * moves ESP to the child SAs' esp_pair. Prints one line per event:
 *
 *   cert store=DIR <verdict>    with --cert-store: the certificate presented and what
 *                               `vnet cert pick` says of it (engine/cert/certserve.h)
 *   cert-error <reason>         the store gives no certificate (exit 2)
 *   ike <event> <text>          the responder's events (ikev1_ev_names)
 *   cause <id>                  an SA that failed, with the cause id
 *   esp spi=X seq=N next=P len=L [udp SPORT->DPORT]   an ESP packet decrypted
 *   esp-fail spi=X <reason>     an ESP packet that did not decrypt
 *   keepalive                   a NAT-keepalive on 4500
 *   end ike_up=N child_up=N esp=N
 *
 * --relay makes it the IPsec end of an L2TP server: the UDP datagrams to port 1701 that
 * arrive in ESP-in-UDP go to the L2TP server at A.B.C.D:PORT from a socket of the child
 * SA's own, and what the server answers on that socket goes back to the client in the
 * child's ESP (UDP 1701 -> 1701 inside, checksum for the two IKE addresses). --quiet
 * prints the events and the ESP lines only for the first 20 SAs (load tests).
 *
 * --psk allows pre-shared keys, --cert-store RSA signatures with the certificate `vnet
 * cert pick --store DIR --purpose l2tp [--client-ca FILE]` picks; --ca FILE names the CAs
 * the clients' certificates must chain to and the clients trust (default: the store's
 * roots/); --auth narrows the methods. --p1 / --p2 replace the Windows-compatible
 * default proposal lists (ikev1.h syntax).
 * The run ends after --seconds (default 20), after the N-th child SA and one decrypted
 * ESP packet with --until-child N (or the N-th child alone when no ESP is expected,
 * --until-child N --no-esp), or after the first failure with --until-fail. Exit 0, or
 * 2 on a usage error.
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

#include "cert/certserve.h"
#include "esp.h"
#include "ike/esp_sa.h"
#include "ike/ikev1.h"

#define SAS 1024
#define CHILDREN 1024

struct slot {
	bool used;
	struct ikev1_sa *sa;
	struct ikev1_cbs cbs;
	struct ikev1_addr peer;
	uint8_t ispi[8];
	int index;
};

struct child {
	bool used;
	struct esp_pair esp;
	int sa;
	bool tunnel;
	int relay_fd;               /* to the L2TP server (--relay), -1 before the first */
};

static struct {
	int fd500, fd4500, fdraw;
	struct ikev1_conf conf;
	struct ikev1_addr local;
	struct slot s[SAS];
	struct child c[CHILDREN];
	unsigned ike_up, child_up, esp_rx, fails;
	unsigned until_child;
	bool until_fail, no_esp, quiet;
	uint16_t ike_port, natt_port;
	struct sockaddr_in relay;   /* the L2TP server, port 0 without --relay */
	unsigned relayed_in, relayed_out;
} g;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void cb_send(void *ctx, const uint8_t *buf, size_t len, bool natt)
{
	struct slot *s = ctx;
	const struct ikev1_addr *p = ikev1_peer(s->sa);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(p->port)};
	memcpy(&to.sin_addr, p->ip, 4);
	uint8_t out[IKEV1_MSG_MAX + 4];
	size_t n = len;
	const uint8_t *b = buf;
	if (natt) {
		memset(out, 0, 4);
		memcpy(out + 4, buf, len);
		b = out;
		n = len + 4;
	}
	if (sendto(natt ? g.fd4500 : g.fd500, b, n, 0, (struct sockaddr *)&to, sizeof to) < 0)
		printf("send-error %s\n", strerror(errno));
}

static void cb_event(void *ctx, enum ikev1_ev kind, const char *text)
{
	struct slot *s = ctx;
	if (!g.quiet || s->index < 20)
		printf("ike %s sa=%d %s\n", tok_name(ikev1_ev_names, kind), s->index, text);
	if (kind == IKEV1_EV_IKE_UP)
		g.ike_up++;
	if (kind == IKEV1_EV_FAIL)
		g.fails++;
	if (kind == IKEV1_EV_INITIAL_CONTACT) {
		/* the peer forgot everything before this SA: so do we, without a word */
		for (int i = 0; i < SAS; i++)
			if (g.s[i].used && i != s->index && !memcmp(g.s[i].peer.ip, s->peer.ip, 4) &&
			    ikev1_state(g.s[i].sa) != IKEV1_DEAD) {
				printf("ike forget sa=%d (initial contact)\n", i);
				ikev1_free(g.s[i].sa);
				g.s[i].used = false;
			}
	}
	fflush(stdout);
}

static void cb_random(void *ctx, uint8_t *buf, size_t n)
{
	(void)ctx;
	if (RAND_bytes(buf, (int)n) != 1)
		abort();
}

static void cb_child_up(void *ctx, const struct ikev1_child *c)
{
	struct slot *s = ctx;
	for (int i = 0; i < CHILDREN; i++)
		if (!g.c[i].used) {
			if (esp_pair_init(&g.c[i].esp, &c->in, &c->out, c->udp_encap) < 0)
				return;
			g.c[i].used = true;
			g.c[i].relay_fd = -1;
			g.c[i].sa = s->index;
			g.c[i].tunnel = c->tunnel;
			break;
		}
	g.child_up++;
	/* a new IKE SA of the same peer with a child: the older IKE SAs go */
	for (int i = 0; i < SAS; i++)
		if (g.s[i].used && i != s->index && !memcmp(g.s[i].peer.ip, s->peer.ip, 4) &&
		    ikev1_state(g.s[i].sa) == IKEV1_ESTABLISHED)
			ikev1_delete(g.s[i].sa, "replaced by a newer IKE SA", now_ms());
}

static void cb_child_down(void *ctx, const struct ikev1_child *c, const char *why)
{
	(void)ctx;
	(void)why;
	for (int i = 0; i < CHILDREN; i++)
		if (g.c[i].used && g.c[i].esp.in.spi == c->spi_in) {
			if (g.c[i].relay_fd >= 0)
				close(g.c[i].relay_fd);
			esp_pair_free(&g.c[i].esp);
			g.c[i].used = false;
		}
}

static struct slot *slot_for(const uint8_t *buf, size_t len, const struct ikev1_addr *peer,
                             uint64_t now)
{
	uint8_t ispi[8], rspi[8];
	if (!ikev1_peek_cookies(buf, len, ispi, rspi))
		return NULL;
	for (int i = 0; i < SAS; i++)
		if (g.s[i].used && !memcmp(g.s[i].ispi, ispi, 8) && !memcmp(g.s[i].peer.ip, peer->ip, 4))
			return &g.s[i];
	static const uint8_t zero[8];
	if (memcmp(rspi, zero, 8))
		return NULL;
	for (int i = 0; i < SAS; i++) {
		struct slot *s = &g.s[i];
		if (s->used)
			continue;
		memset(s, 0, sizeof *s);
		s->index = i;
		s->cbs = (struct ikev1_cbs){s, cb_send, cb_event, cb_random, cb_child_up, cb_child_down};
		s->peer = *peer;
		memcpy(s->ispi, ispi, 8);
		s->sa = ikev1_new(&g.conf, &s->cbs, &g.local, peer, now);
		if (!s->sa)
			return NULL;
		s->used = true;
		return s;
	}
	printf("ike table full: datagram dropped\n");
	return NULL;
}

static void ike_in(const uint8_t *buf, size_t len, const struct ikev1_addr *peer, uint16_t lport,
                   uint64_t now)
{
	struct slot *s = slot_for(buf, len, peer, now);
	if (!s)
		return;
	struct ikev1_addr local = g.local;
	local.port = lport;
	ikev1_input(s->sa, buf, len, &local, peer, now);
	if (ikev1_state(s->sa) == IKEV1_DEAD && ikev1_cause(s->sa)[0])
		printf("cause %s\n", ikev1_cause(s->sa));
}

/* A datagram for the L2TP server from the child's own socket (made on the first). */
static void relay_out(struct child *c, const uint8_t *p, size_t n)
{
	if (c->relay_fd < 0) {
		c->relay_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (c->relay_fd < 0 ||
		    connect(c->relay_fd, (struct sockaddr *)&g.relay, sizeof g.relay) < 0) {
			printf("relay-error %s\n", strerror(errno));
			return;
		}
	}
	if (send(c->relay_fd, p, n, 0) == (ssize_t)n)
		g.relayed_in++;
}

/* What the L2TP server answered on a child's socket: back to the client in its ESP. */
static void relay_back(struct child *c)
{
	uint8_t in[2048], udp[2048 + 8], pkt[2048 + 128], iv[16];
	for (int k = 0; k < 16; k++) {
		ssize_t n = recv(c->relay_fd, in, sizeof in, 0);
		if (n <= 0)
			return;
		struct slot *s = &g.s[c->sa];
		if (!s->used || !c->esp.udp_encap)
			return;
		const struct ikev1_addr *peer = ikev1_peer(s->sa);
		size_t ul = (size_t)n + 8;
		udp[0] = 1701 >> 8;
		udp[1] = 1701 & 255;
		udp[2] = 1701 >> 8;
		udp[3] = 1701 & 255;
		udp[4] = (uint8_t)(ul >> 8);
		udp[5] = (uint8_t)ul;
		memcpy(udp + 8, in, (size_t)n);
		esp_udp_checksum_fix(udp, ul, g.local.ip, peer->ip);
		cb_random(NULL, iv, esp_sa_ivlen(&c->esp.out));
		size_t m = esp_pair_seal(&c->esp, iv, udp, ul, 17, pkt, sizeof pkt, NULL);
		struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(peer->port)};
		memcpy(&to.sin_addr, peer->ip, 4);
		if (m && sendto(g.fd4500, pkt, m, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)m)
			g.relayed_out++;
	}
}

static void esp_in(const uint8_t *pkt, size_t len, uint64_t now)
{
	if (len < 8)
		return;
	uint32_t spi = (uint32_t)pkt[0] << 24 | (uint32_t)pkt[1] << 16 | (uint32_t)pkt[2] << 8 | pkt[3];
	for (int i = 0; i < CHILDREN; i++) {
		struct child *c = &g.c[i];
		if (!c->used || c->esp.in.spi != spi)
			continue;
		uint8_t out[2048], nh = 0;
		size_t n = 0;
		struct diag_err e;
		int r = esp_pair_open(&c->esp, pkt, len, out, sizeof out, &n, &nh, &e);
		if (r < 0) {
			printf("esp-fail spi=%08x %s\n", spi, e.reason);
			return;
		}
		g.esp_rx++;
		uint32_t seq = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 | (uint32_t)pkt[6] << 8 | pkt[7];
		const uint8_t *u = NULL;
		if (nh == 17 && n >= 8)
			u = out;
		else if (nh == 4 && n >= 28 && out[9] == 17 && (out[0] & 15) * 4u + 8 <= n)
			u = out + (out[0] & 15) * 4;
		if (!g.quiet || c->sa < 20) {
			printf("esp spi=%08x seq=%u next=%u len=%zu", spi, seq, nh, n);
			if (u)
				printf(" udp %u->%u", u[0] << 8 | u[1], u[2] << 8 | u[3]);
			printf("\n");
		}
		if (u == out && g.relay.sin_port && (u[2] << 8 | u[3]) == 1701 &&
		    (size_t)(u[4] << 8 | u[5]) == n)
			relay_out(c, u + 8, n - 8);
		struct slot *s = &g.s[c->sa];
		if (s->used)
			ikev1_child_used(s->sa, spi, now);
		return;
	}
	printf("esp-fail spi=%08x no SA\n", spi);
}

static int bind_udp(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	memcpy(&a.sin_addr, g.local.ip, 4);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		fprintf(stderr, "ike_responder: bind port %u: %s\n", port, strerror(errno));
		exit(2);
	}
	return fd;
}

static int usage(void)
{
	fprintf(stderr, "usage: ike_responder --addr A.B.C.D [--psk SECRET] [--cert-store DIR "
	        "[--ca FILE]] [--auth psk,rsa-sig] [--p1 LIST] [--p2 LIST] [--no-natt] [--tunnel] "
	        "[--seconds N] [--until-child N] [--no-esp] [--until-fail]\n"
	        "       [--ike-port P] [--natt-port Q] [--relay A.B.C.D:PORT] [--quiet]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *addr = NULL, *psk = NULL, *store = NULL, *ca = NULL, *auth = NULL;
	struct cert_server cs = {0};
	unsigned seconds = 20;
	g.ike_port = 500;
	g.natt_port = 4500;
	ikev1_conf_default(&g.conf);
	char why[200];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--addr") && v) addr = v, i++;
		else if (!strcmp(a, "--psk") && v) psk = v, i++;
		else if (!strcmp(a, "--cert-store") && v) store = v, i++;
		else if (!strcmp(a, "--ca") && v) ca = v, i++;
		else if (!strcmp(a, "--auth") && v) auth = v, i++;
		else if (!strcmp(a, "--seconds") && v) seconds = (unsigned)atoi(v), i++;
		else if (!strcmp(a, "--until-child") && v) g.until_child = (unsigned)atoi(v), i++;
		else if (!strcmp(a, "--until-fail")) g.until_fail = true;
		else if (!strcmp(a, "--no-esp")) g.no_esp = true;
		else if (!strcmp(a, "--no-natt")) g.conf.natt = false;
		else if (!strcmp(a, "--tunnel")) g.conf.allow_tunnel = true;
		else if (!strcmp(a, "--quiet")) g.quiet = true;
		else if (!strcmp(a, "--ike-port") && v) g.ike_port = (uint16_t)atoi(v), i++;
		else if (!strcmp(a, "--natt-port") && v) g.natt_port = (uint16_t)atoi(v), i++;
		else if (!strcmp(a, "--relay") && v) {
			char host[64];
			unsigned port = 0;
			if (sscanf(v, "%63[0-9.]:%u", host, &port) != 2 || !port || port > 65535 ||
			    inet_pton(AF_INET, host, &g.relay.sin_addr) != 1)
				return usage();
			g.relay.sin_family = AF_INET;
			g.relay.sin_port = htons((uint16_t)port);
			i++;
		}
		else if (!strcmp(a, "--p1") && v) {
			if (ikev1_conf_parse_p1(&g.conf, v, why, sizeof why) < 0) {
				fprintf(stderr, "ike_responder: --p1: %s\n", why);
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--p2") && v) {
			if (ikev1_conf_parse_p2(&g.conf, v, why, sizeof why) < 0) {
				fprintf(stderr, "ike_responder: --p2: %s\n", why);
				return 2;
			}
			i++;
		} else
			return usage();
	}
	if (!addr || (!psk && !store) || !seconds || seconds > 600 || !g.ike_port ||
	    !g.natt_port || g.ike_port == g.natt_port)
		return usage();
	g.local.family = 4;
	if (inet_pton(AF_INET, addr, g.local.ip) != 1)
		return usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	g.conf.auth_methods = (psk ? IKEV1_AUTH_PSK : 0) | (store ? IKEV1_AUTH_RSA_SIG : 0);
	if (psk) {
		g.conf.psk = (const uint8_t *)psk;
		g.conf.psk_len = strlen(psk);
	}
	if (store) {
		struct cert_server_opts co = {.store = store, .purpose = CERT_PURPOSE_L2TP,
		                              .client_ca = ca, .trust_ca = ca};
		struct diag_err e;
		if (cert_server_load(&co, &cs, &e) < 0) {
			printf("cert-error %s\n", e.reason);
			if (cs.verdict)
				printf("cert-error %s\n", cs.verdict);
			cert_server_free(&cs);
			return 2;
		}
		printf("cert store=%s %s\n", store, cs.verdict);
		g.conf.cert = cs.cert;
		g.conf.key = cs.key;
		g.conf.chain = cs.chain;
		g.conf.trust = cs.trust;
	}
	if (auth && ikev1_conf_parse_auth(&g.conf, auth, why, sizeof why) < 0) {
		fprintf(stderr, "ike_responder: --auth: %s\n", why);
		cert_server_free(&cs);
		return 2;
	}
	if (ikev1_conf_check(&g.conf, why, sizeof why) < 0) {
		fprintf(stderr, "ike_responder: %s\n", why);
		cert_server_free(&cs);
		return 2;
	}
	g.fd500 = bind_udp(g.ike_port);
	g.fd4500 = bind_udp(g.natt_port);
	g.fdraw = socket(AF_INET, SOCK_RAW, IPPROTO_ESP); /* plain ESP, when allowed */
	printf("listening %s\n", addr);
	uint64_t end = now_ms() + seconds * 1000ull;
	for (;;) {
		uint64_t now = now_ms();
		if (now >= end)
			break;
		if (g.until_child && g.child_up >= g.until_child && (g.no_esp || g.esp_rx))
			break;
		if (g.until_fail && g.fails)
			break;
		uint64_t next = end;
		for (int i = 0; i < SAS; i++) {
			if (!g.s[i].used)
				continue;
			uint64_t d = ikev1_tick(g.s[i].sa, now);
			if (ikev1_state(g.s[i].sa) == IKEV1_DEAD) {
				ikev1_free(g.s[i].sa);
				g.s[i].used = false;
				continue;
			}
			if (d < next)
				next = d;
		}
		static struct pollfd pf[3 + CHILDREN];
		static int pc[3 + CHILDREN];    /* the child of each relay socket */
		pf[0] = (struct pollfd){g.fd500, POLLIN, 0};
		pf[1] = (struct pollfd){g.fd4500, POLLIN, 0};
		pf[2] = (struct pollfd){g.fdraw, POLLIN, 0};
		int nfd = 3;
		for (int i = 0; i < CHILDREN; i++)
			if (g.c[i].used && g.c[i].relay_fd >= 0) {
				pc[nfd] = i;
				pf[nfd++] = (struct pollfd){g.c[i].relay_fd, POLLIN, 0};
			}
		int wait = next > now ? (int)(next - now < 1000 ? next - now : 1000) : 0;
		if (poll(pf, (nfds_t)nfd, wait) <= 0)
			continue;
		for (int k = 0; k < nfd; k++) {
			if (!(pf[k].revents & POLLIN))
				continue;
			if (k >= 3) {
				if (g.c[pc[k]].used && g.c[pc[k]].relay_fd == pf[k].fd)
					relay_back(&g.c[pc[k]]);
				continue;
			}
			uint8_t buf[4096];
			struct sockaddr_in from;
			socklen_t fl = sizeof from;
			ssize_t n = recvfrom(pf[k].fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
			if (n <= 0)
				continue;
			struct ikev1_addr peer = {.family = 4, .port = ntohs(from.sin_port)};
			memcpy(peer.ip, &from.sin_addr, 4);
			now = now_ms();
			if (k == 0) {
				ike_in(buf, (size_t)n, &peer, g.ike_port, now);
			} else if (k == 1) {
				switch (natt_classify(buf, (size_t)n)) {
				case NATT_KEEPALIVE: printf("keepalive\n"); break;
				case NATT_IKE: ike_in(buf + 4, (size_t)n - 4, &peer, 4500, now); break;
				case NATT_ESP: esp_in(buf, (size_t)n, now); break;
				default: break;
				}
			} else {
				size_t ihl = (size_t)(buf[0] & 15) * 4;
				if ((size_t)n > ihl)
					esp_in(buf + ihl, (size_t)n - ihl, now);
			}
		}
	}
	for (int i = 0; i < SAS; i++)
		if (g.s[i].used) {
			ikev1_delete(g.s[i].sa, "harness ends", now_ms());
			ikev1_free(g.s[i].sa);
		}
	for (int i = 0; i < CHILDREN; i++)
		if (g.c[i].used) {
			if (g.c[i].relay_fd >= 0)
				close(g.c[i].relay_fd);
			esp_pair_free(&g.c[i].esp);
		}
	printf("end ike_up=%u child_up=%u esp=%u", g.ike_up, g.child_up, g.esp_rx);
	if (g.relay.sin_port)
		printf(" relayed_in=%u relayed_out=%u", g.relayed_in, g.relayed_out);
	printf("\n");
	cert_server_free(&cs);
	return 0;
}
