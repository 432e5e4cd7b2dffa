"""Issue 27: right answers for every kind of server. Each block fails
without its fix, against real servers where Debian has them."""
import shutil

from harness import *

require_root()
F = FIXTURE
FS = os.environ.get("FIXTURE_STATIC", "build/tests/fixture_static")
READY = "http://127.0.0.1:{port}/"
check(shutil.which("nginx"), "nginx is missing (make test installs nginx-light)")

# 7. A daemonizing server keeps its memory: nginx as Debian ships it forks
# into the background (daemon on); its starter exits, the master and
# workers live on in the run cgroup, and their memory at ready is counted.
if shutil.which("nginx"):
    with tempfile.TemporaryDirectory() as d:
        port = free_port()
        conf = nginx_conf(d, port, workers=2, daemon=True)
        p, rep = run_json("-n", "2", "-w", "0", "--port", str(port), "--ready", READY, "--",
                          "nginx", "-c", conf, "-e", "stderr")
        for r in measured(require_report(rep, p, "daemonizing nginx")):
            check(r["status"] == "ok", f"daemonizing nginx: {r['status']} {r.get('error')}")
            check(r["processes_ready"] == 3, f"master + 2 workers at ready: {r['processes_ready']}")
            check(r["rss_ready_bytes"] and r["rss_ready_bytes"] > 1 << 20,
                  f"their RSS at ready: {r['rss_ready_bytes']}")
            check(r["pss_ready_bytes"] and r["threads_ready"] >= 3,
                  f"PSS and threads at ready: {r['pss_ready_bytes']} {r['threads_ready']}")
        term = coldstart("run", "-n", "1", "-w", "0", "--port", str(port), "--ready", READY, "--",
                         "nginx", "-c", conf, "-e", "stderr")
        check(all(row in term.stdout for row in ("RSS at ready", "PSS at ready", "processes")),
              f"the memory rows stay in the table: {term.stdout[-600:]}")

# 8. PSS never above RSS: both from one smaps_rollup read (statm's batched
# counters made PSS the larger on every run of a small static process).
p, rep = run_json("-n", "10", "-w", "0", "--ready", READY, "--", FS, "alloc", "4", "serve")
for r in measured(require_report(rep, p, "static fixture")):
    check(r["pss_ready_bytes"] <= r["rss_ready_bytes"],
          f"PSS {r['pss_ready_bytes']} > RSS {r['rss_ready_bytes']}")

finish()
