/* Load generator for `vnet serve`: T tunnels x S sessions over UDP loopback, each session
 * a full client exchange driven by the engine's own client automata (L2TP LAC:
 * SCCRQ/SCCRP/SCCCN, ICRQ/ICRP/ICCN; PPP client: LCP, MS-CHAPv2, CCP, IPCP).
 *
 *   bench_serve [--vnet PATH] [--tunnels T] [--sessions S] [--window W] [options]
 *
 * It writes a configuration (a pool and one user with a password per session) into a
 * work directory, starts `vnet serve` on an ephemeral port with a control socket there,
 * waits for its "listening on" line, reads the server's resident memory, opens the
 * tunnels (one UDP socket per tunnel, each bound to its own loopback address unless
 * --same-source, at most W tunnels in set-up at any time), and reports set-ups per
 * second (first SCCRQ to the last IPCP up), failures, and the server's resident memory
 * per session. Then, optionally, it floods the server with SCCRQs that are never
 * completed and with malformed datagrams (--storm), runs a command while the sessions
 * stay up (--then), keeps them for a while (--hold), checks that none went down, tears
 * every tunnel down with StopCCN and stops the server with SIGTERM.
 *
 * `bench_serve --pptp ...` is the PPTP mode instead (its options and output are described
 * before pptp_main): one PNS per session, for benchmarks and the PPTP tests.
 *
 * `bench_serve --ikev2 ...` is the IKEv2 mode instead (described before ikev2_main): an
 * IKEv2 initiator with EAP-MSCHAPv2 per client, for the IKE_SA_INIT + IKE_AUTH rate.
 *
 * `bench_serve --ipsec ...` puts IKEv1 and ESP under each tunnel (docs/ipsec.md): Main
 * Mode with --psk and Quick Mode by the engine's initiator, NAT-T forced so that ESP goes
 * in UDP to --natt-port, then the same L2TP and PPP client inside ESP transport mode.
 * The server is `vnet serve` with serve.ipsec in its configuration, or --gateway PATH
 * (tests/helpers/ike_responder relaying L2TP to the server); --ike-only ends each tunnel
 * at its child SA, --mm-only at its Main Mode (no Quick Mode: a set-up is a Main Mode
 * whose message 6 the client verified); --dh-reuse SEC gives the server serve.ipsec.dh_reuse. IKE set-ups per
 * second are reported beside the session figures, and a "result-ipsec:" line.
 *
 * The --then command finds in its environment VNET_CONTROL (the control socket),
 * VNET_SERVE_PID, VNET_SERVE_LOG, VNET_SERVE_CONFIG, BENCH_UP (sessions up),
 * BENCH_CLIENTS (a file: "user address client-ip:port" per session up, as the clients
 * see it), BENCH_RSS_UP_KB and BENCH_RSS_STORM_KB (the server's RSS once the sessions
 * were up, and its peak during the storm).
 *
 * Without arguments (as bench/run calls it) it runs the goal of the specification:
 * 10,000 concurrent sessions, as 10,000 tunnels of one session each (what Windows
 * clients open; bench/serve.sh runs 1,000 tunnels x 10), and prints each figure against
 * its goal (>= 6,000 set-ups/s, <= 4 KiB of server memory per session) with the ratio;
 * the rate is given per second of the server's CPU time (user + system) and of wall time.
 * The memory per session is given twice: over all sessions, and over the second half
 * alone, which excludes heap the server freed after reading its configuration (the
 * 10,000 users) and reused for its first sessions.
 * `vnet` is looked for next to this program. --builtin replaces `vnet serve` by a bare
 * LNS made of the same engine automata (no policy, accounting or logging), to check the
 * generator without the server (it is no reference for speed: its timers are scanned). BENCH_TRACE=N in the environment
 * prints the PPP events of session N; BENCH_TRACE=all keeps every session's and prints
 * those of the sessions that fail.
 *
 * Exit status: 0 when every session came up, stayed up and the server exited cleanly;
 * 1 otherwise; 2 on usage errors. The last line sums up the run as key=value pairs
 * ("result: tunnels=... up=... failed=..."), for scripts. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "l2tp.h"
#include "l2tp/l2tp_ctrl.h"
#include "net.h"
#include "ppp.h"
#include "ppp/ppp_session.h"
#include "ppp/mppe.h"
#include "esp.h"
#include "ike/esp_sa.h"
#include "ike/ikev1_init.h"

#define MAX_TUNNELS 20000
#define GOAL_SESSIONS 10000
#define GOAL_RATE 6000.0     /* set-ups per second */
#define GOAL_KIB 4.0         /* server memory per session */
#define POOL_BASE 0x0a400000u /* 10.64.0.0: the pool, the server keeps 10.64.0.1 */

struct opts {
	const char *vnet;
	const char *workdir;
	const char *then;
	const char *secret;
	int tunnels, sessions, window;
	int timeout_s;
	int hold_ms;
	int echo_ms;
	int server_echo_s;        /* serve.ppp.echo_interval, 0: the server's default */
	int ping;                 /* ICMP echoes each session sends once up, one at a time */
	bool accounting;          /* serve.accounting: acct.jsonl in the work directory */
	int storm, storm_ports, storm_sources, garbage, storm_rate;
	int max_tunnels, half_open, per_source; /* serve.limits written to the configuration */
	bool same_source;
	bool builtin;
	bool keep_workdir;
	bool quiet;
};

enum sess_state { SS_IDLE = 0, SS_CALLING, SS_UP, SS_FAILED, SS_DROPPED };

struct tun;

struct sess {
	struct tun *tun;
	unsigned idx;             /* global session number */
	uint16_t sid;
	uint8_t state;            /* enum sess_state */
	bool call_up;             /* the L2TP call is established */
	bool ppp_started;
	uint64_t up_at;
	unsigned echo_req_rx, echo_rep_rx;
	unsigned ping_tx, ping_rx, ping_bad; /* ICMP echo to the server's PPP address */
	unsigned win_error;
	char user[24], pass[24];
	char *trace;              /* BENCH_TRACE=all: the session's PPP events */
	struct ppp_session_conf conf;
	struct ppp_session_cbs cbs;
	struct ppp_session ppp;
	struct mppe_state mppe[2]; /* send, receive: IP is encrypted once CCP agrees on MPPE */
};

struct tun {
	unsigned idx;
	int fd;
	bool opened, done_setup;
	uint8_t placed;           /* calls placed so far */
	unsigned data_lost;       /* data for no session of ours */
	uint64_t next;            /* earliest deadline of the tunnel and its sessions */
	struct l2tp_ctrl_cbs cbs;
	struct l2tp_tunnel t;
	struct sess *s;           /* opts.sessions of them */
	/* --ipsec: the IKE initiator, then L2TP inside the child's ESP-in-UDP */
	struct ikev1i *ike;
	struct ikev1_cbs icbs;
	struct esp_pair esp;
	bool esp_up, ike_failed;
	struct ikev1_addr local;  /* the socket's address and port */
};

static struct opts O = {
	.tunnels = 10000, .sessions = 1, .window = 128, .timeout_s = 120, .storm_ports = 500,
	.storm_sources = 1, .storm_rate = 20000, .half_open = 256, .per_source = 100,
};
static struct sockaddr_in srv;
static struct l2tp_ctrl_conf lac_conf;
static struct tun *tuns;
static uint64_t t0_ms;
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static unsigned n_up, n_failed, n_dropped, n_inflight_tunnels, send_errors;
static uint64_t first_sccrq_ms, last_up_ms;
static long rss_half = -1;               /* server RSS when half the sessions were up */
static unsigned up_at_half;
static unsigned fail_printed;
static unsigned tunnel_fail_printed;
static pid_t server_pid = -1;
static char logpath[PATH_MAX], ctlpath[PATH_MAX], cfgpath[PATH_MAX];
static volatile sig_atomic_t interrupted;
static bool tearing_down;                 /* calls going down now are ours to end */
static long trace_session = -1;           /* BENCH_TRACE: the session (or tunnel) traced */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 - t0_ms;
}

static void rnd(void *ctx, uint8_t *b, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		rng_state ^= rng_state << 13;
		rng_state ^= rng_state >> 7;
		rng_state ^= rng_state << 17;
		b[i] = (uint8_t)(rng_state >> 24);
	}
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	if (O.quiet) return;
	va_list ap;
	va_start(ap, fmt);
	fputs("bench_serve: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f) return -1;
	long kb = -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* CPU time (user + system) the process used so far, in seconds; -1 when unknown. */
static double cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f) return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	/* the command name in parentheses may hold spaces: fields count from its end */
	const char *p = strrchr(buf, ')');
	unsigned long long ut, st;
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
	                 &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* This program's own CPU time (user + system), in seconds. */
