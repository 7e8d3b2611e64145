/* libFuzzer target: gre_decode on arbitrary bytes; what decodes is summarized, turned
 * into JSON and encoded again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gre.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gre_msg m;
	static uint8_t out[70000];
	struct diag_err e;
	char s[512];
	if (gre_decode(data, size, &m, &e) != 0) {
		if (!e.reason[0] || e.off > size) abort();
		return 0;
	}
	gre_summary(&m, s, sizeof s);
	if (strlen(s) >= sizeof s) abort();
	json_t *j = gre_to_json(&m);
	if (!j) abort();
	char *txt = json_dumps(j, JSON_COMPACT);
	if (!txt) abort(); /* every string must be valid for JSON */
	free(txt);
	json_decref(j);
	size_t n = gre_encode(&m, out, sizeof out);
	(void)n;
	if (n && m.version == 1) {
		static struct gre_msg m2;
		if (gre_decode(out, n, &m2, &e) != 0) abort();
		if (m2.call_id != m.call_id || m2.payload_len != m.payload_len) abort();
	}
	return 0;
}
