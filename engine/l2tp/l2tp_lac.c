/* The LAC side of the L2TPv2 control connection (RFC 2661 sections 7.2 and 7.4.1):
 * SCCRQ out, SCCRP checked and answered with SCCCN, incoming calls placed with ICRQ and
 * completed with ICCN. Used by the tests against the LNS and by the load generator. */
#include <stdio.h>
#include <string.h>

#include "l2tp/l2tp_ctrl.h"

enum { STOP_NOT_AUTHORIZED = L2TP_STOP_NOT_AUTHORIZED, STOP_FSM = L2TP_STOP_FSM };

uint64_t l2tp_lac_open(struct l2tp_tunnel *t, uint64_t now)
{
	if (t->state != L2TP_TUN_IDLE) return l2tp_ctrl_deadline(t);
	l2tp_ctrl_take_tid(t);
	struct l2tp_msg m;
	struct l2tp_hide_buf hb;
	memset(&hb, 0, sizeof hb);
	l2tp_msg_init_ctrl(&m, L2TP_MSG_SCCRQ, 0, 0, 0, 0);
	l2tp_ctrl_add_sccx(t, &m, &hb);
	l2tp_add_uint(&m, L2TP_AVP_BEARER_CAP, L2TP_BEARER_ANALOG);
	if (t->conf->secret) {
		t->cbs->random(t->cbs->ctx, t->challenge, sizeof t->challenge);
		t->challenged = true;
		l2tp_add_bytes(&m, L2TP_AVP_CHALLENGE, t->challenge, sizeof t->challenge);
	}
	l2tp_ctrl_set_state(t, L2TP_TUN_WAIT_CTL_REPLY);
	l2tp_ctrl_queue(t, &m, now);
	return l2tp_ctrl_deadline(t);
}

uint16_t l2tp_lac_call(struct l2tp_tunnel *t, uint64_t now)
{
	if (t->state != L2TP_TUN_ESTABLISHED) return 0;
	struct l2tp_call *c = l2tp_ctrl_call_new(t);
	if (!c) return 0;
	c->state = L2TP_CALL_WAIT_REPLY;
	uint8_t b[4];
	t->cbs->random(t->cbs->ctx, b, 4);
	c->serial = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	struct l2tp_msg m;
	struct l2tp_hide_buf hb;
	memset(&hb, 0, sizeof hb);
	l2tp_msg_init_ctrl(&m, L2TP_MSG_ICRQ, t->peer_tid, 0, 0, 0);
	l2tp_ctrl_add_id(t, &m, &hb, L2TP_AVP_ASSIGNED_SESSION_ID, c->local_sid, 2);
	l2tp_ctrl_add_id(t, &m, &hb, L2TP_AVP_CALL_SERIAL, c->serial, 4);
	l2tp_add_uint(&m, L2TP_AVP_BEARER_TYPE, L2TP_BEARER_ANALOG);
	if (l2tp_ctrl_queue(t, &m, now) != 0) {
		c->state = L2TP_CALL_FREE;
		return 0;
	}
	return c->local_sid;
}

