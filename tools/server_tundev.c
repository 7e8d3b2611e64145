/* `vnet serve`: the TUN data path (server.h).
 *
 * With serve.tun the server owns a layer-3 TUN interface (IFF_TUN | IFF_NO_PI: each read
 * or write is one bare IP packet). The interface carries the server's PPP address as a
 * /32, is brought up, and the kernel routes the clients' addresses to it:
 *   - each pool range, split into CIDR blocks, once at start-up;
 *   - a /32 for a session whose address no installed block covers (a static address
 *     outside the pool, or a range whose route could not be installed), added when the
 *     session comes up and removed when it ends.
 * Packets a client sends to anything but the server's own echo responder are written to
 * the TUN; packets read from it go to the session whose address is their destination,
 * found through an open-addressing index from address to session.
 *
 * The interface is not persistent: when the server exits (or dies) the kernel deletes it
 * with its address and routes. Everything here talks to the kernel through ioctl() and
 * rtnetlink; nothing runs external programs.
 */
#include "server.h"

#include <jansson.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* ---- CIDR decomposition ---------------------------------------------------------------- */
size_t srv_tundev_cidrs(uint32_t start, uint32_t end, struct srv_cidr *out, size_t cap)
{
	size_t n = 0;
	uint64_t a = start, b = end;
	while (a <= b) {
		/* the largest aligned block that starts at a and stays within b */
		unsigned len = 32;
		while (len > 0) {
			uint64_t size = 1ull << (33 - len);
			if ((a & (size - 1)) || a + size - 1 > b) break;
			len--;
		}
		if (n < cap) {
			out[n].addr = (uint32_t)a;
			out[n].len = (uint8_t)len;
		}
		n++;
		a += 1ull << (32 - len);
	}
	return n;
}

/* ---- address index ----------------------------------------------------------------------- */
static uint32_t idx_hash(uint32_t a, uint32_t mask)
{
	return (a * 0x9e3779b1u >> 7) & mask;
}

int srv_addr_index_init(struct srv_addr_index *x, size_t max_entries)
{
	memset(x, 0, sizeof *x);
	x->max = max_entries;
	uint32_t cap = 64;
	x->slots = calloc(cap, sizeof *x->slots);
	if (!x->slots) return -1;
	x->mask = cap - 1;
	return 0;
}

void srv_addr_index_free(struct srv_addr_index *x)
{
	free(x->slots);
	memset(x, 0, sizeof *x);
}

static void idx_place(struct srv_addr_slot *slots, uint32_t mask, uint32_t addr, struct ras_session *rs)
{
	uint32_t i = idx_hash(addr, mask);
	while (slots[i].addr) i = (i + 1) & mask;
	slots[i].addr = addr;
	slots[i].rs = rs;
}

/* Keep the table at most half full: double it (up to twice the entries allowed). */
static int idx_grow(struct srv_addr_index *x)
{
	uint64_t cap = (uint64_t)x->mask + 1;
	if ((uint64_t)(x->n + 1) * 2 <= cap) return 0;
	if (cap >= (1ull << 31) || cap >= 4 * (uint64_t)x->max + 64) return -1;
	uint32_t ncap = (uint32_t)cap * 2;
	struct srv_addr_slot *ns = calloc(ncap, sizeof *ns);
	if (!ns) return -1;
	for (uint64_t i = 0; i < cap; i++)
		if (x->slots[i].addr) idx_place(ns, ncap - 1, x->slots[i].addr, x->slots[i].rs);
	free(x->slots);
	x->slots = ns;
	x->mask = ncap - 1;
	return 0;
}

static struct srv_addr_slot *idx_find(const struct srv_addr_index *x, uint32_t addr)
{
	if (!addr || !x->slots) return NULL;
	for (uint32_t i = idx_hash(addr, x->mask), k = 0; k <= x->mask; i = (i + 1) & x->mask, k++) {
		if (!x->slots[i].addr) return NULL;
		if (x->slots[i].addr == addr) return &x->slots[i];
	}
	return NULL;
}

int srv_addr_index_put(struct srv_addr_index *x, uint32_t addr, struct ras_session *rs,
                       struct ras_session **prev)
{
	if (prev) *prev = NULL;
	if (!addr || !x->slots) return -1;
	struct srv_addr_slot *e = idx_find(x, addr);
	if (e) {
		if (prev) *prev = e->rs;
		e->rs = rs;
		return 0;
	}
	if (x->n >= x->max || idx_grow(x) != 0) return -1;
	idx_place(x->slots, x->mask, addr, rs);
	x->n++;
	return 0;
}

