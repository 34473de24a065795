"""The tagger protocol and the registry of tagger families.

A tagger:

* ``predict(docs) -> list[list[Span]]``: one list of spans per document, offsets into that document's
  text; it never mutates its input;
* ``fit(train, dev=None)``: learns from documents (taggers with nothing to learn accept and ignore);
* ``save(directory)`` writes ``config.json`` (with ``"tagger": "<registry name>"``) plus its own files;
  :func:`load_tagger` reads any saved tagger back.

Families register a versioned name (``"dictionary.v1"``, ``"crf.v1"``...) with :func:`register`. The
registry maps names to *import paths*, so heavy dependencies load only when a family is used.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Iterable, Sequence

from imner.configkit import CONFIG_FILE, checked_params, init_config, read_json, read_saved_config
from imner.errors import ConfigError, ModelNotFoundError
from imner.types import Document, Span

#: registry name -> "module:Class"
_REGISTRY: dict[str, str] = {
    "dictionary.v1": "imner.taggers.dictionary:DictionaryTagger",
    "crf.v1": "imner.taggers.crf.tagger:CRFTagger",
    "bilstm.v1": "imner.taggers.bilstm.tagger:BiLSTMTagger",
    "transformer.v1": "imner.taggers.transformer.tagger:TransformerTagger",
    "onnx.v1": "imner.taggers.transformer.onnx:OnnxTagger",
    "bilstm-onnx.v1": "imner.taggers.bilstm.onnx:BiLSTMOnnxTagger",
    "zeroshot.v1": "imner.taggers.zeroshot:ZeroShotTagger",
    "gliner.v1": "imner.taggers.gliner:GlinerTagger",
    "llm.v1": "imner.taggers.llm:LLMTagger",
}


def register(name: str, target: str) -> None:
    """Register a tagger family under a versioned name, as ``"package.module:ClassName"``."""
    _REGISTRY[name] = target


def available() -> list[str]:
    """Registered names whose module can be imported here (optional extras installed)."""
    names = []
    for name, target in _REGISTRY.items():
        module = target.split(":")[0]
        try:
            if importlib.util.find_spec(module) is not None:
                names.append(name)
        except ImportError:
            pass
    return names


def resolve(name: str) -> type["Tagger"]:
    if name not in _REGISTRY:
        raise ConfigError(f"unknown tagger {name!r}; registered: {', '.join(sorted(_REGISTRY))}")
    module, _, cls = _REGISTRY[name].partition(":")
    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        raise ConfigError(f"tagger {name!r} needs an optional dependency that is missing ({e}); "
                          "see README 'Extras' for the pip extra that brings it") from e
    return getattr(mod, cls)


def create(name: str, **config: Any) -> "Tagger":
    """A new, untrained tagger of family ``name`` with ``config``."""
    return resolve(name)(**config)


def read_config(directory: Path, missing: str) -> tuple[Path, dict[str, Any]]:
    """The path and parsed content of ``directory/config.json``: :class:`ModelNotFoundError` with the
    message ``missing`` when there is no such file, :class:`ConfigError` with the line when it is not JSON."""
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise ModelNotFoundError(missing)
    cfg = read_json(path, "model config")
    if not isinstance(cfg, dict):
        raise ConfigError(f"{path}: a model config is a JSON object, got {type(cfg).__name__}")
    return path, cfg


def load_tagger(directory: str | Path) -> "Tagger":
    """Load any tagger saved with :meth:`Tagger.save`."""
    directory = Path(directory)
    cfg_path, cfg = read_config(directory, f"{directory} is not a model directory (no config.json). Train one "
                                           "with `imner train --config CONFIG`, or omit --model to use the default.")
    name = cfg.get("tagger")
    if not name:
        raise ConfigError(f"{cfg_path}: missing the 'tagger' key (e.g. \"crf.v1\")")
    from imner.integrity import verify_model_dir

    verify_model_dir(directory, cfg)  # the manifest's sha256 of each file, when it has them
    return resolve(name).load(directory)


class Tagger(ABC):
    """Base class of every tagger family."""

    #: the registry name this class saves under, e.g. "crf.v1"
    name: ClassVar[str] = ""
    #: labels this tagger can emit (set once trained/loaded)
    labels: tuple[str, ...] = ()
    #: the config.json key whose value :meth:`load` passes as the constructor's ``labels`` (None: not passed)
    labels_key: ClassVar[str | None] = None

    @abstractmethod
    def predict(self, docs: Sequence[Document]) -> list[list[Span]]:
        """Spans for each document, sorted by (start, end); inputs are left untouched."""

    def fit(self, train: Iterable[Document], dev: Iterable[Document] | None = None) -> "Tagger":
        """Learn from ``train`` (and choose on ``dev``); a no-op for taggers with nothing to learn."""
        return self

    def config(self) -> dict[str, Any]:
        """What :meth:`save` writes to ``config.json`` besides the registry name and the labels (default: the
        constructor parameters, read from the attributes of the same names)."""
        return init_config(self, exclude=("labels",))

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        cfg = {"tagger": self.name, "labels": list(self.labels), **self.config()}
        (directory / "config.json").write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "Tagger":
        """The tagger :meth:`save` wrote: its ``config.json`` checked against the constructor's parameters."""
        path, cfg = read_saved_config(directory)
        labels = cfg.pop("labels", None)
        if cls.labels_key is None:
            return cls(**checked_params(cls, cfg, str(path)))
        if cls.labels_key != "labels":
            labels = cfg.pop(cls.labels_key)
        return cls(labels=labels, **checked_params(cls, cfg, str(path), exclude=("labels",)))

    def annotate(self, docs: Sequence[Document]) -> list[Document]:
        """Documents with their spans replaced by this tagger's predictions."""
        return [d.with_spans(spans) for d, spans in zip(docs, self.predict(docs), strict=True)]
