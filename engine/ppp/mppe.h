/* MPPE data path (RFC 3078, keys from RFC 3079): one direction of an encrypted PPP link.
 *
 * Once CCP agrees on MPPE, every network-layer packet travels as a PPP "compressed
 * datagram" (protocol 0x00FD) whose body is a 2-byte MPPE header followed by the RC4
 * encryption of the inner protocol field and payload:
 *
 *     A B C D | 12-bit coherency count | RC4(protocol, payload)
 *
 * A (0x80) "flushed": the RC4 tables were re-initialised from the session key before
 * this packet; D (0x10): encrypted, always set. C (MPPC compression) is never agreed.
 *
 * One `struct mppe_state` per direction: the server keeps one to encrypt what it sends
 * (its send start key) and one to decrypt what it receives (its receive start key).
 * Sans-I/O and allocation-free: no timers are involved, the caller owns the buffers.
 *
 * Key changes (RFC 3078 section 7.3, GetNewKeyFromSHA then RC4 of the result with
 * itself, 40/56-bit keys salted with 0xD1 0x26 0x9E / 0xD1):
 *   - stateless (H bit): before every packet; every packet is flushed. The receiver
 *     changes the key once per coherency-count step, so lost packets cost nothing.
 *   - stateful: on "flag" packets (count low byte 0xFF) and on the first packet after
 *     a CCP Reset-Request; both carry the A bit, and a receiver changes the key on every
 *     packet with the A bit. This is what the Linux kernel's ppp_mppe (the peer of
 *     pppd) does on both ends; the first packet is not flushed, as there. After a lost
 *     packet the receiver is out of sync until the sender's next flushed packet: decrypt
 *     says so once (MPPE_ERR_RESET) so the caller sends a CCP Reset-Request, then
 *     refuses packets (MPPE_ERR_DISCARD) until a flushed one arrives; that one resyncs,
 *     with one key change for each flag packet missed. A flushed packet right after a
 *     gap resyncs at once. What the receiver cannot see is a key change of a lost
 *     packet that was flushed for a Reset-Request (not a flag packet): it then stays one
 *     change behind, as the Linux receiver does; the packets decrypt to garbage, which
 *     decrypt reports as MPPE_ERR_RESET again.
 *   - both: a count more than half the count space ahead of the last one accepted is
 *     taken as late (reordered) and dropped, so it neither costs up to 4095 key changes
 *     nor the synchronisation.
 *
 * RC4 here is a small in-struct implementation (258 bytes of state, no allocation, no
 * free; a stateless direction keeps none between packets): OpenSSL's EVP RC4 context is heap-allocated, about 1 KB of key schedule plus
 * the context, needs freeing with the session and a re-init call per stateless packet.
 * The key change itself uses the OpenSSL-backed helpers of mschap.h (SHA-1 from the
 * default provider, RC4 from the legacy one). The own RC4 is checked against OpenSSL's
 * in the unit tests.
 */
#ifndef VNET_MPPE_H
#define VNET_MPPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define MPPE_HDR_LEN        2
#define MPPE_HDR_FLUSHED    0x80 /* A */
#define MPPE_HDR_B          0x40 /* no meaning in MPPE */
#define MPPE_HDR_COMPRESSED 0x20 /* C: MPPC, never negotiated here */
#define MPPE_HDR_ENCRYPTED  0x10 /* D */
#define MPPE_CCOUNT_SPACE   4096
#define MPPE_MAX_LEN        65535 /* largest input either way */

/* Negative results of mppe_decrypt (and MPPE_ERR_INVALID of mppe_encrypt). */
enum mppe_err {
	MPPE_ERR_INVALID = -1, /* malformed, not encrypted, undecryptable, or no room: drop */
	MPPE_ERR_RESET = -2,   /* stateful: a packet was lost, the receiver is out of sync:
	                          send a CCP Reset-Request; the packet is dropped */
	MPPE_ERR_DISCARD = -3, /* stateful: still out of sync, waiting for a flushed packet
	                          (the Reset-Request is already on its way); dropped */
	MPPE_ERR_STALE = -4,   /* repeated or late coherency count; dropped, state kept */
};
extern const struct tok mppe_err_names[];

struct mppe_rc4_state {
	uint8_t s[256];
	uint8_t i, j;
};

