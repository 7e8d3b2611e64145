/* libFuzzer target: l2tp_decode on arbitrary bytes; what decodes is summarized, turned
 * into JSON and encoded again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "l2tp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct l2tp_msg m;
	static uint8_t out[70000];
	struct diag_err e;
	char s[512];
	if (l2tp_decode(data, size, &m, &e) != 0) {
		if (!e.reason[0] || e.off > size) abort();
		return 0;
	}
	l2tp_summary(&m, s, sizeof s);
	if (strlen(s) >= sizeof s) abort();
	json_t *j = l2tp_to_json(&m);
	if (!j) abort();
	char *txt = json_dumps(j, JSON_COMPACT);
	if (!txt) abort(); /* every string must be valid for JSON */
	free(txt);
	json_decref(j);
	size_t n = l2tp_encode(&m, out, sizeof out);
	(void)n;
	/* encode(decode(x)) decodes again to the same header and AVP count */
	if (n) {
		static struct l2tp_msg m2;
		if (l2tp_decode(out, n, &m2, &e) != 0) abort();
		if (m2.n_avps != m.n_avps || m2.tunnel_id != m.tunnel_id || m2.is_control != m.is_control)
			abort();
	}
	/* unhide whatever is hidden with a fixed secret: must never overrun */
	for (size_t i = 0; i < m.n_avps; i++) {
		if (!m.avps[i].hidden) continue;
		uint8_t plain[1024];
		size_t pl;
		static const uint8_t rv[4] = {1, 2, 3, 4};
		(void)l2tp_avp_unhide((const uint8_t *)"k", 1, rv, 4, m.avps[i].type, m.avps[i].val,
		                      m.avps[i].val_len, plain, sizeof plain, &pl, &e);
	}
	return 0;
}
