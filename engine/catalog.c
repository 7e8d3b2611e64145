/* Windows error and NPS reason catalogues (see catalog.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "catalog.h"
#include "embedded.h"
#include "rules.h"

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
	char *p;
	size_t n, cap, count;
};

static void cproblem(struct cproblems *pb, const char *file, int line, const char *key,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void cproblem(struct cproblems *pb, const char *file, int line, const char *key,
                     const char *fmt, ...)
{
	char msg[400], l[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int w = line > 0 ? snprintf(l, sizeof l, "%s:%d: %s: %s\n", file, line, key, msg)
	                 : snprintf(l, sizeof l, "%s: %s\n", file, msg);
	pb->count++;
	if (w < 0)
		return;
	size_t len = (size_t)w < sizeof l ? (size_t)w : sizeof l - 1;
	if (pb->n + len + 1 > pb->cap) {
		size_t cap = pb->cap ? pb->cap * 2 : 512;
		while (cap < pb->n + len + 1)
			cap *= 2;
		char *np = realloc(pb->p, cap);
		if (!np)
			return;
		pb->p = np;
		pb->cap = cap;
	}
	memcpy(pb->p + pb->n, l, len);
	pb->n += len;
	pb->p[pb->n] = '\0';
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
	if (!cur->message) {
		cproblem(pb, file, cur->line, "message", "missing for code %d", cur->code);
		ok = false;
	}
	if (!cur->name && kind == CATALOG_WINDOWS) {
		cproblem(pb, file, cur->line, "name", "missing for code %d", cur->code);
		ok = false;
	}
	for (size_t i = 0; ok && i < c->n; i++)
		if (c->v[i].code == cur->code) {
			cproblem(pb, file, cur->line, "code", "%d already listed on line %d", cur->code,
			         c->v[i].line);
			ok = false;
		}
	if (ok && c->n == CATALOG_MAX_ENTRIES) {
		cproblem(pb, file, cur->line, "code", "more than %d entries", CATALOG_MAX_ENTRIES);
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
	int x = ((const struct catalog_entry *)a)->code, y = ((const struct catalog_entry *)b)->code;
	return (x > y) - (x < y);
}

struct catalog *catalog_load_buffer(const char *file, const char *data, size_t len,
                                    enum catalog_kind kind, char **problems)
{
	struct cproblems pb = {0};
	struct catalog *c = calloc(1, sizeof *c);
	struct catalog_entry cur;
	memset(&cur, 0, sizeof cur);
	bool open = false;
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
			cproblem(&pb, file, kv.line, *kv.key ? kv.key : "-", "%s", msg);
			continue;
		}
		if (!strcmp(kv.key, "code")) {
			close_record(c, &cur, &open, kind, file, &pb);
			char *end;
			errno = 0;
			long v = strtol(kv.val, &end, 10);
			if (errno || *end || end == kv.val || v < 0 || v > 99999) {
				cproblem(&pb, file, kv.line, "code", "'%.40s' is not a code 0..99999", kv.val);
			} else {
				cur.code = (int)v;
				cur.line = kv.line;
				open = true;
			}
		} else if (!open) {
			cproblem(&pb, file, kv.line, kv.key, "outside a record (records start with code:)");
		} else if (!strcmp(kv.key, "name")) {
			if (cur.name)
				cproblem(&pb, file, kv.line, kv.key, "given twice");
			else if (!name_ok(kv.val))
				cproblem(&pb, file, kv.line, kv.key, "'%.60s' is not an UPPER_CASE symbol",
				         kv.val);
			else {
				cur.name = kv.val;
				kv.val = NULL;
			}
		} else if (!strcmp(kv.key, "message")) {
			if (cur.message)
				cproblem(&pb, file, kv.line, kv.key, "given twice");
			else if (!*kv.val)
				cproblem(&pb, file, kv.line, kv.key, "empty value");
			else {
				cur.message = kv.val;
				kv.val = NULL;
			}
		} else if (!strcmp(kv.key, "event")) {
			if (!*kv.val)
				cproblem(&pb, file, kv.line, kv.key, "empty value");
			else if (cur.nevents == CATALOG_MAX_EVENTS)
				cproblem(&pb, file, kv.line, kv.key, "more than %d events", CATALOG_MAX_EVENTS);
			else {
				cur.events[cur.nevents++] = kv.val;
				kv.val = NULL;
			}
		} else if (!strcmp(kv.key, "inferred")) {
			if (!strcmp(kv.val, "true") || !strcmp(kv.val, "false"))
				cur.inferred = kv.val[0] == 't';
			else
				cproblem(&pb, file, kv.line, kv.key, "'%.40s' is not true or false", kv.val);
		} else {
			cproblem(&pb, file, kv.line, kv.key,
			         "unknown key (known: code name message event inferred)");
		}
		free(kv.val);
	}
	close_record(c, &cur, &open, kind, file, &pb);
	if (!pb.count && c->n == 0)
		cproblem(&pb, file, 0, "-", "no entries");
	if (pb.count) {
		if (problems)
			*problems = pb.p;
		else
			free(pb.p);
		catalog_free(c);
		return NULL;
	}
	free(pb.p);
	if (problems)
		*problems = NULL;
	qsort(c->v, c->n, sizeof *c->v, cmp_code);
	return c;
}

struct catalog *catalog_load(enum catalog_kind kind, const char *dir, char **problems)
{
	if (dir) {
		char path[4096];
		snprintf(path, sizeof path, "%s/catalog/%s", dir, cat_file[kind]);
		struct stat st;
		if (stat(path, &st) == 0) {
			FILE *fp = fopen(path, "rb");
			char *buf = fp ? malloc(CATALOG_MAX_FILE + 1) : NULL;
			size_t n = buf ? fread(buf, 1, CATALOG_MAX_FILE + 1, fp) : 0;
			if (fp)
				fclose(fp);
			if (!buf || n > CATALOG_MAX_FILE) {
				free(buf);
				if (problems) {
					char m[4200];
					snprintf(m, sizeof m, "%s: cannot read (missing or larger than 1 MiB)\n",
					         path);
					*problems = strdup(m);
				}
				return NULL;
			}
			buf[n] = '\0';
			struct catalog *c = catalog_load_buffer(path, buf, n, kind, problems);
			free(buf);
			return c;
		}
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

size_t catalog_count(const struct catalog *c) { return c ? c->n : 0; }

const struct catalog_entry *catalog_at(const struct catalog *c, size_t i)
{
	return c && i < c->n ? &c->v[i] : NULL;
}

const struct catalog_entry *catalog_find(const struct catalog *c, int code)
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
