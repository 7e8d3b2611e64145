/* libFuzzer target for UDP 4500 classification and the ESP header decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "esp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum natt_kind k = natt_classify(data, size);
	(void)natt_kind_name(k);
	struct esp_msg m;
	struct diag_err e;
	if (esp_decode(data, size, &m, &e) != 0) {
		if (e.off > size || !e.reason[0])
			abort();
		return 0;
	}
	if (m.payload_len + ESP_HDR_LEN != size || m.payload != data + ESP_HDR_LEN)
		abort();
	char buf[128];
	esp_summary(&m, buf, sizeof buf);
	json_t *j = esp_to_json(&m);
	json_decref(j);
	static uint8_t out[1 << 17];
	size_t n = esp_encode(&m, out, sizeof out);
	if (size <= sizeof out && (n != size || memcmp(out, data, size) != 0))
		abort();
	return 0;
}
