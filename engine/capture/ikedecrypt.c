/* IKEv2 SK payload decryption (RFC 7296 3.14) with keys from a Wireshark-style table. */
#include "capture/ikedecrypt.h"
#include "ike/ike_crypto.h"
#include "readfile.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define KEY_MAX 64
#define KEYFILE_MAX (4u << 20)

enum enc_alg { ENC_NONE, ENC_AES_CBC, ENC_3DES, ENC_AES_GCM16 };

struct v2key {
	uint8_t spii[8], spir[8];
	uint8_t ei[KEY_MAX], er[KEY_MAX], ai[KEY_MAX], ar[KEY_MAX];
	size_t elen, alen;
	enum enc_alg enc;
	const EVP_MD *md; /* NULL: none */
	size_t icv;
};

struct v1key {
	uint8_t cky[8];
	uint8_t key[KEY_MAX];
	size_t klen;
};

struct ike_keys {
	struct v2key *v2;
	size_t n2, cap2;
	struct v1key *v1;
	size_t n1, cap1;
	struct esp_sa *esp;
	size_t ne, cape;
	uint8_t *radius_secret;  /* RADIUS shared secret (radius.shared_secret:SECRET) */
	size_t radius_secret_len;
};


/* Split a CSV line (quotes allowed around fields) into at most `max` fields. */


static bool parse_enc(const char *s, size_t n, struct v2key *k)
{
	/* AES-GCM with the 16-octet ICV only (Wireshark lists 8 and 12 too) */
	if (text_starts(s, n, "AES-GCM")) {
		static const char icv16[] = "with 16 octet ICV";
		for (size_t i = 0; i + sizeof icv16 - 1 <= n; i++)
			if (!memcmp(s + i, icv16, sizeof icv16 - 1)) {
				k->enc = ENC_AES_GCM16;
				return true;
			}
		return false;
	}
	if (text_starts(s, n, "AES-CBC")) {
		k->enc = ENC_AES_CBC;
		return true;
	}
	if (text_starts(s, n, "3DES")) {
		k->enc = ENC_3DES;
		return true;
	}
	if (text_starts(s, n, "NULL")) {
		k->enc = ENC_NONE;
		return true;
	}
	return false;
}

static bool parse_integ(const char *s, size_t n, struct v2key *k)
{
	static const struct {
		const char *name;
		size_t icv;
		int md; /* 0 md5, 1 sha1, 256, 384, 512 */
	} t[] = {
		{"HMAC_MD5_96", 12, 0}, {"HMAC_SHA1_96", 12, 1}, {"HMAC_SHA2_256_128", 16, 256},
		{"HMAC_SHA2_384_192", 24, 384}, {"HMAC_SHA2_512_256", 32, 512},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (!text_starts(s, n, t[i].name))
			continue;
		k->icv = t[i].icv;
		switch (t[i].md) {
		case 0: k->md = EVP_md5(); break;
		case 1: k->md = EVP_sha1(); break;
		case 256: k->md = EVP_sha256(); break;
		case 384: k->md = EVP_sha384(); break;
		default: k->md = EVP_sha512(); break;
		}
		return true;
	}
	if (text_starts(s, n, "NONE")) {
		k->md = NULL;
		k->icv = 0;
		return true;
	}
	return false;
}

