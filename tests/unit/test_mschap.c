/* CHAP-MD5, MS-CHAPv1, MS-CHAPv2 and MPPE key derivation against published vectors:
 * RFC 2759 section 9.2, RFC 2433 appendix B.2, RFC 3079 section 3.5, and CHAP-MD5 from
 * the lab capture l2tp-xl2tpd-ppp.pcap (frames 14-15; the scripted peer's secret is
 * "labpass", checked below against the response it sent). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mschap.h"
#include "net.h"

static void unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		ck_assert_int_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void ck_hex(const uint8_t *got, size_t n, const char *want)
{
	uint8_t w[64];
	ck_assert_uint_eq(strlen(want), 2 * n);
	unhex(want, w, n);
	ck_assert_mem_eq(got, w, n);
}

/* RFC 2759 section 9.2 */
static const char *user = "User";
static const char *pass = "clientPass";
static uint8_t auth_ch[16], peer_ch[16];

static void setup_2759(void)
{
	unhex("5B5D7C7D7B3F2F3E3C2C602132262628", auth_ch, 16);
	unhex("21402324255E262A28295F2B3A337C7E", peer_ch, 16);
}

START_TEST(crypto_available)
{
	ck_assert_int_eq(mschap_crypto_ready(), 0);
}
END_TEST

START_TEST(rfc2759_vectors)
{
	uint8_t ch[8], h[16], hh[16], nt[24];
	setup_2759();
	mschap2_challenge_hash(peer_ch, auth_ch, user, 4, ch);
	ck_hex(ch, 8, "D02E4386BCE91226");
	ck_assert_int_eq(mschap_nt_password_hash(pass, strlen(pass), h), 0);
	ck_hex(h, 16, "44EBBA8D5312B8D611474411F56989AE");
	ck_assert_int_eq(mschap_challenge_response(ch, h, nt), 0);
	ck_hex(nt, 24, "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF");
	memset(nt, 0, sizeof nt);
	ck_assert_int_eq(mschap2_nt_response(auth_ch, peer_ch, user, 4, pass, strlen(pass), nt), 0);
	ck_hex(nt, 24, "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF");
	ck_assert_int_eq(mschap_hash_nt_password_hash(h, hh), 0);
	ck_hex(hh, 16, "41C00C584BD2D91C4017A2A12FA59F3F");

	char s[43];
	ck_assert_int_eq(mschap2_authenticator_response(pass, strlen(pass), nt, peer_ch, auth_ch,
	                                                user, 4, s), 0);
	ck_assert_str_eq(s, "S=407A5589115FD0D6209F510FE9C04566932CDA56");
	ck_assert_int_eq(mschap2_authenticator_response_hash(h, nt, peer_ch, auth_ch, user, 4, s), 0);
	ck_assert_str_eq(s, "S=407A5589115FD0D6209F510FE9C04566932CDA56");
}
END_TEST

START_TEST(rfc2759_check_response)
{
	uint8_t nt[24];
	setup_2759();
	unhex("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF", nt, 24);
	const char *good = "S=407A5589115FD0D6209F510FE9C04566932CDA56 M=welcome";
	const char *lower = "S=407a5589115fd0d6209f510fe9c04566932cda56";
	const char *bad = "S=407A5589115FD0D6209F510FE9C04566932CDA57";
	ck_assert_int_eq(mschap2_check_authenticator_response(pass, strlen(pass), nt, peer_ch,
	                 auth_ch, user, 4, good, strlen(good)), 1);
	ck_assert_int_eq(mschap2_check_authenticator_response(pass, strlen(pass), nt, peer_ch,
	                 auth_ch, user, 4, lower, strlen(lower)), 1);
	ck_assert_int_eq(mschap2_check_authenticator_response(pass, strlen(pass), nt, peer_ch,
	                 auth_ch, user, 4, bad, strlen(bad)), 0);
	/* wrong password */
	ck_assert_int_eq(mschap2_check_authenticator_response("clientPasS", 10, nt, peer_ch,
	                 auth_ch, user, 4, good, strlen(good)), 0);
	/* malformed: short, not hex, no S= */
	ck_assert_int_eq(mschap2_check_authenticator_response(pass, strlen(pass), nt, peer_ch,
	                 auth_ch, user, 4, good, 41), -1);
	ck_assert_int_eq(mschap2_check_authenticator_response(pass, strlen(pass), nt, peer_ch,
	                 auth_ch, user, 4, "S=407A5589115FD0D6209F510FE9C04566932CDAZZ", 42), -1);
	ck_assert_int_eq(mschap2_check_authenticator_response(pass, strlen(pass), nt, peer_ch,
	                 auth_ch, user, 4, "E=691 R=0 C=00000000000000000000000000000000", 44),
	                 -1);
}
END_TEST

