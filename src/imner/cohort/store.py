"""The embedded case index: extraction results in one DuckDB file.

Tables (the contract the queries, monitor, summary and exports read):

* ``documents``: ``doc_id`` (primary key), ``text``, ``text_hash`` (sha256 of the text), ``source`` (the
  record's own ``source`` field, else the input file), ``input``/``line`` (where it was read), ``model_id``,
  ``model_version``, ``indexed_at``, ``meta`` (JSON: every extra field of the input record, e.g. ``date``,
  ``patient_id``), ``patient`` (JSON: the patient block) and its ``age``, ``age_group``, ``sex``;
* ``entities``: ``(doc_id, idx)`` primary key, ``start_offset``/``end_offset`` (half-open, into ``text``),
  ``label``, ``text``, ``score``, ``negated``/``uncertain``/``hypothetical``/``historical``/``family``, ``code_status``,
  ``concept_id``, ``concept_name``, ``codes`` (every code of the mention: concept, DOID, HP, NCBITaxon,
  DrugBank and ``ICD10CM:`` codes), ``icd10cm``, ``category``, ``subcategory``, ``kind``, ``drug_class``,
  ``sentence_start``/``sentence_end`` (the sentence holding the mention) and ``attrs`` (JSON: all the rest);
* ``imner_info``: key/value (schema version).

Each batch of documents is written in one transaction (old rows of re-indexed documents deleted, documents and
entities inserted, commit), so a run killed at any point leaves whole documents only, and a re-run skips what was
committed: nothing lost, nothing twice.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from imner.errors import ImnerError, InputError
from imner.types import Document, Span

SCHEMA_VERSION = "1"
DEFAULT_DB = "imner.duckdb"
ON_DUPLICATE = ("error", "skip", "replace")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS imner_info (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS documents (
  doc_id VARCHAR PRIMARY KEY, text VARCHAR NOT NULL, text_hash VARCHAR NOT NULL, source VARCHAR, input VARCHAR,
  line INTEGER, model_id VARCHAR, model_version VARCHAR, indexed_at TIMESTAMP, meta JSON, patient JSON,
  age DOUBLE, age_group VARCHAR, sex VARCHAR);
CREATE TABLE IF NOT EXISTS entities (
  doc_id VARCHAR NOT NULL, idx INTEGER NOT NULL, start_offset INTEGER NOT NULL, end_offset INTEGER NOT NULL,
  label VARCHAR NOT NULL, text VARCHAR, score DOUBLE, negated BOOLEAN, uncertain BOOLEAN, hypothetical BOOLEAN,
  historical BOOLEAN, family BOOLEAN, code_status VARCHAR, concept_id VARCHAR, concept_name VARCHAR, codes VARCHAR[],
  icd10cm VARCHAR[], category VARCHAR, subcategory VARCHAR, kind VARCHAR, drug_class VARCHAR,
  sentence_start INTEGER, sentence_end INTEGER, attrs JSON, PRIMARY KEY (doc_id, idx));
"""

DOC_COLUMNS = ("doc_id", "text", "text_hash", "source", "input", "line", "model_id", "model_version", "indexed_at",
               "meta", "patient", "age", "age_group", "sex")
ENTITY_COLUMNS = ("doc_id", "idx", "start_offset", "end_offset", "label", "text", "score", "negated", "uncertain",
                  "hypothetical", "historical", "family", "code_status", "concept_id", "concept_name", "codes", "icd10cm",
                  "category", "subcategory", "kind", "drug_class", "sentence_start", "sentence_end", "attrs")
#: span attrs stored in their own columns (the rest go to ``attrs``)
_COLUMN_ATTRS = ("negated", "uncertain", "hypothetical", "historical", "family", "code_status", "concept_id", "concept_name",
                 "icd10cm", "category", "subcategory", "kind", "drug_class")
_CODE_ATTRS = ("concept_id", "doid", "hpo", "ncbitaxon", "drugbank", "mondo")


def _duckdb():
    try:
        import duckdb
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImnerError("the case index needs duckdb: pip install 'imner[cohort]'") from None
    return duckdb


