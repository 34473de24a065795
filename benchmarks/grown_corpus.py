"""The shipped default before and after retraining on the grown imd-cases (MACCROBAT part + CodiEsp part).

Both models are evaluated, with the same inference settings, on four evaluation sets: the old test split (the
MACCROBAT part's test: ``imd-cases-maccrobat`` test, unchanged since the corpus had 200 documents), the new test
portion (``imd-cases-codiesp`` test), and the two dev splits. Strict micro-F1 over the twelve classes with a
bootstrap 95% interval, and strict F1 of each focus class (IMMUNE_DISEASE, INFECTIOUS_DISEASE, PATHOGEN) with its
support. Which model ships is decided on the dev rows only (mean of the two dev micro-F1s and the macro F1 of the
focus classes over both dev splits, the criterion of ``benchmarks/select_default.py``); the test rows are reported,
never used to choose.

Run: ``python benchmarks/grown_corpus.py --before DIR --after DIR`` (model directories as ``load_tagger`` reads
them; ``--before`` defaults to the packaged default). Writes benchmarks/results/grown_corpus.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import RESULTS, header, run_info  # noqa: E402

FOCUS = ("IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "PATHOGEN")
SETS = [("old test (MACCROBAT part, 40)", "imd-cases-maccrobat", "test"),
        ("new test (CodiEsp part, 45)", "imd-cases-codiesp", "test"),
        ("dev, MACCROBAT part (20)", "imd-cases-maccrobat", "dev"),
        ("dev, CodiEsp part (21)", "imd-cases-codiesp", "dev")]


def scores(model_dir: Path) -> dict:
    from imner import corpora
    from imner.evaluate import evaluate
    from imner.taggers import load_tagger

    tagger = load_tagger(model_dir)
    out = {}
    for name, corpus, split in SETS:
        gold = corpora.load(corpus, split)
        pred = tagger.annotate([d.with_spans(()) for d in gold])
        d = evaluate(gold, pred, bootstrap=1000, seed=0).to_dict()["strict"]
        out[name] = {"documents": len(gold), "micro_f1": d["micro"]["f1"], "ci95": d["ci95"],
                     "focus": {k: {"f1": d["per_label"].get(k, {}).get("f1", 0.0),
                                   "support": d["per_label"].get(k, {}).get("support", 0)} for k in FOCUS}}
    dev = [v for k, v in out.items() if k.startswith("dev")]
    focus_macro = sum(v["focus"][k]["f1"] for v in dev for k in FOCUS) / (len(FOCUS) * len(dev))
    out["dev criterion"] = (sum(v["micro_f1"] for v in dev) + focus_macro) / (len(dev) + 1)
    return out


def main(argv: list[str] | None = None) -> int:
    from imner.pipeline import DEFAULT_MODEL_DIR

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, default=None, help="model before retraining (default: the packaged one)")
    ap.add_argument("--after", type=Path, required=True, help="model retrained on the grown corpus")
    args = ap.parse_args(argv)
    before = args.before or DEFAULT_MODEL_DIR
    info = run_info(f"python benchmarks/grown_corpus.py --before {args.before or '(packaged)'} --after {args.after}")
    res = {"info": info, "before": str(before), "after": str(args.after),
           "models": {"before": scores(before), "after": scores(args.after)}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "grown_corpus.json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    lines = header("The default model before and after retraining on the grown imd-cases", info)
    lines += ["Strict F1. Before: the network trained on the 140 MACCROBAT training reports (+ silver); after: the same",
              "configuration trained on the 299 training reports of both parts (+ silver; `configs/bilstm-default-grown.toml`: at most 12 epochs instead of 20).",
              "Same inference settings. Which one ships is decided on the dev rows only.", "",
              "| evaluation | model | micro F1 (95% CI) | IMMUNE_DISEASE | INFECTIOUS_DISEASE | PATHOGEN |",
              "|---|---|---|---|---|---|"]
    for name, *_ in SETS:
        for m in ("before", "after"):
            r = res["models"][m][name]
            foc = " | ".join(f"{r['focus'][k]['f1']:.3f} ({r['focus'][k]['support']})" for k in FOCUS)
            lines.append(f"| {name} | {m} | {r['micro_f1']:.3f} ({r['ci95'][0]:.3f}–{r['ci95'][1]:.3f}) | {foc} |")
    lines += ["", "Dev criterion (mean of the two dev micro-F1s and the focus-class macro F1 over both dev splits): "
              + ", ".join(f"{m} {res['models'][m]['dev criterion']:.3f}" for m in ("before", "after")), "",
              "Focus-class cells: F1 (support)."]
    (RESULTS / "grown_corpus.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
