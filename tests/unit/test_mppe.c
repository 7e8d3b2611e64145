/* MPPE data path (engine/ppp/mppe.c): key derivation against RFC 3079 section 3.5, the
 * in-struct RC4 against OpenSSL's, real packets from a capture, and round trips through
 * a sender and a receiver in stateless and stateful mode with lost, late and garbled
 * packets; the MS-CHAPv2 master key taken from a negotiated PPP link, and the MPPE
 * states CCP sets up when it opens, with a Reset-Request going through CCP. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppp/mppe.h"
#include "net.h"
#include "mschap.h"
#include "ppp_link_harness.h"

static void unhex(const char *s, uint8_t *out, size_t n)
{
	ck_assert_uint_eq(strlen(s), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		ck_assert_int_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void ck_hex(const uint8_t *got, size_t n, const char *want)
{
	uint8_t w[64];
	unhex(want, w, n);
	ck_assert_mem_eq(got, w, n);
}

/* deterministic filler */
static uint64_t rng = 0x243f6a8885a308d3ull;
static uint8_t rnd8(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)(rng >> 29);
}

/* A packet: IPv4 protocol field then `n` bytes whose content depends on `seq`. */
static size_t make_packet(uint8_t *p, size_t n, unsigned seq)
{
	p[0] = 0x00;
	p[1] = 0x21;
	for (size_t i = 0; i < n; i++) p[2 + i] = (uint8_t)(seq * 7 + i * 13 + (i >> 8));
	return n + 2;
}

/* ---- key derivation --------------------------------------------------------------- */
/* RFC 3079 section 3.5 (the RFC 2759 exchange: User / clientPass). */
static const char *rfc_master = "FDECE3717A8C838CB388E527AE3CDD31";
static const char *rfc_start128 = "8B7CDC149B993A1BA118CB153F56DCCB";

START_TEST(rfc3079_start_keys)
{
	uint8_t mk[16], ssend[16], srecv[16], csend[16], crecv[16];
	unhex(rfc_master, mk, 16);
	/* the RFC computes the server's send key (= the client's receive key) */
	ck_assert_int_eq(mppe_start_keys(mk, 128, true, ssend, srecv), 0);
	ck_hex(ssend, 16, rfc_start128);
	ck_assert_int_eq(mppe_start_keys(mk, 128, false, csend, crecv), 0);
	ck_assert_mem_eq(crecv, ssend, 16);
	ck_assert_mem_eq(csend, srecv, 16);
	ck_assert(memcmp(ssend, srecv, 16) != 0);
	/* 40 and 56-bit take the first 8 bytes of the same digest */
	ck_assert_int_eq(mppe_start_keys(mk, 40, true, ssend, srecv), 0);
	ck_hex(ssend, 8, "8B7CDC149B993A1B");
	ck_assert_int_eq(mppe_start_keys(mk, 56, true, ssend, srecv), 0);
	ck_hex(ssend, 8, "8B7CDC149B993A1B");
	ck_assert_int_eq(mppe_start_keys(mk, 64, true, ssend, srecv), -1);
	ck_assert_int_eq(mppe_start_keys(mk, 0, true, ssend, srecv), -1);
}
END_TEST

/* RFC 3079 sections 3.5.1-3.5.3: the initial send session keys, and the sample message
 * "test message" encrypted with them (with the state mppe_init leaves, i.e. the RC4
 * tables of the initial session key). The 56-bit sample as printed in the RFC ends in
 * 0x58; RC4 under the RFC's own 56-bit key gives 0xB8 there (OpenSSL agrees, checked
 * below), so the last octet is taken from the computation. */
START_TEST(rfc3079_sample_message)
{
	static const struct {
		unsigned bits;
		const char *start, *session, *cipher;
	} v[] = {
		{40, "8B7CDC149B993A1B", "D1269EC49FA62E3E", "929137917E5803D668D75898"},
		{56, "8B7CDC149B993A1B", "D15C00C49FA62E3E", "3F106833FA448DA842BC57B8"},
		{128, "8B7CDC149B993A1BA118CB153F56DCCB", "405CB2247A7956E6E211007AE27B22D4",
		 "81848317DF68846272FB5ABE"},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct mppe_state st;
		uint8_t sk[16], msg[12], evp[12];
		size_t kl = v[i].bits == 128 ? 16 : 8;
		unhex(v[i].start, sk, kl);
		ck_assert_int_eq(mppe_init(&st, sk, v[i].bits, false), 0);
		ck_assert_uint_eq(st.keylen, kl);
		ck_hex(st.session_key, kl, v[i].session);
		memcpy(msg, "test message", 12);
		memcpy(evp, msg, 12);
		mppe_rc4_crypt(&st.rc4, msg, msg, 12);
		ck_hex(msg, 12, v[i].cipher);
		ck_assert_int_eq(mppe_rc4(st.session_key, kl, evp, 12), 0);
		ck_assert_mem_eq(evp, msg, 12);
	}
}
END_TEST

