"""The report contract checked by machine: docs/report.schema.json is a valid
JSON Schema (draft 2020-12); a real report validates; a report with a field
the schema does not know, or without one it requires, or with a wrong type,
does not. (Every integration test validates the reports it writes through
harness.coldstart.) The man page carries every option --help shows."""
import copy
import re

from harness import *

try:
    import jsonschema
except ImportError:
    check(False, "python3-jsonschema is missing (make test installs it)")
    finish()

with open(SCHEMA_PATH) as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)

require_root()
p, rep = run_json("-n", "2", "-w", "0", "--requests", "2", "--ready", "http://127.0.0.1:{port}/",
                  "--budget", "ready.p95<=10s", "--", FIXTURE, "serve-after", "10")
rep = require_report(rep, p)
check(not list(v.iter_errors(rep)), f"a real report validates: {list(v.iter_errors(rep))[:2]}")

bad = copy.deepcopy(rep)
bad["targets"][0]["runs"][0]["new_metric_us"] = 1
check(list(v.iter_errors(bad)), "an unknown run field is refused")
bad = copy.deepcopy(rep)
bad["host"]["gpu"] = "none"
check(list(v.iter_errors(bad)), "an unknown host field is refused")
bad = copy.deepcopy(rep)
del bad["targets"][0]["summary"]
check(list(v.iter_errors(bad)), "a missing summary is refused")
bad = copy.deepcopy(rep)
bad["targets"][0]["runs"][0]["status"] = "fine"
check(list(v.iter_errors(bad)), "an unknown status is refused")
bad = copy.deepcopy(rep)
bad["targets"][0]["summary"]["readiness_us"] = bad["targets"][0]["summary"]["ready_us"]
check(list(v.iter_errors(bad)), "an unknown summary metric is refused")
bad = copy.deepcopy(rep)
bad["targets"][0]["runs"][0]["milestones_us"]["ready"] = "12ms"
check(list(v.iter_errors(bad)), "a milestone that is not a number is refused")

# The man page and --help come from one table: every option --help names is
# in coldstart(1), for every command.
man = coldstart("help", "--man").stdout
for cmd in ("run", "suite", "size", "sweep", "images", "report", "compare", "merge"):
    h = coldstart(cmd, "--help")
    check(h.returncode == 0, f"{cmd} --help")
    for opt in set(re.findall(r"^  (?:-\w, )?--([a-z][a-z-]*)", h.stdout, re.M)) - {"help"}:
        check("\\-\\-" + opt.replace("-", "\\-") in man, f"man page lacks {cmd} --{opt}")
check(man.startswith(".TH COLDSTART 1"), "man page header")
finish()
