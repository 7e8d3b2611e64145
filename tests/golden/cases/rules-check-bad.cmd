rules check tests/unit/rules-fixtures/bad
