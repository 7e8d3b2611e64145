/* CHAP-MD5, MS-CHAPv1, MS-CHAPv2 and MPPE key derivation (RFC 1994, 2433, 2759, 3079).
 *
 * MD4, DES-ECB and RC4 are fetched from OpenSSL 3's legacy provider inside a private
 * library context, so loading it changes nothing for the rest of the process. SHA-1 and
 * MD5 come from the default provider, fetched once: the implicit fetch of EVP_sha1() and
 * EVP_md5() looks the algorithm up again on every digest.
 */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include "mschap.h"
#include "diag.h"

static CRYPTO_ONCE crypto_once = CRYPTO_ONCE_STATIC_INIT;
static OSSL_LIB_CTX *legacy_ctx;
static EVP_MD *md4;
static EVP_CIPHER *des_ecb;
static EVP_CIPHER *rc4;

static void crypto_init(void)
{
	OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();
	if (!ctx) return;
	OSSL_PROVIDER *leg = OSSL_PROVIDER_load(ctx, "legacy");
	OSSL_PROVIDER *def = OSSL_PROVIDER_load(ctx, "default");
	if (!leg || !def) {
		OSSL_LIB_CTX_free(ctx);
		return;
	}
	EVP_MD *m = EVP_MD_fetch(ctx, "MD4", NULL);
	EVP_CIPHER *c = EVP_CIPHER_fetch(ctx, "DES-ECB", NULL);
	EVP_CIPHER *r = EVP_CIPHER_fetch(ctx, "RC4", NULL);
	if (!m || !c || !r) {
		EVP_MD_free(m);
		EVP_CIPHER_free(c);
		EVP_CIPHER_free(r);
		OSSL_LIB_CTX_free(ctx);
		return;
	}
	legacy_ctx = ctx;
	md4 = m;
	des_ecb = c;
	rc4 = r;
}

static CRYPTO_ONCE digest_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MD *sha1_md, *md5_md;

static void digest_init(void)
{
	sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
	md5_md = EVP_MD_fetch(NULL, "MD5", NULL);
}

/* SHA-1 and MD5, fetched once (the implicit fetch when that failed). */
static const EVP_MD *sha1(void)
{
	CRYPTO_THREAD_run_once(&digest_once, digest_init);
	return sha1_md ? sha1_md : EVP_sha1();
}

static const EVP_MD *md5(void)
{
	CRYPTO_THREAD_run_once(&digest_once, digest_init);
	return md5_md ? md5_md : EVP_md5();
}

int mschap_crypto_ready(void)
{
	CRYPTO_THREAD_run_once(&digest_once, digest_init);
	if (!CRYPTO_THREAD_run_once(&crypto_once, crypto_init)) return -1;
	return md4 && des_ecb && rc4 ? 0 : -1;
}

static int digest(const EVP_MD *md, const void *const *parts, const size_t *lens,
                  size_t nparts, uint8_t *out)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, md, NULL);
	for (size_t i = 0; ok && i < nparts; i++)
		ok = EVP_DigestUpdate(c, parts[i], lens[i]);
	unsigned int n = 0;
	ok = ok && EVP_DigestFinal_ex(c, out, &n);
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

static int sha1_parts(const void *const *parts, const size_t *lens, size_t n, uint8_t out[20])
{
	return digest(sha1(), parts, lens, n, out);
}

void chap_md5_response(uint8_t id, const uint8_t *secret, size_t secret_len,
                       const uint8_t *challenge, size_t challenge_len, uint8_t out[16])
{
	const void *parts[] = { &id, secret, challenge };
	size_t lens[] = { 1, secret_len, challenge_len };
	if (digest(md5(), parts, lens, 3, out))
		memset(out, 0, 16);
}

/* UTF-8 to UTF-16LE; returns the byte length or -1 (bad UTF-8, more than 256 units). */
static int utf16le(const char *s, size_t len, uint8_t out[512])
{
	size_t units = 0, i = 0;
	const uint8_t *p = (const uint8_t *)s;
	while (i < len) {
		uint32_t cp;
		size_t n;
		if (p[i] < 0x80) { cp = p[i]; n = 1; }
		else if ((p[i] & 0xe0) == 0xc0) { cp = p[i] & 0x1f; n = 2; }
		else if ((p[i] & 0xf0) == 0xe0) { cp = p[i] & 0x0f; n = 3; }
		else if ((p[i] & 0xf8) == 0xf0) { cp = p[i] & 0x07; n = 4; }
		else return -1;
		if (i + n > len) return -1;
		for (size_t k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80) return -1;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		i += n;
		if (cp >= 0x10000) {
			if (units + 2 > 256) return -1;
			cp -= 0x10000;
			uint16_t hi = (uint16_t)(0xd800 | (cp >> 10)), lo = (uint16_t)(0xdc00 | (cp & 0x3ff));
			out[2 * units] = (uint8_t)hi; out[2 * units + 1] = (uint8_t)(hi >> 8);
			out[2 * units + 2] = (uint8_t)lo; out[2 * units + 3] = (uint8_t)(lo >> 8);
			units += 2;
		} else {
			if (units + 1 > 256) return -1;
			out[2 * units] = (uint8_t)cp; out[2 * units + 1] = (uint8_t)(cp >> 8);
			units++;
		}
	}
	return (int)(2 * units);
}

