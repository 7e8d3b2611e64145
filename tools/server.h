/* `vnet serve`: the reference L2TP/PPP remote-access server.
 *
 * The event loop (libevent) owns sockets, the clock and timers; every protocol decision
 * is made by the sans-I/O automata of engine/ (l2tp_ctrl for tunnels, ras_session for
 * each client's session with its PPP link) and every admission by the policy engine
 * (engine/policy/admit.h), exactly as `vnet policy test` decides. Words: a tunnel is an L2TP
 * control connection (struct srv_l2tp_tunnel), a call the L2TP session inside it that
 * carries one remote-access session (struct srv_l2tp_call around struct ras_session),
 * the TUN device (tundev) the kernel interface the clients' packets leave by.
 * The pieces of the server share the declarations below:
 *   server.c         the loop and its listeners, tunnels, calls, limits
 *   server_ctl.c     the control socket and what `vnet show` / `vnet disconnect` print
 *   server_acct.c    accounting records (JSON lines) and the --capture pcap writer
 *   server_tundev.c  the TUN device: client packets to the kernel and back
 *   server_io.c      datagrams sent in batches, the log's lines, random bytes
 *   server_ike.c     L2TP/IPsec: IKEv1 and ESP in front of the L2TP code
 *   server_ikev2.c   IKEv2 remote access: the SAs, their sessions without PPP, their ESP
 */
#ifndef VNET_SERVER_H
#define VNET_SERVER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "policy/admit.h"
#include "policy/config.h"
#include "l2tp/l2tp_ctrl.h"
#include "ppp/ppp_session.h"
#include "server/ras_session.h"

struct event_base;
struct event;

/* Log categories (-d) */
enum srv_cat { SC_MAIN, SC_L2TP, SC_PPP, SC_AUTH, SC_POLICY, SC_IPCP, SC_ACCT, SC_CTL,
	SC_DATA, SC_PPTP, SC_RADIUS, SC_IKE, SC_N };
extern const char *const srv_cat_names[];

struct server_opts {
	const char *config_path;   /* NULL: embedded */
	const char *listen;        /* NULL: the configuration's, else 127.0.0.1:1701 */
	const char *capture;       /* NULL: none */
	const char *control;       /* NULL: default path */
	const char *accounting;    /* NULL: the configuration's */
	const char *pptp_listen;   /* NULL: the configuration's serve.pptp.listen (NULL: off) */
	uint32_t debug;            /* 1 << enum srv_cat */
	bool quiet;                /* no log at all (the fuzz harness) */
};

/* The server's own counters; the sessions' are in srv.env.st (struct ras_stats). */
struct srv_stats {
	uint64_t rx_datagrams, tx_datagrams, rx_bytes, tx_bytes;
	uint64_t malformed, unknown_tunnel, refused_rate, refused_half_open, refused_tunnels;
	uint64_t evicted_half_open;  /* half-open tunnels dropped to make room for a new SCCRQ */
	uint64_t refused_ports, tunnels_opened, tunnels_closed, ctl_requests;
};

/* The largest datagram the server reads whole. */
#define SRV_DGRAM_MAX 4096

struct srv_l2tp_tunnel;
struct srv_l2tp_call;
struct srv;
struct srv_radius;

/* A deadline in the server's timer heap: one libevent timer serves every tunnel and
 * call, the heap orders their deadlines. */
enum srv_timer_kind { SRV_TIMER_TUNNEL, SRV_TIMER_CALL, SRV_TIMER_PPTP_CONN,
	SRV_TIMER_PPTP_CALL, SRV_TIMER_IKE, SRV_TIMER_IKEV2 };
struct srv_timer {
	uint64_t at;                 /* L2TP_NEVER when not in the heap */
	uint32_t slot;               /* its index in the heap */
	uint16_t round;              /* the firing round it last ran in */
	uint8_t kind;                /* enum srv_timer_kind */
};

