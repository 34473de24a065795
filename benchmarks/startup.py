"""Start-up of ``imner extract``: whole process to the first entity of a one-line text, against spaCy and against
an earlier checkout of imner, side by side.

Each run is one fresh process under ``/usr/bin/time -v`` (wall seconds, CPU seconds, peak RSS), with byte-code
cached (as for an installed package) and imner's start-up cache (:mod:`imner.cache`) warm; one run with a cold cache
is reported too. The configurations alternate, ``--repeats`` rounds, and the tables give medians. ``--ref SRC``
adds an earlier imner (a ``src`` folder, e.g. ``git archive <commit> src | tar -x -C /tmp/ref``) run the same way, so
a change is measured as a ratio in the same run; ``--spacy`` adds spaCy ``en_core_web_sm`` (NER only) on the same
line. The in-process parts (what the first document needs: imports, tagger, steps, first document) are timed in
this checkout by a probe script.

Run: ``python benchmarks/startup.py [--repeats 9] [--ref /tmp/ref/src] [--spacy]``; writes
benchmarks/results/startup.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import RESULTS, ROOT, header, run_info  # noqa: E402

PY = sys.executable
LINE = "A 34-year-old woman with systemic lupus erythematosus presented with fever.\n"
#: a whole (short) case report: its first document needs the code tables a one-line text does not
REPORT = ROOT / "examples" / "case_report.txt"

PARTS_PROBE = """
import json, sys, time
t0 = t = time.perf_counter(); out = {}
def lap(k):
    global t
    u = time.perf_counter(); out[k] = u - t; t = u
