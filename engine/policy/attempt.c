/* Parsing connection attempts (docs/formats.md). */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include "policy/attempt.h"
#include "policy/ipfilter.h"
#include "jsonpos.h"
#include "readfile.h"
#include "jsonw.h"

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
	int y, mo, d, h, mi, se = 0;
	size_t len = strlen(s);
	if (len != 16 && len != 19) return -1;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool digit = isdigit((unsigned char)c);
		if ((i == 4 || i == 7) ? c != '-' : (i == 13 || i == 16) ? c != ':' :
		    i == 10 ? (c != 'T' && c != ' ') : !digit)
			return -1;
	}
	/* every digit was checked above */
#define DIG(i) (s[i] - '0')
	y = DIG(0) * 1000 + DIG(1) * 100 + DIG(2) * 10 + DIG(3);
	mo = DIG(5) * 10 + DIG(6);
	d = DIG(8) * 10 + DIG(9);
	h = DIG(11) * 10 + DIG(12);
	mi = DIG(14) * 10 + DIG(15);
	if (len == 19) se = DIG(17) * 10 + DIG(18);
#undef DIG
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
const char *const client_os_titles[] = {"Windows XP", "Windows Vista", "Windows 7 and later",
                                        NULL};

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

/* an attempt without "time" happens now, on the local clock */
static void attempt_time_now(struct attempt *a)
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(a->time_text, sizeof a->time_text, "%Y-%m-%dT%H:%M:%S", &tm);
	attempt_parse_time(a->time_text, &a->minute_of_week, &a->local_epoch);
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
		attempt_time_now(a);
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



/* JSON's white space */
static bool json_space(unsigned char c)
{
	return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

/* ---- the common case without a JSON tree ---------------------------------------------- */
/* Most attempts are one flat object of known keys with valid values: read it directly
 * into the attempt. Anything else (a syntax error, an unknown or repeated key, a null, a
 * \u escape, a number that is not a plain integer, a nested object such as an inline
 * user, an invalid value) makes parse_flat give up, and the attempt is parsed again
 * through jansson and parse_one, which report every problem with its position. The
 * result is the same either way (tests/unit/test_attempt_reader.c compares them). */
enum flat_key {
	FK_NAME, FK_USER, FK_PASSWORD, FK_TIME, FK_TUNNEL, FK_AUTH, FK_EAP_TYPE, FK_ENCRYPTION,
	FK_CALLING, FK_CALLED, FK_NAS_PORT_TYPE, FK_CLIENT_IP, FK_NAS_IP, FK_NAS_IDENTIFIER,
	FK_CLIENT_VENDOR, FK_CLIENT_FRIENDLY_NAME, FK_MS_RAS_VENDOR, FK_FRAMED_PROTOCOL,
	FK_SERVICE_TYPE, FK_LINKS, FK_BAP, FK_REQUESTED_IP, FK_PROTOCOLS, FK_N
};
/* the same keys as parse_one's, in the same order */
static const char *const flat_keys[] = {"name", "user", "password", "time", "tunnel", "auth",
	"eap_type", "encryption", "calling_station_id", "called_station_id", "nas_port_type",
	"client_ip", "nas_ip", "nas_identifier", "client_vendor", "client_friendly_name",
	"ms_ras_vendor", "framed_protocol", "service_type", "links", "bap", "requested_ip",
	"protocols", NULL};

struct flat {
	const char *p, *end;
};

static void flat_ws(struct flat *f)
{
	while (f->p < f->end && json_space((unsigned char)*f->p)) f->p++;
}

/* a string at f->p (the opening quote) as a new C string; NULL to give up */
static char *flat_str(struct flat *f)
{
	const char *s = ++f->p;
	bool esc = false;
	while (f->p < f->end && *f->p != '"') {
		unsigned char c = (unsigned char)*f->p;
		if (c < 0x20) return NULL;
		if (c == '\\') {
			if (f->p + 1 >= f->end || f->p[1] == 'u') return NULL;
			esc = true;
			f->p++;
		}
		f->p++;
	}
	if (f->p >= f->end) return NULL;
	size_t n = (size_t)(f->p - s);
	f->p++;
	if (!jw_utf8_valid(s, n)) return NULL;
	char *out = malloc(n + 1);
	if (!out) return NULL;
	if (!esc) {
		memcpy(out, s, n);
		out[n] = 0;
		return out;
	}
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		switch (s[++i]) {
		case '"': out[o++] = '"'; break;
		case '\\': out[o++] = '\\'; break;
		case '/': out[o++] = '/'; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		default: free(out); return NULL;
		}
	}
	out[o] = 0;
	return out;
}

