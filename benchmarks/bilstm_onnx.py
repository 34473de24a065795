"""bilstm.v1 (torch) against its ONNX export (bilstm-onnx.v1): span parity, strict F1 and speed on imd-cases.

Exports ``models/bilstm-imd`` (or ``--model``) with :func:`imner.taggers.bilstm.export.export_bilstm_onnx`
(fp32 and int8 dynamic quantization) into a temporary directory, then on imd-cases:

* parity on dev: documents whose spans (start, end, label) are identical to the torch tagger's, and the
  largest difference of a shared span's score;
* strict micro P/R/F1 (:func:`imner.evaluate.evaluate`, no bootstrap) of torch, ONNX fp32 and ONNX int8 on
  dev and test; int8 is acceptable for shipping only when its strict F1 stays within 0.5 point of torch's
  on both;
* speed on dev + test in this one process: wall seconds of ``predict`` over all documents (one warm-up
  document first, not timed), tokens (:func:`imner.text.tokenize`) per second. The time includes the
  dictionary tagger that gives the lexicon feature, which is also timed alone.

Run: ``.venv/bin/python benchmarks/bilstm_onnx.py [--model models/bilstm-imd]`` (writes
benchmarks/results/bilstm_onnx.{json,md}; under a minute of CPU). Needs the ``train`` extra and the
imd-cases corpus under ``$IMNER_DATA``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import git_head, machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).parent / "results"
MAX_INT8_F1_DROP = 0.005


def _strict(gold: Sequence[Any], pred: Sequence[Sequence[Any]]) -> dict[str, float]:
    from imner.evaluate import evaluate

    report = evaluate(gold, [d.with_spans(p) for d, p in zip(gold, pred, strict=True)], bootstrap=0)
    m = report.micro["strict"]
    return {"precision": round(m.precision, 4), "recall": round(m.recall, 4), "f1": round(m.f1, 4)}


def _timed(predict: Callable[[Sequence[Any]], Any], docs: Sequence[Any], n_tokens: int) -> dict[str, Any]:
    predict(docs[:1])
    t, c = time.perf_counter(), time.process_time()
    predict(docs)
    secs, cpu = time.perf_counter() - t, time.process_time() - c
    return {"seconds": round(secs, 2), "cpu_seconds": round(cpu, 2), "tokens_per_s": round(n_tokens / secs),
            "load_average_1min_end": round(os.getloadavg()[0], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=str(ROOT / "models" / "bilstm-imd"), help="a saved bilstm.v1 model")
    args = ap.parse_args()

    import onnxruntime
    import torch

    import imner.corpora
    from imner.taggers.base import load_tagger
    from imner.taggers.bilstm.tagger import BiLSTMTagger
    from imner.taggers.bilstm.export import FP32_FILE, INT8_FILE, export_bilstm_onnx
    from imner.taggers.bilstm.onnx import BiLSTMOnnxTagger
    from imner.text import tokenize

    load_at_start = os.getloadavg()
    dev, test = imner.corpora.load("imd-cases-maccrobat", "dev"), imner.corpora.load("imd-cases-maccrobat", "test")
    both = dev + test
    n_tokens = sum(len(tokenize(d.text)) for d in both)
    torch_tagger = BiLSTMTagger.load(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        out = export_bilstm_onnx(args.model, Path(tmp) / "onnx", quantize=True, keep_fp32=True)
        export_s = time.perf_counter() - t
        sizes = {f: round((out / f).stat().st_size / 2**20, 1) for f in (FP32_FILE, INT8_FILE)}
        onnx = {f: BiLSTMOnnxTagger(out, threads=2, model_file=f) for f in (FP32_FILE, INT8_FILE)}
        preds = {"torch": {s: torch_tagger.predict(d) for s, d in (("dev", dev), ("test", test))}}
        for f, tagger in onnx.items():
            preds[f] = {s: tagger.predict(d) for s, d in (("dev", dev), ("test", test))}
        parity = {}
        for f in onnx:
            for split in ("dev", "test"):
                ref, got = preds["torch"][split], preds[f][split]
                same = sum(1 for a, b in zip(ref, got) if [s.key for s in a] == [s.key for s in b])
                diffs = [abs(a.score - b.score) for x, y in zip(ref, got) for a, b in zip(x, y) if a.key == b.key]
                parity[f"{f} {split}"] = {"documents_identical": same, "documents": len(ref),
                                          "spans_torch": sum(map(len, ref)), "spans_onnx": sum(map(len, got)),
                                          "max_score_difference": float(f"{max(diffs, default=0.0):.2g}")}
        scores = {name: {s: _strict(d, preds[name][s]) for s, d in (("dev", dev), ("test", test))} for name in preds}
        speed = []
        lexicon = torch_tagger._lexicon_tagger() if torch_tagger.lexicon_features else None
        if lexicon is not None:
            speed.append({"tagger": "dictionary.v1 (the lexicon feature alone)", "threads": "-",
                          **_timed(lexicon.predict, both, n_tokens)})
        for threads in (1, 2):
            torch_tagger.threads = threads
            speed.append({"tagger": "bilstm.v1 (torch)", "threads": threads,
                          **_timed(torch_tagger.predict, both, n_tokens)})
        for f in (FP32_FILE, INT8_FILE):
            for threads in (1, 2):
                tagger = BiLSTMOnnxTagger(out, threads=threads, model_file=f)
                speed.append({"tagger": f"bilstm-onnx.v1 {f}", "threads": threads,
                              **_timed(tagger.predict, both, n_tokens)})
        reloaded = load_tagger(out)
        assert isinstance(reloaded, BiLSTMOnnxTagger)
    drop = {s: round(scores["torch"][s]["f1"] - scores[INT8_FILE][s]["f1"], 4) for s in ("dev", "test")}
    res = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(load_average_at_start=load_at_start), "git_commit": git_head(),
        "command": " ".join([Path(sys.executable).name] + sys.argv),
        "torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "model": args.model,
        "export_seconds": round(export_s, 1), "model_size_mb": sizes,
        "tokens_dev_test": n_tokens, "parity": parity, "strict": scores,
        "int8_f1_drop": drop, "int8_acceptable": all(v <= MAX_INT8_F1_DROP for v in drop.values()),
        "speed": speed,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bilstm_onnx.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    md = ["# bilstm.v1 vs its ONNX export (bilstm-onnx.v1) on imd-cases", "", f"- date: {res['date']}",
          f"- machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs shared with other jobs "
          f"(load average at start {', '.join(f'{x:.1f}' for x in load_at_start)})",
          f"- git commit: {res['git_commit']}", f"- command: `{res['command']}`",
          f"- model: {args.model}; torch {res['torch']}, onnxruntime {res['onnxruntime']}; export took "
          f"{res['export_seconds']} s; model.onnx {sizes[FP32_FILE]} MB, model.int8.onnx {sizes[INT8_FILE]} MB", "",
          "## Parity with the torch tagger", "",
          "| model | split | documents with identical spans | spans (torch / onnx) | max score difference |",
          "|---|---|---|---|---|"]
    md += [f"| {k.split()[0]} | {k.split()[1]} | {v['documents_identical']} / {v['documents']} | "
           f"{v['spans_torch']} / {v['spans_onnx']} | {v['max_score_difference']} |" for k, v in parity.items()]
    md += ["", "## Strict micro scores", "", "| tagger | dev P | dev R | dev F1 | test P | test R | test F1 |",
           "|---|---|---|---|---|---|---|"]
    md += [f"| {name} | " + " | ".join(f"{scores[name][s][m]:.4f}" for s in ("dev", "test")
                                       for m in ("precision", "recall", "f1")) + " |" for name in scores]
    md += ["", f"int8 strict F1 drop: dev {drop['dev']:+.4f}, test {drop['test']:+.4f} "
           f"({'within' if res['int8_acceptable'] else 'NOT within'} the 0.5 point allowed for shipping int8).", "",
           f"## Speed on dev + test ({len(both)} documents, {n_tokens:,} tokens), one process", "",
           "| tagger | threads | seconds | CPU seconds | tokens/s | load average at end |", "|---|---|---|---|---|---|"]
    md += [f"| {r['tagger']} | {r['threads']} | {r['seconds']} | {r['cpu_seconds']} | {r['tokens_per_s']:,} | "
           f"{r['load_average_1min_end']} |" for r in speed]
    md += ["", "Times include sentence splitting, tokenization, feature encoding and the dictionary tagger of the "
           "lexicon feature; the machine was shared with other jobs, so compare rows of one run only."]
    (OUT / "bilstm_onnx.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
