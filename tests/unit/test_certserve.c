/* engine/cert/certserve.h: the certificate a server presents is what cert pick picks,
 * with its key, its chain and the pick's verdict; over the sample stores of KB 2855053
 * (samples/certs: the public wildcard certificate first, clients fail with 787) and the
 * fixed one (samples/certs-fixed), and stores made here. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/pem.h>

#include "cert/certserve.h"
#include "certgen.h"

#define SAMPLES VNET_SOURCE_DIR "/samples"
#define CLIENT_CA SAMPLES "/certs/clients/corp-root.pem"

/* What cert pick itself picks from DIR (the command's call), for the comparison. */
static char *pick_name(const char *dir, const char *client_ca)
{
	struct diag_err e;
	struct cert_store *s = certstore_load(dir, NULL, &e);
	ck_assert_ptr_nonnull(s);
	struct cert_problem *pr = NULL;
	size_t npr = 0;
	STACK_OF(X509) *cas = client_ca ? certstore_load_cas(client_ca, NULL, &pr, &npr, &e) : NULL;
	struct cert_pick_opts o = {.purpose = CERT_PURPOSE_L2TP, .at = (int64_t)time(NULL),
	                           .client_cas = cas, .client_ca_source = client_ca};
	struct cert_pick p;
	ck_assert_int_eq(cert_pick_run(s, &o, &p, &e), 0);
	char *n = p.picked >= 0 ? strdup(p.info[p.picked].name) : NULL;
	cert_pick_free(&p);
	certstore_free(s);
	if (cas)
		sk_X509_pop_free(cas, X509_free);
	free(pr);
	return n;
}

START_TEST(pick_787_store)
{
	struct cert_server_opts o = {.store = SAMPLES "/certs", .purpose = CERT_PURPOSE_L2TP,
	                             .client_ca = CLIENT_CA};
	struct cert_server cs;
	struct diag_err e;
	ck_assert_int_eq(cert_server_load(&o, &cs, &e), 0);
	char *want = pick_name(SAMPLES "/certs", CLIENT_CA);
	ck_assert_str_eq(cs.file, want);
	ck_assert_str_eq(cs.file, "01-iphttps.pem");
	free(want);
	ck_assert(!cs.clients_accept);
	ck_assert_int_eq(cs.client_error, 787);
	ck_assert_uint_eq(cs.qualifying, 2);
	ck_assert_int_eq(X509_check_private_key(cs.cert, cs.key), 1);
	ck_assert_int_eq(sk_X509_num(cs.chain), 0); /* issued by the root itself */
	ck_assert_ptr_nonnull(strstr(cs.verdict, "presenting C=US, O=Contoso, CN=*.contoso.com "
	                                         "(01-iphttps.pem, thumbprint "));
	ck_assert_ptr_nonnull(strstr(cs.verdict, "the first of 2 that qualify in store order; "
	                                         "cert pick says clients will fail with 787: "));
	ck_assert_ptr_nonnull(strstr(cs.verdict, "wildcard"));
	ck_assert_uint_eq(strlen(cs.thumbprint), 40);
	/* the store's roots/ are trusted for the clients' certificates: both CAs */
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(cs.trust);
	ck_assert_int_eq(sk_X509_OBJECT_num(objs), 2);
	cert_server_free(&cs);
}
END_TEST

START_TEST(pick_fixed_store)
{
	struct cert_server_opts o = {.store = SAMPLES "/certs-fixed", .purpose = CERT_PURPOSE_L2TP,
	                             .client_ca = CLIENT_CA, .trust_ca = CLIENT_CA};
	struct cert_server cs;
	struct diag_err e;
	ck_assert_int_eq(cert_server_load(&o, &cs, &e), 0);
	ck_assert_str_eq(cs.file, "vpn.pem");
	ck_assert(cs.clients_accept);
	ck_assert_int_eq(cs.client_error, 0);
	ck_assert_ptr_nonnull(strstr(cs.verdict, "; cert pick: the clients accept it"));
	ck_assert_ptr_null(strstr(cs.verdict, "judged against"));
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(cs.trust);
	ck_assert_int_eq(sk_X509_OBJECT_num(objs), 1);
	cert_server_free(&cs);
	/* without the clients' CA the store's roots stand in, and the line says so */
	o.client_ca = NULL;
	ck_assert_int_eq(cert_server_load(&o, &cs, &e), 0);
	ck_assert_ptr_nonnull(strstr(cs.verdict, "(judged against the store's roots/: no client "
	                                         "CA given)"));
	cert_server_free(&cs);
}
END_TEST

