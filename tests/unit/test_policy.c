/* The policy evaluator: each condition type, the permission matrix, first-match order,
 * every profile/server conflict, every account state and time windows. Expected
 * outcomes follow the evaluation algorithm of WS2003 IAS/RRAS (docs/formats.md). */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy/attempt.h"
#include "policy/config.h"
#include "rules/facts.h"
#include "policy/policy.h"

/* %s slots: server keys, policies, users. SERVER enables everything; a test adds keys to
 * it, or replaces it whole with a string starting with '!'. */
#define SERVER \
	"\"auth_methods\": [\"pap\",\"chap\",\"mschap\",\"mschapv2\",\"eap\"]," \
	" \"eap_types\": [\"peap\",\"tls\"], \"ports\": {\"pptp\": 5, \"l2tp\": 5, \"sstp\": 0}," \
	" \"address_assignment\": \"pool\"," \
	" \"pool\": [{\"start\": \"10.0.0.10\", \"end\": \"10.0.0.19\"}]," \
	" \"routes\": [\"10.1.0.0/16\"]"
#define BASE \
	"{\"server\": {%s}," \
	" \"groups\": [{\"name\": \"VPN Users\"}, {\"name\": \"Sales\", \"member_of\": [\"VPN Users\"]}," \
	"  {\"name\": \"EMEA Sales\", \"member_of\": [\"Sales\"]}, {\"name\": \"Other\"}]," \
	" \"policies\": [%s]," \
	" \"users\": [%s]}"

static const char *const USERS =
	"{\"name\": \"alice\", \"password\": \"pw\", \"groups\": [\"VPN Users\"]},"
	"{\"name\": \"nested\", \"password\": \"pw\", \"groups\": [\"EMEA Sales\"]},"
	"{\"name\": \"other\", \"groups\": [\"Other\"]},"
	"{\"name\": \"allow\", \"dialin\": \"allow\"},"
	"{\"name\": \"deny\", \"dialin\": \"deny\", \"groups\": [\"VPN Users\"]}";

#define GRANT_ALL \
	"{\"name\": \"all\", \"conditions\": [{\"attribute\": \"Day-And-Time-Restrictions\"," \
	" \"value\": \"all\"}], \"permission\": \"grant\" %s}"

static struct config *cfg(const char *server_extra, const char *policies, const char *users)
{
	char *buf = malloc(65536), server[2048];
	if (server_extra && server_extra[0] == '!')
		snprintf(server, sizeof server, "%s", server_extra + 1);
	else
		snprintf(server, sizeof server, "%s%s", SERVER, server_extra ? server_extra : "");
	snprintf(buf, 65536, BASE, server, policies, users ? users : USERS);
	struct config_problems pr = {0};
	struct config *c = config_load_mem("test", buf, strlen(buf), &pr);
	if (!c) config_problems_print(&pr, "test");
	config_problems_free(&pr);
	free(buf);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* A policy with one condition and an optional profile. */
static char *pol(const char *name, const char *attr, const char *vkey, const char *val,
                 const char *perm, const char *profile)
{
	char *b = malloc(2048);
	snprintf(b, 2048, "{\"name\": \"%s\", \"conditions\": [{\"attribute\": \"%s\", \"%s\": %s}],"
	         " \"permission\": \"%s\", \"profile\": {%s}}", name, attr, vkey, val, perm,
	         profile ? profile : "");
	return b;
}

struct out {
	enum policy_reason reason;
	int policy;
	int error;
	int nps;
	bool accept;
	uint32_t address;
	bool has_address;
};

static struct out eval_mode(const struct config *c, const char *attempt_json, bool full)
{
	struct attempt_list l;
	struct config_problems pr = {0};
	int rc = attempts_parse(c, "a.json", attempt_json, strlen(attempt_json), &l, &pr);
	if (rc) config_problems_print(&pr, "a.json");
	config_problems_free(&pr);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(l.n, 1);
	struct policy_result r;
	ck_assert_int_eq(policy_result_init(&r, c), 0);
	r.full_trace = full;
	struct facts *f = facts_new();
	int d = policy_evaluate(c, &l.v[0], &r, f);
	struct out o = {r.reason, r.policy, r.error, r.nps_reason, r.accept, r.address,
	                r.has_address};
	ck_assert_int_eq(d, r.accept ? 0 : 1);
	/* the facts say the same */
	const struct fact *x = facts_get(f, "policy.reason");
	ck_assert_ptr_nonnull(x);
	ck_assert_str_eq(x->s, policy_reasons[r.reason].code);
	facts_free(f);
	policy_result_free(&r);
	attempts_free(&l);
	return o;
}

/* Evaluate with the full trace and without; both must decide the same. */
static struct out eval(const struct config *c, const char *fmt, ...)
{
	char a[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a, sizeof a, fmt, ap);
	va_end(ap);
	struct out full = eval_mode(c, a, true), fast = eval_mode(c, a, false);
	ck_assert_int_eq(full.reason, fast.reason);
	ck_assert_int_eq(full.policy, fast.policy);
	ck_assert_int_eq(full.error, fast.error);
	return full;
}

#define ATT "\"time\": \"2026-11-23T10:00\", \"tunnel\": \"pptp\", \"auth\": \"mschapv2\""

/* ---- conditions ---------------------------------------------------------------------- */
static void cond_case(const char *attr, const char *vkey, const char *val, const char *yes,
                      const char *no)
{
	char *p = pol("p", attr, vkey, val, "grant", NULL);
	struct config *c = cfg(NULL, p, NULL);
	struct out o = eval(c, "{\"user\": \"alice\", " ATT "%s}", yes);
	ck_assert_msg(o.accept && o.policy == 0, "%s %s should match %s", attr, val, yes);
	o = eval(c, "{\"user\": \"alice\", " ATT "%s}", no);
	ck_assert_msg(!o.accept && o.reason == R_NO_MATCHING_POLICY, "%s %s should not match %s",
	              attr, val, no);
	ck_assert_int_eq(o.error, 649);
	ck_assert_int_eq(o.nps, 48);
	config_free(c);
	free(p);
}

START_TEST(cond_nas_port_type)
{
	cond_case("NAS-Port-Type", "value", "[\"virtual\", \"ethernet\"]",
	          ", \"nas_port_type\": \"ethernet\"", ", \"nas_port_type\": \"async\"");
	/* VPN attempts default to Virtual */
	cond_case("NAS-Port-Type", "value", "\"virtual\"", "", ", \"nas_port_type\": \"isdn\"");
}
END_TEST

START_TEST(cond_tunnel_type)
{
	char *p = pol("p", "Tunnel-Type", "value", "\"l2tp\"", "grant", NULL);
	struct config *c = cfg(NULL, p, NULL);
	ck_assert(eval(c, "{\"user\": \"alice\", \"tunnel\": \"l2tp\", \"auth\": \"mschapv2\","
	               " \"time\": \"2026-11-23T10:00\"}").accept);
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", " ATT "}").reason, R_NO_MATCHING_POLICY);
	config_free(c);
	free(p);
}
END_TEST

