# serve-pptp-wrongpw: pppd + pptp-linux dial vnet serve's PPTP side as alice
# with a wrong password; pppd must report the failure with E=691.
SCEN=serve-pptp-wrongpw
. /scenario/lib.sh
pptp_dial one /scenario/options.one
st=1
ppp_wait one 50
if [ "$PPP_RESULT" = auth-failed ]; then
    say "pppd: $(grep -o 'E=[0-9]*.*' /tmp/pppd-one.log | head -n1)"
    grep -q 'E=691' /tmp/pppd-one.log && st=0
fi
pptp_stop
pptp_logs one
exit $st
