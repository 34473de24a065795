"""Training from a TOML config: what ``imner train --config CONFIG.toml`` runs.

The config is data; every key is checked and an unknown one is an error naming the file, the key and
the keys allowed there::

    [model]
    tagger = "crf.v1"            # a registry name (imner.taggers)
    init = "default"             # optional, bilstm.v1 only: start from the shipped default's weights (or a model
                                 # directory: bilstm.v1, or bilstm-onnx.v1 like the default) instead of from scratch
    [model.params]               # keyword arguments of that tagger family (checked against its constructor)
    c1 = 0.1

    [data]
    train = [{corpus = "ncbi-disease", split = "train"}]    # a table or a list of tables
    dev = {corpus = "ncbi-disease", split = "dev"}           # optional
    test = {corpus = "ncbi-disease", split = "test"}         # optional
    label_map = {SpecificDisease = "Disease"}                # optional: rename labels (spans and meta annotates)
    keep_labels = ["Disease"]                                # optional: after mapping, keep only these labels
    exclude = [{corpus = "ncbi-disease", split = "test"}]    # optional: evaluation sets kept out of train
    source_defaults = {path = "my_reports/", format = "brat"}  # optional: keys every path source takes

    [output]
    dir = "models/crf-ncbi"      # relative paths are relative to the current directory
    overwrite = false            # replace an existing model directory
    onnx_dir = "models/x-onnx"   # optional, bilstm.v1: also export an ONNX copy that runs without torch
    quantize = true              # int8 ONNX (with onnx_dir; false: float32)

A source table takes ``corpus``, ``split`` and optionally ``limit`` (the first N documents, for quick
runs), or, for a team's own annotations, ``path`` and ``format`` (brat, conll, pubtator, bioc, jsonl) with a split
file or ratio, a label map to the twelve classes and the classes annotated (:mod:`imner.training_sources`;
docs/training.md walks through it). Spans removed by ``keep_labels`` are counted per label in
``data_manifest.json`` and printed.
``exclude`` lists evaluation splits: a training document with the PubMed id, the document id or the text (after
whitespace is collapsed) of one of their documents is dropped, and the drops are counted per source in the manifest
(BioRED shares abstracts with NCBI-disease and BC5CDR; a corpus that grows, such as imd-cases, may take in a
CodiEsp dev report, which is the ICD-coding evaluation).

The model directory receives the tagger's own files (``config.json`` ...), ``train_config.toml`` (a copy
of the config), ``data_manifest.json`` (sources, document and span counts, a hash of the document ids),
``training.json`` (time, tagger statistics, versions, the ``init`` model) and ``dev_metrics.json`` /
``test_metrics.json`` (:func:`imner.evaluate.evaluate` reports; in documents with partial labels only the classes
annotated are scored) when dev / test data are given, and ``splits.tsv`` (the role of each document of a path
source, ids only) when there are path sources. With ``output.onnx_dir`` a ``bilstm.v1`` model is also exported to
ONNX there (:func:`imner.taggers.bilstm.export.export_bilstm_onnx`).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import platform
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, Union

from imner.configkit import check_int, check_keys, checked_params, read_toml
from imner.errors import ConfigError
from imner.io.safe import replace_folder, staged_folder
from imner.schema import LABEL_NAMES
from imner.training_sources import PATH_KEYS, PathSource, load_path_source, parse_path_source
from imner.types import Document

log = logging.getLogger(__name__)

ALLOWED: dict[str, tuple[str, ...]] = {
    "": ("model", "data", "output"),
    "model": ("tagger", "params", "init", "init_fill"),
    "data": ("train", "dev", "test", "label_map", "keep_labels", "exclude", "source_defaults"),
    "source": ("corpus", "split", "limit"),
    "output": ("dir", "overwrite", "onnx_dir", "quantize"),
}
#: the ``[model] init`` value that names the shipped default model
DEFAULT_INIT = "default"
ROLES = ("train", "dev", "test")


@dataclass(frozen=True)
class Source:
    corpus: str
    split: str | None
    limit: int | None = None

    def describe(self) -> str:
        return f"{self.corpus}/{self.split or 'all'}" + (f"[:{self.limit}]" if self.limit else "")

    def manifest(self) -> dict[str, Any]:
        return {"corpus": self.corpus, "split": self.split, "limit": self.limit}


AnySource = Union[Source, PathSource]


@dataclass(frozen=True)
class TrainConfig:
    """A parsed, validated training config (:func:`load_train_config`)."""

    path: Path
    tagger: str
    params: Mapping[str, Any]
    sources: Mapping[str, tuple[AnySource, ...]]  # role ("train", "dev", "test") -> sources
    label_map: Mapping[str, str] = field(default_factory=dict)
    keep_labels: tuple[str, ...] | None = None
    exclude: tuple[AnySource, ...] = ()
    output_dir: Path | None = None
    overwrite: bool = False
    #: the model whose weights training starts from (``[model] init``; None: from scratch)
    init: Path | None = None
    #: what a path source's labels may be mapped to, and the words for it in errors
    targets: tuple[str, ...] = LABEL_NAMES
    targets_name: str = "the twelve classes (docs/guidelines.md)"
    onnx_dir: Path | None = None
    quantize: bool = True
    #: fill the classes a training document does not annotate with the init model's predictions
    init_fill: bool = False


# ---------------------------------------------------------------------------------------------- parsing

def _check_keys(table: Mapping[str, Any], section: str, path: Path, allowed_in: str | None = None) -> None:
    check_keys(table, ALLOWED[allowed_in if allowed_in is not None else section], str(path), section=section)


def _table(value: Any, where: str, path: Path) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path}: {where!r} must be a table, got {type(value).__name__}")
    return value


def _sources(value: Any, where: str, path: Path, targets: Sequence[str] = LABEL_NAMES,
             targets_name: str = "the twelve classes",
             defaults: Mapping[str, Any] | None = None) -> tuple[AnySource, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ConfigError(f"{path}: {where!r} is an empty list; give at least one {{corpus = ..., split = ...}}")
    out: list[AnySource] = []
    for k, item in enumerate(items):
        here = f"{where}[{k}]" if isinstance(value, list) else where
        item = _table(item, here, path)
        if defaults and "corpus" not in item:
            item = {**defaults, **item}
        if "path" in item:
            if "corpus" in item:
                raise ConfigError(f"{path}: {here!r} has both corpus and path; a source is one or the other")
            out.append(parse_path_source(item, here, path, targets, targets_name))
            continue
        _check_keys(item, here, path, "source")
        corpus = item.get("corpus")
        if not isinstance(corpus, str) or not corpus:
            raise ConfigError(f"{path}: {here!r} needs corpus = \"<name>\" (see `imner corpus list`) or, for your "
                              f"own files, path = \"...\" with format = \"brat\" (keys: {', '.join(PATH_KEYS)})")
        split = item.get("split")
        if split is not None and not isinstance(split, str):
            raise ConfigError(f"{path}: {here}.split must be a string such as \"train\", got {split!r}")
        limit = item.get("limit")
        if limit is not None:
            check_int(limit, f"{path}: {here}.limit")
        out.append(Source(corpus, split, limit))
    return tuple(out)


def _tagger_params(tagger: str, params: Mapping[str, Any], path: Path) -> dict[str, Any]:
    from imner.taggers.base import resolve

    try:
        cls = resolve(tagger)
    except ConfigError as e:
        raise ConfigError(f"{path}: model.tagger: {e}") from e
    if any(p.kind is p.VAR_KEYWORD for p in inspect.signature(cls.__init__).parameters.values()):
        return dict(params)
    return checked_params(cls, params, str(path), section="model.params", owner=f" for tagger {tagger!r}")


def load_train_config(path: str | Path) -> TrainConfig:
    """Read and validate a training config (TOML)."""
    path = Path(path)
    raw = read_toml(path, "training config")
    _check_keys(raw, "", path)
    for section in ("model", "data"):
        if section not in raw:
            raise ConfigError(f"{path}: missing the [{section}] section")
    model = _table(raw["model"], "model", path)
    _check_keys(model, "model", path)
    tagger = model.get("tagger")
    if not isinstance(tagger, str) or not tagger:
        raise ConfigError(f"{path}: [model] needs tagger = \"<registry name>\", e.g. \"crf.v1\"")
    params = _tagger_params(tagger, _table(model.get("params", {}), "model.params", path), path)
    init = _init_path(model.get("init"), tagger, path) if "init" in model else None
    init_fill = model.get("init_fill", False)
    if not isinstance(init_fill, bool):
        raise ConfigError(f"{path}: model.init_fill must be true or false, got {init_fill!r}")
    if init_fill and init is None:
        raise ConfigError(f"{path}: model.init_fill fills classes with the predictions of the init model; set "
                          "model.init too")

    data = _table(raw["data"], "data", path)
    _check_keys(data, "data", path)
    if "train" not in data:
        raise ConfigError(f"{path}: [data] needs train = {{corpus = ..., split = ...}} (or a list of them)")
    label_map = _table(data.get("label_map", {}), "data.label_map", path)
    for k, v in label_map.items():
        if not isinstance(v, str) or not v:
            raise ConfigError(f"{path}: data.label_map.{k} must be a non-empty label string, got {v!r}")
    keep = data.get("keep_labels")
    if keep is not None and (not isinstance(keep, list) or not keep or not all(isinstance(x, str) for x in keep)):
        raise ConfigError(f"{path}: data.keep_labels must be a non-empty list of label strings, got {keep!r}")
    if init is not None:
        targets, targets_name = init_labels(init), f"the labels of the init model {model['init']!r}"
    elif keep:
        targets, targets_name = tuple(keep), "data.keep_labels"
    else:
        targets, targets_name = LABEL_NAMES, "the twelve classes (docs/guidelines.md)"
    defaults = _table(data.get("source_defaults", {}), "data.source_defaults", path)
    check_keys(defaults, PATH_KEYS, str(path), section="data.source_defaults")
    sources = {role: _sources(data[role], f"data.{role}", path, targets, targets_name, defaults)
               for role in ROLES if role in data}
    exclude = (_sources(data["exclude"], "data.exclude", path, targets, targets_name, defaults)
               if "exclude" in data else ())

    output = _table(raw.get("output", {}), "output", path)
    _check_keys(output, "output", path)
    out_dir = output.get("dir")
    if out_dir is not None and (not isinstance(out_dir, str) or not out_dir):
        raise ConfigError(f"{path}: output.dir must be a path string, got {out_dir!r}")
    overwrite = output.get("overwrite", False)
    if not isinstance(overwrite, bool):
        raise ConfigError(f"{path}: output.overwrite must be true or false, got {overwrite!r}")
    onnx_dir = output.get("onnx_dir")
    if onnx_dir is not None:
        if not isinstance(onnx_dir, str) or not onnx_dir:
            raise ConfigError(f"{path}: output.onnx_dir must be a path string, got {onnx_dir!r}")
        if tagger != "bilstm.v1":
            raise ConfigError(f"{path}: output.onnx_dir (an ONNX copy that runs without torch) is made for "
                              f"bilstm.v1 models, not {tagger}")
    quantize = output.get("quantize", True)
    if not isinstance(quantize, bool):
        raise ConfigError(f"{path}: output.quantize must be true or false, got {quantize!r}")
    return TrainConfig(path=path, tagger=tagger, params=params, sources=sources, label_map=dict(label_map),
                       keep_labels=tuple(keep) if keep else None, exclude=exclude,
                       output_dir=Path(out_dir) if out_dir else None, overwrite=overwrite, init=init,
                       targets=tuple(targets), targets_name=targets_name,
                       onnx_dir=Path(onnx_dir) if onnx_dir else None, quantize=quantize, init_fill=init_fill)


def _init_path(value: Any, tagger: str, path: Path) -> Path:
    """The model directory ``[model] init`` names (``"default"``: the shipped default model)."""
    if tagger != "bilstm.v1":
        raise ConfigError(f"{path}: model.init (fine-tuning from a model's weights) works with tagger = "
                          f"\"bilstm.v1\", the shipped default's family, not {tagger!r}")
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{path}: model.init must be \"{DEFAULT_INIT}\" or a model directory, got {value!r}")
    if value == DEFAULT_INIT:
        from imner.config import RESOURCES

        return RESOURCES / "models" / "default"
    init = Path(value)
    if not (init / "config.json").is_file():
        raise ConfigError(f"{path}: model.init = {value!r} is not a model directory (no config.json; relative "
                          f"paths are from the current directory, {Path.cwd()})")
    return init


def init_labels(init: Path) -> tuple[str, ...]:
    """The labels of the model directory ``init`` (read from its config.json, no torch)."""
    from imner.taggers.base import read_config

    cfg_path, cfg = read_config(init, f"{init} is not a model directory (no config.json)")
    labels = cfg.get("labels")
    if not isinstance(labels, list) or not labels:
        raise ConfigError(f"{cfg_path}: no 'labels' list; cannot fine-tune from this model")
    return tuple(labels)


# ---------------------------------------------------------------------------------------------- data

def load_corpus(name: str, split: str | None) -> list[Document]:
    """The documents of one corpus split (:func:`imner.corpora.load`)."""
    from imner import corpora

    return corpora.load(name, split)


def relabel(docs: Sequence[Document], label_map: Mapping[str, str], keep: Sequence[str] | None,
            dropped: Counter) -> list[Document]:
    """Apply ``label_map`` to spans and to ``meta["annotates"]``; then keep only ``keep`` labels (counting
    each removed span's mapped label in ``dropped``)."""
    keep_set = set(keep) if keep is not None else None
    out = []
    for doc in docs:
        spans = []
        for s in doc.spans:
            label = label_map.get(s.label, s.label)
            if keep_set is not None and label not in keep_set:
                dropped[label] += 1
                continue
            spans.append(s if label == s.label else s.evolve(label=label))
        new = doc.with_spans(spans)
        annotates = doc.meta.get("annotates")
        if annotates is not None:
            mapped = {label_map.get(a, a) for a in annotates}
            if keep_set is not None:
                mapped &= keep_set
            new = new.with_meta(annotates=sorted(mapped))
        out.append(new)
    return out


def _ids_hash(docs: Sequence[Document]) -> str:
    h = hashlib.sha256()
    for d in docs:
        h.update(f"{d.meta.get('corpus', '')}/{d.meta.get('split', '')}/{d.id}\n".encode())
    return h.hexdigest()


def _text_key(text: str) -> str:
    return hashlib.sha1(" ".join(text.split()).encode("utf-8")).hexdigest()


def load_source(src: AnySource, cfg: TrainConfig | None = None, ignored: Counter | None = None) -> list[Document]:
    """The documents of a named corpus split or of a path source (relabelled by its own label map)."""
    if isinstance(src, PathSource):
        targets = cfg.targets if cfg is not None else LABEL_NAMES
        name = cfg.targets_name if cfg is not None else "the twelve classes"
        return load_path_source(src, targets, name, ignored if ignored is not None else Counter())
    return load_corpus(src.corpus, src.split)


def exclusion_index(sources: Sequence[AnySource], cfg: TrainConfig | None = None) -> dict[str, str]:
    """``"pmid:…"``, ``"id:…"`` and ``"text:…"`` keys of the documents of ``sources`` -> the source they are in."""
    index: dict[str, str] = {}
    for src in sources:
        where = src.describe()
        for d in load_source(src, cfg):
            if d.meta.get("pmid"):
                index.setdefault(f"pmid:{d.meta['pmid']}", where)
            index.setdefault(f"id:{d.id}", where)
            index.setdefault(f"text:{_text_key(d.text)}", where)
    return index


def _excluded(doc: Document, index: Mapping[str, str]) -> str | None:
    keys = [f"id:{doc.id}", f"text:{_text_key(doc.text)}"]
    if doc.meta.get("pmid"):
        keys.insert(0, f"pmid:{doc.meta['pmid']}")
    return next((index[k] for k in keys if k in index), None)


def load_role(cfg: TrainConfig, role: str, manifest: dict[str, Any],
              progress: Callable[[str], None], exclude: Mapping[str, str] | None = None) -> list[Document]:
    docs: list[Document] = []
    entries = []
    for src in cfg.sources.get(role, ()):
        ignored: Counter = Counter()
        part = load_source(src, cfg, ignored)
        removed: Counter = Counter()
        if exclude:
            kept = []
            for d in part:
                where = _excluded(d, exclude)
                if where is None:
                    kept.append(d)
                else:
                    removed[where] += 1
            part = kept
            if removed:
                progress(f"{role}: {src.describe()}: {sum(removed.values())} documents dropped, also in "
                         f"{dict(sorted(removed.items()))}")
        if src.limit is not None and not isinstance(src, PathSource):  # a path source applies its own
            part = part[:src.limit]
        dropped: Counter = Counter()
        part = relabel(part, cfg.label_map, cfg.keep_labels, dropped)
        labels = Counter(s.label for d in part for s in d.spans)
        entry = src.manifest()
        if isinstance(src, PathSource):
            partial = [d.meta["annotates"] for d in part if d.meta.get("annotates") is not None]
            annotated = sorted({label for labels in partial for label in labels}) if partial else None
            entry.update(ignored_spans=dict(sorted(ignored.items())), annotates=annotated or "all")
            progress(f"{role}: {src.describe()}: annotates "
                     + (", ".join(annotated) + " (partial labels: the other classes are not penalised)"
                        if annotated else f"all of {cfg.targets_name}")
                     + (f"; {sum(ignored.values())} spans of ignore_labels left out" if ignored else ""))
        entries.append({**entry, "documents": len(part),
                        "spans": sum(labels.values()), "labels": dict(sorted(labels.items())),
                        "dropped_spans": dict(sorted(dropped.items())), "doc_ids_sha256": _ids_hash(part),
                        "excluded_documents": dict(sorted(removed.items()))})
        progress(f"{role}: {src.describe()}: {len(part)} documents, {sum(labels.values())} spans"
                 + (f" ({sum(dropped.values())} spans of labels outside keep_labels removed: "
                    f"{dict(sorted(dropped.items()))})" if dropped else ""))
        docs.extend(part)
    if entries:
        manifest[role] = {"sources": entries, "documents": len(docs), "doc_ids_sha256": _ids_hash(docs)}
    return docs


# ---------------------------------------------------------------------------------------------- running

def _check_output(out: Path, overwrite: bool) -> bool:
    """Whether ``out`` holds a model to replace; an error when it may not be written."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"output {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise ConfigError(f"output directory {out} is not empty; choose another one or pass --overwrite "
                              "(output.overwrite = true) to replace the model there")
        if not (out / "config.json").is_file():
            raise ConfigError(f"output directory {out} is not empty and holds no model (no config.json); "
                              "refusing to delete it with --overwrite")
        return True
    return False


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def headline(metrics: Mapping[str, Any]) -> str:
    """A one-line summary of an evaluation report dict (strict micro P/R/F1 where found)."""
    for path in (("strict", "micro"), ("micro", "strict"), ("strict",), ("micro",)):
        node: Any = metrics
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping) and "f1" in node:
            return (f"strict micro P {node.get('precision', float('nan')):.4f} "
                    f"R {node.get('recall', float('nan')):.4f} F1 {node['f1']:.4f}")
    return "see metrics file"


def annotated_only(gold: Sequence[Document], pred: Sequence[Document]) -> list[Document]:
    """``pred`` with, in each document whose gold lists ``meta["annotates"]`` (partial labels), only the spans of
    the classes it annotates: a prediction of a class nobody annotated there is neither right nor wrong."""
    out = []
    for g, p in zip(gold, pred, strict=True):
        annotates = g.meta.get("annotates")
        out.append(p if annotates is None else p.with_spans(s for s in p.spans if s.label in set(annotates)))
    return out


def evaluate_docs(gold: Sequence[Document], pred: Sequence[Document]) -> dict[str, Any]:
    from imner.evaluate import evaluate

    return evaluate(gold, annotated_only(gold, pred)).to_dict()


def role_documents(cfg: TrainConfig, role: str) -> list[Document]:
    """The documents of one role (``train``, ``dev``, ``test``) of a training config, read, split and relabelled
    as training reads them (``imner evaluate --train-config``)."""
    if role not in cfg.sources:
        raise ConfigError(f"{cfg.path}: no data.{role} sources; roles given: {', '.join(cfg.sources)}")
    exclude = exclusion_index(cfg.exclude, cfg) if cfg.exclude and role == "train" else None
    return load_role(cfg, role, {}, lambda msg: None, exclude)


#: post-processing options of a ``bilstm-onnx.v1`` model that a fine-tuned ONNX copy takes over from it
LEXICON_OPTIONS = ("lexicon_backoff", "lexicon_retype", "lexicon_widen")


def _carry_lexicon_options(init: Path | None, onnx_dir: Path) -> dict[str, Any]:
    """When fine-tuning from a ``bilstm-onnx.v1`` model (the shipped default), its lexicon post-processing options
    go into the ONNX copy's config.json too, so the copy behaves as the model it came from. Returns them."""
    if init is None:
        return {}
    from imner.configkit import read_json

    src = read_json(init / "config.json", "model config")
    if src.get("tagger") != "bilstm-onnx.v1":
        return {}
    carried = {k: src[k] for k in LEXICON_OPTIONS if src.get(k)}
    if carried:
        path = onnx_dir / "config.json"
        dst = read_json(path, "model config")
        dst.update(carried)
        path.write_text(json.dumps(dst, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return carried


def _write_splits(out: Path, data: Mapping[str, Sequence[Document]], cfg: TrainConfig) -> None:
    """``splits.tsv``: the role, source path and id of each document of a path source (ids only, no text), which
    shows which reports trained and which evaluated (and can serve as a split_file)."""
    lines = []
    for role in ROLES:
        paths = {s.path for s in cfg.sources.get(role, ()) if isinstance(s, PathSource)}
        for d in data.get(role, ()):
            if d.meta.get("corpus") in paths:
                lines.append(f"{d.id}\t{role}\t{d.meta['corpus']}\n")
    if lines:
        (out / "splits.tsv").write_text("# document id, role, source path\n" + "".join(lines), encoding="utf-8")


def fill_from_model(docs: Sequence[Document], model_dir: Path, manifest: dict[str, Any],
                    progress: Callable[[str], None]) -> list[Document]:
    """``[model] init_fill``: in each document with partial labels, the init model's predicted spans of the classes
    it does not annotate (and that overlap no gold span) are added as training targets (``attrs["source"] =
    "init"``), so that fine-tuning on a few classes keeps the model's other classes (self-training). Tokens left
    ``O`` stay partial. The counts per class go to the manifest."""
    from imner.taggers import load_tagger

    partial = [k for k, d in enumerate(docs) if d.meta.get("annotates") is not None]
    if not partial:
        return list(docs)
    tagger = load_tagger(model_dir)
    predicted = tagger.predict([docs[k].with_spans(()) for k in partial])
    out = list(docs)
    added: Counter = Counter()
    for k, spans in zip(partial, predicted):
        doc = docs[k]
        annotates = set(doc.meta["annotates"])
        extra = [s.evolve(attrs={"source": "init"}, score=None) for s in spans
                 if s.label not in annotates and not any(g.start < s.end and s.start < g.end for g in doc.spans)]
        added.update(s.label for s in extra)
        out[k] = doc.with_spans([*doc.spans, *extra])
    manifest["init_fill"] = {"documents": len(partial), "spans_added": dict(sorted(added.items()))}
    progress(f"init_fill: {sum(added.values())} spans of the classes not annotated predicted by {model_dir} in "
             f"{len(partial)} documents: {dict(sorted(added.items()))}")
    return out


def train_from_config(cfg: TrainConfig, output: str | Path | None = None, overwrite: bool | None = None,
                      progress: Callable[[str], None] = lambda msg: log.info("%s", msg)) -> dict[str, Any]:
    """Train the tagger ``cfg`` describes, write the model directory, and return a summary
    (``output``, ``training``, ``dev_metrics``/``test_metrics`` when evaluated)."""
    from imner import __version__
    from imner.taggers.base import create

    out = Path(output) if output is not None else cfg.output_dir
    if out is None:
        raise ConfigError(f"{cfg.path}: no output directory: set [output] dir = \"...\" or pass --output DIR")
    overwrite = cfg.overwrite if overwrite is None else overwrite
    _check_output(out, overwrite)  # fail before the (long) training
    if cfg.onnx_dir is not None:
        _check_output(cfg.onnx_dir, overwrite)

    manifest: dict[str, Any] = {"label_map": dict(cfg.label_map), "keep_labels": cfg.keep_labels,
                                "exclude": [s.describe() for s in cfg.exclude]}
    exclude = exclusion_index(cfg.exclude, cfg) if cfg.exclude else None
    data = {role: load_role(cfg, role, manifest, progress, exclude if role == "train" else None)
            for role in ROLES if role in cfg.sources}
    train_ids = {(d.meta.get("corpus"), d.id) for d in data["train"]}
    for role in ("dev", "test"):
        if role in data:
            overlap = sum(1 for d in data[role] if (d.meta.get("corpus"), d.id) in train_ids)
            manifest[role]["overlap_with_train"] = overlap
            if overlap:
                progress(f"warning: {overlap} {role} documents are also in the training data")

    if cfg.init is not None and cfg.init_fill:
        data["train"] = fill_from_model(data["train"], cfg.init, manifest, progress)
    if cfg.init is not None:
        from imner.taggers.bilstm.warmstart import warm_started

        tagger = warm_started(cfg.init, cfg.params, str(cfg.path))
        progress(f"starting from the weights of {cfg.init} ({len(tagger.labels)} labels)")
    else:
        tagger = create(cfg.tagger, **cfg.params)
    progress(f"training {cfg.tagger} on {len(data['train'])} documents ...")
    t0 = time.perf_counter()
    tagger.fit(data["train"], data.get("dev"))
    train_s = time.perf_counter() - t0
    progress(f"trained in {train_s:.1f} s")

    # everything goes to <out>.partial/ and replaces <out> only once written and evaluated: a run that fails
    # (or an --overwrite that is interrupted) never leaves the earlier model half deleted
    _check_output(out, overwrite)
    final, out = out, staged_folder(out)
    tagger.save(out)
    shutil.copyfile(cfg.path, out / "train_config.toml")
    _write_splits(out, data, cfg)
    _write_json(out / "data_manifest.json", manifest)
    training = {
        "tagger": cfg.tagger, "params": dict(cfg.params), "init": str(cfg.init) if cfg.init else None,
        "train_seconds": round(train_s, 3),
        "tagger_stats": getattr(tagger, "training_stats", {}),
        "imner_version": __version__, "python": sys.version.split()[0], "platform": platform.platform(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    _write_json(out / "training.json", training)
    summary: dict[str, Any] = {"output": str(final), "training": training}
    for role in ("dev", "test"):
        if role not in data:
            continue
        gold = data[role]
        t1 = time.perf_counter()
        pred = tagger.annotate(gold)
        pred_s = time.perf_counter() - t1
        metrics = evaluate_docs(gold, pred)
        metrics = {**metrics, "predict_seconds": round(pred_s, 3), "documents": len(gold)}
        _write_json(out / f"{role}_metrics.json", metrics)
        summary[f"{role}_metrics"] = metrics
        progress(f"{role}: {headline(metrics)} ({len(gold)} documents, predicted in {pred_s:.1f} s)")
    replace_folder(out, final)
    out = final
    progress(f"model written to {out}")
    if cfg.onnx_dir is not None:
        from imner.taggers.bilstm.export import export_bilstm_onnx

        _check_output(cfg.onnx_dir, overwrite)
        onnx_final = cfg.onnx_dir
        onnx_out = staged_folder(onnx_final)
        import warnings

        root = logging.getLogger()
        level = root.level
        with warnings.catch_warnings():
            # the TorchScript exporter's and the quantizer's advice (tracing, batch size, pre-processing) is about
            # the export itself, which the tests check; it tells the user nothing to act on
            warnings.simplefilter("ignore")
            root.setLevel(logging.ERROR)
            try:
                export_bilstm_onnx(out, onnx_out, quantize=cfg.quantize)
            finally:
                root.setLevel(level)
        carried = _carry_lexicon_options(cfg.init, onnx_out)
        replace_folder(onnx_out, onnx_final)
        onnx_out = onnx_final
        if carried:
            progress(f"ONNX copy: {', '.join(f'{k} = {v}' for k, v in carried.items())} as in {cfg.init}")
        summary["onnx_dir"] = str(onnx_out)
        progress(f"ONNX copy (runs without torch{', int8' if cfg.quantize else ''}) written to {onnx_out}")
    return summary
