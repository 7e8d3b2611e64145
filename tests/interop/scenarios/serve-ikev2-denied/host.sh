#!/usr/bin/env bash
# serve-ikev2-denied host side: as serve-ikev2-eap; bob's account denies dial-in. Passes
# when charon's EAP-MSCHAPv2 with bob's right password fails, the server logs bob's
# rejection with error 649 and the policy engine's reason (no-dialin-permission), `vnet
# policy test` of the same attempt over ikev2 gives the same error and reason, and no SA,
# session, ESP or accounting record comes of it; `vnet pcap explain --keys` with the
# server's keys file fails the session in ike-auth with 649 and leads with
# mschap.error-649.
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
    exit 0 ;;
stop)
    serve_stop
    pptp_tap_del
    exit 0 ;;
check)
    check_ikev2_refused bob Passw0rd! 649 no-dialin-permission
    # with the server's keys file, pcap explain reads the EAP-MS-CHAPv2 Failure inside
    # the encrypted IKE_AUTH: failed in ike-auth with 649, led by its MS-CHAP rule
    ex=$("$VNET" pcap explain --json --keys "$CAP.keys" "$CAP" 2> /dev/null |
         jq -r '.sessions[] | select(.protocol == "ikev2") |
                "\(.outcome) \(.failed_phase) \(.error) \(.diagnoses[0].rule)"' | head -n1)
    if [ "$ex" = "failed ike-auth 649 mschap.error-649" ]; then
        good "vnet pcap explain --keys: failed in ike-auth, 649, mschap.error-649"
    else
        bad "vnet pcap explain --keys says '$ex', not 'failed ike-auth 649 mschap.error-649'"
    fi
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
