# ipsec-pki.sh: the certificates of the L2TP/IPsec certificate tests (sourced, not run),
# made with openssl under $PKI: CAs corp (the CA of the clients' computer certificates and
# the one they trust), public (a public CA with a wildcard IP-HTTPS certificate) and rogue
# (a CA nobody trusts); the server's vpn.l2tp.test from corp, client1.l2tp.test from corp,
# intruder.l2tp.test from rogue; the stores the server picks from:
#   store-right   one certificate, from the clients' CA: cert pick's choice works
#   store-787     the store of KB 2855053: the public wildcard certificate first, so cert
#                 pick chooses it and the clients fail with 787
# Valid for two days from the moment they are made.
key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
ca() { # NAME SUBJECT
    key "$PKI/$1.key"
    openssl req -x509 -new -key "$PKI/$1.key" -subj "$2" -days 2 -sha256 \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" -out "$PKI/$1.pem" 2>/dev/null
}
leaf() { # CA NAME SUBJECT SAN EKU
    key "$PKI/$2.key"
    openssl req -new -key "$PKI/$2.key" -subj "$3" -out "$PKI/$2.csr" 2>/dev/null
    printf '%s\n' "basicConstraints=CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=$5" \
        "subjectAltName=$4" "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" \
        > "$PKI/$2.ext"
    openssl x509 -req -in "$PKI/$2.csr" -CA "$PKI/$1.pem" -CAkey "$PKI/$1.key" \
        -CAcreateserial -days 2 -sha256 -extfile "$PKI/$2.ext" -out "$PKI/$2.pem" 2>/dev/null
}
make_pki() {
    ca corp "/DC=test/DC=l2tp/CN=corp-CA"
    ca public "/C=US/O=Example Public Trust/CN=Example Public Root CA"
    ca rogue "/O=Rogue/CN=rogue-CA"
    leaf corp vpn "/DC=test/DC=l2tp/CN=vpn.l2tp.test" "DNS:vpn.l2tp.test" \
        "serverAuth,clientAuth,1.3.6.1.5.5.8.2.2"
    leaf public iphttps "/C=US/O=L2TP Test/CN=*.l2tp.test" "DNS:*.l2tp.test" \
        "serverAuth,clientAuth"
    leaf corp client "/DC=test/DC=l2tp/CN=client1.l2tp.test" "DNS:client1.l2tp.test" \
        "clientAuth,serverAuth"
    leaf rogue rogue-client "/O=Rogue/CN=intruder.l2tp.test" "DNS:intruder.l2tp.test" \
        "clientAuth,serverAuth"
    # the store of one certificate from the clients' CA
    mkdir -p "$PKI/store-right/roots"
    cp "$PKI/vpn.pem" "$PKI/vpn.key" "$PKI/store-right/"
    cp "$PKI/corp.pem" "$PKI/store-right/roots/"
    # KB 2855053: the IP-HTTPS wildcard certificate of a public CA first in the store
    mkdir -p "$PKI/store-787/roots"
    cp "$PKI/iphttps.pem" "$PKI/store-787/01-iphttps.pem"
    cp "$PKI/iphttps.key" "$PKI/store-787/01-iphttps.key"
    cp "$PKI/vpn.pem" "$PKI/store-787/02-l2tp.pem"
    cp "$PKI/vpn.key" "$PKI/store-787/02-l2tp.key"
    cp "$PKI/corp.pem" "$PKI/public.pem" "$PKI/store-787/roots/"
    printf '%s\n' 01-iphttps.pem 01-iphttps.key 02-l2tp.pem 02-l2tp.key > "$PKI/store-787/store.order"
    cat "$PKI/corp.pem" "$PKI/rogue.pem" > "$PKI/corp-and-rogue.pem"
    [ -s "$PKI/rogue-client.pem" ] && [ -s "$PKI/iphttps.pem" ]
}
