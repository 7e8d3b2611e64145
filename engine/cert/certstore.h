/* A machine certificate store read from a directory, the way vnet models the server's
 * "Local Computer \ Personal" store and the CA stores next to it.
 *
 * Layout (documented in docs/cert.md):
 *   DIR: .pem .crt .cer .der .key .p12 .pfx files  the personal store: certificates,
 *                                                   private keys, PKCS#12 bundles
 *   DIR/roots/ (or root/)                           trusted root CAs of the server
 *   DIR/intermediates/ (or intermediate/, ca/)      intermediate CAs of the server
 *   DIR/store.order                                 optional: the store order
 *
 * Store order decides the pick. It is the order of the file names listed in store.order
 * (one per line, '#' comments), followed by every other file in byte-wise name order;
 * inside a file, certificates keep their order. A certificate has a private key when a
 * key anywhere in the personal store (a key file, a PEM block, a PKCS#12 bundle) matches
 * its public key.
 *
 * Files are read with OpenSSL. A file that cannot be read or parsed is recorded as a
 * problem (file name and OpenSSL's reason) and skipped; it never stops the load. Only
 * regular files are read: a FIFO, socket or device under a certificate name is opened
 * without blocking, recorded as a problem and skipped. A problem caused by a password
 * (a PKCS#12 bundle or encrypted key that the password given, or its absence, does not
 * open) is marked as such: the caller treats it as an input error, since the store would
 * otherwise be judged without a certificate or key the server has.
 * PKCS#12 passwords are used to decrypt and never stored in messages.
 *
 * Every file name of a directory is read before the names are sorted, so the order
 * never depends on how the file system lists them. A directory with more than
 * CERTSTORE_MAX_FILES certificate files is an error, not a partial store.
 */
#ifndef VNET_CERTSTORE_H
#define VNET_CERTSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/x509.h>
#include <openssl/evp.h>
#include "diag.h"

#define CERTSTORE_MAX_FILES 65536    /* certificate files per directory (more: an error) */
#define CERTSTORE_MAX_ENTRIES (1u << 22) /* directory entries of any kind looked at */
#define CERTSTORE_MAX_FILE_SIZE (1u << 20)
#define CERTSTORE_MAX_PER_FILE 64    /* certificates or keys taken from one file */
#define CERTSTORE_MAX_CERTS 1024     /* certificates in the personal store */
#define CERTSTORE_MAX_KEYS 4096      /* private keys in the personal store */

struct cert_entry {
	char *file;      /* file name relative to the store directory */
	int index;       /* 1-based position inside the file */
	int nfile;       /* certificates the file holds (index is shown when > 1) */
	X509 *x509;
	EVP_PKEY *key;   /* matching private key (a reference), or NULL */
	char *key_file;  /* where that key came from, or NULL */
};

struct cert_problem {
	char *file;
	char *reason;
	bool password;   /* a password problem: the bundle or key was not opened */
};

struct cert_key {
	EVP_PKEY *pkey;
	char *file;
};

struct cert_store {
	char *dir;
	bool has_order_file;
	struct cert_entry *certs;       /* personal store, in store order */
	size_t ncerts;
	struct cert_key *keys;          /* private keys found in the personal store */
	size_t nkeys;
	STACK_OF(X509) *roots;          /* roots/ */
	STACK_OF(X509) *intermediates;  /* intermediates/ and CA certificates of bundles */
	char **root_files;              /* file of each root, parallel to `roots` */
	struct cert_problem *problems;
	size_t nproblems;
};

/* Load DIR. `pass` is the PKCS#12 / encrypted key password (NULL: none; bundles without
 * a password still load). Returns NULL with `err` set only when DIR itself cannot be
 * read or holds more than CERTSTORE_MAX_FILES certificate files ("cannot read the store
 * directory: why"), or when its roots/ or intermediates/ cannot ("DIR/roots: why", the
 * path in front); problems with single files are in store->problems. */
struct cert_store *certstore_load(const char *dir, const char *pass, struct diag_err *err);
void certstore_free(struct cert_store *s);

/* CA certificates from a FILE (PEM with any number of certificates, DER, PKCS#12) or from
 * every certificate file of a DIR. Returns a stack (possibly empty) or NULL with `err` set
 * when the path cannot be read, is neither a regular file nor a directory, or is a
 * directory past CERTSTORE_MAX_FILES; per-file problems are appended to the array
 * `*problems` of `*nproblems` entries (free each with the store's problems, see
 * certstore_free). */
STACK_OF(X509) *certstore_load_cas(const char *path, const char *pass,
                                   struct cert_problem **problems, size_t *nproblems,
                                   struct diag_err *err);

/* What one file holds. */
struct cert_parsed {
	X509 *certs[CERTSTORE_MAX_PER_FILE];   /* end certificates, in file order */
	size_t ncerts;
	EVP_PKEY *keys[CERTSTORE_MAX_PER_FILE];
	size_t nkeys;
	X509 *cas[CERTSTORE_MAX_PER_FILE];     /* CA certificates carried by a PKCS#12 bundle */
	size_t ncas;
};

/* Parse one in-memory file as the store does (also used by tests and the fuzzer). The
 * name's extension decides which binary format is tried first. Returns 0 with `out`
 * filled (the caller frees it with cert_parsed_free), or -1 with the reason in `err`
 * and `out` empty, or -2 likewise when the reason is the password (a PKCS#12 MAC that
 * does not verify, an encrypted key that does not decrypt or that has no password). */
int certstore_parse_buf(const char *name, const unsigned char *buf, size_t len,
                        const char *pass, struct cert_parsed *out, struct diag_err *err);
void cert_parsed_free(struct cert_parsed *p);

/* A copy of `s` that is valid UTF-8 without control characters: anything else becomes
 * \xNN. For text that came from files or certificates and goes to output or JSON. */
char *cert_safe_text(const char *s);

/* "file" or "file#2" when the file holds several certificates. */
const char *cert_entry_name(const struct cert_entry *e, char *buf, size_t bufsz);

#endif
