/* IPV6CP option policy (RFC 5072): the Interface-Identifier, option 1, 8 bytes.
 *
 * Each side draws a random non-zero identifier with the universal/local bit cleared
 * (RFC 4291 appendix A: not derived from a global token) and proposes it. The peer's
 * request is judged against the identifier of our own last request (section 4.1):
 *   - zero: Nak with an identifier for the peer, different from ours;
 *   - equal to ours: Nak with a different one;
 *   - any other value: Ack.
 * A Nak of our request names the identifier the peer wants us to use: we take it,
 * unless it is zero, the one our last Nak suggested to the peer, or the peer's own; then
 * we draw a new one. Once Max-Failure Naks were sent in a row the option is rejected
 * instead (RFC 1661 section 4.6). Other options (IPv6-Compression-Protocol) are rejected.
 *
 * A peer that rejects the option: RFC 5072 asks implementations to negotiate the
 * identifier (SHOULD), not to fail without it, and section 5 falls back on a locally
 * chosen identifier when none was negotiated (Duplicate Address Detection then guards
 * the link-local address). So IPV6CP still opens, our requests leave the option out as
 * section 4.1 requires, and our tentative identifier is reported as unconfirmed.
 *
 * The session treats IPV6CP as independent of IPCP: its failure is logged, never a
 * reason to end the link. */
#include <stdio.h>
#include <string.h>

#include "ppp/ppp_session.h"

static const uint8_t zero_id[8];

static struct ppp_session *owner(struct ppp_fsm *f) { return f->owner; }

void ppp_ifid_str(const uint8_t id[8], char *buf, size_t n)
{
	snprintf(buf, n, "%02x:%02x:%02x:%02x:%02x:%02x:%02x:%02x", id[0], id[1], id[2], id[3],
	         id[4], id[5], id[6], id[7]);
}

static bool id_zero(const uint8_t id[8]) { return memcmp(id, zero_id, 8) == 0; }
static bool id_eq(const uint8_t a[8], const uint8_t b[8]) { return memcmp(a, b, 8) == 0; }

static bool id_in(const uint8_t id[8], const uint8_t *a, const uint8_t *b, const uint8_t *c)
{
	return (a && id_eq(id, a)) || (b && id_eq(id, b)) || (c && id_eq(id, c));
}

/* A fresh identifier, non-zero and different from a, b and c (each may be NULL). */
static void draw_id(struct ppp_session *s, uint8_t out[8], const uint8_t *a, const uint8_t *b,
                    const uint8_t *c)
{
	uint8_t t[8];
	for (int i = 0; i < 8; i++) {
		s->cbs->random(s->cbs->ctx, t, 8);
		t[0] &= (uint8_t)~0x02; /* universal/local bit: local */
		if (!id_zero(t) && !id_in(t, a, b, c)) {
			memcpy(out, t, 8);
			return;
		}
	}
	/* the random source keeps repeating itself: step through four candidates built
	 * from our magic number, of which at most three are taken */
	uint32_t m = s->lcp.my_magic;
	uint8_t k[8] = {0x74, 0x6e, 0x00, 0x01, (uint8_t)(m >> 24), (uint8_t)(m >> 16),
	                (uint8_t)(m >> 8), (uint8_t)m};
	for (int i = 0; i < 3 && id_in(k, a, b, c); i++) k[3]++;
	memcpy(out, k, 8);
}

static void ensure_id(struct ppp_session *s)
{
	if (id_zero(s->ipv6cp.my_id)) draw_id(s, s->ipv6cp.my_id, NULL, NULL, NULL);
}

static void ipv6cp_build_req(struct ppp_fsm *f, struct ppp_fsm_out *o)
{
	struct ppp_session *s = owner(f);
	ensure_id(s);
	if (!s->ipv6cp.rej_ifid) ppp_out_opt(o, IPV6CP_OPT_IFID, s->ipv6cp.my_id, 8);
}

static int ipv6cp_check_req(struct ppp_fsm *f, const struct ppp_cp *req, bool nak_ok,
                            struct ppp_fsm_out *o)
{
	struct ppp_session *s = owner(f);
	struct ppp_ipv6cp *v = &s->ipv6cp;
	bool reject = false;
	const struct ppp_opt *ifid = NULL;
	ensure_id(s);
	for (size_t i = 0; i < req->nopts; i++) {
		const struct ppp_opt *op = &req->opts[i];
		if (op->type == IPV6CP_OPT_IFID && op->dlen == 8 && !ifid) {
			ifid = op;
			continue;
		}
		ppp_out_opt_copy(o, op); /* compression, unknown, malformed or repeated */
		reject = true;
	}
	if (reject) return PPP_CONF_REJ;
	if (!ifid) {
		/* the peer does not negotiate its identifier: nothing to check */
		v->peer_has_id = false;
		return PPP_CONF_ACK;
	}
	bool is_zero = id_zero(ifid->data);
	bool clash = id_eq(ifid->data, v->my_id);
	if (!is_zero && !clash) {
		memcpy(v->peer_id, ifid->data, 8);
		v->peer_has_id = true;
		return PPP_CONF_ACK;
	}
	if (!nak_ok) {
		ppp_out_opt_copy(o, ifid);
		return PPP_CONF_REJ;
	}
	/* suggest an identifier for the peer: never ours, and not the one suggested last
	 * time (a peer asking again did not take it) */
	uint8_t hint[8];
	draw_id(s, hint, v->my_id, v->nak_sent ? v->nak_id : NULL,
	        v->peer_has_id ? v->peer_id : NULL);
	memcpy(v->nak_id, hint, 8);
	v->nak_sent = true;
	char a[24], b[24];
	ppp_ifid_str(ifid->data, a, sizeof a);
	ppp_ifid_str(hint, b, sizeof b);
	ppp_session_log(s, PPP_LOG_INFO, "ipv6cp peer asked for interface-id %s (%s), suggesting %s",
	                a, is_zero ? "none" : "ours", b);
	ppp_out_opt(o, IPV6CP_OPT_IFID, hint, 8);
	return PPP_CONF_NAK;
}

