/* A JSON writer with two back ends: text written as it is produced, or a jansson tree.
 *
 * Code that produces JSON calls the jw_* functions once; the caller picks what comes out.
 * Streaming output (JW_COMPACT, JW_PRETTY) allocates no node per value: it appends to one
 * buffer that is reused, and flushes it to a FILE once it is large. The layout is byte
 * for byte what jansson's json_dumpf writes for the same values with JSON_PRESERVE_ORDER
 * (JW_COMPACT: JSON_COMPACT, JW_PRETTY: JSON_INDENT(2)), with jansson's escaping: `"`,
 * `\` and control characters are escaped (\b \f \n \r \t, else \u00XX), everything else
 * is written as UTF-8. JW_TREE builds the jansson value instead, for code that renders
 * text from the data (the -v tree of `pcap decode`, the text of `policy test`).
 *
 * JW_OUTLINE writes for people instead: one `key: value` line per member, nested objects
 * indented under `key:`, an array of scalars on one line as `key: [a, b]` and any other
 * array as `key[0]: ...` lines; strings unquoted, reals as %g (see jw_outline).
 *
 * Strings must be UTF-8: an invalid sequence is written as U+FFFD in both back ends
 * (jansson alone would refuse the whole string). Keys are written as given (they are
 * literals of the program). In an object every value needs a key; inside an array and
 * at the top level the key is ignored (pass NULL).
 */
#ifndef VNET_JSONW_H
#define VNET_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>

enum jw_style { JW_COMPACT, JW_PRETTY, JW_TREE, JW_OUTLINE };

#define JW_MAX_DEPTH 64

struct jw {
	enum jw_style style;
	FILE *fp;          /* streaming: flushed here once the buffer passes 64 KiB; NULL keeps
	                    * everything in buf */
	char *buf;
	size_t len, cap;
	bool failed;       /* out of memory, a write error or nesting deeper than JW_MAX_DEPTH */
	int depth;
	bool is_arr[JW_MAX_DEPTH + 1];
	bool nonempty[JW_MAX_DEPTH + 1];
	json_t *node[JW_MAX_DEPTH + 1]; /* JW_TREE: the open containers */
	json_t *root;                   /* JW_TREE: the finished top-level value */
	int real_precision;             /* significant digits of jw_real, 17 unless set */
	struct jw_outline *ol;          /* JW_OUTLINE state */
};

/* Start a writer; `fp` may be NULL (streaming into buf only). */
void jw_init(struct jw *w, enum jw_style style, FILE *fp);
/* JW_OUTLINE: members of a top-level object start at `indent` spaces; a top-level string
 * member named `title` (may be NULL) is written alone on its line `indent - 2` spaces in,
 * as a heading. Objects deeper than 33 levels are left out. */
void jw_outline(struct jw *w, int indent, const char *title);
/* Write what is buffered to fp (when there is one). -1 on a write error. */
int jw_flush(struct jw *w);
/* Free the buffer and any tree; the writer can be initialised again. */
void jw_free(struct jw *w);
/* JW_TREE: the finished value (the caller owns it; NULL when nothing was written or
 * memory ran out). The writer is then empty. */
json_t *jw_take(struct jw *w);
/* Streaming: forget what is buffered (after it was used through buf/len). */
static inline void jw_reset(struct jw *w)
{
	w->len = 0;
	w->depth = 0;
	w->nonempty[0] = false;
}

/* Members: `key` names the member in an object (NULL in an array or at the top level).
 * The jw_k* forms take the key's length; the inline forms compute it, at compile time
 * for a literal. */
void jw_kobj(struct jw *w, const char *key, size_t klen);
void jw_karr(struct jw *w, const char *key, size_t klen);
void jw_kstrn(struct jw *w, const char *key, size_t klen, const char *s, size_t n);
void jw_kint(struct jw *w, const char *key, size_t klen, long long v);
void jw_kbool(struct jw *w, const char *key, size_t klen, bool v);
void jw_knull(struct jw *w, const char *key, size_t klen);
void jw_kreal(struct jw *w, const char *key, size_t klen, double v);
void jw_end(struct jw *w);

#define JW_KLEN(key) ((key) ? strlen(key) : 0)
static inline void jw_obj(struct jw *w, const char *key) { jw_kobj(w, key, JW_KLEN(key)); }
static inline void jw_arr(struct jw *w, const char *key) { jw_karr(w, key, JW_KLEN(key)); }
/* A string, or null when s is NULL. */
static inline void jw_strn(struct jw *w, const char *key, const char *s, size_t n)
{
	jw_kstrn(w, key, JW_KLEN(key), s, n);
}
static inline void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_kstrn(w, key, JW_KLEN(key), s, s ? strlen(s) : 0);
}
static inline void jw_int(struct jw *w, const char *key, long long v)
{
	jw_kint(w, key, JW_KLEN(key), v);
}
static inline void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_kbool(w, key, JW_KLEN(key), v);
}
static inline void jw_null(struct jw *w, const char *key) { jw_knull(w, key, JW_KLEN(key)); }
/* A real as jansson prints it: "%.17g" (or real_precision digits), with ".0" added to
 * an integral value and the exponent without "+" and leading zeros. */
static inline void jw_real(struct jw *w, const char *key, double v)
{
	jw_kreal(w, key, JW_KLEN(key), v);
}
/* A jansson value made elsewhere, taken over (a new reference; NULL writes null). */
void jw_json_take(struct jw *w, const char *key, json_t *v);
/* A whole jansson value (written with the same rules), for what exists only as a tree. */
void jw_json(struct jw *w, const char *key, const json_t *v);
/* A value whose JSON text the caller writes (streaming styles only): room for at most
 * `max` bytes after the separator and the key; returns where to write, NULL when the
 * writer failed. jw_value_end takes the end of what was written. */
char *jw_value_begin(struct jw *w, const char *key, size_t klen, size_t max);
void jw_value_end(struct jw *w, char *end);
/* s (n bytes) as a JSON string at q, which has room for 2 + 6 * n bytes; returns the end */
char *jw_esc(char *q, const char *s, size_t n);
/* Raw bytes between top-level values (a newline after each JSON line). Streaming only. */
void jw_raw(struct jw *w, const char *s, size_t n);

/* Whether s[0..n) is valid UTF-8 (what jansson accepts in a string). */
bool jw_utf8_valid(const char *s, size_t n);
/* Copy `s` into `out` (outsz > 0) as valid UTF-8, an invalid byte sequence becoming
 * U+FFFD; returns the length written (truncated at a character boundary). */
size_t jw_utf8_clean(const char *s, size_t n, char *out, size_t outsz);

#endif
