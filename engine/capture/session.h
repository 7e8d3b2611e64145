/* Session tracking over decoded capture packets.
 *
 * The tracker takes the layer stacks that dissect_packet produces, one frame at a time
 * and in capture order, and groups them into conversations:
 *
 *   IKE SA (IKEv1 cookies / IKEv2 SPIs, across the NAT-T move from port 500 to 4500)
 *   L2TP tunnel (the tunnel IDs each end assigned, learned from SCCRQ/SCCRP or from any
 *                control or data message when the capture starts mid-tunnel)
 *     -> L2TP call (session IDs) -> PPP link
 *   PPTP control connection (TCP 1723) -> call (call IDs) -> GRE -> PPP link
 *                (each call a session: the connection's first call shares the control
 *                connection's session, a further one gets its own with a copy of the
 *                connection's set-up; the connection's end ends them all)
 *   RADIUS request/reply (identifier and request authenticator; the user it is about)
 *
 * Each conversation keeps a timeline of phases (start, end, packets, retransmissions,
 * outcome, the frames that prove it) and a list of observations: facts in the
 * vocabulary of docs/facts.md, each with the frame it came from. engine/explain.h turns
 * them into diagnoses. The tracker is streaming and single-pass: memory grows with the
 * number of conversations, never with the number of packets.
 */
#ifndef VNET_SESSION_H
#define VNET_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dissect.h"

enum sess_proto {
	SP_IKE1, SP_IKE2, SP_L2TP, SP_PPTP, SP_RADIUS, SP_ACCT,
};

/* Phases in the order a connection goes through them. */
enum phase_id {
	PH_IKE1,        /* IKEv1 Main/Aggressive Mode */
	PH_IKE2,        /* IKEv2 IKE_SA_INIT */
	PH_IKE_AUTH,    /* IKEv2 IKE_AUTH */
	PH_IPSEC,       /* IKEv1 Quick Mode, IKEv2 CREATE_CHILD_SA */
	PH_TUNNEL,      /* L2TP SCCRQ..SCCCN, PPTP SCCRQ/SCCRP */
	PH_CALL,        /* L2TP ICRQ..ICCN, PPTP OCRQ/OCRP */
	PH_LCP,
	PH_AUTH,        /* PPP authentication, RADIUS Access-Request..reply */
	PH_NCP,         /* IPCP */
	PH_CCP,
	PH_ACCOUNTING,  /* RADIUS Accounting-Request..Response */
	PH_ESTABLISHED, /* user data (ESP, IP over PPP) */
	PH_TEARDOWN,
	PH_COUNT
};

enum phase_state { PS_NONE = 0, PS_OPEN, PS_OK, PS_FAILED };

#define PHASE_MAX_EV 4

struct phase {
	uint8_t state;
	uint32_t pkts, retrans;
	uint64_t start_frame, end_frame;
	uint64_t start_ns, end_ns;
	uint8_t nev;
	uint64_t ev[PHASE_MAX_EV]; /* frames that prove the phase, first ones */
	char *note;                /* what decided the outcome (heap, NULL: none) */
};

enum obs_type { OBS_STR, OBS_INT, OBS_BOOL };

/* An observation: one fact of docs/facts.md with the frame it came from. Keys are
 * static strings. */
struct obs {
	const char *key;
	uint8_t type;
	int64_t i;
	char s[160];              /* a text value: as long as a decoder's reason (struct diag_err) */
	uint64_t frame;
};

/* PPP link state (one per L2TP call / PPTP call). */
struct ppp_link {
	bool seen;
	uint8_t lcp_req_dir_mask;  /* directions that sent LCP Configure-Request (bit 0: from
	                              the client, bit 1: from the server) */
	uint8_t lcp_ack_mask;      /* directions that sent Configure-Ack */
	uint8_t ncp_ack_mask;
	uint8_t ccp_ack_mask;
	uint16_t auth_proto;       /* from the server's acked LCP auth option */
	uint8_t chap_alg;
	uint8_t auth_offers;       /* auth options the server offered */
	uint8_t auth_refused;      /* of those, rejected/naked by the client */
	bool auth_done;
	bool ipcp_req_nonzero;     /* the client's last IPCP request named an address */
	bool ipcp_nonzero_nak;     /* the server Naked an address the client asked for */
	uint32_t lcp_confreq_pkts[2];
	uint32_t echo_req, echo_unanswered;
	size_t inner_max;          /* largest IP packet carried */
	uint64_t inner_max_frame;  /* the frame that carried it first */
	uint16_t mss_max;          /* largest TCP MSS option seen in SYNs inside */
	uint64_t mss_frame;        /* the first SYN with that MSS */
	bool mss_seen;
	uint8_t clear_ip_dirs;     /* directions that sent IP outside MPPE (bit 0 client) */
	bool unencrypted;          /* CCP was refused, yet the link carried IP both ways */
};

