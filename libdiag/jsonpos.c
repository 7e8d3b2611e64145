#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <jansson.h>
#include "diag.h"
#include "jsonpos.h"

struct scan {
	const char *p;
	size_t len, off;
	int line, col;
};

static void adv(struct scan *s)
{
	if (s->off >= s->len) return;
	unsigned char c = (unsigned char)s->p[s->off++];
	if (c == '\n') {
		s->line++;
		s->col = 1;
	} else if ((c & 0xC0) != 0x80) {
		s->col++; /* UTF-8 continuation bytes belong to the previous character */
	}
}

static int peek(const struct scan *s)
{
	return s->off < s->len ? (unsigned char)s->p[s->off] : -1;
}

static void skip_ws(struct scan *s)
{
	for (;;) {
		int c = peek(s);
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') adv(s);
		else return;
	}
}

/* At '"': move past the closing quote. */
static void skip_string(struct scan *s)
{
	adv(s);
	while (s->off < s->len) {
		int c = peek(s);
		adv(s);
		if (c == '\\') adv(s);
		else if (c == '"') return;
	}
}

/* Move past one value (string, number, literal, or a whole container). No recursion:
 * containers are skipped by counting brackets outside strings. */
static void skip_value(struct scan *s)
{
	skip_ws(s);
	int c = peek(s);
	if (c == '"') {
		skip_string(s);
		return;
	}
	if (c == '{' || c == '[') {
		size_t depth = 0;
		while (s->off < s->len) {
			c = peek(s);
			if (c == '"') {
				skip_string(s);
				continue;
			}
			adv(s);
			if (c == '{' || c == '[') depth++;
			else if (c == '}' || c == ']') {
				if (--depth == 0) return;
			}
		}
		return;
	}
	while (s->off < s->len) {
		c = peek(s);
		if (c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' ||
		    c == '\r')
			return;
		adv(s);
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Compare the JSON string at s (at '"') with the pointer token tok[0..toklen) (already
 * ~-unescaped on the fly) and move past the string. */
static bool string_equals_token(struct scan *s, const char *tok, size_t toklen)
{
	/* decode the token: ~1 -> '/', ~0 -> '~' */
	size_t ti = 0;
	bool eq = true;
	adv(s); /* opening quote */
	while (s->off < s->len) {
		int c = peek(s);
		unsigned char dec[4];
		size_t nd = 0;
		if (c == '"') {
			adv(s);
			break;
		}
		if (c == '\\') {
			adv(s);
			int e = peek(s);
			adv(s);
			switch (e) {
			case 'n': dec[nd++] = '\n'; break;
			case 't': dec[nd++] = '\t'; break;
			case 'r': dec[nd++] = '\r'; break;
			case 'b': dec[nd++] = '\b'; break;
			case 'f': dec[nd++] = '\f'; break;
			case 'u': {
				uint32_t u = 0;
				for (int k = 0; k < 4; k++) {
					int h = hexval(peek(s));
					if (h < 0) break;
					u = u * 16 + (uint32_t)h;
					adv(s);
				}
				/* surrogate pairs compare as their UTF-8 form */
				if (u >= 0xD800 && u <= 0xDBFF && peek(s) == '\\' &&
				    s->off + 1 < s->len && s->p[s->off + 1] == 'u') {
					adv(s);
					adv(s);
					uint32_t lo = 0;
					for (int k = 0; k < 4; k++) {
						int h = hexval(peek(s));
						if (h < 0) break;
						lo = lo * 16 + (uint32_t)h;
						adv(s);
					}
					if (lo >= 0xDC00 && lo <= 0xDFFF)
						u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
				}
				if (u < 0x80) {
					dec[nd++] = (unsigned char)u;
				} else if (u < 0x800) {
					dec[nd++] = (unsigned char)(0xC0 | (u >> 6));
					dec[nd++] = (unsigned char)(0x80 | (u & 0x3F));
				} else if (u < 0x10000) {
					dec[nd++] = (unsigned char)(0xE0 | (u >> 12));
					dec[nd++] = (unsigned char)(0x80 | ((u >> 6) & 0x3F));
					dec[nd++] = (unsigned char)(0x80 | (u & 0x3F));
				} else {
					dec[nd++] = (unsigned char)(0xF0 | (u >> 18));
					dec[nd++] = (unsigned char)(0x80 | ((u >> 12) & 0x3F));
					dec[nd++] = (unsigned char)(0x80 | ((u >> 6) & 0x3F));
					dec[nd++] = (unsigned char)(0x80 | (u & 0x3F));
				}
				break;
			}
			default: dec[nd++] = (unsigned char)e; break;
			}
		} else {
			dec[nd++] = (unsigned char)c;
			adv(s);
		}
		for (size_t k = 0; k < nd && eq; k++) {
			if (ti >= toklen) {
				eq = false;
				break;
			}
			unsigned char t = (unsigned char)tok[ti++];
			if (t == '~' && ti < toklen) {
				if (tok[ti] == '1') t = '/', ti++;
				else if (tok[ti] == '0') t = '~', ti++;
			}
			if (t != dec[k]) eq = false;
		}
	}
	return eq && ti == toklen;
}

static int find(const char *text, size_t len, const char *pointer, bool want_key, int *line,
                int *col)
{
	struct scan s = {text ? text : "", text ? len : 0, 0, 1, 1};
	*line = 0;
	*col = 0;
	if (!pointer) pointer = "";
	skip_ws(&s);
	if (s.off >= s.len) return -1;
	int key_line = s.line, key_col = s.col;
	const char *tp = pointer;
	/* Bounded: each step consumes one pointer token. */
	while (*tp == '/') {
		tp++;
		const char *te = strchr(tp, '/');
		size_t tl = te ? (size_t)(te - tp) : strlen(tp);
		*line = s.line;
		*col = s.col;
		int c = peek(&s);
		bool found = false;
		if (c == '{') {
			adv(&s);
			for (;;) {
				skip_ws(&s);
				if (peek(&s) != '"') break;
				int kl = s.line, kc = s.col;
				bool eq = string_equals_token(&s, tp, tl);
				skip_ws(&s);
				if (peek(&s) != ':') break;
				adv(&s);
				skip_ws(&s);
				if (eq) {
					found = true;
					key_line = kl;
					key_col = kc;
					break;
				}
				skip_value(&s);
				skip_ws(&s);
				if (peek(&s) != ',') break;
				adv(&s);
			}
		} else if (c == '[') {
			size_t idx = 0;
			bool num = tl > 0 && tl < 10;
			for (size_t k = 0; k < tl && num; k++) {
				if (tp[k] < '0' || tp[k] > '9') num = false;
				else idx = idx * 10 + (size_t)(tp[k] - '0');
			}
			if (num && tl > 1 && tp[0] == '0') num = false;
			adv(&s);
			skip_ws(&s);
			if (num && peek(&s) != ']') {
				size_t i = 0;
				for (;;) {
					skip_ws(&s);
					if (i == idx) {
						found = s.off < s.len;
						key_line = s.line;
						key_col = s.col;
						break;
					}
					skip_value(&s);
					skip_ws(&s);
					if (peek(&s) != ',') break;
					adv(&s);
					i++;
				}
			}
		}
		if (!found) return -1;
		tp += tl;
	}
	if (*tp) return -1; /* a pointer must start with '/' */
	if (want_key) {
		*line = key_line;
		*col = key_col;
	} else {
		*line = s.line;
		*col = s.col;
	}
	return 0;
}

int jsonpos_find(const char *text, size_t len, const char *pointer, int *line, int *col)
{
	return find(text, len, pointer, false, line, col);
}

int jsonpos_find_key(const char *text, size_t len, const char *pointer, int *line, int *col)
{
	return find(text, len, pointer, true, line, col);
}

const char *json_type_phrase(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "a value";
}

void jsonpos_error(const char *text, size_t len, const json_error_t *je, int *line, int *col)
{
	*line = je->line > 0 ? je->line : 1;
	*col = je->column > 0 ? je->column : 1;
	if (strncmp(je->text, "unable to decode byte", 21) != 0 || !text)
		return;
	long bad = utf8_invalid_at(text, len);
	if (bad < 0)
		return;
	struct scan s = {text, (size_t)bad, 0, 1, 1};
	while (s.off < s.len)
		adv(&s);
	*line = s.line;
	*col = s.col;
}
