/* The IKEv1 initiator (engine/ike/ikev1_init.h) against the engine's responder
 * (engine/ike/ikev1.h) in one process, the messages passed by hand between them as two
 * hosts' sockets would: Main Mode and Quick Mode over several suites with the children's
 * keys checked by ESP sealed on one end and opened on the other, a wrong pre-shared key,
 * proposal mismatches in both phases, NAT-T forced and not, losses and retransmissions,
 * the timeout causes, DELETE. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike/esp_sa.h"
#include "ike/ikev1.h"
#include "ike/ikev1_init.h"
#include "ike/ikev1_keys.h"

#define QMAX 16

struct msgq {
	uint8_t buf[QMAX][IKEV1_MSG_MAX];
	size_t len[QMAX];
	bool natt[QMAX];
	int n;
};

/* The two ends: the initiator at 10.0.0.2 (ports 500 and 4500), the responder at
 * 10.0.0.1 (the same ports), and what each sent and said. */
struct pair {
	struct ikev1i_conf ic;
	struct ikev1_conf rc;
	struct ikev1_cbs icbs, rcbs;
	struct ikev1i *i;
	struct ikev1_sa *r;
	struct ikev1_addr iaddr, raddr;
	struct msgq to_r, to_i;
	unsigned rnd_i, rnd_r;
	int i_up, i_child, i_fail, i_down, r_up, r_child, r_child_down;
	unsigned i_sent, i_sent_natt, r_sent_natt;
	struct ikev1_child ichild, rchild;
	char i_fail_text[400], r_fail_text[400];
	bool drop_to_i, drop_to_r;    /* the network loses everything that way */
	int drop_next_to_i;           /* ... or only the next N messages */
};

static void q_push(struct msgq *q, const uint8_t *b, size_t n, bool natt)
{
	ck_assert_int_lt(q->n, QMAX);
	ck_assert_uint_le(n, IKEV1_MSG_MAX);
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
	p->i_sent++;
	p->i_sent_natt += natt;
	if (!p->drop_to_r)
		q_push(&p->to_r, b, n, natt);
}

static void i_event(void *ctx, enum ikev1_ev k, const char *t)
{
	struct pair *p = ctx;
	p->i_up += k == IKEV1_EV_IKE_UP;
	p->i_fail += k == IKEV1_EV_FAIL;
	p->i_down += k == IKEV1_EV_CHILD_DOWN;
	if (k == IKEV1_EV_FAIL)
		snprintf(p->i_fail_text, sizeof p->i_fail_text, "%s", t);
	if (getenv("IKEV1_TEST_VERBOSE"))
		fprintf(stderr, "initiator [%s] %s\n", tok_name(ikev1_ev_names, k), t);
}

static void i_random(void *ctx, uint8_t *b, size_t n)
{
	lcg(&((struct pair *)ctx)->rnd_i, b, n);
}

static void i_child_up(void *ctx, const struct ikev1_child *c)
{
	struct pair *p = ctx;
	p->i_child++;
	p->ichild = *c;
}

static void r_send(void *ctx, const uint8_t *b, size_t n, bool natt)
{
	struct pair *p = ctx;
	p->r_sent_natt += natt;
	if (p->drop_to_i)
		return;
	if (p->drop_next_to_i > 0) {
		p->drop_next_to_i--;
		return;
	}
	q_push(&p->to_i, b, n, natt);
}

static void r_event(void *ctx, enum ikev1_ev k, const char *t)
{
	struct pair *p = ctx;
	p->r_up += k == IKEV1_EV_IKE_UP;
	if (k == IKEV1_EV_FAIL)
		snprintf(p->r_fail_text, sizeof p->r_fail_text, "%s", t);
	if (getenv("IKEV1_TEST_VERBOSE"))
		fprintf(stderr, "responder [%s] %s\n", tok_name(ikev1_ev_names, k), t);
}

static void r_random(void *ctx, uint8_t *b, size_t n)
{
	lcg(&((struct pair *)ctx)->rnd_r, b, n);
}

static void r_child_up(void *ctx, const struct ikev1_child *c)
{
	struct pair *p = ctx;
	p->r_child++;
	p->rchild = *c;
}

