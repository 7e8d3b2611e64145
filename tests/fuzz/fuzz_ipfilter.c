/* libFuzzer target for profile IP filters: the input's first line is a list of rules
 * separated by ';', the rest an IPv4 packet, judged in both directions. A rule that
 * parses must keep its fields in range; the verdict must not depend on bytes past the
 * packet's end (checked by judging a copy in an exactly sized buffer). */
#include <stdlib.h>
#include <string.h>
#include "policy/ipfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t tl = nl ? (size_t)(nl - data) : size;
	if (tl > 2000) return 0;
	char text[2001];
	memcpy(text, data, tl);
	text[tl] = 0;
	char *rules[32];
	size_t n = 0;
	for (char *save = NULL, *r = strtok_r(text, ";", &save); r && n < 32; r = strtok_r(NULL, ";", &save))
		rules[n++] = r;
	struct ipfilter f;
	size_t bad;
	char err[200];
	if (ipfilter_compile(rules, n, &f, &bad, err, sizeof err) != 0) {
		if (bad >= n && n) abort();
		return 0;
	}
	for (size_t i = 0; i < f.n; i++) {
		const struct ipfilter_rule *r = &f.rules[i];
		if (r->proto > 255 || r->port > 65535 || (r->addr & ~r->mask)) abort();
	}
	const uint8_t *pkt = nl ? nl + 1 : data + size;
	size_t plen = nl ? size - tl - 1 : 0;
	uint8_t *copy = malloc(plen ? plen : 1);
	if (!copy) abort();
	memcpy(copy, pkt, plen);
	for (int dir = 0; dir < 2; dir++)
		if (ipfilter_pass(&f, pkt, plen, dir) != ipfilter_pass(&f, copy, plen, dir)) abort();
	free(copy);
	ipfilter_free(&f);
	return 0;
}
