/* One remote-access session, whatever carries it: the life of a client's link from the
 * moment its lower layer (an L2TP call, a PPTP call, an L2TP call inside IPsec, an IKEv2
 * SA) is up until it is gone.
 *
 *   LINK ---------> AUTHENTICATING -> ADMITTING -> NETWORK -> UP
 *    |                   |               |           |        |
 *    +-------------------+---------------+-----------+--------+--> CLOSING --> DEAD
 *
 *   LINK            the lower layer is up; PPP negotiates LCP
 *   AUTHENTICATING  PPP authenticates the peer (PAP, CHAP-MD5, MS-CHAPv2)
 *   ADMITTING       the credentials were checked; the admission (the policy engine of
 *                   engine/policy/admit.h, or an authentication server) has not answered yet.
 *                   The local engine answers at once, so the state is left in the same
 *                   call; an admission that answers later leaves it through
 *                   ras_session_admit_resume()
 *   NETWORK         admitted with an address; the NCPs (IPCP, CCP) negotiate
 *   UP              IPCP is open: accounting started, IP flows through the data path
 *                   (filters of the granted profile, MPPE, the ICMP echo of the
 *                   server's address, forwarding); the idle and session timeouts run
 *   CLOSING         the end was decided (rejected, disconnected, timed out, the link's
 *                   encryption not allowed): LCP terminates
 *   DEAD            the link is finished and the lower layer told: accounting stopped,
 *                   the address lease released. The owner frees the session after the
 *                   call that got it there returned (RAS_EV_DEAD).
 *
 * The session owns what the server decides for the client: admission (the policy engine
 * through admit_decide, or a verdict given to ras_session_admit_resume), the address
 * lease from the pool, the check of the negotiated encryption against the granted
 * profile, the PPP automaton (ppp_session) with its MPPE states, the IP data path with
 * the profile's filters (ipfilter), the idle and session timeouts, and accounting
 * events. It owns no socket, timer or clock: every call takes the time in milliseconds
 * (monotonic) and returns the next deadline (RAS_NEVER for none); the owner calls
 * ras_session_tick() when it is due. Wall-clock time (policy day/time conditions,
 * accounting) comes from the environment's `wall` callback.
 *
 * Below the session is its lower layer, reached through `struct ras_lower_ops`: it sends
 * PPP frames, closes the call with a Windows error and a cause, names the peer, and says
 * which tunnel type it is (the policy's NAS-Port-Type and Tunnel-Type conditions, the
 * port counts). Above it, the environment (`struct ras_env`, one per server) holds the
 * configuration, the pool and the callbacks for logging, accounting, the TUN device and
 * the credentials.
 *
 * Sessions without PPP. A lower layer that authenticates the user itself and carries IP
 * packets directly (an IKEv2 SA: EAP-MSCHAPv2 inside IKE_AUTH, ESP in tunnel mode) sets
 * `ip` in its ras_lower_ops. Such a session has no PPP automaton at work; the rest is the
 * same code: the lower layer reports the credentials check (ras_session_authenticated),
 * which asks the same admission as a PPP link does (the policy engine with the lower
 * layer's tunnel type and EAP / MS-CHAPv2 as the method, or RADIUS through
 * RAS_ADMIT_PENDING and ras_session_admit_resume); the verdict goes back to the lower
 * layer (`admitted`), which tells the client; once its tunnel is up it says so
 * (ras_session_ip_up: accounting, routes, timeouts) and hands over the client's packets
 * (ras_session_ip_input: the profile's filters, the ICMP echo of the server's address,
 * forwarding); packets for the client leave through `send`.
 *
 *   LINK -> ADMITTING -> NETWORK -> UP             (ip)
 *     |         |           |        |
 *     +---------+-----------+--------+--> CLOSING --> DEAD
 *
 * A rejection ends such a session at once (the lower layer still tells the client).
 *
 * Reentrancy: a lower layer's `close` may report the call down (ras_session_lower_down)
 * before it returns; no callback may free the session. The owner frees it once a call
 * into the session returned and the session is DEAD. */
#ifndef VNET_RAS_SESSION_H
#define VNET_RAS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "policy/admit.h"
#include "policy/config.h"
#include "policy/policy.h"
#include "ppp/ppp_session.h"

#define RAS_NEVER UINT64_MAX

enum ras_state {
	RAS_LINK = 0,
	RAS_AUTHENTICATING,
	RAS_ADMITTING,
	RAS_NETWORK,
	RAS_UP,
	RAS_CLOSING,
	RAS_DEAD,
};
extern const struct tok ras_state_names[]; /* "link", "authenticating", ... */

