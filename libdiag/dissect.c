/* The dispatcher: see dissect.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dissect.h"

enum {
	PORT_IKE = 500, PORT_NATT = 4500, PORT_L2TP = 1701, PORT_PPTP = 1723,
	PORT_RADIUS_AUTH = 1812, PORT_RADIUS_ACCT = 1813, PORT_RADIUS_AUTH_OLD = 1645,
	PORT_RADIUS_ACCT_OLD = 1646, PORT_RADIUS_COA = 3799,
};
enum { IPPROTO_V_IPIP = 4, IPPROTO_V_IPV6 = 41, IPPROTO_V_TCP = 6, IPPROTO_V_UDP = 17, IPPROTO_V_GRE = 47, IPPROTO_V_ESP = 50 };

struct dissect {
	struct ipfrag *frag;
	struct tcpflow *tcp;
	dissect_frag_report_fn rep_fn;
	void *rep_arg;
	struct ppp_hint ppp_hint;
	/* the frame and the reassembled buffer being decoded */
	const uint8_t *frame;
	size_t frame_len;
	const uint8_t *other;   /* start of the reassembled datagram or stream message */
	int ip_depth;           /* IP-in-IP nesting of the current frame */
	struct dl_pkt pkt;
	struct net_ip ipstack[3];  /* one per IP nesting level (DISSECT_MAX_IP_DEPTH) */
	struct net_udp udpstack[3];
	struct net_tcp tcpstack[3];
	struct ike_msg ike;
	struct esp_msg esp;
	struct l2tp_msg l2tp;
	struct pptp_msg pptp[DISSECT_MAX_PPTP];
	struct gre_msg gre;
	struct ppp_msg ppp;
	struct ppp_msg ppp_link; /* PPP as the link layer (PPPoE, DLT_PPP) */
	struct radius_msg radius;
	unsigned used;           /* protocol kinds decoded in this frame (1 << kind) */
};

static long pptp_framelen(const uint8_t *p, size_t len)
{
	return pptp_frame_len(p, len, NULL);
}

static void frag_report(void *arg, const struct ipfrag_report *rep)
{
	struct dissect *d = arg;
	if (d->rep_fn)
		d->rep_fn(d->rep_arg, rep);
}

struct dissect *dissect_new(const struct dissect_cfg *cfg)
{
	struct dissect *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->frag = ipfrag_new(cfg ? &cfg->frag : NULL);
	d->tcp = tcpflow_new(cfg ? &cfg->tcp : NULL, pptp_framelen);
	if (!d->frag || !d->tcp) {
		dissect_free(d);
		return NULL;
	}
	ipfrag_set_report(d->frag, frag_report, d);
	return d;
}

void dissect_free(struct dissect *d)
{
	if (!d)
		return;
	ipfrag_free(d->frag);
	tcpflow_free(d->tcp);
	free(d);
}

void dissect_set_frag_report(struct dissect *d, dissect_frag_report_fn fn, void *arg)
{
	d->rep_fn = fn;
	d->rep_arg = arg;
}

void dissect_finish(struct dissect *d) { ipfrag_flush(d->frag); }

/* ---- building the stack ------------------------------------------------------------ */

static bool in_frame(const struct dissect *d, const uint8_t *at)
{
	return at >= d->frame && at <= d->frame + d->frame_len;
}

static size_t offset_of(const struct dissect *d, const uint8_t *at)
{
	if (in_frame(d, at))
		return (size_t)(at - d->frame);
	return d->other && at >= d->other ? (size_t)(at - d->other) : 0;
}

static void push(struct dissect *d, enum dl_kind k, const void *msg, const uint8_t *at)
{
	struct dl_pkt *p = &d->pkt;
	if (p->nlayers == DISSECT_MAX_LAYERS)
		return;
	struct dl_layer *l = &p->layers[p->nlayers++];
	l->kind = k;
	l->msg = msg;
	l->in_frame = in_frame(d, at);
	l->off = offset_of(d, at);
}

/* Each protocol is decoded once per frame: a second VPN header inside user traffic
 * (L2TP in PPP in L2TP) is left as IP/UDP. True when `k` was decoded already. */
static bool claimed(struct dissect *d, enum dl_kind k)
{
	if (d->used & (1u << k))
		return true;
	d->used |= 1u << k;
	return false;
}

