/* L2TPv2 codec (RFC 2661): header, AVPs, hidden AVPs, summaries, JSON and encoder. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "l2tp.h"

/* ---- tables ------------------------------------------------------------------------ */
const struct tok l2tp_msg_types[] = {
	{L2TP_MSG_ZLB, "ZLB"},
	{L2TP_MSG_SCCRQ, "SCCRQ"},
	{L2TP_MSG_SCCRP, "SCCRP"},
	{L2TP_MSG_SCCCN, "SCCCN"},
	{L2TP_MSG_STOPCCN, "StopCCN"},
	{L2TP_MSG_HELLO, "HELLO"},
	{L2TP_MSG_OCRQ, "OCRQ"},
	{L2TP_MSG_OCRP, "OCRP"},
	{L2TP_MSG_OCCN, "OCCN"},
	{L2TP_MSG_ICRQ, "ICRQ"},
	{L2TP_MSG_ICRP, "ICRP"},
	{L2TP_MSG_ICCN, "ICCN"},
	{L2TP_MSG_CDN, "CDN"},
	{L2TP_MSG_WEN, "WEN"},
	{L2TP_MSG_SLI, "SLI"},
	{L2TP_MSG_ACK, "ACK"},
	{0, NULL},
};

const struct tok l2tp_msg_long_names[] = {
	{L2TP_MSG_ZLB, "Zero-Length Body acknowledgement"},
	{L2TP_MSG_SCCRQ, "Start-Control-Connection-Request"},
	{L2TP_MSG_SCCRP, "Start-Control-Connection-Reply"},
	{L2TP_MSG_SCCCN, "Start-Control-Connection-Connected"},
	{L2TP_MSG_STOPCCN, "Stop-Control-Connection-Notification"},
	{L2TP_MSG_HELLO, "Hello"},
	{L2TP_MSG_OCRQ, "Outgoing-Call-Request"},
	{L2TP_MSG_OCRP, "Outgoing-Call-Reply"},
	{L2TP_MSG_OCCN, "Outgoing-Call-Connected"},
	{L2TP_MSG_ICRQ, "Incoming-Call-Request"},
	{L2TP_MSG_ICRP, "Incoming-Call-Reply"},
	{L2TP_MSG_ICCN, "Incoming-Call-Connected"},
	{L2TP_MSG_CDN, "Call-Disconnect-Notify"},
	{L2TP_MSG_WEN, "WAN-Error-Notify"},
	{L2TP_MSG_SLI, "Set-Link-Info"},
	{L2TP_MSG_ACK, "Explicit Acknowledgement"},
	{0, NULL},
};

const struct tok l2tp_avp_names[] = {
	{L2TP_AVP_MESSAGE_TYPE, "Message Type"},
	{L2TP_AVP_RESULT_CODE, "Result Code"},
	{L2TP_AVP_PROTOCOL_VERSION, "Protocol Version"},
	{L2TP_AVP_FRAMING_CAP, "Framing Capabilities"},
	{L2TP_AVP_BEARER_CAP, "Bearer Capabilities"},
	{L2TP_AVP_TIE_BREAKER, "Tie Breaker"},
	{L2TP_AVP_FIRMWARE_REV, "Firmware Revision"},
	{L2TP_AVP_HOST_NAME, "Host Name"},
	{L2TP_AVP_VENDOR_NAME, "Vendor Name"},
	{L2TP_AVP_ASSIGNED_TUNNEL_ID, "Assigned Tunnel ID"},
	{L2TP_AVP_RECV_WINDOW_SIZE, "Receive Window Size"},
	{L2TP_AVP_CHALLENGE, "Challenge"},
	{L2TP_AVP_Q931_CAUSE, "Q.931 Cause Code"},
	{L2TP_AVP_CHALLENGE_RESPONSE, "Challenge Response"},
	{L2TP_AVP_ASSIGNED_SESSION_ID, "Assigned Session ID"},
	{L2TP_AVP_CALL_SERIAL, "Call Serial Number"},
	{L2TP_AVP_MIN_BPS, "Minimum BPS"},
	{L2TP_AVP_MAX_BPS, "Maximum BPS"},
	{L2TP_AVP_BEARER_TYPE, "Bearer Type"},
	{L2TP_AVP_FRAMING_TYPE, "Framing Type"},
	{L2TP_AVP_CALLED_NUMBER, "Called Number"},
	{L2TP_AVP_CALLING_NUMBER, "Calling Number"},
	{L2TP_AVP_SUB_ADDRESS, "Sub-Address"},
	{L2TP_AVP_TX_CONNECT_SPEED, "Tx Connect Speed"},
	{L2TP_AVP_PHYSICAL_CHANNEL_ID, "Physical Channel ID"},
	{L2TP_AVP_INITIAL_RECV_LCP_CONFREQ, "Initial Received LCP CONFREQ"},
	{L2TP_AVP_LAST_SENT_LCP_CONFREQ, "Last Sent LCP CONFREQ"},
	{L2TP_AVP_LAST_RECV_LCP_CONFREQ, "Last Received LCP CONFREQ"},
	{L2TP_AVP_PROXY_AUTHEN_TYPE, "Proxy Authen Type"},
	{L2TP_AVP_PROXY_AUTHEN_NAME, "Proxy Authen Name"},
	{L2TP_AVP_PROXY_AUTHEN_CHALLENGE, "Proxy Authen Challenge"},
	{L2TP_AVP_PROXY_AUTHEN_ID, "Proxy Authen ID"},
	{L2TP_AVP_PROXY_AUTHEN_RESPONSE, "Proxy Authen Response"},
	{L2TP_AVP_CALL_ERRORS, "Call Errors"},
	{L2TP_AVP_ACCM, "ACCM"},
	{L2TP_AVP_RANDOM_VECTOR, "Random Vector"},
	{L2TP_AVP_PRIVATE_GROUP_ID, "Private Group ID"},
	{L2TP_AVP_RX_CONNECT_SPEED, "Rx Connect Speed"},
	{L2TP_AVP_SEQUENCING_REQUIRED, "Sequencing Required"},
	{0, NULL},
};

const struct tok l2tp_stopccn_results[] = {
	{0, "Reserved"},
	{L2TP_STOP_GENERAL, "General request to clear control connection"},
	{L2TP_STOP_ERROR, "General error, Error Code indicates the problem"},
	{L2TP_STOP_EXISTS, "Control channel already exists"},
	{L2TP_STOP_NOT_AUTHORIZED, "Requester is not authorized to establish a control channel"},
	{L2TP_STOP_BAD_VERSION, "Protocol version of the requester is not supported"},
	{L2TP_STOP_SHUTDOWN, "Requester is being shut down"},
	{L2TP_STOP_FSM, "Finite state machine error"},
	{0, NULL},
};

