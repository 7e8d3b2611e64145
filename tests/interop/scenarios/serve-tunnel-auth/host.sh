#!/usr/bin/env bash
# serve-tunnel-auth host side: vnet serve with the lab configuration of
# serve-host-lib.sh and an L2TP tunnel secret (serve.l2tp.secret).  The
# guest's LAC "one" (host name good-lac) has the same secret and asks for
# tunnel authentication (challenge = yes); its tunnel, session and pings
# must work, with Challenge and Challenge Response AVPs both ways in the
# capture.  Its LAC "bad" (host name bad-lac) has another secret and only
# answers the server's challenge: the server must refuse its SCCCN with a
# StopCCN and log why.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    serve_config '.serve.l2tp.secret = "s3cret"'
    serve_start || exit 1
    serve_watch
    exit 0 ;;
stop)
    serve_stop
    exit 0 ;;
check)
    expect_guest_status 0
    expect_log 'tunnel up peer=[^ ]+ host=good-lac' "server: good-lac's tunnel up"
    no_log 'tunnel up peer=[^ ]+ host=bad-lac' "server: no tunnel up for bad-lac"
    expect_log 'session [0-9]+ up user=alice addr=[0-9.]+ method=MS-CHAPv2' "server: alice up"
    expect_console '^SERVE-PING lac=one sent=3 received=3$' "guest: the server answered every ping"
    expect_l2tp_setup
    expect_count 'udp.dstport == 1701 && l2tp.avp.message_type == 1 && l2tp.avp.chap_challenge && l2tp.avp.host_name == "good-lac"' 1 \
        "SCCRQ from good-lac with a Challenge"
    expect_count 'udp.srcport == 1701 && l2tp.avp.message_type == 2 && l2tp.avp.chap_challenge_response && l2tp.avp.chap_challenge' 1 \
        "SCCRP with a Challenge Response and a Challenge"
    expect_count 'udp.srcport == 1701 && l2tp.avp.message_type == 2 && l2tp.avp.chap_challenge' 2 \
        "SCCRPs with a Challenge (both LACs)"
    expect_count 'udp.dstport == 1701 && l2tp.avp.message_type == 3 && l2tp.avp.chap_challenge_response' 2 \
        "SCCCNs with a Challenge Response (both LACs)"
    expect_count 'udp.srcport == 1701 && l2tp.avp.message_type == 4 && l2tp.result_code == 4' 1 \
        "StopCCN with result 4 from the server (the bad tunnel)"
    expect_log 'tunnel .*StopCCN result 4 .*(Challenge|secret|authentication)' "server: the refusal of the bad tunnel logged"
    expect_console '^serve-tunnel-auth: bad tunnel: .*peer closing for reason 4 ' \
        "guest xl2tpd: StopCCN result 4 for the bad tunnel"
    expect_exit_clean
    explain
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
