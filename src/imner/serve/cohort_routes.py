"""The cohort routes of ``imner serve --db FILE``, over :mod:`imner.cohort` (the ``cohort`` extra), and the FHIR
download of the web app.

* ``POST /v1/cohort`` ``{"query": "IMMUNE_DISEASE AND age:18..", "evidence": true}`` -> the matching documents,
  how each term was resolved, and (with evidence) every matched mention's sentence with offsets;
* ``GET /v1/documents/{id}/summary`` -> the case summary of one indexed document;
* ``POST /v1/export?format=fhir`` (no ``--db`` needed) -> FHIR R4 Bundles of the given results, built by
  :mod:`imner.cohort.fhir` from a temporary index of them.

The index is opened read-only for each request, on the extraction pool's threads (DuckDB releases the GIL).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr

from imner.types import Document


class CohortRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: StrictStr
    evidence: StrictBool = True
    descendants: StrictBool = True


def available() -> bool:
    """Whether :mod:`imner.cohort` and its extra are installed."""
    try:
        import duckdb  # noqa: F401

        import imner.cohort  # noqa: F401
    except ImportError:
        return False
    return True


def fhir_bundles(docs: list[Document], model: dict[str, Any]) -> bytes:
    """FHIR Bundles (one JSON object per line) of documents with their entities and patient blocks."""
    from imner import cohort
    from imner.cohort.fhir import bundles

    with tempfile.TemporaryDirectory(prefix="imner-fhir-") as tmp:
        db = Path(tmp) / "export.duckdb"
        cohort.index_documents(docs, db=db, model_id=str(model.get("tagger") or "imner"),
                               model_version=str(model.get("weights_sha256") or "unknown"), annotate=None,
                               source="<imner serve>")
        return "".join(json.dumps(b, ensure_ascii=False) + "\n" for _, b in bundles(db)).encode()


def add_routes(app: FastAPI, db: str, *, read_body: Any, parse_json: Any, validate: Any, api_error: Any,
               max_body_bytes: int, pool: Any) -> None:
    """Add the two ``--db`` routes to ``app`` (the helpers are those of :mod:`imner.serve.app`)."""
    from imner.errors import InputError

    async def on_pool(fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(pool, lambda: fn(*args, **kwargs))

    @app.post("/v1/cohort", tags=["cohort"])
    async def cohort_query(request: Request) -> dict[str, Any]:
        """The indexed documents a cohort query matches (the query language of docs/cohort.md)."""
        from imner import cohort
        from imner.cohort.language import QueryError

        req = validate(CohortRequest, parse_json(await read_body(request, max_body_bytes)))
        try:
            res = await on_pool(cohort.query, req.query, db, evidence=req.evidence, descendants=req.descendants)
        except QueryError as exc:
            raise api_error(422, "invalid_query", str(exc)) from None
        return res.to_dict()

    @app.get("/v1/documents/{doc_id}/summary", tags=["cohort"])
    async def document_summary(doc_id: str) -> dict[str, Any]:
        """The case summary of one indexed document: patient, active diagnoses, pathogens, medications..."""
        from imner.cohort.summary import summarize

        try:
            return await on_pool(summarize, db, doc_id)
        except InputError as exc:
            raise api_error(404, "unknown_document", str(exc)) from None
