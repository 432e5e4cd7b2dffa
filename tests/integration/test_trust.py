"""Issue 13: numbers that hold on real multi-process servers, readiness that
only the target can give, runs that fail fast and say why, and a host that
no target or report path can damage. Each block fails without its fix."""
import shutil
import signal
import socket
import threading
import time
import http.server

from harness import *

require_root()
F = FIXTURE
READY = "http://127.0.0.1:{port}/"




def runs(rep):
    return measured(require_report(rep))


# 1. Processes forked after start-up are counted at ready.
p, rep = run_json("-n", "2", "-w", "0", "--ready", READY, "--", F, "alloc", "8", "fork", "3", "serve")
rep = require_report(rep, p, "forking server")
for r in runs(rep):
    check(r["status"] == "ok", f"forking server: {r['status']} {r.get('error')}")
    check(r["processes_ready"] == 4, f"processes_ready is 4 (main + 3 forks): {r['processes_ready']}")
    check(r["rss_ready_bytes"] >= 4 * 8 * 1048576 * 0.9,
          f"RSS at ready counts all 4 processes (4 x 8 MiB): {r['rss_ready_bytes']}")
    check(r["threads_ready"] >= 4, f"threads_ready >= 4: {r['threads_ready']}")
    check(r["stop_us"] is not None and r["stop_us"] < 1000000,
          f"stopped with SIGTERM at once: stop_us {r['stop_us']}")
term = coldstart("run", "-n", "1", "-w", "0", "--ready", READY, "--", F, "fork", "2", "serve")
check("processes" in term.stdout, "the terminal table shows the processes at ready")

# 1b. nginx (master + 2 workers), gunicorn -w 2: real multi-process servers.
# make test installs them (and PostgreSQL): missing, their blocks fail.
check(shutil.which("nginx"), "nginx is missing (make test installs nginx-light)")
if shutil.which("nginx"):
    with tempfile.TemporaryDirectory() as d:
        port = free_port()
        conf = nginx_conf(d, port, locations="location / { return 200 ok; }\n"
                                             "           location /moved { return 301 /; }")
        p, rep = run_json("-n", "2", "-w", "0", "--port", str(port), "--ready", READY,
                          "--requests", "3", "--", "nginx", "-c", conf, "-e", "stderr")
        rep = require_report(rep, p, "nginx")
        for r in runs(rep):
            check(r["status"] == "ok", f"nginx: {r['status']} {r.get('error')}")
            check(r["processes_ready"] == 3, f"nginx: master + 2 workers: {r['processes_ready']}")
            check(r["stop_us"] is not None and r["stop_us"] < 1500000,
                  f"nginx stops on SIGTERM: stop_us {r['stop_us']}")
        # 8. nginx answers 301: accepted only when asked.
        p, rep = run_json("-n", "1", "-w", "0", "--port", str(port), "--max-failures", "1",
                          "--ready", "http://127.0.0.1:{port}/moved", "--", "nginx", "-c", conf)
        rep = require_report(rep, p, "nginx 301")
        check(p.returncode == 1 and "ready-status" in (runs(rep)[0].get("error") or ""),
              f"a 301 is not ready by default, and the message says how: {p.returncode}")
        p, rep = run_json("-n", "1", "-w", "0", "--port", str(port), "--ready-status", "200-399",
                          "--ready", "http://127.0.0.1:{port}/moved", "--", "nginx", "-c", conf)
        check(p.returncode == 0, f"--ready-status 200-399 takes the 301: {p.returncode} {p.stderr}")
check(shutil.which("gunicorn"), "gunicorn is missing (make test installs it)")
if shutil.which("gunicorn"):
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "app.py"), "w") as f:
            f.write("def app(env, start):\n    start('200 OK', [('Content-Length', '2')])\n"
                    "    return [b'ok']\n")
        p, rep = run_json("-n", "1", "-w", "0", "--cwd", d, "--ready", READY, "--", "gunicorn",
                          "-w", "2", "-b", "127.0.0.1:{port}", "app:app")
        rep = require_report(rep, p, "gunicorn")
        r = runs(rep)[0]
        # The arbiter forks its workers as it starts; the first may answer
        # before the second exists: at least arbiter and one worker.
        check(r["status"] == "ok" and r["processes_ready"] >= 2,
              f"gunicorn -w 2: arbiter + workers at ready: {r['status']} {r['processes_ready']}")