static void r_child_down(void *ctx, const struct ikev1_child *c, const char *why)
{
	(void)c;
	(void)why;
	((struct pair *)ctx)->r_child_down++;
}

static struct pair *pair_new(const char *ipsk, const char *rpsk)
{
	struct pair *p = calloc(1, sizeof *p);
	ikev1i_conf_default(&p->ic);
	p->ic.psk = (const uint8_t *)ipsk;
	p->ic.psk_len = strlen(ipsk);
	ikev1_conf_default(&p->rc);
	p->rc.psk = (const uint8_t *)rpsk;
	p->rc.psk_len = strlen(rpsk);
	p->icbs = (struct ikev1_cbs){p, i_send, i_event, i_random, i_child_up, NULL};
	p->rcbs = (struct ikev1_cbs){p, r_send, r_event, r_random, r_child_up, r_child_down};
	p->iaddr.family = p->raddr.family = 4;
	memcpy(p->iaddr.ip, "\x0a\x00\x00\x02", 4);
	memcpy(p->raddr.ip, "\x0a\x00\x00\x01", 4);
	p->iaddr.port = p->raddr.port = 500;
	p->rnd_i = 11;
	p->rnd_r = 29;
	return p;
}

/* Create both ends once the configurations are final. */
static void pair_start(struct pair *p, uint64_t now)
{
	p->i = ikev1i_new(&p->ic, &p->icbs, &p->iaddr, &p->raddr);
	p->r = ikev1_new(&p->rc, &p->rcbs, &p->raddr, &p->iaddr, now);
	ck_assert_ptr_nonnull(p->i);
	ck_assert_ptr_nonnull(p->r);
	ikev1i_start(p->i, now);
}

static void pair_free(struct pair *p)
{
	ikev1i_free(p->i);
	ikev1_free(p->r);
	free(p);
}

/* Deliver everything in flight, both ways, until nothing moves (bounded). The ports
 * are those of the sockets each message went between. */
static void pump(struct pair *p, uint64_t now)
{
	for (int round = 0; round < 50 && (p->to_r.n || p->to_i.n); round++) {
		struct msgq q = p->to_r;
		p->to_r.n = 0;
		for (int k = 0; k < q.n; k++) {
			struct ikev1_addr local = p->raddr, peer = p->iaddr;
			local.port = peer.port = q.natt[k] ? 4500 : 500;
			ikev1_input(p->r, q.buf[k], q.len[k], &local, &peer, now);
		}
		q = p->to_i;
		p->to_i.n = 0;
		for (int k = 0; k < q.n; k++)
			ikev1i_input(p->i, q.buf[k], q.len[k], q.natt[k], now);
	}
}

/* One message at a time, both ways, until the initiator reaches `st` (or nothing is in
 * flight): what is in flight then stays in the queues. */
static void run_until(struct pair *p, enum ikev1i_state st, uint64_t now)
{
	for (int round = 0; round < 50 && ikev1i_state(p->i) != st && (p->to_r.n || p->to_i.n);
	     round++) {
		struct msgq *q = p->to_r.n ? &p->to_r : &p->to_i;
		uint8_t b[IKEV1_MSG_MAX];
		size_t n = q->len[0];
		bool natt = q->natt[0];
		memcpy(b, q->buf[0], n);
		q->n--;
		memmove(q->buf[0], q->buf[1], (size_t)q->n * sizeof q->buf[0]);
		memmove(q->len, q->len + 1, (size_t)q->n * sizeof q->len[0]);
		memmove(q->natt, q->natt + 1, (size_t)q->n * sizeof q->natt[0]);
		if (q == &p->to_r) {
			struct ikev1_addr local = p->raddr, peer = p->iaddr;
			local.port = peer.port = natt ? 4500 : 500;
			ikev1_input(p->r, b, n, &local, &peer, now);
		} else {
			ikev1i_input(p->i, b, n, natt, now);
		}
	}
}

/* The two children hold the same keys the other way round: a packet sealed with one
 * end's outbound SA opens with the other's inbound SA, both ways. */
