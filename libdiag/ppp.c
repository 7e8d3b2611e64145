/* PPP decoder, summaries, JSON and encoder. See ppp.h for the protocols covered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ppp.h"

/* ---- tables ------------------------------------------------------------------- */
const struct tok ppp_proto_names[] = {
	{ 0x0021, "IP" }, { 0x0023, "OSI" }, { 0x002b, "IPX" }, { 0x002d, "VJ-compressed" },
	{ 0x002f, "VJ-uncompressed" }, { 0x003d, "MP" }, { 0x0057, "IPv6" },
	{ 0x00fb, "link-compressed" }, { 0x00fd, "compressed" }, { 0x8021, "IPCP" },
	{ 0x802b, "IPXCP" }, { 0x8053, "ECP" }, { 0x8057, "IPV6CP" }, { 0x80fb, "link-CCP" },
	{ 0x80fd, "CCP" }, { 0xc021, "LCP" }, { 0xc023, "PAP" }, { 0xc025, "LQR" },
	{ 0xc02b, "BACP" }, { 0xc02d, "BAP" }, { 0xc223, "CHAP" }, { 0xc227, "EAP" },
	{ 0, NULL }
};

const struct tok ppp_cp_code_names[] = {
	{ 1, "Configure-Request" }, { 2, "Configure-Ack" }, { 3, "Configure-Nak" },
	{ 4, "Configure-Reject" }, { 5, "Terminate-Request" }, { 6, "Terminate-Ack" },
	{ 7, "Code-Reject" }, { 8, "Protocol-Reject" }, { 9, "Echo-Request" },
	{ 10, "Echo-Reply" }, { 11, "Discard-Request" }, { 12, "Identification" },
	{ 13, "Time-Remaining" }, { 14, "Reset-Request" }, { 15, "Reset-Ack" },
	{ 0, NULL }
};

const struct tok ppp_lcp_opt_names[] = {
	{ 0, "Vendor-Specific" }, { 1, "Maximum-Receive-Unit" },
	{ 2, "Async-Control-Character-Map" }, { 3, "Authentication-Protocol" },
	{ 4, "Quality-Protocol" }, { 5, "Magic-Number" }, { 7, "Protocol-Field-Compression" },
	{ 8, "Address-and-Control-Field-Compression" }, { 9, "FCS-Alternatives" },
	{ 10, "Self-Describing-Pad" }, { 11, "Numbered-Mode" }, { 13, "Callback" },
	{ 17, "Multilink-MRRU" }, { 18, "Multilink-Short-Sequence-Number-Header-Format" },
	{ 19, "Multilink-Endpoint-Discriminator" }, { 21, "DCE-Identifier" },
	{ 22, "Multi-Link-Plus-Procedure" }, { 23, "Link-Discriminator" },
	{ 24, "LCP-Authentication-Option" }, { 25, "COBS" }, { 26, "Prefix-Elision" },
	{ 27, "Multilink-Header-Format" }, { 28, "Internationalization" },
	{ 29, "Simple-Data-Link" },
	{ 0, NULL }
};
/* short forms for summaries */
static const struct tok lcp_opt_short[] = {
	{ 1, "MRU" }, { 2, "ACCM" }, { 3, "auth" }, { 4, "quality" }, { 5, "magic" },
	{ 7, "PFC" }, { 8, "ACFC" }, { 9, "FCS-alt" }, { 10, "SDP" }, { 11, "numbered" },
	{ 13, "callback" }, { 17, "MRRU" }, { 18, "SSNHF" }, { 19, "ED" }, { 23, "LD" },
	{ 0, NULL }
};

const struct tok ppp_ipcp_opt_names[] = {
	{ 1, "IP-Addresses" }, { 2, "IP-Compression-Protocol" }, { 3, "IP-Address" },
	{ 4, "Mobile-IPv4" }, { 129, "Primary-DNS-Server" }, { 130, "Primary-NBNS-Server" },
	{ 131, "Secondary-DNS-Server" }, { 132, "Secondary-NBNS-Server" },
	{ 0, NULL }
};
static const struct tok ipcp_opt_short[] = {
	{ 1, "addrs" }, { 2, "comp" }, { 3, "addr" }, { 4, "mobile-ip" }, { 129, "dns1" },
	{ 130, "wins1" }, { 131, "dns2" }, { 132, "wins2" },
	{ 0, NULL }
};

const struct tok ppp_ccp_opt_names[] = {
	{ 0, "OUI" }, { 1, "Predictor-type-1" }, { 2, "Predictor-type-2" },
	{ 3, "Puddle-Jumper" }, { 16, "Hewlett-Packard-PPC" }, { 17, "Stac-LZS" },
	{ 18, "MPPE/MPPC" }, { 19, "Gandalf-FZA" }, { 20, "V.42bis" }, { 21, "BSD-Compress" },
	{ 23, "LZS-DCP" }, { 24, "MVRCA" }, { 25, "DEC" }, { 26, "Deflate" }, { 27, "V.44" },
	{ 0, NULL }
};

const struct tok ppp_ipv6cp_opt_names[] = {
	{ 1, "Interface-Identifier" }, { 2, "IPv6-Compression-Protocol" },
	{ 0, NULL }
};

static const struct tok ecp_opt_names[] = {
	{ 0, "OUI" }, { 1, "DESE" }, { 2, "3DESE" }, { 3, "DESE-bis" },
	{ 0, NULL }
};

const struct tok ppp_chap_alg_names[] = {
	{ 5, "MD5" }, { 6, "SHA-1" }, { 7, "SHA-256" }, { 8, "SHA3-256" },
	{ 0x80, "MS-CHAP" }, { 0x81, "MS-CHAPv2" },
	{ 0, NULL }
};

const struct tok ppp_chap_code_names[] = {
	{ 1, "Challenge" }, { 2, "Response" }, { 3, "Success" }, { 4, "Failure" },
	{ 7, "Change-Password" },
	{ 0, NULL }
};

const struct tok ppp_pap_code_names[] = {
	{ 1, "Authenticate-Request" }, { 2, "Authenticate-Ack" }, { 3, "Authenticate-Nak" },
	{ 0, NULL }
};

const struct tok ppp_eap_code_names[] = {
	{ 1, "Request" }, { 2, "Response" }, { 3, "Success" }, { 4, "Failure" },
	{ 5, "Initiate" }, { 6, "Finish" },
	{ 0, NULL }
};

const struct tok ppp_eap_type_names[] = {
	{ 1, "Identity" }, { 2, "Notification" }, { 3, "Nak" }, { 4, "MD5-Challenge" },
	{ 5, "OTP" }, { 6, "GTC" }, { 13, "TLS" }, { 17, "LEAP" }, { 18, "SIM" },
	{ 21, "TTLS" }, { 23, "AKA" }, { 25, "PEAP" }, { 26, "MS-CHAPv2" }, { 33, "TLV" },
	{ 43, "FAST" }, { 47, "PSK" }, { 49, "IKEv2" }, { 50, "AKA'" }, { 52, "PWD" },
	{ 55, "TEAP" }, { 254, "Expanded" }, { 255, "Experimental" },
	{ 0, NULL }
};

const struct tok mschap_error_names[] = {
	{ 646, "restricted logon hours" }, { 647, "account disabled" },
	{ 648, "password expired" }, { 649, "no dial-in permission" },
	{ 691, "authentication failure" }, { 709, "error changing password" },
	{ 0, NULL }
};

static const struct tok ipcp_comp_names[] = {
	{ 0x002d, "VJ" }, { 0x0061, "IPHC" }, { 0x0003, "ROHC" },
	{ 0, NULL }
};

static const struct tok callback_op_names[] = {
	{ 0, "location-determined-by-authentication" }, { 1, "dialing-string" },
	{ 2, "location-identifier" }, { 3, "E.164" }, { 4, "distinguished-name" },
	{ 6, "CBCP" },
	{ 0, NULL }
};

static const struct tok ed_class_names[] = {
	{ 0, "null" }, { 1, "locally-assigned" }, { 2, "IPv4" }, { 3, "MAC" },
	{ 4, "magic-number-block" }, { 5, "E.164" },
	{ 0, NULL }
};

