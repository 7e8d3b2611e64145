/* Drives a PPP link (server side by default) with mutated frames and clock jumps.
 *
 * Input: a mode byte, then records [u16 length][PPP frame] with a one-byte clock step
 * (x 500 ms) after each. Mode bit 0: client side; bits 1-2: which methods the server
 * enables; bit 3: MPPE required; bit 4: the admission callback rejects with 649; bit 5:
 * IPv6 off (IPV6CP is Protocol-Rejected instead of negotiated). The
 * session must never crash, read out of bounds or allocate, and its timers must bring
 * it to an end. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ppp/ppp_session.h"

static uint64_t rng;
static uint8_t mode;
static unsigned leased;

static void f_send(void *ctx, const uint8_t *b, size_t n) { (void)ctx; (void)b; (void)n; }
static void f_event(void *ctx, enum ppp_log k, const char *t) { (void)ctx; (void)k; (void)strlen(t); }
static void f_random(void *ctx, uint8_t *b, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		b[i] = (uint8_t)rng;
	}
}
static int f_password(void *ctx, const char *user, char *buf, size_t cap)
{
	(void)ctx;
	if (user[0] == 0) return -1;
	snprintf(buf, cap, "secret");
	return 6;
}
static struct ppp_admit f_admit(void *ctx, const char *u, enum ppp_auth_method m, enum ppp_cred c)
{
	(void)ctx; (void)u; (void)m;
	struct ppp_admit v = {c == PPP_CRED_OK && !(mode & 16), (mode & 16) ? 649 : 691, NULL, false};
	return v;
}
static uint32_t f_alloc(void *ctx, uint32_t want)
{
	(void)ctx; (void)want;
	if (leased) return 0;
	leased++;
	return 0x0a000005;
}
static void f_free(void *ctx, uint32_t a) { (void)ctx; (void)a; leased--; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) return 0;
	mode = data[0];
	rng = 0x2545f4914f6cdd1dull;
	leased = 0;
	struct ppp_session_conf conf;
	ppp_session_conf_default(&conf, !(mode & 1));
	static const uint32_t methods[4] = {
		PPP_AUTH_BIT(PPP_AUTH_MSCHAPV2) | PPP_AUTH_BIT(PPP_AUTH_CHAP_MD5) | PPP_AUTH_BIT(PPP_AUTH_PAP),
		PPP_AUTH_BIT(PPP_AUTH_PAP), PPP_AUTH_BIT(PPP_AUTH_CHAP_MD5), 0};
	conf.auth_methods = methods[(mode >> 1) & 3];
	conf.mppe_required = (mode & 8) != 0;
	conf.ipv6 = (mode & 32) == 0;
	conf.local_addr = 0x0a000001;
	conf.dns[0] = 0x0a000035;
	conf.echo_interval_ms = 10000;
	conf.auth.name = "bob";
	conf.auth.password = "secret";
	conf.auth.retry_password = "secret";
	struct ppp_session_cbs cbs = {0};
	cbs.send = f_send;
	cbs.event = f_event;
	cbs.random = f_random;
	cbs.password = f_password;
	cbs.admit = f_admit;
	cbs.addr_alloc = f_alloc;
	cbs.addr_free = f_free;
	static struct ppp_session s;
	ppp_session_init(&s, &conf, &cbs);
	uint64_t now = 0;
	ppp_session_start(&s, now);
	size_t off = 1;
	for (int rec = 0; rec < 64 && off + 2 <= size; rec++) {
		size_t n = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (n > size - off) n = size - off;
		uint64_t d = ppp_session_input(&s, data + off, n, now);
		off += n;
		uint8_t step = off < size ? data[off++] : 0;
		now += (uint64_t)step * 500;
		if (d != PPP_NEVER && d <= now) ppp_session_tick(&s, now);
		if (step == 0xff) ppp_session_close(&s, "fuzz", 0, now);
	}
	ppp_session_close(&s, "end", 0, now);
	for (int i = 0; i < 100; i++) {
		uint64_t d = ppp_session_deadline(&s);
		if (d == PPP_NEVER) break;
		now = d > now ? d : now + 1;
		ppp_session_tick(&s, now);
	}
	if (leased != 0 && s.phase == PPP_PHASE_DEAD) __builtin_trap(); /* address leaked */
	ppp_session_free(&s);
	return 0;
}
