#!/usr/bin/env python3
"""A burst against K plain forks: how much longer coldstart's `--burst K`
takes to have every instance serving than K copies of the same server forked
at one instant by a script, each polled by a process of its own (the
independent check of issue 27, item 10), and how much CPU the profiler
itself spends on the way (its samplers, probes and seccomp notifications
compete with the targets for the same cores).

The server is nginx from Debian (one master, one worker, `daemon off`, its
own port and config per instance, started through the same small shell
wrapper both ways). Rounds alternate the two ways so that the machine's
drift hits both.

Usage: bench/burst_vs_forks.py [--k 4] [--runs 10] [--rounds 3]
                               [--variants "default;--interval 0;--seccomp none"]
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

from common import COLDSTART, median, own_cpu_s, require_built

NGINX = "/usr/sbin/nginx"

CONF = """daemon off;
worker_processes 1;
error_log /dev/null;
pid {dir}/PORT.pid;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {dir}/tmp; proxy_temp_path {dir}/tmp; fastcgi_temp_path {dir}/tmp;
  uwsgi_temp_path {dir}/tmp; scgi_temp_path {dir}/tmp;
  server {{ listen 127.0.0.1:PORT; location / {{ return 200 "ok\\n"; }} }}
}}
"""

WRAPPER = """#!/bin/sh
sed "s/PORT/$PORT/g" {dir}/nginx.conf.in > {dir}/$PORT.conf && exec {nginx} -q -p {dir} -c {dir}/$PORT.conf
"""


def setup(d):
    os.makedirs(os.path.join(d, "tmp"))
    with open(os.path.join(d, "nginx.conf.in"), "w") as f:
        f.write(CONF.format(dir=d))
    start = os.path.join(d, "start.sh")
    with open(start, "w") as f:
        f.write(WRAPPER.format(dir=d, nginx=NGINX))
    os.chmod(start, 0o755)
    return start


def free_ports(k):
    socks = [socket.socket() for _ in range(k)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def poller(port, gate, out):
    """Waits at the gate, then connects and asks until a 200 comes back,
    retrying a refused connection after 1 ms (coldstart's own floor)."""
    os.read(gate, 1)
    t0 = time.monotonic_ns()
    while True:
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            if s.recv(64).startswith(b"HTTP/1.1 200"):
                break
        except OSError:
            pass
        finally:
            s.close()
        time.sleep(0.001)
    os.write(out, f"{(time.monotonic_ns() - t0) / 1000:.0f}\n".encode())
    os._exit(0)


def plain_forks(start, k, runs):
    """All-ready of `runs` bursts of k plain forks, in µs."""
    all_ready = []
    for _ in range(runs):
        gate_r, gate_w = os.pipe()
        out_r, out_w = os.pipe()
        kids = []
        for port in free_ports(k):
            pid = os.fork()
            if pid == 0:
                os.close(gate_w)
                os.read(gate_r, 1)
                os.execve(start, [start], {"PORT": str(port), "PATH": "/usr/bin:/bin"})
            kids.append(pid)
            pid = os.fork()
            if pid == 0:
                os.close(gate_w)
                poller(port, gate_r, out_w)
            kids.append(pid)
        time.sleep(0.2)  # every child waits at the gate
        os.close(gate_r)
        os.close(gate_w)  # end of file: every reader goes at once
        os.close(out_w)
        with os.fdopen(out_r) as f:
            times = [int(line) for line in f]
        for pid in kids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in kids:
            os.waitpid(pid, 0)
        if len(times) != k:
            sys.exit(f"a plain fork never served ({len(times)} of {k})")
        all_ready.append(max(times))
        time.sleep(0.1)
    return all_ready


def coldstart_burst(start, k, runs, extra):
    """All-ready of `runs` bursts through coldstart (µs), and the profiler's
    own CPU per run (ms)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        proc = subprocess.Popen(
            [COLDSTART, "run", "-q", "-n", str(runs), "-w", "1", "--burst", str(k),
             *extra, "--ready", "http://127.0.0.1:{port}/",
             "--json", f.name, "--", start],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        cpu = own_cpu_s(proc.pid) * 1000
        _, err = proc.communicate()
        if proc.returncode != 0:
            sys.exit(f"coldstart --burst {k} failed ({proc.returncode}): {err[-500:]}")
        runs_ = [r for r in json.load(open(f.name))["targets"][0]["runs"] if not r["warmup"]]
        return [r["burst"]["all_ready_us"] for r in runs_], cpu / (runs + 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--variants", default="default;--interval 0;--seccomp none",
                    help="coldstart options to try, `;` between variants")
    a = ap.parse_args()
    require_built()
    if not os.path.exists(NGINX):
        sys.exit("nginx is not installed (apt-get install nginx-light)")
    variants = [v.strip() for v in a.variants.split(";")]
    plain, burst, cpu = [], {v: [] for v in variants}, {v: [] for v in variants}
    with tempfile.TemporaryDirectory() as d:
        start = setup(d)
        for rnd in range(a.rounds):
            plain += plain_forks(start, a.k, a.runs)
            for v in variants:
                extra = [] if v == "default" else v.split()
                ready, c = coldstart_burst(start, a.k, a.runs, extra)
                burst[v] += ready
                cpu[v].append(c)
            print(f"round {rnd + 1}: plain {median(plain) / 1000:.1f} ms, " +
                  ", ".join(f"{v} {median(burst[v]) / 1000:.1f} ms" for v in variants),
                  flush=True)
    base = median(plain)
    print(f"\n{a.rounds} x {a.runs} bursts of {a.k} nginx on {os.cpu_count()} CPUs; all ready, p50:")
    print(f"  plain forks, own pollers     {base / 1000:7.1f} ms")
    for v in variants:
        m = median(burst[v])
        print(f"  coldstart {v:<18} {m / 1000:7.1f} ms   {m / base:4.2f}x plain   "
              f"profiler CPU {median(cpu[v]):5.1f} ms/run")

if __name__ == "__main__":
    main()
