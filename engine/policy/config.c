/* Loading and validating the configuration (docs/formats.md). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy/config.h"
#include "policy/embedded.h"
#include "jsonpos.h"
#include "net.h"
#include "ike/ikev1.h"
#include "ike/ikev2.h"
#include "ppp/ppp_auth.h"
#include "readfile.h"

/* ---- names ------------------------------------------------------------------------- */
const char *const auth_method_names[] = {"pap", "spap", "chap", "mschap", "mschapv2", "eap",
	"unauthenticated", "machine-cert", NULL};
const char *const eap_type_names[] = {"tls", "peap", "md5", "mschapv2", NULL};
const char *const enc_level_names[] = {"none", "basic", "strong", "strongest", NULL};
const char *const tunnel_names[] = {"pptp", "l2tp", "sstp", "ikev2", NULL};
const char *const nas_port_type_names[] = {"async", "sync", "isdn", "isdn-v120",
	"isdn-v110", "virtual", "piafs", "hdlc", "x25", "x75", "g3fax", "sdsl", "adsl-cap",
	"adsl-dmt", "idsl", "ethernet", "xdsl", "cable", "wireless-other", "wireless-802.11",
	NULL};
const char *const framed_proto_names[] = {"ppp", "slip", "arap", "gandalf", "xylogics",
	"x75", NULL};
const char *const service_type_names[] = {"login", "framed", "callback-login",
	"callback-framed", "outbound", "administrative", "nas-prompt", "authenticate-only",
	"callback-nas-prompt", NULL};
const char *const lan_proto_names[] = {"ip", "ipx", "appletalk", "netbeui", NULL};
const char *const dialin_names[] = {"policy", "allow", "deny", NULL};
const char *const multilink_names[] = {"server", "deny", "allow", NULL};
const char *const ip_assign_names[] = {"server", "server-must-supply", "client-may-request",
	NULL};
const char *const cond_attr_names[] = {"Windows-Groups", "Day-And-Time-Restrictions",
	"NAS-Port-Type", "Tunnel-Type", "Framed-Protocol", "Service-Type", "Called-Station-Id",
	"Calling-Station-Id", "Client-IP-Address", "Client-Vendor", "Client-Friendly-Name",
	"NAS-Identifier", "NAS-IP-Address", "MS-RAS-Vendor", "Authentication-Type", NULL};
static const char *const addr_assign_names[] = {"pool", "dhcp", NULL};
static const char *const provider_names[] = {"windows", "radius", NULL};

int name_index(const char *const *names, const char *s)
{
	if (!s) return -1;
	for (int i = 0; names[i]; i++)
		if (strcasecmp(names[i], s) == 0) return i;
	return -1;
}

static void names_list(const char *const *names, char *buf, size_t bufsz)
{
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; names[i] && o < bufsz; i++) {
		int n = snprintf(buf + o, bufsz - o, "%s%s", i ? ", " : "", names[i]);
		if (n < 0) break;
		o += (size_t)n;
	}
}

const char *mask_str(const char *const *names, uint32_t mask, char *buf, size_t bufsz)
{
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; names[i] && i < 32; i++) {
		if (!(mask & (1u << i))) continue;
		int n = snprintf(buf + o, o < bufsz ? bufsz - o : 0, "%s%s", o ? ", " : "",
		                 names[i]);
		if (n < 0 || (size_t)n >= bufsz - o) break;
		o += (size_t)n;
	}
	if (!o) snprintf(buf, bufsz, "(none)");
	return buf;
}

/* ---- week grid --------------------------------------------------------------------- */
static const char *const day_abbr[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const day_full[] = {"sunday", "monday", "tuesday", "wednesday",
	"thursday", "friday", "saturday"};

static void grid_set(struct week_grid *g, unsigned from, unsigned to)
{
	for (unsigned m = from; m < to && m < WEEK_MINUTES; m++)
		g->bits[m >> 3] |= (uint8_t)(1u << (m & 7));
}

static int parse_day(const char *s, size_t n)
{
	for (int d = 0; d < 7; d++) {
		if (n == 3 && strncasecmp(s, day_abbr[d], 3) == 0) return d;
		if (n == strlen(day_full[d]) && strncasecmp(s, day_full[d], n) == 0) return d;
	}
	return -1;
}

static int parse_hhmm(const char *s, size_t n, unsigned *out)
{
	if (n != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    s[2] != ':' || !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	unsigned h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	unsigned m = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m)) return -1;
	*out = h * 60 + m;
	return 0;
}

int week_grid_add(struct week_grid *g, const char *text, char *err, size_t errsz)
{
	bool days[7] = {false};
	const char *p = text;
	while (*p == ' ') p++;
	if (strcasecmp(p, "all") == 0) {
		grid_set(g, 0, WEEK_MINUTES);
		return 0;
	}
	/* day part: comma-separated days or day ranges, optional when a time follows */
	const char *sp = strchr(p, ' ');
	const char *dayp = p, *timep = NULL;
	size_t dayn = sp ? (size_t)(sp - p) : strlen(p);
	if (isdigit((unsigned char)*p)) {
		for (int d = 0; d < 7; d++) days[d] = true;
		timep = p;
		dayn = 0;
	} else if (sp) {
		timep = sp;
		while (*timep == ' ') timep++;
	}
	size_t i = 0;
	while (i < dayn) {
		size_t j = i;
		while (j < dayn && dayp[j] != ',') j++;
		const char *dash = memchr(dayp + i, '-', j - i);
		int a, b;
		if (dash) {
			a = parse_day(dayp + i, (size_t)(dash - (dayp + i)));
			b = parse_day(dash + 1, (size_t)(dayp + j - dash - 1));
		} else {
			a = b = parse_day(dayp + i, j - i);
		}
		if (a < 0 || b < 0) {
			snprintf(err, errsz, "\"%.*s\" is not a day or day range (Mon, Mon-Fri, Sat,Sun)",
			         (int)(j - i), dayp + i);
			return -1;
		}
		for (int d = a, k = 0; k < 7; d = (d + 1) % 7, k++) {
			days[d] = true;
			if (d == b) break;
		}
		i = j + 1;
	}
	unsigned from = 0, to = 24 * 60;
	if (timep && *timep) {
		const char *dash = strchr(timep, '-');
		size_t tl = strlen(timep);
		while (tl && timep[tl - 1] == ' ') tl--;
		if (!dash || parse_hhmm(timep, (size_t)(dash - timep), &from) ||
		    parse_hhmm(dash + 1, (size_t)(timep + tl - dash - 1), &to) || from == 24 * 60) {
			snprintf(err, errsz, "\"%s\" is not a time range (HH:MM-HH:MM)", timep);
			return -1;
		}
	}
	for (int d = 0; d < 7; d++) {
		if (!days[d]) continue;
		unsigned base = (unsigned)d * 1440;
		if (to > from) {
			grid_set(g, base + from, base + to);
		} else { /* runs past midnight into the next day (Saturday wraps to Sunday) */
			grid_set(g, base + from, base + 1440);
			unsigned next = (unsigned)((d + 1) % 7) * 1440;
			grid_set(g, next, next + to);
		}
	}
	return 0;
}

/* Ranges of one day as "08:00-18:00, 20:00-21:00". */
static void day_ranges(const struct week_grid *g, int d, char *buf, size_t bufsz)
{
	size_t o = 0;
	buf[0] = 0;
	unsigned base = (unsigned)d * 1440, m = 0;
	while (m < 1440) {
		if (!week_grid_has(g, base + m)) {
			m++;
			continue;
		}
		unsigned s = m;
		while (m < 1440 && week_grid_has(g, base + m)) m++;
		int n = snprintf(buf + o, bufsz - o, "%s%02u:%02u-%02u:%02u", o ? ", " : "", s / 60,
		                 s % 60, m / 60, m % 60);
		if (n < 0 || (size_t)n >= bufsz - o) break;
		o += (size_t)n;
	}
}

const char *week_grid_str(const struct week_grid *g, char *buf, size_t bufsz)
{
	char r[7][160];
	bool any = false, all = true;
	for (int d = 0; d < 7; d++) {
		day_ranges(g, d, r[d], sizeof r[d]);
		if (r[d][0]) any = true;
		if (strcmp(r[d], "00:00-24:00") != 0) all = false;
	}
	if (all) return snprintf(buf, bufsz, "all week"), buf;
	if (!any) return snprintf(buf, bufsz, "never"), buf;
	/* Monday first, runs of days with the same hours joined: "Mon-Fri 08:00-18:00" */
	static const int order[7] = {1, 2, 3, 4, 5, 6, 0};
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; i < 7;) {
		int d = order[i], j = i;
		while (j + 1 < 7 && strcmp(r[order[j + 1]], r[d]) == 0) j++;
		if (r[d][0]) {
			int n;
			if (j > i)
				n = snprintf(buf + o, bufsz - o, "%s%s-%s %s", o ? "; " : "", day_abbr[d],
				             day_abbr[order[j]], r[d]);
			else
				n = snprintf(buf + o, bufsz - o, "%s%s %s", o ? "; " : "", day_abbr[d], r[d]);
			if (n < 0 || (size_t)n >= bufsz - o) break;
			o += (size_t)n;
		}
		i = j + 1;
	}
	return buf;
}

/* ---- IPv4 --------------------------------------------------------------------------- */
uint64_t ip_ranges_size(const struct ip_range *r, size_t n)
{
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) total += (uint64_t)r[i].end - r[i].start + 1;
	return total;
}

uint32_t ip_ranges_nth(const struct ip_range *r, size_t n, uint64_t idx)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t sz = (uint64_t)r[i].end - r[i].start + 1;
		if (idx < sz) return r[i].start + (uint32_t)idx;
		idx -= sz;
	}
	return 0;
}

bool ip_ranges_index(const struct ip_range *r, size_t n, uint32_t a, uint64_t *idx)
{
	uint64_t base = 0;
	for (size_t i = 0; i < n; i++) {
		if (a >= r[i].start && a <= r[i].end) {
			*idx = base + (a - r[i].start);
			return true;
		}
		base += (uint64_t)r[i].end - r[i].start + 1;
	}
	return false;
}

int ipv4_parse(const char *s, uint32_t *out)
{
	uint32_t a = 0;
	int parts = 0;
	const char *p = s;
	if (!s) return -1;
	while (parts < 4) {
		if (!isdigit((unsigned char)*p)) return -1;
		unsigned v = 0;
		int nd = 0;
		while (isdigit((unsigned char)*p) && nd < 4) v = v * 10 + (unsigned)(*p++ - '0'), nd++;
		if (v > 255 || nd > 3 || (nd > 1 && p[-nd] == '0')) return -1;
		a = (a << 8) | v;
		parts++;
		if (parts < 4) {
			if (*p != '.') return -1;
			p++;
		}
	}
	if (*p) return -1;
	*out = a;
	return 0;
}

const char *ipv4_str(uint32_t a, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

static int cidr_parse(const char *s, struct ip_range *r)
{
	char tmp[32];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n >= sizeof tmp) return -1;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	uint32_t a;
	if (ipv4_parse(tmp, &a)) return -1;
	unsigned bits = 32;
	if (slash) {
		char *end;
		errno = 0;
		long b = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || b < 0 || b > 32 || errno) return -1;
		bits = (unsigned)b;
	}
	uint32_t mask = bits ? 0xFFFFFFFFu << (32 - bits) : 0;
	r->start = a & mask;
	r->end = r->start | ~mask;
	return 0;
}

/* ---- problems ----------------------------------------------------------------------- */
void config_problems_free(struct config_problems *p)
{
	if (!p) return;
	for (size_t i = 0; i < p->n; i++) free(p->v[i].msg);
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
}

void config_problems_print(const struct config_problems *p, const char *file)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].line)
			fprintf(stderr, "vnet: %s:%d:%d: %s\n", file, p->v[i].line, p->v[i].col,
			        p->v[i].msg);
		else
			fprintf(stderr, "vnet: %s: %s\n", file, p->v[i].msg);
	}
}

void config_problem_add(struct config_problems *p, int line, int col, const char *msg)
{
	if (!p) return;
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 8;
		struct config_problem *nv = realloc(p->v, nc * sizeof *nv);
		if (!nv) return;
		p->v = nv;
		p->cap = nc;
	}
	char *m = strdup(msg);
	if (!m) return;
	p->v[p->n].line = line;
	p->v[p->n].col = col;
	p->v[p->n].msg = m;
	p->n++;
}

/* ---- loader context ------------------------------------------------------------------ */
#define MAX_PROBLEMS 100
struct ld {
	struct config *c;
	struct config_problems *probs;
	size_t nprobs;
	char path[512];
	char ptr[512];
	size_t pathlen, ptrlen;
	bool at_key; /* point at the member's key rather than its value */
};