/* Why a session ended, as accounting and the logs say it (ras_session_cause_text):
 * "rejected-649", "error-734", "idle-timeout", ... */
enum ras_cause {
	RAS_CAUSE_NONE = 0,
	RAS_CAUSE_REJECTED,         /* "rejected-E": the admission refused with error E */
	RAS_CAUSE_PPP_ERROR,        /* "error-E": the link failed with Windows error E */
	RAS_CAUSE_PPP_TERMINATED,   /* "ppp-terminated" */
	RAS_CAUSE_LOWER,            /* the lower layer's words (ras_lower_ops.cause_text) */
	RAS_CAUSE_TUNNEL_CLOSED,    /* "tunnel-closed": the tunnel under the call went away */
	RAS_CAUSE_IDLE_TIMEOUT,     /* "idle-timeout" */
	RAS_CAUSE_SESSION_TIMEOUT,  /* "session-timeout" */
	RAS_CAUSE_ADMIN,            /* "admin-disconnect" */
	RAS_CAUSE_ENCRYPTION,       /* "encryption-not-allowed" */
	RAS_CAUSE_SHUTDOWN,         /* "server-shutdown" */
	RAS_CAUSE_N
};

/* Log categories (the server maps them onto its own). */
enum ras_log { RAS_LOG_MAIN, RAS_LOG_PPP, RAS_LOG_AUTH, RAS_LOG_POLICY, RAS_LOG_IPCP,
	RAS_LOG_DATA, RAS_LOG_N };

/* Events for the owner. */
enum ras_event {
	RAS_EV_UP,        /* UP for the first time: accounting start, routes to the address */
	RAS_EV_DOWN,      /* a session that was up is ending (its address still set): routes
	                     away, accounting stop (ras_session_cause_text says why) */
	RAS_EV_DEAD,      /* DEAD: free the session after the current call returns */
};

/* Counters over all sessions (the server's `show stats`). */
struct ras_stats {
	uint64_t sessions_up, sessions_rejected, sessions_closed, auth_failures;
	uint64_t icmp_echo, data_dropped, filtered, mppe_errors, clear_dropped;
	uint64_t oversized;          /* datagrams, frames, packets too big for the buffers */
};

struct ras_session;
struct ras_verdict;

/* The lower layer: the call that carries the session's PPP frames (or, without PPP, the
 * SA that carries its packets). */
struct ras_lower_ops {
	enum tunnel_type tunnel;
	/* No PPP: the lower layer authenticates the user and carries IPv4 packets (see above). */
	bool ip;
	/* One encoded PPP frame (address/control bytes as the automaton put them); with `ip`
	 * one IPv4 packet. 0 or -1. */
	int (*send)(struct ras_session *rs, const uint8_t *frame, size_t len);
	/* With `ip`: the admission's verdict for the client, now or after a pending admission.
	 * `a` is what to tell it (accept with rs->addr, or the Windows error and text of a
	 * rejection, 720 when the granted address was not free), `v` the verdict as given (an
	 * authentication server's S= response and MPPE keys, the MSK of EAP-MSCHAPv2). The
	 * session is NETWORK after an acceptance; after a rejection it ends when this returns. */
	void (*admitted)(struct ras_session *rs, const struct ppp_admit *a,
	                 const struct ras_verdict *v);
	/* End the call: the link is finished (win_error 0 when it ended normally) for the
	 * cause ras_session_cause_text() gives. May call ras_session_lower_down() before it
	 * returns. */
	void (*close)(struct ras_session *rs, unsigned win_error, uint64_t now);
	/* The peer as "192.0.2.7:1701" / "[2001:db8::7]:1701" (logs, show, accounting). */
	const char *(*peer_text)(const struct ras_session *rs, char *buf, size_t n);
	/* The peer's address alone (Calling-Station-Id). */
	const char *(*peer_ip)(const struct ras_session *rs, char *buf, size_t n);
	/* The lower layer's numbers for logs and views: ids[0]/ids[1] the local / peer tunnel
	 * ID, ids[2]/ids[3] the local / peer call ID. False when it has none (any more). */
	bool (*ids)(const struct ras_session *rs, unsigned ids[4]);
	/* The cause of RAS_CAUSE_LOWER with its two numbers ("l2tp-cdn-3-0"). */
	void (*cause_text)(const struct ras_session *rs, unsigned a, unsigned b, char *buf,
	                   size_t n);
	/* Port accounting of the tunnel type (server.ports): take one for a new call (false
	 * when none is free), give it back when the call is gone. Lower layers that set up
	 * calls (L2TP ICRQ, PPTP OCRQ) call them before a session exists. */
	bool (*port_acquire)(void *lower);
	void (*port_release)(void *lower);
};

