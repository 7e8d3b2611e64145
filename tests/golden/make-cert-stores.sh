#!/usr/bin/env bash
# Writes the certificate stores of the golden cases rule-cert.* with the openssl command
# line: each store is a copy of a server's (or a client's) computer store in the layout
# `vnet cert pick` reads (docs/cert.md), made to show one cause.
#
# Validity dates are fixed (openssl ca -startdate/-enddate) and every case passes --at,
# so the cases never depend on today's date. Keys are new on every run: regenerating
# changes thumbprints, so update the cases afterwards and review the diff:
#   tests/golden/run --vnet build/vnet --update rule-cert.
#
#   rule-cert.client-ca.pem             the CA the clients trust (--client-ca)
#   rule-cert.expired.store             L2TP: the server's certificate from the clients' CA
#                                       expired in 2011; the wildcard IP-HTTPS certificate
#                                       from a public CA after it is taken instead
#   rule-cert.not-yet-valid.store       IKEv2: the only certificate becomes valid at noon on
#                                       2030-01-01 (a CA clock ahead of the server's)
#   rule-cert.none-qualifies.ikev2.store  IKEv2: the renewed certificate was imported
#                                       without its private key, the old one has expired
#   rule-cert.eku.no-server-auth.store  IKEv2: a certificate from the Workstation
#                                       Authentication template (Client Authentication only)
#   rule-cert.eku.ike-intermediate.store  IKEv2: the computer certificate of the host name
#                                       and the one for the public name both have Server
#                                       Authentication, neither IP security IKE intermediate
#   rule-cert.name-mismatch.ikev2.store IKEv2: one certificate, for the internal host name
#   rule-cert.client.no-machine-cert.client  a client's computer store whose only
#                                       certificate expired
#   rule-cert.client.no-machine-cert.empty   a client's computer store without a certificate
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cases=$here/cases
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

# ca NAME SUBJECT: a self-signed root CA in $tmp/NAME.{key,pem}, valid 2000 to 2200, with
# the directory openssl ca needs to issue certificates with chosen dates
ca() {
  local d=$tmp/$1
  mkdir -p "$d/new"
  : >"$d/index.txt"
  echo 1000 >"$d/serial"
  key "$d.key"
  cat >"$d/ca.cnf" <<EOF
[ca]
default_ca = this
[this]
dir = $d
database = $d/index.txt
new_certs_dir = $d/new
serial = $d/serial
certificate = $d.pem
private_key = $d.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
domainComponent = optional
countryName = optional
organizationName = optional
commonName = supplied
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOF
  openssl req -new -key "$d.key" -subj "$2" -out "$tmp/req.csr"
  openssl ca -batch -config "$d/ca.cnf" -selfsign -keyfile "$d.key" -in "$tmp/req.csr" \
    -startdate 20000101000000Z -enddate 22000101000000Z -extensions root \
    -notext -out "$d.pem" 2>/dev/null
}

# leaf CA OUT SUBJECT SAN EKU START END: OUT.pem and OUT.key issued by CA, valid from
# START to END (YYYYMMDDHHMMSSZ)
leaf() {
  local ca=$1 out=$2 subj=$3 san=$4 eku=$5 start=$6 end=$7
  key "$out.key"
  openssl req -new -key "$out.key" -subj "$subj" -out "$tmp/req.csr"
  cat >"$tmp/ext.cnf" <<EOF
[leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = $eku
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
  openssl ca -batch -config "$tmp/$ca/ca.cnf" -in "$tmp/req.csr" -startdate "$start" \
    -enddate "$end" -extfile "$tmp/ext.cnf" -extensions leaf -notext -out "$out.pem" \
    2>/dev/null
}

# store NAME ROOT...: an empty store directory with these roots
store() {
  local d=$cases/$1
  shift
  rm -rf "$d"
  mkdir -p "$d/roots"
  for r in "$@"; do cp "$tmp/$r.pem" "$d/roots/$r-root.pem"; done
}

ca corp "/DC=com/DC=contoso/DC=corp/CN=corp-DC1-CA"
ca public "/C=US/O=Example Public Trust/CN=Example Public Root CA"
cp "$tmp/corp.pem" "$cases/rule-cert.client-ca.pem"

long_ago=20090101000000Z
expired=20110101000000Z
from=20200101000000Z
until=21200101000000Z
vpn="/DC=com/DC=contoso/DC=corp/CN=vpn.contoso.com"
host="/DC=com/DC=contoso/DC=corp/CN=rras01.corp.contoso.com"

s=rule-cert.expired.store
store $s corp public
leaf corp "$cases/$s/01-vpn" "$vpn" "DNS:vpn.contoso.com" \
  "serverAuth,clientAuth,1.3.6.1.5.5.8.2.2" $long_ago $expired
leaf public "$cases/$s/02-iphttps" "/C=US/O=Contoso/CN=*.contoso.com" \
  "DNS:*.contoso.com,DNS:contoso.com" "serverAuth,clientAuth" $from $until

s=rule-cert.not-yet-valid.store
store $s corp
leaf corp "$cases/$s/01-vpn" "$vpn" "DNS:vpn.contoso.com" \
  "serverAuth,1.3.6.1.5.5.8.2.2" 20300101120000Z 20320101120000Z

s=rule-cert.none-qualifies.ikev2.store
store $s corp
leaf corp "$cases/$s/01-vpn-2009" "$vpn" "DNS:vpn.contoso.com" \
  "serverAuth,1.3.6.1.5.5.8.2.2" $long_ago $expired
leaf corp "$tmp/renewed" "$vpn" "DNS:vpn.contoso.com" \
  "serverAuth,1.3.6.1.5.5.8.2.2" $from $until
cp "$tmp/renewed.pem" "$cases/$s/02-vpn-renewed.pem"

s=rule-cert.eku.no-server-auth.store
store $s corp
leaf corp "$cases/$s/01-vpn" "$vpn" "DNS:vpn.contoso.com" "clientAuth" $from $until

s=rule-cert.eku.ike-intermediate.store
store $s corp
leaf corp "$cases/$s/01-rras01" "$host" "DNS:rras01.corp.contoso.com" \
  "clientAuth,serverAuth" $from $until
leaf corp "$cases/$s/02-vpn" "$vpn" "DNS:vpn.contoso.com" "serverAuth" $from $until

s=rule-cert.name-mismatch.ikev2.store
store $s corp
leaf corp "$cases/$s/01-rras01" "$host" "DNS:rras01.corp.contoso.com" \
  "serverAuth,1.3.6.1.5.5.8.2.2" $from $until

s=rule-cert.client.no-machine-cert.client
store $s corp
leaf corp "$cases/$s/01-laptop17" "/DC=com/DC=contoso/DC=corp/CN=laptop17.corp.contoso.com" \
  "DNS:laptop17.corp.contoso.com" "clientAuth" $long_ago $expired

s=rule-cert.client.no-machine-cert.empty
store $s corp

echo "certificate stores written to $cases/rule-cert.*"
