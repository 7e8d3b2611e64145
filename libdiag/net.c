/* Link layers, IPv4/IPv6, UDP, TCP: see net.h. */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include "net.h"

/* DLT values as pcap_datalink() returns them on this platform (pcap/dlt.h). */
enum {
	DLT_V_NULL = 0, DLT_V_EN10MB = 1, DLT_V_PPP = 9, DLT_V_RAW14 = 14, DLT_V_RAW12 = 12,
	DLT_V_PPP_SERIAL = 50, DLT_V_LINKTYPE_RAW = 101, DLT_V_LOOP = 108,
	DLT_V_LINUX_SLL = 113, DLT_V_IPV4 = 228, DLT_V_IPV6 = 229, DLT_V_LINUX_SLL2 = 276,
};

static const struct tok link_names[] = {
	{DLT_V_NULL, "BSD loopback"}, {DLT_V_EN10MB, "Ethernet"}, {DLT_V_PPP, "PPP"},
	{DLT_V_RAW12, "raw IP"}, {DLT_V_RAW14, "raw IP"}, {DLT_V_PPP_SERIAL, "PPP (HDLC)"},
	{DLT_V_LINKTYPE_RAW, "raw IP"}, {DLT_V_LOOP, "OpenBSD loopback"},
	{DLT_V_LINUX_SLL, "Linux cooked v1"}, {DLT_V_IPV4, "raw IPv4"}, {DLT_V_IPV6, "raw IPv6"},
	{DLT_V_LINUX_SLL2, "Linux cooked v2"}, {0, NULL},
};

bool net_link_supported(int dlt)
{
	return dlt >= 0 && tok_name(link_names, (unsigned)dlt) != NULL;
}

const char *net_link_name(int dlt)
{
	const char *s = dlt >= 0 ? tok_name(link_names, (unsigned)dlt) : NULL;
	return s ? s : "unknown";
}

enum {
	ETH_IPV4 = 0x0800, ETH_IPV6 = 0x86dd, ETH_VLAN = 0x8100, ETH_QINQ = 0x88a8,
	ETH_QINQ_OLD = 0x9100, ETH_PPP = 0x880b, ETH_PPPOE_SESS = 0x8864,
};

/* Follow an ethertype: VLAN tags, PPPoE session, IP. `r` is positioned after it. */
static int link_ethertype(struct rd *r, uint16_t type, struct net_link *out,
                          struct diag_err *err)
{
	for (int i = 0; i <= NET_MAX_VLAN; i++) {
		if (type != ETH_VLAN && type != ETH_QINQ && type != ETH_QINQ_OLD)
			break;
		if (out->nvlan == NET_MAX_VLAN) {
			diag_err_set(err, r->off, "more than %d VLAN tags", NET_MAX_VLAN);
			return -1;
		}
		uint16_t tci = rd_u16(r);
		type = rd_u16(r);
		if (!rd_ok(r))
			return rd_error(r, err, 0, "802.1Q tag");
		out->vlan[out->nvlan++] = tci & 0x0fff;
	}
	out->ethertype = type;
	switch (type) {
	case ETH_IPV4: out->next = NET_NEXT_IPV4; break;
	case ETH_IPV6: out->next = NET_NEXT_IPV6; break;
	case ETH_PPP: out->next = NET_NEXT_PPP; break;
	case ETH_PPPOE_SESS: {
		uint8_t vt = rd_u8(r);
		uint8_t code = rd_u8(r);
		out->pppoe_session = rd_u16(r);
		(void)rd_u16(r); /* payload length */
		if (!rd_ok(r))
			return rd_error(r, err, 0, "PPPoE header");
		if (vt != 0x11 || code != 0) {
			diag_err_set(err, r->off - 6, "PPPoE: version/type 0x%02x code 0x%02x in a session frame",
			             vt, code);
			return -1;
		}
		out->pppoe = true;
		out->next = NET_NEXT_PPP;
		break;
	}
	default: out->next = NET_NEXT_NONE; break;
	}
	out->hdr_len = r->off;
	return 0;
}

