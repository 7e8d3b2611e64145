/* Files compiled into the binary: the default configuration (samples/vnet.json) and the
 * knowledge base (rules/...). Paths are relative to the source tree. */
#ifndef VNET_EMBEDDED_H
#define VNET_EMBEDDED_H
#include <stddef.h>

struct embedded_file {
	const char *name;          /* e.g. "samples/vnet.json", "rules/ike-psk-mismatch.rule" */
	const unsigned char *data; /* NUL-terminated */
	size_t len;                /* without the NUL */
};

extern const struct embedded_file vnet_embedded[]; /* ends with name == NULL */

/* The embedded file with this exact name, or NULL. */
const struct embedded_file *embedded_find(const char *name);

#endif
