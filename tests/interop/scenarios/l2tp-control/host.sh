#!/usr/bin/env bash
# l2tp-control host side: Debian's xl2tpd as LNS on 127.0.0.1:1701 (the guest
# reaches it as 10.0.2.2) with tcpdump capturing UDP 1701 on loopback.
# Passes when the guest's LAC set up the control connection and a call:
# both xl2tpd logs say so, and the capture, decoded by tshark, holds
# SCCRQ/ICRQ/ICCN from the guest (with its host name) and SCCRP/ICRP from the
# LNS.  PPP is not asserted: pppd cannot run on this host's kernel.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
W=$INTEROP_WORK
case "$1" in
start)
    for t in xl2tpd tcpdump tshark; do
        command -v $t >/dev/null || { echo "skip: $t not installed"; exit 77; }
    done
    cat > "$W/lns.conf" <<CONF
[global]
listen-addr = 127.0.0.1
port = 1701
force userspace = yes
debug tunnel = yes
debug state = yes

[lns default]
ip range = 10.200.9.10-10.200.9.20
local ip = 10.200.9.1
hostname = vnet-host-lns
length bit = yes
require authentication = no
pppoptfile = $W/options.lns
CONF
    printf 'noauth\nnodefaultroute\n' > "$W/options.lns"
    tcpdump -i lo -U -n -w "$W/l2tp.pcap" udp port 1701 > "$W/tcpdump.log" 2>&1 &
    echo $! >> "$INTEROP_PIDS"
    xl2tpd -D -c "$W/lns.conf" -p "$W/xl2tpd.pid" -C "$W/xl2tpd.control" > "$W/xl2tpd.log" 2>&1 &
    echo $! >> "$INTEROP_PIDS"
    # ready when both listen (bounded)
    for _ in $(seq 1 50); do
        grep -q 'listening on' "$W/tcpdump.log" 2>/dev/null &&
            grep -q 'Listening on IP address' "$W/xl2tpd.log" 2>/dev/null && exit 0
        sleep 0.1
    done
    echo "xl2tpd or tcpdump did not start:"; cat "$W/xl2tpd.log" "$W/tcpdump.log"
    exit 1 ;;
stop)
    # SIGINT lets tcpdump flush the capture; xl2tpd is stopped by its PID too
    while read -r pid; do kill -INT "$pid" 2>/dev/null; done < "$INTEROP_PIDS"
    sleep 1
    exit 0 ;;
check)
    rc=0
    log=$W/xl2tpd.log
    [ "$INTEROP_GUEST_STATUS" = 0 ] || { echo "guest.sh failed with status $INTEROP_GUEST_STATUS"; rc=1; }
    grep -q 'Connection established to 127.0.0.1' "$log" || { echo "host LNS: no control connection in its log"; rc=1; }
    grep -q 'Call established with 127.0.0.1' "$log" || { echo "host LNS: no call in its log"; rc=1; }
    # message types by direction (guest -> LNS has destination port 1701)
    types() {
        tshark -r "$W/l2tp.pcap" -Y "l2tp && $1" -T fields -e l2tp.avp.message_type 2>/dev/null |
            tr ',' '\n' | sed '/^$/d' | tr '\n' ' '
    }
    up=$(types 'udp.dstport == 1701')
    down=$(types 'udp.srcport == 1701')
    echo "guest -> LNS message types: $up"
    echo "LNS -> guest message types: $down"
    has() { case " $1" in *" $2 "*) return 0 ;; esac; return 1; }
    for m in 1 3 10 12; do has "$up" $m || { echo "capture: no message type $m from the guest"; rc=1; }; done
    for m in 2 11; do has "$down" $m || { echo "capture: no message type $m from the LNS"; rc=1; }; done
    host=$(tshark -r "$W/l2tp.pcap" -Y 'l2tp.avp.message_type == 1' -T fields -e l2tp.avp.host_name 2>/dev/null | head -n1)
    echo "SCCRQ host name: $host"
    [ "$host" = vnet-guest-lac ] || { echo "capture: SCCRQ does not carry the guest's host name"; rc=1; }
    if has "$down" 14; then echo "LNS ended the call with a CDN (its pppd cannot run here)"; fi
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
