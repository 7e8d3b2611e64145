#!/bin/sh
# L2TP/IPsec recording (l2tp-ipsec-real.pcap): $1 = side (i or r). Runs charon in its own
# /run, brings the IPsec SA up (initiator), then xl2tpd as LAC (i) or LNS (r) through it,
# with fakeppp.py as the PPP end of the call.
side=$1
D=/tmp/esprec/$side
V="--uri unix:///run/charon.vici"
mount -t tmpfs none /run
# no /dev/ppp here: a scripted PPP speaker answers on the call's pty instead of pppd
mount --bind "$(dirname "$(readlink -f "$0")")/fakeppp.py" /usr/sbin/pppd
[ "$side" = r ] && export FAKEPPP_ROLE=server || export FAKEPPP_ROLE=client
export STRONGSWAN_CONF=$D/strongswan.conf
/usr/lib/ipsec/charon > $D/charon.out 2>&1 &
echo $! > $D/charon.pid
for i in $(seq 1 40); do [ -S /run/charon.vici ] && break; sleep 0.25; done
swanctl --load-all --file $D/swanctl.conf $V > $D/load.out 2>&1
if [ "$side" = r ]; then
  xl2tpd -D -c $D/xl2tpd.conf -p $D/xl2tpd.pid -C $D/l2tp-control > $D/xl2tpd.out 2>&1 &
  echo $! > $D/x.pid
  sleep 30
else
  sleep 1
  timeout 40 swanctl --initiate --child net --timeout 30 $V > $D/init.out 2>&1
  sleep 1
  xl2tpd -D -c $D/xl2tpd.conf -p $D/xl2tpd.pid -C $D/l2tp-control > $D/xl2tpd.out 2>&1 &
  echo $! > $D/x.pid
  sleep 10
  kill $(cat $D/x.pid)
  sleep 2
  timeout 10 swanctl --terminate --ike c $V > $D/term.out 2>&1
  sleep 1
fi
kill $(cat $D/x.pid) 2>/dev/null
kill $(cat $D/charon.pid)