struct ras_session *srv_addr_index_get(const struct srv_addr_index *x, uint32_t addr)
{
	const struct srv_addr_slot *e = idx_find(x, addr);
	return e ? e->rs : NULL;
}

bool srv_addr_index_del(struct srv_addr_index *x, uint32_t addr, const struct ras_session *rs)
{
	struct srv_addr_slot *e = idx_find(x, addr);
	if (!e || (rs && e->rs != rs)) return false;
	/* backward-shift deletion keeps every probe sequence unbroken without tombstones */
	uint32_t i = (uint32_t)(e - x->slots);
	for (uint32_t j = i, k = 0; k <= x->mask; k++) {
		j = (j + 1) & x->mask;
		if (!x->slots[j].addr) break;
		uint32_t home = idx_hash(x->slots[j].addr, x->mask);
		/* slot j may move to the hole at i when its home is not in (i, j] (cyclically) */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (stays) continue;
		x->slots[i] = x->slots[j];
		i = j;
	}
	x->slots[i].addr = 0;
	x->slots[i].rs = NULL;
	x->n--;
	return true;
}

/* ---- the device -------------------------------------------------------------------------- */
struct srv_tundev {
	int fd;                      /* /dev/net/tun, one interface */
	int nl;                      /* rtnetlink, for the address and the routes */
	uint32_t nl_seq;
	struct event *ev;
	char name[IFNAMSIZ];
	int ifindex;
	unsigned mtu;
	struct srv_cidr *routes;     /* pool blocks routed to the interface */
	size_t nroutes;
	struct srv_addr_index idx;   /* session address -> session, sessions that are up */
	uint64_t to_tun, from_tun, no_session, not_ipv4, too_big, write_errors;
	uint64_t host_routes, route_errors;
	bool failed;                 /* the descriptor broke (interface deleted): no more I/O */
	uint8_t buf[65536];
};

/* The reason in words; `creating`: the error came from opening the device or TUNSETIFF,
 * where EINVAL and EBUSY have a known meaning. */
static void tun_msg(char *buf, size_t n, const char *what, int err, bool creating)
{
	const char *hint = "";
	if (err == EPERM || err == EACCES) hint = "; the server needs CAP_NET_ADMIN";
	else if (creating && (err == ENOENT || err == ENODEV || err == ENXIO))
		hint = "; this kernel has no TUN support (module tun) or /dev/net/tun is missing";
	else if (creating && err == EBUSY) hint = "; another process holds an interface of that name";
	else if (creating && err == EINVAL)
		hint = "; an interface of that name exists and is not a TUN, or the name is not valid";
	snprintf(buf, n, "%s: %s%s", what, strerror(err), hint);
}

/* One rtnetlink request and its acknowledgement: 0, or a positive errno. */
static int nl_talk(struct srv_tundev *d, struct nlmsghdr *h)
{
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = ++d->nl_seq;
	struct sockaddr_nl k = {.nl_family = AF_NETLINK};
	if (sendto(d->nl, h, h->nlmsg_len, 0, (struct sockaddr *)&k, sizeof k) < 0) return errno;
	uint8_t rb[8192] __attribute__((aligned(4)));
	/* the kernel answers at once; never wait more than a second in all */
	uint64_t end = srv_now_ms() + 1000;
	for (int tries = 0; tries < 16; tries++) {
		uint64_t now = srv_now_ms();
		if (now >= end) break;
		struct pollfd pf = {d->nl, POLLIN, 0};
		if (poll(&pf, 1, (int)(end - now)) <= 0) continue;
		ssize_t n = recv(d->nl, rb, sizeof rb, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
			return errno;
		}
		size_t left = (size_t)n;
		for (struct nlmsghdr *r = (struct nlmsghdr *)rb; NLMSG_OK(r, left); r = NLMSG_NEXT(r, left)) {
			if (r->nlmsg_seq != h->nlmsg_seq || r->nlmsg_type != NLMSG_ERROR) continue;
			if (r->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) return EPROTO;
			const struct nlmsgerr *e = NLMSG_DATA(r);
			return e->error < 0 ? -e->error : 0;
		}
	}
	return ETIMEDOUT;
}

