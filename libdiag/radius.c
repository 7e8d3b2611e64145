/* RADIUS decoder, summaries, JSON, encoder and shared-secret operations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include "radius.h"
#include "ppp.h"

/* ---- tables ------------------------------------------------------------------- */
const struct tok radius_code_names[] = {
	{ 1, "Access-Request" }, { 2, "Access-Accept" }, { 3, "Access-Reject" },
	{ 4, "Accounting-Request" }, { 5, "Accounting-Response" },
	{ 11, "Access-Challenge" }, { 12, "Status-Server" }, { 13, "Status-Client" },
	{ 40, "Disconnect-Request" }, { 41, "Disconnect-ACK" }, { 42, "Disconnect-NAK" },
	{ 43, "CoA-Request" }, { 44, "CoA-ACK" }, { 45, "CoA-NAK" },
	{ 0, NULL }
};

const struct tok radius_vendor_names[] = {
	{ 9, "Cisco" }, { 311, "Microsoft" }, { 529, "Ascend" }, { 2636, "Juniper" },
	{ 14823, "Aruba" }, { 11344, "FreeRADIUS" }, { 25506, "H3C" }, { 2011, "Huawei" },
	{ 0, NULL }
};

enum vt {
	VT_STRING, VT_TEXT, VT_ADDR, VT_INT, VT_TIME, VT_IPV6, VT_IPV6PFX, VT_IFID,
	VT_TAG_INT, VT_TAG_TEXT, VT_TAG_PASS, VT_HIDDEN, VT_CHAP_PASS, VT_VSA, VT_MSGAUTH,
	/* Microsoft */
	VT_MS_CHAP_RESP, VT_MS_CHAP2_RESP, VT_MS_IDENT_TEXT, VT_MS_KEY, VT_MS_ENC_TYPES,
	VT_MS_CPW,
};

/* How each attribute's value is typed; names live in the tok tables below. */
struct attr_def {
	uint8_t type;
	enum vt vt;
	const struct tok *values;
};

static const struct tok service_type_names[] = {
	{ 1, "Login" }, { 2, "Framed" }, { 3, "Callback-Login" }, { 4, "Callback-Framed" },
	{ 5, "Outbound" }, { 6, "Administrative" }, { 7, "NAS-Prompt" },
	{ 8, "Authenticate-Only" }, { 9, "Callback-NAS-Prompt" }, { 10, "Call-Check" },
	{ 11, "Callback-Administrative" },
	{ 0, NULL }
};
static const struct tok framed_protocol_names[] = {
	{ 1, "PPP" }, { 2, "SLIP" }, { 3, "ARAP" }, { 4, "Gandalf-SLML" },
	{ 5, "Xylogics-IPX-SLIP" }, { 6, "X.75-Synchronous" }, { 7, "GPRS-PDP-Context" },
	{ 0, NULL }
};
static const struct tok framed_routing_names[] = {
	{ 0, "None" }, { 1, "Broadcast" }, { 2, "Listen" }, { 3, "Broadcast-Listen" },
	{ 0, NULL }
};
static const struct tok framed_compression_names[] = {
	{ 0, "None" }, { 1, "Van-Jacobson-TCP-IP" }, { 2, "IPX-Header-Compression" },
	{ 3, "Stac-LZS" },
	{ 0, NULL }
};
static const struct tok login_service_names[] = {
	{ 0, "Telnet" }, { 1, "Rlogin" }, { 2, "TCP-Clear" }, { 3, "PortMaster" },
	{ 4, "LAT" }, { 5, "X25-PAD" }, { 6, "X25-T3POS" }, { 8, "TCP-Clear-Quiet" },
	{ 0, NULL }
};
static const struct tok termination_action_names[] = {
	{ 0, "Default" }, { 1, "RADIUS-Request" },
	{ 0, NULL }
};
static const struct tok nas_port_type_names[] = {
	{ 0, "Async" }, { 1, "Sync" }, { 2, "ISDN" }, { 3, "ISDN-V120" }, { 4, "ISDN-V110" },
	{ 5, "Virtual" }, { 6, "PIAFS" }, { 7, "HDLC-Clear-Channel" }, { 8, "X.25" },
	{ 9, "X.75" }, { 10, "G.3-Fax" }, { 11, "SDSL" }, { 12, "ADSL-CAP" },
	{ 13, "ADSL-DMT" }, { 14, "IDSL" }, { 15, "Ethernet" }, { 16, "xDSL" },
	{ 17, "Cable" }, { 18, "Wireless-Other" }, { 19, "Wireless-802.11" },
	{ 0, NULL }
};
const struct tok radius_acct_status_names[] = {
	{ 1, "Start" }, { 2, "Stop" }, { 3, "Interim-Update" }, { 7, "Accounting-On" },
	{ 8, "Accounting-Off" }, { 9, "Tunnel-Start" }, { 10, "Tunnel-Stop" },
	{ 11, "Tunnel-Reject" }, { 12, "Tunnel-Link-Start" }, { 13, "Tunnel-Link-Stop" },
	{ 14, "Tunnel-Link-Reject" }, { 15, "Failed" },
	{ 0, NULL }
};
static const struct tok acct_authentic_names[] = {
	{ 1, "RADIUS" }, { 2, "Local" }, { 3, "Remote" }, { 4, "Diameter" },
	{ 0, NULL }
};
const struct tok radius_terminate_cause_names[] = {
	{ 1, "User-Request" }, { 2, "Lost-Carrier" }, { 3, "Lost-Service" },
	{ 4, "Idle-Timeout" }, { 5, "Session-Timeout" }, { 6, "Admin-Reset" },
	{ 7, "Admin-Reboot" }, { 8, "Port-Error" }, { 9, "NAS-Error" }, { 10, "NAS-Request" },
	{ 11, "NAS-Reboot" }, { 12, "Port-Unneeded" }, { 13, "Port-Preempted" },
	{ 14, "Port-Suspended" }, { 15, "Service-Unavailable" }, { 16, "Callback" },
	{ 17, "User-Error" }, { 18, "Host-Request" },
	{ 0, NULL }
};
static const struct tok tunnel_type_names[] = {
	{ 1, "PPTP" }, { 2, "L2F" }, { 3, "L2TP" }, { 4, "ATMP" }, { 5, "VTP" }, { 6, "AH" },
	{ 7, "IP-IP" }, { 8, "MIN-IP-IP" }, { 9, "ESP" }, { 10, "GRE" }, { 11, "DVS" },
	{ 12, "IP-in-IP" }, { 13, "VLAN" },
	{ 0, NULL }
};
static const struct tok tunnel_medium_type_names[] = {
	{ 1, "IPv4" }, { 2, "IPv6" }, { 3, "NSAP" }, { 4, "HDLC" }, { 5, "BBN-1822" },
	{ 6, "IEEE-802" }, { 7, "E.163" }, { 8, "E.164" }, { 9, "F.69" }, { 10, "X.121" },
	{ 11, "IPX" }, { 12, "Appletalk" }, { 13, "DecNet-IV" }, { 14, "Banyan-Vines" },
	{ 15, "E.164-NSAP" },
	{ 0, NULL }
};
static const struct tok prompt_names[] = { { 0, "No-Echo" }, { 1, "Echo" }, { 0, NULL } };
static const struct tok arap_zone_access_names[] = {
	{ 1, "Default-Zone" }, { 2, "Zone-Filter-Inclusive" }, { 4, "Zone-Filter-Exclusive" },
	{ 0, NULL }
};
static const struct tok error_cause_names[] = {
	{ 201, "Residual-Session-Context-Removed" }, { 202, "Invalid-EAP-Packet" },
	{ 401, "Unsupported-Attribute" }, { 402, "Missing-Attribute" },
	{ 403, "NAS-Identification-Mismatch" }, { 404, "Invalid-Request" },
	{ 405, "Unsupported-Service" }, { 406, "Unsupported-Extension" },
	{ 407, "Invalid-Attribute-Value" }, { 501, "Administratively-Prohibited" },
	{ 502, "Request-Not-Routable" }, { 503, "Session-Context-Not-Found" },
	{ 504, "Session-Context-Not-Removable" }, { 505, "Other-Proxy-Processing-Error" },
	{ 506, "Resources-Unavailable" }, { 507, "Request-Initiated" },
	{ 0, NULL }
};

