"""Profile the assertion step and dump its outputs, for speed work that must not change a single attribute.

``python benchmarks/assertion_profile.py dump FILE``
    writes every attr of every span of every set ``benchmarks/assertion.py`` scores (MACCROBAT in its three
    span settings, Chia, the written sentences), once as the benchmark runs the annotator and once with
    ``evidence=True`` (the cues that reached each span), plus each MACCROBAT document's sections and cues.
    Diff two dumps (``cmp A B``) to check that a change left the outputs as they were.
``python benchmarks/assertion_profile.py profile [--top N] [--sort cumulative|tottime]``
    cProfile of the assertion step as the benchmark times it (MACCROBAT, mapped setting, tokens and sentences
    made beforehand), printed to standard output.
``python benchmarks/assertion_profile.py time``
    CPU seconds of that step (best of 3) and of building a :class:`ContextAnnotator` (nothing written).
``python benchmarks/assertion_profile.py startup``
    in a fresh interpreter: regular expressions compiled while ``imner.context`` is imported, while a
    :class:`ContextAnnotator` is built and while it asserts its first one-line document, and the CPU time of
    the last two (run it with ``PYTHONPATH`` on another checkout's ``src`` to compare).
``imner build context-index`` (also ``python benchmarks/assertion_profile.py index``)
    rewrites ``src/imner/resources/context_rules.index.json`` (what the matcher works out from the packaged rules
    at start-up, worked out beforehand; ``tests/test_context.py`` fails when it is stale).
``python benchmarks/assertion_profile.py ratio``
    the speed part of ``benchmarks/assertion.py`` alone (its own function, medspaCy beside imner), printed.

Nothing here writes ``benchmarks/results/``: the figures that count come from ``benchmarks/assertion.py``.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import pstats
import sys
import time
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
import assertion as bench  # noqa: E402

from imner.config import data_path  # noqa: E402
from imner.context import ContextAnnotator  # noqa: E402
from imner.io.brat import read_brat  # noqa: E402
from imner.text import sentences_with_tokens  # noqa: E402
from imner.types import Document  # noqa: E402


def _annotators(docs: list[Document], setting: str, **kw: Any) -> ContextAnnotator:
    if setting == "mapped":
        return ContextAnnotator(**kw)
    if setting == "all_types":
        return ContextAnnotator(**kw, label_map=bench.MAPPED,
                                skip_labels={s.label for d in docs for s in d.spans} - bench.TARGET_TYPES)
    return ContextAnnotator(**kw, label_map=bench.MAPPED, skip_labels=())


def _span_lines(tag: str, doc: Document) -> Iterator[str]:
    for k, s in enumerate(doc.spans):
        yield f"{tag}\t{doc.id}\t{k}\t{s.start}\t{s.end}\t{s.label}\t" + json.dumps(s.attrs, sort_keys=True,
                                                                                      default=repr)


def dump_lines() -> Iterator[str]:
    docs = list(read_brat(data_path("maccrobat", "MACCROBAT2020")))
    chia = [d for d, _ in bench.read_chia(data_path("chia", "chia_with_scope.zip"))]
    parts = {"tune": bench.read_sentences(bench.SENTENCES / "tune.txt"),
             "heldout": bench.read_sentences(bench.SENTENCES / "heldout.txt")}
    for evidence in (False, True):
        for setting in ("mapped", "all_types", "all_types_every_span"):
            ann = _annotators(docs, setting, evidence=evidence)
            for doc, _, _ in bench.prepare_maccrobat(docs, setting):
                yield from _span_lines(f"maccrobat/{setting}/ev={evidence}", ann(doc))
        ann = ContextAnnotator(evidence=evidence)
        for doc in chia:
            yield from _span_lines(f"chia/ev={evidence}", ann(doc))
        for sub, part in parts.items():
            for doc, _ in part:
                yield from _span_lines(f"sentences/{sub}/ev={evidence}", ann(doc))
    ann = ContextAnnotator()
    for doc in docs:
        for sec in ann.sections(doc.text):
            yield f"section\t{doc.id}\t{sec.name}\t{sec.start}\t{sec.header_end}\t{sec.end}"
        for c in ann.cues(doc.text):
            r = c.rule
            yield (f"cue\t{doc.id}\t{c.start}\t{c.end}\t{r.literal}\t{r.direction}\t{r.category}\t"
                   f"{r.max_scope}\t{sorted(r.allowed_types or ())}\t{sorted(r.excluded_types or ())}\t{r.within_entity}")


def _step_docs() -> tuple[ContextAnnotator, list[list[Document]]]:
    docs = list(read_brat(data_path("maccrobat", "MACCROBAT2020")))
    docs = [d.with_spans(s.evolve(label=bench.MAPPED[s.label]) for s in d.spans if s.label in bench.MAPPED)
            for d in docs]
    return ContextAnnotator(), bench.step_chunks(docs)


def _run_step(ann: ContextAnnotator, chunks: list[list[Document]], prof: cProfile.Profile | None = None) -> float:
    total = 0.0
    for chunk in chunks:
        for d in chunk:
            sentences_with_tokens(d.text)
        if prof is not None:
            prof.enable()
        c0 = time.process_time()
        ann.annotate(chunk)
        total += time.process_time() - c0
        if prof is not None:
            prof.disable()
    return total


_STARTUP = r"""
import re._compiler as C, sys, time
import json, imner.text, imner.types, imner.config
orig, counts = C.compile, {}
def counted(p, flags=0):
    f = sys._getframe(1)
    while f is not None and not f.f_globals.get("__name__", "").startswith("imner"):
        f = f.f_back
    where = f.f_globals["__name__"] if f is not None else "other"
    counts[where] = counts.get(where, 0) + 1
    return orig(p, flags)
