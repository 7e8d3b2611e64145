error 12345
