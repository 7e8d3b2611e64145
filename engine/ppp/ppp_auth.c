/* PPP authentication phase: PAP, CHAP-MD5 and MS-CHAPv2, both sides. */
#include "ppp/ppp_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "mschap.h"

#define STR_(x) #x
#define STR(x) STR_(x)

const struct tok ppp_auth_method_names[] = {
	{PPP_AUTH_NONE, "none"},
	{PPP_AUTH_PAP, "PAP"},
	{PPP_AUTH_CHAP_MD5, "CHAP-MD5"},
	{PPP_AUTH_MSCHAPV2, "MS-CHAPv2"},
	{0, NULL},
};

const struct tok ppp_cred_names[] = {
	{PPP_CRED_OK, "ok"},
	{PPP_CRED_BAD, "bad-password"},
	{PPP_CRED_NO_USER, "unknown-user"},
	{PPP_CRED_ERROR, "error"},
	{0, NULL},
};

static const char *method_name(unsigned m)
{
	const char *s = tok_name(ppp_auth_method_names, m);
	return s ? s : "?";
}

static void logf_(struct ppp_auth *a, enum ppp_log kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void logf_(struct ppp_auth *a, enum ppp_log kind, const char *fmt, ...)
{
	if (!a->cbs->event || (a->cbs->log_wanted && !a->cbs->log_wanted(a->cbs->ctx, kind))) return;
	char line[PPP_LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	a->cbs->event(a->cbs->ctx, kind, line);
}

void ppp_auth_init(struct ppp_auth *a, enum ppp_auth_role role, const struct ppp_auth_conf *conf,
                   const struct ppp_auth_cbs *cbs)
{
	memset(a, 0, sizeof *a);
	a->user = "";
	a->role = (uint8_t)role;
	a->conf = conf;
	a->cbs = cbs;
	a->deadline = PPP_NEVER;
	a->give_up_at = PPP_NEVER;
}

void ppp_auth_free(struct ppp_auth *a)
{
	free(a->user_mem);
	a->user_mem = NULL;
	a->user = "";
}

const char *ppp_auth_strip_domain(const char *user)
{
	const char *bs = strrchr(user, '\\');
	return bs ? bs + 1 : user;
}

void ppp_auth_mschapv2_failure(unsigned error, bool retry, const uint8_t challenge[16],
                               const char *msg, char *out, size_t cap)
{
	char hex[33];
	static const char digits[] = "0123456789ABCDEF";
	for (int i = 0; i < 16; i++) {
		hex[2 * i] = digits[challenge[i] >> 4];
		hex[2 * i + 1] = digits[challenge[i] & 15];
	}
	hex[32] = 0;
	snprintf(out, cap, "E=%u R=%d C=%s V=3 M=%s", error, retry ? 1 : 0, hex,
	         msg ? msg : "Authentication failure");
}

uint64_t ppp_auth_deadline(const struct ppp_auth *a)
{
	return ppp_min_deadline(a->deadline, a->give_up_at);
}

void ppp_auth_stop(struct ppp_auth *a)
{
	a->deadline = PPP_NEVER;
	a->give_up_at = PPP_NEVER;
	if (a->state == PPP_AUTH_WAIT || a->state == PPP_AUTH_WAIT_RESULT ||
	    a->state == PPP_AUTH_PENDING)
		a->state = PPP_AUTH_IDLE;
}

/* ---- sending ------------------------------------------------------------------- */
static void send_msg(struct ppp_auth *a, struct ppp_msg *m) { a->cbs->send(a->cbs->ctx, m); }

static void send_chap(struct ppp_auth *a, uint8_t code, uint8_t id, const uint8_t *value,
                      size_t vlen, const char *name, const char *msg)
{
	struct ppp_msg m;
	memset(&m, 0, sizeof m);
	m.proto = PPP_PROTO_CHAP;
	m.kind = PPP_KIND_CHAP;
	m.chap.code = code;
	m.chap.id = id;
	m.chap.value = value;
	m.chap.value_len = vlen;
	if (name) {
		m.chap.name = (const uint8_t *)name;
		m.chap.name_len = strlen(name);
	}
	if (msg) {
		m.chap.msg = (const uint8_t *)msg;
		m.chap.msg_len = strlen(msg);
	}
	if (a->method == PPP_AUTH_MSCHAPV2) {
		m.chap.variant = PPP_CHAP_MSCHAPV2;
		if (code == CHAP_RESPONSE && vlen == 49) {
			m.chap.peer_challenge = value;
			m.chap.nt_response = value + 24;
			m.chap.flags = value[48];
		}
	}
	send_msg(a, &m);
}

static void send_pap(struct ppp_auth *a, uint8_t code, uint8_t id, const char *user,
                     const char *pw, const char *msg)
{
	struct ppp_msg m;
	memset(&m, 0, sizeof m);
	m.proto = PPP_PROTO_PAP;
	m.kind = PPP_KIND_PAP;
	m.pap.code = code;
	m.pap.id = id;
	if (user) {
		m.pap.peer_id = (const uint8_t *)user;
		m.pap.peer_id_len = strlen(user);
		m.pap.password = (const uint8_t *)pw;
		m.pap.password_len = strlen(pw);
	}
	if (msg) {
		m.pap.msg = (const uint8_t *)msg;
		m.pap.msg_len = strlen(msg);
	}
	send_msg(a, &m);
}

static void resend_reply(struct ppp_auth *a)
{
	if (a->method == PPP_AUTH_PAP)
		send_pap(a, a->reply_code, a->reply_id, NULL, NULL, a->reply_msg);
	else
		send_chap(a, a->reply_code, a->reply_id, NULL, 0, NULL, a->reply_msg);
}

static void finish(struct ppp_auth *a, bool ok, unsigned err)
{
	a->state = ok ? PPP_AUTH_SUCCESS : PPP_AUTH_FAILED;
	a->win_error = ok ? 0 : err;
	if (ok && a->role == PPP_AUTH_AUTHENTICATOR) a->user_fixed = true;
	a->deadline = PPP_NEVER;
	a->give_up_at = PPP_NEVER;
	if (a->cbs->done) a->cbs->done(a->cbs->ctx, ok, a->win_error);
}

/* Keep MD4(MD4(password)) for an MS-CHAPv2 success: the MPPE master key needs it. */
static void keep_hash_hash(struct ppp_auth *a, const char *pw, size_t n)
{
	uint8_t h[16];
	a->have_hash_hash = mschap_nt_password_hash(pw, n, h) == 0 &&
	                    mschap_hash_nt_password_hash(h, a->pw_hash_hash) == 0;
	OPENSSL_cleanse(h, sizeof h);
}

int ppp_auth_mppe_master_key(const struct ppp_auth *a, uint8_t out[16])
{
	if (a->method != PPP_AUTH_MSCHAPV2 || a->state != PPP_AUTH_SUCCESS || !a->have_hash_hash)
		return -1;
	return mppe_master_key(a->pw_hash_hash, a->nt_response, out);
}

/* A user name or other peer text for the log: escaped (text_printable). */
#define USER_TEXT_SIZE TEXT_PRINTABLE_SIZE(PPP_AUTH_USER_MAX)
static const char *shown(const char *s, char *buf, size_t n)
{
	text_printable_str(s, buf, n);
	return buf;
}

/* ---- authenticator --------------------------------------------------------------- */
static void send_challenge(struct ppp_auth *a, uint64_t now)
{
	a->transmits++;
	a->deadline = now + a->conf->restart_ms;
	send_chap(a, CHAP_CHALLENGE, a->id, a->challenge, 16, a->conf->name ? a->conf->name : "vnet",
	          NULL);
}

static void new_challenge(struct ppp_auth *a)
{
	a->cbs->random(a->cbs->ctx, a->challenge, sizeof a->challenge);
}

/* Copy a peer-supplied name; false when it is longer than PPP_AUTH_USER_MAX or holds a
 * NUL (the name then reads "(unreadable)" and the attempt is rejected). */
static bool take_user(struct ppp_auth *a, const uint8_t *p, size_t n)
{
	if (n > PPP_AUTH_USER_MAX || (n && memchr(p, 0, n))) {
		char t[USER_TEXT_SIZE];
		text_printable(p, n < PPP_AUTH_USER_MAX ? n : PPP_AUTH_USER_MAX, t, sizeof t);
		logf_(a, PPP_LOG_INFO, "user name of %zu bytes not read (%s): %s%s", n,
		      n > PPP_AUTH_USER_MAX ? "longer than " STR(PPP_AUTH_USER_MAX) " bytes"
		                            : "it holds a NUL byte",
		      t, n > PPP_AUTH_USER_MAX ? "..." : "");
		if (!a->user_fixed) {
			ppp_auth_free(a);
			a->user = "(unreadable)";
		}
		return false;
	}
	if (a->user_fixed && (strlen(a->user) != n || (n && memcmp(a->user, p, n) != 0))) {
		/* the link stays the user it was admitted as (show, accounting, disconnect) */
		char t[USER_TEXT_SIZE], u[USER_TEXT_SIZE];
		text_printable(p, n, t, sizeof t);
		logf_(a, PPP_LOG_INFO, "re-authentication as user=%s refused: the link belongs to "
		      "user=%s", t, shown(a->user, u, sizeof u));
		return false;
	}
	if (a->user_fixed) return true; /* the same name */
	char *u = malloc(n + 1);
	if (!u) {
		logf_(a, PPP_LOG_INFO, "user name of %zu bytes not read: out of memory", n);
		ppp_auth_free(a);
		a->user = "(unreadable)";
		return false;
	}
	if (n) memcpy(u, p, n);
	u[n] = 0;
	ppp_auth_free(a);
	a->user = a->user_mem = u;
	return true;
}

/* Forget what a successful MS-CHAPv2 check prepared. */
static void forget_success(struct ppp_auth *a)
{
	OPENSSL_cleanse(a->auth_resp, sizeof a->auth_resp);
	OPENSSL_cleanse(a->pw_hash_hash, sizeof a->pw_hash_hash);
	a->have_auth_resp = false;
	a->have_hash_hash = false;
}

/* The same from the password's NT hash (MD4 of the password), computed once by the check. */
static bool prepare_success_hash(struct ppp_auth *a, const uint8_t pw_hash[16])
{
	const char *u = ppp_auth_strip_domain(a->user);
	a->have_auth_resp = mschap2_authenticator_response_hash(pw_hash, a->nt_response,
	                                                        a->peer_challenge, a->challenge, u,
	                                                        strlen(u), a->auth_resp) == 0;
	a->have_hash_hash = mschap_hash_nt_password_hash(pw_hash, a->pw_hash_hash) == 0;
	if (!a->have_auth_resp) forget_success(a);
	return a->have_auth_resp;
}

/* MS-CHAPv2 credentials that matched: the Success text and the MPPE hash are computed
 * now, while the password is at hand, so admission never needs it again. */
static bool prepare_success(struct ppp_auth *a, const char *pw, size_t n)
{
	uint8_t h[16];
	bool ok = mschap_nt_password_hash(pw, n, h) == 0 && prepare_success_hash(a, h);
	OPENSSL_cleanse(h, sizeof h);
	if (!ok) forget_success(a);
	return ok;
}

static void conclude(struct ppp_auth *a, enum ppp_cred cred, struct ppp_admit v,
                     const char *success, uint64_t now);

/* Ask the admission callback and act on the verdict, now or when it is resumed. `cred`
 * came from the check. */
static void decide(struct ppp_auth *a, enum ppp_cred cred, uint64_t now)
{
	if (cred == PPP_CRED_OK && a->method == PPP_AUTH_MSCHAPV2 && !a->have_auth_resp)
		cred = PPP_CRED_ERROR; /* no Success could prove we know the password */
	struct ppp_admit v;
	enum ppp_auth_method m = (enum ppp_auth_method)a->method;
	if (a->cbs->admit_async) {
		memset(&v, 0, sizeof v);
		if (a->cbs->admit_async(a->cbs->ctx, a->user, m, cred, &v) == PPP_ADMIT_PENDING) {
			/* nothing goes to the peer until the verdict, no Challenge retransmission
			 * either (the peer answered it); the phase timeout still holds */
			char ut[USER_TEXT_SIZE];
			a->state = PPP_AUTH_PENDING;
			a->pending_cred = (uint8_t)cred;
			a->deadline = PPP_NEVER;
			logf_(a, PPP_LOG_INFO, "auth pending user=%s method=%s: waiting for the verdict",
			      shown(a->user, ut, sizeof ut), method_name(a->method));
			return;
		}
	} else {
		v = a->cbs->admit(a->cbs->ctx, a->user, m, cred);
	}
	v.checked = false; /* only a verdict that comes later, from a server, may say so */
	conclude(a, cred, v, NULL, now);
}

int ppp_auth_resume(struct ppp_auth *a, const struct ppp_admit *v, const char *success,
                    uint64_t now)
{
	if (a->role != PPP_AUTH_AUTHENTICATOR || a->state != PPP_AUTH_PENDING) return -1;
	a->state = PPP_AUTH_WAIT;
	struct ppp_admit pv = *v;
	pv.checked = v->checked && v->accept;
	conclude(a, (enum ppp_cred)a->pending_cred, pv, success, now);
	return 0;
}

/* Answer the peer with the verdict `v`. */
static void conclude(struct ppp_auth *a, enum ppp_cred cred, struct ppp_admit v,
                     const char *success, uint64_t now)
{
	char ut[USER_TEXT_SIZE];
	/* an MS-CHAPv2 verdict that brings the authenticator response, or one that says an
	 * authentication server checked the credentials (only ppp_auth_resume passes it on):
	 * that server checked what the server could not */
	bool proven = (success && a->method == PPP_AUTH_MSCHAPV2) ||
	              (v.checked && a->method != PPP_AUTH_MSCHAPV2);
	if (v.accept && cred != PPP_CRED_OK && !proven) {
		/* credentials that did not match, or could not be checked, are never a pass */
		logf_(a, PPP_LOG_INFO, "admission accepted user=%s without matching credentials "
		      "(%s): refused", shown(a->user, ut, sizeof ut), tok_name(ppp_cred_names, cred));
		v.accept = false;
		v.win_error = PPP_WINERR_AUTH_FAILURE;
		v.message = NULL;
	}
	unsigned err = v.accept ? 0 : (v.win_error ? v.win_error : PPP_WINERR_AUTH_FAILURE);
	if (!v.accept) forget_success(a);
	a->reply_id = a->id;
	if (a->method == PPP_AUTH_PAP) {
		a->reply_code = v.accept ? PAP_AUTH_ACK : PAP_AUTH_NAK;
		snprintf(a->reply_msg, sizeof a->reply_msg, "%s",
		         v.message ? v.message : v.accept ? "Login ok" : "Login incorrect");
		resend_reply(a);
	} else if (a->method == PPP_AUTH_CHAP_MD5) {
		a->reply_code = v.accept ? CHAP_SUCCESS : CHAP_FAILURE;
		snprintf(a->reply_msg, sizeof a->reply_msg, "%s",
		         v.message ? v.message : v.accept ? "Access granted" : "Access denied");
		resend_reply(a);
	} else {
		if (v.accept) {
			/* S= from an authentication server that proved the password, or ours,
			 * computed when the credentials were checked */
			a->reply_code = CHAP_SUCCESS;
			snprintf(a->reply_msg, sizeof a->reply_msg, "%s M=%s",
			         success ? success : a->auth_resp,
			         v.message ? v.message : "Access granted");
			resend_reply(a);
		}
		if (!v.accept && err == PPP_WINERR_PASSWD_EXPIRED && a->cbs->change_password &&
		    !a->changed && cred == PPP_CRED_OK) {
			/* RFC 2759 section 7: the peer may answer with Change-Password, identifier
			 * one above the Failure's, computed against the challenge in C= */
			new_challenge(a);
			a->reply_code = CHAP_FAILURE;
			ppp_auth_mschapv2_failure(err, false, a->challenge, v.message, a->reply_msg,
			                          sizeof a->reply_msg);
			resend_reply(a);
			a->id++;
			a->change_wait = true;
			a->deadline = PPP_NEVER;
			logf_(a, PPP_LOG_INFO, "password expired user=%s: waiting for Change-Password",
			      shown(a->user, ut, sizeof ut));
			return;
		}
		if (!v.accept) {
			bool retry = err == PPP_WINERR_AUTH_FAILURE && a->retries < a->conf->max_retries;
			if (retry) new_challenge(a); /* C= carries the challenge of the retry */
			a->reply_code = CHAP_FAILURE;
			ppp_auth_mschapv2_failure(err, retry, a->challenge, v.message, a->reply_msg,
			                          sizeof a->reply_msg);
			resend_reply(a);
			if (retry) {
				a->retries++;
				/* the retried Response comes with a new identifier, normally the next */
				a->id++;
				a->retry_wait = true;
				a->deadline = PPP_NEVER;
				logf_(a, PPP_LOG_INFO, "auth retry user=%s method=%s error=%u (%u of %u)",
				      shown(a->user, ut, sizeof ut), method_name(a->method), err, a->retries,
				      a->conf->max_retries);
				return;
			}
		}
	}
	if (v.accept)
		logf_(a, PPP_LOG_AUTH_OK, "auth ok user=%s method=%s", shown(a->user, ut, sizeof ut),
		      method_name(a->method));
	else
		logf_(a, PPP_LOG_AUTH_FAIL, "auth failed user=%s method=%s result=%s error=%u",
		      shown(a->user, ut, sizeof ut), method_name(a->method),
		      tok_name(ppp_cred_names, cred), err);
	(void)now;
	finish(a, v.accept, err);
}

/* The user's password from the owner into pw (PPP_AUTH_PASSWORD_MAX + 1 bytes, zeroed
 * first): its length, or -1 with *why saying why there is none. */
static int get_password(struct ppp_auth *a, char *pw, enum ppp_cred *why)
{
	memset(pw, 0, PPP_AUTH_PASSWORD_MAX + 1);
	int len = a->cbs->password ? a->cbs->password(a->cbs->ctx, a->user, pw,
	                                               PPP_AUTH_PASSWORD_MAX + 1) : -2;
	if (len == -1) {
		*why = PPP_CRED_NO_USER;
		return -1;
	}
	if (len < 0 || len > PPP_AUTH_PASSWORD_MAX || pw[len] != 0) {
		*why = PPP_CRED_ERROR;
		return -1;
	}
	return len;
}

/* PAP: both passwords zero-padded to the longest PAP carries and compared whole, their
 * lengths without a branch: neither the length nor the first difference shows in the time. */
static enum ppp_cred check_pap(struct ppp_auth *a, const uint8_t *given, size_t n)
{
	char pw[PPP_AUTH_PASSWORD_MAX + 1];
	uint8_t got[PPP_AUTH_PASSWORD_MAX + 1];
	enum ppp_cred c = PPP_CRED_ERROR;
	int len = get_password(a, pw, &c);
	if (len >= 0) {
		memset(got, 0, sizeof got);
		if (n) memcpy(got, given, n < sizeof got ? n : sizeof got);
		c = secret_equal_padded((const uint8_t *)pw, (size_t)len, got, n, sizeof got)
		    ? PPP_CRED_OK : PPP_CRED_BAD;
		OPENSSL_cleanse(got, sizeof got);
	}
	OPENSSL_cleanse(pw, sizeof pw);
	return c;
}

static enum ppp_cred check_chap_md5(struct ppp_auth *a, const uint8_t *value, size_t n)
{
	if (n != 16) return PPP_CRED_ERROR;
	char pw[PPP_AUTH_PASSWORD_MAX + 1];
	enum ppp_cred c = PPP_CRED_ERROR;
	int len = get_password(a, pw, &c);
	if (len >= 0) {
		uint8_t want[16];
		chap_md5_response(a->id, (const uint8_t *)pw, (size_t)len, a->challenge, 16, want);
		c = secret_equal(want, value, 16) ? PPP_CRED_OK : PPP_CRED_BAD;
		OPENSSL_cleanse(want, sizeof want);
	}
	OPENSSL_cleanse(pw, sizeof pw);
	return c;
}

static enum ppp_cred check_mschapv2(struct ppp_auth *a, const struct ppp_chap *c)
{
	forget_success(a);
	if (c->value_len != 49) return PPP_CRED_ERROR;
	memcpy(a->peer_challenge, c->value, 16);
	memcpy(a->nt_response, c->value + 24, 24);
	char pw[PPP_AUTH_PASSWORD_MAX + 1];
	enum ppp_cred r = PPP_CRED_ERROR;
	int len = get_password(a, pw, &r);
	if (len >= 0) {
		/* the password's MD4 once, for the NT-Response, the authenticator response and
		 * the MPPE keys (RFC 2759 section 8: NtChallengeResponse is ChallengeResponse
		 * over ChallengeHash with that hash) */
		uint8_t want[24], h[16], ch[8];
		const char *u = ppp_auth_strip_domain(a->user);
		mschap2_challenge_hash(a->peer_challenge, a->challenge, u, strlen(u), ch);
		if (mschap_nt_password_hash(pw, (size_t)len, h) != 0 ||
		    mschap_challenge_response(ch, h, want) != 0)
			r = PPP_CRED_ERROR;
		else if (!secret_equal(want, a->nt_response, 24))
			r = PPP_CRED_BAD;
		else
			r = prepare_success_hash(a, h) ? PPP_CRED_OK : PPP_CRED_ERROR;
		OPENSSL_cleanse(want, sizeof want);
		OPENSSL_cleanse(h, sizeof h);
	}
	OPENSSL_cleanse(pw, sizeof pw);
	return r;
}

/* MS-CHAPv2 Change-Password (RFC 2759 section 7): the new password arrives encrypted
 * with the old one's hash; the old hash encrypted with the new proves the peer knows
 * both, and the NT-Response is computed with the new password against our C= challenge.
 * A refusal is answered as RRAS answers it: 691 when the peer did not prove the old
 * password (or sent a packet that proves nothing), 709 ERROR_CHANGING_PASSWORD when it
 * did and the new password is what is refused (longer than the server keeps, or the
 * store did not take it). */
static void change_password(struct ppp_auth *a, const struct ppp_chap *c, uint64_t now)
{
	a->change_wait = false;
	a->reply_id = a->id;
	forget_success(a);
	/* the new password decrypts to at most 256 UTF-16 characters: 1024 UTF-8 bytes */
	char oldpw[PPP_AUTH_PASSWORD_MAX + 1], newpw[1025];
	uint8_t old_hash[16], new_hash[16], want[24], enc_hash[16];
	const char *why = NULL;
	unsigned err = PPP_WINERR_AUTH_FAILURE; /* until the old password is proved */
	enum ppp_cred oc = PPP_CRED_ERROR;
	int n = get_password(a, oldpw, &oc);
	memset(newpw, 0, sizeof newpw);
	if (!c->enc_password || !c->enc_hash || !c->peer_challenge || !c->nt_response)
		why = "malformed Change-Password packet";
	else if (n < 0 || mschap_nt_password_hash(oldpw, (size_t)n, old_hash) != 0)
		why = "the old password is not known";
	else if (mschap2_new_password_decrypt(c->enc_password, old_hash, newpw, sizeof newpw) < 0)
		why = "the new password does not decrypt with the old password's hash";
	else if (mschap_nt_password_hash(newpw, strlen(newpw), new_hash) != 0 ||
	         mschap2_old_hash_encrypted(new_hash, old_hash, enc_hash) != 0 ||
	         !secret_equal(enc_hash, c->enc_hash, 16))
		why = "the encrypted hash does not match: the peer does not know the old password";
	else {
		memcpy(a->peer_challenge, c->peer_challenge, 16);
		memcpy(a->nt_response, c->nt_response, 24);
		const char *u = ppp_auth_strip_domain(a->user);
		if (mschap2_nt_response(a->challenge, a->peer_challenge, u, strlen(u), newpw,
		                        strlen(newpw), want) != 0 ||
		    !secret_equal(want, a->nt_response, 24))
			why = "the NT-Response was not computed with the new password";
		else {
			/* the peer knows the old password: what follows refuses the new one */
			err = PPP_WINERR_CHANGING_PASSWORD;
			if (strlen(newpw) > PPP_AUTH_PASSWORD_MAX)
				why = "the new password is longer than the server keeps ("
				      STR(PPP_AUTH_PASSWORD_MAX) " bytes)";
			else if (!prepare_success(a, newpw, strlen(newpw)))
				why = "the new password cannot be hashed";
			else if (a->cbs->change_password(a->cbs->ctx, a->user, newpw) != 0)
				why = "the new password was not accepted";
		}
	}
	OPENSSL_cleanse(oldpw, sizeof oldpw);
	OPENSSL_cleanse(newpw, sizeof newpw);
	OPENSSL_cleanse(old_hash, sizeof old_hash);
	OPENSSL_cleanse(new_hash, sizeof new_hash);
	OPENSSL_cleanse(want, sizeof want);
	char ut[USER_TEXT_SIZE];
	if (why) {
		forget_success(a);
		logf_(a, PPP_LOG_AUTH_FAIL, "password change refused user=%s error=%u: %s",
		      shown(a->user, ut, sizeof ut), err, why);
		a->reply_code = CHAP_FAILURE;
		ppp_auth_mschapv2_failure(err, false, a->challenge,
		                          err == PPP_WINERR_CHANGING_PASSWORD
		                          ? "the new password was refused" : "password change refused",
		                          a->reply_msg, sizeof a->reply_msg);
		resend_reply(a);
		finish(a, false, err);
		return;
	}
	a->changed = true;
	logf_(a, PPP_LOG_INFO, "password changed user=%s", shown(a->user, ut, sizeof ut));
	decide(a, PPP_CRED_OK, now); /* admission again, with the new password in place */
}

static void authenticator_input(struct ppp_auth *a, const struct ppp_msg *m, uint64_t now)
{
	if (a->method == PPP_AUTH_PAP) {
		if (m->kind != PPP_KIND_PAP || m->pap.code != PAP_AUTH_REQ) return;
		if (a->state == PPP_AUTH_SUCCESS || a->state == PPP_AUTH_FAILED) {
			if (m->pap.id == a->reply_id) resend_reply(a); /* our answer was lost */
			return;
		}
		if (a->state != PPP_AUTH_WAIT) return;
		a->id = m->pap.id;
		enum ppp_cred cred = PPP_CRED_ERROR;
		if (take_user(a, m->pap.peer_id, m->pap.peer_id_len)) {
			cred = check_pap(a, m->pap.password, m->pap.password_len);
			/* an empty password is no password either */
			a->given = m->pap.password_len ? m->pap.password : NULL;
			a->given_len = (uint16_t)m->pap.password_len;
		}
		decide(a, cred, now);
		a->given = NULL;
		a->given_len = 0;
		return;
	}
	if (m->kind == PPP_KIND_CHAP && m->chap.code == CHAP_CHANGE_PASSWORD &&
	    a->method == PPP_AUTH_MSCHAPV2) {
		if (a->state == PPP_AUTH_SUCCESS || a->state == PPP_AUTH_FAILED) {
			if (m->chap.id == a->reply_id) resend_reply(a);
			return;
		}
		if (!a->change_wait || a->state != PPP_AUTH_WAIT) return;
		if (m->chap.id != a->id) {
			if (m->chap.id == a->reply_id) resend_reply(a); /* our Failure was lost */
			return;
		}
		change_password(a, &m->chap, now);
		return;
	}
	if (m->kind != PPP_KIND_CHAP || m->chap.code != CHAP_RESPONSE) return;
	if (a->state == PPP_AUTH_SUCCESS || a->state == PPP_AUTH_FAILED) {
		if (m->chap.id == a->reply_id) resend_reply(a);
		return;
	}
	if (a->state != PPP_AUTH_WAIT) return;
	if (a->retry_wait) {
		if (m->chap.id == a->reply_id) {
			resend_reply(a); /* the old Response again: our Failure was lost */
			return;
		}
		a->id = m->chap.id;
		a->retry_wait = false;
	} else if (m->chap.id != a->id) {
		logf_(a, PPP_LOG_TRACE, "CHAP Response id %u does not match challenge %u, discarded",
		      m->chap.id, a->id);
		return;
	}
	enum ppp_cred cred = PPP_CRED_ERROR;
	bool named = take_user(a, m->chap.name, m->chap.name_len);
	if (!named)
		cred = PPP_CRED_ERROR;
	else if (a->method == PPP_AUTH_CHAP_MD5)
		cred = check_chap_md5(a, m->chap.value, m->chap.value_len);
	else
		cred = check_mschapv2(a, &m->chap);
	/* CHAP-MD5: the response; MS-CHAPv2: its value (peer challenge and NT-Response,
	 * also kept in peer_challenge and nt_response by the check) */
	if (named && m->chap.value_len == (a->method == PPP_AUTH_CHAP_MD5 ? 16u : 49u)) {
		a->given = m->chap.value;
		a->given_len = (uint16_t)m->chap.value_len;
	}
	decide(a, cred, now);
	a->given = NULL;
	a->given_len = 0;
}

/* ---- peer ------------------------------------------------------------------------ */
static void peer_send_pap(struct ppp_auth *a, uint64_t now)
{
	a->transmits++;
	a->deadline = now + a->conf->restart_ms;
	send_pap(a, PAP_AUTH_REQ, a->id, a->conf->name, a->conf->password ? a->conf->password : "",
	         NULL);
}

static void peer_respond(struct ppp_auth *a, const char *password)
{
	const char *user = a->conf->name ? a->conf->name : "";
	const char *pw = password ? password : "";
	if (a->method == PPP_AUTH_CHAP_MD5) {
		uint8_t r[16];
		chap_md5_response(a->id, (const uint8_t *)pw, strlen(pw), a->challenge, 16, r);
		send_chap(a, CHAP_RESPONSE, a->id, r, 16, user, NULL);
		return;
	}
	uint8_t v[49];
	memset(v, 0, sizeof v);
	a->cbs->random(a->cbs->ctx, a->peer_challenge, 16);
	memcpy(v, a->peer_challenge, 16);
	const char *u = ppp_auth_strip_domain(user);
	if (mschap2_nt_response(a->challenge, a->peer_challenge, u, strlen(u), pw, strlen(pw),
	                        a->nt_response) != 0) {
		logf_(a, PPP_LOG_AUTH_FAIL, "MS-CHAPv2 response could not be computed");
		finish(a, false, PPP_WINERR_AUTH_FAILURE);
		return;
	}
	memcpy(v + 24, a->nt_response, 24);
	send_chap(a, CHAP_RESPONSE, a->id, v, 49, user, NULL);
}

/* Answer E=648 with Change-Password: the new password under the old hash, the old hash
 * under the new, and a response computed with the new password. */
static int peer_change_password(struct ppp_auth *a)
{
	const char *oldpw = a->conf->password ? a->conf->password : "";
	const char *newpw = a->conf->new_password;
	const char *user = a->conf->name ? a->conf->name : "";
	const char *u = ppp_auth_strip_domain(user);
	uint8_t old_hash[16], new_hash[16], fill[512], enc_pw[516], enc_hash[16];
	a->cbs->random(a->cbs->ctx, fill, sizeof fill);
	a->cbs->random(a->cbs->ctx, a->peer_challenge, 16);
	int rc = mschap_nt_password_hash(oldpw, strlen(oldpw), old_hash) ||
	         mschap_nt_password_hash(newpw, strlen(newpw), new_hash) ||
	         mschap2_new_password_encrypt(newpw, strlen(newpw), old_hash, fill, enc_pw) ||
	         mschap2_old_hash_encrypted(new_hash, old_hash, enc_hash) ||
	         mschap2_nt_response(a->challenge, a->peer_challenge, u, strlen(u), newpw,
	                             strlen(newpw), a->nt_response);
	OPENSSL_cleanse(old_hash, sizeof old_hash);
	OPENSSL_cleanse(new_hash, sizeof new_hash);
	if (rc) return -1;
	struct ppp_msg m;
	memset(&m, 0, sizeof m);
	m.proto = PPP_PROTO_CHAP;
	m.kind = PPP_KIND_CHAP;
	m.chap.code = CHAP_CHANGE_PASSWORD;
	m.chap.id = a->id;
	m.chap.variant = PPP_CHAP_MSCHAPV2;
	m.chap.enc_password = enc_pw;
	m.chap.enc_hash = enc_hash;
	m.chap.peer_challenge = a->peer_challenge;
	m.chap.nt_response = a->nt_response;
	a->cbs->send(a->cbs->ctx, &m);
	a->changed = true;
	a->change_wait = true;
	return 0;
}

static void peer_input(struct ppp_auth *a, const struct ppp_msg *m, uint64_t now)
{
	char ut[USER_TEXT_SIZE];
	if (a->state == PPP_AUTH_SUCCESS || a->state == PPP_AUTH_FAILED) return;
	if (a->method == PPP_AUTH_PAP) {
		if (m->kind != PPP_KIND_PAP || m->pap.id != a->id) return;
		if (m->pap.code == PAP_AUTH_ACK) {
			logf_(a, PPP_LOG_AUTH_OK, "auth ok user=%s method=PAP",
			      shown(a->conf->name, ut, sizeof ut));
			finish(a, true, 0);
		} else if (m->pap.code == PAP_AUTH_NAK) {
			logf_(a, PPP_LOG_AUTH_FAIL, "auth failed user=%s method=PAP",
			      shown(a->conf->name, ut, sizeof ut));
			finish(a, false, PPP_WINERR_AUTH_FAILURE);
		}
		return;
	}
	if (m->kind != PPP_KIND_CHAP) return;
	const struct ppp_chap *c = &m->chap;
	switch (c->code) {
	case CHAP_CHALLENGE:
		if (c->value_len != 16) {
			logf_(a, PPP_LOG_INFO, "CHAP Challenge of %zu bytes, expected 16, ignored",
			      c->value_len);
			return;
		}
		a->id = c->id;
		memcpy(a->challenge, c->value, 16);
		a->state = PPP_AUTH_WAIT_RESULT;
		peer_respond(a, a->retries ? a->conf->retry_password : a->conf->password);
		return;
	case CHAP_SUCCESS:
		if (c->id != a->id || a->state != PPP_AUTH_WAIT_RESULT) return;
		if (a->method == PPP_AUTH_MSCHAPV2) {
			const char *pw = a->changed ? a->conf->new_password
			                 : a->retries ? a->conf->retry_password : a->conf->password;
			const char *u = ppp_auth_strip_domain(a->conf->name ? a->conf->name : "");
			pw = pw ? pw : "";
			int ok = mschap2_check_authenticator_response(
				pw, strlen(pw), a->nt_response, a->peer_challenge, a->challenge, u, strlen(u),
				(const char *)c->msg, c->msg_len);
			if (ok != 1) {
				logf_(a, PPP_LOG_AUTH_FAIL,
				      "server's authenticator response does not prove it knows the password");
				finish(a, false, PPP_WINERR_AUTH_FAILURE);
				return;
			}
			keep_hash_hash(a, pw, strlen(pw));
		}
		logf_(a, PPP_LOG_AUTH_OK, "auth ok user=%s method=%s",
		      shown(a->conf->name, ut, sizeof ut), method_name(a->method));
		finish(a, true, 0);
		return;
	case CHAP_FAILURE: {
		if (c->id != a->id || a->state != PPP_AUTH_WAIT_RESULT) return;
		unsigned err = PPP_WINERR_AUTH_FAILURE;
		if (a->method == PPP_AUTH_MSCHAPV2 && c->has_failure) {
			const struct mschap_failure *fl = &c->failure;
			if (fl->has_error) err = fl->error;
			if (err == PPP_WINERR_PASSWD_EXPIRED && a->conf->new_password && !a->changed &&
			    fl->has_challenge && fl->challenge_len == 16) {
				a->id = (uint8_t)(c->id + 1);
				memcpy(a->challenge, fl->challenge, 16);
				if (peer_change_password(a) == 0) {
					logf_(a, PPP_LOG_INFO, "password expired: changing it user=%s",
					      shown(a->conf->name, ut, sizeof ut));
					return;
				}
			}
			if (fl->has_retry && fl->retry == 1 && fl->has_challenge &&
			    fl->challenge_len == 16 && a->conf->retry_password && a->retries == 0) {
				a->retries++;
				a->id = (uint8_t)(c->id + 1);
				memcpy(a->challenge, fl->challenge, 16);
				logf_(a, PPP_LOG_INFO, "auth retry user=%s error=%u",
				      shown(a->conf->name, ut, sizeof ut), err);
				peer_respond(a, a->conf->retry_password);
				return;
			}
		}
		logf_(a, PPP_LOG_AUTH_FAIL, "auth failed user=%s method=%s error=%u",
		      shown(a->conf->name, ut, sizeof ut), method_name(a->method), err);
		finish(a, false, err);
		return;
	}
	default:
		return;
	}
	(void)now;
}

/* ---- entry points ---------------------------------------------------------------- */
uint64_t ppp_auth_start(struct ppp_auth *a, enum ppp_auth_method method, uint64_t now)
{
	a->method = (uint8_t)method;
	a->state = PPP_AUTH_WAIT;
	a->transmits = 0;
	a->retries = 0;
	a->retry_wait = false;
	a->change_wait = false;
	a->changed = false;
	a->win_error = 0;
	a->deadline = PPP_NEVER;
	a->give_up_at = PPP_NEVER;
	if (a->role == PPP_AUTH_AUTHENTICATOR) {
		if (a->conf->timeout_ms) a->give_up_at = now + a->conf->timeout_ms;
		if (method != PPP_AUTH_PAP) {
			a->id++;
			new_challenge(a);
			send_challenge(a, now);
		}
	} else if (method == PPP_AUTH_PAP) {
		a->id++;
		peer_send_pap(a, now);
	}
	return ppp_auth_deadline(a);
}

uint64_t ppp_auth_input(struct ppp_auth *a, const struct ppp_msg *m, uint64_t now)
{
	if (a->state == PPP_AUTH_IDLE) return ppp_auth_deadline(a);
	if (a->role == PPP_AUTH_AUTHENTICATOR)
		authenticator_input(a, m, now);
	else
		peer_input(a, m, now);
	return ppp_auth_deadline(a);
}

uint64_t ppp_auth_tick(struct ppp_auth *a, uint64_t now)
{
	if (a->give_up_at != PPP_NEVER && now >= a->give_up_at) {
		logf_(a, PPP_LOG_AUTH_FAIL, "auth timed out method=%s", method_name(a->method));
		finish(a, false, PPP_WINERR_PPP_TIMEOUT);
		return PPP_NEVER;
	}
	if (a->deadline != PPP_NEVER && now >= a->deadline) {
		a->deadline = PPP_NEVER;
		bool authenticator = a->role == PPP_AUTH_AUTHENTICATOR;
		if (a->state == PPP_AUTH_WAIT && a->transmits < a->conf->max_transmits) {
			if (authenticator)
				send_challenge(a, now);
			else if (a->method == PPP_AUTH_PAP)
				peer_send_pap(a, now);
		} else if (a->state == PPP_AUTH_WAIT) {
			logf_(a, PPP_LOG_AUTH_FAIL, "auth: no answer after %u %s", a->transmits,
			      authenticator ? "challenges" : "requests");
			finish(a, false, PPP_WINERR_PPP_TIMEOUT);
		}
	}
	return ppp_auth_deadline(a);
}