struct nl_req {
	struct nlmsghdr h;
	union {
		struct ifaddrmsg a;
		struct rtmsg r;
	} u;
	uint8_t attrs[128];
};

static void nl_attr(struct nl_req *q, uint16_t type, const void *data, size_t len)
{
	size_t at = NLMSG_ALIGN(q->h.nlmsg_len);
	size_t sz = RTA_LENGTH(len);
	if (at + RTA_ALIGN(sz) > sizeof *q) return; /* cannot happen with the fixed attributes */
	struct rtattr *ra = (struct rtattr *)((uint8_t *)q + at);
	ra->rta_type = type;
	ra->rta_len = (uint16_t)sz;
	memcpy(RTA_DATA(ra), data, len);
	q->h.nlmsg_len = (uint32_t)(at + RTA_ALIGN(sz));
}

static int nl_addr(struct srv_tundev *d, uint32_t local)
{
	struct nl_req q;
	memset(&q, 0, sizeof q);
	q.h.nlmsg_len = NLMSG_LENGTH(sizeof q.u.a);
	q.h.nlmsg_type = RTM_NEWADDR;
	q.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	q.u.a.ifa_family = AF_INET;
	q.u.a.ifa_prefixlen = 32;
	q.u.a.ifa_scope = RT_SCOPE_UNIVERSE;
	q.u.a.ifa_index = (unsigned)d->ifindex;
	uint32_t be = htonl(local);
	nl_attr(&q, IFA_LOCAL, &be, 4);
	nl_attr(&q, IFA_ADDRESS, &be, 4);
	return nl_talk(d, &q.h);
}

static int nl_route(struct srv_tundev *d, bool add, uint32_t dst, unsigned len, uint32_t src)
{
	struct nl_req q;
	memset(&q, 0, sizeof q);
	q.h.nlmsg_len = NLMSG_LENGTH(sizeof q.u.r);
	q.h.nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	/* never replace a route someone else installed for the same prefix */
	q.h.nlmsg_flags = add ? NLM_F_CREATE | NLM_F_EXCL : 0;
	q.u.r.rtm_family = AF_INET;
	q.u.r.rtm_dst_len = (uint8_t)len;
	q.u.r.rtm_table = RT_TABLE_MAIN;
	q.u.r.rtm_protocol = RTPROT_STATIC;
	q.u.r.rtm_scope = RT_SCOPE_LINK;
	q.u.r.rtm_type = RTN_UNICAST;
	uint32_t be = htonl(dst), sbe = htonl(src);
	int oif = d->ifindex;
	nl_attr(&q, RTA_DST, &be, 4);
	nl_attr(&q, RTA_OIF, &oif, sizeof oif);
	if (add && src) nl_attr(&q, RTA_PREFSRC, &sbe, 4);
	return nl_talk(d, &q.h);
}

static bool routed(const struct srv_tundev *d, uint32_t a)
{
	for (size_t i = 0; i < d->nroutes; i++) {
		uint32_t m = d->routes[i].len ? ~0u << (32 - d->routes[i].len) : 0;
		if ((a & m) == d->routes[i].addr) return true;
	}
	return false;
}

