cert pick --store samples/no-such-store
