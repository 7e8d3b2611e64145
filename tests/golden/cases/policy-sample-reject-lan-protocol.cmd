policy test samples/attempts/reject-lan-protocol.json
