/* The Diffie-Hellman of one IKE Main Mode against `openssl speed`'s operation, per group
 * (ECP 256, MODP 2048; with an argument, the named groups only: ecp256 modp2048 ecp384
 * modp1024):
 *
 *   mm   what the responder does per Main Mode with engine/ike/ike_crypto.h: a key pair,
 *        the peer's value decoded and checked, one agreement (ike_dh_new, ike_dh_public,
 *        ike_dh_shared), per second of CPU time;
 *   op   EVP_PKEY_derive on two fixed keys of the group, per second of CPU time: what
 *        `openssl speed ecdhp256` / `ffdh2048` count as one operation;
 *   reuse the same as mm with the server's key pairs reused (serve.ipsec.dh_reuse,
 *        ike_dh_reuse): the agreement and the check of the peer's value alone.
 *
 * mm / op is the most that bench/serve-ipsec.sh's ratio (Main Mode set-ups per CPU second
 * of the server / openssl speed's operations per second) can reach when a set-up costs
 * nothing but its Diffie-Hellman: a Main Mode makes a key pair as well as an agreement.
 * reuse / op is that ceiling with dh_reuse on.
 *
 *   bench_ike_dh [GROUP...]        exit 0, or 1 when an agreement failed */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "ike/ike_crypto.h"

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Main Modes' worth of Diffie-Hellman per CPU second over about `secs`; -1 on failure.
 * With `reuse`, the key pairs are reused (one window for the whole run). */
static double mm_rate(unsigned group, double secs, bool reuse)
{
	struct ike_dh *peer = ike_dh_new(group);
	ike_dh_reuse(reuse ? 3600 : 0);
	uint8_t pv[IKE_DH_MAX], mine[IKE_DH_MAX], z[IKE_DH_MAX];
	size_t pl = peer ? ike_dh_public(peer, pv, sizeof pv) : 0;
	if (!pl)
		return -1;
	long n = 0;
	double t0 = cpu_s(), t = t0;
	while (t - t0 < secs) {
		for (int i = 0; i < 16; i++, n++) {
			struct ike_dh *d = ike_dh_new(group);
			bool ok = d && ike_dh_public(d, mine, sizeof mine) == pl &&
			          ike_dh_shared(d, pv, pl, z, sizeof z);
			ike_dh_free(d);
			if (!ok) {
				ike_dh_reuse(0);
				ike_dh_free(peer);
				return -1;
			}
		}
		t = cpu_s();
	}
	ike_dh_reuse(0);
	ike_dh_free(peer);
	return (double)n / (t - t0);
}

static EVP_PKEY *evp_key(const char *type, const char *group)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *k = NULL;
	if (!c || EVP_PKEY_keygen_init(c) != 1 || EVP_PKEY_CTX_set_group_name(c, group) != 1 ||
	    EVP_PKEY_keygen(c, &k) != 1)
		k = NULL;
	EVP_PKEY_CTX_free(c);
	return k;
}

/* openssl speed's operation: derive on fixed keys, per CPU second; -1 on failure. */
static double op_rate(const char *type, const char *group, double secs)
{
	EVP_PKEY *a = evp_key(type, group), *b = evp_key(type, group);
	EVP_PKEY_CTX *c = a && b ? EVP_PKEY_CTX_new_from_pkey(NULL, a, NULL) : NULL;
	double r = -1;
	if (c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, b) == 1) {
		uint8_t z[IKE_DH_MAX];
		long n = 0;
		bool ok = true;
		double t0 = cpu_s(), t = t0;
		while (ok && t - t0 < secs) {
			for (int i = 0; ok && i < 16; i++, n++) {
				size_t zl = sizeof z;
				ok = EVP_PKEY_derive(c, z, &zl) == 1;
			}
			t = cpu_s();
		}
		if (ok)
			r = (double)n / (t - t0);
	}
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	return r;
}

static const struct {
	const char *name;
	unsigned group;
	const char *type, *ossl; /* the key type and group name `openssl speed` uses */
} groups[] = {
	{"ecp256", 19, "EC", "P-256"},
	{"modp2048", 14, "DH", "ffdhe2048"},
	{"ecp384", 20, "EC", "P-384"},
	{"modp1024", 2, NULL, NULL},
};

int main(int argc, char **argv)
{
	int rc = 0;
	printf("%-34s %12s %12s %8s %12s %8s\n", "name", "mm/s", "op/s", "mm/op", "reuse/s",
	       "reuse/op");
	for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
		bool want = argc < 2 && i < 2;
		for (int a = 1; a < argc; a++)
			want = want || !strcmp(argv[a], groups[i].name);
		if (!want)
			continue;
		double mm = mm_rate(groups[i].group, 2.0, false);
		double ru = mm_rate(groups[i].group, 2.0, true);
		double op = groups[i].type ? op_rate(groups[i].type, groups[i].ossl, 2.0) : -1;
		if (mm < 0 || ru < 0) {
			fprintf(stderr, "bench_ike_dh: %s: a key pair or an agreement failed\n",
			        groups[i].name);
			rc = 1;
			continue;
		}
		char ops[24] = "-", ratio[16] = "-", rratio[16] = "-";
		if (op > 0) {
			snprintf(ops, sizeof ops, "%.0f", op);
			snprintf(ratio, sizeof ratio, "%.2f", mm / op);
			snprintf(rratio, sizeof rratio, "%.2f", ru / op);
		}
		printf("%-34s %12.0f %12s %8s %12.0f %8s\n", groups[i].name, mm, ops, ratio, ru,
		       rratio);
	}
	return rc;
}