struct ikev2_reasm;

struct vsess {
	uint32_t id;               /* 1-based, in order of first packet */
	enum sess_proto proto;
	uint32_t parent;           /* enclosing session id (0: none) */
	bool in_ipsec;             /* L2TP/PPP seen inside ESP (decrypted) */
	uint8_t ipver;
	uint8_t cli[16], srv[16];
	uint16_t cport, sport;
	bool roles_known;          /* client/server decided by a request, not guessed */
	char user[64];
	uint64_t first_frame, last_frame, first_ns, last_ns;
	struct phase ph[PH_COUNT];
	struct obs *obs;
	uint16_t nobs, obs_cap;
	bool obs_full;

	/* IKE */
	uint8_t ispi[8], rspi[8];
	uint8_t auth_method;       /* IKEv1 SA auth attribute from the responder's choice */
	uint8_t ike_hash;          /* IKEv1 hash algorithm */
	uint8_t ike_enc;           /* IKEv1 encryption algorithm */
	uint16_t ke_groups[8];     /* IKEv1 DH groups a KE may be for: the responder's choice,
	                              else the groups the initiator proposed */
	uint8_t nke_groups;
	bool ke_group_chosen;      /* ke_groups holds the responder's choice */
	bool ke_mismatch;          /* a KE payload whose length fits no group was seen */
	uint16_t req_port;         /* server port of the initiator's last request */
	uint16_t first_req_port;   /* and of its first (500, then 4500 after NAT-T) */
	bool answer_after_mm5;     /* IKEv1: the server sent something after Main Mode 5 */
	bool natt_answered;        /* the server answered IKE from UDP 4500 */
	struct ike1_crypt *crypt;  /* IKEv1 decryption state (with --keys) */
	uint16_t first_cport;      /* client's source port of the first message */
	uint64_t last_hash[2];     /* last message bytes per direction (0 client, 1 server) */
	uint32_t same_count[2];    /* repeats of that message */
	uint64_t last_frame_dir[2];
	uint8_t mm_enc[2];         /* encrypted Main Mode messages per direction */
	uint8_t mm_clear[2];
	uint8_t qm[2];
	uint8_t v2_auth_resp_len;  /* encrypted bytes of the IKE_AUTH response, capped */
	bool v2_auth_short;        /* the last IKE_AUTH answer is too short for IDr + AUTH */
	bool v2_auth_answered;
	uint64_t v2_auth_frame;
	uint8_t v2_auth_rounds;    /* IKE_AUTH answers (message IDs) from the server, capped */
	uint32_t v2_auth_msgid;    /* message ID of the last one */
	bool v2_auth_eap;          /* decrypted: the client asked for EAP (no AUTH of its own) */
	bool v2_auth_open;         /* IKE_AUTH answered, its outcome not seen (explain.c) */
	/* RFC 7383 fragments under reassembly with --keys: one message at a time for each
	 * sender (client, server) and kind (request, response); made on the first fragment */
	struct ikev2_reasm *v2frag[4];
	/* IP fragments of UDP between the IKE peers that were held for reassembly, and the
	 * datagrams among them that never completed (fragments lost on the way) */
	uint32_t frag_held, frag_lost;
	uint64_t frag_first_frame, frag_last_frame, frag_first_ns, frag_last_ns;
	bool natd_seen;
	bool nat_cli, nat_srv;     /* NAT-D: the client's / the server's address translated */
	bool ports_changed;
	uint32_t esp_spi[2];
	uint32_t esp_pkts;
	size_t esp_max;
	uint32_t esp_decrypted;    /* with ESP keys: packets of this SA decrypted */
	uint32_t esp_failed;       /* ... and not decrypted (esp.decrypt_error says why) */

	/* L2TP */
	uint16_t tid_c, tid_s;     /* tunnel ID assigned by the client / the server */
	uint16_t sid_c, sid_s;
	uint16_t calls;
	uint16_t last_seq[2];
	bool last_seq_valid[2];
	uint16_t ns_repeat[2];
	uint32_t hellos;
	uint64_t hello_pending[2]; /* frame of a Hello not yet acknowledged, per sender */
	bool acked[2];             /* a message from the other side acknowledged */
	uint16_t nr_max[2];

