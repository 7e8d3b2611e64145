/* libFuzzer target: the MPPE receive path (engine/ppp/mppe.c) on arbitrary bytes.
 *
 * Byte 0 picks the key length (low two bits: 40/56/128), stateless mode (0x04) and the
 * mode (0x08). The rest is a sequence of chunks, each a length byte and that many bytes.
 *   raw mode: every chunk goes to mppe_decrypt as a received packet; the answer must be
 *     an error with a reason, or a protocol field plus payload no longer than the input.
 *   sender mode: the first byte of a chunk is an operation (0x01 lose the packet, 0x02
 *     a CCP Reset-Request reaches the sender first, 0x04 flip a bit on the way), the rest
 *     a payload sent behind an IPv4 protocol field. While nothing was flipped the
 *     receiver must return every delivered packet intact, except in stateful mode
 *     between a loss and the next flushed packet, where it must refuse them (and after
 *     the loss of a packet flushed for a Reset-Request, which no receiver can follow).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ppp/mppe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_answer(int r, size_t n, const uint8_t *out, const struct diag_err *e)
{
	if (r < 0) {
		if (r < MPPE_ERR_STALE || !e->reason[0]) abort();
		return;
	}
	if (r < 2 || (size_t)r + 1 > n) abort();
	if ((out[0] & 1) || !(out[1] & 1)) abort(); /* a valid protocol field */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned bits_of[4] = {40, 56, 128, 128};
	static struct mppe_state tx, rx;
	static uint8_t pkt[260], wire[270], out[270];
	static const uint8_t key[16] = {0x8b, 0x7c, 0xdc, 0x14, 0x9b, 0x99, 0x3a, 0x1b,
	                                0xa1, 0x18, 0xcb, 0x15, 0x3f, 0x56, 0xdc, 0xcb};
	struct diag_err e;
	if (size < 1) return 0;
	unsigned bits = bits_of[data[0] & 3];
	bool stateless = data[0] & 0x04, sender = data[0] & 0x08;
	if (mppe_init(&tx, key, bits, stateless) || mppe_init(&rx, key, bits, stateless)) abort();
	size_t off = 1;
	bool lost = false, flipped = false, unknowable = false;
	for (unsigned k = 0; k < 512 && off < size; k++) {
		size_t n = data[off++];
		if (n > size - off) n = size - off;
		const uint8_t *c = data + off;
		off += n;
		if (!sender) {
			int r = mppe_decrypt(&rx, c, n, out, sizeof out, &e);
			check_answer(r, n, out, &e);
			continue;
		}
		uint8_t op = n ? c[0] : 0;
		size_t plen = n ? n - 1 : 0;
		pkt[0] = 0x00;
		pkt[1] = 0x21;
		if (plen) memcpy(pkt + 2, c + 1, plen);
		if (op & 0x02) mppe_reset_request(&tx);
		int w = mppe_encrypt(&tx, pkt, plen + 2, wire, sizeof wire);
		if (w != (int)plen + 4) abort();
		bool flushed = wire[0] & MPPE_HDR_FLUSHED;
		if (stateless && !flushed) abort();
		if (op & 0x01) {
			lost = true;
			/* a lost key change the receiver cannot count (see mppe.h) */
			unsigned cc = (unsigned)((wire[0] & 0x0f) << 8 | wire[1]);
			if (!stateless && flushed && (cc & 0xff) != 0xff) unknowable = true;
			continue;
		}
		if ((op & 0x04) && w > 0) {
			wire[(op >> 3) % (size_t)w] ^= (uint8_t)(1u << (op & 7));
			flipped = true;
		}
		int r = mppe_decrypt(&rx, wire, (size_t)w, out, sizeof out, &e);
		check_answer(r, (size_t)w, out, &e);
		if (flipped || unknowable) continue;
		if (!stateless && lost && !flushed) {
			if (r >= 0) abort(); /* out of sync: must be refused */
			continue;
		}
		if (r != (int)plen + 2 || memcmp(out, pkt, plen + 2) != 0) abort();
		lost = false;
	}
	mppe_clear(&tx);
	mppe_clear(&rx);
	return 0;
}