static int parse_v2(struct ike_keys *ks, const char *p, size_t n, char *why, size_t whysz)
{
	const char *f[10];
	size_t fl[10];
	size_t nf = csv_split(p, n, f, fl, 10);
	if (nf != 8) {
		snprintf(why, whysz, "%zu fields, an IKEv2 line has 8", nf);
		return -1;
	}
	struct v2key k;
	memset(&k, 0, sizeof k);
	long l;
	if (hex_field(f[0], fl[0], k.spii, 8) != 8 || hex_field(f[1], fl[1], k.spir, 8) != 8) {
		snprintf(why, whysz, "the SPIs must be 16 hex digits each");
		return -1;
	}
	if ((l = hex_field(f[2], fl[2], k.ei, KEY_MAX)) < 0 ||
	    hex_field(f[3], fl[3], k.er, KEY_MAX) != l) {
		snprintf(why, whysz, "SK_ei and SK_er must be hex of the same length");
		return -1;
	}
	k.elen = (size_t)l;
	if (!parse_enc(f[4], fl[4], &k)) {
		snprintf(why, whysz, "encryption \"%.*s\" is not supported", (int)fl[4], f[4]);
		return -1;
	}
	if ((l = hex_field(f[5], fl[5], k.ai, KEY_MAX)) < 0 ||
	    hex_field(f[6], fl[6], k.ar, KEY_MAX) != l) {
		snprintf(why, whysz, "SK_ai and SK_ar must be hex of the same length");
		return -1;
	}
	k.alen = (size_t)l;
	if (!parse_integ(f[7], fl[7], &k)) {
		snprintf(why, whysz, "integrity \"%.*s\" is not supported", (int)fl[7], f[7]);
		return -1;
	}
	if ((k.enc == ENC_AES_CBC && k.elen != 16 && k.elen != 24 && k.elen != 32) ||
	    (k.enc == ENC_3DES && k.elen != 24) ||
	    (k.enc == ENC_AES_GCM16 && k.elen != 20 && k.elen != 28 && k.elen != 36)) {
		snprintf(why, whysz, "a %zu-byte key does not fit the encryption algorithm%s", k.elen,
		         k.enc == ENC_AES_GCM16 ? " (AES-GCM: the key and its 4-byte salt)" : "");
		return -1;
	}
	if (k.enc == ENC_AES_GCM16) { /* combined mode: the ICV is GCM's tag, no HMAC */
		if (k.md || k.alen) {
			snprintf(why, whysz, "AES-GCM takes integrity \"NONE\" and no SK_ai/SK_ar");
			return -1;
		}
		k.icv = 16;
	}
	if (ks->n2 == ks->cap2) {
		size_t nc = ks->cap2 ? ks->cap2 * 2 : 8;
		struct v2key *nk = realloc(ks->v2, nc * sizeof *nk);
		if (!nk) {
			snprintf(why, whysz, "out of memory");
			return -1;
		}
		ks->v2 = nk;
		ks->cap2 = nc;
	}
	ks->v2[ks->n2++] = k;
	return 0;
}

static int parse_v1(struct ike_keys *ks, const char *p, size_t n, char *why, size_t whysz)
{
	const char *f[4];
	size_t fl[4];
	if (csv_split(p, n, f, fl, 4) != 2) {
		snprintf(why, whysz, "an IKEv1 line has 2 fields: initiator cookie, encryption key");
		return -1;
	}
	struct v1key k;
	memset(&k, 0, sizeof k);
	long l;
	if (hex_field(f[0], fl[0], k.cky, 8) != 8) {
		snprintf(why, whysz, "the initiator cookie must be 16 hex digits");
		return -1;
	}
	if ((l = hex_field(f[1], fl[1], k.key, KEY_MAX)) != 16 && l != 24 && l != 32) {
		snprintf(why, whysz, "the encryption key must be 16, 24 or 32 bytes of hex");
		return -1;
	}
	k.klen = (size_t)l;
	if (ks->n1 == ks->cap1) {
		size_t nc = ks->cap1 ? ks->cap1 * 2 : 8;
		struct v1key *nk = realloc(ks->v1, nc * sizeof *nk);
		if (!nk) {
			snprintf(why, whysz, "out of memory");
			return -1;
		}
		ks->v1 = nk;
		ks->cap1 = nc;
	}
	ks->v1[ks->n1++] = k;
	return 0;
}

