"""Cohort queries over imd-cases: the shipped model's index against a gold index, plus index and query speed.

1. Accuracy. The 37 queries of ``benchmarks/cohort_queries.tsv`` (written and committed before any was run) run on
   two indexes of the MACCROBAT test split of imd-cases (40 reports,
   ``imner.corpora.load("imd-cases-maccrobat", "test")``, which ``imd-cases`` test was before the corpus grew):
   * *predicted*: the shipped default model with assertion, codes and patient (``imner.pipeline.load_pipeline()``);
   * *gold*: the gold spans of the same documents through the same assertion, code and patient steps.
   Per query, document-level precision, recall and F1 of the predicted index's documents against the gold
   index's; in total, micro (summed over queries) and macro (mean of the queries with gold or predicted matches).
2. Indexing speed. ``imner index`` and ``imner extract`` (JSONL output) on all 200 MACCROBAT2020 texts, each in
   a fresh process (start-up included), interleaved, ``--repeats`` times: documents/s and the index step's cost
   over extraction alone (median over repeats of each repeat's ratio), and, less noisy, inside each index run
   (``--timings``: seconds spent storing over the rest of the run).
3. A monitor example for the README on the 200-report index, with SYNTHETIC dates (MACCROBAT has none).
4. Query latency. The 200-report index is synthesised into 10,000 documents by copying every report 50 times
   under new ids (``<id>~r<k>``; same texts, so the same matches repeated); each query runs ``--query-repeats``
   times in-process (lexicon and hierarchy already loaded, everything else — parsing, resolution against the
   index, SQL — per run): median and 95th percentile over all runs.

Run: ``python benchmarks/cohort.py [--repeats 3] [--query-repeats 5]``; writes benchmarks/results/cohort.{json,md},
the monitor example (docs/img/monitor_synthetic_dates.png) and the README's block between its cohort-benchmark
markers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import RESULTS, ROOT, header, run_info  # noqa: E402

QUERIES = Path(__file__).resolve().parent / "cohort_queries.tsv"
COPIES = 50


def read_queries() -> list[tuple[str, str, str]]:
    out = []
    for line in QUERIES.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            qid, kind, q = line.split("\t")
            out.append((qid, kind, q))
    return out


def build_indexes(work: Path) -> tuple[Path, Path, dict]:
    from imner import corpora
    from imner.cohort import index_documents
    from imner.cohort.store import model_fingerprint
    from imner.pipeline import load_pipeline

    gold = corpora.load("imd-cases-maccrobat", "test")
    pipe = load_pipeline()
    steps = pipe.steps  # assertion, normalize, patient: the same steps for both indexes

    def gold_steps(docs):
        out = list(docs)
        for _, step in steps:
            out = [step(d) for d in out]
        return out

    gold_db, pred_db = work / "gold.duckdb", work / "pred.duckdb"
    t0 = time.perf_counter()
    index_documents(gold, gold_db, model_id="gold", model_version="imd-cases test gold spans", annotate=gold_steps,
                    source="imd-cases/test")
    t1 = time.perf_counter()
    mid, mver = model_fingerprint(None)
    index_documents([d.with_spans(()) for d in gold], pred_db, model_id=mid, model_version=mver, annotate=pipe,
                    source="imd-cases/test", batch_size=16)
    t2 = time.perf_counter()
    return gold_db, pred_db, {"documents": len(gold), "gold_entities": sum(len(d.spans) for d in gold),
                              "gold_index_seconds": round(t1 - t0, 2), "pred_index_seconds": round(t2 - t1, 2),
                              "model": f"{mid} ({mver})"}


def prf(pred: set[str], gold: set[str]) -> dict:
    tp = len(pred & gold)
    p = tp / len(pred) if pred else None
    r = tp / len(gold) if gold else None
    f = 2 * p * r / (p + r) if p and r else (0.0 if (pred or gold) else None)
    return {"gold": len(gold), "pred": len(pred), "tp": tp, "precision": p, "recall": r, "f1": f}


def accuracy(gold_db: Path, pred_db: Path) -> dict:
    from imner.cohort.language import QueryError, Vocabulary
    from imner.cohort.search import run_query
    from imner.cohort.store import connect

    gcon, pcon = connect(gold_db, read_only=True), connect(pred_db, read_only=True)
    rows = []
    for qid, kind, q in read_queries():
        row = {"id": qid, "exercises": kind, "query": q}
        try:
            g = set(run_query(gcon, q, vocab=Vocabulary(gcon)).doc_ids)
            pr = run_query(pcon, q, vocab=Vocabulary(pcon))
            p = set(pr.doc_ids)
            row.update(prf(p, g))
            row["resolution"] = [str(r) for r in pr.resolution]
        except QueryError as e:
            row["error"] = str(e).splitlines()[0]
        rows.append(row)
    gcon.close()
    pcon.close()
    ok = [r for r in rows if "error" not in r]
    tp, npred, ngold = (sum(r[k] for r in ok) for k in ("tp", "pred", "gold"))
    mp, mr = tp / npred if npred else 0.0, tp / ngold if ngold else 0.0
    scored = [r["f1"] for r in ok if r["f1"] is not None]
    return {"queries": rows, "errors": len(rows) - len(ok),
            "micro": {"tp": tp, "pred": npred, "gold": ngold, "precision": mp, "recall": mr,
                      "f1": 2 * mp * mr / (mp + mr) if mp + mr else 0.0},
            "macro_f1": sum(scored) / len(scored) if scored else None, "macro_over": len(scored)}


def _run(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def index_speed(work: Path, repeats: int) -> tuple[dict, Path]:
    from imner.config import data_path

    folder = data_path("maccrobat", "MACCROBAT2020")
    n = len(list(folder.glob("*.txt")))
    py = [sys.executable, "-m", "imner.cli"]
    db = work / "maccrobat.duckdb"
    ext, idx, in_run = [], [], []
    timings = work / "timings.json"
    for _ in range(repeats):  # interleaved, so load on the shared machine hits both alike
        ext.append(_run([*py, "extract", str(folder), "-o", str(work / "x.jsonl"), "-q"]))
        for p in (db, db.with_name(db.name + ".wal")):
            p.unlink(missing_ok=True)
        idx.append(_run([*py, "index", str(folder), "--db", str(db), "-q", "--timings", str(timings)]))
        t = json.loads(timings.read_text(encoding="utf-8"))
        assert t["indexed"] == n, t
        # inside the run: storing (sentences, rows, transactions) over the rest of the same run
        in_run.append(t["store_seconds"] / (idx[-1] - t["store_seconds"]))
    ratios = [i / e - 1 for i, e in zip(idx, ext)]
    return {"corpus": f"MACCROBAT2020, all {n} texts", "documents": n, "repeats": repeats,
            "extract_seconds": [round(x, 2) for x in ext], "index_seconds": [round(x, 2) for x in idx],
            "extract_docs_per_s": round(n / median(ext), 1), "index_docs_per_s": round(n / median(idx), 1),
            "index_cost_over_extract": round(median(ratios), 4),
            "index_cost_over_extract_all": [round(r, 4) for r in ratios],
            "in_run_store_cost": round(median(in_run), 4), "in_run_store_cost_all": [round(r, 4) for r in in_run]}, db


def synthesise(src: Path, dst: Path, copies: int) -> int:
    from imner.cohort.store import connect

    shutil.copy(src, dst)
    con = connect(dst)
    con.execute("BEGIN TRANSACTION")
    for k in range(1, copies):
        con.execute(f"INSERT INTO documents SELECT doc_id || '~r{k}', * EXCLUDE (doc_id) FROM documents "
                    "WHERE doc_id NOT LIKE '%~r%'")
        con.execute(f"INSERT INTO entities SELECT doc_id || '~r{k}', * EXCLUDE (doc_id) FROM entities "
                    "WHERE doc_id NOT LIKE '%~r%'")
    con.execute("COMMIT")
    n = con.execute("SELECT count(*) FROM documents").fetchone()[0]
    con.close()
    return n


MONITOR_QUERIES = ["category:infectious", "category:immune", "PATHOGEN"]


def monitor_example(src: Path, work: Path) -> dict:
    """The README's monitor example: the 200 MACCROBAT reports have no dates, so each gets a SYNTHETIC one
    (a day of 2024 from a hash of its id; one in twenty left undated on purpose), then `imner monitor` by month."""
    import hashlib

    from imner.cohort.monitor import monitor, write_monitor
    from imner.cohort.store import connect

    db = work / "dated.duckdb"
    shutil.copy(src, db)
    con = connect(db)
    for (doc_id,) in con.execute("SELECT doc_id FROM documents").fetchall():
        h = int(hashlib.sha256(doc_id.encode()).hexdigest()[:8], 16)
        meta = {} if h % 20 == 0 else {"date": (date(2024, 1, 1) + timedelta(days=h % 366)).isoformat()}
        con.execute("UPDATE documents SET meta = ? WHERE doc_id = ?", [json.dumps(meta), doc_id])
    con.close()
    table = monitor(db, MONITOR_QUERIES, by="month")
    img = ROOT / "docs" / "img" / "monitor_synthetic_dates.png"
    img.parent.mkdir(parents=True, exist_ok=True)
    write_monitor(table, img, title="documents per month, MACCROBAT with SYNTHETIC dates (it has none)")
    write_monitor(table, RESULTS / "cohort_monitor_synthetic_dates.csv")
    return {"queries": {q.query: {"matched": q.matched, "undated": q.undated} for q in table.queries},
            "months": len(table.periods), "png": str(img.relative_to(ROOT)),
            "csv": "benchmarks/results/cohort_monitor_synthetic_dates.csv"}


def latency(db: Path, repeats: int) -> dict:
    from imner.cohort.hierarchy import load_hierarchy
    from imner.cohort.language import QueryError, Vocabulary
    from imner.cohort.search import run_query
    from imner.cohort.store import connect
    from imner.lexicon import load_lexicon

    load_lexicon()
    load_hierarchy().children  # noqa: B018  (loaded once, as in a long-running process)
    con = connect(db, read_only=True)
    n_docs = con.execute("SELECT count(*) FROM documents").fetchone()[0]
    n_ents = con.execute("SELECT count(*) FROM entities").fetchone()[0]
    times, per_query = [], {}
    for qid, _, q in read_queries():
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            try:
                run_query(con, q, vocab=Vocabulary(con))
            except QueryError:
                break
            ts.append(time.perf_counter() - t0)
        if ts:
            per_query[qid] = round(median(ts) * 1000, 1)
            times += ts
    con.close()
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return {"documents": n_docs, "entities": n_ents, "synthesised": f"200 MACCROBAT reports x {COPIES} copies "
            "under new ids", "runs": len(times), "median_ms": round(median(times) * 1000, 1),
            "p95_ms": round(p95 * 1000, 1), "max_ms": round(times[-1] * 1000, 1), "per_query_median_ms": per_query}


def fmt(x) -> str:
    return "–" if x is None else f"{x:.2f}"


def report(res: dict) -> str:
    a = res["accuracy"]
    md = header("Cohort queries: shipped model vs gold on imd-cases test, and index/query speed", res["info"])
    md += [f"Indexes: {res['indexes']['documents']} imd-cases test reports; predicted = {res['indexes']['model']}; "
           "gold = the gold spans through the same assertion, code and patient steps. Queries: "
           "`benchmarks/cohort_queries.tsv` (written before any run). Document-level scores of the predicted "
           "index's matches against the gold index's.", "",
           "| id | exercises | query | gold docs | predicted docs | P | R | F1 |", "|---|---|---|---|---|---|---|---|"]
    for r in a["queries"]:
        q = r["query"].replace("|", "\\|")
        if "error" in r:
            md.append(f"| {r['id']} | {r['exercises']} | `{q}` | error: {r['error']} | | | | |")
        else:
            md.append(f"| {r['id']} | {r['exercises']} | `{q}` | {r['gold']} | {r['pred']} | {fmt(r['precision'])} "
                      f"| {fmt(r['recall'])} | {fmt(r['f1'])} |")
    m = a["micro"]
    md += [f"| | **total, micro** | | {m['gold']} | {m['pred']} | **{m['precision']:.2f}** | **{m['recall']:.2f}** "
           f"| **{m['f1']:.2f}** |",
           f"| | **macro F1** ({a['macro_over']} queries with matches) | | | | | | **{fmt(a['macro_f1'])}** |", "",
           "P is undefined (–) when the predicted index matches nothing, R when the gold index does.", ""]
    s = res["index_speed"]
    md += ["## Indexing speed", "",
           f"{s['corpus']}, fresh process each (start-up and model loading included), {s['repeats']} interleaved "
           "repeats, medians:", "",
           "| command | seconds (each run) | documents/s |", "|---|---|---|",
           f"| `imner extract DIR -o out.jsonl` | {', '.join(map(str, s['extract_seconds']))} | "
           f"{s['extract_docs_per_s']} |",
           f"| `imner index DIR --db FILE` | {', '.join(map(str, s['index_seconds']))} | {s['index_docs_per_s']} |",
           "", f"The index step costs {s['index_cost_over_extract'] * 100:.1f}% over `imner extract` alone "
           f"(median of each repeat's ratio; all: {', '.join(f'{x * 100:.1f}%' for x in s['index_cost_over_extract_all'])}). "
           "Whole-process times on this shared machine vary as much as that, so the cost is also measured inside "
           "each index run (`imner index --timings`): the seconds spent storing (sentence bounds, rows, one "
           "transaction per batch) over the rest of the same run: "
           f"{s['in_run_store_cost'] * 100:.1f}% (all: {', '.join(f'{x * 100:.1f}%' for x in s['in_run_store_cost_all'])}).",
           ""]
    lt = res["latency"]
    md += ["## Query latency", "",
           f"{lt['documents']:,} documents ({lt['entities']:,} entities), synthesised: {lt['synthesised']} (the same "
           f"texts repeated). Each of the queries above run {res['query_repeats']} times in one process "
           "(lexicon and hierarchy loaded once; parsing, resolution against the index and SQL each run): "
           f"median **{lt['median_ms']} ms**, p95 **{lt['p95_ms']} ms**, max {lt['max_ms']} ms over {lt['runs']} runs.",
           "", "## Monitor example (synthetic dates)", "",
           "MACCROBAT has no dates: each of the 200 reports got a **synthetic** date (a day of 2024 from a hash of "
           "its id; one in twenty left undated on purpose), then `imner monitor` by month: "
           f"`{res['monitor_example']['png']}`, `{res['monitor_example']['csv']}`. Undated, counted apart: "
           + ", ".join(f"{q} {v['undated']} of {v['matched']}" for q, v in res["monitor_example"]["queries"].items())
           + ".", "", f"Load average at the end: {', '.join(f'{x:.2f}' for x in res['load_average_end'])}.", ""]
    return "\n".join(md)


README_START, README_END = "<!-- cohort-benchmark:start -->", "<!-- cohort-benchmark:end -->"


def _spread(xs: list[float]) -> float:
    return (max(xs) - min(xs)) / median(xs)


def readme_block(res: dict) -> str:
    """The README's benchmark block (between the markers), from the results."""
    a, s, lt = res["accuracy"], res["index_speed"], res["latency"]
    m = a["micro"]
    lines = [README_START,
             f"`python benchmarks/cohort.py` → [results](benchmarks/results/cohort.md) ({res['info']['date'][:10]}, "
             f"commit {res['info']['commit']}). {len(a['queries'])} queries (`benchmarks/cohort_queries.tsv`, "
             f"written before any run) on the MACCROBAT test split of imd-cases ({res['indexes']['documents']} reports): the "
             "shipped model's index against an index of the gold spans put through the same assertion, code and "
             "patient steps; document-level scores. Many queries match no test document in either index (a "
             "40-report split); they are listed, and left out of the macro mean.", "",
             "| id | query | gold docs | predicted docs | P | R | F1 |", "|---|---|---|---|---|---|---|"]
    for r in a["queries"]:
        q = r["query"].replace("|", "\\|")
        if "error" in r:
            lines.append(f"| {r['id']} | `{q}` | error: {r['error']} | | | | |")
        else:
            lines.append(f"| {r['id']} | `{q}` | {r['gold']} | {r['pred']} | {fmt(r['precision'])} | "
                         f"{fmt(r['recall'])} | {fmt(r['f1'])} |")
    lines += [f"| | **total (micro, summed over queries)** | {m['gold']} | {m['pred']} | **{m['precision']:.2f}** | "
              f"**{m['recall']:.2f}** | **{m['f1']:.2f}** |",
              f"| | **macro F1** ({a['macro_over']} queries with matches) | | | | | **{fmt(a['macro_f1'])}** |", "",
              f"Speed: `imner index` on all 200 MACCROBAT reports runs at {s['index_docs_per_s']} documents/s "
              f"(`imner extract`: {s['extract_docs_per_s']}, whole process, medians of {s['repeats']} interleaved "
              f"runs on the shared 2-core machine); storing costs {s['in_run_store_cost'] * 100:.1f}% over the rest "
              "of the index run (its own time, `imner index --timings`; the whole-process difference is "
              f"{s['index_cost_over_extract'] * 100:+.1f}%, where `imner extract`'s own runs spread by "
              f"{_spread(s['extract_seconds']) * 100:.0f}%). Query latency "
              f"on {lt['documents']:,} documents ({lt['entities']:,} entities; synthesised by repeating the 200 "
              f"reports {COPIES} times under new ids): median {lt['median_ms']:.0f} ms, p95 {lt['p95_ms']:.0f} ms.",
              README_END]
    return "\n".join(lines)