const struct tok l2tp_cdn_results[] = {
	{0, "Reserved"},
	{L2TP_CDN_LOST_CARRIER, "Call disconnected due to loss of carrier"},
	{L2TP_CDN_ERROR, "Call disconnected for the reason indicated in error code"},
	{L2TP_CDN_ADMIN, "Call disconnected for administrative reasons"},
	{L2TP_CDN_NO_FACILITIES_TEMP, "Call failed due to lack of appropriate facilities being available (temporary condition)"},
	{L2TP_CDN_NO_FACILITIES_PERM, "Call failed due to lack of appropriate facilities being available (permanent condition)"},
	{L2TP_CDN_INVALID_DEST, "Invalid destination"},
	{L2TP_CDN_NO_CARRIER, "Call failed due to no carrier detected"},
	{L2TP_CDN_BUSY, "Call failed due to detection of a busy signal"},
	{L2TP_CDN_NO_DIAL_TONE, "Call failed due to lack of a dial tone"},
	{L2TP_CDN_TIMEOUT, "Call was not established within time allotted by LAC"},
	{L2TP_CDN_NO_FRAMING, "Call was connected but no appropriate framing was detected"},
	{0, NULL},
};

const struct tok l2tp_error_codes[] = {
	{L2TP_ERR_NONE, "No general error"},
	{L2TP_ERR_NO_TUNNEL, "No control connection exists yet for this LAC-LNS pair"},
	{L2TP_ERR_BAD_LENGTH, "Length is wrong"},
	{L2TP_ERR_BAD_VALUE, "A field value was out of range or a reserved field was non-zero"},
	{L2TP_ERR_NO_RESOURCE, "Insufficient resources to handle this operation now"},
	{L2TP_ERR_BAD_SESSION, "Session ID is invalid in this context"},
	{L2TP_ERR_VENDOR, "A generic vendor-specific error occurred in the LAC"},
	{L2TP_ERR_TRY_ANOTHER, "Try another LNS"},
	{L2TP_ERR_UNKNOWN_M_AVP, "Shut down because an unknown AVP with the M bit set was received"},
	{0, NULL},
};

const struct tok l2tp_proxy_authen_types[] = {
	{0, "Reserved"},
	{1, "Textual username/password exchange"},
	{2, "PPP CHAP"},
	{3, "PPP PAP"},
	{4, "No Authentication"},
	{5, "Microsoft CHAP Version 1"},
	{0, NULL},
};

static const struct tok framing_type_names[] = {
	{0, "none"},
	{L2TP_FRAMING_SYNC, "sync"},
	{L2TP_FRAMING_ASYNC, "async"},
	{L2TP_FRAMING_SYNC | L2TP_FRAMING_ASYNC, "sync+async"},
	{0, NULL},
};

static const struct tok bearer_type_names[] = {
	{0, "none"},
	{L2TP_BEARER_DIGITAL, "digital"},
	{L2TP_BEARER_ANALOG, "analog"},
	{L2TP_BEARER_DIGITAL | L2TP_BEARER_ANALOG, "digital+analog"},
	{0, NULL},
};

/* How each IETF AVP is typed: value kind, accepted value sizes, default M bit. */
struct avp_def {
	uint16_t type;
	enum l2tp_avp_kind kind;
	uint16_t min, max; /* value length bounds */
	bool mandatory;
};

static const struct avp_def avp_defs[] = {
	{L2TP_AVP_MESSAGE_TYPE, L2TP_KIND_U16, 2, 2, true},
	{L2TP_AVP_RESULT_CODE, L2TP_KIND_RESULT, 2, 1017, true},
	{L2TP_AVP_PROTOCOL_VERSION, L2TP_KIND_PROTO_VERSION, 2, 2, true},
	{L2TP_AVP_FRAMING_CAP, L2TP_KIND_U32, 4, 4, true},
	{L2TP_AVP_BEARER_CAP, L2TP_KIND_U32, 4, 4, true},
	{L2TP_AVP_TIE_BREAKER, L2TP_KIND_U64, 8, 8, false},
	{L2TP_AVP_FIRMWARE_REV, L2TP_KIND_U16, 2, 2, false},
	{L2TP_AVP_HOST_NAME, L2TP_KIND_STRING, 1, 1017, true},
	{L2TP_AVP_VENDOR_NAME, L2TP_KIND_STRING, 0, 1017, false},
	{L2TP_AVP_ASSIGNED_TUNNEL_ID, L2TP_KIND_U16, 2, 2, true},
	{L2TP_AVP_RECV_WINDOW_SIZE, L2TP_KIND_U16, 2, 2, true},
	{L2TP_AVP_CHALLENGE, L2TP_KIND_BYTES, 1, 1017, true},
	{L2TP_AVP_Q931_CAUSE, L2TP_KIND_Q931, 3, 1017, true},
	{L2TP_AVP_CHALLENGE_RESPONSE, L2TP_KIND_BYTES, 16, 16, true},
	{L2TP_AVP_ASSIGNED_SESSION_ID, L2TP_KIND_U16, 2, 2, true},
	{L2TP_AVP_CALL_SERIAL, L2TP_KIND_U32, 4, 4, true},
	{L2TP_AVP_MIN_BPS, L2TP_KIND_U32, 4, 4, true},
	{L2TP_AVP_MAX_BPS, L2TP_KIND_U32, 4, 4, true},
	{L2TP_AVP_BEARER_TYPE, L2TP_KIND_U32, 4, 4, true},
	{L2TP_AVP_FRAMING_TYPE, L2TP_KIND_U32, 4, 4, true},
	{L2TP_AVP_CALLED_NUMBER, L2TP_KIND_STRING, 0, 1017, true},
	{L2TP_AVP_CALLING_NUMBER, L2TP_KIND_STRING, 0, 1017, true},
	{L2TP_AVP_SUB_ADDRESS, L2TP_KIND_STRING, 0, 1017, true},
	{L2TP_AVP_TX_CONNECT_SPEED, L2TP_KIND_U32, 4, 4, true},
	{L2TP_AVP_PHYSICAL_CHANNEL_ID, L2TP_KIND_U32, 4, 4, false},
	{L2TP_AVP_INITIAL_RECV_LCP_CONFREQ, L2TP_KIND_BYTES, 0, 1017, false},
	{L2TP_AVP_LAST_SENT_LCP_CONFREQ, L2TP_KIND_BYTES, 0, 1017, false},
	{L2TP_AVP_LAST_RECV_LCP_CONFREQ, L2TP_KIND_BYTES, 0, 1017, false},
	{L2TP_AVP_PROXY_AUTHEN_TYPE, L2TP_KIND_U16, 2, 2, false},
	{L2TP_AVP_PROXY_AUTHEN_NAME, L2TP_KIND_STRING, 0, 1017, false},
	{L2TP_AVP_PROXY_AUTHEN_CHALLENGE, L2TP_KIND_BYTES, 1, 1017, false},
	{L2TP_AVP_PROXY_AUTHEN_ID, L2TP_KIND_U16, 2, 2, false},
	{L2TP_AVP_PROXY_AUTHEN_RESPONSE, L2TP_KIND_BYTES, 0, 1017, false},
	{L2TP_AVP_CALL_ERRORS, L2TP_KIND_CALL_ERRORS, 26, 26, true},
	{L2TP_AVP_ACCM, L2TP_KIND_ACCM, 10, 10, true},
	{L2TP_AVP_RANDOM_VECTOR, L2TP_KIND_BYTES, 1, 1017, true},
	{L2TP_AVP_PRIVATE_GROUP_ID, L2TP_KIND_BYTES, 0, 1017, false},
	{L2TP_AVP_RX_CONNECT_SPEED, L2TP_KIND_U32, 4, 4, false},
	{L2TP_AVP_SEQUENCING_REQUIRED, L2TP_KIND_EMPTY, 0, 0, true},
};

