# serve-pptp-busy: the server lets one control connection carry one call.
# Call "one" (alice) comes up; call "two" (carol; pptp-linux puts it on the
# same control connection) must be refused before PPP with the
# Outgoing-Call-Reply's Busy, and pppd ends.
SCEN=serve-pptp-busy
. /scenario/lib.sh
pptp_dial one /scenario/options.one
st=1
if ppp_wait one 50; then
    pptp_dial two /scenario/options.two
    ppp_wait two 40
    [ "$PPP_RESULT" = ended ] && st=0
    pptp_follow one
    ppp_ping one 1 || st=1
fi
pptp_stop
pptp_logs one two
exit $st
