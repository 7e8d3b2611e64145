policy help
