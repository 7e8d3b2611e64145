policy test samples/attempts/reject-password-expired.json
