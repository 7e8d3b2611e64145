/* vnet pcap explain: the story of each VPN session in a capture and why it failed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "dissect.h"
#include "capture/explain.h"
#include "capture/ikedecrypt.h"
#include "out.h"
#include "pcapin.h"
#include "render_diag.h"
#include "rules/rules.h"
#include "capture/session.h"

#define MAX_DIAG 8

static void frag_report(void *arg, const struct ipfrag_report *rep)
{
	struct sess_table *t = arg;
	sess_frag_incomplete(t, rep->key.version, rep->key.src, rep->key.dst, rep->key.proto,
	                     rep->first_frame);
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static double us(const json_t *o, const char *k)
{
	return (double)json_integer_value(json_object_get(o, k)) / 1e6;
}

static void print_duration(char *buf, size_t n, double s)
{
	snprintf(buf, n, "%.3fs", s);
}

/* The summary table is printed sorted by session and aligned, after every session has
 * ended; its rows wait in a temporary file (only the index stays in memory: 16 bytes a
 * session), so a capture of a busy server does not hold every row. */
#define NCOLS 9
struct row {
	uint32_t id;
	uint32_t len;   /* bytes of the row */
	long off;       /* where the row starts in run.rowsf */
};

struct run {
	bool json, all;
	struct jw w;    /* --json: the document, streamed to stdout as sessions end */
	uint32_t only;
	const struct ruleset *rs;
	struct facts *facts;
	size_t nshown, nfailed, nanom, k;
	struct row *rows;
	size_t nrows, caprows;
	size_t width[NCOLS];
	FILE *rowsf;
	long rows_end;  /* bytes written to rowsf */
	FILE *blocks;
};

static int by_id(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void table_row(struct run *r, const json_t *s)
{
	char id[16], err[16], dur[32];
	snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(s, "id")));
	json_t *e = json_object_get(s, "error");
	if (json_is_integer(e))
		snprintf(err, sizeof err, "%lld", (long long)json_integer_value(e));
	else
		snprintf(err, sizeof err, "-");
	print_duration(dur, sizeof dur, us(s, "duration_us"));
	const char *user = jstr(s, "user");
	const char *phase = jstr(s, "failed_phase");
	const char *cells[NCOLS] = {id, jstr(s, "protocol"), jstr(s, "client"), jstr(s, "server"),
	                            *user ? user : "-", jstr(s, "outcome"), *phase ? phase : "-",
	                            err, dur};
	if (r->nrows == r->caprows) {
		size_t nc = r->caprows ? r->caprows * 2 : 64;
		struct row *nr = realloc(r->rows, nc * sizeof *nr);
		if (!nr)
			return;
		r->rows = nr;
		r->caprows = nc;
	}
	struct row *w = &r->rows[r->nrows++];
	w->id = (uint32_t)json_integer_value(json_object_get(s, "id"));
	w->off = r->rows_end;
	size_t len = 0;
	for (int c = 0; c < NCOLS; c++) {
		size_t l = strlen(cells[c]);
		if (l > r->width[c])
			r->width[c] = l;
		fwrite(cells[c], 1, l + 1, r->rowsf); /* NUL-terminated, one after the other */
		len += l + 1;
	}
	w->len = (uint32_t)len;
	r->rows_end += (long)len;
}

