/* Policy evaluations per second: 100 policies with group, NAS-Port-Type and regular
 * expression conditions, 10,000 users in 100 groups, one attempt per user.
 *
 * Rates are per second of this thread's CPU time (one core); the wall-clock rate follows
 * in parentheses, lower when other programs share the cores. Prints
 *   policy-eval        <n>/s   (the decision, as the server makes it)
 *   policy-eval-facts  <n>/s   (the decision and the facts the knowledge base matches)
 *   policy-eval-trace  <n>/s   (also the full trace: every condition of every policy tried)
 * and fails (exit 1) when the decisions are not the expected ones or when the timed
 * evaluations allocated memory (malloc is counted through glibc's __libc_* entry points). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "policy/attempt.h"
#include "policy/config.h"
#include "rules/facts.h"
#include "policy/policy.h"

/* allocation counter: the program's malloc family interposes libc's */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static size_t nallocs;
void *malloc(size_t n);
void *calloc(size_t a, size_t b);
void *realloc(void *p, size_t n);
void *malloc(size_t n)
{
	nallocs++;
	return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
	nallocs++;
	return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
	nallocs++;
	return __libc_realloc(p, n);
}

#define NPOL 100
#define NUSERS 10000

/* CPU time of this thread: evaluations per second of one core, whatever else the
 * machine runs at the same time */
static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *build_config(void)
{
	json_t *root = json_object(), *server = json_object(), *groups = json_array(),
	       *pols = json_array(), *users = json_array();
	json_object_set_new(server, "auth_methods", json_string("mschapv2"));
	json_t *ports = json_object();
	json_object_set_new(ports, "pptp", json_integer(1000));
	json_object_set_new(ports, "l2tp", json_integer(1000));
	json_object_set_new(server, "ports", ports);
	json_object_set_new(server, "address_assignment", json_string("pool"));
	json_t *pool = json_object();
	json_object_set_new(pool, "start", json_string("10.8.0.1"));
	json_object_set_new(pool, "end", json_string("10.8.255.254"));
	json_t *pools = json_array();
	json_array_append_new(pools, pool);
	json_object_set_new(server, "pool", pools);
	json_object_set_new(root, "server", server);
	char buf[128];
	for (int g = 0; g < NPOL; g++) {
		snprintf(buf, sizeof buf, "Group %d", g);
		json_t *gr = json_object();
		json_object_set_new(gr, "name", json_string(buf));
		json_array_append_new(groups, gr);
	}
	json_object_set_new(root, "groups", groups);
	for (int p = 0; p < NPOL; p++) {
		json_t *po = json_object(), *cs = json_array(), *c1 = json_object(),
		       *c2 = json_object(), *c3 = json_object();
		snprintf(buf, sizeof buf, "policy %d", p);
		json_object_set_new(po, "name", json_string(buf));
		snprintf(buf, sizeof buf, "Group %d", p);
		json_object_set_new(c1, "attribute", json_string("Windows-Groups"));
		json_object_set_new(c1, "value", json_string(buf));
		json_object_set_new(c2, "attribute", json_string("NAS-Port-Type"));
		json_object_set_new(c2, "value", json_string("virtual"));
		/* a distinct expression per policy over the client's address */
		snprintf(buf, sizeof buf, "^198\\.51\\.%d\\.\\d{1,3}$|^203\\.0\\.113\\.(%d|2[0-9]{2})$",
		         p, p);
		json_object_set_new(c3, "attribute", json_string("Calling-Station-Id"));
		json_object_set_new(c3, "pattern", json_string(buf));
		json_array_append_new(cs, c1);
		json_array_append_new(cs, c2);
		json_array_append_new(cs, c3);
		json_object_set_new(po, "conditions", cs);
		json_object_set_new(po, "permission", json_string("grant"));
		json_t *pr = json_object();
		json_object_set_new(pr, "auth_methods", json_string("mschapv2"));
		json_object_set_new(pr, "idle_timeout", json_integer(30));
		json_object_set_new(po, "profile", pr);
		json_array_append_new(pols, po);
	}
	json_object_set_new(root, "policies", pols);
	for (int u = 0; u < NUSERS; u++) {
		json_t *us = json_object(), *gs = json_array();
		snprintf(buf, sizeof buf, "user%05d", u);
		json_object_set_new(us, "name", json_string(buf));
		json_object_set_new(us, "password", json_string("secret"));
		snprintf(buf, sizeof buf, "Group %d", u % NPOL);
		json_array_append_new(gs, json_string(buf));
		json_object_set_new(us, "groups", gs);
		json_array_append_new(users, us);
	}
	json_object_set_new(root, "users", users);
	char *text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return text;
}

