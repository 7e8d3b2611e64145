/* The server's admission path: the address pool, admit_decide on live attempts (the same
 * verdicts `vnet policy test` gives), profile IP filters, and the "serve" section of the
 * configuration. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <time.h>

#include "policy/admit.h"
#include "policy/config.h"
#include "policy/ipfilter.h"

static struct config *load(const char *text)
{
	struct config_problems pr = {0};
	struct config *c = config_load_mem("t.json", text, strlen(text), &pr);
	if (!c) config_problems_print(&pr, "t.json");
	config_problems_free(&pr);
	return c;
}

static char *problems(const char *text)
{
	struct config_problems pr = {0};
	struct config *c = config_load_mem("t.json", text, strlen(text), &pr);
	ck_assert_ptr_null(c);
	static char buf[4096];
	buf[0] = 0;
	for (size_t i = 0; i < pr.n; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, sizeof buf - l, "%d:%d %s\n", pr.v[i].line, pr.v[i].col, pr.v[i].msg);
	}
	config_problems_free(&pr);
	return buf;
}

static const char *LAB =
	"{\"server\": {\"auth_methods\": [\"mschapv2\", \"chap\", \"pap\"],"
	" \"encryption\": [\"none\", \"strongest\"], \"ports\": {\"l2tp\": 3},"
	" \"address_assignment\": \"pool\","
	" \"pool\": [{\"start\": \"10.5.0.1\", \"end\": \"10.5.0.3\"}], \"routes\": [\"10.6.0.0/16\"]},"
	" \"groups\": [{\"name\": \"VPN\"}],"
	" \"policies\": [{\"name\": \"lab\", \"conditions\": [{\"attribute\": \"Windows-Groups\","
	"   \"value\": [\"VPN\"]}], \"permission\": \"grant\","
	"   \"profile\": {\"auth_methods\": [\"mschapv2\", \"chap\"], \"encryption\": [\"none\"],"
	"   \"idle_timeout\": 5, \"filters\": {\"input\": [\"deny icmp 10.9.0.0/16\"], \"output\": []}}}],"
	" \"users\": [{\"name\": \"alice\", \"password\": \"pw\", \"groups\": [\"VPN\"]},"
	"  {\"name\": \"bob\", \"password\": \"pw\", \"groups\": [\"VPN\"], \"dialin\": \"deny\"},"
	"  {\"name\": \"stat\", \"password\": \"pw\", \"groups\": [\"VPN\"], \"static_ip\": \"10.6.1.9\"}],"
	" \"serve\": {\"listen\": \"127.0.0.1:11701\", \"dns\": [\"10.5.0.1\"],"
	"  \"l2tp\": {\"secret\": \"s3\", \"hide_avps\": true}, \"limits\": {\"half_open\": 7}}}";

static struct admit_req req(const char *user, enum admit_cred cred, enum auth_method m)
{
	struct admit_req q = {
		.user = user, .method = m, .cred = cred, .tunnel = TUN_L2TP, .encryption = ENC_NONE,
		.client_ip = "127.0.0.1", .server_ip = "127.0.0.1", .now = 1796198400,
	};
	return q;
}

START_TEST(pool_leases)
{
	struct config *c = load(LAB);
	ck_assert_ptr_nonnull(c);
	struct addr_pool p;
	ck_assert_int_eq(addr_pool_init(&p, &c->server), 0);
	ck_assert_uint_eq(p.size, 3);
	ck_assert_uint_eq(addr_pool_server(&p), 0x0a050001);
	ck_assert(addr_pool_in_use(&p, 0x0a050001));        /* the server's own */
	ck_assert_uint_eq(addr_pool_take(&p, 0), 0x0a050002);
	ck_assert_uint_eq(addr_pool_take(&p, 0), 0x0a050003);
	ck_assert_uint_eq(addr_pool_take(&p, 0), 0);          /* exhausted */
	ck_assert_uint_eq(addr_pool_clients(&p), 2);
	addr_pool_release(&p, 0x0a050002);
	ck_assert_uint_eq(addr_pool_clients(&p), 1);
	ck_assert_uint_eq(addr_pool_take(&p, 0x0a050003), 0); /* taken */
	ck_assert_uint_eq(addr_pool_take(&p, 0x0a050009), 0); /* outside */
	ck_assert_uint_eq(addr_pool_take(&p, 0x0a050002), 0x0a050002);
	addr_pool_release(&p, 0x0a050001);                    /* the server's stays */
	ck_assert(addr_pool_in_use(&p, 0x0a050001));
	addr_pool_free(&p);
	config_free(c);
}
END_TEST

