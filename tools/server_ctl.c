/* The control socket of `vnet serve` (server.h): one request line per connection,
 * answered with a status line ("ok", "no" or "error") and the body, then closed.
 *
 *   show sessions|tunnels|ports|pool|stats [json]
 *   disconnect ID|USER
 *
 * Each view is built once as JSON; the text form is rendered from that object, so the two
 * never disagree.
 *
 * The socket is only made where no other user can put one first or replace it: a
 * directory of this user or root that others cannot write to (or that is sticky), and
 * never over a socket of another user or over anything but a socket. The clients check
 * the other end (cmd_serve.c): a server of another user is not talked to.
 */
#include "server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>
#include <malloc.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_LINE_MAX 256

/* The path without --control and $VNET_CONTROL, in a directory of the user's own. */
static const char *ctl_builtin_path(char *buf, size_t n)
{
	const char *d = getenv("XDG_RUNTIME_DIR");
	if (geteuid() == 0) snprintf(buf, n, "/run/vnet/control.sock");
	else if (d && *d == '/') snprintf(buf, n, "%s/vnet/control.sock", d);
	else snprintf(buf, n, "/tmp/vnet-%u/control.sock", (unsigned)geteuid());
	return buf;
}

const char *srv_ctl_default_path(char *buf, size_t n)
{
	const char *e = getenv("VNET_CONTROL");
	if (e && *e) {
		snprintf(buf, n, "%s", e);
		return buf;
	}
	return ctl_builtin_path(buf, n);
}

const char *srv_uid_text(unsigned uid, char *buf, size_t n)
{
	struct passwd pw, *r = NULL;
	char tmp[1024];
	if (getpwuid_r((uid_t)uid, &pw, tmp, sizeof tmp, &r) == 0 && r)
		snprintf(buf, n, "uid %u (%s)", uid, r->pw_name);
	else
		snprintf(buf, n, "uid %u", uid);
	return buf;
}

/* ---- views -------------------------------------------------------------------------- */
static json_t *view_sessions(struct srv *s)
{
	json_t *arr = json_array();
	uint64_t now = srv_now_ms();
	for (unsigned i = 0; i < s->sess_cap; i++) {
		const struct ras_session *rs = s->sessions[i];
		if (!rs) continue;
		char ab[20], peer[80];
		unsigned ids[4] = {0, 0, 0, 0};
		bool has_ids = rs->ops->ids && rs->ops->ids(rs, ids);
		const char *client = rs->ops->peer_text(rs, peer, sizeof peer);
		json_t *o = json_object();
		json_object_set_new(o, "id", json_integer(rs->id));
		json_object_set_new(o, "user", srv_user_json(ras_session_user(rs)));
		json_object_set_new(o, "address", rs->addr ? json_string(ipv4_str(rs->addr, ab, sizeof ab))
		                                           : json_null());
		json_object_set_new(o, "client", client ? json_string(client) : json_null());
		json_object_set_new(o, "tunnel_type", json_string(tunnel_names[rs->ops->tunnel]));
		json_object_set_new(o, "tunnel", json_integer(has_ids ? ids[0] : 0));
		json_object_set_new(o, "session", json_integer(ids[2]));
		json_object_set_new(o, "method", rs->method ? json_string(ras_session_method_name(rs))
		                                            : json_null());
		json_object_set_new(o, "state", json_string(ras_session_show_state(rs)));
		json_object_set_new(o, "encryption", rs->flags & RAS_F_ENC_CHECKED
		                    ? json_string(enc_level_names[rs->enc_level]) : json_null());
		json_object_set_new(o, "policy", rs->policy >= 0 ? json_string(s->cfg->policies[rs->policy].name)
		                                                 : json_null());
		json_object_set_new(o, "uptime", json_integer((json_int_t)((now - (ras_session_was_up(rs) ? rs->up_ms : rs->start_ms)) / 1000)));
		json_object_set_new(o, "rx_bytes", json_integer((json_int_t)rs->rx_bytes));
		json_object_set_new(o, "tx_bytes", json_integer((json_int_t)rs->tx_bytes));
		json_object_set_new(o, "rx_packets", json_integer((json_int_t)rs->rx_pkts));
		json_object_set_new(o, "tx_packets", json_integer((json_int_t)rs->tx_pkts));
		json_object_set_new(o, "idle_timeout", json_integer(rs->idle_timeout));
		json_object_set_new(o, "session_timeout", json_integer(rs->session_timeout));
		json_array_append_new(arr, o);
	}
	json_t *r = json_object();
	json_object_set_new(r, "sessions", arr);
	return r;
}

