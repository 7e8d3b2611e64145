/* Phases, facts and diagnoses of tracked sessions. */
#include "capture/explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "net.h"

#define SLOW_PHASE_NS 3000000000ull   /* a set-up phase slower than this is an anomaly */
#define NO_REPLY_WAIT_NS 5000000000ull /* a request this old without an answer got none */
#define PATH_MTU 1500

static bool is_ike(const struct vsess *s) { return s->proto == SP_IKE1 || s->proto == SP_IKE2; }
static bool is_ppp_carrier(const struct vsess *s)
{
	return s->proto == SP_L2TP || s->proto == SP_PPTP;
}

static void fail_open(struct vsess *s, enum phase_id ph, const char *note)
{
	struct phase *x = &s->ph[ph];
	if (x->state != PS_OPEN)
		return;
	x->state = PS_FAILED;
	if (!x->note || note)
		phase_note(x, note ? note : "did not complete");
}

/* Mark a phase that never started as failed at the last frame of the session. */
static void fail_missing(struct vsess *s, enum phase_id ph, const char *note)
{
	struct phase *x = &s->ph[ph];
	if (x->state != PS_NONE)
		return;
	x->state = PS_FAILED;
	const struct phase *td = &s->ph[PH_TEARDOWN];
	x->start_frame = x->end_frame = td->state ? td->start_frame : s->last_frame;
	x->start_ns = x->end_ns = td->state ? td->start_ns : s->last_ns;
	phase_note(x, note);
}

static uint32_t ike_retrans(const struct vsess *s)
{
	return s->ph[PH_IKE1].retrans + s->ph[PH_IKE2].retrans + s->ph[PH_IKE_AUTH].retrans +
	       s->ph[PH_IPSEC].retrans;
}

/* The initiator's requests got nothing back: ike.no_reply with the server port they went
 * to. A capture that ends soon after the last request may have missed a late answer,
 * and the note says how soon. */
static void ike_no_reply(struct vsess *s, struct phase *p1, enum phase_id ph, uint64_t tend,
                         const char *what)
{
	char note[160];
	sess_obs_bool(s, "ike.no_reply", true, p1->start_frame);
	if (s->req_port)
		sess_obs_int(s, "ike.no_reply_port", s->req_port, p1->start_frame);
	int w = snprintf(note, sizeof note, "%u %s%s, none from the server", p1->pkts, what,
	                 p1->pkts == 1 ? "" : "s");
	uint64_t after = tend >= s->last_ns ? tend - s->last_ns : 0;
	if (!p1->retrans && after < NO_REPLY_WAIT_NS && w > 0 && (size_t)w < sizeof note)
		snprintf(note + w, sizeof note - (size_t)w, " (the capture ends %.3f s after the "
		         "last)", (double)after / 1e9);
	fail_open(s, ph, note);
}

/* IKE messages that never arrived whole: some of their IP fragments were lost before the
 * capture point. The exchange they belong to stalls there; with no complete message of it
 * to tell which one, the phase after the last one that completed is marked failed at the
 * fragments' frames. */
static void ike_frags_lost(struct vsess *s, enum phase_id ph)
{
	char note[128];
	if (!s->frag_lost)
		return;
	snprintf(note, sizeof note, "%u message%s arrived as incomplete IP fragments (%u "
	         "fragment%s, the rest lost on the way)", s->frag_lost, s->frag_lost == 1 ? "" : "s",
	         s->frag_held, s->frag_held == 1 ? "" : "s");
	struct phase *x = &s->ph[ph];
	if (x->state == PS_NONE) {
		x->state = PS_FAILED;
		x->start_frame = s->frag_first_frame;
		x->end_frame = s->frag_last_frame;
		x->start_ns = s->frag_first_ns;
		x->end_ns = s->frag_last_ns;
		x->pkts = s->frag_held;
		x->retrans = s->frag_lost > 1 ? s->frag_lost - 1 : 0;
		phase_note(x, note);
	} else {
		fail_open(s, ph, note);
	}
}