static void check_esp_both_ways(const struct ikev1_child *ic, const struct ikev1_child *rc)
{
	ck_assert_uint_eq(ic->spi_out, rc->spi_in);
	ck_assert_uint_eq(ic->spi_in, rc->spi_out);
	struct esp_pair pi, pr;
	ck_assert_int_eq(esp_pair_init(&pi, &ic->in, &ic->out, ic->udp_encap), 0);
	ck_assert_int_eq(esp_pair_init(&pr, &rc->in, &rc->out, rc->udp_encap), 0);
	static const uint8_t iv[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	uint8_t udp[40], pkt[256], back[256], nh = 0;
	for (size_t k = 0; k < sizeof udp; k++)
		udp[k] = (uint8_t)(k * 7 + 3);
	struct diag_err err;
	for (int dir = 0; dir < 2; dir++) {
		struct esp_pair *from = dir ? &pr : &pi, *to = dir ? &pi : &pr;
		size_t n = esp_pair_seal(from, iv, udp, sizeof udp, 17, pkt, sizeof pkt, NULL);
		ck_assert_uint_gt(n, sizeof udp);
		size_t m = 0;
		int r = esp_pair_open(to, pkt, n, back, sizeof back, &m, &nh, &err);
		ck_assert_msg(r == 0, "direction %d: %s", dir, err.reason);
		ck_assert_uint_eq(m, sizeof udp);
		ck_assert_uint_eq(nh, 17);
		ck_assert_mem_eq(back, udp, sizeof udp);
		/* and the other end's own outbound SA is not the same key */
		pkt[n - 1] ^= 1;
		ck_assert_int_lt(esp_pair_open(to, pkt, n, back, sizeof back, &m, &nh, &err), 0);
	}
	esp_pair_free(&pi);
	esp_pair_free(&pr);
}

/* ---- the right key ---------------------------------------------------------------- */

static const struct {
	const char *p1, *p2;
} suites[] = {
	{"aes128-sha1-modp2048", "aes128-sha1"},
	{"aes256-sha256-ecp256", "aes256-sha256"},
	{"3des-sha1-modp1024", "3des-sha1"},
	{"aes256-sha1-ecp384", "aes256gcm16"},
	{"aes128-sha256-modp2048", "aes128gcm16"},
};

START_TEST(psk_right_each_suite)
{
	struct pair *p = pair_new("s3cret key", "s3cret key");
	char why[200];
	ck_assert_int_eq(ikev1i_conf_parse_p1(&p->ic, suites[_i].p1, why, sizeof why), 0);
	ck_assert_int_eq(ikev1i_conf_parse_p2(&p->ic, suites[_i].p2, why, sizeof why), 0);
	pair_start(p, 1);
	pump(p, 2);
	ck_assert_msg(ikev1i_state(p->i) == IKEV1I_ESTABLISHED, "%s/%s: initiator in %s: %s",
	              suites[_i].p1, suites[_i].p2, tok_name(ikev1i_state_names, ikev1i_state(p->i)),
	              p->i_fail_text);
	ck_assert_int_eq(ikev1_state(p->r), IKEV1_ESTABLISHED);
	ck_assert_int_eq(p->i_up, 1);
	ck_assert_int_eq(p->r_up, 1);
	ck_assert_int_eq(p->i_child, 1);
	ck_assert_int_eq(p->r_child, 1);
	ck_assert_str_eq(ikev1i_cause(p->i), "");
	ck_assert_mem_eq(ikev1i_rspi(p->i), ikev1_rspi(p->r), 8);
	/* transport mode for udp/1701, without UDP encapsulation: no NAT on this path */
	const struct ikev1_child *c = ikev1i_child(p->i);
	ck_assert_ptr_nonnull(c);
	ck_assert(!c->udp_encap);
	ck_assert(!p->rchild.udp_encap && !p->rchild.tunnel);
	ck_assert_uint_eq(p->rchild.id_proto, 17);
	ck_assert_uint_eq(p->rchild.id_port_i, 1701);
	ck_assert_uint_eq(p->rchild.id_port_r, 1701);
	ck_assert(!ikev1i_natt(p->i));
	ck_assert_uint_eq(p->i_sent_natt, 0);
	ck_assert_uint_gt(ikev1i_ike_up_at(p->i), 0);
	ck_assert_uint_gt(ikev1i_child_up_at(p->i), 0);
	check_esp_both_ways(c, &p->rchild);
	pair_free(p);
}
END_TEST

/* The responder's message repeated (our QM3 lost): QM3 goes again, the responder's
 * child comes up from it; a lost MM2 is recovered by our retransmission of MM1. */
START_TEST(losses_recovered)
{
	struct pair *p = pair_new("k", "k");
	p->drop_next_to_i = 1; /* MM2 */
	pair_start(p, 0);
	pump(p, 0);
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_MM_SA);
	uint64_t d = ikev1i_deadline(p->i);
	ck_assert_uint_eq(d, 1000);
	ikev1i_tick(p->i, d);
	pump(p, d);
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_ESTABLISHED);
	ck_assert_int_eq(p->r_child, 1);
	/* the child's keys still agree after the retransmission */
	check_esp_both_ways(ikev1i_child(p->i), &p->rchild);
	pair_free(p);
}
END_TEST

