/* The JSON writer (see jsonw.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "jsonw.h"

#define JW_FLUSH_AT (64u << 10)

/* bytes written as they are inside a string: printable ASCII but the quote and the
 * backslash */
static const uint8_t plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
	R16(0), R16(0),
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20: '"' */
	R16(1), R16(1),
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50: '\\' */
	R16(1), R16(1),
#undef R16
};

void jw_init(struct jw *w, enum jw_style style, FILE *fp)
{
	memset(w, 0, sizeof *w);
	w->style = style;
	w->fp = fp;
	w->real_precision = 17;
	if (style == JW_OUTLINE) jw_outline(w, 0, NULL);
}

#define OL_KEY 64
#define OL_MAX_DEPTH 33

enum { OL_OBJ, OL_ARR_SCALARS, OL_ARR_LINES, OL_SKIP };

struct ol_frame {
	uint8_t mode;
	int indent;          /* where this container's lines start */
	size_t count;        /* elements so far (arrays) */
	char key[OL_KEY];    /* arrays: the member's key, for key[i] */
};

struct jw_outline {
	int indent;
	char title[OL_KEY];
	struct ol_frame f[JW_MAX_DEPTH + 2];
	/* the scalars of an array that may still be written on one line: text, 0-separated */
	char *side;
	size_t slen, scap;
	size_t nside;
};

void jw_outline(struct jw *w, int indent, const char *title)
{
	if (!w->ol) w->ol = calloc(1, sizeof *w->ol);
	if (!w->ol) {
		w->failed = true;
		return;
	}
	w->ol->indent = indent;
	snprintf(w->ol->title, sizeof w->ol->title, "%s", title ? title : "");
}

void jw_free(struct jw *w)
{
	if (w->ol) {
		free(w->ol->side);
		free(w->ol);
		w->ol = NULL;
	}
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
	json_decref(w->root); /* holds every open container too */
	w->root = NULL;
	w->depth = 0;
}

json_t *jw_take(struct jw *w)
{
	if (w->style != JW_TREE || w->depth > 0) return NULL;
	json_t *r = w->root;
	w->root = NULL;
	if (w->failed) {
		json_decref(r);
		r = NULL;
	}
	w->failed = false;
	return r;
}

int jw_flush(struct jw *w)
{
	if (!w->fp || !w->len) return w->failed ? -1 : 0;
	if (fwrite(w->buf, 1, w->len, w->fp) != w->len) w->failed = true;
	w->len = 0;
	return w->failed ? -1 : 0;
}

/* room for n more bytes; false when there is none (the writer is then failed) */
static bool room(struct jw *w, size_t n)
{
	if (w->len + n <= w->cap) return true;
	if (w->fp && w->len >= JW_FLUSH_AT) {
		jw_flush(w);
		if (w->len + n <= w->cap) return true;
	}
	size_t nc = w->cap ? w->cap : 4096;
	while (nc < w->len + n) {
		if (nc > SIZE_MAX / 2) {
			w->failed = true;
			return false;
		}
		nc *= 2;
	}
	char *nb = realloc(w->buf, nc);
	if (!nb) {
		w->failed = true;
		return false;
	}
	w->buf = nb;
	w->cap = nc;
	return true;
}

static inline void put(struct jw *w, const char *s, size_t n)
{
	if (!room(w, n)) return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static inline void putc1(struct jw *w, char c)
{
	if (w->len < w->cap || room(w, 1)) w->buf[w->len++] = c;
}

void jw_raw(struct jw *w, const char *s, size_t n)
{
	if (w->style != JW_TREE) put(w, s, n);
	if (w->fp && w->len >= JW_FLUSH_AT) jw_flush(w);
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF), 0 when the bytes there are not one. s[0] >= 0x80. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len) return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80) return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return len;
}

bool jw_utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		size_t l = utf8_seq(u + i, n - i);
		if (!l) return false;
		i += l;
	}
	return true;
}

size_t jw_utf8_clean(const char *s, size_t n, char *out, size_t outsz)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0;
	if (!outsz) return 0;
	for (size_t i = 0; i < n;) {
		size_t l = u[i] < 0x80 ? 1 : utf8_seq(u + i, n - i);
		const char *src = l ? s + i : "\xEF\xBF\xBD";
		size_t sl = l ? l : 3;
		if (o + sl >= outsz) break;
		memcpy(out + o, src, sl);
		o += sl;
		i += l ? l : 1;
	}
	out[o] = 0;
	return o;
}

