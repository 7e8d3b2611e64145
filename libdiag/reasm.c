/* IP fragment and TCP stream reassembly: see reasm.h. */
#include <stdlib.h>
#include <string.h>
#include "reasm.h"

/* ---- IP fragments ----------------------------------------------------------------- */

#define IPFRAG_MAX_RANGES 64
#define IPFRAG_MAX_LEN 65535u
#define IPFRAG_KEEP_BUF 16384u /* buffers up to this size stay with their slot */

struct range { uint32_t a, b; };

struct dgram {
	bool used;
	struct ipfrag_key key;
	uint64_t last_ns, born, first_frame, last_frame;
	unsigned nfrags, overlaps, conflicts;
	uint8_t *buf;
	size_t cap;
	uint32_t total;
	bool have_last;
	unsigned nr;
	struct range r[IPFRAG_MAX_RANGES]; /* sorted, disjoint, not touching */
};

struct ipfrag {
	struct ipfrag_cfg cfg;
	struct dgram *d;
	size_t open, bytes;
	uint64_t born;
	ipfrag_report_fn report;
	void *report_arg;
};

struct ipfrag *ipfrag_new(const struct ipfrag_cfg *cfg)
{
	struct ipfrag *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->cfg.max_datagrams = cfg && cfg->max_datagrams ? cfg->max_datagrams : 64;
	f->cfg.max_bytes = cfg && cfg->max_bytes ? cfg->max_bytes : 4u << 20;
	f->cfg.timeout_ns = cfg && cfg->timeout_ns ? cfg->timeout_ns : 30ull * 1000000000ull;
	f->d = calloc(f->cfg.max_datagrams, sizeof *f->d);
	if (!f->d) {
		free(f);
		return NULL;
	}
	return f;
}

void ipfrag_free(struct ipfrag *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->cfg.max_datagrams; i++)
		free(f->d[i].buf);
	free(f->d);
	free(f);
}

void ipfrag_set_report(struct ipfrag *f, ipfrag_report_fn fn, void *arg)
{
	f->report = fn;
	f->report_arg = arg;
}

size_t ipfrag_open_count(const struct ipfrag *f) { return f->open; }
size_t ipfrag_bytes(const struct ipfrag *f) { return f->bytes; }

static bool key_eq(const struct ipfrag_key *a, const struct ipfrag_key *b)
{
	return a->version == b->version && a->proto == b->proto && a->id == b->id &&
	       !memcmp(a->src, b->src, 16) && !memcmp(a->dst, b->dst, 16);
}

static void dg_release(struct ipfrag *f, struct dgram *d)
{
	f->bytes -= d->cap;
	if (d->cap > IPFRAG_KEEP_BUF) {
		free(d->buf);
		d->buf = NULL;
		d->cap = 0;
	}
	d->used = false;
	f->open--;
}

static void dg_give_up(struct ipfrag *f, struct dgram *d, enum ipfrag_end why)
{
	if (f->report) {
		struct ipfrag_report rep = {
			.key = d->key, .why = why, .first_frame = d->first_frame,
			.last_frame = d->last_frame, .nfrags = d->nfrags,
			.total_len = d->have_last ? d->total : 0,
		};
		for (unsigned i = 0; i < d->nr; i++)
			rep.have_bytes += d->r[i].b - d->r[i].a;
		f->report(f->report_arg, &rep);
	}
	dg_release(f, d);
}

static struct dgram *dg_oldest(struct ipfrag *f, const struct dgram *except)
{
	struct dgram *o = NULL;
	for (size_t i = 0; i < f->cfg.max_datagrams; i++) {
		struct dgram *d = &f->d[i];
		if (d->used && d != except && (!o || d->born < o->born))
			o = d;
	}
	return o;
}

