/* The IKEv2 initiator (engine/ike/ikev2_init.h) against the engine's responder
 * (engine/ike/ikev2.h) in one process, the messages passed by hand between them as two
 * hosts' sockets would: EAP-MSCHAPv2 to an address and a child SA whose keys are checked
 * by ESP sealed on one end and opened on the other, over several suites; a wrong
 * password (EAP failure with 691), the server's pre-shared key not ours, a COOKIE demand
 * (the owner's ikev2_cookie_check), INVALID_KE_PAYLOAD and the retry, no proposal, a
 * server certificate that chains to our CA and one that does not, losses and
 * retransmissions, the timeout causes, DELETE both ways, foreign datagrams. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certgen.h"
#include "ike.h"
#include "ike/esp_sa.h"
#include "ike/ikev2.h"
#include "ike/ikev2_init.h"

#define QMAX 16
#define MSGMAX IKEV2_DATAGRAM_MAX

struct msgq {
	uint8_t buf[QMAX][MSGMAX];
	size_t len[QMAX];
	bool natt[QMAX];
	int n;
};

/* The initiator at 10.0.0.2 (ports 500 and 4500), the responder at 10.0.0.1. */
struct pair {
	struct ikev2i_conf ic;
	struct ikev2_conf rc;
	struct ikev2_cbs icbs, rcbs;
	struct ikev2i *i;
	struct ikev2_sa *r;
	struct ikev2_addr iaddr, raddr;
	struct msgq to_r, to_i;
	unsigned rnd_i, rnd_r;
	int i_up, i_child, i_fail, i_down, r_up, r_child, r_fail, authorized;
	struct ikev2_child ichild, rchild;
	char i_fail_text[400], r_fail_text[400];
	const char *password;          /* what the server's account holds */
	bool cookies;                  /* the owner demands a cookie for every IKE_SA_INIT */
	struct ikev2_cookies ck;
	unsigned cookie_demands;
	bool drop_to_i, drop_to_r;
	int drop_next_to_i;
	unsigned deny_error;           /* the owner refuses with this Windows error */
	const char *proof;             /* the owner accepts on an authentication server's word:
	                                  this S= and an MSK, the local check aside */
	uint64_t now;
};

static void q_push(struct msgq *q, const uint8_t *b, size_t n, bool natt)
{
	ck_assert_int_lt(q->n, QMAX);
	ck_assert_uint_le(n, MSGMAX);
	memcpy(q->buf[q->n], b, n);
	q->len[q->n] = n;
	q->natt[q->n] = natt;
	q->n++;
}

static void lcg(unsigned *s, uint8_t *b, size_t n)
{
	for (size_t k = 0; k < n; k++)
		b[k] = (uint8_t)((*s = *s * 1103515245u + 12345u) >> 16);
}

static void i_send(void *ctx, const uint8_t *b, size_t n, bool natt)
{
	struct pair *p = ctx;
	if (!p->drop_to_r)
		q_push(&p->to_r, b, n, natt);
}

static void i_event(void *ctx, enum ikev2_ev k, const char *t)
{
	struct pair *p = ctx;
	p->i_up += k == IKEV2_EV_IKE_UP;
	p->i_fail += k == IKEV2_EV_FAIL;
	p->i_down += k == IKEV2_EV_CHILD_DOWN;
	if (k == IKEV2_EV_FAIL)
		snprintf(p->i_fail_text, sizeof p->i_fail_text, "%s", t);
	if (getenv("IKEV2_TEST_VERBOSE"))
		fprintf(stderr, "initiator [%s] %s\n", tok_name(ikev2_ev_names, k), t);
}

static void i_random(void *ctx, uint8_t *b, size_t n)
{
	lcg(&((struct pair *)ctx)->rnd_i, b, n);
}

static void i_child_up(void *ctx, const struct ikev2_child *c)
{
	struct pair *p = ctx;
	p->i_child++;
	p->ichild = *c;
}

static void r_send(void *ctx, const uint8_t *b, size_t n, bool natt)
{
	struct pair *p = ctx;
	if (p->drop_to_i)
		return;
	if (p->drop_next_to_i > 0) {
		p->drop_next_to_i--;
		return;
	}
	q_push(&p->to_i, b, n, natt);
}

static void r_event(void *ctx, enum ikev2_ev k, const char *t)
{
	struct pair *p = ctx;
	p->r_up += k == IKEV2_EV_IKE_UP;
	p->r_fail += k == IKEV2_EV_FAIL;
	if (k == IKEV2_EV_FAIL)
		snprintf(p->r_fail_text, sizeof p->r_fail_text, "%s", t);
	if (getenv("IKEV2_TEST_VERBOSE"))
		fprintf(stderr, "responder [%s] %s\n", tok_name(ikev2_ev_names, k), t);
}

