/* Drives the IKEv1 responder (engine/ike/ikev1.h) with mutated messages and clock jumps.
 *
 * Input: a mode byte, then records [u16 length][bytes] with a one-byte clock step
 * (x 500 ms) after each. Mode bit 0 clear: each record is an ISAKMP datagram as it
 * arrives on the wire (the seeds are the Main Mode, Quick Mode and Informational
 * messages of the lab captures). Mode bit 0 set: the in-process initiator of
 * tests/unit/ikev1_peer.h first completes Main Mode, then each record is the payload
 * chain of a protected message: byte 0 the exchange (odd: Quick Mode, even:
 * Informational), bytes 1-4 the message ID, byte 5 the first payload type, the rest the
 * payloads; the harness puts HASH(1) in front and encrypts it with the SA's keys, so the
 * fuzzer reaches the phase-2 parsers behind the integrity check. Bit 1: NAT (the
 * initiator claims another address). Bit 3: the responder takes RSA signatures too,
 * with a certificate, its CA chain and a trust store (made once, in memory), and the
 * initiator of bit 0 signs with a certificate of that CA. Bit 4 (with bit 3): the
 * initiator stops after Main Mode 4 and the first record is the payload chain of Main
 * Mode 5 (byte 0 the first payload type, the rest the payloads: ID, CERT, SIG,
 * CERTREQ ...), encrypted with the keys of the exchange, so the certificate and
 * signature parsers see what the fuzzer makes. The responder must never crash, read
 * out of bounds or leak; every deadline it returns must be honoured by tick, and the
 * SA must end when its timers run out. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../unit/certgen.h"
#include "../unit/ikev1_peer.h"

static uint64_t rng = 88172645463325252ull;
static uint8_t last[IKEV1_MSG_MAX];
static size_t lastlen;

static void f_send(void *ctx, const uint8_t *b, size_t n, bool natt)
{
	(void)ctx; (void)natt;
	if (n <= sizeof last) {
		memcpy(last, b, n);
		lastlen = n;
	}
}
static void f_event(void *ctx, enum ikev1_ev k, const char *t) { (void)ctx; (void)k; (void)strlen(t); }
static void f_random(void *ctx, uint8_t *b, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		b[i] = (uint8_t)rng;
	}
}
static void f_child(void *ctx, const struct ikev1_child *c) { (void)ctx; (void)c; }

/* The PKI of bit 3, made on the first run: a root, an intermediate, the server's and a
 * client's certificates (1024-bit keys: the fuzzer's time goes to the parsers). */
static struct {
	EVP_PKEY *kroot, *kmid, *ksrv, *kcli;
	X509 *root, *mid, *srv, *cli;
	STACK_OF(X509) *chain;
	X509_STORE *trust;
	unsigned char *root_der;
	int root_der_len;
} pki;

