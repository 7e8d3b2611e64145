/* Which machine certificate the server uses, and what the clients make of it.
 *
 * cert_pick_run inspects every certificate of a loaded store (certstore.h), walks the
 * store in order as the server does for the chosen purpose and takes the first one that
 * qualifies, then checks that certificate from the clients' side (the CAs they trust,
 * the name they dial) and predicts the Windows error they show. With `fix` it also works
 * out the remedy: the one certificate that serves both IP-HTTPS and L2TP, what to remove
 * or re-issue, and the registry and netsh commands of a manual L2TP IPsec rule.
 *
 * Behaviour that Microsoft documents (KB 2855053: "the first certificate it can find"
 * for L2TP; IKE intermediate EKU for IKEv2) is followed; the rest is vnet's model and is
 * labelled as inferred in docs/cert.md.
 */
#ifndef VNET_CERTPICK_H
#define VNET_CERTPICK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cert/certstore.h"
#include "rules/facts.h"

enum cert_purpose { CERT_PURPOSE_L2TP, CERT_PURPOSE_IKEV2, CERT_PURPOSE_SSTP,
                    CERT_PURPOSE_IPHTTPS };

/* "l2tp" ... -> purpose; -1 when unknown. */
int cert_purpose_parse(const char *s);
const char *cert_purpose_name(enum cert_purpose p);   /* "l2tp" */
const char *cert_purpose_title(enum cert_purpose p);  /* "L2TP/IPsec" */

/* ISO 8601 date or date-time ("2030-01-01", "2030-01-01T12:00:00Z", "... +02:00"; a
 * space may replace the T; no zone means UTC). Returns 0, or -1 with a reason. */
int cert_parse_time(const char *s, int64_t *epoch, struct diag_err *err);
/* "2030-01-01T12:00:00Z" */
void cert_format_time(int64_t epoch, char *buf, size_t bufsz);

#define CERT_MAX_REASONS 10
#define CERT_MAX_EKU 16
#define CERT_MAX_SAN 32

struct cert_reason {
	const char *code; /* no-private-key, expired, not-yet-valid, eku, no-chain, key-usage */
	char text[320];
};

struct cert_eku {
	char oid[64];
	const char *name; /* Windows' name, or NULL when vnet does not know the OID */
};

struct cert_info {
	const struct cert_entry *entry;
	char name[300];          /* "file" or "file#2" */
	char *subject, *issuer;  /* "DC=com, DC=contoso, CN=corp-CA" (certificate order) */
	char *cn;                /* last CN of the subject, or NULL */
	char *san[CERT_MAX_SAN]; /* "DNS:vpn.contoso.com", "IP:192.0.2.1" */
	size_t nsan;
	bool wildcard_cn, wildcard_san, wildcard;
	int64_t not_before, not_after;
	bool expired, not_yet_valid;    /* at the evaluation time */
	char key_type[48];       /* "RSA", "EC P-256", "Ed25519" */
	int key_bits;
	bool has_key;
	bool eku_present;        /* false: no EKU extension, any purpose */
	struct cert_eku eku[CERT_MAX_EKU];
	size_t neku;
	bool eku_server, eku_client, eku_ike, eku_anyext;
	bool ku_present;
	uint32_t ku;             /* X509v3_KU_* bits */
	char ku_text[200];       /* "Digital Signature, Key Encipherment" */
	bool is_ca;
	bool chain_ok;           /* chains to a root of the store's roots/ */
	char *chain_root;        /* subject of the root it chains to (or of the last CA found) */
	char *chain_root_file;   /* roots/ file of that root, or NULL */
	char *chain_root_win;    /* that root's name as Windows writes it (for netsh) */
	char chain_error[256];   /* why not, when !chain_ok */
	char **chain_names;      /* issuer names along the chain (for the CA comparison) */
	size_t nchain_names;
	char thumbprint[41];     /* SHA-1, upper-case hex, as Windows shows it */
	/* the walk */
	bool qualifies;
	struct cert_reason reasons[CERT_MAX_REASONS];
	size_t nreasons;
};

