policy test --json tests/golden/cases/policy-automatic-default.attempt.json
