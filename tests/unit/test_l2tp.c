/* L2TPv2 codec: real messages from the lab captures, checked against tshark's decode in
 * the lab captures' .tshark.txt files, truncation, malformed lengths, encoders and hidden
 * AVPs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "l2tp.h"
#include "lab_vectors.h"

/* l2tp-xl2tpd-nopppd.pcap frame 10: CDN, result 1 error 0 */
static const uint8_t cdn[] = {
	0xc8, 0x02, 0x00, 0x26, 0x44, 0x4e, 0x02, 0xb2, 0x00, 0x02, 0x00, 0x04,
	0x80, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x80, 0x0a, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x80, 0x08, 0x00, 0x00, 0x00, 0x0e,
	0xc5, 0xa7,
};
/* l2tp-xl2tpd-hello.pcap frame 12: HELLO */
static const uint8_t hello[] = {
	0xc8, 0x02, 0x00, 0x14, 0xe2, 0xa8, 0x00, 0x00, 0x00, 0x03, 0x00, 0x04,
	0x80, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06,
};
/* l2tp-xl2tpd-ppp.pcap frame 10: data message (L bit) carrying an LCP Configure-Request */
static const uint8_t data_lcp[] = {
	0x40, 0x02, 0x00, 0x1f, 0x66, 0xe2, 0xff, 0x63, 0xff, 0x03, 0xc0, 0x21,
	0x01, 0x01, 0x00, 0x13, 0x01, 0x04, 0x05, 0x78, 0x03, 0x05, 0xc2, 0x23,
	0x05, 0x05, 0x06, 0x41, 0xf2, 0xce, 0xeb,
};
/* public/pcaps/packetnet__l2tp.pcap frame 1: data message with O and P bits, offset 0,
 * carrying an LCP Echo-Request */
static const uint8_t data_offset[] = {
	0x03, 0x02, 0x4a, 0x32, 0xd3, 0x5e, 0x00, 0x00, 0xff, 0x03, 0xc0, 0x21,
	0x09, 0x48, 0x00, 0x0c, 0xc1, 0x34, 0x39, 0x22, 0xe7, 0xe1, 0x8f, 0xf6,
};

struct vec {
	const char *name;
	const uint8_t *p;
	size_t len;
};
#define VEC(x) {#x, x, sizeof x}
static const struct vec control_vecs[] = {
	VEC(lab_l2tp_sccrq), VEC(lab_l2tp_sccrp), VEC(lab_l2tp_icrq), VEC(lab_l2tp_zlb), VEC(lab_l2tp_iccn), VEC(cdn), VEC(lab_l2tp_stopccn), VEC(hello),
};
static const struct vec all_vecs[] = {
	VEC(lab_l2tp_sccrq), VEC(lab_l2tp_sccrp), VEC(lab_l2tp_icrq), VEC(lab_l2tp_zlb),      VEC(lab_l2tp_iccn),
	VEC(cdn),   VEC(lab_l2tp_stopccn), VEC(hello), VEC(data_lcp), VEC(data_offset),
};
#define NVEC(a) (sizeof a / sizeof a[0])

static struct l2tp_msg m; /* large: keep it off the stack */

static const struct l2tp_avp *avp_at(size_t i)
{
	ck_assert_uint_lt(i, m.n_avps);
	return &m.avps[i];
}

static bool has_note(const char *id)
{
	for (size_t i = 0; i < m.n_notes; i++)
		if (!strcmp(m.notes[i].id, id)) return true;
	return false;
}

