/* The server configuration shared by `policy`, `cert pick` and `serve`.
 *
 * One JSON file (docs/formats.md) describes a remote-access server: its settings, the
 * ordered remote-access policies with their profiles, groups (nestable) and local users,
 * and the certificate store. config_load validates every value and reports each problem
 * as "FILE:LINE:COL: key.path: reason". Everything the evaluator needs per attempt is
 * precomputed here (compiled patterns, time grids, group closures, a user index), so an
 * evaluation allocates nothing.
 */
#ifndef VNET_CONFIG_H
#define VNET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "policy/ipfilter.h"

/* ---- enumerations (bit numbers of the *_mask fields) ---------------------------- */
/* AUTH_MACHINE_CERT: an IKEv2 client authenticated by its machine certificate (RRAS:
 * "Allow machine certificate authentication for IKEv2"), no EAP. */
enum auth_method { AUTH_PAP, AUTH_SPAP, AUTH_CHAP, AUTH_MSCHAP, AUTH_MSCHAPV2, AUTH_EAP,
	AUTH_NONE, AUTH_MACHINE_CERT, AUTH_N };
enum eap_type { EAP_TLS, EAP_PEAP, EAP_MD5, EAP_MSCHAPV2, EAP_N };
enum enc_level { ENC_NONE, ENC_BASIC, ENC_STRONG, ENC_STRONGEST, ENC_N };
enum tunnel_type { TUN_PPTP, TUN_L2TP, TUN_SSTP, TUN_IKEV2, TUN_N };
enum nas_port_type { NPT_ASYNC, NPT_SYNC, NPT_ISDN, NPT_ISDN_V120, NPT_ISDN_V110,
	NPT_VIRTUAL, NPT_PIAFS, NPT_HDLC, NPT_X25, NPT_X75, NPT_G3FAX, NPT_SDSL, NPT_ADSL_CAP,
	NPT_ADSL_DMT, NPT_IDSL, NPT_ETHERNET, NPT_XDSL, NPT_CABLE, NPT_WIRELESS_OTHER,
	NPT_WIRELESS_80211, NPT_N };
enum framed_proto { FP_PPP, FP_SLIP, FP_ARAP, FP_GANDALF, FP_XYLOGICS, FP_X75, FP_N };
enum service_type { SVT_LOGIN, SVT_FRAMED, SVT_CALLBACK_LOGIN, SVT_CALLBACK_FRAMED, SVT_OUTBOUND,
	SVT_ADMINISTRATIVE, SVT_NAS_PROMPT, SVT_AUTHENTICATE_ONLY, SVT_CALLBACK_NAS_PROMPT, SVT_N };
enum lan_proto { LAN_IP, LAN_IPX, LAN_APPLETALK, LAN_NETBEUI, LAN_N };
enum dialin { DIALIN_POLICY, DIALIN_ALLOW, DIALIN_DENY };
enum multilink_mode { ML_SERVER, ML_DENY, ML_ALLOW };
enum ip_assign { IPA_SERVER, IPA_MUST_SUPPLY, IPA_CLIENT_MAY_REQUEST };
enum addr_assign { ADDR_POOL, ADDR_DHCP };
enum auth_provider { PROV_WINDOWS, PROV_RADIUS };

/* Condition attributes (the WS2003 IAS names). */
enum cond_attr { CA_WINDOWS_GROUPS, CA_DAY_AND_TIME, CA_NAS_PORT_TYPE, CA_TUNNEL_TYPE,
	CA_FRAMED_PROTOCOL, CA_SERVICE_TYPE, CA_CALLED_STATION_ID, CA_CALLING_STATION_ID,
	CA_CLIENT_IP_ADDRESS, CA_CLIENT_VENDOR, CA_CLIENT_FRIENDLY_NAME, CA_NAS_IDENTIFIER,
	CA_NAS_IP_ADDRESS, CA_MS_RAS_VENDOR, CA_AUTHENTICATION_TYPE, CA_N };

