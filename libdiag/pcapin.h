/* Reading captures through libpcap: pcap and pcapng files, "-" for stdin.
 *
 * A thin layer that keeps the frame number (counting every record in the file, also
 * those a filter skips, so numbers match other tools), the time relative to the first
 * record, and applies an optional BPF filter per record. Link types are whatever the
 * file says; net.h decides which it can follow.
 */
#ifndef VNET_PCAPIN_H
#define VNET_PCAPIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pcap/pcap.h>

struct pcapin {
	pcap_t *pc;
	int dlt;
	bool nano;                 /* timestamps kept in nanoseconds */
	bool have_filter;
	struct bpf_program prog;
	uint64_t frame;            /* number of the last record read (1-based) */
	uint64_t first_ns;         /* absolute time of the first record */
	bool have_first;
	char err[PCAP_ERRBUF_SIZE + 64];
};

struct pcapin_pkt {
	uint64_t frame;
	uint64_t ts_ns;            /* absolute, nanoseconds since the epoch */
	uint64_t rel_ns;           /* since the first record */
	const uint8_t *data;       /* valid until the next pcapin_next */
	size_t caplen, origlen;
};

/* Open FILE ("-" = stdin). 0 ok, -1 with in->err. */
int pcapin_open(struct pcapin *in, const char *path);
/* The same over an open stream (pcap_fopen_offline: the capture owns and closes it). */
int pcapin_open_file(struct pcapin *in, FILE *fp);
/* Compile and install a BPF filter for the file's link type. 0 ok, -1 with in->err
 * (libpcap's message). */
int pcapin_set_filter(struct pcapin *in, const char *expr);
/* Next record that passes the filter: 1 with *pkt, 0 at the end of the file, -1 when
 * the file breaks off or is damaged (in->err names where: after which frame). */
int pcapin_next(struct pcapin *in, struct pcapin_pkt *pkt);
void pcapin_close(struct pcapin *in);

#endif