START_TEST(sccrq_fields_match_tshark)
{
	struct diag_err e;
	ck_assert_int_eq(l2tp_decode(lab_l2tp_sccrq, sizeof lab_l2tp_sccrq, &m, &e), 0);
	/* tshark: Flags 0xc802, Length 105, Tunnel ID 0, Session ID 0, Ns 0, Nr 0 */
	ck_assert_uint_eq(m.flags, 0xc802);
	ck_assert(m.is_control && m.has_len && m.has_seq && !m.has_offset && !m.priority);
	ck_assert_uint_eq(m.version, 2);
	ck_assert_uint_eq(m.length, 105);
	ck_assert_uint_eq(m.tunnel_id, 0);
	ck_assert_uint_eq(m.session_id, 0);
	ck_assert_uint_eq(m.ns, 0);
	ck_assert_uint_eq(m.nr, 0);
	ck_assert(m.has_msg_type && !m.zlb);
	ck_assert_uint_eq(m.msg_type, L2TP_MSG_SCCRQ);
	ck_assert_uint_eq(m.n_avps, 9);
	ck_assert_uint_eq(m.n_notes, 0);
	/* Protocol Version 1 revision 0, M */
	ck_assert_uint_eq(avp_at(1)->type, L2TP_AVP_PROTOCOL_VERSION);
	ck_assert(avp_at(1)->mandatory && !avp_at(1)->hidden);
	ck_assert_uint_eq(avp_at(1)->v.proto.ver, 1);
	ck_assert_uint_eq(avp_at(1)->v.proto.rev, 0);
	/* Framing Capabilities: async and sync; Bearer Capabilities: neither */
	ck_assert_uint_eq(avp_at(2)->v.u, L2TP_FRAMING_SYNC | L2TP_FRAMING_ASYNC);
	ck_assert_uint_eq(avp_at(2)->len, 10);
	ck_assert_uint_eq(avp_at(3)->v.u, 0);
	/* Firmware Revision 1680 (0x0690), not mandatory */
	ck_assert_uint_eq(avp_at(4)->type, L2TP_AVP_FIRMWARE_REV);
	ck_assert(!avp_at(4)->mandatory);
	ck_assert_uint_eq(avp_at(4)->v.u, 0x0690);
	/* Host Name vnet-lac (length 14), Vendor Name xelerance.com (length 19, no M) */
	ck_assert_uint_eq(avp_at(5)->kind, L2TP_KIND_STRING);
	ck_assert_uint_eq(avp_at(5)->len, 14);
	ck_assert_uint_eq(avp_at(5)->val_len, 8);
	ck_assert(!memcmp(avp_at(5)->val, "vnet-lac", 8));
	ck_assert_uint_eq(avp_at(6)->len, 19);
	ck_assert(!avp_at(6)->mandatory);
	ck_assert(!memcmp(avp_at(6)->val, "xelerance.com", 13));
	/* Assigned Tunnel ID 17486, Receive Window Size 4 */
	ck_assert_uint_eq(l2tp_find_avp(&m, L2TP_AVP_ASSIGNED_TUNNEL_ID)->v.u, 17486);
	ck_assert_uint_eq(l2tp_find_avp(&m, L2TP_AVP_RECV_WINDOW_SIZE)->v.u, 4);

	char s[256];
	l2tp_summary(&m, s, sizeof s);
	ck_assert_str_eq(s, "L2TP SCCRQ tid 0 sid 0 Ns 0 Nr 0 host-name=vnet-lac vendor=xelerance.com");

	json_t *j = l2tp_to_json(&m);
	ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "SCCRQ");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "type_num")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "length")), 105);
	json_t *avps = json_object_get(j, "avps");
	ck_assert_uint_eq(json_array_size(avps), 9);
	json_t *hn = json_array_get(avps, 5);
	ck_assert_str_eq(json_string_value(json_object_get(hn, "type")), "Host Name");
	ck_assert_str_eq(json_string_value(json_object_get(hn, "value")), "vnet-lac");
	json_t *fc = json_array_get(avps, 2);
	ck_assert(json_is_true(json_object_get(fc, "sync")));
	ck_assert(json_is_true(json_object_get(fc, "async")));
	json_decref(j);
}
END_TEST

START_TEST(session_messages_match_tshark)
{
	struct diag_err e;
	char s[256];
	/* ICRQ: Tunnel ID 16213, Ns 2 Nr 1, Assigned Session 690, Call Serial 1, Bearer Type 0 */
	ck_assert_int_eq(l2tp_decode(lab_l2tp_icrq, sizeof lab_l2tp_icrq, &m, &e), 0);
	ck_assert_uint_eq(m.msg_type, L2TP_MSG_ICRQ);
	ck_assert_uint_eq(m.tunnel_id, 16213);
	ck_assert_uint_eq(m.ns, 2);
	ck_assert_uint_eq(m.nr, 1);
	ck_assert_uint_eq(l2tp_find_avp(&m, L2TP_AVP_ASSIGNED_SESSION_ID)->v.u, 690);
	ck_assert_uint_eq(l2tp_find_avp(&m, L2TP_AVP_CALL_SERIAL)->v.u, 1);
	ck_assert_uint_eq(l2tp_find_avp(&m, L2TP_AVP_BEARER_TYPE)->v.u, 0);
	ck_assert_uint_eq(m.n_notes, 0);

	/* ICCN: session 50599, Connect Speed 0, Framing Type sync, Rx Connect Speed 0 (no M) */
	ck_assert_int_eq(l2tp_decode(lab_l2tp_iccn, sizeof lab_l2tp_iccn, &m, &e), 0);
	ck_assert_uint_eq(m.msg_type, L2TP_MSG_ICCN);
	ck_assert_uint_eq(m.session_id, 50599);
	ck_assert_uint_eq(l2tp_find_avp(&m, L2TP_AVP_TX_CONNECT_SPEED)->v.u, 0);
	ck_assert_uint_eq(l2tp_find_avp(&m, L2TP_AVP_FRAMING_TYPE)->v.u, L2TP_FRAMING_SYNC);
	ck_assert(!l2tp_find_avp(&m, L2TP_AVP_RX_CONNECT_SPEED)->mandatory);

	/* CDN: result 1 (loss of carrier), error 0, Assigned Session 50599 */
	ck_assert_int_eq(l2tp_decode(cdn, sizeof cdn, &m, &e), 0);
	ck_assert_uint_eq(m.msg_type, L2TP_MSG_CDN);
	const struct l2tp_avp *rc = l2tp_find_avp(&m, L2TP_AVP_RESULT_CODE);
	ck_assert_uint_eq(rc->kind, L2TP_KIND_RESULT);
	ck_assert_uint_eq(rc->v.result.result, 1);
	ck_assert(rc->v.result.has_error);
	ck_assert_uint_eq(rc->v.result.error, 0);
	ck_assert_uint_eq(rc->v.result.msg_len, 0);
	ck_assert_uint_eq(l2tp_find_avp(&m, L2TP_AVP_ASSIGNED_SESSION_ID)->v.u, 50599);
	l2tp_summary(&m, s, sizeof s);
	ck_assert_str_eq(s, "L2TP CDN tid 17486 sid 690 Ns 2 Nr 4 result=1 (Call disconnected due to loss of carrier)");

	/* StopCCN: Assigned Tunnel 17486, result 1, error 0, message "Goodbye!" */
	ck_assert_int_eq(l2tp_decode(lab_l2tp_stopccn, sizeof lab_l2tp_stopccn, &m, &e), 0);
	ck_assert_uint_eq(m.msg_type, L2TP_MSG_STOPCCN);
	rc = l2tp_find_avp(&m, L2TP_AVP_RESULT_CODE);
	ck_assert_uint_eq(rc->v.result.result, 1);
	ck_assert_uint_eq(rc->v.result.msg_len, 8);
	ck_assert(!memcmp(rc->v.result.msg, "Goodbye!", 8));
	l2tp_summary(&m, s, sizeof s);
	ck_assert_str_eq(s, "L2TP StopCCN tid 16213 sid 0 Ns 4 Nr 3 result=1 (General request to clear "
	                    "control connection) \"Goodbye!\"");
	json_t *j = l2tp_to_json(&m);
	json_t *jr = json_array_get(json_object_get(j, "avps"), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(jr, "result")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(jr, "result_name")),
	                 "General request to clear control connection");
	ck_assert_str_eq(json_string_value(json_object_get(jr, "message")), "Goodbye!");
	json_decref(j);

	/* HELLO: tunnel 58024, Ns 3 Nr 4, only the Message Type AVP */
	ck_assert_int_eq(l2tp_decode(hello, sizeof hello, &m, &e), 0);
	ck_assert_uint_eq(m.msg_type, L2TP_MSG_HELLO);
	ck_assert_uint_eq(m.tunnel_id, 58024);
	ck_assert_uint_eq(m.n_avps, 1);
}
END_TEST