static const struct attr_def attr_defs[] = {
	{ 1, VT_TEXT, NULL },
	{ 2, VT_HIDDEN, NULL },
	{ 3, VT_CHAP_PASS, NULL },
	{ 4, VT_ADDR, NULL },
	{ 5, VT_INT, NULL },
	{ 6, VT_INT, service_type_names },
	{ 7, VT_INT, framed_protocol_names },
	{ 8, VT_ADDR, NULL },
	{ 9, VT_ADDR, NULL },
	{ 10, VT_INT, framed_routing_names },
	{ 11, VT_TEXT, NULL },
	{ 12, VT_INT, NULL },
	{ 13, VT_INT, framed_compression_names },
	{ 14, VT_ADDR, NULL },
	{ 15, VT_INT, login_service_names },
	{ 16, VT_INT, NULL },
	{ 18, VT_TEXT, NULL },
	{ 19, VT_TEXT, NULL },
	{ 20, VT_TEXT, NULL },
	{ 22, VT_TEXT, NULL },
	{ 23, VT_INT, NULL },
	{ 24, VT_STRING, NULL },
	{ 25, VT_STRING, NULL },
	{ 26, VT_VSA, NULL },
	{ 27, VT_INT, NULL },
	{ 28, VT_INT, NULL },
	{ 29, VT_INT, termination_action_names },
	{ 30, VT_TEXT, NULL },
	{ 31, VT_TEXT, NULL },
	{ 32, VT_TEXT, NULL },
	{ 33, VT_STRING, NULL },
	{ 34, VT_TEXT, NULL },
	{ 35, VT_TEXT, NULL },
	{ 36, VT_STRING, NULL },
	{ 37, VT_INT, NULL },
	{ 38, VT_INT, NULL },
	{ 39, VT_TEXT, NULL },
	{ 40, VT_INT, radius_acct_status_names },
	{ 41, VT_INT, NULL },
	{ 42, VT_INT, NULL },
	{ 43, VT_INT, NULL },
	{ 44, VT_TEXT, NULL },
	{ 45, VT_INT, acct_authentic_names },
	{ 46, VT_INT, NULL },
	{ 47, VT_INT, NULL },
	{ 48, VT_INT, NULL },
	{ 49, VT_INT, radius_terminate_cause_names },
	{ 50, VT_TEXT, NULL },
	{ 51, VT_INT, NULL },
	{ 52, VT_INT, NULL },
	{ 53, VT_INT, NULL },
	{ 55, VT_TIME, NULL },
	{ 60, VT_STRING, NULL },
	{ 61, VT_INT, nas_port_type_names },
	{ 62, VT_INT, NULL },
	{ 63, VT_TEXT, NULL },
	{ 64, VT_TAG_INT, tunnel_type_names },
	{ 65, VT_TAG_INT, tunnel_medium_type_names },
	{ 66, VT_TAG_TEXT, NULL },
	{ 67, VT_TAG_TEXT, NULL },
	{ 68, VT_TEXT, NULL },
	{ 69, VT_TAG_PASS, NULL },
	{ 70, VT_STRING, NULL },
	{ 71, VT_STRING, NULL },
	{ 72, VT_INT, arap_zone_access_names },
	{ 73, VT_INT, NULL },
	{ 74, VT_TEXT, NULL },
	{ 75, VT_INT, NULL },
	{ 76, VT_INT, prompt_names },
	{ 77, VT_TEXT, NULL },
	{ 78, VT_TEXT, NULL },
	{ 79, VT_STRING, NULL },
	{ 80, VT_MSGAUTH, NULL },
	{ 81, VT_TAG_TEXT, NULL },
	{ 82, VT_TAG_TEXT, NULL },
	{ 83, VT_TAG_INT, NULL },
	{ 84, VT_STRING, NULL },
	{ 85, VT_INT, NULL },
	{ 86, VT_INT, NULL },
	{ 87, VT_TEXT, NULL },
	{ 88, VT_TEXT, NULL },
	{ 89, VT_STRING, NULL },
	{ 90, VT_TAG_TEXT, NULL },
	{ 91, VT_TAG_TEXT, NULL },
	{ 95, VT_IPV6, NULL },
	{ 96, VT_IFID, NULL },
	{ 97, VT_IPV6PFX, NULL },
	{ 98, VT_IPV6, NULL },
	{ 99, VT_TEXT, NULL },
	{ 100, VT_TEXT, NULL },
	{ 101, VT_INT, error_cause_names },
	{ 0, VT_STRING, NULL }
};

static const struct tok ms_enc_policy_names[] = {
	{ 1, "Encryption-Allowed" }, { 2, "Encryption-Required" },
	{ 0, NULL }
};
static const struct tok ms_bap_usage_names[] = {
	{ 0, "Not-Allowed" }, { 1, "Allowed" }, { 2, "Required" },
	{ 0, NULL }
};
static const struct tok ms_acct_auth_type_names[] = {
	{ 1, "PAP" }, { 2, "CHAP" }, { 3, "MS-CHAP-1" }, { 4, "MS-CHAP-2" }, { 5, "EAP" },
	{ 0, NULL }
};
static const struct tok ms_arap_reason_names[] = {
	{ 1, "Just-Change-Password" }, { 2, "Expired-Password" },
	{ 3, "Admin-Requires-Password-Change" }, { 4, "Password-Too-Short" },
	{ 0, NULL }
};

static const struct attr_def ms_defs[] = {
	{ 1, VT_MS_CHAP_RESP, NULL },
	{ 2, VT_MS_IDENT_TEXT, NULL },
	{ 3, VT_STRING, NULL },
	{ 4, VT_STRING, NULL },
	{ 5, VT_STRING, NULL },
	{ 6, VT_STRING, NULL },
	{ 7, VT_INT, ms_enc_policy_names },
	{ 8, VT_MS_ENC_TYPES, NULL },
	{ 9, VT_INT, radius_vendor_names },
	{ 10, VT_MS_IDENT_TEXT, NULL },
	{ 11, VT_STRING, NULL },
	{ 12, VT_STRING, NULL },
	{ 13, VT_INT, ms_bap_usage_names },
	{ 14, VT_INT, NULL },
	{ 15, VT_INT, NULL },
	{ 16, VT_MS_KEY, NULL },
	{ 17, VT_MS_KEY, NULL },
	{ 18, VT_TEXT, NULL },
	{ 19, VT_STRING, NULL },
	{ 20, VT_STRING, NULL },
	{ 21, VT_INT, ms_arap_reason_names },
	{ 22, VT_STRING, NULL },
	{ 23, VT_INT, ms_acct_auth_type_names },
	{ 24, VT_INT, ppp_eap_type_names },
	{ 25, VT_MS_CHAP2_RESP, NULL },
	{ 26, VT_MS_IDENT_TEXT, NULL },
	{ 27, VT_MS_CPW, NULL },
	{ 28, VT_ADDR, NULL },
	{ 29, VT_ADDR, NULL },
	{ 30, VT_ADDR, NULL },
	{ 31, VT_ADDR, NULL },
	{ 33, VT_STRING, NULL },
	{ 0, VT_STRING, NULL }
};