static int add_esp(struct ike_keys *ks, const struct esp_sa *sa, char *why, size_t whysz)
{
	if (ks->ne == ks->cape) {
		size_t nc = ks->cape ? ks->cape * 2 : 8;
		struct esp_sa *ne = malloc(nc * sizeof *ne);
		if (!ne) {
			snprintf(why, whysz, "out of memory");
			return -1;
		}
		if (ks->esp) {
			memcpy(ne, ks->esp, ks->ne * sizeof *ne);
			OPENSSL_cleanse(ks->esp, ks->cape * sizeof *ks->esp);
			free(ks->esp);
		}
		ks->esp = ne;
		ks->cape = nc;
	}
	ks->esp[ks->ne++] = *sa;
	return 0;
}

/* The first field of a bare ESP SA line (Wireshark's esp_sa table). */
static bool esp_line(const char *p, size_t n)
{
	if (n && *p == '"') {
		p++;
		n--;
	}
	return text_starts(p, n, "IPv4\"") || text_starts(p, n, "IPv6\"") || text_starts(p, n, "Any\"") ||
	       text_starts(p, n, "IPv4,") || text_starts(p, n, "IPv6,") || text_starts(p, n, "Any,");
}

struct ike_keys *ike_keys_parse(const char *name, const char *text, size_t len, char *err,
                                size_t errsz)
{
	struct ike_keys *ks = calloc(1, sizeof *ks);
	if (!ks) {
		snprintf(err, errsz, "%s: out of memory", name);
		return NULL;
	}
	size_t off = utf8_bom_len(text, len); /* an editor's byte order mark is no content */
	int line = 0, xline = 0;
	struct esp_xfrm *x = calloc(1, sizeof *x);
	struct esp_sa sa;
	char why[160];
	if (!x) {
		snprintf(err, errsz, "%s: out of memory", name);
		ike_keys_free(ks);
		return NULL;
	}
	while (off < len) {
		size_t e = off;
		while (e < len && text[e] != '\n')
			e++;
		line++;
		const char *p = text + off;
		size_t n = e - off;
		off = e + 1;
		while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		/* `ip xfrm state`: an unindented "src A dst B" opens a block, indented lines
		 * belong to it */
		bool indented = n && (*p == ' ' || *p == '\t');
		if (x->open && (!indented || !n)) {
			int r = esp_xfrm_finish(x, &sa, why, sizeof why);
			if (r > 0)
				r = add_esp(ks, &sa, why, sizeof why);
			OPENSSL_cleanse(&sa, sizeof sa);
			if (r < 0) {
				snprintf(err, errsz, "%s:%d: %s", name, xline, why);
				goto fail;
			}
		}
		if (x->open && indented) {
			if (esp_xfrm_add(x, p, n, why, sizeof why) < 0) {
				snprintf(err, errsz, "%s:%d: %s", name, line, why);
				goto fail;
			}
			continue;
		}
		if (esp_xfrm_is_start(p, n)) {
			xline = line;
			if (esp_xfrm_begin(x, p, n, why, sizeof why) < 0) {
				snprintf(err, errsz, "%s:%d: %s", name, line, why);
				goto fail;
			}
			continue;
		}
		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		if (!n || *p == '#')
			continue;
		/* tshark option form: -o 'uat:TABLE:FIELDS' */
		if (text_starts(p, n, "-o")) {
			p += 2;
			n -= 2;
			while (n && (*p == ' ' || *p == '\t')) {
				p++;
				n--;
			}
			if (n && (*p == '\'' || *p == '"')) {
				char q = *p;
				p++;
				n--;
				if (n && p[n - 1] == q)
					n--;
			}
		}
		bool v1 = false;
		if (text_starts(p, n, "radius.shared_secret:")) {
			/* Wireshark's RADIUS preference: the secret that signs the replies */
			size_t m = strlen("radius.shared_secret:");
			if (n == m || ks->radius_secret) {
				snprintf(err, errsz, "%s:%d: %s", name, line, n == m
				         ? "radius.shared_secret: an empty secret"
				         : "radius.shared_secret: a second secret (one per file)");
				goto fail;
			}
			ks->radius_secret = malloc(n - m);
			if (!ks->radius_secret) {
				snprintf(err, errsz, "%s: out of memory", name);
				goto fail;
			}
			memcpy(ks->radius_secret, p + m, n - m);
			ks->radius_secret_len = n - m;
			continue;
		}
		if (text_starts(p, n, "uat:esp_sa:") || esp_line(p, n)) {
			size_t m = text_starts(p, n, "uat:esp_sa:") ? strlen("uat:esp_sa:") : 0;
			int r = esp_sa_parse_uat(p + m, n - m, &sa, why, sizeof why);
			if (r == 0)
				r = add_esp(ks, &sa, why, sizeof why);
			OPENSSL_cleanse(&sa, sizeof sa);
			if (r < 0) {
				snprintf(err, errsz, "%s:%d: %s", name, line, why);
				goto fail;
			}
			continue;
		}
		if (text_starts(p, n, "uat:ikev2_decryption_table:")) {
			size_t m = strlen("uat:ikev2_decryption_table:");
			p += m;
			n -= m;
		} else if (text_starts(p, n, "uat:ikev1_decryption_table:")) {
			v1 = true;
		}
		if (v1) {
			size_t m = strlen("uat:ikev1_decryption_table:");
			if (parse_v1(ks, p + m, n - m, why, sizeof why) < 0) {
				snprintf(err, errsz, "%s:%d: %s", name, line, why);
				goto fail;
			}
			continue;
		}
		/* a bare line: two fields are IKEv1, eight IKEv2 */
		const char *ff[10];
		size_t fl2[10];
		if (csv_split(p, n, ff, fl2, 10) == 2) {
			if (parse_v1(ks, p, n, why, sizeof why) < 0) {
				snprintf(err, errsz, "%s:%d: %s", name, line, why);
				goto fail;
			}
			continue;
		}
		if (parse_v2(ks, p, n, why, sizeof why) < 0) {
			snprintf(err, errsz, "%s:%d: %s", name, line, why);
			goto fail;
		}
	}
	if (x->open) {
		int r = esp_xfrm_finish(x, &sa, why, sizeof why);
		if (r > 0)
			r = add_esp(ks, &sa, why, sizeof why);
		OPENSSL_cleanse(&sa, sizeof sa);
		if (r < 0) {
			snprintf(err, errsz, "%s:%d: %s", name, xline, why);
			goto fail;
		}
	}
	OPENSSL_cleanse(x, sizeof *x);
	free(x);
	if (!ks->n2 && !ks->n1 && !ks->ne && !ks->radius_secret) {
		snprintf(err, errsz, "%s: no keys in the file", name);
		ike_keys_free(ks);
		return NULL;
	}
	return ks;
fail:
	OPENSSL_cleanse(x, sizeof *x);
	free(x);
	ike_keys_free(ks);
	return NULL;
}

