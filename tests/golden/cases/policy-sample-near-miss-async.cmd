policy test samples/attempts/near-miss-async.json