struct mark {
	size_t pathlen, ptrlen;
};

static struct mark push_key(struct ld *l, const char *key)
{
	struct mark m = {l->pathlen, l->ptrlen};
	int n = snprintf(l->path + l->pathlen, sizeof l->path - l->pathlen, "%s%s",
	                 l->pathlen ? "." : "", key);
	if (n > 0) l->pathlen += (size_t)n < sizeof l->path - l->pathlen ? (size_t)n : 0;
	if (l->ptrlen + 1 < sizeof l->ptr) {
		l->ptr[l->ptrlen++] = '/';
		for (const char *k = key; *k && l->ptrlen + 2 < sizeof l->ptr; k++) {
			if (*k == '~') l->ptr[l->ptrlen++] = '~', l->ptr[l->ptrlen++] = '0';
			else if (*k == '/') l->ptr[l->ptrlen++] = '~', l->ptr[l->ptrlen++] = '1';
			else l->ptr[l->ptrlen++] = *k;
		}
		l->ptr[l->ptrlen] = 0;
	}
	return m;
}

static struct mark push_idx(struct ld *l, size_t i)
{
	struct mark m = {l->pathlen, l->ptrlen};
	int n = snprintf(l->path + l->pathlen, sizeof l->path - l->pathlen, "[%zu]", i);
	if (n > 0 && (size_t)n < sizeof l->path - l->pathlen) l->pathlen += (size_t)n;
	n = snprintf(l->ptr + l->ptrlen, sizeof l->ptr - l->ptrlen, "/%zu", i);
	if (n > 0 && (size_t)n < sizeof l->ptr - l->ptrlen) l->ptrlen += (size_t)n;
	return m;
}

static void pop(struct ld *l, struct mark m)
{
	l->pathlen = m.pathlen;
	l->ptrlen = m.ptrlen;
	l->path[l->pathlen] = 0;
	l->ptr[l->ptrlen] = 0;
}

__attribute__((format(printf, 2, 3)))
static void problem(struct ld *l, const char *fmt, ...)
{
	l->nprobs++;
	if (l->nprobs > MAX_PROBLEMS) return;
	char msg[768];
	int o = snprintf(msg, sizeof msg, "%s%s", l->path, l->pathlen ? ": " : "");
	if (o < 0) o = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + o, sizeof msg - (size_t)o, fmt, ap);
	va_end(ap);
	int line = 0, col = 0;
	if (l->at_key) jsonpos_find_key(l->c->text, l->c->text_len, l->ptr, &line, &col);
	else jsonpos_find(l->c->text, l->c->text_len, l->ptr, &line, &col);
	config_problem_add(l->probs, line, col, msg);
}

/* Report members of `obj` not in `allowed` (NULL-terminated). */
static void check_keys(struct ld *l, json_t *obj, const char *const *allowed)
{
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++)
			if (strcmp(allowed[i], k) == 0) ok = true;
		if (ok) continue;
		char list[512];
		names_list(allowed, list, sizeof list);
		struct mark m = push_key(l, k);
		l->at_key = true;
		problem(l, "unknown key (expected one of %s)", list);
		l->at_key = false;
		pop(l, m);
	}
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static bool get_bool(struct ld *l, json_t *obj, const char *key, bool def)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) return def;
	if (json_is_boolean(v)) return json_is_true(v);
	struct mark m = push_key(l, key);
	problem(l, "expected true or false, got %s", json_type_phrase(v));
	pop(l, m);
	return def;
}

static int get_int(struct ld *l, json_t *obj, const char *key, long long min, long long max,
                   int def)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) return def;
	struct mark m = push_key(l, key);
	int r = def;
	if (!json_is_integer(v)) {
		problem(l, "expected an integer, got %s", json_type_phrase(v));
	} else {
		long long x = json_integer_value(v);
		if (x < min || x > max) problem(l, "%lld is out of range (%lld to %lld)", x, min, max);
		else r = (int)x;
	}
	pop(l, m);
	return r;
}

/* A string member; NULL when absent (problem when `required`). */
static const char *get_str(struct ld *l, json_t *obj, const char *key, bool required)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		if (required) problem(l, "missing \"%s\"", key);
		return NULL;
	}
	if (!json_is_string(v)) {
		struct mark m = push_key(l, key);
		problem(l, "expected a string, got %s", json_type_phrase(v));
		pop(l, m);
		return NULL;
	}
	return json_string_value(v);
}

/* Check a single enum value at the current path. */
static int enum_value(struct ld *l, json_t *v, const char *const *names)
{
	if (!json_is_string(v)) {
		problem(l, "expected a string, got %s", json_type_phrase(v));
		return -1;
	}
	int i = name_index(names, json_string_value(v));
	if (i < 0) {
		char list[512];
		names_list(names, list, sizeof list);
		problem(l, "\"%s\" is not one of %s", json_string_value(v), list);
	}
	return i;
}

static int get_enum(struct ld *l, json_t *obj, const char *key, const char *const *names,
                    int def)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) return def;
	struct mark m = push_key(l, key);
	int i = enum_value(l, v, names);
	pop(l, m);
	return i < 0 ? def : i;
}

/* A set of enum names: a string or an array of strings. */
static uint32_t get_mask(struct ld *l, json_t *obj, const char *key, const char *const *names,
                         uint32_t def)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) return def;
	struct mark m = push_key(l, key);
	uint32_t mask = 0;
	if (json_is_string(v)) {
		int i = enum_value(l, v, names);
		if (i >= 0) mask = 1u << i;
	} else if (json_is_array(v)) {
		size_t idx;
		json_t *e;
		json_array_foreach(v, idx, e) {
			struct mark m2 = push_idx(l, idx);
			int i = enum_value(l, e, names);
			if (i >= 0) mask |= 1u << i;
			pop(l, m2);
		}
	} else {
		problem(l, "expected a string or an array of strings, got %s", json_type_phrase(v));
	}
	pop(l, m);
	return mask;
}

/* An array of strings (a lone string counts as one); returns a malloc'ed vector. */
static char **get_strv(struct ld *l, json_t *obj, const char *key, size_t *n)
{
	*n = 0;
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) return NULL;
	struct mark m = push_key(l, key);
	char **out = NULL;
	if (json_is_string(v)) {
		out = calloc(1, sizeof *out);
		if (out) out[(*n)++] = xstrdup(json_string_value(v));
	} else if (json_is_array(v)) {
		out = calloc(json_array_size(v) + 1, sizeof *out);
		size_t idx;
		json_t *e;
		json_array_foreach(v, idx, e) {
			if (!json_is_string(e)) {
				struct mark m2 = push_idx(l, idx);
				problem(l, "expected a string, got %s", json_type_phrase(e));
				pop(l, m2);
				continue;
			}
			if (out) out[(*n)++] = xstrdup(json_string_value(e));
		}
	} else {
		problem(l, "expected a string or an array of strings, got %s", json_type_phrase(v));
	}
	pop(l, m);
	return out;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) free(v[i]);
	free(v);
}

/* A list of time windows; NULL when absent. */
static struct week_grid *get_grid(struct ld *l, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) return NULL;
	struct mark m = push_key(l, key);
	struct week_grid *g = calloc(1, sizeof *g);
	json_t *one = NULL;
	if (json_is_string(v)) {
		one = json_array();
		json_array_append(one, v);
		v = one;
	}
	if (!json_is_array(v)) {
		problem(l, "expected an array of time windows (\"Mon-Fri 08:00-18:00\"), got %s",
		        json_type_phrase(v));
	} else if (g) {
		size_t idx;
		json_t *e;
		json_array_foreach(v, idx, e) {
			struct mark m2 = one ? m : push_idx(l, idx);
			char err[200];
			if (!json_is_string(e))
				problem(l, "expected a time window string, got %s", json_type_phrase(e));
			else if (week_grid_add(g, json_string_value(e), err, sizeof err))
				problem(l, "%s", err);
			if (!one) pop(l, m2);
		}
	}
	json_decref(one);
	pop(l, m);
	return g;
}

/* ---- groups -------------------------------------------------------------------------- */
long config_find_group(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->ngroups; i++)
		if (strcasecmp(c->groups[i].name, name) == 0) return (long)i;
	return -1;
}

/* Resolve a list of group names at the current path (key `key` of obj). */
static size_t *get_group_list(struct ld *l, json_t *obj, const char *key, size_t *n)
{
	size_t nn;
	char **names = get_strv(l, obj, key, &nn);
	size_t *idx = nn ? calloc(nn, sizeof *idx) : NULL;
	*n = 0;
	struct mark m = push_key(l, key);
	json_t *arr = json_object_get(obj, key);
	for (size_t i = 0; i < nn; i++) {
		long g = config_find_group(l->c, names[i]);
		if (g < 0) {
			struct mark m2 = json_is_array(arr) ? push_idx(l, i) : m;
			char list[400] = "";
			size_t o = 0;
			for (size_t k = 0; k < l->c->ngroups && o < sizeof list; k++) {
				int w = snprintf(list + o, sizeof list - o, "%s%s", k ? ", " : "",
				                 l->c->groups[k].name);
				if (w < 0) break;
				o += (size_t)w;
			}
			problem(l, "no group \"%s\" in groups (declared: %s)", names[i],
			        l->c->ngroups ? list : "none");
			if (json_is_array(arr)) pop(l, m2);
			continue;
		}
		if (idx) idx[(*n)++] = (size_t)g;
	}
	pop(l, m);
	free_strv(names, nn);
	return idx;
}

void config_group_closure(const struct config *c, const size_t *direct, size_t n,
                          uint64_t *out)
{
	for (size_t w = 0; w < c->group_words; w++) out[w] = 0;
	for (size_t i = 0; i < n; i++) out[direct[i] / 64] |= 1ull << (direct[i] % 64);
	/* fixpoint: at most ngroups rounds, each adding at least one group or stopping */
	for (size_t round = 0; round <= c->ngroups; round++) {
		bool changed = false;
		for (size_t g = 0; g < c->ngroups; g++) {
			if (!(out[g / 64] >> (g % 64) & 1)) continue;
			for (size_t k = 0; k < c->groups[g].nmember_of; k++) {
				size_t p = c->groups[g].member_of[k];
				if (!(out[p / 64] >> (p % 64) & 1)) {
					out[p / 64] |= 1ull << (p % 64);
					changed = true;
				}
			}
		}
		if (!changed) break;
	}
}

static void load_groups(struct ld *l, json_t *arr)
{
	struct config *c = l->c;
	if (!arr) return;
	struct mark m = push_key(l, "groups");
	if (!json_is_array(arr)) {
		problem(l, "expected an array of groups, got %s", json_type_phrase(arr));
		pop(l, m);
		return;
	}
	c->groups = calloc(json_array_size(arr) + 1, sizeof *c->groups);
	size_t idx;
	json_t *g;
	static const char *const keys[] = {"name", "member_of", "description", NULL};
	json_array_foreach(arr, idx, g) {
		struct mark m2 = push_idx(l, idx);
		if (!json_is_object(g)) {
			problem(l, "expected a group object, got %s", json_type_phrase(g));
		} else {
			check_keys(l, g, keys);
			const char *name = get_str(l, g, "name", true);
			if (name && config_find_group(c, name) >= 0) {
				struct mark m3 = push_key(l, "name");
				problem(l, "group \"%s\" is declared twice", name);
				pop(l, m3);
			} else if (name && c->groups) {
				c->groups[c->ngroups++].name = xstrdup(name);
			}
		}
		pop(l, m2);
	}
	c->group_words = (c->ngroups + 63) / 64;
	if (!c->group_words) c->group_words = 1;
	/* member_of after every name is known */
	size_t gi = 0;
	json_array_foreach(arr, idx, g) {
		if (!json_is_object(g) || !json_is_string(json_object_get(g, "name"))) continue;
		if (gi >= c->ngroups ||
		    strcasecmp(c->groups[gi].name, json_string_value(json_object_get(g, "name"))))
			continue;
		struct mark m2 = push_idx(l, idx);
		c->groups[gi].member_of = get_group_list(l, g, "member_of", &c->groups[gi].nmember_of);
		pop(l, m2);
		gi++;
	}
	pop(l, m);
}

/* ---- server -------------------------------------------------------------------------- */
static void get_ports(struct ld *l, json_t *obj, const char *key, int *out, int def)
{
	for (int t = 0; t < TUN_N; t++) out[t] = def;
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) return;
	struct mark m = push_key(l, key);
	if (!json_is_object(v)) {
		problem(l, "expected an object of port counts per tunnel type, got %s", json_type_phrase(v));
	} else {
		check_keys(l, v, tunnel_names);
		for (int t = 0; t < TUN_N; t++) out[t] = get_int(l, v, tunnel_names[t], 0, 100000, def);
	}
	pop(l, m);
}

