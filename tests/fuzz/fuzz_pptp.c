/* libFuzzer target: pptp_decode on arbitrary bytes; what decodes is summarized, turned
 * into JSON and encoded again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pptp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pptp_msg m;
	static uint8_t out[70000];
	struct diag_err e;
	char s[512];
	if (pptp_decode(data, size, &m, &e) != 0) {
		if (!e.reason[0] || e.off > size) abort();
		return 0;
	}
	pptp_summary(&m, s, sizeof s);
	if (strlen(s) >= sizeof s) abort();
	json_t *j = pptp_to_json(&m);
	if (!j) abort();
	char *txt = json_dumps(j, JSON_COMPACT);
	if (!txt) abort(); /* every string must be valid for JSON */
	free(txt);
	json_decref(j);
	size_t n = pptp_encode(&m, out, sizeof out);
	(void)n;
	if (n) {
		static struct pptp_msg m2;
		if (pptp_decode(out, n, &m2, &e) != 0) abort();
		if (m2.ctrl_type != m.ctrl_type || m2.call_id != m.call_id) abort();
	}
	long fl = pptp_frame_len(data, size, &e);
	if (fl > 0 && (fl < 12 || fl > PPTP_MAX_LEN)) abort();
	return 0;
}
