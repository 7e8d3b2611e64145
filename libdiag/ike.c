/* IKE codec: one decoder for ISAKMP/IKEv1 (RFC 2408/2409, RFC 3947) and IKEv2
 * (RFC 7296, RFC 7383), its summary line, JSON view and encoder.
 *
 * Every length is checked twice: against the bytes that are there (the reader) and
 * against the length the enclosing structure claims (sub-readers). Encrypted bodies
 * (IKEv1 with the E flag, IKEv2 SK and SKF) are shown by length and never parsed.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ike.h"

struct dctx {
	const uint8_t *base;   /* start of the message: offsets are relative to it */
	struct ike_msg *m;
	struct diag_err *err;
	int ver;               /* 1 or 2 */
};

static const char *pl_name(int ver, unsigned type, char *buf, size_t n)
{
	const char *s = ike_payload_name(ver, type);
	if (s) return s;
	snprintf(buf, n, "payload %u", type);
	return buf;
}

/* Fail at an absolute position with "<payload> payload at offset N: reason". */
__attribute__((format(printf, 4, 5)))
static int pfail(struct dctx *c, const struct ike_payload *pl, const uint8_t *at,
                 const char *fmt, ...)
{
	char reason[120], nb[24];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	size_t off = (size_t)(at - c->base);
	if (pl)
		diag_err_set(c->err, off, "IKEv%d %s payload at offset %zu: %s", c->ver,
		             pl_name(c->ver, pl->type, nb, sizeof nb), pl->off, reason);
	else
		diag_err_set(c->err, off, "IKEv%d: %s", c->ver, reason);
	return -1;
}

static const uint8_t *rpos(const struct rd *r) { return r->p + r->off; }
static const uint8_t *rerrpos(const struct rd *r) { return r->p + r->err_off; }

/* A latched reader error inside a payload: "truncated <what>" */
static int ptrunc(struct dctx *c, const struct ike_payload *pl, const struct rd *r,
                  const char *what)
{
	return pfail(c, pl, rerrpos(r), "%s truncated", what);
}

/* ---- attributes ---------------------------------------------------------------- */
/* cp: IKEv2 CP attributes (always TLV, top bit reserved); else ISAKMP data attributes
 * (TV when the AF bit is set). */
static int parse_attrs(struct dctx *c, const struct ike_payload *pl, struct rd *r,
                       uint16_t *first, uint16_t *count, bool cp)
{
	struct ike_msg *m = c->m;
	*first = m->nattrs;
	*count = 0;
	while (rd_left(r) > 0) {
		if (m->nattrs >= IKE_MAX_ATTRS)
			return pfail(c, pl, rpos(r), "more than %d attributes", IKE_MAX_ATTRS);
		struct ike_attr *a = &m->attrs[m->nattrs];
		const uint8_t *at = rpos(r);
		memset(a, 0, sizeof *a);
		a->off = (size_t)(at - c->base);
		uint16_t t = rd_u16(r);
		if (!cp && (t & 0x8000)) {
			a->tv = true;
			a->type = t & 0x7fff;
			a->value = rd_u16(r);
		} else {
			a->type = cp ? (t & 0x7fff) : t;
			a->len = rd_u16(r);
			if (rd_ok(r) && a->len > rd_left(r))
				return pfail(c, pl, at + 2, "attribute %u length %u exceeds the %zu bytes left",
				             a->type, a->len, rd_left(r));
			a->val = rd_ptr(r, a->len);
			if (a->val && a->len <= 4)
				for (unsigned i = 0; i < a->len; i++)
					a->value = a->value << 8 | a->val[i];
		}
		if (!rd_ok(r))
			return ptrunc(c, pl, r, "attribute");
		m->nattrs++;
		(*count)++;
	}
	return 0;
}

/* ---- SA / proposals / transforms -------------------------------------------- */
static int parse_transforms(struct dctx *c, struct ike_payload *pl, struct ike_proposal *pr,
                            struct rd *r)
{
	struct ike_msg *m = c->m;
	uint8_t more = c->ver == 2 ? 3 : IKE1_PL_T;
	pr->xf_first = m->nxforms;
	pr->xf_count = 0;
	bool last_seen = false;
	while (rd_left(r) > 0) {
		const uint8_t *at = rpos(r);
		if (last_seen)
			return pfail(c, pl, at, "%zu bytes after the last transform of proposal %u",
			             rd_left(r), pr->num);
		if (m->nxforms >= IKE_MAX_TRANSFORMS)
			return pfail(c, pl, at, "more than %d transforms", IKE_MAX_TRANSFORMS);
		struct ike_transform *x = &m->xforms[m->nxforms];
		memset(x, 0, sizeof *x);
		x->off = (size_t)(at - c->base);
		uint8_t next = rd_u8(r);
		rd_u8(r);
		uint16_t len = rd_u16(r);
		if (!rd_ok(r))
			return ptrunc(c, pl, r, "transform header");
		if (next != 0 && next != more)
			return pfail(c, pl, at, "transform next payload %u (expected 0 or %u)", next, more);
		if (len < 8)
			return pfail(c, pl, at + 2, "transform length %u < 8", len);
		if (len - 4u > rd_left(r))
			return pfail(c, pl, at + 2, "transform length %u exceeds the %zu bytes left",
			             len, rd_left(r) + 4);
		struct rd t = rd_sub(r, len - 4u);
		if (c->ver == 2) {
			x->type = rd_u8(&t);
			rd_u8(&t);
			x->id = rd_u16(&t);
		} else {
			x->num = rd_u8(&t);
			x->id = rd_u8(&t);
			rd_u16(&t);
		}
		x->last = next == 0;
		last_seen = x->last;
		m->nxforms++;
		pr->xf_count++;
		if (parse_attrs(c, pl, &t, &x->attr_first, &x->attr_count, false) < 0)
			return -1;
	}
	return 0;
}

static int parse_sa(struct dctx *c, struct ike_payload *pl, struct rd *b)
{
	struct ike_msg *m = c->m;
	if (c->ver == 1) {
		pl->doi = rd_u32(b);
		pl->situation = rd_u32(b);
		if (!rd_ok(b))
			return ptrunc(c, pl, b, "DOI/situation");
	}
	uint8_t more = c->ver == 2 ? 2 : IKE1_PL_P;
	pl->prop_first = m->nprops;
	pl->prop_count = 0;
	bool last_seen = false;
	while (rd_left(b) > 0) {
		const uint8_t *at = rpos(b);
		if (last_seen)
			return pfail(c, pl, at, "%zu bytes after the last proposal", rd_left(b));
		if (m->nprops >= IKE_MAX_PROPOSALS)
			return pfail(c, pl, at, "more than %d proposals", IKE_MAX_PROPOSALS);
		struct ike_proposal *pr = &m->props[m->nprops];
		memset(pr, 0, sizeof *pr);
		pr->off = (size_t)(at - c->base);
		uint8_t next = rd_u8(b);
		rd_u8(b);
		uint16_t len = rd_u16(b);
		if (!rd_ok(b))
			return ptrunc(c, pl, b, "proposal header");
		if (next != 0 && next != more)
			return pfail(c, pl, at, "proposal next payload %u (expected 0 or %u)", next, more);
		if (len < 8)
			return pfail(c, pl, at + 2, "proposal length %u < 8", len);
		if (len - 4u > rd_left(b))
			return pfail(c, pl, at + 2, "proposal length %u exceeds the %zu bytes left",
			             len, rd_left(b) + 4);
		struct rd p = rd_sub(b, len - 4u);
		pr->num = rd_u8(&p);
		pr->protocol = rd_u8(&p);
		pr->spi_size = rd_u8(&p);
		pr->ntransforms = rd_u8(&p);
		pr->spi = rd_ptr(&p, pr->spi_size);
		if (!rd_ok(&p))
			return pfail(c, pl, rerrpos(&p), "proposal %u: SPI of %u bytes truncated",
			             pr->num, pr->spi_size);
		pr->last = next == 0;
		last_seen = pr->last;
		m->nprops++;
		pl->prop_count++;
		if (parse_transforms(c, pl, pr, &p) < 0)
			return -1;
	}
	return 0;
}