static void write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	if (x)
		PEM_write_X509(f, x);
	if (k)
		PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

/* A store whose certificate comes from an intermediate CA: the chain holds the
 * intermediate and not the root. One without a private key: no pick, an error and why. */
START_TEST(chain_and_no_pick)
{
	char dir[] = "/tmp/vnet-certserve.XXXXXX", p[256];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	EVP_PKEY *kr = cg_key(2048), *ki = cg_key(2048), *kl = cg_key(2048);
	X509 *root = cg_cert(kr, "root", NULL, NULL, true, NULL, -3600, 86400);
	X509 *mid = cg_cert(ki, "intermediate", root, kr, true, NULL, -3600, 86400);
	X509 *leaf = cg_cert(kl, "vpn.test", mid, ki, false, "DNS:vpn.test", -60, 86400);
	snprintf(p, sizeof p, "%s/roots", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/intermediates", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/roots/root.pem", dir);
	write_pem(p, root, NULL);
	snprintf(p, sizeof p, "%s/intermediates/mid.pem", dir);
	write_pem(p, mid, NULL);
	snprintf(p, sizeof p, "%s/vpn.pem", dir);
	write_pem(p, leaf, kl);
	struct cert_server_opts o = {.store = dir, .purpose = CERT_PURPOSE_L2TP};
	struct cert_server cs;
	struct diag_err e;
	ck_assert_int_eq(cert_server_load(&o, &cs, &e), 0);
	ck_assert_int_eq(sk_X509_num(cs.chain), 1);
	ck_assert_int_eq(X509_cmp(sk_X509_value(cs.chain, 0), mid), 0);
	ck_assert(cs.clients_accept);
	cert_server_free(&cs);
	/* the same certificate without its key: nothing qualifies */
	write_pem(p, leaf, NULL);
	ck_assert_int_eq(cert_server_load(&o, &cs, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.reason, "no certificate qualifies for L2TP/IPsec"));
	ck_assert_ptr_nonnull(cs.verdict);
	ck_assert_ptr_nonnull(strstr(cs.verdict, "vpn.pem: no private key"));
	ck_assert_ptr_null(cs.cert);
	cert_server_free(&cs);
	/* an unreadable store and a client CA that is not there name the path */
	o.store = "/nonexistent/store";
	ck_assert_int_eq(cert_server_load(&o, &cs, &e), -1);
	ck_assert_ptr_null(cs.verdict);
	o.store = dir;
	o.client_ca = "/nonexistent/ca.pem";
	ck_assert_int_eq(cert_server_load(&o, &cs, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.reason, "client CA /nonexistent/ca.pem"));
	cert_server_free(&cs);
	unlink(p);
	snprintf(p, sizeof p, "%s/roots/root.pem", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/intermediates/mid.pem", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/roots", dir);
	rmdir(p);
	snprintf(p, sizeof p, "%s/intermediates", dir);
	rmdir(p);
	rmdir(dir);
	X509_free(root);
	X509_free(mid);
	X509_free(leaf);
	EVP_PKEY_free(kr);
	EVP_PKEY_free(ki);
	EVP_PKEY_free(kl);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("certserve");
	TCase *t = tcase_create("certserve");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, pick_787_store);
	tcase_add_test(t, pick_fixed_store);
	tcase_add_test(t, chain_and_no_pick);
	suite_add_tcase(s, t);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