/* Keep the first error: `at` is where the failing layer's buffer starts. */
static void fail(struct dissect *d, const char *layer, const uint8_t *at,
                 const struct diag_err *e)
{
	struct dl_pkt *p = &d->pkt;
	if (p->has_err)
		return;
	p->has_err = true;
	p->err_layer = layer;
	p->err = *e;
	p->err_in_frame = in_frame(d, at);
	p->err_off = offset_of(d, at) + e->off;
}

static void do_ip(struct dissect *d, const uint8_t *b, size_t n, bool v6);

static void do_ppp(struct dissect *d, const uint8_t *b, size_t n, bool link)
{
	struct diag_err e = {0};
	if (!link && claimed(d, DL_PPP))
		return;
	struct ppp_msg *m = link ? &d->ppp_link : &d->ppp;
	if (ppp_decode_ex(b, n, &d->ppp_hint, m, &e) < 0) {
		fail(d, "PPP", b, &e);
		return;
	}
	push(d, DL_PPP, m, b);
	bool v4 = m->proto == PPP_PROTO_IP, v6 = m->proto == PPP_PROTO_IPV6;
	if (v4 || v6) {
		d->pkt.layers[d->pkt.nlayers - 1].carrier = true;
		if (m->payload_len)
			do_ip(d, m->payload, m->payload_len, v6);
	}
	/* Remember the CHAP algorithm LCP agreed on, for the frames that follow. */
	if (m->kind == PPP_KIND_CP && m->proto == PPP_PROTO_LCP && m->cp.code == 2) {
		const struct ppp_opt *o = ppp_cp_find_opt(&m->cp, 3);
		if (o && o->dlen >= 3 && o->data[0] == 0xc2 && o->data[1] == 0x23)
			d->ppp_hint.chap_alg = o->data[2];
	}
}

static void do_ike(struct dissect *d, const uint8_t *b, size_t n)
{
	struct diag_err e = {0};
	if (claimed(d, DL_IKE))
		return;
	if (ike_decode(b, n, &d->ike, &e) < 0) {
		fail(d, "IKE", b, &e);
		return;
	}
	push(d, DL_IKE, &d->ike, b);
}

static void do_esp(struct dissect *d, const uint8_t *b, size_t n)
{
	struct diag_err e = {0};
	if (claimed(d, DL_ESP))
		return;
	if (esp_decode(b, n, &d->esp, &e) < 0) {
		fail(d, "ESP", b, &e);
		return;
	}
	push(d, DL_ESP, &d->esp, b);
}

static void do_natt(struct dissect *d, const uint8_t *b, size_t n, bool cut)
{
	struct dl_pkt *p = &d->pkt;
	if (claimed(d, DL_NATT))
		return;
	p->natt = natt_classify(b, n);
	/* Cut short by the capture: what starts with a non-zero SPI is ESP, however little
	 * of it is there (the ESP decoder then says where it breaks off). */
	if (p->natt == NATT_INVALID && cut && n >= 1 && !(n >= 4 && !b[0] && !b[1] && !b[2] && !b[3]) &&
	    !(n == 1 && b[0] == 0xff))
		p->natt = NATT_ESP;
	push(d, DL_NATT, NULL, b);
	switch (p->natt) {
	case NATT_KEEPALIVE:
		return;
	case NATT_IKE:
		do_ike(d, b + NATT_NON_ESP_MARKER_LEN, n - NATT_NON_ESP_MARKER_LEN);
		return;
	case NATT_ESP:
		do_esp(d, b, n);
		return;
	default: {
		struct diag_err e;
		diag_err_set(&e, 0, "%zu bytes on port 4500 are neither a keepalive, IKE nor ESP", n);
		fail(d, "NAT-T", b, &e);
		return;
	}
	}
}

static void do_l2tp(struct dissect *d, const uint8_t *b, size_t n)
{
	struct diag_err e = {0};
	if (claimed(d, DL_L2TP))
		return;
	if (l2tp_decode(b, n, &d->l2tp, &e) < 0) {
		fail(d, "L2TP", b, &e);
		return;
	}
	push(d, DL_L2TP, &d->l2tp, b);
	if (!d->l2tp.is_control && d->l2tp.payload && d->l2tp.payload_len)
		do_ppp(d, d->l2tp.payload, d->l2tp.payload_len, false);
}

