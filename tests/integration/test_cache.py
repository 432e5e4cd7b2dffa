"""True cold starts: --cache cold evicts the target's files (no root) and
proves it with cached_before_bytes; --cache drop needs root and says so."""
import shutil

from harness import *

require_root()
IMAGES = os.path.join(SOURCE_DIR, "images")
if not shutil.which("node"):
    skip("node is not installed")
setpriv = shutil.which("setpriv")
if not setpriv:
    skip("setpriv (util-linux) is missing: --cache drop without permission cannot be tested")


def runs(*args):
    """The measured runs, each ok; a run that failed ends the test."""
    p, rep = run_json("-n", "3", "-w", "1", *args)
    check(p.returncode == 0, f"{args}: {p.returncode} {p.stdout} {p.stderr}")
    got = measured(require_report(rep, p, " ".join(args)))
    if not got or any(r["status"] != "ok" for r in got):
        check(False, f"{args}: runs {[r['status'] for r in got]}")
        finish()
    return got


warm = runs("--image", os.path.join(IMAGES, "node-http"))
cold = runs("--cache", "cold", "--image", os.path.join(IMAGES, "node-http"))
wf = sorted(r["majflt"] for r in warm)[1]
cf = sorted(r["majflt"] for r in cold)[1]
check(cf >= wf + 5 and cf >= 3 * max(wf, 1), f"major faults: warm {wf}, cold {cf}")
for r in cold:
    check(r["cached_before_bytes"] is not None, "cached_before_bytes recorded")
    # What stays cached is what other processes map (libc and friends).
    check(r["cached_before_bytes"] < 0.05 * r["mapped_file_bytes"],
          f"cold run started with {r['cached_before_bytes']} of {r['mapped_file_bytes']} "
          "bytes cached")
    check(r["read_bytes"] > 10 << 20, f"cold run read {r['read_bytes']} bytes from disk")
    check(any(m["path"].endswith("/node") for m in r["mapped"]), "node among mapped files")
check(all(r["cached_before_bytes"] is None for r in warm), "warm runs do not claim coldness")
wr = sorted(r["milestones_us"]["ready"] for r in warm)[1]
cr = sorted(r["milestones_us"]["ready"] for r in cold)[1]
check(cr > wr, f"cold start is slower: warm {wr} us, cold {cr} us")

# Exit-mode targets learn their files while running.
ex = runs("--cache", "cold", "--", "python3", "-c", "import json")
check(all(r["mapped_files"] and r["mapped_files"] > 3 for r in ex), "exit mode mapped files")

# drop: without permission a clear error (exit 2); as root it runs.
p = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", COLDSTART,
                    "run", "--cache", "drop", "--", "true"], capture_output=True, text=True)
check(p.returncode == 2 and "needs root" in p.stderr, f"drop as nobody: {p.returncode} {p.stderr}")
dropped = runs("--cache", "drop", "-n", "1", "--", "true")
check(bool(dropped), "--cache drop as root")
p = coldstart("run", "--cache", "both", "--", "true")
check(p.returncode == 2 and "--cache both" in p.stderr, f"both is for suite: {p.stderr}")

finish()