static void load_server_ext(struct ld *l, json_t *s);

static void load_server(struct ld *l, json_t *s)
{
	struct server *sv = &l->c->server;
	struct mark m = push_key(l, "server");
	static const char *const keys[] = {"name", "service_running", "remote_access_enabled",
		"auth_provider", "auth_methods", "eap_types", "encryption", "multilink", "bap",
		"ports", "ports_in_use", "lan_protocols", "address_assignment", "pool", "dhcp",
		"addresses_in_use", "allow_requested_ip", "addresses", "routes", "ports_inbound",
		"l2tp_psk", "radius", "ad_registered", "os", "internet_filters", "ipx", NULL};
	json_t *empty = NULL;
	if (!s) s = empty = json_object();
	if (!json_is_object(s)) {
		problem(l, "expected an object, got %s", json_type_phrase(s));
		s = empty = json_object();
	}
	check_keys(l, s, keys);
	sv->name = xstrdup(get_str(l, s, "name", false));
	if (!sv->name) sv->name = strdup("RAS");
	sv->service_running = get_bool(l, s, "service_running", true);
	sv->remote_access_enabled = get_bool(l, s, "remote_access_enabled", true);
	sv->auth_provider = (enum auth_provider)get_enum(l, s, "auth_provider", provider_names,
	                                                 PROV_WINDOWS);
	sv->auth_mask = get_mask(l, s, "auth_methods", auth_method_names,
	                         1u << AUTH_EAP | 1u << AUTH_MSCHAPV2 | 1u << AUTH_MSCHAP);
	sv->eap_mask = get_mask(l, s, "eap_types", eap_type_names,
	                        1u << EAP_PEAP | 1u << EAP_MD5 | 1u << EAP_TLS);
	sv->enc_mask = get_mask(l, s, "encryption", enc_level_names, (1u << ENC_N) - 1);
	sv->multilink = get_bool(l, s, "multilink", true);
	sv->bap = get_bool(l, s, "bap", true);
	get_ports(l, s, "ports", sv->ports, 0);
	if (!json_object_get(s, "ports")) sv->ports[TUN_PPTP] = sv->ports[TUN_L2TP] = 128;
	get_ports(l, s, "ports_in_use", sv->ports_in_use, 0);
	for (int t = 0; t < TUN_N; t++) {
		if (sv->ports_in_use[t] > sv->ports[t]) {
			struct mark m2 = push_key(l, "ports_in_use");
			struct mark m3 = push_key(l, tunnel_names[t]);
			problem(l, "%d ports in use but only %d configured", sv->ports_in_use[t],
			        sv->ports[t]);
			pop(l, m3);
			pop(l, m2);
		}
	}
	sv->lan_mask = get_mask(l, s, "lan_protocols", lan_proto_names, 1u << LAN_IP);
	sv->addr_assign = (enum addr_assign)get_enum(l, s, "address_assignment", addr_assign_names,
	                                             ADDR_DHCP);
	json_t *pool = json_object_get(s, "pool");
	if (pool && !json_is_null(pool)) {
		struct mark m2 = push_key(l, "pool");
		if (!json_is_array(pool)) {
			problem(l, "expected an array of {\"start\", \"end\"} ranges, got %s",
			        json_type_phrase(pool));
		} else {
			sv->pool = calloc(json_array_size(pool) + 1, sizeof *sv->pool);
			size_t idx;
			json_t *r;
			static const char *const rk[] = {"start", "end", NULL};
			json_array_foreach(pool, idx, r) {
				struct mark m3 = push_idx(l, idx);
				if (!json_is_object(r)) {
					problem(l, "expected {\"start\": ADDR, \"end\": ADDR}, got %s", json_type_phrase(r));
					pop(l, m3);
					continue;
				}
				check_keys(l, r, rk);
				const char *a = get_str(l, r, "start", true), *b = get_str(l, r, "end", true);
				uint32_t x = 0, y = 0;
				bool ok = a && b;
				if (a && ipv4_parse(a, &x)) {
					struct mark m4 = push_key(l, "start");
					problem(l, "\"%s\" is not an IPv4 address", a);
					pop(l, m4);
					ok = false;
				}
				if (b && ipv4_parse(b, &y)) {
					struct mark m4 = push_key(l, "end");
					problem(l, "\"%s\" is not an IPv4 address", b);
					pop(l, m4);
					ok = false;
				}
				if (ok && y < x) {
					problem(l, "range ends (%s) before it starts (%s)", b, a);
					ok = false;
				}
				if (ok && sv->pool) sv->pool[sv->npool++] = (struct ip_range){x, y};
				pop(l, m3);
			}
		}
		pop(l, m2);
	}
	if (sv->addr_assign == ADDR_POOL && !sv->npool && !l->nprobs)
		problem(l, "address_assignment is \"pool\" but no pool ranges are given");
	json_t *dhcp = json_object_get(s, "dhcp");
	sv->dhcp_reachable = true;
	sv->dhcp_free = 100;
	if (dhcp && !json_is_null(dhcp)) {
		struct mark m2 = push_key(l, "dhcp");
		if (!json_is_object(dhcp)) {
			problem(l, "expected an object, got %s", json_type_phrase(dhcp));
		} else {
			static const char *const dk[] = {"reachable", "free", NULL};
			check_keys(l, dhcp, dk);
			sv->dhcp_reachable = get_bool(l, dhcp, "reachable", true);
			sv->dhcp_free = get_int(l, dhcp, "free", 0, 16777216, 100);
		}
		pop(l, m2);
	}
	sv->addresses_in_use = get_int(l, s, "addresses_in_use", 0, 16777216, 0);
	sv->allow_requested_ip = get_bool(l, s, "allow_requested_ip", false);
	size_t n;
	char **v = get_strv(l, s, "addresses", &n);
	sv->addresses = calloc(n + 1, sizeof *sv->addresses);
	for (size_t i = 0; i < n; i++) {
		uint32_t a;
		if (ipv4_parse(v[i], &a)) {
			struct mark m2 = push_key(l, "addresses");
			struct mark m3 = push_idx(l, i);
			problem(l, "\"%s\" is not an IPv4 address", v[i]);
			pop(l, m3);
			pop(l, m2);
		} else if (sv->addresses) {
			sv->addresses[sv->naddresses++] = a;
		}
	}
	free_strv(v, n);
	v = get_strv(l, s, "routes", &n);
	sv->routes = calloc(n + 1, sizeof *sv->routes);
	for (size_t i = 0; i < n; i++) {
		struct ip_range r;
		if (cidr_parse(v[i], &r)) {
			struct mark m2 = push_key(l, "routes");
			struct mark m3 = push_idx(l, i);
			problem(l, "\"%s\" is not an IPv4 network (192.168.1.0/24)", v[i]);
			pop(l, m3);
			pop(l, m2);
		} else if (sv->routes) {
			sv->routes[sv->nroutes++] = r;
		}
	}
	free_strv(v, n);
	load_server_ext(l, s);
	json_decref(empty);
	pop(l, m);
}

/* ---- policies ------------------------------------------------------------------------ */
static bool attr_takes_pattern(enum cond_attr a)
{
	switch (a) {
	case CA_CALLED_STATION_ID:
	case CA_CALLING_STATION_ID:
	case CA_CLIENT_IP_ADDRESS:
	case CA_CLIENT_FRIENDLY_NAME:
	case CA_NAS_IDENTIFIER:
	case CA_NAS_IP_ADDRESS:
	case CA_MS_RAS_VENDOR:
		return true;
	default:
		return false;
	}
}

static const char *const *attr_enum_names(enum cond_attr a)
{
	switch (a) {
	case CA_NAS_PORT_TYPE: return nas_port_type_names;
	case CA_TUNNEL_TYPE: return tunnel_names;
	case CA_FRAMED_PROTOCOL: return framed_proto_names;
	case CA_SERVICE_TYPE: return service_type_names;
	case CA_AUTHENTICATION_TYPE: return auth_method_names;
	default: return NULL;
	}
}

static void *compile_re(struct ld *l, const char *pat, const char *what)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	                               PCRE2_CASELESS | PCRE2_UTF, &ec, &eo, NULL);
	if (!re) {
		PCRE2_UCHAR msg[200];
		pcre2_get_error_message(ec, msg, sizeof msg);
		problem(l, "%s \"%s\" does not compile at offset %zu: %s", what, pat, (size_t)eo,
		        (char *)msg);
		return NULL;
	}
#ifndef VNET_FUZZING
	/* machine code for the hot path; the fuzzers keep to the interpreter, which gives
	 * the same answers and lets them spend their time on our parsing */
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
#endif
	return re;
}

static void load_condition(struct ld *l, json_t *o, struct condition *cd, size_t *nslots,
                           struct condition **slot_owner)
{
	static const char *const keys[] = {"attribute", "value", "pattern", NULL};
	cd->path = strdup(l->path);
	cd->pointer = strdup(l->ptr);
	if (!json_is_object(o)) {
		problem(l, "expected {\"attribute\": NAME, \"value\"|\"pattern\": ...}, got %s",
		        json_type_phrase(o));
		cd->attr = CA_N;
		return;
	}
	check_keys(l, o, keys);
	const char *an = get_str(l, o, "attribute", true);
	cd->attr = CA_N;
	if (!an) return;
	int a = name_index(cond_attr_names, an);
	if (a < 0) {
		char list[600];
		names_list(cond_attr_names, list, sizeof list);
		struct mark m = push_key(l, "attribute");
		problem(l, "unknown attribute \"%s\" (known: %s)", an, list);
		pop(l, m);
		return;
	}
	cd->attr = (enum cond_attr)a;
	json_t *val = json_object_get(o, "value"), *pat = json_object_get(o, "pattern");
	if (val && pat) {
		problem(l, "give either \"value\" or \"pattern\", not both");
		return;
	}
	if (!val && !pat) {
		problem(l, "missing \"value\" (or \"pattern\")");
		return;
	}
	if (pat) {
		struct mark m = push_key(l, "pattern");
		if (!attr_takes_pattern(cd->attr)) {
			problem(l, "%s does not take a pattern; give \"value\"", cond_attr_names[a]);
		} else if (!json_is_string(pat)) {
			problem(l, "expected a string, got %s", json_type_phrase(pat));
		} else {
			cd->is_pattern = true;
			cd->text = xstrdup(json_string_value(pat));
			cd->re = compile_re(l, cd->text, "pattern");
			/* share evaluation results between equal (attribute, pattern) pairs */
			cd->re_slot = *nslots;
			for (size_t s = 0; s < *nslots; s++) {
				struct condition *ow = slot_owner[s];
				if (ow && ow->attr == cd->attr && strcmp(ow->text, cd->text) == 0) {
					cd->re_slot = s;
					break;
				}
			}
			if (cd->re_slot == *nslots) slot_owner[(*nslots)++] = cd;
		}
		pop(l, m);
		return;
	}
	struct mark m = push_key(l, "value");
	const char *const *en = attr_enum_names(cd->attr);
	if (cd->attr == CA_WINDOWS_GROUPS) {
		pop(l, m);
		cd->groups = get_group_list(l, o, "value", &cd->ngroups);
		size_t n;
		char **v = get_strv(l, o, "value", &n);
		char buf[512] = "";
		size_t off = 0;
		for (size_t i = 0; i < n && off < sizeof buf; i++) {
			int w = snprintf(buf + off, sizeof buf - off, "%s%s", i ? ", " : "", v[i]);
			if (w > 0) off += (size_t)w;
		}
		cd->text = strdup(buf);
		free_strv(v, n);
		if (!n) problem(l, "Windows-Groups needs at least one group");
		return;
	}
	if (cd->attr == CA_DAY_AND_TIME) {
		pop(l, m);
		cd->grid = get_grid(l, o, "value");
		char buf[512];
		cd->text = strdup(cd->grid ? week_grid_str(cd->grid, buf, sizeof buf) : "");
		return;
	}
	if (en) {
		pop(l, m);
		cd->mask = get_mask(l, o, "value", en, 0);
		char buf[512];
		cd->text = strdup(mask_str(en, cd->mask, buf, sizeof buf));
		if (!cd->mask && !l->nprobs) problem(l, "the value list is empty");
		return;
	}
	/* plain string attributes: exact value, case-insensitive */
	if (!json_is_string(val)) problem(l, "expected a string, got %s", json_type_phrase(val));
	else cd->text = xstrdup(json_string_value(val));
	pop(l, m);
}

