/* ESP decryption (RFC 4303, RFC 4106) and the ESP SA formats of docs/keys.md. */
#include "capture/espdecrypt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#define ESP_HDR 8



static bool is_field(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && !strncasecmp(s, word, n);
}


/* An address into 16 bytes (IPv4 in the first 4); the IP version or 0. */
static int parse_addr(const char *s, size_t n, uint8_t out[16])
{
	char buf[64];
	if (n == 0 || n >= sizeof buf)
		return 0;
	memcpy(buf, s, n);
	buf[n] = 0;
	char *slash = strchr(buf, '/'); /* Wireshark accepts a prefix length: only /32 and
	                                   /128 name one host */
	if (slash)
		*slash = 0;
	memset(out, 0, 16);
	if (inet_pton(AF_INET, buf, out) == 1)
		return slash && strcmp(slash + 1, "32") ? 0 : 4;
	if (inet_pton(AF_INET6, buf, out) == 1)
		return slash && strcmp(slash + 1, "128") ? 0 : 6;
	return 0;
}

static bool parse_spi(const char *s, size_t n, uint32_t *spi)
{
	uint8_t b[4];
	if (n < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || n > 10)
		return false;
	/* accept fewer than 8 digits: left-pad */
	char pad[10] = "00000000";
	size_t d = n - 2;
	memcpy(pad + 8 - d, s + 2, d);
	if (hex_field(pad, 8, b, 4) != 4)
		return false;
	*spi = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return true;
}

static bool check_keylen(struct esp_sa *sa, char *why, size_t whysz)
{
	size_t k = sa->eklen;
	bool ok = true;
	switch (sa->enc) {
	case ESPE_NULL: ok = k == 0; break;
	case ESPE_AES_CBC: ok = k == 16 || k == 24 || k == 32; break;
	case ESPE_3DES: ok = k == 24; break;
	case ESPE_AES_GCM: ok = k == 20 || k == 28 || k == 36; break;
	}
	if (!ok) {
		snprintf(why, whysz, "a %zu-byte key does not fit %s%s", k, esp_enc_name(sa),
		         sa->enc == ESPE_AES_GCM ? " (AES key and 4-byte salt)" : "");
		return false;
	}
	if (sa->auth == ESPA_NULL && sa->aklen) {
		snprintf(why, whysz, "an authentication key without an algorithm");
		return false;
	}
	if (sa->auth != ESPA_NULL && !sa->aklen) {
		snprintf(why, whysz, "%s needs an authentication key", esp_auth_name(sa));
		return false;
	}
	return true;
}

static bool uat_enc(const char *s, size_t n, struct esp_sa *sa)
{
	if (text_starts(s, n, "NULL")) {
		sa->enc = ESPE_NULL;
	} else if (text_starts(s, n, "AES-CBC")) {
		sa->enc = ESPE_AES_CBC;
	} else if (text_starts(s, n, "TripleDES-CBC") || text_starts(s, n, "3DES")) {
		sa->enc = ESPE_3DES;
	} else if (text_starts(s, n, "AES-GCM with 8 octet ICV")) {
		sa->enc = ESPE_AES_GCM;
		sa->gcm_icv = 8;
	} else if (text_starts(s, n, "AES-GCM with 12 octet ICV")) {
		sa->enc = ESPE_AES_GCM;
		sa->gcm_icv = 12;
	} else if (text_starts(s, n, "AES-GCM")) {
		sa->enc = ESPE_AES_GCM;
		sa->gcm_icv = 16;
	} else {
		return false;
	}
	return true;
}

