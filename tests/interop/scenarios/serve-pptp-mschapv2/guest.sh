# serve-pptp-mschapv2: pppd + pptp-linux dial vnet serve's PPTP side as alice
# with MS-CHAPv2 and 128-bit MPPE required, get an address from the pool,
# ping the server's PPP address three times and hang up.
SCEN=serve-pptp-mschapv2
. /scenario/lib.sh
pptp_dial one /scenario/options.one
st=1
if ppp_wait one 50; then
    ppp_ping one 3 && st=0
fi
pptp_stop
pptp_logs one
exit $st
