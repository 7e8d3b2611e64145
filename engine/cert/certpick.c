/* Certificate inspection, the server's pick, the clients' view and the fix. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include "cert/certpick.h"

/* ---- purposes, times ------------------------------------------------------------ */

static const char *const purpose_names[] = {"l2tp", "ikev2", "sstp", "iphttps"};
static const char *const purpose_titles[] = {"L2TP/IPsec", "IKEv2", "SSTP", "IP-HTTPS"};

int cert_purpose_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, purpose_names[i]) == 0)
			return i;
	return -1;
}

const char *cert_purpose_name(enum cert_purpose p) { return purpose_names[p]; }
const char *cert_purpose_title(enum cert_purpose p) { return purpose_titles[p]; }

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

int cert_parse_time(const char *s, int64_t *epoch, struct diag_err *err)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		goto bad;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			goto bad;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				goto bad;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;
			if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
				goto bad;
			off = sign * (oh * 3600 + om * 60);
		}
	}
	if (*p)
		goto bad;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1950 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || sec > 60)
		goto bad;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		goto bad;
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*epoch = (int64_t)timegm(&tm) - off;
	return 0;
bad:
	diag_err_set(err, (size_t)(p - s), "not an ISO 8601 time (YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM])");
	return -1;
}

void cert_format_time(int64_t epoch, char *buf, size_t bufsz)
{
	time_t t = (time_t)epoch;
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, bufsz, "?");
		return;
	}
	strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- text helpers ------------------------------------------------------------- */

static char *name_str(const X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL;
	if (!b)
		return NULL;
	unsigned long fl = (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) |
	                   XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN | XN_FLAG_DUMP_UNKNOWN_FIELDS;
	if (X509_NAME_print_ex(b, n, 0, fl) >= 0) {
		char *data;
		long l = BIO_get_mem_data(b, &data);
		out = l >= 0 ? strndup(data, (size_t)l) : NULL;
	}
	BIO_free(b);
	char *safe = cert_safe_text(out ? out : "");
	free(out);
	return safe ? safe : strdup("");
}

char *cert_name_windows(const X509_NAME *n)
{
	size_t cap = 256, len = 0;
	char *o = malloc(cap);
	if (!o)
		return NULL;
	o[0] = 0;
	int cnt = X509_NAME_entry_count(n), prev_set = -1;
	for (int i = 0; i < cnt && i < 256; i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		char oid[64];
		const char *key = nid == NID_stateOrProvinceName ? "S"
		                : nid == NID_pkcs9_emailAddress ? "E"
		                : nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
		if (!key) {
			OBJ_obj2txt(oid, sizeof oid, X509_NAME_ENTRY_get_object(e), 1);
			key = oid;
		}
		unsigned char *u = NULL;
		int ul = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(e));
		if (ul < 0) {
			ERR_clear_error();
			continue;
		}
		bool quote = ul > 0 && (u[0] == ' ' || u[ul - 1] == ' ');
		for (int k = 0; k < ul; k++)
			if (strchr(",+=\"<>#;\n\r", u[k]) && u[k])
				quote = true;
		/* worst case: every byte doubled, plus key, separators and quotes */
		size_t need = len + strlen(key) + (size_t)ul * 2 + 8;
		if (need > cap) {
			size_t nc = need * 2;
			char *no = realloc(o, nc);
			if (!no) {
				OPENSSL_free(u);
				free(o);
				return NULL;
			}
			o = no;
			cap = nc;
		}
		int set = X509_NAME_ENTRY_set(e);
		if (len)
			len += (size_t)sprintf(o + len, "%s", set == prev_set ? " + " : ", ");
		prev_set = set;
		len += (size_t)sprintf(o + len, "%s=%s", key, quote ? "\"" : "");
		for (int k = 0; k < ul; k++) {
			if (u[k] == '"')
				o[len++] = '"';
			o[len++] = (char)u[k];
		}
		if (quote)
			o[len++] = '"';
		o[len] = 0;
		OPENSSL_free(u);
	}
	char *safe = cert_safe_text(o);
	free(o);
	return safe;
}

/* Printable copy of bytes that came from a certificate: anything outside printable
 * ASCII becomes \xNN. */
static char *safe_str(const unsigned char *p, size_t n)
{
	if (n > 1024)
		n = 1024;
	char *o = malloc(n * 4 + 1), *q = o;
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			*q++ = (char)p[i];
		else
			q += sprintf(q, "\\x%02x", p[i]);
	}
	*q = 0;
	return o;
}

