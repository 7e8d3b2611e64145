/* What both ends of an IKEv1 SA compute alike (RFC 2409): the phase-1 keys of Main Mode
 * with a pre-shared key, HASH_I and HASH_R, NAT-D hashes (RFC 3947), the IVs and the CBC
 * protection of encrypted messages, the HASH(1)/HASH(2) of phase-2 and Informational
 * messages, and the KEYMAT of an ESP SA in the form engine/ike/esp_sa.h takes. Also the
 * numbers of RFC 2407 / 2409 / 3947 that proposals and notifies use, and the event line
 * both ends hand to their owner.
 *
 * The initiator (engine/ike/ikev1_init.c) is written on these; the responder
 * (engine/ike/ikev1.c) computes the same values with its own functions, and the unit tests
 * run one against the other, so a difference between the two shows as a failed
 * exchange. No state here: everything comes in as arguments.
 */
#ifndef VNET_IKEV1_KEYS_H
#define VNET_IKEV1_KEYS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/espdecrypt.h"
#include "ike.h"
#include "ike/ike_crypto.h"
#include "ike/ikev1.h"

/* phase-1 attributes (RFC 2409 appendix A) */
enum { IKE1_AT_ENC = 1, IKE1_AT_HASH = 2, IKE1_AT_AUTH = 3, IKE1_AT_GROUP = 4,
       IKE1_AT_LIFE_TYPE = 11, IKE1_AT_LIFE_DUR = 12, IKE1_AT_KEYLEN = 14 };
/* phase-2 attributes (RFC 2407 4.5) */
enum { IKE1_QA_LIFE_TYPE = 1, IKE1_QA_LIFE_DUR = 2, IKE1_QA_GROUP = 3, IKE1_QA_ENCAP = 4,
       IKE1_QA_AUTH = 5, IKE1_QA_KEYLEN = 6 };
enum { IKE1_AUTH_PSK = 1, IKE1_XF_KEY_IKE = 1 };
/* ESP transforms and their authentication algorithms (RFC 2407 4.4.4, 4.5) */
enum { IKE1_ESP_3DES = 3, IKE1_ESP_AES = 12, IKE1_ESP_AES_GCM_16 = 20 };
enum { IKE1_HMAC_SHA1 = 2, IKE1_HMAC_SHA256 = 5 };
/* encapsulation modes: RFC 2407, RFC 3947 and its draft */
enum { IKE1_ENCAP_TUNNEL = 1, IKE1_ENCAP_TRANSPORT = 2, IKE1_ENCAP_UDP_TUNNEL = 3,
       IKE1_ENCAP_UDP_TRANSPORT = 4, IKE1_ENCAP_UDP_TUNNEL_DRAFT = 61443,
       IKE1_ENCAP_UDP_TRANSPORT_DRAFT = 61444 };
enum { IKE1_PROTO_ISAKMP = 1, IKE1_PROTO_ESP = 3 };
enum { IKE1_ID_IPV4 = 1, IKE1_ID_IPV6 = 5 };
/* notify types (RFC 2408 3.14.1, RFC 2407 4.6.3, RFC 3706) */
enum { IKE1_N_PAYLOAD_MALFORMED = 16, IKE1_N_NO_PROPOSAL = 14, IKE1_N_INVALID_KEY = 17,
       IKE1_N_INVALID_ID = 18, IKE1_N_INVALID_HASH = 23, IKE1_N_CONNECTED = 16384,
       IKE1_N_RESPONDER_LIFETIME = 24576, IKE1_N_INITIAL_CONTACT = 24578,
       IKE1_N_R_U_THERE = 36136, IKE1_N_R_U_THERE_ACK = 36137 };

/* vendor IDs: NAT-T of RFC 3947, Dead Peer Detection (RFC 3706) */
extern const uint8_t ike1_vid_natt_rfc[16];
extern const uint8_t ike1_vid_dpd[16];

/* The keys of one phase-1 SA. */
struct ike1_keys {
	unsigned hash, enc;          /* IKE1_HASH_*, IKE1_ENC_* */
	size_t hlen, keylen, block;  /* digest, encryption key and cipher block in bytes */
	uint8_t skeyid[IKE_HASH_MAX], skeyid_d[IKE_HASH_MAX], skeyid_a[IKE_HASH_MAX];
	uint8_t ekey[32];
	uint8_t iv[16];              /* the phase-1 CBC chain; after Main Mode, the last block */
};

/* The algorithms of the chosen proposal (key length in bits, 0 for 3DES); false when
 * one is unknown. Clears the keys. */
