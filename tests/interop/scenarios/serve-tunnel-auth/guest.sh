# serve-tunnel-auth: tunnel authentication against vnet serve with a shared
# secret.  Call "one" (right secret) must come up and ping; then the tunnel of
# "bad" (wrong secret) must not come up.
SCEN=serve-tunnel-auth
. /scenario/lib.sh
lac_start /scenario/lac.conf
st=1
if ppp_wait one 50; then
    ppp_ping one 3 && st=0
fi
lac_dial bad
# the bad tunnel ends at its SCCRP (xl2tpd checks the server's answer to its
# challenge first) or at the server's check of SCCCN
end=$(deadline 20)
while before $end; do
    grep -Eq 'Invalid authentication for host|Connection [0-9]* ?closed to .*port' $XLOG && break
    sleep 0.25
done
n=$(grep -c 'Connection established to' $XLOG)
say "tunnels established: $n; bad tunnel: $(grep -E -m1 'Invalid authentication for host|Connection [0-9]* ?closed to .*port' $XLOG)"
[ "$n" = 1 ] || st=1
[ -s /tmp/pppd-bad.log ] && { say "pppd ran for the bad tunnel"; st=1; }
lac_stop one bad
show_logs one
exit $st
