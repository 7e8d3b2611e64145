/* Link layers, IPv4, IPv6, UDP and TCP framing.
 *
 * Pure decoders in the libdiag style: each reads one header from (p, len) through the
 * checked reader, fills a small struct whose pointers point into the input, and returns
 * 0, or -1 with `err` naming the byte offset (within p) and the reason. Both limits are
 * checked: what was captured (`len`) and what the header claims (total length, UDP
 * length). A packet cut short by the capture's snap length is not an error: the
 * payload is what was captured and `truncated` says so.
 */
#ifndef VNET_NET_H
#define VNET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "diag.h"
#include "jsonw.h"

/* ---- socket addresses -------------------------------------------------------------- */
struct sockaddr_storage;
/* "ADDR[:PORT]" (an IPv4 address, or an IPv6 address in brackets when a port follows, a
 * bare IPv6 address without one) into a socket address; `port` when none is written.
 * 0, or -1 when the text is none of these. `len` may be NULL. */
int net_hostport_parse(const char *text, unsigned port, struct sockaddr_storage *ss,
                       unsigned *len);
/* The address alone ("192.0.2.7", "2001:db8::7") and with its port ("192.0.2.7:1812",
 * "[2001:db8::7]:1812"). */
const char *net_sockaddr_ip(const struct sockaddr_storage *ss, char *buf, size_t n);
const char *net_sockaddr_text(const struct sockaddr_storage *ss, char *buf, size_t n);

/* ---- link layer ----------------------------------------------------------------- */

/* What the link layer carries. */
enum net_next {
	NET_NEXT_NONE = 0, /* something we do not follow (ARP, STP, ...): see ethertype */
	NET_NEXT_IPV4,
	NET_NEXT_IPV6,
	NET_NEXT_PPP,      /* a PPP frame: protocol field first (PPPoE session, 0x880B) */
};

enum net_link_kind {
	NET_LINK_ETHER,
	NET_LINK_SLL,
	NET_LINK_SLL2,
	NET_LINK_RAW,
	NET_LINK_NULL,     /* BSD loopback, host byte order family */
	NET_LINK_LOOP,     /* OpenBSD loopback, network byte order family */
	NET_LINK_PPP,      /* DLT_PPP / DLT_PPP_SERIAL: optional HDLC address/control */
};

#define NET_MAX_VLAN 4

struct net_link {
	enum net_link_kind kind;
	enum net_next next;
	uint16_t ethertype;       /* after VLAN tags (ETHER, SLL, SLL2); 0 otherwise */
	uint8_t src_mac[8], dst_mac[6];
	uint8_t src_mac_len;      /* 6 for Ethernet, SLL address length otherwise */
	uint16_t sll_pkttype;     /* SLL/SLL2: 0 host, 4 outgoing, ... */
	uint32_t null_family;     /* NULL/LOOP: AF_ value as stored */
	int nvlan;
	uint16_t vlan[NET_MAX_VLAN]; /* VLAN ids, outer first */
	uint16_t pppoe_session;   /* PPPoE session frames: session id */
	bool pppoe;
	size_t hdr_len;           /* bytes before the payload */
};

/* Link types handled; `dlt` is what pcap_datalink() returns. */
bool net_link_supported(int dlt);
const char *net_link_name(int dlt);
int net_link_decode(int dlt, const uint8_t *p, size_t len, struct net_link *out,
                    struct diag_err *err);
json_t *net_link_to_json(const struct net_link *l);
void net_link_jw(struct jw *w, const struct net_link *l); /* the members, into w's open object */

/* ---- IP ------------------------------------------------------------------------- */

struct net_ip {
	uint8_t version;          /* 4 or 6 */
	uint8_t proto;            /* upper-layer protocol (after IPv6 extension headers) */
	uint8_t ttl;              /* TTL / hop limit */
	uint8_t tos;              /* TOS / traffic class */
	uint8_t src[16], dst[16]; /* IPv4 uses the first 4 bytes */
	uint16_t total_len;       /* IPv4 total length; IPv6 40 + payload length */
	uint16_t checksum;        /* IPv4 */
	bool checksum_ok;         /* IPv4 header checksum verifies */
	uint32_t flow_label;      /* IPv6 */
	/* fragmentation */
	bool frag;                /* a fragment: offset != 0 or more-fragments set */
	bool df, mf;
	uint32_t id;              /* IPv4 id (16 bits) or IPv6 fragment header id */
	uint32_t frag_off;        /* offset in bytes */
	size_t hdr_len;           /* bytes up to the upper-layer payload */
	const uint8_t *payload;   /* upper-layer bytes (of this fragment), what was captured */
	size_t payload_len;       /* captured bytes of payload, bounded by the claimed length */
	size_t claimed_len;       /* payload length the header claims */
	bool truncated;           /* captured less than claimed */
};

int net_ipv4_decode(const uint8_t *p, size_t len, struct net_ip *out, struct diag_err *err);
int net_ipv6_decode(const uint8_t *p, size_t len, struct net_ip *out, struct diag_err *err);
/* Decides by the version nibble. */
int net_ip_decode(const uint8_t *p, size_t len, struct net_ip *out, struct diag_err *err);
/* "10.0.0.1" or "2001:db8::1" */
void net_addr_str(uint8_t version, const uint8_t *addr, char *buf, size_t bufsz);
json_t *net_ip_to_json(const struct net_ip *ip);
void net_ip_jw(struct jw *w, const struct net_ip *ip); /* the members, into w's open object */
const char *net_ipproto_name(uint8_t proto); /* "UDP", ... or NULL */

/* ---- UDP / TCP --------------------------------------------------------------------- */

struct net_udp {
	uint16_t sport, dport, length, checksum;
	const uint8_t *payload;
	size_t payload_len;       /* captured payload, bounded by the UDP length */
	bool truncated;
};
int net_udp_decode(const uint8_t *p, size_t len, struct net_udp *out, struct diag_err *err);
json_t *net_udp_to_json(const struct net_udp *u);
void net_udp_jw(struct jw *w, const struct net_udp *u); /* the members, into w's open object */

enum {
	TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08,
	TCP_ACK = 0x10, TCP_URG = 0x20, TCP_ECE = 0x40, TCP_CWR = 0x80,
};

struct net_tcp {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window, checksum, urgent;
	size_t hdr_len;
	const uint8_t *payload;
	size_t payload_len;
};
int net_tcp_decode(const uint8_t *p, size_t len, struct net_tcp *out, struct diag_err *err);
json_t *net_tcp_to_json(const struct net_tcp *t);
void net_tcp_jw(struct jw *w, const struct net_tcp *t); /* the members, into w's open object */
/* "SYN,ACK" style into buf. */
void net_tcp_flags_str(uint8_t flags, char *buf, size_t bufsz);

/* The Internet checksum (RFC 1071) of n bytes, continuing from the partial sum `acc`
 * (0, or the sum of a pseudo-header given back by ~inet_cksum): the value to put in the
 * packet, 0 when a packet that carries its checksum verifies. */
uint16_t inet_cksum(const uint8_t *p, size_t n, uint32_t acc);
/* The ICMP echo reply to an IPv4 echo request `ip` of `tot` bytes with an `ihl`-byte
 * header (both already checked by the caller), written to `out` (tot bytes): addresses
 * swapped, TTL 64, type 0, both checksums computed anew. */
void icmp_echo_reply(uint8_t *out, const uint8_t *ip, size_t ihl, size_t tot);

#endif
