/* Accounting records and the packet capture of `vnet serve` (server.h).
 *
 * Accounting: one JSON object per line, a "start" when a session comes up and a "stop"
 * when it ends, each flushed to disk before the server goes on, so a killed server loses
 * nothing already said. At start-up, sessions of an earlier run that have a start and no
 * stop are closed with cause "server-restart": that run ended without saying so.
 *
 * The file is read back at every start, so it must be a regular file (a FIFO would block
 * the start, a device could be read forever) and the reading is bounded: lines longer than
 * ACCT_LINE_MAX are skipped, at most ACCT_OPEN_MAX open sessions are remembered, and only
 * the bytes the file held when it was opened are read. A last line cut short by a crash is
 * replaced by a "torn" record that keeps its text, so every line stays a JSON object and
 * the records that follow start on a line of their own.
 *
 * Capture: every datagram the server sends or receives, with IPv4/IPv6 and UDP headers
 * rebuilt around it, as raw-IP pcap records that `vnet pcap explain` reads.
 */
#include "server.h"
#include "diag.h"
#include "net.h"
#include "radius.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* The longest line read back: a record is a few hundred bytes. */
#define ACCT_LINE_MAX 65536
/* Open sessions of earlier runs remembered while reading back (serve.limits.sessions is
 * at most this many, so one crashed run always fits). */
#define ACCT_OPEN_MAX 1000000
/* Recovered sessions named one by one in the log; the rest are counted. */
#define ACCT_LOG_EACH 20

static void iso_time(time_t t, char *buf, size_t n)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "2026-12-02T07:49:03Z" -> seconds; -1 when it is not that form. */
static time_t iso_parse(const char *text)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *end = text ? strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	if (!end || *end) return -1;
	return timegm(&tm);
}

static void acct_write(struct srv *s, json_t *o)
{
	if (!s->acct) {
		json_decref(o);
		return;
	}
	char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!line) return;
	/* written to the kernel at once (a killed server loses nothing), to the disk by
	 * srv_acct_sync within a second: one fsync per loop turn would cap set-ups */
	if (fprintf(s->acct, "%s\n", line) < 0 || fflush(s->acct) != 0)
		srv_log(s, SC_ACCT, false, NULL, NULL, "cannot write %s: %s", s->acct_path, strerror(errno));
	s->acct_dirty = true;
	free(line);
}

/* ---- reading back ------------------------------------------------------------------- */
struct acct_scan {
	json_t *open;                /* "run/session" -> file offset of its start line */
	unsigned long long lines, bad, too_long, first_long, untracked;
	/* the last line when no newline ends it */
	bool tail, tail_long, tail_record;
	off_t tail_off;
	size_t tail_len;
	uint8_t *tail_text;          /* a copy when it is no record (torn) */
};

/* One line (no newline) that starts at `off`: false when it is no accounting record. */
static bool acct_scan_line(struct acct_scan *sc, const char *line, size_t n, off_t off)
{
	json_error_t je;
	json_t *o = json_loadb(line, n, 0, &je);
	if (!json_is_object(o)) {
		json_decref(o);
		return false;
	}
	const char *ev = json_string_value(json_object_get(o, "event"));
	const char *run = json_string_value(json_object_get(o, "run"));
	json_t *id = json_object_get(o, "session");
	if (ev && run && strlen(run) < 64 && json_is_integer(id)) {
		char key[96];
		snprintf(key, sizeof key, "%s/%lld", run, (long long)json_integer_value(id));
		if (strcmp(ev, "start") == 0) {
			if (json_object_get(sc->open, key) || json_object_size(sc->open) < ACCT_OPEN_MAX)
				json_object_set_new(sc->open, key, json_integer((json_int_t)off));
			else
				sc->untracked++;
		} else if (strcmp(ev, "stop") == 0) {
			json_object_del(sc->open, key);
		}
	}
	json_decref(o);
	return true;
}

/* Read the first `size` bytes of the file through a buffer of ACCT_LINE_MAX: memory
 * stays bounded whatever the file holds. -1 on a read error (errno). */
