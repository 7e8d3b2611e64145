/* Parsing connection attempts (docs/formats.md). */
#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "attempt.h"
#include "ipfilter.h"
#include "jsonpos.h"
#include "readfile.h"

/* Where problems are reported: the document slice an attempt came from. */
struct actx {
	const struct config *c;
	struct config_problems *probs;
	const char *text; /* the slice holding this attempt's JSON value */
	size_t len;
	int base_line, base_col; /* position of the slice start in the file */
	char path[160], ptr[160];
	size_t npath, nptr;
	int nprobs;
};

static void slice_pos(const struct actx *x, const char *ptr, int *line, int *col)
{
	jsonpos_find(x->text, x->len, ptr, line, col);
	if (*line == 0) return;
	if (*line == 1) *col += x->base_col - 1;
	*line += x->base_line - 1;
}

__attribute__((format(printf, 3, 4)))
static void aprob(struct actx *x, const char *key, const char *fmt, ...)
{
	char ptr[200], path[200], msg[600];
	snprintf(ptr, sizeof ptr, "%s%s%s", x->ptr, key ? "/" : "", key ? key : "");
	snprintf(path, sizeof path, "%s%s%s", x->path, key && x->path[0] ? "." : "",
	         key ? key : "");
	int o = snprintf(msg, sizeof msg, "%s%s", path, path[0] ? ": " : "");
	if (o < 0) o = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + o, sizeof msg - (size_t)o, fmt, ap);
	va_end(ap);
	int line = 0, col = 0;
	slice_pos(x, ptr, &line, &col);
	config_problem_add(x->probs, line, col, msg);
	x->nprobs++;
}

static char *str(struct actx *x, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) return NULL;
	if (!json_is_string(v)) {
		aprob(x, key, "expected a string, got %s", json_type_phrase(v));
		return NULL;
	}
	return strdup(json_string_value(v));
}

static int enm(struct actx *x, json_t *o, const char *key, const char *const *names, int def)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) return def;
	if (!json_is_string(v)) {
		aprob(x, key, "expected a string, got %s", json_type_phrase(v));
		return def;
	}
	int i = name_index(names, json_string_value(v));
	if (i < 0) {
		char list[400];
		mask_str(names, 0xFFFFFFFFu, list, sizeof list);
		aprob(x, key, "\"%s\" is not one of %s", json_string_value(v), list);
		return def;
	}
	return i;
}

static bool required(struct actx *x, json_t *o, const char *key)
{
	if (json_object_get(o, key)) return true;
	aprob(x, NULL, "missing \"%s\"", key);
	return false;
}

/* days since 1970-01-01 of a civil date (proleptic Gregorian) */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int attempt_parse_time(const char *s, unsigned *minute_of_week, int64_t *epoch)
{
	int y, mo, d, h, mi, se = 0, n = 0;
	char sep;
	size_t len = strlen(s);
	if (len != 16 && len != 19) return -1;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool digit = isdigit((unsigned char)c);
		if ((i == 4 || i == 7) ? c != '-' : (i == 13 || i == 16) ? c != ':' :
		    i == 10 ? (c != 'T' && c != ' ') : !digit)
			return -1;
	}
	if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &n) != 6) return -1;
	if (len == 19 && sscanf(s + 17, "%2d", &se) != 1) return -1;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59)
		return -1;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap) return -1;
	int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	int wd = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
	*minute_of_week = (unsigned)(wd * 1440 + h * 60 + mi);
	*epoch = days * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

const char *const client_os_names[] = {"xp", "vista", "7", NULL};

int attempt_automatic_order(int client_os, enum tunnel_type out[TUN_N])
{
	/* Windows XP: L2TP/IPsec, then PPTP. Vista: PPTP, L2TP, SSTP. Windows 7 and later:
	 * IKEv2, SSTP, PPTP, L2TP (docs/formats.md) */
	static const enum tunnel_type xp[] = {TUN_L2TP, TUN_PPTP};
	static const enum tunnel_type vista[] = {TUN_PPTP, TUN_L2TP, TUN_SSTP};
	static const enum tunnel_type seven[] = {TUN_IKEV2, TUN_SSTP, TUN_PPTP, TUN_L2TP};
	const enum tunnel_type *v = client_os == COS_XP ? xp : client_os == COS_VISTA ? vista : seven;
	int n = client_os == COS_XP ? 2 : client_os == COS_VISTA ? 3 : 4;
	for (int i = 0; i < n; i++) out[i] = v[i];
	return n;
}