START_TEST(zlb_and_data)
{
	struct diag_err e;
	char s[128];
	/* tshark: "ZLB (tunnel id=17486, session id=0)", Ns 1 Nr 2, length 12 */
	ck_assert_int_eq(l2tp_decode(lab_l2tp_zlb, sizeof lab_l2tp_zlb, &m, &e), 0);
	ck_assert(m.is_control && m.zlb && !m.has_msg_type);
	ck_assert_uint_eq(m.msg_type, L2TP_MSG_ZLB);
	ck_assert_uint_eq(m.n_avps, 0);
	l2tp_summary(&m, s, sizeof s);
	ck_assert_str_eq(s, "L2TP ZLB tid 17486 Ns 1 Nr 2");

	/* tshark: Flags 0x4002, Length 31, tunnel 26338, session 65379; PPP ff 03 c0 21 ... */
	ck_assert_int_eq(l2tp_decode(data_lcp, sizeof data_lcp, &m, &e), 0);
	ck_assert(!m.is_control && m.has_len && !m.has_seq);
	ck_assert_uint_eq(m.length, 31);
	ck_assert_uint_eq(m.tunnel_id, 26338);
	ck_assert_uint_eq(m.session_id, 65379);
	ck_assert_uint_eq(m.hdr_len, 8);
	ck_assert_ptr_eq(m.payload, data_lcp + 8);
	ck_assert_uint_eq(m.payload_len, 23);
	ck_assert_uint_eq(m.payload[2], 0xc0);
	ck_assert_uint_eq(m.payload[3], 0x21);
	l2tp_summary(&m, s, sizeof s);
	ck_assert_str_eq(s, "L2TP data tid 26338 sid 65379 [PPP]");

	/* tshark: Flags 0x0302 (Offset bit, Priority), tunnel 18994, session 54110, offset 0 */
	ck_assert_int_eq(l2tp_decode(data_offset, sizeof data_offset, &m, &e), 0);
	ck_assert(!m.is_control && !m.has_len && m.has_offset && m.priority);
	ck_assert_uint_eq(m.tunnel_id, 18994);
	ck_assert_uint_eq(m.session_id, 54110);
	ck_assert_uint_eq(m.offset_size, 0);
	ck_assert_uint_eq(m.hdr_len, 8);
	ck_assert_uint_eq(m.payload_len, 16);
	ck_assert_uint_eq(m.payload[0], 0xff);
}
END_TEST

/* Every prefix of every vector: a clean error with the offset of what could not be read,
 * or (data messages without a length field) a shorter payload. */
START_TEST(truncation_fails_cleanly)
{
	struct diag_err e;
	for (size_t v = 0; v < NVEC(all_vecs); v++) {
		const struct vec *x = &all_vecs[v];
		bool has_len = x->p[0] & 0x40;
		size_t hdr = 6 + ((x->p[0] & 0x08) ? 4 : 0) + ((x->p[0] & 0x02) ? 2 : 0) + (has_len ? 2 : 0);
		for (size_t n = 0; n < x->len; n++) {
			int rc = l2tp_decode(x->p, n, &m, &e);
			if (!has_len && n >= hdr) {
				ck_assert_msg(rc == 0, "%s cut at %zu", x->name, n);
				ck_assert_uint_eq(m.payload_len, n - hdr);
				continue;
			}
			ck_assert_msg(rc == -1, "%s cut at %zu decoded", x->name, n);
			ck_assert_msg(e.reason[0], "%s cut at %zu: no reason", x->name, n);
			size_t want;
			if (n < 2) want = 0;
			else if (has_len) want = 2; /* the length field claims more than there is */
			else want = n & ~(size_t)1; /* the 16-bit field that did not fit */
			ck_assert_msg(e.off == want, "%s cut at %zu: offset %zu, want %zu (%s)", x->name, n,
			              e.off, want, e.reason);
		}
	}
}
END_TEST

