"""``imner index``, ``imner cohort``, ``imner monitor``, ``imner summary`` and ``imner export omop|fhir``:
the case index and what is built on it (see docs/cohort.md). ``--db`` defaults to ``imner.duckdb`` here."""

from __future__ import annotations

import argparse
import sys

DB_HELP = "the index file (DuckDB; default imner.duckdb in the current folder)"


def register(sub: argparse._SubParsersAction) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("index", help="extract and store results in a DuckDB case index (incremental, resumable)",
                       description=INDEX_DOC, formatter_class=fmt)
    p.add_argument("input", nargs="+", help="anything `imner extract` reads (.txt, folder, .jsonl, -), or its "
                   "JSONL output written with --include-text (its entities are stored as given)")
    p.add_argument("--db", default="imner.duckdb", help=DB_HELP)
    p.add_argument("-m", "--model", default=None, help="model directory (default: the shipped default model)")
    p.add_argument("--reindex", action="store_true",
                   help="index again the documents stored with another model or model version")
    p.add_argument("--on-duplicate", choices=("error", "skip", "replace"), default="error",
                   help="an id seen again with different text: error (default, names both lines), skip (keep the "
                        "first / the indexed one) or replace (keep the last)")
    p.add_argument("--batch-size", type=int, default=16, help="documents per batch and transaction (default 16)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--timings", metavar="FILE", default=None,
                   help="write the run's counts and seconds (extraction, storing, total) as JSON to FILE (- for stderr)")
    p.set_defaults(func=run_index)

    p = sub.add_parser("cohort", help="documents matching a cohort query (codes, names, classes, assertion, "
                       "patient and metadata filters)", description=COHORT_DOC, formatter_class=fmt)
    p.add_argument("query", help='e.g. \'IMMUNE_DISEASE AND NCBITaxon:10359 AND age:18..\'')
    p.add_argument("--db", default="imner.duckdb", help=DB_HELP)
    p.add_argument("-f", "--format", choices=("table", "json", "csv"), default="table")
    p.add_argument("--evidence", action="store_true", help="the sentence and offsets of every matched mention")
    p.add_argument("--no-descendants", action="store_true", help="codes and names match themselves only")
    p.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    p.set_defaults(func=run_cohort)

    p = sub.add_parser("monitor", help="documents (and distinct patients) matching queries per day/week/month/year",
                       description=MONITOR_DOC, formatter_class=fmt)
    p.add_argument("query", nargs="+", help="one or more cohort queries (one line each)")
    p.add_argument("--db", default="imner.duckdb", help=DB_HELP)
    p.add_argument("--by", choices=("day", "week", "month", "year"), default="month")
    p.add_argument("--date-field", default="date", help="the metadata field holding the date (default date)")
    p.add_argument("-o", "--output", required=True, help="FILE.csv, FILE.png (matplotlib) or FILE.html (plotly)")
    p.set_defaults(func=run_monitor)

    p = sub.add_parser("summary", help="a structured case summary of one document (JSON or an HTML card)")
    p.add_argument("doc_id")
    p.add_argument("--db", default="imner.duckdb", help=DB_HELP)
    p.add_argument("-f", "--format", choices=("json", "html"), default="json")
    p.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    p.set_defaults(func=run_summary)

    p = sub.add_parser("export", help="OMOP CDM v5.4 NOTE_NLP rows (CSV, Parquet) or FHIR R4 Bundles",
                       description=EXPORT_DOC, formatter_class=fmt)
    p.add_argument("target", choices=("omop", "fhir"))
    p.add_argument("--db", default="imner.duckdb", help=DB_HELP)
    p.add_argument("--query", default=None, help="only the documents matching this cohort query")
    p.add_argument("-o", "--output", required=True,
                   help="omop: FILE.csv or FILE.parquet; fhir: FILE.json (a list of Bundles), FILE.ndjson "
                        "(one Bundle a line) or a folder (one Bundle file per document)")
    p.set_defaults(func=run_export)


INDEX_DOC = """Run extraction and store documents, entities and the patient block in a DuckDB file.

Re-running skips documents already indexed with the same text and model; a run killed midway keeps every
finished batch (one transaction each) and a re-run finishes the rest. Bad input stops with the same message as
`imner extract`; what was indexed before stays.
"""

COHORT_DOC = """Query the index. Terms: codes (DOID:9074, NCBITaxon:10359, ICD10CM:M32*, HP:0001945,
DrugBank:DB00563; descendants included), names ("systemic lupus", CMV), classes (IMMUNE_DISEASE),
category:infectious, subcategory:viral, kind:, drug_class:, text:; assertion per term (default affirmed, the
patient, current): negated:, uncertain:, historical:, family:, any:; patient: age:18..65, age:>=65,
age_group:child, sex:female; metadata: date:2020-01..2020-06, source:X, any indexed field; combine with
AND, OR, NOT, parentheses, and SENTENCE(a, b) for mentions in one sentence. Grammar: docs/cohort.md.
"""