# 1c/6. PostgreSQL (postmaster + its helpers), stopped with SIGTERM: a clean
# shutdown leaves no postmaster.pid and no socket lock file, so the next start
# does no crash recovery (with SIGKILL both stay behind).
import glob
pg_bins = ":".join(sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True) + ["/usr/local/bin"])
postgres = shutil.which("postgres") or shutil.which("postgres", path=pg_bins)
initdb = shutil.which("initdb") or shutil.which("initdb", path=pg_bins)
try:
    import pwd
    pg_user = pwd.getpwnam("postgres")
except (ImportError, KeyError):
    pg_user = None
check(postgres and initdb and pg_user,
      "PostgreSQL (postgres, initdb and the postgres user) is missing (make test installs it)")
if postgres and initdb and pg_user:
    with tempfile.TemporaryDirectory() as d:
        os.chown(d, pg_user.pw_uid, pg_user.pw_gid)
        data = os.path.join(d, "data")
        subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", f"{initdb} -D {data} -A trust"],
                       capture_output=True, timeout=120, check=True)
        port = free_port()
        p, rep = run_json("-n", "2", "-w", "0", "--user", "postgres", "--port", str(port),
                          "--ready", "log:ready to accept connections", "--", postgres, "-D", data,
                          "-p", str(port), "-k", d, "-c", "listen_addresses=127.0.0.1")
        rep = require_report(rep, p, "postgres")
        for r in runs(rep):
            check(r["status"] == "ok" and r["processes_ready"] >= 4,
                  f"postgres: {r['status']} {r.get('error')} processes {r['processes_ready']}")
            check(r["stop_us"] is not None and r["stop_us"] < 2000000,
                  f"postgres stops cleanly on SIGTERM: stop_us {r['stop_us']}")
        left = [f for f in ("data/postmaster.pid", f".s.PGSQL.{port}.lock")
                if os.path.exists(os.path.join(d, f))]
        check(not left, f"a clean PostgreSQL shutdown leaves nothing behind: {left}")

# 2. A server that is not the target's never makes a run ready.
class Quiet(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a):
        pass

stranger = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
sport = stranger.server_address[1]
threading.Thread(target=stranger.serve_forever, daemon=True).start()
p = coldstart("run", "-q", "-n", "2", "--port", str(sport), "--ready", READY, "--", "sleep", "5")
check(p.returncode == 2 and f"pid {os.getpid()}" in p.stderr,
      f"a taken --port is exit 2 naming its holder: {p.returncode} {p.stderr}")
p, rep = run_json("-n", "1", "-w", "0", "--seccomp", "none", "--timeout", "1s",
                  "--ready", f"http://127.0.0.1:{sport}/", "--", "sleep", "5")
rep = require_report(rep, p, "stranger")
r = runs(rep)[0]
check(r["status"] == "timeout" and "not the target" in (r.get("error") or ""),
      f"without listen(), a stranger's socket does not count: {r['status']} {r.get('error')}")
stranger.shutdown()

# 3. A target that exits before it is ready fails at once.
for code in ("0", "3"):
    t = time.monotonic()
    p, rep = run_json("-n", "1", "-w", "0", "--ready", READY, "--", F, "exit", code)
    rep = require_report(rep, p, "early exit")
    r = runs(rep)[0]
    check(r["status"] == "exited" and r["exit_code"] == int(code) and time.monotonic() - t < 5,
          f"exit {code} before ready is `exited` at once: {r['status']} {time.monotonic() - t:.1f}s")

# 4. A server that closes after each response (HTTP/1.1, no Connection: close).
p, rep = run_json("-n", "2", "-w", "0", "--requests", "5", "--ready", READY, "--", F,
                  "close-each", "serve")
rep = require_report(rep, p, "close-each")
for r in runs(rep):
    check(r["status"] == "ok" and len(r["requests_us"]) == 5,
          f"keep-alive resend: {r['status']} {r.get('error')} {len(r['requests_us'])}")

# 5. The target listens where the probe does not connect: fails at once, naming both.
for bind, ready in (("::1", READY), ("127.0.0.1", "http://[::1]:{port}/"),
                    ("0.0.0.0", "http://[::1]:{port}/")):
    t = time.monotonic()
    p, rep = run_json("-n", "1", "-w", "0", "--ready", ready, "--", F, "bind", bind, "serve")
    rep = require_report(rep, p, "mismatch")
    r = runs(rep)[0]
    err = r.get("error") or ""
    check(r["status"] == "error" and "listens on" in err and time.monotonic() - t < 5,
          f"bind {bind} vs {ready}: {r['status']} {err} {time.monotonic() - t:.1f}s")
