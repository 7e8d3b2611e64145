policy test samples/attempts/reject-caller-id.json