/* Cut a control message inside its AVPs and make the length field agree: the error
 * names the AVP that runs past the end, at its offset. */
START_TEST(avp_cut_reports_avp_offset)
{
	uint8_t b[256];
	struct diag_err e;
	for (size_t v = 0; v < NVEC(control_vecs); v++) {
		const struct vec *x = &control_vecs[v];
		/* AVP boundaries by walking the length fields */
		size_t starts[64], ns = 0;
		for (size_t off = 12; off < x->len && ns < 64; off += ((x->p[off] & 3) << 8) | x->p[off + 1])
			starts[ns++] = off;
		for (size_t n = 12; n < x->len; n++) {
			memcpy(b, x->p, n);
			b[2] = (uint8_t)(n >> 8);
			b[3] = (uint8_t)n;
			int rc = l2tp_decode(b, n, &m, &e);
			bool boundary = false;
			size_t within = 0;
			for (size_t i = 0; i < ns; i++) {
				if (starts[i] == n) boundary = true;
				if (starts[i] < n) within = starts[i];
			}
			if (boundary) {
				ck_assert_msg(rc == 0, "%s cut at AVP boundary %zu: %s", x->name, n, e.reason);
			} else {
				ck_assert_msg(rc == -1, "%s cut at %zu decoded", x->name, n);
				ck_assert_msg(e.off == within, "%s cut at %zu: offset %zu want %zu", x->name, n,
				              e.off, within);
				ck_assert_ptr_nonnull(strstr(e.reason, "AVP"));
			}
		}
	}
}
END_TEST

START_TEST(malformed_lengths)
{
	uint8_t b[256];
	struct diag_err e;

	/* AVP length 3 < 6 in the second AVP (offset 20) */
	memcpy(b, lab_l2tp_sccrq, sizeof lab_l2tp_sccrq);
	b[21] = 3;
	ck_assert_int_eq(l2tp_decode(b, sizeof lab_l2tp_sccrq, &m, &e), -1);
	ck_assert_uint_eq(e.off, 20);
	ck_assert_str_eq(e.reason, "L2TP AVP 2 at offset 20: length 3 < 6");

	/* AVP length running past the message: the last AVP (Receive Window, offset 97) says 9 */
	memcpy(b, lab_l2tp_sccrq, sizeof lab_l2tp_sccrq);
	b[98] = 9;
	ck_assert_int_eq(l2tp_decode(b, sizeof lab_l2tp_sccrq, &m, &e), -1);
	ck_assert_uint_eq(e.off, 97);
	ck_assert_ptr_nonnull(strstr(e.reason, "runs past"));

	/* length field larger than the datagram */
	memcpy(b, lab_l2tp_sccrq, sizeof lab_l2tp_sccrq);
	b[3] = 106;
	ck_assert_int_eq(l2tp_decode(b, sizeof lab_l2tp_sccrq, &m, &e), -1);
	ck_assert_uint_eq(e.off, 2);
	ck_assert_str_eq(e.reason, "L2TP length field 106 > 105 bytes in the datagram");

	/* length field smaller than the header */
	memcpy(b, lab_l2tp_zlb, sizeof lab_l2tp_zlb);
	b[3] = 8;
	ck_assert_int_eq(l2tp_decode(b, sizeof lab_l2tp_zlb, &m, &e), -1);
	ck_assert_uint_eq(e.off, 2);

	/* datagram longer than the length field: decoded up to the length, the rest noted */
	memcpy(b, hello, sizeof hello);
	b[sizeof hello] = 0xee;
	b[sizeof hello + 1] = 0xee;
	ck_assert_int_eq(l2tp_decode(b, sizeof hello + 2, &m, &e), 0);
	ck_assert_uint_eq(m.trailing, 2);
	ck_assert(has_note("l2tp.len.trailing"));
	ck_assert_uint_eq(m.n_avps, 1);

	/* a value of the wrong size is flagged, framing goes on: Assigned Tunnel ID of 3 bytes */
	static const uint8_t odd[] = {0xc8, 0x02, 0x00, 0x1d, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01,
	                              0x00, 0x01, 0x80, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06,
	                              0x80, 0x09, 0x00, 0x00, 0x00, 0x09, 0x12, 0x34, 0x56};
	ck_assert_int_eq(l2tp_decode(odd, sizeof odd, &m, &e), 0);
	ck_assert_uint_eq(m.n_avps, 2);
	ck_assert_uint_eq(avp_at(1)->kind, L2TP_KIND_RAW);
	ck_assert_ptr_nonnull(avp_at(1)->problem);
	ck_assert(has_note("l2tp.avp.len_bad"));

	/* version 3 and version 1 (L2F) are not L2TPv2 */
	memcpy(b, lab_l2tp_zlb, sizeof lab_l2tp_zlb);
	b[1] = 0x03;
	ck_assert_int_eq(l2tp_decode(b, sizeof lab_l2tp_zlb, &m, &e), -1);
	ck_assert_uint_eq(e.off, 1);
	b[1] = 0x01;
	ck_assert_int_eq(l2tp_decode(b, sizeof lab_l2tp_zlb, &m, &e), -1);

	/* offset size running past the datagram */
	static const uint8_t offpast[] = {0x02, 0x02, 0x00, 0x01, 0x00, 0x02, 0x00, 0x10, 0xff};
	ck_assert_int_eq(l2tp_decode(offpast, sizeof offpast, &m, &e), -1);
	ck_assert_uint_eq(e.off, 8);
}
END_TEST

