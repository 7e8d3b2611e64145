/* Loading a certificate store directory with OpenSSL. See certstore.h for the layout and
 * the order rules. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/sha.h>
#include "cert/certstore.h"
#include "readfile.h"

#define ORDER_FILE "store.order"
#define ORDER_MAX_LINES 4096

/* ---- small helpers ----------------------------------------------------------- */

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	size_t n = (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3
	         : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (!n || (n == 2 && p[0] < 0xc2) || p[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if (n == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0)))
		return 0; /* overlong, surrogate */
	if (n == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90)))
		return 0;
	return n;
}

char *cert_safe_text(const char *s)
{
	if (!s)
		return NULL;
	size_t l = strlen(s);
	char *o = malloc(l * 4 + 1), *q = o;
	if (!o)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = utf8_len(p);
		if (n == 1 && (*p < 0x20 || *p == 0x7f))
			n = 0;
		if (n) {
			memcpy(q, p, n);
			q += n;
			p += n;
		} else {
			q += sprintf(q, "\\x%02x", *p);
			p++;
		}
	}
	*q = 0;
	return o;
}

/* OpenSSL's reason for the most recent error, then an empty error queue. */
static void ossl_reason(char *buf, size_t bufsz, const char *fallback)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	if (r)
		snprintf(buf, bufsz, "%s", r);
	else if (e)
		ERR_error_string_n(e, buf, bufsz);
	else
		snprintf(buf, bufsz, "%s", fallback);
	ERR_clear_error();
}

static bool ends_with_ci(const char *s, const char *suf)
{
	size_t ls = strlen(s), lf = strlen(suf);
	return ls >= lf && strcasecmp(s + ls - lf, suf) == 0;
}

static bool is_store_file(const char *name)
{
	static const char *const ext[] = {".pem", ".crt", ".cer", ".der", ".key",
	                                  ".p12", ".pfx", NULL};
	for (size_t i = 0; ext[i]; i++)
		if (ends_with_ci(name, ext[i]))
			return true;
	return false;
}

static bool is_p12_name(const char *name)
{
	return ends_with_ci(name, ".p12") || ends_with_ci(name, ".pfx");
}

/* OpenSSL 3 keeps RC2 and other old PKCS#12 ciphers in the legacy provider. Load it
 * once, keeping the default provider available; if it is missing, such bundles fail
 * with OpenSSL's "unsupported" reason. */
static OSSL_PROVIDER *legacy_provider; /* kept for the life of the process */

static void load_legacy_provider(void)
{
	static int done;
	if (done || legacy_provider)
		return;
	done = 1;
	legacy_provider = OSSL_PROVIDER_try_load(NULL, "legacy", 1);
	ERR_clear_error();
}

void cert_parsed_free(struct cert_parsed *p)
{
	for (size_t i = 0; i < p->ncerts; i++) X509_free(p->certs[i]);
	for (size_t i = 0; i < p->nkeys; i++) EVP_PKEY_free(p->keys[i]);
	for (size_t i = 0; i < p->ncas; i++) X509_free(p->cas[i]);
	memset(p, 0, sizeof *p);
}

static bool parsed_add_cert(struct cert_parsed *p, X509 *x)
{
	if (p->ncerts >= CERTSTORE_MAX_PER_FILE) { X509_free(x); return false; }
	p->certs[p->ncerts++] = x;
	return true;
}

static bool parsed_add_key(struct cert_parsed *p, EVP_PKEY *k)
{
	if (p->nkeys >= CERTSTORE_MAX_PER_FILE) { EVP_PKEY_free(k); return false; }
	p->keys[p->nkeys++] = k;
	return true;
}

static bool parsed_add_ca(struct cert_parsed *p, X509 *x)
{
	if (p->ncas >= CERTSTORE_MAX_PER_FILE) { X509_free(x); return false; }
	p->cas[p->ncas++] = x;
	return true;
}

/* OpenSSL 3 spends most of a key decode on setting up the decoder, so one decoder for
 * PEM and one for DER keys are kept and reused while the password stays the same. A
 * decoder that failed is dropped; the next key gets a fresh one. */
struct key_decoder {
	OSSL_DECODER_CTX *ctx;
	EVP_PKEY *out;   /* the decoder writes here */
	char *pass;      /* the password it was set up with, or NULL */
};
static struct key_decoder key_decoders[2]; /* 0 PEM, 1 DER */

static void key_decoder_drop(struct key_decoder *d)
{
	OSSL_DECODER_CTX_free(d->ctx);
	d->ctx = NULL;
	EVP_PKEY_free(d->out);
	d->out = NULL;
	if (d->pass) {
		OPENSSL_cleanse(d->pass, strlen(d->pass));
		free(d->pass);
		d->pass = NULL;
	}
}

