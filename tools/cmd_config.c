/* vnet config set | add | delete | show | dump | reset: editing the configuration file
 * the netsh way.
 *
 * Every edit reads the --config file as JSON (key order is kept), changes the tree,
 * validates the result exactly as `--config` would load it (engine/policy/config.c) and, only
 * when it is valid, writes it atomically (a temporary file in the same directory, then
 * rename). An edit that would make the file invalid is refused with the loader's reasons
 * and exit status 2; the file is left as it was. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "cmd.h"
#include "policy/config.h"
#include "policy/embedded.h"
#include "out.h"

#define DUMP_FLAGS (JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)
#define FILE_FLAGS (JSON_PRESERVE_ORDER | JSON_INDENT(2))

/* ---- reading, validating, writing ------------------------------------------------ */
static const char *need_file(const struct cmd_args *a)
{
	if (a->config) return a->config;
	fprintf(stderr, "vnet %s: give --config FILE: the embedded default configuration cannot "
	        "be edited (vnet config dump > FILE.vnet, then vnet --config FILE -f FILE.vnet "
	        "makes a copy to edit)\n", a->path);
	return NULL;
}

/* The configuration as JSON: the file (an absent file is an empty configuration when
 * `missing_ok`), or the embedded default when `path` is NULL. */
static json_t *doc_load(const char *path, bool missing_ok)
{
	json_error_t je;
	json_t *root;
	if (!path) {
		const struct embedded_file *f = embedded_find("samples/vnet.json");
		if (!f) {
			out_err(NULL, 0, 0, "no embedded default configuration");
			return NULL;
		}
		root = json_loadb((const char *)f->data, f->len, JSON_REJECT_DUPLICATES, &je);
		path = "samples/vnet.json";
	} else {
		if (missing_ok && access(path, F_OK) != 0 && errno == ENOENT) return json_object();
		root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	}
	if (!root) {
		if (je.line > 0) out_err(path, je.line, je.column, "not valid JSON: %s", je.text);
		else out_err(path, 0, 0, "%s", je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		out_err(path, 0, 0, "the configuration must be a JSON object");
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Validate `root` as the loader does; print every problem and return -1 when invalid. */
static int doc_validate(const char *path, json_t *root, const char *what)
{
	char *text = json_dumps(root, FILE_FLAGS);
	if (!text) {
		out_err(path, 0, 0, "out of memory");
		return -1;
	}
	struct config_problems probs = {0};
	struct config *c = config_load_mem(path, text, strlen(text), &probs);
	free(text);
	if (c) {
		config_free(c);
		config_problems_free(&probs);
		return 0;
	}
	fprintf(stderr, "vnet: %s: %s refused: the configuration would not load:\n", path, what);
	for (size_t i = 0; i < probs.n; i++) fprintf(stderr, "vnet: %s: %s\n", path, probs.v[i].msg);
	config_problems_free(&probs);
	return -1;
}

/* Write `root` to `path` through a temporary file and rename. */
static int doc_write(const char *path, json_t *root)
{
	char *text = json_dumps(root, FILE_FLAGS);
	if (!text) {
		out_err(path, 0, 0, "out of memory");
		return -1;
	}
	size_t n = strlen(text) + 16;
	char *tmp = malloc(strlen(path) + 16);
	if (!tmp) {
		free(text);
		return -1;
	}
	sprintf(tmp, "%s.XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		out_err(path, 0, 0, "cannot create a temporary file beside it: %s", strerror(errno));
		free(text);
		free(tmp);
		return -1;
	}
	struct stat st;
	mode_t mode = 0644;
	if (stat(path, &st) == 0) mode = st.st_mode & 07777;
	else {
		mode_t um = umask(0);
		umask(um);
		mode = 0666 & ~um;
	}
	int rc = 0;
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0) {
			if (errno == EINTR) continue;
			rc = -1;
			break;
		}
		off += (size_t)w;
	}
	if (!rc && write(fd, "\n", 1) != 1) rc = -1;
	if (!rc && fchmod(fd, mode) != 0) rc = -1;
	if (!rc && fsync(fd) != 0) rc = -1;
	int saved = errno;
	if (close(fd) != 0 && !rc) {
		rc = -1;
		saved = errno;
	}
	if (!rc && rename(tmp, path) != 0) {
		rc = -1;
		saved = errno;
	}
	if (rc) {
		out_err(path, 0, 0, "cannot write: %s", strerror(saved));
		unlink(tmp);
	}
	(void)n;
	free(tmp);
	free(text);
	return rc;
}

/* Validate and write; the exit status of an edit. */
static int doc_commit(const char *path, json_t *root, const char *what)
{
	if (doc_validate(path, root, what)) return EXIT_USAGE;
	return doc_write(path, root) ? EXIT_USAGE : EXIT_YES;
}

/* ---- key paths: server.ports.l2tp, policies[0].enabled, users[alice].dialin ------- */
struct seg {
	char *key;   /* object member, or NULL */
	long idx;    /* array index (>= 0), or -1 */
	char *name;  /* array element by "name", or NULL */
};

static void segs_free(struct seg *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].key);
		free(s[i].name);
	}
	free(s);
}

