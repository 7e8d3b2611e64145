/* IP packet filters of a remote-access profile ("filters": {"input": [...], "output": [...]}).
 *
 * One rule per string:  permit|deny [any|icmp|tcp|udp|PROTO-NUMBER] [ADDR[/LEN]|any] [port N]
 * The address is the far end of the packet: the destination of what the client sends
 * (input filters), the source of what it receives (output filters); the port likewise
 * the destination / source port (TCP and UDP only). Rules are tried in order and the first
 * that matches decides; a packet that matches none is dropped when the list holds any
 * permit rule ("only what is listed passes") and passes otherwise ("all but what is
 * listed"), as the two filter modes of the Windows profile dialog work.
 */
#ifndef VNET_IPFILTER_H
#define VNET_IPFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ipfilter_rule {
	bool permit;
	int proto;          /* -1 any */
	uint32_t addr, mask;/* host order; mask 0 = any */
	int port;           /* -1 any */
};

struct ipfilter {
	struct ipfilter_rule *rules;
	size_t n;
	bool has_permit;
};

/* Parse one rule; 0, or -1 with a reason in err. */
int ipfilter_parse_rule(const char *text, struct ipfilter_rule *out, char *err, size_t errsz);
/* Compile a list; 0, or -1 with the index of the bad rule in *bad and the reason in err. */
int ipfilter_compile(char *const *rules, size_t n, struct ipfilter *out, size_t *bad, char *err,
                     size_t errsz);
void ipfilter_free(struct ipfilter *f);
/* Decide an IPv4 packet. `inbound` true: the packet comes from the client (input filters:
 * match its destination); false: it goes to the client (match its source). An empty
 * filter passes everything. Truncated packets are dropped. */
bool ipfilter_pass(const struct ipfilter *f, const uint8_t *ip, size_t len, bool inbound);
/* Decide a packet given as protocol, far-end address (host order) and far-end port (-1
 * none): true when it passes; *rule gets the index of the deciding rule, -1 when none
 * matched (the list's mode decided). */
bool ipfilter_decide(const struct ipfilter *f, int proto, uint32_t addr, int port, int *rule);

#endif