/* exported name tables built from the definitions above */
#define NAMES(t, n) { t, n },
const struct tok radius_attr_names[] = {
	NAMES(1, "User-Name") NAMES(2, "User-Password") NAMES(3, "CHAP-Password")
	NAMES(4, "NAS-IP-Address") NAMES(5, "NAS-Port") NAMES(6, "Service-Type")
	NAMES(7, "Framed-Protocol") NAMES(8, "Framed-IP-Address") NAMES(9, "Framed-IP-Netmask")
	NAMES(10, "Framed-Routing") NAMES(11, "Filter-Id") NAMES(12, "Framed-MTU")
	NAMES(13, "Framed-Compression") NAMES(14, "Login-IP-Host") NAMES(15, "Login-Service")
	NAMES(16, "Login-TCP-Port") NAMES(18, "Reply-Message") NAMES(19, "Callback-Number")
	NAMES(20, "Callback-Id") NAMES(22, "Framed-Route") NAMES(23, "Framed-IPX-Network")
	NAMES(24, "State") NAMES(25, "Class") NAMES(26, "Vendor-Specific")
	NAMES(27, "Session-Timeout") NAMES(28, "Idle-Timeout") NAMES(29, "Termination-Action")
	NAMES(30, "Called-Station-Id") NAMES(31, "Calling-Station-Id")
	NAMES(32, "NAS-Identifier") NAMES(33, "Proxy-State") NAMES(34, "Login-LAT-Service")
	NAMES(35, "Login-LAT-Node") NAMES(36, "Login-LAT-Group")
	NAMES(37, "Framed-AppleTalk-Link") NAMES(38, "Framed-AppleTalk-Network")
	NAMES(39, "Framed-AppleTalk-Zone") NAMES(40, "Acct-Status-Type")
	NAMES(41, "Acct-Delay-Time") NAMES(42, "Acct-Input-Octets")
	NAMES(43, "Acct-Output-Octets") NAMES(44, "Acct-Session-Id")
	NAMES(45, "Acct-Authentic") NAMES(46, "Acct-Session-Time")
	NAMES(47, "Acct-Input-Packets") NAMES(48, "Acct-Output-Packets")
	NAMES(49, "Acct-Terminate-Cause") NAMES(50, "Acct-Multi-Session-Id")
	NAMES(51, "Acct-Link-Count") NAMES(52, "Acct-Input-Gigawords")
	NAMES(53, "Acct-Output-Gigawords") NAMES(55, "Event-Timestamp")
	NAMES(60, "CHAP-Challenge") NAMES(61, "NAS-Port-Type") NAMES(62, "Port-Limit")
	NAMES(63, "Login-LAT-Port") NAMES(64, "Tunnel-Type") NAMES(65, "Tunnel-Medium-Type")
	NAMES(66, "Tunnel-Client-Endpoint") NAMES(67, "Tunnel-Server-Endpoint")
	NAMES(68, "Acct-Tunnel-Connection") NAMES(69, "Tunnel-Password")
	NAMES(70, "ARAP-Password") NAMES(71, "ARAP-Features") NAMES(72, "ARAP-Zone-Access")
	NAMES(73, "ARAP-Security") NAMES(74, "ARAP-Security-Data") NAMES(75, "Password-Retry")
	NAMES(76, "Prompt") NAMES(77, "Connect-Info") NAMES(78, "Configuration-Token")
	NAMES(79, "EAP-Message") NAMES(80, "Message-Authenticator")
	NAMES(81, "Tunnel-Private-Group-Id") NAMES(82, "Tunnel-Assignment-Id")
	NAMES(83, "Tunnel-Preference") NAMES(84, "ARAP-Challenge-Response")
	NAMES(85, "Acct-Interim-Interval") NAMES(86, "Acct-Tunnel-Packets-Lost")
	NAMES(87, "NAS-Port-Id") NAMES(88, "Framed-Pool") NAMES(89, "Chargeable-User-Identity")
	NAMES(90, "Tunnel-Client-Auth-Id") NAMES(91, "Tunnel-Server-Auth-Id")
	NAMES(95, "NAS-IPv6-Address") NAMES(96, "Framed-Interface-Id")
	NAMES(97, "Framed-IPv6-Prefix") NAMES(98, "Login-IPv6-Host")
	NAMES(99, "Framed-IPv6-Route") NAMES(100, "Framed-IPv6-Pool") NAMES(101, "Error-Cause")
	{ 0, NULL }
};
const struct tok radius_ms_attr_names[] = {
	NAMES(1, "MS-CHAP-Response") NAMES(2, "MS-CHAP-Error") NAMES(3, "MS-CHAP-CPW-1")
	NAMES(4, "MS-CHAP-CPW-2") NAMES(5, "MS-CHAP-LM-Enc-PW") NAMES(6, "MS-CHAP-NT-Enc-PW")
	NAMES(7, "MS-MPPE-Encryption-Policy") NAMES(8, "MS-MPPE-Encryption-Types")
	NAMES(9, "MS-RAS-Vendor") NAMES(10, "MS-CHAP-Domain") NAMES(11, "MS-CHAP-Challenge")
	NAMES(12, "MS-CHAP-MPPE-Keys") NAMES(13, "MS-BAP-Usage")
	NAMES(14, "MS-Link-Utilization-Threshold") NAMES(15, "MS-Link-Drop-Time-Limit")
	NAMES(16, "MS-MPPE-Send-Key") NAMES(17, "MS-MPPE-Recv-Key") NAMES(18, "MS-RAS-Version")
	NAMES(19, "MS-Old-ARAP-Password") NAMES(20, "MS-New-ARAP-Password")
	NAMES(21, "MS-ARAP-PW-Change-Reason") NAMES(22, "MS-Filter")
	NAMES(23, "MS-Acct-Auth-Type") NAMES(24, "MS-Acct-EAP-Type")
	NAMES(25, "MS-CHAP2-Response") NAMES(26, "MS-CHAP2-Success") NAMES(27, "MS-CHAP2-CPW")
	NAMES(28, "MS-Primary-DNS-Server") NAMES(29, "MS-Secondary-DNS-Server")
	NAMES(30, "MS-Primary-NBNS-Server") NAMES(31, "MS-Secondary-NBNS-Server")
	NAMES(33, "MS-ARAP-Challenge")
	{ 0, NULL }
};
#undef NAMES

/* The definition tables are kept sorted by type: this searches them by halves. n counts
 * the entries before the terminator. */
static const struct attr_def *find_def(const struct attr_def *d, size_t n, uint8_t type)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d[mid].type == type) return &d[mid];
		if (d[mid].type < type) lo = mid + 1;
		else hi = mid;
	}
	return NULL;
}
#define NDEFS(t) (sizeof t / sizeof t[0] - 1)

static const struct attr_def *def_of(const struct radius_attr *a)
{
	if (a->type != RADIUS_ATTR_VENDOR_SPECIFIC) return find_def(attr_defs, NDEFS(attr_defs), a->type);
	if (a->vendor == RADIUS_VENDOR_MICROSOFT && !a->vsa_opaque) return find_def(ms_defs, NDEFS(ms_defs), a->vtype);
	return NULL;
}

