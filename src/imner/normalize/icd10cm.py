"""ICD-10-CM codes for disease and pathogen mentions, read directly from the ICD-10-CM tabular list.

The Disease Ontology's and MONDO's ICD-10-CM cross-references (what :mod:`imner.lexicon` attaches to a DOID) are
sparse: "sepsis", "hepatitis B", "tuberculosis" map to DOIDs without one. This module gives a disease mention the
code the tabular list itself names it by, and a pathogen the code of the infection it stands for:

* **Terms** (``resources/lexicon/icd10cm_terms.tsv.gz``, made by :func:`build_terms` from the CDC tabular XML in
  ``$IMNER_DATA/lexicons/icd10cm``): every code's description and inclusion terms, lexicon-normalized
  (:func:`imner.lexicon.normalize_term`), also without the residual qualifiers of the classification
  ("Sepsis, unspecified organism" -> "sepsis"; "..., not elsewhere classified", "NOS", "unspecified").
  A term several codes share keeps the one whose description it is (not an inclusion term), then the one
  marked unspecified, then the shortest code.
* **Curated** (``resources/lexicon/icd10cm_curated.tsv``): the bare names coders index that the tabular list
  words differently ("tuberculosis" -> A15.9, "urinary tract infection" -> N39.0), and **agents**: a pathogen
  named as the disease ("HIV" -> B20, "HCV" -> B19.20, "Mycobacterium tuberculosis" -> A15.9, "Candida" ->
  B37.9) or, for a bacterium or virus that causes diseases classified elsewhere, the agent code of
  B95-B97 ("Staphylococcus aureus" -> B95.8, "Escherichia coli" -> B96.20). Agents match the mention,
  its NCBI Taxonomy concept name, or the genus (the first word of either).

:func:`codes_for_disease` tries the abbreviation's long form, the mention and the concept name, each exactly,
then with a leading "infection by/with"-style agent phrase ("CMV infection", "HIV-positive") resolved through
the agent table, then by the longest known disease name the mention ends with (``"head"``: "ocular tuberculosis"
-> A15.9, the code of "tuberculosis"; see :meth:`ICD10CMIndex.head_code`). The result is a list of codes in dotted form (``["A41.9"]``) and the source
(``"icd10cm-term"``, ``"curated"``, ``"agent"``, ``"head"``).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from imner.config import RESOURCES
from imner.errors import FormatError

TERMS_FILE = RESOURCES / "lexicon" / "icd10cm_terms.tsv.gz"
CURATED_FILE = RESOURCES / "lexicon" / "icd10cm_curated.tsv"

#: chapters whose codes are indexed (diseases; not injuries, external causes or factors)
CHAPTER_LETTERS = frozenset("ABCDEFGHIJKLMN")

_QUALIFIERS = re.compile(
    r"(?:,\s*)?\b(?:unspecified(?:\s+(?:organism|site|type|part|cause|whether[^,]*))?|not elsewhere classified"
    r"|NOS|not otherwise specified|without complications?)\b\s*$", re.IGNORECASE)
_AGENT_PHRASE = re.compile(
    r"^(?P<agent>.+?)[\s-]+(?:infections?|infected|positive|seropositive|disease|viremia|viraemia|bacteremia|"
    r"bacteraemia|fungemia|colonization|carrier)$"
    r"|^(?:infections?|disease|bacteremia|bacteraemia|sepsis|colonization)\s+(?:by|with|due to|caused by)\s+"
    r"(?P<agent2>.+)$", re.IGNORECASE)


#: words that change the meaning of the disease name after them: a head is never looked up past one
HEAD_STOP = frozenset("""non no not without anti pseudo post para pre ex sterile aseptic abacterial history
suspected possible probable""".split())
#: heads too generic to give a code on their own
GENERIC_HEADS = frozenset("""disease diseases disorder disorders syndrome syndromes condition lesion lesions
abnormality complication complications problem process""".split())


def _norm(term: str) -> str:
    from imner.lexicon import normalize_term

    return normalize_term(term)


def strip_qualifiers(desc: str) -> str:
    """``"Sepsis, unspecified organism"`` -> ``"Sepsis"``; repeated until nothing more comes off."""
    prev = None
    while prev != desc:
        prev = desc
        desc = _QUALIFIERS.sub("", desc).rstrip(" ,;")
    return desc


# ---------------------------------------------------------------------------------------------- building

def iter_tabular(path: str | Path) -> Iterator[tuple[str, str, list[str]]]:
    """``(code, description, inclusion terms)`` of every ``<diag>`` of a tabular-list XML (gzip or plain)."""
    import xml.etree.ElementTree as ET

    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        try:
            for _, el in ET.iterparse(f, events=("end",)):
                if el.tag != "diag":
                    continue
                code = (el.findtext("name") or "").strip()
                desc = (el.findtext("desc") or "").strip()
                incl = [(n.text or "").strip() for inc in el.findall("inclusionTerm") for n in inc.findall("note")]
                if code and desc:
                    yield code, desc, [t for t in incl if t]
        except ET.ParseError as e:
            raise FormatError(f"not a valid ICD-10-CM tabular XML: {e}", source=str(path)) from None


def build_terms(xml_path: str | Path, out: str | Path = TERMS_FILE) -> dict[str, int]:
    """Write the term table (``term<TAB>code<TAB>description``, gzip) from the tabular XML; returns counts."""
    best: dict[str, tuple[tuple[int, int, int, str], str, str]] = {}
    n_codes = 0
    for code, desc, incl in iter_tabular(xml_path):
        if code[0] not in CHAPTER_LETTERS:
            continue
        n_codes += 1
        unspecified = 0 if re.search(r"\bunspecified\b|\bNOS\b", desc, re.IGNORECASE) else 1
        for kind, text in [(0, desc)] + [(1, t) for t in incl]:
            for variant in {text, strip_qualifiers(text)}:
                key = _norm(variant)
                if not key or len(key) < 3:
                    continue
                rank = (kind, unspecified, len(code), code)
                if key not in best or rank < best[key][0]:
                    best[key] = (rank, code, desc)
    out = Path(out)
    buf = io.StringIO()
    for key in sorted(best):
        _, code, desc = best[key]
        buf.write(f"{key}\t{code}\t{desc}\n")
    # a fixed mtime keeps the file byte-identical between builds
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(buf.getvalue().encode("utf-8"))
    return {"codes": n_codes, "terms": len(best)}


# ---------------------------------------------------------------------------------------------- lookup

def _read_terms(path: str | Path) -> dict[str, str]:
    """term -> code of the gzipped ``term<TAB>code<TAB>description`` table. The table is split at once and sliced
    in threes (faster than parsing it line by line, which matters at start-up); the slices joined back must give
    the table (so every line has three fields), else it is read line by line, to name the first bad line."""
    import hashlib

    from imner.cache import cache_key, load, store

    with open(path, "rb") as f:
        raw = f.read()
    ck = cache_key("icd10cm-terms", hashlib.sha256(raw).hexdigest())
    hit = load(ck)  # a new process reads the parsed table from the start-up cache (imner.cache)
    if isinstance(hit, dict):
        return hit
    terms = _parse_terms(raw, path)
    store(ck, terms)
    return terms


def _parse_terms(raw: bytes, path: str | Path) -> dict[str, str]:
    text = gzip.decompress(raw).decode("utf-8")
    body = text[:-1] if text.endswith("\n") else text
    if not body:
        return {}
    parts = body.replace("\n", "\t").split("\t")
    cols = parts[0::3], parts[1::3], parts[2::3]
    if len(parts) % 3 == 0 and body == "\n".join(map("\t".join, zip(*cols))):
        return dict(zip(cols[0], cols[1]))
    for i, line in enumerate(body.split("\n"), 1):
        if line.count("\t") != 2:
            raise FormatError("expected term<TAB>code<TAB>description", source=str(path), line=i)
    raise FormatError("expected term<TAB>code<TAB>description", source=str(path))  # pragma: no cover


class ICD10CMIndex:
    """Term -> code, curated names and agents (see the module doc)."""

    def __init__(self, terms: str | Path = TERMS_FILE, curated: str | Path = CURATED_FILE) -> None:
        self._terms_path = terms
        self._terms: dict[str, str] | None = None
        self.names: dict[str, str] = {}
        self.agents: dict[str, str] = {}
        with open(curated, encoding="utf-8", newline="") as f:
            rows = (r for r in csv.reader(f, delimiter="\t") if r and not r[0].startswith("#"))
            for i, row in enumerate(rows, 1):
                if len(row) < 3 or row[0] not in ("name", "agent"):
                    raise FormatError(f"expected name|agent<TAB>term<TAB>code, got {row!r}", source=str(curated))
                table = self.names if row[0] == "name" else self.agents
                table[_norm(row[1])] = row[2].strip()

    @property
    def terms(self) -> dict[str, str]:
        """Term -> code of the tabular list, read on first use (a document whose diseases all have DO/MONDO codes
        never needs it; reading it is a tenth of a one-line run's start-up)."""
        if self._terms is None:
            self._terms = _read_terms(self._terms_path)
        return self._terms

    def curated_name(self, text: str | None) -> str | None:
        """The code of a curated disease name (what :meth:`term` gives with the source ``"curated"``), or None."""
        return self.names.get(_norm(text)) if text else None

    def term(self, text: str | None) -> tuple[str, str] | None:
        """The code of a disease name: curated first, then the tabular list's terms."""
        if not text:
            return None
        key = _norm(text)
        if key in self.names:
            return self.names[key], "curated"
        if key in self.terms:
            return self.terms[key], "icd10cm-term"
        stripped = _norm(strip_qualifiers(text))
        if stripped != key and stripped in self.terms:
            return self.terms[stripped], "icd10cm-term"
        return None

    def agent(self, *names: str | None) -> str | None:
        """The infection code of a pathogen, by any of ``names`` (mention, taxon name), also with the plural of
        its last word made singular ("mycobacteria", "staphylococci": :func:`imner.lexicon.normalize.singular`),
        then by their genus."""
        from imner.lexicon.normalize import singular

        keys = [_norm(n) for n in names if n]
        for key in keys:
            head, _, last = key.rpartition(" ")
            for k in (key, (head + " " if head else "") + singular(last)):
                if k in self.agents:
                    return self.agents[k]
        for key in keys:
            genus = key.split(" ", 1)[0]
            if genus != key and genus in self.agents:
                return self.agents[genus]
        return None

    def codes_for_disease(self, candidates: Iterable[str | None]) -> tuple[list[str], str] | None:
        """Codes for a disease mention from its candidate names (long form, surface, concept name), in order."""
        names = [c for c in candidates if c]
        for name in names:
            hit = self.term(name)
            if hit is not None:
                return [hit[0]], hit[1]
        for name in names:
            m = _AGENT_PHRASE.match(name.strip())
            if m:
                code = self.agent(m.group("agent") or m.group("agent2"))
                if code is not None:
                    return [code], "agent"
        for name in names:
            code = self.head_code(name)
            if code is not None:
                return [code], "head"
        return None

    def head_code(self, text: str) -> str | None:
        """The code of the longest disease name the mention ends with, its leading modifiers dropped one word at
        a time ("testicular tuberculosis" -> "tuberculosis", "febrile UTI" -> "UTI", "subacute bacterial
        endocarditis" -> "bacterial endocarditis"). Stops at a word that changes what follows ("non-infectious
        uveitis", "post-streptococcal ...": :data:`HEAD_STOP`) and never falls back to a bare generic head
        ("disease", "syndrome": :data:`GENERIC_HEADS`)."""
        words = _norm(text).split(" ")
        for i in range(1, len(words)):
            if words[i - 1] in HEAD_STOP:
                return None
            tail = " ".join(words[i:])
            if tail in GENERIC_HEADS:
                return None
            code = self.names.get(tail) or self.terms.get(tail)
            if code is not None:
                return code
        return None

    def codes_for_pathogen(self, surface: str, concept_name: str | None = None) -> tuple[list[str], str] | None:
        """The infection a pathogen mention names ("HIV-positive", "HCV", "CMV")."""
        code = self.agent(surface, concept_name)
        if code is None:
            m = _AGENT_PHRASE.match(surface.strip())
            if m:
                code = self.agent(m.group("agent") or m.group("agent2"))
        if code is None:
            # a disease named where a pathogen was tagged ("herpes", "influenza"): the curated disease names only
            code = self.names.get(_norm(surface))
        if code is None:
            # leading modifiers: "multiresistant Pseudomonas aeruginosa", "methicillin-sensitive S. aureus"
            words = _norm(surface).split(" ")
            for i in range(1, len(words)):
                if words[i - 1] in HEAD_STOP:
                    break
                code = self.agents.get(" ".join(words[i:]))
                if code is not None:
                    break
        return ([code], "agent") if code is not None else None


@lru_cache(maxsize=2)
def load_icd10cm(terms: str | None = None, curated: str | None = None) -> ICD10CMIndex:
    """The packaged index (cached)."""
    return ICD10CMIndex(terms or TERMS_FILE, curated or CURATED_FILE)


def _main(argv: list[str] | None = None) -> None:
    """``python -m imner.normalize.icd10cm BUILD [XML]``: rebuild the packaged term table."""
    import sys

    from imner.config import data_path

    args = sys.argv[1:] if argv is None else argv
    xml = Path(args[0]) if args else sorted(data_path("lexicons", "icd10cm").glob("icd10cm-tabular-*.xml*"))[-1]
    print(build_terms(xml))


if __name__ == "__main__":
    _main()
