/* vnet pcap decode: one line (or a tree, or a JSON object) per packet of a capture. */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cmd.h"
#include "dissect.h"
#include "out.h"
#include "pcapin.h"
#include "radius.h"

#define PROGRESS_MIN_BYTES (64u << 20) /* progress on a TTY only for files this large */

struct decode_run {
	const char *path;
	bool json;
	int verbose;
	uint64_t incomplete;
	struct jw w; /* --json: one compact object per line, streamed to stdout */
	struct jw ol; /* -v: each layer as indented key: value lines */
	/* --radius-secret: the secret, and the authenticator of the last Access-Request of
	 * each identifier between two endpoints (what MS-MPPE keys of the answer need) */
	const uint8_t *rsec;
	size_t rsec_len;
	struct rad_req {
		bool set;
		uint8_t auth[16];
		char ends[170];      /* "client > server" */
	} rreq[256];
};

/* ---- output ------------------------------------------------------------------------ */

static char *dec64(char *q, uint64_t v, int width)
{
	char t[24];
	int n = 0;
	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < 23);
	while (width-- > n)
		*q++ = ' ';
	while (n)
		*q++ = t[--n];
	return q;
}

static void print_text(struct decode_run *r, const struct dl_pkt *p)
{
	static char line[8192];
	char head[256];
	/* "%3llu %llu.%06llu %s > %s " without printf: this runs once per packet */
	char *q = dec64(head, p->frame, 3);
	*q++ = ' ';
	q = dec64(q, p->rel_ns / 1000000000u, 0);
	*q++ = '.';
	uint64_t us = p->rel_ns % 1000000000u / 1000u;
	for (uint64_t div = 100000; div; div /= 10)
		*q++ = (char)('0' + us / div % 10);
	*q++ = ' ';
	dl_endpoint(p, true, q, 80);
	q += strlen(q);
	memcpy(q, " > ", 3);
	q += 3;
	dl_endpoint(p, false, q, 80);
	q += strlen(q);
	*q++ = ' ';
	fwrite(head, 1, (size_t)(q - head), stdout);
	size_t n = dl_summary(p, line, sizeof line);
	line[n] = '\n';
	fwrite(line, 1, n + 1, stdout);
	if (!r->verbose)
		return;
	for (int i = 0; i < p->nlayers; i++) {
		const struct dl_layer *l = &p->layers[i];
		if (r->verbose < 2 && l->kind < DL_NATT)
			continue;
		dl_layer_jw(&r->ol, l, p->natt);
	}
	fwrite(r->ol.buf, 1, r->ol.len, stdout);
	jw_reset(&r->ol);
}

/* --radius-secret: the User-Password of a request and the MS-MPPE keys of an answer, in
 * the clear. Text: one indented line after the packet's; JSON: a line of its own,
 * {"radius_decrypted": {"frame": N, ...}}. */
