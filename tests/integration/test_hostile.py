"""Issue 28: what a hostile report, image, target or output path can do to a
profiler that runs as root. Each block fails without its fix; nothing here
skips a part: the whole test runs or exits 77 with the reason."""
import atexit
import hashlib
import resource
import gzip
import io
import json
import shutil
import stat
import tarfile
import time

from harness import *
from oci_images import build_test_image, cache_dir, sh

require_root()
F = FIXTURE
READY = "http://127.0.0.1:{port}/"
work = tempfile.mkdtemp(prefix="coldstart-hostile-")
atexit.register(shutil.rmtree, work, True)

# A small real report to feed the report command.
p, rep = run_json("-n", "1", "-w", "0", "--", F, "exit", "0")
rep = require_report(rep, p, "the seed report")
seed = os.path.join(work, "seed.json")
with open(seed, "w") as f:
    json.dump(rep, f)

# 1. Root does not write through another user's symlink in a sticky,
# world-writable folder (fs.protected_symlinks' rule), and a link of the
# folder's owner (or ours) is still followed.
sticky, victim = os.path.join(work, "sticky"), os.path.join(work, "victim")
os.mkdir(sticky)
os.chmod(sticky, 0o1777)
os.mkdir(victim, 0o700)
config = os.path.join(victim, "config")
with open(config, "w") as f:
    f.write("precious\n")
link = os.path.join(sticky, "report.json")
os.symlink(config, link)
os.lchown(link, 65534, 65534)
for args in (["report", seed, "--format", "json", "-o", link],
             ["report", seed, "--format", "md", "-o", link],
             ["run", "-q", "-n", "1", "-w", "0", "--json", link, "--", F, "exit", "0"]):
    p = coldstart(*args)
    check(p.returncode == 2, f"{args[0]} -o through nobody's link in a sticky folder: exit "
                             f"{p.returncode} {p.stderr[-300:]}")
    check("protected_symlinks" in p.stderr, f"the refusal says why: {p.stderr[-300:]}")
    with open(config) as f:
        check(f.read() == "precious\n", f"{args[0]}: the link's target was not replaced")
os.lchown(link, 0, 0)
p = coldstart("report", seed, "--format", "json", "-o", link)
check(p.returncode == 0, f"root's own link in the sticky folder: exit {p.returncode} {p.stderr}")
check(os.path.islink(link), "the link stays a link")
with open(config) as f:
    check(f.read().startswith("{"), "root's own link is followed to its target")
# No temporary file is left beside the report.
check(not [n for n in os.listdir(victim) if n != "config"],
      f"nothing but the report in its folder: {os.listdir(victim)}")
# A FIFO nobody reads is an error, not a hang.
fifo = os.path.join(work, "fifo")
os.mkfifo(fifo)
try:
    p = coldstart("report", seed, "--format", "json", "-o", fifo, timeout=20)
    check(p.returncode != 0 and "FIFO" in p.stderr,
          f"a FIFO without a reader: exit {p.returncode} {p.stderr[-200:]}")
except subprocess.TimeoutExpired:
    check(False, "report -o FIFO with no reader hung")

# 2. Duplicate keys in a report are refused with the key and where.
dup = os.path.join(work, "dup.json")
text = json.dumps(rep)
with open(dup, "w") as f:
    f.write(text.replace('"status": "ok"', '"status": "ok", "status": "crashed"', 1))
for args in (["report", dup, "--format", "csv"], ["compare", seed, dup], ["merge", seed, dup,
                                                                          "-o", os.path.join(work, "m.json")]):
    p = coldstart(*args)
    check(p.returncode == 2, f"{args[0]} of a report with a repeated key: exit {p.returncode}")
    check("targets[0].runs[0].status" in p.stderr and "twice" in p.stderr,
          f"{args[0]}: names the key and its path: {p.stderr[-300:]}")

