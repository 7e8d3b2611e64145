/* IP packet filters of remote-access profiles (ipfilter.h). */
#include "policy/ipfilter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/config.h"

static int word(const char **p, char *out, size_t cap)
{
	while (**p == ' ' || **p == '\t') (*p)++;
	size_t n = 0;
	while (**p && **p != ' ' && **p != '\t') {
		if (n + 1 < cap) out[n++] = **p;
		(*p)++;
	}
	out[n] = 0;
	return (int)n;
}

int ipfilter_parse_rule(const char *text, struct ipfilter_rule *r, char *err, size_t errsz)
{
	char w[64];
	const char *p = text;
	memset(r, 0, sizeof *r);
	r->proto = r->port = -1;
	if (!word(&p, w, sizeof w) || (strcasecmp(w, "permit") && strcasecmp(w, "deny"))) {
		snprintf(err, errsz, "a rule starts with permit or deny, got \"%s\"", w);
		return -1;
	}
	r->permit = strcasecmp(w, "permit") == 0;
	bool have_proto = false, have_addr = false;
	while (word(&p, w, sizeof w)) {
		if (strcasecmp(w, "port") == 0) {
			char *end;
			if (!word(&p, w, sizeof w)) {
				snprintf(err, errsz, "\"port\" needs a number");
				return -1;
			}
			long v = strtol(w, &end, 10);
			if (*end || v < 0 || v > 65535) {
				snprintf(err, errsz, "port \"%s\" is not a number from 0 to 65535", w);
				return -1;
			}
			r->port = (int)v;
			continue;
		}
		if (!have_proto && !have_addr) {
			int proto = -2;
			if (strcasecmp(w, "icmp") == 0) proto = 1;
			else if (strcasecmp(w, "tcp") == 0) proto = 6;
			else if (strcasecmp(w, "udp") == 0) proto = 17;
			else if (strspn(w, "0123456789") == strlen(w) && strlen(w) <= 3 && atoi(w) <= 255)
				proto = atoi(w);
			if (proto != -2) {
				r->proto = proto;
				have_proto = true;
				continue;
			}
		}
		if (have_addr) {
			snprintf(err, errsz, "unexpected \"%s\" after the address", w);
			return -1;
		}
		have_addr = true;
		if (strcasecmp(w, "any") == 0) continue;
		char *slash = strchr(w, '/');
		int len = 32;
		if (slash) {
			*slash = 0;
			char *end;
			long v = strtol(slash + 1, &end, 10);
			if (*end || v < 0 || v > 32 || end == slash + 1) {
				snprintf(err, errsz, "prefix length \"/%s\" is not 0 to 32", slash + 1);
				return -1;
			}
			len = (int)v;
		}
		if (ipv4_parse(w, &r->addr) != 0) {
			snprintf(err, errsz, "\"%s\" is not a protocol (any, icmp, tcp, udp, a number) "
			         "or an IPv4 address", w);
			return -1;
		}
		r->mask = len ? 0xffffffffu << (32 - len) : 0;
		r->addr &= r->mask;
	}
	if (r->port >= 0 && r->proto != 6 && r->proto != 17) {
		snprintf(err, errsz, "a port needs tcp or udp");
		return -1;
	}
	return 0;
}

int ipfilter_compile(char *const *rules, size_t n, struct ipfilter *out, size_t *bad, char *err,
                     size_t errsz)
{
	memset(out, 0, sizeof *out);
	if (!n) return 0;
	out->rules = calloc(n, sizeof *out->rules);
	if (!out->rules) {
		snprintf(err, errsz, "out of memory");
		*bad = 0;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (ipfilter_parse_rule(rules[i] ? rules[i] : "", &out->rules[i], err, errsz) != 0) {
			*bad = i;
			ipfilter_free(out);
			return -1;
		}
		if (out->rules[i].permit) out->has_permit = true;
	}
	out->n = n;
	return 0;
}

void ipfilter_free(struct ipfilter *f)
{
	free(f->rules);
	memset(f, 0, sizeof *f);
}

bool ipfilter_pass(const struct ipfilter *f, const uint8_t *ip, size_t len, bool inbound)
{
	if (!f || !f->n) return true;
	if (len < 20 || ip[0] >> 4 != 4) return false;
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	if (ihl < 20 || ihl > len) return false;
	const uint8_t *a = inbound ? ip + 16 : ip + 12;
	uint32_t addr = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	int proto = ip[9];
	int port = -1;
	bool first_fragment = ((ip[6] & 0x1f) | ip[7]) == 0;
	if ((proto == 6 || proto == 17) && first_fragment && len >= ihl + 4) {
		const uint8_t *pp = ip + ihl + (inbound ? 2 : 0);
		port = pp[0] << 8 | pp[1];
	}
	int rule;
	return ipfilter_decide(f, proto, addr, port, &rule);
}

bool ipfilter_decide(const struct ipfilter *f, int proto, uint32_t addr, int port, int *rule)
{
	*rule = -1;
	if (!f || !f->n) return true;
	for (size_t i = 0; i < f->n; i++) {
		const struct ipfilter_rule *r = &f->rules[i];
		if (r->proto >= 0 && r->proto != proto) continue;
		if ((addr & r->mask) != r->addr) continue;
		if (r->port >= 0 && r->port != port) continue;
		*rule = (int)i;
		return r->permit;
	}
	return !f->has_permit;
}