/* A request for admission: what ras_env_cbs.authorize gets. */
struct ras_auth_req {
	const char *user;
	enum ppp_auth_method method;
	enum ppp_cred cred;          /* what the local password check found */
	const struct ppp_auth *auth; /* the exchange (challenges, responses) to forward */
	struct admit_req admit;      /* the attempt as the policy engine would see it */
};

/* A verdict, now (the local policy engine) or later (ras_session_admit_resume). */
struct ras_verdict {
	bool accept;
	int win_error;               /* of a rejection: 691, 649, 647, ... */
	const char *reason;          /* a rejection's reason code ("no-dialin-permission") */
	const char *message;         /* text for the peer (M=...), NULL for a default */
	const char *detail;          /* the deciding step in one line, for the log */
	int policy;                  /* index of the granting / deciding policy, -1 none */
	bool address_from_pool;      /* lease any pool address */
	uint32_t address;            /* a given address (static, requested, Framed-IP) */
	int idle_timeout, session_timeout; /* minutes, 0 none */
	uint32_t enc_allowed;        /* enum enc_level bits the link may use */
	const char *mschap2_success; /* MS-CHAPv2: "S=<40 hex>" when the verdict proved the
	                                password, NULL to compute it from the password */
	const uint8_t *mppe_send_key, *mppe_recv_key; /* 16 bytes each, or NULL */
	bool server_checked;         /* the authentication server checked the credentials
	                                (a RADIUS Access-Accept for PAP or CHAP-MD5): the
	                                accept stands although the local check could not
	                                prove them. Honoured only by ras_session_admit_resume,
	                                never in a verdict given at once */
};

enum ras_admit_rc { RAS_ADMIT_NOW = 0, RAS_ADMIT_PENDING };

struct ras_env_cbs {
	/* One log line about `rs` (NULL: about none). */
	void (*log)(void *ctx, const struct ras_session *rs, enum ras_log cat, bool debug_only,
	            const char *text);
	void (*event)(void *ctx, struct ras_session *rs, enum ras_event ev);
	void (*random)(void *ctx, uint8_t *buf, size_t n);
	/* The user's cleartext password into buf (its length), -1 unknown (ppp_auth.h). */
	int (*password)(void *ctx, struct ras_session *rs, const char *user, char *buf,
	                size_t cap);
	/* Optional: MS-CHAPv2 Change-Password after E=648 (ppp_auth.h). */
	int (*change_password)(void *ctx, struct ras_session *rs, const char *user,
	                       const char *new_password);
	/* Optional: the admission. RAS_ADMIT_NOW with *v filled, or RAS_ADMIT_PENDING and
	 * the verdict later through ras_session_admit_resume(). NULL: the local policy
	 * engine (ras_session_admit_local). */
	enum ras_admit_rc (*authorize)(void *ctx, struct ras_session *rs,
	                               const struct ras_auth_req *q, struct ras_verdict *v);
	/* Optional: a checked IPv4 packet from the client for another host: true when it was
	 * taken (the TUN device), false to drop it as unroutable. */
	bool (*forward)(void *ctx, struct ras_session *rs, const uint8_t *ip, size_t len);
	/* Whether one more line about a dropped packet may be logged now (floods). */
	bool (*throttle)(void *ctx);
	/* Wall-clock time (policy day/time conditions, accounting). */
	time_t (*wall)(void *ctx);
	/* Ports of a tunnel type in use, the caller's own included. */
	int (*ports_in_use)(void *ctx, enum tunnel_type t);
};

/* Shared by every session of a server. */
struct ras_env {
	const struct config *cfg;
	const struct ppp_session_conf *ppp;  /* local_addr: the server's own address */
	struct addr_pool *pool;
	struct policy_result *pres;          /* policy_result_init'd for cfg, full_trace */
	const char *server_ip;               /* Called-Station-Id, NAS-IP-Address */
	uint32_t debug;                      /* 1 << enum ras_log: debug lines wanted */
	bool quiet;                          /* no log lines at all */
	struct ras_stats st;
	const struct ras_env_cbs *cbs;
	void *ctx;
	/* scratch of the calls (one session is in a call at a time) */
	uint64_t now;                        /* the time of the call under way */
	char reply_text[112];                /* PAP/CHAP failure text being built */
	char detail[600];                    /* the local admission's deciding step */
};

