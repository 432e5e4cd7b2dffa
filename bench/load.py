#!/usr/bin/env python3
"""The load generator (issue 17) side by side with wrk on the same servers
and connection counts.

Servers: nginx (one worker, `return 200 "ok"`, keep-alive) and the
fixture's concurrent C server (serve-many). For each server and connection
count, in interleaved rounds:
  - wrk -t1 and wrk -t2 -cN -d DUR --latency against the server started
    alone (the same command, same port);
  - coldstart run --load N:DUR -- the server (coldstart starts it, the load
    follows ready).
Printed: requests/s and p50 latency of each (medians over the rounds), the
ratio to the best wrk, and each generator's own CPU (wrk: its rusage;
coldstart: load.generator_cpu_us) and peak RSS (wrk: its rusage; coldstart:
the profiler process's VmHWM, sampled).

Goal: at least 90% of wrk's requests/s, p50 within 10% of wrk's.

Usage: bench/load.py [--rounds N] [--duration 5s] [--conns 8,64]
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from common import COLDSTART, FIXTURE, free_port, median, require_built


def wait_port(port, timeout=5):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    sys.exit(f"nothing listens on {port}")


def nginx_server(work, port):
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1; daemon off; pid {work}/nginx.pid;
error_log {work}/error.log; events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 100000000; keepalive_timeout 60;
  client_body_temp_path {work}; proxy_temp_path {work}; fastcgi_temp_path {work};
  uwsgi_temp_path {work}; scgi_temp_path {work};
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok"; }} }} }}
""")
    return ["nginx", "-c", conf, "-p", work]


def fixture_server(work, port):
    return [FIXTURE, "serve-many"]


def parse_wrk_time(s):
    m = re.match(r"([\d.]+)(us|ms|s)", s)
    v = float(m.group(1))
    return v * {"us": 1, "ms": 1000, "s": 1e6}[m.group(2)]


def run_wrk(cmd, port, conns, threads, duration):
    env = dict(os.environ, PORT=str(port))
    srv = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        p = subprocess.Popen(["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}", "--latency",
                              f"http://127.0.0.1:{port}/"], stdout=subprocess.PIPE, text=True)
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p50 = parse_wrk_time(re.search(r"50%\s+(\S+)", out).group(1))
        return {"rps": rps, "p50": p50, "cpu_s": ru.ru_utime + ru.ru_stime,
                "rss_kib": ru.ru_maxrss}
    finally:
        srv.terminate()
        srv.wait()


def run_coldstart(cmd, port, conns, duration):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        p = subprocess.Popen([COLDSTART, "run", "-q", "-n", "1", "-w", "0", "--port", str(port),
                              "--ready", f"http://127.0.0.1:{port}/", "--load",
                              f"{conns}:{duration}", "--json", f.name, "--", *cmd],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        hwm = [0]

        def watch():
            while p.poll() is None:
                try:
                    with open(f"/proc/{p.pid}/status") as st:
                        for line in st:
                            if line.startswith("VmHWM:"):
                                hwm[0] = max(hwm[0], int(line.split()[1]))
                except OSError:
                    pass
                time.sleep(0.1)

        w = threading.Thread(target=watch)
        w.start()
        err = p.stderr.read()
        p.wait()
        w.join()
        if p.returncode != 0:
            sys.exit(f"coldstart failed ({p.returncode}): {err}")
        run = json.load(open(f.name))["targets"][0]["runs"][0]
        load = run["load"]
        return {"rps": load["rps"], "p50": load["latency_us"]["p50"],
                "cpu_s": load["generator_cpu_us"] / 1e6, "rss_kib": hwm[0],
                "errors": load["errors"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", default="5s")
    ap.add_argument("--conns", default="8,64")
    a = ap.parse_args()
    require_built()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    servers = [("fixture serve-many", fixture_server)]
    if shutil.which("nginx"):
        servers.insert(0, ("nginx (1 worker)", nginx_server))
    else:
        print("nginx is missing (apt-get install nginx-light): only the fixture server")
    print(f"{os.cpu_count()} CPUs, {a.duration} per measurement, {a.rounds} rounds, "
          f"medians; loopback")
    print(f"{'server':20} {'conns':>5} {'generator':>12} {'req/s':>10} {'p50 us':>8} "
          f"{'CPU s':>6} {'RSS MiB':>8}  vs best wrk")
    for name, make in servers:
        for conns in [int(c) for c in a.conns.split(",")]:
            res = {"wrk -t1": [], "wrk -t2": [], "coldstart": []}
            with tempfile.TemporaryDirectory() as work:
                for _ in range(a.rounds):
                    port = free_port()
                    cmd = make(work, port)
                    res["wrk -t1"].append(run_wrk(cmd, port, conns, 1, a.duration))
                    res["wrk -t2"].append(run_wrk(cmd, port, conns, 2, a.duration))
                    res["coldstart"].append(run_coldstart(cmd, port, conns, a.duration))
            med = {k: {m: median([r[m] for r in v]) for m in ("rps", "p50", "cpu_s", "rss_kib")}
                   for k, v in res.items()}
            best = max(("wrk -t1", "wrk -t2"), key=lambda k: med[k]["rps"])
            for k, m in med.items():
                ratio = ""
                if k == "coldstart":
                    ratio = (f"{m['rps'] / med[best]['rps']:.2f}x req/s, "
                             f"p50 {m['p50'] / med[best]['p50']:.2f}x ({best})")
                print(f"{name:20} {conns:>5} {k:>12} {m['rps']:>10.0f} {m['p50']:>8.1f} "
                      f"{m['cpu_s']:>6.2f} {m['rss_kib'] / 1024:>8.1f}  {ratio}")


if __name__ == "__main__":
    main()
