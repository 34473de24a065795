"""BiLSTM-CNN-CRF (bilstm.v1) on NCBI-disease: train on train, pick the epoch on dev, score dev and test.

Runs ``configs/bilstm-ncbi.toml`` through :func:`imner.training.train_from_config` (the code behind
``imner train``) with the test split added, into a temporary model directory, on one thread. Needs the
embeddings from ``benchmarks/train_embeddings.py`` (or ``--no-embeddings``). Records the per-epoch loss,
dev strict F1 and training tokens/s, the chosen epoch, train wall and CPU time, prediction tokens/s and
the :func:`imner.evaluate.evaluate` scores with their 95% bootstrap intervals.

Run: ``.venv/bin/python benchmarks/bilstm_ncbi.py [--epochs N] [--no-embeddings] [--name bilstm_ncbi]``
(writes benchmarks/results/<name>.{json,md}; about 10-15 minutes of one core).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from importlib.metadata import version  # noqa: E402
from pathlib import Path  # noqa: E402

from imner.text import tokenize  # noqa: E402
from imner.training import Source, load_train_config, train_from_config  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import git_head, machine, split_results, split_table, uncommitted_files  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).parent / "results"
CONFIG = ROOT / "configs" / "bilstm-ncbi.toml"


def git_commit() -> tuple[str, list[str]]:
    return git_head(), uncommitted_files("src/imner/taggers/bilstm", "src/imner/taggers/_neural.py",
                                         "src/imner/embeddings.py",
                                         "configs/bilstm-ncbi.toml", "benchmarks/bilstm_ncbi.py")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, help="override epochs of the config")
    ap.add_argument("--no-embeddings", action="store_true", help="word vectors learnt from scratch")
    ap.add_argument("--name", default="bilstm_ncbi", help="results file name (default bilstm_ncbi)")
    ap.add_argument("--limit", type=int, help="first N documents of each split only (smoke runs)")
    args = ap.parse_args()

    cfg = load_train_config(CONFIG)
    params = {**cfg.params, "progress": False}
    if args.epochs:
        params["epochs"] = args.epochs
    if args.no_embeddings:
        params["embeddings"] = None
    elif params.get("embeddings") and not Path(params["embeddings"]).is_absolute():
        params["embeddings"] = str(ROOT / params["embeddings"])
    sources = {**cfg.sources, "test": (Source("ncbi-disease", "test"),)}
    if args.limit:
        sources = {role: tuple(dataclasses.replace(s, limit=args.limit) for s in srcs) for role, srcs in sources.items()}
    cfg = dataclasses.replace(cfg, params=params, sources=sources)

    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="imner-bench-bilstm-") as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        summary = train_from_config(cfg, output=Path(tmp) / "model", progress=lambda m: print(m, file=sys.stderr))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        model_bytes = sum(p.stat().st_size for p in (Path(tmp) / "model").rglob("*") if p.is_file())
    load_after = os.getloadavg()

    from imner import corpora

    n_tokens = {role: sum(len(tokenize(d.text)) for d in corpora.load("ncbi-disease", role)[:args.limit])
                for role in ("dev", "test")}
    commit, uncommitted = git_commit()
    stats = summary["training"]["tagger_stats"]
    history = stats.get("history") or []
    res = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(load_average_before_after=[round(load_before[0], 2), round(load_after[0], 2)]),
        "git_commit": commit, "uncommitted_files": uncommitted,
        "command": " ".join([Path(sys.executable).name] + sys.argv),
        "torch": version("torch"), "config": str(CONFIG.relative_to(ROOT)),
        "params": {k: (os.path.relpath(v, ROOT) if k == "embeddings" and v else v) for k, v in params.items()},
        "label_map": dict(cfg.label_map),
        "train": {k: stats.get(k) for k in ("documents", "sentences", "tokens", "spans", "spans_widened_to_tokens",
                                            "spans_not_encoded_overlap", "spans_crossing_sentences", "vocabulary",
                                            "pretrained_words", "training_words_added", "training_token_coverage",
                                            "epochs_run", "best_epoch")},
        "embeddings": stats.get("embeddings_manifest"),
        "history": history,
        "train_wall_seconds": summary["training"]["train_seconds"],
        "total_wall_seconds": round(wall, 1), "total_cpu_seconds": round(cpu, 1),
        "model_bytes": model_bytes,
    }
    res.update(split_results(summary, n_tokens))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{args.name}.json").write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")

    tr = res["train"]
    emb = res["embeddings"] or {}
    md = ["# BiLSTM-CNN-CRF (bilstm.v1) on NCBI-disease", "",
          f"- date: {res['date']}",
          f"- machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs shared with other jobs "
          f"(load average {load_before[0]:.1f} before, {load_after[0]:.1f} after), one torch thread, "
          f"python {res['machine']['python']}, torch {res['torch']}",
          f"- git commit: {commit}" + (f" (uncommitted: {', '.join(uncommitted)})" if uncommitted else ""),
          f"- command: `{res['command']}`",
          f"- config: `{res['config']}`, params {json.dumps(res['params'])}; the four NCBI types collapsed to Disease",
          f"- embeddings: " + (f"{emb.get('algorithm')}, dim {emb.get('dim')}, {emb.get('vocabulary'):,} words, "
                               f"trained on {emb.get('corpus_tokens'):,} tokens without any test split "
                               f"(benchmarks/results/train_embeddings.md); they cover "
                               f"{tr['training_token_coverage']:.1%} of the training tokens"
                               if emb else "none (learnt from scratch)"),
          f"- train: {tr['documents']} documents, {tr['sentences']} sentences, {tr['tokens']} tokens, {tr['spans']} "
          f"spans ({tr['spans_widened_to_tokens'] or 0} widened to token edges, {tr['spans_not_encoded_overlap'] or 0} "
          f"not encodable, {tr['spans_crossing_sentences'] or 0} crossing a sentence boundary)",
          f"- {tr['epochs_run']} epochs run, **epoch {tr['best_epoch']} chosen on dev**; training incl. per-epoch dev "
          f"scoring {res['train_wall_seconds']:.0f} s wall; whole run {res['total_wall_seconds']:.0f} s wall, "
          f"{res['total_cpu_seconds']:.0f} s CPU; model {model_bytes / 1e6:.1f} MB", "",
          "| epoch | loss | dev strict F1 | train tokens/s | epoch seconds |", "|---|---|---|---|---|"]
    for e in history:
        md.append(f"| {e['epoch']}{' (chosen)' if e.get('best') else ''} | {e['loss']:.3f} | "
                  f"{e['dev']['f1']:.4f} | {e['train_tokens_per_second']:,} | {e['train_seconds']:.0f} |")
    md += ["", *split_table(res)]
    md += ["", "Strict = same boundaries and label (imner.evaluate, one-to-one matching on character spans). "
           "Dev is used to choose the epoch, so its score is optimistic; test is scored once. Tokens/s count "
           "imner.text tokens (predict: sentence split, encoding, BiLSTM, Viterbi and marginals, batch 64, one "
           "thread); wall times are inflated by other jobs on the shared CPUs."]
    (OUT / f"{args.name}.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
