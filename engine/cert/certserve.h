/* The machine certificate a server presents in IKE, chosen the way `vnet cert pick`
 * chooses it.
 *
 * cert_server_load loads a store directory (certstore.h) and runs cert_pick_run
 * (certpick.h) for the purpose, the same call the command makes; no other selection
 * logic exists. The result is what the IKE responder needs (engine/ike/ikev1.h: the
 * certificate, its private key, the CA certificates sent after it, the CAs a client's
 * computer certificate must chain to) and what the pick says of it from the clients'
 * side, in one line for the server's log:
 *
 *   presenting CN=*.contoso.com,O=Contoso,C=US (01-iphttps.pem, thumbprint 3A...) for
 *   L2TP/IPsec; cert pick says clients will fail with 787: it is a wildcard certificate
 *   ...; it was issued by ..., and none of the CAs in its chain is one the clients trust
 *
 * A server presents its pick even when the clients will refuse it: that is what the
 * server being modelled does, and the verdict says what follows.
 */
#ifndef VNET_CERTSERVE_H
#define VNET_CERTSERVE_H

#include <stdbool.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "cert/certpick.h"
#include "diag.h"

struct cert_server_opts {
	const char *store;           /* the store directory (required) */
	const char *pass;            /* PKCS#12 / encrypted key password, or NULL */
	enum cert_purpose purpose;   /* CERT_PURPOSE_L2TP for the IKEv1 responder */
	/* The CAs the clients trust (a file or directory of CA certificates), for the
	 * verdict; NULL: the store's roots/ stand in, as `cert pick` without --client-ca. */
	const char *client_ca;
	/* The CAs the clients' own computer certificates must chain to; NULL: the store's
	 * roots/ and intermediates/ (the server's trusted CAs). */
	const char *trust_ca;
	const char *server_name;     /* the name clients dial, or NULL (as --server-name) */
	int64_t at;                  /* when to judge validity (seconds since 1970); 0: now */
};

struct cert_server {
	X509 *cert;                  /* the pick (a reference of its own) */
	EVP_PKEY *key;               /* its private key from the store (a reference) */
	STACK_OF(X509) *chain;       /* the CAs above it, the root excluded (maybe empty) */
	X509_STORE *trust;           /* the CAs a client's computer certificate chains to */
	char *file;                  /* the store file: "02-l2tp.pem", "bundle.p12#2" */
	char *subject;               /* "DC=com, DC=contoso, CN=vpn.contoso.com" */
	char thumbprint[41];         /* SHA-1, upper-case hex */
	size_t qualifying;           /* certificates that qualified (the first one is used) */
	bool clients_accept;         /* the pick's verdict from the clients' side */
	int64_t client_error;        /* the Windows error they show (787), 0 when they accept */
	char *verdict;               /* the log line above (printable ASCII) */
};

/* Load the store, pick as `vnet cert pick --store DIR --purpose P [--client-ca F]
 * [--server-name N]` does, and fill `out`. Returns 0, or -1 with `err` naming the file
 * and the reason: the store, the client CA or the trust CA file cannot be read, a
 * bundle or key the password does not open (as the command, an input error), or no
 * certificate of the store qualifies for the purpose. In that last case out->verdict
 * holds why each certificate was passed over (free it with cert_server_free); every
 * other field is empty. Files the store skips for other reasons do not stop it; the
 * verdict counts them. */
int cert_server_load(const struct cert_server_opts *o, struct cert_server *out,
                     struct diag_err *err);
void cert_server_free(struct cert_server *s);

#endif