static int acct_scan(struct acct_scan *sc, int fd, off_t size)
{
	char *buf = malloc(ACCT_LINE_MAX);
	if (!buf) return -1;
	size_t have = 0;
	off_t base = 0;              /* file offset of buf[0] */
	bool skipping = false;       /* inside a line longer than the buffer */
	int rc = 0;
	while (base + (off_t)have < size) {
		size_t want = ACCT_LINE_MAX - have;
		if ((off_t)want > size - base - (off_t)have) want = (size_t)(size - base - (off_t)have);
		ssize_t r = pread(fd, buf + have, want, base + (off_t)have);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) {
			rc = r < 0 ? -1 : 0;
			size = base + (off_t)have; /* the file shrank: what was read is all */
			break;
		}
		have += (size_t)r;
		size_t at = 0;
		const char *nl;
		while ((nl = memchr(buf + at, '\n', have - at))) {
			size_t len = (size_t)(nl - (buf + at));
			if (skipping) {
				skipping = false; /* the end of an over-long line */
			} else {
				sc->lines++;
				if (len && !acct_scan_line(sc, buf + at, len, base + (off_t)at)) sc->bad++;
			}
			at += len + 1;
		}
		memmove(buf, buf + at, have - at);
		base += (off_t)at;
		have -= at;
		if (have == ACCT_LINE_MAX) {
			if (!skipping) {
				sc->lines++;
				sc->too_long++;
				if (!sc->first_long) sc->first_long = sc->lines;
				skipping = true;
			}
			base += (off_t)have;
			have = 0;
		}
	}
	if (skipping) {
		sc->tail = sc->tail_long = true;
	} else if (have) {
		sc->lines++;
		sc->tail = true;
		sc->tail_off = base;
		sc->tail_len = have;
		sc->tail_record = acct_scan_line(sc, buf, have, base);
		if (!sc->tail_record) {
			sc->tail_text = malloc(have);
			if (sc->tail_text) memcpy(sc->tail_text, buf, have);
		}
	}
	free(buf);
	return rc;
}

/* The line that starts at `off` (a start record found by acct_scan), parsed. */
static json_t *acct_read_at(int fd, off_t off)
{
	char *buf = malloc(ACCT_LINE_MAX);
	if (!buf) return NULL;
	size_t have = 0;
	while (have < ACCT_LINE_MAX) {
		ssize_t r = pread(fd, buf + have, ACCT_LINE_MAX - have, off + (off_t)have);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) break;
		if (memchr(buf + have, '\n', (size_t)r)) {
			have += (size_t)r;
			break;
		}
		have += (size_t)r;
	}
	const char *nl = memchr(buf, '\n', have);
	json_error_t je;
	json_t *o = json_loadb(buf, nl ? (size_t)(nl - buf) : have, 0, &je);
	free(buf);
	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int off_cmp(const void *a, const void *b)
{
	off_t x = *(const off_t *)a, y = *(const off_t *)b;
	return x < y ? -1 : x > y;
}

/* A last line cut short: replaced by a record that keeps its bytes (when it is not too
 * long to keep), so the file stays one JSON object per line. */
static void acct_mend_tail(struct srv *s, int fd, struct acct_scan *sc)
{
	if (!sc->tail) return;
	if (sc->tail_record || sc->tail_long || !sc->tail_text || ftruncate(fd, sc->tail_off) != 0) {
		/* a whole record without its newline, or too long to keep: end the line */
		if (write(fd, "\n", 1) != 1)
			srv_log(s, SC_ACCT, false, NULL, NULL, "cannot write %s: %s", s->acct_path, strerror(errno));
		if (!sc->tail_record)
			srv_log(s, SC_ACCT, false, NULL, NULL, "%s: line %llu is cut short (no newline ends it): "
			        "skipped, and ended so that new records start on a line of their own",
			        s->acct_path, sc->lines);
		return;
	}
	char now[32];
	iso_time(time(NULL), now, sizeof now);
	json_t *o = json_object();
	json_object_set_new(o, "event", json_string("torn"));
	json_object_set_new(o, "run", json_string(s->run_id));
	json_object_set_new(o, "time", json_string(now));
	json_object_set_new(o, "line", json_integer((json_int_t)sc->lines));
	json_object_set_new(o, "bytes", json_integer((json_int_t)sc->tail_len));
	json_t *text = json_stringn((const char *)sc->tail_text, sc->tail_len);
	if (text) json_object_set_new(o, "text", text);
	else json_object_set_new(o, "hex", json_hex(sc->tail_text, sc->tail_len));
	srv_log(s, SC_ACCT, false, NULL, NULL, "%s: line %llu (%zu bytes) is cut short, the trace of a "
	        "server that was killed while writing it: replaced by a \"torn\" record that keeps its text",
	        s->acct_path, sc->lines, sc->tail_len);
	acct_write(s, o);
}