/* ---- identities and selectors ------------------------------------------------- */
/* The address length an ID type requires (0: free form). */
static size_t id_addr_len(uint8_t type, bool *exact)
{
	*exact = true;
	switch (type) {
	case 1: return 4;        /* IPV4_ADDR */
	case 4: return 8;        /* IPV4_ADDR_SUBNET */
	case 5: return 16;       /* IPV6_ADDR */
	case 6: return 32;       /* IPV6_ADDR_SUBNET (v1) */
	case 7: return 8;        /* IPV4_ADDR_RANGE (v1) */
	case 8: return 32;       /* IPV6_ADDR_RANGE (v1) */
	default: *exact = false; return 0;
	}
}

/* Whether the ID data has the size its type requires (address types only). */
static bool id_size_ok(int ver, uint8_t type, size_t n)
{
	bool exact;
	size_t need = id_addr_len(type, &exact);
	if (ver == 2 && type != 1 && type != 5)
		return true;
	return !exact || n == need;
}

static int parse_ts(struct dctx *c, struct ike_payload *pl, struct rd *b)
{
	struct ike_msg *m = c->m;
	pl->ts_num = rd_u8(b);
	rd_u24(b);
	if (!rd_ok(b))
		return ptrunc(c, pl, b, "traffic selector header");
	pl->ts_first = m->nts;
	pl->ts_count = 0;
	while (rd_left(b) > 0) {
		const uint8_t *at = rpos(b);
		if (m->nts >= IKE_MAX_TS)
			return pfail(c, pl, at, "more than %d traffic selectors", IKE_MAX_TS);
		struct ike_ts *ts = &m->ts[m->nts];
		memset(ts, 0, sizeof *ts);
		ts->off = (size_t)(at - c->base);
		ts->type = rd_u8(b);
		ts->proto = rd_u8(b);
		ts->sel_len = rd_u16(b);
		if (!rd_ok(b))
			return ptrunc(c, pl, b, "traffic selector");
		if (ts->sel_len < 8)
			return pfail(c, pl, at + 2, "traffic selector length %u < 8", ts->sel_len);
		if (ts->sel_len - 4u > rd_left(b))
			return pfail(c, pl, at + 2, "traffic selector length %u exceeds the %zu bytes left",
			             ts->sel_len, rd_left(b) + 4);
		struct rd s = rd_sub(b, ts->sel_len - 4u);
		ts->start_port = rd_u16(&s);
		ts->end_port = rd_u16(&s);
		size_t alen = ts->type == 7 ? 4 : ts->type == 8 ? 16 : 0;
		if (alen) {
			if (rd_left(&s) != 2 * alen)
				return pfail(c, pl, at + 2, "%s length %u (must be %zu)",
				             ts->type == 7 ? "TS_IPV4_ADDR_RANGE" : "TS_IPV6_ADDR_RANGE",
				             ts->sel_len, 8 + 2 * alen);
			ts->addr_len = (uint8_t)alen;
			ts->start = rd_ptr(&s, alen);
			ts->end = rd_ptr(&s, alen);
		} else {
			ts->start = rd_ptr(&s, rd_left(&s)); /* unknown type: raw */
		}
		m->nts++;
		pl->ts_count++;
	}
	return 0;
}

/* ---- one payload body --------------------------------------------------------- */
static void rest(struct ike_payload *pl, struct rd *b)
{
	size_t n = rd_left(b);
	pl->data = rd_ptr(b, n);
	if (!pl->data) pl->data = b->p + b->len; /* empty: point at the end, never NULL deref */
	pl->data_len = n;
}

/* Notify and Delete bodies after IKEv1's DOI: the same layout in both versions. */
static int parse_notify(struct dctx *c, struct ike_payload *pl, struct rd *b, const char *what)
{
	pl->protocol = rd_u8(b);
	pl->spi_size = rd_u8(b);
	pl->notify = rd_u16(b);
	if (!rd_ok(b)) return ptrunc(c, pl, b, what);
	if (pl->spi_size > rd_left(b))
		return pfail(c, pl, rpos(b) - 3, "SPI size %u exceeds the %zu bytes left",
		             pl->spi_size, rd_left(b));
	pl->spi = rd_ptr(b, pl->spi_size);
	rest(pl, b);
	return 0;
}

static int parse_delete(struct dctx *c, struct ike_payload *pl, struct rd *b)
{
	pl->protocol = rd_u8(b);
	pl->spi_size = rd_u8(b);
	pl->nspi = rd_u16(b);
	if (!rd_ok(b)) return ptrunc(c, pl, b, "delete header");
	if ((size_t)pl->spi_size * pl->nspi != rd_left(b))
		return pfail(c, pl, rpos(b) - 2, "%u SPIs of %u bytes do not fill the %zu bytes left",
		             pl->nspi, pl->spi_size, rd_left(b));
	rest(pl, b);
	return 0;
}

static int parse_v1(struct dctx *c, struct ike_payload *pl, struct rd *b)
{
	switch (pl->type) {
	case IKE1_PL_SA:
		return parse_sa(c, pl, b);
	case IKE1_PL_ID:
		pl->id_type = rd_u8(b);
		pl->id_proto = rd_u8(b);
		pl->id_port = rd_u16(b);
		if (!rd_ok(b)) return ptrunc(c, pl, b, "identification header");
		rest(pl, b);
		return 0;
	case IKE1_PL_CERT:
	case IKE1_PL_CR:
		pl->id_type = rd_u8(b);
		if (!rd_ok(b)) return ptrunc(c, pl, b, "certificate encoding");
		rest(pl, b);
		return 0;
	case IKE1_PL_N:
		pl->doi = rd_u32(b);
		return parse_notify(c, pl, b, "notification header");
	case IKE1_PL_D:
		pl->doi = rd_u32(b);
		return parse_delete(c, pl, b);
	case IKE1_PL_ATTR:
		pl->id_type = rd_u8(b);
		rd_u8(b);
		pl->id_port = rd_u16(b);
		if (!rd_ok(b)) return ptrunc(c, pl, b, "attribute payload header");
		return parse_attrs(c, pl, b, &pl->attr_first, &pl->attr_count, false);
	case IKE1_PL_NATOA:
	case IKE1_PL_NATOA_DRAFT:
		pl->id_type = rd_u8(b);
		rd_u24(b);
		if (!rd_ok(b)) return ptrunc(c, pl, b, "NAT-OA header");
		rest(pl, b);
		return 0;
	case IKE1_PL_FRAG:
		/* fragment id (2), number (1), flags (1), then a piece of the whole message */
		pl->id_port = rd_u16(b);
		pl->frag_num = rd_u8(b);
		pl->frag_flags = rd_u8(b);
		if (!rd_ok(b)) return ptrunc(c, pl, b, "fragment header");
		if (pl->frag_num == 0)
			return pfail(c, pl, rpos(b) - 2, "fragment number 0");
		rest(pl, b);
		return 0;
	default: /* KE HASH SIG NONCE VID NAT-D and unknown types: opaque data */
		rest(pl, b);
		return 0;
	}
}