/* Value names, index = enum value; NULL-terminated. */
extern const char *const auth_method_names[];
extern const char *const eap_type_names[];
extern const char *const enc_level_names[];
extern const char *const tunnel_names[];
extern const char *const nas_port_type_names[];
extern const char *const framed_proto_names[];
extern const char *const service_type_names[];
extern const char *const lan_proto_names[];
extern const char *const dialin_names[];
extern const char *const multilink_names[];
extern const char *const ip_assign_names[];
extern const char *const cond_attr_names[];
/* Index of `s` in a NULL-terminated name table (ASCII case-insensitive), or -1. */
int name_index(const char *const *names, const char *s);
/* "a, b, c" of a mask over a name table, into buf. "(none)" when empty. */
const char *mask_str(const char *const *names, uint32_t mask, char *buf, size_t bufsz);

/* ---- time windows: a week of minutes, Sunday 00:00 = minute 0 -------------------- */
#define WEEK_MINUTES (7 * 24 * 60)
struct week_grid {
	uint8_t bits[WEEK_MINUTES / 8];
};
static inline bool week_grid_has(const struct week_grid *g, unsigned minute)
{
	return minute < WEEK_MINUTES && (g->bits[minute >> 3] >> (minute & 7)) & 1;
}
/* Parse one window ("Mon-Fri 08:00-18:00", "Sat,Sun", "Fri 22:00-06:00" (runs past
 * midnight into Saturday), "all") and set its minutes in g. Returns 0, or -1 with a
 * reason in err. */
int week_grid_add(struct week_grid *g, const char *text, char *err, size_t errsz);
/* Days and hours as text, for traces ("Mon-Fri 08:00-18:00"); "all week" / "never". */
const char *week_grid_str(const struct week_grid *g, char *buf, size_t bufsz);

/* ---- IPv4 ranges ------------------------------------------------------------------ */
struct ip_range {
	uint32_t start, end; /* host order, inclusive */
};
/* Addresses in all ranges; the idx-th of them (0-based, in range order; 0 past the end);
 * where an address stands among them (false when in none). */
uint64_t ip_ranges_size(const struct ip_range *r, size_t n);
uint32_t ip_ranges_nth(const struct ip_range *r, size_t n, uint64_t idx);
bool ip_ranges_index(const struct ip_range *r, size_t n, uint32_t a, uint64_t *idx);
/* Parse dotted IPv4; 0 on success. */
int ipv4_parse(const char *s, uint32_t *out);
const char *ipv4_str(uint32_t a, char *buf, size_t bufsz);

/* ---- configuration ------------------------------------------------------------------ */
struct group {
	char *name;
	size_t *member_of;  /* indices of the groups it belongs to directly */
	size_t nmember_of;
};

struct condition {
	enum cond_attr attr;
	char *text;          /* the value or pattern as written, for traces */
	bool is_pattern;     /* "pattern": PCRE2, case-insensitive, unanchored search */
	void *re;            /* pcre2_code * when is_pattern */
	size_t re_slot;      /* evaluation cache slot shared by equal (attr, pattern) */
	uint32_t mask;       /* enum attributes: accepted values */
	size_t *groups;      /* Windows-Groups: group indices (any of) */
	size_t ngroups;
	struct week_grid *grid; /* Day-And-Time-Restrictions */
	char *path;          /* config key path: "policies[0].conditions[1]" */
	char *pointer;       /* JSON pointer of the condition, for positions */
};