static int bool_member(struct actx *x, json_t *o, const char *key, int def)
{
	json_t *b = json_object_get(o, key);
	if (!b || json_is_null(b)) return def;
	if (!json_is_boolean(b)) {
		aprob(x, key, "expected true or false, got %s", json_type_phrase(b));
		return def;
	}
	return json_is_true(b);
}

/* Fields the knowledge base needs: the automatic order, the IPsec key, the computer,
 * IPX, the router role and the traffic once connected. */
static void parse_more(struct actx *x, json_t *o, struct attempt *a)
{
	a->client_os = enm(x, o, "client_os", client_os_names, COS_7);
	if (json_object_get(o, "client_os") && !a->automatic)
		aprob(x, "client_os", "only meaningful with \"tunnel\": \"automatic\"");
	if (a->automatic) {
		enum tunnel_type order[TUN_N];
		attempt_automatic_order(a->client_os, order);
		a->tunnel = order[0];
	}
	a->l2tp_psk = str(x, o, "l2tp_psk");
	if (a->l2tp_psk && !a->l2tp_psk[0])
		aprob(x, "l2tp_psk", "an empty pre-shared key (leave the key out for a certificate)");
	a->computer_name = str(x, o, "computer_name");
	a->request_ipx_node = bool_member(x, o, "request_ipx_node", 0);
	a->ping_fails = bool_member(x, o, "ping_fails", -1);
	a->router = bool_member(x, o, "router", 0);
	json_t *nw = json_object_get(o, "networks");
	if (nw && !json_is_null(nw)) {
		if (!a->router) aprob(x, "networks", "only meaningful with \"router\": true");
		if (!json_is_array(nw)) {
			aprob(x, "networks", "expected an array of networks, got %s", json_type_phrase(nw));
		} else {
			a->networks = calloc(json_array_size(nw) + 1, sizeof *a->networks);
			size_t i;
			json_t *e;
			json_array_foreach(nw, i, e) {
				char key[40];
				snprintf(key, sizeof key, "networks/%zu", i);
				struct ip_range r;
				if (!json_is_string(e) || config_cidr_parse(json_string_value(e), &r))
					aprob(x, key, "not an IPv4 network (10.20.0.0/16)");
				else if (a->networks)
					a->networks[a->nnetworks++] = r;
			}
		}
	}
	json_t *tr = json_object_get(o, "traffic");
	if (tr && !json_is_null(tr)) {
		if (!json_is_array(tr)) {
			aprob(x, "traffic", "expected an array of packets (\"tcp 10.0.0.5 port 445\"), got %s",
			      json_type_phrase(tr));
		} else if (json_array_size(tr) > ATTEMPT_MAX_TRAFFIC) {
			aprob(x, "traffic", "at most %d packets", ATTEMPT_MAX_TRAFFIC);
		} else {
			a->traffic = calloc(json_array_size(tr) + 1, sizeof *a->traffic);
			size_t i;
			json_t *e;
			json_array_foreach(tr, i, e) {
				char key[40], rule[300], err[200];
				snprintf(key, sizeof key, "traffic/%zu", i);
				struct ipfilter_rule r;
				const char *t = json_string_value(e);
				if (!t) {
					aprob(x, key, "expected a packet as text (\"tcp 10.0.0.5 port 445\")");
					continue;
				}
				snprintf(rule, sizeof rule, "permit %s", t);
				if (ipfilter_parse_rule(rule, &r, err, sizeof err))
					aprob(x, key, "\"%s\": %s", t, err);
				else if (r.proto < 0 || r.mask != 0xFFFFFFFFu)
					aprob(x, key, "\"%s\": a packet names its protocol and one address "
					      "(\"udp 10.0.0.5 port 53\")", t);
				else if (a->traffic)
					a->traffic[a->ntraffic++] = (struct traffic){strdup(t), r.proto, r.addr,
					                                             r.port};
			}
		}
	}
}

