/* The remote-access policy evaluator. Order of checks and the facts behind each are
 * described in docs/formats.md ("How an attempt is decided"). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "diag.h"
#include "policy/policy.h"

const struct reason_info policy_reasons[R_N] = {
	[R_ACCEPTED] = {"accepted", 0, 0, "the connection attempt is accepted"},
	[R_NO_POLICIES] = {"no-policies", 649, 48,
		"the server has no remote access policies, so every attempt is rejected"},
	[R_NO_MATCHING_POLICY] = {"no-matching-policy", 649, 48,
		"no policy has all its conditions matched by the attempt"},
	[R_NO_DIALIN_PERMISSION] = {"no-dialin-permission", 649, 65,
		"the user account's dial-in permission is Deny access"},
	[R_POLICY_DENY] = {"policy-deny", 649, 65,
		"the matching policy denies remote access permission"},
	[R_UNKNOWN_USER] = {"unknown-user", 691, 8, "the user name is not known to the server"},
	[R_BAD_CREDENTIALS] = {"bad-credentials", 691, 16, "the password is wrong"},
	[R_ACCOUNT_DISABLED] = {"account-disabled", 647, 34, "the user account is disabled"},
	[R_ACCOUNT_LOCKED] = {"account-locked", 691, 36, "the user account is locked out"},
	[R_PASSWORD_EXPIRED] = {"password-expired", 648, 33, "the user's password has expired"},
	[R_LOGON_HOURS] = {"logon-hours", 646, 37,
		"the user account may not log on at this time"},
	[R_DAY_TIME] = {"day-time-restriction", 940, 68,
		"the profile does not allow connections at this day and time"},
	[R_NAS_PORT_TYPE] = {"nas-port-type-restriction", 941, 70,
		"the profile does not allow this NAS port type (medium)"},
	[R_CALLED_STATION] = {"called-station-restriction", 691, 69,
		"the profile allows access only through another called number (server address)"},
	[R_CALLING_STATION] = {"calling-station-restriction", 691, 67,
		"the caller ID does not match the one the user account must call from"},
	[R_TUNNEL_TYPE] = {"tunnel-type-restriction", 691, 71,
		"the profile does not allow this tunnel type"},
	[R_AUTH_METHOD] = {"auth-method-conflict", 812, 66,
		"the authentication method is not allowed by both the server and the profile"},
	[R_EAP_TYPE] = {"eap-type-conflict", 812, 22,
		"the EAP type is not allowed by both the server and the profile"},
	[R_ENCRYPTION] = {"encryption-conflict", 742, 0,
		"no encryption level is allowed by the client, the profile and the server together"},
	[R_MULTILINK] = {"multilink-conflict", 734, 0,
		"the profile's multilink setting conflicts with the server or the attempt"},
	[R_BAP] = {"bap-conflict", 943, 0,
		"the profile requires BAP, which the server or the client does not use"},
	[R_PORT_LIMIT] = {"port-limit", 931, 0,
		"the attempt uses more multilink ports than the profile allows"},
	[R_NO_PORTS] = {"no-ports", 800, 0,
		"the server has no ports for this tunnel type"},
	[R_PORTS_EXHAUSTED] = {"ports-exhausted", 628, 0,
		"every port of this tunnel type is in use"},
	[R_LAN_PROTOCOL] = {"lan-protocol-disabled", 733, 0,
		"a LAN protocol the client needs is not enabled for remote access"},
	[R_POOL_EXHAUSTED] = {"pool-exhausted", 720, 0,
		"the server has no free address to give the client"},
	[R_STATIC_IP_UNROUTABLE] = {"static-ip-unroutable", 720, 0,
		"the user's static address is outside every network the server can route"},
	[R_REQUESTED_ADDRESS] = {"requested-address-rejected", 735, 0,
		"the server refuses the address the client asked for"},
	[R_REMOTE_ACCESS_DISABLED] = {"remote-access-disabled", 800, 0,
		"the server is not enabled as a remote access server"},
	[R_SERVICE_STOPPED] = {"service-stopped", 800, 0,
		"the Routing and Remote Access service is not running"},
	[R_IPSEC] = {"ipsec-auth-failed", 789, 0,
		"client and server do not authenticate the L2TP/IPsec connection the same way"},
	[R_NO_RADIUS] = {"no-radius-server", 938, 0,
		"the server authenticates through RADIUS but has no RADIUS server to ask"},
	[R_ACCOUNT_UNREADABLE] = {"account-unreadable", 691, 0,
		"the server cannot read the user account's dial-in properties from the domain"},
};

const char *policy_verdict_name(enum verdict v)
{
	static const char *const n[] = {"pass", "fail", "skip", "info"};
	return (unsigned)v < 4 ? n[v] : "?";
}

/* ---- result setup --------------------------------------------------------------------- */
int policy_result_init(struct policy_result *r, const struct config *c)
{
	memset(r, 0, sizeof *r);
	r->full_trace = true;
	r->cap = c->npolicies * (c->max_conds + 1) + 2 * ST_N + 8 + ATTEMPT_MAX_TRAFFIC + TUN_N;
	r->steps = calloc(r->cap, sizeof *r->steps);
	r->nslots = c->nre_slots;
	r->re_cache = calloc(r->nslots + 1, 1);
	r->match_data = pcre2_match_data_create(1, NULL);
	r->pol_words = c->pol_words;
	r->cand = calloc(r->pol_words + 1, sizeof *r->cand);
	if (!r->steps || !r->re_cache || !r->match_data || !r->cand) {
		policy_result_free(r);
		return -1;
	}
	return 0;
}

void policy_result_free(struct policy_result *r)
{
	free(r->steps);
	free(r->re_cache);
	free(r->cand);
	if (r->match_data) pcre2_match_data_free(r->match_data);
	memset(r, 0, sizeof *r);
}

/* ---- helpers ---------------------------------------------------------------------------- */
struct ev {
	const struct config *c;
	const struct attempt *a;
	const struct user *u;
	struct policy_result *r;
	bool decided;
	bool after; /* recording steps after the decision (trace only) */
};

static struct policy_step *step(struct ev *e, enum step_kind k, enum verdict v,
                                int policy, int cond, int aux)
{
	struct policy_result *r = e->r;
	if (r->nsteps >= r->cap) return NULL;
	struct policy_step *s = &r->steps[r->nsteps++];
	s->kind = (uint8_t)k;
	s->verdict = (uint8_t)v;
	s->reason = -1;
	s->policy = policy;
	s->cond = cond;
	s->aux = aux;
	s->decisive = false;
	s->after = e->after;
	return s;
}

static void decide(struct ev *e, enum policy_reason why)
{
	if (e->decided) return;
	e->decided = true;
	e->r->accept = why == R_ACCEPTED;
	e->r->reason = why;
	e->r->error = policy_reasons[why].error;
	e->r->nps_reason = policy_reasons[why].nps_reason;
}

/* Record a failed check; the first failure decides. */
static void fail(struct ev *e, enum step_kind k, enum policy_reason why, int policy, int aux)
{
	struct policy_step *s = step(e, k, V_FAIL, policy, -1, aux);
	if (s) {
		s->reason = (int16_t)why;
		s->decisive = !e->decided;
	}
	decide(e, why);
}

static const char *attr_str(const struct attempt *a, enum cond_attr attr)
{
	switch (attr) {
	case CA_CALLED_STATION_ID: return a->called_station_id;
	case CA_CALLING_STATION_ID: return a->calling_station_id;
	case CA_CLIENT_IP_ADDRESS: return a->client_ip;
	case CA_CLIENT_VENDOR: return a->client_vendor;
	case CA_CLIENT_FRIENDLY_NAME: return a->client_friendly_name;
	case CA_NAS_IDENTIFIER: return a->nas_identifier;
	case CA_NAS_IP_ADDRESS: return a->nas_ip;
	case CA_MS_RAS_VENDOR: return a->ms_ras_vendor;
	default: return NULL;
	}
}

static bool re_search(void *re, const char *s, void *md)
{
	int rc = pcre2_match((const pcre2_code *)re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0,
	                     (pcre2_match_data *)md, NULL);
	return rc >= 0;
}

static bool cond_match(struct ev *e, const struct condition *cd)
{
	const struct attempt *a = e->a;
	switch (cd->attr) {
	case CA_WINDOWS_GROUPS:
		if (!e->u || !e->u->closure) return false;
		for (size_t i = 0; i < cd->ngroups; i++)
			if (e->u->closure[cd->groups[i] / 64] >> (cd->groups[i] % 64) & 1) return true;
		return false;
	case CA_DAY_AND_TIME: return cd->grid && week_grid_has(cd->grid, a->minute_of_week);
	case CA_NAS_PORT_TYPE: return cd->mask >> a->nas_port_type & 1;
	case CA_TUNNEL_TYPE: return cd->mask >> a->tunnel & 1;
	case CA_FRAMED_PROTOCOL: return a->framed_protocol >= 0 && cd->mask >> a->framed_protocol & 1;
	case CA_SERVICE_TYPE: return cd->mask >> a->service_type & 1;
	case CA_AUTHENTICATION_TYPE: return cd->mask >> a->auth & 1;
	default: break;
	}
	const char *v = attr_str(a, cd->attr);
	if (!v || !cd->text) return false;
	if (!cd->is_pattern) return strcasecmp(v, cd->text) == 0;
	if (!cd->re) return false;
	int8_t *slot = &e->r->re_cache[cd->re_slot];
	if (*slot == 0) *slot = re_search(cd->re, v, e->r->match_data) ? 1 : -1;
	return *slot > 0;
}