START_TEST(rc4_matches_openssl)
{
	/* the classic vector */
	struct mppe_rc4_state r;
	uint8_t k[16], d[1500], e[1500];
	unhex("0123456789abcdef", k, 8);
	unhex("0123456789abcdef", d, 8);
	mppe_rc4_setup(&r, k, 8);
	mppe_rc4_crypt(&r, d, d, 8);
	ck_hex(d, 8, "75b7878099e0c596");
	/* random keys of both lengths and data lengths, across several calls of one stream */
	for (int t = 0; t < 50; t++) {
		size_t kl = t & 1 ? 16 : 8, n = 1 + (size_t)t * 29;
		for (size_t i = 0; i < kl; i++) k[i] = rnd8();
		for (size_t i = 0; i < n; i++) d[i] = e[i] = rnd8();
		mppe_rc4_setup(&r, k, kl);
		size_t half = n / 3;
		mppe_rc4_crypt(&r, d, d, half);
		mppe_rc4_crypt(&r, d + half, d + half, n - half);
		ck_assert_int_eq(mppe_rc4(k, kl, e, n), 0);
		ck_assert_mem_eq(d, e, n);
	}
}
END_TEST

/* ---- real packets ------------------------------------------------------------------- */
/* johnsamples__lulu-password-pptp.pcap: pptpd and a client "lulu" (password "password")
 * agreed on 128-bit stateless MPPE (CCP frames 40-44). Frames 28/35 hold the
 * challenge and the NT response; these are the client's encrypted packets of frames
 * 60, 61, 67 and 71 (coherency counts 0, 1, 5 and 6; 2-4 are frames 62-64, left out
 * here as if lost), each the bytes after the 0x00FD protocol field. */
static const char *lulu_nt = "ed8cc90fd40faa2d6bcd0abd0b1f562fd777df6c5609c98b";
static const char *lulu_pkts[] = {
	"9000e79c9730a73cebec643fe09dea0a49396bf88c208aced654b3c65c23b1d838a5b98a61290219d481"
	"2e14",
	"9001b0ecefa28eaf976ecbed04a89dcc6154ab8784cfd58638ed94b94c96172e0cb051b13e8fe0dec5fc"
	"03d9c0fea3700ee414fa8bd75f9a829187b60c8de1564232367431dc1b911050a59bde19379a64140698"
	"c238dd990ba828906440a74b3fd7bee4",
	"9005cdbbc327bd0a85e08c603c6a36dd07119f3ee774d7941f2131c8f7730956a63c74ffb645c52d3e64"
	"9426",
	"9006ff2abeb7a67eefef411c179b6e4d375c9ff9484a4bd4167f43c40880ac84f5f82007d3d811915ef2"
	"18e54aa5b1d698a52645160823c9285b8244f9ba1c917b",
};

static size_t unhex_any(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s) / 2;
	ck_assert_uint_le(n, cap);
	unhex(s, out, n);
	return n;
}

/* The server's receive direction for the lulu session, from the password. */
static void lulu_server_rx(struct mppe_state *rx)
{
	uint8_t h[16], hh[16], nt[24], mk[16], send[16], recv[16];
	unhex(lulu_nt, nt, 24);
	ck_assert_int_eq(mschap_nt_password_hash("password", 8, h), 0);
	ck_assert_int_eq(mschap_hash_nt_password_hash(h, hh), 0);
	ck_assert_int_eq(mppe_master_key(hh, nt, mk), 0);
	ck_assert_int_eq(mppe_start_keys(mk, 128, true, send, recv), 0);
	ck_assert_int_eq(mppe_init(rx, recv, 128, true), 0);
}

/* An IPv4 datagram from 192.168.2.234 whose header checksum and total length hold. */
static void ck_ipv4(const uint8_t *p, size_t n)
{
	ck_assert_uint_ge(n, 22);
	ck_assert_uint_eq(p[0], 0x00);
	ck_assert_uint_eq(p[1], 0x21);
	const uint8_t *ip = p + 2;
	ck_assert_uint_eq(ip[0] >> 4, 4);
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	ck_assert_uint_ge(ihl, 20);
	ck_assert_uint_le(ihl, n - 2);
	ck_assert_uint_eq(inet_cksum(ip, ihl, 0), 0);
	ck_assert_uint_eq((size_t)(ip[2] << 8 | ip[3]), n - 2);
	const uint8_t src[4] = {192, 168, 2, 234};
	ck_assert_mem_eq(ip + 12, src, 4);
}

