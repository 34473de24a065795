"""The web app in a real browser: Debian's chromium driven by playwright, against `imner serve`'s app on uvicorn.

The screenshots go to ``$IMNER_SCREENSHOTS`` when set (``IMNER_SCREENSHOTS=docs/img`` makes the committed ones),
else to the test's temporary folder.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from imner.serve.app import create_app  # noqa: E402

REPORT = ("A 34-year-old woman with a history of systemic lupus erythematosus (SLE) presented with fever and "
          "pleuritic chest pain. She denied cough. Her mother had rheumatoid arthritis. Blood cultures grew "
          "Staphylococcus aureus, and endocarditis was suspected. She had tuberculosis in 2010. Vancomycin was "
          "started. If pneumonia is confirmed, antibiotics will be added.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(app):
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/health").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "server did not become ready"
        time.sleep(0.1)
    return url, srv, thread


@pytest.fixture(scope="module")
def server():
    url, srv, thread = start_server(create_app())
    yield url
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def page(server):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        ctx = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
        pg = ctx.new_page()
        pg.outside_requests = []  # type: ignore[attr-defined]
        pg.on("request", lambda r: None if r.url.startswith(server) else pg.outside_requests.append(r.url))
        yield pg
        browser.close()


def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("IMNER_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_type_submit_highlight_and_panel(server, page, tmp_path):
    page.goto(server + "/")
    page.wait_for_function("document.querySelector('#model-info').textContent.startsWith('model:')")
    assert not page.is_visible("#downloads") and not page.is_visible("#cohort")  # nothing to download, no --db
    page.fill("#text", REPORT)
    page.click("#run")
    page.wait_for_selector("mark.ent[data-label]")

    marks = page.eval_on_selector_all("#results mark.ent", """ms => ms.map(m => ({
        text: m.firstChild.textContent, label: m.dataset.label, cls: [...m.classList].filter(c => c !== 'ent')}))""")
    found = {(m["text"], m["label"]): m["cls"] for m in marks}
    assert found[("systemic lupus erythematosus", "IMMUNE_DISEASE")] == ["hist"]
    assert found[("cough", "SIGN_SYMPTOM")] == ["neg"]
    assert found[("rheumatoid arthritis", "IMMUNE_DISEASE")] == ["fam"]
    # the class of a bare "endocarditis" is the model's call (OTHER_DISEASE by guideline rule 4); its flag is not
    assert [cls for (text, _label), cls in found.items() if text == "endocarditis"] == [["unc"]]
    assert found[("pneumonia", "INFECTIOUS_DISEASE")] == ["hyp"]
    assert found[("Vancomycin", "MEDICATION")] == []
    # each assertion is marked differently: its own badge text and its own border style
    styles = {}
    for cls, flag in (("neg", "NEG"), ("unc", "?"), ("hyp", "HYP"), ("hist", "HIST"), ("fam", "FAM")):
        m = page.locator(f"#results mark.ent.{cls}").first
        assert m.locator(f".flag.{cls}").inner_text() == flag
        styles[cls] = m.evaluate("m => [getComputedStyle(m).borderStyle, getComputedStyle(m).textDecorationLine,"
                                 " getComputedStyle(m).textDecorationStyle, getComputedStyle(m).fontStyle].join()")
    assert len(set(styles.values())) == 5, styles
    # the highlighted text is the report, character for character
    assert page.inner_text("#results .text").replace("IMMUNE_DISEASE", "") != ""
    assert page.eval_on_selector("#results .text", "d => [...d.childNodes].map(n => n.nodeType === 3 ? "
                                 "n.textContent : n.firstChild.textContent).join('')") == REPORT

    card = page.inner_text(".patient-card")
    assert "34 years" in card and "adult" in card and "female" in card and "“woman”" in card

    page.locator("mark.ent", has_text="systemic lupus erythematosus").first.click()
    panel = page.inner_text("#panel")
    assert "IMMUNE_DISEASE" in panel and "DOID:9074 systemic lupus erythematosus" in panel
    assert "M32" in panel and "immune · autoimmune" in panel and "historical: yes" in panel
    assert "negated: no" in panel and "{" not in panel
    page.screenshot(path=str(shots(tmp_path) / "serve-app.png"), full_page=True)

    page.locator("mark.ent", has_text="Staphylococcus aureus").first.hover()  # pinned: hover does not replace
    assert "systemic lupus" in page.inner_text("#panel h3")
    page.locator("mark.ent", has_text="Staphylococcus aureus").first.click()
    assert "NCBITaxon:1280 Staphylococcus aureus" in page.inner_text("#panel")
    assert page.outside_requests == []


def test_legend_toggle_upload_and_download(server, page, tmp_path):
    page.goto(server + "/")
    page.wait_for_function("document.querySelector('#model-info').textContent.startsWith('model:')")
    upload = tmp_path / "two.jsonl"
    upload.write_text(json.dumps({"id": "a", "text": REPORT}) + "\n" +
                      json.dumps({"id": "b", "text": "No rash; possible Lyme disease 😀."}) + "\n", encoding="utf-8")
    page.set_input_files("#files", str(upload))
    page.click("#run")
    page.wait_for_selector("article[data-doc='b'] mark.ent")
    assert page.inner_text("#status").startswith("2 document(s)")
    assert page.locator("article[data-doc='b'] mark.ent", has_text="Lyme disease").count() == 1

    page.click("#labels button[data-label='IMMUNE_DISEASE']")
    assert page.get_attribute("#labels button[data-label='IMMUNE_DISEASE']", "aria-pressed") == "false"
    off = page.eval_on_selector_all("mark.ent[data-label='IMMUNE_DISEASE']", "ms => ms.map(m => m.classList.contains('off'))")
    assert off and all(off)
    assert page.locator("mark.ent.off").count() == len(off)
    page.screenshot(path=str(shots(tmp_path) / "serve-app-legend.png"), full_page=True)
    page.click("#labels button[data-label='IMMUNE_DISEASE']")
    assert page.locator("mark.ent.off").count() == 0

    with page.expect_download() as dl:
        page.click("#downloads button[data-format='jsonl']")
    lines = Path(dl.value.path()).read_text(encoding="utf-8").splitlines()
    docs = [json.loads(line) for line in upload.read_text(encoding="utf-8").splitlines()]
    api = httpx.post(server + "/v1/extract", json={"documents": docs}).json()
    assert [json.loads(line) for line in lines] == api["documents"]
    with page.expect_download() as dl:
        page.click("#downloads button[data-format='brat']")
    assert dl.value.suggested_filename == "imner-brat.zip"
    if importlib.util.find_spec("duckdb"):  # FHIR through the cohort extra
        with page.expect_download() as dl:
            page.click("#downloads button[data-format='fhir']")
        first = Path(dl.value.path()).read_text(encoding="utf-8").splitlines()[0]
        assert json.loads(first)["resourceType"] == "Bundle"


def test_cohort_search_page(page, tmp_path):
    pytest.importorskip("duckdb")
    from imner import cohort
    from imner.pipeline import load_pipeline
    from imner.serve.settings import ServeSettings
    from imner.types import Document

    db = tmp_path / "cases.duckdb"
    cohort.index_documents([Document("a", REPORT), Document("b", "A 70-year-old man with gout and no fever.")],
                           db=db, model_id="default", model_version="test", annotate=load_pipeline())
    url, srv, thread = start_server(create_app(ServeSettings(db=str(db))))
    try:
        page.goto(url + "/")
        page.wait_for_selector("#cohort:not([hidden])")
        page.fill("#cohort-query", "MEDICATION")  # affirmed mentions only, by default: Vancomycin in "a"
        page.click("#cohort-run")
        page.wait_for_selector("#cohort-results article")
        assert page.locator("#cohort-results article").count() == 1
        assert page.get_attribute("#cohort-results article", "data-doc") == "a"
        marks = page.eval_on_selector_all("#cohort-results mark", "ms => ms.map(m => m.firstChild.textContent)")
        assert "Vancomycin" in marks
        assert "1 of 2 documents" in page.inner_text("#cohort-status")
        page.screenshot(path=str(shots(tmp_path) / "serve-cohort.png"), full_page=True)
        page.fill("#cohort-query", "MEDICATION AND (")
        page.click("#cohort-run")
        page.wait_for_selector("#cohort-status.error")
        assert "column" in page.inner_text("#cohort-status")
    finally:
        srv.should_exit = True
        thread.join(10)
