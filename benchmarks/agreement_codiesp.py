"""Inter-annotator agreement on the CodiEsp part of imd-cases: two independent annotations of 30 case reports.

Pass 1 is the part's annotation as first made (a full read of every document over the frozen pre-annotation of
the default model and the lexicon), snapshotted in ``corpus/imd-cases/codiesp/agreement-pass1/`` before any
disagreement was adjudicated. Pass 2 (``corpus/imd-cases/codiesp/agreement/``) was made independently, from the raw
text and the guideline only, without the pre-annotation or pass 1. The 30 documents are the recipe's agreement
sample (``second_pass`` in ``selection.tsv``: the first 15 training documents of each stratum in seeded order).

All twelve classes are compared (both passes annotated every class). Agreement = span-and-label F1 between the
passes (imner.evaluate, pass 1 as "gold"; F1 is symmetric): strict (same boundaries and class) and overlap
(the ``type`` criterion: overlapping spans with the same class), per class and micro, with a bootstrap 95% interval
over documents; the focus classes (IMMUNE_DISEASE, INFECTIOUS_DISEASE, PATHOGEN) are also reported together.

Run: ``python benchmarks/agreement_codiesp.py`` (writes benchmarks/results/agreement_codiesp.{json,md}).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from imner.evaluate import evaluate
from imner.schema import LABEL_NAMES
from imner_dev.annotation import codiesp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import RESULTS, header, run_info  # noqa: E402

FOCUS = ("IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "PATHOGEN")


def main() -> None:
    cdir = codiesp.corpus_dir()
    sample = [r["doc_id"] for r in codiesp.read_selection() if r["second_pass"] == "yes"]
    p1_all = {d.id: d for d in codiesp.markup_documents(cdir / "agreement-pass1")}
    p2_all = {d.id: d for d in codiesp.markup_documents(cdir / "agreement")}
    ids = [i for i in sample if i in p1_all and i in p2_all]
    p1, p2 = [p1_all[i] for i in ids], [p2_all[i] for i in ids]
    report = evaluate(p1, p2, labels=LABEL_NAMES, bootstrap=1000, seed=0).to_dict()
    focus = evaluate(p1, p2, labels=FOCUS, bootstrap=1000, seed=0).to_dict()
    info = run_info("python benchmarks/agreement_codiesp.py")
    result = {**info, "documents": len(ids), "sample": len(sample),
              "pass1_spans": sum(len(d.spans) for d in p1), "pass2_spans": sum(len(d.spans) for d in p2),
              "strict": report["strict"], "type": report["type"], "partial": report["partial"],
              "focus_strict": focus["strict"], "focus_type": focus["type"]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "agreement_codiesp.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    s, t = report["strict"], report["type"]
    lines = header("imd-cases CodiEsp part: inter-annotator agreement", info) + [
             f"{len(ids)} of the {len(sample)} sample documents ({result['pass1_spans']} spans in pass 1, "
             f"{result['pass2_spans']} in pass 2). Strict = same boundaries and class; overlap = overlapping spans "
             "with the same class.", "",
             "| class | pass 1 spans | pass 2 spans | strict F1 | overlap F1 |", "|---|---|---|---|---|"]
    for lab in LABEL_NAMES:
        a, b = s["per_label"].get(lab), t["per_label"].get(lab)
        if a:
            mark = "**" if lab in FOCUS else ""
            lines.append(f"| {mark}{lab}{mark} | {a['support']} | {a['tp'] + a['fp']} | {a['f1']:.3f} | {b['f1']:.3f} |")
    fs, ft = focus["strict"], focus["type"]
    n1 = sum(sp.label in FOCUS for d in p1 for sp in d.spans)
    n2 = sum(sp.label in FOCUS for d in p2 for sp in d.spans)
    lines.append(f"| focus classes together | {n1} | {n2} | "
                 f"{fs['micro']['f1']:.3f} ({fs['ci95'][0]:.3f}–{fs['ci95'][1]:.3f}) | {ft['micro']['f1']:.3f} |")
    lines.append(f"| **micro, twelve classes** | {result['pass1_spans']} | {result['pass2_spans']} | "
                 f"**{s['micro']['f1']:.3f}** ({s['ci95'][0]:.3f}–{s['ci95'][1]:.3f}) | {t['micro']['f1']:.3f} |")
    (RESULTS / "agreement_codiesp.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