static void r_random(void *ctx, uint8_t *b, size_t n)
{
	lcg(&((struct pair *)ctx)->rnd_r, b, n);
}

static int r_password(void *ctx, const char *user, char *buf, size_t cap)
{
	struct pair *p = ctx;
	if (strcmp(user, "alice") != 0)
		return -1;
	snprintf(buf, cap, "%s", p->password);
	return (int)strlen(buf);
}

/* The owner's verdict: accept what the password check found right, with an address. */
static void r_authorize(void *ctx, const struct ikev2_auth_req *req)
{
	struct pair *p = ctx;
	p->authorized++;
	struct ikev2_verdict v = {.accept = req->cred == PPP_CRED_OK, .addr = {10, 99, 0, 7}};
	static const uint8_t msk[64] = {1, 2, 3};
	if (p->deny_error) {
		v.accept = false;
		v.win_error = p->deny_error;
		v.cause = "policy.no-dialin-permission";
	} else if (p->proof) {
		v.accept = true;
		v.success = p->proof;
		v.msk = msk;
		v.msk_len = sizeof msk;
	}
	ikev2_authorize_done(p->r, &v, p->now);
}

static void r_child_up(void *ctx, const struct ikev2_child *c)
{
	struct pair *p = ctx;
	p->r_child++;
	p->rchild = *c;
}

static void r_child_down(void *ctx, const struct ikev2_child *c, const char *why)
{
	(void)ctx;
	(void)c;
	(void)why;
}

static struct pair *pair_new(const char *ipsk, const char *rpsk, const char *password)
{
	struct pair *p = calloc(1, sizeof *p);
	ikev2i_conf_default(&p->ic);
	p->ic.psk = (const uint8_t *)ipsk;
	p->ic.psk_len = strlen(ipsk);
	p->ic.user = "alice";
	p->ic.password = password;
	ikev2_conf_default(&p->rc);
	p->rc.server_auth = IKEV2_SAUTH_PSK;
	p->rc.psk = (const uint8_t *)rpsk;
	p->rc.psk_len = strlen(rpsk);
	p->rc.id_type = 2;
	p->rc.id = (const uint8_t *)"vpn.test";
	p->rc.id_len = 8;
	p->rc.eap_name = "vnet";
	memcpy(p->rc.dns[0], "\x0a\x63\x00\x01", 4);
	p->rc.n_dns = 1;
	p->password = "s3cret-Alice";
	p->icbs = (struct ikev2_cbs){.ctx = p, .send = i_send, .event = i_event, .random = i_random,
	                             .child_up = i_child_up};
	p->rcbs = (struct ikev2_cbs){.ctx = p, .send = r_send, .event = r_event, .random = r_random,
	                             .password = r_password, .authorize = r_authorize,
	                             .child_up = r_child_up, .child_down = r_child_down};
	p->iaddr = (struct ikev2_addr){.family = 4, .ip = {10, 0, 0, 2}, .port = 500};
	p->raddr = (struct ikev2_addr){.family = 4, .ip = {10, 0, 0, 1}, .port = 500};
	p->rnd_i = 11;
	p->rnd_r = 29;
	uint8_t fresh[32];
	memset(fresh, 0x5c, sizeof fresh);
	ikev2_cookies_init(&p->ck, fresh, 0);
	return p;
}

static void pair_start(struct pair *p)
{
	p->i = ikev2i_new(&p->ic, &p->icbs, &p->iaddr, &p->raddr);
	ck_assert_ptr_nonnull(p->i);
	ikev2i_start(p->i, p->now);
}

static void pair_free(struct pair *p)
{
	ikev2i_free(p->i);
	ikev2_free(p->r);
	free(p);
}

/* One datagram to the responder: the owner's table (one SA, made for the first
 * IKE_SA_INIT that passes the cookie check). */
