"""The fixed document split of imd-cases (train 140 / dev 20 / test 40) and the "concerns" list behind it.

**Concerns an immune-mediated or infectious disease** (operational definition, computed once on the pre-review
annotation and frozen in ``corpus/imd-cases/concerns.tsv``): a document concerns such a disease when its
annotation has at least two *asserted* (neither negated nor uncertain) mentions of IMMUNE_DISEASE,
INFECTIOUS_DISEASE or PATHOGEN together. Two mentions rather than one, so that a single passing mention
("a history of hepatitis B", "infectious causes were excluded" is already negated) does not make a case report
about heart failure count; in case reports the main diagnosis is named repeatedly.

**Split.** Documents are shuffled with ``random.Random(SEED)`` within two strata (concerns / does not), both in
sorted id order first. The test split takes ``ceil(0.4 * concerns)`` documents of the first stratum — at least 40% of
them — and is filled to 40 with the second; dev takes its share of each stratum proportionally (rounded) to 20;
the rest is train. Deterministic: same concerns.tsv, same seed -> same split.tsv.

The split is made **once** and committed; it must not change after review (otherwise test documents leak into
training decisions). ``python -m imner_dev.annotation.split`` refuses to overwrite ``split.tsv`` or
``concerns.tsv`` without ``--force``; ``--check`` verifies that split.tsv is what the committed concerns.tsv and
the seed give.
"""

from __future__ import annotations

import csv
import math
import random
import sys
from pathlib import Path
from typing import Iterable, Mapping

from imner.types import Document

SEED = 20240611
SIZES = {"train": 140, "dev": 20, "test": 40}
TEST_SHARE_OF_CONCERNS = 0.4
CONCERN_LABELS = ("IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "PATHOGEN")
MIN_MENTIONS = 2


def concern_counts(doc: Document) -> dict[str, int]:
    """Asserted (not negated, not uncertain) mentions per concern label."""
    out = {lab: 0 for lab in CONCERN_LABELS}
    for s in doc.spans:
        if s.label in out and not s.attrs.get("negated") and not s.attrs.get("uncertain"):
            out[s.label] += 1
    return out


def concerns(docs: Iterable[Document]) -> list[dict[str, object]]:
    """One row per document: counts and whether it concerns an immune-mediated or infectious disease."""
    rows = []
    for d in sorted(docs, key=lambda d: d.id):
        c = concern_counts(d)
        total = sum(c.values())
        rows.append({"doc_id": d.id, **{k.lower(): v for k, v in c.items()}, "asserted_total": total,
                     "concerns": "yes" if total >= MIN_MENTIONS else "no"})
    return rows


def make_split(concern: Mapping[str, bool], *, seed: int = SEED, sizes: Mapping[str, int] = SIZES,
               test_share: float = TEST_SHARE_OF_CONCERNS) -> dict[str, str]:
    """doc_id -> split (see the module doc)."""
    total = sum(sizes.values())
    if len(concern) != total:
        raise ValueError(f"expected {total} documents, got {len(concern)}")
    rng = random.Random(seed)
    yes = sorted(d for d, v in concern.items() if v)
    no = sorted(d for d, v in concern.items() if not v)
    rng.shuffle(yes)
    rng.shuffle(no)
    n_test_yes = min(math.ceil(test_share * len(yes)), sizes["test"])
    n_test_no = sizes["test"] - n_test_yes
    rest_yes, rest_no = len(yes) - n_test_yes, len(no) - n_test_no
    if n_test_no < 0 or rest_no < 0:
        raise ValueError("the strata are too small for the requested sizes")
    n_dev_yes = round(sizes["dev"] * rest_yes / (rest_yes + rest_no)) if rest_yes + rest_no else 0
    n_dev_no = sizes["dev"] - n_dev_yes
    out: dict[str, str] = {}
    for d in yes[:n_test_yes] + no[:n_test_no]:
        out[d] = "test"
    for d in yes[n_test_yes:n_test_yes + n_dev_yes] + no[n_test_no:n_test_no + n_dev_no]:
        out[d] = "dev"
    for d in yes[n_test_yes + n_dev_yes:] + no[n_test_no + n_dev_no:]:
        out[d] = "train"
    return dict(sorted(out.items()))


def write_concerns(rows: list[dict[str, object]], path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("# Does the document concern an immune-mediated or infectious disease? yes = at least "
                 f"{MIN_MENTIONS} asserted (not negated, not uncertain)\n# mentions of IMMUNE_DISEASE, "
                 "INFECTIOUS_DISEASE or PATHOGEN together in the pre-review annotation. Computed once by\n"
                 "# `python -m imner_dev.annotation.split` and frozen: the split is derived from this file.\n")
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def read_concerns(path: Path) -> dict[str, bool]:
    with open(path, encoding="utf-8", newline="") as fh:
        return {r["doc_id"]: r["concerns"] == "yes"
                for r in csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t")}


def write_split(split: Mapping[str, str], path: Path, *, seed: int = SEED) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(f"# imd-cases document split, made once by `python -m imner_dev.annotation.split` (seed {seed}) from\n"
                 "# concerns.tsv; fixed: it must not change after review. See imner_dev/annotation/split.py.\n")
        fh.write("doc_id\tsplit\n")
        for d, s in sorted(split.items()):
            fh.write(f"{d}\t{s}\n")


def main(argv: list[str] | None = None) -> int:
    import argparse
    from collections import Counter

    from imner.corpora.imd_cases import corpus_dir

    p = argparse.ArgumentParser(prog="python -m imner_dev.annotation.split", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus-dir", type=Path, default=None)
    p.add_argument("--force", action="store_true", help="overwrite concerns.tsv and split.tsv (never after review!)")
    p.add_argument("--check", action="store_true", help="verify split.tsv against concerns.tsv and the seed")
    args = p.parse_args(argv)
    cdir = args.corpus_dir or corpus_dir()
    cpath, spath = cdir / "concerns.tsv", cdir / "split.tsv"
    if args.check:
        from imner.corpora.imd_cases import read_split

        want = make_split(read_concerns(cpath))
        have = read_split(spath)
        if want != have:
            print(f"{spath} differs from the split concerns.tsv and seed {SEED} give", file=sys.stderr)
            return 1
        print(f"{spath} is reproducible from {cpath.name} (seed {SEED})", file=sys.stderr)
        return 0
    if (cpath.exists() or spath.exists()) and not args.force:
        print(f"{cpath.name}/{spath.name} exist and are frozen; use --check to verify, --force to remake "
              "(only before any review)", file=sys.stderr)
        return 1
    from imner.corpora.imd_cases import load_documents
    from imner_dev.annotation.build import source_dir

    rows = concerns(load_documents(source_dir(), cdir / "ann"))
    write_concerns(rows, cpath)
    split = make_split({r["doc_id"]: r["concerns"] == "yes" for r in rows})
    write_split(split, spath)
    yes = {r["doc_id"] for r in rows if r["concerns"] == "yes"}
    counts = Counter(split.values())
    in_test = sum(1 for d in yes if split[d] == "test")
    print(f"{len(yes)} of {len(rows)} documents concern an immune-mediated/infectious disease; split {dict(counts)}; "
          f"test holds {in_test} of them ({in_test / max(1, len(yes)):.0%})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
