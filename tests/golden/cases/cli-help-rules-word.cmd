rules help
