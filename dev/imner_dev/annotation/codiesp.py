"""The CodiEsp part of imd-cases: selection, frozen pre-annotation, review markup, build and agreement.

The part adds English machine translations of Spanish case reports (CodiEsp, CLEF eHealth 2020, CC BY 4.0;
``$IMNER_DATA/codiesp_en_cases``) to the MACCROBAT part. Texts are never copied: the annotation lives in
``corpus/imd-cases/codiesp/`` and the built brat files in ``corpus/imd-cases/ann-codiesp/``.

Workflow (docs/corpus.md):

1. ``select`` — the documents, by ``codiesp/RECIPE.md`` (written before it was run) → ``codiesp/selection.tsv``.
2. ``prelabel`` — frozen pre-annotation by the default model and the lexicon → ``codiesp/prelabels.tsv``, rendered
   as review markup in ``codiesp/review/<id>.txt``.
3. Annotators read every document and write the final annotation, in the same markup, to
   ``codiesp/decisions/<id>.txt`` (``check`` validates a file); a second, independent annotation of the agreement
   sample, made from the raw text, is in ``codiesp/agreement/<id>.txt``.
4. ``build`` (part of ``imner imd-cases build``) turns the decisions into ``ann-codiesp/<id>.ann`` and the CodiEsp
   rows of ``split.tsv``; ``imner imd-cases check`` verifies both. Nothing in the output is edited by hand.

Review markup: the document text with each entity written inline as ``[[mention|LABEL]]``, or
``[[mention|LABEL|neg]]`` / ``|unc`` (negated / uncertain); an optional last field ``|#note`` records the reason for
a disease-class or pathogen decision. Removing the markup gives back the original text exactly.
"""


from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from imner.schema import LABEL_NAMES as LABELS

if TYPE_CHECKING:
    from imner.types import Document

SEED = "20261201"
FOCUS = ("IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "PATHOGEN")
PER_STRATUM = 95
#: recipe addendum v2: the next documents of the immune-rich ranking
PER_STRATUM_2 = 30
PER_STRATUM_3 = 5
MIN_WORDS, MAX_WORDS = 150, 700


def corpus_dir() -> Path:
    from imner.corpora.imd_cases import corpus_dir as imd_dir

    return imd_dir() / "codiesp"


def read_texts(ids: set[str] | None = None) -> dict[str, dict]:
    from imner.corpora.imd_cases import read_codiesp_records

    return read_codiesp_records(ids)


def seeded(doc_id: str) -> str:
    return hashlib.sha256(f"{SEED}:{doc_id}".encode()).hexdigest()


def select() -> list[dict]:
    from imner.taggers.dictionary import DictionaryTagger
    from imner.types import Document

    pool = [r for r in read_texts().values()
            if r["split"] in ("train", "background") and MIN_WORDS <= len(r["text"].split()) <= MAX_WORDS]
    tagger = DictionaryTagger(labels=FOCUS)
    scores = {}
    for r in pool:
        spans = tagger.predict([Document(r["codiesp_id"], r["text"])])[0]
        c = {k: 0 for k in FOCUS}
        for s in spans:
            c[s.label] += 1
        scores[r["codiesp_id"]] = (c["IMMUNE_DISEASE"], c["INFECTIOUS_DISEASE"] + c["PATHOGEN"], r)
    imm_ranked = sorted((k for k, v in scores.items() if v[0] >= 2),
                        key=lambda k: (-scores[k][0], -scores[k][1], seeded(k)))
    imm = imm_ranked[:PER_STRATUM]
    chosen = set(imm)
    inf = sorted((k for k, v in scores.items() if v[1] >= 3 and k not in chosen),
                 key=lambda k: (-scores[k][1], -scores[k][0], seeded(k)))[:PER_STRATUM]
    chosen |= set(inf)
    rest = [k for k in imm_ranked[PER_STRATUM:] if k not in chosen]
    imm2, imm3 = rest[:PER_STRATUM_2], rest[PER_STRATUM_2:PER_STRATUM_2 + PER_STRATUM_3]
    rows = []
    for stratum, ids in (("immune-rich", imm), ("infectious-rich", inf), ("immune-rich-2", imm2), ("immune-rich-3", imm3)):
        ordered = sorted(ids, key=seeded)
        n_test, n_dev = round(0.2 * len(ordered)), int(0.1 * len(ordered))
        train_seen = 0
        for i, k in enumerate(ordered):
            split = "test" if i < n_test else "dev" if i < n_test + n_dev else "train"
            second = split == "train" and train_seen < 15 and stratum in ("immune-rich", "infectious-rich")
            train_seen += split == "train"
            i_, np_, r = scores[k]
            rows.append({"doc_id": k, "stratum": stratum, "split": split, "second_pass": "yes" if second else "no",
                         "dict_immune": i_, "dict_infectious_pathogen": np_, "words": len(r["text"].split()),
                         "codiesp_split": r["split"]})
    return rows


def write_selection(rows: list[dict]) -> None:
    corpus_dir().mkdir(parents=True, exist_ok=True)
    with open(corpus_dir() / "selection.tsv", "w", encoding="utf-8", newline="") as fh:
        fh.write("# CodiEsp documents of imd-cases, chosen by RECIPE.md (recipe v1 + addenda v2, v3, seed 20261201). Frozen.\n")
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def read_selection() -> list[dict]:
    with open(corpus_dir() / "selection.tsv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t"))


