/* Fuzz the attempt parser and, for attempts that parse, the evaluator with its full
 * trace, the near-miss hints and the facts, against the embedded sample configuration. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "attempt.h"
#include "config.h"
#include "facts.h"
#include "policy.h"

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