START_TEST(mandatory_and_flag_checks)
{
	uint8_t b[256];
	struct diag_err e;
	/* SCCRQ without its Host Name: rewrite that AVP (offset 56, 14 bytes) as vendor 9 type 7 */
	memcpy(b, lab_l2tp_sccrq, sizeof lab_l2tp_sccrq);
	b[56] = 0x00; /* clear M so the unknown vendor AVP is allowed */
	b[59] = 9;
	ck_assert_int_eq(l2tp_decode(b, sizeof lab_l2tp_sccrq, &m, &e), 0);
	ck_assert(has_note("l2tp.avp.missing"));
	ck_assert(!has_note("l2tp.avp.unknown_mandatory"));
	ck_assert_ptr_nonnull(strstr(m.notes[0].text, "Host Name"));
	ck_assert_uint_eq(avp_at(5)->vendor, 9);
	ck_assert_uint_eq(avp_at(5)->kind, L2TP_KIND_RAW);

	/* the same with M set: an unknown mandatory AVP is reported too */
	b[56] = 0x80;
	ck_assert_int_eq(l2tp_decode(b, sizeof lab_l2tp_sccrq, &m, &e), 0);
	ck_assert(has_note("l2tp.avp.unknown_mandatory"));

	/* StopCCN without its Result Code: cut the message before it */
	memcpy(b, lab_l2tp_stopccn, 28);
	b[3] = 28;
	ck_assert_int_eq(l2tp_decode(b, 28, &m, &e), 0);
	ck_assert(has_note("l2tp.avp.missing"));
	char s[256];
	l2tp_summary(&m, s, sizeof s);
	ck_assert_str_eq(s, "L2TP StopCCN tid 16213 sid 0 Ns 4 Nr 3");

	/* Assigned Tunnel ID 0 and Protocol Version 1.1 are noted */
	memcpy(b, lab_l2tp_sccrq, sizeof lab_l2tp_sccrq);
	b[95] = 0;
	b[96] = 0;
	b[27] = 1;
	ck_assert_int_eq(l2tp_decode(b, sizeof lab_l2tp_sccrq, &m, &e), 0);
	ck_assert(has_note("l2tp.avp.id_zero"));
	ck_assert(has_note("l2tp.avp.proto_version"));

	/* a control message whose first AVP is not the Message Type */
	static const uint8_t nomt[] = {0xc8, 0x02, 0x00, 0x14, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01,
	                               0x00, 0x01, 0x80, 0x08, 0x00, 0x00, 0x00, 0x09, 0x12, 0x34};
	ck_assert_int_eq(l2tp_decode(nomt, sizeof nomt, &m, &e), 0);
	ck_assert(!m.has_msg_type && !m.zlb);
	ck_assert(has_note("l2tp.avp.missing"));
	l2tp_summary(&m, s, sizeof s);
	ck_assert_str_eq(s, "L2TP control (no Message Type) tid 5 sid 0 Ns 1 Nr 1");

	/* more than L2TP_MAX_AVPS AVPs is an error, not a silent cut */
	size_t n = 12;
	memcpy(b, lab_l2tp_zlb, 12);
	uint8_t big[12 + 8 * (L2TP_MAX_AVPS + 1)];
	memcpy(big, lab_l2tp_zlb, 12);
	for (int i = 0; i <= L2TP_MAX_AVPS; i++, n += 8) {
		static const uint8_t avp[] = {0x00, 0x08, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x04};
		memcpy(big + n, avp, 8);
	}
	big[2] = (uint8_t)(n >> 8);
	big[3] = (uint8_t)n;
	ck_assert_int_eq(l2tp_decode(big, n, &m, &e), -1);
	ck_assert_uint_eq(e.off, 12 + 8 * L2TP_MAX_AVPS);
	ck_assert_ptr_nonnull(strstr(e.reason, "more than"));
}
END_TEST

START_TEST(roundtrip_all_vectors)
{
	uint8_t out[512];
	struct diag_err e;
	for (size_t v = 0; v < NVEC(all_vecs); v++) {
		const struct vec *x = &all_vecs[v];
		ck_assert_int_eq(l2tp_decode(x->p, x->len, &m, &e), 0);
		size_t n = l2tp_encode(&m, out, sizeof out);
		ck_assert_msg(n == x->len, "%s: %zu bytes encoded, %zu decoded", x->name, n, x->len);
		ck_assert_msg(!memcmp(out, x->p, n), "%s differs", x->name);
		/* too small a buffer: 0, never a partial message */
		ck_assert_uint_eq(l2tp_encode(&m, out, x->len - 1), 0);
	}
}
END_TEST

static void assert_encodes_to(const struct l2tp_msg *b, const uint8_t *want, size_t wlen)
{
	uint8_t out[512];
	size_t n = l2tp_encode(b, out, sizeof out);
	ck_assert_uint_eq(n, wlen);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(out[i] == want[i], "byte %zu: %02x want %02x", i, out[i], want[i]);
}

