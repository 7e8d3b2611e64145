# serve-pap: xl2tpd + pppd dial vnet serve as alice with PAP (pppd refuses
# every other method), get an address from the pool, ping the server's PPP
# address three times and hang up.
SCEN=serve-pap
. /scenario/lib.sh
lac_start /scenario/lac.conf
st=1
if ppp_wait one 50; then
    ppp_ping one 3 && st=0
fi
lac_stop one
show_logs one
exit $st
