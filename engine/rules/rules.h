/* The knowledge base: rules loaded from rules/ (or the embedded copy) and matched
 * against facts. The file format is documented in docs/rules.md. */
#ifndef VNET_RULES_H
#define VNET_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include "diag.h"
#include "rules/facts.h"

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
	/* added fields */
	int line;            /* line of the `id` key */
	int errors_line;     /* line of the first `errors` key (0: none) */
	bool inferred;       /* the mapping is inferred, not stated by a published source */
	const char *const *when; /* the patterns as written, for display */
	size_t nwhen;
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

/* ---- additions ------------------------------------------------------------------ */

/* rules_match writes scratch state kept in the ruleset (the regex match block, the key
 * index), so one ruleset must not be matched from two threads at the same time. */

/* Rules from one rule file held in memory (`name` is used in problems and as
 * rule.file); same contract as rules_load_dir. */
struct ruleset *rules_load_buffer(const char *name, const char *data, size_t len,
                                  char **problems);

/* Rules whose `errors` name `code`, highest priority first, then by id; returns how
 * many were written (at most `max`). */
size_t rules_for_error(const struct ruleset *rs, int code, const struct rule **out,
                       size_t max);

/* Fact keys a rule's patterns look at (for vocabulary checks); NULL past the end. */
const char *rules_pattern_key(const struct rule *r, size_t i);

/* ---- the line format shared by rule files and catalogues (engine/rulefile.c) ----
 *
 *   # comment                  (first column)
 *   key: value                 (key in the first column: [a-z][a-z0-9_-]*)
 *     continued text           (indented lines continue the value)
 *
 * Continuation lines indented like the first one are prose and are joined with
 * spaces into a paragraph; an empty line inside starts a new paragraph (stored as an
 * empty line); lines indented
 * deeper than the first continuation line are kept verbatim (commands), stored without
 * their indentation but prefixed with two spaces. Paragraphs and verbatim lines are separated by '\n'. */
struct kv_reader {
	const char *file;
	const char *p;
	size_t len;
	size_t off;
	int line; /* line of the last line read */
};

struct kv {
	char key[32];
	int line;  /* line of the key */
	int col;   /* column (1-based, in characters) of the value's first character; of a
	              malformed line: the character where it goes wrong */
	char *val; /* malloc'd, trimmed; the caller frees it */
};

void kv_init(struct kv_reader *r, const char *file, const char *data, size_t len);
/* 1: `out` holds the next key/value; 0: end of input; -1: a malformed line (message
 * in `msg`, `out->line` and `out->key` say where; the reader has moved past it). */
int kv_next(struct kv_reader *r, struct kv *out, char *msg, size_t msgsz);

#endif
