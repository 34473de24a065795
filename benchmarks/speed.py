"""imner against spaCy en_core_web_sm (NER only): throughput, start-up and peak memory, whole process, same inputs.

Each configuration is one fresh process, timed from start to exit (imports, model loading and writing included),
under ``/usr/bin/time -v`` for CPU seconds and peak resident memory (for a multi-process run, GNU time reports the
largest single process, not the sum). imner and spaCy run back to back on the same input, alternating, ``--repeats``
times; tables give medians and the ratio imner / spaCy of words per second (whitespace words of the input texts).
Wall-clock throughput is what a user sees; CPU seconds are reported too, because on a shared, loaded machine they
vary less than the wall clock.

Inputs:
* the 200 MACCROBAT2020 reports (a folder of .txt files, ``$IMNER_DATA/maccrobat``);
* the BC5CDR development abstracts (title + abstract, JSONL made from ``$IMNER_DATA/bc5cdr/pubtator``);
* one long single-line document (``--big-mb`` MB, synthesised by joining MACCROBAT reports with their line breaks
  made spaces), run by both; and, with ``--imner-big-mb``, a larger one run by imner alone (spaCy's peak memory grows
  with a document's length: several GB for a few MB on one document);
* a scaling curve (``--curve``): N documents synthesised by repeating the MACCROBAT reports with new ids, run as
  one process, ``--workers 2`` and ``imner spark --master local[2]`` (Spark only there: its JVM start-up is tens of
  seconds).

Start-up: time to the first entity of a one-line text, whole process, with imner's start-up cache (compiled matcher
tables, the parsed lexicon and ICD-10-CM tables, :mod:`imner.cache`) cold (a fresh ``IMNER_CACHE_DIR``) and warm,
against spaCy on the same line, as ratios imner / spaCy of time and peak memory; and where imner's start-up goes
in one process (tagger, the assertion step's construction, the lexicon, the first document).

Run: ``python benchmarks/speed.py [--repeats 3] [--big-mb 5] [--imner-big-mb 0] [--curve 100,1000,10000] [--no-spark]
[--skip PARTS] [--name speed]``; writes benchmarks/results/speed.{json,md} and speed_scaling.png (``--name``: another
file stem, for a partial run).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import RESULTS, ROOT, header, run_info  # noqa: E402

PY = sys.executable
SPACY = [PY, str(ROOT / "benchmarks" / "_spacy_ner.py")]
IMNER = [PY, "-m", "imner.cli"]


def data_dir() -> Path:
    return Path(os.environ.get("IMNER_DATA") or ROOT.parent / "shared" / "data")


def env(cache: str | None = None, src: Path | None = None) -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(src or ROOT / "src"), *filter(None, [e.get("PYTHONPATH")])])
    e.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    e.pop("PYTHONDONTWRITEBYTECODE", None)  # byte-code cached, as for an installed package
    e["PYSPARK_PYTHON"] = PY
    if cache is not None:
        e["IMNER_CACHE_DIR"] = cache
    return e


def timed(cmd: list[str], cache: str | None = None, src: Path | None = None) -> dict:
    """Wall seconds, CPU seconds and peak RSS (MB) of one whole process (imner from ``src``: default this checkout)."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env(cache, src))
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")

    def field(name: str) -> float:
        m = re.search(rf"{re.escape(name)}: ([\d.:]+)", p.stderr)
        return float(m.group(1)) if m else float("nan")

    cpu = field("User time (seconds)") + field("System time (seconds)")
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
            "peak_rss_mb": round(field("Maximum resident set size (kbytes)") / 1024, 1)}


def words_of(texts: list[str]) -> int:
    return sum(len(t.split()) for t in texts)


