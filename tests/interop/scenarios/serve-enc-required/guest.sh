# serve-enc-required: xl2tpd + pppd dial vnet serve as alice with MS-CHAPv2
# and without CCP (no encryption), while the server's policy requires the
# strongest: authentication succeeds, then the server ends the link.
SCEN=serve-enc-required
. /scenario/lib.sh
lac_start /scenario/lac.conf
ppp_wait one 50
ppp_wait_down one 30
st=$?
lac_stop one
show_logs one
exit $st
