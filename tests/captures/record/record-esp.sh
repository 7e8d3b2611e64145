#!/bin/sh
# Records l2tp-ipsec-real.pcap and writes its key file (as root; see ../README.md):
#   tests/captures/record/record-esp.sh OUT.pcap OUT.keys
# Creates the namespaces esprec-i and esprec-r and removes them at the end.
# IKE_VERSION=2 ESP_PROPOSAL=aes128gcm16 record the same over IKEv2 with AES-GCM ESP.
set -e
out=${1:?usage: record-esp.sh OUT.pcap OUT.keys}
keys=${2:?usage: record-esp.sh OUT.pcap OUT.keys}
R=$(cd "$(dirname "$0")" && pwd)
rm -rf /tmp/esprec
for s in i r; do
  mkdir -p /tmp/esprec/$s
  sed "s/SIDE/$s/" "$R/esp-strongswan.conf" > /tmp/esprec/$s/strongswan.conf
done
v=${IKE_VERSION:-1}
p=${ESP_PROPOSAL:-aes128-sha256}
sed "s/version = 1/version = $v/; s/esp_proposals = aes128-sha256/esp_proposals = $p/" \
  "$R/esp-swanctl-initiator.conf" > /tmp/esprec/i/swanctl.conf
sed "s/version = 1/version = $v/; s/esp_proposals = aes128-sha256/esp_proposals = $p/" \
  "$R/esp-swanctl-responder.conf" > /tmp/esprec/r/swanctl.conf
cp "$R/esp-xl2tpd-lac.conf" /tmp/esprec/i/xl2tpd.conf
cp "$R/esp-xl2tpd-lns.conf" /tmp/esprec/r/xl2tpd.conf
ip netns add esprec-i
ip netns add esprec-r
trap 'ip netns del esprec-i; ip netns del esprec-r' EXIT
ip link add esprec0 type veth peer name esprec1
ip link set esprec0 netns esprec-i
ip link set esprec1 netns esprec-r
ip -n esprec-i addr add 10.89.0.2/24 dev esprec0
ip -n esprec-r addr add 10.89.0.1/24 dev esprec1
ip -n esprec-i addr add 10.90.0.2/32 dev lo
ip -n esprec-r addr add 10.90.0.1/32 dev lo
for n in i r; do
  ip -n esprec-$n link set lo up
done
ip -n esprec-i link set esprec0 up
ip -n esprec-r link set esprec1 up
ip netns exec esprec-i timeout 60 tcpdump -i esprec0 -U -w /tmp/esprec/cap.pcap \
  'ip and (udp or esp)' > /tmp/esprec/tcpdump.out 2>&1 &
tpid=$!
sleep 1
ip netns exec esprec-r unshare -m "$R/run-esp-side.sh" r > /tmp/esprec/r.out 2>&1 &
rpid=$!
sleep 2
timeout 60 ip netns exec esprec-i unshare -m "$R/run-esp-side.sh" i > /tmp/esprec/i.out 2>&1
sleep 1
kill $tpid
wait $tpid || true
kill $rpid 2>/dev/null || true
wait $rpid || true
cp /tmp/esprec/cap.pcap "$out"
"$R/charon-keys.py" /tmp/esprec/i/charon.log "$out" > "$keys"
