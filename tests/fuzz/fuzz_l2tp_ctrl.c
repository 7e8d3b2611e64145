/* Drives the L2TP control connection with mutated datagrams and clock jumps.
 *
 * Input: a mode byte, then records [u16 length][datagram] with a one-byte clock step
 * (x 250 ms) after each. Mode bit 0: LAC instead of LNS; bit 1: shared secret; bit 2:
 * hidden AVPs; bit 3: one L2TP port only. The tunnel must never crash, read out of
 * bounds or allocate; every deadline it returns must be honoured by tick. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "l2tp/l2tp_ctrl.h"

static uint64_t rng = 88172645463325252ull;
static unsigned ports;

static void f_send(void *ctx, const uint8_t *b, size_t n) { (void)ctx; (void)b; (void)n; }
static void f_event(void *ctx, enum l2tp_ev k, uint16_t sid, const char *t)
{
	(void)ctx; (void)k; (void)sid;
	(void)strlen(t);
}
static void f_random(void *ctx, uint8_t *b, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		b[i] = (uint8_t)rng;
	}
}
static bool f_acquire(void *ctx) { (void)ctx; if (ports >= 1) return false; ports++; return true; }
static void f_release(void *ctx) { (void)ctx; ports--; }
static void f_data(void *ctx, uint16_t sid, const uint8_t *p, size_t n)
{
	(void)ctx; (void)sid;
	volatile uint8_t x = 0;
	for (size_t i = 0; i < n; i++) x ^= p[i];
	(void)x;
}

static const uint8_t secret[] = "fuzz-secret";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) return 0;
	uint8_t mode = data[0];
	struct l2tp_ctrl_conf conf;
	l2tp_ctrl_conf_default(&conf, mode & 1);
	if (mode & 2) {
		conf.secret = secret;
		conf.secret_len = sizeof secret - 1;
	}
	conf.hide_avps = (mode & 4) != 0;
	struct l2tp_ctrl_cbs cbs = {0};
	cbs.send = f_send;
	cbs.event = f_event;
	cbs.random = f_random;
	cbs.data = f_data;
	if (mode & 8) {
		cbs.port_acquire = f_acquire;
		cbs.port_release = f_release;
	}
	ports = 0;
	rng = 88172645463325252ull;
	static struct l2tp_tunnel t;
	l2tp_ctrl_init(&t, &conf, &cbs);
	uint64_t now = 0;
	if (mode & 1) l2tp_lac_open(&t, now);
	size_t off = 1;
	for (int rec = 0; rec < 64 && off + 2 <= size; rec++) {
		size_t n = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (n > size - off) n = size - off;
		uint64_t d = l2tp_ctrl_input(&t, data + off, n, now);
		off += n;
		uint8_t step = off < size ? data[off++] : 0;
		now += (uint64_t)step * 250;
		if (d != L2TP_NEVER && d <= now) l2tp_ctrl_tick(&t, now);
		if ((mode & 1) && t.state == L2TP_TUN_ESTABLISHED && (step & 1)) l2tp_lac_call(&t, now);
		if (step == 0xff) l2tp_ctrl_stop(&t, 6, 0, "fuzz", now);
	}
	/* let every timer run out: the tunnel must end, within a bounded number of ticks */
	for (int i = 0; i < 200; i++) {
		uint64_t d = l2tp_ctrl_deadline(&t);
		if (d == L2TP_NEVER) break;
		now = d > now ? d : now + 1;
		l2tp_ctrl_tick(&t, now);
	}
	l2tp_ctrl_free(&t);
	return 0;
}
