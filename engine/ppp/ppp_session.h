/* One PPP link, server or client side: LCP, then authentication, then the network
 * control protocols IPCP, IPV6CP and CCP (MPPE), as RFC 1661 section 3 phases them.
 * The NCPs are independent: IPCP decides whether the link is usable; IPV6CP failing
 * or being rejected leaves the link up with IPv4 alone.
 *
 * Sans-I/O: ppp_session_input() takes one received PPP frame (address/control bytes
 * optional), ppp_session_tick() fires due timers; both take the time in milliseconds
 * and return the next deadline (PPP_NEVER for none). Frames to send leave through the
 * `send` callback already encoded; the log hears one line per phase change ("lcp
 * opened", "auth ok user=bob method=MS-CHAPv2", "ipcp address 10.0.0.5"). The link lives
 * in `struct ppp_session`, but for the peer's user name, allocated to its size when it
 * is read (ppp_session_free gives it back).
 */
#ifndef VNET_PPP_SESSION_H
#define VNET_PPP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppp.h"
#include "ppp/ppp_auth.h"
#include "ppp/ppp_fsm.h"

enum ppp_phase {
	PPP_PHASE_DEAD = 0,
	PPP_PHASE_ESTABLISH, /* LCP */
	PPP_PHASE_AUTH,
	PPP_PHASE_NETWORK,   /* NCPs negotiating or open */
	PPP_PHASE_TERMINATE,
};
extern const struct tok ppp_phase_names[];

/* MPPE levels (CCP option 18 bits) a side accepts: any of MPPE_BIT_L/M/S. */
struct ppp_session_conf {
	bool is_server;
	struct ppp_fsm_conf fsm;      /* restart timer and counters, shared by LCP/NCPs */
	/* LCP */
	uint16_t mru;                 /* our MRU (1400 default when 0) */
	uint32_t auth_methods;        /* server: PPP_AUTH_BIT() of enabled methods;
	                                 client: methods it accepts */
	uint8_t auth_pref[PPP_AUTH_COUNT]; /* order of preference, PPP_AUTH_NONE-terminated */
	bool pfc, acfc;               /* request PFC / ACFC */
	uint32_t echo_interval_ms;    /* 0: no keepalive */
	uint8_t echo_fail_max;        /* unanswered Echo-Requests before the link is dropped */
	/* authentication */
	struct ppp_auth_conf auth;
	/* IPCP */
	uint32_t local_addr;          /* server: its own address in IPCP (host order) */
	uint32_t dns[2], wins[2];     /* server: handed out when non-zero */
	bool want_dns;                /* client: ask for DNS servers */
	bool want_wins;               /* client: ask for WINS (NBNS) servers */
	uint32_t client_request_addr; /* client: address to ask for (0 = assign me one) */
	/* IPV6CP */
	bool ipv6;                    /* negotiate IPV6CP (RFC 5072); off: Protocol-Reject it */
	/* CCP */
	uint32_t mppe_levels;         /* MPPE_BIT_L | MPPE_BIT_M | MPPE_BIT_S allowed; 0: no CCP */
	bool mppe_required;           /* no common level ends the link */
	bool mppe_stateless;          /* offer the H bit */
};

struct ppp_session_cbs {
	void *ctx;
	/* An encoded PPP frame to send (address/control bytes included unless ACFC). */
	void (*send)(void *ctx, const uint8_t *frame, size_t len);
	void (*event)(void *ctx, enum ppp_log kind, const char *text);
	/* Optional: whether `event` wants lines of this kind; false spares formatting lines
	 * the owner would drop (the trace). NULL: every line. */
	bool (*log_wanted)(void *ctx, enum ppp_log kind);
	void (*random)(void *ctx, uint8_t *buf, size_t n);
	/* Server: authentication (see ppp_auth.h). */
	int (*password)(void *ctx, const char *user, char *buf, size_t cap);
	struct ppp_admit (*admit)(void *ctx, const char *user, enum ppp_auth_method method,
	                          enum ppp_cred cred);
	/* Server, optional, used instead of admit when set: the verdict now, or pending until
	 * ppp_session_admit_resume (ppp_auth.h). */
	enum ppp_admit_rc (*admit_async)(void *ctx, const char *user, enum ppp_auth_method method,
	                                 enum ppp_cred cred, struct ppp_admit *v);
	/* Server, optional: a password changed with MS-CHAPv2 Change-Password (ppp_auth.h). */
	int (*change_password)(void *ctx, const char *user, const char *new_password);
	/* Server: an address for the peer (host order), given what it asked for (0 = any);
	 * 0 when the pool is exhausted. Released with addr_free. */
	uint32_t (*addr_alloc)(void *ctx, uint32_t requested);
	void (*addr_free)(void *ctx, uint32_t addr);
	/* The link is dead: ok false with the Windows error when it never came up or failed. */
	void (*finished)(void *ctx, unsigned win_error, const char *why);
	/* Server, optional: the MPPE master send and receive keys (RFC 3079, 16 bytes each)
	 * when the admission brought them (an authentication server's MS-MPPE-Send-Key and
	 * MS-MPPE-Recv-Key): 0; -1 to derive them from the MS-CHAPv2 exchange. */
	int (*mppe_keys)(void *ctx, uint8_t send[16], uint8_t recv[16]);
	/* Optional: CCP opened with MPPE; lend the two states now (ppp_ccp_set_mppe) with
	 * room for the modes agreed: mppe_state_size(tx_stateless) and
	 * mppe_state_size(rx_stateless) bytes (engine/ppp/mppe.h). False: none, the link goes
	 * without MPPE keys. Without this callback the states lent after ppp_session_init
	 * serve, whole. */
	bool (*mppe_lend)(void *ctx, bool tx_stateless, bool rx_stateless);
};