START_TEST(capture_stateless_with_loss)
{
	struct mppe_state rx;
	struct diag_err e;
	uint8_t in[200], out[200];
	lulu_server_rx(&rx);
	for (size_t i = 0; i < 4; i++) {
		size_t n = unhex_any(lulu_pkts[i], in, sizeof in);
		int r = mppe_decrypt(&rx, in, n, out, sizeof out, &e);
		ck_assert_msg(r > 0, "packet %zu: %d %s", i, r, e.reason);
		ck_assert_int_eq(r, (int)n - 2);
		ck_ipv4(out, (size_t)r);
	}
	ck_assert_uint_eq(rx.ccount, 6);
	ck_assert_uint_eq(rx.packets, 4);
	/* the same packet again, and one from before: dropped without touching the keys */
	uint8_t key[16];
	memcpy(key, rx.session_key, 16);
	size_t n = unhex_any(lulu_pkts[3], in, sizeof in);
	ck_assert_int_eq(mppe_decrypt(&rx, in, n, out, sizeof out, &e), MPPE_ERR_STALE);
	ck_assert_ptr_nonnull(strstr(e.reason, "repeats"));
	n = unhex_any(lulu_pkts[1], in, sizeof in);
	ck_assert_int_eq(mppe_decrypt(&rx, in, n, out, sizeof out, &e), MPPE_ERR_STALE);
	ck_assert_ptr_nonnull(strstr(e.reason, "behind"));
	ck_assert_mem_eq(key, rx.session_key, 16);
	ck_assert_uint_eq(rx.drops, 2);

	/* the server's send key does not decrypt the client's packets */
	uint8_t h[16], hh[16], nt[24], mk[16], send[16], recv[16];
	unhex(lulu_nt, nt, 24);
	ck_assert_int_eq(mschap_nt_password_hash("password", 8, h), 0);
	ck_assert_int_eq(mschap_hash_nt_password_hash(h, hh), 0);
	ck_assert_int_eq(mppe_master_key(hh, nt, mk), 0);
	ck_assert_int_eq(mppe_start_keys(mk, 128, true, send, recv), 0);
	struct mppe_state wrong;
	ck_assert_int_eq(mppe_init(&wrong, send, 128, true), 0);
	n = unhex_any(lulu_pkts[0], in, sizeof in);
	int r = mppe_decrypt(&wrong, in, n, out, sizeof out, &e);
	ck_assert(r < 0 || out[0] != 0x00 || out[1] != 0x21);
	/* nor a wrong password */
	ck_assert_int_eq(mschap_nt_password_hash("Password", 8, h), 0);
	ck_assert_int_eq(mschap_hash_nt_password_hash(h, hh), 0);
	ck_assert_int_eq(mppe_master_key(hh, nt, mk), 0);
	ck_assert_int_eq(mppe_start_keys(mk, 128, true, send, recv), 0);
	ck_assert_int_eq(mppe_init(&wrong, recv, 128, true), 0);
	r = mppe_decrypt(&wrong, in, n, out, sizeof out, &e);
	ck_assert(r < 0 || out[0] != 0x00 || out[1] != 0x21);
}
END_TEST

/* ---- round trips -------------------------------------------------------------------- */
static struct mppe_state tx, rx;
static uint8_t pkt[2000], wire[2100], back[2100];

static void pair(unsigned bits, bool stateless)
{
	uint8_t k[16];
	for (int i = 0; i < 16; i++) k[i] = (uint8_t)(0x10 + i * 3);
	ck_assert_int_eq(mppe_init(&tx, k, bits, stateless), 0);
	ck_assert_int_eq(mppe_init(&rx, k, bits, stateless), 0);
}

/* Encrypt packet `seq` into wire; returns the wire length. */
static size_t send_one(unsigned seq)
{
	size_t n = make_packet(pkt, 1 + (seq * 37) % 1400, seq);
	int w = mppe_encrypt(&tx, pkt, n, wire, sizeof wire);
	ck_assert_int_eq(w, (int)n + 2);
	ck_assert(wire[0] & MPPE_HDR_ENCRYPTED);
	return (size_t)w;
}

/* Decrypt what send_one produced and compare with the original. */
static int recv_one(size_t w, struct diag_err *e)
{
	int r = mppe_decrypt(&rx, wire, w, back, sizeof back, e);
	if (r > 0) {
		ck_assert_int_eq(r, (int)w - 2);
		ck_assert_mem_eq(back, pkt, (size_t)r);
	}
	return r;
}

static unsigned ccount_of(void) { return (unsigned)((wire[0] & 0x0f) << 8 | wire[1]); }

START_TEST(stateless_round_trip_and_loss)
{
	static const unsigned bits[] = {40, 56, 128};
	struct diag_err e;
	for (size_t b = 0; b < 3; b++) {
		pair(bits[b], true);
		for (unsigned seq = 0; seq < 600; seq++) {
			size_t w = send_one(seq);
			ck_assert_uint_eq(ccount_of(), seq % MPPE_CCOUNT_SPACE);
			ck_assert(wire[0] & MPPE_HDR_FLUSHED); /* every stateless packet */
			if (seq % 7 == 3 || (seq >= 300 && seq < 340)) continue; /* lost */
			ck_assert_int_eq(recv_one(w, &e), (int)w - 2);
		}
		ck_assert_uint_eq(rx.drops, 0);
		/* 40/56-bit session keys keep their fixed prefix through the changes */
		if (bits[b] == 40) ck_hex(tx.session_key, 3, "D1269E");
		if (bits[b] == 56) ck_hex(tx.session_key, 1, "D1");
		ck_assert_mem_eq(tx.session_key, rx.session_key, tx.keylen);
	}
}
END_TEST

