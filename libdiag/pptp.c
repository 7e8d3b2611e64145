/* PPTP control message codec (RFC 2637 section 2). The layout of every message is a
 * table; decode, encode and JSON all walk it. */
#include <stdio.h>
#include <string.h>

#include "pptp.h"

const struct tok pptp_ctrl_types[] = {
	{PPTP_SCCRQ, "Start-Control-Connection-Request"},
	{PPTP_SCCRP, "Start-Control-Connection-Reply"},
	{PPTP_STOPCCRQ, "Stop-Control-Connection-Request"},
	{PPTP_STOPCCRP, "Stop-Control-Connection-Reply"},
	{PPTP_ECHO_RQ, "Echo-Request"},
	{PPTP_ECHO_RP, "Echo-Reply"},
	{PPTP_OCRQ, "Outgoing-Call-Request"},
	{PPTP_OCRP, "Outgoing-Call-Reply"},
	{PPTP_ICRQ, "Incoming-Call-Request"},
	{PPTP_ICRP, "Incoming-Call-Reply"},
	{PPTP_ICCN, "Incoming-Call-Connected"},
	{PPTP_CCRQ, "Call-Clear-Request"},
	{PPTP_CDN, "Call-Disconnect-Notify"},
	{PPTP_WEN, "WAN-Error-Notify"},
	{PPTP_SLI, "Set-Link-Info"},
	{0, NULL},
};

const struct tok pptp_ctrl_short[] = {
	{PPTP_SCCRQ, "SCCRQ"},     {PPTP_SCCRP, "SCCRP"},       {PPTP_STOPCCRQ, "StopCCRQ"},
	{PPTP_STOPCCRP, "StopCCRP"}, {PPTP_ECHO_RQ, "EchoRQ"},  {PPTP_ECHO_RP, "EchoRP"},
	{PPTP_OCRQ, "OCRQ"},       {PPTP_OCRP, "OCRP"},         {PPTP_ICRQ, "ICRQ"},
	{PPTP_ICRP, "ICRP"},       {PPTP_ICCN, "ICCN"},         {PPTP_CCRQ, "CCRQ"},
	{PPTP_CDN, "CDN"},         {PPTP_WEN, "WEN"},           {PPTP_SLI, "SLI"},
	{0, NULL},
};

const struct tok pptp_error_codes[] = {
	{0, "None"},
	{1, "Not-Connected"},
	{2, "Bad-Format"},
	{3, "Bad-Value"},
	{4, "No-Resource"},
	{5, "Bad-Call ID"},
	{6, "PAC-Error"},
	{0, NULL},
};

static const struct tok sccrp_results[] = {
	{1, "Successful channel establishment"},
	{2, "General error"},
	{3, "Command channel already exists"},
	{4, "Requester is not authorized to establish a command channel"},
	{5, "The protocol version of the requester is not supported"},
	{0, NULL},
};
static const struct tok stopccrq_reasons[] = {
	{1, "None"},
	{2, "Stop-Protocol"},
	{3, "Stop-Local-Shutdown"},
	{0, NULL},
};
static const struct tok ok_results[] = {
	{1, "OK"},
	{2, "General error"},
	{0, NULL},
};
static const struct tok ocrp_results[] = {
	{1, "Connected"},
	{2, "General Error"},
	{3, "No Carrier"},
	{4, "Busy"},
	{5, "No Dial Tone"},
	{6, "Time-out"},
	{7, "Do Not Accept"},
	{0, NULL},
};
static const struct tok icrp_results[] = {
	{1, "Connect"},
	{2, "General Error"},
	{3, "Do Not Accept"},
	{0, NULL},
};
static const struct tok cdn_results[] = {
	{1, "Lost Carrier"},
	{2, "General Error"},
	{3, "Admin Shutdown"},
	{4, "Request"},
	{0, NULL},
};
static const struct tok framing_names[] = {
	{0, "none"},
	{PPTP_FRAMING_ASYNC, "async"},
	{PPTP_FRAMING_SYNC, "sync"},
	{PPTP_FRAMING_ASYNC | PPTP_FRAMING_SYNC, "async+sync"},
	{0, NULL},
};
static const struct tok bearer_names[] = {
	{0, "none"},
	{PPTP_BEARER_ANALOG, "analog"},
	{PPTP_BEARER_DIGITAL, "digital"},
	{PPTP_BEARER_ANALOG | PPTP_BEARER_DIGITAL, "analog+digital"},
	{0, NULL},
};

