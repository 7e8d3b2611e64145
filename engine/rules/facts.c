#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rules/facts.h"

/* Strings live in a chain of arena chunks; facts_reset rewinds to the first chunk. */
struct chunk {
	struct chunk *next;
	size_t cap, used;
	char data[];
};

struct facts {
	struct fact *v;
	size_t n, cap;
	struct chunk *first, *cur;
};

struct facts *facts_new(void)
{
	return calloc(1, sizeof(struct facts));
}

void facts_free(struct facts *f)
{
	if (!f) return;
	struct chunk *c = f->first;
	while (c) {
		struct chunk *nx = c->next;
		free(c);
		c = nx;
	}
	free(f->v);
	free(f);
}

void facts_reset(struct facts *f)
{
	f->n = 0;
	for (struct chunk *c = f->first; c; c = c->next)
		c->used = 0;
	f->cur = f->first;
}

static const char *arena_dup(struct facts *f, const char *s)
{
	if (!s) return NULL;
	size_t n = strlen(s) + 1;
	struct chunk *c = f->cur;
	while (c && c->cap - c->used < n)
		c = c->next; /* reuse later chunks kept from before a reset */
	if (!c) {
		size_t cap = n > 4096 ? n : 4096;
		c = malloc(sizeof *c + cap);
		if (!c) return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = NULL;
		if (!f->first) {
			f->first = c;
		} else {
			struct chunk *t = f->first;
			while (t->next) t = t->next;
			t->next = c;
		}
	}
	f->cur = c;
	char *d = c->data + c->used;
	memcpy(d, s, n);
	c->used += n;
	return d;
}

static struct fact *add(struct facts *f, const char *key, enum fact_type t,
                        const struct evidence *ev)
{
	if (f->n == f->cap) {
		size_t nc = f->cap ? f->cap * 2 : 32;
		struct fact *nv = realloc(f->v, nc * sizeof *nv);
		if (!nv) return NULL;
		f->v = nv;
		f->cap = nc;
	}
	struct fact *x = &f->v[f->n];
	memset(x, 0, sizeof *x);
	x->key = arena_dup(f, key);
	if (!x->key) return NULL;
	x->type = t;
	if (ev) {
		x->ev = *ev;
		x->ev.src = arena_dup(f, ev->src);
		x->ev.where = arena_dup(f, ev->where);
	}
	f->n++;
	return x;
}

const struct fact *facts_add_str(struct facts *f, const char *key, const char *val,
                                 const struct evidence *ev)
{
	struct fact *x = add(f, key, FACT_STR, ev);
	if (x) x->s = arena_dup(f, val ? val : "");
	return x;
}

const struct fact *facts_add_int(struct facts *f, const char *key, int64_t val,
                                 const struct evidence *ev)
{
	struct fact *x = add(f, key, FACT_INT, ev);
	if (x) x->i = val;
	return x;
}

const struct fact *facts_add_bool(struct facts *f, const char *key, bool val,
                                  const struct evidence *ev)
{
	struct fact *x = add(f, key, FACT_BOOL, ev);
	if (x) x->i = val ? 1 : 0;
	return x;
}

const struct fact *facts_add_addr(struct facts *f, const char *key, const char *addr_text,
                                  const struct evidence *ev)
{
	struct fact *x = add(f, key, FACT_ADDR, ev);
	if (x) x->s = arena_dup(f, addr_text ? addr_text : "");
	return x;
}

const struct fact *facts_add_time(struct facts *f, const char *key, int64_t epoch,
                                  const struct evidence *ev)
{
	struct fact *x = add(f, key, FACT_TIME, ev);
	if (x) x->i = epoch;
	return x;
}

size_t facts_count(const struct facts *f) { return f->n; }

const struct fact *facts_at(const struct facts *f, size_t i)
{
	return i < f->n ? &f->v[i] : NULL;
}

const struct fact *facts_get(const struct facts *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].key, key) == 0)
			return &f->v[i];
	return NULL;
}

const struct fact *facts_next(const struct facts *f, const struct fact *prev)
{
	if (!prev) return NULL;
	for (size_t i = (size_t)(prev - f->v) + 1; i < f->n; i++)
		if (strcmp(f->v[i].key, prev->key) == 0)
			return &f->v[i];
	return NULL;
}

struct evidence ev_none(void)
{
	struct evidence e = {0};
	return e;
}

struct evidence ev_config(const char *key_path)
{
	struct evidence e = {.kind = EV_CONFIG, .src = key_path};
	return e;
}

struct evidence ev_input(const char *file, const char *where)
{
	struct evidence e = {.kind = EV_INPUT, .src = file, .where = where};
	return e;
}

struct evidence ev_packet(const char *file, uint64_t frame, size_t offset)
{
	struct evidence e = {.kind = EV_PACKET, .src = file, .frame = frame, .offset = offset};
	return e;
}

struct evidence ev_file(const char *file)
{
	struct evidence e = {.kind = EV_FILE, .src = file};
	return e;
}

const char *fact_value_str(const struct fact *x, char *buf, size_t bufsz)
{
	switch (x->type) {
	case FACT_STR:
	case FACT_ADDR:
		return x->s;
	case FACT_BOOL:
		return x->i ? "true" : "false";
	case FACT_INT:
	case FACT_TIME:
		snprintf(buf, bufsz, "%" PRId64, x->i);
		return buf;
	}
	return "";
}

const char *evidence_str(const struct evidence *ev, char *buf, size_t bufsz)
{
	const char *src = ev->src ? ev->src : "";
	switch (ev->kind) {
	case EV_NONE:
		snprintf(buf, bufsz, "%s", "");
		break;
	case EV_CONFIG:
		snprintf(buf, bufsz, "config %s", src);
		break;
	case EV_INPUT:
		if (ev->where)
			snprintf(buf, bufsz, "%s %s", src, ev->where);
		else
			snprintf(buf, bufsz, "%s", src);
		break;
	case EV_PACKET:
		if (ev->offset)
			snprintf(buf, bufsz, "%s frame %" PRIu64 " offset %zu", src, ev->frame,
			         ev->offset);
		else
			snprintf(buf, bufsz, "%s frame %" PRIu64, src, ev->frame);
		break;
	case EV_FILE:
		snprintf(buf, bufsz, "%s", src);
		break;
	}
	return buf;
}