static const struct avp_def *avp_def_find(uint16_t vendor, uint16_t type)
{
	if (vendor != 0) return NULL;
	for (size_t i = 0; i < sizeof avp_defs / sizeof avp_defs[0]; i++)
		if (avp_defs[i].type == type) return &avp_defs[i];
	return NULL;
}

/* AVPs each message must carry (RFC 2661 section 6), Message Type excluded. */
struct mandatory_set {
	uint16_t msg;
	uint16_t avps[8];
	size_t n;
};

static const struct mandatory_set mandatory_sets[] = {
	{L2TP_MSG_SCCRQ, {L2TP_AVP_PROTOCOL_VERSION, L2TP_AVP_HOST_NAME, L2TP_AVP_FRAMING_CAP,
	                  L2TP_AVP_ASSIGNED_TUNNEL_ID}, 4},
	{L2TP_MSG_SCCRP, {L2TP_AVP_PROTOCOL_VERSION, L2TP_AVP_FRAMING_CAP, L2TP_AVP_HOST_NAME,
	                  L2TP_AVP_ASSIGNED_TUNNEL_ID}, 4},
	{L2TP_MSG_STOPCCN, {L2TP_AVP_ASSIGNED_TUNNEL_ID, L2TP_AVP_RESULT_CODE}, 2},
	{L2TP_MSG_OCRQ, {L2TP_AVP_ASSIGNED_SESSION_ID, L2TP_AVP_CALL_SERIAL, L2TP_AVP_MIN_BPS,
	                 L2TP_AVP_MAX_BPS, L2TP_AVP_BEARER_TYPE, L2TP_AVP_FRAMING_TYPE,
	                 L2TP_AVP_CALLED_NUMBER}, 7},
	{L2TP_MSG_OCRP, {L2TP_AVP_ASSIGNED_SESSION_ID}, 1},
	{L2TP_MSG_OCCN, {L2TP_AVP_TX_CONNECT_SPEED, L2TP_AVP_FRAMING_TYPE}, 2},
	{L2TP_MSG_ICRQ, {L2TP_AVP_ASSIGNED_SESSION_ID, L2TP_AVP_CALL_SERIAL}, 2},
	{L2TP_MSG_ICRP, {L2TP_AVP_ASSIGNED_SESSION_ID}, 1},
	{L2TP_MSG_ICCN, {L2TP_AVP_TX_CONNECT_SPEED, L2TP_AVP_FRAMING_TYPE}, 2},
	{L2TP_MSG_CDN, {L2TP_AVP_RESULT_CODE, L2TP_AVP_ASSIGNED_SESSION_ID}, 2},
	{L2TP_MSG_WEN, {L2TP_AVP_CALL_ERRORS}, 1},
	{L2TP_MSG_SLI, {L2TP_AVP_ACCM}, 1},
};

const char *l2tp_msg_name(uint16_t msg_type) { return tok_name(l2tp_msg_types, msg_type); }

const char *l2tp_avp_name(uint16_t vendor, uint16_t type)
{
	return vendor == 0 ? tok_name(l2tp_avp_names, type) : NULL;
}

const char *l2tp_result_name(uint16_t msg_type, uint16_t code)
{
	if (msg_type == L2TP_MSG_STOPCCN) return tok_name(l2tp_stopccn_results, code);
	if (msg_type == L2TP_MSG_CDN) return tok_name(l2tp_cdn_results, code);
	return NULL;
}

const char *l2tp_error_name(uint16_t code) { return tok_name(l2tp_error_codes, code); }

const struct l2tp_avp *l2tp_find_avp(const struct l2tp_msg *m, uint16_t type)
{
	for (size_t i = 0; i < m->n_avps; i++)
		if (m->avps[i].vendor == 0 && m->avps[i].type == type) return &m->avps[i];
	return NULL;
}

