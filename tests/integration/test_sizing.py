"""coldstart size and coldstart sweep."""
from harness import *

require_root()
MIB = 1 << 20
URL = "http://127.0.0.1:{port}/"

def report_of(path, what):
    """The report a command just wrote, or a failed check that ends the test."""
    if not os.path.exists(path):
        check(False, f"{what}: no report at {path}")
        finish()
    with open(path) as f:
        doc = json.load(f)
    os.unlink(path)  # the next command must write its own
    return doc


with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "size.json")
    html = os.path.join(d, "size.html")
    # alloc 64 MiB then serve: the smallest passing limit lands in [64, 64+48] MiB.
    p = coldstart("size", "-q", "--ready", URL, "--requests", "5", "--json", out, "--html", html,
                  "--", FIXTURE, "alloc", "64", "serve", timeout=600)
    check(p.returncode == 0, f"size: {p.returncode}\n{p.stdout}\n{p.stderr}")
    check("smallest passing limit" in p.stdout and "recommended limit" in p.stdout, p.stdout)
    z = report_of(out, "size")["targets"][0]["sizing"]
    lo, hi = 64 * MIB, (64 + 48) * MIB
    check(lo <= z["min_passing_bytes"] <= hi, f"min passing {z['min_passing_bytes'] / MIB} MiB")
    check(z["recommended_bytes"] >= z["min_passing_bytes"] * 1.25, "recommended has the margin")
    check(z["recommended_bytes"] % (4 * MIB) == 0, "recommended is a round size")
    check(z["margin"] == 0.25 and z["unconstrained_peak_bytes"] >= 64 * MIB, z)
    statuses = {s["status"] for s in z["steps"]}
    check("oom" in statuses and "ok" in statuses, f"steps told apart: {statuses}")
    check(all(s["ready_us"] is None for s in z["steps"] if s["status"] != "ok"),
          "no ready time for failed steps")
    check(all(s["attempt"] in (1, 2) for s in z["steps"]), "attempts recorded")
    fails = [s["limit_bytes"] for s in z["steps"] if s["status"] == "oom"]
    check(all(f < z["min_passing_bytes"] for f in fails), "every failing limit is below the answer")
    check(os.path.exists(html) and 'id="chart-sizing-0"' in open(html).read(), "sizing chart")

    # A start that is more than --slowdown times slower under a limit is not a
    # pass: every step is `slow`, so no limit passes.
    p = coldstart("size", "-q", "--ready", URL, "--requests", "2", "--attempts", "1",
                  "--json", out, "--", FIXTURE, "slow-if-limited", "300", "serve", timeout=300)
    check(p.returncode == 1 and "slower than 2x the unconstrained start + 10 ms" in p.stdout and "no passing limit" in p.stdout,
          f"--slowdown: {p.returncode} {p.stdout}")
    steps = report_of(out, "size --slowdown")["targets"][0]["sizing"]["steps"]
    check(steps and all(s["status"] == "slow" for s in steps), f"slow steps: {steps}")
    # With a generous --slowdown the same target passes at the smallest limit.
    p = coldstart("size", "-q", "--ready", URL, "--requests", "2", "--slowdown", "1000",
                  "--", FIXTURE, "slow-if-limited", "300", "serve", timeout=300)
    check(p.returncode == 0 and "smallest passing limit: 16.0 MiB" in p.stdout,
          f"--slowdown 1000: {p.returncode} {p.stdout}")
    p = coldstart("size", "--slowdown", "0.5", "--", "true")
    check(p.returncode == 2 and "--slowdown" in p.stderr, p.stderr)

    # A target that always crashes: a clear "no passing limit", exit 1.
    p = coldstart("size", "-q", "--ready", URL, "--", FIXTURE, "crash", timeout=120)
    check(p.returncode == 1 and "no passing limit" in p.stdout, f"crash: {p.returncode} {p.stdout}")
    # One that needs more than --max.
    p = coldstart("size", "-q", "--ready", URL, "--max", "32Mi", "--", FIXTURE, "alloc", "64",
                  "serve", timeout=300)
    check(p.returncode == 1 and "no passing limit up to" in p.stdout, f"--max: {p.stdout}")
    p = coldstart("size", "--memory", "1Gi", "--", "true")
    check(p.returncode == 2 and "drop --memory" in p.stderr, p.stderr)
    p = coldstart("size", "--min", "64Mi", "--max", "32Mi", "--", "true")
    check(p.returncode == 2 and "--max must be above --min" in p.stderr, p.stderr)
    p = coldstart("size", "--margin", "lots", "--", "true")
    check(p.returncode == 2 and "--margin" in p.stderr, p.stderr)

    # A CPU sweep of a busy loop: faster with more CPU; one target per point.
    sw = os.path.join(d, "sweep.json")
    p = coldstart("sweep", "-q", "-n", "3", "-w", "0", "--cpus", "0.2,1", "--json", sw,
                  "--html", os.path.join(d, "sweep.html"), "--", FIXTURE, "spin", "200",
                  timeout=300)
    check(p.returncode == 0, f"sweep: {p.returncode} {p.stdout} {p.stderr}")
    rep = report_of(sw, "sweep")
    names = [t["name"] for t in rep["targets"]]
    check(len(names) == 2 and names[0].endswith("@cpus=0.2") and names[1].endswith("@cpus=1"),
          f"point names {names}")
    slow, fast = (t["summary"]["ready_us"]["p50"] for t in rep["targets"])
    check(slow > 2 * fast, f"more CPU is faster: {slow} vs {fast}")
    check(rep["targets"][0]["summary"]["nr_throttled"]["p50"] > 0, "throttling counted")
    check(rep["settings"]["sweep"] == "cpus" and rep["settings"]["interleaved"], "settings")
    seq = [t for _, t in sorted((r["t0_monotonic_ns"], t["name"])
                                for t in rep["targets"] for r in t["runs"])]
    check(all(seq[i] != seq[i + 1] for i in range(len(seq) - 1)), "points interleaved")
    check('id="chart-sweep"' in open(os.path.join(d, "sweep.html")).read(), "sweep chart")
    p = coldstart("sweep", "-q", "-n", "2", "-w", "0", "--memory", "64Mi,16Mi", "--", FIXTURE,
                  "alloc", "32", timeout=120)
    check(p.returncode == 1 and "oom" in p.stdout, f"memory sweep with an OOM point: {p.stdout}")
    for args, needle in ((["--cpus", "0.5,x"], "--cpus"),
                         ([], "--cpus LIST, --memory LIST or --burst LIST"),
                         (["--cpus", "1", "--memory", "1Gi"], "one thing at a time")):
        p = coldstart("sweep", *args, "--", "true")
        check(p.returncode == 2 and needle in p.stderr, f"sweep {args}: {p.stderr}")

finish()