/* Make the buffer at least `need` bytes, within the byte budget. */
static bool dg_grow(struct ipfrag *f, struct dgram *d, size_t need)
{
	if (need <= d->cap)
		return true;
	size_t ncap = d->cap ? d->cap * 2 : 2048;
	while (ncap < need)
		ncap *= 2;
	if (ncap > IPFRAG_MAX_LEN)
		ncap = IPFRAG_MAX_LEN;
	size_t grow = ncap - d->cap;
	for (;;) { /* bounded: each round closes one datagram */
		if (f->bytes + grow <= f->cfg.max_bytes)
			break;
		struct dgram *o = dg_oldest(f, d);
		if (!o)
			return false;
		dg_give_up(f, o, IPFRAG_EVICTED);
	}
	uint8_t *nb = realloc(d->buf, ncap);
	if (!nb)
		return false;
	d->buf = nb;
	d->cap = ncap;
	f->bytes += grow;
	return true;
}

/* Insert [a,b) into the sorted range list, merging neighbours. */
static bool ranges_add(struct dgram *d, uint32_t a, uint32_t b)
{
	unsigned i = 0;
	while (i < d->nr && d->r[i].b < a)
		i++;
	unsigned j = i;
	while (j < d->nr && d->r[j].a <= b) {
		if (d->r[j].a < a) a = d->r[j].a;
		if (d->r[j].b > b) b = d->r[j].b;
		j++;
	}
	/* ranges i..j-1 merge into one */
	if (i == j) {
		if (d->nr == IPFRAG_MAX_RANGES)
			return false;
		memmove(&d->r[i + 1], &d->r[i], (d->nr - i) * sizeof d->r[0]);
		d->nr++;
	} else if (j - i > 1) {
		memmove(&d->r[i + 1], &d->r[j], (d->nr - j) * sizeof d->r[0]);
		d->nr -= j - i - 1;
	}
	d->r[i].a = a;
	d->r[i].b = b;
	return true;
}

int ipfrag_add(struct ipfrag *f, const struct ipfrag_key *k, uint64_t now_ns, uint64_t frame,
               uint32_t off, bool mf, const uint8_t *data, size_t len,
               struct ipfrag_done *done, struct diag_err *err)
{
	if ((size_t)off + len > IPFRAG_MAX_LEN) {
		diag_err_set(err, 0, "fragment at offset %u with %zu bytes ends past %u", off, len,
		             IPFRAG_MAX_LEN);
		return -1;
	}
	if (len == 0 && mf) {
		diag_err_set(err, 0, "empty fragment at offset %u", off);
		return -1;
	}
	uint32_t a = off, b = off + (uint32_t)len;
	struct dgram *d = NULL, *freeslot = NULL;
	for (size_t i = 0; i < f->cfg.max_datagrams; i++) {
		if (f->d[i].used && key_eq(&f->d[i].key, k)) {
			d = &f->d[i];
			break;
		}
		if (!f->d[i].used && !freeslot)
			freeslot = &f->d[i];
	}
	if (!d) {
		if (!freeslot) {
			struct dgram *o = dg_oldest(f, NULL);
			dg_give_up(f, o, IPFRAG_EVICTED);
			freeslot = o;
		}
		d = freeslot;
		uint8_t *keep = d->buf;
		size_t keepcap = d->cap;
		if (keep && f->bytes + keepcap > f->cfg.max_bytes) {
			free(keep);
			keep = NULL;
			keepcap = 0;
		}
		memset(d, 0, sizeof *d);
		d->buf = keep;
		d->cap = keepcap;
		f->bytes += keepcap;
		d->used = true;
		d->key = *k;
		d->born = ++f->born;
		d->first_frame = frame;
		f->open++;
	}
	d->last_ns = now_ns;
	d->last_frame = frame;

