#!/usr/bin/env bash
# serve-pptp-mschapv2 host side: vnet serve with the lab configuration of
# serve-host-lib.sh, PPTP on the tap device, its policy requiring the
# strongest encryption; the guest's pppd + pptp dial as alice with MS-CHAPv2
# and 128-bit MPPE required.  Passes when the session comes up with an address
# from the pool, three pings are answered through MPPE, the session is shown,
# accounted as pptp and logged down with traffic counted, and tshark finds the
# PPTP set-up, MS-CHAPv2, CCP agreeing on 128-bit MPPE and encrypted GRE both
# ways (no ICMP in the clear) in the server's own capture.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    pptp_tap || exit 1
    serve_config '.policies[0].profile.encryption = ["strongest"]'
    serve_start || exit 1
    serve_watch
    exit 0 ;;
stop)
    serve_stop
    pptp_tap_del
    exit 0 ;;
check)
    check_pptp_call_ok alice
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
