cert pick --store
