#!/usr/bin/env bash
# serve-ports host side: vnet serve with the lab configuration of
# serve-host-lib.sh and one L2TP port (server.ports.l2tp = 1).  The guest's
# call "one" (alice) comes up; its call "two" (carol, on a second tunnel)
# must be refused before PPP: the server logs the refusal and answers the
# ICRQ with a CDN of result 4 (no facilities, permanent), error 4, which
# the capture and xl2tpd's log show.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    serve_config '.server.ports.l2tp = 1'
    serve_start || exit 1
    serve_watch
    exit 0 ;;
stop)
    serve_stop
    exit 0 ;;
check)
    expect_guest_status 0
    expect_log 'session [0-9]+ up user=alice addr=[0-9.]+ method=MS-CHAPv2' "server: alice up"
    expect_log 'incoming call refused: all 1 L2TP ports are in use' "server: second call refused"
    no_log 'session [0-9]+ (up|rejected) user=carol' "server: no PPP for carol"
    n=$(grep -c 'tunnel up peer=' "$SLOG")
    if [ "$n" = 2 ]; then good "server: two tunnels up"; else bad "server: $n tunnels up, wanted 2"; fi
    expect_count 'udp.srcport == 1701 && l2tp.avp.message_type == 14 && l2tp.result_code == 4 && l2tp.avp.error_code == 4' 1 \
        "CDN with result 4, error 4 from the server"
    expect_count 'udp.srcport == 1701 && l2tp.avp.message_type == 11' 1 "ICRP from the server (call one)"
    expect_console 'peer closing for reason 4 .*error = 4' "guest xl2tpd: the CDN's result and error"
    expect_stat '.refused_ports == 1 and .sessions_up_total == 1 and .tunnels_opened == 2' \
        "one call refused for want of a port"
    expect_exit_clean
    explain
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