START_TEST(qm3_lost_sent_again)
{
	/* run until the initiator is established, keeping the last message it got (QM2) */
	struct pair *p;
	p = pair_new("k", "k");
	pair_start(p, 0);
	uint8_t keep[IKEV1_MSG_MAX];
	size_t keep_len = 0;
	for (int round = 0; round < 20 && ikev1i_state(p->i) != IKEV1I_ESTABLISHED; round++) {
		struct msgq q = p->to_r;
		p->to_r.n = 0;
		for (int k = 0; k < q.n; k++)
			ikev1_input(p->r, q.buf[k], q.len[k], &p->raddr, &p->iaddr, 0);
		q = p->to_i;
		p->to_i.n = 0;
		for (int k = 0; k < q.n; k++) {
			memcpy(keep, q.buf[k], q.len[k]);
			keep_len = q.len[k];
			ikev1i_input(p->i, q.buf[k], q.len[k], false, 0);
		}
	}
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_ESTABLISHED);
	ck_assert_int_eq(p->to_r.n, 1); /* QM3 ... */
	p->to_r.n = 0;                  /* ... lost */
	ck_assert_int_eq(p->r_child, 0);
	/* the initiator does not repeat QM3 on its own */
	ck_assert_uint_eq(ikev1i_deadline(p->i), ikev1i_child(p->i)->expires);
	unsigned sent = p->i_sent;
	ikev1i_input(p->i, keep, keep_len, false, 5); /* QM2 again */
	ck_assert_uint_eq(p->i_sent, sent + 1);
	ck_assert_int_eq(p->to_r.n, 1);
	pump(p, 5);
	ck_assert_int_eq(p->r_child, 1);
	check_esp_both_ways(ikev1i_child(p->i), &p->rchild);
	/* repeated without end? no: bounded */
	for (int k = 0; k < 20; k++)
		ikev1i_input(p->i, keep, keep_len, false, 6);
	ck_assert_uint_le(p->i_sent, sent + 1 + IKEV1_RESENDS);
	pair_free(p);
}
END_TEST

/* ---- failures ----------------------------------------------------------------------- */

START_TEST(psk_wrong)
{
	struct pair *p = pair_new("the client's key", "the server's key");
	pair_start(p, 0);
	pump(p, 0);
	ck_assert_int_eq(ikev1_state(p->r), IKEV1_DEAD);
	ck_assert_str_eq(ikev1_cause(p->r), "ike.psk.mismatch");
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_DEAD);
	ck_assert_str_eq(ikev1i_cause(p->i), "ike.psk.mismatch");
	ck_assert_int_eq(p->i_up, 0);
	ck_assert_int_eq(p->i_child, 0);
	ck_assert_int_eq(p->r_child, 0);
	ck_assert_ptr_null(ikev1i_child(p->i));
	pair_free(p);
}
END_TEST

/* The responder's message 6 dropped (a responder that fails silently): the initiator
 * gives up with the stalled cause after its retransmissions, within the bound. */
