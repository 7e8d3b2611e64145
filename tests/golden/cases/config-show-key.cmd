config show server.ports
