#!/bin/sh
# Runs one side of record-ike.sh in its own mount namespace: charon with a private
# /run, the configuration of DIR loaded; the initiator (i) initiates the child "net".
#   run-ike-side.sh DIR i|r
dir=$1 side=$2
mount -t tmpfs none /run
export STRONGSWAN_CONF=$dir/strongswan.conf
/usr/lib/ipsec/charon > "$dir/charon.out" 2>&1 &
cpid=$!
for i in $(seq 1 40); do [ -S /run/charon.vici ] && break; sleep 0.25; done
swanctl --load-all --file "$dir/swanctl.conf" --uri unix:///run/charon.vici > "$dir/load.out" 2>&1
if [ "$side" = i ]; then
  sleep 1
  timeout 40 swanctl --initiate --child net --timeout 30 --uri unix:///run/charon.vici \
    > "$dir/init.out" 2>&1
  sleep 1
else
  sleep 55
fi
kill $cpid
wait $cpid
