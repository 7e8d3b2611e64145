#!/usr/bin/env bash
# serve-ipsec-proposal host side: vnet serve with serve.ipsec on the tap
# device's address and a Main Mode policy of AES with SHA2 and ECP groups
# only (serve.ipsec.phase1); the guest offers 3DES/SHA1/MODP-1024.
# Passes when the server logged ike.v1.no-proposal naming what was offered,
# answered NO-PROPOSAL-CHOSEN (notify 14) that charon received, no SA came up,
# and `vnet pcap explain` of the server's capture names the failed proposal.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    ipsec_tap || exit 1
    serve_config '.serve.ipsec = {"listen": "192.0.2.1", "psk": "vnet-interop-psk-51c2",
        "phase1": "aes256-sha256-ecp384,aes128-sha256-ecp256"}'
    serve_start || exit 1
    exit 0 ;;
stop)
    serve_stop
    pptp_tap_del
    exit 0 ;;
check)
    expect_guest_status 0
    expect_console '^SERVE-IPSEC result=failed ' "guest: charon could not set up the SA"
    expect_log 'ike sa=[0-9]+ .*ike\.v1\.no-proposal.*3des' "server: ike.v1.no-proposal naming the offer"
    expect_count 'isakmp.notify.msgtype == 14' 1 "NO-PROPOSAL-CHOSEN notify from the server"
    expect_console 'NO_PROPOSAL_CHOSEN' "guest charon received NO_PROPOSAL_CHOSEN"
    no_log 'IKE SA up' "server: no IKE SA up"
    expect_exit_clean
    explain
    if grep -qi 'proposal' "$CAP.explain"; then good "vnet pcap explain names the proposal failure"
    else bad "vnet pcap explain says nothing of the proposal: $(head -c 600 "$CAP.explain")"; fi
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