bool ike1_keys_init(struct ike1_keys *k, unsigned enc, unsigned keybits, unsigned hash);
/* SKEYID = prf(psk, Ni_b | Nr_b); SKEYID_d, _a, _e from g^xy and the cookies; the
 * encryption key (appendix B expansion when the hash is shorter); the first IV,
 * hash(g^xi | g^xr). */
bool ike1_keys_psk(struct ike1_keys *k, const uint8_t *psk, size_t psk_len, const uint8_t *ni,
                   size_t ni_len, const uint8_t *nr, size_t nr_len, const uint8_t *gxy,
                   size_t gxy_len, const uint8_t *gxi, const uint8_t *gxr, size_t gx_len,
                   const uint8_t ispi[8], const uint8_t rspi[8]);
/* HASH_I (initiator) = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b), or
 * HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b). idb: the ID
 * payload's body (type, protocol, port, data). */
bool ike1_hash_auth(const struct ike1_keys *k, bool initiator, const uint8_t *gxi,
                    const uint8_t *gxr, size_t gx_len, const uint8_t ispi[8],
                    const uint8_t rspi[8], const uint8_t *sai, size_t sai_len,
                    const uint8_t *idb, size_t idb_len, uint8_t *out);
/* NAT-D = hash(CKY-I | CKY-R | IP | port) with the negotiated hash. */
bool ike1_natd_hash(unsigned hash, const uint8_t ispi[8], const uint8_t rspi[8],
                    const uint8_t *ip, size_t ip_len, uint16_t port, uint8_t *out);
/* The first IV of a phase-2 exchange: hash(last phase-1 block | message ID). */
bool ike1_p2_iv(const struct ike1_keys *k, uint32_t msgid, uint8_t *iv);

/* Encrypt the encoded message msg[0..len) (header included) with `iv`, which becomes
 * its last ciphertext block; the body is padded with zeros. Its length, or 0. */
size_t ike1_seal(const struct ike1_keys *k, const uint8_t *msg, size_t len, uint8_t *iv,
                 uint8_t *out, size_t cap);
/* Decrypt the message `raw` (decoded into m, whose first payload is the encrypted body)
 * with `iv` into out: the header with the E flag cleared and the length of the
 * plaintext, then the plaintext. next_iv gets the last ciphertext block. The length, or
 * 0 when the body is not whole blocks or does not fit. */
size_t ike1_unseal(const struct ike1_keys *k, const struct ike_msg *m, const uint8_t *raw,
                   size_t len, const uint8_t *iv, uint8_t *next_iv, uint8_t *out, size_t cap);

/* Encode o (whose first payload is a HASH of hlen bytes), fill the HASH with
 * prf(SKEYID_a, M-ID | [Ni_b |] the rest), HASH(2) when ni is given, else HASH(1), and
 * encrypt with iv. scratch holds the plaintext (IKEV1_MSG_MAX). The length, or 0. */
size_t ike1_protect(const struct ike1_keys *k, const struct ike_msg *o, const uint8_t *ni,
                    size_t ni_len, uint8_t *iv, uint8_t *scratch, size_t scratch_cap,
                    uint8_t *out, size_t cap);
/* Does the decrypted message m (plaintext at pt) start with the HASH ike1_protect would
 * have put there? Compared in constant time. */
bool ike1_hash_check(const struct ike1_keys *k, const struct ike_msg *m, const uint8_t *pt,
                     const uint8_t *ni, size_t ni_len);
/* HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b). */
bool ike1_hash3(const struct ike1_keys *k, uint32_t msgid, const uint8_t *ni, size_t ni_len,
                const uint8_t *nr, size_t nr_len, uint8_t *out);

/* The keys of one ESP SA (RFC 2409 5.5): KEYMAT = prf(SKEYID_d, [g^qm |] 3 | SPI | Ni_b |
 * Nr_b), expanded, cut into the encryption key (with the GCM salt) and the
 * authentication key. xform, keybits, auth: the transform as negotiated. */
bool ike1_keymat_esp(const struct ike1_keys *k, uint16_t xform, uint16_t keybits,
                     uint16_t auth, const uint8_t *gxy, size_t gxy_len, uint32_t spi,
                     const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                     struct esp_sa *e);

/* Format an event line of either end and hand it to cbs->event (nothing when it has
 * none). */
void ikev1_event_v(const struct ikev1_cbs *cbs, enum ikev1_ev kind, const char *fmt,
                   va_list ap) __attribute__((format(printf, 3, 0)));

#endif