/* A private key from `buf` ("PEM" or "DER"), or NULL with OpenSSL's error queued. */
static EVP_PKEY *key_decode(bool der, const unsigned char *buf, size_t len, const char *pass)
{
	struct key_decoder *d = &key_decoders[der ? 1 : 0];
	bool same = (!d->pass && !pass) || (d->pass && pass && strcmp(d->pass, pass) == 0);
	if (d->ctx && !same)
		key_decoder_drop(d);
	if (!d->ctx) {
		d->ctx = OSSL_DECODER_CTX_new_for_pkey(&d->out, der ? "DER" : "PEM", NULL, NULL,
		                                       EVP_PKEY_KEYPAIR, NULL, NULL);
		if (!d->ctx)
			return NULL;
		if (pass) {
			d->pass = strdup(pass);
			if (!d->pass ||
			    !OSSL_DECODER_CTX_set_passphrase(d->ctx, (const unsigned char *)pass,
			                                     strlen(pass))) {
				key_decoder_drop(d);
				return NULL;
			}
		}
	}
	const unsigned char *p = buf;
	size_t l = len;
	EVP_PKEY_free(d->out);
	d->out = NULL;
	if (!OSSL_DECODER_from_data(d->ctx, &p, &l) || !d->out) {
		key_decoder_drop(d);
		return NULL;
	}
	EVP_PKEY *k = d->out;
	d->out = NULL;
	return k;
}

/* PEM password callback: the password given, never a prompt. */
static int pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
	(void)rwflag;
	const char *pass = u;
	if (!pass || size <= 0)
		return -1;
	size_t n = strlen(pass);
	if (n > (size_t)size)
		n = (size_t)size;
	memcpy(buf, pass, n);
	return (int)n;
}

static bool pem_is_key(const char *name)
{
	return strcmp(name, "PRIVATE KEY") == 0 || strcmp(name, "ENCRYPTED PRIVATE KEY") == 0 ||
	       strcmp(name, "RSA PRIVATE KEY") == 0 || strcmp(name, "EC PRIVATE KEY") == 0 ||
	       strcmp(name, "DSA PRIVATE KEY") == 0;
}

static bool pem_is_cert(const char *name)
{
	return strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0 ||
	       strcmp(name, "TRUSTED CERTIFICATE") == 0;
}

static void key_reason(char *buf, size_t bufsz, bool encrypted, const char *pass,
                       const char *what)
{
	char r[128];
	ossl_reason(r, sizeof r, "cannot decode");
	if (!encrypted)
		snprintf(buf, bufsz, "%s: %s", what, r);
	else if (!pass)
		snprintf(buf, bufsz, "%s: %s (encrypted keys need --pass or VNET_P12_PASS)", what, r);
	else
		snprintf(buf, bufsz, "%s: %s (wrong password?)", what, r);
}

/* One PEM private key block, re-encoded so OpenSSL handles every key format and the
 * legacy "Proc-Type: 4,ENCRYPTED" headers. */
static EVP_PKEY *pem_block_key(const char *name, const char *header, const unsigned char *data,
                               long dlen, const char *pass, struct diag_err *err, int blockno,
                               bool *pwfail)
{
	BIO *mb = BIO_new(BIO_s_mem());
	EVP_PKEY *k = NULL;
	if (!mb) {
		diag_err_set(err, 0, "out of memory");
		return NULL;
	}
	if (PEM_write_bio(mb, name, header, data, dlen) > 0) {
		char *text = NULL;
		long tl = BIO_get_mem_data(mb, &text);
		if (tl > 0)
			k = key_decode(false, (const unsigned char *)text, (size_t)tl, pass);
		/* the slower path again, for OpenSSL's precise reason */
		if (!k) {
			ERR_clear_error();
			k = PEM_read_bio_PrivateKey(mb, NULL, pem_pass_cb, (void *)pass);
		}
	}
	if (!k) {
		char what[64], r[200];
		snprintf(what, sizeof what, "PEM block %d (%s)", blockno, name);
		bool enc = strstr(name, "ENCRYPTED") || (header && strstr(header, "ENCRYPTED"));
		key_reason(r, sizeof r, enc, pass, what);
		diag_err_set(err, 0, "%s", r);
		*pwfail = enc;
	}
	BIO_free(mb);
	return k;
}

