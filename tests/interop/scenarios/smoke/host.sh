#!/usr/bin/env bash
# smoke: no host side; the guest must report every module and client version.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
case "$1" in
start|stop) exit 0 ;;
check)
    log=$INTEROP_CONSOLE
    rc=0
    [ "$INTEROP_GUEST_STATUS" = 0 ] || { echo "guest.sh failed with status $INTEROP_GUEST_STATUS"; rc=1; }
    grep -q 'modules loaded, 0 failed' "$log" || { echo "some kernel modules failed to load"; rc=1; }
    grep -q '^smoke: /dev/ppp present' "$log" || { echo "no /dev/ppp in the guest"; rc=1; }
    grep -Eq '^smoke: pppd: pppd version [0-9]' "$log" || { echo "pppd did not report its version"; rc=1; }
    grep -Eq '^smoke: xl2tpd: xl2tpd version: +xl2tpd-[0-9]' "$log" || { echo "xl2tpd did not report its version"; rc=1; }
    grep -Eq '^smoke: pptp: pptp version [0-9]' "$log" || { echo "pptp did not report its version"; rc=1; }
    grep -Eq '^smoke: charon: Linux strongSwan [0-9]' "$log" || { echo "charon did not report its version"; rc=1; }
    grep -q '^smoke: kernel warnings: 0$' "$log" || { echo "the guest kernel logged a warning"; rc=1; }
    [ $rc = 0 ] && grep '^smoke: [a-z0-9]*: .*[0-9]' "$log" | grep -v module | sed 's/^smoke: /  /'
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
