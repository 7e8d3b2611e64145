/* vnet error CODE | --list; vnet rules list | show ID | check [DIR]. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/catalog.h"
#include "cmd.h"
#include "out.h"
#include "render_diag.h"
#include "rules/rules.h"

#define TEXT_WIDTH 78
#define MAX_RULES_PER_ERROR 64

static struct ruleset *load_rules(const struct cmd_args *a)
{
	char *problems = NULL;
	struct ruleset *rs = rules_load(a->rules_dir, &problems);
	if (!rs) /* every problem on its own line, then a summary */
		out_err_lines(problems, a->rules_dir ? a->rules_dir : "rules",
		              "the knowledge base does not load (vnet rules check shows why)");
	free(problems);
	return rs;
}

static struct catalog *load_catalog(const struct cmd_args *a, enum catalog_kind kind)
{
	char *problems = NULL;
	struct catalog *c = catalog_load(kind, a->rules_dir, &problems);
	if (!c)
		out_err_lines(problems, a->rules_dir, "the catalogue does not load");
	free(problems);
	return c;
}

static void json_print_free(json_t *j)
{
	out_json(j);
	json_decref(j);
}

/* ---- vnet error ----------------------------------------------------------------- */

/* "787", "0x313", "0x800B0109" or its decimal forms, "ERROR_OAKLEY_AUTH_FAIL",
 * "oakley_auth_fail", "CERT_E_UNTRUSTEDROOT". */
static const struct catalog_entry *lookup_code(const struct catalog *c, const char *arg)
{
	if (!*arg)
		return NULL;
	int64_t v;
	if (catalog_parse_code(arg, &v))
		return catalog_find(c, v);
	if ((arg[0] >= '0' && arg[0] <= '9') || arg[0] == '-')
		return NULL; /* a number out of range */
	const struct catalog_entry *e = catalog_find_name(c, arg);
	if (!e && strncasecmp(arg, "ERROR_", 6)) {
		char name[160];
		snprintf(name, sizeof name, "ERROR_%s", arg);
		e = catalog_find_name(c, name);
	}
	return e;
}

/* "  - text" with continuation lines indented under the text. */
static void print_item(const char *text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return;
	out_wrap(m, 4, TEXT_WIDTH, text);
	fclose(m);
	if (buf && len >= 4) {
		buf[2] = '-';
		fputs(buf, stdout);
	}
	free(buf);
}

/* Rules name RAS, MPR and IKE codes only: an HRESULT has none. */
static size_t rules_for_code(const struct ruleset *rs, int64_t code, const struct rule **by,
                             size_t max)
{
	return code <= CATALOG_CODE_MAX ? rules_for_error(rs, (int)code, by, max) : 0;
}

static json_t *entry_json(const struct catalog_entry *e)
{
	json_t *o = json_object();
	json_t *ev = json_array();
	char cs[24];
	for (size_t i = 0; i < e->nevents; i++)
		json_array_append_new(ev, json_string(e->events[i]));
	json_object_set_new(o, "code", json_integer(e->code));
	if (e->code > CATALOG_CODE_MAX)
		json_object_set_new(o, "hex", json_string(catalog_code_str(e->code, cs, sizeof cs)));
	json_object_set_new(o, "name", json_string(e->name));
	json_object_set_new(o, "message", json_string(e->message));
	json_object_set_new(o, "events", ev);
	json_object_set_new(o, "inferred", json_boolean(e->inferred));
	return o;
}

