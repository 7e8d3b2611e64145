/* Pools of cells of one size. See ike_pool.h. */
#include "ike/ike_pool.h"

#include <stdlib.h>
#include <openssl/crypto.h>

struct ike_pool_block {
	struct ike_pool_block *next;
	max_align_t cells[];
};

void *ike_pool_take(struct ike_pool *p)
{
	if (!p->free) {
		struct ike_pool_block *b = calloc(1, sizeof *b + IKE_POOL_BLOCK * p->size);
		if (!b)
			return NULL;
		b->next = p->blocks;
		p->blocks = b;
		for (int i = IKE_POOL_BLOCK - 1; i >= 0; i--) {
			void **cell = (void **)(void *)((unsigned char *)b->cells + (size_t)i * p->size);
			*cell = p->free;
			p->free = cell;
		}
	}
	void **cell = p->free;
	p->free = *cell;
	*cell = NULL; /* the rest of the cell is zero already */
	return cell;
}

void ike_pool_give(struct ike_pool *p, void *cell)
{
	if (!cell)
		return;
	OPENSSL_cleanse(cell, p->size);
	*(void **)cell = p->free;
	p->free = cell;
}
