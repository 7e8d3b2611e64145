# serve-pptp-no-answer: TCP 1723 is dropped on its way to the server (the
# host side's nft rule): pptp-linux's connection gets no SYN-ACK and pppd is
# stopped after 20 s.
SCEN=serve-pptp-no-answer
. /scenario/lib.sh
pptp_dial one /scenario/options.one
st=1
ppp_wait one 20
[ "$PPP_RESULT" != up ] && st=0
pptp_stop
pptp_logs one
exit $st
