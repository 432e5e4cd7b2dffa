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
# Independently: the files a fixture started here maps, from its own
# /proc/PID/maps, their sizes from stat.
port = free_port()
own = subprocess.Popen([FIXTURE, "serve"], env=dict(os.environ, PORT=str(port)))
try:
    import socket
    import time
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.01)
    with open(f"/proc/{own.pid}/maps") as f:
        paths = {l.split(None, 5)[5].strip() for l in f if len(l.split(None, 5)) == 6}
finally:
    own.kill()
    own.wait()
paths = {os.path.realpath(p) for p in paths if p.startswith("/") and os.path.isfile(p)}
expected = sum(os.stat(p).st_size for p in paths)
check(t["deploy_size_bytes"] == expected,
      f"deploy size {t['deploy_size_bytes']} is the fixture's own mapped files, {expected} "
      f"({sorted(paths)})")

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
    p = coldstart("suite", "-q", "-n", "1", "-w", "0", "--md", os.path.join(d, "r.md"),
                  "--json", os.path.join(d, "r.json"), "native-c",
                  env=dict(os.environ, COLDSTART_IMAGES=IMAGES), timeout=300)
    check(p.returncode == 0, f"suite native-c: {p.returncode} {p.stderr[-500:]}")
    check("app size" in p.stdout and "deploy size" in p.stdout, f"suite table: {p.stdout}")
    suite = require_report(json.load(open(os.path.join(d, "r.json"))) if os.path.exists(
        os.path.join(d, "r.json")) else None, p, "suite --json")
    deploy_mib = suite["targets"][0]["deploy_size_bytes"] / 1048576
    md = open(os.path.join(d, "r.md")).read() if os.path.exists(os.path.join(d, "r.md")) else ""
    rows = [[c.strip() for c in l.strip().strip("|").split("|")] for l in md.splitlines()
            if l.startswith("|")]
    header = next((r for r in rows if "deploy size" in r), None)
    row = next((r for r in rows if r and r[0].startswith("native-c")), None)
    check(header and row, f"markdown table with a native-c row: {md[:800]}")
    if header and row:
        cell = row[header.index("deploy size")]
        import re
        m = re.match(r"([0-9.]+) MiB", cell)
        check(m and abs(float(m.group(1)) - deploy_mib) < 0.01 * deploy_mib + 0.01,
              f"the row's deploy size `{cell}` is the report's {deploy_mib:.2f} MiB")

check_no_leftovers("deploy size")
finish()
