"""Cohorts, monitoring, case summaries and OMOP/FHIR exports over an embedded case index (DuckDB).

>>> from imner import cohort
>>> report = cohort.index(["reports/"], db="cases.duckdb")                      # extraction + storage
>>> res = cohort.query('IMMUNE_DISEASE AND NCBITaxon:10359 AND age:18..', db="cases.duckdb", evidence=True)
>>> res.doc_ids, [str(r) for r in res.resolution]

The heavy dependencies (duckdb, lark, pyarrow, fhir.resources, matplotlib, plotly: the ``cohort`` extra) are
imported when a function needs them; importing this package imports none of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from imner.cohort.store import DEFAULT_DB, IndexReport, Record

__all__ = ["DEFAULT_DB", "IndexReport", "Record", "connect", "index", "index_documents", "query"]


def connect(db: str | Path = DEFAULT_DB, *, read_only: bool = False):
    """A DuckDB connection to the index (see :mod:`imner.cohort.store` for the tables)."""
    from imner.cohort.store import connect as _connect

    return _connect(db, read_only=read_only)


def index(inputs: Iterable[str], db: str | Path = DEFAULT_DB, *, model: str | Path | None = None,
          batch_size: int = 16, reindex: bool = False, on_duplicate: str = "error",
          progress: Callable[[int], None] | None = None) -> IndexReport:
    """Run extraction over what ``imner extract`` reads (or take the entities of its ``--include-text`` JSONL
    output as given) and store the results. Incremental, resumable, one transaction per batch."""
    from imner.cohort import store

    con = store.connect(db)
    total = IndexReport()
    pipe = None
    try:
        for path in inputs:
            path = str(path)
            if store.has_entities(path):
                annotate, (mid, mver) = None, store.given_model(path)
            else:
                if pipe is None:
                    from imner.pipeline import load_pipeline

                    pipe = load_pipeline(model)
                annotate, (mid, mver) = pipe, store.model_fingerprint(model)
            rep = store.index_records(con, store.iter_records(path), annotate, mid, mver, batch_size=batch_size,
                                      reindex=reindex, on_duplicate=on_duplicate, progress=progress)
            for k, v in rep.__dict__.items():
                if isinstance(v, (int, float)):
                    setattr(total, k, getattr(total, k) + v)
                elif isinstance(v, list):
                    total.notes.extend(v)
    finally:
        con.close()
    return total


def index_documents(docs: Iterable[Any], db: str | Path = DEFAULT_DB, *, model_id: str, model_version: str,
                    annotate: Callable | None = None, source: str = "<python>", batch_size: int = 64,
                    reindex: bool = False, on_duplicate: str = "error") -> IndexReport:
    """Store :class:`~imner.types.Document` s (``annotate``: a pipeline, or None to keep their spans)."""
    from imner.cohort import store

    con = store.connect(db)
    try:
        return store.index_records(con, (Record(d, source) for d in docs), annotate, model_id, model_version,
                                   batch_size=batch_size, reindex=reindex, on_duplicate=on_duplicate)
    finally:
        con.close()


def query(q: str, db: str | Path = DEFAULT_DB, *, evidence: bool = False, descendants: bool = True):
    """The documents matching a cohort query (:class:`imner.cohort.search.CohortResult`)."""
    from imner.cohort import store
    from imner.cohort.search import run_query

    con = store.connect(db, read_only=True)
    try:
        return run_query(con, q, evidence=evidence, descendants=descendants)
    finally:
        con.close()
