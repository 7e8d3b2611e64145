# serve-ikev2-denied: charon tries IKEv2 as bob with his right password; bob's dial-in
# permission is denied, so the server's EAP-MSCHAPv2 Failure ends the attempt.
SCEN=serve-ikev2-denied
. /scenario/lib.sh
st=1
if ! ikev2_up bob 'Passw0rd!'; then
    grep -Eq 'EAP_FAILURE|EAP-MS-CHAPv2 failed|EAP method EAP_MSCHAPV2 failed' /tmp/initiate.log /tmp/charon.log && st=0
fi
ikev2_down
exit $st