static int parse_pem(const unsigned char *buf, size_t len, const char *pass,
                     struct cert_parsed *out, struct diag_err *err)
{
	BIO *b = BIO_new_mem_buf(buf, (int)len);
	int blocks = 0, rc = 0;
	bool pwfail = false;
	if (!b) {
		diag_err_set(err, 0, "out of memory");
		return -1;
	}
	for (int guard = 0; guard < 4 * CERTSTORE_MAX_PER_FILE; guard++) {
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		long dlen = 0;
		if (!PEM_read_bio(b, &name, &header, &data, &dlen)) {
			unsigned long e = ERR_peek_last_error();
			if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE &&
			    blocks > 0) {
				ERR_clear_error();
				break;
			}
			char r[128];
			ossl_reason(r, sizeof r, "unreadable PEM");
			diag_err_set(err, 0, "PEM block %d: %s", blocks + 1, r);
			rc = -1;
			break;
		}
		blocks++;
		if (pem_is_cert(name)) {
			const unsigned char *p = data;
			X509 *x = strcmp(name, "TRUSTED CERTIFICATE") == 0 ? d2i_X509_AUX(NULL, &p, dlen)
			                                                  : d2i_X509(NULL, &p, dlen);
			if (!x) {
				char r[128];
				ossl_reason(r, sizeof r, "cannot decode");
				diag_err_set(err, 0, "PEM block %d (%s): %s", blocks, name, r);
				rc = -1;
			} else if (!parsed_add_cert(out, x)) {
				diag_err_set(err, 0, "more than %d certificates in one file",
				             CERTSTORE_MAX_PER_FILE);
				rc = -1;
			}
		} else if (pem_is_key(name)) {
			EVP_PKEY *k = pem_block_key(name, header, data, dlen, pass, err, blocks,
			                            &pwfail);
			if (!k)
				rc = pwfail ? -2 : -1;
			else if (!parsed_add_key(out, k)) {
				diag_err_set(err, 0, "more than %d keys in one file", CERTSTORE_MAX_PER_FILE);
				rc = -1;
			}
		}
		/* other blocks (CRLs, requests, parameters) are not part of the pick */
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		if (rc)
			break;
	}
	BIO_free(b);
	if (rc == 0 && out->ncerts == 0 && out->nkeys == 0) {
		diag_err_set(err, 0, "no certificate or private key in the PEM file");
		rc = -1;
	}
	return rc;
}

static int try_der_cert(const unsigned char *buf, size_t len, struct cert_parsed *out,
                        char *why, size_t whysz)
{
	const unsigned char *p = buf;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	if (!x) {
		ossl_reason(why, whysz, "not a certificate");
		return -1;
	}
	if (p != buf + len) {
		X509_free(x);
		snprintf(why, whysz, "%zu bytes after the certificate", (size_t)(buf + len - p));
		return -1;
	}
	parsed_add_cert(out, x);
	return 0;
}

/* -1: not a key; -2: an encrypted PKCS#8 key that the password does not open */
static int try_der_key(const unsigned char *buf, size_t len, const char *pass,
                       struct cert_parsed *out, char *why, size_t whysz)
{
	EVP_PKEY *k = key_decode(true, buf, len, pass);
	if (!k) {
		char r[128];
		ossl_reason(r, sizeof r, "not a private key");
		const unsigned char *p = buf;
		X509_SIG *enc = d2i_X509_SIG(NULL, &p, (long)len);
		bool whole = enc && p == buf + len;
		X509_SIG_free(enc);
		ERR_clear_error();
		if (!whole) {
			snprintf(why, whysz, "%s", r);
			return -1;
		}
		snprintf(why, whysz, "encrypted private key: %s (%s)", r,
		         pass ? "wrong password?" : "encrypted keys need --pass or VNET_P12_PASS");
		return -2;
	}
	ERR_clear_error();
	parsed_add_key(out, k);
	return 0;
}

/* 0 parsed; -1 not a bundle or broken (*is_p12 says which); -2 the MAC does not verify
 * with the password given (or without one): a password problem */
static int try_p12(const unsigned char *buf, size_t len, const char *pass,
                   struct cert_parsed *out, char *why, size_t whysz, bool *is_p12)
{
	const unsigned char *p = buf;
	PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);
	*is_p12 = false;
	if (!p12) {
		ossl_reason(why, whysz, "not a PKCS#12 bundle");
		return -1;
	}
	*is_p12 = true;
	load_legacy_provider();
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	STACK_OF(X509) *ca = NULL;
	int ok = PKCS12_parse(p12, pass && *pass ? pass : NULL, &k, &x, &ca);
	PKCS12_free(p12);
	if (!ok) {
		char r[128];
		unsigned long e = ERR_peek_last_error();
		bool mac = ERR_GET_LIB(e) == ERR_LIB_PKCS12 &&
		           ERR_GET_REASON(e) == PKCS12_R_MAC_VERIFY_FAILURE;
		ossl_reason(r, sizeof r, "cannot parse");
		if (mac && !(pass && *pass))
			snprintf(why, whysz, "PKCS#12: %s (the bundle has a password: give --pass or "
			         "VNET_P12_PASS)", r);
		else if (mac)
			snprintf(why, whysz, "PKCS#12: %s (wrong password)", r);
		else
			snprintf(why, whysz, "PKCS#12: %s", r);
		return mac ? -2 : -1;
	}
	if (x)
		parsed_add_cert(out, x);
	if (k)
		parsed_add_key(out, k);
	for (int i = 0; ca && i < sk_X509_num(ca); i++) {
		X509 *c = sk_X509_value(ca, i);
		if (X509_up_ref(c))
			parsed_add_ca(out, c);
	}
	sk_X509_pop_free(ca, X509_free);
	ERR_clear_error();
	if (out->ncerts == 0 && out->nkeys == 0 && out->ncas == 0) {
		snprintf(why, whysz, "PKCS#12: the bundle holds no certificate and no key");
		return -1;
	}
	return 0;
}

