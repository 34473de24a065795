"""Patient age and sex from a case report, with the evidence span for each.

:func:`extract_patient` returns a plain dict::

    {"age": 28.0, "age_approximate": False, "age_evidence": {"start": 2, "end": 13, "text": "28-year-old"},
     "age_group": "adult", "age_group_evidence": {...same as age_evidence...},
     "sex": "male", "sex_source": "term", "sex_evidence": {"start": 14, "end": 17, "text": "man"}}

Missing facts are ``None`` (evidence too).

Age
    In years, as a float: "28-year-old" -> 28.0, "a 3-month-old infant" -> 0.25, "14-day-old" -> 14/365.25,
    "4 and a half years old" -> 4.5, "aged 45", "45 years of age", "at the age of 19 years", "28 y/o", spelled-out
    numbers ("twenty-eight-year-old"). Approximations set ``age_approximate``: decades ("in his 60s",
    "in her sixties" -> 65; "early 70s" -> 72, "mid-70s" -> 75, "late 70s" -> 78), "mid-teens" -> 15, and
    "newborn"/"neonate" -> 0.0.

    The patient's age is the first age phrase in the text that is not attached to a relative ("her 5-year-old
    son", "his mother, aged 60") and that does not date an earlier event ("at the age of 10 she was diagnosed",
    "since age 5"); event ages are used only when nothing else is found.

Age group (``AGE_GROUPS``), from the age when there is one, else from a word after "a"/"an" ("an infant",
"a toddler", "a child", "a boy"/"girl", "an adolescent"/"a teenager", "an elderly man"):

    neonate < 28 days <= infant < 1 year <= child < 12 <= adolescent < 18 <= adult < 65 <= older adult

Sex
    ``"female"``/``"male"`` from the first patient-describing term: woman, man, girl, boy, female, male, lady,
    gentleman, Mr/Mrs/Ms, primipara/primigravida/gravida/pregnant (female), preferring a term within the
    sentence of the chosen age ("A 28-year-old previously healthy man") and skipping terms that name a relative
    ("her mother"). Without any such term, third-person pronouns decide (``sex_source="pronoun"``) when one
    gender has at least 2 mentions and twice as many as the other.
"""

from __future__ import annotations

import re
from typing import Any

from imner.types import Document

AGE_GROUPS: tuple[tuple[str, float], ...] = (
    ("neonate", 28 / 365.25), ("infant", 1.0), ("child", 12.0), ("adolescent", 18.0), ("adult", 65.0),
    ("older adult", float("inf")),
)

_UNITS = {"year": 1.0, "yr": 1.0, "y": 1.0, "month": 1 / 12, "mo": 1 / 12, "week": 7 / 365.25, "wk": 7 / 365.25,
          "day": 1 / 365.25, "d": 1 / 365.25}
_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
WORD_NUMBERS: dict[str, int] = {w: i for i, w in enumerate(_ONES)}
for _t, _w in enumerate(_TENS):
    if _w:
        WORD_NUMBERS[_w] = _t * 10
        for _o in range(1, 10):
            WORD_NUMBERS[f"{_w}-{_ONES[_o]}"] = WORD_NUMBERS[f"{_w} {_ONES[_o]}"] = _t * 10 + _o
_DECADE_WORDS = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70,
                 "eighties": 80, "nineties": 90}

# any whole word here; _number() keeps only number words ("twenty-eight", "a"); a generic word keeps the regex
# fast. Possessive: the word is never cut short, so "and old" is not read as "an" + "d" (day) + "old"
_NUM = r"(?P<num>\d++(?:\.\d+)?|[A-Za-z]++(?:-[A-Za-z]++)?)"
_UNIT = r"(?P<unit>years?|yrs?|y|months?|mos?|weeks?|wks?|days?|d)"
_HALF = r"(?P<half>\s+and\s+a\s+half)?"
_DASH = r"\s*-?\s*"

# the order is the priority when two patterns match at the same place
_AGE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(p, re.IGNORECASE)) for kind, p in (
    # 28-year-old, 36- year- old, 3-month-old, 36-yr-old, 4 and a half years old, 27 years old, 50-year old
    ("old", rf"\b{_NUM}{_HALF}{_DASH}{_UNIT}{_DASH}old\b"),
    ("of_age", rf"\b{_NUM}{_HALF}\s*{_UNIT}\s+of\s+age\b"),
    ("yo", r"\b(?P<num>\d+(?:\.\d+)?)\s*-?\s*(?:y/o|yo|y\.o\.)(?!\w)"),
    ("aged", rf"\b(?:aged|age(?:\s+of)?)\s*:?\s+{_NUM}(?:{_HALF}\s*{_UNIT})?\b"),
    ("decade", r"\b(?:in\s+(?:his|her|their|the)\s+)?(?P<pos>early|mid|late)?[\s-]*"
               r"(?P<dec>[1-9]0)'?s\b"),
    ("decade_word", r"\b(?:in\s+(?:his|her|their|the)\s+)?(?P<pos>early|mid|late)?[\s-]*"
                    r"(?P<decw>twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties)\b"),
    ("teens", r"\b(?P<pos>early|mid|late)[\s-]*teens\b"),
    ("newborn", r"\b(?:new[\s-]?born|neonate|neonatal\s+(?:boy|girl|patient))\b"),
))
_DECADE_OFFSET = {None: 5, "early": 2, "mid": 5, "late": 8}
_EVENT_BEFORE = re.compile(r"(?:\bat|\bsince|\bby|\buntil|\bbefore|\bafter|\bfrom|\bwhen\s+(?:he|she)\s+was)"
                           r"\s+(?:the\s+)?(?:age\s+of\s+)?\Z", re.IGNORECASE)