/* Allowed option lengths (whole option incl. type and length): min, max (0 = any). */
struct optlen { uint8_t type, min, max; };
static const struct optlen lcp_optlen[] = {
	{ 1, 4, 4 }, { 2, 6, 6 }, { 3, 4, 0 }, { 4, 4, 0 }, { 5, 6, 6 }, { 7, 2, 2 },
	{ 8, 2, 2 }, { 9, 3, 3 }, { 10, 3, 3 }, { 11, 3, 0 }, { 13, 3, 0 }, { 17, 4, 4 },
	{ 18, 2, 2 }, { 19, 3, 23 }, { 23, 4, 4 }, { 0, 0, 0 }
};
static const struct optlen ipcp_optlen[] = {
	{ 1, 10, 10 }, { 2, 4, 0 }, { 3, 6, 6 }, { 4, 6, 6 }, { 129, 6, 6 }, { 130, 6, 6 },
	{ 131, 6, 6 }, { 132, 6, 6 }, { 0, 0, 0 }
};
static const struct optlen ccp_optlen[] = { { 18, 6, 6 }, { 0, 0, 0 } };
static const struct optlen ipv6cp_optlen[] = { { 1, 10, 10 }, { 2, 4, 0 }, { 0, 0, 0 } };

const char *mschap_error_name(unsigned e) { return tok_name(mschap_error_names, e); }

/* ---- small text helpers ------------------------------------------------------- */
static void sb_text(struct sbuf *b, const uint8_t *s, size_t n)
{
	char tmp[4 * 64 + 1];
	size_t shown = n > 64 ? 64 : n;
	text_printable(s, shown, tmp, sizeof tmp);
	sbuf_add(b, "%s%s", tmp, n > shown ? "..." : "");
}

static void sb_hex(struct sbuf *b, const uint8_t *p, size_t n)
{
	char tmp[2 * 32 + 1];
	size_t shown = n > 32 ? 32 : n;
	hex_str(p, shown, tmp);
	sbuf_add(b, "%s%s", tmp, n > shown ? "..." : "");
}

static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static uint16_t be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* ---- MS-CHAP message texts ----------------------------------------------------- */
static bool is_space(uint8_t c) { return c == ' ' || c == '\t'; }

int mschap_parse_failure(const uint8_t *s, size_t len, struct mschap_failure *f)
{
	memset(f, 0, sizeof *f);
	size_t i = 0;
	if (len < 3 || s[0] != 'E' || s[1] != '=') return -1;
	while (i < len) {
		while (i < len && is_space(s[i])) i++;
		if (i >= len) break;
		if (i + 1 >= len || s[i + 1] != '=') return -1;
		uint8_t k = s[i];
		i += 2;
		if (k == 'M') {
			f->has_msg = true;
			f->msg = s + i;
			f->msg_len = len - i;
			break;
		}
		size_t st = i;
		while (i < len && !is_space(s[i])) i++;
		size_t n = i - st;
		const uint8_t *v = s + st;
		if (k == 'E' || k == 'R' || k == 'V') {
			if (n == 0 || n > 10) return -1;
			unsigned long val = 0;
			for (size_t j = 0; j < n; j++) {
				if (v[j] < '0' || v[j] > '9') return -1;
				val = val * 10 + (unsigned)(v[j] - '0');
			}
			if (val > 0xffffffffUL) return -1;
			if (k == 'E') { f->has_error = true; f->error = (unsigned)val; }
			else if (k == 'R') { f->has_retry = true; f->retry = (unsigned)val; }
			else { f->has_version = true; f->version = (unsigned)val; }
		} else if (k == 'C') {
			if (n != 16 && n != 32) return -1;
			for (size_t j = 0; j < n / 2; j++) {
				int hi = hexval(v[2 * j]), lo = hexval(v[2 * j + 1]);
				if (hi < 0 || lo < 0) return -1;
				f->challenge[j] = (uint8_t)(hi << 4 | lo);
			}
			f->has_challenge = true;
			f->challenge_len = n / 2;
		} else {
			return -1;
		}
	}
	return f->has_error ? 0 : -1;
}

int mschap_parse_success(const uint8_t *s, size_t len, struct mschap_success *sc)
{
	memset(sc, 0, sizeof *sc);
	if (len < 42 || s[0] != 'S' || s[1] != '=') return -1;
	for (size_t j = 0; j < 20; j++) {
		int hi = hexval(s[2 + 2 * j]), lo = hexval(s[3 + 2 * j]);
		if (hi < 0 || lo < 0) return -1;
		sc->auth_response[j] = (uint8_t)(hi << 4 | lo);
	}
	size_t i = 42;
	if (i == len) return 0;
	if (!is_space(s[i])) return -1;
	while (i < len && is_space(s[i])) i++;
	if (i + 2 <= len && s[i] == 'M' && s[i + 1] == '=') {
		sc->has_msg = true;
		sc->msg = s + i + 2;
		sc->msg_len = len - i - 2;
		return 0;
	}
	return i == len ? 0 : -1;
}

/* ---- decoding ------------------------------------------------------------------ */
static const char *proto_layer(uint16_t proto)
{
	const char *n = tok_name(ppp_proto_names, proto);
	return n ? n : "PPP";
}

static const struct tok *opt_names_for(uint16_t proto)
{
	switch (proto) {
	case PPP_PROTO_LCP: return ppp_lcp_opt_names;
	case PPP_PROTO_IPCP: return ppp_ipcp_opt_names;
	case PPP_PROTO_CCP: return ppp_ccp_opt_names;
	case PPP_PROTO_IPV6CP: return ppp_ipv6cp_opt_names;
	case PPP_PROTO_ECP: return ecp_opt_names;
	default: return NULL;
	}
}

static const struct optlen *optlen_for(uint16_t proto)
{
	switch (proto) {
	case PPP_PROTO_LCP: return lcp_optlen;
	case PPP_PROTO_IPCP: return ipcp_optlen;
	case PPP_PROTO_CCP: return ccp_optlen;
	case PPP_PROTO_IPV6CP: return ipv6cp_optlen;
	default: return NULL;
	}
}

/* Header shared by LCP-like protocols, PAP, CHAP and EAP: code, id, length; checks the
 * length against what was captured. Returns a reader over the body (after the 4-byte
 * header, up to Length) or a failed one with `err` set. */
static int read_cp_header(const uint8_t *p, size_t len, size_t base, const char *layer,
                          uint8_t *code, uint8_t *id, uint16_t *length, struct rd *body,
                          struct diag_err *err)
{
	struct rd r;
	rd_init(&r, p, len);
	*code = rd_u8(&r);
	*id = rd_u8(&r);
	*length = rd_u16(&r);
	if (!rd_ok(&r))
		return diag_err_set(err, base + r.err_off, "%s: header truncated (%zu of 4 bytes)",
		                    layer, len), -1;
	if (*length < 4)
		return diag_err_set(err, base + 2, "%s: length %u < 4", layer, *length), -1;
	if (*length > len)
		return diag_err_set(err, base + 2, "%s: length %u > %zu bytes available", layer,
		                    *length, len), -1;
	rd_init(body, p + 4, *length - 4u);
	return 0;
}

static int parse_options(struct ppp_cp *cp, uint16_t proto, struct rd *r, size_t base,
                         struct diag_err *err)
{
	const char *layer = proto_layer(proto);
	const struct tok *names = opt_names_for(proto);
	const struct optlen *lens = optlen_for(proto);
	for (size_t guard = 0; rd_left(r) > 0 && guard < 256; guard++) {
		size_t at = base + r->off;
		uint8_t type = rd_u8(r);
		if (rd_left(r) == 0)
			return diag_err_set(err, at, "%s option %u at offset %zu: no length octet",
			                    layer, type, at), -1;
		uint8_t olen = rd_u8(r);
		const char *nm = names ? tok_name(names, type) : NULL;
		char nbuf[48];
		if (nm) snprintf(nbuf, sizeof nbuf, "%s", nm);
		else snprintf(nbuf, sizeof nbuf, "%u", type);
		if (olen < 2)
			return diag_err_set(err, at + 1, "%s option %s at offset %zu: length %u < 2",
			                    layer, nbuf, at, olen), -1;
		if ((size_t)olen - 2 > rd_left(r))
			return diag_err_set(err, at + 1,
			                    "%s option %s at offset %zu: length %u runs past the "
			                    "packet (%zu bytes left)", layer, nbuf, at, olen,
			                    rd_left(r) + 2), -1;
		for (const struct optlen *l = lens; l && l->min; l++) {
			if (l->type != type) continue;
			if (olen < l->min || (l->max && olen > l->max)) {
				if (l->max == l->min)
					return diag_err_set(err, at + 1,
					                    "%s option %s at offset %zu: length %u, "
					                    "expected %u", layer, nbuf, at, olen,
					                    l->min), -1;
				return diag_err_set(err, at + 1,
				                    "%s option %s at offset %zu: length %u out of "
				                    "range %u..%u", layer, nbuf, at, olen, l->min,
				                    l->max ? l->max : 255), -1;
			}
			break;
		}
		if (cp->nopts >= PPP_MAX_OPTS)
			return diag_err_set(err, at, "%s: more than %d options", layer,
			                    PPP_MAX_OPTS), -1;
		struct ppp_opt *o = &cp->opts[cp->nopts++];
		o->type = type;
		o->len = olen;
		o->dlen = olen - 2u;
		o->data = rd_ptr(r, o->dlen);
		o->off = at;
	}
	return 0;
}

