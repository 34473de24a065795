"""How the imd-cases gold draws the boundaries that the agreement samples disagree on most (guideline v1.6).

Counts over all documents of a part (default: the CodiEsp part, train + dev + test; ``--corpus
imd-cases-maccrobat`` for the MACCROBAT part):

* ``TEMPORAL`` and a relation word ("after", "before", "later", "earlier", "ago", "prior"): inside the span, or
  right after it; the event counted from ("after admission"): inside, or right after the span;
* ``ANATOMY`` coordinations: one span holding "and"/"or", against two ``ANATOMY`` spans with only ",", "and" or "or"
  between them;
* degree, course and extent words: a ``SEVERITY`` span of their own, inside a span of another class, or unannotated.

Run: ``python benchmarks/boundary_conventions.py [--corpus NAME]`` (writes
``benchmarks/results/boundary_conventions.{json,md}``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import RESULTS, header, run_info  # noqa: E402

WORDS = ("mild moderate severe acute chronic subacute recurrent refractory extensive massive intense marked slight "
         "progressive persistent diffuse generalized focal numerous multiple secondary large very").split()
_RELATION = r"(?:after|before|later|earlier|ago|prior)"


def count(docs) -> dict:
    t = Counter()
    sev = {w: Counter() for w in WORDS}
    word_re = re.compile(r"\b(" + "|".join(WORDS) + r")\b", re.I)
    for d in docs:
        for s in d.spans:
            if s.label != "TEMPORAL":
                continue
            span, after = d.text[s.start:s.end], d.text[s.end:s.end + 40]
            if re.search(rf"\b{_RELATION}\b", span):
                t["relation word inside"] += 1
            elif re.match(rf"\s+{_RELATION}\b", after):
                t["relation word right after"] += 1
            if re.search(r"\b(?:after|before) (?:the )?[a-z]+", span):
                t["event inside"] += 1
            elif re.match(r"\s+(?:after|before)\s+(?:the\s+)?[a-z]+", after):
                t["event right after"] += 1
        anatomy = sorted((s.start, s.end) for s in d.spans if s.label == "ANATOMY")
        t["anatomy coordination joined"] += sum(bool(re.search(r"\b(?:and|or)\b", d.text[a:b])) for a, b in anatomy)
        t["anatomy coordination split"] += sum(bool(re.fullmatch(r"\s*(?:,|and|or|,\s*and)\s*", d.text[b:c]))
                                               for (_, b), (c, _) in zip(anatomy, anatomy[1:]))
        at = {}
        for s in d.spans:
            for i in range(s.start, s.end):
                at[i] = s
        for m in word_re.finditer(d.text):
            s = at.get(m.start())
            kind = ("SEVERITY alone" if s is not None and s.label == "SEVERITY" and (s.start, s.end) == m.span()
                    else "inside another span" if s is not None else "unannotated")
            sev[m.group(1).lower()][kind] += 1
    return {"temporal_anatomy": dict(t), "severity_words": {w: dict(c) for w, c in sev.items()}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default="imd-cases-codiesp")
    args = ap.parse_args(argv)
    from imner import corpora

    docs = [d for split in ("train", "dev", "test") for d in corpora.load(args.corpus, split)]
    res = {"info": run_info(" ".join(["python benchmarks/boundary_conventions.py", *(argv or sys.argv[1:])])),
           "corpus": args.corpus, "documents": len(docs), **count(docs)}
    md = header(f"Boundary conventions in the gold of {args.corpus} ({len(docs)} documents)", res["info"])
    md += ["| TEMPORAL / ANATOMY | spans |", "|---|---|"]
    md += [f"| {k} | {v} |" for k, v in res["temporal_anatomy"].items()]
    md += ["", "| word | SEVERITY alone | inside another span | unannotated |", "|---|---|---|---|"]
    for w, c in res["severity_words"].items():
        md.append(f"| {w} | {c.get('SEVERITY alone', 0)} | {c.get('inside another span', 0)} | "
                  f"{c.get('unannotated', 0)} |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "boundary_conventions.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "boundary_conventions.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
