policy test tests/golden/cases/does-not-exist.json