static json_t *view_tunnels(struct srv *s)
{
	json_t *arr = json_array();
	uint64_t now = srv_now_ms();
	for (unsigned i = 1; i < 65536; i++) {
		const struct srv_l2tp_tunnel *t = s->tunnels[i];
		if (!t) continue;
		char peer[80];
		json_t *o = json_object();
		json_object_set_new(o, "id", json_integer(t->t.local_tid));
		json_object_set_new(o, "peer_id", json_integer(t->t.peer_tid));
		json_object_set_new(o, "peer", json_string(srv_peer_text(t, peer, sizeof peer)));
		json_object_set_new(o, "host", json_string(t->t.peer_host));
		json_object_set_new(o, "state", json_string(srv_tok(l2tp_tunnel_state_names, t->t.state)));
		json_object_set_new(o, "sessions", json_integer(l2tp_ctrl_active_calls(&t->t)));
		json_object_set_new(o, "age", json_integer((json_int_t)((now - t->created_ms) / 1000)));
		json_object_set_new(o, "rx", json_integer(t->t.st.rx));
		json_object_set_new(o, "tx", json_integer(t->t.st.tx));
		json_object_set_new(o, "retransmits", json_integer(t->t.st.retransmits));
		json_object_set_new(o, "duplicates", json_integer(t->t.st.duplicates));
		json_array_append_new(arr, o);
	}
	json_t *r = json_object();
	json_object_set_new(r, "tunnels", arr);
	/* PPTP control connections (server_pptp.c), when PPTP is served */
	json_t *st = srv_pptp_stats(s);
	if (!json_is_null(st)) json_object_set_new(r, "pptp_connections", srv_pptp_view(s));
	json_decref(st);
	return r;
}

static json_t *view_ports(struct srv *s)
{
	json_t *r = json_object(), *p = json_object(), *l = json_object();
	json_object_set_new(l, "total", json_integer(s->cfg->server.ports[TUN_L2TP]));
	json_object_set_new(l, "in_use", json_integer(s->l2tp_ports_used));
	json_object_set_new(l, "free", json_integer(s->cfg->server.ports[TUN_L2TP] - s->l2tp_ports_used));
	json_object_set_new(p, "l2tp", l);
	json_t *pst = srv_pptp_stats(s);
	if (!json_is_null(pst)) {
		json_t *t = json_object();
		json_object_set_new(t, "total", json_integer(s->cfg->server.ports[TUN_PPTP]));
		json_object_set_new(t, "in_use", json_integer(s->pptp_ports_used));
		json_object_set_new(t, "free", json_integer(s->cfg->server.ports[TUN_PPTP] - s->pptp_ports_used));
		json_object_set_new(p, "pptp", t);
	}
	json_decref(pst);
	if (s->ikev2) {
		json_t *t = json_object();
		json_object_set_new(t, "total", json_integer(s->cfg->server.ports[TUN_IKEV2]));
		json_object_set_new(t, "in_use", json_integer(s->ikev2_ports_used));
		json_object_set_new(t, "free", json_integer(s->cfg->server.ports[TUN_IKEV2] - s->ikev2_ports_used));
		json_object_set_new(p, "ikev2", t);
	}
	json_object_set_new(r, "ports", p);
	return r;
}

static json_t *view_pool(struct srv *s)
{
	char a[20], b[20];
	json_t *r = json_object(), *ranges = json_array(), *leases = json_array();
	for (size_t i = 0; i < s->pool.nranges; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "start", json_string(ipv4_str(s->pool.ranges[i].start, a, sizeof a)));
		json_object_set_new(o, "end", json_string(ipv4_str(s->pool.ranges[i].end, b, sizeof b)));
		json_array_append_new(ranges, o);
	}
	for (unsigned i = 0; i < s->sess_cap; i++) {
		const struct ras_session *rs = s->sessions[i];
		if (!rs || !rs->addr) continue;
		json_t *o = json_object();
		json_object_set_new(o, "address", json_string(ipv4_str(rs->addr, a, sizeof a)));
		json_object_set_new(o, "session", json_integer(rs->id));
		json_object_set_new(o, "user", srv_user_json(ras_session_user(rs)));
		json_object_set_new(o, "from_pool", json_boolean(rs->flags & RAS_F_POOL_ADDR));
		json_array_append_new(leases, o);
	}
	json_object_set_new(r, "ranges", ranges);
	json_object_set_new(r, "server_address", json_string(ipv4_str(s->local_addr, a, sizeof a)));
	json_object_set_new(r, "size", json_integer((json_int_t)s->pool.size));
	json_object_set_new(r, "in_use", json_integer((json_int_t)addr_pool_clients(&s->pool)));
	json_object_set_new(r, "free", json_integer((json_int_t)(s->pool.size - s->pool.used)));
	json_object_set_new(r, "leases", leases);
	json_t *w = json_object();
	json_object_set_new(w, "pool", r);
	return w;
}

