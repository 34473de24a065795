"""Tokenizer and sentence splitter for clinical text that keep exact character offsets.

Every token is ``text[start:end]``; tokens never overlap and together cover every non-space
character. Rules, in order of priority:

* known abbreviations with periods (``Dr.``, ``i.v.``, ``e.g.``, ``b.i.d.``) and letter-dot runs;
* numbers with decimals, ratios and ranges inside the number (``3.5``, ``1:640``, ``120/80``, ``10,000``);
* words with internal hyphens, slashes, apostrophes or periods between letters/digits
  (``anti-dsDNA``, ``HIV-1``, ``T2/FLAIR``, ``Crohn's``, ``g/dL``);
* any other non-space character on its own (brackets, punctuation, symbols).
"""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass
from typing import Iterator

ABBREVIATIONS: frozenset[str] = frozenset(
    a.lower() for a in (
        "Dr.", "Mr.", "Mrs.", "Ms.", "Prof.", "St.", "vs.", "etc.", "Fig.", "Figs.", "No.", "Nos.", "approx.",
        "e.g.", "i.e.", "i.v.", "i.m.", "s.c.", "p.o.", "b.i.d.", "t.i.d.", "q.i.d.", "q.d.", "p.r.n.", "a.m.",
        "p.m.", "cf.", "al.", "Jr.", "Sr.", "Inc.", "Ltd.", "Co.", "Dept.", "Tab.", "Ref.", "vol.", "pp.", "ca.",
        "spp.", "sp.", "subsp.", "var.", "min.", "max.", "hr.", "hrs.", "wk.", "wks.", "mo.", "mos.", "yr.", "yrs.",
        "Jan.", "Feb.", "Mar.", "Apr.", "Jun.", "Jul.", "Aug.", "Sep.", "Sept.", "Oct.", "Nov.", "Dec.",
    )
)

_WORD = r"[^\W_]+(?:(?:[-/'’.](?=[^\W_])|[-–](?=\d))[^\W_]+)*"
_TOKEN_RE = re.compile(
    r"(?P<abbr>(?:[A-Za-z]\.){2,}|[A-Za-z]{1,6}\.)"  # candidate abbreviation, checked against the list
    r"|(?P<num>\d+(?:[.,:/]\d+)+)"
    r"|(?P<word>" + _WORD + r")"
    r"|(?P<other>\S)",
    re.UNICODE,
)
_LETTER_DOT_RUN = re.compile(r"(?:[A-Za-z]\.){2,}")


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    text: str


def tokenize(text: str, offset: int = 0) -> list[Token]:
    """Tokens of ``text``; offsets are shifted by ``offset`` (for tokenizing a slice of a document)."""
    return list(iter_tokens(text, offset))


def iter_tokens(text: str, offset: int = 0) -> Iterator[Token]:
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN_RE.search(text, pos)
        if m is None:
            return
        kind = m.lastgroup
        start, end = m.start(), m.end()
        if kind == "abbr":
            tok = text[start:end]
            if tok.lower() not in ABBREVIATIONS and not _LETTER_DOT_RUN.fullmatch(tok):
                # not an abbreviation: take the word, leave the period for the next round
                wm = re.compile(_WORD).match(text, start)
                end = wm.end() if wm else start + 1
        yield Token(start + offset, end + offset, text[start:end])
        pos = end


_SENT_END = frozenset(".?!")
_OPENERS = frozenset("([{\"'“‘")
#: a line that ends with one of these is not wrapped mid-sentence
_LINE_END = frozenset(".?!:;")
#: tokens that start a list item when they begin a line ("- fever", "* rash", "• cough")
_BULLETS = frozenset("-*•·‣▪–—>")
#: widest line (characters) of a text that counts as hard-wrapped; longer lines are paragraphs
MAX_WRAP_WIDTH = 132
#: narrowest: shorter lines are lists or fields ("BP 120/80"), not wrapped prose
MIN_WRAP_WIDTH = 30
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def wrap_width(text: str) -> int | None:
    """The width a hard-wrapped text was wrapped at (its widest line), or None when it does not look wrapped.

    Wrapped means: at least three lines, the widest from :data:`MIN_WRAP_WIDTH` to :data:`MAX_WRAP_WIDTH`
    characters, and at least half of the lines that end without ``.?!:;`` come within 25 % of that width (the
    mark of a greedy wrap; a list, a form or a text with one paragraph per line fails it)."""
    if "\n" not in text and "\r" not in text:
        return None
    lines = [ln.rstrip() for ln in _LINE_BREAK.split(text)]
    lengths = [len(ln) for ln in lines if ln]
    if len(lengths) < 3:
        return None
    width = max(lengths)
    if not MIN_WRAP_WIDTH <= width <= MAX_WRAP_WIDTH:
        return None
    open_lines = [len(ln) for ln in lines[:-1] if ln and ln[-1] not in _LINE_END]
    if not open_lines:
        return None
    full = sum(1 for n in open_lines if n >= 0.75 * width)
    return width if full * 2 >= len(open_lines) else None


