/* PPP authentication: the authenticator and peer machines against the RFC 2759 test
 * vectors, and PAP / CHAP-MD5 / MS-CHAPv2 success, failure, retry and timeout between
 * the server and client sessions through the mock link. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mschap.h"
#include "ppp_link_harness.h"

/* ---- the machine alone ------------------------------------------------------------ */
struct direct {
	struct ppp_auth a;
	struct ppp_auth_conf conf;
	struct ppp_auth_cbs cbs;
	const uint8_t *rnd;
	size_t rnd_len, rnd_pos;
	/* last packet sent */
	unsigned nsent;
	uint8_t code, id;
	uint8_t value[64];
	size_t value_len;
	char name[64];
	char msg[200];
	bool done, ok;
	unsigned err;
	/* what the admission callback was told, and an owner that says yes to anything */
	enum ppp_cred cred;
	unsigned admits;
	bool admit_all;
	char log[8192];
};

static void d_send(void *ctx, struct ppp_msg *m)
{
	struct direct *d = ctx;
	d->nsent++;
	d->code = m->chap.code;
	d->id = m->chap.id;
	d->value_len = m->chap.value_len < sizeof d->value ? m->chap.value_len : 0;
	if (d->value_len) memcpy(d->value, m->chap.value, d->value_len);
	snprintf(d->name, sizeof d->name, "%.*s", (int)m->chap.name_len, (const char *)m->chap.name);
	snprintf(d->msg, sizeof d->msg, "%.*s", (int)m->chap.msg_len, (const char *)m->chap.msg);
}

static void d_random(void *ctx, uint8_t *buf, size_t n)
{
	struct direct *d = ctx;
	for (size_t i = 0; i < n; i++)
		buf[i] = d->rnd_pos < d->rnd_len ? d->rnd[d->rnd_pos++] : (uint8_t)(0xa5 + i);
}

/* A user name of `n` bytes: "u...u@corp.example.com" (n >= 18). */
static const char *upn(size_t n)
{
	static char b[2048];
	memset(b, 'u', n - 17);
	memcpy(b + n - 17, "@corp.example.com", 18);
	return b;
}

static int d_password(void *ctx, const char *user, char *buf, size_t cap)
{
	(void)ctx;
	if (strcmp(user, "nopw") == 0) return -2;  /* known, no password the server can use */
	if (strcmp(user, "huge") == 0) return 300; /* a length that cannot be right */
	if (strcmp(user, "User") && strcmp(user, "CORP\\User") && strcmp(user, upn(200)) &&
	    strcmp(user, upn(PPP_AUTH_USER_MAX)))
		return -1;
	snprintf(buf, cap, "clientPass");
	return 10;
}

static struct ppp_admit d_admit(void *ctx, const char *user, enum ppp_auth_method m,
                                enum ppp_cred cred)
{
	struct direct *d = ctx;
	(void)user; (void)m;
	d->cred = cred;
	d->admits++;
	bool yes = d->admit_all || cred == PPP_CRED_OK;
	struct ppp_admit v = {yes, yes ? 0 : 691, NULL, false};
	return v;
}

static void d_event(void *ctx, enum ppp_log kind, const char *text)
{
	struct direct *d = ctx;
	(void)kind;
	size_t l = strlen(d->log);
	snprintf(d->log + l, sizeof d->log - l, "%s\n", text);
}

static void d_done(void *ctx, bool ok, unsigned err)
{
	struct direct *d = ctx;
	d->done = true;
	d->ok = ok;
	d->err = err;
}