static int run(const struct config *c, struct attempt *at, struct policy_result *r,
               struct facts *f, bool full, const char *label)
{
	/* with f NULL only the decision is made; with f the facts for the rules are added */
	r->full_trace = full;
	size_t n = 0, accepted = 0;
	/* warm up: grows the facts arena and the regex JIT stacks once */
	for (int i = 0; i < NUSERS; i++) {
		if (f) facts_reset(f);
		policy_evaluate(c, &at[i], r, f);
	}
	size_t allocs0 = nallocs;
	double t0 = now_s(), t1, w0 = wall_s();
	do {
		for (int i = 0; i < NUSERS; i++) {
			if (f) facts_reset(f);
			if (policy_evaluate(c, &at[i], r, f) == 0) accepted++;
		}
		n += NUSERS;
		t1 = now_s();
	} while (t1 - t0 < 2.0);
	/* every third user calls from an address no policy's expression accepts */
	size_t want = n / NUSERS * (size_t)(NUSERS - (NUSERS + 2) / 3);
	if (accepted != want) {
		fprintf(stderr, "bench_policy: %zu accepted, expected %zu\n", accepted, want);
		return 1;
	}
	if (nallocs != allocs0) {
		fprintf(stderr, "bench_policy: %zu allocations during %zu evaluations\n",
		        nallocs - allocs0, n);
		return 1;
	}
	printf("%-18s %.0f/s  (wall clock %.0f/s)\n", label, (double)n / (t1 - t0),
	       (double)n / (wall_s() - w0));
	return 0;
}

int main(void)
{
	char *text = build_config();
	struct config_problems probs = {0};
	struct config *c = config_load_mem("bench", text, strlen(text), &probs);
	free(text);
	if (!c) {
		config_problems_print(&probs, "bench");
		return 1;
	}
	struct attempt *at = calloc(NUSERS, sizeof *at);
	char buf[64];
	for (int i = 0; i < NUSERS; i++) {
		snprintf(buf, sizeof buf, "user%05d", i);
		at[i].user_name = strdup(buf);
		at[i].password = strdup("secret");
		at[i].pointer = strdup("");
		at[i].tunnel = i % 2 ? TUN_PPTP : TUN_L2TP;
		at[i].auth = AUTH_MSCHAPV2;
		at[i].eap_type = -1;
		at[i].encryption = ENC_STRONGEST;
		at[i].nas_port_type = NPT_VIRTUAL;
		at[i].service_type = SVT_FRAMED;
		at[i].links = 1;
		at[i].protocols = 1u << LAN_IP;
		snprintf(buf, sizeof buf, i % 3 == 0 ? "192.0.2.%d" : "198.51.%d.%d", i % NPOL,
		         i % 250);
		at[i].calling_station_id = strdup(buf);
		attempt_parse_time("2026-11-23T10:00", &at[i].minute_of_week, &at[i].local_epoch);
	}
	struct policy_result r;
	struct facts *f = facts_new();
	if (policy_result_init(&r, c) || !f) return 1;
	int rc = run(c, at, &r, NULL, false, "policy-eval");
	rc |= run(c, at, &r, f, false, "policy-eval-facts");
	rc |= run(c, at, &r, f, true, "policy-eval-trace");
	policy_result_free(&r);
	facts_free(f);
	for (int i = 0; i < NUSERS; i++) attempt_free(&at[i]);
	free(at);
	config_free(c);
	return rc;
}
