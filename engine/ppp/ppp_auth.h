/* PPP authentication: the authenticator (server) and the peer (client) sides of PAP
 * (RFC 1334), CHAP-MD5 (RFC 1994) and MS-CHAPv2 (RFC 2759).
 *
 * Sans-I/O like the rest of the link: packets come in decoded, leave through `send` as a
 * `struct ppp_msg`, time is an argument and the next deadline is returned.
 *
 * The authenticator never decides alone: it checks the credentials against the password
 * the `password` callback returns (unknown user, wrong password, right password), then
 * asks `admit(user, method, result)`, which the server wires to the policy engine, for
 * the verdict and the Windows error a rejection carries (691 bad credentials, 649 no
 * dial-in permission, ...). MS-CHAPv2 failures carry that error in the
 * "E=%d R=%d C=%32hex V=3 M=..." text, and allow retries with a fresh challenge while
 * the error is 691 and retries remain.
 */
#ifndef VNET_PPP_AUTH_H
#define VNET_PPP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppp.h"
#include "ppp/ppp_fsm.h"

enum ppp_auth_method {
	PPP_AUTH_NONE = 0,
	PPP_AUTH_PAP,
	PPP_AUTH_CHAP_MD5,
	PPP_AUTH_MSCHAPV2,
	PPP_AUTH_COUNT,
};
#define PPP_AUTH_BIT(m) (1u << (m))
extern const struct tok ppp_auth_method_names[]; /* "PAP", "CHAP-MD5", "MS-CHAPv2" */

/* What the credentials check found, before policy. */
enum ppp_cred {
	PPP_CRED_OK = 0,    /* the password matches */
	PPP_CRED_BAD,       /* known user, wrong password */
	PPP_CRED_NO_USER,   /* the user is unknown */
	PPP_CRED_ERROR,     /* the check could not be made (crypto unavailable, bad text) */
};
extern const struct tok ppp_cred_names[];

/* The verdict of the admission callback. */
struct ppp_admit {
	bool accept;
	unsigned win_error;  /* Windows error a rejection maps to: 691, 649, 647, ... */
	const char *message; /* text for the peer (M=...), NULL for a default */
	bool checked;        /* an authentication server checked the credentials this
	                        authenticator could not (a RADIUS Access-Accept): an accept
	                        then stands whatever the local check found. Honoured only in
	                        ppp_auth_resume, the path of an authentication server */
};

/* What the admit_async callback says: the verdict is in *v now, or it comes later (an
 * authentication server is asked) through ppp_auth_resume(). While it is pending the
 * authenticator sends nothing, ignores the peer's retransmissions and stops its
 * Challenge timer; the phase timeout still runs. */
enum ppp_admit_rc { PPP_ADMIT_NOW = 0, PPP_ADMIT_PENDING };

/* Windows error numbers the authenticator uses on its own. */
#define PPP_WINERR_AUTH_FAILURE 691  /* ERROR_AUTHENTICATION_FAILURE */
#define PPP_WINERR_NO_DIALIN    649  /* ERROR_NO_DIALIN_PERMISSION */
#define PPP_WINERR_PPP_TIMEOUT  718  /* ERROR_PPP_TIMEOUT */
#define PPP_WINERR_PASSWD_EXPIRED 648 /* ERROR_PASSWD_EXPIRED */
#define PPP_WINERR_CHANGING_PASSWORD 709 /* ERROR_CHANGING_PASSWORD: the old password was
                                            proved, the new one refused */

enum ppp_auth_role { PPP_AUTH_AUTHENTICATOR = 0, PPP_AUTH_PEER };

struct ppp_auth_conf {
	const char *name;        /* authenticator: CHAP Name; peer: the user name */
	const char *password;    /* peer: the password */
	const char *retry_password; /* peer: password for an MS-CHAPv2 retry (R=1), or NULL */
	const char *new_password;   /* peer: when the server says the password expired (E=648),
	                               change it to this (MS-CHAPv2 Change-Password); NULL: give up */
	uint8_t max_retries;     /* authenticator: MS-CHAPv2 retries after a 691 (0..) */
	uint8_t max_transmits;   /* Challenge / Authenticate-Request sends before giving up */
	uint32_t restart_ms;     /* their retransmission interval */
	uint32_t timeout_ms;     /* authenticator: the whole phase, e.g. 30 s */
};