def connect(db: str | Path = DEFAULT_DB, *, read_only: bool = False, create: bool = True):
    """A DuckDB connection to the index file (created with its tables unless ``read_only``)."""
    duckdb = _duckdb()
    p = Path(db)
    if read_only or not create:
        if not p.is_file():
            raise InputError(f"no index here; build one with `imner index INPUT --db {db}`", source=str(p))
    try:
        con = duckdb.connect(str(p), read_only=read_only)
    except duckdb.Error as exc:
        raise InputError(f"cannot open the index: {exc}", source=str(p)) from None
    if not read_only:
        con.execute(_SCHEMA)
        con.execute("INSERT OR REPLACE INTO imner_info VALUES ('schema_version', ?)", [SCHEMA_VERSION])
    else:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not {"documents", "entities"} <= tables:
            raise InputError("not an imner index (no documents/entities tables)", source=str(p))
    return con


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Record:
    """One input document and where it was read (``line`` for JSONL)."""

    doc: Document
    input: str
    line: int | None = None

    @property
    def where(self) -> str:
        return f"{self.input}, line {self.line}" if self.line is not None else self.input


@dataclass
class IndexReport:
    """What one ``imner index`` run did."""

    indexed: int = 0
    entities: int = 0
    unchanged: int = 0
    other_model: int = 0
    reindexed: int = 0
    replaced: int = 0
    duplicates_skipped: int = 0
    repeated_same_text: int = 0
    batches: int = 0
    #: wall-clock seconds in extraction (the pipeline) and in storing (sentences, rows, the transaction)
    annotate_seconds: float = 0.0
    store_seconds: float = 0.0
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, [])}


def _sentence_bounds(text: str) -> tuple[list[int], list[tuple[int, int]]]:
    from imner.text import split_sentences

    sents = split_sentences(text) or [(0, len(text))]
    return [s for s, _ in sents], sents


def entity_rows(doc: Document) -> list[tuple]:
    """The ``entities`` rows of one document (columns :data:`ENTITY_COLUMNS`)."""
    starts, sents = _sentence_bounds(doc.text)
    rows = []
    for i, s in enumerate(doc.spans):
        a = dict(s.attrs)
        k = max(0, bisect.bisect_right(starts, s.start) - 1)
        ss, se = sents[k]
        if s.end > se:  # a mention across a sentence break: the sentences it covers
            se = max(e for b, e in sents if b < s.end)
        codes = [str(a[k_]) for k_ in _CODE_ATTRS if a.get(k_)]
        rest_null = {k_ for k_, v in a.items() if v is None}  # the uniform record's empty fields: not stored
        icd = [str(c) for c in (a.get("icd10cm") or ())]
        codes += [f"ICD10CM:{c}" for c in icd]
        rest = {k_: v for k_, v in a.items() if k_ not in _COLUMN_ATTRS and k_ not in rest_null}
        if s.fragments:
            rest["fragments"] = [list(f) for f in s.fragments]
        rows.append((doc.id, i, s.start, s.end, s.label, s.text_in(doc.text), s.score,
                     _flag(a.get("negated")), _flag(a.get("uncertain")), _flag(a.get("hypothetical")),
                     _flag(a.get("historical")),
                     _flag(a.get("family")), a.get("code_status"), a.get("concept_id"), a.get("concept_name"),
                     list(dict.fromkeys(codes)), icd, a.get("category"), a.get("subcategory"), a.get("kind"),
                     a.get("drug_class"), ss, se, json.dumps(rest, ensure_ascii=False, default=str)))
    return rows


def _flag(v: Any) -> bool | None:
    return None if v is None else bool(v)


def document_row(rec: Record, model_id: str, model_version: str, now: datetime) -> tuple:
    doc = rec.doc
    meta = {k: v for k, v in doc.meta.items() if k != "patient"}
    patient = doc.meta.get("patient")
    patient = dict(patient) if isinstance(patient, dict) or hasattr(patient, "items") else None
    age = patient.get("age") if patient else None
    source = meta.get("source") if isinstance(meta.get("source"), str) else rec.input
    return (doc.id, doc.text, text_hash(doc.text), source, rec.input, rec.line, model_id, model_version, now,
            json.dumps(meta, ensure_ascii=False, default=str),
            json.dumps(patient, ensure_ascii=False, default=str) if patient is not None else None,
            float(age) if isinstance(age, (int, float)) and not isinstance(age, bool) else None,
            patient.get("age_group") if patient else None, patient.get("sex") if patient else None)