static void compile_filters(struct ld *l, const char *key, char **rules, size_t n,
                            struct ipfilter *out)
{
	char err[200];
	size_t bad = 0;
	if (ipfilter_compile(rules, n, out, &bad, err, sizeof err) == 0) return;
	struct mark m = push_key(l, key);
	struct mark mi = push_idx(l, bad);
	problem(l, "%s (rule: \"%s\")", err, rules[bad] ? rules[bad] : "");
	pop(l, mi);
	pop(l, m);
}

static void load_profile(struct ld *l, json_t *p, struct profile *pr)
{
	static const char *const keys[] = {"auth_methods", "eap_types", "encryption", "multilink",
		"multilink_max_ports", "bap_required", "day_time", "idle_timeout", "session_timeout",
		"nas_port_types", "tunnel_types", "called_station_id", "ip_assignment", "filters",
		"ignore_user_dialin", NULL};
	json_t *empty = NULL;
	struct mark m = push_key(l, "profile");
	if (!p || json_is_null(p)) p = empty = json_object();
	if (!json_is_object(p)) {
		problem(l, "expected an object, got %s", json_type_phrase(p));
		p = empty = json_object();
	}
	check_keys(l, p, keys);
	pr->auth_mask = get_mask(l, p, "auth_methods", auth_method_names,
	                         1u << AUTH_MSCHAPV2 | 1u << AUTH_MSCHAP);
	pr->eap_mask = get_mask(l, p, "eap_types", eap_type_names, 0);
	pr->enc_mask = get_mask(l, p, "encryption", enc_level_names, (1u << ENC_N) - 1);
	pr->multilink = (enum multilink_mode)get_enum(l, p, "multilink", multilink_names, ML_SERVER);
	pr->multilink_max_ports = get_int(l, p, "multilink_max_ports", 0, 1000, 0);
	pr->bap_required = get_bool(l, p, "bap_required", false);
	pr->day_time = get_grid(l, p, "day_time");
	pr->idle_timeout = get_int(l, p, "idle_timeout", 0, 10000000, 0);
	pr->session_timeout = get_int(l, p, "session_timeout", 0, 10000000, 0);
	pr->nas_port_mask = get_mask(l, p, "nas_port_types", nas_port_type_names, 0);
	pr->tunnel_mask = get_mask(l, p, "tunnel_types", tunnel_names, 0);
	const char *cs = get_str(l, p, "called_station_id", false);
	if (cs) {
		struct mark m2 = push_key(l, "called_station_id");
		pr->called_station_id = xstrdup(cs);
		pr->called_re = compile_re(l, cs, "pattern");
		pop(l, m2);
	}
	pr->ip_assignment = (enum ip_assign)get_enum(l, p, "ip_assignment", ip_assign_names,
	                                             IPA_SERVER);
	json_t *f = json_object_get(p, "filters");
	if (f && !json_is_null(f)) {
		struct mark m2 = push_key(l, "filters");
		if (!json_is_object(f)) {
			problem(l, "expected {\"input\": [...], \"output\": [...]}, got %s", json_type_phrase(f));
		} else {
			static const char *const fk[] = {"input", "output", NULL};
			check_keys(l, f, fk);
			pr->filters_in = get_strv(l, f, "input", &pr->nfilters_in);
			pr->filters_out = get_strv(l, f, "output", &pr->nfilters_out);
			compile_filters(l, "input", pr->filters_in, pr->nfilters_in, &pr->fin);
			compile_filters(l, "output", pr->filters_out, pr->nfilters_out, &pr->fout);
		}
		pop(l, m2);
	}
	pr->ignore_user_dialin = get_bool(l, p, "ignore_user_dialin", false);
	json_decref(empty);
	pop(l, m);
}

static void load_policies(struct ld *l, json_t *arr)
{
	struct config *c = l->c;
	struct mark m = push_key(l, "policies");
	if (!arr || json_is_null(arr)) {
		pop(l, m);
		return;
	}
	if (!json_is_array(arr)) {
		problem(l, "expected an array of policies, got %s", json_type_phrase(arr));
		pop(l, m);
		return;
	}
	size_t total = 0, idx;
	json_t *p;
	json_array_foreach(arr, idx, p) {
		json_t *cs = json_is_object(p) ? json_object_get(p, "conditions") : NULL;
		total += json_is_array(cs) ? json_array_size(cs) : 0;
	}
	struct condition **slot_owner = calloc(total + 1, sizeof *slot_owner);
	c->policies = calloc(json_array_size(arr) + 1, sizeof *c->policies);
	if (!c->policies || !slot_owner) {
		free(slot_owner);
		pop(l, m);
		return;
	}
	static const char *const keys[] = {"name", "enabled", "conditions", "permission",
		"profile", "description", NULL};
	static const char *const perm_names[] = {"deny", "grant", NULL};
	json_array_foreach(arr, idx, p) {
		struct mark m2 = push_idx(l, idx);
		struct policy *po = &c->policies[c->npolicies++];
		po->path = strdup(l->path);
		if (!json_is_object(p)) {
			problem(l, "expected a policy object, got %s", json_type_phrase(p));
			po->name = strdup("?");
			pop(l, m2);
			continue;
		}
		check_keys(l, p, keys);
		const char *name = get_str(l, p, "name", true);
		po->name = xstrdup(name ? name : "?");
		for (size_t k = 0; name && k + 1 < c->npolicies; k++) {
			if (strcasecmp(c->policies[k].name, name) == 0) {
				struct mark m3 = push_key(l, "name");
				problem(l, "a policy named \"%s\" already exists (%s)", name,
				        c->policies[k].path);
				pop(l, m3);
				break;
			}
		}
		po->enabled = get_bool(l, p, "enabled", true);
		if (!json_object_get(p, "permission")) problem(l, "missing \"permission\" (grant or deny)");
		po->grant = get_enum(l, p, "permission", perm_names, 0) == 1;
		json_t *cs = json_object_get(p, "conditions");
		struct mark m3 = push_key(l, "conditions");
		if (!cs || json_is_null(cs)) {
			problem(l, "missing: a policy needs at least one condition");
		} else if (!json_is_array(cs)) {
			problem(l, "expected an array of conditions, got %s", json_type_phrase(cs));
		} else {
			if (!json_array_size(cs)) problem(l, "a policy needs at least one condition");
			po->conds = calloc(json_array_size(cs) + 1, sizeof *po->conds);
			size_t ci;
			json_t *cd;
			json_array_foreach(cs, ci, cd) {
				struct mark m4 = push_idx(l, ci);
				if (po->conds)
					load_condition(l, cd, &po->conds[po->nconds++], &c->nre_slots, slot_owner);
				pop(l, m4);
			}
			if (po->nconds > c->max_conds) c->max_conds = po->nconds;
		}
		pop(l, m3);
		load_profile(l, json_object_get(p, "profile"), &po->profile);
		pop(l, m2);
	}
	free(slot_owner);
	pop(l, m);
}

/* ---- users --------------------------------------------------------------------------- */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) h = (h ^ (uint64_t)tolower((unsigned char)*s)) * 1099511628211ull;
	return h;
}

const struct user *config_find_user(const struct config *c, const char *name)
{
	if (!c->uindex_cap || !name) return NULL;
	size_t mask = c->uindex_cap - 1, i = name_hash(name) & mask;
	for (size_t probe = 0; probe < c->uindex_cap; probe++, i = (i + 1) & mask) {
		size_t u = c->uindex[i];
		if (u == SIZE_MAX) return NULL;
		if (strcasecmp(c->users[u].name, name) == 0) return &c->users[u];
	}
	return NULL;
}

/* Parse one user object at the current path into u (also used for inline users of an
 * attempt, through config_parse_user). */
static void load_user(struct ld *l, json_t *o, struct user *u)
{
	static const char *const keys[] = {"name", "password", "groups", "dialin", "static_ip",
		"caller_id", "disabled", "locked", "password_expired", "logon_hours", "description",
		NULL};
	u->path = strdup(l->path);
	if (!json_is_object(o)) {
		problem(l, "expected a user object, got %s", json_type_phrase(o));
		u->name = strdup("?");
		return;
	}
	check_keys(l, o, keys);
	const char *name = get_str(l, o, "name", true);
	u->name = xstrdup(name ? name : "?");
	u->password = xstrdup(get_str(l, o, "password", false));
	/* what `vnet serve` can carry and check (engine/ppp/ppp_auth.h): refused here, so that no
	 * account exists whose credentials the server would have to skip */
	if (name && strlen(name) > PPP_AUTH_USER_MAX) {
		struct mark m = push_key(l, "name");
		problem(l, "the name is %zu bytes long; the server reads user names of at most %d "
		        "bytes (a Windows name of 256 characters with its domain fits)",
		        strlen(name), PPP_AUTH_USER_MAX);
		pop(l, m);
	}
	if (u->password && strlen(u->password) > PPP_AUTH_PASSWORD_MAX) {
		struct mark m = push_key(l, "password");
		problem(l, "the password is %zu bytes long; the server checks passwords of at most "
		        "%d bytes (the longest PAP carries; MS-CHAPv2 carries 256 UTF-16 characters)",
		        strlen(u->password), PPP_AUTH_PASSWORD_MAX);
		pop(l, m);
	}
	u->groups = get_group_list(l, o, "groups", &u->ngroups);
	u->dialin = (enum dialin)get_enum(l, o, "dialin", dialin_names, DIALIN_POLICY);
	const char *ip = get_str(l, o, "static_ip", false);
	if (ip) {
		if (ipv4_parse(ip, &u->static_ip)) {
			struct mark m = push_key(l, "static_ip");
			problem(l, "\"%s\" is not an IPv4 address", ip);
			pop(l, m);
		} else {
			u->has_static_ip = true;
		}
	}
	u->caller_id = xstrdup(get_str(l, o, "caller_id", false));
	u->disabled = get_bool(l, o, "disabled", false);
	u->locked = get_bool(l, o, "locked", false);
	u->password_expired = get_bool(l, o, "password_expired", false);
	u->logon_hours = get_grid(l, o, "logon_hours");
	u->closure = calloc(l->c->group_words, sizeof *u->closure);
	if (u->closure) config_group_closure(l->c, u->groups, u->ngroups, u->closure);
}

static void free_user(struct user *u)
{
	free(u->name);
	free(u->password);
	free(u->groups);
	free(u->closure);
	free(u->caller_id);
	free(u->logon_hours);
	free(u->path);
}

static void load_users(struct ld *l, json_t *arr)
{
	struct config *c = l->c;
	if (!arr || json_is_null(arr)) return;
	struct mark m = push_key(l, "users");
	if (!json_is_array(arr)) {
		problem(l, "expected an array of users, got %s", json_type_phrase(arr));
		pop(l, m);
		return;
	}
	size_t n = json_array_size(arr);
	c->users = calloc(n + 1, sizeof *c->users);
	size_t cap = 16;
	while (cap < 2 * n) cap *= 2;
	c->uindex = malloc(cap * sizeof *c->uindex);
	if (!c->users || !c->uindex) {
		pop(l, m);
		return;
	}
	for (size_t i = 0; i < cap; i++) c->uindex[i] = SIZE_MAX;
	c->uindex_cap = cap;
	size_t idx;
	json_t *o;
	json_array_foreach(arr, idx, o) {
		struct mark m2 = push_idx(l, idx);
		struct user *u = &c->users[c->nusers];
		load_user(l, o, u);
		const struct user *dup = json_is_object(o) ? config_find_user(c, u->name) : NULL;
		if (dup) {
			struct mark m3 = push_key(l, "name");
			problem(l, "user \"%s\" is already defined (%s)", u->name, dup->path);
			pop(l, m3);
			free_user(u);
			memset(u, 0, sizeof *u);
		} else {
			size_t i = name_hash(u->name) & (cap - 1);
			while (c->uindex[i] != SIZE_MAX) i = (i + 1) & (cap - 1);
			c->uindex[i] = c->nusers++;
		}
		pop(l, m2);
	}
	pop(l, m);
}

/* ---- certs ----------------------------------------------------------------------------- */
static char *resolve(const char *base_file, const char *p)
{
	if (!p) return NULL;
	if (p[0] == '/' || !base_file) return strdup(p);
	const char *slash = strrchr(base_file, '/');
	if (!slash) return strdup(p);
	size_t n = (size_t)(slash - base_file) + 1 + strlen(p) + 1;
	char *r = malloc(n);
	if (r) snprintf(r, n, "%.*s/%s", (int)(slash - base_file), base_file, p);
	return r;
}

