"""A real Node.js http server, profiled from spawn to its first served request."""
import shutil

from harness import *

require_root()
node = shutil.which("node")
if not node:
    skip("node is not installed")
with tempfile.TemporaryDirectory() as d:
    server = os.path.join(d, "server.js")
    with open(server, "w") as f:
        f.write("require('http').createServer((q, s) => s.end('ok'))"
                ".listen(+process.env.PORT, '127.0.0.1');\n")
    p, rep = run_json("-n", "5", "--ready", "http://127.0.0.1:{port}/", "--requests", "3",
                      "--", node, server)
    check(p.returncode == 0, f"node: {p.returncode} {p.stdout} {p.stderr}")
    if require_report(rep):
        for r in measured(rep):
            m = r["milestones_us"]
            check(r["status"] == "ok", f"status {r['status']} {r.get('error')}")
            check(m["exec"] < m["listen"] <= m["first_byte"] <= m["ready"], f"order {m}")
            check(10000 < m["ready"] < 5000000, f"node ready in {m['ready']} us")
            check(r["rss_ready_bytes"] > 10 << 20, f"node RSS {r['rss_ready_bytes']}")
            check(r["threads_ready"] >= 5, f"node threads {r['threads_ready']}")
            check(not r["denied_syscalls"], f"default seccomp denied {r['denied_syscalls']}")
        print(p.stdout)
finish()