struct ike_keys *ike_keys_load(const char *path, char *err, size_t errsz)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		snprintf(err, errsz, "%s: cannot open", path);
		return NULL;
	}
	char *buf = malloc(KEYFILE_MAX);
	size_t n = buf ? fread(buf, 1, KEYFILE_MAX, fp) : 0;
	bool big = buf && n == KEYFILE_MAX;
	fclose(fp);
	if (!buf || big) {
		snprintf(err, errsz, "%s: %s", path, buf ? "larger than 4 MiB" : "out of memory");
		free(buf);
		return NULL;
	}
	struct ike_keys *k = ike_keys_parse(path, buf, n, err, errsz);
	OPENSSL_cleanse(buf, n);
	free(buf);
	return k;
}

void ike_keys_free(struct ike_keys *k)
{
	if (!k)
		return;
	if (k->v2)
		OPENSSL_cleanse(k->v2, k->cap2 * sizeof *k->v2);
	free(k->v2);
	if (k->v1)
		OPENSSL_cleanse(k->v1, k->cap1 * sizeof *k->v1);
	free(k->v1);
	if (k->esp)
		OPENSSL_cleanse(k->esp, k->cape * sizeof *k->esp);
	free(k->esp);
	if (k->radius_secret)
		OPENSSL_cleanse(k->radius_secret, k->radius_secret_len);
	free(k->radius_secret);
	free(k);
}

