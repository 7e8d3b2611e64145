error help
