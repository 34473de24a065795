"""What is built on the index: OMOP NOTE_NLP (CSV, Parquet) against the v5.4 DDL, FHIR R4 Bundles validated
with the fhir.resources R4B models, monitor outputs (CSV, PNG, offline HTML) and case summaries."""

from __future__ import annotations

import base64
import csv
import json
import re

import pytest

pytest.importorskip("duckdb")

import cohort_fixtures as fx  # noqa: E402

from imner.cli import main  # noqa: E402
from imner.cohort import index  # noqa: E402

# NOTE_NLP as the OMOP CDM v5.4 DDL declares it (OMOP_CDM_postgresql_5.4_ddl.sql), copied here to check against
NOTE_NLP_DDL = """
CREATE TABLE @cdmDatabaseSchema.NOTE_NLP (
    note_nlp_id integer NOT NULL,
    note_id integer NOT NULL,
    section_concept_id integer NULL,
    snippet varchar(250) NULL,
    "offset" varchar(50) NULL,
    lexical_variant varchar(250) NOT NULL,
    note_nlp_concept_id integer NULL,
    note_nlp_source_concept_id integer NULL,
    nlp_system varchar(250) NULL,
    nlp_date date NOT NULL,
    nlp_datetime TIMESTAMP NULL,
    term_exists varchar(1) NULL,
    term_temporal varchar(50) NULL,
    term_modifiers varchar(2000) NULL );
"""
DDL_COLUMNS = [m.group(1) for m in re.finditer(r'^\s+"?(\w+)"? \w+', NOTE_NLP_DDL.split("(", 1)[1], re.M)]
DDL_REQUIRED = [m.group(1) for m in re.finditer(r'^\s+"?(\w+)"? .*NOT NULL', NOTE_NLP_DDL, re.M)]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    d = tmp_path_factory.mktemp("out")
    path = d / "o.duckdb"
    index([str(fx.write_jsonl(d / "cases.jsonl"))], path)
    return path


def test_omop_csv_has_every_v54_column_and_ohdsi_modifiers(db, tmp_path):
    assert len(DDL_COLUMNS) == 14
    out = tmp_path / "note_nlp.csv"
    assert main(["export", "omop", "--db", str(db), "-o", str(out)]) == 0
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == DDL_COLUMNS
    assert len(rows) == sum(len(c[2]) for c in fx.CASES)
    for r in rows:
        for c in DDL_REQUIRED:
            assert r[c] != "", c
        assert len(r["snippet"]) <= 250 and len(r["term_modifiers"]) <= 2000
        assert r["note_nlp_concept_id"] == "0" and r["note_nlp_source_concept_id"] == "0"
        assert r["nlp_system"].startswith("imner ") and r["nlp_system"].endswith(" given")
        mods = dict(kv.split("=", 1) for kv in r["term_modifiers"].split(","))
        doc = next(c for c in fx.CASES if c[0] == mods["doc_id"])
        assert doc[1][int(r["offset"]):int(mods["end"])] == r["lexical_variant"]
        assert r["lexical_variant"] in r["snippet"]
        neg, fam, unc, hyp = (mods[k] == "true" for k in ("negated", "family", "uncertain", "hypothetical"))
        assert r["term_exists"] == ("N" if neg or fam or unc or hyp else "Y")
        assert r["term_temporal"] == ("past" if mods["historical"] == "true" else "present")
    by_text = {r["lexical_variant"]: r for r in rows}
    assert by_text["Cytomegalovirus"]["term_exists"] == "N"
    assert by_text["psoriasis"]["term_exists"] == "N"
    assert by_text["tuberculosis"]["term_temporal"] == "past"
    assert "source_code=DOID:9074" in by_text["systemic lupus erythematosus"]["term_modifiers"]


