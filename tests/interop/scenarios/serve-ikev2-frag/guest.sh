# serve-ikev2-frag: as serve-ikev2-eap with IKE fragmentation (RFC 7383) forced in
# charon and IKE datagrams of at most 300 bytes from it, so its first IKE_AUTH request
# goes in fragments; the server sends its certificate in fragments of at most 576 bytes.
# Up as alice, three pings to the server's inner address, the SA deleted.
SCEN=serve-ikev2-frag
. /scenario/lib.sh
st=1
if ikev2_up alice 'Passw0rd!'; then
    ikev2_ping 192.168.10.1 3 && st=0
    # the host reads `vnet show sa` once it sees the ping's line
    sleep 1
fi
ikev2_down
exit $st
