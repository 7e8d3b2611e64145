policy test samples/attempts/reject-unknown-user.json