/* The builders produce, byte for byte, what xl2tpd sent. */
START_TEST(builders_match_xl2tpd)
{
	struct l2tp_msg b;
	l2tp_msg_init_ctrl(&b, L2TP_MSG_SCCRQ, 0, 0, 0, 0);
	ck_assert_int_eq(l2tp_add_proto_version(&b, 1, 0), 0);
	ck_assert_int_eq(l2tp_add_uint(&b, L2TP_AVP_FRAMING_CAP, 3), 0);
	ck_assert_int_eq(l2tp_add_uint(&b, L2TP_AVP_BEARER_CAP, 0), 0);
	ck_assert_int_eq(l2tp_add_uint(&b, L2TP_AVP_FIRMWARE_REV, 0x0690), 0);
	ck_assert_int_eq(l2tp_add_bytes(&b, L2TP_AVP_HOST_NAME, "vnet-lac", 8), 0);
	ck_assert_int_eq(l2tp_add_bytes(&b, L2TP_AVP_VENDOR_NAME, "xelerance.com", 13), 0);
	ck_assert_int_eq(l2tp_add_uint(&b, L2TP_AVP_ASSIGNED_TUNNEL_ID, 17486), 0);
	ck_assert_int_eq(l2tp_add_uint(&b, L2TP_AVP_RECV_WINDOW_SIZE, 4), 0);
	assert_encodes_to(&b, lab_l2tp_sccrq, sizeof lab_l2tp_sccrq);

	l2tp_msg_init_ctrl(&b, L2TP_MSG_ICRQ, 16213, 0, 2, 1);
	l2tp_add_uint(&b, L2TP_AVP_ASSIGNED_SESSION_ID, 690);
	l2tp_add_uint(&b, L2TP_AVP_CALL_SERIAL, 1);
	l2tp_add_uint(&b, L2TP_AVP_BEARER_TYPE, 0);
	assert_encodes_to(&b, lab_l2tp_icrq, sizeof lab_l2tp_icrq);

	l2tp_msg_init_ctrl(&b, L2TP_MSG_ICCN, 16213, 50599, 3, 2);
	l2tp_add_uint(&b, L2TP_AVP_TX_CONNECT_SPEED, 0);
	l2tp_add_uint(&b, L2TP_AVP_FRAMING_TYPE, L2TP_FRAMING_SYNC);
	l2tp_add_uint(&b, L2TP_AVP_RX_CONNECT_SPEED, 0);
	assert_encodes_to(&b, lab_l2tp_iccn, sizeof lab_l2tp_iccn);

	l2tp_msg_init_ctrl(&b, L2TP_MSG_CDN, 17486, 690, 2, 4);
	l2tp_add_result(&b, 1, true, 0, NULL);
	l2tp_add_uint(&b, L2TP_AVP_ASSIGNED_SESSION_ID, 50599);
	assert_encodes_to(&b, cdn, sizeof cdn);

	l2tp_msg_init_ctrl(&b, L2TP_MSG_STOPCCN, 16213, 0, 4, 3);
	l2tp_add_uint(&b, L2TP_AVP_ASSIGNED_TUNNEL_ID, 17486);
	l2tp_add_result(&b, 1, true, 0, "Goodbye!");
	assert_encodes_to(&b, lab_l2tp_stopccn, sizeof lab_l2tp_stopccn);

	l2tp_msg_init_ctrl(&b, L2TP_MSG_HELLO, 58024, 0, 3, 4);
	assert_encodes_to(&b, hello, sizeof hello);

	l2tp_msg_init_ctrl(&b, L2TP_MSG_ZLB, 17486, 0, 1, 2);
	assert_encodes_to(&b, lab_l2tp_zlb, sizeof lab_l2tp_zlb);

	l2tp_msg_init_data(&b, 26338, 65379, false, 0, 0, data_lcp + 8, sizeof data_lcp - 8);
	b.has_len = true;
	assert_encodes_to(&b, data_lcp, sizeof data_lcp);

	/* a type that does not take that kind of value is refused */
	ck_assert_int_eq(l2tp_add_uint(&b, L2TP_AVP_HOST_NAME, 1), -1);
	ck_assert_int_eq(l2tp_add_bytes(&b, L2TP_AVP_TIE_BREAKER, "1234567", 7), -1);
}
END_TEST