int certstore_parse_buf(const char *name, const unsigned char *buf, size_t len,
                        const char *pass, struct cert_parsed *out, struct diag_err *err)
{
	memset(out, 0, sizeof *out);
	diag_err_clear(err);
	if (len == 0) {
		diag_err_set(err, 0, "empty file");
		return -1;
	}
	if (len > CERTSTORE_MAX_FILE_SIZE || len > (size_t)0x7fffffff) {
		diag_err_set(err, 0, "larger than %u bytes", CERTSTORE_MAX_FILE_SIZE);
		return -1;
	}
	ERR_clear_error();
	/* PEM when a BEGIN line appears near the start (text before it is allowed, as
	 * openssl writes "Bag Attributes" and "subject=" lines). */
	size_t scan = len < 65536 ? len : 65536;
	if (memmem(buf, scan, "-----BEGIN ", 11)) {
		int rc = parse_pem(buf, len, pass, out, err);
		if (rc)
			cert_parsed_free(out);
		return rc;
	}
	if (buf[0] != 0x30) {
		diag_err_set(err, 0, "neither PEM (no -----BEGIN line) nor DER (no ASN.1 SEQUENCE "
		             "at offset 0)");
		return -1;
	}
	char w_cert[160], w_key[160], w_p12[200];
	bool is_p12 = false;
	int rp, rk = -1;
	if (is_p12_name(name)) {
		if ((rp = try_p12(buf, len, pass, out, w_p12, sizeof w_p12, &is_p12)) == 0)
			return 0;
		cert_parsed_free(out);
		if (is_p12) {
			diag_err_set(err, 0, "%s", w_p12);
			return rp == -2 ? -2 : -1;
		}
		if (try_der_cert(buf, len, out, w_cert, sizeof w_cert) == 0 ||
		    (rk = try_der_key(buf, len, pass, out, w_key, sizeof w_key)) == 0)
			return 0;
		if (rk == -2) {
			diag_err_set(err, 0, "%s", w_key);
			return -2;
		}
		diag_err_set(err, 0, "not a PKCS#12 bundle (%s), DER certificate or DER key", w_p12);
		return -1;
	}
	if (try_der_cert(buf, len, out, w_cert, sizeof w_cert) == 0 ||
	    (rk = try_der_key(buf, len, pass, out, w_key, sizeof w_key)) == 0)
		return 0;
	cert_parsed_free(out);
	if (rk == -2) {
		diag_err_set(err, 0, "%s", w_key);
		return -2;
	}
	if ((rp = try_p12(buf, len, pass, out, w_p12, sizeof w_p12, &is_p12)) == 0)
		return 0;
	cert_parsed_free(out);
	if (is_p12)
		diag_err_set(err, 0, "%s", w_p12);
	else
		diag_err_set(err, 0, "not a DER certificate (%s), DER private key or PKCS#12 bundle",
		             w_cert);
	return rp == -2 ? -2 : -1;
}

/* ---- files and directories --------------------------------------------------- */

