"""Counts behind docs/corpus.md: the imd-cases corpus (per class and split), its review files (disease
pre-labels by class and confidence, pathogen actions, projection resolutions), the "concerns" list, and the silver
corpora (per label, flags).

Run: ``.venv/bin/python benchmarks/imd_cases_stats.py`` (writes benchmarks/results/imd_cases_stats.{json,md}).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

from imner.corpora.imd_cases import corpus_dir
from imner.corpora import load
from imner.corpora.stats import corpus_stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import git_head, machine  # noqa: E402

OUT = Path(__file__).parent / "results"
SILVER = ("ncbi-disease-silver", "bc5cdr-silver", "pathogen-silver")


def _tsv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t",
                                   quoting=csv.QUOTE_NONE))


def _kind(evidence: str) -> str:
    """The step that decided a pre-label, from its evidence text."""
    m = re.match(r"(rule \d|DO|guideline-terms|head|abbreviation|imner lexicon)", evidence)
    kind = m.group(1) if m else "other"
    return kind + (" (lexicon disagrees)" if "imner lexicon says" in evidence else "")


def _decision_changes(cdir: Path) -> dict:
    """How many disease decisions differ from the frozen automatic pre-labels, and how many came from adjudication."""
    pre = {(r["doc_id"], r["tid"]): r["pre_label"] for r in _tsv(cdir / "prelabels.tsv")}
    dec = _tsv(cdir / "decisions" / "diseases.tsv")
    changed = [d for d in dec if pre.get((d["doc_id"], d["tid"])) != d["label"]]
    return {"disease_decisions": len(dec), "changed_from_prelabel": len(changed),
            "changed_in_adjudication": sum(1 for d in changed
                                           if d["reason"].startswith(("adjudication", "consistency")))}


def main() -> int:
    t0 = time.perf_counter()
    cdir = corpus_dir()
    imd = corpus_stats("imd-cases")
    diseases = _tsv(cdir / "review" / "diseases.tsv")
    pathogens = _tsv(cdir / "review" / "pathogens.tsv")
    projection = _tsv(cdir / "review" / "projection.tsv")
    concerns = _tsv(cdir / "concerns.tsv")
    split = {r["doc_id"]: r["split"] for r in _tsv(cdir / "split.tsv")}
    yes = [r["doc_id"] for r in concerns if r["concerns"] == "yes"]
    assertions = Counter()
    for d in load("imd-cases"):
        for s in d.spans:
            if s.attrs.get("negated"):
                assertions["negated"] += 1
            if s.attrs.get("uncertain"):
                assertions["uncertain"] += 1
    silver = {}
    for name in SILVER:
        st = corpus_stats(name, tokens=False)
        flags: Counter = Counter()
        for d in load(name):
            for s in d.spans:
                if s.attrs.get("silver_flag"):
                    flags[s.attrs["silver_flag"]] += 1
        silver[name] = {"splits": {k: {"documents": v["documents"], "entities_per_label": v["entities_per_label"]}
                                   for k, v in st["splits"].items()},
                        "annotates": st["annotates"], "flags": dict(flags), "notes": st["notes"]}
    res = {
        "name": "imd_cases_stats",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(), "git_commit": git_head(),
        "imd_cases": {"splits": imd["splits"], "total": imd["total"], "assertions": dict(assertions)},
        "review": {
            "disease_rows": len(diseases),
            "disease_terms": len(_tsv(cdir / "review" / "disease_terms.tsv")),
            "pre_label_by_confidence": dict(sorted(
                Counter(f"{r['pre_label']} / {r['confidence']}" for r in diseases).items())),
            "pre_labels": dict(Counter(r["pre_label"] for r in diseases)),
            "confidence": dict(Counter(r["confidence"] for r in diseases)),
            "evidence_kind": dict(Counter(_kind(r["evidence"]) for r in diseases).most_common()),
            "pathogen_rows": len(pathogens),
            "pathogen_actions": dict(Counter(r["action"] for r in pathogens)),
            "pathogen_flagged_rule6": sum(1 for r in pathogens if "rule6" in r["flag"]),
            "projection_resolutions": dict(Counter(r["kind"] for r in projection)),
            "reviewed_decisions": sum(1 for r in diseases if r["decision"]),
            **_decision_changes(cdir),
        },
        "concerns": {"documents": len(yes), "per_split": dict(Counter(split[d] for d in yes))},
        "silver": silver,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "imd_cases_stats.json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    (OUT / "imd_cases_stats.md").write_text(to_md(res), encoding="utf-8")
    print(to_md(res))
    return 0


def _table(header: list[str], rows: list[list[object]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def to_md(res: dict) -> str:
    imd = res["imd_cases"]
    labels = list(imd["total"]["entities_per_label"])
    rows = [[lab] + [imd["splits"][s]["entities_per_label"].get(lab, 0) for s in ("train", "dev", "test")]
            + [imd["total"]["entities_per_label"][lab]] for lab in labels]
    rows.append(["documents"] + [imd["splits"][s]["documents"] for s in ("train", "dev", "test")]
                + [imd["total"]["documents"]])
    rows.append(["tokens"] + [imd["splits"][s]["tokens"] for s in ("train", "dev", "test")] + [imd["total"]["tokens"]])
    rv = res["review"]
    parts = [
        "# imd-cases and silver corpora: counts",
        "",
        f"- date: {res['date']}; git commit {res['git_commit'][:10]}; machine: {res['machine']['platform']}, "
        f"{res['machine']['cpu_count']} CPUs; {res['seconds']} s",
        "- command: `.venv/bin/python benchmarks/imd_cases_stats.py`",
        "",
        "## imd-cases (projection + automatic first pass + review and adjudication decisions)",
        "",
        _table(["class", "train", "dev", "test", "total"], rows),
        "",
        f"Assertion attributes: {imd['assertions']}.",
        "",
        f"Documents concerning an immune-mediated or infectious disease: {res['concerns']['documents']} "
        f"({res['concerns']['per_split']}).",
        "",
        "## Review files",
        "",
        f"- review/diseases.tsv: {rv['disease_rows']} rows (one per Disease_disorder), "
        f"{rv['disease_terms']} distinct terms in review/disease_terms.tsv; decided so far: {rv['reviewed_decisions']}",
        f"- decisions/diseases.tsv: {rv['disease_decisions']} rows; {rv['changed_from_prelabel']} differ from the "
        f"pre-label ({rv['changed_in_adjudication']} of them in the agreement adjudication)",
        f"- pre-labels: {rv['pre_labels']}; confidence: {rv['confidence']}",
        f"- pre-label / confidence: {rv['pre_label_by_confidence']}",
        f"- evidence kind: {rv['evidence_kind']}",
        f"- review/pathogens.tsv: {rv['pathogen_rows']} rows; actions {rv['pathogen_actions']}; "
        f"flagged rule 6: {rv['pathogen_flagged_rule6']}",
        f"- review/projection.tsv: {rv['projection_resolutions']}",
        "",
        "## Silver corpora",
        "",
    ]
    for name, s in res["silver"].items():
        labs = sorted({lab for sp in s["splits"].values() for lab in sp["entities_per_label"]})
        parts.append(f"### {name} (annotates {', '.join(s['annotates'])})")
        parts.append("")
        parts.append(_table(["label"] + list(s["splits"]),
                            [[lab] + [sp["entities_per_label"].get(lab, 0) for sp in s["splits"].values()]
                             for lab in labs]
                            + [["documents"] + [sp["documents"] for sp in s["splits"].values()]]))
        parts.append("")
        parts.append(f"Flags (masked in training): {s['flags']}")
        parts.append("")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