/* `show ike`: the IKE SAs; `show sa`: their child SAs (ESP). */
static json_t *view_ike(struct srv *s, bool children)
{
	json_t *o = json_object();
	json_object_set_new(o, "ipsec", json_boolean(s->ike != NULL));
	json_object_set_new(o, "l2tp_ipsec", json_boolean(s->cfg->serve.ipsec));
	json_object_set_new(o, "ikev2", json_boolean(s->ikev2 != NULL));
	json_t *a = srv_ike_view(s, children);
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) json_object_set_new(e, "version", json_integer(1));
	srv_ikev2_view(s, children, a); /* server_ikev2.c */
	json_object_set_new(o, children ? "sa" : "ike", a);
	return o;
}

static json_t *view_stats(struct srv *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "uptime", json_integer((json_int_t)(time(NULL) - s->started)));
	json_object_set_new(o, "listen", json_string(s->local_text));
	json_object_set_new(o, "tunnels", json_integer(s->ntunnels));
	json_object_set_new(o, "half_open", json_integer(s->nhalf_open));
	json_object_set_new(o, "sessions", json_integer(s->nsessions));
	unsigned up = 0;
	for (unsigned i = 0; i < s->sess_cap; i++)
		if (s->sessions[i] && ras_session_was_up(s->sessions[i])) up++;
	json_object_set_new(o, "sessions_up", json_integer(up));
#define C(f) json_object_set_new(o, #f, json_integer((json_int_t)s->st.f))
#define R(f) json_object_set_new(o, #f, json_integer((json_int_t)s->env.st.f))
	C(rx_datagrams); C(tx_datagrams); C(rx_bytes); C(tx_bytes); C(malformed);
	C(unknown_tunnel); C(refused_rate); C(refused_half_open); C(evicted_half_open);
	C(refused_tunnels);
	C(refused_ports); C(tunnels_opened); C(tunnels_closed); R(sessions_up);
	R(sessions_rejected); R(sessions_closed); R(auth_failures); R(icmp_echo);
	R(data_dropped); R(filtered); R(mppe_errors); R(clear_dropped); R(oversized);
	C(ctl_requests);
#undef R
#undef C
	/* the sessions_up counter above is the total; the live figure is "sessions_up" */
	json_object_set_new(o, "sessions_up", json_integer(up));
	json_object_set_new(o, "sessions_up_total", json_integer((json_int_t)s->env.st.sessions_up));
	json_object_set_new(o, "tun", srv_tundev_stats(s));
	json_object_set_new(o, "pptp", srv_pptp_stats(s));
	json_object_set_new(o, "radius", srv_radius_stats(s));
	json_object_set_new(o, "ike", srv_ike_stats(s));
	json_object_set_new(o, "ikev2", srv_ikev2_stats(s));
	json_t *w = json_object();
	json_object_set_new(w, "stats", o);
	return w;
}

/* ---- text rendering ---------------------------------------------------------------- */
static void catf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void catf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0) return;
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return;
		}
		size_t nc = *cap * 2 + (size_t)n;
		char *nb = realloc(*buf, nc);
		if (!nb) return;
		*buf = nb;
		*cap = nc;
	}
}

static const char *js(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? v : "-";
}