/* A log line about a rare event, at most for counts 1, 2, 4, 8, ... */
static bool sparse(uint64_t count)
{
	return count && (count & (count - 1)) == 0;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void tun_read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct srv *s = arg;
	struct srv_tundev *d = s->tundev;
	for (int burst = 0; burst < 64; burst++) {
		ssize_t n = read(fd, d->buf, sizeof d->buf);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			/* e.g. EBADFD once someone deleted the interface: stop watching it, or
			 * the loop would spin on a descriptor that stays readable */
			srv_log(s, SC_DATA, false, NULL, NULL, "TUN %s: read failed: %s; from now on "
			        "packets for other hosts are dropped", d->name, strerror(errno));
			d->failed = true;
			event_del(d->ev);
			return;
		}
		if (n <= 0) break;
		size_t len = (size_t)n;
		d->from_tun++;
		if (len < 20 || d->buf[0] >> 4 != 4) {
			d->not_ipv4++; /* IPv6 and the like: the links carry IPv4 only */
			s->env.st.data_dropped++;
			continue;
		}
		size_t tot = (size_t)d->buf[2] << 8 | d->buf[3];
		if (tot < 20 || tot > len) {
			s->env.st.data_dropped++;
			continue;
		}
		uint32_t dst = get32(d->buf + 16);
		struct ras_session *rs = srv_addr_index_get(&d->idx, dst);
		if (!rs || ras_session_dead(rs) || !ras_session_was_up(rs) || (rs->flags & RAS_F_LOWER_GONE)) {
			d->no_session++;
			s->env.st.data_dropped++;
			if (sparse(d->no_session)) {
				char a[20];
				srv_log(s, SC_DATA, false, NULL, NULL,
				        "packet from %s for %s: no session has that address, dropped "
				        "(%llu so far)", d->name, ipv4_str(dst, a, sizeof a),
				        (unsigned long long)d->no_session);
			}
			continue;
		}
		if (tot > rs->ppp.lcp.peer_mru) {
			d->too_big++;
			s->env.st.data_dropped++;
			srv_log(s, SC_DATA, true, NULL, rs, "packet of %zu bytes exceeds the link's MRU %u, "
			        "dropped", tot, rs->ppp.lcp.peer_mru);
			continue;
		}
		ras_session_send_ip(rs, d->buf, tot);
	}
}

bool srv_tundev_forward(struct srv *s, struct ras_session *rs, const uint8_t *ip, size_t len)
{
	struct srv_tundev *d = s->tundev;
	if (!d || d->failed) return false;
	if (write(d->fd, ip, len) == (ssize_t)len) {
		d->to_tun++;
		return true;
	}
	int err = errno;
	d->write_errors++;
	s->env.st.data_dropped++;
	if (sparse(d->write_errors))
		srv_log(s, SC_DATA, false, NULL, rs, "write to %s failed: %s (%llu so far), dropped",
		        d->name, strerror(err), (unsigned long long)d->write_errors);
	return true;
}

void srv_tundev_session_up(struct srv *s, struct ras_session *rs)
{
	struct srv_tundev *d = s->tundev;
	if (!d || d->failed || !rs->addr) return;
	char a[20];
	struct ras_session *prev = NULL;
	if (srv_addr_index_put(&d->idx, rs->addr, rs, &prev) != 0) {
		srv_log(s, SC_DATA, false, NULL, rs, "session %u: address %s not indexed (out of memory): "
		        "packets for it are dropped", rs->id, ipv4_str(rs->addr, a, sizeof a));
		return;
	}
	if (prev && prev != rs)
		srv_log(s, SC_DATA, false, NULL, rs, "session %u takes address %s over from session %u: "
		        "packets for it go to session %u now", rs->id, ipv4_str(rs->addr, a, sizeof a),
		        prev->id, rs->id);
	if (routed(d, rs->addr) || prev) return;
	int err = nl_route(d, true, rs->addr, 32, s->local_addr);
	if (err == 0) {
		d->host_routes++;
		srv_log(s, SC_DATA, false, NULL, rs, "session %u: route %s/32 dev %s", rs->id,
		        ipv4_str(rs->addr, a, sizeof a), d->name);
	} else {
		d->route_errors++;
		srv_log(s, SC_DATA, false, NULL, rs, "session %u: route %s/32 dev %s not added: %s%s",
		        rs->id, ipv4_str(rs->addr, a, sizeof a), d->name, strerror(err),
		        err == EEXIST ? " (a route for that address exists already)" : "");
	}
}

void srv_tundev_session_down(struct srv *s, struct ras_session *rs)
{
	struct srv_tundev *d = s->tundev;
	if (!d || !rs->addr) return;
	if (!srv_addr_index_del(&d->idx, rs->addr, rs)) return;
	if (routed(d, rs->addr)) return;
	int err = nl_route(d, false, rs->addr, 32, 0);
	char a[20];
	if (err == 0)
		srv_log(s, SC_DATA, true, NULL, rs, "session %u: route %s/32 removed", rs->id,
		        ipv4_str(rs->addr, a, sizeof a));
	else if (err != ESRCH)
		srv_log(s, SC_DATA, false, NULL, rs, "session %u: route %s/32 not removed: %s", rs->id,
		        ipv4_str(rs->addr, a, sizeof a), strerror(err));
}

