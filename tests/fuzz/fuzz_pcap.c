/* libFuzzer target: arbitrary bytes as a capture file (pcap or pcapng), read through
 * libpcap and dissected frame by frame as `vnet pcap decode` does, summaries and JSON
 * included: the streamed JSON must be the bytes jansson writes for the same packet as a
 * tree, and the -v outline must be written. Reports of datagrams that never complete
 * are checked for sane values. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dissect.h"
#include "pcapin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void report(void *arg, const struct ipfrag_report *rep)
{
	(void)arg;
	if (rep->have_bytes > 65535 || rep->nfrags == 0 || rep->last_frame < rep->first_frame)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	FILE *fp = fmemopen((void *)data, size, "rb");
	if (!fp)
		return 0;
	struct pcapin in;
	if (pcapin_open_file(&in, fp) < 0)
		return 0;
	struct dissect *d = dissect_new(NULL);
	if (!d)
		abort();
	dissect_set_frag_report(d, report, NULL);
	struct pcapin_pkt pk;
	static char line[8192];
	for (int i = 0; i < 10000 && pcapin_next(&in, &pk) == 1; i++) {
		const struct dl_pkt *p = dissect_packet(d, pk.dlt, pk.frame, pk.ts_ns, pk.rel_ns,
		                                        pk.data, pk.caplen, pk.origlen);
		if (p->link_skipped)
			continue;
		if (p->has_err && p->err_in_frame && p->err_off > pk.caplen)
			abort();
		dl_summary(p, line, sizeof line);
		if (strlen(line) >= sizeof line)
			abort();
		json_t *j = dl_pkt_json(p);
		char *txt = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
		if (!txt)
			abort();
		struct jw w;
		jw_init(&w, JW_COMPACT, NULL);
		w.real_precision = 15;
		dl_pkt_jw(&w, p);
		if (w.failed || w.len != strlen(txt) || memcmp(w.buf, txt, w.len))
			abort();
		jw_free(&w);
		jw_init(&w, JW_OUTLINE, NULL);
		jw_outline(&w, 6, "layer");
		for (int k = 0; k < p->nlayers; k++)
			dl_layer_jw(&w, &p->layers[k], p->natt);
		if (w.failed)
			abort();
		jw_free(&w);
		free(txt);
		json_decref(j);
	}
	dissect_finish(d);
	dissect_free(d);
	pcapin_close(&in);
	return 0;
}
