"""--load-cmd (issue 27, item 5): the load after ready from a command of the
user's (pgbench, redis-benchmark, wrk) instead of the built-in HTTP
generator. Its exit decides the run (and a size step); it runs outside the
target's cgroup, in the target's network namespace, is killed with
everything it forked when the run ends, and memory under it is measured as
under --load. PostgreSQL under pgbench: test_right_answers."""
import re

from harness import *

require_root()
F = FIXTURE
READY = "http://127.0.0.1:{port}/"


def get(n):
    """A load command: n GETs to the target, then a line saying so."""
    return ("python3 -c \"import urllib.request as u\n"
            f"for _ in range({n}): u.urlopen('http://127.0.0.1:{{port}}/').read()\n"
            f"print('sent {n}')\"")


def unique_sleepers(token):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if f.read().split(b"\0")[:2] == [b"sleep", token.encode()]:
                    found.append(int(pid))
        except OSError:
            pass
    return found


# A command that succeeds: the run is ok, the report says what ran and how
# it ended; memory under it is measured (the server keeps 256 KiB per
# request: 120 requests are 30 MiB more than at ready).
p, rep = run_json("-n", "1", "-w", "0", "--ready", READY, "--load-cmd", get(120), "--", F,
                  "grow", "256", "serve-many")
r = measured(require_report(rep, p, "a load command"))[0]
load = r.get("load") or {}
check(p.returncode == 0 and r["status"] == "ok", f"load command ok: {p.returncode} {r.get('error')}")
check(rep["settings"]["load"] == {"command": get(120)}, f"settings.load: {rep['settings']['load']}")
check(load.get("exit_code") == 0 and load.get("signal") is None and
      "sent 120" in (load.get("output_tail") or ""), f"how it ended: {load}")
check(str(r["milestones_us"]["ready"]) and "{port}" not in load.get("command", "{port}") and
      re.search(r"127\.0\.0\.1:\d+/", load.get("command", "")),
      f"the command is recorded with its port: {load.get('command')}")
check(load.get("connections") is None and load.get("rps") is None,
      f"no generator figures for a command: {load.get('connections')} {load.get('rps')}")
check((load.get("rss_peak_bytes") or 0) > r["rss_ready_bytes"] + (28 << 20),
      f"memory under the command: peak {load.get('rss_peak_bytes')} against "
      f"{r['rss_ready_bytes']} at ready")
check(load.get("start_us") and load.get("end_us", 0) > load["start_us"] and
      load.get("generator_cpu_us", 0) > 0, f"its window and CPU: {load}")
term = coldstart("run", "-n", "1", "-w", "0", "--ready", READY, "--load-cmd", get(3), "--", F,
                 "serve-many")
check("exit 0 after" in term.stdout and "sent" not in term.stderr,
      f"the terminal says how it ended: {term.stdout[:400]}")

# A command that fails fails the run (exit 1), naming its status and its
# last line; one that outlives --timeout is killed, with what it forked.
p, rep = run_json("-n", "1", "-w", "0", "--max-failures", "1", "--ready", READY, "--load-cmd",
                  "echo first; echo 'connection refused' >&2; exit 3", "--", F, "serve")
r = measured(require_report(rep, p, "a failing load command"))[0]
check(p.returncode == 1 and r["status"] == "error" and "status 3" in (r.get("error") or "") and
      "connection refused" in r["error"], f"a failing command: {p.returncode} {r.get('error')}")
check(r["load"]["exit_code"] == 3, f"its exit code: {r['load']}")
token = str(4000 + os.getpid() % 1000) + ".25"
p, rep = run_json("-n", "1", "-w", "0", "--max-failures", "1", "--timeout", "1500ms", "--ready",
                  READY, "--load-cmd", f"sleep {token} & sleep {token}; echo never", "--", F, "serve")
r = measured(require_report(rep, p, "a load command that hangs"))[0]
check(r["status"] == "timeout" and "load command did not exit" in (r.get("error") or ""),
      f"a command past --timeout: {r['status']} {r.get('error')}")
