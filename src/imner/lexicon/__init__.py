"""The lexicon knowledge base: normalized terms -> concepts of DO, HPO, DrugBank and NCBITaxon, each with its
class in the twelve-label schema, disease categories and codes, and a MeSH/OMIM -> DOID reverse index.

>>> lex = load_lexicon()                      # the packaged index (src/imner/resources/lexicon/index.json.gz)
>>> [c.id for c in lex.lookup("systemic lupus erythematosus")][:1]
['DOID:9074']
>>> lex.by_xref("MESH:D008180")
['DOID:9074']

The index is built from the stored vocabularies by ``imner build lexicon`` (:mod:`imner_dev.lexicon.build`);
sources and licences are listed in ``src/imner/resources/lexicon/README.md``.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any, Iterator, NamedTuple

from imner.config import RESOURCES
from imner.errors import ModelNotFoundError
from imner.lexicon.index import Concept, IndexBuilder, builder_from_records, canonical_surface, read_index
from imner.lexicon.normalize import normalize_term

__all__ = [
    "Concept", "DiseaseCategory", "IndexBuilder", "Lexicon", "builder_from_records", "default_index_path",
    "load_lexicon", "normalize_term",
]

LEXICON_DIR = RESOURCES / "lexicon"
INDEX_NAME = "index.json.gz"


def default_index_path() -> Path:
    """The packaged index."""
    return LEXICON_DIR / INDEX_NAME


class DiseaseCategory(NamedTuple):
    """Class of a disease concept: label (``IMMUNE_DISEASE``...), category and subcategory."""

    label: str
    category: str | None
    subcategory: str | None


_XREF_PREFIXES = {"MESH": "MESH", "MSH": "MESH", "MIM": "OMIM", "OMIM": "OMIM", "UMLS": "UMLS",
                  "UMLS_CUI": "UMLS", "ICD10CM": "ICD10CM", "ICD10": "ICD10CM", "MONDO": "MONDO"}


def normalize_xref(xref: str) -> str:
    """``mesh:D008180`` / ``MeSH:D008180`` -> ``MESH:D008180``; ``MIM:152700`` -> ``OMIM:152700``;
    ``UMLS_CUI:C0024141`` -> ``UMLS:C0024141``. Unknown prefixes are upper-cased and kept."""
    prefix, sep, local = xref.strip().partition(":")
    if not sep:
        return xref.strip()
    p = prefix.strip().upper()
    return f"{_XREF_PREFIXES.get(p, p)}:{local.strip()}"


class Lexicon:
    """A loaded lexicon index (see :func:`load_lexicon`). Read-only; safe to share between threads."""

    def __init__(self, data: dict[str, Any], path: Path | None = None, sha256: str | None = None) -> None:
        self.path = path
        self.sha256 = sha256
        self.info: dict[str, Any] = data.get("info", {})
        concepts, terms = data["concepts"], data["terms"]
        # the index file holds both tables as strings; the start-up cache (see load_lexicon) holds them parsed
        self._lines: list[str] = concepts if isinstance(concepts, list) else concepts.split("\n") if concepts else []
        #: key -> comma-separated concept rows (parsed on use)
        self._terms: dict[str, str] = terms if isinstance(terms, dict) else _parse_terms(terms)
        self._abbreviation_forms: dict[str, list[str]] = data.get("abbreviations", {})
        # the start-up cache holds them built (see _parsed_index)
        self._abbreviations: dict[str, frozenset[str]] | None = data.get("abbreviation_sets")
        self.curated: frozenset[str] = frozenset(data.get("curated", ()))
        self._xref_text: str = data.get("xrefs", "")
        self._xrefs: dict[str, list[str]] | None = None
        self._row_of: dict[str, int] | None = None
        self._cache: dict[int, Concept] = {}
        self._id_label: dict[int, tuple[str, str]] = {}

    @property
    def abbreviations(self) -> dict[str, frozenset[str]]:
        """Case-sensitive keys -> their stored surface forms (canonical: letters and digits), built on first use."""
        if self._abbreviations is None:
            self._abbreviations = {k: frozenset(canonical_surface(s) for s in v)
                                   for k, v in self._abbreviation_forms.items()}
        return self._abbreviations

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_builder(cls, builder: IndexBuilder) -> "Lexicon":
        """A lexicon straight from an :class:`IndexBuilder` (no file)."""
        return cls(builder.to_json())

    # ------------------------------------------------------------------ concepts

    def _concept_at(self, row: int) -> Concept:
        c = self._cache.get(row)
        if c is None:
            c = self._cache[row] = Concept.from_line(self._lines[row])
        return c

    def _rows_by_id(self) -> dict[str, int]:
        if self._row_of is None:
            self._row_of = {line.partition("\t")[0]: i for i, line in enumerate(self._lines)}
        return self._row_of

    def __len__(self) -> int:
        """Number of concepts."""
        return len(self._lines)

    def __contains__(self, concept_id: object) -> bool:
        return isinstance(concept_id, str) and concept_id in self._rows_by_id()

    def concept(self, concept_id: str) -> Concept:
        """The concept with this id; ``KeyError`` naming the id when there is none."""
        row = self._rows_by_id().get(concept_id)
        if row is None:
            raise KeyError(f"no concept {concept_id!r} in the lexicon ({len(self)} concepts; ids look like "
                           "DOID:9074, HP:0001945, DRUGBANK:DB00563, NCBITaxon:1280)")
        return self._concept_at(row)

    def concepts(self) -> Iterator[Concept]:
        """All concepts, in id order."""
        for i in range(len(self._lines)):
            yield self._concept_at(i)

    def disease_category(self, doid: str) -> DiseaseCategory | None:
        """Label, category and subcategory of a disease concept; None for unknown ids and non-diseases."""
        row = self._rows_by_id().get(doid)
        if row is None:
            return None
        c = self._concept_at(row)
        if c.category is None:
            return None
        return DiseaseCategory(c.label, c.category, c.subcategory)

    # ------------------------------------------------------------------ terms

    def keys(self) -> Iterator[str]:
        """Every normalized term."""
        return iter(self._terms)

    def rows_for_key(self, key: str) -> list[int]:
        """Concept rows of a normalized key, best first (see :meth:`concept_at`)."""
        rows = self._terms.get(key)
        return [int(r) for r in rows.split(",")] if rows else []

    def concept_at(self, row: int) -> Concept:
        """The concept stored at ``row``."""
        return self._concept_at(row)

    def label_at(self, row: int) -> str:
        """The label of the concept at ``row`` without building the concept."""
        return self.id_label_at(row)[1]

    def id_label_at(self, row: int) -> tuple[str, str]:
        """(id, label) of the concept at ``row`` without building the concept."""
        hit = self._id_label.get(row)
        if hit is None:  # one row at a time: a table of every row costs tens of ms at start-up
            cid, _, label, _ = self._lines[row].split("\t", 3)
            hit = self._id_label[row] = (cid, label)
        return hit

    def concepts_for_key(self, key: str) -> list[Concept]:
        """Concepts of an already normalized key, best first."""
        return [self._concept_at(i) for i in self.rows_for_key(key)]

    def case_ok(self, key: str, surface: str) -> bool:
        """Whether ``surface`` may match ``key``: always, unless ``key`` is a case-sensitive abbreviation;
        then the surface must be one of its stored forms or written without lower-case letters."""
        forms = self.abbreviations.get(key)
        if forms is None:
            return True
        canon = canonical_surface(surface)
        return canon in forms or not any(c.islower() for c in canon)

    def lookup(self, term: str, *, respect_case: bool = True) -> list[Concept]:
        """Concepts whose name or synonym normalizes like ``term``, best first (curated entries, then
        diseases, pathogens, drugs, phenotypes). Short abbreviations are case-sensitive (``"RA"`` finds
        rheumatoid arthritis, ``"ra"`` nothing) unless ``respect_case=False``."""
        key = normalize_term(term)
        if respect_case and not self.case_ok(key, term):
            return []
        return self.concepts_for_key(key)

    def by_xref(self, xref: str) -> list[str]:
        """DOIDs cross-referenced by a MeSH, OMIM, UMLS, ICD-10-CM or MONDO id (``"MESH:D008180"``,
        ``"OMIM:152700"``), via DO xrefs and MONDO exact-match mappings. Every candidate is returned, sorted:
        several DOIDs mean the mapping is ambiguous and the caller must decide."""
        if self._xrefs is None:
            table: dict[str, list[str]] = {}
            for line in self._xref_text.split("\n") if self._xref_text else ():
                x, _, doids = line.partition("\t")
                table[x] = doids.split(",")
            self._xrefs = table
        return list(self._xrefs.get(normalize_xref(xref), ()))

    def __repr__(self) -> str:
        where = str(self.path) if self.path else "in memory"
        return f"<Lexicon {len(self)} concepts, {len(self._terms)} terms ({where})>"


_ROW_CHARS = str.maketrans("", "", "0123456789,")


def _parse_terms(text: str) -> dict[str, str]:
    """``key<TAB>rows`` lines (rows: comma-separated integers) -> {key: rows}. One split over the whole table,
    zipped into a dict, is faster than a loop over its lines; when the pieces do not pair up as key, rows
    (a line without exactly one tab), the loop decides (the first tab splits)."""
    if not text:
        return {}
    parts = text.replace("\n", "\t").split("\t")
    if len(parts) == 2 * (text.count("\n") + 1):
        rows = parts[1::2]
        if not "".join(rows).translate(_ROW_CHARS):
            return dict(zip(parts[::2], rows))
    terms: dict[str, str] = {}
    for line in text.split("\n"):
        key, _, rows = line.partition("\t")
        terms[key] = rows
    return terms


_CACHE: dict[tuple[Path, int, int], Lexicon] = {}
_LOCK = threading.Lock()


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """The lexicon at ``path`` (default: the packaged index), loaded once and cached (until the file changes)."""
    p = Path(path).expanduser().resolve() if path is not None else default_index_path()
    if not p.is_file():
        raise ModelNotFoundError(f"lexicon index {p} not found. Build it with `imner build lexicon"
                                 f"{'' if path is None else ' --out DIR'}` (needs $IMNER_DATA/lexicons).")
    st = p.stat()
    key = (p, st.st_mtime_ns, st.st_size)
    with _LOCK:
        lex = _CACHE.get(key)
        if lex is None:
            raw = p.read_bytes()
            sha = hashlib.sha256(raw).hexdigest()
            lex = Lexicon(_parsed_index(p, raw, sha), path=p, sha256=sha)
            for old in [k for k in _CACHE if k[0] == p]:
                del _CACHE[old]
            _CACHE[key] = lex
    return lex


def _parsed_index(path: Path, raw: bytes, sha: str) -> dict[str, Any]:
    """The index of ``raw`` with its tables parsed (concept lines as a list, terms as a dict), through the
    on-disk cache of :mod:`imner.cache` keyed by the file's sha256: a new process loads that in about a third of
    the time that decompressing and parsing the index takes."""
    from imner.cache import cache_key, load, source_hash, store

    ck = cache_key("lexicon", sha, source_hash("imner.lexicon", "imner.lexicon.index", "imner.lexicon.normalize"))
    hit = load(ck)
    if isinstance(hit, dict) and isinstance(hit.get("concepts"), list) and isinstance(hit.get("terms"), dict):
        return hit
    data = read_index(path, raw)
    concepts = data["concepts"]
    data["concepts"] = concepts.split("\n") if concepts else []
    data["terms"] = _parse_terms(data["terms"])
    data["abbreviation_sets"] = {k: frozenset(canonical_surface(s) for s in v)
                                 for k, v in data.get("abbreviations", {}).items()}
    store(ck, data)
    return data