def _arrow_table(rows: Sequence[tuple], columns: Sequence[str]):
    import pyarrow as pa

    return pa.Table.from_pylist([dict(zip(columns, r)) for r in rows])


def write_batch(con, records: Sequence[Record], model_id: str, model_version: str) -> int:
    """Write finished documents in one transaction (their old rows replaced). Returns the entity count."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    docs = [document_row(r, model_id, model_version, now) for r in records]
    ents = [row for r in records for row in entity_rows(r.doc)]
    ids = [r.doc.id for r in records]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM entities WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
        con.execute("DELETE FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
        con.executemany(f"INSERT INTO documents VALUES ({', '.join('?' * len(DOC_COLUMNS))})", docs)
        if ents:
            tbl = _arrow_table(ents, ENTITY_COLUMNS)  # noqa: F841  (read by name below)
            con.execute(f"INSERT INTO entities SELECT {', '.join(ENTITY_COLUMNS)} FROM tbl")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(ents)


def index_records(con, records: Iterable[Record], annotate: Callable[[list[Document]], list[Document]] | None,
                  model_id: str, model_version: str, *, batch_size: int = 16, reindex: bool = False,
                  on_duplicate: str = "error", progress: Callable[[int], None] | None = None) -> IndexReport:
    """Index ``records`` (``annotate`` runs extraction on a batch; None stores the spans as given).

    * a document already stored with the same text hash and model is skipped (``unchanged``); with another
      model or version it is skipped too (``other_model``) unless ``reindex``;
    * an id seen twice with different text (in the input, or against the index) is an :class:`InputError`
      naming both places, unless ``on_duplicate`` is ``skip`` (keep the first) or ``replace`` (keep the last);
    * if reading the input fails part-way, the documents read before are indexed first, then the error
      propagates: what was indexed stays.
    """
    if on_duplicate not in ON_DUPLICATE:
        raise ValueError(f"on_duplicate must be one of {ON_DUPLICATE}, got {on_duplicate!r}")
    report = IndexReport()
    stored = {r[0]: (r[1], r[2], r[3], r[4], r[5]) for r in con.execute(
        "SELECT doc_id, text_hash, model_id, model_version, input, line FROM documents").fetchall()}
    seen: dict[str, tuple[str, str]] = {}  # id -> (hash, where) in this run
    batch: list[Record] = []

    def flush() -> None:
        if not batch:
            return
        docs = [r.doc for r in batch]
        t0 = time.perf_counter()
        done = annotate(docs) if annotate is not None else docs
        t1 = time.perf_counter()
        out = [Record(d, r.input, r.line) for d, r in zip(done, batch)]
        report.entities += write_batch(con, out, model_id, model_version)
        report.annotate_seconds += t1 - t0
        report.store_seconds += time.perf_counter() - t1
        report.indexed += len(out)
        report.batches += 1
        if progress:
            progress(len(out))
        batch.clear()

    it = iter(records)
    while True:
        try:
            rec = next(it)
        except StopIteration:
            break
        except Exception:
            flush()
            raise
        doc_id, h = rec.doc.id, text_hash(rec.doc.text)
        if doc_id in seen:
            first_hash, first_where = seen[doc_id]
            if first_hash == h:
                report.repeated_same_text += 1
                continue
            if on_duplicate == "error":
                flush()
                raise InputError(f"document id {doc_id!r} appears twice with different text: first at "
                                 f"{first_where}, again here; give each document its own id, or pass "
                                 "--on-duplicate skip (keep the first) or replace (keep the last)",
                                 source=rec.input, line=rec.line)
            if on_duplicate == "skip":
                report.duplicates_skipped += 1
                continue
            report.replaced += 1
            seen[doc_id] = (h, rec.where)
            batch.append(rec)
        else:
            seen[doc_id] = (h, rec.where)
            old = stored.get(doc_id)
            if old is not None:
                old_hash, old_model, old_version, old_input, old_line = old
                if old_hash != h:
                    if on_duplicate == "error":
                        flush()
                        where = f"{old_input}, line {old_line}" if old_line is not None else old_input
                        raise InputError(f"document id {doc_id!r} is already indexed with different text (from "
                                         f"{where}); give it a new id, or pass --on-duplicate skip (keep the "
                                         "indexed one) or replace (index this one)", source=rec.input,
                                         line=rec.line)
                    if on_duplicate == "skip":
                        report.duplicates_skipped += 1
                        continue
                    report.replaced += 1
                elif (old_model, old_version) == (model_id, model_version):
                    report.unchanged += 1
                    if progress:
                        progress(1)
                    continue
                elif not reindex:
                    report.other_model += 1
                    if progress:
                        progress(1)
                    continue
                else:
                    report.reindexed += 1
            batch.append(rec)
        if len(batch) >= batch_size:
            flush()
    flush()
    if report.other_model:
        report.notes.append(f"{report.other_model} documents are indexed with another model or version and were "
                            "left as they are; pass --reindex to index them again with this one")
    return report


# ---------------------------------------------------------------- inputs


def iter_records(path: str) -> Iterator[Record]:
    """What ``imner extract`` reads, as :class:`Record` s (JSONL with line numbers; the same readers and
    messages as ``imner extract``)."""
    from imner.io.inputs import JSONL_SUFFIXES, iter_inputs

    p = Path(path)
    if path != "-" and p.is_file() and p.suffix.lower() in JSONL_SUFFIXES:
        import warnings

        from imner.io._common import iter_decoded_lines
        from imner.io.inputs import EmptyInputWarning
        from imner.io.jsonl import parse_document_json

        for n, line in iter_decoded_lines(p):
            if not line.strip():
                continue
            doc = parse_document_json(line, source=str(p), line_no=n, default_id=f"{p.stem}:{n}")
            if not doc.text.strip():
                warnings.warn(f"{p}: document {doc.id!r} has empty text; it will yield no entities",
                              EmptyInputWarning, stacklevel=2)
            yield Record(doc, str(p), n)
        return
    folder = p.is_dir()
    for doc in iter_inputs(path):
        yield Record(doc, str(p / f"{doc.id}.txt") if folder else ("<stdin>" if path == "-" else str(p)))


def has_entities(path: str) -> bool:
    """Whether a JSONL input already carries entities (``imner extract --include-text`` output): its first
    record has an ``entities`` (or ``spans``) key."""
    from imner.io.inputs import JSONL_SUFFIXES

    p = Path(path)
    if path == "-" or not p.is_file() or p.suffix.lower() not in JSONL_SUFFIXES:
        return False
    with open(p, "rb") as fh:
        for raw in fh:
            if raw.strip():
                try:
                    obj = json.loads(raw.decode("utf-8", "replace").lstrip("\ufeff"))
                except json.JSONDecodeError:
                    return False  # the reader reports it with its line
                return isinstance(obj, dict) and ("entities" in obj or "spans" in obj)
    return False


def model_fingerprint(model: str | Path | None) -> tuple[str, str]:
    """(model id, model version) of a model directory (None: the shipped default): the id is ``default`` or
    the folder name; the version names imner's version, the tagger and a hash of the model's files."""
    from imner import __version__
    from imner.pipeline import DEFAULT_MODEL_DIR

    d = Path(model) if model is not None else DEFAULT_MODEL_DIR
    h = hashlib.sha256()
    tagger = "dictionary.v1"
    if d.is_dir():
        for f in sorted(x for x in d.rglob("*") if x.is_file()):
            h.update(str(f.relative_to(d)).encode())
            h.update(f.read_bytes())
        cfg = d / "config.json"
        if cfg.is_file():
            tagger = json.loads(cfg.read_text(encoding="utf-8")).get("tagger", tagger)
    return ("default" if model is None else d.name), f"imner {__version__}; {tagger}; sha256:{h.hexdigest()[:12]}"


def given_model(path: str) -> tuple[str, str]:
    """(model id, version) for entities taken as given from a JSONL file."""
    return "given", f"entities as given in {Path(path).name}"


def span_from_row(row: dict[str, Any]) -> Span:
    """A :class:`Span` back from an ``entities`` row (attrs as in ``imner extract`` output)."""
    attrs = json.loads(row["attrs"]) if row.get("attrs") else {}
    frags = attrs.pop("fragments", None)
    for k in _COLUMN_ATTRS:
        if row.get(k) is not None:
            attrs[k] = list(row[k]) if k == "icd10cm" else row[k]
    if not attrs.get("icd10cm"):
        attrs.pop("icd10cm", None)
    return Span(row["start_offset"], row["end_offset"], row["label"], row.get("score"), attrs,
                tuple(tuple(f) for f in frags) if frags else None)
