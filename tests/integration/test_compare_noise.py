"""Issue 27 item 11: compare does not cry wolf. Twenty pairs of sessions of
the same nginx binary on this machine, ten runs each, compared pair by pair:
fewer than 5% of pairs may be called a regression over many sittings (this
test's bound for one sitting of 20: two) (with eight metrics
tested at alpha 0.05 and no correction, 3 of 5 same-binary pairs once showed
a change). Every session runs under the same settings, one after another."""
import shutil

from harness import *

require_root()
if not shutil.which("nginx"):
    skip("nginx is not installed (make test installs nginx-light)")
PAIRS = 20
d = tempfile.mkdtemp(prefix="coldstart-compare-noise-")
port = free_port()
conf = nginx_conf(d, port, workers=1)
# One session first that is not compared: the first on a quiet machine
# pays for what the others find warm (nginx's pages, the profiler's own).
sessions = []
for i in range(-1, PAIRS + 1):
    path = os.path.join(d, f"s{i}.json")
    p = coldstart("run", "-q", "-n", "10", "-w", "1", "--name", "nginx", "--port", str(port),
                  "--ready", "http://127.0.0.1:{port}/", "--json", path, "--",
                  "nginx", "-c", conf, "-e", "stderr", timeout=240)
    check(p.returncode == 0, f"session {i}: exit {p.returncode} {p.stderr[-300:]}")
    if i >= 0:
        sessions.append(path)
# Under a sanitizer the profiler's own overhead shifts from one session to
# the next (test_ci and docs/ci.md use the same floor for such builds).
floor = ["--min-time", "5ms"] if os.environ.get("COLDSTART_SANITIZED") in ("1", "ON", "TRUE", "true") else []
false_regressions = []
for i in range(PAIRS):
    p = coldstart("compare", *floor, sessions[i], sessions[i + 1])
    check(p.returncode in (0, 3), f"pair {i}: exit {p.returncode} {p.stderr[-300:]}")
    check("Holm" in p.stdout, "compare states the correction it applies")
    if p.returncode == 3:
        false_regressions.append(
            (i, [l for l in p.stdout.splitlines() if "REGRESSION" in l]))
print(f"{len(false_regressions)} of {PAIRS} same-binary pairs called a regression")
for i, lines in false_regressions:
    print(f"  pair {i}: {lines}")
# The goal is under 5% of pairs: measured over five sittings here, 4
# of 100 (0, 1, 1, 2, 0 of 20; docs/ci.md). One sitting of 20 cannot tell 5%
# from 4%, so this test fails at 3 of 20 (15%): what it catches is the old
# rate (3 of 5 same-binary pairs flagged, eight metrics at 0.05 uncorrected),
# not one unlucky sitting. What is left is a session-wide shift (every time
# metric +18% at once), which no test of two sessions can tell from the
# binary's.
check(len(false_regressions) <= 2,
      f"{len(false_regressions)} of {PAIRS} same-binary nginx pairs were called a regression "
      f"(goal: under 5% over many sittings; this sitting's bound: 2 of 20)")
shutil.rmtree(d, ignore_errors=True)
finish()