static int decode_cp(struct ppp_msg *m, const uint8_t *p, size_t len, size_t base,
                     struct diag_err *err)
{
	struct ppp_cp *cp = &m->cp;
	const char *layer = proto_layer(m->proto);
	struct rd body;
	if (read_cp_header(p, len, base, layer, &cp->code, &cp->id, &cp->length, &body, err))
		return -1;
	size_t bbase = base + 4;
	bool lcp = m->proto == PPP_PROTO_LCP;
	switch (cp->code) {
	case PPP_CONF_REQ: case PPP_CONF_ACK: case PPP_CONF_NAK: case PPP_CONF_REJ:
		return parse_options(cp, m->proto, &body, bbase, err);
	case PPP_PROTO_REJ:
		if (!lcp) break;
		cp->rejected_proto = rd_u16(&body);
		if (!rd_ok(&body))
			return diag_err_set(err, bbase, "LCP Protocol-Reject: length %u leaves no "
			                    "room for the rejected protocol", cp->length), -1;
		cp->data = body.p + body.off;
		cp->dlen = rd_left(&body);
		return 0;
	case PPP_ECHO_REQ: case PPP_ECHO_REPLY: case PPP_DISCARD_REQ:
	case PPP_IDENTIFICATION: case PPP_TIME_REMAINING: {
		if (!lcp) break;
		char cbuf[8];
		const char *cn = tok_str(ppp_cp_code_names, cp->code, cbuf, sizeof cbuf);
		cp->magic = rd_u32(&body);
		if (!rd_ok(&body))
			return diag_err_set(err, bbase, "LCP %s: length %u leaves no room for the "
			                    "magic number", cn, cp->length), -1;
		cp->has_magic = true;
		if (cp->code == PPP_TIME_REMAINING) {
			cp->seconds = rd_u32(&body);
			if (!rd_ok(&body))
				return diag_err_set(err, bbase + 4, "LCP Time-Remaining: length %u "
				                    "leaves no room for the seconds", cp->length), -1;
		}
		cp->data = body.p + body.off;
		cp->dlen = rd_left(&body);
		return 0;
	}
	default: /* Terminate, Code-Reject, CCP/ECP Reset, codes this protocol lacks */
		break;
	}
	cp->data = body.p;
	cp->dlen = body.len;
	return 0;
}

static int decode_pap(struct ppp_msg *m, const uint8_t *p, size_t len, size_t base,
                      struct diag_err *err)
{
	struct ppp_pap *a = &m->pap;
	struct rd body;
	if (read_cp_header(p, len, base, "PAP", &a->code, &a->id, &a->length, &body, err))
		return -1;
	size_t bbase = base + 4;
	if (a->code == PAP_AUTH_REQ) {
		size_t at = body.off;
		uint8_t n = rd_u8(&body);
		a->peer_id = rd_ptr(&body, n);
		if (!rd_ok(&body))
			return diag_err_set(err, bbase + at, "PAP Authenticate-Request: peer-id "
			                    "length %u runs past length %u", n, a->length), -1;
		a->peer_id_len = n;
		at = body.off;
		n = rd_u8(&body);
		a->password = rd_ptr(&body, n);
		if (!rd_ok(&body))
			return diag_err_set(err, bbase + at, "PAP Authenticate-Request: password "
			                    "length %u runs past length %u", n, a->length), -1;
		a->password_len = n;
	} else if (a->code == PAP_AUTH_ACK || a->code == PAP_AUTH_NAK) {
		if (rd_left(&body) == 0) { a->msg = body.p; return 0; } /* no Msg-Length */
		uint8_t n = rd_u8(&body);
		a->msg = rd_ptr(&body, n);
		if (!rd_ok(&body))
			return diag_err_set(err, bbase, "PAP %s: message length %u runs past "
			                    "length %u", a->code == PAP_AUTH_ACK ?
			                    "Authenticate-Ack" : "Authenticate-Nak", n, a->length), -1;
		a->msg_len = n;
	} else {
		a->msg = body.p;
		a->msg_len = body.len;
	}
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i]) return false;
	return true;
}

/* CHAP body after code/id/length: shared by PPP CHAP and EAP-MS-CHAPv2. */
static int decode_chap_body(struct ppp_chap *c, struct rd *body, size_t bbase, uint8_t alg,
                            bool in_eap, struct diag_err *err)
{
	const char *layer = in_eap ? "EAP-MS-CHAPv2" : "CHAP";
	switch (c->code) {
	case CHAP_CHALLENGE: case CHAP_RESPONSE: {
		uint8_t n = rd_u8(body);
		c->value = rd_ptr(body, n);
		if (!rd_ok(body))
			return diag_err_set(err, bbase, "%s %s: value size %u runs past the "
			                    "packet (%zu bytes)", layer,
			                    c->code == 1 ? "Challenge" : "Response", n,
			                    body->len ? body->len - 1 : 0), -1;
		c->value_len = n;
		c->name = body->p + body->off;
		c->name_len = rd_left(body);
		if (alg == CHAP_ALG_MSCHAPV2) c->variant = PPP_CHAP_MSCHAPV2;
		else if (alg == CHAP_ALG_MSCHAP) c->variant = PPP_CHAP_MSCHAPV1;
		else if (alg == 0 && c->code == CHAP_RESPONSE && n == 49) {
			/* v2 has 16 random bytes then 8 reserved zero bytes; v1 has an LM
			 * response that is either all zero or random throughout */
			if (all_zero(c->value + 16, 8) && !all_zero(c->value, 16) &&
			    c->value[48] == 0)
				c->variant = PPP_CHAP_MSCHAPV2;
			else
				c->variant = PPP_CHAP_MSCHAPV1;
		}
		if (c->code == CHAP_RESPONSE && c->variant != PPP_CHAP_PLAIN) {
			if (n != 49)
				return diag_err_set(err, bbase, "%s Response: value size %u, expected "
				                    "49 for %s", layer, n,
				                    c->variant == PPP_CHAP_MSCHAPV2 ? "MS-CHAPv2" :
				                    "MS-CHAP"), -1;
			if (c->variant == PPP_CHAP_MSCHAPV2) {
				c->peer_challenge = c->value;
				c->nt_response = c->value + 24;
			} else {
				c->lm_response = c->value;
				c->nt_response = c->value + 24;
			}
			c->flags = c->value[48];
		}
		return 0;
	}
	case CHAP_SUCCESS: case CHAP_FAILURE:
		c->msg = body->p + body->off;
		c->msg_len = rd_left(body);
		if (c->code == CHAP_SUCCESS) {
			if (alg != CHAP_ALG_MD5 && alg != CHAP_ALG_MSCHAP &&
			    mschap_parse_success(c->msg, c->msg_len, &c->success) == 0) {
				c->has_success = true;
				c->variant = PPP_CHAP_MSCHAPV2;
			}
		} else if (alg != CHAP_ALG_MD5 &&
		           mschap_parse_failure(c->msg, c->msg_len, &c->failure) == 0) {
			c->has_failure = true;
			if (alg == CHAP_ALG_MSCHAPV2 || alg == CHAP_ALG_MSCHAP)
				c->variant = alg == CHAP_ALG_MSCHAPV2 ? PPP_CHAP_MSCHAPV2 :
				             PPP_CHAP_MSCHAPV1;
			else if (c->failure.challenge_len == 16 ||
			         (c->failure.has_version && c->failure.version >= 3))
				c->variant = PPP_CHAP_MSCHAPV2;
			else
				c->variant = PPP_CHAP_MSCHAPV1;
		}
		if (in_eap) c->variant = PPP_CHAP_MSCHAPV2;
		return 0;
	case CHAP_CHANGE_PASSWORD:
		if (rd_left(body) != 582)
			return diag_err_set(err, bbase, "%s Change-Password: body %zu bytes, "
			                    "expected 582", layer, rd_left(body)), -1;
		c->enc_password = rd_ptr(body, 516);
		c->enc_hash = rd_ptr(body, 16);
		c->peer_challenge = rd_ptr(body, 16);
		rd_skip(body, 8);
		c->nt_response = rd_ptr(body, 24);
		c->flags = rd_u16(body);
		c->variant = PPP_CHAP_MSCHAPV2;
		return 0;
	default:
		c->msg = body->p + body->off;
		c->msg_len = rd_left(body);
		return 0;
	}
}

static int decode_chap(struct ppp_msg *m, const uint8_t *p, size_t len, size_t base,
                       uint8_t alg, struct diag_err *err)
{
	struct ppp_chap *c = &m->chap;
	struct rd body;
	if (read_cp_header(p, len, base, "CHAP", &c->code, &c->id, &c->length, &body, err))
		return -1;
	return decode_chap_body(c, &body, base + 4, alg, false, err);
}

