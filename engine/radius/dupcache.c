/* Answers kept for retransmitted RADIUS requests (dupcache.h). */
#include "radius/dupcache.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

int rad_dupcache_init(struct rad_dupcache *c, size_t slots, uint64_t ttl_ms)
{
	memset(c, 0, sizeof *c);
	c->n = slots ? slots : 1;
	c->ttl_ms = ttl_ms;
	c->slot = calloc(c->n, sizeof *c->slot);
	return c->slot ? 0 : -1;
}

void rad_dupcache_free(struct rad_dupcache *c)
{
	for (size_t i = 0; c->slot && i < c->n; i++) free(c->slot[i].answer);
	free(c->slot);
	memset(c, 0, sizeof *c);
}

void rad_dupcache_key(const struct sockaddr_storage *peer, const uint8_t *pkt,
                      uint8_t key[RAD_DUP_KEY])
{
	memset(key, 0, RAD_DUP_KEY);
	if (peer->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)peer;
		memcpy(key, &s4->sin_addr, 4);
		memcpy(key + 16, &s4->sin_port, 2);
	} else if (peer->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)peer;
		memcpy(key, &s6->sin6_addr, 16);
		memcpy(key + 16, &s6->sin6_port, 2);
	}
	key[18] = pkt[0];
	key[19] = pkt[1];
	memcpy(key + 20, pkt + 4, 16);
}

static struct rad_dup_slot *slot_of(const struct rad_dupcache *c, const uint8_t *key)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < RAD_DUP_KEY; i++) h = (h ^ key[i]) * 16777619u;
	return &c->slot[h % c->n];
}

const uint8_t *rad_dupcache_get(const struct rad_dupcache *c, const uint8_t key[RAD_DUP_KEY],
                                uint64_t now, size_t *len)
{
	const struct rad_dup_slot *e = slot_of(c, key);
	if (!e->at || now - e->at >= c->ttl_ms || memcmp(e->key, key, RAD_DUP_KEY) != 0)
		return NULL;
	*len = e->len;
	return e->answer;
}

void rad_dupcache_put(struct rad_dupcache *c, const uint8_t key[RAD_DUP_KEY],
                      const uint8_t *ans, size_t len, uint64_t now)
{
	struct rad_dup_slot *e = slot_of(c, key);
	if (len > UINT16_MAX) return;
	if (len > e->cap) {
		uint8_t *b = realloc(e->answer, len);
		if (!b) {
			e->at = 0;
			return;
		}
		e->answer = b;
		e->cap = (uint16_t)len;
	}
	memcpy(e->answer, ans, len);
	e->len = (uint16_t)len;
	e->at = now ? now : 1;
	memcpy(e->key, key, RAD_DUP_KEY);
}