static int path_parse(const char *path, struct seg **out, size_t *nout, char *err, size_t errsz)
{
	size_t cap = strlen(path) + 1, n = 0;
	struct seg *s = calloc(cap, sizeof *s);
	if (!s) return -1;
	const char *p = path;
	while (*p) {
		if (*p == '[') {
			const char *e = strchr(p, ']');
			if (!e || e == p + 1) {
				snprintf(err, errsz, "'[' without a closing ']' or with nothing inside");
				goto bad;
			}
			s[n].idx = -1;
			bool num = true;
			for (const char *q = p + 1; q < e; q++) num &= *q >= '0' && *q <= '9';
			if (num && e - p - 1 < 9) s[n].idx = strtol(p + 1, NULL, 10);
			else s[n].name = strndup(p + 1, (size_t)(e - p - 1));
			n++;
			p = e + 1;
			if (*p == '.') {
				p++;
				if (!*p) {
					snprintf(err, errsz, "the path ends with '.'");
					goto bad;
				}
			} else if (*p && *p != '[') {
				snprintf(err, errsz, "expected '.' or '[' after ']'");
				goto bad;
			}
			continue;
		}
		size_t l = strcspn(p, ".[");
		if (!l) {
			snprintf(err, errsz, "an empty name in the path");
			goto bad;
		}
		s[n].idx = -1;
		s[n].key = strndup(p, l);
		n++;
		p += l;
		if (*p == '.') {
			p++;
			if (!*p) {
				snprintf(err, errsz, "the path ends with '.'");
				goto bad;
			}
		}
	}
	if (!n) {
		snprintf(err, errsz, "the path is empty");
		goto bad;
	}
	*out = s;
	*nout = n;
	return 0;
bad:
	segs_free(s, n);
	return -1;
}

/* Index of the element of `arr` whose "name" equals `name` (case-insensitive), or -1. */
static long find_named(json_t *arr, const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));
		if (n && strcasecmp(n, name) == 0) return (long)i;
	}
	return -1;
}

/* The child a segment names; NULL when absent (with a reason in err). */
static json_t *seg_get(json_t *cur, const struct seg *s, char *err, size_t errsz)
{
	if (s->key) {
		if (!json_is_object(cur)) {
			snprintf(err, errsz, "'%s': not inside an object", s->key);
			return NULL;
		}
		json_t *v = json_object_get(cur, s->key);
		if (!v) snprintf(err, errsz, "no key '%s'", s->key);
		return v;
	}
	if (!json_is_array(cur)) {
		snprintf(err, errsz, "[%s]: not a list", s->name ? s->name : "index");
		return NULL;
	}
	long i = s->name ? find_named(cur, s->name) : s->idx;
	if (i < 0 || (size_t)i >= json_array_size(cur)) {
		if (s->name) snprintf(err, errsz, "no element named \"%s\"", s->name);
		else snprintf(err, errsz, "index %ld is past the end (%zu elements)", s->idx,
		              json_array_size(cur));
		return NULL;
	}
	return json_array_get(cur, (size_t)i);
}

