policy test samples/attempts/reject-auth-method.json
