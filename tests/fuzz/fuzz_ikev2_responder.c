/* Drives the IKEv2 responder (engine/ike/ikev2.h) with mutated messages and clock jumps.
 *
 * Input: a mode byte, then records [u16 length][bytes] with a one-byte clock step
 * (x 500 ms) after each. Mode bit 0 clear: each record is a datagram as it arrives on the
 * wire. Mode bit 0 set: the in-process initiator of tests/unit/ikev2_peer.h first
 * completes IKE_SA_INIT, then each record is a payload chain the harness protects with
 * the SA's keys: byte 0 the exchange (34 + b % 4) and whether it goes as a response (bit
 * 7) or as fragment 1, 2 of 2 (bits 4-5), bytes 1-4 the message ID (its low bits mixed
 * with the expected one), byte 5 the first payload type, the rest the payloads. So the
 * fuzzer reaches IKE_AUTH, EAP, CREATE_CHILD_SA and INFORMATIONAL behind the integrity
 * check, from whatever state the records before left. Bit 1: the verdicts are given
 * later (at the next record), bit 2: the password check succeeds for every user, bit 3:
 * GCM instead of CBC. The responder must never crash, read out of bounds or leak; its
 * deadlines must be honoured by tick, and the SA must end when its timers run out. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../unit/ikev2_peer.h"

static uint64_t rng = 88172645463325252ull;
static uint8_t last[8192];
static size_t lastlen;
static struct ikev2_sa *cur;
static bool later, pending, any_password;

static void f_send(void *ctx, const uint8_t *b, size_t n, bool natt)
{
	(void)ctx; (void)natt;
	if (n <= sizeof last) {
		memcpy(last, b, n);
		lastlen = n;
	}
}
static void f_event(void *ctx, enum ikev2_ev k, const char *t) { (void)ctx; (void)k; (void)strlen(t); }
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
	if (!any_password && strcmp(user, "alice"))
		return -1;
	snprintf(buf, cap, "fuzz");
	return 4;
}
static void f_authorize(void *ctx, const struct ikev2_auth_req *q)
{
	(void)ctx;
	if (later) {
		pending = true;
		return;
	}
	struct ikev2_verdict v = {.accept = q->cred == PPP_CRED_OK, .addr = {10, 99, 0, 5}};
	ikev2_authorize_done(cur, &v, 0);
}
static void f_child(void *ctx, const struct ikev2_child *c) { (void)ctx; (void)c; }
static void f_down(void *ctx, const struct ikev2_child *c, const char *w) { (void)ctx; (void)c; (void)strlen(w); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	static struct ikev2_conf conf;
	ikev2_conf_default(&conf);
	conf.server_auth = IKEV2_SAUTH_PSK;
	conf.psk = (const uint8_t *)"fuzz";
	conf.psk_len = 4;
	conf.frag_size = 200;
	conf.dpd_ms = 5000;
	conf.dns[0][0] = 10;
	conf.n_dns = 1;
	if (mode & 16)
		conf.client_auth = IKEV2_CAUTH_PSK;
	later = mode & 2;
	any_password = mode & 4;
	pending = false;
	struct ikev2_cbs cbs = {NULL, f_send, f_event, f_random, f_password, f_authorize, f_child,
	                        f_down};
	struct ikev2_addr local = {.family = 4, .ip = {10, 0, 0, 1}, .port = 500};
	struct ikev2_addr peer = {.family = 4, .ip = {10, 0, 0, 2}, .port = 500};
	rng = 88172645463325252ull;
	uint64_t now = 0;
	struct ikev2_sa *sa = ikev2_new(&conf, &cbs, &local, &peer, now);
	if (!sa)
		return 0;
	cur = sa;
	static struct v2peer p;
	bool keyed = false;
	if (mode & 1) {
		v2p_init(&p);
		p.group = p.ke_group = 19; /* the cheapest group: the time goes to the parsers */
		if (mode & 8) {
			p.encr = IKE2_ENCR_AES_GCM_16;
			p.integ = 0;
		}
		static uint8_t msg[4096];
		size_t n = v2p_init_req(&p, msg, sizeof msg);
		lastlen = 0;
		ikev2_input(sa, msg, n, &local, &peer, now);
		keyed = lastlen && v2p_init_resp(&p, last, lastlen);
	}
	uint32_t mid = 1;
	size_t off = 1;
	for (int rec = 0; rec < 32 && off + 2 <= size; rec++) {
		size_t n = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (n > size - off)
			n = size - off;
		const uint8_t *r = data + off;
		off += n;
		if (pending && ikev2_state(sa) == IKEV2_AUTHORIZING) {
			pending = false;
			struct ikev2_verdict v = {.accept = rec & 1, .addr = {10, 99, 0, 6}};
			ikev2_authorize_done(sa, &v, now);
		}
		if (keyed && n >= 6) {
			static uint8_t out[8192];
			uint8_t exch = (uint8_t)(34 + (r[0] & 3));
			bool resp = r[0] & 0x80;
			unsigned frag = (r[0] >> 4) & 3;
			uint32_t msgid = (v2p_get32(r + 1) & 0xfffffffc) | ((mid + (r[1] & 3)) & 3);
			if (!(r[1] & 0x80))
				msgid = mid; /* mostly the one the responder expects */
			size_t body = n - 6, sl;
			if (frag && body >= 2) {
				size_t half = body / 2;
				sl = v2p_seal(&p, exch, msgid, resp, r[5], r + 6, half, 1, 2, out, sizeof out);
				if (sl)
					ikev2_input(sa, out, sl, &local, &peer, now);
				sl = v2p_seal(&p, exch, msgid, resp, 0, r + 6 + half, body - half, 2, 2, out,
				              sizeof out);
			} else {
				sl = v2p_seal(&p, exch, msgid, resp, r[5], r + 6, body, 0, 0, out, sizeof out);
			}
			if (sl)
				ikev2_input(sa, out, sl, &local, &peer, now);
			if (msgid == mid && !resp)
				mid++;
		} else {
			ikev2_input(sa, r, n, &local, &peer, now);
		}
		uint8_t step = off < size ? data[off++] : 0;
		now += (uint64_t)step * 500;
		if (ikev2_deadline(sa) <= now)
			ikev2_tick(sa, now);
		if (step == 0xff)
			ikev2_delete(sa, "fuzz", now);
	}
	/* every timer runs out: the SA must end within a bounded number of ticks */
	for (int i = 0; i < 64; i++) {
		uint64_t d = ikev2_deadline(sa);
		if (d == IKEV2_NEVER)
			break;
		now = d > now ? d : now + 1;
		ikev2_tick(sa, now);
	}
	if (ikev2_state(sa) != IKEV2_DEAD)
		__builtin_trap();
	ikev2_free(sa);
	if (mode & 1)
		v2p_free(&p);
	return 0;
}
