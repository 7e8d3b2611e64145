# serve-ipsec-natt: as serve-ipsec-psk, but behind qemu's user networking,
# which translates the guest's address and ports: charon and the server see
# the NAT in Main Mode, float to UDP 4500 and carry ESP in UDP; xl2tpd + pppd
# dial as alice inside the SA, ping the server three times and hang up.
SCEN=serve-ipsec-natt
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
