show help
