# serve-ikev2-wrongpw: charon tries IKEv2 as alice with a password that is not hers; the
# server's EAP-MSCHAPv2 Failure ends the attempt: no SA, no virtual address.
SCEN=serve-ikev2-wrongpw
. /scenario/lib.sh
st=1
if ! ikev2_up alice 'Wrong-Passw0rd'; then
    grep -Eq 'EAP_FAILURE|EAP-MS-CHAPv2 failed|EAP method EAP_MSCHAPV2 failed' /tmp/initiate.log /tmp/charon.log && st=0
fi
ikev2_down
exit $st