static void add_reason(struct cert_reason *arr, size_t *n, size_t max, const char *code,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add_reason(struct cert_reason *arr, size_t *n, size_t max, const char *code,
                       const char *fmt, ...)
{
	if (*n >= max)
		return;
	va_list ap;
	arr[*n].code = code;
	va_start(ap, fmt);
	vsnprintf(arr[*n].text, sizeof arr[*n].text, fmt, ap);
	va_end(ap);
	(*n)++;
}

/* ---- inspection --------------------------------------------------------------- */

static const struct {
	const char *oid, *name;
} eku_names[] = {
	{"1.3.6.1.5.5.7.3.1", "Server Authentication"},
	{"1.3.6.1.5.5.7.3.2", "Client Authentication"},
	{"1.3.6.1.5.5.8.2.2", "IP security IKE intermediate"},
	{"1.3.6.1.5.5.7.3.3", "Code Signing"},
	{"1.3.6.1.5.5.7.3.4", "Secure Email"},
	{"1.3.6.1.5.5.7.3.5", "IP security end system"},
	{"1.3.6.1.5.5.7.3.6", "IP security tunnel termination"},
	{"1.3.6.1.5.5.7.3.7", "IP security user"},
	{"1.3.6.1.5.5.7.3.8", "Time Stamping"},
	{"1.3.6.1.5.5.7.3.9", "OCSP Signing"},
	{"1.3.6.1.4.1.311.20.2.2", "Smart Card Logon"},
	{"1.3.6.1.4.1.311.10.3.4", "Encrypting File System"},
	{"2.5.29.37.0", "Any Purpose"},
	{NULL, NULL},
};

static const struct {
	uint32_t bit;
	const char *name;
} ku_names[] = {
	{X509v3_KU_DIGITAL_SIGNATURE, "Digital Signature"},
	{X509v3_KU_NON_REPUDIATION, "Non-Repudiation"},
	{X509v3_KU_KEY_ENCIPHERMENT, "Key Encipherment"},
	{X509v3_KU_DATA_ENCIPHERMENT, "Data Encipherment"},
	{X509v3_KU_KEY_AGREEMENT, "Key Agreement"},
	{X509v3_KU_KEY_CERT_SIGN, "Certificate Signing"},
	{X509v3_KU_CRL_SIGN, "CRL Signing"},
	{X509v3_KU_ENCIPHER_ONLY, "Encipher Only"},
	{X509v3_KU_DECIPHER_ONLY, "Decipher Only"},
	{0, NULL},
};

static int64_t asn1_epoch(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

static void inspect_names(struct cert_info *ci, X509 *x)
{
	X509_NAME *subj = X509_get_subject_name(x);
	ci->subject = name_str(subj);
	ci->issuer = name_str(X509_get_issuer_name(x));
	int idx = -1, last = -1;
	for (int g = 0; g < 64; g++) {
		idx = X509_NAME_get_index_by_NID(subj, NID_commonName, idx);
		if (idx < 0)
			break;
		last = idx;
	}
	if (last >= 0) {
		ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, last));
		unsigned char *u = NULL;
		int l = ASN1_STRING_to_UTF8(&u, d);
		if (l >= 0) {
			ci->cn = safe_str(u, (size_t)l);
			OPENSSL_free(u);
		}
	}
	ci->wildcard_cn = ci->cn && strchr(ci->cn, '*');
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && ci->nsan < CERT_MAX_SAN; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char buf[1100];
		if (g->type == GEN_DNS) {
			char *v = safe_str(ASN1_STRING_get0_data(g->d.dNSName),
			                   (size_t)ASN1_STRING_length(g->d.dNSName));
			if (!v)
				continue;
			if (strchr(v, '*'))
				ci->wildcard_san = true;
			snprintf(buf, sizeof buf, "DNS:%s", v);
			free(v);
		} else if (g->type == GEN_IPADD) {
			int l = ASN1_STRING_length(g->d.iPAddress);
			const unsigned char *d = ASN1_STRING_get0_data(g->d.iPAddress);
			char ip[INET6_ADDRSTRLEN] = "?";
			if (l == 4)
				inet_ntop(AF_INET, d, ip, sizeof ip);
			else if (l == 16)
				inet_ntop(AF_INET6, d, ip, sizeof ip);
			snprintf(buf, sizeof buf, "IP:%s", ip);
		} else if (g->type == GEN_EMAIL) {
			char *v = safe_str(ASN1_STRING_get0_data(g->d.rfc822Name),
			                   (size_t)ASN1_STRING_length(g->d.rfc822Name));
			if (!v)
				continue;
			snprintf(buf, sizeof buf, "email:%s", v);
			free(v);
		} else {
			continue;
		}
		ci->san[ci->nsan] = strdup(buf);
		if (ci->san[ci->nsan])
			ci->nsan++;
	}
	GENERAL_NAMES_free(gens);
	ci->wildcard = ci->wildcard_cn || ci->wildcard_san;
}

static void inspect_key(struct cert_info *ci, X509 *x)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	snprintf(ci->key_type, sizeof ci->key_type, "unknown");
	if (!pk) {
		ERR_clear_error();
		return;
	}
	ci->key_bits = EVP_PKEY_get_bits(pk);
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA: snprintf(ci->key_type, sizeof ci->key_type, "RSA"); break;
	case EVP_PKEY_RSA_PSS: snprintf(ci->key_type, sizeof ci->key_type, "RSA-PSS"); break;
	case EVP_PKEY_DSA: snprintf(ci->key_type, sizeof ci->key_type, "DSA"); break;
	case EVP_PKEY_ED25519: snprintf(ci->key_type, sizeof ci->key_type, "Ed25519"); break;
	case EVP_PKEY_ED448: snprintf(ci->key_type, sizeof ci->key_type, "Ed448"); break;
	case EVP_PKEY_EC: {
		char grp[32] = "";
		size_t gl = 0;
		if (EVP_PKEY_get_group_name(pk, grp, sizeof grp, &gl) && gl)
			snprintf(ci->key_type, sizeof ci->key_type, "EC %s",
			         strcmp(grp, "prime256v1") == 0 ? "P-256" :
			         strcmp(grp, "secp384r1") == 0 ? "P-384" :
			         strcmp(grp, "secp521r1") == 0 ? "P-521" : grp);
		else
			snprintf(ci->key_type, sizeof ci->key_type, "EC");
		break;
	}
	default: break;
	}
	ERR_clear_error();
}

static void inspect_usage(struct cert_info *ci, X509 *x)
{
	int crit = 0;
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
	ci->eku_present = eku != NULL || crit == -2;
	for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku) && ci->neku < CERT_MAX_EKU; i++) {
		struct cert_eku *e = &ci->eku[ci->neku];
		if (OBJ_obj2txt(e->oid, sizeof e->oid, sk_ASN1_OBJECT_value(eku, i), 1) <= 0)
			continue;
		e->name = NULL;
		for (size_t k = 0; eku_names[k].oid; k++)
			if (strcmp(e->oid, eku_names[k].oid) == 0)
				e->name = eku_names[k].name;
		if (strcmp(e->oid, "1.3.6.1.5.5.7.3.1") == 0) ci->eku_server = true;
		if (strcmp(e->oid, "1.3.6.1.5.5.7.3.2") == 0) ci->eku_client = true;
		if (strcmp(e->oid, "1.3.6.1.5.5.8.2.2") == 0) ci->eku_ike = true;
		if (strcmp(e->oid, "2.5.29.37.0") == 0) ci->eku_anyext = true;
		ci->neku++;
	}
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	uint32_t flags = X509_get_extension_flags(x);
	ci->ku_present = (flags & EXFLAG_KUSAGE) != 0;
	ci->ku = ci->ku_present ? X509_get_key_usage(x) : 0;
	ci->is_ca = (flags & EXFLAG_CA) != 0;
	ci->ku_text[0] = 0;
	for (size_t k = 0; ku_names[k].name; k++)
		if (ci->ku & ku_names[k].bit) {
			size_t l = strlen(ci->ku_text);
			snprintf(ci->ku_text + l, sizeof ci->ku_text - l, "%s%s", l ? ", " : "",
			         ku_names[k].name);
		}
	ERR_clear_error();
}