static double self_cpu_s(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* ---- --ipsec: IKEv1 Main Mode + Quick Mode per tunnel, L2TP inside ESP ---------------
 *
 * Each tunnel's socket speaks IKE to the server's IKE port, floats to its NAT-T port
 * (encapsulation forced, as charon's encap=yes: no root needed), and once the child SA
 * is up its L2TP datagrams leave as UDP 1701 -> 1701 inside ESP transport mode in UDP to
 * the NAT-T port; what comes back is opened, its inner UDP checked, the L2TP payload
 * handed to the LAC. */
static struct {
	bool on, ike_only, mm_only;
	const char *psk, *gateway, *p1, *p2;
	int ike_port, natt_port;
	int dh_reuse;                  /* serve.ipsec.dh_reuse of the server */
	struct ikev1i_conf conf;
	struct sockaddr_in ike, natt;  /* the server's IKE and NAT-T addresses */
	unsigned ike_up, child_up, failed, printed, esp_bad, esp_rx, esp_tx;
	uint64_t first_ms, last_child_ms;
	pid_t gw_pid;
	char gwlog[PATH_MAX];
} I = {.ike_port = 15500, .natt_port = 14500};

static void tun_ipsec_send(struct tun *t, const uint8_t *buf, size_t len)
{
	uint8_t udp[2048 + 8], pkt[2048 + 128], iv[16];
	if (!t->esp_up || len + 8 > sizeof udp - 8) {
		send_errors++;
		return;
	}
	size_t ul = len + 8;
	udp[0] = 1701 >> 8;
	udp[1] = 1701 & 255;
	udp[2] = 1701 >> 8;
	udp[3] = 1701 & 255;
	udp[4] = (uint8_t)(ul >> 8);
	udp[5] = (uint8_t)ul;
	memcpy(udp + 8, buf, len);
	const struct ikev1_child *c = ikev1i_child(t->ike);
	if (!c) {
		send_errors++;
		return;
	}
	esp_udp_checksum_fix(udp, ul, c->out.src, c->out.dst);
	rnd(NULL, iv, esp_sa_ivlen(&t->esp.out));
	size_t n = esp_pair_seal(&t->esp, iv, udp, ul, 17, pkt, sizeof pkt, NULL);
	if (!n || sendto(t->fd, pkt, n, 0, (struct sockaddr *)&I.natt, sizeof I.natt) < 0)
		send_errors++;
	else
		I.esp_tx++;
}

static void tun_l2tp_in(struct tun *t, const uint8_t *buf, size_t n, uint64_t now);

/* An ESP packet from the server's NAT-T port: its L2TP payload, or counted as bad. */
static void tun_esp_in(struct tun *t, const uint8_t *pkt, size_t len, uint64_t now)
{
	uint8_t out[2048], nh = 0;
	size_t n = 0;
	struct diag_err err;
	if (!t->esp_up || esp_pair_open(&t->esp, pkt, len, out, sizeof out, &n, &nh, &err) < 0 ||
	    nh != 17 || n < 8 || (out[0] << 8 | out[1]) != 1701 || (out[2] << 8 | out[3]) != 1701 ||
	    (size_t)(out[4] << 8 | out[5]) != n) {
		I.esp_bad++;
		return;
	}
	I.esp_rx++;
	tun_l2tp_in(t, out + 8, n - 8, now);
}

static void tun_ike_send(void *ctx, const uint8_t *buf, size_t len, bool natt)
{
	struct tun *t = ctx;
	uint8_t b[IKEV1_MSG_MAX + 4];
	if (len > IKEV1_MSG_MAX) return;
	if (natt) { /* the non-ESP marker */
		memset(b, 0, 4);
		memcpy(b + 4, buf, len);
		if (sendto(t->fd, b, len + 4, 0, (struct sockaddr *)&I.natt, sizeof I.natt) < 0)
			send_errors++;
	} else if (sendto(t->fd, buf, len, 0, (struct sockaddr *)&I.ike, sizeof I.ike) < 0) {
		send_errors++;
	}
}

static void sess_up(struct sess *s, uint64_t now);

static void tun_ike_event(void *ctx, enum ikev1_ev kind, const char *text)
{
	struct tun *t = ctx;
	if (kind == IKEV1_EV_IKE_UP) {
		I.ike_up++;
		if (I.mm_only) { /* the IKE SA is the whole session: no Quick Mode follows */
			uint64_t now = now_ms();
			I.last_child_ms = now;
			for (int i = 0; i < O.sessions; i++) sess_up(&t->s[i], now);
		}
	}
	if (kind == IKEV1_EV_FAIL && I.printed++ < 5) note("tunnel %u: IKE: %s", t->idx, text);
	if ((long)t->idx == trace_session)
		fprintf(stderr, "%8.3f tunnel %u ike %s: %s\n", now_ms() / 1000.0, t->idx,
		        tok_name(ikev1_ev_names, kind), text);
}

static void sess_up(struct sess *s, uint64_t now);

static void tun_child_up(void *ctx, const struct ikev1_child *c)
{
	struct tun *t = ctx;
	if (!c->udp_encap || esp_pair_init(&t->esp, &c->in, &c->out, c->udp_encap) != 0) {
		note("tunnel %u: child SA without UDP encapsulation or no memory", t->idx);
		return;
	}
	t->esp_up = true;
	I.child_up++;
	uint64_t now = now_ms();
	I.last_child_ms = now;
	if (I.ike_only) { /* the child SA is the whole session */
		for (int i = 0; i < O.sessions; i++) sess_up(&t->s[i], now);
		return;
	}
	l2tp_lac_open(&t->t, now);
}

static void tun_send(void *ctx, const uint8_t *buf, size_t len)
{
	struct tun *t = ctx;
	if (I.on) {
		tun_ipsec_send(t, buf, len);
		return;
	}
	if (sendto(t->fd, buf, len, 0, (struct sockaddr *)&srv, sizeof srv) < 0) send_errors++;
}

static struct sess *tun_sess(struct tun *t, uint16_t sid)
{
	for (int i = 0; i < O.sessions; i++)
		if (t->s[i].sid == sid && sid) return &t->s[i];
	return NULL;
}

static void sess_failed(struct sess *s, unsigned win_error, const char *why)
{
	if (tearing_down) return;
	if (s->state == SS_UP) {
		s->state = SS_DROPPED;
		n_dropped++;
		n_up--;
	} else if (s->state == SS_IDLE || s->state == SS_CALLING) {
		s->state = SS_FAILED;
		n_failed++;
	} else {
		return;
	}
	s->win_error = win_error;
	if (fail_printed++ < 5) {
		const struct l2tp_tunnel *t = &s->tun->t;
		const struct l2tp_call *c = l2tp_ctrl_call((struct l2tp_tunnel *)t, s->sid);
		note("session %u (%s) %s: error %u: %s [tunnel %u %s tid %u/%u, call sid %u/%u "
		     "state %u, ppp %s, rx %u tx %u rtx %u dup %u ooo %u drop %u lost %u]",
		     s->idx, s->user, s->state == SS_DROPPED ? "went down" : "failed", win_error,
		     why ? why : "", s->tun->idx, tok_name(l2tp_tunnel_state_names, t->state),
		     t->local_tid, t->peer_tid, s->sid, c ? c->peer_sid : 0, c ? c->state : 0,
		     s->ppp_started ? "started" : "not started", t->st.rx, t->st.tx, t->st.retransmits,
		     t->st.duplicates, t->st.out_of_order, t->st.dropped, s->tun->data_lost);
		if (s->trace) fputs(s->trace, stderr);
	}
}

static void tun_event(void *ctx, enum l2tp_ev kind, uint16_t sid, const char *text)
{
	struct tun *t = ctx;
	if (kind == L2TP_EV_TUNNEL_DOWN && !tearing_down && tunnel_fail_printed++ < 5)
		note("tunnel %u: %s", t->idx, text);
}

/* Every queued control message has left (none waits for the peer's window). */
static bool tun_all_sent(const struct l2tp_tunnel *t)
{
	for (unsigned i = 0; i < t->tx_count; i++)
		if (!t->tx[(t->tx_head + i) % L2TP_CTRL_TXQ].sent) return false;
	return true;
}

/* PPP starts once the ICCN has left: frames sent before it would reach a server that
 * does not know the call yet, and LCP would wait for its restart timer. */
static void tun_call_up(void *ctx, uint16_t sid)
{
	struct tun *t = ctx;
	struct sess *s = tun_sess(t, sid);
	if (s && !s->ppp_started) s->call_up = true;
}

static void tun_call_down(void *ctx, uint16_t sid, uint16_t result, uint16_t error)
{
	struct tun *t = ctx;
	struct sess *s = tun_sess(t, sid);
	if (!s) return;
	char why[64];
	snprintf(why, sizeof why, "CDN result %u error %u", result, error);
	sess_failed(s, 0, why);
	if (s->ppp_started) ppp_session_lower_down(&s->ppp, now_ms());
}


/* An ICMP echo request (32 bytes of data, identifier idx, sequence seq) from the link's
 * address to the server's PPP address as a PPP frame, inside an MPPE compressed datagram
 * when MPPE is on (as a Windows client sends it). buf holds ECHO_BUF bytes; *out points
 * at the frame to send. Its length, or -1 when encryption failed. */
#define ECHO_FRAME (4 + 20 + 8 + 32)
#define ECHO_BUF (ECHO_FRAME + 4 + 2 + ECHO_FRAME)
static int echo_frame(struct ppp_session *ppp, unsigned idx, unsigned seq, uint8_t *buf,
                      const uint8_t **out)
{
	uint8_t *f = buf, *ip = f + 4, *ic = ip + 20;
	uint32_t src = ppp->ipcp.my_addr, dst = ppp->ipcp.peer_addr;
	memset(f, 0, ECHO_FRAME);
	f[0] = 0xff; f[1] = 0x03; f[2] = 0x00; f[3] = 0x21;
	ip[0] = 0x45;
	ip[3] = 20 + 8 + 32;
	ip[4] = (uint8_t)(seq >> 8);
	ip[5] = (uint8_t)seq;
	ip[8] = 64;
	ip[9] = 1;
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	uint16_t c = inet_cksum(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	ic[0] = 8;
	ic[4] = (uint8_t)(idx >> 8);
	ic[5] = (uint8_t)idx;
	ic[6] = (uint8_t)(seq >> 8);
	ic[7] = (uint8_t)seq;
	for (int i = 0; i < 32; i++) ic[8 + i] = (uint8_t)(i + idx);
	c = inet_cksum(ic, 8 + 32, 0);
	ic[2] = (uint8_t)(c >> 8);
	ic[3] = (uint8_t)c;
	*out = f;
	if (!ppp->ccp.mppe_on) return ECHO_FRAME;
	uint8_t *e = buf + ECHO_FRAME;
	e[0] = 0xff; e[1] = 0x03; e[2] = 0x00; e[3] = 0xfd;
	int n = mppe_encrypt(ppp->ccp.tx, f + 2, ECHO_FRAME - 2, e + 4, ECHO_BUF - ECHO_FRAME - 4);
	if (n < 0) return -1;
	*out = e;
	return 4 + n;
}

/* One ICMP echo request from the session's address to the server's PPP address. */
static void ping_send(struct sess *s)
{
	uint8_t buf[ECHO_BUF];
	const uint8_t *fr;
	int n = echo_frame(&s->ppp, s->idx, s->ping_tx++, buf, &fr);
	if (n >= 0) l2tp_ctrl_send_data(&s->tun->t, s->sid, fr, (size_t)n);
}

enum echo_rx { ECHO_NOT_IP, ECHO_BAD, ECHO_OK };
/* A frame on the way in (address and control bytes taken off): not an IP packet (for the
 * PPP automaton), or the ICMP echo reply to the request echo_frame built (through MPPE
 * when it is on): from the server's PPP address to the link's, identifier idx, sequence
 * seq, checksums right; anything else is bad. */
static enum echo_rx echo_reply(struct ppp_session *ppp, unsigned idx, unsigned seq,
                               const uint8_t *p, size_t n)
{
	uint8_t clear[2048];
	if (n >= 2 && p[0] == 0x00 && p[1] == 0xfd && ppp->ccp.mppe_on) {
		struct diag_err err;
		int m = mppe_decrypt(ppp->ccp.rx, p + 2, n - 2, clear, sizeof clear, &err);
		if (m < 0) return ECHO_BAD;
		p = clear;
		n = (size_t)m;
	}
	if (n < 2 || p[0] != 0x00 || p[1] != 0x21) return ECHO_NOT_IP;
	const uint8_t *ip = p + 2;
	n -= 2;
	if (n < 28 || ip[0] != 0x45 || ip[9] != 1 || inet_cksum(ip, 20, 0) != 0) return ECHO_BAD;
	const uint8_t *ic = ip + 20;
	uint32_t src = (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 | (uint32_t)ip[14] << 8 | ip[15];
	uint32_t dst = (uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | (uint32_t)ip[18] << 8 | ip[19];
	unsigned id = (unsigned)ic[4] << 8 | ic[5], sq = (unsigned)ic[6] << 8 | ic[7];
	if (ic[0] != 0 || inet_cksum(ic, n - 20, 0) != 0 || src != ppp->ipcp.peer_addr ||
	    dst != ppp->ipcp.my_addr || id != (idx & 0xffff) || sq != (seq & 0xffff))
		return ECHO_BAD;
	return ECHO_OK;
}

/* A frame on the way in: LCP Echo-Request / Echo-Reply are counted (keepalive checks),
 * ICMP echo replies to our pings are checked and answered with the next ping. True
 * when the frame was an IP packet (not for the PPP automaton). */
static bool inspect(struct sess *s, const uint8_t *p, size_t n)
{
	if (n >= 2 && p[0] == 0xff && p[1] == 0x03) {
		p += 2;
		n -= 2;
	}
	if (n >= 3 && p[0] == 0xc0 && p[1] == 0x21) {
		if (p[2] == 9) s->echo_req_rx++;
		if (p[2] == 10) s->echo_rep_rx++;
		return false;
	}
	enum echo_rx r = echo_reply(&s->ppp, s->idx, s->ping_rx, p, n);
	if (r == ECHO_NOT_IP) return false;
	if (r == ECHO_BAD) {
		s->ping_bad++;
		return true;
	}
	s->ping_rx++;
	if (s->ping_tx < (unsigned)O.ping) ping_send(s);
	return true;
}

static void tun_data(void *ctx, uint16_t sid, const uint8_t *ppp, size_t len)
{
	struct tun *t = ctx;
	struct sess *s = tun_sess(t, sid);
	if (!s || (s->state != SS_CALLING && s->state != SS_UP)) {
		t->data_lost++;
		return;
	}
	if (!s->ppp_started) { /* the server has the call: its LCP is already talking */
		s->ppp_started = true;
		ppp_session_start(&s->ppp, now_ms());
	}
	if (inspect(s, ppp, len)) return;
	ppp_session_input(&s->ppp, ppp, len, now_ms());
}

static void sess_send(void *ctx, const uint8_t *frame, size_t len)
{
	struct sess *s = ctx;
	l2tp_ctrl_send_data(&s->tun->t, s->sid, frame, len);
}

/* BENCH_TRACE=N in the environment: session N's PPP events on standard error. */
static void sess_event(void *ctx, enum ppp_log kind, const char *text)
{
	struct sess *s = ctx;
	if (trace_session == -2) { /* kept, and shown when the session fails */
		if (!s->trace) s->trace = calloc(1, 4096);
		size_t used = s->trace ? strlen(s->trace) : 4096;
		if (used < 4000)
			snprintf(s->trace + used, 4096 - used, "%8.3f %s: %s\n", now_ms() / 1000.0,
			         tok_name(ppp_log_names, kind), text);
	}
	if ((long)s->idx == trace_session)
		fprintf(stderr, "%8.3f session %u %s: %s\n", now_ms() / 1000.0, s->idx,
		        tok_name(ppp_log_names, kind), text);
}

static void sess_finished(void *ctx, unsigned win_error, const char *why)
{
	sess_failed(ctx, win_error, why);
}

static void sess_up(struct sess *s, uint64_t now)
{
	if (s->state != SS_CALLING && s->state != SS_IDLE) return;
	s->state = SS_UP;
	s->up_at = now;
	last_up_ms = now;
	n_up++;
	if (O.ping && !I.ike_only) ping_send(s);
	if (rss_half < 0 && n_up * 2 >= (unsigned)(O.tunnels * O.sessions) && server_pid > 0) {
		rss_half = rss_kb(server_pid);
		up_at_half = n_up;
	}
}

/* After any input or timer: sessions that came up, calls to place, the next deadline. */
static void tun_service(struct tun *t, uint64_t now)
{
	if (I.on && t->ike && ikev1i_state(t->ike) == IKEV1I_DEAD && !t->ike_failed && !tearing_down) {
		/* the IKE SA failed (or was deleted): the sessions it carried go with it */
		t->ike_failed = true;
		I.failed++;
		char why[96];
		snprintf(why, sizeof why, "IKE: %s", ikev1i_cause(t->ike));
		for (int i = 0; i < O.sessions; i++) sess_failed(&t->s[i], 0, why);
		if (t->opened && !t->done_setup) {
			t->done_setup = true;
			n_inflight_tunnels--;
		}
	}
	/* l2tp_lac.c answers an ICRP with an ICCN only when the send queue has room (the
	 * call is reported up either way): keep a slot free for every call awaiting its ICRP */
	unsigned waiting = 0;
	for (unsigned i = 0; i < L2TP_CTRL_CALLS; i++)
		waiting += t->t.calls[i].state == L2TP_CALL_WAIT_REPLY;
	while (t->t.state == L2TP_TUN_ESTABLISHED && t->placed < O.sessions &&
	       t->t.tx_count + waiting + 2 <= L2TP_CTRL_TXQ) {
		struct sess *s = &t->s[t->placed];
		uint16_t sid = l2tp_lac_call(&t->t, now);
		if (!sid) break; /* the send window is full: again on the next acknowledgement */
		s->sid = sid;
		s->state = SS_CALLING;
		t->placed++;
		waiting++;
	}
	uint64_t next = l2tp_ctrl_deadline(&t->t);
	bool pending = false, all_sent = tun_all_sent(&t->t);
	for (int i = 0; i < O.sessions; i++) {
		struct sess *s = &t->s[i];
		if (s->call_up && !s->ppp_started && all_sent && s->state == SS_CALLING) {
			s->ppp_started = true;
			ppp_session_start(&s->ppp, now);
		}
		if (s->state == SS_CALLING && s->ppp.ipcp_up) sess_up(s, now);
		if (s->state == SS_IDLE || s->state == SS_CALLING) pending = true;
		if (s->ppp_started) next = ppp_min_deadline(next, ppp_session_deadline(&s->ppp));
	}
	if (t->t.state == L2TP_TUN_DEAD || t->t.state == L2TP_TUN_CLOSED ||
	    t->t.state == L2TP_TUN_CLOSING)
		for (int i = 0; i < O.sessions; i++)
			if (t->s[i].state == SS_IDLE || t->s[i].state == SS_CALLING) {
				sess_failed(&t->s[i], 0, t->t.why[0] ? t->t.why : "tunnel closed");
				pending = false;
			}
	if (t->opened && !pending && !t->done_setup) {
		t->done_setup = true;
		n_inflight_tunnels--;
	}
	if (I.on && t->ike) {
		uint64_t d = ikev1i_deadline(t->ike);
		if (d < next) next = d;
	}
	t->next = next;
}

static void tun_tick(struct tun *t, uint64_t now)
{
	if (I.on && t->ike) ikev1i_tick(t->ike, now);
	l2tp_ctrl_tick(&t->t, now);
	for (int i = 0; i < O.sessions; i++)
		if (t->s[i].ppp_started) ppp_session_tick(&t->s[i].ppp, now);
	tun_service(t, now);
}

static int udp_socket(uint32_t addr_host, uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) return -1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
	                        .sin_addr.s_addr = htonl(addr_host)};
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 127.1.0.1, 127.1.0.2, ...: a distinct client address per tunnel, as real clients. */
static uint32_t tun_addr(unsigned i)
{
	if (O.same_source) return 0x7f000001u;
	return 0x7f010000u + (i / 250) * 256 + (i % 250) + 1;
}

static int tun_init(struct tun *t, unsigned idx, int ep)
{
	t->idx = idx;
	t->fd = udp_socket(tun_addr(idx), 0);
	if (t->fd < 0) return -1;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = t};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, t->fd, &ev) != 0) return -1;
	t->cbs = (struct l2tp_ctrl_cbs){
		.ctx = t, .send = tun_send, .event = tun_event, .random = rnd,
		.call_up = tun_call_up, .call_down = tun_call_down, .data = tun_data,
	};
	if (I.on) {
		struct sockaddr_in a;
		socklen_t al = sizeof a;
		if (getsockname(t->fd, (struct sockaddr *)&a, &al) != 0) return -1;
		t->local.family = 4;
		memcpy(t->local.ip, &a.sin_addr, 4);
		t->local.port = ntohs(a.sin_port);
		t->icbs = (struct ikev1_cbs){.ctx = t, .send = tun_ike_send, .event = tun_ike_event,
		                             .random = rnd, .child_up = tun_child_up};
	}
	l2tp_ctrl_init(&t->t, &lac_conf, &t->cbs);
	t->next = L2TP_NEVER;
	for (int i = 0; i < O.sessions; i++) {
		struct sess *s = &t->s[i];
		s->tun = t;
		s->idx = idx * (unsigned)O.sessions + (unsigned)i;
		snprintf(s->user, sizeof s->user, "bench%05u", s->idx);
		snprintf(s->pass, sizeof s->pass, "pw-%05u", s->idx);
		ppp_session_conf_default(&s->conf, false);
		s->conf.auth_methods = PPP_AUTH_BIT(PPP_AUTH_MSCHAPV2);
		s->conf.auth_pref[0] = PPP_AUTH_MSCHAPV2;
		s->conf.auth_pref[1] = PPP_AUTH_NONE;
		s->conf.auth.name = s->user;
		s->conf.auth.password = s->pass;
		s->conf.mppe_levels = MPPE_BIT_L | MPPE_BIT_M | MPPE_BIT_S;
		s->conf.echo_interval_ms = (uint32_t)O.echo_ms;
		s->conf.echo_fail_max = 3;
		s->cbs = (struct ppp_session_cbs){
			.ctx = s, .send = sess_send, .event = sess_event, .random = rnd,
			.finished = sess_finished,
		};
		ppp_session_init(&s->ppp, &s->conf, &s->cbs);
		ppp_ccp_set_mppe(&s->ppp, &s->mppe[0], &s->mppe[1]);
	}
	return 0;
}

/* An L2TP datagram from the server (directly, or out of ESP). */
static void tun_l2tp_in(struct tun *t, const uint8_t *buf, size_t n, uint64_t now)
{
	l2tp_ctrl_input(&t->t, buf, n, now);
}

/* Start a tunnel: L2TP at once, or IKE first with --ipsec. */
static void tun_open(struct tun *t, uint64_t now)
{
	if (!I.on) {
		l2tp_lac_open(&t->t, now);
		return;
	}
	struct ikev1_addr peer = {.family = 4, .port = (uint16_t)I.ike_port};
	memcpy(peer.ip, &I.ike.sin_addr, 4);
	t->ike = ikev1i_new(&I.conf, &t->icbs, &t->local, &peer);
	if (!t->ike) {
		note("tunnel %u: out of memory", t->idx);
		return;
	}
	if (!I.first_ms) I.first_ms = now ? now : 1;
	ikev1i_start(t->ike, now);
}

/* Read every datagram waiting on the tunnel's socket (bounded). */
static void tun_read(struct tun *t, uint64_t now)
{
	uint8_t buf[2048];
	for (int k = 0; k < 64; k++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(t->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
		if (n < 0) break;
		if (!I.on) {
			tun_l2tp_in(t, buf, (size_t)n, now);
			continue;
		}
		if (!t->ike || from.sin_addr.s_addr != I.ike.sin_addr.s_addr) continue;
		if (from.sin_port == I.ike.sin_port) {
			ikev1i_input(t->ike, buf, (size_t)n, false, now);
		} else if (from.sin_port == I.natt.sin_port) {
			switch (natt_classify(buf, (size_t)n)) {
			case NATT_IKE: ikev1i_input(t->ike, buf + 4, (size_t)n - 4, true, now); break;
			case NATT_ESP: tun_esp_in(t, buf, (size_t)n, now); break;
			default: break;
			}
		}
	}
	tun_service(t, now);
}

/* One turn of the event loop: socket input, then due timers. */
static void pump(int ep, int wait_ms)
{
	struct epoll_event evs[256];
	int n = epoll_wait(ep, evs, 256, wait_ms);
	uint64_t now = now_ms();
	for (int i = 0; i < n; i++) tun_read(evs[i].data.ptr, now);
	static uint64_t last_scan;
	if (now != last_scan) {
		last_scan = now;
		for (int i = 0; i < O.tunnels; i++)
			if (tuns[i].opened && tuns[i].next <= now) tun_tick(&tuns[i], now);
	}
}

/* ---- the server ---------------------------------------------------------------------- */
static int write_config(const char *path)
{
	int total = O.tunnels * O.sessions;
	json_t *root = json_object(), *server = json_object();
	json_object_set_new(server, "name", json_string("BENCH"));
	json_object_set_new(server, "auth_methods", json_pack("[s]", "mschapv2"));
	json_object_set_new(server, "encryption", json_pack("[ssss]", "none", "basic", "strong",
	                                                     "strongest"));
	json_object_set_new(server, "ports", json_pack("{s:i,s:i}", "pptp", 0, "l2tp", total + 16));
	json_object_set_new(server, "address_assignment", json_string("pool"));
	/* 10.64.0.1 (the server's) .. enough for every session and a margin */
	uint32_t last = POOL_BASE + 1 + (uint32_t)total + 16;
	char end[20];
	snprintf(end, sizeof end, "%u.%u.%u.%u", last >> 24, (last >> 16) & 255, (last >> 8) & 255,
	         last & 255);
	json_object_set_new(server, "pool", json_pack("[{s:s,s:s}]", "start", "10.64.0.1", "end", end));
	json_object_set_new(root, "server", server);
	json_object_set_new(root, "groups", json_pack("[{s:s}]", "name", "Bench"));
	json_object_set_new(root, "policies", json_pack(
		"[{s:s,s:[{s:s,s:[s]},{s:s,s:[s]}],s:s,s:{s:[s],s:[ssss]}}]",
		"name", "bench clients",
		"conditions", "attribute", "Windows-Groups", "value", "Bench",
		"attribute", "NAS-Port-Type", "value", "virtual",
		"permission", "grant",
		"profile", "auth_methods", "mschapv2", "encryption", "none", "basic", "strong",
		"strongest"));
	json_t *users = json_array();
	for (int i = 0; i < total; i++) {
		char u[24], p[24];
		snprintf(u, sizeof u, "bench%05d", i);
		snprintf(p, sizeof p, "pw-%05d", i);
		json_array_append_new(users, json_pack("{s:s,s:s,s:[s],s:s}", "name", u, "password", p,
		                                       "groups", "Bench", "dialin", "policy"));
	}
	json_object_set_new(root, "users", users);
	json_t *l2tp = json_object(), *ppp = json_object();
	if (O.secret) json_object_set_new(l2tp, "secret", json_string(O.secret));
	if (O.server_echo_s) json_object_set_new(ppp, "echo_interval", json_integer(O.server_echo_s));
	json_object_set_new(root, "serve", json_pack(
		"{s:s,s:s,s:o,s:o,s:{s:i,s:i,s:i,s:i}}",
		"host_name", "BENCH-LNS", "local_address", "10.64.0.1", "l2tp", l2tp, "ppp", ppp,
		"limits", "tunnels", O.max_tunnels ? O.max_tunnels : O.tunnels + 16,
		"sessions", total + 16, "half_open", O.half_open,
		"new_tunnels_per_source", O.per_source));
	if (O.accounting)
		json_object_set_new(json_object_get(root, "serve"), "accounting", json_string("acct.jsonl"));
	if (I.on && !I.gateway) /* the server's own IKE end */
		json_object_set_new(json_object_get(root, "serve"), "ipsec", json_pack(
			"{s:s,s:i,s:i,s:s,s:{s:i},s:i}", "psk", I.psk, "ike_port", I.ike_port, "natt_port",
			I.natt_port, "listen", "127.0.0.1", "limits", "sas", O.tunnels + 16, "dh_reuse",
			I.dh_reuse));
	int rc = json_dump_file(root, path, JSON_INDENT(1));
	json_decref(root);
	return rc;
}

static void lns_main(void);
static void on_signal(int sig);

/* Start the server with its standard error in the log; wait for "listening on". */
static int server_start(void)
{
	int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) return -1;
	pid_t pid = fork();
	if (pid < 0) return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* no server left behind if we die */
		dup2(fd, 2);
		int dn = open("/dev/null", O_RDWR);
		if (dn >= 0) {
			dup2(dn, 0);
			dup2(dn, 1);
		}
		if (O.builtin) {
			lns_main();
			_exit(0);
		}
		execl(O.vnet, "vnet", "serve", "--config", cfgpath, "--listen", "127.0.0.1:0",
		      "--control", ctlpath, (char *)NULL);
		fprintf(stderr, "bench_serve: cannot run %s: %s\n", O.vnet, strerror(errno));
		_exit(127);
	}
	close(fd);
	server_pid = pid;
	for (int i = 0; i < 500; i++) { /* 10 s */
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			server_pid = -1;
			note("the server exited before listening (log: %s)", logpath);
			return -1;
		}
		FILE *f = fopen(logpath, "r");
		char line[512];
		while (f && fgets(line, sizeof line, f)) {
			char *p = strstr(line, "listening on ");
			unsigned a, b, c, d, port;
			if (p && sscanf(p, "listening on %u.%u.%u.%u:%u", &a, &b, &c, &d, &port) == 5 &&
			    port > 0 && port < 65536) {
				fclose(f);
				srv.sin_family = AF_INET;
				srv.sin_port = htons((uint16_t)port);
				srv.sin_addr.s_addr = htonl(a << 24 | b << 16 | c << 8 | d);
				return 0;
			}
		}
		if (f) fclose(f);
		usleep(20000);
	}
	note("no \"listening on\" line from the server within 10 s (log: %s)", logpath);
	return -1;
}