static void radius_decrypt(struct decode_run *r, const struct dl_pkt *p)
{
	const struct radius_msg *m = NULL;
	for (int i = 0; i < p->nlayers; i++)
		if (p->layers[i].kind == DL_RADIUS) m = p->layers[i].msg;
	if (!m || !m->auth) return;
	char src[80], dst[80], ends[170];
	dl_endpoint(p, true, src, sizeof src);
	dl_endpoint(p, false, dst, sizeof dst);
	bool req = m->code == RADIUS_ACCESS_REQUEST;
	snprintf(ends, sizeof ends, "%s > %s", req ? src : dst, req ? dst : src);
	struct rad_req *q = &r->rreq[m->id];
	const uint8_t *req_auth = NULL;
	if (req) {
		q->set = true;
		memcpy(q->auth, m->auth, 16);
		snprintf(q->ends, sizeof q->ends, "%s", ends);
	} else if (q->set && strcmp(q->ends, ends) == 0) {
		req_auth = q->auth;
	}
	char out[4 * 128 + 1], hex[2 * 64 + 1];
	bool any = false;
	for (size_t i = 0; i < m->nattrs; i++) {
		const struct radius_attr *at = &m->attrs[i];
		const char *name = NULL;
		uint8_t clear[256];
		int n = -1;
		bool text = false;
		if (req && at->type == RADIUS_ATTR_USER_PASSWORD) {
			n = radius_unhide_password(at->val, at->vlen, r->rsec, r->rsec_len, m->auth, clear);
			name = "User-Password";
			text = true;
		} else if (req_auth && at->type == RADIUS_ATTR_VENDOR_SPECIFIC &&
		           at->vendor == RADIUS_VENDOR_MICROSOFT &&
		           (at->vtype == MS_MPPE_SEND_KEY || at->vtype == MS_MPPE_RECV_KEY)) {
			n = radius_ms_mppe_key_decrypt(at->val, at->vlen, r->rsec, r->rsec_len, req_auth,
			                               clear, 64);
			name = at->vtype == MS_MPPE_SEND_KEY ? "MS-MPPE-Send-Key" : "MS-MPPE-Recv-Key";
		}
		if (!name) continue;
		const char *val;
		if (n < 0) val = "(does not decrypt with this secret)";
		else if (text) val = (text_printable(clear, (size_t)n, out, sizeof out), out);
		else val = (hex_str(clear, (size_t)n, hex), hex);
		if (r->json) {
			if (!any) {
				jw_obj(&r->w, NULL);
				jw_obj(&r->w, "radius_decrypted");
				jw_int(&r->w, "frame", (long long)p->frame);
			}
			if (n < 0) jw_null(&r->w, name);
			else if (text) jw_text(&r->w, name, clear, (size_t)n);
			else jw_str(&r->w, name, hex);
		} else {
			printf("%s%s=%s%s%s", any ? " " : "      decrypted: ", name, text && n >= 0 ? "\"" : "",
			       val, text && n >= 0 ? "\"" : "");
		}
		any = true;
		OPENSSL_cleanse(clear, sizeof clear);
	}
	if (!any) return;
	if (r->json) {
		jw_end(&r->w);
		jw_end(&r->w);
		jw_raw(&r->w, "\n", 1);
	} else {
		printf("\n");
	}
}

static void print_json(struct decode_run *r, const struct dl_pkt *p)
{
	dl_pkt_jw(&r->w, p);
	jw_raw(&r->w, "\n", 1);
}

static void frag_report(void *arg, const struct ipfrag_report *rep)
{
	struct decode_run *r = arg;
	static const char *const why[] = {
		[IPFRAG_TIMEOUT] = "timed out", [IPFRAG_EVICTED] = "dropped to make room",
		[IPFRAG_END_OF_CAPTURE] = "capture ended",
	};
	char src[64], dst[64], total[32];
	r->incomplete++;
	net_addr_str(rep->key.version, rep->key.src, src, sizeof src);
	net_addr_str(rep->key.version, rep->key.dst, dst, sizeof dst);
	if (r->json) {
		struct jw *w = &r->w;
		jw_obj(w, NULL);
		jw_obj(w, "incomplete_datagram");
		jw_str(w, "src", src);
		jw_str(w, "dst", dst);
		jw_int(w, "id", rep->key.id);
		jw_int(w, "proto", rep->key.proto);
		jw_int(w, "fragments", rep->nfrags);
		jw_int(w, "first_frame", (long long)rep->first_frame);
		jw_int(w, "last_frame", (long long)rep->last_frame);
		jw_int(w, "bytes", (long long)rep->have_bytes);
		if (rep->total_len)
			jw_int(w, "total_len", (long long)rep->total_len);
		jw_str(w, "reason", why[rep->why]);
		jw_end(w);
		jw_end(w);
		jw_raw(w, "\n", 1);
		return;
	}
	if (rep->total_len)
		snprintf(total, sizeof total, "of %zu", rep->total_len);
	else
		snprintf(total, sizeof total, "of an unknown total");
	printf("  - IPv%u %s > %s id 0x%x: datagram never completed: %u fragment%s (frames %llu-%llu), "
	       "%zu bytes %s; %s\n",
	       rep->key.version, src, dst, rep->key.id, rep->nfrags, rep->nfrags == 1 ? "" : "s",
	       (unsigned long long)rep->first_frame, (unsigned long long)rep->last_frame,
	       rep->have_bytes, total, why[rep->why]);
}