static int error_list(const struct cmd_args *a, const struct catalog *c,
                      const struct ruleset *rs)
{
	json_t *arr = json_array();
	const struct rule *by[MAX_RULES_PER_ERROR];
	for (size_t i = 0; i < catalog_count(c); i++) {
		const struct catalog_entry *e = catalog_at(c, i);
		json_t *o = json_object();
		json_object_set_new(o, "code", json_integer(e->code));
		json_object_set_new(o, "name", json_string(e->name));
		json_object_set_new(o, "message", json_string(e->message));
		json_object_set_new(o, "rules",
		                    json_integer((json_int_t)rules_for_code(rs, e->code, by,
		                                                            MAX_RULES_PER_ERROR)));
		json_array_append_new(arr, o);
	}
	if (a->json) {
		json_print_free(arr);
		return EXIT_YES;
	}
	static const char *const hdr[] = {"CODE", "NAME", "RULES", "MESSAGE"};
	struct out_table *t = out_table_new(4, hdr);
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		char code[24], n[16];
		catalog_code_str(json_integer_value(json_object_get(o, "code")), code, sizeof code);
		snprintf(n, sizeof n, "%lld", (long long)json_integer_value(json_object_get(o, "rules")));
		const char *row[] = {code, json_string_value(json_object_get(o, "name")), n,
		                     json_string_value(json_object_get(o, "message"))};
		out_table_add(t, row);
	}
	out_table_print(t, stdout, 0);
	out_table_free(t);
	json_decref(arr);
	return EXIT_YES;
}

int cmd_error(struct cmd_args *a)
{
	bool list = args_has(a, "--list");
	if (list == (a->npos == 1)) {
		out_err(NULL, 0, 0, list ? "error: give either a CODE or --list, not both"
		                         : "error: missing CODE (or --list)");
		return EXIT_USAGE;
	}
	/* the rules first: a rules directory's catalogues are checked with them */
	struct ruleset *rs = load_rules(a);
	if (!rs)
		return EXIT_USAGE;
	struct catalog *c = load_catalog(a, CATALOG_WINDOWS);
	if (!c) {
		rules_free(rs);
		return EXIT_USAGE;
	}
	int rc = EXIT_YES;
	if (list) {
		rc = error_list(a, c, rs);
		goto done;
	}
	const struct catalog_entry *e = lookup_code(c, a->pos[0]);
	if (!e) {
		out_err(NULL, 0, 0, "error: unknown error code '%s' (vnet error --list shows the known ones)",
		        a->pos[0]);
		rc = EXIT_USAGE;
		goto done;
	}
	const struct rule *by[MAX_RULES_PER_ERROR];
	size_t n = rules_for_code(rs, e->code, by, MAX_RULES_PER_ERROR);
	json_t *o = entry_json(e);
	json_t *rules = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(rules, render_rule_json(by[i]));
	json_object_set_new(o, "rules", rules);
	if (a->json) {
		json_print_free(o);
		goto done;
	}
	char cs[24];
	printf("%s%s  %s%s\n", out_c(C_BOLD), catalog_code_str(e->code, cs, sizeof cs), e->name,
	       out_c(C_RESET));
	render_text_block(stdout, 2, TEXT_WIDTH, e->message);
	if (e->nevents) {
		printf("\nProduced by%s:\n", e->inferred ? " (inferred mapping)" : "");
		for (size_t i = 0; i < e->nevents; i++)
			print_item(e->events[i]);
	}
	if (n == 0) {
		printf("\nNo rule explains this code yet.\n");
	} else {
		printf("\nExplained by %zu rule%s, most likely first:\n", n, n == 1 ? "" : "s");
		size_t i;
		json_t *r;
		json_array_foreach(rules, i, r) {
			putchar('\n');
			render_diag_text_one(stdout, r, 0);
		}
	}
	json_decref(o);
done:
	rules_free(rs);
	catalog_free(c);
	return rc;
}

/* ---- vnet rules list / show ------------------------------------------------------ */

static const char *sev_name(int s)
{
	return s >= 2 ? "error" : s == 1 ? "warning" : "info";
}

static void errors_text(const struct rule *r, char *buf, size_t sz)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < r->nerrors && off + 8 < sz; i++)
		off += (size_t)snprintf(buf + off, sz - off, "%s%d", i ? "," : "", r->errors[i]);
	if (!r->nerrors)
		snprintf(buf, sz, "-");
}