static int parse_v2(struct dctx *c, struct ike_payload *pl, struct rd *b)
{
	switch (pl->type) {
	case IKE2_PL_SA:
		return parse_sa(c, pl, b);
	case IKE2_PL_KE:
		pl->group = rd_u16(b);
		rd_u16(b);
		if (!rd_ok(b)) return ptrunc(c, pl, b, "key exchange header");
		rest(pl, b);
		return 0;
	case IKE2_PL_IDI:
	case IKE2_PL_IDR:
		pl->id_type = rd_u8(b);
		rd_u24(b);
		if (!rd_ok(b)) return ptrunc(c, pl, b, "identification header");
		rest(pl, b);
		return 0;
	case IKE2_PL_CERT:
	case IKE2_PL_CERTREQ:
		pl->id_type = rd_u8(b);
		if (!rd_ok(b)) return ptrunc(c, pl, b, "certificate encoding");
		rest(pl, b);
		return 0;
	case IKE2_PL_AUTH:
		pl->id_type = rd_u8(b);
		rd_u24(b);
		if (!rd_ok(b)) return ptrunc(c, pl, b, "authentication header");
		rest(pl, b);
		return 0;
	case IKE2_PL_N:
		return parse_notify(c, pl, b, "notify header");
	case IKE2_PL_D:
		return parse_delete(c, pl, b);
	case IKE2_PL_TSI:
	case IKE2_PL_TSR:
		return parse_ts(c, pl, b);
	case IKE2_PL_SK:
		pl->encrypted = true;
		pl->inner_next = pl->next;
		rest(pl, b);
		return 0;
	case IKE2_PL_SKF:
		pl->frag_num = rd_u16(b);
		pl->frag_total = rd_u16(b);
		if (!rd_ok(b)) return ptrunc(c, pl, b, "fragment header");
		if (pl->frag_num == 0 || pl->frag_num > pl->frag_total)
			return pfail(c, pl, rpos(b) - 4, "fragment %u of %u", pl->frag_num, pl->frag_total);
		pl->encrypted = true;
		pl->inner_next = pl->next;
		rest(pl, b);
		return 0;
	case IKE2_PL_CP:
		pl->id_type = rd_u8(b);
		rd_u24(b);
		if (!rd_ok(b)) return ptrunc(c, pl, b, "configuration header");
		return parse_attrs(c, pl, b, &pl->attr_first, &pl->attr_count, true);
	case IKE2_PL_EAP:
		if (rd_left(b) < 4)
			return pfail(c, pl, rpos(b), "EAP header needs 4 bytes, has %zu", rd_left(b));
		pl->data = rpos(b);
		pl->data_len = rd_left(b);
		pl->eap_code = rd_u8(b);
		pl->eap_id = rd_u8(b);
		pl->eap_len = rd_u16(b);
		if (pl->eap_len != pl->data_len)
			return pfail(c, pl, rpos(b) - 2, "EAP length %u but payload carries %zu bytes",
			             pl->eap_len, pl->data_len);
		if ((pl->eap_code == 1 || pl->eap_code == 2) && rd_left(b) > 0)
			pl->eap_type = rd_u8(b);
		rd_skip(b, rd_left(b));
		return 0;
	default: /* Nonce, V and unknown types: opaque data */
		rest(pl, b);
		return 0;
	}
}

/* ---- message ------------------------------------------------------------------- */
int ike_decode(const uint8_t *p, size_t len, struct ike_msg *m, struct diag_err *err)
{
	struct rd r;
	struct dctx c = {.base = p, .m = m, .err = err, .ver = 1};
	char nb[24];

	m->npl = m->nprops = m->nxforms = m->nattrs = m->nts = 0;
	m->dir = 0;
	m->extra = NULL;
	m->extra_len = 0;
	diag_err_clear(err);
	rd_init(&r, p, len);
	rd_copy(&r, m->ispi, 8);
	rd_copy(&r, m->rspi, 8);
	m->next = rd_u8(&r);
	uint8_t v = rd_u8(&r);
	m->exchange = rd_u8(&r);
	m->flags = rd_u8(&r);
	m->msgid = rd_u32(&r);
	m->length = rd_u32(&r);
	if (!rd_ok(&r))
		return rd_error(&r, err, 0, "ISAKMP header");
	m->major = v >> 4;
	m->minor = v & 15;
	if (m->major != 1 && m->major != 2) {
		diag_err_set(err, 17, "ISAKMP header: version %u.%u is neither 1.0 nor 2.0",
		             m->major, m->minor);
		return -1;
	}
	c.ver = m->major;
	if (m->length < IKE_HDR_LEN) {
		diag_err_set(err, 24, "IKEv%d header: length %" PRIu32 " < %d", c.ver, m->length,
		             IKE_HDR_LEN);
		return -1;
	}
	if (m->length > len) {
		diag_err_set(err, 24, "IKEv%d header: length %" PRIu32 " exceeds the %zu bytes captured",
		             c.ver, m->length, len);
		return -1;
	}
	if (c.ver == 2)
		m->dir = (m->flags & IKE2_FLAG_I) ? 'i' : 'r';
	else {
		static const uint8_t zero[8];
		if (!memcmp(m->rspi, zero, 8))
			m->dir = 'i';
	}

	struct rd b = rd_sub(&r, m->length - IKE_HDR_LEN);
	if (c.ver == 1 && (m->flags & IKE1_FLAG_E)) {
		/* Everything after the header is ciphertext. */
		struct ike_payload *pl = &m->pl[m->npl++];
		memset(pl, 0, sizeof *pl);
		pl->type = m->next;
		pl->inner_next = m->next;
		pl->off = IKE_HDR_LEN;
		pl->encrypted = true;
		pl->len = 0;
		rest(pl, &b);
		pl->body = pl->data;
		pl->body_len = pl->data_len;
		return 0;
	}

	uint8_t np = m->next;
	while (np != 0) {
		const uint8_t *at = rpos(&b);
		if (m->npl >= IKE_MAX_PAYLOADS)
			return pfail(&c, NULL, at, "more than %d payloads", IKE_MAX_PAYLOADS);
		if (rd_left(&b) == 0)
			return pfail(&c, NULL, at, "next payload is %s but the message ends at offset %zu",
			             pl_name(c.ver, np, nb, sizeof nb), (size_t)(at - p));
		struct ike_payload *pl = &m->pl[m->npl];
		memset(pl, 0, sizeof *pl);
		pl->type = np;
		pl->off = (size_t)(at - p);
		pl->next = rd_u8(&b);
		uint8_t flags = rd_u8(&b);
		pl->len = rd_u16(&b);
		if (!rd_ok(&b))
			return pfail(&c, pl, rerrpos(&b), "generic header truncated (%zu bytes left)",
			             (size_t)(p + IKE_HDR_LEN + (m->length - IKE_HDR_LEN) - at));
		if (c.ver == 2) {
			pl->critical = flags & 0x80;
			pl->reserved = flags & 0x7f;
		} else {
			pl->reserved = flags;
		}
		if (pl->len < 4)
			return pfail(&c, pl, at + 2, "length %u < 4", pl->len);
		if (pl->len - 4u > rd_left(&b))
			return pfail(&c, pl, at + 2, "length %u exceeds the %zu bytes left in the message",
			             pl->len, rd_left(&b) + 4);
		struct rd body = rd_sub(&b, pl->len - 4u);
		pl->body = body.p;
		pl->body_len = body.len;
		m->npl++;
		int rc = c.ver == 2 ? parse_v2(&c, pl, &body) : parse_v1(&c, pl, &body);
		if (rc < 0 || !rd_ok(&body)) {
			if (rc == 0)
				ptrunc(&c, pl, &body, "body");
			m->npl--; /* keep only the payloads decoded completely */
			return -1;
		}
		if (pl->encrypted) /* SK / SKF: the chain continues inside the ciphertext */
			break;
		np = pl->next;
	}
	/* bytes inside the claimed length after the last payload */
	m->extra_len = rd_left(&b);
	m->extra = m->extra_len ? rpos(&b) : NULL;
	return 0;
}