static long long ji(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static char *render_text(const char *what, json_t *v)
{
	size_t cap = 4096, len = 0;
	char *b = malloc(cap);
	if (!b) return NULL;
	b[0] = 0;
	size_t i;
	json_t *o;
	if (strcmp(what, "sessions") == 0) {
		json_t *a = json_object_get(v, "sessions");
		catf(&b, &len, &cap, "%-6s %-16s %-15s %-22s %-11s %-12s %-11s %8s %10s %10s\n", "ID",
		     "USER", "ADDRESS", "CLIENT", "TUNNEL", "METHOD", "STATE", "UPTIME", "RX-BYTES",
		     "TX-BYTES");
		json_array_foreach(a, i, o) {
			char tun[32]; /* "l2tp/5", "ikev2/12": the type and the tunnel's (or SA's) number */
			snprintf(tun, sizeof tun, "%s/%lld", js(o, "tunnel_type"), ji(o, "tunnel"));
			catf(&b, &len, &cap, "%-6lld %-16s %-15s %-22s %-11s %-12s %-11s %7llds %10lld %10lld\n",
			     ji(o, "id"), js(o, "user"), js(o, "address"), js(o, "client"), tun,
			     js(o, "method"), js(o, "state"), ji(o, "uptime"), ji(o, "rx_bytes"),
			     ji(o, "tx_bytes"));
		}
		catf(&b, &len, &cap, "%zu session%s\n", json_array_size(a), json_array_size(a) == 1 ? "" : "s");
	} else if (strcmp(what, "tunnels") == 0) {
		json_t *a = json_object_get(v, "tunnels");
		catf(&b, &len, &cap, "%-6s %-7s %-22s %-20s %-14s %8s %6s %6s %6s %5s\n", "ID", "PEER-ID",
		     "PEER", "HOST", "STATE", "SESSIONS", "AGE", "RX", "TX", "RTX");
		json_array_foreach(a, i, o)
			catf(&b, &len, &cap, "%-6lld %-7lld %-22s %-20s %-14s %8lld %5llds %6lld %6lld %5lld\n",
			     ji(o, "id"), ji(o, "peer_id"), js(o, "peer"), js(o, "host"), js(o, "state"),
			     ji(o, "sessions"), ji(o, "age"), ji(o, "rx"), ji(o, "tx"), ji(o, "retransmits"));
		catf(&b, &len, &cap, "%zu tunnel%s\n", json_array_size(a), json_array_size(a) == 1 ? "" : "s");
		json_t *pc = json_object_get(v, "pptp_connections");
		if (pc) {
			catf(&b, &len, &cap, "\n%-6s %-22s %-20s %-12s %8s %6s %6s %6s\n", "PPTP", "PEER", "HOST",
			     "STATE", "SESSIONS", "AGE", "RX", "TX");
			json_array_foreach(pc, i, o)
				catf(&b, &len, &cap, "%-6lld %-22s %-20s %-12s %8lld %5llds %6lld %6lld\n", ji(o, "id"),
				     js(o, "peer"), js(o, "host"), js(o, "state"), ji(o, "sessions"), ji(o, "age"),
				     ji(o, "rx"), ji(o, "tx"));
			catf(&b, &len, &cap, "%zu PPTP connection%s\n", json_array_size(pc),
			     json_array_size(pc) == 1 ? "" : "s");
		}
	} else if (strcmp(what, "ike") == 0) {
		json_t *a = json_object_get(v, "ike");
		if (!json_is_true(json_object_get(v, "ipsec")))
			catf(&b, &len, &cap, "IPsec is off (serve.ipsec, serve.ikev2)\n");
		catf(&b, &len, &cap, "%-6s %-2s %-15s %5s %-24s %-12s %-3s %8s %6s  %s\n", "ID", "V", "PEER",
		     "PORT", "IDENTITY", "STATE", "NAT", "CHILDREN", "AGE", "COOKIES");
		json_array_foreach(a, i, o)
			catf(&b, &len, &cap, "%-6lld %-2lld %-15s %5lld %-24s %-12s %-3s %8lld %5llds  %s\n",
			     ji(o, "id"), ji(o, "version"), js(o, "peer"), ji(o, "port"), js(o, "identity"),
			     js(o, "state"),
			     json_is_true(json_object_get(o, "nat")) ? "yes" : "no", ji(o, "children"),
			     ji(o, "age"), js(o, "cookies"));
		catf(&b, &len, &cap, "%zu IKE SA%s\n", json_array_size(a), json_array_size(a) == 1 ? "" : "s");
	} else if (strcmp(what, "sa") == 0) {
		json_t *a = json_object_get(v, "sa");
		if (!json_is_true(json_object_get(v, "ipsec")))
			catf(&b, &len, &cap, "IPsec is off (serve.ipsec, serve.ikev2)\n");
		catf(&b, &len, &cap, "%-6s %-15s %-8s %-8s %-5s %-9s %8s %8s %10s %10s %6s\n", "IKE", "PEER",
		     "SPI-IN", "SPI-OUT", "ENCAP", "MODE", "RX", "TX", "RX-BYTES", "TX-BYTES", "AGE");
		json_array_foreach(a, i, o)
			catf(&b, &len, &cap, "%-6lld %-15s %-8s %-8s %-5s %-9s %8lld %8lld %10lld %10lld %5llds\n",
			     ji(o, "ike"), js(o, "peer"), js(o, "spi_in"), js(o, "spi_out"),
			     js(o, "encapsulation"), js(o, "mode"), ji(o, "rx_packets"), ji(o, "tx_packets"),
			     ji(o, "rx_bytes"), ji(o, "tx_bytes"), ji(o, "age"));
		catf(&b, &len, &cap, "%zu child SA%s\n", json_array_size(a), json_array_size(a) == 1 ? "" : "s");
	} else if (strcmp(what, "ports") == 0) {
		json_t *l = json_object_get(json_object_get(v, "ports"), "l2tp");
		catf(&b, &len, &cap, "l2tp: %lld of %lld ports in use, %lld free\n", ji(l, "in_use"),
		     ji(l, "total"), ji(l, "free"));
		json_t *t = json_object_get(json_object_get(v, "ports"), "pptp");
		if (t)
			catf(&b, &len, &cap, "pptp: %lld of %lld ports in use, %lld free\n", ji(t, "in_use"),
			     ji(t, "total"), ji(t, "free"));
		t = json_object_get(json_object_get(v, "ports"), "ikev2");
		if (t)
			catf(&b, &len, &cap, "ikev2: %lld of %lld ports in use, %lld free\n", ji(t, "in_use"),
			     ji(t, "total"), ji(t, "free"));
	} else if (strcmp(what, "pool") == 0) {
		json_t *p = json_object_get(v, "pool");
		json_array_foreach(json_object_get(p, "ranges"), i, o)
			catf(&b, &len, &cap, "range %s - %s\n", js(o, "start"), js(o, "end"));
		catf(&b, &len, &cap, "server address %s; %lld addresses, %lld leased to clients, %lld free\n",
		     js(p, "server_address"), ji(p, "size"), ji(p, "in_use"), ji(p, "free"));
		json_array_foreach(json_object_get(p, "leases"), i, o)
			catf(&b, &len, &cap, "  %-15s session %lld user %s%s\n", js(o, "address"), ji(o, "session"),
			     js(o, "user"), json_is_true(json_object_get(o, "from_pool")) ? "" : " (static)");
	} else {
		json_t *st = json_object_get(v, "stats");
		const char *k;
		json_object_foreach(st, k, o) {
			if (json_is_string(o)) {
				catf(&b, &len, &cap, "%-20s %s\n", k, json_string_value(o));
			} else if (json_is_object(o)) {
				const char *k2;
				json_t *o2;
				json_object_foreach(o, k2, o2) {
					char name[64];
					snprintf(name, sizeof name, "%s.%s", k, k2);
					if (json_is_string(o2)) catf(&b, &len, &cap, "%-20s %s\n", name, json_string_value(o2));
					else if (json_is_boolean(o2)) catf(&b, &len, &cap, "%-20s %s\n", name, json_is_true(o2) ? "yes" : "no");
					else catf(&b, &len, &cap, "%-20s %lld\n", name, (long long)json_integer_value(o2));
				}
			} else if (json_is_integer(o)) {
				catf(&b, &len, &cap, "%-20s %lld\n", k, (long long)json_integer_value(o));
			}
		}
	}
	return b;
}

/* ---- requests ---------------------------------------------------------------------- */
static char *dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dupf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *r = NULL;
	if (vasprintf(&r, fmt, ap) < 0) r = NULL;
	va_end(ap);
	return r;
}