p, rep = run_json("-n", "1", "-w", "0", "--ready", "http://localhost:{port}/", "--", F, "serve")
check(rep and runs(rep)[0]["status"] == "ok", "localhost reaches a 127.0.0.1 server")

# 6. Stop as docker stop does: SIGTERM, then the cgroup after --stop-timeout.
p, rep = run_json("-n", "1", "-w", "0", "--stop-timeout", "300ms", "--ready", READY, "--", F,
                  "ignore-term", "serve")
rep = require_report(rep, p, "ignore-term")
r = runs(rep)[0]
check(r["status"] == "ok" and 300000 <= r["stop_us"] < 2000000,
      f"SIGTERM ignored: killed after --stop-timeout: stop_us {r['stop_us']}")
p, rep = run_json("-n", "1", "-w", "0", "--stop-signal", "INT", "--stop-timeout", "5s",
                  "--ready", READY, "--", F, "ignore-term", "serve")
r = runs(require_report(rep, p, "stop-signal"))[0]
check(r["stop_us"] < 1000000, f"--stop-signal INT stops it at once: {r['stop_us']}")
check(coldstart("run", "--stop-signal", "NOPE", "--", "true").returncode == 2, "bad --stop-signal")

# 7. Fail fast: the same failure three times in a row ends the session.
t = time.monotonic()
p, rep = run_json("-n", "10", "-w", "1", "--", F, "exit", "3")
rep = require_report(rep, p, "max-failures")
check(p.returncode == 1 and len(rep["targets"][0]["runs"]) == 3 and "--max-failures" in p.stderr,
      f"stopped after 3 failures: {p.returncode} {len(rep['targets'][0]['runs'])} {p.stderr}")

# 8. Requests after a non-HTTP readiness need an address.
p = coldstart("run", "--requests", "3", "--ready", "tcp://127.0.0.1:{port}", "--", F, "serve")
check(p.returncode == 2 and "--request-url" in p.stderr, f"--requests with tcp://: {p.stderr}")
p, rep = run_json("-n", "1", "-w", "0", "--requests", "3", "--ready", "tcp://127.0.0.1:{port}",
                  "--request-url", READY, "--", F, "serve")
r = runs(require_report(rep, p, "request-url"))[0]
check(r["status"] == "ok" and len(r["requests_us"]) == 3, f"--request-url: {r.get('error')}")

# 9. The first error line, names quoted as a shell would, CPU split by the kernel.
p, rep = run_json("-n", "1", "-w", "0", "--max-failures", "0", "--", F, "stderr",
                  "FATAL: JavaScript heap out of memory", "flood", "1", "exit", "1")
r = runs(require_report(rep, p, "error line"))[0]
check(r.get("error_line") == "FATAL: JavaScript heap out of memory",
      f"the first error line is kept: {r.get('error_line')!r}")
check("first error line" in p.stdout, "and shown in the terminal")
# A short path to the fixture, so the whole name fits the 60 characters
# a name keeps (build-asan in a deep clone would push the quotes out).
with tempfile.TemporaryDirectory() as d:
    os.symlink(os.path.abspath(F), f"{d}/f")
    p, rep = run_json("-n", "1", "-w", "0", "--", f"{d}/f", "log", "", "log", "daemon off;",
                      "exit", "0")
name = require_report(rep, p, "quoting")["targets"][0]["name"]
check("log '' log 'daemon" in name, f"names quote arguments: {name}")
p, rep = run_json("-n", "1", "-w", "0", "--", F, "spin", "60")
r = runs(require_report(rep, p, "cpu"))[0]
check(r["cpu_to_ready_us"] >= 50000 and r["cpu_user_us"] != r["cpu_sys_us"]
      and r["cpu_user_us"] > r["cpu_sys_us"],
      f"CPU user/sys from the kernel: {r['cpu_user_us']} {r['cpu_sys_us']} {r['cpu_to_ready_us']}")

