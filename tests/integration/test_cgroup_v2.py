"""Issue 14: where run cgroups live on a real cgroup v2 hierarchy, and that
every placement cleans up after itself (docs/cgroups.md). Runs on v2 only
(`make test-v2` boots a v2 guest for it); on this v1 machine it skips.

The test builds each situation itself below a scratch cgroup at the top of
the hierarchy: a profiler alone in a delegated cgroup, one sharing its
cgroup with another process, two side by side, a leaf under an `enabled`
parent, --cgroup-parent, and a foreign cgroup that blocks the hand-back."""
import shutil
import signal
import time

from harness import *

require_root()
if not cgroup_v2():
    skip("cgroup v2 only: /sys/fs/cgroup is cgroup v1 here (unit.cgroup_v1 and the other "
         "integration tests cover v1; make test-v2 runs this in a v2 guest)")

MNT = "/sys/fs/cgroup"
SCRATCH = f"{MNT}/cs-v2test-{os.getpid()}"
F = os.path.abspath(FIXTURE)


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def make(path, enable=False):
    os.makedirs(path, exist_ok=True)
    if enable:
        ctrls = read(f"{path}/cgroup.controllers").split()
        write(f"{path}/cgroup.subtree_control", " ".join("+" + c for c in ctrls))
    return path


def rel(path):
    return path[len(MNT):] or "/"


def start_in(cg, args):
    """Starts coldstart (or anything) as the first process of cgroup `cg`."""
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: write(f"{cg}/cgroup.procs", "0"))


def coldstart_in(cg, report, *args):
    """`coldstart run` alone in cgroup `cg`; the target writes its own
    /proc/self/cgroup to report + '.cg', so the test sees where it ran."""
    return start_in(cg, [COLDSTART, "run", "-q", "-n", "2", "-w", "0", "--json", report, *args,
                         "--", "sh", "-c", f"cat /proc/self/cgroup >> {report}.cg"])


def finished(p, report, context):
    out, err = p.communicate(timeout=240)
    check(p.returncode == 0, f"{context}: exit {p.returncode}: {err.strip()[-600:]}")
    rep = json.load(open(report)) if os.path.exists(report) else None
    rep = require_report(rep, p, context)
    validate_report(rep, context)
    for r in measured(rep):
        check(r["status"] == "ok", f"{context}: {r['status']} {r.get('error')}")
    cgs = read(report + ".cg").split() if os.path.exists(report + ".cg") else []
    return rep, err, [c[3:] for c in cgs]  # "0::/path" -> "/path"


def children(cg):
    return sorted(d for d in os.listdir(cg) if os.path.isdir(f"{cg}/{d}"))


def procs(cg):
    return read(f"{cg}/cgroup.procs").split()


def rmtree_cgroups(path):
    if not os.path.isdir(path):
        return
    for d in children(path):
        rmtree_cgroups(f"{path}/{d}")
    for pid in procs(path):
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    for _ in range(100):
        try:
            os.rmdir(path)
            return
        except OSError:
            time.sleep(0.05)