char *srv_ctl_answer(struct srv *s, const char *line, int *status)
{
	char verb[32] = "", what[128] = "", fmt[16] = "";
	s->st.ctl_requests++;
	*status = 2;
	int n = sscanf(line, "%31s %127s %15s", verb, what, fmt);
	if (n >= 2 && strcmp(verb, "show") == 0) {
		json_t *v = NULL;
		if (strcmp(what, "sessions") == 0) v = view_sessions(s);
		else if (strcmp(what, "tunnels") == 0) v = view_tunnels(s);
		else if (strcmp(what, "ports") == 0) v = view_ports(s);
		else if (strcmp(what, "pool") == 0) v = view_pool(s);
		else if (strcmp(what, "stats") == 0) v = view_stats(s);
		else if (strcmp(what, "ike") == 0) v = view_ike(s, false);
		else if (strcmp(what, "sa") == 0) v = view_ike(s, true);
		else return dupf("unknown view \"%s\" (sessions, tunnels, ports, pool, stats, ike, sa)\n",
		                 what);
		char *out;
		if (n >= 3 && strcmp(fmt, "json") == 0) {
			char *d = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			out = d ? dupf("%s\n", d) : NULL;
			free(d);
		} else {
			out = render_text(what, v);
		}
		json_decref(v);
		*status = 0;
		return out;
	}
	if (n == 2 && strcmp(verb, "disconnect") == 0) {
		char *end;
		unsigned long id = strtoul(what, &end, 10);
		bool by_id = *what && !*end;
		size_t cap = 256, len = 0;
		char *b = malloc(cap);
		if (!b) return NULL;
		b[0] = 0;
		unsigned hits = 0;
		for (unsigned i = 0; i < s->sess_cap; i++) {
			struct ras_session *rs = s->sessions[i];
			if (!rs || ras_session_dead(rs)) continue;
			char ut[SRV_USER_TEXT];
			srv_user_text(ras_session_user(rs), ut, sizeof ut);
			/* by the name as the client sent it, or as `show sessions` prints it */
			if (by_id ? rs->id != id
			          : strcasecmp(ras_session_user(rs), what) != 0 && strcasecmp(ut, what) != 0)
				continue;
			catf(&b, &len, &cap, "session %u (user %s) disconnected\n", rs->id,
			     ras_session_user(rs)[0] ? ut : "-");
			srv_session_disconnect(s, rs, RAS_CAUSE_ADMIN);
			hits++;
		}
		if (!hits) {
			free(b);
			*status = 1;
			return dupf("no session %s %s\n", by_id ? "with id" : "of user", what);
		}
		*status = 0;
		return b;
	}
	return dupf("bad request \"%.60s\": expected \"show VIEW [json]\" or \"disconnect ID|USER\"\n", line);
}