static bool flat_lit(struct flat *f, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(f->end - f->p) < n || memcmp(f->p, lit, n)) return false;
	f->p += n;
	return true;
}

/* an enum value: a string that names one of `names` */
static int flat_enum(struct flat *f, const char *const *names)
{
	if (*f->p != '"') return -1;
	char *s = flat_str(f);
	int i = s ? name_index(names, s) : -1;
	free(s);
	return i;
}

static int parse_flat(const struct config *c, const char *text, size_t len, struct attempt *a)
{
	struct flat f = {text, text + len};
	uint32_t seen = 0;
	char *time_s = NULL;
	a->eap_type = -1;
	a->encryption = ENC_STRONGEST;
	a->nas_port_type = NPT_VIRTUAL;
	a->service_type = SVT_FRAMED;
	a->links = 1;
	a->protocols = 1u << LAN_IP;
	a->framed_protocol = -2; /* set below from the tunnel */
	flat_ws(&f);
	if (f.p >= f.end || *f.p++ != '{') goto give_up;
	flat_ws(&f);
	if (f.p < f.end && *f.p == '}') goto give_up; /* no user: parse_one says so */
	for (;;) {
		flat_ws(&f);
		if (f.p >= f.end || *f.p != '"') goto give_up;
		char *key = flat_str(&f);
		if (!key) goto give_up;
		int k = name_index(flat_keys, key);
		bool exact = k >= 0 && strcmp(flat_keys[k], key) == 0;
		free(key);
		if (!exact || (seen >> k & 1)) goto give_up;
		seen |= 1u << k;
		flat_ws(&f);
		if (f.p >= f.end || *f.p++ != ':') goto give_up;
		flat_ws(&f);
		if (f.p >= f.end) goto give_up;
		char **sp = NULL;
		switch ((enum flat_key)k) {
		case FK_NAME: sp = &a->label; break;
		case FK_USER: sp = &a->user_name; break;
		case FK_PASSWORD: sp = &a->password; break;
		case FK_TIME: sp = &time_s; break;
		case FK_CALLING: sp = &a->calling_station_id; break;
		case FK_CALLED: sp = &a->called_station_id; break;
		case FK_CLIENT_IP: sp = &a->client_ip; break;
		case FK_NAS_IP: sp = &a->nas_ip; break;
		case FK_NAS_IDENTIFIER: sp = &a->nas_identifier; break;
		case FK_CLIENT_VENDOR: sp = &a->client_vendor; break;
		case FK_CLIENT_FRIENDLY_NAME: sp = &a->client_friendly_name; break;
		case FK_MS_RAS_VENDOR: sp = &a->ms_ras_vendor; break;
		case FK_REQUESTED_IP: {
			if (*f.p != '"') goto give_up;
			char *s = flat_str(&f);
			int bad = !s || ipv4_parse(s, &a->requested_ip);
			free(s);
			if (bad) goto give_up;
			a->has_requested_ip = true;
			break;
		}
		case FK_TUNNEL:
			if ((k = flat_enum(&f, tunnel_names)) < 0) goto give_up;
			a->tunnel = (enum tunnel_type)k;
			break;
		case FK_AUTH:
			if ((k = flat_enum(&f, auth_method_names)) < 0) goto give_up;
			a->auth = (enum auth_method)k;
			break;
		case FK_EAP_TYPE:
			if ((k = flat_enum(&f, eap_type_names)) < 0) goto give_up;
			a->eap_type = k;
			break;
		case FK_ENCRYPTION:
			if ((k = flat_enum(&f, enc_level_names)) < 0) goto give_up;
			a->encryption = (enum enc_level)k;
			break;
		case FK_NAS_PORT_TYPE:
			if ((k = flat_enum(&f, nas_port_type_names)) < 0) goto give_up;
			a->nas_port_type = (enum nas_port_type)k;
			break;
		case FK_FRAMED_PROTOCOL:
			if ((k = flat_enum(&f, framed_proto_names)) < 0) goto give_up;
			a->framed_protocol = k;
			break;
		case FK_SERVICE_TYPE:
			if ((k = flat_enum(&f, service_type_names)) < 0) goto give_up;
			a->service_type = (enum service_type)k;
			break;
		case FK_LINKS: {
			/* 1..1000, written as a plain integer */
			int v = 0, nd = 0;
			while (f.p < f.end && *f.p >= '0' && *f.p <= '9' && nd < 5) {
				v = v * 10 + (*f.p++ - '0');
				nd++;
			}
			if (!nd || (nd > 1 && f.p[-nd] == '0') || v < 1 || v > 1000) goto give_up;
			if (f.p < f.end && (*f.p == '.' || *f.p == 'e' || *f.p == 'E' ||
			                    (*f.p >= '0' && *f.p <= '9')))
				goto give_up;
			a->links = v;
			break;
		}
		case FK_BAP:
			if (flat_lit(&f, "true")) a->bap = true;
			else if (flat_lit(&f, "false")) a->bap = false;
			else goto give_up;
			break;
		case FK_PROTOCOLS:
			if (*f.p++ != '[') goto give_up;
			a->protocols = 0;
			flat_ws(&f);
			if (f.p < f.end && *f.p == ']') {
				f.p++;
				break;
			}
			for (;;) {
				flat_ws(&f);
				if (f.p >= f.end || (k = flat_enum(&f, lan_proto_names)) < 0) goto give_up;
				a->protocols |= 1u << k;
				flat_ws(&f);
				if (f.p < f.end && *f.p == ',') {
					f.p++;
					continue;
				}
				if (f.p < f.end && *f.p == ']') {
					f.p++;
					break;
				}
				goto give_up;
			}
			break;
		case FK_N: goto give_up;
		}
		if (sp) {
			if (*f.p != '"' || !(*sp = flat_str(&f))) goto give_up;
		}
		flat_ws(&f);
		if (f.p < f.end && *f.p == ',') {
			f.p++;
			continue;
		}
		if (f.p < f.end && *f.p == '}') {
			f.p++;
			break;
		}
		goto give_up;
	}
	flat_ws(&f);
	/* what parse_one requires or refuses */
	if (f.p != f.end || !(seen >> FK_USER & 1) || !(seen >> FK_TUNNEL & 1) ||
	    !(seen >> FK_AUTH & 1) || (a->auth == AUTH_EAP) != (a->eap_type >= 0))
		goto give_up;
	if (time_s) {
		snprintf(a->time_text, sizeof a->time_text, "%s", time_s);
		if (attempt_parse_time(time_s, &a->minute_of_week, &a->local_epoch)) goto give_up;
		free(time_s);
		time_s = NULL;
	} else {
		attempt_time_now(a);
	}
	if (!(seen >> FK_MS_RAS_VENDOR & 1) && !(a->ms_ras_vendor = strdup("311"))) goto give_up;
	if (a->framed_protocol == -2) a->framed_protocol = a->tunnel == TUN_IKEV2 ? -1 : FP_PPP;
	(void)c;
	return 0;
give_up:
	free(time_s);
	attempt_free(a);
	return -1;
}

