/* Accounting records and the packet capture of `vnet serve` (server.h).
 *
 * Accounting: one JSON object per line, a "start" when a session comes up and a "stop"
 * when it ends, each flushed to disk before the server goes on, so a killed server loses
 * nothing already said. At start-up, sessions of an earlier run that have a start and no
 * stop are closed with cause "server-restart": that run ended without saying so.
 *
 * Capture: every datagram the server sends or receives, with IPv4/IPv6 and UDP headers
 * rebuilt around it, as raw-IP pcap records that `vnet pcap explain` reads.
 */
#include "server.h"
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static void iso_time(time_t t, char *buf, size_t n)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
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

/* Close the sessions an earlier run left open. */
static void acct_recover(struct srv *s, FILE *f)
{
	json_t *open_ = json_object(); /* key "run/session" -> start record */
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0, bad = 0;
	while ((n = getline(&line, &cap, f)) > 0 && lineno < 10000000) {
		lineno++;
		json_error_t je;
		json_t *o = json_loadb(line, (size_t)n, 0, &je);
		if (!o || !json_is_object(o)) {
			bad++;
			json_decref(o);
			continue;
		}
		const char *ev = json_string_value(json_object_get(o, "event"));
		const char *run = json_string_value(json_object_get(o, "run"));
		json_int_t id = json_integer_value(json_object_get(o, "session"));
		if (ev && run) {
			char key[64];
			snprintf(key, sizeof key, "%s/%lld", run, (long long)id);
			if (strcmp(ev, "start") == 0) json_object_set(open_, key, o);
			else if (strcmp(ev, "stop") == 0) json_object_del(open_, key);
		}
		json_decref(o);
	}
	free(line);
	if (bad)
		srv_log(s, SC_ACCT, false, NULL, NULL, "%s: %u lines are not accounting records, skipped",
		        s->acct_path, bad);
	const char *key;
	json_t *st;
	char now[32];
	iso_time(time(NULL), now, sizeof now);
	json_object_foreach(open_, key, st) {
		json_t *o = json_deep_copy(st);
		json_object_set_new(o, "event", json_string("stop"));
		json_object_set_new(o, "stop", json_string(now));
		json_object_set_new(o, "cause", json_string("server-restart"));
		json_object_set_new(o, "counts_lost", json_true());
		srv_log(s, SC_ACCT, false, NULL, NULL,
		        "session %s of an earlier run has no stop record: closed with cause server-restart",
		        key);
		acct_write(s, o);
	}
	json_decref(open_);
}

int srv_acct_open(struct srv *s, const char *path)
{
	s->acct_path = strdup(path);
	FILE *old = fopen(path, "r");
	s->acct = fopen(path, "a");
	if (!s->acct || !s->acct_path) {
		fprintf(stderr, "vnet: cannot open the accounting file %s: %s\n", path, strerror(errno));
		if (old) fclose(old);
		return -1;
	}
	if (old) {
		acct_recover(s, old);
		fclose(old);
	}
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
	json_object_set_new(o, "user", json_string(rs->ppp.user));
	json_object_set_new(o, "address", json_string(ipv4_str(rs->addr, ab, sizeof ab)));
	char peer[80];
	if (rs->ops->peer_text(rs, peer, sizeof peer))
		json_object_set_new(o, "client", json_string(peer));
	json_object_set_new(o, "tunnel_type", json_string(tunnel_names[rs->ops->tunnel]));
	json_object_set_new(o, "method", json_string(srv_tok(ppp_auth_method_names, rs->method)));
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
	if (!s->dumper || len > 65000) return;
	uint8_t pkt[65536];
	size_t hl;
	const struct sockaddr_storage *src = out ? &s->local : peer, *dst = out ? peer : &s->local;
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