START_TEST(pool_large_wraps)
{
	const char *t = "{\"server\": {\"pool\": [{\"start\": \"10.0.0.0\", \"end\": \"10.0.3.255\"},"
	                " {\"start\": \"10.9.0.1\", \"end\": \"10.9.0.70\"}]}}";
	struct config *c = load(t);
	ck_assert_ptr_nonnull(c);
	struct addr_pool p;
	ck_assert_int_eq(addr_pool_init(&p, &c->server), 0);
	ck_assert_uint_eq(p.size, 1024 + 70);
	uint32_t last = 0;
	for (int i = 0; i < 1093; i++) {
		last = addr_pool_take(&p, 0);
		ck_assert_uint_ne(last, 0);
	}
	ck_assert_uint_eq(last, 0x0a090046); /* 10.9.0.70, the very last */
	ck_assert_uint_eq(addr_pool_take(&p, 0), 0);
	addr_pool_release(&p, 0x0a000105);
	ck_assert_uint_eq(addr_pool_take(&p, 0), 0x0a000105); /* found after wrapping */
	addr_pool_free(&p);
	config_free(c);
}
END_TEST

START_TEST(admit_verdicts)
{
	struct config *c = load(LAB);
	struct policy_result r;
	ck_assert_int_eq(policy_result_init(&r, c), 0);
	struct attempt a;
	struct admit_out o;
	char why[600];

	struct admit_req q = req("alice", ADMIT_CRED_OK, AUTH_MSCHAPV2);
	ck_assert_int_eq(admit_decide(c, &q, &a, &r, &o), 0);
	ck_assert(o.accept);
	ck_assert(o.address_from_pool);
	ck_assert_int_eq(o.idle_timeout, 5);
	ck_assert_uint_eq(o.enc_allowed, 1u << ENC_NONE);
	admit_summary(c, &a, &r, why, sizeof why);
	ck_assert_str_eq(why, "granted by policy \"lab\"");
	attempt_free(&a);

	q = req("bob", ADMIT_CRED_OK, AUTH_MSCHAPV2);
	ck_assert_int_eq(admit_decide(c, &q, &a, &r, &o), 1);
	ck_assert_int_eq(o.error, 649);
	ck_assert_int_eq(o.reason, R_NO_DIALIN_PERMISSION);
	admit_summary(c, &a, &r, why, sizeof why);
	ck_assert_str_eq(why, "policy \"lab\", permission: the user account is set to Deny access, "
	                 "which always wins (policies[0].permission)");
	attempt_free(&a);

	q = req("alice", ADMIT_CRED_BAD, AUTH_MSCHAPV2);
	ck_assert_int_eq(admit_decide(c, &q, &a, &r, &o), 1);
	ck_assert_int_eq(o.error, 691);
	ck_assert_int_eq(o.reason, R_BAD_CREDENTIALS);
	attempt_free(&a);

	q = req("nobody", ADMIT_CRED_UNKNOWN_USER, AUTH_MSCHAPV2);
	ck_assert_int_eq(admit_decide(c, &q, &a, &r, &o), 1);
	ck_assert_int_eq(o.error, 691);
	ck_assert_int_eq(o.reason, R_UNKNOWN_USER);
	attempt_free(&a);

	/* the profile allows MS-CHAPv2 and CHAP, the server PAP too: PAP is refused by policy */
	q = req("alice", ADMIT_CRED_OK, AUTH_PAP);
	ck_assert_int_eq(admit_decide(c, &q, &a, &r, &o), 1);
	ck_assert_int_eq(o.reason, R_AUTH_METHOD);
	attempt_free(&a);

	/* live counters: the last port and the last address */
	q = req("alice", ADMIT_CRED_OK, AUTH_CHAP);
	q.ports_in_use = 3;
	ck_assert_int_eq(admit_decide(c, &q, &a, &r, &o), 1);
	ck_assert_int_eq(o.reason, R_PORTS_EXHAUSTED);
	attempt_free(&a);
	q.ports_in_use = 2;
	q.addresses_in_use = 2;
	ck_assert_int_eq(admit_decide(c, &q, &a, &r, &o), 1);
	ck_assert_int_eq(o.reason, R_POOL_EXHAUSTED);
	attempt_free(&a);
	/* ... and the configuration itself was not changed */
	ck_assert_int_eq(c->server.ports_in_use[TUN_L2TP], 0);
	ck_assert_int_eq(c->server.addresses_in_use, 0);

	/* a static address is granted as is, not from the pool */
	q = req("stat", ADMIT_CRED_OK, AUTH_MSCHAPV2);
	q.addresses_in_use = 2;
	ck_assert_int_eq(admit_decide(c, &q, &a, &r, &o), 0);
	ck_assert(!o.address_from_pool);
	ck_assert_uint_eq(o.address, 0x0a060109);
	attempt_free(&a);

	policy_result_free(&r);
	config_free(c);
}
END_TEST


