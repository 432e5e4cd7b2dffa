"""CI use: budgets as a gate (exit 3, a readable message), JUnit, Markdown to
stdout, github-action-benchmark JSON, compare (a 60% slower command is a
regression, an unchanged one is not), merge, and corrupt inputs."""
import xml.etree.ElementTree as ET

from harness import *

require_root()

with tempfile.TemporaryDirectory() as d:
    j = lambda name: os.path.join(d, name)
    # Budget gate: a slow target fails with exit 3 and says by how much.
    p = coldstart("run", "-q", "-n", "6", "-w", "0", "--name", "app", "--budget",
                  "ready.p95<=20ms", "--budget", "rss_ready.p50<=64Mi", "--junit", j("junit.xml"),
                  "--json", j("slow.json"), "--", FIXTURE, "sleep", "40")
    check(p.returncode == 3, f"budget miss: exit {p.returncode} {p.stderr}")
    import re
    over = re.search(r"budget ready\.p95<=20ms exceeded by app: ([0-9.]+) ms", p.stdout)
    check(over and 38 <= float(over.group(1)) <= 200,
          f"the miss says the p95 it measured (~40 ms): {p.stdout}")
    check("ok   budget rss_ready.p50<=64Mi met by app" in p.stdout, p.stdout)
    root = ET.parse(j("junit.xml")).getroot()
    cases = root.findall(".//testcase")
    names = [c.get("name") for c in cases]
    check("budget ready.p95<=20ms" in names and "budget rss_ready.p50<=64Mi" in names, names)
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    check(failed == ["budget ready.p95<=20ms"], f"failed testcases {failed}")
    rep = json.load(open(j("slow.json")))
    check([b["passed"] for b in rep["targets"][0]["budgets"]] == [False, True], "budgets in JSON")
    # The suite's time is the test's duration (six runs of 40 ms and their
    # stops), not one median run.
    suite_time = float(root.find(".//testsuite").get("time"))
    total = sum(r["milestones_us"]["ready"] + (r["stop_us"] or 0)
                for r in rep["targets"][0]["runs"]) / 1e6
    check(abs(suite_time - total) < 0.001 and suite_time > 0.2,
          f"JUnit time {suite_time} s is the runs' total {total:.3f} s")

    # Budgets from a file, and met budgets: exit 0.
    with open(j("budgets.txt"), "w") as f:
        f.write("# start-up budget\nready.p95<=2s\n\nrss_peak.max < 256Mi  # memory\n")
    p = coldstart("run", "-q", "-n", "3", "-w", "0", "--budgets", j("budgets.txt"), "--",
                  FIXTURE, "sleep", "10")
    check(p.returncode == 0, f"budgets met: {p.returncode} {p.stdout}")
    with open(j("bad-budgets.txt"), "w") as f:
        f.write("ready.p95<=2s\nready.p95 is small\n")
    p = coldstart("run", "--budgets", j("bad-budgets.txt"), "--", "true")
    check(p.returncode == 2 and "bad-budgets.txt:2" in p.stderr, f"bad budgets file: {p.stderr}")
    p = coldstart("run", "--budget", "readyy.p95<=1s", "--", "true")
    check(p.returncode == 2 and "unknown metric" in p.stderr, p.stderr)

    # Markdown to stdout (for $GITHUB_STEP_SUMMARY); the table moves to stderr.
    p = coldstart("run", "-q", "-n", "2", "-w", "0", "--md", "-", "--", FIXTURE, "sleep", "5")
    check(p.stdout.startswith("## coldstart report") and "| image |" in p.stdout, p.stdout[:200])
    check("p50" in p.stderr, "terminal table on stderr when stdout carries a report")
    p = coldstart("run", "-q", "-n", "2", "-w", "0", "--github-benchmark", j("bench.json"), "--",
                  FIXTURE, "sleep", "5")
    bench = json.load(open(j("bench.json")))
    check(any(e["name"].endswith("ready p50") and e["unit"] == "ms" and e["value"] > 4
              for e in bench), f"github-benchmark {bench}")

    # compare: 60% slower is a regression (exit 3); the same command is not (exit 0).
    for name, ms in (("base", "50"), ("same", "50"), ("slower", "80")):
        p = coldstart("run", "-q", "-n", "8", "-w", "1", "--name", "app", "--json", j(name + ".json"),
                      "--", FIXTURE, "sleep", ms)
        check(p.returncode == 0, f"{name}: {p.stderr}")
    p = coldstart("compare", j("base.json"), j("slower.json"), "--md", j("cmp.md"), "--json",
                  j("cmp.json"))
    check(p.returncode == 3, f"compare 60% slower: exit {p.returncode}\n{p.stdout}")
    check("REGRESSION" in p.stdout, p.stdout)
    cmpj = json.load(open(j("cmp.json")))
    ready = [r for r in cmpj["rows"] if r["metric"] == "ready_us"]
    # The change is the medians' ratio; its size depends on the machine's
    # start-up overhead (60% natively, ~35% in the emulated v2 guest).
    import statistics
    med = {k: statistics.median(r["milestones_us"]["ready"] for r in measured(json.load(open(j(k + ".json")))))
           for k in ("base", "slower")}
    want = 100 * (med["slower"] / med["base"] - 1)
    check(cmpj["regressions"] >= 1 and ready and ready[0]["verdict"] == "regression"
          and abs(ready[0]["change_pct"] - want) < 0.5 and ready[0]["change_pct"] > 15,
          f"compare regression rows (expected {want:.1f}%): {cmpj}")
    check("**REGRESSION**" in open(j("cmp.md")).read(), "markdown marks the regression")
    # Two sessions of the same command differ by more than the default 1 ms
    # floor under ASan: the fixture's ~2.6 ms of CPU to ready was 3.9 ms in
    # the next session of a CI run (p = 0.003, a shift between sessions, not
    # noise within one). The check is that an unchanged command passes, so it
    # uses the floor docs/ci.md advises for sanitizer builds and shared runners.
    p = coldstart("compare", "--min-time", "5ms", j("base.json"), j("same.json"))
    check(p.returncode == 0, f"compare unchanged: exit {p.returncode}\n{p.stdout}")
    # 8 runs against 6 (slow.json is the 40 ms budget session): faster, so
    # an improvement and exit 0.
    p = coldstart("compare", j("base.json"), j("slow.json"))
    check(p.returncode == 0 and re.search(r"\bready .* improved", p.stdout),
          f"compare runs with different run counts: exit {p.returncode}\n{p.stdout}")

    # merge: round trip through report and compare; hosts kept; names made unique.
    p = coldstart("merge", j("base.json"), j("slower.json"), j("slow.json"), "-o", j("merged.json"))
    check(p.returncode == 0, f"merge: {p.stderr}")
    merged = json.load(open(j("merged.json")))
    names = [t["name"] for t in merged["targets"]]
    check(names == ["app", "app#2", "app#3"], f"merged names {names}")
    check(all("host" in t and "kernel" in t["host"] for t in merged["targets"]), "hosts kept")
    p = coldstart("report", j("merged.json"), "--format", "md")
    check(p.returncode == 0 and "app#2" in p.stdout, "merged report renders")
    p = coldstart("report", j("merged.json"), "--budget", "ready.p50<=60ms")
    check(p.returncode == 3 and "exceeded by app#2" in p.stdout, f"budgets on merged: {p.stdout}")
    # Targets of the base that are gone from the new report are regressions.
    p = coldstart("compare", j("merged.json"), j("base.json"))
    check(p.returncode == 3 and "only in the base report: app#2 (gone" in p.stdout, p.stdout)

    # Corrupt inputs: exit 2 with what is wrong.
    with open(j("trunc.json"), "w") as f:
        f.write(open(j("base.json")).read()[:300])
    with open(j("other.json"), "w") as f:
        f.write('{"schema": "coldstart-report/9", "targets": []}')
    with open(j("notreport.json"), "w") as f:
        f.write('{"hello": "world"}')
    for bad, needle in (("trunc.json", "JSON"), ("other.json", "major version"),
                        ("notreport.json", "not a coldstart report")):
        for cmd in (["compare", j(bad), j("base.json")], ["compare", j("base.json"), j(bad)],
                    ["merge", j(bad), "-o", j("m2.json")], ["report", j(bad), "--format", "md"]):
            p = coldstart(*cmd)
            check(p.returncode == 2 and needle in p.stderr, f"{cmd}: {p.returncode} {p.stderr}")
    check(not os.path.exists(j("m2.json")), "no partial merge output")
    p = coldstart("compare", j("base.json"))
    check(p.returncode == 2, "compare needs two reports")
    p = coldstart("compare", "--threshold", "x", j("base.json"), j("same.json"))
    check(p.returncode == 2 and "--threshold" in p.stderr, p.stderr)

finish()