# 4. Sizes, durations, ids and counts that do not fit are refused (exit 2).
for args, word in ((["--memory", "15000000T"], "too large"),
                   (["--burst-memory", "99999999999T", "--burst", "2"], "too large"),
                   (["--timeout", "99999999999h"], "duration"),
                   (["--timeout", "2000000000s"], "too long"),
                   (["--user", "4294967296"], "out of range"),
                   (["--user", "0:4294967296"], "out of range"),
                   (["--runs", "99999999999999999999999"], "")):
    p = coldstart("run", *args, "--", F, "exit", "0")
    check(p.returncode == 2, f"run {' '.join(args)}: exit {p.returncode} {p.stderr[-200:]}")
    check(word in p.stderr, f"run {' '.join(args)}: says `{word}`: {p.stderr[-200:]}")

# compare and `report --budget` fail a target that fails: crashing in every
# run, timing out in 7 of 9, or gone from the new report (they said "0
# regressions", exit 0, as no metric had an ok value to compare).
def session(name, *cmd, runs="9"):
    path = os.path.join(work, name + ".json")
    coldstart("run", "-q", "-n", runs, "-w", "0", "--name", "app", "--timeout", "300ms",
              "--json", path, "--ready", READY, "--", *cmd)
    return path


good = session("good", F, "serve")
crash = session("crash", F, "crash")
p = coldstart("compare", good, crash)
check(p.returncode == 3 and ", 0 of 3 in the new: REGRESSION" in p.stdout,
      f"compare: every new run crashed: exit {p.returncode} {p.stdout[-400:]}")
with open(good) as f:
    doc = json.load(f)
runs = [r for r in doc["targets"][0]["runs"] if not r["warmup"]]
for r in runs[:7]:
    r.update(status="timeout", error="not ready within 300 ms")
mostly = os.path.join(work, "mostly-timeout.json")
with open(mostly, "w") as f:
    json.dump(doc, f)
p = coldstart("compare", good, mostly)
check(p.returncode == 3 and "2 of 9" in p.stdout, f"compare: 7 of 9 timed out: exit {p.returncode}")
p = coldstart("compare", good, good)
check(p.returncode == 0, f"compare of a report with itself: exit {p.returncode} {p.stdout[-300:]}")
p = coldstart("report", mostly, "--budget", "ready.p95<=10s")
check(p.returncode == 1 and "7 of 9 measured runs failed" in p.stdout,
      f"report --budget of a report whose runs mostly failed: exit {p.returncode} {p.stdout}")
p = coldstart("report", good, "--budget", "ready.p95<=10s")
check(p.returncode == 0, f"report --budget of a good report: exit {p.returncode} {p.stdout}")
other = session("other", F, "serve", runs="2")
with open(other) as f:
    doc = json.load(f)
doc["targets"][0]["name"] = "renamed"
with open(other, "w") as f:
    json.dump(doc, f)
both = os.path.join(work, "both.json")
coldstart("merge", good, other, "-o", both)
p = coldstart("compare", both, good)
check(p.returncode == 3 and "renamed (gone" in p.stdout, f"compare: a target gone: {p.stdout[-300:]}")

# 6. `coldstart report` reads the collapsed stacks a report names only from
# the report's folder or --profile-dir, never any path it names (as root).
prof_dir = os.path.join(work, "prof6")
pj = os.path.join(work, "profiled.json")
p = coldstart("run", "-q", "-n", "1", "-w", "0", "--profile", "cpu", "--profile-dir", prof_dir,
              "--json", pj, "--ready", READY, "--", F, "spin", "50", "serve")
check(p.returncode == 0, f"a profiled run: exit {p.returncode} {p.stderr[-300:]}")
with open(pj) as f:
    doc = json.load(f)
outside = tempfile.mkdtemp(prefix="coldstart-hostile-outside-")
secret = os.path.join(outside, "secret.folded")
with open(secret, "w") as f:
    f.write("[exec-ready];SECRET_FRAME_FROM_OUTSIDE 5\n")