static bool skip(struct jw *w)
{
	return w->depth > JW_MAX_DEPTH;
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* whether any of the 8 bytes in x needs more than a copy: a control character, '"', '\\'
 * or a byte of a multi-byte character */
static inline bool special8(uint64_t x)
{
	uint64_t lt = (x - ONES * 0x20) & ~x;
	uint64_t qu = x ^ (ONES * '"');
	qu = (qu - ONES) & ~qu;
	uint64_t bs = x ^ (ONES * '\\');
	bs = (bs - ONES) & ~bs;
	return ((lt | qu | bs | x) & HIGHS) != 0;
}

/* s (n bytes) as a JSON string at q, which has room for 2 + 6 * n bytes; returns the end */
static char *esc_into(char *q, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	*q++ = '"';
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		for (uint64_t x; j + 8 <= n; j += 8) {
			memcpy(&x, u + j, 8);
			if (special8(x)) break;
		}
		while (j < n && plain[u[j]]) j++;
		memcpy(q, s + i, j - i);
		q += j - i;
		i = j;
		if (i >= n) break;
		unsigned c = u[i];
		if (c >= 0x80) {
			size_t l = utf8_seq(u + i, n - i);
			if (l) {
				memcpy(q, s + i, l);
				q += l;
				i += l;
			} else {
				memcpy(q, "\xEF\xBF\xBD", 3);
				q += 3;
				i++;
			}
			continue;
		}
		*q++ = '\\';
		switch (c) {
		case '"': *q++ = '"'; break;
		case '\\': *q++ = '\\'; break;
		case '\b': *q++ = 'b'; break;
		case '\f': *q++ = 'f'; break;
		case '\n': *q++ = 'n'; break;
		case '\r': *q++ = 'r'; break;
		case '\t': *q++ = 't'; break;
		default:
			*q++ = 'u';
			*q++ = '0';
			*q++ = '0';
			*q++ = hex[c >> 4];
			*q++ = hex[c & 15];
			break;
		}
		i++;
	}
	*q++ = '"';
	return q;
}

/* Room for a value of at most vmax bytes with its separator, indentation and key (klen
 * bytes), all written but the value; returns where the value goes, NULL when there is no
 * room (the writer failed). Finish with w->len = end - w->buf. */
static inline char *begin(struct jw *w, const char *key, size_t klen, size_t vmax)
{
	int d = w->depth;
	if (klen > (SIZE_MAX / 8) || vmax > SIZE_MAX / 2) {
		w->failed = true;
		return NULL;
	}
	size_t need = vmax + (d ? 8 + 2 * (size_t)d + 6 * klen : 0);
	if (w->len + need > w->cap && !room(w, need)) return NULL;
	char *q = w->buf + w->len;
	if (d == 0) return q;
	if (w->nonempty[d]) *q++ = ',';
	w->nonempty[d] = true;
	if (w->style == JW_PRETTY) {
		*q++ = '\n';
		memset(q, ' ', 2 * (size_t)d);
		q += 2 * (size_t)d;
	}
	if (!w->is_arr[d]) {
		q = esc_into(q, key ? key : "", key ? klen : 0);
		*q++ = ':';
		if (w->style == JW_PRETTY) *q++ = ' ';
	}
	return q;
}

static inline void finish(struct jw *w, char *end)
{
	w->len = (size_t)(end - w->buf);
}

/* JW_TREE: hang v (a new reference, stolen) into the open container or make it the
 * root; false when it could not be (v is gone then) */
static bool attach(struct jw *w, const char *key, json_t *v)
{
	int d = w->depth;
	if (!v || (d > 0 && !w->node[d])) {
		json_decref(v);
		w->failed = true;
		return false;
	}
	if (d == 0) {
		json_decref(w->root);
		w->root = v;
		return true;
	}
	int rc = w->is_arr[d] ? json_array_append_new(w->node[d], v)
	                      : json_object_set_new(w->node[d], key ? key : "", v);
	if (rc) w->failed = true;
	return rc == 0;
}

