/* LCP option policy (RFC 1661 section 6, RFC 1994 for the CHAP algorithms): MRU,
 * authentication protocol, magic number with loop detection, PFC/ACFC, echo keepalive.
 *
 * The server proposes its most preferred enabled method and walks down its preference
 * list when the peer Naks, taking the peer's suggestion first when it is enabled; a peer
 * Reject of the option, or no enabled method left, fails LCP. The client side Acks a
 * method it accepts and Naks any other with its own preferred one. */
#include <stdio.h>
#include <string.h>

#include "ppp/ppp_session.h"

#define MRU_MIN 128
#define MRU_DEFAULT 1400

static struct ppp_session *owner(struct ppp_fsm *f) { return f->owner; }

/* ---- the authentication option --------------------------------------------------- */
static void put_auth(struct ppp_fsm_out *o, uint8_t method)
{
	uint8_t b[3];
	switch (method) {
	case PPP_AUTH_PAP:
		b[0] = PPP_PROTO_PAP >> 8; b[1] = PPP_PROTO_PAP & 0xff;
		ppp_out_opt(o, LCP_OPT_AUTH, b, 2);
		break;
	case PPP_AUTH_CHAP_MD5:
	case PPP_AUTH_MSCHAPV2:
		b[0] = PPP_PROTO_CHAP >> 8; b[1] = PPP_PROTO_CHAP & 0xff;
		b[2] = method == PPP_AUTH_CHAP_MD5 ? CHAP_ALG_MD5 : CHAP_ALG_MSCHAPV2;
		ppp_out_opt(o, LCP_OPT_AUTH, b, 3);
		break;
	default:
		break;
	}
}

/* The method an Authentication-Protocol option names, PPP_AUTH_NONE when unsupported. */
static uint8_t parse_auth(const struct ppp_opt *opt)
{
	if (opt->dlen < 2) return PPP_AUTH_NONE;
	uint16_t proto = (uint16_t)(opt->data[0] << 8 | opt->data[1]);
	if (proto == PPP_PROTO_PAP && opt->dlen == 2) return PPP_AUTH_PAP;
	if (proto == PPP_PROTO_CHAP && opt->dlen == 3) {
		if (opt->data[2] == CHAP_ALG_MD5) return PPP_AUTH_CHAP_MD5;
		if (opt->data[2] == CHAP_ALG_MSCHAPV2) return PPP_AUTH_MSCHAPV2;
	}
	return PPP_AUTH_NONE;
}

/* First method in preference order that is enabled and, when `skip` is non-zero, not
 * among those bits. */
