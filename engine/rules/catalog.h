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
#include <stdint.h>

enum catalog_kind {
	CATALOG_WINDOWS, /* rules/catalog/windows-errors.cat */
	CATALOG_NPS,     /* rules/catalog/nps-reasons.cat */
};

#define CATALOG_MAX_EVENTS 8

/* Codes are RAS/MPR/IKE errors (0..99999) and, for the certificate errors the client
 * reports, HRESULTs (0x80000000..0xFFFFFFFF, written in hex in the catalogue). */
#define CATALOG_CODE_MAX 99999
#define CATALOG_HRESULT_MIN 0x80000000LL
#define CATALOG_HRESULT_MAX 0xFFFFFFFFLL

struct catalog_entry {
	int64_t code;
	const char *name;    /* symbolic name; "" when none is known (some NPS codes) */
	const char *message; /* the message in our words */
	const char *events[CATALOG_MAX_EVENTS]; /* protocol events producing it */
	size_t nevents;
	bool inferred;       /* the event mapping is inferred */
	const char *file;
	int line;            /* line of `code` */
	int col;             /* column of its value */
};

struct catalog;

/* The catalogue of `kind` from `dir`/catalog/ when `dir` is given and holds the file
 * (which must then be a regular file of at most 1 MiB), else the embedded one. NULL on
 * failure with every problem ("FILE:LINE:COL: key: reason" lines) in *problems (may be
 * NULL; free it). */
struct catalog *catalog_load(enum catalog_kind kind, const char *dir, char **problems);
/* Parse one catalogue held in memory. */
struct catalog *catalog_load_buffer(const char *file, const char *data, size_t len,
                                    enum catalog_kind kind, char **problems);
void catalog_free(struct catalog *c);
/* Every problem of the catalogues in `dir`/catalog/ ("FILE:LINE:COL: key: reason" lines
 * in *problems, NULL when there are none) and .cat files there that are not catalogues
 * vnet reads; returns how many. A missing catalog/ or catalogue is no problem: the
 * embedded one is used. */
size_t catalog_check_dir(const char *dir, char **problems);

size_t catalog_count(const struct catalog *c);
/* Entries in ascending code order. */
const struct catalog_entry *catalog_at(const struct catalog *c, size_t i);
const struct catalog_entry *catalog_find(const struct catalog *c, int64_t code);
/* A code as people write it: decimal ("787", "2148204809"), hexadecimal ("0x313",
 * "0x800B0109") or an HRESULT as a signed 32-bit number ("-2146762487"). false when `s`
 * is none of these or out of range. */
bool catalog_parse_code(const char *s, int64_t *code);
/* "787", or "0x800B0109" for an HRESULT. */
const char *catalog_code_str(int64_t code, char *buf, size_t bufsz);
/* By symbolic name, case-insensitive ("error_oakley_auth_fail"). */
const struct catalog_entry *catalog_find_name(const struct catalog *c, const char *name);

#endif
