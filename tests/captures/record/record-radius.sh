#!/usr/bin/env bash
# Records a RADIUS Access-Request that nobody answers (as root; see ../README.md):
#   tests/captures/record/record-radius.sh OUT.pcap
# In a network namespace of its own (radrec, removed at the end) an nft rule drops UDP
# 1812 on the loopback, as a firewall in front of the RADIUS server or a server that
# ignores an unknown client does; FreeRADIUS's radclient sends one PAP Access-Request
# and retries it (3 tries, 2 s apart). tcpdump captures on lo.
set -eu
out=${1:?usage: record-radius.sh OUT.pcap}
W=$(mktemp -d /tmp/radrec.XXXXXX)
tp=
cleanup() {
  [ -n "$tp" ] && { kill "$tp" 2>/dev/null || true; wait "$tp" 2>/dev/null || true; }
  ip netns del radrec 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
ip netns add radrec
ip -n radrec link set lo up
ip netns exec radrec nft -f - <<'NFT'
table inet radrec {
  chain input { type filter hook input priority 0; udp dport 1812 drop; }
}
NFT
ip netns exec radrec timeout 30 tcpdump -i lo -U -w "$W/cap.pcap" udp > "$W/tcpdump.out" 2>&1 &
tp=$!
sleep 1
printf 'User-Name = "alice"\nUser-Password = "Passw0rd!"\nNAS-IP-Address = 127.0.0.1\nNAS-Port-Type = Virtual\n' |
  ip netns exec radrec timeout 20 radclient -x -r 3 -t 2 127.0.0.1:1812 auth testing123 \
  > "$W/radclient.out" 2>&1 || true
sleep 1
kill "$tp"; wait "$tp" 2>/dev/null || true; tp=
cp "$W/cap.pcap" "$out"
tail -3 "$W/radclient.out"
