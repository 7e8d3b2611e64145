#!/usr/bin/env bash
# serve-ipsec-psk host side: vnet serve with the lab configuration of
# serve-host-lib.sh and serve.ipsec (pre-shared key, IKE and ESP on the tap
# device's address, L2TP outside IPsec refused); the guest's charon brings up
# the SA, its xl2tpd + pppd dial as alice inside it with MS-CHAPv2 and MPPE-128.
# Passes when the server logs the IKE SA and the transport-mode child up, the
# tunnel and the session up with an address from the pool, pppd got it and
# three pings were answered; the server's capture holds Main Mode, Quick Mode
# and ESP both ways and no L2TP in the clear, and with the keys the server
# wrote beside it tshark finds the L2TP set-up inside the ESP; `vnet show ike`
# and `vnet show sa` listed the SAs while the session was up.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    ipsec_tap || exit 1
    serve_config '.policies[0].profile.encryption = ["strongest"] |
        .serve.ipsec = {"listen": "192.0.2.1", "psk": "vnet-interop-psk-51c2"}'
    serve_start || exit 1
    serve_watch
    exit 0 ;;
stop)
    serve_stop
    pptp_tap_del
    exit 0 ;;
check)
    check_ipsec_call_ok alice esp
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
