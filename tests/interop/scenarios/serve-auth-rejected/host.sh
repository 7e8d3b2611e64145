#!/usr/bin/env bash
# serve-auth-rejected host side: vnet serve with MS-CHAPv2 as its only
# authentication method (server and policy); the guest's pppd allows PAP only.
# Passes when no session comes up, the capture holds the guest's LCP refusal of
# the server's authentication protocol, and `vnet pcap explain` on the
# server's capture names the missing common protocol (ppp.lcp.auth-rejected).
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    serve_config '.server.auth_methods = ["mschapv2"] | .policies[0].profile.auth_methods = ["mschapv2"]'
    serve_start || exit 1
    exit 0 ;;
stop)
    serve_stop
    exit 0 ;;
check)
    expect_guest_status 0
    expect_log 'tunnel up peer=' "server: tunnel up"
    no_log 'session [0-9]+ up user=' "server: no session up"
    expect_l2tp_setup
    expect_count 'lcp && (ppp.code == 3 || ppp.code == 4) && udp.dstport == 1701' 1 \
        "LCP Configure-Nak or -Reject from the client"
    expect_exit_clean
    explain
    if grep -q 'ppp.lcp.auth-rejected' "$CAP.explain"; then
        good "vnet pcap explain names the missing common authentication protocol"
    else
        bad "vnet pcap explain does not fire ppp.lcp.auth-rejected: $(head -c 600 "$CAP.explain")"
    fi
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