static void do_radius(struct dissect *d, const uint8_t *b, size_t n)
{
	struct diag_err e = {0};
	if (claimed(d, DL_RADIUS))
		return;
	if (radius_decode(b, n, &d->radius, &e) < 0) {
		fail(d, "RADIUS", b, &e);
		return;
	}
	push(d, DL_RADIUS, &d->radius, b);
}

static void do_gre(struct dissect *d, const uint8_t *b, size_t n)
{
	struct diag_err e = {0};
	if (claimed(d, DL_GRE))
		return;
	if (gre_decode(b, n, &d->gre, &e) < 0) {
		fail(d, "GRE", b, &e);
		return;
	}
	push(d, DL_GRE, &d->gre, b);
	if (d->gre.version == 1 && d->gre.protocol == GRE_PROTO_PPP && d->gre.payload &&
	    d->gre.payload_len)
		do_ppp(d, d->gre.payload, d->gre.payload_len, false);
}

static bool port_is(uint16_t sport, uint16_t dport, uint16_t port)
{
	return sport == port || dport == port;
}

static bool is_radius_port(uint16_t port)
{
	return port == PORT_RADIUS_AUTH || port == PORT_RADIUS_ACCT ||
	       port == PORT_RADIUS_AUTH_OLD || port == PORT_RADIUS_ACCT_OLD ||
	       port == PORT_RADIUS_COA;
}

/* True once a protocol of ours is on the stack: from then on inner IP/UDP/TCP headers
 * (user traffic inside PPP) do not change the packet's endpoints. */
static bool have_app(const struct dissect *d)
{
	for (int i = 0; i < d->pkt.nlayers; i++)
		if (d->pkt.layers[i].kind >= DL_NATT && d->pkt.layers[i].msg != &d->ppp_link)
			return true;
	return false;
}

static void set_ports(struct dissect *d, uint16_t sport, uint16_t dport)
{
	struct dl_pkt *p = &d->pkt;
	if (have_app(d))
		return;
	p->has_ports = true;
	p->sport = sport;
	p->dport = dport;
}

static void do_udp(struct dissect *d, const uint8_t *b, size_t n, size_t claimed)
{
	struct dl_pkt *p = &d->pkt;
	struct diag_err e = {0};
	struct net_udp *u = &d->udpstack[d->ip_depth - 1];
	int rc = net_udp_decode(b, n, u, &e);
	p->udp = *u;
	if (rc < 0) {
		fail(d, "UDP", b, &e);
		return;
	}
	set_ports(d, u->sport, u->dport);
	push(d, DL_UDP, u, b);
	if (u->length > claimed) {
		diag_err_set(&e, 4, "length %u > %zu bytes of IP payload", u->length, claimed);
		fail(d, "UDP", b, &e);
		return;
	}
	const uint8_t *q = u->payload;
	size_t m = u->payload_len;
	if (port_is(u->sport, u->dport, PORT_NATT))
		do_natt(d, q, m, u->truncated);
	else if (port_is(u->sport, u->dport, PORT_IKE))
		do_ike(d, q, m);
	else if (port_is(u->sport, u->dport, PORT_L2TP))
		do_l2tp(d, q, m);
	else if (is_radius_port(u->sport) || is_radius_port(u->dport))
		do_radius(d, q, m);
}