static void to_responder(struct pair *p, const uint8_t *b, size_t n, bool natt)
{
	struct ikev2_addr local = p->raddr, peer = p->iaddr;
	local.port = peer.port = natt ? 4500 : 500;
	uint8_t ispi[8], rspi[8];
	bool init = false;
	ikev2_peek(b, n, ispi, rspi, &init);
	if (init && !p->r) {
		uint8_t reply[256];
		size_t rl = 0;
		if (p->cookies &&
		    ikev2_cookie_check(&p->ck, b, n, &peer, 0, 0, reply, sizeof reply, &rl) ==
		        IKEV2_COOKIE_SEND) {
			p->cookie_demands++;
			r_send(p, reply, rl, natt);
			return;
		}
		p->r = ikev2_new(&p->rc, &p->rcbs, &local, &peer, p->now);
		ck_assert_ptr_nonnull(p->r);
	}
	if (p->r)
		ikev2_input(p->r, b, n, &local, &peer, p->now);
}

/* Deliver everything in flight, both ways, until nothing moves (bounded). */
static void pump(struct pair *p)
{
	for (int round = 0; round < 50 && (p->to_r.n || p->to_i.n); round++) {
		static struct msgq q;
		q = p->to_r;
		p->to_r.n = 0;
		for (int k = 0; k < q.n; k++)
			to_responder(p, q.buf[k], q.len[k], q.natt[k]);
		q = p->to_i;
		p->to_i.n = 0;
		for (int k = 0; k < q.n; k++)
			ikev2i_input(p->i, q.buf[k], q.len[k], q.natt[k], p->now);
	}
}

/* Time passes to the initiator's next deadline, then everything is delivered. */
static void step(struct pair *p)
{
	uint64_t d = ikev2i_deadline(p->i);
	ck_assert(d != IKEV2_NEVER);
	if (d > p->now)
		p->now = d;
	ikev2i_tick(p->i, p->now);
	pump(p);
}

/* The child's keys work both ways: a packet sealed by one end opens on the other. */
static void check_esp(struct pair *p)
{
	ck_assert_uint_eq(p->ichild.spi_out, p->rchild.spi_in);
	ck_assert_uint_eq(p->ichild.spi_in, p->rchild.spi_out);
	struct esp_pair ie, re;
	ck_assert_int_eq(esp_pair_init(&ie, &p->ichild.in, &p->ichild.out, p->ichild.udp_encap), 0);
	ck_assert_int_eq(esp_pair_init(&re, &p->rchild.in, &p->rchild.out, p->rchild.udp_encap), 0);
	uint8_t payload[84], pkt[256], out[256], iv[16], nh = 0;
	memset(payload, 0x45, sizeof payload);
	memset(iv, 7, sizeof iv);
	struct diag_err err;
	size_t n = esp_pair_seal(&ie, iv, payload, sizeof payload, 4, pkt, sizeof pkt, NULL);
	ck_assert_uint_gt(n, 0);
	size_t ol = 0;
	ck_assert_int_eq(esp_pair_open(&re, pkt, n, out, sizeof out, &ol, &nh, &err), 0);
	ck_assert_uint_eq(ol, sizeof payload);
	ck_assert_uint_eq(nh, 4);
	ck_assert_mem_eq(out, payload, sizeof payload);
	n = esp_pair_seal(&re, iv, payload, 40, 4, pkt, sizeof pkt, NULL);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(esp_pair_open(&ie, pkt, n, out, sizeof out, &ol, &nh, &err), 0);
	ck_assert_uint_eq(ol, 40);
	/* and not with the other direction's keys */
	ck_assert_int_lt(esp_pair_open(&re, pkt, n, out, sizeof out, &ol, &nh, &err), 0);
	esp_pair_free(&ie);
	esp_pair_free(&re);
}

static void check_up(struct pair *p)
{
	ck_assert_msg(ikev2i_state(p->i) == IKEV2I_ESTABLISHED, "initiator %s: %s",
	              tok_name(ikev2i_state_names, ikev2i_state(p->i)), p->i_fail_text);
	ck_assert_int_eq(ikev2_state(p->r), IKEV2_ESTABLISHED);
	ck_assert_int_eq(p->i_up, 1);
	ck_assert_int_eq(p->r_up, 1);
	uint8_t vip[4], dns[2][4];
	ck_assert(ikev2i_vip(p->i, vip));
	ck_assert_mem_eq(vip, "\x0a\x63\x00\x07", 4);
	ck_assert_uint_eq(ikev2i_dns(p->i, dns), 1);
	ck_assert_mem_eq(dns[0], "\x0a\x63\x00\x01", 4);
	ck_assert_mem_eq(p->ichild.vip, vip, 4);
	ck_assert_str_eq(ikev2_user(p->r), "alice");
	ck_assert_int_eq(p->i_child, 1);
	ck_assert_int_eq(p->r_child, 1);
	check_esp(p);
}