START_TEST(psk_wrong_silent_responder)
{
	struct pair *p = pair_new("a", "b");
	pair_start(p, 0);
	pump(p, 0);
	ck_assert_str_eq(ikev1i_cause(p->i), "ike.psk.mismatch");
	pair_free(p);

	/* MM6 garbled: HASH_R cannot match */
	p = pair_new("a", "a");
	pair_start(p, 0);
	for (int round = 0; round < 10 && ikev1i_state(p->i) < IKEV1I_QM &&
	                    ikev1i_state(p->i) != IKEV1I_DEAD; round++) {
		struct msgq q = p->to_r;
		p->to_r.n = 0;
		for (int k = 0; k < q.n; k++)
			ikev1_input(p->r, q.buf[k], q.len[k], &p->raddr, &p->iaddr, 0);
		q = p->to_i;
		p->to_i.n = 0;
		for (int k = 0; k < q.n; k++) {
			if (ikev1i_state(p->i) == IKEV1I_MM_AUTH)
				q.buf[k][q.len[k] - 1] ^= 0x40; /* the last block of MM6 */
			ikev1i_input(p->i, q.buf[k], q.len[k], false, 0);
		}
	}
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_DEAD);
	ck_assert_str_eq(ikev1i_cause(p->i), "ike.psk.mismatch");
	pair_free(p);
}
END_TEST

START_TEST(no_proposal_main_mode)
{
	struct pair *p = pair_new("k", "k");
	char why[200];
	ck_assert_int_eq(ikev1_conf_parse_p1(&p->rc, "aes256-sha256-modp2048", why, sizeof why), 0);
	ck_assert_int_eq(ikev1i_conf_parse_p1(&p->ic, "aes128-sha1-modp1024,3des-sha1-modp2048", why,
	                                      sizeof why), 0);
	pair_start(p, 0);
	pump(p, 0);
	ck_assert_str_eq(ikev1_cause(p->r), "ike.v1.no-proposal");
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_DEAD);
	ck_assert_str_eq(ikev1i_cause(p->i), "ike.v1.no-proposal");
	/* the responder saw both transforms */
	ck_assert_ptr_nonnull(strstr(p->r_fail_text, "aes128-sha1-modp1024"));
	ck_assert_ptr_nonnull(strstr(p->r_fail_text, "3des-sha1-modp2048"));
	pair_free(p);
}
END_TEST

START_TEST(no_proposal_quick_mode)
{
	struct pair *p = pair_new("k", "k");
	char why[200];
	ck_assert_int_eq(ikev1_conf_parse_p2(&p->rc, "aes256-sha256", why, sizeof why), 0);
	ck_assert_int_eq(ikev1i_conf_parse_p2(&p->ic, "3des-sha1,aes128-sha1", why, sizeof why), 0);
	pair_start(p, 0);
	pump(p, 0);
	ck_assert_int_eq(p->i_up, 1); /* Main Mode went through */
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_DEAD);
	ck_assert_str_eq(ikev1i_cause(p->i), "ike.v1.no-proposal");
	ck_assert_ptr_nonnull(strstr(p->r_fail_text, "ike.v1.no-proposal"));
	ck_assert_int_eq(p->r_child, 0);
	pair_free(p);
}
END_TEST

/* The second transform is the one the responder takes: the initiator maps the answer
 * back to it (keys of the right length). */
START_TEST(second_transform_chosen)
{
	struct pair *p = pair_new("k", "k");
	char why[200];
	ck_assert_int_eq(ikev1_conf_parse_p1(&p->rc, "aes256-sha256-ecp256", why, sizeof why), 0);
	ck_assert_int_eq(ikev1_conf_parse_p2(&p->rc, "aes256-sha256", why, sizeof why), 0);
	ck_assert_int_eq(ikev1i_conf_parse_p1(&p->ic, "aes128-sha1-modp1024,aes256-sha256-ecp256",
	                                      why, sizeof why), 0);
	ck_assert_int_eq(ikev1i_conf_parse_p2(&p->ic, "aes128-sha1,aes256-sha256", why, sizeof why), 0);
	pair_start(p, 0);
	pump(p, 0);
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_ESTABLISHED);
	const struct ikev1_child *c = ikev1i_child(p->i);
	ck_assert_uint_eq(c->out.eklen, 32);
	ck_assert_uint_eq(c->out.aklen, 32);
	check_esp_both_ways(c, &p->rchild);
	pair_free(p);
}
END_TEST

/* ---- NAT-T ---------------------------------------------------------------------------- */

