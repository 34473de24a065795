"""imner on Apache Spark: :func:`annotate` adds entities, the patient block and an error column to a DataFrame.

::

    from imner.spark import annotate
    out = annotate(spark.read.parquet("notes.parquet"), text_col="note_text", id_col="note_id")
    out.write.parquet("entities.parquet")

The work runs in :meth:`DataFrame.mapInPandas`: each Python worker loads the pipeline once (a module-level cache,
keyed by the pipeline options) and reuses it for every Arrow batch it is given. Needs the ``spark`` extra
(``pip install "imner[spark]"``: pyspark 4.x, pyarrow, pandas); ``import imner`` never imports pyspark.

Columns added to the input's:

``entities``
    ``array<struct>``, one struct per entity, the fields of an ``imner extract`` JSONL entity (:data:`ENTITY_FIELDS`):
    ``start``, ``end`` (character offsets into the text, exactly as ``imner extract``), ``label``, ``text``,
    ``score``, ``fragments``, the assertion flags (``negated``, ``uncertain``, ``hypothetical``, ``historical``,
    ``family``, ``experiencer``, ``section``), the codes (``code_status``, ``concept_id``, ``concept_name``,
    ``codes``: a struct of ``doid``, ``hpo``, ``drugbank``, ``ncbitaxon``, ``icd10cm``), ``category``,
    ``subcategory``, ``kind``, ``drug_class``, ``match``, ``abbreviation_of``, and ``attrs``: a JSON object of every
    other attribute (e.g. ``candidates`` of ambiguous spans), null when there is none, so nothing is lost.
``patient``
    ``struct``: ``age``, ``age_approximate``, ``age_group``, ``sex``, ``sex_source`` and the three evidence spans.
``error``
    null when the row was processed; otherwise the reason (null text, a non-string value, bytes that are not
    UTF-8, a failure inside the pipeline). Bad rows are kept, with null ``entities``; they never fail the job.

``text_col`` may be a string column or a binary one (bytes decoded under imner's UTF-8 policy, as
``imner extract`` decodes files: see :mod:`imner.io._common`). :func:`record_from_row` turns an output row back
into the ``imner extract`` JSONL record.
"""

from __future__ import annotations

import json
import traceback
from typing import Any, Iterator

# pyspark and pandas are imported inside the functions that use them (the `spark` extra)

#: typed fields of an entity struct besides start/end/label/text/score/fragments/codes/attrs
_BOOL_FIELDS = ("negated", "uncertain", "hypothetical", "historical", "family")
_STR_FIELDS = ("experiencer", "section", "code_status", "concept_id", "concept_name", "category", "subcategory",
               "kind", "drug_class", "match", "abbreviation_of")
#: vocabulary keys gathered in the ``codes`` struct (icd10cm is a list, the others one id each)
CODE_KEYS = ("doid", "hpo", "drugbank", "ncbitaxon")
LIST_CODE_KEYS = ("icd10cm",)
_CORE = ("start", "end", "label", "text", "score", "fragments")
ENTITY_FIELDS = _CORE + _BOOL_FIELDS + _STR_FIELDS + ("codes", "attrs")
_TYPED = set(_CORE) | set(_BOOL_FIELDS) | set(_STR_FIELDS) | set(CODE_KEYS) | set(LIST_CODE_KEYS)

_EVIDENCE = "struct<start:int,end:int,text:string>"
PATIENT_DDL = (f"struct<age:double,age_approximate:boolean,age_group:string,sex:string,sex_source:string,"
               f"age_evidence:{_EVIDENCE},age_group_evidence:{_EVIDENCE},sex_evidence:{_EVIDENCE}>")
_PATIENT_KEYS = ("age", "age_approximate", "age_group", "sex", "sex_source", "age_evidence", "age_group_evidence",
                 "sex_evidence")
ENTITY_DDL = ("struct<start:int,end:int,label:string,text:string,score:double,fragments:array<array<int>>,"
              + ",".join(f"{f}:boolean" for f in _BOOL_FIELDS) + ","
              + ",".join(f"{f}:string" for f in _STR_FIELDS) + ","
              + "codes:struct<" + ",".join(f"{k}:string" for k in CODE_KEYS)
              + "," + ",".join(f"{k}:array<string>" for k in LIST_CODE_KEYS) + ">,attrs:string>")