START_TEST(cond_framed_service_auth)
{
	cond_case("Framed-Protocol", "value", "\"ppp\"", "", ", \"framed_protocol\": \"slip\"");
	cond_case("Service-Type", "value", "[\"framed\", \"callback-framed\"]", "",
	          ", \"service_type\": \"login\"");
	/* Authentication-Type: the attempt's method, here through the attempt's auth */
	char *p = pol("p", "Authentication-Type", "value", "[\"mschapv2\", \"eap\"]", "grant",
	              "\"auth_methods\": [\"mschapv2\", \"mschap\"]");
	struct config *c = cfg(NULL, p, NULL);
	ck_assert(eval(c, "{\"user\": \"alice\", " ATT "}").accept);
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", \"time\": \"2026-11-23T10:00\", \"tunnel\":"
	                      " \"pptp\", \"auth\": \"mschap\"}").reason, R_NO_MATCHING_POLICY);
	config_free(c);
	free(p);
	/* IKEv2 carries no Framed-Protocol: a Framed-Protocol condition cannot hold */
	p = pol("p", "Framed-Protocol", "value", "\"ppp\"", "grant", NULL);
	c = cfg("!\"ports\": {\"ikev2\": 5}", p, NULL);
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", \"time\": \"2026-11-23T10:00\", \"tunnel\":"
	                      " \"ikev2\", \"auth\": \"mschapv2\"}").reason, R_NO_MATCHING_POLICY);
	config_free(c);
	free(p);
}
END_TEST

START_TEST(cond_patterns)
{
	/* unanchored search, case-insensitive */
	cond_case("Called-Station-Id", "pattern", "\"113\\\\.10\"",
	          ", \"called_station_id\": \"203.0.113.10\"", ", \"called_station_id\": \"203.0.113.11\"");
	cond_case("Calling-Station-Id", "pattern", "\"^899.*\"",
	          ", \"calling_station_id\": \"8991234\"", ", \"calling_station_id\": \"1899\"");
	cond_case("NAS-IP-Address", "pattern", "\"192\\\\.168\\\\.1\\\\..+\"",
	          ", \"nas_ip\": \"192.168.1.7\"", ", \"nas_ip\": \"192.168.10.7\"");
	cond_case("NAS-Identifier", "pattern", "\"^ras\"", ", \"nas_identifier\": \"RAS1\"",
	          ", \"nas_identifier\": \"vpn-ras\"");
	cond_case("Client-IP-Address", "pattern", "\"^10\\\\.\"", ", \"client_ip\": \"10.9.9.9\"",
	          ", \"client_ip\": \"110.9.9.9\"");
	cond_case("Client-Friendly-Name", "pattern", "\"edge\"",
	          ", \"client_friendly_name\": \"EDGE-1\"", ", \"client_friendly_name\": \"core\"");
	/* MS-RAS-Vendor: 311 unless the attempt says otherwise */
	cond_case("MS-RAS-Vendor", "pattern", "\"^311$\"", "", ", \"ms_ras_vendor\": \"9\"");
	/* an absent attribute never matches */
	cond_case("Called-Station-Id", "pattern", "\".*\"", ", \"called_station_id\": \"x\"", "");
}
END_TEST

START_TEST(cond_exact_values)
{
	cond_case("Calling-Station-Id", "value", "\"198.51.100.7\"",
	          ", \"calling_station_id\": \"198.51.100.7\"",
	          ", \"calling_station_id\": \"198.51.100.70\"");
	cond_case("Client-Vendor", "value", "\"Microsoft\"", ", \"client_vendor\": \"microsoft\"",
	          ", \"client_vendor\": \"Cisco\"");
}
END_TEST

