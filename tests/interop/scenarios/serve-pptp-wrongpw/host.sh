#!/usr/bin/env bash
# serve-pptp-wrongpw host side: the guest's pppd + pptp dial as alice with
# a wrong password.  Passes when pppd reports E=691, the server logs the
# rejection with its reason, the server's capture holds the MS-CHAPv2 Failure
# with E=691 inside GRE, and nothing is accounted.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    pptp_tap || exit 1
    serve_config '.'
    serve_start || exit 1
    serve_watch
    exit 0 ;;
stop)
    serve_stop
    pptp_tap_del
    exit 0 ;;
check)
    check_pptp_refused alice 691 '[a-z-]+'
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