make(SCRATCH, enable=True)
tmp = tempfile.mkdtemp(prefix="cs-v2test-")
try:
    # 2. Delegated and alone: run cgroups beside the profiler's leaf, and the
    # cgroup is handed back as found (controllers off, no leaf, no runs).
    alone = make(f"{SCRATCH}/alone")
    rep, err, ran = finished(coldstart_in(alone, f"{tmp}/a.json"), f"{tmp}/a.json", "alone")
    check(rep["host"]["cgroup"] == "v2", f"host.cgroup: {rep['host']}")
    check(rep["host"]["cgroup_placement"] == "delegated", f"alone: {rep['host']}")
    check(rep["host"]["cgroup_parent"] == rel(alone), f"alone: {rep['host']}")
    check(len(ran) == 2 and all(c.startswith(rel(alone) + "/coldstart-") for c in ran),
          f"alone: the targets ran below {rel(alone)}: {ran}")
    check(children(alone) == [] and read(f"{alone}/cgroup.subtree_control").strip() == "",
          f"alone: handed back: {children(alone)} "
          f"subtree_control `{read(f'{alone}/cgroup.subtree_control').strip()}`")

    # The `enabled` shape: the profiler alone in a leaf whose parent already
    # gives controllers to its children.
    enabled = make(f"{SCRATCH}/en", enable=True)
    leaf = make(f"{enabled}/cmd")
    rep, err, ran = finished(coldstart_in(leaf, f"{tmp}/e.json"), f"{tmp}/e.json", "enabled")
    check(rep["host"]["cgroup_placement"] == "delegated" and
          rep["host"]["cgroup_parent"] == rel(leaf), f"enabled: {rep['host']}")

    # Two side by side, each alone in its own delegated cgroup.
    a, b = make(f"{SCRATCH}/side-a"), make(f"{SCRATCH}/side-b")
    pa = coldstart_in(a, f"{tmp}/sa.json", "--ready", "exit")
    pb = coldstart_in(b, f"{tmp}/sb.json", "--ready", "exit")
    for p, cg, r in ((pa, a, "sa"), (pb, b, "sb")):
        rep, err, ran = finished(p, f"{tmp}/{r}.json", f"side by side {r}")
        check(rep["host"]["cgroup_parent"] == rel(cg), f"side by side {r}: {rep['host']}")
        check(children(cg) == [], f"side by side {r}: left {children(cg)}")

    # Sharing its cgroup (a shell, a CI step, ctest): not delegated to it
    # alone. 3. Under systemd a scope each; 4. without it, as root,
    # /sys/fs/cgroup/coldstart. Two at once in the same shared cgroup both
    # work and both clean up.
    systemd = read("/proc/1/comm").strip() == "systemd"
    shared = make(f"{SCRATCH}/shared")
    sleeper = start_in(shared, ["sleep", "infinity"])
    try:
        p1 = coldstart_in(shared, f"{tmp}/s1.json")
        p2 = coldstart_in(shared, f"{tmp}/s2.json")
        for p, r in ((p1, "s1"), (p2, "s2")):
            rep, err, ran = finished(p, f"{tmp}/{r}.json", f"shared {r}")
            want = (("systemd-scope", f"/system.slice/coldstart-{p.pid}.scope") if systemd
                    else ("root-subtree", "/coldstart"))
            host = rep["host"]
            check((host["cgroup_placement"], host["cgroup_parent"]) == want,
                  f"shared {r}: {host} (want {want})")
            check(len(ran) == 2 and all(c.startswith(want[1] + "/coldstart-") for c in ran),
                  f"shared {r}: ran in {ran}")
        check(procs(shared) == [str(sleeper.pid)], f"shared: {procs(shared)}")
        if not systemd:
            left = [d for d in children(f"{MNT}/coldstart") if d.startswith("coldstart-")]
            check(left == [], f"shared: left below /coldstart: {left}")
    finally:
        sleeper.kill()
        sleeper.wait()

    # 1. --cgroup-parent, created with its ancestors, left in place (empty).
    parent = f"{SCRATCH}/ci/runs"
    rep, err, ran = finished(coldstart_in(alone, f"{tmp}/p.json", "--cgroup-parent", rel(parent)),
                             f"{tmp}/p.json", "--cgroup-parent")
    check(rep["host"]["cgroup_placement"] == "parent" and
          rep["host"]["cgroup_parent"] == rel(parent), f"--cgroup-parent: {rep['host']}")
    check(all(c.startswith(rel(parent) + "/coldstart-") for c in ran), f"--cgroup-parent: {ran}")
    check(os.path.isdir(parent) and children(parent) == [], f"--cgroup-parent: left {parent}")
    # A parent that holds a process cannot give controllers to the runs.
    busy = make(f"{SCRATCH}/busy")
    sleeper = start_in(busy, ["sleep", "infinity"])
    try:
        p = coldstart("run", "-q", "-n", "1", "-w", "0", "--cgroup-parent", rel(busy), "--",
                      "true")
        check(p.returncode == 2 and "holds processes" in p.stderr,
              f"--cgroup-parent with a process in it: exit {p.returncode}: {p.stderr}")
    finally:
        sleeper.kill()
        sleeper.wait()

    # The limits land in the v2 files of the run cgroup (test_limits checks
    # their effect: OOM status, throttling, the pids cap).
    files = "memory.max memory.swap.max cpu.max pids.max cpuset.cpus"
    script = (f'd=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup); '
              f'for f in {files}; do echo "$f=$(cat $d/$f)"; done > {tmp}/limits')
    p, rep = run_json("-n", "1", "-w", "0", "--memory", "48Mi", "--cpus", "0.5", "--pids", "20",
                      "--cpuset", "0", "--", "sh", "-c", script)
    require_report(rep, p, "v2 limits")
    got = dict(l.split("=", 1) for l in read(f"{tmp}/limits").splitlines())
    check(got == {"memory.max": str(48 << 20), "memory.swap.max": "0", "cpu.max": "50000 100000",
                  "pids.max": "20", "cpuset.cpus": "0"},
          f"v2 limit files: {got}")

    # The hand-back can fail: a foreign cgroup beside ours keeps the memory
    # controller in use. The warning says what is left; the next coldstart,
    # once this one has exited, removes the leaf it left.
    guard = make(f"{SCRATCH}/guarded")
    foreign = f"{guard}/foreign"
    p = start_in(guard, [COLDSTART, "run", "-q", "-n", "1", "-w", "0", "--", "sh", "-c",
                         f"mkdir {foreign} && echo +memory > {foreign}/cgroup.subtree_control"])
    out, err = p.communicate(timeout=120)
    check(p.returncode == 0, f"guarded: exit {p.returncode}: {err}")
    check("warning" in err and "-profiler" in err and "next coldstart" in err,
          f"guarded: the failed hand-back is reported: {err}")
    left = [d for d in children(guard) if d.endswith("-profiler")]
    check(len(left) == 1, f"guarded: the leaf is left while the controller is in use: {children(guard)}")
    os.rmdir(foreign)
    write(f"{guard}/cgroup.subtree_control",
          " ".join("-" + c for c in read(f"{guard}/cgroup.subtree_control").split()))
    rep, err, ran = finished(coldstart_in(guard, f"{tmp}/g.json"), f"{tmp}/g.json", "after guard")
    check(children(guard) == [], f"the next coldstart reaped the stale leaf: {children(guard)}")

    # Stale reaping on v2: a SIGKILLed profiler leaves a live target, its run
    # cgroup and its leaf; the next start in the same place removes them all.
    stale = make(f"{SCRATCH}/stale")
    p = start_in(stale, [COLDSTART, "run", "-q", "-n", "1", "-w", "0", "--ready", "log:never",
                         "--timeout", "60s", "--", F, "forever"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(children(stale)) < 2:
        time.sleep(0.1)
    time.sleep(0.3)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    check(len(children(stale)) == 2, f"a killed profiler leaves its leaf and run: {children(stale)}")
    # `stale` still gives controllers to its children, so no process may join
    # it: the next coldstart reaps it as the parent it is told to use.
    rep, err, ran = finished(coldstart_in(alone, f"{tmp}/st.json", "--cgroup-parent", rel(stale)),
                             f"{tmp}/st.json", "reaper")
    check(children(stale) == [], f"stale cgroups reaped: {children(stale)}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
    rmtree_cgroups(SCRATCH)

finish()