	if (!mf) {
		if (d->have_last && d->total != b) {
			diag_err_set(err, 0, "last fragment ends at %u, an earlier one ended at %u", b,
			             d->total);
			d->conflicts++;
			return -1;
		}
		d->have_last = true;
		d->total = b;
	}
	if (d->have_last && b > d->total) {
		diag_err_set(err, 0, "fragment at offset %u ends at %u, past the datagram end %u", off,
		             b, d->total);
		d->conflicts++;
		return -1;
	}
	if (!dg_grow(f, d, b)) {
		diag_err_set(err, 0, "no room to hold datagram id %u (%zu bytes)", k->id, (size_t)b);
		dg_give_up(f, d, IPFRAG_EVICTED);
		return -1;
	}
	/* Copy the parts not held yet; compare the parts that are. */
	bool overlap = false, conflict = false, covered = false;
	for (unsigned i = 0; i < d->nr; i++)
		if (d->r[i].a <= a && d->r[i].b >= b)
			covered = true;
	uint32_t pos = a;
	for (unsigned i = 0; i < d->nr && pos < b; i++) {
		struct range rg = d->r[i];
		if (rg.b <= pos)
			continue;
		if (rg.a >= b)
			break;
		if (rg.a > pos) {
			memcpy(d->buf + pos, data + (pos - a), rg.a - pos);
			pos = rg.a;
		}
		uint32_t e = rg.b < b ? rg.b : b;
		overlap = true;
		if (memcmp(d->buf + pos, data + (pos - a), e - pos))
			conflict = true;
		pos = e;
	}
	if (pos < b)
		memcpy(d->buf + pos, data + (pos - a), b - pos);
	if (covered && !conflict)
		return 0; /* an exact or contained duplicate */
	if (!ranges_add(d, a, b)) {
		diag_err_set(err, 0, "datagram id %u has more than %d holes", k->id, IPFRAG_MAX_RANGES);
		dg_give_up(f, d, IPFRAG_EVICTED);
		return -1;
	}
	d->nfrags++;
	if (overlap) d->overlaps++;
	if (conflict) d->conflicts++;
	if (d->have_last && d->nr == 1 && d->r[0].a == 0 && d->r[0].b == d->total) {
		done->data = d->buf;
		done->len = d->total;
		done->first_frame = d->first_frame;
		done->nfrags = d->nfrags;
		done->overlaps = d->overlaps;
		done->conflicts = d->conflicts;
		/* Free the slot but keep its buffer: the data stays readable until the next
		 * call, which may reuse the slot (and its buffer) for a new datagram. */
		f->bytes -= d->cap;
		d->used = false;
		f->open--;
		return 1;
	}
	return 0;
}

void ipfrag_expire(struct ipfrag *f, uint64_t now_ns)
{
	if (!f->open)
		return;
	for (size_t i = 0; i < f->cfg.max_datagrams; i++) {
		struct dgram *d = &f->d[i];
		if (d->used && now_ns > d->last_ns && now_ns - d->last_ns > f->cfg.timeout_ns)
			dg_give_up(f, d, IPFRAG_TIMEOUT);
	}
}

void ipfrag_flush(struct ipfrag *f)
{
	for (size_t i = 0; i < f->cfg.max_datagrams; i++)
		if (f->d[i].used)
			dg_give_up(f, &f->d[i], IPFRAG_END_OF_CAPTURE);
}

/* ---- TCP streams ------------------------------------------------------------------- */

#define TCPFLOW_MAX_SEGS 16

struct seg { uint32_t seq, len, boff; };

struct flow {
	bool used;
	struct tcpflow_key key;
	uint64_t lru;
	bool have_seq, skip;
	uint32_t next;
	uint8_t *buf;           /* in-order bytes, messages cut from bstart */
	size_t blen, bstart;
	uint8_t *obuf;          /* early segments */
	size_t olen;
	unsigned nseg;
	struct seg segs[TCPFLOW_MAX_SEGS];
};

struct tcpflow {
	struct tcpflow_cfg cfg;
	tcpflow_framelen_fn framelen;
	struct flow *f;
	size_t open;
	uint64_t clock;
	struct flow *cur;
	struct tcpflow_stats st;
};

struct tcpflow *tcpflow_new(const struct tcpflow_cfg *cfg, tcpflow_framelen_fn fl)
{
	struct tcpflow *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->cfg.max_flows = cfg && cfg->max_flows ? cfg->max_flows : 256;
	t->cfg.max_flow_bytes = cfg && cfg->max_flow_bytes ? cfg->max_flow_bytes : 65536;
	t->cfg.max_ooo_bytes = cfg && cfg->max_ooo_bytes ? cfg->max_ooo_bytes : 65536;
	t->framelen = fl;
	t->f = calloc(t->cfg.max_flows, sizeof *t->f);
	if (!t->f) {
		free(t);
		return NULL;
	}
	return t;
}

