"""Small helpers shared by the corpus modules (not a general reader API)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable

from imner.corpora import require
from imner.errors import FormatError, InputError, OffsetMismatchError
from imner.types import Document


def read_text(path: Path) -> str:
    """A UTF-8 file as a ``str`` with line endings untouched (offsets index it exactly)."""
    data = require(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"not valid UTF-8 ({e.reason}); corpus text files must be UTF-8",
                         source=str(path), offset=e.start) from None


def read_id_list(path: Path) -> list[str]:
    """Document ids, one per line (blank lines ignored); an error on a repeated id."""
    ids: list[str] = []
    seen: dict[str, int] = {}
    for i, line in enumerate(read_text(path).splitlines(), 1):
        doc_id = line.strip()
        if not doc_id:
            continue
        if doc_id in seen:
            raise FormatError(f"document id {doc_id!r} listed twice (first on line {seen[doc_id]})",
                              source=str(path), line=i)
        seen[doc_id] = i
        ids.append(doc_id)
    return ids


def iob_counts(path: Path) -> dict[str, Any]:
    """Sentences, tokens and entities (``B-`` tags, per type) of a token<TAB>tag IOB file, as the source
    counts them; only for comparing with our own counts."""
    sentences = tokens = 0
    in_sentence = False
    types: Counter[str] = Counter()
    for line in read_text(path).splitlines():
        if not line.strip():
            in_sentence = False
            continue
        if not in_sentence:
            sentences += 1
            in_sentence = True
        tokens += 1
        tag = line.rsplit("\t", 1)[-1]
        if tag.startswith("B-"):
            types[tag[2:]] += 1
    return {"sentences": sentences, "tokens": tokens, "entities": sum(types.values()),
            "entities_per_label": dict(types)}


#: known upstream offset mismatches: (PMID, start, end) -> (explanation, check(mention, found) -> bool)
KnownMismatches = dict[tuple[str, int, int], tuple[str, Callable[[str, str], bool]]]


def read_pubtator_records(path: Path, *, known_mismatches: KnownMismatches | None = None,
                          drop_identical_duplicates: bool = False) -> tuple[list[Document], list[str]]:
    """Documents of a PubTator file (``meta["pmid"]`` set) and notes on what was handled.

    Offset mismatches listed in ``known_mismatches`` (and passing their check) are kept with their offsets
    and noted; any other mismatch raises :class:`OffsetMismatchError`. A PMID seen twice raises, unless
    ``drop_identical_duplicates`` and the records are identical (same text, spans and attrs): the later copy
    is then dropped and noted.
    """
    import warnings

    from imner.io._common import OffsetMismatchWarning
    from imner.io.pubtator import read_pubtator

    known = known_mismatches or {}
    require(path)
    notes: list[str] = []
    docs: list[Document] = []
    first: dict[str, Document] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OffsetMismatchWarning)  # each one is checked below
        records = list(read_pubtator(path, on_mismatch="warn"))
    for doc in records:
        for mm in doc.meta.get("offset_mismatches", ()):
            key = (doc.id, mm["start"], mm["end"])
            if key not in known or not known[key][1](mm["mention"], mm["found"]):
                raise OffsetMismatchError(expected=mm["mention"], found=mm["found"], start=mm["start"],
                                          end=mm["end"], source=str(path), line=mm["line"])
            notes.append(f"{path.name} line {mm['line']}: PMID {doc.id} [{mm['start']}, {mm['end']}) "
                         f"{mm['label']}: mention column {mm['mention']!r} != text {mm['found']!r}; "
                         f"{known[key][0]}")
        if doc.id in first:
            prev = first[doc.id]
            same = prev.text == doc.text and [(s.key, dict(s.attrs)) for s in prev.spans] == [
                (s.key, dict(s.attrs)) for s in doc.spans]
            if not (same and drop_identical_duplicates):
                raise FormatError(f"PMID {doc.id} appears twice, with "
                                  f"{'identical' if same else 'different'} content", source=str(path))
            notes.append(f"{path.name}: PMID {doc.id} appears twice (identical records, {len(doc.spans)} "
                         "mentions each); the later copy was dropped")
            continue
        first[doc.id] = doc
        docs.append(doc.with_meta(pmid=doc.id))
    if len(docs) != len(records):
        notes.append(f"{path.name}: {len(records)} records, {sum(len(d.spans) for d in records)} mention rows -> "
                     f"{len(docs)} documents, {sum(len(d.spans) for d in docs)} mentions")
    return docs, notes
