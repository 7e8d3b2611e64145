/* The knowledge base: rules loaded from rules/ (or the embedded copy) and matched
 * against facts. The file format is documented in docs/rules.md. */
#ifndef VNET_RULES_H
#define VNET_RULES_H

#include <stddef.h>
#include "diag.h"
#include "facts.h"

#define RULE_MAX_EVIDENCE 16

struct rule {
	const char *id;      /* stable dotted id: "ike.psk.mismatch" */
	const char *title;   /* one line */
	const char *cause;   /* paragraph(s), the rule author's words */
	const char *fix;     /* concrete steps; may hold netsh / registry commands */
	const int *errors;   /* Windows error codes this rule explains */
	size_t nerrors;
	const char *const *refs; /* "KB 2855053", "RFC 2661 section 4.4.2", ... */
	size_t nrefs;
	int severity;        /* 0 info, 1 warning, 2 error */
	int priority;        /* ranking weight, higher first at equal specificity */
	const char *file;    /* where the rule was loaded from */
};

struct rule_match {
	const struct rule *rule;
	int score;                     /* higher ranks first */
	const struct fact *evidence[RULE_MAX_EVIDENCE]; /* the facts that satisfied it */
	size_t nevidence;
};

struct ruleset;

/* The rules compiled into the binary. NULL with `err` set when they do not load (a bug). */
struct ruleset *rules_load_default(struct diag_err *err);
/* Every *.rule file of `dir`. On failure returns NULL and writes every problem found,
 * one per line as "FILE:LINE: key: reason", to `problems` (may be NULL). */
struct ruleset *rules_load_dir(const char *dir, char **problems);
/* --rules DIR when given, else the default. */
struct ruleset *rules_load(const char *dir_or_null, char **problems);
void rules_free(struct ruleset *rs);

size_t rules_count(const struct ruleset *rs);
const struct rule *rules_at(const struct ruleset *rs, size_t i);
const struct rule *rules_find(const struct ruleset *rs, const char *id);

/* Rules whose patterns all hold over `facts`, best first; returns how many were
 * written (at most `max`). Allocates nothing. */
size_t rules_match(const struct ruleset *rs, const struct facts *facts,
                   struct rule_match *out, size_t max);

#endif
