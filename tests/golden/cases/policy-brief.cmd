policy test --brief tests/golden/cases/policy-batch.attempt.json samples/attempts/accept-static-ip.json
