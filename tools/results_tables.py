#!/usr/bin/env python3
"""Prints the markdown tables of docs/RESULTS.md from finished sweeps (runs/results/<sweep>/results.csv).

    python3 tools/results_tables.py [runs/results] [sweep ...]

Per sweep: one row per method with mean ± sample std over seeds of the best and last test accuracy,
the difference of the mean best accuracy to vanilla's, and the mean wall time per run; then the
teachers, read from their summary.json files.
"""
import csv
import json
import os
import statistics
import sys


def mean_std(values):
    values = [100 * v for v in values]
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return statistics.mean(values), std


def table(folder):
    rows = list(csv.DictReader(open(os.path.join(folder, "results.csv"))))
    methods = []
    for r in rows:
        if r["method"] not in methods:
            methods.append(r["method"])
    by_method = {m: [r for r in rows if r["method"] == m] for m in methods}
    vanilla = mean_std([float(r["best_accuracy"]) for r in by_method.get("vanilla", [])])[0] if "vanilla" in by_method else None
    out = ["| method | best acc (%) | last acc (%) | Δ best vs vanilla | seeds | time per run |",
           "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for m in methods:
        runs = by_method[m]
        done = [r for r in runs if r.get("status", "completed") == "completed"]
        secs = statistics.mean(float(r["seconds"]) for r in runs)
        seeds = f"{len(done)}" if len(done) == len(runs) else f"{len(done)} (+{len(runs) - len(done)} diverged)"
        if not done:
            out.append(f"| {m} | diverged | diverged | | {seeds} | {secs:.0f} s |")
            continue
        best = mean_std([float(r["best_accuracy"]) for r in done])
        last = mean_std([float(r["last_accuracy"]) for r in done])
        delta = "" if vanilla is None or m == "vanilla" else f"{best[0] - vanilla:+.2f}"
        out.append(f"| {m} | {best[0]:.2f} ± {best[1]:.2f} | {last[0]:.2f} ± {last[1]:.2f} | {delta} | {seeds} | {secs:.0f} s |")
    teachers = sorted(d for d in os.listdir(folder) if d.startswith("teacher_"))
    if teachers:
        out += ["", "| teacher run | best acc (%) | last acc (%) | time |", "| --- | ---: | ---: | ---: |"]
        for t in teachers:
            s = json.load(open(os.path.join(folder, t, "summary.json")))
            out.append(f"| {t} | {100 * s['BestAccuracy']:.2f} | {100 * s['LastAccuracy']:.2f} | {s['Seconds']:.0f} s |")
    return "\n".join(out)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "runs/results"
    sweeps = sys.argv[2:] or sorted(d for d in os.listdir(root) if os.path.exists(os.path.join(root, d, "results.csv")))
    for s in sweeps:
        print(f"### {s}\n\n{table(os.path.join(root, s))}\n")


if __name__ == "__main__":
    main()
