"""CoNLL / IOB token-per-line files (NCBI-disease, BC5CDR, LINNAEUS ``*.tsv``; CoNLL-2003 style).

Reading (:func:`read_conll`)
----------------------------
* One token per line; columns split on tabs when the line has one, else on runs of spaces. The token is column
  ``token_col``, the tag column ``tag_col`` (BIO or BIOES). Every token line must have the same number of columns.
* Blank lines end sentences; ``-DOCSTART-`` lines start documents. A file without ``-DOCSTART-`` is one
  document (id = file stem); with them, or with ``sentences_as_docs=True``, documents are ``<stem>:<i>``
  (``i`` from 0, in file order).
* The text is rebuilt: tokens joined by one space, sentences by ``"\\n"``, so every span has real offsets.
  ``meta["source_format"] = "conll"`` marks such text (the writer then re-tokenizes it on whitespace, which makes
  read -> write -> read exact).
* Tags are decoded with :func:`imner.tags.tags_to_spans` (conlleval convention for stray ``I-``).

Writing (:func:`write_conll`)
-----------------------------
Tokens come from :func:`imner.text.sentences_with_tokens` (or whitespace/lines for text made by the reader) and
tags from :func:`imner.tags.spans_to_tags`. Spans that cannot be written exactly (edges inside a token, crossing a
sentence break, overlapping another span, discontinuous) are never dropped silently: they are returned as
``(doc id, span)`` pairs and reported in one :class:`MisalignedSpanWarning`.
"""

from __future__ import annotations

import re
import warnings
from bisect import bisect_right
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator, Literal, Sequence

from imner.errors import FormatError, InputError
from imner.io._common import iter_decoded_lines
from imner.tags import spans_to_tags, tags_to_spans
from imner.text import Token, sentences_with_tokens
from imner.types import Document, Span

DOCSTART = "-DOCSTART-"
SOURCE_FORMAT = "conll"
_TAG = re.compile(r"O\Z|[BIES]-\S.*\Z")
_WS_TOKEN = re.compile(r"\S+")


class MisalignedSpanWarning(UserWarning):
    """Spans that a token-level format could not hold exactly."""


def _columns(line: str) -> list[str]:
    return line.split("\t") if "\t" in line else line.split()


def read_conll(path: str | Path, *, token_col: int = 0, tag_col: int = -1,
               sentences_as_docs: bool = False) -> Iterator[Document]:
    """Documents of a CoNLL/IOB file (see the module doc). Malformed lines raise
    :class:`~imner.errors.FormatError` with file and line."""
    p = Path(path)
    if p.is_dir():
        raise InputError("expected a CoNLL/IOB file, got a folder", source=str(p))
    source = str(p)
    lines = list(iter_decoded_lines(p))
    multi = sentences_as_docs or any(_columns(ln)[:1] == [DOCSTART] for _, ln in lines)
    ncols: int | None = None
    sentences: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    open_segment = False            # a -DOCSTART- opened the current segment: yield it even if empty
    counter = 0

    def next_id() -> str:
        nonlocal counter
        counter += 1
        return f"{p.stem}:{counter - 1}"

    for n, line in lines:
        if not line.strip():
            if current:
                sentences.append(current)
                current = []
            continue
        cols = _columns(line)
        if cols[0] == DOCSTART:
            if current:
                sentences.append(current)
                current = []
            if open_segment or sentences:
                yield from _emit(sentences, next_id, sentences_as_docs)
            sentences, open_segment = [], True
            continue
        if ncols is None:
            ncols = len(cols)
            for col in (token_col, tag_col):
                if not -ncols <= col < ncols:
                    raise FormatError(f"column {col} does not exist: the first token line has {ncols} column(s)",
                                      source=source, line=n)
        elif len(cols) != ncols:
            raise FormatError(f"{len(cols)} column(s) where the file has {ncols}; every token line needs the same "
                              "columns (token ... tag)", source=source, line=n)
        token, tag = cols[token_col], cols[tag_col]
        if not token:
            raise FormatError("empty token", source=source, line=n)
        if not _TAG.match(tag):
            raise FormatError(f"malformed tag {tag!r}; allowed: O, B-X, I-X, E-X, S-X", source=source, line=n)
        current.append((token, tag))
    if current:
        sentences.append(current)
    if open_segment or sentences:
        if multi:
            yield from _emit(sentences, next_id, sentences_as_docs)
        else:
            yield _build(p.stem, sentences)


def _emit(sentences: list[list[tuple[str, str]]], next_id: Callable[[], str],
          sentences_as_docs: bool) -> Iterator[Document]:
    if sentences_as_docs:
        for sent in sentences:
            yield _build(next_id(), [sent])
    else:
        yield _build(next_id(), sentences)


def _build(doc_id: str, sentences: list[list[tuple[str, str]]]) -> Document:
    parts: list[str] = []
    spans: list[Span] = []
    pos = 0
    for k, sent in enumerate(sentences):
        if k:
            parts.append("\n")
            pos += 1
        tokens: list[Token] = []
        for i, (tok, _) in enumerate(sent):
            if i:
                parts.append(" ")
                pos += 1
            tokens.append(Token(pos, pos + len(tok), tok))
            parts.append(tok)
            pos += len(tok)
        spans.extend(tags_to_spans(tokens, [tag for _, tag in sent]))
    return Document(doc_id, "".join(parts), tuple(spans), {"source_format": SOURCE_FORMAT})


# ----------------------------------------------------------------------------------------------------- writing

