policy test -v samples/attempts/reject-policy-deny.json
