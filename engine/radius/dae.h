/* RFC 5176 Dynamic Authorization in `vnet serve` as the NAS, sans-I/O: a Disconnect-Request
 * or CoA-Request in, the ACK or NAK (or nothing) out.
 *
 * A request is answered only when it comes from a client of
 * server.radius.dynamic_authorization (its address; the RADIUS servers with their secrets
 * when no clients are listed) and its Request Authenticator verifies with that client's
 * secret (RFC 5176 3.5: MD5 over the packet with a zero authenticator and the secret).
 * Dropped without an answer, counted and logged (peer bytes escaped): an unknown source,
 * a malformed datagram, another code, an authenticator that does not verify, a
 * Message-Authenticator that does not verify (or none when require_message_authenticator
 * is set), an Event-Timestamp more than event_timestamp_window seconds away from the
 * clock (a replay).
 *
 * What the request may carry, and what it means:
 *   session identification, all of which must hold for a session: User-Name,
 *     Acct-Session-Id, Framed-IP-Address, Calling-Station-Id, Called-Station-Id,
 *     NAS-Port, NAS-Port-Type (the values vnet's accounting gives: dae_sess);
 *   NAS identification: NAS-IP-Address, NAS-Identifier must be this NAS's, NAS-IPv6-Address
 *     is never (NAK 403 NAS Identification Mismatch);
 *   Service-Type: Framed only (every session is); Authorize Only and the others get
 *     NAK 405 Unsupported Service (Authorize Only needs an Access-Request this NAS does
 *     not make on its own);
 *   in a CoA-Request: Session-Timeout and Idle-Timeout, applied to the sessions (the
 *     session model counts whole minutes: seconds are rounded up; 0 removes the limit);
 *     Filter-Id gets NAK 401 (a session's filters are its granting profile's, there are no
 *     named filter lists to switch to);
 *   Proxy-State (copied into the answer), Event-Timestamp, Message-Authenticator;
 *   anything else, Vendor-Specific included, gets NAK 401 Unsupported Attribute: an
 *   identification the NAS cannot evaluate is never ignored, it would widen the request.
 * A request without any session identification gets NAK 402 Missing Attribute, as does a
 * CoA-Request with nothing to change and, with require_event_timestamp, a request
 * without Event-Timestamp; an attribute that occurs twice, or an Error-Cause in a request,
 * NAK 404 Invalid Request; a value of the wrong length NAK 407 Invalid Attribute Value.
 * No session found: NAK 503 Session Context Not Found; the sessions could not be acted
 * on: NAK 506 Resources Unavailable. Every session a Disconnect-Request identifies ends
 * (Acct-Terminate-Cause Admin-Reset); every one a CoA-Request identifies takes the change.
 *
 * Every answer carries a Message-Authenticator and is signed with the request's
 * authenticator (the Response Authenticator of RFC 5176 3.5). A request sent again (same
 * source, code, identifier and authenticator, within the Event-Timestamp window) gets the
 * answer it got before: radius/dupcache.h with duplicate_cache slots. */
#ifndef VNET_RADIUS_DAE_H
#define VNET_RADIUS_DAE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "policy/config.h"
#include "radius.h"
#include "radius/dupcache.h"

/* Error-Cause values (RFC 5176 3.6) */
enum dae_error {
	DAE_OK = 0,
	DAE_RESIDUAL_REMOVED = 201,
	DAE_UNSUPPORTED_ATTRIBUTE = 401,
	DAE_MISSING_ATTRIBUTE = 402,
	DAE_NAS_MISMATCH = 403,
	DAE_INVALID_REQUEST = 404,
	DAE_UNSUPPORTED_SERVICE = 405,
	DAE_INVALID_VALUE = 407,
	DAE_PROHIBITED = 501,
	DAE_NOT_FOUND = 503,
	DAE_NOT_REMOVABLE = 504,
	DAE_RESOURCES = 506,
};
extern const struct tok dae_error_names[]; /* "Session-Context-Not-Found", ... */

#define RADIUS_ATTR_FILTER_ID 11
#define RADIUS_ATTR_PROXY_STATE 33
#define RADIUS_ATTR_NAS_IPV6_ADDRESS 95
#define RADIUS_ATTR_ERROR_CAUSE 101

/* What a request names (the identification it carries; has_* false: not given). */
struct dae_ident {
	const uint8_t *user, *acct_session_id, *calling, *called;
	size_t user_len, acct_session_id_len, calling_len, called_len;
	bool has_user, has_acct_session_id, has_calling, has_called;
	bool has_framed_ip, has_nas_port, has_nas_port_type;
	uint32_t framed_ip, nas_port, nas_port_type;
};

/* A CoA-Request's change (seconds; 0 removes the limit). */
struct dae_change {
	bool has_session_timeout, has_idle_timeout;
	uint32_t session_timeout, idle_timeout;
};

/* A session as the NAS's accounting describes it. */
struct dae_sess {
	const char *user, *acct_session_id, *calling, *called;
	uint32_t framed_ip;          /* 0: none yet */
	uint32_t nas_port, nas_port_type;
};

/* Whether every identification of q holds for s. */
bool dae_session_matches(const struct dae_ident *q, const struct dae_sess *s);

struct dae_cbs {
	/* One log line (debug_only: only with -d radius). */
	void (*log)(void *ctx, bool debug_only, const char *text);
	time_t (*wall)(void *ctx);
	/* Whether one more line about a dropped datagram may be logged now (floods). */
	bool (*throttle)(void *ctx);
	/* Act on every session q identifies: end it (c NULL) or apply c. The number of
	 * sessions identified, or -1 when they could not be acted on. */
	int (*act)(void *ctx, const struct dae_ident *q, const struct dae_change *c);
};

/* This NAS as its requests name it: NAS-Identifier and NAS-IP-Address (0: none). */
struct dae_nas {
	const char *identifier;
	uint32_t ip;
};

struct dae_stats {
	uint64_t disconnect_requests, coa_requests, acks, naks;
	uint64_t unknown_client, malformed, unsupported, bad_authenticator, bad_msg_auth,
	         no_msg_auth, stale, duplicates;
};

struct dae {
	const struct radius_dae_conf *conf;
	struct dae_nas nas;
	const struct dae_cbs *cbs;
	void *ctx;
	struct rad_dupcache cache;
	struct dae_stats st;
};

/* 0, or -1 out of memory. conf and nas.identifier must outlive d. */
int dae_init(struct dae *d, const struct radius_dae_conf *conf, const struct dae_nas *nas,
             const struct dae_cbs *cbs, void *ctx);
void dae_free(struct dae *d);
/* One datagram from `peer`; the answer to send back is written to out (cap bytes, at
 * least RADIUS_MAX_LEN) and its length returned, 0 when nothing is sent. */
size_t dae_input(struct dae *d, const struct sockaddr_storage *peer, const uint8_t *pkt,
                 size_t len, uint64_t now, uint8_t *out, size_t cap);

#endif
