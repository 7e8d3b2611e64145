policy test samples/attempts/reject-auth-profile.json