START_TEST(cond_groups)
{
	/* nested groups count, names are case-insensitive, any listed group suffices */
	char *p = pol("p", "Windows-Groups", "value", "[\"vpn users\"]", "grant", NULL);
	struct config *c = cfg(NULL, p, NULL);
	ck_assert(eval(c, "{\"user\": \"alice\", " ATT "}").accept);
	ck_assert(eval(c, "{\"user\": \"NESTED\", " ATT "}").accept);
	ck_assert_int_eq(eval(c, "{\"user\": \"other\", " ATT "}").reason, R_NO_MATCHING_POLICY);
	ck_assert(eval(c, "{\"user\": {\"name\": \"x\", \"groups\": [\"Sales\"]}, " ATT "}").accept);
	config_free(c);
	free(p);
	p = pol("p", "Windows-Groups", "value", "[\"Other\", \"Sales\"]", "grant", NULL);
	c = cfg(NULL, p, NULL);
	ck_assert(eval(c, "{\"user\": \"other\", " ATT "}").accept);
	ck_assert(eval(c, "{\"user\": \"nested\", " ATT "}").accept);
	/* membership in the parent does not make a member of the child */
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", " ATT "}").reason, R_NO_MATCHING_POLICY);
	config_free(c);
	free(p);
}
END_TEST

START_TEST(cond_day_time)
{
	/* 2026-11-23 is a Monday */
	char *p = pol("p", "Day-And-Time-Restrictions", "value", "[\"Mon-Fri 08:00-18:00\"]",
	              "grant", NULL);
	struct config *c = cfg(NULL, p, NULL);
	const char *A = "{\"user\": \"alice\", \"tunnel\": \"pptp\", \"auth\": \"mschapv2\", "
	                "\"time\": \"%s\"}";
	ck_assert(eval(c, A, "2026-11-23T08:00").accept);
	ck_assert(eval(c, A, "2026-11-27T17:59").accept);          /* Friday */
	ck_assert(!eval(c, A, "2026-11-27T18:00").accept);
	ck_assert(!eval(c, A, "2026-11-23T07:59").accept);
	ck_assert(!eval(c, A, "2026-11-28T10:00").accept);         /* Saturday */
	config_free(c);
	free(p);
}
END_TEST

/* ---- time windows ---------------------------------------------------------------------- */
static bool in_window(const char *window, const char *when)
{
	struct week_grid g;
	memset(&g, 0, sizeof g);
	char err[200];
	ck_assert_msg(week_grid_add(&g, window, err, sizeof err) == 0, "%s: %s", window, err);
	unsigned m;
	int64_t ep;
	ck_assert_int_eq(attempt_parse_time(when, &m, &ep), 0);
	return week_grid_has(&g, m);
}

START_TEST(time_weekdays)
{
	unsigned m;
	int64_t ep;
	/* known weekdays: 1970-01-01 Thursday, 2000-01-01 Saturday, 2024-02-29 Thursday */
	ck_assert_int_eq(attempt_parse_time("1970-01-01T00:00", &m, &ep), 0);
	ck_assert_uint_eq(m / 1440, 4);
	ck_assert_int_eq(ep, 0);
	ck_assert_int_eq(attempt_parse_time("2000-01-01T12:30", &m, &ep), 0);
	ck_assert_uint_eq(m / 1440, 6);
	ck_assert_uint_eq(m % 1440, 12 * 60 + 30);
	ck_assert_int_eq(attempt_parse_time("2024-02-29 23:59:59", &m, &ep), 0);
	ck_assert_uint_eq(m / 1440, 4);
	ck_assert_int_ne(attempt_parse_time("2023-02-29T10:00", &m, &ep), 0);
	ck_assert_int_ne(attempt_parse_time("2026-11-23T10:00Z", &m, &ep), 0);
	ck_assert_int_ne(attempt_parse_time("2026-11-23T24:00", &m, &ep), 0);
	ck_assert_int_ne(attempt_parse_time("2026-11-2310:00", &m, &ep), 0);
}
END_TEST

START_TEST(time_across_midnight)
{
	/* Friday 22:00 until Saturday 02:00 */
	ck_assert(in_window("Fri 22:00-02:00", "2026-11-27T22:00"));
	ck_assert(in_window("Fri 22:00-02:00", "2026-11-28T01:59"));
	ck_assert(!in_window("Fri 22:00-02:00", "2026-11-28T02:00"));
	ck_assert(!in_window("Fri 22:00-02:00", "2026-11-27T21:59"));
	ck_assert(!in_window("Fri 22:00-02:00", "2026-11-27T01:00")); /* Friday early morning */
	/* Saturday night wraps into Sunday */
	ck_assert(in_window("Sat 22:00-06:00", "2026-11-29T05:59"));
	ck_assert(!in_window("Sat 22:00-06:00", "2026-11-30T05:00")); /* Monday */
	/* a day range across the week's end */
	ck_assert(in_window("Sat-Mon", "2026-11-29T12:00"));
	ck_assert(in_window("Sat-Mon", "2026-11-30T23:59"));
	ck_assert(!in_window("Sat-Mon", "2026-12-01T00:00"));
	/* every day, no day part */
	ck_assert(in_window("22:00-06:00", "2026-11-25T03:00"));
	ck_assert(!in_window("22:00-06:00", "2026-11-25T12:00"));
	ck_assert(in_window("all", "2026-11-25T12:00"));
	ck_assert(in_window("Mon,Wed 00:00-24:00", "2026-11-25T23:59"));
	ck_assert(!in_window("Mon,Wed", "2026-11-24T12:00"));
}
END_TEST

START_TEST(time_window_errors)
{
	struct week_grid g;
	char err[200];
	memset(&g, 0, sizeof g);
	ck_assert_int_ne(week_grid_add(&g, "Mon-Fry", err, sizeof err), 0);
	ck_assert_int_ne(week_grid_add(&g, "Mon 8:00-18:00", err, sizeof err), 0);
	ck_assert_int_ne(week_grid_add(&g, "Mon 08:00-24:01", err, sizeof err), 0);
	ck_assert_int_ne(week_grid_add(&g, "Mon 24:00-02:00", err, sizeof err), 0);
	char buf[256];
	memset(&g, 0, sizeof g);
	ck_assert_int_eq(week_grid_add(&g, "Mon-Fri 08:00-18:00", err, sizeof err), 0);
	ck_assert_str_eq(week_grid_str(&g, buf, sizeof buf), "Mon-Fri 08:00-18:00");
	memset(&g, 0, sizeof g);
	ck_assert_str_eq(week_grid_str(&g, buf, sizeof buf), "never");
	ck_assert_int_eq(week_grid_add(&g, "all", err, sizeof err), 0);
	ck_assert_str_eq(week_grid_str(&g, buf, sizeof buf), "all week");
}
END_TEST

