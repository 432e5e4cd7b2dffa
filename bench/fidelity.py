#!/usr/bin/env python3
"""Fidelity: how far coldstart's `listen` and `ready` are from the target's own
CLOCK_MONOTONIC timestamps (the fixture writes them), next to the usual shell
probe (curl every 10 ms until 200).

Usage: bench/fidelity.py [--runs N]
"""
import argparse
import os
import subprocess
import tempfile
import time

from common import FIXTURE, coldstart_json, free_port, median, pct, require_built


def truth(path):
    return {k: int(v) for k, v in (line.split("=") for line in open(path).read().split())}


def coldstart_errors(runs):
    listen_err, ready_err = [], []
    with tempfile.TemporaryDirectory() as d:
        t = os.path.join(d, "truth")
        for _ in range(runs):
            rep = coldstart_json("-n", "1", "-w", "0", "--ready", "http://127.0.0.1:{port}/",
                                 "--env", f"COLDSTART_FIXTURE_TRUTH={t}", "--",
                                 FIXTURE, "sleep", "30", "serve-after", "20")
            r = rep["targets"][0]["runs"][0]
            gt = truth(t)
            t0, m = r["t0_monotonic_ns"], r["milestones_us"]
            listen_err.append(abs(t0 + m["listen"] * 1000 - gt["listen_ns"]) / 1000)
            # The target reads its clock after write() returns; the response
            # arrived during that write, so the truth is an upper bound and a
            # small negative difference is expected. Absolute error is reported.
            ready_err.append(abs(t0 + m["ready"] * 1000 - gt["first_response_ns"]) / 1000)
    return listen_err, ready_err


def curl_errors(runs, interval_s=0.010):
    """The shell loop people write: start the server, curl every 10 ms until 200."""
    errs = []
    with tempfile.TemporaryDirectory() as d:
        t = os.path.join(d, "truth")
        for _ in range(runs):
            port = free_port()
            env = dict(os.environ, PORT=str(port), COLDSTART_FIXTURE_TRUTH=t)
            proc = subprocess.Popen([FIXTURE, "sleep", "30", "serve-after", "20"], env=env)
            try:
                while True:
                    code = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                           f"http://127.0.0.1:{port}/"],
                                          capture_output=True, text=True).stdout
                    if code == "200":
                        seen = time.monotonic_ns()
                        break
                    time.sleep(interval_s)
            finally:
                proc.kill()
                proc.wait()
            errs.append((seen - truth(t)["first_response_ns"]) / 1000)
    return errs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    a = ap.parse_args()
    require_built()
    listen, ready = coldstart_errors(a.runs)
    print(f"fidelity over {a.runs} cold starts of `fixture sleep 30 serve-after 20`:")
    print(f"  coldstart listen error : p50 {median(listen):7.1f} us   p95 {pct(listen, 95):7.1f} us"
          "   (goal p50 <= 50 us)")
    print(f"  coldstart ready error  : p50 {median(ready):7.1f} us   p95 {pct(ready, 95):7.1f} us"
          "   (goal p50 <= 200 us)")
    if subprocess.run(["which", "curl"], capture_output=True).returncode == 0:
        curl = curl_errors(a.runs)
        print(f"  curl every 10 ms, ready: p50 {median(curl):7.1f} us   p95 {pct(curl, 95):7.1f} us")
        print(f"  ratio (curl / coldstart, ready p50): {median(curl) / max(median(ready), 1):.0f}x")
    else:
        print("  (curl is not installed: no shell-probe comparison)")


if __name__ == "__main__":
    main()
