/* The answers a RADIUS server (or a NAS taking RFC 5176 requests) keeps so that a request
 * its peer sends again gets the answer it got before, not a new decision (RFC 2865 5,
 * RFC 5176 2.3).
 *
 * A request is known by its source address and port, code, identifier and authenticator
 * (40 bytes). The table has a fixed number of slots, each request going to one slot by a
 * hash of that key: a newer request takes the slot of an older one (the bound and the
 * eviction rule: a flood can only make decisions be taken again, never grow the table).
 * An answer is kept for `ttl_ms`. Each slot keeps its buffer, grown when an answer is
 * longer than any it held before, so a steady stream of requests allocates nothing. */
#ifndef VNET_RADIUS_DUPCACHE_H
#define VNET_RADIUS_DUPCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RAD_DUP_KEY 40

struct rad_dup_slot {
	uint64_t at;                 /* 0: empty */
	uint8_t key[RAD_DUP_KEY];
	uint8_t *answer;
	uint16_t len, cap;
};

struct rad_dupcache {
	struct rad_dup_slot *slot;
	size_t n;
	uint64_t ttl_ms;
};

/* 0, or -1 out of memory. */
int rad_dupcache_init(struct rad_dupcache *c, size_t slots, uint64_t ttl_ms);
void rad_dupcache_free(struct rad_dupcache *c);
/* The key of request `pkt` (at least 20 bytes) from `peer`. */
void rad_dupcache_key(const struct sockaddr_storage *peer, const uint8_t *pkt,
                      uint8_t key[RAD_DUP_KEY]);
/* The answer kept for `key` (its length in *len), or NULL. */
const uint8_t *rad_dupcache_get(const struct rad_dupcache *c, const uint8_t key[RAD_DUP_KEY],
                                uint64_t now, size_t *len);
/* Keep `ans` as the answer to `key` (nothing when memory runs out). */
void rad_dupcache_put(struct rad_dupcache *c, const uint8_t key[RAD_DUP_KEY],
                      const uint8_t *ans, size_t len, uint64_t now);

#endif
