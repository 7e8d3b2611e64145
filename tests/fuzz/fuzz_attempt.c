/* Fuzz the attempt parser and, for attempts that parse, the evaluator with its full
 * trace, the near-miss hints and the facts, against the embedded sample configuration.
 * The reader's fast path and the full parser must agree on every input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "policy/attempt.h"
#include "policy/config.h"
#include "rules/facts.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *cfg;
static struct facts *facts;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!cfg) {
		struct config_problems pr = {0};
		cfg = config_load(NULL, &pr);
		config_problems_free(&pr);
		facts = facts_new();
		if (!cfg || !facts) abort();
	}
	/* the same answers with and without the fast path */
	struct attempt_reader *fast = attempt_reader_mem(cfg, "f", (const char *)data, size);
	struct attempt_reader *full = attempt_reader_mem(cfg, "f", (const char *)data, size);
	if (!fast || !full) abort();
	attempt_reader_set_fast(full, false);
	for (int guard = 0; guard < 4096; guard++) {
		struct attempt a, b;
		int ra = attempt_reader_next(fast, &a, NULL), rb = attempt_reader_next(full, &b, NULL);
		if (ra != rb) abort();
		if (ra == 1) {
			if (strcmp(a.user_name, b.user_name) || a.tunnel != b.tunnel || a.auth != b.auth ||
			    a.eap_type != b.eap_type || a.links != b.links || a.protocols != b.protocols ||
			    a.line != b.line || a.encryption != b.encryption ||
			    a.framed_protocol != b.framed_protocol || a.bap != b.bap ||
			    a.service_type != b.service_type || a.nas_port_type != b.nas_port_type)
				abort();
			attempt_free(&a);
			attempt_free(&b);
		}
		if (ra == 0) break;
	}
	attempt_reader_free(fast);
	attempt_reader_free(full);
	struct attempt_list l;
	struct config_problems pr = {0};
	int rc = attempts_parse(cfg, "fuzz.json", (const char *)data, size, &l, &pr);
	config_problems_free(&pr);
	if (rc) return 0;
	struct policy_result r;
	if (policy_result_init(&r, cfg)) abort();
	r.trace_after = true;
	for (size_t i = 0; i < l.n && i < 64; i++) {
		facts_reset(facts);
		policy_evaluate(cfg, &l.v[i], &r, facts);
		struct step_text t;
		for (size_t k = 0; k < r.nsteps; k++) policy_step_text(cfg, &l.v[i], &r.steps[k], &t);
		char buf[1024];
		for (size_t p = 0; p < cfg->npolicies; p++)
			policy_near_miss(cfg, &l.v[i], &r, p, buf, sizeof buf);
		r.full_trace = !r.full_trace;
	}
	policy_result_free(&r);
	attempts_free(&l);
	return 0;
}
