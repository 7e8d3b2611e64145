#!/usr/bin/env bash
# serve-ipsec-natt host side: vnet serve with serve.ipsec on 127.0.0.1 (the
# guest reaches it as 10.0.2.2 through qemu's user networking, a NAT); the
# guest's charon brings up the SA, its xl2tpd + pppd dial as alice inside it.
# Passes as serve-ipsec-psk, with NAT seen on both sides and the ESP carried
# in UDP on port 4500 (`vnet show sa` says udp).
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    serve_config '.policies[0].profile.encryption = ["strongest"] |
        .serve.ipsec = {"psk": "vnet-interop-psk-51c2"}'
    serve_start || exit 1
    serve_watch
    exit 0 ;;
stop)
    serve_stop
    exit 0 ;;
check)
    check_ipsec_call_ok alice udp
    if jq -e '.ike[0].nat == true' "$W/ike.json" > /dev/null 2>&1; then good "vnet show ike: NAT seen"
    else bad "vnet show ike does not report the NAT"; fi
    expect_console 'NAT' "guest charon: NAT detected"
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