START_TEST(natt_forced)
{
	struct pair *p = pair_new("k", "k");
	p->ic.force_encap = true;
	pair_start(p, 0);
	pump(p, 0);
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_ESTABLISHED);
	ck_assert(ikev1i_natt(p->i));
	ck_assert_uint_eq(ikev1i_peer(p->i)->port, 4500);
	/* MM1, MM3 on 500; MM5, QM1, QM3 on 4500 */
	ck_assert_uint_eq(p->i_sent, 5);
	ck_assert_uint_eq(p->i_sent_natt, 3);
	ck_assert(ikev1_nat(p->r));
	ck_assert_uint_eq(ikev1_peer(p->r)->port, 4500);
	ck_assert(ikev1i_child(p->i)->udp_encap);
	ck_assert(p->rchild.udp_encap);
	/* NAT-OAi: the address the initiator has */
	ck_assert(p->rchild.has_nat_oa_i);
	ck_assert_mem_eq(p->rchild.nat_oa_i, p->iaddr.ip, 4);
	check_esp_both_ways(ikev1i_child(p->i), &p->rchild);
	pair_free(p);
}
END_TEST

/* A real NAT: the responder sees another source than the initiator has; both float
 * without being forced. Without NAT-T announced, no float and plain transport (which
 * the responder then refuses for the translated address: that is the NAT's fault). */
START_TEST(natt_real_nat)
{
	struct pair *p = pair_new("k", "k");
	p->i = ikev1i_new(&p->ic, &p->icbs, &p->iaddr, &p->raddr);
	struct ikev1_addr outside = p->iaddr;
	memcpy(outside.ip, "\xc0\x00\x02\x07", 4);
	p->r = ikev1_new(&p->rc, &p->rcbs, &p->raddr, &outside, 0);
	ikev1i_start(p->i, 0);
	for (int round = 0; round < 20 && (p->to_r.n || p->to_i.n); round++) {
		struct msgq q = p->to_r;
		p->to_r.n = 0;
		for (int k = 0; k < q.n; k++) {
			struct ikev1_addr local = p->raddr, peer = outside;
			local.port = q.natt[k] ? 4500 : 500;
			peer.port = q.natt[k] ? 34500 : 30500;
			ikev1_input(p->r, q.buf[k], q.len[k], &local, &peer, 0);
		}
		q = p->to_i;
		p->to_i.n = 0;
		for (int k = 0; k < q.n; k++)
			ikev1i_input(p->i, q.buf[k], q.len[k], q.natt[k], 0);
	}
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_ESTABLISHED);
	ck_assert(ikev1i_natt(p->i));
	ck_assert(ikev1i_child(p->i)->udp_encap);
	ck_assert(p->rchild.udp_encap);
	pair_free(p);
}
END_TEST

START_TEST(natt_not_announced)
{
	struct pair *p = pair_new("k", "k");
	p->ic.natt = false;
	p->ic.force_encap = true; /* means nothing without NAT-T */
	pair_start(p, 0);
	pump(p, 0);
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_ESTABLISHED);
	ck_assert(!ikev1i_natt(p->i));
	ck_assert_uint_eq(p->i_sent_natt, 0);
	ck_assert(!p->rchild.udp_encap);
	pair_free(p);
}
END_TEST

/* ---- time ----------------------------------------------------------------------------- */

START_TEST(no_reply)
{
	struct pair *p = pair_new("k", "k");
	p->drop_to_r = true;
	pair_start(p, 0);
	ck_assert_uint_eq(p->i_sent, 1);
	uint64_t now = 0, waits[8];
	int n = 0;
	while (ikev1i_state(p->i) != IKEV1I_DEAD && n < 8) {
		uint64_t d = ikev1i_deadline(p->i);
		ck_assert_uint_gt(d, now);
		waits[n++] = d - now;
		now = d;
		ikev1i_tick(p->i, now);
	}
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_DEAD);
	ck_assert_str_eq(ikev1i_cause(p->i), "ike.no-reply");
	/* 1 + 4 retransmissions, 1 s then doubling, then the give-up */
	ck_assert_uint_eq(p->i_sent, 5);
	ck_assert_int_eq(n, 5);
	ck_assert_uint_eq(waits[0], 1000);
	ck_assert_uint_eq(waits[1], 2000);
	ck_assert_uint_eq(waits[2], 4000);
	ck_assert_uint_eq(waits[3], 8000);
	ck_assert_uint_eq(ikev1i_deadline(p->i), IKEV1_NEVER);
	pair_free(p);
}
END_TEST

