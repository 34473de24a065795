"""CRF (crf.v1) on NCBI-disease: train on train, score dev and test (strict micro-F1 etc.), time it.

Runs ``configs/crf-ncbi.toml`` through :func:`imner.training.train_from_config` (the code behind
``imner train``) with the test split added, into a temporary model directory. Records train time (incl.
featurization), training tokens/s, prediction tokens/s (featurize + tag + decode, single process) and the
:func:`imner.evaluate.evaluate` scores with their 95% bootstrap intervals.

Run: ``.venv/bin/python benchmarks/crf_ncbi.py [--lexicon] [--split-compounds] [--name crf_ncbi]``
(writes benchmarks/results/<name>.{json,md}; about 30 s on one core).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from imner.text import tokenize
from imner.training import Source, load_train_config, train_from_config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import git_head, machine, split_results, split_table, uncommitted_files  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).parent / "results"
CONFIG = ROOT / "configs" / "crf-ncbi.toml"


def git_commit() -> tuple[str, list[str]]:
    """HEAD, and the files under src/, configs/ and this script that differ from it (untracked included)."""
    return git_head(), uncommitted_files("src", "configs", "benchmarks/crf_ncbi.py")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lexicon", action="store_true", help="lexicon_features = true (dictionary tagger)")
    ap.add_argument("--split-compounds", action="store_true", help="split_compounds = true")
    ap.add_argument("--name", default="crf_ncbi", help="results file name (default crf_ncbi)")
    args = ap.parse_args()

    cfg = load_train_config(CONFIG)
    params = dict(cfg.params)
    if args.lexicon:
        params["lexicon_features"] = True
    if args.split_compounds:
        params["split_compounds"] = True
    sources = {**cfg.sources, "test": (Source("ncbi-disease", "test"),)}
    cfg = dataclasses.replace(cfg, params=params, sources=sources)

    with tempfile.TemporaryDirectory(prefix="imner-bench-crf-") as tmp:
        load_before = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        summary = train_from_config(cfg, output=Path(tmp) / "model", progress=lambda m: print(m, file=sys.stderr))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        model_bytes = sum(p.stat().st_size for p in (Path(tmp) / "model").rglob("*") if p.is_file())

    from imner import corpora

    n_tokens = {role: sum(len(tokenize(d.text)) for d in corpora.load("ncbi-disease", role))
                for role in ("dev", "test")}
    commit, uncommitted = git_commit()
    stats = summary["training"]["tagger_stats"]
    train_s = summary["training"]["train_seconds"]
    res = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "git_commit": commit,
        "uncommitted_files": uncommitted,
        "command": " ".join([Path(sys.executable).name] + sys.argv),
        "python_crfsuite": version("python-crfsuite"),
        "config": str(CONFIG.relative_to(ROOT)), "params": params, "label_map": dict(cfg.label_map),
        "train": {"documents": stats["documents"], "sentences": stats["sentences"], "tokens": stats["tokens"],
                  "spans": stats["spans"], "realigned_spans": stats["realigned_spans"],
                  "not_encoded_spans": stats["not_encoded_spans"],
                  "cross_sentence_spans": stats["cross_sentence_spans"], "iterations": stats["iterations"],
                  "seconds": train_s, "featurize_seconds": stats["featurize_seconds"],
                  "crfsuite_seconds": stats["train_seconds"],
                  "tokens_per_second": round(stats["tokens"] / train_s)},
        "model_bytes": model_bytes,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "load_average_1min_before": round(load_before, 2),
    }
    res.update(split_results(summary, n_tokens))

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{args.name}.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    tr = res["train"]
    md = [f"# CRF (crf.v1) on NCBI-disease{' + lexicon features' if args.lexicon else ''}", "",
          f"- date: {res['date']}",
          f"- machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs (shared), "
          f"python {res['machine']['python']}, python-crfsuite {res['python_crfsuite']}",
          f"- git commit: {commit}" + (f" (with {len(uncommitted)} uncommitted files under src/, configs/ or this "
                                        "script: see the JSON)" if uncommitted else ""),
          f"- command: `{res['command']}`",
          f"- config: `{res['config']}` with params {json.dumps(params)}; the four NCBI types collapsed to Disease",
          f"- train: {tr['documents']} documents, {tr['sentences']} sentences, {tr['tokens']} tokens, "
          f"{tr['spans']} spans ({tr['realigned_spans']} widened to token edges, {tr['not_encoded_spans']} not "
          f"encodable, {tr['cross_sentence_spans']} crossing a sentence boundary); {tr['iterations']} L-BFGS "
          "iterations",
          f"- train time {tr['seconds']:.1f} s (featurize {tr['featurize_seconds']:.1f} s + CRFsuite "
          f"{tr['crfsuite_seconds']:.1f} s), {tr['tokens_per_second']:,} tokens/s; model {model_bytes / 1e6:.1f} MB",
          f"- times are wall clock on a shared machine (1-min load average {load_before:.1f} before the run); the "
          f"whole run (data loading, training, dev and test prediction and scoring) took {wall:.1f} s wall, "
          f"{cpu:.1f} s CPU",
          "", *split_table(res)]
    md += ["", "Strict = same boundaries and label (imner.evaluate, one-to-one matching on character spans). "
           "Predict tokens/s counts imner.text tokens over featurize + CRF tagging + decoding, one process."]
    (OUT / f"{args.name}.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