int cmd_rules_list(struct cmd_args *a)
{
	struct ruleset *rs = load_rules(a);
	if (!rs)
		return EXIT_USAGE;
	if (a->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < rules_count(rs); i++) {
			const struct rule *r = rules_at(rs, i);
			json_t *o = json_object();
			json_t *errs = json_array();
			for (size_t j = 0; j < r->nerrors; j++)
				json_array_append_new(errs, json_integer(r->errors[j]));
			json_object_set_new(o, "rule", json_string(r->id));
			json_object_set_new(o, "severity", json_string(sev_name(r->severity)));
			json_object_set_new(o, "priority", json_integer(r->priority));
			json_object_set_new(o, "errors", errs);
			json_object_set_new(o, "title", json_string(r->title));
			json_array_append_new(arr, o);
		}
		json_print_free(arr);
	} else {
		static const char *const hdr[] = {"ID", "SEVERITY", "ERRORS", "TITLE"};
		struct out_table *t = out_table_new(4, hdr);
		for (size_t i = 0; i < rules_count(rs); i++) {
			const struct rule *r = rules_at(rs, i);
			char errs[128];
			errors_text(r, errs, sizeof errs);
			const char *row[] = {r->id, sev_name(r->severity), errs, r->title};
			out_table_add(t, row);
		}
		out_table_print(t, stdout, 0);
		out_table_free(t);
		printf("%zu rules\n", rules_count(rs));
	}
	rules_free(rs);
	return EXIT_YES;
}

int cmd_rules_show(struct cmd_args *a)
{
	struct ruleset *rs = load_rules(a);
	if (!rs)
		return EXIT_USAGE;
	const struct rule *r = rules_find(rs, a->pos[0]);
	if (!r) {
		/* a unique prefix is accepted, as for commands */
		size_t len = strlen(a->pos[0]), hits = 0;
		for (size_t i = 0; i < rules_count(rs); i++)
			if (!strncmp(rules_at(rs, i)->id, a->pos[0], len)) {
				hits++;
				r = rules_at(rs, i);
			}
		if (hits != 1) {
			if (hits > 1) {
				out_err(NULL, 0, 0, "rules show: '%s' is ambiguous; candidates:", a->pos[0]);
				for (size_t i = 0; i < rules_count(rs); i++)
					if (!strncmp(rules_at(rs, i)->id, a->pos[0], len))
						fprintf(stderr, "  %s\n", rules_at(rs, i)->id);
			} else {
				out_err(NULL, 0, 0, "rules show: no rule '%s' (vnet rules list shows them)",
				        a->pos[0]);
			}
			rules_free(rs);
			return EXIT_USAGE;
		}
	}
	json_t *o = render_rule_json(r);
	if (a->json) {
		json_print_free(o);
		rules_free(rs);
		return EXIT_YES;
	}
	json_object_set_new(o, "evidence", json_array());
	render_diag_text_one(stdout, o, 0);
	printf("  Severity: %s, priority %d\n", sev_name(r->severity), r->priority);
	printf("  When:\n");
	for (size_t i = 0; i < r->nwhen; i++)
		printf("    %s\n", r->when[i]);
	printf("  File: %s:%d\n", r->file, r->line);
	json_decref(o);
	rules_free(rs);
	return EXIT_YES;
}

/* ---- vnet rules check -------------------------------------------------------------- */

