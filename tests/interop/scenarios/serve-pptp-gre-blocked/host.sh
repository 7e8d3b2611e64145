#!/usr/bin/env bash
# serve-pptp-gre-blocked host side: as serve-pptp-mschapv2, but nft drops
# every GRE packet arriving on the tap device (a firewall passing TCP 1723 and
# blocking IP protocol 47).  Passes when the control connection and the call
# come up in the server's capture, no GRE from the client appears in it, no
# session comes up, and `vnet pcap explain` on the server's own capture says
# GRE is blocked (Windows error 806).
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    pptp_tap || exit 1
    command -v nft > /dev/null || { echo "skip: nft not installed"; exit 77; }
    serve_config '.'
    nft -f - << NFT || exit 1
table inet vnetlab {
    chain in {
        type filter hook input priority 0;
        iifname "vnettap0" meta l4proto gre drop
    }
}
NFT
    serve_start || exit 1
    serve_watch
    exit 0 ;;
stop)
    serve_stop
    pptp_tap_del
    exit 0 ;;
check)
    expect_guest_status 0
    expect_pptp_setup
    n=$(count 'gre && ip.src == 192.0.2.2')
    if [ "$n" = 0 ]; then good "capture: no GRE from the client reached the server"; else bad "capture: $n GRE packets from the client"; fi
    no_log 'session [0-9]+ up user=' "server: no session up"
    explain
    if grep -q 'pptp.gre-blocked' "$CAP.explain" && grep -q '806' "$CAP.explain"; then
        good "vnet pcap explain names GRE blocked (806)"
    else
        bad "vnet pcap explain does not name GRE blocked: $(head -c 600 "$CAP.explain")"
    fi
    expect_exit_clean
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
