policy test tests/golden/cases/policy-bad-json.attempt.json