/* What a listening socket speaks: L2TP over UDP (1701); PPTP's control connections
 * (TCP 1723) and the enhanced GRE of its calls (a raw IP protocol 47 socket); vnet's
 * RADIUS server (serve.radius_server) and the socket of its RADIUS client
 * (auth_provider radius) and its RFC 5176 dynamic authorization port (3799); IKE on UDP
 * (500, and 4500 with ESP in UDP beside it) and plain ESP (a raw IP protocol 50 socket). */
enum srv_proto { SRV_PROTO_L2TP, SRV_PROTO_PPTP, SRV_PROTO_GRE, SRV_PROTO_RADIUS,
	SRV_PROTO_RADIUS_CLIENT, SRV_PROTO_RADIUS_DAE, SRV_PROTO_IKE, SRV_PROTO_ESP };

/* A socket the event loop watches, and the protocol handler it dispatches to when the
 * socket is readable. */
struct srv_listener {
	int fd;                      /* -1 until bound (never in the fuzz harness) */
	uint8_t proto;               /* enum srv_proto */
	void (*handler)(struct srv *s, struct srv_listener *l);
	struct sockaddr_storage addr; /* what it is bound to (the capture's local end), when set */
	struct event *ev;
	struct srv *srv;
};
#define SRV_LISTENERS 16

/* A datagram waiting for the end of the burst (server_io.c). */
struct srv_tx {
	int fd;
	socklen_t plen;
	struct sockaddr_storage peer;
	uint32_t off, len;           /* in srv_io.tx_buf */
	uint16_t ids[2];             /* the local and peer tunnel ID, for the log */
};
#define SRV_TX_BATCH 32
#define SRV_LOG_LINE_MAX (PPP_LOG_LINE_MAX + 512) /* the longest message of a log line */

/* What server_io.c keeps: the datagrams and log lines of the burst under way, the block
 * of random bytes being handed out. */
struct srv_io {
	unsigned hold;               /* srv_io_hold depth: > 0 while a burst is handled */
	unsigned tx_n;
	uint32_t tx_used;
	struct srv_tx tx[SRV_TX_BATCH];
	uint8_t tx_buf[16384];
	size_t log_len;
	char log[16384];
	time_t log_sec;              /* the second log_when spells */
	char log_when[24];           /* "2025-01-31T12:00:00" */
	uint16_t rnd_left;           /* bytes of rnd not handed out yet (the others are wiped) */
	uint8_t rnd[256];
};

