/* `vnet policy check`: what is wrong with a configuration before any attempt is made.
 *
 * policy_check_config finds policies that can never be used, profiles that conflict
 * with the server, address pools that overlap the server's addresses, accounts `vnet
 * serve` cannot log in, and what the server refuses whatever the attempt. Findings that
 * decide attempts carry the `policy.reason` they get; policy_check_facts turns the
 * configuration and those findings into facts for the knowledge base, so the rules
 * explain a configuration as they explain an attempt.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include "policy/check.h"
#include "ppp/ppp_auth.h"
#include "radius/client.h"

__attribute__((format(printf, 5, 6)))
static void find_add(struct policy_findings *f, int reason, const char *pointer,
                     const char *path, const char *fmt, ...)
{
	if (f->n == f->cap) {
		size_t nc = f->cap ? f->cap * 2 : 16;
		struct policy_finding *nv = realloc(f->v, nc * sizeof *nv);
		if (!nv) return;
		f->v = nv;
		f->cap = nc;
	}
	struct policy_finding *x = &f->v[f->n++];
	x->reason = reason;
	snprintf(x->pointer, sizeof x->pointer, "%s", pointer);
	snprintf(x->path, sizeof x->path, "%s", path);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->msg, sizeof x->msg, fmt, ap);
	va_end(ap);
}

static bool grid_subset(const struct week_grid *a, const struct week_grid *b)
{
	for (size_t i = 0; i < sizeof a->bits; i++)
		if (a->bits[i] & ~b->bits[i]) return false;
	return true;
}

static bool grid_full(const struct week_grid *g)
{
	for (size_t i = 0; i < sizeof g->bits; i++)
		if (g->bits[i] != 0xFF) return false;
	return true;
}

/* Does condition `ci` hold for every attempt that satisfies all conditions of `pj`? */
static bool cond_implied(const struct config *c, const struct condition *ci,
                         const struct policy *pj)
{
	if (ci->attr == CA_DAY_AND_TIME && ci->grid && grid_full(ci->grid)) return true;
	for (size_t k = 0; k < pj->nconds; k++) {
		const struct condition *cj = &pj->conds[k];
		if (cj->attr != ci->attr) continue;
		switch (ci->attr) {
		case CA_WINDOWS_GROUPS: {
			/* every group cj accepts must lead (through nesting) into one ci accepts */
			bool all = true;
			uint64_t *cl = calloc(c->group_words, sizeof *cl);
			if (!cl) return false;
			for (size_t g = 0; g < cj->ngroups && all; g++) {
				config_group_closure(c, &cj->groups[g], 1, cl);
				bool hit = false;
				for (size_t h = 0; h < ci->ngroups; h++)
					if (cl[ci->groups[h] / 64] >> (ci->groups[h] % 64) & 1) hit = true;
				all = hit;
			}
			free(cl);
			if (all) return true;
			break;
		}
		case CA_DAY_AND_TIME:
			if (ci->grid && cj->grid && grid_subset(cj->grid, ci->grid)) return true;
			break;
		case CA_NAS_PORT_TYPE:
		case CA_TUNNEL_TYPE:
		case CA_FRAMED_PROTOCOL:
		case CA_SERVICE_TYPE:
		case CA_AUTHENTICATION_TYPE:
			if (!(cj->mask & ~ci->mask)) return true;
			break;
		default:
			if (ci->is_pattern == cj->is_pattern && ci->text && cj->text &&
			    (ci->is_pattern ? strcmp(ci->text, cj->text) : strcasecmp(ci->text, cj->text)) == 0)
				return true;
			break;
		}
	}
	return false;
}