/* Value length rules: exact (min == max), a range, or min only (max 0). */
static void vt_len(enum vt vt, size_t *min, size_t *max)
{
	*min = 0; *max = 0;
	switch (vt) {
	case VT_ADDR: case VT_INT: case VT_TIME: case VT_TAG_INT: case VT_MS_ENC_TYPES:
		*min = *max = 4; break;
	case VT_IPV6: *min = *max = 16; break;
	case VT_IPV6PFX: *min = 2; *max = 18; break;
	case VT_IFID: *min = *max = 8; break;
	case VT_HIDDEN: *min = 16; *max = 128; break;
	case VT_CHAP_PASS: *min = *max = 17; break;
	case VT_MSGAUTH: *min = *max = 16; break;
	case VT_TAG_PASS: *min = 3; break;
	case VT_MS_CHAP_RESP: case VT_MS_CHAP2_RESP: *min = *max = 50; break;
	case VT_MS_IDENT_TEXT: *min = 1; break;
	case VT_MS_KEY: *min = 2 + 16; break;
	case VT_MS_CPW: *min = *max = 68; break;
	case VT_TEXT: case VT_TAG_TEXT: case VT_STRING: case VT_VSA:
		*min = 1; break;
	}
}

static int check_value(const struct radius_attr *a, const char *name, size_t at,
                       struct diag_err *err)
{
	const struct attr_def *d = def_of(a);
	if (!d) return 0;
	size_t min, max;
	vt_len(d->vt, &min, &max);
	if (a->type == RADIUS_ATTR_EAP_MESSAGE) min = 0; /* empty: EAP-Start (RFC 3579 3.1) */
	if (a->vlen < min || (max && a->vlen > max)) {
		if (min == max)
			return diag_err_set(err, at, "RADIUS attribute %s at offset %zu: value "
			                    "length %zu, expected %zu", name, at, a->vlen, min), -1;
		if (max)
			return diag_err_set(err, at, "RADIUS attribute %s at offset %zu: value "
			                    "length %zu out of range %zu..%zu", name, at, a->vlen,
			                    min, max), -1;
		return diag_err_set(err, at, "RADIUS attribute %s at offset %zu: value length "
		                    "%zu < %zu", name, at, a->vlen, min), -1;
	}
	if (d->vt == VT_HIDDEN && a->vlen % 16)
		return diag_err_set(err, at, "RADIUS attribute %s at offset %zu: length %zu is "
		                    "not a multiple of 16", name, at, a->vlen), -1;
	if (d->vt == VT_IPV6PFX && (a->val[1] > 128 || (size_t)(a->val[1] + 7) / 8 > a->vlen - 2))
		return diag_err_set(err, at, "RADIUS attribute %s at offset %zu: prefix length "
		                    "%u does not fit %zu bytes", name, at, a->val[1],
		                    a->vlen - 2), -1;
	return 0;
}

/* ---- decoding ------------------------------------------------------------------ */
static int add_attr(struct radius_msg *m, const struct radius_attr *a, size_t at,
                    struct diag_err *err)
{
	if (m->nattrs >= RADIUS_MAX_ATTRS)
		return diag_err_set(err, at, "RADIUS: more than %d attributes", RADIUS_MAX_ATTRS), -1;
	m->attrs[m->nattrs++] = *a;
	return 0;
}

/* Does the vendor data parse as type/length sub-attributes exactly? */
static bool vsa_well_formed(const uint8_t *p, size_t n)
{
	size_t i = 0;
	for (size_t guard = 0; i < n && guard < 256; guard++) {
		if (n - i < 2 || p[i + 1] < 2 || p[i + 1] > n - i) return false;
		i += p[i + 1];
	}
	return i == n;
}

static int decode_vsa(struct radius_msg *m, const uint8_t *v, size_t vlen, size_t at,
                      struct diag_err *err)
{
	if (vlen < 5)
		return diag_err_set(err, at, "RADIUS Vendor-Specific at offset %zu: length %zu < 7",
		                    at, vlen + 2), -1;
	uint32_t vendor = ((uint32_t)v[0] << 24) | ((uint32_t)v[1] << 16) |
	                  ((uint32_t)v[2] << 8) | v[3];
	const uint8_t *d = v + 4;
	size_t dn = vlen - 4, base = at + 6;
	struct radius_attr a;
	memset(&a, 0, sizeof a);
	a.type = RADIUS_ATTR_VENDOR_SPECIFIC;
	a.vendor = vendor;
	if (vendor == 0 || (vendor != RADIUS_VENDOR_MICROSOFT && !vsa_well_formed(d, dn))) {
		a.vsa_opaque = true;
		a.val = d;
		a.vlen = dn;
		a.off = at;
		return add_attr(m, &a, at, err);
	}
	char vbuf[16];
	const char *vn = tok_str(radius_vendor_names, vendor, vbuf, sizeof vbuf);
	size_t i = 0;
	bool first = true;
	for (size_t guard = 0; i < dn && guard < 256; guard++) {
		size_t sat = base + i;
		if (dn - i < 2)
			return diag_err_set(err, sat, "RADIUS Vendor-Specific %s at offset %zu: "
			                    "sub-attribute at offset %zu has no length", vn, at, sat), -1;
		uint8_t st = d[i], sl = d[i + 1];
		if (sl < 2)
			return diag_err_set(err, sat + 1, "RADIUS Vendor-Specific %s sub-attribute %u "
			                    "at offset %zu: length %u < 2", vn, st, sat, sl), -1;
		if (sl > dn - i)
			return diag_err_set(err, sat + 1, "RADIUS Vendor-Specific %s sub-attribute %u "
			                    "at offset %zu: length %u runs past the attribute (%zu "
			                    "bytes left)", vn, st, sat, sl, dn - i), -1;
		a.vtype = st;
		a.val = d + i + 2;
		a.vlen = sl - 2u;
		a.off = sat;
		a.vsa_cont = !first;
		first = false;
		char nbuf[48];
		const char *sn = vendor == RADIUS_VENDOR_MICROSOFT ?
		                 tok_name(radius_ms_attr_names, st) : NULL;
		if (sn) snprintf(nbuf, sizeof nbuf, "%s", sn);
		else snprintf(nbuf, sizeof nbuf, "%s-%u", vn, st);
		if (check_value(&a, nbuf, sat, err)) return -1;
		if (add_attr(m, &a, sat, err)) return -1;
		i += sl;
	}
	return 0;
}

int radius_decode(const uint8_t *p, size_t len, struct radius_msg *out, struct diag_err *err)
{
	memset(out, 0, sizeof *out);
	if (len < RADIUS_MIN_LEN)
		return diag_err_set(err, len, "RADIUS: header truncated (%zu of 20 bytes)", len), -1;
	out->code = p[0];
	out->id = p[1];
	out->length = (uint16_t)((p[2] << 8) | p[3]);
	out->auth = p + 4;
	if (out->length < RADIUS_MIN_LEN || out->length > RADIUS_MAX_LEN)
		return diag_err_set(err, 2, "RADIUS: length %u outside 20..4096", out->length), -1;
	if (out->length > len)
		return diag_err_set(err, 2, "RADIUS: length %u > %zu bytes in the datagram",
		                    out->length, len), -1;
	size_t i = RADIUS_MIN_LEN, end = out->length;
	for (size_t guard = 0; i < end && guard < 4096; guard++) {
		size_t at = i;
		if (end - i < 2)
			return diag_err_set(err, at, "RADIUS attribute %u at offset %zu: no length "
			                    "octet", p[i], at), -1;
		uint8_t t = p[i], l = p[i + 1];
		char nbuf[40];
		const char *nm = tok_name(radius_attr_names, t);
		if (nm) snprintf(nbuf, sizeof nbuf, "%s", nm);
		else snprintf(nbuf, sizeof nbuf, "%u", t);
		if (l < 2)
			return diag_err_set(err, at + 1, "RADIUS attribute %s at offset %zu: length "
			                    "%u < 2", nbuf, at, l), -1;
		if (l > end - i)
			return diag_err_set(err, at + 1, "RADIUS attribute %s at offset %zu: length "
			                    "%u runs past the packet (%zu bytes left)", nbuf, at, l,
			                    end - i), -1;
		if (t == RADIUS_ATTR_VENDOR_SPECIFIC) {
			if (decode_vsa(out, p + i + 2, l - 2u, at, err)) return -1;
		} else {
			struct radius_attr a;
			memset(&a, 0, sizeof a);
			a.type = t;
			a.val = p + i + 2;
			a.vlen = l - 2u;
			a.off = at;
			if (check_value(&a, nbuf, at, err)) return -1;
			if (add_attr(out, &a, at, err)) return -1;
		}
		i += l;
	}
	return 0;
}

