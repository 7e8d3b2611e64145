/* Certificate store loading, inspection, the pick, the clients' view and the fix, over
 * stores generated at test time with OpenSSL. */
#include <check.h>
#include <ftw.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>
#include "cert/certpick.h"
#include "cert/certstore.h"
#include "rules/facts.h"

#define DAY 86400LL
static const int64_t AT = 1893456000; /* 2030-01-01T00:00:00Z */

/* ---- fixtures: keys, CAs, leaves --------------------------------------------- */

static EVP_PKEY *mk_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ck_assert_ptr_nonnull(k);
	return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *val)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, val);
	ck_assert_ptr_nonnull(e);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

struct ca {
	X509 *x;
	EVP_PKEY *k;
};

static long serial = 1;

/* A certificate for `cn` (a full "/DC=.../CN=..." subject when it starts with '/'). */
static X509 *mk_cert(const char *cn, EVP_PKEY *key, const struct ca *issuer, const char *eku,
                     const char *san, int64_t from, int64_t to, bool ca)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_NAME *n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"Test", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->x) : n);
	X509_NAME_free(n);
	ASN1_TIME_set(X509_getm_notBefore(x), (time_t)from);
	ASN1_TIME_set(X509_getm_notAfter(x), (time_t)to);
	X509_set_pubkey(x, key);
	if (ca) {
		add_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, NULL, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, issuer ? issuer->x : NULL, NID_key_usage, "critical,digitalSignature");
	}
	if (eku)
		add_ext(x, NULL, NID_ext_key_usage, eku);
	if (san)
		add_ext(x, NULL, NID_subject_alt_name, san);
	ck_assert_int_gt(X509_sign(x, issuer ? issuer->k : key, EVP_sha256()), 0);
	return x;
}

static struct ca mk_ca(const char *cn)
{
	struct ca c;
	c.k = mk_key();
	c.x = mk_cert(cn, c.k, NULL, NULL, NULL, AT - 3650 * DAY, AT + 3650 * DAY, true);
	return c;
}

static void ca_free(struct ca *c)
{
	X509_free(c->x);
	EVP_PKEY_free(c->k);
}

static char tmpdir[256];

static void path_of(char *buf, size_t sz, const char *name)
{
	snprintf(buf, sz, "%s/%s", tmpdir, name);
}

static void write_cert(const char *name, X509 *x)
{
	char p[512];
	path_of(p, sizeof p, name);
	FILE *fp = fopen(p, "w");
	ck_assert_ptr_nonnull(fp);
	PEM_write_X509(fp, x);
	fclose(fp);
}

static void write_key(const char *name, EVP_PKEY *k)
{
	char p[512];
	path_of(p, sizeof p, name);
	FILE *fp = fopen(p, "w");
	ck_assert_ptr_nonnull(fp);
	PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL);
	fclose(fp);
}

static void write_bytes(const char *name, const void *b, size_t n)
{
	char p[512];
	path_of(p, sizeof p, name);
	FILE *fp = fopen(p, "wb");
	ck_assert_ptr_nonnull(fp);
	fwrite(b, 1, n, fp);
	fclose(fp);
}

/* A leaf with its key written as NAME.pem / NAME.key (key omitted when !with_key). */
static void leaf(const char *name, const char *cn, const struct ca *ca, const char *eku,
                 const char *san, int64_t from, int64_t to, bool with_key)
{
	char f[128];
	EVP_PKEY *k = mk_key();
	X509 *x = mk_cert(cn, k, ca, eku, san, from, to, false);
	snprintf(f, sizeof f, "%s.pem", name);
	write_cert(f, x);
	if (with_key) {
		snprintf(f, sizeof f, "%s.key", name);
		write_key(f, k);
	}
	X509_free(x);
	EVP_PKEY_free(k);
}

static struct ca corp, other;

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static void setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/vnet-cert-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	char p[512];
	path_of(p, sizeof p, "roots");
	ck_assert_int_eq(mkdir(p, 0700), 0);
	corp = mk_ca("Corp Root CA");
	other = mk_ca("Public Root CA");
	write_cert("roots/corp.pem", corp.x);
	write_cert("roots/public.pem", other.x);
	/* the clients trust the corporate CA only */
	path_of(p, sizeof p, "clients");
	ck_assert_int_eq(mkdir(p, 0700), 0);
	write_cert("clients/ca.pem", corp.x);
}

