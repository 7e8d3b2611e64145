cert pick --store samples/certs --client-ca samples/certs/clients/corp-root.pem --server-name vpn.contoso.com --purpose ikev2 --at 2030-01-01
