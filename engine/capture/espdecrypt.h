/* ESP decryption (RFC 4303) with security associations from a key file (docs/keys.md).
 *
 * An SA is one line of Wireshark's ESP SA table, bare or as the tshark option that
 * carries it:
 *
 *   "IPv4","SRC","DST","0xSPI","ENCRYPTION","0xKEY","AUTHENTICATION","0xAUTHKEY"
 *   -o 'uat:esp_sa:"IPv4","SRC",...'
 *
 * or the SA as `ip xfrm state` prints it (the Linux kernel's view, which is what
 * strongSwan's kernel-netlink installs). Ciphers: NULL, AES-CBC-128/192/256, 3DES-CBC,
 * AES-GCM (RFC 4106) with an 8, 12 or 16-byte ICV, the 4-byte salt at the end of the
 * key; integrity: NULL, HMAC-MD5-96, HMAC-SHA1-96, HMAC-SHA2-256-128,
 * HMAC-SHA2-384-192, HMAC-SHA2-512-256 (OpenSSL EVP).
 *
 * esp_decrypt is sans-I/O: it checks the ICV, decrypts into a caller buffer, checks the
 * self-describing padding and returns the payload and its next-header value. Every length
 * it returns was checked against the bytes it was given.
 */
#ifndef VNET_ESPDECRYPT_H
#define VNET_ESPDECRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "diag.h"

#define ESP_KEY_MAX 64

enum esp_enc { ESPE_NULL, ESPE_AES_CBC, ESPE_3DES, ESPE_AES_GCM };
enum esp_auth { ESPA_NULL, ESPA_MD5_96, ESPA_SHA1_96, ESPA_SHA256_128, ESPA_SHA384_192,
                ESPA_SHA512_256 };

struct esp_sa {
	uint8_t ipver;        /* 4, 6, or 0: any */
	bool any_src, any_dst, any_spi;
	uint8_t src[16], dst[16]; /* IPv4 as ::ffff:a.b.c.d is not used: 4 bytes then zeros */
	uint32_t spi;
	enum esp_enc enc;
	uint8_t ekey[ESP_KEY_MAX]; /* for GCM: the AES key followed by the 4-byte salt */
	size_t eklen;
	size_t gcm_icv;       /* 8, 12 or 16 */
	enum esp_auth auth;
	uint8_t akey[ESP_KEY_MAX];
	size_t aklen;
};

/* Parse one line of the ESP SA table (without the "uat:esp_sa:" prefix). 0, or -1 with
 * a reason in why. */
int esp_sa_parse_uat(const char *line, size_t n, struct esp_sa *out, char *why, size_t whysz);

/* `ip xfrm state` output, one block per SA: a line "src X dst Y" opens it, the indented
 * lines after it ("proto esp spi 0x.. ", "enc cbc(aes) 0x..", "auth-trunc hmac(sha1) 0x..
 * 96", "aead rfc4106(gcm(aes)) 0x.. 128") fill it in. */
struct esp_xfrm {
	bool open, is_esp, have_enc, have_auth;
	struct esp_sa sa;
};
/* Does the line open a block ("src ADDR dst ADDR")? */
bool esp_xfrm_is_start(const char *line, size_t n);
/* Open a block with its first line. -1 with why when the addresses do not parse. */
int esp_xfrm_begin(struct esp_xfrm *x, const char *line, size_t n, char *why, size_t whysz);
/* One indented line of the open block; lines vnet does not need are skipped. */
int esp_xfrm_add(struct esp_xfrm *x, const char *line, size_t n, char *why, size_t whysz);
/* Close the block: 1 with the SA in *out, 0 when it is no ESP SA with keys (AH, a state
 * listed without keys), -1 with why. */
int esp_xfrm_finish(struct esp_xfrm *x, struct esp_sa *out, char *why, size_t whysz);

/* Does `sa` apply to an ESP packet from src to dst (ipver 4 or 6, 16-byte addresses
 * with IPv4 in the first 4) with this SPI? */
bool esp_sa_match(const struct esp_sa *sa, uint8_t ipver, const uint8_t *src,
                  const uint8_t *dst, uint32_t spi);

/* Length of the IV and of the ICV the SA puts on the wire. */
size_t esp_sa_ivlen(const struct esp_sa *sa);
size_t esp_sa_icvlen(const struct esp_sa *sa);

/* Why a packet did not decrypt (esp_decrypt's negative results). */
enum esp_fail {
	ESPF_SHORT = -1,   /* shorter than header, IV, trailer and ICV */
	ESPF_BLOCK = -2,   /* ciphertext not a multiple of the cipher's block */
	ESPF_ICV = -3,     /* integrity check failed */
	ESPF_PADLEN = -4,  /* pad length beyond the decrypted bytes */
	ESPF_PAD = -5,     /* padding bytes not 1, 2, 3... (checked without integrity) */
	ESPF_NEXT = -6,    /* next header not one ESP carries (checked without integrity) */
	ESPF_CRYPTO = -7,  /* the cipher failed, or the output does not fit */
};
/* Short words for a failure, fit for a fact value ("integrity check failed"). */
const char *esp_fail_name(int r);

/* Cipher and MAC state kept between packets (the keys of the last SAs used, scheduled
 * once): optional, esp_decrypt works without it, only slower. Keys are wiped on free. */
struct esp_ctx;
struct esp_ctx *esp_ctx_new(void);
void esp_ctx_free(struct esp_ctx *x);

/* Decrypt the ESP packet `pkt` (len bytes from the SPI on). On success the payload (the
 * inner packet without padding and trailer) is at out[0..*outlen), its protocol in
 * *next_hdr; returns 0. A negative enum esp_fail with the details in err otherwise.
 * `x` may be NULL. The SA must stay at the same address while `x` holds it.
 * Without an integrity algorithm the padding and next header are the only checks. */
int esp_decrypt(struct esp_ctx *x, const struct esp_sa *sa, const uint8_t *pkt, size_t len,
                uint8_t *out, size_t cap, size_t *outlen, uint8_t *next_hdr,
                struct diag_err *err);

/* The other direction, for the ESP of engine/ike/esp_sa.h: an ESP packet (SPI, `seq`,
 * the IV given (esp_sa_ivlen bytes: random for CBC, unique per packet for GCM), the
 * payload with the default padding 1, 2, 3..., pad length, next header, ICV) into
 * out. `payload` may be inside `out` at the place the ciphertext goes. Returns the
 * length, 0 when it does not fit in cap or the cipher failed. */
size_t esp_encrypt(const struct esp_sa *sa, uint32_t seq, const uint8_t *iv, const uint8_t *payload,
                   size_t plen, uint8_t next_hdr, uint8_t *out, size_t cap);

/* Name of the cipher / integrity algorithm ("AES-CBC-128", "HMAC-SHA1-96"...). */
const char *esp_enc_name(const struct esp_sa *sa);
const char *esp_auth_name(const struct esp_sa *sa);

#endif