const char *pptp_ctrl_name(uint16_t ctrl_type) { return tok_name(pptp_ctrl_types, ctrl_type); }

const char *pptp_result_name(uint16_t ctrl_type, uint8_t code)
{
	switch (ctrl_type) {
	case PPTP_SCCRP: return tok_name(sccrp_results, code);
	case PPTP_STOPCCRQ: return tok_name(stopccrq_reasons, code);
	case PPTP_STOPCCRP:
	case PPTP_ECHO_RP: return tok_name(ok_results, code);
	case PPTP_OCRP: return tok_name(ocrp_results, code);
	case PPTP_ICRP: return tok_name(icrp_results, code);
	case PPTP_CDN: return tok_name(cdn_results, code);
	default: return NULL;
	}
}

const char *pptp_error_name(uint8_t code) { return tok_name(pptp_error_codes, code); }

/* ---- layout ------------------------------------------------------------------------ */
enum fkind { F_INT, F_STR };

struct field {
	const char *name; /* JSON key */
	enum fkind kind;
	uint8_t wire;     /* bytes on the wire */
	uint8_t msize;    /* bytes of the struct member (F_INT) */
	size_t moff;      /* offsetof the member */
	uint8_t flags;
};
#define FL_RESULT 1  /* named by pptp_result_name */
#define FL_ERROR 2   /* named by pptp_error_name */
#define FL_FRAMING 4
#define FL_BEARER 8
#define FL_HEX 16    /* ACCMs, identifiers: also shown in hex in JSON */
#define FL_RESERVED 32

#define MEMBER_SIZE(m) ((uint8_t)sizeof(((struct pptp_msg *)0)->m))
#define I(key, m, w) {key, F_INT, w, MEMBER_SIZE(m), offsetof(struct pptp_msg, m), 0}
#define IF(key, m, w, f) {key, F_INT, w, MEMBER_SIZE(m), offsetof(struct pptp_msg, m), f}
#define S(key, m, w) {key, F_STR, w, 0, offsetof(struct pptp_msg, m), 0}
#define END {NULL, F_INT, 0, 0, 0, 0}

static const struct field f_sccrq[] = {
	I("protocol_version", proto_version, 2), IF("reserved1", reserved1, 2, FL_RESERVED),
	IF("framing_caps", framing_caps, 4, FL_FRAMING), IF("bearer_caps", bearer_caps, 4, FL_BEARER),
	I("max_channels", max_channels, 2), I("firmware_revision", firmware_rev, 2),
	S("host_name", host_name, 64), S("vendor", vendor, 64), END};
static const struct field f_sccrp[] = {
	I("protocol_version", proto_version, 2), IF("result", result, 1, FL_RESULT),
	IF("error", error, 1, FL_ERROR),
	IF("framing_caps", framing_caps, 4, FL_FRAMING), IF("bearer_caps", bearer_caps, 4, FL_BEARER),
	I("max_channels", max_channels, 2), I("firmware_revision", firmware_rev, 2),
	S("host_name", host_name, 64), S("vendor", vendor, 64), END};
static const struct field f_stopccrq[] = {
	IF("reason", reason, 1, FL_RESULT), IF("reserved1", reserved1b, 1, FL_RESERVED),
	IF("reserved2", reserved2, 2, FL_RESERVED), END};
static const struct field f_stopccrp[] = {
	IF("result", result, 1, FL_RESULT), IF("error", error, 1, FL_ERROR),
	IF("reserved2", reserved2, 2, FL_RESERVED), END};
static const struct field f_echorq[] = {IF("identifier", identifier, 4, FL_HEX), END};
static const struct field f_echorp[] = {
	IF("identifier", identifier, 4, FL_HEX), IF("result", result, 1, FL_RESULT),
	IF("error", error, 1, FL_ERROR), IF("reserved1", reserved1, 2, FL_RESERVED), END};