/* SIGTERM, then wait up to 10 s: the exit status, or -1. */
static int server_stop(void)
{
	if (server_pid <= 0) return -1;
	kill(server_pid, SIGTERM);
	for (int i = 0; i < 500; i++) {
		int st;
		if (waitpid(server_pid, &st, WNOHANG) == server_pid) {
			server_pid = -1;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		usleep(20000);
	}
	note("the server did not exit within 10 s of SIGTERM: killed");
	kill(server_pid, SIGKILL);
	waitpid(server_pid, NULL, 0);
	server_pid = -1;
	return -1;
}

/* ---- the storm: SCCRQs never completed, and malformed datagrams --------------------- */
struct capture {
	uint8_t buf[L2TP_CTRL_MSG_MAX];
	size_t len;
};

static void cap_send(void *ctx, const uint8_t *b, size_t n)
{
	struct capture *c = ctx;
	c->len = n < sizeof c->buf ? n : sizeof c->buf;
	memcpy(c->buf, b, c->len);
}

/* The i-th malformed datagram: several kinds in turn. */
static size_t garbage(unsigned i, uint8_t *b, size_t cap)
{
	size_t n = 1 + (size_t)(rng_state % 200);
	if (n > cap) n = cap;
	rnd(NULL, b, n);
	switch (i % 6) {
	case 0: break;                                     /* random bytes */
	case 1: b[0] = 0xc8; b[1] = 0x03; n = n < 12 ? n : 12; break; /* version 3 */
	case 2: b[0] = 0xc8; b[1] = 0x02; n = n < 6 ? n : 6; break;  /* truncated header */
	case 3:                                            /* length field beyond the datagram */
		if (n < 20) n = 20;
		b[0] = 0xc8; b[1] = 0x02; b[2] = 0x04; b[3] = 0x00; /* claims 1024 bytes */
		break;
	case 4:                                            /* control message with a bad AVP */
		if (n < 20) n = 20;
		b[0] = 0xc8; b[1] = 0x02; b[2] = 0; b[3] = (uint8_t)n;
		memset(b + 4, 0, 8);
		b[12] = 0x80; b[13] = 0x03; /* AVP length 3 < 6 */
		break;
	case 5:                                            /* data for a tunnel that is not there */
		if (n < 10) n = 10;
		b[0] = 0x00; b[1] = 0x02;
		break;
	}
	return n;
}

struct storm_result {
	unsigned sccrq, garbage, errors;
	double secs;
	long rss_max;
};

static void storm(int ep, struct storm_result *r)
{
	memset(r, 0, sizeof *r);
	int np = O.storm_ports > 0 ? O.storm_ports : 1;
	int *fds = calloc((size_t)np, sizeof *fds);
	if (!fds) return;
	/* 127.2.0.1, 127.2.0.2, ...: as many client addresses as --storm-sources */
	for (int i = 0; i < np; i++)
		fds[i] = udp_socket(O.storm_sources > 1 ? 0x7f020001u + (uint32_t)(i % O.storm_sources)
		                                        : 0x7f000001u, 0);
	struct l2tp_ctrl_conf c;
	l2tp_ctrl_conf_default(&c, true);
	c.host_name = "storm";
	struct capture cap;
	struct l2tp_ctrl_cbs cbs = {.ctx = &cap, .send = cap_send, .random = rnd};
	struct l2tp_tunnel *t = malloc(sizeof *t);
	if (!t) {
		free(fds);
		return;
	}
	uint64_t start = now_ms();
	unsigned total = (unsigned)O.storm + (unsigned)O.garbage;
	r->rss_max = rss_kb(server_pid);
	for (unsigned i = 0; i < total; i++) {
		int fd = fds[i % (unsigned)np];
		uint8_t g[256];
		size_t n;
		const uint8_t *p;
		/* interleave: garbage spread evenly over the SCCRQs */
		bool is_garbage = O.garbage && (O.storm == 0 ||
		    (uint64_t)i * (unsigned)O.garbage / total != (uint64_t)(i + 1) * (unsigned)O.garbage / total);
		if (is_garbage) {
			n = garbage(r->garbage, g, sizeof g);
			p = g;
			r->garbage++;
		} else {
			l2tp_ctrl_init(t, &c, &cbs);
			cap.len = 0;
			l2tp_lac_open(t, now_ms());
			l2tp_ctrl_free(t); /* the SCCRQ is in cap: the tunnel is forgotten */
			p = cap.buf;
			n = cap.len;
			r->sccrq++;
		}
		if (fd < 0 || sendto(fd, p, n, 0, (struct sockaddr *)&srv, sizeof srv) < 0) r->errors++;
		/* pace to storm_rate datagrams per second, serving the real sessions meanwhile */
		if (i % 50 == 49) {
			uint64_t due = start + (uint64_t)(i + 1) * 1000 / (unsigned)O.storm_rate;
			do pump(ep, 0); while (now_ms() < due && !interrupted);
			long k = rss_kb(server_pid);
			if (k > r->rss_max) r->rss_max = k;
		}
	}
	r->secs = (double)(now_ms() - start) / 1000.0;
	if (r->secs <= 0) r->secs = 0.001;
	free(t);
	/* the server's SCCRPs to these ports are never answered */
	for (int i = 0; i < np; i++)
		if (fds[i] >= 0) close(fds[i]);
	free(fds);
}

/* ---- a bare LNS of engine automata (--builtin) ------------------------------------- */
struct lns_tun;
struct lns_sess {
	struct lns_tun *lt;
	uint16_t sid;
	struct ppp_session ppp;
	struct ppp_session_cbs cbs;
};
struct lns_tun {
	struct sockaddr_in peer;
	struct l2tp_ctrl_cbs cbs;
	struct l2tp_tunnel t;
	struct lns_sess *s[L2TP_CTRL_CALLS];
	struct lns_tun *next;
	uint64_t due;             /* earliest deadline of the tunnel and its sessions */
};

static void lns_due(struct lns_tun *lt)
{
	uint64_t d = l2tp_ctrl_deadline(&lt->t);
	for (int i = 0; i < L2TP_CTRL_CALLS; i++)
		if (lt->s[i]) d = ppp_min_deadline(d, ppp_session_deadline(&lt->s[i]->ppp));
	lt->due = d;
}
static struct {
	int fd;
	struct lns_tun *by_tid[65536];
	struct lns_tun *all;
	uint16_t next_tid;
	bool tid_wanted;
	uint32_t next_addr;
	struct l2tp_ctrl_conf conf;
	struct ppp_session_conf pconf;
	unsigned tunnels, sessions;
} L;

static void lns_random(void *ctx, uint8_t *b, size_t n)
{
	if (n == 2 && L.tid_wanted) { /* the new tunnel's ID: unique, not random */
		L.tid_wanted = false;
		do L.next_tid++; while (L.next_tid == 0 || L.by_tid[L.next_tid]);
		b[0] = (uint8_t)(L.next_tid >> 8);
		b[1] = (uint8_t)L.next_tid;
		return;
	}
	rnd(ctx, b, n);
}

static void lns_send(void *ctx, const uint8_t *b, size_t n)
{
	struct lns_tun *lt = ctx;
	sendto(L.fd, b, n, 0, (struct sockaddr *)&lt->peer, sizeof lt->peer);
}

static void lns_ppp_send(void *ctx, const uint8_t *f, size_t n)
{
	struct lns_sess *s = ctx;
	l2tp_ctrl_send_data(&s->lt->t, s->sid, f, n);
}

static int lns_password(void *ctx, const char *user, char *buf, size_t cap)
{
	unsigned i;
	if (sscanf(user, "bench%u", &i) != 1) return -1;
	return snprintf(buf, cap, "pw-%05u", i);
}

static struct ppp_admit lns_admit(void *ctx, const char *user, enum ppp_auth_method m,
                                  enum ppp_cred cred)
{
	struct ppp_admit a = {.accept = cred == PPP_CRED_OK, .win_error = cred == PPP_CRED_OK ? 0 : 691};
	return a;
}

static uint32_t lns_alloc(void *ctx, uint32_t req) { return L.next_addr++; }
static void lns_free(void *ctx, uint32_t a) {}

static void lns_call_up(void *ctx, uint16_t sid)
{
	struct lns_tun *lt = ctx;
	for (int i = 0; i < L2TP_CTRL_CALLS; i++)
		if (!lt->s[i]) {
			struct lns_sess *s = calloc(1, sizeof *s);
			if (!s) return;
			s->lt = lt;
			s->sid = sid;
			s->cbs = (struct ppp_session_cbs){.ctx = s, .send = lns_ppp_send, .random = rnd,
				.password = lns_password, .admit = lns_admit, .addr_alloc = lns_alloc,
				.addr_free = lns_free};
			ppp_session_init(&s->ppp, &L.pconf, &s->cbs);
			ppp_session_start(&s->ppp, now_ms());
			lt->s[i] = s;
			L.sessions++;
			return;
		}
}

static void lns_call_down(void *ctx, uint16_t sid, uint16_t result, uint16_t error)
{
	struct lns_tun *lt = ctx;
	for (int i = 0; i < L2TP_CTRL_CALLS; i++)
		if (lt->s[i] && lt->s[i]->sid == sid) {
			ppp_session_free(&lt->s[i]->ppp);
			free(lt->s[i]);
			lt->s[i] = NULL;
			L.sessions--;
		}
}

static void lns_data(void *ctx, uint16_t sid, const uint8_t *p, size_t n)
{
	struct lns_tun *lt = ctx;
	for (int i = 0; i < L2TP_CTRL_CALLS; i++)
		if (lt->s[i] && lt->s[i]->sid == sid) ppp_session_input(&lt->s[i]->ppp, p, n, now_ms());
}

static void lns_main(void)
{
	interrupted = 0;
	signal(SIGTERM, on_signal);
	L.fd = udp_socket(0x7f000001u, 0);
	if (L.fd < 0) _exit(1);
	int big = 4 << 20;
	setsockopt(L.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	getsockname(L.fd, (struct sockaddr *)&a, &al);
	l2tp_ctrl_conf_default(&L.conf, false);
	L.conf.host_name = "builtin-lns";
	L.conf.max_calls = L2TP_CTRL_CALLS;
	ppp_session_conf_default(&L.pconf, true);
	L.pconf.auth_methods = PPP_AUTH_BIT(PPP_AUTH_MSCHAPV2);
	L.pconf.local_addr = POOL_BASE + 1;
	L.pconf.echo_interval_ms = 0;
	L.pconf.mppe_levels = MPPE_BIT_S | MPPE_BIT_M | MPPE_BIT_L;
	L.next_addr = POOL_BASE + 2;
	fprintf(stderr, "builtin listening on 127.0.0.1:%u\n", ntohs(a.sin_port));
	fflush(stderr);
	uint64_t last_scan = 0;
	while (!interrupted) {
		struct pollfd pfd = {.fd = L.fd, .events = POLLIN};
		poll(&pfd, 1, 5);
		uint64_t now = now_ms();
		uint8_t buf[2048];
		for (int k = 0; k < 512; k++) {
			struct sockaddr_in from;
			socklen_t fl = sizeof from;
			ssize_t n = recvfrom(L.fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
			if (n < 0) break;
			uint16_t tid = l2tp_ctrl_peek_tid(buf, (size_t)n);
			struct lns_tun *lt = tid ? L.by_tid[tid] : NULL;
			if (!tid) {
				lt = calloc(1, sizeof *lt);
				if (!lt) continue;
				lt->peer = from;
				lt->cbs = (struct l2tp_ctrl_cbs){.ctx = lt, .send = lns_send, .random = lns_random,
					.call_up = lns_call_up, .call_down = lns_call_down, .data = lns_data};
				l2tp_ctrl_init(&lt->t, &L.conf, &lt->cbs);
				L.tid_wanted = true;
				l2tp_ctrl_input(&lt->t, buf, (size_t)n, now);
				L.tid_wanted = false;
				if (lt->t.local_tid == 0 || L.by_tid[lt->t.local_tid]) {
					l2tp_ctrl_free(&lt->t);
					free(lt);
					continue;
				}
				L.by_tid[lt->t.local_tid] = lt;
				lt->next = L.all;
				L.all = lt;
				L.tunnels++;
				lns_due(lt);
				continue;
			}
			if (lt) {
				l2tp_ctrl_input(&lt->t, buf, (size_t)n, now);
				lns_due(lt);
			}
		}
		if (now - last_scan >= 5) {
			last_scan = now;
			for (struct lns_tun *lt = L.all; lt; lt = lt->next) {
				if (lt->due > now) continue;
				l2tp_ctrl_tick(&lt->t, now);
				for (int i = 0; i < L2TP_CTRL_CALLS; i++)
					if (lt->s[i]) ppp_session_tick(&lt->s[i]->ppp, now);
				lns_due(lt);
			}
		}
	}
	if (getenv("BENCH_TRACE"))
		for (struct lns_tun *lt = L.all; lt; lt = lt->next) {
			unsigned up = 0, have = 0;
			for (int i = 0; i < L2TP_CTRL_CALLS; i++) {
				up += lt->t.calls[i].state == L2TP_CALL_ESTABLISHED;
				have += lt->s[i] != NULL;
			}
			for (int i = 0; i < L2TP_CTRL_CALLS; i++)
				if (lt->s[i] && !lt->s[i]->ppp.ipcp_up)
					fprintf(stderr, "lns tunnel %u sid %u: phase %u rx %u bad %u tx %u lcp %u\n",
					        lt->t.local_tid, lt->s[i]->sid, lt->s[i]->ppp.phase,
					        lt->s[i]->ppp.rx_frames, lt->s[i]->ppp.rx_bad, lt->s[i]->ppp.tx_frames,
					        lt->s[i]->ppp.lcp.fsm.state);
			if (up != have || up != l2tp_ctrl_active_calls(&lt->t))
				fprintf(stderr, "lns tunnel %u: %u calls up, %u active, %u sessions; rx %u bad %u "
				        "dropped %u dup %u\n", lt->t.local_tid, up,
				        l2tp_ctrl_active_calls(&lt->t), have, lt->t.st.rx, lt->t.st.bad,
				        lt->t.st.dropped, lt->t.st.duplicates);
		}
}

/* ---- the run -------------------------------------------------------------------------- */
static void usage(FILE *f)
{
	fprintf(f,
	        "usage: bench_serve [--vnet PATH] [--tunnels T] [--sessions S] [--window W]\n"
	        "                   [--timeout SEC] [--same-source] [--secret S] [--echo MS]\n"
	        "                   [--server-echo SEC] [--accounting] [--ping N]\n"
	        "                   [--storm N] [--storm-ports P] [--storm-sources A] [--garbage G]\n"
	        "                   [--storm-rate R] [--max-tunnels N] [--half-open N] [--per-source N]\n"
	        "                   [--then CMD] [--hold MS] [--workdir DIR] [--builtin] [--quiet]\n"
	        "                   [--ipsec [--psk S] [--ike-port P] [--natt-port Q] [--p1 LIST]\n"
	        "                    [--p2 LIST] [--gateway PATH] [--ike-only | --mm-only]\n"
	        "                    [--dh-reuse SEC]]\n"
	        "       bench_serve --pptp ... (see the source), bench_serve --ikev2 [--tunnels N]\n"
	        "                   [--window W] [--ike LIST] [--esp LIST] [--psk S] [--ike-port P]\n"
	        "                   [--natt-port Q] [--ike-only] [--ping N] [--cookies] [--hold MS]\n"
	        "                   [--client-psk S] [--password P]\n");
}

static int int_arg(const char *s, int lo, int hi, const char *name)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == 0 || *end || v < lo || v > hi) {
		fprintf(stderr, "bench_serve: %s: expected an integer in %d..%d, got \"%s\"\n", name, lo,
		        hi, s);
		exit(2);
	}
	return (int)v;
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(a, "--same-source") == 0) {
			O.same_source = true;
			continue;
		} else if (strcmp(a, "--builtin") == 0) {
			O.builtin = true;
			continue;
		} else if (strcmp(a, "--quiet") == 0) {
			O.quiet = true;
			continue;
		} else if (strcmp(a, "--accounting") == 0) {
			O.accounting = true;
			continue;
		} else if (strcmp(a, "--ipsec") == 0) {
			I.on = true;
			continue;
		} else if (strcmp(a, "--ike-only") == 0) {
			I.ike_only = true;
			continue;
		} else if (strcmp(a, "--mm-only") == 0) {
			I.ike_only = I.mm_only = true;
			continue;
		}
		if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
			fprintf(stderr, "bench_serve: %s \"%s\"\n",
			        strncmp(a, "--", 2) ? "unexpected argument" : "no value for", a);
			usage(stderr);
			exit(2);
		}
		const char *v = argv[++i];
		if (strcmp(a, "--vnet") == 0) O.vnet = v;
		else if (strcmp(a, "--tunnels") == 0) O.tunnels = int_arg(v, 1, MAX_TUNNELS, a);
		else if (strcmp(a, "--sessions") == 0) O.sessions = int_arg(v, 1, L2TP_CTRL_CALLS, a);
		else if (strcmp(a, "--window") == 0) O.window = int_arg(v, 1, MAX_TUNNELS, a);
		else if (strcmp(a, "--timeout") == 0) O.timeout_s = int_arg(v, 1, 3600, a);
		else if (strcmp(a, "--secret") == 0) O.secret = v;
		else if (strcmp(a, "--echo") == 0) O.echo_ms = int_arg(v, 0, 600000, a);
		else if (strcmp(a, "--server-echo") == 0) O.server_echo_s = int_arg(v, 0, 3600, a);
		else if (strcmp(a, "--ping") == 0) O.ping = int_arg(v, 0, 65535, a);
		else if (strcmp(a, "--storm") == 0) O.storm = int_arg(v, 0, 1000000, a);
		else if (strcmp(a, "--storm-ports") == 0) O.storm_ports = int_arg(v, 1, 10000, a);
		else if (strcmp(a, "--storm-sources") == 0) O.storm_sources = int_arg(v, 1, 250, a);
		else if (strcmp(a, "--max-tunnels") == 0) O.max_tunnels = int_arg(v, 1, 65535, a);
		else if (strcmp(a, "--half-open") == 0) O.half_open = int_arg(v, 1, 65535, a);
		else if (strcmp(a, "--per-source") == 0) O.per_source = int_arg(v, 0, 1000000, a);
		else if (strcmp(a, "--garbage") == 0) O.garbage = int_arg(v, 0, 1000000, a);
		else if (strcmp(a, "--storm-rate") == 0) O.storm_rate = int_arg(v, 1, 10000000, a);
		else if (strcmp(a, "--then") == 0) O.then = v;
		else if (strcmp(a, "--psk") == 0) I.psk = v;
		else if (strcmp(a, "--ike-port") == 0) I.ike_port = int_arg(v, 1, 65535, a);
		else if (strcmp(a, "--natt-port") == 0) I.natt_port = int_arg(v, 1, 65535, a);
		else if (strcmp(a, "--p1") == 0) I.p1 = v;
		else if (strcmp(a, "--p2") == 0) I.p2 = v;
		else if (strcmp(a, "--dh-reuse") == 0) I.dh_reuse = int_arg(v, 0, 3600, a);
		else if (strcmp(a, "--gateway") == 0) I.gateway = v;
		else if (strcmp(a, "--hold") == 0) O.hold_ms = int_arg(v, 0, 3600000, a);
		else if (strcmp(a, "--workdir") == 0) {
			O.workdir = v;
			O.keep_workdir = true;
		} else {
			fprintf(stderr, "bench_serve: unknown option \"%s\"\n", a);
			usage(stderr);
			exit(2);
		}
	}
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Run CMD with the server's coordinates in its environment, serving the sessions until
 * it exits (bounded by the timeout): its exit status. */
