#!/usr/bin/env bash
# Records strongSwan charon (5.9.8, kernel-libipsec) as IKE initiator against charon as
# responder, each in a network namespace of its own, for the notifies a responder
# sends when it refuses something (as root; see ../README.md, "IKE refusals"):
#   tests/captures/record/record-ike.sh SCENARIO OUT.pcap OUT.keys [IKE_RESPONDER]
# Namespaces ikerec-i (10.88.0.2) and ikerec-r (10.88.0.1), a veth pair, tcpdump on the
# initiator's side; both removed at the end. OUT.keys is the IKE SA's keys from the
# initiator's log (charon-keys.py), for `vnet pcap explain --keys`. Scenarios:
#   ts-unacceptable   IKEv2: the responder's child covers other addresses than the
#                     initiator proposes
#   internal-address  IKEv2: the initiator asks for a virtual address, the responder's
#                     connection names a pool that is not defined, so it has none to give
#   failed-cp         IKEv2: the responder's connection hands out addresses from a pool,
#                     the initiator asks for none (no vips): FAILED_CP_REQUIRED
#   v1-invalid-id     IKEv1: Main Mode completes, Quick Mode proposes selectors the
#                     responder has no child for
#   v1-auth-failed    IKEv1: the initiator presents an identity the responder does not
#                     know (same key): the responder finds no peer for it in MM5
#   v1-vnet-badpsk    IKEv1 against vnet's own responder (engine/ike, the built
#                     tests/helpers/ike_responder given as IKE_RESPONDER) with another
#                     pre-shared key: message 5 does not decrypt to ID and HASH, the
#                     responder answers PAYLOAD_MALFORMED in a clear Informational
#   natt-silent       IKEv1: the responder answers on UDP 500 and an nft rule drops UDP
#                     4500 in its namespace, so Main Mode message 5 (after the switch to
#                     4500) goes unanswered
#   fragments-dropped IKEv2 with RSA certificates (3072-bit keys, made here with openssl)
#                     and RFC 7383 fragmentation off on both ends, so IKE_AUTH travels in
#                     IP fragments; an nft egress filter on the initiator's veth drops every
#                     fragment but the first, and tcpdump listens on the responder's side
#                     (what the server sees)
# Every process runs under timeout and is stopped by its PID.
set -eu
scenario=${1:?usage: record-ike.sh SCENARIO OUT.pcap OUT.keys}
out=${2:?usage: record-ike.sh SCENARIO OUT.pcap OUT.keys}
keys=${3:?usage: record-ike.sh SCENARIO OUT.pcap OUT.keys}
R=$(cd "$(dirname "$0")" && pwd)
W=/tmp/ikerec
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del ikerec-i 2>/dev/null || true
  ip netns del ikerec-r 2>/dev/null || true
}
trap cleanup EXIT
rm -rf "$W"
mkdir -p "$W/i" "$W/r"

version=2 i_ts=10.88.0.2/32 r_ts_local=10.88.0.1/32 r_ts_remote=10.88.0.2/32
i_extra= r_extra= pools= i_id=10.88.0.2 drop4500= vnet_psk= certs= capside=i
case $scenario in
  ts-unacceptable) r_ts_local=10.99.0.0/24 r_ts_remote=10.98.0.0/24 ;;
  internal-address) i_extra="vips = 0.0.0.0" r_extra="pools = vpnpool" ;;
  failed-cp) r_extra="pools = vpnpool"
    pools="pools { vpnpool { addrs = 10.97.0.0/24 } }" ;;
  v1-invalid-id) version=1 r_ts_local=10.99.0.0/24 r_ts_remote=10.98.0.0/24 ;;
  v1-auth-failed) version=1 i_id=client.example.org ;;
  natt-silent) version=1 drop4500=yes ;;
  v1-vnet-badpsk) version=1 vnet_psk=other-key
    [ -x "${4:-}" ] || { echo "v1-vnet-badpsk needs the ike_responder binary as fourth argument" >&2; exit 2; } ;;
  fragments-dropped) certs=yes capside=r
    i_extra="fragmentation = no" r_extra="fragmentation = no" ;;
  *) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac

for s in i r; do
  cat > "$W/$s/strongswan.conf" <<EOF
