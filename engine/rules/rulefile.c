/* The line format of rule files and catalogues: "key: value" lines with indented
 * continuation lines (see engine/rules/rules.h and docs/rules.md). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "readfile.h"
#include "rules/rules.h"

#define KV_MAX_LINE 4096
#define KV_MAX_VALUE (64 * 1024)

struct buf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void kv_init(struct kv_reader *r, const char *file, const char *data, size_t len)
{
	size_t bom = utf8_bom_len(data, len); /* an editor's byte order mark is no content */
	r->file = file;
	r->p = data + bom;
	r->len = len - bom;
	r->off = 0;
	r->line = 0;
}

/* The line starting at `off`: its start, its length without "\r\n", and where the next
 * line starts. Returns false at the end of input. */
static bool peek_line(const struct kv_reader *r, size_t off, const char **s, size_t *n,
                      size_t *next)
{
	if (off >= r->len)
		return false;
	const char *start = r->p + off;
	const char *nl = memchr(start, '\n', r->len - off);
	size_t len = nl ? (size_t)(nl - start) : r->len - off;
	*next = off + len + (nl ? 1 : 0);
	if (len > 0 && start[len - 1] == '\r')
		len--;
	*s = start;
	*n = len;
	return true;
}

static bool is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

static size_t indent_of(const char *s, size_t n, size_t *skip)
{
	size_t col = 0, i = 0;
	for (; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
		col = s[i] == '\t' ? (col / 8 + 1) * 8 : col + 1;
	*skip = i;
	return col;
}

static size_t rtrim_len(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n;
}

static int fail(struct kv *out, char *msg, size_t msgsz, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct kv *out, char *msg, size_t msgsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (msg && msgsz)
		vsnprintf(msg, msgsz, fmt, ap);
	va_end(ap);
	free(out->val);
	out->val = NULL;
	return -1;
}

/* Column (1-based, in characters: UTF-8 continuation bytes do not count) of byte `off`
 * of the line `s`. */
static int col_at(const char *s, size_t off)
{
	int col = 1;
	for (size_t i = 0; i < off; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			col++;
	return col;
}

/* A line fit to be read: not too long, no NUL or other control byte, valid UTF-8.
 * *at is the byte offset of the problem. */
static const char *line_problem(const char *s, size_t n, size_t *at)
{
	if (n > KV_MAX_LINE) {
		*at = KV_MAX_LINE;
		return "line longer than 4096 bytes";
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0) {
			*at = i;
			return "NUL byte in line";
		}
		if ((c < 0x20 && c != '\t') || c == 0x7F) {
			*at = i;
			return "control character in line";
		}
	}
	long bad = utf8_invalid_at(s, n);
	if (bad >= 0) {
		*at = (size_t)bad;
		return "not valid UTF-8";
	}
	return NULL;
}

int kv_next(struct kv_reader *r, struct kv *out, char *msg, size_t msgsz)
{
	const char *s;
	size_t n, next;
	out->key[0] = '\0';
	out->val = NULL;
	out->line = r->line;
	out->col = 1;
	size_t at = 0;

	/* skip blank lines and comments */
	for (;;) {
		if (!peek_line(r, r->off, &s, &n, &next))
			return 0;
		r->off = next;
		r->line++;
		out->line = r->line;
		const char *why = line_problem(s, n, &at);
		if (why) {
			out->col = col_at(s, at);
			return fail(out, msg, msgsz, "%s", why);
		}
		if (is_blank(s, n) || s[0] == '#')
			continue;
		break;
	}
	if (s[0] == ' ' || s[0] == '\t')
		return fail(out, msg, msgsz, "indented line outside a value");

	size_t k = 0;
	while (k < n && ((s[k] >= 'a' && s[k] <= 'z') || (k > 0 && ((s[k] >= '0' && s[k] <= '9') ||
	                                                            s[k] == '_' || s[k] == '-'))))
		k++;
	if (k == 0 || k >= n || s[k] != ':') {
		out->col = col_at(s, k);
		return fail(out, msg, msgsz, "expected 'key: value'");
	}
	if (k >= sizeof out->key) {
		out->col = col_at(s, sizeof out->key - 1);
		return fail(out, msg, msgsz, "key longer than %zu characters", sizeof out->key - 1);
	}
	memcpy(out->key, s, k);
	out->key[k] = '\0';
	if (k + 1 < n && s[k + 1] != ' ' && s[k + 1] != '\t') {
		out->col = col_at(s, k + 1);
		return fail(out, msg, msgsz, "expected a space after ':'");
	}

	struct buf b = {0};
	bool in_para = false;
	size_t first_skip;
	const char *v = s + k + 1;
	size_t vn = n - k - 1;
	indent_of(v, vn, &first_skip);
	v += first_skip;
	vn = rtrim_len(v, vn - first_skip);
	out->col = col_at(s, (size_t)(v - s));
	if (vn > 0) {
		buf_add(&b, v, vn);
		in_para = true;
	}

	/* continuation lines */
	size_t base = 0;
	bool have_base = false;
	for (;;) {
		size_t off = r->off, nxt;
		int blanks = 0;
		bool cont = false;
		/* blank lines belong to the value only when an indented line follows them */
		while (peek_line(r, off, &s, &n, &nxt)) {
			size_t bad_at;
			bool bad = line_problem(s, n, &bad_at) != NULL;
			if (bad || !is_blank(s, n)) {
				cont = !bad && (s[0] == ' ' || s[0] == '\t');
				break;
			}
			blanks++;
			off = nxt;
		}
		if (!cont)
			break;
		r->off = nxt;
		r->line += blanks + 1;
		size_t skip, col = indent_of(s, n, &skip);
		const char *t = s + skip;
		size_t tn = rtrim_len(t, n - skip);
		if (!have_base) {
			base = col;
			have_base = true;
		}
		if (blanks && b.n) {
			buf_add(&b, "\n", 1); /* an empty line between paragraphs */
			in_para = false;
		}
		if (col > base) {
			if (b.n)
				buf_add(&b, "\n", 1);
			buf_add(&b, "  ", 2);
			buf_add(&b, t, tn);
			in_para = false;
		} else {
			if (in_para) {
				buf_add(&b, " ", 1);
			} else if (b.n) {
				buf_add(&b, "\n", 1);
			}
			buf_add(&b, t, tn);
			in_para = true;
		}
		if (b.n > KV_MAX_VALUE) {
			free(b.p);
			return fail(out, msg, msgsz, "value longer than %d bytes", KV_MAX_VALUE);
		}
	}
	if (b.oom) {
		free(b.p);
		return fail(out, msg, msgsz, "out of memory");
	}
	if (!b.p) {
		b.p = calloc(1, 1);
		if (!b.p)
			return fail(out, msg, msgsz, "out of memory");
	}
	out->val = b.p;
	return 1;
}
