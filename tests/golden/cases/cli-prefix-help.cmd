pol te --help