check(r["load"]["signal"] == 9 and r["load"]["exit_code"] is None, f"killed: {r['load']}")
check(not unique_sleepers(token), f"what the command forked is gone: {unique_sleepers(token)}")
token2 = str(5000 + os.getpid() % 1000) + ".5"
p, rep = run_json("-n", "1", "-w", "0", "--ready", READY, "--load-cmd",
                  f"sleep {token2} & echo started", "--", F, "serve")
check(p.returncode == 0 and not unique_sleepers(token2),
      f"a background process of a command that exited 0 is killed: {unique_sleepers(token2)}")

# Outside the target's cgroup, inside its network namespace: with
# --net loopback 127.0.0.1 is the target's own loopback.
p, rep = run_json("-n", "1", "-w", "0", "--net", "loopback", "--ready", READY, "--load-cmd",
                  get(2) + "; cat /proc/self/cgroup", "--", F, "serve")
r = measured(require_report(rep, p, "--net loopback"))[0]
out = (r.get("load") or {}).get("output_tail") or ""
check(r["status"] == "ok" and "sent 2" in out,
      f"the command reaches the target's own loopback: {r['status']} {r.get('error')} {out[-300:]}")
check(out and not re.search(r"coldstart-\d+-\d+\s*$", out, re.M),
      f"the command is not in the run cgroup: {out[-300:]}")

# Any readiness: a target ready by its log line gets the command too.
p, rep = run_json("-n", "1", "-w", "0", "--ready", "log:ready now", "--load-cmd", "exit 0",
                  "--", F, "log", "ready now", "sleep", "60000")
r = measured(require_report(rep, p, "log: readiness"))[0]
check(r["status"] == "ok" and r["load"]["exit_code"] == 0, f"log: and --load-cmd: {r.get('error')}")

# An OOM kill of a process that is not the main one (a worker, a backend)
# is not a pass: the run is oom, even though the main process served on.
p, rep = run_json("-n", "1", "-w", "0", "--max-failures", "1", "--memory", "32Mi", "--ready",
                  READY, "--", "sh", "-c", f"{F} alloc 200 & sleep 0.5; exec {F} serve")
r = measured(require_report(rep, p, "a child OOM-killed"))[0]
check(r.get("status") == "oom" and "OOM-killed" in (r.get("error") or ""),
      f"a served run whose child was OOM-killed: {r.get('status')} {r.get('error')}")

# size --load-cmd: the search under the command. The server needs ~30 MiB
# more under the load than at rest; the criteria printed are the command's.
p = coldstart("size", "-w", "0", "--min", "4Mi", "--max", "96Mi", "--attempts", "1", "--ready",
              READY, "--load-cmd", get(120), "--", F, "grow", "256", "serve-many", timeout=300)
rest = re.search(r"smallest passing limit at rest:\s+([\d.]+) MiB", p.stdout)
loaded = re.search(r"smallest passing limit under load:\s+([\d.]+) MiB", p.stdout)
check(p.returncode == 0 and rest and loaded, f"size --load-cmd: {p.returncode} {p.stdout[-600:]}")
if rest and loaded:
    check(float(rest.group(1)) <= 16 and float(loaded.group(1)) >= 30,
          f"at rest {rest.group(1)} MiB, under the command {loaded.group(1)} MiB")
check("the command exits 0 within" in p.stdout and "requests/s" not in p.stdout,
      f"size says what it checks under a command: {p.stdout[:900]}")

# Bad input: exit 2, naming the flag.
for bad, needle in ((["--load-cmd", ""], "--load-cmd"),
                    (["--load-cmd", "true", "--load", "2:1s"], "--load-cmd"),
                    (["--load-cmd", "true", "--burst", "2", "--port", "auto"], "--load-cmd")):
    p = coldstart("run", *bad, "--ready", READY, "--", F, "serve")
    check(p.returncode == 2 and needle in p.stderr, f"{bad}: exit {p.returncode} {p.stderr[-200:]}")

finish()