static void teardown(void)
{
	ca_free(&corp);
	ca_free(&other);
	nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

#define SERVER_EKU "serverAuth,clientAuth"
#define VALID AT - 30 * DAY, AT + 365 * DAY

struct run {
	struct cert_store *s;
	STACK_OF(X509) *cas;
	struct cert_pick p;
};

static void run_pick(struct run *r, enum cert_purpose pur, const char *server_name,
                     const char *pass, bool fix, const char *endpoint)
{
	struct diag_err err;
	char p[512];
	memset(r, 0, sizeof *r);
	r->s = certstore_load(tmpdir, pass, &err);
	ck_assert_msg(r->s != NULL, "load: %s", err.reason);
	path_of(p, sizeof p, "clients/ca.pem");
	struct cert_problem *probs = NULL;
	size_t np = 0;
	r->cas = certstore_load_cas(p, NULL, &probs, &np, &err);
	ck_assert_ptr_nonnull(r->cas);
	ck_assert_int_eq(sk_X509_num(r->cas), 1);
	ck_assert_uint_eq(np, 0);
	free(probs);
	struct cert_pick_opts o = {.purpose = pur, .at = AT, .server_name = server_name,
	                           .client_cas = r->cas, .client_ca_source = "clients/ca.pem",
	                           .fix = fix, .endpoint = endpoint};
	ck_assert_int_eq(cert_pick_run(r->s, &o, &r->p, &err), 0);
}

static void run_free(struct run *r)
{
	cert_pick_free(&r->p);
	certstore_free(r->s);
	sk_X509_pop_free(r->cas, X509_free);
}

static bool has_reason(const struct cert_reason *rs, size_t n, const char *code)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(rs[i].code, code) == 0)
			return true;
	return false;
}

/* ---- the pick ----------------------------------------------------------------------- */

START_TEST(expired_first)
{
	leaf("a-old", "vpn.corp.test", &corp, SERVER_EKU, "DNS:vpn.corp.test",
	     AT - 800 * DAY, AT - 400 * DAY, true);
	leaf("b-new", "vpn.corp.test", &corp, SERVER_EKU, "DNS:vpn.corp.test", VALID, true);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, "vpn.corp.test", NULL, false, NULL);
	ck_assert_uint_eq(r.p.n, 2);
	ck_assert_str_eq(r.p.info[0].name, "a-old.pem");
	ck_assert(r.p.info[0].expired);
	ck_assert(!r.p.info[0].qualifies);
	ck_assert(has_reason(r.p.info[0].reasons, r.p.info[0].nreasons, "expired"));
	ck_assert_int_eq(r.p.picked, 1);
	ck_assert(r.p.client.accepted);
	ck_assert_int_eq(r.p.client.error, 0);
	ck_assert(!r.p.order_decides);
	run_free(&r);
}
END_TEST

START_TEST(no_private_key_first)
{
	leaf("a", "vpn.corp.test", &corp, SERVER_EKU, NULL, VALID, false);
	leaf("b", "vpn.corp.test", &corp, SERVER_EKU, NULL, VALID, true);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert(!r.p.info[0].has_key);
	ck_assert(has_reason(r.p.info[0].reasons, r.p.info[0].nreasons, "no-private-key"));
	ck_assert_uint_eq(r.p.info[0].nreasons, 1);
	ck_assert(r.p.info[1].has_key);
	ck_assert_str_eq(r.p.info[1].entry->key_file, "b.key");
	ck_assert_int_eq(r.p.picked, 1);
	ck_assert(r.p.client.accepted);
	run_free(&r);
}
END_TEST

START_TEST(no_eku_is_any_purpose)
{
	leaf("a", "vpn.corp.test", &corp, NULL, NULL, VALID, true);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert(!r.p.info[0].eku_present);
	ck_assert_int_eq(r.p.picked, 0);
	ck_assert(r.p.client.accepted);
	run_free(&r);
	run_pick(&r, CERT_PURPOSE_IKEV2, NULL, NULL, false, NULL);
	ck_assert_int_eq(r.p.picked, 0);
	run_free(&r);
}
END_TEST

START_TEST(only_ike_intermediate)
{
	leaf("a", "vpn.corp.test", &corp, "1.3.6.1.5.5.8.2.2", NULL, VALID, true);
	leaf("b", "vpn.corp.test", &corp, "codeSigning", NULL, VALID, true);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert(r.p.info[0].eku_ike);
	ck_assert_str_eq(r.p.info[0].eku[0].name, "IP security IKE intermediate");
	ck_assert_int_eq(r.p.picked, 0); /* L2TP takes an IKE-only certificate */
	ck_assert(has_reason(r.p.info[1].reasons, r.p.info[1].nreasons, "eku"));
	run_free(&r);
	/* IKEv2: the server takes it as a computer certificate, the client requires Server
	 * Authentication and refuses it with 13801 */
	run_pick(&r, CERT_PURPOSE_IKEV2, NULL, NULL, false, NULL);
	ck_assert_int_eq(r.p.picked, 0);
	ck_assert(has_reason(r.p.info[1].reasons, r.p.info[1].nreasons, "eku"));
	ck_assert(!r.p.client.accepted);
	ck_assert(has_reason(r.p.client.reasons, r.p.client.nreasons, "eku"));
	ck_assert_int_eq(r.p.client.error, 13801);
	run_free(&r);
}
END_TEST

