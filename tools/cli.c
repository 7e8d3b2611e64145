/* Command-line parsing over the table in cmdtab.c: unique prefixes (like iproute2 and
 * netsh), "ambiguous" errors listing the candidates, "did you mean" for unknown words,
 * help at every level. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd.h"
#include "out.h"

/* cmd_parse: help or version was printed; exit 0 */
#define CMD_DONE (-1)
/* cmd_parse: no command; run the batch file of -f, or the interactive shell */
#define CMD_BATCH (-3)
#define CMD_SHELL (-4)

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63) return 99;
	size_t d[64][64];
	for (size_t i = 0; i <= la; i++) d[i][0] = i;
	for (size_t j = 0; j <= lb; j++) d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
			d[i][j] = c;
		}
	return d[la][lb];
}

/* Find `word` among `tab` (exact name, else unique prefix). Prints the error itself. */
static const struct cmd *lookup(const struct cmd *tab, const char *word, const char *where)
{
	const struct cmd *hit = NULL;
	int nhits = 0;
	size_t wl = strlen(word);
	for (const struct cmd *c = tab; c->name; c++) {
		if (strcmp(c->name, word) == 0)
			return c;
		if (wl && strncmp(c->name, word, wl) == 0) {
			hit = c;
			nhits++;
		}
	}
	if (nhits == 1)
		return hit;
	if (nhits > 1) {
		fprintf(stderr, "vnet: ambiguous %s '%s': could be", where, word);
		int k = 0;
		for (const struct cmd *c = tab; c->name; c++)
			if (strncmp(c->name, word, wl) == 0)
				fprintf(stderr, "%s %s", k++ ? "," : "", c->name);
		fprintf(stderr, "\n");
		return NULL;
	}
	const struct cmd *best = NULL;
	size_t bd = 99;
	for (const struct cmd *c = tab; c->name; c++) {
		size_t d = edit_distance(word, c->name);
		if (d < bd) { bd = d; best = c; }
	}
	fprintf(stderr, "vnet: unknown %s '%s'", where, word);
	if (best && bd <= 2)
		fprintf(stderr, "; did you mean '%s'?", best->name);
	fprintf(stderr, "\n");
	return NULL;
}

