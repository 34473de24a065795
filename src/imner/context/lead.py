r"""The speed index of the matcher: which words every match of a rule's regular expression starts with.

:func:`lead_words` reads the parsed regex from Python's ``re._parser`` (a private module: any change there
makes :func:`lead_words` return ``None``, and the matcher then searches that rule over the whole text, slower
but with the same matches). ``tests/test_context.py`` checks the index against a whole-text search.
"""

from __future__ import annotations

import json
import re
from typing import Any, Sequence

_MAX_LEAD_STATES = 5_000
#: the lead "word" of a pattern whose matches may start with a decimal digit after a word boundary
#: (``\b\d+\s+weeks``): the matcher tries it at every word that starts with a digit
DIGIT_LEAD = "\\d"


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _is_word_class(sub: Any) -> bool:
    """Whether a parsed sub-pattern is exactly ``\\w``."""
    return str(list(sub)) == "[(IN, [(CATEGORY, CATEGORY_WORD)])]"


def _is_digit_class(av: Any) -> bool:
    """Whether a parsed character class (``IN``) holds decimal digits only (``\\d``, ``[0-9]``)."""
    return bool(av) and all((str(o) == "CATEGORY" and str(a) == "CATEGORY_DIGIT")
                            or (str(o) == "RANGE" and 48 <= a[0] <= a[1] <= 57)
                            or (str(o) == "LITERAL" and 48 <= a <= 57) for o, a in av)


def _starts_digit(item: tuple[Any, Any]) -> bool:
    """Whether a parsed regex item can only match starting with a decimal digit."""
    op, av = item
    name = str(op)
    if name == "IN":
        return _is_digit_class(av)
    if name in ("MAX_REPEAT", "MIN_REPEAT"):
        lo, _, sub = av
        return lo >= 1 and len(sub) > 0 and _starts_digit(list(sub)[0])
    return False


def _starts_non_word(item: tuple[Any, Any]) -> bool:
    """Whether a parsed regex item can only match starting at a non-word character (or a word end)."""
    op, av = item
    name = str(op)
    if name == "LITERAL":
        return not _is_word_char(chr(av))
    if name == "AT":
        return str(av) == "AT_BOUNDARY"
    if name == "ASSERT_NOT":  # (?!\w)
        return av[0] == 1 and _is_word_class(av[1])
    if name == "IN":
        return all((str(o) == "CATEGORY" and str(a) == "CATEGORY_SPACE")
                   or (str(o) == "LITERAL" and not _is_word_char(chr(a))) for o, a in av)
    if name in ("MAX_REPEAT", "MIN_REPEAT"):
        lo, _, sub = av
        return lo >= 1 and len(sub) > 0 and _starts_non_word(list(sub)[0])
    return False


def lead_words(pattern: str) -> frozenset[str] | None:
    r"""The words (lower case) that every match of a rule ``pattern`` starts with, when the regex says so:
    a leading ``\b`` or ``(?<!\w)``, then a finite choice of literal words, each followed by a non-word
    character, or a decimal digit (:data:`DIGIT_LEAD` stands for "any word that starts with a digit": a digit
    after a word boundary starts a token, or a word inside one such as "HIV-1"). ``None`` when the pattern
    does not have that shape (the matcher then scans the whole text)."""
    try:
        from re import _parser  # type: ignore[attr-defined]
        parsed = list(_parser.parse(pattern, re.IGNORECASE))
    except Exception:  # noqa: BLE001 - a parser change only costs speed, never matches
        return None
    if len(parsed) == 1 and str(parsed[0][0]) == "BRANCH":  # a|b at the top: every alternative must qualify
        words: set[str] = set()
        for alt in parsed[0][1][1]:
            found = _lead_words_of(list(alt))
            if found is None:
                return None
            words |= found
        return frozenset(words)
    return _lead_words_of(parsed)