/* A configuration with a user the server cannot check (no password) and a 200-byte UPN. */
static char *creds_config(void)
{
	static char buf[4096];
	char name[201];
	memset(name, 'u', 183);
	memcpy(name + 183, "@corp.example.com", 18);
	snprintf(buf, sizeof buf,
	         "{\"server\": {\"auth_methods\": [\"mschapv2\", \"chap\", \"pap\"],"
	         " \"encryption\": [\"none\"], \"ports\": {\"l2tp\": 3}, \"address_assignment\": \"pool\","
	         " \"pool\": [{\"start\": \"10.5.0.1\", \"end\": \"10.5.0.9\"}]},"
	         " \"groups\": [{\"name\": \"VPN\"}],"
	         " \"policies\": [{\"name\": \"lab\", \"conditions\": [{\"attribute\": \"Windows-Groups\","
	         "   \"value\": [\"VPN\"]}], \"permission\": \"grant\","
	         "   \"profile\": {\"auth_methods\": [\"mschapv2\", \"chap\", \"pap\"], \"encryption\": [\"none\"]}}],"
	         " \"users\": [{\"name\": \"alice\", \"password\": \"pw\", \"groups\": [\"VPN\"]},"
	         "  {\"name\": \"bob\", \"password\": \"pw\", \"groups\": [\"VPN\"], \"dialin\": \"deny\"},"
	         "  {\"name\": \"nopw\", \"groups\": [\"VPN\"]},"
	         "  {\"name\": \"%s\", \"password\": \"pw\", \"groups\": [\"VPN\"]}]}", name);
	return buf;
}

START_TEST(admit_never_skips_credentials)
{
	struct config *c = load(creds_config());
	ck_assert_ptr_nonnull(c);
	struct policy_result r;
	ck_assert_int_eq(policy_result_init(&r, c), 0);
	struct attempt a;
	struct admit_out o;
	char why[600];
	/* the authenticator could not find or check a password for a user the configuration
	 * knows: that is bad credentials, never "not checked" */
	static const enum admit_cred fails[] = {ADMIT_CRED_UNKNOWN_USER, ADMIT_CRED_ERROR};
	for (size_t i = 0; i < 2; i++) {
		struct admit_req q = req("alice", fails[i], AUTH_PAP);
		ck_assert_int_eq(admit_decide(c, &q, &a, &r, &o), 1);
		ck_assert(!o.accept);
		ck_assert_int_eq(o.error, 691);
		ck_assert_int_eq(o.reason, R_BAD_CREDENTIALS);
		admit_summary(c, &a, &r, why, sizeof why);
		ck_assert_str_eq(why, "credentials: the server could not check the password: it has "
		                 "none it can use for this account (users[0].password)");
		attempt_free(&a);
	}
	/* a user without a password: whatever the authenticator said */
	static const enum admit_cred all[] = {ADMIT_CRED_OK, ADMIT_CRED_BAD, ADMIT_CRED_UNKNOWN_USER,
	                                      ADMIT_CRED_ERROR};
	for (size_t i = 0; i < 4; i++) {
		struct admit_req q = req("nopw", all[i], AUTH_CHAP);
		ck_assert_int_eq(admit_decide(c, &q, &a, &r, &o), 1);
		ck_assert_int_eq(o.error, 691);
		ck_assert_int_eq(o.reason, R_BAD_CREDENTIALS);
		attempt_free(&a);
	}
	/* a wrong password reads as one, as `policy test` says it */
	struct admit_req q = req("alice", ADMIT_CRED_BAD, AUTH_PAP);
	ck_assert_int_eq(admit_decide(c, &q, &a, &r, &o), 1);
	admit_summary(c, &a, &r, why, sizeof why);
	ck_assert_str_eq(why, "credentials: the password does not match (users[0].password)");
	attempt_free(&a);
	policy_result_free(&r);
	config_free(c);
}
END_TEST