/* ---- reading attempts one at a time -------------------------------------------------- */

#define READ_CHUNK (64u << 10)
#define MAX_INVALID 100

enum rd_state { RD_START, RD_ARRAY, RD_AFTER_ARRAY, RD_LINES, RD_SEQUENCE, RD_END };
enum scan_end { SCAN_COMPLETE, SCAN_LINE_END, SCAN_EOF, SCAN_TOO_LONG };

struct attempt_reader {
	const struct config *c;
	char *name;
	int fd;                   /* -1: reading mem */
	bool stream;              /* fd is a pipe, terminal or socket: a read may wait */
	const char *mem;
	size_t memlen, mempos;
	char *buf;
	size_t cap, start, end;   /* unread bytes: buf[start, end) */
	bool eof;
	int read_errno;           /* a read failed */
	int line, col;            /* position of buf[start] */
	enum rd_state state;
	bool array_first;         /* before the first element of the array */
	bool several;             /* the input holds more than one attempt */
	size_t index;             /* attempts met so far, valid or not */
	int invalid;
	bool fast;                /* try parse_flat first */
	bool bom_seen;            /* the start was checked for a byte order mark */
	void (*on_read)(void *);  /* called before each read of the file descriptor */
	void *on_read_arg;
};

static struct attempt_reader *reader_new(const struct config *c, const char *name)
{
	struct attempt_reader *r = calloc(1, sizeof *r);
	if (!r) return NULL;
	r->c = c;
	r->name = strdup(name ? name : "-");
	r->fd = -1;
	r->line = r->col = 1;
	r->fast = true;
	if (!r->name) {
		free(r);
		return NULL;
	}
	return r;
}