/* Close the sessions an earlier run left open: one stop record each, in file order. */
static void acct_recover(struct srv *s, int fd, json_t *open_)
{
	size_t n = json_object_size(open_), k = 0;
	if (!n) return;
	off_t *offs = malloc(n * sizeof *offs);
	if (!offs) return;
	const char *key;
	json_t *v;
	json_object_foreach(open_, key, v) offs[k++] = (off_t)json_integer_value(v);
	qsort(offs, n, sizeof *offs, off_cmp);
	time_t t = time(NULL);
	char now[32];
	iso_time(t, now, sizeof now);
	size_t done = 0;
	for (k = 0; k < n; k++) {
		json_t *o = acct_read_at(fd, offs[k]);
		if (!o) continue;
		time_t start = iso_parse(json_string_value(json_object_get(o, "start")));
		json_object_set_new(o, "event", json_string("stop"));
		json_object_set_new(o, "stop", json_string(now));
		/* the earlier run ended some time before this one started: the duration runs to
		 * this start, the longest the session can have lasted */
		json_object_set_new(o, "duration", start >= 0 && start <= t
		                    ? json_integer((json_int_t)(t - start)) : json_null());
		json_object_set_new(o, "cause", json_string("server-restart"));
		json_object_set_new(o, "counts_lost", json_true());
		if (done < ACCT_LOG_EACH)
			srv_log(s, SC_ACCT, false, NULL, NULL,
			        "session %s/%lld of an earlier run has no stop record: closed with cause server-restart",
			        json_string_value(json_object_get(o, "run")),
			        (long long)json_integer_value(json_object_get(o, "session")));
		acct_write(s, o);
		done++;
	}
	if (done > ACCT_LOG_EACH)
		srv_log(s, SC_ACCT, false, NULL, NULL, "%zu sessions of earlier runs closed with cause "
		        "server-restart in all", done);
	free(offs);
}

const char *srv_file_kind(unsigned mode)
{
	mode_t m = (mode_t)mode;
	if (S_ISREG(m)) return "a regular file";
	if (S_ISDIR(m)) return "a directory";
	if (S_ISFIFO(m)) return "a FIFO (named pipe)";
	if (S_ISCHR(m)) return "a character device";
	if (S_ISBLK(m)) return "a block device";
	if (S_ISSOCK(m)) return "a socket";
	if (S_ISLNK(m)) return "a symbolic link";
	return "of an unknown kind";
}

static int acct_refuse(const char *path, const char *kind)
{
	fprintf(stderr, "vnet: accounting file %s: is %s, not a regular file: records are appended to "
	        "it and read back at every start (give the path of a regular file)\n", path, kind);
	return -1;
}

