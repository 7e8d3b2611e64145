#!/usr/bin/env bash
# serve-ipsec-cert host side: vnet serve with serve.ipsec authenticating by
# certificates (serve.ipsec.auth certificate): certs.store holds one machine
# certificate from the corporate CA, which `vnet cert pick --purpose l2tp`
# chooses and the clients trust; the guest's charon has a computer certificate
# from the same CA. Passes as serve-ipsec-psk (session up inside the SA,
# pings, show ike/sa, ESP both ways, keys beside the capture), with the server
# logging the pick it presents and that clients accept it, the IKE SA up with
# rsa-sig and the client's certificate verified.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    command -v openssl > /dev/null || { echo "skip: openssl not installed"; exit 77; }
    ipsec_tap || exit 1
    ipsec_certs store-right || exit 1
    serve_config ".policies[0].profile.encryption = [\"strongest\"] |
        .certs = {\"store\": \"$CERT_STORE\", \"client_ca\": \"$PKI/corp.pem\"} |
        .serve.ipsec = {\"listen\": \"192.0.2.1\", \"auth\": \"certificate\"}"
    serve_start || exit 1
    serve_watch
    exit 0 ;;
stop)
    serve_stop
    pptp_tap_del
    exit 0 ;;
check)
    expect_log 'ike presenting .*vnet|ike presenting ' "server: the certificate it presents, from cert pick"
    no_log 'clients will fail' "server: cert pick predicts no failure"
    expect_log 'IKE SA up: .*rsa-sig' "server: IKE SA up with RSA signatures"
    check_ipsec_call_ok alice esp
    if jq -e '.ike[0].auth == "rsa-sig"' "$W/ike.json" > /dev/null 2>&1; then good "vnet show ike: auth rsa-sig"
    else bad "vnet show ike does not say rsa-sig: $(head -c 300 "$W/ike.json")"; fi
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
