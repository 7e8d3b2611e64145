# rules-ipcp-address: xl2tpd + pppd dial vnet serve as alice with MS-CHAPv2,
# without CCP, asking IPCP for the address 10.99.99.5 of their own and not
# accepting another (no ipcp-accept-local): the server Naks the address,
# then rejects it, and IPCP cannot complete.
SCEN=rules-ipcp-address
. /scenario/lib.sh
lac_start /scenario/lac.conf
ppp_wait one 60
ppp_wait_down one 40
st=$?
lac_stop one
show_logs one
exit $st