START_TEST(rfc2433_vectors)
{
	uint8_t ch[8], h[16], nt[24];
	ck_assert_int_eq(mschap_nt_password_hash("MyPw", 4, h), 0);
	ck_hex(h, 16, "FC156AF7EDCD6C0EDDE3337D427F4EAC");
	unhex("102DB5DF085D3041", ch, 8);
	ck_assert_int_eq(mschap1_nt_response(ch, "MyPw", 4, nt), 0);
	ck_hex(nt, 24, "4E9D3C8F9CFD385D5BF4D3246791956CA4C351AB409A3D61");
	/* the LAN Manager side of the same appendix */
	ck_assert_int_eq(mschap_lm_password_hash("MyPw", 4, h), 0);
	ck_hex(h, 16, "75BA30198E6D1975AAD3B435B51404EE");
	ck_assert_int_eq(mschap_lm_password_hash("mypw", 4, nt), 0); /* case-insensitive */
	ck_assert_mem_eq(nt, h, 16);
	ck_assert_int_eq(mschap1_lm_response(ch, "MyPw", 4, nt), 0);
	ck_hex(nt, 24, "91881D0152AB0C33C524135EC24A95EE64E23CDC2D33347D");
	ck_assert_int_eq(mschap_lm_password_hash("fifteen-chars!!", 15, h), -1);
}
END_TEST

START_TEST(rfc3079_mppe)
{
	uint8_t hh[16], nt[24], mk[16], k[16], send[16], recv[16], sk[16];
	unhex("41C00C584BD2D91C4017A2A12FA59F3F", hh, 16);
	unhex("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF", nt, 24);
	ck_assert_int_eq(mppe_master_key(hh, nt, mk), 0);
	ck_hex(mk, 16, "FDECE3717A8C838CB388E527AE3CDD31");
	/* the RFC computes the server's send key */
	ck_assert_int_eq(mppe_asymmetric_start_key(mk, k, 16, true, true), 0);
	ck_hex(k, 16, "8B7CDC149B993A1BA118CB153F56DCCB");
	ck_assert_int_eq(mppe_asymmetric_start_key(mk, k, 8, true, true), 0);
	ck_hex(k, 8, "8B7CDC149B993A1B");
	/* the client's receive key is the server's send key, and vice versa */
	ck_assert_int_eq(mppe_chapv2_keys(pass, strlen(pass), nt, 16, false, send, recv), 0);
	ck_hex(recv, 16, "8B7CDC149B993A1BA118CB153F56DCCB");
	uint8_t ssend[16], srecv[16];
	ck_assert_int_eq(mppe_chapv2_keys(pass, strlen(pass), nt, 16, true, ssend, srecv), 0);
	ck_assert_mem_eq(ssend, recv, 16);
	ck_assert_mem_eq(srecv, send, 16);
	ck_assert(memcmp(send, recv, 16) != 0);

	/* initial session keys, RFC 3079 sections 3.5.1-3.5.3 */
	unhex("8B7CDC149B993A1B", k, 8);
	ck_assert_int_eq(mppe_initial_session_key(k, 40, sk), 0);
	ck_hex(sk, 8, "D1269EC49FA62E3E");
	ck_assert_int_eq(mppe_initial_session_key(k, 56, sk), 0);
	ck_hex(sk, 8, "D15C00C49FA62E3E");
	unhex("8B7CDC149B993A1BA118CB153F56DCCB", k, 16);
	ck_assert_int_eq(mppe_initial_session_key(k, 128, sk), 0);
	ck_hex(sk, 16, "405CB2247A7956E6E211007AE27B22D4");
	ck_assert_int_eq(mppe_initial_session_key(k, 64, sk), -1);
	ck_assert_int_eq(mppe_asymmetric_start_key(mk, k, 12, true, true), -1);
}
END_TEST