/* The summary table: header, then the rows in session order, columns aligned. */
static void table_print(struct run *r, FILE *fp)
{
	static const char *const hdr[NCOLS] = {"ID", "PROTOCOL", "CLIENT", "SERVER", "USER",
	                                       "OUTCOME", "PHASE", "ERROR", "DURATION"};
	for (int c = 0; c < NCOLS; c++)
		if (strlen(hdr[c]) > r->width[c])
			r->width[c] = strlen(hdr[c]);
	qsort(r->rows, r->nrows, sizeof *r->rows, by_id);
	fflush(r->rowsf);
	char line[4096];
	long pos = -1; /* where the file is: rows in the order written are read without seeking */
	for (size_t i = 0; i <= r->nrows; i++) {
		const char *cell[NCOLS];
		if (i == 0) {
			memcpy(cell, hdr, sizeof cell);
		} else {
			const struct row *rw = &r->rows[i - 1];
			if (pos != rw->off && fseek(r->rowsf, rw->off, SEEK_SET) != 0)
				break;
			size_t want = rw->len < sizeof line - 1 ? rw->len : sizeof line - 1;
			size_t n = fread(line, 1, want, r->rowsf);
			pos = n == rw->len ? rw->off + (long)n : -1;
			line[n] = 0;
			const char *p = line;
			for (int c = 0; c < NCOLS; c++) {
				cell[c] = p < line + n ? p : "";
				p += strlen(p) + 1;
			}
		}
		for (int c = 0; c < NCOLS; c++) {
			if (c + 1 == NCOLS)
				fprintf(fp, "%s", cell[c]);
			else
				fprintf(fp, "%-*s  ", (int)r->width[c], cell[c]);
		}
		fputc('\n', fp);
	}
}

/* A failed session, or one with anomalies or warnings. */
static bool worth_showing(const json_t *s)
{
	return strcmp(jstr(s, "outcome"), "success") ||
	       json_array_size(json_object_get(s, "anomalies")) ||
	       json_array_size(json_object_get(s, "diagnoses"));
}

static json_t *session_result(struct sess_table *t, const struct vsess *s,
                              const struct ruleset *rs, struct facts *facts)
{
	struct rule_match m[MAX_DIAG];
	size_t nm = explain_diagnose(t, s, rs, facts, m, MAX_DIAG);
	json_t *j = explain_session_json(t, s, m, nm);
	json_object_set_new(j, "diagnoses", render_diag_json(m, nm));
	return j;
}

static json_t *keys_json(const struct ike_keys *keys, const struct sess_table *t)
{
	json_t *kj = json_object();
	json_object_set_new(kj, "ikev2_keys", json_integer((json_int_t)ike_keys_count_v2(keys)));
	json_object_set_new(kj, "ikev1_keys", json_integer((json_int_t)ike_keys_count_v1(keys)));
	json_object_set_new(kj, "decrypted", json_integer((json_int_t)sess_decrypted(t)));
	json_object_set_new(kj, "failed", json_integer((json_int_t)sess_undecryptable(t)));
	if (ike_keys_count_esp(keys)) {
		json_object_set_new(kj, "esp_sas", json_integer((json_int_t)ike_keys_count_esp(keys)));
		json_object_set_new(kj, "esp_decrypted", json_integer((json_int_t)sess_esp_decrypted(t)));
		json_object_set_new(kj, "esp_failed", json_integer((json_int_t)sess_esp_failed(t)));
	}
	return kj;
}

