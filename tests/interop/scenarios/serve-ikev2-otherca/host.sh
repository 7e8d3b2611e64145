#!/usr/bin/env bash
# serve-ikev2-otherca host side: as serve-ikev2-eap, the server's certificate from the
# corporate CA, but the clients (the guest) trust rogue-CA alone, and the server is told
# so (certs.client_ca). Passes when the server predicts at start-up, from `vnet cert pick`,
# that clients will fail with 13801 and `vnet cert pick --purpose ikev2` on the same store
# says the same, charon finds no trusted key for the server's certificate and gives up,
# the server ends the SA with ike.v2.auth-failed, and no session, ESP or accounting
# record comes of it.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    command -v openssl > /dev/null || { echo "skip: openssl not installed"; exit 77; }
    ipsec_tap || exit 1
    ikev2_certs store-right rogue || exit 1
    echo "$CERT_STORE" > "$W/store"
    ikev2_config
    serve_start || exit 1
    exit 0 ;;
stop)
    serve_stop
    pptp_tap_del
    exit 0 ;;
check)
    expect_guest_status 0
    expect_log 'IKEv2: presenting .*cert pick says clients will fail with 13801' "server: the pick and its 13801 prediction"
    out=$("$VNET" cert pick --store "$(cat "$W/store")" --client-ca "$W/pki/rogue.pem" \
        --server-name vpn.l2tp.test --purpose ikev2 2>&1)
    if grep -q '13801' <<< "$out"; then good "vnet cert pick --purpose ikev2 on the store predicts 13801"
    else bad "vnet cert pick does not predict 13801: $(head -c 300 <<< "$out")"; fi
    expect_console '^SERVE-IKEV2 result=failed ' "guest: charon could not bring up the SA"
    expect_console 'no trusted RSA public key|constraint check failed|no issuer certificate' \
        "guest charon: the server's certificate is not trusted"
    expect_log 'ike\.v2\.auth-failed' "server: the SA ended as ike.v2.auth-failed"
    no_log 'IKE SA up' "server: no IKE SA up"
    no_log 'session [0-9]+ up ' "server: no session up"
    if [ -s "$ACCT" ]; then bad "accounting: $(wc -l < "$ACCT") record(s)"; else good "accounting: no record"; fi
    # one IKE_AUTH request: charon answers the server's with an INFORMATIONAL (37)
    expect_ikev2_exchanges 1
    expect_count 'isakmp.exchangetype == 37 && ip.src == 192.0.2.2' 1 "INFORMATIONAL from the client (its AUTHENTICATION_FAILED)"
    n=$(count 'ip.proto == 50')
    if [ "$n" = 0 ]; then good "capture: no ESP"; else bad "capture: $n ESP packets"; fi
    expect_stat '.sessions_up_total == 0 and .ikev2.sas_up == 0 and .ikev2.sas_failed >= 1' "no session, one IKEv2 SA failed"
    expect_exit_clean
    explain
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