size_t ike_keys_count_v2(const struct ike_keys *k) { return k ? k->n2 : 0; }
size_t ike_keys_count_v1(const struct ike_keys *k) { return k ? k->n1 : 0; }
size_t ike_keys_count_esp(const struct ike_keys *k) { return k ? k->ne : 0; }

const struct esp_sa *ike_keys_esp_find(const struct ike_keys *k, uint8_t ipver,
                                       const uint8_t *src, const uint8_t *dst, uint32_t spi)
{
	/* exact entries first, wildcards after */
	const struct esp_sa *wild = NULL;
	for (size_t i = 0; k && i < k->ne; i++) {
		const struct esp_sa *sa = &k->esp[i];
		if (!esp_sa_match(sa, ipver, src, dst, spi))
			continue;
		if (!sa->any_src && !sa->any_dst && !sa->any_spi)
			return sa;
		if (!wild)
			wild = sa;
	}
	return wild;
}

static const struct v2key *find_v2(const struct ike_keys *ks, const uint8_t *spii,
                                   const uint8_t *spir)
{
	for (size_t i = 0; ks && i < ks->n2; i++)
		if (!memcmp(ks->v2[i].spii, spii, 8) && !memcmp(ks->v2[i].spir, spir, 8))
			return &ks->v2[i];
	return NULL;
}

/* Open the SK or SKF payload `sk` of `raw`: check its integrity and decrypt it into `pt`
 * (cap bytes). `extra` is the number of bytes between the generic payload header and
 * the IV (4 for SKF: Fragment Number and Total Fragments, covered by the integrity check
 * and, with AES-GCM, part of the associated data, RFC 7383 section 2.5). The plaintext
 * without its padding is *ptlen bytes. 1, 0 (no key for these SPIs) or -1 with err. */