static void finish_ike(struct vsess *s, uint64_t tend)
{
	char note[96];
	if (s->proto == SP_IKE1 && s->ph[PH_IKE1].state == PS_OPEN)
		ike_frags_lost(s, PH_IKE1);
	else if (s->proto == SP_IKE2 && s->ph[PH_IKE2].state == PS_OK &&
	         (s->ph[PH_IKE_AUTH].state == PS_NONE || s->ph[PH_IKE_AUTH].state == PS_OPEN))
		ike_frags_lost(s, PH_IKE_AUTH);
	if (s->proto == SP_IKE1) {
		struct phase *p1 = &s->ph[PH_IKE1];
		bool moved = s->first_req_port && s->req_port != s->first_req_port;
		if (p1->state != PS_OK && p1->state != PS_FAILED && s->mm_enc[0] &&
		    !s->answer_after_mm5 && p1->retrans && moved) {
			/* Message 5 went to the port NAT-T moved to (4500) and nothing at all came
			 * back, while 500 answered: the server never got it. A server with another
			 * key answers message 5 (strongSwan: an encrypted Informational), so this
			 * is not a key mismatch (tests/captures/ikev1-natt-silent.pcap against
			 * ikev1-badpsk.pcap). */
			sess_obs_bool(s, "ike.no_reply", true, s->last_frame_dir[0]);
			sess_obs_int(s, "ike.no_reply_port", s->req_port, s->last_frame_dir[0]);
			snprintf(note, sizeof note, "Main Mode 5 sent %u times to port %u, no answer there",
			         1 + s->same_count[0], s->req_port);
			fail_open(s, PH_IKE1, note);
		}
		if (p1->state != PS_OK && p1->state != PS_FAILED && s->mm_enc[0]) {
			/* The first encrypted message went out; no usable answer came back. */
			if (p1->retrans || s->mm_enc[1]) {
				sess_obs_bool(s, "ike.mm5_undecryptable", true, s->last_frame_dir[0]);
				snprintf(note, sizeof note,
				         "Main Mode 5 sent %u times without an answer the server could "
				         "decrypt", 1 + s->same_count[0]);
				fail_open(s, PH_IKE1, note);
			}
		}
		/* Nothing at all came back: a lone request is no less unanswered than one
		 * retransmitted, and "answers came back" must never be said of it. */
		bool answered = s->mm_clear[1] || s->mm_enc[1] || sess_obs_get(s, "ike.notify");
		if (p1->state == PS_OPEN && !answered)
			ike_no_reply(s, p1, PH_IKE1, tend, "message from the client");
		fail_open(s, PH_IKE1, "Main Mode did not complete");
		if (s->ph[PH_IPSEC].state == PS_OPEN)
			fail_open(s, PH_IPSEC, "Quick Mode did not complete");
		const char *am = NULL;
		switch (s->auth_method) {
		case 1: am = "psk"; break;
		case 3: am = "rsa-sig"; break;
		case 9: case 10: case 11: am = "ecdsa"; break;
		default: break;
		}
		if (am)
			sess_obs_str(s, "ike.auth_method", am, s->first_frame);
	} else {
		struct phase *p1 = &s->ph[PH_IKE2];
		if (p1->state == PS_OPEN && p1->pkts && p1->retrans + 1 >= p1->pkts &&
		    !sess_obs_get(s, "ike.invalid_ke"))
			ike_no_reply(s, p1, PH_IKE2, tend, "IKE_SA_INIT request");
		fail_open(s, PH_IKE2, "IKE_SA_INIT did not complete");
		struct phase *pa = &s->ph[PH_IKE_AUTH];
		bool traffic = s->esp_pkts || s->ph[PH_IPSEC].state == PS_OK;
		if (pa->state == PS_OPEN && s->v2_auth_answered) {
			if (traffic) {
				pa->state = PS_OK;
				phase_note(pa, "ESP followed the exchange");
			} else if (s->v2_auth_eap || (s->v2_auth_rounds > 1 && !s->v2_auth_short)) {
				/* EAP: the server's AUTH and the EAP rounds come before the outcome,
				 * which the last answers hold encrypted. No claim either way. */
				s->v2_auth_open = true;
				phase_note(pa, s->v2_auth_eap
				           ? "the capture ends before the exchange's last answer"
				           : "the outcome is encrypted in the last answer: the keys file "
				             "(--keys) would show it");
			} else if (!s->v2_auth_short) {
				pa->state = PS_OK;
				phase_note(pa, "the last answer has room for IDr and AUTH");
			} else {
				pa->state = PS_FAILED;
				char nb[96];
				snprintf(nb, sizeof nb, "the answer in frame %llu is too short for "
				         "IDr and AUTH: an error notify alone",
				         (unsigned long long)s->v2_auth_frame);
				phase_note(pa, nb);
			}
		}
		if (pa->state == PS_FAILED && s->v2_auth_short && !traffic &&
		    !sess_obs_get(s, "ike.notify")) {
			/* RFC 7296 2.21.2: a responder that cannot authenticate the initiator answers
			 * IKE_AUTH with AUTHENTICATION_FAILED alone; errors about the child SA come
			 * with IDr and AUTH and make a longer message. */
			sess_obs_str(s, "ike.notify", "AUTHENTICATION_FAILED", s->v2_auth_frame);
			sess_obs_bool(s, "ike.notify_inferred", true, s->v2_auth_frame);
		}
		if (!s->v2_auth_open)
			fail_open(s, PH_IKE_AUTH, "IKE_AUTH got no answer");
		if (s->ph[PH_IPSEC].state == PS_OPEN)
			fail_open(s, PH_IPSEC, "CREATE_CHILD_SA did not complete");
	}
	uint32_t rt = ike_retrans(s);
	if (rt)
		sess_obs_int(s, "ike.retransmits", rt, s->last_frame);
	bool odd_port = s->cport != 500 && s->cport != 4500 && s->cport;
	if (odd_port && !s->natd_seen) {
		/* No NAT-D to compare, but the server sees the client's IKE from a port no IKE
		 * implementation picks: the client's address was translated on the way. */
		s->nat_cli = true;
		if (s->proto == SP_IKE1)
			sess_obs_bool(s, "nat.client_behind", true, s->first_frame);
	}
	if (s->natt_answered)
		sess_obs_bool(s, "ike.natt_answered", true, s->first_frame);
	if (s->natd_seen || s->ports_changed || odd_port)
		sess_obs_bool(s, "nat.detected", s->ports_changed || s->nat_cli || s->nat_srv,
		              s->first_frame);
}

