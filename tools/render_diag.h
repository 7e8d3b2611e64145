/* Diagnoses: rule matches rendered the same way by every command.
 *
 * A command turns its input into facts, asks the knowledge base (engine/rules/rules.h) which
 * rules hold, and hands the matches to render_diag_json. The resulting `diagnoses`
 * array goes into the command's JSON result as is; render_diag_text prints the same
 * array for people. Each diagnosis object:
 *
 *   { "rule": "policy.pool-exhausted", "title": "...", "severity": "error",
 *     "inferred": false, "errors": [720, 733], "cause": "...", "fix": "...",
 *     "refs": ["KB 323441"],
 *     "evidence": [ { "key": "policy.reason", "value": "pool-exhausted",
 *                     "evidence": "config server.pool" } ] }
 *
 * "value" keeps the fact's type (string, integer or boolean); "evidence" is
 * evidence_str() of the fact, "" when the fact has none.
 */
#ifndef VNET_RENDER_DIAG_H
#define VNET_RENDER_DIAG_H

#include <stdio.h>
#include <jansson.h>
#include "rules/facts.h"
#include "jsonw.h"
#include "rules/rules.h"

/* One diagnosis object for a match (a rule with no evidence gets "evidence": []). */
json_t *render_diag_one(const struct rule_match *m);
/* A new JSON array of diagnoses for `n` matches, best first as given. */
json_t *render_diag_json(const struct rule_match *m, size_t n);
/* Match `facts` against `rs` (at most `max` diagnoses, 16 when 0) and render them. */
json_t *render_diag_facts(const struct ruleset *rs, const struct facts *facts, size_t max);
/* The same through a JSON writer (streaming or a tree), as member `key` of the open
 * object (NULL in an array). At most 16 diagnoses. */
void render_diag_one_jw(struct jw *w, const char *key, const struct rule_match *m);
void render_diag_facts_jw(struct jw *w, const char *key, const struct ruleset *rs,
                          const struct facts *facts, size_t max);
/* The rule itself as a JSON object (no evidence); used by `rules show` and `error`. */
json_t *render_rule_json(const struct rule *r);

/* Text rendering of a diagnoses array (as built above) at `indent` spaces. Prints
 * nothing for an empty array. */
void render_diag_text(FILE *fp, const json_t *diagnoses, int indent);
/* Text rendering of one diagnosis (or rule) object: "[error] TITLE (ID)", the Windows
 * errors, cause, fix, evidence and references. */
void render_diag_text_one(FILE *fp, const json_t *d, int indent);

/* A rule's text block (cause or fix) wrapped at `width`: prose lines are wrapped,
 * lines stored with a two-space prefix (commands) are printed unwrapped. */
void render_text_block(FILE *fp, int indent, int width, const char *text);

#endif
