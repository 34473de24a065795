"""Cohort queries: the parser's errors, resolution (codes, names, classes), hierarchy expansion, assertion,
patient and metadata filters, same-sentence co-occurrence, output formats and the CLI."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("lark")

import cohort_fixtures as fx  # noqa: E402

from imner.cli import main  # noqa: E402
from imner.cohort import index, query  # noqa: E402
from imner.cohort.hierarchy import load_hierarchy  # noqa: E402
from imner.cohort.language import QueryError, parse  # noqa: E402


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    d = tmp_path_factory.mktemp("q")
    path = d / "q.duckdb"
    index([str(fx.write_jsonl(d / "cases.jsonl"))], path)
    return path


def ids(q, db, **kw):
    return query(q, db, **kw).doc_ids


@pytest.mark.parametrize("q, column, expected", [
    ("lupus AND", 10, "the query ends too early; expected a term"),
    ("lupus AND AND fever", 11, "unexpected 'AND'; expected a term"),
    ("(lupus OR fever", 16, "the query ends too early; expected ')'"),
    ("lupus nephritis", 7, "quote a name of several words"),
    ("SENTENCE(lupus)", 15, "expected ','"),
    ("lupus )", 7, "expected the end of the query"),
])
def test_parse_errors_point_at_the_column_and_say_what_was_expected(q, column, expected):
    with pytest.raises(QueryError) as e:
        parse(q)
    assert e.value.column == column
    assert expected in str(e.value)
    assert str(e.value).splitlines()[-1] == "  " + " " * (column - 1) + "^"


def test_parse_tree():
    t = parse('negated:DOID:9074 AND (sex:female OR NOT "lupus nephritis") AND SENTENCE(PATHOGEN, fever)')
    assert t.op == "AND" and len(t.args) == 3
    term = t.args[0]
    assert term.keys == ("negated",) and term.value == "DOID:9074" and term.kind == "CODE"
    assert t.args[1].op == "OR" and t.args[1].args[1].op == "NOT"
    assert t.args[1].args[1].args[0].value == "lupus nephritis"
    assert [x.value for x in t.args[2].terms] == ["PATHOGEN", "fever"]


@pytest.mark.parametrize("q, says", [
    ("DOID:99999999", "unknown code DOID:99999999"),
    ("lupsu", "nearest: lupus"),
    ("subcategory:viarl", "nearest: viral"),
    ("sexx:female", "nearest: sex"),
    ("IMMUNE_DISEASEE", "no concept named"),
    ("label:PATOGEN", "nearest: PATHOGEN"),
    ("ICD10CM:Q99999*", "no ICD-10-CM code"),
    ("age:old", "takes a number or a range"),
    ("negated:age:5", "apply to mentions"),
    ("SENTENCE(lupus, sex:female)", "SENTENCE(...) takes mention terms"),
])
def test_unknown_things_say_so_and_suggest(db, q, says):
    with pytest.raises(QueryError) as e:
        query(q, db)
    assert says in str(e.value)


def test_hierarchy_descendants():
    h = load_hierarchy()
    assert "DOID:9074" in h.descendants("DOID:417")  # autoimmune disease -> SLE
    assert "NCBITaxon:10359" in h.descendants("NCBITaxon:10292")  # Herpesviridae -> HCMV (older lineage)
    assert "NCBITaxon:10359" in h.descendants("NCBITaxon:10239")  # Viruses
    assert "HP:0001945" in h.descendants("HP:0001939") or "HP:0001945" in h.descendants("HP:0000118")
    assert "DOID:417" in h.ancestors("DOID:9074") and "DOID:9074" not in h.descendants("DOID:9074")


def test_codes_with_descendants_and_exact(db):
    assert ids("DOID:417", db) == ["c1"]  # autoimmune disease -> SLE (DO files lupus nephritis under kidney disease)
    assert ids("DOID:557", db) == ["c4"]  # kidney disease -> lupus nephritis
    assert ids("exact:DOID:417", db) == []
    assert ids("DOID:417", db, descendants=False) == []
    assert ids("any:NCBITaxon:10292", db) == ["c1", "c2"]  # Herpesviridae finds CMV
    assert ids("NCBITaxon:10292", db) == ["c2"]  # c1's CMV is negated
    # lupus nephritis (c4) carries ICD-10-CM M32.14 from the curated names (DO gives it none)
    assert ids("ICD10CM:M32*", db) == ["c1", "c4"]
    assert ids("ICD10CM:M32.9", db) == ["c1"] and ids("exact:ICD10CM:M32.11", db) == []
    assert ids("DrugBank:DB00635", db) == ["c1"]


def test_names_classes_and_fields(db):
    res = query('"Staphylococcus aureus" OR lupus', db)
    assert res.doc_ids == ["c1", "c3"]
    meanings = [str(r) for r in res.resolution]
    assert any("NCBITaxon:1280 Staphylococcus aureus" in m for m in meanings)
    assert any(m.startswith("lupus -> DOID:9074 systemic lupus erythematosus") for m in meanings)
    assert ids("PATHOGEN", db) == ["c2", "c3"]
    assert ids("category:immune", db) == ["c1", "c4"]
    assert ids("kind:bacterium", db) == ["c3"]
    assert ids("drug_class:antiviral OR drug_class:corticosteroid", db) == ["c1", "c2"]


def test_assertion_filters(db):
    assert ids('negated:"rheumatoid arthritis"', db) == ["c3"]
    assert ids('"rheumatoid arthritis"', db) == []
    assert ids("family:psoriasis", db) == ["c3"]
    assert ids("psoriasis", db) == []
    assert ids("historical:tuberculosis", db) == ["c4"]
    assert ids("tuberculosis", db) == []
    assert ids("negated:CMV AND NOT CMV", db) == ["c1"]


def test_patient_and_metadata_filters(db):
    assert ids("age:18..65", db) == ["c1", "c2"]
    assert ids("age:>=65", db) == ["c4"]
    assert ids("age_group:child", db) == ["c3"]
    assert ids("sex:female", db) == ["c1", "c4"]
    assert ids("date:2024-02", db) == ["c2", "c3"]
    assert ids("date:..2024-01-31", db) == ["c1"]
    assert ids("source:clinic-b", db) == ["c2", "c4"]
    assert ids("patient_id:P2 AND NOT sex:male", db) == []
    assert ids("(IMMUNE_DISEASE OR INFECTIOUS_DISEASE) AND sex:male AND age:>50", db) == ["c2"]


def test_same_sentence(db):
    # c3: Staphylococcus aureus and sepsis in one sentence; c2: CMV and pneumonia in one
    assert ids("SENTENCE(PATHOGEN, INFECTIOUS_DISEASE)", db) == ["c2", "c3"]
    assert ids("SENTENCE(PATHOGEN, MEDICATION)", db) == []  # c2: ganciclovir is in the next sentence
    res = query("SENTENCE(PATHOGEN, INFECTIOUS_DISEASE)", db, evidence=True)
    c3 = next(d for d in res.documents if d["doc_id"] == "c3")
    texts = {e.text for e in c3["evidence"]}
    assert texts == {"Staphylococcus aureus", "sepsis"}


def test_evidence_offsets_and_sentences(db):
    res = query("prednisone AND lupus", db, evidence=True)
    (d,) = res.documents
    text = fx.CASES[0][1]
    for ev in d["evidence"]:
        assert text[ev.start:ev.end] == ev.text
        assert text[ev.sentence_start:ev.sentence_end] == ev.sentence and ev.start >= ev.sentence_start


def test_cli_formats(db, capsys):
    assert main(["cohort", "IMMUNE_DISEASE AND age:>=65", "--db", str(db), "--format", "json", "--evidence"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["matched"] == 1 and out["documents"][0]["doc_id"] == "c4"
    assert out["documents"][0]["evidence"][0]["text"] == "lupus nephritis"
    assert main(["cohort", "PATHOGEN", "--db", str(db), "--format", "csv"]) == 0
    cap = capsys.readouterr()
    assert cap.out.splitlines()[0] == "doc_id,source,age,age_group,sex" and len(cap.out.splitlines()) == 3
    assert "PATHOGEN -> class PATHOGEN" in cap.err
    assert main(["cohort", "lupus AND", "--db", str(db)]) == 1
    assert "column 10" in capsys.readouterr().err


@pytest.mark.data
def test_packaged_hierarchy_is_what_the_builder_makes(capsys):
    assert main(["build", "--check", "hierarchy"]) == 0, capsys.readouterr()
    assert "hierarchy: ok" in capsys.readouterr().err
