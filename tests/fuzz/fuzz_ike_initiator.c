/* Drives the IKEv1 initiator (engine/ike/ikev1_init.h) with mutated answers and clock
 * jumps.
 *
 * Input: a mode byte, then records [u16 length][bytes][clock step x 250 ms]. The engine's
 * responder first answers the initiator for real until it reaches the state the low
 * three bits of the mode name (0 waiting for MM2, 1 for MM4, 2 for MM6, 3 for QM2, 4
 * established); from there each record is a datagram from the responder, with the SA's
 * two cookies written over its first 16 bytes so that the decoder, the decryption and
 * the state's checks see it. Bit 3: NAT-T forced; bit 4: the records arrive on the NAT-T
 * port. The initiator must never crash, read out of bounds or leak, every deadline it
 * returns must be honoured by tick, and the SA must end once its timers run out. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike/ikev1.h"
#include "ike/ikev1_init.h"

static uint64_t rng;
static uint8_t to_r[8][IKEV1_MSG_MAX], to_i[8][IKEV1_MSG_MAX];
static size_t to_r_len[8], to_i_len[8];
static bool to_r_natt[8], to_i_natt[8];
static int n_to_r, n_to_i;

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
	if (n_to_r < 8 && n <= IKEV1_MSG_MAX) {
		memcpy(to_r[n_to_r], b, n);
		to_r_len[n_to_r] = n;
		to_r_natt[n_to_r++] = natt;
	}
}
static void r_send(void *ctx, const uint8_t *b, size_t n, bool natt)
{
	(void)ctx;
	if (n_to_i < 8 && n <= IKEV1_MSG_MAX) {
		memcpy(to_i[n_to_i], b, n);
		to_i_len[n_to_i] = n;
		to_i_natt[n_to_i++] = natt;
	}
}
static void f_event(void *ctx, enum ikev1_ev k, const char *t) { (void)ctx; (void)k; (void)strlen(t); }
static void f_child(void *ctx, const struct ikev1_child *c) { (void)ctx; (void)c; }
static void f_down(void *ctx, const struct ikev1_child *c, const char *w) { (void)ctx; (void)c; (void)strlen(w); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	static const enum ikev1i_state stop_at[] = {IKEV1I_MM_SA, IKEV1I_MM_KE, IKEV1I_MM_AUTH,
	                                            IKEV1I_QM, IKEV1I_ESTABLISHED};
	enum ikev1i_state stop = stop_at[(mode & 7) % 5];
	static struct ikev1i_conf ic;
	static struct ikev1_conf rc;
	ikev1i_conf_default(&ic);
	ic.psk = (const uint8_t *)"fuzz";
	ic.psk_len = 4;
	ic.force_encap = mode & 8;
	ikev1_conf_default(&rc);
	rc.psk = ic.psk;
	rc.psk_len = ic.psk_len;
	struct ikev1_cbs icbs = {NULL, i_send, f_event, f_random, f_child, f_down};
	struct ikev1_cbs rcbs = {NULL, r_send, f_event, f_random, f_child, f_down};
	struct ikev1_addr ia = {.family = 4, .ip = {10, 0, 0, 2}, .port = 500};
	struct ikev1_addr ra = {.family = 4, .ip = {10, 0, 0, 1}, .port = 500};
	rng = 88172645463325252ull;
	n_to_r = n_to_i = 0;
	uint64_t now = 0;
	struct ikev1i *i = ikev1i_new(&ic, &icbs, &ia, &ra);
	struct ikev1_sa *r = ikev1_new(&rc, &rcbs, &ra, &ia, now);
	if (!i || !r) {
		ikev1i_free(i);
		ikev1_free(r);
		return 0;
	}
	ikev1i_start(i, now);
	/* the real exchange up to the chosen state */
	for (int round = 0; round < 10 && ikev1i_state(i) != stop && ikev1i_state(i) != IKEV1I_DEAD;
	     round++) {
		for (int k = 0; k < n_to_r; k++) {
			struct ikev1_addr l = ra, p = ia;
			l.port = p.port = to_r_natt[k] ? 4500 : 500;
			ikev1_input(r, to_r[k], to_r_len[k], &l, &p, now);
		}
		n_to_r = 0;
		int n = n_to_i;
		n_to_i = 0;
		for (int k = 0; k < n && ikev1i_state(i) != stop; k++)
			ikev1i_input(i, to_i[k], to_i_len[k], to_i_natt[k], now);
	}
	/* then the fuzzer's answers */
	size_t off = 1;
	uint8_t buf[IKEV1_MSG_MAX];
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
			memcpy(buf, ikev1i_ispi(i), 8);
			memcpy(buf + 8, ikev1i_rspi(i), 8);
		}
		n_to_r = 0;
		uint64_t d = ikev1i_input(i, buf, len, mode & 16, now);
		if (off < size)
			now += (uint64_t)data[off++] * 250;
		if (now >= d) {
			uint64_t d2 = ikev1i_tick(i, now);
			if (d2 <= now && ikev1i_state(i) != IKEV1I_DEAD)
				abort(); /* a deadline in the past after tick */
		}
	}
	/* the timers end everything that is not established */
	for (int k = 0; k < 64 && ikev1i_state(i) != IKEV1I_DEAD &&
	                ikev1i_state(i) != IKEV1I_ESTABLISHED; k++) {
		uint64_t d = ikev1i_deadline(i);
		if (d == IKEV1_NEVER)
			abort();
		now = d > now ? d : now;
		n_to_r = 0;
		ikev1i_tick(i, now);
	}
	if (ikev1i_state(i) != IKEV1I_DEAD && ikev1i_state(i) != IKEV1I_ESTABLISHED)
		abort();
	n_to_r = 0;
	ikev1i_delete(i, "fuzz", now);
	ikev1i_free(i);
	ikev1_free(r);
	return 0;
}