static int decode_eap(struct ppp_eap *e, const uint8_t *p, size_t len, size_t base,
                      struct diag_err *err)
{
	struct rd body;
	if (read_cp_header(p, len, base, "EAP", &e->code, &e->id, &e->length, &body, err))
		return -1;
	size_t bbase = base + 4;
	if (e->code != EAP_REQUEST && e->code != EAP_RESPONSE) {
		e->type_data = body.p;
		e->type_data_len = body.len;
		return 0;
	}
	if (rd_left(&body) == 0)
		return diag_err_set(err, bbase, "EAP %s: length %u leaves no room for the type",
		                    e->code == EAP_REQUEST ? "Request" : "Response",
		                    e->length), -1;
	e->has_type = true;
	e->type = rd_u8(&body);
	e->type_data = body.p + body.off;
	e->type_data_len = rd_left(&body);
	struct rd t;
	rd_init(&t, e->type_data, e->type_data_len);
	size_t tbase = bbase + 1;
	switch (e->type) {
	case EAP_TYPE_MD5: {
		uint8_t n = rd_u8(&t);
		e->value = rd_ptr(&t, n);
		if (!rd_ok(&t))
			return diag_err_set(err, tbase, "EAP MD5-Challenge: value size %u runs past "
			                    "the packet", n), -1;
		e->value_len = n;
		e->name = t.p + t.off;
		e->name_len = rd_left(&t);
		return 0;
	}
	case EAP_TYPE_TLS: case EAP_TYPE_TTLS: case EAP_TYPE_PEAP: case 43: {
		if (rd_left(&t) == 0)
			return diag_err_set(err, tbase, "EAP %s: no flags octet",
			                    tok_name(ppp_eap_type_names, e->type)), -1;
		e->tls_flags = rd_u8(&t);
		if (e->tls_flags & 0x80) {
			e->tls_len = rd_u32(&t);
			if (!rd_ok(&t))
				return diag_err_set(err, tbase + 1, "EAP %s: L flag set but the TLS "
				                    "message length is truncated",
				                    tok_name(ppp_eap_type_names, e->type)), -1;
			e->has_tls_len = true;
		}
		e->tls_data = t.p + t.off;
		e->tls_data_len = rd_left(&t);
		return 0;
	}
	case EAP_TYPE_MSCHAPV2: {
		struct ppp_chap *c = &e->chap;
		e->has_mschapv2 = true;
		c->variant = PPP_CHAP_MSCHAPV2;
		if (rd_left(&t) == 0)
			return diag_err_set(err, tbase, "EAP-MS-CHAPv2: no opcode"), -1;
		c->code = rd_u8(&t);
		if (rd_left(&t) == 0) /* peer's bare Success/Failure acknowledgement */
			return 0;
		c->id = rd_u8(&t);
		e->ms_length = rd_u16(&t);
		if (!rd_ok(&t))
			return diag_err_set(err, tbase + 1, "EAP-MS-CHAPv2: header truncated"), -1;
		e->has_ms_header = true;
		c->length = e->ms_length;
		if (e->ms_length > e->type_data_len)
			return diag_err_set(err, tbase + 2, "EAP-MS-CHAPv2: MS-Length %u > %zu "
			                    "bytes available", e->ms_length, e->type_data_len), -1;
		return decode_chap_body(c, &t, tbase + 4, CHAP_ALG_MSCHAPV2, true, err);
	}
	case EAP_TYPE_EXPANDED:
		e->exp_vendor = rd_u24(&t);
		e->exp_type = rd_u32(&t);
		if (!rd_ok(&t))
			return diag_err_set(err, tbase, "EAP Expanded: vendor id/type truncated"), -1;
		return 0;
	default:
		return 0;
	}
}

static int decode_mp(struct ppp_msg *m, const uint8_t *p, size_t len, size_t base,
                     bool short_seq, struct diag_err *err)
{
	struct ppp_mp *mp = &m->mp;
	size_t need = short_seq ? 2 : 4;
	if (len < need)
		return diag_err_set(err, base, "MP: header truncated (%zu of %zu bytes)",
		                    len, need), -1;
	mp->short_seq = short_seq;
	mp->begin = p[0] & 0x80;
	mp->end = p[0] & 0x40;
	if (short_seq) mp->seq = ((uint32_t)(p[0] & 0x0f) << 8) | p[1];
	else mp->seq = ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
	mp->frag = p + need;
	mp->frag_len = len - need;
	return 0;
}

int ppp_decode_ex(const uint8_t *p, size_t len, const struct ppp_hint *hint,
                  struct ppp_msg *out, struct diag_err *err)
{
	memset(out, 0, sizeof *out);
	size_t o = 0;
	if (len >= 2 && p[0] == 0xff && p[1] == 0x03) {
		out->has_acf = true;
		o = 2;
	} else if (len >= 1 && p[0] == 0xff) {
		return diag_err_set(err, 0, "PPP: address 0xff not followed by control 0x03"), -1;
	}
	if (o >= len)
		return diag_err_set(err, o, "PPP: frame ends before the protocol field"), -1;
	if (p[o] & 1) {
		out->pfc = true;
		out->proto = p[o];
		o += 1;
	} else {
		if (o + 2 > len)
			return diag_err_set(err, o, "PPP: protocol field truncated"), -1;
		out->proto = be16(p + o);
		if (!(out->proto & 1))
			return diag_err_set(err, o, "PPP: protocol 0x%04x is invalid (low octet "
			                    "must be odd)", out->proto), -1;
		o += 2;
	}
	out->hdr_len = o;
	out->payload = p + o;
	out->payload_len = len - o;
	uint8_t alg = hint ? hint->chap_alg : 0;
	switch (out->proto) {
	case PPP_PROTO_LCP: case PPP_PROTO_IPCP: case PPP_PROTO_CCP: case PPP_PROTO_IPV6CP:
	case PPP_PROTO_ECP: case 0x80fb:
		out->kind = PPP_KIND_CP;
		return decode_cp(out, out->payload, out->payload_len, o, err);
	case PPP_PROTO_PAP:
		out->kind = PPP_KIND_PAP;
		return decode_pap(out, out->payload, out->payload_len, o, err);
	case PPP_PROTO_CHAP:
		out->kind = PPP_KIND_CHAP;
		return decode_chap(out, out->payload, out->payload_len, o, alg, err);
	case PPP_PROTO_EAP:
		out->kind = PPP_KIND_EAP;
		return decode_eap(&out->eap, out->payload, out->payload_len, o, err);
	case PPP_PROTO_MP:
		out->kind = PPP_KIND_MP;
		return decode_mp(out, out->payload, out->payload_len, o,
		                 hint ? hint->mp_short_seq : false, err);
	case PPP_PROTO_IP: case PPP_PROTO_IPV6: case PPP_PROTO_COMP: case 0x00fb:
	case 0x002d: case 0x002f:
		out->kind = PPP_KIND_DATA;
		return 0;
	default:
		out->kind = PPP_KIND_UNKNOWN;
		return 0;
	}
}

int ppp_eap_decode(const uint8_t *p, size_t len, struct ppp_eap *out, struct diag_err *err)
{
	memset(out, 0, sizeof *out);
	return decode_eap(out, p, len, 0, err);
}

int ppp_decode(const uint8_t *p, size_t len, struct ppp_msg *out, struct diag_err *err)
{
	return ppp_decode_ex(p, len, NULL, out, err);
}

const struct ppp_opt *ppp_cp_find_opt(const struct ppp_cp *cp, uint8_t type)
{
	for (size_t i = 0; i < cp->nopts && i < PPP_MAX_OPTS; i++)
		if (cp->opts[i].type == type)
			return &cp->opts[i];
	return NULL;
}

bool ppp_hint_update(struct ppp_hint *hint, const struct ppp_msg *m)
{
	if (m->kind != PPP_KIND_CP || m->proto != PPP_PROTO_LCP || m->cp.code != PPP_CONF_ACK)
		return false;
	bool changed = false;
	const struct ppp_opt *o = ppp_cp_find_opt(&m->cp, LCP_OPT_AUTH);
	if (o && o->dlen >= 2) {
		uint8_t alg = 0;
		if (be16(o->data) == PPP_PROTO_CHAP && o->dlen >= 3) alg = o->data[2];
		if (hint->chap_alg != alg) { hint->chap_alg = alg; changed = true; }
	}
	if (ppp_cp_find_opt(&m->cp, LCP_OPT_SSNHF) && !hint->mp_short_seq) {
		hint->mp_short_seq = true;
		changed = true;
	}
	return changed;
}