struct attempt_reader *attempt_reader_fd(const struct config *c, const char *name, int fd)
{
	struct attempt_reader *r = reader_new(c, name);
	struct stat st;
	if (r) {
		r->fd = fd;
		r->stream = fstat(fd, &st) != 0 || !S_ISREG(st.st_mode);
	}
	return r;
}

struct attempt_reader *attempt_reader_mem(const struct config *c, const char *name,
                                          const char *text, size_t len)
{
	struct attempt_reader *r = reader_new(c, name);
	if (r) {
		r->mem = text;
		r->memlen = len;
	}
	return r;
}

void attempt_reader_free(struct attempt_reader *r)
{
	if (!r) return;
	free(r->buf);
	free(r->name);
	free(r);
}

void attempt_reader_set_fast(struct attempt_reader *r, bool on)
{
	r->fast = on;
}

void attempt_reader_on_read(struct attempt_reader *r, void (*fn)(void *), void *arg)
{
	r->on_read = fn;
	r->on_read_arg = arg;
}

bool attempt_reader_several(const struct attempt_reader *r)
{
	return r->several;
}

/* Read more input after buf[end]; keeps buf[start, end). Returns the bytes added, 0 at
 * the end of the input or on a read error. */
static size_t fill(struct attempt_reader *r)
{
	if (r->eof) return 0;
	if (r->cap - r->end < READ_CHUNK) {
		if (r->start) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		if (r->cap - r->end < READ_CHUNK) {
			size_t nc = r->cap ? r->cap * 2 : 2 * READ_CHUNK;
			char *nb = realloc(r->buf, nc);
			if (!nb) {
				r->read_errno = ENOMEM;
				r->eof = true;
				return 0;
			}
			r->buf = nb;
			r->cap = nc;
		}
	}
	size_t want = r->cap - r->end, n = 0;
	if (r->fd >= 0) {
		if (r->on_read) r->on_read(r->on_read_arg);
		for (;;) {
			ssize_t k = read(r->fd, r->buf + r->end, want);
			if (k < 0 && errno == EINTR) continue;
			if (k < 0) r->read_errno = errno;
			n = k > 0 ? (size_t)k : 0;
			break;
		}
	} else {
		n = r->memlen - r->mempos < want ? r->memlen - r->mempos : want;
		memcpy(r->buf + r->end, r->mem + r->mempos, n);
		r->mempos += n;
	}
	if (!n) r->eof = true;
	r->end += n;
	return n;
}