/* ---- decoding ---------------------------------------------------------------------- */
static void note_add(struct l2tp_msg *m, const char *id, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void note_add(struct l2tp_msg *m, const char *id, size_t off, const char *fmt, ...)
{
	if (m->n_notes >= L2TP_MAX_NOTES) return; /* the first notes are kept; see n_notes */
	struct l2tp_note *n = &m->notes[m->n_notes++];
	va_list ap;
	n->id = id;
	n->off = off;
	va_start(ap, fmt);
	vsnprintf(n->text, sizeof n->text, fmt, ap);
	va_end(ap);
}

/* Type the value of an AVP whose framing is already checked. */
static void avp_type_value(struct l2tp_msg *m, struct l2tp_avp *a)
{
	const struct avp_def *d = avp_def_find(a->vendor, a->type);
	a->kind = L2TP_KIND_RAW;
	a->problem = NULL;
	if (!d || a->hidden) return;
	if (a->val_len < d->min || a->val_len > d->max) {
		a->problem = d->min == d->max ? "value has the wrong length" : "value too short";
		note_add(m, "l2tp.avp.len_bad", a->off, "%s AVP: value of %zu bytes, expected %s%u",
		         l2tp_avp_name(0, a->type), a->val_len, d->min == d->max ? "" : "at least ",
		         (unsigned)d->min);
		return;
	}
	struct rd r;
	rd_init(&r, a->val, a->val_len);
	switch (d->kind) {
	case L2TP_KIND_U16: a->v.u = rd_u16(&r); break;
	case L2TP_KIND_U32: a->v.u = rd_u32(&r); break;
	case L2TP_KIND_U64: a->v.u64 = rd_u64(&r); break;
	case L2TP_KIND_RESULT:
		if (a->val_len == 3) {
			a->problem = "result code value of 3 bytes (error code cut)";
			note_add(m, "l2tp.avp.len_bad", a->off,
			         "Result Code AVP: value of 3 bytes, expected 2 or at least 4");
			return;
		}
		a->v.result.result = rd_u16(&r);
		a->v.result.has_error = a->val_len >= 4;
		a->v.result.error = a->v.result.has_error ? rd_u16(&r) : 0;
		a->v.result.msg_len = rd_left(&r);
		a->v.result.msg = a->v.result.msg_len ? rd_ptr(&r, a->v.result.msg_len) : NULL;
		break;
	case L2TP_KIND_PROTO_VERSION:
		a->v.proto.ver = rd_u8(&r);
		a->v.proto.rev = rd_u8(&r);
		break;
	case L2TP_KIND_Q931:
		a->v.q931.cause = rd_u16(&r);
		a->v.q931.msg = rd_u8(&r);
		a->v.q931.advisory_len = rd_left(&r);
		a->v.q931.advisory = a->v.q931.advisory_len ? rd_ptr(&r, a->v.q931.advisory_len) : NULL;
		break;
	case L2TP_KIND_CALL_ERRORS:
		a->v.call_errors.reserved = rd_u16(&r);
		a->v.call_errors.crc = rd_u32(&r);
		a->v.call_errors.framing = rd_u32(&r);
		a->v.call_errors.hw_overruns = rd_u32(&r);
		a->v.call_errors.buf_overruns = rd_u32(&r);
		a->v.call_errors.timeouts = rd_u32(&r);
		a->v.call_errors.alignment = rd_u32(&r);
		break;
	case L2TP_KIND_ACCM:
		a->v.accm.reserved = rd_u16(&r);
		a->v.accm.send = rd_u32(&r);
		a->v.accm.recv = rd_u32(&r);
		break;
	default: break;
	}
	a->kind = d->kind;
}

static void check_mandatory(struct l2tp_msg *m)
{
	for (size_t i = 0; i < sizeof mandatory_sets / sizeof mandatory_sets[0]; i++) {
		const struct mandatory_set *s = &mandatory_sets[i];
		if (s->msg != m->msg_type) continue;
		for (size_t j = 0; j < s->n; j++)
			if (!l2tp_find_avp(m, s->avps[j]))
				note_add(m, "l2tp.avp.missing", 0, "%s without the mandatory %s AVP (%u)",
				         l2tp_msg_name(m->msg_type), l2tp_avp_name(0, s->avps[j]),
				         (unsigned)s->avps[j]);
	}
}

static int decode_avps(struct rd *r, struct l2tp_msg *m, struct diag_err *err)
{
	bool have_rv = false;
	for (size_t guard = 0; rd_left(r) > 0 && guard < 1024; guard++) {
		size_t at = r->off;
		size_t left = rd_left(r);
		if (left < L2TP_AVP_HDR_LEN) {
			diag_err_set(err, at, "L2TP AVP at offset %zu: %zu bytes left, an AVP header needs 6",
			             at, left);
			return -1;
		}
		uint16_t fl = rd_u16(r);
		uint16_t vendor = rd_u16(r);
		uint16_t type = rd_u16(r);
		uint16_t alen = fl & L2TP_AVP_LEN_MASK;
		if (alen < L2TP_AVP_HDR_LEN) {
			diag_err_set(err, at, "L2TP AVP %u at offset %zu: length %u < 6", (unsigned)type, at,
			             (unsigned)alen);
			return -1;
		}
		if (alen > left) {
			diag_err_set(err, at,
			             "L2TP AVP %u at offset %zu: length %u runs past the message end (%zu bytes left)",
			             (unsigned)type, at, (unsigned)alen, left);
			return -1;
		}
		if (m->n_avps >= L2TP_MAX_AVPS) {
			diag_err_set(err, at, "L2TP AVP %u at offset %zu: more than %d AVPs in one message",
			             (unsigned)type, at, L2TP_MAX_AVPS);
			return -1;
		}
		struct l2tp_avp *a = &m->avps[m->n_avps++];
		memset(a, 0, sizeof *a);
		a->off = at;
		a->mandatory = (fl & L2TP_AVP_M) != 0;
		a->hidden = (fl & L2TP_AVP_H) != 0;
		a->rsvd = (uint8_t)((fl >> 10) & 0x0f);
		a->len = alen;
		a->vendor = vendor;
		a->type = type;
		a->val_len = alen - L2TP_AVP_HDR_LEN;
		a->val = rd_ptr(r, a->val_len);
		avp_type_value(m, a);

		const char *nm = l2tp_avp_name(vendor, type);
		if (vendor == 0 && type == L2TP_AVP_RANDOM_VECTOR) have_rv = true;
		if (a->hidden && !have_rv)
			note_add(m, "l2tp.avp.hidden_no_rv", at,
			         "hidden AVP %u at offset %zu comes before any Random Vector AVP",
			         (unsigned)type, at);
		if (a->hidden && vendor == 0 && type == L2TP_AVP_MESSAGE_TYPE)
			note_add(m, "l2tp.avp.hidden_bad", at, "the Message Type AVP may not be hidden");
		if (!nm && a->mandatory)
			note_add(m, "l2tp.avp.unknown_mandatory", at,
			         "unknown AVP vendor %u type %u at offset %zu has the M bit set",
			         (unsigned)vendor, (unsigned)type, at);
		if (a->kind == L2TP_KIND_U16 && a->v.u == 0 &&
		    (type == L2TP_AVP_ASSIGNED_TUNNEL_ID || type == L2TP_AVP_ASSIGNED_SESSION_ID))
			note_add(m, "l2tp.avp.id_zero", at, "%s AVP at offset %zu assigns 0, which is reserved",
			         nm, at);
		if (a->kind == L2TP_KIND_PROTO_VERSION && (a->v.proto.ver != 1 || a->v.proto.rev != 0))
			note_add(m, "l2tp.avp.proto_version", at,
			         "Protocol Version %u.%u; L2TPv2 peers send 1.0", (unsigned)a->v.proto.ver,
			         (unsigned)a->v.proto.rev);
		if (a->rsvd)
			note_add(m, "l2tp.avp.reserved_bits", at,
			         "AVP %u at offset %zu has reserved flag bits 0x%x set", (unsigned)type, at,
			         (unsigned)a->rsvd);
	}
	return 0;
}

int l2tp_decode(const uint8_t *p, size_t len, struct l2tp_msg *out, struct diag_err *err)
{
	struct rd r;
	/* clear all but the AVP and note arrays, which are filled as they are counted */
	memset(out, 0, offsetof(struct l2tp_msg, avps));
	memset((uint8_t *)out + offsetof(struct l2tp_msg, payload), 0,
	       offsetof(struct l2tp_msg, notes) - offsetof(struct l2tp_msg, payload));
	diag_err_clear(err);
	rd_init(&r, p, len);

	uint16_t fl = rd_u16(&r);
	if (!rd_ok(&r)) return rd_error(&r, err, 0, "L2TP header flags");
	out->flags = fl;
	out->is_control = (fl & L2TP_FLAG_T) != 0;
	out->has_len = (fl & L2TP_FLAG_L) != 0;
	out->has_seq = (fl & L2TP_FLAG_S) != 0;
	out->has_offset = (fl & L2TP_FLAG_O) != 0;
	out->priority = (fl & L2TP_FLAG_P) != 0;
	out->version = fl & L2TP_VERSION_MASK;
	if (out->version != 2) {
		diag_err_set(err, 1, "L2TP version %u is not L2TPv2", (unsigned)out->version);
		return -1;
	}

	size_t end = len;
	if (out->has_len) {
		out->length = rd_u16(&r);
		if (!rd_ok(&r)) return rd_error(&r, err, 0, "L2TP length field");
		if (out->length > len) {
			diag_err_set(err, 2, "L2TP length field %u > %zu bytes in the datagram",
			             (unsigned)out->length, len);
			return -1;
		}
		end = out->length;
	}
	out->tunnel_id = rd_u16(&r);
	out->session_id = rd_u16(&r);
	if (!rd_ok(&r)) return rd_error(&r, err, 0, "L2TP header (tunnel/session id)");
	if (out->has_seq) {
		out->ns = rd_u16(&r);
		out->nr = rd_u16(&r);
		if (!rd_ok(&r)) return rd_error(&r, err, 0, "L2TP header (Ns/Nr)");
	}
	if (out->has_offset) {
		out->offset_size = rd_u16(&r);
		if (!rd_ok(&r)) return rd_error(&r, err, 0, "L2TP header (offset size)");
		size_t at = r.off;
		out->offset_pad = rd_ptr(&r, out->offset_size);
		if (!out->offset_pad && out->offset_size) {
			diag_err_set(err, at, "L2TP offset size %u runs past the datagram (%zu bytes left)",
			             (unsigned)out->offset_size, len - at);
			return -1;
		}
	}
	out->hdr_len = r.off;
	if (out->has_len && out->length < out->hdr_len) {
		diag_err_set(err, 2, "L2TP length field %u < header length %zu", (unsigned)out->length,
		             out->hdr_len);
		return -1;
	}
	if (end < len) {
		out->trailing = len - end;
		note_add(out, "l2tp.len.trailing", end,
		         "%zu bytes after the %u bytes the length field covers", out->trailing,
		         (unsigned)out->length);
	}
	r.len = end; /* the message ends where its length field says */

	if (!out->is_control) {
		out->payload = p + out->hdr_len;
		out->payload_len = end - out->hdr_len;
		return 0;
	}

	if (!out->has_len || !out->has_seq)
		note_add(out, "l2tp.hdr.ctrl_bits", 0,
		         "control message without the %s bit%s set", !out->has_len ? "L" : "S",
		         !out->has_len && !out->has_seq ? " (nor S)" : "");
	if (out->has_offset)
		note_add(out, "l2tp.hdr.ctrl_bits", 0, "control message with the O bit set");
	if (out->priority)
		note_add(out, "l2tp.hdr.ctrl_bits", 0, "control message with the P bit set");

	if (decode_avps(&r, out, err) < 0) return -1;

	if (out->n_avps == 0) {
		out->zlb = true;
		out->msg_type = L2TP_MSG_ZLB;
		return 0;
	}
	const struct l2tp_avp *mt = &out->avps[0];
	if (!(mt->vendor == 0 && mt->type == L2TP_AVP_MESSAGE_TYPE)) {
		mt = l2tp_find_avp(out, L2TP_AVP_MESSAGE_TYPE);
		if (mt)
			note_add(out, "l2tp.avp.msgtype_not_first", mt->off,
			         "the Message Type AVP is not the first AVP");
		else
			note_add(out, "l2tp.avp.missing", out->hdr_len,
			         "control message without a Message Type AVP");
	}
	if (mt && mt->kind == L2TP_KIND_U16) {
		out->has_msg_type = true;
		out->msg_type = (uint16_t)mt->v.u;
		if (!mt->mandatory)
			note_add(out, "l2tp.avp.m_bit", mt->off, "the Message Type AVP lacks the M bit");
		if (!l2tp_msg_name(out->msg_type))
			note_add(out, "l2tp.msg.unknown", mt->off, "unknown control message type %u",
			         (unsigned)out->msg_type);
		check_mandatory(out);
	}
	return 0;
}

/* ---- hidden AVPs ------------------------------------------------------------------- */
static int md5_parts(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                     const uint8_t *c, size_t clen, uint8_t out[16])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int olen = 0;
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) &&
	         EVP_DigestUpdate(ctx, a, alen) && EVP_DigestUpdate(ctx, b, blen) &&
	         (clen == 0 || EVP_DigestUpdate(ctx, c, clen)) &&
	         EVP_DigestFinal_ex(ctx, out, &olen);
	EVP_MD_CTX_free(ctx);
	return ok && olen == 16 ? 0 : -1;
}

