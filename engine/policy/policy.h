/* The remote-access policy evaluator (Windows Server 2003 IAS/RRAS semantics).
 *
 * policy_evaluate decides one attempt the way the server does: server state and ports,
 * the user's account and credentials, the ordered policies (first match decides, all
 * conditions of a policy must hold, no match rejects), the permission matrix (user
 * Deny / Allow / control through policy, Ignore-User-Dialin-Properties), the user's
 * dial-in constraints, the profile's constraints and every conflict between the profile
 * and the server, and finally the address. It does no I/O and, once the result was set
 * up with policy_result_init for a configuration, allocates nothing (the facts store
 * reuses its memory after facts_reset).
 *
 * The trace is recorded as compact steps; policy_step_text renders one for people.
 */
#ifndef VNET_POLICY_H
#define VNET_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "policy/attempt.h"
#include "policy/config.h"
#include "rules/facts.h"

/* Decision reasons: the `policy.reason` codes of docs/facts.md. */
enum policy_reason {
	R_ACCEPTED, R_NO_POLICIES, R_NO_MATCHING_POLICY, R_NO_DIALIN_PERMISSION, R_POLICY_DENY,
	R_UNKNOWN_USER, R_BAD_CREDENTIALS, R_ACCOUNT_DISABLED, R_ACCOUNT_LOCKED,
	R_PASSWORD_EXPIRED, R_LOGON_HOURS, R_DAY_TIME, R_NAS_PORT_TYPE, R_CALLED_STATION,
	R_CALLING_STATION, R_TUNNEL_TYPE, R_AUTH_METHOD, R_EAP_TYPE, R_ENCRYPTION, R_MULTILINK,
	R_BAP, R_PORT_LIMIT, R_NO_PORTS, R_PORTS_EXHAUSTED, R_LAN_PROTOCOL, R_POOL_EXHAUSTED,
	R_STATIC_IP_UNROUTABLE, R_REQUESTED_ADDRESS, R_REMOTE_ACCESS_DISABLED, R_SERVICE_STOPPED,
	R_IPSEC, R_NO_RADIUS, R_ACCOUNT_UNREADABLE,
	R_N
};

struct reason_info {
	const char *code;  /* "pool-exhausted" */
	int error;         /* Windows error the client shows (0 on accept) */
	int nps_reason;    /* NPS/IAS reason code; 0 when no policy-server event is logged */
	const char *text;  /* one line: what happened */
};
extern const struct reason_info policy_reasons[R_N];

/* Free client addresses of the static pool: the server keeps the pool's first address
 * for itself (inferred). */
int64_t policy_pool_free(const struct server *s);

/* The facts of the server's settings that hold for every attempt (service, remote
 * access, methods, multilink, BAP, addresses, IPsec key, authentication provider and
 * RADIUS servers, directory access, Windows version, Internet filters), with their
 * configuration keys as evidence: part of `policy test`'s facts and of `policy check`'s
 * (engine/policy/serverfacts.c). */
void policy_server_facts(const struct config *c, struct facts *f);
/* The server hands out IPX network numbers that a network beside it already uses. */
bool policy_ipx_network_conflict(const struct config *c);

enum step_kind {
	ST_SERVICE, ST_REMOTE_ACCESS, ST_PORTS, ST_AUTH_SERVER, ST_USER, ST_LOCKED,
	ST_CREDENTIALS, ST_DISABLED, ST_PASSWORD_EXPIRED, ST_LOGON_HOURS, ST_POLICY, ST_COND,
	ST_PERMISSION, ST_CALLER_ID, ST_PROFILE_DAY_TIME, ST_PROFILE_AUTH, ST_PROFILE_EAP,
	ST_PROFILE_CALLED, ST_PROFILE_PORT_TYPE, ST_PROFILE_TUNNEL, ST_ENCRYPTION, ST_MULTILINK,
	ST_BAP, ST_LAN, ST_ADDRESS, ST_TUNNEL, ST_IPSEC, ST_RADIUS, ST_DIRECTORY, ST_TRAFFIC,
	ST_ROUTER, ST_N
};
enum verdict { V_PASS, V_FAIL, V_SKIP, V_INFO };

