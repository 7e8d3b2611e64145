policy test samples/attempts/reject-disabled.json