/* Leaf validity is judged separately (expired / not-yet-valid), so the chain check
 * ignores it and reports only what is wrong above the leaf. */
static int chain_cb(int ok, X509_STORE_CTX *ctx)
{
	if (ok)
		return ok;
	int e = X509_STORE_CTX_get_error(ctx);
	if (X509_STORE_CTX_get_error_depth(ctx) == 0 &&
	    (e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID))
		return 1;
	return ok;
}

struct chain_result {
	bool ok;
	char *root;              /* subject of the top of the chain found */
	X509 *top;               /* that certificate (a reference) */
	char error[256];
	char **names;            /* subjects of every CA in the chain */
	size_t nnames;
};

static void chain_result_free(struct chain_result *r)
{
	free(r->root);
	X509_free(r->top);
	for (size_t i = 0; i < r->nnames; i++) free(r->names[i]);
	free(r->names);
	memset(r, 0, sizeof *r);
}

/* Build and verify the chain of `x` to `anchors` at time `at` with `untrusted` helpers.
 * `partial`: any certificate of `anchors` may end the chain (not only self-signed ones). */
static void build_chain(X509 *x, STACK_OF(X509) *anchors, STACK_OF(X509) *untrusted,
                        int64_t at, bool partial, struct chain_result *r)
{
	memset(r, 0, sizeof *r);
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (!st || !ctx) {
		snprintf(r->error, sizeof r->error, "out of memory");
		goto out;
	}
	for (int i = 0; anchors && i < sk_X509_num(anchors); i++)
		X509_STORE_add_cert(st, sk_X509_value(anchors, i));
	ERR_clear_error();
	if (!X509_STORE_CTX_init(ctx, st, x, untrusted)) {
		snprintf(r->error, sizeof r->error, "cannot set up chain building");
		goto out;
	}
	X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(vp, (time_t)at);
	if (partial)
		X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
	X509_STORE_CTX_set_verify_cb(ctx, chain_cb);
	int ok = X509_verify_cert(ctx);
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	int n = chain ? sk_X509_num(chain) : 0;
	if (n > 0) {
		r->names = calloc((size_t)n, sizeof *r->names);
		for (int i = 0; r->names && i < n; i++) {
			X509 *c = sk_X509_value(chain, i);
			if (i == 0) {
				r->names[r->nnames] = name_str(X509_get_issuer_name(c));
			} else {
				r->names[r->nnames] = name_str(X509_get_subject_name(c));
			}
			if (r->names[r->nnames])
				r->nnames++;
		}
		X509 *top = sk_X509_value(chain, n - 1);
		if (n > 1 || ok > 0) {
			r->root = name_str(X509_get_subject_name(top));
			if (X509_up_ref(top))
				r->top = top;
		}
	}
	if (ok > 0) {
		r->ok = true;
	} else {
		int e = X509_STORE_CTX_get_error(ctx);
		int depth = X509_STORE_CTX_get_error_depth(ctx);
		X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
		char *who = cur ? name_str(X509_get_subject_name(cur)) : NULL;
		if (depth > 0 && who)
			snprintf(r->error, sizeof r->error, "%s (at %s)",
			         X509_verify_cert_error_string(e), who);
		else
			snprintf(r->error, sizeof r->error, "%s", X509_verify_cert_error_string(e));
		free(who);
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
}

static void inspect(struct cert_info *ci, const struct cert_store *s, const struct cert_entry *e,
                    int64_t at)
{
	X509 *x = e->x509;
	ci->entry = e;
	cert_entry_name(e, ci->name, sizeof ci->name);
	inspect_names(ci, x);
	ci->not_before = asn1_epoch(X509_get0_notBefore(x));
	ci->not_after = asn1_epoch(X509_get0_notAfter(x));
	ci->expired = at > ci->not_after;
	ci->not_yet_valid = at < ci->not_before;
	inspect_key(ci, x);
	ci->has_key = e->key != NULL;
	inspect_usage(ci, x);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (X509_digest(x, EVP_sha1(), md, &mdlen) && mdlen == 20) {
		static const char hx[] = "0123456789ABCDEF";
		for (unsigned i = 0; i < 20; i++) {
			ci->thumbprint[2 * i] = hx[md[i] >> 4];
			ci->thumbprint[2 * i + 1] = hx[md[i] & 15];
		}
		ci->thumbprint[40] = 0;
	}
	struct chain_result r;
	build_chain(x, s->roots, s->intermediates, at, false, &r);
	ci->chain_ok = r.ok;
	snprintf(ci->chain_error, sizeof ci->chain_error, "%s", r.error);
	if (r.root)
		ci->chain_root = strdup(r.root);
	if (r.top)
		ci->chain_root_win = cert_name_windows(X509_get_subject_name(r.top));
	if (r.ok && r.top) {
		for (int i = 0; i < sk_X509_num(s->roots); i++)
			if (X509_cmp(sk_X509_value(s->roots, i), r.top) == 0 && s->root_files &&
			    s->root_files[i]) {
				ci->chain_root_file = strdup(s->root_files[i]);
				break;
			}
	}
	ci->chain_names = r.names;
	ci->nchain_names = r.nnames;
	r.names = NULL;
	r.nnames = 0;
	chain_result_free(&r);
	ERR_clear_error();
}

static void info_free(struct cert_info *ci)
{
	free(ci->subject);
	free(ci->issuer);
	free(ci->cn);
	for (size_t i = 0; i < ci->nsan; i++) free(ci->san[i]);
	free(ci->chain_root);
	free(ci->chain_root_file);
	free(ci->chain_root_win);
	for (size_t i = 0; i < ci->nchain_names; i++) free(ci->chain_names[i]);
	free(ci->chain_names);
}

/* ---- qualification ------------------------------------------------------------ */

static void eku_list(const struct cert_info *ci, char *buf, size_t bufsz)
{
	buf[0] = 0;
	for (size_t i = 0; i < ci->neku; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, bufsz - l, "%s%s", i ? ", " : "",
		         ci->eku[i].name ? ci->eku[i].name : ci->eku[i].oid);
	}
	if (!buf[0])
		snprintf(buf, bufsz, "an empty list");
}

