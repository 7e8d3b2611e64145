/* The facts of a server's settings that do not depend on the attempt, shared by
 * `policy test` (policy_evaluate's facts) and `policy check` (policy/check.c). */
#include "policy/policy.h"

bool policy_ipx_network_conflict(const struct config *c)
{
	const struct server *sv = &c->server;
	bool clash = false;
	for (size_t i = 0; sv->has_ipx_networks && i < c->nipx_networks; i++)
		clash |= c->ipx_networks[i] >= sv->ipx_net_from && c->ipx_networks[i] <= sv->ipx_net_to;
	return clash;
}

void policy_server_facts(const struct config *c, struct facts *f)
{
	const struct server *sv = &c->server;
	struct evidence e;
	e = ev_config("server.remote_access_enabled");
	facts_add_bool(f, "server.remote_access_enabled", sv->remote_access_enabled, &e);
	e = ev_config("server.service_running");
	facts_add_bool(f, "server.service_running", sv->service_running, &e);
	e = ev_config("server.auth_methods");
	for (int i = 0; i < AUTH_N; i++)
		if (sv->auth_mask >> i & 1)
			facts_add_str(f, "server.auth_methods", auth_method_names[i], &e);
	e = ev_config("server.multilink");
	facts_add_bool(f, "server.multilink", sv->multilink, &e);
	e = ev_config("server.bap");
	facts_add_bool(f, "server.bap", sv->bap, &e);
	e = ev_config("server.address_assignment");
	facts_add_str(f, "server.address_assignment", sv->addr_assign == ADDR_POOL ? "pool" : "dhcp",
	              &e);
	if (sv->addr_assign == ADDR_POOL) {
		e = ev_config("server.pool");
		facts_add_int(f, "server.pool.free", policy_pool_free(sv), &e);
	}
	e = ev_config("server.l2tp_psk");
	facts_add_bool(f, "server.l2tp_psk", sv->l2tp_psk != NULL, &e);
	e = ev_config("server.auth_provider");
	facts_add_str(f, "server.auth_provider", sv->auth_provider == PROV_RADIUS ? "radius"
	                                                                          : "windows", &e);
	if (sv->auth_provider == PROV_RADIUS) {
		e = ev_config("server.radius.servers");
		facts_add_int(f, "server.radius.servers", (int64_t)sv->nradius, &e);
	}
	e = ev_config("server.ad_registered");
	facts_add_bool(f, "server.ad_registered", sv->ad_registered, &e);
	e = ev_config("server.os");
	facts_add_str(f, "server.os", server_os_names[sv->os], &e);
	e = ev_config("domain.pre2000_everyone");
	facts_add_bool(f, "domain.pre2000_everyone", c->pre2000_everyone, &e);
	e = ev_config("server.internet_filters");
	facts_add_bool(f, "server.icmp_filtered", sv->internet_filters, &e);
}
