# ike: Debian's charon as IKEv1 initiator (PSK, NAT-T) to the host's charon,
# then three pings through the ESP-in-UDP tunnel to 10.200.9.1.
export STRONGSWAN_CONF=/scenario/strongswan.conf
V="--uri unix:///run/charon.vici"
/usr/lib/ipsec/charon > /tmp/charon.out 2>&1 &
cp=$!
i=0
while [ $i -lt 40 ] && [ ! -S /run/charon.vici ]; do sleep 0.25; i=$((i + 1)); done
swanctl --load-all --file /scenario/swanctl.conf $V 2>&1 | grep -E 'loaded|failed' | grep -v 'opening directory'
swanctl --initiate --child net --timeout 30 $V > /tmp/initiate.log 2>&1
irc=$?
grep -E 'established|successfully|failed|NO_PROPOSAL|AUTH' /tmp/initiate.log
echo "ike: initiate status $irc"
swanctl --list-sas $V
echo "===== guest xfrm states"
/usr/sbin/ip xfrm state | grep -E '^src|proto|encap'
ping -c 3 -W 3 10.200.9.1
prc=$?
echo "ike: ping status $prc"
/usr/sbin/ip -s xfrm state | grep -E '^src|bytes'
kill $cp
sleep 1
echo "===== guest charon log (excerpt)"
grep -E 'established|NAT|failed|error|proposal|installed' /tmp/charon.log | tail -n 20
[ $irc = 0 ] && [ $prc = 0 ]
