#!/usr/bin/env python3
"""Overhead: what one cold start costs coldstart itself (cgroup set-up and
teardown, spawn handshake, sampling, report), and exit-mode timing of
/bin/true next to `hyperfine -N`. Also the profiler's peak RSS.

Usage: bench/overhead.py [--runs N] [--rounds R]
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from common import COLDSTART, coldstart_json, median, pct, require_built


def wall(*args):
    t = time.monotonic()
    p = subprocess.run([COLDSTART, "run", "-q", *args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(p.stdout + p.stderr)
    return time.monotonic() - t


def hyperfine_wall(runs):
    t = time.monotonic()
    subprocess.run(["hyperfine", "-N", "--runs", str(runs), "--warmup", "0", "--export-json",
                    "/dev/null", "/bin/true"], capture_output=True, check=True)
    return time.monotonic() - t


def per_run_ms(wall_of, rounds):
    """(wall(60 runs) - wall(10 runs)) / 50, the median over interleaved rounds."""
    return median([(wall_of(60) - wall_of(10)) / 50 * 1000 for _ in range(rounds)])


def exec_errors(runs):
    """exec (from t0) against the static fixture's own CLOCK_MONOTONIC at the
    top of main, in us: the part of `exec` that is not the target's."""
    from common import ROOT
    static = os.path.join(ROOT, "build", "tests", "fixture_static")
    with tempfile.TemporaryDirectory() as d:
        times = os.path.join(d, "times")
        rep = coldstart_json("-n", str(runs), "-w", "1", "--env",
                             f"COLDSTART_FIXTURE_TIMES={times}", "--", static, "sleep", "0")
        truth = [dict(kv.split("=") for kv in line.split())
                 for line in open(times).read().splitlines()]
    errs = []
    for r, t in zip(rep["targets"][0]["runs"], truth):
        if not r["warmup"]:
            exec_ns = r["t0_monotonic_ns"] + r["milestones_us"]["exec"] * 1000
            errs.append((int(t["main_ns"]) - exec_ns) / 1000)
    return errs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    require_built()
    n = a.runs
    if shutil.which("hyperfine"):
        limits = ("--memory", "256Mi", "--cpus", "1", "--pids", "64")
        cs, cs_lim, hf = [], [], []
        for _ in range(a.rounds):  # interleaved: the machine's drift hits all three
            cs.append(per_run_ms(lambda k: wall("-n", str(k), "-w", "0", "--json", "/dev/null",
                                                "--", "/bin/true"), 1))
            cs_lim.append(per_run_ms(lambda k: wall("-n", str(k), "-w", "0", *limits, "--json",
                                                    "/dev/null", "--", "/bin/true"), 1))
            hf.append(per_run_ms(hyperfine_wall, 1))
        c, cl, h = median(cs), median(cs_lim), median(hf)
        print(f"per-run cost of /bin/true, (wall(60) - wall(10)) / 50, median of {a.rounds} "
              "interleaved rounds:")
        print(f"  hyperfine -N             : {h:6.2f} ms")
        print(f"  coldstart run            : {c:6.2f} ms   {c / h:4.2f}x hyperfine (goal <= 2.0x)")
        print(f"  coldstart run {' '.join(limits)}: {cl:6.2f} ms   {cl / h:4.2f}x hyperfine")
    else:
        print("(hyperfine is not installed: apt-get install hyperfine)")

    errs = exec_errors(n)
    print(f"exec milestone against the static fixture's own clock at main ({n} runs):")
    print(f"  main - exec              : p50 {median(errs):5.0f} us, p95 {pct(errs, 95):5.0f} us"
          "   (goal p50 <= 50 us)")

    rep = coldstart_json("-n", str(n), "-w", "1", "--", "/bin/true")
    cs = [r["milestones_us"]["ready"] for r in rep["targets"][0]["runs"] if not r["warmup"]]
    print(f"exit-mode timing of /bin/true ({n} runs):")
    print(f"  coldstart median         : {median(cs) / 1000:6.3f} ms (spawn to exit, in its own cgroup)")

    # The profiler's own peak RSS: an HTTP session with 1 ms sampling.
    wrapper = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    from common import FIXTURE
    p = subprocess.run([sys.executable, "-c", wrapper, COLDSTART, "run", "-q", "-n", "10",
                        "--requests", "20", "--ready", "http://127.0.0.1:{port}/", "--json",
                        "/dev/null", "--", FIXTURE, "sleep", "20", "serve"],
                       capture_output=True, text=True)
    print(f"profiler peak RSS over an HTTP session of 10 runs: {int(p.stdout) / 1024:.1f} MiB"
          "   (goal <= 20 MiB)")


if __name__ == "__main__":
    main()
