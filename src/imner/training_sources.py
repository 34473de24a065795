"""Training data from a team's own files: the ``{path = ..., format = ...}`` sources of ``imner train``.

A source table of ``[data]`` (``train``, ``dev``, ``test``, ``exclude``) names either a registered corpus
(``{corpus = "imd-cases", split = "train"}``) or files of one's own::

    train = {path = "my_reports/", format = "brat", split = "train",
             split_ratio = {train = 0.8, dev = 0.1, test = 0.1}, seed = 0,
             label_map = {Disease = "OTHER_DISEASE", Infection = "INFECTIOUS_DISEASE", Microbe = "PATHOGEN"}}

Keys of a path source:

* ``path``: a brat folder (``<id>.ann`` beside ``<id>.txt``) or ``.ann`` file, or a CoNLL, PubTator, BioC
  (JSON/XML) or imner JSONL file. Relative paths are from the current directory. Read with the readers of
  :mod:`imner.io` (strict: a mention that does not match its text, offsets outside the text, a ``.ann`` without
  its ``.txt``: an error naming the file and line).
* ``format``: ``brat``, ``conll``, ``pubtator``, ``bioc`` or ``jsonl`` (default: from the path).
* ``split``, with ``split_file`` or ``split_ratio`` (and ``seed``): which part of the documents this source takes.
  ``split_file`` is a text file of ``<document id> <split name>`` lines (``#`` comments, blank lines ignored); every
  document must be listed (``unused`` or any other name keeps one out). ``split_ratio`` is a table of split names
  and fractions summing to 1: the document ids are sorted, shuffled with ``seed`` (default 0) and cut in that
  order, so the same ratio and seed in ``train``, ``dev`` and ``test`` give disjoint parts. Without either the
  source is every document of ``path`` (put each split in its own folder, or give a split file).
* ``limit``: the first N documents (after the split).
* ``label_map``: the team's labels -> the twelve classes of docs/guidelines.md. A span label that is neither mapped
  nor one of the twelve is an error naming the label and the file (and the line in brat), with every such label
  listed at once. ``ignore_labels``: labels to leave out (counted in the manifest), e.g. a scheme's ``Age``.
* ``annotates``: the classes the team annotated (default: the classes ``label_map`` maps to; without a label map,
  the classes that occur in the source's documents, all its splits together). A class left out is trained with partial labels, as for the named corpora that annotate some classes
  only: a token the team left unlabelled may still be that class (``meta["annotates"]``, see
  :mod:`imner.taggers._neural`), and dev/test scores count the annotated classes only.

The labels a path source may map to are the twelve classes, or ``data.keep_labels`` when a config trains a label set
of its own, or the labels of the ``[model] init`` model when fine-tuning.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from imner.configkit import check_int, check_keys, check_number
from imner.errors import ConfigError, DuplicateIdError, InputError, LabelError
from imner.types import Document

#: keys of a path source table
PATH_KEYS: tuple[str, ...] = ("path", "format", "split", "split_file", "split_ratio", "seed", "limit", "label_map",
                              "ignore_labels", "annotates")
#: formats a path source reads (the readers of :mod:`imner.io`)
TRAIN_FORMATS: tuple[str, ...] = ("brat", "conll", "pubtator", "bioc", "jsonl")
_RATIO_TOLERANCE = 1e-6


@dataclass(frozen=True)
class PathSource:
    """A ``{path = ..., format = ...}`` source (see the module doc); ``where`` is its place in the config."""

    path: str
    format: str | None = None
    split: str | None = None
    split_file: str | None = None
    split_ratio: tuple[tuple[str, float], ...] = ()
    seed: int = 0
    limit: int | None = None
    label_map: tuple[tuple[str, str], ...] = ()
    ignore_labels: tuple[str, ...] = ()
    annotates: tuple[str, ...] | None = None
    where: str = ""
    #: neither ``annotates`` nor ``label_map`` given: the classes found in the documents are the ones annotated
    annotates_from_data: bool = False

    @property
    def corpus(self) -> str:
        """What ``meta["corpus"]`` of its documents says (the path as given)."""
        return self.path

    def describe(self) -> str:
        return f"{self.path}[{self.split or 'all'}]" + (f"[:{self.limit}]" if self.limit else "")

    def manifest(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "split": self.split, "split_file": self.split_file,
                "split_ratio": dict(self.split_ratio) or None, "seed": self.seed if self.split_ratio else None,
                "limit": self.limit, "label_map": dict(self.label_map), "ignore_labels": list(self.ignore_labels),
                "annotates": list(self.annotates) if self.annotates is not None else "all"}


# ---------------------------------------------------------------------------------------------- config

def _labels_list(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
        raise ConfigError(f"{name} must be a list of label strings, got {value!r}")
    return tuple(value)


def parse_path_source(item: Mapping[str, Any], here: str, cfg_path: Path, targets: Sequence[str],
                      targets_name: str) -> PathSource:
    """A :class:`PathSource` from the config table ``item`` at ``here`` (e.g. ``data.train[0]``) of ``cfg_path``.

    ``targets``: the labels it may map to (``targets_name`` says what they are, for the errors)."""
    loc = f"{cfg_path}: {here}"
    check_keys(item, PATH_KEYS, str(cfg_path), section=here)
    path = item["path"]
    if not isinstance(path, str) or not path:
        raise ConfigError(f"{loc}.path must be a file or folder path string, got {path!r}")
    fmt = item.get("format")
    if fmt is not None and fmt not in TRAIN_FORMATS:
        raise ConfigError(f"{loc}.format must be one of {', '.join(TRAIN_FORMATS)}, got {fmt!r}")
    split = item.get("split")
    if split is not None and (not isinstance(split, str) or not split):
        raise ConfigError(f"{loc}.split must be a split name such as \"train\", got {split!r}")
    split_file = item.get("split_file")
    if split_file is not None and (not isinstance(split_file, str) or not split_file):
        raise ConfigError(f"{loc}.split_file must be a file path string, got {split_file!r}")
    ratio_table = item.get("split_ratio")
    ratio: tuple[tuple[str, float], ...] = ()
    if ratio_table is not None:
        if not isinstance(ratio_table, Mapping) or not ratio_table:
            raise ConfigError(f"{loc}.split_ratio must be a table of split names and fractions, e.g. "
                              f"{{train = 0.8, dev = 0.1, test = 0.1}}, got {ratio_table!r}")
        ratio = tuple((str(k), check_number(v, f"{loc}.split_ratio.{k}", 0.0, 1.0)) for k, v in ratio_table.items())
        total = sum(v for _, v in ratio)
        if abs(total - 1.0) > _RATIO_TOLERANCE:
            raise ConfigError(f"{loc}.split_ratio fractions must sum to 1, got {total:g} ({dict(ratio)})")
    if split_file is not None and ratio:
        raise ConfigError(f"{loc}: give split_file or split_ratio, not both")
    if (split_file is not None or ratio) and split is None:
        raise ConfigError(f"{loc} has {'split_file' if split_file else 'split_ratio'} but no split: say which part "
                          "this source takes, e.g. split = \"train\"")
    if split is not None and split_file is None and not ratio:
        raise ConfigError(f"{loc}.split = {split!r} needs split_file or split_ratio to say which documents are "
                          f"{split!r}; without them the source is every document of {path!r} (leave split out)")
    if ratio and split not in dict(ratio):
        raise ConfigError(f"{loc}.split = {split!r} is not one of the split_ratio names: "
                          f"{', '.join(n for n, _ in ratio)}")
    seed = check_int(item.get("seed", 0), f"{loc}.seed", 0)
    if "seed" in item and not ratio:
        raise ConfigError(f"{loc}.seed is used with split_ratio only")
    limit = item.get("limit")
    if limit is not None:
        check_int(limit, f"{loc}.limit")
    table = item.get("label_map", {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"{loc}.label_map must be a table of your labels and classes, e.g. "
                          f"{{Disease = \"OTHER_DISEASE\"}}, got {table!r}")
    allowed = ", ".join(targets)
    for k, v in table.items():
        if not isinstance(v, str) or v not in targets:
            raise ConfigError(f"{loc}.label_map.{k} = {v!r} is not one of {targets_name}: {allowed}")
    ignore = _labels_list(item.get("ignore_labels", []), f"{loc}.ignore_labels")
    both = sorted(set(ignore) & set(table))
    if both:
        raise ConfigError(f"{loc}: {', '.join(map(repr, both))} both mapped (label_map) and ignored (ignore_labels)")
    annotates: tuple[str, ...] | None = None
    if "annotates" in item:
        annotates = _labels_list(item["annotates"], f"{loc}.annotates")
        bad = [a for a in annotates if a not in targets]
        if bad:
            raise ConfigError(f"{loc}.annotates: {', '.join(map(repr, bad))} not among {targets_name}: {allowed}")
        missing = sorted(set(table.values()) - set(annotates))
        if missing:
            raise ConfigError(f"{loc}.label_map maps labels to {', '.join(missing)}, which annotates does not list")
        if set(annotates) >= set(targets):
            annotates = None
        else:
            annotates = tuple(sorted(set(annotates)))
    elif table:
        mapped = set(table.values())
        annotates = None if mapped >= set(targets) else tuple(sorted(mapped))
    return PathSource(path=path, format=fmt, split=split, split_file=split_file, split_ratio=ratio, seed=seed,
                      limit=limit, label_map=tuple((str(k), v) for k, v in table.items()), ignore_labels=ignore,
                      annotates=annotates, where=here, annotates_from_data="annotates" not in item and not table)


# ---------------------------------------------------------------------------------------------- reading

def _read(src: PathSource) -> list[Document]:
    from imner.io import detect_format, read_documents

    p = Path(src.path)
    if not p.exists():
        raise InputError(f"not found (the {src.where} source; relative paths are from the current directory, "
                         f"{Path.cwd()})", source=src.path)
    fmt = src.format or detect_format(p)
    if p.is_dir() and fmt != "brat":
        raise InputError(f"is a folder; format {fmt!r} reads a file (a folder is read as brat: format = \"brat\")",
                         source=src.path)
    docs = read_documents(p, fmt)  # strict: on_mismatch="raise" is every reader's default
    if not docs:
        raise InputError(f"no documents in this {fmt} {'folder' if p.is_dir() else 'file'}", source=src.path)
    seen: dict[str, int] = {}
    for k, d in enumerate(docs):
        if d.id in seen:
            raise DuplicateIdError(f"two documents with the id {d.id!r} (numbers {seen[d.id] + 1} and {k + 1}); "
                                   "document ids must be unique within a source", source=src.path)
        seen[d.id] = k
    return docs


def _split_file(src: PathSource, ids: Sequence[str]) -> dict[str, str]:
    from imner.io._common import iter_decoded_lines

    path = Path(src.split_file)  # type: ignore[arg-type]
    if not path.is_file():
        raise InputError(f"split file not found (the {src.where} source; relative paths are from the current "
                         f"directory, {Path.cwd()})", source=str(path))
    known = set(ids)
    out: dict[str, str] = {}
    lines: dict[str, int] = {}
    for n, line in iter_decoded_lines(path):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        parts = body.split()
        if len(parts) != 2:
            raise InputError(f"expected '<document id> <split name>', got {body!r}", source=str(path), line=n)
        doc_id, name = parts
        if doc_id not in known:
            raise InputError(f"document {doc_id!r} is not in {src.path}", source=str(path), line=n)
        if doc_id in out:
            raise InputError(f"document {doc_id!r} listed again (first on line {lines[doc_id]})",
                             source=str(path), line=n)
        out[doc_id], lines[doc_id] = name, n
    unlisted = [i for i in ids if i not in out]
    if unlisted:
        shown = ", ".join(map(repr, unlisted[:5])) + (f" and {len(unlisted) - 5} more" if len(unlisted) > 5 else "")
        raise InputError(f"{len(unlisted)} documents of {src.path} are not listed: {shown}; give every document a "
                         "split (a name such as 'unused' keeps one out of training)", source=str(path))
    return out


def ratio_split(ids: Sequence[str], ratio: Sequence[tuple[str, float]], seed: int) -> dict[str, str]:
    """Each id -> a split name: the sorted ids shuffled with ``seed`` and cut by the fractions (largest remainders
    round, so the parts add up to every document)."""
    order = sorted(ids)
    random.Random(seed).shuffle(order)
    n = len(order)
    exact = [f * n for _, f in ratio]
    counts = [int(x) for x in exact]
    for k in sorted(range(len(ratio)), key=lambda k: (counts[k] - exact[k], k))[:n - sum(counts)]:
        counts[k] += 1
    out: dict[str, str] = {}
    pos = 0
    for (name, _), c in zip(ratio, counts):
        for i in order[pos:pos + c]:
            out[i] = name
        pos += c
    return out


def _brat_line(src: PathSource, doc: Document, tid: Any) -> tuple[str, int | None]:
    """The ``.ann`` file of ``doc`` and the line of its ``tid`` T line (None when not found)."""
    p = Path(src.path)
    ann = p / f"{doc.id}.ann" if p.is_dir() else p
    if isinstance(tid, str):
        try:
            with open(ann, encoding="utf-8", errors="replace") as fh:
                for n, line in enumerate(fh, 1):
                    if line.startswith(tid + "\t"):
                        return str(ann), n
        except OSError:
            pass
    return str(ann), None


def _where(src: PathSource, fmt: str, doc: Document, span_id: Any) -> str:
    if fmt == "brat":
        file, line = _brat_line(src, doc, span_id)
        return f"{file}, line {line}" if line else file
    return f"{src.path}, document {doc.id!r}"


def relabel_source(src: PathSource, docs: Sequence[Document], targets: Sequence[str], targets_name: str,
                   ignored: Counter) -> list[Document]:
    """``src.label_map`` applied, ``ignore_labels`` removed (counted in ``ignored``) and ``meta["annotates"]`` set;
    a :class:`LabelError` listing each label that is neither mapped nor a target, with where it first occurs."""
    from imner.io import detect_format

    fmt = src.format or detect_format(src.path)
    mapping = dict(src.label_map)
    ignore = set(src.ignore_labels)
    target_set = set(targets)
    annotates = set(src.annotates) if src.annotates is not None else target_set
    unmapped: dict[str, tuple[str, int]] = {}
    outside: dict[str, tuple[str, int]] = {}
    out = []
    for doc in docs:
        spans = []
        for s in doc.spans:
            if s.label in ignore:
                ignored[s.label] += 1
                continue
            label = mapping.get(s.label, s.label)
            if label not in target_set:
                first, count = unmapped.get(s.label, (None, 0))
                unmapped[s.label] = (first or _where(src, fmt, doc, s.attrs.get("id")), count + 1)
                continue
            if label not in annotates:
                first, count = outside.get(label, (None, 0))
                outside[label] = (first or _where(src, fmt, doc, s.attrs.get("id")), count + 1)
                continue
            spans.append(s if label == s.label else s.evolve(label=label))
        new = doc.with_spans(spans).with_meta(corpus=src.corpus, split=src.split or "all", source_format=fmt)
        if src.annotates is not None:
            new = new.with_meta(annotates=sorted(annotates))
        out.append(new)
    if unmapped:
        listed = "; ".join(f"{lab!r} ({n} span{'s' if n > 1 else ''}, first at {w})"
                           for lab, (w, n) in unmapped.items())
        example = next(iter(unmapped))
        raise LabelError(f"{src.path}: label{'s' if len(unmapped) > 1 else ''} not mapped to {targets_name}: "
                         f"{listed}. Map each to a class in {src.where}.label_map (label_map = {{{example} = "
                         f"\"<class>\", ...}}) or list it in {src.where}.ignore_labels; the classes: "
                         f"{', '.join(targets)}")
    if outside:
        listed = "; ".join(f"{lab!r} ({n} spans, first at {w})" for lab, (w, n) in outside.items())
        raise LabelError(f"{src.path}: spans of classes that {src.where}.annotates does not list: {listed}; add "
                         "them to annotates")
    return out


def load_path_source(src: PathSource, targets: Sequence[str], targets_name: str,
                     ignored: Counter) -> list[Document]:
    """The documents of ``src`` (its split, then its limit), relabelled (:func:`relabel_source`)."""
    docs = _read(src)
    if src.annotates_from_data:
        found = {s.label for d in docs for s in d.spans if s.label in set(targets)}
        src = replace(src, annotates=None if found >= set(targets) else tuple(sorted(found)))
    if src.split is not None:
        ids = [d.id for d in docs]
        parts = _split_file(src, ids) if src.split_file else ratio_split(ids, src.split_ratio, src.seed)
        total = len(docs)
        docs = [d for d in docs if parts[d.id] == src.split]
        if not docs:
            names = Counter(parts.values())
            raise InputError(f"split {src.split!r} of the {src.where} source has no documents (of {total}: "
                             f"{dict(sorted(names.items()))}); add documents or change the split",
                             source=src.split_file or src.path)
    if src.limit is not None:
        docs = docs[:src.limit]
    return relabel_source(src, docs, targets, targets_name, ignored)


__all__ = ["PATH_KEYS", "TRAIN_FORMATS", "PathSource", "load_path_source", "parse_path_source", "ratio_split",
           "relabel_source"]