static void parse_one(struct actx *x, json_t *o, struct attempt *a)
{
	static const char *const keys[] = {"name", "user", "password", "time", "tunnel", "auth",
		"eap_type", "encryption", "calling_station_id", "called_station_id", "nas_port_type",
		"client_ip", "nas_ip", "nas_identifier", "client_vendor", "client_friendly_name",
		"ms_ras_vendor", "framed_protocol", "service_type", "links", "bap", "requested_ip",
		"protocols", "client_os", "l2tp_psk", "computer_name", "request_ipx_node",
		"ping_fails", "router", "networks", "traffic", NULL};
	a->eap_type = -1;
	if (!json_is_object(o)) {
		aprob(x, NULL, "an attempt must be a JSON object, got %s", json_type_phrase(o));
		return;
	}
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		bool ok = false;
		for (size_t i = 0; keys[i]; i++)
			if (strcmp(keys[i], k) == 0) ok = true;
		if (!ok) {
			char list[600] = "";
			size_t off = 0;
			for (size_t i = 0; keys[i] && off < sizeof list; i++) {
				int w = snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", keys[i]);
				if (w > 0) off += (size_t)w;
			}
			aprob(x, k, "unknown key (expected one of %s)", list);
		}
	}
	a->label = str(x, o, "name");
	json_t *u = json_object_get(o, "user");
	if (required(x, o, "user")) {
		if (json_is_string(u)) {
			a->user_name = strdup(json_string_value(u));
		} else if (json_is_object(u)) {
			a->inline_user = calloc(1, sizeof *a->inline_user);
			char path[200], ptr[200];
			snprintf(path, sizeof path, "%s%suser", x->path, x->path[0] ? "." : "");
			snprintf(ptr, sizeof ptr, "%s/user", x->ptr);
			struct config_problems local = {0};
			if (!a->inline_user ||
			    config_parse_user(x->c, u, x->text, x->len, path, ptr, a->inline_user,
			                      &local)) {
				free(a->inline_user);
				a->inline_user = NULL;
				x->nprobs++;
			}
			for (size_t i = 0; i < local.n; i++) {
				int line = local.v[i].line, col = local.v[i].col;
				if (line == 1) col += x->base_col - 1;
				if (line) line += x->base_line - 1;
				config_problem_add(x->probs, line, col, local.v[i].msg);
			}
			config_problems_free(&local);
			if (a->inline_user) a->user_name = strdup(a->inline_user->name);
		} else {
			aprob(x, "user", "expected a user name or a user object, got %s", json_type_phrase(u));
		}
	}
	a->password = str(x, o, "password");
	char *t = str(x, o, "time");
	if (t) {
		snprintf(a->time_text, sizeof a->time_text, "%s", t);
		if (attempt_parse_time(t, &a->minute_of_week, &a->local_epoch))
			aprob(x, "time", "\"%s\" is not a local time YYYY-MM-DDTHH:MM[:SS] (the server's "
			      "clock, without a zone)", t);
		free(t);
	} else {
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(a->time_text, sizeof a->time_text, "%Y-%m-%dT%H:%M:%S", &tm);
		attempt_parse_time(a->time_text, &a->minute_of_week, &a->local_epoch);
	}
	if (required(x, o, "tunnel")) {
		json_t *tv = json_object_get(o, "tunnel");
		if (json_is_string(tv) && strcasecmp(json_string_value(tv), "automatic") == 0) {
			a->automatic = true;
		} else if (json_is_string(tv) && name_index(tunnel_names, json_string_value(tv)) < 0) {
			aprob(x, "tunnel", "\"%s\" is not one of pptp, l2tp, sstp, ikev2, automatic",
			      json_string_value(tv));
		} else {
			a->tunnel = (enum tunnel_type)enm(x, o, "tunnel", tunnel_names, TUN_PPTP);
		}
	}
	if (required(x, o, "auth"))
		a->auth = (enum auth_method)enm(x, o, "auth", auth_method_names, AUTH_MSCHAPV2);
	if (json_object_get(o, "eap_type")) {
		if (a->auth != AUTH_EAP)
			aprob(x, "eap_type", "only meaningful with \"auth\": \"eap\"");
		else
			a->eap_type = enm(x, o, "eap_type", eap_type_names, -1);
	} else if (a->auth == AUTH_EAP && json_object_get(o, "auth")) {
		aprob(x, NULL, "missing \"eap_type\" (auth is eap)");
	}
	a->encryption = (enum enc_level)enm(x, o, "encryption", enc_level_names, ENC_STRONGEST);
	a->calling_station_id = str(x, o, "calling_station_id");
	a->called_station_id = str(x, o, "called_station_id");
	a->nas_port_type = (enum nas_port_type)enm(x, o, "nas_port_type", nas_port_type_names,
	                                           NPT_VIRTUAL);
	a->client_ip = str(x, o, "client_ip");
	a->nas_ip = str(x, o, "nas_ip");
	a->nas_identifier = str(x, o, "nas_identifier");
	a->client_vendor = str(x, o, "client_vendor");
	a->client_friendly_name = str(x, o, "client_friendly_name");
	a->ms_ras_vendor = str(x, o, "ms_ras_vendor");
	if (!json_object_get(o, "ms_ras_vendor")) a->ms_ras_vendor = strdup("311");
	a->framed_protocol = enm(x, o, "framed_protocol", framed_proto_names,
	                         a->tunnel == TUN_IKEV2 ? -1 : FP_PPP);
	a->service_type = (enum service_type)enm(x, o, "service_type", service_type_names,
	                                         SVT_FRAMED);
	a->links = 1;
	json_t *l = json_object_get(o, "links");
	if (l && !json_is_null(l)) {
		if (!json_is_integer(l) || json_integer_value(l) < 1 || json_integer_value(l) > 1000)
			aprob(x, "links", "expected a link count from 1 to 1000");
		else
			a->links = (int)json_integer_value(l);
	}
	json_t *b = json_object_get(o, "bap");
	if (b && !json_is_null(b)) {
		if (!json_is_boolean(b)) aprob(x, "bap", "expected true or false, got %s", json_type_phrase(b));
		else a->bap = json_is_true(b);
	}
	char *rq = str(x, o, "requested_ip");
	if (rq) {
		if (ipv4_parse(rq, &a->requested_ip))
			aprob(x, "requested_ip", "\"%s\" is not an IPv4 address", rq);
		else
			a->has_requested_ip = true;
		free(rq);
	}
	parse_more(x, o, a);
	a->protocols = 1u << LAN_IP;
	json_t *pr = json_object_get(o, "protocols");
	if (pr && !json_is_null(pr)) {
		if (!json_is_array(pr)) {
			aprob(x, "protocols", "expected an array of protocol names, got %s", json_type_phrase(pr));
		} else {
			a->protocols = 0;
			size_t i;
			json_t *e;
			json_array_foreach(pr, i, e) {
				int p = json_is_string(e) ? name_index(lan_proto_names, json_string_value(e)) : -1;
				if (p < 0) {
					char key[40];
					snprintf(key, sizeof key, "protocols/%zu", i);
					aprob(x, key, "not one of ip, ipx, appletalk, netbeui");
				} else {
					a->protocols |= 1u << p;
				}
			}
		}
	}
}