/* ---- summary ------------------------------------------------------------------- */

void ike_summary(const struct ike_msg *m, char *buf, size_t bufsz)
{
	if (!bufsz) return;
	struct sbuf s = {buf, bufsz, 0};
	int ver = m->major == 2 ? 2 : 1;
	const char *ex = ike_exchange_name(ver, m->exchange);
	buf[0] = 0;
	sbuf_add(&s, "IKEv%d ", ver);
	if (ex) sbuf_add(&s, "%s", ex);
	else sbuf_add(&s, "exchange %u", m->exchange);
	if (m->dir) sbuf_add(&s, " %c", m->dir);
	if (ver == 2 && m->dir == 'i' && (m->flags & IKE2_FLAG_R))
		sbuf_add(&s, " response"); /* the usual pairs (i request, r response) stay short */
	else if (ver == 2 && m->dir == 'r' && !(m->flags & IKE2_FLAG_R))
		sbuf_add(&s, " request");
	if (ver == 2) sbuf_add(&s, " msgid %" PRIu32, m->msgid);
	sbuf_add(&s, " [");
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *pl = &m->pl[i];
		const char *name = ike_payload_name(ver, pl->type);
		if (i) sbuf_add(&s, " ");
		if (ver == 1 && pl->encrypted) {
			sbuf_add(&s, "encrypted %zu bytes", pl->data_len);
			continue;
		}
		if (name) sbuf_add(&s, "%s", name);
		else sbuf_add(&s, "pay%u", pl->type);
		if ((ver == 2 && pl->type == IKE2_PL_N) || (ver == 1 && pl->type == IKE1_PL_N)) {
			const char *n = ike_notify_name(ver, pl->notify);
			if (n) sbuf_add(&s, "(%s)", n);
			else sbuf_add(&s, "(%u)", pl->notify);
		} else if (ver == 2 && pl->type == IKE2_PL_SKF) {
			sbuf_add(&s, "(%u/%u)", pl->frag_num, pl->frag_total);
		} else if (ver == 1 && pl->type == IKE1_PL_FRAG) {
			sbuf_add(&s, "(%u%s)", pl->frag_num, (pl->frag_flags & 1) ? ",last" : "");
		}
	}
	sbuf_add(&s, "]");
}

/* ---- JSON ---------------------------------------------------------------------- */
static json_t *jhex(const uint8_t *p, size_t n)
{
	if (!p) n = 0;
	char small[129];
	char *b = n <= 64 ? small : malloc(2 * n + 1);
	if (!b) return json_null();
	hex_str(p ? p : (const uint8_t *)"", n, b);
	json_t *j = json_string(b);
	if (b != small) free(b);
	return j;
}

static void jname(json_t *o, const char *key, const struct tok *t, unsigned v)
{
	char k[48];
	const char *s = t ? tok_name(t, v) : NULL;
	snprintf(k, sizeof k, "%s_num", key);
	if (s) json_object_set_new(o, key, json_string(s));
	json_object_set_new(o, k, json_integer(v));
}

/* Printable text, non-printables as \xNN */
static json_t *jtext(const uint8_t *p, size_t n)
{
	char *b = malloc(4 * n + 1);
	if (!b) return json_null();
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			b[k++] = (char)p[i];
		else
			k += (size_t)sprintf(b + k, "\\x%02x", p[i]);
	}
	b[k] = 0;
	json_t *j = json_string(b);
	free(b);
	return j;
}

static json_t *jaddr(const uint8_t *p, size_t n)
{
	char b[INET6_ADDRSTRLEN];
	if (n == 4 && inet_ntop(AF_INET, p, b, sizeof b)) return json_string(b);
	if (n == 16 && inet_ntop(AF_INET6, p, b, sizeof b)) return json_string(b);
	return jhex(p, n);
}

/* One DER TLV at *pos within n bytes (definite lengths up to 2 length bytes). */
static bool der_tlv(const uint8_t *p, size_t n, size_t *pos, uint8_t *tag, const uint8_t **val,
                    size_t *vlen)
{
	size_t i = *pos;
	if (n - i < 2) return false;
	*tag = p[i++];
	size_t len = p[i++];
	if (len & 0x80) {
		size_t k = len & 0x7f;
		if (k == 0 || k > 2 || n - i < k) return false;
		len = 0;
		while (k--) len = len << 8 | p[i++];
	}
	if (len > n - i) return false;
	*val = p + i;
	*vlen = len;
	*pos = i + len;
	return true;
}

static const struct { const char *oid; size_t len; const char *name; } dn_attrs[] = {
	{"\x55\x04\x03", 3, "CN"}, {"\x55\x04\x06", 3, "C"}, {"\x55\x04\x07", 3, "L"},
	{"\x55\x04\x08", 3, "ST"}, {"\x55\x04\x0a", 3, "O"}, {"\x55\x04\x0b", 3, "OU"},
	{"\x55\x04\x05", 3, "serialNumber"},
	{"\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01", 9, "emailAddress"},
	{"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19", 10, "DC"},
};

/* A DER X.501 Name as "C=DE, O=Lab, CN=gw"; NULL when the bytes are not one. */
static json_t *jdn(const uint8_t *p, size_t n)
{
	uint8_t tag;
	const uint8_t *seq, *set, *atv, *oid, *val;
	size_t seql, setl, atvl, oidl, vall, pos = 0;
	if (!der_tlv(p, n, &pos, &tag, &seq, &seql) || tag != 0x30 || pos != n)
		return NULL;
	char out[512];
	size_t k = 0;
	out[0] = 0;
	for (size_t i = 0; i < seql;) {
		if (!der_tlv(seq, seql, &i, &tag, &set, &setl) || tag != 0x31)
			return NULL;
		for (size_t j = 0; j < setl;) {
			size_t q = 0;
			if (!der_tlv(set, setl, &j, &tag, &atv, &atvl) || tag != 0x30 ||
			    !der_tlv(atv, atvl, &q, &tag, &oid, &oidl) || tag != 0x06 ||
			    !der_tlv(atv, atvl, &q, &tag, &val, &vall) || q != atvl)
				return NULL;
			const char *name = NULL;
			for (size_t a = 0; a < sizeof dn_attrs / sizeof dn_attrs[0]; a++)
				if (dn_attrs[a].len == oidl && !memcmp(dn_attrs[a].oid, oid, oidl))
					name = dn_attrs[a].name;
			char hx[2 * 16 + 1];
			if (!name) {
				hex_str(oid, oidl < 16 ? oidl : 16, hx);
				name = hx;
			}
			int w = snprintf(out + k, sizeof out - k, "%s%s=", k ? ", " : "", name);
			if (w < 0 || (size_t)w >= sizeof out - k) return NULL;
			k += (size_t)w;
			for (size_t b = 0; b < vall; b++) {
				if (sizeof out - k < 5) return NULL;
				if (val[b] >= 0x20 && val[b] < 0x7f)
					out[k++] = (char)val[b];
				else
					k += (size_t)snprintf(out + k, 5, "\\x%02x", val[b]);
			}
			out[k] = 0;
		}
	}
	return json_string(out);
}