/* Split "FILE:LINE:COL: key: reason" (COL, LINE and key optional) into a JSON object. */
static json_t *problem_json(const char *line, size_t n)
{
	json_t *o = json_object();
	char *s = strndup(line, n);
	if (!s)
		return o;
	char *file = s, *rest = NULL, *end = NULL;
	long ln = 0, col = 0;
	for (char *p = s; (p = strchr(p, ':')); p++) {
		if (p[1] < '0' || p[1] > '9')
			continue;
		long v = strtol(p + 1, &end, 10);
		long c = 0;
		char *e2 = end;
		if (end[0] == ':' && end[1] >= '0' && end[1] <= '9')
			c = strtol(end + 1, &e2, 10);
		if (e2[0] == ':' && e2[1] == ' ') {
			*p = '\0';
			ln = v;
			col = c;
			rest = e2 + 2;
			break;
		}
	}
	const char *key = "", *reason;
	if (rest) {
		char *sep = strstr(rest, ": ");
		if (sep) {
			*sep = '\0';
			key = rest;
			reason = sep + 2;
		} else {
			reason = rest;
		}
	} else {
		char *sep = strstr(s, ": ");
		if (sep) {
			*sep = '\0';
			reason = sep + 2;
		} else {
			reason = s;
			file = "";
		}
	}
	json_object_set_new(o, "file", json_string(file));
	json_object_set_new(o, "line", json_integer(ln));
	json_object_set_new(o, "col", json_integer(col));
	json_object_set_new(o, "key", json_string(key));
	json_object_set_new(o, "reason", json_string(reason));
	free(s);
	return o;
}

static void add_problem_lines(json_t *arr, const char *text)
{
	const char *p = text ? text : "";
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n)
			json_array_append_new(arr, problem_json(p, n));
		p += n + (nl ? 1 : 0);
	}
}

int cmd_rules_check(struct cmd_args *a)
{
	const char *dir = a->npos ? a->pos[0] : a->rules_dir;
	char *problems = NULL;
	struct ruleset *rs = rules_load(dir, &problems);
	json_t *arr = json_array();
	add_problem_lines(arr, problems);
	free(problems);
	problems = NULL;

	size_t nrules = rules_count(rs);
	/* A rules directory's own catalogues were checked with its rules; the embedded ones
	 * are checked here. */
	if (!dir) {
		for (int k = CATALOG_WINDOWS; k <= CATALOG_NPS; k++) {
			struct catalog *ck = catalog_load((enum catalog_kind)k, NULL, &problems);
			add_problem_lines(arr, problems);
			free(problems);
			problems = NULL;
			catalog_free(ck);
		}
	}
	struct catalog *c = catalog_load(CATALOG_WINDOWS, dir, NULL);
	if (rs && c) {
		for (size_t i = 0; i < nrules; i++) {
			const struct rule *r = rules_at(rs, i);
			for (size_t j = 0; j < r->nerrors; j++) {
				if (catalog_find(c, r->errors[j]))
					continue;
				char line[600];
				snprintf(line, sizeof line,
				         "%s:%d: errors: %d is not in the Windows error catalogue", r->file,
				         r->errors_line, r->errors[j]);
				json_array_append_new(arr, problem_json(line, strlen(line)));
			}
		}
	}
	size_t np = json_array_size(arr);
	if (a->json) {
		json_t *o = json_object();
		json_object_set_new(o, "dir", dir ? json_string(dir) : json_null());
		json_object_set_new(o, "ok", json_boolean(np == 0));
		json_object_set_new(o, "rules", json_integer((json_int_t)nrules));
		json_object_set_new(o, "problems", arr);
		json_print_free(o);
	} else {
		size_t i;
		json_t *p;
		json_array_foreach(arr, i, p) {
			const char *file = json_string_value(json_object_get(p, "file"));
			long long ln = json_integer_value(json_object_get(p, "line"));
			long long col = json_integer_value(json_object_get(p, "col"));
			const char *key = json_string_value(json_object_get(p, "key"));
			const char *reason = json_string_value(json_object_get(p, "reason"));
			if (ln > 0 && col > 0)
				printf("%s:%lld:%lld: %s: %s\n", file, ln, col, key, reason);
			else if (ln > 0)
				printf("%s:%lld: %s: %s\n", file, ln, key, reason);
			else
				printf("%s: %s\n", file, reason);
		}
		if (np == 0)
			printf("%zu rules, no problems\n", nrules);
		else
			printf("%zu problem%s\n", np, np == 1 ? "" : "s");
		json_decref(arr);
	}
	rules_free(rs);
	catalog_free(c);
	return np ? EXIT_USAGE : EXIT_YES;
}