struct ppp_lcp {
	struct ppp_fsm fsm;
	uint32_t my_magic, peer_magic;
	uint16_t my_mru, peer_mru;
	uint8_t auth_try;        /* server: method proposed in the current request */
	uint8_t auth_tried;      /* server: PPP_AUTH_BIT()s proposed so far */
	uint8_t auth;            /* method agreed (server: Ack'd; client: Ack'd by us) */
	uint8_t loops;           /* magic-number collisions in a row */
	bool rej_mru, rej_magic, rej_pfc, rej_acfc;
	bool peer_pfc, peer_acfc;
	uint8_t echo_id;
	uint8_t echo_outstanding;
	uint64_t echo_next;      /* next keepalive, PPP_NEVER when off */
};

struct ppp_ipcp {
	struct ppp_fsm fsm;
	uint32_t peer_addr;      /* server: assigned; client: the server's */
	uint32_t my_addr;        /* client: what we ask for / got */
	uint32_t dns[2], wins[2];/* client: what we ask for / got */
	bool rej_addr, rej_dns[2], rej_wins[2];
	bool allocated;
};

/* IPV6CP: 64-bit interface identifiers, all zero meaning "none". */
struct ppp_ipv6cp {
	struct ppp_fsm fsm;
	uint8_t my_id[8];        /* ours: tentative, then the one the peer Acked */
	uint8_t peer_id[8];      /* the peer's, as we Acked it */
	uint8_t nak_id[8];       /* what our last Nak suggested to the peer */
	bool peer_has_id;        /* the peer's Acked request carried an identifier */
	bool nak_sent;           /* nak_id is set */
	bool rej_ifid;           /* the peer rejected the option: my_id is unconfirmed */
	uint8_t renewals;        /* identifiers we drew again after a collision */
};

struct ppp_ccp {
	struct ppp_fsm fsm;
	uint32_t my_bits;        /* what our request offers */
	uint32_t peer_bits;      /* what we Ack'd of the peer's */
	bool rej_mppe;
	/* MPPE data path (engine/ppp/mppe.h), in states the owner lends (ppp_ccp_set_mppe),
	 * set up when CCP opens with MPPE after an MS-CHAPv2 success: `tx` encrypts what
	 * we send (the peer's Ack'd request: peer_bits), `rx` decrypts what we receive (our
	 * Ack'd request: my_bits). Cleared when CCP goes down. */
	struct mppe_state *tx, *rx;
	bool mppe_on;            /* tx and rx hold keys */
	uint8_t reset_id;        /* identifier of our last Reset-Request */
};

struct ppp_session {
	const struct ppp_session_conf *conf;
	const struct ppp_session_cbs *cbs;
	uint8_t phase;           /* enum ppp_phase */
	bool auth_done;
	bool ipcp_up, ccp_up, ipv6cp_up;
	bool ncps_started;       /* NCPs were given Up/Open since LCP last came up */
	bool was_up;             /* IPCP opened at least once: the link was usable */
	bool finished;           /* finished callback delivered */
	unsigned win_error;      /* why the link failed (0 when it did not) */
	/* The authenticated user name: the peer's (server: the authenticator's buffer, which a
	 * later authentication on the link cannot change to another name) or ours (client);
	 * "" until authentication succeeds. Never NULL. */
	const char *user;
	struct ppp_lcp lcp;
	struct ppp_auth auth;
	struct ppp_auth_cbs auth_cbs;
	struct ppp_ipcp ipcp;
	struct ppp_ipv6cp ipv6cp;
	struct ppp_ccp ccp;
	uint32_t rx_frames, rx_bad, tx_frames;
};

