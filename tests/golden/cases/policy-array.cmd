policy test tests/golden/cases/policy-array.attempt.json
