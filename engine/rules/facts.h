/* Facts: typed observations with their evidence.
 *
 * Every command turns its input into facts (`policy.reason = pool-exhausted`,
 * `ike.notify = AUTHENTICATION_FAILED`, `mschap.error = 691`); the rules engine matches
 * rules against facts and nothing else. A key may hold several values (a set), added in
 * order. Strings (keys, values, evidence sources) are copied into the store's arena, so
 * callers may pass temporaries. `facts_reset` empties the store but keeps its memory, so a
 * hot loop (policy evaluation) allocates nothing once warmed up.
 *
 * The vocabulary of keys is documented in docs/facts.md.
 */
#ifndef VNET_FACTS_H
#define VNET_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fact_type { FACT_STR, FACT_INT, FACT_BOOL, FACT_ADDR, FACT_TIME };

enum ev_kind {
	EV_NONE,
	EV_CONFIG, /* src = path of a configuration key, e.g. "policies[1].profile.encryption" */
	EV_INPUT,  /* src = input file, where = JSON pointer or "line N" inside it */
	EV_PACKET, /* src = capture file, frame = packet number (1-based), offset in it */
	EV_FILE,   /* src = file (certificate, key, rule) */
};

struct evidence {
	enum ev_kind kind;
	const char *src;   /* may be NULL */
	const char *where; /* may be NULL */
	uint64_t frame;    /* EV_PACKET: 1-based packet number */
	size_t offset;     /* EV_PACKET: byte offset within the packet */
};

struct fact {
	const char *key;
	enum fact_type type;
	const char *s; /* FACT_STR, FACT_ADDR (canonical text); NULL otherwise */
	int64_t i;     /* FACT_INT; FACT_TIME (seconds since the epoch, UTC); FACT_BOOL 0/1 */
	struct evidence ev;
};

struct facts;

struct facts *facts_new(void);
void facts_free(struct facts *f);
void facts_reset(struct facts *f);

/* Evidence constructors (strings are copied when the fact is added). */
struct evidence ev_none(void);
struct evidence ev_config(const char *key_path);
struct evidence ev_input(const char *file, const char *where);
struct evidence ev_packet(const char *file, uint64_t frame, size_t offset);
struct evidence ev_file(const char *file);

/* Add a fact; `ev` may be NULL (no evidence). Returns the stored fact, or NULL when out
 * of memory. Pointers to facts stay valid until the next add, reset or free. */
const struct fact *facts_add_str(struct facts *f, const char *key, const char *val,
                                 const struct evidence *ev);
const struct fact *facts_add_int(struct facts *f, const char *key, int64_t val,
                                 const struct evidence *ev);
const struct fact *facts_add_bool(struct facts *f, const char *key, bool val,
                                  const struct evidence *ev);
const struct fact *facts_add_addr(struct facts *f, const char *key, const char *addr_text,
                                  const struct evidence *ev);
const struct fact *facts_add_time(struct facts *f, const char *key, int64_t epoch,
                                  const struct evidence *ev);

size_t facts_count(const struct facts *f);
const struct fact *facts_at(const struct facts *f, size_t i);
/* First fact with this key, or NULL; facts_next gives the following one with the same key. */
const struct fact *facts_get(const struct facts *f, const char *key);
const struct fact *facts_next(const struct facts *f, const struct fact *prev);

/* Value as text ("true", "42", the string); buf is used for numbers. */
const char *fact_value_str(const struct fact *x, char *buf, size_t bufsz);
/* Evidence as text: "config policies[1].profile.encryption", "capture.pcap frame 5",
 * "user.json /attempts/0/auth", "certs/a.pem"; empty string for none. */
const char *evidence_str(const struct evidence *ev, char *buf, size_t bufsz);

#endif