/* consume n buffered bytes, counting lines and characters */
static void advance(struct attempt_reader *r, size_t n)
{
	const unsigned char *p = (const unsigned char *)r->buf + r->start;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			r->line++;
			r->col = 1;
		} else if ((p[i] & 0xC0) != 0x80) {
			r->col++;
		}
	}
	r->start += n;
}

/* skip white space; false at the end of the input */
static bool skip_ws(struct attempt_reader *r)
{
	if (!r->bom_seen) {
		/* a byte order mark is not part of the JSON; positions count from after it */
		r->bom_seen = true;
		while (r->end - r->start < 3 && fill(r))
			;
		if (r->buf)
			r->start += utf8_bom_len(r->buf + r->start, r->end - r->start);
	}
	for (;;) {
		while (r->start < r->end && json_space((unsigned char)r->buf[r->start])) advance(r, 1);
		if (r->start < r->end) return true;
		if (!fill(r)) return false;
	}
}

/* consume the rest of the current line and its newline */
static void skip_line(struct attempt_reader *r)
{
	for (;;) {
		const char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl) {
			advance(r, (size_t)(nl - (r->buf + r->start)) + 1);
			return;
		}
		advance(r, r->end - r->start);
		if (!fill(r)) return;
	}
}

/* Find the end of the JSON value at buf[start] (not white space) without parsing it:
 * strings and nesting are followed so that the value's text can be handed to the JSON
 * parser alone. With stop_nl a newline outside the value's strings ends an object or
 * array early (SCAN_LINE_END). *lenp is the length of the text found. */
static enum scan_end scan(struct attempt_reader *r, bool stop_nl, size_t *lenp)
{
	char first = r->buf[r->start];
	bool container = first == '{' || first == '[', string = first == '"';
	bool instr = string, esc = false;
	int depth = 0;
	size_t i = container ? 0 : 1;
	for (;;) {
		if (i > ATTEMPT_MAX_BYTES) {
			*lenp = i;
			return SCAN_TOO_LONG;
		}
		if (r->start + i >= r->end) {
			if (!fill(r)) {
				*lenp = i;
				return container || instr ? SCAN_EOF : SCAN_COMPLETE;
			}
			continue;
		}
		unsigned char ch = (unsigned char)r->buf[r->start + i];
		if (instr) {
			if (esc) {
				esc = false;
			} else if (ch == '\\') {
				esc = true;
			} else if (ch == '"') {
				instr = false;
				if (string) {
					*lenp = i + 1;
					return SCAN_COMPLETE;
				}
			} else if (ch == '\n' && stop_nl) {
				*lenp = i;
				return SCAN_LINE_END;
			}
			i++;
			continue;
		}
		if (!container) { /* a number, true, false, null or junk: up to a delimiter */
			if (json_space(ch) || ch == ',' || ch == ']' || ch == '}' || ch == '{' ||
			    ch == '[' || ch == '"') {
				*lenp = i;
				return SCAN_COMPLETE;
			}
			i++;
			continue;
		}
		switch (ch) {
		case '"': instr = true; break;
		case '{':
		case '[': depth++; break;
		case '}':
		case ']':
			if (--depth == 0) {
				*lenp = i + 1;
				return SCAN_COMPLETE;
			}
			break;
		case '\n':
			if (stop_nl) {
				*lenp = i;
				return SCAN_LINE_END;
			}
			break;
		default: break;
		}
		i++;
	}
}

/* The byte at buf[start + off], reading more when needed; -1 at the end of the input. */
static int peek_at(struct attempt_reader *r, size_t off)
{
	while (r->start + off >= r->end)
		if (!fill(r)) return -1;
	return (unsigned char)r->buf[r->start + off];
}

/* After the first attempt (len bytes at buf[start]): does another follow? White space is
 * looked through up to a bound; past it another attempt is assumed. JSON lines from a
 * pipe are not waited for: the first line is answered as one of several as soon as it
 * arrives, unless the end of the input is already known. */