struct profile {
	uint32_t auth_mask;       /* enum auth_method bits */
	uint32_t eap_mask;        /* enum eap_type bits */
	uint32_t enc_mask;        /* enum enc_level bits */
	enum multilink_mode multilink;
	int multilink_max_ports;  /* 0: no limit */
	bool bap_required;
	struct week_grid *day_time; /* NULL: any time */
	int idle_timeout;         /* minutes, 0: none */
	int session_timeout;      /* minutes, 0: none */
	uint32_t nas_port_mask;   /* 0: any */
	uint32_t tunnel_mask;     /* 0: any */
	char *called_station_id;  /* pattern or NULL */
	void *called_re;
	enum ip_assign ip_assignment;
	char **filters_in, **filters_out;
	size_t nfilters_in, nfilters_out;
	struct ipfilter fin, fout;   /* the filters compiled (ipfilter.h) */
	bool ignore_user_dialin;
};

struct policy {
	char *name;
	bool enabled;
	bool grant;
	struct condition *conds;
	size_t nconds;
	struct profile profile;
	char *path;          /* "policies[2]" */
};

struct user {
	char *name;
	char *password;      /* NULL: not configured (any password accepted) */
	size_t *groups;      /* direct groups (indices) */
	size_t ngroups;
	uint64_t *closure;   /* every group it belongs to, nested (bitset, config->group_words) */
	enum dialin dialin;
	bool has_static_ip;
	uint32_t static_ip;
	char *caller_id;     /* verify caller-ID: the Calling-Station-Id must equal it */
	bool disabled, locked, password_expired;
	struct week_grid *logon_hours; /* NULL: always */
	char *path;          /* "users[3]" */
};

/* RFC 5176 Dynamic Authorization (server.radius.dynamic_authorization): the listener
 * that takes Disconnect-Request and CoA-Request from a Dynamic Authorization Server. */
struct nps_client;
struct radius_dae_conf {
	bool on;
	char *listen;             /* "ADDR[:PORT]" as written, NULL: the L2TP listener's address */
	struct nps_client *clients;/* who may ask; without "clients": the RADIUS servers */
	size_t nclients;
	bool require_msg_auth;    /* a request without Message-Authenticator is dropped */
	bool require_timestamp;   /* a request without Event-Timestamp gets NAK 402 */
	int window;               /* seconds an Event-Timestamp may differ from the clock */
	int cache;                /* answers kept for retransmitted requests */
};
#define RADIUS_DAE_PORT 3799

/* The RADIUS client's settings beside the servers (server.radius). */
struct radius_client_conf {
	char *nas_identifier;     /* NULL: serve.host_name or server.name */
	bool has_nas_ip;
	uint32_t nas_ip;          /* NAS-IP-Address (host order), else the listener's */
	int dead_time;            /* seconds a server that did not answer is skipped */
	int interim;              /* Acct-Interim-Interval in seconds, 0 none */
	char *queue;              /* accounting kept while no server answers: as written */
	char *queue_path;         /* resolved against the configuration's directory */
	int queue_max;            /* records kept at most */
	struct radius_dae_conf dae;
};
struct server {
	char *name;
	bool service_running, remote_access_enabled;
	enum auth_provider auth_provider;
	uint32_t auth_mask, eap_mask, enc_mask;
	bool multilink, bap;
	int ports[TUN_N], ports_in_use[TUN_N];
	uint32_t lan_mask;
	enum addr_assign addr_assign;
	struct ip_range *pool;
	size_t npool;
	bool dhcp_reachable;
	int dhcp_free;            /* addresses the DHCP scope can still lease */
	int addresses_in_use;     /* client addresses already handed out */
	bool allow_requested_ip;  /* server-wide: clients may ask for an address */
	uint32_t *addresses;      /* the server's own interface addresses */
	size_t naddresses;
	struct ip_range *routes;  /* networks the server routes for clients */
	size_t nroutes;
	/* what the knowledge base needs beyond the policy decision (docs/formats.md) */
	bool ports_inbound[TUN_N];   /* the ports of each type accept inbound remote access */
	char *l2tp_psk;              /* custom IPsec policy for L2TP with this key; NULL: none */
	struct radius_server *radius;/* RADIUS servers (auth_provider radius), by priority */
	size_t nradius;
	struct radius_client_conf radius_conf;
	bool ad_registered;          /* in the RAS and IAS Servers group of its domain */
	int os;                      /* enum server_os */
	bool internet_filters;       /* static filters on the Internet interface (ICMP dropped) */
	bool ipx_client_node;        /* clients may request their own IPX node number */
	bool has_ipx_networks;       /* a range of IPX network numbers for clients */
	uint32_t ipx_net_from, ipx_net_to;
};

