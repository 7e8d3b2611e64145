# serve-ipv6cp: Debian's xl2tpd + pppd dial vnet serve on the host twice.
# Call 1 (pppd +ipv6; Debian's pppd negotiates IPV6CP without it too) must get its
# IPv4 address and both IPv6 link-local addresses. Call 2 (pppd with noipv6)
# Protocol-Rejects IPV6CP and must still get its IPv4 address and keep the link.
# pppd's logs are printed for the host's check.
echo "serve-ipv6cp: starting xl2tpd LAC towards $HOST_IP:1701"
mkdir -p /run/xl2tpd
xl2tpd -D -c /scenario/lac.conf -p /run/xl2tpd.pid -C /run/xl2tpd/l2tp-control > /tmp/xl2tpd.log 2>&1 &
lac=$!
wait_for() { # wait_for LOG PATTERN...: every pattern in LOG, bounded to 30 s
    local log=$1 i=0 p all
    shift
    while [ $i -lt 60 ]; do
        all=1
        for p in "$@"; do grep -q "$p" "$log" 2>/dev/null || all=0; done
        [ $all = 1 ] && return 0
        kill -0 $lac 2>/dev/null || return 1
        sleep 0.5
        i=$((i + 1))
    done
    return 1
}
ok6=0 ok4=0
wait_for /tmp/pppd.log 'local  IP address' 'local  LL address' && ok6=1
echo "serve-ipv6cp: call 1 (+ipv6): ipv4 and ipv6 up=$ok6"
sleep 1
[ -p /run/xl2tpd/l2tp-control ] && echo "d v6" > /run/xl2tpd/l2tp-control
sleep 2
[ -p /run/xl2tpd/l2tp-control ] && echo "c v4only" > /run/xl2tpd/l2tp-control
wait_for /tmp/pppd-v4.log 'local  IP address' && ok4=1
echo "serve-ipv6cp: call 2 (IPv6 off): ipv4 up=$ok4"
sleep 4 # the link must stay up after IPV6CP is rejected
grep -q 'Connection terminated\|Modem hangup' /tmp/pppd-v4.log && { echo "serve-ipv6cp: call 2 dropped"; ok4=0; }
[ -p /run/xl2tpd/l2tp-control ] && echo "d v4only" > /run/xl2tpd/l2tp-control
sleep 2
kill $lac 2>/dev/null
sleep 1
echo "===== guest pppd log, call 1"
cat /tmp/pppd.log 2>/dev/null
echo "===== guest pppd log, call 2"
cat /tmp/pppd-v4.log 2>/dev/null
echo "===== guest xl2tpd log"
tail -n 20 /tmp/xl2tpd.log
[ $ok6 = 1 ] && [ $ok4 = 1 ]