/* What the clients see, one line per session that is up: user, the address IPCP gave,
 * the client's UDP address. */
static int write_clients(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) return -1;
	for (int i = 0; i < O.tunnels; i++) {
		struct tun *t = &tuns[i];
		struct sockaddr_in a;
		socklen_t al = sizeof a;
		if (getsockname(t->fd, (struct sockaddr *)&a, &al) != 0) continue;
		char ip[INET_ADDRSTRLEN], addr[16];
		inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
		for (int k = 0; k < O.sessions; k++) {
			const struct sess *s = &t->s[k];
			if (s->state != SS_UP) continue;
			ppp_ip_str(s->ppp.ipcp.my_addr, addr, sizeof addr);
			fprintf(f, "%s %s %s:%u\n", s->user, addr, ip, ntohs(a.sin_port));
		}
	}
	return fclose(f);
}

static int run_then(int ep)
{
	char buf[PATH_MAX + 16];
	snprintf(buf, sizeof buf, "%s/clients.txt", O.workdir);
	if (write_clients(buf) != 0) note("cannot write %s", buf);
	setenv("BENCH_CLIENTS", buf, 1);
	setenv("VNET_CONTROL", ctlpath, 1);
	setenv("VNET_SERVE_LOG", logpath, 1);
	setenv("VNET_SERVE_CONFIG", cfgpath, 1);
	snprintf(buf, sizeof buf, "%d", (int)server_pid);
	setenv("VNET_SERVE_PID", buf, 1);
	snprintf(buf, sizeof buf, "%u", n_up);
	setenv("BENCH_UP", buf, 1);
	pid_t pid = fork();
	if (pid < 0) return 1;
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", O.then, (char *)NULL);
		_exit(127);
	}
	uint64_t until = now_ms() + (uint64_t)O.timeout_s * 1000;
	for (;;) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (now_ms() > until || interrupted) {
			note("--then command still running after %d s: killed", O.timeout_s);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return 1;
		}
		pump(ep, 10);
	}
}

static void line(const char *name, const char *ours, const char *goal, double ratio)
{
	printf("%-30s %12s %12s %8.2f\n", name, ours, goal, ratio);
}

static void rm_workdir(const char *dir)
{
	const char *names[] = {"vnet.json", "serve.log", "control.sock", "clients.txt", "acct.jsonl",
	                       "gateway.log", NULL};
	char p[PATH_MAX];
	for (int i = 0; names[i]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* ---- --ipsec: the set-up of the initiators and of the gateway ------------------------ */

/* The initiators' configuration from the options; exits 2 on a usage error. */
static void ipsec_setup(void)
{
	if (!I.on) {
		if (I.psk || I.gateway || I.ike_only || I.p1 || I.p2 || I.dh_reuse) {
			fprintf(stderr, "bench_serve: --psk, --p1, --p2, --gateway, --ike-only, "
			        "--mm-only and --dh-reuse go with --ipsec\n");
			exit(2);
		}
		return;
	}
	if (I.ike_port == I.natt_port) {
		fprintf(stderr, "bench_serve: --ike-port and --natt-port must differ\n");
		exit(2);
	}
	if (!I.psk) I.psk = "bench-psk";
	ikev1i_conf_default(&I.conf);
	I.conf.psk = (const uint8_t *)I.psk;
	I.conf.psk_len = strlen(I.psk);
	I.conf.force_encap = true; /* ESP in UDP to the NAT-T port: no raw socket */
	I.conf.natt_port = (uint16_t)I.natt_port;
	I.conf.main_mode_only = I.mm_only;
	char why[200];
	if (I.p1 && ikev1i_conf_parse_p1(&I.conf, I.p1, why, sizeof why) < 0) {
		fprintf(stderr, "bench_serve: --p1: %s\n", why);
		exit(2);
	}
	if (I.p2 && ikev1i_conf_parse_p2(&I.conf, I.p2, why, sizeof why) < 0) {
		fprintf(stderr, "bench_serve: --p2: %s\n", why);
		exit(2);
	}
	if (I.gateway) O.per_source = 0; /* every tunnel reaches the server from the gateway */
	if (I.ike_only) O.ping = 0;
}

/* The server's IKE addresses; with --gateway, start it in front of the L2TP server. */
static int ipsec_start(void)
{
	I.ike = I.natt = srv;
	I.ike.sin_port = htons((uint16_t)I.ike_port);
	I.natt.sin_port = htons((uint16_t)I.natt_port);
	if (!I.gateway) return 0;
	snprintf(I.gwlog, sizeof I.gwlog, "%s/gateway.log", O.workdir);
	int fd = open(I.gwlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) return -1;
	char relay[32], ip[32], ikep[8], nattp[8], secs[8];
	inet_ntop(AF_INET, &srv.sin_addr, ip, sizeof ip);
	snprintf(relay, sizeof relay, "%s:%u", ip, ntohs(srv.sin_port));
	snprintf(ikep, sizeof ikep, "%d", I.ike_port);
	snprintf(nattp, sizeof nattp, "%d", I.natt_port);
	int secs_n = O.timeout_s + O.hold_ms / 1000 + 60;
	snprintf(secs, sizeof secs, "%d", secs_n > 600 ? 600 : secs_n);
	pid_t pid = fork();
	if (pid < 0) return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(I.gateway, I.gateway, "--addr", ip, "--psk", I.psk, "--ike-port", ikep,
		      "--natt-port", nattp, "--relay", relay, "--seconds", secs, "--quiet", (char *)NULL);
		fprintf(stderr, "bench_serve: cannot run %s: %s\n", I.gateway, strerror(errno));
		_exit(127);
	}
	close(fd);
	I.gw_pid = pid;
	for (int i = 0; i < 250; i++) { /* 5 s */
		char line[256];
		FILE *f = fopen(I.gwlog, "r");
		bool ready = false;
		while (f && fgets(line, sizeof line, f))
			if (strncmp(line, "listening", 9) == 0) ready = true;
		if (f) fclose(f);
		if (ready) return 0;
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			I.gw_pid = -1;
			note("the gateway exited before listening (log: %s)", I.gwlog);
			return -1;
		}
		usleep(20000);
	}
	note("the gateway did not listen within 5 s (log: %s)", I.gwlog);
	return -1;
}

static void ipsec_stop(void)
{
	if (I.gw_pid <= 0) return;
	kill(I.gw_pid, SIGTERM);
	waitpid(I.gw_pid, NULL, 0);
	I.gw_pid = -1;
}

/* ---- PPTP mode (--pptp): a PNS per session -------------------------------------------
 *
 *   bench_serve --pptp [--server ADDR:PORT] [--sessions N] [--window W] [--user U
 *                --password P] [--method pap|chap|mschapv2]
 *                [--mppe none|40|56|128|stateful-128] [--ping N] [--hold MS]
 *                [--timeout SEC] [--vnet PATH] [--workdir DIR] [--quiet]
 *
 * (--sessions: 100 without --server, 1 with it)
 * Each session is one PPTP control connection with one call, as Windows and pptp-linux
 * open them: TCP to the server from its own loopback address (127.2.x.y), SCCRQ, OCRQ,
 * then PPP (LCP, MS-CHAPv2, CCP with MPPE, IPCP) in enhanced GRE with sequence numbers
 * and acknowledgements, all through the engine's automata (pptp_ctrl as PNS, pptp_gre,
 * ppp_session as client). GRE leaves through one raw socket with the session's address
 * as the IP source (root). Without --server it writes a configuration (one user per
 * session, bench00000 / pw-00000 ...), starts `vnet serve --pptp-listen` on an ephemeral
 * port and reports set-ups per second, the server's resident memory per session and
 * its CPU seconds per set-up; with --server it drives that server, all sessions as
 * --user / --password. --ping N: each session sends N ICMP echoes to the server's PPP
 * address, one after the other, through MPPE when it was negotiated. --method: the one
 * authentication protocol the client accepts (MS-CHAPv2 by default); --mppe: the MPPE
 * levels it offers in CCP (all three, stateless, by default; none: no CCP at all, as
 * with PAP and CHAP, which give no MPPE keys).
 *
 * Prints "session N up addr=A mppe=BITS" / "session N failed error=E ..." for each of the
 * first sessions, and a last line "result: sessions=... up=... failed=..." with the
 * Windows errors seen ("errors=691:1") and calls refused ("refused=OCRP-2-4:1").
 * Exit 0 when every session came up and every ping was answered, 1 otherwise. */
#include "pptp.h"
#include "gre.h"
#include "pptp/pptp_ctrl.h"
#include "pptp/pptp_gre.h"
#include "policy/config.h"

struct pns {
	unsigned idx;
	int fd;
	uint8_t state;              /* enum sess_state */
	bool connecting, ppp_started, closed;
	uint32_t addr;              /* our address (host order) */
	uint16_t call_id;
	unsigned win_error;
	uint8_t ocrp_result, ocrp_error;
	unsigned ping_tx, ping_rx, ping_bad;
	uint64_t next;
	char user[64], pass[64];
	struct pptp_conn c;
	struct pptp_ctrl_cbs cbs;
	struct pptp_gre g;
	struct ppp_session_conf conf;
	struct ppp_session_cbs pcbs;
	struct ppp_session ppp;
	struct mppe_state mppe[2];
};

static struct {
	const char *server, *user, *pass;
	/* the client's PPP: the one method it accepts (PPP_AUTH_*), the MPPE levels it
	 * offers (MPPE_BIT_*, 0: no CCP), stateful MPPE instead of stateless */
	unsigned method, mppe;
	bool stateful;
	int sessions, window, ping, hold_ms, timeout_s;
	struct pns *p;
	int gre_fd;
	struct pptp_ctrl_conf conf;
	unsigned up, failed, inflight, printed;
	unsigned errors[1000];
	unsigned refused[8][8];
	uint64_t first_ms, last_up_ms;
	uint32_t server_addr;       /* host order */
	uint16_t server_port;
	uint16_t call_base;         /* our Call IDs: call_base + session index */
} P = {.sessions = 100, .window = 64, .timeout_s = 60};

static void pns_note_fail(struct pns *s, const char *why)
{
	if (P.printed++ < 20)
		printf("session %u failed error=%u %s\n", s->idx, s->win_error, why ? why : "");
}

static void pns_fail(struct pns *s, unsigned win_error, const char *why)
{
	if (tearing_down) return;
	if (s->state == SS_UP) {
		P.up--;
	} else if (s->state != SS_IDLE && s->state != SS_CALLING) {
		return;
	}
	s->state = SS_FAILED;
	s->win_error = win_error;
	P.failed++;
	if (win_error < 1000) P.errors[win_error]++;
	if (P.inflight) P.inflight--;
	pns_note_fail(s, why);
}

static void pns_ctrl_send(void *ctx, const uint8_t *b, size_t n)
{
	struct pns *s = ctx;
	if (s->fd >= 0 && send(s->fd, b, n, MSG_NOSIGNAL) < 0) send_errors++;
}

static void pns_ctrl_event(void *ctx, enum pptp_ev kind, uint16_t call_id, const char *text)
{
	struct pns *s = ctx;
	(void)call_id;
	if ((long)s->idx == trace_session && kind != PPTP_EV_TRACE)
		fprintf(stderr, "%8.3f session %u pptp: %s\n", now_ms() / 1000.0, s->idx, text);
}

