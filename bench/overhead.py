#!/usr/bin/env python3
"""Overhead: what one cold start costs coldstart itself (cgroup set-up and
teardown, spawn handshake, sampling, report), and exit-mode timing of
/bin/true next to `hyperfine -N`. Also the profiler's peak RSS.

Usage: bench/overhead.py [--runs N]
"""
import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from common import COLDSTART, coldstart_json, median, require_built


def wall(*args):
    t = time.monotonic()
    p = subprocess.run([COLDSTART, "run", "-q", *args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(p.stdout + p.stderr)
    return time.monotonic() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=100)
    a = ap.parse_args()
    require_built()
    n = a.runs
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        # Marginal cost of a run: the session with n+1 runs minus the one with 1.
        one = min(wall("-n", "1", "-w", "0", "--json", f.name, "--", "/bin/true") for _ in range(3))
        many = wall("-n", str(n + 1), "-w", "0", "--json", f.name, "--", "/bin/true")
        rep = json.load(open(f.name))
    ready = [r["milestones_us"]["ready"] for r in rep["targets"][0]["runs"]]
    per_run_ms = (many - one) / n * 1000
    print(f"per-run cost over {n} runs of /bin/true:")
    print(f"  wall time per run        : {per_run_ms:6.2f} ms")
    print(f"  of which the target      : {median(ready) / 1000:6.2f} ms (median ready)")
    print(f"  coldstart's own per run  : {per_run_ms - median(ready) / 1000:6.2f} ms"
          "   (goal <= 5 ms: cgroup create/teardown, spawn, samples, report)")

    rep = coldstart_json("-n", str(n), "-w", "1", "--", "/bin/true")
    cs = [r["milestones_us"]["ready"] for r in rep["targets"][0]["runs"] if not r["warmup"]]
    print(f"exit-mode timing of /bin/true ({n} runs):")
    print(f"  coldstart median         : {median(cs) / 1000:6.3f} ms (spawn to exit, in its own cgroup)")
    if shutil.which("hyperfine"):
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            subprocess.run(["hyperfine", "-N", "--runs", str(n), "--warmup", "1", "--export-json",
                            f.name, "/bin/true"], capture_output=True)
            h = json.load(open(f.name))["results"][0]
        print(f"  hyperfine -N median      : {h['median'] * 1000:6.3f} ms (mean {h['mean'] * 1000:.3f} ms)")
        print(f"  ratio coldstart/hyperfine: {median(cs) / 1000 / (h['median'] * 1000):.2f}")
    else:
        print("  (hyperfine is not installed: apt-get install hyperfine)")

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
