policy test samples/attempts/accept-inline-user.json
