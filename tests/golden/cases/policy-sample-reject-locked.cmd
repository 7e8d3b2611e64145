policy test samples/attempts/reject-locked.json
