/* The IKEv2 responder and user-space ESP of engine/ike on real sockets, for the script
 * test that runs strongSwan's charon against it as a Windows-like client:
 *
 *   ikev2_responder --addr A.B.C.D --cert CERT.pem --key KEY.pem --id FQDN
 *                   --user NAME --password PW --pool A.B.C.D [--dns A.B.C.D]
 *                   [--ike LIST] [--esp LIST] [--frag-size N] [--no-frag]
 *                   [--cookie-threshold N]
 *                   [--async-ms N] [--seconds N] [--until-child N] [--until-esp N]
 *                   [--until-fail]
 *
 * Listens on UDP 500 and 4500 of the address, keeps a table of IKE SAs (an IKE_SA_INIT
 * request by the initiator's SPI and address, everything else by our SPI), asks for a
 * cookie when --cookie-threshold half-open SAs exist (0: always), checks EAP-MSCHAPv2
 * against the one user, grants addresses from --pool up (after --async-ms when given,
 * from the loop, as an authentication server would), moves ESP to the children's
 * esp_pair and answers ICMP echo requests that come through a tunnel. One line per
 * event:
 *
 *   ike <event> sa=N <text>     the responder's events (ikev2_ev_names)
 *   cause <id>                  an SA that ended, with the cause id
 *   cookie sent                 a COOKIE demanded
 *   authorize user=U cred=C     the authorize callback
 *   esp spi=X seq=N next=P len=L [icmp-echo SRC->DST]   an ESP packet decrypted
 *   echo-reply spi=X len=L      the answer sent back through the tunnel
 *   esp-fail spi=X <reason>     an ESP packet that did not decrypt
 *   end ike_up=N child_up=N esp=N echo=N
 *
 * The run ends after --seconds (default 20), after the N-th child SA (--until-child N),
 * after N decrypted ESP packets (--until-esp N), or after the first failure
 * (--until-fail: the first SA that ends with a cause). Exit 0, or 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "esp.h"
#include "ike/esp_sa.h"
#include "ike/ikev2.h"
#include "net.h"

#define SAS 16
#define CHILDREN 32

struct slot {
	bool used;
	struct ikev2_sa *sa;
	struct ikev2_cbs cbs;
	struct ikev2_addr peer;
	int index;
	bool pending;            /* authorize asked, answered later */
	bool pending_ok;
	uint64_t answer_at;
};

struct child {
	bool used;
	struct esp_pair esp;
	int sa;
};

static struct {
	int fd500, fd4500;
	struct ikev2_conf conf;
	struct ikev2_cookies cookies;
	struct ikev2_addr local;
	struct slot s[SAS];
	struct child c[CHILDREN];
	const char *user, *password;
	uint8_t pool[4];
	unsigned leases;
	unsigned ike_up, child_up, esp_rx, echo, fails;
	unsigned until_child, until_esp, cookie_threshold, async_ms;
	bool until_fail, cookies_on;
} g;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void send_to(const struct ikev2_addr *p, const uint8_t *buf, size_t len, bool natt)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(p->port)};
	memcpy(&to.sin_addr, p->ip, 4);
	uint8_t out[IKEV2_DATAGRAM_MAX + 4];
	size_t n = len;
	const uint8_t *b = buf;
	if (natt) {
		if (len > IKEV2_DATAGRAM_MAX)
			return;
		memset(out, 0, 4);
		memcpy(out + 4, buf, len);
		b = out;
		n = len + 4;
	}
	if (sendto(natt ? g.fd4500 : g.fd500, b, n, 0, (struct sockaddr *)&to, sizeof to) < 0)
		printf("send-error %s\n", strerror(errno));
}

static void cb_send(void *ctx, const uint8_t *buf, size_t len, bool natt)
{
	struct slot *s = ctx;
	send_to(ikev2_peer(s->sa), buf, len, natt);
}