/* What the client requires: for L2TP any computer-authentication usage, for IKEv2, SSTP
 * and IP-HTTPS Server Authentication. */
static bool eku_fits(const struct cert_info *ci, enum cert_purpose p)
{
	if (!ci->eku_present || ci->eku_anyext)
		return true;
	if (p == CERT_PURPOSE_L2TP)
		return ci->eku_server || ci->eku_client || ci->eku_ike;
	return ci->eku_server;
}

/* What the server takes. For IPsec (L2TP and IKEv2) it authenticates with a computer
 * certificate and does not itself insist on Server Authentication: IKEv2 clients report
 * a certificate without it (13801, 0x80070040), so the server did send one. */
static bool eku_fits_server(const struct cert_info *ci, enum cert_purpose p)
{
	return eku_fits(ci, p == CERT_PURPOSE_IKEV2 ? CERT_PURPOSE_L2TP : p);
}

/* Base qualification: the reasons a server would pass this certificate over. */
static void qualify(struct cert_info *ci, enum cert_purpose p)
{
	char t1[40], t2[40], ek[400];
	ci->nreasons = 0;
	if (!ci->has_key)
		add_reason(ci->reasons, &ci->nreasons, CERT_MAX_REASONS, "no-private-key",
		           "no private key in the store matches its public key");
	if (ci->expired) {
		cert_format_time(ci->not_after, t1, sizeof t1);
		add_reason(ci->reasons, &ci->nreasons, CERT_MAX_REASONS, "expired", "expired on %s",
		           t1);
	}
	if (ci->not_yet_valid) {
		cert_format_time(ci->not_before, t2, sizeof t2);
		add_reason(ci->reasons, &ci->nreasons, CERT_MAX_REASONS, "not-yet-valid",
		           "not valid before %s", t2);
	}
	if (!eku_fits_server(ci, p)) {
		eku_list(ci, ek, sizeof ek);
		if (p == CERT_PURPOSE_L2TP || p == CERT_PURPOSE_IKEV2)
			add_reason(ci->reasons, &ci->nreasons, CERT_MAX_REASONS, "eku",
			           "its enhanced key usage (%s) has none of Server Authentication, "
			           "Client Authentication or IP security IKE intermediate", ek);
		else
			add_reason(ci->reasons, &ci->nreasons, CERT_MAX_REASONS, "eku",
			           "its enhanced key usage (%s) lacks Server Authentication "
			           "(1.3.6.1.5.5.7.3.1)", ek);
	}
	if (ci->ku_present) {
		bool ok = (ci->ku & X509v3_KU_DIGITAL_SIGNATURE) != 0;
		if ((p == CERT_PURPOSE_SSTP || p == CERT_PURPOSE_IPHTTPS) &&
		    (ci->ku & X509v3_KU_KEY_ENCIPHERMENT))
			ok = true;
		if (!ok)
			add_reason(ci->reasons, &ci->nreasons, CERT_MAX_REASONS, "key-usage",
			           "its key usage (%s) does not allow signing with the key",
			           ci->ku_text[0] ? ci->ku_text : "none");
	}
	if (!ci->chain_ok)
		add_reason(ci->reasons, &ci->nreasons, CERT_MAX_REASONS, "no-chain",
		           "no chain to a root CA of the server's store: %s", ci->chain_error);
	ci->qualifies = ci->nreasons == 0;
}

/* ---- the clients' view -------------------------------------------------------- */

static bool host_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la && a[la - 1] == '.') la--;
	if (lb && b[lb - 1] == '.') lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* "*.contoso.com" matches "vpn.contoso.com" (one label, left-most only). */
static bool wildcard_eq(const char *pat, const char *name)
{
	if (strncmp(pat, "*.", 2) != 0)
		return false;
	const char *dot = strchr(name, '.');
	return dot && dot != name && host_eq(pat + 2, dot + 1) && strchr(pat + 2, '*') == NULL;
}

bool cert_name_matches(const struct cert_info *ci, const char *name, bool *wildcard_only)
{
	bool exact = false, wild = false;
	bool have_dns = false;
	for (size_t i = 0; i < ci->nsan; i++) {
		const char *s = ci->san[i];
		if (strncmp(s, "DNS:", 4) == 0) {
			have_dns = true;
			if (host_eq(s + 4, name)) exact = true;
			else if (wildcard_eq(s + 4, name)) wild = true;
		} else if (strncmp(s, "IP:", 3) == 0 && strcmp(s + 3, name) == 0) {
			exact = true;
		}
	}
	/* Without DNS names in the SAN, the subject's CN is the name. */
	if (!have_dns && ci->cn) {
		if (host_eq(ci->cn, name)) exact = true;
		else if (wildcard_eq(ci->cn, name)) wild = true;
	}
	if (wildcard_only)
		*wildcard_only = !exact && wild;
	return exact || wild;
}

static const struct {
	int64_t code;
	const char *name, *text;
} win_errors[] = {
	{787, "ERROR_OAKLEY_AUTH_FAIL",
	 "The L2TP connection attempt failed because the security layer could not authenticate "
	 "the remote computer."},
	{835, "ERROR_INVALID_SERVER_CERT",
	 "The L2TP connection attempt failed because the server certificate could not be "
	 "validated as belonging to the destination."},
	{766, "ERROR_NO_CERTIFICATE",
	 "A certificate could not be found. Connections that use L2TP over IPsec need a "
	 "computer certificate."},
	{786, "ERROR_OAKLEY_NO_CERT",
	 "The L2TP connection attempt failed because there is no valid machine certificate on "
	 "your computer for security authentication."},
	{13801, "ERROR_IPSEC_IKE_AUTH_FAIL", "IKE authentication credentials are unacceptable."},
	{13806, "ERROR_IPSEC_IKE_NO_CERT", "IKE failed to find a valid machine certificate."},
	{0x800B0109LL, "CERT_E_UNTRUSTEDROOT",
	 "A certificate chain processed, but terminated in a root certificate which is not "
	 "trusted by the trust provider."},
	{0x800B010FLL, "CERT_E_CN_NO_MATCH",
	 "The certificate's CN name does not match the passed value."},
	{0, NULL, NULL},
};