/* ---- config set ----------------------------------------------------------------------- */
static json_t *parse_value(const char *text)
{
	json_error_t je;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	return v ? v : json_string(text);
}

int cmd_config_set(struct cmd_args *a)
{
	const char *file = need_file(a);
	if (!file) return EXIT_USAGE;
	struct seg *s;
	size_t n;
	char err[300];
	if (path_parse(a->pos[0], &s, &n, err, sizeof err)) {
		fprintf(stderr, "vnet config set: bad key '%s': %s\n", a->pos[0], err);
		return EXIT_USAGE;
	}
	json_t *root = doc_load(file, true);
	int rc = EXIT_USAGE;
	if (!root) goto out;
	json_t *cur = root;
	for (size_t i = 0; i + 1 < n; i++) {
		json_t *next = seg_get(cur, &s[i], err, sizeof err);
		if (!next && s[i].key && json_is_object(cur) && (s[i + 1].key)) {
			next = json_object(); /* create objects on the way */
			json_object_set_new(cur, s[i].key, next);
		}
		if (!next) {
			fprintf(stderr, "vnet config set: %s: %s\n", a->pos[0], err);
			goto out;
		}
		cur = next;
	}
	json_t *v = parse_value(a->pos[1]);
	const struct seg *last = &s[n - 1];
	if (last->key) {
		if (!json_is_object(cur)) {
			fprintf(stderr, "vnet config set: %s: '%s' is not inside an object\n", a->pos[0],
			        last->key);
			json_decref(v);
			goto out;
		}
		json_object_set_new(cur, last->key, v);
	} else {
		long i = json_is_array(cur) ? (last->name ? find_named(cur, last->name) : last->idx) : -1;
		if (i < 0 || (size_t)i >= json_array_size(cur)) {
			seg_get(cur, last, err, sizeof err);
			fprintf(stderr, "vnet config set: %s: %s\n", a->pos[0], err);
			json_decref(v);
			goto out;
		}
		json_array_set_new(cur, (size_t)i, v);
	}
	char what[200];
	snprintf(what, sizeof what, "set %s", a->pos[0]);
	rc = doc_commit(file, root, what);
out:
	json_decref(root);
	segs_free(s, n);
	return rc;
}

/* ---- config add / delete ------------------------------------------------------------ */
enum kind { K_USER, K_GROUP, K_POLICY, K_BAD };
static const char *const kind_names[] = {"user", "group", "policy", NULL};
static const char *const kind_lists[] = {"users", "groups", "policies"};

static enum kind kind_of(const struct cmd_args *a)
{
	int k = name_index(kind_names, a->pos[0]);
	if (k < 0) {
		fprintf(stderr, "vnet %s: '%s' is not one of user, group, policy\n", a->path, a->pos[0]);
		return K_BAD;
	}
	return (enum kind)k;
}

/* "a, b,c" -> ["a", "b", "c"] (empty items dropped). */
static json_t *comma_list(const char *s)
{
	json_t *arr = json_array();
	while (s && *s) {
		size_t l = strcspn(s, ",");
		const char *b = s, *e = s + l;
		while (b < e && (*b == ' ' || *b == '\t')) b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t')) e--;
		if (e > b) json_array_append_new(arr, json_stringn(b, (size_t)(e - b)));
		s += l;
		if (*s == ',') s++;
	}
	return arr;
}