struct cert_pick_opts {
	enum cert_purpose purpose;
	int64_t at;                   /* evaluation time */
	const char *server_name;      /* the name clients dial, or NULL */
	STACK_OF(X509) *client_cas;   /* CAs the clients trust; NULL: the store's roots/ */
	const char *client_ca_source; /* where they came from, for messages */
	bool fix;
	const char *endpoint;         /* the server's address for the manual rule, or NULL */
	/* L2TP: the client's computer store, whose machine certificate the client needs to
	 * start IKE main mode (766, 786 without one); NULL: not checked. */
	const struct cert_store *client_store;
};

/* What the clients make of one certificate. */
struct cert_client_view {
	bool accepted;
	int64_t error;            /* Windows error, 0 when accepted or unknown */
	const char *error_name;   /* "ERROR_OAKLEY_AUTH_FAIL", ... */
	const char *error_text;   /* the message the client shows */
	bool trusted;             /* chain verifies to a CA the clients trust */
	bool ca_differs;          /* none of the clients' CAs is in the certificate's chain */
	bool name_checked;        /* a --server-name was given */
	bool name_matches;
	bool wildcard;
	bool trust_assumed;       /* no --client-ca: the store's roots stand in */
	char *anchor;             /* the client CA the chain ends at, or NULL */
	struct cert_reason reasons[CERT_MAX_REASONS];
	size_t nreasons;
	struct cert_reason warnings[4];
	size_t nwarnings;
};

#define CERT_FIX_MAX_CMDS 8
struct cert_fix {
	int single;               /* index of the certificate that serves both IP-HTTPS and
	                           * L2TP (or the purpose) and the clients accept; -1 none */
	size_t *remove;           /* indices of certificates to remove or re-issue */
	size_t nremove;
	char *advice;             /* part (a) in words */
	char *ca_name;            /* the CA the manual rule restricts to, or NULL */
	char *ca_from;            /* where that name came from */
	char *cmds[CERT_FIX_MAX_CMDS]; /* part (b): registry and netsh commands, in order */
	size_t ncmds;
	char *note;               /* why (b) is missing or incomplete, or NULL */
};

/* The client's own computer certificate (L2TP with certificates). */
struct cert_machine {
	bool checked;             /* a client store was given */
	struct cert_info *info;   /* one per certificate of the client store, store order */
	size_t n;
	int usable;               /* index of the first usable certificate, -1: none */
};

struct cert_pick {
	struct cert_pick_opts opts;
	const struct cert_store *store;
	struct cert_info *info;   /* one per store certificate, store order */
	size_t n;
	int picked;               /* index into info, -1: none qualifies */
	size_t qualifying;
	bool order_decides;       /* several qualify */
	bool order_changes_outcome; /* qualifying certificates differ in client acceptance */
	struct cert_client_view client;
	struct cert_machine machine;
	bool has_fix;
	struct cert_fix fix;
};

/* Run the inspection, the pick, the client's view and (opts->fix) the fix. Returns 0,
 * or -1 with `err` set when out of memory. */
int cert_pick_run(const struct cert_store *s, const struct cert_pick_opts *opts,
                  struct cert_pick *out, struct diag_err *err);
void cert_pick_free(struct cert_pick *p);

/* The client's view of any certificate of the store (used for the pick and the fix). */
void cert_client_check(const struct cert_pick *p, size_t idx, struct cert_client_view *v);
void cert_client_view_free(struct cert_client_view *v);

/* A distinguished name as Windows writes it for netsh's auth1ca: attributes in
 * certificate order joined by ", ", Windows' short names (S for ST, E for emailAddress),
 * values holding , + = " < > # ; or edge spaces in double quotes with quotes doubled. */
char *cert_name_windows(const X509_NAME *n);

/* An IPv4 or IPv6 address, optionally with /PREFIX (for --endpoint). */
bool cert_endpoint_valid(const char *ep);

/* Facts for the rules engine (docs/facts.md, "Certificate selection"). */
void cert_pick_facts(const struct cert_pick *p, struct facts *f);

/* Does `name` (what clients dial) match the certificate? `wildcard_only` tells whether
 * only a wildcard name matched. */
bool cert_name_matches(const struct cert_info *ci, const char *name, bool *wildcard_only);

#endif
