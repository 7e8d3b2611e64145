# serve-ipsec-cert: charon authenticates IKEv1 Main Mode with the computer
# certificate the host made (from the CA it trusts) and takes the server's
# certificate, the one `vnet cert pick --purpose l2tp` chooses from a store of
# that CA's certificates; xl2tpd + pppd then dial as alice inside the SA, ping
# the server three times and hang up.
SCEN=serve-ipsec-cert
. /scenario/lib.sh
st=1
if ipsec_up_cert; then
    ipsec_lac_start
    if ppp_wait one 50; then
        ppp_ping one 3 && st=0
    fi
    lac_stop one
    show_logs one
fi
ipsec_down
exit $st
