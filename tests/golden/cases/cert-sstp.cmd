cert pick --store samples/certs --client-ca samples/certs/clients/corp-root.pem --server-name vpn.contoso.com --purpose sstp --at 2030-01-01 --fix
