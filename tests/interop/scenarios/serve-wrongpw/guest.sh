# serve-wrongpw: xl2tpd + pppd dial vnet serve as alice with a wrong password
# and MS-CHAPv2; pppd must report the authentication failure with E=691.
SCEN=serve-wrongpw
. /scenario/lib.sh
lac_start /scenario/lac.conf
st=1
ppp_wait one 50
if [ "$PPP_RESULT" = auth-failed ]; then
    say "pppd: $(grep -o 'E=[0-9]*.*' /tmp/pppd-one.log | head -n1)"
    grep -q 'E=691' /tmp/pppd-one.log && st=0
fi
lac_stop one
show_logs one
exit $st
