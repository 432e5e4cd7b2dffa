"""--burst K: K instances released at once, each in its own cgroup with its
own port and probe, inside one group cgroup whose limits bound them all;
the run's per-instance and aggregate figures in every format; one failing
instance named in the run's status; the group's pids and memory limits
holding; Ctrl-C mid-burst leaving nothing; sweep --burst drawing its curve;
a container image's instances each in their own network; bad values
refused. Every burst here runs under the group's --burst-pids (and memory
limits where it allocates)."""
import json
import signal
import subprocess
import time

from harness import *

require_root()
URL = "http://127.0.0.1:{port}/"
GROUP = ("--burst-pids", "256")  # a bug cannot fork without bound


def burst_of(run):
    check(run.get("burst") is not None, f"run {run['index']} has no burst")
    return run.get("burst") or {"per_instance": [], "ready_us": []}


# Four servers at once: every instance ready, released at the same instant,
# their ready times overlapping (not one after another), each its own
# figures, and the memory they share showing as PSS below RSS.
with tempfile.TemporaryDirectory() as d:
    outs = {f: os.path.join(d, "r." + f) for f in ("md", "csv", "junit", "html")}
    p, rep = run_json("-n", "2", "-w", "0", "--burst", "4", *GROUP, "--ready", URL,
                      "--md", outs["md"], "--csv", outs["csv"], "--junit", outs["junit"],
                      "--html", outs["html"], "--", FIXTURE, "serve-after", "200")
    check(p.returncode == 0, f"burst of 4: exit {p.returncode}: {p.stdout[-800:]}")
    rep = require_report(rep, p)
    s = rep["settings"]["burst"]
    check(s and s["instances"] == 4 and s["group_pids"] == 256 and s["group_memory_bytes"] > 0,
          f"settings.burst {s}")
    for r in measured(rep):
        b = burst_of(r)
        each = b["per_instance"]
        check(r["status"] == "ok" and b["instances"] == 4 and len(each) == 4,
              f"run {r['index']}: {r['status']} {r['error']} {b.get('instances')}")
        check(all(e["status"] == "ok" for e in each), f"instances {each}")
        check(all(e["start_us"] == 0 for e in each), f"released together: {each}")
        check(b["ready_us"] == [e["ready_us"] for e in each], "ready_us lists the instances")
        # Each waits 200 ms before it serves: at once they are all ready in
        # well under the 800 ms one after another would take.
        check(all(200000 <= e["ready_us"] < 600000 for e in each), f"ready {b['ready_us']}")
        check(b["all_ready_us"] == max(b["ready_us"]), f"all ready {b['all_ready_us']}")
        # At once: each listened before any could have served. Under emulation
        # (the v2 guest, 5-10x slower) an exec of four at once can take longer;
        # there the ready bound above is what holds them together.
        check(all(e["listen_us"] < (200000 if SLACK == 1 else 400000) for e in each),
              f"every instance listened at once: {[e['listen_us'] for e in each]}")
        check(all(e["rss_bytes"] > 0 and 0 < e["pss_bytes"] < e["rss_bytes"] for e in each),
              f"RSS and PSS per instance with all up: {each}")
        check(b["pss_sum_bytes"] == sum(e["pss_bytes"] for e in each)
              and b["rss_sum_bytes"] == sum(e["rss_bytes"] for e in each), "the sums")
        check(b["pss_sum_bytes"] < b["rss_sum_bytes"], "they share pages: PSS below RSS")
        check(r["milestones_us"]["ready"] == each[0]["ready_us"],
              "the run's own fields are the first instance's")
    summ = rep["targets"][0]["summary"]
    for key in ("burst_all_ready_us", "burst_ready_us", "pss_per_instance_bytes",
                "rss_per_instance_bytes"):
        check(key in summ, f"summary has {key}")
    if "burst_ready_us" in summ:
        check(summ["burst_ready_us"]["n"] == 8, f"instance ready pools 2 runs x 4: "
                                                 f"{summ['burst_ready_us']['n']}")
    check("burst: 4 instances at once" in p.stdout and "instance ready" in p.stdout,
          f"terminal: {p.stdout[:600]}")
    check(p.stdout.count(" ok\n") >= 4, "terminal lists every instance")
    md = open(outs["md"]).read()
    check("### Bursts" in md and "per GiB at rest" in md and "| all ready p50 |" in md,
          "markdown burst list and columns")
    csv = open(outs["csv"]).read().splitlines()
    head = csv[0].split(",")
    check(head[-4:] == ["burst_instances", "burst_rss_sum_bytes", "burst_pss_sum_bytes",
                        "burst_instances_ready_us"] and "burst_all_ready_us" in head,
          f"csv burst columns {head[-8:]}")
    row = csv[1].split(",")
    check(row[head.index("burst_instances")] == "4"
          and len(row[-1].split(" ")) == 4, f"csv burst row {row[-4:]}")
    junit = open(outs["junit"]).read()
    check('name="burst.instances" value="4"' in junit and "burst_all_ready_us.p50" in junit,
          "junit burst properties")
    html = open(outs["html"]).read()
    check('id="chart-burst-ready-0"' in html and 'id="chart-burst-memory-0"' in html
          and "<h2>Bursts</h2>" in html, "html burst charts")