static bool uat_auth(const char *s, size_t n, struct esp_sa *sa)
{
	static const struct {
		const char *a, *b;
		enum esp_auth v;
	} t[] = {
		{"NULL", "NONE", ESPA_NULL},
		{"HMAC-SHA-1-96", "HMAC_SHA1_96", ESPA_SHA1_96},
		{"HMAC-SHA-256-128", "HMAC_SHA2_256_128", ESPA_SHA256_128},
		{"HMAC-SHA-384-192", "HMAC_SHA2_384_192", ESPA_SHA384_192},
		{"HMAC-SHA-512-256", "HMAC_SHA2_512_256", ESPA_SHA512_256},
		{"HMAC-MD5-96", "HMAC_MD5_96", ESPA_MD5_96},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (text_starts(s, n, t[i].a) || text_starts(s, n, t[i].b)) {
			sa->auth = t[i].v;
			return true;
		}
	return false;
}

int esp_sa_parse_uat(const char *line, size_t n, struct esp_sa *sa, char *why, size_t whysz)
{
	const char *f[10];
	size_t fl[10];
	size_t nf = csv_split(line, n, f, fl, 10);
	if (nf != 8) {
		snprintf(why, whysz, "%zu fields, an ESP SA line has 8", nf);
		return -1;
	}
	memset(sa, 0, sizeof *sa);
	if (is_field(f[0], fl[0], "IPv4"))
		sa->ipver = 4;
	else if (is_field(f[0], fl[0], "IPv6"))
		sa->ipver = 6;
	else if (is_field(f[0], fl[0], "Any") || is_field(f[0], fl[0], "*"))
		sa->ipver = 0;
	else {
		snprintf(why, whysz, "protocol \"%.*s\": IPv4, IPv6 or Any", (int)fl[0], f[0]);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		bool *any = i ? &sa->any_dst : &sa->any_src;
		uint8_t *a = i ? sa->dst : sa->src;
		if (is_field(f[1 + i], fl[1 + i], "*") || fl[1 + i] == 0) {
			*any = true;
			continue;
		}
		int v = parse_addr(f[1 + i], fl[1 + i], a);
		if (!v || (sa->ipver && v != sa->ipver)) {
			snprintf(why, whysz, "%s address \"%.*s\" is not an IPv%s host address",
			         i ? "destination" : "source", (int)fl[1 + i], f[1 + i],
			         sa->ipver == 6 ? "6" : sa->ipver == 4 ? "4" : "4 or IPv6");
			return -1;
		}
		if (!sa->ipver)
			sa->ipver = (uint8_t)v;
	}
	if (is_field(f[3], fl[3], "*")) {
		sa->any_spi = true;
	} else if (!parse_spi(f[3], fl[3], &sa->spi)) {
		snprintf(why, whysz, "SPI \"%.*s\" is not 0x and up to 8 hex digits", (int)fl[3], f[3]);
		return -1;
	}
	if (!uat_enc(f[4], fl[4], sa)) {
		snprintf(why, whysz, "encryption \"%.*s\" is not supported", (int)fl[4], f[4]);
		return -1;
	}
	long l = fl[5] ? hex_field(f[5], fl[5], sa->ekey, ESP_KEY_MAX) : 0;
	if (l < 0) {
		snprintf(why, whysz, "the encryption key is not hex of at most %d bytes", ESP_KEY_MAX);
		return -1;
	}
	sa->eklen = (size_t)l;
	if (!uat_auth(f[6], fl[6], sa)) {
		snprintf(why, whysz, "authentication \"%.*s\" is not supported", (int)fl[6], f[6]);
		return -1;
	}
	l = fl[7] ? hex_field(f[7], fl[7], sa->akey, ESP_KEY_MAX) : 0;
	if (l < 0) {
		snprintf(why, whysz, "the authentication key is not hex of at most %d bytes",
		         ESP_KEY_MAX);
		return -1;
	}
	sa->aklen = (size_t)l;
	if (sa->enc == ESPE_AES_GCM && sa->auth != ESPA_NULL) {
		snprintf(why, whysz, "AES-GCM carries its own ICV: authentication must be NULL");
		return -1;
	}
	return check_keylen(sa, why, whysz) ? 0 : -1;
}

/* ---- ip xfrm state ------------------------------------------------------------------ */

/* The next blank-separated word of line[*i..n). */
static bool word(const char *p, size_t n, size_t *i, const char **w, size_t *wl)
{
	while (*i < n && (p[*i] == ' ' || p[*i] == '\t'))
		(*i)++;
	if (*i >= n)
		return false;
	*w = p + *i;
	while (*i < n && p[*i] != ' ' && p[*i] != '\t')
		(*i)++;
	*wl = (size_t)(p + *i - *w);
	return true;
}

bool esp_xfrm_is_start(const char *line, size_t n)
{
	size_t i = 0;
	const char *w;
	size_t wl;
	return n && line[0] != ' ' && line[0] != '\t' && word(line, n, &i, &w, &wl) &&
	       is_field(w, wl, "src");
}

int esp_xfrm_begin(struct esp_xfrm *x, const char *line, size_t n, char *why, size_t whysz)
{
	memset(x, 0, sizeof *x);
	size_t i = 0;
	const char *w[4];
	size_t wl[4];
	for (int k = 0; k < 4; k++)
		if (!word(line, n, &i, &w[k], &wl[k])) {
			snprintf(why, whysz, "an xfrm state starts with \"src ADDRESS dst ADDRESS\"");
			return -1;
		}
	int v1 = parse_addr(w[1], wl[1], x->sa.src), v2 = parse_addr(w[3], wl[3], x->sa.dst);
	if (!is_field(w[2], wl[2], "dst") || !v1 || v1 != v2) {
		snprintf(why, whysz, "an xfrm state starts with \"src ADDRESS dst ADDRESS\"");
		return -1;
	}
	x->sa.ipver = (uint8_t)v1;
	x->open = true;
	return 0;
}

/* Kernel algorithm names and what they are here. `trunc_bits`: the ICV of "auth ..."
 * (without -trunc), the kernel's default for the algorithm. */
static bool xfrm_auth(const char *s, size_t n, size_t bits, struct esp_sa *sa)
{
	static const struct {
		const char *name;
		size_t bits, deflt;
		enum esp_auth v;
	} t[] = {
		{"hmac(md5)", 96, 96, ESPA_MD5_96}, {"hmac(sha1)", 96, 96, ESPA_SHA1_96},
		{"hmac(sha256)", 128, 96, ESPA_SHA256_128},
		{"hmac(sha384)", 192, 192, ESPA_SHA384_192},
		{"hmac(sha512)", 256, 256, ESPA_SHA512_256},
		{"digest_null", 0, 0, ESPA_NULL},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (is_field(s, n, t[i].name)) {
			if ((bits ? bits : t[i].deflt) != t[i].bits)
				return false;
			sa->auth = t[i].v;
			return true;
		}
	return false;
}

int esp_xfrm_add(struct esp_xfrm *x, const char *line, size_t n, char *why, size_t whysz)
{
	size_t i = 0;
	const char *w;
	size_t wl;
	if (!x->open || !word(line, n, &i, &w, &wl))
		return 0;
	const char *a = NULL, *k = NULL, *b = NULL;
	size_t al = 0, kl = 0, bl = 0;
	if (is_field(w, wl, "proto")) {
		const char *pw, *sw, *vw;
		size_t pl, sl, vl;
		if (!word(line, n, &i, &pw, &pl))
			return 0;
		x->is_esp = is_field(pw, pl, "esp");
		if (!x->is_esp)
			return 0;
		if (!word(line, n, &i, &sw, &sl) || !is_field(sw, sl, "spi") ||
		    !word(line, n, &i, &vw, &vl) || !parse_spi(vw, vl, &x->sa.spi)) {
			snprintf(why, whysz, "\"proto esp\" without \"spi 0xHEX\"");
			return -1;
		}
		return 0;
	}
	bool enc = is_field(w, wl, "enc"), aead = is_field(w, wl, "aead");
	bool auth = is_field(w, wl, "auth"), trunc = is_field(w, wl, "auth-trunc");
	if (!enc && !aead && !auth && !trunc)
		return 0;
	word(line, n, &i, &a, &al);
	word(line, n, &i, &k, &kl);
	word(line, n, &i, &b, &bl);
	long l = k ? hex_field(k, kl, enc || aead ? x->sa.ekey : x->sa.akey, ESP_KEY_MAX) : -1;
	if (!a || l < 0) {
		snprintf(why, whysz, "\"%.*s\" needs an algorithm and a 0xHEX key of at most %d bytes",
		         (int)wl, w, ESP_KEY_MAX);
		return -1;
	}
	size_t bits = 0;
	if (b) {
		char nb[8];
		if (bl >= sizeof nb) {
			snprintf(why, whysz, "bad ICV length");
			return -1;
		}
		memcpy(nb, b, bl);
		nb[bl] = 0;
		bits = (size_t)strtoul(nb, NULL, 10);
	}
	if (enc || aead) {
		x->sa.eklen = (size_t)l;
		x->have_enc = true;
		if (enc && is_field(a, al, "cbc(aes)"))
			x->sa.enc = ESPE_AES_CBC;
		else if (enc && is_field(a, al, "cbc(des3_ede)"))
			x->sa.enc = ESPE_3DES;
		else if (enc && is_field(a, al, "ecb(cipher_null)"))
			x->sa.enc = ESPE_NULL;
		else if (aead && is_field(a, al, "rfc4106(gcm(aes))") &&
		         (bits == 64 || bits == 96 || bits == 128)) {
			x->sa.enc = ESPE_AES_GCM;
			x->sa.gcm_icv = bits / 8;
		} else {
			snprintf(why, whysz, "encryption %.*s is not supported", (int)al, a);
			return -1;
		}
		return 0;
	}
	x->sa.aklen = (size_t)l;
	x->have_auth = true;
	if (!xfrm_auth(a, al, trunc ? bits : 0, &x->sa)) {
		snprintf(why, whysz, "authentication %.*s%s%.*s is not supported", (int)al, a,
		         trunc ? " truncated to " : "", trunc ? (int)bl : 0, trunc ? b : "");
		return -1;
	}
	return 0;
}

int esp_xfrm_finish(struct esp_xfrm *x, struct esp_sa *out, char *why, size_t whysz)
{
	bool open = x->open;
	x->open = false;
	if (!open || !x->is_esp || !x->have_enc)
		return 0;
	if (!check_keylen(&x->sa, why, whysz))
		return -1;
	*out = x->sa;
	OPENSSL_cleanse(&x->sa, sizeof x->sa);
	return 1;
}

/* ---- decryption --------------------------------------------------------------------- */

bool esp_sa_match(const struct esp_sa *sa, uint8_t ipver, const uint8_t *src,
                  const uint8_t *dst, uint32_t spi)
{
	size_t al = ipver == 6 ? 16 : 4;
	if (sa->ipver && sa->ipver != ipver)
		return false;
	if (!sa->any_spi && sa->spi != spi)
		return false;
	if (!sa->any_src && memcmp(sa->src, src, al))
		return false;
	if (!sa->any_dst && memcmp(sa->dst, dst, al))
		return false;
	return true;
}

static size_t block_of(const struct esp_sa *sa)
{
	switch (sa->enc) {
	case ESPE_AES_CBC: return 16;
	case ESPE_3DES: return 8;
	default: return 4; /* RFC 4303 2.4: the trailer ends on a 4-byte boundary */
	}
}

size_t esp_sa_ivlen(const struct esp_sa *sa)
{
	switch (sa->enc) {
	case ESPE_AES_CBC: return 16;
	case ESPE_3DES: return 8;
	case ESPE_AES_GCM: return 8;
	default: return 0;
	}
}

size_t esp_sa_icvlen(const struct esp_sa *sa)
{
	if (sa->enc == ESPE_AES_GCM)
		return sa->gcm_icv;
	switch (sa->auth) {
	case ESPA_MD5_96:
	case ESPA_SHA1_96: return 12;
	case ESPA_SHA256_128: return 16;
	case ESPA_SHA384_192: return 24;
	case ESPA_SHA512_256: return 32;
	default: return 0;
	}
}

const char *esp_enc_name(const struct esp_sa *sa)
{
	switch (sa->enc) {
	case ESPE_NULL: return "NULL";
	case ESPE_AES_CBC:
		return sa->eklen == 16 ? "AES-CBC-128" : sa->eklen == 24 ? "AES-CBC-192"
		       : sa->eklen == 32 ? "AES-CBC-256" : "AES-CBC";
	case ESPE_3DES: return "3DES-CBC";
	case ESPE_AES_GCM:
		return sa->gcm_icv == 8 ? "AES-GCM-8" : sa->gcm_icv == 12 ? "AES-GCM-12" : "AES-GCM-16";
	}
	return "?";
}

const char *esp_auth_name(const struct esp_sa *sa)
{
	switch (sa->auth) {
	case ESPA_NULL: return "NULL";
	case ESPA_MD5_96: return "HMAC-MD5-96";
	case ESPA_SHA1_96: return "HMAC-SHA1-96";
	case ESPA_SHA256_128: return "HMAC-SHA2-256-128";
	case ESPA_SHA384_192: return "HMAC-SHA2-384-192";
	case ESPA_SHA512_256: return "HMAC-SHA2-512-256";
	}
	return "?";
}

const char *esp_fail_name(int r)
{
	switch (r) {
	case ESPF_SHORT: return "too short";
	case ESPF_BLOCK: return "not a multiple of the block";
	case ESPF_ICV: return "integrity check failed";
	case ESPF_PADLEN: return "pad length beyond the packet";
	case ESPF_PAD: return "padding is not 1, 2, 3...";
	case ESPF_NEXT: return "impossible next header";
	case ESPF_CRYPTO: return "decryption failed";
	default: return "?";
	}
}

static const EVP_CIPHER *cipher_of(const struct esp_sa *sa)
{
	switch (sa->enc) {
	case ESPE_AES_CBC:
		return sa->eklen == 16 ? EVP_aes_128_cbc() : sa->eklen == 24 ? EVP_aes_192_cbc()
		                                                             : EVP_aes_256_cbc();
	case ESPE_3DES: return EVP_des_ede3_cbc();
	case ESPE_AES_GCM:
		return sa->eklen == 20 ? EVP_aes_128_gcm() : sa->eklen == 28 ? EVP_aes_192_gcm()
		                                                             : EVP_aes_256_gcm();
	default: return NULL;
	}
}

/* One SA's scheduled keys. */
struct esp_slot {
	const struct esp_sa *sa;
	EVP_CIPHER_CTX *c;  /* key set, IV per packet */
	EVP_MAC_CTX *m;     /* HMAC with the key set */
};

#define ESP_SLOTS 16

struct esp_ctx {
	EVP_MAC *hmac;
	struct esp_slot slot[ESP_SLOTS];
	unsigned next;      /* slot to reuse next */
};

static void slot_clear(struct esp_slot *s)
{
	EVP_CIPHER_CTX_free(s->c);
	EVP_MAC_CTX_free(s->m);
	memset(s, 0, sizeof *s);
}

struct esp_ctx *esp_ctx_new(void)
{
	struct esp_ctx *x = calloc(1, sizeof *x);
	if (x && !(x->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL))) {
		free(x);
		return NULL;
	}
	return x;
}

void esp_ctx_free(struct esp_ctx *x)
{
	if (!x)
		return;
	for (int i = 0; i < ESP_SLOTS; i++)
		slot_clear(&x->slot[i]);
	EVP_MAC_free(x->hmac);
	free(x);
}

static const char *md_name(enum esp_auth a)
{
	switch (a) {
	case ESPA_MD5_96: return "MD5";
	case ESPA_SHA1_96: return "SHA1";
	case ESPA_SHA256_128: return "SHA2-256";
	case ESPA_SHA384_192: return "SHA2-384";
	case ESPA_SHA512_256: return "SHA2-512";
	default: return NULL;
	}
}

/* The slot of `sa` with its keys scheduled; NULL when OpenSSL refuses. */
static struct esp_slot *slot_for(struct esp_ctx *x, const struct esp_sa *sa)
{
	for (int i = 0; i < ESP_SLOTS; i++)
		if (x->slot[i].sa == sa)
			return &x->slot[i];
	struct esp_slot *s = &x->slot[x->next];
	x->next = (x->next + 1) % ESP_SLOTS;
	slot_clear(s);
	bool ok = true;
	if (sa->enc != ESPE_NULL) {
		ok = (s->c = EVP_CIPHER_CTX_new()) != NULL &&
		     EVP_DecryptInit_ex(s->c, cipher_of(sa), NULL, NULL, NULL) == 1;
		if (ok && sa->enc == ESPE_AES_GCM)
			ok = EVP_CIPHER_CTX_ctrl(s->c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1;
		else if (ok)
			ok = EVP_CIPHER_CTX_set_padding(s->c, 0) == 1;
		ok = ok && EVP_DecryptInit_ex(s->c, NULL, NULL, sa->ekey, NULL) == 1;
	}
	const char *md = sa->enc == ESPE_AES_GCM ? NULL : md_name(sa->auth);
	if (ok && md) {
		OSSL_PARAM par[2] = {
			OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0),
			OSSL_PARAM_construct_end(),
		};
		ok = (s->m = EVP_MAC_CTX_new(x->hmac)) != NULL &&
		     EVP_MAC_init(s->m, sa->akey, sa->aklen, par) == 1;
	}
	if (!ok) {
		slot_clear(s);
		return NULL;
	}
	s->sa = sa;
	return s;
}

static int esp_open(struct esp_ctx *x, const struct esp_sa *sa, const uint8_t *pkt, size_t len,
                    uint8_t *out, size_t cap, size_t *outlen, uint8_t *next_hdr,
                    struct diag_err *err)
{
	size_t ivlen = esp_sa_ivlen(sa), icv = esp_sa_icvlen(sa), block = block_of(sa);
	if (len < ESP_HDR + ivlen + icv + 2 || len > (size_t)INT32_MAX) {
		diag_err_set(err, 0, "%zu bytes of ESP are shorter than header, IV, trailer and the "
		             "%zu-byte ICV of %s", len, icv, esp_enc_name(sa));
		return ESPF_SHORT;
	}
	size_t clen = len - ESP_HDR - ivlen - icv;
	const uint8_t *iv = pkt + ESP_HDR, *ct = iv + ivlen, *tag = ct + clen;
	if (clen % block) {
		diag_err_set(err, ESP_HDR + ivlen,
		             "ciphertext of %zu bytes is not a multiple of the %zu-byte block of %s", clen,
		             block, esp_enc_name(sa));
		return ESPF_BLOCK;
	}
	if (cap < clen) {
		diag_err_set(err, 0, "decrypted packet does not fit");
		return ESPF_CRYPTO;
	}
	struct esp_slot *sl = slot_for(x, sa);
	if (!sl) {
		diag_err_set(err, 0, "%s or %s not available", esp_enc_name(sa), esp_auth_name(sa));
		return ESPF_CRYPTO;
	}
	bool authed = false;
	if (sl->m) {
		uint8_t mac[EVP_MAX_MD_SIZE];
		size_t maclen = 0;
		if (EVP_MAC_init(sl->m, NULL, 0, NULL) != 1 ||
		    EVP_MAC_update(sl->m, pkt, len - icv) != 1 ||
		    EVP_MAC_final(sl->m, mac, &maclen, sizeof mac) != 1 ||
		    maclen < icv || CRYPTO_memcmp(mac, tag, icv)) {
			diag_err_set(err, len - icv, "integrity check failed (%s): wrong authentication "
			             "key", esp_auth_name(sa));
			return ESPF_ICV;
		}
		authed = true;
	}
	if (sa->enc == ESPE_NULL) {
		memcpy(out, ct, clen);
	} else {
		EVP_CIPHER_CTX *cx = sl->c;
		int n1 = 0, n2 = 0;
		bool ok = true, tag_bad = false;
		if (sa->enc == ESPE_AES_GCM) {
			uint8_t nonce[12];
			memcpy(nonce, sa->ekey + sa->eklen - 4, 4);
			memcpy(nonce + 4, iv, 8);
			int aadl = 0;
			ok = EVP_DecryptInit_ex(cx, NULL, NULL, NULL, nonce) == 1 &&
			     EVP_DecryptUpdate(cx, NULL, &aadl, pkt, ESP_HDR) == 1 &&
			     EVP_DecryptUpdate(cx, out, &n1, ct, (int)clen) == 1 &&
			     EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_TAG, (int)icv, (void *)tag) == 1;
			if (ok && EVP_DecryptFinal_ex(cx, out + n1, &n2) != 1)
				ok = false, tag_bad = true;
			authed = ok;
		} else {
			ok = EVP_DecryptInit_ex(cx, NULL, NULL, NULL, iv) == 1 &&
			     EVP_DecryptUpdate(cx, out, &n1, ct, (int)clen) == 1 &&
			     EVP_DecryptFinal_ex(cx, out + n1, &n2) == 1;
		}
		if (tag_bad) {
			diag_err_set(err, len - icv, "integrity check failed (%s): wrong key or salt",
			             esp_enc_name(sa));
			return ESPF_ICV;
		}
		if (!ok || (size_t)(n1 + n2) != clen) {
			diag_err_set(err, ESP_HDR, "decryption failed");
			return ESPF_CRYPTO;
		}
	}
	size_t padlen = out[clen - 2];
	uint8_t nh = out[clen - 1];
	if (padlen + 2 > clen) {
		diag_err_set(err, ESP_HDR + ivlen + clen - 2,
		             "pad length %zu does not fit %zu decrypted bytes: wrong encryption key",
		             padlen, clen);
		return ESPF_PADLEN;
	}
	size_t plen = clen - padlen - 2;
	/* RFC 4303 2.4: the default padding is 1, 2, 3...; without an integrity check it is
	 * the only sign of a wrong key besides the next header. */
	if (!authed) {
		for (size_t i = 0; i < padlen; i++)
			if (out[plen + i] != (uint8_t)(i + 1)) {
				diag_err_set(err, ESP_HDR + ivlen + plen + i,
				             "padding is not 1, 2, 3...: wrong encryption key");
				return ESPF_PAD;
			}
		if (nh != 4 && nh != 41 && nh != 17 && nh != 6 && nh != 47 && nh != 59) {
			diag_err_set(err, ESP_HDR + ivlen + clen - 1,
			             "next header %u is not a protocol ESP carries here: wrong encryption "
			             "key", nh);
			return ESPF_NEXT;
		}
	}
	*outlen = plen;
	*next_hdr = nh;
	return 0;
}

