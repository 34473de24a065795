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

Sample 2 (RECIPE.md addendum v4) was drawn after guideline v1.3: 30 other training documents, annotated once more
from the raw text and guideline v1.3 only (``corpus/imd-cases/codiesp/agreement-v13/``), compared with the gold as it
stood then (``decisions/``, snapshotted in ``agreement-v13-gold/`` before sample 2's disagreements were adjudicated).
Sample 3 (addendum v5) likewise under guideline v1.5: ``agreement-v15/`` against the snapshot ``agreement-v15-gold/``;
sample 4 (addendum v6) under v1.6: ``agreement-v16/`` against ``agreement-v16-gold/``.

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


#: (sample, first annotation folder, second annotation folder, what the first is)
SAMPLES = (
    (1, "agreement-pass1", "agreement", "pass 1 as first made, before adjudication (guideline v1.2)"),
    (2, "agreement-v13-gold", "agreement-v13", "the gold as it stood when sample 2 was drawn (after adjudication of "
     "sample 1 and the consistency pass; snapshot before sample 2 was adjudicated), against an independent "
     "annotation under guideline v1.3"),
    (3, "agreement-v15-gold", "agreement-v15", "the gold as it stood when sample 3 was drawn (after adjudication of "
     "samples 1 and 2; snapshot before the second annotation started), against an independent annotation under "
     "guideline v1.5"),
    (4, "agreement-v16-gold", "agreement-v16", "the gold as it stood when sample 4 was drawn (snapshot before the "
     "second annotation started), against an independent annotation under guideline v1.6"),
)


RECIPE_STEP = {1: "step 6", 2: "addendum v4, step 9", 3: "addendum v5, step 10", 4: "addendum v6, step 11"}


def compare(sample_no: int, first_dir: str, second_dir: str) -> dict | None:
    """Agreement of the two annotations of one sample; None when the second annotation is not there yet."""
    cdir = codiesp.corpus_dir()
    sample = codiesp.agreement_sample(sample_no)
    if not (cdir / second_dir).is_dir():
        return None
    a_all = {d.id: d for d in codiesp.markup_documents(cdir / first_dir)}
    b_all = {d.id: d for d in codiesp.markup_documents(cdir / second_dir)}
    ids = [i for i in sample if i in a_all and i in b_all]
    a, b = [a_all[i] for i in ids], [b_all[i] for i in ids]
    report = evaluate(a, b, labels=LABEL_NAMES, bootstrap=1000, seed=0).to_dict()
    focus = evaluate(a, b, labels=FOCUS, bootstrap=1000, seed=0).to_dict()
    return {"documents": len(ids), "sample": len(sample), "first": first_dir, "second": second_dir,
            "pass1_spans": sum(len(d.spans) for d in a), "pass2_spans": sum(len(d.spans) for d in b),
            "pass1_focus": sum(sp.label in FOCUS for d in a for sp in d.spans),
            "pass2_focus": sum(sp.label in FOCUS for d in b for sp in d.spans),
            "strict": report["strict"], "type": report["type"], "partial": report["partial"],
            "focus_strict": focus["strict"], "focus_type": focus["type"]}


def table(r: dict) -> list[str]:
    s, t = r["strict"], r["type"]
    lines = [f"{r['documents']} of the {r['sample']} sample documents ({r['pass1_spans']} spans in "
             f"`{r['first']}/`, {r['pass2_spans']} in `{r['second']}/`). Strict = same boundaries and class; "
             "overlap = overlapping spans with the same class.", "",
             "| class | first spans | second spans | strict F1 | overlap F1 |", "|---|---|---|---|---|"]
    for lab in LABEL_NAMES:
        a, b = s["per_label"].get(lab), t["per_label"].get(lab)
        if a:
            mark = "**" if lab in FOCUS else ""
            lines.append(f"| {mark}{lab}{mark} | {a['support']} | {a['tp'] + a['fp']} | {a['f1']:.3f} | {b['f1']:.3f} |")
    fs, ft = r["focus_strict"], r["focus_type"]
    lines.append(f"| focus classes together | {r['pass1_focus']} | {r['pass2_focus']} | "
                 f"{fs['micro']['f1']:.3f} ({fs['ci95'][0]:.3f}–{fs['ci95'][1]:.3f}) | {ft['micro']['f1']:.3f} |")
    lines.append(f"| **micro, twelve classes** | {r['pass1_spans']} | {r['pass2_spans']} | "
                 f"**{s['micro']['f1']:.3f}** ({s['ci95'][0]:.3f}–{s['ci95'][1]:.3f}) | {t['micro']['f1']:.3f} |")
    return lines


def main() -> None:
    info = run_info("python benchmarks/agreement_codiesp.py")
    samples = {}
    lines = header("imd-cases CodiEsp part: inter-annotator agreement", info)
    for n, first, second, what in SAMPLES:
        r = compare(n, first, second)
        if r is None:
            continue
        samples[str(n)] = r
        lines += [f"## Sample {n} (RECIPE.md {RECIPE_STEP[n]}): {what}", ""]
        lines += table(r) + [""]
    # sample 1's figures stay at the top level of the JSON, where earlier readers found them
    result = {**info, **samples["1"], "samples": samples}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "agreement_codiesp.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (RESULTS / "agreement_codiesp.md").write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