START_TEST(stateless_late_and_far)
{
	struct diag_err e;
	size_t w[6];
	uint8_t saved[6][64];
	pair(128, true);
	for (unsigned i = 0; i < 6; i++) {
		pkt[0] = 0;
		pkt[1] = 0x21;
		memset(pkt + 2, (int)i, 20);
		w[i] = (size_t)mppe_encrypt(&tx, pkt, 22, saved[i], sizeof saved[i]);
		ck_assert_uint_eq(w[i], 24);
	}
	int order[] = {0, 1, 3, 2, 4, 5};
	int want[] = {22, 22, 22, MPPE_ERR_STALE, 22, 22};
	for (int k = 0; k < 6; k++) {
		int i = order[k];
		int r = mppe_decrypt(&rx, saved[i], w[i], back, sizeof back, &e);
		ck_assert_int_eq(r, want[k]);
		if (r > 0) ck_assert_uint_eq(back[2], (unsigned)i);
	}
	/* half the count space ahead is the farthest a receiver follows: 2048 changes */
	pair(128, true);
	size_t n = make_packet(pkt, 30, 1);
	for (unsigned i = 0; i < 2048; i++) ck_assert_int_gt(mppe_encrypt(&tx, pkt, n, wire, sizeof wire), 0);
	ck_assert_uint_eq(ccount_of(), 2047);
	ck_assert_int_eq(recv_one(n + 2, &e), (int)n); /* 0xfff -> 0x7ff: 2048 steps */
	pair(128, true);
	for (unsigned i = 0; i < 2049; i++) ck_assert_int_gt(mppe_encrypt(&tx, pkt, n, wire, sizeof wire), 0);
	ck_assert_int_eq(recv_one(n + 2, &e), MPPE_ERR_STALE);
	/* and the count wraps: 4100 packets, every one delivered */
	pair(40, true);
	for (unsigned seq = 0; seq < 4100; seq++) {
		size_t ww = send_one(seq);
		ck_assert_uint_eq(ccount_of(), seq % MPPE_CCOUNT_SPACE);
		ck_assert_int_eq(recv_one(ww, &e), (int)ww - 2);
	}
}
END_TEST

START_TEST(stateful_round_trip_key_change)
{
	struct diag_err e;
	static const unsigned bits[] = {40, 56, 128};
	for (size_t b = 0; b < 3; b++) {
		pair(bits[b], false);
		uint8_t key0[16];
		memcpy(key0, tx.session_key, 16);
		for (unsigned seq = 0; seq < 700; seq++) {
			size_t w = send_one(seq);
			unsigned cc = ccount_of();
			ck_assert_uint_eq(cc, seq);
			/* flushed exactly on the flag packets, where the key changes */
			bool flag = (cc & 0xff) == 0xff;
			ck_assert_int_eq(!!(wire[0] & MPPE_HDR_FLUSHED), flag);
			if (seq < 255) ck_assert_mem_eq(tx.session_key, key0, 16);
			if (seq == 255) ck_assert(memcmp(tx.session_key, key0, 16) != 0);
			ck_assert_int_eq(recv_one(w, &e), (int)w - 2);
		}
		ck_assert_uint_eq(rx.drops, 0);
		ck_assert_uint_eq(rx.packets, 700);
		ck_assert_mem_eq(tx.session_key, rx.session_key, tx.keylen);
	}
}
END_TEST

