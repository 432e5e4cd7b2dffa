"""Bad usage and bad values: a clear message naming the problem, exit 2, no
report file, no crash."""
from harness import *

cases = [
    (["run", "--memory", "12Q", "--", "true"], "--memory 12Q"),
    (["run", "--timeout", "30", "--", "true"], "needs a unit"),
    (["run", "--cpus", "zero", "--", "true"], "--cpus zero"),
    (["run", "--cpuset", "3-1", "--", "true"], "--cpuset 3-1"),
    (["run", "-n", "0", "--", "true"], "--runs 0"),
    (["run", "--bogus", "--", "true"], "unknown option `--bogus`"),
    (["run", "--runs"], "needs a value"),
    (["run"], "no target"),
    (["run", "true"], "after `--`"),
    (["run", "--ready", "ftp://x", "--", "true"], "unknown ready spec"),
    (["run", "--ready", "http://127.0.0.1/", "--", "true"], ":PORT"),
    (["run", "--ready", "log:(", "--", "true"], "regular expression"),
    (["run", "--env", "NOEQUALS", "--", "true"], "K=V"),
    (["run", "--port", "70000", "--", "true"], "--port 70000"),
    (["run", "--interval", "5us", "--", "true"], "shortest interval"),
    (["run", "--seccomp", "maybe", "--", "true"], "--seccomp maybe"),
    (["run", "--min", "4Mi", "--", "true"], "belongs to `coldstart size`"),
    (["run", "--reference", "x", "--", "true"], "belongs to `coldstart suite`"),
    (["frobnicate"], "unknown command"),
    ([], "Usage"),
]
with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "r.json")
    for args, needle in cases:
        full = args[:1] + (["--json", out] if args[:1] == ["run"] else []) + args[1:]
        p = coldstart(*full)
        check(p.returncode == 2, f"{args}: exit {p.returncode}, expected 2")
        check(needle in p.stderr, f"{args}: message {p.stderr!r} lacks {needle!r}")
        check(not os.path.exists(out), f"{args}: wrote a report")

# Not allowed to create cgroups: one clear message, not a failure per run.
import shutil
if os.geteuid() == 0 and shutil.which("setpriv"):
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", COLDSTART,
                        "run", "-n", "3", "--", "true"], capture_output=True, text=True)
    # v1: the first run cgroup cannot be made; v2: no placement applies
    # (docs/cgroups.md), and the message lists what to do.
    check(p.returncode == 1 and ("cannot create a cgroup for the runs" in p.stderr or
                                 ("no cgroup v2 place for the runs" in p.stderr and
                                  "--cgroup-parent" in p.stderr))
          and p.stderr.count("\n") == 1, f"unprivileged: {p.returncode} {p.stderr}")

p = coldstart("run", "--help")
check(p.returncode == 0 and "--memory SIZE" in p.stdout, "run --help")
for cmd, needle in (("suite", "coldstart suite"), ("size", "--slowdown"), ("sweep", "--cpus LIST"),
                    ("images", "images build"), ("report", "--format"), ("compare", "--threshold"),
                    ("merge", "-o OUT.json")):
    p = coldstart(cmd, "--help")
    check(p.returncode == 0 and needle in p.stdout, f"{cmd} --help: {p.stdout[:80]}")
p = coldstart("--version")
check(p.returncode == 0 and p.stdout.startswith("coldstart "), "--version")
finish()
