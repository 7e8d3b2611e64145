/* libdiag common ground: error reports and a bounds-checked byte reader/writer.
 *
 * Every decoder in libdiag reads through a `struct rd` cursor. The getters never read
 * past the end: the first failure latches `r->err` (with the offset and a reason) and
 * every later getter returns 0 and does nothing, so a decoder may read a whole header
 * and check once. Nothing is byte-swapped in place and no packet pointer is cast to a
 * struct. Encoders write through `struct wr` the same way.
 */
#ifndef VNET_DIAG_H
#define VNET_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jsonw.h"

/* Where and why an input could not be decoded. `off` is the byte offset within the
 * buffer handed to the decoder (callers add their own base when they nest). */
struct diag_err {
	size_t off;
	char reason[160];
};

void diag_err_set(struct diag_err *e, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_err_clear(struct diag_err *e);

/* ---- reader ------------------------------------------------------------------ */
struct rd {
	const uint8_t *p;
	size_t len;   /* bytes available */
	size_t off;   /* next byte to read */
	bool err;     /* latched: a read went past `len` or a check failed */
	size_t err_off;
	const char *err_what; /* static string naming what was being read, may be NULL */
};

static inline void rd_init(struct rd *r, const uint8_t *p, size_t len)
{
	r->p = p; r->len = len; r->off = 0; r->err = false; r->err_off = 0; r->err_what = 0;
}

static inline size_t rd_left(const struct rd *r) { return r->err ? 0 : r->len - r->off; }
static inline bool rd_ok(const struct rd *r) { return !r->err; }

/* Latch an error at the current offset (first error wins). */
static inline void rd_fail(struct rd *r, const char *what)
{
	if (!r->err) { r->err = true; r->err_off = r->off; r->err_what = what; }
}

static inline bool rd_need(struct rd *r, size_t n)
{
	if (r->err) return false;
	if (n > r->len - r->off) { rd_fail(r, "truncated"); return false; }
	return true;
}

static inline uint8_t rd_u8(struct rd *r)
{
	if (!rd_need(r, 1)) return 0;
	return r->p[r->off++];
}
static inline uint16_t rd_u16(struct rd *r) /* network order */
{
	if (!rd_need(r, 2)) return 0;
	uint16_t v = (uint16_t)((r->p[r->off] << 8) | r->p[r->off + 1]);
	r->off += 2;
	return v;
}
static inline uint32_t rd_u24(struct rd *r)
{
	if (!rd_need(r, 3)) return 0;
	uint32_t v = ((uint32_t)r->p[r->off] << 16) | ((uint32_t)r->p[r->off + 1] << 8) |
	             r->p[r->off + 2];
	r->off += 3;
	return v;
}
static inline uint32_t rd_u32(struct rd *r)
{
	if (!rd_need(r, 4)) return 0;
	uint32_t v = ((uint32_t)r->p[r->off] << 24) | ((uint32_t)r->p[r->off + 1] << 16) |
	             ((uint32_t)r->p[r->off + 2] << 8) | r->p[r->off + 3];
	r->off += 4;
	return v;
}
static inline uint64_t rd_u64(struct rd *r)
{
	uint64_t hi = rd_u32(r);
	uint64_t lo = rd_u32(r);
	return (hi << 32) | lo;
}
static inline uint16_t rd_le16(struct rd *r)
{
	if (!rd_need(r, 2)) return 0;
	uint16_t v = (uint16_t)(r->p[r->off] | (r->p[r->off + 1] << 8));
	r->off += 2;
	return v;
}
static inline uint32_t rd_le32(struct rd *r)
{
	if (!rd_need(r, 4)) return 0;
	uint32_t v = (uint32_t)r->p[r->off] | ((uint32_t)r->p[r->off + 1] << 8) |
	             ((uint32_t)r->p[r->off + 2] << 16) | ((uint32_t)r->p[r->off + 3] << 24);
	r->off += 4;
	return v;
}
/* Pointer to the next n bytes (valid while the buffer is), or NULL when short. */
static inline const uint8_t *rd_ptr(struct rd *r, size_t n)
{
	if (!rd_need(r, n)) return 0;
	const uint8_t *q = r->p + r->off;
	r->off += n;
	return q;
}
static inline void rd_copy(struct rd *r, void *dst, size_t n)
{
	const uint8_t *q = rd_ptr(r, n);
	if (q) { for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = q[i]; }
}
static inline void rd_skip(struct rd *r, size_t n) { (void)rd_ptr(r, n); }

/* A sub-reader over the next n bytes (a length-delimited field); the parent moves past
 * them. When fewer than n bytes remain, the parent latches and the child is empty and
 * failed too. */
static inline struct rd rd_sub(struct rd *r, size_t n)
{
	struct rd s;
	const uint8_t *q = rd_ptr(r, n);
	rd_init(&s, q ? q : r->p, q ? n : 0);
	if (!q) rd_fail(&s, "truncated");
	return s;
}

/* Copy the reader's latched error into `e`, adding `base` to the offset and naming the
 * layer: "L2TP AVP 7: truncated". Returns -1 so decoders can `return rd_error(...)`. */
int rd_error(const struct rd *r, struct diag_err *e, size_t base, const char *layer);

/* ---- writer ------------------------------------------------------------------ */
struct wr {
	uint8_t *p;
	size_t cap;
	size_t off;
	bool err; /* latched: out of room */
};

static inline void wr_init(struct wr *w, uint8_t *p, size_t cap)
{
	w->p = p; w->cap = cap; w->off = 0; w->err = false;
}
static inline bool wr_room(struct wr *w, size_t n)
{
	if (w->err) return false;
	if (n > w->cap - w->off) { w->err = true; return false; }
	return true;
}
static inline void wr_u8(struct wr *w, uint8_t v)
{
	if (wr_room(w, 1)) w->p[w->off++] = v;
}
static inline void wr_u16(struct wr *w, uint16_t v)
{
	if (wr_room(w, 2)) { w->p[w->off] = (uint8_t)(v >> 8); w->p[w->off + 1] = (uint8_t)v; w->off += 2; }
}
static inline void wr_u24(struct wr *w, uint32_t v)
{
	if (wr_room(w, 3)) {
		w->p[w->off] = (uint8_t)(v >> 16); w->p[w->off + 1] = (uint8_t)(v >> 8);
		w->p[w->off + 2] = (uint8_t)v; w->off += 3;
	}
}
static inline void wr_u32(struct wr *w, uint32_t v)
{
	if (wr_room(w, 4)) {
		w->p[w->off] = (uint8_t)(v >> 24); w->p[w->off + 1] = (uint8_t)(v >> 16);
		w->p[w->off + 2] = (uint8_t)(v >> 8); w->p[w->off + 3] = (uint8_t)v; w->off += 4;
	}
}
static inline void wr_bytes(struct wr *w, const void *src, size_t n)
{
	if (n && wr_room(w, n)) {
		for (size_t i = 0; i < n; i++) w->p[w->off + i] = ((const uint8_t *)src)[i];
		w->off += n;
	}
}
/* Patch a 16-bit value at an earlier offset (lengths written after the body). */
static inline void wr_put16_at(struct wr *w, size_t at, uint16_t v)
{
	if (!w->err && at + 2 <= w->off) { w->p[at] = (uint8_t)(v >> 8); w->p[at + 1] = (uint8_t)v; }
}

/* ---- value-to-name tables (tcpdump's struct tok) ------------------------------- */
struct tok {
	unsigned v;
	const char *s;
};
/* Name of v in a table ending with {0, NULL}; NULL when absent. */
const char *tok_name(const struct tok *t, unsigned v);
/* Name of v, or the decimal number in `buf` ("unknown-123" style is the caller's). */
const char *tok_str(const struct tok *t, unsigned v, char *buf, size_t bufsz);

/* ---- text fields of key files ------------------------------------------------------ */
/* Hex digits (an optional 0x first) into out: the number of bytes, or -1 when the text
 * is not whole bytes of hex or does not fit in cap. */
long hex_field(const char *s, size_t n, uint8_t *out, size_t cap);
/* Split one CSV line (fields may be in double quotes; blanks around unquoted fields
 * dropped) into at most max fields; the number of fields. */
size_t csv_split(const char *p, size_t n, const char **f, size_t *fl, size_t max);
/* The n bytes at s start with pfx, ignoring ASCII case. */
bool text_starts(const char *s, size_t n, const char *pfx);
/* Byte offset of the first byte of `p` that does not start a valid UTF-8 sequence
 * (overlong forms, surrogates and code points past U+10FFFF are invalid), or -1. */
long utf8_invalid_at(const void *p, size_t n);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void hex_str(const uint8_t *p, size_t n, char *out);

/* ---- text for summaries and JSON, shared by every codec ---------------------------- */
/* Bounded string builder: appends stop at capacity; the buffer stays NUL-terminated. */
struct sbuf {
	char *p;
	size_t cap, len;
};
static inline void sbuf_init(struct sbuf *b, char *p, size_t cap)
{
	b->p = p; b->cap = cap; b->len = 0;
	if (cap) p[0] = 0;
}
void sbuf_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Growing text buffer (heap): appends `len` bytes of s and keeps it NUL-terminated,
 * doubling the allocation as needed. 0, or -1 when memory runs out (the text is then
 * left as it was). */
struct textbuf {
	char *p;
	size_t n, cap;
};
int textbuf_append(struct textbuf *b, const char *s, size_t len);

/* Printable copy of text a peer or a capture supplied: printable ASCII stays, every other
 * byte and the backslash become \xNN, so a newline cannot start a forged log line, an
 * escape sequence never reaches a terminal, invalid UTF-8 never reaches JSON, and the
 * original bytes can be read back. Stops before a character that would not fit in `cap`;
 * always NUL-terminated (cap > 0). Returns the length written. The one escaping function:
 * logs, `show` views, accounting records and decoder summaries all use it. */
size_t text_printable(const uint8_t *p, size_t n, char *out, size_t cap);
/* Room text_printable needs for n bytes, the NUL included. */
#define TEXT_PRINTABLE_SIZE(n) (4 * (size_t)(n) + 1)
/* The same for a C string. */
static inline size_t text_printable_str(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	if (s) while (s[n]) n++;
	return text_printable((const uint8_t *)s, n, out, cap);
}

/* A JSON string of the bytes in lower-case hex (jansson's json_t). */
struct json_t;
struct json_t *json_hex(const uint8_t *p, size_t n);
/* A JSON string of the text_printable rendering (never NULL unless out of memory). */
struct json_t *json_text(const uint8_t *p, size_t n);
/* The same two through a JSON writer, as member `key` (NULL in an array). */
void jw_hex(struct jw *w, const char *key, const uint8_t *p, size_t n);
void jw_text(struct jw *w, const char *key, const uint8_t *p, size_t n);

/* ---- secrets ------------------------------------------------------------------------ */
/* Secrets (passwords, CHAP and MS-CHAPv2 responses, authenticators, L2TP challenge
 * responses) are compared in constant time (OpenSSL's CRYPTO_memcmp): how long a
 * comparison takes never tells where the first difference is.
 *
 * secret_equal: two n-byte values. */
bool secret_equal(const void *a, const void *b, size_t n);
/* Two secrets whose lengths may differ, each held zero-padded in a buffer of `width`
 * bytes (alen, blen <= width): equal when the lengths and the bytes are. The whole width
 * is always compared and the lengths without a branch, so the time tells neither length
 * nor content. */
bool secret_equal_padded(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                         size_t width);
/* Two NUL-terminated passwords: secret_equal_padded over SECRET_TEXT_WIDTH bytes; text
 * longer than that (no password the server keeps is) is equal only to the same text. */
#define SECRET_TEXT_WIDTH 256
bool secret_text_equal(const char *a, const char *b);

#endif
