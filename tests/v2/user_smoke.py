"""An unprivileged user who owns a delegated cgroup v2 subtree (what systemd
gives a user's Delegate=yes unit) runs coldstart as README says. Run by
`make test-v2` as `nobody` inside the v2 guest (v2vm --user), from that
cgroup; exits 1 on the first failure, 0 when all passed.

  1. sharing the cgroup with this script: no place for the runs, and the
     error lists what to do (not root, no systemd here);
  2. alone in a cgroup of its own: `delegated`, runs ok, handed back clean;
  3. --cgroup-parent below the delegated subtree: `parent`, runs ok."""
import json
import os
import subprocess
import sys
import tempfile

COLDSTART, FIXTURE = sys.argv[1], sys.argv[2]
CG = "/sys/fs/cgroup" + open("/proc/self/cgroup").read().strip().split("::", 1)[1]
failed = 0


def check(cond, msg):
    global failed
    print(("ok: " if cond else "FAIL: ") + msg, flush=True)
    failed += not cond


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def run(*args, cgroup=None):
    """coldstart run as the first process of `cgroup` (or of this one)."""
    fd, report = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    os.unlink(report)
    pre = (lambda: write(f"{cgroup}/cgroup.procs", "0")) if cgroup else None
    p = subprocess.run([COLDSTART, "run", "-q", "-n", "2", "-w", "0", "--json", report, *args,
                        "--", FIXTURE, "serve"], capture_output=True, text=True, timeout=300,
                       preexec_fn=pre)
    rep = json.load(open(report)) if os.path.exists(report) else None
    return p, rep


check(os.geteuid() != 0, f"runs unprivileged (uid {os.geteuid()})")
ready = ["--ready", "http://127.0.0.1:{port}/"]

# 1. Shared with this script.
p, rep = run(*ready)
check(p.returncode != 0 and rep is None, f"sharing its cgroup: refused (exit {p.returncode})")
for hint in ("other processes share it", "systemd-run --user --scope -p Delegate=yes",
             "--cgroup-parent"):
    check(hint in p.stderr, f"the error says `{hint}`: {p.stderr.strip()}")

# The user arranges the subtree as systemd's docs say: processes in leaves,
# controllers enabled in the delegated cgroup for them.
shell = f"{CG}/shell"
os.mkdir(shell)
write(f"{shell}/cgroup.procs", "0")
write(f"{CG}/cgroup.subtree_control",
      " ".join("+" + c for c in open(f"{CG}/cgroup.controllers").read().split()))

# 2. Alone in a cgroup of its own.
alone = f"{CG}/alone"
os.mkdir(alone)
p, rep = run(*ready, cgroup=alone)
check(p.returncode == 0 and rep is not None, f"alone: exit {p.returncode}: {p.stderr.strip()}")
if rep:
    host = rep["host"]
    check(host["cgroup_placement"] == "delegated" and host["cgroup_parent"] == alone[14:],
          f"alone: placement {host['cgroup_placement']} {host['cgroup_parent']}")
    check(all(r["status"] == "ok" for t in rep["targets"] for r in t["runs"]), "alone: runs ok")
check(not [d for d in os.listdir(alone) if os.path.isdir(f"{alone}/{d}")],
      f"alone: nothing left below {alone}")

# 3. --cgroup-parent inside the delegated subtree, from the shell's cgroup.
p, rep = run(*ready, "--cgroup-parent", f"{CG[14:]}/runs")
check(p.returncode == 0 and rep is not None, f"--cgroup-parent: exit {p.returncode}: {p.stderr.strip()}")
if rep:
    check(rep["host"]["cgroup_placement"] == "parent", f"--cgroup-parent: {rep['host']}")
check(not [d for d in os.listdir(f"{CG}/runs") if d.startswith("coldstart-")],
      "--cgroup-parent: no run cgroup left")

print(f"{failed} failure(s)" if failed else "all passed")
sys.exit(1 if failed else 0)
