#!/usr/bin/python3
"""Runs `crossdistill bench SUITE` and the PyTorch peer on the same cases and prints a markdown
table of ours/peer ratios.

    /usr/bin/python3 bench/compare.py {gemm,train-step} [--threads 2] [--quick] [--rounds 2] [--case NAME]...

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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suite")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--case", action="append", default=[], help="compare only this case (repeatable)")
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
    print(f"- command: `{' '.join(command)}`")
    print(f"- threads: {args.threads} (ours: engine workers; peer: torch.set_num_threads)")
    print(f"- peer OpenBLAS core: {core}"
          + (f" (removed for the peer: {', '.join(f'{k}={v}' for k, v in removed.items())})" if removed else ""))
    print(f"- load average (1/5/15 min): {started} at the start, {finished} at the end\n")

    # A suite may report several metrics per case (train-step: throughput and peak_memory). The
    # throughput gets ours / peer / ratio; any other metric is shown side by side, without a ratio.
    metrics = []
    for ours, peer in rounds:
        for (_, metric) in list(ours) + list(peer):
            if metric not in metrics:
                metrics.append(metric)
    metrics.sort(key=lambda m: m != "throughput")
    units = {}
    for ours, peer in rounds:
        for key, r in list(ours.items()) + list(peer.items()):
            units.setdefault(key[1], r["unit"])
    multi = len(metrics) > 1

    header, rule = "| case | shape |", "| --- | --- |"
    for i in range(len(rounds)):
        tag = f" r{i + 1}" if len(rounds) > 1 else ""
        for metric in metrics:
            label = f" {units[metric]}" if multi else ""
            if metric == "throughput":
                header += f" ours{label}{tag} | peer{label}{tag} | ratio{tag} |"
                rule += " ---: | ---: | ---: |"
            else:
                header += f" ours{label}{tag} | peer{label}{tag} |"
                rule += " ---: | ---: |"
    print(header)
    print(rule)
    for case in cases:
        first = next((side[(case, m)] for side in rounds[0] for m in metrics if (case, m) in side), None)
        if first is None:
            continue
        row = f"| {case} | {first['shape']} |"
        for ours, peer in rounds:
            for metric in metrics:
                o, p = ours.get((case, metric)), peer.get((case, metric))
                row += f" {o['value']:.1f} |" if o else " – |"
                row += f" {p['value']:.1f} |" if p else " – |"
                if metric == "throughput":
                    row += f" {o['value'] / p['value']:.2f} |" if o and p and p["value"] > 0 else " – |"
        print(row)
    if multi:
        print("\n" + "; ".join(f"{m} in {units[m]}" for m in metrics)
              + "; ratio = ours / peer throughput (above 1: CrossDistill is faster).")
    else:
        print(f"\nValues in {units.get(metrics[0], '') if metrics else ''}; ratio = ours / peer (above 1: CrossDistill is faster).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