static int link_ip_version(const uint8_t *p, size_t len, struct net_link *out,
                           struct diag_err *err)
{
	if (len < 1) {
		diag_err_set(err, 0, "raw IP: empty packet");
		return -1;
	}
	switch (p[0] >> 4) {
	case 4: out->next = NET_NEXT_IPV4; break;
	case 6: out->next = NET_NEXT_IPV6; break;
	default:
		diag_err_set(err, 0, "raw IP: version %u is neither 4 nor 6", p[0] >> 4);
		return -1;
	}
	return 0;
}

static int link_family(uint32_t fam, struct net_link *out, struct diag_err *err)
{
	switch (fam) {
	case 2: out->next = NET_NEXT_IPV4; break;
	case 10: case 24: case 28: case 30: out->next = NET_NEXT_IPV6; break;
	default: out->next = NET_NEXT_NONE; break;
	}
	return 0;
}

int net_link_decode(int dlt, const uint8_t *p, size_t len, struct net_link *out,
                    struct diag_err *err)
{
	struct rd r;
	memset(out, 0, sizeof *out);
	rd_init(&r, p, len);
	switch (dlt) {
	case DLT_V_EN10MB: {
		out->kind = NET_LINK_ETHER;
		rd_copy(&r, out->dst_mac, 6);
		rd_copy(&r, out->src_mac, 6);
		out->src_mac_len = 6;
		uint16_t type = rd_u16(&r);
		if (!rd_ok(&r))
			return rd_error(&r, err, 0, "Ethernet header");
		if (type <= 1500) { /* 802.3 length: LLC follows, not followed here */
			out->ethertype = 0;
			out->next = NET_NEXT_NONE;
			out->hdr_len = r.off;
			return 0;
		}
		return link_ethertype(&r, type, out, err);
	}
	case DLT_V_LINUX_SLL: {
		out->kind = NET_LINK_SLL;
		out->sll_pkttype = rd_u16(&r);
		(void)rd_u16(&r); /* ARPHRD type */
		uint16_t alen = rd_u16(&r);
		const uint8_t *a = rd_ptr(&r, 8);
		uint16_t type = rd_u16(&r);
		if (!rd_ok(&r))
			return rd_error(&r, err, 0, "Linux cooked header");
		out->src_mac_len = alen > 8 ? 8 : (uint8_t)alen;
		memcpy(out->src_mac, a, out->src_mac_len);
		return link_ethertype(&r, type, out, err);
	}
	case DLT_V_LINUX_SLL2: {
		out->kind = NET_LINK_SLL2;
		uint16_t type = rd_u16(&r);
		(void)rd_u16(&r); /* reserved */
		(void)rd_u32(&r); /* interface index */
		(void)rd_u16(&r); /* ARPHRD type */
		out->sll_pkttype = rd_u8(&r);
		uint8_t alen = rd_u8(&r);
		const uint8_t *a = rd_ptr(&r, 8);
		if (!rd_ok(&r))
			return rd_error(&r, err, 0, "Linux cooked v2 header");
		out->src_mac_len = alen > 8 ? 8 : alen;
		memcpy(out->src_mac, a, out->src_mac_len);
		return link_ethertype(&r, type, out, err);
	}
	case DLT_V_RAW12: case DLT_V_RAW14: case DLT_V_LINKTYPE_RAW:
		out->kind = NET_LINK_RAW;
		return link_ip_version(p, len, out, err);
	case DLT_V_IPV4: case DLT_V_IPV6:
		out->kind = NET_LINK_RAW;
		if (link_ip_version(p, len, out, err) < 0)
			return -1;
		if ((dlt == DLT_V_IPV4) != (out->next == NET_NEXT_IPV4)) {
			diag_err_set(err, 0, "raw IPv%d link carries an IPv%u packet",
			             dlt == DLT_V_IPV4 ? 4 : 6, p[0] >> 4);
			return -1;
		}
		return 0;
	case DLT_V_NULL: {
		out->kind = NET_LINK_NULL;
		uint32_t fam = rd_le32(&r);
		if (!rd_ok(&r))
			return rd_error(&r, err, 0, "loopback header");
		if (fam > 0xffff) /* written by a big-endian host */
			fam = ((fam & 0xff) << 24) | ((fam & 0xff00) << 8) | ((fam >> 8) & 0xff00) |
			      (fam >> 24);
		out->null_family = fam;
		out->hdr_len = 4;
		return link_family(fam, out, err);
	}
	case DLT_V_LOOP: {
		out->kind = NET_LINK_LOOP;
		uint32_t fam = rd_u32(&r);
		if (!rd_ok(&r))
			return rd_error(&r, err, 0, "loopback header");
		out->null_family = fam;
		out->hdr_len = 4;
		return link_family(fam, out, err);
	}
	case DLT_V_PPP: case DLT_V_PPP_SERIAL:
		out->kind = NET_LINK_PPP;
		out->next = NET_NEXT_PPP;
		out->hdr_len = (len >= 2 && p[0] == 0xff && p[1] == 0x03) ? 2 : 0;
		return 0;
	default:
		diag_err_set(err, 0, "link type %d is not supported", dlt);
		return -1;
	}
}