static int add_problem(struct cert_problem **arr, size_t *n, const char *file,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int add_problem(struct cert_problem **arr, size_t *n, const char *file,
                       const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	/* grown in powers of two: a store of many broken files stays linear */
	if ((*n & (*n - 1)) == 0) {
		struct cert_problem *na = realloc(*arr, (*n ? *n * 2 : 1) * sizeof *na);
		if (!na)
			return -1;
		*arr = na;
	}
	struct cert_problem *pr = &(*arr)[*n];
	pr->file = cert_safe_text(file);
	pr->reason = cert_safe_text(buf);
	pr->password = false;
	(*n)++;
	return 0;
}

/* Read a regular file of at most CERTSTORE_MAX_FILE_SIZE bytes. */
static unsigned char *read_file(const char *path, size_t *len, char *why, size_t whysz)
{
	return (unsigned char *)file_read_regular(path, CERTSTORE_MAX_FILE_SIZE, len, why, whysz);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct name_list {
	char **v;
	size_t n;
};

static void name_list_free(struct name_list *l)
{
	for (size_t i = 0; i < l->n; i++) free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Every certificate file name of `dir` (not recursive), sorted byte-wise once all are
 * read: the order never depends on the order readdir returns them in. Also reports the
 * CA subdirectories it saw. -1 with the reason in `why` when the directory cannot be
 * read or holds more than CERTSTORE_MAX_FILES certificate files. */
static int list_dir(const char *dir, struct name_list *out, char **roots_dir,
                    char **inter_dir, char *why, size_t whysz)
{
	memset(out, 0, sizeof *out);
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(why, whysz, "%s", strerror(errno));
		return -1;
	}
	size_t cap = 0;
	int rc = 0;
	for (size_t seen = 0;; seen++) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno) {
				snprintf(why, whysz, "%s", strerror(errno));
				rc = -1;
			}
			break;
		}
		if (seen >= CERTSTORE_MAX_ENTRIES) {
			snprintf(why, whysz, "more than %u directory entries", CERTSTORE_MAX_ENTRIES);
			rc = -1;
			break;
		}
		const char *nm = de->d_name;
		if (nm[0] == '.')
			continue;
		bool store_file = is_store_file(nm);
		bool ca_name = (roots_dir && (strcmp(nm, "roots") == 0 || strcmp(nm, "root") == 0)) ||
		               (inter_dir && (strcmp(nm, "intermediates") == 0 ||
		                              strcmp(nm, "intermediate") == 0 || strcmp(nm, "ca") == 0));
		if (!store_file && !ca_name)
			continue;
		char *path = NULL;
		if (ca_name) {
			path = malloc(strlen(dir) + strlen(nm) + 2);
			if (!path) {
				snprintf(why, whysz, "out of memory");
				rc = -1;
				break;
			}
			sprintf(path, "%s/%s", dir, nm);
			struct stat st;
			if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
				char **slot = nm[0] == 'r' ? roots_dir : inter_dir;
				if (!*slot) {
					*slot = path;
					continue;
				}
			}
			free(path);
			continue;
		}
		if (out->n >= CERTSTORE_MAX_FILES) {
			snprintf(why, whysz, "more than %d certificate files (vnet reads at most %d "
			         "from one directory)", CERTSTORE_MAX_FILES, CERTSTORE_MAX_FILES);
			rc = -1;
			break;
		}
		if (out->n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			char **nv = realloc(out->v, nc * sizeof *nv);
			if (!nv) {
				snprintf(why, whysz, "out of memory");
				rc = -1;
				break;
			}
			out->v = nv;
			cap = nc;
		}
		if (!(out->v[out->n] = strdup(nm))) {
			snprintf(why, whysz, "out of memory");
			rc = -1;
			break;
		}
		out->n++;
	}
	closedir(d);
	if (rc) {
		name_list_free(out);
		if (roots_dir) { free(*roots_dir); *roots_dir = NULL; }
		if (inter_dir) { free(*inter_dir); *inter_dir = NULL; }
		return -1;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof *out->v, cmp_str);
	return 0;
}

/* Apply store.order: listed names first (in that order), then the others by name.
 * `files` is sorted (list_dir), so each line is looked up by binary search. */
static void apply_order(struct cert_store *s, struct name_list *files)
{
	size_t plen = strlen(s->dir) + sizeof ORDER_FILE + 2;
	char *path = malloc(plen);
	if (!path)
		return;
	snprintf(path, plen, "%s/%s", s->dir, ORDER_FILE);
	struct stat st;
	char why[160];
	int fd = file_open_regular(path, &st, why, sizeof why);
	free(path);
	if (fd < 0) {
		if (errno != ENOENT)
			add_problem(&s->problems, &s->nproblems, ORDER_FILE, "%s; the order is by "
			            "file name", why);
		return;
	}
	FILE *fp = fdopen(fd, "r");
	if (!fp) {
		close(fd);
		return;
	}
	s->has_order_file = true;
	char **ordered = calloc(files->n ? files->n : 1, sizeof *ordered);
	bool *used = calloc(files->n ? files->n : 1, sizeof *used);
	size_t nord = 0;
	if (!ordered || !used) {
		free(ordered);
		free(used);
		fclose(fp);
		return;
	}
	char line[1100];
	for (int lineno = 1; lineno <= ORDER_MAX_LINES && fgets(line, sizeof line, fp); lineno++) {
		size_t l = strlen(line);
		if (l == sizeof line - 1 && line[l - 1] != '\n') {
			add_problem(&s->problems, &s->nproblems, ORDER_FILE, "line %d: longer than %zu "
			            "characters", lineno, sizeof line - 2);
			int c;
			for (size_t g = 0; g < CERTSTORE_MAX_FILE_SIZE && (c = fgetc(fp)) != EOF &&
			                   c != '\n'; g++)
				;
			continue;
		}
		char *p = line;
		while (*p == ' ' || *p == '\t') p++;
		l = strlen(p);
		while (l > 0 && (p[l - 1] == '\n' || p[l - 1] == '\r' || p[l - 1] == ' ' ||
		                 p[l - 1] == '\t'))
			p[--l] = 0;
		if (!*p || *p == '#')
			continue;
		const char *key = p;
		char **hit = files->n ? bsearch(&key, files->v, files->n, sizeof *files->v, cmp_str)
		                      : NULL;
		if (!hit) {
			add_problem(&s->problems, &s->nproblems, ORDER_FILE,
			            "line %d: no certificate file named '%s' in the store", lineno, p);
			continue;
		}
		size_t k = (size_t)(hit - files->v);
		if (used[k])
			continue;
		used[k] = true;
		ordered[nord++] = files->v[k];
	}
	fclose(fp);
	for (size_t k = 0; k < files->n; k++)
		if (!used[k])
			ordered[nord++] = files->v[k];
	memcpy(files->v, ordered, files->n * sizeof *ordered);
	free(ordered);
	free(used);
}