void attempt_init(struct attempt *a)
{
	memset(a, 0, sizeof *a);
	a->eap_type = -1;
	a->encryption = ENC_STRONGEST;
	a->nas_port_type = NPT_VIRTUAL;
	a->framed_protocol = FP_PPP;
	a->service_type = SVT_FRAMED;
	a->links = 1;
	a->protocols = 1u << LAN_IP;
	a->ms_ras_vendor = strdup("311");
	a->client_os = COS_7;
	a->ping_fails = -1;
}

void attempt_free(struct attempt *a)
{
	if (!a) return;
	free(a->label);
	free(a->file);
	free(a->pointer);
	free(a->user_name);
	if (a->inline_user) {
		config_user_free(a->inline_user);
		free(a->inline_user);
	}
	free(a->password);
	free(a->calling_station_id);
	free(a->called_station_id);
	free(a->client_ip);
	free(a->nas_ip);
	free(a->nas_identifier);
	free(a->client_vendor);
	free(a->client_friendly_name);
	free(a->ms_ras_vendor);
	free(a->l2tp_psk);
	free(a->computer_name);
	free(a->networks);
	for (size_t i = 0; i < a->ntraffic; i++) free(a->traffic[i].text);
	free(a->traffic);
	memset(a, 0, sizeof *a);
}