static void cb_event(void *ctx, enum ikev2_ev kind, const char *text)
{
	struct slot *s = ctx;
	printf("ike %s sa=%d %s\n", tok_name(ikev2_ev_names, kind), s->index, text);
	if (kind == IKEV2_EV_IKE_UP)
		g.ike_up++;
}

static void cb_random(void *ctx, uint8_t *buf, size_t n)
{
	(void)ctx;
	if (RAND_bytes(buf, (int)n) != 1)
		abort();
}

static int cb_password(void *ctx, const char *user, char *buf, size_t cap)
{
	(void)ctx;
	if (strcmp(user, g.user))
		return -1;
	size_t n = strlen(g.password);
	if (n + 1 > cap)
		return -2;
	memcpy(buf, g.password, n + 1);
	return (int)n;
}

static void verdict(struct slot *s, bool ok)
{
	struct ikev2_verdict v = {.accept = ok};
	if (ok) {
		uint32_t a = (uint32_t)g.pool[0] << 24 | (uint32_t)g.pool[1] << 16 |
		             (uint32_t)g.pool[2] << 8 | g.pool[3];
		a += g.leases++;
		v.addr[0] = (uint8_t)(a >> 24);
		v.addr[1] = (uint8_t)(a >> 16);
		v.addr[2] = (uint8_t)(a >> 8);
		v.addr[3] = (uint8_t)a;
	} else {
		v.cause = "policy.bad-credentials";
	}
	ikev2_authorize_done(s->sa, &v, now_ms());
}

static void cb_authorize(void *ctx, const struct ikev2_auth_req *q)
{
	struct slot *s = ctx;
	printf("authorize user=%s cred=%s\n", q->user, tok_name(ppp_cred_names, q->cred));
	bool ok = q->cred == PPP_CRED_OK;
	if (g.async_ms) {
		s->pending = true;
		s->pending_ok = ok;
		s->answer_at = now_ms() + g.async_ms;
		return;
	}
	verdict(s, ok);
}

static void cb_child_up(void *ctx, const struct ikev2_child *c)
{
	struct slot *s = ctx;
	for (int i = 0; i < CHILDREN; i++)
		if (!g.c[i].used) {
			if (esp_pair_init(&g.c[i].esp, &c->in, &c->out, c->udp_encap) < 0)
				return;
			g.c[i].used = true;
			g.c[i].sa = s->index;
			break;
		}
	g.child_up++;
}

static void cb_child_down(void *ctx, const struct ikev2_child *c, const char *why)
{
	(void)ctx;
	(void)why;
	for (int i = 0; i < CHILDREN; i++)
		if (g.c[i].used && g.c[i].esp.in.spi == c->spi_in) {
			esp_pair_free(&g.c[i].esp);
			g.c[i].used = false;
		}
}

static unsigned half_open(void)
{
	unsigned n = 0;
	for (int i = 0; i < SAS; i++)
		n += g.s[i].used && ikev2_half_open(g.s[i].sa);
	return n;
}

static struct slot *slot_for(const uint8_t *buf, size_t len, const struct ikev2_addr *peer,
                             uint16_t lport, uint64_t now)
{
	uint8_t ispi[8], rspi[8];
	bool init;
	if (!ikev2_peek(buf, len, ispi, rspi, &init))
		return NULL;
	for (int i = 0; i < SAS; i++)
		if (g.s[i].used && ikev2_matches(g.s[i].sa, buf, len) &&
		    (!init || !memcmp(g.s[i].peer.ip, peer->ip, 4)))
			return &g.s[i];
	if (!init)
		return NULL;
	if (g.cookies_on) {
		uint8_t reply[256];
		size_t rl = 0;
		uint8_t fresh[32];
		cb_random(NULL, fresh, 32);
		ikev2_cookies_rotate(&g.cookies, fresh, now);
		enum ikev2_cookie_rc rc = ikev2_cookie_check(&g.cookies, buf, len, peer, half_open(),
		                                             g.cookie_threshold, reply, sizeof reply,
		                                             &rl);
		if (rc == IKEV2_COOKIE_SEND) {
			printf("cookie sent\n");
			send_to(peer, reply, rl, lport == 4500);
			return NULL;
		}
		if (rc == IKEV2_COOKIE_DROP)
			return NULL;
		printf("cookie accepted\n");
	}
	for (int i = 0; i < SAS; i++) {
		struct slot *s = &g.s[i];
		if (s->used)
			continue;
		memset(s, 0, sizeof *s);
		s->index = i;
		s->cbs = (struct ikev2_cbs){s, cb_send, cb_event, cb_random, cb_password, cb_authorize,
		                            cb_child_up, cb_child_down};
		s->peer = *peer;
		s->sa = ikev2_new(&g.conf, &s->cbs, &g.local, peer, now);
		if (!s->sa)
			return NULL;
		s->used = true;
		return s;
	}
	printf("ike table full: datagram dropped\n");
	return NULL;
}

