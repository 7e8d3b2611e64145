/* RFC 5176 Dynamic Authorization as the NAS (dae.h). */
#include "radius/dae.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "radius/nps.h"

const struct tok dae_error_names[] = {
	{DAE_RESIDUAL_REMOVED, "Residual-Session-Context-Removed"},
	{DAE_UNSUPPORTED_ATTRIBUTE, "Unsupported-Attribute"},
	{DAE_MISSING_ATTRIBUTE, "Missing-Attribute"},
	{DAE_NAS_MISMATCH, "NAS-Identification-Mismatch"},
	{DAE_INVALID_REQUEST, "Invalid-Request"},
	{DAE_UNSUPPORTED_SERVICE, "Unsupported-Service"},
	{DAE_INVALID_VALUE, "Invalid-Attribute-Value"},
	{DAE_PROHIBITED, "Administratively-Prohibited"},
	{DAE_NOT_FOUND, "Session-Context-Not-Found"},
	{DAE_NOT_REMOVABLE, "Session-Context-Not-Removable"},
	{DAE_RESOURCES, "Resources-Unavailable"},
	{0, NULL},
};

/* ---- what each attribute of a request means -------------------------------------------- */
enum role {
	DR_USER, DR_ACCT_SESSION_ID, DR_FRAMED_IP, DR_CALLING, DR_CALLED, DR_NAS_PORT, DR_NAS_PORT_TYPE,
	DR_NAS_IP, DR_NAS_ID, DR_NAS_IPV6, DR_SERVICE, DR_SESSION_TIMEOUT, DR_IDLE_TIMEOUT, DR_FILTER,
	DR_PROXY_STATE, DR_TIMESTAMP, DR_MSG_AUTH, DR_ERROR_CAUSE,
};

static const struct attr_rule {
	uint8_t type;
	uint8_t role;                /* enum role */
	uint8_t vlen;                /* the value's length, 0: any from 1 */
	bool coa_only;               /* an authorization change: not in a Disconnect-Request */
	bool many;                   /* may occur more than once */
} rules[] = {
	{RADIUS_ATTR_USER_NAME, DR_USER, 0, false, false},
	{RADIUS_ATTR_ACCT_SESSION_ID, DR_ACCT_SESSION_ID, 0, false, false},
	{RADIUS_ATTR_FRAMED_IP_ADDRESS, DR_FRAMED_IP, 4, false, false},
	{RADIUS_ATTR_CALLING_STATION_ID, DR_CALLING, 0, false, false},
	{RADIUS_ATTR_CALLED_STATION_ID, DR_CALLED, 0, false, false},
	{RADIUS_ATTR_NAS_PORT, DR_NAS_PORT, 4, false, false},
	{RADIUS_ATTR_NAS_PORT_TYPE, DR_NAS_PORT_TYPE, 4, false, false},
	{RADIUS_ATTR_NAS_IP_ADDRESS, DR_NAS_IP, 4, false, false},
	{RADIUS_ATTR_NAS_IDENTIFIER, DR_NAS_ID, 0, false, false},
	{RADIUS_ATTR_NAS_IPV6_ADDRESS, DR_NAS_IPV6, 16, false, false},
	{RADIUS_ATTR_SERVICE_TYPE, DR_SERVICE, 4, false, false},
	{RADIUS_ATTR_SESSION_TIMEOUT, DR_SESSION_TIMEOUT, 4, true, false},
	{RADIUS_ATTR_IDLE_TIMEOUT, DR_IDLE_TIMEOUT, 4, true, false},
	{RADIUS_ATTR_FILTER_ID, DR_FILTER, 0, true, true},
	{RADIUS_ATTR_PROXY_STATE, DR_PROXY_STATE, 0, false, true},
	{RADIUS_ATTR_EVENT_TIMESTAMP, DR_TIMESTAMP, 4, false, false},
	{RADIUS_ATTR_MESSAGE_AUTHENTICATOR, DR_MSG_AUTH, 16, false, false},
	{RADIUS_ATTR_ERROR_CAUSE, DR_ERROR_CAUSE, 4, false, true},
};