check_no_leftovers("burst of 4")

# Without a seccomp listener every probe polls, and the one event loop of
# the burst must never stall: each instance is ready within a few ms of its
# own listen() (the fixture's clock). A listener check that read
# /proc/net/tcp (the whole established table, 6-10 ms a read here) held
# every other instance's probe back by that much, one after another.
import statistics
with tempfile.TemporaryDirectory() as d:
    p, rep = run_json("-n", "3", "-w", "1", "--burst", "4", *GROUP, "--seccomp", "none",
                      "--ready", URL, "--env", f"COLDSTART_FIXTURE_TRUTH={d}/truth-{{port}}",
                      "--", FIXTURE, "sleep", "30", "serve")
    check(p.returncode == 0, f"burst without seccomp: exit {p.returncode}: {p.stdout[-800:]}")
    lags = []
    for r in measured(require_report(rep, p)):
        for e in burst_of(r)["per_instance"]:
            truth = dict(l.split("=") for l in open(f"{d}/truth-{e['port']}").read().split())
            lags.append((r["t0_monotonic_ns"] + e["ready_us"] * 1000 - int(truth["listen_ns"])) / 1e6)
            os.unlink(f"{d}/truth-{e['port']}")
    check(len(lags) == 12, f"{len(lags)} instances measured")
    check(statistics.median(lags) < 3 * SLACK and max(lags) < 10 * SLACK,
          f"ready after listen, ms: {sorted(round(x, 1) for x in lags)}")


# Targets ready when they exit: each instance's times, no memory at rest.
p, rep = run_json("-n", "1", "-w", "0", "--burst", "3", *GROUP, "--", FIXTURE, "sleep", "20",
                  "exit", "0")
check(p.returncode == 0, f"exit-mode burst: exit {p.returncode} {p.stdout[-300:]}")
each = burst_of(require_report(rep, p)["targets"][0]["runs"][0])["per_instance"]
check(len(each) == 3 and all(e["ready_us"] >= 20000 and e["rss_bytes"] is None for e in each),
      f"exit-mode instances: {each}")
check("no memory at rest: the instances had exited" in p.stdout, f"terminal: {p.stdout[:300]}")
check_no_leftovers("exit-mode burst")

# Budgets and compare on the burst's metrics.
with tempfile.TemporaryDirectory() as d:
    a = os.path.join(d, "a.json")
    p = coldstart("run", "-q", "-n", "1", "-w", "0", "--burst", "2", *GROUP, "--ready", URL,
                  "--json", a, "--budget", "burst_all_ready.p50<=1ms", "--", FIXTURE,
                  "serve-after", "50")
    check(p.returncode == 3 and "burst_all_ready" in p.stdout + p.stderr,
          f"a burst budget missed: exit {p.returncode} {p.stdout[-300:]} {p.stderr[-300:]}")
    q = coldstart("compare", a, a)
    check(q.returncode == 0 and "burst_all_ready" in q.stdout and "pss_per_instance" in q.stdout,
          f"compare a burst: {q.stdout[-400:]}")

# One instance fails: the first to take the lock crashes, the others serve.
# The run's status names it; every instance's own status is kept.
with tempfile.TemporaryDirectory() as d:
    lock = os.path.join(d, "lock")
    script = (f'if mkdir {lock} 2>/dev/null; then exec {FIXTURE} sleep 30 crash; '
              f'else exec {FIXTURE} serve-after 30; fi')
    p, rep = run_json("-n", "1", "-w", "0", "--burst", "3", *GROUP, "--ready", URL,
                      "--", "/bin/sh", "-c", script)
    check(p.returncode == 1, f"an instance crashed: exit {p.returncode} {p.stdout[-400:]}")
    r = require_report(rep, p)["targets"][0]["runs"][0]
    each = burst_of(r)["per_instance"]
    statuses = sorted(e["status"] for e in each)
    check(statuses == ["crashed", "ok", "ok"], f"instances {statuses}")
    bad = [i for i, e in enumerate(each) if e["status"] == "crashed"]
    check(r["status"] == "crashed" and bad and r["error"].startswith(f"instance {bad[0] + 1} of 3: "),
          f"the run names the instance: {r['status']} {r['error']}")
    check(burst_of(r)["all_ready_us"] is None, "not all ready")
