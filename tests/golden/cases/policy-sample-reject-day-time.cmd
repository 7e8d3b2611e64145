policy test samples/attempts/reject-day-time.json
