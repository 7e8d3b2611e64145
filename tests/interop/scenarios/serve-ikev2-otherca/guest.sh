# serve-ikev2-otherca: charon trusts another CA than the one of the server's certificate
# (the host gives it rogue-CA) and tries IKEv2 as alice with her right password: it must
# refuse the server's certificate, what Windows reports as error 13801.
SCEN=serve-ikev2-otherca
. /scenario/lib.sh
st=1
if ! ikev2_up alice 'Passw0rd!'; then
    grep -Eq 'no trusted RSA public key|constraint check failed|no issuer certificate' \
        /tmp/initiate.log /tmp/charon.log && st=0
fi
ikev2_down
exit $st