# 10. Report paths: devices written in place, symlinks kept, write errors are exit 2.
p = coldstart("run", "-q", "-n", "1", "-w", "0", "--json", "/dev/null", "--", "true")
check(p.returncode == 0 and os.path.exists("/dev/null") and
      os.stat("/dev/null").st_rdev == os.makedev(1, 3), "/dev/null stays the null device")
p = coldstart("run", "-q", "-n", "1", "-w", "0", "--json", "/dev/full", "--", "true")
check(p.returncode == 2 and "No space" in p.stderr, f"/dev/full: exit 2 {p.returncode} {p.stderr}")
with tempfile.TemporaryDirectory() as d:
    real, link = os.path.join(d, "real.json"), os.path.join(d, "link.json")
    os.symlink("real.json", link)
    p = coldstart("run", "-q", "-n", "1", "-w", "0", "--json", link, "--", "true")
    check(p.returncode == 0 and os.path.islink(link) and os.path.getsize(real) > 0,
          "a symlinked report path keeps its link and writes its target")
    p = coldstart("report", real, "--format", "md", "-o", "/dev/full")
    check(p.returncode == 2, f"report -o /dev/full: exit 2, not {p.returncode}")
    p = coldstart("merge", real, "-o", "/dev/full")
    check(p.returncode == 2, f"merge -o /dev/full: exit 2, not {p.returncode}")
    p = coldstart("compare", real, real, "--md", "/dev/full")
    check(p.returncode == 2, f"compare --md /dev/full: exit 2, not {p.returncode}")
    # 14. compare with nothing in common; -o ''; a missing folder before measuring.
    p = coldstart("run", "-q", "-n", "1", "-w", "0", "--name", "other", "--json",
                  os.path.join(d, "other.json"), "--", "true")
    p = coldstart("compare", real, os.path.join(d, "other.json"))
    check(p.returncode == 2 and "in common" in p.stderr, f"compare, no common target: {p.stderr}")
    check(coldstart("report", real, "--format", "md", "-o", "").returncode == 2, "-o '' refused")
    t = time.monotonic()
    p = coldstart("run", "--json", os.path.join(d, "no", "r.json"), "--", "sleep", "3")
    check(p.returncode == 2 and time.monotonic() - t < 2,
          f"a missing output folder is refused before measuring: {p.returncode}")
    # 15. inputs that are not report files
    t = time.monotonic()
    p = coldstart("report", "/dev/zero", "--format", "md", timeout=30)
    check(p.returncode == 2 and time.monotonic() - t < 5, f"report /dev/zero: {p.stderr}")
    t = time.monotonic()
    p = coldstart("run", "--budgets", "/dev/zero", "--", "true", timeout=30)
    check(p.returncode == 2 and time.monotonic() - t < 5, f"--budgets /dev/zero: {p.stderr}")
    p = coldstart("report", d, "--format", "md")
    check(p.returncode == 2 and "folder" in p.stderr, f"a folder as report: {p.stderr}")
    img = os.path.join(d, "img")
    os.mkdir(img)
    with open(os.path.join(img, "image.json"), "w") as f:
        json.dump({"name": "img", "runtime": "native", "command": ["true"], "ready": "ftp://x"}, f)
    p = coldstart("run", "--image", img)
    check(p.returncode == 2 and "ftp://x" in p.stderr, f"manifest ready ftp://x: {p.returncode}")
    with open(os.path.join(img, "image.json"), "w") as f:
        f.write(" " * (3 << 20) + "{}")
    p = coldstart("run", "--image", img)
    check(p.returncode == 2 and "more than" in p.stderr, f"a 3 MB manifest: {p.stderr}")
    prof = os.path.join(d, "profile.json")
    with open(prof, "w") as f:
        json.dump({"defaultAction": "SCMP_ACT_ALLOW",
                   "syscalls": [{"names": ["acct", "swapon"] * 50000,
                                 "action": "SCMP_ACT_ERRNO"}]}, f)
    t = time.monotonic()
    p = coldstart("run", "-q", "-n", "1", "-w", "0", "--seccomp", prof, "--", "true")
    check(p.returncode == 0 and time.monotonic() - t < 5,
          f"a 100,000-name profile loads fast: {time.monotonic() - t:.1f}s {p.stderr}")
    p, rep = run_json("-n", "1", "-w", "0", "--name", "a|b<c>", "--md", os.path.join(d, "r.md"),
                      "--", "true")
    md = open(os.path.join(d, "r.md")).read()
    check("a\\|b&lt;c&gt;" in md, "Markdown escapes | and < in names")
