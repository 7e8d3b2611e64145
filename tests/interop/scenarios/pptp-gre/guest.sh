# pptp-gre: Debian's pppd driving pptp-linux (pty mode) dials the host's pptpd
# over a tap device; the guest's PPP frames must leave as enhanced GRE.
# Nothing on the host speaks PPP (pppd cannot run there): the guest checks
# that the call came up and that pppd sent its LCP requests into it.
syslogd -O /tmp/messages
echo "pptp-gre: pppd pty pptp $HOST_IP"
pppd pty "pptp $HOST_IP --nolaunchpppd --nohostroute" file /scenario/options.pptp nodetach > /tmp/pppd.out 2>&1 &
ppd=$!
call=0 lcp=0
i=0
while [ $i -lt 30 ]; do
    grep -q 'Outgoing call established' /tmp/messages 2>/dev/null && call=1
    lcp=$(grep -c 'sent \[LCP ConfReq' /tmp/pppd.log 2>/dev/null)
    [ $call = 1 ] && [ "${lcp:-0}" -ge 3 ] && break
    kill -0 $ppd 2>/dev/null || break
    sleep 0.5
    i=$((i + 1))
done
echo "pptp-gre: call=$call lcp-requests=${lcp:-0} after $((i / 2))s"
kill $ppd 2>/dev/null
sleep 1
echo "===== guest pptp messages"
grep -i pptp /tmp/messages | cut -c1-160 | tail -n 12
echo "===== guest pppd log"
head -n 12 /tmp/pppd.log
[ $call = 1 ] && [ "${lcp:-0}" -ge 3 ]
