"""`coldstart images build --oci` and `suite --oci` (issue 16): bundled
images packed as OCI images by images/shared/oci-pack (umoci): native-c on
scratch (its binary and the libraries ldd lists), node-http on a Debian
minbase made by debootstrap (kept in the image cache, made once per cache),
then run through `run --image` and `suite --oci`."""
import json
import os
import shutil
import subprocess
import tempfile

from harness import *
from oci_images import cache_dir, fs_type

require_root()
for tool in ("umoci", "debootstrap", "cc", "node"):
    if not shutil.which(tool):
        skip(f"`{tool}` is not installed (make test installs umoci and debootstrap)")

work = tempfile.mkdtemp(prefix="coldstart-oci-pack-")
# native-c in a cache of its own; node-http in the default cache, where the
# Debian base is made once (debootstrap downloads ~40 MB) and then kept.
env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "xdg"))

p = coldstart("images", "build", "--oci", "native-c", env=env, timeout=600)
check(p.returncode == 0, f"images build --oci native-c: exit {p.returncode}: {p.stderr[-800:]}")
layout = os.path.join(work, "xdg", "coldstart", "images", "native-c")
spec = f"oci:{layout}:latest"
check(spec in p.stdout, f"the packed image is named: {p.stdout[-400:]}")
check(os.path.exists(os.path.join(layout, "index.json")), "native-c: an OCI layout")
p = coldstart("images", "build", "--oci", "native-c", env=env)
check(p.returncode == 0 and "OCI image up to date" in p.stdout, f"second pack: {p.stdout[-300:]}")

p, rep = run_json("--image", spec, "--image-cache", os.path.join(work, "cache"), "-n", "2", "-w",
                  "0", "--stop-signal", "KILL")
check(p.returncode == 0, f"run the packed native-c: exit {p.returncode}: {p.stderr[-600:]}")
rep = require_report(rep, p, "packed native-c")
img = rep["targets"][0]["oci_image"]
check(img["layers"] == 2 and img["files"] >= 3, f"scratch image: runtime libs and app: {img}")
check(all(r["status"] == "ok" for r in measured(rep)), "packed native-c serves")
check(rep["targets"][0]["deploy_size_bytes"] == img["unpacked_bytes"],
      f"a container image deploys whole: {rep['targets'][0]['deploy_size_bytes']} vs {img}")

# A self-contained .NET app (dotnet-r2r-composite) carries its runtime: packed
# on scratch like a native binary, with what its .so files link (libstdc++),
# not on Debian with the host's shared framework.
if not shutil.which("dotnet"):
    check(False, "dotnet is not installed: dotnet-r2r-composite as an OCI image")
else:
    p = coldstart("images", "build", "--oci", "dotnet-r2r-composite", env=env, timeout=900)
    check(p.returncode == 0, f"images build --oci dotnet-r2r-composite: {p.stderr[-800:]}")
    comp = os.path.join(work, "xdg", "coldstart", "images", "dotnet-r2r-composite")
    p, rep = run_json("--image", f"oci:{comp}:latest", "--image-cache", os.path.join(work, "cache"),
                      "-n", "1", "-w", "0")
    check(p.returncode == 0, f"run the packed dotnet-r2r-composite: {p.stderr[-600:]}")
    rep = require_report(rep, p, "packed dotnet-r2r-composite")
    img = rep["targets"][0]["oci_image"]
    check(img["layers"] == 2 and img["files"] < 1000,
          f"dotnet-r2r-composite on scratch (its libraries and the app), no shared framework: {img}")
    check(all(r["status"] == "ok" for r in measured(rep)), "packed dotnet-r2r-composite serves")

# suite --oci: the catalog's images as container images, beside nothing else.
out = os.path.join(work, "suite.json")
md = os.path.join(work, "suite.md")
p = coldstart("suite", "-q", "--oci", "native-c", "node-http", "-n", "2", "-w", "0",
              "--stop-timeout", "300ms", "--json", out, "--md", md, timeout=900)
check(p.returncode == 0, f"suite --oci: exit {p.returncode}: {p.stderr[-800:]}")
if check(os.path.exists(out), "suite --oci wrote its report"):
    with open(out) as f:
        rep = json.load(f)
    names = [t["name"] for t in rep["targets"]]
    check(names == ["native-c", "node-http"], f"suite --oci targets named as the images: {names}")
    for t in rep["targets"]:
        check(t.get("oci_image") and t["oci_image"]["transport"] == "oci",
              f"{t['name']}: oci_image {t.get('oci_image')}")
        check(all(r["status"] == "ok" and r["milestones_us"]["rootfs"] for r in measured(rep, rep["targets"].index(t))),
              f"{t['name']}: ok runs with a rootfs milestone")
    node = rep["targets"][1]["oci_image"]
    check(node["layers"] == 3 and node["files"] > 1000,
          f"node-http: Debian base, runtime, app: {node}")
    with open(md) as f:
        text = f.read()
    check("rootfs p50" in text and "image packed/unpacked" in text, "suite --oci Markdown columns")

