#!/usr/bin/env python3
"""Throughput: cold starts per minute of the native-c image, each in a fresh
cgroup, probed over HTTP with one request after ready.

Usage: bench/throughput.py [--runs N]
"""
import argparse
import os
import subprocess
import sys
import time

from common import COLDSTART, ROOT, require_built


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=200)
    a = ap.parse_args()
    require_built()
    image = os.path.join(ROOT, "images", "native-c")
    subprocess.run([COLDSTART, "images", "build", "native-c"], capture_output=True)
    t = time.monotonic()
    p = subprocess.run([COLDSTART, "run", "-q", "-n", str(a.runs), "-w", "0", "--image", image,
                        "--json", "/dev/null"], capture_output=True, text=True)
    dt = time.monotonic() - t
    if p.returncode != 0:
        sys.exit(p.stdout + p.stderr)
    print(f"native-c: {a.runs} cold starts in {dt:.2f} s = {a.runs / dt * 60:.0f} cold starts/minute "
          f"({dt / a.runs * 1000:.2f} ms each, spawn to first served request and teardown)")


if __name__ == "__main__":
    main()