/* ---- permission matrix -------------------------------------------------------------------- */
START_TEST(permission_matrix)
{
	static const char *const dial[] = {"allow", "deny", "policy"};
	for (int d = 0; d < 3; d++)
		for (int grant = 0; grant < 2; grant++)
			for (int ign = 0; ign < 2; ign++) {
				char extra[128], users[256];
				snprintf(extra, sizeof extra, ", \"profile\": {\"ignore_user_dialin\": %s}",
				         ign ? "true" : "false");
				char *p = malloc(1024);
				snprintf(p, 1024, "{\"name\": \"p\", \"conditions\": [{\"attribute\": "
				         "\"Day-And-Time-Restrictions\", \"value\": \"all\"}], \"permission\":"
				         " \"%s\" %s}", grant ? "grant" : "deny", extra);
				snprintf(users, sizeof users, "{\"name\": \"u\", \"dialin\": \"%s\"}", dial[d]);
				struct config *c = cfg(NULL, p, users);
				struct out o = eval(c, "{\"user\": \"u\", " ATT "}");
				bool want = ign ? grant : (d == 0 || (d == 2 && grant));
				ck_assert_msg(o.accept == want, "dialin %s, %s, ignore %d", dial[d],
				              grant ? "grant" : "deny", ign);
				if (!want) {
					enum policy_reason wr = !ign && d == 1 ? R_NO_DIALIN_PERMISSION : R_POLICY_DENY;
					ck_assert_int_eq(o.reason, wr);
					ck_assert_int_eq(o.error, 649);
					ck_assert_int_eq(o.policy, 0);
				}
				config_free(c);
				free(p);
			}
}
END_TEST

START_TEST(first_match_decides)
{
	char *deny = pol("deny vpn", "Windows-Groups", "value", "\"VPN Users\"", "deny", NULL);
	char *grant = pol("grant all", "Day-And-Time-Restrictions", "value", "\"all\"", "grant", NULL);
	char both[8192];
	snprintf(both, sizeof both, "%s, %s", deny, grant);
	struct config *c = cfg(NULL, both, NULL);
	/* alice matches the Deny policy first: later policies are not consulted */
	struct out o = eval(c, "{\"user\": \"alice\", " ATT "}");
	ck_assert_int_eq(o.reason, R_POLICY_DENY);
	ck_assert_int_eq(o.policy, 0);
	/* "other" does not match the first, so the second grants */
	o = eval(c, "{\"user\": \"other\", " ATT "}");
	ck_assert(o.accept);
	ck_assert_int_eq(o.policy, 1);
	config_free(c);
	/* swapped: the grant policy comes first for everyone */
	snprintf(both, sizeof both, "%s, %s", grant, deny);
	c = cfg(NULL, both, NULL);
	o = eval(c, "{\"user\": \"alice\", " ATT "}");
	ck_assert(o.accept);
	ck_assert_int_eq(o.policy, 0);
	config_free(c);
	/* a disabled policy is not evaluated */
	char *dis = strdup(deny);
	char *at = strstr(dis, "\"permission\"");
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%.*s\"enabled\": false, %s", (int)(at - dis), dis, at);
	snprintf(both, sizeof both, "%s, %s", tmp, grant);
	c = cfg(NULL, both, NULL);
	o = eval(c, "{\"user\": \"alice\", " ATT "}");
	ck_assert(o.accept);
	ck_assert_int_eq(o.policy, 1);
	config_free(c);
	free(dis);
	free(deny);
	free(grant);
}
END_TEST

START_TEST(no_policies)
{
	struct config *c = cfg(NULL, "", NULL);
	struct out o = eval(c, "{\"user\": \"allow\", " ATT "}");
	/* even a user set to Allow access is rejected */
	ck_assert_int_eq(o.reason, R_NO_POLICIES);
	ck_assert_int_eq(o.nps, 48);
	config_free(c);
}
END_TEST