/* The value of an identity: address(es), names as text, the rest as hex. */
static void id_json(json_t *o, int ver, uint8_t type, const uint8_t *d, size_t n)
{
	if (!id_size_ok(ver, type, n)) {
		/* kept, not rejected: the data is shown raw and flagged */
		json_object_set_new(o, "malformed", json_string("address length does not match the type"));
		json_object_set_new(o, "data", jhex(d, n));
		return;
	}
	switch (type) {
	case 1: case 5:
		json_object_set_new(o, "address", jaddr(d, n));
		return;
	case 2: case 3:
		json_object_set_new(o, "name", jtext(d, n));
		return;
	case 4: case 6: case 7: case 8:
		if (ver == 1) {
			json_object_set_new(o, type == 4 || type == 6 ? "address" : "start", jaddr(d, n / 2));
			json_object_set_new(o, type == 4 || type == 6 ? "mask" : "end", jaddr(d + n / 2, n / 2));
			return;
		}
		break;
	case 11:
		json_object_set_new(o, "key_id", jhex(d, n));
		return;
	case 9: {
		json_t *dn = jdn(d, n);
		if (dn) json_object_set_new(o, "dn", dn);
		break;
	}
	default:
		break;
	}
	json_object_set_new(o, "data", jhex(d, n));
}

static json_t *attr_json(const struct ike_attr *a, const struct tok *names,
                         const struct tok *values)
{
	json_t *o = json_object();
	jname(o, "type", names, a->type);
	json_object_set_new(o, "format", json_string(a->tv ? "TV" : "TLV"));
	if (a->tv || (a->len > 0 && a->len <= 4)) {
		const char *vs = values ? tok_name(values, a->value) : NULL;
		if (vs) json_object_set_new(o, "value_name", json_string(vs));
		json_object_set_new(o, "value", json_integer(a->value));
	}
	if (!a->tv) {
		json_object_set_new(o, "length", json_integer(a->len));
		json_object_set_new(o, "data", jhex(a->val, a->len));
	}
	return o;
}

static json_t *sa_json(const struct ike_msg *m, const struct ike_payload *pl, int ver)
{
	json_t *props = json_array();
	for (unsigned i = 0; i < pl->prop_count; i++) {
		const struct ike_proposal *pr = &m->props[pl->prop_first + i];
		json_t *po = json_object();
		json_object_set_new(po, "number", json_integer(pr->num));
		jname(po, "protocol", ver == 2 ? ike2_proto_tok : ike1_proto_tok, pr->protocol);
		json_object_set_new(po, "spi_size", json_integer(pr->spi_size));
		json_object_set_new(po, "spi", jhex(pr->spi, pr->spi_size));
		json_object_set_new(po, "transforms_claimed", json_integer(pr->ntransforms));
		json_t *xs = json_array();
		for (unsigned k = 0; k < pr->xf_count; k++) {
			const struct ike_transform *x = &m->xforms[pr->xf_first + k];
			json_t *xo = json_object();
			const struct tok *names;
			if (ver == 2) {
				jname(xo, "type", ike2_xf_type_tok, x->type);
				jname(xo, "id", ike2_xf_tok(x->type), x->id);
				names = ike2_xf_attr_name_tok();
			} else {
				json_object_set_new(xo, "number", json_integer(x->num));
				jname(xo, "id", ike1_xf_tok(pr->protocol), x->id);
				names = ike1_attr_tok(pr->protocol);
			}
			json_t *as = json_array();
			for (unsigned q = 0; q < x->attr_count; q++) {
				const struct ike_attr *a = &m->attrs[x->attr_first + q];
				const struct tok *vals = ver == 2 ? NULL : ike1_attr_value_tok(pr->protocol, a->type);
				json_array_append_new(as, attr_json(a, names, vals));
			}
			json_object_set_new(xo, "attributes", as);
			json_array_append_new(xs, xo);
		}
		json_object_set_new(po, "transforms", xs);
		json_array_append_new(props, po);
	}
	return props;
}

