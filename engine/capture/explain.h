/* Explaining tracked sessions: which phase did not complete, the facts that show why,
 * the rules of the knowledge base that hold, and anomalies of sessions that worked.
 *
 * explain_finish closes every session at the end of the capture (a phase still open
 * then did not complete), explain_facts states a session's facts in the vocabulary of
 * docs/facts.md, and explain_session_json / explain_capture_json build the result that
 * `vnet pcap explain` prints:
 *
 *   { "file", "sessions": [ { "id", "protocol", "client", "server", "user",
 *     "outcome", "failed_phase", "error", "start_us", "duration_us" (microseconds),
 *     "phases": [...],
 *     "facts": [...], "anomalies": [...], "diagnoses": [...] } ],
 *     "packets", "decryption" (with keys), "summary": { "sessions", "failed", "anomalous" } }
 */
#ifndef VNET_EXPLAIN_H
#define VNET_EXPLAIN_H

#include <stdbool.h>
#include <jansson.h>
#include "rules/facts.h"
#include "rules/rules.h"
#include "capture/session.h"

/* Close the sessions: decide open phases, derived observations (PSK mismatch from the
 * fifth Main Mode message, no reply, NAT, MTU...). Call once, after the last packet. */
void explain_finish(struct sess_table *t);
/* The same for one session that ended before the capture did (sess_set_done); the
 * cross-session facts (clients behind one NAT) are only stated by explain_finish. */
void explain_finish_one(struct sess_table *t, struct vsess *s);

/* The phase that did not complete, or PH_COUNT when none. */
enum phase_id explain_failed_phase(const struct vsess *s);

/* Facts of one session (the store is reset first). */
void explain_facts(struct sess_table *t, const struct vsess *s, struct facts *f);

/* Rules that hold for the session, best first, at most `max`: for a failed session the
 * errors and warnings (info only when nothing else holds), for one that worked the
 * warnings (anomalies). `f` is scratch (left holding the session's facts). */
size_t explain_diagnose(struct sess_table *t, const struct vsess *s, const struct ruleset *rs,
                        struct facts *f, struct rule_match *out, size_t max);

/* The Windows error the client would show: the MS-CHAP E= value when there is one,
 * else the first error of the best error-severity match; 0 when none. */
int explain_error(const struct vsess *s, const struct rule_match *m, size_t n);

/* Anomalies of the session as text lines (retransmissions, slow phases...). */
json_t *explain_anomalies(const struct vsess *s);
/* The same as array member `key` of a JSON writer; returns how many there are. */
size_t explain_anomalies_jw(struct jw *w, const char *key, const struct vsess *s);

/* One session as JSON (see above) without "diagnoses", which the caller renders from
 * the same matches (tools/render_diag.h). */
json_t *explain_session_json(struct sess_table *t, const struct vsess *s,
                             const struct rule_match *m, size_t n);
/* The same as members of the open object of a JSON writer; returns the number of
 * anomalies listed. */
size_t explain_session_jw(struct jw *w, struct sess_table *t, const struct vsess *s,
                          const struct rule_match *m, size_t n);

#endif