START_TEST(stateful_loss_reset_recover)
{
	struct diag_err e;
	pair(128, false);
	unsigned seq = 0;
	for (; seq < 10; seq++) ck_assert_int_gt(recv_one(send_one(seq), &e), 0);
	(void)send_one(seq++); /* lost */
	ck_assert_int_eq(recv_one(send_one(seq++), &e), MPPE_ERR_RESET);
	ck_assert_ptr_nonnull(strstr(e.reason, "expected 0x00a"));
	ck_assert(mppe_out_of_sync(&rx));
	/* until the sender hears the Reset-Request, packets are discarded, quietly */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(recv_one(send_one(seq++), &e), MPPE_ERR_DISCARD);
	/* Reset-Request (twice, as after a lost Reset-Ack): one key change, A on the next */
	mppe_reset_request(&tx);
	mppe_reset_request(&tx);
	size_t w = send_one(seq++);
	ck_assert(wire[0] & MPPE_HDR_FLUSHED);
	ck_assert_int_eq(recv_one(w, &e), (int)w - 2);
	ck_assert(!mppe_out_of_sync(&rx));
	w = send_one(seq++);
	ck_assert(!(wire[0] & MPPE_HDR_FLUSHED));
	ck_assert_int_eq(recv_one(w, &e), (int)w - 2);
	ck_assert_uint_eq(tx.resets, 1);
	ck_assert_uint_eq(rx.resets, 1);
	ck_assert_uint_eq(rx.drops, 4);

	/* loss across flag packets: 0x0f0..0x2ff lost (the key changes of 0x0ff, 0x1ff and 0x2ff missed), then the
	 * reset: the receiver catches up on both before the reset's own change */
	while (seq < 0x0f0) ck_assert_int_gt(recv_one(send_one(seq++), &e), 0);
	while (seq < 0x300) (void)send_one(seq++);
	ck_assert_int_eq(recv_one(send_one(seq++), &e), MPPE_ERR_RESET);
	mppe_reset_request(&tx);
	ck_assert_int_gt(recv_one(send_one(seq++), &e), 0);
	for (int i = 0; i < 300; i++) ck_assert_int_gt(recv_one(send_one(seq++), &e), 0);

	/* the lost packet is the flag packet itself; the next flushed one is a flag packet */
	while ((seq & 0xff) != 0xff) ck_assert_int_gt(recv_one(send_one(seq++), &e), 0);
	(void)send_one(seq++);
	ck_assert_int_eq(recv_one(send_one(seq++), &e), MPPE_ERR_RESET);
	while ((seq & 0xff) != 0xff) ck_assert_int_eq(recv_one(send_one(seq++), &e), MPPE_ERR_DISCARD);
	ck_assert_int_gt(recv_one(send_one(seq++), &e), 0); /* resynchronised by the flag */
	ck_assert_int_gt(recv_one(send_one(seq++), &e), 0);

	/* a loss right before a flushed packet (the Reset-Request came for another reason):
	 * resynchronised at once, no reset needed */
	(void)send_one(seq++);
	mppe_reset_request(&tx);
	ck_assert_int_gt(recv_one(send_one(seq++), &e), 0);
	ck_assert(!mppe_out_of_sync(&rx));
	ck_assert_int_gt(recv_one(send_one(seq++), &e), 0);

	/* a late or repeated packet is dropped and the stream goes on */
	size_t w1 = send_one(seq++);
	uint8_t late[2100];
	memcpy(late, wire, w1);
	ck_assert_int_gt(recv_one(w1, &e), 0);
	ck_assert_int_eq(mppe_decrypt(&rx, late, w1, back, sizeof back, &e), MPPE_ERR_STALE);
	ck_assert_ptr_nonnull(strstr(e.reason, "repeats"));
	ck_assert(!mppe_out_of_sync(&rx));
	ck_assert_int_gt(recv_one(send_one(seq++), &e), 0);
	ck_assert_int_eq(mppe_decrypt(&rx, late, w1, back, sizeof back, &e), MPPE_ERR_STALE);
	ck_assert_ptr_nonnull(strstr(e.reason, "behind"));
	ck_assert_int_gt(recv_one(send_one(seq++), &e), 0);

	/* a Reset-Request in stateless mode changes nothing: every packet is flushed */
	pair(128, true);
	mppe_reset_request(&tx);
	ck_assert(!tx.flush);
}
END_TEST

