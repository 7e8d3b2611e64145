# serve-auth-rejected: xl2tpd + pppd dial vnet serve as alice allowing PAP
# only, while the server offers MS-CHAPv2 only: no authentication protocol is
# common to both, so the link must not come up.
SCEN=serve-auth-rejected
. /scenario/lib.sh
lac_start /scenario/lac.conf
st=0
ppp_wait one 50 && st=1
lac_stop one
show_logs one
exit $st
