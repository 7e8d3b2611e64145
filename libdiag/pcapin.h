/* Reading captures: pcap and pcapng files, "-" for stdin.
 *
 * Both formats are read here, record by record, with every length checked against the
 * file and a bound before it is used. A pcapng file may describe several interfaces of
 * different link types (Ethernet and raw IP, say, when captures are merged); each
 * record carries the link type of its own interface. libpcap is used for BPF filters
 * only, compiled once per link type met.
 *
 * The frame number counts every record in the file, also those a filter skips, so
 * numbers match other tools; times are relative to the first record.
 */
#ifndef VNET_PCAPIN_H
#define VNET_PCAPIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pcap/pcap.h>

#define PCAPIN_MAX_IFACES 256        /* interfaces per pcapng section */
#define PCAPIN_MAX_LINKS 16          /* link types one filter is compiled for */
#define PCAPIN_MAX_CAPLEN 262144u    /* bytes of one classic pcap record */
#define PCAPIN_MAX_BLOCK (16u << 20) /* bytes of one pcapng block */

struct pcapin_iface {
	int dlt;                   /* link type as written (LINKTYPE_*) */
	uint32_t snaplen;
	bool res_pow2;             /* timestamp units: 2^-res (else 10^-res) seconds */
	uint8_t res;
	int64_t ts_offset;         /* seconds added to every timestamp */
};

struct pcapin_filter {
	int dlt;
	bool ok;
	struct bpf_program prog;
};

struct pcapin {
	FILE *fp;
	bool ng;                   /* pcapng */
	bool swap;                 /* the file (section) is in the other byte order */
	bool nano;                 /* classic pcap: nanosecond timestamps */
	bool kuznetzov;            /* classic pcap with the longer record header */
	int dlt;                   /* link type of the first interface (-1 not known yet) */
	uint32_t snaplen;          /* classic pcap */
	struct pcapin_iface ifs[PCAPIN_MAX_IFACES];
	size_t nifs;
	int seen_dlts[PCAPIN_MAX_LINKS]; /* link types returned so far (new_link) */
	size_t nseen;
	char *filter;              /* the BPF expression, compiled per link type */
	struct pcapin_filter flt[PCAPIN_MAX_LINKS];
	size_t nflt;
	uint8_t *buf;              /* the current record */
	size_t cap;
	bool pending;              /* buf holds a pcapng block read ahead by the open */
	uint32_t pend_type, pend_len;
	uint64_t off;              /* bytes consumed */
	uint8_t pre[8];            /* bytes read by the open and put back */
	size_t npre;
	uint64_t frame;            /* number of the last record read (1-based) */
	uint64_t first_ns;         /* absolute time of the first record */
	uint64_t last_ns;          /* and of the last one read */
	bool have_first;
	char err[PCAP_ERRBUF_SIZE + 160];
};

struct pcapin_pkt {
	uint64_t frame;
	uint64_t ts_ns;            /* absolute, nanoseconds since the epoch */
	uint64_t rel_ns;           /* since the first record */
	const uint8_t *data;       /* valid until the next pcapin_next */
	size_t caplen, origlen;
	int dlt;                   /* link type of the record's interface */
	bool new_link;             /* the first record returned with this link type */
	uint32_t iface;            /* pcapng interface (0 for classic pcap) */
};

/* Open FILE ("-" = stdin). 0 ok, -1 with in->err (without the file name: callers name
 * it). */
int pcapin_open(struct pcapin *in, const char *path);
/* The same over an open stream (the capture owns and closes it, also on failure). */
int pcapin_open_file(struct pcapin *in, FILE *fp);
/* Install a BPF filter. It is compiled now for the first interface's link type (or
 * Ethernet when none is known yet) to catch a bad expression at once, and again for
 * each other link type when its first record comes. 0 ok, -1 with in->err (libpcap's
 * message). */
int pcapin_set_filter(struct pcapin *in, const char *expr);
/* Next record that passes the filter: 1 with *pkt, 0 at the end of the file, -1 when
 * the file breaks off or is damaged (in->err says where: after which frame, at which
 * byte offset). */
int pcapin_next(struct pcapin *in, struct pcapin_pkt *pkt);
/* Bytes of the file consumed so far (for progress). */
uint64_t pcapin_offset(const struct pcapin *in);
void pcapin_close(struct pcapin *in);

#endif
