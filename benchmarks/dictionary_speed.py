"""Size and load time of the packaged lexicon index, and speed of ``dictionary.v1`` on the MACCROBAT2020 texts.

Each measurement of loading runs in a **fresh Python process** (nothing cached): ``load`` is
:func:`imner.lexicon.load_lexicon` (read, decompress, parse, build the term table); ``compile`` is the first
use of a default :class:`~imner.taggers.dictionary.DictionaryTagger` (choosing each key's label, stop-list,
first-piece table). Tagging speed is measured in that process on all 200 MACCROBAT2020 texts, single-threaded
(one warm-up document first, not timed); tokens are :func:`imner.text.tokenize` tokens. CPU time is reported
next to wall-clock time because the benchmark machine may be shared.

Run: ``.venv/bin/python benchmarks/dictionary_speed.py [--repeats 3]`` (writes
benchmarks/results/dictionary_speed.{json,md}). Targets: load < 1 s; >= 20,000 tokens/s on one core.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import git_head as git_commit  # noqa: E402
from _meta import machine as _meta_machine  # noqa: E402

OUT = Path(__file__).parent / "results"
TARGET_LOAD_S = 1.0
TARGET_TOKENS_PER_S = 20_000


def worker() -> dict:
    """Runs in its own process."""
    t0, c0 = time.perf_counter(), time.process_time()
    from imner.lexicon import default_index_path, load_lexicon

    lex = load_lexicon()
    load_s, load_cpu = time.perf_counter() - t0, time.process_time() - c0

    from imner.config import data_path
    from imner.taggers.dictionary import DictionaryTagger
    from imner.text import tokenize
    from imner.types import Document

    t1, c1 = time.perf_counter(), time.process_time()
    tagger = DictionaryTagger()
    tagger._compile()
    compile_s, compile_cpu = time.perf_counter() - t1, time.process_time() - c1
    files = sorted(data_path("maccrobat", "MACCROBAT2020").glob("*.txt"))
    docs = [Document(f.stem, f.read_text(encoding="utf-8")) for f in files]
    n_tokens = sum(len(tokenize(d.text)) for d in docs)
    tagger.predict(docs[:1])
    t2, c2 = time.perf_counter(), time.process_time()
    preds = tagger.predict(docs)
    secs, cpu = time.perf_counter() - t2, time.process_time() - c2
    by_label: dict[str, int] = {}
    for spans in preds:
        for s in spans:
            by_label[s.label] = by_label.get(s.label, 0) + 1
    return {
        "index_bytes": default_index_path().stat().st_size, "concepts": len(lex),
        "terms": sum(1 for _ in lex.keys()), "load_s": load_s, "load_cpu_s": load_cpu,
        "compile_s": compile_s, "compile_cpu_s": compile_cpu, "docs": len(docs), "tokens": n_tokens,
        "seconds": secs, "cpu_seconds": cpu, "tokens_per_s": n_tokens / secs, "cpu_tokens_per_s": n_tokens / cpu,
        "spans": sum(by_label.values()), "spans_per_label": dict(sorted(by_label.items())),
    }


def machine() -> dict:
    return _meta_machine(loadavg_1min=os.getloadavg()[0])


def to_markdown(res: dict) -> str:
    s = res["summary"]
    runs = res["runs"]
    lines = [
        "# dictionary.v1: lexicon index size, load time and tagging speed", "",
        f"- date: {res['date']}",
        f"- machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs "
        f"(1-min load average at start: {res['machine']['loadavg_1min']:.1f}; the machine is shared)",
        f"- git commit: {res['git_commit']}", f"- command: `{res['command']}`",
        f"- {len(runs)} fresh processes; medians below", "",
        "| measure | value | target |", "|---|---|---|",
        f"| index size (`index.json.gz`) | {s['index_mb']:.2f} MB ({s['concepts']:,} concepts, {s['terms']:,} terms) "
        "| a few MB |",
        f"| lexicon load (fresh process) | {s['load_s']:.2f} s wall, {s['load_cpu_s']:.2f} s CPU | < {TARGET_LOAD_S} s |",
        f"| tagger compile (first use) | {s['compile_s']:.2f} s wall, {s['compile_cpu_s']:.2f} s CPU | |",
        f"| tagging, MACCROBAT2020 ({s['docs']} docs, {s['tokens']:,} tokens) | {s['tokens_per_s']:,.0f} tokens/s wall, "
        f"{s['cpu_tokens_per_s']:,.0f} tokens/s CPU | >= {TARGET_TOKENS_PER_S:,} tokens/s |", "",
        f"Spans per label (all 200 texts): "
        + ", ".join(f"{k} {v}" for k, v in runs[0]["spans_per_label"].items()), "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="fresh processes to run (default 3)")
    ap.add_argument("--no-write", action="store_true", help="print only; do not write results/")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker()))
        return 0
    mach = machine()
    runs = []
    for _ in range(args.repeats):
        out = subprocess.run([sys.executable, __file__, "--worker"], capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    med = {k: statistics.median(r[k] for r in runs) for k in
           ("load_s", "load_cpu_s", "compile_s", "compile_cpu_s", "tokens_per_s", "cpu_tokens_per_s")}
    first = runs[0]
    res = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": mach,
        "git_commit": git_commit(), "command": "python benchmarks/dictionary_speed.py " + " ".join(argv or sys.argv[1:]),
        "summary": {"index_mb": first["index_bytes"] / 1e6, "concepts": first["concepts"], "terms": first["terms"],
                    "docs": first["docs"], "tokens": first["tokens"], **med},
        "targets": {"load_s": TARGET_LOAD_S, "tokens_per_s": TARGET_TOKENS_PER_S},
        "runs": runs,
    }
    md = to_markdown(res)
    print(md)
    if not args.no_write:
        OUT.mkdir(exist_ok=True)
        (OUT / "dictionary_speed.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
        (OUT / "dictionary_speed.md").write_text(md + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
