/* An MS-CHAPv2 exchange for the RADIUS tests, computed by libdiag's mschap:
 *   mschap_vector USER PASSWORD
 * prints, one per line, as KEY=HEX (what radclient's input and output use):
 *   challenge    the authenticator challenge (MS-CHAP-Challenge, 16 bytes)
 *   response     MS-CHAP2-Response (ident 1, flags 0, peer challenge, 8 zero, NT-Response)
 *   success      the "S=..." authenticator response the server must send
 *   send_key     MS-MPPE-Send-Key of the server (the RFC 3079 master send key)
 *   recv_key     MS-MPPE-Recv-Key of the server
 * The challenges are fixed: the test compares the server's answers with these values. */
#include <stdio.h>
#include <string.h>

#include "mschap.h"

static void hex(const char *key, const unsigned char *p, size_t n)
{
	printf("%s=", key);
	for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mschap_vector USER PASSWORD\n");
		return 2;
	}
	const char *user = argv[1], *pw = argv[2];
	unsigned char ch[16], peer[16], resp[50], send[16], recv[16];
	for (int i = 0; i < 16; i++) {
		ch[i] = (unsigned char)(0x10 + i);
		peer[i] = (unsigned char)(0xa0 + i);
	}
	memset(resp, 0, sizeof resp);
	resp[0] = 1;
	memcpy(resp + 2, peer, 16);
	if (mschap2_nt_response(ch, peer, user, strlen(user), pw, strlen(pw), resp + 26) != 0)
		return 1;
	char s[43];
	if (mschap2_authenticator_response(pw, strlen(pw), resp + 26, peer, ch, user, strlen(user),
	                                   s) != 0 ||
	    mppe_chapv2_keys(pw, strlen(pw), resp + 26, 16, true, send, recv) != 0)
		return 1;
	hex("challenge", ch, 16);
	hex("response", resp, 50);
	printf("success=%s\n", s);
	hex("send_key", send, 16);
	hex("recv_key", recv, 16);
	return 0;
}
