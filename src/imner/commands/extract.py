"""``imner extract INPUT --output OUT``: the stable extraction contract.

INPUT: a ``.txt`` file, a folder of ``.txt`` files, a JSONL file with ``{"id", "text"}`` per line, or ``-`` for
standard input (``--input-format`` says which when it is ambiguous). OUT (JSONL by default; ``-`` for standard
output): one line per input document, in input order::

    {"id": ..., "entities": [{"start", "end", "label", "text", "score", ...attributes}], "patient": {...}}

Every entity has the same keys (see imner.records). Output goes to OUT.partial and is renamed onto OUT when the
run has finished: a failed or interrupted run leaves an earlier OUT untouched and keeps what it finished in
OUT.partial, which ``--resume`` continues. Exit status: 0 done, 1 bad input or options, 2 usage, 3 model or resource
missing or damaged, 4 data missing, 5 output cannot be written, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
import sys
import threading
import time
from typing import Callable, Iterable, Iterator

from imner.io import OUTPUT_FORMATS
from imner.io.inputs import INPUT_FORMATS, ON_DUPLICATE


def positive_int(value: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {n}")
    return n


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("extract", help="find entities in text files, folders, JSONL or stdin",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help=".txt file, folder of .txt files, .jsonl file with {id, text}, or - for stdin")
    p.add_argument("-o", "--output", default="-",
                   help="output file (jsonl, conll, html, pubtator) or folder (brat); - for stdout (default)")
    p.add_argument("-f", "--format", choices=OUTPUT_FORMATS, default="jsonl",
                   help="output format (default jsonl; html: a page with the entities highlighted)")
    p.add_argument("--input-format", choices=INPUT_FORMATS, default="auto",
                   help="how to read INPUT: auto (from the suffix; stdin starting with '{' must say), text, jsonl")
    p.add_argument("--on-duplicate", choices=ON_DUPLICATE, default="error",
                   help="two documents with the same id: error (default), rename the later ones <id>~2..., keep")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run into the same OUT (jsonl, brat): documents already written "
                        "are skipped, none repeated")
    p.add_argument("-m", "--model", default=None, help="model directory (default: the shipped default model)")
    p.add_argument("--no-assertion", action="store_true", help="skip negation/uncertainty/history/family")
    p.add_argument("--no-normalize", action="store_true", help="skip ontology codes")
    p.add_argument("--no-patient", action="store_true", help="skip the patient age/sex block")
    p.add_argument("--include-text", action="store_true", help="also write each document's text (jsonl)")
    p.add_argument("--batch-size", type=positive_int, default=16, help="documents per batch (default 16)")
    p.add_argument("-j", "--workers", type=positive_int, default=1,
                   help="processes to run the pipeline in (default 1); output stays in input order")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary line")
    p.add_argument("--timings", metavar="FILE", default=None,
                   help="write the seconds spent in each part (start-up, tagger, each step, reading and writing) "
                        "as JSON to FILE (- for stderr)")
    p.set_defaults(func=run)


def write_timings(dest: str, pipe, load_seconds: float, run_seconds: float, n_docs: int) -> None:
    """The ``--timings`` report: start-up (model and steps loaded), each part of the pipeline, and the rest of the
    run (reading input, writing output), in wall-clock seconds."""
    import json

    from imner.io.safe import write_text_safely

    parts = {name: round(sec, 4) for name, sec in pipe.timings.items()}
    report = {"documents": n_docs, "load_seconds": round(load_seconds, 4), "run_seconds": round(run_seconds, 4),
              "parts": parts, "io_seconds": round(max(0.0, run_seconds - sum(pipe.timings.values())), 4)}
    text = json.dumps(report, indent=1) + "\n"
    if dest == "-":
        sys.stderr.write(text)
    else:
        write_text_safely(dest, text)


class Progress:
    """A progress bar on standard error (documents, and words/s) when it is a terminal; nothing when piped."""

    def __init__(self, total: int | None, quiet: bool) -> None:
        self.words = 0
        self.t0 = time.perf_counter()
        self.bar = None
        if quiet or not _is_terminal(sys.stderr):  # tqdm is imported only for a bar that is shown
            return
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc="extract", unit="doc", file=sys.stderr, dynamic_ncols=True)

    def update(self, doc) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.words += len(doc.text.split())
            rate = self.words / max(1e-9, time.perf_counter() - self.t0)
            self.bar.set_postfix_str(f"{rate:,.0f} words/s", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _check_options(args: argparse.Namespace) -> None:
    from imner.errors import ConfigError

    if args.on_duplicate == "keep" and args.format == "brat":
        raise ConfigError("--on-duplicate keep cannot be used with --format brat: the later document would "
                          "overwrite the earlier one's files; use --on-duplicate rename")
    if args.on_duplicate == "keep" and args.resume:
        raise ConfigError("--resume needs unique ids: use --on-duplicate error or rename")
    if args.resume and args.output == "-":
        raise ConfigError("--resume continues an output file or folder: give --output")


def _counted(docs: Iterable, counts: list[int]) -> Iterator:
    for doc in docs:
        counts[0] += 1
        counts[1] += len(doc.spans)
        yield doc


def _one_blas_thread() -> None:
    """NumPy's OpenBLAS starts one thread per core when NumPy is imported (about 60 ms of a one-line run's start-up
    on a loaded 2-core machine); nothing ``imner extract`` runs calls BLAS (the network runs in onnxruntime's own
    threads, the CRF and the fuzzy matcher are element-wise NumPy), so the run asks for one thread. A value the user
    set is kept; the ``--workers`` processes inherit it."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@contextlib.contextmanager
