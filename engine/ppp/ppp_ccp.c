/* CCP option policy for MPPE (RFC 3078, option 18 of RFC 1962's CCP).
 *
 * Each side offers the MPPE levels (40/56/128-bit, the L/M/S bits) its allowed
 * encryption levels permit, plus H for stateless mode; the answer to an offer of several
 * levels is a Nak naming the strongest common one, an offer of exactly one allowed level
 * is Acked, MPPC compression (C) is never agreed. No common level fails CCP, and the
 * session ends the link when encryption is required (the Windows client shows 741/742).
 * Other CCP options are rejected. Reset-Request is answered with Reset-Ack. */
#include <stdio.h>
#include <string.h>

#include "ppp/mppe.h"
#include "ppp/ppp_session.h"

#define MPPE_LEVELS (MPPE_BIT_L | MPPE_BIT_M | MPPE_BIT_S)

static struct ppp_session *owner(struct ppp_fsm *f) { return f->owner; }

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t strongest(uint32_t bits)
{
	if (bits & MPPE_BIT_S) return MPPE_BIT_S;
	if (bits & MPPE_BIT_M) return MPPE_BIT_M;
	if (bits & MPPE_BIT_L) return MPPE_BIT_L;
	return 0;
}

static const char *level_name(uint32_t bit)
{
	switch (bit) {
	case MPPE_BIT_S: return "128-bit";
	case MPPE_BIT_M: return "56-bit";
	case MPPE_BIT_L: return "40-bit";
	default: return "none";
	}
}

static void levels_str(uint32_t bits, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s%s", bits & MPPE_BIT_S ? "128 " : "", bits & MPPE_BIT_M ? "56 " : "",
	         bits & MPPE_BIT_L ? "40 " : "", bits & MPPE_LEVELS ? "" : "none ");
	size_t l = strlen(buf);
	if (l) buf[l - 1] = 0;
}

static uint32_t stateless_bit(const struct ppp_session_conf *c)
{
	return c->mppe_stateless ? MPPE_BIT_H : 0;
}

static void ccp_build_req(struct ppp_fsm *f, struct ppp_fsm_out *o)
{
	struct ppp_session *s = owner(f);
	if (!s->ccp.rej_mppe) ppp_out_opt_u32(o, CCP_OPT_MPPE, s->ccp.my_bits);
}

static int no_common(struct ppp_fsm *f, uint32_t offered)
{
	struct ppp_session *s = owner(f);
	char a[16], b[16];
	levels_str(offered, a, sizeof a);
	levels_str(s->conf->mppe_levels, b, sizeof b);
	snprintf(f->why, sizeof f->why, "CCP: no common MPPE level (peer offers %s, allowed %s)", a,
	         b);
	return -1;
}

static int ccp_check_req(struct ppp_fsm *f, const struct ppp_cp *req, bool nak_ok,
                         struct ppp_fsm_out *o)
{
	struct ppp_session *s = owner(f);
	const struct ppp_session_conf *c = s->conf;
	bool reject = false;
	for (size_t i = 0; i < req->nopts; i++) {
		const struct ppp_opt *op = &req->opts[i];
		if (op->type != CCP_OPT_MPPE || op->dlen != 4) {
			ppp_out_opt_copy(o, op);
			reject = true;
		}
	}
	if (reject) return PPP_CONF_REJ;
	uint32_t agreed = 0;
	for (size_t i = 0; i < req->nopts; i++) {
		uint32_t bits = get_u32(req->opts[i].data);
		uint32_t common = bits & c->mppe_levels & MPPE_LEVELS;
		if (!common) {
			if (c->mppe_required) return no_common(f, bits);
			ppp_out_opt_copy(o, &req->opts[i]);
			return PPP_CONF_REJ;
		}
		uint32_t want = strongest(common) | (bits & MPPE_BIT_H & stateless_bit(c));
		if (bits != want) {
			if (!nak_ok) {
				ppp_out_opt_copy(o, &req->opts[i]);
				return PPP_CONF_REJ;
			}
			ppp_out_opt_u32(o, CCP_OPT_MPPE, want);
			return PPP_CONF_NAK;
		}
		agreed = want;
	}
	s->ccp.peer_bits = agreed;
	return PPP_CONF_ACK;
}

static void ccp_recv_ack(struct ppp_fsm *f, const struct ppp_cp *cp) { (void)f; (void)cp; }

static int ccp_recv_nak(struct ppp_fsm *f, const struct ppp_cp *cp)
{
	struct ppp_session *s = owner(f);
	for (size_t i = 0; i < cp->nopts; i++) {
		if (cp->opts[i].type != CCP_OPT_MPPE || cp->opts[i].dlen != 4) continue;
		uint32_t bits = get_u32(cp->opts[i].data);
		uint32_t common = bits & s->conf->mppe_levels & MPPE_LEVELS;
		if (!common) return no_common(f, bits);
		s->ccp.my_bits = strongest(common) | (bits & MPPE_BIT_H & stateless_bit(s->conf));
	}
	return 0;
}

static int ccp_recv_rej(struct ppp_fsm *f, const struct ppp_cp *cp)
{
	struct ppp_session *s = owner(f);
	for (size_t i = 0; i < cp->nopts; i++) {
		if (cp->opts[i].type != CCP_OPT_MPPE) continue;
		s->ccp.rej_mppe = true;
		if (s->conf->mppe_required) {
			snprintf(f->why, sizeof f->why, "CCP: peer rejected MPPE, which is required");
			return -1;
		}
	}
	return 0;
}