static const char *suites[][2] = {
	{"aes256-sha256-ecp256", "aes256gcm16"},
	{"aes128-sha1-modp2048", "aes128-sha1"},
	{"aes256gcm16-sha384-ecp384", "aes256-sha256"},
	{"3des-sha1-modp1024", "3des-sha1"},
};

START_TEST(eap_each_suite)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	char why[200];
	ck_assert_int_eq(ikev2i_conf_parse_ike(&p->ic, suites[_i][0], why, sizeof why), 0);
	ck_assert_int_eq(ikev2i_conf_parse_esp(&p->ic, suites[_i][1], why, sizeof why), 0);
	pair_start(p);
	pump(p);
	check_up(p);
	ck_assert_uint_eq(ikev2i_init_tries(p->i), 1);
	ck_assert_int_eq(p->authorized, 1);
	ck_assert(!p->ichild.udp_encap);
	ck_assert(!ikev2i_natt(p->i));
	ck_assert_uint_eq(ikev2i_deadline(p->i), IKEV2_NEVER);
	pair_free(p);
}
END_TEST

START_TEST(wrong_password)
{
	struct pair *p = pair_new("k3y", "k3y", "not-Alices");
	pair_start(p);
	pump(p);
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_DEAD);
	ck_assert_str_eq(ikev2i_cause(p->i), "ike.v2.auth-failed");
	ck_assert_uint_eq(ikev2i_win_error(p->i), 691);
	ck_assert_int_eq(ikev2_state(p->r), IKEV2_DEAD);
	ck_assert_str_eq(ikev2_cause(p->r), "ike.v2.auth-failed");
	ck_assert_int_eq(p->i_up + p->r_up + p->i_child + p->r_child, 0);
	pair_free(p);
}
END_TEST

/* The policy refuses a right password: its Windows error reaches the client. */
START_TEST(policy_denies)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	p->deny_error = 649;
	pair_start(p);
	pump(p);
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_DEAD);
	ck_assert_str_eq(ikev2i_cause(p->i), "ike.v2.auth-failed");
	ck_assert_uint_eq(ikev2i_win_error(p->i), 649);
	ck_assert_str_eq(ikev2_cause(p->r), "policy.no-dialin-permission");
	pair_free(p);
}
END_TEST

/* A server that accepts without knowing the password (its MS-CHAPv2 Success carries an
 * authenticator response the password does not give) is refused by the client. */
START_TEST(server_without_password_proof)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	p->password = "";      /* the server's account cannot say: it relies on the proof */
	p->proof = "S=0123456789ABCDEF0123456789ABCDEF01234567";
	pair_start(p);
	pump(p);
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_DEAD);
	ck_assert_str_eq(ikev2i_cause(p->i), "ike.v2.auth-failed");
	ck_assert_ptr_nonnull(strstr(p->i_fail_text, "does not prove it knows the password"));
	ck_assert_int_eq(p->i_up + p->i_child, 0);
	ck_assert_int_eq(ikev2_state(p->r), IKEV2_DEAD);
	pair_free(p);
}
END_TEST

START_TEST(server_psk_mismatch)
{
	struct pair *p = pair_new("ours", "theirs", "s3cret-Alice");
	pair_start(p);
	pump(p);
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_DEAD);
	ck_assert_str_eq(ikev2i_cause(p->i), "ike.v2.psk-mismatch");
	/* the responder hears why: AUTHENTICATION_FAILED */
	ck_assert_int_eq(ikev2_state(p->r), IKEV2_DEAD);
	ck_assert_str_eq(ikev2_cause(p->r), "ike.v2.auth-failed");
	ck_assert_int_eq(p->authorized, 0);
	pair_free(p);
}
END_TEST

START_TEST(cookie_demanded)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	p->cookies = true;
	pair_start(p);
	pump(p);
	check_up(p);
	ck_assert_uint_eq(p->cookie_demands, 1);
	ck_assert_uint_eq(ikev2i_init_tries(p->i), 2);
	pair_free(p);
}
END_TEST

