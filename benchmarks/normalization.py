"""Disease normalization (imner.normalize) on the gold disease mentions of NCBI-disease and BC5CDR.

Gold: every disease mention of the split (NCBI-disease: SpecificDisease, DiseaseClass, Modifier,
CompositeMention; BC5CDR: Disease), with its MeSH/OMIM id in the span attr ``id`` (``D001234``,
``C567890``, ``OMIM:123456``; composite mentions ``D1|D2`` or ``D1+D2``; ``-1`` = no id). Each id is mapped to
DOIDs through the lexicon's cross-reference index (:meth:`imner.lexicon.Lexicon.by_xref`: DO xrefs and MONDO
exact-match mappings); the gold DOIDs of a mention are the union over its ids. Mentions whose ids map to no
DOID are counted as "unmapped gold" and left out of the accuracy.

Prediction: the :class:`~imner.normalize.Normalizer` runs on each document with its gold mentions, labelled
``DISEASE`` (any of the three disease classes: no label preference), abbreviations on. A mention is

* ``correct`` when ``code_status == "mapped"`` and its ``doid`` is among the gold DOIDs;
* ``wrong`` when mapped to another DOID, or mapped to an HPO concept through the cross-label fallback;
* ``ambiguous`` when several concepts tied (no top-1 prediction; counted as not correct);
* ``unmapped`` when nothing matched.

Reported, over mappable mentions: accuracy@1 = correct / mappable; coverage = mentions with a single
prediction (mapped) / mappable; precision = correct / mapped; counts of ambiguous (and how often the gold is
among the candidates) and unmapped predictions; per corpus, per matching stage, and overall.

The matching heuristics were tuned on the TRAIN splits only (``--split train --errors FILE``); the corpus
synonyms (stage ``corpus``, built from the train splits) and the fuzzy threshold were chosen by ``--cv 5``
(cross-validation over the train splits, ``results/normalization_cv.{json,md}``: with the packaged table the
train split is no longer a fair test); the reported numbers are on DEV.

Speed: normalization (and assertion, :class:`imner.context.ContextAnnotator`) of the same documents, warm
(second pass, lookup cache filled) and cold (fresh normalizer, lexicon already loaded), compared with the
tagger throughputs recorded in ``benchmarks/results/crf_ncbi.json`` and ``onnx_speed.json``.

Run: ``.venv/bin/python benchmarks/normalization.py`` (writes benchmarks/results/normalization.{json,md});
``--cv 5`` (about a minute) writes normalization_cv.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from imner import corpora
from imner.context import ContextAnnotator
from imner.lexicon import load_lexicon
from imner.normalize import Normalizer
from imner.text import tokenize
from imner.types import Document
from imner_dev.lexicon.corpus_terms import XREF_ARTEFACTS, gold_xrefs  # gold ids read as the synonym builder reads them

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import git_head, uncommitted_files  # noqa: E402
from _meta import machine as _meta_machine  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
NOTES = (
    "Most 'wrong' predictions of the lexicon's exact stage in cross-validation over train (--cv 5 --errors FILE) "
    "are xref artefacts (\"seizures\" -> DOID:1826 epilepsy, gold MeSH D012640 Seizures -> only DOID:11832 "
    "visual epilepsy: about 100 train mentions) or granularity differences between the MeSH gold and the DO "
    "concept the text names (\"ESRD\" -> end stage renal disease, gold MeSH D007676 -> chronic kidney disease; "
    "\"peripheral neuropathy\" -> neuropathy, gold -> peripheral nervous system disease).",
    "'unmapped gold' is large on BC5CDR: many of its MeSH ids (e.g. D064420 Drug-Related Side Effects, D056486 "
    "Chemical and Drug Induced Liver Injury) have no DO/MONDO cross-reference.",
    "Spans are labelled DISEASE (no class preference), so ties between DO concepts of different classes stay "
    "ambiguous; the packaged lexicon has almost no such ties.",
    "'without artefact gold' leaves out the mentions whose gold id is one of the MeSH ids whose only DOID "
    "cross-references name another or a narrower disease (imner_dev.lexicon.corpus_terms.XREF_ARTEFACTS, read "
    "off the TRAIN mentions: D012640 Seizures -> visual epilepsy, D003693 Delirium -> subacute delirium, ...): "
    "there a correct code for the text scores as wrong. The headline accuracy@1 keeps them.",
    "Corpus synonyms (stage 'corpus') come from the NCBI-disease, BC5CDR and BioRED TRAIN splits, with every "
    "document whose PMID is in NCBI-disease dev/test, BC5CDR dev or BioRED dev/test removed; the stage order, "
    "abbreviation rule and fuzzy threshold were chosen by 5-fold cross-validation over the train splits "
    "(normalization_cv.json).",
)
CORPORA = {"ncbi-disease": {"SpecificDisease", "DiseaseClass", "Modifier", "CompositeMention"},
           "bc5cdr": {"Disease"}}


def mention_docs(name: str, split: str) -> list[Document]:
    labels = CORPORA[name]
    return [d.with_spans(s for s in d.spans if s.label in labels) for d in corpora.load(name, split)]


def new_counts() -> dict[str, Any]:
    return {"mentions": 0, "no_gold_id": 0, "unmapped_gold": 0, "mappable": 0, "correct": 0, "wrong": 0,
            "cross_label": 0, "ambiguous": 0, "ambiguous_gold_in_candidates": 0, "unmapped": 0,
            "artefact_gold": 0, "artefact_gold_correct": 0,
            "by_stage": defaultdict(lambda: [0, 0])}


def score(counts: dict[str, Any]) -> dict[str, Any]:
    m = counts["mappable"]
    mapped = counts["correct"] + counts["wrong"]
    out = {k: v for k, v in counts.items() if k != "by_stage"}
    out.update({
        "accuracy_at_1": round(counts["correct"] / m, 4) if m else None,
        "coverage": round(mapped / m, 4) if m else None,
        "precision": round(counts["correct"] / mapped, 4) if mapped else None,
        "accuracy_at_1_without_artefact_gold": round((counts["correct"] - counts["artefact_gold_correct"])
                                                     / (m - counts["artefact_gold"]), 4)
        if m > counts["artefact_gold"] else None,
        "by_stage": {k: {"mapped": v[0], "correct": v[1], "precision": round(v[1] / v[0], 4) if v[0] else None}
                     for k, v in sorted(counts["by_stage"].items())},
    })
    return out


def evaluate(name: str, docs: list[Document], norm: Normalizer, lex, errors: list[str] | None) -> dict[str, Any]:
    c = new_counts()
    gold_doid_cache: dict[str, list[str]] = {}
    for doc in docs:
        out = norm(doc)
        for s in out.spans:
            c["mentions"] += 1
            xrefs = gold_xrefs(str(s.attrs.get("id", "")))
            if not xrefs:
                c["no_gold_id"] += 1
                c["unmapped_gold"] += 1
                continue
            gold: set[str] = set()
            for x in xrefs:
                if x not in gold_doid_cache:
                    gold_doid_cache[x] = lex.by_xref(x)
                gold.update(gold_doid_cache[x])
            if not gold:
                c["unmapped_gold"] += 1
                continue
            c["mappable"] += 1
            artefact = any(x in XREF_ARTEFACTS for x in xrefs)
            c["artefact_gold"] += artefact
            a = s.attrs
            status = a.get("code_status")
            verdict = status
            if status == "mapped":
                ok = a.get("doid") in gold
                c["correct" if ok else "wrong"] += 1
                c["artefact_gold_correct"] += artefact and ok
                if a.get("cross_label"):
                    c["cross_label"] += 1
                stage = a.get("match", "?") + ("+abbr" if "abbreviation_of" in a else "")
                c["by_stage"][stage][0] += 1
                c["by_stage"][stage][1] += ok
                verdict = "correct" if ok else "wrong"
            elif status == "ambiguous":
                c["ambiguous"] += 1
                if any(x["id"] in gold for x in a.get("candidates", ())):
                    c["ambiguous_gold_in_candidates"] += 1
            else:
                c["unmapped"] += 1
            if errors is not None and verdict != "correct":
                pred = a.get("doid") or a.get("hpo") or [x["id"] for x in a.get("candidates", ())]
                names = "; ".join(f"{g} {lex.concept(g).name}" for g in sorted(gold) if g in lex)
                errors.append(f"{verdict}\t{name}\t{doc.id}\t{s.text_in(doc.text)!r}\tpred={pred} "
                              f"{a.get('concept_name', '')!r} [{a.get('match', '')}]\tgold={a.get('id')} -> {names}")
    return score(c)


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    c = new_counts()
    for p in parts:
        for k, v in p.items():
            if k == "by_stage":
                for st, d in v.items():
                    c["by_stage"][st][0] += d["mapped"]
                    c["by_stage"][st][1] += d["correct"]
            elif k in c and isinstance(v, int):
                c[k] += v
    return score(c)


def speed(docs: list[Document], lex) -> dict[str, Any]:
    """CPU time of extraction (dictionary.v1, the default extractor while no model is packaged), normalization
    and assertion of its output, on the texts of ``docs``."""
    from imner.taggers.base import create

    texts = [d.with_spans(()) for d in docs]
    n_tokens = sum(len(tokenize(d.text)) for d in texts)
    tagger = create("dictionary.v1")
    tagger.annotate(texts[:2])  # loads the lexicon and compiles the matcher
    t0 = time.process_time()
    tagged = tagger.annotate(texts)
    t_tag = time.process_time() - t0
    norm = Normalizer(lex)
    t0 = time.process_time()
    for d in tagged:
        norm(d)
    cold = time.process_time() - t0
    t0 = time.process_time()
    for d in tagged:
        norm(d)
    warm = time.process_time() - t0
    ctx = ContextAnnotator()
    t0 = time.process_time()
    for d in tagged:
        ctx(d)
    assertion = time.process_time() - t0
    both = cold + assertion
    out: dict[str, Any] = {
        "docs": len(docs), "tokens": n_tokens, "spans": sum(len(d.spans) for d in tagged),
        "span_labels": dict(Counter(s.label for d in tagged for s in d.spans).most_common()),
        "tagger_s": round(t_tag, 3), "normalize_cold_s": round(cold, 3), "normalize_warm_s": round(warm, 3),
        "assertion_s": round(assertion, 3),
        "tagger_tokens_per_s": round(n_tokens / t_tag), "normalize_cold_tokens_per_s": round(n_tokens / cold),
        "normalize_warm_tokens_per_s": round(n_tokens / warm), "assertion_tokens_per_s": round(n_tokens / assertion),
        "added_to_dictionary_tagger": {"normalize": round(cold / t_tag, 4), "assertion": round(assertion / t_tag, 4),
                                       "both": round(both / t_tag, 4)},
        "note": "CPU time of this process (the machine is shared); spans = dictionary.v1 output on the dev texts; "
                "cold = fresh Normalizer (lexicon loaded, secondary match index built), warm = same Normalizer "
                "again (lookup cache filled); assertion = imner.context.ContextAnnotator",
    }
    recorded: dict[str, float] = {}
    crf = RESULTS / "crf_ncbi.json"
    if crf.is_file():
        recorded["crf.v1 (crf_ncbi.json, NCBI dev)"] = json.loads(crf.read_text())["dev"]["tokens_per_second"]
    onnx = RESULTS / "onnx_speed.json"
    if onnx.is_file():
        runs = json.loads(onnx.read_text()).get("runs") or []
        if runs:
            recorded["onnx.v1 int8 (onnx_speed.json)"] = runs[0]["tokens_per_s"]
    out["recorded_tagger_tokens_per_s"] = recorded
    out["added_to_recorded_taggers"] = {k: round(v * both / n_tokens, 4) for k, v in recorded.items()}
    return out


#: the configuration the Normalizer's defaults and the packaged table implement
DEFAULT_CV_CONFIG = "after=exact abbr=1 min=1 fuzzy=0.75"
#: a fuzzy match must be right at least this often (over the cross-validation folds) to be used
MIN_FUZZY_PRECISION = 0.65


def cross_validate(k: int, lex, errors: list[str] | None = None) -> dict[str, Any]:
    """Choose the corpus-synonym rules by ``k``-fold cross-validation over the TRAIN splits: for each fold, the
    table is built from the other folds (and BioRED train, minus the fold's PMIDs), and the normalizer scores
    the fold's mentions. Returns accuracy@1 over all folds per configuration (``none`` = no corpus synonyms)."""
    import zlib

    from imner_dev.lexicon import corpus_terms as ct

    docs = {name: mention_docs(name, "train") for name in CORPORA}
    held = corpora.exclude_overlap(corpora.load("biored", "train"), ct.HELD_OUT).docs
    biored = [(str(d.meta.get("pmid") or d.id), ct.mentions([d], ct.SOURCES["biored"], "biored")) for d in held]
    fold_of = {d.id: zlib.crc32(str(d.meta.get("pmid") or d.id).encode()) % k for ds in docs.values() for d in ds}
    configs: dict[str, dict[str, Any] | None] = {"none": None}
    for after in ("first", "exact", "stripped", "fallback"):
        for abbr in (True, False):
            for mm in (1, 2):
                if (mm == 2 or not abbr) and after != "exact":
                    continue
                configs[f"after={after} abbr={int(abbr)} min={mm}"] = {"after": after, "abbr": abbr, "min": mm}
    configs["after=exact abbr=1 min=1 artefacts kept"] = {"after": "exact", "abbr": True, "min": 1, "keep": True}
    for th in (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9):
        configs[f"after=exact abbr=1 min=1 fuzzy={th}"] = {"after": "exact", "abbr": True, "min": 1, "fuzzy": th}
    from imner_dev.lexicon.sources import read_disease_ontology
    from imner.config import data_path

    parents = read_disease_ontology(data_path("lexicons") / "disease_ontology").parents
    totals: dict[str, dict[str, Any]] = {}
    for name_c, cfg in configs.items():
        parts = []
        for f in range(k):
            table = None
            if cfg is not None:
                test_pmids = {str(d.meta.get("pmid") or d.id) for ds in docs.values() for d in ds
                              if fold_of[d.id] == f}
                rows = [m for name, ds in docs.items() for d in ds if fold_of[d.id] != f
                        for m in ct.mentions([d], CORPORA[name], name)]
                rows += [m for pmid, ms in biored if pmid not in test_pmids for m in ms]
                table = {key: v[0] for key, v in ct.build_table(rows, lex, abbreviations=cfg["abbr"],
                                                                   min_mentions=cfg["min"],
                                                                   parents=parents,
                                                                   exclude=() if cfg.get("keep") else
                                                                   tuple(ct.XREF_ARTEFACTS)).items()}
            norm = Normalizer(lex, label_map={lab: "DISEASE" for labs in CORPORA.values() for lab in labs},
                              corpus_terms=table or False, corpus_after=cfg["after"] if cfg else "exact",
                              fuzzy=cfg.get("fuzzy") if cfg else None)
            for name, ds in docs.items():
                parts.append(evaluate(name, [d for d in ds if fold_of[d.id] == f], norm, lex,
                                      errors if name_c == DEFAULT_CV_CONFIG else None))
        totals[name_c] = merge(parts)
        print(f"cv {name_c:40s} acc@1={_pct(totals[name_c]['accuracy_at_1'])} "
              f"precision={_pct(totals[name_c]['precision'])} fuzzy stage: "
              f"{totals[name_c]['by_stage'].get('fuzzy', {})}", flush=True)
    # the choice: best accuracy@1 among the configurations that keep the lexicon's exact matches and drop the
    # xref artefacts (the others are measured for comparison), with the fuzzy stage right >= MIN_FUZZY_PRECISION
    eligible = [n for n, c in configs.items() if c is not None and c["after"] == "exact" and not c.get("keep")
                and (totals[n]["by_stage"].get("fuzzy", {}).get("precision") or 1.0) >= MIN_FUZZY_PRECISION]
    best = max(eligible, key=lambda n: totals[n]["accuracy_at_1"])
    return {"folds": k, "best": best, "default": DEFAULT_CV_CONFIG,
            "rule": "best accuracy@1 among after=exact configurations with the xref artefacts dropped and the fuzzy "
                    f"stage's precision >= {MIN_FUZZY_PRECISION} ('first' lets the corpora's annotation conventions "
                    "replace the lexicon's exact concept, e.g. 'CP' -> cleft palate; measured, not chosen)", "results": {n: {x: r[x] for x in ("mappable", "correct", "accuracy_at_1",
                                                                        "coverage", "precision", "by_stage")}
                                                  for n, r in totals.items()}}


def cv_markdown(cv: dict[str, Any]) -> str:
    lines = ["# Disease normalization: choosing the corpus-synonym and fuzzy rules by cross-validation", "",
             f"- date: {cv['date']}", f"- machine: {cv['machine']['platform']}, {cv['machine']['cpu_count']} CPUs",
             f"- git commit: {cv['git_commit']}", f"- command: `{cv['command']}`",
             f"- data: NCBI-disease and BC5CDR TRAIN splits, {cv['folds']} folds by PMID (the table of a fold is "
             "built from the other folds and BioRED train minus the fold's PMIDs; dev is not used)",
             f"- rule: {cv['rule']}", f"- chosen: `{cv['best']}`; the packaged defaults: `{cv['default']}`", "",
             "| configuration | accuracy@1 | coverage | precision | fuzzy stage mapped / precision |",
             "|---|---|---|---|---|"]
    for name, r in cv["results"].items():
        fz = r["by_stage"].get("fuzzy")
        lines.append(f"| {name} | {_pct(r['accuracy_at_1'])} | {_pct(r['coverage'])} | {_pct(r['precision'])} | "
                     + (f"{fz['mapped']} / {_pct(fz['precision'])}" if fz else "-") + " |")
    return "\n".join(lines) + "\n"


def git_commit() -> str:
    head = git_head()
    if head == "unknown":
        return head
    dirty = uncommitted_files("src/imner/normalize", "src/imner/lexicon", "src/imner/resources/lexicon",
                              "dev/imner_dev/lexicon", "benchmarks/normalization.py")
    return head + ("+uncommitted" if dirty else "")


def machine() -> dict[str, Any]:
    return _meta_machine(load_average=[round(x, 2) for x in os.getloadavg()])


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def to_markdown(res: dict[str, Any]) -> str:
    lines = ["# Disease normalization (imner.normalize) on NCBI-disease and BC5CDR gold mentions", "",
             f"- date: {res['date']}",
             f"- machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs "
             f"(load average {res['machine']['load_average']})",
             f"- git commit: {res['git_commit']}", f"- command: `{res['command']}`",
             f"- split: {res['split']} (matching heuristics were tuned on the train splits only)",
             f"- lexicon: {res['lexicon']['path']} ({res['lexicon']['concepts']} concepts, sha256 "
             f"{res['lexicon']['sha256'][:12]}...), loaded in {res['lexicon']['load_s']} s", "",
             "Gold MeSH/OMIM ids are mapped to DOIDs through the lexicon's xref index (DO xrefs + MONDO exact "
             "matches); mentions whose ids map to no DOID (\"unmapped gold\") are excluded from the accuracy. "
             "Accuracy@1 = correct / mappable; coverage = mapped (single prediction) / mappable; "
             "precision = correct / mapped. Ambiguous (tied) predictions count as not correct.", "",
             "| corpus | mentions | unmapped gold | mappable | accuracy@1 | coverage | precision | ambiguous "
             "(gold in candidates) | unmapped predictions | accuracy@1 without artefact gold (mentions left out) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in res["results"].items():
        lines.append(f"| {name} | {r['mentions']} | {r['unmapped_gold']} | {r['mappable']} | "
                     f"{_pct(r['accuracy_at_1'])} | {_pct(r['coverage'])} | {_pct(r['precision'])} | "
                     f"{r['ambiguous']} ({r['ambiguous_gold_in_candidates']}) | {r['unmapped']} | "
                     f"{_pct(r['accuracy_at_1_without_artefact_gold'])} ({r['artefact_gold']}) |")
    lines += ["", "Notes:", *[f"- {n}" for n in NOTES]]
    lines += ["", "## By matching stage (all corpora)", "", "| stage | mapped | correct | precision |",
              "|---|---|---|---|"]
    for st, d in res["results"]["overall"]["by_stage"].items():
        lines.append(f"| {st} | {d['mapped']} | {d['correct']} | {_pct(d['precision'])} |")
    s = res["speed"]
    lines += ["", "## Speed", "",
              f"{s['docs']} dev documents, {s['tokens']:,} tokens; {s['spans']:,} spans from dictionary.v1 "
              f"({', '.join(f'{k} {v}' for k, v in s['span_labels'].items())}). {s['note']}.", "",
              "| step | CPU s | tokens/s |", "|---|---|---|",
              f"| extraction (dictionary.v1) | {s['tagger_s']} | {s['tagger_tokens_per_s']:,} |",
              f"| normalization, cold | {s['normalize_cold_s']} | {s['normalize_cold_tokens_per_s']:,} |",
              f"| normalization, warm | {s['normalize_warm_s']} | {s['normalize_warm_tokens_per_s']:,} |",
              f"| assertion | {s['assertion_s']} | {s['assertion_tokens_per_s']:,} |", "",
              f"Added to the dictionary tagger's time: normalization {_pct(s['added_to_dictionary_tagger']['normalize'])}, "
              f"assertion {_pct(s['added_to_dictionary_tagger']['assertion'])}, both "
              f"{_pct(s['added_to_dictionary_tagger']['both'])} (for scale only: the issue's budget, at most 20% of "
              "extraction time, is measured end to end with the shipped default model by benchmarks/default_model.py)."]
    for k, v in s["added_to_recorded_taggers"].items():
        lines.append(f"- both, added to {k} at its recorded {s['recorded_tagger_tokens_per_s'][k]:,.0f} tokens/s "
                     f"(other run, other load): {_pct(v)}")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="dev", choices=("train", "dev"), help="split to score (tune on train)")
    ap.add_argument("--errors", type=Path, help="write every mention not normalized correctly to this TSV file")
    ap.add_argument("--no-write", action="store_true", help="print only; do not write results/")
    ap.add_argument("--cv", type=int, metavar="K", help="choose the corpus-synonym rules by K-fold cross-validation "
                    "over the train splits (writes results/normalization_cv.json)")
    args = ap.parse_args(argv)
    t0 = time.process_time()
    lex = load_lexicon()
    load_s = time.process_time() - t0
    errors: list[str] | None = [] if args.errors else None
    if args.cv:
        cv = cross_validate(args.cv, lex, errors)
        cv.update({"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
                   "git_commit": git_commit(), "command": "python benchmarks/normalization.py "
                   + " ".join(argv if argv is not None else sys.argv[1:]), "split": "train (cross-validation)"})
        print("best:", cv["best"])
        if errors is not None:
            args.errors.write_text("\n".join(sorted(errors)) + "\n", encoding="utf-8")
        if not args.no_write:
            RESULTS.mkdir(parents=True, exist_ok=True)
            (RESULTS / "normalization_cv.json").write_text(json.dumps(cv, indent=2) + "\n", encoding="utf-8")
            (RESULTS / "normalization_cv.md").write_text(cv_markdown(cv), encoding="utf-8")
        return 0
    norm = Normalizer(lex, label_map={lab: "DISEASE" for labs in CORPORA.values() for lab in labs})
    results: dict[str, Any] = {}
    all_docs: list[Document] = []
    for name in CORPORA:
        docs = mention_docs(name, args.split)
        all_docs.extend(docs)
        results[name] = evaluate(name, docs, norm, lex, errors)
    results["overall"] = merge([results[n] for n in CORPORA])
    res = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
        "git_commit": git_commit(),
        "command": "python benchmarks/normalization.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "split": args.split,
        "lexicon": {"path": str(lex.path), "concepts": len(lex), "sha256": lex.sha256 or "", "load_s":
                    round(load_s, 2), "info_version": lex.info.get("version") or lex.info.get("imner_version")},
        "normalizer": {"label": "DISEASE (any disease class)", "abbreviations": True, "cross_label": True},
        "notes": list(NOTES),
        "results": results,
        "speed": speed(all_docs, lex),
    }
    for name, r in results.items():
        print(f"{name:13s} acc@1_without_artefact_gold={_pct(r['accuracy_at_1_without_artefact_gold'])} "
              f"({r['artefact_gold']} left out)")
        print(f"{name:13s} mentions={r['mentions']} unmapped_gold={r['unmapped_gold']} mappable={r['mappable']} "
              f"acc@1={_pct(r['accuracy_at_1'])} coverage={_pct(r['coverage'])} precision={_pct(r['precision'])} "
              f"ambiguous={r['ambiguous']} unmapped={r['unmapped']}")
    print(json.dumps(res["results"]["overall"]["by_stage"]))
    print({k: v for k, v in res["speed"].items() if k != "note"})
    if errors is not None:
        args.errors.write_text("\n".join(sorted(errors)) + "\n", encoding="utf-8")
    if not args.no_write:
        if args.split != "dev":
            print("(not writing results: only the dev split is reported)")
        else:
            RESULTS.mkdir(parents=True, exist_ok=True)
            (RESULTS / "normalization.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
            (RESULTS / "normalization.md").write_text(to_markdown(res), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
