/* The one table of vnet commands. Help, usage errors, prefix matching, the man page and
 * the completions are checked against it (tests/check-completions). Each command group
 * owns its own entries: edit only your group's block. */
#include <stddef.h>
#include "cmd.h"

const struct opt vnet_global_opts[] = {
	{"--json", NULL, "print machine-readable JSON instead of text"},
	{"--config", "FILE", "server configuration (default: the embedded one)"},
	{"--rules", "DIR", "knowledge-base directory (default: the embedded rules)"},
	{"--no-color", NULL, "never colour the output"},
	{"--help", NULL, "show help for the command"},
	{NULL, NULL, NULL},
};

/* ---- policy ---- */
static const struct opt policy_test_opts[] = {
	{"-v", NULL, "also show conditions of policies after the deciding one"},
	{"--brief", NULL, "one line per attempt: the decision, error, reason and session"},
	{"--summary", NULL, "end with counts per decision, reason, policy and error"},
	{NULL, NULL, NULL},
};
static const struct cmd policy_cmds[] = {
	{"test", "evaluate remote-access policies for connection attempts", "ATTEMPT.json...",
	 policy_test_opts, cmd_policy_test, NULL,
	 "Evaluates each attempt (a JSON object, an array of them, or JSON lines) against the\n"
	 "configuration's ordered policies, the user's dial-in settings, the profile and the\n"
	 "server, and prints the decision, the Windows error the client would see and the trace.\n"
	 "Attempts are read, decided and printed one at a time, so a file or a pipe of any\n"
	 "length is replayed in bounded memory; with --json several attempts give one JSON\n"
	 "line each, in input order. An invalid attempt is reported (FILE:LINE:COL) and\n"
	 "skipped. Exit status: 0 all accepted, 1 any rejected, 2 bad input.",
	 1, -1},
	{"show", "print the effective policies of the configuration", "", NULL,
	 cmd_policy_show, NULL,
	 "Prints the policies in evaluation order with their conditions and profiles, and\n"
	 "what remains of each profile's methods and levels once the server's own settings\n"
	 "are taken into account.",
	 0, 0},
	{"check", "validate a configuration without an attempt", "", NULL, cmd_policy_check,
	 NULL,
	 "Reports unreachable policies, patterns that do not compile, unknown attributes and\n"
	 "address pools that overlap server addresses. Exit status 0 clean, 1 problems found.",
	 0, 0},
	{NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
};

/* ---- cert ---- */
static const struct opt cert_pick_opts[] = {
	{"--store", "DIR", "the server's machine certificate store"},
	{"--client-ca", "FILE|DIR", "CA certificates the clients trust"},
	{"--server-name", "NAME", "the name clients dial"},
	{"--at", "TIME", "evaluate validity at TIME (ISO 8601; default now)"},
	{"--purpose", "l2tp|ikev2|sstp|iphttps", "what the certificate is picked for (default l2tp)"},
	{"--fix", NULL, "show how to make the pick work for clients"},
	{"--endpoint", "ADDR", "the server's address, for the manual IPsec rule in --fix"},
	{"--pass", "PASSWORD", "password of PKCS#12 bundles (or VNET_P12_PASS)"},
	{NULL, NULL, NULL},
};
static const struct cmd cert_cmds[] = {
	{"pick", "show which certificate the server uses for IPsec, and whether clients accept it",
	 "--store DIR [options]", cert_pick_opts, cmd_cert_pick, NULL,
	 "Walks the store in order as the server does, names the certificate it takes and\n"
	 "why each earlier one was passed over, then checks it from the client's side.\n"
	 "The store holds certificates, keys and PKCS#12 bundles; CA certificates go in\n"
	 "roots/ and intermediates/; a store.order file fixes the order (else file names).\n"
	 "Without --store, the configuration's certs section is used. See docs/cert.md.\n"
	 "Exit status: 0 clients accept the pick, 1 they do not, 2 usage or input error.",
	 0, 0},
	{NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
};

/* ---- pcap ---- */
static const struct opt pcap_decode_opts[] = {
	{"-v", NULL, "print each packet as a tree (-vv: every field)"},
	{"-c", "COUNT", "stop after COUNT packets"},
	{"--filter", "BPF", "decode only packets matching the BPF expression"},
	{NULL, NULL, NULL},
};
static const struct opt pcap_explain_opts[] = {
	{"--session", "ID", "explain only this session"},
	{"--keys", "FILE", "IKEv1/IKEv2 and ESP keys (Wireshark tables, ip xfrm state; docs/keys.md)"},
	{"-v", NULL, "show every phase, also of successful sessions"},
	{NULL, NULL, NULL},
};
static const struct cmd pcap_cmds[] = {
	{"decode", "decode IKE, L2TP, PPTP, PPP and RADIUS packets of a capture", "FILE|-",
	 pcap_decode_opts, cmd_pcap_decode, NULL,
	 "Reads a pcap or pcapng file (- for standard input) and prints one line per packet:\n"
	 "frame, seconds since the first packet, source > destination and the decoded layers\n"
	 "(IKE, NAT-T, ESP, L2TP, PPTP, GRE, PPP, RADIUS). IP fragments are reassembled and\n"
	 "PPTP control messages are cut from the TCP stream; malformed data is shown at the\n"
	 "byte where it breaks and decoding goes on. -v adds a tree of each layer's fields,\n"
	 "-vv also the link, IP, UDP and TCP headers; --json prints one object per line.\n"
	 "Frames of link types other than Ethernet, Linux cooked, raw IP, loopback and PPP\n"
	 "are skipped with one warning. A file that breaks off is decoded up to the break,\n"
	 "which is reported on stderr. Exit status: 0 decoded, 2 unreadable input, a capture\n"
	 "that breaks off, or a bad filter.",
	 1, 1},
	{"explain", "follow each VPN session across layers and say where and why it failed",
	 "FILE|-", pcap_explain_opts, cmd_pcap_explain, NULL, NULL, 1, 1},
	{NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
};

/* ---- knowledge base ---- */
static const struct opt error_opts[] = {
	{"--list", NULL, "list every Windows error code vnet knows"},
	{NULL, NULL, NULL},
};
static const struct cmd rules_cmds[] = {
	{"list", "list the rules of the knowledge base", "", NULL, cmd_rules_list, NULL, NULL,
	 0, 0},
	{"show", "print one rule", "ID", NULL, cmd_rules_show, NULL, NULL, 1, 1},
	{"check", "validate a rules directory", "[DIR]", NULL, cmd_rules_check, NULL, NULL, 0,
	 1},
	{NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
};

/* ---- server ---- */
static const struct opt serve_opts[] = {
	{"--listen", "ADDR[:PORT]", "address to listen on (default 127.0.0.1)"},
	{"--capture", "FILE", "write every packet sent and received to a pcap file"},
	{"--control", "PATH", "control socket path"},
	{"--accounting", "FILE", "append accounting records (JSON lines) to FILE"},
	{"-d", "CATEGORIES", "debug log categories (l2tp,ppp,policy,...)"},
	{NULL, NULL, NULL},
};
static const struct opt control_opts[] = {
	{"--control", "PATH", "control socket of the running server"},
	{NULL, NULL, NULL},
};

const struct cmd vnet_commands[] = {
	{"policy", "evaluate and inspect remote-access policies", "test|show|check ...", NULL,
	 NULL, policy_cmds, NULL, 0, 0},
	{"cert", "machine certificate selection for L2TP/IPsec and IKEv2", "pick ...", NULL, NULL,
	 cert_cmds, NULL, 0, 0},
	{"pcap", "decode and explain captures", "decode|explain ...", NULL, NULL, pcap_cmds, NULL,
	 0, 0},
	{"serve", "run the reference remote-access server", "[options]", serve_opts, cmd_serve,
	 NULL, NULL, 0, 0},
	{"error", "explain a Windows remote-access error code", "CODE | --list", error_opts,
	 cmd_error, NULL, NULL, 0, 1},
	{"rules", "list, show and check the knowledge base", "list|show|check ...", NULL, NULL,
	 rules_cmds, NULL, 0, 0},
	{"show", "show sessions, tunnels, ports, pool or stats of a running server",
	 "sessions|tunnels|ports|pool|stats", control_opts, cmd_show, NULL, NULL, 1, 1},
	{"disconnect", "disconnect a session of a running server", "SESSION", control_opts,
	 cmd_disconnect, NULL, NULL, 1, 1},
	{"help", "show help for vnet or a command", "[COMMAND...]", NULL, NULL, NULL, NULL, 0, -1},
	{NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
};
