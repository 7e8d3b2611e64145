/* Capture reading: see pcapin.h. */
#include <stdio.h>
#include <string.h>
#include "pcapin.h"

static int opened(struct pcapin *in, const char *eb)
{
	if (!in->pc) {
		snprintf(in->err, sizeof in->err, "%s", eb[0] ? eb : "cannot open the capture");
		return -1;
	}
	in->nano = pcap_get_tstamp_precision(in->pc) == PCAP_TSTAMP_PRECISION_NANO;
	in->dlt = pcap_datalink(in->pc);
	return 0;
}

#define PCAPIN_BUFFER (1u << 20)

int pcapin_open(struct pcapin *in, const char *path)
{
	char eb[PCAP_ERRBUF_SIZE];
	memset(in, 0, sizeof *in);
	eb[0] = 0;
	/* a file is read through a large buffer: libpcap reads each record with two small
	 * freads, which stdio's default buffer turns into a system call every few records */
	FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : NULL;
	if (fp && setvbuf(fp, NULL, _IOFBF, PCAPIN_BUFFER) == 0) {
		in->pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, eb);
		if (in->pc)
			return opened(in, eb);
	}
	if (fp)
		fclose(fp);
	/* standard input, or an error to report in libpcap's words */
	eb[0] = 0;
	in->pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
	return opened(in, eb);
}

int pcapin_open_file(struct pcapin *in, FILE *fp)
{
	char eb[PCAP_ERRBUF_SIZE];
	memset(in, 0, sizeof *in);
	eb[0] = 0;
	in->pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, eb);
	if (!in->pc)
		fclose(fp);
	return opened(in, eb);
}

int pcapin_set_filter(struct pcapin *in, const char *expr)
{
	if (pcap_compile(in->pc, &in->prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(in->err, sizeof in->err, "filter: %s", pcap_geterr(in->pc));
		return -1;
	}
	in->have_filter = true;
	return 0;
}

int pcapin_next(struct pcapin *in, struct pcapin_pkt *pkt)
{
	for (;;) { /* bounded by the file: each round consumes one record */
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc = pcap_next_ex(in->pc, &h, &data);
		if (rc == PCAP_ERROR_BREAK)
			return 0;
		if (rc != 1) {
			snprintf(in->err, sizeof in->err, "after frame %llu: %s",
			         (unsigned long long)in->frame, pcap_geterr(in->pc));
			return -1;
		}
		in->frame++;
		uint64_t sub = (uint64_t)h->ts.tv_usec * (in->nano ? 1u : 1000u);
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ull + sub;
		if (!in->have_first) {
			in->have_first = true;
			in->first_ns = ts;
		}
		if (in->have_filter && !pcap_offline_filter(&in->prog, h, data))
			continue;
		pkt->frame = in->frame;
		pkt->ts_ns = ts;
		pkt->rel_ns = ts >= in->first_ns ? ts - in->first_ns : 0;
		pkt->data = data;
		pkt->caplen = h->caplen;
		pkt->origlen = h->len;
		return 1;
	}
}

void pcapin_close(struct pcapin *in)
{
	if (in->have_filter)
		pcap_freecode(&in->prog);
	if (in->pc)
		pcap_close(in->pc);
	in->pc = NULL;
	in->have_filter = false;
}
