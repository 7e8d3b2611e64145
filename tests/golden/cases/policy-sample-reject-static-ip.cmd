policy test samples/attempts/reject-static-ip.json
