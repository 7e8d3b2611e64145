/* `vnet policy check`: problems of a configuration found without an attempt, and the
 * facts the knowledge base explains them from (engine/policy/check.c). */
#ifndef VNET_POLICY_CHECK_H
#define VNET_POLICY_CHECK_H

#include <stddef.h>
#include "policy/config.h"
#include "policy/policy.h"
#include "rules/facts.h"

struct policy_finding {
	char pointer[200];   /* JSON pointer into the configuration, for the line */
	char path[200];      /* the configuration key ("policies[2].profile") */
	char msg[600];
	int reason;          /* enum policy_reason the attempts concerned get, -1: none */
};

struct policy_findings {
	struct policy_finding *v;
	size_t n, cap;
};

/* Append the findings of `c` to `f` (free with policy_findings_free). */
void policy_check_config(const struct config *c, struct policy_findings *f);
void policy_findings_free(struct policy_findings *f);

/* The facts of the configuration alone: the server's settings (policy_server_facts),
 * whether each tunnel type's ports take inbound calls, and the `policy.reason` of every
 * finding that decides attempts, with its configuration key as evidence. */
void policy_check_facts(const struct config *c, const struct policy_findings *fs,
                        struct facts *f);

#endif
