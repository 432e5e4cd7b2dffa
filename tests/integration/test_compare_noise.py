"""Issue 27 item 11: compare does not cry wolf. Twenty pairs of sessions of
the same nginx binary on this machine, ten runs each, compared pair by pair:
at most 5% of the pairs (one) may be called a regression (with eight metrics
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
sessions = []
for i in range(PAIRS + 1):
    path = os.path.join(d, f"s{i}.json")
    p = coldstart("run", "-q", "-n", "10", "-w", "1", "--name", "nginx", "--port", str(port),
                  "--ready", "http://127.0.0.1:{port}/", "--json", path, "--",
                  "nginx", "-c", conf, "-e", "stderr", timeout=240)
    check(p.returncode == 0, f"session {i}: exit {p.returncode} {p.stderr[-300:]}")
    sessions.append(path)
false_regressions = []
for i in range(PAIRS):
    p = coldstart("compare", sessions[i], sessions[i + 1])
    check(p.returncode in (0, 3), f"pair {i}: exit {p.returncode} {p.stderr[-300:]}")
    check("Holm" in p.stdout, "compare states the correction it applies")
    if p.returncode == 3:
        false_regressions.append(
            (i, [l for l in p.stdout.splitlines() if "REGRESSION" in l]))
print(f"{len(false_regressions)} of {PAIRS} same-binary pairs called a regression")
for i, lines in false_regressions:
    print(f"  pair {i}: {lines}")
# 5% of 20 is one pair. Sessions differ by more than runs within one (a
# session-wide shift of CPU time is real, if not the binary's): one pair in
# twenty is what the correction cannot rule out without knowing that shift.
check(len(false_regressions) <= 0.05 * PAIRS,
      f"{len(false_regressions)} of {PAIRS} same-binary nginx pairs were called a regression "
      f"(goal: at most 5%)")
shutil.rmtree(d, ignore_errors=True)
finish()