static void ike_in(const uint8_t *buf, size_t len, const struct ikev2_addr *peer, uint16_t lport,
                   uint64_t now)
{
	struct slot *s = slot_for(buf, len, peer, lport, now);
	if (!s)
		return;
	struct ikev2_addr local = g.local;
	local.port = lport;
	ikev2_input(s->sa, buf, len, &local, peer, now);
}

/* An ICMP echo request inside the tunnel: the reply through the child's outbound SA. */
static void echo_reply(struct child *c, const uint8_t *ip, size_t n)
{
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	if (n < ihl + 8 || ip[9] != 1 || ip[ihl] != 8 || n > 1500)
		return;
	uint8_t r[1500];
	memcpy(r, ip, n);
	memcpy(r + 12, ip + 16, 4);
	memcpy(r + 16, ip + 12, 4);
	r[8] = 64;
	r[10] = r[11] = 0;
	uint16_t ck = inet_cksum(r, ihl, 0);
	r[10] = (uint8_t)(ck >> 8);
	r[11] = (uint8_t)ck;
	r[ihl] = 0;
	r[ihl + 2] = r[ihl + 3] = 0;
	ck = inet_cksum(r + ihl, n - ihl, 0);
	r[ihl + 2] = (uint8_t)(ck >> 8);
	r[ihl + 3] = (uint8_t)ck;
	uint8_t iv[16], out[1600];
	cb_random(NULL, iv, sizeof iv);
	size_t l = esp_pair_seal(&c->esp, iv, r, n, 4, out, sizeof out, NULL);
	if (!l)
		return;
	struct slot *s = &g.s[c->sa];
	if (!s->used)
		return;
	const struct ikev2_addr *p = ikev2_peer(s->sa);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(p->port)};
	memcpy(&to.sin_addr, p->ip, 4);
	if (sendto(g.fd4500, out, l, 0, (struct sockaddr *)&to, sizeof to) >= 0) {
		g.echo++;
		printf("echo-reply spi=%08x len=%zu\n", c->esp.out.spi, n);
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
		if (esp_pair_open(&c->esp, pkt, len, out, sizeof out, &n, &nh, &e) < 0) {
			printf("esp-fail spi=%08x %s\n", spi, e.reason);
			return;
		}
		g.esp_rx++;
		uint32_t seq = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 | (uint32_t)pkt[6] << 8 | pkt[7];
		printf("esp spi=%08x seq=%u next=%u len=%zu", spi, seq, nh, n);
		if (nh == 4 && n >= 28 && out[9] == 1)
			printf(" icmp-echo %u.%u.%u.%u->%u.%u.%u.%u", out[12], out[13], out[14], out[15],
			       out[16], out[17], out[18], out[19]);
		printf("\n");
		if (g.s[c->sa].used)
			ikev2_child_used(g.s[c->sa].sa, spi, now);
		if (nh == 4)
			echo_reply(c, out, n);
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
		fprintf(stderr, "ikev2_responder: bind port %u: %s\n", port, strerror(errno));
		exit(2);
	}
	return fd;
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *b = malloc(65536);
	*n = b ? fread(b, 1, 65535, f) : 0;
	fclose(f);
	if (b)
		b[*n] = 0;
	return b;
}