/* A RADIUS server `vnet serve` asks (server.auth_provider radius, server.radius). */
struct radius_server {
	char *address;            /* as written: an IPv4 or IPv6 address */
	char *secret;
	int port, acct_port;      /* 1812, 1813 */
	int timeout_ms;           /* before a retransmission (server.radius.servers[].timeout) */
	int retries;              /* retransmissions before the next server is tried */
	int priority;             /* lower first; equal ones in the order written */
	char *path;               /* "server.radius.servers[0]" */
};
/* A RADIUS client of vnet's own RADIUS server (serve.radius_server.clients). */
struct nps_client {
	char *name;               /* Client-Friendly-Name */
	char *address;            /* as written */
	int family;               /* AF_INET: net; AF_INET6: addr6 */
	struct ip_range net;      /* IPv4 network the client's datagrams come from */
	uint8_t addr6[16];
	char *secret;
	char *path;               /* "serve.radius_server.clients[0]" */
};

enum server_os { OS_NT4, OS_2000, OS_2003, OS_2008, OS_2008R2, OS_2012, OS_2012R2, OS_2016,
	OS_2019, OS_2022, OS_2025, OS_N };
extern const char *const server_os_names[];

/* A demand-dial interface of the server as a router (Routing and Remote Access, Network
 * Interfaces): a calling router whose user name equals `name` is connected to it. */
struct demand_dial {
	char *name;
	uint32_t lan_mask;           /* routed protocols the interface is added to */
	struct ip_range *routes;     /* static routes over the interface */
	size_t nroutes;
	int routing;                 /* 0 none, 1 RIP, 2 OSPF */
	char **filters_in, **filters_out;
	size_t nfilters_in, nfilters_out;
	struct ipfilter fin, fout;
	char *path;                  /* "demand_dial[0]" */
};
extern const char *const routing_names[];

struct certs_conf {
	char *store;      /* as written, NULL when absent */
	char *client_ca;
	char *server_name;
	char *store_path; /* resolved against the configuration's directory */
	char *client_ca_path;
};