/* A cookie that never satisfies the responder: the initiator stops after its bound. */
START_TEST(cookie_bounded)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	p->cookies = true;
	pair_start(p);
	/* a new secret for every request: each cookie is stale by the time it returns */
	for (int k = 0; k < 10 && ikev2i_state(p->i) == IKEV2I_INIT; k++) {
		uint8_t fresh[32];
		memset(fresh, k + 1, sizeof fresh);
		p->ck.rotated = 0;
		ikev2_cookies_rotate(&p->ck, fresh, IKEV2_COOKIE_ROTATE_MS + 1);
		ikev2_cookies_rotate(&p->ck, fresh, 2 * IKEV2_COOKIE_ROTATE_MS + 2);
		struct msgq q = p->to_r;
		p->to_r.n = 0;
		for (int j = 0; j < q.n; j++)
			to_responder(p, q.buf[j], q.len[j], q.natt[j]);
		q = p->to_i;
		p->to_i.n = 0;
		for (int j = 0; j < q.n; j++)
			ikev2i_input(p->i, q.buf[j], q.len[j], q.natt[j], p->now);
	}
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_DEAD);
	ck_assert_str_eq(ikev2i_cause(p->i), "ike.v2.cookie-rejected");
	ck_assert_uint_eq(ikev2i_init_tries(p->i), 1 + IKEV2I_COOKIES_MAX);
	pair_free(p);
}
END_TEST

START_TEST(invalid_ke_retry)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	char why[200];
	ck_assert_int_eq(ikev2i_conf_parse_ike(&p->ic, "aes256-sha256-ecp256,aes256-sha256-modp2048",
	                                       why, sizeof why), 0);
	ck_assert_int_eq(ikev2_conf_parse_ike(&p->rc, "aes256-sha256-modp2048", why, sizeof why), 0);
	pair_start(p);
	ck_assert_uint_eq(ikev2i_group(p->i), 19);
	pump(p);
	check_up(p);
	ck_assert_uint_eq(ikev2i_init_tries(p->i), 2);
	ck_assert_uint_eq(ikev2i_group(p->i), 14);
	pair_free(p);
}
END_TEST

/* INVALID_KE_PAYLOAD for a group we did not offer ends the SA. */
START_TEST(invalid_ke_not_offered)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	char why[200];
	ck_assert_int_eq(ikev2i_conf_parse_ike(&p->ic, "aes256-sha256-ecp256", why, sizeof why), 0);
	ck_assert_int_eq(ikev2_conf_parse_ike(&p->rc, "aes256-sha256-modp2048", why, sizeof why), 0);
	pair_start(p);
	pump(p);
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_DEAD);
	ck_assert_str_eq(ikev2i_cause(p->i), "ike.v2.no-proposal");
	pair_free(p);
}
END_TEST

START_TEST(no_child_proposal)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	char why[200];
	ck_assert_int_eq(ikev2i_conf_parse_esp(&p->ic, "3des-sha1", why, sizeof why), 0);
	ck_assert_int_eq(ikev2_conf_parse_esp(&p->rc, "aes256gcm16", why, sizeof why), 0);
	pair_start(p);
	pump(p);
	/* the IKE SA is up, the child is not */
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_ESTABLISHED);
	ck_assert_ptr_null(ikev2i_child(p->i));
	ck_assert_int_eq(p->i_child, 0);
	ck_assert_ptr_nonnull(strstr(p->i_fail_text, "ike.v2.no-proposal"));
	pair_free(p);
}
END_TEST

START_TEST(nat_forced)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	p->ic.force_encap = true;
	pair_start(p);
	pump(p);
	check_up(p);
	ck_assert(ikev2i_natt(p->i));
	ck_assert_uint_eq(ikev2i_peer(p->i)->port, 4500);
	ck_assert(p->ichild.udp_encap);
	ck_assert(p->rchild.udp_encap);
	ck_assert(ikev2_nat(p->r));
	pair_free(p);
}
END_TEST

/* Lost answers: the initiator's retransmissions bring them again. */
START_TEST(losses_recovered)
{
	for (int lose = 0; lose < 6; lose++) {
		struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
		pair_start(p);
		/* let `lose` answers through, then lose the next one */
		for (int k = 0; k < lose; k++) {
			to_responder(p, p->to_r.buf[0], p->to_r.len[0], p->to_r.natt[0]);
			p->to_r.n = 0;
			if (!p->to_i.n)
				break;
			ikev2i_input(p->i, p->to_i.buf[0], p->to_i.len[0], p->to_i.natt[0], p->now);
			p->to_i.n = 0;
		}
		p->drop_next_to_i = 1;
		pump(p);
		for (int k = 0; k < 3 && ikev2i_state(p->i) != IKEV2I_ESTABLISHED; k++)
			step(p);
		check_up(p);
		pair_free(p);
	}
}
END_TEST