/* XOR n bytes of `in` with the RFC 2661 4.3 key stream into `out`. `decrypt` says which
 * of in/out is the ciphertext chaining the stream. */
static int hide_stream(const uint8_t *secret, size_t secretlen, const uint8_t *rv, size_t rvlen,
                       uint16_t type, const uint8_t *in, size_t n, uint8_t *out, bool decrypt)
{
	uint8_t b[16];
	uint8_t t[2] = {(uint8_t)(type >> 8), (uint8_t)type};
	for (size_t i = 0; i < n; i += 16) {
		int rc;
		if (i == 0)
			rc = md5_parts(t, 2, secret, secretlen, rv, rvlen, b);
		else
			rc = md5_parts(secret, secretlen, decrypt ? in + i - 16 : out + i - 16, 16, NULL, 0, b);
		if (rc < 0) return -1;
		for (size_t j = 0; j < 16 && i + j < n; j++) out[i + j] = in[i + j] ^ b[j];
	}
	return 0;
}

int l2tp_avp_unhide(const uint8_t *secret, size_t secretlen, const uint8_t *rv, size_t rvlen,
                    uint16_t type, const uint8_t *h, size_t n, uint8_t *out, size_t cap,
                    size_t *outlen, struct diag_err *err)
{
	uint8_t plain[1024];
	*outlen = 0;
	if (n < 2) {
		diag_err_set(err, 0, "hidden AVP %u: %zu bytes, too short for the original length",
		             (unsigned)type, n);
		return -1;
	}
	if (n > sizeof plain) {
		diag_err_set(err, 0, "hidden AVP %u: %zu bytes, longer than an AVP can be",
		             (unsigned)type, n);
		return -1;
	}
	if (!rv || rvlen == 0) {
		diag_err_set(err, 0, "hidden AVP %u: no Random Vector", (unsigned)type);
		return -1;
	}
	if (hide_stream(secret, secretlen, rv, rvlen, type, h, n, plain, true) < 0) {
		diag_err_set(err, 0, "hidden AVP %u: MD5 unavailable", (unsigned)type);
		return -1;
	}
	size_t olen = ((size_t)plain[0] << 8) | plain[1];
	if (olen > n - 2) {
		diag_err_set(err, 0,
		             "hidden AVP %u: original length %zu > %zu bytes hidden (wrong secret or random vector?)",
		             (unsigned)type, olen, n - 2);
		return -1;
	}
	if (olen > cap) {
		diag_err_set(err, 0, "hidden AVP %u: value of %zu bytes does not fit in %zu",
		             (unsigned)type, olen, cap);
		return -1;
	}
	memcpy(out, plain + 2, olen);
	*outlen = olen;
	return 0;
}

size_t l2tp_avp_hide(const uint8_t *secret, size_t secretlen, const uint8_t *rv, size_t rvlen,
                     uint16_t type, const uint8_t *v, size_t vlen, const uint8_t *pad,
                     size_t padlen, uint8_t *out, size_t cap)
{
	uint8_t plain[1024];
	size_t n = 2 + vlen + padlen;
	if (vlen > 0xffff || n > sizeof plain || n > cap || !rv || rvlen == 0) return 0;
	plain[0] = (uint8_t)(vlen >> 8);
	plain[1] = (uint8_t)vlen;
	if (vlen) memcpy(plain + 2, v, vlen);
	for (size_t i = 0; i < padlen; i++) plain[2 + vlen + i] = pad ? pad[i] : 0;
	if (hide_stream(secret, secretlen, rv, rvlen, type, plain, n, out, false) < 0) return 0;
	return n;
}

int l2tp_challenge_response(uint8_t msg_type, const uint8_t *secret, size_t secretlen,
                            const uint8_t *challenge, size_t clen, uint8_t out[16])
{
	return md5_parts(&msg_type, 1, secret, secretlen, challenge, clen, out);
}

/* ---- text -------------------------------------------------------------------------- */