static char *join(const char *a, const char *b)
{
	size_t l = strlen(a) + strlen(b) + 2;
	char *p = malloc(l);
	if (p)
		snprintf(p, l, "%s/%s", a, b);
	return p;
}

/* Read and parse dir/name; problems are recorded under `label`. */
static int load_one(const char *dir, const char *name, const char *label, const char *pass,
                    struct cert_parsed *out, struct cert_problem **probs, size_t *nprobs)
{
	char why[256];
	size_t len = 0;
	char *path = join(dir, name);
	if (!path)
		return -1;
	unsigned char *buf = read_file(path, &len, why, sizeof why);
	free(path);
	if (!buf) {
		add_problem(probs, nprobs, label, "%s", why);
		return -1;
	}
	struct diag_err e;
	int rc = certstore_parse_buf(name, buf, len, pass, out, &e);
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (rc) {
		if (add_problem(probs, nprobs, label, "%s", e.reason) == 0)
			(*probs)[*nprobs - 1].password = rc == -2;
		return -1;
	}
	return 0;
}

/* -1 with `err` set when the directory cannot be listed or is past the limit */
static int load_ca_dir(struct cert_store *s, const char *sub, const char *subname,
                       STACK_OF(X509) *into, bool roots, const char *pass,
                       struct diag_err *err)
{
	struct name_list files;
	char why[160];
	if (list_dir(sub, &files, NULL, NULL, why, sizeof why)) {
		diag_err_set(err, 0, "%s: %s", sub, why);
		return -1;
	}
	for (size_t i = 0; i < files.n; i++) {
		struct cert_parsed p;
		char *label = join(subname, files.v[i]);
		if (!label)
			break;
		if (load_one(sub, files.v[i], label, pass, &p, &s->problems, &s->nproblems) == 0) {
			for (size_t k = 0; k < p.ncerts + p.ncas; k++) {
				X509 *x = k < p.ncerts ? p.certs[k] : p.cas[k - p.ncerts];
				if (!X509_up_ref(x))
					continue;
				if (!sk_X509_push(into, x)) {
					X509_free(x);
					continue;
				}
				if (roots) {
					char **nf = realloc(s->root_files,
					                    (size_t)sk_X509_num(into) * sizeof *nf);
					if (nf) {
						s->root_files = nf;
						nf[sk_X509_num(into) - 1] = xstrdup(label);
					}
				}
			}
			cert_parsed_free(&p);
		}
		free(label);
	}
	name_list_free(&files);
	return 0;
}

static int store_add_cert(struct cert_store *s, X509 *x, const char *file, int index,
                          int nfile)
{
	if (s->ncerts >= CERTSTORE_MAX_CERTS)
		return -1;
	if ((s->ncerts & (s->ncerts - 1)) == 0) {
		struct cert_entry *nc = realloc(s->certs, (s->ncerts ? s->ncerts * 2 : 1) * sizeof *nc);
		if (!nc)
			return -1;
		s->certs = nc;
	}
	if (!X509_up_ref(x))
		return -1;
	struct cert_entry *e = &s->certs[s->ncerts++];
	memset(e, 0, sizeof *e);
	e->file = cert_safe_text(file);
	e->index = index;
	e->nfile = nfile;
	e->x509 = x;
	return 0;
}

