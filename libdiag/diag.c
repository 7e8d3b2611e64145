#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
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

void text_printable(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	if (cap == 0) return;
	for (size_t i = 0; p && i < n && o + 1 < cap; i++) {
		uint8_t c = p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			if (o + 5 >= cap) break;
			snprintf(out + o, cap - o, "\\x%02x", c);
			o += 4;
		}
	}
	out[o] = 0;
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

