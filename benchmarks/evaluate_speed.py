"""Speed of :func:`imner.evaluate.evaluate` on synthetic predictions (no corpus needed).

200 documents x 50 gold spans (4 labels) with predictions that are right, shifted, relabelled or missing,
plus 3 spurious spans per document. Times span matching alone (``bootstrap=0``), the bootstrap alone
(1000 resamples) and the whole call; best of 5 runs each.

Run: ``.venv/bin/python benchmarks/evaluate_speed.py`` (writes benchmarks/results/evaluate_speed.{json,md}).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from imner.evaluate import _bootstrap_ci, evaluate
from imner.types import Document, Span

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import git_head, machine  # noqa: E402

OUT = Path(__file__).parent / "results"


def synthetic(n_docs: int = 200, per_doc: int = 50, seed: int = 0) -> tuple[list[Document], list[Document]]:
    rnd = random.Random(seed)
    labels = ["A", "B", "C", "D"]
    gold, pred = [], []
    for d in range(n_docs):
        gs = [Span(i * 90, i * 90 + rnd.randint(3, 30), rnd.choice(labels)) for i in range(per_doc)]
        ps = []
        for s in gs:
            r = rnd.random()
            if r < 0.6:
                ps.append(s)
            elif r < 0.8:
                ps.append(Span(s.start + 1, s.end, s.label))
            elif r < 0.9:
                ps.append(Span(s.start, s.end, rnd.choice(labels)))
        ps += [Span(rnd.randint(0, per_doc * 90 - 100), per_doc * 90 - 10, "A") for _ in range(3)]
        text = "x" * (per_doc * 90)
        gold.append(Document(str(d), text, gs))
        pred.append(Document(str(d), text, ps))
    return gold, pred


def best_of(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    gold, pred = synthetic()
    per_doc = np.random.default_rng(0).integers(0, 50, size=(len(gold), 4, 3))
    res = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(), "git_commit": git_head(),
        "command": " ".join([Path(sys.executable).name] + sys.argv),
        "docs": len(gold), "gold_spans": sum(len(d.spans) for d in gold),
        "pred_spans": sum(len(d.spans) for d in pred),
        "seconds": {
            "matching (bootstrap=0)": best_of(lambda: evaluate(gold, pred, bootstrap=0)),
            "bootstrap only (1000 resamples)": best_of(lambda: _bootstrap_ci(per_doc, 1000, 0)),
            "evaluate (bootstrap=1000)": best_of(lambda: evaluate(gold, pred, bootstrap=1000)),
        },
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "evaluate_speed.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    md = ["# imner.evaluate speed (synthetic data)", "", f"- date: {res['date']}",
          f"- machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs (shared)",
          f"- git commit: {res['git_commit']}", f"- command: `{res['command']}`",
          f"- {res['docs']} documents, {res['gold_spans']} gold spans, {res['pred_spans']} predicted spans", "",
          "| step | seconds (best of 5) |", "|---|---|"]
    md += [f"| {k} | {v:.3f} |" for k, v in res["seconds"].items()]
    (OUT / "evaluate_speed.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
