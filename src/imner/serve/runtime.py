"""What one server worker holds: the model (loaded once, off the event loop), a bounded queue of extraction jobs
on a small thread pool, and the functions the routes call. No FastAPI here.

Admission: a request takes a slot of :class:`Slots` before its body is read and gives it back when its job has
finished, even when the request already answered 504; so at most ``queue_size`` requests' bodies and jobs are held
by a worker at once, and the next one gets 503 at once instead of a growing queue.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Sequence

from imner.serve.settings import ServeSettings
from imner.types import Document

log = logging.getLogger("imner.serve")

#: the steps ``load_pipeline`` adds after the tagger, by the names of the request's options
OPTION_STEPS = ("assertion", "normalize", "patient")


class Slots:
    """A counter of requests in progress with a hard cap; :meth:`acquire` never waits."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._used = 0
        self._lock = threading.Lock()

    def acquire(self) -> bool:
        with self._lock:
            if self._used >= self.capacity:
                return False
            self._used += 1
            return True

    def release(self) -> None:
        with self._lock:
            if self._used <= 0:
                raise RuntimeError("Slots.release() without acquire()")
            self._used -= 1

    @property
    def in_use(self) -> int:
        return self._used


class JobCancelled(Exception):
    """A job stopped between batches because its request timed out."""


def record(doc: Document) -> dict[str, Any]:
    """The record of one document: what ``imner extract`` writes as a JSONL line (``imner.io.jsonl.jsonl_record``
    serializes this same object)."""
    from imner.io.jsonl import document_to_json

    return document_to_json(doc, include_text=False, include_meta=False)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_facts(model: str | None) -> dict[str, Any]:
    """What ``GET /v1/model`` says: the model directory's config (registry name, labels, how it was made), its
    files with sizes, the weights' SHA-256 and the imner version."""
    import json

    from imner import __version__
    from imner.pipeline import DEFAULT_MODEL_DIR

    directory = Path(model) if model is not None else DEFAULT_MODEL_DIR
    facts: dict[str, Any] = {"name": "default" if model is None else directory.name,
                             "directory": "(packaged default model)" if model is None else str(directory),
                             "imner_version": __version__}
    cfg_path = directory / "config.json"
    if not cfg_path.is_file():  # no packaged model: the dictionary tagger (see imner.pipeline.default_tagger)
        facts.update(tagger="dictionary.v1", labels=None)
        return facts
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    facts.update(tagger=cfg.get("tagger"), labels=cfg.get("labels"), source=cfg.get("source"),
                 preprocessing=cfg.get("preprocessing"))
    files = {p.name: p.stat().st_size for p in sorted(directory.iterdir()) if p.is_file()}
    facts["files"] = files
    weights = cfg.get("model_file")
    if weights and (directory / weights).is_file():
        facts["weights_sha256"] = _sha256(directory / weights)
    facts["model_card"] = "docs/model-card.md" if model is None else None
    return facts


class Worker:
    """The model of one server process and the pool its extraction jobs run on."""

    def __init__(self, settings: ServeSettings, loader: Callable[[], Any] | None = None) -> None:
        self.settings = settings
        self.slots = Slots(settings.queue_size)
        self.pool = ThreadPoolExecutor(max_workers=settings.threads, thread_name_prefix="imner-extract")
        self._loader = loader
        self.pipeline: Any = None
        self.facts: dict[str, Any] = {}
        self.ready = threading.Event()
        self.load_error: str | None = None
        self.load_seconds: float | None = None

    # ------------------------------------------------------------------ loading

    def load(self) -> None:
        """Load the model and its steps once, then run one short text so the first request does not pay for the
        lexicon matcher's first compile. Sets :attr:`ready`, or :attr:`load_error`."""
        t0 = time.perf_counter()
        try:
            if self._loader is not None:
                self.pipeline = self._loader()
                self.facts = {"name": "custom", "tagger": getattr(self.pipeline.tagger, "name", None)}
            else:
                from imner.pipeline import load_pipeline

                self.pipeline = load_pipeline(self.settings.model)
                self.facts = model_facts(self.settings.model)
            self.facts["steps"] = list(self.pipeline.step_names)
            self.pipeline([Document("warm-up", "A 30-year-old man had fever and no cough after SLE.")])
        except Exception as exc:  # reported by /health and the log; the worker keeps answering 503
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.error("model load failed: %s", self.load_error)
            return
        self.load_seconds = round(time.perf_counter() - t0, 3)
        self.ready.set()
        log.info("model loaded in %.2f s (%s)", self.load_seconds, self.facts.get("tagger"))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ jobs

    def summary(self) -> dict[str, Any]:
        """The ``model`` block of an extract answer."""
        keys = ("name", "tagger", "weights_sha256", "imner_version", "steps")
        return {k: self.facts[k] for k in keys if k in self.facts}

    def extract(self, docs: Sequence[Document], options: dict[str, bool], stop: threading.Event) -> list[dict]:
        """Run the pipeline with the steps ``options`` keeps, in batches of ``batch_size`` like ``imner extract``,
        and return the records. Checks ``stop`` between batches (a timed-out request stops its job there)."""
        from imner.pipeline import Pipeline

        pipe = self.pipeline
        steps = [(name, step) for name, step in pipe.steps if options.get(name, True)]
        run = Pipeline(pipe.tagger, steps)
        out: list[dict] = []
        size = self.settings.batch_size
        for i in range(0, len(docs), size):
            if stop.is_set():
                raise JobCancelled()
            out.extend(record(d) for d in run(docs[i:i + size]))
        return out

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        return self.pool.submit(fn, *args)

    def concepts(self, ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """Names and classes of ontology ids from the lexicon the normalizer uses (None for unknown ids)."""
        lexicon = None
        for name, step in self.pipeline.steps:
            if name == "normalize":
                lexicon = step.lexicon
        if lexicon is None:
            from imner.lexicon import load_lexicon

            lexicon = load_lexicon()
        out: dict[str, dict[str, Any] | None] = {}
        for cid in ids:
            if cid in lexicon:
                c = lexicon.concept(cid)
                out[cid] = {"name": c.name, "label": c.label, "source": c.source, "category": c.category,
                            "subcategory": c.subcategory, "kind": c.kind, "icd10cm": list(c.icd10cm)}
            else:
                out[cid] = None
        return out
