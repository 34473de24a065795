"""The REST API of ``imner serve``: the same records as ``imner extract``, limits, bad input, overload, logs."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import zipfile

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("fastapi_offline")
from fastapi.testclient import TestClient  # noqa: E402

from imner.cli import main as cli_main  # noqa: E402
from imner.pipeline import Pipeline  # noqa: E402
from imner.serve.app import create_app  # noqa: E402
from imner.serve.settings import ServeSettings  # noqa: E402
from imner.types import Span  # noqa: E402

TEXTS = {
    "r1": "A 34-year-old woman with systemic lupus erythematosus (SLE) had no fever.\r\nHer mother had rheumatoid "
          "arthritis. Blood cultures grew Staphylococcus aureus; vancomycin was started.",
    "r2": "Patient 😀 (72 y, male) denied cough; possible pneumonia. Créatinine 1.2 mg/dL.",
}


def wait_ready(client: TestClient, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while client.get("/health").status_code != 200:
        assert time.monotonic() < deadline, client.get("/health").json()
        time.sleep(0.05)


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        wait_ready(c)
        yield c


class FakeTagger:
    """Tags the word 'fever' as SIGN_SYMPTOM; sleeps ``delay`` s per call; raises when the text says 'boom'."""

    name = "fake.v1"
    labels = ("SIGN_SYMPTOM",)

    def __init__(self, delay: float = 0.0, gate: threading.Event | None = None) -> None:
        self.delay, self.gate, self.calls = delay, gate, 0

    def annotate(self, docs):
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(10)
        time.sleep(self.delay)
        out = []
        for d in docs:
            if "boom" in d.text:
                raise ValueError(f"tagger failed on {d.text!r}")
            i = d.text.find("fever")
            out.append(d.with_spans([Span(i, i + 5, "SIGN_SYMPTOM")] if i >= 0 else []))
        return out


def fake_app(tagger: FakeTagger | None = None, **settings) -> TestClient:
    tagger = tagger or FakeTagger()
    return TestClient(create_app(ServeSettings(**settings), loader=lambda: Pipeline(tagger, [])))


def test_records_equal_imner_extract(client, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in TEXTS.items()), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert cli_main(["extract", str(src), "-o", str(out), "-q"]) == 0
    cli_records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sum(len(r["entities"]) for r in cli_records) > 5

    r = client.post("/v1/extract", json={"documents": [{"id": k, "text": v} for k, v in TEXTS.items()]})
    assert r.status_code == 200, r.text
    assert r.json()["documents"] == cli_records
    assert r.json()["model"]["tagger"] == "bilstm-onnx.v1"

    # one text/plain document: the same as `imner extract report.txt` (offsets count code points: 😀 is one)
    (tmp_path / "r2.txt").write_bytes(TEXTS["r2"].encode())
    assert cli_main(["extract", str(tmp_path / "r2.txt"), "-o", str(out), "-q"]) == 0
    r = client.post("/v1/extract?id=r2", content=TEXTS["r2"].encode(), headers={"Content-Type": "text/plain"})
    assert r.status_code == 200
    assert r.json()["documents"] == [json.loads(out.read_text(encoding="utf-8"))]

    # options switch steps off as the CLI flags do
    assert cli_main(["extract", str(src), "-o", str(out), "-q", "--no-assertion", "--no-patient"]) == 0
    r = client.post("/v1/extract", json={"documents": [{"id": k, "text": v} for k, v in TEXTS.items()],
                                         "options": {"assertion": False, "patient": False}})
    assert r.json()["documents"] == [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_schema_model_concepts_docs_and_export(client):
    labels = client.get("/v1/labels").json()["labels"]
    assert len(labels) == 12 and all(lab["description"] and lab["color"].startswith("#") for lab in labels)
    model = client.get("/v1/model").json()
    assert model["tagger"] == "bilstm-onnx.v1" and len(model["weights_sha256"]) == 64
    assert model["limits"]["max_documents"] == 256
    assert client.get("/v1/concepts", params={"ids": "DOID:9074,NOPE:1"}).json()["concepts"] == {
        "DOID:9074": {"name": "systemic lupus erythematosus", "label": "IMMUNE_DISEASE", "source": "DO",
                      "category": "immune", "subcategory": "autoimmune", "kind": None, "icd10cm": ["M32", "M32.9"]},
        "NOPE:1": None}
    assert "/v1/extract" in client.get("/openapi.json").json()["paths"]
    docs = client.get("/docs").text
    assert "/static-docs/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()

    res = client.post("/v1/extract", json={"documents": [{"id": "r1", "text": TEXTS["r1"]}]}).json()["documents"]
    payload = {"documents": [{**res[0], "text": TEXTS["r1"]}]}
    lines = client.post("/v1/export?format=jsonl", json=payload).text.splitlines()
    assert [json.loads(line) for line in lines] == res
    z = zipfile.ZipFile(io.BytesIO(client.post("/v1/export?format=brat", json=payload).content))
    assert sorted(z.namelist()) == ["r1.ann", "r1.patient.json", "r1.txt"]
    assert z.read("r1.txt").decode() == TEXTS["r1"]
    assert "T1\t" in z.read("r1.ann").decode()
    assert json.loads(z.read("r1.patient.json")) == res[0]["patient"]
    bad = {"documents": [{**res[0], "text": "x" * len(TEXTS["r1"])}]}
    r = client.post("/v1/export?format=brat", json=bad)
    assert r.status_code == 422 and "does not match" in r.json()["error"]["message"]


def test_cohort_routes_and_fhir_export(client, tmp_path):
    pytest.importorskip("duckdb")
    from imner import cohort
    from imner.pipeline import load_pipeline
    from imner.types import Document

    db = tmp_path / "cases.duckdb"
    cohort.index_documents([Document(k, v) for k, v in TEXTS.items()], db=db, model_id="default",
                           model_version="test", annotate=load_pipeline())
    with TestClient(create_app(ServeSettings(db=str(db)))) as c:
        wait_ready(c)
        r = c.post("/v1/cohort", json={"query": "IMMUNE_DISEASE", "evidence": True})
        assert r.status_code == 200, r.text
        res = r.json()
        assert res["matched"] == 1 and res["documents"][0]["doc_id"] == "r1"
        ev = res["documents"][0]["evidence"]
        assert ev and all(TEXTS["r1"][e["start"]:e["end"]] == e["text"] for e in ev)
        r = c.post("/v1/cohort", json={"query": "IMMUNE_DISEASE AND ("})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_query"
        summary = c.get("/v1/documents/r1/summary")
        assert summary.status_code == 200 and summary.json()["patient"]["sex"] == "female"
        assert c.get("/v1/documents/nope/summary").status_code == 404
    res = client.post("/v1/extract", json={"documents": [{"id": "r1", "text": TEXTS["r1"]}]}).json()["documents"]
    r = client.post("/v1/export?format=fhir", json={"documents": [{**res[0], "text": TEXTS["r1"]}]})
    assert r.status_code == 200, r.text
    bundle = json.loads(r.text.splitlines()[0])
    assert bundle["resourceType"] == "Bundle" and len(bundle["entry"]) > 1


def test_health_503_until_loaded():
    gate = threading.Event()
    started = threading.Event()

    def slow_loader():
        started.set()
        gate.wait(10)
        return Pipeline(FakeTagger(), [])

    with TestClient(create_app(loader=slow_loader)) as c:
        started.wait(5)
        assert c.get("/health").status_code == 503
        r = c.post("/v1/extract", json={"documents": [{"text": "fever"}]})
        assert r.status_code == 503 and r.json()["error"]["code"] == "model_loading"
        gate.set()
        wait_ready(c, 10)
        doc = c.post("/v1/extract", json={"documents": [{"text": "no fever"}]}).json()["documents"][0]
        assert doc["id"] == "0" and len(doc["entities"]) == 1
        assert {k: doc["entities"][0][k] for k in ("start", "end", "label", "text")} == {
            "start": 3, "end": 8, "label": "SIGN_SYMPTOM", "text": "fever"}


def test_limits_answer_with_their_name_and_value():
    with fake_app(max_body_bytes=2000, max_documents=3, max_text_chars=50, timeout_seconds=0.3,
                  tagger=FakeTagger(delay=0.05)) as c:
        wait_ready(c)
        cases = [
            (c.post("/v1/extract", content=b"x" * 2001, headers={"Content-Type": "text/plain"}),
             413, "max_body_bytes", 2000),
            (c.post("/v1/extract", json={"documents": [{"text": "a"}] * 4}), 413, "max_documents", 3),
            (c.post("/v1/extract", json={"documents": [{"text": "a"}, {"id": "long", "text": "b" * 51}]}),
             413, "max_text_chars", 50),
            (c.post("/v1/extract", json={"documents": [{"text": "fever"}] * 3}, params={}), None, None, None),
        ]
        for r, status, limit, value in cases[:3]:
            assert r.status_code == status, r.text
            assert r.json()["error"]["limit"] == limit and r.json()["error"]["value"] == value
            assert str(value) in r.json()["error"]["message"]
        assert cases[3][0].status_code == 200
        # a chunked body without Content-Length is counted as it arrives
        r = c.post("/v1/extract", content=iter([b"y" * 1500, b"y" * 1500]), headers={"Content-Type": "text/plain"})
        assert r.status_code == 413 and r.json()["error"]["limit"] == "max_body_bytes"
    with fake_app(timeout_seconds=0.2, batch_size=1, tagger=FakeTagger(delay=0.15)) as c:
        wait_ready(c)
        t0 = time.monotonic()
        r = c.post("/v1/extract", json={"documents": [{"text": "fever"}] * 3})
        assert r.status_code == 504 and time.monotonic() - t0 < 1.0
        assert r.json()["error"] == {"code": "timeout", "limit": "timeout_seconds", "value": 0.2,
                                     "message": "the request did not finish in time (limit timeout_seconds = 0.2)"}
        time.sleep(0.4)  # the job stopped at its next batch and gave its slot back
        assert c.get("/health").json()["queue"]["in_use"] == 0


def test_bad_input_is_a_clear_error_without_traceback(caplog):
    with fake_app() as c:
        wait_ready(c)
        r = c.post("/v1/extract", content=b'{"documents": [', headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and r.json()["error"]["errors"][0]["type"] == "json_invalid"
        r = c.post("/v1/extract", json={"documents": [{"id": "a", "text": 5}], "options": {"assertion": "yes"}})
        assert r.status_code == 422
        assert sorted(e["loc"] for e in r.json()["error"]["errors"]) == [
            ["body", "documents", 0, "text"], ["body", "options", "assertion"]]
        r = c.post("/v1/extract", json={"docs": []})
        assert r.status_code == 422 and ["body", "documents"] in [e["loc"] for e in r.json()["error"]["errors"]]
        r = c.post("/v1/extract", content="fièvre".encode("latin-1"), headers={"Content-Type": "text/plain"})
        assert r.status_code == 400 and r.json()["error"]["offset"] == 2
        r = c.post("/v1/extract", content=b"<x/>", headers={"Content-Type": "application/xml"})
        assert r.status_code == 415
        with caplog.at_level(logging.INFO, logger="imner.serve"):
            r = c.post("/v1/extract", json={"documents": [{"text": "secret boom text"}]})
        assert r.status_code == 500 and r.json() == {"error": {
            "code": "internal_error", "message": "internal error; the server log has the details"}}
        logged = "\n".join(rec.getMessage() for rec in caplog.records)
        assert "POST /v1/extract 500" in logged and "in=" in logged and "ValueError" in logged
        assert "secret" not in logged and "secret" not in r.text


def test_overload_answers_503_at_once_and_recovers():
    gate = threading.Event()
    gate.set()  # open for the warm-up call of loading
    with fake_app(tagger=FakeTagger(gate=gate), queue_size=2) as c:
        wait_ready(c)
        gate.clear()
        results: list[int] = []
        threads = [threading.Thread(target=lambda: results.append(
            c.post("/v1/extract", json={"documents": [{"text": "fever"}]}).status_code)) for _ in range(2)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 5
        while c.get("/health").json()["queue"]["in_use"] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        t0 = time.monotonic()
        r = c.post("/v1/extract", json={"documents": [{"text": "fever"}]})
        assert r.status_code == 503 and time.monotonic() - t0 < 0.5
        assert r.json()["error"]["limit"] == "queue_size" and r.headers["retry-after"] == "1"
        gate.set()
        for t in threads:
            t.join(5)
        assert results == [200, 200]
        assert c.post("/v1/extract", json={"documents": [{"text": "fever"}]}).status_code == 200


def test_imner_serve_command_binds_localhost_and_loads_once_per_worker(tmp_path):
    import socket
    import subprocess
    import sys
    from pathlib import Path

    import httpx

    assert cli_main(["serve", "--db", str(tmp_path / "x.duckdb")]) == 1  # no such index: a message, not a server
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = str(Path(__file__).resolve().parents[1] / "src")
    proc = subprocess.Popen([sys.executable, "-m", "imner.cli", "serve", "--port", str(port), "--workers", "2"],
                            env={**__import__("os").environ, "PYTHONPATH": src}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        pids, deadline = set(), time.monotonic() + 90
        while len(pids) < 2:  # two workers, each answering /health once its own model is loaded
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()[-2000:]
            try:
                with httpx.Client() as http:  # a fresh connection each time, so either worker may answer
                    r = http.get(f"http://127.0.0.1:{port}/health")
                if r.status_code == 200:
                    pids.add(r.json()["worker_pid"])
            except httpx.TransportError:
                time.sleep(0.2)
        conns = [line for line in open("/proc/net/tcp").read().splitlines()[1:]
                 if line.split()[1].endswith(f":{port:04X}") and line.split()[3] == "0A"]  # LISTEN
        assert conns and all(line.split()[1].startswith("0100007F") for line in conns)  # 127.0.0.1 only
    finally:
        proc.terminate()
        proc.wait(20)


def test_import_and_cli_stay_light():
    import subprocess
    import sys

    code = ("import sys, imner, imner.cli, imner.serve, imner.serve.settings; imner.cli.build_parser(); "
            "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'pydantic', 'spacy', 'httpx') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
