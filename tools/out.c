#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "out.h"

static bool color_on;

void out_set_color(bool on) { color_on = on; }
bool out_color_on(void) { return color_on; }

const char *out_c(enum out_color c)
{
	static const char *const esc[] = {
		[C_RESET] = "\033[0m", [C_BOLD] = "\033[1m", [C_DIM] = "\033[2m",
		[C_RED] = "\033[31m", [C_GREEN] = "\033[32m", [C_YELLOW] = "\033[33m",
		[C_CYAN] = "\033[36m",
	};
	return color_on ? esc[c] : "";
}

void out_err(const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;
	fputs("vnet: ", stderr);
	if (file) {
		fputs(file, stderr);
		if (line > 0) {
			fprintf(stderr, ":%d", line);
			if (col > 0) fprintf(stderr, ":%d", col);
		}
		fputs(": ", stderr);
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void out_err_lines(const char *text, const char *where, const char *summary)
{
	for (const char *p = text ? text : ""; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n)
			out_err(NULL, 0, 0, "%.*s", (int)n, p);
		p += n + (nl ? 1 : 0);
	}
	if (summary)
		out_err(where, 0, 0, "%s", summary);
}

void out_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
}

void out_kv(int indent, int width, const char *label, const char *fmt, ...)
{
	va_list ap;
	char lab[128];
	snprintf(lab, sizeof lab, "%s:", label);
	printf("%*s%-*s ", indent, "", width + 1, lab);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

struct out_table {
	size_t ncols, nrows, cap;
	char **cells; /* nrows * ncols, row 0 = headers */
};

struct out_table *out_table_new(size_t ncols, const char *const *headers)
{
	struct out_table *t = calloc(1, sizeof *t);
	if (!t) return NULL;
	t->ncols = ncols;
	if (headers) out_table_add(t, headers);
	return t;
}

void out_table_add(struct out_table *t, const char *const *cells)
{
	if (!t) return;
	if (t->nrows == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 16;
		char **n = realloc(t->cells, nc * t->ncols * sizeof *n);
		if (!n) return;
		t->cells = n;
		t->cap = nc;
	}
	for (size_t i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = strdup(cells[i] ? cells[i] : "");
	t->nrows++;
}

void out_table_print(struct out_table *t, FILE *fp, int indent)
{
	if (!t) return;
	size_t w[32] = {0};
	size_t nc = t->ncols < 32 ? t->ncols : 32;
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < nc; c++) {
			size_t l = strlen(t->cells[r * t->ncols + c]);
			if (l > w[c]) w[c] = l;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		fprintf(fp, "%*s", indent, "");
		for (size_t c = 0; c < nc; c++) {
			const char *s = t->cells[r * t->ncols + c];
			if (c + 1 == nc)
				fprintf(fp, "%s", s);
			else
				fprintf(fp, "%-*s  ", (int)w[c], s);
		}
		fputc('\n', fp);
	}
}

void out_table_free(struct out_table *t)
{
	if (!t) return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void out_wrap(FILE *fp, int indent, int width, const char *text)
{
	int room = width - indent > 20 ? width - indent : 20;
	const char *p = text;
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len == 0 && nl)
			fputc('\n', fp);
		while (len > 0) {
			size_t take = len;
			if (take > (size_t)room) {
				take = (size_t)room;
				while (take > 0 && p[take] != ' ') take--;
				if (take == 0) take = (size_t)room;
			}
			fprintf(fp, "%*s%.*s\n", indent, "", (int)take, p);
			p += take;
			len -= take;
			while (len > 0 && *p == ' ') { p++; len--; }
		}
		if (!nl) break;
		p = nl + 1;
	}
}
