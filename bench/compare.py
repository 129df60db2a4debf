#!/usr/bin/python3
"""Runs `crossdistill bench SUITE` and the PyTorch peer on the same cases and prints a markdown
table of ours/peer ratios.

    /usr/bin/python3 bench/compare.py {gemm,conv,ops,train-step} [--threads 2] [--quick] [--rounds 2] [--case NAME]...

Cases are interleaved: for each case, ours and the peer run back to back (alternating which goes
first from round to round), so a neighbour's load burst hits both sides instead of one suite.
Each round gets its own columns, so noise shows up as disagreeing ratios rather than hiding in an
average. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed for the peer only (some machines set
them, which halves OpenBLAS's speed); the OpenBLAS core the peer ran is reported.
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_average():
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def cpu_model():
    try:
        info = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return platform.processor() or "?"
    fields = dict(re.findall(r"^([^:]+):\s*(.*)$", info, re.M))
    return (f"{fields.get('Model name', '?')} (family {fields.get('CPU family', '?')}, model {fields.get('Model', '?')}), "
            f"{fields.get('CPU(s)', '?')} CPUs, L1d {fields.get('L1d cache', '?')}, L2 {fields.get('L2 cache', '?')}, "
            f"L3 {fields.get('L3 cache', '?')}")


def run(command, env):
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"compare: {' '.join(command)} failed with exit code {proc.returncode}")
    results, other = {}, []
    for line in (proc.stdout + "\n" + proc.stderr).splitlines():
        line = line.strip()
        if line.startswith("{"):
            r = json.loads(line)
            results[(r["name"], r["metric"])] = r
        elif line:
            other.append(line)
    return results, other


# Short column labels for the speed metrics of the conv and ops suites.
LABELS = {"forward": "fwd", "backward_input": "bwd-input", "backward_weight": "bwd-weight",
          "backward": "bwd", "forward_backward": "fwd+bwd", "step": "step"}


def number(value):
    """One decimal, or three significant digits below 1 (a tiny op's GB/s)."""
    return f"{value:.1f}" if value == 0 or abs(value) >= 1 else f"{value:.3g}"


def is_speed(unit):
    """A rate (GFLOP/s, GB/s, img/s): higher is better, and ours / peer is the ratio to report."""
    return unit.endswith("/s")


def print_table(cases, rounds, show_ms):
    """
    One column group per metric and round: a speed metric gets ours / peer / ratio, anything else
    (train-step's peak_memory) ours / peer. The *_ms metrics repeat a speed metric as a time and are
    left out unless show_ms. When every case reports the same metrics the table is wide (one row per
    case); otherwise (the ops suite: forward and backward for some, one step for others) it has one
    row per case and metric.
    """
    units, per_case = {}, {}
    for ours, peer in rounds:
        for (name, metric), r in list(ours.items()) + list(peer.items()):
            if r["unit"] == "ms" and not show_ms:
                continue
            units.setdefault(metric, r["unit"])
            if metric not in per_case.setdefault(name, []):
                per_case[name].append(metric)
    metrics = []
    for case in cases:
        for metric in per_case.get(case, []):
            if metric not in metrics:
                metrics.append(metric)
    metrics.sort(key=lambda m: not is_speed(units[m]))
    wide = all(per_case.get(case) is None or set(per_case[case]) == set(metrics) for case in cases)
    distinct_units = len({units[m] for m in metrics}) == len(metrics)

    def cells(ours, peer, case, metric):
        o, p = ours.get((case, metric)), peer.get((case, metric))
        row = f" {number(o['value'])} |" if o else " – |"
        row += f" {number(p['value'])} |" if p else " – |"
        if is_speed(units[metric]):
            row += f" {o['value'] / p['value']:.2f} |" if o and p and p["value"] > 0 else " – |"
        return row

    def shape_of(case):
        return next((side[(case, m)]["shape"] for side in rounds[0] for m in metrics if (case, m) in side), None)

    if wide:
        header, rule = "| case | shape |", "| --- | --- |"
        for i in range(len(rounds)):
            tag = f" r{i + 1}" if len(rounds) > 1 else ""
            for metric in metrics:
                label = "" if len(metrics) == 1 else f" {units[metric] if distinct_units else LABELS.get(metric, metric)}"
                header += f" ours{label}{tag} | peer{label}{tag} |" + (f" ratio{label if not distinct_units else ''}{tag} |" if is_speed(units[metric]) else "")
                rule += " ---: | ---: |" + (" ---: |" if is_speed(units[metric]) else "")
        print(header)
        print(rule)
        for case in cases:
            shape = shape_of(case)
            if shape is None:
                continue
            print(f"| {case} | {shape} |" + "".join(cells(ours, peer, case, m) for ours, peer in rounds for m in metrics))
    else:
        unit_column = len({units[m] for m in metrics}) > 1
        header = "| case | pass | shape |" + (" unit |" if unit_column else "")
        rule = "| --- | --- | --- |" + (" --- |" if unit_column else "")
        for i in range(len(rounds)):
            tag = f" r{i + 1}" if len(rounds) > 1 else ""
            header += f" ours{tag} | peer{tag} | ratio{tag} |"
            rule += " ---: | ---: | ---: |"
        print(header)
        print(rule)
        for case in cases:
            shape = shape_of(case)
            for metric in per_case.get(case, []):
                row = f"| {case} | {LABELS.get(metric, metric)} | {shape} |" + (f" {units[metric]} |" if unit_column else "")
                for ours, peer in rounds:
                    row += cells(ours, peer, case, metric) + ("" if is_speed(units[metric]) else " – |")
                print(row)
    if len(metrics) > 1 and distinct_units:
        print("\n" + "; ".join(f"{m} in {units[m]}" for m in metrics)
              + "; ratio = ours / peer throughput (above 1: CrossDistill is faster).")
    else:
        unit_text = ", ".join(sorted({units[m] for m in metrics}))
        print(f"\nValues in {unit_text}; ratio = ours / peer (above 1: CrossDistill is faster).")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suite")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--case", action="append", default=[], help="compare only this case (repeatable)")
    parser.add_argument("--ms", action="store_true", help="also show the *_ms metrics (times of the speed metrics)")
    args = parser.parse_args()

    flags = ["--threads", str(args.threads)] + (["--quick"] if args.quick else [])
    ours_cmd = [os.path.join(ROOT, "crossdistill"), "bench", args.suite]
    peer_cmd = ["/usr/bin/python3", os.path.join(ROOT, "bench", "peer", "pytorch_bench.py"), args.suite]
    ours_env = dict(os.environ)
    peer_env = dict(os.environ)
    removed = {k: peer_env.pop(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in peer_env}
    peer_env["OPENBLAS_VERBOSE"] = "2"

    # Also builds the CLI (if needed) before anything is timed.
    listing = subprocess.run(ours_cmd + ["--list"], capture_output=True, text=True, cwd=ROOT)
    if listing.returncode != 0:
        sys.stderr.write(listing.stdout + listing.stderr)
        raise SystemExit("compare: could not list the suite's cases")
    cases = [c for c in listing.stdout.split() if not args.case or c in args.case]

    started = load_average()
    rounds = [({}, {}) for _ in range(args.rounds)]
    core = "?"
    for case in cases:
        for index, (ours, peer) in enumerate(rounds):
            sides = [("ours", ours_cmd, ours_env, ours), ("peer", peer_cmd, peer_env, peer)]
            for side, command, env, into in (sides if index % 2 == 0 else sides[::-1]):
                results, text = run(command + flags + ["--case", case], env)
                into.update(results)
                if side == "peer":
                    for line in text:
                        m = re.search(r"Core:\s*(\S+)", line)
                        if m:
                            core = m.group(1)
    finished = load_average()

    import torch  # only for the version line; the timed runs happen in subprocesses
    print(f"## bench {args.suite}: CrossDistill vs PyTorch {torch.__version__}\n")
    print(f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='minutes')}")
    print(f"- machine: {cpu_model()}")
    command = ["/usr/bin/python3 bench/compare.py", args.suite] + flags
    command += [f"--rounds {args.rounds}"] if args.rounds > 1 else []
    command += [f"--case {c}" for c in args.case]
    command += ["--ms"] if args.ms else []
    print(f"- command: `{' '.join(command)}`")
    print(f"- threads: {args.threads} (ours: engine workers; peer: torch.set_num_threads)")
    print(f"- peer OpenBLAS core: {core}"
          + (f" (removed for the peer: {', '.join(f'{k}={v}' for k, v in removed.items())})" if removed else ""))
    print(f"- load average (1/5/15 min): {started} at the start, {finished} at the end\n")

    print_table(cases, rounds, show_ms=args.ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
