/* Fuzz the configuration loader (and the JSON position walker it uses for errors): any
 * input must load or give problems, never crash, leak or hang. A configuration that
 * loads is also evaluated once, so compiled patterns and indexes get exercised. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "policy/attempt.h"
#include "policy/config.h"
#include "jsonpos.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	static const char *const ptrs[] = {"", "/server", "/policies/0/conditions/0/pattern",
		"/users/1/name", "/a~1b/~0", "/0/0/0"};
	for (size_t i = 0; i < sizeof ptrs / sizeof *ptrs; i++) {
		int l, c;
		jsonpos_find(text, size, ptrs[i], &l, &c);
		jsonpos_find_key(text, size, ptrs[i], &l, &c);
	}
	struct config_problems pr = {0};
	struct config *c = config_load_mem("fuzz.json", text, size, &pr);
	config_problems_free(&pr);
	if (!c) return 0;
	static const char att[] = "{\"user\": {\"name\": \"fuzz\"}, \"tunnel\": \"pptp\", "
	                          "\"auth\": \"mschapv2\", \"time\": \"2026-11-23T10:00\", "
	                          "\"called_station_id\": \"203.0.113.10\"}";
	struct attempt_list l;
	if (attempts_parse(c, "a", att, sizeof att - 1, &l, NULL) == 0) {
		struct policy_result r;
		if (policy_result_init(&r, c) == 0) {
			for (int full = 0; full < 2; full++) {
				r.full_trace = full;
				policy_evaluate(c, &l.v[0], &r, NULL);
			}
			struct step_text t;
			for (size_t i = 0; i < r.nsteps; i++) policy_step_text(c, &l.v[0], &r.steps[i], &t);
			policy_result_free(&r);
		}
		attempts_free(&l);
	}
	config_free(c);
	return 0;
}