void attempts_free(struct attempt_list *l)
{
	for (size_t i = 0; i < l->n; i++) attempt_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int add(struct attempt_list *l, size_t *cap)
{
	if (l->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct attempt *nv = realloc(l->v, nc * sizeof *nv);
		if (!nv) return -1;
		l->v = nv;
		*cap = nc;
	}
	memset(&l->v[l->n], 0, sizeof l->v[l->n]);
	return 0;
}

static void line_col_at(const char *text, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

#define MAX_ATTEMPTS 1000000

int attempts_parse(const struct config *c, const char *file, const char *text, size_t len,
                   struct attempt_list *out, struct config_problems *probs)
{
	out->v = NULL;
	out->n = 0;
	/* a byte order mark is not part of the JSON; positions count from after it */
	size_t bom = utf8_bom_len(text, len);
	text += bom;
	len -= bom;
	size_t cap = 0, off = 0, doc = 0;
	int bad = 0;
	json_error_t je;
	/* one value, or several values one after another (JSON lines) */
	while (off < len) {
		while (off < len && isspace((unsigned char)text[off])) off++;
		if (off >= len) break;
		json_t *v = json_loadb(text + off, len - off, JSON_DISABLE_EOF_CHECK |
		                       JSON_REJECT_DUPLICATES, &je);
		int bl, bc;
		line_col_at(text, off, &bl, &bc);
		if (!v) {
			char msg[300];
			snprintf(msg, sizeof msg, "not valid JSON: %s", je.text);
			int el, ec;
			jsonpos_error(text + off, len - off, &je, &el, &ec);
			int line = el + bl - 1;
			int col = el == 1 ? ec + bc - 1 : ec;
			config_problem_add(probs, line, col, msg);
			bad = 1;
			break;
		}
		size_t used = je.position;
		if (used == 0 || used > len - off) used = len - off; /* defensive: always progress */
		struct actx x = {.c = c, .probs = probs, .text = text + off, .len = used,
		                 .base_line = bl, .base_col = bc};
		bool array = json_is_array(v) && doc == 0;
		/* a top-level array is a list of attempts only when it is the whole input */
		size_t rest = off + used;
		while (rest < len && isspace((unsigned char)text[rest])) rest++;
		if (array && rest < len) array = false;
		size_t n = array ? json_array_size(v) : 1;
		for (size_t i = 0; i < n && out->n < MAX_ATTEMPTS; i++) {
			json_t *o = array ? json_array_get(v, i) : v;
			if (add(out, &cap)) {
				json_decref(v);
				attempts_free(out);
				return -1;
			}
			struct attempt *a = &out->v[out->n++];
			if (array) {
				snprintf(x.path, sizeof x.path, "[%zu]", i);
				snprintf(x.ptr, sizeof x.ptr, "/%zu", i);
			} else if (doc > 0 || rest < len) {
				snprintf(x.path, sizeof x.path, "[%zu]", doc);
				x.ptr[0] = 0;
			} else {
				x.path[0] = x.ptr[0] = 0;
			}
			int line = 0, col = 0;
			slice_pos(&x, x.ptr, &line, &col);
			a->line = line;
			a->file = file ? strdup(file) : NULL;
			a->pointer = strdup(array ? x.ptr : "");
			parse_one(&x, o, a);
			if (!a->user_name && !x.nprobs) x.nprobs++;
		}
		if (x.nprobs) bad = 1;
		json_decref(v);
		off += used;
		doc++;
	}
	if (!bad && out->n == 0) {
		config_problem_add(probs, 0, 0, "no attempts in the input");
		bad = 1;
	}
	if (bad) {
		attempts_free(out);
		return -1;
	}
	return 0;
}
