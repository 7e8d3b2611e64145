cert pick --store samples/certs --at 2030-02-30
