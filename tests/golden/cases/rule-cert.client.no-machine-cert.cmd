cert pick --store samples/certs-fixed --client-ca samples/certs/clients --client-store tests/golden/cases/rule-cert.client.no-machine-cert.client --server-name vpn.contoso.com --at 2030-01-01
