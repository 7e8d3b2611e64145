/* The knowledge base: loading rule files (format in docs/rules.md) and matching them
 * against facts. Regular expressions are compiled once at load time (JIT when the
 * library has it) and share one preallocated match block, so rules_match allocates
 * nothing; a ruleset must therefore not be matched from two threads at once. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rules/catalog.h"
#include "policy/embedded.h"
#include "readfile.h"
#include "rules/rules.h"

#define RULES_MAX_FILES 4096
#define RULES_MAX_DEPTH 8
#define RULES_MAX_FILE_SIZE (1024 * 1024)
#define RULE_MAX_PATTERNS RULE_MAX_EVIDENCE
#define RULE_MAX_ERRORS 32
#define RULE_MAX_REFS 16
#define RULE_MAX_SET 32
#define PRIORITY_MAX 999

enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_RE, OP_EXISTS, OP_ABSENT, OP_IS };

struct pat {
	enum op op;
	char *key;
	char *val;      /* OP_EQ/OP_NE/OP_IS: the value as text */
	bool isnum;     /* val is an integer */
	int64_t num;
	char **set;     /* OP_IN */
	size_t nset;
	bool setnum[RULE_MAX_SET];
	int64_t setval[RULE_MAX_SET];
	pcre2_code *re; /* OP_RE */
	bool jit;
	bool negate;    /* `not PATTERN`: no value satisfies PATTERN */
	size_t kidx;    /* index of `key` in the ruleset's key table */
};

struct rentry {
	struct rule r;
	struct pat pats[RULE_MAX_PATTERNS];
	size_t npats;
	int errs[RULE_MAX_ERRORS];
	char *refs[RULE_MAX_REFS];
	char *when[RULE_MAX_PATTERNS];
};

struct ruleset {
	struct rentry **v;
	size_t n, cap;
	pcre2_match_data *md;
	/* Every fact key the patterns use, and an open-addressing hash from key to its
	 * index; `first` is scratch for rules_match: the first fact of each key. */
	char **keys;
	size_t nkeys;
	uint32_t *slots; /* key index + 1, 0 = empty */
	size_t nslots;   /* a power of two, at least twice nkeys */
	const struct fact **first;
};

/* ---- problems ------------------------------------------------------------------ */

struct problems {
	struct textbuf text;
	size_t count;
};

/* One problem line: "FILE:LINE:COL: key: reason" (COL left out when 0), or "FILE: reason"
 * when there is no line. */
static void problem(struct problems *pb, const char *file, int line, int col, const char *key,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void problem(struct problems *pb, const char *file, int line, int col, const char *key,
                    const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pb->count++;
	char lbuf[700];
	char pos[32] = "";
	if (col > 0)
		snprintf(pos, sizeof pos, ":%d", col);
	int w = line > 0 ? snprintf(lbuf, sizeof lbuf, "%s:%d%s: %s: %s\n", file, line, pos,
	                            key && *key ? key : "-", msg)
	                 : snprintf(lbuf, sizeof lbuf, "%s: %s\n", file, msg);
	if (w < 0)
		return;
	size_t len = (size_t)w < sizeof lbuf ? (size_t)w : sizeof lbuf - 1;
	textbuf_append(&pb->text, lbuf, len);
}

/* Lines already in the problem format, `count` of them. */
static void problems_add_text(struct problems *pb, const char *text, size_t count)
{
	size_t len = text ? strlen(text) : 0;
	pb->count += count;
	if (!len)
		return;
	textbuf_append(&pb->text, text, len);
}

/* ---- freeing ------------------------------------------------------------------- */

static void pat_free(struct pat *p)
{
	free(p->key);
	free(p->val);
	for (size_t i = 0; i < p->nset; i++)
		free(p->set[i]);
	free(p->set);
	if (p->re)
		pcre2_code_free(p->re);
	memset(p, 0, sizeof *p);
}

static void rentry_free(struct rentry *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->npats; i++)
		pat_free(&e->pats[i]);
	for (size_t i = 0; i < e->r.nrefs; i++)
		free(e->refs[i]);
	for (size_t i = 0; i < e->r.nwhen; i++)
		free(e->when[i]);
	free((char *)e->r.id);
	free((char *)e->r.title);
	free((char *)e->r.cause);
	free((char *)e->r.fix);
	free((char *)e->r.file);
	free(e);
}

void rules_free(struct ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++)
		rentry_free(rs->v[i]);
	free(rs->v);
	if (rs->md)
		pcre2_match_data_free(rs->md);
	free(rs->keys); /* the strings belong to the patterns */
	free(rs->slots);
	free(rs->first);
	free(rs);
}

