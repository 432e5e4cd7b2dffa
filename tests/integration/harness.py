"""Shared helpers for the integration tests: run the built coldstart against the
fixture target, read its JSON report, and check that nothing is left behind.

A test prints what failed and exits 1; it exits 77 (CTest's skip code) with a
reason when the machine cannot run it."""
import json
import os
import signal
import subprocess
import sys
import tempfile

COLDSTART = os.environ.get("COLDSTART", "build/coldstart")
FIXTURE = os.environ.get("FIXTURE", "build/tests/fixture")
# The same fixture linked statically (no dynamic loader: its exec is its own).
FIXTURE_STATIC = os.environ.get("FIXTURE_STATIC", "build/tests/fixture_static")
SOURCE_DIR = os.environ.get("COLDSTART_SOURCE_DIR", os.getcwd())

failures = []
# Time bounds measured natively are this many times wider in the emulated
# cgroup v2 guest (tests/v2/run sets COLDSTART_EMULATED; CPU work there is
# 5-10x slower).
SLACK = 10 if os.environ.get("COLDSTART_EMULATED") else 1


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(77)


def require_root():
    if os.geteuid() != 0:
        skip("needs root to create cgroups")


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg, flush=True)
    return cond


SCHEMA_PATH = os.path.join(SOURCE_DIR, "docs", "report.schema.json")
_validator = None


def validate_report(report, where):
    """Checks a coldstart report against docs/report.schema.json (the contract,
    closed: a field the writer adds without the schema fails here)."""
    global _validator
    if _validator is None:
        try:
            import jsonschema
        except ImportError:
            check(False, "python3-jsonschema is missing (make test installs it): every report "
                         "is validated against docs/report.schema.json")
            return
        with open(SCHEMA_PATH) as f:
            _validator = jsonschema.Draft202012Validator(json.load(f))
    for e in list(_validator.iter_errors(report))[:5]:
        check(False, f"{where}: not as docs/report.schema.json says: {e.json_path}: "
                     f"{e.message[:300]}")


def validate_file(path, where, text=None):
    """Validates the report at path (or text, for `-`) when it is one."""
    if text is None:
        # Only regular files: tests also point outputs at /dev/full and the like.
        if not os.path.isfile(path) or os.path.islink(path):
            return
        with open(path) as f:
            text = f.read(256 << 20)
    if not text.strip():
        return  # nothing written (the command failed: its test judges that)
    try:
        report = json.loads(text)
    except ValueError as e:
        check(False, f"{where}: a report that is not JSON ({e}): {text[:200]!r}")
        return
    if isinstance(report, dict) and report.get("schema", "").startswith("coldstart-report/"):
        validate_report(report, where)


def _report_outputs(args):
    """The files a coldstart command line writes coldstart reports to."""
    args = [str(a) for a in args]
    json_format = "--format" in args[:-1] and args[args.index("--format") + 1] == "json"
    out = []
    for i, a in enumerate(args[:-1]):
        if a == "--json" and args[0] != "compare":
            out.append(args[i + 1])
        elif a in ("-o", "--output") and (args[0] == "merge" or json_format):
            out.append(args[i + 1])
    if args and args[0] == "report" and json_format and not any(a in ("-o", "--output") for a in args):
        out.append("-")
    return out


def coldstart(*args, timeout=180, **kw):
    """Runs coldstart; returns the CompletedProcess (text mode). Every report it
    wrote is validated against the schema."""
    p = subprocess.run([COLDSTART, *args], capture_output=True, text=True, timeout=timeout, **kw)
    for path in _report_outputs(args):
        validate_file(path, f"coldstart {' '.join(map(str, args[:1]))} -> {path}",
                      text=p.stdout if path == "-" else None)
    return p


def run_json(*args, timeout=180, **kw):
    """Runs `coldstart run --json F ARGS`; returns (process, report or None)."""
    fd, path = tempfile.mkstemp(suffix=".json", prefix="coldstart-test-")
    os.close(fd)
    os.unlink(path)
    try:
        p = coldstart("run", "-q", "--json", path, *args, timeout=timeout, **kw)
        report = None
        if os.path.exists(path):
            with open(path) as f:
                report = json.load(f)
        return p, report
    finally:
        if os.path.exists(path):
            os.unlink(path)


class MissingReport(Exception):
    pass


