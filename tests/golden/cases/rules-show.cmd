rules show cert.wildcard
