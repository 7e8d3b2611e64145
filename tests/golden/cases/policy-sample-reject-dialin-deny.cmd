policy test samples/attempts/reject-dialin-deny.json
