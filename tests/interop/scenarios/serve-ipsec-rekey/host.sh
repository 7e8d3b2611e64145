#!/usr/bin/env bash
# serve-ipsec-rekey host side: vnet serve with serve.ipsec on the tap device's
# address (pre-shared key); the guest's call lives through charon's ESP rekeys
# and an IKE reauthentication.
# Passes when the session stayed up throughout (one session, every ping
# answered, ended by the client's hang-up), the server saw more than one child SA and a
# second IKE SA of the same client replace the first (its tunnel moved there),
# and ESP arrived on the rekeyed SAs.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    ipsec_tap || exit 1
    serve_config '.serve.ipsec = {"listen": "192.0.2.1", "psk": "vnet-interop-psk-51c2"}'
    serve_start || exit 1
    exit 0 ;;
stop)
    serve_stop
    pptp_tap_del
    exit 0 ;;
check)
    expect_guest_status 0
    n=$(grep -c '^SERVE-PING lac=one sent=[0-9]* received=[1-9]' "$CONSOLE")
    if [ "$n" = 3 ]; then good "guest: pings answered before, between and after the rekeys"
    else bad "guest: $n of 3 ping rounds answered"; fi
    n=$(grep -Ec 'ike sa=[0-9]+ .* child [0-9a-f]+/[0-9a-f]+ up: ' "$SLOG")
    if [ "$n" -ge 3 ]; then good "server: $n child SAs up (rekeys)"; else bad "server: $n child SAs up, wanted 3 or more"; fi
    expect_log 'ike sa=1 .*(replaced by sa=[0-9]+ of the same client: its L2TP tunnels move there|gone; its L2TP tunnels move to sa=[0-9]+ of the same client)' "server: the reauthenticated IKE SA took the tunnel"
    n=$(grep -Ec 'session [0-9]+ up user=' "$SLOG")
    if [ "$n" = 1 ]; then good "server: one session throughout"; else bad "server: $n sessions up"; fi
    expect_log "session [0-9]+ down cause=l2tp-cdn-1-0 .*rx_bytes=[1-9]" "server: the session ended with the client's hang-up (not with an SA)"
    spis=$(tshark -r "$CAP" -Y 'esp && ip.src == 192.0.2.2' -T fields -e esp.spi 2> /dev/null | sort -u | wc -l)
    if [ "$spis" -ge 3 ]; then good "capture: ESP from the client on $spis SPIs"; else bad "capture: ESP from the client on $spis SPIs, wanted 3 or more"; fi
    expect_exit_clean
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
