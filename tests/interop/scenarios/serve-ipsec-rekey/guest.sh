# serve-ipsec-rekey: an L2TP/IPsec call (pre-shared key, plain ESP) that lives
# through rekeys: charon rekeys the ESP SA every 12 s and reauthenticates the
# IKE SA after 20 s; the call pings the server before, between and after, then
# hangs up.
SCEN=serve-ipsec-rekey
. /scenario/lib.sh
st=1
if ipsec_up "vnet-interop-psk-51c2"; then
    ipsec_lac_start
    if ppp_wait one 50; then
        ppp_ping one 2 && st=0
        sleep 14
        say "after the ESP rekey at $(up)s"
        ppp_ping one 2 || st=1
        sleep 28
        say "after the IKE reauthentication at $(up)s"
        ppp_ping one 3 || st=1
    fi
    lac_stop one
    show_logs one
fi
ipsec_down
exit $st
