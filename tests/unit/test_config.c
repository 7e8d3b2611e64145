/* The configuration loader and the attempt parser: defaults, validation with positions,
 * groups, users, certificate paths, and every input form of attempts. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy/attempt.h"
#include "policy/config.h"

static struct config *load(const char *text, struct config_problems *pr)
{
	memset(pr, 0, sizeof *pr);
	return config_load_mem("t.json", text, strlen(text), pr);
}

/* Exactly one problem, at line:col, whose message starts with `msg`. */
static void one_problem(const char *text, int line, int col, const char *msg)
{
	struct config_problems pr;
	struct config *c = load(text, &pr);
	ck_assert_ptr_null(c);
	ck_assert_msg(pr.n == 1, "%zu problems for %s (first: %s)", pr.n, text,
	              pr.n ? pr.v[0].msg : "");
	ck_assert_msg(strncmp(pr.v[0].msg, msg, strlen(msg)) == 0, "message: %s", pr.v[0].msg);
	ck_assert_msg(pr.v[0].line == line && pr.v[0].col == col, "%s at %d:%d, want %d:%d",
	              pr.v[0].msg, pr.v[0].line, pr.v[0].col, line, col);
	config_problems_free(&pr);
}

/* Names and passwords the server could not carry or check are refused at load, with the
 * key and its position; the longest it can are accepted. */
START_TEST(credential_limits)
{
	char name[1100], pw[300], text[2000];
	memset(name, 'n', sizeof name);
	memset(pw, 'p', sizeof pw);
	/* the longest accepted: 1024-byte name, 255-byte password */
	snprintf(text, sizeof text, "{\"users\": [{\"name\": \"%.*s\", \"password\": \"%.*s\"}]}",
	         1024, name, 255, pw);
	struct config_problems pr;
	struct config *c = load(text, &pr);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(strlen(c->users[0].name), 1024);
	ck_assert_ptr_nonnull(config_find_user(c, c->users[0].name));
	config_free(c);
	config_problems_free(&pr);
	/* one byte more each */
	snprintf(text, sizeof text, "{\"users\": [{\"name\": \"a\"},\n {\"name\": \"b\", \"password\": \"%.*s\"}]}",
	         256, pw);
	one_problem(text, 2, 28, "users[1].password: the password is 256 bytes long; the server "
	            "checks passwords of at most 255 bytes");
	snprintf(text, sizeof text, "{\"users\": [\n {\"name\": \"%.*s\"}]}", 1025, name);
	one_problem(text, 2, 11, "users[0].name: the name is 1025 bytes long; the server reads "
	            "user names of at most 1024 bytes");
	/* the password is never echoed */
	snprintf(text, sizeof text, "{\"users\": [{\"name\": \"b\", \"password\": \"%.*s\"}]}", 299, pw);
	c = load(text, &pr);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(pr.n, 1);
	ck_assert_ptr_null(strstr(pr.v[0].msg, "ppppp"));
	config_problems_free(&pr);
}
END_TEST

START_TEST(defaults)
{
	struct config_problems pr;
	struct config *c = load("{}", &pr);
	ck_assert_ptr_nonnull(c);
	const struct server *s = &c->server;
	ck_assert(s->service_running && s->remote_access_enabled);
	/* WS2003 after the VPN wizard: 128 PPTP and 128 L2TP ports, nothing else */
	ck_assert_int_eq(s->ports[TUN_PPTP], 128);
	ck_assert_int_eq(s->ports[TUN_L2TP], 128);
	ck_assert_int_eq(s->ports[TUN_SSTP], 0);
	ck_assert_int_eq(s->ports[TUN_IKEV2], 0);
	ck_assert_int_eq(s->addr_assign, ADDR_DHCP); /* DHCP is the default assignment */
	ck_assert_uint_eq(s->auth_mask, 1u << AUTH_EAP | 1u << AUTH_MSCHAPV2 | 1u << AUTH_MSCHAP);
	ck_assert_uint_eq(s->lan_mask, 1u << LAN_IP);
	ck_assert_uint_eq(c->npolicies, 0);
	config_free(c);
}
END_TEST