char *jw_value_begin(struct jw *w, const char *key, size_t klen, size_t max)
{
	if (skip(w) || (w->style != JW_COMPACT && w->style != JW_PRETTY)) {
		w->failed = true;
		return NULL;
	}
	return begin(w, key, klen, max);
}

void jw_value_end(struct jw *w, char *end)
{
	finish(w, end);
}

char *jw_esc(char *q, const char *s, size_t n)
{
	return esc_into(q, s, n);
}

/* ---- JW_OUTLINE ------------------------------------------------------------------- */
static void ol_indent(struct jw *w, int n)
{
	if (n > 0 && room(w, (size_t)n)) {
		memset(w->buf + w->len, ' ', (size_t)n);
		w->len += (size_t)n;
	}
}

static void ol_num(struct jw *w, size_t v)
{
	char t[24];
	int n = snprintf(t, sizeof t, "%zu", v);
	put(w, t, (size_t)n);
}

/* "INDENT KEY[I]" for array elements or "INDENT KEY" for members */
static void ol_head(struct jw *w, const struct ol_frame *f, const char *key, bool elem)
{
	ol_indent(w, f->indent);
	if (elem) {
		put(w, f->key, strlen(f->key));
		putc1(w, '[');
		ol_num(w, f->count);
		putc1(w, ']');
	} else {
		put(w, key ? key : "", key ? strlen(key) : 0);
	}
}

/* the one-line array turns into key[i] lines: write the scalars held so far */
static void ol_unfold(struct jw *w, struct ol_frame *f)
{
	struct jw_outline *o = w->ol;
	const char *p = o->side;
	for (size_t i = 0; i < o->nside; i++) {
		size_t l = strlen(p);
		ol_indent(w, f->indent);
		put(w, f->key, strlen(f->key));
		putc1(w, '[');
		ol_num(w, i);
		put(w, "]: ", 3);
		put(w, p, l);
		putc1(w, '\n');
		p += l + 1;
	}
	o->nside = o->slen = 0;
	f->mode = OL_ARR_LINES;
}

static void ol_scalar(struct jw *w, const char *key, const char *text, size_t n)
{
	struct jw_outline *o = w->ol;
	int d = w->depth;
	if (d == 0) return;
	struct ol_frame *f = &o->f[d];
	switch (f->mode) {
	case OL_OBJ:
		if (d == 1 && o->title[0] && key && !strcmp(key, o->title)) {
			ol_indent(w, o->indent - 2);
			put(w, text, n);
			putc1(w, '\n');
			return;
		}
		ol_head(w, f, key, false);
		put(w, ": ", 2);
		put(w, text, n);
		putc1(w, '\n');
		return;
	case OL_ARR_SCALARS:
		if (o->slen + n + 1 > o->scap) {
			size_t nc = o->scap ? o->scap * 2 : 256;
			while (nc < o->slen + n + 1) nc *= 2;
			char *ns = realloc(o->side, nc);
			if (!ns) {
				w->failed = true;
				return;
			}
			o->side = ns;
			o->scap = nc;
		}
		memcpy(o->side + o->slen, text, n);
		o->side[o->slen + n] = 0;
		o->slen += n + 1;
		o->nside++;
		f->count++;
		return;
	case OL_ARR_LINES:
		ol_head(w, f, NULL, true);
		put(w, ": ", 2);
		put(w, text, n);
		putc1(w, '\n');
		f->count++;
		return;
	default:
		return;
	}
}

static void ol_open(struct jw *w, const char *key, bool arr)
{
	struct jw_outline *o = w->ol;
	int d = w->depth;
	struct ol_frame *c = &o->f[d + 1];
	c->count = 0;
	c->key[0] = 0;
	if (d == 0) {
		c->mode = arr ? OL_ARR_LINES : OL_OBJ;
		c->indent = o->indent;
		return;
	}
	struct ol_frame *f = &o->f[d];
	if (f->mode == OL_SKIP || d + 1 > OL_MAX_DEPTH) {
		c->mode = OL_SKIP;
		return;
	}
	bool elem = f->mode != OL_OBJ;
	if (f->mode == OL_ARR_SCALARS) ol_unfold(w, f);
	if (!arr) {
		ol_head(w, f, key, elem);
		put(w, ":\n", 2);
		c->mode = OL_OBJ;
		c->indent = f->indent + 2;
	} else if (elem) { /* an array in an array is not shown */
		ol_head(w, f, NULL, true);
		put(w, ": null\n", 7);
		c->mode = OL_SKIP;
	} else {
		c->mode = OL_ARR_SCALARS;
		c->indent = f->indent;
		snprintf(c->key, sizeof c->key, "%s", key ? key : "");
		o->nside = o->slen = 0;
	}
	if (elem) f->count++;
}

