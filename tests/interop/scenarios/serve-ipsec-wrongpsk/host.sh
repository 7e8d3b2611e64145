#!/usr/bin/env bash
# serve-ipsec-wrongpsk host side: vnet serve with serve.ipsec on the tap
# device's address and a pre-shared key the guest does not have.
# Passes when the guest's charon could not set up the SA, the server logged
# the failure with the cause ike.psk.mismatch and no L2TP tunnel, and
# `vnet pcap explain` of the server's capture names the pre-shared key
# mismatch and Windows' error 789.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    ipsec_tap || exit 1
    serve_config '.serve.ipsec = {"listen": "192.0.2.1", "psk": "vnet-interop-psk-51c2"}'
    serve_start || exit 1
    exit 0 ;;
stop)
    serve_stop
    pptp_tap_del
    exit 0 ;;
check)
    expect_guest_status 0
    expect_console '^SERVE-IPSEC result=failed ' "guest: charon could not set up the SA"
    expect_log 'ike sa=[0-9]+ .*ike\.psk\.mismatch' "server: Main Mode failed with ike.psk.mismatch"
    no_log 'IKE SA up' "server: no IKE SA up"
    no_log 'tunnel up peer=' "server: no L2TP tunnel"
    expect_count 'isakmp.exchangetype == 2 && ip.src == 192.0.2.2' 3 "Main Mode messages from the client"
    expect_stat '.ike.sas_failed >= 1 and .ike.sas_up == 0' "IKE SA failures counted"
    expect_exit_clean
    explain
    if grep -q 'ike.psk.mismatch' "$CAP.explain" && grep -q '789' "$CAP.explain"; then
        good "vnet pcap explain: ike.psk.mismatch and error 789"
    else
        bad "vnet pcap explain does not name ike.psk.mismatch and 789: $(head -c 600 "$CAP.explain")"
    fi
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