static bool ccp_other_code(struct ppp_fsm *f, const struct ppp_cp *cp, uint64_t now)
{
	(void)now;
	if (cp->code == PPP_RESET_REQ) {
		if (f->state == PPP_ST_OPENED) {
			struct ppp_session *s = owner(f);
			if (s->ccp.mppe_on) mppe_reset_request(s->ccp.tx);
			ppp_fsm_send_code(f, PPP_RESET_ACK, cp->id, NULL, 0, false, 0);
		}
		return true;
	}
	/* a Reset-Ack needs nothing: the receiver resyncs on the next flushed packet */
	return cp->code == PPP_RESET_ACK;
}

void ppp_ccp_set_mppe(struct ppp_session *s, struct mppe_state *tx, struct mppe_state *rx)
{
	s->ccp.tx = tx;
	s->ccp.rx = rx;
	s->ccp.mppe_on = false;
}

void ppp_ccp_reset_request(struct ppp_session *s)
{
	if (!ppp_fsm_opened(&s->ccp.fsm)) return;
	ppp_fsm_send_code(&s->ccp.fsm, PPP_RESET_REQ, ++s->ccp.reset_id, NULL, 0, false, 0);
}

static unsigned mppe_key_bits(uint32_t b)
{
	uint32_t l = strongest(b);
	return l == MPPE_BIT_S ? 128 : l == MPPE_BIT_M ? 56 : l == MPPE_BIT_L ? 40 : 0;
}

/* Keys for both directions from the MS-CHAPv2 master key; false when there is none
 * (another method, or keys that would come from RADIUS). */
static bool mppe_setup(struct ppp_session *s)
{
	struct ppp_ccp *c = &s->ccp;
	unsigned tx_bits = mppe_key_bits(c->peer_bits), rx_bits = mppe_key_bits(c->my_bits);
	uint8_t mk[16], send[16], recv[16], unused[16];
	if (tx_bits && rx_bits && s->cbs->mppe_lend &&
	    !s->cbs->mppe_lend(s->cbs->ctx, c->peer_bits & MPPE_BIT_H, c->my_bits & MPPE_BIT_H))
		return false;
	if (!c->tx || !c->rx) return false;
	bool given = s->cbs->mppe_keys && s->cbs->mppe_keys(s->cbs->ctx, send, recv) == 0;
	/* given master keys serve every level: the start key is their first 8 or 16 bytes,
	 * as GetAsymmetricStartKey truncates the same digest */
	bool ok = tx_bits && rx_bits &&
	          (given || (ppp_auth_mppe_master_key(&s->auth, mk) == 0 &&
	                     mppe_start_keys(mk, tx_bits, s->conf->is_server, send, unused) == 0 &&
	                     mppe_start_keys(mk, rx_bits, s->conf->is_server, unused, recv) == 0)) &&
	          mppe_init(c->tx, send, tx_bits, c->peer_bits & MPPE_BIT_H) == 0 &&
	          mppe_init(c->rx, recv, rx_bits, c->my_bits & MPPE_BIT_H) == 0;
	memset(mk, 0, sizeof mk);
	memset(send, 0, sizeof send);
	memset(recv, 0, sizeof recv);
	memset(unused, 0, sizeof unused);
	if (!ok) {
		mppe_clear(c->tx);
		mppe_clear(c->rx);
	}
	return ok;
}

static void ccp_up(struct ppp_fsm *f, uint64_t now)
{
	struct ppp_session *s = owner(f);
	s->ccp_up = true;
	uint32_t b = s->ccp.rej_mppe ? 0 : s->ccp.my_bits;
	s->ccp.mppe_on = b && mppe_setup(s);
	ppp_session_log(s, PPP_LOG_NCP_UP, "ccp mppe %s%s%s", level_name(strongest(b)),
	                b & MPPE_BIT_H ? " stateless" : "",
	                b && s->ccp.tx && !s->ccp.mppe_on ? " (no MS-CHAPv2 keys)" : "");
	ppp_session_ncp_up(s, now);
}

static void ccp_down(struct ppp_fsm *f, uint64_t now)
{
	(void)now;
	struct ppp_session *s = owner(f);
	s->ccp_up = false;
	s->ccp.mppe_on = false;
	if (s->ccp.tx) mppe_clear(s->ccp.tx);
	if (s->ccp.rx) mppe_clear(s->ccp.rx);
}

static void ccp_finished(struct ppp_fsm *f, uint64_t now)
{
	ppp_session_ncp_finished(owner(f), f, now);
}

static void ccp_send(struct ppp_fsm *f, struct ppp_msg *m) { ppp_session_send_msg(owner(f), m); }

static void ccp_trace(struct ppp_fsm *f, const char *line)
{
	ppp_session_log(owner(f), PPP_LOG_TRACE, "%s", line);
}

const struct ppp_fsm_ops ppp_ccp_ops = {
	.name = "CCP",
	.proto = PPP_PROTO_CCP,
	.build_req = ccp_build_req,
	.check_req = ccp_check_req,
	.recv_ack = ccp_recv_ack,
	.recv_nak = ccp_recv_nak,
	.recv_rej = ccp_recv_rej,
	.other_code = ccp_other_code,
	.up = ccp_up,
	.down = ccp_down,
	.started = NULL,
	.finished = ccp_finished,
	.send = ccp_send,
	.trace = ccp_trace,
	.tracing = ppp_session_fsm_tracing,
};
