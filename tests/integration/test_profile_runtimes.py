"""--profile cpu on the runtimes the suite compares: a profile of dotnet-jit
shows the runtime's start-up and the JIT before listen and the ASP.NET
pipeline's first-request compilation after it, with named managed frames
(.NET's perf map asked for at ready over its diagnostics port); with
--profile-maps Node's JavaScript frames are named (V8's perf map), and
nothing it wrote is left (its perf map in /tmp, its v8.log in its folder)."""
import glob
import shutil

from harness import *

require_root()
if not shutil.which("dotnet") or not shutil.which("node"):
    check(False, "dotnet and node are part of this machine's image: the runtimes' profiles "
                 "must run")
    finish()
env = dict(os.environ, COLDSTART_IMAGES=os.path.join(SOURCE_DIR, "images"))
maps_before = set(glob.glob("/tmp/perf-*.map") + glob.glob("/tmp/perfinfo-*.map"))
logs_before = set(glob.glob(os.path.join(SOURCE_DIR, "images", "*", "isolate-*-v8.log")))


def stacks_of(path):
    st = {}
    for line in open(path):
        s, n = line.rstrip("\n").rsplit(" ", 1)
        st[s] = st.get(s, 0) + int(n)
    return st


with tempfile.TemporaryDirectory() as d:
    p = coldstart("suite", "-q", "-n", "2", "-w", "1", "--profile", "cpu", "--profile-maps",
                  "--json", os.path.join(d, "r.json"), "dotnet-jit", "node-http", env=env, cwd=d,
                  timeout=900)
    check(p.returncode == 0, f"suite --profile: exit {p.returncode} {p.stderr[-600:]}")
    dotnet = os.path.join(d, "coldstart-profile", "dotnet-jit.folded")
    node = os.path.join(d, "coldstart-profile", "node-http.folded")
    if os.path.exists(dotnet):
        st = stacks_of(dotnet)
        before = [s for s in st if s.startswith("[exec-listen];")]
        after = [s for s in st if s.startswith("[listen-ready];")]
        check(any("coreclr_execute_assembly" in s.split(";") for s in before),
              "dotnet-jit [exec-listen]: the host starting the runtime (coreclr_execute_assembly)")
        check(sum(st[s] for s in before if "[libclrjit.so]" in s.split(";")) >= 10,
              "dotnet-jit [exec-listen]: the JIT (libclrjit.so) at work")
        check(any("Program::<Main>$" in s for s in before),
              "dotnet-jit [exec-listen]: the app's Main, named from the perf map")
        first_request = [s for s in after if "AspNetCore" in s and "[libclrjit.so]" in s]
        check(sum(st[s] for s in first_request) >= 10,
              f"dotnet-jit [listen-ready]: the ASP.NET pipeline compiling its first request "
              f"({sum(st[s] for s in first_request)} samples)")
        managed = {f for s in after for f in s.split(";") if f.endswith("_[j]") and "[System." in f}
        check(len(managed) >= 5, f"dotnet-jit [listen-ready]: named managed frames: {len(managed)}")
    else:
        check(False, f"no {dotnet}")
    if os.path.exists(node):
        st = stacks_of(node)
        js = {f for s in st for f in s.split(";") if f.startswith("JS:") and f.endswith("_[j]")}
        check(any("node:internal" in f for f in js),
              f"node-http: JavaScript frames named ({len(js)} distinct)")
        check(any("v8::internal::" in s for s in st), "node-http: V8's own C++ frames named")
    else:
        check(False, f"no {node}")
    out = p.stdout
    check("dotnet-jit:\n  CPU profile:" in out and "node-http:\n  CPU profile:" in out,
          f"suite prints each target's profile: {out[-600:]}")

maps_after = set(glob.glob("/tmp/perf-*.map") + glob.glob("/tmp/perfinfo-*.map"))
check(maps_after <= maps_before, f"no perf map left in /tmp: {sorted(maps_after - maps_before)}")
logs_after = set(glob.glob(os.path.join(SOURCE_DIR, "images", "*", "isolate-*-v8.log")))
check(logs_after <= logs_before, f"no V8 log left: {sorted(logs_after - logs_before)}")
finish()
