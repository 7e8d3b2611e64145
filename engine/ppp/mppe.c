/* MPPE data path: per-direction RC4 state, coherency count and key changes (RFC 3078
 * sections 3, 7.3 and 8; key derivation in libdiag/mschap.c after RFC 3079). */
#include "ppp/mppe.h"

#include <string.h>
#include <openssl/crypto.h>

#include "mschap.h"

const struct tok mppe_err_names[] = {
	{(unsigned)-MPPE_ERR_INVALID, "invalid"},
	{(unsigned)-MPPE_ERR_RESET, "reset-needed"},
	{(unsigned)-MPPE_ERR_DISCARD, "out-of-sync"},
	{(unsigned)-MPPE_ERR_STALE, "stale"},
	{0, NULL},
};

/* Receive: a count more than half the space ahead is taken as a late packet, so a
 * reordered packet is dropped instead of costing thousands of key changes (stateless)
 * or the synchronisation (stateful). */
#define AHEAD_WINDOW (MPPE_CCOUNT_SPACE / 2)

void mppe_rc4_setup(struct mppe_rc4_state *r, const uint8_t *key, size_t keylen)
{
	uint8_t *restrict s = r->s;
	for (unsigned i = 0; i < 256; i++) s[i] = (uint8_t)i;
	uint8_t j = 0;
	for (size_t i = 0, k = 0; i < 256; i++) {
		j = (uint8_t)(j + s[i] + key[k]);
		if (++k == keylen) k = 0;
		uint8_t t = s[i];
		s[i] = s[j];
		s[j] = t;
	}
	r->i = r->j = 0;
}

/* `s` is restrict-qualified: the tables are never the data, so the compiler need not
 * reload them after every byte written (in and out may be the same buffer). */
void mppe_rc4_crypt(struct mppe_rc4_state *r, const uint8_t *in, uint8_t *out, size_t n)
{
	uint8_t *restrict s = r->s;
	uint8_t i = r->i, j = r->j;
	for (size_t k = 0; k < n; k++) {
		i = (uint8_t)(i + 1);
		uint8_t si = s[i];
		j = (uint8_t)(j + si);
		uint8_t sj = s[j];
		s[i] = sj;
		s[j] = si;
		out[k] = in[k] ^ s[(uint8_t)(si + sj)];
	}
	r->i = i;
	r->j = j;
}

static size_t key_len(unsigned bits)
{
	return bits == 128 ? 16 : bits == 40 || bits == 56 ? 8 : 0;
}

int mppe_start_keys(const uint8_t master_key[16], unsigned bits, bool is_server,
                    uint8_t send[16], uint8_t recv[16])
{
	size_t n = key_len(bits);
	if (!n) return -1;
	if (mppe_asymmetric_start_key(master_key, send, n, true, is_server) ||
	    mppe_asymmetric_start_key(master_key, recv, n, false, is_server))
		return -1;
	return 0;
}

int mppe_init(struct mppe_state *st, const uint8_t start_key[16], unsigned bits, bool stateless)
{
	size_t n = key_len(bits);
	memset(st, 0, mppe_state_size(stateless));
	if (!n || mschap_crypto_ready()) return -1;
	memcpy(st->start_key, start_key, n);
	if (mppe_initial_session_key(st->start_key, bits, st->session_key)) {
		mppe_clear(st);
		return -1;
	}
	st->keylen = (uint8_t)n;
	st->bits = (uint8_t)bits;
	st->stateless = stateless;
	/* one step before 0: the first packet carries count 0 */
	st->ccount = MPPE_CCOUNT_SPACE - 1;
	if (!stateless) mppe_rc4_setup(&st->rc4, st->session_key, n);
	return 0;
}

void mppe_clear(struct mppe_state *st)
{
	/* the tables exist only in a state set up for stateful mode */
	bool tables = st->keylen && !st->stateless;
	OPENSSL_cleanse(st, tables ? sizeof *st : mppe_state_size(true));
}

/* One key change (RFC 3078 section 7.3), committed only when it worked. */
static int change_key(struct mppe_state *st)
{
	uint8_t k[16];
	memcpy(k, st->session_key, sizeof k);
	if (mppe_change_key(st->start_key, k, st->bits)) {
		OPENSSL_cleanse(k, sizeof k);
		return -1;
	}
	memcpy(st->session_key, k, st->keylen);
	OPENSSL_cleanse(k, sizeof k);
	return 0;
}