/* The "serve" section: how `vnet serve` runs (docs/formats.md). Durations in seconds. */
struct serve_conf {
	char *listen;             /* "ADDR[:PORT]", NULL: 127.0.0.1:1701 */
	char *host_name;          /* L2TP Host Name, NULL: server.name */
	bool has_local_address;
	uint32_t local_address;   /* the server's IPCP address (host order) */
	uint32_t dns[2], wins[2]; /* 0: not offered */
	char *accounting;         /* as written */
	char *accounting_path;    /* resolved against the configuration's directory */
	char *tun;                /* TUN interface name, NULL: no TUN */
	/* L2TP */
	char *secret;             /* tunnel authentication, NULL: none */
	bool hide_avps;
	int hello_interval, retries, rto_max;
	/* PPTP (serve.pptp): off unless a listen address is given here or by --pptp-listen */
	char *pptp_listen;        /* "ADDR[:PORT]" (IPv4, port 1723 by default), NULL: off */
	int pptp_connections;     /* control connections at most */
	int pptp_calls;           /* calls per control connection, 1..SERVE_PPTP_CALLS_MAX */
	/* PPP */
	int mru,                  /* 576..SERVE_MRU_MAX */
	    echo_interval, echo_failures, auth_retries, auth_timeout;
	bool ipv6;                /* negotiate IPV6CP (link-local identifiers only) */
	/* limits */
	int max_tunnels, max_sessions, max_half_open, new_tunnels_per_source;
	/* the RADIUS server (serve.radius_server), NULL listen: none */
	char *radius_listen, *radius_acct_listen;
	struct nps_client *nps_clients;
	size_t nnps_clients;
	int radius_cache;         /* answers kept for duplicate requests */
	int radius_eap_conversations; /* EAP conversations (State) open at once */
	int radius_eap_timeout;   /* seconds a conversation waits for its next request */
	/* L2TP/IPsec (serve.ipsec): IKEv1 and ESP in front of the L2TP listener */
	bool ipsec;               /* the section is present */
	char *ipsec_listen;       /* the address IKE and ESP are received on, NULL: the L2TP
	                             listener's */
	int ike_port, natt_port;  /* 500, 4500 */
	char *ipsec_psk;          /* serve.ipsec.psk, else server.l2tp_psk (NULL: none) */
	uint32_t ipsec_auth;      /* 1 << IPSEC_AUTH_*: Main Mode authentication accepted */
	char *ipsec_phase1, *ipsec_phase2; /* proposal lists (engine/ike/ikev1.h syntax), NULL:
	                             the Windows-compatible defaults */
	bool ipsec_natt;          /* answer NAT traversal (UDP 4500) */
	bool ipsec_required;      /* L2TP only inside IPsec: plain L2TP datagrams are refused */
	int ipsec_sas, ipsec_half_open; /* IKE SAs at most, and of those not yet established */
	int ipsec_dh_reuse;       /* seconds a DH key pair may serve further exchanges of its
	                             group (IKEv1 and IKEv2), 0: a fresh pair per exchange */
	/* IKEv2 remote access (serve.ikev2): Windows' IKEv2 VPN with EAP-MSCHAPv2, on the IKE
	 * ports above (shared with L2TP/IPsec; set from serve.ikev2 when serve.ipsec is absent) */
	bool ikev2;               /* the section is present */
	uint8_t ikev2_auth;       /* enum ipsec_auth: how the server proves itself */
	char *ikev2_psk;          /* IPSEC_AUTH_PSK: the key (tests, non-Windows clients) */
	char *ikev2_id;           /* the identity the server gives (IDr, an FQDN), NULL: derived */
	char *ikev2_ike, *ikev2_esp; /* proposal lists (engine/ike/ikev2.h syntax), NULL: defaults */
	uint32_t ikev2_dns[2];    /* INTERNAL_IP4_DNS, 0: serve.dns */
	int ikev2_fragment_size;  /* largest IPv4 datagram of IKE before fragmenting (RFC 7383) */
	int ikev2_dpd;            /* seconds of silence before a liveness check, 0 off */
	int ikev2_ike_lifetime;   /* seconds: the IKE SA's hard lifetime (28800) */
	int ikev2_child_lifetime; /* seconds: a child SA's hard lifetime (3600) */
	bool ikev2_rekey;         /* the server rekeys children before their lifetime ends */
	int8_t ikev2_machine_certs; /* clients' machine certificates: 1 taken, 0 refused, -1
	                             (absent) taken when the certificate store trusts a CA */
	int ikev2_sas, ikev2_half_open; /* IKEv2 SAs at most, and of those half open */
	int ikev2_cookie_threshold; /* half-open SAs from which a COOKIE is demanded */
};

/* serve.ipsec.auth: a pre-shared key, certificates (the machine certificate `vnet cert
 * pick --purpose l2tp` chooses from certs.store, the clients' from the store's CAs). */
enum ipsec_auth { IPSEC_AUTH_PSK, IPSEC_AUTH_CERT };
extern const char *const ipsec_auth_names[];

/* The largest serve.ppp.mru: the RFC 1661 default MRU, and what a frame of the server's
 * data path holds (its buffers are sized from this: see tools/server.c). An MRU above
 * the 1500 bytes of an Ethernet path would only make the client fragment the UDP
 * datagrams that carry L2TP. */