void l2tp_summary(const struct l2tp_msg *m, char *buf, size_t bufsz)
{
	struct sbuf b = {buf, bufsz, 0};
	char tmp[128];
	if (!bufsz) return;
	buf[0] = 0;
	if (!m->is_control) {
		sbuf_add(&b, "L2TP data tid %u sid %u", m->tunnel_id, m->session_id);
		if (m->has_seq) sbuf_add(&b, " Ns %u Nr %u", m->ns, m->nr);
		sbuf_add(&b, " [PPP]");
		return;
	}
	if (m->zlb) {
		sbuf_add(&b, "L2TP ZLB tid %u", m->tunnel_id);
		if (m->session_id) sbuf_add(&b, " sid %u", m->session_id);
		sbuf_add(&b, " Ns %u Nr %u", m->ns, m->nr);
		return;
	}
	const char *nm = m->has_msg_type ? l2tp_msg_name(m->msg_type) : NULL;
	if (nm)
		sbuf_add(&b, "L2TP %s", nm);
	else if (m->has_msg_type)
		sbuf_add(&b, "L2TP type-%u", m->msg_type);
	else
		sbuf_add(&b, "L2TP control (no Message Type)");
	sbuf_add(&b, " tid %u sid %u Ns %u Nr %u", m->tunnel_id, m->session_id, m->ns, m->nr);
	size_t hidden = 0;
	for (size_t i = 0; i < m->n_avps; i++) {
		const struct l2tp_avp *a = &m->avps[i];
		if (a->hidden) { hidden++; continue; }
		if (a->vendor != 0) continue;
		switch (a->type) {
		case L2TP_AVP_HOST_NAME:
			if (a->kind != L2TP_KIND_STRING) break;
			text_printable(a->val, a->val_len, tmp, sizeof tmp);
			sbuf_add(&b, " host-name=%s", tmp);
			break;
		case L2TP_AVP_VENDOR_NAME:
			if (a->kind != L2TP_KIND_STRING) break;
			text_printable(a->val, a->val_len, tmp, sizeof tmp);
			sbuf_add(&b, " vendor=%s", tmp);
			break;
		case L2TP_AVP_RESULT_CODE: {
			if (a->kind != L2TP_KIND_RESULT) break;
			const char *rn = l2tp_result_name(m->msg_type, a->v.result.result);
			sbuf_add(&b, " result=%u", a->v.result.result);
			if (rn) sbuf_add(&b, " (%s)", rn);
			if (a->v.result.has_error && a->v.result.error) {
				const char *en = l2tp_error_name(a->v.result.error);
				sbuf_add(&b, " error=%u", a->v.result.error);
				if (en) sbuf_add(&b, " (%s)", en);
			}
			if (a->v.result.msg_len) {
				text_printable(a->v.result.msg, a->v.result.msg_len, tmp, sizeof tmp);
				sbuf_add(&b, " \"%s\"", tmp);
			}
			break;
		}
		default: break;
		}
	}
	if (hidden) sbuf_add(&b, " hidden-avps=%zu", hidden);
}

/* ---- JSON -------------------------------------------------------------------------- */
static void jw_named(struct jw *w, const char *key, unsigned v, const char *name)
{
	char k[64];
	jw_int(w, key, v);
	if (name) {
		snprintf(k, sizeof k, "%s_name", key);
		jw_str(w, k, name);
	}
}

static void avp_jw(struct jw *w, const struct l2tp_msg *m, const struct l2tp_avp *a)
{
	jw_obj(w, NULL);
	const char *nm = l2tp_avp_name(a->vendor, a->type);
	if (nm) jw_str(w, "type", nm);
	jw_int(w, "type_num", a->type);
	jw_int(w, "vendor", a->vendor);
	jw_bool(w, "mandatory", a->mandatory);
	jw_bool(w, "hidden", a->hidden);
	jw_int(w, "length", a->len);
	jw_int(w, "offset", (long long)a->off);
	if (a->problem) jw_str(w, "problem", a->problem);
	switch (a->kind) {
	case L2TP_KIND_RAW:
		jw_hex(w, "raw", a->val, a->val_len);
		break;
	case L2TP_KIND_U16:
	case L2TP_KIND_U32:
		jw_int(w, "value", a->v.u);
		if (a->type == L2TP_AVP_MESSAGE_TYPE) {
			const char *mn = l2tp_msg_name((uint16_t)a->v.u);
			if (mn) jw_str(w, "value_name", mn);
		} else if (a->type == L2TP_AVP_FRAMING_CAP || a->type == L2TP_AVP_FRAMING_TYPE) {
			jw_bool(w, "sync", a->v.u & L2TP_FRAMING_SYNC);
			jw_bool(w, "async", a->v.u & L2TP_FRAMING_ASYNC);
			const char *fn = tok_name(framing_type_names, a->v.u);
			if (fn) jw_str(w, "value_name", fn);
		} else if (a->type == L2TP_AVP_BEARER_CAP || a->type == L2TP_AVP_BEARER_TYPE) {
			jw_bool(w, "digital", a->v.u & L2TP_BEARER_DIGITAL);
			jw_bool(w, "analog", a->v.u & L2TP_BEARER_ANALOG);
			const char *bn = tok_name(bearer_type_names, a->v.u);
			if (bn) jw_str(w, "value_name", bn);
		} else if (a->type == L2TP_AVP_PROXY_AUTHEN_TYPE) {
			const char *pn = tok_name(l2tp_proxy_authen_types, a->v.u);
			if (pn) jw_str(w, "value_name", pn);
		}
		break;
	case L2TP_KIND_U64: {
		char hx[17];
		uint8_t be[8];
		for (int i = 0; i < 8; i++) be[i] = (uint8_t)(a->v.u64 >> (56 - 8 * i));
		hex_str(be, 8, hx);
		jw_str(w, "value", hx);
		break;
	}
	case L2TP_KIND_STRING: jw_text(w, "value", a->val, a->val_len); break;
	case L2TP_KIND_BYTES: jw_hex(w, "value", a->val, a->val_len); break;
	case L2TP_KIND_EMPTY: break;
	case L2TP_KIND_RESULT:
		jw_named(w, "result", a->v.result.result,
		           l2tp_result_name(m->msg_type, a->v.result.result));
		if (a->v.result.has_error)
			jw_named(w, "error", a->v.result.error, l2tp_error_name(a->v.result.error));
		if (a->v.result.msg_len)
			jw_text(w, "message", a->v.result.msg, a->v.result.msg_len);
		break;
	case L2TP_KIND_PROTO_VERSION:
		jw_int(w, "version", a->v.proto.ver);
		jw_int(w, "revision", a->v.proto.rev);
		break;
	case L2TP_KIND_Q931:
		jw_int(w, "cause", a->v.q931.cause);
		jw_int(w, "cause_msg", a->v.q931.msg);
		if (a->v.q931.advisory_len)
			jw_text(w, "advisory", a->v.q931.advisory, a->v.q931.advisory_len);
		break;
	case L2TP_KIND_CALL_ERRORS:
		jw_int(w, "crc_errors", a->v.call_errors.crc);
		jw_int(w, "framing_errors", a->v.call_errors.framing);
		jw_int(w, "hardware_overruns", a->v.call_errors.hw_overruns);
		jw_int(w, "buffer_overruns", a->v.call_errors.buf_overruns);
		jw_int(w, "timeout_errors", a->v.call_errors.timeouts);
		jw_int(w, "alignment_errors", a->v.call_errors.alignment);
		break;
	case L2TP_KIND_ACCM:
		jw_int(w, "send_accm", a->v.accm.send);
		jw_int(w, "recv_accm", a->v.accm.recv);
		break;
	}
	jw_end(w);
}