/* IKEv2 with a machine certificate: the certificate was the credential (the account has
 * no password to check), the methods of the server and the profile decide, as `policy
 * test` with "auth": "machine-cert" and no password. */
START_TEST(admit_machine_cert)
{
	struct config *c = load(
		"{\"server\": {\"auth_methods\": [\"eap\", \"machine-cert\"], \"ports\": {\"ikev2\": 4},"
		" \"address_assignment\": \"pool\", \"pool\": [{\"start\": \"10.5.0.1\", \"end\": \"10.5.0.9\"}]},"
		" \"groups\": [{\"name\": \"VPN\"}],"
		" \"policies\": [{\"name\": \"machines\", \"conditions\": [{\"attribute\": \"Windows-Groups\","
		"   \"value\": [\"VPN\"]}], \"permission\": \"grant\","
		"   \"profile\": {\"auth_methods\": [\"machine-cert\"]}}],"
		" \"users\": [{\"name\": \"pc1.test\", \"groups\": [\"VPN\"]},"
		"  {\"name\": \"alice\", \"password\": \"pw\", \"groups\": [\"VPN\"]}]}");
	ck_assert_ptr_nonnull(c);
	struct policy_result r;
	ck_assert_int_eq(policy_result_init(&r, c), 0);
	struct attempt a;
	struct admit_out o;
	struct admit_req q = req("pc1.test", ADMIT_CRED_OK, AUTH_MACHINE_CERT);
	q.tunnel = TUN_IKEV2;
	q.encryption = ENC_STRONGEST;
	ck_assert_int_eq(admit_decide(c, &q, &a, &r, &o), 0);
	ck_assert(o.accept);
	ck_assert_int_eq(a.auth, AUTH_MACHINE_CERT);
	ck_assert_int_eq(a.eap_type, -1);
	attempt_free(&a);
	/* an unverified certificate never passes for one */
	q.cred = ADMIT_CRED_ERROR;
	ck_assert_int_eq(admit_decide(c, &q, &a, &r, &o), 1);
	ck_assert_int_eq(o.reason, R_BAD_CREDENTIALS);
	attempt_free(&a);
	/* EAP-MSCHAPv2 is not what this profile allows */
	q = req("alice", ADMIT_CRED_OK, AUTH_EAP);
	q.tunnel = TUN_IKEV2;
	q.encryption = ENC_STRONGEST;
	q.eap_type = EAP_MSCHAPV2;
	ck_assert_int_eq(admit_decide(c, &q, &a, &r, &o), 1);
	ck_assert_int_eq(o.reason, R_AUTH_METHOD);
	attempt_free(&a);
	policy_result_free(&r);
	config_free(c);
	/* the server without machine-cert among its methods refuses it */
	c = load(
		"{\"server\": {\"auth_methods\": [\"eap\"], \"ports\": {\"ikev2\": 4}},"
		" \"groups\": [{\"name\": \"VPN\"}],"
		" \"policies\": [{\"name\": \"all\", \"conditions\": [{\"attribute\": \"Windows-Groups\","
		"   \"value\": [\"VPN\"]}], \"permission\": \"grant\","
		"   \"profile\": {\"auth_methods\": [\"machine-cert\", \"eap\"]}}],"
		" \"users\": [{\"name\": \"pc1.test\", \"groups\": [\"VPN\"]}]}");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(policy_result_init(&r, c), 0);
	q = req("pc1.test", ADMIT_CRED_OK, AUTH_MACHINE_CERT);
	q.tunnel = TUN_IKEV2;
	q.encryption = ENC_STRONGEST;
	ck_assert_int_eq(admit_decide(c, &q, &a, &r, &o), 1);
	ck_assert(!o.accept);
	attempt_free(&a);
	policy_result_free(&r);
	config_free(c);
}
END_TEST

/* The server's admission and `vnet policy test` on the same attempt: user, password and
 * method, the password checked the way the PPP authenticator checks it. */
