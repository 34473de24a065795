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
        out = tag_windowed(self.tagger, [d for d, _ in prepared])
        t1 = time.perf_counter()
        timings["tagger"] = timings.get("tagger", 0.0) + t1 - t0
        # each step's result replaces the one before it document by document, so a batch's spans are held once
        # (plus the document being worked on), not once per step as new lists would hold them
        for name, step in self.steps:
            for i in range(len(out)):
                out[i] = step(out[i])
            t0, t1 = t1, time.perf_counter()
            timings[name] = timings.get(name, 0.0) + t1 - t0
        for i, (d, (_, om)) in enumerate(zip(originals, prepared)):
            out[i] = complete_document(map_document(out[i], d, om))
        return out

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


#: a document longer than this (characters) is tagged window by window (see :func:`tag_windowed`)
WINDOW_CHARS = 50_000


def text_windows(text: str, size: int | None = None) -> list[tuple[int, int]]:
    """``text`` cut into consecutive ``(start, end)`` windows of whole sentences, each at most ``size`` characters
    where the sentences allow it; together they cover the text. A sentence longer than ``size`` (a line without
    sentence ends) is cut at whitespace (tokens never hold any), or at ``size`` when a piece has none."""
    from imner.text import split_sentences

    size = WINDOW_CHARS if size is None else size
    if len(text) <= size:
        return [(0, len(text))]
    cuts = [0]  # window starts; each window ends where the next begins
    for a, b in split_sentences(text):
        if b - cuts[-1] <= size:
            continue
        if a > cuts[-1]:
            cuts.append(a)          # the sentence starts a new window
        while b - cuts[-1] > size:  # a sentence longer than a window
            lo = cuts[-1]
            cut = text.rfind(" ", lo + size // 2, lo + size)
            cut = cut if cut > lo else max(
                (text.rfind(ws, lo + 1, lo + size) for ws in "\t\n\r\f\v\u00a0"), default=-1)
            cuts.append(cut if cut > lo else lo + size)
    return [(a, b) for a, b in zip(cuts, [*cuts[1:], len(text)])]


def tag_windowed(tagger: Tagger, docs: list[Document]) -> list[Document]:
    """``tagger.annotate(docs)``, except that a document longer than :data:`WINDOW_CHARS` is tagged one window of
    whole sentences at a time (:func:`text_windows`), its spans shifted back to document offsets: the tagger's
    working memory (tokens, features, the network's tensors) then stays that of a window however long the
    document, and the time linear in its length. The steps after the tagger see the whole document. Documents up to
    the window size (every MACCROBAT report, PubMed abstract and PMC case report we measured) are tagged exactly as
    before; for a longer one, the batches the network runs differ, so a score may differ in its last digits."""
    if all(len(d.text) <= WINDOW_CHARS for d in docs):
        return tagger.annotate(docs)
    short = [d for d in docs if len(d.text) <= WINDOW_CHARS]
    done = iter(tagger.annotate(short) if short else [])
    out = []
    for d in docs:
        if len(d.text) <= WINDOW_CHARS:
            out.append(next(done))
            continue
        spans = []
        for a, b in text_windows(d.text, WINDOW_CHARS):
            (part,) = tagger.annotate([Document(d.id, d.text[a:b])])
            spans.extend(_shifted(s, a) for s in part.spans)
        out.append(d.with_spans(spans))
    return out


def _shifted(span, offset: int):
    if not offset:
        return span
    frags = None if span.fragments is None else tuple((x + offset, y + offset) for x, y in span.fragments)
    return span.evolve(start=span.start + offset, end=span.end + offset, fragments=frags)


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