/* Cheap conditions first when only the decision matters. */
static int cond_cost(const struct condition *cd)
{
	return cd->is_pattern ? 2 : cd->attr == CA_WINDOWS_GROUPS ? 1 : 0;
}

/* Evaluate one policy's conditions; records a step per condition. */
static bool policy_matches(struct ev *e, size_t pi)
{
	const struct policy *p = &e->c->policies[pi];
	bool all = true;
	if (e->r->full_trace || e->after) {
		for (size_t k = 0; k < p->nconds; k++) {
			bool m = cond_match(e, &p->conds[k]);
			step(e, ST_COND, m ? V_PASS : V_FAIL, (int)pi, (int)k, 0);
			all = all && m;
		}
		return all;
	}
	for (int cost = 0; cost <= 2 && all; cost++) {
		for (size_t k = 0; k < p->nconds; k++) {
			if (cond_cost(&p->conds[k]) != cost) continue;
			if (!cond_match(e, &p->conds[k])) {
				all = false;
				break;
			}
		}
	}
	return all;
}

static bool in_ranges(uint32_t ip, const struct ip_range *r, size_t n)
{
	uint64_t idx;
	return ip_ranges_index(r, n, ip, &idx);
}

static uint64_t pool_size(const struct server *s)
{
	return ip_ranges_size(s->pool, s->npool);
}

/* The n-th address (0-based) of the pool. */
static uint32_t pool_nth(const struct server *s, uint64_t n)
{
	return ip_ranges_nth(s->pool, s->npool, n);
}

int64_t policy_pool_free(const struct server *s)
{
	int64_t f = (int64_t)pool_size(s) - 1 - s->addresses_in_use;
	return f < 0 ? 0 : f;
}

enum addr_kind { AK_POOL, AK_STATIC, AK_REQUESTED, AK_DHCP, AK_APIPA };

/* ---- what happens before PPP: ports and IPsec ------------------------------------------- */
enum ipsec_why { IPS_OK, IPS_PSK_NOT_ON_SERVER, IPS_PSK_DIFFERS, IPS_CERT_ON_PSK_SERVER };

/* How IPsec authenticates an L2TP/IPsec attempt: a server with a custom IPsec policy
 * (server.l2tp_psk) uses its pre-shared key, one without it certificates; the client
 * uses a key when the attempt gives one, else its computer certificate (inferred: the
 * rule ike.psk.client-not-set). Certificates themselves are `vnet cert pick`'s question. */
static enum ipsec_why ipsec_check(const struct server *sv, const struct attempt *a)
{
	if (a->l2tp_psk && !sv->l2tp_psk) return IPS_PSK_NOT_ON_SERVER;
	if (a->l2tp_psk && strcmp(a->l2tp_psk, sv->l2tp_psk) != 0) return IPS_PSK_DIFFERS;
	if (!a->l2tp_psk && sv->l2tp_psk) return IPS_CERT_ON_PSK_SERVER;
	return IPS_OK;
}

/* Whether the server takes a call of tunnel type t at all: ports configured, inbound,
 * free, and for L2TP the IPsec authentication. *detail says which. */
static enum policy_reason transport_check(const struct server *sv, const struct attempt *a,
                                          enum tunnel_type t, int *detail)
{
	*detail = 0;
	if (sv->ports[t] == 0) return R_NO_PORTS;
	if (!sv->ports_inbound[t]) {
		*detail = 1;
		return R_NO_PORTS;
	}
	if (sv->ports[t] - sv->ports_in_use[t] <= 0) return R_PORTS_EXHAUSTED;
	if (t == TUN_L2TP) {
		*detail = (int)ipsec_check(sv, a);
		if (*detail) return R_IPSEC;
	}
	return R_ACCEPTED;
}

/* The demand-dial interface a calling router connects to: the one named like its user. */
static const struct demand_dial *router_iface(const struct config *c, const struct attempt *a)
{
	return a->router ? config_find_demand_dial(c, a->user_name) : NULL;
}

static bool ranges_cover(const struct ip_range *r, size_t n, const struct ip_range *x)
{
	for (size_t i = 0; i < n; i++)
		if (x->start >= r[i].start && x->end <= r[i].end) return true;
	return false;
}

/* No static route or routing protocol leads to the calling router's networks. */
static bool routes_missing(const struct demand_dial *d, const struct attempt *a)
{
	if (d->routing) return false;
	if (!a->nnetworks) return d->nroutes == 0;
	for (size_t i = 0; i < a->nnetworks; i++)
		if (!ranges_cover(d->routes, d->nroutes, &a->networks[i])) return true;
	return false;
}

/* ---- facts ---------------------------------------------------------------------------- */
/* The facts of docs/facts.md beyond the decision: the server's ports and IPsec, RADIUS,
 * the directory, the network around the server, the router role and the traffic. */
static void emit_more_facts(const struct config *c, const struct attempt *a,
                            const struct policy_result *r, struct facts *f)
{
	const struct server *sv = &c->server;
	char where[200], key[200];
	struct evidence e;
#define AEV(k) (a->pointer && a->pointer[0] \
                ? (snprintf(where, sizeof where, "%s/%s", a->pointer, k), ev_input(a->file, where)) \
                : ev_input(a->file, "/" k))
	if (a->automatic) {
		e = AEV("tunnel");
		facts_add_str(f, "attempt.tunnel_requested", "automatic", &e);
	}
	snprintf(key, sizeof key, "server.ports.%s", tunnel_names[a->tunnel]);
	e = ev_config(key);
	facts_add_int(f, "server.ports.configured", sv->ports[a->tunnel], &e);
	if (sv->ports[a->tunnel]) {
		snprintf(key, sizeof key, "server.ports_inbound.%s", tunnel_names[a->tunnel]);
		e = ev_config(key);
		facts_add_bool(f, "server.ports.inbound", sv->ports_inbound[a->tunnel], &e);
	}
	e = AEV("l2tp_psk");
	facts_add_bool(f, "client.l2tp_psk", a->l2tp_psk != NULL, &e);
	if (a->ping_fails >= 0) {
		e = AEV("ping_fails");
		facts_add_bool(f, "client.ping_fails", a->ping_fails == 1, &e);
	}
	if (a->computer_name) {
		bool clash = false;
		for (size_t i = 0; i < c->ncomputer_names; i++)
			clash |= strcasecmp(c->computer_names[i], a->computer_name) == 0;
		e = AEV("computer_name");
		facts_add_bool(f, "client.name_conflict", clash, &e);
	}
	if ((a->protocols | sv->lan_mask) & (1u << LAN_IPX)) {
		if (a->protocols & (1u << LAN_IPX)) {
			e = AEV("request_ipx_node");
			facts_add_bool(f, "attempt.ipx_node_requested", a->request_ipx_node, &e);
		}
		e = ev_config("server.ipx.client_node_allowed");
		facts_add_bool(f, "server.ipx.client_node_allowed", sv->ipx_client_node, &e);
		if (sv->has_ipx_networks) {
			e = ev_config("server.ipx.network_from");
			facts_add_bool(f, "server.ipx.network_conflict", policy_ipx_network_conflict(c),
			               &e);
		}
	}
	e = AEV("router");
	facts_add_bool(f, "attempt.router", a->router, &e);
	const struct demand_dial *d = router_iface(c, a);
	if (a->router) {
		e = d ? ev_config(d->path) : ev_config("demand_dial");
		facts_add_bool(f, "router.user_matches_interface", d != NULL, &e);
	}
	if (d) {
		snprintf(key, sizeof key, "%s.protocols", d->path);
		e = ev_config(key);
		facts_add_bool(f, "router.interface_in_protocol",
		               (a->protocols & d->lan_mask) == a->protocols, &e);
		snprintf(key, sizeof key, "%s.routes", d->path);
		e = ev_config(key);
		facts_add_bool(f, "router.routes_missing", routes_missing(d, a), &e);
	}
	bool profile_drops = false, iface_drops = false;
	for (size_t i = 0; i < r->nsteps; i++)
		if (r->steps[i].kind == ST_TRAFFIC && r->steps[i].verdict == V_FAIL) {
			if (r->steps[i].aux >> 16 == 1) profile_drops = true;
			else iface_drops = true;
		}
	if (d && a->ntraffic) {
		snprintf(key, sizeof key, "%s.filters", d->path);
		e = ev_config(key);
		facts_add_bool(f, "router.filters_block", iface_drops, &e);
	}
	if (r->policy >= 0) {
		const struct policy *p = &c->policies[r->policy];
		snprintf(key, sizeof key, "%s.profile.filters", p->path);
		e = ev_config(key);
		facts_add_bool(f, "profile.ip_filters",
		               p->profile.nfilters_in + p->profile.nfilters_out > 0, &e);
		if (r->accept && a->ntraffic) {
			e = AEV("traffic");
			facts_add_bool(f, "session.data_flows", !profile_drops && !iface_drops, &e);
		}
	}