_RELATIVE = (r"mother|father|sister|brother|sibling|siblings|son|daughter|husband|wife|partner|aunt|uncle|cousin|"
             r"grandmother|grandfather|niece|nephew|parent|parents|twin|child|children|baby|infant|fetus|foetus|"
             r"neighbou?r|friend|spouse|proband")
_RELATIVE_AFTER = re.compile(rf"\A[\w\s,-]{{0,40}}?\b(?:{_RELATIVE})\b", re.IGNORECASE)
_POSSESSIVE_BEFORE = re.compile(r"\b(?:his|her|their|whose|patient's|patient’s)\s+(?:[\w-]+\s+){0,2}\Z",
                                re.IGNORECASE)
_RELATIVE_BEFORE = re.compile(rf"\b(?:{_RELATIVE})\b[\s,]*(?:was\s+|is\s+|,\s*)?\Z", re.IGNORECASE)

_SEX_TERMS: dict[str, str] = {
    "woman": "female", "girl": "female", "female": "female", "lady": "female", "mrs": "female", "ms": "female",
    "primipara": "female", "primigravida": "female", "gravida": "female", "pregnant": "female",
    "multipara": "female", "man": "male", "boy": "male", "male": "male", "gentleman": "male", "mr": "male",
}
_SEX_RE = re.compile(r"\b(?:" + "|".join(sorted(_SEX_TERMS, key=len, reverse=True)) + r")\b(?!-)", re.IGNORECASE)
_SEX_NOT_PATIENT_BEFORE = re.compile(
    rf"\b(?:his|her|their|the\s+patient'?s|{_RELATIVE})\s+(?:[\w-]+\s+)?\Z|\bvs\.?\s*\Z|\bor\s+\Z", re.IGNORECASE)
_PRONOUNS = re.compile(r"\b(?P<m>he|him|his|himself)\b|\b(?P<f>she|her|hers|herself)\b", re.IGNORECASE)
_GROUP_WORDS = re.compile(r"\b(?:(?P<neonate>neonate|newborn|new-born)|(?P<infant>infant|baby)|"
                          r"(?P<child>toddler|child|boy|girl|schoolboy|schoolgirl)|"
                          r"(?P<adolescent>adolescent|teenager|teenage\s+(?:boy|girl))|"
                          r"(?P<older_adult>elderly|octogenarian|nonagenarian))\b", re.IGNORECASE)


_ARTICLE_BEFORE = re.compile(r"\b(?:a|an)\s+(?:(?!first|second|third|fourth|fifth|only|other)[\w-]+\s+){0,2}\Z",
                             re.IGNORECASE)


def _number(tok: str) -> float | None:
    tok = tok.lower()
    if tok in ("a", "an"):
        return 1.0
    if tok in WORD_NUMBERS:
        return float(WORD_NUMBERS[tok])
    try:
        return float(tok)
    except ValueError:
        return None


def _unit_factor(unit: str | None) -> float:
    if not unit:
        return 1.0
    u = unit.lower().rstrip("s")
    return _UNITS.get(u, _UNITS.get(u[:2], 1.0))


def _age_from_match(kind: str, m: re.Match[str]) -> tuple[float, bool] | None:
    """(years, approximate) for one pattern match."""
    g = m.groupdict()
    if kind in ("old", "of_age", "yo", "aged"):
        n = _number(g["num"])
        if n is None:
            return None
        if g.get("half"):
            n += 0.5
        return n * _unit_factor(g.get("unit")), False
    if kind == "decade":
        return float(int(g["dec"]) + _DECADE_OFFSET[(g["pos"] or "").lower() or None]), True
    if kind == "decade_word":
        return float(_DECADE_WORDS[g["decw"].lower()] + _DECADE_OFFSET[(g["pos"] or "").lower() or None]), True
    if kind == "teens":
        return float(10 + _DECADE_OFFSET[g["pos"].lower()]), True
    if kind == "newborn":
        return 0.0, True
    return None


def parse_age(text: str) -> tuple[float, bool] | None:
    """``(years, approximate)`` for the first age phrase in ``text`` ("3-month-old" -> (0.25, False)), else None."""
    found = _age_mentions(text)
    return (found[0]["value"], found[0]["approximate"]) if found else None


