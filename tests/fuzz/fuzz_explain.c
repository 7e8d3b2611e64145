/* libFuzzer target: the session tracker and the explainer over a mutated capture.
 *
 * Input: a byte that picks the mode. 0xff: the rest is a key file (docs/keys.md) for
 * ike_keys_parse. Otherwise it picks the link type (Ethernet, raw IP, Linux cooked; low
 * bits), whether ended sessions are released as they end (0x40) and whether the tracker
 * decrypts ESP (0x20) with the ESP SAs of tests/captures/l2tp-ipsec-*.keys and a catch-all
 * NULL-encryption SA, so what the mutated ESP carries reaches the tracker; frames
 * each as a 2-byte big-endian length and that many bytes; frames 1 ms apart. Every
 * frame goes through the dispatcher and the tracker; at the end every session is
 * finished, turned into facts, matched against the rules and rendered as JSON. The
 * seeds are the lab captures in this framing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect.h"
#include "capture/explain.h"
#include "capture/ikedecrypt.h"
#include "rules/facts.h"
#include "rules/rules.h"
#include "capture/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ruleset *rs;
static struct facts *fx;
static struct ike_keys *esp_keys;

/* The ESP SAs of the test captures, and any other SPI with NULL encryption and no
 * integrity check: a mutated packet decrypts when its trailer is plausible. */
static const char esp_key_text[] =
	"-o 'uat:esp_sa:\"IPv4\",\"10.77.0.2\",\"10.77.0.1\",\"0xd02f99e6\",\"AES-CBC [RFC3602]\","
	"\"0x873f85c469a4f8f60cb231203dad67a0\",\"HMAC-SHA-1-96 [RFC2404]\","
	"\"0x88cbe64ee9d7387b60cfaa395ea4ff5b636b68fd\"'\n"
	"-o 'uat:esp_sa:\"IPv4\",\"10.77.0.1\",\"10.77.0.2\",\"0xb8cc8d36\",\"AES-CBC [RFC3602]\","
	"\"0x346486e8f7c61d9c922e6da946e828a0\",\"HMAC-SHA-1-96 [RFC2404]\","
	"\"0x2fc616d099ec8e8be0a28c8e176eae9020d3c332\"'\n"
	"src 10.77.0.2 dst 10.77.0.1\n"
	"\tproto esp spi 0xc0a80001 reqid 1 mode transport\n"
	"\taead rfc4106(gcm(aes)) 0x3d720597d05475153e8acef69863a920e9b78cd3 128\n"
	"-o 'uat:esp_sa:\"IPv4\",\"10.89.0.1\",\"10.89.0.2\",\"0x280dbb65\",\"AES-CBC [RFC3602]\",\"0x24517aa0a5092dc5cb3887d0924ba728\",\"HMAC-SHA-256-128 [RFC4868]\",\"0x9b67a30246258877b5dae74f632b9c99861c1e95084e2849b4c159d0b15de7d3\"'\n"
	"-o 'uat:esp_sa:\"IPv4\",\"10.89.0.2\",\"10.89.0.1\",\"0x1221424b\",\"AES-CBC [RFC3602]\",\"0x077a43bb082438c2ab32552c93ca7adc\",\"HMAC-SHA-256-128 [RFC4868]\",\"0x0592125de9e0ccb21d3d6b40b70cc95b0cf6169048e732fd0f4d35bef5dcf48d\"'\n"
	"-o 'uat:esp_sa:\"IPv4\",\"10.89.0.1\",\"10.89.0.2\",\"0x2e9617bd\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"0xbd9f103f4d65babe8e029dea72c070a01f3d1ab3\",\"NULL\",\"\"'\n"
	"-o 'uat:esp_sa:\"IPv4\",\"10.89.0.2\",\"10.89.0.1\",\"0x2b0105c8\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"0x7b9e2b3d93952633b1662f72266526f0d53033e0\",\"NULL\",\"\"'\n"
	"\"Any\",\"*\",\"*\",\"*\",\"NULL\",\"\",\"NULL\",\"\"\n";

static void check_session(struct sess_table *t, const struct vsess *s)
{
	struct rule_match m[8];
	size_t nm = explain_diagnose(t, s, rs, fx, m, 8);
	if (nm > 8)
		abort();
	json_t *j = explain_session_json(t, s, m, nm);
	if (!j)
		abort();
	char *txt = json_dumps(j, JSON_COMPACT);
	if (!txt)
		abort();
	free(txt);
	json_decref(j);
}

/* Sessions that end before the capture: explained and released on the spot. */
static void done(void *arg, struct sess_table *t, struct vsess *s)
{
	(void)arg;
	explain_finish_one(t, s);
	check_session(t, s);
	sess_release(t, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!rs) {
		struct diag_err err;
		rs = rules_load_default(&err);
		fx = facts_new();
		char e[256];
		esp_keys = ike_keys_parse("esp", esp_key_text, sizeof esp_key_text - 1, e, sizeof e);
		if (!rs || !fx || !esp_keys)
			abort();
	}
	if (size < 1)
		return 0;
	if (data[0] == 0xff) {
		char e[256];
		struct ike_keys *k = ike_keys_parse("fuzz", (const char *)data + 1, size - 1, e, sizeof e);
		if (!k && !e[0])
			abort(); /* a refusal always says why */
		ike_keys_free(k);
		return 0;
	}
	static const int dlts[] = {1, 101, 113};
	int dlt = dlts[data[0] % 3];
	struct dissect *d = dissect_new(NULL);
	struct sess_table *t = sess_table_new("fuzz.pcap");
	if (!d || !t)
		abort();
	if (data[0] & 0x40)
		sess_set_done(t, done, NULL);
	if ((data[0] & 0x20) && sess_set_keys(t, esp_keys) < 0)
		abort();
	size_t off = 1;
	uint64_t frame = 0, ns = 1000000000ull;
	while (off + 2 <= size && frame < 4096) {
		size_t n = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (n > size - off)
			n = size - off;
		frame++;
		ns += 1000000ull;
		const struct dl_pkt *p = dissect_packet(d, dlt, frame, ns, ns - 1000000000ull,
		                                        data + off, n, n);
		if (!p->link_skipped)
			sess_packet(t, p);
		off += n;
	}
	dissect_finish(d);
	explain_finish(t);
	for (size_t i = 0; i < sess_count(t); i++) {
		struct vsess *s = sess_at(t, i);
		if (!s)
			continue; /* released when it ended */
		if (s->id != i + 1)
			abort();
		check_session(t, s);
	}
	sess_table_free(t);
	dissect_free(d);
	return 0;
}
