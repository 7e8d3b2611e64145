policy test samples/attempts/accept-vpn-user.json
