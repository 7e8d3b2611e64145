policy test samples/attempts/reject-policy-deny.json