static void finish_ppp(struct vsess *s, uint64_t tend)
{
	(void)tend;
	struct ppp_link *l = &s->ppp;
	char note[96];
	bool call_ok = s->ph[PH_CALL].state == PS_OK;
	if (s->proto == SP_PPTP && call_ok) {
		bool both = s->gre_pkts[0] && s->gre_pkts[1];
		sess_obs_bool(s, "pptp.gre_seen", both, s->ph[PH_CALL].end_frame);
		if (!both && s->ph[PH_LCP].state != PS_OK) {
			snprintf(note, sizeof note, "no GRE from the %s",
			         s->gre_pkts[0] ? "server" : "client");
			if (s->ph[PH_LCP].state == PS_NONE)
				fail_missing(s, PH_LCP, note);
			else
				fail_open(s, PH_LCP, note);
		}
	}
	const struct obs *cdn = sess_obs_get(s, "l2tp.cdn.result");
	if (call_ok && s->ph[PH_LCP].state == PS_NONE && s->ph[PH_TEARDOWN].state && cdn &&
	    cdn->i == L2TP_CDN_ERROR) {
		/* Cleared "for the reason indicated in the error code" before PPP began: the
		 * call itself was refused (an AVP of its ICCN, say), LCP never had a chance. */
		struct phase *c = &s->ph[PH_CALL];
		const struct obs *err = sess_obs_get(s, "l2tp.error");
		c->state = PS_FAILED;
		c->end_frame = cdn->frame;
		snprintf(note, sizeof note, "cleared by CDN result 2 (error %lld) before PPP began",
		         err ? (long long)err->i : 0LL);
		phase_note(c, note);
	} else if (call_ok && s->ph[PH_LCP].state == PS_NONE && s->ph[PH_TEARDOWN].state) {
		sess_obs_bool(s, "ppp.lcp.failed", true, s->ph[PH_TEARDOWN].start_frame);
		fail_missing(s, PH_LCP, "the call was cleared before either end sent LCP");
	}
	if (s->ph[PH_LCP].state == PS_OPEN || s->ph[PH_LCP].state == PS_FAILED) {
		sess_obs_bool(s, "ppp.lcp.failed", true, s->ph[PH_LCP].start_frame);
		if (l->auth_refused && l->auth_offers)
			sess_obs_bool(s, "ppp.lcp.auth_rejected", true, s->ph[PH_LCP].end_frame);
		fail_open(s, PH_LCP, "LCP never opened in both directions");
	}
	fail_open(s, PH_AUTH, "authentication got no result");
	if (s->ph[PH_NCP].state == PS_OPEN) {
		sess_obs_bool(s, "ipcp.no_address", true, s->ph[PH_NCP].start_frame);
		if (l->ipcp_nonzero_nak)
			sess_obs_bool(s, "ipcp.address_rejected", true, s->ph[PH_NCP].end_frame);
		fail_open(s, PH_NCP, "IPCP never completed: the client got no address");
	}
	if (s->ph[PH_LCP].state == PS_OK && s->ph[PH_AUTH].state == PS_OK &&
	    s->ph[PH_NCP].state == PS_NONE && s->ph[PH_TEARDOWN].state &&
	    s->ph[PH_ESTABLISHED].state == PS_NONE) {
		sess_obs_bool(s, "ipcp.no_address", true, s->ph[PH_TEARDOWN].start_frame);
		fail_missing(s, PH_NCP, "the link went down after authentication without IPCP");
	}
	if (l->inner_max) {
		size_t overhead = s->proto == SP_PPTP ? 20 + 16 + 4 : 20 + 8 + 8 + 4;
		if (s->in_ipsec)
			overhead += 8 + 34;
		/* evidence: the largest packet and the SYN with the largest MSS themselves */
		sess_obs_int(s, "mtu.inner_max", (int64_t)l->inner_max, l->inner_max_frame);
		sess_obs_int(s, "mtu.overhead", (int64_t)overhead, l->inner_max_frame);
		bool exceeds = l->inner_max + overhead > PATH_MTU;
		sess_obs_bool(s, "mtu.exceeds_path", exceeds, l->inner_max_frame);
		if (l->mss_seen)
			sess_obs_bool(s, "tcp.mss_clamped", l->mss_max + 40 + overhead <= PATH_MTU,
			              l->mss_frame);
	}
}