static void do_tcp(struct dissect *d, const uint8_t *b, size_t n)
{
	struct dl_pkt *p = &d->pkt;
	struct diag_err e = {0};
	struct net_tcp *t = &d->tcpstack[d->ip_depth - 1];
	int rc = net_tcp_decode(b, n, t, &e);
	p->tcp = *t;
	if (rc < 0) {
		fail(d, "TCP", b, &e);
		return;
	}
	set_ports(d, t->sport, t->dport);
	push(d, DL_TCP, t, b);
	if (!port_is(t->sport, t->dport, PORT_PPTP) || claimed(d, DL_PPTP))
		return;
	const struct net_ip *ip = &d->ipstack[d->ip_depth - 1];
	struct tcpflow_key k = {.version = ip->version, .sport = t->sport, .dport = t->dport};
	memcpy(k.src, ip->src, 16);
	memcpy(k.dst, ip->dst, 16);
	uint64_t retrans = tcpflow_stats(d->tcp)->retrans_bytes;
	if (tcpflow_add(d->tcp, &k, t->seq, t->flags, t->payload, t->payload_len, &e) < 0)
		snprintf(p->note, sizeof p->note, "PPTP stream: %.140s", e.reason);
	else if (tcpflow_stats(d->tcp)->retrans_bytes - retrans == t->payload_len &&
	         t->payload_len)
		snprintf(p->note, sizeof p->note, "retransmission of %zu bytes already seen",
		         t->payload_len);
	for (int guard = 0; guard < 4096; guard++) {
		const uint8_t *msg;
		size_t len;
		rc = tcpflow_next(d->tcp, &msg, &len, &e);
		if (rc == 0)
			break;
		if (rc < 0) {
			d->other = NULL;
			fail(d, "PPTP", t->payload, &e);
			break;
		}
		p->reasm = DL_REASM_STREAM;
		if (p->npptp == DISSECT_MAX_PPTP) {
			p->pptp_more++;
			continue;
		}
		struct pptp_msg *pm = &d->pptp[p->npptp];
		d->other = msg;
		if (pptp_decode(msg, len, pm, &e) < 0) {
			fail(d, "PPTP", msg, &e);
			continue;
		}
		p->npptp++;
		push(d, DL_PPTP, pm, msg);
	}
	p->stream_held = tcpflow_pending(d->tcp);
}

#define DISSECT_MAX_IP_DEPTH 3 /* IP in IP in IP: tunnels of tunnels, no further */

static void do_ip(struct dissect *d, const uint8_t *b, size_t n, bool v6)
{
	struct dl_pkt *p = &d->pkt;
	struct diag_err e = {0};
	const char *name = v6 ? "IPv6" : "IPv4";
	if (++d->ip_depth > DISSECT_MAX_IP_DEPTH) {
		diag_err_set(&e, 0, "more than %d nested IP headers", DISSECT_MAX_IP_DEPTH);
		fail(d, name, b, &e);
		return;
	}
	/* An inner header of an IP-in-IP tunnel replaces the outer one in p->ip: the
	 * packet's addresses are those of the innermost header, as the layers above see
	 * them. The outer header stays in the layer list through its own copy. */
	struct net_ip *ip = &d->ipstack[d->ip_depth - 1];
	int rc = v6 ? net_ipv6_decode(b, n, ip, &e) : net_ipv4_decode(b, n, ip, &e);
	p->ip = *ip;
	if (rc < 0) {
		fail(d, name, b, &e);
		return;
	}
	if (!have_app(d)) {
		p->has_ip = true;
		p->has_ports = false;
		p->ipver = ip->version;
		memcpy(p->src, ip->src, 16);
		memcpy(p->dst, ip->dst, 16);
	}
	push(d, DL_IP, ip, b);
	ipfrag_expire(d->frag, p->ts_ns);
	const uint8_t *q = p->ip.payload;
	size_t m = p->ip.payload_len, claimed = p->ip.claimed_len;
	if (p->ip.frag) {
		if (p->ip.truncated) {
			/* Cannot be reassembled. A first fragment still shows what it starts
			 * with (the layers above say where it breaks off); others stay a fragment. */
			snprintf(p->note, sizeof p->note,
			         "fragment cut short by the capture (%zu of %zu bytes): not reassembled",
			         p->ip.payload_len, p->ip.claimed_len);
			if (p->ip.frag_off != 0)
				return;
			claimed = 65535; /* the UDP length counts the whole datagram */
			goto upper;
		}
		struct ipfrag_key k = {.version = p->ip.version, .proto = p->ip.proto, .id = p->ip.id};
		memcpy(k.src, p->ip.src, 16);
		memcpy(k.dst, p->ip.dst, 16);
		struct ipfrag_done done;
		rc = ipfrag_add(d->frag, &k, p->ts_ns, p->frame, p->ip.frag_off, p->ip.mf, q, m,
		                &done, &e);
		if (rc < 0) {
			e.off += p->ip.hdr_len;
			fail(d, name, b, &e);
			return;
		}
		if (rc == 0) {
			p->reasm = DL_REASM_FRAG_HELD;
			return;
		}
		p->reasm = DL_REASM_DATAGRAM;
		p->nfrags = done.nfrags;
		p->first_frame = done.first_frame;
		p->frag_overlaps = done.overlaps;
		p->frag_conflicts = done.conflicts;
		d->other = done.data;
		q = done.data;
		m = claimed = done.len;
	}
upper:
	switch (p->ip.proto) {
	case IPPROTO_V_UDP: do_udp(d, q, m, claimed); break;
	case IPPROTO_V_TCP: do_tcp(d, q, m); break;
	case IPPROTO_V_ESP: do_esp(d, q, m); break;
	case IPPROTO_V_GRE: do_gre(d, q, m); break;
	case IPPROTO_V_IPIP: do_ip(d, q, m, false); break;
	case IPPROTO_V_IPV6: do_ip(d, q, m, true); break;
	default: break;
	}
}