MONITOR_DOC = """Counts per period of the documents (and distinct patient_id, where the field exists) matching each
query, as CSV, a PNG chart or an interactive HTML page (plotly.js embedded: works offline). Documents without a
usable date are counted and reported, not dropped.
"""

EXPORT_DOC = """omop: OMOP CDM v5.4 NOTE_NLP rows, every column of the DDL (CSV or Parquet). fhir: one R4 Bundle per
document (DocumentReference, Condition per diagnosis, Observation per pathogen, Patient). See docs/cohort.md.
"""


def _write(text: str, dest: str) -> None:
    if dest == "-":
        sys.stdout.write(text)
        return
    from pathlib import Path

    p = Path(dest)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(p)


def run_index(args: argparse.Namespace) -> int:
    import json
    import time

    from tqdm import tqdm

    from imner.cohort import index

    if args.batch_size < 1:
        raise SystemExit("imner index: --batch-size must be at least 1")
    from imner.errors import ImnerError
    from imner.io.inputs import count_inputs

    total = None
    if not args.quiet:
        try:
            counts = [count_inputs(p) for p in args.input]
            total = None if None in counts else sum(counts)
        except (ImnerError, OSError):  # a bad input is reported by the run itself, with its own message
            total = None
    progress = tqdm(desc="index", unit="doc", total=total, file=sys.stderr, disable=args.quiet or None,
                    dynamic_ncols=True)
    t0 = time.perf_counter()
    try:
        rep = index(args.input, args.db, model=args.model, batch_size=args.batch_size, reindex=args.reindex,
                    on_duplicate=args.on_duplicate, progress=progress.update)
    except ImnerError:
        progress.close()
        _kept_note(args.db)
        raise
    finally:
        progress.close()
    if args.timings:
        info = {**rep.to_dict(), "run_seconds": round(time.perf_counter() - t0, 4)}
        info = {k: round(v, 4) if isinstance(v, float) else v for k, v in info.items()}
        text = json.dumps(info, indent=1) + "\n"
        if args.timings == "-":
            sys.stderr.write(text)
        else:
            _write(text, args.timings)
    if not args.quiet:
        parts = [f"{rep.indexed} documents indexed ({rep.entities} entities)", f"{rep.unchanged} unchanged"]
        for key, what in (("other_model", "indexed with another model (kept)"), ("reindexed", "re-indexed"),
                          ("replaced", "replaced"), ("duplicates_skipped", "duplicate ids skipped"),
                          ("repeated_same_text", "repeated with the same text")):
            if getattr(rep, key):
                parts.append(f"{getattr(rep, key)} {what}")
        print(f"imner index: {'; '.join(parts)} -> {args.db}", file=sys.stderr)
        for note in rep.notes:
            print(f"imner index: {note}", file=sys.stderr)
    return 0


def _kept_note(db: str) -> None:
    """After a failed run: what the index holds (every batch finished before the error is committed)."""
    from pathlib import Path

    if not Path(db).is_file():
        return
    try:
        from imner.cohort.store import connect

        con = connect(db, read_only=True)
        n = con.execute("SELECT count(*) FROM documents").fetchone()[0]
        con.close()
    except Exception:  # noqa: BLE001 - the note is a courtesy; the real error follows
        return
    print(f"imner index: {db} keeps its {n} indexed documents; fix the input and run again (they are skipped)",
          file=sys.stderr)


def run_cohort(args: argparse.Namespace) -> int:
    from imner.cohort import query
    from imner.cohort.search import format_result

    res = query(args.query, args.db, evidence=args.evidence, descendants=not args.no_descendants)
    if args.format != "json":
        for r in res.resolution:
            print(f"imner cohort: {r}", file=sys.stderr)
    _write(format_result(res, args.format, evidence=args.evidence), args.output)
    return 0


def run_monitor(args: argparse.Namespace) -> int:
    from imner.cohort.monitor import monitor, write_monitor

    table = monitor(args.db, args.query, by=args.by, date_field=args.date_field)
    write_monitor(table, args.output)
    for q in table.queries:
        print(f"imner monitor: {q.query!r}: {q.matched} documents, {q.undated} without a usable "
              f"{args.date_field!r} (counted apart, not plotted)", file=sys.stderr)
    print(f"imner monitor: {len(table.periods)} {args.by} periods -> {args.output}", file=sys.stderr)
    return 0


def run_summary(args: argparse.Namespace) -> int:
    import json

    from imner.cohort.summary import render_html, summarize

    s = summarize(args.db, args.doc_id)
    _write(render_html(s) if args.format == "html" else json.dumps(s, ensure_ascii=False, indent=1) + "\n",
           args.output)
    return 0


def run_export(args: argparse.Namespace) -> int:
    if args.target == "omop":
        from imner.cohort.omop import export_omop

        n = export_omop(args.db, args.output, query=args.query)
        print(f"imner export: {n} NOTE_NLP rows -> {args.output}", file=sys.stderr)
    else:
        from imner.cohort.fhir import export_fhir

        n = export_fhir(args.db, args.output, query=args.query)
        print(f"imner export: {n} FHIR Bundles -> {args.output}", file=sys.stderr)
    return 0