static uint16_t pns_call_id(void *ctx)
{
	struct pns *s = ctx;
	/* unique over the client: GRE finds the session by it; the base differs per run so
	 * that captures of several runs keep their calls apart */
	return (uint16_t)(P.call_base + s->idx);
}

static void gre_send_ip(struct pns *s, const uint8_t *gre, size_t n)
{
	uint8_t pkt[20 + 2048];
	if (n > 2048) return;
	memset(pkt, 0, 20);
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)((20 + n) >> 8);
	pkt[3] = (uint8_t)(20 + n);
	pkt[8] = 64;
	pkt[9] = 47;
	for (int i = 0; i < 4; i++) {
		pkt[12 + i] = (uint8_t)(s->addr >> (24 - 8 * i));
		pkt[16 + i] = (uint8_t)(P.server_addr >> (24 - 8 * i));
	}
	uint16_t c = inet_cksum(pkt, 20, 0);
	pkt[10] = (uint8_t)(c >> 8);
	pkt[11] = (uint8_t)c;
	memcpy(pkt + 20, gre, n);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(P.server_addr)};
	if (sendto(P.gre_fd, pkt, 20 + n, 0, (struct sockaddr *)&to, sizeof to) < 0) send_errors++;
}

static void pns_ppp_send(void *ctx, const uint8_t *frame, size_t len)
{
	struct pns *s = ctx;
	uint8_t b[2048 + PPTP_GRE_HDR_MAX];
	size_t n = pptp_gre_send(&s->g, frame, len, b, sizeof b, now_ms());
	if (n) gre_send_ip(s, b, n);
}

static void pns_ppp_event(void *ctx, enum ppp_log kind, const char *text)
{
	struct pns *s = ctx;
	if ((long)s->idx == trace_session)
		fprintf(stderr, "%8.3f session %u %s: %s\n", now_ms() / 1000.0, s->idx,
		        tok_name(ppp_log_names, kind), text);
}

static void pns_ppp_finished(void *ctx, unsigned win_error, const char *why)
{
	pns_fail(ctx, win_error, why);
}

static void pns_call_up(void *ctx, uint16_t call_id)
{
	struct pns *s = ctx;
	const struct pptp_call *k = pptp_ctrl_call(&s->c, call_id);
	pptp_gre_init(&s->g, k->peer_call_id, k->peer_rwin, 50, 1000, now_ms());
	s->ppp_started = true;
	ppp_session_start(&s->ppp, now_ms());
}

static void pns_call_down(void *ctx, uint16_t call_id, uint8_t result, uint8_t error)
{
	struct pns *s = ctx;
	(void)call_id;
	char why[64];
	if (!s->ppp_started) {
		s->ocrp_result = result;
		s->ocrp_error = error;
		P.refused[result & 7][error & 7]++;
		snprintf(why, sizeof why, "refused=OCRP-%u-%u", result, error);
		pns_fail(s, 0, why);
		return;
	}
	snprintf(why, sizeof why, "CDN result %u error %u", result, error);
	if (s->state != SS_FAILED && !s->ppp.finished) ppp_session_lower_down(&s->ppp, now_ms());
	pns_fail(s, 0, why);
}

/* An ICMP echo to the server's PPP address, through MPPE when it is on. */
static void pns_ping(struct pns *s)
{
	uint8_t buf[ECHO_BUF];
	const uint8_t *fr;
	int n = echo_frame(&s->ppp, s->idx, s->ping_tx++, buf, &fr);
	if (n >= 0) pns_ppp_send(s, fr, (size_t)n);
}

/* An IP frame for us (true), or a frame for PPP (false). */
static bool pns_inspect(struct pns *s, const uint8_t *p, size_t n)
{
	if (n >= 2 && p[0] == 0xff && p[1] == 0x03) {
		p += 2;
		n -= 2;
	}
	enum echo_rx r = echo_reply(&s->ppp, s->idx, s->ping_rx, p, n);
	if (r == ECHO_NOT_IP) return false;
	if (r == ECHO_BAD) {
		s->ping_bad++;
		return true;
	}
	s->ping_rx++;
	if (s->ping_tx < (unsigned)P.ping) pns_ping(s);
	return true;
}

static uint32_t pns_addr(unsigned i)
{
	return 0x7f020000u + (i / 250) * 256 + (i % 250) + 1;
}

static int pns_open(struct pns *s, int ep)
{
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) return -1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(s->addr)};
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(P.server_addr),
		.sin_port = htons(P.server_port)};
	int one = 1;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    (connect(s->fd, (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS))
		return -1;
	s->connecting = true;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = s};
	return epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
}

static void pns_service(struct pns *s, uint64_t now)
{
	if (s->c.state == PPTP_CONN_ESTABLISHED && !s->call_id && s->state == SS_IDLE) {
		s->call_id = pptp_pns_call(&s->c, now);
		s->state = SS_CALLING;
	}
	if (s->state == SS_CALLING && s->ppp.ipcp_up) {
		s->state = SS_UP;
		P.up++;
		P.last_up_ms = now;
		if (P.inflight) P.inflight--;
		if (P.printed++ < 20) {
			char a[20];
			printf("session %u up addr=%s mppe=0x%x\n", s->idx, ipv4_str(s->ppp.ipcp.my_addr, a,
			       sizeof a), s->ppp.ccp.mppe_on ? (unsigned)s->ppp.ccp.my_bits : 0);
		}
		if (P.ping) pns_ping(s);
	}
	if (pptp_ctrl_closed(&s->c) && (s->state == SS_IDLE || s->state == SS_CALLING))
		pns_fail(s, 0, s->c.why);
	uint64_t d = pptp_ctrl_deadline(&s->c);
	if (s->ppp_started) {
		d = ppp_min_deadline(d, ppp_session_deadline(&s->ppp));
		uint64_t g = pptp_gre_deadline(&s->g);
		if (g < d) d = g;
	}
	s->next = d;
}

static void pns_tick(struct pns *s, uint64_t now)
{
	pptp_ctrl_tick(&s->c, now);
	if (s->ppp_started) {
		ppp_session_tick(&s->ppp, now);
		uint8_t b[64];
		size_t n = pptp_gre_tick(&s->g, b, sizeof b, now);
		if (n) gre_send_ip(s, b, n);
	}
	pns_service(s, now);
}

static void pns_io(struct pns *s, uint32_t events, uint64_t now)
{
	if (s->connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int err = 0;
		socklen_t el = sizeof err;
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		s->connecting = false;
		if (err) {
			pns_fail(s, 0, strerror(err));
			return;
		}
		pptp_pns_open(&s->c, now);
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		uint8_t b[2048];
		for (int k = 0; k < 8; k++) {
			ssize_t n = recv(s->fd, b, sizeof b, 0);
			if (n > 0) {
				pptp_ctrl_input(&s->c, b, (size_t)n, now);
				continue;
			}
			if (n == 0) pptp_ctrl_abort(&s->c, "the server closed the TCP connection");
			else if (errno != EAGAIN && errno != EWOULDBLOCK) pptp_ctrl_abort(&s->c, strerror(errno));
			break;
		}
	}
	pns_service(s, now);
}

static void pns_gre_read(uint64_t now)
{
	uint8_t b[4096];
	for (int k = 0; k < 256; k++) {
		ssize_t n = recv(P.gre_fd, b, sizeof b, 0);
		if (n < 20) break;
		size_t ihl = (size_t)(b[0] & 15) * 4;
		uint32_t src = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
		uint32_t dst = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
		if (src != P.server_addr || dst == P.server_addr || ihl < 20 || ihl > (size_t)n) continue;
		struct gre_msg m;
		struct diag_err err;
		if (gre_decode(b + ihl, (size_t)n - ihl, &m, &err) != 0 || m.version != 1) continue;
		unsigned ci = (uint16_t)(m.call_id - P.call_base);
		if (ci >= (unsigned)P.sessions) continue;
		struct pns *s = &P.p[ci];
		if (s->addr != dst) continue;
		/* the server's first LCP frame can overtake its OCRP, which travels over TCP:
		 * read the control connection first */
		if (!s->ppp_started && s->fd >= 0) pns_io(s, EPOLLIN, now);
		if (!s->ppp_started) continue;
		if (pptp_gre_input(&s->g, &m, now) != PPTP_GRE_DELIVER) continue;
		if (!pns_inspect(s, m.payload, m.payload_len))
			ppp_session_input(&s->ppp, m.payload, m.payload_len, now);
		pns_service(s, now);
	}
}

static void pns_pump(int ep, int wait_ms)
{
	struct epoll_event evs[256];
	int n = epoll_wait(ep, evs, 256, wait_ms);
	uint64_t now = now_ms();
	for (int i = 0; i < n; i++) {
		if (!evs[i].data.ptr) pns_gre_read(now);
		else pns_io(evs[i].data.ptr, evs[i].events, now);
	}
	static uint64_t last_scan;
	if (now != last_scan) {
		last_scan = now;
		for (int i = 0; i < P.sessions; i++)
			if (P.p[i].fd >= 0 && P.p[i].next <= now) pns_tick(&P.p[i], now);
	}
}

static int pptp_write_config(const char *path)
{
	int total = P.sessions;
	json_t *root = json_object(), *server = json_object();
	json_object_set_new(server, "name", json_string("BENCH"));
	json_object_set_new(server, "auth_methods", json_pack("[s]", "mschapv2"));
	json_object_set_new(server, "encryption", json_pack("[sss]", "basic", "strong", "strongest"));
	json_object_set_new(server, "ports", json_pack("{s:i,s:i}", "pptp", total + 16, "l2tp", 0));
	json_object_set_new(server, "address_assignment", json_string("pool"));
	uint32_t last = POOL_BASE + 1 + (uint32_t)total + 16;
	char end[20];
	json_object_set_new(server, "pool", json_pack("[{s:s,s:s}]", "start", "10.64.0.1", "end",
	                                              ipv4_str(last, end, sizeof end)));
	json_object_set_new(root, "server", server);
	json_object_set_new(root, "groups", json_pack("[{s:s}]", "name", "Bench"));
	json_object_set_new(root, "policies", json_pack(
		"[{s:s,s:[{s:s,s:[s]},{s:s,s:[s]}],s:s,s:{s:[s],s:[sss]}}]",
		"name", "bench clients",
		"conditions", "attribute", "Windows-Groups", "value", "Bench",
		"attribute", "Tunnel-Type", "value", "pptp",
		"permission", "grant",
		"profile", "auth_methods", "mschapv2", "encryption", "basic", "strong", "strongest"));
	json_t *users = json_array();
	for (int i = 0; i < total; i++) {
		char u[24], p[24];
		snprintf(u, sizeof u, "bench%05d", i);
		snprintf(p, sizeof p, "pw-%05d", i);
		json_array_append_new(users, json_pack("{s:s,s:s,s:[s],s:s}", "name", u, "password", p,
		                                       "groups", "Bench", "dialin", "policy"));
	}
	json_object_set_new(root, "users", users);
	json_object_set_new(root, "serve", json_pack(
		"{s:s,s:s,s:{s:i,s:i},s:{s:i,s:i,s:i}}",
		"host_name", "BENCH-PAC", "local_address", "10.64.0.1",
		"pptp", "connections", total + 16, "calls_per_connection", 1,
		"limits", "sessions", total + 16, "tunnels", 16, "new_tunnels_per_source", 0));
	int rc = json_dump_file(root, path, JSON_INDENT(1));
	json_decref(root);
	return rc;
}

static int pptp_server_start(void)
{
	int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) return -1;
	pid_t pid = fork();
	if (pid < 0) return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fd, 2);
		int dn = open("/dev/null", O_RDWR);
		if (dn >= 0) {
			dup2(dn, 0);
			dup2(dn, 1);
		}
		execl(O.vnet, "vnet", "serve", "--config", cfgpath, "--listen", "127.0.0.1:0",
		      "--pptp-listen", "127.0.0.1:0", "--control", ctlpath, (char *)NULL);
		_exit(127);
	}
	close(fd);
	server_pid = pid;
	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			server_pid = -1;
			note("the server exited before listening (log: %s)", logpath);
			return -1;
		}
		FILE *f = fopen(logpath, "r");
		char line[512];
		while (f && fgets(line, sizeof line, f)) {
			char *p = strstr(line, "PPTP control connections on ");
			unsigned a, b, c, d, port;
			if (p && sscanf(p, "PPTP control connections on %u.%u.%u.%u:%u", &a, &b, &c, &d,
			                &port) == 5) {
				fclose(f);
				P.server_addr = a << 24 | b << 16 | c << 8 | d;
				P.server_port = (uint16_t)port;
				return 0;
			}
		}
		if (f) fclose(f);
		usleep(20000);
	}
	note("no PPTP listener in the server's log within 10 s (log: %s)", logpath);
	return -1;
}