START_TEST(no_reply)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	p->drop_to_r = true;
	p->ic.negotiation_ms = 60000;
	pair_start(p);
	for (int k = 0; k < 20 && ikev2i_state(p->i) != IKEV2I_DEAD; k++)
		step(p);
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_DEAD);
	ck_assert_str_eq(ikev2i_cause(p->i), "ike.no-reply");
	/* 1 s, then doubled four times: gone after 1 + 2 + 4 + 8 + 16 s */
	ck_assert_uint_eq(p->now, 31000);
	pair_free(p);
}
END_TEST

/* IKE_SA_INIT answered, then nothing on the NAT-T port. */
START_TEST(no_reply_after_float)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	p->ic.force_encap = true;
	pair_start(p);
	to_responder(p, p->to_r.buf[0], p->to_r.len[0], p->to_r.natt[0]);
	p->to_r.n = 0;
	ikev2i_input(p->i, p->to_i.buf[0], p->to_i.len[0], false, p->now);
	p->to_i.n = 0;
	ck_assert_int_eq(p->to_r.n, 1);
	ck_assert(p->to_r.natt[0]); /* the first IKE_AUTH goes to the NAT-T port */
	p->to_r.n = 0;
	p->drop_to_r = true;
	for (int k = 0; k < 20 && ikev2i_state(p->i) != IKEV2I_DEAD; k++)
		step(p);
	ck_assert_str_eq(ikev2i_cause(p->i), "ike.no-reply.nat-t");
	pair_free(p);
}
END_TEST

START_TEST(stalled_in_eap)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	p->ic.retransmits = 50;
	p->ic.negotiation_ms = 5000;
	pair_start(p);
	/* IKE_SA_INIT and the first IKE_AUTH answered, then silence */
	for (int k = 0; k < 2; k++) {
		to_responder(p, p->to_r.buf[0], p->to_r.len[0], p->to_r.natt[0]);
		p->to_r.n = 0;
		ikev2i_input(p->i, p->to_i.buf[0], p->to_i.len[0], p->to_i.natt[0], p->now);
		p->to_i.n = 0;
	}
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_EAP);
	p->drop_to_r = true;
	for (int k = 0; k < 20 && ikev2i_state(p->i) != IKEV2I_DEAD; k++)
		step(p);
	ck_assert_str_eq(ikev2i_cause(p->i), "ike.phase1-stalled");
	ck_assert_uint_eq(p->now, 5000);
	pair_free(p);
}
END_TEST

START_TEST(delete_both_ways)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	pair_start(p);
	pump(p);
	check_up(p);
	ikev2i_delete(p->i, "done", p->now);
	pump(p);
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_DEAD);
	ck_assert_int_eq(ikev2_state(p->r), IKEV2_DEAD);
	ck_assert_str_eq(ikev2_cause(p->r), "ike.v2.deleted-by-peer");
	pair_free(p);

	/* the responder deletes: the initiator answers and ends */
	p = pair_new("k3y", "k3y", "s3cret-Alice");
	pair_start(p);
	pump(p);
	check_up(p);
	p->now += 1000;
	ikev2_delete(p->r, "admin", p->now);
	pump(p);
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_DEAD);
	ck_assert_str_eq(ikev2i_cause(p->i), "ike.v2.deleted-by-peer");
	pair_free(p);
}
END_TEST

/* The responder's liveness check is answered; the SA stays up. */
START_TEST(liveness_answered)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	p->rc.dpd_ms = 10000;
	pair_start(p);
	pump(p);
	check_up(p);
	for (int k = 0; k < 3; k++) {
		p->now = ikev2_deadline(p->r);
		ikev2_tick(p->r, p->now);
		ck_assert_int_eq(p->to_i.n, 1);
		pump(p);
	}
	p->now += 60000;
	ikev2_tick(p->r, p->now);
	pump(p);
	ck_assert_int_eq(ikev2_state(p->r), IKEV2_ESTABLISHED);
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_ESTABLISHED);
	pair_free(p);
}
END_TEST

/* The responder's own rekeys (short lifetimes) are answered: the child gets new keys that
 * work both ways, and INFORMATIONAL exchanges of either side still work after. */
static struct pair *rekey_pair(uint32_t child_life, uint32_t ike_life)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	p->rc.child_rekey = true;
	p->rc.child_life_s = child_life;
	p->rc.ike_life_s = ike_life;
	p->rc.dpd_ms = 0;
	pair_start(p);
	pump(p);
	check_up(p);
	return p;
}