START_TEST(chap_md5_lab)
{
	/* l2tp-xl2tpd-ppp.pcap frame 14: CHAP Challenge id 1, value f6031890...; frame 15:
	 * Response id 1, value 815ff127...; RFC 1994: MD5(id || secret || challenge). */
	uint8_t ch[16], out[16];
	unhex("f6031890c35edb05086bba84cbe47882", ch, 16);
	chap_md5_response(1, (const uint8_t *)"labpass", 7, ch, 16, out);
	ck_hex(out, 16, "815ff12796d95699bcab2dd10ecca820");
	chap_md5_response(2, (const uint8_t *)"labpass", 7, ch, 16, out);
	uint8_t w[16];
	unhex("815ff12796d95699bcab2dd10ecca820", w, 16);
	ck_assert(memcmp(out, w, 16) != 0);
}
END_TEST

START_TEST(lulu_capture_response)
{
	/* johnsamples__lulu-password-pptp.pcap (openwall john-samples, a real pptpd session):
	 * frame 28 Challenge id 136 value 95a87fa6..., frame 35 Response from "lulu" with peer
	 * challenge e2ae0995... and NT response ed8cc90f..., frame 36 Success
	 * "S=460874E1... M=Access granted". The sample's password is "password" (the NT
	 * response below only matches with it). */
	uint8_t ach[16], pch[16], nt[24], mine[24];
	unhex("95a87fa62ebcd2e3c8b09e1b448a6c72", ach, 16);
	unhex("e2ae0995eaac6ceff0d9757428b51509", pch, 16);
	unhex("ed8cc90fd40faa2d6bcd0abd0b1f562fd777df6c5609c98b", nt, 24);
	ck_assert_int_eq(mschap2_nt_response(ach, pch, "lulu", 4, "password", 8, mine), 0);
	ck_assert_mem_eq(mine, nt, 24);
	ck_assert_int_eq(mschap2_nt_response(ach, pch, "lulu", 4, "Password", 8, mine), 0);
	ck_assert(memcmp(mine, nt, 24) != 0);
	char s2[43];
	ck_assert_int_eq(mschap2_authenticator_response("password", 8, nt, pch, ach, "lulu", 4,
	                                                s2), 0);
	ck_assert_str_eq(s2, "S=460874E1CADF35FBD9F6E80C01A1ADC5746F0B6A");
	const char *s = "S=460874E1CADF35FBD9F6E80C01A1ADC5746F0B6A M=Access granted";
	ck_assert_int_eq(mschap2_check_authenticator_response("password", 8, nt, pch, ach,
	                                                      "lulu", 4, s, strlen(s)), 1);
	ck_assert_int_eq(mschap2_check_authenticator_response("wrong", 5, nt, pch, ach, "lulu", 4,
	                                                      s, strlen(s)), 0);
}
END_TEST