def require_report(report, proc=None, context="run"):
    """The report, or a failure that ends the test: a missing report must never
    skip the assertions that read it."""
    if report is None:
        detail = f" (exit {proc.returncode}: {proc.stderr.strip()[-400:]})" if proc else ""
        check(False, f"{context}: no report was written{detail}")
        finish()
    return report


def free_port():
    """A port free on 127.0.0.1 now (for servers whose port is in a config file)."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def nginx_conf(d, port, workers=2, locations="location / { return 200 ok; }", daemon=False):
    """A config of nginx serving on 127.0.0.1:port with everything it writes
    in d; returns its path."""
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"daemon {'on' if daemon else 'off'}; master_process on; "
                f"worker_processes {workers}; pid {d}/nginx.pid;\n"
                f"error_log stderr; events {{}}\n"
                f"http {{ access_log off; client_body_temp_path {d}; proxy_temp_path {d};\n"
                f"  fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};\n"
                f"  server {{ listen 127.0.0.1:{port}; {locations} }} }}\n")
    return conf


def measured(report, target=0):
    return [r for r in report["targets"][target]["runs"] if not r["warmup"]]


def _pid_alive(pid):
    """Running: a zombie (exited, never waited for; where PID 1 reaps no
    orphans a SIGKILLed coldstart stays one) is dead, as coldstart judges."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _owner_alive(cgroup_name):
    """coldstart-<pid>-<n>: is the coldstart that made it still running?
    (Another session on the machine, e.g. a CI run, is not ours to judge.)"""
    parts = cgroup_name.split("-")
    return len(parts) >= 3 and parts[1].isdigit() and _pid_alive(int(parts[1]))


def our_cgroups():
    """Run cgroups left behind: those of a coldstart that has exited."""
    found = []
    for top, dirs, _ in os.walk("/sys/fs/cgroup"):
        for d in dirs:
            # A profiler's leaf (coldstart-<pid>-profiler, cgroup v2) counts too.
            if d.startswith("coldstart-") and not _owner_alive(d):
                found.append(os.path.join(top, d))
        # Deep enough for a run cgroup below a systemd user slice
        # (/sys/fs/cgroup/user.slice/user-0.slice/user@0.service/app.slice/...).
        if top.count("/") > 16:
            dirs[:] = []
    return found


def watch_run_cgroups(proc, name, seconds):
    """While the coldstart `proc` runs (for at most `seconds`): the largest
    value its run cgroups' control file `name` (e.g. pids.current) showed,
    read every 10 ms; None when no run cgroup was seen. The run cgroups are
    below the profiler's own cgroup (v1: in each hierarchy), on v2 beside the
    leaf it moved into or (placement root-subtree, docs/cgroups.md) below
    /sys/fs/cgroup/coldstart: looked for there, from /proc/PID/cgroup."""
    import time
    prefix = f"coldstart-{proc.pid}-"
    best = None
    deadline = time.monotonic() + seconds
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with open(f"/proc/{proc.pid}/cgroup") as f:
                lines = f.read().splitlines()
        except OSError:
            break
        places = set()
        for line in lines:
            _, ctrls, path = line.split(":", 2)
            for c in ctrls.split(",") if ctrls else [""]:
                if c.startswith("name="):
                    continue
                own = os.path.join("/sys/fs/cgroup", c, path.lstrip("/"))
                places.update((own, os.path.dirname(own),
                               os.path.join("/sys/fs/cgroup", c, "coldstart")))
        for place in places:
            try:
                entries = os.listdir(place)
            except OSError:
                continue
            for d in entries:
                if not d.startswith(prefix) or d.endswith("-profiler"):
                    continue
                try:
                    with open(os.path.join(place, d, name)) as f:
                        v = int(f.read().split()[0])
                    best = v if best is None else max(best, v)
                except (OSError, ValueError, IndexError):
                    pass
        time.sleep(0.01)
    return best


