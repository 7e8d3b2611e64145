rules show nat.both