START_TEST(garbage_is_refused)
{
	struct diag_err e;
	uint8_t in[64], out[64];
	struct mppe_state none;
	memset(&none, 0, sizeof none);
	memset(in, 0x90, sizeof in);
	ck_assert_int_eq(mppe_decrypt(&none, in, 10, out, sizeof out, &e), MPPE_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.reason, "no keys"));
	ck_assert_int_eq(mppe_encrypt(&none, (const uint8_t *)"\x00\x21x", 3, out, sizeof out),
	                 MPPE_ERR_INVALID);
	uint8_t k[16] = {1, 2, 3};
	ck_assert_int_eq(mppe_init(&none, k, 64, true), -1);
	ck_assert_int_eq(mppe_init(&none, k, 0, false), -1);

	pair(128, true);
	/* truncated */
	for (size_t n = 0; n < 3; n++) {
		ck_assert_int_eq(mppe_decrypt(&rx, in, n, out, sizeof out, &e), MPPE_ERR_INVALID);
		ck_assert_ptr_nonnull(strstr(e.reason, "packet of"));
	}
	/* no room */
	ck_assert_int_eq(mppe_decrypt(&rx, in, 40, out, 38, &e), MPPE_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.reason, "room"));
	/* D clear */
	in[0] = 0x80;
	in[1] = 0x01;
	ck_assert_int_eq(mppe_decrypt(&rx, in, 20, out, sizeof out, &e), MPPE_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.reason, "not encrypted"));
	/* C set */
	in[0] = 0xb0;
	ck_assert_int_eq(mppe_decrypt(&rx, in, 20, out, sizeof out, &e), MPPE_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.reason, "MPPC"));
	/* stateless without A */
	in[0] = 0x10;
	ck_assert_int_eq(mppe_decrypt(&rx, in, 20, out, sizeof out, &e), MPPE_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.reason, "flushed"));
	ck_assert_uint_eq(rx.ccount, 0xfff); /* nothing above moved the state */
	ck_assert_uint_eq(rx.drops, 7);

	/* encrypt refuses what is not a protocol field plus payload, or no room */
	ck_assert_int_eq(mppe_encrypt(&tx, (const uint8_t *)"\x00", 1, out, sizeof out), MPPE_ERR_INVALID);
	ck_assert_int_eq(mppe_encrypt(&tx, (const uint8_t *)"\x00\x20x", 3, out, sizeof out),
	                 MPPE_ERR_INVALID); /* even low byte */
	ck_assert_int_eq(mppe_encrypt(&tx, (const uint8_t *)"\x01\x21x", 3, out, sizeof out),
	                 MPPE_ERR_INVALID); /* odd high byte */
	ck_assert_int_eq(mppe_encrypt(&tx, (const uint8_t *)"\x00\x21x", 3, out, 4), MPPE_ERR_INVALID);
	ck_assert_uint_eq(tx.ccount, 0xfff);
	ck_assert_int_eq(mppe_encrypt(&tx, (const uint8_t *)"\x00\x21x", 3, out, 5), 5);

	/* bytes that decrypt to no valid protocol field (searched for with a throw-away copy
	 * of the state, as that depends on the key stream): stateless mode drops the packet,
	 * stateful mode asks for a reset */
	for (int stateless = 1; stateless >= 0; stateless--) {
		int found = 0;
		for (unsigned t = 0; t < 200 && !found; t++) {
			pair(128, stateless);
			struct mppe_state probe = rx;
			in[0] = stateless ? 0x90 : 0x10;
			in[1] = 0x00;
			for (size_t i = 2; i < 12; i++) in[i] = rnd8();
			int want = stateless ? MPPE_ERR_INVALID : MPPE_ERR_RESET;
			if (mppe_decrypt(&probe, in, 12, out, sizeof out, &e) != want) continue;
			ck_assert_ptr_nonnull(strstr(e.reason, "no valid PPP protocol"));
			ck_assert_int_eq(mppe_decrypt(&rx, in, 12, out, sizeof out, &e), want);
			ck_assert_int_eq(mppe_out_of_sync(&rx), !stateless);
			found = 1;
		}
		ck_assert(found);
	}

	/* a 1-byte body inside is a compressed protocol field, expanded to two bytes */
	pair(128, true);
	int w = mppe_encrypt(&tx, (const uint8_t *)"\x00\x21", 2, wire, sizeof wire);
	ck_assert_int_eq(w, 4);
	/* keystream byte 0 is wire[2] ^ 0x00: make the body the compressed field 0x21 */
	wire[2] = (uint8_t)(wire[2] ^ 0x21);
	ck_assert_int_eq(mppe_decrypt(&rx, wire, 3, back, sizeof back, &e), 2);
	ck_assert_uint_eq(back[0], 0x00);
	ck_assert_uint_eq(back[1], 0x21);

	/* random bytes: never a crash, always an answer */
	pair(56, false);
	for (int t = 0; t < 2000; t++) {
		size_t n = rnd8() % 40;
		for (size_t i = 0; i < n; i++) in[i] = rnd8();
		int r = mppe_decrypt(&rx, in, n, out, sizeof out, &e);
		ck_assert(r >= 2 || (r < 0 && e.reason[0]));
		ck_assert_int_le(r, (int)n);
	}
}
END_TEST

/* ---- from a negotiated link ----------------------------------------------------------- */
static struct h_link L;

static bool logged(const struct h_side *sd, const char *t) { return strstr(sd->log, t) != NULL; }

START_TEST(link_master_key)
{
	h_init(&L);
	h_start(&L);
	h_run(&L, 20000);
	struct ppp_session *srv = &L.side[0].s, *cli = &L.side[1].s;
	ck_assert(ppp_fsm_opened(&srv->ccp.fsm));
	ck_assert_uint_eq(srv->lcp.auth, PPP_AUTH_MSCHAPV2);
	uint8_t ms[16], mc[16];
	ck_assert_int_eq(ppp_auth_mppe_master_key(&srv->auth, ms), 0);
	ck_assert_int_eq(ppp_auth_mppe_master_key(&cli->auth, mc), 0);
	ck_assert_mem_eq(ms, mc, 16);
	/* the same key from the password, computed apart */
	uint8_t h[16], hh[16], mk[16];
	ck_assert_int_eq(mschap_nt_password_hash("secret", 6, h), 0);
	ck_assert_int_eq(mschap_hash_nt_password_hash(h, hh), 0);
	ck_assert_int_eq(mppe_master_key(hh, srv->auth.nt_response, mk), 0);
	ck_assert_mem_eq(ms, mk, 16);
	/* what CCP agreed on, each side's view */
	uint32_t agreed = srv->ccp.peer_bits;
	ck_assert_uint_eq(agreed, cli->ccp.my_bits);
	unsigned bits = agreed & MPPE_BIT_S ? 128 : agreed & MPPE_BIT_M ? 56 : 40;
	bool stateless = agreed & MPPE_BIT_H;
	ck_assert_uint_eq(bits, 128);
	ck_assert(stateless);
	uint8_t ssend[16], srecv[16], csend[16], crecv[16];
	ck_assert_int_eq(mppe_start_keys(ms, bits, true, ssend, srecv), 0);
	ck_assert_int_eq(mppe_start_keys(mc, bits, false, csend, crecv), 0);
	struct mppe_state s_tx, s_rx, c_tx, c_rx;
	ck_assert_int_eq(mppe_init(&s_tx, ssend, bits, stateless), 0);
	ck_assert_int_eq(mppe_init(&s_rx, srecv, bits, stateless), 0);
	ck_assert_int_eq(mppe_init(&c_tx, csend, bits, stateless), 0);
	ck_assert_int_eq(mppe_init(&c_rx, crecv, bits, stateless), 0);
	struct diag_err e;
	for (unsigned seq = 0; seq < 20; seq++) {
		size_t n = make_packet(pkt, 60 + seq, seq);
		int w = mppe_encrypt(&s_tx, pkt, n, wire, sizeof wire);
		ck_assert_int_eq(mppe_decrypt(&c_rx, wire, (size_t)w, back, sizeof back, &e), (int)n);
		ck_assert_mem_eq(back, pkt, n);
		w = mppe_encrypt(&c_tx, pkt, n, wire, sizeof wire);
		ck_assert_int_eq(mppe_decrypt(&s_rx, wire, (size_t)w, back, sizeof back, &e), (int)n);
		ck_assert_mem_eq(back, pkt, n);
		/* the other direction's key does not decrypt (a copy: it would advance) */
		struct mppe_state tx_copy = c_tx, other = c_rx;
		w = mppe_encrypt(&tx_copy, pkt, n, wire, sizeof wire);
		int r = mppe_decrypt(&other, wire, (size_t)w, back, sizeof back, &e);
		ck_assert(r < 0 || memcmp(back, pkt, n) != 0);
	}
	mppe_clear(&s_tx);
	ck_assert_uint_eq(s_tx.keylen, 0);
}
END_TEST