static void load_certs(struct ld *l, json_t *o, const char *base)
{
	if (!o || json_is_null(o)) return;
	struct mark m = push_key(l, "certs");
	if (!json_is_object(o)) {
		problem(l, "expected an object, got %s", json_type_phrase(o));
	} else {
		static const char *const keys[] = {"store", "client_ca", "server_name", NULL};
		check_keys(l, o, keys);
		struct certs_conf *cc = &l->c->certs;
		cc->store = xstrdup(get_str(l, o, "store", false));
		cc->client_ca = xstrdup(get_str(l, o, "client_ca", false));
		cc->server_name = xstrdup(get_str(l, o, "server_name", false));
		cc->store_path = resolve(base, cc->store);
		cc->client_ca_path = resolve(base, cc->client_ca);
	}
	pop(l, m);
}

static void get_addr(struct ld *l, json_t *o, const char *key, bool *has, uint32_t *out)
{
	const char *t = get_str(l, o, key, false);
	if (!t) return;
	if (ipv4_parse(t, out) != 0) {
		struct mark m = push_key(l, key);
		problem(l, "\"%s\" is not an IPv4 address", t);
		pop(l, m);
		return;
	}
	if (has) *has = true;
}

/* Up to two IPv4 addresses ("dns", "wins"). */
static void get_addr2(struct ld *l, json_t *o, const char *key, uint32_t out[2])
{
	size_t n = 0;
	char **v = get_strv(l, o, key, &n);
	struct mark m = push_key(l, key);
	if (n > 2) problem(l, "at most two addresses, got %zu", n);
	for (size_t i = 0; i < n && i < 2; i++) {
		struct mark mi = push_idx(l, i);
		if (ipv4_parse(v[i], &out[i]) != 0) problem(l, "\"%s\" is not an IPv4 address", v[i]);
		pop(l, mi);
	}
	pop(l, m);
	free_strv(v, n);
}

/* A sub-object of "serve"; an empty object stands in when absent. */
static json_t *sub_object(struct ld *l, json_t *o, const char *key, json_t **empty)
{
	json_t *v = json_object_get(o, key);
	if (v && !json_is_null(v) && !json_is_object(v)) {
		struct mark m = push_key(l, key);
		problem(l, "expected an object, got %s", json_type_phrase(v));
		pop(l, m);
		v = NULL;
	}
	if (!v || json_is_null(v)) v = *empty = json_object();
	return v;
}

/* serve.radius_server: vnet's own RADIUS server and the clients it answers. */
static void get_listen(struct ld *l, json_t *o, const char *key, unsigned port, char **out)
{
	const char *v = get_str(l, o, key, false);
	struct sockaddr_storage ss;
	if (v && net_hostport_parse(v, port, &ss, NULL) != 0) {
		struct mark m = push_key(l, key);
		problem(l, "\"%s\" is not ADDR[:PORT] (an IPv4 address, or an IPv6 address in "
		        "brackets when a port follows)", v);
		pop(l, m);
		return;
	}
	*out = xstrdup(v);
}

/* An array of {"name", "address", "secret"} (at the current path): the RADIUS peers
 * whose datagrams come from those addresses, with their shared secrets. */
static void load_nps_clients(struct ld *l, json_t *cl, struct nps_client **out, size_t *n)
{
	if (!json_is_array(cl)) {
		problem(l, "expected an array of {\"name\", \"address\", \"secret\"}, got %s",
		        json_type_phrase(cl));
		return;
	}
	*out = calloc(json_array_size(cl) + 1, sizeof **out);
	size_t idx;
	json_t *e;
	static const char *const ck[] = {"name", "address", "secret", NULL};
	json_array_foreach(cl, idx, e) {
		struct mark m3 = push_idx(l, idx);
		if (!json_is_object(e)) {
			problem(l, "expected {\"name\", \"address\", \"secret\"}, got %s",
			        json_type_phrase(e));
			pop(l, m3);
			continue;
		}
		if (!*out) {
			pop(l, m3);
			continue;
		}
		check_keys(l, e, ck);
		struct nps_client *c = &(*out)[(*n)++];
		c->path = strdup(l->path);
		const char *name = get_str(l, e, "name", false);
		const char *addr = get_str(l, e, "address", true);
		const char *sec = get_str(l, e, "secret", true);
		c->address = xstrdup(addr);
		c->name = xstrdup(name ? name : addr);
		c->secret = xstrdup(sec);
		if (sec && !sec[0]) {
			struct mark m4 = push_key(l, "secret");
			problem(l, "an empty shared secret");
			pop(l, m4);
		}
		if (addr) {
			if (strchr(addr, ':') && inet_pton(AF_INET6, addr, c->addr6) == 1) {
				c->family = AF_INET6;
			} else if (cidr_parse(addr, &c->net) == 0) {
				c->family = AF_INET;
			} else {
				struct mark m4 = push_key(l, "address");
				problem(l, "\"%s\" is not an IPv4 address or network (192.0.2.0/24) or an "
				        "IPv6 address", addr);
				pop(l, m4);
			}
		}
		pop(l, m3);
	}
}

static void load_radius_server(struct ld *l, json_t *o)
{
	struct serve_conf *sc = &l->c->serve;
	sc->radius_cache = 256;
	sc->radius_eap_conversations = 1024;
	sc->radius_eap_timeout = 30;
	if (!o || json_is_null(o)) return;
	struct mark m = push_key(l, "radius_server");
	if (!json_is_object(o)) {
		problem(l, "expected {\"listen\", \"clients\"}, got %s", json_type_phrase(o));
		pop(l, m);
		return;
	}
	static const char *const keys[] = {"listen", "accounting_listen", "clients",
		"duplicate_cache", "eap_conversations", "eap_timeout", NULL};
	check_keys(l, o, keys);
	get_listen(l, o, "listen", 1812, &sc->radius_listen);
	get_listen(l, o, "accounting_listen", 1813, &sc->radius_acct_listen);
	if (!json_object_get(o, "listen")) problem(l, "missing \"listen\"");
	sc->radius_cache = get_int(l, o, "duplicate_cache", 1, 65536, 256);
	sc->radius_eap_conversations = get_int(l, o, "eap_conversations", 1, 65536, 1024);
	sc->radius_eap_timeout = get_int(l, o, "eap_timeout", 1, 600, 30);
	json_t *cl = json_object_get(o, "clients");
	struct mark m2 = push_key(l, "clients");
	if (!cl || json_is_null(cl)) {
		pop(l, m2);
		problem(l, "missing \"clients\" (the NAS that may ask, with their secrets)");
		pop(l, m);
		return;
	}
	load_nps_clients(l, cl, &sc->nps_clients, &sc->nnps_clients);
	pop(l, m2);
	pop(l, m);
}

const char *const ipsec_auth_names[] = {"psk", "certificate", NULL};

/* serve.ipsec: present (an object) turns L2TP/IPsec on. The key is serve.ipsec.psk or,
 * without it, the server's custom IPsec policy key (server.l2tp_psk): one key, so two that
 * differ are a mistake. Needs server.l2tp_psk loaded first. */
static void load_ipsec(struct ld *l, json_t *o)
{
	struct serve_conf *sc = &l->c->serve;
	sc->ike_port = 500;
	sc->natt_port = 4500;
	sc->ipsec_natt = true;
	sc->ipsec_required = true;
	sc->ipsec_sas = 4096;
	sc->ipsec_half_open = 512;
	if (!o || json_is_null(o)) return;
	struct mark m = push_key(l, "ipsec");
	if (!json_is_object(o)) {
		problem(l, "expected an object, got %s", json_type_phrase(o));
		pop(l, m);
		return;
	}
	static const char *const keys[] = {"listen", "ike_port", "natt_port", "auth", "psk",
		"phase1", "phase2", "natt", "required", "limits", "dh_reuse", NULL};
	check_keys(l, o, keys);
	sc->ipsec = true;
	sc->ipsec_listen = xstrdup(get_str(l, o, "listen", false));
	if (sc->ipsec_listen) {
		struct in_addr a;
		if (inet_pton(AF_INET, sc->ipsec_listen, &a) != 1) {
			struct mark mk = push_key(l, "listen");
			problem(l, "\"%s\" is not an IPv4 address (IKE and ESP listen on ports of their "
			        "own: ike_port, natt_port)", sc->ipsec_listen);
			pop(l, mk);
		}
	}
	sc->ike_port = get_int(l, o, "ike_port", 1, 65535, 500);
	sc->natt_port = get_int(l, o, "natt_port", 1, 65535, 4500);
	if (sc->ike_port == sc->natt_port) {
		struct mark mk = push_key(l, "natt_port");
		problem(l, "%d is also ike_port: NAT traversal needs a port of its own", sc->natt_port);
		pop(l, mk);
	}
	const char *psk = get_str(l, o, "psk", false);
	const char *spsk = l->c->server.l2tp_psk;
	if (psk && !psk[0]) {
		struct mark mk = push_key(l, "psk");
		problem(l, "an empty pre-shared key");
		pop(l, mk);
	} else if (psk && spsk && strcmp(psk, spsk) != 0) {
		struct mark mk = push_key(l, "psk");
		problem(l, "differs from server.l2tp_psk: the server has one pre-shared key for L2TP "
		        "(give it in one place)");
		pop(l, mk);
	}
	sc->ipsec_psk = xstrdup(psk ? psk : spsk);
	const char *store = l->c->certs.store;
	uint32_t def = sc->ipsec_psk ? 1u << IPSEC_AUTH_PSK : store ? 1u << IPSEC_AUTH_CERT : 0;
	sc->ipsec_auth = get_mask(l, o, "auth", ipsec_auth_names, def);
	if (!sc->ipsec_auth)
		problem(l, "no way to authenticate: give a pre-shared key (psk here or "
		        "server.l2tp_psk) or a certificate store (certs.store)");
	if (sc->ipsec_auth >> IPSEC_AUTH_PSK & 1 && !sc->ipsec_psk) {
		struct mark mk = push_key(l, "auth");
		problem(l, "psk needs a pre-shared key: psk here or server.l2tp_psk");
		pop(l, mk);
	}
	if (sc->ipsec_auth >> IPSEC_AUTH_CERT & 1 && !store) {
		struct mark mk = push_key(l, "auth");
		problem(l, "certificate needs certs.store: the server presents the certificate "
		        "`vnet cert pick --purpose l2tp` chooses from it");
		pop(l, mk);
	}
	struct ikev1_conf ic;
	char why[200];
	sc->ipsec_phase1 = xstrdup(get_str(l, o, "phase1", false));
	if (sc->ipsec_phase1 && ikev1_conf_parse_p1(&ic, sc->ipsec_phase1, why, sizeof why) < 0) {
		struct mark mk = push_key(l, "phase1");
		problem(l, "%s", why);
		pop(l, mk);
	}
	sc->ipsec_phase2 = xstrdup(get_str(l, o, "phase2", false));
	if (sc->ipsec_phase2 && ikev1_conf_parse_p2(&ic, sc->ipsec_phase2, why, sizeof why) < 0) {
		struct mark mk = push_key(l, "phase2");
		problem(l, "%s", why);
		pop(l, mk);
	}
	sc->ipsec_natt = get_bool(l, o, "natt", true);
	sc->ipsec_required = get_bool(l, o, "required", true);
	/* seconds a Diffie-Hellman key pair may serve further exchanges: 0 (the default) a
	 * fresh pair per exchange; at most an hour */
	sc->ipsec_dh_reuse = get_int(l, o, "dh_reuse", 0, 3600, 0);
	json_t *e = NULL;
	json_t *li = sub_object(l, o, "limits", &e);
	struct mark ml = push_key(l, "limits");
	static const char *const lk[] = {"sas", "half_open", NULL};
	check_keys(l, li, lk);
	sc->ipsec_sas = get_int(l, li, "sas", 1, 1000000, 4096);
	sc->ipsec_half_open = get_int(l, li, "half_open", 1, 1000000, 512);
	pop(l, ml);
	json_decref(e);
	pop(l, m);
}

/* serve.ikev2: present (an object) turns IKEv2 remote access on. Its IKE ports and
 * address are those of serve.ipsec (one pair of sockets serves both versions): given here
 * only when serve.ipsec is absent, else they must agree. Needs serve.ipsec loaded first. */