#undef AEV
}

static void emit_facts(const struct config *c, const struct attempt *a,
                       const struct policy_result *r, struct facts *f)
{
	char where[200];
	const struct server *sv = &c->server;
	const struct user *u = r->user;
	struct evidence none = ev_none();
	/* evidence of an attempt field: its JSON pointer (no formatting for a lone attempt) */
#define AEV(key) (a->pointer && a->pointer[0] \
                  ? (snprintf(where, sizeof where, "%s/%s", a->pointer, key), ev_input(a->file, where)) \
                  : ev_input(a->file, "/" key))
	struct evidence e;
	facts_add_str(f, "source", "policy", &none);
	facts_add_str(f, "policy.decision", r->accept ? "accept" : "reject", &none);
	facts_add_str(f, "policy.reason", policy_reasons[r->reason].code, &none);
	facts_add_int(f, "policy.error", r->error, &none);
	facts_add_int(f, "policy.nps_reason", r->nps_reason, &none);
	facts_add_int(f, "policy.count", (int64_t)c->npolicies, &none);
	if (r->policy >= 0) {
		const struct policy *p = &c->policies[r->policy];
		e = ev_config(p->path);
		facts_add_str(f, "policy.name", p->name, &e);
		facts_add_str(f, "policy.permission", p->grant ? "grant" : "deny", &e);
		char key[200];
		snprintf(key, sizeof key, "%s.profile.auth_methods", p->path);
		e = ev_config(key);
		for (int i = 0; i < AUTH_N; i++)
			if (p->profile.auth_mask >> i & 1)
				facts_add_str(f, "profile.auth_methods", auth_method_names[i], &e);
		snprintf(key, sizeof key, "%s.profile.encryption", p->path);
		e = ev_config(key);
		for (int i = 0; i < ENC_N; i++)
			if (p->profile.enc_mask >> i & 1)
				facts_add_str(f, "profile.encryption", enc_level_names[i], &e);
	}
	e = AEV("user");
	facts_add_str(f, "user.name", a->user_name ? a->user_name : "", &e);
	facts_add_bool(f, "user.known", u != NULL, &e);
	if (u) {
		e = ev_config(u->path);
		facts_add_str(f, "user.dialin", dialin_names[u->dialin], &e);
		facts_add_bool(f, "user.disabled", u->disabled, &e);
		facts_add_bool(f, "user.locked", u->locked, &e);
		facts_add_bool(f, "user.password_expired", u->password_expired, &e);
	}
	e = AEV("tunnel");
	facts_add_str(f, "attempt.tunnel", tunnel_names[a->tunnel], &e);
	e = AEV("auth");
	facts_add_str(f, "attempt.auth", auth_method_names[a->auth], &e);
	if (a->eap_type >= 0) {
		e = AEV("eap_type");
		facts_add_str(f, "attempt.eap_type", eap_type_names[a->eap_type], &e);
	}
	e = AEV("encryption");
	facts_add_str(f, "attempt.encryption", enc_level_names[a->encryption], &e);
	e = AEV("nas_port_type");
	facts_add_str(f, "attempt.nas_port_type", nas_port_type_names[a->nas_port_type], &e);
	e = AEV("links");
	facts_add_int(f, "attempt.links", a->links, &e);
	static const char *const port_keys[TUN_N] = {"server.ports.pptp", "server.ports.l2tp",
		"server.ports.sstp", "server.ports.ikev2"};
	e = ev_config(port_keys[a->tunnel]);
	facts_add_int(f, "server.ports.free", sv->ports[a->tunnel] - sv->ports_in_use[a->tunnel], &e);
	policy_server_facts(c, f);
	emit_more_facts(c, a, r, f);
#undef AEV
}

/* ---- the evaluation ----------------------------------------------------------------------- */
static void profile_checks(struct ev *e, size_t pi, bool ignore_dialin)
{
	const struct config *c = e->c;
	const struct attempt *a = e->a;
	const struct server *sv = &c->server;
	const struct policy *p = &c->policies[pi];
	const struct profile *pr = &p->profile;
	struct policy_result *r = e->r;
	int P = (int)pi;

	if (pr->day_time && !week_grid_has(pr->day_time, a->minute_of_week))
		fail(e, ST_PROFILE_DAY_TIME, R_DAY_TIME, P, 0);
	else
		step(e, ST_PROFILE_DAY_TIME, pr->day_time ? V_PASS : V_SKIP, P, -1, 0);

	uint32_t both = pr->auth_mask & sv->auth_mask;
	if (!(both >> a->auth & 1))
		fail(e, ST_PROFILE_AUTH, R_AUTH_METHOD, P, 0);
	else
		step(e, ST_PROFILE_AUTH, V_PASS, P, -1, 0);

	if (a->auth == AUTH_EAP) {
		uint32_t eb = pr->eap_mask & sv->eap_mask;
		if (a->eap_type < 0 || !(eb >> a->eap_type & 1))
			fail(e, ST_PROFILE_EAP, R_EAP_TYPE, P, 0);
		else
			step(e, ST_PROFILE_EAP, V_PASS, P, -1, 0);
	} else if ((pr->auth_mask & (1u << AUTH_EAP)) && pr->eap_mask &&
	           !(pr->eap_mask & sv->eap_mask)) {
		/* a configuration conflict even when this attempt did not use EAP */
		step(e, ST_PROFILE_EAP, V_INFO, P, -1, 1);
	}

	if (pr->called_station_id) {
		bool ok = a->called_station_id && pr->called_re &&
		          re_search(pr->called_re, a->called_station_id, r->match_data);
		if (!ok) fail(e, ST_PROFILE_CALLED, R_CALLED_STATION, P, 0);
		else step(e, ST_PROFILE_CALLED, V_PASS, P, -1, 0);
	}
	if (pr->nas_port_mask) {
		if (!(pr->nas_port_mask >> a->nas_port_type & 1))
			fail(e, ST_PROFILE_PORT_TYPE, R_NAS_PORT_TYPE, P, 0);
		else
			step(e, ST_PROFILE_PORT_TYPE, V_PASS, P, -1, 0);
	}
	if (pr->tunnel_mask) {
		if (!(pr->tunnel_mask >> a->tunnel & 1))
			fail(e, ST_PROFILE_TUNNEL, R_TUNNEL_TYPE, P, 0);
		else
			step(e, ST_PROFILE_TUNNEL, V_PASS, P, -1, 0);
	}

	/* encryption: what the client negotiates must be allowed by the profile and server */
	uint32_t enc = pr->enc_mask & sv->enc_mask;
	if (!(enc >> a->encryption & 1)) {
		int err = policy_encryption_error(enc, a->encryption);
		bool first = !e->decided;
		fail(e, ST_ENCRYPTION, R_ENCRYPTION, P, err);
		if (first) r->error = err;
	} else {
		step(e, ST_ENCRYPTION, V_PASS, P, -1, 0);
	}

	/* multilink and BAP: profile against server and against the attempt */
	int ml = 0; /* aux: which rule failed */
	enum policy_reason mlr = R_MULTILINK;
	if (pr->multilink == ML_ALLOW && !sv->multilink) ml = 1;
	else if (pr->multilink == ML_DENY && a->links > 1) ml = 2;
	else if (pr->multilink == ML_SERVER && a->links > 1 && !sv->multilink) ml = 3;
	else if (pr->multilink == ML_ALLOW && pr->multilink_max_ports &&
	         a->links > pr->multilink_max_ports) ml = 4, mlr = R_PORT_LIMIT;
	if (ml) fail(e, ST_MULTILINK, mlr, P, ml);
	else step(e, ST_MULTILINK, a->links > 1 || pr->multilink != ML_SERVER ? V_PASS : V_SKIP, P,
	          -1, 0);
	if (pr->bap_required && !sv->bap) fail(e, ST_BAP, R_BAP, P, 1);
	else if (pr->bap_required && a->links > 1 && !a->bap) fail(e, ST_BAP, R_BAP, P, 2);
	else step(e, ST_BAP, pr->bap_required ? V_PASS : V_SKIP, P, -1, 0);

	if ((a->protocols & sv->lan_mask) != a->protocols) fail(e, ST_LAN, R_LAN_PROTOCOL, P, 0);
	else if ((a->protocols & (1u << LAN_IPX)) && a->request_ipx_node && !sv->ipx_client_node)
		fail(e, ST_LAN, R_LAN_PROTOCOL, P, 1); /* IPXCP refuses the client's node number */
	else step(e, ST_LAN, V_PASS, P, -1, 0);

	/* the address */
	const struct user *u = e->u;
	if (u && u->has_static_ip && !ignore_dialin) {
		if (!in_ranges(u->static_ip, sv->pool, sv->npool) &&
		    !in_ranges(u->static_ip, sv->routes, sv->nroutes)) {
			fail(e, ST_ADDRESS, R_STATIC_IP_UNROUTABLE, P, AK_STATIC);
		} else {
			step(e, ST_ADDRESS, V_PASS, P, -1, AK_STATIC);
			r->has_address = true;
			r->address = u->static_ip;
		}
	} else if (a->has_requested_ip) {
		bool allowed = pr->ip_assignment == IPA_CLIENT_MAY_REQUEST ||
		               (pr->ip_assignment == IPA_SERVER && sv->allow_requested_ip);
		if (!allowed || (!in_ranges(a->requested_ip, sv->pool, sv->npool) &&
		                 !in_ranges(a->requested_ip, sv->routes, sv->nroutes))) {
			fail(e, ST_ADDRESS, R_REQUESTED_ADDRESS, P, AK_REQUESTED);
		} else {
			step(e, ST_ADDRESS, V_PASS, P, -1, AK_REQUESTED);
			r->has_address = true;
			r->address = a->requested_ip;
		}
	} else if (sv->addr_assign == ADDR_POOL) {
		if (policy_pool_free(sv) <= 0) {
			fail(e, ST_ADDRESS, R_POOL_EXHAUSTED, P, AK_POOL);
		} else {
			step(e, ST_ADDRESS, V_PASS, P, -1, AK_POOL);
			r->has_address = true;
			r->address = pool_nth(sv, 1 + (uint64_t)sv->addresses_in_use);
		}
	} else if (!sv->dhcp_reachable) {
		step(e, ST_ADDRESS, V_INFO, P, -1, AK_APIPA);
		r->address_apipa = true;
	} else if (sv->dhcp_free <= 0) {
		fail(e, ST_ADDRESS, R_POOL_EXHAUSTED, P, AK_DHCP);
	} else {
		step(e, ST_ADDRESS, V_PASS, P, -1, AK_DHCP);
		r->address_dhcp = true;
	}
}

