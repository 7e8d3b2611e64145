# serve-pptp-denied: pppd + pptp-linux dial vnet serve's PPTP side as bob,
# whose dial-in permission is "deny"; pppd must report the failure with E=649.
SCEN=serve-pptp-denied
. /scenario/lib.sh
pptp_dial one /scenario/options.one
st=1
ppp_wait one 50
if [ "$PPP_RESULT" = auth-failed ]; then
    say "pppd: $(grep -o 'E=[0-9]*.*' /tmp/pppd-one.log | head -n1)"
    grep -q 'E=649' /tmp/pppd-one.log && st=0
fi
pptp_stop
pptp_logs one
exit $st