os.chmod(secret, 0o600)
report_dir = os.path.join(work, "reports6")
os.mkdir(report_dir)
for name in (secret, os.path.relpath(secret, report_dir), "../" * 12 + secret.lstrip("/")):
    doc["targets"][0]["profile"]["folded_file"] = name
    hostile_report = os.path.join(report_dir, "r.json")
    with open(hostile_report, "w") as f:
        json.dump(doc, f)
    for fmt in ("html", "md", "json"):
        p = coldstart("report", hostile_report, "--format", fmt)
        check(p.returncode == 0 and "SECRET_FRAME" not in p.stdout,
              f"report --format {fmt} of a report naming {name}: exit {p.returncode}, "
              f"{'read it' if 'SECRET_FRAME' in p.stdout else 'not read'}")
    p = coldstart("report", hostile_report, "--format", "html")
    check("outside the report" in p.stdout, f"the HTML says why the stacks are missing")
# Pointed at with --profile-dir, the same file is read.
p = coldstart("report", hostile_report, "--format", "html", "--profile-dir", outside)
check(p.returncode == 0 and "SECRET_FRAME_FROM_OUTSIDE" in p.stdout,
      f"--profile-dir DIR reads the stacks from DIR: exit {p.returncode} {p.stderr[-200:]}")
# The report beside its own profile folder draws its graph.
p = coldstart("report", pj, "--format", "html")
check(p.returncode == 0 and "<svg" in p.stdout and "spin_cpu_ms" in p.stdout,
      f"a report beside its profile draws it: exit {p.returncode}")
shutil.rmtree(outside, ignore_errors=True)

# A fake .NET diagnostics socket that drips its answer a byte every 0.4 s
# (24 bytes: 10 s) gets 5 s in all, not 5 s per byte.
# (--private-tmp hides the test's /tmp from the target: the server is -c.)
DRIP = ("""
import os, socket, threading, time, http.server
s = socket.socket(socket.AF_UNIX)
s.bind(f"/tmp/dotnet-diagnostic-{os.getpid()}-1-socket")
s.listen(4)
def serve():
    while True:
        c, _ = s.accept()
        c.recv(64)
        for b in b"DOTNET_IPC_V1\\0" + bytes(10):
            c.send(bytes([b]))
            time.sleep(0.4)
threading.Thread(target=serve, daemon=True).start()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
sum(i * i for i in range(300000))
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
""")
t0 = time.monotonic()
p = coldstart("run", "-q", "-n", "1", "-w", "0", "--profile", "cpu", "--profile-dir",
              os.path.join(work, "prof-drip"), "--private-tmp", "--stop-signal", "KILL",
              "--ready", READY, "--", sys.executable, "-c", DRIP, timeout=60)
took = time.monotonic() - t0
check(p.returncode == 0, f"a dripping diagnostics socket: exit {p.returncode} {p.stderr[-300:]}")
check(took < 8.5, f"a dripping diagnostics socket held the run {took:.1f} s (bound: 5 s)")


# A target's output and a report's strings are shown, not obeyed: no escape
# sequence reaches the terminal, no Markdown link or image reaches a job
# summary (LOW findings).
p = coldstart("run", "-q", "-n", "1", "-w", "0", "--", "sh", "-c",
              "printf '\\033]0;PWNED\\007\\033[2Jvisible\\n'; exit 3")
check("\x1b" not in p.stdout and "\x07" not in p.stdout and "visible" in p.stdout,
      f"a target's escape sequences are not printed raw: {p.stdout[-200:]!r}")
with open(seed) as f:
    doc = json.load(f)
doc["host"]["cpu_model"] = "![x](http://127.0.0.1/pixel) [click](http://127.0.0.1/) | <b>"
doc["settings"]["seccomp"] = "*bold* `code`"
md_in = os.path.join(work, "md.json")
with open(md_in, "w") as f:
    json.dump(doc, f)
p = coldstart("report", md_in, "--format", "md")
import re
check(p.returncode == 0 and not re.search(r"(?<!\\)\]\(http", p.stdout) and "<b>" not in p.stdout and
      "*bold*" not in p.stdout and "`code`" not in p.stdout,
      f"Markdown from report strings is escaped: {p.stdout[:400]!r}")

