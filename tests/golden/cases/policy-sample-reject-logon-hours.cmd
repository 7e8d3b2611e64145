policy test samples/attempts/reject-logon-hours.json
