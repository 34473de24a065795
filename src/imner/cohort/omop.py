"""OMOP CDM v5.4 NOTE_NLP rows from the index, every column of the v5.4 DDL, as CSV or Parquet.

* ``note_nlp_id``: 1.. in export order; ``note_id``: a stable integer from the document id (the first 31 bits of
  its sha256; the document id itself is in ``term_modifiers`` as ``doc_id=``); ``section_concept_id``: 0 (no
  section mapping);
* ``snippet``: the mention's sentence, cut to the DDL's 250 characters around the mention when longer;
  ``offset``: the mention's start offset into the note text; ``lexical_variant``: the mention text;
* ``note_nlp_concept_id`` and ``note_nlp_source_concept_id``: 0. imner has no OMOP vocabulary mapping (the
  Athena vocabularies are not shipped); the source codes (DOID, HP, NCBITaxon, DrugBank, ICD-10-CM) are in
  ``term_modifiers`` as ``source_code=`` and ``icd10cm=``, to map with the OMOP vocabulary tables;
* ``nlp_system``: ``imner <version> <model id>``; ``nlp_date``/``nlp_datetime``: when the document was indexed;
* ``term_exists``: ``N`` when the mention is negated, about a family member, hypothetical or uncertain (hedged,
  ruled out), else ``Y``; ``term_temporal``: ``past`` for
  historical mentions, else ``present``;
* ``term_modifiers``: ``key=value`` pairs joined by ``,`` (``negated=false,uncertain=false,historical=false,
  hypothetical=false,family=false,label=IMMUNE_DISEASE,source_code=DOID:9074,icd10cm=M32|M32.9,end=73,doc_id=case_report``);
  ``,``, ``=`` and ``%`` inside values are percent-encoded.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

from imner.errors import InputError

#: the NOTE_NLP table of the OMOP CDM v5.4 DDL, in order: (column, type, required)
NOTE_NLP_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("note_nlp_id", "integer", True), ("note_id", "integer", True), ("section_concept_id", "integer", False),
    ("snippet", "varchar(250)", False), ("offset", "varchar(50)", False),
    ("lexical_variant", "varchar(250)", True), ("note_nlp_concept_id", "integer", False),
    ("note_nlp_source_concept_id", "integer", False), ("nlp_system", "varchar(250)", False),
    ("nlp_date", "date", True), ("nlp_datetime", "datetime", False), ("term_exists", "varchar(1)", False),
    ("term_temporal", "varchar(50)", False), ("term_modifiers", "varchar(2000)", False),
)
SNIPPET_MAX = 250


def note_id(doc_id: str) -> int:
    return int(hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:8], 16) & 0x7FFFFFFF


def _enc(v: Any) -> str:
    return str(v).replace("%", "%25").replace(",", "%2C").replace("=", "%3D")


def snippet(text: str, s: int, e: int, ss: int, se: int) -> str:
    """The sentence [ss, se) around the mention [s, e), cut to 250 characters centred on the mention."""
    sent = text[ss:se].strip()
    if len(sent) <= SNIPPET_MAX:
        return sent
    room = max(0, SNIPPET_MAX - (e - s))
    a = max(ss, s - room // 2)
    b = min(se, a + SNIPPET_MAX)
    a = max(ss, b - SNIPPET_MAX)
    return text[a:b]


def note_nlp_rows(db, query: str | None = None) -> list[dict[str, Any]]:
    from imner import __version__
    from imner.cohort.store import connect

    con = connect(db, read_only=True)
    try:
        ids = None
        if query:
            from imner.cohort.search import run_query

            ids = run_query(con, query).doc_ids
        where = "" if ids is None else "WHERE d.doc_id IN (SELECT unnest(?::VARCHAR[]))"
        docs = con.execute(f"SELECT doc_id, text, model_id, indexed_at FROM documents d {where} ORDER BY doc_id",
                           [] if ids is None else [ids]).fetchall()
        cur = con.execute(
            "SELECT doc_id, start_offset, end_offset, label, text, negated, uncertain, hypothetical, historical, family, "
            "concept_id, icd10cm, sentence_start, sentence_end FROM entities e "
            f"{where.replace('d.doc_id', 'e.doc_id')} ORDER BY doc_id, start_offset, end_offset, idx",
            [] if ids is None else [ids])
        ents = cur.fetchall()
    finally:
        con.close()
    info = {d[0]: d for d in docs}
    used: dict[int, str] = {}
    rows = []
    for n, (doc_id, s, e, label, mtext, neg, unc, hyp, hist, fam, cid, icd, ss, se) in enumerate(ents, 1):
        _, text, model_id, indexed_at = info[doc_id]
        nid = note_id(doc_id)
        if used.setdefault(nid, doc_id) != doc_id:
            raise InputError(f"documents {used[nid]!r} and {doc_id!r} map to the same OMOP note_id {nid}; "
                             "rename one of them")
        if len(mtext) > SNIPPET_MAX:
            raise InputError(f"mention [{s}:{e}] is longer than NOTE_NLP.lexical_variant's 250 characters",
                             source=doc_id)
        mods = {"negated": bool(neg), "uncertain": bool(unc), "hypothetical": bool(hyp), "historical": bool(hist),
                "family": bool(fam), "label": label}
        if cid:
            mods["source_code"] = cid
        if icd:
            mods["icd10cm"] = "|".join(icd)
        mods["end"] = e
        mods["doc_id"] = doc_id
        term_mods = ",".join(f"{k}={_enc(str(v).lower() if isinstance(v, bool) else v)}" for k, v in mods.items())
        rows.append({
            "note_nlp_id": n, "note_id": nid, "section_concept_id": 0, "snippet": snippet(text, s, e, ss, se),
            "offset": str(s), "lexical_variant": mtext, "note_nlp_concept_id": 0, "note_nlp_source_concept_id": 0,
            "nlp_system": f"imner {__version__} {model_id}", "nlp_date": indexed_at.date(),
            "nlp_datetime": indexed_at, "term_exists": "N" if (neg or fam or unc or hyp) else "Y",
            "term_temporal": "past" if hist else "present", "term_modifiers": term_mods[:2000],
        })
        if len(term_mods) > 2000:
            raise InputError(f"term_modifiers of mention [{s}:{e}] exceed 2000 characters", source=doc_id)
    return rows


def export_omop(db, output: str | Path, *, query: str | None = None) -> int:
    out = Path(output)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError("the OMOP output must end in .csv or .parquet", source=str(out))
    rows = note_nlp_rows(db, query)
    cols = [c for c, _, _ in NOTE_NLP_COLUMNS]
    tmp = out.with_name(out.name + ".tmp")
    if suffix == ".csv":
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, cols, lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow({**r, "nlp_datetime": r["nlp_datetime"].isoformat(sep=" ", timespec="seconds")})
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = {"integer": pa.int64(), "date": pa.date32(), "datetime": pa.timestamp("us")}
        schema = pa.schema([pa.field(c, types.get(t, pa.string()), nullable=not req)
                            for c, t, req in NOTE_NLP_COLUMNS])
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp)
    tmp.replace(out)
    return len(rows)
