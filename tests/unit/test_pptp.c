/* PPTP codec: control messages from pptp-gre-ppp.pcap (pptp-linux 1.10 <-> pptpd 1.4) and
 * tcpdump's pptp.pcap, checked against tshark's decode; truncation, bad lengths and magic,
 * the stream framer, every message type through encode and decode. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pptp.h"

/* lab/pptp-gre-ppp.pcap frame 4: Start-Control-Connection-Request (pptp-linux) */
static const uint8_t sccrq[] = {
	0x00, 0x9c, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x01, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x03,
	0xff, 0xff, 0x00, 0x01, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x61, 0x6e, 0x61,
	0x6e, 0x69, 0x61, 0x6e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* lab/pptp-gre-ppp.pcap frame 6: Start-Control-Connection-Reply (pptpd) */
static const uint8_t sccrp[] = {
	0x00, 0x9c, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x02, 0x00, 0x00,
	0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x01, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6c, 0x69, 0x6e, 0x75,
	0x78, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* lab/pptp-gre-ppp.pcap frame 8: Outgoing-Call-Request */
static const uint8_t ocrq[] = {
	0x00, 0xa8, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x07, 0x00, 0x00,
	0x62, 0x63, 0x00, 0x00, 0x00, 0x00, 0x09, 0x60, 0x00, 0x98, 0x96, 0x80,
	0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x03, 0x00, 0x03, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* lab/pptp-gre-ppp.pcap frame 9: Outgoing-Call-Reply */
static const uint8_t ocrp[] = {
	0x00, 0x20, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x08, 0x00, 0x00,
	0x00, 0x00, 0x62, 0x63, 0x01, 0x00, 0x00, 0x00, 0x00, 0x98, 0x96, 0x80,
	0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* lab/pptp-gre-ppp.pcap frame 38: Call-Clear-Request */
static const uint8_t ccrq[] = {
	0x00, 0x10, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x0c, 0x00, 0x00,
	0x62, 0x63, 0x00, 0x00,
};
/* public/pcaps/tcpdump__pptp.pcap frame 15: Set-Link-Info */
static const uint8_t sli[] = {
	0x00, 0x18, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x0f, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};
/* public/pcaps/tcpdump__pptp.pcap frame 5: SCCRQ from a Windows NT client (tcpdump pptp-v.out) */
static const uint8_t nt_sccrq[] = {
	0x00, 0x9c, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x01, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x08, 0x70, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4d, 0x69, 0x63, 0x72,
	0x6f, 0x73, 0x6f, 0x66, 0x74, 0x20, 0x57, 0x69, 0x6e, 0x64, 0x6f, 0x77,
	0x73, 0x20, 0x4e, 0x54, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* public/pcaps/tcpdump__pptp.pcap frame 10: OCRQ from the same client */
static const uint8_t nt_ocrq[] = {
	0x00, 0xa8, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x07, 0x00, 0x00,
	0x00, 0x00, 0x78, 0x28, 0x00, 0x00, 0x01, 0x2c, 0x05, 0xf5, 0xe1, 0x00,
	0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

struct vec {
	const char *name;
	const uint8_t *p;
	size_t len;
};
#define VEC(x) {#x, x, sizeof x}
static const struct vec vecs[] = {VEC(sccrq), VEC(sccrp), VEC(ocrq), VEC(ocrp),
                                  VEC(ccrq),  VEC(sli),   VEC(nt_sccrq), VEC(nt_ocrq)};
#define NVEC (sizeof vecs / sizeof vecs[0])

static bool str_is(const struct pptp_str *s, const char *want)
{
	return s->len == strlen(want) && !memcmp(s->p, want, s->len);
}

START_TEST(control_connection_matches_tshark)
{
	struct pptp_msg m;
	struct diag_err e;
	char s[256];
	/* SCCRQ: length 156, version 1.0, framing 3, bearer 3, max channels 65535, firmware 1,
	 * host "local", vendor "cananian" */
	ck_assert_int_eq(pptp_decode(sccrq, sizeof sccrq, &m, &e), 0);
	ck_assert_uint_eq(m.length, 156);
	ck_assert_uint_eq(m.pptp_type, PPTP_MSG_CONTROL);
	ck_assert_uint_eq(m.magic, PPTP_MAGIC);
	ck_assert_uint_eq(m.ctrl_type, PPTP_SCCRQ);
	ck_assert_uint_eq(m.proto_version, 0x0100);
	ck_assert_uint_eq(m.framing_caps, 3);
	ck_assert_uint_eq(m.bearer_caps, 3);
	ck_assert_uint_eq(m.max_channels, 65535);
	ck_assert_uint_eq(m.firmware_rev, 1);
	ck_assert(str_is(&m.host_name, "local"));
	ck_assert(str_is(&m.vendor, "cananian"));
	ck_assert_uint_eq(m.host_name.field, 64);
	ck_assert_uint_eq(m.extra, 0);
	pptp_summary(&m, s, sizeof s);
	ck_assert_str_eq(s, "PPTP Start-Control-Connection-Request version 1.0 host-name=local vendor=cananian");

	/* SCCRP: result 1 (Successful channel establishment), error 0, caps 0, 1 channel */
	ck_assert_int_eq(pptp_decode(sccrp, sizeof sccrp, &m, &e), 0);
	ck_assert_uint_eq(m.ctrl_type, PPTP_SCCRP);
	ck_assert_uint_eq(m.result, 1);
	ck_assert_uint_eq(m.error, 0);
	ck_assert_uint_eq(m.framing_caps, 0);
	ck_assert_uint_eq(m.max_channels, 1);
	ck_assert(str_is(&m.vendor, "linux"));
	json_t *j = pptp_to_json(&m);
	ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "Start-Control-Connection-Reply");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "type_num")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(j, "result_name")),
	                 "Successful channel establishment");
	ck_assert_str_eq(json_string_value(json_object_get(j, "error_name")), "None");
	ck_assert_str_eq(json_string_value(json_object_get(j, "host_name")), "local");
	json_decref(j);

	/* SLI (tcpdump's pptp.pcap): peer call 0, both ACCMs 0xffffffff */
	ck_assert_int_eq(pptp_decode(sli, sizeof sli, &m, &e), 0);
	ck_assert_uint_eq(m.ctrl_type, PPTP_SLI);
	ck_assert_uint_eq(m.length, 24);
	ck_assert_uint_eq(m.peer_call_id, 0);
	ck_assert_uint_eq(m.send_accm, 0xffffffff);
	ck_assert_uint_eq(m.recv_accm, 0xffffffff);
}
END_TEST

START_TEST(call_messages_match_tshark)
{
	struct pptp_msg m;
	struct diag_err e;
	char s[256];
	/* OCRQ: call 25187, serial 0, bps 2400..10000000, bearer 3, framing 3, window 3,
	 * delay 0, phone length 0, empty phone and subaddress */
	ck_assert_int_eq(pptp_decode(ocrq, sizeof ocrq, &m, &e), 0);
	ck_assert_uint_eq(m.length, 168);
	ck_assert_uint_eq(m.call_id, 25187);
	ck_assert_uint_eq(m.call_serial, 0);
	ck_assert_uint_eq(m.min_bps, 2400);
	ck_assert_uint_eq(m.max_bps, 10000000);
	ck_assert_uint_eq(m.bearer_type, 3);
	ck_assert_uint_eq(m.framing_type, 3);
	ck_assert_uint_eq(m.recv_window, 3);
	ck_assert_uint_eq(m.proc_delay, 0);
	ck_assert_uint_eq(m.phone_len, 0);
	ck_assert_uint_eq(m.phone.len, 0);
	ck_assert_uint_eq(m.subaddress.field, 64);

	/* OCRP: call 0, peer 25187, result Connected, error 0, cause 0, speed 10000000,
	 * window 3, delay 0, channel 0 */
	ck_assert_int_eq(pptp_decode(ocrp, sizeof ocrp, &m, &e), 0);
	ck_assert_uint_eq(m.length, 32);
	ck_assert_uint_eq(m.call_id, 0);
	ck_assert_uint_eq(m.peer_call_id, 25187);
	ck_assert_uint_eq(m.result, 1);
	ck_assert_uint_eq(m.cause, 0);
	ck_assert_uint_eq(m.connect_speed, 10000000);
	ck_assert_uint_eq(m.recv_window, 3);
	ck_assert_uint_eq(m.phys_channel, 0);
	pptp_summary(&m, s, sizeof s);
	ck_assert_str_eq(s, "PPTP Outgoing-Call-Reply call 0 peer 25187 result=1 (Connected)");

	/* CCRQ: call 25187 */
	ck_assert_int_eq(pptp_decode(ccrq, sizeof ccrq, &m, &e), 0);
	ck_assert_uint_eq(m.ctrl_type, PPTP_CCRQ);
	ck_assert_uint_eq(m.call_id, 25187);
	pptp_summary(&m, s, sizeof s);
	ck_assert_str_eq(s, "PPTP Call-Clear-Request call 25187");
}
END_TEST

/* tcpdump -v: SCCRQ PROTO_VER(1.0) FRAME_CAP(A) BEARER_CAP(A) MAX_CHAN(0) FIRM_REV(2160)
 * HOSTNAME() VENDOR(Microsoft Windows NT); OCRQ CALL_ID(0) CALL_SER_NUM(30760) MIN_BPS(300)
 * MAX_BPS(100000000) BEARER_TYPE(Any) FRAME_TYPE(E) RECV_WIN(64) PROC_DELAY(0) PHONE_NO_LEN(0) */
START_TEST(windows_nt_client_matches_tcpdump)
{
	struct pptp_msg m;
	struct diag_err e;
	char s[256];
	ck_assert_int_eq(pptp_decode(nt_sccrq, sizeof nt_sccrq, &m, &e), 0);
	ck_assert_uint_eq(m.proto_version, 0x0100);
	ck_assert_uint_eq(m.framing_caps, PPTP_FRAMING_ASYNC);
	ck_assert_uint_eq(m.bearer_caps, PPTP_BEARER_ANALOG);
	ck_assert_uint_eq(m.max_channels, 0);
	ck_assert_uint_eq(m.firmware_rev, 2160);
	ck_assert_uint_eq(m.host_name.len, 0);
	ck_assert(str_is(&m.vendor, "Microsoft Windows NT"));
	pptp_summary(&m, s, sizeof s);
	ck_assert_str_eq(s, "PPTP Start-Control-Connection-Request version 1.0 vendor=Microsoft Windows NT");
	json_t *j = pptp_to_json(&m);
	ck_assert_str_eq(json_string_value(json_object_get(j, "framing_caps_name")), "async");
	ck_assert_str_eq(json_string_value(json_object_get(j, "bearer_caps_name")), "analog");
	json_decref(j);
	ck_assert_int_eq(pptp_decode(nt_ocrq, sizeof nt_ocrq, &m, &e), 0);
	ck_assert_uint_eq(m.call_id, 0);
	ck_assert_uint_eq(m.call_serial, 30760);
	ck_assert_uint_eq(m.min_bps, 300);
	ck_assert_uint_eq(m.max_bps, 100000000);
	ck_assert_uint_eq(m.bearer_type, PPTP_BEARER_ANALOG | PPTP_BEARER_DIGITAL);
	ck_assert_uint_eq(m.framing_type, PPTP_FRAMING_ASYNC | PPTP_FRAMING_SYNC);
	ck_assert_uint_eq(m.recv_window, 64);
	ck_assert_uint_eq(m.phone_len, 0);
}
END_TEST

START_TEST(truncation_and_bad_headers)
{
	struct pptp_msg m;
	struct diag_err e;
	uint8_t b[256];
	for (size_t v = 0; v < NVEC; v++) {
		for (size_t n = 0; n < vecs[v].len; n++) {
			int rc = pptp_decode(vecs[v].p, n, &m, &e);
			ck_assert_msg(rc == -1, "%s cut at %zu decoded", vecs[v].name, n);
			/* a header cut: where the field that did not fit starts; a body cut: the
			 * length field at 0 claims more than there is */
			size_t want = n < 2 ? 0 : n < 4 ? 2 : n < 8 ? 4 : n < 10 ? 8 : n < 12 ? 10 : 0;
			ck_assert_msg(e.off == want, "%s cut at %zu: offset %zu want %zu (%s)",
			              vecs[v].name, n, e.off, want, e.reason);
		}
	}
	/* wrong magic cookie */
	memcpy(b, ocrp, sizeof ocrp);
	b[7] = 0x4e;
	ck_assert_int_eq(pptp_decode(b, sizeof ocrp, &m, &e), -1);
	ck_assert_uint_eq(e.off, 4);
	ck_assert_str_eq(e.reason, "PPTP magic cookie 0x1a2b3c4e, expected 0x1a2b3c4d");
	/* length field shorter than the message type needs */
	memcpy(b, ocrp, sizeof ocrp);
	b[1] = 28;
	ck_assert_int_eq(pptp_decode(b, sizeof ocrp, &m, &e), -1);
	ck_assert_str_eq(e.reason, "PPTP Outgoing-Call-Reply: length field 28 < 32");
	/* length field < 12 */
	b[1] = 11;
	ck_assert_int_eq(pptp_decode(b, sizeof ocrp, &m, &e), -1);
	/* management message type and unknown control type */
	memcpy(b, ocrp, sizeof ocrp);
	b[3] = 2;
	ck_assert_int_eq(pptp_decode(b, sizeof ocrp, &m, &e), -1);
	ck_assert_uint_eq(e.off, 2);
	memcpy(b, ccrq, sizeof ccrq);
	b[9] = 16;
	ck_assert_int_eq(pptp_decode(b, sizeof ccrq, &m, &e), -1);
	ck_assert_uint_eq(e.off, 8);
	/* longer than the layout: decoded, extra bytes counted; a following message ignored */
	memcpy(b, ccrq, sizeof ccrq);
	b[1] = 20;
	memset(b + 16, 0, 4);
	memcpy(b + 20, sli, sizeof sli);
	ck_assert_int_eq(pptp_decode(b, 20 + sizeof sli, &m, &e), 0);
	ck_assert_uint_eq(m.extra, 4);
	ck_assert_uint_eq(m.call_id, 25187);
}
END_TEST

START_TEST(stream_framing)
{
	struct diag_err e;
	uint8_t b[64];
	ck_assert_int_eq(pptp_frame_len(sccrq, 0, &e), 0);
	ck_assert_int_eq(pptp_frame_len(sccrq, 7, &e), 0);
	ck_assert_int_eq(pptp_frame_len(sccrq, 8, &e), 156);      /* wait for more */
	ck_assert_int_eq(pptp_frame_len(sccrq, sizeof sccrq, &e), 156);
	ck_assert_int_eq(pptp_frame_len(ccrq, sizeof ccrq, NULL), 16);
	memcpy(b, ccrq, sizeof ccrq);
	b[1] = 11;
	ck_assert_int_eq(pptp_frame_len(b, sizeof ccrq, &e), -1);
	ck_assert_str_eq(e.reason, "PPTP length field 11 < 12");
	b[0] = 0x04;
	b[1] = 0x01;
	ck_assert_int_eq(pptp_frame_len(b, sizeof ccrq, &e), -1);
	ck_assert_str_eq(e.reason, "PPTP length field 1025 > 1024");
	memcpy(b, ccrq, sizeof ccrq);
	b[4] = 0;
	ck_assert_int_eq(pptp_frame_len(b, sizeof ccrq, &e), -1);
	ck_assert_uint_eq(e.off, 4);
	/* two messages back to back: the framer walks them */
	uint8_t two[sizeof ocrp + sizeof ccrq];
	memcpy(two, ocrp, sizeof ocrp);
	memcpy(two + sizeof ocrp, ccrq, sizeof ccrq);
	long l1 = pptp_frame_len(two, sizeof two, &e);
	ck_assert_int_eq(l1, 32);
	ck_assert_int_eq(pptp_frame_len(two + l1, sizeof two - (size_t)l1, &e), 16);
}
END_TEST

START_TEST(roundtrip_vectors)
{
	struct pptp_msg m;
	struct diag_err e;
	uint8_t out[512];
	for (size_t v = 0; v < NVEC; v++) {
		ck_assert_int_eq(pptp_decode(vecs[v].p, vecs[v].len, &m, &e), 0);
		size_t n = pptp_encode(&m, out, sizeof out);
		ck_assert_uint_eq(n, vecs[v].len);
		ck_assert_msg(!memcmp(out, vecs[v].p, n), "%s differs", vecs[v].name);
		ck_assert_uint_eq(pptp_encode(&m, out, n - 1), 0);
	}
}
END_TEST

/* Every control message type: RFC 2637 section 2 message sizes, a few fields at their RFC
 * offsets, then decode gives the fields back. */
START_TEST(every_message_type)
{
	static const size_t rfc_len[16] = {0, 156, 156, 16, 16, 16, 20, 168, 32, 220, 24, 28, 16, 148, 40, 24};
	struct pptp_msg m, d;
	struct diag_err e;
	uint8_t out[512];
	char s[256];
	for (uint16_t t = 1; t <= 15; t++) {
		pptp_msg_init(&m, t);
		m.call_id = 0x1111;
		m.peer_call_id = 0x2222;
		m.result = 2;
		m.error = 4;
		m.cause = 0x0102;
		size_t n = pptp_encode(&m, out, sizeof out);
		ck_assert_msg(n == rfc_len[t], "type %u: %zu bytes, RFC says %zu", t, n, rfc_len[t]);
		ck_assert_uint_eq(out[0] << 8 | out[1], n);
		ck_assert_uint_eq(out[9], t);
		ck_assert_int_eq(pptp_decode(out, n, &d, &e), 0);
		ck_assert_uint_eq(d.ctrl_type, t);
		pptp_summary(&d, s, sizeof s);
		ck_assert_ptr_nonnull(strstr(s, pptp_ctrl_name(t)));
		json_t *j = pptp_to_json(&d);
		ck_assert_ptr_nonnull(j);
		json_decref(j);
	}
	ck_assert_uint_eq(pptp_encode(&m, out, sizeof out), 24);
	m.ctrl_type = 16;
	ck_assert_uint_eq(pptp_encode(&m, out, sizeof out), 0);

	/* CDN: Call ID at 12, Result 14, Error 15, Cause 16, Call Statistics at 20 */
	pptp_msg_init(&m, PPTP_CDN);
	m.call_id = 7;
	m.result = 3;
	m.error = 0;
	m.cause = 0x10;
	pptp_str_set(&m.call_stats, "rx 10 tx 12");
	size_t n = pptp_encode(&m, out, sizeof out);
	ck_assert_uint_eq(out[13], 7);
	ck_assert_uint_eq(out[14], 3);
	ck_assert_uint_eq(out[17], 0x10);
	ck_assert(!memcmp(out + 20, "rx 10 tx 12", 11));
	ck_assert_uint_eq(out[31], 0);
	ck_assert_int_eq(pptp_decode(out, n, &d, &e), 0);
	pptp_summary(&d, s, sizeof s);
	ck_assert_str_eq(s, "PPTP Call-Disconnect-Notify call 7 result=3 (Admin Shutdown) cause=16 stats=rx 10 tx 12");

	/* StopCCRQ: Reason at 12; StopCCRP: Result 12, Error 13 */
	pptp_msg_init(&m, PPTP_STOPCCRQ);
	m.reason = 3;
	n = pptp_encode(&m, out, sizeof out);
	ck_assert_uint_eq(out[12], 3);
	ck_assert_int_eq(pptp_decode(out, n, &d, &e), 0);
	pptp_summary(&d, s, sizeof s);
	ck_assert_str_eq(s, "PPTP Stop-Control-Connection-Request reason=3 (Stop-Local-Shutdown)");
	pptp_msg_init(&m, PPTP_STOPCCRP);
	m.result = 2;
	m.error = 1;
	n = pptp_encode(&m, out, sizeof out);
	ck_assert_uint_eq(out[12], 2);
	ck_assert_uint_eq(out[13], 1);
	ck_assert_int_eq(pptp_decode(out, n, &d, &e), 0);
	pptp_summary(&d, s, sizeof s);
	ck_assert_str_eq(s, "PPTP Stop-Control-Connection-Reply result=2 (General error) error=1 (Not-Connected)");

	/* Echo-Reply: Identifier 12..15, Result 16, Error 17 */
	pptp_msg_init(&m, PPTP_ECHO_RP);
	m.identifier = 0xdeadbeef;
	m.result = 1;
	n = pptp_encode(&m, out, sizeof out);
	ck_assert_uint_eq(out[12], 0xde);
	ck_assert_uint_eq(out[15], 0xef);
	ck_assert_uint_eq(out[16], 1);
	ck_assert_int_eq(pptp_decode(out, n, &d, &e), 0);
	ck_assert_uint_eq(d.identifier, 0xdeadbeef);

	/* OCRP "Do Not Accept" with No-Resource: what a server out of ports sends */
	pptp_msg_init(&m, PPTP_OCRP);
	m.call_id = 9;
	m.peer_call_id = 16384;
	m.result = 7;
	m.error = 4;
	n = pptp_encode(&m, out, sizeof out);
	ck_assert_uint_eq(out[16], 7);
	ck_assert_uint_eq(out[17], 4);
	ck_assert_int_eq(pptp_decode(out, n, &d, &e), 0);
	pptp_summary(&d, s, sizeof s);
	ck_assert_str_eq(s, "PPTP Outgoing-Call-Reply call 9 peer 16384 result=7 (Do Not Accept) error=4 (No-Resource)");

	/* WEN: six counters from offset 16 */
	pptp_msg_init(&m, PPTP_WEN);
	m.peer_call_id = 3;
	m.crc_errors = 1;
	m.align_errors = 6;
	n = pptp_encode(&m, out, sizeof out);
	ck_assert_uint_eq(out[19], 1);
	ck_assert_uint_eq(out[39], 6);
	ck_assert_int_eq(pptp_decode(out, n, &d, &e), 0);
	ck_assert_uint_eq(d.align_errors, 6);

	/* ICRQ: dialed number at 28, dialing number at 92, subaddress at 156 */
	pptp_msg_init(&m, PPTP_ICRQ);
	pptp_str_set(&m.dialed, "5551000");
	pptp_str_set(&m.dialing, "5552000");
	m.dialed_len = 7;
	m.dialing_len = 7;
	n = pptp_encode(&m, out, sizeof out);
	ck_assert(!memcmp(out + 28, "5551000", 7));
	ck_assert(!memcmp(out + 92, "5552000", 7));
	ck_assert_int_eq(pptp_decode(out, n, &d, &e), 0);
	ck_assert(str_is(&d.dialing, "5552000"));
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(pptp_ctrl_name(PPTP_WEN), "WAN-Error-Notify");
	ck_assert_ptr_null(pptp_ctrl_name(0));
	ck_assert_ptr_null(pptp_ctrl_name(16));
	ck_assert_str_eq(pptp_result_name(PPTP_SCCRP, 5), "The protocol version of the requester is not supported");
	ck_assert_str_eq(pptp_result_name(PPTP_ICRP, 3), "Do Not Accept");
	ck_assert_str_eq(pptp_result_name(PPTP_CDN, 4), "Request");
	ck_assert_str_eq(pptp_result_name(PPTP_ECHO_RP, 1), "OK");
	ck_assert_ptr_null(pptp_result_name(PPTP_OCRQ, 1));
	ck_assert_str_eq(pptp_error_name(5), "Bad-Call ID");
	ck_assert_str_eq(tok_name(pptp_ctrl_short, PPTP_STOPCCRP), "StopCCRP");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pptp");
	TCase *tc = tcase_create("codec");
	tcase_add_test(tc, control_connection_matches_tshark);
	tcase_add_test(tc, call_messages_match_tshark);
	tcase_add_test(tc, windows_nt_client_matches_tcpdump);
	tcase_add_test(tc, truncation_and_bad_headers);
	tcase_add_test(tc, stream_framing);
	tcase_add_test(tc, roundtrip_vectors);
	tcase_add_test(tc, every_message_type);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