def _age_mentions(text: str) -> list[dict[str, Any]]:
    """Every age phrase, leftmost-first, with flags for relative- and event-attached ones."""
    cands = []
    for prio, (kind, rx) in enumerate(_AGE_PATTERNS):
        for m in rx.finditer(text):
            start = m.start()
            if kind in ("decade", "decade_word") and not (m.group(0).lower().startswith("in ") or m.group("pos")):
                continue  # a bare "60s" is too ambiguous (years, dB...)
            parsed = _age_from_match(kind, m)
            if parsed is None:
                continue
            cands.append((start, -(m.end() - start), prio, kind, m.end(), parsed))
    cands.sort()
    out: list[dict[str, Any]] = []
    last_end = -1
    for start, _, _, kind, end, (value, approx) in cands:
        if start < last_end:
            continue
        last_end = end
        before, after = text[max(0, start - 40):start], text[end:end + 60]
        event = bool(_EVENT_BEFORE.search(before))
        relative = bool(_POSSESSIVE_BEFORE.search(before) and _RELATIVE_AFTER.match(after)) or \
            bool(_RELATIVE_BEFORE.search(before))
        out.append({"start": start, "end": end, "text": text[start:end], "value": value, "approximate": approx,
                    "event": event, "relative": relative})
    return out


def age_group(age: float | None) -> str | None:
    """The group of ``AGE_GROUPS`` that ``age`` (years) falls in."""
    if age is None:
        return None
    for name, upper in AGE_GROUPS:
        if age < upper:
            return name
    return None  # pragma: no cover - the last bound is infinite


def _sentence_bounds(text: str, pos: int) -> tuple[int, int]:
    start = max(text.rfind("\n", 0, pos), max(text.rfind(". ", 0, pos), -2) + 1) + 1
    ends = [i for i in (text.find("\n", pos), text.find(". ", pos)) if i >= 0]
    return start, (min(ends) + 1 if ends else len(text))


def _evidence(text: str, start: int, end: int) -> dict[str, Any]:
    return {"start": start, "end": end, "text": text[start:end]}


def _sex(text: str, near: tuple[int, int] | None) -> tuple[str | None, str | None, dict[str, Any] | None]:
    terms = []
    for m in _SEX_RE.finditer(text):
        word = m.group(0).lower()
        if word in ("mr", "mrs", "ms") and not text.startswith(".", m.end()) and not \
                re.match(r"\s+[A-Z]", text[m.end():m.end() + 2]):
            continue
        if word in ("ms", "mr") and text[m.start():m.end()] in ("MS", "MR"):  # multiple sclerosis, mitral regurg.
            continue
        if _SEX_NOT_PATIENT_BEFORE.search(text[max(0, m.start() - 40):m.start()]):
            continue
        terms.append(m)
    if terms:
        chosen = terms[0]
        if near is not None:
            s, e = _sentence_bounds(text, near[0])
            in_sentence = [m for m in terms if s <= m.start() < e and m.start() >= near[0]]
            if in_sentence:
                chosen = in_sentence[0]
        return _SEX_TERMS[chosen.group(0).lower()], "term", _evidence(text, chosen.start(), chosen.end())
    counts = {"m": [], "f": []}
    for m in _PRONOUNS.finditer(text):
        counts["m" if m.group("m") else "f"].append(m)
    nm, nf = len(counts["m"]), len(counts["f"])
    for key, n, other, sex in (("m", nm, nf, "male"), ("f", nf, nm, "female")):
        if n >= 2 and n >= 2 * other:
            m = counts[key][0]
            return sex, "pronoun", _evidence(text, m.start(), m.end())
    return None, None, None


def extract_patient(doc: Document | str) -> dict[str, Any]:
    """Age (years), age group and sex of the patient a case report describes (see the module docstring)."""
    text = doc.text if isinstance(doc, Document) else doc
    mentions = [m for m in _age_mentions(text) if not m["relative"]]
    chosen = next((m for m in mentions if not m["event"]), None) or (mentions[0] if mentions else None)
    out: dict[str, Any] = {"age": None, "age_approximate": None, "age_evidence": None, "age_group": None,
                           "age_group_evidence": None, "sex": None, "sex_source": None, "sex_evidence": None}
    if chosen is not None:
        out.update(age=chosen["value"], age_approximate=chosen["approximate"],
                   age_evidence=_evidence(text, chosen["start"], chosen["end"]),
                   age_group=age_group(chosen["value"]))
        out["age_group_evidence"] = out["age_evidence"]
    else:
        for m in _GROUP_WORDS.finditer(text):
            before = text[max(0, m.start() - 40):m.start()]
            if not _ARTICLE_BEFORE.search(before) or _SEX_NOT_PATIENT_BEFORE.search(before):
                continue  # "a 6-week-old infant", "an elderly man"; not "the fourth child", "her baby"
            out["age_group"] = m.lastgroup.replace("_", " ")
            out["age_group_evidence"] = _evidence(text, m.start(), m.end())
            break
    sex, source, ev = _sex(text, (chosen["start"], chosen["end"]) if chosen else None)
    out.update(sex=sex, sex_source=source, sex_evidence=ev)
    return out
