# l2tp-control: Debian's xl2tpd as LAC dials the host's LNS (10.0.2.2:1701).
# Waits until the control connection and the call are up, keeps them a moment
# so the host's answer to the call is seen, then hangs up.
echo "l2tp-control: starting xl2tpd LAC towards $HOST_IP:1701"
xl2tpd -D -c /scenario/lac.conf -p /run/xl2tpd.pid -C /run/xl2tpd/l2tp-control > /tmp/xl2tpd.log 2>&1 &
lac=$!
tunnel=0 call=0
i=0
while [ $i -lt 40 ]; do
    grep -q 'Connection established to' /tmp/xl2tpd.log && tunnel=1
    grep -q 'Call established with' /tmp/xl2tpd.log && call=1
    [ $call = 1 ] && break
    kill -0 $lac 2>/dev/null || break
    sleep 0.5
    i=$((i + 1))
done
echo "l2tp-control: tunnel=$tunnel call=$call after $((i / 2))s"
# the host's pppd cannot run, so its LNS ends the call; give that time to arrive
sleep 3
[ -p /run/xl2tpd/l2tp-control ] && echo "d vnetlab" > /run/xl2tpd/l2tp-control
sleep 1
kill $lac 2>/dev/null
sleep 1
echo "===== guest xl2tpd log"
cat /tmp/xl2tpd.log
[ $tunnel = 1 ] && [ $call = 1 ]
