#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include "diag.h"
#include "jsonw.h"
#include <stdbool.h>
#include <strings.h>
#include <ctype.h>

void diag_err_set(struct diag_err *e, size_t off, const char *fmt, ...)
{
	if (!e) return;
	va_list ap;
	e->off = off;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof e->reason, fmt, ap);
	va_end(ap);
}

void diag_err_clear(struct diag_err *e)
{
	if (!e) return;
	e->off = 0;
	e->reason[0] = 0;
}

int rd_error(const struct rd *r, struct diag_err *e, size_t base, const char *layer)
{
	const char *what = r->err_what ? r->err_what : "truncated";
	if (layer && *layer)
		diag_err_set(e, base + r->err_off, "%s: %s", layer, what);
	else
		diag_err_set(e, base + r->err_off, "%s", what);
	return -1;
}

const char *tok_name(const struct tok *t, unsigned v)
{
	for (; t && t->s; t++)
		if (t->v == v)
			return t->s;
	return NULL;
}

const char *tok_str(const struct tok *t, unsigned v, char *buf, size_t bufsz)
{
	const char *s = tok_name(t, v);
	if (s) return s;
	snprintf(buf, bufsz, "%u", v);
	return buf;
}

void hex_str(const uint8_t *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = 0;
}

void sbuf_add(struct sbuf *b, const char *fmt, ...)
{
	if (!b->cap || b->len >= b->cap - 1) return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) return;
	b->len += (size_t)n;
	if (b->len > b->cap - 1) b->len = b->cap - 1;
}

size_t text_printable(const uint8_t *p, size_t n, char *out, size_t cap)
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;
	if (cap == 0) return 0;
	for (size_t i = 0; p && i < n; i++) {
		uint8_t c = p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= cap) break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= cap) break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hx[c >> 4];
			out[o++] = hx[c & 15];
		}
	}
	out[o] = 0;
	return o;
}

json_t *json_text(const uint8_t *p, size_t n)
{
	size_t cap = TEXT_PRINTABLE_SIZE(n);
	char *b = malloc(cap);
	if (!b) return NULL;
	text_printable(p, n, b, cap);
	json_t *j = json_string(b);
	free(b);
	return j;
}

/* ---- secrets ------------------------------------------------------------------------ */
bool secret_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

bool secret_equal_padded(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                         size_t width)
{
	/* both differences are folded into one word: no early exit on either */
	size_t d = (size_t)CRYPTO_memcmp(a, b, width) | (alen ^ blen);
	d |= (size_t)(alen > width) | (size_t)(blen > width);
	return d == 0;
}

bool secret_text_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > SECRET_TEXT_WIDTH || lb > SECRET_TEXT_WIDTH)
		return la == lb && CRYPTO_memcmp(a, b, la) == 0;
	uint8_t pa[SECRET_TEXT_WIDTH], pb[SECRET_TEXT_WIDTH];
	memset(pa, 0, sizeof pa);
	memset(pb, 0, sizeof pb);
	memcpy(pa, a, la);
	memcpy(pb, b, lb);
	bool eq = secret_equal_padded(pa, la, pb, lb, sizeof pa);
	OPENSSL_cleanse(pa, sizeof pa);
	OPENSSL_cleanse(pb, sizeof pb);
	return eq;
}

json_t *json_hex(const uint8_t *p, size_t n)
{
	char *b = malloc(2 * n + 1);
	if (!b) return NULL;
	hex_str(p, n, b);
	json_t *j = json_string(b);
	free(b);
	return j;
}

void jw_text(struct jw *w, const char *key, const uint8_t *p, size_t n)
{
	char stack[1024];
	size_t cap = 4 * n + 1;
	char *b = cap <= sizeof stack ? stack : malloc(cap);
	if (!b) {
		jw_null(w, key);
		return;
	}
	text_printable(p, n, b, cap);
	jw_str(w, key, b);
	if (b != stack)
		free(b);
}

void jw_hex(struct jw *w, const char *key, const uint8_t *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	if (w->style == JW_TREE || w->style == JW_OUTLINE) {
		char small[129];
		char *b = n <= 64 ? small : malloc(2 * n + 1);
		if (!b) {
			jw_null(w, key);
			return;
		}
		hex_str(p, n, b);
		jw_strn(w, key, b, 2 * n);
		if (b != small) free(b);
		return;
	}
	char *q = jw_value_begin(w, key, key ? strlen(key) : 0, 2 * n + 2);
	if (!q) return;
	*q++ = '"';
	for (size_t i = 0; i < n; i++) {
		*q++ = hx[p[i] >> 4];
		*q++ = hx[p[i] & 15];
	}
	*q++ = '"';
	jw_value_end(w, q);
}

/* ---- text fields of key files ------------------------------------------------------ */
static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long hex_field(const char *s, size_t n, uint8_t *out, size_t cap)
{
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int h = hexval((unsigned char)s[2 * i]), l = hexval((unsigned char)s[2 * i + 1]);
		if (h < 0 || l < 0)
			return -1;
		out[i] = (uint8_t)(h << 4 | l);
	}
	return (long)(n / 2);
}

size_t csv_split(const char *p, size_t n, const char **f, size_t *fl, size_t max)
{
	size_t k = 0, i = 0;
	while (i <= n && k < max) {
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		bool q = i < n && p[i] == '"';
		if (q)
			i++;
		size_t st = i;
		while (i < n && (q ? p[i] != '"' : p[i] != ','))
			i++;
		size_t en = i;
		if (q && i < n)
			i++;
		while (!q && en > st && (p[en - 1] == ' ' || p[en - 1] == '\t'))
			en--;
		f[k] = p + st;
		fl[k] = en - st;
		k++;
		while (i < n && p[i] != ',')
			i++;
		if (i >= n)
			break;
		i++;
	}
	return k;
}

bool text_starts(const char *s, size_t n, const char *pfx)
{
	size_t m = strlen(pfx);
	return n >= m && !strncasecmp(s, pfx, m);
}


long utf8_invalid_at(const void *buf, size_t n)
{
	const unsigned char *p = buf;
	for (size_t i = 0; i < n;) { /* every round moves i forward by at least 1 */
		size_t k = p[i] < 0x80 ? 1 : (p[i] & 0xE0) == 0xC0 ? 2 : (p[i] & 0xF0) == 0xE0 ? 3
		         : (p[i] & 0xF8) == 0xF0 ? 4 : 0;
		if (!k || (k == 2 && p[i] < 0xC2) || p[i] > 0xF4 || k > n - i)
			return (long)i;
		for (size_t j = 1; j < k; j++)
			if ((p[i + j] & 0xC0) != 0x80)
				return (long)i;
		if ((k == 3 && ((p[i] == 0xE0 && p[i + 1] < 0xA0) || (p[i] == 0xED && p[i + 1] >= 0xA0))) ||
		    (k == 4 && ((p[i] == 0xF0 && p[i + 1] < 0x90) || (p[i] == 0xF4 && p[i + 1] >= 0x90))))
			return (long)i;
		i += k;
	}
	return -1;
}

int textbuf_append(struct textbuf *b, const char *s, size_t len)
{
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		while (cap < b->n + len + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = '\0';
	return 0;
}