static struct ruleset *ruleset_new(void)
{
	struct ruleset *rs = calloc(1, sizeof *rs);
	if (!rs)
		return NULL;
	rs->md = pcre2_match_data_create(1, NULL);
	if (!rs->md) {
		free(rs);
		return NULL;
	}
	return rs;
}

/* ---- small parsing helpers ------------------------------------------------------- */

static bool parse_int(const char *s, int64_t *out)
{
	if (!*s)
		return false;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || end == s)
		return false;
	if (!(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
		return false;
	*out = v;
	return true;
}

static bool key_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		          c == '-';
		if (!ok)
			return false;
	}
	return s[0] != '.' && s[n - 1] != '.';
}

static bool id_ok(const char *s)
{
	size_t n = strlen(s);
	if (!key_ok(s, n) || !strchr(s, '.'))
		return false;
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '.' && s[i + 1] == '.')
			return false;
	return true;
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A value token: "quoted text" or the trimmed rest. Returns a malloc'd copy or NULL
 * with `why` set. */
static char *parse_value(const char *s, size_t n, const char **why)
{
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0) {
		*why = "missing value";
		return NULL;
	}
	if (s[0] == '"') {
		if (n < 2 || s[n - 1] != '"') {
			*why = "unterminated quoted value";
			return NULL;
		}
		if (memchr(s + 1, '"', n - 2)) {
			*why = "quote inside a quoted value";
			return NULL;
		}
		s++;
		n -= 2;
	} else if (memchr(s, '"', n)) {
		*why = "stray quote in value";
		return NULL;
	}
	char *v = strndup(s, n);
	if (!v)
		*why = "out of memory";
	return v;
}

/* ---- patterns ------------------------------------------------------------------- */