/* Flags beside the state. */
#define RAS_F_WAS_UP     0x01 /* came UP (accounting started); stays set */
#define RAS_F_ENC_CHECKED 0x02 /* the negotiated encryption was held against the profile */
#define RAS_F_POOL_ADDR  0x04 /* the address is leased from the pool */
#define RAS_F_LOWER_GONE 0x08 /* the lower layer is down: nothing more is sent */
#define RAS_F_NO_PPP     0x10 /* the lower layer is `ip`: no PPP at work */
#define RAS_F_USER_OK    0x20 /* no PPP: the user was admitted (ras_session_user names it) */
#define RAS_F_MACHINE_CERT 0x40 /* no PPP: a machine certificate, not EAP-MSCHAPv2 */
#define RAS_MPPE_LENT 0x80

struct ras_session {
	struct ppp_session ppp;
	struct ppp_session_cbs cbs;
	struct ras_env *env;
	const struct ras_lower_ops *ops;
	struct mppe_state *mppe;     /* send, then receive at mppe_off: lent to CCP when it
	                                opened with MPPE, sized for the modes; else NULL */
	uint8_t *keys;               /* MPPE master keys of a verdict (32 bytes), else NULL */
	uint32_t id;                 /* the owner's number for the session */
	uint8_t state;               /* enum ras_state */
	uint8_t flags;               /* RAS_F_* */
	uint8_t method;              /* enum ppp_auth_method */
	uint8_t enc_level;           /* enum enc_level the link uses, once checked */
	uint8_t cause;               /* enum ras_cause */
	uint8_t enc_allowed;         /* enum enc_level bits the granted profile allows */
	uint8_t admit_seq;           /* admissions asked so far (ras_session_admit_resume) */
	uint8_t mppe_mode;           /* RAS_MPPE_LENT | 1 send stateful | 2 receive stateful */
	uint16_t mppe_off;           /* offset of the receive state in the mppe block */
	uint16_t win_error;          /* what the client is told, 0 none */
	uint16_t cause_a, cause_b;   /* the cause's numbers */
	int16_t policy;              /* the granting policy, -1 none */
	uint32_t addr;               /* leased / granted client address, 0 none */
	int32_t idle_timeout, session_timeout; /* minutes, 0 none */
	time_t start_wall;           /* wall clock when it came up */
	uint64_t start_ms, up_ms, last_rx_ms;
	uint64_t rx_bytes, tx_bytes, rx_pkts, tx_pkts;
	char *ip_user;               /* no PPP: the name the lower layer authenticated */
	uint8_t ip_cred;             /* no PPP: enum ppp_cred of the lower layer's check */
};

/* Set up a session whose lower layer is up (the memory is the owner's); 0. Nothing is
 * sent before ras_session_start. */
int ras_session_init(struct ras_session *rs, struct ras_env *env,
                     const struct ras_lower_ops *ops, uint32_t id, uint64_t now);
/* Start PPP (LCP Configure-Request). Returns the next deadline. */
uint64_t ras_session_start(struct ras_session *rs, uint64_t now);
/* A PPP frame from the lower layer: IP goes to the data path, the rest to PPP. */
uint64_t ras_session_input(struct ras_session *rs, const uint8_t *frame, size_t len,
                           uint64_t now);
/* Timers due: PPP retransmissions and keepalives, the idle and session timeouts. */
uint64_t ras_session_tick(struct ras_session *rs, uint64_t now);
uint64_t ras_session_deadline(const struct ras_session *rs);
/* End the session administratively (LCP Terminate, then the lower layer's close). */
uint64_t ras_session_disconnect(struct ras_session *rs, enum ras_cause cause, uint64_t now);
/* The lower layer is gone: its cause (RAS_CAUSE_LOWER with its numbers, or
 * RAS_CAUSE_TUNNEL_CLOSED) unless one was set already. The session is DEAD when it
 * returns. */
void ras_session_lower_down(struct ras_session *rs, enum ras_cause cause, unsigned a,
                            unsigned b, uint64_t now);
/* Set the cause (the server's shutdown names its cause before the calls go down). */
void ras_session_set_cause(struct ras_session *rs, enum ras_cause cause, unsigned a,
                           unsigned b);