START_TEST(ikev2_prefers_ike_intermediate)
{
	leaf("a", "vpn.corp.test", &corp, "serverAuth", "DNS:vpn.corp.test", VALID, true);
	leaf("b", "vpn.corp.test", &corp, "serverAuth,1.3.6.1.5.5.8.2.2", "DNS:vpn.corp.test",
	     VALID, true);
	struct run r;
	run_pick(&r, CERT_PURPOSE_IKEV2, "vpn.corp.test", NULL, false, NULL);
	ck_assert_int_eq(r.p.picked, 1);
	ck_assert(has_reason(r.p.info[0].reasons, r.p.info[0].nreasons, "ike-intermediate"));
	ck_assert(r.p.client.accepted);
	run_free(&r);
	/* the same store for L2TP: the first one */
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert_int_eq(r.p.picked, 0);
	ck_assert(r.p.order_decides);
	run_free(&r);
}
END_TEST

START_TEST(wildcard_in_san_only)
{
	leaf("a", "vpn.corp.test", &corp, SERVER_EKU, "DNS:*.corp.test", VALID, true);
	leaf("b", "vpn.corp.test", &corp, SERVER_EKU, "DNS:vpn.corp.test", VALID, true);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert_int_eq(r.p.picked, 0);
	ck_assert(r.p.info[0].wildcard);
	ck_assert(r.p.info[0].wildcard_san);
	ck_assert(!r.p.info[0].wildcard_cn);
	ck_assert(!r.p.client.accepted);
	ck_assert_int_eq(r.p.client.error, 787);
	ck_assert(has_reason(r.p.client.reasons, r.p.client.nreasons, "wildcard"));
	ck_assert(!r.p.client.ca_differs);
	ck_assert(r.p.client.trusted);
	ck_assert(r.p.order_decides);
	ck_assert(r.p.order_changes_outcome);
	run_free(&r);
	/* SSTP clients accept a wildcard that covers the name */
	run_pick(&r, CERT_PURPOSE_SSTP, "vpn.corp.test", NULL, false, NULL);
	ck_assert_int_eq(r.p.picked, 0);
	ck_assert(r.p.client.accepted);
	run_free(&r);
}
END_TEST

START_TEST(other_ca)
{
	leaf("a", "vpn.corp.test", &other, SERVER_EKU, "DNS:vpn.corp.test", VALID, true);
	leaf("b", "vpn.corp.test", &corp, SERVER_EKU, "DNS:vpn.corp.test", VALID, true);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, "vpn.corp.test", NULL, false, NULL);
	ck_assert_int_eq(r.p.picked, 0);
	ck_assert(r.p.info[0].chain_ok); /* the server trusts both roots */
	ck_assert(!r.p.client.accepted);
	ck_assert(r.p.client.ca_differs);
	ck_assert(!r.p.client.trusted);
	ck_assert_int_eq(r.p.client.error, 787);
	ck_assert_str_eq(r.p.client.error_name, "ERROR_OAKLEY_AUTH_FAIL");
	ck_assert(has_reason(r.p.client.reasons, r.p.client.nreasons, "other-ca"));
	run_free(&r);
	run_pick(&r, CERT_PURPOSE_IKEV2, "vpn.corp.test", NULL, false, NULL);
	ck_assert_int_eq(r.p.client.error, 13801);
	run_free(&r);
	run_pick(&r, CERT_PURPOSE_SSTP, "vpn.corp.test", NULL, false, NULL);
	ck_assert_int_eq(r.p.client.error, 0x800B0109LL);
	run_free(&r);
}
END_TEST

START_TEST(no_chain)
{
	struct ca lost = mk_ca("Unknown CA");
	leaf("a", "vpn.corp.test", &lost, SERVER_EKU, NULL, VALID, true);
	leaf("b", "vpn.corp.test", &corp, SERVER_EKU, NULL, VALID, true);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert(!r.p.info[0].chain_ok);
	ck_assert(has_reason(r.p.info[0].reasons, r.p.info[0].nreasons, "no-chain"));
	ck_assert_int_eq(r.p.picked, 1);
	run_free(&r);
	ca_free(&lost);
}
END_TEST

/* leaf -> intermediate (intermediates/) -> root (roots/); clients that trust only the
 * intermediate still accept it, clients of another CA do not. */
