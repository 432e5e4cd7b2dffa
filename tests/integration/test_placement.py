"""Where the run cgroups live, on v1 and v2 alike: the report says it
(host.cgroup_placement, host.cgroup_parent), --cgroup-parent moves them and
is checked like any other input. test_cgroup_v2 covers v2's own paths."""
from harness import *

require_root()
v2 = cgroup_v2()


def own_path():
    """This process's cgroup: the unified one (v2) or the memory hierarchy's (v1)."""
    for line in open("/proc/self/cgroup").read().splitlines():
        _, ctrls, path = line.split(":", 2)
        if (v2 and ctrls == "") or (not v2 and "memory" in ctrls.split(",")):
            return path.rstrip("/") or "/"
    return None


def mount_of(path):
    return f"/sys/fs/cgroup{path}" if v2 else f"/sys/fs/cgroup/memory{path}"


# The default placement is reported.
p, rep = run_json("-n", "1", "-w", "0", "--", "true")
host = require_report(rep, p, "default placement")["host"]
check(host["cgroup"] == ("v2" if v2 else "v1"), f"host.cgroup: {host}")
if v2:
    check(host["cgroup_placement"] in ("delegated", "systemd-scope", "root-subtree"),
          f"v2 placement: {host}")
else:  # v1: only below the profiler's own cgroup (which is this test's)
    check(host["cgroup_placement"] == "delegated" and host["cgroup_parent"] == own_path(),
          f"v1 placement below our own cgroup {own_path()}: {host}")
md = coldstart("run", "-q", "-n", "1", "-w", "0", "--md", "-", "--", "true")
check(f"({host['cgroup_placement']} " in md.stdout, f"the Markdown names the placement: {md.stdout[:400]}")

# --cgroup-parent: created (on v1 in every hierarchy, below our own cgroup so
# that nothing of the machine's is touched), the runs below it, left empty.
base = own_path() if not v2 else ""
parent = f"{base}/cs-placement-{os.getpid()}/runs"
with tempfile.TemporaryDirectory() as d:
    seen = os.path.join(d, "cg")
    p, rep = run_json("-n", "2", "-w", "0", "--cgroup-parent", parent, "--",
                      "sh", "-c", f"cat /proc/self/cgroup >> {seen}")
    host = require_report(rep, p, "--cgroup-parent")["host"]
    check(host["cgroup_placement"] == "parent" and host["cgroup_parent"] == parent,
          f"--cgroup-parent {parent}: {host}")
    lines = open(seen).read().splitlines() if os.path.exists(seen) else []
    mem = [l.split(":", 2)[2] for l in lines
           if (v2 and l.startswith("0::")) or (not v2 and "memory" in l.split(":")[1].split(","))]
    check(len(mem) == 2 and all(m.startswith(parent + "/coldstart-") for m in mem),
          f"the runs were below {parent}: {lines}")
    check(os.path.isdir(mount_of(parent)) and
          not [x for x in os.listdir(mount_of(parent)) if x.startswith("coldstart-")],
          f"{parent} stays, without run cgroups")
# Remove what the test made (every hierarchy on v1).
top = f"{base}/cs-placement-{os.getpid()}"
for mnt in ([""] if v2 else [f"/{c}" for c in os.listdir("/sys/fs/cgroup")]):
    for sub in (f"{top}/runs", top):
        d = f"/sys/fs/cgroup{mnt}{sub}"
        if os.path.isdir(d):
            try:
                os.rmdir(d)
            except OSError as e:
                check(False, f"cannot remove {d}: {e}")

# Bad input: exit 2 naming the flag.
bad_parents = [("relative/path", "cgroup path"), ("/a/../b", "`..`")]
if not v2:  # v2 takes a folder below the mount too; v1 has one mount per controller
    bad_parents.append(("/sys/fs/cgroup/memory/x", "not a folder"))
for bad, needle in bad_parents:
    p = coldstart("run", "-q", "-n", "1", "--cgroup-parent", bad, "--", "true")
    check(p.returncode == 2 and "--cgroup-parent" in p.stderr and needle in p.stderr,
          f"--cgroup-parent {bad}: exit {p.returncode}: {p.stderr}")

finish()