/* ---- account states ------------------------------------------------------------------------ */
START_TEST(account_states)
{
	char *p = malloc(512);
	snprintf(p, 512, GRANT_ALL, "");
	const char *users =
		"{\"name\": \"ok\", \"password\": \"pw\"},"
		"{\"name\": \"dis\", \"password\": \"pw\", \"disabled\": true},"
		"{\"name\": \"lock\", \"password\": \"pw\", \"locked\": true},"
		"{\"name\": \"exp\", \"password\": \"pw\", \"password_expired\": true},"
		"{\"name\": \"hours\", \"password\": \"pw\", \"logon_hours\": \"Mon-Fri 08:00-17:00\"},"
		"{\"name\": \"nopw\"}";
	struct config *c = cfg(NULL, p, users);
	struct out o = eval(c, "{\"user\": \"ok\", \"password\": \"pw\", " ATT "}");
	ck_assert(o.accept);
	o = eval(c, "{\"user\": \"ok\", \"password\": \"PW\", " ATT "}");
	ck_assert_int_eq(o.reason, R_BAD_CREDENTIALS);
	ck_assert_int_eq(o.error, 691);
	ck_assert_int_eq(o.nps, 16);
	/* no password in the attempt: credentials are not checked */
	ck_assert(eval(c, "{\"user\": \"ok\", " ATT "}").accept);
	ck_assert(eval(c, "{\"user\": \"nopw\", " ATT "}").accept);
	/* a password for an account that has none cannot be checked: refused, as the server
	 * refuses it */
	o = eval(c, "{\"user\": \"nopw\", \"password\": \"x\", " ATT "}");
	ck_assert_int_eq(o.reason, R_BAD_CREDENTIALS);
	ck_assert_int_eq(o.error, 691);
	o = eval(c, "{\"user\": \"nobody\", " ATT "}");
	ck_assert_int_eq(o.reason, R_UNKNOWN_USER);
	ck_assert_int_eq(o.error, 691);
	ck_assert_int_eq(o.policy, -1);
	o = eval(c, "{\"user\": \"dis\", \"password\": \"pw\", " ATT "}");
	ck_assert_int_eq(o.reason, R_ACCOUNT_DISABLED);
	ck_assert_int_eq(o.error, 647);
	/* a wrong password is reported before the account being disabled */
	ck_assert_int_eq(eval(c, "{\"user\": \"dis\", \"password\": \"no\", " ATT "}").reason,
	                 R_BAD_CREDENTIALS);
	o = eval(c, "{\"user\": \"lock\", \"password\": \"no\", " ATT "}");
	ck_assert_int_eq(o.reason, R_ACCOUNT_LOCKED); /* lockout wins over the password */
	o = eval(c, "{\"user\": \"exp\", \"password\": \"pw\", " ATT "}");
	ck_assert_int_eq(o.reason, R_PASSWORD_EXPIRED);
	ck_assert_int_eq(o.error, 648);
	o = eval(c, "{\"user\": \"hours\", \"password\": \"pw\", \"tunnel\": \"pptp\", \"auth\":"
	         " \"mschapv2\", \"time\": \"2026-11-23T17:00\"}");
	ck_assert_int_eq(o.reason, R_LOGON_HOURS);
	ck_assert_int_eq(o.error, 646);
	ck_assert(eval(c, "{\"user\": \"hours\", \"password\": \"pw\", \"tunnel\": \"pptp\", "
	               "\"auth\": \"mschapv2\", \"time\": \"2026-11-23T16:59\"}").accept);
	config_free(c);
	free(p);
}
END_TEST

/* ---- profile constraints and conflicts ------------------------------------------------------- */
static struct config *grant_with(const char *server_extra, const char *profile)
{
	char *p = malloc(2048);
	char pr[1200];
	snprintf(pr, sizeof pr, ", \"profile\": {%s}", profile);
	snprintf(p, 2048, GRANT_ALL, pr);
	struct config *c = cfg(server_extra, p, NULL);
	free(p);
	return c;
}

START_TEST(profile_constraints)
{
	struct config *c = grant_with(NULL, "\"day_time\": \"Mon 09:00-12:00\"");
	struct out o = eval(c, "{\"user\": \"alice\", \"tunnel\": \"pptp\", \"auth\": \"mschapv2\", "
	                    "\"time\": \"2026-11-23T12:00\"}");
	ck_assert_int_eq(o.reason, R_DAY_TIME);
	ck_assert_int_eq(o.nps, 68);
	ck_assert_int_eq(o.policy, 0);
	config_free(c);
	c = grant_with(NULL, "\"nas_port_types\": [\"virtual\"]");
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", \"nas_port_type\": \"async\", " ATT "}").reason,
	                 R_NAS_PORT_TYPE);
	config_free(c);
	c = grant_with(NULL, "\"called_station_id\": \"^203\\\\.0\\\\.113\\\\.10$\"");
	ck_assert(eval(c, "{\"user\": \"alice\", \"called_station_id\": \"203.0.113.10\", " ATT "}")
	              .accept);
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", \"called_station_id\": \"203.0.113.100\", "
	                      ATT "}").reason, R_CALLED_STATION);
	config_free(c);
	c = grant_with(NULL, "\"tunnel_types\": [\"l2tp\"]");
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", " ATT "}").reason, R_TUNNEL_TYPE);
	config_free(c);
}
END_TEST

START_TEST(conflict_auth)
{
	/* the server has the method disabled: PPP cannot agree, no policy is consulted */
	struct config *c = grant_with("!\"auth_methods\": [\"mschapv2\"]", "");
	struct out o = eval(c, "{\"user\": \"alice\", \"time\": \"2026-11-23T10:00\", "
	                    "\"tunnel\": \"pptp\", \"auth\": \"chap\"}");
	ck_assert_int_eq(o.reason, R_AUTH_METHOD);
	ck_assert_int_eq(o.policy, -1);
	config_free(c);
	/* the profile does not allow it */
	c = grant_with(NULL, "\"auth_methods\": [\"eap\"], \"eap_types\": [\"peap\"]");
	o = eval(c, "{\"user\": \"alice\", " ATT "}");
	ck_assert_int_eq(o.reason, R_AUTH_METHOD);
	ck_assert_int_eq(o.error, 812);
	ck_assert_int_eq(o.nps, 66);
	ck_assert_int_eq(o.policy, 0);
	ck_assert(eval(c, "{\"user\": \"alice\", \"time\": \"2026-11-23T10:00\", \"tunnel\": \"pptp\","
	               " \"auth\": \"eap\", \"eap_type\": \"peap\"}").accept);
	config_free(c);
	/* the KB example: the profile requires EAP-TLS and the server has no EAP-TLS */
	c = grant_with("!\"eap_types\": [\"peap\"]", "\"auth_methods\": [\"eap\"], \"eap_types\": [\"tls\"]");
	o = eval(c, "{\"user\": \"alice\", \"time\": \"2026-11-23T10:00\", \"tunnel\": \"pptp\","
	         " \"auth\": \"eap\", \"eap_type\": \"tls\"}");
	ck_assert_int_eq(o.reason, R_EAP_TYPE);
	config_free(c);
	/* the profile allows PEAP only */
	c = grant_with(NULL, "\"auth_methods\": [\"eap\"], \"eap_types\": [\"peap\"]");
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", \"time\": \"2026-11-23T10:00\", \"tunnel\": "
	                      "\"pptp\", \"auth\": \"eap\", \"eap_type\": \"tls\"}").reason, R_EAP_TYPE);
	config_free(c);
}
END_TEST

