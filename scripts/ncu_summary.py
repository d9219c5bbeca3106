#!/usr/bin/env python3
"""Per-kernel GPU time from `ncu --csv --print-summary per-kernel --metrics
gpu__time_duration.sum` (stdin): total, calls and share, largest first."""
import csv
import sys

rows = [r for r in csv.reader(l for l in sys.stdin if l.startswith('"'))]
head, body = rows[0], rows[1:]
col = {name: i for i, name in enumerate(head)}
totals = {}
for r in body:
    if r[col["Metric Name"]] != "gpu__time_duration.sum":
        continue
    name = r[col["Kernel Name"]].split("(")[0][:70]
    unit = r[col["Metric Unit"]]
    scale = {"ns": 1e-3, "usecond": 1.0, "us": 1.0, "msecond": 1e3, "ms": 1e3, "nsecond": 1e-3}.get(unit, 1.0)
    calls = int(r[col["Invocations"]]) if "Invocations" in col else 1
    avg = float(r[col["Average"]].replace(",", "")) * scale if "Average" in col else float(r[col["Metric Value"]].replace(",", "")) * scale
    t, c = totals.get(name, (0.0, 0))
    totals[name] = (t + avg * calls, c + calls)
grand = sum(t for t, _ in totals.values()) or 1.0
print("| kernel | calls | total µs | µs a call | share |\n|---|---:|---:|---:|---:|")
for name, (t, c) in sorted(totals.items(), key=lambda kv: -kv[1][0])[:25]:
    print(f"| `{name}` | {c} | {t:.0f} | {t / c:.1f} | {100 * t / grand:.1f} % |")