static void tundev_free(struct srv_tundev *d)
{
	if (!d) return;
	if (d->ev) event_free(d->ev);
	if (d->fd >= 0) close(d->fd); /* the kernel deletes the interface and its routes */
	if (d->nl >= 0) close(d->nl);
	srv_addr_index_free(&d->idx);
	free(d->routes);
	free(d);
}

/* Best effort: an IPv4-only link needs no IPv6 autoconfiguration chatter on the TUN. */
static void no_ipv6(const char *name)
{
	char path[96];
	snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) return;
	if (write(fd, "1\n", 2) < 0) { /* nothing to do about it */ }
	close(fd);
}

/* Create and configure the device; 0, or -1 with the reason in why. */
static int tundev_setup(struct srv *s, struct srv_tundev *d, const char *name, char *why, size_t wn)
{
	d->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (d->fd < 0) {
		tun_msg(why, wn, "cannot open /dev/net/tun", errno, true);
		return -1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(d->fd, TUNSETIFF, &ifr) != 0) {
		char what[64];
		snprintf(what, sizeof what, "cannot create TUN interface %s", name);
		tun_msg(why, wn, what, errno, true);
		return -1;
	}
	snprintf(d->name, sizeof d->name, "%s", ifr.ifr_name);
	no_ipv6(d->name);
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0) {
		tun_msg(why, wn, "cannot open a socket for interface requests", errno, false);
		return -1;
	}
	int rc = -1;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", d->name);
	if (ioctl(sk, SIOCGIFINDEX, &ifr) != 0) {
		tun_msg(why, wn, "cannot read the interface index", errno, false);
		goto done;
	}
	d->ifindex = ifr.ifr_ifindex;
	/* the MTU: what the server offers as MRU, so the kernel sends what the links take */
	ifr.ifr_mtu = s->cfg->serve.mru > 0 ? s->cfg->serve.mru : 1400;
	if (ioctl(sk, SIOCSIFMTU, &ifr) != 0) {
		char what[64];
		snprintf(what, sizeof what, "cannot set the MTU to %d (serve.ppp.mru)", ifr.ifr_mtu);
		tun_msg(why, wn, what, errno, false);
		goto done;
	}
	d->mtu = (unsigned)ifr.ifr_mtu;
	if (ioctl(sk, SIOCGIFFLAGS, &ifr) != 0) {
		tun_msg(why, wn, "cannot read the interface flags", errno, false);
		goto done;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sk, SIOCSIFFLAGS, &ifr) != 0) {
		tun_msg(why, wn, "cannot bring the interface up", errno, false);
		goto done;
	}
	d->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (d->nl < 0) {
		tun_msg(why, wn, "cannot open an rtnetlink socket", errno, false);
		goto done;
	}
	int err = nl_addr(d, s->local_addr);
	if (err) {
		char a[20], what[80];
		snprintf(what, sizeof what, "cannot give %s the address %s/32", d->name,
		         ipv4_str(s->local_addr, a, sizeof a));
		tun_msg(why, wn, what, err, false);
		goto done;
	}
	rc = 0;
done:
	close(sk);
	return rc;
}

/* Route every pool range; a block that cannot be routed is left to per-session routes. */
static void tundev_routes(struct srv *s, struct srv_tundev *d, char *text, size_t tn)
{
	size_t len = 0, total = 0;
	text[0] = 0;
	for (size_t i = 0; i < s->pool.nranges; i++)
		total += srv_tundev_cidrs(s->pool.ranges[i].start, s->pool.ranges[i].end, NULL, 0);
	d->routes = total ? calloc(total, sizeof *d->routes) : NULL;
	if (total && !d->routes) return;
	for (size_t i = 0; i < s->pool.nranges; i++) {
		struct srv_cidr c[64];
		size_t n = srv_tundev_cidrs(s->pool.ranges[i].start, s->pool.ranges[i].end, c, 64);
		for (size_t k = 0; k < n && k < 64; k++) {
			char a[20];
			ipv4_str(c[k].addr, a, sizeof a);
			int err = nl_route(d, true, c[k].addr, c[k].len, s->local_addr);
			if (err) {
				d->route_errors++;
				srv_log(s, SC_DATA, false, NULL, NULL, "route %s/%u dev %s not added: %s%s; "
				        "its sessions get a /32 route each", a, c[k].len, d->name,
				        strerror(err), err == EEXIST ? " (the prefix is routed already)" : "");
				continue;
			}
			d->routes[d->nroutes++] = c[k];
			int w = snprintf(text + len, tn - len, "%s%s/%u", len ? "," : "", a, c[k].len);
			if (w > 0 && (size_t)w < tn - len) len += (size_t)w;
		}
	}
}

