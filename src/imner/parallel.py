"""Extraction over several processes, output in input order (``imner extract --workers N``).

:class:`ParallelPipeline` looks like a :class:`~imner.pipeline.Pipeline` to its caller (``stream``, ``timings``,
``step_names``): it cuts the input into batches, sends them to ``workers`` processes (each loads the pipeline once,
in its initializer) and yields the processed documents in input order. At most ``2 * workers`` batches are in
flight, so memory stays bounded however long the input is; results are yielded as soon as the oldest batch is
done. A document's result does not depend on the other documents of its batch (see
:meth:`imner.taggers.bilstm.onnx.BiLSTMOnnxTagger.predict`), so the output equals a one-process run's.

If reading the input fails part-way, the documents read before the failure are processed and yielded first, then
the error propagates (as :meth:`Pipeline.stream` does). An error inside a worker propagates to the caller.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Iterable, Iterator

from imner.types import Document

_PIPE = None  # the pipeline of this worker process


def _init_worker(options: dict[str, Any]) -> None:
    global _PIPE
    from imner.pipeline import load_pipeline

    opts = dict(options)
    _PIPE = load_pipeline(opts.pop("model", None), **opts)


# Documents and spans hold read-only mapping proxies, which pickle cannot send: they travel as plain tuples
def _pack(doc: Document) -> tuple:
    return (doc.id, doc.text, tuple((s.start, s.end, s.label, s.score, dict(s.attrs), s.fragments) for s in doc.spans),
            dict(doc.meta))


def _unpack(t: tuple) -> Document:
    from imner.types import Span

    ident, text, spans, meta = t
    return Document(ident, text, tuple(Span(a, b, lab, sc, attrs, fr) for a, b, lab, sc, attrs, fr in spans), meta)


def _run_batch(packed: list[tuple]) -> tuple[list[tuple], dict[str, float]]:
    assert _PIPE is not None, "worker not initialised"
    _PIPE.timings.clear()
    out = _PIPE([_unpack(t) for t in packed])
    return [_pack(d) for d in out], dict(_PIPE.timings)


class ParallelPipeline:
    """The pipeline of ``load_pipeline(model, **steps)`` run in ``workers`` processes (see the module doc).

    Use it as a context manager, or call :meth:`close`, to stop the processes."""

    def __init__(self, workers: int, model: str | None = None, *, assertion: bool = True, normalize: bool = True,
                 patient: bool = True, max_in_flight: int | None = None) -> None:
        from imner.errors import ConfigError

        if not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"workers must be a positive integer, got {workers!r}")
        self.workers = workers
        self.options = {"model": None if model is None else str(model), "assertion": assertion,
                        "normalize": normalize, "patient": patient}
        self.max_in_flight = max_in_flight or 2 * workers
        self.timings: dict[str, float] = {}
        self.step_names = [n for n, on in (("assertion", assertion), ("normalize", normalize),
                                           ("patient", patient)) if on]
        # fork is cheapest where it is safe: the parent has loaded no model (no onnxruntime threads to copy)
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        self._pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                         initargs=(self.options,))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "ParallelPipeline":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _collect(self, fut: Future) -> list[Document]:
        docs, timings = fut.result()
        for k, v in timings.items():
            self.timings[k] = self.timings.get(k, 0.0) + v
        return [_unpack(t) for t in docs]

    def stream(self, docs: Iterable[Document], batch_size: int = 16) -> Iterator[Document]:
        """Processed documents in input order (see the module doc)."""
        pending: deque[Future] = deque()
        batch: list[Document] = []
        it = iter(docs)
        try:
            while True:
                try:
                    doc = next(it)
                except StopIteration:
                    break
                except Exception:
                    if batch:
                        pending.append(self._pool.submit(_run_batch, [_pack(d) for d in batch]))
                    while pending:
                        yield from self._collect(pending.popleft())
                    raise
                batch.append(doc)
                if len(batch) >= batch_size:
                    pending.append(self._pool.submit(_run_batch, [_pack(d) for d in batch]))
                    batch = []
                    while len(pending) >= self.max_in_flight:
                        yield from self._collect(pending.popleft())
                    while pending and pending[0].done():
                        yield from self._collect(pending.popleft())
            if batch:
                pending.append(self._pool.submit(_run_batch, [_pack(d) for d in batch]))
            while pending:
                yield from self._collect(pending.popleft())
        finally:
            for fut in pending:
                fut.cancel()

    def __call__(self, docs: list[Document]) -> list[Document]:
        return list(self.stream(docs))