static const struct field f_ocrq[] = {
	I("call_id", call_id, 2), I("call_serial", call_serial, 2), I("min_bps", min_bps, 4),
	I("max_bps", max_bps, 4), IF("bearer_type", bearer_type, 4, FL_BEARER),
	IF("framing_type", framing_type, 4, FL_FRAMING), I("recv_window", recv_window, 2),
	I("processing_delay", proc_delay, 2), I("phone_number_length", phone_len, 2),
	IF("reserved1", reserved1, 2, FL_RESERVED), S("phone_number", phone, 64),
	S("subaddress", subaddress, 64), END};
static const struct field f_ocrp[] = {
	I("call_id", call_id, 2), I("peer_call_id", peer_call_id, 2),
	IF("result", result, 1, FL_RESULT), IF("error", error, 1, FL_ERROR), I("cause", cause, 2),
	I("connect_speed", connect_speed, 4), I("recv_window", recv_window, 2),
	I("processing_delay", proc_delay, 2), I("physical_channel_id", phys_channel, 4), END};
static const struct field f_icrq[] = {
	I("call_id", call_id, 2), I("call_serial", call_serial, 2),
	IF("bearer_type", bearer_type, 4, FL_BEARER), I("physical_channel_id", phys_channel, 4),
	I("dialed_number_length", dialed_len, 2), I("dialing_number_length", dialing_len, 2),
	S("dialed_number", dialed, 64), S("dialing_number", dialing, 64),
	S("subaddress", subaddress, 64), END};
static const struct field f_icrp[] = {
	I("call_id", call_id, 2), I("peer_call_id", peer_call_id, 2),
	IF("result", result, 1, FL_RESULT), IF("error", error, 1, FL_ERROR),
	I("recv_window", recv_window, 2), I("transmit_delay", proc_delay, 2),
	IF("reserved1", reserved1, 2, FL_RESERVED), END};
static const struct field f_iccn[] = {
	I("peer_call_id", peer_call_id, 2), IF("reserved1", reserved1, 2, FL_RESERVED),
	I("connect_speed", connect_speed, 4), I("recv_window", recv_window, 2),
	I("transmit_delay", proc_delay, 2), IF("framing_type", framing_type, 4, FL_FRAMING), END};
static const struct field f_ccrq[] = {
	I("call_id", call_id, 2), IF("reserved1", reserved1, 2, FL_RESERVED), END};
static const struct field f_cdn[] = {
	I("call_id", call_id, 2), IF("result", result, 1, FL_RESULT), IF("error", error, 1, FL_ERROR),
	I("cause", cause, 2), IF("reserved1", reserved1, 2, FL_RESERVED),
	S("call_statistics", call_stats, 128), END};
static const struct field f_wen[] = {
	I("peer_call_id", peer_call_id, 2), IF("reserved1", reserved1, 2, FL_RESERVED),
	I("crc_errors", crc_errors, 4), I("framing_errors", framing_errors, 4),
	I("hardware_overruns", hw_overruns, 4), I("buffer_overruns", buf_overruns, 4),
	I("timeout_errors", timeout_errors, 4), I("alignment_errors", align_errors, 4), END};
static const struct field f_sli[] = {
	I("peer_call_id", peer_call_id, 2), IF("reserved1", reserved1, 2, FL_RESERVED),
	IF("send_accm", send_accm, 4, FL_HEX), IF("recv_accm", recv_accm, 4, FL_HEX), END};

static const struct field *const layouts[] = {
	NULL,     f_sccrq, f_sccrp, f_stopccrq, f_stopccrp, f_echorq, f_echorp, f_ocrq,
	f_ocrp,   f_icrq,  f_icrp,  f_iccn,     f_ccrq,     f_cdn,    f_wen,    f_sli,
};

static const struct field *layout_of(uint16_t t)
{
	return t < sizeof layouts / sizeof layouts[0] ? layouts[t] : NULL;
}

static size_t layout_len(const struct field *f)
{
	size_t n = PPTP_HDR_LEN;
	for (; f->name; f++) n += f->wire;
	return n;
}