void tcpflow_free(struct tcpflow *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cfg.max_flows; i++) {
		free(t->f[i].buf);
		free(t->f[i].obuf);
	}
	free(t->f);
	free(t);
}

size_t tcpflow_open_count(const struct tcpflow *t) { return t->open; }

size_t tcpflow_pending(const struct tcpflow *t)
{
	return t->cur && !t->cur->skip ? t->cur->blen - t->cur->bstart : 0;
}
const struct tcpflow_stats *tcpflow_stats(const struct tcpflow *t) { return &t->st; }

static bool fkey_eq(const struct tcpflow_key *a, const struct tcpflow_key *b)
{
	return a->version == b->version && a->sport == b->sport && a->dport == b->dport &&
	       !memcmp(a->src, b->src, 16) && !memcmp(a->dst, b->dst, 16);
}

static void flow_reset(struct flow *fl)
{
	fl->have_seq = false;
	fl->skip = false;
	fl->blen = fl->bstart = 0;
	fl->olen = 0;
	fl->nseg = 0;
}

static struct flow *flow_get(struct tcpflow *t, const struct tcpflow_key *k)
{
	struct flow *freeslot = NULL, *lru = NULL;
	for (size_t i = 0; i < t->cfg.max_flows; i++) {
		struct flow *fl = &t->f[i];
		if (fl->used && fkey_eq(&fl->key, k))
			return fl;
		if (!fl->used && !freeslot)
			freeslot = fl;
		if (fl->used && (!lru || fl->lru < lru->lru))
			lru = fl;
	}
	struct flow *fl = freeslot;
	if (!fl) {
		fl = lru;
		t->st.evicted++;
		t->open--;
	}
	flow_reset(fl);
	fl->used = true;
	fl->key = *k;
	t->open++;
	return fl;
}

/* Append in-order bytes; false when the flow buffer would overflow. */
static bool flow_append(struct tcpflow *t, struct flow *fl, const uint8_t *p, size_t n)
{
	if (fl->bstart && fl->blen + n > t->cfg.max_flow_bytes) {
		memmove(fl->buf, fl->buf + fl->bstart, fl->blen - fl->bstart);
		fl->blen -= fl->bstart;
		fl->bstart = 0;
	}
	if (fl->blen + n > t->cfg.max_flow_bytes)
		return false;
	if (!fl->buf) {
		fl->buf = malloc(t->cfg.max_flow_bytes);
		if (!fl->buf)
			return false;
	}
	memcpy(fl->buf + fl->blen, p, n);
	fl->blen += n;
	fl->next += (uint32_t)n;
	return true;
}

/* Deliver in-order bytes (trimming what was delivered already). */
static int flow_data(struct tcpflow *t, struct flow *fl, uint32_t seq, const uint8_t *p,
                     size_t n, struct diag_err *err)
{
	int32_t d = (int32_t)(seq - fl->next);
	if (d < 0) {
		size_t old = (size_t)(-(int64_t)d);
		if (old >= n) {
			t->st.retrans_bytes += n;
			return 0;
		}
		t->st.retrans_bytes += old;
		p += old;
		n -= old;
	}
	if (!flow_append(t, fl, p, n)) {
		t->st.overflow++;
		diag_err_set(err, 0, "more than %zu bytes without a complete message; dropped",
		             t->cfg.max_flow_bytes);
		fl->blen = fl->bstart = 0;
		fl->skip = true;
		return -1;
	}
	return 0;
}

/* Move held segments that are now in order into the buffer. */
static int flow_drain(struct tcpflow *t, struct flow *fl, struct diag_err *err)
{
	int rc = 0;
	for (unsigned guard = 0; guard <= TCPFLOW_MAX_SEGS; guard++) {
		unsigned best = TCPFLOW_MAX_SEGS;
		for (unsigned i = 0; i < fl->nseg; i++)
			if ((int32_t)(fl->segs[i].seq - fl->next) <= 0) {
				best = i;
				break;
			}
		if (best == TCPFLOW_MAX_SEGS)
			break;
		struct seg s = fl->segs[best];
		fl->segs[best] = fl->segs[--fl->nseg];
		if (flow_data(t, fl, s.seq, fl->obuf + s.boff, s.len, err) < 0)
			rc = -1;
	}
	if (!fl->nseg)
		fl->olen = 0;
	return rc;
}