START_TEST(errors_with_positions)
{
	one_problem("{\"server\": {\"encryption\": [\"strong\", \"strongerest\"]}}", 1, 38,
	            "server.encryption[1]: \"strongerest\" is not one of none, basic, strong, strongest");
	one_problem("{\"server\": {\n  \"multilink\": \"yes\"}}", 2, 16,
	            "server.multilink: expected true or false, got a string");
	one_problem("{\"server\": {\"encyption\": \"none\"}}", 1, 13,
	            "server.encyption: unknown key (expected one of name,");
	one_problem("{\"server\": {\"ports\": {\"pptp\": -1}}}", 1, 31,
	            "server.ports.pptp: -1 is out of range (0 to 100000)");
	one_problem("{\"server\": {\"addresses\": [\"10.0.0.256\"]}}", 1, 27,
	            "server.addresses[0]: \"10.0.0.256\" is not an IPv4 address");
	one_problem("{\"server\": {\"routes\": [\"10.0.0.0/33\"]}}", 1, 24,
	            "server.routes[0]: \"10.0.0.0/33\" is not an IPv4 network");
	one_problem("{\"server\": {\"address_assignment\": \"pool\"}}", 1, 12,
	            "server: address_assignment is \"pool\" but no pool ranges are given");
	one_problem("[]", 1, 1, "the configuration must be a JSON object");
	one_problem("{\"server\": {,}}", 1, 13, "not valid JSON:");
	one_problem("{\"users\": [{\"name\": \"a\"}, {\"name\": \"A\"}]}", 1, 36,
	            "users[1].name: user \"A\" is already defined (users[0])");
	one_problem("{\"users\": [{\"password\": \"x\"}]}", 1, 12, "users[0]: missing \"name\"");
	one_problem("{\"users\": [{\"name\": \"a\", \"groups\": [\"G\"]}]}", 1, 37,
	            "users[0].groups[0]: no group \"G\" in groups (declared: none)");
	one_problem("{\"policies\": [{\"name\": \"p\", \"conditions\": [{\"attribute\": \"NAS-Port-Type\", "
	            "\"pattern\": \"v.*\"}], \"permission\": \"grant\"}]}", 1, 86,
	            "policies[0].conditions[0].pattern: NAS-Port-Type does not take a pattern");
	one_problem("{\"policies\": [{\"name\": \"p\", \"conditions\": [{\"attribute\": \"Called-Station-Id\", "
	            "\"pattern\": \"a(\"}], \"permission\": \"grant\"}]}", 1, 90,
	            "policies[0].conditions[0].pattern: pattern \"a(\" does not compile at offset 2");
	one_problem("{\"policies\": [{\"name\": \"p\", \"conditions\": [{\"attribute\": \"NAS-Port-Type\", "
	            "\"value\": \"virtual\"}]}]}", 1, 15, "policies[0]: missing \"permission\"");
	one_problem("{\"policies\": [{\"name\": \"p\", \"conditions\": [], \"permission\": \"deny\"}]}",
	            1, 43, "policies[0].conditions: a policy needs at least one condition");
}
END_TEST

START_TEST(all_problems_reported_in_order)
{
	struct config_problems pr;
	const char *t = "{\"users\": [{\"name\": \"a\", \"dialin\": \"sometimes\"}],\n"
	                " \"server\": {\"bap\": 1, \"pool\": [{\"start\": \"10.0.0.9\", \"end\": \"10.0.0.1\"}]}}";
	struct config *c = load(t, &pr);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(pr.n, 3);
	ck_assert_int_eq(pr.v[0].line, 1);
	ck_assert_int_eq(pr.v[1].line, 2);
	ck_assert_int_lt(pr.v[1].col, pr.v[2].col);
	ck_assert(strstr(pr.v[0].msg, "\"sometimes\" is not one of policy, allow, deny"));
	ck_assert(strstr(pr.v[2].msg, "range ends (10.0.0.1) before it starts (10.0.0.9)"));
	config_problems_free(&pr);
}
END_TEST

START_TEST(groups_nested_and_cycles)
{
	struct config_problems pr;
	const char *t = "{\"groups\": [{\"name\": \"A\", \"member_of\": [\"B\"]}, {\"name\": \"B\", "
	                "\"member_of\": [\"C\"]}, {\"name\": \"C\", \"member_of\": [\"a\"]}, {\"name\": \"D\"}],"
	                " \"users\": [{\"name\": \"u\", \"groups\": [\"A\"]}, {\"name\": \"v\", \"groups\": [\"d\"]}]}";
	struct config *c = load(t, &pr);
	ck_assert_ptr_nonnull(c);
	const struct user *u = config_find_user(c, "U");
	ck_assert_ptr_nonnull(u);
	/* A -> B -> C -> A: a cycle still gives every group exactly once */
	ck_assert_uint_eq(u->closure[0], 0x7u);
	ck_assert_uint_eq(config_find_user(c, "v")->closure[0], 0x8u);
	ck_assert_ptr_null(config_find_user(c, "w"));
	ck_assert_int_eq(config_find_group(c, "c"), 2);
	config_free(c);
}
END_TEST

