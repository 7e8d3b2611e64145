#!/usr/bin/env bash
# serve-pap host side: vnet serve with the lab configuration of
# serve-host-lib.sh; the guest's pppd dials as alice and allows only PAP.
# Passes when the server logs the tunnel and the session up with PAP and an
# address from the pool, pppd got that address and three answered pings, the
# session ended with traffic counted in the log and in the accounting file's
# start and stop records, `vnet show sessions --json` listed it, and tshark
# finds the L2TP set-up, the PAP exchange, IPCP and the echo requests and
# replies in the server's capture.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    serve_config
    serve_start || exit 1
    serve_watch
    exit 0 ;;
stop)
    serve_stop
    exit 0 ;;
check)
    check_call_ok alice 'PAP' 'pap.code == 2'
    expect_count 'pap.code == 1' 1 "PAP Authenticate-Requests"
    expect_console 'PAP authentication succeeded' "guest pppd"
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