def _start_up() -> Iterator[None]:
    """Start-up (loading the model and the steps) with Python's cyclic garbage collector off: it builds many objects
    that live as long as the run (modules, the model, rule tables), which the collector would otherwise scan again
    and again while they are built, for nothing (about a tenth of a one-line run's CPU time). Collection resumes
    for the documents, also when loading fails."""
    _one_blas_thread()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run(args: argparse.Namespace) -> int:
    with _start_up():
        from imner.errors import ImnerError, RunInterrupted
        from imner.io import DocumentWriter
        from imner.io.inputs import count_inputs, iter_inputs, plural
        from imner.io.safe import refuse_same_file, skip_done
        from imner.pipeline import load_pipeline

        _check_options(args)
        refuse_same_file([args.input], args.output)          # before anything is opened
        t_start = time.perf_counter()
        if args.workers != 1:
            from imner.parallel import ParallelPipeline

            pipe = ParallelPipeline(args.workers, args.model, assertion=not args.no_assertion,
                                    normalize=not args.no_normalize, patient=not args.no_patient)
        else:
            pipe = load_pipeline(args.model, assertion=not args.no_assertion, normalize=not args.no_normalize,
                                 patient=not args.no_patient)
    t_loaded = time.perf_counter()
    options = {"include_text": args.include_text} if args.format == "jsonl" else {}
    writer = DocumentWriter(args.format, args.output, resume=args.resume, title=f"imner: {args.input}", **options)
    total = count_inputs(args.input, args.input_format)
    counts = [0, 0]                                         # documents, entities written by this run
    progress: Progress | None = None
    try:
        writer.open()
        done = writer.done
        progress = Progress(None if total is None else max(0, total - len(done)), args.quiet)
        docs = skip_done(iter_inputs(args.input, input_format=args.input_format, on_duplicate=args.on_duplicate),
                         done, output=str(args.output))
        # one process: Ctrl-C stops between two documents (the --workers pool keeps Python's own handling)
        with _interrupt_between_documents(enabled=not hasattr(pipe, "close")) as stop_requested:
            for doc in _counted(pipe.stream(docs, args.batch_size), counts):
                writer.write(doc)
                progress.update(doc)
                stop_requested()
            stop_requested()
        writer.commit()
    except KeyboardInterrupt:
        raise RunInterrupted(f"interrupted: {_where(writer, counts[0], plural)}") from None
    except (ImnerError, OSError) as exc:
        if counts[0] or writer.done:
            exc.add_note(_where(writer, counts[0], plural))
        raise
    finally:
        if progress is not None:
            progress.close()
        writer.close()
        if hasattr(pipe, "close"):  # the --workers processes
            pipe.close()
    if args.timings:
        write_timings(args.timings, pipe, t_loaded - t_start, time.perf_counter() - t_loaded, counts[0])
    if not args.quiet:
        where = "stdout" if args.output == "-" else args.output
        resumed = f" (after {plural(len(writer.done), 'document')} already there)" if writer.done else ""
        print(f"imner extract: {plural(counts[0], 'document')}, {plural(counts[1], 'entity', 'entities')} -> "
              f"{where}{resumed}", file=sys.stderr)
    return 0


@contextlib.contextmanager
def _interrupt_between_documents(enabled: bool = True) -> Iterator[Callable[[], None]]:
    """Ctrl-C (SIGINT) stops the run at the next document boundary; a second Ctrl-C stops it at once.

    Python raises KeyboardInterrupt wherever the main thread is when the signal lands, which can be inside a
    finalizer, where it is printed and swallowed and the run goes on. Here the first signal only sets a flag, and
    the returned check raises KeyboardInterrupt between two written documents, so an interrupted run always stops,
    exits 130 and keeps whole records. Nothing changes where SIGINT is not Python's default handler (ignored, or
    handled by an embedding program) or outside the main thread.
    """
    pending: list[int] = []

    def check() -> None:
        if pending:
            raise KeyboardInterrupt

    if (not enabled or threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield check
        return

    def on_sigint(signum: int, frame) -> None:
        if pending:
            raise KeyboardInterrupt
        pending.append(signum)
        print("imner extract: stopping after the current document (Ctrl-C again to stop at once)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield check
    finally:
        signal.signal(signal.SIGINT, previous)


def _where(writer, n: int, plural) -> str:
    """What an unfinished run leaves, and how to go on."""
    kept = writer.kept
    if kept is None:
        return f"{plural(n, 'document')} written"
    before = f" (with {plural(len(writer.done), 'document')} from before)" if writer.done else ""
    how = ("rerun with --resume to continue" if writer.format.resumable
           else "rerun to write it again (--resume works for jsonl and brat)")
    return (f"{plural(n, 'document')} written to {kept}{before}; {writer.sink.target} is untouched; {how}")