/* ---- summaries ----------------------------------------------------------------- */
static void ip4_str(const uint8_t *a, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

static void mppe_bits_str(uint32_t v, char *buf, size_t n)
{
	struct sbuf b;
	sbuf_init(&b, buf, n);
	static const struct { uint32_t bit; const char *s; } bits[] = {
		{ MPPE_BIT_H, "H" }, { MPPE_BIT_M, "M" }, { MPPE_BIT_S, "S" },
		{ MPPE_BIT_L, "L" }, { MPPE_BIT_D, "D" }, { MPPE_BIT_C, "C" },
	};
	const char *sep = "";
	for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
		if (v & bits[i].bit) { sbuf_add(&b, "%s%s", sep, bits[i].s); sep = ","; }
}

static void summary_opt(struct sbuf *b, uint16_t proto, const struct ppp_opt *o)
{
	char nb[16];
	const uint8_t *d = o->data;
	if (proto == PPP_PROTO_LCP) {
		const char *nm = tok_name(lcp_opt_short, o->type);
		switch (o->type) {
		case LCP_OPT_MRU: sbuf_add(b, "MRU=%u", be16(d)); return;
		case LCP_OPT_ACCM: sbuf_add(b, "ACCM=0x%08x", be32(d)); return;
		case LCP_OPT_MAGIC: sbuf_add(b, "magic=0x%08x", be32(d)); return;
		case LCP_OPT_MRRU: sbuf_add(b, "MRRU=%u", be16(d)); return;
		case LCP_OPT_LINK_DISC: sbuf_add(b, "LD=%u", be16(d)); return;
		case LCP_OPT_PFC: case LCP_OPT_ACFC: case LCP_OPT_SSNHF:
			sbuf_add(b, "%s", nm); return;
		case LCP_OPT_AUTH: {
			uint16_t ap = be16(d);
			sbuf_add(b, "auth=%s", tok_str(ppp_proto_names, ap, nb, sizeof nb));
			if (ap == PPP_PROTO_CHAP && o->dlen >= 3)
				sbuf_add(b, "/%s", tok_str(ppp_chap_alg_names, d[2], nb, sizeof nb));
			return;
		}
		case LCP_OPT_QUALITY:
			sbuf_add(b, "quality=%s", tok_str(ppp_proto_names, be16(d), nb, sizeof nb));
			return;
		case LCP_OPT_CALLBACK:
			sbuf_add(b, "callback=%s", tok_str(callback_op_names, d[0], nb, sizeof nb));
			return;
		case LCP_OPT_ENDPOINT:
			sbuf_add(b, "ED=%s", tok_str(ed_class_names, d[0], nb, sizeof nb));
			if (o->dlen > 1) { sbuf_add(b, ":"); sb_hex(b, d + 1, o->dlen - 1); }
			return;
		default:
			if (nm) { sbuf_add(b, "%s", nm); return; }
			break;
		}
	} else if (proto == PPP_PROTO_IPCP) {
		char a[16], a2[16];
		const char *nm = tok_name(ipcp_opt_short, o->type);
		switch (o->type) {
		case IPCP_OPT_ADDR: case IPCP_OPT_DNS1: case IPCP_OPT_DNS2:
		case IPCP_OPT_NBNS1: case IPCP_OPT_NBNS2: case 4:
			ip4_str(d, a, sizeof a);
			sbuf_add(b, "%s=%s", nm, a);
			return;
		case IPCP_OPT_ADDRS:
			ip4_str(d, a, sizeof a);
			ip4_str(d + 4, a2, sizeof a2);
			sbuf_add(b, "addrs=%s,%s", a, a2);
			return;
		case IPCP_OPT_COMP:
			sbuf_add(b, "comp=%s", tok_str(ipcp_comp_names, be16(d), nb, sizeof nb));
			return;
		default: break;
		}
	} else if (proto == PPP_PROTO_CCP) {
		if (o->type == CCP_OPT_MPPE) {
			char bits[32];
			mppe_bits_str(be32(d), bits, sizeof bits);
			sbuf_add(b, "MPPE=0x%08x(%s)", be32(d), bits);
			return;
		}
		const char *nm = tok_name(ppp_ccp_opt_names, o->type);
		if (nm) { sbuf_add(b, "%s", nm); return; }
	} else if (proto == PPP_PROTO_IPV6CP) {
		if (o->type == IPV6CP_OPT_IFID) {
			sbuf_add(b, "ifid=%02x:%02x:%02x:%02x:%02x:%02x:%02x:%02x", d[0], d[1],
			          d[2], d[3], d[4], d[5], d[6], d[7]);
			return;
		}
		if (o->type == 2) { sbuf_add(b, "comp=0x%04x", be16(d)); return; }
	} else {
		const struct tok *t = opt_names_for(proto);
		const char *nm = t ? tok_name(t, o->type) : NULL;
		if (nm) { sbuf_add(b, "%s", nm); return; }
	}
	sbuf_add(b, "opt%u", o->type);
	if (o->dlen) { sbuf_add(b, "="); sb_hex(b, d, o->dlen); }
}

static void summary_cp(struct sbuf *b, const struct ppp_msg *m)
{
	const struct ppp_cp *cp = &m->cp;
	char nb[16];
	sbuf_add(b, " %s id %u", tok_str(ppp_cp_code_names, cp->code, nb, sizeof nb), cp->id);
	if (cp->code >= 1 && cp->code <= 4) {
		sbuf_add(b, " [");
		for (size_t i = 0; i < cp->nopts; i++) {
			if (i) sbuf_add(b, " ");
			summary_opt(b, m->proto, &cp->opts[i]);
		}
		sbuf_add(b, "]");
		return;
	}
	if (m->proto == PPP_PROTO_LCP && cp->code == PPP_PROTO_REJ) {
		sbuf_add(b, " proto %s (0x%04x)",
		          tok_str(ppp_proto_names, cp->rejected_proto, nb, sizeof nb),
		          cp->rejected_proto);
		return;
	}
	if (cp->has_magic) sbuf_add(b, " magic=0x%08x", cp->magic);
	if (cp->code == PPP_TIME_REMAINING) sbuf_add(b, " seconds=%u", cp->seconds);
	if ((cp->code == PPP_IDENTIFICATION || cp->code == PPP_TIME_REMAINING ||
	     cp->code == PPP_TERM_REQ || cp->code == PPP_TERM_ACK) && cp->dlen) {
		sbuf_add(b, " \"");
		sb_text(b, cp->data, cp->dlen);
		sbuf_add(b, "\"");
	} else if (cp->code == PPP_CODE_REJ && cp->dlen) {
		sbuf_add(b, " rejected code %u", cp->data[0]);
	} else if (cp->dlen && !cp->has_magic) {
		sbuf_add(b, " data %zu bytes", cp->dlen);
	}
}

static void summary_chap(struct sbuf *b, const struct ppp_chap *c, bool eap)
{
	char nb[16];
	sbuf_add(b, " %s id %u", tok_str(ppp_chap_code_names, c->code, nb, sizeof nb), c->id);
	const char *var = c->variant == PPP_CHAP_MSCHAPV2 ? "MS-CHAPv2" :
	                  c->variant == PPP_CHAP_MSCHAPV1 ? "MS-CHAP" : NULL;
	switch (c->code) {
	case CHAP_CHALLENGE: case CHAP_RESPONSE:
		if (var && !eap) sbuf_add(b, " %s", var);
		sbuf_add(b, " name=\"");
		sb_text(b, c->name, c->name_len);
		sbuf_add(b, "\"");
		if (c->nt_response) {
			if (c->peer_challenge) {
				sbuf_add(b, " peer-challenge=");
				sb_hex(b, c->peer_challenge, 16);
			}
			sbuf_add(b, " nt-response=");
			sb_hex(b, c->nt_response, 24);
		} else {
			sbuf_add(b, " value=");
			sb_hex(b, c->value, c->value_len);
		}
		return;
	case CHAP_SUCCESS:
		if (c->has_success) {
			sbuf_add(b, " S=");
			for (size_t i = 0; i < 20; i++) sbuf_add(b, "%02X", c->success.auth_response[i]);
			if (c->success.has_msg) {
				sbuf_add(b, " \"M=");
				sb_text(b, c->success.msg, c->success.msg_len);
				sbuf_add(b, "\"");
			}
			return;
		}
		break;
	case CHAP_FAILURE:
		if (c->has_failure) {
			const struct mschap_failure *f = &c->failure;
			const char *en = mschap_error_name(f->error);
			sbuf_add(b, " E=%u", f->error);
			if (en) sbuf_add(b, " (%s)", en);
			if (f->has_retry) sbuf_add(b, " R=%u", f->retry);
			if (f->has_version) sbuf_add(b, " V=%u", f->version);
			if (f->has_msg) {
				sbuf_add(b, " \"M=");
				sb_text(b, f->msg, f->msg_len);
				sbuf_add(b, "\"");
			}
			return;
		}
		break;
	case CHAP_CHANGE_PASSWORD:
		sbuf_add(b, " MS-CHAPv2 nt-response=");
		if (c->nt_response) sb_hex(b, c->nt_response, 24);
		return;
	default:
		break;
	}
	if (c->msg_len) {
		sbuf_add(b, " \"");
		sb_text(b, c->msg, c->msg_len);
		sbuf_add(b, "\"");
	}
}

static void summary_eap(struct sbuf *b, const struct ppp_eap *e)
{
	char nb[16];
	sbuf_add(b, " %s id %u", tok_str(ppp_eap_code_names, e->code, nb, sizeof nb), e->id);
	if (!e->has_type) return;
	sbuf_add(b, " %s", tok_str(ppp_eap_type_names, e->type, nb, sizeof nb));
	switch (e->type) {
	case EAP_TYPE_IDENTITY: case EAP_TYPE_NOTIFICATION:
		sbuf_add(b, " \"");
		sb_text(b, e->type_data, e->type_data_len);
		sbuf_add(b, "\"");
		return;
	case EAP_TYPE_NAK:
		sbuf_add(b, " desired");
		for (size_t i = 0; i < e->type_data_len && i < 16; i++)
			sbuf_add(b, " %s", tok_str(ppp_eap_type_names, e->type_data[i], nb,
			                            sizeof nb));
		return;
	case EAP_TYPE_MD5:
		sbuf_add(b, " value=");
		sb_hex(b, e->value, e->value_len);
		if (e->name_len) {
			sbuf_add(b, " name=\"");
			sb_text(b, e->name, e->name_len);
			sbuf_add(b, "\"");
		}
		return;
	case EAP_TYPE_TLS: case EAP_TYPE_TTLS: case EAP_TYPE_PEAP: case 43:
		if (e->tls_flags & 0xe0)
			sbuf_add(b, " flags=%s%s%s", e->tls_flags & 0x80 ? "L" : "",
			          e->tls_flags & 0x40 ? "M" : "", e->tls_flags & 0x20 ? "S" : "");
		else
			sbuf_add(b, " flags=none");
		if (e->has_tls_len) sbuf_add(b, " tls-length=%u", e->tls_len);
		sbuf_add(b, " data %zu bytes", e->tls_data_len);
		return;
	case EAP_TYPE_MSCHAPV2:
		summary_chap(b, &e->chap, true);
		return;
	case EAP_TYPE_EXPANDED:
		sbuf_add(b, " vendor %u type %u", e->exp_vendor, e->exp_type);
		return;
	default:
		if (e->type_data_len) sbuf_add(b, " data %zu bytes", e->type_data_len);
		return;
	}
}

void ppp_summary_ex(const struct ppp_msg *m, const struct ppp_hint *hint, char *buf,
                    size_t bufsz)
{
	struct sbuf b;
	char nb[16];
	sbuf_init(&b, buf, bufsz);
	const char *pn = tok_name(ppp_proto_names, m->proto);
	switch (m->kind) {
	case PPP_KIND_CP:
		sbuf_add(&b, "PPP %s", pn);
		summary_cp(&b, m);
		return;
	case PPP_KIND_PAP: {
		const struct ppp_pap *a = &m->pap;
		sbuf_add(&b, "PPP PAP %s id %u",
		          tok_str(ppp_pap_code_names, a->code, nb, sizeof nb), a->id);
		if (a->code == PAP_AUTH_REQ) {
			sbuf_add(&b, " peer-id=\"");
			sb_text(&b, a->peer_id, a->peer_id_len);
			if (hint && hint->show_password) {
				sbuf_add(&b, "\" password=\"");
				sb_text(&b, a->password, a->password_len);
				sbuf_add(&b, "\"");
			} else {
				sbuf_add(&b, "\" password=(%zu bytes)", a->password_len);
			}
		} else if (a->msg_len) {
			sbuf_add(&b, " \"");
			sb_text(&b, a->msg, a->msg_len);
			sbuf_add(&b, "\"");
		}
		return;
	}
	case PPP_KIND_CHAP:
		sbuf_add(&b, "PPP CHAP");
		summary_chap(&b, &m->chap, false);
		return;
	case PPP_KIND_EAP:
		sbuf_add(&b, "PPP EAP");
		summary_eap(&b, &m->eap);
		return;
	case PPP_KIND_MP:
		sbuf_add(&b, "PPP MP seq %u%s%s fragment %zu bytes", m->mp.seq,
		          m->mp.begin ? " B" : "", m->mp.end ? " E" : "", m->mp.frag_len);
		return;
	case PPP_KIND_DATA:
		sbuf_add(&b, "PPP %s %zu bytes", pn, m->payload_len);
		return;
	case PPP_KIND_UNKNOWN:
	default:
		if (pn) sbuf_add(&b, "PPP %s (0x%04x) %zu bytes", pn, m->proto, m->payload_len);
		else sbuf_add(&b, "PPP protocol 0x%04x %zu bytes", m->proto, m->payload_len);
		return;
	}
}

void ppp_eap_summary(const struct ppp_eap *e, char *buf, size_t bufsz)
{
	struct sbuf b;
	sbuf_init(&b, buf, bufsz);
	sbuf_add(&b, "EAP");
	summary_eap(&b, e);
}

void ppp_summary(const struct ppp_msg *m, char *buf, size_t bufsz)
{
	ppp_summary_ex(m, NULL, buf, bufsz);
}

/* ---- JSON ---------------------------------------------------------------------- */
static void jset_named(struct jw *w, const char *key, const struct tok *t, unsigned v)
{
	char k2[48];
	const char *n = tok_name(t, v);
	if (n) jw_str(w, key, n);
	else jw_int(w, key, v);
	snprintf(k2, sizeof k2, "%s_num", key);
	jw_int(w, k2, v);
}

static void jset_hex32(struct jw *w, const char *key, uint32_t v)
{
	char b[16];
	snprintf(b, sizeof b, "0x%08x", v);
	jw_str(w, key, b);
}

static void jset_ip4(struct jw *w, const char *key, const uint8_t *d)
{
	char a[16];
	ip4_str(d, a, sizeof a);
	jw_str(w, key, a);
}

static void opt_jw(struct jw *w, uint16_t proto, const struct ppp_opt *op)
{
	jw_obj(w, NULL);
	const struct tok *names = opt_names_for(proto);
	const uint8_t *d = op->data;
	if (names) {
		jset_named(w, "type", names, op->type);
	} else {
		jw_int(w, "type", op->type);
		jw_int(w, "type_num", op->type);
	}
	jw_int(w, "length", op->len);
	bool done = false;
	if (proto == PPP_PROTO_LCP) {
		done = true;
		switch (op->type) {
		case LCP_OPT_MRU: jw_int(w, "mru", be16(d)); break;
		case LCP_OPT_MRRU: jw_int(w, "mrru", be16(d)); break;
		case LCP_OPT_ACCM: jset_hex32(w, "accm", be32(d)); break;
		case LCP_OPT_MAGIC: jset_hex32(w, "magic", be32(d)); break;
		case LCP_OPT_LINK_DISC:
			jw_int(w, "link_discriminator", be16(d));
			break;
		case LCP_OPT_PFC: case LCP_OPT_ACFC: case LCP_OPT_SSNHF: break;
		case LCP_OPT_AUTH:
			jset_named(w, "protocol", ppp_proto_names, be16(d));
			if (be16(d) == PPP_PROTO_CHAP && op->dlen >= 3)
				jset_named(w, "algorithm", ppp_chap_alg_names, d[2]);
			if (op->dlen > 3 || (op->dlen == 3 && be16(d) != PPP_PROTO_CHAP))
				jw_hex(w, "data", d + 2, op->dlen - 2);
			break;
		case LCP_OPT_QUALITY:
			jset_named(w, "protocol", ppp_proto_names, be16(d));
			if (op->dlen > 2)
				jw_hex(w, "data", d + 2, op->dlen - 2);
			break;
		case LCP_OPT_CALLBACK:
			jset_named(w, "operation", callback_op_names, d[0]);
			if (op->dlen > 1)
				jw_text(w, "message", d + 1, op->dlen - 1);
			break;
		case LCP_OPT_ENDPOINT:
			jset_named(w, "class", ed_class_names, d[0]);
			jw_hex(w, "address", d + 1, op->dlen - 1);
			break;
		case LCP_OPT_FCS_ALT: case LCP_OPT_SDP: case LCP_OPT_NUMBERED:
			jw_int(w, "value", d[0]);
			if (op->dlen > 1)
				jw_hex(w, "data", d + 1, op->dlen - 1);
			break;
		default: done = false; break;
		}
	} else if (proto == PPP_PROTO_IPCP) {
		done = true;
		switch (op->type) {
		case IPCP_OPT_ADDR: jset_ip4(w, "address", d); break;
		case IPCP_OPT_DNS1: case IPCP_OPT_DNS2: jset_ip4(w, "dns", d); break;
		case IPCP_OPT_NBNS1: case IPCP_OPT_NBNS2: jset_ip4(w, "nbns", d); break;
		case 4: jset_ip4(w, "home_address", d); break;
		case IPCP_OPT_ADDRS:
			jset_ip4(w, "source", d);
			jset_ip4(w, "destination", d + 4);
			break;
		case IPCP_OPT_COMP:
			jset_named(w, "protocol", ipcp_comp_names, be16(d));
			if (op->dlen > 2)
				jw_hex(w, "data", d + 2, op->dlen - 2);
			break;
		default: done = false; break;
		}
	} else if (proto == PPP_PROTO_CCP && op->type == CCP_OPT_MPPE) {
		uint32_t v = be32(d);
		jset_hex32(w, "supported_bits", v);
		jw_bool(w, "stateless", v & MPPE_BIT_H);
		jw_bool(w, "mppe_56", v & MPPE_BIT_M);
		jw_bool(w, "mppe_128", v & MPPE_BIT_S);
		jw_bool(w, "mppe_40", v & MPPE_BIT_L);
		jw_bool(w, "obsolete_d", v & MPPE_BIT_D);
		jw_bool(w, "mppc", v & MPPE_BIT_C);
		done = true;
	} else if (proto == PPP_PROTO_IPV6CP && op->type == IPV6CP_OPT_IFID) {
		char s[24];
		snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x:%02x:%02x", d[0], d[1], d[2],
		         d[3], d[4], d[5], d[6], d[7]);
		jw_str(w, "interface_identifier", s);
		done = true;
	}
	if (!done && op->dlen)
		jw_hex(w, "data", d, op->dlen);
	jw_end(w);
}

