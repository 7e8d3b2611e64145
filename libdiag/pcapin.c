/* Capture reading: see pcapin.h.
 *
 * Classic pcap: a 24-byte file header (magic a1b2c3d4 for microseconds, a1b23c4d for
 * nanoseconds, in either byte order; a1b2cd34 for the longer record header some old
 * Linux tools wrote), then records of a 16-byte header and the captured bytes.
 *
 * pcapng: blocks of type, total length, body, total length again, in the byte order of
 * the section header block that opens the section. Interface description blocks give
 * each interface its link type and timestamp resolution; enhanced, simple and the old
 * packet blocks carry the packets; every other block is skipped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "pcapin.h"

#define NG_SHB 0x0A0D0D0Au
#define NG_IDB 1u
#define NG_PB 2u
#define NG_SPB 3u
#define NG_EPB 6u
#define NG_BOM 0x1A2B3C4Du

static uint32_t get32(const struct pcapin *in, const uint8_t *p)
{
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	             (uint32_t)p[3] << 24;
	return in->swap ? __builtin_bswap32(v) : v;
}

static uint16_t get16(const struct pcapin *in, const uint8_t *p)
{
	uint16_t v = (uint16_t)(p[0] | p[1] << 8);
	return in->swap ? __builtin_bswap16(v) : v;
}

/* Read exactly n bytes (first the bytes put back by the open); the number in *got. */
static bool read_n(struct pcapin *in, void *dst, size_t n, size_t *got)
{
	size_t k = n < in->npre ? n : in->npre;
	memcpy(dst, in->pre, k);
	memmove(in->pre, in->pre + k, in->npre - k);
	in->npre -= k;
	*got = k + (n > k ? fread((uint8_t *)dst + k, 1, n - k, in->fp) : 0);
	in->off += *got;
	return *got == n;
}

static bool grow(struct pcapin *in, size_t n)
{
	if (n <= in->cap)
		return true;
	size_t cap = in->cap ? in->cap : 4096;
	while (cap < n)
		cap *= 2;
	uint8_t *b = realloc(in->buf, cap);
	if (!b)
		return false;
	in->buf = b;
	in->cap = cap;
	return true;
}

/* Read n bytes into in->buf at `at`, growing it as the bytes arrive: a length field that
 * claims more than the file holds costs no more memory than the file. */
static bool read_buf(struct pcapin *in, size_t at, size_t n, size_t *got, bool *oom)
{
	size_t done = 0;
	*oom = false;
	while (done < n) { /* every round reads a chunk or ends */
		size_t step = n - done < 65536 ? n - done : 65536, g;
		if (!grow(in, at + done + step)) {
			*oom = true;
			break;
		}
		bool ok = read_n(in, in->buf + at + done, step, &g);
		done += g;
		if (!ok)
			break;
	}
	*got = done;
	return done == n;
}