/* ---- connections -------------------------------------------------------------------- */
static void conn_done(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) bufferevent_free(bev);
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) bufferevent_free(bev);
}

static void conn_read(struct bufferevent *bev, void *arg)
{
	struct srv *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = 0;
	char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
	if (!line) {
		if (evbuffer_get_length(in) > CTL_LINE_MAX) {
			bufferevent_write(bev, "error\nrequest line too long\n", 28);
			bufferevent_disable(bev, EV_READ);
			bufferevent_setcb(bev, NULL, conn_done, conn_event, s);
		}
		return;
	}
	int status;
	char *ans = srv_ctl_answer(s, line, &status);
	srv_log(s, SC_CTL, true, NULL, NULL, "request \"%.80s\": %s", line,
	        status == 0 ? "ok" : status == 1 ? "no" : "error");
	free(line);
	const char *st = status == 0 ? "ok\n" : status == 1 ? "no\n" : "error\n";
	bufferevent_write(bev, st, strlen(st));
	if (ans) bufferevent_write(bev, ans, strlen(ans));
	free(ans);
	/* a big view (10,000 sessions) leaves megabytes of freed heap: give them back */
	malloc_trim(0);
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, conn_done, conn_event, s);
}

static void ctl_accept(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct srv *s = arg;
	for (int k = 0; k < 16; k++) {
		int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0) return;
		struct bufferevent *bev = bufferevent_socket_new(s->base, c, BEV_OPT_CLOSE_ON_FREE);
		if (!bev) {
			close(c);
			continue;
		}
		struct timeval tv = {5, 0};
		bufferevent_set_timeouts(bev, &tv, &tv);
		bufferevent_setcb(bev, conn_read, NULL, conn_event, s);
		bufferevent_enable(bev, EV_READ);
	}
}