static void print_block(FILE *fp, const json_t *s)
{
	const char *outcome = jstr(s, "outcome");
	bool failed = !strcmp(outcome, "failed");
	fprintf(fp, "\n%sSession %lld%s: %s, client %s, server %s", out_c(C_BOLD),
	       (long long)json_integer_value(json_object_get(s, "id")), out_c(C_RESET),
	       jstr(s, "protocol"), jstr(s, "client"), jstr(s, "server"));
	if (*jstr(s, "user"))
		fprintf(fp, ", user %s", jstr(s, "user"));
	fprintf(fp, "\n");
	json_t *parent = json_object_get(s, "parent");
	if (json_is_integer(parent))
		fprintf(fp, "  carried in ESP (decrypted) of the IPsec SA of session %lld\n",
		        (long long)json_integer_value(parent));
	json_t *conn = json_object_get(json_object_get(s, "pptp"), "connection");
	if (json_is_integer(conn))
		fprintf(fp, "  a further call on the PPTP control connection of session %lld\n",
		        (long long)json_integer_value(conn));
	if (failed) {
		fprintf(fp, "  %sfailed%s in %s", out_c(C_RED), out_c(C_RESET), jstr(s, "failed_phase"));
		json_t *e = json_object_get(s, "error");
		if (json_is_integer(e))
			fprintf(fp, "; the client shows error %lld", (long long)json_integer_value(e));
		fprintf(fp, "\n");
	} else {
		fprintf(fp, "  %ssucceeded%s\n", out_c(C_GREEN), out_c(C_RESET));
	}
	fprintf(fp, "  phases:\n");
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(s, "phases"), i, p) {
		const char *po = jstr(p, "outcome");
		enum out_color c = !strcmp(po, "failed") ? C_RED : !strcmp(po, "ok") ? C_GREEN : C_YELLOW;
		long long f0 = (long long)json_integer_value(json_object_get(p, "first_frame"));
		long long f1 = (long long)json_integer_value(json_object_get(p, "last_frame"));
		char fr[48];
		if (f0 == f1)
			snprintf(fr, sizeof fr, "frame %lld", f0);
		else
			snprintf(fr, sizeof fr, "frames %lld-%lld", f0, f1);
		fprintf(fp, "    %-28s %s%-10s%s %-14s at %.3fs for %.3fs, %lld packet%s",
		       jstr(p, "title"), out_c(c), po, out_c(C_RESET), fr,
		       us(p, "start_us"), us(p, "duration_us"),
		       (long long)json_integer_value(json_object_get(p, "packets")),
		       json_integer_value(json_object_get(p, "packets")) == 1 ? "" : "s");
		json_int_t rt = json_integer_value(json_object_get(p, "retransmissions"));
		if (rt)
			fprintf(fp, ", %lld retransmitted", (long long)rt);
		fprintf(fp, "\n");
		if (*jstr(p, "note"))
			fprintf(fp, "      %s\n", jstr(p, "note"));
	}
	json_t *facts = json_object_get(s, "facts");
	if (json_array_size(facts)) {
		fprintf(fp, "  facts:\n");
		json_t *f;
		json_array_foreach(facts, i, f) {
			json_t *v = json_object_get(f, "value");
			char vb[200];
			if (json_is_string(v))
				snprintf(vb, sizeof vb, "%s", json_string_value(v));
			else if (json_is_integer(v))
				snprintf(vb, sizeof vb, "%lld", (long long)json_integer_value(v));
			else
				snprintf(vb, sizeof vb, "%s", json_is_true(v) ? "true" : "false");
			fprintf(fp, "    %s = %s (frame %lld)\n", jstr(f, "key"), vb,
			       (long long)json_integer_value(json_object_get(f, "frame")));
		}
	}
	json_t *an = json_object_get(s, "anomalies");
	if (json_array_size(an)) {
		fprintf(fp, "  anomalies:\n");
		json_t *a;
		json_array_foreach(an, i, a)
			fprintf(fp, "    %s\n", json_string_value(a));
	}
	json_t *d = json_object_get(s, "diagnoses");
	if (json_array_size(d)) {
		fprintf(fp, "  diagnoses:\n");
		render_diag_text(fp, d, 4);
	} else if (failed) {
		fprintf(fp, "  no rule of the knowledge base explains this failure\n");
	}
}

static void emit(struct run *r, struct sess_table *t, const struct vsess *s)
{
	if (r->only && s->id != r->only)
		return;
	r->nshown++;
	bool failed = explain_failed_phase(s) != PH_COUNT;
	r->nfailed += failed;
	if (r->json) { /* an element of "sessions", written without a tree */
		struct rule_match m[MAX_DIAG];
		size_t nm = explain_diagnose(t, s, r->rs, r->facts, m, MAX_DIAG);
		jw_obj(&r->w, NULL);
		size_t nanom = explain_session_jw(&r->w, t, s, m, nm);
		jw_arr(&r->w, "diagnoses");
		for (size_t i = 0; i < nm; i++)
			render_diag_one_jw(&r->w, NULL, &m[i]);
		jw_end(&r->w);
		jw_end(&r->w);
		r->k++;
		r->nanom += !failed && (nanom || nm);
		return;
	}
	json_t *j = session_result(t, s, r->rs, r->facts);
	bool show = worth_showing(j);
	r->nanom += !failed && show;
	table_row(r, j);
	if (r->all || show)
		print_block(r->blocks, j);
	json_decref(j);
}

