#!/usr/bin/env bash
# pptp-gre host side: a tap device in the scenario's namespace (host
# 192.0.2.1, guest 192.0.2.2; qemu's user networking would drop GRE), Debian's
# pptpd listening on it, tcpdump capturing TCP 1723 and GRE on the tap.
# Passes when the capture, decoded by tshark, shows the control connection and
# the outgoing call set up (Start-Control-Connection and Outgoing-Call request
# from the guest, replies from pptpd) and enhanced GRE from the guest that
# carries PPP LCP and the call ID pptpd gave.  PPP itself is not asserted:
# pppd cannot run on this host's kernel, so pptpd is given a program that only
# holds the call open; the guest's LCP requests go unanswered.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
W=$INTEROP_WORK
TAP=vnettap0
case "$1" in
start)
    for t in pptpd tcpdump tshark; do
        command -v $t >/dev/null || { echo "skip: $t not installed"; exit 77; }
    done
    [ -n "$INTEROP_NETNS" ] || { echo "skip: needs its own network namespace for the tap device"; exit 77; }
    [ -c /dev/net/tun ] || { echo "skip: no /dev/net/tun"; exit 77; }
    ip tuntap add dev $TAP mode tap || exit 1
    ip addr add 192.0.2.1/24 dev $TAP || exit 1
    ip link set $TAP up || exit 1
    printf 'INTEROP_NET=tap:%s\nINTEROP_GUEST_IP=192.0.2.2/24\nINTEROP_HOST_IP=192.0.2.1\n' $TAP > "$W/guest-net"
    printf 'noauth\nnodefaultroute\n' > "$W/options.pptpd"
    # pptpd's pppd cannot open /dev/ppp here and would end the call at once,
    # before the guest's first PPP frame; in its place pptpd starts a program
    # that holds the call's pty open for a bounded time and speaks nothing.
    printf '#!/bin/sh\nexec sleep 20\n' > "$W/hold-pty"
    chmod 755 "$W/hold-pty"
    printf 'ppp %s\noption %s\nlisten 192.0.2.1\nlocalip 10.200.9.1\nremoteip 10.200.9.10-20\n' \
        "$W/hold-pty" "$W/options.pptpd" > "$W/pptpd.conf"
    tcpdump -i $TAP -U -n -w "$W/pptp.pcap" tcp port 1723 or ip proto 47 > "$W/tcpdump.log" 2>&1 &
    echo $! >> "$INTEROP_PIDS"
    pptpd -f -c "$W/pptpd.conf" -p "$W/pptpd.pid" > "$W/pptpd.log" 2>&1 &
    echo $! >> "$INTEROP_PIDS"
    for _ in $(seq 1 50); do
        grep -q 'listening on' "$W/tcpdump.log" 2>/dev/null && exit 0
        sleep 0.1
    done
    echo "tcpdump did not start:"; cat "$W/tcpdump.log"
    exit 1 ;;
stop)
    while read -r pid; do kill -INT "$pid" 2>/dev/null; done < "$INTEROP_PIDS"
    sleep 1
    ip link del $TAP 2>/dev/null
    exit 0 ;;
check)
    rc=0
    P=$W/pptp.pcap
    [ "$INTEROP_GUEST_STATUS" = 0 ] || { echo "guest.sh failed with status $INTEROP_GUEST_STATUS"; rc=1; }
    ctl() { tshark -r "$P" -Y "pptp && $1" -T fields -e pptp.control_message_type 2>/dev/null | tr '\n' ' '; }
    up=$(ctl 'tcp.dstport == 1723')
    down=$(ctl 'tcp.srcport == 1723')
    echo "PPTP control, guest -> pptpd: $up"
    echo "PPTP control, pptpd -> guest: $down"
    has() { case " $1" in *" $2 "*) return 0 ;; esac; return 1; }
    for m in 1 7; do has "$up" $m || { echo "capture: no control message $m from the guest"; rc=1; }; done
    for m in 2 8; do has "$down" $m || { echo "capture: no control message $m from pptpd"; rc=1; }; done
    cid=$(tshark -r "$P" -Y 'pptp.control_message_type == 8' -T fields -e pptp.call_id 2>/dev/null | head -n1)
    echo "pptpd call ID: ${cid:-none}"
    if [ -n "$cid" ]; then
        n=$(tshark -r "$P" -Y "ip.src == 192.0.2.2 && gre.key.call_id == $cid && lcp" 2>/dev/null | wc -l)
        echo "GRE from the guest with that call ID carrying LCP: $n"
        [ "$n" -ge 3 ] || { echo "capture: fewer than 3 LCP frames in GRE from the guest"; rc=1; }
    else
        rc=1
    fi
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