void l2tp_jw(struct jw *w, const struct l2tp_msg *m)
{
	jw_int(w, "flags", m->flags);
	jw_bool(w, "control", m->is_control);
	jw_bool(w, "length_bit", m->has_len);
	jw_bool(w, "sequence_bit", m->has_seq);
	jw_bool(w, "offset_bit", m->has_offset);
	jw_bool(w, "priority", m->priority);
	jw_int(w, "version", m->version);
	if (m->has_len) jw_int(w, "length", m->length);
	jw_int(w, "tunnel_id", m->tunnel_id);
	jw_int(w, "session_id", m->session_id);
	if (m->has_seq) {
		jw_int(w, "ns", m->ns);
		jw_int(w, "nr", m->nr);
	}
	if (m->has_offset) jw_int(w, "offset_size", m->offset_size);
	jw_int(w, "header_length", (long long)m->hdr_len);
	if (m->is_control) {
		if (m->zlb) {
			jw_str(w, "type", "ZLB");
		} else if (m->has_msg_type) {
			const char *nm = l2tp_msg_name(m->msg_type);
			if (nm) jw_str(w, "type", nm);
			jw_int(w, "type_num", m->msg_type);
		}
		jw_arr(w, "avps");
		for (size_t i = 0; i < m->n_avps; i++)
			avp_jw(w, m, &m->avps[i]);
		jw_end(w);
	} else {
		jw_str(w, "type", "data");
		jw_int(w, "payload_len", (long long)m->payload_len);
	}
	if (m->trailing) jw_int(w, "trailing", (long long)m->trailing);
	if (m->n_notes) {
		jw_arr(w, "notes");
		for (size_t i = 0; i < m->n_notes; i++) {
			jw_obj(w, NULL);
			jw_str(w, "id", m->notes[i].id);
			jw_int(w, "offset", (long long)m->notes[i].off);
			jw_str(w, "text", m->notes[i].text);
			jw_end(w);
		}
		jw_end(w);
	}
}

json_t *l2tp_to_json(const struct l2tp_msg *m)
{
	struct jw w;
	jw_init(&w, JW_TREE, NULL);
	jw_obj(&w, NULL);
	l2tp_jw(&w, m);
	jw_end(&w);
	json_t *j = jw_take(&w);
	jw_free(&w);
	return j;
}

/* ---- encoding ---------------------------------------------------------------------- */
static size_t avp_value_len(const struct l2tp_avp *a)
{
	if (a->val) return a->val_len;
	switch (a->kind) {
	case L2TP_KIND_U16: return 2;
	case L2TP_KIND_U32: return 4;
	case L2TP_KIND_U64: return 8;
	case L2TP_KIND_RESULT:
		return 2 + (a->v.result.has_error ? 2 + a->v.result.msg_len : 0);
	case L2TP_KIND_PROTO_VERSION: return 2;
	case L2TP_KIND_Q931: return 3 + a->v.q931.advisory_len;
	case L2TP_KIND_CALL_ERRORS: return 26;
	case L2TP_KIND_ACCM: return 10;
	default: return 0;
	}
}

static void avp_write(struct wr *w, const struct l2tp_avp *a)
{
	size_t vlen = avp_value_len(a);
	if (vlen > L2TP_AVP_LEN_MASK - L2TP_AVP_HDR_LEN) { w->err = true; return; }
	if (!a->val && ((a->kind == L2TP_KIND_RESULT && a->v.result.msg_len && !a->v.result.msg) ||
	                (a->kind == L2TP_KIND_Q931 && a->v.q931.advisory_len && !a->v.q931.advisory))) {
		w->err = true; /* a length without the bytes */
		return;
	}
	uint16_t fl = (uint16_t)((a->mandatory ? L2TP_AVP_M : 0) | (a->hidden ? L2TP_AVP_H : 0) |
	                         ((a->rsvd & 0x0f) << 10) | (L2TP_AVP_HDR_LEN + vlen));
	wr_u16(w, fl);
	wr_u16(w, a->vendor);
	wr_u16(w, a->type);
	if (a->val) { wr_bytes(w, a->val, a->val_len); return; }
	switch (a->kind) {
	case L2TP_KIND_U16: wr_u16(w, (uint16_t)a->v.u); break;
	case L2TP_KIND_U32: wr_u32(w, a->v.u); break;
	case L2TP_KIND_U64:
		wr_u32(w, (uint32_t)(a->v.u64 >> 32));
		wr_u32(w, (uint32_t)a->v.u64);
		break;
	case L2TP_KIND_RESULT:
		wr_u16(w, a->v.result.result);
		if (a->v.result.has_error) {
			wr_u16(w, a->v.result.error);
			wr_bytes(w, a->v.result.msg, a->v.result.msg_len);
		}
		break;
	case L2TP_KIND_PROTO_VERSION:
		wr_u8(w, a->v.proto.ver);
		wr_u8(w, a->v.proto.rev);
		break;
	case L2TP_KIND_Q931:
		wr_u16(w, a->v.q931.cause);
		wr_u8(w, a->v.q931.msg);
		wr_bytes(w, a->v.q931.advisory, a->v.q931.advisory_len);
		break;
	case L2TP_KIND_CALL_ERRORS:
		wr_u16(w, a->v.call_errors.reserved);
		wr_u32(w, a->v.call_errors.crc);
		wr_u32(w, a->v.call_errors.framing);
		wr_u32(w, a->v.call_errors.hw_overruns);
		wr_u32(w, a->v.call_errors.buf_overruns);
		wr_u32(w, a->v.call_errors.timeouts);
		wr_u32(w, a->v.call_errors.alignment);
		break;
	case L2TP_KIND_ACCM:
		wr_u16(w, a->v.accm.reserved);
		wr_u32(w, a->v.accm.send);
		wr_u32(w, a->v.accm.recv);
		break;
	default: break;
	}
}

size_t l2tp_encode(const struct l2tp_msg *m, uint8_t *buf, size_t cap)
{
	struct wr w;
	bool has_len = m->is_control || m->has_len;
	bool has_seq = m->is_control || m->has_seq;
	uint16_t fl = (uint16_t)((m->flags & 0x34f0) | 2 | (m->is_control ? L2TP_FLAG_T : 0) |
	                         (has_len ? L2TP_FLAG_L : 0) | (has_seq ? L2TP_FLAG_S : 0) |
	                         (m->has_offset ? L2TP_FLAG_O : 0) | (m->priority ? L2TP_FLAG_P : 0));
	if (!m->is_control && m->payload_len && !m->payload) return 0;
	wr_init(&w, buf, cap);
	wr_u16(&w, fl);
	size_t len_at = w.off;
	if (has_len) wr_u16(&w, 0);
	wr_u16(&w, m->tunnel_id);
	wr_u16(&w, m->session_id);
	if (has_seq) {
		wr_u16(&w, m->ns);
		wr_u16(&w, m->nr);
	}
	if (m->has_offset) {
		wr_u16(&w, m->offset_size);
		for (size_t i = 0; i < m->offset_size; i++)
			wr_u8(&w, m->offset_pad ? m->offset_pad[i] : 0);
	}
	if (m->is_control) {
		for (size_t i = 0; i < m->n_avps && i < L2TP_MAX_AVPS; i++) avp_write(&w, &m->avps[i]);
	} else {
		wr_bytes(&w, m->payload, m->payload_len);
	}
	if (w.err || w.off > 0xffff) return 0;
	if (has_len) wr_put16_at(&w, len_at, (uint16_t)w.off);
	return w.off;
}

