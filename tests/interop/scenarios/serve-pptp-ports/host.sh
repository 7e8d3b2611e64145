#!/usr/bin/env bash
# serve-pptp-ports host side: one PPTP port (server.ports.pptp = 1).  Call
# one (alice) comes up; call two (carol; pptp-linux carries it on the same
# control connection, its call manager's, as it does every call to one server) must be
# refused at its Outgoing-Call-Request, before PPP: the server logs the
# refusal and the capture holds an Outgoing-Call-Reply with a result other
# than 1 (connected), while call one keeps working.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    pptp_tap || exit 1
    serve_config '.server.ports.pptp = 1'
    serve_start || exit 1
    serve_watch
    exit 0 ;;
stop)
    serve_stop
    pptp_tap_del
    exit 0 ;;
check)
    expect_guest_status 0
    expect_log 'session [0-9]+ up user=alice addr=[0-9.]+ method=MS-CHAPv2' "server: alice up"
    expect_log 'outgoing call refused: all 1 PPTP ports are in use' "server: second call refused"
    no_log 'session [0-9]+ (up|rejected) user=carol' "server: no PPP for carol"
    expect_count 'tcp.srcport == 1723 && pptp.control_message_type == 8 && pptp.out_result == 1' 1 "Outgoing-Call-Reply connected (call one)"
    expect_count 'tcp.srcport == 1723 && pptp.control_message_type == 8 && pptp.out_result != 1' 1 "Outgoing-Call-Reply refusing call two"
    expect_console '^SERVE-PING lac=one sent=1 received=1$' "guest: call one still answered"
    expect_stat '.refused_ports >= 1 and .sessions_up_total == 1' "one call refused for want of a port"
    expect_exit_clean
    explain
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