static uint32_t member_get(const struct pptp_msg *m, const struct field *f)
{
	const uint8_t *b = (const uint8_t *)m + f->moff;
	switch (f->msize) {
	case 1: return *b;
	case 2: { uint16_t v; memcpy(&v, b, 2); return v; }
	default: { uint32_t v; memcpy(&v, b, 4); return v; }
	}
}

static void member_set(struct pptp_msg *m, const struct field *f, uint32_t v)
{
	uint8_t *b = (uint8_t *)m + f->moff;
	switch (f->msize) {
	case 1: *b = (uint8_t)v; break;
	case 2: { uint16_t x = (uint16_t)v; memcpy(b, &x, 2); break; }
	default: memcpy(b, &v, 4); break;
	}
}

static struct pptp_str *member_str(struct pptp_msg *m, const struct field *f)
{
	return (struct pptp_str *)(void *)((uint8_t *)m + f->moff);
}

static const struct pptp_str *member_cstr(const struct pptp_msg *m, const struct field *f)
{
	return (const struct pptp_str *)(const void *)((const uint8_t *)m + f->moff);
}

/* ---- decode ------------------------------------------------------------------------ */
long pptp_frame_len(const uint8_t *p, size_t len, struct diag_err *err)
{
	if (len < 8) return 0;
	unsigned l = ((unsigned)p[0] << 8) | p[1];
	uint32_t magic = ((uint32_t)p[4] << 24) | ((uint32_t)p[5] << 16) | ((uint32_t)p[6] << 8) | p[7];
	if (magic != PPTP_MAGIC) {
		diag_err_set(err, 4, "PPTP magic cookie 0x%08x, expected 0x1a2b3c4d", (unsigned)magic);
		return -1;
	}
	if (l < PPTP_HDR_LEN) {
		diag_err_set(err, 0, "PPTP length field %u < 12", l);
		return -1;
	}
	if (l > PPTP_MAX_LEN) {
		diag_err_set(err, 0, "PPTP length field %u > %d", l, PPTP_MAX_LEN);
		return -1;
	}
	return (long)l;
}

int pptp_decode(const uint8_t *p, size_t len, struct pptp_msg *out, struct diag_err *err)
{
	struct rd r;
	memset(out, 0, sizeof *out);
	diag_err_clear(err);
	rd_init(&r, p, len);
	out->length = rd_u16(&r);
	out->pptp_type = rd_u16(&r);
	out->magic = rd_u32(&r);
	out->ctrl_type = rd_u16(&r);
	out->reserved0 = rd_u16(&r);
	if (!rd_ok(&r)) return rd_error(&r, err, 0, "PPTP header");
	if (out->magic != PPTP_MAGIC) {
		diag_err_set(err, 4, "PPTP magic cookie 0x%08x, expected 0x1a2b3c4d",
		             (unsigned)out->magic);
		return -1;
	}
	if (out->length < PPTP_HDR_LEN) {
		diag_err_set(err, 0, "PPTP length field %u < 12", (unsigned)out->length);
		return -1;
	}
	if (out->length > len) {
		diag_err_set(err, 0, "PPTP length field %u > %zu bytes available",
		             (unsigned)out->length, len);
		return -1;
	}
	if (out->pptp_type != PPTP_MSG_CONTROL) {
		diag_err_set(err, 2, "PPTP message type %u is not a control message (1)",
		             (unsigned)out->pptp_type);
		return -1;
	}
	const struct field *f = layout_of(out->ctrl_type);
	if (!f) {
		diag_err_set(err, 8, "PPTP control message type %u is unknown",
		             (unsigned)out->ctrl_type);
		return -1;
	}
	size_t need = layout_len(f);
	if (out->length < need) {
		diag_err_set(err, 0, "PPTP %s: length field %u < %zu", pptp_ctrl_name(out->ctrl_type),
		             (unsigned)out->length, need);
		return -1;
	}
	r.len = out->length;
	for (; f->name; f++) {
		if (f->kind == F_INT) {
			uint32_t v = f->wire == 1 ? rd_u8(&r) : f->wire == 2 ? rd_u16(&r) : rd_u32(&r);
			member_set(out, f, v);
		} else {
			struct pptp_str *s = member_str(out, f);
			s->field = f->wire;
			s->p = rd_ptr(&r, f->wire);
			s->len = 0;
			while (s->p && s->len < s->field && s->p[s->len]) s->len++;
		}
	}
	if (!rd_ok(&r)) return rd_error(&r, err, 0, "PPTP message body");
	out->extra = out->length - need;
	return 0;
}

