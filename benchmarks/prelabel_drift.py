"""How far the frozen imd-cases disease pre-labels are from what the current ontology layer would give.

``corpus/imd-cases/prelabels.tsv`` freezes the first pass the reviewers started from (the build reads it, so a
rebuilt lexicon does not move the corpus). This recomputes every pre-label with the current
:mod:`imner_dev.annotation.disease_class` (the one ontology layer, :mod:`imner_dev.lexicon.ontology`) and the
committed pathogen dictionary, without writing the frozen file, and counts the pre-labels whose class (or
confidence) would change, with each changed mention, its old and new evidence, and the review decision that
fixes its final label.

Run: ``python benchmarks/prelabel_drift.py`` (about 10 s; needs MACCROBAT2020 under ``$IMNER_DATA``); writes
``benchmarks/results/prelabel_drift.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from datetime import datetime, timezone

from _meta import RESULTS, git_commit, machine


def measure() -> dict:
    from imner.corpora.imd_cases import corpus_dir
    from imner_dev.annotation import build as B
    from imner_dev.annotation.decisions import read_disease_decisions

    cdir = corpus_dir()
    source = B.source_documents()
    frozen = B.read_prelabels(cdir / "prelabels.tsv", source)
    fresh = B.compute_prelabels(source)
    decisions = read_disease_decisions(cdir / "decisions" / "diseases.tsv", source)
    texts = {(d, str(s.attrs["id"])): s.text_in(source[d].text) for d in source for s in source[d].spans}
    changed = []
    for key in sorted(frozen):
        old, new = frozen[key], fresh[key]
        if (old.label, old.confidence) != (new.label, new.confidence):
            dec = decisions.get(key)
            changed.append({"doc_id": key[0], "tid": key[1], "mention": texts[key], "frozen": old.label,
                            "frozen_confidence": old.confidence, "frozen_evidence": old.evidence,
                            "now": new.label, "now_confidence": new.confidence, "now_evidence": new.evidence,
                            "review_decision": dec.label if dec else None})
    return {
        "prelabels": len(frozen),
        "label_changes": sum(1 for c in changed if c["frozen"] != c["now"]),
        "confidence_only_changes": sum(1 for c in changed if c["frozen"] == c["now"]),
        "evidence_text_changes": sum(1 for k in frozen if frozen[k].evidence != fresh[k].evidence),
        "label_transitions": {f"{a} -> {b}": n for (a, b), n in sorted(Counter(
            (c["frozen"], c["now"]) for c in changed if c["frozen"] != c["now"]).items())},
        "changed_agree_with_review": sum(1 for c in changed if c["review_decision"] == c["now"]),
        "changed_without_review_decision": sum(1 for c in changed if c["review_decision"] is None),
        "changed": changed,
    }


def to_markdown(res: dict) -> str:
    lines = [f"# Frozen imd-cases pre-labels vs the current ontology layer ({res['date']}, {res['git_commit']})", "",
             f"{res['prelabels']} pre-labels; {res['label_changes']} would change class and "
             f"{res['confidence_only_changes']} only confidence if refreshed "
             f"({res['changed_agree_with_review']} of the changes agree with the review decision, "
             f"{res['changed_without_review_decision']} have none); {res['evidence_text_changes']} evidence texts "
             "differ (the evidence now names the classifier rule).", "",
             "| doc | T | mention | frozen | now | now's evidence | review decision |", "|---|---|---|---|---|---|---|"]
    for c in res["changed"]:
        lines.append(f"| {c['doc_id']} | {c['tid']} | {c['mention']} | {c['frozen']} ({c['frozen_confidence']}) | "
                     f"{c['now']} ({c['now_confidence']}) | {c['now_evidence'][:90]} | {c['review_decision'] or ''} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    res = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
           "git_commit": git_commit(), "command": "python benchmarks/prelabel_drift.py", **measure()}
    md = to_markdown(res)
    print(md)
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "prelabel_drift.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
        (RESULTS / "prelabel_drift.md").write_text(md, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
