"""Named corpora over the shared data directory (``$IMNER_DATA``).

A :class:`Corpus` says where a corpus lives, which splits and labels it has, which schema classes it
annotates exhaustively (``annotates``, used for partial-label training) and how to read one split.
Nothing is read at import: a split is read on first :func:`load` and then cached.

Adding a corpus from another module::

    # src/imner/corpora/imd_cases.py
    from imner.corpora import Corpus, register
    register(Corpus(name="imd-cases", ..., loader=_load))

and list that module in ``_PLUGIN_MODULES`` below (a module of another package: an entry point of the group
``imner.corpora`` whose value is the module); plugin modules are imported on first access to the registry (:func:`get`, :func:`load`, :func:`list_corpora`, or ``CORPORA``).

Documents carry ``meta = {"corpus": name, "split": split, ...}``; loaders add ``"pmid"`` where the
source document is a PubMed record, which :func:`pmids` and :func:`exclude_overlap` use.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

from imner.config import data_dir, data_path
from imner.errors import ConfigError, DataNotFoundError, ImnerError
from imner.schema import LABEL_NAMES
from imner.types import Document

log = logging.getLogger(__name__)

#: modules that register corpora when imported; imported once, on first access to the registry.
_PLUGIN_MODULES: list[str] = [
    "imner.corpora.maccrobat",
    "imner.corpora.ncbi_disease",
    "imner.corpora.bc5cdr",
    "imner.corpora.biored",
    "imner.corpora.s800",
    "imner.corpora.linnaeus",
    "imner.corpora.bionlp11id",
    "imner.corpora.codiesp",
    "imner.corpora.imd_cases",
]
#: entry-point group naming more plugin modules (other installed packages: the dev package's silver corpora)
ENTRY_POINT_GROUP = "imner.corpora"

#: other spellings accepted for the canonical split names
SPLIT_ALIASES: dict[str, str] = {"devel": "dev", "development": "dev", "validation": "dev", "valid": "dev"}


class UnknownCorpusError(ImnerError, ValueError):
    """A corpus or split name that is not registered; the message lists the known ones."""


class Loaded(NamedTuple):
    """What a loader returns: the documents of one split and notes on anything it handled specially
    (dropped duplicates, known upstream quirks...). Notes are logged and shown by ``imner corpus stats``."""

    docs: list[Document]
    notes: tuple[str, ...] = ()


Loader = Callable[[Path, str], "Loaded | Iterable[Document]"]


@dataclass(frozen=True)
class Corpus:
    """A named corpus.

    ``path`` is relative to the data directory (``$IMNER_DATA``) unless absolute. ``labels`` are the
    corpus's own entity types. ``annotates`` are the imner schema classes (:data:`imner.schema.LABEL_NAMES`)
    the corpus annotates exhaustively: every mention of such a class in its texts lies inside one of its
    spans, so text outside its spans is negative evidence for that class. ``loader(root, split)`` reads one
    split below the resolved ``root``. ``source_counts(root, split)``, optional, returns counts the source
    itself states or implies (e.g. the token count of its IOB version), for comparison in stats.
    """

    name: str
    description: str
    licence: str
    path: str | Path
    splits: tuple[str, ...]
    labels: tuple[str, ...]
    annotates: frozenset[str]
    format: str
    loader: Loader = field(repr=False)
    source_counts: Callable[[Path, str], dict[str, Any]] | None = field(default=None, repr=False)
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "splits", tuple(self.splits))
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "annotates", frozenset(self.annotates))
        unknown = sorted(self.annotates - set(LABEL_NAMES))
        if unknown:
            raise ConfigError(f"corpus {self.name!r}: annotates {unknown} which are not schema classes; "
                              f"allowed: {', '.join(LABEL_NAMES)}")
        if not self.splits:
            raise ConfigError(f"corpus {self.name!r} has no splits")

    def root(self) -> Path:
        """The corpus directory; :class:`~imner.errors.DataNotFoundError` (set IMNER_DATA) when missing."""
        p = Path(self.path)
        if p.is_absolute():
            if not p.exists():
                raise_missing(p)
            return p
        return data_path(*p.parts)

    def canonical_split(self, split: str) -> str:
        s = SPLIT_ALIASES.get(split, split)
        if s not in self.splits:
            raise UnknownCorpusError(f"corpus {self.name!r} has no split {split!r}; "
                                     f"splits: {', '.join(self.splits)}")
        return s


def raise_missing(path: Path) -> None:
    """Raise the standard 'data not found, set IMNER_DATA' error for ``path``."""
    raise DataNotFoundError(
        f"{path} not found. imner reads corpora from $IMNER_DATA (now {os.environ.get('IMNER_DATA', 'unset')}; "
        f"data dir {data_dir()}). Set IMNER_DATA to the folder that holds maccrobat/, ncbi_disease/ ...")


def require(path: Path) -> Path:
    """``path`` if it exists, else the standard missing-data error."""
    if not path.exists():
        raise_missing(path)
    return path


# ---------------------------------------------------------------- registry

_REGISTRY: dict[str, Corpus] = {}
_imported: set[str] = set()
_plugins_lock = threading.RLock()


_entry_modules: list[str] | None = None


def _plugin_modules() -> list[str]:
    """``_PLUGIN_MODULES`` then the modules named by the ``imner.corpora`` entry points (looked up once)."""
    global _entry_modules
    if _entry_modules is None:
        from importlib.metadata import entry_points

        _entry_modules = [ep.value for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)]
    return _PLUGIN_MODULES + [m for m in _entry_modules if m not in _PLUGIN_MODULES]


def _ensure_plugins() -> None:
    """Import the plugin modules not imported yet (each registers its corpora)."""
    modules = _plugin_modules()
    if len(_imported) == len(modules):
        return
    with _plugins_lock:
        for module in modules:
            if module in _imported:
                continue
            _imported.add(module)  # first: a plugin's register() must not recurse into this
            try:
                importlib.import_module(module)
            except BaseException:
                _imported.discard(module)
                raise


class _LazyRegistry(dict):
    """``CORPORA``: a read view of the registry that imports the plugin modules on first use."""

    def __getitem__(self, key: str) -> Corpus:
        _ensure_plugins()
        return _REGISTRY[key]

    def __contains__(self, key: object) -> bool:
        _ensure_plugins()
        return key in _REGISTRY

    def __iter__(self) -> Iterator[str]:
        _ensure_plugins()
        return iter(_REGISTRY)

    def __len__(self) -> int:
        _ensure_plugins()
        return len(_REGISTRY)

    def __repr__(self) -> str:
        _ensure_plugins()
        return repr(_REGISTRY)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        _ensure_plugins()
        return _REGISTRY.get(key, default)

    def keys(self):  # type: ignore[override]
        _ensure_plugins()
        return _REGISTRY.keys()

    def values(self):  # type: ignore[override]
        _ensure_plugins()
        return _REGISTRY.values()

    def items(self):  # type: ignore[override]
        _ensure_plugins()
        return _REGISTRY.items()


#: name -> Corpus (read-only use; add corpora with :func:`register`)
CORPORA: dict[str, Corpus] = _LazyRegistry()


def register(corpus: Corpus, *, replace: bool = False) -> Corpus:
    """Add ``corpus`` to the registry (an error if the name is taken, unless ``replace``)."""
    if corpus.name in _REGISTRY and not replace:
        raise ConfigError(f"corpus {corpus.name!r} is already registered")
    _REGISTRY[corpus.name] = corpus
    clear_cache(corpus.name)
    return corpus


def get(name: str) -> Corpus:
    """The corpus called ``name``; an error listing the known names otherwise."""
    _ensure_plugins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownCorpusError(f"unknown corpus {name!r}; known corpora: {', '.join(sorted(_REGISTRY))}") from None


def list_corpora() -> list[Corpus]:
    """All registered corpora, in registration order."""
    _ensure_plugins()
    return list(_REGISTRY.values())


# ---------------------------------------------------------------- loading

#: (corpus, split, resolved root) -> (documents, notes)
_CACHE: dict[tuple[str, str, str], tuple[tuple[Document, ...], tuple[str, ...]]] = {}
_cache_lock = threading.RLock()


def clear_cache(name: str | None = None) -> None:
    """Forget loaded documents (of one corpus, or all)."""
    with _cache_lock:
        for key in [k for k in _CACHE if name is None or k[0] == name]:
            _CACHE.pop(key, None)


def _load_split(corpus: Corpus, split: str) -> tuple[tuple[Document, ...], tuple[str, ...]]:
    root = corpus.root()
    key = (corpus.name, split, str(root))
    with _cache_lock:
        if key in _CACHE:
            return _CACHE[key]
        result = corpus.loader(root, split)
        if isinstance(result, Loaded):
            docs, notes = result.docs, tuple(result.notes)
        else:
            docs, notes = list(result), ()
        out = tuple(d.with_meta(corpus=corpus.name, split=split) for d in docs)
        for note in notes:
            log.info("%s/%s: %s", corpus.name, split, note)
        _CACHE[key] = (out, notes)
        return _CACHE[key]


def load(name: str, split: str | None = None) -> list[Document]:
    """Documents of one split of corpus ``name`` (``split=None``: all splits, in the corpus's split order).

    Split names are ``train``/``dev``/``test`` (``devel``, ``validation`` accepted for ``dev``). Each
    document's ``meta`` has ``corpus`` and ``split``.
    """
    corpus = get(name)
    splits = corpus.splits if split is None else (corpus.canonical_split(split),)
    return [d for s in splits for d in _load_split(corpus, s)[0]]


def load_notes(name: str, split: str | None = None) -> list[str]:
    """Notes the loader reported for a split (or all splits), e.g. a dropped duplicate; loads if needed."""
    corpus = get(name)
    splits = corpus.splits if split is None else (corpus.canonical_split(split),)
    out: list[str] = []
    for s in splits:
        out.extend(f"{s}: {note}" for note in _load_split(corpus, s)[1])
    return out


# ---------------------------------------------------------------- overlap between corpora

def pmids(name: str, split: str | None = None) -> set[str]:
    """PubMed ids of the documents of a corpus split (documents without ``meta['pmid']`` are skipped)."""
    return {str(d.meta["pmid"]) for d in load(name, split) if d.meta.get("pmid")}


class Deduplicated(NamedTuple):
    """Result of :func:`exclude_overlap`: the kept documents and, for each dropped one, ``(doc id, pmid,
    "corpus/split" it appears in)``."""

    docs: list[Document]
    dropped: list[tuple[str, str, str]]

    def summary(self) -> str:
        by: dict[str, int] = {}
        for _, _, where in self.dropped:
            by[where] = by.get(where, 0) + 1
        detail = ", ".join(f"{n} in {w}" for w, n in sorted(by.items()))
        return f"dropped {len(self.dropped)} of {len(self.docs) + len(self.dropped)} documents" + (
            f" ({detail})" if detail else "")


def exclude_overlap(docs: Sequence[Document], against: Iterable[tuple[str, str | None]]) -> Deduplicated:
    """Drop documents whose PMID appears in any of the ``(corpus, split)`` evaluation sets in ``against``.

    Use it on training data before reporting results on those evaluation splits (BioRED shares abstracts
    with BC5CDR and NCBI-disease). The number dropped is logged and returned.
    """
    index: dict[str, str] = {}
    for name, split in against:
        where = f"{name}/{split or 'all'}"
        for p in pmids(name, split):
            index.setdefault(p, where)
    kept: list[Document] = []
    dropped: list[tuple[str, str, str]] = []
    for d in docs:
        p = d.meta.get("pmid")
        if p and str(p) in index:
            dropped.append((d.id, str(p), index[str(p)]))
        else:
            kept.append(d)
    result = Deduplicated(kept, dropped)
    log.info("exclude_overlap: %s", result.summary())
    return result


def __getattr__(name: str) -> Any:
    # ``from imner.corpora import corpus_stats`` without importing the stats module at import time
    if name == "corpus_stats":
        from imner.corpora.stats import corpus_stats

        return corpus_stats
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CORPORA", "Corpus", "Deduplicated", "Loaded", "UnknownCorpusError", "SPLIT_ALIASES", "clear_cache",
    "corpus_stats", "exclude_overlap", "get", "list_corpora", "load", "load_notes", "pmids", "register",
    "require",
]
