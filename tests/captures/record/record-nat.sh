#!/usr/bin/env bash
# Records IKEv1 clients behind a real NAT (nft masquerade in a router namespace), seen at
# the server (as root; see ../README.md, "IKE through a real NAT"):
#   tests/captures/record/record-nat.sh SCENARIO OUT.pcap OUT.keys
# Namespaces: natrec-c1 (10.85.1.2) and natrec-c2 (10.85.1.3) on a bridge in natrec-rt
# (10.85.1.1), which routes to natrec-s (10.86.0.1) from 10.86.0.2 and masquerades
# everything it forwards there; tcpdump runs on the server's interface, so the capture
# shows the clients as the server sees them: from 10.86.0.2. The clients are charon
# (strongSwan 5.9.8, kernel-libipsec) initiating IKEv1 Main Mode with a pre-shared key.
# OUT.keys is the first client's IKE SA key (charon-keys.py). Scenarios:
#   behind-silent  one client; the server's charon runs without kernel-libipsec (this
#                  kernel has no ESP, so it could not install a child SA, but it needs
#                  none here) and therefore hashes its real address into NAT-D, and an
#                  nft rule in the server's namespace drops UDP 4500: Main Mode moves to
#                  4500 after message 4 because of the NAT and message 5 gets no answer
#   two-clients    both clients, the second starting 0.5 s after the first, against a server charon
#                  with kernel-libipsec: Main Mode and Quick Mode complete for each; the
#                  NAT maps the second client's ports 500 and 4500 to others (the child
#                  covers 10.96.0.1, an address on the server's loopback: kernel-libipsec
#                  refuses a route to the server's own address, which carries IKE)
# Every process runs under timeout and is stopped by its PID; the namespaces are removed
# at the end.
set -eu
scenario=${1:?usage: record-nat.sh behind-silent|two-clients OUT.pcap OUT.keys}
out=${2:?usage: record-nat.sh SCENARIO OUT.pcap OUT.keys}
keys=${3:?usage: record-nat.sh SCENARIO OUT.pcap OUT.keys}
R=$(cd "$(dirname "$0")" && pwd)
W=/tmp/natrec
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for n in c1 c2 rt s; do ip netns del natrec-$n 2>/dev/null || true; done
}
trap cleanup EXIT
case $scenario in
  behind-silent) clients="1" server_kernel=kernel-netlink drop4500=yes ;;
  two-clients) clients="1 2" server_kernel=kernel-libipsec drop4500= ;;
  *) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac
rm -rf "$W"
mkdir -p "$W/c1" "$W/c2" "$W/s"

conf() { # DIR KERNEL-PLUGIN
  cat > "$1/strongswan.conf" <<EOF
charon {
  load = random nonce aes sha1 sha2 md5 hmac gmp kdf attr $2 kernel-netlink socket-default vici
  retransmit_tries = 3
  retransmit_timeout = 1.0
  retransmit_base = 1.4
  plugins { vici { socket = unix:///run/charon.vici } }
  filelog { g { path = $1/charon.log
                default = 1
                ike = 4
                cfg = 2 } }
  syslog { daemon { default = -1 } }
}
swanctl { load = pem pkcs1 x509 pubkey random nonce aes sha1 sha2 hmac gmp }
EOF
}
conf "$W/s" "$server_kernel"
cat > "$W/s/swanctl.conf" <<'EOF'
connections {
  c {
    version = 1
    local_addrs = 10.86.0.1
    remote_addrs = %any
    proposals = aes128-sha256-modp2048
    local { auth = psk
            id = 10.86.0.1 }
    remote { auth = psk }
    children { net { mode = tunnel
                     esp_proposals = aes128-sha256
                     local_ts = 10.96.0.1/32
                     remote_ts = 10.85.1.0/24 } }
  }
}
secrets { ike-1 { secret = "lab-key" } }
EOF
for c in 1 2; do
  conf "$W/c$c" kernel-libipsec
  cat > "$W/c$c/swanctl.conf" <<EOF
connections {
  c {
    version = 1
    local_addrs = 10.85.1.$((c + 1))
    remote_addrs = 10.86.0.1
    proposals = aes128-sha256-modp2048
    local { auth = psk
            id = 10.85.1.$((c + 1)) }
    remote { auth = psk
             id = 10.86.0.1 }
    children { net { mode = tunnel
                     esp_proposals = aes128-sha256
                     local_ts = dynamic
                     remote_ts = 10.96.0.1/32 } }
  }
}
secrets { ike-1 { secret = "lab-key" } }
EOF
done

for n in c1 c2 rt s; do ip netns add natrec-$n; ip -n natrec-$n link set lo up; done
ip -n natrec-rt link add natbr type bridge
ip -n natrec-rt addr add 10.85.1.1/24 dev natbr
ip -n natrec-rt link set natbr up
for c in 1 2; do
  ip link add natc$c type veth peer name natp$c
  ip link set natc$c netns natrec-c$c
  ip link set natp$c netns natrec-rt
  ip -n natrec-rt link set natp$c master natbr
  ip -n natrec-rt link set natp$c up
  ip -n natrec-c$c addr add 10.85.1.$((c + 1))/24 dev natc$c
  ip -n natrec-c$c link set natc$c up
  ip -n natrec-c$c route add default via 10.85.1.1
done
ip link add natwan type veth peer name natsrv
ip link set natwan netns natrec-rt
ip link set natsrv netns natrec-s
ip -n natrec-rt addr add 10.86.0.2/24 dev natwan
ip -n natrec-s addr add 10.86.0.1/24 dev natsrv
ip -n natrec-s addr add 10.96.0.1/32 dev lo
ip -n natrec-rt link set natwan up
ip -n natrec-s link set natsrv up
ip netns exec natrec-rt sysctl -qw net.ipv4.ip_forward=1
ip netns exec natrec-rt nft -f - <<'NFT'
table ip natrec {
  chain post { type nat hook postrouting priority srcnat; oifname "natwan" masquerade; }
}
NFT
if [ -n "$drop4500" ]; then
  ip netns exec natrec-s nft -f - <<'NFT'
table inet natrec {
  chain input { type filter hook input priority 0; udp dport 4500 drop; }
}
NFT
fi

ip netns exec natrec-s timeout 120 tcpdump -i natsrv -U -w "$W/cap.pcap" 'ip and (udp or esp)' \
  > "$W/tcpdump.out" 2>&1 &
pids+=($!)
sleep 1
ip netns exec natrec-s unshare -m timeout 90 "$R/run-ike-side.sh" "$W/s" r > "$W/s.out" 2>&1 &
pids+=($!)
sleep 2
cpids=()
for c in $clients; do
  ip netns exec natrec-c$c unshare -m timeout 60 "$R/run-ike-side.sh" "$W/c$c" i \
    > "$W/c$c.out" 2>&1 &
  cpids+=($!)
  sleep 0.5
done
for p in "${cpids[@]}"; do wait "$p" || true; done
sleep 1
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()
cp "$W/cap.pcap" "$out"
"$R/charon-keys.py" "$W/c1/charon.log" "$out" > "$keys" || true
ip netns exec natrec-rt conntrack -L 2>/dev/null || true
grep -h "received\|sending\|failed\|established\|NAT\|no matching" \
  "$W/c1/charon.log" "$W/s/charon.log" | grep -v "bytes @" | head -60 || true
