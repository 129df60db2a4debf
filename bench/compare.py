#!/usr/bin/python3
"""Runs `crossdistill bench SUITE` and the PyTorch peer on the same cases and prints a markdown
table of ours/peer ratios.

    /usr/bin/python3 bench/compare.py gemm [--threads 2] [--quick] [--rounds 2]

Each round runs ours, then the peer, back to back; with several rounds every round gets its own
columns, so a noisy neighbour shows up as disagreeing ratios instead of hiding in an average.
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed for the peer only (some machines set them,
which halves OpenBLAS's speed); the OpenBLAS core it picked is reported.
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
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def cpu_model():
    try:
        info = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return platform.processor() or "?"
    fields = dict(re.findall(r"^([^:]+):\s*(.*)$", info, re.M))
    return (f"{fields.get('Model name', '?')} (family {fields.get('CPU family', '?')}, model {fields.get('Model', '?')}), "
            f"{fields.get('CPU(s)', '?')} CPUs, L1d {fields.get('L1d cache', '?')}, L2 {fields.get('L2 cache', '?')}, L3 {fields.get('L3 cache', '?')}")


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
            results[(r["suite"], r["name"])] = r
        elif line:
            other.append(line)
    return results, other


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suite")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    flags = ["--threads", str(args.threads)] + (["--quick"] if args.quick else [])
    ours_cmd = [os.path.join(ROOT, "crossdistill"), "bench", args.suite] + flags
    peer_cmd = ["/usr/bin/python3", os.path.join(ROOT, "bench", "peer", "pytorch_bench.py"), args.suite] + flags
    peer_env = dict(os.environ)
    removed = {k: peer_env.pop(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in peer_env}
    peer_env["OPENBLAS_VERBOSE"] = "2"

    # Build (if needed) before the first timed run.
    subprocess.run([os.path.join(ROOT, "crossdistill"), "info"], capture_output=True, cwd=ROOT)

    rounds, core, loads = [], "?", []
    for _ in range(args.rounds):
        before = load_average()
        ours, _ = run(ours_cmd, dict(os.environ))
        peer, peer_text = run(peer_cmd, peer_env)
        loads.append(f"{before} → {load_average()}")
        for line in peer_text:
            m = re.search(r"Core:\s*(\S+)", line)
            if m:
                core = m.group(1)
        rounds.append((ours, peer))

    import torch  # only for the version line; the timed runs happen in subprocesses
    print(f"## bench {args.suite}: CrossDistill vs PyTorch {torch.__version__}\n")
    print(f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='minutes')}")
    print(f"- machine: {cpu_model()}")
    print(f"- command: `/usr/bin/python3 bench/compare.py {' '.join([args.suite] + flags + (['--rounds', str(args.rounds)] if args.rounds > 1 else []))}`")
    print(f"- threads: {args.threads} (ours: engine workers; peer: torch.set_num_threads)")
    print(f"- peer OpenBLAS core: {core}" + (f" (removed for the peer: {', '.join(f'{k}={v}' for k, v in removed.items())})" if removed else ""))
    print(f"- load average (1/5/15 min) before → after each round: {'; '.join(loads)}\n")

    header = "| case | shape |"
    rule = "| --- | --- |"
    for i in range(len(rounds)):
        tag = f" r{i + 1}" if len(rounds) > 1 else ""
        header += f" ours{tag} | peer{tag} | ratio{tag} |"
        rule += " ---: | ---: | ---: |"
    print(header)
    print(rule)
    keys = list(rounds[0][0].keys()) + [k for k in rounds[0][1] if k not in rounds[0][0]]
    unit = next(iter(rounds[0][0].values()))["unit"] if rounds[0][0] else ""
    for key in keys:
        shape = (rounds[0][0].get(key) or rounds[0][1].get(key))["shape"]
        row = f"| {key[1]} | {shape} |"
        for ours, peer in rounds:
            o, p = ours.get(key), peer.get(key)
            ratio = f"{o['value'] / p['value']:.2f}" if o and p and p["value"] > 0 else "–"
            row += f" {o['value']:.1f} |" if o else " – |"
            row += f" {p['value']:.1f} |" if p else " – |"
            row += f" {ratio} |"
        print(row)
    print(f"\nValues in {unit}; ratio = ours / peer (above 1 means CrossDistill is faster).")


if __name__ == "__main__":
    sys.exit(main())
