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
	 "Reports unreachable policies, patterns that do not compile, unknown attributes,\n"
	 "address pools that overlap server addresses, profiles in conflict with the server,\n"
	 "what the server refuses whatever the attempt, and users `vnet serve` cannot log in\n"
	 "(no password; a name longer than PAP carries), then runs the knowledge base over the\n"
	 "configuration's facts and prints its diagnoses as policy test does.\n"
	 "Exit status 0 clean, 1 problems found.",
	 0, 0},
	{NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
};

/* ---- cert ---- */
static const struct opt cert_pick_opts[] = {
	{"--store", "DIR", "the server's machine certificate store"},
	{"--client-ca", "FILE|DIR", "CA certificates the clients trust"},
	{"--client-store", "DIR", "a client's computer store (L2TP: its machine certificate)"},
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
	{"--radius-secret", "SECRET", "decrypt RADIUS User-Password and MS-MPPE keys with this secret"},
	{NULL, NULL, NULL},
};
static const struct opt pcap_explain_opts[] = {
	{"--session", "ID", "explain only this session"},
	{"--keys", "FILE", "IKEv1/IKEv2 and ESP keys (Wireshark tables, ip xfrm state; docs/keys.md)"},
	{"--radius-secret", "SECRET", "check RADIUS authenticators with this shared secret"},
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
	 "A pcapng file may mix link types (one per interface). Frames of link types other\n"
	 "than Ethernet, Linux cooked, raw IP, loopback and PPP are skipped with one warning\n"
	 "per type. A file that breaks off is decoded up to the break,\n"
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
	{"--pptp-listen", "ADDR[:PORT]", "also serve PPTP: TCP on ADDR (port 1723) and GRE (root)"},
	{"--capture", "FILE", "write every packet sent and received to a pcap file"},
	{"--control", "PATH", "control socket path (default: see above)"},
	{"--accounting", "FILE", "append accounting records (JSON lines) to FILE"},
	{"-d", "CATEGORIES", "debug log categories (l2tp,ppp,policy,...)"},
	{NULL, NULL, NULL},
};
#define CTL_HELP_PATH \
	"The control socket is --control PATH, else $VNET_CONTROL, else /run/vnet/control.sock\n" \
	"for root and $XDG_RUNTIME_DIR/vnet/control.sock for other users\n" \
	"(/tmp/vnet-UID/control.sock without XDG_RUNTIME_DIR).\n"
#define CTL_HELP_PEER \
	"Only a server running as you or as root is talked to (the socket's owner and the\n" \
	"connection's credentials are checked).\n"
static const struct opt control_opts[] = {
	{"--control", "PATH", "control socket of the running server (default: see above)"},
	{NULL, NULL, NULL},
};

