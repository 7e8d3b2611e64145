policy test samples/attempts/reject-no-ports.json
