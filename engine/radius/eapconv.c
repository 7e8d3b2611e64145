/* EAP conversations of the NPS-compatible RADIUS server (eapconv.h). */
#include "radius/eapconv.h"

#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

const char *const eapconv_miss_text[] = {
	[EAPCONV_FOUND] = "found",
	[EAPCONV_UNKNOWN] = "a State this server did not issue",
	[EAPCONV_EXPIRED] = "the State of a conversation that timed out",
	[EAPCONV_OTHER_PEER] = "a State issued to another client or address",
};

int eapconv_init(struct eapconv_table *t, size_t cap, uint64_t timeout_ms, size_t nclients,
                 void (*drop)(void *ctx, struct eapconv *c, const char *why), void *ctx)
{
	memset(t, 0, sizeof *t);
	if (cap < 1 || cap > 65536) return -1;
	t->v = calloc(cap, sizeof *t->v);
	t->per_client = calloc(nclients ? nclients : 1, sizeof *t->per_client);
	if (!t->v || !t->per_client) {
		free(t->v);
		free(t->per_client);
		t->v = NULL;
		t->per_client = NULL;
		return -1;
	}
	t->cap = cap;
	t->timeout_ms = timeout_ms;
	t->nclients = nclients;
	t->drop = drop;
	t->ctx = ctx;
	return 0;
}

void eapconv_close(struct eapconv_table *t, struct eapconv *c, const char *why)
{
	if (!c->used) return;
	if (t->drop) t->drop(t->ctx, c, why);
	if (c->client < t->nclients && t->per_client[c->client]) t->per_client[c->client]--;
	t->n--;
	OPENSSL_cleanse(c, sizeof *c);
}

void eapconv_free(struct eapconv_table *t)
{
	for (size_t i = 0; t->v && i < t->cap; i++) eapconv_close(t, &t->v[i], "server stopping");
	free(t->v);
	free(t->per_client);
	memset(t, 0, sizeof *t);
}

static void peer_addr(const struct sockaddr_storage *peer, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	*family = peer->ss_family;
	if (peer->ss_family == AF_INET)
		memcpy(addr, &((const struct sockaddr_in *)peer)->sin_addr, 4);
	else if (peer->ss_family == AF_INET6)
		memcpy(addr, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
}

/* A slot for a new conversation: a free one, else an expired one, else the oldest of
 * the client holding the most conversations. */
static struct eapconv *slot_take(struct eapconv_table *t, uint64_t now)
{
	struct eapconv *expired = NULL;
	for (size_t i = 0; i < t->cap; i++) {
		struct eapconv *c = &t->v[i];
		if (!c->used) return c;
		if (!expired && now >= c->deadline) expired = c;
	}
	if (expired) {
		t->expired++;
		eapconv_close(t, expired, "timed out");
		return expired;
	}
	uint32_t heavy = 0;
	for (uint32_t k = 1; k < t->nclients; k++)
		if (t->per_client[k] > t->per_client[heavy]) heavy = k;
	struct eapconv *old = NULL;
	for (size_t i = 0; i < t->cap; i++) {
		struct eapconv *c = &t->v[i];
		if (c->client == heavy && (!old || c->born < old->born)) old = c;
	}
	if (!old) old = &t->v[0]; /* unreachable: the heaviest client holds one */
	t->evicted++;
	eapconv_close(t, old, "evicted: the conversation table is full");
	return old;
}

struct eapconv *eapconv_open(struct eapconv_table *t, uint32_t client,
                             const struct sockaddr_storage *peer, uint64_t now,
                             const uint8_t rnd[EAPCONV_STATE_LEN - 2])
{
	if (client >= t->nclients || !t->v) return NULL;
	struct eapconv *c = slot_take(t, now);
	size_t slot = (size_t)(c - t->v);
	memset(c, 0, sizeof *c);
	c->used = true;
	c->state[0] = (uint8_t)(slot >> 8);
	c->state[1] = (uint8_t)slot;
	memcpy(c->state + 2, rnd, EAPCONV_STATE_LEN - 2);
	c->client = client;
	peer_addr(peer, &c->family, c->addr);
	c->born = now;
	c->deadline = now + t->timeout_ms;
	c->v.policy = -1;
	t->per_client[client]++;
	t->n++;
	t->opened++;
	return c;
}

struct eapconv *eapconv_find(struct eapconv_table *t, const uint8_t *state, size_t len,
                             uint32_t client, const struct sockaddr_storage *peer,
                             uint64_t now, enum eapconv_miss *why)
{
	*why = EAPCONV_UNKNOWN;
	if (len != EAPCONV_STATE_LEN || !t->v) return NULL;
	size_t slot = (size_t)state[0] << 8 | state[1];
	if (slot >= t->cap) return NULL;
	struct eapconv *c = &t->v[slot];
	if (!c->used || CRYPTO_memcmp(c->state, state, EAPCONV_STATE_LEN) != 0) return NULL;
	int family;
	uint8_t addr[16];
	peer_addr(peer, &family, addr);
	if (c->client != client || c->family != family || memcmp(c->addr, addr, 16) != 0) {
		*why = EAPCONV_OTHER_PEER;
		return NULL;
	}
	if (now >= c->deadline) {
		*why = EAPCONV_EXPIRED;
		t->expired++;
		eapconv_close(t, c, "timed out");
		return NULL;
	}
	c->deadline = now + t->timeout_ms;
	*why = EAPCONV_FOUND;
	return c;
}

long eapconv_join(const struct radius_msg *m, uint8_t *buf, size_t cap, struct diag_err *err)
{
	size_t n = 0, first = 0, count = 0, empty_at = 0;
	for (size_t i = 0; i < m->nattrs && i < RADIUS_MAX_ATTRS; i++) {
		const struct radius_attr *a = &m->attrs[i];
		if (a->type != RADIUS_ATTR_EAP_MESSAGE) continue;
		if (count && i != first + count)
			return diag_err_set(err, a->off, "EAP-Message at offset %zu: the EAP-Message "
			                    "attributes are not consecutive (RFC 3579 3.1)", a->off), -1;
		if (!count) first = i;
		count++;
		if (a->vlen == 0 && !empty_at) empty_at = a->off;
		if (a->vlen > cap || n > cap - a->vlen || n + a->vlen > EAPCONV_EAP_MAX)
			return diag_err_set(err, a->off, "EAP-Message at offset %zu: the EAP packet "
			                    "grows past %d octets", a->off, EAPCONV_EAP_MAX), -1;
		memcpy(buf + n, a->val, a->vlen);
		n += a->vlen;
	}
	if (!count)
		return diag_err_set(err, 20, "no EAP-Message"), -1;
	if (empty_at && count > 1)
		return diag_err_set(err, empty_at, "EAP-Message at offset %zu: empty (an EAP-Start) "
		                    "among others", empty_at), -1;
	if (n == 0)
		return 0; /* EAP-Start */
	size_t off = m->attrs[first].off;
	if (n < 4)
		return diag_err_set(err, off, "EAP-Message at offset %zu: %zu octets, shorter than "
		                    "an EAP header", off, n), -1;
	size_t el = (size_t)buf[2] << 8 | buf[3];
	if (el != n)
		return diag_err_set(err, off, "EAP-Message at offset %zu: the EAP Length says %zu "
		                    "octets, the attributes hold %zu", off, el, n), -1;
	return (long)n;
}