static void load_ikev2(struct ld *l, json_t *o)
{
	struct serve_conf *sc = &l->c->serve;
	sc->ikev2_sas = 4096;
	sc->ikev2_half_open = 512;
	sc->ikev2_cookie_threshold = 64;
	sc->ikev2_fragment_size = 1280;
	sc->ikev2_dpd = 60;
	sc->ikev2_ike_lifetime = 28800;
	sc->ikev2_child_lifetime = 3600;
	sc->ikev2_rekey = true;
	sc->ikev2_machine_certs = -1;
	if (!o || json_is_null(o)) return;
	struct mark m = push_key(l, "ikev2");
	if (!json_is_object(o)) {
		problem(l, "expected an object, got %s", json_type_phrase(o));
		pop(l, m);
		return;
	}
	static const char *const keys[] = {"listen", "ike_port", "natt_port", "auth", "psk", "id",
		"ike", "esp", "dns", "fragment_size", "dpd", "ike_lifetime", "child_lifetime", "rekey",
		"machine_certificates", "limits", NULL};
	check_keys(l, o, keys);
	sc->ikev2 = true;
	const char *listen = get_str(l, o, "listen", false);
	if (listen) {
		struct in_addr a;
		struct mark mk = push_key(l, "listen");
		if (inet_pton(AF_INET, listen, &a) != 1)
			problem(l, "\"%s\" is not an IPv4 address", listen);
		else if (sc->ipsec && (!sc->ipsec_listen || strcmp(sc->ipsec_listen, listen) != 0))
			problem(l, "differs from serve.ipsec.listen: IKEv1 and IKEv2 share the IKE sockets "
			        "(give the address in serve.ipsec)");
		else if (!sc->ipsec)
			sc->ipsec_listen = xstrdup(listen);
		pop(l, mk);
	}
	static const char *const ports[2] = {"ike_port", "natt_port"};
	int *port[2] = {&sc->ike_port, &sc->natt_port};
	for (int i = 0; i < 2; i++) {
		if (!json_object_get(o, ports[i])) continue;
		int v = get_int(l, o, ports[i], 1, 65535, *port[i]);
		struct mark mk = push_key(l, ports[i]);
		if (sc->ipsec && v != *port[i])
			problem(l, "%d differs from serve.ipsec.%s (%d): IKEv1 and IKEv2 share the IKE "
			        "sockets", v, ports[i], *port[i]);
		else
			*port[i] = v;
		pop(l, mk);
	}
	if (sc->ike_port == sc->natt_port) {
		struct mark mk = push_key(l, "natt_port");
		problem(l, "%d is also ike_port: NAT traversal needs a port of its own", sc->natt_port);
		pop(l, mk);
	}
	const char *psk = get_str(l, o, "psk", false);
	if (psk && !psk[0]) {
		struct mark mk = push_key(l, "psk");
		problem(l, "an empty pre-shared key");
		pop(l, mk);
	}
	sc->ikev2_psk = xstrdup(psk);
	const char *store = l->c->certs.store;
	uint32_t def = store ? 1u << IPSEC_AUTH_CERT : psk ? 1u << IPSEC_AUTH_PSK : 0;
	uint32_t am = get_mask(l, o, "auth", ipsec_auth_names, def);
	struct mark ma = push_key(l, "auth");
	if (!am)
		problem(l, "no way for the server to prove itself: a certificate store (certs.store) "
		        "or a pre-shared key (psk)");
	else if (am & (am - 1))
		problem(l, "one of certificate or psk: the server proves itself one way");
	else if (am >> IPSEC_AUTH_CERT & 1 && !store)
		problem(l, "certificate needs certs.store: the server presents the certificate "
		        "`vnet cert pick --purpose ikev2` chooses from it");
	else if (am >> IPSEC_AUTH_PSK & 1 && !sc->ikev2_psk)
		problem(l, "psk needs a pre-shared key (serve.ikev2.psk)");
	pop(l, ma);
	sc->ikev2_auth = am >> IPSEC_AUTH_PSK & 1 ? IPSEC_AUTH_PSK : IPSEC_AUTH_CERT;
	sc->ikev2_id = xstrdup(get_str(l, o, "id", false));
	struct ikev2_conf vc;
	ikev2_conf_default(&vc);
	char why[200];
	sc->ikev2_ike = xstrdup(get_str(l, o, "ike", false));
	if (sc->ikev2_ike && ikev2_conf_parse_ike(&vc, sc->ikev2_ike, why, sizeof why) < 0) {
		struct mark mk = push_key(l, "ike");
		problem(l, "%s", why);
		pop(l, mk);
	}
	sc->ikev2_esp = xstrdup(get_str(l, o, "esp", false));
	if (sc->ikev2_esp && ikev2_conf_parse_esp(&vc, sc->ikev2_esp, why, sizeof why) < 0) {
		struct mark mk = push_key(l, "esp");
		problem(l, "%s", why);
		pop(l, mk);
	}
	get_addr2(l, o, "dns", sc->ikev2_dns);
	sc->ikev2_fragment_size = get_int(l, o, "fragment_size", 576, IKEV2_DATAGRAM_MAX, 1280);
	sc->ikev2_dpd = get_int(l, o, "dpd", 0, 3600, 60);
	/* RRAS's IKEv2 SA expiration time is not in the reference: 480 min as Windows' main
	 * mode key lifetime and 60 min as its quick mode one (inferred) */
	sc->ikev2_ike_lifetime = get_int(l, o, "ike_lifetime", 20, 172800, 28800);
	sc->ikev2_child_lifetime = get_int(l, o, "child_lifetime", 10, 172800, 3600);
	sc->ikev2_rekey = get_bool(l, o, "rekey", true);
	if (json_object_get(o, "machine_certificates")) {
		sc->ikev2_machine_certs = get_bool(l, o, "machine_certificates", false) ? 1 : 0;
		struct mark mk = push_key(l, "machine_certificates");
		if (sc->ikev2_machine_certs == 1 && !store)
			problem(l, "true needs certs.store: the clients' certificates must chain to its "
			        "CAs (roots/ and intermediates/)");
		else if (sc->ikev2_machine_certs == 1 && sc->ikev2_auth == IPSEC_AUTH_PSK)
			problem(l, "true needs serve.ikev2.auth certificate: the server proves itself "
			        "with its certificate to clients that prove themselves with theirs");
		pop(l, mk);
	}
	json_t *e = NULL;
	json_t *li = sub_object(l, o, "limits", &e);
	struct mark ml = push_key(l, "limits");
	static const char *const lk[] = {"sas", "half_open", "cookie_threshold", NULL};
	check_keys(l, li, lk);
	sc->ikev2_sas = get_int(l, li, "sas", 1, 1000000, 4096);
	sc->ikev2_half_open = get_int(l, li, "half_open", 1, 1000000, 512);
	sc->ikev2_cookie_threshold = get_int(l, li, "cookie_threshold", 0, 1000000, 64);
	pop(l, ml);
	json_decref(e);
	pop(l, m);
}

static void load_serve(struct ld *l, json_t *o, const char *base)
{
	struct serve_conf *sc = &l->c->serve;
	json_t *empty = NULL, *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;
	struct mark m = push_key(l, "serve");
	if (o && !json_is_null(o) && !json_is_object(o)) {
		problem(l, "expected an object, got %s", json_type_phrase(o));
		o = NULL;
	}
	if (!o || json_is_null(o)) o = empty = json_object();
	static const char *const keys[] = {"listen", "host_name", "local_address", "dns", "wins",
		"accounting", "tun", "l2tp", "pptp", "ppp", "limits", "radius_server", "ipsec", "ikev2",
		NULL};
	check_keys(l, o, keys);
	sc->listen = xstrdup(get_str(l, o, "listen", false));
	sc->host_name = xstrdup(get_str(l, o, "host_name", false));
	get_addr(l, o, "local_address", &sc->has_local_address, &sc->local_address);
	get_addr2(l, o, "dns", sc->dns);
	get_addr2(l, o, "wins", sc->wins);
	sc->accounting = xstrdup(get_str(l, o, "accounting", false));
	sc->accounting_path = resolve(base, sc->accounting);
	sc->tun = xstrdup(get_str(l, o, "tun", false));

	json_t *t = sub_object(l, o, "l2tp", &e1);
	struct mark ml = push_key(l, "l2tp");
	static const char *const lk[] = {"secret", "hide_avps", "hello_interval", "retries",
		"rto_max", NULL};
	check_keys(l, t, lk);
	sc->secret = xstrdup(get_str(l, t, "secret", false));
	sc->hide_avps = get_bool(l, t, "hide_avps", false);
	if (sc->hide_avps && !sc->secret) problem(l, "hide_avps needs a secret");
	sc->hello_interval = get_int(l, t, "hello_interval", 0, 3600, 60);
	sc->retries = get_int(l, t, "retries", 1, 20, 5);
	sc->rto_max = get_int(l, t, "rto_max", 1, 120, 8);
	pop(l, ml);

	json_t *pt = sub_object(l, o, "pptp", &e4);
	struct mark mpt = push_key(l, "pptp");
	static const char *const ptk[] = {"listen", "connections", "calls_per_connection", NULL};
	check_keys(l, pt, ptk);
	sc->pptp_listen = xstrdup(get_str(l, pt, "listen", false));
	sc->pptp_connections = get_int(l, pt, "connections", 1, 1000000, 16384);
	sc->pptp_calls = get_int(l, pt, "calls_per_connection", 1, SERVE_PPTP_CALLS_MAX, 4);
	pop(l, mpt);

	json_t *p = sub_object(l, o, "ppp", &e2);
	struct mark mp = push_key(l, "ppp");
	static const char *const pk[] = {"mru", "echo_interval", "echo_failures", "auth_retries",
		"auth_timeout", "ipv6", NULL};
	check_keys(l, p, pk);
	sc->mru = get_int(l, p, "mru", 576, SERVE_MRU_MAX, 1400);
	sc->echo_interval = get_int(l, p, "echo_interval", 0, 3600, 30);
	sc->echo_failures = get_int(l, p, "echo_failures", 1, 100, 5);
	sc->auth_retries = get_int(l, p, "auth_retries", 0, 10, 2);
	sc->auth_timeout = get_int(l, p, "auth_timeout", 1, 600, 30);
	sc->ipv6 = get_bool(l, p, "ipv6", false);
	pop(l, mp);

	json_t *li = sub_object(l, o, "limits", &e3);
	struct mark mli = push_key(l, "limits");
	static const char *const lik[] = {"tunnels", "sessions", "half_open",
		"new_tunnels_per_source", NULL};
	check_keys(l, li, lik);
	sc->max_tunnels = get_int(l, li, "tunnels", 1, 1000000, 4096);
	sc->max_sessions = get_int(l, li, "sessions", 1, 1000000, 20000);
	sc->max_half_open = get_int(l, li, "half_open", 1, 1000000, 256);
	sc->new_tunnels_per_source = get_int(l, li, "new_tunnels_per_source", 0, 1000000, 100);
	pop(l, mli);

	load_radius_server(l, json_object_get(o, "radius_server"));
	load_ipsec(l, json_object_get(o, "ipsec"));
	load_ikev2(l, json_object_get(o, "ikev2"));
	l->c->server.radius_conf.queue_path = resolve(base, l->c->server.radius_conf.queue);

	json_decref(empty);
	json_decref(e1);
	json_decref(e2);
	json_decref(e3);
	json_decref(e4);
	pop(l, m);
}

/* ---- what the knowledge base needs beyond the decision (docs/formats.md) ------------- */
const char *const server_os_names[] = {"nt4", "2000", "2003", "2008", "2008r2", "2012",
	"2012r2", "2016", "2019", "2022", "2025", NULL};
const char *const routing_names[] = {"none", "rip", "ospf", NULL};

int config_cidr_parse(const char *s, struct ip_range *r)
{
	return cidr_parse(s, r);
}