static void payload_json(const struct ike_msg *m, const struct ike_payload *pl, int ver,
                         json_t *o)
{
	const struct tok *ptok = ver == 2 ? ike2_proto_tok : ike1_proto_tok;
	if (pl->encrypted) {
		json_object_set_new(o, "encrypted", json_true());
		if (pl->inner_next || ver == 2)
			jname(o, "inner_next", ver == 2 ? ike2_payload_tok : ike1_payload_tok, pl->inner_next);
		if (ver == 2 && pl->type == IKE2_PL_SKF) {
			json_object_set_new(o, "fragment_number", json_integer(pl->frag_num));
			json_object_set_new(o, "total_fragments", json_integer(pl->frag_total));
		}
		json_object_set_new(o, "encrypted_length", json_integer((json_int_t)pl->data_len));
		return;
	}
	unsigned t = pl->type;
	if (ver == 1) {
		switch (t) {
		case IKE1_PL_SA:
			json_object_set_new(o, "doi", json_integer(pl->doi));
			json_object_set_new(o, "situation", json_integer(pl->situation));
			json_object_set_new(o, "proposals", sa_json(m, pl, 1));
			return;
		case IKE1_PL_ID:
			jname(o, "id_type", ike1_id_type_tok, pl->id_type);
			json_object_set_new(o, "protocol", json_integer(pl->id_proto));
			json_object_set_new(o, "port", json_integer(pl->id_port));
			id_json(o, 1, pl->id_type, pl->data, pl->data_len);
			return;
		case IKE1_PL_NATOA: case IKE1_PL_NATOA_DRAFT:
			jname(o, "id_type", ike1_id_type_tok, pl->id_type);
			id_json(o, 1, pl->id_type, pl->data, pl->data_len);
			return;
		case IKE1_PL_CERT: case IKE1_PL_CR:
			jname(o, "encoding", ike_cert_enc_tok, pl->id_type);
			json_object_set_new(o, "data_length", json_integer((json_int_t)pl->data_len));
			json_object_set_new(o, "data", jhex(pl->data, pl->data_len));
			return;
		case IKE1_PL_N: case IKE1_PL_D:
			json_object_set_new(o, "doi", json_integer(pl->doi));
			break;
		case IKE1_PL_ATTR: {
			jname(o, "cfg_type", ike_cfg_type_tok, pl->id_type);
			json_object_set_new(o, "identifier", json_integer(pl->id_port));
			json_t *as = json_array();
			for (unsigned q = 0; q < pl->attr_count; q++)
				json_array_append_new(as, attr_json(&m->attrs[pl->attr_first + q], ike_cfg_attr_tok, NULL));
			json_object_set_new(o, "attributes", as);
			return;
		}
		case IKE1_PL_FRAG:
			json_object_set_new(o, "fragment_id", json_integer(pl->id_port));
			json_object_set_new(o, "fragment_number", json_integer(pl->frag_num));
			json_object_set_new(o, "last", json_boolean(pl->frag_flags & 1));
			json_object_set_new(o, "data_length", json_integer((json_int_t)pl->data_len));
			return;
		case IKE1_PL_VID: {
			const char *vn = ike_vendor_name(pl->data, pl->data_len);
			if (vn) json_object_set_new(o, "vendor", json_string(vn));
			json_object_set_new(o, "data", jhex(pl->data, pl->data_len));
			return;
		}
		default:
			break;
		}
		if (t != IKE1_PL_N && t != IKE1_PL_D) {
			json_object_set_new(o, "data_length", json_integer((json_int_t)pl->data_len));
			json_object_set_new(o, "data", jhex(pl->data, pl->data_len));
			return;
		}
	} else {
		switch (t) {
		case IKE2_PL_SA:
			json_object_set_new(o, "proposals", sa_json(m, pl, 2));
			return;
		case IKE2_PL_KE:
			jname(o, "group", ike_dh_group_tok, pl->group);
			json_object_set_new(o, "data_length", json_integer((json_int_t)pl->data_len));
			json_object_set_new(o, "data", jhex(pl->data, pl->data_len));
			return;
		case IKE2_PL_IDI: case IKE2_PL_IDR:
			jname(o, "id_type", ike2_id_type_tok, pl->id_type);
			id_json(o, 2, pl->id_type, pl->data, pl->data_len);
			return;
		case IKE2_PL_CERT: case IKE2_PL_CERTREQ:
			jname(o, "encoding", ike_cert_enc_tok, pl->id_type);
			json_object_set_new(o, "data_length", json_integer((json_int_t)pl->data_len));
			json_object_set_new(o, "data", jhex(pl->data, pl->data_len));
			return;
		case IKE2_PL_AUTH:
			jname(o, "method", ike2_auth_method_tok, pl->id_type);
			json_object_set_new(o, "data_length", json_integer((json_int_t)pl->data_len));
			json_object_set_new(o, "data", jhex(pl->data, pl->data_len));
			return;
		case IKE2_PL_TSI: case IKE2_PL_TSR: {
			json_object_set_new(o, "count", json_integer(pl->ts_num));
			json_t *a = json_array();
			for (unsigned i = 0; i < pl->ts_count; i++) {
				const struct ike_ts *ts = &m->ts[pl->ts_first + i];
				json_t *so = json_object();
				jname(so, "type", ike2_ts_type_tok, ts->type);
				json_object_set_new(so, "protocol", json_integer(ts->proto));
				json_object_set_new(so, "start_port", json_integer(ts->start_port));
				json_object_set_new(so, "end_port", json_integer(ts->end_port));
				if (ts->addr_len) {
					json_object_set_new(so, "start", jaddr(ts->start, ts->addr_len));
					json_object_set_new(so, "end", jaddr(ts->end, ts->addr_len));
				} else {
					json_object_set_new(so, "data", jhex(ts->start, ts->sel_len - 8u));
				}
				json_array_append_new(a, so);
			}
			json_object_set_new(o, "selectors", a);
			return;
		}
		case IKE2_PL_CP: {
			jname(o, "cfg_type", ike_cfg_type_tok, pl->id_type);
			json_t *as = json_array();
			for (unsigned q = 0; q < pl->attr_count; q++) {
				const struct ike_attr *a = &m->attrs[pl->attr_first + q];
				json_t *ao = json_object();
				jname(ao, "type", ike_cfg_attr_tok, a->type);
				json_object_set_new(ao, "length", json_integer(a->len));
				if (a->len == 4 || a->len == 16)
					json_object_set_new(ao, "address", jaddr(a->val, a->len));
				else if (a->len == 17)
					json_object_set_new(ao, "address", jaddr(a->val, 16));
				json_object_set_new(ao, "data", jhex(a->val, a->len));
				json_array_append_new(as, ao);
			}
			json_object_set_new(o, "attributes", as);
			return;
		}
		case IKE2_PL_EAP:
			jname(o, "eap_code", ike_eap_code_tok, pl->eap_code);
			json_object_set_new(o, "eap_id", json_integer(pl->eap_id));
			json_object_set_new(o, "eap_length", json_integer(pl->eap_len));
			if (pl->eap_code == 1 || pl->eap_code == 2)
				jname(o, "eap_type", ike_eap_type_tok, pl->eap_type);
			return;
		case IKE2_PL_V: {
			const char *vn = ike_vendor_name(pl->data, pl->data_len);
			if (vn) json_object_set_new(o, "vendor", json_string(vn));
			json_object_set_new(o, "data", jhex(pl->data, pl->data_len));
			return;
		}
		case IKE2_PL_N: case IKE2_PL_D:
			break;
		default:
			json_object_set_new(o, "data_length", json_integer((json_int_t)pl->data_len));
			json_object_set_new(o, "data", jhex(pl->data, pl->data_len));
			return;
		}
	}
	/* N and D, both versions */
	jname(o, "protocol", ptok, pl->protocol);
	json_object_set_new(o, "spi_size", json_integer(pl->spi_size));
	if ((ver == 2 && t == IKE2_PL_N) || (ver == 1 && t == IKE1_PL_N)) {
		jname(o, "notify", ver == 2 ? ike2_notify_tok : ike1_notify_tok, pl->notify);
		json_object_set_new(o, "notify_kind", json_string(pl->notify < 16384 ? "error" : "status"));
		json_object_set_new(o, "spi", jhex(pl->spi, pl->spi_size));
		json_object_set_new(o, "data_length", json_integer((json_int_t)pl->data_len));
		json_object_set_new(o, "data", jhex(pl->data, pl->data_len));
		if (ver == 2 && pl->notify == 17 && pl->data_len == 2)
			jname(o, "accepted_group", ike_dh_group_tok, (unsigned)(pl->data[0] << 8 | pl->data[1]));
	} else {
		json_object_set_new(o, "spi_count", json_integer(pl->nspi));
		json_t *a = json_array();
		for (unsigned i = 0; pl->spi_size && i < pl->nspi; i++)
			json_array_append_new(a, jhex(pl->data + (size_t)i * pl->spi_size, pl->spi_size));
		json_object_set_new(o, "spis", a);
	}
}