int mschap_nt_password_hash(const char *password, size_t len, uint8_t out[16])
{
	uint8_t u[512];
	if (mschap_crypto_ready()) return -1;
	int n = utf16le(password, len, u);
	if (n < 0) return -1;
	const void *parts[] = { u };
	size_t lens[] = { (size_t)n };
	int rc = digest(md4, parts, lens, 1, out);
	OPENSSL_cleanse(u, sizeof u);
	return rc;
}

int mschap_hash_nt_password_hash(const uint8_t hash[16], uint8_t out[16])
{
	if (mschap_crypto_ready()) return -1;
	const void *parts[] = { hash };
	size_t lens[] = { 16 };
	return digest(md4, parts, lens, 1, out);
}

/* 7 key bytes -> 8 DES key bytes, parity bits set (odd parity, unused by DES itself). */
static void des_key_expand(const uint8_t k7[7], uint8_t k8[8])
{
	k8[0] = k7[0];
	k8[1] = (uint8_t)((k7[0] << 7) | (k7[1] >> 1));
	k8[2] = (uint8_t)((k7[1] << 6) | (k7[2] >> 2));
	k8[3] = (uint8_t)((k7[2] << 5) | (k7[3] >> 3));
	k8[4] = (uint8_t)((k7[3] << 4) | (k7[4] >> 4));
	k8[5] = (uint8_t)((k7[4] << 3) | (k7[5] >> 5));
	k8[6] = (uint8_t)((k7[5] << 2) | (k7[6] >> 6));
	k8[7] = (uint8_t)(k7[6] << 1);
	for (int i = 0; i < 8; i++) {
		uint8_t b = k8[i] & 0xfe, ones = 0;
		for (int j = 1; j < 8; j++) ones += (b >> j) & 1;
		k8[i] = (uint8_t)(b | ((ones & 1) ? 0 : 1));
	}
}

static int des_encrypt(const uint8_t clear[8], const uint8_t k7[7], uint8_t out[8])
{
	uint8_t key[8];
	des_key_expand(k7, key);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok = c && EVP_EncryptInit_ex2(c, des_ecb, key, NULL, NULL) &&
	                EVP_CIPHER_CTX_set_padding(c, 0) &&
	                EVP_EncryptUpdate(c, out, &n, clear, 8) && n == 8;
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(key, sizeof key);
	return ok ? 0 : -1;
}

int mschap_challenge_response(const uint8_t challenge[8], const uint8_t pw_hash[16],
                              uint8_t out[24])
{
	uint8_t z[21];
	if (mschap_crypto_ready()) return -1;
	memset(z, 0, sizeof z);
	memcpy(z, pw_hash, 16);
	int rc = des_encrypt(challenge, z, out) || des_encrypt(challenge, z + 7, out + 8) ||
	         des_encrypt(challenge, z + 14, out + 16);
	OPENSSL_cleanse(z, sizeof z);
	return rc ? -1 : 0;
}

int mschap1_nt_response(const uint8_t challenge[8], const char *password, size_t len,
                        uint8_t out[24])
{
	uint8_t h[16];
	int rc = mschap_nt_password_hash(password, len, h) ||
	         mschap_challenge_response(challenge, h, out);
	OPENSSL_cleanse(h, sizeof h);
	return rc ? -1 : 0;
}

/* ---- MS-CHAPv2 Change-Password (RFC 2759 sections 8.9 to 8.13) ----------------------- */
int mschap2_old_hash_encrypted(const uint8_t new_hash[16], const uint8_t old_hash[16],
                               uint8_t out[16])
{
	if (mschap_crypto_ready()) return -1;
	/* NtPasswordHashEncryptedWithBlock: each half of the old hash under 7 bytes of the new */
	return des_encrypt(old_hash, new_hash, out) || des_encrypt(old_hash + 8, new_hash + 7, out + 8)
	       ? -1 : 0;
}

