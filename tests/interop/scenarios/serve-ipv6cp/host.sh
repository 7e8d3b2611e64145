#!/usr/bin/env bash
# serve-ipv6cp host side: vnet serve on 127.0.0.1:1701 (the guest reaches it as
# 10.0.2.2), MS-CHAPv2, a pool, one user granted by one policy, with its capture on.
# Call 1 (pppd +ipv6) passes when pppd got its IPv4 address and both IPv6 link-local
# addresses, the server logged "ipv6cp interface-id local=L peer=P", pppd's link-local
# addresses are fe80::P (its own) and fe80::L (the server's), and tshark finds the
# IPV6CP Configure-Acks of P (from the server) and L (from the guest) in the capture.
# Call 2 (pppd with noipv6) passes when pppd Protocol-Rejected IPV6CP, the server
# logged the IPV6CP failure and still brought the session up with IPv4.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
W=$INTEROP_WORK
VNET=$INTEROP_BUILD/vnet
case "$1" in
start)
    [ -x "$VNET" ] || { echo "skip: $VNET not built"; exit 77; }
    command -v tshark >/dev/null || { echo "skip: tshark not installed"; exit 77; }
    cat > "$W/vnet.json" <<'CONF'
{"server": {"auth_methods": ["mschapv2"], "ports": {"l2tp": 2},
  "address_assignment": "pool", "pool": [{"start": "10.77.0.1", "end": "10.77.0.9"}]},
 "policies": [{"name": "lab", "conditions": [{"attribute": "Tunnel-Type", "value": "l2tp"}],
               "permission": "grant"}],
 "users": [{"name": "labuser", "password": "labpass", "dialin": "policy"}],
 "serve": {"ppp": {"ipv6": true}}}
CONF
    "$VNET" --config "$W/vnet.json" serve --listen 127.0.0.1:1701 --capture "$W/serve.pcap" \
        > "$W/serve.out" 2> "$W/serve.log" &
    echo $! >> "$INTEROP_PIDS"
    for _ in $(seq 1 50); do
        grep -q 'listening on' "$W/serve.log" 2>/dev/null && exit 0
        sleep 0.1
    done
    echo "vnet serve did not start:"; cat "$W/serve.log"
    exit 1 ;;
stop)
    while read -r pid; do kill -INT "$pid" 2>/dev/null; done < "$INTEROP_PIDS"
    sleep 1
    exit 0 ;;
check)
    rc=0
    [ "$INTEROP_GUEST_STATUS" = 0 ] || { echo "guest.sh failed with status $INTEROP_GUEST_STATUS"; rc=1; }
    echo "== server log"; grep -E 'ipcp|ipv6cp|admitted|session 1' "$W/serve.log"
    line=$(grep -o 'ipv6cp interface-id local=[0-9a-f:]* peer=[0-9a-f:]*' "$W/serve.log" | head -n1)
    [ -n "$line" ] || { echo "server: no ipv6cp interface-id line"; exit 1; }
    ifid6() { # aa:bb:cc:dd:ee:ff:gg:hh -> fe80::aabb:ccdd:eeff:gghh, as pppd prints it
        local h=${1//:/}
        echo "fe80::${h:0:4}:${h:4:4}:${h:8:4}:${h:12:4}"
    }
    loc=${line#*local=}; loc=${loc%% *}
    peer=${line##*peer=}
    want_remote=$(ifid6 "$loc") want_local=$(ifid6 "$peer")
    echo "server: local=$loc peer=$peer -> pppd should say local $want_local remote $want_remote"
    got_local=$(grep -o 'local  LL address [0-9a-f:]*' "$INTEROP_CONSOLE" | head -n1 | awk '{print $4}')
    got_remote=$(grep -o 'remote LL address [0-9a-f:]*' "$INTEROP_CONSOLE" | head -n1 | awk '{print $4}')
    echo "pppd: local $got_local remote $got_remote"
    [ "$got_local" = "$want_local" ] || { echo "pppd's own link-local address differs"; rc=1; }
    [ "$got_remote" = "$want_remote" ] || { echo "pppd's peer link-local address differs"; rc=1; }
    grep -q 'local  IP address 10.77.0.' "$INTEROP_CONSOLE" || { echo "pppd: no IPv4 address"; rc=1; }
    # the capture, decoded by tshark: IPV6CP Configure-Ack both ways
    # (the server's Ack carries the guest's identifier, the guest's Ack the server's)
    acks=$(tshark -r "$W/serve.pcap" -Y 'ipv6cp && ppp.code == 2' -T fields -e udp.srcport \
        -e ipv6cp.interface_identifier 2>/dev/null)
    echo "IPV6CP Configure-Acks (UDP source port, identifier):"; echo "$acks"
    ack_of() { echo "$acks" | awk -v id="$2" -v srv="$1" \
        '(srv == "server") == ($1 == 1701) && $2 == id {f = 1} END {exit !f}'; }
    ack_of server "$peer" || { echo "capture: no IPV6CP Configure-Ack of $peer from the server"; rc=1; }
    ack_of guest "$loc" || { echo "capture: no IPV6CP Configure-Ack of $loc from the guest"; rc=1; }
    # call 2: the guest's pppd Protocol-Rejects IPV6CP; the server keeps the link
    grep -q 'IPV6CP: rejected by the peer' "$W/serve.log" ||
        { echo "server: no IPV6CP failure logged for the call that rejects it"; rc=1; }
    grep -q 'session 2 up user=labuser' "$W/serve.log" || { echo "server: session 2 not up"; rc=1; }
    # the guest keeps call 2 up for 4 s after IPV6CP was rejected, then hangs up
    d2=$(grep -o 'session 2 down cause=[a-z0-9-]* .*duration=[0-9]*' "$W/serve.log" | grep -o '[0-9]*$')
    echo "session 2 lasted ${d2:-?} s"
    [ "${d2:-0}" -ge 3 ] || { echo "server: session 2 did not stay up until the guest hung up"; rc=1; }
    grep -q 'sent \[LCP ProtRej id=0x[0-9a-f]* 80 57' "$INTEROP_CONSOLE" ||
        { echo "pppd (call 2): no Protocol-Reject of IPV6CP"; rc=1; }
    rej=$(tshark -r "$W/serve.pcap" -Y 'lcp && ppp.code == 8' -T fields -e udp.srcport 2>/dev/null | head -n1)
    echo "LCP Protocol-Reject in the capture from UDP port: $rej"
    [ -n "$rej" ] && [ "$rej" != 1701 ] || { echo "capture: no Protocol-Reject from the guest"; rc=1; }
    "$VNET" pcap decode "$W/serve.pcap" 2>&1 | grep -i 'IPV6CP' | head -n 8
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
