/* Positions inside JSON text.
 *
 * jansson reports a line and column only for syntax errors. To point at a value that
 * parsed but is not valid (a misspelt encryption level, a pattern that does not
 * compile), walk the text again along the value's JSON pointer (RFC 6901) and count
 * lines and columns. Works on any input: malformed text just ends the walk early.
 */
#ifndef VNET_JSONPOS_H
#define VNET_JSONPOS_H

#include <stddef.h>
#include <jansson.h>

/* Line and column (1-based; columns count characters, a tab is one) of the first
 * character of the value that `pointer` names ("" = the whole document,
 * "/policies/1/profile/encryption"). Returns 0 when found; -1 when the pointer leads
 * nowhere, and then line/col give the start of the deepest value reached (the object
 * a missing key should have been in), or 0/0 when nothing was reached. */
/* "an object", "a string", "an integer", ... for messages about a value's type. */
const char *json_type_phrase(const json_t *v);

int jsonpos_find(const char *text, size_t len, const char *pointer, int *line, int *col);

/* Same, for the member's key instead of its value ("/server/ports/pptp" -> the
 * `"pptp"` key). For array elements and the root it is the value position. */
int jsonpos_find_key(const char *text, size_t len, const char *pointer, int *line, int *col);

/* Line and column (1-based, in characters) of a jansson parse error in `text`. jansson
 * reports a byte it cannot decode as UTF-8 one character early (the column has not moved
 * past it yet); the position of that byte is found here instead. Other errors keep
 * jansson's line and column (1:1 when it gives none). */
void jsonpos_error(const char *text, size_t len, const json_error_t *je, int *line, int *col);

#endif
