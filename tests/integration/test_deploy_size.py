"""deploy_size_bytes (issue 20): what deploys with a target — its app plus
every file it maps at ready, a .NET shared framework folder or a Python
standard library counted whole (without site-packages, dist-packages, test and
config-*), a container image as unpacked — beside the app-only size."""
import shutil

from harness import *

require_root()
GiB = 1 << 30


def sparse(path, size):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(size)


def mapped_total(rep):
    """The bytes of what the measured runs mapped (the report lists each run's
    ten largest files: enough for the fixture, which maps three)."""
    files = {}
    for r in measured(rep):
        for m in r["mapped"]:
            files[m["path"]] = m["bytes"]
    return sum(files.values()), files


# A native command: no app folder, so deploy = its binary and libraries.
p, rep = run_json("-n", "2", "-w", "0", "--ready", "http://127.0.0.1:{port}/", "--", FIXTURE, "serve")
rep = require_report(rep, p, "fixture")
t = rep["targets"][0]
total, files = mapped_total(rep)
check(any(f.endswith("/fixture") for f in files) and any("libc.so" in f for f in files),
      f"fixture's mapped files: {sorted(files)}")
check(t["size_on_disk_bytes"] is None and t["deploy_size_bytes"] == total,
      f"a command deploys what it maps: {t['deploy_size_bytes']} vs {total} ({files})")

# Runtime folders counted whole: a fake .NET root and a fake Python standard
# library, each with one file the target maps and sparse files it does not.
with tempfile.TemporaryDirectory() as d:
    dn = os.path.join(d, "dotnet")
    os.makedirs(os.path.join(dn, "host", "fxr", "1.0.0"))
    fw = os.path.join(dn, "shared", "Fake.App", "1.0.0")
    os.makedirs(fw)
    shutil.copy("/usr/lib/x86_64-linux-gnu/libc.so.6", os.path.join(fw, "libfake.so"))
    sparse(os.path.join(fw, "Fake.Unloaded.dll"), GiB)          # counted: the framework deploys whole
    sparse(os.path.join(dn, "shared", "Fake.App", "2.0.0", "x.dll"), 8 * GiB)  # another version
    py = os.path.join(d, "py", "lib", "python3.99")
    os.makedirs(os.path.join(py, "lib-dynload"))
    shutil.copy("/usr/lib/x86_64-linux-gnu/libc.so.6", os.path.join(py, "lib-dynload", "_fake.so"))
    sparse(os.path.join(py, "json", "decoder.py"), GiB)          # counted: read, not mapped
    for left_out in ("site-packages", "dist-packages", "test", "config-3.99-x86_64-linux-gnu"):
        sparse(os.path.join(py, left_out, "big"), 8 * GiB)
    # A package's native module the target maps counts, left-out folder or not.
    native = os.path.join(py, "site-packages", "pkg", "_native.so")
    sparse(native, GiB)
    # And a .NET-like folder without host/fxr beside it: not a framework.
    other = os.path.join(d, "other", "shared", "X", "1")
    os.makedirs(other)
    shutil.copy("/usr/lib/x86_64-linux-gnu/libc.so.6", os.path.join(other, "liby.so"))
    sparse(os.path.join(other, "unmapped"), 8 * GiB)
    server = os.path.join(d, "server.py")
    with open(server, "w") as f:
        f.write(f"""import mmap, os, socket, time
maps = []
for path in {[os.path.join(fw, 'libfake.so'), os.path.join(py, 'lib-dynload', '_fake.so'),
              os.path.join(other, 'liby.so'), native]!r}:
    with open(path, 'rb') as f:
        maps.append(mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(os.environ['PORT'])))
s.listen()
time.sleep(60)
""")
    p, rep = run_json("-n", "1", "-w", "0", "--ready", "tcp://127.0.0.1:{port}", "--requests", "0",
                      "--", "python3", server)
    rep = require_report(rep, p, "fake runtimes")
    t = rep["targets"][0]
    dep = t["deploy_size_bytes"]
    check(measured(rep)[0]["status"] == "ok", f"fake runtimes: {measured(rep)[0].get('error')}")
    # 1 GiB of the framework version + 1 GiB of the standard library + the
    # mapped 1 GiB module in site-packages + the real python3, its libraries
    # and standard library (well under 1 GiB); any folder wrongly counted
    # would add 8 GiB.
    check(dep is not None and 3 * GiB <= dep < 4 * GiB,
          f"fake runtimes: deploy {dep} bytes, want the framework's and the library's "
          "unmapped GiB each, the mapped module, and nothing else of the left-out folders")

# An image: its app (size on disk) and, above it, the runtime it loads.
IMAGES = os.path.join(SOURCE_DIR, "images")
if not shutil.which("node"):
    check(False, "node is missing (make test installs it): node-http's deploy size")
else:
    p, rep = run_json("-n", "1", "-w", "0", "--image", os.path.join(IMAGES, "node-http"))
    rep = require_report(rep, p, "node-http")
    t = rep["targets"][0]
    node = os.path.getsize(os.path.realpath(shutil.which("node")))
    check(t["size_on_disk_bytes"] and t["deploy_size_bytes"] and
          t["deploy_size_bytes"] >= t["size_on_disk_bytes"] + node,
          f"node-http: deploy {t['deploy_size_bytes']} >= app {t['size_on_disk_bytes']} + node {node}")

# A target that never becomes ready has no deploy size (nothing was mapped at ready).
p, rep = run_json("-n", "1", "-w", "0", "--timeout", "1s", "--max-failures", "1", "--", FIXTURE,
                  "never-ready")
rep = require_report(rep, p, "never ready")
check(rep["targets"][0]["deploy_size_bytes"] is None,
      f"never ready: deploy {rep['targets'][0]['deploy_size_bytes']}")

# The suite's table has both columns.
with tempfile.TemporaryDirectory() as d:
    p = coldstart("suite", "-q", "-n", "1", "-w", "0", "--md", os.path.join(d, "r.md"), "native-c",
                  env=dict(os.environ, COLDSTART_IMAGES=IMAGES), timeout=300)
    check(p.returncode == 0, f"suite native-c: {p.returncode} {p.stderr[-500:]}")
    check("app size" in p.stdout and "deploy size" in p.stdout, f"suite table: {p.stdout}")
    md = open(os.path.join(d, "r.md")).read() if os.path.exists(os.path.join(d, "r.md")) else ""
    check("| deploy size |" in md or "deploy size |" in md, f"markdown table: {md[:800]}")

check_no_leftovers("deploy size")
finish()
