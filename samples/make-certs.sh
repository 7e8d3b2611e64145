#!/usr/bin/env bash
# Regenerates the sample certificate stores with the openssl command line.
#
#   samples/certs/        the broken server of KB 2855053: a wildcard IP-HTTPS certificate
#                         from a public CA comes first in the store, the L2TP certificate
#                         from the clients' CA second; `vnet cert pick` predicts error 787
#   samples/certs-fixed/  the same server with one certificate from the clients' CA that
#                         serves both IP-HTTPS and L2TP
#   samples/certs/clients/corp-root.pem   the CA the clients trust (--client-ca)
#
# Certificates are valid for 100 years from the day they are made, so golden tests that
# pass `--at` keep working. Regenerating changes keys and thumbprints: update the golden
# cases afterwards (tests/golden/run --update cert-) and review the diff.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
days=36500
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

# ca NAME SUBJECT: a self-signed root CA in $tmp/NAME.{key,pem}
ca() {
  key "$tmp/$1.key"
  openssl req -x509 -new -key "$tmp/$1.key" -subj "$2" -days "$days" -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -out "$tmp/$1.pem"
}

# leaf CA OUT SUBJECT SAN EKU: OUT.pem and OUT.key issued by CA
leaf() {
  local ca=$1 out=$2 subj=$3 san=$4 eku=$5
  key "$out.key"
  openssl req -new -key "$out.key" -subj "$subj" -out "$tmp/req.csr"
  cat >"$tmp/ext.cnf" <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$eku
subjectAltName=$san
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
  openssl x509 -req -in "$tmp/req.csr" -CA "$tmp/$ca.pem" -CAkey "$tmp/$ca.key" \
    -CAcreateserial -days "$days" -sha256 -extfile "$tmp/ext.cnf" -out "$out.pem" 2>/dev/null
}

ca corp "/DC=com/DC=contoso/DC=corp/CN=corp-DC1-CA"
ca public "/C=US/O=Example Public Trust/CN=Example Public Root CA"

# The broken store: IP-HTTPS wildcard certificate first, the L2TP one second.
rm -rf "$here/certs" "$here/certs-fixed"
mkdir -p "$here/certs/roots" "$here/certs/clients" "$here/certs-fixed/roots"
leaf public "$here/certs/01-iphttps" "/C=US/O=Contoso/CN=*.contoso.com" \
  "DNS:*.contoso.com,DNS:contoso.com" "serverAuth,clientAuth"
leaf corp "$here/certs/02-l2tp" "/DC=com/DC=contoso/DC=corp/CN=vpn.contoso.com" \
  "DNS:vpn.contoso.com" "serverAuth,clientAuth,1.3.6.1.5.5.8.2.2"
cp "$tmp/corp.pem" "$here/certs/roots/corp-root.pem"
cp "$tmp/public.pem" "$here/certs/roots/public-root.pem"
cp "$tmp/corp.pem" "$here/certs/clients/corp-root.pem"
cat >"$here/certs/store.order" <<'EOF'
# Order of the computer store as the server enumerates it: the first certificate that
# qualifies is the one used for L2TP/IPsec.
01-iphttps.pem
01-iphttps.key
02-l2tp.pem
02-l2tp.key
EOF

# The fixed store: one certificate from the clients' CA for IP-HTTPS and L2TP.
leaf corp "$here/certs-fixed/vpn" "/DC=com/DC=contoso/DC=corp/CN=vpn.contoso.com" \
  "DNS:vpn.contoso.com,DNS:da.contoso.com" "serverAuth,clientAuth,1.3.6.1.5.5.8.2.2"
cp "$tmp/corp.pem" "$here/certs-fixed/roots/corp-root.pem"
echo "sample stores written to $here/certs and $here/certs-fixed"