charon {
  load = random nonce aes sha1 sha2 md5 hmac gmp kdf attr pem pkcs1 pkcs8 x509 pubkey constraints kernel-libipsec kernel-netlink socket-default vici
  retransmit_tries = 3
  retransmit_timeout = 1.0
  retransmit_base = 1.4
  plugins { vici { socket = unix:///run/charon.vici } }
  filelog { g { path = $W/$s/charon.log
                default = 1
                ike = 4
                cfg = 2 } }
  syslog { daemon { default = -1 } }
}
swanctl { load = pem pkcs1 pkcs8 x509 pubkey random nonce aes sha1 sha2 hmac gmp }
EOF
done
auth=psk
if [ -n "$certs" ]; then
  # a CA and one certificate per side, the address as subjectAltName (the IKE identity)
  auth=pubkey
  C=$W/ca
  mkdir -p "$C"
  openssl req -x509 -newkey rsa:3072 -nodes -days 30 -subj "/O=vnet lab/CN=vnet lab CA" \
    -keyout "$C/ca.key" -out "$C/ca.pem" 2> /dev/null
  for s in i r; do
    a=10.88.0.2
    [ $s = r ] && a=10.88.0.1
    mkdir -p "$W/$s/x509" "$W/$s/x509ca" "$W/$s/private"
    openssl req -newkey rsa:3072 -nodes -subj "/O=vnet lab/CN=$a" -keyout "$W/$s/private/key.pem" \
      -out "$C/$s.csr" 2> /dev/null
    printf 'subjectAltName = IP:%s\n' "$a" > "$C/$s.ext"
    openssl x509 -req -in "$C/$s.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
      -days 30 -extfile "$C/$s.ext" -out "$W/$s/x509/cert.pem" 2> /dev/null
    cp "$C/ca.pem" "$W/$s/x509ca/"
  done
fi
cat > "$W/i/swanctl.conf" <<EOF
connections {
  c {
    version = $version
    local_addrs = 10.88.0.2
    remote_addrs = 10.88.0.1
    proposals = aes128-sha256-modp2048
    $i_extra
    local { auth = $auth
            id = $i_id }
    remote { auth = $auth
             id = 10.88.0.1 }
    children { net { mode = tunnel
                     esp_proposals = aes128-sha256
                     local_ts = $i_ts
                     remote_ts = 10.88.0.1/32 } }
  }
}
secrets { ike-1 { id-1 = $i_id
                  id-2 = 10.88.0.1
                  secret = "lab-key" } }
EOF
cat > "$W/r/swanctl.conf" <<EOF
connections {
  c {
    version = $version
    local_addrs = 10.88.0.1
    remote_addrs = 10.88.0.2
    proposals = aes128-sha256-modp2048
    $r_extra
    local { auth = $auth
            id = 10.88.0.1 }
    remote { auth = $auth
             id = 10.88.0.2 }
    children { net { mode = tunnel
                     esp_proposals = aes128-sha256
                     local_ts = $r_ts_local
                     remote_ts = $r_ts_remote } }
  }
}
$pools
secrets { ike-1 { id-1 = 10.88.0.1
                  id-2 = 10.88.0.2
                  id-3 = $i_id
                  secret = "lab-key" } }
EOF

ip netns add ikerec-i
ip netns add ikerec-r
ip link add ikerec0 type veth peer name ikerec1
ip link set ikerec0 netns ikerec-i
ip link set ikerec1 netns ikerec-r
ip -n ikerec-i addr add 10.88.0.2/24 dev ikerec0
ip -n ikerec-r addr add 10.88.0.1/24 dev ikerec1
for n in i r; do ip -n ikerec-$n link set lo up; done
ip -n ikerec-i link set ikerec0 up
ip -n ikerec-r link set ikerec1 up
if [ -n "$drop4500" ]; then
  ip netns exec ikerec-r nft -f - <<'NFT'
table inet ikerec {
  chain input { type filter hook input priority 0; udp dport 4500 drop; }
}
NFT
fi

if [ -n "$certs" ]; then
  # every IP fragment but the first is dropped as it leaves the initiator
  ip netns exec ikerec-i nft -f - <<'NFT'
table netdev ikerec {
  chain egress { type filter hook egress device ikerec0 priority 0; ip frag-off & 0x1fff != 0 drop; }
}
NFT
fi
capdev=ikerec0
[ $capside = r ] && capdev=ikerec1
ip netns exec ikerec-$capside timeout 90 tcpdump -i $capdev -U -w "$W/cap.pcap" 'ip and (udp or esp)' \
  > "$W/tcpdump.out" 2>&1 &
pids+=($!)
sleep 1
if [ -n "$vnet_psk" ]; then
  ip netns exec ikerec-r timeout 70 "$4" --addr 10.88.0.1 --psk "$vnet_psk" --seconds 60 \
    > "$W/r.out" 2>&1 &
else
  ip netns exec ikerec-r unshare -m timeout 70 "$R/run-ike-side.sh" "$W/r" r > "$W/r.out" 2>&1 &
fi
pids+=($!)
sleep 2
ip netns exec ikerec-i unshare -m timeout 60 "$R/run-ike-side.sh" "$W/i" i > "$W/i.out" 2>&1 || true
sleep 1
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()
cp "$W/cap.pcap" "$out"
"$R/charon-keys.py" "$W/i/charon.log" "$out" > "$keys" || true
grep -h "received\|sending\|failed\|no matching\|INVALID\|UNACCEPT\|FAILURE\|no virtual" \
  "$W/i/charon.log" "$W/r/charon.log" | grep -v "bytes @" | head -40 || true