static void ipv6cp_recv_ack(struct ppp_fsm *f, const struct ppp_cp *cp) { (void)f; (void)cp; }

static int ipv6cp_recv_nak(struct ppp_fsm *f, const struct ppp_cp *cp)
{
	struct ppp_session *s = owner(f);
	struct ppp_ipv6cp *v = &s->ipv6cp;
	for (size_t i = 0; i < cp->nopts; i++) {
		const struct ppp_opt *op = &cp->opts[i];
		if (op->type != IPV6CP_OPT_IFID || op->dlen != 8) continue;
		char a[24], b[24];
		ppp_ifid_str(op->data, a, sizeof a);
		bool taken = id_zero(op->data) || (v->nak_sent && id_eq(op->data, v->nak_id)) ||
		             (v->peer_has_id && id_eq(op->data, v->peer_id));
		if (!taken) {
			memcpy(v->my_id, op->data, 8);
			ppp_session_log(s, PPP_LOG_TRACE, "ipv6cp peer suggests interface-id %s", a);
			continue;
		}
		/* RFC 5072 section 4.1: the suggestion is not unique, choose a new one */
		draw_id(s, v->my_id, op->data, v->nak_sent ? v->nak_id : NULL,
		        v->peer_has_id ? v->peer_id : NULL);
		if (v->renewals < UINT8_MAX) v->renewals++;
		ppp_ifid_str(v->my_id, b, sizeof b);
		ppp_session_log(s, PPP_LOG_INFO, "ipv6cp peer suggests interface-id %s, which is taken: "
		                "trying %s", a, b);
	}
	return 0;
}

static int ipv6cp_recv_rej(struct ppp_fsm *f, const struct ppp_cp *cp)
{
	struct ppp_session *s = owner(f);
	for (size_t i = 0; i < cp->nopts; i++) {
		if (cp->opts[i].type != IPV6CP_OPT_IFID || s->ipv6cp.rej_ifid) continue;
		s->ipv6cp.rej_ifid = true;
		ppp_session_log(s, PPP_LOG_INFO, "ipv6cp peer rejected the Interface-Identifier option: "
		                "ours stays unconfirmed");
	}
	return 0;
}

static void ipv6cp_up(struct ppp_fsm *f, uint64_t now)
{
	struct ppp_session *s = owner(f);
	struct ppp_ipv6cp *v = &s->ipv6cp;
	char a[24], b[24];
	s->ipv6cp_up = true;
	ppp_ifid_str(v->my_id, a, sizeof a);
	if (v->peer_has_id) ppp_ifid_str(v->peer_id, b, sizeof b);
	else snprintf(b, sizeof b, "none");
	ppp_session_log(s, PPP_LOG_NCP_UP, "ipv6cp interface-id local=%s%s peer=%s", a,
	                v->rej_ifid ? " (unconfirmed)" : "", b);
	ppp_session_ncp_up(s, now);
}

static void ipv6cp_down(struct ppp_fsm *f, uint64_t now)
{
	(void)now;
	owner(f)->ipv6cp_up = false;
}

static void ipv6cp_finished(struct ppp_fsm *f, uint64_t now)
{
	ppp_session_ncp_finished(owner(f), f, now);
}

static void ipv6cp_send(struct ppp_fsm *f, struct ppp_msg *m) { ppp_session_send_msg(owner(f), m); }

static void ipv6cp_trace(struct ppp_fsm *f, const char *line)
{
	ppp_session_log(owner(f), PPP_LOG_TRACE, "%s", line);
}

const struct ppp_fsm_ops ppp_ipv6cp_ops = {
	.name = "IPV6CP",
	.proto = PPP_PROTO_IPV6CP,
	.build_req = ipv6cp_build_req,
	.check_req = ipv6cp_check_req,
	.recv_ack = ipv6cp_recv_ack,
	.recv_nak = ipv6cp_recv_nak,
	.recv_rej = ipv6cp_recv_rej,
	.other_code = NULL,
	.up = ipv6cp_up,
	.down = ipv6cp_down,
	.started = NULL,
	.finished = ipv6cp_finished,
	.send = ipv6cp_send,
	.trace = ipv6cp_trace,
	.tracing = ppp_session_fsm_tracing,
};
