"""The image catalog: list, build (a failing fake image included), and every
bundled image whose toolchain is present serving its three endpoints."""
import shutil
import socket
import time
import urllib.request

from harness import *

require_root()
IMAGES = os.path.join(SOURCE_DIR, "images")
env = dict(os.environ, COLDSTART_IMAGES=IMAGES)

# A catalog with a fake image whose build fails: exit 1 and the log's tail.
with tempfile.TemporaryDirectory() as d:
    os.mkdir(os.path.join(d, "broken"))
    with open(os.path.join(d, "broken", "image.json"), "w") as f:
        json.dump({"name": "broken", "runtime": "native", "command": ["./out/x"],
                   "build": ["sh", "-c", "echo compiling; echo 'error: no such thing' >&2; exit 3"]}, f)
    os.mkdir(os.path.join(d, "needs-tool"))
    with open(os.path.join(d, "needs-tool", "image.json"), "w") as f:
        json.dump({"name": "needs-tool", "runtime": "x", "requires": ["no-such-compiler-xyz"],
                   "build": ["no-such-compiler-xyz"], "command": ["x"]}, f)
    os.mkdir(os.path.join(d, "shared"))  # no image.json: not an image
    fenv = dict(os.environ, COLDSTART_IMAGES=d)
    p = coldstart("images", "build", env=fenv)
    check(p.returncode == 1, f"failing build: exit {p.returncode}")
    check("error: no such thing" in p.stderr and "exit code 3" in p.stderr,
          f"build log tail: {p.stderr}")
    check("needs-tool" in p.stdout and "no-such-compiler-xyz" in p.stdout and "skipped" in p.stdout,
          f"missing toolchain skipped: {p.stdout}")
    p = coldstart("images", "list", env=fenv)
    check(p.returncode == 0 and "broken" in p.stdout and "shared" not in p.stdout, p.stdout)
    p = coldstart("images", "build", "nonexistent", env=fenv)
    check(p.returncode == 2, "unknown image name: exit 2")
    # A bad manifest: exit 2 naming the file and key.
    with open(os.path.join(d, "broken", "image.json"), "w") as f:
        f.write('{"name": "broken", "runtime": "native", "command": ["x"], "colour": "red"}')
    p = coldstart("images", "list", env=fenv)
    check(p.returncode == 2 and "image.json" in p.stderr and "colour" in p.stderr, p.stderr)
    p = coldstart("run", "--image", os.path.join(d, "broken"), env=fenv)
    check(p.returncode == 2 and "colour" in p.stderr, f"run --image bad manifest: {p.stderr}")

p = coldstart("images", "list", env=env)
check(p.returncode == 0, f"images list: {p.stderr}")
listing = p.stdout
for name in ("native-c", "node-http", "node-express", "node-snapshot", "dotnet-jit", "dotnet-r2r",
             "dotnet-r2r-composite", "dotnet-aot", "python-http", "java-http", "java-cds"):
    check(name in listing, f"{name} listed")




def endpoints(img_dir, manifest):
    """Starts the built image directly and checks /, /json and /health."""
    port = free_port()
    penv = dict(os.environ, PORT=str(port))
    for k, v in manifest.get("env", {}).items():
        penv[k] = v.replace("{port}", str(port))
    proc = subprocess.Popen(manifest["command"], cwd=img_dir, env=penv,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        got = {}
        for path in ("/", "/json", "/health"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
                got[path] = (r.status, r.read())
        check(got["/"] == (200, b"ok"), f"{manifest['name']} GET /: {got['/']}")
        check(got["/json"][0] == 200 and json.loads(got["/json"][1]) == {"message": "Hello, World!"},
              f"{manifest['name']} GET /json: {got['/json']}")
        check(got["/health"][0] == 200, f"{manifest['name']} GET /health: {got['/health']}")
    except Exception as e:
        check(False, f"{manifest['name']} endpoints: {e}")
    finally:
        proc.kill()
        out = proc.communicate()[0]
    requests_logged = out.decode(errors="replace").count("GET /")
    check(requests_logged == 0, f"{manifest['name']} logs per request: {out[-300:]!r}")


skipped = []
for name in sorted(os.listdir(IMAGES)):
    img_dir = os.path.join(IMAGES, name)
    mpath = os.path.join(img_dir, "image.json")
    if not os.path.exists(mpath):
        continue
    manifest = json.load(open(mpath))
    missing = [t for t in manifest.get("requires", []) if not shutil.which(t)]
    if missing:
        skipped.append(f"{name} (needs {', '.join(missing)})")
        continue
    p = coldstart("images", "build", name, env=env, timeout=900)
    if not check(p.returncode == 0, f"build {name}: {p.stdout} {p.stderr}"):
        continue
    endpoints(img_dir, manifest)
    p, rep = run_json("-n", "2", "-w", "0", "--requests", "3", "--image", img_dir, timeout=300)
    check(p.returncode == 0, f"run --image {name}: {p.returncode} {p.stdout} {p.stderr}")
    if require_report(rep):
        t = rep["targets"][0]
        check(t["image"] == name and t["name"] == name, f"{name}: target name/image")
        check(t["size_on_disk_bytes"] and t["size_on_disk_bytes"] > 0, f"{name}: size on disk")
        # What deploys: the app and the runtime it loads (a framework-dependent
        # .NET app: its shared framework, tens of MiB).
        dep = t["deploy_size_bytes"]
        check(dep and dep > t["size_on_disk_bytes"], f"{name}: deploy size {dep} > app size")
        if name in ("dotnet-jit", "dotnet-r2r"):
            check(dep > 50 * 2**20, f"{name}: deploy size {dep} counts the shared framework")
        for r in measured(rep):
            check(r["status"] == "ok", f"{name}: {r['status']} {r.get('error')}")
            check(not r["denied_syscalls"], f"{name}: default seccomp denied {r['denied_syscalls']}")
    for variant in manifest.get("variants", {}):
        p, rep = run_json("-n", "1", "-w", "0", "--image", img_dir, "--variant", variant,
                          timeout=300)
        check(p.returncode == 0, f"{name}:{variant}: {p.stdout} {p.stderr}")
        if require_report(rep):
            check(rep["targets"][0]["name"] == f"{name}:{variant}", "variant in the target name")

p = coldstart("run", "--image", os.path.join(IMAGES, "node-http"), "--variant", "nope")
check(p.returncode == 2 and "no variant `nope`" in p.stderr, f"unknown variant: {p.stderr}")
if skipped:
    print("images skipped for a missing toolchain: " + "; ".join(skipped))
if len(skipped) == len(os.listdir(IMAGES)) and not failures:
    skip("every image was skipped: " + "; ".join(skipped))
finish()