# A report larger than any real one (64 MiB) is refused before it is parsed:
# a 269 MB one once took `report --format html` to 3.6 GiB.
big = os.path.join(work, "big.json")
with open(seed) as f, open(big, "w") as out:
    out.write(f.read())
    out.write(" " * (70 << 20))
before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
p = coldstart("report", big, "--format", "html")
check(p.returncode == 2 and "more than a report may be" in p.stderr,
      f"a 70 MB report: exit {p.returncode} {p.stderr[-200:]}")
os.unlink(big)

# A perf map the target controls cannot take the root profiler's memory: an
# 8 GB sparse file without a newline, or a link to /proc/self/pagemap (the
# profiler's own, "regular", 256 GB). The profiler's peak RSS stays small.
# RLIMIT_AS is a safety net for this machine, not the check.


def limited():
    if os.environ.get("COLDSTART_SANITIZED") not in ("1", "ON", "TRUE", "true"):
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


for plant in ("truncate -s 8G /tmp/perf-$$.map", "ln -s /proc/self/pagemap /tmp/perf-$$.map"):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.monotonic()
    # In the real /tmp (a private one would hide a fixture built below /tmp),
    # removed below: the map nobody's target planted there.
    p = subprocess.run([COLDSTART, "run", "-q", "-n", "1", "-w", "0", "--profile", "cpu",
                        "--profile-dir", os.path.join(work, "prof"),
                        "--user", "65534", "--ready", READY, "--", "sh", "-c",
                        f"{plant}; exec {F} spin 100 serve"],
                       capture_output=True, text=True, timeout=120, preexec_fn=limited)
    for name in os.listdir("/tmp"):
        path = os.path.join("/tmp", name)
        if name.startswith("perf-") and name.endswith(".map") and os.lstat(path).st_uid == 65534:
            os.unlink(path)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    check(p.returncode == 0, f"`{plant}`: exit {p.returncode} {p.stdout[-300:]} {p.stderr[-300:]}")
    check(peak_mib < 400 or peak_mib <= before / 1024,
          f"`{plant}`: the profiler's peak RSS {peak_mib:.0f} MiB (a bounded read keeps it small)")
    check(time.monotonic() - t0 < 60, f"`{plant}`: took {time.monotonic() - t0:.0f} s")

# 10. An xz bomb in the .gnu_debugdata of the target's binary (3 GiB of
# zeros in 460 KB): libdwfl decompresses it whole. It is parsed in a child
# with a bounded address space, so the profiler stays small and the run
# ends with its profile (the names from that file are lost, nothing else).
import lzma
bomb_bin = os.path.join(work, "fixture-bomb")
shutil.copy(F, bomb_bin)
xz = lzma.LZMACompressor(format=lzma.FORMAT_XZ, preset=0)
zeros = bytes(1 << 24)
with open(os.path.join(work, "bomb.xz"), "wb") as f:
    for _ in range(192):
        f.write(xz.compress(zeros))
    f.write(xz.flush())
subprocess.run(["strip", bomb_bin], check=True)
subprocess.run(["objcopy", "--add-section", ".gnu_debugdata=" + os.path.join(work, "bomb.xz"),
                bomb_bin], check=True)
before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
bomb_json = os.path.join(work, "bomb.json")
p = subprocess.run([COLDSTART, "run", "-q", "-n", "1", "-w", "0", "--profile", "cpu",
                    "--profile-dir", os.path.join(work, "prof-bomb"), "--json", bomb_json,
                    "--ready", READY, "--", bomb_bin, "spin", "100", "serve"],
                   capture_output=True, text=True, timeout=240)
peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
check(p.returncode == 0, f"an xz bomb in the target's binary: exit {p.returncode} {p.stderr[-300:]}")
if os.path.exists(bomb_json):
    with open(bomb_json) as f:
        prof = json.load(f)["targets"][0].get("profile") or {}
    check(prof.get("samples", 0) > 0, f"the profile keeps its samples: {prof}")