def whitespace_sentences(text: str) -> list[tuple[tuple[int, int], list[Token]]]:
    """Sentences = lines, tokens = runs of non-space characters (the inverse of the reader's text)."""
    out = []
    pos = 0
    for line in text.split("\n"):
        toks = [Token(pos + m.start(), pos + m.end(), m.group()) for m in _WS_TOKEN.finditer(line)]
        if toks:
            out.append(((toks[0].start, toks[-1].end), toks))
        pos += len(line) + 1
    return out


def _sentences(doc: Document, tokenizer: str) -> list[tuple[tuple[int, int], list[Token]]]:
    if tokenizer == "auto":
        tokenizer = "whitespace" if doc.meta.get("source_format") == SOURCE_FORMAT else "imner"
    if tokenizer == "whitespace":
        return whitespace_sentences(doc.text)
    if tokenizer == "imner":
        return sentences_with_tokens(doc.text)
    raise ValueError(f"tokenizer must be 'auto', 'imner' or 'whitespace', got {tokenizer!r}")


def document_to_conll(doc: Document, *, scheme: Literal["BIO", "BIOES"] = "BIO", tokenizer: str = "auto",
                      align: Literal["strict", "expand"] = "strict") -> tuple[list[list[tuple[str, str]]], list[Span]]:
    """``(sentences of (token, tag), spans not written exactly)`` for one document."""
    sents = _sentences(doc, tokenizer)
    starts = [s for (s, _), _ in sents]
    per_sentence: list[list[Span]] = [[] for _ in sents]
    bad: list[Span] = []
    for span in doc.spans:
        k = bisect_right(starts, span.start) - 1
        if span.fragments or k < 0 or span.end > sents[k][0][1]:
            bad.append(span)   # discontinuous, or not inside one sentence
        else:
            per_sentence[k].append(span)
    out = []
    for ((_, _), toks), spans in zip(sents, per_sentence):
        tags, misaligned = spans_to_tags(toks, spans, scheme=scheme, align=align)
        bad.extend(misaligned)
        out.append([(t.text, tag) for t, tag in zip(toks, tags)])
    return out, sorted(set(bad), key=lambda s: (s.start, s.end, s.label))


def _sentence_lines(sents: list[list[tuple[str, str]]]) -> list[str]:
    lines: list[str] = []
    for sent in sents:
        lines.extend(f"{tok}\t{tag}" for tok, tag in sent)
        lines.append("")
    return lines


def _warn_misaligned(bad: list[tuple[str, Span]]) -> None:
    shown = "; ".join(f"{d} [{s.start}, {s.end}) {s.label}" for d, s in bad[:5])
    warnings.warn(f"{len(bad)} span(s) could not be written exactly to CoNLL (edges inside a token, across a "
                  f"sentence break, overlapping or discontinuous): {shown}{' ...' if len(bad) > 5 else ''}",
                  MisalignedSpanWarning, stacklevel=3)


def conll_record(doc: Document, *, scheme: Literal["BIO", "BIOES"] = "BIO", tokenizer: str = "auto",
                 align: Literal["strict", "expand"] = "strict") -> str:
    """One document as a streamed CoNLL block: a ``-DOCSTART-<TAB>O`` line, a blank line, then its sentences, so
    :func:`read_conll` reads a file of such blocks back as one document per block (``<stem>:<i>``, in order).
    Spans it cannot write exactly are reported in a :class:`MisalignedSpanWarning`."""
    sents, misaligned = document_to_conll(doc, scheme=scheme, tokenizer=tokenizer, align=align)
    if misaligned:
        _warn_misaligned([(doc.id, s) for s in misaligned])
    return "".join(line + "\n" for line in [f"{DOCSTART}\tO", "", *_sentence_lines(sents)])


def write_conll(docs: Iterable[Document], path: str | Path | IO[str], *, scheme: Literal["BIO", "BIOES"] = "BIO",
                tokenizer: str = "auto", align: Literal["strict", "expand"] = "strict") -> list[tuple[str, Span]]:
    """Write ``token<TAB>tag`` lines, a blank line after each sentence, and ``-DOCSTART-<TAB>O`` before each
    document when there is more than one. Returns the spans that could not be written exactly (``(doc id, span)``),
    also reported in a :class:`MisalignedSpanWarning`. ``tokenizer``: ``auto`` (whitespace for text made by
    :func:`read_conll`, else ``imner``), ``imner`` or ``whitespace``; ``align`` as in :func:`imner.tags.spans_to_tags`
    (``expand`` widens misaligned spans to whole tokens; they are still reported)."""
    docs = list(docs)
    lines: list[str] = []
    bad: list[tuple[str, Span]] = []
    for doc in docs:
        sents, misaligned = document_to_conll(doc, scheme=scheme, tokenizer=tokenizer, align=align)
        bad.extend((doc.id, s) for s in misaligned)
        if len(docs) > 1:
            lines += [f"{DOCSTART}\tO", ""]
        lines += _sentence_lines(sents)
    content = "".join(line + "\n" for line in lines)
    if hasattr(path, "write"):
        path.write(content)  # type: ignore[union-attr]
    else:
        Path(path).write_text(content, encoding="utf-8", newline="")
    if bad:
        _warn_misaligned(bad)
    return bad


def document_from_conll(sentences: Sequence[Sequence[tuple[str, str]]], doc_id: str = "doc") -> Document:
    """A document from in-memory ``(token, tag)`` sentences, built like :func:`read_conll` builds them."""
    return _build(doc_id, [list(s) for s in sentences])
