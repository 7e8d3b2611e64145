cert pick --store samples/certs --server-name da.contoso.com --purpose iphttps --at 2030-01-01
