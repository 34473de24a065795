"""Coverage-guided fuzzing of the readers, the extraction inputs and the tokenizer with atheris (libFuzzer), for
runs longer than CI's hypothesis tests (tests/test_fuzz.py).

    python benchmarks/fuzz_atheris.py --seconds 600 [CORPUS_DIR]

The first byte of each input picks the target (brat .ann, brat .txt, PubTator, CoNLL, BioC JSON, BioC XML, JSONL,
extraction text input, tokenizer + sentence splitter); the rest is the file. The property is tests/test_fuzz.py's:
documents whose spans lie inside their text, or an ImnerError. Anything else is a crash: libFuzzer stops and
writes the input to ``crash-<sha1>``; keep it in tests/fixtures/fuzz/ (named ``<what>.<suffix>``) so CI replays
it. Writes benchmarks/results/fuzz_atheris.{json,md} (executions, seconds, crashes) every 2,000 executions and at
the end.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import atheris  # noqa: E402

from _meta import RESULTS, git_commit, machine  # noqa: E402

with atheris.instrument_imports():
    from imner.errors import ImnerError
    from imner.io import iter_documents
    from imner.io.inputs import iter_inputs
    from imner.text import sentences_with_tokens

TARGETS = [("brat", "x.ann"), ("brat-text", "x.txt"), ("pubtator", "x.pubtator"), ("conll", "x.conll"),
           ("bioc", "x.json"), ("bioc", "x.xml"), ("jsonl", "x.jsonl"), ("input", "x.txt"), ("tokenizer", None)]
BRAT_ANN = b"T1\tDisease 0 5\tFever\nA1\tNegated T1\n#1\tAnnotatorNotes T1\tnote\n"
DIR = Path(tempfile.mkdtemp(prefix="imner-atheris-"))
STATS = {"executions": 0, "imner_errors": 0, "documents": 0, "started": time.time()}


def _check(docs) -> None:
    for doc in docs:
        STATS["documents"] += 1
        for s in doc.spans:
            assert 0 <= s.start < s.end <= len(doc.text), (s, len(doc.text))


def one_input(data: bytes) -> None:
    STATS["executions"] += 1
    if STATS["executions"] % 2000 == 0:
        write_checkpoint()
    if not data:
        return
    name, fname = TARGETS[data[0] % len(TARGETS)]
    body = data[1:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if name == "tokenizer":
                text = body.decode("utf-8", errors="replace")
                for (s, e), toks in sentences_with_tokens(text):
                    assert all(text[t.start:t.end] == t.text for t in toks)
                return
            for old in DIR.iterdir():
                old.unlink()
            path = DIR / fname
            if name == "brat":
                path.write_bytes(body)
                path.with_suffix(".txt").write_bytes(b"Fever and cough. " * 4)
                _check(iter_documents(path, "brat"))
            elif name == "brat-text":
                path.write_bytes(body)
                path.with_suffix(".ann").write_bytes(BRAT_ANN)
                _check(iter_documents(path.with_suffix(".ann"), "brat"))
            elif name == "input":
                path.write_bytes(body)
                _check(iter_inputs(path))
            else:
                path.write_bytes(body)
                _check(iter_documents(path, name))
        except ImnerError:
            STATS["imner_errors"] += 1


CHECKPOINT = DIR.parent / f"{DIR.name}.stats.json"


def write_checkpoint() -> None:
    CHECKPOINT.write_text(json.dumps({**STATS, "seconds": round(time.time() - STATS["started"], 1)}),
                          encoding="utf-8")


def write_results(stats: dict, rc: int, crashes: list[str], seconds: int) -> None:
    res = {"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "commit": git_commit(),
           "machine": machine(), "max_total_time": seconds, "seconds": stats.get("seconds"),
           "executions": stats.get("executions"), "documents_checked": stats.get("documents"),
           "imner_errors": stats.get("imner_errors"), "exit_status": rc, "crashes": crashes,
           "targets": [t for t, _ in TARGETS]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fuzz_atheris.json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    (RESULTS / "fuzz_atheris.md").write_text(
        f"# atheris fuzzing ({res['date']}, commit {res['commit']})\n\n"
        f"`python benchmarks/fuzz_atheris.py --seconds {seconds}` on {res['machine']['platform']}, "
        f"{res['machine']['cpu_count']} CPUs (executions counted to the last checkpoint, every 2,000).\n\n"
        "| seconds | executions | documents checked | clean ImnerErrors | crashes |\n|---|---|---|---|---|\n"
        f"| {res['seconds']} | {res['executions']:,} | {res['documents_checked']:,} | {res['imner_errors']:,} | "
        f"{len(crashes)}{' (' + ', '.join(crashes) + ')' if crashes else ''} |\n\n"
        "Targets: " + ", ".join(res["targets"]) + ".\n", encoding="utf-8")


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--child"]:       # the fuzzer itself (libFuzzer ends the process when its time is up)
        atheris.Setup([sys.argv[0], *args[1:]], one_input)
        atheris.Fuzz()
        return
    seconds = 60
    if "--seconds" in args:
        k = args.index("--seconds")
        seconds = int(args[k + 1])
        del args[k:k + 2]
    import subprocess

    before = set(Path.cwd().glob("crash-*"))
    rc = subprocess.call([sys.executable, __file__, "--child", f"-max_total_time={seconds}", "-max_len=4096",
                          "-timeout=20", *args])
    crashes = sorted(p.name for p in set(Path.cwd().glob("crash-*")) - before)
    ckpts = sorted(Path(tempfile.gettempdir()).glob("imner-atheris-*.stats.json"), key=lambda p: p.stat().st_mtime)
    stats = json.loads(ckpts[-1].read_text(encoding="utf-8")) if ckpts else {}
    write_results(stats, rc, crashes, seconds)
    print(f"fuzz_atheris: exit {rc}, {stats.get('executions')} executions, crashes: {crashes or 'none'}")
    sys.exit(rc)


if __name__ == "__main__":
    main()
