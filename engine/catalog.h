/* Catalogues as data: Windows RAS/MPR/IKE error codes and NPS reason codes, read from
 * rules/catalog/ (embedded at build time; a --rules DIR may bring its own catalog/).
 *
 * Format (the rule file line format, see docs/rules.md): records that each start with
 * `code:`.
 *
 *   code: 787
 *   name: ERROR_OAKLEY_AUTH_FAIL
 *   message: what the user sees, in our words
 *   event: a protocol event that produces the code      (repeatable)
 *   inferred: true       (the event mapping is inferred, not published)
 *
 * Which rules explain a code is not stored here: rules name their codes in `errors`
 * (rules_for_error). */
#ifndef VNET_CATALOG_H
#define VNET_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

enum catalog_kind {
	CATALOG_WINDOWS, /* rules/catalog/windows-errors.cat */
	CATALOG_NPS,     /* rules/catalog/nps-reasons.cat */
};

#define CATALOG_MAX_EVENTS 8

struct catalog_entry {
	int code;
	const char *name;    /* symbolic name; "" when none is known (some NPS codes) */
	const char *message; /* the message in our words */
	const char *events[CATALOG_MAX_EVENTS]; /* protocol events producing it */
	size_t nevents;
	bool inferred;       /* the event mapping is inferred */
	const char *file;
	int line;            /* line of `code` */
};

struct catalog;

/* The catalogue of `kind` from `dir`/catalog/ when `dir` is given and holds the file,
 * else the embedded one. NULL on failure with every problem ("FILE:LINE: key: reason"
 * lines) in *problems (may be NULL; free it). */
struct catalog *catalog_load(enum catalog_kind kind, const char *dir, char **problems);
/* Parse one catalogue held in memory. */
struct catalog *catalog_load_buffer(const char *file, const char *data, size_t len,
                                    enum catalog_kind kind, char **problems);
void catalog_free(struct catalog *c);

size_t catalog_count(const struct catalog *c);
/* Entries in ascending code order. */
const struct catalog_entry *catalog_at(const struct catalog *c, size_t i);
const struct catalog_entry *catalog_find(const struct catalog *c, int code);
/* By symbolic name, case-insensitive ("error_oakley_auth_fail"). */
const struct catalog_entry *catalog_find_name(const struct catalog *c, const char *name);

#endif
