# serve-restart: the call comes up; the host kills vnet serve with SIGKILL
# and starts it again.  pppd (LCP echo every 2 s, 3 misses allowed) must
# notice that the server lost the session.
SCEN=serve-restart
. /scenario/lib.sh
lac_start /scenario/lac.conf
st=1
if ppp_wait one 50; then
    ppp_ping one 1
    ppp_wait_down one 45 && st=0
fi
lac_stop one
show_logs one
exit $st
