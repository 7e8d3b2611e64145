rules check tests/golden/cases/rules-bad-catalog.d
