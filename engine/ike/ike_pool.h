/* Pools of cells of one size for the IKE responders (ikev1.c, ikev2.c): an SA and its
 * parts are taken from blocks of IKE_POOL_BLOCK cells kept per thread with a list of the
 * free cells, instead of a malloc for each: a server making thousands of SAs a second
 * would otherwise have malloc search its bins among the small chunks OpenSSL frees (a
 * tenth of a set-up's CPU for the SA alone). A block is zeroed when allocated and a cell
 * wiped with zeros (OPENSSL_cleanse: keys are in it) before it goes back on the list, so
 * a free cell is all zeros but for the list's link: taking one clears the link alone.
 * Blocks are kept until the process ends, as many as the most cells alive at once
 * needed. Declare a pool per thread with its cell size:
 *
 *   static _Thread_local struct ike_pool sa_pool = IKE_POOL_INIT(struct ikev2_sa);
 */
#ifndef VNET_IKE_POOL_H
#define VNET_IKE_POOL_H

#include <stddef.h>

#define IKE_POOL_BLOCK 32
#define IKE_POOL_CELL(T) \
	((sizeof(T) + _Alignof(max_align_t) - 1) / _Alignof(max_align_t) * _Alignof(max_align_t))
#define IKE_POOL_INIT(T) {.size = IKE_POOL_CELL(T)}

struct ike_pool_block;
struct ike_pool {
	size_t size;               /* of a cell: a multiple of max_align_t's alignment */
	void *free;
	struct ike_pool_block *blocks;
};

/* A cell of zeros, NULL when out of memory. */
void *ike_pool_take(struct ike_pool *p);
/* The cell wiped and back on the free list (NULL: nothing). */
void ike_pool_give(struct ike_pool *p, void *cell);

#endif
