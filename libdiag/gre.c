/* GRE codec: enhanced GRE version 1 (RFC 2637 4.1) and plain version 0 headers. */
#include <stdio.h>
#include <string.h>

#include "gre.h"

const struct tok gre_protocols[] = {
	{0x0800, "IPv4"},
	{0x0806, "ARP"},
	{0x86dd, "IPv6"},
	{0x880b, "PPP"},
	{0x6558, "Transparent Ethernet Bridging"},
	{0x8847, "MPLS"},
	{0x2000, "CDP"},
	{0, NULL},
};

static int decode_v1(struct rd *r, const uint8_t *p, size_t len, struct gre_msg *m,
                     struct diag_err *err)
{
	if (m->c || m->r || m->ssr || m->recur || (m->flags & GRE_FLAGS_MASK)) {
		diag_err_set(err, 0,
		             "GRE version 1 header 0x%04x: C, R, s, Recur and the reserved flags must be 0",
		             (unsigned)m->flags);
		return -1;
	}
	if (!m->k) {
		diag_err_set(err, 0, "GRE version 1 header without the K bit (no call id)");
		return -1;
	}
	if (m->protocol != GRE_PROTO_PPP) {
		diag_err_set(err, 2, "GRE version 1 protocol 0x%04x, expected 0x880b (PPP)",
		             (unsigned)m->protocol);
		return -1;
	}
	m->payload_length = rd_u16(r);
	m->call_id = rd_u16(r);
	if (m->s) m->seq = rd_u32(r);
	if (m->a) m->ack = rd_u32(r);
	if (!rd_ok(r)) return rd_error(r, err, 0, "GRE header");
	m->hdr_len = r->off;
	size_t left = len - m->hdr_len;
	if (m->payload_length > left) {
		diag_err_set(err, 4, "GRE payload length %u > %zu bytes after the header",
		             (unsigned)m->payload_length, left);
		return -1;
	}
	m->payload = p + m->hdr_len;
	m->payload_len = m->payload_length;
	m->trailing = left - m->payload_length;
	return 0;
}

static int decode_v0(struct rd *r, const uint8_t *p, size_t len, struct gre_msg *m,
                     struct diag_err *err)
{
	if (m->a || (m->flags & GRE_FLAGS_MASK)) {
		diag_err_set(err, 1, "GRE version 0 header 0x%04x: reserved flag bits set",
		             (unsigned)m->flags);
		return -1;
	}
	if (m->c || m->r) {
		m->checksum = rd_u16(r);
		m->offset = rd_u16(r);
	}
	if (m->k) m->key = rd_u32(r);
	if (m->s) m->seq = rd_u32(r);
	if (!rd_ok(r)) return rd_error(r, err, 0, "GRE header");
	if (m->r) {
		/* source route entries: address family, SRE offset, SRE length, then the
		 * routing information; a zero family and length end the list */
		for (size_t guard = 0; guard < 256; guard++) {
			size_t at = r->off;
			uint16_t af = rd_u16(r);
			(void)rd_u8(r);
			uint8_t srelen = rd_u8(r);
			if (!rd_ok(r)) return rd_error(r, err, 0, "GRE source route entry");
			if (af == 0 && srelen == 0) break;
			if (!rd_ptr(r, srelen)) {
				diag_err_set(err, at, "GRE source route entry at offset %zu: length %u runs past the packet",
				             at, (unsigned)srelen);
				return -1;
			}
			if (guard == 255) {
				diag_err_set(err, at, "GRE source route: more than 255 entries");
				return -1;
			}
		}
	}
	m->hdr_len = r->off;
	m->payload = p + m->hdr_len;
	m->payload_len = len - m->hdr_len;
	return 0;
}

int gre_decode(const uint8_t *p, size_t len, struct gre_msg *out, struct diag_err *err)
{
	struct rd r;
	memset(out, 0, sizeof *out);
	diag_err_clear(err);
	rd_init(&r, p, len);
	out->flags = rd_u16(&r);
	out->protocol = rd_u16(&r);
	if (!rd_ok(&r)) return rd_error(&r, err, 0, "GRE header");
	out->c = (out->flags & GRE_FLAG_C) != 0;
	out->r = (out->flags & GRE_FLAG_R) != 0;
	out->k = (out->flags & GRE_FLAG_K) != 0;
	out->s = (out->flags & GRE_FLAG_S) != 0;
	out->ssr = (out->flags & GRE_FLAG_SSR) != 0;
	out->a = (out->flags & GRE_FLAG_A) != 0;
	out->recur = (uint8_t)((out->flags & GRE_RECUR_MASK) >> 8);
	out->version = out->flags & GRE_VERSION_MASK;
	if (out->version == 1) return decode_v1(&r, p, len, out, err);
	if (out->version == 0) return decode_v0(&r, p, len, out, err);
	diag_err_set(err, 1, "GRE version %u is neither 0 nor 1", (unsigned)out->version);
	return -1;
}