static void session_done(void *arg, struct sess_table *t, struct vsess *s)
{
	explain_finish_one(t, s);
	emit(arg, t, s);
	sess_release(t, s);
}

static bool parse_id(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v == 0 || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

int cmd_pcap_explain(struct cmd_args *a)
{
	const char *path = a->pos[0];
	uint32_t only = 0;
	const char *sid = args_get(a, "--session");
	if (sid && !parse_id(sid, &only)) {
		out_err(NULL, 0, 0, "--session: '%s' is not a session number", sid);
		return EXIT_USAGE;
	}
	struct ike_keys *keys = NULL;
	const char *kf = args_get(a, "--keys");
	if (kf) {
		char kerr[256];
		keys = ike_keys_load(kf, kerr, sizeof kerr);
		if (!keys) {
			out_err(NULL, 0, 0, "--keys: %s", kerr);
			return EXIT_USAGE;
		}
	}
	const char *rsec = args_get(a, "--radius-secret");
	if (rsec) {
		char kerr[256];
		if (ike_keys_set_radius_secret(&keys, rsec, kerr, sizeof kerr) != 0) {
			out_err(NULL, 0, 0, "--radius-secret: %s", kerr);
			ike_keys_free(keys);
			return EXIT_USAGE;
		}
	}
	char *problems = NULL;
	struct ruleset *rs = rules_load(a->rules_dir, &problems);
	if (!rs) {
		out_err_lines(problems, a->rules_dir, "the knowledge base does not load");
		free(problems);
		ike_keys_free(keys);
		return EXIT_USAGE;
	}
	free(problems);
	struct pcapin in;
	if (pcapin_open(&in, path) < 0) {
		out_err(path, 0, 0, "%s", in.err);
		rules_free(rs);
		ike_keys_free(keys);
		return EXIT_USAGE;
	}
	struct dissect *d = dissect_new(NULL);
	struct sess_table *t = sess_table_new(path);
	struct facts *facts = facts_new();
	if (!d || !t || !facts || (keys && sess_set_keys(t, keys) < 0)) {
		out_err(NULL, 0, 0, "out of memory");
		dissect_free(d);
		sess_table_free(t);
		facts_free(facts);
		pcapin_close(&in);
		rules_free(rs);
		ike_keys_free(keys);
		return EXIT_USAGE;
	}
	dissect_set_frag_report(d, frag_report, t);
	int rc = EXIT_YES;
	struct pcapin_pkt pk;
	struct run run;
	memset(&run, 0, sizeof run);
	/* Sessions are explained and printed as they end on the wire (and released), the rest
	 * at the end of the capture: memory follows the sessions open at one time. */
	run.json = a->json;
	run.all = args_count(a, "-v") > 0 || only;
	run.only = only;
	run.rs = rs;
	run.facts = facts;
	if (!a->json && (!(run.blocks = tmpfile()) || !(run.rowsf = tmpfile()))) {
		out_err(NULL, 0, 0, "no temporary file for the output: %s", strerror(errno));
		rc = EXIT_USAGE;
		goto out;
	}
	if (a->json) {
		/* the layout of jansson's JSON_INDENT(2), written as the sessions end */
		jw_init(&run.w, JW_PRETTY, stdout);
		jw_obj(&run.w, NULL);
		jw_str(&run.w, "file", path);
		jw_arr(&run.w, "sessions");
	}
	sess_set_done(t, session_done, &run);
	for (;;) {
		int n = pcapin_next(&in, &pk);
		if (n == 0)
			break;
		if (n < 0) {
			out_err(path, 0, 0, "capture breaks off %s", in.err);
			rc = EXIT_USAGE;
			break;
		}
		if (pk.new_link && !net_link_supported(pk.dlt))
			out_err(path, 0, 0, "link type %d is not supported: its frames are skipped", pk.dlt);
		const struct dl_pkt *p = dissect_packet(d, pk.dlt, pk.frame, pk.ts_ns, pk.rel_ns,
		                                        pk.data, pk.caplen, pk.origlen);
		if (!p->link_skipped)
			sess_packet(t, p);
	}
	dissect_finish(d);
	sess_set_done(t, NULL, NULL);
	explain_finish(t);
	for (size_t i = 0; i < sess_count(t); i++) {
		struct vsess *s = sess_at(t, i);
		if (s)
			emit(&run, t, s);
	}
	if (only && only > sess_count(t)) {
		out_err(NULL, 0, 0, "--session %u: the capture has %zu session%s", only,
		        sess_count(t), sess_count(t) == 1 ? "" : "s");
		rc = EXIT_USAGE;
		if (!a->json)
			goto out;
	}
	if (rc == EXIT_YES && run.nfailed)
		rc = EXIT_NO;
	if (a->json) {
		struct jw *w = &run.w;
		jw_end(w);
		jw_int(w, "packets", (long long)sess_packets(t));
		if (keys)
			jw_json_take(w, "decryption", keys_json(keys, t));
		jw_obj(w, "summary");
		jw_int(w, "sessions", (long long)run.nshown);
		jw_int(w, "failed", (long long)run.nfailed);
		jw_int(w, "anomalous", (long long)run.nanom);
		jw_end(w);
		jw_end(w);
		jw_raw(w, "\n", 1);
		if (jw_flush(w))
			rc = EXIT_USAGE;
		goto out;
	}
	printf("%s: %llu packets, %zu session%s, %zu failed\n", path,
	       (unsigned long long)sess_packets(t), run.nshown, run.nshown == 1 ? "" : "s",
	       run.nfailed);
	if (keys)
		printf("keys: %zu IKEv2 SA%s, %zu IKEv1 SA%s; %llu message%s decrypted, "
		       "%llu failed\n",
		       ike_keys_count_v2(keys), ike_keys_count_v2(keys) == 1 ? "" : "s",
		       ike_keys_count_v1(keys), ike_keys_count_v1(keys) == 1 ? "" : "s",
		       (unsigned long long)sess_decrypted(t),
		       sess_decrypted(t) == 1 ? "" : "s", (unsigned long long)sess_undecryptable(t));
	if (keys && ike_keys_count_esp(keys))
		printf("ESP: %zu SA%s; %llu packet%s decrypted, %llu failed\n",
		       ike_keys_count_esp(keys), ike_keys_count_esp(keys) == 1 ? "" : "s",
		       (unsigned long long)sess_esp_decrypted(t),
		       sess_esp_decrypted(t) == 1 ? "" : "s", (unsigned long long)sess_esp_failed(t));
	if (run.nrows) {
		printf("\n");
		table_print(&run, stdout);
	}
	fflush(stdout);
	rewind(run.blocks);
	char buf[8192];
	size_t got;
	while ((got = fread(buf, 1, sizeof buf, run.blocks)) > 0)
		fwrite(buf, 1, got, stdout);
out:
	jw_free(&run.w);
	free(run.rows);
	if (run.rowsf)
		fclose(run.rowsf);
	if (run.blocks)
		fclose(run.blocks);
	facts_free(facts);
	sess_table_free(t);
	dissect_free(d);
	pcapin_close(&in);
	rules_free(rs);
	ike_keys_free(keys);
	return rc;
}
