exec "policy test --json samples/attempts/reject-dialin-deny.json"