static void set_error(struct cert_client_view *v, int64_t code)
{
	if (v->error)
		return; /* the first cause decides the code */
	v->error = code;
	for (size_t i = 0; win_errors[i].name; i++)
		if (win_errors[i].code == code) {
			v->error_name = win_errors[i].name;
			v->error_text = win_errors[i].text;
		}
}

static bool names_contain(char **names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return true;
	return false;
}

void cert_client_view_free(struct cert_client_view *v)
{
	free(v->anchor);
	memset(v, 0, sizeof *v);
}

void cert_client_check(const struct cert_pick *p, size_t idx, struct cert_client_view *v)
{
	const struct cert_info *ci = &p->info[idx];
	const struct cert_pick_opts *o = &p->opts;
	STACK_OF(X509) *anchors = o->client_cas ? o->client_cas : p->store->roots;
	enum cert_purpose pur = o->purpose;
	bool ipsec = pur == CERT_PURPOSE_L2TP || pur == CERT_PURPOSE_IKEV2;
	memset(v, 0, sizeof *v);
	v->trust_assumed = o->client_cas == NULL;
	v->wildcard = ci->wildcard;

	struct chain_result r;
	build_chain(ci->entry->x509, anchors, p->store->intermediates, o->at, true, &r);
	v->trusted = r.ok;
	if (r.ok && r.root)
		v->anchor = strdup(r.root);
	/* Is any of the clients' CAs in the certificate's chain (as the server builds it,
	 * or as far as the clients could build it)? */
	bool shared = false;
	for (int i = 0; anchors && i < sk_X509_num(anchors) && !shared; i++) {
		char *an = name_str(X509_get_subject_name(sk_X509_value(anchors, i)));
		if (an && (names_contain(ci->chain_names, ci->nchain_names, an) ||
		           names_contain(r.names, r.nnames, an) || (ci->issuer && strcmp(an, ci->issuer) == 0)))
			shared = true;
		free(an);
	}
	v->ca_differs = !shared;

	const char *who = v->trust_assumed ? "the server's own roots (no --client-ca given)"
	                                   : o->client_ca_source;
	if (ci->wildcard && pur == CERT_PURPOSE_L2TP) {
		add_reason(v->reasons, &v->nreasons, CERT_MAX_REASONS, "wildcard",
		           "it is a wildcard certificate (%s%s%s); L2TP/IPsec clients do not "
		           "authenticate a server by a wildcard certificate",
		           ci->wildcard_cn ? "CN=" : "", ci->wildcard_cn ? ci->cn : "",
		           ci->wildcard_cn ? "" : "in the subject alternative name");
		set_error(v, 787);
	}
	if (v->ca_differs) {
		add_reason(v->reasons, &v->nreasons, CERT_MAX_REASONS, "other-ca",
		           "it was issued by %s, and none of the CAs in its chain is one the "
		           "clients trust (%s)", ci->issuer, who);
		set_error(v, ipsec ? (pur == CERT_PURPOSE_L2TP ? 787 : 13801) : 0x800B0109LL);
	} else if (!r.ok) {
		add_reason(v->reasons, &v->nreasons, CERT_MAX_REASONS, "untrusted",
		           "the clients cannot verify its chain to a CA they trust (%s): %s", who,
		           r.error);
		set_error(v, ipsec ? (pur == CERT_PURPOSE_L2TP ? 787 : 13801) : 0x800B0109LL);
	}
	if (ci->expired || ci->not_yet_valid) {
		add_reason(v->reasons, &v->nreasons, CERT_MAX_REASONS,
		           ci->expired ? "expired" : "not-yet-valid", "it is %s",
		           ci->expired ? "expired" : "not yet valid");
		set_error(v, pur == CERT_PURPOSE_L2TP ? 787 : pur == CERT_PURPOSE_IKEV2 ? 13801 : 0);
	}
	if (pur == CERT_PURPOSE_IKEV2 && !eku_fits(ci, pur)) {
		add_reason(v->reasons, &v->nreasons, CERT_MAX_REASONS, "eku",
		           "it lacks the Server Authentication EKU the IKEv2 client requires");
		set_error(v, 13801);
	}
	if (o->server_name) {
		bool wonly = false;
		v->name_checked = true;
		v->name_matches = cert_name_matches(ci, o->server_name, &wonly);
		bool literal_needed = ipsec;
		if (!v->name_matches || (wonly && literal_needed)) {
			char what[120];
			snprintf(what, sizeof what, "%s",
			         wonly ? "only by a wildcard" : "with neither its subject CN nor a SAN");
			v->name_matches = false;
			if (pur == CERT_PURPOSE_L2TP) {
				add_reason(v->warnings, &v->nwarnings, 4, "name-mismatch",
				           "clients that verify the server's name reject it with error 835: "
				           "'%s' matches %s", o->server_name, what);
			} else {
				add_reason(v->reasons, &v->nreasons, CERT_MAX_REASONS, "name-mismatch",
				           "the name clients dial, '%s', matches %s", o->server_name, what);
				set_error(v, pur == CERT_PURPOSE_IKEV2 ? 13801 : 0x800B010FLL);
			}
		}
	}
	v->accepted = v->nreasons == 0;
	if (v->accepted) {
		v->error = 0;
		v->error_name = v->error_text = NULL;
	}
	chain_result_free(&r);
}

/* The client's computer store: the first certificate that is not a CA, has its private
 * key, is valid and has a usage for computer authentication (the L2TP set) is the one
 * the client authenticates with. Without one the client cannot start main mode: 766
 * when the store holds no computer certificate at all, 786 when none of them is usable
 * (inferred split of the two codes Microsoft lists for a missing machine certificate). */