/* Every AVP type the builders can make survives encode -> decode with its typed value. */
START_TEST(all_avp_kinds_roundtrip)
{
	struct l2tp_msg b;
	uint8_t out[1024];
	struct diag_err e;
	static const uint32_t errs[6] = {1, 2, 3, 4, 5, 6};
	static const uint8_t chal[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	static const uint8_t tb[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
	l2tp_msg_init_ctrl(&b, L2TP_MSG_WEN, 7, 9, 10, 11);
	l2tp_add_call_errors(&b, errs);
	l2tp_add_accm(&b, 0xffffffff, 0x000a0000);
	l2tp_add_q931(&b, 16, 0x5a, "normal clearing");
	l2tp_add_bytes(&b, L2TP_AVP_TIE_BREAKER, tb, 8);
	l2tp_add_bytes(&b, L2TP_AVP_CHALLENGE_RESPONSE, chal, 16);
	l2tp_add_empty(&b, L2TP_AVP_SEQUENCING_REQUIRED);
	l2tp_add_uint(&b, L2TP_AVP_PROXY_AUTHEN_TYPE, 2);
	l2tp_add_bytes(&b, L2TP_AVP_CALLED_NUMBER, "5551234", 7);
	l2tp_add_result(&b, 2, true, 6, NULL);
	static const uint8_t vend[] = {0xde, 0xad};
	l2tp_add_raw(&b, 311, 1, false, false, vend, 2);
	size_t n = l2tp_encode(&b, out, sizeof out);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(l2tp_decode(out, n, &m, &e), 0);
	ck_assert_uint_eq(m.msg_type, L2TP_MSG_WEN);
	ck_assert_uint_eq(m.n_avps, 11);
	ck_assert_uint_eq(m.n_notes, 0);
	const struct l2tp_avp *a = l2tp_find_avp(&m, L2TP_AVP_CALL_ERRORS);
	ck_assert_uint_eq(a->len, 32);
	ck_assert_uint_eq(a->v.call_errors.crc, 1);
	ck_assert_uint_eq(a->v.call_errors.alignment, 6);
	a = l2tp_find_avp(&m, L2TP_AVP_ACCM);
	ck_assert_uint_eq(a->v.accm.send, 0xffffffff);
	ck_assert_uint_eq(a->v.accm.recv, 0x000a0000);
	a = l2tp_find_avp(&m, L2TP_AVP_Q931_CAUSE);
	ck_assert_uint_eq(a->v.q931.cause, 16);
	ck_assert_uint_eq(a->v.q931.msg, 0x5a);
	ck_assert_uint_eq(a->v.q931.advisory_len, 15);
	a = l2tp_find_avp(&m, L2TP_AVP_TIE_BREAKER);
	ck_assert(!a->mandatory);
	ck_assert(a->v.u64 == 0x0102030405060708ull);
	a = l2tp_find_avp(&m, L2TP_AVP_SEQUENCING_REQUIRED);
	ck_assert_uint_eq(a->kind, L2TP_KIND_EMPTY);
	ck_assert_uint_eq(a->len, 6);
	a = l2tp_find_avp(&m, L2TP_AVP_RESULT_CODE);
	ck_assert_uint_eq(a->v.result.error, 6);
	ck_assert_ptr_null(l2tp_result_name(L2TP_MSG_WEN, 2)); /* result names are per message */
	ck_assert_uint_eq(m.avps[10].vendor, 311);
	ck_assert_uint_eq(m.avps[10].kind, L2TP_KIND_RAW);
	json_t *j = l2tp_to_json(&m);
	char *txt = json_dumps(j, JSON_COMPACT);
	ck_assert_ptr_nonnull(strstr(txt, "\"crc_errors\":1"));
	ck_assert_ptr_nonnull(strstr(txt, "\"value\":\"0102030405060708\""));
	ck_assert_ptr_nonnull(strstr(txt, "\"raw\":\"dead\""));
	free(txt);
	json_decref(j);
}
END_TEST

/* RFC 2661 4.3 computed here independently: b1 = MD5(type || secret || RV), c1 = p1 ^ b1,
 * b2 = MD5(secret || c1), c2 = p2 ^ b2. */
static void md5(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, const uint8_t *c,
                size_t cn, uint8_t out[16])
{
	EVP_MD_CTX *x = EVP_MD_CTX_new();
	unsigned int ol;
	EVP_DigestInit_ex(x, EVP_md5(), NULL);
	EVP_DigestUpdate(x, a, an);
	EVP_DigestUpdate(x, b, bn);
	if (cn) EVP_DigestUpdate(x, c, cn);
	EVP_DigestFinal_ex(x, out, &ol);
	EVP_MD_CTX_free(x);
}

START_TEST(hidden_avp_hide_and_unhide)
{
	static const uint8_t secret[] = "s3cret";
	static const uint8_t rv[] = {0x9a, 0x4c, 0x11, 0x02, 0x7e, 0x55, 0x10, 0xfe};
	static const uint8_t name[] = "a-long-proxy-authen-name"; /* 24 bytes: two blocks */
	uint8_t h[64], plain[64], want[64], b1[16];
	size_t n = l2tp_avp_hide(secret, 6, rv, sizeof rv, L2TP_AVP_PROXY_AUTHEN_NAME, name, 24,
	                         (const uint8_t *)"PADPAD", 6, h, sizeof h);
	ck_assert_uint_eq(n, 2 + 24 + 6);
	uint8_t p[32];
	p[0] = 0;
	p[1] = 24;
	memcpy(p + 2, name, 24);
	memcpy(p + 26, "PADPAD", 6);
	const uint8_t t[2] = {0, L2TP_AVP_PROXY_AUTHEN_NAME};
	md5(t, 2, secret, 6, rv, sizeof rv, b1);
	for (int i = 0; i < 16; i++) want[i] = p[i] ^ b1[i];
	md5(secret, 6, want, 16, NULL, 0, b1);
	for (int i = 16; i < 32; i++) want[i] = p[i] ^ b1[i - 16];
	ck_assert(!memcmp(h, want, 32));

	/* carried in a message after a Random Vector, flagged hidden, recovered */
	struct l2tp_msg b;
	uint8_t out[256];
	struct diag_err e;
	l2tp_msg_init_ctrl(&b, L2TP_MSG_ICCN, 1, 2, 3, 4);
	l2tp_add_uint(&b, L2TP_AVP_TX_CONNECT_SPEED, 10000000);
	l2tp_add_uint(&b, L2TP_AVP_FRAMING_TYPE, 1);
	l2tp_add_bytes(&b, L2TP_AVP_RANDOM_VECTOR, rv, sizeof rv);
	l2tp_add_raw(&b, 0, L2TP_AVP_PROXY_AUTHEN_NAME, false, true, h, n);
	size_t len = l2tp_encode(&b, out, sizeof out);
	ck_assert_int_eq(l2tp_decode(out, len, &m, &e), 0);
	const struct l2tp_avp *a = l2tp_find_avp(&m, L2TP_AVP_PROXY_AUTHEN_NAME);
	ck_assert(a->hidden);
	ck_assert_uint_eq(a->kind, L2TP_KIND_RAW);
	ck_assert(!has_note("l2tp.avp.hidden_no_rv"));
	const struct l2tp_avp *r = l2tp_find_avp(&m, L2TP_AVP_RANDOM_VECTOR);
	size_t plen;
	ck_assert_int_eq(l2tp_avp_unhide(secret, 6, r->val, r->val_len, a->type, a->val, a->val_len,
	                                 plain, sizeof plain, &plen, &e), 0);
	ck_assert_uint_eq(plen, 24);
	ck_assert(!memcmp(plain, name, 24));
	char s[256];
	l2tp_summary(&m, s, sizeof s);
	ck_assert_ptr_nonnull(strstr(s, "hidden-avps=1"));

	/* a wrong secret shows as an impossible original length (or wrong bytes) */
	if (l2tp_avp_unhide((const uint8_t *)"wrong", 5, rv, sizeof rv, a->type, a->val, a->val_len,
	                    plain, sizeof plain, &plen, &e) == 0)
		ck_assert(plen != 24 || memcmp(plain, name, 24));
	else
		ck_assert_ptr_nonnull(strstr(e.reason, "original length"));

	/* too short to hold the length, no random vector */
	ck_assert_int_eq(l2tp_avp_unhide(secret, 6, rv, 8, 7, h, 1, plain, 64, &plen, &e), -1);
	ck_assert_int_eq(l2tp_avp_unhide(secret, 6, NULL, 0, 7, h, n, plain, 64, &plen, &e), -1);

	/* hidden before any Random Vector is noted */
	l2tp_msg_init_ctrl(&b, L2TP_MSG_ICCN, 1, 2, 3, 4);
	l2tp_add_raw(&b, 0, L2TP_AVP_PROXY_AUTHEN_NAME, false, true, h, n);
	len = l2tp_encode(&b, out, sizeof out);
	ck_assert_int_eq(l2tp_decode(out, len, &m, &e), 0);
	ck_assert(has_note("l2tp.avp.hidden_no_rv"));
}
END_TEST

/* expected values from Python's hashlib.md5(bytes([type]) + secret + challenge) */
START_TEST(tunnel_challenge_response)
{
	static const uint8_t secret[] = "tunnel-secret";
	uint8_t chal[16], r[16];
	static const uint8_t want2[16] = {0xbf, 0x0d, 0x06, 0xe7, 0x51, 0xac, 0xde, 0x75,
	                                  0x64, 0xc6, 0x7b, 0xbd, 0x96, 0x0e, 0x51, 0x6b};
	static const uint8_t want3[16] = {0x49, 0x6a, 0x33, 0x7a, 0x9b, 0x76, 0x26, 0x8a,
	                                  0x38, 0xc9, 0x29, 0xb8, 0x8e, 0x43, 0x92, 0x2e};
	for (int i = 0; i < 16; i++) chal[i] = (uint8_t)(i + 1);
	ck_assert_int_eq(l2tp_challenge_response(L2TP_MSG_SCCRP, secret, 13, chal, 16, r), 0);
	ck_assert(!memcmp(r, want2, 16));
	ck_assert_int_eq(l2tp_challenge_response(L2TP_MSG_SCCCN, secret, 13, chal, 16, r), 0);
	ck_assert(!memcmp(r, want3, 16));
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(l2tp_msg_name(L2TP_MSG_SLI), "SLI");
	ck_assert_str_eq(l2tp_msg_name(L2TP_MSG_STOPCCN), "StopCCN");
	ck_assert_ptr_null(l2tp_msg_name(5));
	ck_assert_str_eq(l2tp_avp_name(0, 39), "Sequencing Required");
	ck_assert_ptr_null(l2tp_avp_name(9, 7));
	ck_assert_str_eq(l2tp_result_name(L2TP_MSG_STOPCCN, 6), "Requester is being shut down");
	ck_assert_str_eq(l2tp_result_name(L2TP_MSG_CDN, 4),
	                 "Call failed due to lack of appropriate facilities being available (temporary condition)");
	ck_assert_str_eq(l2tp_error_name(7), "Try another LNS");
	ck_assert_ptr_null(l2tp_error_name(9));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("l2tp");
	TCase *tc = tcase_create("codec");
	tcase_add_test(tc, sccrq_fields_match_tshark);
	tcase_add_test(tc, session_messages_match_tshark);
	tcase_add_test(tc, zlb_and_data);
	tcase_add_test(tc, truncation_fails_cleanly);
	tcase_add_test(tc, avp_cut_reports_avp_offset);
	tcase_add_test(tc, malformed_lengths);
	tcase_add_test(tc, mandatory_and_flag_checks);
	tcase_add_test(tc, roundtrip_all_vectors);
	tcase_add_test(tc, builders_match_xl2tpd);
	tcase_add_test(tc, all_avp_kinds_roundtrip);
	tcase_add_test(tc, hidden_avp_hide_and_unhide);
	tcase_add_test(tc, tunnel_challenge_response);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