def update_readme(res: dict) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    if README_START in text and README_END in text:
        a, rest = text.split(README_START, 1)
        _, b = rest.split(README_END, 1)
        readme.write_text(a + readme_block(res) + b, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--query-repeats", type=int, default=5)
    ap.add_argument("--render-only", action="store_true",
                    help="rewrite cohort.md and the README block from the saved cohort.json (no runs)")
    args = ap.parse_args()
    if args.render_only:
        res = json.loads((RESULTS / "cohort.json").read_text(encoding="utf-8"))
        (RESULTS / "cohort.md").write_text(report(res), encoding="utf-8")
        update_readme(res)
        return
    info = run_info(f"python benchmarks/cohort.py --repeats {args.repeats} --query-repeats {args.query_repeats}")
    work = Path(tempfile.mkdtemp(prefix="imner-cohort-bench-"))
    try:
        gold_db, pred_db, idx = build_indexes(work)
        acc = accuracy(gold_db, pred_db)
        speed, mac_db = index_speed(work, args.repeats)
        mon = monitor_example(mac_db, work)
        big = work / "big.duckdb"
        synthesise(mac_db, big, COPIES)
        lat = latency(big, args.query_repeats)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res = {"info": info, "indexes": idx, "accuracy": acc, "index_speed": speed, "latency": lat, "monitor_example": mon,
           "query_repeats": args.query_repeats, "load_average_end": list(os.getloadavg())}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cohort.json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    (RESULTS / "cohort.md").write_text(report(res), encoding="utf-8")
    update_readme(res)
    print(report(res))


if __name__ == "__main__":
    main()
