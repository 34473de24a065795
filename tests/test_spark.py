"""imner.spark on a local[2] session: same entities as `imner extract`, bad rows reported in `error`.

One Spark session for the whole module (starting one takes ~10-40 s here). Skipped, saying why, without pyspark or
without Java."""

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="pyspark not installed (pip install 'imner[spark]')")
pytest.importorskip("pyarrow", reason="pyarrow not installed (pip install 'imner[spark]')")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("no Java runtime (apt-get install openjdk-17-jre-headless)", allow_module_level=True)

pytestmark = [pytest.mark.timeout(600), pytest.mark.filterwarnings("ignore::FutureWarning"),
              pytest.mark.filterwarnings("ignore:.*empty text:UserWarning")]

ROOT = Path(__file__).resolve().parents[1]
DOCS = {
    "case": (ROOT / "examples" / "case_report.txt").read_text(encoding="utf-8"),
    "short": "A 5-year-old boy presented with fever and a rash; measles was suspected but not confirmed.",
    "neg": "She denied cough. There was no history of tuberculosis. Her mother has rheumatoid arthritis.",
    "empty": "",
}


def _compare_form(rec: dict) -> dict:
    """A JSONL record with null attributes left out (the Spark structs cannot tell null from absent)."""
    patient = {k: v for k, v in (rec.get("patient") or {}).items() if v is not None}
    return {"id": rec["id"], "patient": patient,
            "entities": [{k: v for k, v in e.items() if v is not None} for e in rec["entities"]]}


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in [str(ROOT / "src"), os.environ.get("PYTHONPATH")] if p)
    # a JVM that starts cheaply for these two small jobs (client JIT only, serial GC): about a third less time here;
    # the CLI test's `imner spark` child inherits it
    os.environ.setdefault("PYSPARK_SUBMIT_ARGS",
                          '--driver-java-options "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC" pyspark-shell')
    import signal

    from imner.spark import local_session

    sigint = signal.getsignal(signal.SIGINT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        session = local_session("local[2]", app_name="imner-test")
    yield session
    session.stop()
    signal.signal(signal.SIGINT, sigint)  # SparkContext installs its own SIGINT handler and leaves it after stop()


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    """`imner extract` (in-process pipeline) output for DOCS."""
    tmp = tmp_path_factory.mktemp("extract")
    src = tmp / "in.jsonl"
    src.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in DOCS.items()), encoding="utf-8")
    out = tmp / "out.jsonl"
    from imner.cli import main

    assert main(["extract", str(src), "-o", str(out), "-q"]) == 0
    return {r["id"]: _compare_form(r) for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}


def test_annotate_matches_extract_and_reports_bad_rows(spark, expected):
    from imner.spark import annotate, record_from_row

    rows = [(k, v, i) for i, (k, v) in enumerate(DOCS.items())] + [("null", None, 99)]
    df = spark.createDataFrame(rows, "id string, text string, n int").repartition(2)
    got = {r["id"]: r for r in annotate(df).collect()}
    assert set(got) == set(DOCS) | {"null"}
    assert got["case"]["n"] == 0  # input columns kept
    for key in DOCS:
        assert got[key]["error"] is None, got[key]["error"]
        assert _compare_form(record_from_row(got[key])) == expected[key], key
    assert len(expected["case"]["entities"]) > 10
    assert got["null"]["entities"] is None and "text is null" in got["null"]["error"]


def test_cli_spark_writes_jsonl_and_keeps_old_output(spark, expected, tmp_path):
    """`imner spark` over a .txt folder (the session above is reused), and a failed run leaves the old output."""
    from imner.cli import main

    src = tmp_path / "txt"
    src.mkdir()
    for k in ("case", "short"):
        (src / f"{k}.txt").write_text(DOCS[k], encoding="utf-8")
    (src / "bad.txt").write_bytes(b"caf\xe9 fever\n")
    out = tmp_path / "out"
    assert main(["spark", str(src), "--output", str(out), "--format", "jsonl", "--partitions", "2"]) == 0
    recs = {}
    for part in sorted(out.glob("part-*.json")):
        for line in part.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            recs[r["id"]] = r
    assert set(recs) == {"case", "short", "bad"}
    assert "not valid UTF-8 at byte offset 3" in recs["bad"]["error"]
    from imner.spark import record_from_row

    for k in ("case", "short"):
        assert _compare_form(record_from_row(recs[k])) == expected[k]
    (out / "keep.txt").write_text("old", encoding="utf-8")
    assert main(["spark", str(tmp_path / "missing"), "--output", str(out)]) != 0
    assert (out / "keep.txt").read_text(encoding="utf-8") == "old"