int mschap2_new_password_encrypt(const char *new_pw, size_t len, const uint8_t old_hash[16],
                                 const uint8_t fill[512], uint8_t out[516])
{
	uint8_t u[512];
	if (mschap_crypto_ready()) return -1;
	int n = utf16le(new_pw, len, u);
	if (n < 0 || n > 512) return -1;
	memcpy(out, fill, 512);
	memcpy(out + 512 - n, u, (size_t)n);
	out[512] = (uint8_t)n;
	out[513] = (uint8_t)(n >> 8);
	out[514] = out[515] = 0;
	OPENSSL_cleanse(u, sizeof u);
	return mppe_rc4(old_hash, 16, out, 516);
}

int mschap2_new_password_decrypt(const uint8_t enc[516], const uint8_t old_hash[16], char *out,
                                 size_t cap)
{
	uint8_t b[516];
	if (mschap_crypto_ready()) return -1;
	memcpy(b, enc, 516);
	int rc = -1;
	if (mppe_rc4(old_hash, 16, b, 516) != 0) goto done;
	uint32_t n = (uint32_t)b[512] | (uint32_t)b[513] << 8 | (uint32_t)b[514] << 16 |
	             (uint32_t)b[515] << 24;
	if (n == 0 || n > 512 || (n & 1)) goto done; /* a wrong old password shows up here */
	/* UTF-16LE to UTF-8 */
	size_t o = 0;
	const uint8_t *u = b + 512 - n;
	for (size_t i = 0; i < n; i += 2) {
		uint32_t cp = (uint32_t)u[i] | (uint32_t)u[i + 1] << 8;
		if (cp >= 0xd800 && cp < 0xdc00 && i + 3 < n) {
			uint32_t lo = (uint32_t)u[i + 2] | (uint32_t)u[i + 3] << 8;
			if (lo < 0xdc00 || lo > 0xdfff) goto done;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			i += 2;
		} else if (cp >= 0xd800 && cp <= 0xdfff) {
			goto done;
		}
		if (cp == 0) goto done;
		uint8_t e[4];
		size_t k;
		if (cp < 0x80) { e[0] = (uint8_t)cp; k = 1; }
		else if (cp < 0x800) { e[0] = (uint8_t)(0xc0 | cp >> 6); e[1] = (uint8_t)(0x80 | (cp & 63)); k = 2; }
		else if (cp < 0x10000) {
			e[0] = (uint8_t)(0xe0 | cp >> 12); e[1] = (uint8_t)(0x80 | ((cp >> 6) & 63));
			e[2] = (uint8_t)(0x80 | (cp & 63)); k = 3;
		} else {
			e[0] = (uint8_t)(0xf0 | cp >> 18); e[1] = (uint8_t)(0x80 | ((cp >> 12) & 63));
			e[2] = (uint8_t)(0x80 | ((cp >> 6) & 63)); e[3] = (uint8_t)(0x80 | (cp & 63)); k = 4;
		}
		if (o + k + 1 > cap) goto done;
		memcpy(out + o, e, k);
		o += k;
	}
	out[o] = 0;
	rc = (int)o;
done:
	OPENSSL_cleanse(b, sizeof b);
	return rc;
}

int mschap_lm_password_hash(const char *password, size_t len, uint8_t out[16])
{
	static const uint8_t std_text[8] = { 'K', 'G', 'S', '!', '@', '#', '$', '%' };
	uint8_t up[14];
	if (len > sizeof up || mschap_crypto_ready()) return -1;
	memset(up, 0, sizeof up);
	for (size_t i = 0; i < len; i++) {
		char c = password[i];
		up[i] = (uint8_t)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
	}
	int rc = des_encrypt(std_text, up, out) || des_encrypt(std_text, up + 7, out + 8);
	OPENSSL_cleanse(up, sizeof up);
	return rc ? -1 : 0;
}

int mschap1_lm_response(const uint8_t challenge[8], const char *password, size_t len,
                        uint8_t out[24])
{
	uint8_t h[16];
	int rc = mschap_lm_password_hash(password, len, h) ||
	         mschap_challenge_response(challenge, h, out);
	OPENSSL_cleanse(h, sizeof h);
	return rc ? -1 : 0;
}

void mschap2_challenge_hash(const uint8_t peer_challenge[16],
                            const uint8_t auth_challenge[16], const char *user,
                            size_t user_len, uint8_t out[8])
{
	uint8_t d[20];
	const void *parts[] = { peer_challenge, auth_challenge, user };
	size_t lens[] = { 16, 16, user_len };
	if (sha1_parts(parts, lens, 3, d)) memset(d, 0, sizeof d);
	memcpy(out, d, 8);
}

