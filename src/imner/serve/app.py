"""The FastAPI application of ``imner serve``: the REST API (``/v1/...``, ``/health``) and the web app (``/``).

Every error answers ``{"error": {"code", "message", ...}}``: limits add ``limit`` and ``value``, validation errors
``errors`` (each with its ``loc``, the field path). Tracebacks go to the server log (frames only, no messages, so no
document text), never into a response. See docs/serve.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
import traceback
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from imner.serve.runtime import Worker
from imner.serve.settings import ServeSettings
from imner.types import Document

log = logging.getLogger("imner.serve")
STATIC = Path(__file__).parent / "static"
MAX_CONCEPT_IDS = 500


# ---------------------------------------------------------------------------------------------- request models

class ExtractOptions(BaseModel):
    """Which steps run after the tagger (all by default), as ``imner extract --no-assertion`` etc."""

    model_config = ConfigDict(extra="forbid")
    assertion: StrictBool = True
    normalize: StrictBool = True
    patient: StrictBool = True


class InputDocument(BaseModel):
    """One document. Keys other than ``id`` and ``text`` are accepted (as ``imner extract`` accepts them in JSONL)
    and not echoed."""

    model_config = ConfigDict(extra="allow")
    id: StrictStr | StrictInt | None = Field(None, description="document id (default: its position, from 0)")
    text: StrictStr


class ExtractRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    documents: list[InputDocument]
    options: ExtractOptions = ExtractOptions()


class ExportDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: StrictStr | StrictInt
    text: StrictStr
    entities: list[dict[str, Any]] = []
    patient: dict[str, Any] | None = None


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    documents: list[ExportDocument]


class DocumentResult(BaseModel):
    id: str
    entities: list[dict[str, Any]] = Field(description="the entity records of `imner extract` JSONL")
    patient: dict[str, Any] | None = Field(None, description="age, age group, sex and their evidence offsets")


class ExtractResponse(BaseModel):
    model: dict[str, Any]
    documents: list[DocumentResult]


class ErrorBody(BaseModel):
    code: str
    message: str
    limit: str | None = None
    value: float | int | None = None
    errors: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


# ---------------------------------------------------------------------------------------------- errors

class ApiError(Exception):
    """An answer other than 200, with the JSON error body of the module doc."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def response(self) -> JSONResponse:
        headers = {"Retry-After": "1"} if self.status == 503 else None
        return error_response(self.status, self.code, self.message, headers=headers, **self.extra)


def error_response(status: int, code: str, message: str, headers: dict | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status, headers=headers)


def limit_error(status: int, code: str, limit: str, value: Any, message: str) -> ApiError:
    return ApiError(status, code, f"{message} (limit {limit} = {value})", limit=limit, value=value)


def _validation_errors(errors: list[dict], prefix: tuple = ("body",)) -> list[dict]:
    return [{"loc": [*prefix, *e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in errors]


def _invalid(errors: list[dict]) -> ApiError:
    where = ", ".join("/".join(map(str, e["loc"])) + ": " + e["msg"] for e in errors[:5])
    return ApiError(422, "invalid_request", f"the request does not match the schema: {where}", errors=errors)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": what} for code, what in (
        (400, "body not UTF-8"), (413, "a size limit exceeded"), (415, "unsupported content type"),
        (422, "malformed JSON or wrong types (with the field path)"), (503, "model loading or server overloaded"),
        (504, "timeout_seconds exceeded"))}


# ---------------------------------------------------------------------------------------------- the log