static bool another_follows(struct attempt_reader *r, size_t len)
{
	size_t off = len;
	for (int c;; off++) {
		if (r->start + off >= r->end && !r->eof && r->stream && r->state == RD_LINES)
			return true;
		if ((c = peek_at(r, off)) < 0) break;
		if (json_space((unsigned char)c)) {
			if (off - len > ATTEMPT_MAX_BYTES) return true;
			continue;
		}
		if (r->state != RD_ARRAY) return true;
		return c != ']';
	}
	return false;
}

__attribute__((format(printf, 5, 6)))
static void rprob(struct attempt_reader *r, struct config_problems *probs, int line, int col,
                  const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	config_problem_add(probs, line, col, msg);
}

/* Parse the value text at buf[start] (len bytes) found at line:col into *a. */
static int parse_value(struct attempt_reader *r, size_t len, int line, int col, size_t idx,
                       struct attempt *a, struct config_problems *probs)
{
	const char *text = r->buf + r->start;
	bool array = r->state == RD_ARRAY;
	char pointer[32] = "";
	if (array) snprintf(pointer, sizeof pointer, "/%zu", idx);
	if (r->fast && parse_flat(r->c, text, len, a) == 0) {
		a->line = line;
		a->several = r->several;
		a->file = strdup(r->name);
		a->pointer = strdup(pointer);
		if (a->file && a->pointer) return 0;
		attempt_free(a);
	}
	json_error_t je;
	json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		int jl, jc;
		jsonpos_error(text, len, &je, &jl, &jc); /* the column of a byte that is not UTF-8 */
		int el = jl + line - 1;
		int ec = jl == 1 ? jc + col - 1 : jc;
		rprob(r, probs, el, ec, "not valid JSON: %s", je.text);
		return -1;
	}
	struct actx x = {.c = r->c, .probs = probs, .text = text, .len = len, .base_line = line,
	                 .base_col = col};
	if (array || r->several) snprintf(x.path, sizeof x.path, "[%zu]", idx);
	a->line = line;
	a->several = r->several;
	a->file = strdup(r->name);
	a->pointer = strdup(pointer);
	parse_one(&x, v, a);
	json_decref(v);
	if (!a->user_name && !x.nprobs) x.nprobs++;
	if (!a->file || !a->pointer) {
		rprob(r, probs, line, col, "out of memory");
		x.nprobs++;
	}
	return x.nprobs ? -1 : 0;
}

/* Hand out the value just scanned (len bytes at buf[start], starting at line:col). */
static int take(struct attempt_reader *r, enum scan_end e, size_t len, int line, int col,
                bool first, struct attempt *a, struct config_problems *probs)
{
	size_t idx = r->index++;
	int rc;
	if (e == SCAN_TOO_LONG) {
		rprob(r, probs, line, col, "an attempt longer than %u bytes", ATTEMPT_MAX_BYTES);
		rc = -1;
		if (r->state == RD_LINES) skip_line(r);
		else r->state = RD_END; /* where the next attempt starts is not known */
	} else {
		if (first) r->several = another_follows(r, len);
		rc = parse_value(r, len, line, col, idx, a, probs);
		advance(r, len);
		if (rc && r->state == RD_LINES && e != SCAN_LINE_END) skip_line(r);
		if (e == SCAN_EOF) r->state = RD_END;
	}
	if (rc) {
		attempt_free(a);
		if (++r->invalid >= MAX_INVALID && r->state != RD_END) {
			rprob(r, probs, 0, 0, "%d invalid attempts: the rest of the input is not read",
			      r->invalid);
			r->state = RD_END;
		}
		return -1;
	}
	return 1;
}