static void unhex(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

/* `d` is zeroed, or holds an exchange d_init made earlier (whose user name is freed). */
static void d_init(struct direct *d, enum ppp_auth_role role)
{
	ppp_auth_free(&d->a);
	memset(d, 0, sizeof *d);
	d->conf.name = role == PPP_AUTH_AUTHENTICATOR ? "vnet" : "User";
	d->conf.password = "clientPass";
	d->conf.max_transmits = 3;
	d->conf.restart_ms = 3000;
	d->conf.timeout_ms = 30000;
	d->cbs.ctx = d;
	d->cbs.send = d_send;
	d->cbs.random = d_random;
	d->cbs.password = d_password;
	d->cbs.admit = d_admit;
	d->cbs.done = d_done;
	d->cbs.event = d_event;
	ppp_auth_init(&d->a, role, &d->conf, &d->cbs);
}

/* RFC 2759 section 9.2 */
#define V_AUTH_CH "5B5D7C7D7B3F2F3E3C2C602132262628"
#define V_PEER_CH "21402324255E262A28295F2B3A337C7E"
#define V_NT_RESP "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF"
#define V_AUTH_RESP "S=407A5589115FD0D6209F510FE9C04566932CDA56"

static struct ppp_msg chap_msg(uint8_t code, uint8_t id, const uint8_t *value, size_t vlen,
                               const char *name, const char *msg)
{
	struct ppp_msg m;
	memset(&m, 0, sizeof m);
	m.proto = PPP_PROTO_CHAP;
	m.kind = PPP_KIND_CHAP;
	m.chap.code = code;
	m.chap.id = id;
	m.chap.value = value;
	m.chap.value_len = vlen;
	m.chap.name = (const uint8_t *)name;
	m.chap.name_len = name ? strlen(name) : 0;
	m.chap.msg = (const uint8_t *)msg;
	m.chap.msg_len = msg ? strlen(msg) : 0;
	return m;
}

static void authenticator_vector(const char *user)
{
	static uint8_t auth_ch[16];
	unhex(V_AUTH_CH, auth_ch, 16);
	struct direct d = {0};
	d_init(&d, PPP_AUTH_AUTHENTICATOR);
	d.rnd = auth_ch;
	d.rnd_len = 16;
	ppp_auth_start(&d.a, PPP_AUTH_MSCHAPV2, 0);
	ck_assert_uint_eq(d.code, CHAP_CHALLENGE);
	ck_assert_uint_eq(d.value_len, 16);
	ck_assert_mem_eq(d.value, auth_ch, 16);
	ck_assert_str_eq(d.name, "vnet");
	uint8_t v[49];
	memset(v, 0, sizeof v);
	unhex(V_PEER_CH, v, 16);
	unhex(V_NT_RESP, v + 24, 24);
	struct ppp_msg r = chap_msg(CHAP_RESPONSE, d.id, v, 49, user, NULL);
	ppp_auth_input(&d.a, &r, 100);
	ck_assert(d.done && d.ok);
	ck_assert_uint_eq(d.code, CHAP_SUCCESS);
	ck_assert_msg(strncmp(d.msg, V_AUTH_RESP " M=", strlen(V_AUTH_RESP) + 3) == 0,
	              "Success text %s", d.msg);
	ck_assert_str_eq(d.a.user, user);
	ppp_auth_free(&d.a);
}

START_TEST(mschapv2_authenticator_rfc2759_vector)
{
	authenticator_vector("User");
}
END_TEST

START_TEST(mschapv2_domain_prefix_not_hashed)
{
	/* "CORP\User" answers with the NT response computed for "User" (RFC 2759 section 4) */
	authenticator_vector("CORP\\User");
}
END_TEST

START_TEST(mschapv2_peer_rfc2759_vector)
{
	static uint8_t peer_ch[16], auth_ch[16];
	unhex(V_PEER_CH, peer_ch, 16);
	unhex(V_AUTH_CH, auth_ch, 16);
	struct direct d = {0};
	d_init(&d, PPP_AUTH_PEER);
	d.rnd = peer_ch;
	d.rnd_len = 16;
	ppp_auth_start(&d.a, PPP_AUTH_MSCHAPV2, 0);
	struct ppp_msg c = chap_msg(CHAP_CHALLENGE, 7, auth_ch, 16, "vnet", NULL);
	ppp_auth_input(&d.a, &c, 10);
	ck_assert_uint_eq(d.code, CHAP_RESPONSE);
	ck_assert_uint_eq(d.id, 7);
	ck_assert_uint_eq(d.value_len, 49);
	uint8_t nt[24];
	unhex(V_NT_RESP, nt, 24);
	ck_assert_mem_eq(d.value, peer_ch, 16);
	ck_assert_mem_eq(d.value + 24, nt, 24);
	ck_assert_uint_eq(d.value[48], 0);
	ck_assert_str_eq(d.name, "User");
	/* a Success that does not carry the right authenticator response is refused */
	struct ppp_msg bad = chap_msg(CHAP_SUCCESS, 7, NULL, 0, NULL,
	                              "S=407A5589115FD0D6209F510FE9C04566932CDA57 M=hi");
	ppp_auth_input(&d.a, &bad, 20);
	ck_assert(d.done && !d.ok);
	/* and the right one accepted */
	d_init(&d, PPP_AUTH_PEER);
	d.rnd = peer_ch;
	d.rnd_len = 16;
	ppp_auth_start(&d.a, PPP_AUTH_MSCHAPV2, 0);
	ppp_auth_input(&d.a, &c, 10);
	struct ppp_msg good = chap_msg(CHAP_SUCCESS, 7, NULL, 0, NULL, V_AUTH_RESP " M=welcome");
	ppp_auth_input(&d.a, &good, 20);
	ck_assert(d.done && d.ok);
	ppp_auth_free(&d.a);
}
END_TEST

START_TEST(duplicate_response_gets_same_answer)
{
	static uint8_t auth_ch[16];
	unhex(V_AUTH_CH, auth_ch, 16);
	struct direct d = {0};
	d_init(&d, PPP_AUTH_AUTHENTICATOR);
	d.rnd = auth_ch;
	d.rnd_len = 16;
	ppp_auth_start(&d.a, PPP_AUTH_MSCHAPV2, 0);
	uint8_t v[49];
	memset(v, 0, sizeof v);
	unhex(V_PEER_CH, v, 16);
	unhex(V_NT_RESP, v + 24, 24);
	struct ppp_msg r = chap_msg(CHAP_RESPONSE, d.id, v, 49, "User", NULL);
	ppp_auth_input(&d.a, &r, 100);
	char first[200];
	snprintf(first, sizeof first, "%s", d.msg);
	unsigned n = d.nsent;
	d.msg[0] = 0;
	ppp_auth_input(&d.a, &r, 200); /* our Success was lost */
	ck_assert_uint_eq(d.nsent, n + 1);
	ck_assert_uint_eq(d.code, CHAP_SUCCESS);
	ck_assert_str_eq(d.msg, first);
	/* a Response with another identifier is not answered */
	r.chap.id = (uint8_t)(r.chap.id + 9);
	ppp_auth_input(&d.a, &r, 300);
	ck_assert_uint_eq(d.nsent, n + 1);
	ppp_auth_free(&d.a);
}
END_TEST

START_TEST(failure_text_format)
{
	uint8_t ch[16];
	for (int i = 0; i < 16; i++) ch[i] = (uint8_t)(0x10 * i + i);
	char out[128];
	ppp_auth_mschapv2_failure(691, true, ch, NULL, out, sizeof out);
	ck_assert_str_eq(out, "E=691 R=1 C=00112233445566778899AABBCCDDEEFF V=3 M=Authentication failure");
	struct mschap_failure f;
	ck_assert_int_eq(mschap_parse_failure((const uint8_t *)out, strlen(out), &f), 0);
	ck_assert_uint_eq(f.error, 691);
	ck_assert_uint_eq(f.retry, 1);
	ck_assert_uint_eq(f.challenge_len, 16);
	ck_assert_mem_eq(f.challenge, ch, 16);
	ck_assert_uint_eq(f.version, 3);
}
END_TEST

/* ---- through the link ------------------------------------------------------------- */
static struct h_link L;

static bool logged(const struct h_side *sd, const char *s) { return strstr(sd->log, s) != NULL; }

static void only_method(enum ppp_auth_method m)
{
	L.side[0].conf.auth_methods = PPP_AUTH_BIT(m);
	L.side[1].conf.auth_methods = PPP_AUTH_BIT(m);
	L.side[1].conf.auth_pref[0] = (uint8_t)m;
	L.side[1].conf.auth_pref[1] = PPP_AUTH_NONE;
}

/* The first wire frame from `from` of protocol/code, or NULL. */
static const struct h_frame *find_frame(int from, uint16_t proto, uint8_t code, int nth)
{
	for (unsigned i = 0; i < L.nwire; i++) {
		struct ppp_msg m;
		if (L.wire_from[i] != from || h_decode(&L.wire[i], &m) != 0 || m.proto != proto) continue;
		uint8_t c = m.kind == PPP_KIND_PAP ? m.pap.code : m.kind == PPP_KIND_CHAP ? m.chap.code : m.cp.code;
		if (c == code && nth-- == 0) return &L.wire[i];
	}
	return NULL;
}

START_TEST(pap_success_and_failure)
{
	h_init(&L);
	only_method(PPP_AUTH_PAP);
	h_start(&L);
	h_run(&L, 20000);
	ck_assert(logged(&L.side[0], "auth ok user=bob method=PAP"));
	ck_assert(ppp_fsm_opened(&L.side[0].s.ipcp.fsm));
	const struct h_frame *f = find_frame(1, PPP_PROTO_PAP, PAP_AUTH_REQ, 0);
	ck_assert_ptr_nonnull(f);
	struct ppp_msg m;
	ck_assert_int_eq(h_decode(f, &m), 0);
	ck_assert_mem_eq(m.pap.peer_id, "bob", 3);
	ck_assert_uint_eq(m.pap.password_len, 6);
	ck_assert_mem_eq(m.pap.password, "secret", 6);
	ck_assert_ptr_nonnull(find_frame(0, PPP_PROTO_PAP, PAP_AUTH_ACK, 0));

	h_init(&L);
	only_method(PPP_AUTH_PAP);
	L.side[1].conf.auth.password = "wrong";
	h_start(&L);
	h_run(&L, 60000);
	ck_assert_ptr_nonnull(find_frame(0, PPP_PROTO_PAP, PAP_AUTH_NAK, 0));
	ck_assert(L.side[0].finished && L.side[1].finished);
	ck_assert_uint_eq(L.side[0].win_error, 691);
	ck_assert_uint_eq(L.side[1].win_error, 691);
	ck_assert(logged(&L.side[0], "auth failed user=bob method=PAP result=bad-password error=691"));
	ck_assert_uint_eq(L.pool_used, 0);
}
END_TEST

START_TEST(chap_md5_success_and_failure)
{
	h_init(&L);
	only_method(PPP_AUTH_CHAP_MD5);
	h_start(&L);
	h_run(&L, 20000);
	ck_assert(logged(&L.side[0], "auth ok user=bob method=CHAP-MD5"));
	/* check the response on the wire with an independent MD5(id || secret || challenge) */
	struct ppp_msg c, r;
	ck_assert_int_eq(h_decode(find_frame(0, PPP_PROTO_CHAP, CHAP_CHALLENGE, 0), &c), 0);
	ck_assert_int_eq(h_decode(find_frame(1, PPP_PROTO_CHAP, CHAP_RESPONSE, 0), &r), 0);
	ck_assert_uint_eq(r.chap.id, c.chap.id);
	ck_assert_uint_eq(r.chap.value_len, 16);
	uint8_t want[16];
	unsigned wl = 0;
	EVP_MD_CTX *x = EVP_MD_CTX_new();
	EVP_DigestInit_ex(x, EVP_md5(), NULL);
	EVP_DigestUpdate(x, &c.chap.id, 1);
	EVP_DigestUpdate(x, "secret", 6);
	EVP_DigestUpdate(x, c.chap.value, c.chap.value_len);
	EVP_DigestFinal_ex(x, want, &wl);
	EVP_MD_CTX_free(x);
	ck_assert_mem_eq(r.chap.value, want, 16);
	ck_assert_mem_eq(r.chap.name, "bob", 3);

	h_init(&L);
	only_method(PPP_AUTH_CHAP_MD5);
	L.side[1].conf.auth.password = "wrong";
	h_start(&L);
	h_run(&L, 60000);
	ck_assert_ptr_nonnull(find_frame(0, PPP_PROTO_CHAP, CHAP_FAILURE, 0));
	ck_assert_uint_eq(L.side[0].win_error, 691);
	ck_assert_uint_eq(L.side[1].win_error, 691);
}
END_TEST

START_TEST(mschapv2_success_proves_server)
{
	h_init(&L);
	h_start(&L);
	h_run(&L, 20000);
	ck_assert(logged(&L.side[1], "auth ok user=bob method=MS-CHAPv2"));
	struct ppp_msg s;
	ck_assert_int_eq(h_decode(find_frame(0, PPP_PROTO_CHAP, CHAP_SUCCESS, 0), &s), 0);
	struct mschap_success sc;
	ck_assert_int_eq(mschap_parse_success(s.chap.msg, s.chap.msg_len, &sc), 0);
	ck_assert(sc.has_msg);
	ck_assert_mem_eq(sc.msg, "Access granted", 14);
}
END_TEST

START_TEST(mschapv2_retry_after_691)
{
	h_init(&L);
	L.side[1].conf.auth.password = "wrong";
	L.side[1].conf.auth.retry_password = "secret";
	h_start(&L);
	h_run(&L, 20000);
	struct ppp_msg f;
	ck_assert_int_eq(h_decode(find_frame(0, PPP_PROTO_CHAP, CHAP_FAILURE, 0), &f), 0);
	ck_assert(f.chap.has_failure);
	ck_assert_uint_eq(f.chap.failure.error, 691);
	ck_assert_uint_eq(f.chap.failure.retry, 1);
	ck_assert_uint_eq(f.chap.failure.version, 3);
	ck_assert_uint_eq(f.chap.failure.challenge_len, 16);
	/* the retried Response uses the next identifier and answers the challenge from C= */
	struct ppp_msg r;
	ck_assert_int_eq(h_decode(find_frame(1, PPP_PROTO_CHAP, CHAP_RESPONSE, 1), &r), 0);
	ck_assert_uint_eq(r.chap.id, (uint8_t)(f.chap.id + 1));
	uint8_t nt[24];
	ck_assert_int_eq(mschap2_nt_response(f.chap.failure.challenge, r.chap.value, "bob", 3, "secret",
	                                     6, nt), 0);
	ck_assert_mem_eq(r.chap.value + 24, nt, 24);
	ck_assert(logged(&L.side[0], "auth retry user=bob method=MS-CHAPv2 error=691"));
	ck_assert(logged(&L.side[0], "auth ok user=bob method=MS-CHAPv2"));
	ck_assert(ppp_fsm_opened(&L.side[1].s.ipcp.fsm));
}
END_TEST

START_TEST(mschapv2_retries_exhausted)
{
	h_init(&L);
	L.side[0].conf.auth.max_retries = 1;
	L.side[1].conf.auth.password = "wrong";
	L.side[1].conf.auth.retry_password = "still-wrong";
	h_start(&L);
	h_run(&L, 60000);
	struct ppp_msg f;
	ck_assert_int_eq(h_decode(find_frame(0, PPP_PROTO_CHAP, CHAP_FAILURE, 1), &f), 0);
	ck_assert_uint_eq(f.chap.failure.error, 691);
	ck_assert_uint_eq(f.chap.failure.retry, 0);
	ck_assert(L.side[0].finished && L.side[1].finished);
	ck_assert_uint_eq(L.side[0].win_error, 691);
	ck_assert_uint_eq(L.side[1].win_error, 691);
	ck_assert_ptr_null(find_frame(0, PPP_PROTO_CHAP, CHAP_FAILURE, 2));
}
END_TEST

START_TEST(mschapv2_649_from_policy)
{
	h_init(&L);
	L.side[1].conf.auth.name = "carol";
	L.side[1].conf.auth.password = "carolpw";
	L.side[1].conf.auth.retry_password = "carolpw";
	h_start(&L);
	h_run(&L, 60000);
	struct ppp_msg f;
	ck_assert_int_eq(h_decode(find_frame(0, PPP_PROTO_CHAP, CHAP_FAILURE, 0), &f), 0);
	ck_assert_uint_eq(f.chap.failure.error, 649);
	ck_assert_uint_eq(f.chap.failure.retry, 0); /* a retry cannot fix a permission */
	ck_assert(f.chap.failure.has_msg);
	ck_assert_mem_eq(f.chap.failure.msg, "No dial-in permission", 21);
	ck_assert_uint_eq(L.side[1].win_error, 649);
	ck_assert_uint_eq(L.side[0].win_error, 649);
	ck_assert(logged(&L.side[0], "auth failed user=carol method=MS-CHAPv2 result=ok error=649"));
	/* the server then ends the link */
	ck_assert_ptr_nonnull(find_frame(0, PPP_PROTO_LCP, PPP_TERM_REQ, 0));
}
END_TEST

/* ---- MS-CHAPv2 Change-Password after E=648 -------------------------------------------- */
static char erin_pw[64];
static bool erin_expired;

static int x_password(void *ctx, const char *user, char *buf, size_t cap)
{
	if (strcmp(user, "erin") != 0) return h_password(ctx, user, buf, cap);
	snprintf(buf, cap, "%s", erin_pw);
	return (int)strlen(erin_pw);
}

static struct ppp_admit x_admit(void *ctx, const char *user, enum ppp_auth_method m,
                                enum ppp_cred cred)
{
	if (strcmp(user, "erin") != 0) return h_admit(ctx, user, m, cred);
	struct ppp_admit v = {false, 691, NULL, false};
	if (cred != PPP_CRED_OK) return v;
	if (erin_expired) {
		v.win_error = 648;
		v.message = "The password has expired";
		return v;
	}
	v.accept = true;
	v.win_error = 0;
	return v;
}

static int x_change(void *ctx, const char *user, const char *np)
{
	(void)ctx;
	if (strcmp(user, "erin") != 0 || strlen(np) >= sizeof erin_pw) return -1;
	snprintf(erin_pw, sizeof erin_pw, "%s", np);
	erin_expired = false;
	return 0;
}

static void expired_link(const char *client_new_pw, bool server_offers_change)
{
	snprintf(erin_pw, sizeof erin_pw, "0ld-pass");
	erin_expired = true;
	h_init(&L);
	L.side[0].cbs.password = x_password;
	L.side[0].cbs.admit = x_admit;
	L.side[0].cbs.change_password = server_offers_change ? x_change : NULL;
	L.side[1].conf.auth.name = "erin";
	L.side[1].conf.auth.password = "0ld-pass";
	L.side[1].conf.auth.new_password = client_new_pw;
	h_start(&L);
	h_run(&L, 60000);
}

START_TEST(mschapv2_change_expired_password)
{
	expired_link("n\xc3\xa9w-Pass 2", true); /* non-ASCII travels as UTF-16LE */
	struct ppp_msg f;
	ck_assert_int_eq(h_decode(find_frame(0, PPP_PROTO_CHAP, CHAP_FAILURE, 0), &f), 0);
	ck_assert_uint_eq(f.chap.failure.error, 648);
	ck_assert_uint_eq(f.chap.failure.retry, 0);
	const struct h_frame *cp = find_frame(1, PPP_PROTO_CHAP, CHAP_CHANGE_PASSWORD, 0);
	ck_assert_ptr_nonnull(cp);
	ck_assert_int_eq(h_decode(cp, &f), 0);
	ck_assert_ptr_nonnull(f.chap.enc_password);
	ck_assert_str_eq(erin_pw, "n\xc3\xa9w-Pass 2");
	ck_assert(!erin_expired);
	ck_assert(logged(&L.side[0], "password changed user=erin"));
	/* Success proves the server knows the new password; the link comes up */
	ck_assert_ptr_nonnull(find_frame(0, PPP_PROTO_CHAP, CHAP_SUCCESS, 0));
	ck_assert(L.side[1].s.ipcp_up);
	ck_assert(L.side[0].s.ipcp_up);
}
END_TEST

START_TEST(mschapv2_expired_without_change)
{
	/* the client has no new password: 648 is final */
	expired_link(NULL, true);
	ck_assert_ptr_null(find_frame(1, PPP_PROTO_CHAP, CHAP_CHANGE_PASSWORD, 0));
	ck_assert_uint_eq(L.side[1].win_error, 648);
	ck_assert(!L.side[1].s.ipcp_up);
	/* a server that does not take changes says 648 and ends the link at once: a
	 * Change-Password the client tries is not answered with Success */
	expired_link("new-pass-3", false);
	ck_assert_ptr_null(find_frame(0, PPP_PROTO_CHAP, CHAP_SUCCESS, 0));
	ck_assert_uint_eq(L.side[0].win_error, 648);
	ck_assert(!L.side[1].s.ipcp_up);
	ck_assert_str_eq(erin_pw, "0ld-pass");
}
END_TEST

static int change_refused(void *ctx, const char *user, const char *np)
{
	(void)ctx;
	(void)user;
	(void)np;
	return -1; /* e.g. the password policy wants a longer one */
}

START_TEST(mschapv2_change_refused)
{
	snprintf(erin_pw, sizeof erin_pw, "0ld-pass");
	erin_expired = true;
	h_init(&L);
	L.side[0].cbs.password = x_password;
	L.side[0].cbs.admit = x_admit;
	L.side[0].cbs.change_password = change_refused;
	L.side[1].conf.auth.name = "erin";
	L.side[1].conf.auth.password = "0ld-pass";
	L.side[1].conf.auth.new_password = "x";
	h_start(&L);
	h_run(&L, 60000);
	ck_assert_ptr_nonnull(find_frame(1, PPP_PROTO_CHAP, CHAP_CHANGE_PASSWORD, 0));
	ck_assert(logged(&L.side[0],
	                 "password change refused user=erin error=709: the new password was not accepted"));
	/* the peer proved the old password: the store's refusal is 709, as RRAS says it */
	struct ppp_msg f;
	ck_assert_int_eq(h_decode(find_frame(0, PPP_PROTO_CHAP, CHAP_FAILURE, 1), &f), 0);
	ck_assert(f.chap.has_failure && f.chap.failure.has_error);
	ck_assert_uint_eq(f.chap.failure.error, 709);
	ck_assert_uint_eq(f.chap.failure.retry, 0);
	ck_assert_uint_eq(L.side[1].win_error, 709);
	ck_assert_uint_eq(L.side[0].win_error, 709);
	ck_assert(!L.side[1].s.ipcp_up);
	ck_assert_str_eq(erin_pw, "0ld-pass");
}
END_TEST

/* A new password longer than the server keeps is refused with 709 before the store is
 * asked; the old password stays. */
START_TEST(mschapv2_change_too_long_709)
{
	static char longpw[PPP_AUTH_PASSWORD_MAX + 2];
	memset(longpw, 'p', sizeof longpw - 1);
	longpw[sizeof longpw - 1] = 0;
	expired_link(longpw, true);
	ck_assert_ptr_nonnull(find_frame(1, PPP_PROTO_CHAP, CHAP_CHANGE_PASSWORD, 0));
	ck_assert_msg(logged(&L.side[0], "password change refused user=erin error=709: "
	                     "the new password is longer than the server keeps"),
	              "log: %s", L.side[0].log);
	struct ppp_msg f;
	ck_assert_int_eq(h_decode(find_frame(0, PPP_PROTO_CHAP, CHAP_FAILURE, 1), &f), 0);
	ck_assert_uint_eq(f.chap.failure.error, 709);
	ck_assert_uint_eq(L.side[1].win_error, 709);
	ck_assert_ptr_null(find_frame(0, PPP_PROTO_CHAP, CHAP_SUCCESS, 0));
	ck_assert(!L.side[1].s.ipcp_up);
	ck_assert_str_eq(erin_pw, "0ld-pass");
	ck_assert(erin_expired);
}
END_TEST

/* After the 648 the client forgets the old password: its Change-Password no longer
 * proves it, and that is 691 (not 709), whatever the new password. */
static bool forget_old_password(struct h_link *l, int from, const uint8_t *f, size_t n)
{
	if (from == 0 && n > 4 && f[2] == 0xc2 && f[3] == 0x23 && f[4] == CHAP_FAILURE)
		l->side[1].conf.auth.password = "not-the-0ld-pass";
	return false;
}

START_TEST(mschapv2_change_unproved_691)
{
	snprintf(erin_pw, sizeof erin_pw, "0ld-pass");
	erin_expired = true;
	h_init(&L);
	L.drop = forget_old_password;
	L.side[0].cbs.password = x_password;
	L.side[0].cbs.admit = x_admit;
	L.side[0].cbs.change_password = x_change;
	L.side[1].conf.auth.name = "erin";
	L.side[1].conf.auth.password = "0ld-pass";
	L.side[1].conf.auth.new_password = "new-pass-4";
	h_start(&L);
	h_run(&L, 60000);
	ck_assert_ptr_nonnull(find_frame(1, PPP_PROTO_CHAP, CHAP_CHANGE_PASSWORD, 0));
	ck_assert(logged(&L.side[0], "password change refused user=erin error=691"));
	struct ppp_msg f;
	ck_assert_int_eq(h_decode(find_frame(0, PPP_PROTO_CHAP, CHAP_FAILURE, 1), &f), 0);
	ck_assert_uint_eq(f.chap.failure.error, 691);
	ck_assert_uint_eq(L.side[1].win_error, 691);
	ck_assert(!L.side[1].s.ipcp_up);
	ck_assert_str_eq(erin_pw, "0ld-pass");
}
END_TEST

START_TEST(change_password_block_round_trip)
{
	uint8_t oh[16], fill[512], enc[516];
	char out[300];
	for (int i = 0; i < 512; i++) fill[i] = (uint8_t)(i * 7);
	ck_assert_int_eq(mschap_nt_password_hash("old", 3, oh), 0);
	ck_assert_int_eq(mschap2_new_password_encrypt("brand new", 9, oh, fill, enc), 0);
	ck_assert_int_eq(mschap2_new_password_decrypt(enc, oh, out, sizeof out), 9);
	ck_assert_str_eq(out, "brand new");
	/* with another old hash the length field is garbage: refused, never a crash */
	uint8_t other[16];
	ck_assert_int_eq(mschap_nt_password_hash("not old", 7, other), 0);
	ck_assert_int_lt(mschap2_new_password_decrypt(enc, other, out, sizeof out), 0);
	/* too small an output buffer */
	ck_assert_int_lt(mschap2_new_password_decrypt(enc, oh, out, 5), 0);
}
END_TEST

static bool drop_chap_responses(struct h_link *l, int from, const uint8_t *f, size_t n)
{
	(void)l;
	return from == 1 && n > 4 && f[2] == 0xc2 && f[3] == 0x23;
}

START_TEST(challenge_timeout)
{
	h_init(&L);
	L.drop = drop_chap_responses;
	h_start(&L);
	h_run(&L, 200);
	ck_assert_int_eq(L.side[0].s.phase, PPP_PHASE_AUTH);
	uint64_t t0 = L.now;
	h_run(&L, 100000);
	/* max_transmits 5 challenges, 3 s apart, then the phase fails with 718 */
	ck_assert_ptr_nonnull(find_frame(0, PPP_PROTO_CHAP, CHAP_CHALLENGE, 4));
	ck_assert_ptr_null(find_frame(0, PPP_PROTO_CHAP, CHAP_CHALLENGE, 5));
	ck_assert(L.side[0].finished);
	ck_assert_uint_eq(L.side[0].win_error, 718);
	ck_assert(logged(&L.side[0], "auth: no answer after 5 challenges"));
	(void)t0;
}
END_TEST

START_TEST(unknown_user_rejected)
{
	h_init(&L);
	L.side[1].conf.auth.name = "mallory";
	L.side[0].conf.auth.max_retries = 0;
	h_start(&L);
	h_run(&L, 60000);
	ck_assert(logged(&L.side[0], "auth failed user=mallory method=MS-CHAPv2 result=unknown-user"));
	ck_assert_uint_eq(L.side[1].win_error, 691);
}
END_TEST

/* ---- credentials that cannot pass --------------------------------------------------- */
static struct ppp_msg pap_req(uint8_t id, const char *user, const uint8_t *pw, size_t n)
{
	struct ppp_msg m;
	memset(&m, 0, sizeof m);
	m.proto = PPP_PROTO_PAP;
	m.kind = PPP_KIND_PAP;
	m.pap.code = PAP_AUTH_REQ;
	m.pap.id = id;
	m.pap.peer_id = (const uint8_t *)user;
	m.pap.peer_id_len = strlen(user);
	m.pap.password = pw;
	m.pap.password_len = n;
	return m;
}

/* One PAP attempt against a fresh authenticator; the outcome in d. */
static void pap_try(struct direct *d, bool admit_all, const char *user, const void *pw, size_t n)
{
	d_init(d, PPP_AUTH_AUTHENTICATOR);
	d->admit_all = admit_all;
	ppp_auth_start(&d->a, PPP_AUTH_PAP, 0);
	struct ppp_msg m = pap_req(3, user, pw, n);
	ppp_auth_input(&d->a, &m, 10);
	ck_assert(d->done);
}

START_TEST(pap_compares_the_whole_password)
{
	struct direct d = {0};
	pap_try(&d, false, "User", "clientPass", 10);
	ck_assert(d.ok);
	ck_assert_int_eq(d.cred, PPP_CRED_OK);
	/* a prefix, a longer password, one with a NUL after the right bytes, another case, an
	 * empty one: each a wrong password, never a pass */
	static const struct { const char *pw; size_t n; } bad[] = {
		{"clientPas", 9}, {"c", 1}, {"clientPass!", 11}, {"clientPass\0", 11},
		{"clientPasS", 10}, {"ClientPass", 10}, {"", 0},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		pap_try(&d, false, "User", bad[i].pw, bad[i].n);
		ck_assert_msg(!d.ok && d.err == 691, "password %zu accepted", i);
		ck_assert_int_eq(d.cred, PPP_CRED_BAD);
	}
	/* the longest PAP carries, against a short one */
	uint8_t longest[255];
	memset(longest, 'c', sizeof longest);
	memcpy(longest, "clientPass", 10);
	pap_try(&d, false, "User", longest, sizeof longest);
	ck_assert(!d.ok);
	ck_assert_int_eq(d.cred, PPP_CRED_BAD);
	ppp_auth_free(&d.a);
}
END_TEST

START_TEST(unchecked_credentials_never_pass)
{
	/* an owner whose admission says yes to anything still cannot let these in: the
	 * authenticator refuses credentials it did not find right */
	struct direct d = {0};
	pap_try(&d, true, "nopw", "anything", 8);
	ck_assert(!d.ok);
	ck_assert_uint_eq(d.err, 691);
	ck_assert_int_eq(d.cred, PPP_CRED_ERROR);
	ck_assert_msg(strstr(d.log, "auth failed user=nopw method=PAP result=error error=691"), "%s", d.log);
	pap_try(&d, true, "huge", "x", 1);
	ck_assert(!d.ok);
	ck_assert_int_eq(d.cred, PPP_CRED_ERROR);
	pap_try(&d, true, "User", "wrong", 5);
	ck_assert(!d.ok);
	ck_assert_int_eq(d.cred, PPP_CRED_BAD);
	pap_try(&d, true, "nobody", "x", 1);
	ck_assert(!d.ok);
	ck_assert_int_eq(d.cred, PPP_CRED_NO_USER);
	pap_try(&d, true, "User", "clientPass", 10);
	ck_assert(d.ok);

	/* CHAP-MD5 and MS-CHAPv2 alike */
	for (int k = 0; k < 2; k++) {
		enum ppp_auth_method meth = k ? PPP_AUTH_MSCHAPV2 : PPP_AUTH_CHAP_MD5;
		d_init(&d, PPP_AUTH_AUTHENTICATOR);
		d.admit_all = true;
		ppp_auth_start(&d.a, meth, 0);
		uint8_t v[49];
		memset(v, 0x11, sizeof v);
		struct ppp_msg r = chap_msg(CHAP_RESPONSE, d.id, v, k ? 49 : 16, "nopw", NULL);
		ppp_auth_input(&d.a, &r, 10);
		ck_assert(d.done && !d.ok);
		ck_assert_int_eq(d.cred, PPP_CRED_ERROR);
		ck_assert_uint_eq(d.code, CHAP_FAILURE);
		d_init(&d, PPP_AUTH_AUTHENTICATOR);
		d.admit_all = true;
		ppp_auth_start(&d.a, meth, 0);
		r = chap_msg(CHAP_RESPONSE, d.id, v, k ? 49 : 16, "User", NULL);
		ppp_auth_input(&d.a, &r, 10);
		ck_assert(d.done && !d.ok);
		ck_assert_int_eq(d.cred, PPP_CRED_BAD);
	}
	ppp_auth_free(&d.a);
}
END_TEST

/* A CHAP-MD5 exchange for `user` with clientPass; true when admitted. */
static bool chap_md5_as(struct direct *d, const char *user, size_t user_len)
{
	d_init(d, PPP_AUTH_AUTHENTICATOR);
	ppp_auth_start(&d->a, PPP_AUTH_CHAP_MD5, 0);
	uint8_t ch[16];
	memcpy(ch, d->value, 16);
	uint8_t r[16];
	chap_md5_response(d->id, (const uint8_t *)"clientPass", 10, ch, 16, r);
	struct ppp_msg m = chap_msg(CHAP_RESPONSE, d->id, r, 16, NULL, NULL);
	m.chap.name = (const uint8_t *)user;
	m.chap.name_len = user_len;
	ppp_auth_input(&d->a, &m, 10);
	ck_assert(d->done);
	return d->ok;
}

START_TEST(long_user_names_are_read)
{
	struct direct d = {0};
	/* a 200-byte UPN and the longest name the authenticator reads */
	ck_assert(chap_md5_as(&d, upn(200), 200));
	ck_assert_str_eq(d.a.user, upn(200));
	ck_assert(chap_md5_as(&d, upn(PPP_AUTH_USER_MAX), PPP_AUTH_USER_MAX));
	ck_assert_uint_eq(strlen(d.a.user), PPP_AUTH_USER_MAX);
	/* one byte more, or a NUL inside: not read, rejected, and the log says why */
	ck_assert(!chap_md5_as(&d, upn(PPP_AUTH_USER_MAX + 1), PPP_AUTH_USER_MAX + 1));
	ck_assert_int_eq(d.cred, PPP_CRED_ERROR);
	ck_assert_str_eq(d.a.user, "(unreadable)");
	ck_assert(strstr(d.log, "user name of 1025 bytes not read (longer than 1024 bytes)"));
	ck_assert(!chap_md5_as(&d, "User\0x", 6));
	ck_assert(strstr(d.log, "not read (it holds a NUL byte): User\\x00x"));

	/* MS-CHAPv2 with the 200-byte UPN */
	static uint8_t auth_ch[16];
	unhex(V_AUTH_CH, auth_ch, 16);
	d_init(&d, PPP_AUTH_AUTHENTICATOR);
	d.rnd = auth_ch;
	d.rnd_len = 16;
	ppp_auth_start(&d.a, PPP_AUTH_MSCHAPV2, 0);
	uint8_t v[49];
	memset(v, 0, sizeof v);
	unhex(V_PEER_CH, v, 16);
	ck_assert_int_eq(mschap2_nt_response(auth_ch, v, upn(200), 200, "clientPass", 10, v + 24), 0);
	struct ppp_msg r = chap_msg(CHAP_RESPONSE, d.id, v, 49, upn(200), NULL);
	ppp_auth_input(&d.a, &r, 100);
	ck_assert(d.done && d.ok);
	ck_assert_uint_eq(d.code, CHAP_SUCCESS);
	ck_assert_str_eq(d.a.user, upn(200));
	ppp_auth_free(&d.a);
}
END_TEST

START_TEST(peer_names_escaped_in_the_log)
{
	struct direct d = {0};
	const char evil[] = "ev\nil 2026-01-01T00:00:00.000Z auth ok user=root\x1b[31m\r\xff";
	pap_try(&d, false, evil, "x", 1);
	ck_assert(!d.ok);
	/* one line, no raw control byte or invalid UTF-8 from the peer */
	ck_assert_msg(strstr(d.log, "auth failed user=ev\\x0ail 2026-01-01T00:00:00.000Z auth ok "
	                     "user=root\\x1b[31m\\x0d\\xff method=PAP result=unknown-user"), "%s", d.log);
	unsigned lines = 0;
	for (const char *p = d.log; *p; p++) {
		ck_assert(*p == '\n' || ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f));
		lines += *p == '\n';
	}
	ck_assert_uint_eq(lines, 1);
	ppp_auth_free(&d.a);
}
END_TEST

