/* libFuzzer target for the PPP decoder: decode with and without hints, then summary,
 * JSON and re-encoding of whatever decodes; the re-encoded frame must decode again. The
 * same bytes also go to the stand-alone EAP decoder and the MS-CHAP text parsers. */
#include <stdlib.h>
#include <string.h>
#include "ppp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const uint8_t *data, size_t size, const struct ppp_hint *h)
{
	static struct ppp_msg m, m2;
	struct diag_err err;
	if (ppp_decode_ex(data, size, h, &m, &err) != 0) {
		if (err.off > size) abort();
		return;
	}
	char s[512];
	ppp_summary_ex(&m, h, s, sizeof s);
	if (strlen(s) >= sizeof s) abort();
	json_t *j = ppp_to_json_ex(&m, h);
	if (!j) abort();
	char *d = json_dumps(j, JSON_COMPACT);
	free(d);
	json_decref(j);
	uint8_t out[70000];
	size_t n = ppp_encode(&m, out, sizeof out);
	if (n == 0) abort();
	if (ppp_decode_ex(out, n, h, &m2, &err) != 0) abort();
	if (m2.proto != m.proto || m2.kind != m.kind) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppp_hint h0 = { 0 };
	struct ppp_hint h1 = { .chap_alg = 0x81, .mp_short_seq = true, .show_password = true };
	struct ppp_hint h2 = { .chap_alg = 0x80 };
	exercise(data, size, NULL);
	exercise(data, size, &h0);
	exercise(data, size, &h1);
	exercise(data, size, &h2);
	static struct ppp_eap e;
	struct diag_err err;
	if (ppp_eap_decode(data, size, &e, &err) == 0) {
		char s[512];
		ppp_eap_summary(&e, s, sizeof s);
		json_t *j = ppp_eap_to_json(&e);
		if (!j) abort();
		json_decref(j);
	} else if (err.off > size) {
		abort();
	}
	struct mschap_failure f;
	struct mschap_success sc;
	(void)mschap_parse_failure(data, size, &f);
	(void)mschap_parse_success(data, size, &sc);
	return 0;
}