/* The RADIUS sections: what `vnet serve` could not use, or uses other than meant. */
static void check_radius(const struct config *c, struct policy_findings *f)
{
	const struct server *sv = &c->server;
	char ptr[128], path[200];
	if (sv->auth_provider != PROV_RADIUS && sv->nradius)
		find_add(f, -1, "/server/radius", "server.radius", "%zu RADIUS server%s listed, but "
		         "auth_provider is windows: none is asked", sv->nradius,
		         sv->nradius == 1 ? "" : "s");
	if (sv->nradius > RADC_MAX_SERVERS)
		find_add(f, -1, "/server/radius/servers", "server.radius.servers", "%zu servers: `vnet "
		         "serve` asks at most %d", sv->nradius, RADC_MAX_SERVERS);
	/* the servers are sorted by priority: their paths say where each was written */
	for (size_t i = 0; i < sv->nradius; i++) {
		const struct radius_server *r = &sv->radius[i];
		snprintf(path, sizeof path, "%s", r->path);
		snprintf(ptr, sizeof ptr, "/server/radius/servers/%s", strrchr(r->path, '[') + 1);
		ptr[strlen(ptr) - 1] = 0;
		if (!r->secret)
			find_add(f, -1, ptr, path, "no secret: `vnet serve` cannot ask this server and "
			         "refuses to start");
		else if (strlen(r->secret) < 16)
			find_add(f, -1, ptr, path, "a shared secret of %zu bytes: one captured exchange lets "
			         "it be guessed offline (NPS suggests 22 characters or more)",
			         strlen(r->secret));
		for (size_t k = 0; k < i; k++)
			if (r->address && sv->radius[k].address &&
			    strcmp(r->address, sv->radius[k].address) == 0 && r->port == sv->radius[k].port)
				find_add(f, -1, ptr, path, "the same address and port as %s: it is asked twice",
				         sv->radius[k].path);
	}
	const struct serve_conf *sc = &c->serve;
	for (size_t i = 0; i < sc->nnps_clients; i++) {
		const struct nps_client *k = &sc->nps_clients[i];
		snprintf(ptr, sizeof ptr, "/serve/radius_server/clients/%zu", i);
		if (k->secret && strlen(k->secret) < 16)
			find_add(f, -1, ptr, k->path, "a shared secret of %zu bytes: one captured exchange "
			         "lets it be guessed offline (NPS suggests 22 characters or more)",
			         strlen(k->secret));
		for (size_t j = 0; j < i; j++) {
			const struct nps_client *o = &sc->nps_clients[j];
			bool overlap = k->family == AF_INET && o->family == AF_INET
			               ? k->net.start <= o->net.end && o->net.start <= k->net.end
			               : k->family == AF_INET6 && o->family == AF_INET6 &&
			                 memcmp(k->addr6, o->addr6, 16) == 0;
			if (overlap)
				find_add(f, -1, ptr, k->path, "its addresses overlap those of %s (\"%s\"), which "
				         "comes first: a request from them is answered with that client's "
				         "secret", o->path, o->name);
		}
	}
}

