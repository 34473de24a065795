"""Inter-annotator agreement on imd-cases: two independent passes over the same 20 case reports.

Pass 1 is the project's first full annotation (automatic projection, disease pre-labels and pathogen
pre-annotation, then a reviewer reading every document); pass 2 was made independently from the raw text and
the guideline only, without seeing pass 1, its pre-labels or the lexicon. Both are frozen in
``corpus/imd-cases/agreement/`` (``pass1.tsv`` snapshotted before the disagreements were adjudicated,
``pass2.tsv``); the adjudicated result is what ``corpus/imd-cases/ann`` holds.

The classes compared are the ones this project annotated itself: IMMUNE_DISEASE, INFECTIOUS_DISEASE,
OTHER_DISEASE and PATHOGEN. The other eight classes are MACCROBAT's expert spans, carried over unchanged, so
both passes share them by construction and they are left out (MACCROBAT's own agreement is in its paper).

Agreement = strict span-and-label F1 between the passes (imner.evaluate, pass 1 as "gold"; F1 is symmetric),
per class and micro, with a bootstrap 95% interval over documents.

Run: ``python benchmarks/agreement.py`` (writes benchmarks/results/agreement.{json,md}).
"""

from __future__ import annotations

import csv
import json
import os
import platform
import sys
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

from imner.config import data_path
from imner.evaluate import evaluate
from imner.types import Document, Span

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import git_commit  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = ROOT / "corpus" / "imd-cases" / "agreement"
CLASSES = ("IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "OTHER_DISEASE", "PATHOGEN")


def read_pass(path: Path) -> dict[str, list[Span]]:
    spans: dict[str, list[Span]] = defaultdict(list)
    with path.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")]
    for r in rows:
        spans[r["doc_id"]].append(Span(int(r["start"]), int(r["end"]), r["label"]))
    return spans


def documents(ids: list[str], spans: dict[str, list[Span]]) -> list[Document]:
    out = []
    for doc_id in ids:
        text = data_path("maccrobat", "MACCROBAT2020", f"{doc_id}.txt").read_text(encoding="utf-8")
        out.append(Document(doc_id, text, tuple(s for s in spans.get(doc_id, []) if s.label in CLASSES)))
    return out


def main() -> None:
    ids = [line.strip() for line in (AGREEMENT / "docs.txt").read_text().splitlines()
           if line.strip() and not line.startswith("#")]
    p1 = documents(ids, read_pass(AGREEMENT / "pass1.tsv"))
    p2 = documents(ids, read_pass(AGREEMENT / "pass2.tsv"))
    for a, b in zip(p1, p2):
        for s in a.spans + b.spans:
            assert a.text[s.start:s.end], (a.id, s)
    report = evaluate(p1, p2, labels=CLASSES, bootstrap=1000, seed=0)
    d = report.to_dict()
    commit = git_commit()
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.platform()}, {os.cpu_count()} CPUs", "commit": commit,
              "documents": len(ids), "pass1_spans": sum(len(x.spans) for x in p1),
              "pass2_spans": sum(len(x.spans) for x in p2), "strict": d["strict"], "partial": d["partial"],
              "type": d["type"]}
    out = ROOT / "benchmarks" / "results"
    (out / "agreement.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    lines = ["# imd-cases inter-annotator agreement", "",
             f"- date: {result['date']}", f"- machine: {result['machine']}", f"- commit: {commit}",
             "- command: `python benchmarks/agreement.py`", "",
             f"{len(ids)} documents ({result['pass1_spans']} spans in pass 1, {result['pass2_spans']} in pass 2). "
             "Strict = same boundaries and class; type = overlapping with the same class.", "",
             "| class | pass 1 spans | pass 2 spans | strict F1 | type (overlap) F1 |", "|---|---|---|---|---|"]
    for lab in CLASSES:
        s, t = d["strict"]["per_label"].get(lab), d["type"]["per_label"].get(lab)
        if s:
            lines.append(f"| {lab} | {s['support']} | {s['tp'] + s['fp']} | {s['f1']:.3f} | {t['f1']:.3f} |")
    ci = d["strict"]["ci95"]
    lines.append(f"| **micro** | {result['pass1_spans']} | {result['pass2_spans']} | "
                 f"**{d['strict']['micro']['f1']:.3f}** ({ci[0]:.3f}–{ci[1]:.3f}) | {d['type']['micro']['f1']:.3f} |")
    (out / "agreement.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