START_TEST(link_without_mschapv2)
{
	h_init(&L);
	L.side[0].conf.auth_methods = PPP_AUTH_BIT(PPP_AUTH_CHAP_MD5);
	h_start(&L);
	h_run(&L, 20000);
	ck_assert_uint_eq(L.side[0].s.lcp.auth, PPP_AUTH_CHAP_MD5);
	ck_assert(L.side[0].s.auth_done);
	uint8_t mk[16];
	ck_assert_int_eq(ppp_auth_mppe_master_key(&L.side[0].s.auth, mk), -1);
	ck_assert_int_eq(ppp_auth_mppe_master_key(&L.side[1].s.auth, mk), -1);
	/* a failed MS-CHAPv2 attempt has none either */
	h_init(&L);
	L.side[1].conf.auth.password = "wrong";
	h_start(&L);
	h_run(&L, 20000);
	ck_assert_int_eq(ppp_auth_mppe_master_key(&L.side[0].s.auth, mk), -1);
	ck_assert_int_eq(ppp_auth_mppe_master_key(&L.side[1].s.auth, mk), -1);
}
END_TEST

/* Send n packets from one side's ccp.tx to the other's ccp.rx; `lose` drops packet i. */
static void link_traffic(struct ppp_session *from, struct ppp_session *to, unsigned n, int lose,
                         int *results)
{
	struct diag_err e;
	for (unsigned i = 0; i < n; i++) {
		size_t len = make_packet(pkt, 40 + i, i);
		int w = mppe_encrypt(from->ccp.tx, pkt, len, wire, sizeof wire);
		ck_assert_int_eq(w, (int)len + 2);
		if ((int)i == lose) {
			results[i] = 0;
			continue;
		}
		results[i] = mppe_decrypt(to->ccp.rx, wire, (size_t)w, back, sizeof back, &e);
		if (results[i] > 0) {
			ck_assert_int_eq(results[i], (int)len);
			ck_assert_mem_eq(back, pkt, len);
		}
	}
}

/* The MPPE states a server keeps beside each session (two per side here). */
static struct mppe_state lent[2][2];

static void h_start_mppe(struct h_link *l)
{
	h_start(l); /* both sessions are started by now, CCP not yet up */
	for (int i = 0; i < 2; i++) ppp_ccp_set_mppe(&l->side[i].s, &lent[i][0], &lent[i][1]);
}

