cert pick --store tests/golden/cases/cert-broken.store --client-ca samples/certs/clients --at 2030-01-01 --pass not-the-password