static void mac_str(const uint8_t *m, size_t n, char *buf, size_t bufsz)
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n && o + 4 <= bufsz; i++) {
		if (i) buf[o++] = ':';
		buf[o++] = hx[m[i] >> 4];
		buf[o++] = hx[m[i] & 15];
		buf[o] = 0;
	}
}

void net_link_jw(struct jw *w, const struct net_link *l)
{
	static const char *const kind[] = {
		[NET_LINK_ETHER] = "eth", [NET_LINK_SLL] = "sll", [NET_LINK_SLL2] = "sll2",
		[NET_LINK_RAW] = "raw", [NET_LINK_NULL] = "null", [NET_LINK_LOOP] = "loop",
		[NET_LINK_PPP] = "ppp-link",
	};
	char buf[32];
	jw_str(w, "layer", kind[l->kind]);
	if (l->kind == NET_LINK_ETHER) {
		mac_str(l->src_mac, 6, buf, sizeof buf);
		jw_str(w, "src", buf);
		mac_str(l->dst_mac, 6, buf, sizeof buf);
		jw_str(w, "dst", buf);
	} else if (l->kind == NET_LINK_SLL || l->kind == NET_LINK_SLL2) {
		mac_str(l->src_mac, l->src_mac_len, buf, sizeof buf);
		jw_str(w, "src", buf);
		jw_int(w, "pkttype", l->sll_pkttype);
	} else if (l->kind == NET_LINK_NULL || l->kind == NET_LINK_LOOP) {
		jw_int(w, "family", l->null_family);
	}
	if (l->nvlan) {
		jw_arr(w, "vlan");
		for (int i = 0; i < l->nvlan; i++)
			jw_int(w, NULL, l->vlan[i]);
		jw_end(w);
	}
	if (l->ethertype) {
		snprintf(buf, sizeof buf, "0x%04x", l->ethertype);
		jw_str(w, "ethertype", buf);
	}
	if (l->pppoe)
		jw_int(w, "pppoe_session", l->pppoe_session);
}

json_t *net_link_to_json(const struct net_link *l)
{
	struct jw w;
	jw_init(&w, JW_TREE, NULL);
	jw_obj(&w, NULL);
	net_link_jw(&w, l);
	jw_end(&w);
	json_t *j = jw_take(&w);
	jw_free(&w);
	return j;
}

/* ---- IP ------------------------------------------------------------------------- */