START_TEST(lulu_mppe_decrypt)
{
	/* johnsamples__lulu-password-pptp.pcap frame 60, the client's first MPPE packet
	 * (CCP in frames 40-44 agreed on 0x01000040: stateless, 128-bit). Its header 0x9000
	 * says flushed, encrypted, coherency count 0; the first 35 encrypted bytes follow.
	 * From the MS-CHAPv2 exchange of frames 28/35 (password "password") the client's send
	 * key, changed once before the first stateless packet, must give PPP protocol 0x0021
	 * and an IPv4 header with a valid checksum from 192.168.2.234 (the address the server
	 * Naked in frame 51) to 224.0.0.22 (IGMP, as tshark shows for frames 58/59). */
	uint8_t nt[24], send[16], recv[16], key[16], buf[35];
	unhex("ed8cc90fd40faa2d6bcd0abd0b1f562fd777df6c5609c98b", nt, 24);
	unhex("e79c9730a73cebec643fe09dea0a49396bf88c208aced654b3c65c23b1d838a5b98a61", buf, 35);
	ck_assert_int_eq(mppe_chapv2_keys("password", 8, nt, 16, false, send, recv), 0);
	ck_assert_int_eq(mppe_initial_session_key(send, 128, key), 0);
	ck_assert_int_eq(mppe_change_key(send, key, 128), 0);
	ck_assert_int_eq(mppe_rc4(key, 16, buf, sizeof buf), 0);
	ck_assert_uint_eq(buf[0], 0x00);
	ck_assert_uint_eq(buf[1], 0x21);
	const uint8_t *ip = buf + 2;
	ck_assert_uint_eq(ip[0] >> 4, 4);
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	ck_assert_uint_le(ihl + 2, sizeof buf);
	ck_assert_uint_eq(inet_cksum(ip, ihl, 0), 0);
	ck_assert_uint_eq(ip[9], 2); /* IGMP */
	const uint8_t src[4] = { 192, 168, 2, 234 }, dst[4] = { 224, 0, 0, 22 };
	ck_assert_mem_eq(ip + 12, src, 4);
	ck_assert_mem_eq(ip + 16, dst, 4);
	/* the server's send key does not decrypt it */
	unhex("e79c9730a73cebec643fe09dea0a49396bf88c208aced654b3c65c23b1d838a5b98a61", buf, 35);
	ck_assert_int_eq(mppe_initial_session_key(recv, 128, key), 0);
	ck_assert_int_eq(mppe_change_key(recv, key, 128), 0);
	ck_assert_int_eq(mppe_rc4(key, 16, buf, sizeof buf), 0);
	ck_assert(buf[0] != 0x00 || buf[1] != 0x21);
	ck_assert_int_eq(mppe_change_key(recv, key, 64), -1);
	/* an 8-byte key: the classic RC4 vector key 0123456789abcdef on the same bytes */
	uint8_t k8[8], d8[8];
	unhex("0123456789abcdef", k8, 8);
	unhex("0123456789abcdef", d8, 8);
	ck_assert_int_eq(mppe_rc4(k8, 8, d8, 8), 0);
	ck_hex(d8, 8, "75b7878099e0c596");
	ck_assert_int_eq(mppe_rc4(k8, 7, d8, 8), -1);
}
END_TEST

START_TEST(password_encoding)
{
	uint8_t h1[16], h2[16];
	/* UTF-8 "é" (U+00E9) hashes as the UTF-16LE e9 00 */
	ck_assert_int_eq(mschap_nt_password_hash("\xc3\xa9", 2, h1), 0);
	ck_assert_int_eq(mschap_nt_password_hash("\xe9", 1, h2), -1); /* not UTF-8 */
	ck_assert_int_eq(mschap_nt_password_hash("\xc3", 1, h2), -1);  /* truncated */
	ck_assert_int_eq(mschap_nt_password_hash("\xc0\xaf", 2, h2), -1); /* overlong */
	ck_assert_int_eq(mschap_nt_password_hash("\xed\xa0\x80", 3, h2), -1); /* surrogate */
	/* 256 characters is the limit */
	char *p = malloc(258);
	memset(p, 'a', 258);
	ck_assert_int_eq(mschap_nt_password_hash(p, 256, h2), 0);
	ck_assert_int_eq(mschap_nt_password_hash(p, 257, h2), -1);
	free(p);
	/* a supplementary character takes two UTF-16 units (U+1F600) */
	ck_assert_int_eq(mschap_nt_password_hash("\xf0\x9f\x98\x80", 4, h2), 0);
	ck_assert(memcmp(h1, h2, 16) != 0);
	/* empty password is allowed: MD4("") */
	ck_assert_int_eq(mschap_nt_password_hash("", 0, h2), 0);
	ck_hex(h2, 16, "31D6CFE0D16AE931B73C59D7E0C089C0");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mschap");
	TCase *tc = tcase_create("vectors");
	tcase_add_test(tc, crypto_available);
	tcase_add_test(tc, rfc2759_vectors);
	tcase_add_test(tc, rfc2759_check_response);
	tcase_add_test(tc, rfc2433_vectors);
	tcase_add_test(tc, rfc3079_mppe);
	tcase_add_test(tc, chap_md5_lab);
	tcase_add_test(tc, lulu_capture_response);
	tcase_add_test(tc, lulu_mppe_decrypt);
	tcase_add_test(tc, password_encoding);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