int srv_tundev_open(struct srv *s, bool required)
{
	const char *name = s->cfg->serve.tun;
	char la[20];
	ipv4_str(s->local_addr, la, sizeof la);
	if (!name || !*name) {
		srv_log(s, SC_DATA, false, NULL, NULL, "data path: no TUN interface (serve.tun not set): "
		        "only ICMP echo to %s is answered", la);
		return 0;
	}
	char why[256];
	struct srv_tundev *d = calloc(1, sizeof *d);
	if (!d) {
		fprintf(stderr, "vnet: out of memory\n");
		return -1;
	}
	d->fd = d->nl = -1;
	if (strlen(name) >= IFNAMSIZ) {
		snprintf(why, sizeof why, "interface name \"%s\" is longer than %d characters", name,
		         IFNAMSIZ - 1);
		goto fail;
	}
	if (tundev_setup(s, d, name, why, sizeof why) != 0) goto fail;
	if (srv_addr_index_init(&d->idx, (size_t)s->cfg->serve.max_sessions) != 0) {
		snprintf(why, sizeof why, "out of memory");
		goto fail;
	}
	d->ev = event_new(s->base, d->fd, EV_READ | EV_PERSIST, tun_read_cb, s);
	if (!d->ev || event_add(d->ev, NULL) != 0) {
		snprintf(why, sizeof why, "cannot watch the TUN descriptor");
		goto fail;
	}
	s->tundev = d;
	char routes[512];
	tundev_routes(s, d, routes, sizeof routes);
	srv_log(s, SC_DATA, false, NULL, NULL, "data path: TUN %s ifindex=%d addr=%s/32 mtu=%u "
	        "routes=%s", d->name, d->ifindex, la, d->mtu, routes[0] ? routes : "(per session)");
	return 0;
fail:
	tundev_free(d);
	if (required) {
		fprintf(stderr, "vnet: %s: serve.tun \"%s\": %s\n", s->config_name, name, why);
		return -1;
	}
	srv_log(s, SC_DATA, false, NULL, NULL, "data path: TUN %s unavailable: %s: only ICMP echo "
	        "to %s is answered", name, why, la);
	return 0;
}

void srv_tundev_close(struct srv *s)
{
	struct srv_tundev *d = s->tundev;
	if (!d) return;
	srv_log(s, SC_DATA, false, NULL, NULL, "TUN %s closed: to_tun=%llu from_tun=%llu "
	        "no_session=%llu not_ipv4=%llu too_big=%llu write_errors=%llu host_routes=%llu "
	        "route_errors=%llu", d->name, (unsigned long long)d->to_tun,
	        (unsigned long long)d->from_tun, (unsigned long long)d->no_session,
	        (unsigned long long)d->not_ipv4, (unsigned long long)d->too_big,
	        (unsigned long long)d->write_errors, (unsigned long long)d->host_routes,
	        (unsigned long long)d->route_errors);
	s->tundev = NULL;
	tundev_free(d);
}

json_t *srv_tundev_stats(const struct srv *s)
{
	const struct srv_tundev *d = s->tundev;
	if (!d) return json_null();
	json_t *o = json_object();
	json_object_set_new(o, "interface", json_string(d->name));
	json_object_set_new(o, "to_tun", json_integer((json_int_t)d->to_tun));
	json_object_set_new(o, "from_tun", json_integer((json_int_t)d->from_tun));
	json_object_set_new(o, "no_session", json_integer((json_int_t)d->no_session));
	json_object_set_new(o, "too_big", json_integer((json_int_t)d->too_big));
	json_object_set_new(o, "not_ipv4", json_integer((json_int_t)d->not_ipv4));
	json_object_set_new(o, "write_errors", json_integer((json_int_t)d->write_errors));
	json_object_set_new(o, "host_routes", json_integer((json_int_t)d->host_routes));
	json_object_set_new(o, "failed", json_boolean(d->failed));
	return o;
}
