policy test samples/attempts/reject-encryption.json