def agreement_sample(n: int) -> list[str]:
    """The documents of agreement sample ``n`` (RECIPE.md step 6 for 1, addendum v4 step 9 for 2, addendum v5
    step 10 for 3, addendum v6 step 11 for 4).

    Sample 1 is ``second_pass == "yes"`` in ``selection.tsv``; samples 2-4 are the next 15 training documents of
    the strata immune-rich and infectious-rich in seeded-hash order (training ranks 16-30, 31-45, 46-60 of each).
    """
    rows = read_selection()
    if n == 1:
        return [r["doc_id"] for r in rows if r["second_pass"] == "yes"]
    if n not in (2, 3, 4):
        raise ValueError(f"agreement sample {n}: only 1 to 4 exist (RECIPE.md steps 6, 9, 10 and 11)")
    lo = 15 * (n - 1)
    out = []
    for stratum in ("immune-rich", "infectious-rich"):
        train = sorted((r["doc_id"] for r in rows if r["stratum"] == stratum and r["split"] == "train"), key=seeded)
        out += train[lo:lo + 15]
    return out


def prelabel() -> None:
    """Frozen pre-annotation: the shipped default model (+ assertion) and, where the model found nothing
    overlapping, the lexicon's focus-class matches. Documents that already have pre-labels keep them: only
    documents added to the selection since (recipe addendum v2) are pre-annotated, and appended."""
    from imner.pipeline import load_pipeline
    from imner.taggers.dictionary import DictionaryTagger
    from imner.types import Document

    path = corpus_dir() / "prelabels.tsv"
    done = set(read_prelabels()) if path.exists() else set()
    sel = [r for r in read_selection() if r["doc_id"] not in done]
    texts = read_texts({r["doc_id"] for r in sel})
    pipe = load_pipeline(normalize=False, patient=False)
    dic = DictionaryTagger(labels=FOCUS)
    out = []
    docs = [Document(r["doc_id"], texts[r["doc_id"]]["text"]) for r in sel]
    for i in range(0, len(docs), 16):
        batch = docs[i:i + 16]
        tagged = pipe(batch)
        lex = dic.predict(batch)
        for d, extra in zip(tagged, lex):
            spans = [(s.start, s.end, s.label, bool(s.attrs.get("negated")), bool(s.attrs.get("uncertain")), "model")
                     for s in d.spans]
            for s in extra:
                if not any(a < s.end and s.start < b for a, b, *_ in spans):
                    spans.append((s.start, s.end, s.label, False, False, "lexicon"))
            spans.sort()
            kept = []
            for sp in spans:  # flat: drop a later span overlapping a kept one
                if kept and sp[0] < kept[-1][1]:
                    continue
                kept.append(sp)
            for a, b, lab, neg, unc, src in kept:
                out.append((d.id, a, b, lab, int(neg), int(unc), src, d.text[a:b]))
    with open(path, "a" if done else "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        if not done:
            fh.write("# Frozen pre-annotation of the CodiEsp part: shipped default model (bilstm-onnx.v1) + assertion, and\n"
                     "# lexicon focus-class matches where the model found nothing overlapping. Never edited by hand.\n")
            w.writerow(["doc_id", "start", "end", "label", "negated", "uncertain", "source", "mention"])
        w.writerows(out)


def read_prelabels() -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    with open(corpus_dir() / "prelabels.tsv", encoding="utf-8", newline="") as fh:
        rows = csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t")
        for r in rows:
            out.setdefault(r["doc_id"], []).append((int(r["start"]), int(r["end"]), r["label"],
                                                    r["negated"] == "1", r["uncertain"] == "1"))
    return out


def render(text: str, spans: list[tuple]) -> str:
    parts, pos = [], 0
    for a, b, lab, neg, unc in sorted(spans):
        parts.append(text[pos:a])
        flags = ("|neg" if neg else "") + ("|unc" if unc else "")
        parts.append(f"[[{text[a:b]}|{lab}{flags}]]")
        pos = b
    parts.append(text[pos:])
    return "".join(parts)


_MARK = re.compile(r"\[\[([^\[\]|]+)\|([A-Z_]+)((?:\|[^\[\]|]*)*)\]\]")


@dataclass
class Mention:
    start: int
    end: int
    label: str
    negated: bool
    uncertain: bool
    note: str


def parse(markup: str, text: str, source: str = "<markup>") -> list[Mention]:
    """Spans of a review markup file; raises ValueError naming the line if the markup does not give back
    ``text`` exactly, or a label/flag is unknown."""
    out, plain, pos, off = [], [], 0, 0
    for m in _MARK.finditer(markup):
        plain.append(markup[pos:m.start()])
        off += m.start() - pos
        mention, label, rest = m.group(1), m.group(2), m.group(3)
        line = markup.count("\n", 0, m.start()) + 1
        if label not in LABELS:
            raise ValueError(f"{source}:{line}: unknown label {label!r} in {m.group(0)!r}; allowed: {', '.join(LABELS)}")
        neg = unc = False
        note = ""
        for f in [x for x in rest.split("|") if x]:
            if f == "neg":
                neg = True
            elif f == "unc":
                unc = True
            elif f.startswith("#"):
                note = f[1:].strip()
            else:
                raise ValueError(f"{source}:{line}: unknown flag {f!r} in {m.group(0)!r}; allowed: neg, unc, #note")
        if mention != mention.strip():
            raise ValueError(f"{source}:{line}: mention {mention!r} starts or ends with white space")
        out.append(Mention(off, off + len(mention), label, neg, unc, note))
        plain.append(mention)
        off += len(mention)
        pos = m.end()
    plain.append(markup[pos:])
    got = "".join(plain)
    if got.endswith("\n") and not text.endswith("\n"):
        got = got[:-1]  # the newline an editor adds at the end of a file
    if "[[" in got or "]]" in got:
        i = got.find("[[") if "[[" in got else got.find("]]")
        raise ValueError(f"{source}:{got.count(chr(10), 0, i) + 1}: malformed markup near {got[max(0, i - 20):i + 30]!r}")
    if got != text:
        i = next((k for k, (x, y) in enumerate(zip(got, text)) if x != y), min(len(got), len(text)))
        raise ValueError(f"{source}:{text.count(chr(10), 0, i) + 1}: the text differs from the source at offset {i}: "
                         f"markup gives {got[max(0, i - 20):i + 20]!r}, source has {text[max(0, i - 20):i + 20]!r}")
    return out


def write_review() -> None:
    sel = read_selection()
    texts = read_texts({r["doc_id"] for r in sel})
    pre = read_prelabels()
    rdir = corpus_dir() / "review"
    rdir.mkdir(exist_ok=True)
    for r in sel:
        t = texts[r["doc_id"]]["text"]
        m = render(t, pre.get(r["doc_id"], []))
        assert [(x.start, x.end, x.label) for x in parse(m, t)] == [(a, b, l) for a, b, l, *_ in sorted(pre.get(r["doc_id"], []))]
        (rdir / f"{r['doc_id']}.txt").write_text(m, encoding="utf-8")


def check_files(paths: list[str]) -> int:
    sel = {r["doc_id"] for r in read_selection()}
    texts = read_texts(sel)
    bad = 0
    for p in paths:
        doc_id = Path(p).stem
        if doc_id not in texts:
            print(f"{p}: not a selected document id"); bad += 1; continue
        try:
            ms = parse(Path(p).read_text(encoding="utf-8"), texts[doc_id]["text"], p)
        except ValueError as e:
            print(f"ERROR {e}"); bad += 1; continue
        prev = None
        for m in ms:
            if prev and m.start < prev.end:
                print(f"ERROR {p}: overlapping spans"); bad += 1
            prev = m
        c = {k: sum(m.label == k for m in ms) for k in FOCUS}
        print(f"ok {p}: {len(ms)} spans; " + ", ".join(f"{k}={v}" for k, v in c.items()))
    return 1 if bad else 0


# ---------------------------------------------------------------- build


def decision_files(directory: Path | None = None) -> dict[str, Path]:
    d = directory or corpus_dir() / "decisions"
    return {p.stem: p for p in sorted(d.glob("*.txt"))}


def markup_documents(directory: Path, texts: dict[str, dict] | None = None) -> list["Document"]:
    """The documents annotated in ``directory`` (review markup, one file per document), as imd-cases documents:
    T ids in text order, ``negated``/``uncertain`` and the annotator's ``note`` in attrs."""
    from imner.errors import InputError
    from imner.types import Document, Span

    files = decision_files(directory)
    selected = {r["doc_id"] for r in read_selection()}
    unknown = sorted(set(files) - selected)
    if unknown:
        raise InputError(f"{len(unknown)} files are not selected documents ({', '.join(unknown[:3])}); "
                         "allowed: the ids of codiesp/selection.tsv", source=str(directory))
    texts = texts if texts is not None else read_texts(set(files))
    docs = []
    for doc_id, path in files.items():
        text = texts[doc_id]["text"]
        try:
            mentions = parse(path.read_text(encoding="utf-8"), text, str(path))
        except ValueError as e:
            raise InputError(str(e), source=str(path)) from None
        spans, prev_end = [], -1
        for i, m in enumerate(mentions, start=1):
            if m.start < prev_end:
                raise InputError(f"span {text[m.start:m.end]!r} at {m.start} overlaps the previous one",
                                 source=str(path))
            prev_end = m.end
            attrs = {"source_id": f"T{i}"}
            if m.negated:
                attrs["negated"] = True
            if m.uncertain:
                attrs["uncertain"] = True
            if m.note:
                attrs["note"] = m.note
            spans.append(Span(m.start, m.end, m.label, attrs=attrs))
        docs.append(Document(doc_id, text, tuple(spans), {"source": "CodiEsp"}))
    return docs


def split_rows() -> dict[str, str]:
    """doc_id -> split of the annotated CodiEsp documents, as the recipe assigned it (selection.tsv)."""
    annotated = set(decision_files())
    return {r["doc_id"]: r["split"] for r in read_selection() if r["doc_id"] in annotated}


def update_split_file(check: bool = False) -> int:
    """``split.tsv``: the MACCROBAT rows as they are, plus one row per annotated CodiEsp document with the split
    its recipe gave (``selection.tsv``). With ``check``, exit 1 if the file is not exactly that."""
    from imner.corpora.imd_cases import read_split
    from imner_dev.annotation.split import write_split

    spath = corpus_dir().parent / "split.tsv"
    have = read_split(spath)
    want = {k: v for k, v in have.items() if k.isdigit()} | split_rows()
    if check:
        if have != want:
            print(f"{spath}: the CodiEsp rows differ from selection.tsv for the annotated documents; run imner "
                  "imd-cases build", file=sys.stderr)
            return 1
        return 0
    write_split(want, spath)
    return 0


def build(check: bool = False) -> int:
    """Write (or, with ``check``, verify) ``ann-codiesp/`` from the decisions, and the CodiEsp rows of split.tsv."""
    from imner_dev.annotation.build import check_ann, format_ann_text, BuildResult

    out = corpus_dir().parent / "ann-codiesp"
    docs = markup_documents(corpus_dir() / "decisions")
    if check:
        bad = check_ann(BuildResult(docs, [], [], []), out)
        extra = sorted({p.stem for p in out.glob("*.ann")} - {d.id for d in docs}) if out.exists() else []
        if bad or extra:
            print(f"ann-codiesp: {len(bad)} .ann files differ from a fresh build ({', '.join(bad[:5])}), "
                  f"{len(extra)} have no decisions file ({', '.join(extra[:5])}); run imner imd-cases build",
                  file=sys.stderr)
            return 1
        print(f"ann-codiesp: all {len(docs)} .ann files match the decisions", file=sys.stderr)
        return update_split_file(check=True)
    out.mkdir(parents=True, exist_ok=True)
    keep = {f"{d.id}.ann" for d in docs}
    for old in out.glob("*.ann"):
        if old.name not in keep:
            old.unlink()
    for d in docs:
        (out / f"{d.id}.ann").write_text(format_ann_text(d), encoding="utf-8", newline="")
    print(f"ann-codiesp: wrote {len(docs)} .ann files", file=sys.stderr)
    return update_split_file()


def decision_counts() -> dict[str, int]:
    """How the final annotation differs from the frozen pre-annotation: kept, relabelled (same boundaries),
    boundary-fixed (overlapping, other boundaries), removed, added; and flag changes."""
    from collections import Counter

    pre = read_prelabels()
    c: Counter = Counter()
    for d in markup_documents(corpus_dir() / "decisions"):
        p = sorted(pre.get(d.id, []))
        final = {(s.start, s.end): s for s in d.spans}
        used = set()
        for a, b, lab, neg, unc in p:
            s = final.get((a, b))
            if s is not None:
                used.add((a, b))
                c["kept" if s.label == lab else "relabelled"] += 1
                if bool(s.attrs.get("negated")) != neg or bool(s.attrs.get("uncertain")) != unc:
                    c["flag changed"] += 1
            elif any(x < b and a < y for (x, y) in final):
                c["boundary fixed"] += 1
            else:
                c["removed"] += 1
        pre_keys = [(a, b) for a, b, *_ in p]
        for (x, y) in final:
            if (x, y) not in used and not any(a < y and x < b for a, b in pre_keys):
                c["added"] += 1
        c["documents"] += 1
    return dict(c)


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m imner_dev.annotation.codiesp", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("select", help="choose the documents by RECIPE.md (refuses to overwrite selection.tsv)")
    s.add_argument("--force", action="store_true")
    sub.add_parser("prelabel", help="frozen pre-annotation of the selected documents that have none yet + review markup")
    s = sub.add_parser("check-files", help="validate review-markup files (for annotators)")
    s.add_argument("files", nargs="+")
    sub.add_parser("build", help="decisions -> ann-codiesp/")
    sub.add_parser("check", help="exit 1 unless ann-codiesp/ equals a fresh build")
    sub.add_parser("stats", help="how the final annotation differs from the pre-annotation")
    args = p.parse_args(argv)
    cdir = corpus_dir()
    if args.cmd == "select":
        if (cdir / "selection.tsv").exists() and not args.force:
            print(f"{cdir / 'selection.tsv'} is frozen; --force remakes it (never after annotation)", file=sys.stderr)
            return 1
        write_selection(select())
        return 0
    if args.cmd == "prelabel":
        prelabel()  # only documents without pre-labels; existing rows are never rewritten
        write_review()
        return 0
    if args.cmd == "check-files":
        return check_files(args.files)
    if args.cmd in ("build", "check"):
        return build(check=args.cmd == "check")
    if args.cmd == "stats":
        print(json.dumps(decision_counts(), indent=1))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
