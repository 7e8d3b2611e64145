/* Diagnoses as JSON and as text, shared by every command (see render_diag.h). */
#include <stdlib.h>
#include <string.h>

#include "out.h"
#include "render_diag.h"

#define DIAG_WIDTH 78
#define DIAG_DEFAULT_MAX 16

static const char *severity_name(int s)
{
	return s >= 2 ? "error" : s == 1 ? "warning" : "info";
}

json_t *render_rule_json(const struct rule *r)
{
	json_t *o = json_object();
	json_t *errs = json_array();
	json_t *refs = json_array();
	json_t *when = json_array();
	for (size_t i = 0; i < r->nerrors; i++)
		json_array_append_new(errs, json_integer(r->errors[i]));
	for (size_t i = 0; i < r->nrefs; i++)
		json_array_append_new(refs, json_string(r->refs[i]));
	for (size_t i = 0; i < r->nwhen; i++)
		json_array_append_new(when, json_string(r->when[i]));
	json_object_set_new(o, "rule", json_string(r->id));
	json_object_set_new(o, "title", json_string(r->title));
	json_object_set_new(o, "severity", json_string(severity_name(r->severity)));
	json_object_set_new(o, "priority", json_integer(r->priority));
	json_object_set_new(o, "inferred", json_boolean(r->inferred));
	json_object_set_new(o, "errors", errs);
	json_object_set_new(o, "when", when);
	json_object_set_new(o, "cause", json_string(r->cause));
	json_object_set_new(o, "fix", json_string(r->fix));
	json_object_set_new(o, "refs", refs);
	json_object_set_new(o, "file", json_string(r->file));
	return o;
}

static void fact_value_jw(struct jw *w, const char *key, const struct fact *f)
{
	char buf[32];
	switch (f->type) {
	case FACT_INT:
	case FACT_TIME:
		jw_int(w, key, (long long)f->i);
		return;
	case FACT_BOOL:
		jw_bool(w, key, f->i != 0);
		return;
	case FACT_STR:
	case FACT_ADDR:
		break;
	}
	const char *s = fact_value_str(f, buf, sizeof buf);
	jw_str(w, key, s ? s : "");
}

void render_diag_one_jw(struct jw *w, const char *key, const struct rule_match *m)
{
	const struct rule *r = m->rule;
	jw_obj(w, key);
	jw_str(w, "rule", r->id);
	jw_str(w, "title", r->title);
	jw_str(w, "severity", severity_name(r->severity));
	jw_bool(w, "inferred", r->inferred);
	jw_arr(w, "errors");
	for (size_t i = 0; i < r->nerrors; i++)
		jw_int(w, NULL, r->errors[i]);
	jw_end(w);
	jw_str(w, "cause", r->cause);
	jw_str(w, "fix", r->fix);
	jw_arr(w, "refs");
	for (size_t i = 0; i < r->nrefs; i++)
		jw_str(w, NULL, r->refs[i]);
	jw_end(w);
	jw_arr(w, "evidence");
	for (size_t i = 0; i < m->nevidence; i++) {
		const struct fact *f = m->evidence[i];
		char eb[512];
		jw_obj(w, NULL);
		jw_str(w, "key", f->key);
		fact_value_jw(w, "value", f);
		const char *es = evidence_str(&f->ev, eb, sizeof eb);
		jw_str(w, "evidence", es ? es : "");
		jw_end(w);
	}
	jw_end(w);
	jw_end(w);
}

void render_diag_facts_jw(struct jw *w, const char *key, const struct ruleset *rs,
                          const struct facts *facts, size_t max)
{
	struct rule_match m[DIAG_DEFAULT_MAX];
	if (max == 0 || max > DIAG_DEFAULT_MAX)
		max = DIAG_DEFAULT_MAX;
	size_t n = rs ? rules_match(rs, facts, m, max) : 0;
	jw_arr(w, key);
	for (size_t i = 0; i < n; i++)
		render_diag_one_jw(w, NULL, &m[i]);
	jw_end(w);
}