static uint8_t pick_method(const struct ppp_session_conf *c, uint32_t skip)
{
	for (int i = 0; i < PPP_AUTH_COUNT && c->auth_pref[i] != PPP_AUTH_NONE; i++) {
		uint8_t m = c->auth_pref[i];
		if ((c->auth_methods & PPP_AUTH_BIT(m)) && !(skip & PPP_AUTH_BIT(m))) return m;
	}
	return PPP_AUTH_NONE;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t new_magic(struct ppp_session *s, uint32_t avoid)
{
	uint32_t m = 0;
	for (int i = 0; i < 8 && (m == 0 || m == avoid); i++) m = ppp_session_rand32(s);
	if (m == 0 || m == avoid) m = avoid ^ 0x5a5a5a5au; /* a broken random source */
	if (m == 0) m = 1;
	return m;
}

/* ---- the automaton's callbacks --------------------------------------------------- */
static void lcp_build_req(struct ppp_fsm *f, struct ppp_fsm_out *o)
{
	struct ppp_session *s = owner(f);
	struct ppp_lcp *l = &s->lcp;
	if (!l->rej_mru) ppp_out_opt_u16(o, LCP_OPT_MRU, l->my_mru);
	if (s->conf->is_server && l->auth_try != PPP_AUTH_NONE) put_auth(o, l->auth_try);
	if (!l->rej_magic) ppp_out_opt_u32(o, LCP_OPT_MAGIC, l->my_magic);
	if (s->conf->pfc && !l->rej_pfc) ppp_out_opt(o, LCP_OPT_PFC, NULL, 0);
	if (s->conf->acfc && !l->rej_acfc) ppp_out_opt(o, LCP_OPT_ACFC, NULL, 0);
}

static int lcp_check_req(struct ppp_fsm *f, const struct ppp_cp *req, bool nak_ok,
                         struct ppp_fsm_out *o)
{
	struct ppp_session *s = owner(f);
	struct ppp_lcp *l = &s->lcp;
	const struct ppp_session_conf *c = s->conf;
	/* first pass: anything to reject? RFC 1661: a Reject carries only rejected options */
	bool reject = false;
	for (size_t i = 0; i < req->nopts; i++) {
		const struct ppp_opt *op = &req->opts[i];
		bool rej = false;
		switch (op->type) {
		case LCP_OPT_MRU: rej = op->dlen != 2; break;
		case LCP_OPT_ACCM: rej = op->dlen != 4; break;
		case LCP_OPT_MAGIC: rej = op->dlen != 4; break;
		case LCP_OPT_PFC: case LCP_OPT_ACFC: rej = op->dlen != 0; break;
		case LCP_OPT_AUTH:
			/* the server does not authenticate itself to the peer; a client that
			 * accepts nothing rejects the option */
			rej = c->is_server || c->auth_methods == 0 ||
			      (!nak_ok && parse_auth(op) == PPP_AUTH_NONE);
			break;
		default: rej = true; /* multilink, callback, quality... not offered */
		}
		if (rej) {
			ppp_out_opt_copy(o, op);
			reject = true;
		}
	}
	if (reject) {
		ppp_session_log(s, PPP_LOG_INFO, "lcp rejecting %zu option(s) of the peer",
		                o->cp->nopts);
		return PPP_CONF_REJ;
	}
	/* second pass: values to Nak */
	uint16_t mru = 1500;
	uint32_t magic = 0;
	uint8_t auth = PPP_AUTH_NONE;
	bool pfc = false, acfc = false;
	for (size_t i = 0; i < req->nopts; i++) {
		const struct ppp_opt *op = &req->opts[i];
		switch (op->type) {
		case LCP_OPT_MRU:
			mru = (uint16_t)(op->data[0] << 8 | op->data[1]);
			if (mru < MRU_MIN) ppp_out_opt_u16(o, LCP_OPT_MRU, MRU_DEFAULT);
			break;
		case LCP_OPT_MAGIC:
			magic = get_u32(op->data);
			if (magic == 0 || (magic == l->my_magic && !l->rej_magic)) {
				if (magic != 0 && l->loops < 255) l->loops++;
				if (magic != 0)
					ppp_session_log(s, PPP_LOG_INFO,
					                "lcp peer magic 0x%08x equals ours (%u in a row): "
					                "looped-back link suspected", magic, l->loops);
				if (l->loops >= c->fsm.max_failure) {
					snprintf(f->why, sizeof f->why,
					         "LCP: looped-back link (our magic number came back %u times)",
					         l->loops);
					return -1;
				}
				ppp_out_opt_u32(o, LCP_OPT_MAGIC, new_magic(s, l->my_magic));
			}
			break;
		case LCP_OPT_AUTH: {
			uint8_t m = parse_auth(op);
			if (m != PPP_AUTH_NONE && (c->auth_methods & PPP_AUTH_BIT(m))) {
				auth = m;
			} else {
				uint8_t want = pick_method(c, 0);
				ppp_session_log(s, PPP_LOG_INFO, "lcp server asks for %s, suggesting %s",
				                m ? tok_name(ppp_auth_method_names, m) : "an unsupported method",
				                tok_name(ppp_auth_method_names, want));
				put_auth(o, want);
			}
			break;
		}
		case LCP_OPT_PFC: pfc = true; break;
		case LCP_OPT_ACFC: acfc = true; break;
		default: break;
		}
	}
	if (o->cp->nopts) {
		if (!nak_ok) {
			/* Max-Failure reached: what we would Nak is rejected instead */
			struct ppp_cp *cp = o->cp;
			size_t n = cp->nopts;
			cp->nopts = 0;
			o->used = 0;
			for (size_t i = 0; i < req->nopts; i++)
				for (size_t j = 0; j < n; j++)
					if (req->opts[i].type == cp->opts[j].type) {
						ppp_out_opt_copy(o, &req->opts[i]);
						break;
					}
			return PPP_CONF_REJ;
		}
		return PPP_CONF_NAK;
	}
	l->peer_mru = mru;
	l->peer_magic = magic;
	l->peer_pfc = pfc;
	l->peer_acfc = acfc;
	l->loops = 0;
	if (!c->is_server) l->auth = auth;
	return PPP_CONF_ACK;
}

static void lcp_recv_ack(struct ppp_fsm *f, const struct ppp_cp *cp)
{
	struct ppp_session *s = owner(f);
	if (s->conf->is_server) s->lcp.auth = s->lcp.auth_try;
}

static int lcp_recv_nak(struct ppp_fsm *f, const struct ppp_cp *cp)
{
	struct ppp_session *s = owner(f);
	struct ppp_lcp *l = &s->lcp;
	const struct ppp_session_conf *c = s->conf;
	for (size_t i = 0; i < cp->nopts; i++) {
		const struct ppp_opt *op = &cp->opts[i];
		switch (op->type) {
		case LCP_OPT_MRU:
			if (op->dlen == 2) {
				uint16_t v = (uint16_t)(op->data[0] << 8 | op->data[1]);
				if (v >= MRU_MIN) l->my_mru = v;
			}
			break;
		case LCP_OPT_MAGIC:
			l->my_magic = new_magic(s, l->my_magic);
			break;
		case LCP_OPT_AUTH: {
			if (!c->is_server) break;
			uint8_t sug = parse_auth(op);
			uint8_t prev = l->auth_try;
			l->auth_tried |= (uint8_t)PPP_AUTH_BIT(prev);
			uint8_t next;
			if (sug != PPP_AUTH_NONE && (c->auth_methods & PPP_AUTH_BIT(sug)) &&
			    !(l->auth_tried & PPP_AUTH_BIT(sug)))
				next = sug;
			else
				next = pick_method(c, l->auth_tried);
			if (next == PPP_AUTH_NONE) {
				snprintf(f->why, sizeof f->why,
				         "LCP: peer accepts none of the enabled authentication methods "
				         "(it asked for %s)",
				         sug ? tok_name(ppp_auth_method_names, sug) : "an unsupported one");
				return -1;
			}
			ppp_session_log(s, PPP_LOG_INFO, "lcp peer refused %s, offering %s",
			                tok_name(ppp_auth_method_names, prev),
			                tok_name(ppp_auth_method_names, next));
			l->auth_try = next;
			break;
		}
		default:
			break;
		}
	}
	return 0;
}

static int lcp_recv_rej(struct ppp_fsm *f, const struct ppp_cp *cp)
{
	struct ppp_session *s = owner(f);
	struct ppp_lcp *l = &s->lcp;
	for (size_t i = 0; i < cp->nopts; i++) {
		switch (cp->opts[i].type) {
		case LCP_OPT_MRU: l->rej_mru = true; break;
		case LCP_OPT_MAGIC: l->rej_magic = true; break;
		case LCP_OPT_PFC: l->rej_pfc = true; break;
		case LCP_OPT_ACFC: l->rej_acfc = true; break;
		case LCP_OPT_AUTH:
			if (s->conf->is_server) {
				snprintf(f->why, sizeof f->why,
				         "LCP: peer rejected authentication (it will not authenticate)");
				return -1;
			}
			break;
		default: break;
		}
	}
	return 0;
}

static bool lcp_other_code(struct ppp_fsm *f, const struct ppp_cp *cp, uint64_t now)
{
	struct ppp_session *s = owner(f);
	struct ppp_lcp *l = &s->lcp;
	switch (cp->code) {
	case PPP_ECHO_REQ:
		if (f->state != PPP_ST_OPENED) return true; /* silently discarded */
		if (cp->has_magic && cp->magic == l->my_magic && l->my_magic != 0 && !l->rej_magic)
			ppp_session_log(s, PPP_LOG_INFO,
			                "lcp Echo-Request carries our own magic: looped-back link");
		ppp_fsm_send_code(f, PPP_ECHO_REPLY, cp->id, cp->data, cp->dlen, true,
		                  l->rej_magic ? 0 : l->my_magic);
		return true;
	case PPP_ECHO_REPLY:
		if (f->state == PPP_ST_OPENED) l->echo_outstanding = 0;
		return true;
	case PPP_DISCARD_REQ:
	case PPP_IDENTIFICATION:
	case PPP_TIME_REMAINING:
		return true;
	case PPP_PROTO_REJ:
		if (f->state != PPP_ST_OPENED) return true;
		if (cp->rejected_proto == PPP_PROTO_IPCP) ppp_fsm_rxj(&s->ipcp.fsm, false, now);
		else if (cp->rejected_proto == PPP_PROTO_CCP) ppp_fsm_rxj(&s->ccp.fsm, false, now);
		else if (cp->rejected_proto == PPP_PROTO_IPV6CP && s->conf->ipv6)
			ppp_fsm_rxj(&s->ipv6cp.fsm, false, now);
		else if (cp->rejected_proto == PPP_PROTO_LCP) ppp_fsm_rxj(f, false, now);
		else
			ppp_session_log(s, PPP_LOG_INFO, "lcp peer rejected protocol 0x%04x",
			                cp->rejected_proto);
		return true;
	default:
		return false;
	}
}

static void lcp_up(struct ppp_fsm *f, uint64_t now)
{
	struct ppp_session *s = owner(f);
	s->lcp.echo_outstanding = 0;
	s->lcp.echo_next = s->conf->echo_interval_ms ? now + s->conf->echo_interval_ms : PPP_NEVER;
	ppp_session_lcp_up(s, now);
}

static void lcp_down(struct ppp_fsm *f, uint64_t now)
{
	struct ppp_session *s = owner(f);
	s->lcp.echo_next = PPP_NEVER;
	ppp_session_lcp_down(s, now);
}

static void lcp_started(struct ppp_fsm *f, uint64_t now) { (void)f; (void)now; }

static void lcp_finished(struct ppp_fsm *f, uint64_t now)
{
	ppp_session_lcp_finished(owner(f), now);
}

static void lcp_send(struct ppp_fsm *f, struct ppp_msg *m) { ppp_session_send_msg(owner(f), m); }

static void lcp_trace(struct ppp_fsm *f, const char *line)
{
	ppp_session_log(owner(f), PPP_LOG_TRACE, "%s", line);
}

const struct ppp_fsm_ops ppp_lcp_ops = {
	.name = "LCP",
	.proto = PPP_PROTO_LCP,
	.build_req = lcp_build_req,
	.check_req = lcp_check_req,
	.recv_ack = lcp_recv_ack,
	.recv_nak = lcp_recv_nak,
	.recv_rej = lcp_recv_rej,
	.other_code = lcp_other_code,
	.up = lcp_up,
	.down = lcp_down,
	.started = lcp_started,
	.finished = lcp_finished,
	.send = lcp_send,
	.trace = lcp_trace,
	.tracing = ppp_session_fsm_tracing,
};

uint64_t ppp_lcp_tick(struct ppp_session *s, uint64_t now)
{
	struct ppp_lcp *l = &s->lcp;
	if (l->fsm.state != PPP_ST_OPENED || l->echo_next == PPP_NEVER) return PPP_NEVER;
	if (now < l->echo_next) return l->echo_next;
	if (l->echo_outstanding >= s->conf->echo_fail_max) {
		char why[96];
		snprintf(why, sizeof why, "LCP: no answer to %u Echo-Requests", l->echo_outstanding);
		ppp_session_log(s, PPP_LOG_INFO, "lcp keepalive failed: %u Echo-Requests unanswered",
		                l->echo_outstanding);
		l->echo_next = PPP_NEVER;
		ppp_session_close(s, why, 0, now);
		return PPP_NEVER;
	}
	l->echo_outstanding++;
	ppp_fsm_send_code(&l->fsm, PPP_ECHO_REQ, ++l->echo_id, NULL, 0, true,
	                  l->rej_magic ? 0 : l->my_magic);
	l->echo_next = now + s->conf->echo_interval_ms;
	return l->echo_next;
}
