/* Output for people and scripts. A command builds its result once as data (a jansson
 * json_t) and either prints it with out_json (--json) or renders text from the same
 * data with the helpers below. Colour only on a terminal and never with NO_COLOR. */
#ifndef VNET_OUT_H
#define VNET_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

enum out_color { C_RESET, C_BOLD, C_DIM, C_RED, C_GREEN, C_YELLOW, C_CYAN };

void out_set_color(bool on);
bool out_color_on(void);
/* Escape sequence for the colour, or "" when colour is off. */
const char *out_c(enum out_color c);

/* stderr: "vnet: FILE:LINE:COL: message" (LINE/COL omitted when 0, FILE when NULL). */
void out_err(const char *file, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Each line of `text` (problems as "FILE:LINE:COL: message" lines) as its own
 * "vnet: " line on stderr, then "vnet: WHERE: summary" when `summary` is given. */
void out_err_lines(const char *text, const char *where, const char *summary);

/* Print JSON to stdout, two-space indent, key order kept, newline. Steals nothing. */
void out_json(const json_t *j);

/* "  label:   value" with the label padded to `width`. */
void out_kv(int indent, int width, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Aligned table: add rows of `ncols` strings, then print with columns padded. */
struct out_table;
struct out_table *out_table_new(size_t ncols, const char *const *headers);
void out_table_add(struct out_table *t, const char *const *cells);
void out_table_print(struct out_table *t, FILE *fp, int indent);
void out_table_free(struct out_table *t);

/* Wrap `text` at `width` columns, each line prefixed by `indent` spaces. */
void out_wrap(FILE *fp, int indent, int width, const char *text);

#endif
