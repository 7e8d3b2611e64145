# serve-pptp-gre-blocked: GRE from the guest is dropped on its way to the
# server (the host side's nft rule): the control connection and the call come
# up, but no PPP frame of the client reaches vnet serve; pppd gives up on LCP.
SCEN=serve-pptp-gre-blocked
. /scenario/lib.sh
pptp_dial one /scenario/options.one
st=1
ppp_wait one 60
[ "$PPP_RESULT" != up ] && st=0
pptp_stop
pptp_logs one
exit $st