/* The verdict of an admission that answered RAS_ADMIT_PENDING; `seq` is the session's
 * admit_seq when it was asked. 0 applied; -1 ignored because the session no longer
 * waits for that verdict (closed, timed out, answered, asked again since). The caller
 * finds the session by its id: a verdict may outlive the session's memory. */
int ras_session_admit_resume(struct ras_session *rs, unsigned seq, const struct ras_verdict *v,
                             uint64_t now, uint64_t *deadline);
/* End at once without a word to the peer or the lower layer (the owner or the tunnel is
 * going away): accounting, the lease, DEAD; `cause` unless one was set already. */
void ras_session_abort(struct ras_session *rs, enum ras_cause cause, uint64_t now);
/* The local admission: the attempt through admit_decide and the policy engine, with the
 * trace logged. Fills *v (pointers valid until the next admission of any session). */
void ras_session_admit_local(struct ras_session *rs, const struct ras_auth_req *q,
                             struct ras_verdict *v);
/* One IPv4 packet for the client (the TUN device, the server's own answers): through
 * the profile's output filters and MPPE to the lower layer. */
void ras_session_send_ip(struct ras_session *rs, const uint8_t *ip, size_t len);
/* ---- sessions without PPP (ras_lower_ops.ip) ----------------------------------------- */
/* What the lower layer's own check of EAP-MSCHAPv2 found. */
struct ras_ip_auth {
	const char *user;            /* the name the client gave (its MS-CHAPv2 name) */
	enum ppp_cred cred;          /* the check against the password the server has */
	const uint8_t *challenge, *peer_challenge, *nt_response; /* 16, 16, 24 bytes: what an
	                                authentication server needs */
	bool machine_cert;           /* a machine certificate the lower layer verified (user: the
	                                name it stands for), judged as auth "machine-cert" */
};
/* The lower layer checked the credentials: the admission is asked (tunnel type of the
 * lower layer, EAP with MS-CHAPv2 or a machine certificate), its verdict reaches ops->admitted during this call
 * or, after RAS_ADMIT_PENDING, during ras_session_admit_resume. Once per session.
 * Returns the next deadline. */
uint64_t ras_session_authenticated(struct ras_session *rs, const struct ras_ip_auth *a,
                                   uint64_t now);
/* The admitted client's tunnel is up (its child SA installed): UP, accounting and the
 * timeouts start. Returns the next deadline. */
uint64_t ras_session_ip_up(struct ras_session *rs, uint64_t now);
/* One IPv4 packet from the client (decrypted by the lower layer). */
uint64_t ras_session_ip_input(struct ras_session *rs, const uint8_t *ip, size_t len,
                              uint64_t now);

/* The user the session authenticated ("" before), for show and accounting; the name the
 * client gave (also before the verdict), for requests to an authentication server. */
const char *ras_session_user(const struct ras_session *rs);
const char *ras_session_peer_user(const struct ras_session *rs);
/* The method for show and accounting: "MS-CHAPv2", "PAP", ..., "EAP-MSCHAPv2" or
 * "machine-certificate". */
const char *ras_session_method_name(const struct ras_session *rs);

/* Free what the session allocated (the owner frees the session itself). */
void ras_session_free(struct ras_session *rs);

/* "rejected-649", "idle-timeout", ... ("" when none is set). */
const char *ras_session_cause_text(const struct ras_session *rs, char *buf, size_t n);
/* The granting profile, NULL before admission (or without a local policy). */
const struct profile *ras_session_profile(const struct ras_session *rs);
static inline bool ras_session_was_up(const struct ras_session *rs)
{
	return rs->flags & RAS_F_WAS_UP;
}
static inline bool ras_session_dead(const struct ras_session *rs)
{
	return rs->state == RAS_DEAD;
}
/* What `show sessions` prints as the state: "lcp", "auth", "ncp", "up", ... */
const char *ras_session_show_state(const struct ras_session *rs);

/* The server's PPP settings from the configuration: the methods server.auth_methods
 * enables and PPP speaks (strongest first), the MPPE levels of server.encryption (every
 * link must encrypt without "none"), serve.ppp's MRU, keepalive, authentication retries
 * and timeout and IPv6; `name` is the CHAP name. Addresses (local_addr, DNS, WINS) are
 * the caller's. -1 when no method PPP speaks is enabled. */
int ras_ppp_conf(const struct config *c, const char *name, struct ppp_session_conf *p);

/* The level of encryption MPPE bits stand for (the strongest bit set). */
enum enc_level ras_mppe_level(uint32_t mppe_bits);

#endif
