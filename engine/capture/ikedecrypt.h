/* Decryption of IKEv2 and IKEv1 encrypted payloads with keys from a key file
 * (docs/keys.md).
 *
 * The key file holds the lines Wireshark's IKEv2 decryption table uses, as charon and
 * Wireshark write them:
 *
 *   SPIi,SPIr,SK_ei,SK_er,"ENCRYPTION",SK_ai,SK_ar,"INTEGRITY"
 *
 * optionally wrapped as a tshark option (-o 'uat:ikev2_decryption_table:...').
 * Supported: AES-CBC-128/192/256 and 3DES-CBC with HMAC-SHA1-96, HMAC-SHA2-256-128,
 * HMAC-SHA2-384-192, HMAC-SHA2-512-256 and HMAC-MD5-96 (OpenSSL EVP), and AES-GCM with
 * the 16-octet ICV (RFC 5282; SK_e is the key and its 4-byte salt, integrity "NONE").
 *
 * IKEv1 lines are Wireshark's IKEv1 table, `COOKIE_I,ENCRYPTION_KEY` (or the tshark form
 * -o 'uat:ikev1_decryption_table:...'); the IVs are derived as RFC 2409 appendix B says:
 * phase 1 from the hash of both KE values, later exchanges from the last phase 1 block
 * and the message ID.
 *
 * The same file may hold ESP SAs (engine/espdecrypt.h): Wireshark's esp_sa lines, bare
 * or as -o 'uat:esp_sa:...', and `ip xfrm state` blocks.
 */
#ifndef VNET_IKEDECRYPT_H
#define VNET_IKEDECRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "diag.h"
#include "capture/espdecrypt.h"
#include "ike.h"

struct ike_keys;

/* Load FILE. NULL on failure with "FILE:LINE: reason" in err. */
struct ike_keys *ike_keys_load(const char *path, char *err, size_t errsz);
/* Parse keys held in memory (`name` is used in messages). */
struct ike_keys *ike_keys_parse(const char *name, const char *text, size_t len, char *err,
                                size_t errsz);
void ike_keys_free(struct ike_keys *k);
size_t ike_keys_count_v2(const struct ike_keys *k);
size_t ike_keys_count_v1(const struct ike_keys *k);
size_t ike_keys_count_esp(const struct ike_keys *k);
/* The RADIUS shared secret of the file (a `radius.shared_secret:SECRET` line, Wireshark's
 * preference), or NULL. */
const uint8_t *ike_keys_radius_secret(const struct ike_keys *k, size_t *len);
/* Give *k the RADIUS shared secret (`--radius-secret`), making an empty key set when *k
 * is NULL. 0, or -1 with the reason in err (empty, out of memory, or *k has one from its
 * file already). */
int ike_keys_set_radius_secret(struct ike_keys **k, const char *secret, char *err,
                               size_t errsz);
/* The ESP SA for a packet (engine/espdecrypt.h), NULL when the file has none. */
const struct esp_sa *ike_keys_esp_find(const struct ike_keys *k, uint8_t ipver,
                                       const uint8_t *src, const uint8_t *dst, uint32_t spi);

/* Decrypt the SK payload of the IKEv2 message `raw` (len bytes from the IKE header on;
 * `m` is its decode). On success writes to `out` a plaintext IKE message: the original
 * header with the next-payload and length fields set for the inner payloads, which
 * follow; ike_decode reads it like any other message.
 * Returns 1 (decrypted, *outlen set), 0 (no SK payload or no key for these SPIs), or
 * -1 with err (integrity check failed, bad padding, unsupported algorithm). */
int ike2_decrypt(const struct ike_keys *k, const uint8_t *raw, size_t len,
                 const struct ike_msg *m, uint8_t *out, size_t cap, size_t *outlen,
                 struct diag_err *err);

/* One RFC 7383 fragment (SKF payload) of `raw`: each is integrity-protected and
 * encrypted on its own. On success writes the fragment's plaintext (no header) to `out`,
 * its number, the total and (from fragment 1) the first inner payload type to *f.
 * Returns 1, 0 (no SKF payload or no key for these SPIs) or -1 with err. The plaintexts
 * in fragment order make the message (ike2_plain_header puts a header in front). */
struct ike2_frag {
	uint16_t num, total;
	uint8_t next;
};
int ike2_decrypt_frag(const struct ike_keys *k, const uint8_t *raw, size_t len,
                      const struct ike_msg *m, uint8_t *out, size_t cap, size_t *outlen,
                      struct ike2_frag *f, struct diag_err *err);
/* The header of the plaintext message: raw's IKE header with the first payload `first`
 * and the length of the header and `inner` payload bytes. */
void ike2_plain_header(const uint8_t *raw, uint8_t first, size_t inner, uint8_t out[28]);

/* IKEv1 (RFC 2409 appendix B): the encryption key of the SA whose initiator cookie is
 * `cky_i`, NULL when the file has none. */
const uint8_t *ike1_key(const struct ike_keys *k, const uint8_t cky_i[8], size_t *keylen);

/* IKEv1 decryption state of one SA: the IV chain of phase 1 and of each exchange after
 * it. Created when keys name the SA. */
struct ike1_crypt;
struct ike1_crypt *ike1_crypt_new(const uint8_t *key, size_t keylen);
void ike1_crypt_free(struct ike1_crypt *c);
/* Phase 1 parameters: hash algorithm (IKEv1 attribute value: 1 MD5, 2 SHA1, 4 SHA2-256,
 * 5 SHA2-384, 6 SHA2-512) and encryption (5 3DES, 7 AES-CBC). */
void ike1_crypt_params(struct ike1_crypt *c, unsigned hash_alg, unsigned enc_alg);
/* The KE payload data of the initiator (i = true) or the responder. */
void ike1_crypt_ke(struct ike1_crypt *c, bool initiator, const uint8_t *ke, size_t n);
/* Decrypt the encrypted IKEv1 message `raw` (header at raw[0], `m` its decode) into `out`
 * as a plaintext message (E flag cleared). `retrans`: the same bytes were seen before
 * (the IV is not advanced again). 1 ok, 0 not possible yet (KE or parameters missing),
 * -1 with err. */
int ike1_decrypt(struct ike1_crypt *c, const uint8_t *raw, size_t len, const struct ike_msg *m,
                 bool retrans, uint8_t *out, size_t cap, size_t *outlen, struct diag_err *err);

#endif
