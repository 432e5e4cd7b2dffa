#!/usr/bin/env python3
"""Burst: what each extra instance of a burst costs the profiler itself (its
own CPU per run, from /proc, the targets' excluded), and how far every
instance's `listen` and `ready` are from the fixture's own CLOCK_MONOTONIC
timestamps at K = 8 (the single-run goals: listen p50 <= 50 us, ready p50
<= 200 us; bench/fidelity.py measures them for one instance).

Usage: bench/burst.py [--runs N] [--ks 1,2,4,8] [--interval 1ms]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from common import COLDSTART, FIXTURE, median, own_cpu_s, pct, require_built

def burst_session(k, runs, truth_dir, interval):
    """One session of `runs` bursts of k; returns (report, profiler CPU s)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        proc = subprocess.Popen(
            [COLDSTART, "run", "-q", "-n", str(runs), "-w", "0", "--burst", str(k),
             "--interval", interval,
             "--burst-pids", str(64 * k), "--ready", "http://127.0.0.1:{port}/", "--env",
             f"COLDSTART_FIXTURE_TRUTH={truth_dir}/truth-{{port}}", "--json", f.name, "--",
             FIXTURE, "sleep", "30", "serve-after", "20"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # Exited but not reaped: its own times are still readable.
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        cpu = own_cpu_s(proc.pid)
        _, err = proc.communicate()
        if proc.returncode != 0:
            sys.exit(f"coldstart --burst {k} failed ({proc.returncode}): {err[-500:]}")
        return json.load(open(f.name)), cpu


def truth(path):
    return {k: int(v) for k, v in (line.split("=") for line in open(path).read().split())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--ks", default="1,2,4,8")
    ap.add_argument("--interval", default="1ms", help="sampling interval of each instance")
    a = ap.parse_args()
    require_built()
    ks = [int(k) for k in a.ks.split(",")]
    print(f"{a.runs} bursts of `fixture sleep 30 serve-after 20` per K; profiler CPU is "
          f"coldstart's own ({a.interval} sampling per instance):")
    print("   K   profiler CPU/run   per instance   all ready p50   listen err p50/p95"
          "   ready err p50/p95")
    per_k = {}
    for k in ks:
        with tempfile.TemporaryDirectory() as d:
            rep, cpu = burst_session(k, a.runs, d, a.interval)
            listen_err, ready_err, all_ready = [], [], []
            for r in rep["targets"][0]["runs"]:
                b = r["burst"]
                all_ready.append(b["all_ready_us"])
                t0 = r["t0_monotonic_ns"]
                for e in b["per_instance"]:
                    path = os.path.join(d, f"truth-{e['port']}")
                    gt = truth(path)
                    listen_err.append(abs(t0 + e["listen_us"] * 1000 - gt["listen_ns"]) / 1000)
                    ready_err.append(abs(t0 + e["ready_us"] * 1000 - gt["first_response_ns"])
                                     / 1000)
                    os.unlink(path)  # the next run's instance may get the same port
        per_run = cpu / a.runs * 1000
        per_k[k] = per_run
        print(f"  {k:2d}   {per_run:13.2f} ms   {per_run / k:9.2f} ms   "
              f"{median(all_ready) / 1000:10.1f} ms   "
              f"{median(listen_err):6.0f} / {pct(listen_err, 95):5.0f} us   "
              f"{median(ready_err):6.0f} / {pct(ready_err, 95):5.0f} us")
    if len(ks) > 1:
        k0, k1 = ks[0], ks[-1]
        slope = (per_k[k1] - per_k[k0]) / (k1 - k0)
        print(f"each extra instance costs the profiler {slope:.2f} ms of CPU per run "
              f"(K {k0} -> {k1}); goals at K = {k1}: listen error p50 <= 50 us, ready <= 200 us")


if __name__ == "__main__":
    main()