int mschap2_nt_response(const uint8_t auth_challenge[16], const uint8_t peer_challenge[16],
                        const char *user, size_t user_len, const char *password,
                        size_t pw_len, uint8_t out[24])
{
	uint8_t ch[8], h[16];
	mschap2_challenge_hash(peer_challenge, auth_challenge, user, user_len, ch);
	int rc = mschap_nt_password_hash(password, pw_len, h) ||
	         mschap_challenge_response(ch, h, out);
	OPENSSL_cleanse(h, sizeof h);
	return rc ? -1 : 0;
}

static const char auth_magic1[] = "Magic server to client signing constant";
static const char auth_magic2[] = "Pad to make it do more than one iteration";

int mschap2_authenticator_response_hash(const uint8_t pw_hash[16],
                                        const uint8_t nt_response[24],
                                        const uint8_t peer_challenge[16],
                                        const uint8_t auth_challenge[16],
                                        const char *user, size_t user_len, char out[43])
{
	static const char hx[] = "0123456789ABCDEF";
	uint8_t hh[16], d[20], ch[8];
	if (mschap_hash_nt_password_hash(pw_hash, hh)) return -1;
	const void *p1[] = { hh, nt_response, auth_magic1 };
	size_t l1[] = { 16, 24, sizeof auth_magic1 - 1 };
	if (sha1_parts(p1, l1, 3, d)) return -1;
	mschap2_challenge_hash(peer_challenge, auth_challenge, user, user_len, ch);
	const void *p2[] = { d, ch, auth_magic2 };
	size_t l2[] = { 20, 8, sizeof auth_magic2 - 1 };
	if (sha1_parts(p2, l2, 3, d)) return -1;
	out[0] = 'S'; out[1] = '=';
	for (int i = 0; i < 20; i++) {
		out[2 + 2 * i] = hx[d[i] >> 4];
		out[3 + 2 * i] = hx[d[i] & 15];
	}
	out[42] = 0;
	OPENSSL_cleanse(hh, sizeof hh);
	return 0;
}

int mschap2_authenticator_response(const char *password, size_t pw_len,
                                   const uint8_t nt_response[24],
                                   const uint8_t peer_challenge[16],
                                   const uint8_t auth_challenge[16], const char *user,
                                   size_t user_len, char out[43])
{
	uint8_t h[16];
	int rc = mschap_nt_password_hash(password, pw_len, h) ||
	         mschap2_authenticator_response_hash(h, nt_response, peer_challenge,
	                                             auth_challenge, user, user_len, out);
	OPENSSL_cleanse(h, sizeof h);
	return rc ? -1 : 0;
}