struct policy_step {
	uint8_t kind;      /* enum step_kind */
	uint8_t verdict;   /* enum verdict */
	int16_t reason;    /* enum policy_reason when V_FAIL, else -1 */
	int32_t policy;    /* policy index or -1 */
	int32_t cond;      /* condition index or -1 */
	int32_t aux;       /* kind-specific detail (see policy.c) */
	bool decisive;     /* this failure decided the attempt (later ones are extra findings) */
	bool after;        /* evaluated only for the trace, after the decision (-v) */
};

struct policy_result {
	bool accept;
	enum policy_reason reason;
	int error;
	int nps_reason;
	int policy;              /* deciding policy, -1 when none matched */
	const struct user *user; /* the user evaluated, NULL when unknown */
	/* granted session */
	bool has_address;
	uint32_t address;
	bool address_dhcp;       /* leased from DHCP (address not known in advance) */
	bool address_apipa;      /* DHCP unreachable: an automatic private address */
	int idle_timeout, session_timeout; /* minutes, 0 none */
	enum enc_level encryption;
	int links;
	enum tunnel_type tunnel; /* the tunnel type used: the attempt's, or for "automatic" the
	                          * one the client ends on (the last one tried when none works) */
	/* trace */
	struct policy_step *steps;
	size_t nsteps, cap;
	/* options */
	bool full_trace;         /* evaluate and record every condition of each policy tried
	                          * (default true); when false only the decision and the
	                          * deciding steps are recorded, and an index skips policies
	                          * whose group condition cannot hold */
	bool trace_after;        /* also evaluate the policies after the deciding one */
	/* scratch, owned */
	void *match_data;
	int8_t *re_cache;
	size_t nslots;
	uint64_t *cand;          /* candidate policies (pol_words) */
	size_t pol_words;
};

/* Prepare a result for evaluations against `c` (allocates the trace and scratch once).
 * 0 on success, -1 out of memory. */
/* The Windows error of an encryption level that `allowed` (enum enc_level bits of the
 * profile and the server) does not admit: 743 none but encryption required, 741 too
 * weak, 742 too strong. The policy evaluator and the live session's check of the
 * negotiated level (engine/server/ras_session.c) both answer with it. */
int policy_encryption_error(uint32_t allowed, enum enc_level level);
int policy_result_init(struct policy_result *r, const struct config *c);
void policy_result_free(struct policy_result *r);

/* Decide `a` under `c`. Fills `r` and, when `facts` is not NULL, adds the Policy facts
 * of docs/facts.md (after facts_reset by the caller when reusing the store). Returns 0
 * for accept, 1 for reject. */
int policy_evaluate(const struct config *c, const struct attempt *a, struct policy_result *r,
                    struct facts *facts);

/* A step as text for people and scripts. */
struct step_text {
	const char *check;  /* "Windows-Groups", "permission", "encryption", ... */
	char expected[256]; /* what the configuration wants */
	char actual[256];   /* what the attempt had */
	char note[320];     /* a sentence: why it passed or failed */
	char where[160];    /* configuration key path of the setting ("policies[0].profile.encryption") */
	bool fixed;         /* every field but `actual` follows from the configuration and the
	                     * step alone (not from the attempt): a caller may keep its rendering
	                     * of the other fields for the next step with the same values */
};
void policy_step_text(const struct config *c, const struct attempt *a,
                      const struct policy_step *s, struct step_text *out);
const char *policy_verdict_name(enum verdict v);

/* For a policy that did not match: "would match if NAS-Port-Type were virtual; the attempt
 * had async" style hints, one per failing condition, into buf. Returns buf. */
const char *policy_near_miss(const struct config *c, const struct attempt *a,
                             const struct policy_result *r, size_t policy, char *buf,
                             size_t bufsz);

/* The same for the policy whose step is r->steps[at] (a kind ST_POLICY step): its
 * conditions follow it, so a caller walking the trace gets every hint in one pass. */
const char *policy_near_miss_at(const struct config *c, const struct attempt *a,
                                const struct policy_result *r, size_t at, char *buf,
                                size_t bufsz);

/* The attempt's value of a condition attribute, as text ("(absent)" when missing). */
const char *policy_attr_value(const struct config *c, const struct attempt *a,
                              enum cond_attr attr, char *buf, size_t bufsz);

#endif
