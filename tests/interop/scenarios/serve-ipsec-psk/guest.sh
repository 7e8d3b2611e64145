# serve-ipsec-psk: charon sets up IKEv1 Main Mode with the right pre-shared
# key and a transport-mode SA for UDP 1701 towards vnet serve (no NAT on the
# tap network: plain ESP); xl2tpd + pppd then dial as alice inside it with
# MS-CHAPv2 and MPPE-128, get an address, ping the server three times and
# hang up.
SCEN=serve-ipsec-psk
. /scenario/lib.sh
st=1
if ipsec_up "vnet-interop-psk-51c2"; then
    ipsec_lac_start
    if ppp_wait one 50; then
        ppp_ping one 3 && st=0
    fi
    lac_stop one
    show_logs one
fi
ipsec_down
exit $st
