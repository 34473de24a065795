"""The whole flow of data in one place: tagger -> assertion context -> normalization -> patient.

``load_pipeline(model_dir)`` loads a saved tagger (or the shipped default model) and the optional
steps; ``Pipeline(docs)`` returns new documents with entity spans whose attrs carry assertion and
codes, and ``meta["patient"]`` with age and sex. Each step can be switched off.

Every step sees the text in Unicode NFC (:mod:`imner.nfc`): decomposed input ("Sjo\u0308gren") is tagged and
coded as its composed form, and the offsets are mapped back, so they index the text as given. Every entity
carries the same keys (:mod:`imner.records`), ``None`` where a step did not run or does not apply.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from imner.config import RESOURCES
from imner.nfc import map_document, nfc_document
from imner.records import complete_document
from imner.taggers.base import Tagger, create, load_tagger
from imner.types import Document

#: where the shipped default model lives inside the package
DEFAULT_MODEL_DIR = RESOURCES / "models" / "default"

DocStep = Callable[[Document], Document]


def default_tagger() -> Tagger:
    """The shipped default model; the lexicon dictionary tagger when no trained model is packaged."""
    if (DEFAULT_MODEL_DIR / "config.json").is_file():
        return load_tagger(DEFAULT_MODEL_DIR)
    return create("dictionary.v1")


@dataclass
class Pipeline:
    """A tagger and the document steps after it. ``timings`` adds up the wall-clock seconds each part has spent
    (``"tagger"`` and each step's name) over every call, for profiling a run (``imner extract --timings``)."""

    tagger: Tagger
    steps: list[tuple[str, DocStep]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def __call__(self, docs: Sequence[Document]) -> list[Document]:
        timings = self.timings
        originals = list(docs)
        prepared = [nfc_document(d) for d in originals]
        t0 = time.perf_counter()
        out = self.tagger.annotate([d for d, _ in prepared])
        t1 = time.perf_counter()
        timings["tagger"] = timings.get("tagger", 0.0) + t1 - t0
        for name, step in self.steps:
            out = [step(d) for d in out]
            t0, t1 = t1, time.perf_counter()
            timings[name] = timings.get(name, 0.0) + t1 - t0
        return [complete_document(map_document(r, d, om)) for r, d, (_, om) in zip(out, originals, prepared)]

    def stream(self, docs: Iterable[Document], batch_size: int = 16) -> Iterator[Document]:
        """Process documents in batches, yielding results in input order as each batch completes.

        If reading the input fails part-way (a bad line, an undecodable file), the documents read before
        the failure are processed and yielded first, then the error propagates: no finished work is lost.
        """
        batch: list[Document] = []
        it = iter(docs)
        while True:
            try:
                doc = next(it)
            except StopIteration:
                break
            except Exception:
                if batch:
                    yield from self(batch)
                raise
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self(batch)
                batch = []
        if batch:
            yield from self(batch)

    @property
    def step_names(self) -> list[str]:
        return [name for name, _ in self.steps]


def _patient_step(doc: Document) -> Document:
    from imner.patient import extract_patient

    return doc.with_meta(patient=extract_patient(doc))


def load_pipeline(model: str | Path | None = None, *, assertion: bool = True, normalize: bool = True,
                  patient: bool = True) -> Pipeline:
    """Tagger from ``model`` (a model directory; None = shipped default) plus the enabled steps."""
    tagger = load_tagger(model) if model is not None else default_tagger()
    steps: list[tuple[str, DocStep]] = []
    if assertion:
        from imner.context import ContextAnnotator

        steps.append(("assertion", ContextAnnotator()))
    if normalize:
        from imner.normalize import Normalizer

        steps.append(("normalize", Normalizer()))
    if patient:
        steps.append(("patient", _patient_step))
    return Pipeline(tagger, steps)
