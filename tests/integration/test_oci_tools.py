"""Container images made by other tools than the main test's umoci: buildah
(from scratch, committed as an oci-archive and as a docker-archive, in a
private storage root), skopeo recompressing layers with zstd, and `podman
save` (the buildah image loaded into podman's private storage and saved as
docker save does). Each runs through `coldstart run --image` and serves."""
import json
import os
import shutil
import subprocess
import tempfile

from harness import *
from oci_images import cache_dir

require_root()
for tool in ("buildah", "skopeo", "podman"):
    if not shutil.which(tool):
        skip(f"`{tool}` is not installed (make test installs it: apt-get install {tool})")
FIXTURE_STATIC = os.environ.get("FIXTURE_STATIC", "build/tests/fixture_static")

work = tempfile.mkdtemp(prefix="coldstart-oci-tools-")
cache = cache_dir()
# buildah's own storage, private to the test: nothing is left in the host's.
B = ["buildah", "--root", os.path.join(work, "storage"), "--runroot", os.path.join(work, "run"),
     "--storage-driver", "vfs"]


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=work)
    if p.returncode != 0:
        check(False, f"{' '.join(cmd[:6])}: {p.stderr[-500:]}")
        finish()
    return p.stdout.strip()


ctr = run(B + ["from", "scratch"])
run(B + ["copy", ctr, FIXTURE_STATIC, "/srv/server"])
run(B + ["config", "--entrypoint", '["/srv/server", "serve"]', "--port", "8080", "--env",
         "PORT=8080", "--stop-signal", "SIGKILL", ctr])
run(B + ["commit", "-q", "--format", "oci", ctr, "oci-archive:" + os.path.join(work, "b.tar") + ":v1"])
run(B + ["commit", "-q", "--format", "docker", ctr,
         "docker-archive:" + os.path.join(work, "bd.tar") + ":bah:v1"])
run(B + ["rm", ctr])
run(["skopeo", "copy", "-q", "oci-archive:" + os.path.join(work, "b.tar") + ":v1",
     "oci:" + os.path.join(work, "layout") + ":v1"])
run(["skopeo", "copy", "-q", "--dest-compress-format", "zstd",
     "oci:" + os.path.join(work, "layout") + ":v1", "oci:" + os.path.join(work, "zstd") + ":v1"])
run(["skopeo", "copy", "-q", "oci:" + os.path.join(work, "zstd") + ":v1",
     "oci-archive:" + os.path.join(work, "zstd.tar") + ":v1"])
# podman save: load buildah's archive into a private store, save it again.
P = ["podman", "--root", os.path.join(work, "pstore"), "--runroot", os.path.join(work, "prun"),
     "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none"]
loaded = run(P + ["load", "-q", "-i", os.path.join(work, "b.tar")])
name = loaded.split("Loaded image:")[-1].strip().split()[0] if "Loaded image:" in loaded else ""
check(bool(name), f"podman load names the image: {loaded!r}")
run(P + ["tag", name, "localhost/podsave:v1"])
run(P + ["save", "-q", "-o", os.path.join(work, "p.tar"), "localhost/podsave:v1"])
run(P + ["rmi", "-a", "-f"])
with open(os.path.join(work, "zstd", "index.json")) as f:
    manifest_digest = json.load(f)["manifests"][0]["digest"].split(":")[1]
with open(os.path.join(work, "zstd", "blobs", "sha256", manifest_digest)) as f:
    media = [l["mediaType"] for l in json.load(f)["layers"]]
check(all(m.endswith("+zstd") for m in media), f"skopeo wrote zstd layers: {media}")

for spec, transport in (("oci-archive:" + os.path.join(work, "b.tar") + ":v1", "oci-archive"),
                        ("docker-archive:" + os.path.join(work, "bd.tar"), "docker-archive"),
                        ("oci:" + os.path.join(work, "zstd") + ":v1", "oci"),
                        ("oci-archive:" + os.path.join(work, "zstd.tar") + ":v1", "oci-archive"),
                        ("docker-archive:" + os.path.join(work, "p.tar") + ":localhost/podsave:v1",
                         "docker-archive")):
    p, rep = run_json("--image", spec, "--image-cache", cache, "-n", "2", "-w", "0")
    check(p.returncode == 0, f"{spec}: exit {p.returncode}: {p.stderr[-600:]}")
    rep = require_report(rep, p, spec)
    t = rep["targets"][0]
    check(t["oci_image"]["transport"] == transport and t["ready"] == "http://127.0.0.1:8080/",
          f"{spec}: {t['oci_image']} {t['ready']}")
    for r in measured(rep):
        check(r["status"] == "ok" and r["milestones_us"]["rootfs"] is not None,
              f"{spec}: {r['status']} {r.get('error')}")
        # The image's StopSignal (SIGKILL): no 2 s wait for a PID 1 without a
        # SIGTERM handler.
        check(r["stop_us"] is not None and r["stop_us"] < 1000000, f"{spec}: stop {r['stop_us']}")

shutil.rmtree(work, ignore_errors=True)
shutil.rmtree(cache, ignore_errors=True)
finish()