static int usage(void)
{
	fprintf(stderr, "usage: ikev2_responder --addr A.B.C.D --cert CERT.pem --key KEY.pem "
	        "--id FQDN --user NAME --password PW --pool A.B.C.D [--dns A.B.C.D] [--ike LIST] "
	        "[--esp LIST] [--frag-size N] [--no-frag] [--cookie-threshold N] [--async-ms N] [--seconds N] "
	        "[--until-child N] [--until-esp N] [--until-fail]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *addr = NULL, *certf = NULL, *keyf = NULL, *id = NULL, *pool = NULL;
	unsigned seconds = 20;
	ikev2_conf_default(&g.conf);
	g.conf.dpd_ms = 0;
	char why[240];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--addr") && v) addr = v, i++;
		else if (!strcmp(a, "--cert") && v) certf = v, i++;
		else if (!strcmp(a, "--key") && v) keyf = v, i++;
		else if (!strcmp(a, "--id") && v) id = v, i++;
		else if (!strcmp(a, "--user") && v) g.user = v, i++;
		else if (!strcmp(a, "--password") && v) g.password = v, i++;
		else if (!strcmp(a, "--pool") && v) pool = v, i++;
		else if (!strcmp(a, "--dns") && v) {
			if (inet_pton(AF_INET, v, g.conf.dns[0]) != 1)
				return usage();
			g.conf.n_dns = 1;
			i++;
		} else if (!strcmp(a, "--seconds") && v) seconds = (unsigned)atoi(v), i++;
		else if (!strcmp(a, "--until-child") && v) g.until_child = (unsigned)atoi(v), i++;
		else if (!strcmp(a, "--until-esp") && v) g.until_esp = (unsigned)atoi(v), i++;
		else if (!strcmp(a, "--frag-size") && v) g.conf.frag_size = (size_t)atoi(v), i++;
		else if (!strcmp(a, "--async-ms") && v) g.async_ms = (unsigned)atoi(v), i++;
		else if (!strcmp(a, "--cookie-threshold") && v) {
			g.cookie_threshold = (unsigned)atoi(v);
			g.cookies_on = true;
			i++;
		} else if (!strcmp(a, "--until-fail")) g.until_fail = true;
		else if (!strcmp(a, "--no-frag")) g.conf.fragmentation = false;
		else if (!strcmp(a, "--ike") && v) {
			if (ikev2_conf_parse_ike(&g.conf, v, why, sizeof why) < 0) {
				fprintf(stderr, "ikev2_responder: --ike: %s\n", why);
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--esp") && v) {
			if (ikev2_conf_parse_esp(&g.conf, v, why, sizeof why) < 0) {
				fprintf(stderr, "ikev2_responder: --esp: %s\n", why);
				return 2;
			}
			i++;
		} else
			return usage();
	}
	if (!addr || !certf || !keyf || !id || !g.user || !g.password || !pool || !seconds ||
	    seconds > 600)
		return usage();
	g.local.family = 4;
	if (inet_pton(AF_INET, addr, g.local.ip) != 1 || inet_pton(AF_INET, pool, g.pool) != 1)
		return usage();
	size_t kl = 0;
	char *kp = slurp(keyf, &kl);
	struct ike_privkey *key = kp ? ike_privkey_from_pem(kp, kl) : NULL;
	free(kp);
	FILE *cf = fopen(certf, "r");
	X509 *x = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
	if (cf)
		fclose(cf);
	unsigned char *der = NULL;
	int dl = x ? i2d_X509(x, &der) : -1;
	X509_free(x);
	if (!key || dl <= 0) {
		fprintf(stderr, "ikev2_responder: %s: cannot read the %s\n", !key ? keyf : certf,
		        !key ? "RSA key" : "certificate");
		return 2;
	}
	g.conf.key = key;
	g.conf.cert = der;
	g.conf.cert_len = (size_t)dl;
	g.conf.id_type = 2;
	g.conf.id = (const uint8_t *)id;
	g.conf.id_len = strlen(id);
	uint8_t fresh[32];
	cb_random(NULL, fresh, 32);
	ikev2_cookies_init(&g.cookies, fresh, now_ms());
	g.fd500 = bind_udp(500);
	g.fd4500 = bind_udp(4500);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("listening %s\n", addr);
	uint64_t end = now_ms() + seconds * 1000ull;
	for (;;) {
		uint64_t now = now_ms();
		if (now >= end)
			break;
		if (g.until_child && g.child_up >= g.until_child && (!g.until_esp || g.esp_rx >= g.until_esp))
			break;
		if (!g.until_child && g.until_esp && g.esp_rx >= g.until_esp)
			break;
		if (g.until_fail && g.fails)
			break;
		uint64_t next = end;
		for (int i = 0; i < SAS; i++) {
			struct slot *s = &g.s[i];
			if (!s->used)
				continue;
			if (s->pending && now >= s->answer_at) {
				s->pending = false;
				verdict(s, s->pending_ok);
			}
			uint64_t d = ikev2_tick(s->sa, now);
			if (ikev2_state(s->sa) == IKEV2_DEAD) {
				if (ikev2_cause(s->sa)[0]) {
					printf("cause %s\n", ikev2_cause(s->sa));
					g.fails++;
				}
				ikev2_free(s->sa);
				s->used = false;
				continue;
			}
			if (s->pending && s->answer_at < d)
				d = s->answer_at;
			if (d < next)
				next = d;
		}
		struct pollfd pf[2] = {{g.fd500, POLLIN, 0}, {g.fd4500, POLLIN, 0}};
		int wait = next > now ? (int)(next - now < 200 ? next - now : 200) : 0;
		if (poll(pf, 2, wait) <= 0)
			continue;
		for (int k = 0; k < 2; k++) {
			if (!(pf[k].revents & POLLIN))
				continue;
			uint8_t buf[IKEV2_DATAGRAM_MAX + 64];
			struct sockaddr_in from;
			socklen_t fl = sizeof from;
			ssize_t n = recvfrom(pf[k].fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
			if (n <= 0)
				continue;
			struct ikev2_addr peer = {.family = 4, .port = ntohs(from.sin_port)};
			memcpy(peer.ip, &from.sin_addr, 4);
			now = now_ms();
			if (k == 0) {
				ike_in(buf, (size_t)n, &peer, 500, now);
			} else {
				switch (natt_classify(buf, (size_t)n)) {
				case NATT_IKE: ike_in(buf + 4, (size_t)n - 4, &peer, 4500, now); break;
				case NATT_ESP: esp_in(buf, (size_t)n, now); break;
				default: break;
				}
			}
			for (int i = 0; i < SAS; i++)
				if (g.s[i].used && ikev2_state(g.s[i].sa) == IKEV2_DEAD) {
					if (ikev2_cause(g.s[i].sa)[0]) {
						printf("cause %s\n", ikev2_cause(g.s[i].sa));
						g.fails++;
					}
					ikev2_free(g.s[i].sa);
					g.s[i].used = false;
				}
		}
	}
	for (int i = 0; i < SAS; i++)
		if (g.s[i].used) {
			ikev2_delete(g.s[i].sa, "harness ends", now_ms());
			ikev2_free(g.s[i].sa);
		}
	for (int i = 0; i < CHILDREN; i++)
		if (g.c[i].used)
			esp_pair_free(&g.c[i].esp);
	ike_privkey_free(key);
	OPENSSL_free(der);
	printf("end ike_up=%u child_up=%u esp=%u echo=%u\n", g.ike_up, g.child_up, g.esp_rx, g.echo);
	return 0;
}