import numpy; lap("import numpy")
import onnxruntime; lap("import onnxruntime")
from imner.pipeline import load_pipeline; from imner.types import Document; lap("import imner.pipeline")
from imner.pipeline import default_tagger
tg = default_tagger(); lap("tagger loaded")
from imner.context import ContextAnnotator
ca = ContextAnnotator(); lap("ContextAnnotator()")
from imner.normalize import Normalizer
no = Normalizer(); lap("Normalizer()")
d = tg.annotate([Document("a", open(sys.argv[1]).read())]); lap("first document: tagger")
d = [ca(x) for x in d]; lap("first document: assertion")
d = [no(x) for x in d]; lap("first document: codes")
from imner.pipeline import _patient_step
d = [_patient_step(x) for x in d]; lap("first document: patient")
assert d[0].spans
out["total"] = time.perf_counter() - t0
print(json.dumps(out))
"""


def env(src: Path, cache: str) -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(src)
    e.pop("PYTHONDONTWRITEBYTECODE", None)  # byte-code cached, as for an installed package
    e["IMNER_CACHE_DIR"] = cache
    return e


def timed(cmd: list[str], e: dict | None) -> dict:
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=e)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")

    def field(name: str) -> float:
        m = re.search(rf"{re.escape(name)}: ([\d.:]+)", p.stderr)
        return float(m.group(1)) if m else float("nan")

    return {"wall_s": round(wall, 4), "cpu_s": round(field("User time (seconds)") + field("System time (seconds)"), 3),
            "peak_rss_mb": round(field("Maximum resident set size (kbytes)") / 1024, 1)}


def summary(runs: list[dict]) -> dict:
    return {"wall_s": round(median(r["wall_s"] for r in runs), 4), "cpu_s": round(median(r["cpu_s"] for r in runs), 3),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "runs": runs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=9, help="alternating rounds (default 9)")
    ap.add_argument("--ref", type=Path, default=None, help="an earlier imner's src folder, run side by side")
    ap.add_argument("--ref-label", default=None, help="what --ref is (default: its path)")
    ap.add_argument("--spacy", action="store_true", help="also run spaCy en_core_web_sm (NER only) on the line")
    args = ap.parse_args()
    info = run_info("python benchmarks/startup.py " + " ".join(sys.argv[1:]))
    tmp = Path(tempfile.mkdtemp(prefix="imner-startup-"))
    one = tmp / "one.txt"
    one.write_text(LINE, encoding="utf-8")
    configs: dict[str, tuple[list[str], dict | None]] = {}
    here = ROOT / "src"
    cmd = ["-m", "imner.cli", "extract", str(one), "-o", str(tmp / "out.jsonl"), "-q"]
    report = ["-m", "imner.cli", "extract", str(REPORT), "-o", str(tmp / "out-report.jsonl"), "-q"]
    configs["imner (this checkout)"] = ([PY, *cmd], env(here, str(tmp / "cache-here")))
    if args.ref is not None:
        configs[f"imner ({args.ref_label or args.ref})"] = ([PY, *cmd], env(args.ref.resolve(), str(tmp / "cache-ref")))
    configs["imner (this checkout), case report"] = ([PY, *report], env(here, str(tmp / "cache-here")))
    if args.ref is not None:
        configs[f"imner ({args.ref_label or args.ref}), case report"] = (
            [PY, *report], env(args.ref.resolve(), str(tmp / "cache-ref")))
    if args.spacy:
        configs["spaCy en_core_web_sm NER"] = ([PY, str(ROOT / "benchmarks" / "_spacy_ner.py"), str(one)], None)
    cold = {}
    for name, (c, e) in configs.items():  # first run of each fills its start-up cache (and byte-code)
        r = timed(c, e)
        if e is not None and not name.endswith("case report"):  # the case report runs after its one-line run
            cold[name] = r
    runs: dict[str, list[dict]] = {name: [] for name in configs}
    parts = []
    for rnd in range(args.repeats):
        names = list(configs) if rnd % 2 == 0 else list(reversed(configs))
        for name in names:
            runs[name].append(timed(*configs[name]))
            print(f"  round {rnd + 1} {name}: {runs[name][-1]}", file=sys.stderr, flush=True)
        p = subprocess.run([PY, "-c", PARTS_PROBE, str(one)], capture_output=True, text=True,
                           env=env(here, str(tmp / "cache-here")), check=True)
        parts.append(json.loads(p.stdout))
    info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    res = {"info": info, "repeats": args.repeats, "line": LINE.strip(),
           "configs": {name: summary(r) for name, r in runs.items()},
           "cold_cache_first_run": cold,
           "parts_median_s": {k: round(median(p[k] for p in parts), 4) for k in parts[0]}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    md = render(res)
    (RESULTS / "startup.md").write_text(md, encoding="utf-8")
    print(md)


def render(res: dict) -> str:
    md = header("Start-up of imner extract: one-line text, whole process", res["info"])
    first = next(iter(res["configs"].values()))
    md += [f"- load average at end: {', '.join(map(str, res['info']['load_average_end']))}", "",
           f"Whole process to the first entity of one line (\"{res['line']}\"), byte-code and start-up cache warm; "
           f"medians of {res['repeats']} alternating rounds (the machine is shared: compare rows of the same run, "
           "the ratio is what counts; ratio = this row's wall seconds over the first row's). The \"case report\" "
           "rows run the whole of examples/case_report.txt (1 KB, 25 entities), whose first document also needs the "
           "code tables (secondary and fuzzy indexes) a one-line text does not.", "",
           "| run | wall s | ratio | CPU s | peak RSS MB |", "|---|---|---|---|---|"]
    for name, s in res["configs"].items():
        md.append(f"| {name} | {s['wall_s']} | {round(s['wall_s'] / first['wall_s'], 2)} | {s['cpu_s']} | "
                  f"{s['peak_rss_mb']} |")
    if res["cold_cache_first_run"]:
        md += ["", "First run with an empty start-up cache (one run each; it fills the cache): " + "; ".join(
            f"{k} {v['wall_s']} s" for k, v in res["cold_cache_first_run"].items()) + "."]
    md += ["", "Where this checkout's start-up goes, in one process (median seconds of the probe, imports "
           "included in the step that first needs them):", "", "| part | seconds |", "|---|---|"]
    md += [f"| {k} | {v} |" for k, v in res["parts_median_s"].items()]
    return "\n".join(md) + "\n"


if __name__ == "__main__":
    main()