static void machine_check(struct cert_pick *p)
{
	const struct cert_store *cs = p->opts.client_store;
	struct cert_machine *m = &p->machine;
	m->checked = true;
	m->usable = -1;
	m->info = calloc(cs->ncerts ? cs->ncerts : 1, sizeof *m->info);
	if (!m->info)
		return;
	m->n = cs->ncerts;
	size_t computer = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct cert_info *ci = &m->info[i];
		inspect(ci, cs, &cs->certs[i], p->opts.at);
		qualify(ci, CERT_PURPOSE_L2TP);
		if (ci->is_ca) {
			add_reason(ci->reasons, &ci->nreasons, CERT_MAX_REASONS, "ca",
			           "a CA certificate, not a computer certificate");
			ci->qualifies = false;
		} else {
			computer++;
		}
		if (ci->qualifies && m->usable < 0)
			m->usable = (int)i;
	}
	if (m->usable >= 0)
		return;
	struct cert_client_view *v = &p->client;
	if (v->nreasons == CERT_MAX_REASONS)
		v->nreasons--;
	memmove(&v->reasons[1], &v->reasons[0], v->nreasons * sizeof v->reasons[0]);
	v->nreasons++;
	v->reasons[0].code = "no-machine-cert";
	snprintf(v->reasons[0].text, sizeof v->reasons[0].text,
	         computer ? "the client's computer store holds no usable computer certificate "
	                    "(see above), so the client cannot start IKE main mode"
	                  : "the client's computer store holds no computer certificate, so the "
	                    "client cannot start IKE main mode");
	v->error = 0;
	set_error(v, computer ? 786 : 766);
	v->accepted = false;
}

/* ---- the fix ----------------------------------------------------------------------- */

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* "192.0.2.1" -> "192.0.2.1/32"; NULL when not an address (optionally with /prefix). */
static char *endpoint_cidr(const char *ep)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(ep, '/');
	size_t hl = slash ? (size_t)(slash - ep) : strlen(ep);
	if (hl == 0 || hl >= sizeof host)
		return NULL;
	memcpy(host, ep, hl);
	host[hl] = 0;
	unsigned char buf[16];
	int fam = inet_pton(AF_INET, host, buf) == 1 ? 4 : inet_pton(AF_INET6, host, buf) == 1 ? 6 : 0;
	if (!fam)
		return NULL;
	int max = fam == 4 ? 32 : 128, pfx = max;
	if (slash) {
		const char *q = slash + 1;
		if (!*q || strlen(q) > 3)
			return NULL;
		pfx = 0;
		for (; *q; q++) {
			if (!isdigit((unsigned char)*q))
				return NULL;
			pfx = pfx * 10 + (*q - '0');
		}
		if (pfx > max)
			return NULL;
	}
	return xasprintf("%s/%d", host, pfx);
}

bool cert_endpoint_valid(const char *ep)
{
	char *c = endpoint_cidr(ep);
	free(c);
	return c != NULL;
}

/* netsh wants quote characters inside auth1ca written as \' */
static char *netsh_ca(const char *name)
{
	size_t n = 0;
	for (const char *p = name; *p; p++) n += *p == '"' ? 2 : 1;
	char *o = malloc(n + 1), *q = o;
	if (!o)
		return NULL;
	for (const char *p = name; *p; p++) {
		if (*p == '"') { *q++ = '\\'; *q++ = '\''; }
		else *q++ = *p;
	}
	*q = 0;
	return o;
}

static void fix_add_cmd(struct cert_fix *f, char *cmd)
{
	if (cmd && f->ncmds < CERT_FIX_MAX_CMDS)
		f->cmds[f->ncmds++] = cmd;
	else
		free(cmd);
}

