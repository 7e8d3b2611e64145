/* Connection attempts: what a client presents to the server (docs/formats.md, "user.json").
 *
 * An attempt file holds one JSON object, an array of them, or JSON lines (one object per
 * line). Each attempt names a user of the configuration or carries a whole user object
 * inline. Values are checked here, so the evaluator only sees valid enums and addresses.
 */
#ifndef VNET_ATTEMPT_H
#define VNET_ATTEMPT_H

#include <stdbool.h>
#include <stdint.h>
#include "policy/config.h"

/* What the server's authenticator found, when it did not find the password right. */
enum attempt_cred {
	ATTEMPT_CRED_CHECK = 0,   /* the engine compares `password` (files, or a match) */
	ATTEMPT_CRED_WRONG,       /* the password does not match */
	ATTEMPT_CRED_UNCHECKED,   /* it could not be checked: no password the server can use */
};

struct attempt {
	char *label;              /* "name" of the attempt, or NULL */
	char *file;               /* the file it came from (evidence), may be NULL */
	char *pointer;            /* JSON pointer of the attempt in the file ("" or "/2") */
	int line;                 /* line where the attempt starts (1-based, 0 unknown) */
	bool several;             /* one of several attempts in its file (an array, JSON lines) */
	char *user_name;
	struct user *inline_user; /* owned; NULL when the user is looked up by name */
	char *password;           /* NULL: credentials are not checked */
	uint8_t cred_failed;      /* set by the server (engine/policy/admit.c), enum attempt_cred: its
	                             authenticator found the password wrong or could not check
	                             it; the credentials step fails whatever `password` says */
	char time_text[24];       /* "2026-11-23T09:30" as given */
	unsigned minute_of_week;  /* Sunday 00:00 = 0 */
	int64_t local_epoch;      /* the local clock time read as UTC seconds */
	enum tunnel_type tunnel;
	enum auth_method auth;
	int eap_type;             /* enum eap_type, -1 when auth is not EAP */
	enum enc_level encryption;
	char *calling_station_id, *called_station_id;
	char *client_ip, *nas_ip, *nas_identifier;
	char *client_vendor, *client_friendly_name, *ms_ras_vendor;
	enum nas_port_type nas_port_type;
	int framed_protocol;      /* enum framed_proto, -1 absent */
	enum service_type service_type;
	int links;
	bool bap;
	bool has_requested_ip;
	uint32_t requested_ip;
	uint32_t protocols;       /* enum lan_proto bits the client asks for */
	/* docs/formats.md: what the knowledge base needs beyond the policy decision */
	bool automatic;           /* tunnel "automatic": the client tries types in turn */
	int client_os;            /* enum client_os: the order of the automatic tries */
	char *l2tp_psk;           /* the client's pre-shared key for L2TP/IPsec; NULL: certificate */
	char *computer_name;      /* the client computer's name */
	bool request_ipx_node;    /* the client asks for its own IPX node number */
	int ping_fails;           /* -1 not stated, else 0/1: ping to the server gets no answer */
	bool router;              /* the caller is a demand-dial router */
	struct ip_range *networks;/* a router's networks behind it */
	size_t nnetworks;
	struct traffic *traffic;  /* packets the client sends once connected */
	size_t ntraffic;
};

/* One packet of "traffic": "tcp 10.1.2.3 port 445", "icmp 10.1.2.3". */
struct traffic {
	char *text;
	int proto;                /* IP protocol number */
	uint32_t addr;            /* destination, host order */
	int port;                 /* destination port, -1 none */
};
#define ATTEMPT_MAX_TRAFFIC 64

enum client_os { COS_XP, COS_VISTA, COS_7 };
extern const char *const client_os_names[];
extern const char *const client_os_titles[]; /* "Windows 7 and later" */
/* The order in which a client of this system tries tunnel types when set to Automatic;
 * returns the count (at most TUN_N). */
int attempt_automatic_order(int client_os, enum tunnel_type out[TUN_N]);

struct attempt_list {
	struct attempt *v;
	size_t n;
};

/* Reading attempts one at a time, in memory bounded by the largest attempt, from a file
 * of any size or a stream (docs/formats.md, "Connection attempts"):
 *   - a JSON array: its elements, one by one;
 *   - JSON lines: when the first attempt ends on its line, every line holds one. A line
 *     that is not a valid attempt is reported and the next line is read;
 *   - otherwise JSON values one after another, each over as many lines as it likes.
 * An attempt that is not valid is reported with its line and column and skipped. Where
 * the next attempt starts cannot be known after some errors (an array or a multi-line
 * value that does not end, text after the array); the input ends there. So it does
 * after 100 invalid attempts. Attempts without "time" take the local clock. */
#define ATTEMPT_MAX_BYTES (1u << 20) /* the longest attempt read */
struct attempt_reader;
/* Read from a file descriptor (read as data arrives: a pipe is answered line by line)
 * or from memory; `name` is the file name for messages and results. */
struct attempt_reader *attempt_reader_fd(const struct config *c, const char *name, int fd);
struct attempt_reader *attempt_reader_mem(const struct config *c, const char *name,
                                          const char *text, size_t len);
/* 1: the next attempt is in *a (free it with attempt_free); 0: the input ended; -1: the
 * next attempt is not valid (or the input cannot be read, or holds no attempt at all):
 * every problem is appended to `probs` with its position, *a holds nothing, and the next
 * call goes on with the attempt after it when there is one. */
int attempt_reader_next(struct attempt_reader *r, struct attempt *a,
                        struct config_problems *probs);
/* Most attempts are read without building a JSON tree; off, every attempt goes through
 * the full parser (the tests compare both). On by default. */
void attempt_reader_set_fast(struct attempt_reader *r, bool on);
/* Call fn(arg) before each read of the file descriptor, which may wait for the writer of
 * a pipe: the caller's output goes out first. */
void attempt_reader_on_read(struct attempt_reader *r, void (*fn)(void *), void *arg);
/* Whether the input holds more than one attempt; known once the first was read. */
bool attempt_reader_several(const struct attempt_reader *r);
void attempt_reader_free(struct attempt_reader *r);

/* Parse every attempt of `text` (file name `file` for messages), at most 1,000,000.
 * Returns 0, or -1 with every problem appended to `probs` (nothing is kept then). */
int attempts_parse(const struct config *c, const char *file, const char *text, size_t len,
                   struct attempt_list *out, struct config_problems *probs);
void attempts_free(struct attempt_list *l);
/* An attempt built in code (the server): zeroed, with the defaults of the file format
 * (encryption strongest, NAS-Port-Type virtual, Framed-Protocol PPP, Service-Type framed,
 * one link, IP, MS-RAS-Vendor 311, no EAP type) and the time Sunday 00:00. Set at least
 * user_name, tunnel, auth and the time; strings are owned (attempt_free frees them). */
void attempt_init(struct attempt *a);
void attempt_free(struct attempt *a);

/* Parse "YYYY-MM-DDTHH:MM[:SS]" (a space may replace the T); 0 on success. */
int attempt_parse_time(const char *s, unsigned *minute_of_week, int64_t *epoch);

#endif
