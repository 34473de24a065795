"""Document-level recall of the focus classes: does a report that mentions tuberculosis come out with tuberculosis?

Cohort identification asks of a document, not of a span, whether it has a condition. For the shipped default run as
``imner extract`` runs it (assertion and codes on), on the imd-cases splits it was never trained on, this reports
per focus class (IMMUNE_DISEASE, INFECTIOUS_DISEASE, PATHOGEN):

* **class found**: of the documents whose gold has the class, the share where the output has a span of that class
  overlapping one of the gold spans of that class;
* **concept found** (recall) and **concept right** (precision): the concepts of the class in a document are the
  ``concept_id`` s the normalizer gives its spans (gold spans normalized in their document, as the pipeline
  normalizes predicted spans, abbreviations expanded). A (document, gold concept) pair is found when the output of
  that document has the concept on a span of any focus class (a disease tagged as its pathogen still finds the
  document); a predicted (document, concept) pair of the class is right when the gold of that document has it.
  Spans the normalizer cannot map count as one unmapped concept each, by lower-cased text.

Every mention counts whatever its assertion (negated and historical mentions included on both sides): this measures
detection and coding, not assertion (``benchmarks/assertion.py`` measures that). 95% intervals: Wilson score.

Run: ``python benchmarks/document_recall.py [--model DIR] [--splits test dev]`` (writes
``benchmarks/results/document_recall.{json,md}``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, Iterable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import RESULTS, header, run_info  # noqa: E402

FOCUS = ("IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "PATHOGEN")
PARTS = (("imd-cases-maccrobat", "MACCROBAT part"), ("imd-cases-codiesp", "CodiEsp part"))


def wilson(k: int, n: int, z: float = 1.96) -> list[float]:
    if n == 0:
        return [0.0, 0.0]
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return [round(max(0.0, c - h), 4), round(min(1.0, c + h), 4)]


def concepts(doc: Any, label: str | None) -> set[str]:
    """Concept ids of the spans of ``label`` (any focus class when None); unmapped spans by their text."""
    out = set()
    for s in doc.spans:
        if (s.label == label) if label else (s.label in FOCUS):
            out.add(s.attrs.get("concept_id") or "text:" + s.text_in(doc.text).lower())
    return out


def score(gold_docs: list[Any], pred_docs: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label in FOCUS:
        docs_with = found = 0
        g_pairs = g_hit = p_pairs = p_hit = 0
        for g, p in zip(gold_docs, pred_docs):
            gs = [s for s in g.spans if s.label == label]
            if gs:
                docs_with += 1
                ps = [s for s in p.spans if s.label == label]
                found += any(a.start < b.end and b.start < a.end for a in gs for b in ps)
            gc, pc_any, pc = concepts(g, label), concepts(p, None), concepts(p, label)
            g_pairs += len(gc)
            g_hit += len(gc & pc_any)
            p_pairs += len(pc)
            p_hit += len(pc & concepts(g, None))
        r = g_hit / g_pairs if g_pairs else 0.0
        pr = p_hit / p_pairs if p_pairs else 0.0
        out[label] = {
            "documents_with_class": docs_with, "class_found": found,
            "class_found_share": round(found / docs_with, 4) if docs_with else None,
            "class_found_ci95": wilson(found, docs_with),
            "gold_concepts": g_pairs, "concepts_found": g_hit, "concept_recall": round(r, 4),
            "concept_recall_ci95": wilson(g_hit, g_pairs),
            "predicted_concepts": p_pairs, "concepts_right": p_hit, "concept_precision": round(pr, 4),
            "concept_f1": round(2 * pr * r / (pr + r), 4) if pr + r else 0.0,
        }
    return out


def to_markdown(res: dict[str, Any]) -> str:
    md = header("Document-level recall of the focus classes (shipped default, as `imner extract` runs it)",
                res["info"])
    md += ["", "Class found: documents whose gold has the class where the output has an overlapping span of that class. "
           "Concepts: the normalizer's concept ids per document (gold spans normalized in their document); a gold "
           "concept is found when the output of that document has it on any focus-class span. All mentions count, "
           "negated or not. 95% Wilson intervals.", ""]
    md += ["| evaluation | class | documents with it | class found (95% CI) | gold concepts | concept recall (95% CI) "
           "| concept precision | concept F1 |", "|---|---|---|---|---|---|---|---|"]
    for name, r in res["evaluations"].items():
        for label, c in r["classes"].items():
            share = "n/a" if c["class_found_share"] is None else (
                f"{c['class_found']}/{c['documents_with_class']} = **{c['class_found_share']:.3f}** "
                f"({c['class_found_ci95'][0]:.3f}–{c['class_found_ci95'][1]:.3f})")
            md.append(f"| {name} ({r['documents']} docs) | {label} | {c['documents_with_class']} | {share} | "
                      f"{c['gold_concepts']} | **{c['concept_recall']:.3f}** ({c['concept_recall_ci95'][0]:.3f}–"
                      f"{c['concept_recall_ci95'][1]:.3f}) | {c['concept_precision']:.3f} | {c['concept_f1']:.3f} |")
    return "\n".join(md) + "\n"


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="model directory (default: the shipped default)")
    ap.add_argument("--splits", nargs="+", default=["test", "dev"], choices=["test", "dev"])
    ap.add_argument("--out", default="document_recall", help="result file stem under benchmarks/results")
    args = ap.parse_args(list(argv) if argv is not None else None)

    from imner import corpora
    from imner.normalize import Normalizer
    from imner.pipeline import load_pipeline
    from imner.types import Document

    t0 = time.perf_counter()
    pipe = load_pipeline(args.model, patient=False)
    normalizer = Normalizer()
    evaluations = {}
    for split in args.splits:
        for corpus, part in PARTS:
            gold = [normalizer(d) for d in corpora.load(corpus, split)]
            pred = list(pipe.stream([Document(d.id, d.text) for d in gold], batch_size=16))
            name = f"imd-cases {split}, {part}"
            evaluations[name] = {"corpus": corpus, "split": split, "documents": len(gold), "classes": score(gold, pred)}
            print(f"{name}: " + ", ".join(f"{k} {v['concept_recall']:.3f}" for k, v in
                                          evaluations[name]["classes"].items()), file=sys.stderr)
    info = run_info(" ".join(["python benchmarks/document_recall.py", *(argv or sys.argv[1:])]))
    info.update(model=args.model or "shipped default", seconds=round(time.perf_counter() - t0, 1))
    res = {"info": info, "evaluations": evaluations}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    (RESULTS / f"{args.out}.md").write_text(to_markdown(res), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