static int pptp_main(int argc, char **argv)
{
	bool sessions_given = false;
	P.method = PPP_AUTH_MSCHAPV2;
	P.mppe = MPPE_BIT_L | MPPE_BIT_M | MPPE_BIT_S;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--quiet")) {
			O.quiet = true;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "bench_serve --pptp: no value for %s\n", a);
			return 2;
		}
		const char *v = argv[++i];
		if (!strcmp(a, "--server")) P.server = v;
		else if (!strcmp(a, "--sessions")) {
			P.sessions = int_arg(v, 1, 60000, a);
			sessions_given = true;
		}
		else if (!strcmp(a, "--window")) P.window = int_arg(v, 1, 60000, a);
		else if (!strcmp(a, "--user")) P.user = v;
		else if (!strcmp(a, "--method")) {
			if (!strcmp(v, "pap")) P.method = PPP_AUTH_PAP;
			else if (!strcmp(v, "chap")) P.method = PPP_AUTH_CHAP_MD5;
			else if (!strcmp(v, "mschapv2")) P.method = PPP_AUTH_MSCHAPV2;
			else {
				fprintf(stderr, "bench_serve --pptp: --method is pap, chap or mschapv2, not %s\n", v);
				return 2;
			}
		} else if (!strcmp(a, "--mppe")) {
			if (!strcmp(v, "none")) P.mppe = 0;
			else if (!strcmp(v, "40")) P.mppe = MPPE_BIT_L;
			else if (!strcmp(v, "56")) P.mppe = MPPE_BIT_M;
			else if (!strcmp(v, "128")) P.mppe = MPPE_BIT_S;
			else if (!strcmp(v, "stateful-128")) {
				P.mppe = MPPE_BIT_S;
				P.stateful = true;
			} else {
				fprintf(stderr, "bench_serve --pptp: --mppe is none, 40, 56, 128 or "
				        "stateful-128, not %s\n", v);
				return 2;
			}
		}
		else if (!strcmp(a, "--password")) P.pass = v;
		else if (!strcmp(a, "--ping")) P.ping = int_arg(v, 0, 65535, a);
		else if (!strcmp(a, "--hold")) P.hold_ms = int_arg(v, 0, 3600000, a);
		else if (!strcmp(a, "--timeout")) P.timeout_s = int_arg(v, 1, 3600, a);
		else if (!strcmp(a, "--vnet")) O.vnet = v;
		else if (!strcmp(a, "--workdir")) O.workdir = v;
		else {
			fprintf(stderr, "bench_serve --pptp: unknown option \"%s\"\n", a);
			return 2;
		}
	}
	if (P.server && !sessions_given) P.sessions = 1;
	if (P.server && (!P.user || !P.pass)) {
		fprintf(stderr, "bench_serve --pptp: --server needs --user and --password\n");
		return 2;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	rng_state ^= (uint64_t)getpid() << 20 ^ (uint64_t)ts.tv_nsec;
	if (getenv("BENCH_TRACE")) trace_session = strtol(getenv("BENCH_TRACE"), NULL, 10);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	P.gre_fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_GRE);
	int one = 1;
	if (P.gre_fd < 0 || setsockopt(P.gre_fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) != 0) {
		fprintf(stderr, "bench_serve --pptp: raw GRE socket: %s (root is needed)\n", strerror(errno));
		return 77;
	}
	int rcvbuf = 8 << 20;
	setsockopt(P.gre_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	static char selfdir[PATH_MAX], vnetpath[PATH_MAX + 8], tmpl[] = "/tmp/bench-pptp.XXXXXX";
	bool own_dir = false;
	if (!P.server) {
		if (!O.vnet) {
			ssize_t n = readlink("/proc/self/exe", selfdir, sizeof selfdir - 1);
			if (n > 0) {
				selfdir[n] = 0;
				char *sl = strrchr(selfdir, '/');
				if (sl) *sl = 0;
				snprintf(vnetpath, sizeof vnetpath, "%s/vnet", selfdir);
				O.vnet = vnetpath;
			}
		}
		if (!O.vnet || access(O.vnet, X_OK) != 0) {
			fprintf(stderr, "bench_serve --pptp: no vnet binary (give --vnet PATH)\n");
			return 2;
		}
		if (!O.workdir) {
			O.workdir = mkdtemp(tmpl);
			own_dir = true;
		} else {
			mkdir(O.workdir, 0755);
		}
		if (!O.workdir) return 1;
		snprintf(cfgpath, sizeof cfgpath, "%s/vnet.json", O.workdir);
		snprintf(logpath, sizeof logpath, "%s/serve.log", O.workdir);
		snprintf(ctlpath, sizeof ctlpath, "%s/control.sock", O.workdir);
		if (pptp_write_config(cfgpath) != 0 || pptp_server_start() != 0) return 1;
	} else {
		unsigned a, b, c, d, port = PPTP_PORT;
		if (sscanf(P.server, "%u.%u.%u.%u:%u", &a, &b, &c, &d, &port) < 4) {
			fprintf(stderr, "bench_serve --pptp: --server ADDR:PORT\n");
			return 2;
		}
		P.server_addr = a << 24 | b << 16 | c << 8 | d;
		P.server_port = (uint16_t)port;
	}
	uint16_t base;
	rnd(NULL, (uint8_t *)&base, sizeof base);
	P.call_base = (uint16_t)(1 + base % (65535u - (unsigned)P.sessions));
	pptp_ctrl_conf_default(&P.conf, true);
	P.conf.host_name = "bench-pns";
	P.conf.max_calls = 1;
	P.p = calloc((size_t)P.sessions, sizeof *P.p);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event gev = {.events = EPOLLIN, .data.ptr = NULL};
	if (!P.p || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, P.gre_fd, &gev) != 0) return 1;
	for (int i = 0; i < P.sessions; i++) {
		struct pns *s = &P.p[i];
		s->idx = (unsigned)i;
		s->fd = -1;
		s->addr = pns_addr(s->idx);
		snprintf(s->user, sizeof s->user, "%s", P.user ? P.user : "");
		snprintf(s->pass, sizeof s->pass, "%s", P.pass ? P.pass : "");
		if (!P.user) {
			snprintf(s->user, sizeof s->user, "bench%05u", s->idx);
			snprintf(s->pass, sizeof s->pass, "pw-%05u", s->idx);
		}
		s->cbs = (struct pptp_ctrl_cbs){.ctx = s, .send = pns_ctrl_send, .event = pns_ctrl_event,
			.call_id = pns_call_id, .call_up = pns_call_up, .call_down = pns_call_down};
		ppp_session_conf_default(&s->conf, false);
		s->conf.auth_methods = PPP_AUTH_BIT(P.method);
		s->conf.auth_pref[0] = (uint8_t)P.method;
		s->conf.auth_pref[1] = PPP_AUTH_NONE;
		s->conf.auth.name = s->user;
		s->conf.auth.password = s->pass;
		s->conf.mppe_levels = P.mppe;
		s->conf.mppe_stateless = !P.stateful;
		s->conf.echo_interval_ms = 0;
		s->pcbs = (struct ppp_session_cbs){.ctx = s, .send = pns_ppp_send, .event = pns_ppp_event,
			.random = rnd, .finished = pns_ppp_finished};
		ppp_session_init(&s->ppp, &s->conf, &s->pcbs);
		ppp_ccp_set_mppe(&s->ppp, &s->mppe[0], &s->mppe[1]);
		s->next = UINT64_MAX;
	}
	long rss0 = server_pid > 0 ? rss_kb(server_pid) : -1;
	double cpu0 = server_pid > 0 ? cpu_s(server_pid) : -1;
	int next_open = 0;
	uint64_t deadline = now_ms() + (uint64_t)P.timeout_s * 1000;
	P.first_ms = now_ms();
	while (P.up + P.failed < (unsigned)P.sessions && now_ms() < deadline && !interrupted) {
		uint64_t now = now_ms();
		while (next_open < P.sessions && P.inflight < (unsigned)P.window) {
			struct pns *s = &P.p[next_open++];
			pptp_ctrl_init(&s->c, &P.conf, &s->cbs, now);
			P.inflight++;
			if (pns_open(s, ep) != 0) pns_fail(s, 0, strerror(errno));
		}
		pns_pump(ep, 1);
	}
	uint64_t setup_ms = P.last_up_ms > P.first_ms ? P.last_up_ms - P.first_ms : 1;
	long rss1 = server_pid > 0 ? rss_kb(server_pid) : -1;
	double cpu1 = server_pid > 0 ? cpu_s(server_pid) : -1;
	unsigned up = P.up;
	/* pings answered (bounded), then the hold */
	uint64_t until = now_ms() + 10000;
	for (bool done = false; !done && now_ms() < until && !interrupted;) {
		pns_pump(ep, 5);
		done = true;
		for (int i = 0; i < P.sessions && done; i++)
			if (P.p[i].state == SS_UP && P.p[i].ping_rx < (unsigned)P.ping) done = false;
	}
	until = now_ms() + (uint64_t)P.hold_ms;
	while (now_ms() < until && !interrupted) pns_pump(ep, 5);
	unsigned ping_tx = 0, ping_rx = 0, ping_bad = 0, still_up = 0;
	for (int i = 0; i < P.sessions; i++) {
		ping_tx += P.p[i].ping_tx;
		ping_rx += P.p[i].ping_rx;
		ping_bad += P.p[i].ping_bad;
		still_up += P.p[i].state == SS_UP;
	}
	/* clear every call and connection: CCRQ, then StopCCRQ */
	tearing_down = true;
	for (int i = 0; i < P.sessions; i++) {
		struct pns *s = &P.p[i];
		if (s->fd < 0 || pptp_ctrl_closed(&s->c)) continue;
		if (s->call_id) pptp_ctrl_call_close(&s->c, s->call_id, 0, 0, NULL, now_ms());
		pptp_ctrl_stop(&s->c, 1, "done", now_ms());
	}
	until = now_ms() + 3000;
	for (bool open = true; open && now_ms() < until;) {
		pns_pump(ep, 5);
		open = false;
		for (int i = 0; i < P.sessions && !open; i++)
			open = P.p[i].fd >= 0 && !pptp_ctrl_closed(&P.p[i].c);
	}
	for (int i = 0; i < P.sessions; i++)
		if (P.p[i].fd >= 0) close(P.p[i].fd);
	int server_rc = server_pid > 0 ? server_stop() : 0;
	char errs[256] = "", refused[256] = "";
	size_t el = 0, rl2 = 0;
	for (unsigned e = 0; e < 1000; e++)
		if (P.errors[e] && e)
			el += (size_t)snprintf(errs + el, el < sizeof errs ? sizeof errs - el : 0, "%s%u:%u",
			                       el ? "," : "", e, P.errors[e]);
	for (unsigned r = 0; r < 8; r++)
		for (unsigned e = 0; e < 8; e++)
			if (P.refused[r][e])
				rl2 += (size_t)snprintf(refused + rl2, rl2 < sizeof refused ? sizeof refused - rl2 : 0,
				                        "%sOCRP-%u-%u:%u", rl2 ? "," : "", r, e, P.refused[r][e]);
	double rate = up * 1000.0 / (double)setup_ms;
	if (server_pid == -1 && rss0 >= 0) {
		printf("pptp set-up: %u sessions in %.2f s: %.0f set-ups/s (goal >= 2000)\n", up,
		       setup_ms / 1000.0, rate);
		printf("server memory: %.2f KiB per session (goal <= 6 KiB)\n",
		       up ? (double)(rss1 - rss0) / up : 0.0);
		printf("server CPU: %.2f ms per set-up (%.2f s for %u): %.0f set-ups per CPU second "
		       "(goal >= 2000)\n", up ? (cpu1 - cpu0) * 1000.0 / up : 0.0, cpu1 - cpu0, up,
		       cpu1 > cpu0 ? up / (cpu1 - cpu0) : 0.0);
	}
	printf("result: sessions=%d up=%u failed=%u still_up=%u setup_ms=%" PRIu64 " rate=%.0f "
	       "pings=%u/%u ping_bad=%u errors=%s refused=%s rss_kib_per_session=%.2f "
	       "server_cpu_ms_per_setup=%.2f server_exit=%d\n", P.sessions, up, P.failed, still_up,
	       setup_ms, rate, ping_rx, ping_tx, ping_bad, errs[0] ? errs : "none",
	       refused[0] ? refused : "none", up && rss0 >= 0 ? (double)(rss1 - rss0) / up : 0.0,
	       up && cpu0 >= 0 ? (cpu1 - cpu0) * 1000.0 / up : 0.0, server_rc);
	if (own_dir && O.workdir) rm_workdir(O.workdir);
	return up == (unsigned)P.sessions && still_up == up && ping_rx == ping_tx &&
	       ping_rx == up * (unsigned)P.ping && server_rc == 0 ? 0 : 1;
}

/* ---- IKEv2 mode (--ikev2): an IKEv2 initiator per client ------------------------------
 *
 *   bench_serve --ikev2 [--tunnels N] [--window W] [--ike LIST] [--esp LIST] [--psk S]
 *                [--ike-port P] [--natt-port Q] [--ike-only] [--ping N] [--hold MS]
 *                [--cookies] [--timeout SEC] [--vnet PATH] [--workdir DIR] [--quiet]
 *                [--client-psk S] [--password P]
 *
 * Each client is one IKE SA by the engine's initiator (engine/ike/ikev2_init.h) from its
 * own loopback address (127.3.x.y): IKE_SA_INIT with the first --ike proposal's group
 * (aes256-sha256-ecp256 by default), IKE_AUTH with EAP-MSCHAPv2 as bench00000 /
 * pw-00000 ..., the server proving itself with the pre-shared key --psk (serve.ikev2.auth
 * psk: an RSA signature per set-up would dominate the rate), an address from the pool in
 * the configuration payload and one tunnel child, NAT forced so that ESP goes in UDP to
 * --natt-port (no root). At most W clients are in set-up at once. It writes the
 * configuration, starts `vnet serve` with serve.ikev2 on 127.0.0.1 and reports IKE_SA_INIT
 * + IKE_AUTH set-ups per second of wall time and per second of the server's CPU (user +
 * system, from /proc, between the first IKE_SA_INIT and the last SA up). --ping N: each
 * client then sends N ICMP echoes to the server's address (serve.local_address) in its
 * child's ESP, one at a time, and checks the replies; --ike-only: no pings (the SA is the
 * whole client). --cookies: serve.ikev2.limits.cookie_threshold 0, every IKE_SA_INIT
 * answered with a COOKIE demand first. --client-psk: the key the clients expect of the
 * server instead of --psk; --password: every client's password instead of its own (both
 * for the tests of failures).
 *
 * Prints "client N up addr=A" for the first clients, a failure line for the first five,
 * the server's resident memory per SA up (what its RSS grew by from before the first
 * client to the moment all were up, over the SAs up: IKE SA, session and ESP together),
 * and a last line "result-ikev2: tunnels=... up=... failed=... rate=... cpu_rate=...
 * init_messages=... causes=... rss_kib_per_sa=..." (init_messages: IKE_SA_INIT requests,
 * the retries after a COOKIE demand or INVALID_KE_PAYLOAD included). Exit 0 when every client came up and every ping was answered, 1 otherwise,
 * 2 on usage errors. */
#include "ike/ikev2_init.h"

struct v2c {
	unsigned idx;
	int fd;
	uint8_t state;              /* enum sess_state */
	struct ikev2_addr local;
	struct ikev2i *sa;
	struct ikev2_cbs cbs;
	struct esp_pair esp;
	bool esp_up;
	uint8_t vip[4];
	unsigned ping_tx, ping_rx, ping_bad;
	uint64_t next;
	char user[24], pass[24];
	struct ikev2i_conf conf;    /* the user and password differ per client */
};

static struct {
	const char *ike, *esp, *psk, *client_psk, *password;
	int tunnels, window, ping, hold_ms, timeout_s, ike_port, natt_port;
	bool ike_only, cookies;
	struct ikev2i_conf conf;
	struct v2c *c;
	struct sockaddr_in srv_ike, srv_natt;
	unsigned up, failed, inflight, printed, esp_bad;
	uint64_t first_ms, last_up_ms;
	char causes[8][48];
	unsigned cause_n[8];
} V = {.tunnels = 1000, .window = 64, .timeout_s = 120, .ike_port = 15500, .natt_port = 14500};

#define V2_SERVER_IP "10.64.0.1"

static void v2_done(struct v2c *c, bool up)
{
	if (c->state != SS_CALLING) return;
	c->state = up ? SS_UP : SS_FAILED;
	V.inflight--;
	if (up) {
		V.up++;
		V.last_up_ms = now_ms();
		return;
	}
	V.failed++;
	const char *cause = c->sa ? ikev2i_cause(c->sa) : "no memory";
	if (!cause[0]) cause = "no child SA";
	for (int i = 0; i < 8; i++) {
		if (!V.causes[i][0]) snprintf(V.causes[i], sizeof V.causes[i], "%s", cause);
		if (!strcmp(V.causes[i], cause)) {
			V.cause_n[i]++;
			break;
		}
	}
}

static void v2_send(void *ctx, const uint8_t *buf, size_t len, bool natt)
{
	struct v2c *c = ctx;
	uint8_t b[IKEV2_DATAGRAM_MAX + 4];
	if (len > IKEV2_DATAGRAM_MAX) return;
	if (natt) { /* the non-ESP marker */
		memset(b, 0, 4);
		memcpy(b + 4, buf, len);
		if (sendto(c->fd, b, len + 4, 0, (struct sockaddr *)&V.srv_natt, sizeof V.srv_natt) < 0)
			send_errors++;
	} else if (sendto(c->fd, buf, len, 0, (struct sockaddr *)&V.srv_ike, sizeof V.srv_ike) < 0) {
		send_errors++;
	}
}

static void v2_event(void *ctx, enum ikev2_ev kind, const char *text)
{
	struct v2c *c = ctx;
	if (kind == IKEV2_EV_FAIL && V.printed++ < 5) note("client %u: %s", c->idx, text);
	if ((long)c->idx == trace_session)
		fprintf(stderr, "%8.3f client %u %s: %s\n", now_ms() / 1000.0, c->idx,
		        tok_name(ikev2_ev_names, kind), text);
}

/* An ICMP echo request from the client's address to the server's, in the child's ESP
 * (tunnel mode: the IPv4 packet is the payload, next header 4). */
static void v2_ping(struct v2c *c)
{
	uint8_t ip[20 + 8 + 32], pkt[256], iv[16];
	memset(ip, 0, sizeof ip);
	unsigned seq = c->ping_tx++;
	ip[0] = 0x45;
	ip[3] = sizeof ip;
	ip[4] = (uint8_t)(seq >> 8);
	ip[5] = (uint8_t)seq;
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, c->vip, 4);
	inet_pton(AF_INET, V2_SERVER_IP, ip + 16);
	uint16_t k = inet_cksum(ip, 20, 0);
	ip[10] = (uint8_t)(k >> 8);
	ip[11] = (uint8_t)k;
	uint8_t *ic = ip + 20;
	ic[0] = 8;
	ic[4] = (uint8_t)(c->idx >> 8);
	ic[5] = (uint8_t)c->idx;
	ic[6] = (uint8_t)(seq >> 8);
	ic[7] = (uint8_t)seq;
	for (int i = 0; i < 32; i++) ic[8 + i] = (uint8_t)(i + c->idx);
	k = inet_cksum(ic, 8 + 32, 0);
	ic[2] = (uint8_t)(k >> 8);
	ic[3] = (uint8_t)k;
	rnd(NULL, iv, esp_sa_ivlen(&c->esp.out));
	size_t n = esp_pair_seal(&c->esp, iv, ip, sizeof ip, 4, pkt, sizeof pkt, NULL);
	if (!n || sendto(c->fd, pkt, n, 0, (struct sockaddr *)&V.srv_natt, sizeof V.srv_natt) < 0)
		send_errors++;
}

/* ESP from the server's NAT-T port: the echo reply to our last request, or bad. */
static void v2_esp_in(struct v2c *c, const uint8_t *pkt, size_t len)
{
	uint8_t ip[2048], nh = 0;
	size_t n = 0;
	struct diag_err err;
	if (!c->esp_up || esp_pair_open(&c->esp, pkt, len, ip, sizeof ip, &n, &nh, &err) < 0 ||
	    nh != 4 || n < 28 || ip[0] != 0x45 || ip[9] != 1 || inet_cksum(ip, 20, 0) != 0) {
		V.esp_bad++;
		c->ping_bad++;
		return;
	}
	uint8_t srvip[4];
	inet_pton(AF_INET, V2_SERVER_IP, srvip);
	const uint8_t *ic = ip + 20;
	unsigned id = (unsigned)ic[4] << 8 | ic[5], sq = (unsigned)ic[6] << 8 | ic[7];
	if (ic[0] != 0 || inet_cksum(ic, n - 20, 0) != 0 || memcmp(ip + 12, srvip, 4) ||
	    memcmp(ip + 16, c->vip, 4) || id != (c->idx & 0xffff) || sq != ((c->ping_tx - 1) & 0xffff)) {
		c->ping_bad++;
		return;
	}
	c->ping_rx++;
	if (c->ping_tx < (unsigned)V.ping) v2_ping(c);
}

static void v2_child_up(void *ctx, const struct ikev2_child *ch)
{
	struct v2c *c = ctx;
	if (!ch->udp_encap || esp_pair_init(&c->esp, &ch->in, &ch->out, true) != 0) {
		note("client %u: child SA without UDP encapsulation or no memory", c->idx);
		return;
	}
	c->esp_up = true;
	memcpy(c->vip, ch->vip, 4);
}

static void v2_service(struct v2c *c, uint64_t now)
{
	if (c->state == SS_CALLING && ikev2i_state(c->sa) == IKEV2I_DEAD)
		v2_done(c, false);
	else if (c->state == SS_CALLING && ikev2i_state(c->sa) == IKEV2I_ESTABLISHED) {
		v2_done(c, c->esp_up);
		if (c->esp_up && V.up <= 3 && !O.quiet)
			printf("client %u up addr=%u.%u.%u.%u\n", c->idx, c->vip[0], c->vip[1], c->vip[2],
			       c->vip[3]);
		if (c->esp_up && V.ping) v2_ping(c);
	}
	(void)now;
	c->next = c->sa ? ikev2i_deadline(c->sa) : UINT64_MAX;
}