/* Once accepted, the packets the client sends: the profile's input filters, and for a
 * router its demand-dial interface's. Recorded, never deciding: the connection is up. */
static void traffic_checks(struct ev *e)
{
	const struct attempt *a = e->a;
	const struct profile *pr = &e->c->policies[e->r->policy].profile;
	const struct demand_dial *d = router_iface(e->c, a);
	for (size_t i = 0; i < a->ntraffic; i++) {
		const struct traffic *t = &a->traffic[i];
		int rule = -1;
		int by = 0;
		if (!ipfilter_decide(&pr->fin, t->proto, t->addr, t->port, &rule)) by = 1;
		else if (d && !ipfilter_decide(&d->fin, t->proto, t->addr, t->port, &rule)) by = 2;
		else rule = -1;
		step(e, ST_TRAFFIC, by ? V_FAIL : V_PASS, e->r->policy, rule, (int)i | by << 16);
	}
}

int policy_encryption_error(uint32_t allowed, enum enc_level level)
{
	/* which side lacks it decides the client's message (inferred) */
	int hi = -1, lo = -1;
	for (int i = 0; i < ENC_N; i++)
		if (allowed >> i & 1) {
			if (lo < 0) lo = i;
			hi = i;
		}
	if (allowed && level == ENC_NONE) return 743;
	if (allowed && (int)level < lo) return 741;
	if (allowed && (int)level > hi) return 742;
	return 742;
}

int policy_evaluate(const struct config *c, const struct attempt *a, struct policy_result *r,
                    struct facts *facts)
{
	const struct server *sv = &c->server;
	struct attempt view;
	struct ev e = {.c = c, .a = a, .r = r};
	r->tunnel = a->tunnel;
	r->nsteps = 0;
	r->accept = false;
	r->reason = R_ACCEPTED;
	r->error = r->nps_reason = 0;
	r->policy = -1;
	r->has_address = r->address_dhcp = r->address_apipa = false;
	r->address = 0;
	r->idle_timeout = r->session_timeout = 0;
	r->encryption = a->encryption;
	r->links = a->links;
	if (r->nslots) memset(r->re_cache, 0, r->nslots);
	e.u = a->inline_user ? a->inline_user : config_find_user(c, a->user_name);
	r->user = e.u;

	/* 1. the server answers at all, and has a port for the tunnel type */
	if (!sv->service_running) {
		fail(&e, ST_SERVICE, R_SERVICE_STOPPED, -1, 0);
		goto done;
	}
	step(&e, ST_SERVICE, V_PASS, -1, -1, 0);
	if (!sv->remote_access_enabled) {
		fail(&e, ST_REMOTE_ACCESS, R_REMOTE_ACCESS_DISABLED, -1, 0);
		goto done;
	}
	step(&e, ST_REMOTE_ACCESS, V_PASS, -1, -1, 0);
	if (a->automatic) {
		/* the client tries the types in its order and stays with the first the server
		 * takes; when none works it shows error 800 (the last type's failure is traced) */
		enum tunnel_type order[TUN_N];
		int n = attempt_automatic_order(a->client_os, order), detail = 0, k;
		enum policy_reason why = R_NO_PORTS;
		for (k = 0; k < n; k++) {
			why = transport_check(sv, a, order[k], &detail);
			r->tunnel = order[k];
			step(&e, ST_TUNNEL, why == R_ACCEPTED ? V_PASS : V_FAIL, -1, k,
			     (int)order[k] | (int)why << 8 | detail << 16);
			if (why == R_ACCEPTED) break;
		}
		view = *a;
		view.tunnel = r->tunnel;
		a = e.a = &view;
		if (k == n) {
			fail(&e, ST_TUNNEL, why, -1, (int)r->tunnel | (int)why << 8 | detail << 16 | 1 << 24);
			r->error = 800;
			goto done;
		}
	}
	int freep = sv->ports[a->tunnel] - sv->ports_in_use[a->tunnel];
	if (sv->ports[a->tunnel] == 0) {
		fail(&e, ST_PORTS, R_NO_PORTS, -1, 0);
		goto done;
	}
	if (!sv->ports_inbound[a->tunnel]) {
		fail(&e, ST_PORTS, R_NO_PORTS, -1, 1);
		goto done;
	}
	if (freep <= 0) {
		fail(&e, ST_PORTS, R_PORTS_EXHAUSTED, -1, 0);
		goto done;
	}
	step(&e, ST_PORTS, V_PASS, -1, -1, freep);
	if (a->tunnel == TUN_L2TP) {
		enum ipsec_why iw = ipsec_check(sv, a);
		if (iw) {
			fail(&e, ST_IPSEC, R_IPSEC, -1, (int)iw);
			goto done;
		}
		step(&e, ST_IPSEC, V_PASS, -1, -1, sv->l2tp_psk ? 1 : 0);
	}
	/* 2. PPP: the client's authentication method must be enabled on the server */
	if (!(sv->auth_mask >> a->auth & 1)) {
		fail(&e, ST_AUTH_SERVER, R_AUTH_METHOD, -1, 0);
		goto done;
	}
	step(&e, ST_AUTH_SERVER, V_PASS, -1, -1, 0);
	if (sv->auth_provider == PROV_RADIUS) {
		if (!sv->nradius) {
			fail(&e, ST_RADIUS, R_NO_RADIUS, -1, 0);
			goto done;
		}
		step(&e, ST_RADIUS, V_PASS, -1, -1, (int)sv->nradius);
	}
	/* 3. authentication: the account (before any policy is consulted) */
	if (!e.u) {
		fail(&e, ST_USER, R_UNKNOWN_USER, -1, 0);
		goto done;
	}
	step(&e, ST_USER, V_PASS, -1, -1, a->inline_user ? 1 : 0);
	if (sv->auth_provider == PROV_WINDOWS) {
		/* the server reads the account's dial-in properties from the domain */
		int dir = !sv->ad_registered ? 1 : sv->os == OS_NT4 && !c->pre2000_everyone ? 2 : 0;
		if (dir) {
			fail(&e, ST_DIRECTORY, R_ACCOUNT_UNREADABLE, -1, dir);
			goto done;
		}
		if (sv->os == OS_NT4) step(&e, ST_DIRECTORY, V_PASS, -1, -1, 0);
	}
	if (e.u->locked) {
		fail(&e, ST_LOCKED, R_ACCOUNT_LOCKED, -1, 0);
		goto done;
	}
	step(&e, ST_LOCKED, V_PASS, -1, -1, 0);
	if (a->cred_failed != ATTEMPT_CRED_CHECK) {
		fail(&e, ST_CREDENTIALS, R_BAD_CREDENTIALS, -1, a->cred_failed == ATTEMPT_CRED_UNCHECKED);
		goto done;
	} else if (!a->password) {
		step(&e, ST_CREDENTIALS, V_SKIP, -1, -1, 0);
	} else if (!e.u->password) {
		/* a password nobody can check is no password that passes: vnet serve refuses
		 * it the same way */
		fail(&e, ST_CREDENTIALS, R_BAD_CREDENTIALS, -1, 1);
		goto done;
	} else if (!secret_text_equal(a->password, e.u->password)) {
		fail(&e, ST_CREDENTIALS, R_BAD_CREDENTIALS, -1, 0);
		goto done;
	} else {
		step(&e, ST_CREDENTIALS, V_PASS, -1, -1, 0);
	}
	if (e.u->disabled) {
		fail(&e, ST_DISABLED, R_ACCOUNT_DISABLED, -1, 0);
		goto done;
	}
	step(&e, ST_DISABLED, V_PASS, -1, -1, 0);
	if (e.u->password_expired) {
		fail(&e, ST_PASSWORD_EXPIRED, R_PASSWORD_EXPIRED, -1, 0);
		goto done;
	}
	step(&e, ST_PASSWORD_EXPIRED, V_PASS, -1, -1, 0);
	if (e.u->logon_hours && !week_grid_has(e.u->logon_hours, a->minute_of_week)) {
		fail(&e, ST_LOGON_HOURS, R_LOGON_HOURS, -1, 0);
		goto done;
	}
	step(&e, ST_LOGON_HOURS, e.u->logon_hours ? V_PASS : V_SKIP, -1, -1, 0);