static void finish_tunnel(struct vsess *s, uint64_t tend)
{
	char note[96];
	struct phase *tp = &s->ph[PH_TUNNEL];
	if (s->proto == SP_PPTP && s->syn_seen && !s->synack_seen) {
		sess_obs_bool(s, "pptp.no_reply", true, tp->start_frame);
		snprintf(note, sizeof note, "%u TCP SYN to port 1723, no SYN-ACK", s->syn_count);
		fail_open(s, PH_TUNNEL, note);
	}
	if (s->proto == SP_L2TP) {
		if (sess_obs_get(s, "l2tp.no_ack"))
			sess_obs_bool(s, "l2tp.in_ipsec", s->in_ipsec, s->first_frame);
		if (tp->state == PS_OPEN && tp->retrans && !s->tid_s) {
			sess_obs_bool(s, "l2tp.no_ack", true, tp->end_frame);
			sess_obs_bool(s, "l2tp.in_ipsec", s->in_ipsec, s->first_frame);
			snprintf(note, sizeof note, "SCCRQ sent %u times, never acknowledged", tp->pkts);
			fail_open(s, PH_TUNNEL, note);
		}
	}
	(void)tend;
	fail_open(s, PH_TUNNEL, "the control connection did not come up");
	fail_open(s, PH_CALL, "the call did not come up");
}