const struct radius_attr *radius_find(const struct radius_msg *m, uint8_t type)
{
	for (size_t i = 0; i < m->nattrs && i < RADIUS_MAX_ATTRS; i++)
		if (m->attrs[i].type == type &&
		    (type != RADIUS_ATTR_VENDOR_SPECIFIC || m->attrs[i].vsa_opaque))
			return &m->attrs[i];
	return NULL;
}

const struct radius_attr *radius_find_vsa(const struct radius_msg *m, uint32_t vendor,
                                          uint8_t vtype)
{
	for (size_t i = 0; i < m->nattrs && i < RADIUS_MAX_ATTRS; i++)
		if (m->attrs[i].type == RADIUS_ATTR_VENDOR_SPECIFIC &&
		    m->attrs[i].vendor == vendor && !m->attrs[i].vsa_opaque &&
		    m->attrs[i].vtype == vtype)
			return &m->attrs[i];
	return NULL;
}

size_t radius_eap_message(const struct radius_msg *m, uint8_t *buf, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < m->nattrs && i < RADIUS_MAX_ATTRS; i++) {
		const struct radius_attr *a = &m->attrs[i];
		if (a->type != RADIUS_ATTR_EAP_MESSAGE) continue;
		if (a->vlen > cap - n) return 0;
		memcpy(buf + n, a->val, a->vlen);
		n += a->vlen;
	}
	return n;
}

/* ---- rendering helpers ----------------------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void ip6_str(const uint8_t *a, size_t n, char *out, size_t cap)
{
	uint8_t full[16] = { 0 };
	memcpy(full, a, n > 16 ? 16 : n);
	/* plain, uncompressed groups: unambiguous and simple */
	snprintf(out, cap, "%x:%x:%x:%x:%x:%x:%x:%x",
	         (full[0] << 8) | full[1], (full[2] << 8) | full[3], (full[4] << 8) | full[5],
	         (full[6] << 8) | full[7], (full[8] << 8) | full[9], (full[10] << 8) | full[11],
	         (full[12] << 8) | full[13], (full[14] << 8) | full[15]);
}

static bool tagged_text_has_tag(const struct radius_attr *a)
{
	return a->vlen >= 1 && a->val[0] <= 0x1f;
}

static const char *attr_name(const struct radius_attr *a, char *buf, size_t n)
{
	const char *nm = NULL;
	bool vsa = a->type == RADIUS_ATTR_VENDOR_SPECIFIC;
	if (!vsa) nm = tok_name(radius_attr_names, a->type);
	else if (a->vendor == RADIUS_VENDOR_MICROSOFT && !a->vsa_opaque)
		nm = tok_name(radius_ms_attr_names, a->vtype);
	if (nm) return nm;
	if (vsa) {
		char vb[16];
		const char *vn = tok_str(radius_vendor_names, a->vendor, vb, sizeof vb);
		if (a->vsa_opaque) snprintf(buf, n, "Vendor-Specific(%s)", vn);
		else snprintf(buf, n, "%s-Attr-%u", vn, a->vtype);
	} else {
		snprintf(buf, n, "Attr-%u", a->type);
	}
	return buf;
}

static void sb_text(struct sbuf *b, const uint8_t *s, size_t n)
{
	char tmp[4 * 80 + 1];
	size_t shown = n > 80 ? 80 : n;
	text_printable(s, shown, tmp, sizeof tmp);
	sbuf_add(b, "\"%s%s\"", tmp, n > shown ? "..." : "");
}

static void sb_hex(struct sbuf *b, const uint8_t *p, size_t n)
{
	char tmp[2 * 16 + 1];
	size_t shown = n > 16 ? 16 : n;
	hex_str(p, shown, tmp);
	sbuf_add(b, "0x%s%s", tmp, n > shown ? "..." : "");
}

static void enc_types_str(uint32_t v, char *buf, size_t n)
{
	struct sbuf b;
	sbuf_init(&b, buf, n);
	const char *sep = "";
	if (v & 2) { sbuf_add(&b, "%s40-bit", sep); sep = ","; }
	if (v & 8) { sbuf_add(&b, "%s56-bit", sep); sep = ","; }
	if (v & 4) { sbuf_add(&b, "%s128-bit", sep); sep = ","; }
	if (!*buf) sbuf_add(&b, "none");
}

static void summary_value(struct sbuf *b, const struct radius_attr *a)
{
	const struct attr_def *d = def_of(a);
	const uint8_t *v = a->val;
	char tmp[48];
	if (!d) { sb_hex(b, v, a->vlen); return; }
	switch (d->vt) {
	case VT_TEXT: sb_text(b, v, a->vlen); return;
	case VT_ADDR: sbuf_add(b, "%u.%u.%u.%u", v[0], v[1], v[2], v[3]); return;
	case VT_INT: case VT_TIME:
		if (d->values) sbuf_add(b, "%s", tok_str(d->values, be32(v), tmp, sizeof tmp));
		else sbuf_add(b, "%u", be32(v));
		return;
	case VT_TAG_INT: {
		uint32_t x = be32(v) & 0xffffff;
		if (v[0]) sbuf_add(b, "%u:", v[0]);
		if (d->values) sbuf_add(b, "%s", tok_str(d->values, x, tmp, sizeof tmp));
		else sbuf_add(b, "%u", x);
		return;
	}
	case VT_TAG_TEXT:
		if (tagged_text_has_tag(a)) {
			if (v[0]) sbuf_add(b, "%u:", v[0]);
			sb_text(b, v + 1, a->vlen - 1);
		} else {
			sb_text(b, v, a->vlen);
		}
		return;
	case VT_IPV6: ip6_str(v, 16, tmp, sizeof tmp); sbuf_add(b, "%s", tmp); return;
	case VT_IPV6PFX:
		ip6_str(v + 2, a->vlen - 2, tmp, sizeof tmp);
		sbuf_add(b, "%s/%u", tmp, v[1]);
		return;
	case VT_HIDDEN: case VT_TAG_PASS: case VT_MS_KEY:
		sbuf_add(b, "(hidden, %zu bytes)", a->vlen);
		return;
	case VT_MS_IDENT_TEXT: sb_text(b, v + 1, a->vlen - 1); return;
	case VT_MS_ENC_TYPES:
		enc_types_str(be32(v), tmp, sizeof tmp);
		sbuf_add(b, "%s", tmp);
		return;
	case VT_MS_CHAP2_RESP:
		sbuf_add(b, "ident %u nt-response ", v[0]);
		sb_hex(b, v + 26, 24);
		return;
	case VT_MS_CHAP_RESP:
		sbuf_add(b, "ident %u nt-response ", v[0]);
		sb_hex(b, v + 26, 24);
		return;
	case VT_MSGAUTH: case VT_CHAP_PASS: case VT_STRING: case VT_IFID: case VT_VSA:
	case VT_MS_CPW:
	default:
		sb_hex(b, v, a->vlen);
		return;
	}
}

