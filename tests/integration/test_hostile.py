"""Issue 28: what a hostile report, image, target or output path can do to a
profiler that runs as root. Each block fails without its fix; nothing here
skips a part: the whole test runs or exits 77 with the reason."""
import json
import stat
import shutil

from harness import *

require_root()
F = FIXTURE
work = tempfile.mkdtemp(prefix="coldstart-hostile-")

# A small real report to feed the report command.
p, rep = run_json("-n", "1", "-w", "0", "--", F, "exit", "0")
rep = require_report(rep, p, "the seed report")
seed = os.path.join(work, "seed.json")
with open(seed, "w") as f:
    json.dump(rep, f)

# 1. Root does not write through another user's symlink in a sticky,
# world-writable folder (fs.protected_symlinks' rule), and a link of the
# folder's owner (or ours) is still followed.
sticky, victim = os.path.join(work, "sticky"), os.path.join(work, "victim")
os.mkdir(sticky)
os.chmod(sticky, 0o1777)
os.mkdir(victim, 0o700)
config = os.path.join(victim, "config")
with open(config, "w") as f:
    f.write("precious\n")
link = os.path.join(sticky, "report.json")
os.symlink(config, link)
os.lchown(link, 65534, 65534)
for args in (["report", seed, "--format", "json", "-o", link],
             ["report", seed, "--format", "md", "-o", link],
             ["run", "-q", "-n", "1", "-w", "0", "--json", link, "--", F, "exit", "0"]):
    p = coldstart(*args)
    check(p.returncode == 2, f"{args[0]} -o through nobody's link in a sticky folder: exit "
                             f"{p.returncode} {p.stderr[-300:]}")
    check("protected_symlinks" in p.stderr, f"the refusal says why: {p.stderr[-300:]}")
    with open(config) as f:
        check(f.read() == "precious\n", f"{args[0]}: the link's target was not replaced")
os.lchown(link, 0, 0)
p = coldstart("report", seed, "--format", "json", "-o", link)
check(p.returncode == 0, f"root's own link in the sticky folder: exit {p.returncode} {p.stderr}")
check(os.path.islink(link), "the link stays a link")
with open(config) as f:
    check(f.read().startswith("{"), "root's own link is followed to its target")
# No temporary file is left beside the report.
check(not [n for n in os.listdir(victim) if n != "config"],
      f"nothing but the report in its folder: {os.listdir(victim)}")
# A FIFO nobody reads is an error, not a hang.
fifo = os.path.join(work, "fifo")
os.mkfifo(fifo)
try:
    p = coldstart("report", seed, "--format", "json", "-o", fifo, timeout=20)
    check(p.returncode != 0 and "FIFO" in p.stderr,
          f"a FIFO without a reader: exit {p.returncode} {p.stderr[-200:]}")
except subprocess.TimeoutExpired:
    check(False, "report -o FIFO with no reader hung")

# 2. Duplicate keys in a report are refused with the key and where.
dup = os.path.join(work, "dup.json")
text = json.dumps(rep)
with open(dup, "w") as f:
    f.write(text.replace('"status": "ok"', '"status": "ok", "status": "crashed"', 1))
for args in (["report", dup, "--format", "csv"], ["compare", seed, dup], ["merge", seed, dup,
                                                                          "-o", os.path.join(work, "m.json")]):
    p = coldstart(*args)
    check(p.returncode == 2, f"{args[0]} of a report with a repeated key: exit {p.returncode}")
    check("targets[0].runs[0].status" in p.stderr and "twice" in p.stderr,
          f"{args[0]}: names the key and its path: {p.stderr[-300:]}")

# 4. Sizes, durations, ids and counts that do not fit are refused (exit 2).
for args, word in ((["--memory", "15000000T"], "too large"),
                   (["--burst-memory", "99999999999T", "--burst", "2"], "too large"),
                   (["--timeout", "99999999999h"], "duration"),
                   (["--timeout", "2000000000s"], "too long"),
                   (["--user", "4294967296"], "out of range"),
                   (["--user", "0:4294967296"], "out of range"),
                   (["--runs", "99999999999999999999999"], "")):
    p = coldstart("run", *args, "--", F, "exit", "0")
    check(p.returncode == 2, f"run {' '.join(args)}: exit {p.returncode} {p.stderr[-200:]}")
    check(word in p.stderr, f"run {' '.join(args)}: says `{word}`: {p.stderr[-200:]}")

shutil.rmtree(work, ignore_errors=True)
finish()
