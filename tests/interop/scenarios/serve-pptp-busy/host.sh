#!/usr/bin/env bash
# serve-pptp-busy host side: serve.pptp.calls_per_connection = 1 with PPTP
# ports to spare.  Call one (alice) comes up; call two (carol), which
# pptp-linux places on the same control connection, must be refused at its
# Outgoing-Call-Request with result 4 (Busy), before PPP, while call one keeps
# working.  The server's capture grounds the rule pptp.ocrp.failed
# (tests/captures/serve-pptp-busy.pcap).
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    pptp_tap || exit 1
    serve_config '.serve.pptp.calls_per_connection = 1'
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
    expect_log 'refused: the connection has its calls \(calls per connection\): OCRP result 4' "server: second call refused as busy"
    no_log 'session [0-9]+ (up|rejected) user=carol' "server: no PPP for carol"
    expect_count 'tcp.srcport == 1723 && pptp.control_message_type == 8 && pptp.out_result == 1' 1 "Outgoing-Call-Reply connected (call one)"
    expect_count 'tcp.srcport == 1723 && pptp.control_message_type == 8 && pptp.out_result == 4' 1 "Outgoing-Call-Reply Busy (call two)"
    expect_console '^SERVE-PING lac=one sent=1 received=1$' "guest: call one still answered"
    expect_stat '.sessions_up_total == 1' "one session served"
    expect_exit_clean
    explain
    if grep -q '(pptp.ocrp.failed)' "$CAP.explain"; then
        good "vnet pcap explain names the refused call (pptp.ocrp.failed)"
    else
        bad "vnet pcap explain does not name pptp.ocrp.failed: $(head -c 600 "$CAP.explain")"
    fi
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