static int hexnib(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int mschap2_check_authenticator_response(const char *password, size_t pw_len,
                                         const uint8_t nt_response[24],
                                         const uint8_t peer_challenge[16],
                                         const uint8_t auth_challenge[16],
                                         const char *user, size_t user_len,
                                         const char *received, size_t received_len)
{
	char mine[43];
	uint8_t got[20], want[20];
	if (received_len < 42 || received[0] != 'S' || received[1] != '=') return -1;
	for (int i = 0; i < 20; i++) {
		int hi = hexnib(received[2 + 2 * i]), lo = hexnib(received[3 + 2 * i]);
		if (hi < 0 || lo < 0) return -1;
		got[i] = (uint8_t)(hi << 4 | lo);
	}
	if (mschap2_authenticator_response(password, pw_len, nt_response, peer_challenge,
	                                   auth_challenge, user, user_len, mine))
		return -1;
	for (int i = 0; i < 20; i++)
		want[i] = (uint8_t)(hexnib(mine[2 + 2 * i]) << 4 | hexnib(mine[3 + 2 * i]));
	int ok = secret_equal(got, want, sizeof want) ? 1 : 0;
	OPENSSL_cleanse(want, sizeof want);
	OPENSSL_cleanse(mine, sizeof mine);
	return ok;
}

/* ---- MPPE (RFC 3079) ------------------------------------------------------------- */
static const char mppe_magic1[] = "This is the MPPE Master Key";
static const char mppe_magic2[] = "On the client side, this is the send key; on the server "
                                  "side, it is the receive key.";
static const char mppe_magic3[] = "On the client side, this is the receive key; on the "
                                  "server side, it is the send key.";

int mppe_master_key(const uint8_t pw_hash_hash[16], const uint8_t nt_response[24],
                    uint8_t out[16])
{
	uint8_t d[20];
	const void *parts[] = { pw_hash_hash, nt_response, mppe_magic1 };
	size_t lens[] = { 16, 24, sizeof mppe_magic1 - 1 };
	if (sha1_parts(parts, lens, 3, d)) return -1;
	memcpy(out, d, 16);
	return 0;
}

int mppe_asymmetric_start_key(const uint8_t master_key[16], uint8_t *out, size_t key_len,
                              bool is_send, bool is_server)
{
	uint8_t pad1[40], pad2[40], d[20];
	if (key_len != 8 && key_len != 16) return -1;
	memset(pad1, 0, sizeof pad1);
	memset(pad2, 0xf2, sizeof pad2);
	const char *s = (is_send == is_server) ? mppe_magic3 : mppe_magic2;
	const void *parts[] = { master_key, pad1, s, pad2 };
	size_t lens[] = { 16, 40, sizeof mppe_magic2 - 1, 40 };
	if (sha1_parts(parts, lens, 4, d)) return -1;
	memcpy(out, d, key_len);
	return 0;
}

int mppe_chapv2_keys(const char *password, size_t pw_len, const uint8_t nt_response[24],
                     size_t key_len, bool is_server, uint8_t *send_key, uint8_t *recv_key)
{
	uint8_t h[16], hh[16], mk[16];
	int rc = mschap_nt_password_hash(password, pw_len, h) ||
	         mschap_hash_nt_password_hash(h, hh) ||
	         mppe_master_key(hh, nt_response, mk) ||
	         mppe_asymmetric_start_key(mk, send_key, key_len, true, is_server) ||
	         mppe_asymmetric_start_key(mk, recv_key, key_len, false, is_server);
	OPENSSL_cleanse(h, sizeof h);
	OPENSSL_cleanse(hh, sizeof hh);
	OPENSSL_cleanse(mk, sizeof mk);
	return rc ? -1 : 0;
}

int mppe_new_key_from_sha(const uint8_t *start_key, const uint8_t *session_key,
                          size_t key_len, uint8_t *out)
{
	uint8_t pad1[40], pad2[40], d[20];
	if (key_len != 8 && key_len != 16) return -1;
	memset(pad1, 0, sizeof pad1);
	memset(pad2, 0xf2, sizeof pad2);
	const void *parts[] = { start_key, pad1, session_key, pad2 };
	size_t lens[] = { key_len, 40, key_len, 40 };
	if (sha1_parts(parts, lens, 4, d)) return -1;
	memcpy(out, d, key_len);
	return 0;
}

int mppe_initial_session_key(const uint8_t *start_key, size_t bits, uint8_t *out)
{
	size_t n = bits == 128 ? 16 : 8;
	if (bits != 40 && bits != 56 && bits != 128) return -1;
	if (mppe_new_key_from_sha(start_key, start_key, n, out)) return -1;
	if (bits == 40) { out[0] = 0xd1; out[1] = 0x26; out[2] = 0x9e; }
	else if (bits == 56) out[0] = 0xd1;
	return 0;
}

int mppe_rc4(const uint8_t *key, size_t key_len, uint8_t *data, size_t n)
{
	if ((key_len != 8 && key_len != 16) || n > 0x7fffffff || mschap_crypto_ready()) return -1;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl = 0;
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_size_t("keylen", &key_len), OSSL_PARAM_construct_end()
	};
	int ok = c && EVP_EncryptInit_ex2(c, rc4, NULL, NULL, params) &&
	         EVP_EncryptInit_ex2(c, NULL, key, NULL, NULL) &&
	         (n == 0 || EVP_EncryptUpdate(c, data, &outl, data, (int)n));
	EVP_CIPHER_CTX_free(c);
	return ok && (size_t)outl == n ? 0 : -1;
}

int mppe_change_key(const uint8_t *start_key, uint8_t *session_key, size_t bits)
{
	uint8_t interim[16];
	size_t n = bits == 128 ? 16 : 8;
	if (bits != 40 && bits != 56 && bits != 128) return -1;
	if (mppe_new_key_from_sha(start_key, session_key, n, interim)) return -1;
	memcpy(session_key, interim, n);
	int rc = mppe_rc4(interim, n, session_key, n);
	OPENSSL_cleanse(interim, sizeof interim);
	if (rc) return -1;
	if (bits == 40) { session_key[0] = 0xd1; session_key[1] = 0x26; session_key[2] = 0x9e; }
	else if (bits == 56) session_key[0] = 0xd1;
	return 0;
}
