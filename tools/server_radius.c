/* RADIUS in `vnet serve` (server.h): the sockets of vnet's own RADIUS server
 * (serve.radius_server, the decisions in engine/radius/nps.h). */
#include "server.h"

#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "radius.h"
#include "radius/nps.h"

struct srv_radius {
	struct nps nps;              /* the RADIUS server's decisions */
	bool nps_on;
};

/* ---- the RADIUS server --------------------------------------------------------------- */
static void nps_log(void *ctx, bool debug_only, const char *text)
{
	srv_log(ctx, SC_RADIUS, debug_only, NULL, NULL, "%s", text);
}

static void nps_random(void *ctx, uint8_t *buf, size_t n)
{
	(void)ctx;
	srv_random(buf, n);
}

static time_t nps_wall(void *ctx)
{
	(void)ctx;
	return time(NULL);
}

static void nps_accounting(void *ctx, const struct nps_client *c, const struct radius_msg *m)
{
	srv_acct_radius(ctx, c->name, m);
}

static bool nps_throttle(void *ctx)
{
	return srv_throttle(ctx);
}

static const struct nps_cbs nps_cbs = {
	.log = nps_log, .random = nps_random, .wall = nps_wall, .accounting = nps_accounting,
	.throttle = nps_throttle,
};

/* A RADIUS server listener is readable: a burst of datagrams, each answered at once. */
static void nps_read(struct srv *s, struct srv_listener *l)
{
	struct srv_radius *r = s->radius;
	static uint8_t buf[RADIUS_MAX_LEN + 1], out[RADIUS_MAX_LEN];
	for (int burst = 0; burst < 64; burst++) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof peer;
		ssize_t n = recvfrom(l->fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &pl);
		if (n < 0) break;
		if ((size_t)n > RADIUS_MAX_LEN) {
			r->nps.st.malformed++;
			continue; /* longer than RFC 2865 allows: never passed on cut */
		}
		size_t an = nps_input(&r->nps, &peer, buf, (size_t)n, srv_now_ms(), out, sizeof out);
		if (an && sendto(l->fd, out, an, 0, (struct sockaddr *)&peer, pl) < 0)
			srv_log(s, SC_RADIUS, true, NULL, NULL, "radius: sendto: %s", strerror(errno));
	}
}

static int bind_udp(const char *text, unsigned port, int *fd, char *shown, size_t n)
{
	struct sockaddr_storage ss;
	unsigned len = 0;
	if (net_hostport_parse(text, port, &ss, &len) != 0) return -1;
	*fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&ss, len) != 0) {
		fprintf(stderr, "vnet: cannot listen on %s: %s\n", text, strerror(errno));
		return -1;
	}
	socklen_t sl = sizeof ss;
	getsockname(*fd, (struct sockaddr *)&ss, &sl);
	net_sockaddr_text(&ss, shown, n);
	return 0;
}

static int nps_open(struct srv *s)
{
	const struct serve_conf *sc = &s->cfg->serve;
	struct srv_radius *r = s->radius;
	if (nps_init(&r->nps, s->cfg, &s->pres, &s->pool, &nps_cbs, s) != 0) {
		fprintf(stderr, "vnet: out of memory\n");
		return -1;
	}
	r->nps_on = true;
	const char *addrs[2] = {sc->radius_listen, sc->radius_acct_listen};
	for (int i = 0; i < 2; i++) {
		if (!addrs[i]) continue;
		struct srv_listener *l = srv_listener_add(s, SRV_PROTO_RADIUS, nps_read);
		char shown[80];
		if (!l) {
			fprintf(stderr, "vnet: too many listeners\n");
			return -1;
		}
		if (bind_udp(addrs[i], i ? 1813 : 1812, &l->fd, shown, sizeof shown) != 0) return -1;
		srv_log(s, SC_MAIN, false, NULL, NULL, "RADIUS server listening on %s (%zu clients)",
		        shown, sc->nnps_clients);
	}
	return 0;
}

/* ---- both ------------------------------------------------------------------------------ */
int srv_radius_open(struct srv *s)
{
	const struct config *c = s->cfg;
	bool server = c->serve.radius_listen != NULL;
	if (!server) return 0;
	s->radius = calloc(1, sizeof *s->radius);
	if (!s->radius) {
		fprintf(stderr, "vnet: out of memory\n");
		return -1;
	}
	if (server && nps_open(s) != 0) return -1;
	return 0;
}

void srv_radius_close(struct srv *s)
{
	struct srv_radius *r = s->radius;
	if (!r) return;
	if (r->nps_on) nps_free(&r->nps);
	free(r);
	s->radius = NULL;
}

json_t *srv_radius_stats(const struct srv *s)
{
	const struct srv_radius *r = s->radius;
	if (!r) return json_null();
	json_t *o = json_object();
	if (r->nps_on) {
#define N(f) json_object_set_new(o, "server_" #f, json_integer((json_int_t)r->nps.st.f))
		N(access_requests); N(accepts); N(rejects); N(status_server); N(accounting);
		N(unknown_client); N(malformed); N(no_msg_auth); N(bad_msg_auth);
		N(bad_authenticator); N(unsupported); N(duplicates);
#undef N
	}
	return o;
}
