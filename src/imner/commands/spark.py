"""``imner spark INPUT --output DIR``: ``imner extract`` on Apache Spark (needs the ``spark`` extra and Java 17).

INPUT: a folder of ``.txt`` files (id = file stem; bytes decoded as ``imner extract`` decodes them), a JSONL file
(or folder of them) of ``{"id", "text"}`` lines, or Parquet (a file or a dataset folder) with ``--text-col`` /
``--id-col`` columns. Local paths or any URI Spark reads (``s3://``, ``hdfs://``, ``dbfs:/``).

DIR gets Spark's partitioned output (``part-*.parquet`` or ``part-*.json``): one row per input document with
``id``, ``entities``, ``patient`` and ``error`` (see :mod:`imner.spark`), and the input's other columns except the
text (``--include-text`` keeps it). Rows that cannot be processed (null or non-string text, bad UTF-8, an
unparsable JSON line) are kept, with the reason in ``error``. A local DIR is written to a temporary folder beside it
and renamed into place when the job has succeeded, so a failed run leaves an earlier output untouched; a remote DIR
must not exist yet.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

FORMATS = ("parquet", "jsonl")
INPUT_FORMATS = ("auto", "text", "jsonl", "parquet")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("spark", help="run extraction on Apache Spark (local or a cluster)", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help="folder of .txt files, .jsonl file/folder, or Parquet file/folder (path or URI)")
    p.add_argument("-o", "--output", required=True, help="output folder (Spark's partitioned files)")
    p.add_argument("--master", default=None,
                   help="Spark master (default local[*]; under spark-submit the session's own master is used)")
    p.add_argument("-f", "--format", choices=FORMATS, default="parquet", help="output format (default parquet)")
    p.add_argument("--input-format", choices=INPUT_FORMATS, default="auto",
                   help="how to read INPUT (default: from its suffix / contents)")
    p.add_argument("--partitions", type=int, default=None, help="repartition the input into N partitions first")
    p.add_argument("--text-col", default="text", help="text column of Parquet input (default text)")
    p.add_argument("--id-col", default="id", help="id column of Parquet input (default id)")
    p.add_argument("-m", "--model", default=None,
                   help="model directory, present on every worker (default: the shipped model in the wheel)")
    p.add_argument("--no-assertion", action="store_true", help="skip negation/uncertainty/history/family")
    p.add_argument("--no-normalize", action="store_true", help="skip ontology codes")
    p.add_argument("--no-patient", action="store_true", help="skip the patient age/sex block")
    p.add_argument("--include-text", action="store_true", help="keep the text column in the output")
    p.set_defaults(func=run)


def _is_local(path: str) -> bool:
    scheme = urlparse(path).scheme
    return scheme in ("", "file") or len(scheme) == 1  # a Windows drive letter


def _local(path: str) -> Path:
    return Path(unquote(urlparse(path).path)) if path.startswith("file:") else Path(path)


def input_kind(path: str, declared: str = "auto") -> str:
    """``text``, ``jsonl`` or ``parquet`` for INPUT."""
    from imner.errors import InputError

    if declared != "auto":
        return declared
    low = path.rstrip("/").lower()
    if low.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if low.endswith(".parquet"):
        return "parquet"
    if _is_local(path):
        p = _local(path)
        if not p.exists():
            raise InputError("input not found; expected a folder of .txt files, a .jsonl file or Parquet",
                             source=str(p))
        if p.is_dir():
            names = [f.name.lower() for f in p.iterdir() if f.is_file()]
            if any(n.endswith(".parquet") for n in names):
                return "parquet"
            if any(n.endswith(".txt") for n in names):
                return "text"
            if any(n.endswith((".jsonl", ".ndjson", ".json")) for n in names):
                return "jsonl"
            raise InputError("no .txt, .jsonl or .parquet files in this folder (not searched recursively)",
                             source=str(p))
        if p.suffix.lower() in (".txt", ".text", ""):
            return "text"
    raise InputError("cannot tell the input format from the name; give --input-format text|jsonl|parquet",
                     source=path)


def read_input(spark, path: str, kind: str, text_col: str, id_col: str):
    """``(DataFrame, text column, id column, columns to drop from the output)``."""
    from pyspark.sql import functions as F

    if kind == "text":
        reader = spark.read.format("binaryFile").option("pathGlobFilter", "*.txt")
        df = reader.load(path)
        stem = F.regexp_replace(F.regexp_extract("path", r"([^/]*)$", 1), r"\.[^.]*$", "")
        # Spark gives URL-encoded paths; '+' is literal in a file name, so protect it before url_decode
        df = df.withColumn("id", F.url_decode(F.regexp_replace(stem, r"\+", "%2B")))
        return df.select("id", "path", F.col("content").alias("text")), "text", "id", ()
    if kind == "jsonl":
        df = (spark.read.schema("id string, text string, _corrupt_record string")
              .option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", "_corrupt_record").json(path))
        return df, "text", "id", ()
    df = spark.read.parquet(path)
    return df, text_col, id_col, ()


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Move ``tmp`` to ``out``; an earlier ``out`` is removed only once the new one is in place."""
    import shutil

    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{tmp.name.rsplit('-', 1)[-1]}")
        out.rename(old)
    try:
        tmp.rename(out)
    except OSError:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    import shutil
    import tempfile
    import time

    from imner.errors import InputError

    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SystemExit("imner spark: needs pyspark: pip install 'imner[spark]' (and Java 17)") from None
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from imner.spark import annotate, local_session

    kind = input_kind(args.input, args.input_format)
    if args.partitions is not None and args.partitions < 1:
        raise InputError(f"--partitions must be at least 1, got {args.partitions}")
    active = SparkSession.getActiveSession()
    spark = active if active is not None and args.master is None else local_session(args.master or "local[*]")
    t0 = time.perf_counter()
    df, text_col, id_col, _ = read_input(spark, args.input, kind, args.text_col, args.id_col)
    if args.partitions:
        df = df.repartition(args.partitions)
    out_df = annotate(df, text_col=text_col, id_col=id_col, model=args.model, assertion=not args.no_assertion,
                      normalize=not args.no_normalize, patient=not args.no_patient)
    if kind == "jsonl":
        bad = F.concat(F.lit("invalid JSON line: "), F.substring("_corrupt_record", 1, 200))
        out_df = out_df.withColumn("error", F.when(F.col("_corrupt_record").isNotNull(), bad)
                                   .otherwise(F.col("error"))).drop("_corrupt_record")
    if not args.include_text:
        out_df = out_df.drop(text_col)
    fmt = "json" if args.format == "jsonl" else "parquet"
    if _is_local(args.output):
        out = _local(args.output).resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        try:
            out_df.write.mode("overwrite").format(fmt).save(str(tmp))
            _swap_into_place(tmp, out)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        where = str(out)
    else:
        out_df.write.mode("errorifexists").format(fmt).save(args.output)
        where = args.output
    print(f"imner spark: done in {time.perf_counter() - t0:.1f} s -> {where} ({args.format}; rows with a "
          "non-null `error` could not be processed)", file=sys.stderr)
    if active is None:  # a session this command started
        spark.stop()
    return 0