def test_omop_parquet_schema(db, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "note_nlp.parquet"
    assert main(["export", "omop", "--db", str(db), "-o", str(out), "--query", "IMMUNE_DISEASE"]) == 0
    t = pq.read_table(out)
    assert t.column_names == DDL_COLUMNS
    assert str(t.schema.field("nlp_date").type) == "date32[day]"
    assert set(t.column("lexical_variant").to_pylist()) >= {"systemic lupus erythematosus"}
    assert len({x for x in t.column("note_id").to_pylist()}) == 2  # c1, c4 (c3's immune mentions are negated/family)


def test_fhir_bundles_validate_with_r4b_models(db, tmp_path):
    pytest.importorskip("fhir.resources")
    from fhir.resources.R4B import get_fhir_model_class

    out = tmp_path / "bundles.ndjson"
    assert main(["export", "fhir", "--db", str(db), "-o", str(out)]) == 0
    bundles = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(bundles) == 4
    texts = {c[0]: c[1] for c in fx.CASES}
    seen = set()
    for b in bundles:
        get_fhir_model_class("Bundle").model_validate(b)
        res = [e["resource"] for e in b["entry"]]
        for r in res:
            get_fhir_model_class(r["resourceType"]).model_validate(r)  # fails on an invalid resource
            seen.add(r["resourceType"])
        (docref,) = [r for r in res if r["resourceType"] == "DocumentReference"]
        doc_id = docref["identifier"][0]["value"]
        text = base64.b64decode(docref["content"][0]["attachment"]["data"]).decode("utf-8")
        assert text == texts[doc_id]
        for r in res:
            for ext in r.get("extension", []):
                sub = {x["url"]: x for x in ext["extension"]}
                assert sub["document"]["valueReference"]["reference"] == f"DocumentReference/{docref['id']}"
                o, n = sub["offset"]["valueInteger"], sub["length"]["valueInteger"]
                assert text[o:o + n] == sub["text"]["valueString"]
        for c in (r for r in res if r["resourceType"] == "Condition"):
            negated = {x["url"]: x for x in c["extension"][0]["extension"]}["negated"]["valueBoolean"]
            assert c["verificationStatus"]["coding"][0]["code"] == ("refuted" if negated else "unconfirmed")
    assert seen == {"Patient", "DocumentReference", "Condition", "Observation"}
    c1 = next(b for b in bundles if any(e["resource"].get("identifier", [{}])[0].get("value") == "c1"
                                        for e in b["entry"] if e["resource"]["resourceType"] == "Patient"))
    res = [e["resource"] for e in c1["entry"]]
    sle = next(r for r in res if r["resourceType"] == "Condition")
    systems = {c["system"]: c["code"] for c in sle["code"]["coding"]}
    assert systems["http://purl.obolibrary.org/obo/doid.owl"] == "DOID:9074"
    assert "http://hl7.org/fhir/sid/icd-10-cm" in systems
    assert next(r for r in res if r["resourceType"] == "Patient")["gender"] == "female"
    cmv = next(r for r in res if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "41852-5")
    assert cmv["valueCodeableConcept"]["coding"][0]["code"] == "10359" and cmv["interpretation"]
    age = next(r for r in res if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "30525-0")
    assert age["valueQuantity"]["value"] == 34.0


def test_fhir_validation_rejects_a_broken_resource():
    pytest.importorskip("fhir.resources")
    from imner.cohort.fhir import validate

    bad = {"resourceType": "Bundle", "type": "collection",
           "entry": [{"resource": {"resourceType": "Condition", "subject": {"reference": "Patient/x"},
                                   "verificationStatus": "refuted"}}]}
    with pytest.raises(Exception):
        validate(bad)


def test_monitor_csv_png_html_and_undated(db, tmp_path, capsys):
    out = tmp_path / "m.csv"
    assert main(["monitor", "IMMUNE_DISEASE OR INFECTIOUS_DISEASE", "category:immune", "--db", str(db),
                 "--by", "month", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "1 without a usable 'date'" in err
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    first = [r for r in rows if r["query"] == "IMMUNE_DISEASE OR INFECTIOUS_DISEASE"]
    assert [(r["period"], r["documents"], r["patients"]) for r in first] == [
        ("2024-01", "1", "1"), ("2024-02", "2", "1"), ("undated", "1", "0")]
    immune = [r for r in rows if r["query"] == "category:immune"]
    assert [(r["period"], r["documents"]) for r in immune] == [("2024-01", "1"), ("2024-02", "0"), ("undated", "1")]
    png = tmp_path / "m.png"
    pytest.importorskip("matplotlib")
    assert main(["monitor", "PATHOGEN", "--db", str(db), "--by", "week", "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pytest.importorskip("plotly")
    page = tmp_path / "m.html"
    assert main(["monitor", "PATHOGEN", "--db", str(db), "--by", "year", "-o", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "Plotly.newPlot" in html and not re.search(r"<script[^>]+src=", html)
    assert "without a usable" in html


def test_summary_json_and_html(db, tmp_path, capsys):
    assert main(["summary", "c2", "--db", str(db)]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["patient"]["sex"] == "male" and s["patient"]["age"] == 60
    assert [p["name"] for p in s["pathogens"]] == ["Human betaherpesvirus 5"]
    # "cytomegalovirus pneumonia" has no DO term; the normalizer's fuzzy stage gives its nearest, the CMV infection
    assert [d["name"] for d in s["pathogens"][0]["linked_diagnoses"]] == ["human cytomegalovirus infection"]
    assert [m["name"] for m in s["medications"]["antimicrobial"]] == ["Ganciclovir"]
    assert s["procedures"][0]["name"] == "transplant"
    assert main(["summary", "c3", "--db", str(db)]) == 0
    s3 = json.loads(capsys.readouterr().out)
    assert s3["active_diagnoses"][0]["name"] != "rheumatoid arthritis"
    assert [g["name"] for g in s3["negated"]] == ["rheumatoid arthritis"]
    assert [g["name"] for g in s3["family"]] == ["psoriasis"]
    out = tmp_path / "card.html"
    assert main(["summary", "c1", "--db", str(db), "-f", "html", "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "systemic lupus erythematosus" in html and "Immunosuppressive medications" in html
    assert main(["summary", "c9", "--db", str(db)]) == 1
    assert "no document 'c9'" in capsys.readouterr().err