static void pki_make(void)
{
	if (pki.trust)
		return;
	pki.kroot = cg_key(1024);
	pki.kmid = cg_key(1024);
	pki.ksrv = cg_key(1024);
	pki.kcli = cg_key(1024);
	pki.root = cg_cert(pki.kroot, "fuzz root", NULL, NULL, true, NULL, -86400, 100L * 86400 * 365);
	pki.mid = cg_cert(pki.kmid, "fuzz intermediate", pki.root, pki.kroot, true, NULL, -86400,
	                  100L * 86400 * 365);
	pki.srv = cg_cert(pki.ksrv, "vpn.fuzz", pki.mid, pki.kmid, false, "DNS:vpn.fuzz", -86400,
	                  100L * 86400 * 365);
	pki.cli = cg_cert(pki.kcli, "client.fuzz", pki.root, pki.kroot, false,
	                  "DNS:client.fuzz,IP:10.0.0.2", -86400, 100L * 86400 * 365);
	pki.chain = sk_X509_new_null();
	X509_up_ref(pki.mid);
	sk_X509_push(pki.chain, pki.mid);
	pki.trust = cg_store(pki.root, NULL);
	pki.root_der_len = i2d_X509_NAME(X509_get_subject_name(pki.root), &pki.root_der);
}
static void f_down(void *ctx, const struct ikev1_child *c, const char *w) { (void)ctx; (void)c; (void)strlen(w); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	static struct ikev1_conf conf;
	ikev1_conf_default(&conf);
	conf.psk = (const uint8_t *)"fuzz";
	conf.psk_len = 4;
	conf.allow_tunnel = mode & 4;
	bool certs = mode & 8;
	if (certs) {
		pki_make();
		conf.auth_methods = IKEV1_AUTH_PSK | IKEV1_AUTH_RSA_SIG;
		conf.cert = pki.srv;
		conf.key = pki.ksrv;
		conf.chain = pki.chain;
		conf.trust = pki.trust;
	}
	struct ikev1_cbs cbs = {NULL, f_send, f_event, f_random, f_child, f_down};
	struct ikev1_addr local = {.family = 4, .ip = {10, 0, 0, 1}, .port = 500};
	struct ikev1_addr peer = {.family = 4, .ip = {10, 0, 0, 2}, .port = 500};
	rng = 88172645463325252ull;
	uint64_t now = 0;
	struct ikev1_sa *sa = ikev1_new(&conf, &cbs, &local, &peer, now);
	if (!sa)
		return 0;
	static struct v1peer p;
	bool keyed = false, mm5_open = false;
	size_t off = 1;
	if (mode & 1) {
		v1p_init(&p, "fuzz");
		p.group = 2; /* the cheapest group: the fuzzer's time goes to the parsers */
		if (certs) {
			p.auth = 3;
			p.cert = pki.cli;
			p.key = pki.kcli;
			p.resp_ca = pki.mid;
			p.cr_name = pki.root_der;
			p.cr_len = (size_t)pki.root_der_len;
		}
		if (mode & 2)
			memcpy(p.my_ip, "\xc0\xa8\x00\x09", 4);
		static uint8_t msg[4096];
		size_t n = v1p_mm1(&p, msg, sizeof msg);
		ikev1_input(sa, msg, n, &local, &peer, now);
		if ((n = v1p_mm3(&p, last, lastlen, msg, sizeof msg))) {
			ikev1_input(sa, msg, n, &local, &peer, now);
			if (certs && (mode & 16)) {
				mm5_open = v1p_mm4_keys(&p, last, lastlen);
			} else if ((n = v1p_mm5(&p, last, lastlen, msg, sizeof msg))) {
				ikev1_input(sa, msg, n, &local, &peer, now);
				keyed = v1p_mm6(&p, last, lastlen);
			}
		}
	}
	if (mm5_open && off + 2 <= size) {
		/* Main Mode 5 around the fuzzer's payload chain */
		size_t n = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (n > size - off)
			n = size - off;
		static uint8_t plain[IKEV1_MSG_MAX], out[IKEV1_MSG_MAX + 64];
		size_t len = IKE_HDR_LEN + (n ? n - 1 : 0);
		if (n && len <= sizeof plain - 32) {
			ike_msg_init(p.m, 1, IKE1_EXCH_MAIN, 0, 0, p.ispi, p.rspi);
			ike_encode(p.m, plain, sizeof plain);
			plain[16] = data[off];
			v1p_put32(plain + 24, (uint32_t)len);
			memcpy(plain + IKE_HDR_LEN, data + off + 1, n - 1);
			size_t sl = len > IKE_HDR_LEN ? v1p_seal(&p, plain, len, p.iv, out) : 0;
			if (sl)
				ikev1_input(sa, out, sl, &local, &peer, now);
		}
		off += n;
	}
	for (int rec = 0; rec < 32 && off + 2 <= size; rec++) {
		size_t n = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (n > size - off)
			n = size - off;
		const uint8_t *r = data + off;
		off += n;
		if (keyed && n >= 6) {
			/* a protected message around the fuzzer's payload chain */
			static uint8_t plain[IKEV1_MSG_MAX], out[IKEV1_MSG_MAX + 64];
			uint32_t msgid = v1p_get32(r + 1);
			uint8_t exch = (r[0] & 1) ? IKE1_EXCH_QUICK : IKE1_EXCH_INFO;
			size_t hl = p.hlen, body = n - 6;
			size_t len = IKE_HDR_LEN + 4 + hl + body;
			if (len <= sizeof plain - 32 && msgid) {
				memcpy(plain, p.ispi, 8);
				memcpy(plain + 8, p.rspi, 8);
				plain[16] = IKE1_PL_HASH;
				plain[17] = 0x10;
				plain[18] = exch;
				plain[19] = 0;
				v1p_put32(plain + 20, msgid);
				v1p_put32(plain + 24, (uint32_t)len);
				plain[28] = r[5];
				plain[29] = 0;
				plain[30] = (uint8_t)((4 + hl) >> 8);
				plain[31] = (uint8_t)(4 + hl);
				memcpy(plain + 32 + hl, r + 6, body);
				uint8_t mid[4];
				v1p_put32(mid, msgid);
				struct ike_iov v[2] = {{mid, 4}, {plain + 32 + hl, body}};
				ike1_prf(p.hash, p.sk_a, hl, v, 2, plain + 32);
				uint8_t iv[16];
				v1p_p2iv(&p, msgid, iv);
				size_t sl = v1p_seal(&p, plain, len, iv, out);
				if (sl)
					ikev1_input(sa, out, sl, &local, &peer, now);
			}
		} else {
			ikev1_input(sa, r, n, &local, &peer, now);
		}
		uint8_t step = off < size ? data[off++] : 0;
		now += (uint64_t)step * 500;
		if (ikev1_deadline(sa) <= now)
			ikev1_tick(sa, now);
		if (step == 0xff)
			ikev1_delete(sa, "fuzz", now);
	}
	/* every timer runs out: the SA must end within a bounded number of ticks */
	for (int i = 0; i < 64; i++) {
		uint64_t d = ikev1_deadline(sa);
		if (d == IKEV1_NEVER)
			break;
		now = d > now ? d : now + 1;
		ikev1_tick(sa, now);
	}
	if (ikev1_state(sa) != IKEV1_DEAD)
		__builtin_trap();
	ikev1_free(sa);
	if (mode & 1)
		v1p_free(&p);
	return 0;
}
