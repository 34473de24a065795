"""``dictionary.v1``: longest-match lexicon tagger over normalized tokens.

The default extractor while no trained model exists, a baseline, and a feature source for statistical taggers.

Matching (all normalization in :mod:`imner.lexicon.normalize`):

* the text is folded character by character (lower case, unified dashes/quotes, no diacritics: offsets are
  unchanged), tokenized with :mod:`imner.text`, and tokens are split at internal hyphens into *pieces*; a
  lexicon key is the space-joined pieces of a term, so ``Guillain–Barré`` matches ``Guillain Barre``;
* scanning left to right, the longest key starting at a token start wins; matches never overlap. A match must
  end at a token end, or just before a hyphenated suffix such as ``-associated``, ``-induced``, ``-positive``
  (``SLE-associated`` gives ``SLE``); it never starts inside a token (``non-Hodgkin`` does not give
  ``Hodgkin``), and never crosses a line break;
* a plural last word matches its singular (``seizures``, ``abscesses``, ``arteries``, ``stenoses``;
  :func:`imner.lexicon.normalize.singular` without its Latin rules) when ``plurals`` is on;
* short abbreviations (a key whose every written form is abbreviation-like, e.g. ``CMV``, ``RA``, ``DRESS``)
  match only when written in capitals or exactly as listed, so ``ra`` or ``dress`` in running text never fire;
* a disease match right after a word that states its mechanism (``viral``, ``bacterial``, ``septic``,
  ``autoimmune``, ``allergic``...: :data:`MECHANISM_MODIFIERS`) is extended over that word and takes the class
  it states (guideline rule 1: ``viral myocarditis`` is INFECTIOUS_DISEASE), when ``mechanism_modifiers`` is on;
* keys in the stop-list (``src/imner/resources/lexicon/stoplist.txt``: ordinary words that happen to be drug,
  taxon or phenotype names, e.g. ``water``, ``date``, ``mass``-like generic words) and keys with fewer than
  ``min_term_length`` letters/digits (curated keys excepted) are never matched.

Each key has one label: the first of its concepts (lexicon order: curated entries, then diseases, pathogens,
drugs, phenotypes) whose label is in ``labels``. Spans carry ``score=1.0`` and attrs ``concept_id``,
``source="lexicon"`` and, when other concepts of the same label share the key, ``alt_concept_ids``.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from typing import Any, Sequence

from imner import schema
from imner.configkit import check_int, checked_params, read_saved_config
from imner.errors import ConfigError
from imner.lexicon import LEXICON_DIR, Lexicon, load_lexicon, normalize_term
from imner.lexicon.normalize import Piece, fold_text, iter_pieces, singular
from imner.taggers.base import Tagger
from imner.types import Document, Span
from imner.text import within_one_sentence

#: labels the packaged lexicon can produce
LEXICON_LABELS: tuple[str, ...] = (
    "IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "OTHER_DISEASE", "PATHOGEN", "SIGN_SYMPTOM", "MEDICATION", "SEVERITY",
)
#: a match may end before one of these hyphenated suffixes ("SLE-associated", "HIV-positive")
HYPHEN_SUFFIXES = frozenset({
    "associated", "induced", "related", "positive", "negative", "resistant", "sensitive", "susceptible",
    "mediated", "infected", "producing", "specific", "naive", "treated", "refractory", "dependent",
})
#: guideline rule 1 ("the mechanism the text states wins"): a disease match right after one of these words is
#: extended over it and relabelled ("viral myocarditis", "septic arthritis", "autoimmune encephalitis")
MECHANISM_MODIFIERS: dict[str, str] = {
    **dict.fromkeys(("viral", "bacterial", "fungal", "parasitic", "septic", "infectious", "infective", "tuberculous",
                     "mycobacterial", "pyogenic", "suppurative", "mycotic", "protozoal", "helminthic"),
                    "INFECTIOUS_DISEASE"),
    **dict.fromkeys(("autoimmune", "allergic", "immune-mediated", "lupus", "eosinophilic", "granulomatous"),
                    "IMMUNE_DISEASE"),
}
DEFAULT_STOPLIST = LEXICON_DIR / "stoplist.txt"
COPIED_LEXICON = "lexicon.json.gz"


def read_stoplist(path: str | Path) -> frozenset[str]:
    """Normalized keys of a stop-list file (one term per line; ``#`` comments and blank lines ignored)."""
    out = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.add(normalize_term(line))
    return frozenset(out)


def _case_ok(abbreviations: dict[str, frozenset[str]], key: str, surface: str) -> bool:
    """:meth:`imner.lexicon.Lexicon.case_ok` over the matcher's own copy of the abbreviation forms."""
    from imner.lexicon.index import canonical_surface

    forms = abbreviations.get(key)
    if forms is None:
        return True
    canon = canonical_surface(surface)
    return canon in forms or not any(c.islower() for c in canon)


class _Entries:
    """The matcher's table, key -> ``(label, concept id, other ids of that label)``, read from the lexicon as keys are
    asked for (and kept): a key in the stop-list, shorter than ``min_term_length`` letters/digits (curated keys
    excepted) or without a concept of the wanted labels has no entry. The label is the first of the key's concepts
    (lexicon order) whose label is wanted; the ids are that label's concepts in the same order."""

    __slots__ = ("_lex", "_terms", "_wanted", "_stop", "_min", "_curated", "_memo")

    def __init__(self, lex: Lexicon, labels: Sequence[str], stop: frozenset[str], min_term_length: int) -> None:
        self._lex = lex
        self._terms = lex._terms
        self._wanted = frozenset(labels)
        self._stop = stop
        self._min = min_term_length
        self._curated = lex.curated
        self._memo: dict[str, tuple[str, str, tuple[str, ...]] | None] = {}

    @property
    def terms(self) -> dict[str, str]:
        """The lexicon's keys (a superset of the keys with an entry), for a fast test before :meth:`get`."""
        return self._terms

    def get(self, key: str) -> tuple[str, str, tuple[str, ...]] | None:
        if key not in self._terms:  # most keys a text tries: nothing to keep
            return None
        try:
            return self._memo[key]
        except KeyError:
            pass
        entry = None
        if key not in self._stop and (key in self._curated or sum(c.isalnum() for c in key) >= self._min):
            pairs = [self._lex.id_label_at(r) for r in self._lex.rows_for_key(key)]
            label = next((lab for _, lab in pairs if lab in self._wanted), None)
            if label is not None:
                ids = [cid for cid, lab in pairs if lab == label]
                entry = (label, ids[0], tuple(ids[1:]))
        self._memo[key] = entry
        return entry

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None


class DictionaryTagger(Tagger):
    """Longest-match lexicon tagger (see the module docstring)."""

    name = "dictionary.v1"

    def __init__(self, lexicon: str | Path | Lexicon | None = None, labels: Sequence[str] | None = None,
                 min_term_length: int = 3, stoplist: str | Path | None = "default", plurals: bool = True,
                 mechanism_modifiers: bool = True, lexicon_sha256: str | None = None) -> None:
        if isinstance(lexicon, Lexicon):
            self._lexicon: Lexicon | None = lexicon
            self.lexicon_path: Path | None = lexicon.path
        else:
            self._lexicon = None
            self.lexicon_path = Path(lexicon) if lexicon is not None else None
        wanted = tuple(labels) if labels is not None else LEXICON_LABELS
        for label in wanted:
            schema.get(label)
        if not wanted:
            raise ConfigError("dictionary tagger: 'labels' is empty; give at least one label to emit")
        self.labels = tuple(dict.fromkeys(wanted))
        check_int(min_term_length, "dictionary tagger: min_term_length")
        self.min_term_length = min_term_length
        self.stoplist = None if stoplist in (None, "", False) else str(stoplist)
        self.plurals = bool(plurals)
        self.mechanism_modifiers = bool(mechanism_modifiers)
        self.lexicon_sha256 = lexicon_sha256
        self._compiled: tuple[_Entries, dict[str, int]] | None = None
        self._stop: frozenset[str] = frozenset()
        self._abbreviations: dict[str, frozenset[str]] = {}

    # ------------------------------------------------------------------ lexicon

    @property
    def lexicon(self) -> Lexicon:
        if self._lexicon is None:
            self._lexicon = load_lexicon(self.lexicon_path)
            if self.lexicon_sha256 and self._lexicon.sha256 and self._lexicon.sha256 != self.lexicon_sha256:
                warnings.warn(f"dictionary tagger: the lexicon at {self._lexicon.path} differs from the one this "
                              "tagger was saved with (sha256 mismatch); predictions may differ", stacklevel=2)
        return self._lexicon

    def _stop_keys(self) -> frozenset[str]:
        if self.stoplist is None:
            return frozenset()
        path = DEFAULT_STOPLIST if self.stoplist == "default" else Path(self.stoplist)
        if not path.is_file():
            raise ConfigError(f"dictionary tagger: stop-list {path} not found (use \"default\", a file path or null)")
        return read_stoplist(path)

    def _cache_key(self, lex: Lexicon) -> str | None:
        """The :mod:`imner.cache` key of this tagger's compiled tables (the lexicon file's sha256, the stop-list's
        bytes and the settings); None for an in-memory lexicon."""
        import hashlib

        from imner import cache

        if lex.path is None or not lex.sha256:
            return None
        try:
            stop = DEFAULT_STOPLIST if self.stoplist == "default" else self.stoplist
            stop_sha = hashlib.sha256(Path(stop).read_bytes()).hexdigest() if stop is not None else None
        except OSError:
            return None
        if self.lexicon_sha256 and lex.sha256 != self.lexicon_sha256:
            return None  # the lexicon property has warned about the mismatch; nothing is cached for it
        return cache.cache_key("dictfirst", lex.sha256, stop_sha, self.labels, self.min_term_length,
                               cache.source_hash("imner.taggers.dictionary"))

    def _compile(self) -> tuple["_Entries", dict[str, int]]:
        """key -> (label, concept id, other ids of that label), as a lazy table over the lexicon (:class:`_Entries`:
        each key's entry is computed from the lexicon's rows when matching first asks for it); first piece -> most
        pieces of a key.

        Only the second table (and the stop keys) is cached on disk
        (:mod:`imner.cache`): building it reads every key's entry (most of a cold start), while a new process only
        needs the entries of the keys its text tries, and the lexicon is the one the normalizer loads anyway (its
        start-up cache loads in half the time that a cached table of every entry did)."""
        if self._compiled is not None:
            return self._compiled
        from imner import cache

        lex = self.lexicon
        key = self._cache_key(lex)
        hit = cache.load(key) if key is not None else None
        if isinstance(hit, tuple) and len(hit) == 2:
            first, self._stop = hit
            self._abbreviations = lex.abbreviations
            self._compiled = (_Entries(lex, self.labels, self._stop, self.min_term_length), first)
            return self._compiled
        self._build_tables()
        if key is not None:
            cache.store(key, (self._compiled[1], self._stop))  # type: ignore[index]
        return self._compiled  # type: ignore[return-value]

    def _build_tables(self) -> None:
        lex = self.lexicon
        self._abbreviations = lex.abbreviations
        stop = self._stop = self._stop_keys()
        table = _Entries(lex, self.labels, stop, self.min_term_length)
        first: dict[str, int] = {}
        for key in lex.keys():
            if table.get(key) is None:
                continue
            parts = key.split(" ")
            if len(parts) > first.get(parts[0], 0):
                first[parts[0]] = len(parts)
        self._compiled = (table, first)

    # ------------------------------------------------------------------ matching

    def _ends_ok(self, pieces: list[Piece], j: int) -> bool:
        """A match covering pieces[..j) may end there."""
        last = pieces[j - 1]
        if last.token_end:
            return True
        nxt = pieces[j] if j < len(pieces) else None
        return nxt is not None and not nxt.token_start and nxt.norm in HYPHEN_SUFFIXES

    def tag_text(self, text: str) -> list[Span]:
        """Spans of one text, sorted and non-overlapping."""
        table, first = self._compile()
        # most keys a text tries are no lexicon term: the dict test here spares them the table's method call
        terms = table.terms
        abbreviations = self._abbreviations
        pieces = list(iter_pieces(fold_text(text)))
        norms = [p.norm for p in pieces]
        n = len(pieces)
        spans: list[Span] = []
        i = 0
        while i < n:
            p = pieces[i]
            longest = first.get(norms[i], 0)
            sing = singular(norms[i], latin=False) if self.plurals else None
            if not p.token_start or (longest == 0 and (sing is None or sing == norms[i] or sing not in terms
                                                  or table.get(sing) is None)):
                i += 1
                continue
            found = None
            for j in range(min(n, i + max(longest, 1)), i, -1):
                if not self._ends_ok(pieces, j):
                    continue
                key = " ".join(norms[i:j])
                entry = table.get(key) if key in terms else None
                if entry is None and self.plurals and key not in self._stop:
                    s = singular(norms[j - 1], latin=False)
                    if s != norms[j - 1]:
                        key = " ".join([*norms[i:j - 1], s])
                        entry = table.get(key) if key in terms else None
                        if entry is not None and key in abbreviations:
                            entry = None
                if entry is None:
                    continue
                start, end = p.start, pieces[j - 1].end
                surface = text[start:end]
                if ("\n" in surface or "\r" in surface) and not within_one_sentence(text, start, end):
                    continue
                if key in abbreviations and not _case_ok(abbreviations, key, surface):
                    continue
                found = (j, start, end, entry)
                break
            if found is None:
                i += 1
                continue
            j, start, end, (label, cid, alt) = found
            attrs: dict[str, Any] = {"concept_id": cid, "source": "lexicon"}
            if alt:
                attrs["alt_concept_ids"] = list(alt)
            if self.mechanism_modifiers and label in schema.DISEASE_LABELS and i > 0:
                prev = pieces[i - 1]
                stated = MECHANISM_MODIFIERS.get(norms[i - 1]) if prev.token_start and prev.token_end else None
                gap = text[prev.end:start]
                if (stated is not None and stated in self.labels and (not spans or spans[-1].end <= prev.start)
                        and gap.strip() == "" and within_one_sentence(text, prev.start, end)):
                    start, label = prev.start, stated
                    attrs["rule"] = "mechanism_modifier"
            spans.append(Span(start, end, label, 1.0, attrs))
            i = j
        return spans

    def predict(self, docs: Sequence[Document]) -> list[list[Span]]:
        return [self.tag_text(doc.text) for doc in docs]

    # ------------------------------------------------------------------ persistence

    def config(self) -> dict[str, Any]:
        return {
            "lexicon": str(self.lexicon_path) if self.lexicon_path is not None else None,
            "lexicon_sha256": self.lexicon.sha256,
            "min_term_length": self.min_term_length,
            "stoplist": self.stoplist,
            "plurals": self.plurals,
            "mechanism_modifiers": self.mechanism_modifiers,
        }

    def save(self, directory: str | Path) -> Path:
        """``config.json``; a lexicon other than the packaged one is copied beside it (``lexicon.json.gz``), and
        a custom stop-list too (``stoplist.txt``), so the directory is self-contained."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        cfg = {"tagger": self.name, "labels": list(self.labels), **self.config()}
        if self._lexicon is not None and self._lexicon.path is None:
            raise ConfigError("dictionary tagger: an in-memory lexicon cannot be saved; write it with "
                              "IndexBuilder.write() and pass the path")
        if self.lexicon_path is not None:
            src = self.lexicon.path
            assert src is not None
            if src.resolve() != (directory / COPIED_LEXICON).resolve():
                shutil.copyfile(src, directory / COPIED_LEXICON)
            cfg["lexicon"] = COPIED_LEXICON
        if self.stoplist not in (None, "default"):
            target = directory / "stoplist.txt"
            if Path(self.stoplist).resolve() != target.resolve():
                shutil.copyfile(self.stoplist, target)
            cfg["stoplist"] = "stoplist.txt"
        (directory / "config.json").write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "DictionaryTagger":
        directory = Path(directory)
        path, cfg = read_saved_config(directory)
        for key in ("lexicon", "stoplist"):
            value = cfg.get(key)
            if value not in (None, "default") and not Path(value).is_absolute():
                cfg[key] = str(directory / value)
        return cls(**checked_params(cls, cfg, str(path)))
