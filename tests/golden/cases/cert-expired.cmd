cert pick --store samples/certs --client-ca samples/certs/clients/corp-root.pem --at 2127-01-01