static const struct {
	const char *name;
	enum op op;
} binops[] = {
	{"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE}, {"<", OP_LT},
	{">", OP_GT},  {"=~", OP_RE}, {"in", OP_IN}, {"is", OP_IS},
};

/* Parse one `when` pattern into `p`; on failure returns false with the reason in `why`. */
static bool parse_pattern(const char *text, struct pat *p, char *why, size_t whysz)
{
	const char *err = NULL;
	memset(p, 0, sizeof *p);
	const char *s = skip_ws(text);
	if (!strncmp(s, "not", 3) && (s[3] == ' ' || s[3] == '\t')) {
		p->negate = true;
		s = skip_ws(s + 3);
	}

	if (!strncmp(s, "exists", 6) && (s[6] == ' ' || s[6] == '\t' || !s[6])) {
		p->op = OP_EXISTS;
		s = skip_ws(s + 6);
	} else if (!strncmp(s, "absent", 6) && (s[6] == ' ' || s[6] == '\t' || !s[6])) {
		p->op = OP_ABSENT;
		s = skip_ws(s + 6);
	} else {
		goto binary;
	}
	{
		size_t n = strcspn(s, " \t");
		if (!key_ok(s, n)) {
			snprintf(why, whysz, "bad fact key after '%s'", p->op == OP_EXISTS ? "exists" : "absent");
			return false;
		}
		if (*skip_ws(s + n)) {
			snprintf(why, whysz, "unexpected text after the key: '%s'", skip_ws(s + n));
			return false;
		}
		p->key = strndup(s, n);
		if (!p->key) {
			snprintf(why, whysz, "out of memory");
			return false;
		}
		return true;
	}

binary:;
	size_t kn = strcspn(s, " \t=!<>");
	if (!key_ok(s, kn)) {
		snprintf(why, whysz, "expected a fact key, 'exists KEY' or 'absent KEY'");
		return false;
	}
	const char *o = skip_ws(s + kn);
	size_t oplen = 0;
	for (size_t i = 0; i < sizeof binops / sizeof binops[0]; i++) {
		size_t l = strlen(binops[i].name);
		if (!strncmp(o, binops[i].name, l)) {
			bool word = binops[i].name[0] >= 'a';
			if (word && o[l] != ' ' && o[l] != '\t' && o[l] != '{')
				continue;
			p->op = binops[i].op;
			oplen = l;
			break;
		}
	}
	if (!oplen) {
		size_t on = strcspn(o, " \t");
		snprintf(why, whysz, "unknown operator '%.*s' (use == != < <= > >= in =~ is)",
		         (int)(on > 40 ? 40 : on), o);
		return false;
	}
	p->key = strndup(s, kn);
	if (!p->key) {
		snprintf(why, whysz, "out of memory");
		return false;
	}
	const char *v = skip_ws(o + oplen);
	size_t vn = strlen(v);

	switch (p->op) {
	case OP_EQ:
	case OP_NE:
		p->val = parse_value(v, vn, &err);
		if (!p->val)
			goto bad;
		p->isnum = parse_int(p->val, &p->num);
		return true;
	case OP_LT:
	case OP_LE:
	case OP_GT:
	case OP_GE: {
		char *t = parse_value(v, vn, &err);
		if (!t)
			goto bad;
		bool ok = parse_int(t, &p->num);
		if (!ok)
			snprintf(why, whysz, "'%s' needs an integer, not '%.40s'",
			         o[0] == '<' ? (o[1] == '=' ? "<=" : "<") : (o[1] == '=' ? ">=" : ">"), t);
		free(t);
		p->isnum = true;
		return ok;
	}
	case OP_IS:
		p->val = parse_value(v, vn, &err);
		if (!p->val)
			goto bad;
		if (strcmp(p->val, "true") && strcmp(p->val, "false")) {
			snprintf(why, whysz, "'is' takes true or false, not '%.40s'", p->val);
			return false;
		}
		return true;
	case OP_IN: {
		if (*v != '{' || vn < 2 || v[vn - 1] != '}') {
			snprintf(why, whysz, "'in' takes a set: {a, b, ...}");
			return false;
		}
		const char *q = v + 1, *end = v + vn - 1;
		p->set = calloc(RULE_MAX_SET, sizeof *p->set);
		if (!p->set) {
			snprintf(why, whysz, "out of memory");
			return false;
		}
		while (q <= end) {
			const char *c = memchr(q, ',', (size_t)(end - q));
			size_t n = c ? (size_t)(c - q) : (size_t)(end - q);
			if (memchr(q, '{', n) || memchr(q, '}', n)) {
				snprintf(why, whysz, "braces inside a set");
				return false;
			}
			if (p->nset == RULE_MAX_SET) {
				snprintf(why, whysz, "set with more than %d members", RULE_MAX_SET);
				return false;
			}
			char *m = parse_value(q, n, &err);
			if (!m) {
				snprintf(why, whysz, "set member %zu: %s", p->nset + 1, err);
				return false;
			}
			p->setnum[p->nset] = parse_int(m, &p->setval[p->nset]);
			p->set[p->nset++] = m;
			if (!c)
				break;
			q = c + 1;
		}
		return true;
	}
	case OP_RE: {
		if (*v != '/') {
			snprintf(why, whysz, "'=~' takes /regex/ with optional flag i");
			return false;
		}
		const char *close = strrchr(v, '/');
		if (close == v) {
			snprintf(why, whysz, "regex without a closing '/'");
			return false;
		}
		uint32_t opts = PCRE2_UTF;
		for (const char *f = close + 1; *f; f++) {
			if (*f == 'i')
				opts |= PCRE2_CASELESS;
			else if (*f != ' ' && *f != '\t') {
				snprintf(why, whysz, "unknown regex flag '%c' (only i)", *f);
				return false;
			}
		}
		int ec;
		PCRE2_SIZE eo;
		p->re = pcre2_compile((PCRE2_SPTR)(v + 1), (PCRE2_SIZE)(close - v - 1), opts, &ec, &eo,
		                      NULL);
		if (!p->re) {
			PCRE2_UCHAR m[160];
			pcre2_get_error_message(ec, m, sizeof m);
			snprintf(why, whysz, "regex does not compile at offset %zu: %s", (size_t)eo,
			         (const char *)m);
			return false;
		}
		p->jit = pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE) == 0;
		return true;
	}
	default:
		break;
	}
	snprintf(why, whysz, "internal: unhandled operator");
	return false;
bad:
	snprintf(why, whysz, "%s", err ? err : "bad value");
	return false;
}

/* ---- rule files ----------------------------------------------------------------- */

enum { K_ID, K_TITLE, K_ERRORS, K_SEVERITY, K_PRIORITY, K_WHEN, K_CAUSE, K_FIX, K_REFS,
       K_INFERRED, K_COUNT };