static int store_add_key(struct cert_store *s, EVP_PKEY *k, const char *file)
{
	if (s->nkeys >= CERTSTORE_MAX_KEYS)
		return -1;
	if ((s->nkeys & (s->nkeys - 1)) == 0) {
		struct cert_key *nk = realloc(s->keys, (s->nkeys ? s->nkeys * 2 : 1) * sizeof *nk);
		if (!nk)
			return -1;
		s->keys = nk;
	}
	if (!EVP_PKEY_up_ref(k))
		return -1;
	s->keys[s->nkeys].pkey = k;
	s->keys[s->nkeys].file = cert_safe_text(file);
	s->nkeys++;
	return 0;
}

/* The public key as DER, hashed: keys and certificates are paired by this first and by
 * EVP_PKEY_eq only when it agrees, so pairing stays near linear in a large store. */
struct pub_hash {
	unsigned char h[SHA256_DIGEST_LENGTH];
	size_t idx;
};

static bool pub_hash_of(EVP_PKEY *k, unsigned char *h)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(k, &der);
	if (n <= 0) {
		ERR_clear_error();
		return false;
	}
	SHA256(der, (size_t)n, h);
	OPENSSL_free(der);
	return true;
}

static int cmp_pub_hash(const void *a, const void *b)
{
	const struct pub_hash *x = a, *y = b;
	int c = memcmp(x->h, y->h, sizeof x->h);
	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* A certificate has a private key when a key of the store matches its public key; of
 * several, the first in store order. */
static void match_keys(struct cert_store *s)
{
	struct pub_hash *kh = s->nkeys ? calloc(s->nkeys, sizeof *kh) : NULL;
	size_t nk = 0;
	for (size_t k = 0; kh && k < s->nkeys; k++)
		if (pub_hash_of(s->keys[k].pkey, kh[nk].h))
			kh[nk++].idx = k;
	if (nk)
		qsort(kh, nk, sizeof *kh, cmp_pub_hash);
	for (size_t i = 0; nk && i < s->ncerts; i++) {
		EVP_PKEY *pub = X509_get0_pubkey(s->certs[i].x509);
		struct pub_hash want = {.idx = 0};
		if (!pub || !pub_hash_of(pub, want.h))
			continue;
		/* the first entry with this hash (idx 0 sorts before every other) */
		size_t lo = 0, hi = nk;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (cmp_pub_hash(&kh[mid], &want) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t j = lo; j < nk && !memcmp(kh[j].h, want.h, sizeof want.h); j++) {
			const struct cert_key *ck = &s->keys[kh[j].idx];
			if (EVP_PKEY_eq(pub, ck->pkey) == 1) {
				s->certs[i].key = ck->pkey;
				s->certs[i].key_file = xstrdup(ck->file);
				break;
			}
		}
	}
	free(kh);
	ERR_clear_error();
}

struct cert_store *certstore_load(const char *dir, const char *pass, struct diag_err *err)
{
	struct cert_store *s = calloc(1, sizeof *s);
	struct name_list files;
	char *roots_dir = NULL, *inter_dir = NULL;
	char why[128];
	if (!s) {
		diag_err_set(err, 0, "out of memory");
		return NULL;
	}
	s->dir = xstrdup(dir);
	s->roots = sk_X509_new_null();
	s->intermediates = sk_X509_new_null();
	if (!s->dir || !s->roots || !s->intermediates) {
		certstore_free(s);
		diag_err_set(err, 0, "out of memory");
		return NULL;
	}
	if (list_dir(dir, &files, &roots_dir, &inter_dir, why, sizeof why)) {
		diag_err_set(err, 0, "cannot read the store directory: %s", why);
		certstore_free(s);
		return NULL;
	}
	apply_order(s, &files);
	/* Past the certificate or key limit, what is left out is counted and said once. */
	size_t cert_full = SIZE_MAX, key_full = SIZE_MAX, certs_out = 0, keys_out = 0;
	for (size_t i = 0; i < files.n; i++) {
		struct cert_parsed p;
		if (load_one(dir, files.v[i], files.v[i], pass, &p, &s->problems, &s->nproblems))
			continue;
		for (size_t k = 0; k < p.ncerts; k++)
			if (store_add_cert(s, p.certs[k], files.v[i], (int)k + 1, (int)p.ncerts)) {
				if (cert_full == SIZE_MAX &&
				    add_problem(&s->problems, &s->nproblems, files.v[i], "-") == 0)
					cert_full = s->nproblems - 1;
				certs_out++;
			}
		for (size_t k = 0; k < p.nkeys; k++)
			if (store_add_key(s, p.keys[k], files.v[i])) {
				if (key_full == SIZE_MAX &&
				    add_problem(&s->problems, &s->nproblems, files.v[i], "-") == 0)
					key_full = s->nproblems - 1;
				keys_out++;
			}
		for (size_t k = 0; k < p.ncas; k++)
			if (X509_up_ref(p.cas[k]) && !sk_X509_push(s->intermediates, p.cas[k]))
				X509_free(p.cas[k]);
		cert_parsed_free(&p);
	}
	name_list_free(&files);
	char msg[200];
	if (cert_full != SIZE_MAX) {
		snprintf(msg, sizeof msg, "store full: vnet takes at most %d certificates; this "
		         "file's and the later ones (%zu in all) are left out", CERTSTORE_MAX_CERTS,
		         certs_out);
		free(s->problems[cert_full].reason);
		s->problems[cert_full].reason = xstrdup(msg);
	}
	if (key_full != SIZE_MAX) {
		snprintf(msg, sizeof msg, "store full: vnet takes at most %d private keys; this "
		         "file's and the later ones (%zu in all) are left out", CERTSTORE_MAX_KEYS,
		         keys_out);
		free(s->problems[key_full].reason);
		s->problems[key_full].reason = xstrdup(msg);
	}
	int rc = 0;
	if (roots_dir)
		rc = load_ca_dir(s, roots_dir, strrchr(roots_dir, '/') + 1, s->roots, true, pass, err);
	if (inter_dir && rc == 0)
		rc = load_ca_dir(s, inter_dir, strrchr(inter_dir, '/') + 1, s->intermediates, false,
		                 pass, err);
	free(roots_dir);
	free(inter_dir);
	if (rc) {
		certstore_free(s);
		return NULL;
	}
	match_keys(s);
	return s;
}

void certstore_free(struct cert_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ncerts; i++) {
		free(s->certs[i].file);
		free(s->certs[i].key_file);
		X509_free(s->certs[i].x509);
	}
	free(s->certs);
	for (size_t i = 0; i < s->nkeys; i++) {
		EVP_PKEY_free(s->keys[i].pkey);
		free(s->keys[i].file);
	}
	free(s->keys);
	if (s->root_files) {
		for (int i = 0; i < sk_X509_num(s->roots); i++) free(s->root_files[i]);
		free(s->root_files);
	}
	sk_X509_pop_free(s->roots, X509_free);
	sk_X509_pop_free(s->intermediates, X509_free);
	for (size_t i = 0; i < s->nproblems; i++) {
		free(s->problems[i].file);
		free(s->problems[i].reason);
	}
	free(s->problems);
	free(s->dir);
	free(s);
}

