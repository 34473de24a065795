"""Counts of every named corpus (:func:`imner.corpora.stats.corpus_stats`): documents, tokens (imner's
tokenizer), entities per label per split, the source's own counts and the loader's notes.

Run: ``.venv/bin/python benchmarks/corpus_stats.py [NAME ...]`` (default: all registered corpora; writes
benchmarks/results/corpus_stats.{json,md}).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

from imner.commands.corpus import format_stats
from imner.config import data_dir
from imner.corpora import list_corpora
from imner.corpora.stats import corpus_stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import git_head, machine  # noqa: E402

OUT = Path(__file__).parent / "results"


def main(names: list[str]) -> int:
    names = names or [c.name for c in list_corpora()]
    t0 = time.perf_counter()
    stats = {name: corpus_stats(name) for name in names}
    res = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(), "git_commit": git_head(),
        "command": " ".join([".venv/bin/python", "benchmarks/corpus_stats.py", *sys.argv[1:]]),
        "data_dir": str(data_dir()),
        "seconds": round(time.perf_counter() - t0, 2),
        "corpora": stats,
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "corpus_stats.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    md = ["# Corpus statistics", "", f"- date: {res['date']}",
          f"- machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs",
          f"- git commit: {res['git_commit']}", f"- command: `{res['command']}`",
          "- tokens: `imner.text.tokenize`; \"source's own counts\" are the source's IOB version or file rows", ""]
    for name in names:
        md += [f"## {name}", "", "```", format_stats(stats[name]), "```", ""]
    (OUT / "corpus_stats.md").write_text("\n".join(md), encoding="utf-8")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
