# serve-denied: xl2tpd + pppd dial vnet serve as bob, whose dial-in
# permission is deny, with MS-CHAPv2; pppd must report the authentication
# failure with E=649.
SCEN=serve-denied
. /scenario/lib.sh
lac_start /scenario/lac.conf
st=1
ppp_wait one 50
if [ "$PPP_RESULT" = auth-failed ]; then
    say "pppd: $(grep -o 'E=[0-9]*.*' /tmp/pppd-one.log | head -n1)"
    grep -q 'E=649' /tmp/pppd-one.log && st=0
fi
lac_stop one
show_logs one
exit $st
