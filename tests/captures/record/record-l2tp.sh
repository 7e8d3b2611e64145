#!/usr/bin/env bash
# Records L2TP control connections between real peers in two network namespaces (as
# root; see ../README.md, "L2TP refusals"):
#   tests/captures/record/record-l2tp.sh SCENARIO OUT.pcap [VNET]
# The namespaces l2rec-lns (10.87.0.1) and l2rec-lac (10.87.0.2) are joined by a veth
# pair and removed at the end; tcpdump runs on the LAC's side. The LAC is always
# Debian's xl2tpd 1.3.18 dialling at start (autodial). Scenarios:
#   no-lns      nothing answers: an nft rule in the LNS namespace drops UDP 1701, as a
#               server does that takes L2TP only inside IPsec
#   bad-secret  xl2tpd as LNS too; both ask for tunnel authentication with different
#               secrets: the LAC finds the LNS's Challenge Response wrong
#   serve-secret  `vnet serve` (VNET, the built binary) as LNS with a tunnel secret, the
#               LAC answering its challenge with another secret; OUT.pcap is the server's
#               own --capture
# Every process runs under timeout and is stopped by its PID.
set -eu
scenario=${1:?usage: record-l2tp.sh no-lns|bad-secret|serve-secret OUT.pcap [VNET]}
out=${2:?usage: record-l2tp.sh SCENARIO OUT.pcap [VNET]}
vnet=${3:-}
W=$(mktemp -d /tmp/l2rec.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del l2rec-lns 2>/dev/null || true
  ip netns del l2rec-lac 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
ip netns add l2rec-lns
ip netns add l2rec-lac
ip link add l2rec0 type veth peer name l2rec1
ip link set l2rec0 netns l2rec-lac
ip link set l2rec1 netns l2rec-lns
ip -n l2rec-lac addr add 10.87.0.2/24 dev l2rec0
ip -n l2rec-lns addr add 10.87.0.1/24 dev l2rec1
for n in lns lac; do ip -n l2rec-$n link set lo up; done
ip -n l2rec-lac link set l2rec0 up
ip -n l2rec-lns link set l2rec1 up

lac_secret=
case $scenario in
  no-lns) ;;
  bad-secret) lac_secret=lac-secret ;;
  serve-secret) lac_secret=lac-secret
    [ -x "$vnet" ] || { echo "serve-secret needs the vnet binary as third argument" >&2; exit 2; } ;;
  *) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac

{
  echo "[global]"
  echo "listen-addr = 10.87.0.2"
  echo "port = 1701"
  [ -n "$lac_secret" ] && echo "auth file = $W/lac-secrets"
  echo "[lac rec]"
  echo "lns = 10.87.0.1"
  echo "autodial = yes"
  echo "redial = no"
  [ "$scenario" = bad-secret ] && echo "challenge = yes"
  echo "length bit = yes"
} > "$W/lac.conf"
[ -n "$lac_secret" ] && { echo "* * $lac_secret" > "$W/lac-secrets"; chmod 600 "$W/lac-secrets"; }

ip netns exec l2rec-lac timeout 90 tcpdump -i l2rec0 -U -w "$W/wire.pcap" udp \
  > "$W/tcpdump.out" 2>&1 &
pids+=($!)
sleep 1
lac_time=15
case $scenario in
  no-lns)
    ip netns exec l2rec-lns nft -f - <<'EOF'
table inet l2rec {
  chain input { type filter hook input priority 0; udp dport 1701 drop; }
}
EOF
    lac_time=60 ;;
  bad-secret)
    cat > "$W/lns.conf" <<EOF
[global]
listen-addr = 10.87.0.1
port = 1701
auth file = $W/lns-secrets
[lns default]
ip range = 10.201.0.10-10.201.0.20
local ip = 10.201.0.1
require authentication = no
challenge = yes
length bit = yes
EOF
    echo "* * lns-secret" > "$W/lns-secrets"
    chmod 600 "$W/lns-secrets"
    ip netns exec l2rec-lns timeout 60 xl2tpd -D -c "$W/lns.conf" -p "$W/lns.pid" \
      -C "$W/lns.ctl" > "$W/lns.out" 2>&1 &
    pids+=($!) ;;
  serve-secret)
    cat > "$W/vnet.json" <<'EOF'
{"server": {"name": "LABRAS", "auth_methods": ["mschapv2"], "ports": {"l2tp": 8},
  "address_assignment": "pool", "pool": [{"start": "192.168.77.1", "end": "192.168.77.20"}]},
 "serve": {"l2tp": {"secret": "lns-secret"}},
 "groups": [{"name": "VPN Users"}],
 "policies": [{"name": "lab", "conditions": [{"attribute": "Windows-Groups", "value": "VPN Users"}],
   "permission": "grant", "profile": {"auth_methods": ["mschapv2"]}}],
 "users": [{"name": "alice", "password": "Passw0rd!", "groups": ["VPN Users"]}]}
EOF
    ip netns exec l2rec-lns timeout 60 "$vnet" --config "$W/vnet.json" serve \
      --listen 10.87.0.1:1701 --control "$W/c.sock" --capture "$W/serve.pcap" \
      > "$W/serve.log" 2>&1 &
    pids+=($!) ;;
esac
sleep 1
ip netns exec l2rec-lac timeout "$lac_time" xl2tpd -D -c "$W/lac.conf" -p "$W/lac.pid" \
  -C "$W/lac.ctl" > "$W/lac.out" 2>&1 || true
sleep 1
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()
if [ "$scenario" = serve-secret ]; then
  cp "$W/serve.pcap" "$out"
else
  cp "$W/wire.pcap" "$out"
fi
grep -h "closed\|Maximum\|StopCCN\|down" "$W"/*.out "$W"/*.log 2>/dev/null || true
