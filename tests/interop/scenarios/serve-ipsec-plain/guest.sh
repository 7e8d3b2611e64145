# serve-ipsec-plain: xl2tpd dials vnet serve without IPsec while the server
# takes L2TP only inside IPsec (serve.ipsec.required): the SCCRQ is dropped,
# xl2tpd gets no answer and gives up.
SCEN=serve-ipsec-plain
. /scenario/lib.sh
ipsec_lac_start
ppp_wait one 25 'Maximum retries exceeded|tunnel.*closed|Connection .* closed'
r=$PPP_RESULT
lac_stop one
show_logs one
[ "$r" != up ]
