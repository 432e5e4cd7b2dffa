#!/usr/bin/env python3
"""CPU profile (--profile cpu): what sampling costs the target's start-up.
Time to ready and CPU to ready of node-http and dotnet-jit with sampling off
and on at 999 Hz, in interleaved rounds (off, on, off, on, ...) so drift of
the machine falls on both alike. Goal: ready grows by at most 5% at 999 Hz.

"on" is `--profile cpu:HZ` as it comes: the perf counters, their ring
buffers, the symbols resolved after ready, .NET's perf map asked for at
ready over its diagnostics port. "on+maps" adds --profile-maps (Node starts
with V8's perf map, --perf-basic-prof --interpreted-frames-native-stack),
which costs what V8 spends writing the map as it compiles.

Usage: bench/profile.py [--rounds N] [--runs N] [--hz 999] [--images a,b]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from common import COLDSTART, ROOT, median, require_built

def session(image, runs, extra, tmp):
    """One `run --image` session; returns the measured runs' (ready, cpu) in ms."""
    out = os.path.join(tmp, "r.json")
    if "--profile" in extra:
        extra = [*extra, "--profile-dir", os.path.join(tmp, "profile")]
    p = subprocess.run([COLDSTART, "run", "-q", "-n", str(runs), "-w", "1", "--image",
                        os.path.join(ROOT, "images", image), "--json", out, *extra],
                       capture_output=True, text=True, cwd=tmp)
    if p.returncode != 0:
        sys.exit(f"coldstart {image} {extra} failed ({p.returncode}): {p.stderr[-800:]}")
    runs_ = [r for r in json.load(open(out))["targets"][0]["runs"] if not r["warmup"]]
    return ([r["milestones_us"]["ready"] / 1000 for r in runs_], [r["cpu_to_ready_us"] / 1000 for r in runs_])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--runs", type=int, default=5, help="measured runs per session")
    ap.add_argument("--hz", type=int, default=999)
    ap.add_argument("--images", default="node-http,dotnet-jit")
    a = ap.parse_args()
    require_built()
    images = a.images.split(",")
    for image in images:
        subprocess.run([COLDSTART, "images", "build", image], capture_output=True)
    modes = {"off": [], "on": ["--profile", f"cpu:{a.hz}"],
             "on+maps": ["--profile", f"cpu:{a.hz}", "--profile-maps"]}
    print(f"{a.rounds} interleaved rounds of {a.runs} measured runs per mode and image; "
          f"--profile cpu:{a.hz}")
    print(f"{'image':12} {'mode':9} {'ready p50':>10} {'CPU p50':>9} {'ready ×off':>11} "
          f"{'CPU ×off':>9}   ready ×off per round")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for image in images:
            got = {m: ([], []) for m in modes}
            paired = {m: [] for m in modes}  # per round: this mode's median / off's
            for _ in range(a.rounds):
                medians = {}
                for m, extra in modes.items():
                    ready, cpu = session(image, a.runs, extra, tmp)
                    got[m][0].extend(ready)
                    got[m][1].extend(cpu)
                    medians[m] = median(ready)
                for m in modes:
                    paired[m].append(medians[m] / medians["off"])
            base_r, base_c = median(got["off"][0]), median(got["off"][1])
            for m in modes:
                r, c = median(got[m][0]), median(got[m][1])
                pr = sorted(paired[m])
                print(f"{image:12} {m:9} {r:8.1f}ms {c:7.1f}ms {r / base_r:10.3f}× "
                      f"{c / base_c:8.3f}×   paired {median(pr):.3f}× "
                      f"({pr[0]:.3f}–{pr[-1]:.3f} over {len(pr)} rounds)")
                if m == "on":
                    worst = max(worst, r / base_r)
    print(f"worst ready ratio with sampling on: {worst:.3f}× (goal <= 1.05×): "
          f"{'met' if worst <= 1.05 else 'NOT met'}")


if __name__ == "__main__":
    main()