int esp_decrypt(struct esp_ctx *x, const struct esp_sa *sa, const uint8_t *pkt, size_t len,
                uint8_t *out, size_t cap, size_t *outlen, uint8_t *next_hdr,
                struct diag_err *err)
{
	struct esp_ctx *own = NULL;
	if (!x && !(x = own = esp_ctx_new())) {
		diag_err_set(err, 0, "out of memory");
		return ESPF_CRYPTO;
	}
	int r = esp_open(x, sa, pkt, len, out, cap, outlen, next_hdr, err);
	esp_ctx_free(own);
	return r;
}

size_t esp_encrypt(const struct esp_sa *sa, uint32_t seq, const uint8_t *iv, const uint8_t *payload,
                   size_t plen, uint8_t next_hdr, uint8_t *out, size_t cap)
{
	size_t ivlen = esp_sa_ivlen(sa), icv = esp_sa_icvlen(sa), block = block_of(sa);
	size_t padlen = (block - (plen + 2) % block) % block;
	size_t clen = plen + padlen + 2, total = ESP_HDR + ivlen + clen + icv;
	if (total > cap || total > (size_t)INT32_MAX)
		return 0;
	out[0] = (uint8_t)(sa->spi >> 24);
	out[1] = (uint8_t)(sa->spi >> 16);
	out[2] = (uint8_t)(sa->spi >> 8);
	out[3] = (uint8_t)sa->spi;
	out[4] = (uint8_t)(seq >> 24);
	out[5] = (uint8_t)(seq >> 16);
	out[6] = (uint8_t)(seq >> 8);
	out[7] = (uint8_t)seq;
	memcpy(out + ESP_HDR, iv, ivlen);
	uint8_t *ct = out + ESP_HDR + ivlen;
	memmove(ct, payload, plen);
	for (size_t i = 0; i < padlen; i++)
		ct[plen + i] = (uint8_t)(i + 1); /* RFC 4303 2.4: the default padding */
	ct[clen - 2] = (uint8_t)padlen;
	ct[clen - 1] = next_hdr;
	bool ok = true;
	if (sa->enc != ESPE_NULL) {
		EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
		int n1 = 0, n2 = 0;
		if (sa->enc == ESPE_AES_GCM) {
			uint8_t nonce[12];
			memcpy(nonce, sa->ekey + sa->eklen - 4, 4);
			memcpy(nonce + 4, iv, 8);
			int aadl = 0;
			ok = cx && EVP_EncryptInit_ex(cx, cipher_of(sa), NULL, NULL, NULL) == 1 &&
			     EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
			     EVP_EncryptInit_ex(cx, NULL, NULL, sa->ekey, nonce) == 1 &&
			     EVP_EncryptUpdate(cx, NULL, &aadl, out, ESP_HDR) == 1 &&
			     EVP_EncryptUpdate(cx, ct, &n1, ct, (int)clen) == 1 &&
			     EVP_EncryptFinal_ex(cx, ct + n1, &n2) == 1 &&
			     EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_GET_TAG, (int)icv, ct + clen) == 1;
		} else {
			ok = cx && EVP_EncryptInit_ex(cx, cipher_of(sa), NULL, sa->ekey, iv) == 1 &&
			     EVP_CIPHER_CTX_set_padding(cx, 0) == 1 &&
			     EVP_EncryptUpdate(cx, ct, &n1, ct, (int)clen) == 1 &&
			     EVP_EncryptFinal_ex(cx, ct + n1, &n2) == 1;
		}
		ok = ok && (size_t)(n1 + n2) == clen;
		EVP_CIPHER_CTX_free(cx);
	}
	const char *md = sa->enc == ESPE_AES_GCM ? NULL : md_name(sa->auth);
	if (ok && md) {
		uint8_t mac[EVP_MAX_MD_SIZE];
		size_t maclen = 0;
		EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		EVP_MAC_CTX *m = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
		OSSL_PARAM par[2] = {
			OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0),
			OSSL_PARAM_construct_end(),
		};
		ok = m && EVP_MAC_init(m, sa->akey, sa->aklen, par) == 1 &&
		     EVP_MAC_update(m, out, ESP_HDR + ivlen + clen) == 1 &&
		     EVP_MAC_final(m, mac, &maclen, sizeof mac) == 1 && maclen >= icv;
		if (ok)
			memcpy(ct + clen, mac, icv);
		EVP_MAC_CTX_free(m);
		EVP_MAC_free(hmac);
	}
	return ok ? total : 0;
}
