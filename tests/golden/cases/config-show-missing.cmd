config show server.nothing