/* The first EAP-Message shows the joined EAP packet decoded, later ones their size. */
static bool summary_eap_message(struct sbuf *b, const struct radius_msg *m,
                                const struct radius_attr *a)
{
	if (a->type != RADIUS_ATTR_EAP_MESSAGE) return false;
	if (a != radius_find(m, RADIUS_ATTR_EAP_MESSAGE)) {
		sbuf_add(b, "(continued, %zu bytes)", a->vlen);
		return true;
	}
	uint8_t eap[RADIUS_MAX_LEN];
	struct ppp_eap e;
	struct diag_err err;
	size_t n = radius_eap_message(m, eap, sizeof eap);
	if (!n || ppp_eap_decode(eap, n, &e, &err)) return false;
	char s[256];
	ppp_eap_summary(&e, s, sizeof s);
	sbuf_add(b, "%s", s);
	return true;
}

void radius_summary(const struct radius_msg *m, char *buf, size_t bufsz)
{
	struct sbuf b;
	char nb[48];
	sbuf_init(&b, buf, bufsz);
	sbuf_add(&b, "RADIUS %s id %u [", tok_str(radius_code_names, m->code, nb, sizeof nb),
	          m->id);
	for (size_t i = 0; i < m->nattrs; i++) {
		const struct radius_attr *a = &m->attrs[i];
		if (i) sbuf_add(&b, " ");
		sbuf_add(&b, "%s=", attr_name(a, nb, sizeof nb));
		if (!summary_eap_message(&b, m, a)) summary_value(&b, a);
	}
	sbuf_add(&b, "]");
}

/* ---- JSON ---------------------------------------------------------------------- */
static void jset_named(struct jw *w, const char *key, const struct tok *t, unsigned v)
{
	char k2[48];
	const char *n = t ? tok_name(t, v) : NULL;
	if (n) jw_str(w, key, n);
	else jw_int(w, key, v);
	snprintf(k2, sizeof k2, "%s_num", key);
	jw_int(w, k2, v);
}

static void value_jw(struct jw *w, const struct radius_attr *a)
{
	const struct attr_def *d = def_of(a);
	const uint8_t *v = a->val;
	char tmp[64];
	if (!d) { jw_hex(w, "value", v, a->vlen); return; }
	switch (d->vt) {
	case VT_TEXT: jw_text(w, "value", v, a->vlen); return;
	case VT_ADDR:
		snprintf(tmp, sizeof tmp, "%u.%u.%u.%u", v[0], v[1], v[2], v[3]);
		jw_str(w, "value", tmp);
		return;
	case VT_INT: case VT_TIME:
		if (d->values) jset_named(w, "value", d->values, be32(v));
		else jw_int(w, "value", be32(v));
		return;
	case VT_TAG_INT:
		jw_int(w, "tag", v[0]);
		if (d->values) jset_named(w, "value", d->values, be32(v) & 0xffffff);
		else jw_int(w, "value", be32(v) & 0xffffff);
		return;
	case VT_TAG_TEXT:
		if (tagged_text_has_tag(a)) {
			jw_int(w, "tag", v[0]);
			jw_text(w, "value", v + 1, a->vlen - 1);
		} else {
			jw_text(w, "value", v, a->vlen);
		}
		return;
	case VT_TAG_PASS:
		jw_int(w, "tag", v[0]);
		jw_hex(w, "salt", v + 1, 2);
		jw_hex(w, "encrypted", v + 3, a->vlen - 3);
		return;
	case VT_HIDDEN:
		jw_hex(w, "encrypted", v, a->vlen);
		return;
	case VT_CHAP_PASS:
		jw_int(w, "chap_ident", v[0]);
		jw_hex(w, "response", v + 1, 16);
		return;
	case VT_IPV6:
		ip6_str(v, 16, tmp, sizeof tmp);
		jw_str(w, "value", tmp);
		return;
	case VT_IPV6PFX: {
		char t2[80];
		ip6_str(v + 2, a->vlen - 2, tmp, sizeof tmp);
		snprintf(t2, sizeof t2, "%s/%u", tmp, v[1]);
		jw_str(w, "value", t2);
		return;
	}
	case VT_MS_IDENT_TEXT: {
		jw_int(w, "ident", v[0]);
		jw_text(w, "value", v + 1, a->vlen - 1);
		if (a->vtype == MS_CHAP_ERROR) {
			struct mschap_failure f;
			if (mschap_parse_failure(v + 1, a->vlen - 1, &f) == 0) {
				jw_obj(w, "mschap_error");
				jw_int(w, "error", f.error);
				const char *en = mschap_error_name(f.error);
				if (en) jw_str(w, "error_name", en);
				if (f.has_retry) jw_int(w, "retry", f.retry);
				if (f.has_challenge)
					jw_hex(w, "challenge", f.challenge, f.challenge_len);
				if (f.has_version)
					jw_int(w, "version", f.version);
				if (f.has_msg)
					jw_text(w, "message", f.msg, f.msg_len);
				jw_end(w);
			}
		} else if (a->vtype == MS_CHAP2_SUCCESS) {
			struct mschap_success s;
			if (mschap_parse_success(v + 1, a->vlen - 1, &s) == 0)
				jw_hex(w, "auth_response", s.auth_response, 20);
		}
		return;
	}
	case VT_MS_CHAP_RESP:
		jw_int(w, "ident", v[0]);
		jw_int(w, "flags", v[1]);
		jw_hex(w, "lm_response", v + 2, 24);
		jw_hex(w, "nt_response", v + 26, 24);
		return;
	case VT_MS_CHAP2_RESP:
		jw_int(w, "ident", v[0]);
		jw_int(w, "flags", v[1]);
		jw_hex(w, "peer_challenge", v + 2, 16);
		jw_hex(w, "reserved", v + 18, 8);
		jw_hex(w, "nt_response", v + 26, 24);
		return;
	case VT_MS_KEY:
		jw_hex(w, "salt", v, 2);
		jw_hex(w, "encrypted", v + 2, a->vlen - 2);
		return;
	case VT_MS_ENC_TYPES: {
		uint32_t x = be32(v);
		jw_int(w, "value_num", x);
		jw_arr(w, "value");
		if (x & 2) jw_str(w, NULL, "40-bit");
		if (x & 8) jw_str(w, NULL, "56-bit");
		if (x & 4) jw_str(w, NULL, "128-bit");
		jw_end(w);
		return;
	}
	case VT_MS_CPW:
		jw_int(w, "code", v[0]);
		jw_int(w, "ident", v[1]);
		jw_hex(w, "encrypted_hash", v + 2, 16);
		jw_hex(w, "peer_challenge", v + 18, 16);
		jw_hex(w, "nt_response", v + 42, 24);
		jw_int(w, "flags", (v[66] << 8) | v[67]);
		return;
	case VT_MSGAUTH: case VT_STRING: case VT_IFID: case VT_VSA:
	default:
		jw_hex(w, "value", v, a->vlen);
		return;
	}
}