static void ol_close(struct jw *w, int d)
{
	struct jw_outline *o = w->ol;
	struct ol_frame *f = &o->f[d];
	if (f->mode != OL_ARR_SCALARS) return;
	ol_indent(w, f->indent);
	put(w, f->key, strlen(f->key));
	put(w, ": [", 3);
	const char *p = o->side;
	for (size_t i = 0; i < o->nside; i++) {
		size_t l = strlen(p);
		if (i) put(w, ", ", 2);
		put(w, p, l);
		p += l + 1;
	}
	put(w, "]\n", 2);
	o->nside = o->slen = 0;
}

static void open_container(struct jw *w, const char *key, size_t klen, bool arr)
{
	if (w->depth >= JW_MAX_DEPTH) {
		w->failed = true;
		w->depth++; /* keep jw_end balanced; nothing more is written inside */
		return;
	}
	if (w->style == JW_TREE) {
		json_t *v = arr ? json_array() : json_object();
		/* the parent (or the root) holds it; node[] borrows it while it is open */
		w->node[w->depth + 1] = attach(w, key, v) ? v : NULL;
	} else if (w->style == JW_OUTLINE) {
		if (!w->ol) {
			w->failed = true;
			return;
		}
		ol_open(w, key, arr);
	} else {
		char *q = begin(w, key, klen, 1);
		if (!q) return;
		*q++ = arr ? '[' : '{';
		finish(w, q);
	}
	w->depth++;
	w->is_arr[w->depth] = arr;
	w->nonempty[w->depth] = false;
}

void jw_kobj(struct jw *w, const char *key, size_t klen) { open_container(w, key, klen, false); }
void jw_karr(struct jw *w, const char *key, size_t klen) { open_container(w, key, klen, true); }

void jw_end(struct jw *w)
{
	int d = w->depth;
	if (d <= 0) {
		w->failed = true;
		return;
	}
	w->depth--;
	if (d > JW_MAX_DEPTH) return;
	if (w->style == JW_TREE) return;
	if (w->style == JW_OUTLINE) {
		if (w->ol) ol_close(w, d);
		return;
	}
	if (w->nonempty[d] && w->style == JW_PRETTY) {
		if (!room(w, 2 + 2 * (size_t)(d - 1))) return;
		char *q = w->buf + w->len;
		*q++ = '\n';
		memset(q, ' ', 2 * (size_t)(d - 1));
		w->len += 1 + 2 * (size_t)(d - 1);
	}
	putc1(w, w->is_arr[d] ? ']' : '}');
	if (w->depth == 0 && w->fp && w->len >= JW_FLUSH_AT) jw_flush(w);
}

void jw_kstrn(struct jw *w, const char *key, size_t klen, const char *s, size_t n)
{
	if (skip(w)) return;
	if (!s) {
		jw_knull(w, key, klen);
		return;
	}
	if (w->style == JW_TREE) {
		json_t *v = json_stringn(s, n);
		if (!v) { /* not UTF-8 (or an embedded NUL): as the streaming writer does */
			char *c = malloc(3 * n + 1);
			if (c) {
				size_t cl = jw_utf8_clean(s, n, c, 3 * n + 1);
				v = json_stringn(c, cl);
				free(c);
			}
		}
		attach(w, key, v);
		return;
	}
	if (w->style == JW_OUTLINE) {
		if (w->ol) ol_scalar(w, key, s, n);
		return;
	}
	if (n > (SIZE_MAX - 2) / 6) {
		w->failed = true;
		return;
	}
	char *q = begin(w, key, klen, 2 + 6 * n);
	if (q) finish(w, esc_into(q, s, n));
}

