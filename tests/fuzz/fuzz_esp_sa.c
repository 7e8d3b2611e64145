/* ESP input to a keyed SA pair (engine/ike/esp_sa.h).
 *
 * Input: a mode byte (bits 0-2: the cipher suite; bit 3: seal first), then records
 * [u16 length][bytes]. Without bit 3 each record is an ESP packet for the pair's inbound
 * SA (SPI 0x1000, whatever the record says: its first 4 bytes are replaced) and must be
 * refused or decrypted within the bounds it came in. With bit 3 each record is a payload
 * the mirror pair seals: the pair must open it to the same bytes, once (a second time is
 * a replay), and a copy with the record's last byte xored into one position must not
 * open to other bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ike/esp_sa.h"

static void keys(struct esp_sa *s, unsigned suite, uint32_t spi)
{
	static const struct { enum esp_enc e; size_t ek; enum esp_auth a; size_t ak; } t[] = {
		{ESPE_AES_CBC, 16, ESPA_SHA1_96, 20}, {ESPE_AES_CBC, 32, ESPA_SHA256_128, 32},
		{ESPE_3DES, 24, ESPA_SHA1_96, 20}, {ESPE_AES_GCM, 20, ESPA_NULL, 0},
		{ESPE_AES_GCM, 36, ESPA_NULL, 0}, {ESPE_NULL, 0, ESPA_SHA1_96, 20},
		{ESPE_3DES, 24, ESPA_SHA256_128, 32}, {ESPE_AES_CBC, 16, ESPA_SHA256_128, 32},
	};
	memset(s, 0, sizeof *s);
	s->enc = t[suite & 7].e;
	s->eklen = t[suite & 7].ek;
	s->auth = t[suite & 7].a;
	s->aklen = t[suite & 7].ak;
	s->gcm_icv = s->enc == ESPE_AES_GCM ? 16 : 0;
	s->spi = spi;
	for (size_t i = 0; i < s->eklen; i++)
		s->ekey[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < s->aklen; i++)
		s->akey[i] = (uint8_t)(i * 13 + 5);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	struct esp_sa a, b;
	keys(&a, mode, 0x1000);
	keys(&b, mode, 0x2000);
	static struct esp_pair me, peer;
	if (esp_pair_init(&me, &a, &b, true) < 0)
		return 0;
	if (esp_pair_init(&peer, &b, &a, true) < 0) {
		esp_pair_free(&me);
		return 0;
	}
	static uint8_t pkt[4096], out[4096];
	size_t off = 1;
	for (int rec = 0; rec < 32 && off + 2 <= size; rec++) {
		size_t n = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (n > size - off)
			n = size - off;
		const uint8_t *r = data + off;
		off += n;
		size_t ol = 0;
		uint8_t nh = 0;
		struct diag_err e;
		if (!(mode & 8)) {
			if (n > sizeof pkt)
				continue;
			memcpy(pkt, r, n);
			if (n >= 4)
				memcpy(pkt, "\x00\x00\x10\x00", 4);
			if (esp_pair_open(&me, pkt, n, out, sizeof out, &ol, &nh, &e) == 0 && ol > n)
				__builtin_trap();
			continue;
		}
		uint8_t iv[16];
		memset(iv, rec, sizeof iv);
		size_t sl = esp_pair_seal(&peer, iv, r, n, 17, pkt, sizeof pkt, NULL);
		if (!sl)
			continue;
		if (esp_pair_open(&me, pkt, sl, out, sizeof out, &ol, &nh, &e) != 0 || ol != n ||
		    nh != 17 || memcmp(out, r, n))
			__builtin_trap();
		if (esp_pair_open(&me, pkt, sl, out, sizeof out, &ol, &nh, &e) != ESPF_REPLAY)
			__builtin_trap();
		if (n) {
			sl = esp_pair_seal(&peer, iv, r, n, 17, pkt, sizeof pkt, NULL);
			size_t at = r[n - 1] % sl;
			uint8_t x = (uint8_t)(r[0] | 1);
			pkt[at] ^= x;
			/* an altered packet never opens to other bytes (NULL encryption opens the
			 * altered bytes only when they were not covered: never, the ICV covers all) */
			if (esp_pair_open(&me, pkt, sl, out, sizeof out, &ol, &nh, &e) == 0 &&
			    (ol != n || memcmp(out, r, n)))
				__builtin_trap();
		}
	}
	esp_pair_free(&me);
	esp_pair_free(&peer);
	return 0;
}
