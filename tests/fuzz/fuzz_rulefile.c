/* Rule file and catalogue parser: any input must give a ruleset or problems, never a
 * crash, a leak or a hang; a ruleset that loads is matched and rendered. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/catalog.h"
#include "rules/facts.h"
#include "render_diag.h"
#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The file name must be "<id>.rule" for a rule to load: take the id from the input. */
static void name_from_id(const char *s, size_t n, char *name, size_t cap)
{
	snprintf(name, cap, "fuzz/none.rule");
	const char *p = memmem(s, n, "id: ", 4);
	if (!p)
		return;
	p += 4;
	size_t k = 0;
	char id[80];
	while (p + k < s + n && k < 64 &&
	       ((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= '0' && p[k] <= '9') || p[k] == '.' ||
	        p[k] == '-' || p[k] == '_'))
		k++;
	memcpy(id, p, k);
	id[k] = '\0';
	snprintf(name, cap, "fuzz/%s.rule", id);
}

static struct facts *sample_facts(void)
{
	struct facts *f = facts_new();
	struct evidence ev = ev_packet("f.pcap", 3, 12);
	facts_add_str(f, "policy.reason", "pool-exhausted", &ev);
	facts_add_int(f, "mschap.error", 691, NULL);
	facts_add_bool(f, "ike.no_reply", true, NULL);
	facts_add_str(f, "ike.notify", "NO_PROPOSAL_CHOSEN", NULL);
	facts_add_str(f, "ike.notify", "AUTHENTICATION_FAILED", NULL);
	facts_add_int(f, "ike.version", 1, NULL);
	facts_add_str(f, "cert.purpose", "l2tp", NULL);
	facts_add_bool(f, "cert.picked.wildcard", true, NULL);
	facts_add_time(f, "t", 1700000000, NULL);
	facts_add_addr(f, "a", "192.0.2.1", NULL);
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct facts *facts;
	if (!facts)
		facts = sample_facts();
	const char *s = (const char *)data;
	char name[128];
	name_from_id(s, size, name, sizeof name);
	char *problems = NULL;
	struct ruleset *rs = rules_load_buffer(name, s, size, &problems);
	if (rs) {
		struct rule_match m[4];
		size_t n = rules_match(rs, facts, m, 4);
		json_t *j = render_diag_json(m, n);
		char *txt = json_dumps(j, 0);
		free(txt);
		json_decref(j);
		for (size_t i = 0; i < rules_count(rs); i++) {
			json_t *r = render_rule_json(rules_at(rs, i));
			json_decref(r);
		}
		rules_free(rs);
	} else if (!problems || !*problems) {
		abort(); /* a failed load must say why */
	}
	free(problems);
	problems = NULL;
	struct catalog *c = catalog_load_buffer("fuzz.cat", s, size, CATALOG_WINDOWS, &problems);
	if (c) {
		for (size_t i = 0; i < catalog_count(c); i++)
			if (catalog_find(c, catalog_at(c, i)->code) != catalog_at(c, i))
				abort();
		catalog_free(c);
	} else if (!problems || !*problems) {
		abort();
	}
	free(problems);
	return 0;
}
