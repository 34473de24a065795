"""The lexicon index: concepts, normalized terms, case-sensitive abbreviations and the cross-reference map.

:class:`IndexBuilder` collects concepts and their surface forms and writes the compact JSON index that
:class:`imner.lexicon.Lexicon` reads. The build script (:mod:`imner_dev.lexicon.build`) and the tests use it, so the
ordering and abbreviation rules live in one place.

Index layout (``index.json.gz``: UTF-8 JSON, gzip-compressed). The three big tables are single strings of
tab-separated lines, which parse several times faster than nested JSON::

    {"format": "imner-lexicon", "version": 1, "info": {...},
     "fields": ["id", "name", "label", "source", "category", "subcategory", "kind", "icd10cm", "xrefs"],
     "concepts": "DOID:9074<TAB>systemic lupus erythematosus<TAB>IMMUNE_DISEASE<TAB>DO<TAB>immune<TAB>...\n...",
     "terms": "systemic lupus erythematosus<TAB>12,40\n...",      # key -> concept rows, best first
     "abbreviations": {"sle": ["SLE"]},                         # keys that must match case-sensitively
     "curated": ["sle", ...],                                    # keys with a curated entry
     "xrefs": "MESH:D008180<TAB>DOID:9074\n..."}                # MeSH/OMIM/UMLS/ICD10CM/MONDO -> DOIDs
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from imner.errors import FormatError
from imner.lexicon.normalize import fold_text, is_abbreviation, normalize_term

FORMAT = "imner-lexicon"
VERSION = 1
FIELDS = ("id", "name", "label", "source", "category", "subcategory", "kind", "icd10cm", "xrefs")

#: order in which concepts of one key are listed (after curated entries): diseases first, then pathogens,
#: drugs, phenotypes
SOURCE_RANK: dict[str, int] = {"imner": 0, "DO": 1, "NCBITaxon": 2, "DrugBank": 3, "HPO": 4}
LABEL_RANK: dict[str, int] = {
    "IMMUNE_DISEASE": 0, "INFECTIOUS_DISEASE": 1, "OTHER_DISEASE": 2, "PATHOGEN": 3, "MEDICATION": 4,
    "SIGN_SYMPTOM": 5, "SEVERITY": 6,
}


@dataclass(frozen=True, slots=True)
class Concept:
    """One entry of a source vocabulary, with its class in the twelve-label schema.

    ``id`` is a CURIE (``DOID:9074``, ``HP:0001945``, ``DRUGBANK:DB00563``, ``NCBITaxon:1280``,
    ``IMNER:antibiotic`` for curated-only concepts). Diseases carry ``category`` (``immune``,
    ``infectious``, ``other``) and ``subcategory`` (``autoimmune``, ``autoinflammatory``, ``allergic``,
    ``immunodeficiency``, ``other-immune``; ``bacterial``, ``viral``, ``fungal``, ``parasitic``,
    ``unspecified``), ICD-10-CM codes and xrefs (``MESH:``, ``OMIM:``, ``UMLS:``, ``MONDO:``); pathogens a
    ``kind`` (``bacterium``, ``virus``, ``fungus``, ``parasite``).
    """

    id: str
    name: str
    label: str
    source: str
    category: str | None = None
    subcategory: str | None = None
    kind: str | None = None
    icd10cm: tuple[str, ...] = ()
    xrefs: tuple[str, ...] = ()

    def to_line(self) -> str:
        """One tab-separated line (lists joined by ``|``), as stored in the index."""
        if any("|" in x for x in (*self.icd10cm, *self.xrefs)):
            raise ValueError(f"concept {self.id!r}: a code or xref holds '|'")
        cells = [self.id, self.name, self.label, self.source, self.category or "", self.subcategory or "",
                 self.kind or "", "|".join(self.icd10cm), "|".join(self.xrefs)]
        if any(ch in c for c in cells for ch in "\t\n\r"):
            raise ValueError(f"concept {self.id!r}: a field holds a tab or line break: {cells}")
        return "\t".join(cells)

    @classmethod
    def from_line(cls, line: str) -> "Concept":
        cid, name, label, source, category, subcategory, kind, icd, xrefs = line.split("\t")
        return cls(cid, name, label, source, category or None, subcategory or None, kind or None,
                   tuple(icd.split("|")) if icd else (), tuple(xrefs.split("|")) if xrefs else ())


def canonical_surface(surface: str) -> str:
    """Letters and digits of a folded, case-kept surface: how abbreviation surfaces are compared."""
    return "".join(c for c in fold_text(surface, lower=False) if c.isalnum())


@dataclass
class IndexBuilder:
    """Accumulates concepts and terms; :meth:`to_json` orders and serializes them."""

    info: dict[str, Any] = field(default_factory=dict)
    concepts: dict[str, Concept] = field(default_factory=dict)
    #: key -> {concept id: (curated position or None)}
    _terms: dict[str, dict[str, int | None]] = field(default_factory=lambda: defaultdict(dict))
    #: key -> surface forms seen
    _surfaces: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _curated_pos: int = 0
    xrefs: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: surface form -> key (sources repeat names: about half the calls of a full build are repeats)
    _keys: dict[str, str] = field(default_factory=dict)

    def key(self, surface: str) -> str:
        """:func:`normalize_term` of ``surface``, remembered for the build."""
        key = self._keys.get(surface)
        if key is None:
            key = self._keys[surface] = normalize_term(surface)
        return key

    def add_concept(self, concept: Concept) -> Concept:
        """Add (or replace) a concept."""
        self.concepts[concept.id] = concept
        return concept

    def add_term(self, surface: str, concept_id: str, *, curated: bool = False) -> str | None:
        """Add a surface form for a known concept; returns its key (None when it normalizes to nothing)."""
        if concept_id not in self.concepts:
            raise KeyError(f"add the concept {concept_id!r} before its terms")
        key = self.key(surface)
        if not key:
            return None
        slot = self._terms[key]
        if curated:
            self._curated_pos += 1
            if slot.get(concept_id) is None:
                slot[concept_id] = self._curated_pos
        else:
            slot.setdefault(concept_id, None)
        self._surfaces[key].add(surface.strip())
        return key

    def add_xref(self, xref: str, doid: str) -> None:
        self.xrefs[xref].add(doid)

    def _order(self, key: str) -> list[str]:
        slot = self._terms[key]

        def rank(cid: str) -> tuple:
            c = self.concepts[cid]
            pos = slot[cid]
            return (0 if pos is not None else 1, pos or 0, SOURCE_RANK.get(c.source, 9),
                    0 if self.key(c.name) == key else 1, LABEL_RANK.get(c.label, 9), cid)

        return sorted(slot, key=rank)

    def to_json(self) -> dict[str, Any]:
        """The index as a JSON-ready dict (concepts without a term are kept: they answer :meth:`concept`)."""
        ids = sorted(self.concepts)
        row_of = {cid: i for i, cid in enumerate(ids)}
        terms: list[str] = []
        abbreviations: dict[str, list[str]] = {}
        curated: list[str] = []
        for key in sorted(self._terms):
            if "\t" in key or "\n" in key:
                raise ValueError(f"term key {key!r} holds a tab or newline")
            terms.append(key + "\t" + ",".join(str(row_of[cid]) for cid in self._order(key)))
            if any(v is not None for v in self._terms[key].values()):
                curated.append(key)
            surfaces = self._surfaces[key]
            abbr = sorted(s for s in surfaces if is_abbreviation(s))
            # case-sensitive unless a plain word of 4+ letters shares the key ("Gout" keeps "gout" open)
            if abbr and all(sum(c.isalpha() for c in s) <= 3 for s in surfaces if not is_abbreviation(s)):
                abbreviations[key] = abbr
        return {
            "format": FORMAT, "version": VERSION, "info": self.info, "fields": list(FIELDS),
            "concepts": "\n".join(self.concepts[cid].to_line() for cid in ids),
            "terms": "\n".join(terms), "abbreviations": abbreviations, "curated": curated,
            "xrefs": "\n".join(f"{x}\t{','.join(sorted(d))}" for x, d in sorted(self.xrefs.items())),
        }

    def write(self, path: str | Path) -> Path:
        """Write the index (gzip-compressed when the name ends in ``.gz``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if path.suffix == ".gz":
            # mtime=0: identical input gives identical bytes
            with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as fh:
                fh.write(data)
        else:
            path.write_bytes(data)
        return path


def read_index(path: str | Path, raw: bytes | None = None) -> dict[str, Any]:
    """The raw index dict of a file written by :meth:`IndexBuilder.write` (``raw``: its bytes, when already
    read), checked for format and version."""
    path = Path(path)
    if raw is None:
        raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise FormatError(f"not a JSON lexicon index: {e.msg}", source=str(path), line=e.lineno) from e
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise FormatError(f"not an imner lexicon index (expected \"format\": {FORMAT!r})", source=str(path))
    if data.get("version") != VERSION:
        raise FormatError(f"lexicon index version {data.get('version')!r}; this imner reads version {VERSION}. "
                          "Rebuild it with `imner build lexicon`.", source=str(path))
    if list(data.get("fields", ())) != list(FIELDS):
        raise FormatError(f"unexpected concept fields {data.get('fields')!r}; expected {list(FIELDS)}",
                          source=str(path))
    return data


def builder_from_records(concepts: Iterable[Concept], terms: Iterable[tuple[str, str]] = (),
                         curated: Iterable[tuple[str, str]] = (),
                         xrefs: Mapping[str, Iterable[str]] | None = None) -> IndexBuilder:
    """An :class:`IndexBuilder` from plain records (tiny lexicons for tests and examples): each concept's
    name is added as a term, then ``terms`` and ``curated`` as ``(surface, concept id)`` pairs."""
    b = IndexBuilder(info={"source": "records"})
    for c in concepts:
        b.add_concept(c)
        b.add_term(c.name, c.id)
    for surface, cid in curated:
        b.add_term(surface, cid, curated=True)
    for surface, cid in terms:
        b.add_term(surface, cid)
    for x, doids in (xrefs or {}).items():
        for d in doids:
            b.add_xref(x, d)
    return b