struct ppp_auth_cbs {
	void *ctx;
	void (*send)(void *ctx, struct ppp_msg *m);
	void (*event)(void *ctx, enum ppp_log kind, const char *text);
	/* Optional: whether `event` wants lines of this kind (NULL: every line). */
	bool (*log_wanted)(void *ctx, enum ppp_log kind);
	void (*random)(void *ctx, uint8_t *buf, size_t n);
	/* Authenticator: the user's cleartext password into buf (NUL-terminated, `cap` is
	 * PPP_AUTH_PASSWORD_MAX + 1); its length, -1 when the user is unknown, -2 when no
	 * password can be given (none is kept for the user, or it does not fit). Whatever is
	 * not a password that matches is a rejection: the authenticator never admits a peer
	 * whose credentials it could not check, whatever `admit` says. */
	int (*password)(void *ctx, const char *user, char *buf, size_t cap);
	struct ppp_admit (*admit)(void *ctx, const char *user, enum ppp_auth_method method,
	                          enum ppp_cred cred);
	/* Authenticator, optional, used instead of admit when set: the verdict now or later. */
	enum ppp_admit_rc (*admit_async)(void *ctx, const char *user, enum ppp_auth_method method,
	                                 enum ppp_cred cred, struct ppp_admit *v);
	/* Authenticator, optional: store a password the peer changed with MS-CHAPv2
	 * Change-Password (after E=648). 0 accepted, anything else refused (the peer gets
	 * 709); NULL: password changes are not offered. */
	int (*change_password)(void *ctx, const char *user, const char *new_password);
	/* The phase is over: success, or failure with the Windows error. */
	void (*done)(void *ctx, bool ok, unsigned win_error);
};

enum ppp_auth_state {
	PPP_AUTH_IDLE = 0,
	PPP_AUTH_WAIT,      /* authenticator: Challenge sent / waiting for Auth-Req;
	                       peer: Auth-Req sent / waiting for a Challenge */
	PPP_AUTH_WAIT_RESULT, /* peer: Response sent */
	PPP_AUTH_PENDING,   /* authenticator: credentials received, the verdict is pending */
	PPP_AUTH_SUCCESS,
	PPP_AUTH_FAILED,
};

/* The longest user name the authenticator reads, in bytes: Windows sends names of up to
 * 256 characters (UNLEN) after a "DOMAIN\" prefix, and UPNs (user@dns.domain), in UTF-8;
 * 1024 bytes carry all of them. PAP carries at most 255 (a one-byte length); CHAP and
 * MS-CHAPv2 names fill the rest of the packet. A longer name is not read: the attempt
 * is rejected as an unknown user. */
#define PPP_AUTH_USER_MAX 1024
/* PAP's Peer-ID and Password fields: a one-byte length. */
#define PPP_PAP_FIELD_MAX 255
/* The longest password the server checks, in bytes: what PAP carries, which is also
 * within the 256 UTF-16 characters MS-CHAPv2 carries. The configuration refuses longer
 * passwords (engine/policy/config.c). */
#define PPP_AUTH_PASSWORD_MAX PPP_PAP_FIELD_MAX