/* The JSON of an option that must be JSON of a given shape, or NULL with a message. */
static json_t *json_opt(const struct cmd_args *a, const char *opt, bool want_object)
{
	const char *t = args_get(a, opt);
	json_error_t je;
	json_t *v = json_loads(t, JSON_REJECT_DUPLICATES, &je);
	if (!v || (want_object && !json_is_object(v)) ||
	    (!want_object && !json_is_object(v) && !json_is_array(v))) {
		fprintf(stderr, "vnet %s: %s: expected a JSON %s%s%s\n", a->path, opt,
		        want_object ? "object" : "object or array", v ? "" : ": ", v ? "" : je.text);
		json_decref(v);
		return NULL;
	}
	return v;
}

static bool only_for(const struct cmd_args *a, enum kind k)
{
	static const char *const user_opts[] = {"--password", "--dialin", NULL};
	static const char *const group_opts[] = {"--member-of", NULL};
	static const char *const policy_opts[] = {"--permission", "--condition", "--profile",
		"--disabled", "--before", NULL};
	const char *const *sets[] = {user_opts, group_opts, policy_opts};
	for (int s = 0; s < 3; s++) {
		if (s == (int)k) continue;
		for (int i = 0; sets[s][i]; i++)
			if (args_has(a, sets[s][i])) {
				fprintf(stderr, "vnet %s: option %s is for a %s, not a %s\n", a->path,
				        sets[s][i], kind_names[s], kind_names[k]);
				return false;
			}
	}
	if (k == K_GROUP && args_has(a, "--groups")) {
		fprintf(stderr, "vnet %s: a group takes --member-of, not --groups\n", a->path);
		return false;
	}
	return true;
}

int cmd_config_add(struct cmd_args *a)
{
	const char *file = need_file(a);
	if (!file) return EXIT_USAGE;
	enum kind k = kind_of(a);
	if (k == K_BAD || !only_for(a, k)) return EXIT_USAGE;
	const char *name = a->pos[1];
	json_t *root = doc_load(file, true), *o = json_object();
	int rc = EXIT_USAGE;
	if (!root || !o) goto out;
	json_object_set_new(o, "name", json_string(name));
	if (k == K_USER) {
		if (args_get(a, "--password"))
			json_object_set_new(o, "password", json_string(args_get(a, "--password")));
		if (args_get(a, "--groups"))
			json_object_set_new(o, "groups", comma_list(args_get(a, "--groups")));
		if (args_get(a, "--dialin"))
			json_object_set_new(o, "dialin", json_string(args_get(a, "--dialin")));
	} else if (k == K_GROUP) {
		if (args_get(a, "--member-of"))
			json_object_set_new(o, "member_of", comma_list(args_get(a, "--member-of")));
	} else {
		if (args_has(a, "--disabled")) json_object_set_new(o, "enabled", json_false());
		json_t *conds = json_array();
		json_object_set_new(o, "conditions", conds);
		if (args_get(a, "--groups")) {
			json_t *c = json_object();
			json_object_set_new(c, "attribute", json_string("Windows-Groups"));
			json_object_set_new(c, "value", comma_list(args_get(a, "--groups")));
			json_array_append_new(conds, c);
		}
		if (args_get(a, "--condition")) {
			json_t *c = json_opt(a, "--condition", false);
			if (!c) goto out;
			if (json_is_object(c)) json_array_append(conds, c);
			else json_array_extend(conds, c);
			json_decref(c);
		}
		const char *perm = args_get(a, "--permission");
		json_object_set_new(o, "permission", json_string(perm ? perm : "grant"));
		if (args_get(a, "--profile")) {
			json_t *p = json_opt(a, "--profile", true);
			if (!p) goto out;
			json_object_set_new(o, "profile", p);
		}
	}
	const char *list = kind_lists[k];
	json_t *arr = json_object_get(root, list);
	if (!arr || json_is_null(arr)) {
		arr = json_array();
		json_object_set_new(root, list, arr);
	}
	if (!json_is_array(arr)) {
		fprintf(stderr, "vnet %s: %s: \"%s\" is not a list\n", a->path, file, list);
		goto out;
	}
	if (find_named(arr, name) >= 0) {
		fprintf(stderr, "vnet %s: %s: a %s named \"%s\" already exists\n", a->path, file,
		        kind_names[k], name);
		goto out;
	}
	const char *before = args_get(a, "--before");
	if (before) {
		long at = find_named(arr, before);
		if (at < 0) {
			fprintf(stderr, "vnet %s: --before: %s: no policy named \"%s\"\n", a->path, file,
			        before);
			goto out;
		}
		json_array_insert(arr, (size_t)at, o);
	} else {
		json_array_append(arr, o);
	}
	char what[300];
	snprintf(what, sizeof what, "add %s \"%s\"", kind_names[k], name);
	rc = doc_commit(file, root, what);
out:
	json_decref(o);
	json_decref(root);
	return rc;
}

