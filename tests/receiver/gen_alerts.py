#!/usr/bin/env python3
"""gen_alerts.py — deterministic synthetic alerts (valid per docs/alert.schema.json)
for the delivery tests and bench/push.sh: gen_alerts.py N [--seed S] > alerts.jsonl.
alert_id = first 32 hex of sha256("<seed>:<i>"), so sets are reproducible."""
import argparse
import hashlib
import json
import sys

DOMAINS = [
    ("wildlife", "fauna and flora", "0106.90", "010690", "live reptiles declared as ornamental fish", "NG", "VN"),
    ("ods", "ozone-depleting substances", "2903.71", "290371", "refrigerant gas R-22 cylinders 13.6 kg", "CN", "GH"),
    ("waste", "hazardous waste", "8549.11", "854911", "used batteries mixed scrap bales", "DE", "MY"),
]


def alert(i, seed):
    h = hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()
    dom, grp, prof_hs, hs, desc, orig, dest = DOMAINS[i % 3]
    net = 100 + (i % 997)
    return {
        "alert_id": h[:32],
        "run_id": hashlib.sha256(f"run:{seed}".encode()).hexdigest()[:16],
        "created": "2026-11-25T06:00:00Z",
        "domain": dom,
        "cen_group": grp,
        "profile": {"id": f"{dom}-undervalued-{prof_hs}", "version": 3, "title": f"{grp}: under-valued {prof_hs}"},
        "score": round(50 + (i % 50) + 0.25, 2),
        "lane": ["red", "yellow", "blue", "green"][i % 4],
        "random": i % 17 == 0,
        "over_capacity": False,
        "indicators": [
            {"id": "hs-broad-other", "weight": 30, "reason": "broad 'other' subheading", "evidence": f"hs={hs}"},
            {"id": "range-state-origin", "weight": 25, "reason": "origin is a range state", "evidence": f"origin={orig}"},
        ],
        "anomalies": [
            {"feature": "unit_value_low", "observed": 0.42, "expected_range": [1.5, 9.75], "p": 0.0012,
             "group_level": "hs6", "group": hs},
        ],
        "also_fired": [],
        "declaration": {
            "id": f"26DE{i:014d}", "line": 1, "date": "2026-11-24", "office": "DEHAM", "flow": "IM",
            "hs": hs, "description": f"{desc} #{i}", "quantity": 12, "unit": "KGM",
            "net_kg": net, "gross_kg": net + 15, "value": 1234.5, "currency": "EUR", "value_ref": 1340.2,
            "origin": orig, "export_country": orig, "transit": ["AE"], "destination": dest, "mode": "SEA",
            "importer": f"IMP-{i % 101:05d} Trading GmbH", "exporter": f"EXP-{i % 89:05d} Ltd",
            "declarant": "DCL-00042 Customs Brokers", "container": "MSCU1234565", "packages": 3,
        },
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", default="t")
    ap.add_argument("--start", type=int, default=0)
    a = ap.parse_args()
    out = sys.stdout
    for i in range(a.start, a.start + a.n):
        out.write(json.dumps(alert(i, a.seed), separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