START_TEST(no_reply_after_float)
{
	struct pair *p = pair_new("k", "k");
	p->ic.force_encap = true;
	pair_start(p, 0);
	/* deliver until the float, then the NAT-T port is black */
	run_until(p, IKEV1I_MM_AUTH, 0);
	p->to_r.n = 0;
	p->drop_to_r = true;
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_MM_AUTH);
	for (int k = 0; k < 10 && ikev1i_state(p->i) != IKEV1I_DEAD; k++)
		ikev1i_tick(p->i, ikev1i_deadline(p->i));
	ck_assert_str_eq(ikev1i_cause(p->i), "ike.no-reply.nat-t");
	pair_free(p);
}
END_TEST

START_TEST(quick_mode_timeout)
{
	struct pair *p = pair_new("k", "k");
	pair_start(p, 0);
	run_until(p, IKEV1I_QM, 0);
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_QM);
	p->to_r.n = 0;
	p->drop_to_r = true;
	for (int k = 0; k < 10 && ikev1i_state(p->i) != IKEV1I_DEAD; k++)
		ikev1i_tick(p->i, ikev1i_deadline(p->i));
	ck_assert_str_eq(ikev1i_cause(p->i), "ike.v1.timeout");
	pair_free(p);
}
END_TEST

/* The whole negotiation bound holds even when retransmissions are slower. */
START_TEST(negotiation_bound)
{
	struct pair *p = pair_new("k", "k");
	p->drop_to_r = true;
	p->ic.retransmit_ms = 20000;
	p->ic.negotiation_ms = 5000;
	pair_start(p, 100);
	ck_assert_uint_eq(ikev1i_deadline(p->i), 5100);
	ikev1i_tick(p->i, 5100);
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_DEAD);
	ck_assert_str_eq(ikev1i_cause(p->i), "ike.no-reply");
	pair_free(p);
}
END_TEST

/* ---- delete, hostile input ---------------------------------------------------------- */

START_TEST(delete_reaches_responder)
{
	struct pair *p = pair_new("k", "k");
	pair_start(p, 0);
	pump(p, 0);
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_ESTABLISHED);
	ikev1i_delete(p->i, "done", 10);
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_DEAD);
	ck_assert_str_eq(ikev1i_cause(p->i), "ike.v1.deleted");
	pump(p, 10);
	ck_assert_int_eq(p->r_child_down, 1);
	ck_assert_int_eq(ikev1_state(p->r), IKEV1_DEAD);
	ck_assert_str_eq(ikev1_cause(p->r), "ike.v1.deleted-by-peer");
	pair_free(p);
}
END_TEST

/* main_mode_only: Main Mode's three requests and no Quick Mode; the SA is established
 * without a child, waits for nothing, and its DELETE ends the responder's SA. */
START_TEST(main_mode_only)
{
	struct pair *p = pair_new("k", "k");
	p->ic.main_mode_only = true;
	pair_start(p, 0);
	pump(p, 0);
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_ESTABLISHED);
	ck_assert_int_eq(p->i_up, 1);
	ck_assert_int_eq(p->r_up, 1);
	ck_assert_int_eq(p->i_sent, 3);
	ck_assert_int_eq(p->i_child, 0);
	ck_assert_int_eq(p->r_child, 0);
	ck_assert_ptr_null(ikev1i_child(p->i));
	ck_assert_uint_ne(ikev1i_ike_up_at(p->i), 0);
	ck_assert_uint_eq(ikev1i_deadline(p->i), IKEV1_NEVER);
	ck_assert_uint_eq(ikev1i_tick(p->i, 600000), IKEV1_NEVER);
	ck_assert_int_eq(p->i_sent, 3);
	ikev1i_delete(p->i, "done", 10);
	pump(p, 10);
	ck_assert_int_eq(ikev1_state(p->r), IKEV1_DEAD);
	ck_assert_str_eq(ikev1_cause(p->r), "ike.v1.deleted-by-peer");
	pair_free(p);
}
END_TEST

