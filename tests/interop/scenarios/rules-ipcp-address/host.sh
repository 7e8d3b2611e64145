#!/usr/bin/env bash
# rules-ipcp-address host side: vnet serve with the lab configuration of
# serve-host-lib.sh (addresses from its pool only); the guest's pppd
# authenticates as alice with MS-CHAPv2, refuses CCP and insists on the IPCP
# address 10.99.99.5.  Passes when authentication succeeds, the server Naks
# that address with one of its pool and at last rejects the option, pppd
# gets no address, the server ends IPCP (735) instead of calling a session up
# with an address pppd never took, and `vnet pcap explain` on the server's
# capture leads with ipcp.address-rejected (the failure is IPCP's, not the
# refused CCP's).
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
. "$(dirname "$0")/../serve-host-lib.sh"
case "$1" in
start)
    serve_need
    serve_config
    serve_start || exit 1
    exit 0 ;;
stop)
    serve_stop
    exit 0 ;;
check)
    expect_guest_status 0
    expect_log 'tunnel up peer=' "server: tunnel up"
    expect_console '^SERVE-PPP lac=one result=(ended|timeout) ' "guest pppd: IPCP gave it no address"
    n=$(grep -c 'local  IP address' "$CONSOLE")
    [ "$n" -eq 0 ] && good "guest pppd never took an address" || bad "guest pppd took an address"
    expect_console 'CHAP authentication succeeded' "guest pppd: authentication succeeded"
    expect_log 'IPCP: the client does not take the address the server assigns' \
        "server: IPCP fails on the address pppd would not take"
    no_log 'session [0-9]+ up ' "server: no session called up with an address pppd never took"
    n=$(tshark -r "$CAP" -Y 'ipcp && ppp.code == 3 && udp.srcport == 1701 && ipcp.opt.ip_address == 10.99.99.5' 2> /dev/null | wc -l)
    [ "$n" -eq 0 ] && good "the server never Naks with the client's own address" ||
        bad "a server Nak carries 10.99.99.5"
    expect_count 'ipcp && ppp.code == 1 && udp.dstport == 1701 && ipcp.opt.ip_address == 10.99.99.5' 1 \
        "the client's Configure-Requests for 10.99.99.5"
    expect_count 'ipcp && ppp.code == 3 && udp.srcport == 1701 && ipcp.opt.ip_address == 192.168.10.101' 1 \
        "IPCP Configure-Naks from the server offering a pool address"
    expect_count 'ipcp && ppp.code == 4 && udp.srcport == 1701 && ipcp.opt.ip_address == 10.99.99.5' 1 \
        "IPCP Configure-Rejects of the address from the server"
    expect_exit_clean
    explain
    lead=$("$VNET" pcap explain --json "$CAP" 2> /dev/null | jq -r '.sessions[] | select(.protocol == "l2tp") | .diagnoses[0].rule' | head -n1)
    if [ "$lead" = ipcp.address-rejected ]; then
        good "vnet pcap explain leads with ipcp.address-rejected"
    else
        bad "vnet pcap explain leads with '$lead': $(head -c 600 "$CAP.explain")"
    fi
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
