/* Drives the IKEv2 initiator (engine/ike/ikev2_init.h) with mutated answers and clock
 * jumps.
 *
 * Input: a mode byte, then records [u16 length][bytes][clock step x 250 ms]. The engine's
 * responder first answers the initiator for real until it reaches the state the low
 * three bits of the mode name (0 waiting for the IKE_SA_INIT answer, 1 for the first
 * IKE_AUTH answer, 2 in EAP, 3 for the answer to the final AUTH, 4 established); from
 * there each record is a datagram from the responder, with the SA's two SPIs written over
 * its first 16 bytes so that the decoder, the decryption and the state's checks see it
 * (bit 5 clear: the R flag set and the I flag cleared as well). Bit 3: NAT forced; bit 4:
 * the records arrive on the NAT-T port. The initiator must never crash, read out of
 * bounds or leak, every deadline it returns must be honoured by tick, and the SA must end
 * once its timers run out. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike.h"
#include "ike/ikev2.h"
#include "ike/ikev2_init.h"

#define MAXQ 8

static uint64_t rng;
static uint8_t to_r[MAXQ][IKEV2_DATAGRAM_MAX], to_i[MAXQ][IKEV2_DATAGRAM_MAX];
static size_t to_r_len[MAXQ], to_i_len[MAXQ];
static bool to_r_natt[MAXQ], to_i_natt[MAXQ];
static int n_to_r, n_to_i;
static struct ikev2_sa *resp;

static void f_random(void *ctx, uint8_t *b, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		b[i] = (uint8_t)rng;
	}
}
static void i_send(void *ctx, const uint8_t *b, size_t n, bool natt)
{
	(void)ctx;
	if (n_to_r < MAXQ && n <= IKEV2_DATAGRAM_MAX) {
		memcpy(to_r[n_to_r], b, n);
		to_r_len[n_to_r] = n;
		to_r_natt[n_to_r++] = natt;
	}
}
static void r_send(void *ctx, const uint8_t *b, size_t n, bool natt)
{
	(void)ctx;
	if (n_to_i < MAXQ && n <= IKEV2_DATAGRAM_MAX) {
		memcpy(to_i[n_to_i], b, n);
		to_i_len[n_to_i] = n;
		to_i_natt[n_to_i++] = natt;
	}
}
static void f_event(void *ctx, enum ikev2_ev k, const char *t) { (void)ctx; (void)k; (void)strlen(t); }
static void f_child(void *ctx, const struct ikev2_child *c) { (void)ctx; (void)c; }
static void f_down(void *ctx, const struct ikev2_child *c, const char *w) { (void)ctx; (void)c; (void)strlen(w); }
static int f_password(void *ctx, const char *user, char *buf, size_t cap)
{
	(void)ctx;
	(void)user;
	snprintf(buf, cap, "fuzz-pw");
	return 7;
}
static void f_authorize(void *ctx, const struct ikev2_auth_req *req)
{
	(void)ctx;
	struct ikev2_verdict v = {.accept = req->cred == PPP_CRED_OK, .addr = {10, 9, 9, 9}};
	ikev2_authorize_done(resp, &v, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	static const enum ikev2i_state stop_at[] = {IKEV2I_INIT, IKEV2I_AUTH, IKEV2I_EAP,
	                                            IKEV2I_AUTH_FINAL, IKEV2I_ESTABLISHED};
	enum ikev2i_state stop = stop_at[(mode & 7) % 5];
	static struct ikev2i_conf ic;
	static struct ikev2_conf rc;
	ikev2i_conf_default(&ic);
	ic.psk = (const uint8_t *)"fuzz";
	ic.psk_len = 4;
	ic.user = "fuzzer";
	ic.password = "fuzz-pw";
	ic.force_encap = mode & 8;
	ikev2_conf_default(&rc);
	rc.server_auth = IKEV2_SAUTH_PSK;
	rc.psk = ic.psk;
	rc.psk_len = ic.psk_len;
	struct ikev2_cbs icbs = {.random = f_random, .send = i_send, .event = f_event,
	                         .child_up = f_child, .child_down = f_down};
	struct ikev2_cbs rcbs = {.random = f_random, .send = r_send, .event = f_event,
	                         .child_up = f_child, .child_down = f_down,
	                         .password = f_password, .authorize = f_authorize};
	struct ikev2_addr ia = {.family = 4, .ip = {10, 0, 0, 2}, .port = 500};
	struct ikev2_addr ra = {.family = 4, .ip = {10, 0, 0, 1}, .port = 500};
	rng = 88172645463325252ull;
	n_to_r = n_to_i = 0;
	uint64_t now = 0;
	struct ikev2i *i = ikev2i_new(&ic, &icbs, &ia, &ra);
	resp = ikev2_new(&rc, &rcbs, &ra, &ia, now);
	if (!i || !resp) {
		ikev2i_free(i);
		ikev2_free(resp);
		return 0;
	}
	ikev2i_start(i, now);
	/* the real exchange up to the chosen state */
	for (int round = 0; round < 12 && ikev2i_state(i) != stop && ikev2i_state(i) != IKEV2I_DEAD;
	     round++) {
		for (int k = 0; k < n_to_r; k++) {
			struct ikev2_addr l = ra, p = ia;
			l.port = p.port = to_r_natt[k] ? 4500 : 500;
			ikev2_input(resp, to_r[k], to_r_len[k], &l, &p, now);
		}
		n_to_r = 0;
		int n = n_to_i;
		n_to_i = 0;
		for (int k = 0; k < n && ikev2i_state(i) != stop; k++)
			ikev2i_input(i, to_i[k], to_i_len[k], to_i_natt[k], now);
	}
	/* then the fuzzer's answers */
	size_t off = 1;
	static uint8_t buf[IKEV2_DATAGRAM_MAX + 16];
	while (off + 2 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		if (len > sizeof buf)
			len = sizeof buf;
		memcpy(buf, data + off, len);
		off += len;
		if (len >= 16) {
			memcpy(buf, ikev2i_ispi(i), 8);
			memcpy(buf + 8, ikev2i_rspi(i), 8);
		}
		if (len >= 20 && !(mode & 32))
			buf[19] = (uint8_t)((buf[19] | IKE2_FLAG_R) & ~IKE2_FLAG_I);
		n_to_r = 0;
		uint64_t d = ikev2i_input(i, buf, len, mode & 16, now);
		if (off < size)
			now += (uint64_t)data[off++] * 250;
		if (now >= d) {
			uint64_t d2 = ikev2i_tick(i, now);
			if (d2 <= now && ikev2i_state(i) != IKEV2I_DEAD)
				abort(); /* a deadline in the past after tick */
		}
	}
	/* the timers end everything that is not established */
	for (int k = 0; k < 64 && ikev2i_state(i) != IKEV2I_DEAD &&
	                ikev2i_state(i) != IKEV2I_ESTABLISHED; k++) {
		uint64_t d = ikev2i_deadline(i);
		if (d == IKEV2_NEVER)
			abort();
		now = d > now ? d : now;
		n_to_r = 0;
		ikev2i_tick(i, now);
	}
	if (ikev2i_state(i) != IKEV2I_DEAD && ikev2i_state(i) != IKEV2I_ESTABLISHED)
		abort();
	n_to_r = 0;
	ikev2i_delete(i, "fuzz", now);
	ikev2i_free(i);
	ikev2_free(resp);
	return 0;
}