int attempt_reader_next(struct attempt_reader *r, struct attempt *a,
                        struct config_problems *probs)
{
	memset(a, 0, sizeof *a);
	size_t len = 0;
	enum scan_end e;
	for (;;) {
		int line, col;
		switch (r->state) {
		case RD_END:
			return 0;
		case RD_START:
			if (peek_at(r, 0) == 0xEF && peek_at(r, 1) == 0xBB && peek_at(r, 2) == 0xBF)
				r->start += 3; /* a byte-order mark, as Windows editors write */
			if (!skip_ws(r)) {
				r->state = RD_END;
				if (r->read_errno)
					rprob(r, probs, 0, 0, "cannot read: %s", strerror(r->read_errno));
				else
					rprob(r, probs, 0, 0, "no attempts in the input");
				return -1;
			}
			if (r->buf[r->start] == '[') {
				advance(r, 1);
				r->state = RD_ARRAY;
				r->array_first = true;
				continue;
			}
			line = r->line;
			col = r->col;
			/* JSON lines when the first attempt ends on its line. A first line that does
			 * not end its value is one broken line of JSON lines when the next line
			 * starts a new object, else one value written over several lines. */
			r->state = RD_LINES;
			e = scan(r, true, &len);
			if (e == SCAN_LINE_END && peek_at(r, len + 1) != '{') {
				r->state = RD_SEQUENCE;
				e = scan(r, false, &len);
			}
			return take(r, e, len, line, col, true, a, probs);
		case RD_LINES:
		case RD_SEQUENCE:
			if (!skip_ws(r)) {
				r->state = RD_END;
				if (!r->read_errno) return 0;
				rprob(r, probs, 0, 0, "cannot read: %s", strerror(r->read_errno));
				return -1;
			}
			line = r->line;
			col = r->col;
			e = scan(r, r->state == RD_LINES, &len);
			return take(r, e, len, line, col, false, a, probs);
		case RD_ARRAY:
			if (!skip_ws(r)) {
				rprob(r, probs, r->line, r->col, "the array of attempts does not end: ']' "
				      "expected");
				r->state = RD_END;
				return -1;
			}
			if (r->buf[r->start] == ']') {
				advance(r, 1);
				r->state = RD_AFTER_ARRAY;
				continue;
			}
			if (!r->array_first) {
				if (r->buf[r->start] != ',') {
					rprob(r, probs, r->line, r->col, "',' or ']' expected after attempt [%zu]",
					      r->index - 1);
					r->state = RD_END;
					return -1;
				}
				advance(r, 1);
				if (!skip_ws(r)) continue; /* reported above on the next call */
			}
			bool first = r->array_first;
			r->array_first = false;
			line = r->line;
			col = r->col;
			e = scan(r, false, &len);
			return take(r, e, len, line, col, first, a, probs);
		case RD_AFTER_ARRAY:
			r->state = RD_END;
			if (skip_ws(r)) {
				rprob(r, probs, r->line, r->col, "text after the array of attempts");
				return -1;
			}
			if (r->index == 0) {
				rprob(r, probs, 0, 0, "no attempts in the input");
				return -1;
			}
			return 0;
		}
	}
}

#define MAX_ATTEMPTS 1000000

int attempts_parse(const struct config *c, const char *file, const char *text, size_t len,
                   struct attempt_list *out, struct config_problems *probs)
{
	out->v = NULL;
	out->n = 0;
	struct attempt_reader *r = attempt_reader_mem(c, file, text, len);
	if (!r) return -1;
	size_t cap = 0;
	bool bad = false;
	struct attempt a;
	for (int rc; (rc = attempt_reader_next(r, &a, probs)) != 0;) {
		if (rc < 0) {
			bad = true;
			continue;
		}
		if (bad || out->n >= MAX_ATTEMPTS) {
			attempt_free(&a);
			continue;
		}
		if (out->n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct attempt *nv = realloc(out->v, nc * sizeof *nv);
			if (!nv) {
				attempt_free(&a);
				bad = true;
				continue;
			}
			out->v = nv;
			cap = nc;
		}
		out->v[out->n++] = a;
	}
	attempt_reader_free(r);
	if (bad) {
		attempts_free(out);
		return -1;
	}
	return 0;
}
