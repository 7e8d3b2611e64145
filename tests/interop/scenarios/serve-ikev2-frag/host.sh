#!/usr/bin/env bash
# serve-ikev2-frag host side: as serve-ikev2-eap with serve.ikev2.fragment_size 576 (the
# IKE_AUTH answer with the server's certificate is about 1350 bytes). Passes as
# serve-ikev2-eap (alice up with a pool address, three pings through ESP, show, accounting,
# the client's DELETE) when moreover the server's capture holds IKE_AUTH messages in
# Encrypted Fragment payloads (SKF, type 53) both ways, none of the server's IKE datagrams
# is longer than 576 bytes, and charon reports reassembling the server's fragments.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    command -v openssl > /dev/null || { echo "skip: openssl not installed"; exit 77; }
    ipsec_tap || exit 1
    ikev2_certs store-right corp || exit 1
    ikev2_config '.serve.ikev2.fragment_size = 576'
    serve_start || exit 1
    ikev2_watch
    exit 0 ;;
stop)
    serve_stop
    pptp_tap_del
    exit 0 ;;
check)
    check_ikev2_ok alice
    expect_count 'isakmp.exchangetype == 35 && isakmp.typepayload == 53 && ip.src == 192.0.2.2' 2 \
        "IKE_AUTH fragments (SKF) from the client"
    expect_count 'isakmp.exchangetype == 35 && isakmp.typepayload == 53 && ip.dst == 192.0.2.2' 3 \
        "IKE_AUTH fragments (SKF) from the server"
    n=$(count 'isakmp && ip.src == 192.0.2.1 && ip.len > 576')
    if [ "$n" = 0 ]; then good "capture: no IKE datagram from the server over 576 bytes"
    else bad "capture: $n IKE datagrams from the server over 576 bytes"; fi
    expect_console 'splitting IKE message .* into [0-9]+ fragments' "guest charon: its IKE_AUTH request split into fragments"
    expect_console 'reassembled fragmented IKE message' "guest charon: the server's fragments reassembled"
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
