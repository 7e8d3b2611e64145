cert pick --store samples/certs --client-ca tests/golden/cases/cert-broken.store/02-vpn.p12 --pass not-the-password