static const char *const key_names[K_COUNT] = {
	"id", "title", "errors", "severity", "priority", "when", "cause", "fix", "refs", "inferred",
};

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static bool split_list(const char *v, char sep, char **items, size_t max, size_t *n)
{
	*n = 0;
	const char *q = v;
	for (;;) {
		const char *c = strchr(q, sep);
		size_t len = c ? (size_t)(c - q) : strlen(q);
		while (len > 0 && (*q == ' ' || *q == '\t')) {
			q++;
			len--;
		}
		while (len > 0 && (q[len - 1] == ' ' || q[len - 1] == '\t'))
			len--;
		if (len > 0) {
			if (*n == max)
				return false;
			items[*n] = strndup(q, len);
			if (!items[*n])
				return false;
			(*n)++;
		}
		if (!c)
			break;
		q = c + 1;
	}
	return true;
}

static bool ruleset_push(struct ruleset *rs, struct rentry *e)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct rentry **nv = realloc(rs->v, cap * sizeof *nv);
		if (!nv)
			return false;
		rs->v = nv;
		rs->cap = cap;
	}
	rs->v[rs->n++] = e;
	return true;
}

/* Parse one rule file and add it to `rs`; problems go to `pb`. */
static void parse_rule_file(struct ruleset *rs, const char *file, const char *data, size_t len,
                            struct problems *pb)
{
	struct rentry *e = calloc(1, sizeof *e);
	if (!e) {
		problem(pb, file, 0, 0, "-", "out of memory");
		return;
	}
	e->r.priority = 50;
	e->r.severity = -1;
	int seen[K_COUNT] = {0};
	size_t before = pb->count;
	struct kv_reader rd;
	struct kv kv;
	char msg[256];
	kv_init(&rd, file, data, len);
	for (int guard = 0; guard < 100000; guard++) {
		int rc = kv_next(&rd, &kv, msg, sizeof msg);
		if (rc == 0)
			break;
		if (rc < 0) {
			problem(pb, file, kv.line, kv.col, kv.key, "%s", msg);
			continue;
		}
		int k = 0;
		while (k < K_COUNT && strcmp(key_names[k], kv.key))
			k++;
		if (k == K_COUNT) {
			problem(pb, file, kv.line, 1, kv.key,
			        "unknown key (known: id title errors severity priority when cause fix "
			        "refs inferred)");
			free(kv.val);
			continue;
		}
		if (seen[k] && k != K_WHEN && k != K_ERRORS && k != K_REFS) {
			problem(pb, file, kv.line, 1, kv.key, "given twice (first on line %d)", seen[k]);
			free(kv.val);
			continue;
		}
		if (!seen[k])
			seen[k] = kv.line;
		if (!*kv.val && k != K_CAUSE && k != K_FIX) {
			problem(pb, file, kv.line, kv.col, kv.key, "empty value");
			free(kv.val);
			continue;
		}
		switch (k) {
		case K_ID:
			if (!id_ok(kv.val)) {
				problem(pb, file, kv.line, kv.col, kv.key,
				        "'%.60s' is not a dotted id of [a-z0-9_-] words", kv.val);
				break;
			}
			{
				const char *b = base_name(file);
				size_t il = strlen(kv.val);
				if (strncmp(b, kv.val, il) || strcmp(b + il, ".rule"))
					problem(pb, file, kv.line, kv.col, kv.key,
					        "'%s' does not match the file name (expected %s.rule)", kv.val,
					        kv.val);
			}
			e->r.id = kv.val;
			e->r.line = kv.line;
			kv.val = NULL;
			break;
		case K_TITLE:
			if (strchr(kv.val, '\n'))
				problem(pb, file, kv.line, kv.col, kv.key, "must be one paragraph");
			e->r.title = kv.val;
			kv.val = NULL;
			break;
		case K_CAUSE:
		case K_FIX:
			if (!*kv.val) {
				problem(pb, file, kv.line, kv.col, kv.key, "empty text");
				break;
			}
			if (k == K_CAUSE)
				e->r.cause = kv.val;
			else
				e->r.fix = kv.val;
			kv.val = NULL;
			break;
		case K_SEVERITY:
			if (!strcmp(kv.val, "info"))
				e->r.severity = 0;
			else if (!strcmp(kv.val, "warning"))
				e->r.severity = 1;
			else if (!strcmp(kv.val, "error"))
				e->r.severity = 2;
			else
				problem(pb, file, kv.line, kv.col, kv.key, "'%.40s' is not info, warning or error",
				        kv.val);
			break;
		case K_PRIORITY: {
			int64_t v;
			if (!parse_int(kv.val, &v) || v < 0 || v > PRIORITY_MAX)
				problem(pb, file, kv.line, kv.col, kv.key, "'%.40s' is not an integer 0..%d", kv.val,
				        PRIORITY_MAX);
			else
				e->r.priority = (int)v;
			break;
		}
		case K_INFERRED:
			if (!strcmp(kv.val, "true"))
				e->r.inferred = true;
			else if (!strcmp(kv.val, "false"))
				e->r.inferred = false;
			else
				problem(pb, file, kv.line, kv.col, kv.key, "'%.40s' is not true or false", kv.val);
			break;
		case K_ERRORS: {
			if (!e->r.errors_line)
				e->r.errors_line = kv.line;
			char *items[RULE_MAX_ERRORS + 1];
			size_t n;
			bool ok = split_list(kv.val, ',', items, RULE_MAX_ERRORS + 1, &n);
			for (size_t i = 0; i < n; i++) {
				int64_t v;
				if (!parse_int(items[i], &v) || v <= 0 || v > 99999) {
					problem(pb, file, kv.line, kv.col, kv.key,
					        "'%.40s' is not a Windows error code (1..99999)", items[i]);
				} else if (e->r.nerrors == RULE_MAX_ERRORS) {
					ok = false;
				} else {
					bool dup = false;
					for (size_t j = 0; j < e->r.nerrors; j++)
						dup |= e->errs[j] == (int)v;
					if (dup)
						problem(pb, file, kv.line, kv.col, kv.key, "%d listed twice", (int)v);
					else
						e->errs[e->r.nerrors++] = (int)v;
				}
				free(items[i]);
			}
			if (!ok)
				problem(pb, file, kv.line, kv.col, kv.key, "more than %d codes", RULE_MAX_ERRORS);
			break;
		}
		case K_REFS: {
			size_t n;
			if (!split_list(kv.val, ';', e->refs + e->r.nrefs, RULE_MAX_REFS - e->r.nrefs, &n))
				problem(pb, file, kv.line, kv.col, kv.key, "more than %d references", RULE_MAX_REFS);
			e->r.nrefs += n;
			break;
		}
		case K_WHEN: {
			if (e->npats == RULE_MAX_PATTERNS) {
				problem(pb, file, kv.line, kv.col, kv.key, "more than %d patterns", RULE_MAX_PATTERNS);
				break;
			}
			char why[256];
			struct pat *p = &e->pats[e->npats];
			if (!parse_pattern(kv.val, p, why, sizeof why)) {
				pat_free(p);
				problem(pb, file, kv.line, kv.col, kv.key, "%s", why);
				break;
			}
			e->npats++;
			e->when[e->r.nwhen++] = kv.val;
			kv.val = NULL;
			break;
		}
		}
		free(kv.val);
	}
	static const int required[] = {K_ID, K_TITLE, K_SEVERITY, K_WHEN, K_CAUSE, K_FIX};
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!seen[required[i]])
			problem(pb, file, 1, 1, key_names[required[i]],
			        "missing (required)");
	if (e->r.id) {
		for (size_t i = 0; i < rs->n; i++)
			if (!strcmp(rs->v[i]->r.id, e->r.id)) {
				problem(pb, file, e->r.line, 1, "id", "'%s' already defined in %s:%d", e->r.id,
				        rs->v[i]->r.file, rs->v[i]->r.line);
				break;
			}
	}
	e->r.file = strdup(file);
	if (!e->r.file)
		problem(pb, file, 0, 0, "-", "out of memory");
	if (pb->count != before || !ruleset_push(rs, e)) {
		rentry_free(e);
		return;
	}
	e->r.errors = e->errs;
	e->r.refs = (const char *const *)e->refs;
	e->r.when = (const char *const *)e->when;
}