/* ---- text -------------------------------------------------------------------------- */

static void sb_str(struct sbuf *b, const char *key, const struct pptp_str *s)
{
	char tmp[4 * 128 + 8];
	if (!s->len) return;
	text_printable(s->p, s->len, tmp, sizeof tmp);
	sbuf_add(b, " %s=%s", key, tmp);
}

static void sb_result(struct sbuf *b, const struct pptp_msg *m, const char *key, uint8_t code,
                      bool with_error)
{
	const char *rn = pptp_result_name(m->ctrl_type, code);
	sbuf_add(b, " %s=%u", key, code);
	if (rn) sbuf_add(b, " (%s)", rn);
	if (with_error && m->error) {
		const char *en = pptp_error_name(m->error);
		sbuf_add(b, " error=%u", m->error);
		if (en) sbuf_add(b, " (%s)", en);
	}
}

void pptp_summary(const struct pptp_msg *m, char *buf, size_t bufsz)
{
	struct sbuf b = {buf, bufsz, 0};
	if (!bufsz) return;
	buf[0] = 0;
	const char *nm = pptp_ctrl_name(m->ctrl_type);
	if (nm) sbuf_add(&b, "PPTP %s", nm);
	else sbuf_add(&b, "PPTP type-%u", m->ctrl_type);
	switch (m->ctrl_type) {
	case PPTP_SCCRQ:
	case PPTP_SCCRP:
		if (m->ctrl_type == PPTP_SCCRP) sb_result(&b, m, "result", m->result, true);
		sbuf_add(&b, " version %u.%u", m->proto_version >> 8, m->proto_version & 0xff);
		sb_str(&b, "host-name", &m->host_name);
		sb_str(&b, "vendor", &m->vendor);
		break;
	case PPTP_STOPCCRQ: sb_result(&b, m, "reason", m->reason, false); break;
	case PPTP_STOPCCRP: sb_result(&b, m, "result", m->result, true); break;
	case PPTP_ECHO_RQ: sbuf_add(&b, " id 0x%08x", m->identifier); break;
	case PPTP_ECHO_RP:
		sbuf_add(&b, " id 0x%08x", m->identifier);
		sb_result(&b, m, "result", m->result, true);
		break;
	case PPTP_OCRQ:
		sbuf_add(&b, " call %u serial %u", m->call_id, m->call_serial);
		sb_str(&b, "phone", &m->phone);
		break;
	case PPTP_OCRP:
	case PPTP_ICRP:
		sbuf_add(&b, " call %u peer %u", m->call_id, m->peer_call_id);
		sb_result(&b, m, "result", m->result, true);
		if (m->ctrl_type == PPTP_OCRP && m->cause) sbuf_add(&b, " cause=%u", m->cause);
		break;
	case PPTP_ICRQ:
		sbuf_add(&b, " call %u serial %u", m->call_id, m->call_serial);
		sb_str(&b, "dialed", &m->dialed);
		sb_str(&b, "dialing", &m->dialing);
		break;
	case PPTP_ICCN: sbuf_add(&b, " peer %u speed %u", m->peer_call_id, m->connect_speed); break;
	case PPTP_CCRQ: sbuf_add(&b, " call %u", m->call_id); break;
	case PPTP_CDN:
		sbuf_add(&b, " call %u", m->call_id);
		sb_result(&b, m, "result", m->result, true);
		if (m->cause) sbuf_add(&b, " cause=%u", m->cause);
		sb_str(&b, "stats", &m->call_stats);
		break;
	case PPTP_WEN:
		sbuf_add(&b, " peer %u crc=%u framing=%u hw-overruns=%u buf-overruns=%u timeouts=%u alignment=%u",
		       m->peer_call_id, m->crc_errors, m->framing_errors, m->hw_overruns,
		       m->buf_overruns, m->timeout_errors, m->align_errors);
		break;
	case PPTP_SLI:
		sbuf_add(&b, " peer %u send-accm 0x%08x recv-accm 0x%08x", m->peer_call_id, m->send_accm,
		       m->recv_accm);
		break;
	default: break;
	}
}