static void finish_radius(struct vsess *s, uint64_t tend)
{
	enum phase_id ph = s->proto == SP_ACCT ? PH_ACCOUNTING : PH_AUTH;
	struct phase *x = &s->ph[ph];
	if (x->state == PS_OPEN && !s->rad_answered &&
	    (s->rad_retrans || tend - s->last_ns >= NO_REPLY_WAIT_NS)) {
		sess_obs_bool(s, "radius.no_reply", true, x->start_frame);
		char note[96];
		snprintf(note, sizeof note, "request sent %u times, no reply", 1 + s->rad_retrans);
		fail_open(s, ph, note);
	}
	fail_open(s, ph, "no reply before the capture ended");
}

static int by_pair_port(const void *a, const void *b)
{
	const struct vsess *x = *(const struct vsess *const *)a, *y = *(const struct vsess *const *)b;
	int c = memcmp(x->cli, y->cli, 16);
	if (!c)
		c = memcmp(x->srv, y->srv, 16);
	if (!c)
		c = (int)x->cport - (int)y->cport;
	if (!c)
		c = x->id < y->id ? -1 : x->id > y->id;
	return c;
}

void explain_finish_one(struct sess_table *t, struct vsess *s)
{
	if (!s || s->finished)
		return;
	s->finished = true;
	uint64_t tend = sess_last_ns(t);
	if (is_ike(s))
		finish_ike(s, tend);
	else if (is_ppp_carrier(s)) {
		finish_tunnel(s, tend);
		finish_ppp(s, tend);
	} else {
		finish_radius(s, tend);
	}
	/* CCP refused but IPCP done and IP flowing both ways: a link without encryption, which
	 * the server accepted (whether that is wanted is the policy's question), not a failure */
	if (is_ppp_carrier(s) && s->ph[PH_CCP].state == PS_FAILED && s->ph[PH_NCP].state == PS_OK &&
	    s->ppp.clear_ip_dirs == 3) {
		s->ph[PH_CCP].state = PS_OK;
		phase_note(&s->ph[PH_CCP], "refused; the link carried IP without encryption");
		s->ppp.unencrypted = true;
	}
	if (s->ph[PH_ESTABLISHED].state == PS_OPEN)
		s->ph[PH_ESTABLISHED].state = PS_OK;
	if (s->ph[PH_TEARDOWN].state == PS_OPEN)
		s->ph[PH_TEARDOWN].state = PS_OK;
}

void explain_finish(struct sess_table *t)
{
	for (size_t i = 0; i < sess_count(t); i++)
		explain_finish_one(t, sess_at(t, i));
	/* Several clients behind one address: IKE SAs from one client address to one server
	 * with different source ports (the NAT gave each its own). Sorted, so one pass
	 * counts the ports of each address pair. */
	size_t n = 0;
	struct vsess **v = malloc((sess_count(t) + 1) * sizeof *v);
	if (!v)
		return;
	for (size_t i = 0; i < sess_count(t); i++) {
		struct vsess *s = sess_at(t, i);
		if (s && is_ike(s))
			v[n++] = s;
	}
	qsort(v, n, sizeof *v, by_pair_port);
	for (size_t i = 0; i < n;) {
		size_t j = i, ports = 0;
		bool natted = false;
		for (; j < n && !memcmp(v[j]->cli, v[i]->cli, 16) && !memcmp(v[j]->srv, v[i]->srv, 16); j++) {
			if (j == i || v[j]->cport != v[j - 1]->cport)
				ports++;
			natted |= v[j]->nat_cli;
		}
		if (natted && ports > 1)
			for (size_t k = i; k < j; k++)
				if (v[k]->nat_cli)
					sess_obs_int(v[k], "nat.clients_behind_same", (int64_t)ports,
					             v[k]->first_frame);
		i = j;
	}
	free(v);
}