int tcpflow_add(struct tcpflow *t, const struct tcpflow_key *k, uint32_t seq, uint8_t flags,
                const uint8_t *data, size_t len, struct diag_err *err)
{
	struct flow *fl = flow_get(t, k);
	t->cur = fl;
	fl->lru = ++t->clock;
	if (flags & 0x04) { /* RST: forget the flow */
		flow_reset(fl);
		fl->used = false;
		t->open--;
		t->cur = NULL;
		return 0;
	}
	if (flags & 0x02) { /* SYN: a new stream starts after it */
		flow_reset(fl);
		fl->have_seq = true;
		fl->next = seq + 1;
		seq++;
	}
	if (!len)
		return 0;
	if (!fl->have_seq) { /* joined mid-stream */
		fl->have_seq = true;
		fl->next = seq;
	}
	if (fl->skip)
		return 0;
	int32_t d = (int32_t)(seq - fl->next);
	if (d <= 0) {
		int rc = flow_data(t, fl, seq, data, len, err);
		if (flow_drain(t, fl, err) < 0)
			rc = -1;
		return rc;
	}
	/* Early: hold it; when there is no room, give up on the hole. */
	if (!fl->obuf) {
		fl->obuf = malloc(t->cfg.max_ooo_bytes);
		if (!fl->obuf)
			return 0;
	}
	if (fl->nseg == TCPFLOW_MAX_SEGS || fl->olen + len > t->cfg.max_ooo_bytes) {
		/* No room to wait for the hole: skip to the earliest byte we have. */
		uint32_t lo = seq;
		for (unsigned i = 0; i < fl->nseg; i++)
			if ((int32_t)(fl->segs[i].seq - lo) < 0)
				lo = fl->segs[i].seq;
		t->st.gaps++;
		diag_err_set(err, 0, "%u bytes missing before sequence %u; partial message dropped",
		             lo - fl->next, lo);
		struct diag_err e2;
		fl->blen = fl->bstart = 0;
		fl->next = lo;
		(void)flow_drain(t, fl, &e2);
		if ((int32_t)(seq - fl->next) <= 0) {
			(void)flow_data(t, fl, seq, data, len, &e2);
			(void)flow_drain(t, fl, &e2);
		} else if (fl->nseg < TCPFLOW_MAX_SEGS && fl->olen + len <= t->cfg.max_ooo_bytes) {
			memcpy(fl->obuf + fl->olen, data, len);
			fl->segs[fl->nseg++] = (struct seg){seq, (uint32_t)len, (uint32_t)fl->olen};
			fl->olen += len;
		} else {
			t->st.ooo_dropped += len;
		}
		return -1;
	}
	memcpy(fl->obuf + fl->olen, data, len);
	fl->segs[fl->nseg++] = (struct seg){seq, (uint32_t)len, (uint32_t)fl->olen};
	fl->olen += len;
	return 0;
}

int tcpflow_next(struct tcpflow *t, const uint8_t **msg, size_t *len, struct diag_err *err)
{
	struct flow *fl = t->cur;
	if (!fl || fl->skip || fl->blen == fl->bstart)
		return 0;
	const uint8_t *p = fl->buf + fl->bstart;
	size_t avail = fl->blen - fl->bstart;
	long n = t->framelen(p, avail);
	if (n < 0 || (n > 0 && (size_t)n > t->cfg.max_flow_bytes)) {
		if (n < 0)
			diag_err_set(err, 0, "stream bytes do not start a message; skipping the rest of the flow");
		else
			diag_err_set(err, 0, "message of %ld bytes is longer than %zu; skipping the rest of the flow",
			             n, t->cfg.max_flow_bytes);
		fl->blen = fl->bstart = 0;
		fl->skip = true;
		return -1;
	}
	if (n == 0 || (size_t)n > avail)
		return 0;
	*msg = p;
	*len = (size_t)n;
	fl->bstart += (size_t)n;
	if (fl->bstart == fl->blen)
		fl->blen = fl->bstart = 0; /* the message stays readable: nothing overwrites it before the next add */
	return 1;
}
