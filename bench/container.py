#!/usr/bin/env python3
"""Container images (issue 16): what the builtin runtime and crun add to
ready over the same static server run directly, and how fast a layer is
extracted next to bsdtar.

1. Overhead: the static fixture server (build/tests/fixture_static) as a
   one-layer image made by umoci, started by `coldstart run` three ways in
   interleaved rounds: directly (-- server serve), --image (builtin), and
   --image --runtime crun. Medians of ready, and each one's excess over
   direct. Goal: builtin +<= 2 ms at p50 (crun was measured at +12-17 ms
   with a poller elsewhere).
2. Extraction: a gzip layer of /usr/lib/python3.11 (~54 MB, ~5,000 files),
   extracted by coldstart (--extract cold: verify the digest, then unpack,
   the `extract` milestone) into a tmpfs cache, next to `bsdtar -xzf` of the
   same blob into a tmpfs folder, and `sha256sum` + bsdtar. Goal: no slower
   than bsdtar.

Usage: bench/container.py [--rounds N] [--runs N]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from common import ROOT, coldstart_json, median, require_built

FIXTURE_STATIC = os.environ.get("FIXTURE_STATIC",
                                os.path.join(ROOT, "build", "tests", "fixture_static"))


def sh(cmd, cwd):
    p = subprocess.run(["sh", "-ec", cmd], cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{cmd}\n{p.stderr}")
    return p.stdout


def ready_ms(rep):
    return [r["milestones_us"]["ready"] / 1000 for r in rep["targets"][0]["runs"]
            if not r["warmup"] and r["status"] == "ok"]


def overhead(work, rounds, runs):
    sh(f"""umoci init --layout img; umoci new --image img:v1
umoci unpack --image img:v1 b >/dev/null; mkdir -p b/rootfs/srv
cp {FIXTURE_STATIC} b/rootfs/srv/server; umoci repack --image img:v1 b
umoci config --image img:v1 --config.entrypoint /srv/server --config.cmd serve \\
  --config.exposedports 8080/tcp --config.env PORT=8080""", work)
    image = ["--image", "oci:" + os.path.join(work, "img") + ":v1",
             "--image-cache", os.path.join(work, "cache")]
    ways = {
        "direct": ["--ready", "http://127.0.0.1:{port}/", "--", FIXTURE_STATIC, "serve"],
        "builtin": image,
    }
    if shutil.which("crun"):
        ways["crun"] = image + ["--runtime", "crun"]
    got = {k: [] for k in ways}
    for _ in range(rounds):
        for name, args in ways.items():
            rep = coldstart_json("-n", str(runs), "-w", "1", "--stop-signal", "KILL", *args)
            got[name] += ready_ms(rep)
    base = median(got["direct"])
    print(f"ready of the static server, {rounds} interleaved rounds of {runs} runs each:")
    for name, v in got.items():
        extra = "" if name == "direct" else f"   +{median(v) - base:5.2f} ms over direct"
        print(f"  {name:8s} p50 {median(v):6.2f} ms (n={len(v)}){extra}")
    print("  goal: builtin adds <= 2 ms at p50")


def extraction(work, runs):
    src = "/usr/lib/python3.11"
    sh(f"""umoci init --layout big; umoci new --image big:v1
umoci unpack --image big:v1 bb >/dev/null; mkdir -p bb/rootfs/usr/lib bb/rootfs/srv
cp -a {src} bb/rootfs/usr/lib/; cp {FIXTURE_STATIC} bb/rootfs/srv/server
umoci repack --image big:v1 bb
umoci config --image big:v1 --config.entrypoint /srv/server --config.cmd exit --config.cmd 0""", work)
    blobs = os.path.join(work, "big", "blobs", "sha256")
    layer = max((os.path.join(blobs, n) for n in os.listdir(blobs)), key=os.path.getsize)
    size = os.path.getsize(layer)
    shm = tempfile.mkdtemp(prefix="coldstart-bench-", dir="/dev/shm")
    try:
        # coldstart: the extract milestone of --extract cold runs (tmpfs cache).
        rep = coldstart_json("-n", str(runs), "-w", "1", "--image",
                             "oci:" + os.path.join(work, "big") + ":v1", "--image-cache",
                             os.path.join(shm, "cache"), "--extract", "cold", "--ready", "exit")
        ours = [r["milestones_us"]["extract"] / 1000 for r in rep["targets"][0]["runs"]
                if not r["warmup"] and r["milestones_us"]["extract"] is not None]
        bsd, bsd_sha = [], []
        for _ in range(runs):
            dest = tempfile.mkdtemp(dir=shm)
            t = time.monotonic()
            subprocess.run(["bsdtar", "-xzf", layer, "-C", dest], check=True)
            bsd.append((time.monotonic() - t) * 1000)
            shutil.rmtree(dest)
            dest = tempfile.mkdtemp(dir=shm)
            t = time.monotonic()
            subprocess.run(["sha256sum", layer], check=True, capture_output=True)
            subprocess.run(["bsdtar", "-xzf", layer, "-C", dest], check=True)
            bsd_sha.append((time.monotonic() - t) * 1000)
            shutil.rmtree(dest)
    finally:
        shutil.rmtree(shm, ignore_errors=True)
    mb = size / 1e6
    print(f"extraction of a {mb:.1f} MB gzip layer ({src}) into tmpfs, {runs} runs each:")
    print(f"  coldstart (verify + unpack) p50 {median(ours):7.1f} ms  {mb / median(ours) * 1000:6.1f} MB/s")
    print(f"  bsdtar -xzf                 p50 {median(bsd):7.1f} ms  {mb / median(bsd) * 1000:6.1f} MB/s")
    print(f"  sha256sum + bsdtar -xzf     p50 {median(bsd_sha):7.1f} ms")
    print(f"  ratio coldstart / bsdtar: {median(ours) / median(bsd):.2f} "
          "(goal <= 1: no slower than bsdtar)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=10)
    a = ap.parse_args()
    require_built()
    for tool in ("umoci", "bsdtar"):
        if not shutil.which(tool):
            sys.exit(f"`{tool}` is missing (apt-get install {tool if tool != 'bsdtar' else 'libarchive-tools'})")
    work = tempfile.mkdtemp(prefix="coldstart-bench-container-")
    try:
        overhead(work, a.rounds, a.runs)
        extraction(work, max(3, a.runs // 2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