static void failure_jw(struct jw *w, const struct mschap_failure *f)
{
	if (f->has_error) {
		jw_int(w, "error", f->error);
		const char *en = mschap_error_name(f->error);
		if (en) jw_str(w, "error_name", en);
	}
	if (f->has_retry) jw_int(w, "retry", f->retry);
	if (f->has_challenge)
		jw_hex(w, "challenge", f->challenge, f->challenge_len);
	if (f->has_version) jw_int(w, "version", f->version);
	if (f->has_msg) jw_text(w, "message", f->msg, f->msg_len);
}

static void chap_jw(struct jw *w, const struct ppp_chap *c, bool with_length)
{
	jset_named(w, "code", ppp_chap_code_names, c->code);
	jw_int(w, "identifier", c->id);
	if (with_length) jw_int(w, "length", c->length);
	if (c->variant != PPP_CHAP_PLAIN)
		jw_str(w, "variant", c->variant == PPP_CHAP_MSCHAPV2 ?
		                                              "MS-CHAPv2" : "MS-CHAP");
	switch (c->code) {
	case CHAP_CHALLENGE: case CHAP_RESPONSE:
		jw_int(w, "value_size", c->value_len);
		jw_hex(w, "value", c->value, c->value_len);
		jw_text(w, "name", c->name, c->name_len);
		if (c->code == CHAP_RESPONSE && c->nt_response) {
			if (c->variant == PPP_CHAP_MSCHAPV2) {
				jw_obj(w, "mschapv2");
				jw_hex(w, "peer_challenge", c->peer_challenge, 16);
				jw_hex(w, "reserved", c->value + 16, 8);
				jw_hex(w, "nt_response", c->nt_response, 24);
				jw_int(w, "flags", c->flags);
				jw_end(w);
			} else {
				jw_obj(w, "mschap");
				jw_hex(w, "lm_response", c->lm_response, 24);
				jw_hex(w, "nt_response", c->nt_response, 24);
				jw_bool(w, "use_nt", c->flags & 1);
				jw_end(w);
			}
		}
		break;
	case CHAP_SUCCESS: case CHAP_FAILURE:
		jw_text(w, "message", c->msg, c->msg_len);
		if (c->has_success) {
			jw_obj(w, "mschapv2_success");
			jw_hex(w, "auth_response", c->success.auth_response, 20);
			if (c->success.has_msg)
				jw_text(w, "message", c->success.msg, c->success.msg_len);
			jw_end(w);
		}
		if (c->has_failure) {
			jw_obj(w, "mschap_error");
			failure_jw(w, &c->failure);
			jw_end(w);
		}
		break;
	case CHAP_CHANGE_PASSWORD:
		if (c->enc_password) {
			jw_hex(w, "encrypted_password", c->enc_password, 516);
			jw_hex(w, "encrypted_hash", c->enc_hash, 16);
			jw_hex(w, "peer_challenge", c->peer_challenge, 16);
			jw_hex(w, "nt_response", c->nt_response, 24);
			jw_int(w, "flags", c->flags);
		}
		break;
	default:
		if (c->msg_len) jw_hex(w, "data", c->msg, c->msg_len);
		break;
	}
}

