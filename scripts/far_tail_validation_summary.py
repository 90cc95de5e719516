#!/usr/bin/env python3
"""Summarises docs/validation/far_tail/summary.csv by rung and headline rule.

usage: scripts/far_tail_validation_summary.py [SUMMARY.csv]

For the cases with α ≤ 2.5 and those with α = 4: how many have an estimate, the largest and
median |bias| and RMSE, how many meet |bias| ≤ 0.03 and RMSE ≤ 0.05, the coverage range and
how many lie in [0.90, 0.99] (1.00 counted apart), and RMSE·√clusters/α (the error in units
of α/√clusters).
"""
import csv
import statistics
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "docs/validation/far_tail/summary.csv"
if path in ("-h", "--help"):
    print(__doc__)
    sys.exit(0)
rows = list(csv.DictReader(open(path)))
rungs = ["1e-3", "1e-4", "1e-5", "headline ≥100/20", "headline ≥200/50",
         "headline ≥400/50", "headline ≥1000/100"]
print("| rung or rule | α | cases with α̂ | max abs bias | median abs bias | max RMSE | median RMSE "
      "| meet both goals | coverage range | coverage in [0.90, 0.99] / = 1 | RMSE·√clusters/α (median) |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
for rung in rungs:
    for label, keep in (("≤ 2.5", lambda a: a < 3), ("4", lambda a: a >= 3)):
        cell = [r for r in rows if r["rung"] == rung and keep(float(r["truth"]))]
        got = [r for r in cell if r["hill_bias"] != ""]
        if not got:
            print(f"| {rung} | {label} | 0/{len(cell)} | – | – | – | – | – | – | – | – |")
            continue
        bias = [abs(float(r["hill_bias"])) for r in got]
        rmse = [float(r["hill_rmse"]) for r in got]
        cov = [float(r["hill_coverage"]) for r in got]
        both = sum(1 for b, e in zip(bias, rmse) if b <= 0.03 and e <= 0.05)
        inside = sum(1 for c in cov if 0.90 <= c <= 0.99)
        full = sum(1 for c in cov if c > 0.99)
        units = [float(r["hill_rmse"]) * float(r["clusters_mean"]) ** 0.5 / float(r["truth"])
                 for r in got]
        print(f"| {rung} | {label} | {len(got)}/{len(cell)} | {max(bias):.3f} | "
              f"{statistics.median(bias):.3f} | {max(rmse):.3f} | {statistics.median(rmse):.3f} | "
              f"{both}/{len(got)} | {min(cov):.2f}–{max(cov):.2f} | {inside} / {full} | "
              f"{statistics.median(units):.2f} |")