STACK_OF(X509) *certstore_load_cas(const char *path, const char *pass,
                                   struct cert_problem **problems, size_t *nproblems,
                                   struct diag_err *err)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		diag_err_set(err, 0, "%s", strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		diag_err_set(err, 0, "neither a regular file nor a directory (%s)",
		             file_kind_phrase(st.st_mode));
		return NULL;
	}
	STACK_OF(X509) *out = sk_X509_new_null();
	if (!out) {
		diag_err_set(err, 0, "out of memory");
		return NULL;
	}
	struct name_list files = {0};
	char *dir = NULL;
	if (S_ISDIR(st.st_mode)) {
		char why[160];
		if (list_dir(path, &files, NULL, NULL, why, sizeof why)) {
			diag_err_set(err, 0, "%s", why);
			sk_X509_free(out);
			return NULL;
		}
		dir = xstrdup(path);
	} else {
		const char *slash = strrchr(path, '/');
		files.v = malloc(sizeof *files.v);
		if (files.v) {
			files.v[0] = xstrdup(slash ? slash + 1 : path);
			files.n = files.v[0] ? 1 : 0;
		}
		dir = slash ? strndup(path, (size_t)(slash - path)) : xstrdup(".");
		if (slash == path) {
			free(dir);
			dir = xstrdup("/");
		}
	}
	for (size_t i = 0; dir && i < files.n; i++) {
		struct cert_parsed p;
		char *label = S_ISDIR(st.st_mode) ? join(path, files.v[i]) : xstrdup(path);
		if (!label)
			break;
		if (load_one(dir, files.v[i], label, pass, &p, problems, nproblems) == 0) {
			for (size_t k = 0; k < p.ncerts + p.ncas; k++) {
				X509 *x = k < p.ncerts ? p.certs[k] : p.cas[k - p.ncerts];
				if (X509_up_ref(x) && !sk_X509_push(out, x))
					X509_free(x);
			}
			cert_parsed_free(&p);
		}
		free(label);
	}
	free(dir);
	name_list_free(&files);
	return out;
}

const char *cert_entry_name(const struct cert_entry *e, char *buf, size_t bufsz)
{
	if (e->nfile > 1)
		snprintf(buf, bufsz, "%s#%d", e->file, e->index);
	else
		snprintf(buf, bufsz, "%s", e->file);
	return buf;
}