int srv_acct_open(struct srv *s, const char *path)
{
	/* look before opening: opening a FIFO or a device can block or act on the device */
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) return acct_refuse(path, srv_file_kind((unsigned)st.st_mode));
	int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
	              0640);
	if (fd < 0) {
		if (errno == ELOOP) return acct_refuse(path, "a symbolic link");
		fprintf(stderr, "vnet: cannot open the accounting file %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* and again on what was opened: the path may have changed in between */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return acct_refuse(path, srv_file_kind((unsigned)st.st_mode));
	}
	fcntl(fd, F_SETFL, O_APPEND);
	s->acct_path = strdup(path);
	struct acct_scan sc = {.open = json_object()};
	if (!s->acct_path || !sc.open) {
		fprintf(stderr, "vnet: out of memory\n");
		json_decref(sc.open);
		close(fd);
		return -1;
	}
	if (acct_scan(&sc, fd, st.st_size) != 0) {
		fprintf(stderr, "vnet: cannot read the accounting file %s: %s\n", path, strerror(errno));
		json_decref(sc.open);
		free(sc.tail_text);
		close(fd);
		return -1;
	}
	if (sc.bad)
		srv_log(s, SC_ACCT, false, NULL, NULL, "%s: %llu lines are not accounting records, skipped",
		        path, sc.bad);
	if (sc.too_long)
		srv_log(s, SC_ACCT, false, NULL, NULL, "%s: %llu lines longer than %d bytes (the first is line "
		        "%llu) are no accounting records, skipped", path, sc.too_long, ACCT_LINE_MAX,
		        sc.first_long);
	if (sc.untracked)
		srv_log(s, SC_ACCT, false, NULL, NULL, "%s: more than %d sessions of earlier runs are open: "
		        "%llu of them get no server-restart record", path, ACCT_OPEN_MAX, sc.untracked);
	s->acct = fdopen(fd, "a");
	if (!s->acct) {
		fprintf(stderr, "vnet: cannot open the accounting file %s: %s\n", path, strerror(errno));
		json_decref(sc.open);
		free(sc.tail_text);
		close(fd);
		return -1;
	}
	acct_mend_tail(s, fd, &sc);
	acct_recover(s, fd, sc.open);
	json_decref(sc.open);
	free(sc.tail_text);
	return 0;
}

static json_t *acct_record(struct srv *s, const struct ras_session *rs, const char *event)
{
	char ab[20], t1[32];
	iso_time(rs->start_wall, t1, sizeof t1);
	json_t *o = json_object();
	json_object_set_new(o, "event", json_string(event));
	json_object_set_new(o, "run", json_string(s->run_id));
	json_object_set_new(o, "session", json_integer(rs->id));
	json_object_set_new(o, "user", srv_user_json(ras_session_user(rs)));
	json_object_set_new(o, "address", json_string(ipv4_str(rs->addr, ab, sizeof ab)));
	char peer[80];
	if (rs->ops->peer_text(rs, peer, sizeof peer))
		json_object_set_new(o, "client", json_string(peer));
	json_object_set_new(o, "tunnel_type", json_string(tunnel_names[rs->ops->tunnel]));
	json_object_set_new(o, "method", json_string(ras_session_method_name(rs)));
	json_object_set_new(o, "policy", rs->policy >= 0
	                    ? json_string(s->cfg->policies[rs->policy].name) : json_null());
	json_object_set_new(o, "start", json_string(t1));
	return o;
}

void srv_acct_start(struct srv *s, const struct ras_session *rs)
{
	if (!s->acct) return;
	acct_write(s, acct_record(s, rs, "start"));
}

void srv_acct_stop(struct srv *s, const struct ras_session *rs)
{
	if (!s->acct) return;
	json_t *o = acct_record(s, rs, "stop");
	char t2[32], cause[64];
	iso_time(time(NULL), t2, sizeof t2);
	json_object_set_new(o, "stop", json_string(t2));
	json_object_set_new(o, "duration", json_integer((json_int_t)(time(NULL) - rs->start_wall)));
	json_object_set_new(o, "rx_bytes", json_integer((json_int_t)rs->rx_bytes));
	json_object_set_new(o, "tx_bytes", json_integer((json_int_t)rs->tx_bytes));
	json_object_set_new(o, "rx_packets", json_integer((json_int_t)rs->rx_pkts));
	json_object_set_new(o, "tx_packets", json_integer((json_int_t)rs->tx_pkts));
	ras_session_cause_text(rs, cause, sizeof cause);
	json_object_set_new(o, "cause", json_string(cause[0] ? cause : "unknown"));
	acct_write(s, o);
}

