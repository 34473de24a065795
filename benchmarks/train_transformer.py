"""Training time of ``transformer.v1`` (estimate), or the full training run with ONNX export and evaluation.

``--estimate`` (default, a few minutes): loads the training data of a config (default
``configs/transformer-imd.toml``), encodes it into windows, times ``--steps`` optimizer steps and
extrapolates one epoch; also times torch prediction on a few dev documents. Writes
benchmarks/results/train_transformer_estimate.{json,md}.

``--full`` (hours on 2 CPU threads): ``imner train`` with that config (model to the config's output dir),
then :func:`imner.taggers.transformer.export.export_onnx` (int8) beside it, and strict micro F1 of the torch model and
of the int8 ONNX model on dev and test (the shipped default must not lose much to quantization). Writes
benchmarks/results/train_transformer.{json,md}.

Run: ``.venv/bin/python benchmarks/train_transformer.py [--config configs/transformer-imd.toml]
[--estimate --steps 6 | --full]``. Needs the ``train`` extra and the corpora under ``$IMNER_DATA``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import git_head, machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).parent / "results"


def _header(command: str) -> dict:
    import torch

    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(load_average_at_start=os.getloadavg()), "git_commit": git_head(),
        "command": command, "torch": torch.__version__,
    }


def estimate(config: Path, steps: int, dev_docs: int) -> dict:
    from imner.taggers.base import create
    from imner.training import load_role, load_train_config

    cfg = load_train_config(config)
    manifest: dict = {"label_map": dict(cfg.label_map), "keep_labels": cfg.keep_labels}
    train = load_role(cfg, "train", manifest, lambda m: None)
    dev = load_role(cfg, "dev", manifest, lambda m: None) if "dev" in cfg.sources else []
    params = {**cfg.params, "epochs": 1, "max_steps": steps, "progress": False}
    tagger = create(cfg.tagger, **params)
    t0 = time.perf_counter()
    tagger.fit(train)
    total_s = time.perf_counter() - t0
    st = tagger.training_stats
    h = tagger.history[0]
    per_step, per_step_cpu = h["train_seconds"] / st["steps"], h["train_cpu_seconds"] / st["steps"]
    sample = dev[:dev_docs]
    t1 = time.perf_counter()
    tagger.predict(sample)
    pred_s = time.perf_counter() - t1
    from imner.text import tokenize

    dev_tokens_sample = sum(len(tokenize(d.text)) for d in sample)
    dev_tokens = sum(len(tokenize(d.text)) for d in dev)
    dev_s = pred_s * dev_tokens / max(dev_tokens_sample, 1)
    epoch_s = per_step * st["steps_per_epoch"]
    return {
        "config": str(config), "params": dict(cfg.params),
        "train_documents": st["documents"], "train_words": st["words"], "train_subwords": st["subwords"],
        "train_windows": st["windows"], "partial_docs": st.get("partial_docs", 0),
        "silver_spans": st.get("silver_spans", 0), "spans": st["spans"],
        "spans_widened_to_words": st.get("spans_widened_to_words", 0),
        "spans_not_encoded_overlap": st.get("spans_not_encoded_overlap", 0),
        "steps_timed": st["steps"], "steps_per_epoch": st["steps_per_epoch"],
        "seconds_per_step": round(per_step, 2), "cpu_seconds_per_step": round(per_step_cpu, 2),
        "encode_seconds": st["encode_seconds"], "fit_call_seconds": round(total_s, 1),
        "dev_documents": len(dev), "dev_tokens": dev_tokens,
        "dev_predict_tokens_per_s": round(dev_tokens_sample / pred_s) if pred_s else None,
        "estimated_epoch_minutes": round(epoch_s / 60, 1),
        "estimated_epoch_minutes_from_cpu_time": round(per_step_cpu / params.get("threads", 2)
                                                       * st["steps_per_epoch"] / 60, 1),
        "estimated_dev_eval_minutes": round(dev_s / 60, 1),
        "estimated_total_minutes": round((epoch_s + dev_s) * cfg.params.get("epochs", 3)
                                         / 60, 1),
    }


def full(config: Path) -> dict:
    from imner.evaluate import evaluate
    from imner.taggers.base import load_tagger
    from imner.taggers.transformer.export import export_onnx
    from imner.training import load_role, load_train_config, train_from_config

    cfg = load_train_config(config)
    summary = train_from_config(cfg, overwrite=True, progress=lambda m: print(m, file=sys.stderr, flush=True))
    model_dir = Path(summary["output"])
    onnx_dir = model_dir.with_name(model_dir.name + "-onnx")
    t = time.perf_counter()
    export_onnx(model_dir, onnx_dir, quantize=True)
    export_s = time.perf_counter() - t
    torch_tagger, onnx_tagger = load_tagger(model_dir), load_tagger(onnx_dir)
    manifest: dict = {"label_map": dict(cfg.label_map), "keep_labels": cfg.keep_labels}
    scores: dict = {}
    for role in ("dev", "test"):
        if role not in cfg.sources:
            continue
        gold = load_role(cfg, role, manifest, lambda m: None)
        for name, tagger in (("torch", torch_tagger), ("onnx_int8", onnx_tagger)):
            t = time.perf_counter()
            pred = tagger.annotate(gold)
            secs = time.perf_counter() - t
            rep = evaluate(gold, pred, bootstrap=1000)
            scores[f"{role}/{name}"] = {**rep.micro["strict"].to_dict(), "macro_f1": rep.macro["strict"].f1,
                                        "ci95": rep.ci95["strict"], "seconds": round(secs, 1),
                                        "per_label_f1": {k: v.f1 for k, v in rep.per_label["strict"].items()}}
    return {"config": str(config), "model_dir": str(model_dir), "onnx_dir": str(onnx_dir),
            "training": summary["training"], "export_seconds": round(export_s, 1), "scores": scores}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", type=Path, default=ROOT / "configs" / "transformer-imd.toml")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--estimate", action="store_true", help="time a few steps and extrapolate (default)")
    mode.add_argument("--full", action="store_true", help="train, export, evaluate (long)")
    ap.add_argument("--steps", type=int, default=6, help="--estimate: optimizer steps to time")
    ap.add_argument("--dev-docs", type=int, default=3, help="--estimate: dev documents to time prediction on")
    args = ap.parse_args()
    res = _header(" ".join([Path(sys.executable).name] + sys.argv))
    OUT.mkdir(parents=True, exist_ok=True)
    if args.full:
        res.update(full(args.config))
        (OUT / "train_transformer.json").write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")
        md = ["# transformer.v1: full training run", "", f"- date: {res['date']}",
              f"- machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs",
              f"- git commit: {res['git_commit']}", f"- command: `{res['command']}`",
              f"- config: {res['config']}; trained in {res['training']['train_seconds'] / 60:.1f} min; "
              f"ONNX export + int8 in {res['export_seconds']} s", "",
              "| split / runtime | P | R | F1 (strict micro) | 95% CI | macro F1 | seconds |", "|---|---|---|---|---|---|---|"]
        for k, v in res["scores"].items():
            ci = v["ci95"]
            md.append(f"| {k} | {v['precision']:.4f} | {v['recall']:.4f} | {v['f1']:.4f} | "
                      f"{'-' if ci is None else f'{ci[0]:.3f}-{ci[1]:.3f}'} | {v['macro_f1']:.4f} | {v['seconds']} |")
        name = "train_transformer"
    else:
        res.update(estimate(args.config, args.steps, args.dev_docs))
        (OUT / "train_transformer_estimate.json").write_text(json.dumps(res, indent=2, default=str) + "\n",
                                                             encoding="utf-8")
        md = ["# transformer.v1: training time estimate", "", f"- date: {res['date']}",
              f"- machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs shared with other jobs "
              f"(load average at start {', '.join(f'{x:.1f}' for x in res['machine']['load_average_at_start'])})",
              f"- git commit: {res['git_commit']}", f"- command: `{res['command']}`; torch {res['torch']}",
              f"- config: {res['config']} (threads {res['params'].get('threads')}, batch "
              f"{res['params'].get('batch_size')}, window {res['params'].get('window')}, stride "
              f"{res['params'].get('stride')})", "",
              "| quantity | value |", "|---|---|"]
        for k in ("train_documents", "partial_docs", "train_words", "train_subwords", "train_windows", "spans",
                  "silver_spans", "spans_widened_to_words", "spans_not_encoded_overlap", "steps_per_epoch",
                  "steps_timed", "seconds_per_step", "cpu_seconds_per_step", "encode_seconds",
                  "dev_documents", "dev_predict_tokens_per_s", "estimated_epoch_minutes",
                  "estimated_epoch_minutes_from_cpu_time", "estimated_dev_eval_minutes", "estimated_total_minutes"):
            md.append(f"| {k} | {res.get(k)} |")
        md += ["", "estimated_epoch_minutes = seconds_per_step (wall, on this shared machine) x steps_per_epoch; "
               "the _from_cpu_time figure divides CPU seconds by the thread count, i.e. an idle machine with "
               "perfect 2-thread scaling (optimistic). estimated_total_minutes covers all configured epochs with a "
               "dev evaluation after each."]
        name = "train_transformer_estimate"
    (OUT / f"{name}.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