const struct dl_pkt *dissect_packet(struct dissect *d, int dlt, uint64_t frame,
                                    uint64_t ts_ns, uint64_t rel_ns, const uint8_t *data,
                                    size_t caplen, size_t origlen)
{
	struct dl_pkt *p = &d->pkt;
	memset(p, 0, sizeof *p);
	p->frame = frame;
	p->ts_ns = ts_ns;
	p->rel_ns = rel_ns;
	p->caplen = caplen;
	p->origlen = origlen;
	d->frame = data;
	d->frame_len = caplen;
	d->other = NULL;
	d->ip_depth = 0;
	d->used = 0;
	if (!net_link_supported(dlt)) {
		p->link_skipped = true;
		return p;
	}
	struct diag_err e = {0};
	if (net_link_decode(dlt, data, caplen, &p->link, &e) < 0) {
		fail(d, net_link_name(dlt), data, &e);
		return p;
	}
	push(d, DL_LINK, &p->link, data);
	const uint8_t *q = data + p->link.hdr_len;
	size_t m = caplen - p->link.hdr_len;
	switch (p->link.next) {
	case NET_NEXT_IPV4: do_ip(d, q, m, false); break;
	case NET_NEXT_IPV6: do_ip(d, q, m, true); break;
	case NET_NEXT_PPP: do_ppp(d, q, m, true); break;
	default: break;
	}
	return p;
}

/* ---- rendering ------------------------------------------------------------------- */

