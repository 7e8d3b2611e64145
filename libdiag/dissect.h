/* The dispatcher: one captured frame -> a stack of decoded layers.
 *
 *   link -> IPv4/IPv6 (fragments reassembled) -> UDP 500 IKE
 *                                              -> UDP 4500 NAT-T: keepalive, IKE, ESP
 *                                              -> UDP 1701 L2TP (data -> PPP)
 *                                              -> UDP 1812/1813/1645/1646/3799 RADIUS
 *                                              -> TCP 1723 stream -> PPTP messages
 *                                              -> IP 50 ESP
 *                                              -> IP 47 GRE (v1, 0x880B -> PPP)
 *           PPP links, PPPoE sessions, ethertype 0x880B -> PPP
 *
 * The dissector owns one decoded message of each protocol (they are large and reused:
 * nothing is allocated per packet), the fragment table and the TCP flow table, so a
 * result is valid until the next dissect_packet call. The first decoding error stops
 * the stack and is kept with the layer it hit and the byte offset.
 */
#ifndef VNET_DISSECT_H
#define VNET_DISSECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "diag.h"
#include "esp.h"
#include "gre.h"
#include "ike.h"
#include "l2tp.h"
#include "net.h"
#include "ppp.h"
#include "pptp.h"
#include "radius.h"
#include "reasm.h"

enum dl_kind {
	DL_LINK, DL_IP, DL_UDP, DL_TCP,
	DL_NATT,     /* UDP 4500 framing (keepalive, non-ESP marker) */
	DL_IKE, DL_ESP, DL_L2TP, DL_PPTP, DL_GRE, DL_PPP, DL_RADIUS,
};

#define DISSECT_MAX_LAYERS 16
#define DISSECT_MAX_PPTP 8 /* PPTP messages shown per TCP segment */

struct dl_layer {
	enum dl_kind kind;
	const void *msg;        /* the decoded struct of the kind (in struct dissect) */
	size_t off;             /* where the layer starts: byte offset in the frame, or in
	                           the reassembled datagram / stream message (see below) */
	bool in_frame;          /* off counts from the start of the frame */
	bool carrier;           /* a PPP frame that only carries IP (the layers above say more) */
};

/* Where reassembly put the packet's upper layers. */
enum dl_reasm { DL_REASM_NONE, DL_REASM_FRAG_HELD, DL_REASM_DATAGRAM, DL_REASM_STREAM };

struct dl_pkt {
	uint64_t frame, ts_ns, rel_ns;
	size_t caplen, origlen;
	bool link_skipped;      /* link type not supported */
	bool has_ip;
	uint8_t ipver;
	uint8_t src[16], dst[16];
	bool has_ports;
	uint16_t sport, dport;
	struct net_link link;
	struct net_ip ip;
	struct net_udp udp;
	struct net_tcp tcp;
	enum natt_kind natt;
	int nlayers;
	struct dl_layer layers[DISSECT_MAX_LAYERS];
	int npptp;              /* PPTP messages completed by this segment */
	unsigned pptp_more;     /* messages past DISSECT_MAX_PPTP, not shown */
	size_t stream_held;     /* TCP 1723: bytes of a message still waiting */
	/* reassembly */
	enum dl_reasm reasm;
	unsigned nfrags;        /* datagram: fragments it was made of */
	uint64_t first_frame;   /* datagram: frame of its first fragment */
	unsigned frag_overlaps, frag_conflicts;
	/* the first error */
	bool has_err;
	const char *err_layer;  /* "IPv4", "L2TP", ... */
	size_t err_off;         /* absolute: in the frame (err_in_frame) or reassembled data */
	bool err_in_frame;
	struct diag_err err;
	/* a note that is not an error (retransmission dropped, stream gap) */
	char note[160];
};

struct dissect_cfg {
	struct ipfrag_cfg frag;
	struct tcpflow_cfg tcp;
};

struct dissect;
typedef void (*dissect_frag_report_fn)(void *arg, const struct ipfrag_report *rep);

struct dissect *dissect_new(const struct dissect_cfg *cfg); /* NULL cfg: defaults */
void dissect_free(struct dissect *d);
/* Datagrams given up (timeout, eviction, end of capture) are passed to fn. */
void dissect_set_frag_report(struct dissect *d, dissect_frag_report_fn fn, void *arg);

/* Decode one frame of link type `dlt`. The result (and every message it points to)
 * stays valid until the next call. Returns the result; never NULL. */
const struct dl_pkt *dissect_packet(struct dissect *d, int dlt, uint64_t frame,
                                    uint64_t ts_ns, uint64_t rel_ns, const uint8_t *data,
                                    size_t caplen, size_t origlen);
/* End of capture: report datagrams that never completed. */
void dissect_finish(struct dissect *d);

/* ---- rendering ------------------------------------------------------------------- */
/* Short name of a layer kind: "IKE", "L2TP", ... */
const char *dl_kind_name(enum dl_kind k);
/* One line of the packet's protocol layers (no frame/time/addresses), e.g.
 * "L2TP data tid 5 sid 9 > PPP LCP Configure-Request id 1 [...]"; malformed data
 * ends it with "[malformed LAYER reason]". Returns the length written. */
size_t dl_summary(const struct dl_pkt *p, char *buf, size_t bufsz);
/* "10.0.0.1:500" / "[2001:db8::1]:500" / "10.0.0.1" (no ports) into buf. */
void dl_endpoint(const struct dl_pkt *p, bool src, char *buf, size_t bufsz);
/* The JSON of one layer (codec's to_json for protocol layers). */
json_t *dl_layer_json(const struct dl_layer *l);
/* One layer as an object through a JSON writer; a NAT-T layer also says its kind. */
void dl_layer_jw(struct jw *w, const struct dl_layer *l, enum natt_kind natt);
/* {"frame", "time", "src", "dst", "sport", "dport", "summary", "layers": [...],
 *  "error": {...}} */
json_t *dl_pkt_json(const struct dl_pkt *p);
/* The same through a JSON writer (streaming or a tree): set w->real_precision to 15 for
 * the layout of `pcap decode --json`. */
void dl_pkt_jw(struct jw *w, const struct dl_pkt *p);

#endif
