/* Windows error and NPS reason catalogues (see catalog.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "rules/catalog.h"
#include "policy/embedded.h"
#include "readfile.h"
#include "rules/rules.h"

#define CATALOG_MAX_ENTRIES 4096
#define CATALOG_MAX_FILE (1024 * 1024)

struct catalog {
	struct catalog_entry *v;
	size_t n, cap;
};

static const char *const cat_file[] = {
	[CATALOG_WINDOWS] = "windows-errors.cat",
	[CATALOG_NPS] = "nps-reasons.cat",
};

struct cproblems {
	struct textbuf text;
	size_t count;
};

/* "FILE:LINE:COL: key: reason" (as rule files), "FILE: reason" without a line. */
static void cproblem(struct cproblems *pb, const char *file, int line, int col,
                     const char *key, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static void cproblem(struct cproblems *pb, const char *file, int line, int col,
                     const char *key, const char *fmt, ...)
{
	char msg[400], l[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int w = line > 0 ? snprintf(l, sizeof l, "%s:%d:%d: %s: %s\n", file, line,
	                            col > 0 ? col : 1, key, msg)
	                 : snprintf(l, sizeof l, "%s: %s\n", file, msg);
	pb->count++;
	if (w < 0)
		return;
	size_t len = (size_t)w < sizeof l ? (size_t)w : sizeof l - 1;
	textbuf_append(&pb->text, l, len);
}

static void entry_free(struct catalog_entry *e)
{
	free((char *)e->name);
	free((char *)e->message);
	free((char *)e->file);
	for (size_t i = 0; i < e->nevents; i++)
		free((char *)e->events[i]);
	memset(e, 0, sizeof *e);
}

void catalog_free(struct catalog *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		entry_free(&c->v[i]);
	free(c->v);
	free(c);
}

static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* Check and store the record in `cur` (if any); resets `cur`. */
static void close_record(struct catalog *c, struct catalog_entry *cur, bool *open,
                         enum catalog_kind kind, const char *file, struct cproblems *pb)
{
	if (!*open)
		return;
	*open = false;
	bool ok = true;
	char cs[24];
	catalog_code_str(cur->code, cs, sizeof cs);
	if (!cur->message) {
		cproblem(pb, file, cur->line, 1, "message", "missing for code %s", cs);
		ok = false;
	}
	if (!cur->name && kind == CATALOG_WINDOWS) {
		cproblem(pb, file, cur->line, 1, "name", "missing for code %s", cs);
		ok = false;
	}
	for (size_t i = 0; ok && i < c->n; i++)
		if (c->v[i].code == cur->code) {
			cproblem(pb, file, cur->line, cur->col, "code", "%s already listed on line %d",
			         cs, c->v[i].line);
			ok = false;
		}
	if (ok && c->n == CATALOG_MAX_ENTRIES) {
		cproblem(pb, file, cur->line, cur->col, "code", "more than %d entries",
		         CATALOG_MAX_ENTRIES);
		ok = false;
	}
	if (ok && c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 128;
		struct catalog_entry *nv = realloc(c->v, cap * sizeof *nv);
		if (!nv)
			ok = false;
		else {
			c->v = nv;
			c->cap = cap;
		}
	}
	if (ok && !cur->name)
		cur->name = strdup("");
	if (ok)
		cur->file = strdup(file);
	if (!ok || !cur->name || !cur->file) {
		entry_free(cur);
		return;
	}
	c->v[c->n++] = *cur;
	memset(cur, 0, sizeof *cur);
}

static int cmp_code(const void *a, const void *b)
{
	int64_t x = ((const struct catalog_entry *)a)->code;
	int64_t y = ((const struct catalog_entry *)b)->code;
	return (x > y) - (x < y);
}

struct catalog *catalog_load_buffer(const char *file, const char *data, size_t len,
                                    enum catalog_kind kind, char **problems)
{
	struct cproblems pb = {0};
	struct catalog *c = calloc(1, sizeof *c);
	struct catalog_entry cur;
	memset(&cur, 0, sizeof cur);
	bool open = false, skipping = false;
	if (!c) {
		if (problems)
			*problems = strdup("out of memory\n");
		return NULL;
	}
	struct kv_reader rd;
	struct kv kv;
	char msg[256];
	kv_init(&rd, file, data, len);
	for (int guard = 0; guard < 1000000; guard++) {
		int rc = kv_next(&rd, &kv, msg, sizeof msg);
		if (rc == 0)
			break;
		if (rc < 0) {
			cproblem(&pb, file, kv.line, kv.col, *kv.key ? kv.key : "-", "%s", msg);
			continue;
		}
		if (!strcmp(kv.key, "code")) {
			close_record(c, &cur, &open, kind, file, &pb);
			int64_t v;
			if (!catalog_parse_code(kv.val, &v) || kv.val[0] == '-') {
				cproblem(&pb, file, kv.line, kv.col, "code", "'%.40s' is not a code 0..%d or "
				         "an HRESULT 0x80000000..0xFFFFFFFF", kv.val, CATALOG_CODE_MAX);
				skipping = true;
			} else {
				cur.code = v;
				cur.line = kv.line;
				cur.col = kv.col;
				open = true;
				skipping = false;
			}
		} else if (!open) {
			/* the fields of a record whose code line was rejected are not reported again */
			if (!skipping)
				cproblem(&pb, file, kv.line, 1, kv.key,
				         "outside a record (records start with code:)");
		} else if (!strcmp(kv.key, "name")) {
			if (cur.name)
				cproblem(&pb, file, kv.line, 1, kv.key, "given twice");
			else if (!name_ok(kv.val))
				cproblem(&pb, file, kv.line, kv.col, kv.key,
				         "'%.60s' is not an UPPER_CASE symbol", kv.val);
			else {
				cur.name = kv.val;
				kv.val = NULL;
			}
		} else if (!strcmp(kv.key, "message")) {
			if (cur.message)
				cproblem(&pb, file, kv.line, 1, kv.key, "given twice");
			else if (!*kv.val)
				cproblem(&pb, file, kv.line, kv.col, kv.key, "empty value");
			else {
				cur.message = kv.val;
				kv.val = NULL;
			}
		} else if (!strcmp(kv.key, "event")) {
			if (!*kv.val)
				cproblem(&pb, file, kv.line, kv.col, kv.key, "empty value");
			else if (cur.nevents == CATALOG_MAX_EVENTS)
				cproblem(&pb, file, kv.line, kv.col, kv.key, "more than %d events",
				         CATALOG_MAX_EVENTS);
			else {
				cur.events[cur.nevents++] = kv.val;
				kv.val = NULL;
			}
		} else if (!strcmp(kv.key, "inferred")) {
			if (!strcmp(kv.val, "true") || !strcmp(kv.val, "false"))
				cur.inferred = kv.val[0] == 't';
			else
				cproblem(&pb, file, kv.line, kv.col, kv.key, "'%.40s' is not true or false",
				         kv.val);
		} else {
			cproblem(&pb, file, kv.line, 1, kv.key,
			         "unknown key (known: code name message event inferred)");
		}
		free(kv.val);
	}
	close_record(c, &cur, &open, kind, file, &pb);
	if (!pb.count && c->n == 0)
		cproblem(&pb, file, 0, 0, "-", "no entries");
	if (pb.count) {
		if (problems)
			*problems = pb.text.p;
		else
			free(pb.text.p);
		catalog_free(c);
		return NULL;
	}
	free(pb.text.p);
	if (problems)
		*problems = NULL;
	qsort(c->v, c->n, sizeof *c->v, cmp_code);
	return c;
}

static struct catalog *load_file(const char *path, enum catalog_kind kind, char **problems)
{
	char why[160];
	size_t n = 0;
	char *buf = file_read_regular(path, CATALOG_MAX_FILE, &n, why, sizeof why);
	if (!buf) {
		if (problems) {
			size_t l = strlen(path) + strlen(why) + 4;
			if ((*problems = malloc(l)))
				snprintf(*problems, l, "%s: %s\n", path, why);
		}
		return NULL;
	}
	struct catalog *c = catalog_load_buffer(path, buf, n, kind, problems);
	free(buf);
	return c;
}

struct catalog *catalog_load(enum catalog_kind kind, const char *dir, char **problems)
{
	if (problems)
		*problems = NULL;
	if (dir) {
		char path[4096];
		snprintf(path, sizeof path, "%s/catalog/%s", dir, cat_file[kind]);
		struct stat st;
		if (lstat(path, &st) == 0 || errno != ENOENT)
			return load_file(path, kind, problems);
	}
	char name[128];
	snprintf(name, sizeof name, "rules/catalog/%s", cat_file[kind]);
	const struct embedded_file *f = embedded_find(name);
	if (!f) {
		if (problems) {
			char m[200];
			snprintf(m, sizeof m, "%s: not embedded\n", name);
			*problems = strdup(m);
		}
		return NULL;
	}
	return catalog_load_buffer(name, (const char *)f->data, f->len, kind, problems);
}

static void append(char **all, size_t *len, const char *text)
{
	size_t tl = strlen(text);
	char *n = realloc(*all, *len + tl + 1);
	if (!n)
		return;
	memcpy(n + *len, text, tl + 1);
	*all = n;
	*len += tl;
}

size_t catalog_check_dir(const char *dir, char **problems)
{
	char *all = NULL;
	size_t len = 0, count = 0;
	char cdir[4096];
	snprintf(cdir, sizeof cdir, "%s/catalog", dir);
	DIR *d = opendir(cdir);
	if (!d) {
		*problems = NULL;
		return 0; /* no catalog/: the embedded catalogues are used */
	}
	/* Names ending in .cat that are not one of ours: a misspelt catalogue would be
	 * ignored silently otherwise. Bounded by the directory; sorted for stable output. */
	char *unknown[64];
	size_t nunknown = 0, more = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *nm = de->d_name;
		size_t l = strlen(nm);
		if (nm[0] == '.' || l < 4 || strcmp(nm + l - 4, ".cat"))
			continue;
		bool known = false;
		for (size_t k = 0; k < sizeof cat_file / sizeof cat_file[0]; k++)
			known |= !strcmp(nm, cat_file[k]);
		if (known)
			continue;
		if (nunknown < sizeof unknown / sizeof unknown[0] && (unknown[nunknown] = strdup(nm)))
			nunknown++;
		else
			more++;
	}
	closedir(d);
	for (size_t i = 1; i < nunknown; i++) /* insertion sort: at most 64 names */
		for (size_t j = i; j > 0 && strcmp(unknown[j - 1], unknown[j]) > 0; j--) {
			char *t = unknown[j];
			unknown[j] = unknown[j - 1];
			unknown[j - 1] = t;
		}
	for (size_t k = 0; k < sizeof cat_file / sizeof cat_file[0]; k++) {
		char *p = NULL;
		struct catalog *c = catalog_load((enum catalog_kind)k, dir, &p);
		if (!c) {
			for (const char *q = p ? p : ""; *q; q++)
				count += *q == '\n';
			append(&all, &len, p ? p : "");
		}
		catalog_free(c);
		free(p);
	}
	for (size_t i = 0; i < nunknown; i++) {
		char m[4400];
		snprintf(m, sizeof m, "%s/%s: not a catalogue vnet reads (windows-errors.cat, "
		         "nps-reasons.cat)\n", cdir, unknown[i]);
		append(&all, &len, m);
		count++;
		free(unknown[i]);
	}
	if (more) {
		char m[4400];
		snprintf(m, sizeof m, "%s: %zu more files ending in .cat\n", cdir, more);
		append(&all, &len, m);
		count++;
	}
	*problems = all;
	return count;
}

size_t catalog_count(const struct catalog *c) { return c ? c->n : 0; }

const struct catalog_entry *catalog_at(const struct catalog *c, size_t i)
{
	return c && i < c->n ? &c->v[i] : NULL;
}

const struct catalog_entry *catalog_find(const struct catalog *c, int64_t code)
{
	size_t lo = 0, hi = c ? c->n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->v[mid].code == code)
			return &c->v[mid];
		if (c->v[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct catalog_entry *catalog_find_name(const struct catalog *c, const char *name)
{
	for (size_t i = 0; c && name && *name && i < c->n; i++)
		if (!strcasecmp(c->v[i].name, name))
			return &c->v[i];
	return NULL;
}

bool catalog_parse_code(const char *s, int64_t *code)
{
	if (!s || !*s)
		return false;
	/* decimal, or hexadecimal after 0x; never octal: "0787" is not a code */
	const char *d = s[0] == '-' || s[0] == '+' ? s + 1 : s;
	int base = d[0] == '0' && (d[1] == 'x' || d[1] == 'X') ? 16 : 10;
	if (base == 16 && s != d)
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, base);
	if (errno || *end || end == s || !(d[0] >= '0' && d[0] <= '9'))
		return false;
	if (v < 0 && v >= -0x80000000LL)
		v += 0x100000000LL; /* an HRESULT printed as a signed 32-bit number */
	if ((v >= 0 && v <= CATALOG_CODE_MAX) ||
	    (v >= CATALOG_HRESULT_MIN && v <= CATALOG_HRESULT_MAX)) {
		*code = v;
		return true;
	}
	return false;
}

const char *catalog_code_str(int64_t code, char *buf, size_t bufsz)
{
	if (code >= CATALOG_HRESULT_MIN)
		snprintf(buf, bufsz, "0x%08" PRIX64, code);
	else
		snprintf(buf, bufsz, "%" PRId64, code);
	return buf;
}
