"""``imner extract INPUT --output OUT``: the stable extraction contract.

INPUT: a ``.txt`` file, a folder of ``.txt`` files, a JSONL file with ``{"id", "text"}`` per line, or
``-`` for standard input. OUT (JSONL by default; ``-`` for standard output): one line per input
document, in input order::

    {"id": ..., "entities": [{"start", "end", "label", "text", "score", ...attributes}], "patient": {...}}

Results are written as each batch completes, so an interrupted run keeps the documents already done.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

OUTPUT_FORMATS = ("jsonl", "brat", "conll", "html")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("extract", help="find entities in text files, folders, JSONL or stdin",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help=".txt file, folder of .txt files, .jsonl file with {id, text}, or - for stdin")
    p.add_argument("-o", "--output", default="-",
                   help="output file (jsonl, conll) or folder (brat); - for stdout (default)")
    p.add_argument("-f", "--format", choices=OUTPUT_FORMATS, default="jsonl",
                   help="output format (default jsonl; html: a page with the entities highlighted)")
    p.add_argument("-m", "--model", default=None, help="model directory (default: the shipped default model)")
    p.add_argument("--no-assertion", action="store_true", help="skip negation/uncertainty/history/family")
    p.add_argument("--no-normalize", action="store_true", help="skip ontology codes")
    p.add_argument("--no-patient", action="store_true", help="skip the patient age/sex block")
    p.add_argument("--include-text", action="store_true", help="also write each document's text (jsonl)")
    p.add_argument("--batch-size", type=int, default=16, help="documents per batch (default 16)")
    p.add_argument("-j", "--workers", type=int, default=1,
                   help="processes to run the pipeline in (default 1); output stays in input order")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--timings", metavar="FILE", default=None,
                   help="write the seconds spent in each part (start-up, tagger, each step, reading and writing) "
                        "as JSON to FILE (- for stderr)")
    p.set_defaults(func=run)


def document_record(doc, include_text: bool = False) -> dict:
    """The JSONL record of one extracted document (the output contract)."""
    rec: dict = {"id": doc.id}
    if include_text:
        rec["text"] = doc.text
    rec["entities"] = [s.to_dict(doc.text) for s in doc.spans]
    if "patient" in doc.meta:
        rec["patient"] = doc.meta["patient"]
    return rec


def patient_spans(doc) -> list:
    """The patient block as brat-friendly spans: ``Age`` / ``Sex`` over their evidence (MACCROBAT's own types),
    the values in a note, so a brat viewer shows them in the text."""
    from imner.types import Span

    patient = doc.meta.get("patient") or {}
    out = []
    for key, label, value in (("age_evidence", "Age", f"age {patient.get('age')} years, {patient.get('age_group')}"),
                              ("sex_evidence", "Sex", f"sex {patient.get('sex')}")):
        ev = patient.get(key)
        if ev and not any(s.start == ev["start"] and s.end == ev["end"] for s in out):
            out.append(Span(ev["start"], ev["end"], label, attrs={"note": f"patient: {value}"}))
    return out


def write_timings(dest: str, pipe, load_seconds: float, run_seconds: float, n_docs: int) -> None:
    """The ``--timings`` report: start-up (model and steps loaded), each part of the pipeline, and the rest of the
    run (reading input, writing output), in wall-clock seconds."""
    import json

    parts = {name: round(sec, 4) for name, sec in pipe.timings.items()}
    report = {"documents": n_docs, "load_seconds": round(load_seconds, 4), "run_seconds": round(run_seconds, 4),
              "parts": parts, "io_seconds": round(max(0.0, run_seconds - sum(pipe.timings.values())), 4)}
    text = json.dumps(report, indent=1) + "\n"
    if dest == "-":
        sys.stderr.write(text)
    else:
        Path(dest).write_text(text, encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    import json
    import time

    from tqdm import tqdm

    from imner.io.inputs import iter_inputs
    from imner.pipeline import load_pipeline

    t_start = time.perf_counter()
    if args.workers != 1:
        from imner.parallel import ParallelPipeline

        pipe = ParallelPipeline(args.workers, args.model, assertion=not args.no_assertion,
                                normalize=not args.no_normalize, patient=not args.no_patient)
    else:
        pipe = load_pipeline(args.model, assertion=not args.no_assertion, normalize=not args.no_normalize,
                             patient=not args.no_patient)
    t_loaded = time.perf_counter()
    docs = iter_inputs(args.input)
    progress = tqdm(desc="extract", unit="doc", file=sys.stderr, disable=args.quiet or None,
                    dynamic_ncols=True)
    n_docs = n_ents = 0
    with ExitStack() as stack:
        if hasattr(pipe, "close"):
            stack.callback(pipe.close)
        if args.format == "brat":
            from imner.io.brat import write_brat

            if args.output == "-":
                raise SystemExit("imner extract: --format brat writes a folder; give --output DIR")
            out_dir = Path(args.output)
            out_dir.mkdir(parents=True, exist_ok=True)
            for doc in pipe.stream(docs, args.batch_size):
                write_brat([doc.with_spans(list(doc.spans) + patient_spans(doc))], out_dir)
                n_docs, n_ents = n_docs + 1, n_ents + len(doc.spans)
                progress.update(1)
        else:
            out = sys.stdout if args.output == "-" else stack.enter_context(
                open(args.output, "w", encoding="utf-8", newline="\n"))
            if args.format == "html":
                from imner.io.html import write_html

                def counted(stream):
                    nonlocal n_docs, n_ents
                    for doc in stream:
                        n_docs, n_ents = n_docs + 1, n_ents + len(doc.spans)
                        progress.update(1)
                        yield doc

                write_html(counted(pipe.stream(docs, args.batch_size)), out, title=f"imner: {args.input}")
            for doc in ([] if args.format == "html" else pipe.stream(docs, args.batch_size)):
                if args.format == "jsonl":
                    out.write(json.dumps(document_record(doc, args.include_text), ensure_ascii=False) + "\n")
                else:
                    from imner.io.conll import write_conll

                    write_conll([doc], out)
                out.flush()
                n_docs, n_ents = n_docs + 1, n_ents + len(doc.spans)
                progress.update(1)
    progress.close()
    if args.timings:
        write_timings(args.timings, pipe, t_loaded - t_start, time.perf_counter() - t_loaded, n_docs)
    if not args.quiet:
        where = "stdout" if args.output == "-" else args.output
        print(f"imner extract: {n_docs} documents, {n_ents} entities -> {where}", file=sys.stderr)
    return 0
