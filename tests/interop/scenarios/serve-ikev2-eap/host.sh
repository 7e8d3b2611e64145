#!/usr/bin/env bash
# serve-ikev2-eap host side: vnet serve with serve.ikev2 on the tap's address (192.0.2.1),
# the server authenticated by the certificate `vnet cert pick --purpose ikev2` chooses from
# a store of one corporate certificate (the CA the guest trusts), EAP-MSCHAPv2 for the
# users through the policy (tunnel type ikev2). Passes when alice's session comes up with
# a pool address that charon installs as its virtual IP, the three pings to 192.168.10.1
# come back through ESP in tunnel mode, `show sessions`, `show ike` and `show sa` list the
# session, the SA and the child, accounting has a start and a stop of tunnel type ikev2,
# the client's DELETE ends the session, and `vnet policy test` admits the same attempt.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    command -v openssl > /dev/null || { echo "skip: openssl not installed"; exit 77; }
    ipsec_tap || exit 1
    ikev2_certs store-right corp || exit 1
    ikev2_config
    serve_start || exit 1
    ikev2_watch
    exit 0 ;;
stop)
    serve_stop
    pptp_tap_del
    exit 0 ;;
check)
    expect_log 'IKEv2: on 192\.0\.2\.1 ports 500 and 4500, server certificate' "server: IKEv2 announced"
    expect_log 'IKEv2: presenting ' "server: the certificate it presents, from cert pick"
    no_log 'clients will fail' "server: cert pick predicts no failure"
    expect_console 'installing new virtual IP 192\.168\.10\.' "guest charon: virtual IP installed"
    check_ikev2_ok alice
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