START_TEST(intermediate_chain)
{
	struct ca inter;
	char p[512];
	inter.k = mk_key();
	inter.x = mk_cert("Corp Issuing CA", inter.k, &corp, NULL, NULL, AT - 3650 * DAY,
	                  AT + 3650 * DAY, true);
	path_of(p, sizeof p, "intermediates");
	ck_assert_int_eq(mkdir(p, 0700), 0);
	write_cert("intermediates/issuing.pem", inter.x);
	leaf("a", "vpn.corp.test", &inter, SERVER_EKU, NULL, VALID, true);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert(r.p.info[0].chain_ok);
	ck_assert_str_eq(r.p.info[0].chain_root, "O=Test, CN=Corp Root CA");
	ck_assert_str_eq(r.p.info[0].chain_root_file, "roots/corp.pem");
	ck_assert(r.p.client.accepted);
	run_free(&r);
	path_of(p, sizeof p, "clients/ca.pem");
	unlink(p);
	write_cert("clients/ca.pem", inter.x);
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert(r.p.client.accepted);
	ck_assert_str_eq(r.p.client.anchor, "O=Test, CN=Corp Issuing CA");
	run_free(&r);
	unlink(p);
	write_cert("clients/ca.pem", other.x);
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert(!r.p.client.accepted);
	ck_assert(r.p.client.ca_differs);
	ck_assert_int_eq(r.p.client.error, 787);
	run_free(&r);
	/* without intermediates/ the server finds no chain */
	path_of(p, sizeof p, "intermediates/issuing.pem");
	unlink(p);
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert(!r.p.info[0].chain_ok);
	ck_assert(has_reason(r.p.info[0].reasons, r.p.info[0].nreasons, "no-chain"));
	ck_assert_int_eq(r.p.picked, -1);
	run_free(&r);
	ca_free(&inter);
}
END_TEST

START_TEST(name_mismatch)
{
	leaf("a", "vpn.corp.test", &corp, SERVER_EKU, "DNS:vpn.corp.test", VALID, true);
	struct run r;
	run_pick(&r, CERT_PURPOSE_IKEV2, "gw.corp.test", NULL, false, NULL);
	ck_assert(!r.p.client.accepted);
	ck_assert(!r.p.client.name_matches);
	ck_assert_int_eq(r.p.client.error, 13801);
	run_free(&r);
	/* L2TP clients do not check the name unless told to: a warning naming 835 */
	run_pick(&r, CERT_PURPOSE_L2TP, "gw.corp.test", NULL, false, NULL);
	ck_assert(r.p.client.accepted);
	ck_assert_uint_eq(r.p.client.nwarnings, 1);
	ck_assert_ptr_nonnull(strstr(r.p.client.warnings[0].text, "835"));
	run_free(&r);
}
END_TEST

START_TEST(broken_file)
{
	write_bytes("00-broken.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n"
	                             "-----END CERTIFICATE-----\n", 70);
	write_bytes("01-junk.der", "\x30\x82\xff\xff\x01", 5);
	write_bytes("02-text.crt", "hello", 5);
	leaf("b", "vpn.corp.test", &corp, SERVER_EKU, NULL, VALID, true);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert_uint_eq(r.s->nproblems, 3);
	ck_assert_str_eq(r.s->problems[0].file, "00-broken.pem");
	ck_assert_str_eq(r.s->problems[1].file, "01-junk.der");
	ck_assert_str_eq(r.s->problems[2].file, "02-text.crt");
	ck_assert_ptr_nonnull(strstr(r.s->problems[2].reason, "neither PEM"));
	ck_assert_uint_eq(r.p.n, 1);
	ck_assert_int_eq(r.p.picked, 0);
	run_free(&r);
}
END_TEST

static void write_p12(const char *name, const char *pass, const struct ca *ca)
{
	EVP_PKEY *k = mk_key();
	X509 *x = mk_cert("vpn.corp.test", k, ca, SERVER_EKU, "DNS:vpn.corp.test", VALID, false);
	STACK_OF(X509) *chain = sk_X509_new_null();
	sk_X509_push(chain, ca->x);
	PKCS12 *p12 = PKCS12_create(pass, "vpn", k, x, chain, 0, 0, 0, 0, 0);
	ck_assert_ptr_nonnull(p12);
	unsigned char *der = NULL;
	int n = i2d_PKCS12(p12, &der);
	ck_assert_int_gt(n, 0);
	write_bytes(name, der, (size_t)n);
	OPENSSL_free(der);
	PKCS12_free(p12);
	sk_X509_free(chain);
	X509_free(x);
	EVP_PKEY_free(k);
}

START_TEST(pkcs12_with_password)
{
	write_p12("a.p12", "s3cret", &corp);
	struct run r;
	/* without the password: reported and marked as a password problem (the command
	 * turns it into an input error); the store itself still loads */
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert_uint_eq(r.s->nproblems, 1);
	ck_assert_str_eq(r.s->problems[0].file, "a.p12");
	ck_assert_ptr_nonnull(strstr(r.s->problems[0].reason, "password"));
	ck_assert(r.s->problems[0].password);
	ck_assert_ptr_null(strstr(r.s->problems[0].reason, "s3cret"));
	ck_assert_uint_eq(r.p.n, 0);
	ck_assert_int_eq(r.p.client.error, 787);
	run_free(&r);
	/* wrong password */
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, "Xyzzy-9", false, NULL);
	ck_assert_uint_eq(r.s->nproblems, 1);
	ck_assert_ptr_nonnull(strstr(r.s->problems[0].reason, "wrong password"));
	ck_assert_ptr_null(strstr(r.s->problems[0].reason, "Xyzzy"));
	ck_assert(r.s->problems[0].password);
	run_free(&r);
	/* with it: the certificate has its key */
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, "s3cret", false, NULL);
	ck_assert_uint_eq(r.s->nproblems, 0);
	ck_assert_uint_eq(r.p.n, 1);
	ck_assert(r.p.info[0].has_key);
	ck_assert_str_eq(r.p.info[0].entry->key_file, "a.p12");
	ck_assert_int_eq(r.p.picked, 0);
	ck_assert(r.p.client.accepted);
	run_free(&r);
}
END_TEST