struct srv {
	struct event_base *base;
	struct config *cfg;
	const char *config_name;
	uint32_t debug;
	bool quiet;
	struct srv_listener listeners[SRV_LISTENERS];
	unsigned nlisteners;
	struct sockaddr_storage local; /* the L2TP listener's address */
	socklen_t locallen;
	char local_text[64];         /* "127.0.0.1:1701" */
	char local_ip[48];           /* "127.0.0.1" */
	struct event *ev_sigint, *ev_sigterm, *ev_ctl;
	/* protocol configuration shared by every tunnel and session */
	struct l2tp_ctrl_conf l2tp_conf;
	struct ppp_session_conf ppp_conf;
	uint32_t local_addr;         /* the server's PPP address (host order) */
	/* tunnels, by local tunnel ID: the server draws the ID (l2tp_tunnel_new) and the
	 * automaton keeps it, so s->tunnels[i]->t.local_tid == i for as long as the tunnel lives */
	struct srv_l2tp_tunnel **tunnels;       /* [65536] */
	unsigned ntunnels, nhalf_open;
	struct srv_l2tp_tunnel *half_open;      /* tunnels never established, newest first */
	/* sessions, by server-wide number */
	struct ras_session **sessions; /* [max_sessions + 1], slot = number % cap */
	unsigned sess_cap, nsessions;
	uint32_t next_session;
	int l2tp_ports_used;
	int pptp_ports_used;
	int ikev2_ports_used;
	struct srv_pptp *pptp;       /* server_pptp.c; NULL when PPTP is off */
	struct addr_pool pool;
	struct policy_result pres;
	struct ras_env env;          /* what every session shares (engine/server/ras_session.h) */
	/* per-source rate of new tunnels */
	struct rate_slot { uint32_t key; uint32_t sec; uint32_t count; } rate[512];
	/* sessions whose end was decided during a callback, freed after it */
	struct srv_l2tp_call *dead_calls;
	/* timers: a binary min-heap of deadlines, room reserved for every object that has
	 * a timer (ntimers), and the one libevent timer set to the earliest */
	struct srv_timer **heap;
	uint32_t nheap, heap_cap, ntimers;
	uint16_t timer_round;
	uint64_t timer_at;           /* what ev_timer is set to, L2TP_NEVER when idle */
	struct event *ev_timer;
	/* control socket */
	int ctl_fd;
	char *ctl_path;
	/* accounting and capture */
	FILE *acct;
	char *acct_path;
	bool acct_dirty;             /* records written since the last fsync */
	struct event *ev_tick;       /* once a second: fsync, flood-line summary */
	char run_id[32];
	void *pcap, *dumper;         /* pcap_t *, pcap_dumper_t * */
	/* log throttling for floods */
	uint64_t throttle_sec;
	unsigned throttle_count;
	struct srv_stats st;
	struct srv_tundev *tundev;   /* server_tundev.c; NULL without a TUN interface */
	struct srv_radius *radius;   /* server_radius.c; NULL without RADIUS */
	struct srv_ike *ike;         /* server_ike.c; NULL without serve.ipsec and serve.ikev2 */
	struct srv_ikev2 *ikev2;     /* server_ikev2.c; NULL without serve.ikev2 */
	struct srv_io io;            /* server_io.c */
	time_t started;
	bool stopping;
	int exit_code;
};

struct srv_l2tp_tunnel {
	struct l2tp_tunnel t;
	struct l2tp_ctrl_cbs cbs;
	struct srv *srv;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	uint8_t listener;            /* index of the listener it came in on */
	struct srv_timer timer;
	uint64_t created_ms;
	bool counted_half_open;      /* not established yet: waiting for the SCCCN, or
	                                saying the StopCCN of a set-up that failed */
	struct srv_l2tp_tunnel *ho_next, *ho_prev; /* list of half-open tunnels */
	unsigned ho_same;            /* half-open tunnels of this peer's source (its IPv4
	                                address or IPv6 /64), itself included */
	uint16_t sccrq_peer_tid;     /* Assigned Tunnel ID of the SCCRQ (0: hidden) */
	uint32_t sccrq_hash;         /* of the SCCRQ datagram, to spot its retransmissions */
	uint32_t ipsec;              /* the IKE SA it came inside (server_ike.c), 0: plain UDP */
	struct srv_l2tp_call *calls[L2TP_CTRL_CALLS]; /* by call slot, NULL when free */
};

/* An L2TP call: the lower layer of the session it carries (ras_lower_ops). */
struct srv_l2tp_call {
	struct ras_session rs;       /* first: the session is the call */
	struct srv_l2tp_tunnel *tunnel; /* NULL once the session is dead */
	struct srv_l2tp_call *next_dead;
	struct srv_timer timer;
	uint16_t lsid, psid;
};

static inline const char *srv_tok(const struct tok *t, unsigned v)
{
	const char *s = tok_name(t, v);
	return s ? s : "?";
}

/* A peer's user name, as the log, `show` and accounting give it: escaped (text_printable,
 * libdiag/diag.h), so no byte a client chose can forge a log line, reach the admin's
 * terminal or break the JSON. */
#define SRV_USER_TEXT TEXT_PRINTABLE_SIZE(PPP_AUTH_USER_MAX)
static inline const char *srv_user_text(const char *user, char *buf, size_t n)
{
	text_printable_str(user, buf, n);
	return buf;
}
static inline struct json_t *srv_user_json(const char *user)
{
	return json_text((const uint8_t *)user, strlen(user));
}