C.compile = counted
import imner.context
print("compiled on import:", dict(counts)); counts.clear()
from imner.types import Document, Span
t0 = time.process_time()
ann = imner.context.ContextAnnotator()
t1 = time.process_time()
print("compiled building the annotator:", dict(counts)); counts.clear()
text = "A 34-year-old woman with systemic lupus erythematosus had no fever."
ann(Document("d", text, [Span(25, 53, "IMMUNE_DISEASE"), Span(61, 66, "SIGN_SYMPTOM")]))
t2 = time.process_time()
print("compiled asserting the first document:", dict(counts))
print(f"CPU: building {1000 * (t1 - t0):.1f} ms, first document {1000 * (t2 - t1):.1f} ms, "
      f"together {1000 * (t2 - t0):.1f} ms")
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump", help="write every span's attrs to FILE")
    d.add_argument("file", type=Path)
    p = sub.add_parser("profile", help="cProfile of the assertion step")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--sort", default="tottime", choices=("tottime", "cumulative"))
    sub.add_parser("time", help="CPU seconds of the step and of the annotator's construction")
    sub.add_parser("startup", help="regex compiles and CPU time from import to the first asserted document")
    sub.add_parser("index", help="rewrite the packaged matcher index from the packaged rules")
    sub.add_parser("ratio", help="the benchmark's speed comparison with medspaCy ConText, printed")
    args = ap.parse_args(argv)
    if args.cmd == "dump":
        h = hashlib.sha256()
        n = 0
        with args.file.open("w", encoding="utf-8") as f:
            for line in dump_lines():
                f.write(line + "\n")
                h.update(line.encode() + b"\n")
                n += 1
        print(f"{n} lines, sha256 {h.hexdigest()}")
    elif args.cmd == "profile":
        ann, chunks = _step_docs()
        _run_step(ann, chunks)  # warm (first-use compiles are not the step)
        prof = cProfile.Profile(builtins=False)
        _run_step(ann, chunks, prof)
        pstats.Stats(prof).sort_stats(args.sort).print_stats(args.top)
    elif args.cmd == "startup":
        import subprocess
        return subprocess.call([sys.executable, "-c", _STARTUP])
    elif args.cmd == "index":
        from imner.context.lead import main as write_index
        return write_index()
    elif args.cmd == "ratio":
        docs = list(read_brat(data_path("maccrobat", "MACCROBAT2020")))
        print(json.dumps(bench.speed(docs, bench.MedspacyContext()), indent=1))
    else:
        c0 = time.process_time()
        ContextAnnotator()
        build = time.process_time() - c0
        ann, chunks = _step_docs()
        best = min(_run_step(ann, chunks) for _ in range(3))
        print(f"annotator construction {build:.3f} s CPU; assertion step best of 3: {best:.3f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