static void build_fix(struct cert_pick *p)
{
	struct cert_fix *f = &p->fix;
	enum cert_purpose pur = p->opts.purpose;
	memset(f, 0, sizeof *f);
	f->single = -1;
	p->has_fix = true;
	/* (a) a certificate the clients accept that serves the purpose, and for L2TP and
	 * IP-HTTPS both of them. */
	for (size_t i = 0; i < p->n && f->single < 0; i++) {
		struct cert_info *ci = &p->info[i];
		if (!ci->qualifies && !(pur == CERT_PURPOSE_IKEV2 && ci->nreasons == 1 &&
		                        strcmp(ci->reasons[0].code, "ike-intermediate") == 0))
			continue;
		if ((pur == CERT_PURPOSE_L2TP || pur == CERT_PURPOSE_IPHTTPS) &&
		    !(eku_fits(ci, CERT_PURPOSE_L2TP) && eku_fits(ci, CERT_PURPOSE_IPHTTPS)))
			continue;
		struct cert_client_view v;
		cert_client_check(p, i, &v);
		bool ok = v.accepted && !(pur == CERT_PURPOSE_L2TP && v.nwarnings);
		cert_client_view_free(&v);
		if (ok)
			f->single = (int)i;
	}
	f->remove = calloc(p->n ? p->n : 1, sizeof *f->remove);
	if (f->single >= 0) {
		struct cert_info *good = &p->info[f->single];
		/* everything before it that the server would take first */
		for (size_t i = 0; f->remove && i < (size_t)f->single; i++)
			if (p->info[i].qualifies)
				f->remove[f->nremove++] = i;
		char rm[1200] = "";
		for (size_t k = 0; k < f->nremove; k++) {
			size_t l = strlen(rm);
			snprintf(rm + l, sizeof rm - l, "%s%s (%s)", k ? ", " : "",
			         p->info[f->remove[k]].name, p->info[f->remove[k]].subject);
		}
		const char *both = pur == CERT_PURPOSE_L2TP || pur == CERT_PURPOSE_IPHTTPS
		                   ? "for both IP-HTTPS and L2TP" : "for IKEv2";
		if ((pur == CERT_PURPOSE_SSTP || pur == CERT_PURPOSE_IPHTTPS) &&
		    (int)f->single != p->picked)
			f->advice = xasprintf("Bind %s explicitly to %s (%s, thumbprint %s), which the "
			                      "clients accept, instead of leaving the choice to the "
			                      "server; or remove from the computer store the "
			                      "certificates it would take before it: %s.",
			                      cert_purpose_title(pur), good->name, good->subject,
			                      good->thumbprint, rm);
		else if (pur == CERT_PURPOSE_SSTP)
			f->advice = xasprintf("%s (%s, thumbprint %s) is already the pick and the clients "
			                      "accept it; bind SSTP to it explicitly so a new certificate "
			                      "cannot change that.", good->name, good->subject,
			                      good->thumbprint);
		else if (pur == CERT_PURPOSE_IKEV2 && (int)f->single != p->picked)
			f->advice = xasprintf("Use %s (%s, thumbprint %s) %s: re-issue it with the IP "
			                      "security IKE intermediate EKU (1.3.6.1.5.5.8.2.2) next to "
			                      "Server Authentication; IPsec then uses only certificates "
			                      "that carry both.", good->name, good->subject,
			                      good->thumbprint, both);
		else if (f->nremove)
			f->advice = xasprintf("Use %s (%s, thumbprint %s) %s. Remove from the computer "
			                      "store, or re-issue from the clients' CA without a wildcard, "
			                      "the certificates the server takes before it: %s. Bind "
			                      "IP-HTTPS/SSTP to %s afterwards.", good->name, good->subject,
			                      good->thumbprint, both, rm, good->name);
		else if ((int)f->single == p->picked)
			f->advice = xasprintf("%s (%s, thumbprint %s) is already the pick and the clients "
			                      "accept it; use it %s.", good->name, good->subject,
			                      good->thumbprint, both);
		else
			f->advice = xasprintf("Use %s (%s, thumbprint %s) %s.", good->name,
			                      good->subject, good->thumbprint, both);
	} else {
		const char *name = p->opts.server_name ? p->opts.server_name : "the name clients dial";
		const char *ca = p->opts.client_cas ? "the CA the clients trust" : "the clients' CA";
		char rm[1200] = "";
		size_t nrm = 0;
		for (size_t i = 0; f->remove && i < p->n; i++)
			if (p->info[i].qualifies) {
				size_t l = strlen(rm);
				snprintf(rm + l, sizeof rm - l, "%s%s", nrm ? ", " : "", p->info[i].name);
				f->remove[f->nremove++] = i;
				nrm++;
			}
		f->advice = xasprintf("No certificate in the store serves %s and is accepted by the "
		                      "clients. Re-issue one from %s with subject and DNS name %s (no "
		                      "wildcard), Server Authentication and Client Authentication EKUs "
		                      "(and IP security IKE intermediate for IKEv2), and its private key "
		                      "in the computer store%s%s.",
		                      pur == CERT_PURPOSE_L2TP ? "both IP-HTTPS and L2TP"
		                                               : cert_purpose_title(pur),
		                      ca, name, nrm ? "; then remove or replace " : "", rm);
	}
	if (pur != CERT_PURPOSE_L2TP)
		return;
	/* (b) stop the automatic L2TP policy and add a manual rule bound to the clients' CA. */
	if (f->single >= 0 && p->info[f->single].chain_root_win) {
		f->ca_name = strdup(p->info[f->single].chain_root_win);
		f->ca_from = xasprintf("the root CA of %s", p->info[f->single].name);
	} else if (p->opts.client_cas && sk_X509_num(p->opts.client_cas) > 0) {
		f->ca_name = cert_name_windows(
			X509_get_subject_name(sk_X509_value(p->opts.client_cas, 0)));
		f->ca_from = xasprintf("the first CA of %s", p->opts.client_ca_source);
	}
	char *cidr = p->opts.endpoint ? endpoint_cidr(p->opts.endpoint) : NULL;
	if (!f->ca_name) {
		f->note = strdup("The manual rule needs the clients' CA: give --client-ca.");
	} else if (!cidr) {
		f->note = strdup("The manual rule needs the server's address: give --endpoint ADDR.");
	} else {
		char *ca = netsh_ca(f->ca_name);
		fix_add_cmd(f, strdup("reg add HKLM\\System\\CurrentControlSet\\Services\\Rasman\\"
		                      "Parameters /v ProhibitIpSec /t REG_DWORD /d 1 /f"));
		fix_add_cmd(f, xasprintf(
			"netsh advfirewall consec add rule name=\"L2TP Manual Rule\" "
			"description=\"L2TP Manual Rule\" enable=yes profile=private,public type=dynamic "
			"mode=transport interfacetype=any endpoint1=any endpoint2=%s port1=any port2=1701 "
			"protocol=udp action=requireinrequireout auth1=computercert auth1ca=\"%s\" "
			"qmpfs=none qmsecmethods=esp:sha1-none+60min+100000kb,"
			"esp:sha1-aes128+60min+100000kb,esp:sha1-3des+60min+100000kb,"
			"ah:sha1+60min+100000kb", cidr, ca ? ca : f->ca_name));
		fix_add_cmd(f, strdup("netsh advfirewall set global mainmode mmsecmethods "
		                      "dhgroup2:aes128-sha256,dhgroup2:aes128-sha1,dhgroup2:3des-sha1"));
		fix_add_cmd(f, strdup("netsh advfirewall set global mainmode mmkeylifetime "
		                      "480min,0sess"));
		fix_add_cmd(f, strdup("net stop RemoteAccess && net start RemoteAccess"));
		free(ca);
	}
	free(cidr);
}

static void fix_free(struct cert_fix *f)
{
	free(f->remove);
	free(f->advice);
	free(f->ca_name);
	free(f->ca_from);
	for (size_t i = 0; i < f->ncmds; i++) free(f->cmds[i]);
	free(f->note);
	memset(f, 0, sizeof *f);
}

/* ---- the pick ------------------------------------------------------------------------ */

