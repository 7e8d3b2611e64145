/* EAP-MSCHAPv2 on the authenticator's side (eap_mschapv2.h). */
#include "eap/eap_mschapv2.h"

#include <openssl/crypto.h>
#include <string.h>

#include "mschap.h"
#include "ppp.h"
#include "ppp/ppp_auth.h"

size_t eap_packet_build(uint8_t *out, size_t cap, uint8_t code, uint8_t id, uint8_t type,
                        const uint8_t *body, size_t n)
{
	bool typed = code == EAP_REQUEST || code == EAP_RESPONSE;
	size_t len = typed ? 5 + n : 4;
	if (len > cap || len > 0xffff)
		return 0;
	out[0] = code;
	out[1] = id;
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	if (typed) {
		out[4] = type;
		if (n)
			memcpy(out + 5, body, n);
	}
	return len;
}

size_t eap_mschapv2_request(uint8_t *out, size_t cap, uint8_t eap_id, uint8_t opcode,
                            uint8_t ms_id, const uint8_t *data, size_t n)
{
	/* the MS-CHAPv2 header goes straight into place after the EAP header */
	if (cap < 9 || n > cap - 9 || n + 4 > 0xffff - 5)
		return 0;
	memmove(out + 9, data, n);
	out[5] = opcode;
	out[6] = ms_id;
	out[7] = (uint8_t)((n + 4) >> 8); /* MS-Length: the EAP length less 5 */
	out[8] = (uint8_t)(n + 4);
	out[0] = EAP_REQUEST;
	out[1] = eap_id;
	out[2] = (uint8_t)((n + 9) >> 8);
	out[3] = (uint8_t)(n + 9);
	out[4] = EAP_TYPE_MSCHAPV2;
	return n + 9;
}

size_t eap_mschapv2_challenge(uint8_t *out, size_t cap, uint8_t eap_id, uint8_t ms_id,
                              const uint8_t challenge[16], const char *name)
{
	uint8_t b[1 + 16 + EAP_MS_NAME_MAX];
	size_t nl = name ? strlen(name) : 0;
	if (nl > EAP_MS_NAME_MAX)
		nl = EAP_MS_NAME_MAX;
	b[0] = 16;
	memcpy(b + 1, challenge, 16);
	if (nl)
		memcpy(b + 17, name, nl);
	return eap_mschapv2_request(out, cap, eap_id, EAP_MS_CHALLENGE, ms_id, b, 17 + nl);
}

int eap_mschapv2_response_parse(const uint8_t *d, size_t n, uint8_t ms_id,
                                struct eap_mschapv2_response *r)
{
	/* OpCode 2, MS-CHAPv2-ID, MS-Length, Value-Size 49, Peer-Challenge 16, Reserved 8,
	 * NT-Response 24, Flags 1, Name */
	if (n < 4 + 1 + 49 || d[0] != EAP_MS_RESPONSE || d[1] != ms_id || d[4] != 49)
		return -1;
	r->peer_challenge = d + 5;
	r->nt_response = d + 5 + 24;
	r->name = d + 4 + 1 + 49;
	r->name_len = n - (4 + 1 + 49); /* to the end of the EAP packet, as peers fill it */
	return 0;
}

int eap_mschapv2_verify(const char *password, size_t pw_len, const char *name,
                        const uint8_t auth_challenge[16], const uint8_t peer_challenge[16],
                        const uint8_t nt_response[24], struct eap_mschapv2_keys *out)
{
	const char *hu = ppp_auth_strip_domain(name);
	uint8_t want[24], hash[16], hh[16], mk[16], recv[16], sendk[16];
	int rc = -1;
	if (mschap2_nt_response(auth_challenge, peer_challenge, hu, strlen(hu), password, pw_len,
	                        want) != 0)
		goto out;
	if (CRYPTO_memcmp(want, nt_response, 24) != 0) {
		rc = 0;
		goto out;
	}
	if (mschap2_authenticator_response(password, pw_len, nt_response, peer_challenge,
	                                   auth_challenge, hu, strlen(hu), out->auth_response) != 0 ||
	    mschap_nt_password_hash(password, pw_len, hash) != 0 ||
	    mschap_hash_nt_password_hash(hash, hh) != 0 ||
	    mppe_master_key(hh, nt_response, mk) != 0 ||
	    mppe_asymmetric_start_key(mk, recv, 16, false, true) != 0 ||
	    mppe_asymmetric_start_key(mk, sendk, 16, true, true) != 0)
		goto out;
	memset(out->msk, 0, sizeof out->msk);
	memcpy(out->msk, recv, 16);
	memcpy(out->msk + 16, sendk, 16);
	rc = 1;
out:
	OPENSSL_cleanse(want, sizeof want);
	OPENSSL_cleanse(hash, sizeof hash);
	OPENSSL_cleanse(hh, sizeof hh);
	OPENSSL_cleanse(mk, sizeof mk);
	OPENSSL_cleanse(recv, sizeof recv);
	OPENSSL_cleanse(sendk, sizeof sendk);
	return rc;
}