static int v2_open(const struct ike_keys *ks, const uint8_t *raw, size_t len,
                   const struct ike_msg *m, const struct ike_payload *sk, size_t extra,
                   uint8_t *pt, size_t cap, size_t *ptlen, struct diag_err *err)
{
	const struct v2key *k = find_v2(ks, m->ispi, m->rspi);
	if (!k)
		return 0;
	bool from_init = (m->flags & IKE2_FLAG_I) != 0;
	size_t block = k->enc == ENC_AES_CBC ? 16 : k->enc == ENC_3DES ? 8 : 1;
	size_t ivlen = k->enc == ENC_NONE ? 0 : k->enc == ENC_AES_GCM16 ? 8 : block;
	size_t msglen = m->length;
	size_t hl = 4 + extra; /* payload header up to the IV */
	if (msglen > len || sk->off + hl > msglen || sk->off + sk->len > msglen) {
		diag_err_set(err, sk->off, "%s payload beyond the message", extra ? "SKF" : "SK");
		return -1;
	}
	const uint8_t *body = raw + sk->off + hl;
	size_t blen = sk->len >= hl ? (size_t)sk->len - hl : 0;
	if (blen < ivlen + k->icv + 1) {
		diag_err_set(err, sk->off, "%s payload of %zu bytes is shorter than IV and ICV",
		             extra ? "SKF" : "SK", blen);
		return -1;
	}
	size_t clen = blen - ivlen - k->icv;
	if (clen % block) {
		diag_err_set(err, sk->off + hl + ivlen,
		             "ciphertext of %zu bytes is not a multiple of the %zu-byte block", clen,
		             block);
		return -1;
	}
	/* integrity: HMAC over the message from the header to the end of the ciphertext */
	if (k->md) {
		uint8_t mac[EVP_MAX_MD_SIZE];
		unsigned maclen = 0;
		size_t covered = sk->off + hl + ivlen + clen;
		if (!HMAC(k->md, from_init ? k->ai : k->ar, (int)k->alen, raw, covered, mac, &maclen) ||
		    maclen < k->icv || CRYPTO_memcmp(mac, raw + covered, k->icv)) {
			diag_err_set(err, covered, "integrity check failed: wrong SK_a%c for this message",
			             from_init ? 'i' : 'r');
			return -1;
		}
	}
	if (cap < clen) {
		diag_err_set(err, 0, "decrypted message does not fit");
		return -1;
	}
	if (k->enc == ENC_NONE) {
		memcpy(pt, body, clen);
	} else if (k->enc == ENC_AES_GCM16) {
		/* RFC 5282: the nonce is the salt (SK_e's last 4 bytes) and the IV; the header
		 * and the payload's header are authenticated, not encrypted */
		const uint8_t *key = from_init ? k->ei : k->er;
		uint8_t tag[16];
		memcpy(tag, body + ivlen + clen, 16);
		if (!ike_gcm(key, k->elen - 4, key + k->elen - 4, body, raw, sk->off + hl, body + ivlen,
		             clen, pt, tag, false)) {
			diag_err_set(err, sk->off + hl + ivlen + clen,
			             "integrity check failed: wrong SK_e%c for this message",
			             from_init ? 'i' : 'r');
			return -1;
		}
	} else {
		/* the same CBC as IKEv1 (engine/ike/ike_crypto.h) */
		bool ok = ike1_cbc(k->enc == ENC_3DES ? IKE1_ENC_3DES : IKE1_ENC_AES_CBC,
		                   from_init ? k->ei : k->er, k->elen, body, body + ivlen, clen, pt,
		                   false);
		if (!ok) {
			diag_err_set(err, sk->off + hl, "decryption failed");
			return -1;
		}
	}
	size_t padlen = pt[clen - 1];
	if (padlen + 1 > clen) {
		diag_err_set(err, sk->off + hl + ivlen + clen - 1,
		             "pad length %zu does not fit %zu decrypted bytes: wrong SK_e%c", padlen,
		             clen, from_init ? 'i' : 'r');
		return -1;
	}
	*ptlen = clen - padlen - 1;
	return 1;
}

static const struct ike_payload *v2_enc_payload(const struct ike_msg *m, uint8_t type)
{
	const struct ike_payload *sk = NULL;
	for (uint16_t i = 0; i < m->npl; i++)
		if (m->pl[i].type == type)
			sk = &m->pl[i];
	return m->major == 2 ? sk : NULL;
}

int ike2_decrypt(const struct ike_keys *ks, const uint8_t *raw, size_t len,
                 const struct ike_msg *m, uint8_t *out, size_t cap, size_t *outlen,
                 struct diag_err *err)
{
	const struct ike_payload *sk = v2_enc_payload(m, IKE2_PL_SK);
	size_t hdr = 28, inner = 0;
	if (!sk)
		return 0;
	if (cap < hdr) {
		diag_err_set(err, 0, "decrypted message does not fit");
		return -1;
	}
	int r = v2_open(ks, raw, len, m, sk, 0, out + hdr, cap - hdr, &inner, err);
	if (r != 1)
		return r;
	ike2_plain_header(raw, sk->inner_next, inner, out);
	*outlen = hdr + inner;
	return 1;
}

int ike2_decrypt_frag(const struct ike_keys *ks, const uint8_t *raw, size_t len,
                      const struct ike_msg *m, uint8_t *out, size_t cap, size_t *outlen,
                      struct ike2_frag *f, struct diag_err *err)
{
	const struct ike_payload *sk = v2_enc_payload(m, IKE2_PL_SKF);
	if (!sk)
		return 0;
	int r = v2_open(ks, raw, len, m, sk, 4, out, cap, outlen, err);
	if (r != 1)
		return r;
	f->num = sk->frag_num;
	f->total = sk->frag_total;
	f->next = sk->inner_next;
	return 1;
}

