/* libFuzzer target for the IKE codec: decode, and on success render the summary and the
 * JSON, then check that the encoder's output decodes again and encodes to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "esp.h"
#include "ike.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ike_msg m, m2;
static uint8_t enc[70000], enc2[70000];

static void one(const uint8_t *p, size_t n)
{
	struct diag_err e;
	if (ike_decode(p, n, &m, &e) != 0) {
		if (e.off > n || !e.reason[0])
			abort(); /* an error must point inside the input and say why */
		return;
	}
	char buf[1024];
	ike_summary(&m, buf, sizeof buf);
	ike_summary(&m, buf, 8); /* truncated output stays terminated */
	if (strlen(buf) >= 8)
		abort();
	json_t *j = ike_to_json(&m);
	char *s = json_dumps(j, JSON_COMPACT);
	free(s);
	json_decref(j);
	(void)ike_msg_client_vendor(&m);
	size_t k = ike_encode(&m, enc, sizeof enc);
	if (k == 0)
		return;
	if (ike_decode(enc, k, &m2, &e) != 0)
		abort(); /* the encoder wrote something its decoder rejects */
	size_t k2 = ike_encode(&m2, enc2, sizeof enc2);
	if (k2 != k || memcmp(enc, enc2, k) != 0)
		abort(); /* encode(decode(encode(x))) must equal encode(x) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size);
	if (natt_classify(data, size) == NATT_IKE)
		one(data + NATT_NON_ESP_MARKER_LEN, size - NATT_NON_ESP_MARKER_LEN);
	return 0;
}