json_t *ike_to_json(const struct ike_msg *m)
{
	int ver = m->major == 2 ? 2 : 1;
	json_t *o = json_object();
	char v[8];
	snprintf(v, sizeof v, "%u.%u", m->major, m->minor);
	json_object_set_new(o, "version", json_string(v));
	json_object_set_new(o, "ispi", jhex(m->ispi, 8));
	json_object_set_new(o, "rspi", jhex(m->rspi, 8));
	jname(o, "next_payload", ver == 2 ? ike2_payload_tok : ike1_payload_tok, m->next);
	jname(o, "exchange", ver == 2 ? ike2_exchange_tok : ike1_exchange_tok, m->exchange);
	json_t *f = json_object();
	json_object_set_new(f, "value", json_integer(m->flags));
	if (ver == 2) {
		json_object_set_new(f, "initiator", json_boolean(m->flags & IKE2_FLAG_I));
		json_object_set_new(f, "version", json_boolean(m->flags & IKE2_FLAG_V));
		json_object_set_new(f, "response", json_boolean(m->flags & IKE2_FLAG_R));
	} else {
		json_object_set_new(f, "encryption", json_boolean(m->flags & IKE1_FLAG_E));
		json_object_set_new(f, "commit", json_boolean(m->flags & IKE1_FLAG_C));
		json_object_set_new(f, "authentication", json_boolean(m->flags & IKE1_FLAG_A));
	}
	json_object_set_new(o, "flags", f);
	json_object_set_new(o, "msgid", json_integer(m->msgid));
	json_object_set_new(o, "length", json_integer(m->length));
	if (m->dir) {
		char d[2] = {m->dir, 0};
		json_object_set_new(o, "direction", json_string(d));
	}
	json_t *pls = json_array();
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *pl = &m->pl[i];
		json_t *po = json_object();
		jname(po, "type", ver == 2 ? ike2_payload_tok : ike1_payload_tok, pl->type);
		json_object_set_new(po, "offset", json_integer((json_int_t)pl->off));
		if (!(ver == 1 && pl->encrypted)) {
			jname(po, "next", ver == 2 ? ike2_payload_tok : ike1_payload_tok, pl->next);
			json_object_set_new(po, "length", json_integer(pl->len));
		}
		if (ver == 2)
			json_object_set_new(po, "critical", json_boolean(pl->critical));
		payload_json(m, pl, ver, po);
		json_array_append_new(pls, po);
	}
	json_object_set_new(o, "payloads", pls);
	if (m->extra_len) {
		json_object_set_new(o, "extra_length", json_integer((json_int_t)m->extra_len));
		json_object_set_new(o, "extra_data", jhex(m->extra, m->extra_len));
	}
	const char *cv = ike_msg_client_vendor(m);
	if (cv) json_object_set_new(o, "client_vendor", json_string(cv));
	return o;
}

/* ---- encoder ------------------------------------------------------------------- */
static void enc_attrs(struct wr *w, const struct ike_msg *m, uint16_t first, uint16_t count,
                      bool cp)
{
	for (unsigned i = 0; i < count && first + i < m->nattrs; i++) {
		const struct ike_attr *a = &m->attrs[first + i];
		if (!cp && a->tv) {
			wr_u16(w, (uint16_t)(0x8000 | a->type));
			wr_u16(w, (uint16_t)a->value);
		} else {
			wr_u16(w, a->type & 0x7fff);
			wr_u16(w, a->len);
			wr_bytes(w, a->val, a->len);
		}
	}
}

static void enc_sa(struct wr *w, const struct ike_msg *m, const struct ike_payload *pl, int ver)
{
	if (ver == 1) {
		wr_u32(w, pl->doi);
		wr_u32(w, pl->situation);
	}
	for (unsigned i = 0; i < pl->prop_count && pl->prop_first + i < m->nprops; i++) {
		const struct ike_proposal *pr = &m->props[pl->prop_first + i];
		bool lastp = i + 1 == pl->prop_count;
		size_t at = w->off;
		wr_u8(w, lastp ? 0 : (ver == 2 ? 2 : IKE1_PL_P));
		wr_u8(w, 0);
		wr_u16(w, 0);
		wr_u8(w, pr->num);
		wr_u8(w, pr->protocol);
		wr_u8(w, pr->spi_size);
		wr_u8(w, pr->ntransforms);
		wr_bytes(w, pr->spi, pr->spi_size);
		for (unsigned k = 0; k < pr->xf_count && pr->xf_first + k < m->nxforms; k++) {
			const struct ike_transform *x = &m->xforms[pr->xf_first + k];
			size_t xat = w->off;
			wr_u8(w, k + 1 == pr->xf_count ? 0 : (ver == 2 ? 3 : IKE1_PL_T));
			wr_u8(w, 0);
			wr_u16(w, 0);
			if (ver == 2) {
				wr_u8(w, x->type);
				wr_u8(w, 0);
				wr_u16(w, x->id);
			} else {
				wr_u8(w, x->num);
				wr_u8(w, (uint8_t)x->id);
				wr_u16(w, 0);
			}
			enc_attrs(w, m, x->attr_first, x->attr_count, false);
			wr_put16_at(w, xat + 2, (uint16_t)(w->off - xat));
		}
		wr_put16_at(w, at + 2, (uint16_t)(w->off - at));
	}
}

static void enc_body(struct wr *w, const struct ike_msg *m, const struct ike_payload *pl, int ver)
{
	unsigned t = pl->type;
	if (pl->encrypted) {
		if (ver == 2 && t == IKE2_PL_SKF) {
			wr_u16(w, pl->frag_num);
			wr_u16(w, pl->frag_total);
		}
		wr_bytes(w, pl->data, pl->data_len);
		return;
	}
	if (ver == 1) {
		switch (t) {
		case IKE1_PL_SA: enc_sa(w, m, pl, 1); return;
		case IKE1_PL_ID:
			wr_u8(w, pl->id_type); wr_u8(w, pl->id_proto); wr_u16(w, pl->id_port);
			break;
		case IKE1_PL_CERT: case IKE1_PL_CR:
			wr_u8(w, pl->id_type);
			break;
		case IKE1_PL_N:
			wr_u32(w, pl->doi); wr_u8(w, pl->protocol); wr_u8(w, pl->spi_size);
			wr_u16(w, pl->notify); wr_bytes(w, pl->spi, pl->spi_size);
			break;
		case IKE1_PL_D:
			wr_u32(w, pl->doi); wr_u8(w, pl->protocol); wr_u8(w, pl->spi_size);
			wr_u16(w, pl->nspi);
			break;
		case IKE1_PL_ATTR:
			wr_u8(w, pl->id_type); wr_u8(w, 0); wr_u16(w, pl->id_port);
			enc_attrs(w, m, pl->attr_first, pl->attr_count, false);
			return;
		case IKE1_PL_NATOA: case IKE1_PL_NATOA_DRAFT:
			wr_u8(w, pl->id_type); wr_u24(w, 0);
			break;
		case IKE1_PL_FRAG:
			wr_u16(w, pl->id_port); wr_u8(w, (uint8_t)pl->frag_num); wr_u8(w, pl->frag_flags);
			break;
		default:
			break;
		}
	} else {
		switch (t) {
		case IKE2_PL_SA: enc_sa(w, m, pl, 2); return;
		case IKE2_PL_KE:
			wr_u16(w, pl->group); wr_u16(w, 0);
			break;
		case IKE2_PL_IDI: case IKE2_PL_IDR: case IKE2_PL_AUTH:
			wr_u8(w, pl->id_type); wr_u24(w, 0);
			break;
		case IKE2_PL_CERT: case IKE2_PL_CERTREQ:
			wr_u8(w, pl->id_type);
			break;
		case IKE2_PL_N:
			wr_u8(w, pl->protocol); wr_u8(w, pl->spi_size); wr_u16(w, pl->notify);
			wr_bytes(w, pl->spi, pl->spi_size);
			break;
		case IKE2_PL_D:
			wr_u8(w, pl->protocol); wr_u8(w, pl->spi_size); wr_u16(w, pl->nspi);
			break;
		case IKE2_PL_TSI: case IKE2_PL_TSR:
			wr_u8(w, pl->ts_num); wr_u24(w, 0);
			for (unsigned i = 0; i < pl->ts_count && pl->ts_first + i < m->nts; i++) {
				const struct ike_ts *ts = &m->ts[pl->ts_first + i];
				size_t alen = ts->addr_len;
				size_t raw = alen ? 0 : (ts->sel_len >= 8 ? ts->sel_len - 8u : 0);
				wr_u8(w, ts->type); wr_u8(w, ts->proto);
				wr_u16(w, (uint16_t)(8 + 2 * alen + raw));
				wr_u16(w, ts->start_port); wr_u16(w, ts->end_port);
				if (alen) { wr_bytes(w, ts->start, alen); wr_bytes(w, ts->end, alen); }
				else wr_bytes(w, ts->start, raw);
			}
			return;
		case IKE2_PL_CP:
			wr_u8(w, pl->id_type); wr_u24(w, 0);
			enc_attrs(w, m, pl->attr_first, pl->attr_count, true);
			return;
		default: /* EAP: the whole message is in data */
			break;
		}
	}
	wr_bytes(w, pl->data, pl->data_len);
}

