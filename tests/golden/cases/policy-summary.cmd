policy test --brief --summary tests/golden/cases/policy-batch.attempt.json tests/golden/cases/policy-array.attempt.json