class PlainMemoryCgroup:
    """A cgroup of the test's own with a memory limit, made by hand (not by
    coldstart), to check an answer of coldstart's independently: v1 below
    this process's memory cgroup, v2 below the root (whose subtree must
    offer memory). `procs` is the file to write a pid into; oom_kills()
    what the kernel counted. Removed on exit (its processes killed)."""

    def __init__(self, limit_bytes):
        name = f"coldstart-check-{os.getpid()}"
        if cgroup_v2():
            with open("/sys/fs/cgroup/cgroup.subtree_control") as f:
                check("memory" in f.read().split(),
                      "the root cgroup's subtree offers no memory controller for a plain cgroup")
            self.path = f"/sys/fs/cgroup/{name}"
            limit_file, self.events, self.key = "memory.max", "memory.events", "oom_kill"
        else:
            own = next(l.split(":", 2)[2] for l in open("/proc/self/cgroup").read().splitlines()
                       if "memory" in l.split(":", 2)[1].split(","))
            self.path = f"/sys/fs/cgroup/memory{own.rstrip('/')}/{name}"
            limit_file, self.events, self.key = "memory.limit_in_bytes", "memory.oom_control", "oom_kill"
        os.mkdir(self.path)
        with open(os.path.join(self.path, limit_file), "w") as f:
            f.write(str(limit_bytes))
        self.procs = os.path.join(self.path, "cgroup.procs")

    def oom_kills(self):
        with open(os.path.join(self.path, self.events)) as f:
            for line in f:
                k, v = line.split()
                if k == self.key:
                    return int(v)
        return 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        import time
        for _ in range(500):
            try:
                with open(self.procs) as f:
                    pids = [int(x) for x in f.read().split()]
            except OSError:
                pids = []
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.01)
        check(False, f"could not remove {self.path}")


def cgroup_v2():
    """True when /sys/fs/cgroup is the unified (v2) hierarchy."""
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def own_cgroup_procs(controllers=("memory", "pids")):
    """The cgroup.procs files of this process's own cgroups, from
    /proc/self/cgroup (v1: of the named controllers' hierarchies; v2: the one
    unified cgroup): a target that may write one of them leaves its cgroup."""
    files = []
    with open("/proc/self/cgroup") as f:
        for line in f.read().splitlines():
            _, ctrls, path = line.split(":", 2)
            if ctrls == "" and cgroup_v2():
                files.append(f"/sys/fs/cgroup{path.rstrip('/')}/cgroup.procs")
            for c in ctrls.split(","):
                if c in controllers:
                    files.append(f"/sys/fs/cgroup/{c}{path.rstrip('/')}/cgroup.procs")
    return files


def fixture_processes():
    """Live (non-zombie) processes running the fixture binary."""
    target = os.path.realpath(FIXTURE)
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.path.realpath(f"/proc/{pid}/exe") != target:
                continue
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(f"/proc/{pid}/cgroup") as f:
                cgroups = f.read()
            # A fixture inside a live coldstart's run cgroup is that run's.
            live = any(_owner_alive(part) for line in cgroups.split("\n")
                       for part in line.split("/") if part.startswith("coldstart-"))
            if state != "Z" and not live:
                found.append(int(pid))
        except OSError:
            continue
    return found


def interrupt(proc, context):
    """Ctrl-C to a running coldstart: it must end within 20 s with exit 130."""
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        check(False, f"{context}: Ctrl-C did not end coldstart within 20 s")
        err = ""
    check(proc.returncode == 130, f"{context}: exit {proc.returncode} {err[-300:]}")


def _describe_cgroup(path):
    """What holds a leftover cgroup: its tasks with their state and name, and
    (v1) its freezer state, so that a failure says why it could not go."""
    parts = []
    try:
        with open(os.path.join(path, "cgroup.procs")) as f:
            for pid in f.read().split():
                try:
                    with open(f"/proc/{pid}/stat") as s:
                        head, tail = s.read().rsplit(")", 1)
                    parts.append(f"{pid} {tail.split()[0]} {head.split('(', 1)[1]}")
                except (OSError, IndexError):
                    parts.append(f"{pid} gone")
    except OSError as e:
        parts.append(f"procs unreadable: {e.strerror}")
    return f"{path} [{', '.join(parts) or 'empty'}]"


# Leftovers that were there before this test started are an earlier test's
# (each test is judged on what it leaves itself) or another session's: named
# once on stderr, not counted against this test.
_leftovers_at_start = set(our_cgroups())
if _leftovers_at_start:
    print("note: cgroups left before this test started: " +
          "; ".join(_describe_cgroup(p) for p in sorted(_leftovers_at_start)), file=sys.stderr)


def check_no_leftovers(context):
    cg = [p for p in our_cgroups() if p not in _leftovers_at_start]
    check(not cg, f"{context}: leftover cgroups {[_describe_cgroup(p) for p in cg]}")
    procs = fixture_processes()
    check(not procs, f"{context}: leftover fixture processes {procs}")


def finish():
    check_no_leftovers("at the end")
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("ok")
    sys.exit(0)
