cert pick --store tests/golden/cases/rule-cert.no-private-key.store --client-ca samples/certs/clients --at 2030-01-01