	/* 4. the ordered policies: the first whose conditions all hold decides */
	if (c->npolicies == 0) {
		fail(&e, ST_POLICY, R_NO_POLICIES, -1, 0);
		goto done;
	}
	size_t pi;
	if (!r->full_trace) {
		/* decision only: visit just the policies whose group condition can hold */
		for (size_t w = 0; w < r->pol_words; w++) r->cand[w] = c->pol_nogroup[w];
		if (e.u->closure)
			for (size_t w = 0; w < c->group_words; w++)
				for (uint64_t bits = e.u->closure[w]; bits; bits &= bits - 1) {
					size_t g = w * 64 + (size_t)__builtin_ctzll(bits);
					if (g >= c->ngroups) break;
					const uint64_t *gp = &c->group_pol[g * c->pol_words];
					for (size_t k = 0; k < r->pol_words; k++) r->cand[k] |= gp[k];
				}
		for (pi = 0; pi < c->npolicies; pi++) {
			uint64_t word = r->cand[pi / 64] >> (pi % 64);
			if (!word) {
				pi = (pi / 64 + 1) * 64 - 1; /* nothing left in this word */
				continue;
			}
			pi += (size_t)__builtin_ctzll(word);
			if (pi >= c->npolicies) break;
			if (policy_matches(&e, pi)) {
				step(&e, ST_POLICY, V_PASS, (int)pi, -1, 1);
				break;
			}
		}
		if (pi > c->npolicies) pi = c->npolicies;
	} else
	for (pi = 0; pi < c->npolicies; pi++) {
		if (!c->policies[pi].enabled) {
			step(&e, ST_POLICY, V_SKIP, (int)pi, -1, 2);
			continue;
		}
		struct policy_step *ps = step(&e, ST_POLICY, V_FAIL, (int)pi, -1, 0);
		size_t at = ps ? (size_t)(ps - r->steps) : 0;
		if (policy_matches(&e, pi)) {
			if (ps) r->steps[at].verdict = V_PASS, r->steps[at].aux = 1;
			break;
		}
	}
	if (pi == c->npolicies) {
		fail(&e, ST_POLICY, R_NO_MATCHING_POLICY, -1, 0);
		goto done;
	}
	r->policy = (int)pi;
	const struct policy *p = &c->policies[pi];

	/* 5. permission */
	bool ignore = p->profile.ignore_user_dialin;
	int perm = (int)e.u->dialin | (p->grant ? 4 : 0) | (ignore ? 8 : 0);
	if (ignore ? !p->grant : e.u->dialin == DIALIN_DENY ||
	             (e.u->dialin == DIALIN_POLICY && !p->grant)) {
		enum policy_reason why = !ignore && e.u->dialin == DIALIN_DENY ? R_NO_DIALIN_PERMISSION
		                                                                 : R_POLICY_DENY;
		fail(&e, ST_PERMISSION, why, (int)pi, perm);
		goto done;
	}
	step(&e, ST_PERMISSION, V_PASS, (int)pi, -1, perm);

	/* 6. the user's own dial-in constraints, unless the policy ignores them */
	if (e.u->caller_id && !ignore) {
		if (!a->calling_station_id || strcasecmp(a->calling_station_id, e.u->caller_id) != 0)
			fail(&e, ST_CALLER_ID, R_CALLING_STATION, (int)pi, 0);
		else
			step(&e, ST_CALLER_ID, V_PASS, (int)pi, -1, 0);
	} else if (e.u->caller_id) {
		step(&e, ST_CALLER_ID, V_SKIP, (int)pi, -1, 1);
	}

	/* 7. the profile's constraints and its conflicts with the server; every check is
	 * recorded, the first failure decides */
	profile_checks(&e, pi, ignore);
	if (!e.decided) {
		decide(&e, R_ACCEPTED);
		r->idle_timeout = p->profile.idle_timeout;
		r->session_timeout = p->profile.session_timeout;
		traffic_checks(&e);
	}

done:
	if (r->trace_after && r->policy >= 0) {
		e.after = true;
		for (size_t k = (size_t)r->policy + 1; k < c->npolicies; k++) {
			if (!c->policies[k].enabled) continue;
			struct policy_step *ps = step(&e, ST_POLICY, V_FAIL, (int)k, -1, 0);
			size_t at = ps ? (size_t)(ps - r->steps) : 0;
			if (policy_matches(&e, k) && ps) r->steps[at].verdict = V_PASS, r->steps[at].aux = 1;
		}
	}
	if (!e.decided) decide(&e, R_ACCEPTED);
	if (a->router) {
		/* a calling router: is it connected as a router, and can traffic be routed? */
		const struct demand_dial *d = router_iface(c, a);
		int aux = !d ? 0 : 1 | ((a->protocols & d->lan_mask) == a->protocols) << 1 |
		                   routes_missing(d, a) << 2;
		step(&e, ST_ROUTER, d && (aux & 2) && !(aux & 4) ? V_PASS : V_INFO, -1,
		     d ? (int)(d - c->dd) : -1, aux);
	}
	if (facts) emit_facts(c, a, r, facts);
	return r->accept ? 0 : 1;
}

/* ---- rendering ------------------------------------------------------------------------------ */
/* copy s into d (size n > 0), cut as snprintf("%s") cuts */
static void scpy(char *d, size_t n, const char *s)
{
	size_t l = strlen(s);
	if (l >= n) l = n - 1;
	memcpy(d, s, l);
	d[l] = 0;
}

/* parts[0..n) after buf[*o] (bufsz > *o): true and *o moved on when all fit; else what
 * fits is written, *o stays, false (as snprintf cuts) */
static bool append(char *buf, size_t bufsz, size_t *o, const char *const *parts, int n)
{
	size_t p = *o;
	for (int i = 0; i < n; i++) {
		const char *s = parts[i] ? parts[i] : "(null)";
		size_t l = strlen(s);
		if (p + l >= bufsz) {
			memcpy(buf + p, s, bufsz - 1 - p);
			buf[bufsz - 1] = 0;
			return false;
		}
		memcpy(buf + p, s, l);
		p += l;
	}
	buf[p] = 0;
	*o = p;
	return true;
}

/* a, b and c one after another into d (size n > 0), cut as snprintf cuts */
static void join3(char *d, size_t n, const char *a, const char *b, const char *c)
{
	size_t o = 0;
	const char *part[3] = {a, b, c};
	for (int i = 0; i < 3 && o + 1 < n; i++) {
		size_t l = strlen(part[i]);
		if (l > n - 1 - o) l = n - 1 - o;
		memcpy(d + o, part[i], l);
		o += l;
	}
	d[o] = 0;
}