void jw_kint(struct jw *w, const char *key, size_t klen, long long v)
{
	if (skip(w)) return;
	if (w->style == JW_TREE) {
		attach(w, key, json_integer((json_int_t)v));
		return;
	}
	char t[24];
	int n = 0;
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	do
		t[n++] = (char)('0' + u % 10);
	while ((u /= 10));
	if (w->style == JW_OUTLINE) {
		char o[24];
		int k = 0;
		if (v < 0) o[k++] = '-';
		while (n) o[k++] = t[--n];
		if (w->ol) ol_scalar(w, key, o, (size_t)k);
		return;
	}
	char *q = begin(w, key, klen, (size_t)n + 1);
	if (!q) return;
	if (v < 0) *q++ = '-';
	while (n) *q++ = t[--n];
	finish(w, q);
}

static void literal(struct jw *w, const char *key, size_t klen, const char *lit, size_t n)
{
	if (w->style == JW_OUTLINE) {
		if (w->ol) ol_scalar(w, key, lit, n);
		return;
	}
	char *q = begin(w, key, klen, n);
	if (!q) return;
	memcpy(q, lit, n);
	finish(w, q + n);
}

void jw_kbool(struct jw *w, const char *key, size_t klen, bool v)
{
	if (skip(w)) return;
	if (w->style == JW_TREE) attach(w, key, json_boolean(v));
	else if (v) literal(w, key, klen, "true", 4);
	else literal(w, key, klen, "false", 5);
}

void jw_knull(struct jw *w, const char *key, size_t klen)
{
	if (skip(w)) return;
	if (w->style == JW_TREE) attach(w, key, json_null());
	else literal(w, key, klen, "null", 4);
}

void jw_kreal(struct jw *w, const char *key, size_t klen, double v)
{
	if (skip(w)) return;
	if (!isfinite(v)) { /* jansson has no value for these */
		jw_knull(w, key, klen);
		return;
	}
	if (w->style == JW_TREE) {
		attach(w, key, json_real(v));
		return;
	}
	char b[64];
	if (w->style == JW_OUTLINE) {
		int k = snprintf(b, sizeof b, "%g", v);
		if (w->ol) ol_scalar(w, key, b, (size_t)(k > 0 ? k : 0));
		return;
	}
	int n = snprintf(b, sizeof b - 3, "%.*g", w->real_precision, v);
	if (n < 0 || (size_t)n >= sizeof b - 3) n = (int)strlen(b);
	if (!strchr(b, '.') && !strchr(b, 'e')) {
		memcpy(b + n, ".0", 3);
		n += 2;
	}
	char *e = strchr(b, 'e');
	if (e) { /* "1e+05" -> "1e5", "1e-05" -> "1e-5" */
		char *start = e + 1, *end = start + 1;
		if (*start == '-') start++;
		while (*end == '0') end++;
		if (end != start) {
			memmove(start, end, (size_t)(b + n + 1 - end));
			n -= (int)(end - start);
		}
	}
	literal(w, key, klen, b, (size_t)n);
}

static void json_walk(struct jw *w, const char *key, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *m;
		jw_obj(w, key);
		json_object_foreach((json_t *)v, k, m) json_walk(w, k, m);
		jw_end(w);
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *m;
		jw_arr(w, key);
		json_array_foreach(v, i, m) json_walk(w, NULL, m);
		jw_end(w);
		break;
	}
	case JSON_STRING:
		jw_strn(w, key, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER: jw_int(w, key, (long long)json_integer_value(v)); break;
	case JSON_REAL: jw_real(w, key, json_real_value(v)); break;
	case JSON_TRUE: jw_bool(w, key, true); break;
	case JSON_FALSE: jw_bool(w, key, false); break;
	case JSON_NULL: jw_null(w, key); break;
	}
}

void jw_json_take(struct jw *w, const char *key, json_t *v)
{
	if (skip(w)) {
		json_decref(v);
		return;
	}
	if (w->style == JW_TREE) {
		if (v) attach(w, key, v);
		else attach(w, key, json_null());
		return;
	}
	jw_json(w, key, v);
	json_decref(v);
}

void jw_json(struct jw *w, const char *key, const json_t *v)
{
	if (skip(w)) return;
	if (!v) {
		jw_null(w, key);
		return;
	}
	if (w->style == JW_TREE) {
		attach(w, key, json_deep_copy(v));
		return;
	}
	json_walk(w, key, v);
}