def _lead_words_of(parsed: list[Any], tails: dict[str, list[list[Any]]] | None = None) -> frozenset[str] | None:
    """:func:`lead_words` of one alternative; ``tails`` (when given) gets, for each word, the parsed items that
    may follow it in a match."""
    if not parsed:
        return None
    op, av = parsed[0]
    word_lookbehind = str(op) == "ASSERT_NOT" and av[0] == -1 and _is_word_class(av[1])
    if not ((str(op) == "AT" and str(av) == "AT_BOUNDARY") or word_lookbehind):
        return None
    words: set[str] = set()
    states: list[tuple[str, list[Any]]] = [("", parsed[1:])]
    seen = 0
    while states:
        seen += 1
        if seen > _MAX_LEAD_STATES:
            return None
        acc, rest = states.pop()
        if not rest:  # the pattern may end inside a word: no whole-word guarantee
            return None
        item, tail = rest[0], rest[1:]
        op, av = item
        name = str(op)
        if not acc and _starts_digit(item):  # "\b\d+": tried at every word that starts with a digit
            words.add(DIGIT_LEAD)
        elif name == "LITERAL" and _is_word_char(chr(av)):
            states.append((acc + chr(av).lower(), tail))
        elif name == "SUBPATTERN":
            states.append((acc, list(av[3]) + tail))
        elif name == "BRANCH":
            states.extend((acc, list(alt) + tail) for alt in av[1])
        elif name in ("MAX_REPEAT", "MIN_REPEAT") and av[0] == 0 and av[1] == 1:
            states.append((acc, tail))
            states.append((acc, list(av[2]) + tail))
        elif name in ("MAX_REPEAT", "MIN_REPEAT") and av[0] == 0 and acc and list(av[2]) \
                and _starts_non_word(list(av[2])[0]):
            words.add(acc)  # "\s*" after a word: either a non-word character or what follows
            if tails is not None:
                tails.setdefault(acc, []).append(rest)
            else:
                states.append((acc, tail))
        elif acc and _starts_non_word(item):
            words.add(acc)
            if tails is not None:
                tails.setdefault(acc, []).append(rest)
        else:
            return None
    return frozenset(words) or None


# ------------------------------------------------------------------- what may follow the lead word

#: characters outside ASCII that a lower-case ASCII letter matches under ``re.IGNORECASE`` (the only ones)
_FOLD_EXTRA = {"i": "İı", "k": "\u212a", "s": "ſ"}
_MAX_FOLLOW_SET = 200


def _variants(c: str) -> frozenset[str] | None:
    """The characters ``c`` matches case-insensitively (``None`` outside ASCII: not worked out)."""
    if not c.isascii():
        return None
    low = c.lower()
    return frozenset({c, low, c.upper()} | set(_FOLD_EXTRA.get(low, "")))


def _first_non_space(items: list[Any]) -> tuple[frozenset[str], bool] | None:
    """The characters that the first non-white-space character a match of ``items`` consumes can be, and
    whether the items can match white space only (or nothing); ``None`` where that is not worked out here."""
    out: set[str] = set()
    for item in items:
        r = _item_first_non_space(item)
        if r is None:
            return None
        chars, passes = r
        out |= chars
        if len(out) > _MAX_FOLLOW_SET:
            return None
        if not passes:
            return frozenset(out), False
    return frozenset(out), True


def _item_first_non_space(item: tuple[Any, Any]) -> tuple[frozenset[str], bool] | None:
    op, av = item
    name = str(op)
    if name == "LITERAL":
        c = chr(av)
        if c.isspace():
            return frozenset(), True
        v = _variants(c)
        return None if v is None else (v, False)
    if name == "IN":
        chars: set[str] = set()
        passes = False
        for o, a in av:
            o = str(o)
            if o == "LITERAL":
                c = chr(a)
                if c.isspace():
                    passes = True
                    continue
                v = _variants(c)
                if v is None:
                    return None
                chars |= v
            elif o == "RANGE" and a[1] - a[0] < 64 and a[1] < 128:
                for x in range(a[0], a[1] + 1):
                    if chr(x).isspace():
                        passes = True
                    else:
                        chars |= _variants(chr(x)) or set()
            elif o == "CATEGORY" and str(a) == "CATEGORY_SPACE":
                passes = True
            else:  # \w, \d (any Unicode digit), a negated class, a wide range: not worked out
                return None
        return frozenset(chars), passes
    if name in ("AT", "ASSERT", "ASSERT_NOT"):  # zero width: leaving the condition out only widens the set
        return frozenset(), True
    if name == "SUBPATTERN":
        return _first_non_space(list(av[3]))
    if name == "BRANCH":
        chars = set()
        passes = False
        for alt in av[1]:
            r = _first_non_space(list(alt))
            if r is None:
                return None
            chars |= r[0]
            passes = passes or r[1]
        return frozenset(chars), passes
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        lo, _, sub = av
        r = _first_non_space(list(sub))
        if r is None:
            return None
        return r[0], r[1] or lo == 0
    return None