check_no_leftovers("an instance crashed")

# The group's pids limit holds a burst of fork bombs: each instance forks
# 200 children, the group allows 40 tasks in all, the runs still end.
p, rep = run_json("-n", "1", "-w", "0", "--burst", "4", "--burst-pids", "40", "--", FIXTURE,
                  "fork", "200", "exit", "0")
check(p.returncode in (0, 1), f"fork bombs in a burst: exit {p.returncode} {p.stdout[-300:]}")
rep = require_report(rep, p)
check(rep["settings"]["burst"]["group_pids"] == 40, f"group pids {rep['settings']['burst']}")
check_no_leftovers("fork bombs in a burst")

# The group's memory limit: three instances of 40 MiB each do not fit in
# 64 MiB together (each alone would): the kernel kills, the run says so.
p, rep = run_json("-n", "1", "-w", "0", "--burst", "3", *GROUP, "--burst-memory", "64Mi",
                  "--ready", URL, "--", FIXTURE, "alloc", "40", "serve-after", "300")
check(p.returncode == 1, f"over the group's memory: exit {p.returncode} {p.stdout[-300:]}")
r = require_report(rep, p)["targets"][0]["runs"][0]
each = burst_of(r)["per_instance"]
check(any(e["status"] == "oom" for e in each), f"an instance OOM-killed: {each}")
check(all("--burst-memory" in (e.get("error") or "") for e in each if e["status"] == "oom"),
      f"an OOM-killed instance's message names --burst-memory: {each}")
check(r["status"] == "oom" and "instance" in (r["error"] or ""), f"run {r['status']} {r['error']}")
check_no_leftovers("over the group's memory")

# A crash beside an OOM kill stays a crash: the group's OOM count does not
# relabel an instance that died of another signal.
with tempfile.TemporaryDirectory() as d:
    lock = os.path.join(d, "lock")
    script = (f'if mkdir {lock} 2>/dev/null; then exec {FIXTURE} sleep 100 crash; '
              f'else exec {FIXTURE} alloc 40 serve-after 400; fi')
    p, rep = run_json("-n", "1", "-w", "0", "--burst", "3", *GROUP, "--burst-memory", "64Mi",
                      "--ready", URL, "--", "/bin/sh", "-c", script)
    r = require_report(rep, p)["targets"][0]["runs"][0]
    statuses = sorted(e["status"] for e in burst_of(r)["per_instance"])
    check("crashed" in statuses and "oom" in statuses,
          f"a crash and an OOM kill, each as itself: {statuses} "
          f"{[e['error'] for e in burst_of(r)['per_instance']]}")
check_no_leftovers("a crash beside an OOM kill")

