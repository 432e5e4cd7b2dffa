"""Nothing leaks: orphans, daemons, SIGTERM-ignoring targets, a profiler
interrupted with SIGINT, and one killed with SIGKILL (the next start reaps)."""
import signal
import sys
import tempfile
import time

from harness import *

require_root()

# Orphans: the main process exits while its children live on; they die with
# the run cgroup.
p, rep = run_json("-n", "2", "-w", "0", "--", FIXTURE, "fork", "3", "exit", "0")
check(p.returncode == 0, f"fork 3 exit 0: {p.returncode} {p.stdout}")
check_no_leftovers("after orphans")

# A daemon: the parent exits 0 at once, the grandchild serves; the run waits
# for readiness instead of calling that an exit.
p, rep = run_json("-n", "2", "-w", "0", "--ready", "http://127.0.0.1:{port}/", "--",
                  FIXTURE, "daemonize", "serve")
check(p.returncode == 0, f"daemonize serve: {p.returncode} {p.stdout}")
check_no_leftovers("after a daemon")

# A target that ignores SIGTERM and never becomes ready.
p, rep = run_json("-n", "1", "-w", "0", "--timeout", "300ms", "--ready", "log:never",
                  "--", FIXTURE, "ignore-term", "forever")
check(p.returncode == 1, "never ready: exit 1")
if require_report(rep):
    check(measured(rep)[0]["status"] == "timeout", "timeout status")
check_no_leftovers("after ignore-term")

# Closed stdio does not confuse the loop.
p, rep = run_json("-n", "1", "-w", "0", "--", FIXTURE, "close-stdio", "sleep", "20")
check(p.returncode == 0, f"close-stdio: {p.returncode} {p.stdout}")

# SIGINT mid-run: the report of what was measured is written, the unfinished
# run is `interrupted`, the exit code is 128+2, nothing is left.
with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "r.json")
    proc = subprocess.Popen([COLDSTART, "run", "-q", "-n", "3", "-w", "0", "--json", out,
                             "--ready", "log:never", "--", FIXTURE, "fork", "2", "forever"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    check(proc.returncode == 130, f"SIGINT exit code {proc.returncode}: {stderr}")
    check(os.path.exists(out), "report written after SIGINT")
    if os.path.exists(out):
        with open(out) as f:
            rep = json.load(f)
        validate_report(rep, "report after SIGINT")
        runs = rep["targets"][0]["runs"]
        check(len(runs) == 1 and runs[0]["status"] == "interrupted",
              f"interrupted run: {[r['status'] for r in runs]}")
    leftover_tmp = [n for n in os.listdir(d) if n != "r.json"]
    check(not leftover_tmp, f"temporary files left: {leftover_tmp}")
check_no_leftovers("after SIGINT")

# SIGTERM likewise (128+15).
proc = subprocess.Popen([COLDSTART, "run", "-q", "-n", "3", "-w", "0", "--ready", "log:never",
                         "--", FIXTURE, "forever"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
time.sleep(0.3)
proc.send_signal(signal.SIGTERM)
proc.communicate(timeout=30)
check(proc.returncode == 143, f"SIGTERM exit code {proc.returncode}")
check_no_leftovers("after SIGTERM")

# A target that makes a cgroup of its own below its run cgroup and moves a
# child into it (as runc does for its container): the child is killed and
# both cgroups removed at teardown.
MAKE_SUB = r"""
import os, subprocess, sys, time
child = subprocess.Popen(["sleep", "60"])
open(sys.argv[1], "w").write(str(child.pid))
for line in open("/proc/self/cgroup"):
    _, ctrls, path = line.rstrip("\n").split(":", 2)
    if "coldstart-" not in path:
        continue
    mnt = "/sys/fs/cgroup" if ctrls == "" else "/sys/fs/cgroup/" + ctrls.replace("name=", "")
    sub = mnt + path + "/sub"
    if os.path.isdir(mnt + path):
        os.mkdir(sub)
        for knob in ("cpuset.cpus", "cpuset.mems"):  # v1: empty in a new cpuset
            if os.path.exists(sub + "/" + knob):
                with open(mnt + path + "/" + knob) as src, open(sub + "/" + knob, "w") as dst:
                    dst.write(src.read())
        with open(sub + "/cgroup.procs", "w") as f:
            f.write(str(child.pid))
print("moved", flush=True)
time.sleep(60)
"""
with tempfile.TemporaryDirectory() as d:
    pidfile = os.path.join(d, "pid")
    p, rep = run_json("-n", "1", "-w", "0", "--ready", "log:moved", "--", sys.executable, "-c",
                      MAKE_SUB, pidfile)
    check(p.returncode == 0, f"sub-cgroup target: exit {p.returncode}: {p.stderr[-400:]}")
    if require_report(rep, p, "sub-cgroup target"):
        r = measured(rep)[0]
        check(r["status"] == "ok" and not r.get("error"), f"sub-cgroup run: {r['status']} {r.get('error')}")
    with open(pidfile) as f:
        child = int(f.read())
    check(not os.path.exists(f"/proc/{child}") or
          open(f"/proc/{child}/stat").read().split()[2] == "Z",
          f"the child in the target's own cgroup is gone ({child})")
check_no_leftovers("after a target that made a cgroup of its own")

# SIGKILL mid-run: the profiler cannot clean up; its direct child dies with it
# (PDEATHSIG) and the next start reaps the stale cgroup with the rest.
proc = subprocess.Popen([COLDSTART, "run", "-q", "-n", "1", "-w", "0", "--ready", "log:never",
                         "--", FIXTURE, "fork", "3", "forever"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.5)
proc.kill()
proc.wait()
time.sleep(0.2)
check(our_cgroups(), "a SIGKILLed profiler leaves its cgroup (expected before reaping)")
p = coldstart("run", "-q", "-n", "1", "-w", "0", "--", "true")
check(p.returncode == 0, f"next run: {p.returncode} {p.stderr}")
check_no_leftovers("after SIGKILL and the next start")

finish()