START_TEST(link_ccp_sets_up_mppe)
{
	int res[8];
	for (int stateless = 1; stateless >= 0; stateless--) {
		h_init(&L);
		L.side[0].conf.mppe_stateless = stateless;
		L.side[1].conf.mppe_stateless = stateless;
		h_start_mppe(&L);
		h_run(&L, 20000);
		struct ppp_session *srv = &L.side[0].s, *cli = &L.side[1].s;
		ck_assert(srv->ccp.mppe_on && cli->ccp.mppe_on);
		ck_assert_int_eq(srv->ccp.tx->stateless, stateless);
		ck_assert_uint_eq(srv->ccp.tx->bits, 128);
		ck_assert_uint_eq(cli->ccp.rx->bits, 128);
		/* each direction decrypts with the other side's keys */
		link_traffic(srv, cli, 8, -1, res);
		for (int i = 0; i < 8; i++) ck_assert_int_gt(res[i], 0);
		link_traffic(cli, srv, 8, -1, res);
		for (int i = 0; i < 8; i++) ck_assert_int_gt(res[i], 0);
		/* a loss: stateless goes on, stateful asks for a reset */
		link_traffic(srv, cli, 4, 1, res);
		ck_assert_int_gt(res[0], 0);
		if (stateless) {
			ck_assert_int_gt(res[2], 0);
			ck_assert_int_gt(res[3], 0);
			continue;
		}
		ck_assert_int_eq(res[2], MPPE_ERR_RESET);
		ck_assert_int_eq(res[3], MPPE_ERR_DISCARD);
		/* the client's Reset-Request reaches the server's CCP, which answers with a
		 * Reset-Ack and flushes its sender */
		unsigned nw = L.nwire;
		ppp_ccp_reset_request(cli);
		h_pump(&L);
		ck_assert_uint_eq(L.nwire, nw + 2);
		struct ppp_msg m;
		ck_assert_int_eq(h_decode(&L.wire[nw], &m), 0);
		ck_assert_uint_eq(m.proto, PPP_PROTO_CCP);
		ck_assert_uint_eq(m.cp.code, PPP_RESET_REQ);
		ck_assert_int_eq(h_decode(&L.wire[nw + 1], &m), 0);
		ck_assert_uint_eq(m.cp.code, PPP_RESET_ACK);
		ck_assert_int_eq(L.wire_from[nw + 1], 0);
		ck_assert(srv->ccp.tx->flush);
		link_traffic(srv, cli, 3, -1, res);
		for (int i = 0; i < 3; i++) ck_assert_int_gt(res[i], 0);
		ck_assert(!mppe_out_of_sync(cli->ccp.rx));
		/* CCP going down forgets the keys */
		ppp_session_lower_down(srv, L.now);
		ck_assert(!srv->ccp.mppe_on);
		ck_assert_uint_eq(srv->ccp.tx->keylen, 0);
	}
	/* MPPE agreed after CHAP-MD5: no keys to encrypt with, and the log says so */
	h_init(&L);
	L.side[0].conf.auth_methods = PPP_AUTH_BIT(PPP_AUTH_CHAP_MD5);
	h_start_mppe(&L);
	h_run(&L, 20000);
	ck_assert(ppp_fsm_opened(&L.side[0].s.ccp.fsm));
	ck_assert(!L.side[0].s.ccp.mppe_on);
	ck_assert(logged(&L.side[0], "ccp mppe 128-bit stateless (no MS-CHAPv2 keys)"));
	ck_assert_int_eq(mppe_encrypt(L.side[0].s.ccp.tx, (const uint8_t *)"\x00\x21x", 3, wire,
	                              sizeof wire), MPPE_ERR_INVALID);
}
END_TEST

START_TEST(in_place)
{
	/* encrypt into the 2 bytes of headroom before the packet, decrypt over itself */
	static const unsigned bits[] = {40, 128};
	struct diag_err e;
	for (int m = 0; m < 4; m++) {
		pair(bits[m & 1], m & 2);
		for (unsigned seq = 0; seq < 300; seq++) {
			uint8_t buf[1600];
			size_t n = make_packet(buf + 2, 1 + (seq * 53) % 1500, seq);
			memcpy(pkt, buf + 2, n);
			int w = mppe_encrypt(&tx, buf + 2, n, buf, sizeof buf);
			ck_assert_int_eq(w, (int)n + 2);
			ck_assert_uint_eq((unsigned)((buf[0] & 0x0f) << 8 | buf[1]), seq);
			int r = mppe_decrypt(&rx, buf, (size_t)w, buf, sizeof buf, &e);
			ck_assert_int_eq(r, (int)n);
			ck_assert_mem_eq(buf, pkt, n);
		}
	}
}
END_TEST

START_TEST(state_is_small)
{
	/* the server keeps two per session */
	ck_assert_uint_le(sizeof(struct mppe_state), 320);
	/* names for logs and counters */
	ck_assert_str_eq(tok_name(mppe_err_names, (unsigned)-MPPE_ERR_RESET), "reset-needed");
	ck_assert_str_eq(tok_name(mppe_err_names, (unsigned)-MPPE_ERR_STALE), "stale");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mppe");
	TCase *tc = tcase_create("mppe");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, rfc3079_start_keys);
	tcase_add_test(tc, rfc3079_sample_message);
	tcase_add_test(tc, rc4_matches_openssl);
	tcase_add_test(tc, capture_stateless_with_loss);
	tcase_add_test(tc, stateless_round_trip_and_loss);
	tcase_add_test(tc, stateless_late_and_far);
	tcase_add_test(tc, stateful_round_trip_key_change);
	tcase_add_test(tc, stateful_loss_reset_recover);
	tcase_add_test(tc, garbage_is_refused);
	tcase_add_test(tc, link_master_key);
	tcase_add_test(tc, link_without_mschapv2);
	tcase_add_test(tc, link_ccp_sets_up_mppe);
	tcase_add_test(tc, in_place);
	tcase_add_test(tc, state_is_small);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