# nginx (software nobody here wrote) as a container on the same Debian base,
# with its own StopSignal (SIGQUIT: graceful), through builtin and crun.
base = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                    "coldstart", "base", "bookworm-minbase")
if not shutil.which("nginx"):
    check(False, "nginx is not installed (make test installs nginx-light)")
else:
    ngx = os.path.join(work, "nginx")
    conf = ("user www-data; worker_processes 1; pid /run/nginx.pid; error_log stderr;"
            " events { worker_connections 64; }"
            " http { access_log off; server { listen 8080; location / { return 200 ok; } } }")
    subprocess.run(["sh", "-ec", f"""cp -a {base} {ngx}; umoci tag --image {ngx}:minbase v1
umoci unpack --image {ngx}:v1 {work}/nb >/dev/null; R={work}/nb/rootfs
for f in /usr/sbin/nginx $(ldd /usr/sbin/nginx | awk '/=> \\//{{print $3}}'); do
  cp -a --parents $f $R/; cp -a --parents $(readlink -f $f) $R/; done
cp -a --parents /etc/nginx /usr/share/nginx $R/; mkdir -p $R/var/log/nginx $R/var/lib/nginx
echo '{conf}' > $R/etc/nginx/nginx.conf
umoci repack --image {ngx}:v1 {work}/nb; umoci rm --image {ngx}:minbase
umoci config --image {ngx}:v1 --config.entrypoint /usr/sbin/nginx --config.cmd=-g \
  --config.cmd='daemon off;' --config.exposedports 8080/tcp --config.stopsignal SIGQUIT"""],
                   check=True, capture_output=True)
    ngx_cache = cache_dir()
    in_memory = fs_type(ngx_cache) in ("tmpfs", "overlay")
    for runtime in ("builtin", "crun"):
        if runtime == "crun" and not shutil.which("crun"):
            check(False, "crun is not installed (make test installs it)")
            continue
        p, rep = run_json("--image", f"oci:{ngx}:v1", "--image-cache", ngx_cache,
                          "-n", "2", "-w", "0", "--cache", "cold", "--runtime", runtime)
        # A cache in memory (the v2 guest has no disk for it) cannot be cold: said.
        check(("be evicted" in p.stderr) == in_memory, f"nginx: the in-memory cache warning "
                                                        f"exactly when it is ({in_memory})")
        check(p.returncode == 0, f"nginx ({runtime}): exit {p.returncode}: {p.stderr[-600:]}")
        rep = require_report(rep, p, f"nginx {runtime}")
        for r in measured(rep):
            check(r["status"] == "ok" and r["processes_ready"] == (2 if runtime == "builtin" else 3),
                  f"nginx ({runtime}): master and worker ready: {r['status']} "
                  f"{r['processes_ready']} {r.get('error')}")
            # SIGQUIT, nginx's graceful stop: it exits by itself, no kill after 2 s.
            check(r["stop_us"] is not None and r["stop_us"] < 1000000,
                  f"nginx ({runtime}): stopped by its StopSignal: {r['stop_us']}")
            check(in_memory or any(f["path"] == "/usr/sbin/nginx" for f in r["image_read_top"]),
                  f"nginx ({runtime}): its binary was read: {r['image_read_top']}")
            check(in_memory or any(f["path"].startswith("/usr/bin/perl")
                                   for f in r["image_unread_top"]),
                  f"nginx ({runtime}): perl, in the base, was not: {r['image_unread_top']}")

# Bad input.
p = coldstart("images", "build", "--bogus")
check(p.returncode == 2 and "--bogus" in p.stderr, f"images build --bogus: {p.returncode} {p.stderr}")
p = coldstart("suite", "--oci", "--variant", "server-gc", "-n", "1")
check(p.returncode == 2 and "--variant" in p.stderr, f"suite --oci --variant: {p.stderr.strip()}")

shutil.rmtree(work, ignore_errors=True)
if shutil.which("nginx"):
    shutil.rmtree(ngx_cache, ignore_errors=True)
finish()
