#!/usr/bin/env bash
# serve-wrongpw host side: vnet serve with the lab configuration of
# serve-host-lib.sh; the guest's pppd dials as alice with a wrong password,
# with MS-CHAPv2.  Passes when pppd reports the failure with E=691, the server
# logs the rejection with its reason, the capture holds the MS-CHAPv2 Failure
# with E=691, and no session comes up or is accounted.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    serve_config
    serve_start || exit 1
    exit 0 ;;
stop)
    serve_stop
    exit 0 ;;
check)
    expect_guest_status 0
    expect_log 'tunnel up peer=' "server: tunnel up"
    check_refused one alice 691 '[a-z-]+'
    expect_l2tp_setup
    expect_exit_clean
    explain
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
