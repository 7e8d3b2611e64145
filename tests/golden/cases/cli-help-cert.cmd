cert --help
