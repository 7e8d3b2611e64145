# serve-pool: the server's pool has room for one client.  Call "one" (alice)
# comes up and pings; then call "two" (carol, a second tunnel) is dialed and
# must fail at authentication with the server's error code.
SCEN=serve-pool
. /scenario/lib.sh
lac_start /scenario/lac.conf
st=1
if ppp_wait one 50; then
    ppp_ping one 1
    lac_dial two
    ppp_wait two 40
    if [ "$PPP_RESULT" = auth-failed ]; then
        say "pppd (two): $(grep -o 'E=[0-9]*.*' /tmp/pppd-two.log | head -n1)"
        st=0
    fi
fi
lac_stop one two
show_logs one two
exit $st
