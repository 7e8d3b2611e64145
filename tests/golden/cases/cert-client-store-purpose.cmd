cert pick --store samples/certs-fixed --client-store tests/golden/cases/rule-cert.client.no-machine-cert.client --purpose ikev2 --at 2030-01-01
