#!/usr/bin/env python3
"""Writes a large configuration and a stream of connection attempts for `vnet policy test`
in batch (bench/policy-batch.sh, tests/scripts/test-policy-batch).

    gen-policy-batch.py CONFIG ATTEMPTS N [--array]

CONFIG: 100 policies, each with a Windows-Groups, a NAS-Port-Type, a regular expression
over Calling-Station-Id and a Day-And-Time-Restrictions condition; 10,000 users in 100
groups, every 50th with Deny access, every 40th disabled. ATTEMPTS: N attempts as JSON
lines (or one JSON array with --array), user i mod 10,000, a third from an address no
expression accepts, a tenth with a wrong password, a seventh on a Sunday (outside every
policy's time window). The output is the same for the same N."""
import json, sys

NPOL, NUSERS = 100, 10000
cfg_path, att_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
as_array = "--array" in sys.argv[4:]

server = {
    "auth_methods": ["mschapv2", "eap"],
    "eap_types": ["peap"],
    "ports": {"pptp": 1000, "l2tp": 1000, "sstp": 0, "ikev2": 0},
    "address_assignment": "pool",
    "pool": [{"start": "10.8.0.1", "end": "10.8.255.254"}],
}
groups = [{"name": f"Group {g}"} for g in range(NPOL)]
policies = []
for p in range(NPOL):
    policies.append({
        "name": f"policy {p}",
        "conditions": [
            {"attribute": "Windows-Groups", "value": [f"Group {p}"]},
            {"attribute": "NAS-Port-Type", "value": ["virtual"]},
            {"attribute": "Calling-Station-Id",
             "pattern": f"^198\\.51\\.{p}\\.\\d{{1,3}}$|^203\\.0\\.113\\.({p}|2[0-9]{{2}})$"},
            {"attribute": "Day-And-Time-Restrictions",
             "value": ["Mon-Fri 06:00-22:00", "Sat 08:00-12:00"]},
        ],
        "permission": "grant",
        "profile": {"auth_methods": ["mschapv2"], "encryption": ["strong", "strongest"],
                    "idle_timeout": 30, "session_timeout": 480},
    })
users = []
for u in range(NUSERS):
    us = {"name": f"user{u:05d}", "password": "secret", "groups": [f"Group {u % NPOL}"]}
    if u % 50 == 49:
        us["dialin"] = "deny"
    if u % 40 == 39:
        us["disabled"] = True
    users.append(us)
with open(cfg_path, "w") as f:
    json.dump({"server": server, "groups": groups, "policies": policies, "users": users}, f,
              indent=1)

days = ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27", "2026-11-28",
        "2026-11-22"]  # Monday .. Saturday, then Sunday
with open(att_path, "w") as f:
    if as_array:
        f.write("[\n")
    for i in range(n):
        u = i % NUSERS
        src = f"192.0.2.{i % 250}" if i % 3 == 0 else f"198.51.{u % NPOL}.{i % 250}"
        a = {"user": f"user{u:05d}", "password": "wrong" if i % 10 == 7 else "secret",
             "time": f"{days[i % 7]}T{8 + i % 3:02d}:{i % 60:02d}",
             "tunnel": "pptp" if i % 2 else "l2tp", "auth": "mschapv2",
             "calling_station_id": src}
        line = json.dumps(a, separators=(", ", ": "))
        if as_array:
            f.write(line + (",\n" if i + 1 < n else "\n"))
        else:
            f.write(line + "\n")
    if as_array:
        f.write("]\n")
