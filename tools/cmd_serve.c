/* vnet serve, vnet show, vnet disconnect. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmd.h"
#include "server.h"

static int parse_debug(const char *text, uint32_t *mask)
{
	*mask = 0;
	if (!text) return 0;
	char buf[256];
	snprintf(buf, sizeof buf, "%s", text);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "all") == 0) {
			*mask = (1u << SC_N) - 1;
			continue;
		}
		int i = name_index(srv_cat_names, tok);
		if (i < 0) {
			fprintf(stderr, "vnet serve: -d: unknown category \"%s\" (known: all", tok);
			for (int k = 0; srv_cat_names[k]; k++) fprintf(stderr, ", %s", srv_cat_names[k]);
			fprintf(stderr, ")\n");
			return -1;
		}
		*mask |= 1u << i;
	}
	return 0;
}

int cmd_serve(struct cmd_args *a)
{
	struct server_opts o = {
		.config_path = a->config,
		.listen = args_get(a, "--listen"),
		.capture = args_get(a, "--capture"),
		.control = args_get(a, "--control"),
		.accounting = args_get(a, "--accounting"),
		.pptp_listen = args_get(a, "--pptp-listen"),
	};
	if (parse_debug(args_get(a, "-d"), &o.debug) != 0) return EXIT_USAGE;
	setvbuf(stderr, NULL, _IOLBF, 0);
	return server_run(&o);
}

/* The server at the other end must run as this user or as root: another user can have
 * put a socket at the path (in /tmp, say) to answer with made-up views. The socket's
 * owner is looked at first; the peer's credentials of the connection decide. */
static bool ctl_peer_trusted(const char *path, int fd)
{
	uid_t me = geteuid();
	char who[96];
	struct stat st;
	if (lstat(path, &st) == 0 && st.st_uid != me && st.st_uid != 0) {
		fprintf(stderr, "vnet: the control socket %s belongs to %s, neither you nor root: not "
		        "talking to it (it may be another user's fake server; give --control the socket "
		        "of your server)\n", path, srv_uid_text((unsigned)st.st_uid, who, sizeof who));
		return false;
	}
	if (fd < 0) return true;
	struct ucred cr;
	socklen_t cl = sizeof cr;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0) {
		fprintf(stderr, "vnet: %s: cannot tell which user serves the control socket: %s\n", path,
		        strerror(errno));
		return false;
	}
	if (cr.uid != me && cr.uid != 0) {
		fprintf(stderr, "vnet: the control socket %s is served by process %ld of %s, neither you "
		        "nor root: not talking to it (it may be another user's fake server; give "
		        "--control the socket of your server)\n", path, (long)cr.pid,
		        srv_uid_text((unsigned)cr.uid, who, sizeof who));
		return false;
	}
	return true;
}

/* One request to the control socket; the answer's body goes to stdout (stderr when it
 * is an error). Exit 0 ok, 1 negative answer, 2 no server or a bad request. */
static int ctl_request(struct cmd_args *a, const char *req)
{
	char buf[512];
	const char *path = args_get(a, "--control");
	if (!path) path = srv_ctl_default_path(buf, sizeof buf);
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		fprintf(stderr, "vnet: control socket path too long: %s\n", path);
		return EXIT_USAGE;
	}
	strcpy(sa.sun_path, path);
	if (!ctl_peer_trusted(path, -1)) return EXIT_USAGE;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		fprintf(stderr, "vnet: no server answers on %s: %s (is `vnet serve` running? "
		        "--control PATH names its socket)\n", path, strerror(errno));
		if (fd >= 0) close(fd);
		return EXIT_USAGE;
	}
	if (!ctl_peer_trusted(path, fd)) {
		close(fd);
		return EXIT_USAGE;
	}
	struct timeval tv = {10, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	size_t len = strlen(req);
	if (write(fd, req, len) != (ssize_t)len) {
		fprintf(stderr, "vnet: %s: cannot send the request: %s\n", path, strerror(errno));
		close(fd);
		return EXIT_USAGE;
	}
	shutdown(fd, SHUT_WR);
	size_t cap = 65536, n = 0;
	char *ans = malloc(cap + 1);
	if (!ans) {
		close(fd);
		return EXIT_USAGE;
	}
	for (;;) {
		if (n == cap) {
			if (cap > (64u << 20)) break; /* answers are bounded */
			char *nb = realloc(ans, cap * 2 + 1);
			if (!nb) break;
			ans = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, ans + n, cap - n);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) break;
		n += (size_t)r;
	}
	close(fd);
	ans[n] = 0;
	char *body = strchr(ans, '\n');
	int rc = EXIT_USAGE;
	if (!body) {
		fprintf(stderr, "vnet: %s: the server closed the connection without an answer\n", path);
	} else {
		*body++ = 0;
		if (strcmp(ans, "ok") == 0) {
			fputs(body, stdout);
			rc = EXIT_YES;
		} else if (strcmp(ans, "no") == 0) {
			fprintf(stderr, "vnet: %s", body);
			rc = EXIT_NO;
		} else {
			fprintf(stderr, "vnet: the server refused the request: %s", body);
		}
	}
	free(ans);
	return rc;
}

int cmd_show(struct cmd_args *a)
{
	static const char *const views[] = {"sessions", "tunnels", "ports", "pool", "stats", "ike",
		"sa", NULL};
	const char *want = a->pos[0];
	const char *hit = NULL;
	int nhit = 0;
	for (int i = 0; views[i]; i++)
		if (strncmp(views[i], want, strlen(want)) == 0) {
			if (strcmp(views[i], want) == 0) {
				hit = views[i];
				nhit = 1;
				break;
			}
			hit = views[i];
			nhit++;
		}
	if (nhit != 1) {
		fprintf(stderr, "vnet show: %s view \"%s\" (sessions, tunnels, ports, pool, stats, ike, "
		        "sa)\n",
		        nhit ? "ambiguous" : "unknown", want);
		return EXIT_USAGE;
	}
	char req[64];
	snprintf(req, sizeof req, "show %s%s\n", hit, a->json ? " json" : "");
	return ctl_request(a, req);
}

int cmd_disconnect(struct cmd_args *a)
{
	const char *who = a->pos[0];
	if (!*who || strlen(who) > 100 || strpbrk(who, " \t\r\n")) {
		fprintf(stderr, "vnet disconnect: expected a session number or a user name\n");
		return EXIT_USAGE;
	}
	char req[128];
	snprintf(req, sizeof req, "disconnect %s\n", who);
	return ctl_request(a, req);
}