/* server.c */
int server_run(const struct server_opts *o);
/* Shared with the other protocol handlers (server_pptp.c). */
struct srv_listener *srv_listener_add(struct srv *s, enum srv_proto proto,
                                      void (*handler)(struct srv *, struct srv_listener *));
/* "ADDR[:PORT]" (an IPv6 address in brackets when a port follows): 0 or -1. */
int srv_parse_listen(const char *text, unsigned default_port, struct sockaddr_storage *ss,
                     socklen_t *len);
void srv_peer_ip(const struct sockaddr_storage *p, char *buf, size_t n);
/* Whether one more line about a dropped packet may be logged now (floods). */
bool srv_throttle(struct srv *s);

/* Per-source admission of new tunnels and connections (serve.limits.new_tunnels_per_source). */
bool srv_rate_ok(struct srv *s, const struct sockaddr_storage *p);
/* Timers: room in the heap for one more object (0, or -1 out of memory; give it back by
 * decrementing s->ntimers when the object goes), a timer not in the heap, a deadline
 * (L2TP_NEVER: none). */
int srv_timer_reserve(struct srv *s);
void srv_timer_init(struct srv_timer *tm, enum srv_timer_kind kind);
void srv_timer_set(struct srv *s, struct srv_timer *tm, uint64_t at);
/* A free number in the session table, 0 when it is full. */
uint32_t srv_session_id_new(struct srv *s);
/* The server without sockets, control or files: configuration (from `config_text` when
 * not NULL, else o->config_path or the embedded default), tables, protocol settings and
 * an event base that is never run. NULL with the problems printed (unless quiet). */
struct srv *srv_create(const struct server_opts *o, const char *config_text, size_t len);
void srv_destroy(struct srv *s);
/* One L2TP datagram received from `peer` on the L2TP listener, as its handler passes it
 * on. */
void srv_datagram(struct srv *s, const struct sockaddr_storage *peer, socklen_t plen,
                  const uint8_t *buf, size_t len);
/* The tables agree with each other and with the automata: every tunnel sits in the slot of
 * its own ID, the half-open list holds exactly the tunnels not yet established with the
 * right per-address counts, every session belongs to a live established call of its
 * tunnel and every established call has one session. 0, or -1 with what is wrong in why
 * (for the tests and the fuzz target; it walks every table). */