uint16_t inet_cksum(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

int net_ipv4_decode(const uint8_t *p, size_t len, struct net_ip *out, struct diag_err *err)
{
	struct rd r;
	memset(out, 0, sizeof *out);
	rd_init(&r, p, len);
	uint8_t vihl = rd_u8(&r);
	out->tos = rd_u8(&r);
	out->total_len = rd_u16(&r);
	out->id = rd_u16(&r);
	uint16_t fo = rd_u16(&r);
	out->ttl = rd_u8(&r);
	out->proto = rd_u8(&r);
	out->checksum = rd_u16(&r);
	rd_copy(&r, out->src, 4);
	rd_copy(&r, out->dst, 4);
	if (!rd_ok(&r))
		return rd_error(&r, err, 0, "IPv4 header");
	out->version = 4;
	if ((vihl >> 4) != 4) {
		diag_err_set(err, 0, "IPv4: version %u", vihl >> 4);
		return -1;
	}
	size_t hl = (size_t)(vihl & 15) * 4;
	if (hl < 20) {
		diag_err_set(err, 0, "IPv4: header length %zu < 20", hl);
		return -1;
	}
	if (out->total_len < hl) {
		diag_err_set(err, 2, "IPv4: total length %u < header length %zu", out->total_len, hl);
		return -1;
	}
	if (len < hl) {
		diag_err_set(err, len, "IPv4: header length %zu but only %zu bytes captured", hl, len);
		return -1;
	}
	out->checksum_ok = inet_cksum(p, hl, 0) == 0;
	out->df = fo & 0x4000;
	out->mf = fo & 0x2000;
	out->frag_off = (uint32_t)(fo & 0x1fff) * 8;
	out->frag = out->mf || out->frag_off;
	out->hdr_len = hl;
	out->claimed_len = out->total_len - hl;
	size_t avail = len < out->total_len ? len : out->total_len;
	out->truncated = len < out->total_len;
	out->payload = p + hl;
	out->payload_len = avail - hl;
	return 0;
}

enum { IP6_HBH = 0, IP6_ROUTING = 43, IP6_FRAG = 44, IP6_AH = 51, IP6_NONE = 59,
       IP6_DSTOPT = 60, IP6_MOBILITY = 135 };

int net_ipv6_decode(const uint8_t *p, size_t len, struct net_ip *out, struct diag_err *err)
{
	struct rd r;
	memset(out, 0, sizeof *out);
	rd_init(&r, p, len);
	uint32_t vtf = rd_u32(&r);
	uint16_t plen = rd_u16(&r);
	uint8_t nh = rd_u8(&r);
	out->ttl = rd_u8(&r);
	rd_copy(&r, out->src, 16);
	rd_copy(&r, out->dst, 16);
	if (!rd_ok(&r))
		return rd_error(&r, err, 0, "IPv6 header");
	out->version = 6;
	if ((vtf >> 28) != 6) {
		diag_err_set(err, 0, "IPv6: version %u", vtf >> 28);
		return -1;
	}
	out->tos = (uint8_t)(vtf >> 20);
	out->flow_label = vtf & 0xfffff;
	out->total_len = (uint16_t)(plen + 40 > 0xffff ? 0xffff : plen + 40);
	/* Bound the reader by the claimed length so extension headers stay inside it. */
	size_t end = 40 + (size_t)plen;
	out->truncated = len < end;
	struct rd x;
	rd_init(&x, p, len < end ? len : end);
	x.off = 40;
	for (int i = 0; i < 16; i++) {
		if (nh == IP6_HBH || nh == IP6_ROUTING || nh == IP6_DSTOPT || nh == IP6_MOBILITY) {
			size_t at = x.off;
			uint8_t next = rd_u8(&x);
			size_t elen = ((size_t)rd_u8(&x) + 1) * 8;
			if (!rd_ok(&x))
				return rd_error(&x, err, 0, "IPv6 extension header");
			x.off = at;
			rd_skip(&x, elen);
			if (!rd_ok(&x)) {
				diag_err_set(err, at, "IPv6 extension header %u: length %zu past the end", nh, elen);
				return -1;
			}
			nh = next;
		} else if (nh == IP6_AH) {
			size_t at = x.off;
			uint8_t next = rd_u8(&x);
			size_t elen = ((size_t)rd_u8(&x) + 2) * 4;
			if (!rd_ok(&x))
				return rd_error(&x, err, 0, "IPv6 AH");
			x.off = at;
			rd_skip(&x, elen);
			if (!rd_ok(&x)) {
				diag_err_set(err, at, "IPv6 AH: length %zu past the end", elen);
				return -1;
			}
			nh = next;
		} else if (nh == IP6_FRAG) {
			uint8_t next = rd_u8(&x);
			(void)rd_u8(&x);
			uint16_t fo = rd_u16(&x);
			out->id = rd_u32(&x);
			if (!rd_ok(&x))
				return rd_error(&x, err, 0, "IPv6 fragment header");
			out->frag_off = (uint32_t)(fo & 0xfff8);
			out->mf = fo & 1;
			out->frag = out->mf || out->frag_off;
			nh = next;
			if (out->frag)
				break; /* the rest belongs to the fragmentable part */
		} else {
			break;
		}
	}
	out->proto = nh;
	out->hdr_len = x.off;
	out->claimed_len = end - x.off;
	out->payload = p + x.off;
	out->payload_len = x.len - x.off;
	return 0;
}

int net_ip_decode(const uint8_t *p, size_t len, struct net_ip *out, struct diag_err *err)
{
	if (len < 1) {
		memset(out, 0, sizeof *out);
		diag_err_set(err, 0, "IP: empty packet");
		return -1;
	}
	if ((p[0] >> 4) == 6)
		return net_ipv6_decode(p, len, out, err);
	return net_ipv4_decode(p, len, out, err);
}

void net_addr_str(uint8_t version, const uint8_t *addr, char *buf, size_t bufsz)
{
	if (version != 6 && bufsz >= 16) { /* dotted quad without printf: once per packet */
		char *q = buf;
		for (int i = 0; i < 4; i++) {
			unsigned v = addr[i];
			if (v >= 100) *q++ = (char)('0' + v / 100);
			if (v >= 10) *q++ = (char)('0' + v / 10 % 10);
			*q++ = (char)('0' + v % 10);
			*q++ = i < 3 ? '.' : 0;
		}
		return;
	}
	if (!inet_ntop(version == 6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)bufsz))
		snprintf(buf, bufsz, "?");
}