void ppp_session_init(struct ppp_session *s, const struct ppp_session_conf *conf,
                      const struct ppp_session_cbs *cbs);
/* Free what the link allocated (the peer's user name): the owner calls it once the link
 * is no longer used; `user` reads "" afterwards. */
void ppp_session_free(struct ppp_session *s);
/* The lower layer is up (L2TP session established): start LCP. */
uint64_t ppp_session_start(struct ppp_session *s, uint64_t now);
uint64_t ppp_session_input(struct ppp_session *s, const uint8_t *frame, size_t len, uint64_t now);
uint64_t ppp_session_tick(struct ppp_session *s, uint64_t now);
uint64_t ppp_session_deadline(const struct ppp_session *s);
/* Administrative close: LCP Terminate-Request with the reason. */
uint64_t ppp_session_close(struct ppp_session *s, const char *why, unsigned win_error,
                           uint64_t now);
/* The lower layer went away. */
void ppp_session_lower_down(struct ppp_session *s, uint64_t now);
/* The verdict of an admission that answered PPP_ADMIT_PENDING (ppp_auth_resume): the peer gets
 * its Success or Failure and the link goes on as it would have. -1 when no verdict was
 * pending (the phase ended meanwhile); else 0 and *deadline the next deadline. */
int ppp_session_admit_resume(struct ppp_session *s, const struct ppp_admit *v,
                             const char *success, uint64_t now, uint64_t *deadline);
/* True while the authenticator waits for a pending verdict. */
static inline bool ppp_session_admit_pending(const struct ppp_session *s)
{
	return s->auth.state == PPP_AUTH_PENDING;
}
/* Default configuration (RFC timers and counters, MS-CHAPv2 > CHAP-MD5 > PAP). */
void ppp_session_conf_default(struct ppp_session_conf *c, bool is_server);

/* ---- used by the protocol files ------------------------------------------------ */
extern const struct ppp_fsm_ops ppp_lcp_ops, ppp_ipcp_ops, ppp_ccp_ops, ppp_ipv6cp_ops;
void ppp_session_log(struct ppp_session *s, enum ppp_log kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Whether the owner wants lines of this kind (ppp_session_cbs.log_wanted). */
bool ppp_session_log_wanted(const struct ppp_session *s, enum ppp_log kind);
/* ppp_fsm_ops.tracing of the link's protocols: the owner wants the trace. */
bool ppp_session_fsm_tracing(struct ppp_fsm *f);
void ppp_session_send_msg(struct ppp_session *s, struct ppp_msg *m);
/* Hooks the protocol files call on their this-layer actions. */
void ppp_session_lcp_up(struct ppp_session *s, uint64_t now);
void ppp_session_lcp_down(struct ppp_session *s, uint64_t now);
void ppp_session_lcp_finished(struct ppp_session *s, uint64_t now);
void ppp_session_ncp_up(struct ppp_session *s, uint64_t now);
void ppp_session_ncp_finished(struct ppp_session *s, struct ppp_fsm *f, uint64_t now);
/* MPPE (engine/ppp/mppe.h). The owner lends two states after ppp_session_init (kept out of
 * struct ppp_session, so links without MPPE do not pay for them); without them CCP
 * still negotiates but no keys are set up. */
struct mppe_state;
void ppp_ccp_set_mppe(struct ppp_session *s, struct mppe_state *tx, struct mppe_state *rx);
/* Send a CCP Reset-Request: mppe_decrypt on ccp.rx said MPPE_ERR_RESET (the caller may
 * repeat it on its own timer while mppe_out_of_sync(s->ccp.rx)). Nothing unless CCP is
 * opened. A Reset-Request from the peer is answered here with a Reset-Ack and makes the
 * next packet encrypted with ccp.tx change key and carry the A bit. */
void ppp_ccp_reset_request(struct ppp_session *s);
/* LCP keepalive and loop detection (ppp_lcp.c). */
uint64_t ppp_lcp_tick(struct ppp_session *s, uint64_t now);
uint32_t ppp_session_rand32(struct ppp_session *s);
/* Address formatting helper: "10.0.0.5". */
void ppp_ip_str(uint32_t a, char *buf, size_t n);
/* Interface identifier as the decoder prints it: "dc:15:15:9b:59:57:c9:6d" (n >= 24). */
void ppp_ifid_str(const uint8_t id[8], char *buf, size_t n);

#endif