void ppp_eap_jw(struct jw *w, const struct ppp_eap *e)
{
	jset_named(w, "code", ppp_eap_code_names, e->code);
	jw_int(w, "identifier", e->id);
	jw_int(w, "length", e->length);
	if (!e->has_type) {
		if (e->type_data_len)
			jw_hex(w, "data", e->type_data, e->type_data_len);
		return;
	}
	jset_named(w, "type", ppp_eap_type_names, e->type);
	switch (e->type) {
	case EAP_TYPE_IDENTITY:
		jw_text(w, "identity", e->type_data, e->type_data_len);
		break;
	case EAP_TYPE_NOTIFICATION:
		jw_text(w, "notification", e->type_data, e->type_data_len);
		break;
	case EAP_TYPE_NAK: {
		jw_arr(w, "desired_types");
		for (size_t i = 0; i < e->type_data_len; i++) {
			const char *n = tok_name(ppp_eap_type_names, e->type_data[i]);
			if (n) jw_str(w, NULL, n);
			else jw_int(w, NULL, e->type_data[i]);
		}
		jw_end(w);
		break;
	}
	case EAP_TYPE_MD5:
		jw_int(w, "value_size", e->value_len);
		jw_hex(w, "value", e->value, e->value_len);
		jw_text(w, "name", e->name, e->name_len);
		break;
	case EAP_TYPE_TLS: case EAP_TYPE_TTLS: case EAP_TYPE_PEAP: case 43: {
		jw_obj(w, "flags");
		jw_bool(w, "length_included", e->tls_flags & 0x80);
		jw_bool(w, "more_fragments", e->tls_flags & 0x40);
		jw_bool(w, "start", e->tls_flags & 0x20);
		if (e->type != EAP_TYPE_TLS)
			jw_int(w, "version", e->tls_flags & 7);
		jw_end(w);
		if (e->has_tls_len)
			jw_int(w, "tls_length", e->tls_len);
		jw_int(w, "tls_data_length", e->tls_data_len);
		break;
	}
	case EAP_TYPE_MSCHAPV2: {
		jw_obj(w, "mschapv2");
		if (e->has_ms_header) {
			chap_jw(w, &e->chap, false); /* the MS-CHAPv2 header's length instead */
			jw_int(w, "ms_length", e->ms_length);
		} else {
			jset_named(w, "code", ppp_chap_code_names, e->chap.code);
		}
		jw_end(w);
		break;
	}
	case EAP_TYPE_EXPANDED:
		jw_int(w, "vendor_id", e->exp_vendor);
		jw_int(w, "vendor_type", e->exp_type);
		break;
	default:
		if (e->type_data_len)
			jw_hex(w, "data", e->type_data, e->type_data_len);
		break;
	}
}