static void v2_read(struct v2c *c, uint64_t now)
{
	uint8_t buf[IKEV2_DATAGRAM_MAX + 64];
	for (int k = 0; k < 16; k++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(c->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
		if (n < 0) break;
		if (!c->sa || from.sin_addr.s_addr != V.srv_ike.sin_addr.s_addr) continue;
		if (from.sin_port == V.srv_ike.sin_port) {
			ikev2i_input(c->sa, buf, (size_t)n, false, now);
		} else if (from.sin_port == V.srv_natt.sin_port) {
			switch (natt_classify(buf, (size_t)n)) {
			case NATT_IKE: ikev2i_input(c->sa, buf + 4, (size_t)n - 4, true, now); break;
			case NATT_ESP: v2_esp_in(c, buf, (size_t)n); break;
			default: break;
			}
		}
	}
	v2_service(c, now);
}

static void v2_pump(int ep, int wait_ms)
{
	struct epoll_event evs[256];
	int n = epoll_wait(ep, evs, 256, wait_ms);
	uint64_t now = now_ms();
	for (int i = 0; i < n; i++) v2_read(evs[i].data.ptr, now);
	static uint64_t last_scan;
	if (now != last_scan) {
		last_scan = now;
		for (int i = 0; i < V.tunnels; i++) {
			struct v2c *c = &V.c[i];
			if (c->sa && c->next <= now) {
				ikev2i_tick(c->sa, now);
				v2_service(c, now);
			}
		}
	}
}

static int v2_write_config(const char *path)
{
	int total = V.tunnels;
	json_t *root = json_object(), *server = json_object();
	json_object_set_new(server, "name", json_string("BENCH"));
	json_object_set_new(server, "auth_methods", json_pack("[ss]", "eap", "mschapv2"));
	json_object_set_new(server, "eap_types", json_pack("[s]", "mschapv2"));
	json_object_set_new(server, "ports", json_pack("{s:i,s:i,s:i}", "ikev2", total + 16, "l2tp",
	                                               0, "pptp", 0));
	json_object_set_new(server, "address_assignment", json_string("pool"));
	uint32_t last = POOL_BASE + 1 + (uint32_t)total + 16;
	char end[20];
	json_object_set_new(server, "pool", json_pack("[{s:s,s:s}]", "start", V2_SERVER_IP, "end",
	                                              ipv4_str(last, end, sizeof end)));
	json_object_set_new(root, "server", server);
	json_object_set_new(root, "groups", json_pack("[{s:s}]", "name", "Bench"));
	json_object_set_new(root, "policies", json_pack(
		"[{s:s,s:[{s:s,s:[s]}],s:s,s:{s:[s],s:[s]}}]",
		"name", "bench clients",
		"conditions", "attribute", "Windows-Groups", "value", "Bench",
		"permission", "grant",
		"profile", "auth_methods", "eap", "eap_types", "mschapv2"));
	json_t *users = json_array();
	for (int i = 0; i < total; i++) {
		char u[24], p[24];
		snprintf(u, sizeof u, "bench%05d", i);
		snprintf(p, sizeof p, "pw-%05d", i);
		json_array_append_new(users, json_pack("{s:s,s:s,s:[s]}", "name", u, "password", p,
		                                       "groups", "Bench"));
	}
	json_object_set_new(root, "users", users);
	json_t *ik = json_pack("{s:s,s:s,s:s,s:i,s:i,s:{s:i,s:i,s:i}}", "auth", "psk", "psk", V.psk,
	                       "listen", "127.0.0.1", "ike_port", V.ike_port, "natt_port", V.natt_port,
	                       "limits", "sas", total + 16, "half_open", V.window * 2 + 16,
	                       "cookie_threshold", V.cookies ? 0 : V.window * 2 + 16);
	if (V.ike) json_object_set_new(ik, "ike", json_string(V.ike));
	if (V.esp) json_object_set_new(ik, "esp", json_string(V.esp));
	json_object_set_new(root, "serve", json_pack(
		"{s:s,s:s,s:o,s:{s:i,s:i,s:i}}", "host_name", "BENCH-IKEV2", "local_address",
		V2_SERVER_IP, "ikev2", ik, "limits", "sessions", total + 16, "tunnels", 16,
		"new_tunnels_per_source", 0));
	int rc = json_dump_file(root, path, JSON_INDENT(1));
	json_decref(root);
	return rc;
}

static int v2_server_start(void)
{
	int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) return -1;
	pid_t pid = fork();
	if (pid < 0) return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fd, 2);
		int dn = open("/dev/null", O_RDWR);
		if (dn >= 0) {
			dup2(dn, 0);
			dup2(dn, 1);
		}
		execl(O.vnet, "vnet", "serve", "--config", cfgpath, "--listen", "127.0.0.1:0",
		      "--control", ctlpath, (char *)NULL);
		_exit(127);
	}
	close(fd);
	server_pid = pid;
	for (int i = 0; i < 500; i++) { /* 10 s */
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			server_pid = -1;
			note("the server exited before listening (log: %s)", logpath);
			return -1;
		}
		FILE *f = fopen(logpath, "r");
		char line[512];
		bool ready = false;
		while (f && fgets(line, sizeof line, f))
			if (strstr(line, "IKEv2: on ")) ready = true;
		if (f) fclose(f);
		if (ready) return 0;
		usleep(20000);
	}
	note("no \"IKEv2: on\" line in the server's log within 10 s (log: %s)", logpath);
	return -1;
}

static int ikev2_main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--quiet")) {
			O.quiet = true;
			continue;
		} else if (!strcmp(a, "--ike-only")) {
			V.ike_only = true;
			continue;
		} else if (!strcmp(a, "--cookies")) {
			V.cookies = true;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "bench_serve --ikev2: no value for %s\n", a);
			return 2;
		}
		const char *v = argv[++i];
		if (!strcmp(a, "--tunnels")) V.tunnels = int_arg(v, 1, 60000, a);
		else if (!strcmp(a, "--window")) V.window = int_arg(v, 1, 60000, a);
		else if (!strcmp(a, "--ike")) V.ike = v;
		else if (!strcmp(a, "--esp")) V.esp = v;
		else if (!strcmp(a, "--psk")) V.psk = v;
		else if (!strcmp(a, "--client-psk")) V.client_psk = v;
		else if (!strcmp(a, "--password")) V.password = v;
		else if (!strcmp(a, "--ike-port")) V.ike_port = int_arg(v, 1, 65535, a);
		else if (!strcmp(a, "--natt-port")) V.natt_port = int_arg(v, 1, 65535, a);
		else if (!strcmp(a, "--ping")) V.ping = int_arg(v, 0, 65535, a);
		else if (!strcmp(a, "--hold")) V.hold_ms = int_arg(v, 0, 3600000, a);
		else if (!strcmp(a, "--timeout")) V.timeout_s = int_arg(v, 1, 3600, a);
		else if (!strcmp(a, "--vnet")) O.vnet = v;
		else if (!strcmp(a, "--workdir")) {
			O.workdir = v;
			O.keep_workdir = true;
		} else {
			fprintf(stderr, "bench_serve --ikev2: unknown option \"%s\"\n", a);
			return 2;
		}
	}
	if (V.ike_port == V.natt_port) {
		fprintf(stderr, "bench_serve --ikev2: --ike-port and --natt-port must differ\n");
		return 2;
	}
	if (V.ike_only) V.ping = 0;
	if (!V.psk) V.psk = "bench-psk";
	ikev2i_conf_default(&V.conf);
	char why[200];
	if (V.ike && ikev2i_conf_parse_ike(&V.conf, V.ike, why, sizeof why) < 0) {
		fprintf(stderr, "bench_serve --ikev2: --ike: %s\n", why);
		return 2;
	}
	if (V.esp && ikev2i_conf_parse_esp(&V.conf, V.esp, why, sizeof why) < 0) {
		fprintf(stderr, "bench_serve --ikev2: --esp: %s\n", why);
		return 2;
	}
	V.conf.psk = (const uint8_t *)(V.client_psk ? V.client_psk : V.psk);
	V.conf.psk_len = strlen((const char *)V.conf.psk);
	V.conf.force_encap = true; /* ESP in UDP to the NAT-T port: no raw socket */
	V.conf.natt_port = (uint16_t)V.natt_port;
	V.conf.retransmit_ms = 2000;
	V.conf.negotiation_ms = (uint32_t)V.timeout_s * 1000;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	rng_state ^= (uint64_t)getpid() << 20 ^ (uint64_t)ts.tv_nsec;
	if (getenv("BENCH_TRACE")) trace_session = strtol(getenv("BENCH_TRACE"), NULL, 10);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rlim_t want = (rlim_t)V.tunnels + 64;
		if (rl.rlim_cur < want) {
			rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur < want) {
			fprintf(stderr, "bench_serve --ikev2: %llu file descriptors needed, %llu allowed\n",
			        (unsigned long long)want, (unsigned long long)rl.rlim_cur);
			return 2;
		}
	}
	static char selfdir[PATH_MAX], vnetpath[PATH_MAX + 8], tmpl[] = "/tmp/bench-ikev2.XXXXXX";
	if (!O.vnet) {
		ssize_t n = readlink("/proc/self/exe", selfdir, sizeof selfdir - 1);
		if (n > 0) {
			selfdir[n] = 0;
			char *sl = strrchr(selfdir, '/');
			if (sl) *sl = 0;
			snprintf(vnetpath, sizeof vnetpath, "%s/vnet", selfdir);
			O.vnet = vnetpath;
		}
	}
	if (!O.vnet || access(O.vnet, X_OK) != 0) {
		fprintf(stderr, "bench_serve --ikev2: no vnet binary (give --vnet PATH)\n");
		return 2;
	}
	if (!O.workdir) O.workdir = mkdtemp(tmpl);
	else mkdir(O.workdir, 0755);
	if (!O.workdir) return 1;
	snprintf(cfgpath, sizeof cfgpath, "%s/vnet.json", O.workdir);
	snprintf(logpath, sizeof logpath, "%s/serve.log", O.workdir);
	snprintf(ctlpath, sizeof ctlpath, "%s/control.sock", O.workdir);
	int rc = 1, ep = epoll_create1(EPOLL_CLOEXEC);
	V.c = calloc((size_t)V.tunnels, sizeof *V.c);
	if (ep < 0 || !V.c || v2_write_config(cfgpath) != 0 || v2_server_start() != 0) goto out;
	V.srv_ike.sin_family = AF_INET;
	V.srv_ike.sin_addr.s_addr = htonl(0x7f000001u);
	V.srv_natt = V.srv_ike;
	V.srv_ike.sin_port = htons((uint16_t)V.ike_port);
	V.srv_natt.sin_port = htons((uint16_t)V.natt_port);
	for (int i = 0; i < V.tunnels; i++) {
		struct v2c *c = &V.c[i];
		c->idx = (unsigned)i;
		c->fd = udp_socket(0x7f030000u + (unsigned)(i / 250) * 256 + (unsigned)(i % 250) + 1, 0);
		struct sockaddr_in a;
		socklen_t al = sizeof a;
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
		if (c->fd < 0 || getsockname(c->fd, (struct sockaddr *)&a, &al) != 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e) != 0) {
			fprintf(stderr, "bench_serve --ikev2: client socket %d: %s\n", i, strerror(errno));
			goto out;
		}
		c->local.family = 4;
		memcpy(c->local.ip, &a.sin_addr, 4);
		c->local.port = ntohs(a.sin_port);
		snprintf(c->user, sizeof c->user, "bench%05u", c->idx);
		snprintf(c->pass, sizeof c->pass, "%s", V.password ? V.password : "");
		if (!V.password) snprintf(c->pass, sizeof c->pass, "pw-%05u", c->idx);
		c->conf = V.conf;
		c->conf.user = c->user;
		c->conf.password = c->pass;
		c->cbs = (struct ikev2_cbs){.ctx = c, .send = v2_send, .event = v2_event, .random = rnd,
		                            .child_up = v2_child_up};
		c->next = UINT64_MAX;
	}
	double cpu0 = cpu_s(server_pid), gen0 = self_cpu_s();
	long rss0 = server_pid > 0 ? rss_kb(server_pid) : -1;
	int next_open = 0;
	uint64_t deadline = now_ms() + (uint64_t)V.timeout_s * 1000;
	V.first_ms = now_ms();
	while (V.up + V.failed < (unsigned)V.tunnels && now_ms() < deadline && !interrupted) {
		uint64_t now = now_ms();
		while (next_open < V.tunnels && V.inflight < (unsigned)V.window) {
			struct v2c *c = &V.c[next_open++];
			struct ikev2_addr peer = {.family = 4, .ip = {127, 0, 0, 1},
			                          .port = (uint16_t)V.ike_port};
			c->state = SS_CALLING;
			V.inflight++;
			c->sa = ikev2i_new(&c->conf, &c->cbs, &c->local, &peer);
			if (!c->sa) {
				v2_done(c, false);
				continue;
			}
			ikev2i_start(c->sa, now);
			v2_service(c, now);
		}
		v2_pump(ep, 1);
	}
	uint64_t setup_ms = V.last_up_ms > V.first_ms ? V.last_up_ms - V.first_ms : 1;
	double cpu1 = cpu_s(server_pid), gen1 = self_cpu_s();
	double cpu = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
	unsigned up = V.up;
	/* the server's resident memory the SAs up now added (with their sessions and ESP) */
	long rss1 = server_pid > 0 ? rss_kb(server_pid) : -1;
	double kib_per_sa = up && rss0 >= 0 && rss1 >= 0 ? (double)(rss1 - rss0) / up : 0.0;
	/* the pings answered (bounded), then the hold */
	uint64_t until = now_ms() + 10000;
	for (bool done = false; V.ping && !done && now_ms() < until && !interrupted;) {
		v2_pump(ep, 5);
		done = true;
		for (int i = 0; i < V.tunnels && done; i++)
			if (V.c[i].state == SS_UP && V.c[i].ping_rx < (unsigned)V.ping) done = false;
	}
	until = now_ms() + (uint64_t)V.hold_ms;
	while (now_ms() < until && !interrupted) v2_pump(ep, 5);
	unsigned ping_tx = 0, ping_rx = 0, ping_bad = 0, still_up = 0, inits = 0;
	for (int i = 0; i < V.tunnels; i++) {
		inits += V.c[i].sa ? ikev2i_init_tries(V.c[i].sa) : 0;
		ping_tx += V.c[i].ping_tx;
		ping_rx += V.c[i].ping_rx;
		ping_bad += V.c[i].ping_bad;
		still_up += V.c[i].sa && ikev2i_state(V.c[i].sa) == IKEV2I_ESTABLISHED;
	}
	for (int i = 0; i < V.tunnels; i++)
		if (V.c[i].sa) ikev2i_delete(V.c[i].sa, "load test over", now_ms());
	until = now_ms() + 200;
	while (now_ms() < until) v2_pump(ep, 5);
	int server_rc = server_stop();
	char causes[256] = "";
	size_t cl = 0;
	for (int i = 0; i < 8 && V.causes[i][0]; i++)
		cl += (size_t)snprintf(causes + cl, cl < sizeof causes ? sizeof causes - cl : 0, "%s%s:%u",
		                       cl ? "," : "", V.causes[i], V.cause_n[i]);
	double rate = up * 1000.0 / (double)setup_ms;
	printf("ikev2: %u of %d clients up in %.2f s (IKE_SA_INIT + IKE_AUTH with EAP-MSCHAPv2, "
	       "server by pre-shared key): %.0f set-ups/s; %.2f s of server CPU: %.0f set-ups per "
	       "CPU second; %.2f s of the load generator's CPU\n", up, V.tunnels, setup_ms / 1000.0,
	       rate, cpu, cpu > 0 ? up / cpu : 0.0, gen1 - gen0);
	if (rss0 >= 0 && rss1 >= 0)
		printf("server memory: %.2f KiB per SA up (resident, %ld KiB before the clients, %ld "
		       "KiB with them up)\n", kib_per_sa, rss0, rss1);
	if (V.ping)
		printf("data: %u ICMP echo requests to %s in ESP, %u replies, %u wrong\n", ping_tx,
		       V2_SERVER_IP, ping_rx, ping_bad);
	printf("result-ikev2: tunnels=%d up=%u failed=%u still_up=%u setup_ms=%" PRIu64 " rate=%.0f "
	       "cpu_ms=%.0f cpu_rate=%.0f init_messages=%u pings=%u/%u ping_bad=%u esp_bad=%u "
	       "send_errors=%u causes=%s server_exit=%d rss_kib_per_sa=%.2f\n", V.tunnels, up,
	       V.failed, still_up, setup_ms, rate, cpu * 1000.0, cpu > 0 ? up / cpu : 0.0, inits,
	       ping_rx, ping_tx, ping_bad, V.esp_bad, send_errors, causes[0] ? causes : "none",
	       server_rc, kib_per_sa);
	rc = up == (unsigned)V.tunnels && still_up == up && ping_bad == 0 &&
	     ping_rx == up * (unsigned)V.ping && server_rc == 0 ? 0 : 1;
	if (server_rc != 0) note("server exit status %d (log: %s)", server_rc, logpath);