def _lead_tails(pattern: str) -> dict[str, list[list[Any]]] | None:
    """Each lead word of ``pattern`` with the parsed rests of the alternatives it starts (``re._parser`` items);
    ``None`` when the pattern is not of :func:`lead_words`' shape or does not parse."""
    try:
        from re import _parser  # type: ignore[attr-defined]
        parsed = list(_parser.parse(pattern, re.IGNORECASE))
    except Exception:  # noqa: BLE001 - a parser change only costs speed, never matches
        return None
    alts = [list(alt) for alt in parsed[0][1][1]] if len(parsed) == 1 and str(parsed[0][0]) == "BRANCH" \
        else [parsed]
    tails: dict[str, list[list[Any]]] = {}
    for alt in alts:
        if _lead_words_of(alt, tails) is None:
            return None
    return tails


def follow_chars(pattern: str) -> dict[str, frozenset[str]] | None:
    """For each of :func:`lead_words` of ``pattern``: the characters that the first non-white-space
    character after the word can be in a match (case variants included). The matcher skips a token that is
    the word where the text goes on otherwise (one character read instead of a regex tried). A word is left
    out when this is not worked out for it, or when the match can end right after it; ``None`` when the
    pattern is not of :func:`lead_words`' shape."""
    tails = _lead_tails(pattern)
    if tails is None:
        return None
    out: dict[str, frozenset[str]] = {}
    unknown: set[str] = set()
    for word, rests in tails.items():
        chars: set[str] = set()
        for rest in rests:
            r = _first_non_space(rest)
            if r is None or r[1]:
                unknown.add(word)
                break
            chars |= r[0]
        else:
            out[word] = frozenset(chars)
    for word in unknown:
        out.pop(word, None)
    return out


# --------------------------------------------------------------- the word that may follow the lead word

#: the kinds of :func:`next_words`' conditions on the word after the lead word (its run of word characters)
NEXT_EXACT, NEXT_PREFIX, NEXT_SUFFIX = "=", "^", "$"


def _is_sep_char(c: str) -> bool:
    return c.isspace() or c == "-"


def _sep_only(items: list[Any]) -> bool:
    """Whether parsed ``items`` can only match white space and hyphens (or nothing)."""
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            if not _is_sep_char(chr(av)):
                return False
        elif name == "IN":
            if not _sep_class(av):
                return False
        elif name == "SUBPATTERN":
            if not _sep_only(list(av[3])):
                return False
        elif name == "BRANCH":
            if not all(_sep_only(list(alt)) for alt in av[1]):
                return False
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            if not _sep_only(list(av[2])):
                return False
        else:
            return False
    return True


def _sep_class(av: Any) -> bool:
    """Whether a parsed character class (``IN``) holds white space and hyphens only (``\\s``, ``[\\s\\-]``)."""
    return bool(av) and all((str(o) == "CATEGORY" and str(a) == "CATEGORY_SPACE")
                            or (str(o) == "LITERAL" and _is_sep_char(chr(a))) for o, a in av)