static int cmp_rule_id(const void *a, const void *b)
{
	const struct rentry *x = *(const struct rentry *const *)a;
	const struct rentry *y = *(const struct rentry *const *)b;
	return strcmp(x->r.id, y->r.id);
}

static uint32_t key_hash(const char *k)
{
	uint32_t h = 2166136261u;
	for (; *k; k++)
		h = (h ^ (uint8_t)*k) * 16777619u;
	return h;
}

/* The slot of `key`: where it is, or the empty slot where it would go. */
static size_t key_slot(const struct ruleset *rs, const char *key)
{
	size_t mask = rs->nslots - 1, i = key_hash(key) & mask;
	for (size_t probe = 0; probe < rs->nslots; probe++, i = (i + 1) & mask) {
		uint32_t v = rs->slots[i];
		if (v == 0 || !strcmp(rs->keys[v - 1], key))
			return i;
	}
	return 0; /* not reached: the table is never more than half full */
}

/* Intern the keys of every pattern (see struct ruleset). */
static bool index_keys(struct ruleset *rs)
{
	size_t npats = 0;
	for (size_t i = 0; i < rs->n; i++)
		npats += rs->v[i]->npats;
	rs->nslots = 16;
	while (rs->nslots < 2 * npats + 2)
		rs->nslots *= 2;
	rs->keys = calloc(npats + 1, sizeof *rs->keys);
	rs->slots = calloc(rs->nslots, sizeof *rs->slots);
	rs->first = calloc(npats + 1, sizeof *rs->first);
	if (!rs->keys || !rs->slots || !rs->first)
		return false;
	for (size_t i = 0; i < rs->n; i++)
		for (size_t j = 0; j < rs->v[i]->npats; j++) {
			struct pat *p = &rs->v[i]->pats[j];
			size_t slot = key_slot(rs, p->key);
			if (!rs->slots[slot]) {
				rs->keys[rs->nkeys] = p->key;
				rs->slots[slot] = (uint32_t)++rs->nkeys;
			}
			p->kidx = rs->slots[slot] - 1;
		}
	return true;
}

