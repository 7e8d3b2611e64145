/* The vnet command table and parsed arguments.
 *
 * tools/cmdtab.c holds the one table of commands, subcommands and their options; help,
 * usage errors, prefix matching, the man page check and the completions check all read
 * it. A handler is referenced weakly: a command whose cmd_*.c is not linked in says
 * "not yet implemented" and exits 2.
 */
#ifndef VNET_CMD_H
#define VNET_CMD_H

#include <stdbool.h>
#include <stddef.h>

enum { EXIT_YES = 0, EXIT_NO = 1, EXIT_USAGE = 2 };

struct opt {
	const char *name; /* "--store", or a short flag "-v" */
	const char *arg;  /* metavariable ("DIR") or NULL for a flag */
	const char *help;
};

#define CMD_MAX_OPTS 16
#define CMD_MAX_POS 64

struct cmd;

struct cmd_args {
	const struct cmd *cmd;
	const char *path;          /* "policy test" */
	int npos;
	const char *pos[CMD_MAX_POS];
	const char *val[CMD_MAX_OPTS]; /* last value of each option of cmd->opts */
	int count[CMD_MAX_OPTS];       /* times given (-vv counts 2) */
	/* global options */
	bool json;
	bool color;                /* colour wanted: stdout is a TTY, no NO_COLOR, no --no-color */
	const char *config;        /* --config FILE or NULL (embedded default) */
	const char *rules_dir;     /* --rules DIR or NULL (embedded default) */
	const char *batch;         /* -f FILE: run the lines of a batch file */
};

typedef int (*cmd_fn)(struct cmd_args *a);

struct cmd {
	const char *name;
	const char *summary;      /* one line */
	const char *usage;        /* what follows the name: "[--fix] FILE" */
	const struct opt *opts;   /* terminated by {NULL}; may be NULL */
	cmd_fn fn;                /* NULL: a group (has sub) or not implemented yet */
	const struct cmd *sub;    /* subcommands, terminated by {NULL}; may be NULL */
	const char *help;         /* longer description for `vnet help CMD` */
	int min_pos, max_pos;     /* positional argument count (max -1 = unlimited) */
};

extern const struct cmd vnet_commands[];   /* terminated by {NULL} */
extern const struct opt vnet_global_opts[]; /* terminated by {NULL} */

/* Option value/count by name ("--store"); NULL / 0 when not given or not an option of
 * this command. */
const char *args_get(const struct cmd_args *a, const char *name);
int args_count(const struct cmd_args *a, const char *name);
static inline bool args_has(const struct cmd_args *a, const char *name)
{
	return args_count(a, name) > 0;
}

/* Parse argv into a command and its arguments; prints usage errors itself.
 * Returns 0 and fills `a`, or an exit status (EXIT_USAGE, or EXIT_YES after help). */
int cmd_parse(int argc, char **argv, struct cmd_args *a);
int cmd_run(int argc, char **argv);

/* Help rendering (used by `vnet help`, `--help`). */
void cmd_print_help(const struct cmd *c, const char *path);
void cmd_print_overview(void);

/* Handlers (weak: see cmdtab.c). Each lives in tools/cmd_<group>.c. */
#define VNET_HANDLER(n) int n(struct cmd_args *a) __attribute__((weak))
VNET_HANDLER(cmd_policy_test);
VNET_HANDLER(cmd_policy_show);
VNET_HANDLER(cmd_policy_check);
VNET_HANDLER(cmd_cert_pick);
VNET_HANDLER(cmd_pcap_decode);
VNET_HANDLER(cmd_pcap_explain);
VNET_HANDLER(cmd_error);
VNET_HANDLER(cmd_rules_list);
VNET_HANDLER(cmd_rules_show);
VNET_HANDLER(cmd_rules_check);
VNET_HANDLER(cmd_serve);
VNET_HANDLER(cmd_show);
VNET_HANDLER(cmd_disconnect);
VNET_HANDLER(cmd_shell);
VNET_HANDLER(cmd_exec);
VNET_HANDLER(cmd_config_set);
VNET_HANDLER(cmd_config_add);
VNET_HANDLER(cmd_config_delete);
VNET_HANDLER(cmd_config_show);
VNET_HANDLER(cmd_config_dump);
VNET_HANDLER(cmd_config_reset);

/* The shell (tools/shell.c): run the lines of a batch file ("-" for standard input), or
 * read lines interactively with line editing, history and completion. `g` holds the
 * global options every line runs with. Return the exit status. */
int shell_batch(const struct cmd_args *g, const char *path);
int shell_interactive(const struct cmd_args *g);

#endif
