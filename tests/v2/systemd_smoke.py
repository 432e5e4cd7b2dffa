"""coldstart under systemd as PID 1, run from a plain (not delegated) service
as a CI step or `sudo coldstart` from a session would be: it must ask systemd
for a scope of its own (placement `systemd-scope`, docs/cgroups.md), apply
the limits there, and leave no scope behind. Run by `make test-v2` inside a
guest booted with `v2vm --init systemd`; exits 1 on a failure.

  1. one coldstart: systemd-scope, limits in the run cgroup, runs ok;
  2. two at once: each its own scope;
  3. a SIGKILLed coldstart whose target forked: its scope lives on with the
     children; the next coldstart kills them and systemd collects the scope;
  4. afterwards: no coldstart-*.scope unit and no cgroup of one."""
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

COLDSTART, FIXTURE = sys.argv[1], sys.argv[2]
failed = 0


def check(cond, msg):
    global failed
    print(("ok: " if cond else "FAIL: ") + msg, flush=True)
    failed += not cond


check(open("/proc/1/comm").read().strip() == "systemd", "PID 1 is systemd")
tmp = tempfile.mkdtemp()
limits_script = ('d=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup); '
                 'echo "$(cut -d: -f3 /proc/self/cgroup) $(cat $d/memory.max) $(cat $d/cpu.max) '
                 '$(cat $d/pids.max)" >> {out}; exec {fixture} serve')


def start(name):
    out = f"{tmp}/{name}"
    return subprocess.Popen(
        [COLDSTART, "run", "-q", "-n", "2", "-w", "0", "--json", out + ".json",
         "--memory", "64Mi", "--cpus", "0.5", "--pids", "32",
         "--ready", "http://127.0.0.1:{port}/", "--", "sh", "-c",
         limits_script.format(out=out + ".cg", fixture=FIXTURE)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), out


def result(p, out, name):
    _, err = p.communicate(timeout=300)
    check(p.returncode == 0, f"{name}: exit {p.returncode}: {err.strip()[-500:]}")
    rep = json.load(open(out + ".json")) if os.path.exists(out + ".json") else None
    check(rep is not None, f"{name}: a report")
    check("warning" not in err, f"{name}: no warning: {err.strip()[-300:]}")
    if not rep:
        return None
    host = rep["host"]
    scope = f"/system.slice/coldstart-{p.pid}.scope"
    check(host["cgroup_placement"] == "systemd-scope" and host["cgroup_parent"] == scope,
          f"{name}: placement {host['cgroup_placement']} {host['cgroup_parent']} (want {scope})")
    check(all(r["status"] == "ok" for t in rep["targets"] for r in t["runs"]), f"{name}: runs ok")
    lines = open(out + ".cg").read().split("\n") if os.path.exists(out + ".cg") else []
    for line in filter(None, lines):
        path, mem, cpu_quota, cpu_period, pids = line.split()
        check(path.startswith(scope + "/coldstart-") and mem == str(64 << 20) and
              cpu_quota == "50000" and pids == "32",
              f"{name}: the run cgroup below the scope, with its limits: {line}")
    return host["cgroup_parent"]


# 1. One.
p, out = start("one")
first = result(p, out, "one")

# 2. Two side by side.
p1, o1 = start("a")
p2, o2 = start("b")
scopes = {result(p1, o1, "side a"), result(p2, o2, "side b")}
check(len(scopes) == 2, f"side by side: two scopes {scopes}")

# 3. SIGKILL: the target's children outlive the profiler and keep its scope.
killed = subprocess.Popen([COLDSTART, "run", "-q", "-n", "1", "-w", "0", "--timeout", "120s",
                           "--ready", "log:never", "--", FIXTURE, "fork", "2", "forever"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
dead_scope = f"/sys/fs/cgroup/system.slice/coldstart-{killed.pid}.scope"
deadline = time.monotonic() + 60
while time.monotonic() < deadline and not glob.glob(f"{dead_scope}/coldstart-*[0-9]/cgroup.procs"):
    time.sleep(0.2)
time.sleep(1)
killed.kill()
killed.wait()
time.sleep(0.5)
procs = open(glob.glob(f"{dead_scope}/coldstart-*[0-9]/cgroup.procs")[0]).read().split() \
    if glob.glob(f"{dead_scope}/coldstart-*[0-9]/cgroup.procs") else []
check(len(procs) >= 2, f"a SIGKILLed profiler leaves its scope with the forks: {procs}")
p, out = start("after-kill")
result(p, out, "after the kill")
check(not os.path.exists(dead_scope), f"the next coldstart reaped {dead_scope}")
alive = [pid for pid in procs if os.path.exists(f"/proc/{pid}")]
check(not alive, f"the forks of the killed run are gone: {alive}")

# 4. Nothing left: systemd collects each scope when coldstart exits.
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    units = subprocess.run(["systemctl", "list-units", "--all", "--no-legend", "--plain",
                            "coldstart-*"], capture_output=True, text=True).stdout.strip()
    dirs = glob.glob("/sys/fs/cgroup/system.slice/coldstart-*")
    if not units and not dirs:
        break
    time.sleep(0.2)
check(not units and not dirs, f"no scope left: units `{units}`, cgroups {dirs}")

print(f"{failed} failure(s)" if failed else "all passed")
sys.exit(1 if failed else 0)
