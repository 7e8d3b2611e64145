/* `vnet serve`: what every datagram costs in system calls, and the log.
 *
 * While the loop handles a burst (srv_io_hold .. srv_io_release: the datagrams one read
 * of a listener brings, the timers due at once), the datagrams the server sends are
 * gathered and leave with one sendmmsg per listener, and the log lines with one write,
 * when the burst is over; outside a burst both go out at once, as they come. Nothing is
 * held across bursts, nothing is dropped: a full batch is sent before it takes more.
 * Random bytes (tunnel and session IDs, challenges, magic numbers) are drawn from
 * OpenSSL a block at a time, and each byte is handed out once and wiped.
 */
#include "server.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- random bytes ---------------------------------------------------------------- */
void srv_random(struct srv *s, uint8_t *buf, size_t n)
{
	struct srv_io *io = &s->io;
	while (n) {
		if (!io->rnd_left) {
			if (RAND_bytes(io->rnd, (int)sizeof io->rnd) != 1) {
				/* no entropy to be had: what the server did before, byte by byte */
				for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)random();
				return;
			}
			io->rnd_left = sizeof io->rnd;
		}
		/* the bytes left are the last rnd_left of the block */
		uint8_t *p = io->rnd + sizeof io->rnd - io->rnd_left;
		size_t k = io->rnd_left < n ? io->rnd_left : n;
		memcpy(buf, p, k);
		OPENSSL_cleanse(p, k);
		io->rnd_left = (uint16_t)(io->rnd_left - k);
		buf += k;
		n -= k;
	}
}

/* ---- the log --------------------------------------------------------------------- */
static void log_write(int fd, const char *p, size_t n)
{
	for (int tries = 0; n && tries < 64; tries++) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR) continue;
			return; /* nowhere to say it: the line is lost, the server goes on */
		}
		p += w;
		n -= (size_t)w;
	}
}

static void log_flush(struct srv_io *io)
{
	if (!io->log_len) return;
	log_write(STDERR_FILENO, io->log, io->log_len);
	io->log_len = 0;
}

void srv_log_line(struct srv *s, enum srv_cat cat, bool debug_only,
                  const struct srv_l2tp_tunnel *t, const struct ras_session *rs, const char *msg)
{
	if (!srv_log_wanted(s, cat, debug_only)) return;
	struct srv_io *io = &s->io;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != io->log_sec || !io->log_when[0]) {
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		strftime(io->log_when, sizeof io->log_when, "%Y-%m-%dT%H:%M:%S", &tm);
		io->log_sec = ts.tv_sec;
	}
	char ids[64] = "";
	unsigned id[4];
	if (rs && rs->ops->ids && rs->ops->ids(rs, id))
		snprintf(ids, sizeof ids, " t=%u/%u s=%u/%u", id[0], id[1], id[2], id[3]);
	else if (t)
		snprintf(ids, sizeof ids, " t=%u/%u", t->t.local_tid, t->t.peer_tid);
	char line[SRV_LOG_LINE_MAX + 128];
	int h = snprintf(line, sizeof line, "%s.%03ldZ %s%s ", io->log_when, ts.tv_nsec / 1000000,
	                 srv_cat_names[cat], ids);
	size_t n = h > 0 ? (size_t)h : 0;
	/* peer text is escaped where it is formatted (srv_user_text); a control byte that got
	 * here anyway still cannot end the line or reach the terminal */
	for (const char *p = msg; *p && n < sizeof line - 1; p++)
		line[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
	line[n++] = '\n';
	if (!io->hold) {
		log_write(STDERR_FILENO, line, n);
		return;
	}
	if (io->log_len + n > sizeof io->log) log_flush(io);
	memcpy(io->log + io->log_len, line, n);
	io->log_len += n;
}

/* ---- datagrams ------------------------------------------------------------------- */
static void tx_flush(struct srv *s)
{
	struct srv_io *io = &s->io;
	unsigned i = 0;
	for (unsigned guard = 0; i < io->tx_n && guard <= SRV_TX_BATCH; guard++) {
		struct mmsghdr m[SRV_TX_BATCH];
		struct iovec iov[SRV_TX_BATCH];
		unsigned k = 0;
		/* one sendmmsg per run of datagrams for the same socket */
		for (; i + k < io->tx_n && io->tx[i + k].fd == io->tx[i].fd; k++) {
			struct srv_tx *x = &io->tx[i + k];
			iov[k] = (struct iovec){.iov_base = io->tx_buf + x->off, .iov_len = x->len};
			m[k] = (struct mmsghdr){.msg_hdr = {.msg_name = &x->peer, .msg_namelen = x->plen,
			                                    .msg_iov = &iov[k], .msg_iovlen = 1}};
		}
		int fd = io->tx[i].fd;
		unsigned done = 0;
		while (done < k) {
			int r = sendmmsg(fd, m + done, k - done, 0);
			if (r < 0 && errno == EINTR) continue;
			if (r <= 0) {
				/* this one failed: say so, go on with the next */
				srv_tx_result(s, &io->tx[i + done], io->tx_buf + io->tx[i + done].off, errno);
				done++;
				continue;
			}
			for (int j = 0; j < r; j++)
				srv_tx_result(s, &io->tx[i + done + (unsigned)j],
				              io->tx_buf + io->tx[i + done + (unsigned)j].off, 0);
			done += (unsigned)r;
		}
		i += k;
	}
	io->tx_n = 0;
	io->tx_used = 0;
}

int srv_send(struct srv *s, int fd, const struct sockaddr_storage *peer, socklen_t plen,
             const uint8_t *buf, size_t len, const uint16_t ids[2])
{
	struct srv_io *io = &s->io;
	/* a capture file gets the datagrams in the order they went: no batch then */
	if (!io->hold || s->dumper || len > sizeof io->tx_buf) {
		struct srv_tx x = {.fd = fd, .plen = plen, .peer = *peer, .len = (uint32_t)len};
		if (ids) memcpy(x.ids, ids, sizeof x.ids);
		ssize_t n = sendto(fd, buf, len, 0, (const struct sockaddr *)peer, plen);
		int err = n < 0 ? errno : 0;
		srv_tx_result(s, &x, buf, err);
		return err;
	}
	if (io->tx_n == SRV_TX_BATCH || io->tx_used + len > sizeof io->tx_buf) tx_flush(s);
	struct srv_tx *x = &io->tx[io->tx_n++];
	x->fd = fd;
	x->peer = *peer;
	x->plen = plen;
	x->off = io->tx_used;
	x->len = (uint32_t)len;
	if (ids) memcpy(x->ids, ids, sizeof x->ids);
	else x->ids[0] = x->ids[1] = 0;
	memcpy(io->tx_buf + io->tx_used, buf, len);
	io->tx_used += (uint32_t)len;
	return -1;
}

void srv_io_hold(struct srv *s)
{
	s->io.hold++;
}

void srv_io_release(struct srv *s)
{
	struct srv_io *io = &s->io;
	if (!io->hold || --io->hold) return;
	tx_flush(s);
	log_flush(io);
}