static void lac_sccrp(struct l2tp_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	if (t->state != L2TP_TUN_WAIT_CTL_REPLY) {
		l2tp_ctrl_fail(t, STOP_FSM, 0, "SCCRP outside connection set-up", now);
		return;
	}
	uint16_t ptid;
	if (!l2tp_ctrl_avp_u16(t, m, L2TP_AVP_ASSIGNED_TUNNEL_ID, &ptid) || ptid == 0) {
		l2tp_ctrl_fail(t, L2TP_STOP_ERROR, L2TP_ERR_BAD_VALUE,
		               "SCCRP without a readable Assigned Tunnel ID", now);
		return;
	}
	t->peer_tid = ptid;
	uint16_t rws;
	if (l2tp_ctrl_avp_u16(t, m, L2TP_AVP_RECV_WINDOW_SIZE, &rws) && rws > 0) t->peer_rwin = rws;
	uint8_t host[64];
	size_t hn = 0;
	if (l2tp_ctrl_avp(t, m, L2TP_AVP_HOST_NAME, host, sizeof host - 1, &hn) == 1)
		text_printable(host, hn, t->peer_host, sizeof t->peer_host);
	if (t->challenged) {
		uint8_t got[32], want[16];
		size_t n = 0;
		int rc = l2tp_ctrl_avp(t, m, L2TP_AVP_CHALLENGE_RESPONSE, got, sizeof got, &n);
		if (rc != 1 || n != 16 ||
		    l2tp_ctrl_chal_response(t, L2TP_MSG_SCCRP, t->challenge, 16, want) != 0 ||
		    !secret_equal(got, want, 16)) {
			l2tp_ctrl_fail(t, STOP_NOT_AUTHORIZED, 0,
			               rc == 1 ? "tunnel authentication failed: wrong Challenge Response "
			                         "from the LNS (shared secrets differ)"
			                       : "tunnel authentication failed: SCCRP without Challenge Response",
			               now);
			return;
		}
	}
	uint8_t chal[256];
	size_t cn = 0;
	int has_chal = l2tp_ctrl_avp(t, m, L2TP_AVP_CHALLENGE, chal, sizeof chal, &cn);
	if (has_chal != 0 && (!t->conf->secret || has_chal < 0 || cn == 0)) {
		l2tp_ctrl_fail(t, STOP_NOT_AUTHORIZED, 0,
		               "LNS asks for tunnel authentication but no shared secret is configured", now);
		return;
	}
	struct l2tp_msg r;
	l2tp_msg_init_ctrl(&r, L2TP_MSG_SCCCN, t->peer_tid, 0, 0, 0);
	uint8_t resp[16];
	if (has_chal == 1) {
		if (l2tp_ctrl_chal_response(t, L2TP_MSG_SCCCN, chal, cn, resp) != 0) {
			l2tp_ctrl_fail(t, L2TP_STOP_ERROR, L2TP_ERR_NO_RESOURCE, "MD5 unavailable", now);
			return;
		}
		l2tp_add_bytes(&r, L2TP_AVP_CHALLENGE_RESPONSE, resp, sizeof resp);
	}
	l2tp_ctrl_queue(t, &r, now);
	l2tp_ctrl_set_state(t, L2TP_TUN_ESTABLISHED);
	if (t->conf->hello_ms) t->hello_at = now + t->conf->hello_ms;
	l2tp_ctrl_log(t, L2TP_EV_TUNNEL_UP, 0, "tunnel up peer=%s tid %u/%u%s",
	              t->peer_host[0] ? t->peer_host : "?", t->local_tid, t->peer_tid,
	              t->challenged ? " authenticated" : "");
}

static void lac_icrp(struct l2tp_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	struct l2tp_call *c = l2tp_ctrl_call(t, m->session_id);
	if (!c || c->state != L2TP_CALL_WAIT_REPLY) {
		l2tp_ctrl_log(t, L2TP_EV_INFO, m->session_id, "ICRP for session %u not awaiting one, ignored",
		              m->session_id);
		return;
	}
	uint16_t psid;
	if (!l2tp_ctrl_avp_u16(t, m, L2TP_AVP_ASSIGNED_SESSION_ID, &psid) || psid == 0) {
		l2tp_ctrl_call_close(t, c->local_sid, L2TP_CDN_ERROR, L2TP_ERR_BAD_VALUE,
		                     "ICRP without a readable Assigned Session ID",
		                     now);
		return;
	}
	c->peer_sid = psid;
	struct l2tp_msg r;
	l2tp_msg_init_ctrl(&r, L2TP_MSG_ICCN, t->peer_tid, psid, 0, 0);
	l2tp_add_uint(&r, L2TP_AVP_TX_CONNECT_SPEED, 100000000);
	l2tp_add_uint(&r, L2TP_AVP_FRAMING_TYPE, L2TP_FRAMING_SYNC);
	l2tp_ctrl_queue(t, &r, now);
	c->state = L2TP_CALL_ESTABLISHED;
	l2tp_ctrl_log(t, L2TP_EV_CALL_UP, c->local_sid, "call up sid %u/%u", c->local_sid, c->peer_sid);
	if (t->cbs->call_up) t->cbs->call_up(t->cbs->ctx, c->local_sid);
}

void l2tp_lac_handle(struct l2tp_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	switch (m->msg_type) {
	case L2TP_MSG_SCCRP: lac_sccrp(t, m, now); return;
	case L2TP_MSG_ICRP: lac_icrp(t, m, now); return;
	default:
		l2tp_ctrl_log(t, L2TP_EV_INFO, m->session_id, "%s not expected by a LAC, ignored",
		              l2tp_msg_name(m->msg_type) ? l2tp_msg_name(m->msg_type) : "message");
		return;
	}
}
