cert pick --store samples/certs-fixed --client-ca samples/certs/clients --server-name vpn.contoso.com --at 2030-01-01 --fix --endpoint 131.107.0.2
