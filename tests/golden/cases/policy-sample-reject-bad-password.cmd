policy test samples/attempts/reject-bad-password.json
