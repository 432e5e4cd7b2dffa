"""The HTML report's charts (issue 27, item 12): tick labels are nice
numbers, never two alike on one axis and never outside the chart; an axis
that counts instances has whole-number ticks; a long target name is cut at
its start rather than drawn off the chart; the sizing chart tells steps
under load from steps at rest."""
import re
import xml.etree.ElementTree as ET

from harness import *

require_root()
F = FIXTURE
READY = "http://127.0.0.1:{port}/"
NS = "{http://www.w3.org/2000/svg}"


def charts(html_path):
    """Every <svg class="chart"> of the page, parsed, by id."""
    with open(html_path) as f:
        html = f.read()
    out = {}
    for m in re.finditer(r'<svg class="chart".*?</svg>', html, re.S):
        svg = ET.fromstring(m.group(0))
        out[svg.get("id")] = svg
    return out


def ticks(svg):
    """Tick labels by axis: x ticks share a y, y ticks share an x."""
    axes = {}
    for t in svg.iter(NS + "text"):
        if t.get("class") != "tk":
            continue
        x, y = float(t.get("x")), float(t.get("y"))
        key = ("x", round(y)) if t.get("text-anchor") == "middle" else ("y", round(x))
        axes.setdefault(key, []).append((x, y, t.text))
    return axes


def check_ticks(name, svg):
    width = float(svg.get("viewBox").split()[2])
    height = float(svg.get("viewBox").split()[3])
    for axis, tk in ticks(svg).items():
        labels = [t[2] for t in tk]
        check(len(set(labels)) == len(labels), f"{name}: {axis[0]} ticks repeat: {labels}")
        check(all(0 <= x <= width and 0 <= y <= height for x, y, _ in tk),
              f"{name}: a {axis[0]} tick outside the chart: {tk}")
        vals = [float(l) for l in labels]
        pos = [x if axis[0] == "x" else -y for x, y, _ in tk]
        check(sorted(vals) == [v for _, v in sorted(zip(pos, vals))],
              f"{name}: {axis[0]} ticks out of order: {labels}")


with tempfile.TemporaryDirectory() as d:
    # A narrow range (every run 12-14 ms): a linear axis of nice numbers.
    page = os.path.join(d, "narrow.html")
    p = coldstart("run", "-q", "-n", "8", "-w", "0", "--name", "n" * 70 + "-tail", "--html", page,
                  "--", F, "sleep", "12")
    check(p.returncode == 0 and os.path.exists(page), f"narrow run: {p.returncode} {p.stderr[-300:]}")
    c = charts(page)
    check("chart-ready" in c, f"the ready chart: {list(c)}")
    for name, svg in c.items():
        check_ticks(name, svg)
    if "chart-ready" in c:
        rows = [t.text for t in c["chart-ready"].iter(NS + "text") if t.get("class") == "rl"]
        check(rows and all(len(r) <= 22 for r in rows) and rows[0].endswith("-tail"),
              f"a long name keeps its end, within the label column: {rows}")

    # A burst sweep: instances are whole numbers.
    page = os.path.join(d, "burst.html")
    p = coldstart("sweep", "-q", "--burst", "1,2,3", "-n", "2", "-w", "0", "--port", "auto",
                  "--ready", READY, "--html", page, "--", F, "serve", timeout=240)
    check(p.returncode == 0 and os.path.exists(page), f"burst sweep: {p.returncode} {p.stderr[-300:]}")
    c = charts(page)
    for cid in ("chart-sweep-burst-ready", "chart-sweep-burst-pss"):
        check(cid in c, f"{cid}: {list(c)}")
        if cid in c:
            check_ticks(cid, c[cid])
            xs = [t[2] for k, tk in ticks(c[cid]).items() if k[0] == "x" for t in tk]
            check(xs and all(re.fullmatch(r"\d+", x) for x in xs),
                  f"{cid}: instance ticks are whole numbers: {xs}")

    # size --load: steps under load are told apart from steps at rest.
    page = os.path.join(d, "size.html")
    p = coldstart("size", "-q", "-w", "0", "--baseline-runs", "1", "--min", "4Mi", "--max",
                  "64Mi", "--attempts", "1", "--load", "2:300ms", "--rate", "200", "--ready", READY,
                  "--html", page,
                  "--", F, "grow", "64", "serve-many", timeout=300)
    check(p.returncode == 0 and os.path.exists(page), f"size --load: {p.returncode} {p.stderr[-300:]}")
    c = charts(page)
    sz = [svg for cid, svg in c.items() if cid.startswith("chart-sizing")]
    check(sz, f"the sizing chart: {list(c)}")
    if sz:
        check_ticks("sizing", sz[0])
        texts = " ".join(t.text or "" for t in sz[0].iter(NS + "text"))
        check("ok under load" in texts and "under load" in texts,
              f"the sizing chart's legend tells the load's steps: {texts[:400]}")
finish()
