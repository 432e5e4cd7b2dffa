"""Container images as targets (issue 16, docs/container-images.md): images
made by umoci, skopeo and buildah from scratch (the static fixture as the
server, busybox as a shell, two layers with a whiteout, a non-root user)
run through `coldstart run --image TRANSPORT:...`, with the container's
isolation checked from inside, the phase milestones, image facts and
image-read figures in the report, --extract cold, --cache cold, bad input,
and nothing left after a run, a failure or Ctrl-C."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness import *
from oci_images import build_test_image, cache_dir, fs_type

require_root()
work = tempfile.mkdtemp(prefix="coldstart-oci-test-")
cache = cache_dir()
IN_MEMORY = fs_type(cache) in ("tmpfs", "overlay")
layout = build_test_image(work)
COMMON = ["--image-cache", cache, "-w", "0", "--stop-signal", "KILL"]


def image_run(*args, image=layout):
    return run_json("--image", image, *COMMON, *args)


def mounts_of(path):
    with open("/proc/self/mountinfo") as f:
        return [l for l in f if path in l]


# ---- a served run: milestones in order, image facts, image read ----
html, md, csv, junit = (os.path.join(work, "r." + e) for e in ("html", "md", "csv", "xml"))
p, rep = image_run("-n", "2", "--html", html, "--md", md, "--csv", csv, "--junit", junit)
check(p.returncode == 0, f"run --image {layout}: exit {p.returncode}: {p.stderr[-800:]}")
rep = require_report(rep, p)
t = rep["targets"][0]
img = t.get("oci_image") or {}
check(img.get("transport") == "oci" and img.get("layers") == 2 and img.get("runtime") == "builtin"
      and img.get("extract") == "warm", f"oci_image: {img}")
check(img.get("manifest_digest", "").startswith("sha256:") and img.get("files", 0) >= 4,
      f"oci_image digests and files: {img}")
check(0 < img.get("compressed_bytes", 0) < img.get("unpacked_bytes", 0), f"image sizes: {img}")
check(t["ready"] == "http://127.0.0.1:8080/", f"ready from the exposed port: {t['ready']}")
for r in measured(rep):
    m = r["milestones_us"]
    check(r["status"] == "ok", f"status {r['status']}: {r.get('error')}")
    check(m["extract"] is None, f"no extract milestone with --extract warm: {m}")
    check(m["rootfs"] is not None and 0 < m["rootfs"] <= m["exec"] <= m["listen"] <= m["ready"],
          f"rootfs <= exec <= listen <= ready: {m}")
    check(r["image_read_bytes"] and r["image_read_files"] >= 1,
          f"image read at ready: {r['image_read_bytes']} {r['image_read_files']}")
    check(any(f["path"] == "/srv/server" for f in r["image_read_top"]),
          f"the server is among the image files read: {r['image_read_top']}")
    check(any(f["path"] == "/srv/server" for f in r["mapped"]),
          f"mapped files named as inside the container: {r['mapped']}")
check("rootfs" in json.dumps(t["summary"]), "summary has rootfs_us")
# Every format carries the phases and the image facts (the digest is a real
# one: a default "-" would be "found" anywhere).
check(re.fullmatch(r"sha256:[0-9a-f]{64}", img.get("manifest_digest") or ""),
      f"the image's manifest digest: {img.get('manifest_digest')}")
with open(html) as f:
    page = f.read()
check("Image in the page cache at ready" in page and "/srv/server" in page and
      img["manifest_digest"] in page and ">rootfs<" in page,
      "HTML: image facts, image read, the rootfs marker")
with open(md) as f:
    text = f.read()
check("rootfs p50" in text and "image read" in text and "image packed/unpacked" in text,
      "Markdown: the container columns")
check("### Container images" in text and "2 layers" in text and "in the page cache at ready" in text,
      "Markdown: the image's facts")
with open(csv) as f:
    header = f.readline().strip().split(",")
    first = f.readline()
check(all(c in header for c in ("rootfs_us", "extract_us", "image_read_bytes", "oci_ref",
                                "oci_layers", "oci_unpacked_bytes")),
      f"CSV: container columns in {header}")
check(img["manifest_digest"] in first, "CSV: the image's digest in each row")
with open(junit) as f:
    xml = f.read()
check('name="oci.manifest_digest"' in xml and img["manifest_digest"] in xml,
      "JUnit: the image's facts as testsuite properties")
p = coldstart("run", "--image", layout, *COMMON, "-n", "1", "--no-progress")
check(p.returncode == 0 and "image in the page cache at ready" in p.stdout and
      "rootfs" in p.stdout and "2 layers" in p.stdout,
      f"terminal: image facts and the rootfs row: {p.stdout[-800:]}")
check(not mounts_of(cache), f"no mount of ours visible on the host: {mounts_of(cache)}")

# ---- the same image as oci-archive and docker-archive (skopeo) ----
for spec, transport in (("oci-archive:" + os.path.join(work, "img.tar") + ":v1", "oci-archive"),
                        ("docker-archive:" + os.path.join(work, "d.tar") + ":demo:v1",
                         "docker-archive")):
    p, rep = image_run("-n", "1", image=spec)
    check(p.returncode == 0, f"{spec}: exit {p.returncode}: {p.stderr[-600:]}")
    rep = require_report(rep, p, spec)
    check(rep["targets"][0]["oci_image"]["transport"] == transport, f"{spec}: transport")
    unpacked = [n for n in os.listdir(tempfile.gettempdir()) if n.startswith("coldstart-image-")]
    check(not unpacked, f"{spec}: unpacked archive folders left in TMPDIR: {unpacked}")

# ---- the container seen from inside: user, hostname, PID namespace, root,
# environment, whiteout, working directory; the run exits 7 on purpose so
# that the report keeps what it printed ----
script = ("echo uid=$(id -u) gid=$(id -g); echo host=$(hostname); echo pid=$$;"
          " echo cwd=$(pwd); test -e /srv/old.txt && echo old=present || echo old=gone;"
          " cat /srv/new.txt; test -e /tmp/marker && echo marker=kept || echo marker=fresh;"
          " touch /tmp/marker && touch /srv/x 2>/dev/null || echo srv=readonly-for-app; test -e " + work + " && echo hostroot=visible || echo hostroot=gone;"
          " echo env=$(env | grep -c .) home=$HOME path=$PATH; echo proc1=$(cat /proc/1/comm); exit 7")
p, rep = image_run("-n", "2", "--ready", "exit", "--entrypoint", "/bin/sh", "--", "-c", script)
rep = require_report(rep, p, "shell in the container")
for r in measured(rep):
    out = r.get("output_tail") or ""
    check(r["status"] == "exited" and r["exit_code"] == 7, f"exit 7: {r['status']} {r['exit_code']}")
    for want in ("uid=1000 gid=1000", "host=coldstart", "pid=1", "cwd=/srv", "old=gone", "new",
                 "marker=fresh", "srv=readonly-for-app", "hostroot=gone", "home=/home/app", "proc1=sh"):
        check(want in out, f"inside the container: `{want}` expected in {out!r}")
    check("path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in out,
          f"docker's default PATH: {out!r}")

# --user and --env override the image's (--user resolved in the image).
p, rep = image_run("-n", "1", "--ready", "exit", "--user", "root", "--env", "GREETING=hi",
                   "--entrypoint", "/bin/sh", "--", "-c", "echo uid=$(id -u) g=$GREETING; exit 3")
rep = require_report(rep, p, "--user root")
out = measured(rep)[0].get("output_tail") or ""
check("uid=0 g=hi" in out, f"--user root --env GREETING=hi: {out!r}")

# ---- suite: a container image named beside (or instead of) bundled ones ----
suite_json = os.path.join(work, "suite.json")
p = coldstart("suite", "-q", layout, "-n", "2", "-w", "0", "--json", suite_json, *COMMON[:2],
              "--stop-signal", "KILL", "--cache", "both")
check(p.returncode == 0, f"suite {layout}: exit {p.returncode}: {p.stderr[-600:]}")
if check(os.path.exists(suite_json), "suite wrote its report"):
    with open(suite_json) as f:
        srep = json.load(f)
    names = [t["name"] for t in srep["targets"]]
    check(names == ["img:v1", "img:v1@cold"], f"suite targets: {names}")
    check(all(t["oci_image"]["layers"] == 2 for t in srep["targets"]), "suite: oci_image facts")

# ---- --extract cold: extraction timed in every run, cleaned up after ----
cold_html = os.path.join(work, "cold.html")
p, rep = image_run("-n", "2", "--extract", "cold", "--cache", "cold", "--html", cold_html)
check(p.returncode == 0, f"--extract cold: exit {p.returncode}: {p.stderr[-600:]}")
rep = require_report(rep, p, "--extract cold")
check(rep["targets"][0]["oci_image"]["extract"] == "cold", "oci_image.extract cold")
for r in measured(rep):
    m = r["milestones_us"]
    check(m["extract"] is not None and 0 < m["extract"] < m["rootfs"] < m["exec"] <= m["ready"],
          f"extract < rootfs < exec <= ready: {m}")
    if IN_MEMORY:
        # A tmpfs cache cannot be evicted: all of the image counts, and coldstart says why.
        check(r["image_read_bytes"] >= rep["targets"][0]["oci_image"]["unpacked_bytes"],
              f"tmpfs cache: the whole image is in memory: {r['image_read_bytes']}")
        continue
    # Cache cold: only what start-up read is in the page cache; busybox is not.
    check(0 < r["image_read_bytes"] < rep["targets"][0]["oci_image"]["unpacked_bytes"],
          f"--cache cold reads part of the image: {r['image_read_bytes']}")
    check(not any(f["path"] == "/bin/busybox" for f in r["image_read_top"]),
          f"the server never reads busybox: {r['image_read_top']}")
    check(any(f["path"] == "/bin/busybox" for f in r["image_unread_top"]),
          f"busybox is among the files start-up never read: {r['image_unread_top']}")
if not IN_MEMORY:
    with open(cold_html) as f:
        page = f.read()
    check("Not in the page cache at ready" in page and "/bin/busybox" in page,
          "HTML: the largest files start-up never read")
check(("be evicted" in p.stderr) == IN_MEMORY,
      f"the tmpfs warning exactly when the cache is on tmpfs ({IN_MEMORY}): {p.stderr[-300:]}")
check(os.listdir(os.path.join(cache, "cold")) == [],
      f"fresh extractions left: {os.listdir(os.path.join(cache, 'cold'))}")

# ---- bad input: exit 2 with a message naming the problem ----
bad = [
    (["--image", "oci:" + os.path.join(work, "missing")], "missing"),
    (["--image", layout, "--extract", "lukewarm"], "--extract lukewarm"),
    (["--image", layout, "--runtime", "kata"], "--runtime kata"),
    (["--entrypoint", "/bin/sh", "--", "true"], "--entrypoint"),
    (["--image", "oci:" + os.path.join(work, "img") + ":nope"], "nope"),
    (["--image", layout, "--image-cache", "relative/dir"], "--image-cache"),
    (["--image", layout, "--variant", "x"], "--variant"),
]
for args, needle in bad:
    p = coldstart("run", "-q", *args)
    check(p.returncode == 2 and needle in p.stderr,
          f"{args}: exit 2 naming `{needle}`, got {p.returncode}: {p.stderr.strip()[-300:]}")
# A fixed --port that the host already listens on does not concern a
# container in its own network namespace (the default): it runs.
holder = socket.socket()
holder.bind(("127.0.0.1", 8080))
holder.listen(1)
p, rep = image_run("-n", "1", "--port", "8080")
holder.close()
check(p.returncode == 0, f"--port 8080 taken on the host, container on its own loopback: "
                         f"exit {p.returncode}: {p.stderr.strip()[-300:]}")
# Not root: said at once (no rootless containers), exit 2.
if shutil.which("setpriv"):
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", COLDSTART,
                        "run", "-q", "--image", layout], capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and "needs root" in p.stderr,
          f"as nobody: exit 2 saying root is needed: {p.returncode} {p.stderr.strip()[-300:]}")
else:
    check(False, "setpriv (util-linux) is missing")
# A corrupted blob: exit 2 naming the blob (a fresh cache, so it is read).
corrupt = os.path.join(work, "corrupt")
shutil.copytree(os.path.join(work, "img"), corrupt, symlinks=True)
blobs = os.path.join(corrupt, "blobs", "sha256")
biggest = max(os.listdir(blobs), key=lambda n: os.path.getsize(os.path.join(blobs, n)))
with open(os.path.join(blobs, biggest), "r+b") as f:
    f.seek(100)
    f.write(b"\0corrupt\0")
p = coldstart("run", "-q", "--image", "oci:" + corrupt + ":v1", "--image-cache",
              os.path.join(cache, "second"))
check(p.returncode == 2 and biggest[:12] in p.stderr,
      f"corrupt layer: exit 2 naming the blob: {p.returncode} {p.stderr.strip()[-300:]}")

# An entrypoint the image does not have: the run fails (exit 1), saying so.
p, rep = image_run("-n", "1", "--entrypoint", "/no/such/binary")
check(p.returncode == 1, f"missing entrypoint: exit 1, got {p.returncode}")
rep = require_report(rep, p, "missing entrypoint")
err = measured(rep)[0].get("error") or ""
check("/no/such/binary" in err, f"the error names the entrypoint: {err}")

# ---- Ctrl-C mid-run: report written, nothing left (processes, cgroups,
# fresh extractions, mounts) ----
out = os.path.join(work, "int.json")
proc = subprocess.Popen([COLDSTART, "run", "-q", "-n", "3", "-w", "0", "--json", out,
                         "--image", layout, *COMMON[:2], "--extract", "cold", "--ready", "log:never"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(1.0)
proc.send_signal(signal.SIGINT)
stdout, stderr = proc.communicate(timeout=60)
check(proc.returncode == 130, f"SIGINT: exit 130, got {proc.returncode}: {stderr[-400:]}")
if check(os.path.exists(out), "report written after SIGINT"):
    with open(out) as f:
        validate_report(json.load(f), "report after SIGINT")
check(os.listdir(os.path.join(cache, "cold")) == [], "no fresh extraction left after SIGINT")
servers = [pid for pid in os.listdir("/proc") if pid.isdigit() and
           os.path.exists(f"/proc/{pid}/exe") and
           os.path.basename(os.path.realpath(f"/proc/{pid}/exe")) == "server"]
check(not servers, f"no container process left: {servers}")
check(not mounts_of(cache), f"no mount left: {mounts_of(cache)}")

# ---- Ctrl-C while the image's layers are extracted (before any run): the
# unpacking child dies, its half-extracted folder is removed, exit 130 ----
big = os.path.join(work, "big")
subprocess.run(["sh", "-ec", f"""umoci init --layout {big}; umoci new --image {big}:v1
umoci unpack --image {big}:v1 {work}/bb >/dev/null
for i in 1 2; do mkdir -p {work}/bb/rootfs/copy$i; cp -a /usr/lib/python3* {work}/bb/rootfs/copy$i/; done
umoci repack --image {big}:v1 {work}/bb
umoci config --image {big}:v1 --config.entrypoint /bin/true"""], check=True, capture_output=True)
big_cache = os.path.join(cache, "big")
layers_dir = os.path.join(big_cache, "layers", "sha256")
proc = subprocess.Popen([COLDSTART, "run", "-q", "-n", "1", "--image", f"oci:{big}:v1",
                         "--image-cache", big_cache, "--ready", "exit"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
deadline = time.monotonic() + 30
while time.monotonic() < deadline and not (
        os.path.isdir(layers_dir) and any(n.startswith(".tmp-") for n in os.listdir(layers_dir))):
    time.sleep(0.005)
check(proc.poll() is None, "the big layer was still being extracted when interrupted")
proc.send_signal(signal.SIGINT)
_, stderr = proc.communicate(timeout=60)
check(proc.returncode == 130 and "interrupted" in stderr,
      f"SIGINT during extraction: exit 130, got {proc.returncode}: {stderr.strip()[-300:]}")
left = [n for n in os.listdir(layers_dir) if not n.endswith(".lock")] if os.path.isdir(layers_dir) else []
check(not left, f"the interrupted layer is not in the cache, not even half: {left}")
unpacked = [n for n in os.listdir(tempfile.gettempdir()) if n.startswith("coldstart-image-")]
check(not unpacked, f"no unpacked archive left: {unpacked}")

shutil.rmtree(work, ignore_errors=True)
shutil.rmtree(cache, ignore_errors=True)
finish()