enum phase_id explain_failed_phase(const struct vsess *s)
{
	for (int ph = 0; ph < PH_COUNT; ph++)
		if (s->ph[ph].state == PS_FAILED)
			return (enum phase_id)ph;
	return PH_COUNT;
}

static void add_obs_fact(struct facts *f, const struct obs *o, const struct evidence *ev)
{
	switch (o->type) {
	case OBS_INT: facts_add_int(f, o->key, o->i, ev); break;
	case OBS_BOOL: facts_add_bool(f, o->key, o->i != 0, ev); break;
	default: facts_add_str(f, o->key, o->s, ev); break;
	}
}

void explain_facts(struct sess_table *t, const struct vsess *s, struct facts *f)
{
	facts_reset(f);
	const char *file = sess_file(t);
	struct evidence ev0 = ev_packet(file, s->first_frame, 0);
	facts_add_str(f, "source", "pcap", NULL);
	facts_add_str(f, "session.protocol", sess_proto_name(s), &ev0);
	enum phase_id fp = explain_failed_phase(s);
	if (fp != PH_COUNT) {
		struct evidence ev = ev_packet(file, s->ph[fp].end_frame, 0);
		facts_add_str(f, "session.phase.failed", phase_name(fp), &ev);
	}
	if (is_ike(s))
		facts_add_int(f, "ike.version", s->proto == SP_IKE1 ? 1 : 2, &ev0);
	if (s->user[0])
		facts_add_str(f, "user.name", s->user, &ev0);
	for (uint16_t i = 0; i < s->nobs; i++) {
		struct evidence ev = ev_packet(file, s->obs[i].frame, 0);
		if (s->ppp.unencrypted && !strcmp(s->obs[i].key, "ccp.mppe_rejected")) {
			facts_add_str(f, "ppp.encryption", "none", &ev);
			continue;
		}
		if (s->ppp.unencrypted && !strcmp(s->obs[i].key, "ccp.mppe_required"))
			continue; /* the link went on without encryption: nobody required it */
		add_obs_fact(f, &s->obs[i], &ev);
	}
}

size_t explain_diagnose(struct sess_table *t, const struct vsess *s, const struct ruleset *rs,
                        struct facts *f, struct rule_match *out, size_t max)
{
	if (!rs || !max)
		return 0;
	explain_facts(t, s, f);
	struct rule_match m[32];
	size_t n = rules_match(rs, f, m, 32);
	bool failed = explain_failed_phase(s) != PH_COUNT;
	size_t k = 0;
	/* errors first, then warnings, each in the matcher's order */
	for (int want = 2; want >= 1; want--)
		for (size_t i = 0; i < n && k < max; i++) {
			int sev = m[i].rule->severity;
			if (sev == want && (failed || sev == 1))
				out[k++] = m[i];
		}
	if (failed && !k)
		for (size_t i = 0; i < n && k < max; i++)
			out[k++] = m[i];
	return k;
}

int explain_error(const struct vsess *s, const struct rule_match *m, size_t n)
{
	if (explain_failed_phase(s) == PH_COUNT)
		return 0;
	const struct obs *e = sess_obs_get(s, "mschap.error");
	if (e)
		return (int)e->i;
	for (size_t i = 0; i < n; i++)
		if (m[i].rule->severity == 2 && m[i].rule->nerrors)
			return m[i].rule->errors[0];
	for (size_t i = 0; i < n; i++)
		if (m[i].rule->nerrors)
			return m[i].rule->errors[0];
	return 0;
}

static double secs(uint64_t ns) { return (double)ns / 1e9; }