json_t *render_diag_one(const struct rule_match *m)
{
	struct jw w;
	jw_init(&w, JW_TREE, NULL);
	render_diag_one_jw(&w, NULL, m);
	json_t *o = jw_take(&w);
	jw_free(&w);
	return o ? o : json_object();
}

json_t *render_diag_json(const struct rule_match *m, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, render_diag_one(&m[i]));
	return a;
}

json_t *render_diag_facts(const struct ruleset *rs, const struct facts *facts, size_t max)
{
	if (max == 0)
		max = DIAG_DEFAULT_MAX;
	struct rule_match *m = calloc(max, sizeof *m);
	if (!m)
		return json_array();
	size_t n = rules_match(rs, facts, m, max);
	json_t *a = render_diag_json(m, n);
	free(m);
	return a;
}

void render_text_block(FILE *fp, int indent, int width, const char *text)
{
	const char *p = text ? text : "";
	for (size_t guard = 0; *p && guard < 100000; guard++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len >= 2 && p[0] == ' ' && p[1] == ' ') {
			fprintf(fp, "%*s%.*s\n", indent, "", (int)len, p);
		} else if (len == 0) {
			fputc('\n', fp);
		} else {
			char *line = strndup(p, len);
			if (line) {
				out_wrap(fp, indent, width, line);
				free(line);
			}
		}
		if (!nl)
			break;
		p = nl + 1;
	}
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

void render_diag_text_one(FILE *fp, const json_t *d, int indent)
{
	const char *sev = jstr(d, "severity");
	enum out_color c = !strcmp(sev, "error") ? C_RED : !strcmp(sev, "warning") ? C_YELLOW : C_CYAN;
	fprintf(fp, "%*s%s[%s]%s %s%s%s (%s)%s\n", indent, "", out_c(c), sev, out_c(C_RESET),
	        out_c(C_BOLD), jstr(d, "title"), out_c(C_RESET), jstr(d, "rule"),
	        json_is_true(json_object_get(d, "inferred")) ? " [inferred]" : "");
	int in = indent + 2;
	const json_t *errs = json_object_get(d, "errors");
	if (json_array_size(errs)) {
		fprintf(fp, "%*sWindows errors: ", in, "");
		size_t i;
		const json_t *e;
		json_array_foreach(errs, i, e)
			fprintf(fp, "%s%lld", i ? ", " : "", (long long)json_integer_value(e));
		fputc('\n', fp);
	}
	fprintf(fp, "%*sCause:\n", in, "");
	render_text_block(fp, in + 2, DIAG_WIDTH, jstr(d, "cause"));
	fprintf(fp, "%*sFix:\n", in, "");
	render_text_block(fp, in + 2, DIAG_WIDTH, jstr(d, "fix"));
	const json_t *ev = json_object_get(d, "evidence");
	if (json_array_size(ev)) {
		fprintf(fp, "%*sEvidence:\n", in, "");
		size_t i;
		const json_t *e;
		json_array_foreach(ev, i, e) {
			const json_t *v = json_object_get(e, "value");
			char vb[64];
			const char *vs;
			if (json_is_string(v))
				vs = json_string_value(v);
			else if (json_is_integer(v)) {
				snprintf(vb, sizeof vb, "%lld", (long long)json_integer_value(v));
				vs = vb;
			} else
				vs = json_is_true(v) ? "true" : "false";
			const char *src = jstr(e, "evidence");
			fprintf(fp, "%*s%s = %s%s%s%s%s\n", in + 2, "", jstr(e, "key"), vs,
			        *src ? "  " : "", out_c(C_DIM), src, out_c(C_RESET));
		}
	}
	const json_t *refs = json_object_get(d, "refs");
	if (json_array_size(refs)) {
		fprintf(fp, "%*sReferences: ", in, "");
		size_t i;
		const json_t *r;
		json_array_foreach(refs, i, r)
			fprintf(fp, "%s%s", i ? "; " : "", json_string_value(r));
		fputc('\n', fp);
	}
}

void render_diag_text(FILE *fp, const json_t *diagnoses, int indent)
{
	size_t i;
	const json_t *d;
	json_array_foreach(diagnoses, i, d) {
		if (i)
			fputc('\n', fp);
		render_diag_text_one(fp, d, indent);
	}
}
