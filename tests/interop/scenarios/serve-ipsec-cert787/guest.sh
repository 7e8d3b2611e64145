# serve-ipsec-cert787: as serve-ipsec-cert, but the server's store is that of
# KB 2855053: a public CA's wildcard certificate first, which `vnet cert pick`
# chooses and the client does not trust. charon refuses the server (Windows
# says 787) and no SA comes up.
SCEN=serve-ipsec-cert787
. /scenario/lib.sh
ipsec_up_cert && st=1 || st=0
ipsec_down
exit $st
