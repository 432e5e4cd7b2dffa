"""The HTML report in a real browser: headless Chromium takes a screenshot that
is not blank, and the charts are in the rendered DOM, the CPU profile's
flame graphs (--profile cpu) with them, laid out inside the page."""
import re
import shutil
import struct
import zlib

from harness import *

require_root()
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if not chromium:
    skip("chromium is not installed (apt-get install chromium; make test tries once)")
env = dict(os.environ, COLDSTART_IMAGES=os.path.join(SOURCE_DIR, "images"))

with tempfile.TemporaryDirectory() as d:
    html = os.path.join(d, "report.html")
    p = coldstart("suite", "-q", "-n", "3", "-w", "0", "--html", html, "--profile", "cpu",
                  "native-c", "node-http", env=env, cwd=d, timeout=600)
    check(p.returncode == 0 and os.path.exists(html), f"suite: {p.returncode} {p.stderr}")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-quic"]
    png = os.path.join(d, "shot.png")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, *flags, f"--user-data-dir={profile}", "--window-size=1100,2400",
                        f"--screenshot={png}", "file://" + html], capture_output=True, timeout=120)
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run([chromium, *flags, f"--user-data-dir={profile}", "--dump-dom",
                              "file://" + html], capture_output=True, text=True, timeout=120).stdout
    check(os.path.exists(png), "chromium wrote a screenshot")
    if os.path.exists(png):
        data = open(png, "rb").read()
        check(data[:8] == b"\x89PNG\r\n\x1a\n", "screenshot is a PNG")
        idat, pos = b"", 8
        while pos < len(data):
            n, kind = struct.unpack(">I4s", data[pos:pos + 8])
            if kind == b"IDAT":
                idat += data[pos + 8:pos + 8 + n]
            pos += 12 + n
        pixels = zlib.decompress(idat)
        check(len(set(pixels)) > 50, "screenshot is not blank")
        dark = sum(1 for b in pixels[::97] if b < 200)
        check(dark > 200, f"screenshot has content ({dark} dark samples)")
    # The comparison table either fits its column or scrolls inside it: its
    # last column must never be cut off without a scroll bar.
    probe = os.path.join(d, "layout.html")
    page = open(html).read().replace("</body>", """<script>
window.addEventListener('load', function () {
  var t = document.getElementById('comparison'), w = t.parentElement;
  var cs = getComputedStyle(w), last = t.rows[0].cells[t.rows[0].cells.length - 1];
  var fits = t.scrollWidth <= w.clientWidth + 1;
  var scrolls = (cs.overflowX == 'auto' || cs.overflowX == 'scroll') && w.scrollWidth > w.clientWidth;
  var inside = w.getBoundingClientRect().right <= window.innerWidth + 1;
  var lastVisible = fits ? last.getBoundingClientRect().right <= window.innerWidth + 1 : scrolls;
  // At 1400 px the page uses the window's width: every column is visible
  // without scrolling (a 1000 px page once hid the last three).
  var wide = window.innerWidth >= 1400;
  document.body.setAttribute('data-layout',
      (wide ? fits && lastVisible : (fits || scrolls)) && inside && lastVisible ? 'ok' :
      'bad ' + t.scrollWidth + '/' + w.clientWidth + '/' + cs.overflowX + '/' + window.innerWidth);
});
</script></body>""")
    open(probe, "w").write(page)
    for width in (1024, 1400):
        with tempfile.TemporaryDirectory() as profile:
            laid = subprocess.run([chromium, *flags, f"--user-data-dir={profile}",
                                   f"--window-size={width},900", "--virtual-time-budget=3000",
                                   "--dump-dom", "file://" + probe], capture_output=True, text=True,
                                  timeout=120).stdout
        m = re.search(r'data-layout="([^"]*)"', laid)
        check(m and m.group(1) == "ok",
              f"at {width} px the comparison table fits or scrolls: {m.group(1) if m else laid[-300:]}")
    for chart in ("chart-ready", "chart-memory", "chart-memory-0", "chart-cpu-0",
                  "chart-memory-1", "comparison"):
        check(f'id="{chart}"' in dom, f"{chart} in the rendered DOM")
    check(dom.count("<polyline") >= 6 and dom.count("<circle") >= 6, "chart elements drawn")
    # The flame graphs: one per target (native-c, ready in ~2 ms, may have
    # no sample: then a note says so), frames with their names as tooltips.
    check('<svg class="flame" id="flame-0"' in dom or
          ('id="flame-0"' in dom and "No samples: the target used less" in dom),
          "flame-0 (native-c): a flame graph, or the note that it had no sample")
    check('<svg class="flame" id="flame-1"' in dom, "flame-1 (node-http) in the rendered DOM")
    frames = re.findall(r'<g class="ff"><title>([^<]*)</title><rect x="([0-9.]+)" y="[0-9.]+" '
                        r'width="([0-9.]+)"', dom)
    check(len(frames) >= 20, f"flame graph frames drawn: {len(frames)}")
    check(all(float(x) + float(w) <= 1160.5 for _, x, w in frames),
          "every frame inside the graph's width")
    check(any(t.startswith("[exec-listen] (") for t, _, _ in frames),
          "the phase frames are named in their tooltips")
    # Laid out: the graph is no wider than the page (it scales, no overflow).
    fprobe = os.path.join(d, "flame.html")
    open(fprobe, "w").write(open(html).read().replace("</body>", """<script>
window.addEventListener('load', function () {
  var g = document.getElementById('flame-1'), r = g.getBoundingClientRect();
  document.body.setAttribute('data-flame', r.width > 300 && r.right <= window.innerWidth + 1 &&
      r.height > 40 ? 'ok' : 'bad ' + r.width + 'x' + r.height + ' right ' + r.right);
});
</script></body>"""))
    with tempfile.TemporaryDirectory() as profile:
        laid = subprocess.run([chromium, *flags, f"--user-data-dir={profile}",
                               "--window-size=1024,900", "--virtual-time-budget=3000",
                               "--dump-dom", "file://" + fprobe], capture_output=True, text=True,
                              timeout=120).stdout
    m = re.search(r'data-flame="([^"]*)"', laid)
    check(m and m.group(1) == "ok", f"the flame graph fits the page: {m.group(1) if m else '?'}")

finish()