static const struct opt *find_opt(const struct opt *opts, const char *name, size_t len)
{
	for (const struct opt *o = opts; o && o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

const char *args_get(const struct cmd_args *a, const char *name)
{
	const struct opt *o = find_opt(a->cmd->opts, name, strlen(name));
	return o ? a->val[o - a->cmd->opts] : NULL;
}

int args_count(const struct cmd_args *a, const char *name)
{
	const struct opt *o = find_opt(a->cmd->opts, name, strlen(name));
	return o ? a->count[o - a->cmd->opts] : 0;
}

static void print_opts(const struct opt *opts)
{
	for (const struct opt *o = opts; o && o->name; o++) {
		char left[64];
		snprintf(left, sizeof left, "%s%s%s", o->name, o->arg ? " " : "",
		         o->arg ? o->arg : "");
		if (strlen(left) > 28)
			printf("  %s\n  %-28s %s\n", left, "", o->help);
		else
			printf("  %-28s %s\n", left, o->help);
	}
}

void cmd_print_overview(void)
{
	printf("vnet %s: diagnose and serve remote-access VPNs (L2TP/IPsec, PPTP, IKE, PPP, RADIUS)\n\n",
	       VNET_VERSION);
	printf("usage: vnet [global options] COMMAND [SUBCOMMAND] [options] [args]\n"
	       "       vnet [global options] -f FILE   run the commands of a batch file\n"
	       "       vnet [global options]           on a terminal: the interactive shell\n"
	       "\ncommands:\n");
	for (const struct cmd *c = vnet_commands; c->name; c++) {
		if (c->sub) {
			for (const struct cmd *s = c->sub; s->name; s++) {
				char left[64];
				snprintf(left, sizeof left, "%s %s", c->name, s->name);
				printf("  %-18s %s\n", left, s->summary);
			}
		} else {
			printf("  %-18s %s\n", c->name, c->summary);
		}
	}
	printf("\nglobal options:\n");
	print_opts(vnet_global_opts);
	printf("\nCommands and subcommands may be shortened to any unique prefix (vnet pol te).\n"
	       "Exit status: 0 yes/accepted, 1 no/rejected/failure found, 2 usage or input error.\n"
	       "'vnet help COMMAND' or 'vnet COMMAND --help' tells more.\n");
}

void cmd_print_help(const struct cmd *c, const char *path)
{
	if (c->sub) {
		printf("usage: vnet %s %s\n\n%s\n\nsubcommands:\n", path, c->usage, c->summary);
		for (const struct cmd *s = c->sub; s->name; s++)
			printf("  %-10s %s\n", s->name, s->summary);
		printf("\n'vnet help %s SUBCOMMAND' tells more.\n", path);
		return;
	}
	printf("usage: vnet %s %s\n\n%s\n", path, c->usage, c->summary);
	if (c->help)
		printf("\n%s\n", c->help);
	if (c->opts && c->opts->name) {
		printf("\noptions:\n");
		print_opts(c->opts);
	}
	printf("\nglobal options:\n");
	print_opts(vnet_global_opts);
}

static void print_table(void)
{
	printf("\t");
	for (const struct opt *o = vnet_global_opts; o->name; o++)
		printf("%s%s", o == vnet_global_opts ? "" : " ", o->name);
	printf("\n");
	for (const struct cmd *c = vnet_commands; c->name; c++) {
		const struct cmd *one[2] = {c, NULL};
		const struct cmd *list = c->sub ? c->sub : NULL;
		for (const struct cmd *s = list ? list : one[0]; s && s->name; s++) {
			printf(list ? "%s %s\t" : "%s%s\t", c->name, list ? s->name : "");
			for (const struct opt *o = s->opts; o && o->name; o++)
				printf("%s%s", o == s->opts ? "" : " ", o->name);
			printf("\n");
			if (!list) break;
		}
	}
}

static void usage_hint(const char *path)
{
	fprintf(stderr, "Try 'vnet %s --help'.\n", path);
}

static bool is_help_word(const char *w)
{
	return !strcmp(w, "help") || !strcmp(w, "--help") || !strcmp(w, "-h");
}

/* Resolve words of argv naming a command; returns the command and fills path. Stops at
 * an option and at "help" after a group (vnet pcap help). */
static const struct cmd *resolve(int argc, char **argv, int *i, char *path, size_t pathsz)
{
	const struct cmd *tab = vnet_commands, *c = NULL;
	path[0] = 0;
	while (*i < argc) {
		const char *w = argv[*i];
		if (w[0] == '-' || (c && !strcmp(w, "help")))
			break;
		c = lookup(tab, w, c ? "subcommand" : "command");
		if (!c)
			return NULL;
		(*i)++;
		size_t l = strlen(path);
		snprintf(path + l, pathsz - l, "%s%s", l ? " " : "", c->name);
		if (!c->sub)
			return c;
		tab = c->sub;
	}
	return c;
}

static int help_for(int argc, char **argv)
{
	if (argc == 0) {
		cmd_print_overview();
		return EXIT_YES;
	}
	int i = 0;
	char path[128];
	const struct cmd *c = resolve(argc, argv, &i, path, sizeof path);
	if (!c)
		return EXIT_USAGE;
	cmd_print_help(c, path);
	return EXIT_YES;
}

/* Help asked for after a group: "vnet pcap --help", "vnet pcap help", "vnet pcap help
 * decode" (the words after help name a subcommand, as with vnet help pcap decode). */
static int help_in_group(const struct cmd *g, const char *gpath, int argc, char **argv)
{
	char path[128];
	snprintf(path, sizeof path, "%s", gpath);
	const struct cmd *c = g;
	for (int k = 0; k < argc && c->sub; k++) {
		const struct cmd *s = lookup(c->sub, argv[k], "subcommand");
		if (!s)
			return EXIT_USAGE;
		size_t l = strlen(path);
		snprintf(path + l, sizeof path - l, " %s", s->name);
		c = s;
	}
	cmd_print_help(c, path);
	return EXIT_YES;
}

int cmd_parse(int argc, char **argv, struct cmd_args *a)
{
	memset(a, 0, sizeof *a);
	const char *nc = getenv("NO_COLOR");
	a->color = isatty(STDOUT_FILENO) && !(nc && *nc);

	/* Hidden: the table as "PATH<TAB>OPTIONS", for generating completions and checks. */
	if (argc == 2 && strcmp(argv[1], "__table") == 0) {
		print_table();
		return CMD_DONE;
	}

	/* Leading global options and --version / --help. */
	int i = 1;
	struct cmd_args glob = *a;
	char path[128] = "";
	const struct cmd *c = NULL;
	int want_help = 0;
	for (; i < argc; i++) {
		const char *w = argv[i];
		if (strcmp(w, "--version") == 0 || strcmp(w, "-V") == 0) {
			printf("vnet %s\n", VNET_VERSION);
			return CMD_DONE;
		}
		if (w[0] != '-' || strcmp(w, "-") == 0)
			break;
		if (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0) {
			want_help = 1;
			continue;
		}
		if (strcmp(w, "--json") == 0) { glob.json = true; continue; }
		if (strcmp(w, "--no-color") == 0) { glob.color = false; continue; }
		if ((strcmp(w, "--config") == 0 || strcmp(w, "--rules") == 0)) {
			if (i + 1 >= argc) {
				fprintf(stderr, "vnet: option %s needs an argument\n", w);
				return EXIT_USAGE;
			}
			if (w[2] == 'c') glob.config = argv[++i]; else glob.rules_dir = argv[++i];
			continue;
		}
		if (strcmp(w, "-f") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "vnet: option -f needs an argument (FILE)\n");
				return EXIT_USAGE;
			}
			glob.batch = argv[++i];
			continue;
		}
		if (strncmp(w, "--config=", 9) == 0) { glob.config = w + 9; continue; }
		if (strncmp(w, "--rules=", 8) == 0) { glob.rules_dir = w + 8; continue; }
		fprintf(stderr, "vnet: unknown option '%s' before the command\n", w);
		fprintf(stderr, "Try 'vnet help'.\n");
		return EXIT_USAGE;
	}
	if (glob.batch && i < argc) {
		fprintf(stderr, "vnet: -f runs a batch file and takes no command ('%s')\n", argv[i]);
		return EXIT_USAGE;
	}
	if (i >= argc) {
		if (want_help) {
			cmd_print_overview();
			return CMD_DONE;
		}
		if (glob.batch || (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))) {
			*a = glob;
			return glob.batch ? CMD_BATCH : CMD_SHELL;
		}
		cmd_print_overview();
		return EXIT_USAGE;
	}
	c = resolve(argc, argv, &i, path, sizeof path);
	if (!c)
		return EXIT_USAGE;
	if (strcmp(c->name, "help") == 0) {
		int rc = help_for(argc - i, argv + i);
		return rc == EXIT_YES ? CMD_DONE : rc;
	}
	*a = glob;
	a->cmd = c;
	a->path = NULL;
	if (want_help) {
		cmd_print_help(c, path);
		return CMD_DONE;
	}
	if (c->sub && i < argc && is_help_word(argv[i])) {
		int rc = help_in_group(c, path, strcmp(argv[i], "help") ? 0 : argc - i - 1,
		                       argv + i + 1);
		return rc == EXIT_YES ? CMD_DONE : rc;
	}
	if (c->sub) {
		/* A group with no subcommand: list the subcommands. */
		fprintf(stderr, "vnet %s: a subcommand is needed:", path);
		for (const struct cmd *s = c->sub; s->name; s++)
			fprintf(stderr, " %s", s->name);
		fprintf(stderr, "\n");
		usage_hint(path);
		return EXIT_USAGE;
	}
	static char pathbuf[128];
	snprintf(pathbuf, sizeof pathbuf, "%s", path);
	a->path = pathbuf;
	/* "help" alone after a command asks for its help, as at every other level (an
	 * argument that is really called help is written ./help or after --). */
	if (i == argc - 1 && !strcmp(argv[i], "help")) {
		cmd_print_help(c, path);
		return CMD_DONE;
	}

	bool only_pos = false;
	for (; i < argc; i++) {
		const char *w = argv[i];
		/* "-2146762487": a negative number is an argument (no option starts with a digit) */
		if (only_pos || w[0] != '-' || strcmp(w, "-") == 0 || (w[1] >= '0' && w[1] <= '9')) {
			if (a->npos >= CMD_MAX_POS) {
				fprintf(stderr, "vnet %s: too many arguments\n", path);
				return EXIT_USAGE;
			}
			a->pos[a->npos++] = w;
			continue;
		}
		if (strcmp(w, "--") == 0) { only_pos = true; continue; }
		if (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0) {
			cmd_print_help(c, path);
			return CMD_DONE;
		}
		if (strcmp(w, "--json") == 0) { a->json = true; continue; }
		if (strcmp(w, "--no-color") == 0) { a->color = false; continue; }
		const char *eq = strchr(w, '=');
		size_t nl = eq ? (size_t)(eq - w) : strlen(w);
		if ((nl == 8 && strncmp(w, "--config", 8) == 0) ||
		    (nl == 7 && strncmp(w, "--rules", 7) == 0)) {
			const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v) {
				fprintf(stderr, "vnet %s: option %.*s needs an argument\n", path, (int)nl, w);
				return EXIT_USAGE;
			}
			if (w[2] == 'c') a->config = v; else a->rules_dir = v;
			continue;
		}
		const struct opt *o = find_opt(c->opts, w, nl);
		if (!o && w[1] != '-' && nl > 2 && !eq) {
			/* -vv: a repeated short flag */
			bool same = true;
			for (size_t k = 2; k < nl; k++) same &= w[k] == w[1];
			const struct opt *f = same ? find_opt(c->opts, w, 2) : NULL;
			if (f && !f->arg) {
				a->count[f - c->opts] += (int)(nl - 1);
				continue;
			}
		}
		if (!o) {
			/* unique prefix of a long option */
			int n = 0;
			for (const struct opt *p = c->opts; p && p->name; p++)
				if (w[1] == '-' && strncmp(p->name, w, nl) == 0) { o = p; n++; }
			if (n != 1) {
				fprintf(stderr, "vnet %s: %s option '%.*s'", path,
				        n > 1 ? "ambiguous" : "unknown", (int)nl, w);
				const char *sep = ": could be ";
				for (const struct opt *p = c->opts; n > 1 && p && p->name; p++)
					if (strncmp(p->name, w, nl) == 0) {
						fprintf(stderr, "%s%s", sep, p->name);
						sep = ", ";
					}
				fprintf(stderr, "\n");
				usage_hint(path);
				return EXIT_USAGE;
			}
		}
		size_t k = (size_t)(o - c->opts);
		if (k >= CMD_MAX_OPTS) {
			fprintf(stderr, "vnet %s: internal error: too many options\n", path);
			return EXIT_USAGE;
		}
		if (o->arg) {
			const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v) {
				fprintf(stderr, "vnet %s: option %s needs an argument (%s)\n", path,
				        o->name, o->arg);
				usage_hint(path);
				return EXIT_USAGE;
			}
			a->val[k] = v;
		} else if (eq) {
			fprintf(stderr, "vnet %s: option %s takes no value\n", path, o->name);
			return EXIT_USAGE;
		}
		a->count[k]++;
	}
	if (a->npos < c->min_pos || (c->max_pos >= 0 && a->npos > c->max_pos)) {
		if (a->npos < c->min_pos)
			fprintf(stderr, "vnet %s: missing argument: usage: vnet %s %s\n", path, path,
			        c->usage);
		else
			fprintf(stderr, "vnet %s: unexpected argument '%s'\n", path,
			        a->pos[c->max_pos]);
		usage_hint(path);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct cmd_args a;
	int rc = cmd_parse(argc, argv, &a);
	if (rc == CMD_DONE)
		return EXIT_YES;
	if (rc == CMD_BATCH || rc == CMD_SHELL) {
		out_set_color(a.color);
		return rc == CMD_BATCH ? shell_batch(&a, a.batch) : shell_interactive(&a);
	}
	if (rc != 0)
		return rc;
	out_set_color(a.color);
	if (!a.cmd->fn) {
		fprintf(stderr, "vnet %s: not yet implemented\n", a.path);
		return EXIT_USAGE;
	}
	rc = a.cmd->fn(&a);
	fflush(stdout);
	return rc;
}
