#!/usr/bin/env bash
# serve-enc-required host side: vnet serve whose policy allows the strongest
# encryption only; the guest's pppd authenticates as alice with MS-CHAPv2 and
# refuses CCP.  Passes when authentication succeeds, the server ends the link
# for its encryption with the Windows error `vnet policy test` gives for an
# unencrypted attempt, nothing is accounted as up, and `vnet pcap explain` on
# the server's capture says the server ended the link after authentication.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    serve_config '.policies[0].profile.encryption = ["strongest"]'
    serve_start || exit 1
    exit 0 ;;
stop)
    serve_stop
    exit 0 ;;
check)
    expect_guest_status 0
    expect_log 'tunnel up peer=' "server: tunnel up"
    printf '{"user": "alice", "password": "Passw0rd!", "tunnel": "l2tp", "auth": "mschapv2", "encryption": "none"}\n' > "$W/attempt.json"
    want=$("$VNET" --config "$CONF" policy test --json "$W/attempt.json" 2> /dev/null | jq -r '.error')
    expect_log "the link negotiated encryption none, .* the client shows error $want\$" \
        "server: the link ended for its encryption with policy test's error $want"
    expect_log 'session [0-9]+ down cause=encryption-not-allowed user=alice' "server: session ended for its encryption"
    expect_console 'CHAP authentication succeeded' "guest pppd: authentication succeeded"
    expect_console '^SERVE-DOWN lac=one how=(terminated-by-peer|hangup) ' "guest pppd: the server ended the link"
    expect_count 'lcp && ppp.code == 5 && udp.srcport == 1701' 1 "LCP Terminate-Request from the server"
    expect_exit_clean
    explain
    if grep -q 'ppp.lcp.terminated-after-auth' "$CAP.explain"; then
        good "vnet pcap explain: the server ended the link after authentication"
    else
        bad "vnet pcap explain does not fire ppp.lcp.terminated-after-auth: $(head -c 600 "$CAP.explain")"
    fi
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
