config set server.name RAS2