static struct ruleset *finish(struct ruleset *rs, struct problems *pb, char **problems)
{
	if (pb->count) {
		if (problems)
			*problems = pb->text.p;
		else
			free(pb->text.p);
		rules_free(rs);
		return NULL;
	}
	free(pb->text.p);
	if (problems)
		*problems = NULL;
	if (rs->n)
		qsort(rs->v, rs->n, sizeof *rs->v, cmp_rule_id);
	if (!index_keys(rs)) {
		if (problems)
			*problems = strdup("out of memory\n");
		rules_free(rs);
		return NULL;
	}
	return rs;
}

struct ruleset *rules_load_buffer(const char *name, const char *data, size_t len,
                                  char **problems)
{
	struct problems pb = {0};
	struct ruleset *rs = ruleset_new();
	if (!rs) {
		if (problems)
			*problems = strdup("out of memory\n");
		return NULL;
	}
	parse_rule_file(rs, name, data, len, &pb);
	return finish(rs, &pb, problems);
}

/* ---- directories and the embedded copy ------------------------------------------ */

struct pathlist {
	char **v;
	size_t n, cap;
};

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

static void collect(const char *dir, int depth, struct pathlist *pl, struct problems *pb)
{
	if (depth > RULES_MAX_DEPTH) {
		problem(pb, dir, 0, 0, "-", "directories nested deeper than %d levels", RULES_MAX_DEPTH);
		return;
	}
	DIR *d = opendir(dir);
	if (!d) {
		problem(pb, dir, 0, 0, "-", "cannot open directory: %s", strerror(errno));
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[PATH_MAX];
		int w = snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (w < 0 || (size_t)w >= sizeof path)
			continue;
		struct stat st;
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			collect(path, depth + 1, pl, pb);
			continue;
		}
		if (!ends_with(de->d_name, ".rule"))
			continue;
		if (!S_ISREG(st.st_mode)) {
			problem(pb, path, 0, 0, "-", "not a regular file (%s)", file_kind_phrase(st.st_mode));
			continue;
		}
		if (pl->n >= RULES_MAX_FILES) {
			problem(pb, path, 0, 0, "-", "more than %d rule files", RULES_MAX_FILES);
			break;
		}
		if (pl->n == pl->cap) {
			size_t cap = pl->cap ? pl->cap * 2 : 64;
			char **nv = realloc(pl->v, cap * sizeof *nv);
			if (!nv)
				break;
			pl->v = nv;
			pl->cap = cap;
		}
		pl->v[pl->n] = strdup(path);
		if (pl->v[pl->n])
			pl->n++;
	}
	closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}


