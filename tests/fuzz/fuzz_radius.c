/* libFuzzer target for the RADIUS decoder: decode, summary, JSON, re-encode and decode
 * again; the shared-secret helpers run on every input too. */
#include <stdlib.h>
#include <string.h>
#include "radius.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct radius_msg m, m2;
	static const uint8_t secret[] = "testing123";
	static const uint8_t ra[16] = { 0 };
	struct diag_err err;
	uint8_t mac[16], key[64];
	(void)radius_verify_auth(data, size, ra, secret, 10);
	(void)radius_verify_msg_auth(data, size, ra, secret, 10);
	(void)radius_msg_auth(data, size, NULL, secret, 10, mac);
	if (radius_decode(data, size, &m, &err) != 0) {
		if (err.off > size) abort();
		return 0;
	}
	char s[1024];
	radius_summary(&m, s, sizeof s);
	json_t *j = radius_to_json(&m);
	if (!j) abort();
	char *d = json_dumps(j, JSON_COMPACT);
	free(d);
	json_decref(j);
	for (size_t i = 0; i < m.nattrs; i++) {
		const struct radius_attr *a = &m.attrs[i];
		if (a->vendor == RADIUS_VENDOR_MICROSOFT && (a->vtype == MS_MPPE_SEND_KEY ||
		                                             a->vtype == MS_MPPE_RECV_KEY))
			(void)radius_ms_mppe_key_decrypt(a->val, a->vlen, secret, 10, ra, key,
			                                 sizeof key);
		if (a->vendor == 0 && a->type == RADIUS_ATTR_USER_PASSWORD) {
			uint8_t pw[128];
			(void)radius_unhide_password(a->val, a->vlen, secret, 10, m.auth, pw);
		}
	}
	uint8_t out[4096], copy[4096];
	size_t n = radius_encode(&m, out, sizeof out);
	if (n != m.length) abort();
	if (radius_decode(out, n, &m2, &err) != 0) abort();
	if (m2.nattrs != m.nattrs) abort();
	memcpy(copy, out, n);
	(void)radius_sign(copy, n, ra, secret, 10);
	return 0;
}