void policy_check_config(const struct config *c, struct policy_findings *f)
{
	const struct server *sv = &c->server;
	char ptr[128], b1[256], b2[256], ip[20];
	/* what the server refuses whatever the attempt */
	if (!sv->service_running)
		find_add(f, R_SERVICE_STOPPED, "/server/service_running", "server.service_running",
		         "the Routing and Remote Access service is stopped: every connection attempt "
		         "is refused (service-stopped)");
	if (!sv->remote_access_enabled)
		find_add(f, R_REMOTE_ACCESS_DISABLED, "/server/remote_access_enabled",
		         "server.remote_access_enabled", "the server is not enabled as a remote "
		         "access server: every connection attempt is refused (remote-access-disabled)");
	if (sv->auth_provider == PROV_RADIUS && !sv->nradius)
		find_add(f, R_NO_RADIUS, "/server/auth_provider", "server.auth_provider",
		         "RADIUS authentication without a RADIUS server: every connection attempt "
		         "fails (no-radius-server)");
	if (!c->npolicies)
		find_add(f, R_NO_POLICIES, "/policies", "policies", "no policies: every connection attempt is rejected");
	for (size_t j = 0; j < c->npolicies; j++) {
		const struct policy *pj = &c->policies[j];
		if (!pj->enabled) continue;
		snprintf(ptr, sizeof ptr, "/policies/%zu", j);
		for (size_t i = 0; i < j; i++) {
			const struct policy *pi = &c->policies[i];
			if (!pi->enabled) continue;
			bool all = true;
			for (size_t k = 0; k < pi->nconds && all; k++)
				all = cond_implied(c, &pi->conds[k], pj);
			if (all) {
				find_add(f, -1, ptr, pj->path, "unreachable: policy \"%s\" (%s) matches every "
				         "attempt that policy \"%s\" matches, so it is never used", pi->name,
				         pi->path, pj->name);
				break;
			}
		}
	}
	for (size_t j = 0; j < c->npolicies; j++) {
		const struct policy *p = &c->policies[j];
		const struct profile *pr = &p->profile;
		char path[200], pp[64];
		snprintf(pp, sizeof pp, "/policies/%zu/profile", j);
		snprintf(path, sizeof path, "%s.profile", p->path);
#define AT(key) (snprintf(ptr, sizeof ptr, "%s/%s", pp, key), ptr)
		if (!(pr->auth_mask & sv->auth_mask))
			find_add(f, R_AUTH_METHOD, AT("auth_methods"), path, "auth_methods: the profile allows %s but the server enables "
			         "only %s: every attempt matching \"%s\" is rejected (auth-method-conflict)",
			         mask_str(auth_method_names, pr->auth_mask, b1, sizeof b1),
			         mask_str(auth_method_names, sv->auth_mask, b2, sizeof b2), p->name);
		if ((pr->auth_mask & sv->auth_mask & (1u << AUTH_EAP)) && pr->eap_mask &&
		    !(pr->eap_mask & sv->eap_mask))
			find_add(f, R_EAP_TYPE, AT("eap_types"), path, "eap_types: the profile requires EAP type %s but the server "
			         "enables only %s (eap-type-conflict)",
			         mask_str(eap_type_names, pr->eap_mask, b1, sizeof b1),
			         mask_str(eap_type_names, sv->eap_mask, b2, sizeof b2));
		if (!(pr->enc_mask & sv->enc_mask))
			find_add(f, R_ENCRYPTION, AT("encryption"), path, "encryption: the profile allows %s but the server only %s: "
			         "no level in common (encryption-conflict)",
			         mask_str(enc_level_names, pr->enc_mask, b1, sizeof b1),
			         mask_str(enc_level_names, sv->enc_mask, b2, sizeof b2));
		if (pr->multilink == ML_ALLOW && !sv->multilink)
			find_add(f, R_MULTILINK, AT("multilink"), path, "multilink: the profile allows multilink but the server has "
			         "it turned off (multilink-conflict)");
		if (pr->bap_required && !sv->bap)
			find_add(f, R_BAP, AT("bap_required"), path, "bap_required: the profile requires BAP but the server has it "
			         "turned off (bap-conflict)");
	}
#undef AT
	/* address pools */
	for (size_t i = 0; i < sv->npool; i++) {
		snprintf(ptr, sizeof ptr, "/server/pool/%zu", i);
		char path[64];
		snprintf(path, sizeof path, "server.pool[%zu]", i);
		for (size_t k = 0; k < sv->naddresses; k++)
			if (sv->addresses[k] >= sv->pool[i].start && sv->addresses[k] <= sv->pool[i].end)
				find_add(f, -1, ptr, path, "the range contains the server's own address %s",
				         ipv4_str(sv->addresses[k], ip, sizeof ip));
		for (size_t k = 0; k < i; k++)
			if (sv->pool[k].start <= sv->pool[i].end && sv->pool[i].start <= sv->pool[k].end)
				find_add(f, -1, ptr, path, "the range overlaps server.pool[%zu]", k);
	}
	for (int t = 0; t < TUN_N; t++)
		if (sv->ports[t]) goto has_ports;
	find_add(f, R_NO_PORTS, "/server/ports", "server.ports", "no ports for any tunnel type: the server "
	         "accepts no VPN connection");
has_ports:
	/* accounts `vnet serve` (an L2TP server) cannot carry or check; the limits of
	 * engine/ppp/ppp_auth.h that remain are refused at load */
	for (size_t u = 0; u < c->nusers && sv->ports[TUN_L2TP] > 0; u++) {
		const struct user *us = &c->users[u];
		char path[200];
		size_t nl = strlen(us->name);
		if (nl > PPP_PAP_FIELD_MAX && (sv->auth_mask >> AUTH_PAP & 1)) {
			snprintf(ptr, sizeof ptr, "/users/%zu/name", u);
			snprintf(path, sizeof path, "%s.name", us->path);
			find_add(f, -1, ptr, path, "the name is %zu bytes long and PAP carries at most %d: "
			         "this user cannot log in with PAP (CHAP and MS-CHAPv2 carry names of up "
			         "to %d bytes)", nl, PPP_PAP_FIELD_MAX, PPP_AUTH_USER_MAX);
		}
		if (!us->password) {
			snprintf(ptr, sizeof ptr, "/users/%zu", u);
			find_add(f, -1, ptr, us->path, "no password: `vnet serve` cannot check this user's "
			         "credentials and refuses every attempt (691); `vnet policy test` skips "
			         "the check");
		}
	}
	for (size_t u = 0; u < c->nusers; u++) {
		const struct user *us = &c->users[u];
		if (!us->has_static_ip) continue;
		snprintf(ptr, sizeof ptr, "/users/%zu/static_ip", u);
		char path[200];
		snprintf(path, sizeof path, "%s.static_ip", us->path);
		bool ok = false;
		for (size_t i = 0; i < sv->npool; i++)
			if (us->static_ip >= sv->pool[i].start && us->static_ip <= sv->pool[i].end) ok = true;
		for (size_t i = 0; i < sv->nroutes; i++)
			if (us->static_ip >= sv->routes[i].start && us->static_ip <= sv->routes[i].end) ok = true;
		if (!ok)
			find_add(f, R_STATIC_IP_UNROUTABLE, ptr, path, "%s is outside the pool and every route of the server "
			         "(static-ip-unroutable)", ipv4_str(us->static_ip, ip, sizeof ip));
		for (size_t k = 0; k < sv->naddresses; k++)
			if (sv->addresses[k] == us->static_ip)
				find_add(f, -1, ptr, path, "%s is one of the server's own addresses",
				         ipv4_str(us->static_ip, ip, sizeof ip));
	}
	check_radius(c, f);
}