def is_soft_break(text: str, tok: Token, nxt: Token, width: int) -> bool:
    """Whether the whitespace between ``tok`` and ``nxt`` (holding a line break) is a wrap inside a sentence of a
    text wrapped at ``width`` (see :func:`split_sentences`)."""
    gap = text[tok.end:nxt.start]
    if len(_LINE_BREAK.findall(gap)) != 1 or tok.text[-1] in _LINE_END:
        return False
    if nxt.text in _BULLETS:
        return False
    after = text[nxt.end:nxt.end + 1]
    if nxt.text.isdigit() and after in (".", ")"):
        return False  # "1. ", "2) ": a numbered list
    line_start = max(text.rfind("\n", 0, tok.end), text.rfind("\r", 0, tok.end)) + 1
    line = text[line_start:tok.end].rstrip()
    word_end = nxt.start
    while word_end < len(text) and not text[word_end].isspace():
        word_end += 1
    # a greedy wrap breaks a line only when the next word does not fit on it (a little slack for wrappers
    # that count the trailing space or wrap at a width below the widest line)
    return len(line) + 1 + (word_end - nxt.start) > width - 2


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence boundaries as half-open ``(start, end)`` pairs, trimmed of surrounding whitespace.

    A sentence ends at a line break, or at ``.``, ``?`` or ``!`` (optionally followed by closing
    quotes/brackets) when the next token starts with an upper-case letter, a digit or an opening bracket.
    Abbreviations are single tokens, so their periods never end a sentence.

    Hard-wrapped text is the exception to "a line break ends a sentence": in a text whose lines were wrapped at
    a fixed width (:func:`wrap_width`), a single line break is a space (a *soft break*, :func:`is_soft_break`)
    when the line before it does not end with ``.?!:;``, the next line does not start with a list marker, and
    the next line's first word would not have fitted on the line before it (what a greedy wrap does). So
    ``fold -s -w 60`` of a text gives the sentences (and tokens) of the unwrapped text, with offsets into the
    wrapped one. A blank line always ends a sentence.
    """
    return [bounds for bounds, _ in _sentences(text)]


def _sentences(text: str) -> list[tuple[tuple[int, int], list[Token]]]:
    """Sentence bounds with their tokens, from one tokenization of the whole text."""
    tokens = tokenize(text)
    sents: list[tuple[tuple[int, int], list[Token]]] = []
    if not tokens:
        return sents
    first = 0
    start = tokens[0].start
    width = wrap_width(text)
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt is None:
            sents.append(((start, tok.end), tokens[first:i + 1]))
            break
        gap = text[tok.end:nxt.start]
        boundary = "\n" in gap or "\r" in gap
        if boundary and width is not None and is_soft_break(text, tok, nxt, width):
            boundary = False
        if not boundary and tok.text in _SENT_END and gap:
            c = nxt.text[0]
            boundary = c.isupper() or c.isdigit() or c in _OPENERS
        if not boundary and tok.text in ")]\"'”’" and gap and i > 0 and tokens[i - 1].text in _SENT_END \
                and tokens[i - 1].end == tok.start:
            c = nxt.text[0]
            boundary = c.isupper() or c.isdigit()
        if boundary:
            sents.append(((start, tok.end), tokens[first:i + 1]))
            start, first = nxt.start, i + 1
    return sents


#: texts up to this length have their sentences cached, so the steps of one pipeline (tagger, assertion) that
#: ask for the same document's sentences split it once; longer texts are split every time. With at most 32 texts
#: remembered (two pipeline batches), the cache holds at most 1.6 M characters' tokens (~40 MB): a cache of 128
#: texts of up to 200,000 characters could hold several hundred MB (as the windows of one long document filled it)
_CACHE_MAX_CHARS = 50_000


@lru_cache(maxsize=32)
def _cached_sentences(text: str) -> tuple[tuple[tuple[int, int], tuple[Token, ...]], ...]:
    return tuple((bounds, tuple(toks)) for bounds, toks in _sentences(text))


def sentences_with_tokens(text: str) -> list[tuple[tuple[int, int], list[Token]]]:
    """Each sentence span with its tokens (document offsets); the text is tokenized once (and documents of
    ordinary length are remembered for the next caller). The lists returned are the caller's own."""
    if len(text) > _CACHE_MAX_CHARS:
        return _sentences(text)
    return [(bounds, list(toks)) for bounds, toks in _cached_sentences(text)]


def within_one_sentence(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` lies inside one sentence (:func:`split_sentences`): a line break in it is then a
    soft break of wrapped text, not a sentence end. Texts without line breaks in that slice answer at once."""
    piece = text[start:end]
    if "\n" not in piece and "\r" not in piece:
        return True
    bounds = [b for b, _ in (_cached_sentences(text) if len(text) <= _CACHE_MAX_CHARS else _sentences(text))]
    return any(s <= start and end <= e for s, e in bounds)