START_TEST(pkcs12_without_password)
{
	write_p12("a.pfx", NULL, &corp);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert_uint_eq(r.s->nproblems, 0);
	ck_assert_uint_eq(r.p.n, 1);
	ck_assert(r.p.info[0].has_key);
	ck_assert_int_eq(r.p.picked, 0);
	run_free(&r);
}
END_TEST

START_TEST(several_qualifying_and_order_file)
{
	leaf("a", "one.corp.test", &corp, SERVER_EKU, NULL, VALID, true);
	leaf("b", "two.corp.test", &corp, SERVER_EKU, NULL, VALID, true);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert_uint_eq(r.p.qualifying, 2);
	ck_assert(r.p.order_decides);
	ck_assert(!r.p.order_changes_outcome);
	ck_assert_int_eq(r.p.picked, 0);
	ck_assert_str_eq(r.p.info[0].cn, "one.corp.test");
	run_free(&r);
	write_bytes("store.order", "# server order\nb.pem\n\nmissing.pem\n", 34);
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert(r.s->has_order_file);
	ck_assert_str_eq(r.p.info[0].name, "b.pem");
	ck_assert_str_eq(r.p.info[0].cn, "two.corp.test");
	ck_assert_int_eq(r.p.picked, 0);
	ck_assert_uint_eq(r.s->nproblems, 1);
	ck_assert_ptr_nonnull(strstr(r.s->problems[0].reason, "line 4"));
	run_free(&r);
}
END_TEST

START_TEST(der_and_encrypted_key)
{
	EVP_PKEY *k = mk_key();
	X509 *x = mk_cert("vpn.corp.test", k, &corp, SERVER_EKU, NULL, VALID, false);
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	write_bytes("a.cer", der, (size_t)n);
	OPENSSL_free(der);
	char p[512];
	path_of(p, sizeof p, "a-key.pem");
	FILE *fp = fopen(p, "w");
	PEM_write_PKCS8PrivateKey(fp, k, EVP_aes_128_cbc(), NULL, 0, NULL, (void *)"pw");
	fclose(fp);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert_uint_eq(r.p.n, 1);
	ck_assert(!r.p.info[0].has_key);
	ck_assert_uint_eq(r.s->nproblems, 1);
	ck_assert_str_eq(r.s->problems[0].file, "a-key.pem");
	ck_assert(r.s->problems[0].password);
	run_free(&r);
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, "not-pw", false, NULL);
	ck_assert_uint_eq(r.s->nproblems, 1);
	ck_assert(r.s->problems[0].password);
	run_free(&r);
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, "pw", false, NULL);
	ck_assert_uint_eq(r.s->nproblems, 0);
	ck_assert(r.p.info[0].has_key);
	ck_assert_int_eq(r.p.picked, 0);
	run_free(&r);
	/* the same key encrypted in DER (PKCS#8) */
	path_of(p, sizeof p, "a-key.pem");
	unlink(p);
	path_of(p, sizeof p, "a-enc.der");
	fp = fopen(p, "wb");
	i2d_PKCS8PrivateKey_fp(fp, k, EVP_aes_128_cbc(), NULL, 0, NULL, (void *)"pw");
	fclose(fp);
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, "not-pw", false, NULL);
	ck_assert_uint_eq(r.s->nproblems, 1);
	ck_assert_str_eq(r.s->problems[0].file, "a-enc.der");
	ck_assert(r.s->problems[0].password);
	run_free(&r);
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, "pw", false, NULL);
	ck_assert_uint_eq(r.s->nproblems, 0);
	ck_assert(r.p.info[0].has_key);
	run_free(&r);
	unlink(p);
	/* a DER key file */
	path_of(p, sizeof p, "a-key.pem");
	unlink(p);
	der = NULL;
	n = i2d_PrivateKey(k, &der);
	write_bytes("a.key", der, (size_t)n);
	OPENSSL_free(der);
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert_uint_eq(r.s->nproblems, 0);
	ck_assert(r.p.info[0].has_key);
	run_free(&r);
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

/* A FIFO where a certificate file belongs (store, roots/, --client-ca) is skipped with
 * a reason; opening it must not wait for a writer. */