class AccessLog:
    """ASGI middleware: one log line per request (method, path, status, duration, bytes in and out; never the
    body nor the query string), and a JSON 500 for anything a route let escape (the traceback's frames go to the
    log, without the exception's message, which may quote text)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        state = {"in": 0, "out": 0, "status": None}

        async def counting_receive() -> dict:
            message = await receive()
            if message["type"] == "http.request":
                state["in"] += len(message.get("body", b""))
            return message

        async def counting_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            elif message["type"] == "http.response.body":
                state["out"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        except Exception as exc:
            log.error("unhandled %s in %s %s; traceback (frames only):\n%s", type(exc).__name__, scope["method"],
                      scope["path"], "".join(traceback.format_tb(exc.__traceback__)))
            if state["status"] is None:
                resp = error_response(500, "internal_error", "internal error; the server log has the details")
                await resp(scope, receive, counting_send)
        finally:
            log.info("%s %s %s %.1fms in=%dB out=%dB", scope["method"], scope["path"], state["status"],
                     (time.perf_counter() - t0) * 1000, state["in"], state["out"])


# ---------------------------------------------------------------------------------------------- body parsing

async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, "bad_content_length", f"Content-Length must be a number of bytes, got {declared!r}")
        if int(declared) > limit:
            raise limit_error(413, "body_too_large", "max_body_bytes", limit,
                              f"the request body has {int(declared)} bytes")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise limit_error(413, "body_too_large", "max_body_bytes", limit, "the request body is larger")
        chunks.append(chunk)
    return b"".join(chunks)


def decode_utf8(body: bytes) -> str:
    """The body as text: UTF-8 only (a leading BOM removed, as ``imner extract`` does); 400 otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "not_utf8", f"the request body is not valid UTF-8 at byte offset {exc.start} "
                       f"(byte 0x{body[exc.start:exc.start + 1].hex().upper()}); send UTF-8", offset=exc.start) \
            from None
    return text[1:] if text.startswith("\ufeff") else text


def parse_json(body: bytes) -> Any:
    text = decode_utf8(body)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _invalid([{"loc": ["body", exc.pos], "msg": f"JSON decode error: {exc.msg} (line {exc.lineno}, "
                         f"column {exc.colno})", "type": "json_invalid"}]) from None


def media_type(request: Request) -> str:
    return (request.headers.get("content-type") or "application/json").split(";")[0].strip().lower()


def _is_json(media: str) -> bool:
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _validate(model: type[BaseModel], obj: Any) -> Any:
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        raise _invalid(_validation_errors(exc.errors(include_url=False, include_input=False))) from None


# ---------------------------------------------------------------------------------------------- the app

def _check_text_sizes(docs: list[Document], limit: int) -> None:
    for i, doc in enumerate(docs):
        if len(doc.text) > limit:
            raise limit_error(413, "text_too_large", "max_text_chars", limit,
                              f"document {i} (id {doc.id!r}) has {len(doc.text)} characters")


