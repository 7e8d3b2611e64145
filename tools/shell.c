/* The vnet shell: contexts like netsh (`vnet> policy`, `vnet policy> test a.json`, `..`),
 * batch files (`vnet -f FILE`), single lines (`vnet exec "policy test a.json"`).
 *
 * A line is split into words like a POSIX shell does it (single and double quotes,
 * backslash escapes, `#` comments), resolved against the command table of cmdtab.c in
 * the current context and then at the top level, and run through cmd_run exactly as if
 * the words had been given on the command line, with the global options the shell was
 * started with. Line editing, history and completion come from libedit (its readline
 * interface); the completions are drawn from the same command table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <editline/readline.h>
#include "cmd.h"
#include "out.h"

#define SHELL_MAX_WORDS (CMD_MAX_POS + 16)
#define SHELL_MAX_LINE 65536
#define SHELL_MAX_DEPTH 4
#define SHELL_EXIT (-1)

struct words {
	int n;
	char *v[SHELL_MAX_WORDS];
	char *buf; /* one allocation holding every word */
};

static void words_free(struct words *w)
{
	free(w->buf);
	w->buf = NULL;
	w->n = 0;
}

/* Split `line` into words. Returns 0, or -1 with a reason and the 1-based column. */
static int split_line(const char *line, struct words *w, char *err, size_t errsz, int *errcol)
{
	size_t len = strlen(line);
	w->n = 0;
	w->buf = malloc(len + 1);
	if (!w->buf) {
		snprintf(err, errsz, "out of memory");
		*errcol = 1;
		return -1;
	}
	char *o = w->buf;
	const char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
		if (!*p || *p == '#') break;
		if (w->n >= SHELL_MAX_WORDS) {
			snprintf(err, errsz, "more than %d words", SHELL_MAX_WORDS);
			*errcol = (int)(p - line) + 1;
			return -1;
		}
		w->v[w->n++] = o;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
			if (*p == '\'') {
				const char *start = p++;
				while (*p && *p != '\'') *o++ = *p++;
				if (!*p) {
					snprintf(err, errsz, "unterminated single quote");
					*errcol = (int)(start - line) + 1;
					return -1;
				}
				p++;
			} else if (*p == '"') {
				const char *start = p++;
				while (*p && *p != '"') {
					if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$' || p[1] == '`'))
						p++;
					*o++ = *p++;
				}
				if (!*p) {
					snprintf(err, errsz, "unterminated double quote");
					*errcol = (int)(start - line) + 1;
					return -1;
				}
				p++;
			} else if (*p == '\\') {
				p++;
				if (!*p) {
					snprintf(err, errsz, "a backslash ends the line");
					*errcol = (int)(p - line);
					return -1;
				}
				*o++ = *p++;
			} else {
				*o++ = *p++;
			}
		}
		*o++ = 0;
	}
	return 0;
}

/* A command of `tab` named by `word`: exact name or unique prefix; NULL otherwise (no
 * message: the caller decides what an unknown word means). `nhits` gets the count. */
static const struct cmd *find_quiet(const struct cmd *tab, const char *word, int *nhits)
{
	const struct cmd *hit = NULL;
	size_t wl = strlen(word);
	*nhits = 0;
	if (!tab || !wl) return NULL;
	for (const struct cmd *c = tab; c->name; c++) {
		if (strcmp(c->name, word) == 0) {
			*nhits = 1;
			return c;
		}
		if (strncmp(c->name, word, wl) == 0) {
			hit = c;
			(*nhits)++;
		}
	}
	return *nhits == 1 ? hit : NULL;
}

struct shell {
	const struct cmd_args *g; /* global options the shell was started with */
	const struct cmd *ctx;    /* current context: a command group, or NULL at the top */
	const char *file;         /* batch file name for messages, NULL when interactive */
	int line;
};

static int shell_depth;

static void print_builtins(void)
{
	printf("\nshell commands:\n"
	       "  %-18s %s\n  %-18s %s\n  %-18s %s\n  %-18s %s\n  %-18s %s\n",
	       "GROUP", "enter a command group (policy, cert, pcap, rules, config)",
	       "..", "leave the group", "help [COMMAND]", "help at this level",
	       "show", "the settings of this shell (where a group has no show command)",
	       "exit", "leave the shell");
}

static void show_settings(const struct shell *sh)
{
	printf("context:  %s\n", sh->ctx ? sh->ctx->name : "(top)");
	printf("config:   %s\n", sh->g->config ? sh->g->config : "the embedded samples/vnet.json");
	printf("rules:    %s\n", sh->g->rules_dir ? sh->g->rules_dir : "the embedded rules");
	printf("output:   %s\n", sh->g->json ? "json" : "text");
}

/* Run words through cmd_run with the shell's global options in front. */
static int run_words(const struct shell *sh, const char *prefix, int n, char **v)
{
	char *argv[SHELL_MAX_WORDS + 12];
	int argc = 0;
	argv[argc++] = (char *)"vnet";
	if (sh->g->json) argv[argc++] = (char *)"--json";
	if (!sh->g->color) argv[argc++] = (char *)"--no-color";
	if (sh->g->config) {
		argv[argc++] = (char *)"--config";
		argv[argc++] = (char *)sh->g->config;
	}
	if (sh->g->rules_dir) {
		argv[argc++] = (char *)"--rules";
		argv[argc++] = (char *)sh->g->rules_dir;
	}
	if (prefix) argv[argc++] = (char *)prefix;
	for (int i = 0; i < n && argc < (int)(sizeof argv / sizeof argv[0]) - 1; i++)
		argv[argc++] = v[i];
	argv[argc] = NULL;
	int rc = cmd_run(argc, argv);
	fflush(stdout);
	fflush(stderr);
	return rc;
}

/* One line of the shell or a batch file: the exit status of what it ran, or SHELL_EXIT. */
static int shell_line(struct shell *sh, const char *line)
{
	struct words w = {0};
	char err[120];
	int col = 0;
	if (split_line(line, &w, err, sizeof err, &col)) {
		if (sh->file) out_err(sh->file, sh->line, col, "%s", err);
		else out_err(NULL, 0, 0, "column %d of the line: %s", col, err);
		words_free(&w);
		return EXIT_USAGE;
	}
	int rc = EXIT_YES;
	if (w.n == 0) goto out;
	const char *w0 = w.v[0];
	if (!strcmp(w0, "exit") || !strcmp(w0, "quit") || !strcmp(w0, "bye")) {
		rc = SHELL_EXIT;
		goto out;
	}
	if (!strcmp(w0, "..")) {
		sh->ctx = NULL;
		goto out;
	}
	if (!strcmp(w0, "help") || !strcmp(w0, "?")) {
		if (w.n == 1) {
			if (sh->ctx) cmd_print_help(sh->ctx, sh->ctx->name);
			else cmd_print_overview();
			print_builtins();
			goto out;
		}
		int nh;
		if (sh->ctx && find_quiet(sh->ctx->sub, w.v[1], &nh)) {
			char *v[SHELL_MAX_WORDS + 1];
			v[0] = (char *)"help";
			v[1] = (char *)sh->ctx->name;
			for (int i = 1; i < w.n && i < SHELL_MAX_WORDS - 1; i++) v[i + 1] = w.v[i];
			rc = run_words(sh, NULL, w.n + 1, v);
		} else {
			rc = run_words(sh, NULL, w.n, w.v);
		}
		goto out;
	}
	int nh = 0;
	const struct cmd *in_ctx = sh->ctx ? find_quiet(sh->ctx->sub, w0, &nh) : NULL;
	if (!strcmp(w0, "show") && w.n == 1) {
		const struct cmd *here = sh->ctx ? in_ctx : find_quiet(vnet_commands, w0, &nh);
		if (!here || here->min_pos > 0) {
			show_settings(sh);
			goto out;
		}
	}
	if (in_ctx || (sh->ctx && nh > 1)) {
		/* a subcommand of the current group (an ambiguous prefix is reported by cmd_run) */
		rc = run_words(sh, sh->ctx->name, w.n, w.v);
		goto out;
	}
	const struct cmd *top = find_quiet(vnet_commands, w0, &nh);
	if (top && top->sub && w.n == 1) {
		sh->ctx = top; /* enter the group */
		goto out;
	}
	rc = run_words(sh, NULL, w.n, w.v);
out:
	words_free(&w);
	return rc;
}

/* ---- batch files ------------------------------------------------------------------ */
static int run_stream(struct shell *sh, FILE *fp)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = EXIT_YES;
	while ((n = getline(&line, &cap, fp)) >= 0) {
		sh->line++;
		if (n > SHELL_MAX_LINE) {
			out_err(sh->file, sh->line, 0, "line longer than %d bytes", SHELL_MAX_LINE);
			rc = EXIT_USAGE;
			break;
		}
		if (memchr(line, 0, (size_t)n)) {
			out_err(sh->file, sh->line, 0, "NUL byte in the line");
			rc = EXIT_USAGE;
			break;
		}
		int r = shell_line(sh, line);
		if (r == SHELL_EXIT) break;
		if (r != EXIT_YES) {
			size_t l = strlen(line);
			while (l && (line[l - 1] == '\n' || line[l - 1] == '\r')) line[--l] = 0;
			out_err(sh->file, sh->line, 0, "stopped: '%s' exited with status %d", line, r);
			rc = r;
			break;
		}
	}
	if (ferror(fp)) {
		out_err(sh->file, 0, 0, "cannot read: %s", strerror(errno));
		rc = EXIT_USAGE;
	}
	free(line);
	return rc;
}

int shell_batch(const struct cmd_args *g, const char *path)
{
	if (shell_depth >= SHELL_MAX_DEPTH) {
		out_err(path, 0, 0, "batch files nested more than %d deep", SHELL_MAX_DEPTH);
		return EXIT_USAGE;
	}
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *fp = is_stdin ? stdin : fopen(path, "r");
	if (!fp) {
		out_err(path, 0, 0, "cannot open: %s", strerror(errno));
		return EXIT_USAGE;
	}
	struct shell sh = {.g = g, .file = is_stdin ? "(stdin)" : path};
	shell_depth++;
	int rc = run_stream(&sh, fp);
	shell_depth--;
	if (!is_stdin) fclose(fp);
	return rc;
}

/* ---- completion over the command table ---------------------------------------------- */
static struct shell *cur_shell;
static const char *comp_list[256];
static int comp_n, comp_i;

static void comp_add(const char *s)
{
	if (comp_n < (int)(sizeof comp_list / sizeof comp_list[0])) comp_list[comp_n++] = s;
}

static char *comp_gen(const char *text, int state)
{
	if (!state) comp_i = 0;
	size_t tl = strlen(text);
	while (comp_i < comp_n) {
		const char *s = comp_list[comp_i++];
		if (strncmp(s, text, tl) == 0) return strdup(s);
	}
	return NULL;
}

static void comp_cmds(const struct cmd *tab)
{
	for (const struct cmd *c = tab; c && c->name; c++) comp_add(c->name);
}

static char **complete(const char *text, int start, int end)
{
	(void)end;
	struct shell *sh = cur_shell;
	comp_n = 0;
	rl_attempted_completion_over = 0;
	char *head = strndup(rl_line_buffer, (size_t)start);
	struct words w = {0};
	char err[80];
	int col;
	if (!head || split_line(head, &w, err, sizeof err, &col)) {
		free(head);
		words_free(&w);
		return NULL;
	}
	free(head);
	/* the words that name a command: the context first unless the line leaves it */
	const struct cmd *tab = vnet_commands, *c = NULL;
	int i = 0, nh;
	if (w.n == 0) {
		if (sh && sh->ctx) comp_cmds(sh->ctx->sub);
		comp_cmds(vnet_commands);
		static const char *const builtins[] = {"..", "exit", "help", "show", NULL};
		for (int k = 0; builtins[k]; k++) comp_add(builtins[k]);
		goto done;
	}
	if (!strcmp(w.v[0], "help") || !strcmp(w.v[0], "?")) {
		if (w.n == 1) {
			if (sh && sh->ctx) comp_cmds(sh->ctx->sub);
			comp_cmds(vnet_commands);
		} else if ((c = find_quiet(vnet_commands, w.v[1], &nh)) && c->sub && w.n == 2) {
			comp_cmds(c->sub);
		}
		goto done;
	}
	if (sh && sh->ctx && find_quiet(sh->ctx->sub, w.v[0], &nh)) {
		c = sh->ctx;
		tab = c->sub;
	}
	for (; i < w.n; i++) {
		if (w.v[i][0] == '-') continue;
		if (c && !c->sub) break;
		const struct cmd *x = find_quiet(tab, w.v[i], &nh);
		if (!x) break;
		c = x;
		tab = x->sub;
	}
	if (c && c->sub && i == w.n) {
		comp_cmds(c->sub);
	} else if (c && !c->sub && text[0] == '-') {
		for (const struct opt *o = c->opts; o && o->name; o++) comp_add(o->name);
		for (const struct opt *o = vnet_global_opts; o->name; o++) comp_add(o->name);
	} else if (c && !c->sub && c->fn == cmd_config_add && i == w.n) {
		static const char *const kinds[] = {"user", "policy", "group", NULL};
		for (int k = 0; kinds[k]; k++) comp_add(kinds[k]);
	} else if (c && !c->sub && c->fn == cmd_config_delete && i == w.n) {
		static const char *const kinds[] = {"user", "policy", "group", NULL};
		for (int k = 0; kinds[k]; k++) comp_add(kinds[k]);
	} else if (!c && text[0] == '-') {
		for (const struct opt *o = vnet_global_opts; o->name; o++) comp_add(o->name);
	} else {
		words_free(&w);
		return NULL; /* file names */
	}
done:
	words_free(&w);
	rl_attempted_completion_over = 1;
	if (!comp_n) return NULL;
	return rl_completion_matches(text, comp_gen);
}

static char *history_path(void)
{
	const char *e = getenv("VNET_HISTORY");
	if (e) return *e ? strdup(e) : NULL;
	const char *home = getenv("HOME");
	if (!home || !*home) return NULL;
	size_t n = strlen(home) + 32;
	char *p = malloc(n);
	if (p) snprintf(p, n, "%s/.vnet_history", home);
	return p;
}

int shell_interactive(const struct cmd_args *g)
{
	if (shell_depth > 0) {
		out_err(NULL, 0, 0, "already in a shell");
		return EXIT_USAGE;
	}
	if (!isatty(STDIN_FILENO)) {
		/* no terminal: the lines of standard input, like a batch file */
		return shell_batch(g, "-");
	}
	struct shell sh = {.g = g};
	cur_shell = &sh;
	shell_depth++;
	rl_readline_name = "vnet";
	rl_attempted_completion_function = complete;
	rl_basic_word_break_characters = " \t\n\"'";
	using_history();
	stifle_history(1000);
	char *hist = history_path();
	if (hist) read_history(hist);
	printf("vnet %s shell: 'help' lists the commands, a group name enters it, '..' leaves "
	       "it, 'exit' ends.\n", VNET_VERSION);
	fflush(stdout);
	for (;;) {
		char prompt[64];
		snprintf(prompt, sizeof prompt, "vnet%s%s> ", sh.ctx ? " " : "",
		         sh.ctx ? sh.ctx->name : "");
		char *line = readline(prompt);
		if (!line) {
			printf("\n");
			break;
		}
		const char *p = line;
		while (*p == ' ' || *p == '\t') p++;
		if (*p) add_history(line);
		int r = shell_line(&sh, line);
		free(line);
		if (r == SHELL_EXIT) break;
	}
	if (hist) {
		write_history(hist);
		free(hist);
	}
	shell_depth--;
	cur_shell = NULL;
	return EXIT_YES;
}

/* ---- commands: vnet shell, vnet exec ------------------------------------------------ */
int cmd_shell(struct cmd_args *a)
{
	return shell_interactive(a);
}

int cmd_exec(struct cmd_args *a)
{
	struct shell sh = {.g = a};
	if (shell_depth >= SHELL_MAX_DEPTH) {
		out_err(NULL, 0, 0, "exec nested more than %d deep", SHELL_MAX_DEPTH);
		return EXIT_USAGE;
	}
	int rc;
	shell_depth++;
	if (a->npos == 1) {
		rc = shell_line(&sh, a->pos[0]);
	} else {
		struct words w = {0};
		w.n = a->npos;
		for (int i = 0; i < a->npos; i++) w.v[i] = (char *)a->pos[i];
		/* the words as given: reuse the line logic by quoting each word */
		size_t len = 1;
		for (int i = 0; i < w.n; i++) len += 4 * strlen(w.v[i]) + 3;
		char *line = malloc(len), *o = line;
		if (!line) {
			shell_depth--;
			return EXIT_USAGE;
		}
		for (int i = 0; i < w.n; i++) {
			*o++ = '\'';
			for (const char *s = w.v[i]; *s; s++) {
				if (*s == '\'') {
					memcpy(o, "'\\''", 4);
					o += 4;
				} else {
					*o++ = *s;
				}
			}
			*o++ = '\'';
			*o++ = ' ';
		}
		*o = 0;
		rc = shell_line(&sh, line);
		free(line);
	}
	shell_depth--;
	return rc == SHELL_EXIT ? EXIT_YES : rc;
}