const char *dl_kind_name(enum dl_kind k)
{
	static const char *const names[] = {
		[DL_LINK] = "link", [DL_IP] = "IP", [DL_UDP] = "UDP", [DL_TCP] = "TCP",
		[DL_NATT] = "NAT-T", [DL_IKE] = "IKE", [DL_ESP] = "ESP", [DL_L2TP] = "L2TP",
		[DL_PPTP] = "PPTP", [DL_GRE] = "GRE", [DL_PPP] = "PPP", [DL_RADIUS] = "RADIUS",
	};
	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

/* Appends to buf at *o, never past bufsz (output is cut, always terminated). */
__attribute__((format(printf, 4, 5)))
static void cat(char *buf, size_t bufsz, size_t *o, const char *fmt, ...)
{
	if (*o + 1 >= bufsz)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *o, bufsz - *o, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*o += (size_t)n < bufsz - *o ? (size_t)n : bufsz - *o - 1;
}

/* Appends a plain string (the common case, without a format). */
static void put(char *buf, size_t bufsz, size_t *o, const char *str)
{
	size_t n = strlen(str);
	if (*o + 1 >= bufsz)
		return;
	if (n > bufsz - *o - 1)
		n = bufsz - *o - 1;
	memcpy(buf + *o, str, n);
	*o += n;
	buf[*o] = 0;
}

static void layer_summary(const struct dl_pkt *p, const struct dl_layer *l, char *buf,
                          size_t bufsz)
{
	buf[0] = 0;
	switch (l->kind) {
	case DL_NATT:
		if (p->natt == NATT_KEEPALIVE)
			snprintf(buf, bufsz, "NAT-keepalive");
		break;
	case DL_IKE: ike_summary(l->msg, buf, bufsz); break;
	case DL_ESP: esp_summary(l->msg, buf, bufsz); break;
	case DL_L2TP: l2tp_summary(l->msg, buf, bufsz); break;
	case DL_PPTP: pptp_summary(l->msg, buf, bufsz); break;
	case DL_GRE: gre_summary(l->msg, buf, bufsz); break;
	case DL_PPP: ppp_summary(l->msg, buf, bufsz); break;
	case DL_RADIUS: radius_summary(l->msg, buf, bufsz); break;
	default: break;
	}
}

static const char *ether_name(uint16_t t)
{
	switch (t) {
	case 0x0806: return "ARP";
	case 0x8035: return "RARP";
	case 0x88cc: return "LLDP";
	case 0x8863: return "PPPoE discovery";
	case 0x888e: return "EAPOL";
	default: return NULL;
	}
}

/* What to say when no protocol of ours was decoded. */
static void transport_summary(const struct dl_pkt *p, char *buf, size_t bufsz, size_t *o)
{
	const struct dl_layer *top = p->nlayers ? &p->layers[p->nlayers - 1] : NULL;
	if (!top)
		return;
	if (p->reasm == DL_REASM_FRAG_HELD) {
		cat(buf, bufsz, o, "IPv%u fragment id 0x%x offset %u len %zu%s", p->ip.version,
		    p->ip.id, p->ip.frag_off, p->ip.payload_len, p->ip.mf ? " (more follow)" : " (last)");
		return;
	}
	switch (top->kind) {
	case DL_LINK: {
		const char *n = ether_name(p->link.ethertype);
		if (n)
			cat(buf, bufsz, o, "%s", n);
		else if (p->link.ethertype)
			cat(buf, bufsz, o, "ethertype 0x%04x", p->link.ethertype);
		else if (p->link.kind == NET_LINK_ETHER)
			cat(buf, bufsz, o, "802.3 LLC");
		else
			cat(buf, bufsz, o, "link family %u", p->link.null_family);
		break;
	}
	case DL_IP: {
		const char *n = net_ipproto_name(p->ip.proto);
		if (p->ip.frag) {
			cat(buf, bufsz, o, "IPv%u fragment id 0x%x offset %u len %zu proto %s", p->ip.version,
			    p->ip.id, p->ip.frag_off, p->ip.claimed_len, n ? n : "?");
			break;
		}
		if (n)
			cat(buf, bufsz, o, "%s len %zu", n, p->ip.claimed_len);
		else
			cat(buf, bufsz, o, "IPv%u proto %u len %zu", p->ip.version, p->ip.proto,
			    p->ip.claimed_len);
		break;
	}
	case DL_UDP:
		cat(buf, bufsz, o, "UDP len %zu", p->udp.length >= 8 ? (size_t)p->udp.length - 8 : 0);
		break;
	case DL_TCP: {
		char fl[48];
		net_tcp_flags_str(p->tcp.flags, fl, sizeof fl);
		cat(buf, bufsz, o, "TCP [%s] seq %u ack %u win %u len %zu", fl, p->tcp.seq, p->tcp.ack,
		    p->tcp.window, p->tcp.payload_len);
		break;
	}
	default: break;
	}
}

size_t dl_summary(const struct dl_pkt *p, char *buf, size_t bufsz)
{
	size_t o = 0;
	char tmp[1024];
	buf[0] = 0;
	bool any = false;
	enum dl_kind prev = DL_LINK;
	for (int i = 0; i < p->nlayers; i++) {
		const struct dl_layer *l = &p->layers[i];
		if (l->kind < DL_NATT)
			continue;
		if (l->carrier) {
			bool more = false;
			for (int k = i + 1; k < p->nlayers; k++)
				if (p->layers[k].kind >= DL_NATT)
					more = true;
			if (more)
				continue;
		}
		layer_summary(p, l, tmp, sizeof tmp);
		if (!tmp[0])
			continue;
		if (any)
			put(buf, bufsz, &o, l->kind == DL_PPTP && prev == DL_PPTP ? " | " : " > ");
		put(buf, bufsz, &o, tmp);
		any = true;
		prev = l->kind;
	}
	if (!any)
		transport_summary(p, buf, bufsz, &o);
	if (p->pptp_more)
		cat(buf, bufsz, &o, " | %u more PPTP messages", p->pptp_more);
	if (p->stream_held && p->has_ports)
		cat(buf, bufsz, &o, " (PPTP: %zu bytes wait for the rest of the message)",
		    p->stream_held);
	if (p->reasm == DL_REASM_DATAGRAM)
		cat(buf, bufsz, &o, " (reassembled from %u fragments, first frame %llu)", p->nfrags,
		    (unsigned long long)p->first_frame);
	if (p->frag_conflicts)
		cat(buf, bufsz, &o, " (%u fragments overlap with different bytes)", p->frag_conflicts);
	if (p->note[0])
		cat(buf, bufsz, &o, " (%s)", p->note);
	if (p->has_err) {
		const char *r = p->err.reason;
		size_t ln = strlen(p->err_layer);
		bool named = !strncmp(r, p->err_layer, ln) && (r[ln] == ' ' || r[ln] == ':');
		cat(buf, bufsz, &o, "%s[malformed %s%s%s", o ? " " : "", named ? "" : p->err_layer,
		    named ? "" : (r[0] ? ": " : ""), r);
		if (!strstr(r, "offset"))
			cat(buf, bufsz, &o, " at %s offset %zu", p->err_in_frame ? "frame" : "data",
			    p->err_off);
		cat(buf, bufsz, &o, "]");
	}
	return o;
}

/* Decimal digits of v at p; returns the end. */
static char *dec(char *p, unsigned v)
{
	char t[12];
	int n = 0;
	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < 11);
	while (n)
		*p++ = t[--n];
	return p;
}

