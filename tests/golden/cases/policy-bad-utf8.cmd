policy test tests/golden/cases/policy-bad-utf8.json