static bool valid_proto(uint8_t hi, uint8_t lo) { return !(hi & 1) && (lo & 1); }

int mppe_encrypt(struct mppe_state *st, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	if (!st->keylen || len < 2 || len > MPPE_MAX_LEN - MPPE_HDR_LEN ||
	    cap < len + MPPE_HDR_LEN || !valid_proto(in[0], in[1]))
		return MPPE_ERR_INVALID;
	uint16_t cc = (uint16_t)((st->ccount + 1) % MPPE_CCOUNT_SPACE);
	uint8_t flags = MPPE_HDR_ENCRYPTED;
	struct mppe_rc4_state fresh, *rc4 = st->stateless ? &fresh : &st->rc4;
	if (st->stateless || (cc & 0xff) == 0xff || st->flush) {
		if (change_key(st)) return MPPE_ERR_INVALID;
		mppe_rc4_setup(rc4, st->session_key, st->keylen);
		flags |= MPPE_HDR_FLUSHED;
		if (st->flush && !st->stateless) st->resets++;
		st->flush = false;
	}
	st->ccount = cc;
	out[0] = (uint8_t)(flags | (cc >> 8));
	out[1] = (uint8_t)cc;
	mppe_rc4_crypt(rc4, in, out + MPPE_HDR_LEN, len);
	if (rc4 == &fresh) OPENSSL_cleanse(&fresh, sizeof fresh);
	st->packets++;
	return (int)(len + MPPE_HDR_LEN);
}

static int drop(struct mppe_state *st, int code)
{
	st->drops++;
	return code;
}

/* Stateful receive: a lost or garbled packet. Out of sync until a flushed packet. */
static int lose_sync(struct mppe_state *st)
{
	st->discard = true;
	st->resets++;
	return drop(st, MPPE_ERR_RESET);
}