long_path = "/" + "a" * 2100
p = coldstart("run", "--ready", "http://127.0.0.1:{port}" + long_path, "--", "true")
check(p.returncode == 2 and "longer" in p.stderr, f"a ready path over 2047 bytes: {p.stderr}")

# 11. A target that leaves its cgroup is killed all the same, and nothing waits forever.
t = time.monotonic()
p, rep = run_json("-n", "1", "-w", "0", "--timeout", "1s", "--ready", READY, "--", F,
                  "escape-cgroups", "forever", timeout=60)
check("escaped" in (runs(require_report(rep, p, "escape"))[0].get("output_tail") or ""),
      "the fixture escaped its cgroups")
check(time.monotonic() - t < 20, "the run ended in time")
check_no_leftovers("after an escaped target")
# Under --sandbox strict the profiler's /proc/PID/root is out of reach.
cgroot = "/sys/fs/cgroup/pids/cgroup.procs"
if not os.path.exists(cgroot):
    cgroot = "/sys/fs/cgroup/cgroup.procs"
for strict in (False, True):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "r.json")
        # `exec` keeps the shell's pid: $$ is coldstart's own pid.
        cmd = (f"exec {COLDSTART} run -q -n 1 -w 0 --stop-timeout 100ms --json {out} "
               + ("--sandbox strict " if strict else "")
               + f"-- {os.path.abspath(F)} write-cgroup /proc/$$/root{cgroot} "
               + "write-cgroup /proc/$$/cwd/x exit 1")  # failed: the output is kept
        subprocess.run(["sh", "-c", cmd], capture_output=True, timeout=60)
        tail = runs(require_report(json.load(open(out)) if os.path.exists(out) else None,
                                   None, "strict"))[0].get("output_tail") or ""
        if strict:
            check("moved" not in tail, f"--sandbox strict: /proc/<coldstart>/root is out of reach: {tail}")
        else:
            check("moved" in tail, f"without strict the same write succeeds (the test can fail): {tail}")

# 12. ReDoS: back-references are refused; matching stays linear.
t = time.monotonic()
p = coldstart("run", "--ready", r"log:(.*)(.*)\1\2x", "--", "true")
check(p.returncode == 2 and "back-reference" in p.stderr and time.monotonic() - t < 2,
      f"a back-reference is refused: {p.stderr}")
t = time.monotonic()
p, rep = run_json("-n", "1", "-w", "0", "--timeout", "5s", "--ready",
                  "log:(.*)(.*)(.*)(.*)(.*)(.*)x$", "--", F, "stderr-line", "3000", "log", "ax")
r = runs(require_report(rep, p, "six groups"))[0]
check(r["status"] == "ok" and time.monotonic() - t < 10,
      f"six groups on a 3000-byte line match in time: {time.monotonic() - t:.1f}s, "
      f"{r['status']} {r.get('error')}")

# 13. A line longer than the buffer on stderr does not break stdout's line.
p, rep = run_json("-n", "1", "-w", "0", "--timeout", "5s", "--ready", "log:^ready$", "--", F,
                  "stderr-line", "5000", "log", "ready", "forever")
r = runs(require_report(rep, p, "long line"))[0]
check(r["status"] == "ok", f"log:^ready$ after a 5000-byte stderr line: {r.get('error')}")

# 14. A session with no ok measured run never exits 0.
p = coldstart("run", "-q", "-n", "1", "-w", "0", "--cpuset", "99", "--", "true")
check(p.returncode != 0, f"--cpuset 99: exit {p.returncode}")

# 15. A ready line written just before the target exits counts, even when the
# exit is seen before the pipe (CI saw 1 in 100 of these under load: the two
# busy loops make the profiler lose the race often enough to catch it).
busy = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(2)]
try:
    p, rep = run_json("-n", "200", "-w", "0", "--max-failures", "0", "--timeout", "5s",
                      "--ready", "log:x$", "--", F, "log", "ax")
finally:
    for b in busy:
        b.kill()
        b.wait()
statuses = [r["status"] for r in runs(require_report(rep, p, "ready line then exit"))]
check(len(statuses) == 200 and set(statuses) == {"ok"},
      f"a ready line before the exit is ready in all 200 runs: "
      f"{ {s: statuses.count(s) for s in set(statuses)} }")

finish()