void srv_acct_radius(struct srv *s, const char *client, const struct radius_msg *m)
{
	if (!s->acct) return;
	json_t *o = json_object();
	char t[32];
	iso_time(time(NULL), t, sizeof t);
	json_object_set_new(o, "event", json_string("radius-accounting"));
	json_object_set_new(o, "time", json_string(t));
	json_object_set_new(o, "run", json_string(s->run_id));
	json_object_set_new(o, "client", srv_user_json(client));
	json_object_set_new(o, "request", radius_to_json(m));
	acct_write(s, o);
}

void srv_acct_sync(struct srv *s)
{
	if (!s->acct || !s->acct_dirty) return;
	s->acct_dirty = false;
	if (fsync(fileno(s->acct)) != 0)
		srv_log(s, SC_ACCT, false, NULL, NULL, "cannot sync %s: %s", s->acct_path, strerror(errno));
}

void srv_acct_close(struct srv *s)
{
	srv_acct_sync(s);
	if (s->acct) fclose(s->acct);
	s->acct = NULL;
	free(s->acct_path);
	s->acct_path = NULL;
}

/* ---- capture ------------------------------------------------------------------------ */
int srv_capture_open(struct srv *s, const char *path)
{
	pcap_t *p = pcap_open_dead(DLT_RAW, 65535);
	if (!p) return -1;
	pcap_dumper_t *d = pcap_dump_open(p, path);
	if (!d) {
		fprintf(stderr, "vnet: --capture %s: %s\n", path, pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	s->pcap = p;
	s->dumper = d;
	return 0;
}


void srv_capture(struct srv *s, const struct sockaddr_storage *peer, bool out,
                 const uint8_t *buf, size_t len)
{
	srv_capture_udp(s, &s->local, peer, out, buf, len);
}

void srv_capture_udp(struct srv *s, const struct sockaddr_storage *local,
                     const struct sockaddr_storage *peer, bool out, const uint8_t *buf, size_t len)
{
	if (!s->dumper || len > 65000 || local->ss_family != peer->ss_family) return;
	uint8_t pkt[65536];
	size_t hl;
	const struct sockaddr_storage *src = out ? local : peer, *dst = out ? peer : local;
	uint16_t sport, dport;
	if (peer->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)src, *b = (const void *)dst;
		hl = 20;
		memset(pkt, 0, hl);
		pkt[0] = 0x45;
		size_t tot = hl + 8 + len;
		pkt[2] = (uint8_t)(tot >> 8);
		pkt[3] = (uint8_t)tot;
		pkt[6] = 0x40; /* DF */
		pkt[8] = 64;
		pkt[9] = 17;
		memcpy(pkt + 12, &a->sin_addr, 4);
		memcpy(pkt + 16, &b->sin_addr, 4);
		uint16_t c = inet_cksum(pkt, hl, 0);
		pkt[10] = (uint8_t)(c >> 8);
		pkt[11] = (uint8_t)c;
		sport = a->sin_port;
		dport = b->sin_port;
	} else {
		const struct sockaddr_in6 *a = (const void *)src, *b = (const void *)dst;
		hl = 40;
		memset(pkt, 0, hl);
		pkt[0] = 0x60;
		size_t pl = 8 + len;
		pkt[4] = (uint8_t)(pl >> 8);
		pkt[5] = (uint8_t)pl;
		pkt[6] = 17;
		pkt[7] = 64;
		memcpy(pkt + 8, &a->sin6_addr, 16);
		memcpy(pkt + 24, &b->sin6_addr, 16);
		sport = a->sin6_port;
		dport = b->sin6_port;
	}
	uint8_t *u = pkt + hl;
	memcpy(u, &sport, 2);
	memcpy(u + 2, &dport, 2);
	u[4] = (uint8_t)((8 + len) >> 8);
	u[5] = (uint8_t)(8 + len);
	u[6] = u[7] = 0; /* no UDP checksum (IPv4); IPv6 needs one: computed below */
	memcpy(u + 8, buf, len);
	if (peer->ss_family == AF_INET6) {
		uint8_t ph[40];
		memcpy(ph, pkt + 8, 32);
		uint32_t l = (uint32_t)(8 + len);
		ph[32] = (uint8_t)(l >> 24);
		ph[33] = (uint8_t)(l >> 16);
		ph[34] = (uint8_t)(l >> 8);
		ph[35] = (uint8_t)l;
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = 17;
		uint16_t c = inet_cksum(u, 8 + len, (uint16_t)~inet_cksum(ph, 40, 0));
		if (!c) c = 0xffff;
		u[6] = (uint8_t)(c >> 8);
		u[7] = (uint8_t)c;
	}
	struct pcap_pkthdr h;
	gettimeofday(&h.ts, NULL);
	h.caplen = h.len = (bpf_u_int32)(hl + 8 + len);
	pcap_dump((u_char *)s->dumper, &h, pkt);
	pcap_dump_flush(s->dumper);
}

void srv_capture_close(struct srv *s)
{
	if (s->dumper) pcap_dump_close(s->dumper);
	if (s->pcap) pcap_close(s->pcap);
	s->dumper = s->pcap = NULL;
}

/* An IPv4 packet of `proto` from src to dst around `hdr` (hl bytes) and `buf`. */
static void capture_ip4(struct srv *s, const struct sockaddr_storage *src,
                        const struct sockaddr_storage *dst, uint8_t proto, uint8_t *pkt,
                        size_t l4len)
{
	const struct sockaddr_in *a = (const void *)src, *b = (const void *)dst;
	memset(pkt, 0, 20);
	pkt[0] = 0x45;
	size_t tot = 20 + l4len;
	pkt[2] = (uint8_t)(tot >> 8);
	pkt[3] = (uint8_t)tot;
	pkt[6] = 0x40; /* DF */
	pkt[8] = 64;
	pkt[9] = proto;
	memcpy(pkt + 12, &a->sin_addr, 4);
	memcpy(pkt + 16, &b->sin_addr, 4);
	uint16_t c = inet_cksum(pkt, 20, 0);
	pkt[10] = (uint8_t)(c >> 8);
	pkt[11] = (uint8_t)c;
	struct pcap_pkthdr h;
	gettimeofday(&h.ts, NULL);
	h.caplen = h.len = (bpf_u_int32)tot;
	pcap_dump((u_char *)s->dumper, &h, pkt);
	pcap_dump_flush(s->dumper);
}

void srv_capture_ip(struct srv *s, const struct sockaddr_storage *src,
                    const struct sockaddr_storage *dst, uint8_t proto, const uint8_t *buf,
                    size_t len)
{
	if (!s->dumper || len > 65000 || src->ss_family != AF_INET) return;
	uint8_t pkt[65536];
	memcpy(pkt + 20, buf, len);
	capture_ip4(s, src, dst, proto, pkt, len);
}

void srv_capture_tcp(struct srv *s, const struct sockaddr_storage *src,
                     const struct sockaddr_storage *dst, uint32_t seq, uint32_t ack,
                     uint8_t flags, const uint8_t *buf, size_t len)
{
	if (!s->dumper || len > 65000 || src->ss_family != AF_INET) return;
	uint8_t pkt[65536];
	uint8_t *t = pkt + 20;
	const struct sockaddr_in *a = (const void *)src, *b = (const void *)dst;
	memset(t, 0, 20);
	memcpy(t, &a->sin_port, 2);
	memcpy(t + 2, &b->sin_port, 2);
	for (int i = 0; i < 4; i++) {
		t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	t[12] = 5 << 4;
	t[13] = flags;
	t[14] = 0xff; /* window 65535 */
	t[15] = 0xff;
	if (len) memcpy(t + 20, buf, len);
	/* checksum over the pseudo-header and the segment */
	uint8_t ph[12];
	memcpy(ph, &a->sin_addr, 4);
	memcpy(ph + 4, &b->sin_addr, 4);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)((20 + len) >> 8);
	ph[11] = (uint8_t)(20 + len);
	uint16_t c = inet_cksum(t, 20 + len, (uint16_t)~inet_cksum(ph, 12, 0));
	t[16] = (uint8_t)(c >> 8);
	t[17] = (uint8_t)c;
	capture_ip4(s, src, dst, 6, pkt, 20 + len);
}
