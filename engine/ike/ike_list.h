/* The proposal lists of the IKE configuration, both versions: items separated by ',',
 * each made of words separated by '-' ("aes256-sha256-modp2048,aes128gcm16"). The
 * reader splits; what the words mean is up to the caller, which finds them in its tables
 * with IKE_LIST_FIND. */
#ifndef VNET_IKE_LIST_H
#define VNET_IKE_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Words read of an item at most: one more than any item has, so that an item with too
 * many reads as such. */
#define IKE_LIST_WORDS 5

struct ike_list_item {
	const char *text;            /* the item, not terminated */
	size_t len;
	size_t col;                  /* its column in the list, from 1 */
	const char *w[IKE_LIST_WORDS];
	size_t wl[IKE_LIST_WORDS];
	size_t nw;
};

/* The item at *p (within the list text) into it and *p past it and its ','; false at the
 * end of the list. */
bool ike_list_next(const char *text, const char **p, struct ike_list_item *it);

/* out = the index of the entry of tab (an array of structs with a member name) named
 * word[0..len), -1 when none is. */
#define IKE_LIST_FIND(tab, word, len, out)                                                 \
	do {                                                                                \
		out = -1;                                                                   \
		for (size_t i_ = 0; i_ < sizeof tab / sizeof tab[0]; i_++)                  \
			if (strlen(tab[i_].name) == (len) && !strncmp(tab[i_].name, word, len))  \
				out = (int)i_;                                              \
	} while (0)

#endif
