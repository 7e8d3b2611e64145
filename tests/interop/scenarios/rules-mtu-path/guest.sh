# rules-mtu-path: xl2tpd + pppd dial vnet serve as alice with MS-CHAPv2 and
# without CCP (IP in the clear inside L2TP), with a PPP MTU of 1500 over a
# guest interface whose MTU is 1500 too.  Full-size pings (1500-byte IP
# packets inside the tunnel) and a TCP connection attempt whose SYN carries
# the MSS of a 1500-byte MTU; the kernel's fragment counter shows that the
# tunnelled packets no longer fit the path.
SCEN=rules-mtu-path
. /scenario/lib.sh
# frags NAME: the kernel's IP counter NAME (FragCreates, ReasmOKs)
frags() {
    awk -v k="$1" '$1 == "Ip:" { if (!h) { for (i = 2; i <= NF; i++) if ($i == k) c = i; h = 1 } else print $c }' /proc/net/snmp
}
echo "guest eth0 mtu: $(cat /sys/class/net/eth0/mtu)"
lac_start /scenario/lac.conf
st=1
if ppp_wait one 50; then
    echo "guest $PPP_IF mtu: $(cat /sys/class/net/$PPP_IF/mtu)"
    f0=$(frags FragCreates)
    r0=$(frags ReasmOKs)
    ping -c 3 -W 3 -s 1472 -I "$PPP_IF" "$PPP_PEER" > /tmp/ping-one.out 2>&1
    sed 's/^/    /' /tmp/ping-one.out
    rcvd=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/ping-one.out)
    echo "SERVE-PING lac=one sent=3 received=${rcvd:-0}"
    echo | timeout 8 nc -w 5 "$PPP_PEER" 80 > /dev/null 2>&1
    f1=$(frags FragCreates)
    r1=$(frags ReasmOKs)
    echo "MTU-FRAGS created=$((f1 - f0)) reassembled=$((r1 - r0))"
    [ "${rcvd:-0}" -ge 1 ] && st=0
fi
lac_stop one
show_logs one
exit $st
