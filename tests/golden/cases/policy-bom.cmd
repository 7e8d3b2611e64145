policy test tests/golden/cases/policy-bom.json