if os.environ.get("COLDSTART_SANITIZED") not in ("1", "ON", "TRUE", "true"):
    check(peak_mib < 1700 or peak_mib <= before / 1024,
          f"an xz bomb: peak RSS {peak_mib:.0f} MiB (the resolver's child is bounded to 1 GiB more)")

# Containers (the builtin runtime and crun): the host's /proc/sys and
# sysrq-trigger read-only, kcore masked, no device node made or shipped in an
# image opens the host's device. Each line the script prints is a hole.
ESCAPES = r"""
true >> /proc/sys/kernel/core_pattern 2>/dev/null && echo HOLE-proc-sys-writable
true >> /proc/sysrq-trigger 2>/dev/null && echo HOLE-sysrq-writable
n=$(busybox head -c 16 /proc/kcore 2>/dev/null | wc -c); [ "$n" = 0 ] || echo HOLE-kcore-readable
busybox mknod /tmp/null2 c 1 3 2>/dev/null && true > /tmp/null2 2>/dev/null && echo HOLE-mknod-overlay
busybox mknod /dev/null2 c 1 3 2>/dev/null && true > /dev/null2 2>/dev/null && echo HOLE-mknod-dev
[ -c /srv/shipped-null ] && true > /srv/shipped-null 2>/dev/null && echo HOLE-shipped-device
true > /dev/null && echo bound-null-works
echo checked
exit 7
"""
img_work = tempfile.mkdtemp(prefix="coldstart-hostile-img-")
cache = cache_dir()
atexit.register(shutil.rmtree, img_work, True)
atexit.register(shutil.rmtree, cache, True)
layout = build_test_image(img_work)
# The same image with a 0666 character device (1:3, the host's null) in a layer.
sh(img_work, """
umoci unpack --image img:v1 dev >/dev/null
mknod -m 0666 dev/rootfs/srv/shipped-null c 1 3
umoci repack --image img:dev dev
""")
runtimes = ["builtin"] + (["crun"] if shutil.which("crun") else [])
check("crun" in runtimes, "crun is installed (make test installs it)")
for runtime in runtimes:
    for user in ("0:0", "65534:65534"):
        p, r = run_json("--image", layout[:-len(":v1")] + ":dev", "--image-cache", cache, "-n", "1",
                        "-w", "0", "--runtime", runtime, "--user", user, "--ready", "exit",
                        "--entrypoint", "/bin/sh", "--", "-c", ESCAPES)
        r = require_report(r, p, f"escape script ({runtime}, {user})")
        run = measured(r)[0]
        out = run.get("output_tail") or ""
        # exit 7: a failed run keeps its output (output_tail).
        check(run["status"] == "exited" and run["exit_code"] == 7 and "checked" in out,
              f"{runtime} as {user}: the script ran: {run['status']} {run.get('error')} {out!r}")
        check("HOLE" not in out, f"{runtime} as {user}: {[l for l in out.split() if 'HOLE' in l]}")
        check("bound-null-works" in out, f"{runtime} as {user}: /dev/null still works: {out!r}")

# One image's layer cannot take another's place in the cache: a config that
# claims the diff_id of the test image's first layer over other bytes.
def blob(layout_dir, digest):
    return os.path.join(layout_dir, "blobs", "sha256", digest.split(":")[1])


