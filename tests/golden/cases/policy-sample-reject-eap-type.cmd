policy test samples/attempts/reject-eap-type.json
