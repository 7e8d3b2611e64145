policy test samples/attempts/accept-user-allow.json