START_TEST(fifo_is_skipped)
{
	char p[512];
	leaf("b", "vpn.corp.test", &corp, SERVER_EKU, NULL, VALID, true);
	path_of(p, sizeof p, "a-fifo.pem");
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	path_of(p, sizeof p, "roots/fifo.crt");
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	path_of(p, sizeof p, "store.order");
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert_uint_eq(r.s->nproblems, 3);
	ck_assert_str_eq(r.s->problems[0].file, "store.order");
	ck_assert_str_eq(r.s->problems[1].file, "a-fifo.pem");
	ck_assert_ptr_nonnull(strstr(r.s->problems[1].reason, "not a regular file (a FIFO)"));
	ck_assert_str_eq(r.s->problems[2].file, "roots/fifo.crt");
	ck_assert(!r.s->has_order_file);
	ck_assert_int_eq(r.p.picked, 0);
	run_free(&r);
	struct diag_err err;
	struct cert_problem *probs = NULL;
	size_t np = 0;
	path_of(p, sizeof p, "a-fifo.pem");
	ck_assert_ptr_null(certstore_load_cas(p, NULL, &probs, &np, &err));
	ck_assert_ptr_nonnull(strstr(err.reason, "a FIFO"));
	ck_assert_uint_eq(np, 0);
}
END_TEST

/* Every file name is read before they are sorted: more files than the old limit of
 * 512 per directory all load, in name order whatever order readdir returns. */
START_TEST(many_files_in_name_order)
{
	enum { N = 700 };
	leaf("x", "vpn.corp.test", &corp, SERVER_EKU, NULL, VALID, false);
	char p[512];
	path_of(p, sizeof p, "x.pem");
	FILE *fp = fopen(p, "rb");
	ck_assert_ptr_nonnull(fp);
	static char pem[8192];
	size_t n = fread(pem, 1, sizeof pem, fp);
	fclose(fp);
	unlink(p);
	for (int i = N - 1; i >= 0; i--) {
		char name[32];
		snprintf(name, sizeof name, "c%04d.pem", i);
		write_bytes(name, pem, n);
	}
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert_uint_eq(r.s->nproblems, 0);
	ck_assert_uint_eq(r.s->ncerts, N);
	for (size_t i = 0; i < N; i++) {
		char want[32];
		snprintf(want, sizeof want, "c%04zu.pem", i);
		ck_assert_str_eq(r.s->certs[i].file, want);
	}
	run_free(&r);
}
END_TEST

START_TEST(fix_commands)
{
	leaf("a", "*.corp.test", &other, SERVER_EKU, "DNS:*.corp.test", VALID, true);
	leaf("b", "vpn.corp.test", &corp, SERVER_EKU ",1.3.6.1.5.5.8.2.2", "DNS:vpn.corp.test",
	     VALID, true);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, "vpn.corp.test", NULL, true, "131.107.0.2");
	ck_assert(r.p.has_fix);
	ck_assert_int_eq(r.p.fix.single, 1);
	ck_assert_uint_eq(r.p.fix.nremove, 1);
	ck_assert_uint_eq(r.p.fix.remove[0], 0);
	ck_assert_str_eq(r.p.fix.ca_name, "O=Test, CN=Corp Root CA");
	ck_assert_uint_eq(r.p.fix.ncmds, 5);
	ck_assert_ptr_nonnull(strstr(r.p.fix.cmds[0], "Services\\Rasman\\Parameters /v "
	                                              "ProhibitIpSec /t REG_DWORD /d 1"));
	const char *rule = r.p.fix.cmds[1];
	ck_assert_ptr_nonnull(strstr(rule, "netsh advfirewall consec add rule "));
	ck_assert_ptr_nonnull(strstr(rule, " endpoint2=131.107.0.2/32 "));
	ck_assert_ptr_nonnull(strstr(rule, " port2=1701 protocol=udp "));
	ck_assert_ptr_nonnull(strstr(rule, " mode=transport "));
	ck_assert_ptr_nonnull(strstr(rule, " auth1=computercert auth1ca=\"O=Test, CN=Corp Root CA\""));
	ck_assert_ptr_nonnull(strstr(rule, " qmsecmethods=esp:sha1-none+60min+100000kb,"));
	ck_assert_ptr_nonnull(strstr(r.p.fix.cmds[2], "mainmode mmsecmethods dhgroup2:aes128-sha256"));
	ck_assert_ptr_null(r.p.fix.note);
	run_free(&r);
	/* without --endpoint the rule is not made up */
	run_pick(&r, CERT_PURPOSE_L2TP, "vpn.corp.test", NULL, true, NULL);
	ck_assert_uint_eq(r.p.fix.ncmds, 0);
	ck_assert_ptr_nonnull(r.p.fix.note);
	run_free(&r);
}
END_TEST

START_TEST(fix_without_good_certificate)
{
	leaf("a", "*.corp.test", &other, SERVER_EKU, "DNS:*.corp.test", VALID, true);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, "vpn.corp.test", NULL, true, "2001:db8::1");
	ck_assert_int_eq(r.p.fix.single, -1);
	ck_assert_ptr_nonnull(strstr(r.p.fix.advice, "Re-issue"));
	/* the rule is restricted to the clients' CA */
	ck_assert_str_eq(r.p.fix.ca_name, "O=Test, CN=Corp Root CA");
	ck_assert_ptr_nonnull(strstr(r.p.fix.cmds[1], "endpoint2=2001:db8::1/128"));
	run_free(&r);
}
END_TEST