def _next_word_conditions(items: list[Any]) -> set[str] | None:
    """What the run of word characters after the lead word must be in a match of ``items`` (the parsed rest of
    the pattern after the word), as a set of ``NEXT_EXACT + word``, ``NEXT_PREFIX + start`` and
    ``NEXT_SUFFIX + ending`` (lower case ASCII); ``None`` where that is not worked out here, or where the
    match may end after white space and hyphens alone. Only white space and hyphens may come between the two
    words; a condition left out (a look-ahead) only widens what is let through."""
    out: set[str] = set()
    states: list[tuple[str, str, list[Any]]] = [("sep", "", items)]
    seen = 0
    while states:
        seen += 1
        if seen > _MAX_LEAD_STATES:
            return None
        phase, acc, rest = states.pop()
        if not rest:
            if phase != "word":  # the match may end before a second word (or inside "\w+ly")
                return None
            out.add(NEXT_PREFIX + acc)  # the word may go on: it starts with ``acc``
            continue
        item, tail = rest[0], rest[1:]
        op, av = item
        name = str(op)
        if name == "SUBPATTERN":
            states.append((phase, acc, list(av[3]) + tail))
        elif name == "BRANCH":
            states.extend((phase, acc, list(alt) + tail) for alt in av[1])
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] == 0 and av[1] == 1 \
                and not (phase == "sep" and _sep_only(list(av[2]))):
            states.append((phase, acc, tail))
            states.append((phase, acc, list(av[2]) + tail))
        elif phase == "sep":
            if name in ("AT", "ASSERT", "ASSERT_NOT"):  # zero width: leaving it out only widens
                states.append(("sep", "", tail))
            elif name == "LITERAL" and _is_word_char(chr(av)) and chr(av).isascii():
                states.append(("word", chr(av).lower(), tail))
            elif _sep_only([item]):
                states.append(("sep", "", tail))
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1 \
                    and _is_word_class(av[2]):  # "\w+ly": a word that ends so
                states.append(("suffix", "", tail))
            else:
                return None
        elif phase == "word":
            if name == "LITERAL" and _is_word_char(chr(av)):
                if not chr(av).isascii():
                    return None
                states.append(("word", acc + chr(av).lower(), tail))
            elif _starts_non_word(item):
                out.add(NEXT_EXACT + acc)
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] == 0 and list(av[2]) \
                    and _starts_non_word(list(av[2])[0]):
                out.add(NEXT_EXACT + acc)  # "\s*" after the word: a non-word character, or what follows
                states.append(("word", acc, tail))
            elif name in ("ASSERT", "ASSERT_NOT"):
                states.append(("word", acc, tail))
            else:
                out.add(NEXT_PREFIX + acc)
        else:  # "suffix": the letters after "\w+", then the word's end
            if name == "LITERAL" and _is_word_char(chr(av)) and chr(av).isascii():
                states.append(("suffix", acc + chr(av).lower(), tail))
            elif acc and _starts_non_word(item):
                out.add(NEXT_SUFFIX + acc)
            else:
                return None
    return out or None


def next_words(pattern: str) -> dict[str, list[str]] | None:
    """For each of :func:`lead_words` of ``pattern``: what the next word (the run of word characters after the
    white space and hyphens that follow the lead word) must be in a match, as sorted conditions (see
    :func:`_next_word_conditions`): the matcher skips a token where the word after it meets none, one look-up
    instead of a regex tried. A word is left out when this is not worked out for it; ``None`` when the pattern
    is not of :func:`lead_words`' shape."""
    tails = _lead_tails(pattern)
    if tails is None:
        return None
    out: dict[str, list[str]] = {}
    for word, rests in tails.items():
        conds: set[str] = set()
        for rest in rests:
            found = _next_word_conditions(rest)
            if found is None:
                break
            conds |= found
        else:
            out[word] = sorted(conds)
    return out


# ------------------------------------------------------------------------------ the packaged index

_PACKAGED: list[dict[str, Any]] = []