static const struct tok ipproto_names[] = {
	{1, "ICMP"}, {2, "IGMP"}, {6, "TCP"}, {17, "UDP"}, {41, "IPv6"}, {47, "GRE"},
	{50, "ESP"}, {51, "AH"}, {58, "ICMPv6"}, {89, "OSPF"}, {103, "PIM"}, {112, "VRRP"},
	{115, "L2TPv3"}, {132, "SCTP"}, {0, NULL},
};

const char *net_ipproto_name(uint8_t proto) { return tok_name(ipproto_names, proto); }

void net_ip_jw(struct jw *w, const struct net_ip *ip)
{
	char buf[64];
	jw_str(w, "layer", ip->version == 6 ? "ipv6" : "ipv4");
	net_addr_str(ip->version, ip->src, buf, sizeof buf);
	jw_str(w, "src", buf);
	net_addr_str(ip->version, ip->dst, buf, sizeof buf);
	jw_str(w, "dst", buf);
	const char *pn = net_ipproto_name(ip->proto);
	if (pn)
		jw_str(w, "proto", pn);
	jw_int(w, "proto_num", ip->proto);
	jw_int(w, ip->version == 6 ? "hop_limit" : "ttl", ip->ttl);
	if (ip->version == 4) {
		jw_int(w, "tos", ip->tos);
		jw_int(w, "total_len", ip->total_len);
		jw_int(w, "id", ip->id);
		jw_bool(w, "df", ip->df);
		jw_bool(w, "mf", ip->mf);
		jw_int(w, "frag_off", ip->frag_off);
		snprintf(buf, sizeof buf, "0x%04x", ip->checksum);
		jw_str(w, "checksum", buf);
		jw_bool(w, "checksum_ok", ip->checksum_ok);
	} else {
		jw_int(w, "traffic_class", ip->tos);
		jw_int(w, "flow_label", ip->flow_label);
		jw_int(w, "payload_len", ip->total_len - 40);
		if (ip->frag || ip->id) {
			jw_int(w, "frag_id", ip->id);
			jw_bool(w, "mf", ip->mf);
			jw_int(w, "frag_off", ip->frag_off);
		}
	}
	if (ip->truncated)
		jw_bool(w, "truncated", true);
}

