"""--profile cpu: real CPU samples of real processes (the fixture spinning in a
function of its own, a Python server with a thread, a shell's child, a
container image), the collapsed stacks per phase, the report fields, the
terminal's top functions, the HTML flame graph, bad values, and nothing left
behind (no cgroup, no process, no perf map in /tmp)."""
import glob
import re
import shutil

from harness import *

require_root()
if open("/proc/sys/kernel/perf_event_paranoid").read().strip() == "4":
    skip("perf events are disabled on this kernel (perf_event_paranoid 4)")

READY = "http://127.0.0.1:{port}/"
LINE = re.compile(r"^(\[[a-z-]+\]);.+ (\d+)$")
maps_before = set(glob.glob("/tmp/perf-*.map") + glob.glob("/tmp/perfinfo-*.map"))


def folded(path):
    """{stack: count}; every line checked against the format."""
    stacks = {}
    for line in open(path):
        line = line.rstrip("\n")
        m = LINE.match(line)
        check(m, f"{path}: not `[phase];frame;... COUNT`: {line[:200]}")
        if m:
            stack, n = line.rsplit(" ", 1)
            stacks[stack] = stacks.get(stack, 0) + int(n)
    return stacks


def samples_where(stacks, phase=None, frame=None):
    return sum(n for s, n in stacks.items()
               if (phase is None or s.split(";")[0] == phase)
               and (frame is None or frame in s.split(";")))


