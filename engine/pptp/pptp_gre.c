/* One PPTP call's enhanced GRE state (pptp_gre.h). */
#include "pptp/pptp_gre.h"

#include <string.h>

void pptp_gre_init(struct pptp_gre *g, uint16_t peer_call_id, uint16_t peer_rwin,
                   uint32_t ack_delay_ms, uint32_t ack_timeout_ms, uint64_t now)
{
	memset(g, 0, sizeof *g);
	g->peer_call_id = peer_call_id;
	g->peer_rwin = peer_rwin ? peer_rwin : 1;
	g->ack_delay_ms = ack_delay_ms;
	g->ack_timeout_ms = ack_timeout_ms;
	g->una_since = now;
	g->ack_due = UINT64_MAX;
}

/* a is after b in 32-bit serial arithmetic */
static bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

size_t pptp_gre_send(struct pptp_gre *g, const uint8_t *ppp, size_t len, uint8_t *buf,
                     size_t cap, uint64_t now)
{
	if (pptp_gre_in_flight(g) >= g->peer_rwin) {
		if (now >= g->una_since + g->ack_timeout_ms) {
			/* the peer acknowledged nothing for too long: what is in flight is lost */
			g->snd_una = g->snd_nxt;
			g->una_since = now;
			g->st.ack_timeouts++;
		} else {
			g->st.window_drops++;
			return 0;
		}
	}
	struct gre_msg m;
	gre_msg_init_v1(&m, g->peer_call_id, true, g->snd_nxt, g->ack_owed, g->rcv_last, ppp, len);
	size_t n = gre_encode(&m, buf, cap);
	if (!n) return 0;
	if (pptp_gre_in_flight(g) == 0) g->una_since = now;
	g->snd_nxt++;
	g->st.tx++;
	if (g->ack_owed) {
		g->ack_owed = false;
		g->ack_due = UINT64_MAX;
	}
	return n;
}

enum pptp_gre_rc pptp_gre_input(struct pptp_gre *g, const struct gre_msg *m, uint64_t now)
{
	if (m->a) {
		/* acknowledges everything up to m->ack: only a number among those in flight
		 * moves the window */
		uint32_t next = m->ack + 1;
		if (seq_after(next, g->snd_una) && !seq_after(next, g->snd_nxt)) {
			g->snd_una = next;
			g->una_since = now;
		} else if (next != g->snd_una) {
			g->st.bad_acks++;
		}
	}
	if (!m->s) return PPTP_GRE_ACK_ONLY;
	if (g->rcv_any && !seq_after(m->seq, g->rcv_last)) {
		g->st.duplicates++;
		return PPTP_GRE_DUPLICATE;
	}
	g->rcv_any = true;
	g->rcv_last = m->seq;
	g->st.rx++;
	if (!g->ack_owed) {
		g->ack_owed = true;
		g->ack_due = now + g->ack_delay_ms;
	}
	return m->payload_len ? PPTP_GRE_DELIVER : PPTP_GRE_ACK_ONLY;
}

uint64_t pptp_gre_deadline(const struct pptp_gre *g)
{
	return g->ack_owed ? g->ack_due : UINT64_MAX;
}

size_t pptp_gre_tick(struct pptp_gre *g, uint8_t *buf, size_t cap, uint64_t now)
{
	if (!g->ack_owed || now < g->ack_due) return 0;
	struct gre_msg m;
	gre_msg_init_v1(&m, g->peer_call_id, false, 0, true, g->rcv_last, NULL, 0);
	size_t n = gre_encode(&m, buf, cap);
	if (!n) return 0;
	g->ack_owed = false;
	g->ack_due = UINT64_MAX;
	g->st.acks_sent++;
	return n;
}