START_TEST(conflict_encryption)
{
	struct config *c = grant_with(", \"encryption\": [\"strong\", \"strongest\"]",
	                              "\"encryption\": [\"basic\", \"strong\"]");
	ck_assert(eval(c, "{\"user\": \"alice\", \"encryption\": \"strong\", " ATT "}").accept);
	struct out o = eval(c, "{\"user\": \"alice\", \"encryption\": \"strongest\", " ATT "}");
	ck_assert_int_eq(o.reason, R_ENCRYPTION);
	ck_assert_int_eq(o.error, 742); /* the client wants more than the server offers */
	o = eval(c, "{\"user\": \"alice\", \"encryption\": \"basic\", " ATT "}");
	ck_assert_int_eq(o.error, 741); /* the client offers less than the server requires */
	o = eval(c, "{\"user\": \"alice\", \"encryption\": \"none\", " ATT "}");
	ck_assert_int_eq(o.error, 743);
	config_free(c);
	/* no level in common between profile and server */
	c = grant_with(", \"encryption\": [\"strongest\"]", "\"encryption\": [\"basic\"]");
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", " ATT "}").reason, R_ENCRYPTION);
	config_free(c);
}
END_TEST

START_TEST(conflict_multilink_bap)
{
	struct config *c = grant_with(", \"multilink\": false", "\"multilink\": \"allow\"");
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", " ATT "}").reason, R_MULTILINK);
	config_free(c);
	c = grant_with(NULL, "\"multilink\": \"deny\"");
	ck_assert(eval(c, "{\"user\": \"alice\", " ATT "}").accept);
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", \"links\": 2, " ATT "}").reason, R_MULTILINK);
	config_free(c);
	c = grant_with(", \"multilink\": false", "\"multilink\": \"server\"");
	ck_assert(eval(c, "{\"user\": \"alice\", " ATT "}").accept);
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", \"links\": 2, " ATT "}").reason, R_MULTILINK);
	config_free(c);
	c = grant_with(NULL, "\"multilink\": \"allow\", \"multilink_max_ports\": 2");
	ck_assert(eval(c, "{\"user\": \"alice\", \"links\": 2, " ATT "}").accept);
	struct out o = eval(c, "{\"user\": \"alice\", \"links\": 3, " ATT "}");
	ck_assert_int_eq(o.reason, R_PORT_LIMIT);
	ck_assert_int_eq(o.error, 931);
	config_free(c);
	c = grant_with(", \"bap\": false", "\"bap_required\": true");
	o = eval(c, "{\"user\": \"alice\", " ATT "}");
	ck_assert_int_eq(o.reason, R_BAP);
	ck_assert_int_eq(o.error, 943);
	config_free(c);
	c = grant_with(", \"bap\": true", "\"bap_required\": true, \"multilink\": \"allow\"");
	ck_assert(eval(c, "{\"user\": \"alice\", \"links\": 2, \"bap\": true, " ATT "}").accept);
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", \"links\": 2, " ATT "}").reason, R_BAP);
	config_free(c);
}
END_TEST

START_TEST(server_state_and_ports)
{
	struct config *c = grant_with(", \"service_running\": false", "");
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", " ATT "}").reason, R_SERVICE_STOPPED);
	config_free(c);
	c = grant_with(", \"remote_access_enabled\": false", "");
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", " ATT "}").reason, R_REMOTE_ACCESS_DISABLED);
	config_free(c);
	c = grant_with(", \"ports_in_use\": {\"pptp\": 5, \"l2tp\": 4}", "");
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", " ATT "}").reason, R_PORTS_EXHAUSTED);
	ck_assert(eval(c, "{\"user\": \"alice\", \"time\": \"2026-11-23T10:00\", \"tunnel\": "
	               "\"l2tp\", \"auth\": \"mschapv2\"}").accept);
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", \"time\": \"2026-11-23T10:00\", \"tunnel\": "
	                      "\"sstp\", \"auth\": \"mschapv2\"}").reason, R_NO_PORTS);
	config_free(c);
	c = grant_with(", \"lan_protocols\": [\"ipx\"]", "");
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", " ATT "}").reason, R_LAN_PROTOCOL);
	config_free(c);
}
END_TEST