int srv_check_tables(const struct srv *s, char *why, size_t n);
uint64_t srv_now_ms(void);
void srv_log(struct srv *s, enum srv_cat cat, bool debug_only, const struct srv_l2tp_tunnel *t,
             const struct ras_session *rs, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* End a session administratively (LCP Terminate, then CDN). */
void srv_session_disconnect(struct srv *s, struct ras_session *rs, enum ras_cause cause);
/* The session's timeouts were changed from outside (a CoA-Request): its timer follows. */
void srv_session_rearm(struct srv *s, struct ras_session *rs);
/* The verdict of an admission that answered RAS_ADMIT_PENDING (admit_seq `seq`): the
 * session goes on, its timer follows. */
void srv_session_resume(struct srv *s, struct ras_session *rs, unsigned seq,
                        const struct ras_verdict *v);
const char *srv_peer_text(const struct srv_l2tp_tunnel *t, char *buf, size_t n);

/* The fair share of a half-open table (L2TP tunnels, IKE SAs): a source holding `held` of
 * the `n` entries may add one when it holds less than a sixteenth of `max`; when the
 * table is full the oldest entry of the source holding the most (victim_held) makes room,
 * provided that source holds more than the newcomer's. */
enum srv_ho_verdict { SRV_HO_ADMIT, SRV_HO_EVICT, SRV_HO_SHARE, SRV_HO_FULL };
static inline enum srv_ho_verdict srv_half_open_admit(unsigned held, unsigned n, unsigned max,
                                                      unsigned victim_held, bool have_victim)
{
	unsigned share = max / 16 ? max / 16 : 1;
	if (held >= share) return SRV_HO_SHARE;
	if (n < max) return SRV_HO_ADMIT;
	if (!have_victim || victim_held <= held) return SRV_HO_FULL;
	return SRV_HO_EVICT;
}

/* An L2TP datagram that came inside IKE SA `ipsec` (server_ike.c) from `peer`: the
 * client's address and its L2TP port. */
void srv_l2tp_ipsec_datagram(struct srv *s, const struct sockaddr_storage *peer, socklen_t plen,
                             const uint8_t *buf, size_t len, uint32_t ipsec);
/* The client rekeyed phase 1: the tunnels inside IKE SA `from` now live in `to`. */
void srv_l2tp_ipsec_rebind(struct srv *s, uint32_t from, uint32_t to);
/* IKE SA `ipsec` is gone: the L2TP tunnels inside it are closed. */
void srv_l2tp_ipsec_gone(struct srv *s, uint32_t ipsec);

/* server_ike.c: L2TP/IPsec (serve.ipsec). */
struct srv_ike;
struct json_t;
/* Tables and listeners (srv_create; nothing without serve.ipsec). 0 or -1. */
int srv_ike_setup(struct srv *s);
/* Bind IKE's sockets; with a capture, keys go to CAPTURE.keys. 0, or -1 with the cause on
 * stderr. */
int srv_ike_open(struct srv *s, const char *capture);
void srv_ike_destroy(struct srv *s);
void srv_ike_stop_all(struct srv *s);
void srv_ike_timer(struct srv *s, struct srv_timer *tm, uint64_t now);
/* serve.ipsec.required: plain L2TP is refused (srv_ike_plain_refused says so). */
bool srv_ike_required(const struct srv *s);
void srv_ike_plain_refused(struct srv *s, const struct sockaddr_storage *peer);
/* Shared by the IKEv1 and IKEv2 sides: an IPv4 socket address to the automata's address
 * form (family, ip[16], port) and back, a dotted IPv4 address, and a log line of the ike
 * category after a prefix ("sa=3 192.0.2.2:500 "), for session rs when not NULL. */
void srv_ike_addr_in(const struct sockaddr_storage *ss, uint8_t *family, uint8_t ip[16],
                     uint16_t *port);
void srv_ike_addr_out(const uint8_t ip[4], uint16_t port, struct sockaddr_storage *ss);
const char *srv_ip4_text(const uint8_t ip[4], char *buf, size_t n);
void srv_ike_logv(struct srv *s, bool debug_only, const struct ras_session *rs,
                  const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
/* With a capture, its keys file (CAPTURE.keys): a line of text as it is (an IKEv2 SA's
 * Wireshark decryption table line), or an ESP SA as a line of Wireshark's esp_sa table;
 * nothing without a capture. */
void srv_ike_keys_text(struct srv *s, const char *line, size_t len);
struct esp_sa;
void srv_ike_keys_esp(struct srv *s, const struct esp_sa *e);
bool srv_ike_l2tp_send(struct srv *s, uint32_t ipsec, const struct sockaddr_storage *peer,
                       const uint8_t *buf, size_t len);
/* A datagram on the IKE port (natt false) or the NAT-T port (the fuzz harness). */
void srv_ike_datagram(struct srv *s, bool natt, const struct sockaddr_storage *from,
                      const uint8_t *buf, size_t len);
/* `show ike` (children false) and `show sa` (children true); `show stats`. */
struct json_t *srv_ike_view(const struct srv *s, bool children);
struct json_t *srv_ike_stats(const struct srv *s);
int srv_ike_check_tables(const struct srv *s, char *why, size_t n);

/* server_ikev2.c: IKEv2 remote access (serve.ikev2) on server_ike.c's sockets. */
struct srv_ikev2;
/* The SA tables and the responder's settings, the certificate (cert pick's for ikev2)
 * with its verdict logged; called by srv_ike_setup with IKE's listeners (nothing without
 * serve.ikev2). 0, or -1 with the cause on stderr. */
int srv_ikev2_setup(struct srv *s, struct srv_listener *l_ike, struct srv_listener *l_natt,
                    struct srv_listener *l_esp);
/* One log line once IKE's sockets are bound at `where` (an address). */
void srv_ikev2_opened(struct srv *s, const char *where);
void srv_ikev2_destroy(struct srv *s);
/* Every SA deleted (DELETE to the client), their sessions ended with the shutdown cause. */
void srv_ikev2_stop_all(struct srv *s);
void srv_ikev2_timer(struct srv *s, struct srv_timer *tm, uint64_t now);
/* An IKE message on the IKE port (natt false) or the NAT-T port (non-ESP marker stripped)
 * of major version 2, or of another version when serve.ipsec is absent. */
void srv_ikev2_input(struct srv *s, bool natt, const struct sockaddr_storage *from,
                     const uint8_t *buf, size_t len);
/* ESP (pkt at the SPI) that may be for an IKEv2 child: false when its SPI is not ours. */
bool srv_ikev2_esp(struct srv *s, const struct sockaddr_storage *from, const uint8_t *pkt,
                   size_t len);
/* The sessions (ras_session.h, without PPP) the SAs carry. */
void srv_ikev2_session_dead(struct srv *s, struct ras_session *rs);
void srv_ikev2_resume(struct srv *s, struct ras_session *rs, unsigned seq,
                      const struct ras_verdict *v);
void srv_ikev2_disconnect(struct srv *s, struct ras_session *rs, enum ras_cause cause);
void srv_ikev2_reap(struct srv *s);
/* `show ike` / `show sa` rows appended to `a` ("version": 2); `show stats`. */
void srv_ikev2_view(const struct srv *s, bool children, struct json_t *a);
struct json_t *srv_ikev2_stats(const struct srv *s);
/* The IKEv2 part of srv_check_tables: the sessions it holds in *nsessions. */
int srv_ikev2_check_tables(const struct srv *s, unsigned *nsessions, char *why, size_t n);

/* server_pptp.c: PPTP control connections (TCP) and their calls (enhanced GRE). */
struct srv_pptp;
/* Listen on `listen` (TCP) and open the raw GRE socket: 0, or -1 with the cause on
 * stderr. */
int srv_pptp_open(struct srv *s, const char *listen);
/* The protocol settings and tables (srv_create: also without sockets). 0 or -1. */
int srv_pptp_setup(struct srv *s);
void srv_pptp_destroy(struct srv *s);
/* One accepted connection from `peer` on socket fd (-1 without a socket: the fuzz
 * harness): its number, or 0 when it was refused (fd closed). */
uint32_t srv_pptp_accept(struct srv *s, int fd, const struct sockaddr_storage *peer);
/* Bytes of the control stream of connection `id` (the fuzz harness; the socket's reader
 * does the same). */
void srv_pptp_stream(struct srv *s, uint32_t id, const uint8_t *buf, size_t len);
/* One IPv4 packet with GRE inside from the raw socket (the IP header included). */
void srv_pptp_gre_packet(struct srv *s, const uint8_t *ip, size_t len);
/* The Call ID drawn last (the fuzz harness aims GRE at live calls with it). */
uint16_t srv_pptp_last_call_id(const struct srv *s);
void srv_pptp_timer(struct srv *s, struct srv_timer *tm, uint64_t now);
void srv_pptp_session_dead(struct srv *s, struct ras_session *rs);
void srv_pptp_disconnect(struct srv *s, struct ras_session *rs, enum ras_cause cause);
void srv_pptp_rearm(struct srv *s, struct ras_session *rs);
/* srv_session_resume for a session a PPTP call carries. */
void srv_pptp_resume(struct srv *s, struct ras_session *rs, unsigned seq,
                     const struct ras_verdict *v);
void srv_pptp_stop_all(struct srv *s);
void srv_pptp_reap(struct srv *s);
/* The PPTP part of srv_check_tables: sessions it holds in *nsessions. */
int srv_pptp_check_tables(const struct srv *s, unsigned *nsessions, char *why, size_t n);
/* `show tunnels`: the control connections; `show stats`: the counters. */
struct json_t *srv_pptp_view(const struct srv *s);
struct json_t *srv_pptp_stats(const struct srv *s);

/* server_radius.c */
/* vnet's RADIUS server (serve.radius_server) and its RADIUS client (server.auth_provider
 * radius): the sockets bound and registered as listeners. 0, or -1 with the reason on
 * stderr. */
int srv_radius_open(struct srv *s);
void srv_radius_close(struct srv *s);
/* The counters for `show stats` (JSON null without RADIUS). */
struct json_t *srv_radius_stats(const struct srv *s);
/* The admission of every session (ras_env_cbs.authorize): with server.auth_provider
 * radius an Access-Request (RAS_ADMIT_PENDING, the verdict through srv_session_resume),
 * else the local policy engine at once. */
enum ras_admit_rc srv_radius_authorize(void *ctx, struct ras_session *rs,
                                       const struct ras_auth_req *q, struct ras_verdict *v);
/* A session came up, is going down or is gone: RADIUS accounting, the pending request
 * forgotten. */
void srv_radius_session_event(struct srv *s, struct ras_session *rs, enum ras_event ev);

/* server_ctl.c */
int srv_ctl_open(struct srv *s, const char *path);
void srv_ctl_close(struct srv *s);
/* The control socket path when none is given: $VNET_CONTROL; else for root
 * /run/vnet/control.sock, for other users $XDG_RUNTIME_DIR/vnet/control.sock, or
 * /tmp/vnet-UID/control.sock without XDG_RUNTIME_DIR. The server creates the directory
 * of that built-in path when it is missing (0755 for root, 0700 for a user). */
const char *srv_ctl_default_path(char *buf, size_t n);
/* "uid 65534 (nobody)", or "uid N" for a uid without a name. */
const char *srv_uid_text(unsigned uid, char *buf, size_t n);
/* Answer one request line ("show sessions json") into a malloc'd text; sets *status
 * 0 ok, 1 negative answer (no such session), 2 bad request. */
char *srv_ctl_answer(struct srv *s, const char *line, int *status);

/* server_acct.c */
/* The accounting file must be a regular file (not a FIFO, device, directory, socket or
 * symbolic link); -1 with the reason on stderr. */
int srv_acct_open(struct srv *s, const char *path);
/* "a regular file", "a directory", "a FIFO (named pipe)", ... for a st_mode. */
const char *srv_file_kind(unsigned mode);
void srv_acct_start(struct srv *s, const struct ras_session *rs);
void srv_acct_stop(struct srv *s, const struct ras_session *rs);
void srv_acct_sync(struct srv *s);
/* An Accounting-Request vnet's RADIUS server received from client `client`. */
struct radius_msg;
void srv_acct_radius(struct srv *s, const char *client, const struct radius_msg *m);
void srv_acct_close(struct srv *s);
int srv_capture_open(struct srv *s, const char *path);
/* One datagram between `peer` and the server (out: the server sent it). */
void srv_capture(struct srv *s, const struct sockaddr_storage *peer, bool out,
                 const uint8_t *buf, size_t len);
void srv_capture_close(struct srv *s);
/* A UDP datagram between the server's `local` address and `peer` (out: the server sent it). */
void srv_capture_udp(struct srv *s, const struct sockaddr_storage *local,
                     const struct sockaddr_storage *peer, bool out, const uint8_t *buf, size_t len);
/* A TCP segment of a PPTP control connection (IPv4): src/dst as they were on the wire,
 * sequence and acknowledgement numbers, flags (TH_* of netinet/tcp.h). */
void srv_capture_tcp(struct srv *s, const struct sockaddr_storage *src,
                     const struct sockaddr_storage *dst, uint32_t seq, uint32_t ack,
                     uint8_t flags, const uint8_t *buf, size_t len);
/* An IPv4 packet of protocol `proto` (GRE) with `buf` as its payload. */
void srv_capture_ip(struct srv *s, const struct sockaddr_storage *src,
                    const struct sockaddr_storage *dst, uint8_t proto, const uint8_t *buf,
                    size_t len);

/* server_io.c */
static inline bool srv_log_wanted(const struct srv *s, enum srv_cat cat, bool debug_only)
{
	return !s->quiet && (!debug_only || (s->debug >> cat & 1));
}
/* srv_log of a message already formatted. */
void srv_log_line(struct srv *s, enum srv_cat cat, bool debug_only,
                  const struct srv_l2tp_tunnel *t, const struct ras_session *rs, const char *msg);
/* A burst begins / ends: what is sent and logged meanwhile leaves when the outermost
 * burst ends. */
void srv_io_hold(struct srv *s);
void srv_io_release(struct srv *s);
/* Send a datagram on socket fd: now (0, or the errno of the failure) or, within a burst,
 * at its end (-1); either way srv_tx_result hears how it went (server.c). `ids` name the
 * tunnel in the log, may be NULL. */
int srv_send(struct srv *s, int fd, const struct sockaddr_storage *peer, socklen_t plen,
             const uint8_t *buf, size_t len, const uint16_t ids[2]);
void srv_tx_result(struct srv *s, const struct srv_tx *x, const uint8_t *buf, int err);
/* n random bytes (OpenSSL's, drawn a block at a time; each byte handed out once). */
void srv_random(struct srv *s, uint8_t *buf, size_t n);

/* server_tundev.c */
/* With serve.tun: create the TUN interface, give it the server's address, bring it up and
 * route the pool to it. Without serve.tun: log that only ICMP echo is answered. When the
 * interface cannot be set up: `required` makes it an error (-1, message on stderr),
 * otherwise one log line and the server goes on without it (0). */
int srv_tundev_open(struct srv *s, bool required);
void srv_tundev_close(struct srv *s);
/* The TUN counters for `show stats` (a jansson object; JSON null without a TUN). */
struct json_t;
struct json_t *srv_tundev_stats(const struct srv *s);
/* A session came up with its address / is ending (before the address is released). */
void srv_tundev_session_up(struct srv *s, struct ras_session *rs);
void srv_tundev_session_down(struct srv *s, struct ras_session *rs);
/* A checked IPv4 packet of `len` bytes from the client of `rs` for another host: true
 * when it was handed to the TUN (or dropped there and counted), false without a TUN. */
bool srv_tundev_forward(struct srv *s, struct ras_session *rs, const uint8_t *ip, size_t len);
/* Split [start, end] (host order) into the fewest CIDR blocks, in order: the number of
 * blocks (at most 62 for one range); only the first `cap` are written to out. */
struct srv_cidr { uint32_t addr; uint8_t len; };
size_t srv_tundev_cidrs(uint32_t start, uint32_t end, struct srv_cidr *out, size_t cap);
/* Address (host order, never 0) -> session: open addressing with linear probing, kept at
 * most half full, growing by doubling up to `max` entries. */
struct srv_addr_slot { uint32_t addr; struct ras_session *rs; };
struct srv_addr_index {
	struct srv_addr_slot *slots;
	uint32_t mask, n;
	size_t max;
};
int srv_addr_index_init(struct srv_addr_index *x, size_t max_entries);
void srv_addr_index_free(struct srv_addr_index *x);
/* Insert, or point an existing address at `rs` (*prev: the session it had). 0 or -1
 * (address 0, the index full or out of memory). */
int srv_addr_index_put(struct srv_addr_index *x, uint32_t addr, struct ras_session *rs,
                       struct ras_session **prev);
struct ras_session *srv_addr_index_get(const struct srv_addr_index *x, uint32_t addr);
/* Remove addr when it points at `rs` (any session with NULL): true when removed. */
bool srv_addr_index_del(struct srv_addr_index *x, uint32_t addr, const struct ras_session *rs);

#endif