START_TEST(admit_agrees_with_policy_test)
{
	struct config *c = load(creds_config());
	ck_assert_ptr_nonnull(c);
	const char *longname = c->users[3].name;
	char longpw[300];
	memset(longpw, 'p', sizeof longpw - 1);
	longpw[sizeof longpw - 1] = 0;
	const struct { const char *user, *pw; } cases[] = {
		{"alice", "pw"}, {"alice", "wrong"}, {"alice", "pw "}, {"alice", "p"}, {"ALICE", "pw"},
		{"nobody", "pw"}, {"bob", "pw"}, {longname, "pw"}, {longname, "x"}, {"alice", longpw},
	};
	static const enum auth_method methods[] = {AUTH_PAP, AUTH_CHAP, AUTH_MSCHAPV2};
	time_t now = 1796198400;
	struct tm tm;
	char when[32];
	localtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	struct policy_result r1, r2;
	ck_assert_int_eq(policy_result_init(&r1, c), 0);
	ck_assert_int_eq(policy_result_init(&r2, c), 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		for (size_t k = 0; k < 3; k++) {
			/* the authenticator's finding */
			const struct user *u = config_find_user(c, cases[i].user);
			enum admit_cred cred = !u ? ADMIT_CRED_UNKNOWN_USER
			                       : !u->password ? ADMIT_CRED_ERROR
			                       : strcmp(u->password, cases[i].pw) ? ADMIT_CRED_BAD
			                                                          : ADMIT_CRED_OK;
			struct admit_req q = req(cases[i].user, cred, methods[k]);
			q.now = now;
			struct attempt a;
			struct admit_out o;
			int rc1 = admit_decide(c, &q, &a, &r1, &o);
			attempt_free(&a);
			/* the same attempt as a file */
			json_t *j = json_object();
			json_object_set_new(j, "user", json_string(cases[i].user));
			json_object_set_new(j, "password", json_string(cases[i].pw));
			json_object_set_new(j, "tunnel", json_string("l2tp"));
			json_object_set_new(j, "auth", json_string(auth_method_names[methods[k]]));
			json_object_set_new(j, "encryption", json_string("none"));
			json_object_set_new(j, "time", json_string(when));
			json_object_set_new(j, "calling_station_id", json_string("127.0.0.1"));
			json_object_set_new(j, "called_station_id", json_string("127.0.0.1"));
			char *text = json_dumps(j, 0);
			json_decref(j);
			struct attempt_list l;
			struct config_problems pr = {0};
			ck_assert_int_eq(attempts_parse(c, "a.json", text, strlen(text), &l, &pr), 0);
			int rc2 = policy_evaluate(c, &l.v[0], &r2, NULL);
			ck_assert_msg(rc1 == (rc2 == 0 ? 0 : 1) && r1.error == r2.error &&
			              r1.reason == r2.reason,
			              "%s/%s/%s: serve %d error %d reason %s, policy test %d error %d reason %s",
			              cases[i].user, cases[i].pw, auth_method_names[methods[k]], rc1, r1.error,
			              policy_reasons[r1.reason].code, rc2, r2.error,
			              policy_reasons[r2.reason].code);
			attempts_free(&l);
			config_problems_free(&pr);
			free(text);
		}
	policy_result_free(&r1);
	policy_result_free(&r2);
	config_free(c);
}
END_TEST

/* An IPv4 header (+ 4 bytes of ports) for the filter tests. */
static void pkt(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport,
                uint16_t dport)
{
	memset(p, 0, 24);
	p[0] = 0x45;
	p[3] = 24;
	p[9] = proto;
	for (int i = 0; i < 4; i++) {
		p[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		p[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	p[20] = (uint8_t)(sport >> 8);
	p[21] = (uint8_t)sport;
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
}

START_TEST(filters)
{
	char *only[] = {"permit tcp 192.168.10.0/24 port 443", "permit icmp any"};
	struct ipfilter f;
	size_t bad;
	char err[200];
	ck_assert_int_eq(ipfilter_compile(only, 2, &f, &bad, err, sizeof err), 0);
	uint8_t p[24];
	pkt(p, 0x0a050002, 0xc0a80a05, 6, 40000, 443);
	ck_assert(ipfilter_pass(&f, p, 24, true));
	pkt(p, 0x0a050002, 0xc0a80a05, 6, 40000, 80);
	ck_assert(!ipfilter_pass(&f, p, 24, true));   /* only what is listed */
	pkt(p, 0x0a050002, 0x08080808, 1, 0, 0);
	ck_assert(ipfilter_pass(&f, p, 24, true));
	/* output filters look at the source */
	pkt(p, 0xc0a80a05, 0x0a050002, 6, 443, 40000);
	ck_assert(ipfilter_pass(&f, p, 24, false));
	ck_assert(!ipfilter_pass(&f, p, 10, false));  /* truncated */
	ipfilter_free(&f);

	char *except[] = {"deny udp any port 53"};
	ck_assert_int_eq(ipfilter_compile(except, 1, &f, &bad, err, sizeof err), 0);
	pkt(p, 0x0a050002, 0x08080808, 17, 5353, 53);
	ck_assert(!ipfilter_pass(&f, p, 24, true));
	pkt(p, 0x0a050002, 0x08080808, 17, 5353, 123);
	ck_assert(ipfilter_pass(&f, p, 24, true));    /* all but what is listed */
	ipfilter_free(&f);

	struct ipfilter_rule r;
	ck_assert_int_eq(ipfilter_parse_rule("allow 1.2.3.4", &r, err, sizeof err), -1);
	ck_assert_int_eq(ipfilter_parse_rule("permit 1.2.3.4/33", &r, err, sizeof err), -1);
	ck_assert_int_eq(ipfilter_parse_rule("permit icmp 1.2.3.4 port 5", &r, err, sizeof err), -1);
	ck_assert_str_eq(err, "a port needs tcp or udp");
	ck_assert_int_eq(ipfilter_parse_rule("permit 1.2.3.4 5.6.7.8", &r, err, sizeof err), -1);
	ck_assert_int_eq(ipfilter_parse_rule("deny 47", &r, err, sizeof err), 0);
	ck_assert_int_eq(r.proto, 47);
	ck_assert_uint_eq(r.mask, 0);
}
END_TEST

START_TEST(serve_section)
{
	struct config *c = load(LAB);
	ck_assert_str_eq(c->serve.listen, "127.0.0.1:11701");
	ck_assert_uint_eq(c->serve.dns[0], 0x0a050001);
	ck_assert_str_eq(c->serve.secret, "s3");
	ck_assert(c->serve.hide_avps);
	ck_assert_int_eq(c->serve.max_half_open, 7);
	ck_assert_int_eq(c->serve.max_tunnels, 4096); /* default */
	ck_assert_int_eq(c->serve.hello_interval, 60);
	config_free(c);
	/* no serve section: defaults */
	c = load("{}");
	ck_assert_ptr_null(c->serve.secret);
	ck_assert_int_eq(c->serve.mru, 1400);
	config_free(c);

	char *p = problems("{\"serve\": {\"l2tp\": {\"hide_avps\": true}, \"dns\": [\"x\"],\n"
	                   " \"limits\": {\"tunnels\": 0}, \"colour\": 1}}");
	ck_assert_msg(strstr(p, "serve.l2tp: hide_avps needs a secret"), "%s", p);
	ck_assert_msg(strstr(p, "serve.dns[0]: \"x\" is not an IPv4 address"), "%s", p);
	ck_assert_msg(strstr(p, "serve.limits.tunnels: 0 is out of range"), "%s", p);
	ck_assert_msg(strstr(p, "2:"), "%s", p); /* positions point into the text */
	ck_assert_msg(strstr(p, "serve.colour: unknown key"), "%s", p);
	p = problems("{\"policies\": [{\"name\": \"x\", \"conditions\": [], \"permission\": \"grant\","
	             " \"profile\": {\"filters\": {\"input\": [\"permit 1.2.3.4\", \"drop all\"]}}}]}");
	ck_assert_msg(strstr(p, "policies[0].profile.filters.input[1]: a rule starts with permit or deny"),
	              "%s", p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("admit");
	TCase *tc = tcase_create("admit");
	tcase_add_test(tc, pool_leases);
	tcase_add_test(tc, pool_large_wraps);
	tcase_add_test(tc, admit_verdicts);
	tcase_add_test(tc, admit_never_skips_credentials);
	tcase_add_test(tc, admit_agrees_with_policy_test);
	tcase_add_test(tc, admit_machine_cert);
	tcase_add_test(tc, filters);
	tcase_add_test(tc, serve_section);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
