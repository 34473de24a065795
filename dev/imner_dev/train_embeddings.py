"""Train the project's word embeddings (word2vec skip-gram, gensim) on the biomedical text of the shared data.

Text used (``$IMNER_DATA``): the train and dev splits of the registered corpora (NCBI-disease, BC5CDR, BioRED,
S800, LINNAEUS, BioNLP-ST 2011 ID; MACCROBAT2020, see below), the ADE corpus v2 sentences (DRUG-AE, DRUG-DOSE,
ADE-NEG, each sentence once), the Chia eligibility criteria (``chia_without_scope.zip``, .txt files), and from
the HPO zip the GSC+ dev abstracts and the JAX full texts, and with ``--codiesp`` the CodiEsp English case reports
(``codiesp_en_cases``, CC BY 4.0: train and background documents; the 250 ICD-coded dev documents are left out, since
they are the ICD-coding evaluation of ``benchmarks/icd_codes.py``). Nothing is labelled here: only raw text is used.

Left out, so that no evaluation text is seen even without labels:

* every **test split** (NCBI-disease, BioRED, S800, LINNAEUS, BioNLP-ST 2011 ID, GSC+ test; the BC5CDR test
  split is not in the shared data); the HPO zip's copy of NCBI-disease dev/test is not read;
* every document, in any source, whose PubMed id is that of a test-split document (BioRED, ADE and JAX share
  abstracts with NCBI-disease and others);
* MACCROBAT2020 (the texts of the ``imd-cases`` corpus): only its documents that ``corpus/imd-cases/split.tsv``
  puts in train or dev; when that file does not exist, **no** MACCROBAT text at all.

Documents are de-duplicated by PubMed id (else by text). Tokens are :func:`imner.text.tokenize` tokens,
lower-cased with digits mapped to 0 (:func:`imner.embeddings.normalize_word`), one sentence per training
sequence. Training runs on one thread.

Run: ``.venv/bin/python -m imner_dev.train_embeddings [--epochs 10] [--out models/embeddings/biomed-w2v-100]``
(or ``python benchmarks/train_embeddings.py``, the same)
(writes the embeddings directory with its manifest, and benchmarks/results/train_embeddings.{json,md}).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import zipfile  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Iterator  # noqa: E402

from imner.config import data_dir  # noqa: E402
from imner.embeddings import sentences_for_embeddings, train_word2vec  # noqa: E402

from imner_dev import REPO_ROOT as ROOT  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from _meta import git_head, machine, uncommitted_files  # noqa: E402

OUT = ROOT / "benchmarks" / "results"
IMD_SPLIT = ROOT / "corpus" / "imd-cases" / "split.tsv"
#: registered corpora whose train and dev text is used (their test split never)
CORPORA = ("ncbi-disease", "bc5cdr", "biored", "s800", "linnaeus", "bionlp11id")


def git_commit() -> tuple[str, list[str]]:
    return git_head(), uncommitted_files("src/imner/embeddings.py", "dev/imner_dev/train_embeddings.py")


def imd_split() -> dict[str, str] | None:
    """doc id -> split from ``corpus/imd-cases/split.tsv`` (None when the file does not exist)."""
    if not IMD_SPLIT.is_file():
        return None
    out: dict[str, str] = {}
    for i, line in enumerate(IMD_SPLIT.read_text(encoding="utf-8").splitlines(), 1):
        cols = line.strip().split("\t")
        if not line.strip() or line.startswith("#") or cols[0] == "doc_id":
            continue
        if len(cols) < 2 or cols[1] not in ("train", "dev", "test"):
            raise SystemExit(f"{IMD_SPLIT}:{i}: expected 'doc_id<TAB>train|dev|test', got {line!r}")
        out[cols[0]] = cols[1]
    return out


def test_pmids(imd: dict[str, str] | None) -> set[str]:
    """PubMed ids of every test-split document we know of."""
    from imner import corpora

    ids: set[str] = set()
    for name in CORPORA:
        if "test" in corpora.get(name).splits:
            ids |= {str(d.meta["pmid"]) for d in corpora.load(name, "test") if d.meta.get("pmid")}
    if imd is not None:
        ids |= {doc_id for doc_id, split in imd.items() if split == "test"}
    ids |= {pmid for pmid, _ in gsc_blocks("test")}
    return ids


def gsc_blocks(split: str) -> Iterator[tuple[str, str]]:
    """(PMID, text) of the GSC+ abstracts of ``split`` (block TSV inside the HPO zip)."""
    with zipfile.ZipFile(data_dir() / "hpo_gscplus" / "corpus.zip") as z:
        raw = z.read(f"corpus/GSC/GSCplus_{split}_gold.tsv").decode("utf-8").replace("\r\n", "\n")
    for block in raw.split("\n\n"):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if len(lines) >= 2:
            yield lines[0].strip(), lines[1]


def codiesp_texts() -> Iterator[tuple[str, str | None, str]]:
    """CodiEsp train and background case reports (never dev: the ICD-coding evaluation)."""
    path = data_dir() / "codiesp_en_cases" / "codiesp_en_cases.jsonl"
    with path.open(encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("split") in ("train", "background"):
                yield f"codiesp/{rec['split']}", None, rec["text"]


def texts(imd: dict[str, str] | None, codiesp: bool = False) -> Iterator[tuple[str, str | None, str]]:
    """(source, pmid or None, text) of every document used."""
    from imner import corpora

    if codiesp:
        yield from codiesp_texts()

    for name in CORPORA:
        for split in ("train", "dev"):
            for d in corpora.load(name, split):
                yield f"{name}/{split}", (str(d.meta["pmid"]) if d.meta.get("pmid") else None), d.text
    if imd is not None:
        for split in ("train", "dev", "test"):
            for d in corpora.load("maccrobat", split):
                if imd.get(d.id) in ("train", "dev"):
                    yield f"maccrobat(imd-cases {imd[d.id]})", d.id, d.text
    ade = data_dir() / "ade_corpus_v2"
    seen: set[tuple[str, str]] = set()
    for fname in ("DRUG-AE.rel", "DRUG-DOSE.rel"):
        for line in (ade / fname).read_text(encoding="utf-8").splitlines():
            cols = line.split("|")
            if len(cols) >= 2 and (cols[0], cols[1]) not in seen:
                seen.add((cols[0], cols[1]))
                yield f"ade/{fname}", cols[0], cols[1]
    for line in (ade / "ADE-NEG.txt").read_text(encoding="utf-8").splitlines():
        pmid, _, rest = line.partition(" ")
        sent = rest[4:] if rest.startswith("NEG ") else rest
        if sent and (pmid, sent) not in seen:
            seen.add((pmid, sent))
            yield "ade/ADE-NEG.txt", pmid, sent
    with zipfile.ZipFile(data_dir() / "chia" / "chia_without_scope.zip") as z:
        for n in sorted(z.namelist()):
            if n.endswith(".txt"):
                yield "chia", None, z.read(n).decode("utf-8")
    for pmid, text in gsc_blocks("dev"):
        yield "hpo_gscplus/GSC+ dev", pmid, text
    with zipfile.ZipFile(data_dir() / "hpo_gscplus" / "corpus.zip") as z:
        for n in sorted(z.namelist()):
            if n.startswith("corpus/JAX/txt/") and n.endswith(".txt"):
                yield "hpo_gscplus/JAX", Path(n).stem, z.read(n).decode("utf-8", errors="replace")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "models" / "embeddings" / "biomed-w2v-100"))
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--min-count", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--cbow", action="store_true", help="CBOW instead of skip-gram")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--codiesp", action="store_true",
                    help="add the CodiEsp train and background case reports (not its dev split)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    imd = imd_split()
    excluded = test_pmids(imd)
    sentences: list[list[str]] = []
    per_source: dict[str, Counter] = {}
    seen_pmids: set[str] = set()
    seen_texts: set[str] = set()
    skipped: Counter = Counter()
    # ADE rows are sentences of one abstract: de-duplicate those by (pmid, sentence) above, not by pmid
    for source, pmid, text in texts(imd, args.codiesp):
        c = per_source.setdefault(source, Counter())
        if pmid is not None and pmid in excluded:
            skipped[f"{source}: PMID of a test document"] += 1
            continue
        if pmid is not None and not source.startswith("ade/"):
            if pmid in seen_pmids:
                skipped[f"{source}: duplicate PMID"] += 1
                continue
            seen_pmids.add(pmid)
        else:
            h = hashlib.sha1(text.encode()).hexdigest()
            if h in seen_texts:
                skipped[f"{source}: duplicate text"] += 1
                continue
            seen_texts.add(h)
        sents = list(sentences_for_embeddings(text))
        c["documents"] += 1
        c["sentences"] += len(sents)
        c["tokens"] += sum(len(s) for s in sents)
        sentences.extend(sents)
    prep_s = time.perf_counter() - t0
    n_tokens = sum(len(s) for s in sentences)
    print(f"{len(sentences):,} sentences, {n_tokens:,} tokens from {len(per_source)} sources "
          f"({prep_s:.0f} s); training ...", file=sys.stderr)

    commit, uncommitted = git_commit()
    maccrobat = ("train and dev documents of corpus/imd-cases/split.tsv" if imd is not None
                 else "not used: corpus/imd-cases/split.tsv did not exist, so no MACCROBAT text was read")
    manifest = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": commit, "uncommitted_files": uncommitted,
        "command": " ".join([Path(sys.executable).name] + sys.argv),
        "data_dir": str(data_dir()),
        "sources": {k: dict(v) for k, v in per_source.items()},
        "skipped_documents": dict(skipped),
        "excluded": {"rule": "no test split of any corpus; no document whose PMID is a test document's; HPO zip's "
                             "NCBI-disease copy not read", "test_pmids": len(excluded), "maccrobat": maccrobat},
        "sentences": len(sentences), "corpus_tokens": n_tokens,
    }
    t1 = time.perf_counter()
    emb = train_word2vec(sentences, dim=args.dim, window=args.window, min_count=args.min_count,
                         epochs=args.epochs, sg=not args.cbow, seed=args.seed, workers=1, manifest=manifest)
    train_s = time.perf_counter() - t1
    emb.manifest.update(train_seconds=round(train_s, 1), prepare_seconds=round(prep_s, 1))
    out = emb.save(args.out)
    size = sum(p.stat().st_size for p in out.iterdir())
    covered = sum(n for w, n in Counter(w for s in sentences for w in s).items() if w in emb)
    probes = {w: [x for x, _ in emb.most_similar(w, 5)] for w in ("lupus", "tuberculosis", "staphylococcus",
                                                                  "vasculitis", "fever", "methotrexate")}
    res = {**{k: v for k, v in emb.manifest.items() if k != "sources"}, "sources": manifest["sources"],
           "out": os.path.relpath(out, ROOT), "bytes": size, "token_coverage": round(covered / n_tokens, 4),
           "machine": machine(), "nearest_neighbours": probes}
    OUT.mkdir(parents=True, exist_ok=True)
    stem = "train_embeddings_codiesp" if args.codiesp else "train_embeddings"
    (OUT / f"{stem}.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    md = ["# Word embeddings (word2vec) on the shared biomedical text", "",
          f"- date: {res['date']}; git commit {commit}"
          + (f" (uncommitted: {', '.join(uncommitted)})" if uncommitted else ""),
          f"- machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs (shared), one thread",
          f"- command: `{res['command']}`",
          f"- {emb.manifest['algorithm']}, gensim {emb.manifest['gensim']}, dim {args.dim}, window {args.window}, "
          f"min_count {args.min_count}, {args.epochs} epochs, seed {args.seed}",
          f"- corpus: {len(sentences):,} sentences, **{n_tokens:,} tokens**; vocabulary **{len(emb):,}** words "
          f"(covering {covered / n_tokens:.1%} of the tokens)",
          f"- time: text preparation {prep_s:.0f} s, training {train_s:.0f} s; written to `{res['out']}` "
          f"({size / 1e6:.1f} MB, float16)",
          f"- left out: {manifest['excluded']['rule']} ({len(excluded)} test PMIDs); MACCROBAT: {maccrobat}", "",
          "| source | documents | sentences | tokens |", "|---|---|---|---|"]
    for k, v in per_source.items():
        md.append(f"| {k} | {v['documents']:,} | {v['sentences']:,} | {v['tokens']:,} |")
    if skipped:
        md += ["", "Skipped: " + "; ".join(f"{k} ({v})" for k, v in sorted(skipped.items()))]
    md += ["", "Nearest neighbours (cosine):", ""]
    md += [f"- {w}: {', '.join(ns)}" for w, ns in probes.items()]
    (OUT / f"{stem}.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