int mppe_decrypt(struct mppe_state *st, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                 struct diag_err *err)
{
	diag_err_clear(err);
	if (!st->keylen) {
		diag_err_set(err, 0, "MPPE: no keys for this direction");
		return drop(st, MPPE_ERR_INVALID);
	}
	if (len < MPPE_HDR_LEN + 1 || len > MPPE_MAX_LEN) {
		diag_err_set(err, len < MPPE_HDR_LEN ? len : 0,
		             "MPPE: packet of %zu bytes (the header and at least one encrypted byte, "
		             "at most %u)", len, MPPE_MAX_LEN);
		return drop(st, MPPE_ERR_INVALID);
	}
	if (cap < len - 1) {
		diag_err_set(err, 0, "MPPE: %zu bytes of room for a %zu-byte packet", cap, len);
		return drop(st, MPPE_ERR_INVALID);
	}
	struct rd r;
	rd_init(&r, in, len);
	uint16_t h = rd_u16(&r);
	uint16_t cc = h & (MPPE_CCOUNT_SPACE - 1);
	bool flushed = (h >> 8) & MPPE_HDR_FLUSHED;
	if (!((h >> 8) & MPPE_HDR_ENCRYPTED)) {
		diag_err_set(err, 0, "MPPE: D bit clear, the packet says it is not encrypted");
		return drop(st, MPPE_ERR_INVALID);
	}
	if ((h >> 8) & MPPE_HDR_COMPRESSED) {
		diag_err_set(err, 0, "MPPE: C bit set (MPPC compression), which was not negotiated");
		return drop(st, MPPE_ERR_INVALID);
	}

	struct mppe_rc4_state fresh, *rc4 = st->stateless ? &fresh : &st->rc4;
	if (st->stateless) {
		if (!flushed) {
			diag_err_set(err, 0, "MPPE: stateless mode but the A (flushed) bit is clear");
			return drop(st, MPPE_ERR_INVALID);
		}
		unsigned d = (unsigned)(cc - st->ccount) % MPPE_CCOUNT_SPACE;
		if (d == 0 || d > AHEAD_WINDOW) {
			diag_err_set(err, 0, "MPPE: coherency count 0x%03x %s 0x%03x, dropped", cc,
			             d ? "is behind" : "repeats", st->ccount);
			return drop(st, MPPE_ERR_STALE);
		}
		/* one key change per step, the lost packets' included (d <= 2048) */
		for (unsigned i = 0; i < d; i++) {
			if (change_key(st)) {
				diag_err_set(err, 0, "MPPE: key change failed (crypto unavailable)");
				return drop(st, MPPE_ERR_INVALID);
			}
			st->ccount = (uint16_t)((st->ccount + 1) % MPPE_CCOUNT_SPACE);
		}
		mppe_rc4_setup(rc4, st->session_key, st->keylen);
	} else {
		/* st->ccount is the last packet accepted; in discard, sync was lost after it */
		unsigned ahead = (unsigned)(cc - st->ccount) % MPPE_CCOUNT_SPACE;
		if (!st->discard && (ahead == 0 || ahead > AHEAD_WINDOW)) {
			/* a late or repeated packet: the stream it belongs to is behind us */
			diag_err_set(err, 0, "MPPE: coherency count 0x%03x %s 0x%03x, dropped", cc,
			             ahead ? "is behind" : "repeats", st->ccount);
			return drop(st, MPPE_ERR_STALE);
		}
		if (ahead > 1 || st->discard) {
			if (!flushed) {
				if (st->discard) {
					diag_err_set(err, 0, "MPPE: coherency count 0x%03x while out of "
					             "sync, waiting for a flushed packet", cc);
					return drop(st, MPPE_ERR_DISCARD);
				}
				diag_err_set(err, 0, "MPPE: coherency count 0x%03x, expected 0x%03x: "
				             "packet lost, a CCP Reset-Request is needed", cc,
				             (st->ccount + 1) % MPPE_CCOUNT_SPACE);
				return lose_sync(st);
			}
			/* flushed after a gap: the sender changed key on every flag packet
			 * (count 0x?ff) we missed, at most 16 of them */
			uint16_t miss = (uint16_t)((st->ccount + 1) % MPPE_CCOUNT_SPACE);
			for (unsigned i = 0; i < MPPE_CCOUNT_SPACE / 256 &&
			                     (cc & 0xf00) != (miss & 0xf00); i++) {
				if (change_key(st)) {
					st->discard = true;
					diag_err_set(err, 0, "MPPE: key change failed (crypto unavailable)");
					return drop(st, MPPE_ERR_DISCARD);
				}
				miss = (uint16_t)((miss + 256) % MPPE_CCOUNT_SPACE);
			}
			st->discard = false;
		} else if ((cc & 0xff) == 0xff && !flushed) {
			diag_err_set(err, 0, "MPPE: flag packet 0x%03x without the A bit: "
			             "a CCP Reset-Request is needed", cc);
			return lose_sync(st);
		}
		st->ccount = cc;
		if (flushed) {
			if (change_key(st)) {
				st->discard = true;
				diag_err_set(err, 0, "MPPE: key change failed (crypto unavailable)");
				return drop(st, MPPE_ERR_DISCARD);
			}
			mppe_rc4_setup(rc4, st->session_key, st->keylen);
		}
	}

	/* the protocol field inside may be compressed to one (odd) byte */
	const uint8_t *c = rd_ptr(&r, len - MPPE_HDR_LEN);
	size_t n = len - MPPE_HDR_LEN, total;
	uint8_t first;
	mppe_rc4_crypt(rc4, c, &first, 1);
	if (first & 1) {
		out[0] = 0;
		out[1] = first;
		mppe_rc4_crypt(rc4, c + 1, out + 2, n - 1);
		total = n + 1;
	} else {
		out[0] = first;
		mppe_rc4_crypt(rc4, c + 1, out + 1, n - 1);
		total = n;
	}
	if (rc4 == &fresh) OPENSSL_cleanse(&fresh, sizeof fresh);
	if (total < 2 || !valid_proto(out[0], out[1])) {
		diag_err_set(err, MPPE_HDR_LEN, "MPPE: decrypts to no valid PPP protocol field "
		             "(wrong key or out of sync)");
		if (!st->stateless) return lose_sync(st);
		return drop(st, MPPE_ERR_INVALID);
	}
	st->packets++;
	return (int)total;
}

void mppe_reset_request(struct mppe_state *st)
{
	if (!st->stateless) st->flush = true;
}
