"""Assertion (negation / uncertainty) of gold entity spans on MACCROBAT2020, with imner.context.

Gold, from MACCROBAT's event attribute ``POLARITY`` (read onto the trigger span by ``imner.io.brat``):

* negated   = ``NEG``;
* uncertain = ``UNCERTAIN``, ``MAYBE_POS`` or ``MAYBE_NEG``. ``MAYBE_NEG`` ("may have resolved", "rather than
  metastasis") is *not* counted as negated in the main numbers; the ``negated_incl_maybe_neg`` rows count it
  as negated too.

Historical and family have no MACCROBAT attribute; as a rough *proxy* the script also scores them against
"target span lies inside a gold ``History`` / ``Family_history`` span" (these spans cover only part of what
the rules mean by historical/family, so read those numbers as indicative only).

Span sets scored:

* ``mapped``: gold spans of the types that map to imner's 12 classes, relabelled to them; the annotator's default
  ``skip_labels`` leaves ANATOMY, LAB_VALUE, SEVERITY and TEMPORAL unasserted (counted as "not negated");
* ``all_types``: every gold span with its MACCROBAT type; MACCROBAT's concept/event types
  (:data:`TARGET_TYPES`) are asserted, the rest (modifiers: Biological_structure, Detailed_description, Dosage...)
  left unasserted; ``label_map`` maps the types onto imner's labels for the rules' ``allowed_types``;
* ``all_types_every_span``: every gold span asserted, modifiers included (what happens without the label policy).

Document subsets: ``tune`` = md5(doc id) mod 10 in 2..9 (the rules were tuned only on these), ``heldout`` =
mod 10 in {0, 1}, ``all``.

Run: ``.venv/bin/python benchmarks/assertion.py`` (writes benchmarks/results/assertion.{json,md});
``--errors FILE`` writes the false positives/negatives on the tune docs for rule tuning.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import time
from pathlib import Path

from imner.config import data_path
from imner.context import ContextAnnotator
from imner.io.brat import read_brat
from imner.text import tokenize
from imner.types import Document

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import git_head as git_commit, machine  # noqa: E402, F401  (patient.py imports both from here)

RESULTS = Path(__file__).resolve().parent / "results"

#: MACCROBAT type -> imner label (the 12 classes); the disease label chosen is irrelevant here
MAPPED = {
    "Disease_disorder": "OTHER_DISEASE", "Sign_symptom": "SIGN_SYMPTOM", "Biological_structure": "ANATOMY",
    "Diagnostic_procedure": "DIAGNOSTIC_PROCEDURE", "Lab_value": "LAB_VALUE", "Medication": "MEDICATION",
    "Therapeutic_procedure": "THERAPEUTIC_PROCEDURE", "Severity": "SEVERITY", "Date": "TEMPORAL",
    "Duration": "TEMPORAL", "Time": "TEMPORAL", "Frequency": "TEMPORAL",
}
#: MACCROBAT concept/event types that carry an assertion (everything else is a modifier of these)
TARGET_TYPES = frozenset({"Disease_disorder", "Sign_symptom", "Diagnostic_procedure", "Medication",
                          "Therapeutic_procedure", "Clinical_event", "Activity", "Coreference", "Outcome",
                          "Other_event"})


def subset_of(doc_id: str) -> str:
    return "heldout" if int(hashlib.md5(doc_id.encode()).hexdigest(), 16) % 10 in (0, 1) else "tune"


def gold_flags(span) -> dict[str, bool]:
    pol = span.attrs.get("POLARITY")
    return {"negated": pol == "NEG", "uncertain": pol in ("UNCERTAIN", "MAYBE_POS", "MAYBE_NEG"),
            "negated_incl_maybe_neg": pol in ("NEG", "MAYBE_NEG")}


def prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn,
            "support": tp + fn}


def inside(span, containers) -> bool:
    return any(c.start <= span.start and span.end <= c.end for c in containers)


def evaluate(docs: list[Document], setting: str, annotator_kwargs: dict, errors: list | None = None) -> dict:
    if setting == "mapped":
        ann = ContextAnnotator(**annotator_kwargs)
    elif setting == "all_types":
        ann = ContextAnnotator(**annotator_kwargs, label_map=MAPPED,
                               skip_labels={s.label for d in docs for s in d.spans} - TARGET_TYPES)
    else:
        ann = ContextAnnotator(**annotator_kwargs, label_map=MAPPED, skip_labels=())
    keys = ("negated", "uncertain", "negated_incl_maybe_neg", "historical_proxy", "family_proxy")
    counts = {sub: {k: [0, 0, 0] for k in keys} for sub in ("tune", "heldout", "all")}
    n_spans = {"tune": 0, "heldout": 0, "all": 0}
    for doc in docs:
        hist = [s for s in doc.spans if s.label == "History"]
        fam = [s for s in doc.spans if s.label == "Family_history"]
        if setting == "mapped":
            doc = doc.with_spans(s.evolve(label=MAPPED[s.label]) for s in doc.spans if s.label in MAPPED)
        else:
            doc = doc.with_spans(s for s in doc.spans if s.label not in ("History", "Family_history"))
        out = ann(doc)
        sub = subset_of(doc.id)
        for s in out.spans:
            g = gold_flags(s)
            g["historical_proxy"] = inside(s, hist)
            g["family_proxy"] = inside(s, fam)
            p = {"negated": bool(s.attrs.get("negated")), "uncertain": bool(s.attrs.get("uncertain")),
                 "historical_proxy": bool(s.attrs.get("historical")), "family_proxy": bool(s.attrs.get("family"))}
            p["negated_incl_maybe_neg"] = p["negated"]
            for k in keys:
                for where in (sub, "all"):
                    c = counts[where][k]
                    if p[k] and g[k]:
                        c[0] += 1
                    elif p[k]:
                        c[1] += 1
                    elif g[k]:
                        c[2] += 1
                if errors is not None and sub == "tune" and k in ("negated", "uncertain") and p[k] != g[k]:
                    ls = doc.text.rfind("\n", 0, s.start) + 1
                    le = doc.text.find("\n", s.end)
                    le = len(doc.text) if le < 0 else le
                    errors.append(f"{'FP' if p[k] else 'FN'} {k} {s.label} {doc.id} | "
                                  f"{doc.text[ls:s.start]}[[{doc.text[s.start:s.end]}]]{doc.text[s.end:le]}"
                                  f" | cues={[c['text'] for c in s.attrs.get('context_cues', [])]}"
                                  f" gold={s.attrs.get('POLARITY')}")
            n_spans[sub] += 1
            n_spans["all"] += 1
    return {sub: {"spans": n_spans[sub], **{k: prf(*counts[sub][k]) for k in keys}} for sub in counts}


def speed(docs: list[Document], repeats: int = 3) -> dict:
    ann = ContextAnnotator()
    docs = [d.with_spans(s.evolve(label=MAPPED[s.label]) for s in d.spans if s.label in MAPPED) for d in docs]
    n_tokens = sum(len(tokenize(d.text)) for d in docs)
    best = best_cpu = float("inf")
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        ann.annotate(docs)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return {"tokens": n_tokens, "spans": sum(len(d.spans) for d in docs), "seconds": round(best, 3),
            "tokens_per_s": round(n_tokens / best), "cpu_seconds": round(best_cpu, 3),
            "cpu_tokens_per_s": round(n_tokens / best_cpu),
            "note": f"best of {repeats} runs over all docs with their gold spans (mapped setting), sentence "
                    "splitting and tokenization included; the CPU-time figure is robust to a busy machine"}


def to_markdown(res: dict) -> str:
    lines = [f"# Assertion on MACCROBAT2020 gold spans (imner.context)", "",
             f"- date: {res['date']}", f"- machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs",
             f"- git commit: {res['git_commit']}", f"- command: `{res['command']}`",
             f"- docs: {res['docs']} (tune {res['subset_docs']['tune']}, held-out {res['subset_docs']['heldout']});"
             " rules were tuned on the tune docs only", "",
             "Gold: negated = POLARITY NEG; uncertain = UNCERTAIN / MAYBE_POS / MAYBE_NEG. "
             "historical/family rows are *proxies* (span inside a gold History / Family_history span).", ""]
    for setting, by_sub in res["results"].items():
        lines += [f"## {setting}", "", "| subset | attribute | spans | support | P | R | F1 |",
                  "|---|---|---|---|---|---|---|"]
        for sub in ("tune", "heldout", "all"):
            r = by_sub[sub]
            for k in ("negated", "uncertain", "negated_incl_maybe_neg", "historical_proxy", "family_proxy"):
                m = r[k]
                lines.append(f"| {sub} | {k} | {r['spans']} | {m['support']} | {m['precision']:.3f} | "
                             f"{m['recall']:.3f} | {m['f1']:.3f} |")
        lines.append("")
    s = res["speed"]
    lines += ["## Speed", "", f"{s['cpu_tokens_per_s']:,} tokens/s of CPU time ({s['cpu_seconds']} s), "
              f"{s['tokens_per_s']:,} tokens/s wall-clock ({s['seconds']} s) for {s['tokens']} tokens and "
              f"{s['spans']} spans; {s['note']}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--errors", type=Path, help="write tune-doc errors (mapped setting) to this file")
    ap.add_argument("--max-scope", type=int, default=None, help="override the annotator's default max_scope")
    ap.add_argument("--no-write", action="store_true", help="print only; do not write results/")
    args = ap.parse_args(argv)
    docs = list(read_brat(data_path("maccrobat", "MACCROBAT2020")))
    kwargs: dict = {"evidence": args.errors is not None}
    if args.max_scope is not None:
        kwargs["max_scope"] = args.max_scope
    errors: list[str] | None = [] if args.errors else None
    results = {setting: evaluate(docs, setting, kwargs, errors if setting == "mapped" else None)
               for setting in ("mapped", "all_types", "all_types_every_span")}
    res = {
        "date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(), "git_commit": git_commit(),
        "command": "python benchmarks/assertion.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "docs": len(docs),
        "subset_docs": {k: sum(subset_of(d.id) == k for d in docs) for k in ("tune", "heldout")},
        "annotator": {"rules": "src/imner/resources/context_rules.json", **{k: v for k, v in kwargs.items()}},
        "results": results, "speed": speed(docs),
    }
    for setting, by_sub in results.items():
        for sub in ("tune", "heldout", "all"):
            r = by_sub[sub]
            print(f"{setting:22s} {sub:8s} " + "  ".join(
                f"{k[:10]} P={r[k]['precision']:.3f} R={r[k]['recall']:.3f} F={r[k]['f1']:.3f}"
                for k in ("negated", "uncertain")))
    print(f"speed: {res['speed']['cpu_tokens_per_s']} tokens/s CPU, {res['speed']['tokens_per_s']} wall")
    if errors is not None:
        args.errors.write_text("\n".join(sorted(errors)) + "\n", encoding="utf-8")
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "assertion.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
        (RESULTS / "assertion.md").write_text(to_markdown(res), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