void gre_summary(const struct gre_msg *m, char *buf, size_t bufsz)
{
	if (!bufsz) return;
	if (m->version == 1) {
		int n = snprintf(buf, bufsz, "GRE call %u", m->call_id);
		if (n < 0 || (size_t)n >= bufsz) return;
		if (m->s) n += snprintf(buf + n, bufsz - (size_t)n, " seq %u", m->seq);
		if (n < 0 || (size_t)n >= bufsz) return;
		if (m->a) n += snprintf(buf + n, bufsz - (size_t)n, " ack %u", m->ack);
		if (n < 0 || (size_t)n >= bufsz) return;
		snprintf(buf + n, bufsz - (size_t)n, "%s", m->payload_len ? " [PPP]" : " (ack only)");
		return;
	}
	const char *pn = tok_name(gre_protocols, m->protocol);
	int n = pn ? snprintf(buf, bufsz, "GREv0 proto %s (0x%04x)", pn, m->protocol)
	           : snprintf(buf, bufsz, "GREv0 proto 0x%04x", m->protocol);
	if (n < 0 || (size_t)n >= bufsz) return;
	if (m->k) n += snprintf(buf + n, bufsz - (size_t)n, " key 0x%08x", m->key);
	if (n < 0 || (size_t)n >= bufsz) return;
	if (m->s) n += snprintf(buf + n, bufsz - (size_t)n, " seq %u", m->seq);
	if (n < 0 || (size_t)n >= bufsz) return;
	snprintf(buf + n, bufsz - (size_t)n, " length %zu", m->payload_len);
}

void gre_jw(struct jw *w, const struct gre_msg *m)
{
	jw_int(w, "flags", m->flags);
	jw_int(w, "version", m->version);
	jw_bool(w, "checksum_bit", m->c);
	jw_bool(w, "routing_bit", m->r);
	jw_bool(w, "key_bit", m->k);
	jw_bool(w, "sequence_bit", m->s);
	jw_bool(w, "strict_source_route", m->ssr);
	jw_int(w, "recursion", m->recur);
	if (m->version == 1) jw_bool(w, "ack_bit", m->a);
	jw_int(w, "protocol", m->protocol);
	const char *pn = tok_name(gre_protocols, m->protocol);
	if (pn) jw_str(w, "protocol_name", pn);
	if (m->version == 1) {
		jw_int(w, "payload_length", m->payload_length);
		jw_int(w, "call_id", m->call_id);
	} else {
		if (m->c || m->r) {
			jw_int(w, "checksum", m->checksum);
			jw_int(w, "offset", m->offset);
		}
		if (m->k) jw_int(w, "key", m->key);
	}
	if (m->s) jw_int(w, "sequence_number", m->seq);
	if (m->a) jw_int(w, "ack_number", m->ack);
	jw_int(w, "header_length", (long long)m->hdr_len);
	jw_int(w, "payload_len", (long long)m->payload_len);
	if (m->trailing) jw_int(w, "trailing", (long long)m->trailing);
}

json_t *gre_to_json(const struct gre_msg *m)
{
	struct jw w;
	jw_init(&w, JW_TREE, NULL);
	jw_obj(&w, NULL);
	gre_jw(&w, m);
	jw_end(&w);
	json_t *j = jw_take(&w);
	jw_free(&w);
	return j;
}

size_t gre_encode(const struct gre_msg *m, uint8_t *buf, size_t cap)
{
	struct wr w;
	if (m->payload_len && !m->payload) return 0;
	wr_init(&w, buf, cap);
	if (m->version == 1) {
		if (m->payload_len > 0xffff) return 0;
		uint16_t fl = (uint16_t)(GRE_FLAG_K | (m->s ? GRE_FLAG_S : 0) | (m->a ? GRE_FLAG_A : 0) | 1);
		wr_u16(&w, fl);
		wr_u16(&w, GRE_PROTO_PPP);
		wr_u16(&w, (uint16_t)m->payload_len);
		wr_u16(&w, m->call_id);
		if (m->s) wr_u32(&w, m->seq);
		if (m->a) wr_u32(&w, m->ack);
		wr_bytes(&w, m->payload, m->payload_len);
	} else if (m->version == 0) {
		uint16_t fl = (uint16_t)((m->c ? GRE_FLAG_C : 0) | (m->k ? GRE_FLAG_K : 0) |
		                         (m->s ? GRE_FLAG_S : 0));
		wr_u16(&w, fl);
		wr_u16(&w, m->protocol);
		if (m->c) {
			wr_u16(&w, m->checksum);
			wr_u16(&w, m->offset);
		}
		if (m->k) wr_u32(&w, m->key);
		if (m->s) wr_u32(&w, m->seq);
		wr_bytes(&w, m->payload, m->payload_len);
	} else {
		return 0;
	}
	return w.err ? 0 : w.off;
}

void gre_msg_init_v1(struct gre_msg *m, uint16_t call_id, bool has_seq, uint32_t seq,
                     bool has_ack, uint32_t ack, const uint8_t *ppp, size_t ppp_len)
{
	memset(m, 0, sizeof *m);
	m->version = 1;
	m->k = true;
	m->s = has_seq;
	m->a = has_ack;
	m->protocol = GRE_PROTO_PPP;
	m->call_id = call_id;
	m->seq = seq;
	m->ack = ack;
	m->payload = ppp;
	m->payload_len = ppp_len;
	m->payload_length = (uint16_t)ppp_len;
	m->flags = (uint16_t)(GRE_FLAG_K | (has_seq ? GRE_FLAG_S : 0) | (has_ack ? GRE_FLAG_A : 0) | 1);
	m->hdr_len = 8 + (has_seq ? 4 : 0) + (has_ack ? 4 : 0);
}
