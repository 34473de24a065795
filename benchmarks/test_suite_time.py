"""How long the test suite takes now, against the suite as it was when the layout issue was filed, back to back.

Issue 9 asked for a suite faster than its 85 s (``make test`` after install, on this kind of machine). The suite
has grown since (more issues landed), so both are run here, in the same run, on the same machine and virtualenv:

- *baseline*: the tree of ``--baseline`` (default: the commit the round of issues 9-16 started from), exported with
  ``git archive`` into a temporary folder and run as ``make test`` ran it then: ``python -m pytest`` with its own
  ``pyproject.toml`` (one process);
- *now*: this checkout's ``python -m pytest``, with the ``addopts`` of its ``pyproject.toml`` (``-n auto --dist
  loadfile --no-loadscope-reorder``: pytest-xdist, whole test files per worker, the longest first, as many workers as cores).

Each runs once untimed first (``--no-warmup`` skips it: the first run fills the start-up caches, e.g. the
lexicon matcher's, that later runs and ``make test`` on a used machine find), then ``--repeat`` times, alternating; medians and the ratio are reported, with the number of tests
each ran. The machine is shared: read the ratio, and the load average recorded with it.

Run: ``python benchmarks/test_suite_time.py [--repeat 1]`` (writes benchmarks/results/test_suite_time.{json,md}).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import RESULTS, ROOT, header, run_info  # noqa: E402

BASELINE = "d5b6f2d"  # main before the round of issues 9-16 (the suite issue 9 measured at 85 s)


def run_suite(root: Path, pythonpath: str) -> dict:
    env = dict(os.environ, PYTHONPATH=pythonpath)
    env.setdefault("IMNER_DATA", str(ROOT.parent / "shared" / "data"))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"], cwd=root, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
    counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|skipped|errors?)", tail[0])}
    if proc.returncode != 0:
        failures = proc.stdout.find("= FAILURES =")
        sys.stderr.write(proc.stdout[failures:][:12000] if failures >= 0 else proc.stdout[-4000:])
        sys.stderr.write(proc.stderr[-2000:])
        raise SystemExit(f"the suite in {root} failed (rc {proc.returncode}): {tail[0]}")
    return {"wall_s": round(wall, 1), "summary": tail[0], **counts}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", default=BASELINE, help="commit of the earlier suite (default %(default)s)")
    ap.add_argument("--repeat", type=int, default=2, help="timed runs of each suite, alternating (default 2)")
    ap.add_argument("--no-warmup", action="store_true",
                    help="skip the untimed first run of each suite (it fills the start-up caches both use)")
    args = ap.parse_args(argv)
    info = run_info("python benchmarks/test_suite_time.py" + "".join(f" {a}" for a in (argv or sys.argv[1:])))
    runs: dict[str, list[dict]] = {"baseline": [], "now": []}
    with tempfile.TemporaryDirectory(prefix="imner-suite-") as tmp:
        base = Path(tmp) / "baseline"
        base.mkdir()
        archive = subprocess.run(["git", "archive", "--format=tar", args.baseline], cwd=ROOT, capture_output=True,
                                 check=True).stdout
        archive_path = Path(tmp) / "baseline.tar"
        archive_path.write_bytes(archive)
        with tarfile.open(archive_path) as tf:
            tf.extractall(base, filter="data")
        suites = (("baseline", base, str(base / "src")), ("now", ROOT, f"{ROOT / 'src'}{os.pathsep}{ROOT / 'dev'}"))
        if not args.no_warmup:
            for name, root, path in suites:
                r = run_suite(root, path)
                print(f"[warm-up] {name}: {r['wall_s']} s (not counted)", file=sys.stderr)
        for i in range(args.repeat):
            for name, root, path in suites:
                r = run_suite(root, path)
                print(f"[{i + 1}/{args.repeat}] {name}: {r['wall_s']} s, {r['summary']}", file=sys.stderr)
                runs[name].append(r)
    med = {k: statistics.median(r["wall_s"] for r in v) for k, v in runs.items()}
    result = {**info, "baseline_commit": args.baseline, "runs": runs, "median_wall_s": med,
              "speedup": round(med["baseline"] / med["now"], 2), "cores": os.cpu_count()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "test_suite_time.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    lines = header("Test suite wall time, now against the suite of issue 9's baseline, back to back", info) + [
        f"- baseline: commit `{args.baseline}` run as `make test` ran it then (one process); now: this checkout's "
        f"`python -m pytest` (its `addopts`: `-n auto --dist loadfile --no-loadscope-reorder`, longest files first, {os.cpu_count()} workers)",
        "",
        "| suite | tests passed | skipped | median wall s | runs |",
        "|---|---|---|---|---|",
    ]
    for k, v in runs.items():
        lines.append(f"| {k} | {v[0].get('passed', 0)} | {v[0].get('skipped', 0)} | {med[k]:.1f} | "
                     + ", ".join(f"{r['wall_s']:.1f}" for r in v) + " |")
    lines += ["", f"Now / baseline: **{med['now'] / med['baseline']:.2f}x the time** "
                  f"({result['speedup']}x faster) while running "
                  f"{runs['now'][0].get('passed', 0) - runs['baseline'][0].get('passed', 0)} more tests."]
    (RESULTS / "test_suite_time.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
