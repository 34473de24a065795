"""imner index: what is stored, incremental runs, model changes, duplicate ids, bad input, kill -9 and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("duckdb")

import cohort_fixtures as fx  # noqa: E402

from imner.cli import main  # noqa: E402
from imner.cohort import index, store  # noqa: E402
from imner.errors import InputError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def given(tmp_path_factory) -> Path:
    return fx.write_jsonl(tmp_path_factory.mktemp("given") / "cases.jsonl")


def _count(db, sql="SELECT count(*) FROM documents"):
    con = store.connect(db, read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_stores_documents_entities_patient_and_extra_fields(given, tmp_path):
    db = tmp_path / "i.duckdb"
    rep = index([str(given)], db)
    assert rep.indexed == 4 and rep.unchanged == 0
    con = store.connect(db, read_only=True)
    doc = con.execute("SELECT doc_id, text_hash, source, line, model_id, meta, age, sex FROM documents "
                      "WHERE doc_id = 'c1'").fetchone()
    assert doc[1] == store.text_hash(fx.CASES[0][1]) and doc[2] == "clinic-a" and doc[3] == 1
    assert doc[4] == "given"
    assert json.loads(doc[5]) == {"date": "2024-01-05", "patient_id": "P1", "source": "clinic-a"}
    assert doc[6] == 34.0 and doc[7] == "female"
    text = fx.CASES[0][1]
    rows = con.execute("SELECT start_offset, end_offset, text, label, negated, concept_id, codes, "
                       "sentence_start, sentence_end FROM entities WHERE doc_id = 'c1' ORDER BY idx").fetchall()
    for s, e, t, _, _, _, _, ss, se in rows:
        assert text[s:e] == t and ss <= s and e <= se
    cmv = next(r for r in rows if r[2] == "Cytomegalovirus")
    assert cmv[4] is True and cmv[5] == "NCBITaxon:10359" and "NCBITaxon:10359" in cmv[6]
    sle = next(r for r in rows if r[3] == "IMMUNE_DISEASE")
    assert "ICD10CM:M32.9" in sle[6] or "ICD10CM:M32" in sle[6]
    con.close()


def test_incremental_and_model_change(given, tmp_path):
    db = tmp_path / "i.duckdb"
    recs = list(store.iter_records(str(given)))
    con = store.connect(db)
    assert store.index_records(con, recs, None, "m1", "v1").indexed == 4
    again = store.index_records(con, recs, None, "m1", "v1")
    assert (again.indexed, again.unchanged) == (0, 4)
    other = store.index_records(con, recs, None, "m2", "v1")
    assert (other.indexed, other.other_model) == (0, 4) and "--reindex" in other.notes[0]
    re = store.index_records(con, recs, None, "m2", "v1", reindex=True)
    assert (re.indexed, re.reindexed) == (4, 4)
    assert con.execute("SELECT DISTINCT model_id FROM documents").fetchall() == [("m2",)]
    assert con.execute("SELECT count(*) FROM entities").fetchone()[0] == sum(len(c[2]) for c in fx.CASES)
    con.close()


def test_duplicate_ids_name_both_lines(tmp_path):
    p = tmp_path / "dup.jsonl"
    p.write_text('{"id": "x", "text": "fever"}\n{"id": "y", "text": "cough"}\n{"id": "x", "text": "rash"}\n',
                 encoding="utf-8")
    db = tmp_path / "d.duckdb"
    con = store.connect(db)
    with pytest.raises(InputError) as e:
        store.index_records(con, store.iter_records(str(p)), None, "m", "v")
    msg = str(e.value)
    assert msg.startswith(f"{p}, line 3: ") and f"first at {p}, line 1" in msg
    assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 2  # what came before is kept
    rep = store.index_records(con, store.iter_records(str(p)), None, "m", "v", on_duplicate="replace")
    assert rep.replaced == 1
    assert con.execute("SELECT text FROM documents WHERE doc_id = 'x'").fetchone()[0] == "rash"
    rep = store.index_records(con, store.iter_records(str(p)), None, "m", "v", on_duplicate="skip")
    assert con.execute("SELECT text FROM documents WHERE doc_id = 'x'").fetchone()[0] == "rash"
    con.close()


def test_bad_input_stops_like_extract_and_keeps_what_was_indexed(tmp_path, capsys):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"id": "a", "text": "fever", "entities": []}\n{"id": "b", "text": "cough", "entities": []}\n'
                 '{"id": "c", "entities": []}\n', encoding="utf-8")
    db = tmp_path / "b.duckdb"
    rc = main(["index", str(p), "--db", str(db), "-q", "--batch-size", "1"])
    err_index = capsys.readouterr().err
    rc2 = main(["extract", str(p), "-o", str(tmp_path / "o.jsonl"), "-q"])
    err_extract = capsys.readouterr().err
    assert rc == rc2 != 0
    # the same message; extract adds where its partial output went
    assert err_extract.split("error: ", 1)[1].startswith(err_index.split("error: ", 1)[1].splitlines()[0])
    assert "line 3" in err_index and "\"text\"" in err_index
    assert "keeps its 2 indexed documents" in err_index
    assert _count(db) == 2


DRIVER = textwrap.dedent("""
    import sys, time
    from imner.cohort import store
    db, src, slow = sys.argv[1], sys.argv[2], float(sys.argv[3])
    def annotate(docs):
        time.sleep(slow)
        return docs
    con = store.connect(db)
    rep = store.index_records(con, store.iter_records(src), annotate, "m", "v", batch_size=3,
                              progress=lambda n: print("committed", n, flush=True))
    print("done", rep.indexed, rep.unchanged, flush=True)