size_t explain_anomalies_jw(struct jw *w, const char *key, const struct vsess *s)
{
	size_t n = 0;
	jw_arr(w, key);
	char buf[160];
	for (int ph = 0; ph < PH_COUNT; ph++) {
		const struct phase *x = &s->ph[ph];
		if (!x->state)
			continue;
		if (x->retrans && ph != PH_ESTABLISHED) {
			snprintf(buf, sizeof buf, "%s: %u retransmission%s", phase_title((enum phase_id)ph),
			         x->retrans, x->retrans == 1 ? "" : "s");
			jw_str(w, NULL, buf);
			n++;
		}
		if (ph != PH_ESTABLISHED && ph != PH_TEARDOWN && ph != PH_ACCOUNTING &&
		    x->end_ns - x->start_ns > SLOW_PHASE_NS) {
			snprintf(buf, sizeof buf, "%s took %.3f s", phase_title((enum phase_id)ph),
			         secs(x->end_ns - x->start_ns));
			jw_str(w, NULL, buf);
			n++;
		}
	}
	if (s->ph[PH_LCP].state == PS_OK && s->ppp.echo_unanswered) {
		snprintf(buf, sizeof buf, "the last %u LCP Echo-Request%s went unanswered",
		         s->ppp.echo_unanswered, s->ppp.echo_unanswered == 1 ? "" : "s");
		jw_str(w, NULL, buf);
		n++;
	}
	for (int d = 0; d < 2; d++)
		if (s->proto == SP_L2TP && s->hello_pending[d]) {
			snprintf(buf, sizeof buf, "the %s's Hello in frame %llu was never acknowledged",
			         d ? "server" : "client", (unsigned long long)s->hello_pending[d]);
			jw_str(w, NULL, buf);
			n++;
		}
	const struct obs *o = sess_obs_get(s, "mtu.exceeds_path");
	if (o && o->i) {
		snprintf(buf, sizeof buf, "inner packets of up to %zu bytes do not fit a %d-byte path "
		         "with the tunnel's overhead", s->ppp.inner_max, PATH_MTU);
		jw_str(w, NULL, buf);
		n++;
	}
	jw_end(w);
	return n;
}

json_t *explain_anomalies(const struct vsess *s)
{
	struct jw w;
	jw_init(&w, JW_TREE, NULL);
	explain_anomalies_jw(&w, NULL, s);
	json_t *a = jw_take(&w);
	jw_free(&w);
	return a ? a : json_array();
}

static void phase_jw(struct jw *w, const struct vsess *s, enum phase_id ph, uint64_t t0)
{
	const struct phase *x = &s->ph[ph];
	static const char *const st[] = {"none", "incomplete", "ok", "failed"};
	jw_obj(w, NULL);
	jw_str(w, "phase", phase_name(ph));
	jw_str(w, "title", phase_title(ph));
	jw_str(w, "outcome", st[x->state & 3]);
	jw_int(w, "start_us", (long long)((x->start_ns - t0) / 1000));
	jw_int(w, "duration_us", (long long)((x->end_ns - x->start_ns) / 1000));
	jw_int(w, "first_frame", (long long)x->start_frame);
	jw_int(w, "last_frame", (long long)x->end_frame);
	jw_int(w, "packets", x->pkts);
	jw_int(w, "retransmissions", x->retrans);
	jw_arr(w, "frames");
	for (uint8_t i = 0; i < x->nev; i++)
		jw_int(w, NULL, (long long)x->ev[i]);
	jw_end(w);
	if (x->note)
		jw_str(w, "note", x->note);
	jw_end(w);
}

static void endpoint_jw(struct jw *w, const char *key, const struct vsess *s, bool client)
{
	char a[64];
	net_addr_str(s->ipver, client ? s->cli : s->srv, a, sizeof a);
	jw_str(w, key, a);
}