int cmd_config_delete(struct cmd_args *a)
{
	const char *file = need_file(a);
	if (!file) return EXIT_USAGE;
	enum kind k = kind_of(a);
	if (k == K_BAD) return EXIT_USAGE;
	json_t *root = doc_load(file, false);
	int rc = EXIT_USAGE;
	if (!root) return rc;
	json_t *arr = json_object_get(root, kind_lists[k]);
	long at = json_is_array(arr) ? find_named(arr, a->pos[1]) : -1;
	if (at < 0) {
		fprintf(stderr, "vnet %s: %s: no %s named \"%s\"\n", a->path, file, kind_names[k],
		        a->pos[1]);
	} else {
		json_array_remove(arr, (size_t)at);
		char what[300];
		snprintf(what, sizeof what, "delete %s \"%s\"", kind_names[k], a->pos[1]);
		rc = doc_commit(file, root, what);
	}
	json_decref(root);
	return rc;
}

int cmd_config_reset(struct cmd_args *a)
{
	const char *file = need_file(a);
	if (!file) return EXIT_USAGE;
	json_t *root = json_object();
	int rc = doc_commit(file, root, "reset");
	json_decref(root);
	return rc;
}

/* ---- config show ----------------------------------------------------------------------- */
int cmd_config_show(struct cmd_args *a)
{
	json_t *root = doc_load(a->config, false);
	if (!root) return EXIT_USAGE;
	json_t *v = root;
	int rc = EXIT_YES;
	if (a->npos == 1) {
		struct seg *s;
		size_t n;
		char err[300];
		if (path_parse(a->pos[0], &s, &n, err, sizeof err)) {
			fprintf(stderr, "vnet config show: bad key '%s': %s\n", a->pos[0], err);
			json_decref(root);
			return EXIT_USAGE;
		}
		for (size_t i = 0; i < n && v; i++) v = seg_get(v, &s[i], err, sizeof err);
		segs_free(s, n);
		if (!v) {
			fprintf(stderr, "vnet config show: %s: %s\n", a->pos[0], err);
			rc = EXIT_USAGE;
		}
	}
	if (v) {
		char *t = json_dumps(v, FILE_FLAGS | JSON_ENCODE_ANY);
		if (t) printf("%s\n", t);
		free(t);
	}
	json_decref(root);
	return rc;
}

/* ---- config dump ----------------------------------------------------------------------- */
/* One shell word: as is when it needs no quoting, else in single quotes. */
static void put_word(const char *s)
{
	bool plain = *s != 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("._/:@+=,-", *p)))
			plain = false;
	if (plain) {
		fputs(s, stdout);
		return;
	}
	putchar('\'');
	for (const char *p = s; *p; p++) {
		if (*p == '\'') fputs("'\\''", stdout);
		else putchar(*p);
	}
	putchar('\'');
}

static void put_json(const json_t *v)
{
	char *t = json_dumps(v, DUMP_FLAGS);
	put_word(t ? t : "null");
	free(t);
}

