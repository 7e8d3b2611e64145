# serve-ports: the server has one L2TP port.  Call "one" (alice) comes up;
# then call "two" (carol, a second tunnel) is dialed and must be refused
# before PPP: the server answers its ICRQ with a CDN.
SCEN=serve-ports
. /scenario/lib.sh
lac_start /scenario/lac.conf
st=1
if ppp_wait one 50; then
    ppp_ping one 1
    lac_dial two
    ppp_wait two 30 'peer closing for reason|Connection closed to .*serial'
    if [ "$PPP_RESULT" = ended ] && [ ! -s /tmp/pppd-two.log ]; then
        say "call two ended before PPP: $(grep -E 'peer closing for reason|Connection closed to .*serial' $XLOG | head -n1)"
        st=0
    fi
fi
lac_stop one two
show_logs one two
exit $st
