/* The proposal lists of the IKE configuration. See ike_list.h. */
#include "ike/ike_list.h"

bool ike_list_next(const char *text, const char **p, struct ike_list_item *it)
{
	const char *s = *p;
	if (!*s)
		return false;
	const char *end = strchr(s, ',');
	size_t il = end ? (size_t)(end - s) : strlen(s);
	it->text = s;
	it->len = il;
	it->col = (size_t)(s - text) + 1;
	it->nw = 0;
	for (size_t i = 0; i <= il && it->nw < IKE_LIST_WORDS;) {
		size_t j = i;
		while (j < il && s[j] != '-')
			j++;
		it->w[it->nw] = s + i;
		it->wl[it->nw++] = j - i;
		i = j + 1;
		if (j >= il)
			break;
	}
	s += il;
	if (*s == ',')
		s++;
	*p = s;
	return true;
}