START_TEST(addresses)
{
	/* pool 10.0.0.10-19: the server keeps .10, so 9 client addresses */
	struct config *c = grant_with(", \"addresses_in_use\": 3", "");
	struct out o = eval(c, "{\"user\": \"alice\", " ATT "}");
	ck_assert(o.accept && o.has_address);
	ck_assert_uint_eq(o.address, 0x0A000000u + 14); /* .10 server, .11-.13 in use */
	config_free(c);
	c = grant_with(", \"addresses_in_use\": 8", "");
	ck_assert_uint_eq(eval(c, "{\"user\": \"alice\", " ATT "}").address, 0x0A000000u + 19);
	config_free(c);
	c = grant_with(", \"addresses_in_use\": 9", "");
	o = eval(c, "{\"user\": \"alice\", " ATT "}");
	ck_assert_int_eq(o.reason, R_POOL_EXHAUSTED);
	ck_assert_int_eq(o.error, 720);
	config_free(c);
	/* DHCP */
	c = cfg("!\"address_assignment\": \"dhcp\", \"dhcp\": {\"free\": 0}",
	        "{\"name\": \"all\", \"conditions\": [{\"attribute\": \"Day-And-Time-Restrictions\", "
	        "\"value\": \"all\"}], \"permission\": \"grant\"}", NULL);
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", " ATT "}").reason, R_POOL_EXHAUSTED);
	config_free(c);
	c = cfg("!\"address_assignment\": \"dhcp\", \"dhcp\": {\"reachable\": false}",
	        "{\"name\": \"all\", \"conditions\": [{\"attribute\": \"Day-And-Time-Restrictions\", "
	        "\"value\": \"all\"}], \"permission\": \"grant\"}", NULL);
	o = eval(c, "{\"user\": \"alice\", " ATT "}");
	ck_assert(o.accept && !o.has_address); /* APIPA: accepted, but no usable address */
	config_free(c);
	/* static addresses of the account: inside a route, outside everything, or ignored */
	const char *users = "{\"name\": \"r\", \"static_ip\": \"10.1.2.3\", \"dialin\": \"allow\"},"
	                    "{\"name\": \"x\", \"static_ip\": \"172.16.0.1\", \"dialin\": \"allow\"},"
	                    "{\"name\": \"cid\", \"caller_id\": \"555\", \"dialin\": \"allow\"}";
	char *p = malloc(512);
	snprintf(p, 512, GRANT_ALL, "");
	c = cfg(NULL, p, users);
	o = eval(c, "{\"user\": \"r\", " ATT "}");
	ck_assert(o.accept);
	ck_assert_uint_eq(o.address, 0x0A010203u);
	ck_assert_int_eq(eval(c, "{\"user\": \"x\", " ATT "}").reason, R_STATIC_IP_UNROUTABLE);
	ck_assert_int_eq(eval(c, "{\"user\": \"cid\", \"calling_station_id\": \"556\", " ATT "}").reason,
	                 R_CALLING_STATION);
	ck_assert(eval(c, "{\"user\": \"cid\", \"calling_station_id\": \"555\", " ATT "}").accept);
	config_free(c);
	snprintf(p, 512, GRANT_ALL, ", \"profile\": {\"ignore_user_dialin\": true}");
	c = cfg(NULL, p, users);
	o = eval(c, "{\"user\": \"x\", " ATT "}");
	ck_assert(o.accept); /* the static address is a dial-in property: ignored */
	ck_assert_uint_eq(o.address, 0x0A000000u + 11);
	ck_assert(eval(c, "{\"user\": \"cid\", \"calling_station_id\": \"556\", " ATT "}").accept);
	config_free(c);
	free(p);
	/* addresses the client asks for */
	c = grant_with(NULL, "");
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", \"requested_ip\": \"10.0.0.15\", " ATT "}")
	                     .reason, R_REQUESTED_ADDRESS);
	config_free(c);
	c = grant_with(NULL, "\"ip_assignment\": \"client-may-request\"");
	o = eval(c, "{\"user\": \"alice\", \"requested_ip\": \"10.0.0.15\", " ATT "}");
	ck_assert(o.accept);
	ck_assert_uint_eq(o.address, 0x0A00000Fu);
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", \"requested_ip\": \"172.16.0.1\", " ATT "}")
	                     .reason, R_REQUESTED_ADDRESS);
	config_free(c);
	c = grant_with(", \"allow_requested_ip\": true", "\"ip_assignment\": \"server-must-supply\"");
	ck_assert_int_eq(eval(c, "{\"user\": \"alice\", \"requested_ip\": \"10.0.0.15\", " ATT "}")
	                     .reason, R_REQUESTED_ADDRESS);
	config_free(c);
}
END_TEST

START_TEST(first_failure_decides_all_recorded)
{
	/* day/time and encryption both fail: day/time is checked first and decides; the
	 * encryption conflict is still in the trace */
	struct config *c = grant_with(NULL, "\"day_time\": \"Sun\", \"encryption\": \"basic\"");
	struct attempt_list l;
	const char *js = "{\"user\": \"alice\", " ATT "}";
	ck_assert_int_eq(attempts_parse(c, "a", js, strlen(js), &l, NULL), 0);
	struct policy_result r;
	policy_result_init(&r, c);
	ck_assert_int_eq(policy_evaluate(c, &l.v[0], &r, NULL), 1);
	ck_assert_int_eq(r.reason, R_DAY_TIME);
	int fails = 0, decisive = 0;
	for (size_t i = 0; i < r.nsteps; i++) {
		if (r.steps[i].verdict == V_FAIL) fails++;
		if (r.steps[i].decisive) {
			decisive++;
			ck_assert_int_eq(r.steps[i].kind, ST_PROFILE_DAY_TIME);
		}
	}
	ck_assert_int_eq(fails, 2);
	ck_assert_int_eq(decisive, 1);
	char buf[512];
	struct step_text t;
	for (size_t i = 0; i < r.nsteps; i++)
		if (r.steps[i].kind == ST_ENCRYPTION) {
			policy_step_text(c, &l.v[0], &r.steps[i], &t);
			ck_assert_str_eq(t.expected, "one of basic");
			ck_assert_str_eq(t.actual, "strongest");
		}
	(void)buf;
	policy_result_free(&r);
	attempts_free(&l);
	config_free(c);
}
END_TEST