/* ---- building ---------------------------------------------------------------------- */
void l2tp_msg_init_ctrl(struct l2tp_msg *m, uint16_t msg_type, uint16_t tunnel_id,
                        uint16_t session_id, uint16_t ns, uint16_t nr)
{
	memset(m, 0, sizeof *m);
	m->is_control = m->has_len = m->has_seq = true;
	m->version = 2;
	m->tunnel_id = tunnel_id;
	m->session_id = session_id;
	m->ns = ns;
	m->nr = nr;
	m->msg_type = msg_type;
	if (msg_type == L2TP_MSG_ZLB) {
		m->zlb = true;
		return;
	}
	m->has_msg_type = true;
	(void)l2tp_add_uint(m, L2TP_AVP_MESSAGE_TYPE, msg_type);
}

void l2tp_msg_init_data(struct l2tp_msg *m, uint16_t tunnel_id, uint16_t session_id,
                        bool has_seq, uint16_t ns, uint16_t nr, const uint8_t *ppp,
                        size_t ppp_len)
{
	memset(m, 0, sizeof *m);
	m->version = 2;
	m->tunnel_id = tunnel_id;
	m->session_id = session_id;
	m->has_seq = has_seq;
	m->ns = ns;
	m->nr = nr;
	m->payload = ppp;
	m->payload_len = ppp_len;
}

static struct l2tp_avp *avp_new(struct l2tp_msg *m, uint16_t type, enum l2tp_avp_kind want)
{
	const struct avp_def *d = avp_def_find(0, type);
	if (!d || m->n_avps >= L2TP_MAX_AVPS) return NULL;
	if (want != d->kind &&
	    !(want == L2TP_KIND_U32 && (d->kind == L2TP_KIND_U16 || d->kind == L2TP_KIND_U64)) &&
	    !(want == L2TP_KIND_BYTES && (d->kind == L2TP_KIND_STRING || d->kind == L2TP_KIND_U64)))
		return NULL;
	struct l2tp_avp *a = &m->avps[m->n_avps++];
	memset(a, 0, sizeof *a);
	a->mandatory = d->mandatory;
	a->type = type;
	a->kind = d->kind;
	return a;
}

int l2tp_add_uint(struct l2tp_msg *m, uint16_t type, uint64_t v)
{
	struct l2tp_avp *a = avp_new(m, type, L2TP_KIND_U32);
	if (!a) return -1;
	if (a->kind == L2TP_KIND_U64) a->v.u64 = v;
	else a->v.u = (uint32_t)v;
	a->val_len = avp_value_len(a);
	return 0;
}

int l2tp_add_bytes(struct l2tp_msg *m, uint16_t type, const void *p, size_t n)
{
	struct l2tp_avp *a = avp_new(m, type, L2TP_KIND_BYTES);
	if (!a) return -1;
	if (a->kind == L2TP_KIND_U64 && n != 8) { m->n_avps--; return -1; }
	if (a->kind == L2TP_KIND_U64) {
		const uint8_t *b = p;
		a->v.u64 = 0;
		for (size_t i = 0; i < 8; i++) a->v.u64 = (a->v.u64 << 8) | b[i];
	}
	a->val = n ? p : (const uint8_t *)"";
	a->val_len = n;
	return 0;
}

int l2tp_add_empty(struct l2tp_msg *m, uint16_t type)
{
	struct l2tp_avp *a = avp_new(m, type, L2TP_KIND_EMPTY);
	return a ? 0 : -1;
}

int l2tp_add_result(struct l2tp_msg *m, uint16_t result, bool has_error, uint16_t error,
                    const char *msg)
{
	struct l2tp_avp *a = avp_new(m, L2TP_AVP_RESULT_CODE, L2TP_KIND_RESULT);
	if (!a) return -1;
	a->v.result.result = result;
	a->v.result.has_error = has_error || (msg && *msg);
	a->v.result.error = error;
	a->v.result.msg = (const uint8_t *)msg;
	a->v.result.msg_len = msg ? strlen(msg) : 0;
	a->val_len = avp_value_len(a);
	return 0;
}

int l2tp_add_proto_version(struct l2tp_msg *m, uint8_t ver, uint8_t rev)
{
	struct l2tp_avp *a = avp_new(m, L2TP_AVP_PROTOCOL_VERSION, L2TP_KIND_PROTO_VERSION);
	if (!a) return -1;
	a->v.proto.ver = ver;
	a->v.proto.rev = rev;
	a->val_len = 2;
	return 0;
}

int l2tp_add_q931(struct l2tp_msg *m, uint16_t cause, uint8_t msg, const char *advisory)
{
	struct l2tp_avp *a = avp_new(m, L2TP_AVP_Q931_CAUSE, L2TP_KIND_Q931);
	if (!a) return -1;
	a->v.q931.cause = cause;
	a->v.q931.msg = msg;
	a->v.q931.advisory = (const uint8_t *)advisory;
	a->v.q931.advisory_len = advisory ? strlen(advisory) : 0;
	a->val_len = avp_value_len(a);
	return 0;
}

int l2tp_add_accm(struct l2tp_msg *m, uint32_t send, uint32_t recv)
{
	struct l2tp_avp *a = avp_new(m, L2TP_AVP_ACCM, L2TP_KIND_ACCM);
	if (!a) return -1;
	a->v.accm.send = send;
	a->v.accm.recv = recv;
	a->val_len = 10;
	return 0;
}

int l2tp_add_call_errors(struct l2tp_msg *m, const uint32_t counts[6])
{
	struct l2tp_avp *a = avp_new(m, L2TP_AVP_CALL_ERRORS, L2TP_KIND_CALL_ERRORS);
	if (!a) return -1;
	a->v.call_errors.crc = counts[0];
	a->v.call_errors.framing = counts[1];
	a->v.call_errors.hw_overruns = counts[2];
	a->v.call_errors.buf_overruns = counts[3];
	a->v.call_errors.timeouts = counts[4];
	a->v.call_errors.alignment = counts[5];
	a->val_len = 26;
	return 0;
}

int l2tp_add_raw(struct l2tp_msg *m, uint16_t vendor, uint16_t type, bool mandatory,
                 bool hidden, const uint8_t *val, size_t n)
{
	if (m->n_avps >= L2TP_MAX_AVPS || n > L2TP_AVP_LEN_MASK - L2TP_AVP_HDR_LEN) return -1;
	struct l2tp_avp *a = &m->avps[m->n_avps++];
	memset(a, 0, sizeof *a);
	a->vendor = vendor;
	a->type = type;
	a->mandatory = mandatory;
	a->hidden = hidden;
	a->kind = L2TP_KIND_RAW;
	a->val = n ? val : (const uint8_t *)"";
	a->val_len = n;
	return 0;
}
