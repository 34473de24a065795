"""The CI fuzz set's statistics: examples run and time per test of tests/test_fuzz.py (hypothesis).

    python benchmarks/fuzz_stats.py      # -> benchmarks/results/fuzz.{json,md}

Runs the tests as CI does (IMNER_FUZZ_SCALE unset: fixed examples, derandomized) with
``--hypothesis-show-statistics`` and ``--durations=0`` and reads the numbers from pytest's own report.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

from _meta import RESULTS, ROOT, git_commit, machine

_TEST = re.compile(r"^tests/test_fuzz\.py::(\w+):")
_EXAMPLES = re.compile(r"(\d+) passing(?: examples| test cases)?, (\d+) failing(?: examples| test cases)?,? (?:and )?(\d+) invalid")
_DURATION = re.compile(r"^([\d.]+)s call\s+tests/test_fuzz\.py::(\w+)")


def main() -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("IMNER_FUZZ_SCALE", None)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/test_fuzz.py", "-p", "no:cacheprovider",
                           "--hypothesis-show-statistics", "--durations=0", "-q"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    tests: dict[str, dict] = {}
    current = None
    for line in proc.stdout.splitlines():
        m = _TEST.match(line.strip())
        if m:
            current = tests.setdefault(m.group(1), {"examples": 0, "failing": 0, "invalid": 0})
            continue
        m = _EXAMPLES.search(line)
        if m and current is not None:
            current["examples"] += int(m.group(1))
            current["failing"] += int(m.group(2))
            current["invalid"] += int(m.group(3))
        m = _DURATION.match(line.strip())
        if m:
            tests.setdefault(m.group(2), {"examples": 0})["seconds"] = float(m.group(1))
    res = {"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "commit": git_commit(),
           "machine": machine(), "pytest_exit": proc.returncode, "wall_seconds": round(wall, 1), "tests": tests,
           "examples": sum(t.get("examples", 0) for t in tests.values())}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fuzz.json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    rows = [f"| `{name}` | {t.get('examples', 0)} | {t.get('seconds', 0):.2f} |" for name, t in tests.items()]
    (RESULTS / "fuzz.md").write_text(
        f"# CI fuzz set (tests/test_fuzz.py), {res['date']}, commit {res['commit']}\n\n"
        f"`python benchmarks/fuzz_stats.py` on {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs; "
        f"pytest exit {proc.returncode}; {res['examples']:,} examples (passing, counted by hypothesis) in "
        f"{res['wall_seconds']} s wall-clock, start-up included.\n\n| test | examples | seconds |\n|---|---|---|\n"
        + "\n".join(rows) + "\n", encoding="utf-8")
    print((RESULTS / "fuzz.md").read_text(encoding="utf-8"))
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