	/* PPTP */
	uint16_t call_c, call_s;   /* call ID chosen by the client (OCRQ) / the server */
	uint32_t ctrl;             /* a further call: the session of its control connection
	                              (which holds the connection's first call); 0: none */
	uint32_t call_next;        /* the next further call on this control connection */
	uint32_t call_last;        /* on the control connection's session: its last call */
	bool syn_seen, synack_seen;
	uint32_t syn_count;
	uint32_t gre_pkts[2];

	/* RADIUS */
	uint8_t rad_id;
	uint8_t rad_auth[16];
	uint32_t rad_retrans;
	bool rad_answered;

	struct ppp_link ppp;

	bool stop_from[2];         /* StopCCN sent by the client / the server */
	uint16_t stop_ns[2];       /* its Ns: the other side acknowledges it with an Nr above */
	bool closed;               /* the conversation ended on the wire */
	bool done;                 /* handed to the done callback */
	bool finished;             /* explain_finish_one ran */
};

struct sess_table;
struct ike_keys;
struct ike1_crypt;

/* `file` names the capture in evidence (copied). */
struct sess_table *sess_table_new(const char *file);
void sess_table_free(struct sess_table *t);
/* Called for a conversation that ended on the wire (RADIUS answered, L2TP StopCCN
 * acknowledged, PPTP control connection closed): the callback explains it and may
 * release it, so memory follows the sessions open at a time, not all of them. */
typedef void (*sess_done_fn)(void *arg, struct sess_table *t, struct vsess *s);
void sess_set_done(struct sess_table *t, sess_done_fn fn, void *arg);
/* Free a session; sess_at then gives NULL for it and its keys are forgotten. */
void sess_release(struct sess_table *t, struct vsess *s);
/* Decrypt IKE encrypted payloads and ESP with these keys (kept by the caller). -1 on
 * OOM. */
int sess_set_keys(struct sess_table *t, const struct ike_keys *k);
uint64_t sess_decrypted(const struct sess_table *t);     /* messages decrypted */
uint64_t sess_undecryptable(const struct sess_table *t); /* keys found, decryption failed */
/* ESP packets decrypted / whose SA was in the keys but that did not decrypt. What a
 * decrypted packet carries is tracked like a clear packet of the same frame, and the
 * sessions it creates are nested under the IKE SA (parent, in_ipsec). */
uint64_t sess_esp_decrypted(const struct sess_table *t);
uint64_t sess_esp_failed(const struct sess_table *t);
/* Feed one dissected frame. */
void sess_packet(struct sess_table *t, const struct dl_pkt *p);
/* A datagram whose fragments never completed (dissect's report). */
void sess_frag_incomplete(struct sess_table *t, uint8_t ipver, const uint8_t *src,
                          const uint8_t *dst, uint8_t proto, uint64_t first_frame);
/* Capture time of the last frame seen (nanoseconds since the epoch). */
uint64_t sess_last_ns(const struct sess_table *t);
uint64_t sess_first_ns(const struct sess_table *t);
uint64_t sess_packets(const struct sess_table *t); /* frames fed */
const char *sess_file(const struct sess_table *t);

size_t sess_count(const struct sess_table *t);
struct vsess *sess_at(struct sess_table *t, size_t i); /* NULL: released */
struct vsess *sess_find_id(struct sess_table *t, uint32_t id);

/* Observations (the first value of each key wins for scalars unless `replace`). */
void sess_obs_int(struct vsess *s, const char *key, int64_t v, uint64_t frame);
void sess_obs_bool(struct vsess *s, const char *key, bool v, uint64_t frame);
void sess_obs_str(struct vsess *s, const char *key, const char *v, uint64_t frame);
const struct obs *sess_obs_get(const struct vsess *s, const char *key);

/* Phase bookkeeping. */
/* Set the phase's note (copied). */
void phase_note(struct phase *x, const char *text);
void phase_touch(struct vsess *s, enum phase_id ph, const struct dl_pkt *p, bool retrans);
void phase_end(struct vsess *s, enum phase_id ph, enum phase_state st, const struct dl_pkt *p,
               const char *note);

const char *phase_name(enum phase_id ph);   /* "ike1", "lcp", ... (docs/facts.md) */
const char *phase_title(enum phase_id ph);  /* "IKE phase 1", ... */
const char *sess_proto_name(const struct vsess *s); /* "l2tp-ipsec", "pptp", ... */

#endif