/* The CA name in auth1ca is written the Windows way, and netsh's \' stands for quotes. */
START_TEST(netsh_ca_quoting)
{
	struct ca odd = mk_ca("Corp \"Q\", CA");
	char p[512];
	write_cert("roots/odd.pem", odd.x);
	path_of(p, sizeof p, "clients/ca.pem");
	unlink(p);
	write_cert("clients/ca.pem", odd.x);
	leaf("a", "vpn.corp.test", &odd, SERVER_EKU, "DNS:vpn.corp.test", VALID, true);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, "vpn.corp.test", NULL, true, "192.0.2.1");
	ck_assert(r.p.client.accepted);
	ck_assert_str_eq(r.p.fix.ca_name, "O=Test, CN=\"Corp \"\"Q\"\", CA\"");
	ck_assert_ptr_nonnull(strstr(r.p.fix.cmds[1],
	                             " auth1ca=\"O=Test, CN=\\'Corp \\'\\'Q\\'\\', CA\\'\" "));
	run_free(&r);
	ca_free(&odd);
	X509_NAME *n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "DC", MBSTRING_UTF8, (const unsigned char *)"com", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "ST", MBSTRING_UTF8, (const unsigned char *)"Wien", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)" x", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8, (const unsigned char *)"y", -1, -1, -1);
	char *w = cert_name_windows(n);
	ck_assert_str_eq(w, "DC=com, S=Wien, CN=\" x\" + OU=y");
	free(w);
	X509_NAME_free(n);
}
END_TEST

START_TEST(facts_for_rules)
{
	leaf("a", "*.corp.test", &other, SERVER_EKU, "DNS:*.corp.test", VALID, true);
	leaf("b", "vpn.corp.test", &corp, SERVER_EKU, NULL, VALID, false);
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, "vpn.corp.test", NULL, false, NULL);
	struct facts *f = facts_new();
	cert_pick_facts(&r.p, f);
	const struct fact *x = facts_get(f, "cert.picked");
	ck_assert_ptr_nonnull(x);
	ck_assert_str_eq(x->s, "a.pem");
	ck_assert_int_eq(facts_get(f, "cert.picked.wildcard")->i, 1);
	ck_assert_int_eq(facts_get(f, "cert.picked.ca_differs")->i, 1);
	ck_assert_int_eq(facts_get(f, "cert.picked.trusted_by_client")->i, 0);
	ck_assert_int_eq(facts_get(f, "cert.client.accepted")->i, 0);
	ck_assert_int_eq(facts_get(f, "cert.client.error")->i, 787);
	ck_assert_int_eq(facts_get(f, "cert.qualifying")->i, 1);
	ck_assert_int_eq(facts_get(f, "cert.order_decides")->i, 0);
	ck_assert_str_eq(facts_get(f, "source")->s, "cert");
	/* nothing was passed over before the pick */
	ck_assert_ptr_null(facts_get(f, "cert.skipped.reason"));
	facts_free(f);
	run_free(&r);
}
END_TEST

/* The thumbprint and subject agree with the openssl command line. */
START_TEST(thumbprint_matches_openssl)
{
	char cmd[700], line[256] = "", p[512];
	leaf("a", "vpn.corp.test", &corp, SERVER_EKU, NULL, VALID, true);
	path_of(p, sizeof p, "a.pem");
	snprintf(cmd, sizeof cmd, "openssl x509 -in '%s' -noout -fingerprint -sha1", p);
	FILE *fp = popen(cmd, "r");
	ck_assert_ptr_nonnull(fp);
	char *got = fgets(line, sizeof line, fp);
	int st = pclose(fp);
	if (st != 0 || !got)
		return; /* no openssl binary: nothing to compare against */
	/* "SHA1 Fingerprint=AB:CD:..." */
	char hex[64] = "";
	size_t n = 0;
	for (const char *q = strchr(line, '=') + 1; *q && n < 40; q++)
		if (*q != ':' && *q != '\n')
			hex[n++] = *q;
	struct run r;
	run_pick(&r, CERT_PURPOSE_L2TP, NULL, NULL, false, NULL);
	ck_assert_str_eq(r.p.info[0].thumbprint, hex);
	run_free(&r);
}
END_TEST