#define SERVE_MRU_MAX 1500
/* The most calls one PPTP control connection may carry (engine/pptp/pptp_ctrl.h). */
#define SERVE_PPTP_CALLS_MAX 8

struct config {
	char *file;            /* path given, or "(embedded)samples/vnet.json" */
	char *text;            /* the JSON text (for positions) */
	size_t text_len;
	struct server server;
	struct group *groups;
	size_t ngroups;
	size_t group_words;    /* uint64_t words per closure bitset */
	struct policy *policies;
	size_t npolicies;
	struct user *users;
	size_t nusers;
	struct certs_conf certs;
	struct serve_conf serve;
	struct demand_dial *dd;  /* demand-dial interfaces */
	size_t ndd;
	bool pre2000_everyone;   /* domain: Everyone in Pre-Windows 2000 Compatible Access */
	char **computer_names;   /* network: names of the computers already on it */
	size_t ncomputer_names;
	uint32_t *ipx_networks;  /* network: IPX network numbers in use on it */
	size_t nipx_networks;
	size_t nre_slots;      /* distinct (attribute, pattern) pairs */
	size_t max_conds;      /* the most conditions any policy has */
	/* policy index for decisions without a full trace: enabled policies without a
	 * Windows-Groups condition, and per group the enabled policies whose first
	 * Windows-Groups condition accepts that group (bitsets of pol_words words) */
	size_t pol_words;
	uint64_t *pol_nogroup;
	uint64_t *group_pol;   /* ngroups * pol_words */
	/* user index: open addressing on the lower-cased name */
	size_t *uindex;
	size_t uindex_cap;
};

/* One problem found while loading; line/col are 1-based (0 when unknown). */
struct config_problem {
	int line, col;
	char *msg;             /* "policies[1].profile.encryption: \"x\" is not one of ..." */
};
struct config_problems {
	struct config_problem *v;
	size_t n, cap;
	bool unreadable; /* the file could not be read or is not JSON at all */
};
void config_problems_free(struct config_problems *p);
void config_problem_add(struct config_problems *p, int line, int col, const char *msg);
/* Print each as "vnet: FILE:LINE:COL: msg" on stderr. */
void config_problems_print(const struct config_problems *p, const char *file);

/* Load from a file, from memory (name used in messages), or the default (`path` NULL:
 * the embedded samples/vnet.json). Returns NULL when any problem was found; every
 * problem is appended to `probs`. */
struct config *config_load_file(const char *path, struct config_problems *probs);
struct config *config_load_mem(const char *name, const char *text, size_t len,
                               struct config_problems *probs);
struct config *config_load(const char *path_or_null, struct config_problems *probs);
void config_free(struct config *c);

/* The demand-dial interface with this name (case-insensitive), or NULL. */
const struct demand_dial *config_find_demand_dial(const struct config *c, const char *name);
/* Parse a CIDR network ("10.0.0.0/8"; a bare address is a /32); 0 on success. */
int config_cidr_parse(const char *s, struct ip_range *r);

/* The user with this name (case-insensitive), or NULL. */
const struct user *config_find_user(const struct config *c, const char *name);
/* Index of the group with this name (case-insensitive), or -1. */
long config_find_group(const struct config *c, const char *name);
/* Compute a group closure bitset (config->group_words words) from direct groups. */
void config_group_closure(const struct config *c, const size_t *direct, size_t n,
                          uint64_t *out);
/* Parse a user object that is not part of the configuration (an attempt's inline user),
 * against the configuration's groups. `text`/`len` is the document it came from and
 * `path`/`pointer` where it sits, for problem positions. 0 on success; -1 with problems. */
struct json_t;
int config_parse_user(const struct config *c, struct json_t *obj, const char *text,
                      size_t len, const char *path, const char *pointer, struct user *out,
                      struct config_problems *probs);
void config_user_free(struct user *u);
/* The line and column of a JSON pointer within the configuration text (0 when absent). */
void config_pos(const struct config *c, const char *pointer, int *line, int *col);

#endif