/* `set PATH VALUE` for one value. */
static void dump_set(const char *path, const json_t *v)
{
	fputs("set ", stdout);
	put_word(path);
	putchar(' ');
	put_json(v);
	putchar('\n');
}

/* A comma list option when every item is a string without a comma. */
static bool commas_ok(const json_t *arr)
{
	if (!json_is_array(arr) || !json_array_size(arr)) return false;
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
		if (!json_is_string(e) || strchr(json_string_value(e), ',') || !*json_string_value(e))
			return false;
	return true;
}

static void put_commas(const json_t *arr)
{
	size_t len = 1, i;
	json_t *e;
	json_array_foreach(arr, i, e) len += strlen(json_string_value(e)) + 1;
	char *s = malloc(len), *o = s;
	if (!s) return;
	json_array_foreach(arr, i, e) {
		size_t l = strlen(json_string_value(e));
		if (i) *o++ = ',';
		memcpy(o, json_string_value(e), l);
		o += l;
	}
	*o = 0;
	put_word(s);
	free(s);
}

/* Rest of an element's keys as `set LIST[NAME].KEY VALUE`. */
static void dump_rest(const char *list, const char *name, size_t idx, const json_t *o,
                      const char *const *done)
{
	char ibuf[24];
	if (strchr(name, ']')) { /* not writable inside [...]: the position names it */
		snprintf(ibuf, sizeof ibuf, "%zu", idx);
		name = ibuf;
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v) {
		bool skip = false;
		for (int i = 0; done[i]; i++) skip |= strcmp(done[i], k) == 0;
		if (skip) continue;
		size_t n = strlen(list) + strlen(name) + strlen(k) + 8;
		char *path = malloc(n);
		if (!path) continue;
		snprintf(path, n, "%s[%s].%s", list, name, k);
		dump_set(path, v);
		free(path);
	}
}

/* Whether `add` writes the element's keys in the order they have: its name first, then
 * the keys the options write in the order they write them, then the rest (set one by
 * one, each appended). Otherwise the whole element is set at once after a bare add. */
static bool add_order_kept(const json_t *o, const char *const *opt_keys, const char *must)
{
	const char *k;
	json_t *v;
	int state = 0, rank = 0;
	bool first = true, rest = false, saw_must = !must;
	json_object_foreach((json_t *)o, k, v) {
		if (first) {
			first = false;
			if (strcmp(k, "name")) return false;
			continue;
		}
		int r = -1;
		for (int i = 0; opt_keys[i]; i++)
			if (!strcmp(opt_keys[i], k)) r = i;
		if (must && !strcmp(k, must)) saw_must = true;
		if (r < 0) {
			rest = true;
			continue;
		}
		if (rest || r < state) return false;
		state = r + 1;
		rank++;
	}
	(void)rank;
	return saw_must;
}

static void dump_whole(const char *list, const char *kind, const char *name, size_t idx,
                       const json_t *o)
{
	printf("add %s ", kind);
	put_word(name);
	if (!strcmp(kind, "policy")) { /* a policy needs a condition and a permission to load */
		fputs(" --permission ", stdout);
		put_word(json_string_value(json_object_get(o, "permission")));
		fputs(" --condition ", stdout);
		put_json(json_object_get(o, "conditions"));
	}
	putchar('\n');
	char path[64];
	snprintf(path, sizeof path, "%s[%zu]", list, idx);
	dump_set(path, o);
}

