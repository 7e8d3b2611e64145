policy test samples/attempts/reject-nas-port-type.json