static bool parse_count(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v == 0)
		return false;
	*out = v;
	return true;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_pcap_decode(struct cmd_args *a)
{
	struct decode_run r = {.path = a->pos[0], .json = a->json, .verbose = args_count(a, "-v")};
	uint64_t limit = 0;
	const char *cs = args_get(a, "-c");
	if (cs && !parse_count(cs, &limit)) {
		out_err(NULL, 0, 0, "-c: '%s' is not a positive number of packets", cs);
		return EXIT_USAGE;
	}
	const char *rsec = args_get(a, "--radius-secret");
	if (rsec && !rsec[0]) {
		out_err(NULL, 0, 0, "--radius-secret: an empty secret");
		return EXIT_USAGE;
	}
	r.rsec = (const uint8_t *)rsec;
	r.rsec_len = rsec ? strlen(rsec) : 0;
	struct pcapin in;
	if (pcapin_open(&in, r.path) < 0) {
		out_err(r.path, 0, 0, "%s", in.err);
		return EXIT_USAGE;
	}
	const char *filter = args_get(a, "--filter");
	if (filter && pcapin_set_filter(&in, filter) < 0) {
		out_err(NULL, 0, 0, "--filter '%s': %s", filter, in.err);
		pcapin_close(&in);
		return EXIT_USAGE;
	}
	struct dissect *d = dissect_new(NULL);
	if (!d) {
		out_err(NULL, 0, 0, "out of memory");
		pcapin_close(&in);
		return EXIT_USAGE;
	}
	dissect_set_frag_report(d, frag_report, &r);

	static char obuf[1 << 16];
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	jw_init(&r.w, JW_COMPACT, stdout);
	r.w.real_precision = 15;
	jw_init(&r.ol, JW_OUTLINE, NULL);
	jw_outline(&r.ol, 6, "layer"); /* the layer's name heads its lines */
	/* Progress only where someone watches, and only when it takes a while. */
	off_t fsize = 0;
	struct stat st;
	if (isatty(STDERR_FILENO) && strcmp(r.path, "-") && !stat(r.path, &st) &&
	    st.st_size >= (off_t)PROGRESS_MIN_BYTES)
		fsize = st.st_size;
	double last = fsize ? now_s() : 0;
	bool progressed = false;

	int rc = EXIT_YES;
	uint64_t shown = 0;
	struct pcapin_pkt pk;
	for (;;) {
		int n = pcapin_next(&in, &pk);
		if (n == 0)
			break;
		if (n < 0) {
			jw_flush(&r.w);
			fflush(stdout);
			out_err(r.path, 0, 0, "capture breaks off %s", in.err);
			rc = EXIT_USAGE;
			break;
		}
		if (pk.new_link && !net_link_supported(pk.dlt))
			out_err(r.path, 0, 0, "link type %d (%s) is not supported: its frames are skipped",
			        pk.dlt, pcap_datalink_val_to_name(pk.dlt) ? pcap_datalink_val_to_name(pk.dlt)
			                                                  : "unknown");
		const struct dl_pkt *p = dissect_packet(d, pk.dlt, pk.frame, pk.ts_ns, pk.rel_ns,
		                                        pk.data, pk.caplen, pk.origlen);
		if (p->link_skipped)
			continue;
		if (r.json)
			print_json(&r, p);
		else
			print_text(&r, p);
		if (r.rsec)
			radius_decrypt(&r, p);
		if (limit && ++shown >= limit)
			break;
		if (fsize && !(pk.frame & 0xffff)) {
			double t = now_s();
			if (t - last >= 0.5) {
				double pos = (double)pcapin_offset(&in);
				fprintf(stderr, "\r%llu packets, %.0f%%", (unsigned long long)pk.frame,
				        100.0 * pos / (double)fsize);
				last = t;
				progressed = true;
			}
		}
	}
	if (progressed)
		fputs("\r\033[K", stderr);
	if (!limit || shown < limit)
		dissect_finish(d);
	jw_flush(&r.w);
	jw_free(&r.w);
	jw_free(&r.ol);
	fflush(stdout);
	dissect_free(d);
	pcapin_close(&in);
	return rc;
}
