# serve-ipsec-wrongpsk: charon tries IKEv1 Main Mode towards vnet serve with a
# pre-shared key other than the server's; no SA comes up (Windows says 789)
# and xl2tpd never dials.
SCEN=serve-ipsec-wrongpsk
. /scenario/lib.sh
ipsec_up "not-the-servers-key" && st=1 || st=0
ipsec_down
exit $st