void ike2_plain_header(const uint8_t *raw, uint8_t first, size_t inner, uint8_t out[28])
{
	uint32_t total = (uint32_t)(28 + inner);
	memcpy(out, raw, 28);
	out[16] = first;
	out[24] = (uint8_t)(total >> 24);
	out[25] = (uint8_t)(total >> 16);
	out[26] = (uint8_t)(total >> 8);
	out[27] = (uint8_t)total;
}

/* ---- IKEv1 ---------------------------------------------------------------------------- */

const uint8_t *ike1_key(const struct ike_keys *ks, const uint8_t cky_i[8], size_t *keylen)
{
	for (size_t i = 0; ks && i < ks->n1; i++)
		if (!memcmp(ks->v1[i].cky, cky_i, 8)) {
			*keylen = ks->v1[i].klen;
			return ks->v1[i].key;
		}
	return NULL;
}

#define V1_KE_MAX 1024
#define V1_EXCH_MAX 8

struct ike1_crypt {
	uint8_t key[KEY_MAX];
	size_t klen;
	unsigned hash_alg, enc_alg;
	uint8_t ke_i[V1_KE_MAX], ke_r[V1_KE_MAX];
	size_t ke_i_len, ke_r_len;
	uint8_t iv[16], prev_iv[16]; /* phase 1 chain; IV before the last message */
	bool iv_set;
	struct {
		uint32_t msgid;
		uint8_t iv[16], prev_iv[16];
	} x[V1_EXCH_MAX];
	size_t nx;
};

struct ike1_crypt *ike1_crypt_new(const uint8_t *key, size_t keylen)
{
	struct ike1_crypt *c = calloc(1, sizeof *c);
	if (!c || keylen > KEY_MAX) {
		free(c);
		return NULL;
	}
	memcpy(c->key, key, keylen);
	c->klen = keylen;
	return c;
}

void ike1_crypt_free(struct ike1_crypt *c)
{
	if (c)
		OPENSSL_cleanse(c, sizeof *c);
	free(c);
}

void ike1_crypt_params(struct ike1_crypt *c, unsigned hash_alg, unsigned enc_alg)
{
	if (hash_alg)
		c->hash_alg = hash_alg;
	if (enc_alg)
		c->enc_alg = enc_alg;
}

void ike1_crypt_ke(struct ike1_crypt *c, bool initiator, const uint8_t *ke, size_t n)
{
	if (n > V1_KE_MAX)
		return;
	memcpy(initiator ? c->ke_i : c->ke_r, ke, n);
	*(initiator ? &c->ke_i_len : &c->ke_r_len) = n;
}

static size_t v1_block(const struct ike1_crypt *c)
{
	return c->enc_alg == IKE1_ENC_3DES ? 8 : 16;
}

/* The first block's worth of hash(a | b): an IV (RFC 2409 appendix B). */
static bool v1_hash2(const struct ike1_crypt *c, const uint8_t *a, size_t an, const uint8_t *b,
                     size_t bn, uint8_t *out)
{
	uint8_t d[IKE_HASH_MAX];
	struct ike_iov v[2] = {{a, an}, {b, bn}};
	if (ike1_hash_len(c->hash_alg) < v1_block(c) || !ike1_hash(c->hash_alg, v, 2, d))
		return false;
	memcpy(out, d, v1_block(c));
	return true;
}

