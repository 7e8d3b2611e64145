/* Decryption of IKEv2 encrypted payloads with keys from a key file (docs/keys.md).
 *
 * The key file holds the lines Wireshark's IKEv2 decryption table uses, as charon and
 * Wireshark write them:
 *
 *   SPIi,SPIr,SK_ei,SK_er,"ENCRYPTION",SK_ai,SK_ar,"INTEGRITY"
 *
 * optionally wrapped as a tshark option (-o 'uat:ikev2_decryption_table:...').
 * Supported: AES-CBC-128/192/256 and 3DES-CBC with HMAC-SHA1-96, HMAC-SHA2-256-128,
 * HMAC-SHA2-384-192, HMAC-SHA2-512-256 and HMAC-MD5-96 (OpenSSL EVP). IKEv1 lines
 * (uat:ikev1_decryption_table) are recognised and counted but not used yet.
 */
#ifndef VNET_IKEDECRYPT_H
#define VNET_IKEDECRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "diag.h"
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

/* Decrypt the SK payload of the IKEv2 message `raw` (len bytes from the IKE header on;
 * `m` is its decode). On success writes to `out` a plaintext IKE message: the original
 * header with the next-payload and length fields set for the inner payloads, which
 * follow; ike_decode reads it like any other message.
 * Returns 1 (decrypted, *outlen set), 0 (no SK payload or no key for these SPIs), or
 * -1 with err (integrity check failed, bad padding, unsupported algorithm). */
int ike2_decrypt(const struct ike_keys *k, const uint8_t *raw, size_t len,
                 const struct ike_msg *m, uint8_t *out, size_t cap, size_t *outlen,
                 struct diag_err *err);

#endif
