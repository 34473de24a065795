"""imner.lexicon: normalization, the index, the build from (tiny) sources, the CLI, and the packaged index."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from imner.cli import main
from imner.errors import FormatError, ModelNotFoundError
from imner.lexicon import (
    Concept, DiseaseCategory, Lexicon, builder_from_records, default_index_path, load_lexicon, normalize_term,
)
from imner_dev.lexicon.build import build
from imner.lexicon.index import read_index
from imner.lexicon.normalize import fold_text, is_abbreviation, iter_pieces

FIXTURES = Path(__file__).parent / "fixtures" / "lexicon"
SOURCES = FIXTURES / "sources"
CURATED = FIXTURES / "curated"

# ---------------------------------------------------------------- normalization


@pytest.mark.parametrize("term, key", [
    ("Systemic Lupus Erythematosus", "systemic lupus erythematosus"),
    ("  systemic\tlupus \n erythematosus ", "systemic lupus erythematosus"),
    ("Crohn's disease", "crohn disease"),
    ("Crohn’s disease", "crohn disease"),
    ("Crohn disease", "crohn disease"),
    ("Guillain–Barré syndrome", "guillain barre syndrome"),
    ("Guillain-Barre syndrome", "guillain barre syndrome"),
    ("Sjögren's syndrome", "sjogren syndrome"),
    ("HIV‐1", "hiv 1"),
    ("S. aureus", "s . aureus"),
    ("piperacillin/tazobactam", "piperacillin/tazobactam"),
    ("", ""),
])
def test_normalize_term(term: str, key: str) -> None:
    assert normalize_term(term) == key


def test_fold_text_keeps_length_and_offsets() -> None:
    text = "Crohn’s — İstanbul “SLE” ﬁbrosis ß é\u00a0x"
    folded = fold_text(text)
    assert len(folded) == len(text)
    assert folded.startswith("crohn's - ")
    assert fold_text("ÉBV", lower=False) == "EBV"


def test_pieces_split_hyphens_and_mark_token_edges() -> None:
    pieces = list(iter_pieces(fold_text("non-Hodgkin lymphoma")))
    assert [(p.norm, p.token_start, p.token_end) for p in pieces] == [
        ("non", True, False), ("hodgkin", False, True), ("lymphoma", True, True)]
    assert [("non-Hodgkin lymphoma"[p.start:p.end]) for p in pieces] == ["non", "Hodgkin", "lymphoma"]


@pytest.mark.parametrize("surface, expected", [
    ("CMV", True), ("RA", True), ("IVIg", True), ("tPA", True), ("HIV-1", True), ("COVID", True),
    ("Gout", False), ("fever", False), ("MRSAXY", False), ("Methotrexate", False), ("1:640", False),
])
def test_is_abbreviation(surface: str, expected: bool) -> None:
    assert is_abbreviation(surface) is expected


# ---------------------------------------------------------------- the index (tiny records)

CONCEPTS = [
    Concept("DOID:9074", "systemic lupus erythematosus", "IMMUNE_DISEASE", "DO", "immune", "autoimmune",
            icd10cm=("M32.9",), xrefs=("MESH:D008180", "OMIM:152700")),
    Concept("DOID:7148", "rheumatoid arthritis", "IMMUNE_DISEASE", "DO", "immune", "autoimmune"),
    Concept("HP:0001370", "Rheumatoid arthritis", "SIGN_SYMPTOM", "HPO"),
    Concept("DOID:820", "myocarditis", "OTHER_DISEASE", "DO", "other", None),
    Concept("DOID:0070001", "viral myocarditis", "INFECTIOUS_DISEASE", "DO", "infectious", "viral"),
    Concept("NCBITaxon:11676", "Human immunodeficiency virus 1", "PATHOGEN", "NCBITaxon", kind="virus"),
    Concept("DOID:526", "human immunodeficiency virus infectious disease", "INFECTIOUS_DISEASE", "DO",
            "infectious", "viral"),
    Concept("HP:0001945", "Fever", "SIGN_SYMPTOM", "HPO"),
]
TERMS = [("RA", "HP:0001370"), ("Pyrexia", "HP:0001945"), ("HIV", "DOID:526"), ("HIV", "NCBITaxon:11676")]
CURATED_ROWS = [("RA", "DOID:7148"), ("HIV", "NCBITaxon:11676")]
XREFS = {"MESH:D008180": ["DOID:9074"], "MESH:D009205": ["DOID:820", "DOID:0070001"]}


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return Lexicon.from_builder(builder_from_records(CONCEPTS, TERMS, CURATED_ROWS, XREFS))


def test_lookup_normalizes_and_orders_curated_first(lex: Lexicon) -> None:
    assert [c.id for c in lex.lookup("Systemic  Lupus erythematosus")] == ["DOID:9074"]
    assert [c.id for c in lex.lookup("RA")] == ["DOID:7148", "HP:0001370"]
    # curated first, then DO before NCBITaxon (source order) for the rest
    assert [c.id for c in lex.lookup("HIV")] == ["NCBITaxon:11676", "DOID:526"]
    assert lex.lookup("no such thing") == []


def test_abbreviations_are_case_sensitive(lex: Lexicon) -> None:
    assert lex.lookup("ra") == []
    assert lex.lookup("Ra") == []
    assert [c.id for c in lex.lookup("ra", respect_case=False)][:1] == ["DOID:7148"]
    assert lex.case_ok("ra", "RA") and not lex.case_ok("ra", "ra")
    assert lex.case_ok("fever", "FEVER")


def test_concept_and_disease_category(lex: Lexicon) -> None:
    c = lex.concept("DOID:9074")
    assert c.icd10cm == ("M32.9",) and "OMIM:152700" in c.xrefs
    with pytest.raises(KeyError, match="DOID:0000000"):
        lex.concept("DOID:0000000")
    assert "DOID:9074" in lex and "DOID:0000000" not in lex
    assert lex.disease_category("DOID:9074") == DiseaseCategory("IMMUNE_DISEASE", "immune", "autoimmune")
    assert lex.disease_category("HP:0001945") is None
    assert lex.disease_category("DOID:0000000") is None
    with pytest.raises(Exception):
        c.name = "changed"  # frozen


def test_by_xref_normalizes_prefixes_and_keeps_ambiguity(lex: Lexicon) -> None:
    assert lex.by_xref("MESH:D008180") == ["DOID:9074"]
    assert lex.by_xref("mesh:D008180") == ["DOID:9074"]
    assert lex.by_xref("MeSH: D008180") == ["DOID:9074"]
    assert lex.by_xref("MESH:D009205") == ["DOID:0070001", "DOID:820"]
    assert lex.by_xref("MESH:D000000") == []


def test_index_file_round_trip_and_cache(tmp_path: Path) -> None:
    b = builder_from_records(CONCEPTS, TERMS, CURATED_ROWS, XREFS)
    path = b.write(tmp_path / "tiny.json.gz")
    with gzip.open(path) as fh:
        assert json.load(fh)["format"] == "imner-lexicon"
    lex = load_lexicon(path)
    assert load_lexicon(path) is lex
    assert len(lex) == len(CONCEPTS) and lex.sha256
    assert [c.id for c in lex.lookup("RA")] == ["DOID:7148", "HP:0001370"]
    assert lex.by_xref("MESH:D009205") == ["DOID:0070001", "DOID:820"]
    plain = b.write(tmp_path / "tiny.json")
    assert read_index(plain)["concepts"] == read_index(path)["concepts"]


def test_bad_index_files(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="imner build lexicon"):
        load_lexicon(tmp_path / "missing.json.gz")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    with pytest.raises(FormatError, match="not an imner lexicon index"):
        read_index(bad)
    old = tmp_path / "old.json"
    old.write_text('{"format": "imner-lexicon", "version": 0}')
    with pytest.raises(FormatError, match="Rebuild it"):
        read_index(old)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(FormatError, match="broken.json"):
        read_index(broken)


# ---------------------------------------------------------------- the build, on miniature copies of the sources


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Lexicon:
    out = tmp_path_factory.mktemp("lexicon")
    path, info = build(out, lexicons_dir=SOURCES, curated_dir=CURATED)
    assert path == out / "index.json.gz"
    assert info["counts"]["icd10cm codes dropped (not in code list)"] == 1
    return Lexicon(read_index(path), path=path)


def _label(lex: Lexicon, cid: str) -> tuple[str, str | None, str | None]:
    c = lex.concept(cid)
    return c.label, c.category, c.subcategory


@pytest.mark.parametrize("cid, expected", [
    ("DOID:399", ("INFECTIOUS_DISEASE", "infectious", "bacterial")),  # under bacterial infectious disease
    ("DOID:9074", ("IMMUNE_DISEASE", "immune", "autoimmune")),  # under autoimmune disease
    ("DOID:3217", ("OTHER_DISEASE", "other", None)),  # lymphatic system disease branch is not immune
    ("DOID:0060083", ("OTHER_DISEASE", "other", "neoplasm")),  # rule 7: neoplasm even under immune
    ("DOID:552", ("INFECTIOUS_DISEASE", "infectious", "unspecified")),  # node override
    ("DOID:9810", ("IMMUNE_DISEASE", "immune", "other-immune")),  # subtree override (vasculitis)
    ("DOID:820", ("OTHER_DISEASE", "other", None)),  # rule 4: bare myocarditis
    ("DOID:0070001", ("INFECTIOUS_DISEASE", "infectious", "viral")),  # the name states the mechanism
    ("DOID:0070002", ("IMMUNE_DISEASE", "immune", "other-immune")),  # rule 3: post-streptococcal
    ("DOID:2043", ("INFECTIOUS_DISEASE", "infectious", "viral")),  # infectious slim + material basis HBV
    ("DOID:0070003", ("INFECTIOUS_DISEASE", "infectious", "viral")),  # inherits from hepatitis B
    ("DOID:0070004", ("INFECTIOUS_DISEASE", "infectious", "parasitic")),  # basis "some ('A' or 'B')"
    ("DOID:4481", ("IMMUNE_DISEASE", "immune", "allergic")),  # "allergic" in the name
    ("DOID:11335", ("IMMUNE_DISEASE", "immune", "other-immune")),  # ICD-10-CM D86.9 (D80-D89)
    ("DOID:0060125", ("OTHER_DISEASE", "other", "neoplasm")),  # malignant ICD-10-CM code under immune
])
def test_build_disease_classes(built: Lexicon, cid: str, expected: tuple) -> None:
    assert _label(built, cid) == expected


def test_build_terms_and_xrefs(built: Lexicon) -> None:
    assert [c.id for c in built.lookup("SLE")] == ["DOID:9074"]  # DO acronym synonym
    assert built.lookup("sle") == []
    assert [c.id for c in built.lookup("lupus, systemic")] == ["DOID:9074"]  # MONDO exact-match label
    assert built.lookup("serum hepatitis") == []  # RELATED synonyms are not indexed
    assert built.lookup("obsolete myocarditis") == []
    assert built.concept("DOID:399").icd10cm == ("A15.0",)  # Z99.99 is not in the code list
    assert built.concept("DOID:552").icd10cm == ("J18.9",)  # via MONDO
    assert built.by_xref("MESH:D012141") == ["DOID:552"]  # MeSH via MONDO
    assert built.by_xref("OMIM:152700") == ["DOID:9074"]  # DO's MIM: prefix
    assert built.by_xref("UMLS:C0024141") == ["DOID:9074"]
    assert built.by_xref("MESH:D009205") == ["DOID:0070001", "DOID:820"]
    assert built.info["sources"]["hpo"] == "hp/releases/test"


def test_build_hpo(built: Lexicon) -> None:
    assert [c.id for c in built.lookup("pyrexia")] == ["HP:0001945"]
    assert built.lookup("feeling hot") == []  # RELATED
    assert built.lookup("autosomal dominant") == []  # outside the phenotype branch
    assert built.lookup("skeletal anomalies") == []  # grouping class
    assert built.lookup("elevated c-reactive protein level") == []  # a lab finding
    assert built.lookup("abdominal pain") == []  # body part + sign: only "pain" is indexed
    assert [c.id for c in built.lookup("stomach ache")] == ["HP:0002027"]
    assert _label(built, "HP:0100806") == ("INFECTIOUS_DISEASE", "infectious", "unspecified")
    assert built.lookup("severe")[0].label == "SEVERITY"


def test_build_drugbank(built: Lexicon) -> None:
    assert [c.id for c in built.lookup("amethopterin")] == ["DRUGBANK:DB00563"]
    assert [c.id for c in built.lookup("MTX")] == ["DRUGBANK:DB00563"]  # allowlisted abbreviation
    assert built.lookup("HIS") == []  # other abbreviations are dropped
    assert built.lookup("Hi") == []  # too short
    assert built.lookup("4-amino-10-methylfolic acid") == []  # chemical name
    assert [c.id for c in built.lookup("IVIg")] == ["DRUGBANK:DB00028"]


def test_build_pathogens(built: Lexicon) -> None:
    aureus = built.lookup("Staphylococcus aureus")[0]
    assert (aureus.id, aureus.label, aureus.kind) == ("NCBITaxon:1280", "PATHOGEN", "bacterium")
    assert [c.id for c in built.lookup("S. aureus")] == ["NCBITaxon:1280"]
    assert [c.id for c in built.lookup("S.aureus")] == ["NCBITaxon:1280"]
    assert built.lookup("staph") == []  # blast name
    assert built.lookup("Ixodes scapularis") == []  # a vector, not a pathogen
    assert built.lookup("Ammonia") == []  # a foraminifer genus
    assert built.lookup("Bacteria") == []  # too high a rank
    assert built.concept("NCBITaxon:6248").kind == "parasite"
    assert built.concept("NCBITaxon:5476").kind == "fungus"  # curated, kind from the note
    assert built.lookup("HB") == []  # two-letter acronyms of the modules are dropped


def test_build_curated(built: Lexicon) -> None:
    assert [c.id for c in built.lookup("HBV")] == ["NCBITaxon:10407", "DOID:2043"]
    assert built.lookup("hbv") == []
    assert built.lookup("antibiotics")[0].id == "IMNER:antibiotic"
    assert "ra" in built.curated and built.lookup("RA")[0].label == "IMMUNE_DISEASE"


def test_build_is_deterministic(built: Lexicon, tmp_path: Path) -> None:
    path, _ = build(tmp_path, lexicons_dir=SOURCES, curated_dir=CURATED)
    assert path.read_bytes() == built.path.read_bytes()


def _curated_copy(tmp_path: Path, curated: str | None = None, overrides: str | None = None) -> Path:
    d = tmp_path / "curated"
    d.mkdir()
    (d / "curated.tsv").write_text(curated if curated is not None else (CURATED / "curated.tsv").read_text())
    (d / "class_overrides.tsv").write_text(overrides if overrides is not None
                                           else (CURATED / "class_overrides.tsv").read_text())
    return d


@pytest.mark.parametrize("curated, message", [
    ("term\tlabel\tid\tnote\nfever\tMEDICATION\tHP:0001945\t\n", r"curated.tsv, line 2: .*SIGN_SYMPTOM"),
    ("term\tlabel\tid\tnote\nfever\tSIGN\tHP:0001945\t\n", r"line 2: unknown label 'SIGN'"),
    ("term\tlabel\tid\tnote\n# c\nfever\tSIGN_SYMPTOM\tHP:0001945\n", r"line 3: expected 4 tab-separated"),
    ("term\tlabel\tid\tnote\nfever\tSIGN_SYMPTOM\tDOID:0000000\t\n", r"line 2: DOID:0000000 is not in the lexicon"),
    ("term\tlabel\tid\tnote\nNewbug\tPATHOGEN\tNCBITaxon:999\t\n", r"line 2: cannot tell the kind"),
    ("term label id note\n", r"line 1: first line must be the header"),
])
def test_build_rejects_bad_curated_rows(tmp_path: Path, curated: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        build(tmp_path / "out", lexicons_dir=SOURCES, curated_dir=_curated_copy(tmp_path, curated=curated))


@pytest.mark.parametrize("overrides, message", [
    ("id\tlabel\tscope\tsubcategory\tnote\nDOID:552\tPATHOGEN\tnode\t\t\n", "not a disease label"),
    ("id\tlabel\tscope\tsubcategory\tnote\nDOID:552\tOTHER_DISEASE\tbranch\t\t\n", "scope must be"),
    ("id\tlabel\tscope\tsubcategory\tnote\nDOID:0000000\tOTHER_DISEASE\tnode\t\t\n", "override ids not in DO"),
])
def test_build_rejects_bad_overrides(tmp_path: Path, overrides: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        build(tmp_path / "out", lexicons_dir=SOURCES, curated_dir=_curated_copy(tmp_path, overrides=overrides))


# ---------------------------------------------------------------- CLI


def test_cli_build_lookup_xref(tmp_path: Path, capsys) -> None:
    assert main(["build", "lexicon", "--out", str(tmp_path), "--lexicons", str(SOURCES),
                 "--curated", str(CURATED)]) == 0
    assert "concepts" in capsys.readouterr().out
    index = str(tmp_path / "index.json.gz")
    assert main(["lexicon", "lookup", "SLE", "sle", "--index", index, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["SLE"][0]["id"] == "DOID:9074" and out["SLE"][0]["subcategory"] == "autoimmune"
    assert out["sle"] == []
    assert main(["lexicon", "lookup", "sle", "--index", index, "--ignore-case"]) == 0
    assert "DOID:9074" in capsys.readouterr().out
    assert main(["lexicon", "xref", "MESH:D009205", "--index", index]) == 0
    assert "AMBIGUOUS" in capsys.readouterr().out
    assert main(["lexicon", "lookup", "x", "--index", str(tmp_path / "nope.json.gz")]) == 3  # a resource missing
    assert "imner build lexicon" in capsys.readouterr().err


# ---------------------------------------------------------------- the packaged index


@pytest.mark.skipif(not default_index_path().is_file(), reason="packaged lexicon index not built")
def test_packaged_index_known_lookups() -> None:
    lex = load_lexicon()

    def first(term: str) -> Concept:
        found = lex.lookup(term)
        assert found, term
        return found[0]

    sle = first("systemic lupus erythematosus")
    assert (sle.id, sle.label) == ("DOID:9074", "IMMUNE_DISEASE")
    assert first("tuberculosis").label == "INFECTIOUS_DISEASE"
    assert (first("Staphylococcus aureus").label, first("Staphylococcus aureus").kind) == ("PATHOGEN", "bacterium")
    mtx = first("methotrexate")
    assert mtx.label == "MEDICATION" and mtx.id.startswith("DRUGBANK:DB")
    assert (first("fever").id, first("fever").label) == ("HP:0001945", "SIGN_SYMPTOM")
    assert "DOID:9074" in lex.by_xref("MESH:D008180")