void policy_findings_free(struct policy_findings *f)
{
	free(f->v);
	memset(f, 0, sizeof *f);
}

void policy_check_facts(const struct config *c, const struct policy_findings *fs,
                        struct facts *f)
{
	const struct server *sv = &c->server;
	struct evidence none = ev_none(), e;
	char key[200];
	facts_add_str(f, "source", "config", &none);
	facts_add_int(f, "policy.count", (int64_t)c->npolicies, &none);
	policy_server_facts(c, f);
	for (int t = 0; t < TUN_N; t++) {
		if (!sv->ports[t])
			continue;
		snprintf(key, sizeof key, "server.ports_inbound.%s", tunnel_names[t]);
		e = ev_config(key);
		facts_add_bool(f, "server.ports.inbound", sv->ports_inbound[t], &e);
	}
	if ((sv->lan_mask >> LAN_IPX & 1) && sv->has_ipx_networks) {
		e = ev_config("server.ipx.network_from");
		facts_add_bool(f, "server.ipx.network_conflict", policy_ipx_network_conflict(c), &e);
	}
	for (size_t i = 0; i < fs->n; i++) {
		if (fs->v[i].reason < 0)
			continue;
		e = ev_config(fs->v[i].path);
		facts_add_str(f, "policy.reason", policy_reasons[fs->v[i].reason].code, &e);
	}
}