int ike1_decrypt(struct ike1_crypt *c, const uint8_t *raw, size_t len, const struct ike_msg *m,
                 bool retrans, uint8_t *out, size_t cap, size_t *outlen, struct diag_err *err)
{
	if (!m->npl || !m->pl[0].encrypted || m->major != 1)
		return 0;
	if (c->enc_alg != IKE1_ENC_AES_CBC && c->enc_alg != IKE1_ENC_3DES)
		return 0;
	size_t block = v1_block(c);
	if (!c->iv_set) {
		if (!c->ke_i_len || !c->ke_r_len || !v1_hash2(c, c->ke_i, c->ke_i_len, c->ke_r, c->ke_r_len, c->iv))
			return 0;
		c->iv_set = true;
	}
	const uint8_t *ct = m->pl[0].data;
	size_t n = m->pl[0].data_len;
	if (!ct || ct < raw || ct + n > raw + len || n % block || !n) {
		diag_err_set(err, 28, "encrypted body of %zu bytes is not a multiple of the %zu-byte "
		             "block", n, block);
		return -1;
	}
	uint8_t *iv, *prev;
	bool phase1 = m->exchange == 2 || m->exchange == 4 || m->exchange == 1;
	if (phase1) {
		iv = c->iv;
		prev = c->prev_iv;
	} else {
		size_t i;
		for (i = 0; i < c->nx; i++)
			if (c->x[i].msgid == m->msgid)
				break;
		if (i == c->nx) {
			if (c->nx == V1_EXCH_MAX) /* reuse the oldest slot */
				i = 0;
			else
				c->nx++;
			uint8_t mid[4] = {(uint8_t)(m->msgid >> 24), (uint8_t)(m->msgid >> 16),
			                  (uint8_t)(m->msgid >> 8), (uint8_t)m->msgid};
			c->x[i].msgid = m->msgid;
			if (!v1_hash2(c, c->iv, block, mid, 4, c->x[i].iv))
				return 0;
			memcpy(c->x[i].prev_iv, c->x[i].iv, block);
		}
		iv = c->x[i].iv;
		prev = c->x[i].prev_iv;
	}
	uint8_t use[16];
	memcpy(use, retrans ? prev : iv, block);
	if (cap < 28 + n) {
		diag_err_set(err, 0, "decrypted message does not fit");
		return -1;
	}
	if (c->enc_alg == IKE1_ENC_3DES && c->klen != 24) {
		diag_err_set(err, 0, "3DES needs a 24-byte key");
		return -1;
	}
	bool ok = ike1_cbc(c->enc_alg, c->key, c->klen, use, ct, n, out + 28, false);
	if (!ok) {
		diag_err_set(err, 28, "decryption failed");
		return -1;
	}
	if (!retrans) {
		memcpy(prev, iv, block);
		memcpy(iv, ct + n - block, block); /* CBC: the next IV is the last block */
	}
	memcpy(out, raw, 28);
	out[19] &= (uint8_t)~0x01; /* E flag */
	uint32_t total = (uint32_t)(28 + n);
	out[24] = (uint8_t)(total >> 24);
	out[25] = (uint8_t)(total >> 16);
	out[26] = (uint8_t)(total >> 8);
	out[27] = (uint8_t)total;
	*outlen = total;
	return 1;
}

int ike_keys_set_radius_secret(struct ike_keys **k, const char *secret, char *err,
                               size_t errsz)
{
	size_t n = strlen(secret);
	if (!n) {
		snprintf(err, errsz, "an empty secret");
		return -1;
	}
	if (*k && (*k)->radius_secret) {
		snprintf(err, errsz, "the --keys file has a radius.shared_secret already");
		return -1;
	}
	bool made = !*k;
	if (made) *k = calloc(1, sizeof **k);
	uint8_t *copy = *k ? malloc(n) : NULL;
	if (!copy) {
		if (made) {
			free(*k);
			*k = NULL;
		}
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	memcpy(copy, secret, n);
	(*k)->radius_secret = copy;
	(*k)->radius_secret_len = n;
	return 0;
}

const uint8_t *ike_keys_radius_secret(const struct ike_keys *k, size_t *len)
{
	*len = k ? k->radius_secret_len : 0;
	return k ? k->radius_secret : NULL;
}