START_TEST(near_miss_text)
{
	char *p = malloc(1024);
	snprintf(p, 1024, "{\"name\": \"VPN users\", \"conditions\": [{\"attribute\": \"Windows-Groups\","
	         " \"value\": \"VPN Users\"}, {\"attribute\": \"NAS-Port-Type\", \"value\": \"virtual\"}],"
	         " \"permission\": \"grant\"}");
	struct config *c = cfg(NULL, p, NULL);
	const char *js = "{\"user\": \"alice\", \"nas_port_type\": \"async\", " ATT "}";
	struct attempt_list l;
	ck_assert_int_eq(attempts_parse(c, "a", js, strlen(js), &l, NULL), 0);
	struct policy_result r;
	policy_result_init(&r, c);
	policy_evaluate(c, &l.v[0], &r, NULL);
	char buf[512];
	policy_near_miss(c, &l.v[0], &r, 0, buf, sizeof buf);
	ck_assert_str_eq(buf, "NAS-Port-Type were virtual; the attempt had async");
	policy_result_free(&r);
	attempts_free(&l);
	config_free(c);
	free(p);
}
END_TEST

START_TEST(sample_config_outcomes)
{
	/* the embedded default: fresh RRAS server, two default Deny policies first-matched by
	 * everyone outside the group policies */
	struct config_problems pr = {0};
	struct config *c = config_load(NULL, &pr);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->npolicies, 5);
	ck_assert_str_eq(c->policies[3].name, "Connections to Microsoft Routing and Remote Access server");
	ck_assert(!c->policies[3].grant && !c->policies[4].grant);
	struct out o = eval(c, "{\"user\": \"alice\", " ATT "}");
	ck_assert(o.accept);
	ck_assert_int_eq(o.policy, 0);
	o = eval(c, "{\"user\": \"carol\", " ATT "}");
	ck_assert(o.accept); /* Allow access wins over the default Deny policy */
	ck_assert_int_eq(o.policy, 3);
	o = eval(c, "{\"user\": \"dave\", " ATT "}");
	ck_assert_int_eq(o.reason, R_POLICY_DENY);
	ck_assert_int_eq(o.policy, 3);
	/* an attempt from another access server skips the first default policy */
	o = eval(c, "{\"user\": \"dave\", \"ms_ras_vendor\": \"9\", " ATT "}");
	ck_assert_int_eq(o.policy, 4);
	config_free(c);
}
END_TEST

START_TEST(programmatic_attempt)
{
	/* the server builds attempts in code: same decision as from a file */
	struct config_problems pr = {0};
	struct config *c = config_load(NULL, &pr);
	ck_assert_ptr_nonnull(c);
	struct attempt a;
	attempt_init(&a);
	a.user_name = strdup("ALICE");
	a.tunnel = TUN_PPTP;
	a.auth = AUTH_MSCHAPV2;
	ck_assert_int_eq(attempt_parse_time("2026-11-23T10:00", &a.minute_of_week, &a.local_epoch), 0);
	struct policy_result r;
	ck_assert_int_eq(policy_result_init(&r, c), 0);
	r.full_trace = false;
	struct facts *f = facts_new();
	ck_assert_int_eq(policy_evaluate(c, &a, &r, f), 0);
	ck_assert_int_eq(r.policy, 0);
	ck_assert_uint_eq(r.address, 0xC0A80A65u); /* 192.168.10.101: .100 is the server's */
	ck_assert_int_eq(r.idle_timeout, 30);
	ck_assert_int_eq(r.session_timeout, 480);
	/* without MS-RAS-Vendor 311 dave falls through to the second default policy */
	free(a.user_name);
	a.user_name = strdup("dave");
	free(a.ms_ras_vendor);
	a.ms_ras_vendor = NULL;
	facts_reset(f);
	ck_assert_int_eq(policy_evaluate(c, &a, &r, f), 1);
	ck_assert_int_eq(r.policy, 4);
	const struct fact *x = facts_get(f, "policy.name");
	ck_assert_ptr_nonnull(x);
	ck_assert_str_eq(x->s, "Connections to other access servers");
	ck_assert_str_eq(facts_get(f, "user.dialin")->s, "policy");
	ck_assert_int_eq(facts_get(f, "policy.nps_reason")->i, 65);
	facts_free(f);
	policy_result_free(&r);
	attempt_free(&a);
	config_free(c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("policy");
	TCase *t = tcase_create("conditions");
	tcase_add_test(t, cond_nas_port_type);
	tcase_add_test(t, cond_tunnel_type);
	tcase_add_test(t, cond_framed_service_auth);
	tcase_add_test(t, cond_patterns);
	tcase_add_test(t, cond_exact_values);
	tcase_add_test(t, cond_groups);
	tcase_add_test(t, cond_day_time);
	suite_add_tcase(s, t);
	t = tcase_create("time");
	tcase_add_test(t, time_weekdays);
	tcase_add_test(t, time_across_midnight);
	tcase_add_test(t, time_window_errors);
	suite_add_tcase(s, t);
	t = tcase_create("decision");
	tcase_add_test(t, permission_matrix);
	tcase_add_test(t, first_match_decides);
	tcase_add_test(t, no_policies);
	tcase_add_test(t, account_states);
	tcase_add_test(t, profile_constraints);
	tcase_add_test(t, conflict_auth);
	tcase_add_test(t, conflict_encryption);
	tcase_add_test(t, conflict_multilink_bap);
	tcase_add_test(t, server_state_and_ports);
	tcase_add_test(t, addresses);
	tcase_add_test(t, first_failure_decides_all_recorded);
	tcase_add_test(t, near_miss_text);
	tcase_add_test(t, sample_config_outcomes);
	tcase_add_test(t, programmatic_attempt);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