void radius_jw(struct jw *w, const struct radius_msg *m)
{
	jset_named(w, "code", radius_code_names, m->code);
	jw_int(w, "identifier", m->id);
	jw_int(w, "length", m->length);
	jw_hex(w, "authenticator", m->auth, 16);
	jw_arr(w, "attributes");
	for (size_t i = 0; i < m->nattrs; i++) {
		const struct radius_attr *a = &m->attrs[i];
		jw_obj(w, NULL);
		char nb[48];
		jset_named(w, "type", radius_attr_names, a->type);
		if (a->type == RADIUS_ATTR_VENDOR_SPECIFIC) {
			jset_named(w, "vendor", radius_vendor_names, a->vendor);
			if (!a->vsa_opaque) {
				jset_named(w, "vendor_type", a->vendor == RADIUS_VENDOR_MICROSOFT ?
				           radius_ms_attr_names : NULL, a->vtype);
				jw_str(w, "name", attr_name(a, nb, sizeof nb));
			}
		}
		jw_int(w, "length", a->vlen + 2);
		value_jw(w, a);
		jw_end(w);
	}
	jw_end(w);
	uint8_t eap[RADIUS_MAX_LEN];
	size_t n = radius_eap_message(m, eap, sizeof eap);
	struct ppp_eap e;
	struct diag_err err;
	if (n && ppp_eap_decode(eap, n, &e, &err) == 0) {
		jw_obj(w, "eap");
		ppp_eap_jw(w, &e);
		jw_end(w);
	}
}

json_t *radius_to_json(const struct radius_msg *m)
{
	struct jw w;
	jw_init(&w, JW_TREE, NULL);
	jw_obj(&w, NULL);
	radius_jw(&w, m);
	jw_end(&w);
	json_t *j = jw_take(&w);
	jw_free(&w);
	return j;
}

/* ---- encoding ------------------------------------------------------------------ */
size_t radius_encode(const struct radius_msg *m, uint8_t *buf, size_t cap)
{
	static const uint8_t zero[16];
	struct wr w;
	wr_init(&w, buf, cap);
	wr_u8(&w, m->code);
	wr_u8(&w, m->id);
	wr_u16(&w, 0);
	wr_bytes(&w, m->auth ? m->auth : zero, 16);
	if (m->nattrs > RADIUS_MAX_ATTRS) return 0;
	for (size_t i = 0; i < m->nattrs; i++) {
		const struct radius_attr *a = &m->attrs[i];
		if (a->type != RADIUS_ATTR_VENDOR_SPECIFIC) {
			if (a->vlen > 253) return 0;
			wr_u8(&w, a->type);
			wr_u8(&w, (uint8_t)(a->vlen + 2));
			wr_bytes(&w, a->val, a->vlen);
			continue;
		}
		if (a->vsa_opaque) {
			if (a->vlen > 249) return 0;
			wr_u8(&w, RADIUS_ATTR_VENDOR_SPECIFIC);
			wr_u8(&w, (uint8_t)(a->vlen + 6));
			wr_u32(&w, a->vendor);
			wr_bytes(&w, a->val, a->vlen);
			continue;
		}
		/* one Vendor-Specific for this entry and the following continuations */
		size_t j = i + 1, total = a->vlen + 2;
		while (j < m->nattrs && m->attrs[j].type == RADIUS_ATTR_VENDOR_SPECIFIC &&
		       m->attrs[j].vsa_cont && m->attrs[j].vendor == a->vendor &&
		       !m->attrs[j].vsa_opaque) {
			total += m->attrs[j].vlen + 2;
			j++;
		}
		if (total > 249) return 0;
		wr_u8(&w, RADIUS_ATTR_VENDOR_SPECIFIC);
		wr_u8(&w, (uint8_t)(total + 6));
		wr_u32(&w, a->vendor);
		for (size_t k = i; k < j; k++) {
			wr_u8(&w, m->attrs[k].vtype);
			wr_u8(&w, (uint8_t)(m->attrs[k].vlen + 2));
			wr_bytes(&w, m->attrs[k].val, m->attrs[k].vlen);
		}
		i = j - 1;
	}
	if (w.err || w.off > RADIUS_MAX_LEN) return 0;
	wr_put16_at(&w, 2, (uint16_t)w.off);
	return w.off;
}

/* ---- shared-secret operations -------------------------------------------------- */
static bool is_response(uint8_t code)
{
	switch (code) {
	case RADIUS_ACCESS_ACCEPT: case RADIUS_ACCESS_REJECT: case RADIUS_ACCOUNTING_RESPONSE:
	case RADIUS_ACCESS_CHALLENGE: case RADIUS_DISCONNECT_ACK: case RADIUS_DISCONNECT_NAK:
	case RADIUS_COA_ACK: case RADIUS_COA_NAK:
		return true;
	default:
		return false;
	}
}

/* Requests whose authenticator is random rather than computed. */
static bool random_auth(uint8_t code)
{
	return code == RADIUS_ACCESS_REQUEST || code == RADIUS_STATUS_SERVER;
}

/* Length from the header after basic checks, or 0. Also finds the Message-Authenticator
 * value offset (0 when absent). */
static size_t pkt_check(const uint8_t *pkt, size_t len, size_t *ma_off)
{
	if (len < RADIUS_MIN_LEN) return 0;
	size_t n = (size_t)((pkt[2] << 8) | pkt[3]);
	if (n < RADIUS_MIN_LEN || n > RADIUS_MAX_LEN || n > len) return 0;
	*ma_off = 0;
	for (size_t i = RADIUS_MIN_LEN, guard = 0; i < n && guard < 4096; guard++) {
		if (n - i < 2 || pkt[i + 1] < 2 || pkt[i + 1] > n - i) return 0;
		if (pkt[i] == RADIUS_ATTR_MESSAGE_AUTHENTICATOR) {
			if (pkt[i + 1] != 18) return 0;
			if (!*ma_off) *ma_off = i + 2;
		}
		i += pkt[i + 1];
	}
	return n;
}

/* MD5, fetched once: EVP_md5() makes every digest look the algorithm up again, under a
 * lock, which costs a RADIUS server more than the digests of a request. */
static EVP_MD *md5_fetched;
static pthread_once_t md5_once = PTHREAD_ONCE_INIT;

static void md5_fetch(void)
{
	md5_fetched = EVP_MD_fetch(NULL, "MD5", NULL);
}

static const EVP_MD *md5_md(void)
{
	pthread_once(&md5_once, md5_fetch);
	return md5_fetched ? md5_fetched : EVP_md5();
}

static int md5_two(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, uint8_t out[16]);

/* HMAC-MD5 (RFC 2104) of msg with key. */
static int hmac_md5(const uint8_t *key, size_t kl, const uint8_t *msg, size_t n, uint8_t out[16])
{
	uint8_t k[64], pad[64], ih[16];
	memset(k, 0, sizeof k);
	int rc = 0;
	if (kl > sizeof k) rc = md5_two(key, kl, NULL, 0, k);
	else if (kl) memcpy(k, key, kl);
	for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
	if (!rc) rc = md5_two(pad, 64, msg, n, ih);
	for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
	if (!rc) rc = md5_two(pad, 64, ih, 16, out);
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(pad, sizeof pad);
	return rc;
}

static int md5_auth(const uint8_t *pkt, size_t n, const uint8_t *auth_field,
                    const uint8_t *secret, size_t secret_len, uint8_t out[16])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int olen = 0;
	int ok = c && EVP_DigestInit_ex(c, md5_md(), NULL) &&
	         EVP_DigestUpdate(c, pkt, 4) && EVP_DigestUpdate(c, auth_field, 16) &&
	         EVP_DigestUpdate(c, pkt + 20, n - 20) &&
	         EVP_DigestUpdate(c, secret, secret_len) && EVP_DigestFinal_ex(c, out, &olen);
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

int radius_msg_auth(const uint8_t *pkt, size_t len, const uint8_t *req_auth,
                    const uint8_t *secret, size_t secret_len, uint8_t out[16])
{
	static const uint8_t zero[16];
	uint8_t tmp[RADIUS_MAX_LEN];
	size_t ma = 0, n = pkt_check(pkt, len, &ma);
	if (!n || !ma) return -1;
	bool resp = is_response(pkt[0]);
	if (resp && !req_auth) return -1;
	memcpy(tmp, pkt, n);
	memset(tmp + ma, 0, 16);
	if (resp) memcpy(tmp + 4, req_auth, 16);
	else if (!random_auth(pkt[0])) memcpy(tmp + 4, zero, 16);
	return hmac_md5(secret, secret_len, tmp, n, out);
}

