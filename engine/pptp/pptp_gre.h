/* One PPTP call's enhanced GRE (RFC 2637 section 4): the sequence numbers of the PPP
 * frames we send, the acknowledgements of the peer's, and the peer's receive window.
 * Sans-I/O: packets leave through the `out` callback, time is an argument.
 *
 * Sending: every frame gets the next sequence number (from 0, wrapping at 2^32); an
 * acknowledgement owed to the peer rides on it. Frames the peer has not acknowledged are
 * "in flight"; when they fill the peer's receive window (its OCRQ / OCRP) a new frame
 * is dropped and counted (`window_drops`): PPP, and MPPE with its coherency count,
 * recover from a lost frame, and a call holds no queue. A peer that stops
 * acknowledging does not stall the call for good: after ack_timeout_ms without an
 * acknowledgement that moves the window, what is in flight is taken as lost and the
 * window opens again (`ack_timeouts`).
 *
 * Receiving: the caller has matched the Call ID and the peer's address. A packet with a
 * sequence number newer than the last one taken (32-bit serial arithmetic) is delivered,
 * also after a gap (the frames in between are taken as lost: PPP does not need them in
 * order); one equal to or older than the last one taken (a duplicate, or one overtaken
 * on the way) is dropped and counted. RFC 2637 section 4.3 lets a receiver drop
 * out-of-order packets; holding them for reordering would cost memory per call for a
 * link that, on a path that reorders, would still lose them to the MPPE history. The
 * acknowledgement of a delivered packet is owed: it rides on the next frame we send, or
 * goes in an acknowledgement-only packet after ack_delay_ms.
 */
#ifndef VNET_PPTP_GRE_H
#define VNET_PPTP_GRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gre.h"

#define PPTP_GRE_HDR_MAX 16   /* enhanced GRE header with sequence and acknowledgement */

struct pptp_gre_stats {
	uint64_t tx, rx, acks_sent, duplicates, window_drops, ack_timeouts, bad_acks;
};

enum pptp_gre_rc {
	PPTP_GRE_DELIVER = 0,    /* the payload is a PPP frame for the session */
	PPTP_GRE_ACK_ONLY,       /* an acknowledgement without payload: nothing to deliver */
	PPTP_GRE_DUPLICATE,      /* a sequence number already taken or older: dropped */
};

struct pptp_gre {
	uint16_t peer_call_id;       /* what our packets carry */
	uint16_t peer_rwin;          /* 1..: the peer's receive window */
	uint32_t ack_delay_ms, ack_timeout_ms;
	uint32_t snd_nxt;            /* next sequence number to send */
	uint32_t snd_una;            /* oldest sequence number not acknowledged */
	uint64_t una_since;          /* when snd_una last moved, or the window first filled */
	bool rcv_any;                /* a sequenced packet was taken */
	bool ack_owed;
	uint32_t rcv_last;           /* the newest sequence number taken */
	uint64_t ack_due;            /* when an acknowledgement-only packet goes */
	struct pptp_gre_stats st;
};

/* The peer's Call ID and receive window (0 is taken as 1), the acknowledgement delay
 * (e.g. 100 ms) and the time after which unacknowledged frames are given up (1000 ms). */
void pptp_gre_init(struct pptp_gre *g, uint16_t peer_call_id, uint16_t peer_rwin,
                   uint32_t ack_delay_ms, uint32_t ack_timeout_ms, uint64_t now);
/* Encode one PPP frame (address/control bytes included) with the next sequence number
 * and any acknowledgement owed into buf (room for PPTP_GRE_HDR_MAX + len): its length,
 * 0 when the window is full (the frame dropped and counted) or it does not fit. */
size_t pptp_gre_send(struct pptp_gre *g, const uint8_t *ppp, size_t len, uint8_t *buf,
                     size_t cap, uint64_t now);
/* A received enhanced GRE packet of this call (gre_decode'd; version 1, the caller
 * matched the Call ID): the acknowledgement it carries, then its sequence number. */
enum pptp_gre_rc pptp_gre_input(struct pptp_gre *g, const struct gre_msg *m, uint64_t now);
/* When an acknowledgement-only packet is due (UINT64_MAX: none owed). */
uint64_t pptp_gre_deadline(const struct pptp_gre *g);
/* The acknowledgement-only packet when it is due (its length, else 0). */
size_t pptp_gre_tick(struct pptp_gre *g, uint8_t *buf, size_t cap, uint64_t now);
/* Frames in flight (sent, not acknowledged). */
static inline uint32_t pptp_gre_in_flight(const struct pptp_gre *g)
{
	return g->snd_nxt - g->snd_una;
}

#endif