int cert_pick_run(const struct cert_store *s, const struct cert_pick_opts *opts,
                  struct cert_pick *out, struct diag_err *err)
{
	memset(out, 0, sizeof *out);
	out->opts = *opts;
	out->store = s;
	out->picked = -1;
	out->info = calloc(s->ncerts ? s->ncerts : 1, sizeof *out->info);
	if (!out->info) {
		diag_err_set(err, 0, "out of memory");
		return -1;
	}
	out->n = s->ncerts;
	for (size_t i = 0; i < s->ncerts; i++) {
		inspect(&out->info[i], s, &s->certs[i], opts->at);
		qualify(&out->info[i], opts->purpose);
	}
	/* IKEv2: when a qualifying certificate carries IP security IKE intermediate, IPsec
	 * uses only certificates that carry it. */
	if (opts->purpose == CERT_PURPOSE_IKEV2) {
		bool any_ike = false;
		for (size_t i = 0; i < out->n; i++)
			if (out->info[i].qualifies && out->info[i].eku_ike)
				any_ike = true;
		for (size_t i = 0; any_ike && i < out->n; i++) {
			struct cert_info *ci = &out->info[i];
			if (ci->qualifies && !ci->eku_ike) {
				add_reason(ci->reasons, &ci->nreasons, CERT_MAX_REASONS, "ike-intermediate",
				           "another certificate carries IP security IKE intermediate, so "
				           "IPsec uses only certificates with that EKU and this one has not");
				ci->qualifies = false;
			}
		}
	}
	for (size_t i = 0; i < out->n; i++)
		if (out->info[i].qualifies) {
			if (out->picked < 0)
				out->picked = (int)i;
			out->qualifying++;
		}
	out->order_decides = out->qualifying > 1;
	if (out->picked >= 0) {
		cert_client_check(out, (size_t)out->picked, &out->client);
		for (size_t i = (size_t)out->picked + 1; i < out->n; i++) {
			if (!out->info[i].qualifies)
				continue;
			struct cert_client_view v;
			cert_client_check(out, i, &v);
			if (v.accepted != out->client.accepted)
				out->order_changes_outcome = true;
			cert_client_view_free(&v);
		}
	} else {
		struct cert_client_view *v = &out->client;
		v->trust_assumed = opts->client_cas == NULL;
		if (opts->purpose == CERT_PURPOSE_L2TP)
			add_reason(v->reasons, &v->nreasons, CERT_MAX_REASONS, "no-certificate",
			           "no certificate in the store qualifies for L2TP/IPsec, so the server "
			           "cannot authenticate itself in IKE main mode (inferred: clients "
			           "report 787, some 789)");
		else if (opts->purpose == CERT_PURPOSE_IKEV2)
			add_reason(v->reasons, &v->nreasons, CERT_MAX_REASONS, "no-certificate",
			           "no certificate in the store qualifies for IKEv2: the server has no "
			           "valid machine certificate");
		else
			add_reason(v->reasons, &v->nreasons, CERT_MAX_REASONS, "no-certificate",
			           "no certificate in the store qualifies for %s, so the server cannot "
			           "offer TLS", cert_purpose_title(opts->purpose));
		if (opts->purpose == CERT_PURPOSE_IKEV2)
			set_error(v, 13806);
		else if (opts->purpose == CERT_PURPOSE_L2TP)
			set_error(v, 787);
	}
	if (opts->client_store && opts->purpose == CERT_PURPOSE_L2TP)
		machine_check(out);
	if (opts->fix)
		build_fix(out);
	ERR_clear_error();
	return 0;
}

void cert_pick_free(struct cert_pick *p)
{
	for (size_t i = 0; i < p->n; i++)
		info_free(&p->info[i]);
	free(p->info);
	for (size_t i = 0; i < p->machine.n; i++)
		info_free(&p->machine.info[i]);
	free(p->machine.info);
	cert_client_view_free(&p->client);
	if (p->has_fix)
		fix_free(&p->fix);
	memset(p, 0, sizeof *p);
}

/* ---- facts ------------------------------------------------------------------------------ */

void cert_pick_facts(const struct cert_pick *p, struct facts *f)
{
	const struct cert_store *s = p->store;
	char path[1400];
	struct evidence store_ev = ev_file(s->dir);
	facts_add_str(f, "source", "cert", NULL);
	facts_add_str(f, "cert.purpose", cert_purpose_name(p->opts.purpose), NULL);
	facts_add_int(f, "cert.store.count", (int64_t)p->n, &store_ev);
	facts_add_int(f, "cert.qualifying", (int64_t)p->qualifying, &store_ev);
	facts_add_bool(f, "cert.order_decides", p->order_decides, &store_ev);
	size_t upto = p->picked >= 0 ? (size_t)p->picked : p->n;
	for (size_t i = 0; i < upto; i++) {
		const struct cert_info *ci = &p->info[i];
		snprintf(path, sizeof path, "%s/%s", s->dir, ci->entry->file);
		struct evidence ev = ev_file(path);
		for (size_t k = 0; k < ci->nreasons; k++) {
			bool dup = false;
			for (size_t j = 0; j < k; j++)
				if (strcmp(ci->reasons[j].code, ci->reasons[k].code) == 0)
					dup = true;
			if (!dup)
				facts_add_str(f, "cert.skipped.reason", ci->reasons[k].code, &ev);
		}
	}
	if (p->picked >= 0) {
		const struct cert_info *ci = &p->info[p->picked];
		snprintf(path, sizeof path, "%s/%s", s->dir, ci->entry->file);
		struct evidence ev = ev_file(path);
		facts_add_str(f, "cert.picked", ci->name, &ev);
		facts_add_bool(f, "cert.picked.wildcard", ci->wildcard, &ev);
		facts_add_bool(f, "cert.picked.trusted_by_client", p->client.trusted, &ev);
		if (p->client.name_checked)
			facts_add_bool(f, "cert.picked.name_matches", p->client.name_matches, &ev);
		if (!ci->eku_present || ci->eku_anyext)
			facts_add_str(f, "cert.picked.eku", "any", &ev);
		if (ci->eku_server) facts_add_str(f, "cert.picked.eku", "server-auth", &ev);
		if (ci->eku_client) facts_add_str(f, "cert.picked.eku", "client-auth", &ev);
		if (ci->eku_ike) facts_add_str(f, "cert.picked.eku", "ike-intermediate", &ev);
		facts_add_bool(f, "cert.picked.ca_differs", p->client.ca_differs, &ev);
	}
	if (p->machine.checked) {
		struct evidence mev = ev_file(p->opts.client_store->dir);
		if (p->machine.usable >= 0)
			facts_add_str(f, "cert.client.machine_cert",
			              p->machine.info[p->machine.usable].name, &mev);
		facts_add_int(f, "cert.client.machine_certs", (int64_t)p->machine.n, &mev);
	}
	facts_add_bool(f, "cert.client.accepted", p->client.accepted, NULL);
	if (!p->client.accepted && p->client.error)
		facts_add_int(f, "cert.client.error", p->client.error, NULL);
}
