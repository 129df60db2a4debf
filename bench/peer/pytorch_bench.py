#!/usr/bin/python3
"""PyTorch peer of `crossdistill bench`: the same cases (bench/cases/*.json), the same JSON lines.

Run with Debian's interpreter, which has python3-torch:
    /usr/bin/python3 bench/peer/pytorch_bench.py gemm [--threads 2] [--quick] [--case NAME]... [--list]
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cases")


def median_seconds(fn, quick):
    """Warm-up, then the median of timed samples; mirrors CrossDistill.Bench.Timing."""
    warmup_s, sample_s, samples = (0.05, 0.02, 3) if quick else (0.3, 0.1, 9)
    start = time.perf_counter()
    calls = 0
    while calls < 2 or time.perf_counter() - start < warmup_s:
        fn()
        calls += 1
    per_call = (time.perf_counter() - start) / calls
    reps = max(1, int(-(-sample_s // per_call)))
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        times.append((time.perf_counter() - t0) / reps)
    return statistics.median(times)


def gemm_shape(case):
    shape = f"{case['m']}x{case['n']}x{case['k']}"
    if case.get("transA"):
        shape += ",tA"
    if case.get("transB"):
        shape += ",tB"
    if case.get("batch", 1) > 1:
        shape += f",b{case['batch']}"
    return shape


def gemm_cases():
    with open(os.path.join(CASES, "gemm.json")) as f:
        return json.load(f)["cases"]


def gemm_suite(quick, selected):
    gen = torch.Generator().manual_seed(0)
    for case in gemm_cases():
        if selected and case["name"] not in selected:
            continue
        m, n, k, batch = case["m"], case["n"], case["k"], case.get("batch", 1)
        # Stored as the engine stores them: a transposed operand is a transposed view of a contiguous tensor.
        def operand(rows, cols, transposed):
            shape = (batch, cols, rows) if transposed else (batch, rows, cols)
            t = torch.rand(shape, generator=gen) * 2 - 1
            t = t.transpose(1, 2) if transposed else t
            return t if batch > 1 else t[0]
        a = operand(m, k, case.get("transA", False))
        b = operand(k, n, case.get("transB", False))
        c = torch.empty((batch, m, n) if batch > 1 else (m, n))
        if batch > 1:
            fn = lambda: torch.bmm(a, b, out=c)
        else:
            fn = lambda: torch.mm(a, b, out=c)
        seconds = median_seconds(fn, quick)
        yield {"suite": "gemm", "name": case["name"], "shape": gemm_shape(case), "metric": "throughput",
               "value": round(2.0 * m * n * k * batch / seconds / 1e9, 2), "unit": "GFLOP/s"}


# suite name -> (case names, runner)
SUITES = {"gemm": (lambda: [c["name"] for c in gemm_cases()], gemm_suite)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suite", choices=sorted(SUITES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--case", action="append", default=[], help="run only this case (repeatable)")
    parser.add_argument("--list", action="store_true", help="print the case names and exit")
    args = parser.parse_args()
    names, run = SUITES[args.suite]
    if args.list:
        print("\n".join(names()))
        return 0
    unknown = [c for c in args.case if c not in names()]
    if unknown:
        parser.error(f"suite {args.suite} has no case {', '.join(unknown)}")
    torch.set_num_threads(args.threads)
    for result in run(args.quick, set(args.case)):
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
