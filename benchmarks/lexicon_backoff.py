"""Ontology knowledge at tagging time: the shipped default with and without ``lexicon_backoff`` / ``lexicon_retype``
(:class:`imner.taggers.bilstm.onnx.BiLSTMOnnxTagger`), on **dev splits only** (the choice is made here; test
numbers come from ``benchmarks/default_model.py`` afterwards).

Variants: the network alone; + backoff (a Disease Ontology / NCBI Taxonomy lexicon match of IMMUNE_DISEASE,
INFECTIOUS_DISEASE or PATHOGEN that overlaps no predicted span is added); + backoff + retype (a predicted
OTHER_DISEASE or SIGN_SYMPTOM span with the extent of a lexicon immune/infectious match takes the lexicon's class);
+ widen (a focus-class lexicon match covering the shorter predicted spans it overlaps replaces them).

Evaluations: imd-cases dev (focus classes strict and partial F1 with 95% bootstrap intervals, twelve-class micro),
NCBI-disease dev (diseases), BC5CDR dev (diseases, with SIGN_SYMPTOM predictions counted as disease), and
CodiEsp-independent document-level recall of the focus classes on imd-cases dev (a document whose gold has a
class: does the prediction have that class with an overlapping span?).

Run: ``python benchmarks/lexicon_backoff.py`` (writes ``benchmarks/results/lexicon_backoff.{json,md}``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import RESULTS, git_commit, machine  # noqa: E402

FOCUS = ("IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "PATHOGEN")
DISEASES = ("IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "OTHER_DISEASE")
NCBI_MAP = {**{k: "Disease" for k in ("SpecificDisease", "DiseaseClass", "Modifier", "CompositeMention")},
            **{k: "Disease" for k in DISEASES}}
BC5_MAP = {"Disease": "Disease", **{k: "Disease" for k in (*DISEASES, "SIGN_SYMPTOM")}}
VARIANTS = {"network only": {"lexicon_backoff": [], "lexicon_retype": False, "lexicon_widen": False},
            "+ backoff": {"lexicon_backoff": list(FOCUS), "lexicon_retype": False, "lexicon_widen": False},
            "+ backoff + retype": {"lexicon_backoff": list(FOCUS), "lexicon_retype": True, "lexicon_widen": False},
            "+ backoff + widen": {"lexicon_backoff": list(FOCUS), "lexicon_retype": False, "lexicon_widen": True},
            "+ backoff + widen + retype": {"lexicon_backoff": list(FOCUS), "lexicon_retype": True,
                                           "lexicon_widen": True}}


def doc_recall(gold, pred) -> dict[str, dict[str, int]]:
    out = {}
    for lab in FOCUS:
        n = hit = 0
        for g, p in zip(gold, pred):
            gs = [s for s in g.spans if s.label == lab]
            if not gs:
                continue
            n += 1
            ps = [s for s in p.spans if s.label == lab]
            hit += any(a.start < b.end and b.start < a.end for a in gs for b in ps)
        out[lab] = {"documents": n, "found": hit, "recall": round(hit / n, 4) if n else 0.0}
    return out


def main() -> int:
    from imner import corpora
    from imner.evaluate import evaluate
    from imner.pipeline import DEFAULT_MODEL_DIR
    from imner.taggers.bilstm.onnx import BiLSTMOnnxTagger

    t0 = time.perf_counter()
    data = {"imd": corpora.load("imd-cases-maccrobat", "dev"), "ncbi": corpora.load("ncbi-disease", "dev"),
            "bc5": corpora.load("bc5cdr", "dev")}
    res = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(), "commit": git_commit(),
           "command": "python benchmarks/lexicon_backoff.py", "variants": {}}
    for name, params in VARIANTS.items():
        tagger = BiLSTMOnnxTagger(DEFAULT_MODEL_DIR, **params)
        row = {}
        pred = tagger.annotate([d.with_spans(()) for d in data["imd"]])
        rep = evaluate(data["imd"], pred, bootstrap=1000, seed=0).to_dict()
        row["imd_micro"] = rep["strict"]["micro"]["f1"]
        row["imd_focus"] = {lab: {"strict": rep["strict"]["per_label"][lab]["f1"],
                                  "strict_ci95": evaluate(data["imd"], pred, labels=(lab,), bootstrap=1000,
                                                          seed=0).to_dict()["strict"]["ci95"],
                                  "partial": rep["partial"]["per_label"][lab]["f1"],
                                  "support": rep["strict"]["per_label"][lab]["support"]} for lab in FOCUS}
        row["imd_doc_recall"] = doc_recall(data["imd"], pred)
        for key, mp in (("ncbi", NCBI_MAP), ("bc5", BC5_MAP)):
            gold = data[key]
            p = tagger.annotate([d.with_spans(()) for d in gold])
            r = evaluate(gold, p, labels=("Disease",), label_map=mp, bootstrap=1000, seed=0).to_dict()
            row[key] = {"strict": r["strict"]["micro"]["f1"], "strict_ci95": r["strict"]["ci95"],
                        "precision": r["strict"]["micro"]["precision"], "recall": r["strict"]["micro"]["recall"]}
        res["variants"][name] = row
        print(name, json.dumps({k: v for k, v in row.items() if k != "imd_focus"})[:300], file=sys.stderr)
    res["seconds"] = round(time.perf_counter() - t0, 1)
    md = ["# Ontology knowledge at tagging time (lexicon backoff / retype) on dev splits", "",
          f"- date: {res['date']}; machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs",
          f"- git commit: {res['commit']}; command: `{res['command']}`; shipped default model", "",
          "| variant | imd-cases dev micro | IMMUNE strict [95% CI] / partial (n) | INFECTIOUS strict / partial (n) | "
          "PATHOGEN strict / partial (n) | doc recall I / Inf / P | NCBI-disease dev | BC5CDR dev (+SIGN_SYMPTOM) |",
          "|---|---|---|---|---|---|---|---|"]
    for name, r in res["variants"].items():
        f = r["imd_focus"]
        cells = [f"{f[lab]['strict']:.3f} [{f[lab]['strict_ci95'][0]:.2f}-{f[lab]['strict_ci95'][1]:.2f}] / "
                 f"{f[lab]['partial']:.3f} ({f[lab]['support']})" for lab in FOCUS]
        dr = " / ".join(f"{r['imd_doc_recall'][lab]['found']}/{r['imd_doc_recall'][lab]['documents']}" for lab in FOCUS)
        md.append(f"| {name} | {r['imd_micro']:.3f} | " + " | ".join(cells) + f" | {dr} | "
                  f"{r['ncbi']['strict']:.3f} ({r['ncbi']['strict_ci95'][0]:.3f}-{r['ncbi']['strict_ci95'][1]:.3f}) | "
                  f"{r['bc5']['strict']:.3f} ({r['bc5']['strict_ci95'][0]:.3f}-{r['bc5']['strict_ci95'][1]:.3f}) |")
    md += ["", f"Time: {res['seconds']:.0f} s (shared machine)."]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "lexicon_backoff.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "lexicon_backoff.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
