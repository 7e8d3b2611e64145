policy test samples/attempts/accept-static-ip.json