void pptp_jw(struct jw *w, const struct pptp_msg *m)
{
	char tmp[4 * 128 + 8];
	jw_int(w, "length", m->length);
	jw_int(w, "pptp_type", m->pptp_type);
	jw_int(w, "magic_cookie", m->magic);
	const char *nm = pptp_ctrl_name(m->ctrl_type);
	if (nm) jw_str(w, "type", nm);
	jw_int(w, "type_num", m->ctrl_type);
	jw_int(w, "reserved0", m->reserved0);
	const struct field *f = layout_of(m->ctrl_type);
	for (; f && f->name; f++) {
		char key[64];
		if (f->kind == F_STR) {
			const struct pptp_str *s = member_cstr(m, f);
			text_printable(s->p, s->len, tmp, sizeof tmp);
			jw_str(w, f->name, tmp);
			continue;
		}
		uint32_t v = member_get(m, f);
		jw_int(w, f->name, v);
		const char *vn = NULL;
		if (f->flags & FL_RESULT) vn = pptp_result_name(m->ctrl_type, (uint8_t)v);
		if (f->flags & FL_ERROR) vn = pptp_error_name((uint8_t)v);
		if (f->flags & FL_FRAMING) vn = tok_name(framing_names, v);
		if (f->flags & FL_BEARER) vn = tok_name(bearer_names, v);
		if (vn) {
			snprintf(key, sizeof key, "%s_name", f->name);
			jw_str(w, key, vn);
		}
	}
	if (m->extra) jw_int(w, "extra", (long long)m->extra);
}

json_t *pptp_to_json(const struct pptp_msg *m)
{
	struct jw w;
	jw_init(&w, JW_TREE, NULL);
	jw_obj(&w, NULL);
	pptp_jw(&w, m);
	jw_end(&w);
	json_t *j = jw_take(&w);
	jw_free(&w);
	return j;
}

/* ---- encode ------------------------------------------------------------------------ */
size_t pptp_encode(const struct pptp_msg *m, uint8_t *buf, size_t cap)
{
	const struct field *f = layout_of(m->ctrl_type);
	if (!f) return 0;
	size_t total = layout_len(f);
	struct wr w;
	wr_init(&w, buf, cap);
	wr_u16(&w, (uint16_t)total);
	wr_u16(&w, PPTP_MSG_CONTROL);
	wr_u32(&w, PPTP_MAGIC);
	wr_u16(&w, m->ctrl_type);
	wr_u16(&w, m->reserved0);
	for (; f->name; f++) {
		if (f->kind == F_INT) {
			uint32_t v = member_get(m, f);
			if (f->wire == 1) wr_u8(&w, (uint8_t)v);
			else if (f->wire == 2) wr_u16(&w, (uint16_t)v);
			else wr_u32(&w, v);
		} else {
			const struct pptp_str *s = member_cstr(m, f);
			size_t n = s->p ? (s->len < f->wire ? s->len : f->wire) : 0;
			wr_bytes(&w, s->p, n);
			for (size_t i = n; i < f->wire; i++) wr_u8(&w, 0);
		}
	}
	return w.err ? 0 : w.off;
}

void pptp_msg_init(struct pptp_msg *m, uint16_t ctrl_type)
{
	memset(m, 0, sizeof *m);
	m->pptp_type = PPTP_MSG_CONTROL;
	m->magic = PPTP_MAGIC;
	m->ctrl_type = ctrl_type;
	if (ctrl_type == PPTP_SCCRQ || ctrl_type == PPTP_SCCRP) m->proto_version = PPTP_VERSION;
	const struct field *f = layout_of(ctrl_type);
	if (f) m->length = (uint16_t)layout_len(f);
}

void pptp_str_set(struct pptp_str *s, const char *text)
{
	s->p = (const uint8_t *)text;
	s->len = text ? strlen(text) : 0;
}