size_t ike_encode(const struct ike_msg *m, uint8_t *buf, size_t cap)
{
	struct wr w;
	int ver = m->major == 2 ? 2 : 1;
	wr_init(&w, buf, cap);
	wr_bytes(&w, m->ispi, 8);
	wr_bytes(&w, m->rspi, 8);
	wr_u8(&w, m->npl ? m->pl[0].type : 0);
	wr_u8(&w, (uint8_t)(m->major << 4 | (m->minor & 15)));
	wr_u8(&w, m->exchange);
	wr_u8(&w, m->flags);
	wr_u32(&w, m->msgid);
	wr_u32(&w, 0);
	for (unsigned i = 0; i < m->npl; i++) {
		const struct ike_payload *pl = &m->pl[i];
		if (ver == 1 && pl->encrypted) { /* E flag: raw ciphertext, no generic header */
			wr_bytes(&w, pl->data, pl->data_len);
			break;
		}
		size_t at = w.off;
		uint8_t next = pl->encrypted ? pl->inner_next : (i + 1 < m->npl ? m->pl[i + 1].type : 0);
		wr_u8(&w, next);
		wr_u8(&w, ver == 2 ? (uint8_t)((pl->critical ? 0x80 : 0) | (pl->reserved & 0x7f)) : pl->reserved);
		wr_u16(&w, 0);
		enc_body(&w, m, pl, ver);
		if (!w.err && w.off - at > 0xffff)
			return 0;
		wr_put16_at(&w, at + 2, (uint16_t)(w.off - at));
		if (pl->encrypted)
			break;
	}
	wr_bytes(&w, m->extra, m->extra_len);
	if (w.err)
		return 0;
	buf[24] = (uint8_t)(w.off >> 24);
	buf[25] = (uint8_t)(w.off >> 16);
	buf[26] = (uint8_t)(w.off >> 8);
	buf[27] = (uint8_t)w.off;
	return w.off;
}

/* ---- builders ------------------------------------------------------------------ */
void ike_msg_init(struct ike_msg *m, int version, uint8_t exchange, uint8_t flags,
                  uint32_t msgid, const uint8_t ispi[8], const uint8_t rspi[8])
{
	memset(m->ispi, 0, 8);
	memset(m->rspi, 0, 8);
	if (ispi) memcpy(m->ispi, ispi, 8);
	if (rspi) memcpy(m->rspi, rspi, 8);
	m->next = 0;
	m->major = version == 2 ? 2 : 1;
	m->minor = 0;
	m->exchange = exchange;
	m->flags = flags;
	m->msgid = msgid;
	m->length = 0;
	m->dir = version == 2 ? ((flags & IKE2_FLAG_I) ? 'i' : 'r') : 0;
	m->npl = m->nprops = m->nxforms = m->nattrs = m->nts = 0;
	m->extra = NULL;
	m->extra_len = 0;
}

struct ike_payload *ike_add_payload(struct ike_msg *m, uint8_t type, const uint8_t *data,
                                    size_t data_len)
{
	if (m->npl >= IKE_MAX_PAYLOADS)
		return NULL;
	struct ike_payload *pl = &m->pl[m->npl++];
	memset(pl, 0, sizeof *pl);
	pl->type = type;
	pl->data = data;
	pl->data_len = data_len;
	if (m->npl == 1)
		m->next = type;
	if (m->major == 2 && (type == IKE2_PL_SK || type == IKE2_PL_SKF))
		pl->encrypted = true;
	if (m->major == 1 && (m->flags & IKE1_FLAG_E))
		pl->encrypted = true;
	pl->prop_first = m->nprops;
	pl->attr_first = m->nattrs;
	pl->ts_first = m->nts;
	if (m->major == 1 && (type == IKE1_PL_SA || type == IKE1_PL_N || type == IKE1_PL_D))
		pl->doi = 1;
	if (m->major == 1 && type == IKE1_PL_SA)
		pl->situation = 1;
	return pl;
}

struct ike_proposal *ike_add_proposal(struct ike_msg *m, struct ike_payload *sa, uint8_t num,
                                      uint8_t protocol, const uint8_t *spi, uint8_t spi_size)
{
	if (m->nprops >= IKE_MAX_PROPOSALS || sa->prop_first + sa->prop_count != m->nprops)
		return NULL;
	struct ike_proposal *pr = &m->props[m->nprops++];
	memset(pr, 0, sizeof *pr);
	pr->num = num;
	pr->protocol = protocol;
	pr->spi = spi;
	pr->spi_size = spi ? spi_size : 0;
	pr->xf_first = m->nxforms;
	sa->prop_count++;
	return pr;
}

struct ike_transform *ike_add_transform(struct ike_msg *m, struct ike_proposal *pr,
                                        uint8_t type, uint16_t id)
{
	if (m->nxforms >= IKE_MAX_TRANSFORMS || pr->xf_first + pr->xf_count != m->nxforms)
		return NULL;
	struct ike_transform *x = &m->xforms[m->nxforms++];
	memset(x, 0, sizeof *x);
	pr->xf_count++;
	pr->ntransforms = (uint8_t)pr->xf_count;
	if (m->major == 2) {
		x->type = type;
	} else {
		x->num = (uint8_t)pr->xf_count;
	}
	x->id = id;
	x->attr_first = m->nattrs;
	return x;
}

struct ike_attr *ike_add_attr(struct ike_msg *m, uint16_t type, bool tv, uint32_t value,
                              const uint8_t *val, uint16_t len)
{
	if (m->nattrs >= IKE_MAX_ATTRS)
		return NULL;
	/* The owner: the last payload when it is a v1 attribute / v2 CP payload, else the
	 * last transform; either must end at the end of the attribute array. */
	struct ike_payload *pl = m->npl ? &m->pl[m->npl - 1] : NULL;
	bool cfg = pl && ((m->major == 1 && pl->type == IKE1_PL_ATTR) ||
	                  (m->major == 2 && pl->type == IKE2_PL_CP));
	if (cfg) {
		if (pl->attr_first + pl->attr_count != m->nattrs)
			return NULL;
		pl->attr_count++;
	} else {
		struct ike_transform *x = m->nxforms ? &m->xforms[m->nxforms - 1] : NULL;
		if (!x || x->attr_first + x->attr_count != m->nattrs)
			return NULL;
		x->attr_count++;
	}
	struct ike_attr *a = &m->attrs[m->nattrs++];
	memset(a, 0, sizeof *a);
	a->type = type & 0x7fff;
	a->tv = tv && value <= 0xffff && !(cfg && m->major == 2);
	a->value = value;
	if (!a->tv) {
		a->val = val;
		a->len = val ? len : 0;
	}
	return a;
}
