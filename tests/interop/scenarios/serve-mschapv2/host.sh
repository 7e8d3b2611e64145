#!/usr/bin/env bash
# serve-mschapv2 host side: vnet serve with the lab configuration of
# serve-host-lib.sh, its policy requiring the strongest encryption; the
# guest's pppd dials as alice, allows only MS-CHAPv2 and requires 128-bit
# MPPE (require-mppe-128).
# Passes when the server logs the tunnel and the session up with MS-CHAPv2 and an
# address from the pool, pppd got that address and three answered pings, the
# session ended with traffic counted in the log and in the accounting file's
# start and stop records, `vnet show sessions --json` listed it, and tshark
# finds the L2TP set-up, the MS-CHAPv2 exchange, IPCP, CCP agreeing on
# 128-bit MPPE and encrypted packets both ways (no ICMP in the clear) in the
# server's capture.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    serve_config '.policies[0].profile.encryption = ["strongest"]'
    serve_start || exit 1
    serve_watch
    exit 0 ;;
stop)
    serve_stop
    exit 0 ;;
check)
    MPPE=1 check_call_ok alice 'MS-CHAPv2' 'chap.code == 3'
    expect_console 'MPPE 128-bit stateless compression enabled' "guest pppd"
    expect_count 'lcp.opt.auth_protocol == 0xc223 && lcp.opt.algorithm == 0x81 && lcp && ppp.code == 2' 1 "LCP Configure-Acks of MS-CHAPv2"
    expect_console 'CHAP authentication succeeded' "guest pppd"
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
