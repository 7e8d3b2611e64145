/* EAP-MSCHAPv2 on the authenticator's side, shared by the IKEv2 responder (EAP inside
 * IKE_AUTH, ike/ikev2.h) and the NPS-compatible RADIUS server (EAP over RADIUS, RFC 3579,
 * radius/nps.h): the EAP packets the server sends, the peer's MS-CHAPv2 Response read
 * from its EAP-Response, and the check of that Response against the account's password
 * with what a match yields (the authenticator response and the MSK).
 *
 * EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2) carries the RFC 2759 packets after the
 * EAP type octet 26: OpCode, MS-CHAPv2-ID, MS-Length (the EAP length less 5), data. The
 * peer acknowledges a Success or Failure request with the bare OpCode.
 *
 * The MSK (as Windows, strongSwan and wpa_supplicant derive it) is MasterReceiveKey |
 * MasterSendKey | 32 zero octets, the keys of RFC 3079 section 3 from the server's view:
 * a RADIUS server hands its first half as MS-MPPE-Recv-Key and its second as
 * MS-MPPE-Send-Key. */
#ifndef VNET_EAP_MSCHAPV2_H
#define VNET_EAP_MSCHAPV2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { EAP_MS_CHALLENGE = 1, EAP_MS_RESPONSE = 2, EAP_MS_SUCCESS = 3, EAP_MS_FAILURE = 4 };

#define EAP_MS_MSK_LEN 64
#define EAP_MS_NAME_MAX 64      /* the server's name in a Challenge */

/* An EAP packet: Code, Identifier, Length and, for a Request or Response, the Type and
 * `n` bytes of type data. Its length, 0 when it does not fit in cap. */
size_t eap_packet_build(uint8_t *out, size_t cap, uint8_t code, uint8_t id, uint8_t type,
                        const uint8_t *body, size_t n);

/* An EAP-Request/MS-CHAPv2 with `opcode`, `ms_id` and `n` bytes of data (the Challenge's
 * value and name, the Success or Failure text). 0 when it does not fit. */
size_t eap_mschapv2_request(uint8_t *out, size_t cap, uint8_t eap_id, uint8_t opcode,
                            uint8_t ms_id, const uint8_t *data, size_t n);

/* The Challenge request: Value-Size 16, the authenticator challenge, the server's name
 * (cut at EAP_MS_NAME_MAX). 0 when it does not fit. */
size_t eap_mschapv2_challenge(uint8_t *out, size_t cap, uint8_t eap_id, uint8_t ms_id,
                              const uint8_t challenge[16], const char *name);

/* The peer's Response, pointers into the packet. */
struct eap_mschapv2_response {
	const uint8_t *peer_challenge;  /* 16 */
	const uint8_t *nt_response;     /* 24 */
	const uint8_t *name;            /* the user name the peer hashed, not NUL-terminated */
	size_t name_len;
};

/* The type data of an EAP-Response/MS-CHAPv2 (the bytes after the type octet) as the
 * Response to the Challenge with `ms_id`: OpCode 2, that MS-CHAPv2-ID, Value-Size 49, the
 * Name to the end of the packet. 0, or -1 when it is anything else. */
int eap_mschapv2_response_parse(const uint8_t *d, size_t n, uint8_t ms_id,
                                struct eap_mschapv2_response *r);

/* What a Response that matches the password yields. */
struct eap_mschapv2_keys {
	char auth_response[43];         /* "S=<40 hex>", NUL-terminated */
	uint8_t msk[EAP_MS_MSK_LEN];
};

/* The Response against the password (UTF-8) of the account; `name` is the user name the
 * peer hashed, its "DOMAIN\" prefix dropped here. 1 match (out filled), 0 no match, -1
 * when it cannot be checked (the password is not usable, no MD4). */
int eap_mschapv2_verify(const char *password, size_t pw_len, const char *name,
                        const uint8_t auth_challenge[16], const uint8_t peer_challenge[16],
                        const uint8_t nt_response[24], struct eap_mschapv2_keys *out);

#endif
