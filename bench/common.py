"""Helpers shared by the bench scripts: where things are, running coldstart,
medians and percentiles."""
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLDSTART = os.environ.get("COLDSTART", os.path.join(ROOT, "build", "coldstart"))
FIXTURE = os.environ.get("FIXTURE", os.path.join(ROOT, "build", "tests", "fixture"))


def require_built():
    for path in (COLDSTART, FIXTURE):
        if not os.path.exists(path):
            sys.exit(f"{path} is missing: run `make` first")


def coldstart_json(*args):
    """Runs `coldstart run ARGS --json F` and returns the report."""
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        p = subprocess.run([COLDSTART, "run", "-q", "--json", f.name, *args],
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"coldstart failed ({p.returncode}):\n{p.stdout}{p.stderr}")
        return json.load(open(f.name))


def free_port():
    """A port free on 127.0.0.1 now."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def median(values):
    return statistics.median(values)


def own_cpu_s(pid):
    """utime + stime of pid itself, in s (fields 14 and 15; its children
    are apart): read after os.waitid(..., WNOWAIT), before reaping."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