/* An IPX network number: up to 8 hex digits, optionally 0x. */
static int ipx_net_parse(const char *s, uint32_t *out)
{
	if (!s) return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2;
	size_t n = strlen(s);
	if (n < 1 || n > 8) return -1;
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++) {
		int d = isdigit((unsigned char)s[i]) ? s[i] - '0'
		        : (s[i] >= 'a' && s[i] <= 'f') ? s[i] - 'a' + 10
		        : (s[i] >= 'A' && s[i] <= 'F') ? s[i] - 'A' + 10 : -1;
		if (d < 0) return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

/* A list of networks at key `key` of `o` into a malloc'ed range array. */
static struct ip_range *get_cidrs(struct ld *l, json_t *o, const char *key, size_t *n)
{
	size_t nv;
	char **v = get_strv(l, o, key, &nv);
	struct ip_range *r = calloc(nv + 1, sizeof *r);
	*n = 0;
	for (size_t i = 0; i < nv; i++) {
		struct ip_range x;
		if (cidr_parse(v[i], &x)) {
			struct mark m2 = push_key(l, key);
			struct mark m3 = push_idx(l, i);
			problem(l, "\"%s\" is not an IPv4 network (192.168.1.0/24)", v[i]);
			pop(l, m3);
			pop(l, m2);
		} else if (r) {
			r[(*n)++] = x;
		}
	}
	free_strv(v, nv);
	return r;
}

/* server.radius.dynamic_authorization: the RFC 5176 listener (true: every default). */
static void load_radius_dae(struct ld *l, json_t *o, bool *clients_given)
{
	struct radius_dae_conf *d = &l->c->server.radius_conf.dae;
	d->window = 300;
	d->cache = 256;
	*clients_given = false;
	if (!o || json_is_null(o) || json_is_false(o)) return;
	struct mark m = push_key(l, "dynamic_authorization");
	json_t *empty = NULL;
	if (json_is_true(o)) o = empty = json_object();
	if (!json_is_object(o)) {
		problem(l, "expected true or {\"listen\", \"clients\", ...}, got %s",
		        json_type_phrase(o));
		pop(l, m);
		return;
	}
	static const char *const keys[] = {"listen", "clients", "require_message_authenticator",
		"require_event_timestamp", "event_timestamp_window", "duplicate_cache", NULL};
	check_keys(l, o, keys);
	d->on = true;
	get_listen(l, o, "listen", RADIUS_DAE_PORT, &d->listen);
	d->require_msg_auth = get_bool(l, o, "require_message_authenticator", false);
	d->require_timestamp = get_bool(l, o, "require_event_timestamp", false);
	d->window = get_int(l, o, "event_timestamp_window", 1, 86400, 300);
	d->cache = get_int(l, o, "duplicate_cache", 1, 65536, 256);
	json_t *cl = json_object_get(o, "clients");
	if (cl && !json_is_null(cl)) {
		struct mark m2 = push_key(l, "clients");
		load_nps_clients(l, cl, &d->clients, &d->nclients);
		*clients_given = true;
		pop(l, m2);
	}
	json_decref(empty);
	pop(l, m);
}

/* Without dynamic_authorization.clients: the RADIUS servers, each from its address (any
 * port) with its secret. */
static void dae_clients_of_servers(struct ld *l)
{
	struct server *sv = &l->c->server;
	struct radius_dae_conf *d = &sv->radius_conf.dae;
	d->clients = calloc(sv->nradius + 1, sizeof *d->clients);
	for (size_t i = 0; d->clients && i < sv->nradius; i++) {
		const struct radius_server *rs = &sv->radius[i];
		struct sockaddr_storage ss;
		if (!rs->secret || !rs->address || net_hostport_parse(rs->address, 1812, &ss, NULL))
			continue;
		struct nps_client *c = &d->clients[d->nclients++];
		c->family = ss.ss_family;
		if (ss.ss_family == AF_INET) {
			c->net.start = c->net.end = ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr);
		} else {
			memcpy(c->addr6, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		}
		c->address = xstrdup(rs->address);
		c->name = xstrdup(rs->address);
		c->secret = xstrdup(rs->secret);
		c->path = xstrdup(rs->path);
	}
	if (!d->nclients) {
		struct mark m = push_key(l, "radius");
		struct mark m2 = push_key(l, "dynamic_authorization");
		problem(l, "no \"clients\", and no RADIUS server with a secret to take them from "
		        "(the servers that may send Disconnect-Request and CoA-Request)");
		pop(l, m2);
		pop(l, m);
	}
}

/* server.radius: the RADIUS servers `vnet serve` asks with auth_provider radius. */
static void load_radius_client(struct ld *l, json_t *rad)
{
	struct server *sv = &l->c->server;
	struct radius_client_conf *rc = &sv->radius_conf;
	rc->dead_time = 60;
	rc->queue_max = 1000;
	rc->dae.window = 300;
	rc->dae.cache = 256;
	if (!rad || json_is_null(rad)) return;
	struct mark m = push_key(l, "radius");
	if (!json_is_object(rad)) {
		problem(l, "expected {\"servers\": [...]}, got %s", json_type_phrase(rad));
		pop(l, m);
		return;
	}
	static const char *const rk[] = {"servers", "nas_identifier", "nas_ip_address",
		"dead_time", "interim_interval", "accounting_queue", "accounting_queue_max",
		"dynamic_authorization", NULL};
	check_keys(l, rad, rk);
	rc->nas_identifier = xstrdup(get_str(l, rad, "nas_identifier", false));
	get_addr(l, rad, "nas_ip_address", &rc->has_nas_ip, &rc->nas_ip);
	rc->dead_time = get_int(l, rad, "dead_time", 1, 86400, 60);
	rc->interim = get_int(l, rad, "interim_interval", 0, 86400, 0);
	if (rc->interim && rc->interim < 60) {
		struct mark m2 = push_key(l, "interim_interval");
		problem(l, "%d seconds is shorter than RFC 2869 allows (at least 60, 0 for none)",
		        rc->interim);
		pop(l, m2);
	}
	rc->queue = xstrdup(get_str(l, rad, "accounting_queue", false));
	rc->queue_max = get_int(l, rad, "accounting_queue_max", 1, 1000000, 1000);
	json_t *servers = json_object_get(rad, "servers");
	if (servers && !json_is_null(servers)) {
		struct mark m2 = push_key(l, "servers");
		if (!json_is_array(servers)) {
			problem(l, "expected an array of {\"address\", \"secret\"}, got %s",
			        json_type_phrase(servers));
		} else {
			sv->radius = calloc(json_array_size(servers) + 1, sizeof *sv->radius);
			size_t idx;
			json_t *e;
			static const char *const sk[] = {"address", "secret", "port", "accounting_port",
				"timeout", "retries", "priority", NULL};
			json_array_foreach(servers, idx, e) {
				struct mark m3 = push_idx(l, idx);
				if (!json_is_object(e)) {
					problem(l, "expected {\"address\", \"secret\"}, got %s",
					        json_type_phrase(e));
				} else if (sv->radius) {
					check_keys(l, e, sk);
					struct radius_server *rs = &sv->radius[sv->nradius++];
					rs->path = strdup(l->path);
					rs->address = xstrdup(get_str(l, e, "address", true));
					rs->secret = xstrdup(get_str(l, e, "secret", false));
					struct sockaddr_storage ss;
					if (rs->address && net_hostport_parse(rs->address, 1812, &ss, NULL) != 0) {
						struct mark m4 = push_key(l, "address");
						problem(l, "\"%s\" is not an IPv4 or IPv6 address", rs->address);
						pop(l, m4);
					}
					if (rs->secret && !rs->secret[0]) {
						struct mark m4 = push_key(l, "secret");
						problem(l, "an empty shared secret");
						pop(l, m4);
					}
					rs->port = get_int(l, e, "port", 1, 65535, 1812);
					rs->acct_port = get_int(l, e, "accounting_port", 1, 65535, 1813);
					rs->timeout_ms = get_int(l, e, "timeout", 1, 60, 3) * 1000;
					rs->retries = get_int(l, e, "retries", 0, 10, 2);
					rs->priority = get_int(l, e, "priority", 0, 1000, 1);
				}
				pop(l, m3);
			}
			/* by priority, equal ones in the order written (insertion sort is stable) */
			for (size_t i = 1; sv->radius && i < sv->nradius; i++) {
				struct radius_server x = sv->radius[i];
				size_t j = i;
				while (j > 0 && sv->radius[j - 1].priority > x.priority) {
					sv->radius[j] = sv->radius[j - 1];
					j--;
				}
				sv->radius[j] = x;
			}
		}
		pop(l, m2);
	}
	bool given;
	load_radius_dae(l, json_object_get(rad, "dynamic_authorization"), &given);
	pop(l, m);
	if (rc->dae.on && !given) dae_clients_of_servers(l);
}

static void load_server_ext(struct ld *l, json_t *s)
{
	struct server *sv = &l->c->server;
	for (int t = 0; t < TUN_N; t++) sv->ports_inbound[t] = true;
	json_t *pi = json_object_get(s, "ports_inbound");
	if (pi && !json_is_null(pi)) {
		struct mark m = push_key(l, "ports_inbound");
		if (!json_is_object(pi)) {
			problem(l, "expected an object of true/false per tunnel type, got %s",
			        json_type_phrase(pi));
		} else {
			check_keys(l, pi, tunnel_names);
			for (int t = 0; t < TUN_N; t++)
				sv->ports_inbound[t] = get_bool(l, pi, tunnel_names[t], true);
		}
		pop(l, m);
	}
	sv->l2tp_psk = xstrdup(get_str(l, s, "l2tp_psk", false));
	if (sv->l2tp_psk && !sv->l2tp_psk[0]) {
		struct mark m = push_key(l, "l2tp_psk");
		problem(l, "an empty pre-shared key (leave the key out for certificates only)");
		pop(l, m);
	}
	sv->ad_registered = get_bool(l, s, "ad_registered", true);
	sv->os = get_enum(l, s, "os", server_os_names, OS_2003);
	sv->internet_filters = get_bool(l, s, "internet_filters", false);
	load_radius_client(l, json_object_get(s, "radius"));
	json_t *ipx = json_object_get(s, "ipx");
	if (ipx && !json_is_null(ipx)) {
		struct mark m = push_key(l, "ipx");
		if (!json_is_object(ipx)) {
			problem(l, "expected an object, got %s", json_type_phrase(ipx));
		} else {
			static const char *const xk[] = {"client_node_allowed", "network_from",
				"network_to", NULL};
			check_keys(l, ipx, xk);
			sv->ipx_client_node = get_bool(l, ipx, "client_node_allowed", false);
			const char *f = get_str(l, ipx, "network_from", false);
			const char *t = get_str(l, ipx, "network_to", false);
			if (f || t) {
				bool ok = true;
				if (!f || !t) {
					problem(l, "network_from and network_to go together");
					ok = false;
				}
				if (f && ipx_net_parse(f, &sv->ipx_net_from)) {
					struct mark m2 = push_key(l, "network_from");
					problem(l, "\"%s\" is not an IPX network number (up to 8 hex digits)", f);
					pop(l, m2);
					ok = false;
				}
				if (t && ipx_net_parse(t, &sv->ipx_net_to)) {
					struct mark m2 = push_key(l, "network_to");
					problem(l, "\"%s\" is not an IPX network number (up to 8 hex digits)", t);
					pop(l, m2);
					ok = false;
				}
				if (ok && sv->ipx_net_to < sv->ipx_net_from) {
					problem(l, "the range ends (%s) before it starts (%s)", t, f);
					ok = false;
				}
				sv->has_ipx_networks = ok;
			}
		}
		pop(l, m);
	}
}

static void load_demand_dial(struct ld *l, json_t *arr)
{
	struct config *c = l->c;
	if (!arr || json_is_null(arr)) return;
	struct mark m = push_key(l, "demand_dial");
	if (!json_is_array(arr)) {
		problem(l, "expected an array of demand-dial interfaces, got %s", json_type_phrase(arr));
		pop(l, m);
		return;
	}
	c->dd = calloc(json_array_size(arr) + 1, sizeof *c->dd);
	size_t idx;
	json_t *o;
	static const char *const keys[] = {"name", "protocols", "routes", "routing", "filters",
		"description", NULL};
	json_array_foreach(arr, idx, o) {
		struct mark m2 = push_idx(l, idx);
		if (!json_is_object(o)) {
			problem(l, "expected a demand-dial interface object, got %s", json_type_phrase(o));
			pop(l, m2);
			continue;
		}
		if (!c->dd) {
			pop(l, m2);
			continue;
		}
		check_keys(l, o, keys);
		struct demand_dial *d = &c->dd[c->ndd++];
		d->path = strdup(l->path);
		const char *name = get_str(l, o, "name", true);
		d->name = xstrdup(name ? name : "?");
		for (size_t k = 0; name && k + 1 < c->ndd; k++)
			if (strcasecmp(c->dd[k].name, name) == 0) {
				struct mark m3 = push_key(l, "name");
				problem(l, "a demand-dial interface named \"%s\" already exists (%s)", name,
				        c->dd[k].path);
				pop(l, m3);
				break;
			}
		d->lan_mask = get_mask(l, o, "protocols", lan_proto_names, 1u << LAN_IP);
		d->routes = get_cidrs(l, o, "routes", &d->nroutes);
		d->routing = get_enum(l, o, "routing", routing_names, 0);
		json_t *f = json_object_get(o, "filters");
		if (f && !json_is_null(f)) {
			struct mark m3 = push_key(l, "filters");
			if (!json_is_object(f)) {
				problem(l, "expected {\"input\": [...], \"output\": [...]}, got %s",
				        json_type_phrase(f));
			} else {
				static const char *const fk[] = {"input", "output", NULL};
				check_keys(l, f, fk);
				d->filters_in = get_strv(l, f, "input", &d->nfilters_in);
				d->filters_out = get_strv(l, f, "output", &d->nfilters_out);
				compile_filters(l, "input", d->filters_in, d->nfilters_in, &d->fin);
				compile_filters(l, "output", d->filters_out, d->nfilters_out, &d->fout);
			}
			pop(l, m3);
		}
		pop(l, m2);
	}
	pop(l, m);
}

static void load_surroundings(struct ld *l, json_t *root)
{
	struct config *c = l->c;
	load_demand_dial(l, json_object_get(root, "demand_dial"));
	c->pre2000_everyone = true;
	json_t *d = json_object_get(root, "domain");
	if (d && !json_is_null(d)) {
		struct mark m = push_key(l, "domain");
		if (!json_is_object(d)) {
			problem(l, "expected an object, got %s", json_type_phrase(d));
		} else {
			static const char *const dk[] = {"pre2000_everyone", NULL};
			check_keys(l, d, dk);
			c->pre2000_everyone = get_bool(l, d, "pre2000_everyone", true);
		}
		pop(l, m);
	}
	json_t *n = json_object_get(root, "network");
	if (n && !json_is_null(n)) {
		struct mark m = push_key(l, "network");
		if (!json_is_object(n)) {
			problem(l, "expected an object, got %s", json_type_phrase(n));
		} else {
			static const char *const nk[] = {"computer_names", "ipx_networks", NULL};
			check_keys(l, n, nk);
			c->computer_names = get_strv(l, n, "computer_names", &c->ncomputer_names);
			size_t nx;
			char **x = get_strv(l, n, "ipx_networks", &nx);
			c->ipx_networks = calloc(nx + 1, sizeof *c->ipx_networks);
			for (size_t i = 0; i < nx; i++) {
				uint32_t v;
				if (ipx_net_parse(x[i], &v)) {
					struct mark m2 = push_key(l, "ipx_networks");
					struct mark m3 = push_idx(l, i);
					problem(l, "\"%s\" is not an IPX network number (up to 8 hex digits)", x[i]);
					pop(l, m3);
					pop(l, m2);
				} else if (c->ipx_networks) {
					c->ipx_networks[c->nipx_networks++] = v;
				}
			}
			free_strv(x, nx);
		}
		pop(l, m);
	}
}

static void free_nps_clients(struct nps_client *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct nps_client *nc = &v[i];
		free(nc->name);
		free(nc->address);
		if (nc->secret) OPENSSL_cleanse(nc->secret, strlen(nc->secret));
		free(nc->secret);
		free(nc->path);
	}
	free(v);
}