void dl_endpoint(const struct dl_pkt *p, bool src, char *buf, size_t bufsz)
{
	if (!p->has_ip) {
		snprintf(buf, bufsz, "-");
		return;
	}
	const uint8_t *a = src ? p->src : p->dst;
	unsigned port = src ? p->sport : p->dport;
	if (p->ipver == 4 && bufsz >= 22) { /* the hot path: no formatting library */
		char *q = buf;
		for (int i = 0; i < 4; i++) {
			q = dec(q, a[i]);
			*q++ = i < 3 ? '.' : 0;
		}
		if (p->has_ports) {
			q[-1] = ':';
			q = dec(q, port);
			*q = 0;
		}
		return;
	}
	char s[64];
	net_addr_str(p->ipver, a, s, sizeof s);
	if (!p->has_ports)
		snprintf(buf, bufsz, "%s", s);
	else if (p->ipver == 6)
		snprintf(buf, bufsz, "[%s]:%u", s, port);
	else
		snprintf(buf, bufsz, "%s:%u", s, port);
}

/* A tree's members into the open object (the codecs without a writer of their own) */
static void members(struct jw *w, json_t *body)
{
	const char *k;
	json_t *v;
	json_object_foreach(body, k, v)
		jw_json(w, k, v);
	json_decref(body);
}

void dl_layer_jw(struct jw *w, const struct dl_layer *l, enum natt_kind natt)
{
	static const char *const names[] = {
		[DL_NATT] = "natt", [DL_IKE] = "ike", [DL_ESP] = "esp", [DL_L2TP] = "l2tp",
		[DL_PPTP] = "pptp", [DL_GRE] = "gre", [DL_PPP] = "ppp", [DL_RADIUS] = "radius",
	};
	jw_obj(w, NULL);
	if (l->kind >= DL_NATT)
		jw_str(w, "layer", names[l->kind]); /* first: the codecs do not name themselves */
	switch (l->kind) {
	case DL_LINK: net_link_jw(w, l->msg); break;
	case DL_IP: net_ip_jw(w, l->msg); break;
	case DL_UDP: net_udp_jw(w, l->msg); break;
	case DL_TCP: net_tcp_jw(w, l->msg); break;
	case DL_NATT: jw_str(w, "kind", natt_kind_name(natt)); break;
	case DL_IKE: members(w, ike_to_json(l->msg)); break;
	case DL_ESP: esp_jw(w, l->msg); break;
	case DL_L2TP: l2tp_jw(w, l->msg); break;
	case DL_PPTP: pptp_jw(w, l->msg); break;
	case DL_GRE: gre_jw(w, l->msg); break;
	case DL_PPP: ppp_jw(w, l->msg); break;
	case DL_RADIUS: radius_jw(w, l->msg); break;
	}
	jw_end(w);
}

