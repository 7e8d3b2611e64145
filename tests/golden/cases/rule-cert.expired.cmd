cert pick --store tests/golden/cases/rule-cert.expired.store --client-ca tests/golden/cases/rule-cert.client-ca.pem --server-name vpn.contoso.com --at 2030-01-01
