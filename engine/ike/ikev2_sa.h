/* What both ends of an IKEv2 SA compute alike (RFC 7296): the key set of the IKE SA and
 * its derivation, the SK / SKF payload around the inner payloads (sealed by one side,
 * opened by the other), the <SignedOctets> and shared-key AUTH of either side, the NAT-D
 * hash and the KEYMAT of a child SA pair.
 *
 * The responder (engine/ike/ikev2.c) and the initiator (engine/ike/ikev2_init.c) both
 * call these; where the two sides differ (whose keys protect a message, which direction
 * of a child SA is outbound) a parameter says which. No state here: everything comes in
 * as arguments. */
#ifndef VNET_IKEV2_SA_H
#define VNET_IKEV2_SA_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike.h"
#include "ike/ike_crypto.h"
#include "ike/ikev2.h"

/* The keys of an IKE SA and the lengths its suite gives them. */
struct ikev2_keys {
	uint8_t ispi[8], rspi[8];
	struct ikev2_prop p;
	bool aead;
	unsigned cbc;                /* IKE1_ENC_* for ike1_cbc */
	size_t prf_len, ek_len, ak_len, icv_len, iv_len, block;
	uint8_t sk_d[IKE_HASH_MAX], sk_ai[IKE_HASH_MAX], sk_ar[IKE_HASH_MAX];
	uint8_t sk_ei[36], sk_er[36], sk_pi[IKE_HASH_MAX], sk_pr[IKE_HASH_MAX];
};

/* Format an event line and hand it to cbs->event (nothing when it has none). */
void ikev2_event_v(const struct ikev2_cbs *cbs, enum ikev2_ev kind, const char *fmt,
                   va_list ap) __attribute__((format(printf, 3, 0)));

/* The key length in bytes of an encryption transform (3DES: 24, else bits / 8). */
size_t ikev2_encr_keylen(uint16_t encr, uint16_t bits);

/* Fill the lengths of k for the proposal p; false when the suite cannot be keyed. */
bool ikev2_keys_shape(struct ikev2_keys *k, const struct ikev2_prop *p);

/* {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi |
 * SPIr), with k->ispi and k->rspi set and k shaped. */
bool ikev2_keys_derive(struct ikev2_keys *k, const uint8_t *skeyseed, const uint8_t *ni,
                       size_t ni_len, const uint8_t *nr, size_t nr_len);

/* One protected datagram: header (flags as given), SK (or SKF with num/total when frag)
 * around inner[0..n), encrypted and integrity-protected with the keys of the original
 * initiator (from_i: SK_ei, SK_ai) or of the original responder (SK_er, SK_ar); the IV
 * from cbs->random. Its length, 0 when it does not fit in cap. */
size_t ikev2_seal(const struct ikev2_keys *k, const struct ikev2_cbs *cbs, bool from_i,
                  uint8_t exch, uint8_t flags, uint32_t msgid, bool frag, uint16_t num,
                  uint16_t total, uint8_t next, const uint8_t *inner, size_t n, uint8_t *out,
                  size_t cap);

/* Check and decrypt the SK or SKF payload p of raw[0..len) (decoded from it), sent by the
 * original initiator (from_i) or responder. The inner payloads go to out; their length,
 * IKEV2_OPEN_SHAPE when p does not lie in raw or is too short for an IV and ICV, or
 * IKEV2_OPEN_BAD when it fails integrity, its padding or cap. */
enum { IKEV2_OPEN_SHAPE = -2, IKEV2_OPEN_BAD = -1 };
long ikev2_open(const struct ikev2_keys *k, bool from_i, const uint8_t *raw, size_t len,
                const struct ike_payload *p, uint8_t *out, size_t cap);

/* <SignedOctets> of the original initiator (of_i: RealMessage1 | Nr | prf(SK_pi, IDi')) or
 * responder (RealMessage2 | Ni | prf(SK_pr, IDr')) in pieces: msg is that RealMessage,
 * nonce the other side's nonce, id the ID payload body; v[2] points at maced. */
bool ikev2_signed_octets(const struct ikev2_keys *k, bool of_i, const uint8_t *msg,
                         size_t msg_len, const uint8_t *nonce, size_t nonce_len,
                         const uint8_t *id, size_t id_len, struct ike_iov v[3],
                         uint8_t maced[IKE_HASH_MAX]);

/* AUTH = prf(prf(key, "Key Pad for IKEv2"), <SignedOctets>) over the pieces v of
 * ikev2_signed_octets. */
bool ikev2_shared_key_auth(const struct ikev2_keys *k, const uint8_t *key, size_t key_len,
                           const struct ike_iov v[3], uint8_t *out);

/* A notify payload of type into o (for an SA: its protocol and SPI, else 0 and NULL);
 * NULL when o has no room. */
struct ike_payload *ikev2_add_notify(struct ike_msg *o, uint16_t type, uint8_t proto,
                                     const uint8_t *spi, uint8_t spi_size, const uint8_t *data,
                                     size_t n);

/* NAT-D: SHA1(SPIi | SPIr | IP | port) */
void ikev2_natd_hash(const uint8_t spi_i[8], const uint8_t spi_r[8],
                     const struct ikev2_addr *a, uint8_t out[20]);

/* KEYMAT = prf+(SK_d, s[0..ns)) (s: [g^ir |] Ni | Nr) into c->in and c->out for the suite
 * p, with c->spi_in and c->spi_out. The initiator's direction comes first in KEYMAT: our
 * outbound SA when we_initiated the exchange, else our inbound one. */
bool ikev2_child_keys(const struct ikev2_keys *k, const struct ikev2_esp_prop *p,
                      const struct ike_iov *s, size_t ns, bool we_initiated,
                      const struct ikev2_addr *local, const struct ikev2_addr *peer,
                      struct ikev2_child *c);

#endif