START_TEST(many_groups_and_users)
{
	/* more than 64 groups: closures span several words; 3000 users in the index */
	size_t cap = 400000, o = 0;
	char *t = malloc(cap);
	o += (size_t)snprintf(t + o, cap - o, "{\"groups\": [");
	for (int g = 0; g < 130; g++)
		o += (size_t)snprintf(t + o, cap - o, "%s{\"name\": \"g%d\"%s}", g ? "," : "", g,
		                      g ? "" : ", \"member_of\": [\"g129\"]");
	o += (size_t)snprintf(t + o, cap - o, "], \"users\": [");
	for (int u = 0; u < 3000; u++)
		o += (size_t)snprintf(t + o, cap - o, "%s{\"name\": \"user%d\", \"groups\": [\"g%d\"]}",
		                      u ? "," : "", u, u % 130);
	snprintf(t + o, cap - o, "]}");
	struct config_problems pr;
	struct config *c = load(t, &pr);
	free(t);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->group_words, 3);
	for (int u = 0; u < 3000; u += 97) {
		char n[32];
		snprintf(n, sizeof n, "USER%d", u);
		const struct user *us = config_find_user(c, n);
		ck_assert_ptr_nonnull(us);
		int g = u % 130;
		ck_assert(us->closure[g / 64] >> (g % 64) & 1);
		if (g == 0) ck_assert(us->closure[129 / 64] >> (129 % 64) & 1);
	}
	config_free(c);
}
END_TEST

START_TEST(certs_paths)
{
	const char *t = "{\"certs\": {\"store\": \"certs/store\", \"client_ca\": \"/etc/ca.pem\", "
	                "\"server_name\": \"vpn.example.com\"}}";
	FILE *fp = fopen("test_config_certs.json", "w");
	ck_assert_ptr_nonnull(fp);
	fputs(t, fp);
	fclose(fp);
	struct config_problems pr = {0};
	struct config *c = config_load_file("./test_config_certs.json", &pr);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->certs.store, "certs/store");
	ck_assert_str_eq(c->certs.store_path, "./certs/store");
	ck_assert_str_eq(c->certs.client_ca_path, "/etc/ca.pem");
	ck_assert_str_eq(c->certs.server_name, "vpn.example.com");
	config_free(c);
	remove("test_config_certs.json");
	c = config_load_file("does/not/exist.json", &pr);
	ck_assert_ptr_null(c);
	ck_assert(pr.unreadable);
	config_problems_free(&pr);
}
END_TEST

START_TEST(embedded_default)
{
	struct config_problems pr = {0};
	struct config *c = config_load(NULL, &pr);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(pr.n, 0);
	ck_assert_int_eq(c->server.ports[TUN_PPTP], 128);
	ck_assert_str_eq(c->policies[c->npolicies - 1].name, "Connections to other access servers");
	config_free(c);
}
END_TEST

START_TEST(ipv4)
{
	uint32_t a;
	ck_assert_int_eq(ipv4_parse("192.168.10.1", &a), 0);
	ck_assert_uint_eq(a, 0xC0A80A01u);
	ck_assert_int_eq(ipv4_parse("0.0.0.0", &a), 0);
	ck_assert_int_ne(ipv4_parse("1.2.3", &a), 0);
	ck_assert_int_ne(ipv4_parse("1.2.3.4.5", &a), 0);
	ck_assert_int_ne(ipv4_parse("01.2.3.4", &a), 0);
	ck_assert_int_ne(ipv4_parse("1.2.3.4 ", &a), 0);
	ck_assert_int_ne(ipv4_parse("1..3.4", &a), 0);
	ck_assert_int_ne(ipv4_parse("1234.2.3.4", &a), 0);
	char b[20];
	ck_assert_str_eq(ipv4_str(0x0A000001u, b, sizeof b), "10.0.0.1");
}
END_TEST

/* ---- attempts ----------------------------------------------------------------------------- */
static struct config *sample(void)
{
	struct config_problems pr = {0};
	struct config *c = config_load(NULL, &pr);
	ck_assert_ptr_nonnull(c);
	return c;
}