void ppp_jw_ex(struct jw *w, const struct ppp_msg *m, const struct ppp_hint *hint)
{
	if (m->has_acf) {
		jw_int(w, "address", 0xff);
		jw_int(w, "control", 3);
	}
	jset_named(w, "protocol", ppp_proto_names, m->proto);
	if (m->pfc) jw_bool(w, "protocol_compressed", true);
	switch (m->kind) {
	case PPP_KIND_CP: {
		const struct ppp_cp *cp = &m->cp;
		jset_named(w, "code", ppp_cp_code_names, cp->code);
		jw_int(w, "identifier", cp->id);
		jw_int(w, "length", cp->length);
		if (cp->code >= 1 && cp->code <= 4) {
			jw_arr(w, "options");
			for (size_t i = 0; i < cp->nopts; i++)
				opt_jw(w, m->proto, &cp->opts[i]);
			jw_end(w);
			break;
		}
		if (m->proto == PPP_PROTO_LCP && cp->code == PPP_PROTO_REJ)
			jset_named(w, "rejected_protocol", ppp_proto_names, cp->rejected_proto);
		if (cp->has_magic) jset_hex32(w, "magic", cp->magic);
		if (cp->code == PPP_TIME_REMAINING && m->proto == PPP_PROTO_LCP)
			jw_int(w, "seconds", cp->seconds);
		if (m->proto == PPP_PROTO_LCP &&
		    (cp->code == PPP_IDENTIFICATION || cp->code == PPP_TIME_REMAINING))
			jw_text(w, "message", cp->data, cp->dlen);
		else if (cp->dlen)
			jw_hex(w, "data", cp->data, cp->dlen);
		break;
	}
	case PPP_KIND_PAP: {
		const struct ppp_pap *a = &m->pap;
		jset_named(w, "code", ppp_pap_code_names, a->code);
		jw_int(w, "identifier", a->id);
		jw_int(w, "length", a->length);
		if (a->code == PAP_AUTH_REQ) {
			jw_text(w, "peer_id", a->peer_id, a->peer_id_len);
			jw_int(w, "password_length", a->password_len);
			if (hint && hint->show_password)
				jw_text(w, "password", a->password, a->password_len);
		} else if (a->code == PAP_AUTH_ACK || a->code == PAP_AUTH_NAK) {
			jw_text(w, "message", a->msg, a->msg_len);
		} else if (a->msg_len) {
			jw_hex(w, "data", a->msg, a->msg_len);
		}
		break;
	}
	case PPP_KIND_CHAP:
		chap_jw(w, &m->chap, true);
		break;
	case PPP_KIND_EAP:
		jw_obj(w, "eap");
		ppp_eap_jw(w, &m->eap);
		jw_end(w);
		break;
	case PPP_KIND_MP:
		jw_bool(w, "begin", m->mp.begin);
		jw_bool(w, "end", m->mp.end);
		jw_bool(w, "short_sequence", m->mp.short_seq);
		jw_int(w, "sequence", m->mp.seq);
		jw_int(w, "fragment_length", m->mp.frag_len);
		break;
	case PPP_KIND_DATA:
	case PPP_KIND_UNKNOWN:
	default:
		jw_int(w, "payload_length", m->payload_len);
		break;
	}
}

void ppp_jw(struct jw *w, const struct ppp_msg *m) { ppp_jw_ex(w, m, NULL); }

json_t *ppp_to_json_ex(const struct ppp_msg *m, const struct ppp_hint *hint)
{
	struct jw w;
	jw_init(&w, JW_TREE, NULL);
	jw_obj(&w, NULL);
	ppp_jw_ex(&w, m, hint);
	jw_end(&w);
	json_t *j = jw_take(&w);
	jw_free(&w);
	return j;
}

json_t *ppp_to_json(const struct ppp_msg *m) { return ppp_to_json_ex(m, NULL); }

json_t *ppp_eap_to_json(const struct ppp_eap *e)
{
	struct jw w;
	jw_init(&w, JW_TREE, NULL);
	jw_obj(&w, NULL);
	ppp_eap_jw(&w, e);
	jw_end(&w);
	json_t *j = jw_take(&w);
	jw_free(&w);
	return j;
}

/* ---- encoding ------------------------------------------------------------------ */
static void enc_chap_body(struct wr *w, const struct ppp_chap *c)
{
	switch (c->code) {
	case CHAP_CHALLENGE: case CHAP_RESPONSE:
		if (c->value_len > 255) { w->err = true; return; }
		wr_u8(w, (uint8_t)c->value_len);
		wr_bytes(w, c->value, c->value_len);
		wr_bytes(w, c->name, c->name_len);
		return;
	case CHAP_CHANGE_PASSWORD: {
		static const uint8_t zero[8];
		if (!c->enc_password || !c->enc_hash || !c->peer_challenge || !c->nt_response) {
			w->err = true;
			return;
		}
		wr_bytes(w, c->enc_password, 516);
		wr_bytes(w, c->enc_hash, 16);
		wr_bytes(w, c->peer_challenge, 16);
		wr_bytes(w, zero, 8);
		wr_bytes(w, c->nt_response, 24);
		wr_u16(w, c->flags);
		return;
	}
	default:
		wr_bytes(w, c->msg, c->msg_len);
		return;
	}
}

static void enc_len_at(struct wr *w, size_t start)
{
	size_t n = w->off - start;
	if (n > 0xffff) { w->err = true; return; }
	wr_put16_at(w, start + 2, (uint16_t)n);
}

size_t ppp_encode(const struct ppp_msg *m, uint8_t *buf, size_t cap)
{
	struct wr w;
	wr_init(&w, buf, cap);
	if (m->has_acf) { wr_u8(&w, 0xff); wr_u8(&w, 0x03); }
	if (m->pfc && m->proto < 0x100 && (m->proto & 1)) wr_u8(&w, (uint8_t)m->proto);
	else wr_u16(&w, m->proto);
	size_t start = w.off;
	switch (m->kind) {
	case PPP_KIND_CP: {
		const struct ppp_cp *cp = &m->cp;
		wr_u8(&w, cp->code); wr_u8(&w, cp->id); wr_u16(&w, 0);
		bool lcp = m->proto == PPP_PROTO_LCP;
		if (cp->code >= 1 && cp->code <= 4) {
			if (cp->nopts > PPP_MAX_OPTS) return 0;
			for (size_t i = 0; i < cp->nopts; i++) {
				const struct ppp_opt *o = &cp->opts[i];
				if (o->dlen > 253) return 0;
				wr_u8(&w, o->type);
				wr_u8(&w, (uint8_t)(o->dlen + 2));
				wr_bytes(&w, o->data, o->dlen);
			}
		} else if (lcp && cp->code == PPP_PROTO_REJ) {
			wr_u16(&w, cp->rejected_proto);
			wr_bytes(&w, cp->data, cp->dlen);
		} else if (lcp && cp->code >= PPP_ECHO_REQ && cp->code <= PPP_TIME_REMAINING) {
			wr_u32(&w, cp->magic);
			if (cp->code == PPP_TIME_REMAINING) wr_u32(&w, cp->seconds);
			wr_bytes(&w, cp->data, cp->dlen);
		} else {
			wr_bytes(&w, cp->data, cp->dlen);
		}
		enc_len_at(&w, start);
		break;
	}
	case PPP_KIND_PAP: {
		const struct ppp_pap *a = &m->pap;
		wr_u8(&w, a->code); wr_u8(&w, a->id); wr_u16(&w, 0);
		if (a->code == PAP_AUTH_REQ) {
			if (a->peer_id_len > 255 || a->password_len > 255) return 0;
			wr_u8(&w, (uint8_t)a->peer_id_len);
			wr_bytes(&w, a->peer_id, a->peer_id_len);
			wr_u8(&w, (uint8_t)a->password_len);
			wr_bytes(&w, a->password, a->password_len);
		} else if (a->code == PAP_AUTH_ACK || a->code == PAP_AUTH_NAK) {
			if (a->msg_len > 255) return 0;
			wr_u8(&w, (uint8_t)a->msg_len);
			wr_bytes(&w, a->msg, a->msg_len);
		} else {
			wr_bytes(&w, a->msg, a->msg_len);
		}
		enc_len_at(&w, start);
		break;
	}
	case PPP_KIND_CHAP:
		wr_u8(&w, m->chap.code); wr_u8(&w, m->chap.id); wr_u16(&w, 0);
		enc_chap_body(&w, &m->chap);
		enc_len_at(&w, start);
		break;
	case PPP_KIND_EAP: {
		const struct ppp_eap *e = &m->eap;
		wr_u8(&w, e->code); wr_u8(&w, e->id); wr_u16(&w, 0);
		if (e->has_type) wr_u8(&w, e->type);
		wr_bytes(&w, e->type_data, e->type_data_len);
		enc_len_at(&w, start);
		break;
	}
	case PPP_KIND_MP: {
		const struct ppp_mp *mp = &m->mp;
		uint8_t be = (uint8_t)((mp->begin ? 0x80 : 0) | (mp->end ? 0x40 : 0));
		if (mp->short_seq) {
			wr_u8(&w, (uint8_t)(be | ((mp->seq >> 8) & 0x0f)));
			wr_u8(&w, (uint8_t)mp->seq);
		} else {
			wr_u8(&w, be);
			wr_u24(&w, mp->seq & 0xffffff);
		}
		wr_bytes(&w, mp->frag, mp->frag_len);
		break;
	}
	case PPP_KIND_DATA:
	case PPP_KIND_UNKNOWN:
	default:
		wr_bytes(&w, m->payload, m->payload_len);
		break;
	}
	return w.err ? 0 : w.off;
}