OUTPUT_COLUMNS = ("entities", "patient", "error")

# one pipeline per Python worker process and per set of options
_PIPELINES: dict[tuple, Any] = {}


def _options_key(options: dict[str, Any]) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in options.items()))


def get_pipeline(**options: Any):
    """The pipeline for ``options`` (:func:`imner.pipeline.load_pipeline` keywords), loaded once per process."""
    key = _options_key(options)
    pipe = _PIPELINES.get(key)
    if pipe is None:
        from imner.pipeline import load_pipeline

        opts = dict(options)
        pipe = _PIPELINES[key] = load_pipeline(opts.pop("model", None), **opts)
    return pipe


def entity_struct(span_dict: dict[str, Any]) -> dict[str, Any]:
    """One ``imner extract`` entity dict as the entity struct (every attribute kept: untyped ones in ``attrs``)."""
    d = span_dict
    out: dict[str, Any] = {k: d.get(k) for k in _CORE}
    for k in _BOOL_FIELDS:
        out[k] = d.get(k)
    for k in _STR_FIELDS:
        v = d.get(k)
        out[k] = v if v is None or isinstance(v, str) else json.dumps(v)
    codes = {k: d.get(k) for k in CODE_KEYS}
    codes.update({k: (list(d[k]) if d.get(k) is not None else None) for k in LIST_CODE_KEYS})
    out["codes"] = codes if any(v is not None for v in codes.values()) else None
    rest = {k: v for k, v in d.items() if k not in _TYPED and v is not None}
    out["attrs"] = json.dumps(rest, ensure_ascii=False, sort_keys=True, default=str) if rest else None
    return out


def entity_from_struct(row: Any) -> dict[str, Any]:
    """Inverse of :func:`entity_struct` (a Spark ``Row`` or a dict): the ``imner extract`` entity dict, with the
    fields that are null left out."""
    r = row.asDict(recursive=True) if hasattr(row, "asDict") else dict(row)
    out = {k: r.get(k) for k in _CORE + _BOOL_FIELDS + _STR_FIELDS}
    for k in _STR_FIELDS:
        v = out.get(k)
        if isinstance(v, str) and v[:1] in "[{":  # a non-string value of a string field, JSON-encoded
            try:
                out[k] = json.loads(v)
            except json.JSONDecodeError:
                pass
    out.update(r.get("codes") or {})
    if r.get("attrs"):
        out.update(json.loads(r["attrs"]))
    return {k: v for k, v in out.items() if v is not None}


def record_from_row(row: Any, id_col: str = "id") -> dict[str, Any]:
    """The ``imner extract`` JSONL record (``id``, ``entities``, ``patient``) of one output row; nulls left out of
    entities."""
    r = row.asDict(recursive=True) if hasattr(row, "asDict") else dict(row)
    rec: dict[str, Any] = {"id": r[id_col], "entities": [entity_from_struct(e) for e in r.get("entities") or []]}
    if r.get("patient") is not None:
        rec["patient"] = r["patient"]
    return rec


def _patient_struct(patient: dict[str, Any] | None) -> dict[str, Any] | None:
    if patient is None:
        return None
    return {k: patient.get(k) for k in _PATIENT_KEYS}


def _text_of(value: Any) -> tuple[str | None, str | None]:
    """``(text, error)`` of one cell of the text column."""
    from imner.errors import ImnerError

    if value is None or (isinstance(value, float) and value != value):
        return None, "text is null; each row needs a string (or UTF-8 bytes) in the text column"
    if isinstance(value, str):
        return value, None
    if isinstance(value, (bytes, bytearray, memoryview)):
        from imner.io._common import decode_bytes

        try:
            text, _bom = decode_bytes(bytes(value), "<row>")
        except ImnerError as exc:
            return None, str(exc)
        return text, None
    return None, f"text is {type(value).__name__}, not a string; each row needs a string (or UTF-8 bytes)"


