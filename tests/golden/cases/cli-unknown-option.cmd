cert pick --bogus
