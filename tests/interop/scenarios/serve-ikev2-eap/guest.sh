# serve-ikev2-eap: charon brings up IKEv2 as alice with her password (EAP-MSCHAPv2),
# trusting the corporate CA of the server's certificate, gets a virtual address from
# vnet serve's pool, pings the server's inner address 192.168.10.1 three times through
# the tunnel and deletes the SA.
SCEN=serve-ikev2-eap
. /scenario/lib.sh
st=1
if ikev2_up alice 'Passw0rd!'; then
    ikev2_ping 192.168.10.1 3 && st=0
    # the host reads `vnet show sa` once it sees the ping's line
    sleep 1
fi
ikev2_down
exit $st