def packaged_index() -> dict[str, Any]:
    """The index worked out beforehand for the packaged rules (``resources/context_rules.index.json``):
    ``lead`` (pattern -> its :func:`lead_words`, a sorted list or ``None``), ``first`` (literal -> its
    first token in lower case), ``follow`` (pattern -> its :func:`follow_chars`, word -> the characters as
    one sorted string, or ``None``) and ``next`` (pattern -> its :func:`next_words`, word -> the conditions
    joined by spaces, or ``None``). Read once; an unreadable file is an empty index (the matcher then works it
    all out itself)."""
    if not _PACKAGED:
        from imner.context.rules import DEFAULT_INDEX_PATH
        try:
            data = json.loads(DEFAULT_INDEX_PATH.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        _PACKAGED.append({"lead": dict(data.get("lead", {})), "first": dict(data.get("first", {})),
                          "follow": dict(data.get("follow", {})), "next": dict(data.get("next", {}))})
    return _PACKAGED[0]


def first_token(literal: str) -> str:
    """The first token of a literal phrase, in lower case (the word the matcher indexes it by)."""
    from imner.text import tokenize
    return tokenize(literal)[0].text.lower()


def build_index(rules: Any) -> dict[str, Any]:
    """The index of :func:`packaged_index` for ``rules``, worked out."""
    lead: dict[str, list[str] | None] = {}
    first: dict[str, str] = {}
    follow: dict[str, dict[str, str] | None] = {}
    nxt: dict[str, dict[str, list[str]] | None] = {}
    for r in rules:
        if r.pattern is not None:
            words = lead_words(r.pattern)
            lead[r.pattern] = None if words is None else sorted(words)
            if words is not None:
                found = follow_chars(r.pattern)
                follow[r.pattern] = None if found is None else {w: "".join(sorted(c)) for w, c in found.items()}
                found_next = next_words(r.pattern)
                nxt[r.pattern] = None if found_next is None else {w: " ".join(c) for w, c in found_next.items()}
        else:
            first[r.literal] = first_token(r.literal)
    return {"note": "what imner.context's matcher works out from context_rules.json at start-up, worked out "
                    "beforehand; rewrite with: imner build context-index", "lead": lead, "first": first,
            "follow": follow, "next": nxt}


def packaged_index_text() -> str:
    """The packaged index file's text as a fresh build from the packaged rules writes it."""
    from imner.context.rules import DEFAULT_RULES_PATH, load_rules
    index = build_index(load_rules(DEFAULT_RULES_PATH))
    return json.dumps(index, indent=0, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> int:
    """Rewrite the packaged index from the packaged rules (``imner build context-index``)."""
    from imner.context.rules import DEFAULT_INDEX_PATH
    text = packaged_index_text()
    DEFAULT_INDEX_PATH.write_text(text, encoding="utf-8")
    index = json.loads(text)
    print(f"wrote {DEFAULT_INDEX_PATH}: {len(index['lead'])} patterns, {len(index['first'])} literals")
    return 0


def word_trie(phrases: Sequence[Sequence[str]], sep: str, *, word_bounds: bool = False) -> str:
    """A regex matching where one of ``phrases`` (each a sequence of words, escaped, ``sep`` between them) matches,
    written as a trie of words so that a word shared by many phrases is tried once. With ``word_bounds`` a phrase
    may not start or end inside a word (``(?<!\\w)`` before a first word, ``(?!\\w)`` after a last one that ends
    in a word character). Used by the matcher's pre-checks and by the section headers."""
    trie: dict[str, Any] = {}
    for words in phrases:
        node = trie
        for w in words:
            node = node.setdefault(w, {})
        node[""] = {}  # a phrase ends here

    def alternation(node: dict[str, Any]) -> str:
        alts = []
        for w, child in node.items():
            if not w:
                continue
            rest = [sep + f"(?:{alternation(child)})"] if any(child) else []
            if "" in child:  # a phrase ends with this word
                rest.append(r"(?!\w)" if word_bounds and re.search(r"\w$", w) else "")
            alts.append(re.escape(w) + (f"(?:{'|'.join(rest)})" if rest != [""] else ""))
        return "|".join(alts)

    if not word_bounds:
        return alternation(trie)
    return "|".join((r"(?<!\w)" if re.match(r"\w", w) else "") + f"(?:{alternation({w: child})})"
                    for w, child in trie.items())
