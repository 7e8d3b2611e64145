#!/usr/bin/env bash
# rules-mtu-path host side: vnet serve with the lab configuration of
# serve-host-lib.sh and an MRU of 1500 (`serve.ppp.mru`); the guest's pppd dials as alice with MS-CHAPv2, refuses
# CCP and uses a PPP MTU of 1500 on a 1500-byte path.  Passes when the
# session comes up, full-size echo requests (1500-byte IP packets in PPP) are
# answered, the guest's kernel fragmented the tunnelled packets, a TCP SYN
# with an MSS of 1460 crossed the tunnel unchanged, and `vnet pcap explain`
# on the server's capture fires mtu.exceeds-path and mtu.mss-not-clamped.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    serve_config '.serve.ppp.mru = 1500'
    serve_start || exit 1
    serve_watch
    exit 0 ;;
stop)
    serve_stop
    exit 0 ;;
check)
    expect_guest_status 0
    expect_log 'session [0-9]+ up user=alice ' "server: session up for alice"
    expect_console '^guest ppp[0-9]+ mtu: 1500$' "guest: the PPP interface's MTU is 1500"
    expect_console '^guest eth0 mtu: 1500$' "guest: the path's MTU is 1500"
    expect_count 'icmp.type == 8 && ip.dst == 192.168.10.1 && ip.len == 1500' 3 "1500-byte echo requests inside the tunnel"
    expect_count 'icmp.type == 0 && ip.src == 192.168.10.1 && ip.len == 1500' 3 "1500-byte echo replies"
    expect_count 'udp.port == 1701 && ip.len > 1500' 6 "tunnel datagrams longer than the path's MTU"
    expect_console '^MTU-FRAGS created=[1-9]' "guest kernel: the tunnel's datagrams were fragmented"
    expect_count 'tcp.flags.syn == 1 && tcp.options.mss_val == 1460' 1 "TCP SYN with MSS 1460 inside the tunnel"
    expect_exit_clean
    explain
    for r in mtu.exceeds-path mtu.mss-not-clamped; do
        if grep -q "($r)" "$CAP.explain"; then good "vnet pcap explain fires $r"
        else bad "vnet pcap explain does not fire $r: $(head -c 600 "$CAP.explain")"; fi
    done
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
