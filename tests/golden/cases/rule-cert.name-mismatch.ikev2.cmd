cert pick --store tests/golden/cases/rule-cert.name-mismatch.ikev2.store --client-ca tests/golden/cases/rule-cert.client-ca.pem --server-name vpn.contoso.com --purpose ikev2 --at 2030-01-01