size_t explain_session_jw(struct jw *w, struct sess_table *t, const struct vsess *s,
                          const struct rule_match *m, size_t n)
{
	uint64_t t0 = sess_first_ns(t);
	jw_int(w, "id", s->id);
	jw_str(w, "protocol", sess_proto_name(s));
	endpoint_jw(w, "client", s, true);
	endpoint_jw(w, "server", s, false);
	if (s->cport || s->sport) {
		jw_int(w, "client_port", s->cport);
		jw_int(w, "server_port", s->sport);
	}
	jw_str(w, "roles", s->roles_known ? "seen" : "guessed");
	jw_str(w, "user", s->user[0] ? s->user : NULL);
	if (s->parent)
		jw_int(w, "parent", s->parent);
	enum phase_id fp = explain_failed_phase(s);
	jw_str(w, "outcome", fp != PH_COUNT ? "failed" : s->v2_auth_open ? "undetermined" : "success");
	jw_str(w, "failed_phase", fp == PH_COUNT ? NULL : phase_name(fp));
	int err = explain_error(s, m, n);
	if (err) jw_int(w, "error", err);
	else jw_null(w, "error");
	jw_int(w, "start_us", (long long)((s->first_ns - t0) / 1000));
	jw_int(w, "duration_us", (long long)((s->last_ns - s->first_ns) / 1000));
	jw_int(w, "first_frame", (long long)s->first_frame);
	jw_int(w, "last_frame", (long long)s->last_frame);
	if (s->proto == SP_L2TP) {
		jw_obj(w, "l2tp");
		jw_int(w, "client_tunnel", s->tid_c);
		jw_int(w, "server_tunnel", s->tid_s);
		jw_int(w, "client_session", s->sid_c);
		jw_int(w, "server_session", s->sid_s);
		jw_int(w, "calls", s->calls);
		jw_end(w);
	} else if (s->proto == SP_PPTP) {
		jw_obj(w, "pptp");
		jw_int(w, "client_call", s->call_c);
		jw_int(w, "server_call", s->call_s);
		jw_int(w, "gre_from_client", s->gre_pkts[0]);
		jw_int(w, "gre_from_server", s->gre_pkts[1]);
		if (s->ctrl)
			jw_int(w, "connection", s->ctrl);
		jw_end(w);
	} else if (is_ike(s)) {
		char hex[40];
		jw_obj(w, "ike");
		hex_str(s->ispi, 8, hex);
		jw_str(w, "initiator_spi", hex);
		hex_str(s->rspi, 8, hex);
		jw_str(w, "responder_spi", hex);
		if (s->esp_pkts) {
			jw_int(w, "esp_packets", s->esp_pkts);
			snprintf(hex, sizeof hex, "%08x", s->esp_spi[0]);
			jw_str(w, "esp_spi_out", hex);
			snprintf(hex, sizeof hex, "%08x", s->esp_spi[1]);
			jw_str(w, "esp_spi_in", hex);
		}
		if (s->esp_decrypted || s->esp_failed) {
			jw_int(w, "esp_decrypted", s->esp_decrypted);
			jw_int(w, "esp_failed", s->esp_failed);
		}
		if (s->natd_seen) {
			jw_obj(w, "nat_detection");
			jw_bool(w, "client_translated", s->nat_cli);
			jw_bool(w, "server_translated", s->nat_srv);
			jw_end(w);
		}
		jw_end(w);
	} else {
		jw_obj(w, "radius");
		jw_int(w, "identifier", s->rad_id);
		jw_int(w, "retransmissions", s->rad_retrans);
		jw_end(w);
	}
	jw_arr(w, "phases");
	for (int ph = 0; ph < PH_COUNT; ph++)
		if (s->ph[ph].state)
			phase_jw(w, s, (enum phase_id)ph, t0);
	jw_end(w);
	jw_arr(w, "facts");
	for (uint16_t i = 0; i < s->nobs; i++) {
		const struct obs *o = &s->obs[i];
		jw_obj(w, NULL);
		jw_str(w, "key", o->key);
		switch (o->type) {
		case OBS_INT: jw_int(w, "value", o->i); break;
		case OBS_BOOL: jw_bool(w, "value", o->i); break;
		default: jw_str(w, "value", o->s); break;
		}
		jw_int(w, "frame", (long long)o->frame);
		jw_end(w);
	}
	jw_end(w);
	return explain_anomalies_jw(w, "anomalies", s);
}

json_t *explain_session_json(struct sess_table *t, const struct vsess *s,
                             const struct rule_match *m, size_t n)
{
	struct jw w;
	jw_init(&w, JW_TREE, NULL);
	jw_obj(&w, NULL);
	explain_session_jw(&w, t, s, m, n);
	jw_end(&w);
	json_t *j = jw_take(&w);
	jw_free(&w);
	return j ? j : json_object();
}
