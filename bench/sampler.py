#!/usr/bin/env python3
"""Sampler cost: does 1 ms sampling slow the target down, and what does it
cost the profiler?

1. Ready-time inflation: node-http cold starts with --interval 1ms and with
   sampling off, interleaved (A, B, A, B, ...), medians and their ratio.
2. Profiler CPU: an idle Node process watched for a fixed time with and
   without sampling; the profiler's own CPU time (utime + stime of the
   coldstart process, read from /proc just before it exits) over wall time.

Usage: bench/sampler.py [--runs N] [--coldstart build/coldstart]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from math import comb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median_ci(values):
    """Median and its distribution-free 95% CI (order statistics), as coldstart does."""
    v = sorted(values)
    n = len(v)
    j = 0
    for k in range(1, n // 2 + 1):
        if sum(comb(n, i) for i in range(k)) / 2 ** n <= 0.025:
            j = k
    lo, hi = (v[j - 1], v[n - j]) if j else (float("nan"), float("nan"))
    return statistics.median(v), lo, hi


def run_once(cs, interval, extra):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        p = subprocess.run([cs, "run", "-q", "-n", "1", "-w", "0", "--interval", interval,
                            "--json", f.name, *extra], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"coldstart failed: {p.stdout}{p.stderr}")
        rep = json.load(open(f.name))
        return rep["targets"][0]["runs"][0]["milestones_us"]["ready"]


def profiler_cpu(cs, interval, seconds):
    """CPU seconds the coldstart process itself used while watching an idle
    node process for `seconds` (the run times out by design)."""
    p = subprocess.Popen([cs, "run", "-q", "-n", "1", "-w", "0", "--interval", interval,
                          "--ready", "log:never-printed", "--timeout", f"{seconds}s", "--",
                          "node", "-e", "setInterval(() => {}, 1e6)"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tick = os.sysconf("SC_CLK_TCK")
    start = time.monotonic()
    last = 0.0
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            last = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        except OSError:
            pass
        time.sleep(0.05)
    return last, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--coldstart", default=os.path.join(ROOT, "build", "coldstart"))
    a = ap.parse_args()
    image = ["--image", os.path.join(ROOT, "images", "node-http")]

    on, off = [], []
    run_once(a.coldstart, "1ms", image)  # warm the page cache
    for _ in range(a.runs):
        on.append(run_once(a.coldstart, "1ms", image))
        off.append(run_once(a.coldstart, "0", image))
    m_on, m_off = statistics.median(on), statistics.median(off)
    print(f"node-http ready, {a.runs} interleaved pairs:")
    print(f"  sampling every 1 ms : median {m_on / 1000:8.2f} ms")
    print(f"  sampling off        : median {m_off / 1000:8.2f} ms")
    ratio, lo, hi = median_ci([x / y for x, y in zip(on, off)])
    print(f"  paired ratio on/off : {ratio:.4f}  (95% CI {lo:.4f} - {hi:.4f}; goal <= 1.02)")

    cpu_on, wall_on = profiler_cpu(a.coldstart, "1ms", a.seconds)
    cpu_off, wall_off = profiler_cpu(a.coldstart, "0", a.seconds)
    print(f"profiler CPU while watching an idle node process for {a.seconds:g} s:")
    print(f"  sampling every 1 ms : {cpu_on:.2f} s CPU = {100 * cpu_on / wall_on:.2f}% of one core"
          "  (goal < 3%)")
    print(f"  sampling off        : {cpu_off:.2f} s CPU = {100 * cpu_off / wall_off:.2f}% of one core")


if __name__ == "__main__":
    main()
