#!/bin/sh
# $1 = side dir; runs charon in its own /run
side=$1
mount -t tmpfs none /run
export STRONGSWAN_CONF=/tmp/rec/$side/strongswan.conf
/usr/lib/ipsec/charon > /tmp/rec/$side/charon.out 2>&1 &
echo $! > /tmp/rec/$side/pid
for i in $(seq 1 40); do [ -S /run/charon.vici ] && break; sleep 0.25; done
swanctl --load-all --file /tmp/rec/$side/swanctl.conf --uri unix:///run/charon.vici > /tmp/rec/$side/load.out 2>&1
if [ "$side" = i ]; then
  sleep 1
  timeout 40 swanctl --initiate --child net --timeout 30 --uri unix:///run/charon.vici > /tmp/rec/$side/init.out 2>&1
  sleep 1
fi
[ "$side" = r ] && sleep 45
kill $(cat /tmp/rec/$side/pid)
