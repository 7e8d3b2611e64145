/* The machine certificate a server presents in IKE, chosen by cert_pick_run. See
 * certserve.h. */
#include "cert/certserve.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/* Append to a growing line (silently short when out of memory: it is a log line). */
static void line_add(struct textbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_add(struct textbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		textbuf_append(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* The CA certificates above `x` as the store builds its chain, the root excluded. */
static STACK_OF(X509) *chain_above(X509 *x, const struct cert_store *s, int64_t at)
{
	STACK_OF(X509) *out = sk_X509_new_null();
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (!out || !st || !ctx)
		goto done;
	for (int i = 0; s->roots && i < sk_X509_num(s->roots); i++)
		X509_STORE_add_cert(st, sk_X509_value(s->roots, i));
	if (!X509_STORE_CTX_init(ctx, st, x, s->intermediates))
		goto done;
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)at);
	if (X509_verify_cert(ctx) == 1) {
		STACK_OF(X509) *c = X509_STORE_CTX_get0_chain(ctx);
		for (int i = 1; c && i < sk_X509_num(c); i++) {
			X509 *ca = sk_X509_value(c, i);
			if (X509_check_issued(ca, ca) == X509_V_OK)
				break; /* the root: the peer has it or does not trust us anyway */
			if (X509_up_ref(ca) && !sk_X509_push(out, ca))
				X509_free(ca);
		}
	}
done:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	ERR_clear_error();
	return out;
}

static X509_STORE *trust_of(STACK_OF(X509) *a, STACK_OF(X509) *b)
{
	X509_STORE *st = X509_STORE_new();
	for (int i = 0; st && a && i < sk_X509_num(a); i++)
		X509_STORE_add_cert(st, sk_X509_value(a, i));
	for (int i = 0; st && b && i < sk_X509_num(b); i++)
		X509_STORE_add_cert(st, sk_X509_value(b, i));
	ERR_clear_error();
	return st;
}

/* CA certificates from a file or directory; an input error names the path. */
static STACK_OF(X509) *load_cas(const char *path, const char *pass, const char *what,
                                struct diag_err *err)
{
	struct cert_problem *probs = NULL;
	size_t nprobs = 0;
	struct diag_err e;
	STACK_OF(X509) *cas = certstore_load_cas(path, pass, &probs, &nprobs, &e);
	bool pw = false;
	for (size_t i = 0; i < nprobs; i++) {
		pw |= probs[i].password;
		if (probs[i].password)
			diag_err_set(err, 0, "%s %s: %s", what, probs[i].file, probs[i].reason);
		free(probs[i].file);
		free(probs[i].reason);
	}
	free(probs);
	if (!cas) {
		diag_err_set(err, 0, "%s %s: %s", what, path, e.reason);
		return NULL;
	}
	if (pw || !sk_X509_num(cas)) {
		if (!pw)
			diag_err_set(err, 0, "%s %s: no CA certificate found", what, path);
		sk_X509_pop_free(cas, X509_free);
		return NULL;
	}
	return cas;
}

int cert_server_load(const struct cert_server_opts *o, struct cert_server *out,
                     struct diag_err *err)
{
	memset(out, 0, sizeof *out);
	diag_err_clear(err);
	int rc = -1;
	struct cert_store *s = NULL;
	STACK_OF(X509) *client_cas = NULL, *trust_cas = NULL;
	struct cert_pick pick;
	bool have_pick = false;
	struct textbuf line = {0};
	if (!o->store) {
		diag_err_set(err, 0, "no certificate store given");
		return -1;
	}
	s = certstore_load(o->store, o->pass, err);
	if (!s)
		goto out;
	size_t skipped = 0;
	for (size_t i = 0; i < s->nproblems; i++) {
		if (s->problems[i].password) {
			diag_err_set(err, 0, "%s/%s: %s", o->store, s->problems[i].file,
			             s->problems[i].reason);
			goto out;
		}
		skipped++;
	}
	if (o->client_ca && !(client_cas = load_cas(o->client_ca, o->pass, "client CA", err)))
		goto out;
	if (o->trust_ca && !(trust_cas = load_cas(o->trust_ca, o->pass, "trusted CA", err)))
		goto out;

	struct cert_pick_opts po = {0};
	po.purpose = o->purpose;
	po.at = o->at ? o->at : (int64_t)time(NULL);
	po.server_name = o->server_name;
	po.client_cas = client_cas;
	po.client_ca_source = o->client_ca;
	if (cert_pick_run(s, &po, &pick, err))
		goto out;
	have_pick = true;

	const char *title = cert_purpose_title(o->purpose);
	if (pick.picked < 0) {
		line_add(&line, "no certificate of %s qualifies for %s", s->dir, title);
		for (size_t i = 0; i < pick.n; i++)
			for (size_t k = 0; k < pick.info[i].nreasons; k++)
				line_add(&line, "%s %s: %s", k ? ";" : i ? ";" : ":", pick.info[i].name,
				         pick.info[i].reasons[k].text);
		if (!pick.n)
			line_add(&line, ": the store holds no certificate");
		diag_err_set(err, 0, "%s: no certificate qualifies for %s%s", s->dir, title,
		             pick.n ? " (cert pick --store shows why)" : ": the store holds none");
		goto verdict;
	}
	const struct cert_info *ci = &pick.info[pick.picked];
	const struct cert_entry *e = ci->entry;
	out->cert = e->x509;
	X509_up_ref(out->cert);
	out->key = e->key;
	EVP_PKEY_up_ref(out->key);
	out->chain = chain_above(e->x509, s, po.at);
	out->trust = trust_cas ? trust_of(trust_cas, NULL) : trust_of(s->roots, s->intermediates);
	out->file = strdup(ci->name);
	out->subject = strdup(ci->subject ? ci->subject : "");
	memcpy(out->thumbprint, ci->thumbprint, sizeof out->thumbprint);
	out->qualifying = pick.qualifying;
	out->clients_accept = pick.client.accepted;
	out->client_error = pick.client.accepted ? 0 : pick.client.error;
	if (!out->chain || !out->trust || !out->file || !out->subject) {
		diag_err_set(err, 0, "out of memory");
		goto out;
	}
	line_add(&line, "presenting %s (%s, thumbprint %s) for %s", ci->subject, ci->name,
	         ci->thumbprint, title);
	if (pick.qualifying > 1)
		line_add(&line, ", the first of %zu that qualify in store order", pick.qualifying);
	if (pick.client.accepted) {
		line_add(&line, "; cert pick: the clients accept it");
	} else {
		if (pick.client.error)
			line_add(&line, "; cert pick says clients will fail with %lld",
			         (long long)pick.client.error);
		else
			line_add(&line, "; cert pick says clients will refuse it");
		for (size_t k = 0; k < pick.client.nreasons; k++)
			line_add(&line, "%s %s", k ? ";" : ":", pick.client.reasons[k].text);
	}
	if (pick.client.trust_assumed)
		line_add(&line, " (judged against the store's roots/: no client CA given)");
	rc = 0;
verdict:
	if (skipped)
		line_add(&line, "; %zu file%s of the store skipped (%s: %s%s)", skipped,
		         skipped == 1 ? "" : "s", s->problems[0].file, s->problems[0].reason,
		         skipped > 1 ? ", ..." : "");
	if (line.p) {
		out->verdict = malloc(TEXT_PRINTABLE_SIZE(line.n));
		if (out->verdict)
			text_printable((const uint8_t *)line.p, line.n, out->verdict,
			               TEXT_PRINTABLE_SIZE(line.n));
	}
out:
	free(line.p);
	if (have_pick)
		cert_pick_free(&pick);
	certstore_free(s);
	if (client_cas)
		sk_X509_pop_free(client_cas, X509_free);
	if (trust_cas)
		sk_X509_pop_free(trust_cas, X509_free);
	if (rc) {
		char *v = out->verdict;
		out->verdict = NULL;
		cert_server_free(out);
		out->verdict = v;
	}
	ERR_clear_error();
	return rc;
}

void cert_server_free(struct cert_server *s)
{
	X509_free(s->cert);
	EVP_PKEY_free(s->key);
	if (s->chain)
		sk_X509_pop_free(s->chain, X509_free);
	X509_STORE_free(s->trust);
	free(s->file);
	free(s->subject);
	free(s->verdict);
	memset(s, 0, sizeof *s);
}