START_TEST(reauthentication_keeps_the_user)
{
	struct direct d = {0};
	pap_try(&d, false, "User", "clientPass", 10);
	ck_assert(d.ok);
	/* LCP renegotiated: a new authentication phase on the same link, as another user
	 * whose credentials are right, is refused and the link stays User's */
	d.done = false;
	ppp_auth_start(&d.a, PPP_AUTH_PAP, 100);
	struct ppp_msg m = pap_req(4, "CORP\\User", (const uint8_t *)"clientPass", 10);
	ppp_auth_input(&d.a, &m, 110);
	ck_assert(d.done && !d.ok);
	ck_assert_str_eq(d.a.user, "User");
	ck_assert(strstr(d.log, "re-authentication as user=CORP\\x5cUser refused"));
	/* the same user again is fine */
	d.done = false;
	ppp_auth_start(&d.a, PPP_AUTH_PAP, 200);
	m = pap_req(5, "User", (const uint8_t *)"clientPass", 10);
	ppp_auth_input(&d.a, &m, 210);
	ck_assert(d.done && d.ok);
	ppp_auth_free(&d.a);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ppp_auth");
	TCase *t = tcase_create("machine");
	tcase_add_test(t, mschapv2_authenticator_rfc2759_vector);
	tcase_add_test(t, mschapv2_domain_prefix_not_hashed);
	tcase_add_test(t, mschapv2_peer_rfc2759_vector);
	tcase_add_test(t, duplicate_response_gets_same_answer);
	tcase_add_test(t, failure_text_format);
	suite_add_tcase(s, t);
	t = tcase_create("link");
	tcase_add_test(t, pap_success_and_failure);
	tcase_add_test(t, chap_md5_success_and_failure);
	tcase_add_test(t, mschapv2_success_proves_server);
	tcase_add_test(t, mschapv2_retry_after_691);
	tcase_add_test(t, mschapv2_retries_exhausted);
	tcase_add_test(t, mschapv2_649_from_policy);
	tcase_add_test(t, challenge_timeout);
	tcase_add_test(t, unknown_user_rejected);
	tcase_add_test(t, mschapv2_change_expired_password);
	tcase_add_test(t, mschapv2_expired_without_change);
	tcase_add_test(t, mschapv2_change_refused);
	tcase_add_test(t, mschapv2_change_too_long_709);
	tcase_add_test(t, mschapv2_change_unproved_691);
	tcase_add_test(t, change_password_block_round_trip);
	tcase_add_test(t, pap_compares_the_whole_password);
	tcase_add_test(t, unchecked_credentials_never_pass);
	tcase_add_test(t, long_user_names_are_read);
	tcase_add_test(t, peer_names_escaped_in_the_log);
	tcase_add_test(t, reauthentication_keeps_the_user);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
