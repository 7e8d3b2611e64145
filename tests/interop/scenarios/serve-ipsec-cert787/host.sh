#!/usr/bin/env bash
# serve-ipsec-cert787 host side: vnet serve with serve.ipsec authenticating by
# certificates from the store of KB 2855053 (a public CA's wildcard IP-HTTPS
# certificate first, the corporate one second): `vnet cert pick --purpose l2tp`
# chooses the first, the server presents it and says at start-up that clients
# will fail with 787. Passes when that prediction is logged and `vnet cert pick`
# on the same store says 787 too, the guest's charon refused the server's
# certificate, the server recorded cert.l2tp.error-787, and no tunnel came up.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    command -v openssl > /dev/null || { echo "skip: openssl not installed"; exit 77; }
    ipsec_tap || exit 1
    ipsec_certs store-787 || exit 1
    echo "$CERT_STORE" > "$W/store"
    serve_config ".certs = {\"store\": \"$CERT_STORE\", \"client_ca\": \"$PKI/corp.pem\"} |
        .serve.ipsec = {\"listen\": \"192.0.2.1\", \"auth\": \"certificate\"}"
    serve_start || exit 1
    exit 0 ;;
stop)
    serve_stop
    pptp_tap_del
    exit 0 ;;
check)
    expect_guest_status 0
    expect_log 'ike presenting .*cert pick says clients will fail with 787' "server: the pick and its 787 prediction"
    out=$("$VNET" cert pick --store "$(cat "$W/store")" --client-ca "$W/pki/corp.pem" --purpose l2tp 2>&1)
    if grep -q '787' <<< "$out"; then good "vnet cert pick on the store predicts 787"
    else bad "vnet cert pick does not predict 787: $(head -c 300 <<< "$out")"; fi
    expect_console '^SERVE-IPSEC result=failed ' "guest: charon could not set up the SA"
    expect_console 'no trusted RSA public key|constraint check failed|not trusted|no issuer certificate' "guest charon: the server's certificate is not trusted"
    expect_log 'cert\.l2tp\.error-787' "server: cert.l2tp.error-787"
    no_log 'tunnel up peer=' "server: no L2TP tunnel"
    expect_exit_clean
    explain
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
