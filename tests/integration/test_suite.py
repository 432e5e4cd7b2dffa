"""coldstart suite and coldstart report: interleaved runs, the comparison
table, the three default reports, and re-rendering from the JSON alone.
(The HTML in a browser: test_html_browser.py.)"""
import xml.etree.ElementTree as ET

from harness import *

require_root()
env = dict(os.environ, COLDSTART_IMAGES=os.path.join(SOURCE_DIR, "images"))

with tempfile.TemporaryDirectory() as d:
    # Default outputs land in ./coldstart-report.
    p = coldstart("suite", "-n", "3", "-w", "1", "--requests", "3", "--progress",
                  "native-c", "node-http", env=env, cwd=d, timeout=600)
    check(p.returncode == 0, f"suite: {p.returncode} {p.stdout} {p.stderr}")
    for col in ("ready p50", "ready p95", "p50 95% CI", "listen p50", "listen→ready",
                "req after ready", "warm req", "RSS at ready", "PSS at ready", "peak RSS", "CPU to ready",
                "app size", "deploy size", "ready ×ref"):
        check(col in p.stdout, f"table column {col!r}")
    check("native-c" in p.stdout and "node-http" in p.stdout, "table rows")
    check("ETA" in p.stderr, "progress bar with --progress")
    out = os.path.join(d, "coldstart-report")
    for f in ("report.json", "report.md", "report.html"):
        check(os.path.exists(os.path.join(out, f)), f"default output {f}")
    rep = json.load(open(os.path.join(out, "report.json")))
    check(rep["settings"]["interleaved"] and rep["settings"]["reference"] == "native-c",
          f"settings {rep['settings']}")
    names = [t["name"] for t in rep["targets"]]
    check(names == ["native-c", "node-http"], f"targets {names}")
    for t in rep["targets"]:
        check(t["limits"]["memory_bytes"] == 512 << 20 and t["limits"]["cpus"] == 1,
              f"suite default limits {t['limits']}")
    # Interleaved: ordered by start time, the targets alternate.
    runs = sorted(((r["t0_monotonic_ns"], t["name"]) for t in rep["targets"] for r in t["runs"]))
    seq = [n for _, n in runs]
    check(all(seq[i] != seq[i + 1] for i in range(len(seq) - 1)), f"not interleaved: {seq}")

    # `coldstart report` reproduces every file from the JSON alone.
    src = os.path.join(out, "report.json")
    for fmt, name in (("md", "report.md"), ("html", "report.html"), ("json", "report.json")):
        again = os.path.join(d, "again." + fmt)
        p = coldstart("report", src, "--format", fmt, "-o", again)
        check(p.returncode == 0, f"report --format {fmt}: {p.stderr}")
        check(open(again, "rb").read() == open(os.path.join(out, name), "rb").read(),
              f"report --format {fmt} differs from the suite's {name}")
    p = coldstart("report", src, "--format", "csv")
    rows = p.stdout.strip().split("\n")
    check(p.returncode == 0 and len(rows) == 1 + 8, f"csv: one header + 8 runs, got {len(rows)}")
    check(rows[0].startswith("target,image,run,warmup,status") and "ready_us" in rows[0],
          "csv header")
    p = coldstart("report", src, "--format", "junit")
    try:
        root = ET.fromstring(p.stdout)
        check(root.tag == "testsuites" and len(root.findall("testsuite")) == 2, "junit suites")
    except ET.ParseError as e:
        check(False, f"junit does not parse: {e}")
    md = open(os.path.join(out, "report.md")).read()
    check("| image |" in md and "|---|" in md and "native-c" in md, "markdown table")

    # Options may follow the image names.
    p = coldstart("suite", "-q", "native-c", "-n", "2", "-w", "0", "--json", os.path.join(d, "late.json"),
                  env=env, cwd=d, timeout=300)
    check(p.returncode == 0 and os.path.exists(os.path.join(d, "late.json")),
          f"options after names: {p.returncode} {p.stderr}")
    check("Start-up" in p.stdout and "Footprint" in p.stdout, "terminal tables")

    # Bad input to report: exit 2 with what is wrong.
    bad = os.path.join(d, "bad.json")
    with open(bad, "w") as f:
        f.write('{"schema": "coldstart-report/2", "targets": []}')
    p = coldstart("report", bad, "--format", "md")
    check(p.returncode == 2 and "major version" in p.stderr, f"other major: {p.stderr}")
    with open(bad, "w") as f:
        f.write(open(src).read()[:200])
    p = coldstart("report", bad, "--format", "md")
    check(p.returncode == 2 and ("truncated" in p.stderr or "JSON" in p.stderr), p.stderr)
    p = coldstart("report", src, "--format", "pdf")
    check(p.returncode == 2 and "--format pdf" in p.stderr, p.stderr)
    p = coldstart("suite", "no-such-image", env=env, cwd=d)
    check(p.returncode == 2 and "no-such-image" in p.stderr, p.stderr)

    # --variants: every image, then each of its variants as IMAGE:VARIANT.
    out = os.path.join(d, "variants.json")
    p = coldstart("suite", "-q", "--variants", "-n", "1", "-w", "0", "--json", out,
                  "node-http", "native-c", env=env, cwd=d, timeout=300)
    check(p.returncode == 0, f"suite --variants: {p.returncode} {p.stderr[-500:]}")
    if os.path.exists(out):
        names = [t["name"] for t in json.load(open(out))["targets"]]
        want = ["node-http"] + ["node-http:" + v for v in json.load(
            open(os.path.join(SOURCE_DIR, "images", "node-http", "image.json")))["variants"]] + ["native-c"]
        check(names == want, f"suite --variants targets: {names}, want {want}")
        check("node-http:max-old-space-64" in p.stdout, f"the variant in the table: {p.stdout}")
    else:
        check(False, f"suite --variants wrote no report: {p.stderr[-500:]}")
    # A variant as the reference of the ratios.
    p = coldstart("suite", "-q", "--variants", "-n", "1", "-w", "0", "--json", out,
                  "--reference", "node-http:max-old-space-64", "node-http", env=env, cwd=d,
                  timeout=300)
    check(p.returncode == 0 and os.path.exists(out) and
          json.load(open(out))["settings"]["reference"] == "node-http:max-old-space-64",
          f"suite --variants --reference IMAGE:VARIANT: {p.returncode} {p.stderr[-300:]}")
    for bad, why in ((["--variants", "--variant", "no-site"], "give one"),
                     (["--variants", "--oci"], "--variants with --oci"),
                     (["--reference", "node-http:max-old-space-64"], "needs --variants"),
                     (["--variants", "--reference", "node-http:nope"], "names no image")):
        p = coldstart("suite", *bad, "native-c", env=env, cwd=d)
        check(p.returncode == 2 and why in p.stderr, f"suite {bad}: {p.returncode} {p.stderr}")


finish()