/* The directory of the socket: this user's or root's, and not open to other users'
 * writes unless sticky (where they cannot remove or rename what is not theirs). The
 * built-in default directory is created when missing. */
static int ctl_check_dir(const char *path, bool create)
{
	char dir[sizeof ((struct sockaddr_un *)0)->sun_path];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash) snprintf(dir, sizeof dir, ".");
	else if (slash == dir) dir[1] = 0;
	else *slash = 0;
	struct stat st;
	if (stat(dir, &st) != 0 && errno == ENOENT && create) {
		/* root's is read by all (the socket itself is 0600), a user's is private */
		mode_t mode = geteuid() == 0 ? 0755 : 0700;
		if (mkdir(dir, mode) == 0) chmod(dir, mode);
	}
	if (stat(dir, &st) != 0) {
		fprintf(stderr, "vnet: control socket %s: its directory %s: %s\n", path, dir, strerror(errno));
		return -1;
	}
	char who[96];
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "vnet: control socket %s: %s is not a directory\n", path, dir);
		return -1;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		fprintf(stderr, "vnet: control socket %s: its directory %s belongs to %s, neither this user "
		        "nor root, who could replace the socket (give --control a path in a directory of "
		        "your own)\n", path, dir, srv_uid_text((unsigned)st.st_uid, who, sizeof who));
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		fprintf(stderr, "vnet: control socket %s: its directory %s is writable by other users "
		        "(mode %04o, not sticky), who could replace the socket (give --control a path in a "
		        "directory only you can write to)\n", path, dir, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* What is at the path already: nothing, or a socket of this user that nobody answers
 * on (a server that is gone), which is removed. Anything else is left alone. */
static int ctl_check_existing(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT) return 0;
		fprintf(stderr, "vnet: control socket %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "vnet: control socket %s: the path is %s, not a socket, and is left alone "
		        "(give --control another path)\n", path, srv_file_kind((unsigned)st.st_mode));
		return -1;
	}
	if (st.st_uid != geteuid()) {
		char who[96];
		fprintf(stderr, "vnet: control socket %s: a socket of %s is there, not one of this user: "
		        "refusing to replace or trust it (remove it, or give --control another path)\n",
		        path, srv_uid_text((unsigned)st.st_uid, who, sizeof who));
		return -1;
	}
	/* a socket left by a server that is gone may be replaced; a live one may not */
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive = probe >= 0 && connect(probe, (const struct sockaddr *)sa, sizeof *sa) == 0;
	if (probe >= 0) close(probe);
	if (alive) {
		fprintf(stderr, "vnet: another server answers on the control socket %s "
		        "(give --control another path)\n", path);
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		fprintf(stderr, "vnet: control socket %s: cannot remove the stale socket: %s\n", path,
		        strerror(errno));
		return -1;
	}
	return 0;
}

int srv_ctl_open(struct srv *s, const char *path)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		fprintf(stderr, "vnet: control socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	char builtin[sizeof sa.sun_path + 64];
	bool is_builtin = strcmp(path, ctl_builtin_path(builtin, sizeof builtin)) == 0;
	if (ctl_check_dir(path, is_builtin) != 0 || ctl_check_existing(path, &sa) != 0) return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) return -1;
	/* made 0600 by bind itself: no moment when another user could connect */
	mode_t old = umask(0177);
	int b = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	int err = errno;
	umask(old);
	if (b != 0) {
		fprintf(stderr, "vnet: cannot bind the control socket %s: %s%s\n", path, strerror(err),
		        err == EADDRINUSE ? " (the path was taken while the server started)" : "");
		close(fd);
		return -1;
	}
	if (listen(fd, 16) != 0) {
		close(fd);
		unlink(path);
		return -1;
	}
	s->ctl_fd = fd;
	s->ctl_path = strdup(path);
	s->ev_ctl = event_new(s->base, fd, EV_READ | EV_PERSIST, ctl_accept, s);
	if (!s->ev_ctl) return -1;
	event_add(s->ev_ctl, NULL);
	return 0;
}

void srv_ctl_close(struct srv *s)
{
	if (s->ev_ctl) event_free(s->ev_ctl);
	s->ev_ctl = NULL;
	if (s->ctl_fd >= 0) close(s->ctl_fd);
	s->ctl_fd = -1;
	if (s->ctl_path) unlink(s->ctl_path);
	free(s->ctl_path);
	s->ctl_path = NULL;
}