def write_jsonl(path: Path, docs: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i, t in docs:
            fh.write(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n")
    return path


def maccrobat_texts() -> list[tuple[str, str]]:
    d = data_dir() / "maccrobat" / "MACCROBAT2020"
    return [(f.stem, f.read_text(encoding="utf-8")) for f in sorted(d.glob("*.txt"))]


def bc5cdr_dev() -> list[tuple[str, str]]:
    path = data_dir() / "bc5cdr" / "pubtator" / "CDR_DevelopmentSet.PubTator.txt"
    docs: dict[str, dict[str, str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^(\d+)\|([ta])\|(.*)$", line)
        if m:
            docs.setdefault(m.group(1), {})[m.group(2)] = m.group(3)
    return [(k, f"{v.get('t', '')} {v.get('a', '')}".strip()) for k, v in docs.items()]


def pair(name: str, path: Path, texts: list[str], repeats: int, workers: int, cache: str) -> dict:
    """imner and spaCy back to back on ``path``, alternating, ``repeats`` times."""
    out_file = Path(cache) / "out.jsonl"
    imner_cmd = [*IMNER, "extract", str(path), "-o", str(out_file), "-q"]
    spacy_cmd = [*SPACY, str(path)]
    if workers > 1:
        imner_cmd += ["--workers", str(workers)]
        spacy_cmd += ["--n-process", str(workers)]
    runs: dict[str, list[dict]] = {"imner": [], "spacy": []}
    for r in range(repeats):
        order = (("imner", imner_cmd), ("spacy", spacy_cmd)) if r % 2 == 0 else (("spacy", spacy_cmd),
                                                                                  ("imner", imner_cmd))
        for who, cmd in order:
            runs[who].append(timed(cmd, cache))
            print(f"  {name} workers={workers} {who}: {runs[who][-1]}", file=sys.stderr, flush=True)
    n_words = words_of(texts)
    res = {"input": name, "documents": len(texts), "words": n_words, "workers": workers, "runs": runs}
    for who in runs:
        wall = median(x["wall_s"] for x in runs[who])
        cpu = median(x["cpu_s"] for x in runs[who])
        res[who] = {"wall_s": wall, "cpu_s": cpu, "words_per_s": round(n_words / wall),
                    "words_per_cpu_s": round(n_words / cpu), "peak_rss_mb": max(x["peak_rss_mb"] for x in runs[who])}
    res["ratio_wall"] = round(res["imner"]["words_per_s"] / res["spacy"]["words_per_s"], 2)
    res["ratio_cpu"] = round(res["imner"]["words_per_cpu_s"] / res["spacy"]["words_per_cpu_s"], 2)
    res["ratio_rss"] = round(res["imner"]["peak_rss_mb"] / res["spacy"]["peak_rss_mb"], 2)
    return res


def alone(name: str, path: Path, texts: list[str], cache: str, ref: Path | None = None) -> dict:
    """imner alone on ``path`` (one run): for an input too large to give spaCy on this machine in the time. With
    ``ref`` (an earlier imner's src folder), that one runs right after on the same input, and the two outputs are
    compared byte for byte."""
    n_words = words_of(texts)
    res = {"input": name, "documents": len(texts), "words": n_words, "chars": sum(len(t) for t in texts)}
    for who, src in (("imner", None), ("reference", ref)):
        if who == "reference" and ref is None:
            continue
        out_file = Path(cache) / f"out-{who}.jsonl"
        r = timed([*IMNER, "extract", str(path), "-o", str(out_file), "-q"], cache if src is None else cache + "-ref",
                  src)
        print(f"  {name} {who} alone: {r}", file=sys.stderr, flush=True)
        res[who] = {**r, "words_per_s": round(n_words / r["wall_s"]), "words_per_cpu_s": round(n_words / r["cpu_s"])}
    if ref is not None:
        res["reference"]["src"] = str(ref)
        res["same_output"] = (Path(cache) / "out-imner.jsonl").read_bytes() == (
            Path(cache) / "out-reference.jsonl").read_bytes()
    return res


def big_document(mac: list[tuple[str, str]], mb: float, path: Path) -> tuple[str, Path]:
    """MACCROBAT reports joined into one line of about ``mb`` MB (their line breaks made spaces)."""
    target = int(mb * 1_000_000)
    parts, size, i = [], 0, 0
    while size < target:
        t = " ".join(mac[i % len(mac)][1].split())
        parts.append(t)
        size += len(t.encode("utf-8")) + 1
        i += 1
    big = " ".join(parts)
    path.write_text(big, encoding="utf-8")
    return big, path


def startup(tmp: Path, repeats: int) -> dict:
    one = tmp / "one.txt"
    one.write_text("A 34-year-old woman with systemic lupus erythematosus presented with fever.\n", encoding="utf-8")
    out = {"imner_cold_cache": [], "imner_warm_cache": [], "imner_in_process": [], "spacy": []}
    warm = str(tmp / "cache-warm")
    timed([*IMNER, "extract", str(one), "-o", str(tmp / "o.jsonl"), "-q"], warm)  # fills the warm cache
    probe = ("import time; t = time.perf_counter(); from imner.pipeline import load_pipeline; "
             "from imner.types import Document; p = load_pipeline(); d = p([Document('a', open(%r).read())]); "
             "assert d[0].spans; print(time.perf_counter() - t)") % str(one)
    # where an in-process start-up goes: the tagger, each step's construction, the first document
    parts_probe = ("import json, time; t = time.perf_counter(); out = {}\n"
                   "def lap(k):\n    global t; u = time.perf_counter(); out[k] = round(u - t, 4); t = u\n"
                   "from imner.pipeline import default_tagger; from imner.types import Document; lap('imports')\n"
                   "tg = default_tagger(); lap('tagger loaded')\n"
                   "from imner.context import ContextAnnotator; ca = ContextAnnotator(); lap('ContextAnnotator()')\n"
                   "from imner.normalize import Normalizer; no = Normalizer(); no.lexicon; lap('lexicon loaded')\n"
                   "d = tg.annotate([Document('a', open(%r).read())]); lap('first document: tagger')\n"
                   "d = [no(ca(x)) for x in d]; lap('first document: assertion and codes')\n"
                   "print(json.dumps(out))") % str(one)
    out["imner_parts"] = []
    for _ in range(repeats):
        cold = tempfile.mkdtemp(dir=tmp, prefix="cache-cold-")
        out["imner_cold_cache"].append(timed([*IMNER, "extract", str(one), "-o", str(tmp / "o.jsonl"), "-q"], cold))
        out["imner_warm_cache"].append(timed([*IMNER, "extract", str(one), "-o", str(tmp / "o.jsonl"), "-q"], warm))
        p = subprocess.run([PY, "-c", probe], capture_output=True, text=True, env=env(warm), check=True)
        out["imner_in_process"].append({"wall_s": round(float(p.stdout.strip()), 3)})
        p = subprocess.run([PY, "-c", parts_probe], capture_output=True, text=True, env=env(warm), check=True)
        out["imner_parts"].append(json.loads(p.stdout))
        out["spacy"].append(timed([*SPACY, str(one)]))
    parts = out.pop("imner_parts")
    res = {k: {"wall_s": median(x["wall_s"] for x in v),
               "peak_rss_mb": max((x.get("peak_rss_mb", 0) for x in v), default=None), "runs": v}
           for k, v in out.items()}
    res["imner_parts"] = {k: round(median(p[k] for p in parts), 4) for k in parts[0]}
    return res


def scaling(tmp: Path, base: list[tuple[str, str]], sizes: list[int], spark: bool, cache: str) -> list[dict]:
    rows = []
    for n in sizes:
        docs = [(f"{base[i % len(base)][0]}-r{i // len(base)}", base[i % len(base)][1]) for i in range(n)]
        path = write_jsonl(tmp / f"scale-{n}.jsonl", docs)
        n_words = words_of([t for _, t in docs])
        row = {"documents": n, "words": n_words}
        configs = [("single", [*IMNER, "extract", str(path), "-o", str(tmp / "s.jsonl"), "-q"]),
                   ("workers2", [*IMNER, "extract", str(path), "-o", str(tmp / "s.jsonl"), "-q", "--workers", "2"])]
        if spark:
            configs.append(("spark_local2", [*IMNER, "spark", str(path), "--output", str(tmp / "spark-out"),
                                             "--master", "local[2]", "--partitions", "2"]))
        for name, cmd in configs:
            r = timed(cmd, cache)
            r["words_per_s"] = round(n_words / r["wall_s"])
            row[name] = r
            print(f"  scaling n={n} {name}: {r}", file=sys.stderr, flush=True)
        rows.append(row)
    return rows


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("single", "imner extract (1 process)"), ("workers2", "imner extract --workers 2"),
                       ("spark_local2", "imner spark, local[2]")):
        pts = [(r["documents"], r[key]["words_per_s"]) for r in rows if key in r]
        if pts:
            ax.plot(*zip(*pts), marker="o", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("documents (MACCROBAT reports repeated with new ids)")
    ax.set_ylabel("words / s (whole process)")
    ax.set_title("imner throughput against corpus size")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def pair_table(res: dict) -> list[str]:
    md = ["Whole process, start-up included, medians of "
           f"{res['repeats']} alternating runs each; words = whitespace words of the input. Ratio = imner words/s "
           "over spaCy words/s in the same run (wall clock; CPU: per CPU-second). The machine is shared and loaded "
           "(see the load average above): absolute figures are noisy, the ratio is what counts. imner runs every "
           "step (tagger, assertion, codes, patient); spaCy runs its NER component alone.", "",
           "| input | docs | words | processes | imner words/s | spaCy words/s | ratio (wall) | ratio (CPU) | "
           "imner peak RSS MB | spaCy peak RSS MB | RSS ratio (imner / spaCy) |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["pairs"]:
        rss_ratio = r.get("ratio_rss", round(r["imner"]["peak_rss_mb"] / r["spacy"]["peak_rss_mb"], 2))
        md.append(f"| {r['input']} | {r['documents']} | {r['words']:,} | {r['workers']} | "
                  f"{r['imner']['words_per_s']:,} | {r['spacy']['words_per_s']:,} | **{r['ratio_wall']}** | "
                  f"{r['ratio_cpu']} | {r['imner']['peak_rss_mb']} | {r['spacy']['peak_rss_mb']} | {rss_ratio} |")
    return md


def render(res: dict) -> str:
    md = header("Speed: imner against spaCy en_core_web_sm (NER only)", res["info"])
    if res["pairs"]:
        md += pair_table(res)
    for r in res.get("alone", []):
        md += ["", f"imner alone on {r['input']} ({r['chars']:,} characters, {r['words']:,} words; spaCy left "
               f"out: its peak memory grows with a document's length, see the single-line row above): "
               f"**{r['imner']['wall_s']} s** wall, {r['imner']['cpu_s']} CPU s, {r['imner']['words_per_s']:,} "
               f"words/s, peak RSS **{r['imner']['peak_rss_mb']} MB**."]
        if "reference" in r:
            x = r["reference"]
            md += ["", f"The same document with the reference imner (`{x['src']}`), right after: {x['wall_s']} s wall, "
                   f"{x['cpu_s']} CPU s, peak RSS {x['peak_rss_mb']} MB (ratios this / reference: wall "
                   f"{round(r['imner']['wall_s'] / x['wall_s'], 2)}, CPU {round(r['imner']['cpu_s'] / x['cpu_s'], 2)}, "
                   f"peak RSS {round(r['imner']['peak_rss_mb'] / x['peak_rss_mb'], 2)}); outputs byte-identical: "
                   f"{'yes' if r['same_output'] else 'NO'}."]
    s = res["startup"]
    if s is not None:
        sp = s["spacy"]

        def row(label: str, key: str) -> str:
            x = s[key]
            return (f"| {label} | {x['wall_s']} | {round(x['wall_s'] / sp['wall_s'], 2)} | {x['peak_rss_mb']} | "
                    f"{round(x['peak_rss_mb'] / sp['peak_rss_mb'], 2)} |")

        md += ["", "Start-up to the first entity of a one-line text (median wall seconds, whole process unless said; "
               "ratios: imner / spaCy, lower is better):", "",
               "| run | seconds | time ratio | peak RSS MB | RSS ratio |", "|---|---|---|---|---|",
               row("imner extract, start-up cache cold (first run)", "imner_cold_cache"),
               row("imner extract, start-up cache warm", "imner_warm_cache"),
               f"| imner in process: import + load_pipeline() + one document (warm) | "
               f"{s['imner_in_process']['wall_s']} | {round(s['imner_in_process']['wall_s'] / sp['wall_s'], 2)} | | |",
               f"| spaCy en_core_web_sm NER, one line | {sp['wall_s']} | 1 | {sp['peak_rss_mb']} | 1 |"]
        if "imner_parts" in s:
            md += ["", "Where imner's in-process start-up goes (median seconds): " + "; ".join(
                f"{k} {v}" for k, v in s["imner_parts"].items()) + "."]
    if res["scaling"]:
        md += ["", "Scaling (one run each; documents synthesised by repeating the 200 MACCROBAT reports with new "
               "ids; words/s, whole process):", "",
               "| documents | words | 1 process | --workers 2 | Spark local[2] | peak RSS MB (1 process) |",
               "|---|---|---|---|---|---|"]
        for r in res["scaling"]:
            sp = f"{r['spark_local2']['words_per_s']:,}" if "spark_local2" in r else "-"
            md.append(f"| {r['documents']:,} | {r['words']:,} | {r['single']['words_per_s']:,} | "
                      f"{r['workers2']['words_per_s']:,} | {sp} | {r['single']['peak_rss_mb']} |")
        md += ["", "Spark's figures include starting its JVM (tens of seconds here), which dominates at these sizes; "
               "its CPU seconds and peak RSS in speed.json are the driver's Python process only.", "",
               "![scaling](speed_scaling.png)"]
    return "\n".join(md) + "\n"


def rerender(name: str = "speed") -> None:
    """Rewrite <name>.md from <name>.json (after a change of the report's wording; the figures are not rerun)."""
    res = json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))
    (RESULTS / f"{name}.md").write_text(render(res), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="runs per configuration (default 3)")
    ap.add_argument("--big-mb", type=float, default=5.0, help="size of the single-line document, MB (default 5)")
    ap.add_argument("--curve", default="100,1000,10000", help="document counts of the scaling curve")
    ap.add_argument("--imner-big-mb", type=float, default=0.0,
                    help="also run imner alone on a single-line document of this many MB (0: none)")
    ap.add_argument("--ref", type=Path, default=None,
                    help="an earlier imner's src folder: the --imner-big-mb run is made with it too, right after")
    ap.add_argument("--no-spark", action="store_true", help="leave Spark out of the scaling curve")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: maccrobat,bc5cdr,big,startup")
    ap.add_argument("--name", default="speed",
                    help="results file stem (default speed: speed.json/md); a partial run (--skip) can write its own "
                         "file instead of replacing the full run's")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    info = run_info("python benchmarks/speed.py " + " ".join(sys.argv[1:]))
    tmp = Path(tempfile.mkdtemp(prefix="imner-speed-"))
    cache = str(tmp / "cache")
    try:
        mac = maccrobat_texts()
        mac_dir = tmp / "maccrobat"
        mac_dir.mkdir()
        for i, t in mac:
            (mac_dir / f"{i}.txt").write_text(t, encoding="utf-8")
        timed([*IMNER, "extract", str(mac_dir / f"{mac[0][0]}.txt"), "-o", str(tmp / "w.jsonl"), "-q"], cache)
        pairs = []
        if "maccrobat" not in skip:
            for w in (1, 2):
                pairs.append(pair("MACCROBAT2020 (all reports)", mac_dir, [t for _, t in mac], args.repeats, w,
                                  cache))
        if "bc5cdr" not in skip:
            bc = bc5cdr_dev()
            path = write_jsonl(tmp / "bc5cdr-dev.jsonl", bc)
            for w in (1, 2):
                pairs.append(pair("BC5CDR dev abstracts", path, [t for _, t in bc], args.repeats, w, cache))
        alone_runs = []
        if "big" not in skip and args.big_mb > 0:
            big, path = big_document(mac, args.big_mb, tmp / "big.txt")
            pairs.append(pair(f"one {len(big.encode('utf-8')) / 1e6:.1f} MB single-line document", path, [big],
                              1, 1, cache))
        if "big" not in skip and args.imner_big_mb > 0:
            big, path = big_document(mac, args.imner_big_mb, tmp / "big-alone.txt")
            alone_runs.append(alone(f"one {len(big.encode('utf-8')) / 1e6:.1f} MB single-line document", path,
                                    [big], cache, args.ref))
        st = startup(tmp, args.repeats) if "startup" not in skip else None
        sizes = [int(x) for x in args.curve.split(",") if x.strip()]
        rows = scaling(tmp, mac, sizes, not args.no_spark, cache) if sizes else []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res = {"info": info, "repeats": args.repeats, "pairs": pairs, "alone": alone_runs, "startup": st,
           "scaling": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    if rows:
        plot(rows, RESULTS / f"{args.name}_scaling.png")
    (RESULTS / f"{args.name}.md").write_text(render(res), encoding="utf-8")
    print(render(res))


if __name__ == "__main__":
    main()