# Ctrl-C mid-burst: every instance stops, the report is written, nothing is left.
with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "r.json")
    proc = subprocess.Popen([COLDSTART, "run", "-q", "-n", "1", "-w", "0", "--burst", "6", *GROUP,
                             "--ready", URL, "--json", out, "--", FIXTURE, "never-ready"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    def runs_fixture(pid):
        try:
            return os.path.realpath(f"/proc/{pid}/exe") == os.path.realpath(FIXTURE)
        except OSError:
            return False
    running = [p for p in os.listdir("/proc") if p.isdigit() and runs_fixture(p)]
    check(len(running) >= 6, f"six instances running: {running}")
    interrupt(proc, "Ctrl-C mid-burst")
    if os.path.exists(out):
        with open(out) as f:
            r = json.load(f)["targets"][0]["runs"][0]
        check(r["status"] == "interrupted"
              and all(e["status"] == "interrupted" for e in burst_of(r)["per_instance"]),
              f"every instance interrupted: {r['status']}")
    else:
        check(False, "no report after Ctrl-C mid-burst")
check_no_leftovers("Ctrl-C mid-burst")

# Instances that ignore the stop signal are stopped in parallel: six that
# each take the whole --stop-timeout of 1 s end in about 1 s, not 6.
start = time.monotonic()
p, rep = run_json("-n", "1", "-w", "0", "--burst", "6", *GROUP, "--stop-timeout", "1s",
                  "--ready", URL, "--", FIXTURE, "ignore-term", "serve")
took = time.monotonic() - start
check(p.returncode == 0, f"ignore-term burst: exit {p.returncode} {p.stdout[-300:]}")
check(took < 4, f"six stop timeouts of 1 s ran in parallel: the run took {took:.1f} s")
check_no_leftovers("ignore-term burst")

# A profiler SIGKILLed mid-burst cannot clean up: the next coldstart reaps
# its group, the run cgroups below it and their processes.
proc = subprocess.Popen([COLDSTART, "run", "-q", "-n", "1", "-w", "0", "--burst", "4", *GROUP,
                         "--ready", URL, "--", FIXTURE, "never-ready"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1.5)
proc.kill()
proc.wait()
p = coldstart("run", "-q", "-n", "1", "-w", "0", "--", FIXTURE, "exit", "0")
check(p.returncode == 0, f"the next run: exit {p.returncode} {p.stderr[-300:]}")
check_no_leftovers("the next run after a SIGKILLed burst")

# sweep --burst: one target per K, the curve in HTML, instances per GiB.
with tempfile.TemporaryDirectory() as d:
    html, js = os.path.join(d, "s.html"), os.path.join(d, "s.json")
    p = coldstart("sweep", "-n", "2", "-w", "0", "--burst", "1,2,4", *GROUP, "--ready", URL,
                  "--html", html, "--json", js, "--", FIXTURE, "serve-after", "50")
    check(p.returncode == 0, f"sweep --burst: exit {p.returncode} {p.stdout[-400:]}")
    rep = require_report(json.load(open(js)) if os.path.exists(js) else None, p)
    names = [t["name"] for t in rep["targets"]]
    check([n.rsplit("@", 1)[-1] for n in names] == ["burst=1", "burst=2", "burst=4"],
          f"points {names}")
    check(rep["settings"]["sweep"] == "burst" and rep["settings"]["burst"]["instances"] == 4,
          f"settings {rep['settings']['sweep']} {rep['settings']['burst']}")
    for t, k in zip(rep["targets"], (1, 2, 4)):
        check(all(r["burst"]["instances"] == k for r in measured({"targets": [t]})),
              f"{t['name']}: {k} instances per run")
    page = open(html).read()
    check('id="chart-sweep-burst-ready"' in page and 'id="chart-sweep-burst-pss"' in page,
          "the sweep's curves")
    check("per GiB" in p.stdout, "instances per GiB in the table")
check_no_leftovers("sweep --burst")

# A container image: each instance its own writable layer and network, so
# the image's one port serves in every instance.
from oci_images import test_image_or_fail

with test_image_or_fail("coldstart-burst-oci-") as img:
    if img:
        layout, cache = img
        p, rep = run_json("--image", layout, "--image-cache", cache, "-n", "1", "-w", "0",
                          "--burst", "3", *GROUP, "--memory", "64Mi", "--", "serve-many")
        check(p.returncode == 0, f"burst of a container: exit {p.returncode} {p.stdout[-400:]}")
        r = require_report(rep, p)["targets"][0]["runs"][0]
        each = burst_of(r)["per_instance"]
        check(len(each) == 3 and all(e["status"] == "ok" for e in each),
              f"three containers on port 8080: {[(e['status'], e['error']) for e in each]}")
check_no_leftovers("burst of a container")

# Bad values and combinations: exit 2, naming the problem.
for cmd, args, words in (("run", ["--burst", "0"], "--burst"),
                         ("run", ["--burst", "65"], "--burst"),
                         ("run", ["--burst", "x"], "--burst"),
                         ("run", ["--burst-memory", "1Gi"], "add --burst"),
                         ("run", ["--burst-pids", "10"], "add --burst"),
                         ("run", ["--burst", "2", "--burst-memory", "12Q"], "--burst-memory"),
                         ("run", ["--burst", "2", "--load", "4:1s"], "--load with --burst"),
                         ("run", ["--burst", "2", "--port", str(free_port())], "share a port"),
                         ("sweep", ["--burst", "1,0"], "--burst"),
                         ("sweep", ["--burst", "1,2", "--cpus", "1,2"], "one thing at a time"),
                         ("size", ["--burst", "2"], "--burst")):
    q = coldstart(cmd, "-n", "1", *args, "--ready", URL, "--", FIXTURE, "serve")
    check(q.returncode == 2 and words in q.stderr,
          f"{cmd} {args}: exit {q.returncode}, stderr {q.stderr.strip()[-200:]}")
check_no_leftovers("bad values")

finish()