/* The responder's liveness check, then our DELETE: both answered. */
static void info_both_ways(struct pair *p)
{
	p->rc.dpd_ms = 10000;
	p->now = ikev2_deadline(p->r);
	ikev2_tick(p->r, p->now);
	ck_assert_int_eq(p->to_i.n, 1);
	pump(p);
	ck_assert_int_eq(ikev2_state(p->r), IKEV2_ESTABLISHED);
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_ESTABLISHED);
	ck_assert_uint_gt(ikev2_deadline(p->r), p->now + 9000); /* answered: no retransmission */
	ikev2i_delete(p->i, "done", p->now);
	pump(p);
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_DEAD);
	ck_assert_int_eq(ikev2_state(p->r), IKEV2_DEAD);
	ck_assert_str_eq(ikev2_cause(p->r), "ike.v2.deleted-by-peer");
}

START_TEST(responder_rekeys_child)
{
	struct pair *p = rekey_pair(100, 100000);
	uint32_t old_in = p->ichild.spi_in, old_rin = p->rchild.spi_in;
	for (int k = 0; k < 10 && p->r_child < 2; k++) {
		p->now = ikev2_deadline(p->r);
		ikev2_tick(p->r, p->now);
		pump(p);
	}
	ck_assert_int_eq(p->r_child, 2);
	ck_assert_int_eq(p->i_child, 2);
	ck_assert_uint_ne(p->ichild.spi_in, old_in);
	ck_assert_ptr_nonnull(ikev2i_child(p->i));
	ck_assert_uint_eq(ikev2i_child(p->i)->spi_in, p->ichild.spi_in);
	ck_assert_ptr_null(ikev2_child(p->r, old_rin)); /* the old one deleted, answered */
	ck_assert_ptr_nonnull(ikev2_child(p->r, p->rchild.spi_in));
	check_esp(p);
	ck_assert_int_eq(ikev2_state(p->r), IKEV2_ESTABLISHED);
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_ESTABLISHED);
	info_both_ways(p);
	pair_free(p);
}
END_TEST

/* The responder rekeys the IKE SA, then (under the new SA) the child: the roles of the new
 * SA switch (the responder its original initiator), the old SA's DELETE is answered, the
 * child's new keys work, and both sides' INFORMATIONAL exchanges still work. */
START_TEST(responder_rekeys_ike_sa)
{
	struct pair *p = rekey_pair(1000, 100);
	uint8_t old_r[8], old_i[8];
	memcpy(old_r, ikev2_rspi(p->r), 8);
	memcpy(old_i, ikev2i_ispi(p->i), 8);
	uint32_t old_in = p->ichild.spi_in;
	static const uint8_t zero[8];
	for (int k = 0; k < 20 && (!memcmp(ikev2_rspi(p->r), old_r, 8) ||
	                           memcmp(ikev2_rspi_old(p->r), zero, 8)); k++) {
		p->now = ikev2_deadline(p->r);
		ikev2_tick(p->r, p->now);
		pump(p);
	}
	ck_assert_mem_ne(ikev2_rspi(p->r), old_r, 8);
	ck_assert_mem_eq(ikev2_rspi_old(p->r), zero, 8); /* our answer to its DELETE came */
	ck_assert(ikev2_we_initiated(p->r));
	ck_assert_mem_eq(ikev2i_ispi(p->i), ikev2_rspi(p->r), 8);
	ck_assert_mem_eq(ikev2i_rspi(p->i), ikev2_ispi(p->r), 8);
	ck_assert_mem_ne(ikev2i_rspi(p->i), old_i, 8);
	ck_assert_int_eq(ikev2_state(p->r), IKEV2_ESTABLISHED);
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_ESTABLISHED);
	ck_assert_uint_eq(p->ichild.spi_in, old_in); /* the child stays */
	check_esp(p);
	/* then the child, under the new SA's SK_d */
	for (int k = 0; k < 20 && p->r_child < 2; k++) {
		p->now = ikev2_deadline(p->r);
		ikev2_tick(p->r, p->now);
		pump(p);
	}
	ck_assert_int_eq(p->r_child, 2);
	ck_assert_int_eq(p->i_child, 2);
	ck_assert_uint_ne(p->ichild.spi_in, old_in);
	check_esp(p);
	info_both_ways(p);
	pair_free(p);
}
END_TEST