struct mppe_state {
	uint8_t start_key[16];   /* RFC 3079 send or receive start key (8 or 16 bytes used) */
	uint8_t session_key[16]; /* current session key */
	uint16_t ccount;         /* coherency count of the last packet sent / accepted */
	uint8_t keylen;          /* 8 (40/56-bit) or 16 (128-bit); 0 before mppe_init */
	uint8_t bits;            /* 40, 56 or 128 */
	bool stateless;
	bool flush;              /* send: the next packet changes key and carries A */
	bool discard;            /* receive, stateful: out of sync until a flushed packet */
	uint32_t packets;        /* packets encrypted / decrypted */
	uint32_t drops;          /* packets refused by mppe_decrypt */
	uint32_t resets;         /* send: Reset-Requests honoured; receive: asked for */
	/* stateful only, last: the tables of the stream. A stateless packet is keyed afresh,
	 * so its tables live on the stack of the call and a stateless state may be
	 * allocated without them (mppe_state_size). */
	struct mppe_rc4_state rc4;
};

/* Bytes a state needs: the whole struct for stateful mode, the part before the RC4
 * tables for stateless mode (mppe_init and mppe_clear then touch nothing beyond it). */
static inline size_t mppe_state_size(bool stateless)
{
	return stateless ? offsetof(struct mppe_state, rc4) : sizeof(struct mppe_state);
}

/* The RFC 3079 start keys of one side from the MS-CHAPv2 master key (GetMasterKey):
 * `send` and `recv` receive 8 bytes for 40/56-bit, 16 for 128-bit. The server's send
 * key is the client's receive key. 0, or -1 on bad bits or no crypto. */
int mppe_start_keys(const uint8_t master_key[16], unsigned bits, bool is_server,
                    uint8_t send[16], uint8_t recv[16]);

/* Set up one direction: bits 40, 56 or 128; `start_key` holds 8 or 16 bytes to match.
 * The initial session key is GetNewKeyFromSHA(start, start), salted for 40/56-bit.
 * `st` must hold mppe_state_size(stateless) bytes. 0, or -1 on bad bits or when the
 * crypto is not available. */
int mppe_init(struct mppe_state *st, const uint8_t start_key[16], unsigned bits, bool stateless);
/* Forget the keys (the link went down): the RC4 tables too when the state was set up
 * for stateful mode. */
void mppe_clear(struct mppe_state *st);

/* Encrypt one packet: `in` is the PPP protocol field (2 bytes, not compressed) and the
 * payload; `out` receives the MPPE header and the ciphertext (the caller puts the 0x00FD
 * protocol in front). `out` may be `in` - 2 (encrypting in place behind 2 bytes of
 * headroom), no other overlap. Returns len + 2, or MPPE_ERR_INVALID when the state is
 * not set up, the input is not a valid protocol field plus payload, or cap < len + 2. */
int mppe_encrypt(struct mppe_state *st, const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* Decrypt one packet: `in` is what followed the 0x00FD protocol field (MPPE header and
 * ciphertext). On success `out` holds the inner protocol as 2 bytes (a compressed 1-byte
 * field inside is expanded) then the payload, and the length is returned (>= 2). `cap`
 * must be at least len - 1; `out` may be `in` (decrypting in place). Otherwise one of
 * enum mppe_err, with `err` saying why. */
int mppe_decrypt(struct mppe_state *st, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                 struct diag_err *err);

/* The peer sent a CCP Reset-Request (answered with a Reset-Ack by CCP): the next packet
 * sent changes the key and carries the A bit. Several requests before that packet make
 * one key change. No effect in stateless mode, where every packet is flushed already.
 * A received Reset-Ack needs no call: the receiver resynchronises on the A bit. */
void mppe_reset_request(struct mppe_state *st);

/* Receive side, stateful: true while out of sync (a Reset-Request is due or pending;
 * the caller may repeat it on its CCP restart timer). */
static inline bool mppe_out_of_sync(const struct mppe_state *st) { return st->discard; }

/* RC4 (exposed for the tests that check it against OpenSSL). keylen 1..256. */
void mppe_rc4_setup(struct mppe_rc4_state *r, const uint8_t *key, size_t keylen);
void mppe_rc4_crypt(struct mppe_rc4_state *r, const uint8_t *in, uint8_t *out, size_t n);

#endif
