cert pick --store samples/certs-fixed --client-store tests/golden/cases/no-such-client-store --at 2030-01-01
