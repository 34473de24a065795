"""Patient age and sex (imner.patient.extract_patient) against MACCROBAT2020's Age and Sex gold spans.

Gold per document: the *first* (by offset) ``Age`` span, parsed with :func:`imner.patient.parse_age` (docs whose
first Age span does not parse, e.g. "young", "child", or a mislabelled "male", are counted apart), and the first
``Sex`` span mapped to female/male (woman, girl, lady, female, primipara -> female; man, boy, male -> male).

Scores:

* age: ``accuracy`` = predicted age equal to the gold value (within 0.01 year) over docs with a parsed gold age
  (no prediction counts as wrong); ``coverage`` = share of those docs with a prediction; ``evidence_overlap`` =
  share whose predicted evidence span overlaps the gold span; ``age_group_accuracy`` compares the groups;
* sex: ``accuracy`` over docs with a Sex span, ``coverage`` likewise, and for docs *without* a Sex span how
  often a sex was predicted (by term or by pronouns).

Subsets: ``tune`` = md5(doc id) mod 10 in 2..9, ``heldout`` = {0, 1}, ``all``. (The patterns were written
after reading the list of all gold Age/Sex strings, so the held-out figures are only mildly independent.)

Run: ``.venv/bin/python benchmarks/patient.py`` (writes benchmarks/results/patient.{json,md}; ``--errors`` prints
the misses).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from assertion import RESULTS, git_commit, machine, subset_of  # noqa: E402

from imner.config import data_path  # noqa: E402
from imner.io.brat import read_brat  # noqa: E402
from imner.patient import age_group, extract_patient, parse_age  # noqa: E402

GOLD_SEX = {"woman": "female", "girl": "female", "lady": "female", "female": "female", "primipara": "female",
            "man": "male", "boy": "male", "male": "male"}


def ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--errors", action="store_true", help="print the documents where a prediction is wrong/missing")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    docs = list(read_brat(data_path("maccrobat", "MACCROBAT2020")))
    keys = ("age_docs", "age_correct", "age_predicted", "age_evidence_overlap", "age_group_correct",
            "age_unparsed_gold", "age_no_gold", "age_predicted_without_gold", "sex_docs", "sex_correct",
            "sex_predicted", "sex_no_gold", "sex_predicted_without_gold", "sex_by_pronoun")
    c = {sub: dict.fromkeys(keys, 0) for sub in ("tune", "heldout", "all")}
    c0 = time.process_time()
    preds = {d.id: extract_patient(d) for d in docs}
    seconds = time.process_time() - c0
    for d in docs:
        p = preds[d.id]
        subs = (subset_of(d.id), "all")
        ages = sorted((s for s in d.spans if s.label == "Age"), key=lambda s: s.start)
        sexes = sorted((s for s in d.spans if s.label == "Sex"), key=lambda s: s.start)
        for sub in subs:
            cc = c[sub]
            if not ages:
                cc["age_no_gold"] += 1
                cc["age_predicted_without_gold"] += p["age"] is not None
            else:
                g = parse_age(ages[0].text_in(d.text))
                if g is None:
                    cc["age_unparsed_gold"] += 1
                else:
                    cc["age_docs"] += 1
                    ok = p["age"] is not None and abs(p["age"] - g[0]) < 0.01
                    cc["age_correct"] += ok
                    cc["age_predicted"] += p["age"] is not None
                    ev = p["age_evidence"]
                    cc["age_evidence_overlap"] += bool(ev and ev["start"] < ages[0].end and ages[0].start < ev["end"])
                    cc["age_group_correct"] += p["age_group"] == age_group(g[0])
                    if args.errors and not ok and sub == "all":
                        print(f"AGE {d.id} gold={ages[0].text_in(d.text)!r} -> {g[0]:.3g}; "
                              f"pred={p['age']} {p['age_evidence']}")
            if not sexes:
                cc["sex_no_gold"] += 1
                cc["sex_predicted_without_gold"] += p["sex"] is not None
            else:
                g_sex = GOLD_SEX.get(sexes[0].text_in(d.text).lower())
                cc["sex_docs"] += 1
                cc["sex_correct"] += p["sex"] == g_sex
                cc["sex_predicted"] += p["sex"] is not None
                cc["sex_by_pronoun"] += p["sex_source"] == "pronoun"
                if args.errors and p["sex"] != g_sex and sub == "all":
                    print(f"SEX {d.id} gold={sexes[0].text_in(d.text)!r} pred={p['sex']} {p['sex_evidence']}")
    results = {}
    for sub, cc in c.items():
        results[sub] = {
            "counts": cc,
            "age_accuracy": ratio(cc["age_correct"], cc["age_docs"]),
            "age_coverage": ratio(cc["age_predicted"], cc["age_docs"]),
            "age_accuracy_when_predicted": ratio(cc["age_correct"], cc["age_predicted"]),
            "age_evidence_overlap": ratio(cc["age_evidence_overlap"], cc["age_docs"]),
            "age_group_accuracy": ratio(cc["age_group_correct"], cc["age_docs"]),
            "sex_accuracy": ratio(cc["sex_correct"], cc["sex_docs"]),
            "sex_coverage": ratio(cc["sex_predicted"], cc["sex_docs"]),
            "sex_accuracy_when_predicted": ratio(cc["sex_correct"], cc["sex_predicted"]),
        }
    res = {"date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(), "git_commit": git_commit(),
           "command": "python benchmarks/patient.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "docs": len(docs), "cpu_seconds_all_docs": round(seconds, 3), "results": results}
    for sub in ("tune", "heldout", "all"):
        r = results[sub]
        print(f"{sub:8s} age acc={r['age_accuracy']:.3f} cov={r['age_coverage']:.3f} "
              f"group={r['age_group_accuracy']:.3f} ({r['counts']['age_docs']} docs)  "
              f"sex acc={r['sex_accuracy']:.3f} cov={r['sex_coverage']:.3f} ({r['counts']['sex_docs']} docs)")
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "patient.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
        (RESULTS / "patient.md").write_text(to_markdown(res), encoding="utf-8")
    return 0


def to_markdown(res: dict) -> str:
    lines = ["# Patient age and sex on MACCROBAT2020 (imner.patient)", "",
             f"- date: {res['date']}", f"- machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs",
             f"- git commit: {res['git_commit']}", f"- command: `{res['command']}`",
             f"- docs: {res['docs']}; extraction took {res['cpu_seconds_all_docs']} s of CPU time for all of them", "",
             "Gold: the first Age span (parsed to years) and the first Sex span of each document.", "",
             "| subset | docs with parsed gold age | age accuracy | age coverage | evidence overlaps gold | "
             "age-group accuracy | unparsed gold age | docs with gold sex | sex accuracy | sex coverage | "
             "sex by pronoun | docs without gold sex: sex predicted |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for sub in ("tune", "heldout", "all"):
        r = res["results"][sub]
        cc = r["counts"]
        lines.append(f"| {sub} | {cc['age_docs']} | {r['age_accuracy']:.3f} | {r['age_coverage']:.3f} | "
                     f"{r['age_evidence_overlap']:.3f} | {r['age_group_accuracy']:.3f} | {cc['age_unparsed_gold']} | "
                     f"{cc['sex_docs']} | {r['sex_accuracy']:.3f} | {r['sex_coverage']:.3f} | {cc['sex_by_pronoun']} | "
                     f"{cc['sex_predicted_without_gold']}/{cc['sex_no_gold']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