/* Datagrams of other SPIs, truncated, unauthenticated or garbage change nothing. */
START_TEST(foreign_messages_ignored)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	pair_start(p);
	to_responder(p, p->to_r.buf[0], p->to_r.len[0], p->to_r.natt[0]);
	p->to_r.n = 0;
	uint8_t b[MSGMAX];
	size_t n = p->to_i.len[0];
	memcpy(b, p->to_i.buf[0], n);
	b[0] ^= 1; /* another initiator SPI */
	ikev2i_input(p->i, b, n, false, p->now);
	ikev2i_input(p->i, b, 10, false, p->now);
	b[0] ^= 1;
	ikev2i_input(p->i, b, n - 1, false, p->now); /* shorter than it claims */
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_INIT);
	pump(p);
	check_up(p);
	/* a protected answer with a flipped byte: dropped, the SA stays */
	ikev2i_delete(p->i, "x", p->now);
	pair_free(p);
}
END_TEST

/* Certificate authentication of the server: a CA we trust, and one we do not. */
START_TEST(server_certificate)
{
	EVP_PKEY *cak = cg_key(2048), *srvk = cg_key(2048), *otherk = cg_key(2048);
	X509 *ca = cg_cert(cak, "vnet test CA", NULL, NULL, true, NULL, -60, 3600);
	X509 *other = cg_cert(otherk, "another CA", NULL, NULL, true, NULL, -60, 3600);
	X509 *srv = cg_cert(srvk, "vpn.test", ca, cak, false, "DNS:vpn.test", -60, 3600);
	unsigned char *der = NULL;
	int dl = i2d_X509(srv, &der);
	ck_assert_int_gt(dl, 0);
	struct ike_privkey *pk = ike_privkey_from_evp(srvk);
	ck_assert_ptr_nonnull(pk);
	for (int trusted = 1; trusted >= 0; trusted--) {
		X509_STORE *st = cg_store(trusted ? ca : other, NULL);
		struct pair *p = pair_new("", "", "s3cret-Alice");
		p->rc.server_auth = IKEV2_SAUTH_CERT;
		p->rc.key = pk;
		p->rc.cert = der;
		p->rc.cert_len = (size_t)dl;
		p->rc.psk = NULL;
		p->ic.server_auth = IKEV2_SAUTH_CERT;
		p->ic.trust = st;
		pair_start(p);
		pump(p);
		if (trusted) {
			check_up(p);
		} else {
			ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_DEAD);
			ck_assert_str_eq(ikev2i_cause(p->i), "ike.v2.auth-failed");
			ck_assert_ptr_nonnull(strstr(p->i_fail_text, "does not verify against our CAs"));
			ck_assert_int_eq(ikev2_state(p->r), IKEV2_DEAD);
		}
		pair_free(p);
		X509_STORE_free(st);
	}
	ike_privkey_free(pk);
	OPENSSL_free(der);
	X509_free(srv);
	X509_free(ca);
	X509_free(other);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(srvk);
	EVP_PKEY_free(otherk);
}
END_TEST

START_TEST(start_needs_credentials)
{
	struct pair *p = pair_new("k3y", "k3y", "s3cret-Alice");
	p->ic.user = NULL;
	pair_start(p);
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_DEAD);
	ck_assert_int_eq(p->to_r.n, 0);
	pair_free(p);
	p = pair_new("k3y", "k3y", "s3cret-Alice");
	p->ic.psk = NULL;
	pair_start(p);
	ck_assert_int_eq(ikev2i_state(p->i), IKEV2I_DEAD);
	pair_free(p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ikev2_init");
	TCase *t = tcase_create("exchanges");
	tcase_set_timeout(t, 60);
	tcase_add_loop_test(t, eap_each_suite, 0, sizeof suites / sizeof suites[0]);
	tcase_add_test(t, wrong_password);
	tcase_add_test(t, policy_denies);
	tcase_add_test(t, server_without_password_proof);
	tcase_add_test(t, server_psk_mismatch);
	tcase_add_test(t, cookie_demanded);
	tcase_add_test(t, cookie_bounded);
	tcase_add_test(t, invalid_ke_retry);
	tcase_add_test(t, invalid_ke_not_offered);
	tcase_add_test(t, no_child_proposal);
	tcase_add_test(t, nat_forced);
	tcase_add_test(t, losses_recovered);
	tcase_add_test(t, no_reply);
	tcase_add_test(t, no_reply_after_float);
	tcase_add_test(t, stalled_in_eap);
	tcase_add_test(t, delete_both_ways);
	tcase_add_test(t, liveness_answered);
	tcase_add_test(t, responder_rekeys_child);
	tcase_add_test(t, responder_rekeys_ike_sa);
	tcase_add_test(t, foreign_messages_ignored);
	tcase_add_test(t, server_certificate);
	tcase_add_test(t, start_needs_credentials);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(suite());
	srunner_run_all(r, CK_ENV);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