json_t *dl_layer_json(const struct dl_layer *l)
{
	struct jw w;
	jw_init(&w, JW_TREE, NULL);
	dl_layer_jw(&w, l, NATT_INVALID);
	json_t *j = jw_take(&w);
	jw_free(&w);
	if (j && l->kind == DL_NATT)
		json_object_del(j, "kind"); /* the packet knows it: dl_pkt_json */
	return j ? j : json_object();
}

/* "%llu.%09llu" as a number, as jansson prints the double that strtod makes of it with
 * 15 significant digits. From 0.0001 s to 10^6 s the decimal has at most 15 significant
 * digits, so that is the decimal itself without trailing zeros (".0" when none is left):
 * written directly. Elsewhere (an exponent, or rounding) it goes through printf. */
static void jw_time(struct jw *w, uint64_t ns)
{
	char buf[48];
	uint64_t sec = ns / 1000000000u, frac = ns % 1000000000u;
	if ((w->style != JW_COMPACT && w->style != JW_PRETTY) || w->real_precision != 15 ||
	    sec >= 1000000u ||
	    (sec == 0 && frac < 100000u)) {
		snprintf(buf, sizeof buf, "%llu.%09llu", (unsigned long long)sec,
		         (unsigned long long)frac);
		jw_real(w, "time", strtod(buf, NULL));
		return;
	}
	char *q = dec(buf, (unsigned)sec);
	*q++ = '.';
	if (!frac) {
		*q++ = '0';
	} else {
		for (uint64_t d = 100000000u; d && frac; d /= 10) {
			*q++ = (char)('0' + frac / d);
			frac %= d;
		}
	}
	char *v = jw_value_begin(w, "time", 4, (size_t)(q - buf));
	if (!v) return;
	memcpy(v, buf, (size_t)(q - buf));
	jw_value_end(w, v + (q - buf));
}

void dl_pkt_jw(struct jw *w, const struct dl_pkt *p)
{
	char buf[2048];
	jw_obj(w, NULL);
	jw_int(w, "frame", (long long)p->frame);
	jw_time(w, p->rel_ns);
	jw_int(w, "caplen", (long long)p->caplen);
	if (p->has_ip) {
		net_addr_str(p->ipver, p->src, buf, sizeof buf);
		jw_str(w, "src", buf);
		net_addr_str(p->ipver, p->dst, buf, sizeof buf);
		jw_str(w, "dst", buf);
	}
	if (p->has_ports) {
		jw_int(w, "sport", p->sport);
		jw_int(w, "dport", p->dport);
	}
	dl_summary(p, buf, sizeof buf);
	jw_str(w, "summary", buf);
	jw_arr(w, "layers");
	for (int i = 0; i < p->nlayers; i++)
		dl_layer_jw(w, &p->layers[i], p->natt);
	jw_end(w);
	if (p->reasm == DL_REASM_FRAG_HELD) {
		jw_obj(w, "fragment");
		jw_int(w, "id", p->ip.id);
		jw_int(w, "offset", p->ip.frag_off);
		jw_bool(w, "more", p->ip.mf);
		jw_end(w);
	} else if (p->reasm == DL_REASM_DATAGRAM) {
		jw_obj(w, "reassembled");
		jw_int(w, "fragments", p->nfrags);
		jw_int(w, "first_frame", (long long)p->first_frame);
		jw_int(w, "overlaps", p->frag_overlaps);
		jw_int(w, "conflicts", p->frag_conflicts);
		jw_end(w);
	}
	if (p->stream_held)
		jw_int(w, "stream_held", (long long)p->stream_held);
	if (p->note[0])
		jw_str(w, "note", p->note);
	if (p->has_err) {
		jw_obj(w, "error");
		jw_str(w, "layer", p->err_layer);
		jw_int(w, "offset", (long long)p->err_off);
		jw_bool(w, "in_frame", p->err_in_frame);
		jw_str(w, "reason", p->err.reason);
		jw_end(w);
	}
	jw_end(w);
}

json_t *dl_pkt_json(const struct dl_pkt *p)
{
	struct jw w;
	jw_init(&w, JW_TREE, NULL);
	w.real_precision = 15;
	dl_pkt_jw(&w, p);
	json_t *j = jw_take(&w);
	jw_free(&w);
	return j;
}