static void dump_user(const json_t *u, size_t idx)
{
	const char *name = json_string_value(json_object_get(u, "name"));
	static const char *const opt_keys[] = {"password", "groups", "dialin", NULL};
	const json_t *gl = json_object_get(u, "groups");
	if (!add_order_kept(u, opt_keys, NULL) || (gl && !commas_ok(gl)) ||
	    (json_object_get(u, "password") && !json_is_string(json_object_get(u, "password"))) ||
	    (json_object_get(u, "dialin") && !json_is_string(json_object_get(u, "dialin")))) {
		dump_whole("users", "user", name, idx, u);
		return;
	}
	const char *done[6] = {"name", NULL};
	int nd = 1;
	fputs("add user ", stdout);
	put_word(name);
	const json_t *pw = json_object_get(u, "password");
	if (json_is_string(pw)) {
		fputs(" --password ", stdout);
		put_word(json_string_value(pw));
		done[nd++] = "password";
	}
	const json_t *g = json_object_get(u, "groups");
	if (commas_ok(g)) {
		fputs(" --groups ", stdout);
		put_commas(g);
		done[nd++] = "groups";
	}
	const json_t *d = json_object_get(u, "dialin");
	if (json_is_string(d)) {
		fputs(" --dialin ", stdout);
		put_word(json_string_value(d));
		done[nd++] = "dialin";
	}
	putchar('\n');
	dump_rest("users", name, idx, u, done);
}

static void dump_policy(const json_t *p, size_t idx)
{
	const char *name = json_string_value(json_object_get(p, "name"));
	static const char *const opt_keys[] = {"enabled", "conditions", "permission", "profile",
		NULL};
	const json_t *en = json_object_get(p, "enabled");
	if (!add_order_kept(p, opt_keys, "conditions") || !json_object_get(p, "permission") ||
	    (en && !json_is_false(en)) ||
	    (json_object_get(p, "profile") && !json_is_object(json_object_get(p, "profile")))) {
		dump_whole("policies", "policy", name, idx, p);
		return;
	}
	const char *done[8] = {"name", "conditions", "permission", NULL};
	int nd = 3;
	fputs("add policy ", stdout);
	put_word(name);
	fputs(" --permission ", stdout);
	put_word(json_string_value(json_object_get(p, "permission")));
	fputs(" --condition ", stdout);
	put_json(json_object_get(p, "conditions"));
	const json_t *pr = json_object_get(p, "profile");
	if (json_is_object(pr)) {
		fputs(" --profile ", stdout);
		put_json(pr);
		done[nd++] = "profile";
	}
	if (json_is_false(json_object_get(p, "enabled"))) {
		fputs(" --disabled", stdout);
		done[nd++] = "enabled";
	}
	putchar('\n');
	dump_rest("policies", name, idx, p, done);
}

static void dump_list(const char *key, const json_t *arr)
{
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		if (!strcmp(key, "users")) dump_user(e, i);
		else dump_policy(e, i);
	}
}

int cmd_config_dump(struct cmd_args *a)
{
	const char *file = a->config ? a->config : "samples/vnet.json";
	json_t *root = doc_load(a->config, false);
	if (!root) return EXIT_USAGE;
	if (doc_validate(file, root, "dump")) {
		json_decref(root);
		return EXIT_USAGE;
	}
	printf("# vnet configuration %s, as commands that recreate it:\n", file);
	printf("#   vnet --config NEW.json -f THIS-FILE\n");
	printf("config\nreset\n");
	/* users and policies name groups: when the groups come later in the file, the lists
	 * keep their place with an empty value and are filled once the groups exist */
	const char *k;
	json_t *v;
	bool groups_done = !json_object_get(root, "groups");
	const char *deferred[2];
	int ndef = 0;
	json_object_foreach(root, k, v) {
		bool list = !strcmp(k, "users") || !strcmp(k, "policies");
		if (list && json_is_array(v) && json_array_size(v)) {
			if (groups_done) {
				dump_list(k, v);
			} else {
				json_t *empty = json_array();
				dump_set(k, empty);
				json_decref(empty);
				if (ndef < 2) deferred[ndef++] = k;
			}
			continue;
		}
		if (!strcmp(k, "groups")) groups_done = true;
		dump_set(k, v);
	}
	for (int i = 0; i < ndef; i++) dump_list(deferred[i], json_object_get(root, deferred[i]));
	printf("..\n");
	json_decref(root);
	return EXIT_YES;
}