struct ppp_auth {
	const struct ppp_auth_conf *conf;
	const struct ppp_auth_cbs *cbs;
	uint8_t role;           /* enum ppp_auth_role */
	uint8_t method;         /* enum ppp_auth_method */
	uint8_t state;          /* enum ppp_auth_state */
	uint8_t id;             /* current identifier */
	uint8_t transmits;      /* sends of the current Challenge / Auth-Req */
	uint8_t retries;        /* MS-CHAPv2 retries used */
	uint8_t reply_code;     /* last Success/Failure/Ack/Nak sent, resent on duplicates */
	uint8_t reply_id;
	bool retry_wait;        /* authenticator: Failure with R=1 sent, awaiting the retry */
	bool change_wait;       /* authenticator: E=648 sent, awaiting Change-Password;
	                           peer: Change-Password sent */
	bool changed;           /* the password was changed in this phase */
	bool user_fixed;        /* authenticator: `user` succeeded on this link; a later
	                           authentication must name the same user */
	uint8_t pending_cred;   /* enum ppp_cred of the check whose verdict is pending */
	unsigned win_error;
	uint64_t deadline;      /* retransmission */
	uint64_t give_up_at;    /* authenticator: end of the phase */
	uint8_t challenge[16];  /* authenticator challenge (CHAP-MD5 uses 16 bytes too) */
	uint8_t peer_challenge[16];
	uint8_t nt_response[24];
	uint8_t pw_hash_hash[16]; /* MS-CHAPv2 success: MD4(MD4(password)), for MPPE keys */
	bool have_hash_hash;
	char auth_resp[43];     /* MS-CHAPv2: "S=..." for the Success, computed with the check */
	bool have_auth_resp;
	/* what the peer sent to prove its password (PAP's password, CHAP-MD5's response,
	 * MS-CHAPv2's Response value), for an authentication server: it points into the
	 * received packet and is set only while the admission callback runs, and only when
	 * the user name was taken (NULL otherwise), so nothing of it is kept */
	const uint8_t *given;
	uint16_t given_len;
	/* The peer's name (authenticator): "" until one is read, never NULL. Held in
	 * user_mem, allocated to its size (at most PPP_AUTH_USER_MAX bytes and the NUL), so
	 * a link pays for the name its peer gave, not for the longest one allowed. */
	const char *user;
	char *user_mem;
	char reply_msg[112];    /* text of the last Success/Failure/Ack/Nak */
};

void ppp_auth_init(struct ppp_auth *a, enum ppp_auth_role role, const struct ppp_auth_conf *conf,
                   const struct ppp_auth_cbs *cbs);
/* Free what the exchange allocated (the peer's name); `user` reads "" afterwards. */
void ppp_auth_free(struct ppp_auth *a);
/* Start the phase with the method LCP agreed on. Returns the next deadline. */
uint64_t ppp_auth_start(struct ppp_auth *a, enum ppp_auth_method method, uint64_t now);
/* A received PAP or CHAP packet. Returns the next deadline. */
uint64_t ppp_auth_input(struct ppp_auth *a, const struct ppp_msg *m, uint64_t now);
uint64_t ppp_auth_tick(struct ppp_auth *a, uint64_t now);
uint64_t ppp_auth_deadline(const struct ppp_auth *a);
/* Stop timers (the link went down). */
void ppp_auth_stop(struct ppp_auth *a);
/* The verdict of an admission that answered PPP_ADMIT_PENDING: the authenticator answers
 * the peer as it would have at once. `success`, for an MS-CHAPv2 acceptance: the
 * authenticator response "S=<40 hex>" when the verdict brings it (an authentication
 * server proved the password), NULL to compute it from the password. 0, or -1 (nothing
 * done) when no verdict is pending: the phase ended meanwhile (timeout, link down) or
 * the verdict was given already. */
int ppp_auth_resume(struct ppp_auth *a, const struct ppp_admit *v, const char *success,
                    uint64_t now);

/* The MPPE master key (RFC 3079 GetMasterKey) of an MS-CHAPv2 exchange that succeeded,
 * the same on both sides. 0, or -1 when there is none (other method, not yet succeeded). */
int ppp_auth_mppe_master_key(const struct ppp_auth *a, uint8_t out[16]);

/* Build the MS-CHAPv2 Failure text "E=691 R=1 C=<32 hex> V=3 M=..." into out. */
void ppp_auth_mschapv2_failure(unsigned error, bool retry, const uint8_t challenge[16],
                               const char *msg, char *out, size_t cap);
/* The user name MS-CHAPv2 hashes: the part after a "DOMAIN\" prefix. */
const char *ppp_auth_strip_domain(const char *user);

#endif