/* Messages of another SA, truncated or forged ones change nothing. */
START_TEST(foreign_messages_ignored)
{
	struct pair *p = pair_new("k", "k");
	pair_start(p, 0);
	/* an MM2 with another initiator cookie */
	pump(p, 0);
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_ESTABLISHED);
	uint8_t junk[64] = {0};
	ikev1i_input(p->i, junk, sizeof junk, false, 1);
	ikev1i_input(p->i, junk, 3, false, 1);
	memcpy(junk, ikev1i_ispi(p->i), 8);
	memcpy(junk + 8, ikev1i_rspi(p->i), 8);
	junk[16] = IKE1_PL_N;
	junk[17] = 0x10;
	junk[18] = IKE1_EXCH_INFO;
	junk[27] = 28;
	ikev1i_input(p->i, junk, 28, false, 1); /* an unprotected empty Informational */
	ck_assert_int_eq(ikev1i_state(p->i), IKEV1I_ESTABLISHED);

	/* before the keys: a NO-PROPOSAL notify with the wrong initiator cookie is nobody's */
	struct pair *q = pair_new("k", "k");
	q->drop_to_r = true;
	pair_start(q, 0);
	struct ike_msg *m = malloc(sizeof *m);
	uint8_t other[8] = {9, 9, 9, 9, 9, 9, 9, 9}, buf[256];
	ike_msg_init(m, 1, IKE1_EXCH_INFO, 0, 0, other, other);
	struct ike_payload *n = ike_add_payload(m, IKE1_PL_N, NULL, 0);
	n->protocol = 1;
	n->notify = IKE1_N_NO_PROPOSAL;
	size_t len = ike_encode(m, buf, sizeof buf);
	ikev1i_input(q->i, buf, len, false, 1);
	ck_assert_int_eq(ikev1i_state(q->i), IKEV1I_MM_SA);
	/* with ours it ends the negotiation */
	ike_msg_init(m, 1, IKE1_EXCH_INFO, 0, 0, ikev1i_ispi(q->i), other);
	n = ike_add_payload(m, IKE1_PL_N, NULL, 0);
	n->protocol = 1;
	n->notify = IKE1_N_NO_PROPOSAL;
	len = ike_encode(m, buf, sizeof buf);
	ikev1i_input(q->i, buf, len, false, 1);
	ck_assert_str_eq(ikev1i_cause(q->i), "ike.v1.no-proposal");
	free(m);
	pair_free(q);
	pair_free(p);
}
END_TEST

START_TEST(conf_parse)
{
	struct ikev1i_conf c;
	ikev1i_conf_default(&c);
	char why[200] = "";
	size_t n1 = c.n_p1;
	ck_assert_int_eq(ikev1i_conf_parse_p1(&c, "aes128-sha1-modp999", why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "modp999"));
	ck_assert_uint_eq(c.n_p1, n1); /* unchanged */
	ck_assert_int_eq(ikev1i_conf_parse_p2(&c, "aes128", why, sizeof why), -1);
	ck_assert_int_eq(ikev1i_conf_parse_p1(&c, "aes256-sha256-ecp256", why, sizeof why), 0);
	ck_assert_uint_eq(c.n_p1, 1);
	ck_assert_uint_eq(c.p1[0].group, 19);
	ck_assert_uint_eq(c.p1[0].keybits, 256);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ikev1_init");
	TCase *t = tcase_create("core");
	tcase_set_timeout(t, 60);
	tcase_add_loop_test(t, psk_right_each_suite, 0, sizeof suites / sizeof suites[0]);
	tcase_add_test(t, losses_recovered);
	tcase_add_test(t, qm3_lost_sent_again);
	tcase_add_test(t, psk_wrong);
	tcase_add_test(t, psk_wrong_silent_responder);
	tcase_add_test(t, no_proposal_main_mode);
	tcase_add_test(t, no_proposal_quick_mode);
	tcase_add_test(t, second_transform_chosen);
	tcase_add_test(t, natt_forced);
	tcase_add_test(t, natt_real_nat);
	tcase_add_test(t, natt_not_announced);
	tcase_add_test(t, no_reply);
	tcase_add_test(t, no_reply_after_float);
	tcase_add_test(t, quick_mode_timeout);
	tcase_add_test(t, negotiation_bound);
	tcase_add_test(t, delete_reaches_responder);
	tcase_add_test(t, main_mode_only);
	tcase_add_test(t, foreign_messages_ignored);
	tcase_add_test(t, conf_parse);
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