START_TEST(attempt_forms)
{
	struct config *c = sample();
	struct attempt_list l;
	const char *one = "{\"user\": \"alice\", \"tunnel\": \"L2TP\", \"auth\": \"eap\", "
	                  "\"eap_type\": \"peap\", \"time\": \"2026-11-23T10:00\", \"links\": 2, "
	                  "\"requested_ip\": \"10.0.0.7\", \"protocols\": [\"ip\", \"ipx\"]}";
	ck_assert_int_eq(attempts_parse(c, "f", one, strlen(one), &l, NULL), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(l.v[0].tunnel, TUN_L2TP);
	ck_assert_int_eq(l.v[0].eap_type, EAP_PEAP);
	ck_assert_int_eq(l.v[0].nas_port_type, NPT_VIRTUAL);
	ck_assert_int_eq(l.v[0].encryption, ENC_STRONGEST);
	ck_assert_str_eq(l.v[0].ms_ras_vendor, "311");
	ck_assert_int_eq(l.v[0].links, 2);
	ck_assert(l.v[0].has_requested_ip);
	ck_assert_uint_eq(l.v[0].protocols, 1u << LAN_IP | 1u << LAN_IPX);
	ck_assert_uint_eq(l.v[0].minute_of_week, 1 * 1440 + 600);
	attempts_free(&l);
	const char *arr = "[{\"user\": \"a\", \"tunnel\": \"pptp\", \"auth\": \"pap\"},\n"
	                  " {\"user\": \"b\", \"tunnel\": \"pptp\", \"auth\": \"pap\"}]";
	ck_assert_int_eq(attempts_parse(c, "f", arr, strlen(arr), &l, NULL), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[1].pointer, "/1");
	ck_assert_int_eq(l.v[1].line, 2);
	attempts_free(&l);
	const char *lines = "{\"user\": \"a\", \"tunnel\": \"pptp\", \"auth\": \"pap\"}\n\n"
	                    "{\"user\": \"b\", \"tunnel\": \"sstp\", \"auth\": \"chap\"}\n"
	                    "[{\"user\": \"c\", \"tunnel\": \"pptp\", \"auth\": \"pap\"}]\n";
	/* JSON lines; an array among lines is one (invalid) attempt, not a list */
	struct config_problems pr = {0};
	ck_assert_int_eq(attempts_parse(c, "f", lines, strlen(lines), &l, &pr), -1);
	ck_assert_uint_eq(pr.n, 1);
	ck_assert_int_eq(pr.v[0].line, 4);
	ck_assert(strstr(pr.v[0].msg, "[2]: an attempt must be a JSON object"));
	config_problems_free(&pr);
	ck_assert_int_eq(attempts_parse(c, "f", lines, (size_t)(strstr(lines, "\n[") - lines), &l, &pr), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[1].user_name, "b");
	ck_assert_int_eq(l.v[1].line, 3);
	attempts_free(&l);
	config_free(c);
}
END_TEST

START_TEST(attempt_errors)
{
	struct config *c = sample();
	struct attempt_list l;
	struct config_problems pr = {0};
	const char *t = "{\"user\": \"a\", \"tunnel\": \"gre\",\n \"auth\": \"eap\", \"links\": 0,"
	                " \"time\": \"2026-11-23T10:00+01:00\", \"x\": 1, \"bap\": \"yes\"}";
	ck_assert_int_eq(attempts_parse(c, "f", t, strlen(t), &l, &pr), -1);
	ck_assert_ptr_null(l.v);
	ck_assert_uint_eq(l.n, 0);
	/* tunnel, missing eap_type, links, time, unknown key, bap */
	ck_assert_uint_eq(pr.n, 6);
	bool tunnel = false, eap = false;
	for (size_t i = 0; i < pr.n; i++) {
		if (strstr(pr.v[i].msg, "tunnel: \"gre\" is not one of pptp, l2tp, sstp, ikev2")) {
			tunnel = true;
			ck_assert_int_eq(pr.v[i].line, 1);
			ck_assert_int_eq(pr.v[i].col, 25);
		}
		if (strstr(pr.v[i].msg, "missing \"eap_type\"")) eap = true;
	}
	ck_assert(tunnel && eap);
	config_problems_free(&pr);
	/* an inline user with an unknown group is refused with its position */
	const char *u = "{\"user\": {\"name\": \"z\", \"groups\": [\"Nope\"]}, \"tunnel\": \"pptp\", "
	                "\"auth\": \"pap\"}";
	ck_assert_int_eq(attempts_parse(c, "f", u, strlen(u), &l, &pr), -1);
	ck_assert_uint_eq(pr.n, 1);
	ck_assert(strstr(pr.v[0].msg, "user.groups[0]: no group \"Nope\""));
	ck_assert_int_eq(pr.v[0].col, 35);
	config_problems_free(&pr);
	ck_assert_int_eq(attempts_parse(c, "f", "  \n ", 4, &l, &pr), -1);
	ck_assert(strstr(pr.v[0].msg, "no attempts"));
	config_problems_free(&pr);
	ck_assert_int_eq(attempts_parse(c, "f", "{\"user\": ", 9, &l, &pr), -1);
	ck_assert(strstr(pr.v[0].msg, "not valid JSON"));
	config_problems_free(&pr);
	config_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *t = tcase_create("config");
	tcase_add_test(t, defaults);
	tcase_add_test(t, errors_with_positions);
	tcase_add_test(t, all_problems_reported_in_order);
	tcase_add_test(t, groups_nested_and_cycles);
	tcase_add_test(t, many_groups_and_users);
	tcase_add_test(t, certs_paths);
	tcase_add_test(t, embedded_default);
	tcase_add_test(t, ipv4);
	suite_add_tcase(s, t);
	t = tcase_create("attempts");
	tcase_add_test(t, attempt_forms);
	tcase_add_test(t, attempt_errors);
	tcase_add_test(t, credential_limits);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