struct ruleset *rules_load_dir(const char *dir, char **problems)
{
	struct problems pb = {0};
	struct ruleset *rs = ruleset_new();
	if (!rs) {
		if (problems)
			*problems = strdup("out of memory\n");
		return NULL;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		problem(&pb, dir, 0, 0, "-", "%s", stat(dir, &st) != 0 ? strerror(errno) : "not a directory");
		return finish(rs, &pb, problems);
	}
	struct pathlist pl = {0};
	collect(dir, 0, &pl, &pb);
	if (pl.n)
		qsort(pl.v, pl.n, sizeof *pl.v, cmp_str);
	for (size_t i = 0; i < pl.n; i++) {
		size_t len;
		char why[160];
		char *data = file_read_regular(pl.v[i], RULES_MAX_FILE_SIZE, &len, why, sizeof why);
		if (!data)
			problem(&pb, pl.v[i], 0, 0, "-", "%s", why);
		else
			parse_rule_file(rs, pl.v[i], data, len, &pb);
		free(data);
		free(pl.v[i]);
	}
	free(pl.v);
	if (!pb.count && rs->n == 0)
		problem(&pb, dir, 0, 0, "-", "no *.rule files");
	/* The catalogues that come with the rules are checked as strictly as the rules:
	 * a knowledge base with a broken catalogue does not load. */
	char *cat = NULL;
	size_t ncat = catalog_check_dir(dir, &cat);
	problems_add_text(&pb, cat, ncat);
	free(cat);
	return finish(rs, &pb, problems);
}

struct ruleset *rules_load_default(struct diag_err *err)
{
	struct problems pb = {0};
	struct ruleset *rs = ruleset_new();
	if (!rs) {
		if (err)
			diag_err_set(err, 0, "out of memory");
		return NULL;
	}
	for (const struct embedded_file *f = vnet_embedded; f->name; f++) {
		if (strncmp(f->name, "rules/", 6) || !ends_with(f->name, ".rule"))
			continue;
		parse_rule_file(rs, f->name, (const char *)f->data, f->len, &pb);
	}
	if (!pb.count && rs->n == 0)
		problem(&pb, "rules", 0, 0, "-", "no rules embedded");
	char *problems = NULL;
	rs = finish(rs, &pb, &problems);
	if (!rs && err) {
		char *nl = problems ? strchr(problems, '\n') : NULL;
		if (nl)
			*nl = '\0';
		diag_err_set(err, 0, "embedded rules: %s", problems ? problems : "out of memory");
	}
	free(problems);
	return rs;
}

struct ruleset *rules_load(const char *dir_or_null, char **problems)
{
	if (dir_or_null)
		return rules_load_dir(dir_or_null, problems);
	struct diag_err err;
	diag_err_clear(&err);
	struct ruleset *rs = rules_load_default(&err);
	if (!rs && problems) {
		size_t n = strlen(err.reason);
		*problems = malloc(n + 2);
		if (*problems) {
			memcpy(*problems, err.reason, n);
			(*problems)[n] = '\n';
			(*problems)[n + 1] = '\0';
		}
	}
	return rs;
}

/* ---- access ------------------------------------------------------------------------ */

size_t rules_count(const struct ruleset *rs) { return rs ? rs->n : 0; }

const struct rule *rules_at(const struct ruleset *rs, size_t i)
{
	return rs && i < rs->n ? &rs->v[i]->r : NULL;
}

const struct rule *rules_find(const struct ruleset *rs, const char *id)
{
	if (!rs || !id)
		return NULL;
	size_t lo = 0, hi = rs->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(rs->v[mid]->r.id, id);
		if (c == 0)
			return &rs->v[mid]->r;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *rules_pattern_key(const struct rule *r, size_t i)
{
	const struct rentry *e = (const struct rentry *)r; /* r is the first member */
	return i < e->npats ? e->pats[i].key : NULL;
}

size_t rules_for_error(const struct ruleset *rs, int code, const struct rule **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; rs && i < rs->n; i++) {
		const struct rule *r = &rs->v[i]->r;
		bool has = false;
		for (size_t j = 0; j < r->nerrors; j++)
			has |= r->errors[j] == code;
		if (!has)
			continue;
		/* insertion by priority (desc), then id (asc: rules are sorted by id already) */
		size_t pos = n;
		while (pos > 0 && out[pos - 1]->priority < r->priority)
			pos--;
		if (pos >= max)
			continue;
		size_t last = n < max ? n : max - 1;
		for (size_t k = last; k > pos; k--)
			out[k] = out[k - 1];
		out[pos] = r;
		if (n < max)
			n++;
	}
	return n;
}

/* ---- matching --------------------------------------------------------------------- */

static bool fact_num(const struct fact *f, int64_t *v)
{
	switch (f->type) {
	case FACT_INT:
	case FACT_TIME:
	case FACT_BOOL:
		*v = f->i;
		return true;
	case FACT_STR:
	case FACT_ADDR:
		return f->s && parse_int(f->s, v);
	}
	return false;
}

