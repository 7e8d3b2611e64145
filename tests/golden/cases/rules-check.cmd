rules check
