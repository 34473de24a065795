"""Small helpers shared by the corpus modules (not a general reader API)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from imner.corpora import require
from imner.errors import FormatError, InputError


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
