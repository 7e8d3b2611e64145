policy test samples/attempts/reject-multilink.json
