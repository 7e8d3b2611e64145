#!/usr/bin/env bash
# serve-ipsec-plain host side: vnet serve with serve.ipsec (L2TP only inside
# IPsec, the default) listening for L2TP on the tap device's address; the
# guest's xl2tpd dials without IPsec.
# Passes when no tunnel came up, the server logged the plain L2TP it dropped
# and counted it, and the capture holds the client's SCCRQs without an answer.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    ipsec_tap || exit 1
    serve_config '.serve.ipsec = {"listen": "192.0.2.1", "psk": "vnet-interop-psk-51c2"}'
    SERVE_LISTEN=192.0.2.1:1701
    serve_start || exit 1
    exit 0 ;;
stop)
    serve_stop
    pptp_tap_del
    exit 0 ;;
check)
    expect_guest_status 0
    expect_log 'L2TP datagram from 192\.0\.2\.2:1701 outside IPsec dropped' "server: plain L2TP dropped, with the reason"
    no_log 'tunnel up peer=' "server: no L2TP tunnel"
    expect_count 'l2tp.avp.message_type == 1 && ip.src == 192.0.2.2' 2 "SCCRQs from the client (retransmitted)"
    n=$(count 'l2tp && ip.src == 192.0.2.1')
    if [ "$n" = 0 ]; then good "capture: no L2TP from the server"; else bad "capture: $n L2TP packets from the server"; fi
    expect_stat '.ike.plain_l2tp_refused >= 2' "plain L2TP counted"
    expect_exit_clean
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
