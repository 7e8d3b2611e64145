policy test samples/attempts/reject-requested-address.json