""")


def test_kill_9_midway_then_resume_loses_nothing_and_duplicates_nothing(tmp_path):
    n = 30
    src = tmp_path / "many.jsonl"
    with open(src, "w", encoding="utf-8") as fh:
        for i in range(n):
            text = f"Case {i}: fever and cough."
            ents = [{"start": text.index("fever"), "end": text.index("fever") + 5, "label": "SIGN_SYMPTOM"},
                    {"start": text.index("cough"), "end": text.index("cough") + 5, "label": "SIGN_SYMPTOM"}]
            fh.write(json.dumps({"id": f"d{i:02d}", "text": text, "entities": ents}) + "\n")
    db = tmp_path / "k.duckdb"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(db), str(src), "0.3"], stdout=subprocess.PIPE,
                            text=True, env=env)
    commits = 0
    deadline = time.monotonic() + 60
    while commits < 2 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("committed"):
            commits += 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert commits == 2, "the driver did not commit two batches"
    kept = _count(db)
    assert 6 <= kept < n  # whole batches only
    assert _count(db, "SELECT count(*) FROM entities") == 2 * kept
    out = subprocess.run([sys.executable, "-c", DRIVER, str(db), str(src), "0"], capture_output=True, text=True,
                         env=env, check=True).stdout
    done = out.strip().splitlines()[-1].split()
    assert done == ["done", str(n - kept), str(kept)]
    assert _count(db) == n
    assert _count(db, "SELECT count(DISTINCT doc_id) FROM documents") == n
    assert _count(db, "SELECT count(*) FROM entities") == 2 * n
    assert _count(db, "SELECT count(*) FROM (SELECT doc_id, idx FROM entities GROUP BY ALL HAVING count(*) > 1)") == 0


def test_import_imner_cohort_stays_light():
    code = ("import sys, imner, imner.cohort, imner.cohort.language, imner.cohort.store, imner.commands.cohort; "
            "bad = [m for m in ('duckdb', 'lark', 'pyarrow', 'fhir', 'matplotlib', 'plotly') if m in sys.modules]; "
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")}).stdout.strip()
    assert out == "[]"