json_t *net_ip_to_json(const struct net_ip *ip)
{
	struct jw w;
	jw_init(&w, JW_TREE, NULL);
	jw_obj(&w, NULL);
	net_ip_jw(&w, ip);
	jw_end(&w);
	json_t *j = jw_take(&w);
	jw_free(&w);
	return j;
}

/* ---- UDP / TCP --------------------------------------------------------------------- */

int net_udp_decode(const uint8_t *p, size_t len, struct net_udp *out, struct diag_err *err)
{
	struct rd r;
	memset(out, 0, sizeof *out);
	rd_init(&r, p, len);
	out->sport = rd_u16(&r);
	out->dport = rd_u16(&r);
	out->length = rd_u16(&r);
	out->checksum = rd_u16(&r);
	if (!rd_ok(&r))
		return rd_error(&r, err, 0, "UDP header");
	if (out->length < 8) {
		diag_err_set(err, 4, "UDP: length %u < 8", out->length);
		return -1;
	}
	out->payload = p + 8;
	out->truncated = out->length > len;
	out->payload_len = (out->truncated ? len : out->length) - 8;
	return 0;
}

void net_udp_jw(struct jw *w, const struct net_udp *u)
{
	jw_str(w, "layer", "udp");
	jw_int(w, "sport", u->sport);
	jw_int(w, "dport", u->dport);
	jw_int(w, "length", u->length);
	if (u->truncated)
		jw_bool(w, "truncated", true);
}

json_t *net_udp_to_json(const struct net_udp *u)
{
	struct jw w;
	jw_init(&w, JW_TREE, NULL);
	jw_obj(&w, NULL);
	net_udp_jw(&w, u);
	jw_end(&w);
	json_t *j = jw_take(&w);
	jw_free(&w);
	return j;
}

int net_tcp_decode(const uint8_t *p, size_t len, struct net_tcp *out, struct diag_err *err)
{
	struct rd r;
	memset(out, 0, sizeof *out);
	rd_init(&r, p, len);
	out->sport = rd_u16(&r);
	out->dport = rd_u16(&r);
	out->seq = rd_u32(&r);
	out->ack = rd_u32(&r);
	uint8_t doff = rd_u8(&r);
	out->flags = rd_u8(&r);
	out->window = rd_u16(&r);
	out->checksum = rd_u16(&r);
	out->urgent = rd_u16(&r);
	if (!rd_ok(&r))
		return rd_error(&r, err, 0, "TCP header");
	size_t hl = (size_t)(doff >> 4) * 4;
	if (hl < 20) {
		diag_err_set(err, 12, "TCP: header length %zu < 20", hl);
		return -1;
	}
	if (hl > len) {
		diag_err_set(err, 12, "TCP: header length %zu but only %zu bytes", hl, len);
		return -1;
	}
	out->hdr_len = hl;
	out->payload = p + hl;
	out->payload_len = len - hl;
	return 0;
}

void net_tcp_flags_str(uint8_t flags, char *buf, size_t bufsz)
{
	static const char *const names[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; i < 8; i++) {
		if (!(flags & (1u << i)))
			continue;
		int n = snprintf(buf + o, bufsz - o, "%s%s", o ? "," : "", names[i]);
		if (n < 0 || (size_t)n >= bufsz - o)
			break;
		o += (size_t)n;
	}
}

