/* Matches per second of the full embedded rule set over representative fact sets:
 * a policy rejection, a certificate pick, an IKE capture, an L2TP/PPP capture and a
 * fact set nothing matches. One match = one rules_match call over every rule. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rules/facts.h"
#include "rules/rules.h"

#define NSETS 5

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill(struct facts *f, int which)
{
	struct evidence cfg = ev_config("policies[1].profile.encryption");
	struct evidence pkt = ev_packet("capture.pcap", 7, 28);
	switch (which) {
	case 0: /* vnet policy test, rejected */
		facts_add_str(f, "source", "policy", NULL);
		facts_add_str(f, "policy.decision", "reject", NULL);
		facts_add_str(f, "policy.reason", "encryption-conflict", &cfg);
		facts_add_int(f, "policy.error", 742, NULL);
		facts_add_int(f, "policy.nps_reason", 66, NULL);
		facts_add_str(f, "policy.name", "VPN users", NULL);
		facts_add_str(f, "user.name", "alice", NULL);
		facts_add_bool(f, "user.known", true, NULL);
		facts_add_str(f, "attempt.tunnel", "l2tp", NULL);
		facts_add_str(f, "attempt.auth", "mschapv2", NULL);
		facts_add_str(f, "server.auth_methods", "mschapv2", NULL);
		facts_add_str(f, "server.auth_methods", "eap", NULL);
		facts_add_str(f, "profile.encryption", "basic", NULL);
		facts_add_int(f, "server.pool.free", 40, NULL);
		break;
	case 1: /* vnet cert pick */
		facts_add_str(f, "source", "cert", NULL);
		facts_add_str(f, "cert.purpose", "l2tp", NULL);
		facts_add_int(f, "cert.store.count", 3, NULL);
		facts_add_int(f, "cert.qualifying", 2, NULL);
		facts_add_str(f, "cert.picked", "store/1-wildcard.pem", NULL);
		facts_add_bool(f, "cert.picked.wildcard", true, NULL);
		facts_add_bool(f, "cert.picked.trusted_by_client", true, NULL);
		facts_add_str(f, "cert.picked.eku", "server-auth", NULL);
		facts_add_str(f, "cert.picked.eku", "client-auth", NULL);
		facts_add_bool(f, "cert.order_decides", true, NULL);
		facts_add_str(f, "cert.skipped.reason", "no-private-key", NULL);
		facts_add_bool(f, "cert.client.accepted", false, NULL);
		facts_add_int(f, "cert.client.error", 787, NULL);
		break;
	case 2: /* vnet pcap explain: IKE */
		facts_add_str(f, "source", "pcap", NULL);
		facts_add_str(f, "session.protocol", "l2tp-ipsec", NULL);
		facts_add_str(f, "session.phase.failed", "ike1", NULL);
		facts_add_int(f, "ike.version", 1, &pkt);
		facts_add_str(f, "ike.notify", "INITIAL_CONTACT", &pkt);
		facts_add_str(f, "ike.notify", "INVALID_HASH_INFORMATION", &pkt);
		facts_add_bool(f, "ike.mm5_undecryptable", true, &pkt);
		facts_add_int(f, "ike.retransmits", 4, NULL);
		facts_add_str(f, "ike.auth_method", "psk", NULL);
		facts_add_bool(f, "nat.detected", true, NULL);
		facts_add_bool(f, "nat.client_behind", true, NULL);
		break;
	case 3: /* vnet pcap explain: L2TP and PPP */
		facts_add_str(f, "source", "pcap", NULL);
		facts_add_str(f, "session.protocol", "l2tp", NULL);
		facts_add_str(f, "session.phase.failed", "auth", NULL);
		facts_add_bool(f, "l2tp.in_ipsec", true, NULL);
		facts_add_int(f, "l2tp.cdn.result", 3, &pkt);
		facts_add_str(f, "ppp.auth.protocol", "mschapv2", NULL);
		facts_add_str(f, "ppp.auth.result", "failure", &pkt);
		facts_add_int(f, "mschap.error", 691, &pkt);
		facts_add_bool(f, "mschap.retry", false, NULL);
		facts_add_int(f, "mtu.inner_max", 1400, NULL);
		break;
	default: /* nothing to explain */
		facts_add_str(f, "source", "pcap", NULL);
		facts_add_str(f, "session.protocol", "pptp", NULL);
		facts_add_str(f, "session.phase.failed", "established", NULL);
		facts_add_bool(f, "pptp.gre_seen", true, NULL);
		break;
	}
}

int main(void)
{
	struct diag_err err;
	struct ruleset *rs = rules_load_default(&err);
	if (!rs) {
		fprintf(stderr, "bench_rules: %s\n", err.reason);
		return 1;
	}
	struct facts *sets[NSETS];
	for (int i = 0; i < NSETS; i++) {
		sets[i] = facts_new();
		fill(sets[i], i);
	}
	struct rule_match m[16];
	size_t found = 0;
	/* warm up, then run for about two seconds */
	for (int i = 0; i < 1000; i++)
		found += rules_match(rs, sets[i % NSETS], m, 16);
	long long calls = 0;
	double t0 = now(), t1 = t0;
	while (t1 - t0 < 2.0) {
		for (int i = 0; i < 1000; i++)
			found += rules_match(rs, sets[i % NSETS], m, 16);
		calls += 1000;
		t1 = now();
	}
	double rate = (double)calls / (t1 - t0);
	printf("rules-match  %.0f/s  (%zu rules, %d fact sets, %.2f us per match)\n", rate,
	       rules_count(rs), NSETS, 1e6 / rate);
	for (int i = 0; i < NSETS; i++)
		facts_free(sets[i]);
	rules_free(rs);
	return found ? 0 : 1;
}