int radius_sign(uint8_t *pkt, size_t len, const uint8_t *req_auth, const uint8_t *secret,
                size_t secret_len)
{
	static const uint8_t zero[16];
	size_t ma = 0, n = pkt_check(pkt, len, &ma);
	if (!n) return -1;
	bool resp = is_response(pkt[0]);
	if (resp && !req_auth) return -1;
	if (ma) {
		uint8_t mac[16];
		if (radius_msg_auth(pkt, n, req_auth, secret, secret_len, mac)) return -1;
		memcpy(pkt + ma, mac, 16);
	}
	if (random_auth(pkt[0])) return 0;
	uint8_t a[16];
	if (md5_auth(pkt, n, resp ? req_auth : zero, secret, secret_len, a)) return -1;
	memcpy(pkt + 4, a, 16);
	return 0;
}

int radius_verify_auth(const uint8_t *pkt, size_t len, const uint8_t *req_auth,
                       const uint8_t *secret, size_t secret_len)
{
	static const uint8_t zero[16];
	size_t ma = 0, n = pkt_check(pkt, len, &ma);
	if (!n || random_auth(pkt[0])) return -1;
	bool resp = is_response(pkt[0]);
	if (resp && !req_auth) return -1;
	uint8_t a[16];
	if (md5_auth(pkt, n, resp ? req_auth : zero, secret, secret_len, a)) return -1;
	return CRYPTO_memcmp(a, pkt + 4, 16) == 0 ? 1 : 0;
}

int radius_verify_msg_auth(const uint8_t *pkt, size_t len, const uint8_t *req_auth,
                           const uint8_t *secret, size_t secret_len)
{
	size_t ma = 0, n = pkt_check(pkt, len, &ma);
	uint8_t mac[16];
	if (!n || !ma) return -1;
	if (radius_msg_auth(pkt, n, req_auth, secret, secret_len, mac)) return -1;
	return CRYPTO_memcmp(mac, pkt + ma, 16) == 0 ? 1 : 0;
}

static int md5_two(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, uint8_t out[16])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int olen = 0;
	int ok = c && EVP_DigestInit_ex(c, md5_md(), NULL) && EVP_DigestUpdate(c, a, an) &&
	         EVP_DigestUpdate(c, b, bn) && EVP_DigestFinal_ex(c, out, &olen);
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

size_t radius_hide_password(const uint8_t *pw, size_t pwlen, const uint8_t *secret,
                            size_t secret_len, const uint8_t req_auth[16], uint8_t *out,
                            size_t cap)
{
	size_t n = pwlen == 0 ? 16 : (pwlen + 15) / 16 * 16;
	if (pwlen > 128 || n > cap) return 0;
	const uint8_t *prev = req_auth;
	for (size_t i = 0; i < n; i += 16) {
		uint8_t b[16];
		if (md5_two(secret, secret_len, prev, 16, b)) return 0;
		for (size_t k = 0; k < 16; k++) {
			uint8_t p = i + k < pwlen ? pw[i + k] : 0;
			out[i + k] = p ^ b[k];
		}
		prev = out + i;
	}
	return n;
}

int radius_unhide_password(const uint8_t *hidden, size_t len, const uint8_t *secret,
                           size_t secret_len, const uint8_t req_auth[16], uint8_t *out)
{
	if (len < 16 || len > 128 || len % 16) return -1;
	const uint8_t *prev = req_auth;
	for (size_t i = 0; i < len; i += 16) {
		uint8_t b[16];
		if (md5_two(secret, secret_len, prev, 16, b)) return -1;
		for (size_t k = 0; k < 16; k++) out[i + k] = hidden[i + k] ^ b[k];
		prev = hidden + i;
	}
	size_t n = len;
	while (n > 0 && out[n - 1] == 0) n--;
	return (int)n;
}

/* b = MD5(secret + first + second): the chain block of an MS-MPPE key. */
static int mppe_chain(const uint8_t *secret, size_t secret_len, const uint8_t *first,
                      size_t fn, const uint8_t *second, size_t sn, uint8_t b[16])
{
	EVP_MD_CTX *x = EVP_MD_CTX_new();
	unsigned int olen = 0;
	int ok = x && EVP_DigestInit_ex(x, md5_md(), NULL) &&
	         EVP_DigestUpdate(x, secret, secret_len) && EVP_DigestUpdate(x, first, fn) &&
	         (!sn || EVP_DigestUpdate(x, second, sn)) && EVP_DigestFinal_ex(x, b, &olen);
	EVP_MD_CTX_free(x);
	return ok ? 0 : -1;
}

size_t radius_ms_mppe_key_encrypt(const uint8_t *key, size_t klen, const uint8_t salt[2],
                                  const uint8_t *secret, size_t secret_len,
                                  const uint8_t req_auth[16], uint8_t *out, size_t cap)
{
	uint8_t plain[240];
	size_t n = (klen + 1 + 15) / 16 * 16;
	if (klen > 239 || 2 + n > cap) return 0;
	memset(plain, 0, sizeof plain);
	plain[0] = (uint8_t)klen;
	memcpy(plain + 1, key, klen);
	out[0] = (uint8_t)(salt[0] | 0x80);
	out[1] = salt[1];
	uint8_t *c = out + 2;
	size_t rc = 2 + n;
	for (size_t i = 0; i < n; i += 16) {
		uint8_t b[16];
		int bad = i == 0 ? mppe_chain(secret, secret_len, req_auth, 16, out, 2, b)
		                 : mppe_chain(secret, secret_len, c + i - 16, 16, NULL, 0, b);
		if (bad) {
			rc = 0;
			break;
		}
		for (size_t k = 0; k < 16; k++) c[i + k] = plain[i + k] ^ b[k];
	}
	OPENSSL_cleanse(plain, sizeof plain);
	return rc;
}

int radius_ms_mppe_key_decrypt(const uint8_t *val, size_t vlen, const uint8_t *secret,
                               size_t secret_len, const uint8_t req_auth[16], uint8_t *key,
                               size_t cap)
{
	uint8_t plain[256];
	if (vlen < 18 || (vlen - 2) % 16 || vlen - 2 > sizeof plain || !(val[0] & 0x80))
		return -1;
	const uint8_t *c = val + 2;
	size_t n = vlen - 2;
	for (size_t i = 0; i < n; i += 16) {
		uint8_t b[16];
		EVP_MD_CTX *x = EVP_MD_CTX_new();
		unsigned int olen = 0;
		int ok = x && EVP_DigestInit_ex(x, md5_md(), NULL) &&
		         EVP_DigestUpdate(x, secret, secret_len);
		if (i == 0)
			ok = ok && EVP_DigestUpdate(x, req_auth, 16) && EVP_DigestUpdate(x, val, 2);
		else
			ok = ok && EVP_DigestUpdate(x, c + i - 16, 16);
		ok = ok && EVP_DigestFinal_ex(x, b, &olen);
		EVP_MD_CTX_free(x);
		if (!ok) return -1;
		for (size_t k = 0; k < 16; k++) plain[i + k] = c[i + k] ^ b[k];
	}
	size_t klen = plain[0];
	int rc = -1;
	if (klen + 1 <= n && klen <= cap) {
		memcpy(key, plain + 1, klen);
		rc = (int)klen;
	}
	OPENSSL_cleanse(plain, sizeof plain);
	return rc;
}
