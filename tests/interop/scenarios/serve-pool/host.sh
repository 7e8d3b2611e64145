#!/usr/bin/env bash
# serve-pool host side: vnet serve with the lab configuration of
# serve-host-lib.sh and a pool of two addresses, 192.168.10.100-101: the
# first is the server's own, so one client fits.  The guest's call "one"
# (alice) comes up and pings; its call "two" (carol, on a second tunnel)
# must be refused at authentication with E=720 (no address), in the server's
# log, in pppd's and in the capture.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    serve_config '.server.pool = [{"start": "192.168.10.100", "end": "192.168.10.101"}]'
    serve_start || exit 1
    serve_watch
    exit 0 ;;
stop)
    serve_stop
    exit 0 ;;
check)
    expect_guest_status 0
    expect_log 'session [0-9]+ up user=alice addr=192\.168\.10\.101 method=MS-CHAPv2' \
        "server: alice up with the pool's one client address"
    expect_console '^SERVE-PPP lac=one result=up addr=192\.168\.10\.101 ' "guest: call one has the address"
    check_refused two carol 720 '[a-z-]+'
    expect_log 'session [0-9]+ rejected user=carol .*(pool|address)' "server: the reason names the pool"
    expect_exit_clean
    explain
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