def put_blob(layout_dir, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(blob(layout_dir, d), "wb") as f:
        f.write(data)
    return d, len(data)


poison = os.path.join(img_work, "poison")
shutil.copytree(os.path.join(img_work, "img"), poison, symlinks=True)
with open(os.path.join(poison, "index.json")) as f:
    index = json.load(f)
desc = next(m for m in index["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "v1")
with open(blob(poison, desc["digest"])) as f:
    manifest = json.load(f)
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w") as tar:
    data = b"#!/bin/sh\necho POISONED\n"
    info = tarfile.TarInfo("srv/server")
    info.size, info.mode = len(data), 0o755
    tar.addfile(info, io.BytesIO(data))
layer_digest, layer_size = put_blob(poison, gzip.compress(raw.getvalue()))
manifest["layers"][0].update(digest=layer_digest, size=layer_size)
desc["digest"], desc["size"] = put_blob(poison, json.dumps(manifest).encode())
index["manifests"] = [desc]
with open(os.path.join(poison, "index.json"), "w") as f:
    json.dump(index, f)
p, r = run_json("--image", "oci:" + poison + ":v1", "--image-cache", cache, "--extract", "cold",
                "-n", "1", "-w", "0")
check(p.returncode == 2 and "diff_id" in p.stderr,
      f"a layer whose bytes are not its claimed diff_id: exit {p.returncode} {p.stderr[-400:]}")
cache2 = cache_dir()
atexit.register(shutil.rmtree, cache2, True)
p, r = run_json("--image", "oci:" + poison + ":v1", "--image-cache", cache2, "-n", "1", "-w", "0")
check(p.returncode == 2 and "diff_id" in p.stderr, f"the same into the warm cache: exit {p.returncode}")
layers = os.path.join(cache2, "layers", "sha256")
kept = [n for n in os.listdir(layers) if not n.endswith((".lock", ".stats"))] if os.path.isdir(layers) else []
check(kept == [], f"nothing of the poisoned layer is kept in the cache: {kept}")
p, r = run_json("--image", layout, "--image-cache", cache2, "-n", "1", "-w", "0")
r = require_report(r, p, "the real image after the poisoned one")
check(measured(r)[0]["status"] == "ok", f"the real image still runs: {measured(r)[0].get('error')}")
# An image cache another user could write is refused: owned by nobody,
# writable by others, or with a symlinked folder (`cold -> /victim` made
# root delete /victim's subfolders).
victim_dir = os.path.join(work, "victim-tree")
os.makedirs(os.path.join(victim_dir, "keep", "inner"))
for setup, word in (("owner", "another user"), ("mode", "writable by others"),
                    ("cold-link", "symlink"), ("layers-mode", "writable by others")):
    shared = cache_dir()
    if setup == "owner":
        os.chown(shared, 65534, 65534)
    elif setup == "mode":
        os.chmod(shared, 0o777)
    elif setup == "cold-link":
        os.symlink(victim_dir, os.path.join(shared, "cold"))
    else:
        os.makedirs(os.path.join(shared, "layers", "sha256"))
        os.chmod(os.path.join(shared, "layers", "sha256"), 0o777)
    p, r = run_json("--image", layout, "--image-cache", shared, "-n", "1", "-w", "0")
    check(p.returncode == 2 and word in p.stderr,
          f"an image cache with {setup}: exit {p.returncode} {p.stderr[-300:]}")
    shutil.rmtree(shared, ignore_errors=True)
check(os.path.isdir(os.path.join(victim_dir, "keep", "inner")), "the victim's folders stay")
for bad_name in ("a:b", "a,b"):
    odd = os.path.join(work, bad_name)
    p, r = run_json("--image", layout, "--image-cache", odd, "-n", "1", "-w", "0")
    check(p.returncode == 2 and "overlayfs" in p.stderr,
          f"an image cache path with `{bad_name}`: exit {p.returncode} {p.stderr[-200:]}")
# Twice the same sweep point would be two targets of one name.
p = coldstart("sweep", "--memory", "16Mi,16Mi", "--", F, "exit", "0")
check(p.returncode == 2 and "twice" in p.stderr, f"sweep 16Mi,16Mi: {p.returncode} {p.stderr}")
p = coldstart("run", "--memory", "512", "--", F, "exit", "0")
check(p.returncode == 2 and "512Mi" in p.stderr, f"--memory 512 suggests 512Mi: {p.stderr}")
p = coldstart("run", "--load", "5000:1s", "--", F, "exit", "0")
check(p.returncode == 2 and p.stderr.count("1 to 4096") == 1, f"--load says its range once: {p.stderr}")
p = coldstart("run", "--burst", "0", "--", F, "exit", "0")
check(p.returncode == 2 and p.stderr.count("1 to 64") == 1, f"--burst 0 says its range once: {p.stderr}")

# A docker-archive whose manifest names a layer through a symlinked folder
# (`d -> /etc`, `d/shadow`) is refused without reading the host's file.
da = os.path.join(img_work, "da")
os.mkdir(da)
subprocess.run(["tar", "-xf", os.path.join(img_work, "d.tar"), "-C", da], check=True)
with open(os.path.join(da, "manifest.json")) as f:
    man = json.load(f)
os.symlink("/etc", os.path.join(da, "d"))
man[0]["Layers"][0] = "d/shadow"
with open(os.path.join(da, "manifest.json"), "w") as f:
    json.dump(man, f)
evil_tar = os.path.join(img_work, "evil-docker.tar")
subprocess.run(["tar", "-cf", evil_tar, "-C", da, "."], check=True)
p, r = run_json("--image", "docker-archive:" + evil_tar, "--image-cache", cache2, "-n", "1",
                "-w", "0")
check(p.returncode == 2 and "outside the archive" in p.stderr,
      f"a docker-archive layer through a symlinked folder: exit {p.returncode} {p.stderr[-300:]}")
with open("/etc/shadow", "rb") as f:
    shadow_digest = hashlib.sha256(f.read()).hexdigest()
check(shadow_digest not in p.stderr, "the host's /etc/shadow was not read (its digest is not printed)")
# The archive itself, unchanged, still runs.
p, r = run_json("--image", "docker-archive:" + os.path.join(img_work, "d.tar"), "--image-cache",
                cache2, "-n", "1", "-w", "0")
check(p.returncode == 0, f"the docker-archive itself: exit {p.returncode} {p.stderr[-300:]}")

# Image configs and manifests refused or read as Docker reads them (LOW):
# Entrypoint [""] is no entrypoint; an empty command, more than 4096 Env
# entries and a layer type coldstart does not unpack are exit 2.
def mutated(name, config_fn=None, manifest_fn=None):
    out = os.path.join(img_work, name)
    shutil.copytree(os.path.join(img_work, "img"), out, symlinks=True)
    with open(os.path.join(out, "index.json")) as f:
        idx = json.load(f)
    d = next(m for m in idx["manifests"]
             if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "v1")
    with open(blob(out, d["digest"])) as f:
        man = json.load(f)
    if config_fn:
        with open(blob(out, man["config"]["digest"])) as f:
            cfg = json.load(f)
        config_fn(cfg)
        man["config"]["digest"], man["config"]["size"] = put_blob(out, json.dumps(cfg).encode())
    if manifest_fn:
        manifest_fn(man)
    d["digest"], d["size"] = put_blob(out, json.dumps(man).encode())
    idx["manifests"] = [d]
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(idx, f)
    return "oci:" + out + ":v1"


def set_entry(cfg, entry, cmd):
    cfg["config"]["Entrypoint"], cfg["config"]["Cmd"] = entry, cmd


spec = mutated("entry-empty", lambda c: set_entry(c, [""], ["/srv/server", "serve"]))
p, r = run_json("--image", spec, "--image-cache", cache2, "-n", "1", "-w", "0")
check(p.returncode == 0, f'Entrypoint [""] runs the Cmd: exit {p.returncode} {p.stderr[-300:]}')
spec = mutated("cmd-empty", lambda c: set_entry(c, None, [""]))
p, r = run_json("--image", spec, "--image-cache", cache2, "-n", "1", "-w", "0")
check(p.returncode == 2 and "empty" in p.stderr, f"an empty command: exit {p.returncode} {p.stderr[-200:]}")
spec = mutated("env-many", lambda c: c["config"].update(Env=[f"V{i}=x" for i in range(5000)]))
p, r = run_json("--image", spec, "--image-cache", cache2, "-n", "1", "-w", "0")
check(p.returncode == 2 and "4096" in p.stderr, f"5000 Env entries: exit {p.returncode} {p.stderr[-200:]}")
spec = mutated("encrypted", manifest_fn=lambda m: m["layers"][0].update(
    mediaType="application/vnd.oci.image.layer.v1.tar+gzip+encrypted"))
fresh = cache_dir()
p, r = run_json("--image", spec, "--image-cache", fresh, "-n", "1", "-w", "0")
shutil.rmtree(fresh, ignore_errors=True)
check(p.returncode == 2 and "media type" in p.stderr, f"an encrypted layer: exit {p.returncode} {p.stderr[-200:]}")

# After a profiler is SIGKILLed (an OOM kill), what it left is removed by the
# next one: a layer's half-made .tmp-HEX-XXXXXX whose lock nobody holds, and
# an archive's unpacked folder nobody holds; one still held stays.
import fcntl
stale_cache = cache_dir()
layers_dir = os.path.join(stale_cache, "layers", "sha256")
os.makedirs(layers_dir)
os.chmod(stale_cache, 0o700)
stale_tmp = os.path.join(layers_dir, ".tmp-" + "ab" * 32 + "-XXXXXX")
os.makedirs(os.path.join(stale_tmp, "usr", "lib"))
tmpdir = tempfile.gettempdir()
stale_unpacked = tempfile.mkdtemp(prefix="coldstart-image-", dir=tmpdir)
held_unpacked = tempfile.mkdtemp(prefix="coldstart-image-", dir=tmpdir)
held_fd = os.open(held_unpacked, os.O_RDONLY)
fcntl.flock(held_fd, fcntl.LOCK_EX)
p, r = run_json("--image", "oci-archive:" + os.path.join(img_work, "img.tar") + ":v1",
                "--image-cache", stale_cache, "-n", "1", "-w", "0")
check(p.returncode == 0, f"an archive after a killed profiler: exit {p.returncode} {p.stderr[-300:]}")
check(not os.path.exists(stale_tmp), "a stale .tmp- layer folder is removed")
check(not os.path.exists(stale_unpacked), "a stale unpacked archive folder is removed")
check(os.path.isdir(held_unpacked), "an unpacked folder another profiler holds stays")
os.close(held_fd)
shutil.rmtree(held_unpacked, ignore_errors=True)
shutil.rmtree(stale_cache, ignore_errors=True)

# A blob that is a FIFO, a character device or a symlink: exit 2 at once,
# not a hang that ignores Ctrl-C (a FIFO blocked the open, /dev/zero spun).
for kind in ("fifo", "chardev", "symlink"):
    for which in ("layer", "config"):
        bad = os.path.join(img_work, f"bad-{kind}-{which}")
        shutil.copytree(os.path.join(img_work, "img"), bad, symlinks=True)
        with open(os.path.join(bad, "index.json")) as f:
            d = next(m for m in json.load(f)["manifests"]
                     if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "v1")
        with open(blob(bad, d["digest"])) as f:
            m = json.load(f)
        target = blob(bad, m["layers"][0]["digest"] if which == "layer" else m["config"]["digest"])
        os.unlink(target)
        if kind == "fifo":
            os.mkfifo(target)
        elif kind == "chardev":
            os.mknod(target, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero
        else:
            os.symlink("/dev/zero", target)
        fresh = cache_dir()
        try:
            p, r = run_json("--image", "oci:" + bad + ":v1", "--image-cache", fresh, "-n", "1",
                            "-w", "0", timeout=30)
            check(p.returncode == 2 and ("regular file" in p.stderr or "symlink" in p.stderr),
                  f"a {kind} {which} blob: exit {p.returncode} {p.stderr[-300:]}")
        except subprocess.TimeoutExpired:
            check(False, f"a {kind} {which} blob hung coldstart")
        shutil.rmtree(fresh, ignore_errors=True)

for d in (img_work, cache, cache2):
    shutil.rmtree(d, ignore_errors=True)

shutil.rmtree(work, ignore_errors=True)
finish()