with tempfile.TemporaryDirectory() as d:
    pdir = os.path.join(d, "prof")
    html = os.path.join(d, "r.html")
    json_path = os.path.join(d, "r.json")
    # 1. A native server spinning 150 ms in a function of its own before it
    # listens: [exec-listen], named by its symbol table, every sample counted.
    p = coldstart("run", "-n", "3", "-w", "1", "--name", "spinner", "--profile", "cpu",
                  "--profile-dir", pdir, "--json", json_path, "--html", html, "--ready", READY,
                  "--", FIXTURE, "spin", "150", "serve", cwd=d)
    check(p.returncode == 0, f"profile of the fixture: exit {p.returncode} {p.stderr[-400:]}")
    rep = json.load(open(json_path)) if os.path.exists(json_path) else None
    t = require_report(rep, p)["targets"][0]
    prof = t.get("profile") or {}
    check(prof.get("hz") == 999 and prof.get("runs") == 3, f"profile hz and runs: {prof}")
    path = os.path.join(d, prof.get("folded_file", "missing"))
    check(prof.get("folded_file") == os.path.join(pdir, "spinner.folded") or
          os.path.exists(path), f"folded file: {prof.get('folded_file')}")
    stacks = folded(os.path.join(pdir, "spinner.folded"))
    total = sum(stacks.values())
    check(total == prof.get("samples"), f"samples in the file {total} == report {prof}")
    # 3 runs x 150 ms at 999 Hz = 450 samples of spinning.
    spin = samples_where(stacks, "[exec-listen]", "spin_cpu_ms")
    check(400 <= spin <= 520, f"spin_cpu_ms in [exec-listen]: {spin} samples of ~450")
    check(all(s.split(";")[1] == "fixture" for s in stacks),
          f"the process name is the second frame: {list(stacks)[:3]}")
    check(any(s.endswith("spin_cpu_ms") and ";main;" in s for s in stacks),
          "call chains by frame pointers: main calls spin_cpu_ms")
    check(prof.get("lost") == 0, f"no samples lost at 999 Hz: {prof.get('lost')}")
    out = p.stdout
    check("CPU profile: " in out and "[exec-listen]" in out and "spin_cpu_ms" in out,
          f"terminal: top functions per phase: {out[-800:]}")
    top = re.search(r"\[exec-listen\]: \d+ samples.*\n\s+(\d+\.\d)% +\d+  spin_cpu_ms", out)
    check(top and float(top.group(1)) > 80, f"spin_cpu_ms first, with most self time: {out[-600:]}")
    page = open(html).read() if os.path.exists(html) else ""
    check('<svg class="flame" id="flame-0"' in page, "HTML: a flame graph")
    check("<title>spin_cpu_ms (" in page, "HTML: the frame's name and share in its <title>")
    check("<script" not in page, "HTML: no script")
    # coldstart report draws it again from the JSON and the folded file.
    p2 = coldstart("report", json_path, "--format", "html", cwd=d)
    check(p2.returncode == 0 and 'id="flame-0"' in p2.stdout, "report --format html: the graph")
    os.rename(os.path.join(pdir, "spinner.folded"), os.path.join(pdir, "moved"))
    p2 = coldstart("report", json_path, "--format", "html", cwd=d)
    check(p2.returncode == 0 and "spinner.folded" in p2.stdout and 'id="flame-0"' not in p2.stdout,
          "a missing profile file is named in the page, not a failure")

    # 2. Threads, and the first request's work: a Python server whose thread
    # spins before it listens, and which spins again before its first answer.
    server = os.path.join(d, "server.py")
    with open(server, "w") as f:
        f.write("""
import os, socket, threading, time
def spin(ms):
    end = time.thread_time() + ms / 1000
    while time.thread_time() < end:
        pass
t = threading.Thread(target=spin, args=(120,)); t.start(); t.join()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ["PORT"]))); s.listen(16)
first = True
while True:
    c, _ = s.accept(); c.recv(4096)
    if first:
        spin(100); first = False
    c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok"); c.close()
""")
    p = coldstart("run", "-q", "-n", "2", "-w", "0", "--name", "py", "--profile", "cpu:499",
                  "--profile-dir", pdir, "--ready", READY, "--", "python3", server, cwd=d)
    check(p.returncode == 0, f"python server: exit {p.returncode} {p.stderr[-400:]}")
    if os.path.exists(os.path.join(pdir, "py.folded")):
        st = folded(os.path.join(pdir, "py.folded"))
        before, after = samples_where(st, "[exec-listen]"), samples_where(st, "[listen-ready]")
        # 2 runs x 120 ms at 499 Hz = 120; 2 x 100 ms = 100.
        check(before >= 100, f"the thread's spin before listen: {before} samples of >= 120")
        check(85 <= after <= 140, f"the first request's work in [listen-ready]: {after} of ~100")
        check(any("_PyEval_EvalFrameDefault" in s or "python" in s.split(";")[2].lower()
                  for s in st), f"Python's interpreter frames named: {list(st)[:2]}")
    else:
        check(False, "python server: no py.folded")

    # 3. A shell's child that exits before ready, then the exec'd server:
    # both followed, both named (the child by the maps read at its first sample).
    p = coldstart("run", "-q", "-n", "2", "-w", "0", "--name", "sh", "--profile", "cpu",
                  "--profile-dir", pdir, "--ready", READY, "--", "sh", "-c",
                  f"{FIXTURE} spin 100; exec {FIXTURE} spin 40 serve", cwd=d)
    check(p.returncode == 0, f"sh -c: exit {p.returncode} {p.stderr[-400:]}")
    if os.path.exists(os.path.join(pdir, "sh.folded")):
        st = folded(os.path.join(pdir, "sh.folded"))
        spin = samples_where(st, None, "spin_cpu_ms")
        check(250 <= spin <= 320, f"the child's and the exec'd server's spin: {spin} of ~280")
    else:
        check(False, "sh -c: no sh.folded")

    # 3b. --profile-maps: a Node process that exits before ready leaves no
    # perf map in /tmp (nor a V8 log in its folder).
    if shutil.which("node"):
        p = coldstart("run", "-q", "-n", "1", "-w", "0", "--name", "nodechild", "--profile", "cpu",
                      "--profile-maps", "--profile-dir", pdir, "--ready", READY, "--", "sh", "-c",
                      f"node -e 'for(let i=0;i<3e6;i++);'; exec {FIXTURE} serve", cwd=d)
        check(p.returncode == 0, f"node child: exit {p.returncode} {p.stderr[-300:]}")
        st = folded(os.path.join(pdir, "nodechild.folded"))
        check(any(s.split(";")[1] == "node" for s in st), "node child: its samples are there")
        check(not glob.glob(os.path.join(d, "isolate-*-v8.log")), "node child: no V8 log left")
    else:
        check(False, "node is part of this machine's image")

    # 3c. No sample at all (1 Hz, a server ready in a millisecond): the
    # report says so instead of an empty graph.
    p = coldstart("run", "-q", "-n", "1", "-w", "0", "--name", "quick", "--profile", "cpu:1",
                  "--profile-dir", pdir, "--html", os.path.join(d, "q.html"), "--ready", READY,
                  "--", FIXTURE, "serve", cwd=d)
    page = open(os.path.join(d, "q.html")).read() if os.path.exists(os.path.join(d, "q.html")) else ""
    check(p.returncode == 0 and "No samples: the target used less than one sample period" in page
          and '<svg class="flame"' not in page, f"no sample: said, not drawn: {p.returncode}")

    # 4. A burst profiles its first instance.
    p, rep = run_json("-n", "2", "-w", "0", "--burst", "2", "--profile", "cpu", "--profile-dir",
                      pdir, "--name", "burst", "--ready", READY, "--", FIXTURE, "spin", "50", "serve")
    prof = require_report(rep, p)["targets"][0].get("profile") or {}
    check(p.returncode == 0 and prof.get("runs") == 2, f"burst: one profile per run: {prof}")

    # 5. A container image: its processes and files seen through its own root.
    from oci_images import test_image_or_fail
    with test_image_or_fail("coldstart-profile-oci-") as img:
        if img:
            layout, cache = img
            p, rep = run_json("--image", layout, "--image-cache", cache, "-n", "2", "-w", "0",
                              "--name", "oci", "--profile", "cpu", "--profile-dir", pdir,
                              "--", "spin", "80", "serve")
            check(p.returncode == 0, f"container: exit {p.returncode} {p.stderr[-400:]}")
            if os.path.exists(os.path.join(pdir, "oci.folded")):
                st = folded(os.path.join(pdir, "oci.folded"))
                spin = samples_where(st, "[exec-listen]", "spin_cpu_ms")
                check(spin >= 130, f"container: spin_cpu_ms named through its root: {spin}")
            else:
                check(False, "container: no oci.folded")
            # Its perf map a symlink to a host file (a perf map that names
            # every address): read inside its root, the link leads nowhere;
            # the host's file is neither read nor removed.
            secret = os.path.join(d, "host-secret.map")
            with open(secret, "w") as f:
                f.write("0 7fffffffffffffff HOST_SECRET\n")
            p, rep = run_json("--image", layout, "--image-cache", cache, "-n", "1", "-w", "0",
                              "--name", "evil", "--profile", "cpu", "--profile-maps",
                              "--profile-dir", pdir, "--entrypoint", "/bin/sh", "--", "-c",
                              f"ln -s {secret} /tmp/perf-1.map && exec /srv/server spin 60 serve")
            check(p.returncode == 0, f"symlinked perf map: exit {p.returncode} {p.stderr[-300:]}")
            evil = os.path.join(pdir, "evil.folded")
            text = open(evil).read() if os.path.exists(evil) else ""
            check("spin_cpu_ms" in text and "HOST_SECRET" not in text,
                  f"a container's symlink does not lead to the host's files: {text[:200]}")
            check(os.path.exists(secret), "the host file a container's symlink names stays")

    # 6. Bad values: exit 2, the problem named, nothing measured.
    target = ["--ready", READY, "--", FIXTURE, "serve"]
    afile = os.path.join(d, "afile")
    open(afile, "w").close()
    for args, word in ((["--profile", "gpu"], "cpu"), (["--profile", "cpu:0"], "cpu:0"),
                       (["--profile", "cpu:abc"], "abc"), (["--profile", "cpu:20000"], "10000"),
                       (["--profile", "cpu:"], "cpu:"), (["--profile-dir", pdir], "--profile"),
                       (["--profile-maps"], "--profile"),
                       (["--profile", "cpu", "--profile-dir", afile], "not a folder"),
                       (["--profile", "cpu", "--profile-dir", "/nonexistent/x"], "/nonexistent"),
                       (["--profile", "cpu", "--profile-dir", ""], "empty")):
        p = coldstart("run", "-q", "-n", "1", *args, *target, cwd=d)
        check(p.returncode == 2 and word in p.stderr,
              f"{args}: exit 2 naming {word!r}: {p.returncode} {p.stderr.strip()[-300:]}")
    for cmd in ("size", "sweep"):
        p = coldstart(cmd, "--profile", "cpu", *target, cwd=d)
        check(p.returncode == 2 and "--profile" in p.stderr, f"{cmd} --profile: exit 2 "
              f"{p.returncode} {p.stderr.strip()[-200:]}")

maps_after = set(glob.glob("/tmp/perf-*.map") + glob.glob("/tmp/perfinfo-*.map"))
check(maps_after <= maps_before, f"no perf map left in /tmp: {sorted(maps_after - maps_before)}")
finish()