def annotate_records(ids: list[Any], values: list[Any], options: dict[str, Any],
                     batch_size: int = 16) -> list[tuple[list | None, dict | None, str | None]]:
    """``(entities, patient, error)`` per input row, in order (the work of one Arrow batch)."""
    from imner.types import Document

    pipe = get_pipeline(**options)
    results: list[tuple[list | None, dict | None, str | None]] = [(None, None, None)] * len(values)
    docs: list[tuple[int, Document]] = []
    for i, (ident, value) in enumerate(zip(ids, values)):
        text, error = _text_of(value)
        if error is not None:
            results[i] = (None, None, error)
        else:
            docs.append((i, Document(str(ident), text)))

    def one(doc) -> tuple[list, dict | None, None]:
        ents = [entity_struct(s.to_dict(doc.text)) for s in doc.spans]
        return ents, _patient_struct(doc.meta.get("patient")), None

    for b in range(0, len(docs), batch_size):
        chunk = docs[b:b + batch_size]
        try:
            done = pipe([d for _, d in chunk])
            for (i, _), doc in zip(chunk, done):
                results[i] = one(doc)
        except Exception:  # find the document(s) that fail; the others are kept
            for i, doc in chunk:
                try:
                    results[i] = one(pipe([doc])[0])
                except Exception as exc:
                    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
                    results[i] = (None, None, f"pipeline failed on this document: {last}")
    return results


def _mapper(text_col: str, id_col: str | None, options: dict[str, Any], batch_size: int):
    def run(frames: Iterator[Any]) -> Iterator[Any]:
        for frame in frames:
            values = frame[text_col].tolist()
            ids = frame[id_col].tolist() if id_col else [str(i) for i in range(len(values))]
            res = annotate_records(ids, values, options, batch_size)
            frame = frame.copy()
            frame["entities"] = [r[0] for r in res]
            frame["patient"] = [r[1] for r in res]
            frame["error"] = [r[2] for r in res]
            yield frame
    return run


def output_schema(schema):
    """The schema :func:`annotate` returns for an input ``schema``."""
    from pyspark.sql.types import StructField, StructType, _parse_datatype_string

    return StructType(list(schema.fields) + [
        StructField("entities", _parse_datatype_string(f"array<{ENTITY_DDL}>"), True),
        StructField("patient", _parse_datatype_string(PATIENT_DDL), True),
        StructField("error", _parse_datatype_string("string"), True)])


def annotate(df: Any, text_col: str = "text", id_col: str | None = "id", *, batch_size: int = 16,
             **pipeline_options: Any) -> Any:
    """``df`` with ``entities``, ``patient`` and ``error`` added (see the module doc).

    ``pipeline_options`` go to :func:`imner.pipeline.load_pipeline`: ``model`` (a model directory on every worker;
    default the shipped model inside the wheel), ``assertion``, ``normalize``, ``patient`` (booleans).
    ``id_col`` (None: no id column) names each document for the pipeline; results do not depend on it.
    """
    from imner.errors import InputError

    if text_col not in df.columns:
        raise InputError(f"no column {text_col!r} in the DataFrame (columns: {', '.join(df.columns)}); "
                         "give text_col=")
    if id_col is not None and id_col not in df.columns:
        raise InputError(f"no column {id_col!r} in the DataFrame (columns: {', '.join(df.columns)}); "
                         "give id_col= (or id_col=None)")
    clash = [c for c in OUTPUT_COLUMNS if c in df.columns]
    if clash:
        raise InputError(f"the DataFrame already has column(s) {', '.join(clash)}, which annotate() adds; "
                         "rename or drop them first")
    unknown = set(pipeline_options) - {"model", "assertion", "normalize", "patient"}
    if unknown:
        raise TypeError(f"unknown pipeline option(s) {', '.join(sorted(unknown))}; allowed: model, assertion, "
                        "normalize, patient")
    if "model" in pipeline_options and pipeline_options["model"] is not None:
        pipeline_options["model"] = str(pipeline_options["model"])
    return df.mapInPandas(_mapper(text_col, id_col, dict(pipeline_options), batch_size), output_schema(df.schema))


def local_session(master: str = "local[*]", app_name: str = "imner", **conf: str):
    """A SparkSession for one machine (or ``master``) whose Python workers run this interpreter (so they find
    imner and its dependencies). ``conf``: extra Spark settings."""
    import os
    import sys

    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.ui.enabled", "false")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "256"))
    for k, v in conf.items():
        builder = builder.config(k, v)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
