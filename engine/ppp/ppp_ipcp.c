/* IPCP option policy (RFC 1332, RFC 1877 for DNS and NBNS).
 *
 * Server: offers its own address; assigns the peer's from the allocator callback, Naking
 * 0.0.0.0 or any other address with the one assigned, and Naking a request without the
 * option with it too (RFC 1332 section 3.3: the server needs the peer to take one);
 * Naks DNS/WINS requests with the configured servers and rejects them when none is
 * configured; rejects VJ compression and the old IP-Addresses option. No address left
 * in the pool fails IPCP, and so does a peer that will not take the address assigned:
 * once Max-Failure Naks went unheeded, a request without the address cannot be Nak'ed
 * again, and IPCP fails (735, as Windows reports a refused address) rather than come up
 * with an address the peer never accepted.
 * Client: asks for an address (0.0.0.0 or a configured one) and DNS, takes what the
 * server Naks, drops what it rejects, and accepts the server's own address. */
#include <stdio.h>
#include <string.h>

#include "ppp/ppp_session.h"

#define WINERR_ADDRESS_REJECTED 735 /* ERROR_PPP_REQUIRED_ADDRESS_REJECTED */

static struct ppp_session *owner(struct ppp_fsm *f) { return f->owner; }

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void ppp_ip_str(uint32_t a, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* The index of a DNS/NBNS option in dns[]/wins[], and which array. */
static bool name_server(uint8_t type, bool *wins, int *idx)
{
	switch (type) {
	case IPCP_OPT_DNS1: *wins = false; *idx = 0; return true;
	case IPCP_OPT_DNS2: *wins = false; *idx = 1; return true;
	case IPCP_OPT_NBNS1: *wins = true; *idx = 0; return true;
	case IPCP_OPT_NBNS2: *wins = true; *idx = 1; return true;
	default: return false;
	}
}

static void ipcp_build_req(struct ppp_fsm *f, struct ppp_fsm_out *o)
{
	struct ppp_session *s = owner(f);
	struct ppp_ipcp *ip = &s->ipcp;
	if (s->conf->is_server) {
		if (!ip->rej_addr) ppp_out_opt_u32(o, IPCP_OPT_ADDR, s->conf->local_addr);
		return;
	}
	if (!ip->rej_addr) ppp_out_opt_u32(o, IPCP_OPT_ADDR, ip->my_addr);
	if (s->conf->want_dns) {
		if (!ip->rej_dns[0]) ppp_out_opt_u32(o, IPCP_OPT_DNS1, ip->dns[0]);
		if (!ip->rej_dns[1]) ppp_out_opt_u32(o, IPCP_OPT_DNS2, ip->dns[1]);
	}
	if (s->conf->want_wins) {
		if (!ip->rej_wins[0]) ppp_out_opt_u32(o, IPCP_OPT_NBNS1, ip->wins[0]);
		if (!ip->rej_wins[1]) ppp_out_opt_u32(o, IPCP_OPT_NBNS2, ip->wins[1]);
	}
}

static int ipcp_check_req(struct ppp_fsm *f, const struct ppp_cp *req, bool nak_ok,
                          struct ppp_fsm_out *o)
{
	struct ppp_session *s = owner(f);
	struct ppp_ipcp *ip = &s->ipcp;
	const struct ppp_session_conf *c = s->conf;
	bool reject = false;
	for (size_t i = 0; i < req->nopts; i++) {
		const struct ppp_opt *op = &req->opts[i];
		bool w;
		int k;
		bool rej;
		if (op->type == IPCP_OPT_ADDR) rej = op->dlen != 4;
		else if (name_server(op->type, &w, &k))
			rej = op->dlen != 4 || !c->is_server || (w ? c->wins[k] : c->dns[k]) == 0;
		else rej = true; /* VJ compression, IP-Addresses, anything else */
		if (rej) {
			ppp_out_opt_copy(o, op);
			reject = true;
		}
	}
	if (reject) return PPP_CONF_REJ;

	uint32_t peer = 0;
	bool has_addr = false;
	for (size_t i = 0; i < req->nopts; i++) {
		const struct ppp_opt *op = &req->opts[i];
		uint32_t v = get_u32(op->data);
		bool w;
		int k;
		if (op->type == IPCP_OPT_ADDR) {
			has_addr = true;
			peer = v;
			if (!c->is_server) {
				if (v == 0) {
					/* the server must tell us its address; we have none to suggest */
					ppp_out_opt_copy(o, op);
					return PPP_CONF_REJ;
				}
				continue;
			}
			if (!ip->allocated) {
				uint32_t a = s->cbs->addr_alloc ? s->cbs->addr_alloc(s->cbs->ctx, v) : 0;
				if (a == 0) {
					snprintf(f->why, sizeof f->why,
					         "IPCP: no IP address is available to allocate to the client");
					ppp_session_log(s, PPP_LOG_NCP_FAIL, "ipcp no address available");
					return -1;
				}
				ip->peer_addr = a;
				ip->allocated = true;
			}
			if (v != ip->peer_addr) {
				char want[16], got[16];
				ppp_ip_str(v, want, sizeof want);
				ppp_ip_str(ip->peer_addr, got, sizeof got);
				if (v != 0)
					ppp_session_log(s, PPP_LOG_INFO, "ipcp peer asked for %s, assigning %s",
					                want, got);
				ppp_out_opt_u32(o, IPCP_OPT_ADDR, ip->peer_addr);
			}
		} else if (name_server(op->type, &w, &k)) {
			uint32_t want = w ? c->wins[k] : c->dns[k];
			if (v != want) ppp_out_opt_u32(o, op->type, want);
		}
	}
	if (c->is_server && !has_addr && !nak_ok) {
		/* the peer left out the address (or dropped it once it was rejected) after
		 * Max-Failure Naks: no Nak may carry the address any more, and an Ack would
		 * call the link up with an address the peer never took */
		char a[16] = "none";
		if (ip->allocated) ppp_ip_str(ip->peer_addr, a, sizeof a);
		snprintf(f->why, sizeof f->why,
		         "IPCP: the client does not take the address the server assigns (%s)", a);
		if (!s->win_error) s->win_error = WINERR_ADDRESS_REJECTED;
		return -1;
	}
	if (c->is_server && !has_addr) {
		/* the client did not ask for an address: Nak with the one it gets (RFC 1332
		 * section 3.3) */
		if (!ip->allocated) {
			uint32_t a = s->cbs->addr_alloc ? s->cbs->addr_alloc(s->cbs->ctx, 0) : 0;
			if (a == 0) {
				snprintf(f->why, sizeof f->why,
				         "IPCP: no IP address is available to allocate to the client");
				return -1;
			}
			ip->peer_addr = a;
			ip->allocated = true;
		}
		ppp_out_opt_u32(o, IPCP_OPT_ADDR, ip->peer_addr);
	}
	if (o->cp->nopts) {
		if (!nak_ok) {
			struct ppp_cp *cp = o->cp;
			size_t n = cp->nopts;
			cp->nopts = 0;
			o->used = 0;
			for (size_t i = 0; i < req->nopts; i++)
				for (size_t j = 0; j < n; j++)
					if (req->opts[i].type == cp->opts[j].type) {
						ppp_out_opt_copy(o, &req->opts[i]);
						break;
					}
			return o->cp->nopts ? PPP_CONF_REJ : PPP_CONF_ACK;
		}
		return PPP_CONF_NAK;
	}
	if (!c->is_server) ip->peer_addr = peer;
	return PPP_CONF_ACK;
}

static void ipcp_recv_ack(struct ppp_fsm *f, const struct ppp_cp *cp) { (void)f; (void)cp; }

static int ipcp_recv_nak(struct ppp_fsm *f, const struct ppp_cp *cp)
{
	struct ppp_session *s = owner(f);
	struct ppp_ipcp *ip = &s->ipcp;
	for (size_t i = 0; i < cp->nopts; i++) {
		const struct ppp_opt *op = &cp->opts[i];
		if (op->dlen != 4) continue;
		uint32_t v = get_u32(op->data);
		bool w;
		int k;
		if (op->type == IPCP_OPT_ADDR && !s->conf->is_server) ip->my_addr = v;
		else if (name_server(op->type, &w, &k) && !s->conf->is_server) {
			if (w) ip->wins[k] = v;
			else ip->dns[k] = v;
		}
	}
	return 0;
}

static int ipcp_recv_rej(struct ppp_fsm *f, const struct ppp_cp *cp)
{
	struct ppp_session *s = owner(f);
	struct ppp_ipcp *ip = &s->ipcp;
	for (size_t i = 0; i < cp->nopts; i++) {
		bool w;
		int k;
		if (cp->opts[i].type == IPCP_OPT_ADDR) ip->rej_addr = true;
		else if (name_server(cp->opts[i].type, &w, &k)) {
			if (w) ip->rej_wins[k] = true;
			else ip->rej_dns[k] = true;
		}
	}
	return 0;
}

static void ipcp_up(struct ppp_fsm *f, uint64_t now)
{
	struct ppp_session *s = owner(f);
	char a[16];
	s->ipcp_up = true;
	s->was_up = true;
	if (s->conf->is_server) {
		ppp_ip_str(s->ipcp.peer_addr, a, sizeof a);
	} else {
		ppp_ip_str(s->ipcp.my_addr, a, sizeof a);
	}
	ppp_session_log(s, PPP_LOG_NCP_UP, "ipcp address %s", a);
	ppp_session_ncp_up(s, now);
}

static void ipcp_down(struct ppp_fsm *f, uint64_t now)
{
	(void)now;
	owner(f)->ipcp_up = false;
}

static void ipcp_finished(struct ppp_fsm *f, uint64_t now)
{
	struct ppp_session *s = owner(f);
	if (s->ipcp.allocated && s->cbs->addr_free) s->cbs->addr_free(s->cbs->ctx, s->ipcp.peer_addr);
	s->ipcp.allocated = false;
	ppp_session_ncp_finished(s, f, now);
}

static void ipcp_send(struct ppp_fsm *f, struct ppp_msg *m) { ppp_session_send_msg(owner(f), m); }

static void ipcp_trace(struct ppp_fsm *f, const char *line)
{
	ppp_session_log(owner(f), PPP_LOG_TRACE, "%s", line);
}

const struct ppp_fsm_ops ppp_ipcp_ops = {
	.name = "IPCP",
	.proto = PPP_PROTO_IPCP,
	.build_req = ipcp_build_req,
	.check_req = ipcp_check_req,
	.recv_ack = ipcp_recv_ack,
	.recv_nak = ipcp_recv_nak,
	.recv_rej = ipcp_recv_rej,
	.other_code = NULL,
	.up = ipcp_up,
	.down = ipcp_down,
	.started = NULL,
	.finished = ipcp_finished,
	.send = ipcp_send,
	.trace = ipcp_trace,
	.tracing = ppp_session_fsm_tracing,
};