/* ---- configuration editing and the shell ---- */
static const struct opt config_add_opts[] = {
	{"--password", "PASSWORD", "user: the account's password"},
	{"--dialin", "allow|deny|policy", "user: remote access permission (default policy)"},
	{"--groups", "GROUP,...", "user: direct groups; policy: a Windows-Groups condition"},
	{"--member-of", "GROUP,...", "group: the groups it belongs to"},
	{"--permission", "grant|deny", "policy: remote access permission (default grant)"},
	{"--condition", "JSON", "policy: a condition object or an array of them"},
	{"--profile", "JSON", "policy: the profile object"},
	{"--disabled", NULL, "policy: add it disabled"},
	{"--before", "POLICY", "policy: insert it before this policy (default: last)"},
	{NULL, NULL, NULL},
};
static const struct cmd config_cmds[] = {
	{"set", "set a configuration key", "KEY VALUE", NULL, cmd_config_set, NULL,
	 "KEY is a path of names and indices: server.ports.l2tp, policies[0].enabled, or a\n"
	 "list element by name: 'users[alice].dialin'. VALUE is JSON when it reads as JSON\n"
	 "(5, true, [\"pap\",\"chap\"], {...}) and a string otherwise; write '\"5\"' for the\n"
	 "string 5. Missing objects on the way are created. The configuration (--config FILE)\n"
	 "is validated as if loaded and written atomically; an edit that would make it\n"
	 "invalid is refused with the reason (exit 2). A missing FILE starts empty.",
	 2, 2},
	{"add", "add a user, a group or a policy", "user|group|policy NAME [options]",
	 config_add_opts, cmd_config_add, NULL,
	 "Adds a user (--password, --dialin, --groups), a group (--member-of) or a policy\n"
	 "(--permission, --groups or --condition, --profile, --disabled) at the end of its\n"
	 "list, or a policy before another one (--before). Validated and written like set.",
	 2, 2},
	{"delete", "delete a user, a group or a policy", "user|group|policy NAME", NULL,
	 cmd_config_delete, NULL,
	 "Removes the named entry (names compare case-insensitively). Deleting a group that\n"
	 "is still used is refused, with the places that use it.",
	 2, 2},
	{"show", "print the configuration or one key of it as JSON", "[KEY]", NULL,
	 cmd_config_show, NULL, NULL, 0, 1},
	{"dump", "print the configuration as a batch file that recreates it", "", NULL,
	 cmd_config_dump, NULL,
	 "Prints the commands that rebuild the configuration from nothing, like netsh dump:\n"
	 "  vnet config dump > site.vnet; vnet --config copy.json -f site.vnet\n"
	 "gives copy.json the same content (the first command, reset, empties the file).",
	 0, 0},
	{"reset", "empty the configuration file", "", NULL, cmd_config_reset, NULL,
	 "Writes an empty configuration ({}): every setting takes its default, and there are\n"
	 "no groups, policies or users.",
	 0, 0},
	{NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
};

const struct cmd vnet_commands[] = {
	{"policy", "evaluate and inspect remote-access policies", "test|show|check ...", NULL,
	 NULL, policy_cmds, NULL, 0, 0},
	{"cert", "machine certificate selection for L2TP/IPsec and IKEv2", "pick ...", NULL, NULL,
	 cert_cmds, NULL, 0, 0},
	{"pcap", "decode and explain captures", "decode|explain ...", NULL, NULL, pcap_cmds, NULL,
	 0, 0},
	{"serve", "run the reference remote-access server", "[options]", serve_opts, cmd_serve,
	 NULL, CTL_HELP_PATH
	 "The socket is made with mode 0600, never in a directory of another user or one that\n"
	 "others can write to without the sticky bit, never over anything but a stale socket\n"
	 "of the same user. The accounting file must be a regular file.\n"
	 "PPTP is off unless --pptp-listen or serve.pptp.listen names an IPv4 address; its GRE\n"
	 "needs a raw socket (root or CAP_NET_RAW). PPTP with MS-CHAPv2 can be cracked: it is\n"
	 "served for reference and lab use.\n"
	 "Exit status: 0 after SIGTERM or SIGINT, 2 bad configuration or options.",
	 0, 0},
	{"error", "explain a Windows remote-access error code", "CODE | --list", error_opts,
	 cmd_error, NULL, NULL, 0, 1},
	{"rules", "list, show and check the knowledge base", "list|show|check ...", NULL, NULL,
	 rules_cmds, NULL, 0, 0},
	{"show", "show sessions, tunnels, ports, pool, stats, IKE or IPsec SAs of a running server",
	 "sessions|tunnels|ports|pool|stats|ike|sa", control_opts, cmd_show, NULL, CTL_HELP_PATH CTL_HELP_PEER,
	 1, 1},
	{"disconnect", "disconnect a session of a running server", "SESSION", control_opts,
	 cmd_disconnect, NULL, CTL_HELP_PATH CTL_HELP_PEER
	 "Exit status: 0 disconnected, 1 no such session, 2 no server or refused.", 1, 1},
	{"config", "edit the configuration file the netsh way", "set|add|delete|show|dump|reset ...",
	 NULL, NULL, config_cmds, NULL, 0, 0},
	{"shell", "an interactive shell with command groups as contexts", "", NULL, cmd_shell,
	 NULL,
	 "Reads commands with line editing, history (~/.vnet_history, or VNET_HISTORY) and\n"
	 "completion. A group name (policy, cert, pcap, rules, config) enters it as a context,\n"
	 "'..' leaves it, 'help' and 'show' answer at every level, 'exit' ends. Plain 'vnet' on\n"
	 "a terminal starts the shell too. Without a terminal the lines of standard input run\n"
	 "like a batch file (vnet -f -).",
	 0, 0},
	{"exec", "run one line as the shell would", "LINE | WORD...", NULL, cmd_exec, NULL,
	 "One argument is split into words like a shell line (quotes, backslashes, # comments);\n"
	 "several arguments are the words themselves. Exit status: that of the command.",
	 1, -1},
	{"help", "show help for vnet or a command", "[COMMAND...]", NULL, NULL, NULL, NULL, 0, -1},
	{NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
};
