"""Throughput and peak memory of ``onnx.v1`` (MiniLM-L6 token classifier) on the MACCROBAT2020 texts.

The classifier head is untrained (12 imner labels, 25 BIO tags): speed does not depend on the weights'
values. The model is exported with :func:`imner.taggers.transformer.export.export_onnx` (int8 dynamic quantization,
the fp32 file kept for comparison); each measurement then runs in a **fresh Python process** that
imports only the onnx runtime path (the script checks that torch and transformers were not imported),
so its peak RSS is what a user of the default model pays. Tokens are :func:`imner.text.tokenize`
tokens; the time covers subword tokenization, windowing, onnxruntime and decoding of all documents
(one warm-up document first, not timed).

Run: ``.venv/bin/python benchmarks/onnx_speed.py [--threads 2] [--batch-size 16 32] [--limit N]``
(writes benchmarks/results/onnx_speed.{json,md}). Needs the ``train`` extra (export) and the MACCROBAT
data under ``$IMNER_DATA``. Target for the shipped default: >= 3,000 tokens/s, <= 1 GB peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import git_head, machine  # noqa: E402

OUT = Path(__file__).parent / "results"
TARGET_TOKENS_PER_S = 3000
TARGET_RSS_MB = 1024


def _texts(limit: int | None) -> list[tuple[str, str]]:
    from imner.config import data_path

    files = sorted(data_path("maccrobat", "MACCROBAT2020").glob("*.txt"))[:limit]
    return [(f.stem, f.read_text(encoding="utf-8")) for f in files]


def _peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM; ``ru_maxrss`` would include the parent's peak, which
    Linux carries across fork + exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    import resource  # not Linux: ru_maxrss (kB on Linux, bytes on macOS)

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(rss / (2**20 if sys.platform == "darwin" else 1024), 1)


def worker(model_dir: str, model_file: str, threads: int, batch_size: int, limit: int | None) -> dict:
    """Runs in its own process: load, warm up, time the whole corpus; report speed and peak RSS."""
    t0 = time.perf_counter()
    from imner.taggers.transformer.onnx import OnnxTagger
    from imner.text import tokenize
    from imner.types import Document

    tagger = OnnxTagger(model_dir, threads=threads, batch_size=batch_size, model_file=model_file)
    load_s = time.perf_counter() - t0
    docs = [Document(i, t) for i, t in _texts(limit)]
    n_tokens = sum(len(tokenize(d.text)) for d in docs)
    tagger.predict(docs[:1])
    t1, c1, load1 = time.perf_counter(), time.process_time(), os.getloadavg()[0]
    pred = tagger.predict(docs)
    secs, cpu = time.perf_counter() - t1, time.process_time() - c1
    return {"model_file": model_file, "size_mb": round(os.path.getsize(Path(model_dir) / model_file) / 2**20, 1),
            "threads": threads, "batch_size": batch_size, "docs": len(docs), "tokens": n_tokens,
            "seconds": round(secs, 2), "tokens_per_s": round(n_tokens / secs), "cpu_seconds": round(cpu, 2),
            "tokens_per_cpu_s_x_threads": round(threads * n_tokens / cpu), "load_seconds": round(load_s, 2),
            "load_average_1min": [round(load1, 2), round(os.getloadavg()[0], 2)],
            "pred_spans": sum(map(len, pred)),
            "peak_rss_mb": _peak_rss_mb(),
            "torch_imported": "torch" in sys.modules, "transformers_imported": "transformers" in sys.modules}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, nargs="+", default=[16, 32],
                    help="batch sizes to measure with the int8 model (the fp32 model runs with the first)")
    ap.add_argument("--limit", type=int, default=None, help="first N documents only")
    ap.add_argument("--skip-fp32", action="store_true", help="measure the int8 model only")
    ap.add_argument("--worker", nargs=2, metavar=("MODEL_DIR", "MODEL_FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker, args.threads, args.batch_size[0], args.limit)))
        return

    import onnxruntime

    from imner.schema import LABEL_NAMES
    from imner.taggers.transformer.export import export_onnx
    from imner.taggers.transformer.tagger import TransformerTagger

    load_at_start = os.getloadavg()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        TransformerTagger(labels=list(LABEL_NAMES), threads=args.threads).initialize().save(Path(tmp) / "torch")
        t = time.perf_counter()
        export_onnx(Path(tmp) / "torch", Path(tmp) / "onnx", quantize=True, keep_fp32=not args.skip_fp32)
        export_s = time.perf_counter() - t
        plan = [("model.int8.onnx", b) for b in args.batch_size]
        plan += [] if args.skip_fp32 else [("model.onnx", args.batch_size[0])]
        for f, batch in plan:
            cmd = [sys.executable, __file__, "--worker", str(Path(tmp) / "onnx"), f, "--threads", str(args.threads),
                   "--batch-size", str(batch)] + (["--limit", str(args.limit)] if args.limit else [])
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(runs[-1], file=sys.stderr)
    int8 = max((r for r in runs if r["model_file"] == "model.int8.onnx"), key=lambda r: r["tokens_per_s"])
    res = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(load_average_at_start=load_at_start), "git_commit": git_head(),
        "command": " ".join([Path(sys.executable).name] + sys.argv),
        "onnxruntime": onnxruntime.__version__,
        "model": "all-MiniLM-L6-v2 encoder + untrained token-classification head (25 BIO tags), window 256, "
                 "stride 64",
        "export_seconds": round(export_s, 1),
        "runs": runs,
        "target": {"tokens_per_s": TARGET_TOKENS_PER_S, "peak_rss_mb": TARGET_RSS_MB,
                   "met_by_int8": int8["tokens_per_s"] >= TARGET_TOKENS_PER_S
                   and int8["peak_rss_mb"] <= TARGET_RSS_MB},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "onnx_speed.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    md = ["# onnx.v1 speed on MACCROBAT2020 texts", "", f"- date: {res['date']}",
          f"- machine: {res['machine']['platform']}, {res['machine']['cpu_count']} CPUs shared with other jobs "
          f"(load average at start {', '.join(f'{x:.1f}' for x in res['machine']['load_average_at_start'])})",
          f"- git commit: {res['git_commit']}", f"- command: `{res['command']}`",
          f"- onnxruntime {res['onnxruntime']}; model: {res['model']}; export took {res['export_seconds']} s",
          f"- {int8['docs']} documents, {int8['tokens']:,} tokens (imner.text); each run in a fresh process "
          "(torch imported: " + ", ".join(str(r['torch_imported']) for r in runs) + ")", "",
          "| model file | size (MB) | threads | batch | seconds | tokens/s (wall) | tokens per CPU-second x threads | "
          "peak RSS (MB) | load average (start, end) |",
          "|---|---|---|---|---|---|---|---|---|"]
    md += [f"| {r['model_file']} | {r['size_mb']} | {r['threads']} | {r['batch_size']} | {r['seconds']} | "
           f"{r['tokens_per_s']:,} | {r['tokens_per_cpu_s_x_threads']:,} | {r['peak_rss_mb']} | "
           f"{', '.join(map(str, r['load_average_1min']))} |" for r in runs]
    md += ["", "tokens/s (wall) is what this run got on a machine shared with other jobs; tokens per CPU-second x "
           "threads estimates an otherwise idle machine with that many cores (it ignores imperfect thread scaling, "
           "so it is an upper bound; onnxruntime's spinning threads make it lower under contention).", "",
           f"Target for the shipped default (int8): >= {TARGET_TOKENS_PER_S:,} tokens/s and <= {TARGET_RSS_MB} MB "
           f"peak RSS, on wall-clock tokens/s of the best int8 run: "
           f"{'met' if res['target']['met_by_int8'] else 'NOT met'}."]
    (OUT / "onnx_speed.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