static const struct attr_rule *rule_of(uint8_t type)
{
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (rules[i].type == type) return &rules[i];
	return NULL;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- set-up ---------------------------------------------------------------------------- */
int dae_init(struct dae *d, const struct radius_dae_conf *conf, const struct dae_nas *nas,
             const struct dae_cbs *cbs, void *ctx)
{
	memset(d, 0, sizeof *d);
	d->conf = conf;
	d->nas = *nas;
	d->cbs = cbs;
	d->ctx = ctx;
	size_t slots = conf->cache > 0 ? (size_t)conf->cache : 256;
	uint64_t ttl = (uint64_t)(conf->window > 0 ? conf->window : 300) * 1000;
	return rad_dupcache_init(&d->cache, slots, ttl);
}

void dae_free(struct dae *d)
{
	rad_dupcache_free(&d->cache);
	memset(d, 0, sizeof *d);
}

__attribute__((format(printf, 3, 4)))
static void dlog(struct dae *d, bool debug_only, const char *fmt, ...)
{
	if (!d->cbs->log) return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	d->cbs->log(d->ctx, debug_only, line);
}

/* A line about a dropped datagram, unless a flood has used up the lines of this second. */
#define DLOG_DROP(d, ...) \
	do { \
		if (!(d)->cbs->throttle || (d)->cbs->throttle((d)->ctx)) dlog((d), false, __VA_ARGS__); \
	} while (0)

/* ---- matching ---------------------------------------------------------------------------- */
static bool same_text(const uint8_t *v, size_t n, const char *s)
{
	return s && strlen(s) == n && memcmp(v, s, n) == 0;
}

bool dae_session_matches(const struct dae_ident *q, const struct dae_sess *s)
{
	if (q->has_user && !same_text(q->user, q->user_len, s->user)) return false;
	if (q->has_acct_session_id &&
	    !same_text(q->acct_session_id, q->acct_session_id_len, s->acct_session_id))
		return false;
	if (q->has_calling && !same_text(q->calling, q->calling_len, s->calling)) return false;
	if (q->has_called && !same_text(q->called, q->called_len, s->called)) return false;
	if (q->has_framed_ip && (!s->framed_ip || q->framed_ip != s->framed_ip)) return false;
	if (q->has_nas_port && q->nas_port != s->nas_port) return false;
	if (q->has_nas_port_type && q->nas_port_type != s->nas_port_type) return false;
	return true;
}

/* ---- the checks of a request --------------------------------------------------------------- */
struct req {
	struct dae_ident id;
	struct dae_change ch;
	bool coa;
	bool has_ts;
	uint32_t ts;
	const char *attr;            /* the attribute a NAK is about */
	char why[200];               /* the log's words for a NAK */
};

static const char *attr_name(uint8_t type)
{
	const char *n = tok_name(radius_attr_names, type);
	return n ? n : "an attribute";
}

/* DAE_OK, or the Error-Cause of the NAK with q->why filled. */
static enum dae_error check(const struct dae *d, const struct radius_msg *m, struct req *q)
{
	uint64_t seen[4] = {0};
	bool service_ok = true;
	uint32_t service = 0;
	for (size_t i = 0; i < m->nattrs; i++) {
		const struct radius_attr *a = &m->attrs[i];
		if (a->type == RADIUS_ATTR_VENDOR_SPECIFIC) {
			snprintf(q->why, sizeof q->why, "Vendor-Specific (vendor %u) is not supported",
			         a->vendor);
			return DAE_UNSUPPORTED_ATTRIBUTE;
		}
		const struct attr_rule *r = rule_of(a->type);
		const char *an = attr_name(a->type);
		if (!r) {
			snprintf(q->why, sizeof q->why, "%s (type %u) is not supported", an, a->type);
			return DAE_UNSUPPORTED_ATTRIBUTE;
		}
		if (!r->many && (seen[a->type >> 6] >> (a->type & 63) & 1)) {
			snprintf(q->why, sizeof q->why, "%s occurs more than once", an);
			return DAE_INVALID_REQUEST;
		}
		seen[a->type >> 6] |= 1ull << (a->type & 63);
		if (r->vlen ? a->vlen != r->vlen : a->vlen == 0) {
			snprintf(q->why, sizeof q->why, "%s has %zu bytes (%s)", an, a->vlen,
			         r->vlen == 4 ? "4 wanted" : r->vlen == 16 ? "16 wanted" : "empty");
			return DAE_INVALID_VALUE;
		}
		if (r->coa_only && !q->coa) {
			snprintf(q->why, sizeof q->why, "%s changes a session: not in a "
			         "Disconnect-Request", an);
			return DAE_UNSUPPORTED_ATTRIBUTE;
		}
		switch ((enum role)r->role) {
		case DR_USER:
			q->id.has_user = true;
			q->id.user = a->val;
			q->id.user_len = a->vlen;
			break;
		case DR_ACCT_SESSION_ID:
			q->id.has_acct_session_id = true;
			q->id.acct_session_id = a->val;
			q->id.acct_session_id_len = a->vlen;
			break;
		case DR_CALLING:
			q->id.has_calling = true;
			q->id.calling = a->val;
			q->id.calling_len = a->vlen;
			break;
		case DR_CALLED:
			q->id.has_called = true;
			q->id.called = a->val;
			q->id.called_len = a->vlen;
			break;
		case DR_FRAMED_IP:
			q->id.has_framed_ip = true;
			q->id.framed_ip = be32(a->val);
			break;
		case DR_NAS_PORT:
			q->id.has_nas_port = true;
			q->id.nas_port = be32(a->val);
			break;
		case DR_NAS_PORT_TYPE:
			q->id.has_nas_port_type = true;
			q->id.nas_port_type = be32(a->val);
			break;
		case DR_NAS_IP:
			if (!d->nas.ip || be32(a->val) != d->nas.ip) {
				char ab[20], ob[20];
				snprintf(q->why, sizeof q->why, "NAS-IP-Address %s is not this NAS's (%s)",
				         ipv4_str(be32(a->val), ab, sizeof ab),
				         d->nas.ip ? ipv4_str(d->nas.ip, ob, sizeof ob) : "none");
				return DAE_NAS_MISMATCH;
			}
			break;
		case DR_NAS_ID:
			if (!same_text(a->val, a->vlen, d->nas.identifier)) {
				char t[TEXT_PRINTABLE_SIZE(64)];
				text_printable(a->val, a->vlen > 64 ? 64 : a->vlen, t, sizeof t);
				snprintf(q->why, sizeof q->why, "NAS-Identifier \"%s\" is not this NAS's", t);
				return DAE_NAS_MISMATCH;
			}
			break;
		case DR_NAS_IPV6:
			snprintf(q->why, sizeof q->why, "NAS-IPv6-Address: this NAS names itself by "
			         "an IPv4 address");
			return DAE_NAS_MISMATCH;
		case DR_SERVICE:
			service = be32(a->val);
			service_ok = service == 2; /* Framed */
			break;
		case DR_SESSION_TIMEOUT:
			q->ch.has_session_timeout = true;
			q->ch.session_timeout = be32(a->val);
			break;
		case DR_IDLE_TIMEOUT:
			q->ch.has_idle_timeout = true;
			q->ch.idle_timeout = be32(a->val);
			break;
		case DR_FILTER:
			snprintf(q->why, sizeof q->why, "Filter-Id: a session's filters are those of its "
			         "granting profile; there are no named filter lists to switch to");
			return DAE_UNSUPPORTED_ATTRIBUTE;
		case DR_ERROR_CAUSE:
			snprintf(q->why, sizeof q->why, "an Error-Cause belongs in an answer");
			return DAE_INVALID_REQUEST;
		case DR_PROXY_STATE:
		case DR_MSG_AUTH:
			break;
		case DR_TIMESTAMP:
			q->has_ts = true;
			q->ts = be32(a->val);
			break;
		}
	}
	if (!service_ok) {
		snprintf(q->why, sizeof q->why, "Service-Type %u: %s", service, service == 17
		         ? "Authorize Only would need an Access-Request this NAS does not make"
		         : "every session here is Framed");
		return DAE_UNSUPPORTED_SERVICE;
	}
	if (d->conf->require_timestamp && !q->has_ts) {
		snprintf(q->why, sizeof q->why, "no Event-Timestamp (require_event_timestamp)");
		return DAE_MISSING_ATTRIBUTE;
	}
	const struct dae_ident *id = &q->id;
	if (!id->has_user && !id->has_acct_session_id && !id->has_calling && !id->has_framed_ip &&
	    !id->has_nas_port) {
		snprintf(q->why, sizeof q->why, "no session identification (User-Name, "
		         "Acct-Session-Id, Framed-IP-Address, Calling-Station-Id or NAS-Port)");
		return DAE_MISSING_ATTRIBUTE;
	}
	if (q->coa && !q->ch.has_session_timeout && !q->ch.has_idle_timeout) {
		snprintf(q->why, sizeof q->why, "nothing to change (Session-Timeout, Idle-Timeout)");
		return DAE_MISSING_ATTRIBUTE;
	}
	return DAE_OK;
}

/* ---- the answer -------------------------------------------------------------------------- */
static size_t answer(const struct dae *d, const struct nps_client *c, const struct radius_msg *m,
                     const uint8_t *pkt, enum dae_error err, uint8_t *out, size_t cap)
{
	(void)d;
	static const uint8_t zero[16];
	struct radius_msg *r = malloc(sizeof *r);
	if (!r) return 0;
	memset(r, 0, offsetof(struct radius_msg, attrs));
	bool coa = m->code == RADIUS_COA_REQUEST;
	r->code = err ? (coa ? RADIUS_COA_NAK : RADIUS_DISCONNECT_NAK)
	              : (coa ? RADIUS_COA_ACK : RADIUS_DISCONNECT_ACK);
	r->id = m->id;
	r->auth = pkt + 4;
	uint8_t ec[4] = {0, 0, (uint8_t)((unsigned)err >> 8), (uint8_t)err};
	if (err)
		r->attrs[r->nattrs++] = (struct radius_attr){.type = RADIUS_ATTR_ERROR_CAUSE,
			.val = ec, .vlen = 4};
	for (size_t i = 0; i < m->nattrs && r->nattrs < RADIUS_MAX_ATTRS - 1; i++)
		if (m->attrs[i].type == RADIUS_ATTR_PROXY_STATE)
			r->attrs[r->nattrs++] = (struct radius_attr){.type = RADIUS_ATTR_PROXY_STATE,
				.val = m->attrs[i].val, .vlen = m->attrs[i].vlen};
	r->attrs[r->nattrs++] = (struct radius_attr){.type = RADIUS_ATTR_MESSAGE_AUTHENTICATOR,
		.val = zero, .vlen = 16};
	size_t len = radius_encode(r, out, cap);
	free(r);
	if (!len) return 0;
	if (radius_sign(out, len, pkt + 4, (const uint8_t *)c->secret, strlen(c->secret)) != 0)
		return 0;
	return len;
}

/* ---- a request -------------------------------------------------------------------------- */
static size_t request(struct dae *d, const struct nps_client *c, const struct radius_msg *m,
                      const uint8_t *pkt, uint8_t *out, size_t cap)
{
	struct req q;
	memset(&q, 0, sizeof q);
	q.coa = m->code == RADIUS_COA_REQUEST;
	const char *what = q.coa ? "CoA-Request" : "Disconnect-Request";
	char ct[TEXT_PRINTABLE_SIZE(64)];
	text_printable_str(c->name, ct, sizeof ct);
	if (q.coa) d->st.coa_requests++;
	else d->st.disconnect_requests++;
	enum dae_error err = check(d, m, &q);
	if (q.has_ts && d->cbs->wall) {
		/* an old or future request is a replay or a clock gone wrong: silently dropped */
		long long skew = (long long)d->cbs->wall(d->ctx) - (long long)q.ts;
		if (skew > d->conf->window || -skew > d->conf->window) {
			d->st.stale++;
			DLOG_DROP(d, "%s id %u from %s dropped: its Event-Timestamp is %lld s %s the "
			          "clock (window %d s: a replay?)", what, m->id, ct,
			          skew < 0 ? -skew : skew, skew < 0 ? "ahead of" : "behind", d->conf->window);
			return 0;
		}
	}
	char ut[TEXT_PRINTABLE_SIZE(64)] = "-";
	if (q.id.has_user) text_printable(q.id.user, q.id.user_len > 64 ? 64 : q.id.user_len, ut,
	                                  sizeof ut);
	int n = 0;
	if (!err) {
		n = d->cbs->act ? d->cbs->act(d->ctx, &q.id, q.coa ? &q.ch : NULL) : 0;
		if (n < 0) {
			err = DAE_RESOURCES;
			snprintf(q.why, sizeof q.why, "the sessions could not be acted on");
		} else if (n == 0) {
			err = DAE_NOT_FOUND;
			snprintf(q.why, sizeof q.why, "no session matches");
		}
	}
	size_t len = answer(d, c, m, pkt, err, out, cap);
	if (!len) return 0;
	if (err) {
		d->st.naks++;
		dlog(d, false, "%s id %u from %s user=%s: NAK %d (%s): %s", what, m->id, ct, ut,
		     (int)err, tok_name(dae_error_names, err), q.why);
	} else {
		d->st.acks++;
		char chg[80] = "";
		size_t k = 0;
		if (q.ch.has_session_timeout)
			k += (size_t)snprintf(chg, sizeof chg, " Session-Timeout=%u", q.ch.session_timeout);
		if (q.ch.has_idle_timeout)
			snprintf(chg + k, sizeof chg - k, " Idle-Timeout=%u", q.ch.idle_timeout);
		dlog(d, false, "%s id %u from %s user=%s: ACK (%d session%s)%s", what, m->id, ct, ut, n,
		     n == 1 ? "" : "s", chg);
	}
	return len;
}

size_t dae_input(struct dae *d, const struct sockaddr_storage *peer, const uint8_t *pkt,
                 size_t len, uint64_t now, uint8_t *out, size_t cap)
{
	char pt[80];
	const struct nps_client *c = nps_client_in(d->conf->clients, d->conf->nclients, peer);
	if (!c) {
		d->st.unknown_client++;
		DLOG_DROP(d, "a datagram from %s on the dynamic authorization port dropped: no "
		          "client has that address", net_sockaddr_text(peer, pt, sizeof pt));
		return 0;
	}
	char ct[TEXT_PRINTABLE_SIZE(64)];
	text_printable_str(c->name, ct, sizeof ct);
	struct radius_msg *m = malloc(sizeof *m);
	if (!m) return 0;
	struct diag_err err = {0};
	size_t ret = 0;
	if (radius_decode(pkt, len, m, &err) != 0) {
		d->st.malformed++;
		DLOG_DROP(d, "a malformed datagram from %s dropped: %s at offset %zu",
		          net_sockaddr_text(peer, pt, sizeof pt), err.reason, err.off);
		goto out;
	}
	if (m->code != RADIUS_DISCONNECT_REQUEST && m->code != RADIUS_COA_REQUEST) {
		d->st.unsupported++;
		const char *cn = tok_name(radius_code_names, m->code);
		DLOG_DROP(d, "%s (code %u) from %s dropped: only Disconnect-Request and "
		          "CoA-Request are taken here", cn ? cn : "?", m->code, ct);
		goto out;
	}
	const char *what = m->code == RADIUS_COA_REQUEST ? "CoA-Request" : "Disconnect-Request";
	const uint8_t *sec = (const uint8_t *)c->secret;
	size_t sl = strlen(c->secret);
	if (radius_verify_auth(pkt, len, NULL, sec, sl) != 1) {
		d->st.bad_authenticator++;
		DLOG_DROP(d, "%s id %u from %s dropped: its Request Authenticator does not verify "
		          "with the client's secret", what, m->id, ct);
		goto out;
	}
	int v = radius_verify_msg_auth(pkt, len, NULL, sec, sl);
	bool has_ma = radius_find(m, RADIUS_ATTR_MESSAGE_AUTHENTICATOR) != NULL;
	if ((has_ma && v != 1) || (!has_ma && d->conf->require_msg_auth)) {
		if (has_ma) d->st.bad_msg_auth++;
		else d->st.no_msg_auth++;
		DLOG_DROP(d, "%s id %u from %s dropped: %s", what, m->id, ct, has_ma
		          ? "the Message-Authenticator does not verify with the client's secret"
		          : "no Message-Authenticator (require_message_authenticator)");
		goto out;
	}
	uint8_t key[RAD_DUP_KEY];
	rad_dupcache_key(peer, pkt, key);
	size_t cl = 0;
	const uint8_t *cached = rad_dupcache_get(&d->cache, key, now, &cl);
	if (cached && cl <= cap) {
		d->st.duplicates++;
		dlog(d, false, "%s id %u from %s again: the answer it had is sent again", what, m->id,
		     ct);
		memcpy(out, cached, cl);
		ret = cl;
		goto out;
	}
	ret = request(d, c, m, pkt, out, cap);
	if (ret) rad_dupcache_put(&d->cache, key, out, ret, now);
out:
	free(m);
	return ret;
}