static void free_surroundings(struct config *c)
{
	struct server *sv = &c->server;
	free(sv->l2tp_psk);
	for (size_t i = 0; i < sv->nradius; i++) {
		free(sv->radius[i].address);
		if (sv->radius[i].secret)
			OPENSSL_cleanse(sv->radius[i].secret, strlen(sv->radius[i].secret));
		free(sv->radius[i].secret);
		free(sv->radius[i].path);
	}
	free(sv->radius);
	free(sv->radius_conf.nas_identifier);
	free(sv->radius_conf.queue);
	free(sv->radius_conf.queue_path);
	free(sv->radius_conf.dae.listen);
	free_nps_clients(sv->radius_conf.dae.clients, sv->radius_conf.dae.nclients);
	for (size_t i = 0; i < c->ndd; i++) {
		struct demand_dial *d = &c->dd[i];
		free(d->name);
		free(d->routes);
		free_strv(d->filters_in, d->nfilters_in);
		free_strv(d->filters_out, d->nfilters_out);
		ipfilter_free(&d->fin);
		ipfilter_free(&d->fout);
		free(d->path);
	}
	free(c->dd);
	free_strv(c->computer_names, c->ncomputer_names);
	free(c->ipx_networks);
}

const struct demand_dial *config_find_demand_dial(const struct config *c, const char *name)
{
	for (size_t i = 0; name && i < c->ndd; i++)
		if (strcasecmp(c->dd[i].name, name) == 0) return &c->dd[i];
	return NULL;
}

/* ---- policy index ---------------------------------------------------------------------- */
static void build_policy_index(struct config *c)
{
	c->pol_words = (c->npolicies + 63) / 64;
	if (!c->pol_words) c->pol_words = 1;
	c->pol_nogroup = calloc(c->pol_words, sizeof *c->pol_nogroup);
	c->group_pol = calloc((c->ngroups ? c->ngroups : 1) * c->pol_words, sizeof *c->group_pol);
	if (!c->pol_nogroup || !c->group_pol) return;
	for (size_t p = 0; p < c->npolicies; p++) {
		const struct policy *po = &c->policies[p];
		if (!po->enabled) continue;
		const struct condition *gc = NULL;
		for (size_t k = 0; k < po->nconds && !gc; k++)
			if (po->conds[k].attr == CA_WINDOWS_GROUPS) gc = &po->conds[k];
		if (!gc) {
			c->pol_nogroup[p / 64] |= 1ull << (p % 64);
			continue;
		}
		for (size_t i = 0; i < gc->ngroups; i++)
			c->group_pol[gc->groups[i] * c->pol_words + p / 64] |= 1ull << (p % 64);
	}
}

/* ---- top level ------------------------------------------------------------------------- */
void config_pos(const struct config *c, const char *pointer, int *line, int *col)
{
	if (jsonpos_find(c->text, c->text_len, pointer, line, col)) {
		/* keep whatever container position was found */
	}
}

static struct config *load(const char *name, const char *text, size_t len,
                           const char *base, struct config_problems *probs)
{
	struct config *c = calloc(1, sizeof *c);
	if (!c) return NULL;
	c->file = strdup(name);
	c->text = malloc(len + 1);
	if (!c->file || !c->text) {
		config_free(c);
		return NULL;
	}
	/* A byte order mark (Notepad writes one) is not part of the JSON; positions count
	 * from after it, as editors show them. */
	size_t bom = utf8_bom_len(text, len);
	text += bom;
	len -= bom;
	memcpy(c->text, text, len);
	c->text[len] = 0;
	c->text_len = len;
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		char msg[300];
		snprintf(msg, sizeof msg, "not valid JSON: %s", je.text);
		if (probs) probs->unreadable = true;
		int line, col;
		jsonpos_error(text, len, &je, &line, &col);
		config_problem_add(probs, line, col, msg);
		config_free(c);
		return NULL;
	}
	struct ld l = {.c = c, .probs = probs};
	if (!json_is_object(root)) {
		problem(&l, "the configuration must be a JSON object, got %s", json_type_phrase(root));
	} else {
		static const char *const keys[] = {"server", "groups", "policies", "users", "certs",
			"serve", "description", "demand_dial", "domain", "network", NULL};
		check_keys(&l, root, keys);
		load_groups(&l, json_object_get(root, "groups"));
		if (!c->group_words) c->group_words = 1;
		load_server(&l, json_object_get(root, "server"));
		load_policies(&l, json_object_get(root, "policies"));
		load_users(&l, json_object_get(root, "users"));
		load_certs(&l, json_object_get(root, "certs"), base);
		load_serve(&l, json_object_get(root, "serve"), base);
		load_surroundings(&l, root);
		build_policy_index(c);
	}
	json_decref(root);
	/* report in file order (insertion sort: few problems, and it keeps equal ones stable) */
	for (size_t i = 1; probs && i < probs->n; i++) {
		struct config_problem x = probs->v[i];
		size_t j = i;
		while (j > 0 && (probs->v[j - 1].line > x.line ||
		                 (probs->v[j - 1].line == x.line && probs->v[j - 1].col > x.col))) {
			probs->v[j] = probs->v[j - 1];
			j--;
		}
		probs->v[j] = x;
	}
	if (l.nprobs > MAX_PROBLEMS) {
		char msg[80];
		snprintf(msg, sizeof msg, "%zu more problems not shown", l.nprobs - MAX_PROBLEMS);
		config_problem_add(probs, 0, 0, msg);
	}
	if (l.nprobs) {
		config_free(c);
		return NULL;
	}
	return c;
}

struct config *config_load_mem(const char *name, const char *text, size_t len,
                               struct config_problems *probs)
{
	return load(name, text, len, NULL, probs);
}

struct config *config_load_file(const char *path, struct config_problems *probs)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		char msg[300];
		snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
		if (probs) probs->unreadable = true;
		config_problem_add(probs, 0, 0, msg);
		return NULL;
	}
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	size_t r;
	while (buf && (r = fread(buf + n, 1, cap - n, fp)) > 0) {
		n += r;
		if (n == cap) {
			if (cap >= (size_t)256 << 20) { /* a configuration is never this large */
				free(buf);
				buf = NULL;
				break;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	bool err = ferror(fp);
	int saved = errno;
	fclose(fp);
	if (!buf || err) {
		char msg[300];
		snprintf(msg, sizeof msg, "cannot read: %s", err ? strerror(saved)
		                                                   : "larger than 256 MiB or out of memory");
		free(buf);
		if (probs) probs->unreadable = true;
		config_problem_add(probs, 0, 0, msg);
		return NULL;
	}
	struct config *c = load(path, buf, n, path, probs);
	free(buf);
	return c;
}

struct config *config_load(const char *path_or_null, struct config_problems *probs)
{
	if (path_or_null) return config_load_file(path_or_null, probs);
	const struct embedded_file *f = embedded_find("samples/vnet.json");
	if (!f) {
		config_problem_add(probs, 0, 0, "no embedded default configuration");
		return NULL;
	}
	return load("samples/vnet.json", (const char *)f->data, f->len, "samples/vnet.json", probs);
}

static void free_condition(struct condition *cd)
{
	free(cd->text);
	if (cd->re) pcre2_code_free(cd->re);
	free(cd->groups);
	free(cd->grid);
	free(cd->path);
	free(cd->pointer);
}

void config_free(struct config *c)
{
	if (!c) return;
	for (size_t i = 0; i < c->npolicies; i++) {
		struct policy *p = &c->policies[i];
		for (size_t k = 0; k < p->nconds; k++) free_condition(&p->conds[k]);
		free(p->conds);
		free(p->name);
		free(p->path);
		free(p->profile.day_time);
		free(p->profile.called_station_id);
		if (p->profile.called_re) pcre2_code_free(p->profile.called_re);
		free_strv(p->profile.filters_in, p->profile.nfilters_in);
		free_strv(p->profile.filters_out, p->profile.nfilters_out);
		ipfilter_free(&p->profile.fin);
		ipfilter_free(&p->profile.fout);
	}
	free(c->policies);
	free(c->pol_nogroup);
	free(c->group_pol);
	for (size_t i = 0; i < c->nusers; i++) free_user(&c->users[i]);
	free(c->users);
	free(c->uindex);
	for (size_t i = 0; i < c->ngroups; i++) {
		free(c->groups[i].name);
		free(c->groups[i].member_of);
	}
	free(c->groups);
	free(c->server.name);
	free(c->server.pool);
	free(c->server.addresses);
	free(c->server.routes);
	free(c->certs.store);
	free(c->certs.client_ca);
	free(c->certs.server_name);
	free(c->certs.store_path);
	free(c->certs.client_ca_path);
	free(c->serve.listen);
	free(c->serve.host_name);
	free(c->serve.accounting);
	free(c->serve.accounting_path);
	free(c->serve.tun);
	free(c->serve.secret);
	free(c->serve.pptp_listen);
	free(c->serve.ipsec_listen);
	free(c->serve.ipsec_psk);
	free(c->serve.ipsec_phase1);
	free(c->serve.ipsec_phase2);
	free(c->serve.ikev2_psk);
	free(c->serve.ikev2_id);
	free(c->serve.ikev2_ike);
	free(c->serve.ikev2_esp);
	free(c->serve.radius_listen);
	free(c->serve.radius_acct_listen);
	free_nps_clients(c->serve.nps_clients, c->serve.nnps_clients);
	free_surroundings(c);
	free(c->file);
	free(c->text);
	free(c);
}

/* ---- inline users (attempts) ----------------------------------------------------------- */
int config_parse_user(const struct config *c, json_t *obj, const char *text, size_t len,
                      const char *path, const char *pointer, struct user *out,
                      struct config_problems *probs)
{
	/* a throwaway config view whose text is the attempt file, for positions */
	struct config view = *c;
	view.text = (char *)text;
	view.text_len = len;
	struct ld l = {.c = &view, .probs = probs};
	snprintf(l.path, sizeof l.path, "%s", path);
	snprintf(l.ptr, sizeof l.ptr, "%s", pointer);
	l.pathlen = strlen(l.path);
	l.ptrlen = strlen(l.ptr);
	memset(out, 0, sizeof *out);
	load_user(&l, obj, out);
	if (l.nprobs) {
		free_user(out);
		memset(out, 0, sizeof *out);
		return -1;
	}
	return 0;
}

void config_user_free(struct user *u)
{
	if (u) free_user(u);
}
