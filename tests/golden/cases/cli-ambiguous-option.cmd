cert pick --s x