const char *policy_attr_value(const struct config *c, const struct attempt *a,
                              enum cond_attr attr, char *buf, size_t bufsz)
{
	switch (attr) {
	case CA_WINDOWS_GROUPS: {
		const struct user *u = a->inline_user ? a->inline_user
		                                      : config_find_user(c, a->user_name);
		size_t o = 0;
		buf[0] = 0;
		if (u && u->closure)
			for (size_t w = 0; w < c->group_words; w++)
				for (uint64_t bits = u->closure[w]; bits; bits &= bits - 1) {
					size_t g = w * 64 + (size_t)__builtin_ctzll(bits);
					if (g >= c->ngroups) break;
					size_t l = strlen(c->groups[g].name), sep = o ? 2 : 0;
					if (o + sep + l >= bufsz) { /* what fits, and no more names */
						join3(buf + o, bufsz - o, o ? ", " : "", c->groups[g].name, "");
						goto groups_done;
					}
					memcpy(buf + o, ", ", sep);
					memcpy(buf + o + sep, c->groups[g].name, l + 1);
					o += sep + l;
				}
	groups_done:
		if (!o) scpy(buf, bufsz, "(no groups)");
		return buf;
	}
	case CA_DAY_AND_TIME: { /* "Mon 10:00 (2026-11-23T10:00)" */
		static const char *const d[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
		unsigned m = a->minute_of_week, h = m % 1440 / 60, mi = m % 60;
		char hm[12] = {' ', (char)('0' + h / 10 % 10), (char)('0' + h % 10), ':',
		               (char)('0' + mi / 10), (char)('0' + mi % 10), ' ', '(', 0};
		char day[4];
		memcpy(day, d[m / 1440 % 7], 4);
		join3(buf, bufsz, day, hm, a->time_text);
		size_t o = strlen(buf);
		if (o + 1 < bufsz) memcpy(buf + o, ")", 2);
		return buf;
	}
	case CA_NAS_PORT_TYPE: return nas_port_type_names[a->nas_port_type];
	case CA_TUNNEL_TYPE: return tunnel_names[a->tunnel];
	case CA_FRAMED_PROTOCOL:
		return a->framed_protocol >= 0 ? framed_proto_names[a->framed_protocol] : "(absent)";
	case CA_SERVICE_TYPE: return service_type_names[a->service_type];
	case CA_AUTHENTICATION_TYPE: return auth_method_names[a->auth];
	default: {
		const char *v = attr_str(a, attr);
		return v ? v : "(absent)";
	}
	}
}

static const char *cond_expect(const struct condition *cd, char *buf, size_t bufsz)
{
	const char *t = cd->text ? cd->text : "";
	if (cd->is_pattern) join3(buf, bufsz, "matches /", t, "/");
	else if (cd->attr == CA_WINDOWS_GROUPS) join3(buf, bufsz, "member of ", t, "");
	else if (cd->attr == CA_DAY_AND_TIME) join3(buf, bufsz, "within ", t, "");
	else if (cd->mask && strchr(t, ',')) join3(buf, bufsz, "one of ", t, "");
	else scpy(buf, bufsz, t);
	return buf;
}

void policy_step_text(const struct config *c, const struct attempt *a,
                      const struct policy_step *s, struct step_text *o)
{
	const struct server *sv = &c->server;
	const struct policy *p = s->policy >= 0 ? &c->policies[s->policy] : NULL;
	/* the account, for the steps about it (a lookup per step costs in long traces) */
	const struct user *u = NULL;
	switch ((enum step_kind)s->kind) {
	case ST_USER: case ST_LOCKED: case ST_CREDENTIALS: case ST_DISABLED:
	case ST_PASSWORD_EXPIRED: case ST_LOGON_HOURS: case ST_CALLER_ID: case ST_ADDRESS:
		u = a->inline_user ? a->inline_user : config_find_user(c, a->user_name);
		break;
	default:
		break;
	}
	bool ok = s->verdict == V_PASS;
	char b1[256], b2[256];
	o->expected[0] = o->actual[0] = o->note[0] = o->where[0] = 0;
	o->check = "?";
	o->fixed = false;
#define E(...) snprintf(o->expected, sizeof o->expected, __VA_ARGS__)
#define A(...) snprintf(o->actual, sizeof o->actual, __VA_ARGS__)
#define N(...) snprintf(o->note, sizeof o->note, __VA_ARGS__)
#define W(...) snprintf(o->where, sizeof o->where, __VA_ARGS__)
#define ES(str) scpy(o->expected, sizeof o->expected, (str))
#define AS(str) scpy(o->actual, sizeof o->actual, (str))
#define NS(str) scpy(o->note, sizeof o->note, (str))
#define WS(str) scpy(o->where, sizeof o->where, (str))
	switch ((enum step_kind)s->kind) {
	case ST_SERVICE:
		o->check = "service";
		ES("running");
		AS(sv->service_running ? "running" : "stopped");
		WS("server.service_running");
		NS(ok ? "the Routing and Remote Access service is running"
		           : "the Routing and Remote Access service is stopped: nothing answers the call");
		break;
	case ST_REMOTE_ACCESS:
		o->check = "remote access";
		ES("enabled");
		AS(sv->remote_access_enabled ? "enabled" : "disabled");
		WS("server.remote_access_enabled");
		NS(ok ? "the server is enabled as a remote access server"
		           : "the server is not enabled as a remote access server (router only)");
		break;
	case ST_PORTS:
		o->check = "ports";
		E("a free %s port", tunnel_names[a->tunnel]);
		A("%d of %d in use", sv->ports_in_use[a->tunnel], sv->ports[a->tunnel]);
		W("server.ports.%s", tunnel_names[a->tunnel]);
		if (ok) N("%d %s port(s) free", s->aux, tunnel_names[a->tunnel]);
		else if (s->reason == R_NO_PORTS && s->aux == 1) {
			A("%d, not inbound", sv->ports[a->tunnel]);
			W("server.ports_inbound.%s", tunnel_names[a->tunnel]);
			N("the %s ports are not enabled for inbound remote access (demand-dial or "
			  "outbound only), so the call is refused", tunnel_names[a->tunnel]);
		} else if (s->reason == R_NO_PORTS)
			N("the server has no %s ports configured, so it does not accept this tunnel type",
			  tunnel_names[a->tunnel]);
		else N("all %d %s ports are in use", sv->ports[a->tunnel], tunnel_names[a->tunnel]);
		break;
	case ST_AUTH_SERVER:
		o->check = "server authentication methods";
		E("one of %s", mask_str(auth_method_names, sv->auth_mask, b1, sizeof b1));
		AS(auth_method_names[a->auth]);
		WS("server.auth_methods");
		NS(ok ? "the server has the client's authentication method enabled"
		           : "the server does not enable the client's authentication method, so PPP "
		             "cannot agree on one");
		break;
	case ST_USER:
		o->check = "user";
		ES("a known account");
		AS(a->user_name ? a->user_name : "(none)");
		if (u) WS(u->path);
		NS(!ok ? "no account with this name" : s->aux ? "account given inline in the attempt"
		                                                    : "account found");
		break;
	case ST_LOCKED:
		o->check = "account lockout";
		ES("not locked");
		AS(u && u->locked ? "locked" : "not locked");
		if (u) W("%s.locked", u->path);
		NS(ok ? "the account is not locked out" : "the account is locked out");
		break;
	case ST_CREDENTIALS:
		o->check = "credentials";
		ES("the account's password");
		AS(a->cred_failed == ATTEMPT_CRED_UNCHECKED ? "credentials the server could not check"
		   : a->password || a->cred_failed ? "a password" : "(no password given)");
		if (u) W("%s.password", u->path);
		if (s->verdict == V_SKIP)
			NS("not checked: the attempt gives no password");
		else if (s->verdict == V_FAIL && s->aux)
			N("%s", "the server could not check the password: it has none it can use for "
			        "this account");
		else
			NS(ok ? "the password matches" : "the password does not match");
		break;
	case ST_DISABLED:
		o->check = "account enabled";
		ES("enabled");
		AS(u && u->disabled ? "disabled" : "enabled");
		if (u) W("%s.disabled", u->path);
		NS(ok ? "the account is enabled" : "the account is disabled");
		break;
	case ST_PASSWORD_EXPIRED:
		o->check = "password age";
		ES("not expired");
		AS(u && u->password_expired ? "expired" : "valid");
		if (u) W("%s.password_expired", u->path);
		NS(ok ? "the password has not expired" : "the password has expired");
		break;
	case ST_LOGON_HOURS:
		o->check = "logon hours";
		if (u && u->logon_hours) ES(week_grid_str(u->logon_hours, b1, sizeof b1));
		else ES("any time");
		AS(policy_attr_value(c, a, CA_DAY_AND_TIME, b2, sizeof b2));
		if (u) W("%s.logon_hours", u->path);
		NS(s->verdict == V_SKIP ? "the account has no logon-hour restriction"
		        : ok ? "within the account's logon hours" : "outside the account's logon hours");
		break;
	case ST_POLICY: /* from the configuration and the step only */
		o->fixed = true;
		o->check = p ? "policy" : "policies";
		if (!p) {
			ES("a policy");
			AS(c->npolicies ? "none matched" : "no policies configured");
			WS("policies");
			NS(c->npolicies ? "no policy matched: the attempt is rejected whatever the "
			                       "user's dial-in setting"
			                     : "with no policies every attempt is rejected");
			break;
		}
		ES("all conditions hold");
		AS(s->aux == 2 ? "disabled" : ok ? "all hold" : "a condition fails");
		WS(p->path);
		N("%s \"%s\"%s", s->aux == 2 ? "skipped disabled policy" : ok ? "matched policy"
		                                                              : "policy does not match:",
		  p->name, "");
		break;
	case ST_COND: { /* only the actual value comes from the attempt */
		const struct condition *cd = &p->conds[s->cond];
		o->fixed = true;
		o->check = cd->attr < CA_N ? cond_attr_names[cd->attr] : "?";
		cond_expect(cd, o->expected, sizeof o->expected);
		AS(policy_attr_value(c, a, cd->attr, b1, sizeof b1));
		WS(cd->path);
		NS(ok ? "holds" : "does not hold");
		break;
	}
	case ST_PERMISSION: {
		int dial = s->aux & 3;
		bool grant = s->aux & 4, ign = s->aux & 8;
		o->check = "permission";
		ES("access granted");
		A("user %s, policy %s%s", dial == DIALIN_ALLOW ? "Allow access" : dial == DIALIN_DENY
		                          ? "Deny access" : "Control access through policy",
		  grant ? "grant" : "deny", ign ? ", user dial-in ignored" : "");
		W("%s.permission", p ? p->path : "policies");
		if (ign)
			N("the profile ignores the user's dial-in properties, so the policy's permission "
			  "decides: %s", grant ? "granted" : "denied");
		else if (dial == DIALIN_DENY)
			NS("the user account is set to Deny access, which always wins");
		else if (dial == DIALIN_ALLOW)
			N("the user account is set to Allow access, which grants access whatever the "
			  "policy's permission (%s)", grant ? "grant" : "deny");
		else
			N("the user account defers to the policy, whose permission is %s",
			  grant ? "grant" : "deny");
		break;
	}
	case ST_CALLER_ID:
		o->check = "caller ID";
		ES(u && u->caller_id ? u->caller_id : "");
		AS(a->calling_station_id ? a->calling_station_id : "(absent)");
		if (u) W("%s.caller_id", u->path);
		NS(s->verdict == V_SKIP ? "the account's caller ID is ignored by the profile"
		        : ok ? "the caller ID matches the account's" : "the client calls from another "
		                                                        "number or address than the account allows");
		break;
	case ST_PROFILE_DAY_TIME:
		o->check = "profile day and time";
		if (p->profile.day_time) ES(week_grid_str(p->profile.day_time, b1, sizeof b1));
		else ES("any time");
		AS(policy_attr_value(c, a, CA_DAY_AND_TIME, b2, sizeof b2));
		W("%s.profile.day_time", p->path);
		NS(s->verdict == V_SKIP ? "no day and time restriction" : ok ? "allowed at this time"
		        : "the profile does not allow connections at this time");
		break;
	case ST_PROFILE_AUTH: {
		uint32_t both = p->profile.auth_mask & sv->auth_mask;
		o->check = "authentication method";
		E("one of %s", mask_str(auth_method_names, both, b1, sizeof b1));
		AS(auth_method_names[a->auth]);
		W("%s.profile.auth_methods", p->path);
		if (ok) NS("allowed by the profile and enabled on the server");
		else if (!both)
			N("conflict: the profile allows only %s, none of which the server enables (%s)",
			  mask_str(auth_method_names, p->profile.auth_mask, b1, sizeof b1),
			  mask_str(auth_method_names, sv->auth_mask, b2, sizeof b2));
		else
			N("the profile allows %s; the client used %s",
			  mask_str(auth_method_names, p->profile.auth_mask, b1, sizeof b1),
			  auth_method_names[a->auth]);
		break;
	}
	case ST_PROFILE_EAP: {
		uint32_t eb = p->profile.eap_mask & sv->eap_mask;
		o->check = "EAP type";
		E("one of %s", mask_str(eap_type_names, eb, b1, sizeof b1));
		AS(a->eap_type >= 0 ? eap_type_names[a->eap_type] : "(not EAP)");
		W("%s.profile.eap_types", p->path);
		if (ok) NS("allowed by the profile and enabled on the server");
		else if (!eb)
			N("conflict: the profile requires EAP type %s but the server enables only %s",
			  mask_str(eap_type_names, p->profile.eap_mask, b1, sizeof b1),
			  mask_str(eap_type_names, sv->eap_mask, b2, sizeof b2));
		else if (a->eap_type >= 0 && (p->profile.eap_mask >> a->eap_type & 1))
			N("the profile allows %s but the server does not enable it", eap_type_names[a->eap_type]);
		else
			NS("the profile does not allow this EAP type");
		break;
	}
	case ST_PROFILE_CALLED:
		o->check = "profile Called-Station-Id";
		E("matches /%s/", p->profile.called_station_id);
		AS(a->called_station_id ? a->called_station_id : "(absent)");
		W("%s.profile.called_station_id", p->path);
		NS(ok ? "the dialled number/address is allowed"
		           : "the profile allows access only through another number or address");
		break;
	case ST_PROFILE_PORT_TYPE:
		o->check = "profile NAS-Port-Type";
		E("one of %s", mask_str(nas_port_type_names, p->profile.nas_port_mask, b1, sizeof b1));
		AS(nas_port_type_names[a->nas_port_type]);
		W("%s.profile.nas_port_types", p->path);
		NS(ok ? "the medium is allowed" : "the profile does not allow this medium");
		break;
	case ST_PROFILE_TUNNEL:
		o->check = "profile tunnel type";
		E("one of %s", mask_str(tunnel_names, p->profile.tunnel_mask, b1, sizeof b1));
		AS(tunnel_names[a->tunnel]);
		W("%s.profile.tunnel_types", p->path);
		NS(ok ? "the tunnel type is allowed" : "the profile does not allow this tunnel type");
		break;
	case ST_ENCRYPTION: {
		uint32_t enc = p->profile.enc_mask & sv->enc_mask;
		o->check = "encryption";
		E("one of %s", mask_str(enc_level_names, enc, b1, sizeof b1));
		AS(enc_level_names[a->encryption]);
		W("%s.profile.encryption", p->path);
		if (ok) NS("the level is allowed by the profile and the server");
		else if (!enc)
			N("conflict: the profile allows %s, the server %s: no level in common",
			  mask_str(enc_level_names, p->profile.enc_mask, b1, sizeof b1),
			  mask_str(enc_level_names, sv->enc_mask, b2, sizeof b2));
		else if (s->aux == 743) NS("the client negotiates no encryption but the server requires it");
		else if (s->aux == 741) NS("the client's level is weaker than any the server allows");
		else NS("the client requires a level the server does not allow");
		break;
	}
	case ST_MULTILINK:
		o->check = "multilink";
		E("%s%s", multilink_names[p->profile.multilink],
		  p->profile.multilink == ML_ALLOW && p->profile.multilink_max_ports ? " (max ports)" : "");
		if (p->profile.multilink_max_ports)
			snprintf(o->expected, sizeof o->expected, "%s, at most %d ports",
			         multilink_names[p->profile.multilink], p->profile.multilink_max_ports);
		A("%d link(s); server multilink %s", a->links, sv->multilink ? "on" : "off");
		W("%s.profile.multilink", p->path);
		switch (s->aux) {
		case 1: NS("conflict: the profile allows multilink but the server has it turned off"); break;
		case 2: N("the profile does not allow multilink; the client uses %d links", a->links); break;
		case 3: N("the server does not allow multilink; the client uses %d links", a->links); break;
		case 4: N("the client uses %d links, more than the profile's %d", a->links,
		          p->profile.multilink_max_ports); break;
		default: NS(s->verdict == V_SKIP ? "single link, server settings apply"
		                                      : "multilink settings agree"); break;
		}
		break;
	case ST_BAP:
		o->check = "BAP";
		ES(p->profile.bap_required ? "required" : "not required");
		A("server BAP %s, client BAP %s", sv->bap ? "on" : "off", a->bap ? "on" : "off");
		W("%s.profile.bap_required", p->path);
		NS(s->aux == 1 ? "conflict: the profile requires BAP but the server has it turned off"
		        : s->aux == 2 ? "the profile requires BAP for multilink and the client does not use it"
		        : s->verdict == V_SKIP ? "BAP not required" : "BAP settings agree");
		break;
	case ST_LAN:
		o->check = "LAN protocols";
		ES(mask_str(lan_proto_names, sv->lan_mask, b1, sizeof b1));
		AS(mask_str(lan_proto_names, a->protocols, b2, sizeof b2));
		WS("server.lan_protocols");
		if (s->aux == 1) {
			WS("server.ipx.client_node_allowed");
			NS("the client asks for its own IPX node number, which the server does not allow");
			break;
		}
		NS(ok ? "every protocol the client needs is enabled for remote access"
		           : "a protocol the client needs is not enabled for remote access");
		break;
	case ST_ADDRESS:
		o->check = "address";
		switch (s->aux) {
		case AK_STATIC:
			ES("an address the server can route");
			A("static %s", u ? ipv4_str(u->static_ip, b1, sizeof b1) : "?");
			W("%s.static_ip", u ? u->path : "users");
			NS(ok ? "the account's static address is routable"
			           : "the account's static address is outside the pool and every route of "
			             "the server");
			break;
		case AK_REQUESTED:
			ES(p->profile.ip_assignment == IPA_CLIENT_MAY_REQUEST ||
			        (p->profile.ip_assignment == IPA_SERVER && sv->allow_requested_ip)
			        ? "a requested address the server can route" : "the server assigns the address");
			A("requested %s", ipv4_str(a->requested_ip, b1, sizeof b1));
			W("%s.profile.ip_assignment", p->path);
			NS(ok ? "the requested address is accepted"
			           : "the server does not accept this requested address");
			break;
		case AK_POOL: {
			int64_t f = policy_pool_free(sv);
			ES("a free pool address");
			A("%lld free of %llu (first address kept by the server)", (long long)f,
			  (unsigned long long)pool_size(sv));
			WS("server.pool");
			NS(ok ? "an address from the static pool" : "the static pool is exhausted");
			break;
		}
		case AK_DHCP:
			ES("a DHCP lease");
			A("%d free", sv->dhcp_free);
			WS("server.dhcp");
			NS(ok ? "an address leased from DHCP" : "the DHCP scope has no free address");
			break;
		case AK_APIPA:
			ES("a DHCP lease");
			AS("DHCP server unreachable");
			WS("server.dhcp.reachable");
			N("no DHCP server: the client gets an automatic private address (169.254.x.x) and "
			  "cannot reach the network");
			break;
		}
		break;
	case ST_TUNNEL: {
		enum tunnel_type t = (enum tunnel_type)(s->aux & 0xFF);
		int why = s->aux >> 8 & 0xFF, detail = s->aux >> 16 & 0xFF;
		bool summary = s->aux >> 24 & 1;
		static const char *const os_order[] = {"Windows XP: l2tp, pptp",
			"Windows Vista: pptp, l2tp, sstp", "Windows 7 and later: ikev2, sstp, pptp, l2tp"};
		const char *order = os_order[a->client_os >= 0 && a->client_os < 3 ? a->client_os : 2];
		o->check = "automatic tunnel type";
		E("a type the server takes");
		if (summary) A("none");
		else A("%s (try %d)", tunnel_names[t], s->cond + 1);
		W("server.ports.%s", tunnel_names[t]);
		if (summary)
			N("no tunnel type works (the client's order, %s): it gives up with error 800 "
			  "after %s", order, tunnel_names[t]);
		else if (ok)
			N("the client ends on %s (its order, %s): the server has a free inbound port%s",
			  tunnel_names[t], order, t == TUN_L2TP ? " and IPsec authenticates" : "");
		else if (why == R_NO_PORTS && detail == 1)
			N("%s is tried and refused: its ports are not enabled for inbound calls",
			  tunnel_names[t]);
		else if (why == R_NO_PORTS)
			N("%s is tried and refused: the server has no %s ports", tunnel_names[t],
			  tunnel_names[t]);
		else if (why == R_PORTS_EXHAUSTED)
			N("%s is tried and refused: all %d ports are in use", tunnel_names[t], sv->ports[t]);
		else {
			N("%s is tried and fails in IPsec: %s", tunnel_names[t],
			  detail == IPS_PSK_NOT_ON_SERVER ? "the client uses a pre-shared key, the server "
			                                    "certificates"
			  : detail == IPS_PSK_DIFFERS ? "the pre-shared keys differ"
			                              : "the server uses a pre-shared key, the client a "
			                                "certificate");
			W("server.l2tp_psk");
		}
		break;
	}
	case ST_IPSEC:
		o->check = "IPsec authentication";
		E("%s", sv->l2tp_psk ? "the server's pre-shared key" : "computer certificates");
		A("%s", a->l2tp_psk ? "a pre-shared key" : "the client's computer certificate");
		W("server.l2tp_psk");
		if (ok)
			N("%s", s->aux ? "both ends use the same pre-shared key"
			               : "certificates on both ends (vnet cert pick checks the server's)");
		else if (s->aux == IPS_PSK_NOT_ON_SERVER)
			N("the client offers a pre-shared key but the server has no custom IPsec policy "
			  "for L2TP, so it accepts certificates only");
		else if (s->aux == IPS_PSK_DIFFERS)
			N("the client's pre-shared key differs from the server's");
		else
			N("the server authenticates L2TP/IPsec with a pre-shared key but the client is "
			  "not set up with one");
		break;
	case ST_RADIUS:
		o->check = "RADIUS servers";
		E("at least one");
		A("%zu", sv->nradius);
		W("server.radius.servers");
		N("%s", ok ? "the server forwards authentication to RADIUS"
		           : "the authentication provider is RADIUS but no RADIUS server is configured");
		break;
	case ST_DIRECTORY:
		o->check = "directory access";
		E("dial-in properties readable");
		A("%s", s->aux == 1 ? "not in RAS and IAS Servers" : s->aux == 2
		        ? "NT 4.0 server, Everyone not in Pre-Windows 2000 Compatible Access"
		        : "readable");
		W("%s", s->aux == 2 ? "domain.pre2000_everyone" : "server.ad_registered");
		N("%s", s->aux == 1 ? "the server is not registered in the domain (RAS and IAS "
		                      "Servers group), so it cannot read the account's dial-in "
		                      "properties"
		        : s->aux == 2 ? "a Windows NT 4.0 server reads accounts anonymously, which the "
		                        "domain does not allow"
		        : "the server can read the account's dial-in properties");
		break;
	case ST_TRAFFIC: {
		size_t i = (size_t)(s->aux & 0xFFFF);
		int by = s->aux >> 16;
		const struct traffic *t = i < a->ntraffic ? &a->traffic[i] : NULL;
		const struct demand_dial *d = router_iface(c, a);
		o->check = "traffic";
		E("passes the filters");
		A("%s", t ? t->text : "?");
		if (by == 2 && d) W("%s.filters.input[%d]", d->path, s->cond);
		else if (p && s->cond >= 0) W("%s.profile.filters.input[%d]", p->path, s->cond);
		else if (p) W("%s.profile.filters.input", p->path);
		const char *pk = t ? t->text : "the packet";
		if (ok)
			N("%s passes", pk);
		else if (s->cond >= 0)
			N("%s is dropped by the %s input filter rule \"%s\"", pk,
			  by == 2 ? "demand-dial interface's" : "profile's",
			  by == 2 && d ? d->filters_in[s->cond] : p->profile.filters_in[s->cond]);
		else
			N("%s is dropped: the %s input filters pass only what they list", pk,
			  by == 2 ? "demand-dial interface's" : "profile's");
		break;
	}
	case ST_ROUTER: {
		const struct demand_dial *d = s->cond >= 0 ? &c->dd[s->cond] : NULL;
		o->check = "demand-dial interface";
		E("an interface named like the caller");
		A("%s", d ? d->name : "(none)");
		W("%s", d ? d->path : "demand_dial");
		if (!d)
			N("no demand-dial interface is named %s: the calling router is connected as a "
			  "remote access client and no routes are bound to it",
			  a->user_name ? a->user_name : "(none)");
		else if (!(s->aux & 2))
			N("the interface is not added to the routed protocol (IPv4 in Routing and Remote "
			  "Access)");
		else if (s->aux & 4)
			N("no static route over the interface and no routing protocol reach the caller's "
			  "networks");
		else
			N("the interface is added to IP and routes lead over it");
		break;
	}
	case ST_N:
		break;
	}
#undef E
#undef A
#undef N
#undef W
#undef ES
#undef AS
#undef NS
#undef WS
}

const char *policy_near_miss_at(const struct config *c, const struct attempt *a,
                                const struct policy_result *r, size_t at, char *buf,
                                size_t bufsz)
{
	size_t o = 0;
	buf[0] = 0;
	if (at >= r->nsteps || r->steps[at].kind != ST_POLICY || r->steps[at].policy < 0)
		return buf;
	int policy = r->steps[at].policy;
	char exp[256], act[256];
	/* the policy's conditions follow its step */
	for (size_t i = at + 1; i < r->nsteps; i++) {
		const struct policy_step *s = &r->steps[i];
		if (s->kind != ST_COND || s->policy != policy) break;
		if (s->verdict != V_FAIL) continue;
		const struct condition *cd = &c->policies[policy].conds[s->cond];
		cond_expect(cd, exp, sizeof exp);
		const char *v = policy_attr_value(c, a, cd->attr, act, sizeof act);
		const char *sep = o ? ", and " : "";
		bool fits;
		if (cd->attr == CA_WINDOWS_GROUPS) {
			const char *pp[] = {sep, "the user were a member of ", cd->text, "; the user is in ", v};
			fits = append(buf, bufsz, &o, pp, 5);
		} else if (cd->attr == CA_DAY_AND_TIME) {
			const char *pp[] = {sep, "the attempt were made ", exp, "; it was made ", v};
			fits = append(buf, bufsz, &o, pp, 5);
		} else {
			const char *pp[] = {sep, cond_attr_names[cd->attr], cd->is_pattern ? " matched " : " were ",
			                    cd->is_pattern ? exp + 8 : exp, "; the attempt had ", v};
			fits = append(buf, bufsz, &o, pp, 6);
		}
		if (!fits) break;
	}
	return buf;
}

const char *policy_near_miss(const struct config *c, const struct attempt *a,
                             const struct policy_result *r, size_t policy, char *buf,
                             size_t bufsz)
{
	buf[0] = 0;
	for (size_t i = 0; i < r->nsteps; i++)
		if (r->steps[i].kind == ST_POLICY && r->steps[i].policy == (int)policy)
			return policy_near_miss_at(c, a, r, i, buf, bufsz);
	return buf;
}