static bool value_eq(const struct fact *f, const char *val, bool isnum, int64_t num)
{
	int64_t v;
	if ((f->type == FACT_INT || f->type == FACT_TIME) && isnum)
		return fact_num(f, &v) && v == num;
	char buf[32];
	const char *t = fact_value_str(f, buf, sizeof buf);
	return t && !strcmp(t, val);
}

static bool pat_holds_on(const struct ruleset *rs, const struct pat *p, const struct fact *f)
{
	int64_t v;
	switch (p->op) {
	case OP_EQ:
		return value_eq(f, p->val, p->isnum, p->num);
	case OP_NE:
		return !value_eq(f, p->val, p->isnum, p->num);
	case OP_LT:
		return fact_num(f, &v) && v < p->num;
	case OP_LE:
		return fact_num(f, &v) && v <= p->num;
	case OP_GT:
		return fact_num(f, &v) && v > p->num;
	case OP_GE:
		return fact_num(f, &v) && v >= p->num;
	case OP_IN:
		for (size_t i = 0; i < p->nset; i++)
			if (value_eq(f, p->set[i], p->setnum[i], p->setval[i]))
				return true;
		return false;
	case OP_IS: {
		char buf[32];
		const char *t = fact_value_str(f, buf, sizeof buf);
		if (f->type == FACT_BOOL)
			return (f->i != 0) == (p->val[0] == 't');
		return t && !strcmp(t, p->val);
	}
	case OP_RE: {
		char buf[32];
		const char *t = fact_value_str(f, buf, sizeof buf);
		if (!t)
			return false;
		int rc = p->jit ? pcre2_jit_match(p->re, (PCRE2_SPTR)t, strlen(t), 0, 0, rs->md, NULL)
		                : pcre2_match(p->re, (PCRE2_SPTR)t, strlen(t), 0, 0, rs->md, NULL);
		return rc >= 0;
	}
	case OP_EXISTS:
		return true;
	case OP_ABSENT:
		return false;
	}
	return false;
}

/* Whether `e` holds over `facts`; fills the evidence of `m`. */
static bool rule_holds(const struct ruleset *rs, const struct rentry *e,
                       const struct facts *facts, struct rule_match *m)
{
	m->nevidence = 0;
	for (size_t i = 0; i < e->npats; i++) {
		const struct pat *p = &e->pats[i];
		const struct fact *f = rs->first[p->kidx];
		const struct fact *hit = NULL;
		bool any;
		if (p->op == OP_ABSENT) {
			any = f == NULL;
		} else {
			for (size_t guard = 0; f && guard < 1000000; guard++, f = facts_next(facts, f))
				if (pat_holds_on(rs, p, f)) {
					hit = f;
					break;
				}
			any = hit != NULL;
		}
		if (any == p->negate)
			return false;
		if (!hit || p->negate)
			continue;
		bool dup = false;
		for (size_t j = 0; j < m->nevidence; j++)
			dup |= m->evidence[j] == hit;
		if (!dup && m->nevidence < RULE_MAX_EVIDENCE)
			m->evidence[m->nevidence++] = hit;
	}
	return true;
}

static bool ranks_before(const struct rule_match *a, const struct rule_match *b)
{
	if (a->score != b->score)
		return a->score > b->score;
	return strcmp(a->rule->id, b->rule->id) < 0;
}

size_t rules_match(const struct ruleset *rs, const struct facts *facts,
                   struct rule_match *out, size_t max)
{
	size_t n = 0;
	if (!rs || !facts || !out || max == 0)
		return 0;
	/* the first fact of every key the patterns use */
	memset(rs->first, 0, rs->nkeys * sizeof *rs->first);
	for (size_t i = 0, nf = facts_count(facts); i < nf; i++) {
		const struct fact *f = facts_at(facts, i);
		uint32_t v = rs->slots[key_slot(rs, f->key)];
		if (v && !rs->first[v - 1])
			rs->first[v - 1] = f;
	}
	for (size_t i = 0; i < rs->n; i++) {
		const struct rentry *e = rs->v[i];
		struct rule_match m;
		m.rule = &e->r;
		m.score = (int)e->npats * (PRIORITY_MAX + 1) + e->r.priority;
		if (!rule_holds(rs, e, facts, &m))
			continue;
		size_t pos = n;
		while (pos > 0 && ranks_before(&m, &out[pos - 1]))
			pos--;
		if (pos >= max)
			continue;
		size_t last = n < max ? n : max - 1;
		for (size_t k = last; k > pos; k--)
			out[k] = out[k - 1];
		out[pos] = m;
		if (n < max)
			n++;
	}
	return n;
}