START_TEST(times)
{
	struct diag_err e;
	int64_t t;
	ck_assert_int_eq(cert_parse_time("2030-01-01", &t, &e), 0);
	ck_assert_int_eq(t, AT);
	ck_assert_int_eq(cert_parse_time("2030-01-01T01:02:03Z", &t, &e), 0);
	ck_assert_int_eq(t, AT + 3723);
	ck_assert_int_eq(cert_parse_time("2030-01-01 02:00+02:00", &t, &e), 0);
	ck_assert_int_eq(t, AT);
	ck_assert_int_eq(cert_parse_time("2030-02-29", &t, &e), -1);
	ck_assert_int_eq(cert_parse_time("2028-02-29", &t, &e), 0);
	ck_assert_int_eq(cert_parse_time("2030-13-01", &t, &e), -1);
	ck_assert_int_eq(cert_parse_time("2030-01-01T", &t, &e), -1);
	ck_assert_int_eq(cert_parse_time("yesterday", &t, &e), -1);
	char buf[40];
	cert_format_time(AT, buf, sizeof buf);
	ck_assert_str_eq(buf, "2030-01-01T00:00:00Z");
	ck_assert(cert_endpoint_valid("131.107.0.2"));
	ck_assert(cert_endpoint_valid("10.0.0.0/8"));
	ck_assert(!cert_endpoint_valid("10.0.0.0/33"));
	ck_assert(!cert_endpoint_valid("vpn.example"));
	ck_assert_int_eq(cert_purpose_parse("IKEv2"), CERT_PURPOSE_IKEV2);
	ck_assert_int_eq(cert_purpose_parse("pptp"), -1);
	char *txt = cert_safe_text("caf\xc3\xa9 \xff\x01\xed\xa0\x80!");
	ck_assert_str_eq(txt, "caf\xc3\xa9 \\xff\\x01\\xed\\xa0\\x80!");
	free(txt);
}
END_TEST

START_TEST(missing_store)
{
	struct diag_err e;
	ck_assert_ptr_null(certstore_load("/nonexistent/vnet-store", NULL, &e));
	ck_assert_ptr_nonnull(strstr(e.reason, "No such file"));
}
END_TEST

START_TEST(sample_store)
{
	/* samples/certs reproduces KB 2855053: the wildcard IP-HTTPS certificate from another
	 * CA comes first and is picked; the clients show 787. */
	struct diag_err e;
	struct cert_store *s = certstore_load(VNET_SOURCE_DIR "/samples/certs", NULL, &e);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->nproblems, 0);
	struct cert_problem *pr = NULL;
	size_t np = 0;
	STACK_OF(X509) *cas = certstore_load_cas(VNET_SOURCE_DIR "/samples/certs/clients", NULL,
	                                         &pr, &np, &e);
	ck_assert_ptr_nonnull(cas);
	struct cert_pick_opts o = {.purpose = CERT_PURPOSE_L2TP, .at = AT,
	                           .server_name = "vpn.contoso.com", .client_cas = cas,
	                           .client_ca_source = "clients"};
	struct cert_pick p;
	ck_assert_int_eq(cert_pick_run(s, &o, &p, &e), 0);
	ck_assert_int_eq(p.picked, 0);
	ck_assert(p.info[0].wildcard);
	ck_assert_int_eq(p.client.error, 787);
	ck_assert(p.order_decides);
	cert_pick_free(&p);
	certstore_free(s);
	s = certstore_load(VNET_SOURCE_DIR "/samples/certs-fixed", NULL, &e);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(cert_pick_run(s, &o, &p, &e), 0);
	ck_assert_int_eq(p.picked, 0);
	ck_assert(p.client.accepted);
	cert_pick_free(&p);
	certstore_free(s);
	sk_X509_pop_free(cas, X509_free);
	free(pr);
}
END_TEST

static Suite *cert_suite(void)
{
	Suite *s = suite_create("cert");
	TCase *t = tcase_create("pick");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, expired_first);
	tcase_add_test(t, no_private_key_first);
	tcase_add_test(t, no_eku_is_any_purpose);
	tcase_add_test(t, only_ike_intermediate);
	tcase_add_test(t, ikev2_prefers_ike_intermediate);
	tcase_add_test(t, wildcard_in_san_only);
	tcase_add_test(t, other_ca);
	tcase_add_test(t, no_chain);
	tcase_add_test(t, intermediate_chain);
	tcase_add_test(t, name_mismatch);
	tcase_add_test(t, broken_file);
	tcase_add_test(t, pkcs12_with_password);
	tcase_add_test(t, pkcs12_without_password);
	tcase_add_test(t, several_qualifying_and_order_file);
	tcase_add_test(t, der_and_encrypted_key);
	tcase_add_test(t, fifo_is_skipped);
	tcase_add_test(t, many_files_in_name_order);
	tcase_add_test(t, fix_commands);
	tcase_add_test(t, fix_without_good_certificate);
	tcase_add_test(t, netsh_ca_quoting);
	tcase_add_test(t, facts_for_rules);
	tcase_add_test(t, thumbprint_matches_openssl);
	suite_add_tcase(s, t);
	TCase *u = tcase_create("parts");
	tcase_add_test(u, times);
	tcase_add_test(u, missing_store);
	tcase_add_test(u, sample_store);
	suite_add_tcase(s, u);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cert_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