out:
	if (server_pid > 0) server_stop();
	for (int i = 0; V.c && i < V.tunnels; i++) {
		ikev2i_free(V.c[i].sa);
		if (V.c[i].esp_up) esp_pair_free(&V.c[i].esp);
		if (V.c[i].fd > 0) close(V.c[i].fd);
	}
	free(V.c);
	if (ep >= 0) close(ep);
	if (!O.keep_workdir && O.workdir) rm_workdir(O.workdir);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--pptp") == 0) return pptp_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "--ikev2") == 0) return ikev2_main(argc - 1, argv + 1);
	parse_args(argc, argv);
	ipsec_setup();
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	rng_state ^= (uint64_t)getpid() << 20 ^ (uint64_t)ts.tv_nsec;
	static char selfdir[PATH_MAX], vnetpath[PATH_MAX + 8], tmpl[] = "/tmp/bench-serve.XXXXXX";
	if (!O.vnet && !O.builtin) {
		ssize_t n = readlink("/proc/self/exe", selfdir, sizeof selfdir - 1);
		if (n > 0) {
			selfdir[n] = 0;
			char *sl = strrchr(selfdir, '/');
			if (sl) *sl = 0;
			snprintf(vnetpath, sizeof vnetpath, "%s/vnet", selfdir);
			O.vnet = vnetpath;
		}
	}
	if (!O.builtin && (!O.vnet || access(O.vnet, X_OK) != 0)) {
		fprintf(stderr, "bench_serve: no vnet binary (give --vnet PATH)\n");
		return 2;
	}
	if (!O.workdir) {
		O.workdir = mkdtemp(tmpl);
		if (!O.workdir) {
			perror("bench_serve: mkdtemp");
			return 1;
		}
	} else {
		mkdir(O.workdir, 0755);
	}
	snprintf(cfgpath, sizeof cfgpath, "%s/vnet.json", O.workdir);
	snprintf(logpath, sizeof logpath, "%s/serve.log", O.workdir);
	snprintf(ctlpath, sizeof ctlpath, "%s/control.sock", O.workdir);
	if (getenv("BENCH_TRACE"))
		trace_session = strcmp(getenv("BENCH_TRACE"), "all") == 0
		                        ? -2 : strtol(getenv("BENCH_TRACE"), NULL, 10);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* one socket per tunnel, plus the storm's */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rlim_t want = (rlim_t)O.tunnels + (rlim_t)O.storm_ports + 64;
		if (rl.rlim_cur < want) {
			rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur < want) {
			fprintf(stderr, "bench_serve: %llu file descriptors needed, %llu allowed\n",
			        (unsigned long long)want, (unsigned long long)rl.rlim_cur);
			return 2;
		}
	}
	int total = O.tunnels * O.sessions;
	if (write_config(cfgpath) != 0) {
		fprintf(stderr, "bench_serve: cannot write %s\n", cfgpath);
		return 1;
	}
	l2tp_ctrl_conf_default(&lac_conf, true);
	lac_conf.host_name = "bench-lac";
	lac_conf.hold_ms = 1000;
	if (O.secret) {
		lac_conf.secret = (const uint8_t *)O.secret;
		lac_conf.secret_len = strlen(O.secret);
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	tuns = calloc((size_t)O.tunnels, sizeof *tuns);
	struct sess *sess = calloc((size_t)total, sizeof *sess);
	if (ep < 0 || !tuns || !sess) {
		fprintf(stderr, "bench_serve: out of memory\n");
		return 1;
	}
	int rc = 0;
	if (server_start() != 0 || (I.on && ipsec_start() != 0)) {
		rc = 1;
		goto out;
	}
	for (int i = 0; i < O.tunnels; i++) {
		tuns[i].s = &sess[i * O.sessions];
		if (tun_init(&tuns[i], (unsigned)i, ep) != 0) {
			fprintf(stderr, "bench_serve: tunnel socket %d: %s\n", i, strerror(errno));
			rc = 1;
			goto out;
		}
	}
	long rss0 = rss_kb(server_pid);
	double cpu0 = cpu_s(server_pid), gen0 = self_cpu_s();
	pid_t ike_pid = I.gw_pid > 0 ? I.gw_pid : server_pid; /* the process doing IKE */
	double ike_cpu0 = I.on ? cpu_s(ike_pid) : 0;
	note("%s pid %d on 127.0.0.1:%u, RSS %ld kB; %d tunnels x %d sessions, window %d",
	     O.builtin ? "builtin LNS" : O.vnet, (int)server_pid, ntohs(srv.sin_port), rss0,
	     O.tunnels, O.sessions, O.window);

	/* set-up: at most `window` tunnels with sessions still coming up */
	int next_open = 0;
	uint64_t deadline = now_ms() + (uint64_t)O.timeout_s * 1000;
	first_sccrq_ms = now_ms();
	while (n_up + n_failed + n_dropped < (unsigned)total && now_ms() < deadline && !interrupted) {
		uint64_t now = now_ms();
		while (next_open < O.tunnels && n_inflight_tunnels < (unsigned)O.window) {
			struct tun *t = &tuns[next_open++];
			t->opened = true;
			n_inflight_tunnels++;
			tun_open(t, now);
			tun_service(t, now);
		}
		pump(ep, 1);
	}
	uint64_t setup_ms = (last_up_ms > first_sccrq_ms ? last_up_ms - first_sccrq_ms : 1);
	long rss1 = rss_kb(server_pid);
	double cpu1 = cpu_s(server_pid), gen1 = self_cpu_s();
	/* IKE: Main Mode + Quick Mode (--mm-only: Main Mode) completed per second, from the
	 * first MM1 to the last child SA (IKE SA), and per CPU second of the process that
	 * answered them */
	double ike_cpu1 = I.on ? cpu_s(ike_pid) : 0;
	unsigned ike_done = I.mm_only ? I.ike_up : I.child_up;
	uint64_t ike_ms = I.last_child_ms > I.first_ms ? I.last_child_ms - I.first_ms : 1;
	double ike_rate = ike_done * 1000.0 / (double)ike_ms;
	double ike_cpu = ike_cpu0 >= 0 && ike_cpu1 >= 0 ? ike_cpu1 - ike_cpu0 : -1;
	double ike_cpu_rate = ike_cpu > 0 ? ike_done / ike_cpu : 0;
	unsigned up_after_setup = n_up;
	double rate = n_up * 1000.0 / (double)setup_ms;
	/* the server's CPU time for the set-ups: what one core of its own would do per
	 * second, whatever else the machine runs (the load generator shares it) */
	double cpu_setup = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
	double cpu_rate = cpu_setup > 0 ? n_up / cpu_setup : 0;
	double kib = n_up ? (double)(rss1 - rss0) / n_up : 0;
	/* the second half alone: memory the server freed after reading its configuration
	 * (the JSON of every user) is reused by the first sessions, not by these */
	double kib_marginal = rss_half >= 0 && n_up > up_at_half
	                      ? (double)(rss1 - rss_half) / (n_up - up_at_half) : 0;
	if (n_up + n_failed + n_dropped < (unsigned)total)
		note("%u sessions still setting up after %d s", total - n_up - n_failed - n_dropped,
		     O.timeout_s);

	/* the pings of every session answered (or 10 s) before anything else */
	if (O.ping) {
		uint64_t until = now_ms() + 10000;
		for (;;) {
			unsigned want = 0, got = 0;
			for (int i = 0; i < total; i++)
				if (sess[i].state == SS_UP) {
					want += (unsigned)O.ping;
					got += sess[i].ping_rx;
				}
			if (got >= want || now_ms() > until || interrupted) break;
			pump(ep, 5);
		}
	}

	/* flood, command, hold: every session must stay up through them */
	struct storm_result sr = {0};
	unsigned echo0 = 0, echo_storm = 0, echo_req0 = 0;
	for (int i = 0; i < total; i++) {
		echo0 += sess[i].echo_rep_rx;
		echo_req0 += sess[i].echo_req_rx;
	}
	if (O.storm || O.garbage) {
		storm(ep, &sr);
		for (int i = 0; i < total; i++) echo_storm += sess[i].echo_rep_rx;
		note("storm: %u SCCRQs and %u malformed datagrams from %d ports of %d addresses in %.2f s "
		     "(%.0f/s); server RSS %ld kB before, %ld kB at most",
		     sr.sccrq, sr.garbage, O.storm_ports, O.storm_sources, sr.secs, (sr.sccrq + sr.garbage) / sr.secs,
		     rss1, sr.rss_max);
	}
	int then_rc = 0;
	if (O.then) {
		char buf[32];
		snprintf(buf, sizeof buf, "%ld", rss1);
		setenv("BENCH_RSS_UP_KB", buf, 1);
		snprintf(buf, sizeof buf, "%ld", sr.rss_max);
		setenv("BENCH_RSS_STORM_KB", buf, 1);
		then_rc = run_then(ep);
		if (then_rc) note("--then command exited with %d", then_rc);
	}
	if (O.hold_ms) {
		uint64_t until = now_ms() + (uint64_t)O.hold_ms;
		while (now_ms() < until && !interrupted) pump(ep, 10);
	}
	if (!O.storm && !O.garbage) echo_storm = echo0;
	unsigned echo1 = 0, echo_req = 0;
	for (int i = 0; i < total; i++) {
		echo1 += sess[i].echo_rep_rx;
		echo_req += sess[i].echo_req_rx;
	}
	long rss2 = rss_kb(server_pid);

	/* teardown: StopCCN on every tunnel, wait for the acknowledgements */
	uint64_t td0 = now_ms();
	tearing_down = true;
	for (int i = 0; i < O.tunnels && !I.ike_only; i++)
		if (tuns[i].opened && tuns[i].t.state != L2TP_TUN_DEAD) {
			tuns[i].done_setup = true;
			l2tp_ctrl_stop(&tuns[i].t, L2TP_STOP_GENERAL, 0, "load test over", td0);
			tun_service(&tuns[i], td0);
		}
	unsigned closing = 0;
	for (int round = 0; round < 100000 && now_ms() < td0 + 30000; round++) {
		closing = 0;
		for (int i = 0; i < O.tunnels; i++)
			if (tuns[i].t.state == L2TP_TUN_CLOSING) closing++;
		if (!closing) break;
		pump(ep, 5);
	}
	if (I.on) { /* the IKE SAs last: the StopCCNs travelled in their ESP */
		for (int i = 0; i < O.tunnels; i++)
			if (tuns[i].ike) ikev1i_delete(tuns[i].ike, "load test over", now_ms());
		pump(ep, 20);
	}
	uint64_t td_ms = now_ms() - td0;
	long rss3 = rss_kb(server_pid);
	int srv_rc = server_stop();

	/* report */
	char ours[32], goal[32];
	printf("server: %s; no reference server to compare with (accel-ppp is not packaged for "
	       "Debian): figures against the goals of the specification\n",
	       O.builtin ? "builtin engine-only LNS" : "vnet serve");
	printf("run: %d tunnels x %d sessions, window %d tunnels, %s source addresses\n", O.tunnels,
	       O.sessions, O.window, O.same_source ? "one" : "distinct");
	if (I.on)
		printf("ipsec: IKEv1 Main Mode (pre-shared key)%s per tunnel, NAT-T forced "
		       "(ESP in UDP to port %d), IKE end: %s%s\n",
		       I.mm_only ? " alone (--mm-only)" : " + Quick Mode", I.natt_port,
		       I.gateway ? "the gateway " : "the server", I.gateway ? I.gateway : "");
	printf("%-30s %12s %12s %8s\n", "name", "ours", "goal", "ratio");
	if (I.on) {
		snprintf(ours, sizeof ours, "%.0f/s", ike_rate);
		printf("%-30s %12s %12s %8s\n", "ike-setups-per-second", ours, "-", "-");
		if (ike_cpu_rate > 0) {
			snprintf(ours, sizeof ours, "%.0f/s", ike_cpu_rate);
			printf("%-30s %12s %12s %8s\n", "ike-setups-per-ike-cpu-second", ours, "-", "-");
		}
	}
	snprintf(ours, sizeof ours, "%u", up_after_setup);
	snprintf(goal, sizeof goal, "%d", GOAL_SESSIONS);
	line("concurrent-sessions", ours, goal, up_after_setup / (double)GOAL_SESSIONS);
	snprintf(goal, sizeof goal, ">=%.0f/s", GOAL_RATE);
	if (!O.builtin && cpu_rate > 0) {
		snprintf(ours, sizeof ours, "%.0f/s", cpu_rate);
		line("setups-per-server-cpu-second", ours, goal, cpu_rate / GOAL_RATE);
	}
	snprintf(ours, sizeof ours, "%.0f/s", rate);
	line("setups-per-second", ours, goal, rate / GOAL_RATE);
	snprintf(ours, sizeof ours, "%.2fKiB", kib);
	snprintf(goal, sizeof goal, "<=%.0fKiB", GOAL_KIB);
	line("server-rss-per-session", ours, goal, kib / GOAL_KIB);
	snprintf(ours, sizeof ours, "%.2fKiB", kib_marginal);
	line("server-rss-per-session-2nd-half", ours, goal, kib_marginal / GOAL_KIB);
	printf("set-up %.2f s for %u sessions (first SCCRQ to last IPCP up), %.2f s of server CPU "
	       "(user + system), %.2f s of the load generator's; %u failed, %u went "
	       "down; server RSS %ld kB idle, %ld kB with the sessions up, %ld kB before teardown, "
	       "%ld kB after; teardown %.2f s%s; %u send errors\n",
	       setup_ms / 1000.0, up_after_setup, cpu_setup, gen1 - gen0, n_failed, n_dropped, rss0, rss1, rss2, rss3,
	       td_ms / 1000.0, closing ? " (some StopCCN unacknowledged)" : "", send_errors);
	unsigned ping_tx = 0, ping_rx = 0, ping_bad = 0;
	for (int i = 0; i < total; i++) {
		ping_tx += sess[i].ping_tx;
		ping_rx += sess[i].ping_rx;
		ping_bad += sess[i].ping_bad;
	}
	if (O.ping)
		printf("data: %u ICMP echo requests to the server's PPP address, %u replies, %u wrong\n",
		       ping_tx, ping_rx, ping_bad);
	if (I.on)
		printf("ike: %u child SAs up of %d tunnels in %.2f s (first Main Mode 1 to the last Quick "
		       "Mode 3), %.2f s of the IKE end's CPU; %u IKE SAs up, %u failed; ESP: %u sent, %u "
		       "received, %u rejected%s\n", I.child_up, O.tunnels, ike_ms / 1000.0, ike_cpu,
		       I.ike_up, I.failed, I.esp_tx, I.esp_rx, I.esp_bad,
		       I.mm_only ? "; --mm-only: a session is an IKE SA, no child"
		       : I.ike_only ? "; --ike-only: a session is a child SA" : "");
	if (O.echo_ms || echo_req)
		printf("keepalive: %u LCP Echo-Replies received (%u after set-up), %u Echo-Requests "
		       "from the server answered (%u after set-up)\n", echo1, echo1 - echo0, echo_req,
		       echo_req - echo_req0);
	bool ok = up_after_setup == (unsigned)total && n_dropped == 0 && n_failed == 0 &&
	          (!I.on || (ike_done == (unsigned)O.tunnels && I.esp_bad == 0)) &&
	          ping_rx == ping_tx && ping_bad == 0 &&
	          then_rc == 0 && srv_rc == 0 && !interrupted;
	if (srv_rc != 0) note("server exit status %d (log: %s)", srv_rc, logpath);
	printf("result: tunnels=%d sessions=%d up=%u failed=%u dropped=%u setup_ms=%" PRIu64
	       " rate=%.0f cpu_ms=%.0f cpu_rate=%.0f rss_idle_kb=%ld rss_up_kb=%ld rss_end_kb=%ld rss_down_kb=%ld "
	       "kib_per_session=%.2f "
	       "kib_per_session_2nd_half=%.2f storm_sccrq=%u storm_garbage=%u storm_rss_max_kb=%ld echo_replies=%u "
	       "echo_replies_after_setup=%u echo_replies_during_storm=%u "
	       "echo_replies_after_storm=%u echo_requests_after_setup=%u ping_tx=%u ping_rx=%u "
	       "ping_bad=%u then=%d server_exit=%d ok=%d\n",
	       O.tunnels, total, up_after_setup, n_failed, n_dropped, setup_ms, rate, cpu_setup * 1000.0, cpu_rate, rss0, rss1, rss2,
	       rss3, kib, kib_marginal, sr.sccrq, sr.garbage, sr.rss_max, echo1, echo1 - echo0,
	       echo_storm - echo0, echo1 - echo_storm, echo_req - echo_req0, ping_tx, ping_rx,
	       ping_bad, then_rc, srv_rc, ok);
	if (I.on)
		printf("result-ipsec: child_up=%u ike_up=%u ike_failed=%u ike_ms=%" PRIu64 " ike_rate=%.0f "
		       "ike_cpu_ms=%.0f ike_cpu_rate=%.0f esp_tx=%u esp_rx=%u esp_bad=%u\n", I.child_up,
		       I.ike_up, I.failed, ike_ms, ike_rate, ike_cpu * 1000.0, ike_cpu_rate, I.esp_tx,
		       I.esp_rx, I.esp_bad);
	rc = ok ? 0 : 1;
out:
	ipsec_stop();
	if (server_pid > 0) server_stop();
	for (int i = 0; tuns && i < O.tunnels; i++) {
		ikev1i_free(tuns[i].ike);
		if (tuns[i].esp_up) esp_pair_free(&tuns[i].esp);
	}
	for (int i = 0; i < O.tunnels; i++)
		if (tuns[i].fd > 0) close(tuns[i].fd);
	for (int i = 0; tuns && i < O.tunnels; i++) l2tp_ctrl_free(&tuns[i].t);
	for (int i = 0; sess && i < O.tunnels * O.sessions; i++) ppp_session_free(&sess[i].ppp);
	free(tuns);
	free(sess);
	if (ep >= 0) close(ep);
	if (!O.keep_workdir) rm_workdir(O.workdir);
	return rc;
}