static int fail(struct pcapin *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct pcapin *in, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(in->err, sizeof in->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* "after frame N" (or "before the first frame") for messages about a damaged record. */
static const char *where(const struct pcapin *in, char *buf, size_t sz)
{
	if (in->frame)
		snprintf(buf, sz, "after frame %llu", (unsigned long long)in->frame);
	else
		snprintf(buf, sz, "before the first frame");
	return buf;
}

static int read_error(struct pcapin *in, const char *what, size_t want, size_t got)
{
	char w[48];
	if (ferror(in->fp))
		return fail(in, "%s: read error: %s", where(in, w, sizeof w), strerror(errno));
	return fail(in, "%s: truncated: %s needs %zu bytes, only %zu follow (byte offset %llu)",
	            where(in, w, sizeof w), what, want, got,
	            (unsigned long long)(in->off - got));
}

/* ---- pcapng ------------------------------------------------------------------ */

/* Read one block into in->buf (the whole block, with its header and trailer). 1 read,
 * 0 clean end of file, -1 damaged. */
static int ng_read_block(struct pcapin *in, uint32_t *type, uint32_t *len)
{
	uint8_t h[8];
	size_t got;
	uint64_t start = in->off;
	if (!read_n(in, h, 8, &got)) {
		if (got == 0 && !ferror(in->fp))
			return 0;
		return read_error(in, "a block header", 8, got);
	}
	uint32_t t = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
	             (uint32_t)h[3] << 24;
	if (t == NG_SHB) {
		/* a new section: its byte order mark decides how the lengths read */
		uint8_t bom[4];
		if (!read_n(in, bom, 4, &got))
			return read_error(in, "a section header", 4, got);
		uint32_t b = (uint32_t)bom[0] | (uint32_t)bom[1] << 8 | (uint32_t)bom[2] << 16 |
		             (uint32_t)bom[3] << 24;
		if (b == NG_BOM)
			in->swap = false;
		else if (__builtin_bswap32(b) == NG_BOM)
			in->swap = true;
		else
			return fail(in, "section header at byte offset %llu: no byte order mark",
			            (unsigned long long)start);
		uint32_t l = get32(in, h + 4);
		if (l < 28 || l > PCAPIN_MAX_BLOCK || l % 4)
			return fail(in, "section header at byte offset %llu: length %u is not a "
			            "multiple of 4 in 28..%u", (unsigned long long)start, l,
			            PCAPIN_MAX_BLOCK);
		bool oom;
		if (!grow(in, 12))
			return fail(in, "out of memory");
		memcpy(in->buf, h, 8);
		memcpy(in->buf + 8, bom, 4);
		if (!read_buf(in, 12, l - 12, &got, &oom))
			return oom ? fail(in, "out of memory")
			           : read_error(in, "the section header", l - 12, got);
		*type = t;
		*len = l;
	} else {
		uint32_t l = get32(in, h + 4);
		if (l < 12 || l > PCAPIN_MAX_BLOCK || l % 4)
			return fail(in, "%s: block at byte offset %llu: length %u is not a multiple "
			            "of 4 in 12..%u", where(in, (char[48]){0}, 48),
			            (unsigned long long)start, l, PCAPIN_MAX_BLOCK);
		bool oom;
		if (!grow(in, 8))
			return fail(in, "out of memory");
		memcpy(in->buf, h, 8);
		if (!read_buf(in, 8, l - 8, &got, &oom))
			return oom ? fail(in, "out of memory") : read_error(in, "a block", l - 8, got);
		*type = get32(in, h);
		*len = l;
	}
	if (get32(in, in->buf + *len - 4) != *len)
		return fail(in, "%s: block at byte offset %llu: the length at its end (%u) differs "
		            "from the one at its start (%u)", where(in, (char[48]){0}, 48),
		            (unsigned long long)start, get32(in, in->buf + *len - 4), *len);
	return 1;
}

/* Options after a block's fixed part: if_tsresol (9) and if_tsoffset (14) of an IDB. */
static void ng_idb_options(struct pcapin *in, struct pcapin_iface *f, const uint8_t *p,
                           size_t n)
{
	size_t o = 0;
	while (o + 4 <= n) { /* every round moves o forward by at least 4 */
		uint16_t code = get16(in, p + o), len = get16(in, p + o + 2);
		o += 4;
		if (code == 0 || len > n - o)
			break;
		if (code == 9 && len >= 1) {
			f->res_pow2 = p[o] & 0x80;
			f->res = p[o] & 0x7f;
		} else if (code == 14 && len >= 8) {
			uint64_t v = (uint64_t)get32(in, p + o) | (uint64_t)get32(in, p + o + 4) << 32;
			if (in->swap)
				v = (uint64_t)get32(in, p + o + 4) | (uint64_t)get32(in, p + o) << 32;
			f->ts_offset = (int64_t)v;
		}
		o += ((size_t)len + 3) & ~(size_t)3;
	}
}

static int ng_section(struct pcapin *in, uint32_t len)
{
	uint16_t major = get16(in, in->buf + 12);
	if (major != 1)
		return fail(in, "pcapng section version %u is not 1", major);
	(void)len;
	in->nifs = 0; /* interfaces are numbered per section */
	return 0;
}

static int ng_interface(struct pcapin *in, uint32_t len)
{
	if (len < 20)
		return fail(in, "interface block of %u bytes is too short", len);
	if (in->nifs >= PCAPIN_MAX_IFACES)
		return fail(in, "more than %d interfaces in one section", PCAPIN_MAX_IFACES);
	struct pcapin_iface *f = &in->ifs[in->nifs++];
	memset(f, 0, sizeof *f);
	f->dlt = get16(in, in->buf + 8);
	f->snaplen = get32(in, in->buf + 12);
	f->res = 6;
	ng_idb_options(in, f, in->buf + 16, len - 20);
	if (in->dlt < 0)
		in->dlt = f->dlt;
	return 0;
}

/* Timestamp units since the epoch (plus the interface's offset) to nanoseconds. */
static uint64_t ng_ns(const struct pcapin_iface *f, uint64_t t)
{
	unsigned __int128 ns;
	if (f->res_pow2) {
		unsigned r = f->res > 63 ? 63 : f->res;
		ns = ((unsigned __int128)t * 1000000000u) >> r;
	} else if (f->res <= 9) {
		uint64_t m = 1;
		for (unsigned k = f->res; k < 9; k++)
			m *= 10;
		ns = (unsigned __int128)t * m;
	} else {
		unsigned __int128 d = 1;
		for (unsigned k = 9; k < f->res && k < 40; k++)
			d *= 10;
		ns = t / d;
	}
	__int128 v = (__int128)ns + (__int128)f->ts_offset * 1000000000;
	if (v < 0)
		return 0;
	return v > (__int128)UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

/* The next packet of a pcapng file: 1 with the fields filled, 0 at the end, -1. */
static int ng_next(struct pcapin *in, struct pcapin_pkt *pk)
{
	for (;;) { /* every round consumes one block of the file */
		uint32_t type, len;
		if (in->pending) {
			in->pending = false;
			type = in->pend_type;
			len = in->pend_len;
		} else {
			int r = ng_read_block(in, &type, &len);
			if (r <= 0)
				return r;
		}
		const uint8_t *b = in->buf;
		uint32_t body = len - 12; /* without type, length and trailing length */
		char w[48];
		if (type == NG_SHB) {
			if (ng_section(in, len) < 0)
				return -1;
			continue;
		}
		if (type == NG_IDB) {
			if (ng_interface(in, len) < 0)
				return -1;
			continue;
		}
		uint32_t ifid, caplen, origlen;
		uint64_t ts;
		const uint8_t *data;
		if (type == NG_EPB || type == NG_PB) {
			if (body < 20)
				return fail(in, "%s: packet block of %u bytes is too short",
				            where(in, w, sizeof w), len);
			ifid = type == NG_EPB ? get32(in, b + 8) : get16(in, b + 8);
			ts = (uint64_t)get32(in, b + 12) << 32 | get32(in, b + 16);
			caplen = get32(in, b + 20);
			origlen = get32(in, b + 24);
			data = b + 28;
			if (caplen > body - 20)
				return fail(in, "%s: the packet block claims %u captured bytes, it holds "
				            "%u", where(in, w, sizeof w), caplen, body - 20);
		} else if (type == NG_SPB) {
			if (body < 4)
				return fail(in, "%s: simple packet block of %u bytes is too short",
				            where(in, w, sizeof w), len);
			ifid = 0;
			ts = 0;
			origlen = get32(in, b + 8);
			data = b + 12;
			caplen = origlen < body - 4 ? origlen : body - 4;
			if (in->nifs && in->ifs[0].snaplen && caplen > in->ifs[0].snaplen)
				caplen = in->ifs[0].snaplen;
		} else {
			continue; /* name resolution, statistics, secrets, custom blocks */
		}
		if (ifid >= in->nifs)
			return fail(in, "%s: a packet of interface %u, which no interface block "
			            "describes", where(in, w, sizeof w), ifid);
		const struct pcapin_iface *f = &in->ifs[ifid];
		in->frame++;
		pk->frame = in->frame;
		/* a simple packet block has no time: it gets the one of the record before */
		pk->ts_ns = type == NG_SPB ? in->last_ns : ng_ns(f, ts);
		pk->data = data;
		pk->caplen = caplen;
		pk->origlen = origlen < caplen ? caplen : origlen;
		pk->dlt = f->dlt;
		pk->iface = ifid;
		return 1;
	}
}

/* ---- classic pcap ------------------------------------------------------------- */

static int pc_next(struct pcapin *in, struct pcapin_pkt *pk)
{
	uint8_t h[24];
	size_t hl = in->kuznetzov ? 24 : 16, got;
	if (!read_n(in, h, hl, &got)) {
		if (got == 0 && !ferror(in->fp))
			return 0;
		return read_error(in, "a record header", hl, got);
	}
	uint32_t sec = get32(in, h), sub = get32(in, h + 4);
	uint32_t caplen = get32(in, h + 8), origlen = get32(in, h + 12);
	char w[48];
	uint32_t max = in->snaplen > PCAPIN_MAX_CAPLEN ? in->snaplen : PCAPIN_MAX_CAPLEN;
	if (max > PCAPIN_MAX_BLOCK)
		max = PCAPIN_MAX_BLOCK;
	if (caplen > max)
		return fail(in, "%s: a record claims %u captured bytes, more than %u",
		            where(in, w, sizeof w), caplen, max);
	bool oom;
	if (!grow(in, 1) || (!read_buf(in, 0, caplen, &got, &oom) && oom))
		return fail(in, "out of memory");
	if (got != caplen)
		return read_error(in, "the record", caplen, got);
	in->frame++;
	pk->frame = in->frame;
	pk->ts_ns = (uint64_t)sec * 1000000000u + (uint64_t)sub * (in->nano ? 1u : 1000u);
	pk->data = in->buf;
	pk->caplen = caplen;
	pk->origlen = origlen < caplen ? caplen : origlen;
	pk->dlt = in->dlt;
	pk->iface = 0;
	return 1;
}

/* ---- opening ------------------------------------------------------------------ */

static int open_stream(struct pcapin *in)
{
	in->dlt = -1;
	struct stat st;
	if (fstat(fileno(in->fp), &st) == 0 && S_ISDIR(st.st_mode))
		return fail(in, "%s", strerror(EISDIR));
	uint8_t m[4];
	size_t got;
	if (!read_n(in, m, 4, &got)) {
		if (ferror(in->fp))
			return fail(in, "read error: %s", strerror(errno));
		return fail(in, got ? "not a capture: only %zu bytes" : "empty file", got);
	}
	uint32_t le = (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 |
	              (uint32_t)m[3] << 24;
	if (le == NG_SHB) {
		in->ng = true;
		memcpy(in->pre, m, 4); /* the section header is read whole below */
		in->npre = 4;
		in->off -= 4;
		/* the section header, then the interface blocks that follow it, so that the
		 * first link type is known before the first packet (filters need it) */
		uint32_t type, len;
		int r = ng_read_block(in, &type, &len);
		if (r == 0)
			return fail(in, "empty file");
		if (r < 0 || ng_section(in, len) < 0)
			return -1;
		for (int guard = 0; guard <= PCAPIN_MAX_IFACES; guard++) {
			r = ng_read_block(in, &type, &len);
			if (r <= 0)
				return r;
			if (type != NG_IDB) {
				in->pending = true;
				in->pend_type = type;
				in->pend_len = len;
				return 0;
			}
			if (ng_interface(in, len) < 0)
				return -1;
		}
		return 0;
	}
	static const struct {
		uint32_t magic;
		bool swap, nano, kuz;
	} magics[] = {
		{0xa1b2c3d4u, false, false, false}, {0xd4c3b2a1u, true, false, false},
		{0xa1b23c4du, false, true, false},  {0x4d3cb2a1u, true, true, false},
		{0xa1b2cd34u, false, false, true},  {0x34cdb2a1u, true, false, true},
	};
	size_t k = 0;
	for (; k < sizeof magics / sizeof magics[0] && magics[k].magic != le; k++)
		;
	if (k == sizeof magics / sizeof magics[0])
		return fail(in, "unknown file format: not a pcap or pcapng capture (it starts "
		            "with %02x %02x %02x %02x)", m[0], m[1], m[2], m[3]);
	in->swap = magics[k].swap;
	in->nano = magics[k].nano;
	in->kuznetzov = magics[k].kuz;
	uint8_t h[20];
	if (!read_n(in, h, 20, &got))
		return fail(in, "truncated: the file header needs 24 bytes, only %zu are there",
		            got + 4);
	in->snaplen = get32(in, h + 12);
	in->dlt = (int)(get32(in, h + 16) & 0x03FFFFFFu);
	return 0;
}

int pcapin_open_file(struct pcapin *in, FILE *fp)
{
	memset(in, 0, sizeof *in);
	in->fp = fp;
	if (open_stream(in) < 0) {
		char keep[sizeof in->err];
		memcpy(keep, in->err, sizeof keep);
		pcapin_close(in);
		memcpy(in->err, keep, sizeof keep);
		return -1;
	}
	return 0;
}

#define PCAPIN_BUFFER (1u << 20)

int pcapin_open(struct pcapin *in, const char *path)
{
	FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!fp) {
		memset(in, 0, sizeof *in);
		snprintf(in->err, sizeof in->err, "%s", strerror(errno));
		return -1;
	}
	/* a file is read through a large buffer: stdio's default one would make a system
	 * call every few records */
	if (fp != stdin)
		setvbuf(fp, NULL, _IOFBF, PCAPIN_BUFFER);
	return pcapin_open_file(in, fp);
}

/* libpcap compiles for DLT_* values; the file holds LINKTYPE_* values, which differ for
 * a few old types. */
static int linktype_to_dlt(int lt)
{
	switch (lt) {
	case 101: return DLT_RAW;
	case 100: return DLT_ATM_RFC1483;
	default: return lt;
	}
}

static struct pcapin_filter *filter_for(struct pcapin *in, int dlt)
{
	for (size_t i = 0; i < in->nflt; i++)
		if (in->flt[i].dlt == dlt)
			return &in->flt[i];
	if (in->nflt >= PCAPIN_MAX_LINKS) {
		snprintf(in->err, sizeof in->err, "filter: more than %d link types",
		         PCAPIN_MAX_LINKS);
		return NULL;
	}
	struct pcapin_filter *f = &in->flt[in->nflt];
	memset(f, 0, sizeof *f);
	f->dlt = dlt;
	pcap_t *pd = pcap_open_dead(linktype_to_dlt(dlt), 262144);
	if (!pd) {
		snprintf(in->err, sizeof in->err, "filter: out of memory");
		return NULL;
	}
	if (pcap_compile(pd, &f->prog, in->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(in->err, sizeof in->err, "filter: %s", pcap_geterr(pd));
		pcap_close(pd);
		return NULL;
	}
	pcap_close(pd);
	f->ok = true;
	in->nflt++;
	return f;
}

int pcapin_set_filter(struct pcapin *in, const char *expr)
{
	free(in->filter);
	if (!(in->filter = strdup(expr)))
		return fail(in, "filter: out of memory");
	return filter_for(in, in->dlt >= 0 ? in->dlt : 1) ? 0 : -1;
}

int pcapin_next(struct pcapin *in, struct pcapin_pkt *pkt)
{
	for (;;) { /* bounded by the file: each round consumes one record */
		if (!in->fp)
			return 0;
		int r = in->ng ? ng_next(in, pkt) : pc_next(in, pkt);
		if (r <= 0)
			return r;
		if (!in->have_first) {
			in->have_first = true;
			in->first_ns = pkt->ts_ns;
		}
		in->last_ns = pkt->ts_ns;
		pkt->rel_ns = pkt->ts_ns >= in->first_ns ? pkt->ts_ns - in->first_ns : 0;
		if (in->filter) {
			const struct pcapin_filter *f = filter_for(in, pkt->dlt);
			if (!f) {
				char e[sizeof in->err];
				memcpy(e, in->err, sizeof e);
				return fail(in, "frame %llu: link type %d: %s",
				            (unsigned long long)pkt->frame, pkt->dlt, e);
			}
			struct pcap_pkthdr h = {.caplen = (bpf_u_int32)pkt->caplen,
			                        .len = (bpf_u_int32)pkt->origlen};
			if (!pcap_offline_filter(&f->prog, &h, pkt->data))
				continue;
		}
		pkt->new_link = true;
		for (size_t i = 0; i < in->nseen; i++)
			if (in->seen_dlts[i] == pkt->dlt)
				pkt->new_link = false;
		if (pkt->new_link && in->nseen < PCAPIN_MAX_LINKS)
			in->seen_dlts[in->nseen++] = pkt->dlt;
		else
			pkt->new_link = false; /* seen, or past the table: said at most once each */
		return 1;
	}
}

uint64_t pcapin_offset(const struct pcapin *in)
{
	return in->off;
}

void pcapin_close(struct pcapin *in)
{
	for (size_t i = 0; i < in->nflt; i++)
		pcap_freecode(&in->flt[i].prog);
	in->nflt = 0;
	free(in->filter);
	in->filter = NULL;
	free(in->buf);
	in->buf = NULL;
	in->cap = 0;
	if (in->fp && in->fp != stdin)
		fclose(in->fp);
	in->fp = NULL;
}
