policy test tests/golden/cases/policy-bad-attempt.attempt.json
