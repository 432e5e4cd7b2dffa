"""`--runtime crun|runc` (issue 16): the same image through a real OCI
runtime, started in the run's cgroup and mount namespace (the overlay
mounted by the run, the rest made by the runtime from the bundle's
config.json). crun leaves cgroups alone (--cgroup-manager=disabled), so the
container stays in the run's cgroup; runc cannot, and is refused. Nothing is left: no cgroup, no process, no bundle, no state."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from harness import *
from oci_images import build_test_image, cache_dir

require_root()
if not shutil.which("crun"):
    skip("`crun` is not installed (make test installs it: apt-get install crun)")
work = tempfile.mkdtemp(prefix="coldstart-oci-runtime-")
cache = cache_dir()
layout = build_test_image(work)
COMMON = ["--image", layout, "--image-cache", cache, "-w", "0", "--stop-signal", "KILL"]


def leftovers():
    return [n for n in os.listdir(os.path.join(cache, "cold"))]


# A served run through crun: the runtime's own start is in the milestones.
p, rep = run_json(*COMMON, "-n", "3", "--runtime", "crun")
check(p.returncode == 0, f"--runtime crun: exit {p.returncode}: {p.stderr[-800:]}")
rep = require_report(rep, p, "--runtime crun")
t = rep["targets"][0]
check(t["oci_image"]["runtime"] == "crun", f"oci_image.runtime: {t['oci_image']}")
for r in measured(rep):
    m = r["milestones_us"]
    check(r["status"] == "ok", f"crun run: {r['status']} {r.get('error')} {r.get('output_tail')}")
    check(m["rootfs"] is not None and m["rootfs"] <= m["exec"] <= m["listen"] <= m["ready"],
          f"crun milestones in order: {m}")
    check(r["image_read_bytes"] and r["image_read_files"] >= 1, "crun: image read")
check(not leftovers(), f"crun: bundles left: {leftovers()}")

# Inside: crun's container (its hostname, PID 1, the image's user and folder).
script = "echo uid=$(id -u) host=$(hostname) pid=$$ cwd=$(pwd); cat /srv/new.txt; exit 5"
p, rep = run_json(*COMMON, "-n", "1", "--runtime", "crun", "--ready", "exit",
                  "--entrypoint", "/bin/sh", "--", "-c", script)
rep = require_report(rep, p, "crun shell")
r = measured(rep)[0]
out = r.get("output_tail") or ""
check(r["status"] == "exited" and r["exit_code"] == 5, f"crun shell exit 5: {r['status']} {r['exit_code']} {out!r}")
check("uid=1000 host=coldstart pid=1 cwd=/srv" in out and "new" in out,
      f"inside crun's container: {out!r}")

# Ctrl-C mid-run: exit 130, nothing left.
proc = subprocess.Popen([COLDSTART, "run", "-q", "-n", "3", *COMMON, "--runtime", "crun",
                         "--ready", "log:never"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True)
time.sleep(1.0)
proc.send_signal(signal.SIGINT)
_, stderr = proc.communicate(timeout=60)
check(proc.returncode == 130, f"crun SIGINT: exit 130, got {proc.returncode}: {stderr[-300:]}")
check(not leftovers(), f"crun SIGINT: bundles left: {leftovers()}")
servers = [pid for pid in os.listdir("/proc") if pid.isdigit() and os.path.exists(f"/proc/{pid}/exe")
           and os.path.basename(os.path.realpath(f"/proc/{pid}/exe")) in ("server", "crun")]
check(not servers, f"crun SIGINT: processes left: {servers}")

# runc: refused (it would put the container in a cgroup outside the run's).
p = coldstart("run", "-q", *COMMON, "-n", "1", "--runtime", "runc")
check(p.returncode == 2 and "--runtime runc" in p.stderr and "outside the run's cgroup" in p.stderr,
      f"runc: exit 2 naming why: {p.returncode} {p.stderr.strip()[-300:]}")
# A runtime that is not installed, and one that does not exist.
p = coldstart("run", "-q", *COMMON, "--runtime", "kata")
check(p.returncode == 2 and "--runtime kata" in p.stderr, f"--runtime kata: {p.stderr.strip()}")

shutil.rmtree(work, ignore_errors=True)
shutil.rmtree(cache, ignore_errors=True)
finish()
