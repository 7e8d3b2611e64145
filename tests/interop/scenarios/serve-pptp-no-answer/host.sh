#!/usr/bin/env bash
# serve-pptp-no-answer host side: vnet serve listens for PPTP on the tap
# device, but nft drops every TCP segment to port 1723 arriving on it (a
# firewall closed for PPTP).  tcpdump on the tap device records what the
# client sends, since the server sees nothing: client.pcap.  Passes when the
# guest's SYNs to 1723 are in that capture with no SYN-ACK, the server saw no
# connection, and `vnet pcap explain` of the client's capture says there was
# no answer on TCP 1723 (pptp.no-answer; tests/captures/pptp-no-answer.pcap).
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
CCAP=$W/client.pcap
case "$1" in
start)
    serve_need
    pptp_tap || exit 1
    for t in nft tcpdump; do
        command -v $t > /dev/null || { echo "skip: $t not installed"; exit 77; }
    done
    serve_config '.'
    nft -f - << NFT || exit 1
table inet vnetlab {
    chain in {
        type filter hook input priority 0;
        iifname "vnettap0" tcp dport 1723 drop
    }
}
NFT
    tcpdump -i $TAP -U -n -w "$CCAP" tcp port 1723 > "$W/tcpdump.log" 2>&1 &
    echo $! > "$W/tcpdump.pid"
    echo $! >> "$INTEROP_PIDS"
    serve_start || exit 1
    exit 0 ;;
stop)
    serve_stop
    kill -INT "$(cat "$W/tcpdump.pid" 2> /dev/null)" 2> /dev/null
    sleep 0.5
    pptp_tap_del
    exit 0 ;;
check)
    expect_guest_status 0
    n=$(count 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 1723' "$CCAP")
    if [ "$n" -ge 3 ]; then good "client capture: $n SYNs to 1723"; else bad "client capture: $n SYNs to 1723 (wanted 3 or more)"; fi
    n=$(count 'tcp.srcport == 1723' "$CCAP")
    if [ "$n" = 0 ]; then good "client capture: nothing from port 1723"; else bad "client capture: $n segments from port 1723"; fi
    no_log 'conn [0-9]+ peer=192.0.2.2' "server: no PPTP connection"
    expect_exit_clean
    explain "$CCAP"
    if grep -q '(pptp.no-answer)' "$CCAP.explain"; then
        good "vnet pcap explain names no answer on TCP 1723 (pptp.no-answer)"
    else
        bad "vnet pcap explain does not name pptp.no-answer: $(head -c 600 "$CCAP.explain")"
    fi
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
