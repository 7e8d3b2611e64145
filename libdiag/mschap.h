/* CHAP and MS-CHAP cryptography: CHAP-MD5 (RFC 1994), MS-CHAPv1 (RFC 2433), MS-CHAPv2
 * (RFC 2759) and the MPPE keys derived from MS-CHAPv2 (RFC 3079).
 *
 * MD4, single DES and RC4 come from OpenSSL 3's legacy provider, loaded once into a
 * private library context (the process's default context is not touched). Functions
 * that need them return -1 when that provider cannot be loaded.
 *
 * Passwords are UTF-8 here and converted to the UTF-16LE form the RFCs hash (at most
 * 256 characters). Usernames are used as given (the RFCs hash the ASCII name).
 */
#ifndef VNET_MSCHAP_H
#define VNET_MSCHAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 0 when MD4 and DES are available, -1 otherwise. The first call loads what the
 * functions below use (OpenSSL's providers and algorithms). */
int mschap_crypto_ready(void);

/* CHAP-MD5 (RFC 1994): MD5(id || secret || challenge). */
void chap_md5_response(uint8_t id, const uint8_t *secret, size_t secret_len,
                       const uint8_t *challenge, size_t challenge_len, uint8_t out[16]);

/* NtPasswordHash: MD4 of the UTF-16LE password. -1 on bad UTF-8, > 256 chars, no MD4. */
int mschap_nt_password_hash(const char *password, size_t len, uint8_t out[16]);
/* HashNtPasswordHash: MD4 of the hash. */
int mschap_hash_nt_password_hash(const uint8_t hash[16], uint8_t out[16]);
/* ChallengeResponse: three DES encryptions of the 8-byte challenge with the 16-byte hash
 * zero-padded to 21 bytes and cut into 7-byte keys. */
int mschap_challenge_response(const uint8_t challenge[8], const uint8_t pw_hash[16],
                              uint8_t out[24]);
/* MS-CHAPv1 NT response (RFC 2433 NtChallengeResponse). */
int mschap1_nt_response(const uint8_t challenge[8], const char *password, size_t len,
                        uint8_t out[24]);

/* LmPasswordHash (RFC 2433 A.2): the password with ASCII letters upper-cased, zero-padded
 * to 14 octets, each 7-octet half used as a DES key on "KGS!@#$%". -1 past 14 octets. */
/* MS-CHAPv2 Change-Password (RFC 2759 section 7). The old hash encrypted with the new
 * (the packet's Encrypted-Hash): */
int mschap2_old_hash_encrypted(const uint8_t new_hash[16], const uint8_t old_hash[16],
                               uint8_t out[16]);
/* The Encrypted-Password block: the new password (UTF-8, sent as UTF-16LE) at the end of
 * 512 bytes of `fill`, its length after them, RC4 under the old password's NT hash. */
int mschap2_new_password_encrypt(const char *new_pw, size_t len, const uint8_t old_hash[16],
                                 const uint8_t fill[512], uint8_t out[516]);
/* The reverse: the new password as UTF-8 into out (NUL-terminated), its length, or -1 when
 * the block does not decrypt to a password (wrong old password, bad length or text). */
int mschap2_new_password_decrypt(const uint8_t enc[516], const uint8_t old_hash[16], char *out,
                                 size_t cap);
int mschap_lm_password_hash(const char *password, size_t len, uint8_t out[16]);
/* MS-CHAPv1 LM response (RFC 2433 LmChallengeResponse). */
int mschap1_lm_response(const uint8_t challenge[8], const char *password, size_t len,
                        uint8_t out[24]);

/* MS-CHAPv2 (RFC 2759 section 8) */
void mschap2_challenge_hash(const uint8_t peer_challenge[16],
                            const uint8_t auth_challenge[16], const char *user,
                            size_t user_len, uint8_t out[8]);
int mschap2_nt_response(const uint8_t auth_challenge[16], const uint8_t peer_challenge[16],
                        const char *user, size_t user_len, const char *password,
                        size_t pw_len, uint8_t out[24]);
/* GenerateAuthenticatorResponse: "S=" + 40 upper-case hex digits, NUL-terminated. */
int mschap2_authenticator_response(const char *password, size_t pw_len,
                                   const uint8_t nt_response[24],
                                   const uint8_t peer_challenge[16],
                                   const uint8_t auth_challenge[16], const char *user,
                                   size_t user_len, char out[43]);
/* Same, from the NT password hash (what a RADIUS server or a capture check holds). */
int mschap2_authenticator_response_hash(const uint8_t pw_hash[16],
                                        const uint8_t nt_response[24],
                                        const uint8_t peer_challenge[16],
                                        const uint8_t auth_challenge[16],
                                        const char *user, size_t user_len, char out[43]);
/* CheckAuthenticatorResponse: `received` is the "S=..." text (hex in either case, at
 * least 42 characters; anything after them, such as " M=...", is ignored).
 * 1 match, 0 mismatch, -1 error. */
int mschap2_check_authenticator_response(const char *password, size_t pw_len,
                                         const uint8_t nt_response[24],
                                         const uint8_t peer_challenge[16],
                                         const uint8_t auth_challenge[16],
                                         const char *user, size_t user_len,
                                         const char *received, size_t received_len);

/* MPPE keys from MS-CHAPv2 (RFC 3079 section 3): */
/* GetMasterKey: first 16 bytes of SHA1(PasswordHashHash || NTResponse || magic1). */
int mppe_master_key(const uint8_t pw_hash_hash[16], const uint8_t nt_response[24],
                    uint8_t out[16]);
/* GetAsymmetricStartKey: key_len 8 (40/56-bit) or 16 (128-bit). */
int mppe_asymmetric_start_key(const uint8_t master_key[16], uint8_t *out, size_t key_len,
                              bool is_send, bool is_server);
/* From the password: the send and receive start keys for one side. */
int mppe_chapv2_keys(const char *password, size_t pw_len, const uint8_t nt_response[24],
                     size_t key_len, bool is_server, uint8_t *send_key, uint8_t *recv_key);
/* GetNewKeyFromSHA (RFC 3079 section 3.4 / RFC 3078 section 7.3): first key_len bytes of
 * SHA1(start_key, 40 x 0x00, session_key, 40 x 0xf2), both inputs key_len bytes. */
int mppe_new_key_from_sha(const uint8_t *start_key, const uint8_t *session_key,
                          size_t key_len, uint8_t *out);
/* The first session key from a start key: GetNewKeyFromSHA with the start key as both
 * arguments, then for 40-bit the first three octets set to 0xd1 0x26 0x9e and for
 * 56-bit the first octet to 0xd1 (RFC 3079 section 3.5 vectors). bits: 40, 56 or 128;
 * `start_key` and `out` are 8 bytes for 40/56 and 16 for 128. */
int mppe_initial_session_key(const uint8_t *start_key, size_t bits, uint8_t *out);

/* Key change (RFC 3078 section 7.3, GetKey): interim = GetNewKeyFromSHA(start_key,
 * session_key), the new session key = RC4(interim) of interim, then reduced for 40/56-bit
 * as the initial key is. In stateless mode (the H bit) this runs before every packet,
 * the first included; in stateful mode every 256 packets. Updates session_key in place
 * (8 bytes for 40/56, 16 for 128). */
int mppe_change_key(const uint8_t *start_key, uint8_t *session_key, size_t bits);
/* RC4 of n bytes in place with a fresh key schedule (one MPPE packet in stateless mode). */
int mppe_rc4(const uint8_t *key, size_t key_len, uint8_t *data, size_t n);

#endif
