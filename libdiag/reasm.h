/* IP fragment reassembly and TCP stream reassembly, with bounded memory.
 *
 * Fragments: datagrams are keyed by (version, src, dst, id, proto). At most
 * `max_datagrams` are open at once and their buffers together hold at most `max_bytes`;
 * when a new datagram does not fit, the oldest open one is given up (and reported).
 * A datagram that sees no fragment for `timeout_ns` of capture time is given up too.
 * Overlapping fragments keep the bytes that arrived first; exact duplicates are
 * dropped; an overlap that disagrees with what is held is counted and reported.
 *
 * Streams: one direction of one TCP connection is a flow. Bytes are delivered in
 * sequence order; retransmitted bytes are dropped, segments that arrive early are held
 * (bounded), and the caller's `framelen` callback cuts the in-order bytes into
 * messages (PPTP control messages may span segments or share one). At most `max_flows`
 * flows are open (the least recently used is closed when a new one needs room), each
 * buffering at most `max_flow_bytes`, so memory is bounded by open flows, not by the
 * size of the capture.
 *
 * Buffers are allocated when a datagram or flow first needs them and reused after.
 */
#ifndef VNET_REASM_H
#define VNET_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "diag.h"

/* ---- IP fragments ----------------------------------------------------------------- */

struct ipfrag_cfg {
	size_t max_datagrams;   /* open datagrams (default 64) */
	size_t max_bytes;       /* bytes buffered over all of them (default 4 MiB) */
	uint64_t timeout_ns;    /* capture time without a new fragment (default 30 s) */
};

struct ipfrag_key {
	uint8_t version;        /* 4 or 6 */
	uint8_t proto;
	uint32_t id;
	uint8_t src[16], dst[16];
};

/* Why a datagram was given up, for reports. */
enum ipfrag_end { IPFRAG_TIMEOUT, IPFRAG_EVICTED, IPFRAG_END_OF_CAPTURE };

struct ipfrag_report {
	struct ipfrag_key key;
	enum ipfrag_end why;
	uint64_t first_frame, last_frame;
	unsigned nfrags;
	size_t have_bytes;      /* bytes received */
	size_t total_len;       /* known total (last fragment seen), 0 if not */
};

struct ipfrag_done {
	const uint8_t *data;    /* the reassembled payload; valid until the next ipfrag_* call */
	size_t len;
	uint64_t first_frame;   /* frame of the first fragment received */
	unsigned nfrags;
	unsigned overlaps;      /* fragments that overlapped held data */
	unsigned conflicts;     /* overlaps whose bytes disagreed with what was held */
};

struct ipfrag;
typedef void (*ipfrag_report_fn)(void *arg, const struct ipfrag_report *rep);

struct ipfrag *ipfrag_new(const struct ipfrag_cfg *cfg); /* cfg NULL: defaults */
void ipfrag_free(struct ipfrag *f);
/* Called for every datagram given up (timeout, eviction, ipfrag_flush). */
void ipfrag_set_report(struct ipfrag *f, ipfrag_report_fn fn, void *arg);

/* Add one fragment (`off` in bytes, `mf` more-fragments). Returns 1 when this completes
 * the datagram (*done filled), 0 when it is held (or dropped as a duplicate), -1 when
 * the fragment is invalid (err: offset within the fragment is 0). */
int ipfrag_add(struct ipfrag *f, const struct ipfrag_key *k, uint64_t now_ns, uint64_t frame,
               uint32_t off, bool mf, const uint8_t *data, size_t len,
               struct ipfrag_done *done, struct diag_err *err);
/* Give up datagrams idle since before now - timeout. */
void ipfrag_expire(struct ipfrag *f, uint64_t now_ns);
/* Give up every open datagram (end of capture). */
void ipfrag_flush(struct ipfrag *f);
size_t ipfrag_open_count(const struct ipfrag *f);
size_t ipfrag_bytes(const struct ipfrag *f); /* bytes of buffer held */

/* ---- TCP streams ------------------------------------------------------------------- */

struct tcpflow_cfg {
	size_t max_flows;       /* default 256 */
	size_t max_flow_bytes;  /* in-order bytes waiting for a message end (default 64 KiB) */
	size_t max_ooo_bytes;   /* early segments held per flow (default 64 KiB) */
};

struct tcpflow_key {
	uint8_t version;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

/* Length of the message at the start of p (may exceed len), 0 when more bytes are
 * needed to tell, -1 when the bytes cannot start a message (the flow is then skipped
 * until it resynchronises on a SYN). */
typedef long (*tcpflow_framelen_fn)(const uint8_t *p, size_t len);

struct tcpflow_stats {
	uint64_t retrans_bytes;  /* dropped as already delivered */
	uint64_t ooo_dropped;    /* early bytes dropped: no room */
	uint64_t gaps;           /* holes skipped over (lost segments) */
	uint64_t evicted;        /* flows closed to make room */
	uint64_t overflow;       /* messages longer than max_flow_bytes */
};

struct tcpflow;
struct tcpflow *tcpflow_new(const struct tcpflow_cfg *cfg, tcpflow_framelen_fn fl);
void tcpflow_free(struct tcpflow *t);

/* Add one segment. Afterwards call tcpflow_next until it returns 0 to take the
 * complete messages this segment made available. Returns 0, or -1 when bytes had to be
 * given up (err says why: more in-order bytes than max_flow_bytes without a message
 * end, or a hole that was skipped because early segments filled their room). */
int tcpflow_add(struct tcpflow *t, const struct tcpflow_key *k, uint32_t seq, uint8_t flags,
                const uint8_t *data, size_t len, struct diag_err *err);
/* Next complete message of the flow last added to: 1 with (*msg, *len) valid until the
 * next tcpflow_add, 0 when none is complete yet, -1 when the bytes do not frame (err
 * says where; the flow's buffered bytes are dropped and it waits for a new SYN). */
int tcpflow_next(struct tcpflow *t, const uint8_t **msg, size_t *len, struct diag_err *err);
size_t tcpflow_open_count(const struct tcpflow *t);
/* Bytes of the flow last added to that wait for the rest of their message. */
size_t tcpflow_pending(const struct tcpflow *t);
const struct tcpflow_stats *tcpflow_stats(const struct tcpflow *t);

#endif