void net_tcp_jw(struct jw *w, const struct net_tcp *t)
{
	char buf[48];
	jw_str(w, "layer", "tcp");
	jw_int(w, "sport", t->sport);
	jw_int(w, "dport", t->dport);
	jw_int(w, "seq", t->seq);
	jw_int(w, "ack", t->ack);
	net_tcp_flags_str(t->flags, buf, sizeof buf);
	jw_str(w, "flags", buf);
	jw_int(w, "window", t->window);
	jw_int(w, "payload_len", (long long)t->payload_len);
}

json_t *net_tcp_to_json(const struct net_tcp *t)
{
	struct jw w;
	jw_init(&w, JW_TREE, NULL);
	jw_obj(&w, NULL);
	net_tcp_jw(&w, t);
	jw_end(&w);
	json_t *j = jw_take(&w);
	jw_free(&w);
	return j;
}

void icmp_echo_reply(uint8_t *r, const uint8_t *ip, size_t ihl, size_t tot)
{
	memcpy(r, ip, tot);
	memcpy(r + 12, ip + 16, 4);
	memcpy(r + 16, ip + 12, 4);
	r[8] = 64;
	r[10] = r[11] = 0;
	uint16_t c = inet_cksum(r, ihl, 0);
	r[10] = (uint8_t)(c >> 8);
	r[11] = (uint8_t)c;
	r[ihl] = 0; /* echo reply */
	r[ihl + 2] = r[ihl + 3] = 0;
	c = inet_cksum(r + ihl, tot - ihl, 0);
	r[ihl + 2] = (uint8_t)(c >> 8);
	r[ihl + 3] = (uint8_t)c;
}

/* ---- socket addresses -------------------------------------------------------------- */
int net_hostport_parse(const char *text, unsigned port, struct sockaddr_storage *ss,
                       unsigned *len)
{
	char host[128];
	const char *p = text;
	memset(ss, 0, sizeof *ss);
	if (*p == '[') {
		const char *e = strchr(p, ']');
		if (!e || (size_t)(e - p - 1) >= sizeof host) return -1;
		memcpy(host, p + 1, (size_t)(e - p - 1));
		host[e - p - 1] = 0;
		p = e + 1;
		if (*p == ':') {
			char *end;
			unsigned long v = strtoul(p + 1, &end, 10);
			if (*end || v > 65535 || end == p + 1 || p[1] == '-' || p[1] == '+') return -1;
			port = (unsigned)v;
		} else if (*p) {
			return -1;
		}
	} else {
		const char *c = strrchr(p, ':');
		if (c && strchr(p, ':') == c) {
			if ((size_t)(c - p) >= sizeof host) return -1;
			memcpy(host, p, (size_t)(c - p));
			host[c - p] = 0;
			char *end;
			unsigned long v = strtoul(c + 1, &end, 10);
			if (*end || v > 65535 || end == c + 1 || c[1] == '-' || c[1] == '+') return -1;
			port = (unsigned)v;
		} else {
			if (strlen(p) >= sizeof host) return -1;
			strcpy(host, p);
		}
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (len) *len = sizeof *s4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (len) *len = sizeof *s6;
		return 0;
	}
	return -1;
}

const char *net_sockaddr_ip(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	if (!n) return buf;
	buf[0] = 0;
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, (socklen_t)n);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf, (socklen_t)n);
	else
		snprintf(buf, n, "?");
	return buf;
}

const char *net_sockaddr_text(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	char a[64];
	net_sockaddr_ip(ss, a, sizeof a);
	if (ss->ss_family == AF_INET6)
		snprintf(buf, n, "[%s]:%u", a, ntohs(((const struct sockaddr_in6 *)ss)->sin6_port));
	else if (ss->ss_family == AF_INET)
		snprintf(buf, n, "%s:%u", a, ntohs(((const struct sockaddr_in *)ss)->sin_port));
	else
		snprintf(buf, n, "?");
	return buf;
}