def create_app(settings: ServeSettings | None = None, *, loader: Any = None) -> FastAPI:
    """The application. The model loads in a background thread when the app starts (``/health`` answers 503 until
    it is ready). ``loader`` (a function returning a :class:`~imner.pipeline.Pipeline`) replaces
    ``load_pipeline(settings.model)``, for tests."""
    from fastapi_offline import FastAPIOffline

    from imner import __version__

    settings = settings or ServeSettings()
    worker = Worker(settings, loader)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        threading.Thread(target=worker.load, name="imner-load", daemon=True).start()
        yield
        worker.close()

    app = FastAPIOffline(title="imner", version=__version__, lifespan=lifespan,
                         static_url="/static-docs",
                         description="Immune-mediated and infectious disease entities in clinical text. "
                                     "Limits: " + ", ".join(f"{k}={v}" for k, v in settings.limits().items()))
    app.state.worker = worker
    app.state.settings = settings
    app.add_middleware(AccessLog)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return _invalid(errors).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, "http_error", str(exc.detail), headers=getattr(exc, "headers", None))

    def require_ready() -> None:
        if not worker.ready.is_set():
            if worker.load_error:
                raise ApiError(503, "model_failed", "the model could not be loaded; see the server log")
            raise ApiError(503, "model_loading", "the model is still loading; retry shortly (GET /health)")

    async def run_job(start: float, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args, stop)`` on the extraction pool within what is left of ``timeout_seconds``."""
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        try:
            fut = worker.submit(fn, *args, stop)
        except BaseException:
            worker.slots.release()
            raise
        remaining = settings.timeout_seconds - (loop.time() - start)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(fut), max(remaining, 0.001))
        except asyncio.TimeoutError:
            raise limit_error(504, "timeout", "timeout_seconds", settings.timeout_seconds,
                              "the request did not finish in time") from None
        finally:
            stop.set()
            if not fut.done():  # still running: its slot is given back when it stops (at the next batch)
                fut.add_done_callback(lambda _: worker.slots.release())
            else:
                worker.slots.release()

    def admit() -> None:
        require_ready()
        if not worker.slots.acquire():
            raise limit_error(503, "overloaded", "queue_size", settings.queue_size,
                              "the server is busy: every slot of its queue is taken; retry shortly")

    # ------------------------------------------------------------------ API

    @app.get("/health", tags=["service"], responses={503: ERROR_RESPONSES[503]})
    async def health() -> JSONResponse:
        """200 once the model is loaded (and warmed up), 503 before or when loading failed."""
        if worker.ready.is_set():
            return JSONResponse({"status": "ok", "model": worker.summary(), "load_seconds": worker.load_seconds,
                                 "worker_pid": os.getpid(), "cohort": settings.db is not None,
                                 "queue": {"in_use": worker.slots.in_use, "size": settings.queue_size}})
        status = "failed" if worker.load_error else "loading"
        return JSONResponse({"status": status}, status_code=503)

    @app.get("/v1/labels", tags=["schema"])
    async def labels() -> dict[str, Any]:
        """The twelve entity classes of the schema (docs/guidelines.md), with descriptions and display colours."""
        from imner.schema import LABELS

        return {"labels": [{"name": lab.name, "description": lab.description, "color": lab.color}
                           for lab in LABELS]}

    @app.get("/v1/model", tags=["schema"], responses={503: ERROR_RESPONSES[503]})
    async def model() -> dict[str, Any]:
        """The model card facts: registry name, labels, how it was made, its files and the weights' SHA-256."""
        require_ready()
        return {**worker.facts, "limits": settings.limits()}

    @app.get("/v1/concepts", tags=["schema"], responses={503: ERROR_RESPONSES[503], 413: ERROR_RESPONSES[413]})
    async def concepts(ids: str = Query(..., description="comma-separated ontology ids, e.g. DOID:9074,HP:0001945")
                       ) -> dict[str, Any]:
        """Names and classes of ontology ids from the packaged lexicon (``null`` for ids it does not hold)."""
        require_ready()
        wanted = [i for i in (x.strip() for x in ids.split(",")) if i]
        if len(wanted) > MAX_CONCEPT_IDS:
            raise limit_error(413, "too_many_ids", "max_concept_ids", MAX_CONCEPT_IDS, f"{len(wanted)} ids asked")
        return {"concepts": worker.concepts(wanted)}

    extract_body = {"requestBody": {"required": True, "content": {
        "application/json": {"schema": ExtractRequest.model_json_schema(ref_template="#/components/schemas/{model}")},
        "text/plain": {"schema": {"type": "string"}, "example": "A 34-year-old woman with SLE had no fever."}}}}

    @app.post("/v1/extract", tags=["extraction"], response_model=ExtractResponse, openapi_extra=extract_body,
              responses={k: v for k, v in ERROR_RESPONSES.items()})
    async def extract(request: Request,
                      id: str = Query("doc", description="text/plain only: the document's id"),
                      assertion: bool = Query(True, description="text/plain only: run the assertion step"),
                      normalize: bool = Query(True, description="text/plain only: run the codes step"),
                      patient: bool = Query(True, description="text/plain only: run the patient step")
                      ) -> JSONResponse:
        """Entities of one or more documents: the records of ``imner extract`` JSONL (same offsets, same entities).

        JSON: ``{"documents": [{"id", "text"}], "options": {"assertion", "normalize", "patient"}}``.
        ``text/plain``: the body is one document (options and id in the query string)."""
        admit()
        start = asyncio.get_running_loop().time()
        try:
            body = await read_body(request, settings.max_body_bytes)
            media = media_type(request)
            if media == "text/plain":
                docs = [Document(id, decode_utf8(body))]
                options = {"assertion": assertion, "normalize": normalize, "patient": patient}
            elif _is_json(media):
                obj = parse_json(body)
                if isinstance(obj, dict) and isinstance(obj.get("documents"), list) \
                        and len(obj["documents"]) > settings.max_documents:
                    raise limit_error(413, "too_many_documents", "max_documents", settings.max_documents,
                                      f"the request has {len(obj['documents'])} documents")
                req = _validate(ExtractRequest, obj)
                docs = [Document(str(i if d.id is None else d.id), d.text, (), dict(d.model_extra or {}))
                        for i, d in enumerate(req.documents)]
                options = req.options.model_dump()
            else:
                raise ApiError(415, "unsupported_media_type",
                               f"Content-Type {media!r} is not accepted; send application/json or text/plain")
            _check_text_sizes(docs, settings.max_text_chars)
        except BaseException:
            worker.slots.release()
            raise
        records = await run_job(start, worker.extract, docs, options)
        # serialized as `imner extract` serializes its lines (values JSON cannot hold written with str())
        return Response(json.dumps({"model": worker.summary(), "documents": records}, ensure_ascii=False,
                                   default=str), media_type="application/json")

    @app.post("/v1/export", tags=["extraction"], responses={k: ERROR_RESPONSES[k] for k in (400, 413, 422)},
              response_class=Response)
    async def export(request: Request, format: Literal["jsonl", "brat", "fhir"] = Query(
            "jsonl", description="jsonl: the lines of `imner extract`; brat: a zip of the files `imner extract "
                                 "--format brat` writes; fhir: FHIR R4 Bundles (NDJSON) as `imner export fhir` "
                                 "writes them (the `cohort` extra)")) -> Response:
        """Results (documents with their text, entities and patient block, as /v1/extract returned them, plus
        ``text``) converted to a download. Each mention is checked against the text."""
        from imner.serve.export import to_brat_zip, to_jsonl

        body = await read_body(request, settings.max_body_bytes)
        req = _validate(ExportRequest, parse_json(body))
        if len(req.documents) > settings.max_documents:
            raise limit_error(413, "too_many_documents", "max_documents", settings.max_documents,
                              f"the request has {len(req.documents)} documents")
        from imner.errors import InputError

        try:
            if format == "fhir":
                from imner.serve.cohort_routes import available, fhir_bundles
                from imner.serve.export import documents

                if not available():
                    raise ApiError(501, "not_installed", "FHIR export needs the `cohort` extra")
                body = await asyncio.get_running_loop().run_in_executor(
                    worker.pool, fhir_bundles, documents(req.documents), worker.summary())
                return Response(body, media_type="application/fhir+ndjson",
                                headers={"Content-Disposition": 'attachment; filename="imner-fhir.ndjson"'})
            if format == "brat":
                return Response(to_brat_zip(req.documents), media_type="application/zip",
                                headers={"Content-Disposition": 'attachment; filename="imner-brat.zip"'})
            return Response(to_jsonl(req.documents), media_type="application/jsonl",
                            headers={"Content-Disposition": 'attachment; filename="imner.jsonl"'})
        except InputError as exc:
            raise ApiError(422, "invalid_document", str(exc)) from None

    if settings.db is not None:
        from imner.serve.cohort_routes import add_routes

        add_routes(app, settings.db, read_body=read_body, parse_json=parse_json, validate=_validate,
                   api_error=ApiError, max_body_bytes=settings.max_body_bytes, pool=worker.pool)

    # ------------------------------------------------------------------ the web app

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def app_from_env() -> FastAPI:
    """The uvicorn factory of ``imner serve`` (settings from ``IMNER_SERVE_SETTINGS``; one per worker process)."""
    if not logging.getLogger().handlers and not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    return create_app(ServeSettings.from_env())
