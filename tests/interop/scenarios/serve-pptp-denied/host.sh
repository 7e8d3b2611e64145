#!/usr/bin/env bash
# serve-pptp-denied host side: the guest's pppd + pptp dial as bob, whose
# dial-in permission is deny.  Passes when pppd reports E=649 and the server
# logs the rejection with the reason no-dialin-permission.
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
    check_pptp_refused bob 649 no-dialin-permission
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
