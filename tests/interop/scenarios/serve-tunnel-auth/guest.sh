# serve-tunnel-auth: tunnel authentication against vnet serve with a shared
# secret.  Call "one" (right secret, challenges the server too) must come up
# and ping; then the tunnel of "bad" (wrong secret) must be refused.
SCEN=serve-tunnel-auth
. /scenario/lib.sh
lac_start /scenario/lac.conf
st=1
if ppp_wait one 50; then
    ppp_ping one 3 && st=0
fi
lac_dial bad
# the server must refuse the bad tunnel's SCCCN (its Challenge Response) with
# a StopCCN
end=$(deadline 20)
while before $end; do
    grep -q 'peer closing for reason' $XLOG && break
    sleep 0.25
done
# xl2tpd counts a tunnel as established once it sent SCCCN; the server's
# StopCCN comes after that
say "bad tunnel: $(grep -m1 'peer closing for reason' $XLOG)"
grep -q 'peer closing for reason 4 ' $XLOG || st=1
[ -s /tmp/pppd-bad.log ] && { say "pppd ran for the bad tunnel"; st=1; }
lac_stop one bad
show_logs one
exit $st
