# serve-ipsec-proposal: charon offers only 3DES/SHA1/MODP-1024 for Main Mode,
# which the server's policy (serve.ipsec.phase1) leaves out: the server answers
# NO-PROPOSAL-CHOSEN and no SA comes up.
SCEN=serve-ipsec-proposal
. /scenario/lib.sh
ipsec_up "vnet-interop-psk-51c2" && st=1 || st=0
ipsec_down
exit $st
